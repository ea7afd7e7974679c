//! From a hyper request to a reply: picks the admin API or a vendor, reads
//! the body once, and turns every error into the right body format.
//!
//! The order of the steps is the product's contract:
//! route → read body (413) → scenario rules → vendor emulation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};

use crate::admin;
use crate::error::ApiError;
use crate::http::{Call, Reply};
use crate::journal::{Journal, Outcome};
use crate::scenario::{Action, Answer, BrokenBody, FaultKind, Scenarios};
use crate::server::{Body, Connection, DropConnection};
use crate::store::Store;
use crate::vendors::Vendor;

/// Header that selects an isolated copy of the state (product.md §6).
pub(crate) const SESSION_HEADER: &str = "x-usermock-session";

/// Everything a request needs, shared by all connections.
pub(crate) struct App {
    pub vendors: Vec<Arc<dyn Vendor>>,
    pub store: Store,
    pub scenarios: Scenarios,
    pub journal: Journal,
    pub max_body: usize,
    /// When set, every admin call needs it.
    pub admin_token: Option<String>,
}

/// What the journal keeps of a request (admin calls are not kept).
#[derive(Default)]
struct Journaled {
    vendor: Option<&'static str>,
    call: Option<Call>,
    scenario: Option<String>,
}

enum Target<'a> {
    Admin(String),
    Vendor(&'a Arc<dyn Vendor>, String),
    Nowhere,
}

impl App {
    fn target(&self, req: &Request<Incoming>) -> Target<'_> {
        let path = req.uri().path();
        if path == "/__admin" || path.starts_with("/__admin/") {
            return Target::Admin(path.to_owned());
        }
        // A request addressed to the vendor's real host (a container alias)
        // carries the vendor's own path, without our prefix.
        let host = req
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().host())
            .map(strip_port);
        if let Some(host) = host {
            if let Some(vendor) = self
                .vendors
                .iter()
                .find(|v| v.real_host().eq_ignore_ascii_case(host))
            {
                return Target::Vendor(vendor, path.to_owned());
            }
        }
        let rest = path.trim_start_matches('/');
        let (first, tail) = rest.split_once('/').map_or((rest, ""), |(f, t)| (f, t));
        match self.vendors.iter().find(|v| v.name() == first) {
            Some(vendor) => Target::Vendor(vendor, format!("/{tail}")),
            None => Target::Nowhere,
        }
    }

    /// Answers one request. `Err` makes hyper drop the connection without
    /// an answer (a scenario's reset or timeout fault).
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        connection: &Connection,
    ) -> Result<Response<Body>, DropConnection> {
        let started = Instant::now();
        let method = req.method().clone();
        let uri = req.uri().clone();
        let session = req
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (response, journaled) = match self.target(&req) {
            Target::Admin(path) => {
                let reply = match self.read(req).await {
                    Ok(call) => admin::handle(&self, Call { path, ..call }),
                    Err(limit) => admin::too_large(limit),
                };
                (Ok(reply.into_response()), None)
            }
            Target::Vendor(vendor, path) => {
                let vendor = Arc::clone(vendor);
                match self.read(req).await {
                    Ok(call) => {
                        let call = Call { path, ..call };
                        let (response, scenario) =
                            self.vendor_call(vendor.as_ref(), &call, connection).await;
                        let journaled = Journaled {
                            vendor: Some(vendor.name()),
                            call: Some(call),
                            scenario,
                        };
                        (response, Some(journaled))
                    }
                    Err(limit) => {
                        let reply = render(vendor.as_ref(), &ApiError::PayloadTooLarge { limit });
                        let journaled = Journaled {
                            vendor: Some(vendor.name()),
                            ..Journaled::default()
                        };
                        (Ok(reply.into_response()), Some(journaled))
                    }
                }
            }
            Target::Nowhere => (
                Ok(no_vendor(uri.path(), &self.vendors).into_response()),
                Some(Journaled::default()),
            ),
        };
        let status = response.as_ref().ok().map(|r| r.status().as_u16());
        let duration_ms = started.elapsed().as_millis() as u64;
        if let Some(journaled) = journaled {
            self.journal.record(Outcome {
                vendor: journaled.vendor,
                full_path: uri.path(),
                call: journaled.call.as_ref(),
                method: method.as_str(),
                status,
                scenario: journaled.scenario,
                duration_ms,
                session: session.as_deref(),
            });
        }
        match status {
            Some(status) => tracing::info!(
                %method,
                path = uri.path(),
                status,
                micros = started.elapsed().as_micros() as u64,
                "request"
            ),
            None => {
                tracing::info!(%method, path = uri.path(), "request: connection dropped by a scenario")
            }
        }
        response
    }

    /// Scenario rules first; the emulation when none answers.
    async fn vendor_call(
        &self,
        vendor: &dyn Vendor,
        call: &Call,
        connection: &Connection,
    ) -> (Result<Response<Body>, DropConnection>, Option<String>) {
        let session = call.header(SESSION_HEADER).map(str::to_owned);
        let decision = match self
            .scenarios
            .decide(vendor.name(), call, session.as_deref())
        {
            Ok(decision) => decision,
            Err(unknown) => {
                let reply = unknown_scenario(unknown.as_str(), &self.scenarios);
                return (Ok(reply.into_response()), None);
            }
        };
        let emulate = || {
            let state = self.store.state(session.as_deref());
            vendor
                .handle(call, &state)
                .unwrap_or_else(|e| render(vendor, &e))
        };
        let Some(decision) = decision else {
            return (Ok(emulate().into_response()), None);
        };
        tracing::info!(scenario = %decision.scenario, rule = decision.rule, "scenario rule fired");
        let response = self
            .answer(vendor, call, connection, decision.answer, &emulate)
            .await;
        (response, Some(decision.scenario))
    }

    /// Carries out a rule's answer: wait, then respond, render the vendor's
    /// error, emulate, or break the connection.
    async fn answer(
        &self,
        vendor: &dyn Vendor,
        call: &Call,
        connection: &Connection,
        answer: Answer,
        emulate: &(dyn Fn() -> Reply + Sync),
    ) -> Result<Response<Body>, DropConnection> {
        let delay = answer.delay_ms
            + if answer.jitter_ms > 0 {
                fastrand::u64(0..=answer.jitter_ms)
            } else {
                0
            };
        if delay > 0 {
            // No lock is held here: the decision is an owned value.
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        Ok(match answer.action {
            Action::Respond {
                status,
                headers,
                body,
            } => Reply {
                status,
                headers,
                body,
            }
            .into_response(),
            Action::VendorError(request) => {
                let error = vendor
                    .scenario_error(&request, call)
                    .unwrap_or(ApiError::Internal);
                render(vendor, &error).into_response()
            }
            Action::Emulate => emulate().into_response(),
            Action::Fault {
                kind,
                hold_ms,
                content_type,
            } => match kind {
                FaultKind::ConnectionReset => {
                    connection.reset_on_close();
                    return Err(DropConnection);
                }
                FaultKind::Timeout => {
                    tokio::time::sleep(Duration::from_millis(hold_ms)).await;
                    connection.reset_on_close();
                    return Err(DropConnection);
                }
                FaultKind::CloseAfterHeaders => broken(emulate(), None),
                FaultKind::TruncatedBody => {
                    let reply = emulate();
                    let half = reply.body.slice(..reply.body.len() / 2);
                    broken(reply, Some(half))
                }
                FaultKind::MalformedJson => {
                    let mut reply = emulate();
                    reply.body = reply.body.slice(..reply.body.len() / 2);
                    reply.into_response()
                }
                FaultKind::WrongContentType => {
                    let value = HeaderValue::from_str(&content_type)
                        .unwrap_or(HeaderValue::from_static("text/html"));
                    emulate().with_header(CONTENT_TYPE, value).into_response()
                }
            },
        })
    }

    /// Reads the whole body, refusing more than `max_body` bytes (checked
    /// against `Content-Length` first, so a large upload is not read at all).
    async fn read(&self, req: Request<Incoming>) -> Result<Call, usize> {
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            return Err(self.max_body);
        }
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, self.max_body).collect().await {
            Ok(collected) => collected.to_bytes(),
            // Over the limit, or the client broke off mid-body: either way
            // there is no whole request to answer, and the limit is the one
            // error the client can act on.
            Err(err) => {
                tracing::debug!(%err, "request body not read");
                return Err(self.max_body);
            }
        };
        Ok(Call {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts.headers,
            body,
        })
    }
}

/// The reply's status and headers with its full `Content-Length`, but a
/// body that stops after `first` (or at once) and breaks the connection.
fn broken(reply: Reply, first: Option<Bytes>) -> Response<Body> {
    let length = reply.body.len();
    let mut response = Response::new(BrokenBody::new(first).boxed());
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
fn unknown_scenario(name: &str, scenarios: &Scenarios) -> Reply {
    let known: Vec<Value> = scenarios
        .summaries(None)
        .into_iter()
        .map(|s| s["name"].clone())
        .collect();
    Reply::json(
        StatusCode::BAD_REQUEST,
        &json!({
            "error": "unknown_scenario",
            "message": format!("X-Usermock-Scenario names '{name}', which is not loaded"),
            "known": known,
        }),
    )
}

/// A vendor error in the vendor's format, plus what HTTP itself requires.
fn render(vendor: &dyn Vendor, error: &ApiError) -> Reply {
    let reply = vendor.render_error(error);
    match error {
        ApiError::MethodNotAllowed { allow } => {
            reply.with_header(ALLOW, HeaderValue::from_static(allow))
        }
        _ => reply,
    }
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Not under any vendor: usermock's own format, naming the valid prefixes.
fn no_vendor(path: &str, vendors: &[Arc<dyn Vendor>]) -> Reply {
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
