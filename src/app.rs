//! The application: everything usermock holds (vendors, users, scenarios,
//! journal, limits) and the one function that answers a request by handing
//! it to the admin API or the vendor pipeline, then journals and logs it.
//!
//! This is the top layer: it imports the router, admin API, journal,
//! scenarios, vendors and store, and none of them imports it.

use std::sync::Arc;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::json;

use crate::admin;
use crate::http::{read_call, BodyError, Call, Reply};
use crate::journal::{Journal, Outcome};
use crate::router::{self, Pipeline, Target};
use crate::scenario::Scenarios;
use crate::server::{Body, Connection, DropConnection};
use crate::session::{InvalidSession, Session};
use crate::store::Store;
use crate::vendors::{SharedError, Vendor};

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

/// What the journal keeps of a vendor (or unrouted) request.
#[derive(Default)]
struct Journaled {
    vendor: Option<&'static str>,
    call: Option<Call>,
    scenario: Option<String>,
}

impl App {
    fn admin(&self) -> admin::Context<'_> {
        admin::Context {
            vendors: &self.vendors,
            store: &self.store,
            scenarios: &self.scenarios,
            journal: &self.journal,
            admin_token: self.admin_token.as_deref(),
        }
    }

    /// Answers one request. `Err` makes hyper drop the connection without
    /// an answer (a scenario's reset or timeout fault).
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        connection: Connection,
    ) -> Result<Response<Body>, DropConnection> {
        let started = Instant::now();
        let method = req.method().clone();
        let uri = req.uri().clone();
        let session = match Session::from_headers(req.headers()) {
            Ok(session) => session,
            Err(invalid) => return Ok(invalid_session(&invalid).into_response()),
        };
        let (response, journaled) = match router::target(&self.vendors, &uri, req.headers()) {
            Target::Admin => {
                let path = uri.path().to_owned();
                let reply = match read_call(req, path, self.max_body).await {
                    Ok(call) => admin::handle(&self.admin(), call, &session),
                    Err(BodyError::TooLarge { limit }) => admin::too_large(limit),
                    Err(BodyError::Broken) => admin::too_large(self.max_body),
                };
                (Ok(reply.into_response()), None)
            }
            Target::Vendor(vendor, path) => {
                let vendor = Arc::clone(vendor);
                match read_call(req, path, self.max_body).await {
                    Ok(call) => {
                        let pipeline = Pipeline {
                            scenarios: &self.scenarios,
                            store: &self.store,
                        };
                        let answer = pipeline
                            .answer(vendor.as_ref(), &call, &session, &connection)
                            .await;
                        let journaled = Journaled {
                            vendor: Some(vendor.name()),
                            call: Some(call),
                            scenario: answer.scenario.map(|(name, _)| name),
                        };
                        (answer.response, Some(journaled))
                    }
                    Err(err) => {
                        let limit = match err {
                            BodyError::TooLarge { limit } => limit,
                            BodyError::Broken => self.max_body,
                        };
                        let reply = vendor.render_shared(&SharedError::PayloadTooLarge { limit });
                        let journaled = Journaled {
                            vendor: Some(vendor.name()),
                            ..Journaled::default()
                        };
                        (Ok(reply.into_response()), Some(journaled))
                    }
                }
            }
            Target::Nowhere => (
                Ok(router::no_vendor(uri.path(), &self.vendors).into_response()),
                Some(Journaled::default()),
            ),
        };
        let status = response.as_ref().ok().map(|r| r.status().as_u16());
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Some(journaled) = journaled {
            self.journal.record(Outcome {
                vendor: journaled.vendor,
                full_path: uri.path(),
                call: journaled.call.as_ref(),
                method: method.as_str(),
                status,
                scenario: journaled.scenario,
                duration_ms,
                session: session.id(),
            });
        }
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        match status {
            Some(status) => tracing::info!(%method, path = uri.path(), status, micros, "request"),
            None => {
                tracing::info!(%method, path = uri.path(), "request: connection dropped by a scenario")
            }
        }
        response
    }
}

/// A malformed `X-Usermock-Session` is a test-setup mistake: refused in
/// usermock's own format, never served from the shared state.
fn invalid_session(invalid: &InvalidSession) -> Reply {
    Reply::json(
        StatusCode::BAD_REQUEST,
        &json!({ "error": "invalid_session", "message": invalid.to_string() }),
    )
}
