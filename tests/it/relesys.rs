//! Relesys API v1.3, rule by rule: the update-user page (the seed) and the
//! confirmed facts listed in `docs/vendors/relesys.md`. The list, create
//! and organisation routes are in `tests/relesys_lists.rs`.

use crate::common;

use common::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const USER: &str = "6cd99267-5adf-462d-88a2-6f86b7b2a164";
const DISABLED_USER: &str = "3d7b9f21-6c4e-4a8b-9e0d-5f1a2c3b4d6e";
const PENDING_USER: &str = "f0e1d2c3-b4a5-4697-8877-665544332211";
const BLOCKED_USER: &str = "a9b8c7d6-e5f4-4321-8fed-cba987654321";
const ADMIN_CLIENT: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const READONLY_CLIENT: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

/// The seed's response, verbatim.
const SEED_RESPONSE: &str = r#"{"data":{"id":"6cd99267-5adf-462d-88a2-6f86b7b2a164","url":null,"departmentUrl":null,"status":"Activated","creationDateTime":"2026-03-31T11:00:26.7209011Z","lastModifiedDateTime":"2026-03-31T11:00:26.7209011Z","externalId":"NUA","name":"New User A","userName":"UserNameA","title":"User Title A","dataSource":"RelesysAPI","email":"personalmaila@testmail.com","secondaryEmail":"businessmaila@testmail.com","phoneNumber":{"countryCode":45,"number":"12345678"},"secondaryPhoneNumber":{"countryCode":45,"number":"12345679"},"birthDate":"2002-12-30T00:00:00Z","primaryDepartmentId":"5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5","additionalDepartments":[{"id":"27744bfa-d16b-4a6a-8f9a-8a79351f9c5f","dataSource":"RelesysAPI"}],"userGroups":[{"id":"22360293-0789-4346-ba9a-5609fa65703c","dataSource":"RelesysAPI"},{"id":"d7acaa63-ea93-4b39-a868-22bea4e7d625","dataSource":"RelesysAPI"}],"employmentDate":"2018-12-30T13:30:00Z","employmentEndDate":"2021-12-30T13:30:00Z","customFields":{"customfieldone":"Custom field 1"},"employmentType":"Full-time manager"}}"#;

/// The seed's example request body, verbatim.
const SEED_PATCH: &str = r#"[{"value":"My patched name","path":"/name","op":"add"},{"value":{"countryCode":45,"number":"11223344"},"path":"/phoneNumber","op":"replace"},{"path":"/title","op":"remove"},{"value":{"customfieldone":"Custom field 1","customfieldtwo":"Custom field 2"},"path":"/customFields","op":"add"}]"#;

const WRITE_SCOPES_MESSAGE: &str = "Insufficient scope for this endpoint. Accepted scopes: relesys.api, relesys.api:write, relesys.api.users, relesys.api.users:write";

/// The 403 of a write route: the message and the accepted scopes as data.
fn write_scopes_403() -> Value {
    json!({
        "errorCode": "403",
        "message": WRITE_SCOPES_MESSAGE,
        "acceptedScopes": ["relesys.api", "relesys.api:write", "relesys.api.users", "relesys.api.users:write"]
    })
}

/// The default fixture with `from` replaced by `to` (which must occur).
fn edited_fixture(from: &str, to: &str) -> String {
    let fixture =
        std::fs::read_to_string(common::repo_fixtures().join("relesys.json")).expect("fixture");
    assert!(fixture.contains(from), "the fixture no longer holds {from}");
    fixture.replace(from, to)
}

async fn server_with_fixture(tag: &str, fixture: &str) -> (TestServer, common::TempDir) {
    let dir = common::TempDir::new(tag);
    dir.write("relesys.json", fixture);
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    (server, dir)
}

fn user_path(id: &str) -> String {
    format!("/relesys/api/v1.3/users/{id}")
}

async fn patch_as(server: &TestServer, token: &str, id: &str, body: &str) -> Reply {
    let request = server
        .request(Method::PATCH, &user_path(id))
        .bearer_auth(token)
        .header("content-type", "application/json-patch+json")
        .body(body.to_owned());
    server.send(request).await
}

async fn patch(server: &TestServer, id: &str, body: Value) -> Reply {
    patch_as(server, "relesys-admin", id, &body.to_string()).await
}

async fn get_as(server: &TestServer, token: &str, id: &str) -> Reply {
    server
        .send(
            server
                .request(Method::GET, &user_path(id))
                .bearer_auth(token),
        )
        .await
}

async fn get(server: &TestServer, id: &str) -> Reply {
    get_as(server, "relesys-admin", id).await
}

fn seed_user() -> Value {
    serde_json::from_str::<Value>(SEED_RESPONSE).expect("seed")["data"].clone()
}

fn error(code: u16, message: &str) -> Value {
    json!({"errorCode": code.to_string(), "message": message})
}

/// Asserts a 200 whose user equals `expected` but for a fresh
/// `lastModifiedDateTime`, which is returned.
fn assert_patched(answer: &Reply, mut expected: Value) -> String {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    let stamp = body["data"]["lastModifiedDateTime"]
        .as_str()
        .expect("stamp")
        .to_owned();
    assert_eq!(stamp.len(), 28, "7 fractional digits: {stamp}");
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[19] == b'.',
        "{stamp}"
    );
    expected["lastModifiedDateTime"] = json!(stamp);
    assert_eq!(body, json!({ "data": expected }));
    stamp
}

async fn assert_400(server: &TestServer, id: &str, body: Value, message: &str) {
    let before = get(server, id).await.text;
    let answer = patch(server, id, body.clone()).await;
    assert_eq!(
        answer.status,
        StatusCode::BAD_REQUEST,
        "{body}: {}",
        answer.text
    );
    assert_eq!(answer.json(), error(400, message), "{body}");
    assert_eq!(
        get(server, id).await.text,
        before,
        "a rejected patch changed the user: {body}"
    );
}

async fn token_for(server: &TestServer, client_id: &str, secret: &str, scope: &str) -> Reply {
    let request = server
        .request(Method::POST, "/relesys/login/oauth/authorize")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={client_id}&client_secret={secret}&scope={}",
            scope.replace(' ', "+").replace(':', "%3A")
        ));
    server.send(request).await
}

async fn admin_token(server: &TestServer, scope: &str) -> String {
    let answer = token_for(server, ADMIN_CLIENT, "relesys-admin-secret", scope).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

// ------------------------------------------------------------ the example --

#[tokio::test]
async fn the_seed_user_reads_back_byte_for_byte_as_the_seed_response() {
    let server = TestServer::start().await;
    let answer = get(&server, USER).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text, SEED_RESPONSE);
    assert_eq!(
        answer.header("content-type"),
        Some("application/json; charset=utf-8")
    );
}

#[tokio::test]
async fn the_seed_example_patch_returns_the_documented_shape_with_its_changes() {
    let server = TestServer::start().await;
    let answer = patch_as(&server, "relesys-admin", USER, SEED_PATCH).await;
    let mut expected = seed_user();
    expected["name"] = json!("My patched name");
    expected["phoneNumber"] = json!({"countryCode": 45, "number": "11223344"});
    expected["title"] = Value::Null;
    // Both of the docs' custom fields are defined in the tenant and kept
    // (the seed's response is a generic sample, not this patch's result).
    expected["customFields"] =
        json!({"customfieldone": "Custom field 1", "customfieldtwo": "Custom field 2"});
    assert_patched(&answer, expected.clone());
    let stored = get(&server, USER).await.json();
    assert_eq!(stored["data"]["name"], "My patched name");
    assert_eq!(stored["data"]["title"], Value::Null);
}

#[tokio::test]
async fn the_real_host_reaches_relesys_without_the_prefix() {
    let server = TestServer::start().await;
    let request = server
        .request(Method::GET, &format!("/api/v1.3/users/{USER}"))
        .header("host", "api.relesysapp.net")
        .bearer_auth("relesys-admin");
    assert_eq!(server.send(request).await.text, SEED_RESPONSE);
}

// ---------------------------------------------------- the six operations --

#[tokio::test]
async fn add_appends_to_a_list_and_fills_the_default_data_source() {
    let server = TestServer::start().await;
    let group = "e4d3c2b1-a098-4f7e-8d6c-5b4a39281706";
    let answer = patch(
        &server,
        USER,
        json!([{"op": "add", "path": "/userGroups/-", "value": {"id": group}}]),
    )
    .await;
    let mut expected = seed_user();
    expected["userGroups"]
        .as_array_mut()
        .expect("list")
        .push(json!({"id": group, "dataSource": "RelesysAPI"}));
    assert_patched(&answer, expected);
}

#[tokio::test]
async fn remove_deletes_a_list_entry_or_clears_a_member_to_null() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        USER,
        json!([{"op": "remove", "path": "/additionalDepartments/0"}, {"op": "remove", "path": "/secondaryPhoneNumber"}]),
    )
    .await;
    let mut expected = seed_user();
    expected["additionalDepartments"] = json!([]);
    expected["secondaryPhoneNumber"] = Value::Null;
    assert_patched(&answer, expected);
}

#[tokio::test]
async fn replace_sets_nested_members() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        USER,
        json!([{"op": "replace", "path": "/phoneNumber/number", "value": "99887766"}, {"op": "replace", "path": "/externalId", "value": "EXT-9"}]),
    )
    .await;
    let mut expected = seed_user();
    expected["phoneNumber"]["number"] = json!("99887766");
    expected["externalId"] = json!("EXT-9");
    assert_patched(&answer, expected);
}

#[tokio::test]
async fn move_takes_a_value_from_one_member_to_another() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        USER,
        json!([{"op": "move", "from": "/title", "path": "/employmentType"}]),
    )
    .await;
    let mut expected = seed_user();
    expected["employmentType"] = json!("User Title A");
    expected["title"] = Value::Null;
    assert_patched(&answer, expected);
}

#[tokio::test]
async fn copy_duplicates_a_value_even_from_a_read_only_member() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        USER,
        json!([{"op": "copy", "from": "/email", "path": "/secondaryEmail"}, {"op": "copy", "from": "/id", "path": "/externalId"}]),
    )
    .await;
    let mut expected = seed_user();
    expected["secondaryEmail"] = json!("personalmaila@testmail.com");
    expected["externalId"] = json!(USER);
    assert_patched(&answer, expected);
}

#[tokio::test]
async fn test_guards_a_patch_and_a_failed_test_changes_nothing() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        USER,
        json!([{"op": "test", "path": "/name", "value": "New User A"}, {"op": "replace", "path": "/name", "value": "Guarded"}]),
    )
    .await;
    let mut expected = seed_user();
    expected["name"] = json!("Guarded");
    assert_patched(&answer, expected);

    assert_400(
        &server,
        USER,
        json!([{"op": "test", "path": "/name", "value": "New User A"}, {"op": "replace", "path": "/name", "value": "Nope"}]),
        "Operation 0 (test /name): value did not match",
    )
    .await;
}

#[tokio::test]
async fn a_failing_last_operation_leaves_the_user_byte_for_byte_unchanged() {
    let server = TestServer::start().await;
    assert_400(
        &server,
        USER,
        json!([
            {"op": "replace", "path": "/name", "value": "Changed"},
            {"op": "remove", "path": "/additionalDepartments/0"},
            {"op": "remove", "path": "/additionalDepartments/5"}
        ]),
        "Operation 2 (remove /additionalDepartments/5): path is invalid",
    )
    .await;
    assert_eq!(get(&server, USER).await.text, SEED_RESPONSE);
}

#[tokio::test]
async fn an_empty_patch_changes_nothing_but_the_modification_time() {
    let server = TestServer::start().await;
    assert_patched(&patch(&server, USER, json!([])).await, seed_user());
}

// ----------------------------------------------------- read-only members --

#[tokio::test]
async fn every_read_only_member_rejects_every_writing_operation() {
    let server = TestServer::start().await;
    for member in [
        "id",
        "url",
        "departmentUrl",
        "creationDateTime",
        "lastModifiedDateTime",
    ] {
        for (op, body) in [
            (
                "replace",
                json!([{"op": "replace", "path": format!("/{member}"), "value": "x"}]),
            ),
            (
                "add",
                json!([{"op": "add", "path": format!("/{member}"), "value": "x"}]),
            ),
            (
                "remove",
                json!([{"op": "remove", "path": format!("/{member}")}]),
            ),
        ] {
            assert_400(
                &server,
                USER,
                body,
                &format!("Operation 0 ({op} /{member}): '/{member}' is read-only"),
            )
            .await;
        }
        // Moving a read-only member away removes it: also rejected.
        assert_400(
            &server,
            USER,
            json!([{"op": "move", "from": format!("/{member}"), "path": "/externalId"}]),
            &format!("Operation 0 (move /externalId): '/{member}' is read-only"),
        )
        .await;
        // Reading one in a test is fine.
        let answer = patch(
            &server,
            USER,
            json!([{"op": "test", "path": "/id", "value": USER}]),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn the_whole_user_cannot_be_replaced() {
    let server = TestServer::start().await;
    assert_400(
        &server,
        USER,
        json!([{"op": "replace", "path": "", "value": {}}]),
        "Operation 0 (replace ): the whole user cannot be replaced; patch its members",
    )
    .await;
}

// ------------------------------------------------------ types and values --

#[tokio::test]
async fn typed_members_keep_their_types() {
    let server = TestServer::start().await;
    for (body, message) in [
        (
            json!([{"op": "replace", "path": "/phoneNumber/countryCode", "value": "45"}]),
            "Operation 0 (replace /phoneNumber/countryCode): /phoneNumber/countryCode: invalid type: string \"45\", expected i32",
        ),
        (
            json!([{"op": "replace", "path": "/name", "value": 7}]),
            "Operation 0 (replace /name): /name: invalid type: integer `7`, expected a string",
        ),
        (
            json!([{"op": "add", "path": "/customFields/shoesize", "value": 42}]),
            "Operation 0 (add /customFields/shoesize): /customFields/shoesize: invalid type: integer `42`, expected a string",
        ),
        (
            // The status is not the PATCH's to change (the public client
            // uses PUT /users/{id}/status); its type check is tested there.
            json!([{"op": "replace", "path": "/status", "value": "Deleted"}]),
            "Operation 0 (replace /status): '/status' is changed with PUT /users/{userId}/status, not by PATCH",
        ),
        (
            json!([{"op": "replace", "path": "/userGroups", "value": {}}]),
            "Operation 0 (replace /userGroups): /userGroups: invalid type: map, expected a sequence",
        ),
        (
            json!([{"op": "add", "path": "/phoneNumber/extension", "value": "12"}]),
            "Operation 0 (add /phoneNumber/extension): /phoneNumber/extension: unknown field `extension`, expected `countryCode` or `number`",
        ),
        (
            json!([{"op": "remove", "path": "/name"}]),
            "Operation 0 (remove /name): /name: missing field `name`",
        ),
        (
            json!([{"op": "add", "path": "/nickname", "value": "Al"}]),
            "Operation 0 (add /nickname): '/nickname' is not a member of a user",
        ),
    ] {
        assert_400(&server, USER, body, message).await;
    }
}

#[tokio::test]
async fn dates_must_be_dates_and_come_back_in_the_vendors_form() {
    let server = TestServer::start().await;
    assert_400(
        &server,
        USER,
        json!([{"op": "replace", "path": "/birthDate", "value": "30/12/2002"}]),
        "Operation 0 (replace /birthDate): /birthDate: '30/12/2002' is not a datetime",
    )
    .await;
    let answer = patch(
        &server,
        USER,
        json!([
            {"op": "replace", "path": "/birthDate", "value": "1990-05-01"},
            {"op": "replace", "path": "/employmentDate", "value": "2019-01-01T09:00:00+01:00"}
        ]),
    )
    .await;
    let mut expected = seed_user();
    expected["birthDate"] = json!("1990-05-01T00:00:00Z");
    expected["employmentDate"] = json!("2019-01-01T08:00:00Z");
    assert_patched(&answer, expected);
}

#[tokio::test]
async fn ids_must_be_guids_of_existing_departments_and_groups() {
    let server = TestServer::start().await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    for (body, message) in [
        (
            json!([{"op": "replace", "path": "/primaryDepartmentId", "value": unknown}]),
            format!("Operation 0 (replace /primaryDepartmentId): /primaryDepartmentId: no department has id '{unknown}'"),
        ),
        (
            json!([{"op": "replace", "path": "/primaryDepartmentId", "value": "head-office"}]),
            "Operation 0 (replace /primaryDepartmentId): /primaryDepartmentId: no department has id 'head-office'".to_owned(),
        ),
        (
            json!([{"op": "add", "path": "/additionalDepartments/-", "value": {"id": unknown}}]),
            format!("Operation 0 (add /additionalDepartments/-): /additionalDepartments/1/id: no department has id '{unknown}'"),
        ),
        (
            json!([{"op": "add", "path": "/userGroups/-", "value": {"id": "22360293-0789-4346-ba9a-5609fa65703c"}}]),
            "Operation 0 (add /userGroups/-): /userGroups/2/id: user group '22360293-0789-4346-ba9a-5609fa65703c' is listed twice".to_owned(),
        ),
        (
            json!([{"op": "replace", "path": "/email", "value": "not-an-address"}]),
            "Operation 0 (replace /email): /email: 'not-an-address' is not an e-mail address".to_owned(),
        ),
        (
            json!([{"op": "replace", "path": "/phoneNumber/number", "value": "12 34"}]),
            "Operation 0 (replace /phoneNumber/number): /phoneNumber/number: '12 34' is not a phone number (digits only)".to_owned(),
        ),
    ] {
        assert_400(&server, USER, body, &message).await;
    }
}

#[tokio::test]
async fn an_undefined_custom_field_key_is_refused_with_a_400_naming_it() {
    let server = TestServer::start().await;
    assert_400(
        &server,
        USER,
        json!([{"op": "add", "path": "/customFields/shoesize", "value": "42"}, {"op": "add", "path": "/customFields/favouritecolour", "value": "green"}]),
        "Operation 1 (add /customFields/favouritecolour): /customFields/favouritecolour: no custom field has key 'favouritecolour'",
    )
    .await;
    assert_400(
        &server,
        USER,
        json!([{"op": "replace", "path": "/customFields", "value": {"customfieldone": "a", "CustomFieldTwo": "b"}}]),
        "Operation 0 (replace /customFields): /customFields/CustomFieldTwo: no custom field has key 'CustomFieldTwo'",
    )
    .await;
}

#[tokio::test]
async fn defined_custom_field_keys_are_kept_and_replacing_the_dictionary_replaces_it_whole() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        USER,
        json!([{"op": "add", "path": "/customFields/shoesize", "value": "42"}]),
    )
    .await;
    let mut expected = seed_user();
    expected["customFields"] = json!({"customfieldone": "Custom field 1", "shoesize": "42"});
    assert_patched(&answer, expected);
    // RFC 6902: `replace` (or `add`) of the member sets the whole value.
    let answer = patch(
        &server,
        USER,
        json!([{"op": "replace", "path": "/customFields", "value": {"customfieldtwo": "only"}}]),
    )
    .await;
    let mut expected = seed_user();
    expected["customFields"] = json!({"customfieldtwo": "only"});
    assert_patched(&answer, expected);
}

#[tokio::test]
async fn with_unknown_custom_fields_drop_an_undefined_key_is_dropped_as_opted_in() {
    let fixture = edited_fixture(
        "\"unknown_custom_fields\": \"reject\"",
        "\"unknown_custom_fields\": \"drop\"",
    );
    let (server, _dir) = server_with_fixture("relesys-drop-custom", &fixture).await;
    let answer = patch(
        &server,
        USER,
        json!([{"op": "add", "path": "/customFields/favouritecolour", "value": "green"}]),
    )
    .await;
    assert_patched(&answer, seed_user());
    // The drop is the mock's reading, and the journal says so.
    let journal = server
        .send(server.request(Method::GET, "/__admin/requests?vendor=relesys"))
        .await
        .json();
    assert_eq!(
        journal["requests"][0]["notes"],
        json!([{
            "rule": "relesys-custom-field-dropped",
            "message": "the custom field 'favouritecolour' is not defined by the tenant and was dropped",
            "source": "inferred: https://api.relesysapp.net/docs/latest/endpoint/users-post-createuser keys customFields by the fields' externalId and says nothing of others; dropped under settings.unknown_custom_fields: drop"
        }])
    );
}

// ------------------------------------------------------------ the request --

#[tokio::test]
async fn a_body_that_is_not_a_patch_document_is_a_400() {
    let server = TestServer::start().await;
    for (body, message) in [
        ("", "The request body must be a JSON Patch document (a JSON array)"),
        (r#"{"name": "x"}"#, "The request body must be a JSON Patch document (a JSON array)"),
        (
            r#"[{"op": "replace", "path": "/name"}]"#,
            "Operation 0 is not a valid JSON Patch operation: missing field `value`",
        ),
        (
            r#"[{"op": "rename", "path": "/name", "value": "x"}]"#,
            "Operation 0 is not a valid JSON Patch operation: unknown variant `rename`, expected one of `add`, `remove`, `replace`, `move`, `copy`, `test`",
        ),
        (
            r#"[{"op": "test", "path": "/name", "value": "New User A"}, {"op": "copy", "path": "/title"}]"#,
            "Operation 1 is not a valid JSON Patch operation: missing field `from`",
        ),
    ] {
        let answer = patch_as(&server, "relesys-admin", USER, body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.json(), error(400, message), "{body}");
    }
    let answer = patch_as(&server, "relesys-admin", USER, "[{").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.json()["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("The request body is not valid JSON"));
}

#[tokio::test]
async fn json_patch_and_plain_json_are_accepted_and_other_types_get_415() {
    let server = TestServer::start().await;
    for content_type in [
        "application/json-patch+json",
        "application/json",
        "application/json; charset=utf-8",
    ] {
        let request = server
            .request(Method::PATCH, &user_path(USER))
            .bearer_auth("relesys-admin")
            .header("content-type", content_type)
            .body("[]");
        assert_eq!(
            server.send(request).await.status,
            StatusCode::OK,
            "{content_type}"
        );
    }
    let request = server
        .request(Method::PATCH, &user_path(USER))
        .bearer_auth("relesys-admin")
        .header("content-type", "text/plain")
        .body("[]");
    let answer = server.send(request).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        answer.json(),
        error(
            415,
            "Unsupported content type 'text/plain'; send application/json-patch+json"
        )
    );
}

#[tokio::test]
async fn a_malformed_user_id_is_a_400_and_an_unknown_one_a_404() {
    let server = TestServer::start().await;
    let answer = get(&server, "6cd99267").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        error(400, "The value '6cd99267' is not a valid GUID for userId")
    );
    let unknown = "00000000-0000-4000-8000-000000000000";
    for answer in [
        get(&server, unknown).await,
        patch(&server, unknown, json!([])).await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(
            answer.json(),
            error(404, &format!("The user '{unknown}' was not found"))
        );
    }
}

#[tokio::test]
async fn last_modified_moves_on_every_write_never_back_nor_ahead_of_now() {
    let server = TestServer::start().await;
    let mut previous = String::from("2026-03-31T11:00:26.7209011Z");
    for i in 0..5 {
        let answer = patch(
            &server,
            USER,
            json!([{"op": "replace", "path": "/title", "value": format!("T{i}")}]),
        )
        .await;
        let mut expected = seed_user();
        expected["title"] = json!(format!("T{i}"));
        let stamp = assert_patched(&answer, expected);
        // Never backwards, never ahead of the clock (equal within a tick).
        assert!(stamp >= previous, "{stamp} < {previous}");
        let at =
            time::OffsetDateTime::parse(&stamp, &time::format_description::well_known::Rfc3339)
                .expect("RFC 3339");
        assert!(
            at <= time::OffsetDateTime::now_utc(),
            "{stamp} is ahead of now"
        );
        previous = stamp;
    }
}

// ---------------------------------------------------------- scopes and auth --

#[tokio::test]
async fn no_or_unknown_token_is_a_401() {
    let server = TestServer::start().await;
    let answer = server
        .send(server.request(Method::GET, &user_path(USER)))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        answer.json(),
        error(
            401,
            "Authorization has been denied for this request: missing bearer token"
        )
    );
    let answer = patch_as(&server, "relesys-nobody", USER, "[]").await;
    assert_eq!(
        answer.json(),
        error(
            401,
            "Authorization has been denied for this request: unknown token"
        )
    );
}

#[tokio::test]
async fn a_read_only_token_reads_but_gets_403_naming_the_write_scopes() {
    let server = TestServer::start().await;
    assert_eq!(
        get_as(&server, "relesys-readonly", USER).await.text,
        SEED_RESPONSE
    );
    let answer = patch_as(&server, "relesys-readonly", USER, SEED_PATCH).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json(), write_scopes_403());
    assert_eq!(get(&server, USER).await.text, SEED_RESPONSE);
}

/// A server whose fixture adds one static token per single scope, named
/// `only-<scope>`.
async fn server_with_single_scope_tokens() -> (TestServer, common::TempDir) {
    let dir = common::TempDir::new("relesys-scopes");
    let mut fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_fixtures().join("relesys.json")).expect("fixture"),
    )
    .expect("json");
    for scope in [
        "relesys.api",
        "relesys.api:write",
        "relesys.api.users",
        "relesys.api.users:write",
        "relesys.api:read",
        "relesys.api.users:read",
    ] {
        fixture["tokens"].as_array_mut().expect("tokens").push(
            json!({"token": format!("only-{scope}"), "client_id": ADMIN_CLIENT, "scopes": [scope]}),
        );
    }
    dir.write("relesys.json", &fixture.to_string());
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    (server, dir)
}

#[tokio::test]
async fn each_of_the_four_write_scopes_alone_allows_patch() {
    let (server, _dir) = server_with_single_scope_tokens().await;
    for scope in [
        "relesys.api",
        "relesys.api:write",
        "relesys.api.users",
        "relesys.api.users:write",
    ] {
        let answer = patch_as(&server, &format!("only-{scope}"), USER, "[]").await;
        assert_eq!(answer.status, StatusCode::OK, "{scope}: {}", answer.text);
    }
    for scope in ["relesys.api:read", "relesys.api.users:read"] {
        let token = format!("only-{scope}");
        assert_eq!(
            patch_as(&server, &token, USER, "[]").await.status,
            StatusCode::FORBIDDEN,
            "{scope}"
        );
        assert_eq!(
            get_as(&server, &token, USER).await.status,
            StatusCode::OK,
            "{scope}"
        );
    }
    // A write-only scope does not read; the read-and-write ones do.
    for scope in ["relesys.api", "relesys.api.users"] {
        assert_eq!(
            get_as(&server, &format!("only-{scope}"), USER).await.status,
            StatusCode::OK,
            "{scope}"
        );
    }
    let answer = get_as(&server, "only-relesys.api.users:write", USER).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.json(),
        json!({
            "errorCode": "403",
            "message": "Insufficient scope for this endpoint. Accepted scopes: relesys.api, relesys.api:read, relesys.api.users, relesys.api.users:read",
            "acceptedScopes": ["relesys.api", "relesys.api:read", "relesys.api.users", "relesys.api.users:read"]
        })
    );
}

#[tokio::test]
async fn a_token_carries_only_the_requested_scopes_so_a_read_scope_cannot_patch() {
    let server = TestServer::start().await;
    // The admin client may write, but asked only for a read scope.
    let token = admin_token(&server, "relesys.api.users:read").await;
    assert_eq!(get_as(&server, &token, USER).await.text, SEED_RESPONSE);
    let answer = patch_as(&server, &token, USER, "[]").await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json(), write_scopes_403());
    assert_eq!(get(&server, USER).await.text, SEED_RESPONSE);
    // Asking for a write scope, it writes.
    let token = admin_token(&server, "relesys.api.users").await;
    assert_eq!(
        patch_as(&server, &token, USER, "[]").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_requested_scope_the_client_lacks_is_invalid_scope() {
    let server = TestServer::start().await;
    // The read-only client asks for `relesys.api` (as the docs' example
    // does), which it is not allowed: no token at all.
    let answer = token_for(
        &server,
        READONLY_CLIENT,
        "relesys-readonly-secret",
        "relesys.api.users:read relesys.api",
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"error": "invalid_scope", "error_description": "The client is not allowed the scope 'relesys.api'"})
    );
    // What it is allowed, it gets.
    let answer = token_for(
        &server,
        READONLY_CLIENT,
        "relesys-readonly-secret",
        "relesys.api.users:read",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

#[tokio::test]
async fn the_token_endpoint_issues_the_documented_response() {
    let server = TestServer::start().await;
    let answer = token_for(
        &server,
        ADMIN_CLIENT,
        "relesys-admin-secret",
        "relesys.api.users",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    let token = body["access_token"].as_str().expect("token").to_owned();
    assert!(!token.is_empty());
    assert_eq!(
        body,
        json!({"access_token": token, "expires_in": "3600", "token_type": "Bearer"})
    );
    assert!(
        answer.text.starts_with(r#"{"access_token":"#),
        "documented member order: {}",
        answer.text
    );
    assert_eq!(get_as(&server, &token, USER).await.text, SEED_RESPONSE);
    // Several scopes, space-separated.
    let token = admin_token(&server, "relesys.api:read relesys.api.users:write").await;
    assert_eq!(
        patch_as(&server, &token, USER, "[]").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_token_endpoint_answers_oauth_errors() {
    let server = TestServer::start().await;
    let cases = [
        (
            "grant_type=client_credentials&client_id=0f8fad5b-d9cb-469f-a165-70867728950e&client_secret=wrong&scope=relesys.api",
            json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
        ),
        (
            "grant_type=client_credentials&client_id=00000000-0000-4000-8000-000000000000&client_secret=x&scope=relesys.api",
            json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
        ),
        (
            "grant_type=password&client_id=0f8fad5b-d9cb-469f-a165-70867728950e&client_secret=relesys-admin-secret&scope=relesys.api",
            json!({"error": "unsupported_grant_type", "error_description": "Grant type 'password' is not supported; use client_credentials"}),
        ),
        (
            "grant_type=client_credentials&client_id=7c9e6679-7425-40de-944b-e07fc1f90ae7&client_secret=relesys-readonly-secret&scope=relesys.admin",
            json!({"error": "invalid_scope", "error_description": "'relesys.admin' is not a Relesys scope"}),
        ),
        (
            "grant_type=client_credentials&client_id=0f8fad5b-d9cb-469f-a165-70867728950e&client_secret=relesys-admin-secret",
            json!({"error": "invalid_request", "error_description": "The scope parameter is required"}),
        ),
        (
            "client_id=0f8fad5b-d9cb-469f-a165-70867728950e&client_secret=relesys-admin-secret&scope=relesys.api",
            json!({"error": "invalid_request", "error_description": "The grant_type parameter is required"}),
        ),
        (
            "grant_type=client_credentials&client_secret=relesys-admin-secret&scope=relesys.api",
            json!({"error": "invalid_request", "error_description": "The client_id parameter is required"}),
        ),
        (
            "grant_type=client_credentials&client_id=0f8fad5b-d9cb-469f-a165-70867728950e&scope=relesys.api",
            json!({"error": "invalid_request", "error_description": "The client_secret parameter is required"}),
        ),
    ];
    for (form, expected) in cases {
        let request = server
            .request(Method::POST, "/relesys/login/oauth/authorize")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        let answer = server.send(request).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{form}");
        assert_eq!(answer.json(), expected, "{form}");
    }
    let answer = server
        .send(server.request(Method::GET, "/relesys/login/oauth/authorize"))
        .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.header("allow"), Some("POST"));
}

#[tokio::test]
async fn issued_tokens_expire() {
    let dir = common::TempDir::new("relesys-expiry");
    let fixture = std::fs::read_to_string(common::repo_fixtures().join("relesys.json"))
        .expect("fixture")
        .replace(
            "\"token_lifetime_seconds\": 3600",
            "\"token_lifetime_seconds\": 1",
        );
    dir.write("relesys.json", &fixture);
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    let answer = token_for(&server, ADMIN_CLIENT, "relesys-admin-secret", "relesys.api").await;
    assert_eq!(answer.json()["expires_in"], "1");
    let token = answer.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(get_as(&server, &token, USER).await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let answer = get_as(&server, &token, USER).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.json(),
        error(
            401,
            "Authorization has been denied for this request: token expired"
        )
    );
}

// ------------------------------------------------------------ rate limit --

#[tokio::test]
async fn the_rate_limit_is_off_by_default() {
    let server = TestServer::start().await;
    for _ in 0..120 {
        assert_eq!(get(&server, USER).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn when_switched_on_the_101st_request_in_a_minute_gets_the_documented_429() {
    let server = TestServer::start_with(usermock::Options {
        rate_limit: vec!["relesys".to_owned()],
        ..usermock::Options::default()
    })
    .await;
    for i in 0..100 {
        let answer = if i % 2 == 0 {
            get(&server, USER).await
        } else {
            patch(&server, USER, json!([])).await
        };
        assert_eq!(answer.status, StatusCode::OK, "request {i}");
    }
    let answer = get(&server, USER).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        answer.text,
        r#"{"errorCode":"429","message":"Request quota exceeded. A maximum of 100 requests are allowed per minute"}"#
    );
    assert_eq!(answer.text.len(), 104, "the documented Content-Length");
    let retry_after: u64 = answer
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry_after), "{retry_after}");

    // Per client: the read-only client has its own quota.
    assert_eq!(
        get_as(&server, "relesys-readonly", USER).await.status,
        StatusCode::OK
    );
    // A reset clears the counters.
    server
        .send(server.request(Method::POST, "/__admin/reset"))
        .await;
    assert_eq!(get(&server, USER).await.status, StatusCode::OK);
}

// ---------------------------------------------------------- status rules --

#[tokio::test]
async fn with_patch_status_allow_status_changes_by_patch_follow_the_inferred_rules() {
    let fixture = edited_fixture(
        "\"patch_status\": \"reject\"",
        "\"patch_status\": \"allow\"",
    );
    let (server, _dir) = server_with_fixture("relesys-patch-status", &fixture).await;
    // A Disabled user can be edited and stays Disabled.
    let answer = patch(
        &server,
        DISABLED_USER,
        json!([{"op": "replace", "path": "/title", "value": "Alumni"}]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["data"]["status"], "Disabled");
    // Disabled → Activated and back.
    for status in ["Activated", "Disabled"] {
        let answer = patch(
            &server,
            DISABLED_USER,
            json!([{"op": "replace", "path": "/status", "value": status}]),
        )
        .await;
        assert_eq!(answer.json()["data"]["status"], status);
    }
    // LoginBlocked → Activated unblocks.
    let answer = patch(
        &server,
        BLOCKED_USER,
        json!([{"op": "replace", "path": "/status", "value": "Activated"}]),
    )
    .await;
    assert_eq!(answer.json()["data"]["status"], "Activated");
    // Pending → Disabled is allowed, Pending → Activated is not.
    assert_400(
        &server,
        PENDING_USER,
        json!([{"op": "replace", "path": "/status", "value": "Activated"}]),
        "Operation 0 (replace /status): /status: a Pending user becomes Activated by accepting the invitation",
    )
    .await;
    let answer = patch(
        &server,
        PENDING_USER,
        json!([{"op": "replace", "path": "/status", "value": "Disabled"}]),
    )
    .await;
    assert_eq!(answer.json()["data"]["status"], "Disabled");
    // Pending and LoginBlocked are the system's to set.
    for status in ["Pending", "LoginBlocked"] {
        assert_400(
            &server,
            USER,
            json!([{"op": "replace", "path": "/status", "value": status}]),
            &format!("Operation 0 (replace /status): /status: the status '{status}' is set by Relesys, not through the API"),
        )
        .await;
    }
}

#[tokio::test]
async fn checks_run_in_order_auth_then_shape_then_scope_then_existence() {
    let server = TestServer::start().await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    // 401 beats 400.
    assert_eq!(
        patch_as(&server, "bogus", "not-a-guid", "nope")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // 400 beats 403.
    assert_eq!(
        patch_as(&server, "relesys-readonly", USER, "nope")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // 403 beats 404.
    assert_eq!(
        patch_as(&server, "relesys-readonly", unknown, "[]")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // 404 beats the patch's own 400.
    let answer = patch(
        &server,
        unknown,
        json!([{"op": "remove", "path": "/nothing"}]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

// ------------------------------------------- .NET semantics of the patch --

#[tokio::test]
async fn dates_in_the_forms_dotnet_reads_are_accepted_including_mm_dd_yyyy() {
    let server = TestServer::start().await;
    // `getsno/relesys-users` sends `m-d-Y`: 02-05-1991 is 5 February 1991.
    for (sent, birth) in [
        ("02-05-1991", "1991-02-05T00:00:00Z"),
        ("02/05/1991", "1991-02-05T00:00:00Z"),
        ("1991/02/05", "1991-02-05T00:00:00Z"),
        ("1991-02-05T10:00:00", "1991-02-05T00:00:00Z"),
    ] {
        let answer = patch(
            &server,
            USER,
            json!([
                {"op": "replace", "path": "/birthDate", "value": sent},
                {"op": "replace", "path": "/employmentDate", "value": sent}
            ]),
        )
        .await;
        let mut expected = seed_user();
        expected["birthDate"] = json!(birth);
        expected["employmentDate"] = json!(if sent.contains('T') {
            "1991-02-05T10:00:00Z"
        } else {
            birth
        });
        assert_patched(&answer, expected);
    }
    assert_400(
        &server,
        USER,
        json!([{"op": "replace", "path": "/employmentEndDate", "value": "13-01-2000"}]),
        "Operation 0 (replace /employmentEndDate): /employmentEndDate: '13-01-2000' is not a datetime",
    )
    .await;
}

#[tokio::test]
async fn patch_paths_match_member_names_case_insensitively() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        USER,
        json!([
            {"op": "replace", "path": "/Name", "value": "Cased"},
            {"op": "replace", "path": "/PHONENUMBER/countrycode", "value": 46},
            {"op": "replace", "path": "/userGroups/0/DataSource", "value": "Import"}
        ]),
    )
    .await;
    let mut expected = seed_user();
    expected["name"] = json!("Cased");
    expected["phoneNumber"]["countryCode"] = json!(46);
    expected["userGroups"][0]["dataSource"] = json!("Import");
    assert_patched(&answer, expected);
    // Read-only members stay read-only however they are spelled.
    assert_400(
        &server,
        USER,
        json!([{"op": "replace", "path": "/ID", "value": "x"}]),
        "Operation 0 (replace /id): '/id' is read-only",
    )
    .await;
}

#[tokio::test]
async fn operations_see_the_effect_of_earlier_ones_in_the_same_patch() {
    let server = TestServer::start().await;
    for second in ["add", "replace"] {
        let answer = patch(
            &server,
            USER,
            json!([
                {"op": "remove", "path": "/title"},
                {"op": second, "path": "/title", "value": "Back"}
            ]),
        )
        .await;
        let mut expected = seed_user();
        expected["title"] = json!("Back");
        assert_patched(&answer, expected);
    }
    let answer = patch(
        &server,
        USER,
        json!([
            {"op": "replace", "path": "/title", "value": "First"},
            {"op": "test", "path": "/title", "value": "First"},
            {"op": "copy", "from": "/title", "path": "/employmentType"}
        ]),
    )
    .await;
    let mut expected = seed_user();
    expected["title"] = json!("First");
    expected["employmentType"] = json!("First");
    assert_patched(&answer, expected);
}

#[tokio::test]
async fn a_removed_or_moved_away_member_is_null_to_the_very_next_operation() {
    let server = TestServer::start().await;
    let answer = patch(
        &server,
        USER,
        json!([
            {"op": "remove", "path": "/title"},
            {"op": "test", "path": "/title", "value": null},
            {"op": "copy", "from": "/title", "path": "/employmentType"},
            {"op": "move", "from": "/externalId", "path": "/userName"},
            {"op": "test", "path": "/externalId", "value": null},
            {"op": "copy", "from": "/externalId", "path": "/dataSource"}
        ]),
    )
    .await;
    let mut expected = seed_user();
    expected["title"] = Value::Null;
    expected["employmentType"] = Value::Null;
    expected["userName"] = json!("NUA");
    expected["externalId"] = Value::Null;
    expected["dataSource"] = Value::Null;
    assert_patched(&answer, expected);
}

#[tokio::test]
async fn a_copy_bomb_is_refused_before_the_record_grows_and_the_server_keeps_answering() {
    let server = TestServer::start().await;
    // Each copy of /customFields into its own child doubles the record.
    let ops: Vec<Value> = (0..30)
        .map(|i| json!({"op": "copy", "from": "/customFields", "path": format!("/customFields/k{i}")}))
        .collect();
    let answer = patch(&server, USER, Value::Array(ops)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    let message = answer.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.ends_with("the user would grow beyond 65536 bytes")
            && message.starts_with("Operation "),
        "{message}"
    );
    assert_eq!(
        answer.json(),
        error(400, &message),
        "the vendor's error format"
    );
    assert_eq!(get(&server, USER).await.text, SEED_RESPONSE);
}

#[tokio::test]
async fn max_record_bytes_bounds_what_one_write_may_grow_a_user_to() {
    let limit = SEED_RESPONSE.len() + 100;
    let server = TestServer::start_with(usermock::Options {
        max_record_bytes: limit,
        ..usermock::Options::default()
    })
    .await;
    let title = |n: usize| json!([{"op": "replace", "path": "/title", "value": "t".repeat(n)}]);
    let answer = patch(&server, USER, title(60)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let answer = patch(&server, USER, title(200)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    let message = answer.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.ends_with(&format!("the user would grow beyond {limit} bytes")),
        "{message}"
    );
    assert_eq!(
        answer.json(),
        error(400, &message),
        "the vendor's error format"
    );
    // The refused write changed nothing.
    let stored = get(&server, USER).await.json();
    assert_eq!(stored["data"]["title"], json!("t".repeat(60)));
}

// ---------------------------------------------------- fixture and counters --

#[tokio::test]
async fn a_token_lifetime_outside_one_second_to_one_year_stops_startup() {
    for lifetime in ["0", "31536001", "18446744073709551615"] {
        let fixture = edited_fixture(
            "\"token_lifetime_seconds\": 3600",
            &format!("\"token_lifetime_seconds\": {lifetime}"),
        );
        let dir = common::TempDir::new("relesys-lifetime");
        dir.write("relesys.json", &fixture);
        let result = usermock::Usermock::new(&usermock::Options {
            fixtures: Some(dir.0.clone()),
            ..usermock::Options::default()
        });
        let message = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("/settings/token_lifetime_seconds")
                && message.contains("is not between 1 and 31536000 seconds"),
            "{lifetime}: {message}"
        );
    }
}

#[tokio::test]
async fn a_full_reset_drops_issued_tokens() {
    let server = TestServer::start().await;
    let token = admin_token(&server, "relesys.api.users").await;
    assert_eq!(get_as(&server, &token, USER).await.status, StatusCode::OK);
    let reset = server
        .send(server.request(Method::POST, "/__admin/reset"))
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    let answer = get_as(&server, &token, USER).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.json(),
        error(
            401,
            "Authorization has been denied for this request: unknown token"
        )
    );
}
