//! ScalePad activity monitoring where usermock's reading of the docs is
//! its own: the members example's non-UUID id, the messages the docs give
//! only as status descriptions, ignored query parameters and fields, each
//! noted in the journal; and the docs' example requests, which succeed as
//! documented and carry no note.

use crate::common::{self, Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The docs' example client, department and user.
const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const ENGINEERING: &str = "d1a2b3c4-e5f6-7890-abcd-ef1234567890";
const MIKE: &str = "a1d97031-04e2-4907-a249-093f7436207b";
/// The second id of the members examples: not a UUID (`g`).
const NOT_A_UUID: &str = "b2e08142-15f3-5018-b350-104g8547318c";

const MEMBER_NOTE_SOURCE: &str = "inferred: https://api-docs.amm-scalepad.com/departments/members-add sends the non-UUID id b2e08142-15f3-5018-b350-104g8547318c in its example and answers 200; settings.malformed_member_ids: reject makes it a 400";
const STATUS_NOTE_SOURCE: &str = "inferred: the docs give this text as a status description in their error tables (e.g. https://api-docs.amm-scalepad.com/users/summary), not as a response body; settings.status_messages: reason_phrases uses the HTTP reason phrase";

async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> Reply {
    let mut request = server
        .request(method, &format!("/activity/v2/clients/{CLIENT}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    server.send(request).await
}

/// The notes of the journal's newest activity entry.
async fn last_notes(server: &TestServer) -> Value {
    let list = server
        .send(server.request(Method::GET, "/__admin/requests?vendor=activity"))
        .await
        .json();
    list["requests"]
        .as_array()
        .and_then(|entries| entries.last())
        .map(|entry| entry["notes"].clone())
        .expect("a journal entry")
}

async fn server_with_settings(tag: &str, settings: Value) -> (TestServer, common::TempDir) {
    let dir = common::TempDir::new(tag);
    let mut fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_fixtures().join("activity.json")).expect("fixture"),
    )
    .expect("json");
    for (name, value) in settings.as_object().cloned().unwrap_or_default() {
        fixture["settings"][name] = value;
    }
    dir.write("activity.json", &fixture.to_string());
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    (server, dir)
}

/// The docs' "Add multiple users" request body, verbatim.
const MEMBERS_EXAMPLE: &str = "{\n\"user_ids\": [\n\"a1d97031-04e2-4907-a249-093f7436207b\",\n\"b2e08142-15f3-5018-b350-104g8547318c\"\n]\n}";

#[tokio::test]
async fn the_documented_add_members_request_answers_200_and_its_non_uuid_id_fails_alone() {
    let server = TestServer::start().await;
    let path = format!("/departments/{ENGINEERING}/members");
    let answer = send(
        &server,
        Method::POST,
        &path,
        "activity-admin",
        Some(MEMBERS_EXAMPLE),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.json(),
        json!({"succeeded": [MIKE], "failed": [{"id": NOT_A_UUID, "error": "User not found"}]})
    );
    assert_eq!(
        last_notes(&server).await,
        json!([{"rule": "activity-malformed-member-id",
                "message": format!("'user_ids[1]' ('{NOT_A_UUID}') is not a UUID: listed in failed as \"User not found\""),
                "source": MEMBER_NOTE_SOURCE}])
    );

    // The single-user example relies on nothing inferred.
    let single = send(
        &server,
        Method::POST,
        &path,
        "activity-admin",
        Some(r#"{"user_ids": ["a1d97031-04e2-4907-a249-093f7436207b"]}"#),
    )
    .await;
    assert_eq!(single.json(), json!({"succeeded": [MIKE], "failed": []}));
    assert_eq!(last_notes(&server).await, json!([]));

    // Remove takes the same body and reads it the same way.
    let removed = send(
        &server,
        Method::POST,
        &format!("{path}/remove"),
        "activity-admin",
        Some(MEMBERS_EXAMPLE),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    assert_eq!(
        removed.json(),
        json!({"succeeded": [MIKE], "failed": [{"id": NOT_A_UUID, "error": "User not found"}]})
    );
}

#[tokio::test]
async fn with_malformed_member_ids_reject_a_non_uuid_id_is_a_400() {
    let (server, _dir) = server_with_settings(
        "activity-member-ids",
        json!({"malformed_member_ids": "reject"}),
    )
    .await;
    let path = format!("/departments/{ENGINEERING}/members");
    let answer = send(
        &server,
        Method::POST,
        &path,
        "activity-admin",
        Some(MEMBERS_EXAMPLE),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"error": {"code": "invalid_request", "message": "'user_ids[1]' is not a valid UUID",
                         "details": {"field": "user_ids[1]", "value": NOT_A_UUID}}})
    );
}

#[tokio::test]
async fn messages_taken_from_the_status_tables_are_noted_and_switchable() {
    let server = TestServer::start().await;
    let answer = send(&server, Method::GET, "/users", "nobody", None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["error"]["message"], "Authentication required");
    assert_eq!(
        last_notes(&server).await,
        json!([{"rule": "activity-status-message",
                "message": "the 401 message 'Authentication required' is not a documented body",
                "source": STATUS_NOTE_SOURCE}])
    );
    // A documented body ("Department not found") carries no note.
    let missing = send(
        &server,
        Method::GET,
        "/departments/ffffffff-ffff-4fff-8fff-ffffffffffff",
        "activity-admin",
        None,
    )
    .await;
    assert_eq!(missing.json()["error"]["message"], "Department not found");
    assert_eq!(last_notes(&server).await, json!([]));

    let (server, _dir) = server_with_settings(
        "activity-reasons",
        json!({"status_messages": "reason_phrases"}),
    )
    .await;
    let answer = send(&server, Method::GET, "/users", "nobody", None).await;
    assert_eq!(
        answer.json(),
        json!({"error": {"code": "unauthorized", "message": "Unauthorized", "details": {"reason": "unknown token"}}})
    );
    let user = send(
        &server,
        Method::GET,
        "/users/ffffffff-ffff-4fff-8fff-ffffffffffff",
        "activity-admin",
        None,
    )
    .await;
    assert_eq!(user.json()["error"]["message"], "Not Found");
}

#[tokio::test]
async fn ignored_query_parameters_and_fields_are_noted() {
    let (server, _dir) = server_with_settings(
        "activity-ignored",
        json!({"unknown_query_parameters": "ignore", "unknown_fields": "ignore", "read_only_fields": "ignore"}),
    )
    .await;
    let answer = send(
        &server,
        Method::GET,
        "/users?include_total=true&page_size=1",
        "activity-admin",
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        last_notes(&server).await,
        json!([{"rule": "activity-unknown-query-parameter",
                "message": "the query parameter 'include_total' was ignored",
                "source": "inferred: the list pages (https://api-docs.amm-scalepad.com/users/list) name their parameters and say nothing of others; ignored under settings.unknown_query_parameters: ignore"}])
    );
    let answer = send(
        &server,
        Method::PATCH,
        &format!("/users/{MIKE}"),
        "activity-admin",
        Some(r#"{"nickname": "m", "username": "x"}"#),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        last_notes(&server).await,
        json!([
            {"rule": "activity-unknown-field",
             "message": "the field 'nickname' is not in the vendor's schema and was ignored",
             "source": "inferred: the docs' request tables name every field and say nothing of others; ignored under settings.unknown_fields: ignore"},
            {"rule": "activity-read-only-field",
             "message": "the read-only field 'username' was ignored",
             "source": "inferred: https://api-docs.amm-scalepad.com/users/update lists the fields \"not updatable via API\" without saying what sending one does; ignored under settings.read_only_fields: ignore"}
        ])
    );
}

#[tokio::test]
async fn the_documented_update_user_examples_succeed_without_notes() {
    let server = TestServer::start().await;
    for body in [
        "{\n\"departments\": [\"d1a2b3c4-e5f6-7890-abcd-ef1234567890\"]\n}",
        "{\n\"departments\": [\n\"d1a2b3c4-e5f6-7890-abcd-ef1234567890\",\n\"e2b3c4d5-f6a7-8901-bcde-f12345678901\"\n]\n}",
        "{\n\"departments\": []\n}",
    ] {
        let answer = send(&server, Method::PATCH, &format!("/users/{MIKE}"), "activity-admin", Some(body)).await;
        assert_eq!(answer.status, StatusCode::OK, "{body}: {}", answer.text);
        assert_eq!(last_notes(&server).await, json!([]), "{body}");
    }
}

#[tokio::test]
async fn the_documented_update_department_examples_succeed_without_notes() {
    let server = TestServer::start().await;
    let path = format!("/departments/{ENGINEERING}");
    for (body, name, description) in [
        (
            "{\n\"name\": \"Engineering & DevOps\"\n}",
            json!("Engineering & DevOps"),
            json!("Software development and infrastructure teams"),
        ),
        (
            "{\n\"description\": \"Software development, infrastructure, and DevOps teams\"\n}",
            json!("Engineering & DevOps"),
            json!("Software development, infrastructure, and DevOps teams"),
        ),
        (
            "{\n\"description\": null\n}",
            json!("Engineering & DevOps"),
            Value::Null,
        ),
    ] {
        let answer = send(&server, Method::PATCH, &path, "activity-admin", Some(body)).await;
        assert_eq!(answer.status, StatusCode::OK, "{body}: {}", answer.text);
        let department = answer.json();
        assert_eq!(department["id"], ENGINEERING, "{body}");
        assert_eq!(department["name"], name, "{body}");
        assert_eq!(department["description"], description, "{body}");
        assert_eq!(last_notes(&server).await, json!([]), "{body}");
    }
}
