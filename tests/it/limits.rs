//! Hostile clients, as an attacker would try them (loopback only, bounded
//! in size and time): each gets a clear answer or is cut off, and the
//! server keeps answering everyone else.

use crate::common;

use std::time::Duration;

use common::TestServer;
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const USER: &str = "/activity/v2/clients/aa7cf840-9ca9-46a3-9778-9015d6580d50/users/a1d97031-04e2-4907-a249-093f7436207b";

async fn healthy(server: &TestServer) {
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        server.send(server.request(Method::GET, "/__admin/health")),
    )
    .await
    .expect("health answers while under attack");
    assert_eq!(answer.status, 200);
}

async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// Everything the server sends until it closes (bounded by `limit`).
async fn read_all(stream: &mut TcpStream, limit: Duration) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(limit, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn quick() -> usermock::Options {
    usermock::Options {
        header_read_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..usermock::Options::default()
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let server = TestServer::start_with(quick()).await;
    let mut slow = connect(&server).await;
    slow.write_all(b"GET /__admin/health HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .expect("write");
    healthy(&server).await;
    let rest = read_all(&mut slow, Duration::from_secs(5)).await;
    assert!(!rest.contains("200 OK"), "{rest}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = TestServer::start_with(quick()).await;
    let mut idle = connect(&server).await;
    idle.write_all(b"GET /__admin/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let answer = read_all(&mut idle, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_408_in_the_vendors_format() {
    let server = TestServer::start_with(quick()).await;
    let mut slow = connect(&server).await;
    let head = format!("PATCH {USER} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer activity-admin\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"depa");
    slow.write_all(head.as_bytes()).await.expect("write");
    healthy(&server).await;
    let answer = read_all(&mut slow, Duration::from_secs(5)).await;
    assert!(
        answer.starts_with("HTTP/1.1 400") || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert!(
        answer.contains(r#""error":{"code""#),
        "the vendor's envelope: {answer}"
    );
}

#[tokio::test]
async fn malformed_chunked_framing_is_a_400_not_a_413() {
    let server = TestServer::start().await;
    let mut client = connect(&server).await;
    let request = format!("PATCH {USER} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer activity-admin\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{{}}\r\n0\r\n\r\n");
    client.write_all(request.as_bytes()).await.expect("write");
    let answer = read_all(&mut client, Duration::from_secs(5)).await;
    assert!(!answer.contains(" 413 "), "{answer}");
    healthy(&server).await;
}

#[tokio::test]
async fn a_client_that_half_closes_after_sending_still_gets_its_answer_and_its_write() {
    let server = TestServer::start().await;
    let mut client = connect(&server).await;
    let body = r#"{"departments":[]}"#;
    let request = format!("PATCH {USER} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer activity-admin\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    client.write_all(request.as_bytes()).await.expect("write");
    client.shutdown().await.expect("half-close");
    let answer = read_all(&mut client, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let read = server
        .send(
            server
                .request(Method::GET, USER)
                .bearer_auth("activity-admin"),
        )
        .await;
    assert_eq!(read.json()["departments"], json!([]));
}

#[tokio::test]
async fn connections_beyond_the_limit_get_503_at_once_never_a_hang() {
    let server = TestServer::start_with(usermock::Options {
        max_connections: 2,
        ..usermock::Options::default()
    })
    .await;
    let _a = connect(&server).await;
    let _b = connect(&server).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = connect(&server).await;
    let answer = read_all(&mut third, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains(r#""error":"overloaded""#), "{answer}");
}

#[tokio::test]
async fn oversized_headers_get_431() {
    let server = TestServer::start_with(usermock::Options {
        max_header_bytes: 8 * 1024,
        ..usermock::Options::default()
    })
    .await;
    let answer = server
        .send(
            server
                .request(Method::GET, USER)
                .header("x-big", "a".repeat(20_000)),
        )
        .await;
    assert_eq!(answer.status, 431);
    healthy(&server).await;
}

#[tokio::test]
async fn hostile_scenarios_are_refused_at_upload() {
    let server = TestServer::start().await;
    let cases = [
        json!({"name": "any-regex", "rules": [{"match": {"body": {"regex": "\\w{200}z"}}, "answer": {"respond": {"status": 500}}}]}),
        json!({"name": "any-framing", "rules": [{"answer": {"respond": {"status": 200, "headers": {"content-length": "99"}}}}]}),
        json!({"name": "any-switch", "rules": [{"answer": {"respond": {"status": 101}}}]}),
        json!({"name": "any-forever", "rules": [{"answer": {"respond": {"status": 200, "delay_ms": 86_400_000u64}}}]}),
    ];
    for scenario in cases {
        let answer = server
            .send(
                server
                    .request(Method::POST, "/__admin/scenarios")
                    .json(&scenario),
            )
            .await;
        assert_eq!(answer.status, 400, "{scenario}: {}", answer.text);
        assert_eq!(answer.json()["error"], "invalid_scenario");
    }
}

#[tokio::test]
async fn double_star_paths_match_in_bounded_time_and_keep_the_server_answering() {
    let server = TestServer::start().await;
    let scenario = json!({"name": "any-stars", "rules": [{"match": {"path": "/**/**/**/**/**/never"}, "answer": {"respond": {"status": 500}}}]});
    let up = server
        .send(
            server
                .request(Method::POST, "/__admin/scenarios")
                .json(&scenario),
        )
        .await;
    assert_eq!(up.status, 201, "{}", up.text);
    let long = format!("/activity{}", "/x".repeat(300));
    let answer = server
        .send(
            server
                .request(Method::GET, &long)
                .header("x-usermock-scenario", "any-stars"),
        )
        .await;
    assert_eq!(answer.status, 404);
    let filtered = server
        .send(server.request(Method::GET, "/__admin/requests?path=/**/**/**/**/**/never"))
        .await;
    assert_eq!(filtered.json()["count"], 0);
    healthy(&server).await;
}

#[tokio::test]
async fn uploaded_scenarios_are_capped() {
    let server = TestServer::start_with(usermock::Options {
        max_uploaded_scenarios: 2,
        ..usermock::Options::default()
    })
    .await;
    for (i, expected) in [(1, 201), (2, 201), (3, 409)] {
        let scenario = json!({"name": format!("any-up-{i}"), "rules": [{"answer": {"respond": {"status": 500}}}]});
        let answer = server
            .send(
                server
                    .request(Method::POST, "/__admin/scenarios")
                    .json(&scenario),
            )
            .await;
        assert_eq!(answer.status, expected, "{}", answer.text);
    }
}

#[tokio::test]
async fn large_bodies_are_journaled_cut_short_with_a_marker() {
    let server = TestServer::start().await;
    let big = format!(r#"{{"departments":[],"pad":"{}"}}"#, "a".repeat(200_000));
    server
        .send(
            server
                .request(Method::PATCH, USER)
                .bearer_auth("activity-admin")
                .header("content-type", "application/json")
                .body(big.clone()),
        )
        .await;
    let listed = server
        .send(server.request(Method::GET, "/__admin/requests"))
        .await
        .json();
    let entry = &listed["requests"][0];
    assert_eq!(entry["body_size"], big.len());
    assert_eq!(entry["body_truncated"], true);
    assert_eq!(entry["body"].as_str().map(str::len), Some(64 * 1024));
}

#[test]
fn an_empty_admin_token_is_a_startup_error() {
    let options = usermock::Options {
        admin_token: Some(String::new()),
        ..usermock::Options::default()
    };
    let err = usermock::Usermock::new(&options).err().expect("refused");
    assert!(err.to_string().contains("--admin-token is empty"), "{err}");
}

#[test]
fn a_fifo_named_like_a_fixture_stops_startup_instead_of_hanging() {
    let dir = common::TempDir::new("fifo");
    let fifo = std::path::Path::new(dir.path()).join("activity.json");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let options = usermock::Options {
        fixtures: Some(dir.0.clone()),
        ..usermock::Options::default()
    };
    let err = usermock::Usermock::new(&options).err().expect("refused");
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

// Found by the fuzzer (tests/fuzz-seeds/): each used to crash a request or
// leave a record that no longer read.

#[tokio::test]
async fn a_clock_set_past_the_year_9999_in_utc_is_refused_and_nothing_breaks() {
    let server = TestServer::start().await;
    let answer = server
        .send(
            server
                .request(Method::PUT, "/__admin/clock")
                .json(&json!({"now": "9999-12-31T23:59:59-01:00"})),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"], "invalid_clock");
    let write = server
        .send(
            server
                .request(Method::PATCH, USER)
                .bearer_auth("activity-admin")
                .json(&json!({"departments": []})),
        )
        .await;
    assert_eq!(write.status, 200, "{}", write.text);
}

#[tokio::test]
async fn dates_outside_the_years_1_to_9999_are_a_400_never_a_stored_record() {
    let server = TestServer::start().await;
    let relesys = "/relesys/api/v1.3/users/6cd99267-5adf-462d-88a2-6f86b7b2a164";
    for date in ["9999-12-31T23:59:59-01:00", "-0001-01-01"] {
        let answer = server
            .send(
                server
                    .request(Method::PATCH, relesys)
                    .bearer_auth("relesys-admin")
                    .header("content-type", "application/json-patch+json")
                    .body(
                        json!([{"op": "replace", "path": "/birthDate", "value": date}]).to_string(),
                    ),
            )
            .await;
        assert_eq!(answer.status, 400, "{date}: {}", answer.text);
    }
    let awork = "/awork/api/v1/users/2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e";
    let answer = server
        .send(
            server
                .request(Method::PUT, awork)
                .bearer_auth("awork-admin")
                .json(&json!({"firstName": "Sofia", "lastName": "Romano", "birthDate": "-0001-01-01"})),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let read = server
        .send(
            server
                .request(Method::GET, awork)
                .bearer_auth("awork-admin"),
        )
        .await;
    assert_eq!(read.status, 200, "the user still reads: {}", read.text);
}

#[tokio::test]
async fn a_refused_session_id_closes_the_connection_it_did_not_read_to_the_end() {
    let server = TestServer::start().await;
    let answer = server
        .send(
            server
                .request(
                    Method::PUT,
                    "/awork/api/v1/users/2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
                )
                .header("x-usermock-session", "has space")
                .body("x".repeat(100_000)),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.header("connection"), Some("close"));
}

#[tokio::test]
async fn an_oversized_body_on_no_route_is_a_413_that_closes_the_connection() {
    let server = TestServer::start().await;
    let answer = server
        .send(
            server
                .request(Method::POST, "/nope")
                .body(vec![b'x'; 1024 * 1024 + 1]),
        )
        .await;
    assert_eq!(answer.status, 413, "{}", answer.text);
    assert_eq!(answer.header("connection"), Some("close"));
}
