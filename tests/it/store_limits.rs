//! What the store may hold is bounded in records and bytes, per session
//! and in total, and every record kind's strings are bounded (issue 21,
//! "bound bytes, not just counts"): past a cap the write gets 507 in the
//! vendor's format, nothing is written, and the server keeps answering.

use crate::awork_support::{self, MEMBER};
use crate::common::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const RELESYS_USERS: &str = "/relesys/api/v1.3/users";
const HEAD_OFFICE: &str = "5e43a8b8-7bd3-4f3c-8056-c3d3acde9fd5";
const ALL_EMPLOYEES: &str = "22360293-0789-4346-ba9a-5609fa65703c";
const ACTIVITY_CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";

fn relesys_user(name: &str) -> Value {
    json!({"name": name, "primaryDepartmentId": HEAD_OFFICE, "userGroups": [{"id": ALL_EMPLOYEES}]})
}

async fn create_relesys(server: &TestServer, session: Option<&str>, body: &Value) -> Reply {
    let mut request = server
        .request(Method::POST, RELESYS_USERS)
        .bearer_auth("relesys-admin")
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(session) = session {
        request = request.header("x-usermock-session", session);
    }
    server.send(request).await
}

fn relesys_full(message: &str) -> Value {
    json!({"errorCode": "507", "message": message})
}

async fn healthy(server: &TestServer) {
    let health = server
        .send(server.request(Method::GET, "/__admin/health"))
        .await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.text);
}

#[tokio::test]
async fn creates_past_the_session_record_cap_get_507_and_a_reset_frees_the_room() {
    let server = TestServer::start_with(usermock::Options {
        max_session_records: 5,
        ..usermock::Options::default()
    })
    .await;
    for n in 0..5 {
        let answer = create_relesys(&server, Some("loop"), &relesys_user(&format!("U {n}"))).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    }
    let refused = create_relesys(&server, Some("loop"), &relesys_user("One too many")).await;
    assert_eq!(
        (refused.status, refused.json()),
        (
            StatusCode::INSUFFICIENT_STORAGE,
            relesys_full("Insufficient storage: this session may hold at most 5 records of changes; delete records or reset.")
        )
    );
    healthy(&server).await;
    // The refused user was not stored: the session lists its five only.
    let listed = server
        .send(
            server
                .request(
                    Method::GET,
                    &format!("{RELESYS_USERS}?name=One%20too%20many"),
                )
                .bearer_auth("relesys-admin")
                .header("x-usermock-session", "loop"),
        )
        .await;
    assert_eq!(listed.json()["data"], json!([]), "{}", listed.text);
    // Another session, and the shared state, have room of their own.
    let elsewhere = create_relesys(&server, Some("other"), &relesys_user("Elsewhere")).await;
    assert_eq!(elsewhere.status, StatusCode::CREATED, "{}", elsewhere.text);
    let shared = create_relesys(&server, None, &relesys_user("Shared")).await;
    assert_eq!(shared.status, StatusCode::CREATED, "{}", shared.text);
    let reset = server
        .send(
            server
                .request(Method::POST, "/__admin/reset")
                .header("x-usermock-session", "loop"),
        )
        .await;
    assert!(reset.status.is_success(), "{}", reset.text);
    let again = create_relesys(&server, Some("loop"), &relesys_user("After reset")).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
}

#[tokio::test]
async fn the_total_caps_bind_across_sessions() {
    let server = TestServer::start_with(usermock::Options {
        max_total_records: 4,
        ..usermock::Options::default()
    })
    .await;
    for session in ["a", "a", "b", "c"] {
        let answer = create_relesys(&server, Some(session), &relesys_user(session)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    }
    let refused = create_relesys(&server, Some("d"), &relesys_user("d")).await;
    assert_eq!(
        (refused.status, refused.json()),
        (
            StatusCode::INSUFFICIENT_STORAGE,
            relesys_full("Insufficient storage: the server may hold at most 4 records of changes; delete records or reset.")
        )
    );
    // Resetting one session gives its share back.
    server
        .send(
            server
                .request(Method::POST, "/__admin/reset")
                .header("x-usermock-session", "a"),
        )
        .await;
    let answer = create_relesys(&server, Some("d"), &relesys_user("d")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
}

#[tokio::test]
async fn the_byte_caps_count_what_records_hold_not_how_many() {
    let server = TestServer::start_with(usermock::Options {
        max_session_bytes: 16 * 1024,
        max_total_bytes: 24 * 1024,
        ..usermock::Options::default()
    })
    .await;
    // About 2 KiB a user: the session's 16 KiB hold a few, not a hundred.
    let big = |n: usize| {
        let mut user = relesys_user(&format!("{n} {}", "x".repeat(1800)));
        user["name"] = json!(format!("{n} {}", "x".repeat(1800)));
        user
    };
    let mut created = 0;
    let refused = loop {
        let answer = create_relesys(&server, Some("bytes"), &big(created)).await;
        if answer.status != StatusCode::CREATED {
            break answer;
        }
        created += 1;
        assert!(created < 100, "the byte cap never bound");
    };
    assert!(
        (4..=8).contains(&created),
        "{created} users of ~2 KiB in 16 KiB"
    );
    assert_eq!(
        (refused.status, refused.json()),
        (
            StatusCode::INSUFFICIENT_STORAGE,
            relesys_full("Insufficient storage: this session may hold at most 16384 bytes of changes; delete records or reset.")
        )
    );
    // The total (24 KiB) binds before a second session's own 16 KiB.
    let mut more = 0;
    let refused = loop {
        let answer = create_relesys(&server, Some("bytes-2"), &big(more)).await;
        if answer.status != StatusCode::CREATED {
            break answer;
        }
        more += 1;
        assert!(more < 100, "the total byte cap never bound");
    };
    assert!(more < created, "{more} more users beside {created}");
    assert_eq!(
        refused.json(),
        relesys_full("Insufficient storage: the server may hold at most 24576 bytes of changes; delete records or reset.")
    );
    healthy(&server).await;
}

#[tokio::test]
async fn an_admin_seeded_record_past_a_cap_gets_507_in_usermock_s_format() {
    let server = TestServer::start_with(usermock::Options {
        max_session_records: 1,
        ..usermock::Options::default()
    })
    .await;
    let seed = |id: &str| {
        let mut user = awork_support::fixture_user(MEMBER);
        user["id"] = json!(id);
        server
            .request(Method::PUT, &format!("/__admin/awork/users/{id}"))
            .header("x-usermock-session", "seeding")
            .header("content-type", "application/json")
            .body(user.to_string())
    };
    let first = server
        .send(seed("11111111-1111-4111-8111-111111111111"))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let second = server
        .send(seed("22222222-2222-4222-8222-222222222222"))
        .await;
    assert_eq!(
        (second.status, second.json()),
        (
            StatusCode::INSUFFICIENT_STORAGE,
            json!({"error": "store_full", "message": "Insufficient storage: this session may hold at most 1 records of changes; delete records or reset. (--max-session-records)"})
        )
    );
}

async fn activity(server: &TestServer, method: Method, path: &str, body: Value) -> Reply {
    server
        .send(
            server
                .request(
                    method,
                    &format!("/activity/v2/clients/{ACTIVITY_CLIENT}{path}"),
                )
                .bearer_auth("activity-admin")
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
}

#[tokio::test]
async fn department_names_and_descriptions_are_bounded() {
    let server = TestServer::start().await;
    let long_name = activity(
        &server,
        Method::POST,
        "/departments",
        json!({"name": "n".repeat(1024 * 1024 / 2)}),
    )
    .await;
    assert_eq!(
        (long_name.status, long_name.json()),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": {"code": "invalid_request", "message": "'name' must be at most 255 characters", "details": {"field": "name"}}})
        )
    );
    let long_description = activity(
        &server,
        Method::POST,
        "/departments",
        json!({"name": "Fine", "description": "d".repeat(1001)}),
    )
    .await;
    assert_eq!(
        (long_description.status, long_description.json()),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": {"code": "invalid_request", "message": "'description' must be at most 1000 characters", "details": {"field": "description"}}})
        )
    );
    // At the bounds (in characters, not bytes) it is taken.
    let name = "é".repeat(255);
    let description = "ü".repeat(1000);
    let created = activity(
        &server,
        Method::POST,
        "/departments",
        json!({"name": name, "description": description}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let renamed = activity(
        &server,
        Method::PATCH,
        &format!("/departments/{id}"),
        json!({"name": "x".repeat(256)}),
    )
    .await;
    assert_eq!(
        (renamed.status, renamed.json()),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": {"code": "invalid_request", "message": "'name' must be at most 255 characters", "details": {"field": "name"}}})
        )
    );
}

#[tokio::test]
async fn a_token_whose_awork_user_was_deleted_through_the_admin_api_gets_401() {
    let server = TestServer::start().await;
    // The admin API does not remove a user a credential names (the
    // credential would name no user: 409 `user_referenced`); it marks the
    // user deleted, as awork's own delete does.
    let path = format!("/__admin/awork/users/{MEMBER}");
    let removed = server.send(server.request(Method::DELETE, &path)).await;
    assert_eq!(removed.status, StatusCode::CONFLICT, "{}", removed.text);
    let mut record = server.send(server.request(Method::GET, &path)).await.json();
    record["deletedOn"] = json!("2026-01-05T10:00:00.0000000Z");
    let deleted = server
        .send(
            server
                .request(Method::PUT, &path)
                .header("content-type", "application/json")
                .body(record.to_string()),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    let me = awork_support::call(
        &server,
        Method::GET,
        "/awork/api/v1/users/me",
        "awork-member",
        None,
    )
    .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        awork_support::body(&me),
        awork_support::error(
            "unauthorized",
            "The request requires a valid access token.",
            json!(["The bearer token is not valid."]),
            json!([])
        )
    );
}

#[tokio::test]
async fn the_store_cap_flags_reach_the_binary_and_help_states_their_defaults() {
    let mut server = crate::common::BinaryServer::start(&[
        "--max-session-records",
        "2",
        "--max-total-bytes",
        "100000",
    ]);
    let client = reqwest::Client::new();
    let create = |session: &str| {
        client
            .post(format!("{}{RELESYS_USERS}", server.base))
            .bearer_auth("relesys-admin")
            .header("content-type", "application/json")
            .header("x-usermock-session", session)
            .body(relesys_user("Flagged").to_string())
            .send()
    };
    for _ in 0..2 {
        let answer = create("flags").await.expect("answer");
        assert_eq!(answer.status(), StatusCode::CREATED);
    }
    let refused = create("flags").await.expect("answer");
    assert_eq!(refused.status(), StatusCode::INSUFFICIENT_STORAGE);
    assert_eq!(
        refused.json::<Value>().await.expect("json"),
        relesys_full("Insufficient storage: this session may hold at most 2 records of changes; delete records or reset.")
    );
    // 100,000 bytes in all: a few sessions of big users fill it.
    let mut refused_total = None;
    for n in 0..200 {
        let answer = client
            .post(format!("{}{RELESYS_USERS}", server.base))
            .bearer_auth("relesys-admin")
            .header("content-type", "application/json")
            .header("x-usermock-session", format!("big-{n}"))
            .body(relesys_user(&"b".repeat(5000)).to_string())
            .send()
            .await
            .expect("answer");
        if answer.status() != StatusCode::CREATED {
            refused_total = Some(answer.json::<Value>().await.expect("json"));
            break;
        }
    }
    assert_eq!(
        refused_total,
        Some(relesys_full("Insufficient storage: the server may hold at most 100000 bytes of changes; delete records or reset."))
    );
    assert!(server.terminate().success());

    let help = crate::common::binary()
        .arg("--help")
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    for (flag, default) in [
        ("--max-session-records", "[default: 100000]"),
        ("--max-session-bytes", "[default: 33554432]"),
        ("--max-total-records", "[default: 1000000]"),
        ("--max-total-bytes", "[default: 268435456]"),
    ] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{flag} not in --help:\n{help}"));
        assert!(line.contains(default), "{line}");
    }
}
