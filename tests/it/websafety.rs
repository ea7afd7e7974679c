//! Local safety: what a web page the developer visits must not be able to
//! do through the admin API (DNS rebinding, cross-site writes), and
//! credentials shown as fingerprints in the journal.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::common::{binary, BinaryServer, Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";
const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const RELESYS_CLIENT: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

fn user_path() -> String {
    format!("/activity/v2/clients/{CLIENT}/users/{USER}")
}

fn port(server: &TestServer) -> String {
    server
        .base
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// One journaled vendor request, so a reset is visible.
async fn one_vendor_request(server: &TestServer) {
    let answer = server
        .send(
            server
                .request(Method::GET, &user_path())
                .bearer_auth("activity-admin"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

async fn journal_total(server: &TestServer) -> Value {
    server
        .send(server.request(Method::GET, "/__admin/requests"))
        .await
        .json()["total"]
        .clone()
}

fn refused_host(host: &str) -> Value {
    json!({
        "error": "admin_host_refused",
        "message": format!("admin calls answer only a Host that is a loopback name or address, the address usermock listens on, a vendor's host, or a name given with --admin-host (USERMOCK_ADMIN_HOST); '{host}' is none of these (this guards against DNS rebinding)")
    })
}

fn refused_cross_site(why: &str) -> Value {
    json!({
        "error": "cross_site_refused",
        "message": format!("admin calls from another web origin are refused ({why})")
    })
}

#[tokio::test]
async fn an_admin_call_whose_host_is_a_foreign_name_is_refused_as_dns_rebinding() {
    let server = TestServer::start().await;
    one_vendor_request(&server).await;
    for path in ["/__admin/requests", "/__admin/health", "/__admin/ui"] {
        let answer = server
            .send(
                server
                    .request(Method::GET, path)
                    .header("host", "evil.example:8080"),
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(answer.json(), refused_host("evil.example:8080"), "{path}");
    }
    let answer = server
        .send(
            server
                .request(Method::POST, "/__admin/reset")
                .header("host", "localhost.evil.example"),
        )
        .await;
    assert_eq!(answer.json(), refused_host("localhost.evil.example"));
    assert_eq!(journal_total(&server).await, 1, "nothing was reset");
}

#[tokio::test]
async fn loopback_names_and_addresses_the_listening_address_and_vendor_hosts_are_answered() {
    let server = TestServer::start().await;
    let port = port(&server);
    for host in [
        format!("localhost:{port}"),
        "LOCALHOST".to_owned(),
        format!("app.localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "127.8.9.10".to_owned(),
        format!("[::1]:{port}"),
        "api.awork.com:8080".to_owned(),
        "api.relesysapp.net".to_owned(),
    ] {
        let answer = server
            .send(
                server
                    .request(Method::GET, "/__admin/health")
                    .header("host", host.as_str()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{host}: {}", answer.text);
        assert_eq!(answer.json()["status"], "ok", "{host}");
    }
}

#[tokio::test]
async fn a_name_configured_with_admin_hosts_is_answered_and_others_are_not() {
    let server = TestServer::start_with(usermock::Options {
        admin_hosts: vec!["usermock".to_owned()],
        ..usermock::Options::default()
    })
    .await;
    let answer = server
        .send(
            server
                .request(Method::GET, "/__admin/health")
                .header("host", "usermock:8080"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let answer = server
        .send(
            server
                .request(Method::GET, "/__admin/health")
                .header("host", "other:8080"),
        )
        .await;
    assert_eq!(answer.json(), refused_host("other:8080"));
}

#[tokio::test]
async fn a_star_admin_host_answers_any_host() {
    let server = TestServer::start_with(usermock::Options {
        admin_hosts: vec!["*".to_owned()],
        ..usermock::Options::default()
    })
    .await;
    let answer = server
        .send(
            server
                .request(Method::GET, "/__admin/health")
                .header("host", "anything.example"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

#[tokio::test]
async fn a_write_from_another_origin_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    one_vendor_request(&server).await;
    let answer = server
        .send(
            server
                .request(Method::POST, "/__admin/reset")
                .header("origin", "http://evil.example"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.json(),
        refused_cross_site("Origin: http://evil.example")
    );
    let answer = server
        .send(
            server
                .request(
                    Method::POST,
                    "/__admin/scenarios/activity-client-not-found/activate",
                )
                .header("origin", "null"),
        )
        .await;
    assert_eq!(answer.json(), refused_cross_site("Origin: null"));
    // Another port of the same host is another origin.
    let answer = server
        .send(
            server
                .request(Method::GET, "/__admin/requests")
                .header("origin", "http://127.0.0.1:3000"),
        )
        .await;
    assert_eq!(
        answer.json(),
        refused_cross_site("Origin: http://127.0.0.1:3000")
    );
    assert_eq!(journal_total(&server).await, 1, "nothing was reset");
    one_vendor_request(&server).await;
    assert_eq!(
        journal_total(&server).await,
        2,
        "the scenario was not activated: the vendor still answers 200"
    );
}

#[tokio::test]
async fn sec_fetch_site_cross_site_and_same_site_are_refused() {
    let server = TestServer::start().await;
    one_vendor_request(&server).await;
    for site in ["cross-site", "same-site"] {
        let answer = server
            .send(
                server
                    .request(Method::POST, "/__admin/reset")
                    .header("sec-fetch-site", site),
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{site}");
        assert_eq!(
            answer.json(),
            refused_cross_site(&format!("Sec-Fetch-Site: {site}"))
        );
    }
    assert_eq!(journal_total(&server).await, 1, "nothing was reset");
}

#[tokio::test]
async fn a_text_plain_post_to_reset_is_refused_with_415() {
    let server = TestServer::start().await;
    one_vendor_request(&server).await;
    let answer = server
        .send(
            server
                .request(Method::POST, "/__admin/reset")
                .header("content-type", "text/plain")
                .body("x"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        answer.json(),
        json!({"error": "json_required", "message": "an admin write with a body needs Content-Type: application/json (got text/plain); a bodiless one needs no Content-Type"})
    );
    // A form post without a body still declares a content type.
    let answer = server
        .send(
            server
                .request(Method::POST, "/__admin/reset")
                .header("content-type", "application/x-www-form-urlencoded"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A body without any content type is refused too.
    let answer = server
        .send(
            server
                .request(Method::PUT, "/__admin/clock")
                .body(r#"{"now":"2030-01-01T00:00:00Z"}"#),
        )
        .await;
    assert_eq!(
        answer.json(),
        json!({"error": "json_required", "message": "an admin write with a body needs Content-Type: application/json (got none); a bodiless one needs no Content-Type"})
    );
    assert_eq!(journal_total(&server).await, 1, "nothing was reset");
}

#[tokio::test]
async fn same_origin_json_writes_and_bodiless_posts_pass() {
    let server = TestServer::start().await;
    one_vendor_request(&server).await;
    let origin = server.base.clone();
    let answer = server
        .send(
            server
                .request(Method::PUT, "/__admin/clock")
                .header("origin", origin.as_str())
                .header("sec-fetch-site", "same-origin")
                .json(&json!({"now": "2030-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(
        answer.json(),
        json!({"now": "2030-01-01T00:00:00.000Z", "frozen": true, "session": null})
    );
    let answer = server
        .send(
            server
                .request(Method::POST, "/__admin/reset")
                .header("origin", origin.as_str())
                .header("sec-fetch-site", "same-origin"),
        )
        .await;
    assert_eq!(answer.json(), json!({"status": "reset", "session": null}));
    // curl's bodiless POST: no Origin, no Content-Type.
    let answer = server
        .send(server.request(Method::POST, "/__admin/reset"))
        .await;
    assert_eq!(answer.json(), json!({"status": "reset", "session": null}));
    assert_eq!(journal_total(&server).await, 0);
}

#[tokio::test]
async fn the_dashboard_page_opens_from_a_link_on_another_site() {
    let server = TestServer::start().await;
    let answer = server
        .send(
            server
                .request(Method::GET, "/__admin/ui")
                .header("sec-fetch-site", "cross-site"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        answer.text.starts_with("<!doctype html>"),
        "{}",
        answer.text
    );
}

/// `printf %s SECRET | sha256sum`, cut to 8 hex digits.
const FP_ACTIVITY_ADMIN: &str = "sha256:9fa262a3";
const FP_RELESYS_SECRET: &str = "sha256:55140d95";

async fn relesys_token_request(server: &TestServer) -> Reply {
    server
        .send(
            server
                .request(Method::POST, "/relesys/login/oauth/authorize")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("grant_type=client_credentials&client_id={RELESYS_CLIENT}&client_secret=relesys-admin-secret&scope=relesys.api")),
        )
        .await
}

#[tokio::test]
async fn credentials_are_listed_as_fingerprints_but_still_matched_as_sent() {
    let server = TestServer::start().await;
    one_vendor_request(&server).await;
    let token = relesys_token_request(&server).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text);
    let issued = token.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let listed = server
        .send(server.request(Method::GET, "/__admin/requests"))
        .await
        .json();
    let entries = listed["requests"].as_array().expect("entries");
    assert_eq!(
        entries[0]["headers"]["authorization"],
        format!("Bearer {FP_ACTIVITY_ADMIN}")
    );
    assert_eq!(
        entries[1]["body"],
        format!("grant_type=client_credentials&client_id={RELESYS_CLIENT}&client_secret={FP_RELESYS_SECRET}&scope=relesys.api")
    );
    let mut answer = token.json();
    answer["access_token"] = json!(fingerprint_of(&issued));
    assert_eq!(entries[1]["response"]["json"], answer);
    assert_eq!(
        serde_json::from_str::<Value>(entries[1]["response"]["body"].as_str().unwrap_or_default())
            .ok(),
        Some(answer),
        "the answer's body text is fingerprinted as well"
    );
    assert!(
        !listed.to_string().contains("activity-admin")
            && !listed.to_string().contains("relesys-admin-secret")
            && !listed.to_string().contains(&issued),
        "no credential is listed as sent: {listed}"
    );
    // find and count match the credentials as sent.
    let answer = server
        .send(
            server
                .request(Method::POST, "/__admin/requests/count")
                .json(&json!({"headers": {"authorization": "Bearer activity-admin"}})),
        )
        .await;
    assert_eq!(answer.json(), json!({"count": 1}));
}

/// The fingerprint of a token only the server knew before the test.
fn fingerprint_of(secret: &str) -> String {
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(secret.as_bytes())
        .expect("written");
    let out = child.wait_with_output().expect("sha256sum output");
    format!("sha256:{}", &String::from_utf8_lossy(&out.stdout)[..8])
}

#[tokio::test]
async fn journal_credentials_show_lists_them_as_sent() {
    let server = TestServer::start_with(usermock::Options {
        show_journal_credentials: true,
        ..usermock::Options::default()
    })
    .await;
    one_vendor_request(&server).await;
    relesys_token_request(&server).await;
    let listed = server
        .send(server.request(Method::GET, "/__admin/requests"))
        .await
        .json();
    assert_eq!(
        listed["requests"][0]["headers"]["authorization"],
        "Bearer activity-admin"
    );
    assert_eq!(
        listed["requests"][1]["body"],
        format!("grant_type=client_credentials&client_id={RELESYS_CLIENT}&client_secret=relesys-admin-secret&scope=relesys.api")
    );
}

#[test]
fn the_binary_takes_admin_host_and_journal_credentials_flags() {
    let server = BinaryServer::start(&[
        "--admin-host",
        "usermock,ci-alias",
        "--journal-credentials",
        "show",
    ]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let get = |path: &str, host: &str| -> String {
        let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer activity-admin\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    };
    assert!(get("/__admin/health", "usermock:8080").starts_with("HTTP/1.1 200"));
    assert!(get("/__admin/health", "ci-alias").starts_with("HTTP/1.1 200"));
    assert!(get("/__admin/health", "evil.example").starts_with("HTTP/1.1 403"));
    get(&user_path(), "localhost");
    let listed = get("/__admin/requests", "localhost");
    assert!(
        listed.contains("\"authorization\":\"Bearer activity-admin\""),
        "{listed}\n{}",
        server.stderr()
    );
}

/// A server on 127.0.0.1 that answers any request with 200 and a chunked
/// body that never ends, until its client goes away or `stop` is set.
fn endless_body_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let stopped = std::sync::Arc::clone(&stop);
    std::thread::spawn(move || {
        listener.set_nonblocking(true).expect("nonblocking");
        let started = Instant::now();
        while !stopped.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(60) {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            let stopped = std::sync::Arc::clone(&stopped);
            std::thread::spawn(move || {
                let _ = stream.set_nonblocking(false);
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                );
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
                let begun = Instant::now();
                while !stopped.load(Ordering::Relaxed) && begun.elapsed() < Duration::from_secs(60)
                {
                    if stream.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), stop)
}

#[test]
fn push_reads_a_bounded_part_of_an_endless_answer_and_finishes() {
    let (url, stop) = endless_body_server();
    let started = Instant::now();
    let mut child = binary()
        .args([
            "push",
            "--url",
            &url,
            "--activate",
            "any-thing",
            "--timeout",
            "60",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("push starts");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            panic!("push still reading an endless answer after 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    assert!(status.success(), "push failed: {stdout}");
    assert_eq!(stdout, "activated scenario any-thing\n");
}
