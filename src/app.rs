//! The application: everything usermock holds (vendors, users, scenarios,
//! journal, limits) and the one function that answers a request by handing
//! it to the admin API or the vendor pipeline, then journals and logs it.
//!
//! This is the top layer: it imports the router, admin API, journal,
//! scenarios, vendors and store, and none of them imports it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONNECTION};
use hyper::{Request, Response};
use serde_json::Value;

use crate::admin::{self, AdminError};
use crate::clock::Setting;
use crate::http::{read_call, BodyError, Call, Reply, VendorPath};
use crate::journal::{FinishedRequest, Journal};
use crate::router::{self, Pipeline, Target, VendorReply};
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
    /// A client must send its whole body within this.
    pub body_timeout: Duration,
    /// When set, every admin call needs it.
    pub admin_token: Option<String>,
    /// `Host` names admin calls answer besides loopback (`--admin-host`).
    pub admin_hosts: Vec<String>,
    /// Each vendor's fixture document as loaded at startup.
    pub fixtures: Vec<(&'static str, Value)>,
    /// How the global clock ran at startup.
    pub startup_clock: Setting,
    /// Admin calls running at once off the runtime's workers.
    pub admin_work: tokio::sync::Semaphore,
}

/// Admin calls (besides health) that run at once; more wait their turn.
pub(crate) const ADMIN_WORKERS: usize = 4;

impl App {
    fn admin<'a>(
        &'a self,
        local_addr: Option<std::net::SocketAddr>,
        session: &'a Session,
        streamed: &'a admin::Streamed,
    ) -> admin::Context<'a> {
        admin::Context {
            vendors: &self.vendors,
            store: &self.store,
            scenarios: &self.scenarios,
            journal: &self.journal,
            admin_token: self.admin_token.as_deref(),
            admin_hosts: &self.admin_hosts,
            local_addr,
            fixtures: &self.fixtures,
            startup_clock: self.startup_clock,
            session,
            streamed,
        }
    }

    /// Drops sessions that idled too long or exceed the cap, with their
    /// scenario activations and counters.
    pub fn expire_sessions(&self) {
        for id in self.store.expire_sessions() {
            self.scenarios.forget_session(&Session::Named(id));
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
            // The body is not read: the connection cannot carry another
            // request (a keep-alive client must not send one on it).
            Err(invalid) => {
                let reply = invalid_session(&invalid)
                    .with_header(CONNECTION, HeaderValue::from_static("close"));
                return Ok(reply.into_response());
            }
        };
        let target = router::target(&self.vendors, &uri, req.headers());
        let (vendor, path) = match target {
            Target::Admin => {
                let path = VendorPath::tail(&uri, 0);
                return Ok(match self.read(req, path).await {
                    Ok(call) => {
                        Arc::clone(&self)
                            .admin_call(call, session, &connection)
                            .await
                    }
                    Err(err) => admin_body_error(err).into_response(),
                });
            }
            Target::Vendor(vendor, start) => {
                (Some(Arc::clone(vendor)), VendorPath::tail(&uri, start))
            }
            Target::Nowhere => (None, VendorPath::tail(&uri, 0)),
        };
        let read = self.read(req, path).await;
        let (answer, call, matched) = match (&vendor, read) {
            (Some(vendor), Ok(call)) => {
                let pipeline = Pipeline {
                    scenarios: &self.scenarios,
                    store: &self.store,
                };
                let answer = pipeline
                    .answer(vendor.as_ref(), &call, &session, &connection)
                    .await;
                // Whether a route has this path: the emulation answering
                // anything but 404/405 proves it without a second match.
                let status = answer.reply.as_ref().map(|r| r.status.as_u16());
                let matched = match (&answer.scenario, status) {
                    (None, Some(status)) if status != 404 && status != 405 => true,
                    _ => vendor.knows_path(&call.path),
                };
                (answer, Some(call), matched)
            }
            (Some(vendor), Err(err)) => (vendor_body_error(vendor.as_ref(), err), None, true),
            (None, Ok(call)) => {
                let reply = router::no_vendor(uri.path(), &self.vendors);
                (VendorReply::plain(reply), Some(call), false)
            }
            // The body limits hold off any route too: a body not read to
            // the end is answered as such and closes the connection.
            (None, Err(err)) => (VendorReply::plain(admin_body_error(err)), None, false),
        };
        let status = answer.response.as_ref().ok().map(|r| r.status().as_u16());
        let duration = started.elapsed();
        if let Some(call) = call {
            self.journal.record(FinishedRequest {
                vendor: vendor.as_ref().map(|v| v.name()),
                matched,
                full_path: uri.path(),
                call,
                response: answer.reply,
                rule: answer.scenario,
                fault: answer.fault,
                duration,
                session: session.id(),
            });
        }
        // Requests are logged at debug: the journal has every one, and a
        // formatted line per request at info would cost throughput.
        match status {
            Some(status) => tracing::debug!(%method, path = uri.path(), status, "request"),
            None => {
                tracing::debug!(%method, path = uri.path(), "request: connection dropped by a scenario")
            }
        }
        answer.response
    }

    /// Answers an admin call. Health and liveness are answered at once; any other call
    /// may be heavy (a find over the whole journal, a snapshot), so it runs
    /// on the blocking pool, at most [`ADMIN_WORKERS`] at a time: the
    /// runtime's workers stay free for health checks and vendor routes.
    async fn admin_call(
        self: Arc<Self>,
        call: Call,
        session: Session,
        connection: &Connection,
    ) -> Response<Body> {
        let local = connection.local_addr();
        let streamed = admin::Streamed::default();
        if call.path == "/__admin/health" || call.path == "/__admin/live" {
            return admin::handle(&self.admin(local, &session, &streamed), call).into_response();
        }
        // The semaphore is never closed, so the permit always comes.
        let _permit = self.admin_work.acquire().await.ok();
        let app = Arc::clone(&self);
        let work = tokio::task::spawn_blocking(move || {
            let reply = admin::handle(&app.admin(local, &session, &streamed), call);
            (reply, streamed.take())
        });
        // A streamed body is written as the client reads it, a batch at a
        // time, after the permit is given back: the heavy part (collecting
        // the records) is done.
        match work.await {
            Ok((reply, Some(body))) => reply.into_response_with(body),
            Ok((reply, None)) => reply.into_response(),
            Err(err) => {
                tracing::error!(%err, "an admin call failed");
                AdminError::Internal("the admin call failed; see usermock's log".to_owned())
                    .reply()
                    .into_response()
            }
        }
    }

    /// The whole body, within the size and time limits.
    async fn read(&self, req: Request<Incoming>, path: VendorPath) -> Result<Call, BodyError> {
        match tokio::time::timeout(self.body_timeout, read_call(req, path, self.max_body)).await {
            Ok(read) => read,
            Err(_) => Err(BodyError::TimedOut),
        }
    }
}

/// A body that could not be read, answered in the vendor's format: too
/// large → 413; broken framing → 400; too slow → 408 and the connection
/// closes.
fn vendor_body_error(vendor: &dyn Vendor, err: BodyError) -> VendorReply {
    let shared = match err {
        BodyError::TooLarge { limit } => SharedError::PayloadTooLarge { limit },
        BodyError::Broken => SharedError::BadBody(crate::vendors::BodyProblem::Unreadable),
        BodyError::TimedOut => SharedError::BodyTimeout,
    };
    let reply = vendor.render_shared(&shared);
    // The rest of a refused or late body is never read: the connection
    // cannot carry another request.
    VendorReply::plain(reply.with_header(CONNECTION, HeaderValue::from_static("close")))
}

fn admin_body_error(err: BodyError) -> Reply {
    let error = match err {
        BodyError::TooLarge { limit } => AdminError::PayloadTooLarge { limit },
        BodyError::Broken => AdminError::UnreadableBody,
        BodyError::TimedOut => AdminError::BodyTimeout,
    };
    error
        .reply()
        .with_header(CONNECTION, HeaderValue::from_static("close"))
}

/// A malformed `X-Usermock-Session` is a test-setup mistake: refused in
/// usermock's own format, never served from the shared state.
fn invalid_session(invalid: &InvalidSession) -> Reply {
    AdminError::InvalidSession(invalid.to_string()).reply()
}
