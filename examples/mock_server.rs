//! How another team tests its code against usermock, in-process.
//!
//! In a real project each block below is a `#[tokio::test]`; here they run
//! from `main` so the file runs on its own:
//!
//! ```sh
//! cargo run --example mock_server
//! ```

use serde_json::{json, Value};
use usermock::{Matcher, MockServer};

const CLIENT: &str = "aa7cf840-9ca9-46a3-9778-9015d6580d50";
const USER: &str = "a1d97031-04e2-4907-a249-093f7436207b";
const PLATFORM: &str = "e2b3c4d5-f6a7-8901-bcde-f12345678901";

/// The code under test: moves a user to other departments through the
/// activity vendor's API, whose base URL comes from configuration.
struct ActivityClient {
    base_url: String,
    token: String,
    http: reqwest::Client,
    /// Extra headers, e.g. a test's `X-Usermock-Session`.
    headers: Vec<(String, String)>,
}

impl ActivityClient {
    async fn assign_departments(&self, departments: &[&str]) -> Result<Value, String> {
        let url = format!("{}/v2/clients/{CLIENT}/users/{USER}", self.base_url);
        let mut request = self
            .http
            .patch(url)
            .bearer_auth(&self.token)
            .json(&json!({ "departments": departments }));
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(format!("{status}: {}", body["error"]["message"]))
        }
    }
}

fn client_for(server: &MockServer) -> ActivityClient {
    ActivityClient {
        base_url: server.base_url("activity"),
        token: "activity-admin".to_owned(),
        http: reqwest::Client::new(),
        headers: Vec::new(),
    }
}

/// `#[tokio::test] async fn assigning_a_department_sends_one_patch()`
async fn assigning_a_department_sends_one_patch() {
    let server = MockServer::start().await;
    server
        .expect(
            Matcher::new()
                .vendor("activity")
                .method("PATCH")
                .body_json(json!({ "departments": [PLATFORM] })),
        )
        .times(1);

    let user = client_for(&server)
        .assign_departments(&[PLATFORM])
        .await
        .expect("the update succeeds");
    assert_eq!(user["departments"][0]["name"], "Platform");

    let sent = server.requests().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("content-type"), Some("application/json"));
    // Dropping the server checks the expectation.
}

/// `#[tokio::test] async fn an_unknown_user_is_reported()`: a shipped
/// scenario, in a session of its own so parallel tests are not affected.
async fn an_unknown_user_is_reported() {
    let server = MockServer::start().await;
    let session = server.session("an-unknown-user-is-reported");
    session.activate("activity-user-not-found").await;

    let mut client = client_for(&server);
    let (name, value) = session.header();
    client.headers.push((name.to_owned(), value.to_owned()));
    let error = client
        .assign_departments(&[])
        .await
        .expect_err("the user is not found");
    assert!(error.starts_with("404"), "{error}");

    // Outside the session, the user is still there.
    client_for(&server)
        .assign_departments(&[])
        .await
        .expect("the shared state is untouched");
}

/// `#[tokio::test] async fn updates_are_stamped_with_the_mock_clock()`
async fn updates_are_stamped_with_the_mock_clock() {
    let server = MockServer::builder()
        .clock("2030-01-01T00:00:00Z")
        .start()
        .await;
    let user = client_for(&server)
        .assign_departments(&[])
        .await
        .expect("the update succeeds");
    assert_eq!(user["updated_at"], "2030-01-01T00:00:00.000Z");
}

#[tokio::main]
async fn main() {
    assigning_a_department_sends_one_patch().await;
    an_unknown_user_is_reported().await;
    updates_are_stamped_with_the_mock_clock().await;
    println!("all three example tests passed");
}
