//! The accept loop and graceful shutdown, for any request handler: this
//! module knows nothing of what the requests mean.
//!
//! The listener is bound by the caller (the binary, or a test on port 0).
//! When `shutdown` resolves, the loop stops accepting, every open connection
//! is told to finish its in-flight request and close, and the drain waits at
//! most `drain_timeout` before giving up on stragglers.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulConnection, GracefulShutdown};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

mod io;

pub(crate) use io::Connection;

/// Response bodies: usually a whole buffer, sometimes a scenario fault that
/// breaks off mid-way. The whole buffer is not boxed: that would be one
/// more allocation on every answer.
pub(crate) type Body = http_body_util::Either<
    http_body_util::Full<bytes::Bytes>,
    http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>,
>;

/// Returned by a request handler to make hyper drop the connection without
/// an answer (a scenario's reset or timeout fault).
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose by a scenario fault")
    }
}

impl std::error::Error for DropConnection {}

/// What one client may hold: the server's connection-level bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// A client that has not sent a whole request head this long after
    /// connecting (or after its previous answer) is cut off.
    pub header_read_timeout: Duration,
    /// A keep-alive connection with nothing in flight is closed after this.
    pub idle_timeout: Duration,
    /// The largest request head (request line and headers), in bytes;
    /// beyond it the client gets 431.
    pub max_header_bytes: usize,
    /// Connections served at once; a client beyond them gets an immediate
    /// 503 and the connection is closed, never left hanging.
    pub max_connections: usize,
    /// How long shutdown waits for in-flight requests.
    pub drain_timeout: Duration,
}

/// Serves `listener` with `handler` until `shutdown` resolves, then
/// drains for at most `limits.drain_timeout`. The handler gets each request
/// with its connection (to reset it for a fault); `Err` drops the
/// connection.
pub(crate) async fn run<H, F>(
    handler: H,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    limits: Limits,
) where
    H: Fn(Request<Incoming>, Connection) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<Body>, DropConnection>> + Send + 'static,
{
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    let mut accept_errors = RateLimitedLog::default();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        // A client may send its request and shut its write side while it
        // waits for the answer; without this the request would be dropped.
        .half_close(true);
    builder.max_header_size(limits.max_header_bytes);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Typically EMFILE: back off instead of spinning,
                        // and say so once a second, not every 50 ms.
                        accept_errors.warn(&err);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                    tokio::spawn(io::refuse_overloaded(stream));
                    continue;
                };
                let (conn, watchdog) = serve(&builder, stream, handler.clone());
                let conn = graceful.watch(conn);
                let idle_timeout = limits.idle_timeout;
                tokio::spawn(async move {
                    let _slot = slot;
                    tokio::select! {
                        result = conn => {
                            if let Err(err) = result {
                                tracing::debug!(%peer, %err, "connection ended with an error");
                            }
                        }
                        () = watchdog.idle_for(idle_timeout) => {
                            tracing::debug!(%peer, "idle keep-alive connection closed");
                        }
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "shutting down: draining in-flight requests"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("drained"),
        () = tokio::time::sleep(limits.drain_timeout) => {
            tracing::warn!(drain_timeout = ?limits.drain_timeout, "drain timed out; closing remaining connections");
        }
    }
}

/// One connection: hyper serving `handler`, each request marked busy while
/// it is answered (so the idle watchdog, the returned handle, leaves it be).
fn serve<H, F>(
    builder: &http1::Builder,
    stream: tokio::net::TcpStream,
    handler: H,
) -> (
    impl GracefulConnection<Error = hyper::Error> + Send,
    Connection,
)
where
    H: Fn(Request<Incoming>, Connection) -> F + Send + Sync + 'static,
    F: Future<Output = Result<Response<Body>, DropConnection>> + Send + 'static,
{
    let _ = stream.set_nodelay(true);
    let (io, connection) = io::watch(stream);
    let watchdog = connection.clone();
    let service = service_fn(move |req| {
        let busy = connection.busy();
        let answer = handler(req, connection.clone());
        async move {
            let answer = answer.await;
            drop(busy);
            answer
        }
    });
    (
        builder.serve_connection(TokioIo::new(io), service),
        watchdog,
    )
}

/// A warning that repeats at most once a second, with a count of the
/// occurrences it stood for.
#[derive(Default)]
struct RateLimitedLog {
    last: Option<std::time::Instant>,
    suppressed: u64,
}

impl RateLimitedLog {
    fn warn(&mut self, err: &std::io::Error) {
        let now = std::time::Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < Duration::from_secs(1))
        {
            self.suppressed = self.suppressed.saturating_add(1);
            return;
        }
        tracing::warn!(%err, suppressed = self.suppressed, "accept failed");
        self.last = Some(now);
        self.suppressed = 0;
    }
}
