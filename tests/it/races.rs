//! Rules that span records hold under concurrent requests (issue 21,
//! "Races"): each test sends the two requests of a race at the same time,
//! 1,000 times, each trial in a fresh session (or after a reset), and
//! checks that the state afterwards is one the vendor allows. Every write
//! of a state and every cross-record check runs in one step of the store
//! (`State::transaction`), and a reset waits for it.

use crate::awork_support::{self, ADMIN, LINK, MEMBER_ROLE, OLE, WORKSPACE};
use crate::common::{Reply, TestServer};
use crate::replay_support::not_a_direct_child;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const TRIALS: usize = 1000;

const ACTIVITY_CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
/// A user of the client in no department.
const NEWHIRE: &str = "1e9f4b3a-2d8c-4f7e-a6b5-c0d9e8f7a6b5";

fn in_session(
    server: &TestServer,
    method: Method,
    path: &str,
    session: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::RequestBuilder {
    let request = server
        .request(method, path)
        .bearer_auth(token)
        .header("x-usermock-session", session);
    match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(body.to_string()),
        None => request,
    }
}

fn last_admin(id: &str) -> Value {
    json!({"code": "invalid-operation", "description": "The operation is not allowed.", "link": LINK,
           "details": [format!("User '{id}' is the last admin of the workspace.")], "validationErrors": []})
}

/// Archive or delete one admin, as a manager (no admin itself).
fn remove_admin(
    server: &TestServer,
    session: &str,
    id: &str,
    archive: bool,
) -> reqwest::RequestBuilder {
    let path = awork_support::user_path(id);
    if archive {
        in_session(
            server,
            Method::POST,
            &format!("{path}/setarchived"),
            session,
            "awork-manager",
            Some(json!({"isArchived": true})),
        )
    } else {
        in_session(
            server,
            Method::DELETE,
            &path,
            session,
            "awork-manager",
            None,
        )
    }
}

/// Whether the admin is still there and not archived, as the API shows it.
async fn still_admin(server: &TestServer, session: &str, id: &str) -> bool {
    let path = awork_support::user_path(id);
    let answer = server
        .send(in_session(
            server,
            Method::GET,
            &path,
            session,
            "awork-manager",
            None,
        ))
        .await;
    match answer.status {
        StatusCode::OK => answer.json()["isArchived"] == json!(false),
        StatusCode::NOT_FOUND => {
            assert_eq!(awork_support::body(&answer), awork_support::not_found(id));
            false
        }
        other => panic!("GET {id}: {other} {}", answer.text),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_admins_archived_or_deleted_at_once_never_leave_the_workspace_without_an_admin() {
    let server = TestServer::start().await;
    for trial in 0..TRIALS {
        let session = format!("admins-{trial}");
        // Both deleted, both archived, or one of each.
        let (archive_mara, archive_ole) = match trial % 3 {
            0 => (false, false),
            1 => (true, true),
            _ => (true, false),
        };
        let (mara, ole) = tokio::join!(
            server.send(remove_admin(&server, &session, ADMIN, archive_mara)),
            server.send(remove_admin(&server, &session, OLE, archive_ole)),
        );
        let went = |answer: &Reply, archived: bool| match answer.status {
            StatusCode::NO_CONTENT if !archived => {
                assert_eq!(answer.text, "");
                true
            }
            StatusCode::OK if archived => {
                assert_eq!(answer.json()["isArchived"], json!(true), "{}", answer.text);
                true
            }
            _ => false,
        };
        let (mara_went, ole_went) = (went(&mara, archive_mara), went(&ole, archive_ole));
        assert!(
            mara_went != ole_went,
            "trial {trial}: exactly one admin may go: {} {} / {} {}",
            mara.status,
            mara.text,
            ole.status,
            ole.text
        );
        let (refused, id) = if mara_went {
            (&ole, OLE)
        } else {
            (&mara, ADMIN)
        };
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "trial {trial}");
        assert_eq!(
            awork_support::body(refused),
            last_admin(id),
            "trial {trial}"
        );
        let left = (
            still_admin(&server, &session, ADMIN).await,
            still_admin(&server, &session, OLE).await,
        );
        assert_eq!(left, (!mara_went, !ole_went), "trial {trial}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_invitations_of_one_e_mail_at_once_store_one_user() {
    let server = TestServer::start().await;
    let invite = |session: &str, email: &str| {
        in_session(
            &server,
            Method::POST,
            "/awork/api/v1/invitations",
            session,
            "awork-admin",
            Some(
                json!({"workspaceId": WORKSPACE, "invitationFlow": "invite", "email": email, "roleId": MEMBER_ROLE}),
            ),
        )
    };
    for trial in 0..TRIALS {
        let session = format!("invites-{trial}");
        let (a, b) = tokio::join!(
            server.send(invite(&session, "twin@example.com")),
            server.send(invite(&session, "TWIN@example.com")),
        );
        let (stored, refused, sent) = match (a.status, b.status) {
            (StatusCode::OK, StatusCode::BAD_REQUEST) => (&a, &b, "TWIN@example.com"),
            (StatusCode::BAD_REQUEST, StatusCode::OK) => (&b, &a, "twin@example.com"),
            _ => panic!(
                "trial {trial}: one invitation must be refused: {} {} / {} {}",
                a.status, a.text, b.status, b.text
            ),
        };
        assert!(stored.json()["userId"].is_string(), "{}", stored.text);
        assert_eq!(
            awork_support::body(refused),
            awork_support::error(
                "already-exist-error",
                "The entity already exists.",
                json!([format!(
                    "A user with the email '{sent}' already exists in this workspace."
                )]),
                json!([])
            ),
            "trial {trial}"
        );
    }
}

fn department_path(id: &str) -> String {
    format!("/activity/v2/clients/{ACTIVITY_CLIENT}/departments/{id}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_department_deleted_while_members_are_added_leaves_no_user_in_it() {
    let server = TestServer::start().await;
    let user_path = format!("/activity/v2/clients/{ACTIVITY_CLIENT}/users/{NEWHIRE}");
    for trial in 0..TRIALS {
        let session = format!("departments-{trial}");
        let created = server
            .send(in_session(
                &server,
                Method::POST,
                &format!("/activity/v2/clients/{ACTIVITY_CLIENT}/departments"),
                &session,
                "activity-admin",
                Some(json!({"name": "Short-lived"})),
            ))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.json()["id"].as_str().expect("id").to_owned();
        // Half the trials add through the members route, half PATCH the user.
        let by_members = trial % 2 == 0;
        let join = if by_members {
            in_session(
                &server,
                Method::POST,
                &format!("{}/members", department_path(&id)),
                &session,
                "activity-admin",
                Some(json!({"user_ids": [NEWHIRE]})),
            )
        } else {
            in_session(
                &server,
                Method::PATCH,
                &user_path,
                &session,
                "activity-admin",
                Some(json!({"departments": [id]})),
            )
        };
        let delete = in_session(
            &server,
            Method::DELETE,
            &department_path(&id),
            &session,
            "activity-admin",
            None,
        );
        let (deleted, joined) = tokio::join!(server.send(delete), server.send(join));
        assert_eq!(
            (deleted.status, deleted.text.as_str()),
            (StatusCode::NO_CONTENT, ""),
            "trial {trial}"
        );
        match joined.status {
            // Joined before the delete, which then took the membership away.
            StatusCode::OK if by_members => assert_eq!(
                joined.json(),
                json!({"succeeded": [NEWHIRE], "failed": []}),
                "trial {trial}"
            ),
            StatusCode::OK => assert_eq!(
                joined.json()["departments"],
                json!([{"id": id, "name": "Short-lived", "description": null}]),
                "trial {trial}"
            ),
            // Came after the delete: the department is gone.
            StatusCode::NOT_FOUND if by_members => assert_eq!(
                joined.json(),
                json!({"error": {"code": "not_found", "message": "Department not found", "details": {"department_id": id}}}),
                "trial {trial}"
            ),
            StatusCode::NOT_FOUND => assert_eq!(
                joined.json(),
                json!({"error": {"code": "not_found", "message": "One or more departments not found", "details": {"invalid_department_ids": [id]}}}),
                "trial {trial}"
            ),
            other => panic!("trial {trial}: {other} {}", joined.text),
        }
        // Either way the user is in no department, as stored (the admin
        // API shows the record, with the ids it keeps).
        let stored = server
            .send(
                server
                    .request(Method::GET, &format!("/__admin/activity/users/{NEWHIRE}"))
                    .header("x-usermock-session", &session),
            )
            .await;
        assert_eq!(stored.json()["departments"], json!([]), "trial {trial}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reset_during_an_invite_into_a_new_child_company_leaves_no_user_behind() {
    let server = TestServer::start().await;
    let replay = |method: Method, path: &str, body: Value| {
        server
            .request(method, &format!("/replay{path}"))
            .header("x-api-key", "replay-parent")
            .header("content-type", "application/json")
            .body(body.to_string())
    };
    for trial in 0..TRIALS {
        let created = server
            .send(replay(
                Method::POST,
                "/api/company/child",
                json!({"name": format!("Brief Co {trial}")}),
            ))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let child = created.json()["id"].as_str().expect("id").to_owned();
        let invite = replay(
            Method::POST,
            "/api/user",
            json!({"email": format!("brief{trial}@example.com"), "firstName": "Brief", "role": "User", "childCompanyId": child}),
        );
        let reset = server.request(Method::POST, "/__admin/reset");
        let (invited, reset) = tokio::join!(server.send(invite), server.send(reset));
        assert!(reset.status.is_success(), "{}", reset.text);
        match invited.status {
            // Before the reset, which dropped it with its company: a user
            // still stored here would be one in a company that no longer
            // exists.
            StatusCode::CREATED => {
                let id = invited.json()["id"].as_str().expect("id").to_owned();
                let stored = server
                    .send(server.request(Method::GET, &format!("/__admin/replay/users/{id}")))
                    .await;
                assert_eq!(
                    stored.status,
                    StatusCode::NOT_FOUND,
                    "trial {trial}: {}",
                    stored.text
                );
            }
            // After the reset: the child company is gone.
            StatusCode::FORBIDDEN => {
                assert_eq!(invited.json(), not_a_direct_child(&child), "trial {trial}")
            }
            other => panic!("trial {trial}: {other} {}", invited.text),
        }
    }
}

/// Replay's Invite User: two invitations of one address at once make one
/// invitation and one resend of it, never two invitations (the same
/// one-step rule as the other creating routes).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_invite_user_calls_of_one_address_at_once_store_one_invitation() {
    const FIELD_SALES: &str = "550e8400-e29b-41d4-a716-446655440000";
    let server = TestServer::start().await;
    let invite = |session: &str| {
        server
            .request(Method::POST, "/replay/api/user/invite")
            .header("x-api-key", "replay-parent")
            .header("x-usermock-session", session)
            .header("content-type", "application/json")
            .body(
                json!({"email": "twin@example.com", "teamId": FIELD_SALES, "role": "User"})
                    .to_string(),
            )
    };
    for trial in 0..TRIALS {
        let session = format!("invite-user-{trial}");
        let (a, b) = tokio::join!(server.send(invite(&session)), server.send(invite(&session)));
        assert_eq!(
            (a.status, b.status),
            (StatusCode::OK, StatusCode::OK),
            "trial {trial}: {} / {}",
            a.text,
            b.text
        );
        let (a, b) = (a.json(), b.json());
        assert_eq!(a["id"], b["id"], "trial {trial}: one invitation, resent");
        let mut counts = [a["resendCount"].clone(), b["resendCount"].clone()];
        counts.sort_by_key(|c| c.as_u64());
        assert_eq!(counts, [json!(0), json!(1)], "trial {trial}");
    }
}
