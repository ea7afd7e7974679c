//! The admin API under `/__admin`: health, reset, and seeding users.

use crate::common;

use common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

const USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";
const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";

#[tokio::test]
async fn health_answers_ok_with_the_served_vendors() {
    let server = TestServer::start().await;
    let answer = server
        .send(server.request(Method::GET, "/__admin/health"))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "vendors": usermock::vendor_names(),
            "api_bases": common::expected_api_bases(),
            "sessions": 0
        })
    );
    let answer = server
        .send(server.request(Method::DELETE, "/__admin/health"))
        .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.header("allow"), Some("GET"));
}

#[tokio::test]
async fn users_can_be_listed_read_replaced_and_deleted() {
    let server = TestServer::start().await;
    let list = server
        .send(server.request(Method::GET, "/__admin/activity/users"))
        .await
        .json();
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_fixtures().join("activity.json")).expect("fixture"),
    )
    .expect("json");
    assert_eq!(
        list["count"],
        fixture["users"].as_array().map(Vec::len).unwrap_or(0)
    );

    let path = format!("/__admin/activity/users/{USER}");
    let mut record = server.send(server.request(Method::GET, &path)).await.json();
    assert_eq!(record["client_id"], CLIENT);
    record["username"] = json!("seeded");
    let answer = server
        .send(server.request(Method::PUT, &path).json(&record))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);

    let vendor_path = format!("/activity/v2/clients/{CLIENT}/users/{USER}");
    let read = server
        .send(
            server
                .request(Method::GET, &vendor_path)
                .bearer_auth("activity-admin"),
        )
        .await;
    assert_eq!(read.json()["username"], "seeded");

    let answer = server.send(server.request(Method::DELETE, &path)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let read = server
        .send(
            server
                .request(Method::GET, &vendor_path)
                .bearer_auth("activity-admin"),
        )
        .await;
    assert_eq!(read.status, StatusCode::NOT_FOUND);
    assert_eq!(
        server
            .send(server.request(Method::DELETE, &path))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_seeded_user_is_validated_like_a_fixture_entry() {
    let server = TestServer::start().await;
    let path = format!("/__admin/activity/users/{USER}");
    let mut record = server.send(server.request(Method::GET, &path)).await.json();
    record["departments"] = json!(["ffffffff-ffff-ffff-ffff-ffffffffffff"]);
    let answer = server
        .send(server.request(Method::PUT, &path).json(&record))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json(),
        json!({"error": "invalid_record", "message": "/departments/0: no department has id 'ffffffff-ffff-ffff-ffff-ffffffffffff'"})
    );
    let answer = server
        .send(
            server
                .request(
                    Method::PUT,
                    "/__admin/activity/users/00000000-0000-4000-8000-000000000000",
                )
                .json(&record),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let answer = server
        .send(
            server
                .request(Method::PUT, &path)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(answer.json()["error"], "invalid_json");
}

#[tokio::test]
async fn seeding_inside_a_session_stays_in_that_session() {
    let server = TestServer::start().await;
    let path = format!("/__admin/activity/users/{USER}");
    let answer = server
        .send(
            server
                .request(Method::DELETE, &path)
                .header("x-usermock-session", "s1"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let in_session = server
        .send(
            server
                .request(Method::GET, &path)
                .header("x-usermock-session", "s1"),
        )
        .await;
    assert_eq!(in_session.status, StatusCode::NOT_FOUND);
    assert_eq!(
        server.send(server.request(Method::GET, &path)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_admin_routes_and_vendors_are_404s() {
    let server = TestServer::start().await;
    let answer = server
        .send(server.request(Method::GET, "/__admin/nope"))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["error"], "no_route");
    let answer = server
        .send(server.request(Method::GET, "/__admin/salesforce/users"))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["error"], "unknown_vendor");
}

// ----------------------------------------------------------------- journal --

async fn journal(server: &TestServer, query: &str) -> serde_json::Value {
    server
        .send(server.request(Method::GET, &format!("/__admin/requests{query}")))
        .await
        .json()
}

#[tokio::test]
async fn the_journal_records_what_the_code_under_test_sent() {
    let server = TestServer::start().await;
    let path = format!("/activity/v2/clients/{CLIENT}/users/{USER}");
    let sent = server
        .request(Method::PATCH, &format!("{path}?trace=1"))
        .bearer_auth("activity-admin")
        .header("content-type", "application/json")
        .header("x-usermock-session", "j1")
        .body(r#"{"departments": []}"#);
    assert_eq!(server.send(sent).await.status, StatusCode::OK);
    server
        .send(server.request(Method::GET, "/__admin/health"))
        .await;
    server
        .send(server.request(Method::GET, "/wrong/base/url"))
        .await;

    let listed = journal(&server, "").await;
    assert_eq!(
        listed["count"], 2,
        "admin calls are not journaled: {listed}"
    );
    let entry = &listed["requests"][0];
    assert_eq!(entry["id"], 1);
    assert_eq!(entry["vendor"], "activity");
    assert_eq!(entry["method"], "PATCH");
    assert_eq!(entry["path"], path);
    assert_eq!(
        entry["vendor_path"],
        format!("/v2/clients/{CLIENT}/users/{USER}")
    );
    assert_eq!(entry["query"], "trace=1");
    assert_eq!(entry["session"], "j1");
    // Shown as a fingerprint: `printf %s activity-admin | sha256sum`.
    assert_eq!(entry["headers"]["authorization"], "Bearer sha256:9fa262a3");
    assert_eq!(entry["body"], r#"{"departments": []}"#);
    assert_eq!(entry["json"], json!({"departments": []}));
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["scenario"], serde_json::Value::Null);
    let wrong = &listed["requests"][1];
    assert_eq!(
        (wrong["vendor"].clone(), wrong["status"].clone()),
        (serde_json::Value::Null, json!(404))
    );
}

#[tokio::test]
async fn the_journal_filters_by_vendor_method_path_status_and_session() {
    let server = TestServer::start().await;
    let activity = format!("/activity/v2/clients/{CLIENT}/users/{USER}");
    server
        .send(
            server
                .request(Method::GET, &activity)
                .bearer_auth("activity-admin"),
        )
        .await;
    server.send(server.request(Method::GET, &activity)).await;
    server
        .send(
            server
                .request(
                    Method::GET,
                    "/relesys/api/v1.3/users/6cd99267-5adf-462d-88a2-6f86b7b2a164",
                )
                .bearer_auth("relesys-admin")
                .header("x-usermock-session", "s9"),
        )
        .await;
    assert_eq!(journal(&server, "?vendor=activity").await["count"], 2);
    assert_eq!(
        journal(&server, "?vendor=activity&status=401").await["count"],
        1
    );
    assert_eq!(journal(&server, "?method=get").await["count"], 3);
    assert_eq!(
        journal(&server, "?path=/v2/clients/*/users/{id}").await["count"],
        2
    );
    assert_eq!(journal(&server, "?path=/relesys/**").await["count"], 1);
    let in_session = server
        .send(
            server
                .request(Method::GET, "/__admin/requests")
                .header("x-usermock-session", "s9"),
        )
        .await
        .json();
    assert_eq!(in_session["count"], 1);
    let bad = server
        .send(server.request(Method::GET, "/__admin/requests?colour=red"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"], "invalid_filter");

    let cleared = server
        .send(
            server
                .request(Method::DELETE, "/__admin/requests")
                .header("x-usermock-session", "s9"),
        )
        .await;
    assert_eq!(cleared.json(), json!({"cleared": 1}));
    assert_eq!(journal(&server, "").await["count"], 2);
    server
        .send(server.request(Method::POST, "/__admin/reset"))
        .await;
    assert_eq!(journal(&server, "").await["count"], 0);
}

#[tokio::test]
async fn the_journal_is_bounded_and_notes_scenarios_and_faults() {
    let server = TestServer::start_with(usermock::Options {
        journal_size: 3,
        ..usermock::Options::default()
    })
    .await;
    let path = format!("/activity/v2/clients/{CLIENT}/users/{USER}");
    for scenario in [
        "activity-server-error",
        "any-connection-reset",
        "any-503-then-recover",
        "any-503-then-recover",
    ] {
        let _ = server
            .request(Method::GET, &path)
            .bearer_auth("activity-admin")
            .header("x-usermock-scenario", scenario)
            .send()
            .await;
    }
    let listed = journal(&server, "").await;
    assert_eq!(listed["count"], 3);
    let ids: Vec<u64> = listed["requests"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["id"].as_u64())
        .collect();
    assert_eq!(ids, [2, 3, 4], "the oldest went first");
    assert_eq!(listed["requests"][0]["scenario"], "any-connection-reset");
    assert_eq!(listed["requests"][0]["status"], serde_json::Value::Null);
    assert_eq!(listed["requests"][1]["status"], 503);
    assert_eq!(listed["requests"][2]["status"], 200);
    assert_eq!(listed["requests"][2]["scenario"], serde_json::Value::Null);
}

// ------------------------------------------------------------- admin token --

#[tokio::test]
async fn an_admin_token_guards_every_admin_call() {
    let server = TestServer::start_with(usermock::Options {
        admin_token: Some("s3cret".to_owned()),
        ..usermock::Options::default()
    })
    .await;
    for (method, path) in [
        (Method::POST, "/__admin/reset"),
        (Method::GET, "/__admin/health"),
        (Method::GET, "/__admin/requests"),
        (Method::GET, "/__admin/activity/users"),
    ] {
        let answer = server.send(server.request(method.clone(), path)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(answer.json()["error"], "admin_token_required");
    }
    let answer = server
        .send(
            server
                .request(Method::GET, "/__admin/requests")
                .bearer_auth("wrong"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = server
        .send(
            server
                .request(Method::POST, "/__admin/reset")
                .bearer_auth("s3cret"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = server
        .send(
            server
                .request(Method::GET, "/__admin/health")
                .header("x-usermock-admin-token", "s3cret"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    // Vendor routes are not affected.
    let answer = server
        .send(
            server
                .request(
                    Method::GET,
                    &format!("/activity/v2/clients/{CLIENT}/users/{USER}"),
                )
                .bearer_auth("activity-admin"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}
