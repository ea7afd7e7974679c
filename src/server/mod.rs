//! The accept loop and graceful shutdown, for any request handler: this
//! module knows nothing of what the requests mean.
//!
//! The listener is bound by the caller (the binary, or a test on port 0).
//! When `shutdown` resolves, the loop stops accepting, every open connection
//! is told to finish its in-flight request and close, and the drain waits at
//! most `drain_timeout` before giving up on stragglers.

use std::future::Future;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

mod io;

pub(crate) use io::Connection;

/// Response bodies: usually a whole buffer, sometimes a scenario fault that
/// breaks off mid-way.
pub(crate) type Body = http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>;

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

/// Serves `listener` with `handler` until `shutdown` resolves, then
/// drains for at most `drain_timeout`. The handler gets each request with
/// its connection (to reset it for a fault); `Err` drops the connection.
pub(crate) async fn run<H, F>(
    handler: H,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    drain_timeout: Duration,
) where
    H: Fn(Request<Incoming>, Connection) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<Body>, DropConnection>> + Send + 'static,
{
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Typically EMFILE: back off instead of spinning.
                        tracing::warn!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let (io, connection) = io::share(stream);
                let handler = handler.clone();
                let service = service_fn(move |req| handler(req, connection.clone()));
                let conn = http1::Builder::new().serve_connection(TokioIo::new(io), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(err) = conn.await {
                        tracing::debug!(%peer, %err, "connection ended with an error");
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
        () = tokio::time::sleep(drain_timeout) => {
            tracing::warn!(?drain_timeout, "drain timed out; closing remaining connections");
        }
    }
}
