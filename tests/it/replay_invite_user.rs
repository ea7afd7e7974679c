//! Replay's Invite User, `POST /api/user/invite`
//! (https://docs.replay.sale/api-reference/user/invite-user): an invitation
//! into a team of the caller's company, "created or resent", expiring
//! "30 days from creation", with `resendCount` and an `invitationUrl`.

use crate::common;
use crate::replay_support;

use common::TestServer;
use replay_support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Invite User's documented example `teamId`, a team of the parent.
const FIELD_SALES: &str = "550e8400-e29b-41d4-a716-446655440000";
const NOW: &str = "2026-12-07T10:00:00Z";
const CREATED: &str = "2026-12-07T10:00:00.000Z";
const EXPIRES: &str = "2027-01-06T10:00:00.000Z";
const INVITE_USER_NOTE: &str = "inferred: https://docs.replay.sale/api-reference/user/invite-user says \"Invitation created or resent successfully\" and gives no status code, nor when an invitation is resent rather than created";

fn invitation(id: &str, email: &str, team: &str, role: &str, resends: u32) -> Value {
    json!({
        "id": id, "email": email, "teamId": team, "role": role,
        "expirationDate": EXPIRES, "createdAt": CREATED, "resendCount": resends,
        "invitationUrl": format!("https://app.replay.sale/onboard/link?invitationId={id}")
    })
}

fn new_id(answer: &common::Reply) -> String {
    let id = answer.json()["id"].as_str().expect("id").to_owned();
    let parsed = uuid::Uuid::parse_str(&id).expect("a UUID");
    assert_eq!(parsed.get_version_num(), 4, "{id}");
    assert_eq!(id, parsed.hyphenated().to_string());
    id
}

async fn frozen() -> TestServer {
    let server = TestServer::start().await;
    freeze_clock(&server, NOW).await;
    server
}

#[tokio::test]
async fn the_documented_example_creates_an_invitation_expiring_in_30_days() {
    let server = frozen().await;
    let body = json!({"email": "john.doe@example.com", "teamId": FIELD_SALES, "role": "User", "sendEmail": false});
    let answer = Caller::new(&server, "replay-parent")
        .post("/api/user/invite", &body)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let id = new_id(&answer);
    assert_eq!(
        answer.json(),
        invitation(&id, "john.doe@example.com", FIELD_SALES, "User", 0)
    );
    assert_eq!(
        last_notes(&server).await,
        json!([
            {"rule": "invite-user-status", "message": "200 whether the invitation was created or resent", "source": INVITE_USER_NOTE},
            {"rule": "legacy-role-mapping", "message": format!("the legacy shape will show {id} as Rep for the role User"), "source": "inferred: https://docs.replay.sale/api-reference/user/get-user-by-id gives both role vocabularies (Rep|Manager|Integration and User|Manager|Disabled), no mapping"}
        ])
    );
}

#[tokio::test]
async fn the_older_documented_example_without_send_email_works_too() {
    let server = frozen().await;
    let body = json!({"email": "john.doe@example.com", "teamId": FIELD_SALES, "role": "User"});
    let answer = Caller::new(&server, "replay-parent")
        .post("/api/user/invite", &body)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let id = new_id(&answer);
    assert_eq!(
        answer.json(),
        invitation(&id, "john.doe@example.com", FIELD_SALES, "User", 0)
    );
}

#[tokio::test]
async fn inviting_an_open_invitation_s_address_again_resends_it() {
    let server = frozen().await;
    let caller = Caller::new(&server, "replay-parent");
    let body = json!({"email": "ana.silva@northstar.example", "teamId": CLOSERS, "role": "User"});
    let first = caller.post("/api/user/invite", &body).await;
    let id = new_id(&first);
    advance_clock(&server, 3600).await;
    let again = json!({"email": "Ana.Silva@northstar.example", "teamId": CLOSERS, "role": "User", "sendEmail": true});
    let second = caller.post("/api/user/invite", &again).await;
    assert_eq!(
        (second.status, second.json()),
        (
            StatusCode::OK,
            invitation(&id, "ana.silva@northstar.example", CLOSERS, "User", 1)
        )
    );
    assert_eq!(
        rules(&last_notes(&server).await),
        ["send-email", "invite-user-status", "invite-resend"]
    );
    // Another role or team: still the same invitation, as it was.
    let other =
        json!({"email": "ana.silva@northstar.example", "teamId": LEAD_GEN, "role": "Manager"});
    let third = caller.post("/api/user/invite", &other).await;
    assert_eq!(
        third.json(),
        invitation(&id, "ana.silva@northstar.example", CLOSERS, "User", 2)
    );
    let notes = last_notes(&server).await;
    assert_eq!(
        notes[1],
        json!({"rule": "invite-resend", "message": format!("the open invitation {id} of this address was resent (resendCount + 1); it keeps its role User and its team {CLOSERS}"), "source": INVITE_USER_NOTE})
    );
}

#[tokio::test]
async fn an_expired_invitation_of_the_address_is_replaced_by_a_new_one() {
    let server = frozen().await;
    let caller = Caller::new(&server, "replay-parent");
    let body = json!({"email": "ana.silva@northstar.example", "teamId": CLOSERS, "role": "User"});
    let first = caller.post("/api/user/invite", &body).await;
    let old = new_id(&first);
    advance_clock(&server, 31 * 24 * 3600).await;
    let second = caller.post("/api/user/invite", &body).await;
    assert_eq!(second.status, StatusCode::OK);
    let id = new_id(&second);
    assert_ne!(id, old);
    assert_eq!(
        second.json(),
        json!({
            "id": id, "email": "ana.silva@northstar.example", "teamId": CLOSERS, "role": "User",
            "expirationDate": "2027-02-06T10:00:00.000Z", "createdAt": "2027-01-07T10:00:00.000Z",
            "resendCount": 0,
            "invitationUrl": format!("https://app.replay.sale/onboard/link?invitationId={id}")
        })
    );
    assert_eq!(
        rules(&last_notes(&server).await),
        [
            "invite-expired-replaced",
            "invite-user-status",
            "legacy-role-mapping"
        ]
    );
    let answer = caller
        .patch(&format!("/api/user/{old}"), &json!({"firstName": "Ana"}))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "the old one is gone");
}

#[tokio::test]
async fn an_open_invitation_of_create_user_is_resent_and_takes_the_team() {
    let server = frozen().await;
    let caller = Caller::new(&server, "replay-parent");
    let created = caller
        .post(
            "/api/user",
            &json!({"email": "li.na@northstar.example", "firstName": "Li", "role": "Manager"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = new_id(&created);
    let answer = caller
        .post(
            "/api/user/invite",
            &json!({"email": "li.na@northstar.example", "teamId": LEAD_GEN, "role": "Manager"}),
        )
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::OK,
            invitation(&id, "li.na@northstar.example", LEAD_GEN, "Manager", 1)
        )
    );
}

#[tokio::test]
async fn an_address_of_a_user_or_of_another_company_s_invitation_is_taken() {
    let server = frozen().await;
    for (key, email, team) in [
        ("replay-parent", "alex.morgan@northstar.example", CLOSERS),
        ("replay-parent", "JSMITH@example.com", CLOSERS),
        ("replay-child", "grace.kim@northstar.example", NORDICS_SALES),
        ("replay-parent", "emma.novak@northstar.example", CLOSERS),
    ] {
        let answer = Caller::new(&server, key)
            .post(
                "/api/user/invite",
                &json!({"email": email, "teamId": team, "role": "User"}),
            )
            .await;
        assert_eq!(
            (answer.status, answer.json()),
            (
                StatusCode::CONFLICT,
                error("A user or invitation with this email already exists")
            ),
            "{key}: {email}"
        );
        assert_eq!(rules(&last_notes(&server).await), ["error-body"], "{email}");
    }
    // An Invite User invitation's address is taken for Create User too.
    let caller = Caller::new(&server, "replay-parent");
    caller
        .post(
            "/api/user/invite",
            &json!({"email": "ana.silva@northstar.example", "teamId": CLOSERS, "role": "User"}),
        )
        .await;
    let answer = Caller::new(&server, "replay-other")
        .post(
            "/api/user",
            &json!({"email": "ana.silva@northstar.example", "firstName": "Ana", "role": "User"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_team_of_another_company_is_not_found() {
    let server = frozen().await;
    for (key, team) in [
        ("replay-parent", NORDICS_SALES),
        ("replay-child", CLOSERS),
        ("replay-parent", "7e000009-0000-4000-8000-000000000009"),
    ] {
        let answer = Caller::new(&server, key)
            .post(
                "/api/user/invite",
                &json!({"email": "ana.silva@northstar.example", "teamId": team, "role": "User"}),
            )
            .await;
        assert_eq!(
            (answer.status, answer.json()),
            (StatusCode::NOT_FOUND, error("Team not found")),
            "{key} → {team}"
        );
    }
}

#[tokio::test]
async fn invite_user_checks_every_field_and_lists_every_problem() {
    let server = frozen().await;
    let caller = Caller::new(&server, "replay-parent");
    let answer = caller.post("/api/user/invite", &json!({})).await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::BAD_REQUEST,
            invalid(json!([
                {"field": "email", "message": "Required"},
                {"field": "teamId", "message": "Required"},
                {"field": "role", "message": "Required"}
            ]))
        )
    );
    let answer = caller
        .post(
            "/api/user/invite",
            &json!({"email": "a@b", "teamId": "closers", "role": "Admin", "sendEmail": "yes", "firstName": "Ana"}),
        )
        .await;
    assert_eq!(
        answer.json(),
        invalid(json!([
            {"field": "firstName", "message": "Unrecognized field 'firstName'"},
            {"field": "email", "message": "Invalid email"},
            {"field": "teamId", "message": "Invalid uuid \"closers\""},
            {"field": "role", "message": "Invalid role \"Admin\"; expected 'User' or 'Manager'"},
            {"field": "sendEmail", "message": "Expected a boolean"}
        ]))
    );
    assert_eq!(
        rules(&last_notes(&server).await),
        ["error-body", "unknown-member"]
    );
    assert_eq!(
        caller.walk_legacy(100).await.len(),
        13,
        "nothing was created"
    );
}

#[tokio::test]
async fn a_nameless_invitation_is_left_out_of_the_legacy_shape_until_it_has_a_first_name() {
    let server = frozen().await;
    let caller = Caller::new(&server, "replay-parent");
    let answer = caller
        .post(
            "/api/user/invite",
            &json!({"email": "ana.silva@northstar.example", "teamId": FIELD_SALES, "role": "Manager"}),
        )
        .await;
    let id = new_id(&answer);
    let got = caller.get(&format!("/api/user/{id}")).await;
    assert_eq!(
        (got.status, got.json()),
        (StatusCode::NOT_FOUND, error("User not found"))
    );
    assert_eq!(
        rules(&last_notes(&server).await),
        ["error-body", "legacy-nameless-invitation"]
    );
    assert_eq!(caller.walk_legacy(100).await.len(), 13);
    let patched = caller
        .patch(&format!("/api/user/{id}"), &json!({"firstName": "Ana"}))
        .await;
    assert_eq!(
        (patched.status, patched.json()),
        (
            StatusCode::OK,
            json!({"id": id, "email": "ana.silva@northstar.example", "firstName": "Ana", "lastName": null, "role": "Manager", "status": "invited", "externalId": null, "createdAt": CREATED, "invitationUrl": format!("https://app.replay.sale/onboard/link?invitationId={id}")})
        )
    );
    let got = caller.get(&format!("/api/user/{id}")).await;
    assert_eq!(
        got.json(),
        json!({"id": id, "firstName": "Ana", "email": "ana.silva@northstar.example", "role": "Manager", "createdAt": CREATED, "lastName": null, "teamId": FIELD_SALES})
    );
    assert_eq!(caller.walk_legacy(100).await.len(), 14);
}
