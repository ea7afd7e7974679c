//! [`MockServerBuilder`]: a [`MockServer`] with other fixtures, scenarios,
//! activations, clock or admin token.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use crate::diagnostics::StartupError;
use crate::instance::{Options, Usermock};

use super::client::AdminClient;
use super::{ClockTime, MockServer};

/// How long a dropped server lets in-flight requests finish. A test that
/// drops its server is done with it: this only keeps an answer being
/// written from being cut, and keeps `Drop` short.
const DRAIN_ON_DROP: Duration = Duration::from_millis(250);

/// Configures a [`MockServer`] before it starts; made by
/// [`MockServer::builder`].
///
/// ```no_run
/// # async fn demo() {
/// let server = usermock::MockServer::builder()
///     .fixtures("tests/fixtures")
///     .scenarios("tests/scenarios")
///     .activate("any-slow")
///     .clock("2030-01-01T00:00:00Z")
///     .admin_token("s3cret")
///     .start()
///     .await;
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct MockServerBuilder {
    options: Options,
    clock: Option<ClockTime>,
}

/// The name `MockServer` start errors had before they were merged into
/// [`StartupError`] (its `Io` variant is what only a `MockServer` raises).
#[deprecated(note = "use usermock::StartupError")]
pub type StartError = StartupError;

impl MockServerBuilder {
    pub(crate) fn new() -> MockServerBuilder {
        MockServerBuilder {
            options: Options {
                drain_timeout: DRAIN_ON_DROP,
                ..Options::default()
            },
            clock: None,
        }
    }

    /// A folder of `<vendor>.json` fixture files instead of the embedded
    /// ones (see `docs/fixtures.md`).
    pub fn fixtures(mut self, dir: impl Into<PathBuf>) -> MockServerBuilder {
        self.options.fixtures = Some(dir.into());
        self
    }

    /// A scenario file, or a folder of them, loaded besides the shipped
    /// scenarios (a file replaces a shipped scenario of the same name).
    pub fn scenarios(mut self, path: impl Into<PathBuf>) -> MockServerBuilder {
        self.options.scenarios = Some(path.into());
        self
    }

    /// Activates a scenario for every request from the start, like
    /// `--scenario`; [`MockServer::reset`] keeps it active. Call again for
    /// more.
    pub fn activate(mut self, scenario: &str) -> MockServerBuilder {
        self.options.active_scenarios.push(scenario.to_owned());
        self
    }

    /// Starts with the clock frozen at this time, like `--clock`;
    /// [`MockServer::reset`] puts it back there.
    pub fn clock(mut self, at: impl Into<ClockTime>) -> MockServerBuilder {
        self.clock = Some(at.into());
        self
    }

    /// Guards the admin API with this token, like `--admin-token`. The
    /// server's own methods send it; other admin clients must too. An
    /// empty token means none.
    pub fn admin_token(mut self, token: &str) -> MockServerBuilder {
        self.options.admin_token = Some(token.to_owned()).filter(|t| !t.is_empty());
        self
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// When it cannot start; the message is the [`StartupError`] (which
    /// names each broken file and where). Use
    /// [`try_start`](Self::try_start) to handle that instead.
    pub async fn start(self) -> MockServer {
        match self.try_start().await {
            Ok(server) => server,
            Err(err) => panic!("usermock: {err}"),
        }
    }

    /// Starts the server, or says why it cannot.
    pub async fn try_start(mut self) -> Result<MockServer, StartupError> {
        // The clock is an option like --clock: a reset returns to it.
        self.options.clock = self.clock.as_ref().map(ToString::to_string);
        let usermock = Usermock::new(&self.options)?;
        let vendors = usermock.vendor_bases();
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let address: SocketAddr = listener.local_addr()?;

        // The server gets a thread and a runtime of its own, so it keeps
        // answering whatever the test's runtime does: a current-thread
        // runtime blocked in `Drop` (checking expectations) included. The
        // runtime is built and dropped on that thread, never in the
        // caller's async context, where dropping one panics.
        let (ready, started) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("usermock-{}", address.port()))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => return drop(ready.send(Err(err))),
                };
                let listener = {
                    let _entered = runtime.enter();
                    tokio::net::TcpListener::from_std(listener)
                };
                let listener = match listener {
                    Ok(listener) => listener,
                    Err(err) => return drop(ready.send(Err(err))),
                };
                let _ = ready.send(Ok(runtime.handle().clone()));
                runtime.block_on(usermock.run(listener, async move {
                    let _ = stopped.await;
                }));
                // Dropping the runtime here ends every connection left.
            })?;
        let runtime = started
            .recv()
            .map_err(|_| std::io::Error::other("the server's thread ended before serving"))??;
        let client = AdminClient::new(address, self.options.admin_token.clone(), runtime);

        let server = MockServer {
            address,
            vendors,
            client,
            expectations: Mutex::new(Vec::new()),
            stop: Some(stop),
            thread: Some(thread),
        };
        Ok(server)
    }
}
