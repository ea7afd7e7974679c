//! The activity-monitoring vendor, rule by rule, as its update-user page
//! (<https://api-docs.amm-scalepad.com/users/update>, "the seed" in
//! `docs/vendors/activity.md`) states them.

use crate::activity_support::{error_body, now_millis};
use crate::common;

use common::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const OTHER_CLIENT: &str = "b5e0c3d2-6f4a-4c1b-9e8d-7a6b5c4d3e2f";
const USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";
const OTHER_CLIENTS_USER: &str = "9f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f";
const ENGINEERING: &str = "d1a2b3c4-e5f6-7890-abcd-ef1234567890";
const PLATFORM: &str = "e2b3c4d5-f6a7-8901-bcde-f12345678901";
const WAREHOUSE: &str = "7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f";
const ADMIN: &str = "activity-admin";

fn user_path(client: &str, user: &str) -> String {
    format!("/activity/v2/clients/{client}/users/{user}")
}

async fn patch_as(server: &TestServer, token: &str, client: &str, user: &str, body: &str) -> Reply {
    let request = server
        .request(Method::PATCH, &user_path(client, user))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned());
    server.send(request).await
}

async fn patch(server: &TestServer, body: &str) -> Reply {
    patch_as(server, ADMIN, CLIENT, USER, body).await
}

async fn get_as(server: &TestServer, token: &str, client: &str, user: &str) -> Reply {
    server
        .send(
            server
                .request(Method::GET, &user_path(client, user))
                .bearer_auth(token),
        )
        .await
}

/// The seed's example response, with the departments the test expects.
fn mikechang(departments: Value, updated_at: &str) -> Value {
    json!({
        "id": "a1d97031-04e2-4907-a249-093f7436207b",
        "username": "mikechang",
        "user_key": "mikechang",
        "last_activity": {
            "at": "2026-02-24T21:23:53.082Z",
            "desktop_at": "2026-02-24T21:22:46.119Z",
            "web_at": "2026-02-24T21:23:53.082Z"
        },
        "departments": departments,
        "created_at": "2026-02-05T21:29:34.214Z",
        "updated_at": updated_at
    })
}

fn engineering() -> Value {
    json!({"id": ENGINEERING, "name": "Engineering", "description": "Software development and infrastructure teams"})
}

fn platform() -> Value {
    json!({"id": PLATFORM, "name": "Platform", "description": "Internal developer platform and tooling"})
}

/// Asserts a successful write: status 200, a fresh `updated_at` in the
/// seed's format, and otherwise exactly `expected`.
fn assert_written(answer: &Reply, expected_departments: Value) -> String {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    let updated_at = body["updated_at"].as_str().expect("updated_at").to_owned();
    assert_ne!(
        updated_at, "2026-02-24T22:00:00.000Z",
        "updated_at must move on a write"
    );
    assert_rfc3339_millis(&updated_at);
    assert_eq!(body, mikechang(expected_departments, &updated_at));
    updated_at
}

fn assert_rfc3339_millis(stamp: &str) {
    let ok = stamp.len() == 24
        && stamp.ends_with('Z')
        && stamp.as_bytes()[10] == b'T'
        && stamp.as_bytes()[19] == b'.'
        && stamp[20..23].bytes().all(|b| b.is_ascii_digit());
    assert!(ok, "'{stamp}' is not RFC 3339 with milliseconds and Z");
}

/// Now, in the vendor's timestamp format, by the test's own clock.

// ------------------------------------------------------ the seed's examples --

#[tokio::test]
async fn the_seed_example_user_reads_back_exactly_as_the_example_response() {
    let server = TestServer::start().await;
    let answer = get_as(&server, ADMIN, CLIENT, USER).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        mikechang(json!([engineering()]), "2026-02-24T22:00:00.000Z")
    );
}

#[tokio::test]
async fn assign_departments_example_returns_the_updated_user() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        r#"{"departments": ["d1a2b3c4-e5f6-7890-abcd-ef1234567890"]}"#,
    )
    .await;
    assert_written(&answer, json!([engineering()]));
}

#[tokio::test]
async fn assign_to_multiple_departments_example_lists_both_in_request_order() {
    let server = TestServer::start().await;
    let body = r#"{"departments": ["e2b3c4d5-f6a7-8901-bcde-f12345678901", "d1a2b3c4-e5f6-7890-abcd-ef1234567890"]}"#;
    assert_written(
        &patch(&server, body).await,
        json!([platform(), engineering()]),
    );
    let body = r#"{"departments": ["d1a2b3c4-e5f6-7890-abcd-ef1234567890", "e2b3c4d5-f6a7-8901-bcde-f12345678901"]}"#;
    assert_written(
        &patch(&server, body).await,
        json!([engineering(), platform()]),
    );
}

#[tokio::test]
async fn remove_from_all_departments_example_leaves_an_empty_list() {
    let server = TestServer::start().await;
    assert_written(&patch(&server, r#"{"departments": []}"#).await, json!([]));
    let after = get_as(&server, ADMIN, CLIENT, USER).await.json();
    assert_eq!(after["departments"], json!([]));
}

// ------------------------------------------------------ department rules --

#[tokio::test]
async fn departments_replace_the_whole_list_rather_than_appending() {
    let server = TestServer::start().await;
    patch(
        &server,
        &format!(r#"{{"departments": ["{ENGINEERING}", "{PLATFORM}"]}}"#),
    )
    .await;
    let answer = patch(&server, &format!(r#"{{"departments": ["{PLATFORM}"]}}"#)).await;
    assert_written(&answer, json!([platform()]));
    assert_eq!(
        get_as(&server, ADMIN, CLIENT, USER).await.json()["departments"],
        json!([platform()])
    );
}

#[tokio::test]
async fn a_body_without_departments_leaves_them_unchanged() {
    let server = TestServer::start().await;
    assert_written(&patch(&server, "{}").await, json!([engineering()]));
}

#[tokio::test]
async fn duplicate_department_ids_count_once() {
    let server = TestServer::start().await;
    let body = format!(r#"{{"departments": ["{ENGINEERING}", "{PLATFORM}", "{ENGINEERING}"]}}"#);
    assert_written(
        &patch(&server, &body).await,
        json!([engineering(), platform()]),
    );
}

#[tokio::test]
async fn department_ids_match_case_insensitively_and_answer_in_canonical_form() {
    let server = TestServer::start().await;
    let body = format!(r#"{{"departments": ["{}"]}}"#, ENGINEERING.to_uppercase());
    assert_written(&patch(&server, &body).await, json!([engineering()]));
}

#[tokio::test]
async fn an_unknown_department_gets_exactly_the_seeds_404_body() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        r#"{"departments": ["ffffffff-ffff-ffff-ffff-ffffffffffff"]}"#,
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.text,
        r#"{"error":{"code":"not_found","message":"One or more departments not found","details":{"invalid_department_ids":["ffffffff-ffff-ffff-ffff-ffffffffffff"]}}}"#
    );
    assert_eq!(
        answer.header("content-type"),
        Some("application/json; charset=utf-8")
    );
}

#[tokio::test]
async fn unknown_department_ids_are_all_listed_in_the_404_body_in_request_order_once() {
    let server = TestServer::start().await;
    let body = format!(
        r#"{{"departments": ["ffffffff-ffff-ffff-ffff-ffffffffffff", "{ENGINEERING}", "00000000-0000-0000-0000-000000000001", "ffffffff-ffff-ffff-ffff-ffffffffffff"]}}"#
    );
    let answer = patch(&server, &body).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.json(),
        error_body(
            "not_found",
            "One or more departments not found",
            json!({"invalid_department_ids": ["ffffffff-ffff-ffff-ffff-ffffffffffff", "00000000-0000-0000-0000-000000000001"]})
        )
    );
    // Nothing was written.
    assert_eq!(
        get_as(&server, ADMIN, CLIENT, USER).await.json(),
        mikechang(json!([engineering()]), "2026-02-24T22:00:00.000Z")
    );
}

#[tokio::test]
async fn a_department_of_another_client_counts_as_not_found() {
    let server = TestServer::start().await;
    let answer = patch(&server, &format!(r#"{{"departments": ["{WAREHOUSE}"]}}"#)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.json(),
        error_body(
            "not_found",
            "One or more departments not found",
            json!({"invalid_department_ids": [WAREHOUSE]})
        )
    );
}

// -------------------------------------------------------------- 400 rules --

#[tokio::test]
async fn a_malformed_uuid_in_departments_is_a_400_naming_the_entry() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        &format!(r#"{{"departments": ["{ENGINEERING}", "eng-id"]}}"#),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        error_body(
            "invalid_request",
            "'departments[1]' is not a valid UUID",
            json!({"field": "departments[1]", "value": "eng-id"})
        )
    );
}

#[tokio::test]
async fn uuid_forms_other_than_hyphenated_are_malformed() {
    let server = TestServer::start().await;
    for id in [
        "d1a2b3c4e5f67890abcdef1234567890",
        "{d1a2b3c4-e5f6-7890-abcd-ef1234567890}",
        "urn:uuid:d1a2b3c4-e5f6-7890-abcd-ef1234567890",
        "d1a2b3c4-e5f6-7890-abcd-ef123456789g",
        "",
    ] {
        let answer = patch(&server, &format!(r#"{{"departments": ["{id}"]}}"#)).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{id}: {}",
            answer.text
        );
    }
}

#[tokio::test]
async fn a_malformed_uuid_in_the_path_is_a_400() {
    let server = TestServer::start().await;
    let answer = patch_as(&server, ADMIN, "not-a-uuid", USER, "{}").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        error_body(
            "invalid_request",
            "Path parameter 'client_id' is not a valid UUID",
            json!({"field": "client_id", "value": "not-a-uuid"})
        )
    );
    let answer = get_as(&server, ADMIN, CLIENT, "12345").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        error_body(
            "invalid_request",
            "Path parameter 'user_id' is not a valid UUID",
            json!({"field": "user_id", "value": "12345"})
        )
    );
}

#[tokio::test]
async fn departments_of_the_wrong_type_are_a_400() {
    let server = TestServer::start().await;
    for (body, message, details) in [
        (
            r#"{"departments": "d1a2b3c4-e5f6-7890-abcd-ef1234567890"}"#,
            "'departments' must be an array of department ids",
            json!({"field": "departments", "value": ENGINEERING}),
        ),
        (
            r#"{"departments": null}"#,
            "'departments' must be an array of department ids",
            json!({"field": "departments", "value": null}),
        ),
        (
            r#"{"departments": [42]}"#,
            "'departments[0]' must be a string",
            json!({"field": "departments[0]", "value": 42}),
        ),
        (
            r#"{"departments": [{"id": "d1a2b3c4-e5f6-7890-abcd-ef1234567890"}]}"#,
            "'departments[0]' must be a string",
            json!({"field": "departments[0]", "value": {"id": ENGINEERING}}),
        ),
    ] {
        let answer = patch(&server, body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            answer.json(),
            error_body("invalid_request", message, details),
            "{body}"
        );
    }
}

#[tokio::test]
async fn bodies_that_are_not_a_json_object_are_a_400() {
    let server = TestServer::start().await;
    for (body, message) in [
        ("", "Request body is required"),
        ("   ", "Request body is required"),
        ("[]", "Request body must be a JSON object"),
        ("null", "Request body must be a JSON object"),
        ("\"departments\"", "Request body must be a JSON object"),
    ] {
        let answer = patch(&server, body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(
            answer.json(),
            error_body("invalid_request", message, json!({})),
            "{body:?}"
        );
    }
    let answer = patch(&server, r#"{"departments": ["#).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let message = answer.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.starts_with("Request body is not valid JSON: "),
        "{message}"
    );
}

#[tokio::test]
async fn a_body_not_declared_as_json_is_a_400() {
    let server = TestServer::start().await;
    let request = server
        .request(Method::PATCH, &user_path(CLIENT, USER))
        .bearer_auth(ADMIN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(r#"{{"departments": ["{ENGINEERING}"]}}"#));
    let answer = server.send(request).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        error_body(
            "invalid_request",
            "Content-Type must be application/json",
            json!({"field": "Content-Type", "value": "application/x-www-form-urlencoded"})
        )
    );
    let request = server
        .request(Method::PATCH, &user_path(CLIENT, USER))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json; charset=utf-8")
        .body("{}");
    assert_eq!(server.send(request).await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_read_only_field_in_the_body_is_rejected_and_nothing_changes() {
    let server = TestServer::start().await;
    for (field, value) in [
        ("id", json!("00000000-0000-0000-0000-000000000000")),
        ("username", json!("someone")),
        ("user_key", json!("someone")),
        ("last_activity", json!({"at": null})),
        ("created_at", json!("2020-01-01T00:00:00.000Z")),
        ("updated_at", json!("2020-01-01T00:00:00.000Z")),
    ] {
        let body = json!({"departments": [], field: value}).to_string();
        let answer = patch(&server, &body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{field}");
        assert_eq!(
            answer.json(),
            error_body(
                "invalid_request",
                &format!("Field '{field}' cannot be updated via the API"),
                json!({"field": field})
            )
        );
    }
    assert_eq!(
        get_as(&server, ADMIN, CLIENT, USER).await.json(),
        mikechang(json!([engineering()]), "2026-02-24T22:00:00.000Z")
    );
}

#[tokio::test]
async fn an_unknown_field_is_rejected() {
    let server = TestServer::start().await;
    let answer = patch(&server, &format!(r#"{{"department": ["{ENGINEERING}"]}}"#)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        error_body(
            "invalid_request",
            "Unknown field 'department'",
            json!({"field": "department"})
        )
    );
}

// ---------------------------------------------------------- 401, 403, 404 --

#[tokio::test]
async fn no_token_is_a_401_with_a_bearer_challenge() {
    let server = TestServer::start().await;
    let request = server
        .request(Method::PATCH, &user_path(CLIENT, USER))
        .header("content-type", "application/json")
        .body("{}");
    let answer = server.send(request).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        answer.json(),
        error_body(
            "unauthorized",
            "Authentication required",
            json!({"reason": "missing bearer token"})
        )
    );
}

#[tokio::test]
async fn an_unknown_token_or_another_scheme_is_a_401() {
    let server = TestServer::start().await;
    let answer = patch_as(&server, "not-a-token", CLIENT, USER, "{}").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.json(),
        error_body(
            "unauthorized",
            "Authentication required",
            json!({"reason": "unknown token"})
        )
    );
    let request = server
        .request(Method::GET, &user_path(CLIENT, USER))
        .header("authorization", "Basic YWN0aXZpdHktYWRtaW46")
        .header("content-type", "application/json");
    assert_eq!(server.send(request).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_without_access_to_the_client_is_a_403() {
    let server = TestServer::start().await;
    let body = format!(r#"{{"departments": ["{ENGINEERING}"]}}"#);
    for answer in [
        patch_as(&server, "activity-limited", CLIENT, USER, &body).await,
        get_as(&server, "activity-limited", CLIENT, USER).await,
    ] {
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert_eq!(
            answer.json(),
            error_body(
                "forbidden",
                "Insufficient permissions for this client",
                json!({"client_id": CLIENT})
            )
        );
    }
    // The same token works on the client it was granted.
    let answer = get_as(
        &server,
        "activity-limited",
        OTHER_CLIENT,
        OTHER_CLIENTS_USER,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["username"], "tomasz.nowak");
}

#[tokio::test]
async fn an_unknown_client_is_a_404() {
    let server = TestServer::start().await;
    let unknown = "11111111-1111-4111-8111-111111111111";
    let answer = patch_as(&server, ADMIN, unknown, USER, "{}").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.json(),
        error_body(
            "not_found",
            "Client not found",
            json!({"client_id": unknown})
        )
    );
}

#[tokio::test]
async fn an_unknown_user_is_a_404() {
    let server = TestServer::start().await;
    let unknown = "22222222-2222-4222-8222-222222222222";
    for answer in [
        patch_as(&server, ADMIN, CLIENT, unknown, "{}").await,
        get_as(&server, ADMIN, CLIENT, unknown).await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(
            answer.json(),
            error_body("not_found", "User not found", json!({"user_id": unknown}))
        );
    }
}

#[tokio::test]
async fn a_user_of_another_client_is_not_found_under_this_client() {
    let server = TestServer::start().await;
    let answer = get_as(&server, ADMIN, CLIENT, OTHER_CLIENTS_USER).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.json(),
        error_body(
            "not_found",
            "User not found",
            json!({"user_id": OTHER_CLIENTS_USER})
        )
    );
}

#[tokio::test]
async fn checks_run_in_order_auth_then_shape_then_permission_then_existence() {
    let server = TestServer::start().await;
    let unknown_client = "11111111-1111-4111-8111-111111111111";
    let bad_body = r#"{"departments": ["nope"]}"#;
    let missing_dept = r#"{"departments": ["ffffffff-ffff-ffff-ffff-ffffffffffff"]}"#;
    // 401 beats 400.
    assert_eq!(
        patch_as(&server, "bogus", CLIENT, USER, bad_body)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // 400 beats 403.
    assert_eq!(
        patch_as(&server, "activity-limited", CLIENT, USER, bad_body)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // 403 beats 404: a limited token learns nothing about unknown clients.
    assert_eq!(
        patch_as(&server, "activity-limited", unknown_client, USER, "{}")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Client 404 beats user 404 beats department 404.
    let answer = patch_as(
        &server,
        ADMIN,
        unknown_client,
        "22222222-2222-4222-8222-222222222222",
        missing_dept,
    )
    .await;
    assert_eq!(answer.json()["error"]["message"], "Client not found");
    let answer = patch_as(
        &server,
        ADMIN,
        CLIENT,
        "22222222-2222-4222-8222-222222222222",
        missing_dept,
    )
    .await;
    assert_eq!(answer.json()["error"]["message"], "User not found");
}

// -------------------------------------------------- state and timestamps --

#[tokio::test]
async fn updated_at_moves_forward_on_every_write_and_read_only_fields_stay() {
    let server = TestServer::start().await;
    let mut previous = String::from("2026-02-24T22:00:00.000Z");
    for _ in 0..5 {
        let answer = patch(&server, r#"{"departments": []}"#).await;
        let stamp = assert_written(&answer, json!([]));
        // Two writes within one millisecond may share it; never backwards,
        // never ahead of the clock.
        assert!(stamp >= previous, "{stamp} is before {previous}");
        assert!(stamp <= now_millis(), "{stamp} is ahead of the clock");
        previous = stamp;
    }
    let read = get_as(&server, ADMIN, CLIENT, USER).await.json();
    assert_eq!(read, mikechang(json!([]), &previous));
}

#[tokio::test]
async fn reads_do_not_change_updated_at() {
    let server = TestServer::start().await;
    let first = get_as(&server, ADMIN, CLIENT, USER).await.json();
    let second = get_as(&server, ADMIN, CLIENT, USER).await.json();
    assert_eq!(first, second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_of_one_user_are_serialised_and_none_is_lost() {
    let server = std::sync::Arc::new(TestServer::start().await);
    let choices = [
        json!([ENGINEERING]),
        json!([PLATFORM]),
        json!([ENGINEERING, PLATFORM]),
        json!([]),
    ];
    let mut tasks = Vec::new();
    for i in 0..40 {
        let server = std::sync::Arc::clone(&server);
        let departments = choices[i % choices.len()].clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({ "departments": departments }).to_string();
            let answer = patch(&server, &body).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            let written = answer.json();
            (
                written["updated_at"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                written,
            )
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    // Each response is one whole requested state, stamped no later than
    // the clock; the stored user is one of the last writes, whole.
    let latest = now_millis();
    for (stamp, body) in &results {
        assert!(
            stamp.as_str() <= latest.as_str(),
            "{stamp} is ahead of the clock"
        );
        let ids: Vec<Value> = body["departments"]
            .as_array()
            .map(|ds| ds.iter().map(|d| d["id"].clone()).collect())
            .unwrap_or_default();
        assert!(choices.contains(&Value::Array(ids)), "{body}");
    }
    let last_stamp = results.iter().map(|(s, _)| s.clone()).max();
    let current = get_as(&server, ADMIN, CLIENT, USER).await.json();
    assert_eq!(
        current["updated_at"].as_str().map(str::to_owned),
        last_stamp
    );
    assert!(
        results.iter().any(|(_, body)| *body == current),
        "the stored user is not one of the written states: {current}"
    );
}

#[tokio::test]
async fn sessions_isolate_writes_and_reset_restores_the_fixtures() {
    let server = TestServer::start().await;
    let write = server
        .request(Method::PATCH, &user_path(CLIENT, USER))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .header("x-usermock-session", "test-a")
        .body(r#"{"departments": []}"#);
    assert_eq!(server.send(write).await.status, StatusCode::OK);
    let read_in = |session: Option<&'static str>| {
        let mut request = server
            .request(Method::GET, &user_path(CLIENT, USER))
            .bearer_auth(ADMIN);
        if let Some(session) = session {
            request = request.header("x-usermock-session", session);
        }
        request
    };
    assert_eq!(
        server.send(read_in(Some("test-a"))).await.json()["departments"],
        json!([])
    );
    assert_eq!(
        server.send(read_in(Some("test-b"))).await.json()["departments"],
        json!([engineering()])
    );
    assert_eq!(
        server.send(read_in(None)).await.json()["departments"],
        json!([engineering()])
    );

    let reset = server
        .request(Method::POST, "/__admin/reset")
        .header("x-usermock-session", "test-a");
    assert_eq!(
        server.send(reset).await.json(),
        json!({"status": "reset", "session": "test-a"})
    );
    assert_eq!(
        server.send(read_in(Some("test-a"))).await.json()["departments"],
        json!([engineering()])
    );
}

#[tokio::test]
async fn reset_without_a_session_restores_everything() {
    let server = TestServer::start().await;
    patch(&server, r#"{"departments": []}"#).await;
    let answer = server
        .send(server.request(Method::POST, "/__admin/reset"))
        .await;
    assert_eq!(answer.json(), json!({"status": "reset", "session": null}));
    assert_eq!(
        get_as(&server, ADMIN, CLIENT, USER).await.json(),
        mikechang(json!([engineering()]), "2026-02-24T22:00:00.000Z")
    );
}

// ------------------------------------------------------- routing and HTTP --

#[tokio::test]
async fn the_real_host_reaches_the_vendor_without_the_prefix() {
    let server = TestServer::start().await;
    for host in ["api.example.com", "api.example.com:443", "API.EXAMPLE.COM"] {
        let request = server
            .request(Method::GET, &format!("/v2/clients/{CLIENT}/users/{USER}"))
            .header("host", host)
            .bearer_auth(ADMIN);
        let answer = server.send(request).await;
        assert_eq!(answer.status, StatusCode::OK, "{host}");
        assert_eq!(answer.json()["username"], "mikechang");
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_405_with_allow_in_the_vendor_format() {
    let server = TestServer::start().await;
    for method in [Method::PUT, Method::DELETE, Method::POST] {
        let answer = server
            .send(
                server
                    .request(method.clone(), &user_path(CLIENT, USER))
                    .bearer_auth(ADMIN),
            )
            .await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(answer.header("allow"), Some("GET, PATCH"));
        assert_eq!(
            answer.json(),
            error_body(
                "method_not_allowed",
                "Method not allowed",
                json!({"allow": ["GET", "PATCH"]})
            )
        );
    }
}

#[tokio::test]
async fn an_unknown_path_under_the_vendor_is_a_404_in_the_vendor_format() {
    let server = TestServer::start().await;
    let answer = server
        .send(
            server
                .request(Method::GET, "/activity/v2/clients")
                .bearer_auth(ADMIN),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.json(),
        error_body(
            "not_found",
            "Resource not found",
            json!({"path": "/v2/clients"})
        )
    );
}

#[tokio::test]
async fn a_path_under_no_vendor_is_usermocks_own_404() {
    let server = TestServer::start().await;
    let answer = server
        .send(server.request(Method::GET, "/nothing/here"))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["error"], "no_route");
    let prefixes: Vec<String> = usermock::vendor_names()
        .iter()
        .map(|name| format!("/{name}"))
        .collect();
    assert_eq!(answer.json()["vendor_prefixes"], json!(prefixes));
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_in_the_vendor_format() {
    let server = TestServer::start_with(usermock::Options {
        max_body: 64,
        ..usermock::Options::default()
    })
    .await;
    let big = format!(
        r#"{{"departments": [{}]}}"#,
        vec![format!("\"{ENGINEERING}\""); 10].join(",")
    );
    let answer = patch(&server, &big).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        answer.json(),
        error_body(
            "payload_too_large",
            "Request body too large",
            json!({"limit_bytes": 64})
        )
    );
    // A body within the limit still works on the same server.
    assert_eq!(
        patch(&server, r#"{"departments": []}"#).await.status,
        StatusCode::OK
    );
}

// ------------------------------------------------------- fixture settings --

async fn server_with_settings(tag: &str, settings: Value) -> (TestServer, common::TempDir) {
    let dir = common::TempDir::new(tag);
    let mut fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_fixtures().join("activity.json")).expect("fixture"),
    )
    .expect("json");
    fixture["settings"] = settings;
    dir.write("activity.json", &fixture.to_string());
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    (server, dir)
}

#[tokio::test]
async fn settings_can_make_read_only_and_unknown_fields_ignored() {
    let (server, _dir) = server_with_settings(
        "activity-ignore",
        json!({"read_only_fields": "ignore", "unknown_fields": "ignore"}),
    )
    .await;
    let body =
        json!({"departments": [PLATFORM], "username": "someone", "nickname": "x"}).to_string();
    // Accepted, and the read-only field is left as it was.
    assert_written(&patch(&server, &body).await, json!([platform()]));
}

#[tokio::test]
async fn settings_can_accept_bodies_without_a_json_content_type() {
    let (server, _dir) = server_with_settings(
        "activity-any-type",
        json!({"require_json_content_type": false}),
    )
    .await;
    let request = server
        .request(Method::PATCH, &user_path(CLIENT, USER))
        .bearer_auth(ADMIN)
        .header("content-type", "text/plain")
        .body(format!(r#"{{"departments": ["{PLATFORM}"]}}"#));
    assert_written(&server.send(request).await, json!([platform()]));
}

/// The `/activity` prefix is cut off where its slash is: leading slashes
/// doubled still reach the vendor's route, a bare prefix is the vendor's
/// root `/`, and the journal keeps each vendor path as answered.
#[tokio::test]
async fn the_prefix_is_cut_at_its_slash_and_a_bare_prefix_is_the_vendor_root() {
    let server = TestServer::start().await;
    let doubled = format!("/{}", user_path(CLIENT, USER));
    let answer = server
        .send(server.request(Method::GET, &doubled).bearer_auth(ADMIN))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["id"], USER);
    let not_found = json!({
        "error": {"code": "not_found", "message": "Resource not found", "details": {"path": "/"}}
    });
    for bare in ["/activity", "/activity/"] {
        let answer = server
            .send(server.request(Method::GET, bare).bearer_auth(ADMIN))
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{bare}");
        assert_eq!(answer.json(), not_found, "{bare}");
    }
    let journal = server
        .send(server.request(Method::GET, "/__admin/requests?vendor=activity"))
        .await
        .json();
    let paths: Vec<(&str, &str)> = journal["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap_or_default(),
                r["vendor_path"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let user = format!("/v2/clients/{CLIENT}/users/{USER}");
    assert_eq!(
        paths,
        [
            (doubled.as_str(), user.as_str()),
            ("/activity", "/"),
            ("/activity/", "/"),
        ]
    );
}
