//! A connection's socket, shared between hyper (which reads and writes it)
//! and the request handler (which may have to reset it for a scenario
//! fault). tokio's `TcpStream` reads and writes through `&self`, so an `Arc`
//! is all the sharing needs; no lock, no unsafe.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use socket2::SockRef;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The handler's view of its connection.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    stream: Arc<TcpStream>,
    activity: Arc<Activity>,
}

/// When the socket last moved bytes, and how many requests are in flight.
#[derive(Debug)]
struct Activity {
    born: Instant,
    /// Milliseconds since `born` of the last read or write.
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
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
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.stream.local_addr().ok()
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
    /// what a client sees as "connection reset by peer".
    pub fn reset_on_close(&self) {
        if let Err(err) = SockRef::from(&*self.stream).set_linger(Some(Duration::ZERO)) {
            tracing::warn!(%err, "could not arm a connection reset");
        }
    }
}

/// hyper's side of the same socket.
pub(super) struct SharedStream(Arc<TcpStream>, Arc<Activity>);

pub(super) fn share(stream: TcpStream) -> (SharedStream, Connection) {
    let stream = Arc::new(stream);
    let activity = Arc::new(Activity {
        born: Instant::now(),
        last_ms: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
    });
    let shared = SharedStream(Arc::clone(&stream), Arc::clone(&activity));
    (shared, Connection { stream, activity })
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

impl AsyncRead for SharedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.poll_read_ready(cx))?;
            // `try_read_buf` reads into the buffer's uninitialised space:
            // no zeroing of hyper's read buffer on every read.
            match self.0.try_read_buf(buf) {
                Ok(_) => {
                    self.1.touch();
                    return Poll::Ready(Ok(()));
                }
                // Readiness was stale; poll again to register for wake-up.
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

impl AsyncWrite for SharedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match self.0.try_write(data) {
                Ok(n) => {
                    self.1.touch();
                    return Poll::Ready(Ok(n));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Writes go straight to the socket; nothing is buffered here.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(
            match SockRef::from(&*self.0).shutdown(std::net::Shutdown::Write) {
                // Already closed by the peer: nothing left to shut.
                Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(()),
                other => other,
            },
        )
    }
}
