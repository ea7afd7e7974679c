//! usermock: a faithful mock of vendors' user APIs (the registered vendors:
//! [`vendor_names`]).
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
//!
//! Tests usually want [`MockServer`] instead: it starts the server on its
//! own thread and offers the admin API as typed methods.

#![warn(missing_docs)]

// Layers, top to bottom; each module imports only from those below it
// (docs/architecture.md draws them).

// The Rust test API: a Usermock driven through its own admin API.
mod mock_server;

// A configured server: options, loading, run.
mod instance;

// The application: state and request handling.
mod app;

// What answers a request: the admin API, target selection and the vendor
// pipeline, the request journal.
mod admin;
mod journal;
mod router;

// Scenario files and rules; finding and loading the fixture files.
mod fixtures;
mod scenario;

// The emulated vendors, one folder each.
mod vendors;

// The bottom: request matching, startup diagnostics, HTTP types and path
// patterns, rate windows, the accept loop, sessions, the store, time.
mod clock;
mod diagnostics;
mod http;
mod matcher;
mod rate_limit;
mod server;
mod session;
mod store;
mod timestamps;
pub use diagnostics::{FileProblem, StartupError};
pub use instance::{
    admin_openapi, fixture_schema, scenario_schema, vendor_names, CheckReport, Options,
    ServedRoute, Usermock, VendorInfo, SCHEMA_BASE,
};
#[allow(deprecated)]
pub use mock_server::StartError;
pub use mock_server::{
    ClockTime, Expectation, Matcher, MockServer, MockServerBuilder, RecordedNote, RecordedRequest,
    RecordedResponse, RuleRef, SessionView, SESSION_HEADER,
};
