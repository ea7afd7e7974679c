//! Helpers shared by the awork test files (`#[path]`-included by each; as
//! a test target of its own it holds no tests).

#![allow(dead_code)]

use crate::common;

pub use common::{Reply, TempDir, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

pub const ADMIN: &str = "9b2f6c1e-3d4a-4e5b-8c7d-1a2b3c4d5e6f";
pub const MEMBER: &str = "4e8d2a1b-7c6f-4d3e-9a8b-2c1d0e9f8a7b";
pub const HR: &str = "c5a4b3d2-e1f0-4a9b-8c7d-6e5f4a3b2c1d";
/// Created by the member.
pub const PAUL: &str = "7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d";
/// Created by the admin.
pub const SOFIA: &str = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e";
pub const ARCHIVED: &str = "8e9f0a1b-2c3d-4e4f-9a5b-6c7d8e9f0a1b";
pub const DEACTIVATED: &str = "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f";
pub const INVITED: &str = "3a4b5c6d-7e8f-4091-a2b3-c4d5e6f7a8b9";
/// The second admin (no token).
pub const OLE: &str = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b";
/// Acts as `awork-manager` (user-manage-config:write/delete, project-manage-config:write).
pub const AMIRA: &str = "a7b8c9d0-e1f2-4a3b-9c4d-5e6f7a8b9c0d";
/// Acts as `awork-reader` (user-master-data:read).
pub const JONAS: &str = "b8c9d0e1-f2a3-4b4c-8d5e-6f7a8b9c0d1e";
pub const WORKSPACE: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
pub const MEMBER_ROLE: &str = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6f";
pub const DEV_TEAM: &str = "7b6c5d4e-3f2a-4b1c-8d9e-0f1a2b3c4d5e";
pub const UNKNOWN: &str = "00000000-0000-4000-8000-000000000000";
pub const LINK: &str = "https://developers.awork.com/#response-types";

pub fn fixture_text() -> String {
    std::fs::read_to_string(common::repo_fixtures().join("awork.json")).expect("fixture")
}

pub fn fixture() -> Value {
    serde_json::from_str(&fixture_text()).expect("json")
}

/// The fixture's user record, which is also what the API shows.
pub fn fixture_user(id: &str) -> Value {
    fixture()["users"]
        .as_array()
        .and_then(|users| users.iter().find(|u| u["id"] == id))
        .cloned()
        .expect("user in fixture")
}

/// The `UserForm` a client would PUT to keep `user` as it is.
pub fn full_form(user: &Value) -> Value {
    let mut form = json!({});
    for member in [
        "firstName",
        "lastName",
        "birthDate",
        "gender",
        "title",
        "position",
        "language",
    ] {
        form[member] = user[member].clone();
    }
    form
}

pub fn user_path(id: &str) -> String {
    format!("/awork/api/v1/users/{id}")
}

/// A server whose fixture is the repo's with `from` replaced by `to`.
pub async fn server_with(tag: &str, from: &str, to: &str) -> (TestServer, TempDir) {
    let text = fixture_text();
    assert!(text.contains(from), "the fixture has no {from}");
    let dir = TempDir::new(tag);
    dir.write("awork.json", &text.replace(from, to));
    let server = TestServer::start_with(usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    })
    .await;
    (server, dir)
}

pub async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Reply {
    let mut request = server.request(method, path).bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    server.send(request).await
}

pub async fn put_as(server: &TestServer, token: &str, id: &str, body: Value) -> Reply {
    call(server, Method::PUT, &user_path(id), token, Some(body)).await
}

pub async fn get(server: &TestServer, id: &str) -> Reply {
    call(server, Method::GET, &user_path(id), "awork-admin", None).await
}

/// The body with awork's `traceId` checked (32 lower-case hex digits,
/// like the spec's example) and taken out, so the rest compares whole.
pub fn body(answer: &Reply) -> Value {
    let mut value = answer.json();
    if let Some(map) = value.as_object_mut() {
        if let Some(trace) = map.remove("traceId") {
            let trace = trace.as_str().unwrap_or_default().to_owned();
            assert!(
                trace.len() == 32
                    && trace
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "traceId {trace:?}"
            );
        }
    }
    value
}

pub fn error(code: &str, description: &str, details: Value, validation: Value) -> Value {
    json!({"code": code, "description": description, "link": LINK, "details": details, "validationErrors": validation})
}

pub fn permission_error(rule: &str) -> Value {
    error(
        "unauthorized",
        "The requesting user is lacking the necessary permissions for this request.",
        json!([rule]),
        json!([]),
    )
}

pub const UPDATE_RULE: &str = "Updating a user requires being an admin, the creator of the user, or the permission user-master-data:write.";
pub const ACTIVATE_RULE: &str = "Activating or deactivating a user requires being an admin or the permission user-manage-config:write.";
pub const ARCHIVE_RULE: &str =
    "Archiving a user requires being an admin or the permission project-manage-config:write.";
pub const DELETE_RULE: &str =
    "Deleting a user requires being an admin or the permission user-manage-config:delete.";
pub const ROLE_RULE: &str = "Activating or deactivating a user in a role requires being an admin or the permission workspace-manage-config:write.";
pub const INVITE_RULE: &str =
    "Inviting a user requires being an admin or the permission user-manage-config:write.";

pub fn validation_error(errors: Value) -> Value {
    error(
        "validation-failed",
        "The model sent in the request is invalid. See the validation errors for details.",
        json!([]),
        errors,
    )
}

pub fn not_found(id: &str) -> Value {
    error(
        "not-found",
        "The requested entity was not found.",
        json!([format!("No user with id '{id}' exists.")]),
        json!([]),
    )
}

/// Asserts a `Timestamp` in awork's form: 7 fractional digits and `Z`.
pub fn assert_awork_time(text: &str) {
    let b = text.as_bytes();
    assert!(
        text.len() == 28
            && b[19] == b'.'
            && b[27] == b'Z'
            && b[20..27].iter().all(u8::is_ascii_digit),
        "{text}"
    );
}

// ----------------------------------------------------------------- schemas --

/// OpenAPI 3.0's `nullable: true` as JSON Schema (`type: [t, "null"]`).
pub fn openapi30_to_json_schema(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::String(t)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([t, "null"]));
                }
                if let Some(Value::Array(values)) = map.get_mut("enum") {
                    if !values.contains(&Value::Null) {
                        values.push(Value::Null);
                    }
                }
            }
            map.values_mut().for_each(openapi30_to_json_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(openapi30_to_json_schema),
        _ => {}
    }
}

/// Asserts `value` is valid against `schema` (e.g. `{"$ref":
/// "#/components/schemas/User"}`) of `tests/it/data/awork-openapi-subset.json`,
/// formats (uuid, date-time) asserted.
pub fn assert_conforms(schema: Value, value: &Value, what: &str) {
    let subset: Value =
        serde_json::from_str(include_str!("data/awork-openapi-subset.json")).expect("subset");
    let mut components = subset["components"].clone();
    openapi30_to_json_schema(&mut components);
    let mut root = schema;
    root["components"] = components;
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not conform: {errors:#?}\n{value}"
    );
}

pub fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

pub fn array_of(name: &str) -> Value {
    json!({ "type": "array", "items": schema(name) })
}
