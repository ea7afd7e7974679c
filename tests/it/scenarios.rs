//! Scenario files: every shipped scenario, the rule features, activation,
//! and what a client observes for each fault.

use crate::common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{BinaryServer, Reply, TempDir, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const ACTIVITY_USER: &str =
    "/activity/v2/clients/aa7cf840-9ca9-46a3-9778-9015d6580d50/users/a1d97031-04e2-4907-a249-093f7436207b";
const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";
const ENGINEERING: &str = "d1a2b3c4-e5f6-7890-abcd-ef1234567890";
const PLATFORM: &str = "e2b3c4d5-f6a7-8901-bcde-f12345678901";
const RELESYS_USER: &str = "6cd99267-5adf-462d-88a2-6f86b7b2a164";
const SOFIA: &str = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e";
const REPLAY_RECORD: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
const CHILD: &str = "22222222-2222-4222-8222-222222222222";
const AWORK_LINK: &str = "https://developers.awork.com/#response-types";

/// One shipped scenario, the request that triggers it, and the answer.
struct Case {
    scenario: &'static str,
    method: Method,
    path: String,
    auth: (&'static str, &'static str),
    body: Option<Value>,
    status: u16,
    expected: Value,
    headers: Vec<(&'static str, &'static str)>,
}

fn case(
    scenario: &'static str,
    method: Method,
    path: String,
    auth: (&'static str, &'static str),
    status: u16,
    expected: Value,
) -> Case {
    Case {
        scenario,
        method,
        path,
        auth,
        body: None,
        status,
        expected,
        headers: vec![],
    }
}

impl Case {
    fn body(mut self, body: Value) -> Case {
        self.body = Some(body);
        self
    }

    fn header(mut self, name: &'static str, value: &'static str) -> Case {
        self.headers.push((name, value));
        self
    }
}

fn activity_error(code: &str, message: &str, details: Value) -> Value {
    json!({"error": {"code": code, "message": message, "details": details}})
}

fn awork_error(code: &str, description: &str, details: Value, validation: Value) -> Value {
    json!({"code": code, "description": description, "link": AWORK_LINK, "details": details, "validationErrors": validation})
}

fn vendor_error_cases() -> Vec<Case> {
    let activity = ("authorization", "Bearer activity-admin");
    let relesys = ("authorization", "Bearer relesys-admin");
    let awork = ("authorization", "Bearer awork-admin");
    let replay = ("x-api-key", "replay-child");
    let a_path = ACTIVITY_USER.to_owned();
    let r_path = format!("/relesys/api/v1.3/users/{RELESYS_USER}");
    let w_path = format!("/awork/api/v1/users/{SOFIA}");
    let p_path = format!("/replay/api/user/{REPLAY_RECORD}");
    vec![
        case("activity-invalid-request", Method::PATCH, a_path.clone(), activity, 400,
            activity_error("invalid_request", "Invalid request body", json!({}))).body(json!({"departments": []})),
        case("activity-unauthorized", Method::GET, a_path.clone(), activity, 401,
            activity_error("unauthorized", "Authentication required", json!({"reason": "unknown token"})))
            .header("www-authenticate", "Bearer"),
        case("activity-forbidden", Method::GET, a_path.clone(), activity, 403,
            activity_error("forbidden", "Insufficient permissions for this client", json!({"client_id": CLIENT}))),
        case("activity-user-not-found", Method::GET, a_path.clone(), activity, 404,
            activity_error("not_found", "User not found", json!({"user_id": USER}))),
        case("activity-client-not-found", Method::GET, a_path.clone(), activity, 404,
            activity_error("not_found", "Client not found", json!({"client_id": CLIENT}))),
        case("activity-department-not-found", Method::PATCH, a_path.clone(), activity, 404,
            activity_error("not_found", "One or more departments not found", json!({"invalid_department_ids": [ENGINEERING, PLATFORM]})))
            .body(json!({"departments": [ENGINEERING, ENGINEERING, PLATFORM]})),
        case("activity-server-error", Method::GET, a_path, activity, 500,
            activity_error("internal_error", "Server error", json!({}))),
        case("activity-unknown-department", Method::GET, format!("/activity/v2/clients/{CLIENT}/departments/{ENGINEERING}"), activity, 404,
            activity_error("not_found", "Department not found", json!({"department_id": ENGINEERING}))),
        case("activity-department-name-conflict", Method::POST, format!("/activity/v2/clients/{CLIENT}/departments"), activity, 409,
            activity_error("conflict", "A department with this name already exists", json!({"name": "Research"})))
            .body(json!({"name": "Research"})),
        case("activity-department-name-required", Method::POST, format!("/activity/v2/clients/{CLIENT}/departments"), activity, 400,
            activity_error("invalid_request", "Department name is required", json!({"field": "name"})))
            .body(json!({"name": "Lab"})),
        case("activity-invalid-stale-threshold", Method::GET, format!("/activity/v2/clients/{CLIENT}/users/summary?stale_threshold=60"), activity, 400,
            activity_error("invalid_request", "stale_threshold must be a positive integer", json!({"field": "stale_threshold", "value": "60"}))),
        case("activity-invalid-cursor", Method::GET, format!("/activity/v2/clients/{CLIENT}/users"), activity, 400,
            activity_error("invalid_request", "Invalid cursor", json!({"field": "cursor"}))),
        case("relesys-invalid-request", Method::PATCH, r_path.clone(), relesys, 400,
            json!({"errorCode": "400", "message": "The request is invalid"})).body(json!([])),
        case("relesys-unauthorized", Method::GET, r_path.clone(), relesys, 401,
            json!({"errorCode": "401", "message": "Authorization has been denied for this request: unknown token"}))
            .header("www-authenticate", "Bearer"),
        case("relesys-forbidden", Method::PATCH, r_path.clone(), relesys, 403,
            json!({"errorCode": "403", "message": "Insufficient scope for this endpoint. Accepted scopes: relesys.api, relesys.api:write, relesys.api.users, relesys.api.users:write",
                   "acceptedScopes": ["relesys.api", "relesys.api:write", "relesys.api.users", "relesys.api.users:write"]}))
            .body(json!([])),
        case("relesys-user-not-found", Method::GET, r_path.clone(), relesys, 404,
            json!({"errorCode": "404", "message": format!("The user '{RELESYS_USER}' was not found")})),
        case("relesys-rate-limited", Method::GET, r_path.clone(), relesys, 429,
            json!({"errorCode": "429", "message": "Request quota exceeded. A maximum of 100 requests are allowed per minute"}))
            .header("retry-after", "24"),
        case("relesys-server-error", Method::GET, r_path, relesys, 500,
            json!({"errorCode": "500", "message": "An error has occurred."})),
        case("awork-validation-failed", Method::PUT, w_path.clone(), awork, 400,
            awork_error("validation-failed", "The model sent in the request is invalid. See the validation errors for details.", json!([]),
                json!([{"property": "FirstName", "message": "'FirstName' must be a string, not a number."}]))).body(json!({})),
        case("awork-invalid-model", Method::PUT, w_path.clone(), awork, 400,
            awork_error("invalid-model", "The model sent in the request is invalid or empty.", json!(["The request body is not valid JSON."]), json!([])))
            .body(json!({})),
        case("awork-date-out-of-range", Method::PUT, w_path.clone(), awork, 400,
            awork_error("date-out-of-range", "A date is outside of the allowed range.", json!(["The birth date must not be in the future."]),
                json!([{"property": "BirthDate", "message": "The birth date must not be in the future."}]))).body(json!({})),
        case("awork-entity-archived", Method::PUT, w_path.clone(), awork, 400,
            awork_error("entity-archived", "The entity is archived and cannot be changed.", json!([format!("User '{SOFIA}' is archived.")]), json!([])))
            .body(json!({})),
        case("awork-deactivated-user", Method::PUT, w_path.clone(), awork, 400,
            awork_error("deactivated-user", "The user is deactivated and cannot be changed.", json!([format!("User '{SOFIA}' is deactivated.")]), json!([])))
            .body(json!({})),
        case("awork-unauthorized", Method::PUT, w_path.clone(), awork, 401,
            awork_error("unauthorized", "The requesting user is lacking the necessary permissions for this request.",
                json!(["Updating a user requires being an admin, the creator of the user, or the permission user-master-data:write."]), json!([])))
            .body(json!({})),
        case("awork-unauthenticated", Method::GET, w_path.clone(), awork, 401,
            awork_error("unauthorized", "The request requires a valid access token.", json!(["The bearer token is not valid."]), json!([])))
            .header("www-authenticate", "Bearer"),
        case("awork-user-not-found", Method::GET, w_path.clone(), awork, 404,
            awork_error("not-found", "The requested entity was not found.", json!([format!("No user with id '{SOFIA}' exists.")]), json!([]))),
        case("awork-rate-limited", Method::GET, w_path.clone(), awork, 429, json!({"message": "API rate limit exceeded"}))
            .header("ratelimit-limit", "1000")
            .header("ratelimit-remaining", "0")
            .header("ratelimit-reset", "47")
            .header("x-ratelimit-limit-minute", "1000")
            .header("x-ratelimit-remaining-minute", "0"),
        case("awork-server-error", Method::GET, w_path, awork, 500,
            awork_error("server-error", "An unexpected error occurred.", json!([]), json!([]))),
        case("replay-invalid-request", Method::PATCH, p_path.clone(), replay, 400,
            json!({"error": "Invalid request body", "details": [{"field": "firstName", "message": "Must be at least 1 character"}]}))
            .body(json!({})),
        case("replay-unauthorized", Method::GET, p_path.clone(), replay, 401, json!({"error": "Invalid API key"})),
        case("replay-forbidden", Method::PATCH, p_path.clone(), ("x-api-key", "replay-parent"), 403,
            json!({"error": format!("Company '{CHILD}' is not a direct child of your company")}))
            .body(json!({"childCompanyId": CHILD})),
        case("replay-user-not-found", Method::GET, p_path.clone(), replay, 404, json!({"error": "User not found"})),
        case("replay-server-error", Method::GET, p_path, replay, 500, json!({"error": "Internal server error"})),
    ]
}

async fn send_case(server: &TestServer, c: &Case, scenario: Option<&str>) -> Reply {
    let mut request = server
        .request(c.method.clone(), &c.path)
        .header(c.auth.0, c.auth.1);
    if let Some(scenario) = scenario {
        request = request.header("x-usermock-scenario", scenario);
    }
    if let Some(body) = &c.body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    server.send(request).await
}

#[tokio::test]
async fn every_shipped_vendor_error_scenario_answers_in_the_vendors_own_format() {
    let server = TestServer::start().await;
    for c in vendor_error_cases() {
        // Without the scenario the same request succeeds (or at least differs).
        let plain = send_case(&server, &c, None).await;
        assert_ne!(
            plain.status.as_u16(),
            c.status,
            "{}: the request alone already fails",
            c.scenario
        );
        let answer = send_case(&server, &c, Some(c.scenario)).await;
        assert_eq!(
            answer.status.as_u16(),
            c.status,
            "{}: {}",
            c.scenario,
            answer.text
        );
        let mut got = answer.json();
        if c.scenario.starts_with("awork-") {
            // awork's traceId is random per error: checked for its form
            // (its 429, whose body awork does not document, has none).
            if let Some(trace) = got.as_object_mut().and_then(|m| m.remove("traceId")) {
                let trace = trace.as_str().unwrap_or_default();
                let hex = trace
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                assert!(
                    trace.len() == 32 && hex,
                    "{}: traceId {trace:?}",
                    c.scenario
                );
            }
        }
        assert_eq!(got, c.expected, "{}", c.scenario);
        for (name, value) in &c.headers {
            assert_eq!(
                answer.header(name),
                Some(*value),
                "{}: header {name}",
                c.scenario
            );
        }
    }
}

/// The one coverage check: every shipped scenario belongs to a registered
/// vendor (or is an `any-` fault) and is tested with its whole answer by a
/// case list: this file's, awork's and Replay's route tests, and those of
/// the vendor modules in `tests/it/vendors/`.
#[tokio::test]
async fn every_shipped_scenario_has_a_test() {
    let server = TestServer::start().await;
    let listed = server
        .send(server.request(Method::GET, "/__admin/scenarios"))
        .await
        .json();
    let shipped: BTreeSet<String> = listed["scenarios"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|s| s["source"] == "embedded")
        .map(|s| s["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    let vendors = usermock::vendor_names();
    for name in &shipped {
        let vendor = name.split('-').next().unwrap_or_default();
        assert!(
            vendor == "any" || vendors.contains(&vendor),
            "scenarios/{name}.json: '{vendor}' is no registered vendor"
        );
    }
    let mut tested: BTreeSet<String> = vendor_error_cases()
        .iter()
        .map(|c| c.scenario.to_owned())
        .collect();
    tested.extend(
        crate::awork_routes::tested_scenarios()
            .into_iter()
            .chain(crate::replay_scenarios::tested_scenarios())
            .chain(crate::vendor_module_scenarios())
            .map(str::to_owned),
    );
    for fault in [
        "any-slow",
        "any-timeout",
        "any-connection-reset",
        "any-malformed-body",
        "any-truncated-body",
        "any-close-after-headers",
        "any-wrong-content-type",
        "any-503-then-recover",
        "any-500-then-recover",
    ] {
        tested.insert(fault.to_owned());
    }
    assert_eq!(
        shipped, tested,
        "a shipped scenario without a test, or a test for a missing one"
    );
}

// ------------------------------------------------------------------ faults --

/// Sends a GET of the activity user with a scenario over a raw socket and
/// returns (what arrived, whether the read ended in an error).
fn raw_get(base: &str, scenario: &str) -> (Vec<u8>, Option<std::io::ErrorKind>) {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let request = format!(
        "GET {ACTIVITY_USER} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer activity-admin\r\nX-Usermock-Scenario: {scenario}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (received, None),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(err) => return (received, Some(err.kind())),
        }
    }
}

fn split_response(raw: &[u8]) -> (String, Vec<u8>) {
    let text = String::from_utf8_lossy(raw);
    let end = text.find("\r\n\r\n").expect("a complete head");
    (text[..end].to_owned(), raw[end + 4..].to_vec())
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("content-length")
}

#[tokio::test]
async fn connection_reset_resets_the_connection_without_an_answer() {
    let server = TestServer::start().await;
    let base = server.base.clone();
    let (received, error) =
        tokio::task::spawn_blocking(move || raw_get(&base, "any-connection-reset"))
            .await
            .expect("task");
    assert!(received.is_empty(), "no byte of an answer: {received:?}");
    assert_eq!(error, Some(std::io::ErrorKind::ConnectionReset));
}

#[tokio::test]
async fn timeout_holds_the_request_until_the_client_gives_up() {
    let server = TestServer::start().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(800))
        .build()
        .expect("client");
    let started = Instant::now();
    let result = client
        .get(server.url(ACTIVITY_USER))
        .bearer_auth("activity-admin")
        .header("x-usermock-scenario", "any-timeout")
        .send()
        .await;
    let err = result.expect_err("no answer may arrive");
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(800));
    // The server itself is not stuck: other requests are answered.
    let answer = server
        .send(
            server
                .request(Method::GET, ACTIVITY_USER)
                .bearer_auth("activity-admin"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn truncated_body_sends_the_headers_and_half_the_body_then_closes() {
    let server = TestServer::start().await;
    let base = server.base.clone();
    let (received, _) = tokio::task::spawn_blocking(move || raw_get(&base, "any-truncated-body"))
        .await
        .expect("task");
    let (head, body) = split_response(&received);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let promised = content_length(&head);
    assert_eq!(
        body.len(),
        promised / 2,
        "half of the {promised} promised bytes"
    );
    assert!(serde_json::from_slice::<Value>(&body).is_err());
}

#[tokio::test]
async fn close_after_headers_sends_no_body() {
    let server = TestServer::start().await;
    let base = server.base.clone();
    let (received, _) =
        tokio::task::spawn_blocking(move || raw_get(&base, "any-close-after-headers"))
            .await
            .expect("task");
    let (head, body) = split_response(&received);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(content_length(&head) > 0);
    assert!(body.is_empty(), "{body:?}");
    // reqwest reports the broken body as an error while reading it.
    let response = server
        .request(Method::GET, ACTIVITY_USER)
        .bearer_auth("activity-admin")
        .header("x-usermock-scenario", "any-close-after-headers")
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.is_err());
}

#[tokio::test]
async fn malformed_body_is_complete_http_but_not_json() {
    let server = TestServer::start().await;
    let answer = server
        .send(
            server
                .request(Method::GET, ACTIVITY_USER)
                .bearer_auth("activity-admin")
                .header("x-usermock-scenario", "any-malformed-body"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(
        answer
            .text
            .starts_with(r#"{"id":"a1d97031-04e2-4907-a249-093f7436207b""#),
        "{}",
        answer.text
    );
    assert!(serde_json::from_str::<Value>(&answer.text).is_err());
}

#[tokio::test]
async fn wrong_content_type_labels_the_json_answer_as_html() {
    let server = TestServer::start().await;
    let answer = server
        .send(
            server
                .request(Method::GET, ACTIVITY_USER)
                .bearer_auth("activity-admin")
                .header("x-usermock-scenario", "any-wrong-content-type"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(answer.json()["username"], "mikechang");
}

#[tokio::test]
async fn slow_answers_normally_five_seconds_late() {
    let server = TestServer::start().await;
    let started = Instant::now();
    let answer = server
        .send(
            server
                .request(Method::GET, ACTIVITY_USER)
                .bearer_auth("activity-admin")
                .header("x-usermock-scenario", "any-slow"),
        )
        .await;
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["username"], "mikechang");
}

#[tokio::test]
async fn a_503_then_recovery_and_a_500_then_recovery() {
    let server = TestServer::start().await;
    let get = |scenario: &'static str| {
        server
            .request(Method::GET, ACTIVITY_USER)
            .bearer_auth("activity-admin")
            .header("x-usermock-scenario", scenario)
    };
    let first = server.send(get("any-503-then-recover")).await;
    assert_eq!(first.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(first.text, "Service Unavailable");
    assert_eq!(first.header("retry-after"), Some("1"));
    assert_eq!(
        first.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    for _ in 0..3 {
        assert_eq!(
            server.send(get("any-503-then-recover")).await.status,
            StatusCode::OK
        );
    }
    let first = server.send(get("any-500-then-recover")).await;
    assert_eq!(first.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(first.json(), json!({"error": "Internal Server Error"}));
    assert_eq!(
        server.send(get("any-500-then-recover")).await.status,
        StatusCode::OK
    );
}

// ------------------------------------------------------------ rule features --

async fn upload(server: &TestServer, scenario: Value) -> Reply {
    server
        .send(
            server
                .request(Method::POST, "/__admin/scenarios")
                .json(&scenario),
        )
        .await
}

async fn get_with(server: &TestServer, scenario: &str, session: Option<&str>) -> StatusCode {
    let mut request = server
        .request(Method::GET, ACTIVITY_USER)
        .bearer_auth("activity-admin")
        .header("x-usermock-scenario", scenario);
    if let Some(session) = session {
        request = request.header("x-usermock-session", session);
    }
    server.send(request).await.status
}

#[tokio::test]
async fn times_fires_only_for_the_first_n_calls() {
    let server = TestServer::start().await;
    let answer = upload(
        &server,
        json!({"name": "activity-twice", "rules": [{"times": 2, "answer": {"vendor_error": {"status": 500}}}]}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let seen: Vec<u16> = futures_in_order(&server, "activity-twice", 4).await;
    assert_eq!(seen, [500, 500, 200, 200]);
}

#[tokio::test]
async fn nth_fires_only_on_that_call() {
    let server = TestServer::start().await;
    upload(&server, json!({"name": "activity-third", "rules": [{"nth": 3, "answer": {"vendor_error": {"status": 403}}}]})).await;
    assert_eq!(
        futures_in_order(&server, "activity-third", 4).await,
        [200, 200, 403, 200]
    );
}

#[tokio::test]
async fn a_sequence_answers_call_by_call_then_falls_through() {
    let server = TestServer::start().await;
    upload(
        &server,
        json!({"name": "activity-flaky", "rules": [{"sequence": [
            {"vendor_error": {"status": 500}},
            {"respond": {"status": 502, "text": "Bad Gateway"}},
            {"emulate": {}},
            {"vendor_error": {"status": 401}}
        ]}]}),
    )
    .await;
    assert_eq!(
        futures_in_order(&server, "activity-flaky", 6).await,
        [500, 502, 200, 401, 200, 200]
    );
}

async fn futures_in_order(server: &TestServer, scenario: &str, n: usize) -> Vec<u16> {
    let mut seen = Vec::new();
    for _ in 0..n {
        seen.push(get_with(server, scenario, None).await.as_u16());
    }
    seen
}

#[tokio::test]
async fn requests_no_rule_matches_fall_through_to_the_emulation() {
    let server = TestServer::start().await;
    upload(
        &server,
        json!({"name": "activity-patch-only", "rules": [{"match": {"method": "PATCH"}, "answer": {"vendor_error": {"status": 500}}}]}),
    )
    .await;
    assert_eq!(
        get_with(&server, "activity-patch-only", None).await,
        StatusCode::OK
    );
    let patch = server
        .request(Method::PATCH, ACTIVITY_USER)
        .bearer_auth("activity-admin")
        .header("content-type", "application/json")
        .header("x-usermock-scenario", "activity-patch-only")
        .body("{}");
    assert_eq!(
        server.send(patch).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    // Another vendor is not touched by an activity scenario.
    let other = server
        .request(
            Method::GET,
            &format!("/relesys/api/v1.3/users/{RELESYS_USER}"),
        )
        .bearer_auth("relesys-admin")
        .header("x-usermock-scenario", "activity-patch-only");
    assert_eq!(server.send(other).await.status, StatusCode::OK);
}

#[tokio::test]
async fn rules_match_on_path_params_query_headers_and_body() {
    let server = TestServer::start().await;
    let answer = upload(
        &server,
        json!({"name": "activity-precise", "rules": [
            {"match": {"path": "/v2/clients/{client}/users/{user}", "path_params": {"user": USER.to_uppercase()}, "query": {"debug": "1"}},
             "answer": {"respond": {"status": 418, "json": {"matched": "path_params+query"}}}},
            {"match": {"headers": {"x-team": "payments"}}, "answer": {"respond": {"status": 419, "json": {"matched": "header"}}}},
            {"match": {"body": {"json": {"departments": [ENGINEERING]}}}, "answer": {"respond": {"status": 420, "json": {"matched": "json"}}}},
            {"match": {"body": {"pointers": {"/departments/1": PLATFORM}}}, "answer": {"respond": {"status": 421, "json": {"matched": "pointer"}}}},
            {"match": {"body": {"regex": "ffff+"}}, "answer": {"respond": {"status": 422, "json": {"matched": "regex"}}}}
        ]}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let send = |query: &str, header: Option<&str>, body: Option<Value>| {
        let mut request = server
            .request(Method::PATCH, &format!("{ACTIVITY_USER}{query}"))
            .bearer_auth("activity-admin")
            .header("content-type", "application/json")
            .header("x-usermock-scenario", "activity-precise")
            .body(body.unwrap_or(json!({})).to_string());
        if let Some(team) = header {
            request = request.header("x-team", team);
        }
        request
    };
    assert_eq!(
        server
            .send(send("?debug=1", None, None))
            .await
            .status
            .as_u16(),
        418
    );
    assert_eq!(
        server
            .send(send("?debug=2", Some("payments"), None))
            .await
            .status
            .as_u16(),
        419
    );
    assert_eq!(
        server
            .send(send(
                "",
                Some("billing"),
                Some(json!({"departments": [ENGINEERING]}))
            ))
            .await
            .status
            .as_u16(),
        420
    );
    assert_eq!(
        server
            .send(send(
                "",
                None,
                Some(json!({"departments": [ENGINEERING, PLATFORM]}))
            ))
            .await
            .status
            .as_u16(),
        421
    );
    assert_eq!(
        server
            .send(send(
                "",
                None,
                Some(json!({"departments": ["ffffffff-ffff-ffff-ffff-ffffffffffff"]}))
            ))
            .await
            .status
            .as_u16(),
        422
    );
    assert_eq!(
        server
            .send(send("", None, Some(json!({"departments": []}))))
            .await
            .status
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn a_delay_before_emulate_adds_latency_without_changing_the_answer() {
    let server = TestServer::start().await;
    upload(&server, json!({"name": "any-bit-slow", "rules": [{"answer": {"emulate": {"delay_ms": 300, "jitter_ms": 50}}}]})).await;
    let started = Instant::now();
    assert_eq!(
        get_with(&server, "any-bit-slow", None).await,
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
}

// ---------------------------------------------------- activation, isolation --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_activation_in_parallel_sessions_never_interferes() {
    let server = std::sync::Arc::new(TestServer::start().await);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let server = std::sync::Arc::clone(&server);
        tasks.push(tokio::spawn(async move {
            let session = format!("test-{i}");
            // Half the tests use the 503-then-recover scenario, half the 404.
            if i % 2 == 0 {
                let first = get_with(&server, "any-503-then-recover", Some(&session)).await;
                let second = get_with(&server, "any-503-then-recover", Some(&session)).await;
                (first.as_u16(), second.as_u16())
            } else {
                let first = get_with(&server, "activity-user-not-found", Some(&session)).await;
                let second = get_with(&server, "activity-user-not-found", Some(&session)).await;
                (first.as_u16(), second.as_u16())
            }
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let seen = task.await.expect("task");
        let expected = if i % 2 == 0 { (503, 200) } else { (404, 404) };
        assert_eq!(seen, expected, "session {i}");
    }
    // And a request with no scenario is untouched by any of them.
    let plain = server
        .send(
            server
                .request(Method::GET, ACTIVITY_USER)
                .bearer_auth("activity-admin"),
        )
        .await;
    assert_eq!(plain.status, StatusCode::OK);
}

#[tokio::test]
async fn the_admin_api_activates_for_everyone_or_for_one_session() {
    let server = TestServer::start().await;
    let plain = |session: Option<&'static str>| {
        let mut request = server
            .request(Method::GET, ACTIVITY_USER)
            .bearer_auth("activity-admin");
        if let Some(session) = session {
            request = request.header("x-usermock-session", session);
        }
        request
    };
    // Per session.
    let answer = server
        .send(
            server
                .request(
                    Method::POST,
                    "/__admin/scenarios/activity-server-error/activate",
                )
                .header("x-usermock-session", "s1"),
        )
        .await;
    assert_eq!(
        answer.json(),
        json!({"scenario": "activity-server-error", "active": true, "session": "s1"})
    );
    assert_eq!(
        server.send(plain(Some("s1"))).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(server.send(plain(Some("s2"))).await.status, StatusCode::OK);
    assert_eq!(server.send(plain(None)).await.status, StatusCode::OK);
    // For everyone.
    server
        .send(server.request(
            Method::POST,
            "/__admin/scenarios/activity-forbidden/activate",
        ))
        .await;
    assert_eq!(server.send(plain(None)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        server.send(plain(Some("s2"))).await.status,
        StatusCode::FORBIDDEN
    );
    let listed = server
        .send(server.request(Method::GET, "/__admin/scenarios"))
        .await
        .json();
    let entry = listed["scenarios"]
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|s| s["name"] == "activity-forbidden")
                .cloned()
        })
        .expect("listed");
    assert_eq!(entry["active"], true);
    server
        .send(server.request(
            Method::POST,
            "/__admin/scenarios/activity-forbidden/deactivate",
        ))
        .await;
    assert_eq!(server.send(plain(None)).await.status, StatusCode::OK);
    let answer = server
        .send(server.request(Method::POST, "/__admin/scenarios/nope/activate"))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn uploads_are_validated_listed_readable_and_deletable() {
    let server = TestServer::start().await;
    let answer = upload(
        &server,
        json!({"name": "activity-bad", "rules": [
            {"match": {"body": {"regex": "("}, "colour": "red"}, "answer": {"emulate": {}}}
        ]}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["error"], "invalid_scenario");
    assert_eq!(
        answer.json()["problems"][0]["pointer"],
        "/rules/0/match/colour"
    );
    let answer = upload(
        &server,
        json!({"name": "activity-bad", "rules": [{"match": {"body": {"regex": "("}}, "answer": {"emulate": {}}}]}),
    )
    .await;
    assert_eq!(
        answer.json()["problems"][0]["pointer"],
        "/rules/0/match/body/regex"
    );

    let scenario = json!({"name": "activity-custom", "description": "custom", "rules": [{"answer": {"vendor_error": {"status": 403}}}]});
    assert_eq!(
        upload(&server, scenario.clone()).await.status,
        StatusCode::CREATED
    );
    let read = server
        .send(server.request(Method::GET, "/__admin/scenarios/activity-custom"))
        .await;
    assert_eq!(
        read.json()["rules"][0]["answer"],
        scenario["rules"][0]["answer"]
    );
    let deleted = server
        .send(server.request(Method::DELETE, "/__admin/scenarios/activity-custom"))
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    let answer = server
        .send(
            server
                .request(Method::GET, ACTIVITY_USER)
                .bearer_auth("activity-admin")
                .header("x-usermock-scenario", "activity-custom"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["error"], "unknown_scenario");
}

#[tokio::test]
async fn reset_starts_the_counters_again() {
    let server = TestServer::start().await;
    assert_eq!(
        get_with(&server, "any-503-then-recover", None)
            .await
            .as_u16(),
        503
    );
    assert_eq!(
        get_with(&server, "any-503-then-recover", None)
            .await
            .as_u16(),
        200
    );
    server
        .send(server.request(Method::POST, "/__admin/reset"))
        .await;
    assert_eq!(
        get_with(&server, "any-503-then-recover", None)
            .await
            .as_u16(),
        503
    );
}

// ------------------------------------------------------- files and startup --

#[test]
fn scenario_at_startup_and_scenario_files_from_a_folder() {
    let dir = TempDir::new("scenario-files");
    dir.write(
        "relesys-teapot.json",
        &json!({"name": "relesys-teapot", "rules": [{"answer": {"respond": {"status": 418, "text": "teapot"}}}]}).to_string(),
    );
    let server = BinaryServer::start(&["--scenarios", dir.path(), "--scenario", "relesys-teapot"]);
    let mut stream =
        TcpStream::connect(server.base.trim_start_matches("http://")).expect("connect");
    stream
        .write_all(format!("GET /relesys/api/v1.3/users/{RELESYS_USER} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 418"), "{response}");
    assert!(response.ends_with("teapot"));
}

fn start_with_scenario(tag: &str, text: &str) -> (Option<i32>, String) {
    let dir = TempDir::new(tag);
    dir.write("scenario.json", text);
    let output = common::binary()
        .args(["--listen", "127.0.0.1:0", "--scenarios", dir.path()])
        .output()
        .expect("run");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn broken_scenario_files_stop_startup_naming_the_file_and_pointer() {
    let cases = [
        (
            json!({"name": "activity-x", "rules": [{"answer": {"emulate": {}}, "tmes": 2}]}),
            "at /rules/0/tmes: unknown field `tmes`",
        ),
        (
            json!({"name": "activity-x", "rules": [{"match": {"body": {"regex": "(["}}, "answer": {"emulate": {}}}]}),
            "at /rules/0/match/body/regex: invalid regex",
        ),
        (
            json!({"name": "salesforce-x", "rules": [{"answer": {"emulate": {}}}]}),
            "at /name: 'salesforce-x' must be '<vendor>-<case>'",
        ),
        (
            json!({"name": "any-x", "rules": [{"match": {"vendor": "salesforce"}, "answer": {"emulate": {}}}]}),
            "at /rules/0/match/vendor: unknown vendor 'salesforce'",
        ),
        (
            json!({"name": "replay-x", "rules": [{"answer": {"vendor_error": {"status": 429}}}]}),
            "at /rules/0/answer/vendor_error: replay has no documented 429 error",
        ),
        (
            json!({"name": "awork-x", "rules": [{"answer": {"vendor_error": {"status": 403}}}]}),
            "at /rules/0/answer/vendor_error: awork has no documented 403 error",
        ),
        (
            json!({"name": "activity-x", "rules": [{"match": {"path": "/v3/users/{id}"}, "answer": {"emulate": {}}}]}),
            "at /rules/0/match/path: '/v3/users/{id}' can never match",
        ),
        (
            json!({"name": "activity-x", "rules": [{"match": {"path": "/v2/clients/{c}/users/{u}", "path_params": {"user_id": "x"}}, "answer": {"emulate": {}}}]}),
            "at /rules/0/match/path_params/user_id",
        ),
        (
            json!({"name": "activity-x", "rules": [{"nth": 0, "answer": {"emulate": {}}}]}),
            "at /rules/0/nth: calls are counted from 1",
        ),
        (
            json!({"name": "activity-x", "rules": [{"answer": {"respond": {"status": 42}}}]}),
            "at /rules/0/answer/respond/status: 42 is not an HTTP status",
        ),
        (
            json!({"name": "activity-x", "rules": [{"match": {"method": "PA TCH"}, "answer": {"emulate": {}}}]}),
            "at /rules/0/match/method: 'PA TCH' is not an HTTP method",
        ),
    ];
    for (i, (scenario, expected)) in cases.iter().enumerate() {
        let (code, stderr) =
            start_with_scenario(&format!("bad-scenario-{i}"), &scenario.to_string());
        assert_eq!(code, Some(2), "{scenario}: {stderr}");
        assert!(stderr.contains("scenario.json"), "{stderr}");
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in:\n{stderr}"
        );
        assert!(
            stderr.contains("scenario.json:"),
            "the problem has its line and column:\n{stderr}"
        );
    }
    let (code, stderr) = start_with_scenario(
        "bad-json",
        "{\n  \"name\": \"activity-x\",\n  \"rules\": [\n",
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("scenario.json:4:"), "{stderr}");
}

#[test]
fn an_unknown_scenario_at_startup_is_refused() {
    let output = common::binary()
        .args(["--listen", "127.0.0.1:0", "--scenario", "activity-nope"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no scenario is named 'activity-nope'")
    );
}

#[test]
fn check_validates_scenario_files() {
    let dir = TempDir::new("check-scenarios");
    dir.write(
        "ok.json",
        &json!({"name": "any-fine", "rules": [{"answer": {"emulate": {}}}]}).to_string(),
    );
    let output = common::binary()
        .args(["check", "--scenarios", dir.path()])
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let output = common::binary()
        .arg("check")
        .arg("--scenarios")
        .arg(&shipped)
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir.write(
        "bad.json",
        &json!({"name": "any-bad", "rules": []}).to_string(),
    );
    let output = common::binary()
        .args(["check", "--scenarios", dir.path()])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(crate::common::lists_problem_with_place(
        &String::from_utf8_lossy(&output.stderr),
        "bad.json at /rules: a scenario needs at least one rule"
    ));
}
