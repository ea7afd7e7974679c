//! Which part of usermock answers a request, and the vendor pipeline:
//! scenario rules first, the vendor's emulation when none answers.
//!
//! The order of the steps is the product's contract:
//! route → read body (413) → scenario rules → vendor emulation.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{HeaderMap, Response, StatusCode, Uri};
use serde_json::{json, Value};

use crate::http::{Call, Reply};
use crate::scenario::{Action, BrokenBody, FaultKind, HeaderProblem, RuleReply, Scenarios};
use crate::server::{Body, Connection, DropConnection};
use crate::session::Session;
use crate::store::Store;
use crate::vendors::{SharedError, Vendor};

/// Where a request goes.
pub(crate) enum Target<'a> {
    /// The admin API; the path is the whole path.
    Admin,
    /// A vendor, and where in the path the part relative to its real host
    /// starts (at a `/`, or past the end for the vendor's root).
    Vendor(&'a Arc<dyn Vendor>, usize),
    /// Neither.
    Nowhere,
}

/// `/__admin…` is the admin API; a request whose `Host` is a vendor's real
/// host (a container alias) carries the vendor's own path; otherwise the
/// first path segment names the vendor.
pub(crate) fn target<'a>(
    vendors: &'a [Arc<dyn Vendor>],
    uri: &Uri,
    headers: &HeaderMap,
) -> Target<'a> {
    let path = uri.path();
    if path == "/__admin" || path.starts_with("/__admin/") {
        return Target::Admin;
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.host())
        .map(strip_port);
    if let Some(host) = host {
        if let Some(vendor) = vendors
            .iter()
            .find(|v| v.real_host().eq_ignore_ascii_case(host))
        {
            return Target::Vendor(vendor, 0);
        }
    }
    let rest = path.trim_start_matches('/');
    let first = rest.split_once('/').map_or(rest, |(first, _)| first);
    match vendors.iter().find(|v| v.name() == first) {
        // The slash after the vendor's name; with none, the end of the
        // path, which `VendorPath::tail` reads as the vendor's root `/`.
        Some(vendor) => Target::Vendor(
            vendor,
            path.len()
                .saturating_sub(rest.len())
                .saturating_add(first.len()),
        ),
        None => Target::Nowhere,
    }
}

/// What the vendor pipeline needs besides the call.
pub(crate) struct Pipeline<'a> {
    pub scenarios: &'a Scenarios,
    pub store: &'a Store,
}

/// A vendor's answer, and the scenario whose rule gave it (if any).
pub(crate) struct VendorReply {
    pub response: Result<Response<Body>, DropConnection>,
    /// The answer as the client was meant to get it (for the journal);
    /// `None` when the connection was dropped.
    pub reply: Option<Reply>,
    /// The scenario rule that answered: (scenario, rule index).
    pub scenario: Option<(String, usize)>,
    /// The fault a rule applied, by its scenario-file name.
    pub fault: Option<&'static str>,
}

impl VendorReply {
    /// A reply given as it is: no scenario, no fault.
    pub(crate) fn plain(reply: Reply) -> VendorReply {
        VendorReply {
            response: Ok(reply.to_response()),
            reply: Some(reply),
            scenario: None,
            fault: None,
        }
    }
}

impl Pipeline<'_> {
    /// Scenario rules first; the emulation when none answers.
    pub async fn answer(
        &self,
        vendor: &dyn Vendor,
        call: &Call,
        session: &Session,
        connection: &Connection,
    ) -> VendorReply {
        // A session the store dropped (idle, or past the session cap while
        // another request made a new one) takes its activations and
        // counters with it before they could answer this request.
        if let Some(id) = session.id() {
            if self.scenarios.holds_session(session) && !self.store.has_session(id) {
                self.scenarios.forget_session(session);
            }
        }
        let decision = match self.scenarios.decide(vendor.name(), call, session) {
            Ok(decision) => decision,
            Err(problem) => return VendorReply::plain(unknown_scenario(&problem, self.scenarios)),
        };
        // A session comes to exist with its first write: a read with a new
        // session id is answered from a fresh state that is not kept.
        let reads_only = call.method == hyper::Method::GET || call.method == hyper::Method::HEAD;
        let transient = reads_only && decision.is_none();
        let emulate = || {
            let state = if transient {
                self.store.peek_state(session)
            } else {
                self.store.state(session)
            };
            vendor.handle(call, &state)
        };
        let Some(decision) = decision else {
            return VendorReply::plain(emulate());
        };
        // A rule that fired counted its call in the session's counters:
        // the session exists from then on, so idle expiry and the session
        // cap drop those counters with it.
        if session.id().is_some() {
            self.store.state(session);
        }
        tracing::debug!(scenario = %decision.scenario, rule = decision.rule, "scenario rule fired");
        let fault = decision.answer.fault_name();
        let (response, reply) =
            carry_out(vendor, call, connection, decision.answer, &emulate).await;
        VendorReply {
            response,
            reply,
            scenario: Some((decision.scenario, decision.rule)),
            fault,
        }
    }
}

/// Carries out a rule's answer: wait, then respond, render the vendor's
/// error, emulate, or break the connection. Also returns the answer as
/// the client was meant to get it, for the journal.
async fn carry_out(
    vendor: &dyn Vendor,
    call: &Call,
    connection: &Connection,
    answer: RuleReply,
    emulate: &(dyn Fn() -> Reply + Sync),
) -> (Result<Response<Body>, DropConnection>, Option<Reply>) {
    let jitter = if answer.jitter_ms > 0 {
        fastrand::u64(0..=answer.jitter_ms)
    } else {
        0
    };
    let delay = answer.delay_ms.saturating_add(jitter);
    if delay > 0 {
        // No lock is held here: the decision is an owned value.
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let whole = |reply: Reply| (Ok(reply.to_response()), Some(reply));
    match answer.action {
        Action::Respond {
            status,
            headers,
            body,
        } => whole(Reply {
            status,
            headers: headers.into(),
            body,
            notes: Vec::new(),
        }),
        Action::VendorError(request) => whole(
            vendor
                .scenario_reply(&request, call)
                .unwrap_or_else(|| vendor.render_shared(&SharedError::Internal)),
        ),
        Action::Emulate => whole(emulate()),
        Action::Fault {
            kind,
            hold_ms,
            content_type,
        } => match kind {
            FaultKind::ConnectionReset => {
                connection.reset_on_close();
                (Err(DropConnection), None)
            }
            FaultKind::Timeout => {
                tokio::time::sleep(Duration::from_millis(hold_ms)).await;
                connection.reset_on_close();
                (Err(DropConnection), None)
            }
            FaultKind::CloseAfterHeaders => {
                let reply = emulate();
                (Ok(broken(reply.clone(), None)), Some(reply))
            }
            FaultKind::TruncatedBody => {
                let reply = emulate();
                let half = reply.body.slice(..reply.body.len() / 2);
                (Ok(broken(reply.clone(), Some(half))), Some(reply))
            }
            FaultKind::MalformedJson => {
                let mut reply = emulate();
                reply.body = reply.body.slice(..reply.body.len() / 2);
                whole(reply)
            }
            FaultKind::WrongContentType => {
                let value = HeaderValue::from_str(&content_type)
                    .unwrap_or(HeaderValue::from_static("text/html"));
                whole(emulate().with_header(CONTENT_TYPE, value))
            }
        },
    }
}

/// The reply's status and headers with its full `Content-Length`, but a
/// body that stops after `first` (or at once) and breaks the connection.
fn broken(reply: Reply, first: Option<Bytes>) -> Response<Body> {
    let length = reply.body.len();
    let mut response = Response::new(http_body_util::Either::Right(
        BrokenBody::new(first).boxed(),
    ));
    *response.status_mut() = reply.status;
    for (name, value) in reply.headers {
        response.headers_mut().append(name, value);
    }
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(length));
    response
}

/// A header named a scenario that does not exist: a test-setup mistake,
/// answered loudly in usermock's own format rather than silently emulated.
/// How many scenario names an `unknown_scenario` answer lists.
const MAX_LISTED_SCENARIOS: usize = 100;

fn unknown_scenario(problem: &HeaderProblem, scenarios: &Scenarios) -> Reply {
    let message = match problem {
        HeaderProblem::Unknown(name) => {
            format!("X-Usermock-Scenario names '{name}', which is not loaded")
        }
        HeaderProblem::NotAscii => "X-Usermock-Scenario must be visible ASCII".to_owned(),
    };
    // Bounded: with many uploaded scenarios the whole list would make a
    // mistyped header cost a large answer; the admin API lists them all.
    let all = scenarios.summaries(&Session::Shared);
    let known: Vec<Value> = all
        .iter()
        .take(MAX_LISTED_SCENARIOS)
        .map(|s| s["name"].clone())
        .collect();
    Reply::json(
        StatusCode::BAD_REQUEST,
        &json!({
            "error": "unknown_scenario",
            "message": message,
            "known": known,
            "known_total": all.len(),
        }),
    )
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Not under any vendor: usermock's own format, naming the valid prefixes.
pub(crate) fn no_vendor(path: &str, vendors: &[Arc<dyn Vendor>]) -> Reply {
    let prefixes: Vec<String> = vendors.iter().map(|v| format!("/{}", v.name())).collect();
    Reply::json(
        StatusCode::NOT_FOUND,
        &json!({
            "error": "no_route",
            "message": format!("no usermock route for {path}"),
            "vendor_prefixes": prefixes,
            "admin_prefix": "/__admin",
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::strip_port;

    #[test]
    fn ports_are_stripped_from_host_names() {
        assert_eq!(strip_port("api.example.com:8080"), "api.example.com");
        assert_eq!(strip_port("api.example.com"), "api.example.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
