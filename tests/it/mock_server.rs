//! The Rust test API, `usermock::MockServer`, used the way another team's
//! test would: start it, point a client at it, assert on what was sent.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use time::macros::datetime;
use usermock::{Matcher, MockServer, SessionView, StartupError};

const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";
const ENGINEERING: &str = "d1a2b3c4-e5f6-7890-abcd-ef1234567890";
const PLATFORM: &str = "e2b3c4d5-f6a7-8901-bcde-f12345678901";

fn user_url(server: &MockServer) -> String {
    format!(
        "{}/v2/clients/{CLIENT}/users/{USER}",
        server.base_url("activity")
    )
}

/// What the code under test would do: one activity call, optionally in a
/// session. Answers the status and the JSON body.
async fn call_activity(
    server: &MockServer,
    session: Option<&SessionView<'_>>,
    departments: Option<&[&str]>,
) -> (StatusCode, Value) {
    let client = reqwest::Client::new();
    let mut request = match departments {
        Some(departments) => client
            .patch(user_url(server))
            .json(&json!({ "departments": departments })),
        None => client.get(user_url(server)),
    };
    request = request.bearer_auth("activity-admin");
    if let Some(session) = session {
        let (name, value) = session.header();
        request = request.header(name, value);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn department_ids(user: &Value) -> Vec<&str> {
    user["departments"]
        .as_array()
        .expect("departments")
        .iter()
        .map(|d| d["id"].as_str().expect("department id"))
        .collect()
}

/// The message of a panic caught by `catch_unwind`.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[tokio::test]
async fn each_vendor_is_served_under_its_base_url() {
    let server = MockServer::start().await;
    let root = server.uri();
    assert_eq!(root, format!("http://{}", server.address()));
    for vendor in usermock::vendor_names() {
        assert_eq!(server.base_url(vendor), format!("{root}/{vendor}"));
    }
    let (status, user) = call_activity(&server, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["id"], USER);
}

#[tokio::test]
async fn base_url_of_an_unknown_vendor_panics_naming_the_known_ones() {
    let server = MockServer::start().await;
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| server.base_url("acme")))
        .expect_err("an unknown vendor panics");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert_eq!(
        message,
        format!(
            "usermock: no vendor named 'acme' (known: {})",
            usermock::vendor_names().join(", ")
        )
    );
}

#[tokio::test]
async fn requests_are_typed_journal_entries_of_what_was_sent() {
    let server = MockServer::start().await;
    call_activity(&server, None, Some(&[PLATFORM])).await;

    let requests = server.requests().await;
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "PATCH");
    assert_eq!(request.vendor.as_deref(), Some("activity"));
    // Timed to the microsecond: an answer takes some, and the millisecond
    // figure is the same duration, truncated.
    assert!(request.duration_us > 0, "{request:?}");
    assert_eq!(request.duration_ms, request.duration_us / 1000);
    assert_eq!(
        request.path,
        format!("/activity/v2/clients/{CLIENT}/users/{USER}")
    );
    assert_eq!(
        request.vendor_path.as_deref(),
        Some(format!("/v2/clients/{CLIENT}/users/{USER}").as_str())
    );
    // Credentials are listed as fingerprints (`sha256:` and 8 hex digits).
    assert_eq!(
        request.header("Authorization"),
        Some("Bearer sha256:9fa262a3")
    );
    assert_eq!(request.json, Some(json!({ "departments": [PLATFORM] })));
    assert_eq!(request.status, Some(200));
    assert_eq!(request.session, None);
    assert_eq!(request.scenario, None);
    assert!(request.to_string().ends_with(" → 200"), "{request}");
}

#[tokio::test]
async fn reset_forgets_writes_and_the_journal() {
    let server = MockServer::start().await;
    let (_, written) = call_activity(&server, None, Some(&[PLATFORM])).await;
    assert_eq!(department_ids(&written), [PLATFORM]);

    server.reset().await;

    assert!(server.requests().await.is_empty());
    let (_, user) = call_activity(&server, None, None).await;
    assert_eq!(department_ids(&user), [ENGINEERING]);
}

#[tokio::test]
async fn a_shipped_scenario_answers_while_active() {
    let server = MockServer::start().await;
    server.activate("activity-user-not-found").await;
    let (status, body) = call_activity(&server, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let requests = server.requests().await;
    assert_eq!(
        requests[0].scenario.as_deref(),
        Some("activity-user-not-found")
    );

    server.deactivate("activity-user-not-found").await;
    let (status, _) = call_activity(&server, None, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
#[should_panic(expected = "no_such_scenario")]
async fn activating_an_unknown_scenario_panics_with_the_admin_answer() {
    let server = MockServer::start().await;
    server.activate("activity-no-such-thing").await;
}

#[tokio::test]
async fn a_session_view_sees_and_changes_only_its_own_session() {
    let server = MockServer::start().await;
    let mine = server.session("test-mine");
    let theirs = server.session("test-theirs");
    assert_eq!(mine.id(), "test-mine");
    assert_eq!(mine.header(), ("x-usermock-session", "test-mine"));

    mine.activate("activity-user-not-found").await;
    assert_eq!(
        call_activity(&server, Some(&mine), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call_activity(&server, Some(&theirs), Some(&[PLATFORM]))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(call_activity(&server, None, None).await.0, StatusCode::OK);

    let ids = |requests: Vec<usermock::RecordedRequest>| -> Vec<Option<String>> {
        requests.into_iter().map(|r| r.session).collect()
    };
    assert_eq!(ids(mine.requests().await), [Some("test-mine".to_owned())]);
    assert_eq!(
        ids(theirs.requests().await),
        [Some("test-theirs".to_owned())]
    );
    assert_eq!(server.requests().await.len(), 3);

    // Their write stayed in their session.
    let (_, shared) = call_activity(&server, None, None).await;
    assert_eq!(department_ids(&shared), [ENGINEERING]);
    let (_, seen_by_them) = call_activity(&server, Some(&theirs), None).await;
    assert_eq!(department_ids(&seen_by_them), [PLATFORM]);

    // A session reset drops only that session.
    theirs.reset().await;
    assert!(theirs.requests().await.is_empty());
    assert_eq!(mine.requests().await.len(), 1);
    let (_, seen_by_them) = call_activity(&server, Some(&theirs), None).await;
    assert_eq!(department_ids(&seen_by_them), [ENGINEERING]);
}

#[tokio::test]
#[should_panic(expected = "a session id is 1 to 128 visible ASCII characters")]
async fn a_session_id_with_a_space_panics() {
    let server = MockServer::start().await;
    server.session("not valid");
}

#[tokio::test]
async fn dropping_the_server_closes_its_port() {
    let server = MockServer::start().await;
    let address = server.address();
    assert!(std::net::TcpStream::connect(address).is_ok());
    drop(server);
    assert!(std::net::TcpStream::connect(address).is_err());
}

#[test]
fn the_server_needs_no_runtime_of_the_callers_to_be_dropped() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(MockServer::start());
    let address = server.address();
    drop(runtime);
    drop(server);
    assert!(std::net::TcpStream::connect(address).is_err());
}

#[tokio::test]
async fn scenarios_activated_by_the_builder_stay_active_across_resets() {
    let server = MockServer::builder()
        .activate("activity-user-not-found")
        .start()
        .await;
    assert_eq!(
        call_activity(&server, None, None).await.0,
        StatusCode::NOT_FOUND
    );
    server.reset().await;
    assert_eq!(
        call_activity(&server, None, None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_builder_refuses_an_unknown_scenario() {
    let refused = MockServer::builder()
        .activate("activity-no-such-thing")
        .try_start()
        .await
        .expect_err("an unknown scenario");
    assert!(
        matches!(&refused, StartupError::UnknownScenario { name } if name == "activity-no-such-thing"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_builder_loads_a_fixture_folder() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let server = MockServer::builder().fixtures(fixtures).start().await;
    assert_eq!(call_activity(&server, None, None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn with_an_admin_token_the_server_sends_it_and_others_need_it() {
    let server = MockServer::builder().admin_token("s3cret").start().await;
    call_activity(&server, None, None).await;
    assert_eq!(server.requests().await.len(), 1);
    server.reset().await;

    let health = format!("{}/__admin/health", server.uri());
    let anonymous = reqwest::get(&health).await.expect("sent");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_server_without_expectations_drops_quietly() {
    let server = MockServer::start().await;
    call_activity(&server, None, None).await;
    server.verify().await;
    drop(server);
}

// The tests below use admin routes of the journal (find, count,
// unmatched, `response`), the clock and snapshots.

#[tokio::test]
async fn met_expectations_pass_on_drop() {
    let server = MockServer::start().await;
    server
        .expect(Matcher::new().vendor("activity").method("PATCH"))
        .times(1);
    server.expect(Matcher::new().vendor("relesys")).times(0);
    server
        .expect(Matcher::new().method("GET"))
        .at_least(1)
        .at_most(2);
    call_activity(&server, None, Some(&[])).await;
    call_activity(&server, None, None).await;
    server.verify().await;
}

#[tokio::test]
async fn an_unmet_expectation_panics_on_drop_listing_every_request_received() {
    let server = MockServer::start().await;
    let patch_line = line!() + 2;
    server
        .expect(Matcher::new().vendor("activity").method("PATCH"))
        .times(2)
        .named("two department updates");
    let get_line = line!() + 1;
    server.expect(Matcher::new().vendor("activity").method("GET"));
    call_activity(&server, None, Some(&[])).await;
    let address = server.address();

    let message = panic_message(
        catch_unwind(AssertUnwindSafe(|| drop(server))).expect_err("the drop panics"),
    );
    assert_eq!(
        message.lines().take(3).collect::<Vec<_>>(),
        [
            "usermock: 2 of 2 expectation(s) not met:".to_owned(),
            format!(
                r#"  - two department updates: expected exactly 2 requests matching {{"vendor":"activity","method":"PATCH"}}, received 1 (expectation set at {}:{patch_line}:10)"#,
                file!()
            ),
            format!(
                r#"  - expected at least 1 request matching {{"vendor":"activity","method":"GET"}}, received 0 (expectation set at {}:{get_line}:12)"#,
                file!()
            ),
        ],
        "{message}"
    );
    assert!(
        message.contains("requests received (1, oldest first):"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "PATCH /activity/v2/clients/{CLIENT}/users/{USER} → 200"
        )),
        "{message}"
    );
    // With the body it sent.
    assert!(
        message.contains(r#"→ 200 body: {"departments":[]}"#),
        "{message}"
    );
    // The server is shut down before the panic.
    assert!(std::net::TcpStream::connect(address).is_err());
}

#[tokio::test]
#[should_panic(expected = "expected exactly 1 request matching {\"vendor\":\"awork\"}, received 0")]
async fn verify_checks_the_expectations_before_the_drop() {
    let server = MockServer::start().await;
    server.expect(Matcher::new().vendor("awork")).times(1);
    server.verify().await;
}

#[tokio::test]
async fn session_expectations_count_only_that_sessions_requests() {
    let server = MockServer::start().await;
    let mine = server.session("test-expect");
    mine.expect(Matcher::new().method("PATCH")).times(1);
    server.expect(Matcher::new().method("PATCH")).times(2);
    call_activity(&server, Some(&mine), Some(&[])).await;
    call_activity(&server, None, Some(&[])).await;
    assert_eq!(mine.count(Matcher::new().method("PATCH")).await, 1);
    assert_eq!(server.count(Matcher::new().method("PATCH")).await, 2);
}

#[tokio::test]
async fn find_and_count_take_the_scenario_match_vocabulary() {
    let server = MockServer::start().await;
    call_activity(&server, None, Some(&[PLATFORM])).await;
    call_activity(&server, None, Some(&[])).await;
    call_activity(&server, None, None).await;

    let emptied = Matcher::new()
        .vendor("activity")
        .method("PATCH")
        .path("/v2/clients/{client_id}/users/{user_id}")
        .path_param("user_id", USER)
        .body_json(json!({ "departments": [] }));
    let found = server.find(emptied.clone()).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].json, Some(json!({ "departments": [] })));
    let response = found[0].response.as_ref().expect("a response");
    assert_eq!(response.status, 200);
    assert_eq!(
        response
            .json
            .as_ref()
            .map(|user| user["departments"].clone()),
        Some(json!([]))
    );

    assert_eq!(server.count(emptied).await, 1);
    assert_eq!(
        server
            .count(Matcher::new().method("PATCH").method("GET"))
            .await,
        3
    );
    assert_eq!(
        server
            .count(Matcher::new().body_pointer("/departments/0", json!(PLATFORM)))
            .await,
        1
    );
    assert_eq!(server.count(Matcher::new().body_regex("\\[\\]")).await, 1);
    assert_eq!(
        server
            .count(Matcher::new().header("authorization", "Bearer activity-admin"))
            .await,
        3
    );
}

#[tokio::test]
async fn unmatched_lists_requests_that_reached_no_route() {
    let server = MockServer::start().await;
    reqwest::get(format!("{}/nowhere", server.uri()))
        .await
        .expect("sent");
    call_activity(&server, None, None).await;
    let unmatched = server.unmatched().await;
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0].path, "/nowhere");
    assert!(!unmatched[0].matched);
}

#[tokio::test]
async fn the_clock_can_be_frozen_advanced_and_released() {
    let server = MockServer::start().await;
    let frozen = server.freeze_at(datetime!(2030-01-01 00:00 UTC)).await;
    assert_eq!(frozen, datetime!(2030-01-01 00:00 UTC));
    assert_eq!(server.now().await, frozen);

    let (_, user) = call_activity(&server, None, Some(&[])).await;
    assert_eq!(user["updated_at"], "2030-01-01T00:00:00.000Z");

    let later = server.advance(Duration::from_secs(3600)).await;
    assert_eq!(later, datetime!(2030-01-01 01:00 UTC));
    assert_eq!(
        server.freeze_at("2031-06-01T12:00:00+02:00").await,
        datetime!(2031-06-01 10:00 UTC)
    );

    let real = server.real_time().await;
    assert!(real < datetime!(2030-01-01 00:00 UTC));
}

#[tokio::test]
async fn a_sessions_clock_is_its_own() {
    let server = MockServer::start().await;
    let mine = server.session("test-clock");
    mine.freeze_at("2030-01-01T00:00:00Z").await;
    assert_eq!(mine.now().await, datetime!(2030-01-01 00:00 UTC));
    assert!(server.now().await < datetime!(2030-01-01 00:00 UTC));
    assert_eq!(
        mine.advance(Duration::from_secs(60)).await,
        datetime!(2030-01-01 00:01 UTC)
    );
}

#[tokio::test]
#[should_panic(expected = "the clock advances by whole seconds")]
async fn advancing_by_a_fraction_of_a_second_panics() {
    let server = MockServer::start().await;
    server.advance(Duration::from_millis(1500)).await;
}

#[tokio::test]
async fn the_builders_clock_holds_from_the_start_and_after_a_reset() {
    let server = MockServer::builder()
        .clock("2030-01-01T00:00:00Z")
        .start()
        .await;
    assert_eq!(server.now().await, datetime!(2030-01-01 00:00 UTC));
    server.advance(Duration::from_secs(10)).await;
    server.reset().await;
    assert_eq!(server.now().await, datetime!(2030-01-01 00:00 UTC));
}

#[tokio::test]
async fn a_snapshot_restores_the_state_it_was_taken_from() {
    let server = MockServer::start().await;
    let before = server.snapshot().await;
    assert!(before["activity"]["users"].is_array(), "{before}");

    call_activity(&server, None, Some(&[PLATFORM])).await;
    let after_write = server.snapshot().await;
    assert_ne!(after_write, before);

    server.restore(&before).await;
    assert_eq!(server.snapshot().await, before);
    let (_, user) = call_activity(&server, None, None).await;
    assert_eq!(department_ids(&user), [ENGINEERING]);

    // A session restores into itself only.
    let mine = server.session("test-snapshot");
    mine.restore(&after_write).await;
    let (_, in_session) = call_activity(&server, Some(&mine), None).await;
    assert_eq!(department_ids(&in_session), [PLATFORM]);
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
#[should_panic(expected = "invalid_snapshot")]
async fn restoring_a_broken_snapshot_panics_with_its_problems() {
    let server = MockServer::start().await;
    server
        .restore(&json!({ "activity": { "users": "none" } }))
        .await;
}
