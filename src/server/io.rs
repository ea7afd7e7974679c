//! A connection's socket, which hyper owns, and the request handler's view
//! of the same connection: when it last moved bytes, whether a request is
//! in flight, and whether a scenario fault asked for the close to be a
//! reset.
//!
//! hyper reads and writes through tokio's own `TcpStream` calls. They clear
//! read readiness after a short read (the socket is drained) and write the
//! head and body of an answer in one vectored write. A wrapper calling
//! `try_read_buf`/`try_write` on a shared stream did neither: after each
//! answer it asked the kernel for the next request and found none, and
//! hyper copied every body behind its head (`.ci/syscall-budget` holds
//! one read and one `writev` per request).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use socket2::SockRef;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The handler's view of its connection.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    local: Option<SocketAddr>,
    activity: Arc<Activity>,
}

/// When the socket last moved bytes, how many requests are in flight, and
/// whether the close is to be a reset.
#[derive(Debug)]
struct Activity {
    born: Instant,
    /// Milliseconds since `born` of the last read or write.
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
    reset: AtomicBool,
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let now = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// Held while a request is being answered; the connection is not idle.
pub(crate) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

impl Connection {
    /// The address this connection arrived at (the admin API's `Host`
    /// check accepts it).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local
    }

    /// Marks a request in flight until the guard drops.
    pub fn busy(&self) -> Busy {
        self.activity.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy(Arc::clone(&self.activity))
    }

    /// Resolves once the connection has moved no bytes and answered
    /// nothing for `limit` (checked a few times per `limit`).
    pub async fn idle_for(&self, limit: Duration) {
        let step = (limit / 4).max(Duration::from_millis(10));
        loop {
            tokio::time::sleep(step).await;
            let idle = self.activity.in_flight.load(Ordering::Relaxed) == 0
                && self.activity.idle() >= limit;
            if idle {
                return;
            }
        }
    }

    /// Makes the coming close a TCP reset (RST) instead of an orderly FIN:
    /// what a client sees as "connection reset by peer". The handler then
    /// drops the connection, hyper drops its socket, and the socket arms
    /// the reset just before it closes (a zero linger only acts at close).
    pub fn reset_on_close(&self) {
        self.activity.reset.store(true, Ordering::Relaxed);
    }
}

/// hyper's side of the connection: the socket itself, noting each read and
/// write for the idle watchdog.
pub(super) struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

pub(super) fn watch(stream: TcpStream) -> (Watched, Connection) {
    let activity = Arc::new(Activity {
        born: Instant::now(),
        last_ms: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
        reset: AtomicBool::new(false),
    });
    let connection = Connection {
        local: stream.local_addr().ok(),
        activity: Arc::clone(&activity),
    };
    (Watched { stream, activity }, connection)
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.activity.reset.load(Ordering::Relaxed) {
            if let Err(err) = SockRef::from(&self.stream).set_linger(Some(Duration::ZERO)) {
                tracing::warn!(%err, "could not arm a connection reset");
            }
        }
    }
}

/// Answers a connection beyond `--max-connections` with a 503 and closes
/// it, so an overloaded server says so instead of leaving clients hanging.
pub(super) async fn refuse_overloaded(stream: TcpStream) {
    use tokio::io::AsyncWriteExt;
    const BODY: &str = r#"{"error":"overloaded","message":"usermock is serving its maximum number of connections; retry shortly"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let mut stream = stream;
    let write = async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    };
    if tokio::time::timeout(Duration::from_secs(2), write)
        .await
        .is_err()
    {
        tracing::debug!("an overloaded client did not take its 503");
    }
    tracing::debug!("connection refused with 503: --max-connections reached");
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(Pin::new(&mut self.stream).poll_read(cx, buf))?;
        self.activity.touch();
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.stream).poll_write(cx, data))?;
        self.activity.touch();
        Poll::Ready(Ok(written))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.stream).poll_write_vectored(cx, data))?;
        self.activity.touch();
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(
            match SockRef::from(&self.stream).shutdown(std::net::Shutdown::Write) {
                // Already closed by the peer: nothing left to shut.
                Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(()),
                other => other,
            },
        )
    }
}
