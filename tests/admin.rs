//! The admin API under `/__admin`: health, reset, and seeding users.

mod common;

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
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION"), "vendors": ["activity", "awork", "relesys", "replay"], "sessions": 0})
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
    assert_eq!(list["count"], 5);

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
        .send(server.request(Method::PUT, &path).body("{not json"))
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
