//! Replay's user by id, rule by rule: GET (two shapes) and PATCH (the
//! seed). The list, invitations and child companies: `replay_lifecycle.rs`.

use crate::common;

use common::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const PARENT: &str = "11111111-1111-4111-8111-111111111111";
const CHILD: &str = "22222222-2222-4222-8222-222222222222";
const GRANDCHILD: &str = "33333333-3333-4333-8333-333333333333";
const UNRELATED: &str = "44444444-4444-4444-8444-444444444444";
const SIBLING: &str = "55555555-5555-4555-8555-555555555555";
/// The seed's example record: an invitation in the child company.
const SEED_RECORD: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
const CHILD_ACTIVE: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const CHILD_DISABLED: &str = "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e";
const PARENT_ACTIVE: &str = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f";
const GRANDCHILD_USER: &str = "e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a8b";
const UNRELATED_USER: &str = "a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c0d";
const PARENT_INVITED: &str = "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a";
const PARENT_DISABLED_MANAGER: &str = "0a000000-0000-4000-8000-000000000005";
const INTEGRATION_USER: &str = "0a000000-0000-4000-8000-000000000004";
const NORDICS_SALES: &str = "7e000002-0000-4000-8000-000000000001";
const CLOSERS: &str = "7e000001-0000-4000-8000-000000000001";

fn path(id: &str) -> String {
    format!("/replay/api/user/{id}")
}

async fn patch_as(server: &TestServer, key: &str, id: &str, body: Value) -> Reply {
    let request = server
        .request(Method::PATCH, &path(id))
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(body.to_string());
    server.send(request).await
}

async fn get_as(server: &TestServer, key: &str, id: &str) -> Reply {
    server
        .send(
            server
                .request(Method::GET, &path(id))
                .header("x-api-key", key),
        )
        .await
}

async fn get_in_child(server: &TestServer, key: &str, id: &str, child: &str) -> Reply {
    let path = format!("{}?childCompanyId={child}", path(id));
    server
        .send(server.request(Method::GET, &path).header("x-api-key", key))
        .await
}

fn keys(value: &Value) -> Vec<String> {
    value.as_object().expect("object").keys().cloned().collect()
}

fn seed_record() -> Value {
    json!({
        "id": SEED_RECORD,
        "email": "jsmith@example.com",
        "firstName": "John",
        "lastName": "Smith",
        "role": "Manager",
        "status": "invited",
        "externalId": "crm-1042",
        "createdAt": "2023-11-07T05:31:56Z",
        "invitationUrl": "https://app.replay.sale/onboard/link?invitationId=3c90c3cc-0d44-4b50-8888-8dd25736052a"
    })
}

fn child_active() -> Value {
    json!({
        "id": CHILD_ACTIVE,
        "email": "ingrid.olsen@northstar.example",
        "firstName": "Ingrid",
        "lastName": "Olsen",
        "role": "User",
        "status": "active",
        "externalId": "crm-0007",
        "createdAt": "2023-06-01T09:00:00Z",
        "invitationUrl": null
    })
}

fn invalid(details: Value) -> Value {
    json!({"error": "Invalid request body", "details": details})
}

#[tokio::test]
async fn the_seed_example_updates_a_record_of_the_named_child_company() {
    let server = TestServer::start().await;
    let answer = patch_as(
        &server,
        "replay-parent",
        SEED_RECORD,
        json!({"firstName": "Jane", "lastName": "Doe", "role": "User", "childCompanyId": CHILD}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let mut expected = seed_record();
    expected["firstName"] = json!("Jane");
    expected["lastName"] = json!("Doe");
    expected["role"] = json!("User");
    assert_eq!(answer.json(), expected);
    // The invitation stays an invitation.
    assert_eq!(
        get_in_child(&server, "replay-parent", SEED_RECORD, CHILD)
            .await
            .json(),
        expected
    );
}

#[tokio::test]
async fn get_with_child_company_id_answers_in_the_seed_s_unified_shape() {
    let server = TestServer::start().await;
    let answer = get_in_child(&server, "replay-parent", CHILD_ACTIVE, CHILD).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), child_active());
    assert_eq!(
        keys(&answer.json()),
        [
            "id",
            "email",
            "firstName",
            "lastName",
            "role",
            "status",
            "externalId",
            "createdAt",
            "invitationUrl"
        ]
    );
}

#[tokio::test]
async fn get_without_child_company_id_answers_in_the_legacy_shape() {
    let server = TestServer::start().await;
    let answer = get_as(&server, "replay-child", CHILD_ACTIVE).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({
            "id": CHILD_ACTIVE, "firstName": "Ingrid", "email": "ingrid.olsen@northstar.example",
            "role": "Rep", "createdAt": "2023-06-01T09:00:00Z", "lastName": "Olsen", "teamId": NORDICS_SALES
        })
    );
    assert_eq!(
        keys(&answer.json()),
        [
            "id",
            "firstName",
            "email",
            "role",
            "createdAt",
            "lastName",
            "teamId"
        ]
    );
    // Invitations and disabled users too, with their legacy role.
    let answer = get_as(&server, "replay-parent", PARENT_INVITED).await;
    assert_eq!(
        answer.json(),
        json!({
            "id": PARENT_INVITED, "firstName": "Priya", "email": "priya.shah@northstar.example",
            "role": "Rep", "createdAt": "2026-02-18T13:45:00Z", "lastName": "Shah", "teamId": CLOSERS
        })
    );
    let answer = get_as(&server, "replay-parent", PARENT_DISABLED_MANAGER).await;
    assert_eq!(
        answer.json(),
        json!({
            "id": PARENT_DISABLED_MANAGER, "firstName": "Emma", "email": "emma.novak@northstar.example",
            "role": "Manager", "createdAt": "2022-09-09T09:09:09Z", "lastName": "Novak", "teamId": CLOSERS
        })
    );
}

#[tokio::test]
async fn the_unified_role_maps_to_the_legacy_role() {
    let server = TestServer::start().await;
    let legacy_role = |answer: Reply| answer.json()["role"].clone();
    for (role, legacy) in [("Manager", "Manager"), ("User", "Rep"), ("User", "Rep")] {
        let answer = patch_as(
            &server,
            "replay-child",
            CHILD_ACTIVE,
            json!({ "role": role }),
        )
        .await;
        assert_eq!(answer.json()["role"], role);
        assert_eq!(
            legacy_role(get_as(&server, "replay-child", CHILD_ACTIVE).await),
            legacy
        );
    }
    // An integration user stays one while a User, and is a Manager when made one.
    assert_eq!(
        legacy_role(get_as(&server, "replay-parent", INTEGRATION_USER).await),
        "Integration"
    );
    patch_as(
        &server,
        "replay-parent",
        INTEGRATION_USER,
        json!({"role": "User"}),
    )
    .await;
    assert_eq!(
        legacy_role(get_as(&server, "replay-parent", INTEGRATION_USER).await),
        "Integration"
    );
    patch_as(
        &server,
        "replay-parent",
        INTEGRATION_USER,
        json!({"role": "Manager"}),
    )
    .await;
    assert_eq!(
        legacy_role(get_as(&server, "replay-parent", INTEGRATION_USER).await),
        "Manager"
    );
}

#[tokio::test]
async fn get_with_child_company_id_is_refused_for_anything_but_a_direct_child() {
    let server = TestServer::start().await;
    for (key, child, target) in [
        ("replay-parent", GRANDCHILD, GRANDCHILD_USER),
        ("replay-parent", UNRELATED, UNRELATED_USER),
        ("replay-parent", PARENT, PARENT_ACTIVE),
        ("replay-child", SIBLING, SEED_RECORD),
        ("replay-other", CHILD, CHILD_ACTIVE),
    ] {
        let answer = get_in_child(&server, key, target, child).await;
        assert_eq!(
            (answer.status, answer.json()),
            (
                StatusCode::FORBIDDEN,
                json!({"error": format!("Company '{child}' is not a direct child of your company")})
            ),
            "{key} → {child}"
        );
    }
    // The direct child's scope holds only its own records: not the caller's.
    let answer = get_in_child(&server, "replay-parent", PARENT_ACTIVE, CHILD).await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::NOT_FOUND, json!({"error": "User not found"}))
    );
    // And the caller's own scope not the child's.
    let answer = get_as(&server, "replay-parent", CHILD_ACTIVE).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = get_in_child(&server, "replay-parent", CHILD_ACTIVE, "child-1").await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            StatusCode::BAD_REQUEST,
            invalid(json!([{"field": "childCompanyId", "message": "Invalid uuid \"child-1\""}]))
        )
    );
}

#[tokio::test]
async fn the_legacy_shape_can_leave_invitations_out() {
    let dir = common::TempDir::new("replay-legacy-invitations");
    for vendor in usermock::vendor_names() {
        let text = std::fs::read_to_string(common::repo_fixtures().join(format!("{vendor}.json")))
            .expect("fixture");
        let text = text.replace(
            "\"legacy_shape_includes_invitations\": true",
            "\"legacy_shape_includes_invitations\": false",
        );
        dir.write(&format!("{vendor}.json"), &text);
    }
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    let answer = get_as(&server, "replay-parent", PARENT_INVITED).await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::NOT_FOUND, json!({"error": "User not found"}))
    );
    // Still there for the unified shape and for PATCH.
    let answer = get_in_child(&server, "replay-parent", SEED_RECORD, CHILD).await;
    assert_eq!(answer.json(), seed_record());
    let answer = patch_as(
        &server,
        "replay-parent",
        PARENT_INVITED,
        json!({"firstName": "Priya"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn the_target_is_looked_up_only_in_the_callers_company_or_the_named_child() {
    let server = TestServer::start().await;
    let not_found = json!({"error": "User not found"});
    // A child's record, asked for without childCompanyId.
    let answer = patch_as(
        &server,
        "replay-parent",
        CHILD_ACTIVE,
        json!({"firstName": "X"}),
    )
    .await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::NOT_FOUND, not_found.clone())
    );
    // Another company's record, through a valid child.
    let answer = patch_as(
        &server,
        "replay-parent",
        PARENT_ACTIVE,
        json!({"childCompanyId": CHILD}),
    )
    .await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::NOT_FOUND, not_found.clone())
    );
    // An unrelated company's record: never leaked.
    for answer in [
        patch_as(&server, "replay-parent", UNRELATED_USER, json!({})).await,
        get_as(&server, "replay-parent", UNRELATED_USER).await,
    ] {
        assert_eq!(
            (answer.status, answer.json()),
            (StatusCode::NOT_FOUND, not_found.clone())
        );
    }
    // The caller's own record works without childCompanyId.
    let answer = patch_as(
        &server,
        "replay-parent",
        PARENT_ACTIVE,
        json!({"lastName": "Morgan-Lee"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["lastName"], "Morgan-Lee");
}

#[tokio::test]
async fn child_company_id_must_be_a_direct_child_of_the_caller() {
    let server = TestServer::start().await;
    for (key, child, target) in [
        ("replay-parent", GRANDCHILD, GRANDCHILD_USER),
        ("replay-parent", UNRELATED, UNRELATED_USER),
        ("replay-parent", PARENT, PARENT_ACTIVE),
        (
            "replay-parent",
            "66666666-6666-4666-8666-666666666666",
            SEED_RECORD,
        ),
        ("replay-child", SIBLING, SEED_RECORD),
        ("replay-child", PARENT, PARENT_ACTIVE),
    ] {
        let answer = patch_as(&server, key, target, json!({"childCompanyId": child})).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{key} → {child}");
        assert_eq!(
            answer.json(),
            json!({"error": format!("Company '{child}' is not a direct child of your company")})
        );
    }
    // The child may name its own direct child.
    let answer = patch_as(
        &server,
        "replay-child",
        GRANDCHILD_USER,
        json!({"childCompanyId": GRANDCHILD, "role": "Manager"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["role"], "Manager");
}

#[tokio::test]
async fn a_malformed_child_company_id_is_a_400() {
    let server = TestServer::start().await;
    let answer = patch_as(
        &server,
        "replay-parent",
        SEED_RECORD,
        json!({"childCompanyId": "child-1"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        invalid(json!([{"field": "childCompanyId", "message": "Invalid uuid \"child-1\""}]))
    );
}

#[tokio::test]
async fn names_must_be_1_to_255_characters() {
    let server = TestServer::start().await;
    let longest = "é".repeat(255);
    let answer = patch_as(
        &server,
        "replay-child",
        CHILD_ACTIVE,
        json!({"firstName": longest, "lastName": "O"}),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "255 characters (510 bytes) are fine"
    );
    assert_eq!(answer.json()["firstName"], json!(longest));
    let answer = patch_as(
        &server,
        "replay-child",
        CHILD_ACTIVE,
        json!({"firstName": "", "lastName": "x".repeat(256)}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        invalid(json!([
            {"field": "firstName", "message": "Must be at least 1 character"},
            {"field": "lastName", "message": "Must be at most 255 characters (got 256)"}
        ]))
    );
    let answer = patch_as(
        &server,
        "replay-child",
        CHILD_ACTIVE,
        json!({"firstName": null, "lastName": 7}),
    )
    .await;
    assert_eq!(
        answer.json(),
        invalid(json!([
            {"field": "firstName", "message": "Expected a string"},
            {"field": "lastName", "message": "Expected a string"}
        ]))
    );
}

#[tokio::test]
async fn role_is_only_user_or_manager() {
    let server = TestServer::start().await;
    for role in ["Disabled", "Admin", "user"] {
        let answer = patch_as(&server, "replay-child", CHILD_ACTIVE, json!({"role": role})).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{role}");
        assert_eq!(
            answer.json(),
            invalid(
                json!([{"field": "role", "message": format!("Invalid role \"{role}\"; expected 'User' or 'Manager'")}])
            )
        );
    }
    let answer = patch_as(
        &server,
        "replay-child",
        CHILD_ACTIVE,
        json!({"role": "Manager"}),
    )
    .await;
    let mut expected = child_active();
    expected["role"] = json!("Manager");
    assert_eq!(answer.json(), expected);
}

#[tokio::test]
async fn disabled_users_cannot_be_updated() {
    let server = TestServer::start().await;
    let before = get_in_child(&server, "replay-parent", CHILD_DISABLED, CHILD)
        .await
        .json();
    assert_eq!(
        before,
        json!({
            "id": CHILD_DISABLED, "email": "erik.lund@northstar.example", "firstName": "Erik", "lastName": "Lund",
            "role": "Disabled", "status": "disabled", "externalId": null, "createdAt": "2022-10-10T10:10:10Z",
            "invitationUrl": null
        })
    );
    for body in [
        json!({"firstName": "Erika"}),
        json!({"lastName": "Lundt"}),
        json!({"role": "User"}),
        json!({}),
    ] {
        let answer = patch_as(&server, "replay-child", CHILD_DISABLED, body.clone()).await;
        assert_eq!(
            (answer.status, answer.json()),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "Disabled users cannot be updated"})
            ),
            "{body}"
        );
    }
    // Through the parent too, and nothing changed.
    let answer = patch_as(
        &server,
        "replay-parent",
        CHILD_DISABLED,
        json!({"firstName": "Erika", "childCompanyId": CHILD}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        get_in_child(&server, "replay-parent", CHILD_DISABLED, CHILD)
            .await
            .json(),
        before
    );
}

#[tokio::test]
async fn the_body_is_checked_for_shape() {
    let server = TestServer::start().await;
    let answer = patch_as(
        &server,
        "replay-child",
        CHILD_ACTIVE,
        json!({"email": "x@y.z", "status": "active"}),
    )
    .await;
    assert_eq!(
        answer.json(),
        invalid(json!([
            {"field": "email", "message": "Unrecognized field 'email'"},
            {"field": "status", "message": "Unrecognized field 'status'"}
        ]))
    );
    for (body, message) in [
        ("", "Request body is required"),
        ("[1]", "Request body must be a JSON object"),
        ("{\"firstName\"", "Request body is not valid JSON"),
    ] {
        let request = server
            .request(Method::PATCH, &path(CHILD_ACTIVE))
            .header("x-api-key", "replay-child")
            .header("content-type", "application/json")
            .body(body);
        let answer = server.send(request).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.json(), json!({"error": message}), "{body}");
    }
    let answer = patch_as(&server, "replay-child", CHILD_ACTIVE, json!({})).await;
    assert_eq!(answer.json(), child_active());
    let answer = get_as(&server, "replay-child", "not-a-uuid").await;
    assert_eq!(
        answer.json(),
        invalid(json!([{"field": "userId", "message": "Invalid uuid \"not-a-uuid\""}]))
    );
}

#[tokio::test]
async fn a_missing_or_unknown_api_key_is_a_401() {
    let server = TestServer::start().await;
    let answer = server
        .send(server.request(Method::GET, &path(CHILD_ACTIVE)))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json(), json!({"error": "Missing x-api-key header"}));
    let answer = get_as(&server, "replay-nope", CHILD_ACTIVE).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json(), json!({"error": "Invalid API key"}));
    // A bearer token is not Replay's scheme.
    let request = server
        .request(Method::GET, &path(CHILD_ACTIVE))
        .bearer_auth("replay-child");
    assert_eq!(server.send(request).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn checks_run_in_order() {
    let server = TestServer::start().await;
    // 401 beats 400.
    assert_eq!(
        patch_as(&server, "nope", SEED_RECORD, json!({"role": "Disabled"}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // 400 beats 403.
    assert_eq!(
        patch_as(
            &server,
            "replay-parent",
            SEED_RECORD,
            json!({"role": "Disabled", "childCompanyId": GRANDCHILD})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    // 403 beats 404.
    assert_eq!(
        patch_as(
            &server,
            "replay-parent",
            "00000000-0000-4000-8000-000000000000",
            json!({"childCompanyId": GRANDCHILD})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // 404 beats the status rule.
    assert_eq!(
        patch_as(
            &server,
            "replay-parent",
            CHILD_DISABLED,
            json!({"role": "User"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_real_host_reaches_replay_without_the_prefix() {
    let server = TestServer::start().await;
    let request = server
        .request(
            Method::GET,
            &format!("/api/user/{CHILD_ACTIVE}?childCompanyId={CHILD}"),
        )
        .header("host", "app.replay.sale")
        .header("x-api-key", "replay-parent");
    assert_eq!(server.send(request).await.json(), child_active());
}
