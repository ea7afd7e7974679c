//! The admin API's user writes keep the vendors' rules that span records:
//! `DELETE /__admin/{vendor}/users/{id}` clears or refuses what still
//! refers to the user, as the vendor's own delete would, and
//! `PUT /__admin/awork/users/{id}` never takes away the last active admin.

use std::time::Duration;

use crate::common::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Relesys' head office and the docs' user, who manages it.
const RELESYS_HQ: &str = "5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5";
const RELESYS_MANAGER: &str = "6cd99267-5adf-462d-88a2-6f86b7b2a164";
/// The two members of awork's admin role; Mara holds the `awork-admin` token.
const AWORK_MARA: &str = "9b2f6c1e-3d4a-4e5b-8c7d-1a2b3c4d5e6f";
const AWORK_OLE: &str = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b";
/// A member of awork's member role, named by the `awork-member` token.
const AWORK_TIM: &str = "4e8d2a1b-7c6f-4d3e-9a8b-2c1d0e9f8a7b";
const ACTIVITY_CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const ACTIVITY_ENGINEERING: &str = "d1a2b3c4-e5f6-7890-abcd-ef1234567890";
const ACTIVITY_MIKE: &str = "a1d97031-04e2-4907-a249-093f7436207b";

async fn admin(
    server: &TestServer,
    method: Method,
    path: &str,
    session: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut request = server.request(method, path);
    if let Some(session) = session {
        request = request.header("x-usermock-session", session);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    server.send(request).await
}

async fn vendor_get(server: &TestServer, path: &str, token: &str) -> Reply {
    server
        .send(
            server
                .request(Method::GET, path)
                .header("authorization", format!("Bearer {token}")),
        )
        .await
}

fn user_path(vendor: &str, id: &str) -> String {
    format!("/__admin/{vendor}/users/{id}")
}

/// An awork record made inactive in one of the ways awork's own routes do.
fn deactivated(mut user: Value) -> Value {
    user["isDeactivated"] = json!(true);
    user["status"]["isDeactivated"] = json!(true);
    user["deactivatedOn"] = json!("2026-01-05T10:00:00.0000000Z");
    user
}

fn archived(mut user: Value) -> Value {
    user["isArchived"] = json!(true);
    user
}

fn deleted(mut user: Value) -> Value {
    user["deletedOn"] = json!("2026-01-05T10:00:00.0000000Z");
    user
}

fn last_admin(id: &str) -> Value {
    json!({
        "error": "last_admin",
        "message": format!("awork user '{id}' is the last active admin: the record would leave none (the vendor refuses that too); the user was not changed")
    })
}

// ------------------------------------------------------------------ delete --

#[tokio::test]
async fn an_admin_delete_of_a_relesys_manager_clears_the_department_s_manager_as_relesys_does() {
    let server = TestServer::start().await;
    let frozen = admin(
        &server,
        Method::PUT,
        "/__admin/clock",
        None,
        Some(&json!({"now": "2030-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(frozen.status, StatusCode::OK, "{}", frozen.text);
    let department = format!("/relesys/api/v1.3/departments/{RELESYS_HQ}");
    let before = vendor_get(&server, &department, "relesys-admin").await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(before.json()["data"]["managerUserId"], RELESYS_MANAGER);

    let answer = admin(
        &server,
        Method::DELETE,
        &user_path("relesys", RELESYS_MANAGER),
        None,
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json(), json!({ "deleted": RELESYS_MANAGER }));

    let mut expected = before.json();
    expected["data"]["managerUserId"] = Value::Null;
    expected["data"]["lastModifiedDateTime"] = json!("2030-01-01T00:00:00.0000000Z");
    let after = vendor_get(&server, &department, "relesys-admin").await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.text);
    assert_eq!(after.json(), expected);
    let gone = admin(
        &server,
        Method::GET,
        &user_path("relesys", RELESYS_MANAGER),
        None,
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        gone.json(),
        json!({"error": "no_such_user", "message": format!("relesys has no user '{RELESYS_MANAGER}'")})
    );
    // The state is one Relesys allows: its snapshot restores.
    let snapshot = admin(&server, Method::GET, "/__admin/snapshot", None, None).await;
    assert_eq!(snapshot.status, StatusCode::OK);
    let restored = admin(
        &server,
        Method::PUT,
        "/__admin/snapshot",
        None,
        Some(&snapshot.json()),
    )
    .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text);
    let after = vendor_get(&server, &department, "relesys-admin").await;
    assert_eq!(after.json(), expected);
}

#[tokio::test]
async fn an_admin_delete_of_an_awork_user_a_role_or_credential_names_is_refused_and_changes_nothing(
) {
    let server = TestServer::start().await;
    let path = user_path("awork", AWORK_MARA);
    let before = admin(&server, Method::GET, &path, None, None).await;
    assert_eq!(before.status, StatusCode::OK);

    let answer = admin(&server, Method::DELETE, &path, None, None).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text);
    assert_eq!(
        answer.json(),
        json!({
            "error": "user_referenced",
            "message": format!("awork user '{AWORK_MARA}' is still referred to by role 'Admin' (roles[0].user_ids[0]), credential 'awork-admin', which no awork call changes; the user was not deleted")
        })
    );
    let member = admin(
        &server,
        Method::DELETE,
        &user_path("awork", AWORK_TIM),
        None,
        None,
    )
    .await;
    assert_eq!(member.status, StatusCode::CONFLICT, "{}", member.text);
    assert_eq!(
        member.json(),
        json!({
            "error": "user_referenced",
            "message": format!("awork user '{AWORK_TIM}' is still referred to by role 'Member' (roles[1].user_ids[0]), credential 'awork-member', which no awork call changes; the user was not deleted")
        })
    );

    let after = admin(&server, Method::GET, &path, None, None).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.json(), before.json());
    let me = vendor_get(&server, "/awork/api/v1/users/me", "awork-admin").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json()["id"], AWORK_MARA);
}

#[tokio::test]
async fn an_admin_delete_of_an_awork_user_nothing_names_removes_it() {
    let server = TestServer::start().await;
    let id = "00c0ffee-0000-4000-8000-000000000001";
    let mut record = admin(
        &server,
        Method::GET,
        &user_path("awork", AWORK_TIM),
        None,
        None,
    )
    .await
    .json();
    record["id"] = json!(id);
    let put = admin(
        &server,
        Method::PUT,
        &user_path("awork", id),
        None,
        Some(&record),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);

    let answer = admin(&server, Method::DELETE, &user_path("awork", id), None, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json(), json!({ "deleted": id }));
    let again = admin(&server, Method::DELETE, &user_path("awork", id), None, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        again.json(),
        json!({"error": "no_such_user", "message": format!("awork has no user '{id}'")})
    );
}

#[tokio::test]
async fn an_admin_delete_of_a_scalepad_user_takes_its_department_memberships_along() {
    let server = TestServer::start().await;
    let department =
        format!("/activity/v2/clients/{ACTIVITY_CLIENT}/departments/{ACTIVITY_ENGINEERING}");
    let before = vendor_get(&server, &department, "activity-admin").await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);

    let answer = admin(
        &server,
        Method::DELETE,
        &user_path("activity", ACTIVITY_MIKE),
        None,
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json(), json!({ "deleted": ACTIVITY_MIKE }));

    let mut expected = before.json();
    let count = expected["member_count"].as_u64().expect("a member count");
    expected["member_count"] = json!(count - 1);
    let after = vendor_get(&server, &department, "activity-admin").await;
    assert_eq!(after.json(), expected);
}

// --------------------------------------------------------------- last admin --

#[tokio::test]
async fn an_admin_put_that_would_leave_awork_without_an_active_admin_is_refused() {
    let server = TestServer::start().await;
    let mara = user_path("awork", AWORK_MARA);
    let ole = user_path("awork", AWORK_OLE);
    let mara_before = admin(&server, Method::GET, &mara, None, None).await.json();
    let ole_before = admin(&server, Method::GET, &ole, None, None).await.json();

    // Another admin stays active: allowed.
    let first = admin(
        &server,
        Method::PUT,
        &ole,
        None,
        Some(&deactivated(ole_before)),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);

    let mut not_accepted = mara_before.clone();
    not_accepted["status"]["invitationAccepted"] = json!(false);
    for record in [
        deactivated(mara_before.clone()),
        archived(mara_before.clone()),
        deleted(mara_before.clone()),
        not_accepted,
    ] {
        let answer = admin(&server, Method::PUT, &mara, None, Some(&record)).await;
        assert_eq!(
            answer.status,
            StatusCode::CONFLICT,
            "{record}: {}",
            answer.text
        );
        assert_eq!(answer.json(), last_admin(AWORK_MARA));
    }

    let after = admin(&server, Method::GET, &mara, None, None).await;
    assert_eq!(after.json(), mara_before);
    let me = vendor_get(&server, "/awork/api/v1/users/me", "awork-admin").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    // Replacing the last admin with an active record is fine.
    let mut renamed = mara_before.clone();
    renamed["position"] = json!("Chief of Staff");
    let answer = admin(&server, Method::PUT, &mara, None, Some(&renamed)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json(), renamed);
}

/// Each trial is its own session: both admins deactivated at once by two
/// admin PUTs; exactly one may win, and one admin stays active.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_admin_puts_at_once_that_would_each_leave_the_other_last_admin_leave_one_active() {
    let server = TestServer::start().await;
    let mara = user_path("awork", AWORK_MARA);
    let ole = user_path("awork", AWORK_OLE);
    let mara_off = deactivated(admin(&server, Method::GET, &mara, None, None).await.json());
    let ole_off = deactivated(admin(&server, Method::GET, &ole, None, None).await.json());

    let trials = async {
        for trial in 0..1000 {
            let session = format!("last-admin-{trial}");
            let (a, b) = tokio::join!(
                admin(&server, Method::PUT, &mara, Some(&session), Some(&mara_off)),
                admin(&server, Method::PUT, &ole, Some(&session), Some(&ole_off)),
            );
            let (won, refused) = match (a.status, b.status) {
                (StatusCode::OK, StatusCode::CONFLICT) => (AWORK_MARA, (b, AWORK_OLE)),
                (StatusCode::CONFLICT, StatusCode::OK) => (AWORK_OLE, (a, AWORK_MARA)),
                _ => panic!(
                    "trial {trial}: {} {} / {} {}",
                    a.status, a.text, b.status, b.text
                ),
            };
            assert_eq!(refused.0.json(), last_admin(refused.1), "trial {trial}");
            let me = server
                .send(
                    server
                        .request(Method::GET, "/awork/api/v1/users/me")
                        .header("authorization", "Bearer awork-admin")
                        .header("x-usermock-session", &session),
                )
                .await;
            // Mara holds the admin token: it works exactly when Ole lost.
            let expected = if won == AWORK_OLE {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            assert_eq!(me.status, expected, "trial {trial}: {}", me.text);
        }
    };
    tokio::time::timeout(Duration::from_secs(120), trials)
        .await
        .expect("1,000 trials within two minutes");
}
