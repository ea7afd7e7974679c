//! usermock: a faithful mock of four vendors' user APIs.
//!
//! The binary is a thin shell around this library, which tests also use to
//! start the server in-process on port 0:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let server = usermock::Usermock::new(&usermock::Options::default())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! server.run(listener, std::future::pending()).await;
//! # Ok(()) }
//! ```

// Layers, top to bottom; each module imports only from those below it.
mod app; // the application: state + request handling
mod clock; // real or frozen time, global and per session
mod admin; // the admin API
mod journal; // the request journal
mod router; // target selection and the vendor pipeline
mod scenario; // scenario files and rules
mod fixtures; // finding and loading the vendors' fixture files
mod vendors; // the emulated vendors, one folder each
mod matcher; // request matching (scenario rules, journal find)
mod diagnostics; // startup errors with file and place
mod http; // Call, Reply, path patterns, header names
mod rate_limit;
mod server; // accept loop and shutdown, for any handler
mod session;
mod store;
mod timestamps;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use diagnostics::{FileProblem, StartupError};

/// How to build a server. `Default` is what the bare binary uses.
#[derive(Debug, Clone)]
pub struct Options {
    /// Folder with `<vendor>.json` files; `None` uses the embedded fixtures.
    pub fixtures: Option<PathBuf>,
    /// Largest accepted request body, in bytes.
    pub max_body: usize,
    /// How long shutdown waits for in-flight requests.
    pub drain_timeout: Duration,
    /// Vendors whose documented rate limit is on regardless of the fixture.
    pub rate_limit: Vec<String>,
    /// A scenario file or a folder of them, besides the shipped scenarios.
    pub scenarios: Option<PathBuf>,
    /// Scenarios active for every request from the start.
    pub active_scenarios: Vec<String>,
    /// How many requests the journal keeps (the oldest go first).
    pub journal_size: usize,
    /// When set, admin calls other than the health check need it.
    pub admin_token: Option<String>,
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
            admin_token: None,
        }
    }
}

/// A loaded, ready-to-serve usermock.
pub struct Usermock {
    app: Arc<app::App>,
    drain_timeout: Duration,
}

impl Usermock {
    /// Loads and validates every fixture; fails without serving anything if
    /// any file has a problem.
    pub fn new(options: &Options) -> Result<Usermock, StartupError> {
        let world = fixtures::load(options.fixtures.as_deref(), &options.rate_limit)?;
        let vendors: Vec<&dyn vendors::Vendor> = world.vendors.iter().map(|v| v.as_ref()).collect();
        let scenarios = scenario::Scenarios::load(options.scenarios.as_deref(), &vendors)
            .map_err(StartupError::Files)?;
        for name in &options.active_scenarios {
            if !scenarios.activate(name, &session::Session::Shared) {
                return Err(StartupError::UnknownScenario { name: name.clone() });
            }
        }
        Ok(Usermock {
            app: Arc::new(app::App {
                vendors: world.vendors,
                store: store::Store::new(world.baseline, clock::Clock::global(clock::Setting::Real)),
                scenarios,
                journal: journal::Journal::new(options.journal_size),
                max_body: options.max_body,
                admin_token: options.admin_token.clone().filter(|t| !t.is_empty()),
            }),
            drain_timeout: options.drain_timeout,
        })
    }

    /// The vendor keys served, in route order.
    pub fn vendor_names(&self) -> Vec<&'static str> {
        self.app.vendors.iter().map(|v| v.name()).collect()
    }

    /// How many scenarios are loaded (shipped and from files).
    pub fn scenario_count(&self) -> usize {
        self.app.scenarios.summaries(&session::Session::Shared).len()
    }

    /// Serves on `listener` until `shutdown` resolves, then drains.
    pub async fn run(self, listener: tokio::net::TcpListener, shutdown: impl Future<Output = ()>) {
        let app = self.app;
        let handler = move |req, connection| Arc::clone(&app).handle(req, connection);
        server::run(handler, listener, shutdown, self.drain_timeout).await
    }
}

/// The JSON Schema of a vendor's fixture file, pretty-printed.
pub fn fixture_schema(vendor: &str) -> Option<String> {
    let spec = vendors::ALL.iter().find(|s| s.name == vendor)?;
    serde_json::to_string_pretty(&(spec.fixture_schema)()).ok()
}

/// The JSON Schema of a scenario file, pretty-printed.
pub fn scenario_schema() -> String {
    serde_json::to_string_pretty(&scenario::schema()).unwrap_or_default()
}

/// The vendor keys usermock knows.
pub fn vendor_names() -> Vec<&'static str> {
    vendors::ALL.iter().map(|s| s.name).collect()
}
