//! A configured usermock: the [`Options`] a server is built from, loading
//! and checking fixtures and scenarios, and [`Usermock::run`] on a bound
//! listener. The binary and [`crate::MockServer`] both start servers here.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::diagnostics::StartupError;
use crate::{app, clock, fixtures, journal, scenario, server, session, store, timestamps, vendors};

/// How to build a server. `Default` is what the bare binary uses; every
/// field is a documented limit or switch (see `docs/limits.md`).
#[derive(Debug, Clone)]
pub struct Options {
    /// Folder with `<vendor>.json` files; `None` uses the embedded fixtures.
    pub fixtures: Option<PathBuf>,
    /// Largest accepted request body, in bytes (default 1 MiB).
    pub max_body: usize,
    /// How long shutdown waits for in-flight requests (default 10 s).
    pub drain_timeout: Duration,
    /// Vendors whose documented rate limit is on regardless of the fixture.
    pub rate_limit: Vec<String>,
    /// A scenario file or a folder of them, besides the shipped scenarios.
    pub scenarios: Option<PathBuf>,
    /// Scenarios active for every request from the start.
    pub active_scenarios: Vec<String>,
    /// How many requests the journal keeps (default 1000; the oldest go first).
    pub journal_size: usize,
    /// How many bytes of bodies the journal keeps in all (default 32 MiB);
    /// the oldest entries go first.
    pub journal_bytes: usize,
    /// When set, admin calls need it. An empty token is refused at startup.
    pub admin_token: Option<String>,
    /// Whether journal listings show credentials (vendor tokens, API keys,
    /// passwords, client secrets) as received; by default they are shown as
    /// fingerprints (`sha256:` and 8 hex digits).
    pub show_journal_credentials: bool,
    /// `Host` names the admin API answers besides loopback names and
    /// addresses, the listening address and the vendors' hosts (e.g. a CI
    /// service alias `usermock`); `*` allows any. Guards against DNS rebinding.
    pub admin_hosts: Vec<String>,
    /// Largest request head (request line and headers), in bytes (default 32 KiB).
    pub max_header_bytes: usize,
    /// A client must send a whole request head within this (default 10 s).
    pub header_read_timeout: Duration,
    /// A client must send its whole body within this (default 30 s).
    pub body_timeout: Duration,
    /// An idle keep-alive connection is closed after this (default 60 s).
    pub idle_timeout: Duration,
    /// Connections served at once; beyond it, 503 (default 1024).
    pub max_connections: usize,
    /// Sessions alive at once; the least recently used goes first (default 10,000).
    pub max_sessions: usize,
    /// A session unused this long is dropped (default 15 min).
    pub session_idle: Duration,
    /// Scenarios uploaded through the admin API at once (default 256).
    pub max_uploaded_scenarios: usize,
    /// Bytes of scenario files uploaded through the admin API at once, in
    /// all (default 16 MiB); one more upload gets 507.
    pub max_uploaded_scenario_bytes: usize,
    /// Start with the clock frozen at this RFC 3339 instant.
    pub clock: Option<String>,
    /// The largest a stored record may grow to by one write, in bytes of
    /// JSON (default 64 KiB): e.g. a Relesys JSON Patch whose `copy`
    /// operations double the user is refused with the vendor's 400.
    pub max_record_bytes: usize,
    /// Tokens a token endpoint (Relesys) has issued that are remembered at
    /// once (default 10,000); one more drops the oldest, whose bearer then
    /// gets the vendor's 401 as for an expired token.
    pub max_issued_tokens: usize,
    /// Records one session (or the shared state) may create, change or
    /// delete (default 100,000); one more is refused with 507 in the
    /// vendor's format.
    pub max_session_records: usize,
    /// Bytes of records (compact JSON, plus 128 per record and its id) one
    /// session or the shared state may hold beyond the fixtures (default
    /// 32 MiB); past it, 507.
    pub max_session_bytes: usize,
    /// Records all sessions and the shared state together (default 1,000,000).
    pub max_total_records: usize,
    /// Bytes all sessions and the shared state together (default 256 MiB).
    pub max_total_bytes: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            fixtures: None,
            max_body: 1024 * 1024,
            drain_timeout: Duration::from_secs(10),
            rate_limit: Vec::new(),
            scenarios: None,
            active_scenarios: Vec::new(),
            journal_size: 1000,
            journal_bytes: 32 * 1024 * 1024,
            admin_token: None,
            show_journal_credentials: false,
            admin_hosts: Vec::new(),
            max_header_bytes: 32 * 1024,
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_sessions: 10_000,
            session_idle: Duration::from_secs(15 * 60),
            max_uploaded_scenarios: 256,
            max_uploaded_scenario_bytes: 16 * 1024 * 1024,
            clock: None,
            max_record_bytes: vendors::DEFAULT_MAX_RECORD_BYTES,
            max_issued_tokens: vendors::DEFAULT_MAX_ISSUED_TOKENS,
            max_session_records: store::StoreBounds::default().session_records,
            max_session_bytes: store::StoreBounds::default().session_bytes,
            max_total_records: store::StoreBounds::default().total_records,
            max_total_bytes: store::StoreBounds::default().total_bytes,
        }
    }
}

impl Options {
    fn upload_limits(&self) -> scenario::UploadLimits {
        scenario::UploadLimits {
            scenarios: self.max_uploaded_scenarios,
            bytes: self.max_uploaded_scenario_bytes,
        }
    }

    fn fixture_limits(&self) -> fixtures::Limits {
        fixtures::Limits {
            max_record_bytes: self.max_record_bytes,
            max_issued_tokens: self.max_issued_tokens,
        }
    }
}

/// What [`Usermock::check`] read and found.
#[derive(Debug)]
pub struct CheckReport {
    /// Each fixture file read: its path, or `<embedded>/<vendor>.json`.
    pub fixtures: Vec<String>,
    /// Each scenario file read from `Options::scenarios`.
    pub scenarios: Vec<String>,
    /// How many scenarios shipped in the binary were checked too.
    pub shipped_scenarios: usize,
    /// Why usermock would not start (every file problem found); `None` when
    /// it would.
    pub error: Option<StartupError>,
}

/// One route a vendor serves: `GET /api/v1/users` of `awork`. The pattern
/// is relative to the vendor's real host (`{name}` marks a path parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedRoute {
    /// The vendor key, e.g. `awork`.
    pub vendor: &'static str,
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The path pattern, e.g. `/api/v1/users/{userId}`.
    pub pattern: String,
}

/// A loaded, ready-to-serve usermock.
pub struct Usermock {
    app: Arc<app::App>,
    limits: server::Limits,
}

impl Usermock {
    /// Loads and validates every fixture; fails without serving anything if
    /// any file has a problem.
    pub fn new(options: &Options) -> Result<Usermock, StartupError> {
        if options.admin_token.as_deref().is_some_and(str::is_empty) {
            return Err(StartupError::EmptyAdminToken);
        }
        let startup_clock = match options.clock.as_deref() {
            None => clock::Setting::Real,
            Some(text) => match timestamps::parse(text) {
                Some(at) => clock::Setting::Frozen(at),
                None => {
                    return Err(StartupError::BadClock {
                        value: text.to_owned(),
                    })
                }
            },
        };
        let world = fixtures::load(
            options.fixtures.as_deref(),
            &options.rate_limit,
            &options.fixture_limits(),
        )?;
        let vendors: Vec<&dyn vendors::Vendor> = world.vendors.iter().map(|v| v.as_ref()).collect();
        let scenarios = scenario::Scenarios::load(
            options.scenarios.as_deref(),
            &vendors,
            options.upload_limits(),
        )
        .map_err(StartupError::files)?;
        for name in &options.active_scenarios {
            if !scenarios.activate(name, &session::Session::Shared) {
                return Err(StartupError::UnknownScenario { name: name.clone() });
            }
        }
        scenarios.mark_startup();
        let sessions = store::SessionBounds {
            max_sessions: options.max_sessions,
            idle: options.session_idle,
        };
        let caps = store::StoreBounds {
            session_records: options.max_session_records,
            session_bytes: options.max_session_bytes,
            total_records: options.max_total_records,
            total_bytes: options.max_total_bytes,
            record_bytes: options.max_record_bytes,
        };
        let journal = journal::Bounds {
            entries: options.journal_size,
            bytes: options.journal_bytes,
        };
        Ok(Usermock {
            app: Arc::new(app::App {
                vendors: world.vendors,
                store: store::Store::new(
                    world.baseline,
                    clock::Clock::global(startup_clock),
                    sessions,
                    caps,
                ),
                scenarios,
                journal: journal::Journal::new(
                    journal,
                    if options.show_journal_credentials {
                        journal::Credentials::Show
                    } else {
                        journal::Credentials::Fingerprint
                    },
                ),
                max_body: options.max_body,
                body_timeout: options.body_timeout,
                admin_token: options.admin_token.clone(),
                admin_hosts: options.admin_hosts.clone(),
                fixtures: world.documents,
                startup_clock,
                admin_work: tokio::sync::Semaphore::new(app::ADMIN_WORKERS),
            }),
            limits: server::Limits {
                header_read_timeout: options.header_read_timeout,
                idle_timeout: options.idle_timeout,
                max_header_bytes: options.max_header_bytes,
                max_connections: options.max_connections.max(1),
                drain_timeout: options.drain_timeout,
            },
        })
    }

    /// Like [`Usermock::new`], but reports what it read and, where it can,
    /// every problem in every file: the scenarios are checked even when a
    /// fixture is broken (against the routes, which no fixture changes).
    /// `usermock check` prints this.
    pub fn check(options: &Options) -> CheckReport {
        let mut report = CheckReport {
            fixtures: fixtures::labels(options.fixtures.as_deref()),
            scenarios: options
                .scenarios
                .as_deref()
                .map(scenario::files)
                .unwrap_or_default()
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            shipped_scenarios: scenario::shipped_count(),
            error: None,
        };
        let mut problems = Vec::new();
        let world = fixtures::load(
            options.fixtures.as_deref(),
            &options.rate_limit,
            &options.fixture_limits(),
        );
        let world = match world {
            Ok(world) => world,
            Err(StartupError::Files(found)) => {
                problems.extend(found);
                // The embedded fixtures always load; their routes are the
                // ones a scenario is checked against.
                match fixtures::load(None, &[], &options.fixture_limits()) {
                    Ok(embedded) => embedded,
                    Err(err) => {
                        report.error = Some(err);
                        return report;
                    }
                }
            }
            Err(err) => {
                report.error = Some(err);
                return report;
            }
        };
        let vendors: Vec<&dyn vendors::Vendor> = world.vendors.iter().map(|v| v.as_ref()).collect();
        if let Err(found) = scenario::Scenarios::load(
            options.scenarios.as_deref(),
            &vendors,
            options.upload_limits(),
        ) {
            problems.extend(found);
        }
        report.error = if problems.is_empty() {
            Usermock::new(options).err()
        } else {
            Some(StartupError::files(problems))
        };
        report
    }

    /// The vendor keys served, in route order: every registered vendor,
    /// so the same as the free function [`vendor_names`].
    #[deprecated(note = "use usermock::vendor_names(): every registered vendor is served")]
    pub fn vendor_names(&self) -> Vec<&'static str> {
        self.app.vendors.iter().map(|v| v.name()).collect()
    }

    /// Each vendor's key and the path of its documented base URL on its
    /// real host (`("relesys", "/api/v1.3")`): a client's base URL on
    /// usermock is `/{key}{path}`.
    pub fn vendor_bases(&self) -> Vec<(&'static str, &'static str)> {
        self.app
            .vendors
            .iter()
            .map(|v| (v.name(), v.base_path()))
            .collect()
    }

    /// Each vendor served, with its real host and its routes.
    pub fn vendors(&self) -> Vec<VendorInfo> {
        self.app
            .vendors
            .iter()
            .map(|v| VendorInfo {
                name: v.name(),
                real_host: v.real_host(),
                routes: v
                    .route_rows()
                    .into_iter()
                    .map(|(method, pattern)| (method.to_string(), pattern))
                    .collect(),
            })
            .collect()
    }

    /// Every route the vendors serve, vendor by vendor in table order.
    pub fn routes(&self) -> Vec<ServedRoute> {
        self.app
            .vendors
            .iter()
            .flat_map(|v| {
                v.route_rows()
                    .into_iter()
                    .map(|(method, pattern)| ServedRoute {
                        vendor: v.name(),
                        method: method.to_string(),
                        pattern,
                    })
            })
            .collect()
    }

    /// How many scenarios are loaded (shipped and from files).
    pub fn scenario_count(&self) -> usize {
        self.app
            .scenarios
            .summaries(&session::Session::Shared)
            .len()
    }

    /// Serves on `listener` until `shutdown` resolves, then drains.
    pub async fn run(self, listener: tokio::net::TcpListener, shutdown: impl Future<Output = ()>) {
        let exposed = listener
            .local_addr()
            .is_ok_and(|addr| !addr.ip().is_loopback());
        if exposed && self.app.admin_token.is_none() {
            tracing::warn!("listening beyond loopback without --admin-token: anyone who can reach this port can reset, seed and read everything");
        }
        let app = self.app;
        let sweeper = {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(5));
                loop {
                    tick.tick().await;
                    app.expire_sessions();
                }
            })
        };
        let handler = move |req, connection| Arc::clone(&app).handle(req, connection);
        server::run(handler, listener, shutdown, self.limits).await;
        sweeper.abort();
    }
}

/// One served vendor, as the registry and its fixture define it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VendorInfo {
    /// The key in paths (`/<name>/...`), fixture names and the admin API.
    pub name: &'static str,
    /// The real API's host: a request with this `Host` needs no prefix.
    pub real_host: &'static str,
    /// `(method, pattern)` per route, relative to the real host, most
    /// specific first, e.g. `("GET", "/api/user/{userId}")`.
    pub routes: Vec<(String, String)>,
}

/// Where the published schemas live (the repository's `docs/schemas/`), and
/// so their `$id`s.
pub const SCHEMA_BASE: &str =
    "https://raw.githubusercontent.com/usermock/usermock/main/docs/schemas/";

/// The JSON Schema of a vendor's fixture file, pretty-printed, with its
/// `$id` (`SCHEMA_BASE` + `<vendor>.fixture.schema.json`).
pub fn fixture_schema(vendor: &str) -> Option<String> {
    let spec = vendors::ALL.iter().find(|s| s.name == vendor)?;
    let file = format!("{vendor}.fixture.schema.json");
    let mut schema = with_id((spec.fixture_schema)(), &file);
    // Every fixture may name its schema; the loader skips the member for
    // all vendors (`SourceFile::parse_fixture`), so no vendor type has it.
    let member = schemars::schema::SchemaObject {
        metadata: Some(Box::new(schemars::schema::Metadata {
            description: Some(format!(
                "The JSON Schema the file follows, for editors, e.g. `{SCHEMA_BASE}{file}` (see docs/fixtures.md); usermock does not read it."
            )),
            default: Some(serde_json::Value::Null),
            ..Default::default()
        })),
        instance_type: Some(schemars::schema::SingleOrVec::Vec(vec![
            schemars::schema::InstanceType::String,
            schemars::schema::InstanceType::Null,
        ])),
        ..Default::default()
    };
    schema
        .schema
        .object()
        .properties
        .insert("$schema".to_owned(), member.into());
    serde_json::to_string_pretty(&schema).ok()
}

/// The JSON Schema of a scenario file, pretty-printed, with its `$id`
/// (`SCHEMA_BASE` + `scenario.schema.json`).
pub fn scenario_schema() -> String {
    let schema = with_id(scenario::schema(), "scenario.schema.json");
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

fn with_id(mut schema: schemars::schema::RootSchema, file: &str) -> schemars::schema::RootSchema {
    schema.schema.metadata().id = Some(format!("{SCHEMA_BASE}{file}"));
    schema
}

/// The vendor keys usermock knows.
pub fn vendor_names() -> Vec<&'static str> {
    vendors::ALL.iter().map(|s| s.name).collect()
}

/// The admin API's OpenAPI 3.1 document, as `GET /__admin/openapi.json`
/// serves it (the vendor keys are those of [`vendor_names`]).
pub fn admin_openapi() -> &'static str {
    crate::admin::openapi_document()
}
