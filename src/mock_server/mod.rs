//! The Rust test API: [`MockServer`] runs usermock inside the test process
//! and drives it through its own admin API.
//!
//! The server gets a thread and a small runtime of its own, listening on
//! `127.0.0.1` on a free port. Every control method (reset, journal,
//! scenarios, clock, snapshot) is one call to the admin API over HTTP, so
//! each operation has a single implementation and this module is a thin,
//! typed layer over it. Expectations are checked against the journal when
//! the server is dropped, then the server shuts down.
//!
//! Control methods panic when the admin API refuses a call (an unknown
//! scenario, a broken snapshot): that is a mistake in the test's setup, and
//! the message says which call failed and what the admin API answered.

mod builder;
mod client;
mod expectation;
mod matcher;
mod recorded;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Mutex;

use hyper::Method;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use builder::MockServerBuilder;
#[allow(deprecated)]
pub use builder::StartError;
pub use expectation::Expectation;
pub use matcher::Matcher;
pub use recorded::{RecordedNote, RecordedRequest, RecordedResponse, RuleRef};

use client::{AdminCall, AdminClient, AdminError};
use expectation::Spec;

/// The header that puts a request in a session: its own state, journal
/// view, scenario activations and clock (see [`MockServer::session`]).
pub const SESSION_HEADER: &str = crate::http::headers::SESSION;

/// usermock serving every vendor on a free local port, for one test.
///
/// Point the code under test at [`base_url`](Self::base_url), then assert
/// on what it sent ([`requests`](Self::requests), [`find`](Self::find),
/// [`expect`](Self::expect)). Dropping the server checks the expectations
/// and shuts it down.
///
/// ```
/// use serde_json::json;
/// use usermock::{Matcher, MockServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = MockServer::start().await;
/// let user = format!(
///     "{}/v2/clients/aa7cf840-9ca9-46a3-9778-9015d6580d50/users/a1d97031-04e2-4907-a249-093f7436207b",
///     server.base_url("activity"),
/// );
///
/// // The code under test would do this.
/// let answer = reqwest::Client::new()
///     .patch(&user)
///     .bearer_auth("activity-admin")
///     .json(&json!({"departments": []}))
///     .send()
///     .await
///     .unwrap();
/// assert_eq!(answer.status(), 200);
///
/// let requests = server.requests().await;
/// assert_eq!(requests.len(), 1);
/// assert_eq!(requests[0].method, "PATCH");
/// assert_eq!(requests[0].json, Some(json!({"departments": []})));
/// assert_eq!(requests[0].status, Some(200));
/// # }
/// ```
#[derive(Debug)]
pub struct MockServer {
    address: SocketAddr,
    /// Each vendor's key and the path of its documented base URL.
    vendors: Vec<(&'static str, &'static str)>,
    client: AdminClient,
    expectations: Mutex<Vec<Spec>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockServer {
    /// Starts a server with the embedded fixtures and scenarios, nothing
    /// activated, real time and no admin token.
    ///
    /// # Panics
    ///
    /// When no local port or thread can be had.
    pub async fn start() -> MockServer {
        MockServer::builder().start().await
    }

    /// Configures a server: fixtures, scenarios, activations, clock, admin
    /// token.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::new()
    }

    /// The address it listens on (`127.0.0.1` and a free port).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its root URL, `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn uri(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Where the vendor's real host is emulated: `http://127.0.0.1:PORT/activity`
    /// stands for `https://api.example.com`, so the vendor's own paths go
    /// after it (`…/activity/v2/clients/{id}/users/{id}`).
    ///
    /// # Panics
    ///
    /// When no vendor has this key (see [`crate::vendor_names`]).
    #[track_caller]
    pub fn base_url(&self, vendor: &str) -> String {
        self.vendor_base(vendor);
        format!("http://{}/{vendor}", self.address)
    }

    /// The base URL a client of the vendor is given in place of the
    /// vendor's documented one, as the README shows it: Relesys
    /// `https://api.relesysapp.net/api/v1.3` becomes
    /// `http://127.0.0.1:PORT/relesys/api/v1.3`, ScalePad's
    /// `…/v2` becomes `…/activity/v2`.
    ///
    /// # Panics
    ///
    /// When no vendor has this key, naming the ones that exist.
    #[track_caller]
    pub fn api_base(&self, vendor: &str) -> String {
        let base_path = self.vendor_base(vendor);
        format!("http://{}/{vendor}{base_path}", self.address)
    }

    #[track_caller]
    fn vendor_base(&self, vendor: &str) -> &'static str {
        match self.vendors.iter().find(|(name, _)| *name == vendor) {
            Some((_, base_path)) => base_path,
            None => panic!(
                "usermock: no vendor named '{vendor}' (known: {})",
                self.vendors
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// A view of one session: every method of the view sends
    /// `X-Usermock-Session: id`, so it sees and changes only that session's
    /// state, journal, scenario activations and clock. Tests running in
    /// parallel against one server each use their own id, and send it on
    /// their own requests with [`SessionView::header`].
    ///
    /// # Panics
    ///
    /// When `id` is not 1 to 128 visible ASCII characters.
    pub fn session(&self, id: &str) -> SessionView<'_> {
        let valid = (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic());
        assert!(
            valid,
            "usermock: a session id is 1 to 128 visible ASCII characters, not {id:?}"
        );
        SessionView {
            server: self,
            id: id.to_owned(),
        }
    }

    /// Puts the server back as it started: fixtures, startup scenarios and
    /// activations, the builder's clock (or real time); drops every write,
    /// session, journal entry and counter. Expectations stay registered.
    pub async fn reset(&self) {
        self.scope(None).reset().await;
    }

    /// Every journaled request, oldest first (a session's too).
    pub async fn requests(&self) -> Vec<RecordedRequest> {
        self.scope(None).requests().await
    }

    /// The journaled requests that `matcher` matches, oldest first.
    pub async fn find(&self, matcher: Matcher) -> Vec<RecordedRequest> {
        self.scope(None).find(matcher).await
    }

    /// How many journaled requests `matcher` matches.
    pub async fn count(&self, matcher: Matcher) -> usize {
        self.scope(None).count(matcher).await
    }

    /// The journaled requests that reached no vendor route.
    pub async fn unmatched(&self) -> Vec<RecordedRequest> {
        self.scope(None).unmatched().await
    }

    /// The journaled requests whose answer relied on a rule usermock
    /// inferred, or that had part of them ignored (see
    /// [`RecordedRequest::notes`]), oldest first (a session's too).
    pub async fn noted(&self) -> Vec<RecordedRequest> {
        self.scope(None).noted().await
    }

    /// Asserts that no journaled request (a session's neither) relied on a
    /// rule usermock inferred or had part of it ignored: the test's green
    /// is the vendors' documented word, not the mock's opinion.
    ///
    /// # Panics
    ///
    /// When one did, listing each such request with its notes.
    pub async fn assert_no_notes(&self) {
        self.scope(None).assert_no_notes().await;
    }

    /// Activates a scenario (shipped, or loaded with
    /// [`MockServerBuilder::scenarios`]) for every request; its counters
    /// restart.
    pub async fn activate(&self, scenario: &str) {
        self.scope(None).activate(scenario).await;
    }

    /// Deactivates a scenario activated for every request.
    pub async fn deactivate(&self, scenario: &str) {
        self.scope(None).deactivate(scenario).await;
    }

    /// Freezes the clock at `at` (an [`OffsetDateTime`] or an RFC 3339
    /// string) and returns it as the server keeps it (to the millisecond).
    /// Every timestamp a vendor writes, token expiry and rate-limit window
    /// follows the clock.
    pub async fn freeze_at(&self, at: impl Into<ClockTime>) -> OffsetDateTime {
        self.scope(None).freeze_at(at.into()).await
    }

    /// Moves the clock forward by whole seconds, freezing it first if it
    /// runs in real time; returns the new time.
    ///
    /// # Panics
    ///
    /// When `by` has a fraction of a second.
    pub async fn advance(&self, by: std::time::Duration) -> OffsetDateTime {
        self.scope(None).advance(by).await
    }

    /// Lets the clock follow real time again; returns the time now.
    pub async fn real_time(&self) -> OffsetDateTime {
        self.scope(None).real_time().await
    }

    /// The clock's time now.
    pub async fn now(&self) -> OffsetDateTime {
        self.scope(None).now().await
    }

    /// Every vendor's state as `{"activity": …, "awork": …, …}`, each member
    /// a valid fixture document.
    pub async fn snapshot(&self) -> Value {
        self.scope(None).snapshot().await
    }

    /// Replaces the state with a [`snapshot`](Self::snapshot), all or
    /// nothing. A vendor left out goes back to its startup fixture.
    pub async fn restore(&self, snapshot: &Value) {
        self.scope(None).restore(snapshot).await;
    }

    /// Expects requests like `matcher`: at least one, unless refined with
    /// [`Expectation::times`] and friends. Checked when the server is
    /// dropped (or by [`verify`](Self::verify)), against every journaled
    /// request; the panic lists each unmet expectation and every request
    /// received.
    ///
    /// ```
    /// use usermock::{Matcher, MockServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = MockServer::start().await;
    /// server.expect(Matcher::new().vendor("activity").method("PATCH")).times(0);
    /// // No PATCH is sent: dropping the server checks the expectation.
    /// # }
    /// ```
    #[track_caller]
    pub fn expect(&self, matcher: Matcher) -> Expectation<'_> {
        Expectation::register(&self.expectations, matcher, None)
    }

    /// Checks the expectations now instead of waiting for the drop.
    ///
    /// # Panics
    ///
    /// When one is not met, with the same message as the drop.
    pub async fn verify(&self) {
        let specs = self.specs();
        if specs.is_empty() {
            return;
        }
        let check = expectation::check(self.client.clone(), specs);
        if let Err(message) = self.client.run(check).await {
            panic!("{message}");
        }
    }

    fn specs(&self) -> Vec<Spec> {
        self.expectations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn scope<'a>(&'a self, session: Option<&'a str>) -> Scope<'a> {
        Scope {
            server: self,
            session,
        }
    }
}

impl Drop for MockServer {
    /// Checks the expectations (unless the thread is already panicking),
    /// stops the server and waits until its port is closed, then panics if
    /// an expectation was not met.
    fn drop(&mut self) {
        let specs = std::mem::take(
            self.expectations
                .get_mut()
                .unwrap_or_else(|e| e.into_inner()),
        );
        let failure = if specs.is_empty() || std::thread::panicking() {
            None
        } else {
            match self
                .client
                .block_on(expectation::check(self.client.clone(), specs))
            {
                Some(Ok(())) => None,
                Some(Err(message)) => Some(message),
                None => Some("usermock: checking the expectations timed out".to_owned()),
            }
        };
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Some(message) = failure {
            panic!("{message}");
        }
    }
}

/// One session of a [`MockServer`], made by [`MockServer::session`]: the
/// same control methods, applied to that session only.
///
/// ```
/// use usermock::{Matcher, MockServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = MockServer::start().await;
/// let session = server.session("test-42");
/// session.activate("activity-user-not-found").await;
///
/// let (name, value) = session.header();
/// let url = format!(
///     "{}/v2/clients/aa7cf840-9ca9-46a3-9778-9015d6580d50/users/a1d97031-04e2-4907-a249-093f7436207b",
///     server.base_url("activity"),
/// );
/// let answer = reqwest::Client::new()
///     .get(&url)
///     .bearer_auth("activity-admin")
///     .header(name, value)
///     .send()
///     .await
///     .unwrap();
/// assert_eq!(answer.status(), 404);
/// assert_eq!(session.requests().await.len(), 1);
/// # }
/// ```
#[derive(Debug)]
pub struct SessionView<'a> {
    server: &'a MockServer,
    id: String,
}

impl SessionView<'_> {
    /// The session id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The header to send on the test's own requests: `("x-usermock-session", id)`.
    pub fn header(&self) -> (&'static str, &str) {
        (SESSION_HEADER, &self.id)
    }

    /// Drops the session: its writes, clock, activations, counters and
    /// journal entries. It starts again from the fixtures on its next use;
    /// other sessions and the shared state are untouched.
    pub async fn reset(&self) {
        self.scope().reset().await;
    }

    /// The session's journaled requests, oldest first.
    pub async fn requests(&self) -> Vec<RecordedRequest> {
        self.scope().requests().await
    }

    /// The session's journaled requests that `matcher` matches.
    pub async fn find(&self, matcher: Matcher) -> Vec<RecordedRequest> {
        self.scope().find(matcher).await
    }

    /// How many of the session's journaled requests `matcher` matches.
    pub async fn count(&self, matcher: Matcher) -> usize {
        self.scope().count(matcher).await
    }

    /// The session's journaled requests that reached no vendor route.
    pub async fn unmatched(&self) -> Vec<RecordedRequest> {
        self.scope().unmatched().await
    }

    /// This session's requests that carry notes (see
    /// [`MockServer::noted`]).
    pub async fn noted(&self) -> Vec<RecordedRequest> {
        self.scope().noted().await
    }

    /// Asserts that none of this session's requests carry notes (see
    /// [`MockServer::assert_no_notes`]).
    ///
    /// # Panics
    ///
    /// When one does, listing each with its notes.
    pub async fn assert_no_notes(&self) {
        self.scope().assert_no_notes().await;
    }

    /// Activates a scenario for this session only.
    pub async fn activate(&self, scenario: &str) {
        self.scope().activate(scenario).await;
    }

    /// Deactivates a scenario activated for this session.
    pub async fn deactivate(&self, scenario: &str) {
        self.scope().deactivate(scenario).await;
    }

    /// Gives the session a clock of its own, frozen at `at`.
    pub async fn freeze_at(&self, at: impl Into<ClockTime>) -> OffsetDateTime {
        self.scope().freeze_at(at.into()).await
    }

    /// Moves the session's clock forward by whole seconds.
    ///
    /// # Panics
    ///
    /// When `by` has a fraction of a second.
    pub async fn advance(&self, by: std::time::Duration) -> OffsetDateTime {
        self.scope().advance(by).await
    }

    /// Gives the session a real-time clock of its own.
    pub async fn real_time(&self) -> OffsetDateTime {
        self.scope().real_time().await
    }

    /// The session's clock's time now.
    pub async fn now(&self) -> OffsetDateTime {
        self.scope().now().await
    }

    /// The session's state, as [`MockServer::snapshot`].
    pub async fn snapshot(&self) -> Value {
        self.scope().snapshot().await
    }

    /// Replaces the session's state with a snapshot.
    pub async fn restore(&self, snapshot: &Value) {
        self.scope().restore(snapshot).await;
    }

    /// Expects requests like `matcher` among the session's requests;
    /// checked with the server's other expectations.
    #[track_caller]
    pub fn expect(&self, matcher: Matcher) -> Expectation<'_> {
        Expectation::register(&self.server.expectations, matcher, Some(&self.id))
    }

    fn scope(&self) -> Scope<'_> {
        self.server.scope(Some(&self.id))
    }
}

/// A time to freeze the clock at: an [`OffsetDateTime`], or an RFC 3339
/// string such as `"2030-01-01T00:00:00Z"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockTime(String);

impl From<OffsetDateTime> for ClockTime {
    fn from(at: OffsetDateTime) -> ClockTime {
        // Out of RFC 3339's range: sent as is, for the server to refuse.
        ClockTime(at.format(&Rfc3339).unwrap_or_else(|_| at.to_string()))
    }
}

impl From<&str> for ClockTime {
    fn from(at: &str) -> ClockTime {
        ClockTime(at.to_owned())
    }
}

impl From<String> for ClockTime {
    fn from(at: String) -> ClockTime {
        ClockTime(at)
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The control operations, for the shared state (`session: None`) or one
/// session: each is one admin call.
struct Scope<'a> {
    server: &'a MockServer,
    session: Option<&'a str>,
}

impl Scope<'_> {
    fn call(&self, method: Method, path: impl Into<String>) -> AdminCall {
        AdminCall::new(method, path, self.session)
    }

    async fn send(&self, call: AdminCall) -> Value {
        self.server.client.expect(call).await
    }

    async fn reset(&self) {
        self.send(self.call(Method::POST, "/__admin/reset")).await;
    }

    /// Every page of a journal listing: the admin API answers at most
    /// [`PAGE`] entries a call, and `next_after` says where the next starts.
    async fn all_pages(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Vec<RecordedRequest> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut after: Option<u64> = None;
        let mut requests = Vec::new();
        loop {
            let mut page = format!("{path}{separator}limit={PAGE}");
            if let Some(after) = after {
                page.push_str(&format!("&after={after}"));
            }
            let mut call = self.call(method.clone(), page);
            if let Some(body) = &body {
                call = call.with_body(body.clone());
            }
            let answer = self.send(call).await;
            requests.extend(journal(&answer));
            // Ids only grow, so each page starts past the last: this ends.
            match answer["next_after"].as_u64() {
                Some(next) if after.is_none_or(|a| next > a) => after = Some(next),
                _ => return requests,
            }
        }
    }

    async fn requests(&self) -> Vec<RecordedRequest> {
        self.all_pages(Method::GET, "/__admin/requests", None).await
    }

    async fn find(&self, matcher: Matcher) -> Vec<RecordedRequest> {
        self.all_pages(
            Method::POST,
            "/__admin/requests/find",
            Some(matcher.to_json()),
        )
        .await
    }

    async fn noted(&self) -> Vec<RecordedRequest> {
        self.all_pages(Method::GET, "/__admin/requests?noted=true", None)
            .await
    }

    async fn assert_no_notes(&self) {
        let noted = self.noted().await;
        if noted.is_empty() {
            return;
        }
        let mut message = format!(
            "usermock: {} request(s) relied on a rule usermock inferred or had part of them ignored:\n",
            noted.len()
        );
        for request in &noted {
            message.push_str(&format!("  {request}\n"));
            for note in &request.notes {
                message.push_str(&format!("    - {note}\n"));
            }
        }
        panic!("{message}");
    }

    async fn count(&self, matcher: Matcher) -> usize {
        let call = self
            .call(Method::POST, "/__admin/requests/count")
            .with_body(matcher.to_json());
        let answer = self.send(call).await;
        match answer["count"].as_u64() {
            Some(count) => usize::try_from(count).unwrap_or(usize::MAX),
            None => panic!("usermock: /__admin/requests/count answered {answer}"),
        }
    }

    async fn unmatched(&self) -> Vec<RecordedRequest> {
        self.all_pages(Method::GET, "/__admin/requests/unmatched", None)
            .await
    }

    async fn activate(&self, scenario: &str) {
        let path = format!("/__admin/scenarios/{scenario}/activate");
        match self.server.client.send(self.call(Method::POST, path)).await {
            Ok(_) => {}
            Err(AdminError::Refused { status, body }) if status == hyper::StatusCode::NOT_FOUND => {
                panic!("{} ({body})", self.unknown_scenario(scenario).await)
            }
            Err(err) => panic!("usermock: activating scenario '{scenario}' failed: {err}"),
        }
    }

    /// "No scenario is named …", with the names that exist and the
    /// closest one.
    async fn unknown_scenario(&self, scenario: &str) -> String {
        let listed = self
            .server
            .client
            .send(self.call(Method::GET, "/__admin/scenarios"))
            .await
            .unwrap_or_default();
        let names: Vec<&str> = listed["scenarios"]
            .as_array()
            .map(|all| all.iter().filter_map(|s| s["name"].as_str()).collect())
            .unwrap_or_default();
        let closest = crate::diagnostics::closest(scenario, names.iter().copied())
            .map(|name| format!(" Did you mean '{name}'?"))
            .unwrap_or_default();
        format!(
            "usermock: no scenario is named '{scenario}'.{closest} Loaded: {} (shipped ones, and files given to MockServer::builder().scenarios(…))",
            names.join(", ")
        )
    }

    async fn deactivate(&self, scenario: &str) {
        let path = format!("/__admin/scenarios/{scenario}/deactivate");
        self.send(self.call(Method::POST, path)).await;
    }

    async fn try_freeze_at(&self, at: &ClockTime) -> Result<OffsetDateTime, AdminError> {
        let call = self
            .call(Method::PUT, "/__admin/clock")
            .with_body(json!({ "now": at.0 }));
        let answer = self.server.client.send(call).await?;
        clock_now(&answer).map_err(AdminError::Unexpected)
    }

    async fn freeze_at(&self, at: ClockTime) -> OffsetDateTime {
        match self.try_freeze_at(&at).await {
            Ok(now) => now,
            Err(err) => panic!("usermock: freezing the clock at {at} failed: {err}"),
        }
    }

    async fn advance(&self, by: std::time::Duration) -> OffsetDateTime {
        assert!(
            by.subsec_nanos() == 0,
            "usermock: the clock advances by whole seconds, not {by:?}"
        );
        let call = self
            .call(Method::POST, "/__admin/clock/advance")
            .with_body(json!({ "seconds": by.as_secs() }));
        expect_clock(&self.send(call).await)
    }

    async fn real_time(&self) -> OffsetDateTime {
        let call = self.call(Method::DELETE, "/__admin/clock");
        expect_clock(&self.send(call).await)
    }

    async fn now(&self) -> OffsetDateTime {
        let call = self.call(Method::GET, "/__admin/clock");
        expect_clock(&self.send(call).await)
    }

    async fn snapshot(&self) -> Value {
        self.send(self.call(Method::GET, "/__admin/snapshot")).await
    }

    async fn restore(&self, snapshot: &Value) {
        let call = self
            .call(Method::PUT, "/__admin/snapshot")
            .with_body(snapshot.clone());
        self.send(call).await;
    }
}

/// Entries asked for per journal page (the admin API's most).
const PAGE: usize = 1000;

fn journal(answer: &Value) -> Vec<RecordedRequest> {
    match expectation::parse_list(answer) {
        Ok(requests) => requests,
        Err(err) => panic!("usermock: unexpected journal answer ({err})"),
    }
}

fn clock_now(answer: &Value) -> Result<OffsetDateTime, String> {
    let now = answer["now"]
        .as_str()
        .ok_or_else(|| format!("no `now` in {answer}"))?;
    OffsetDateTime::parse(now, &Rfc3339).map_err(|e| format!("`now` {now:?}: {e}"))
}

fn expect_clock(answer: &Value) -> OffsetDateTime {
    match clock_now(answer) {
        Ok(now) => now,
        Err(err) => panic!("usermock: unexpected clock answer ({err})"),
    }
}
