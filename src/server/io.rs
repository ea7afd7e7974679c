//! A connection's socket, shared between hyper (which reads and writes it)
//! and the request handler (which may have to reset it for a scenario
//! fault). tokio's `TcpStream` reads and writes through `&self`, so an `Arc`
//! is all the sharing needs; no lock, no unsafe.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use socket2::SockRef;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The handler's view of its connection.
#[derive(Debug, Clone)]
pub(crate) struct Connection(Arc<TcpStream>);

impl Connection {
    /// Makes the coming close a TCP reset (RST) instead of an orderly FIN:
    /// what a client sees as "connection reset by peer".
    pub fn reset_on_close(&self) {
        if let Err(err) = SockRef::from(&*self.0).set_linger(Some(Duration::ZERO)) {
            tracing::warn!(%err, "could not arm a connection reset");
        }
    }
}

/// hyper's side of the same socket.
pub(super) struct SharedStream(Arc<TcpStream>);

pub(super) fn share(stream: TcpStream) -> (SharedStream, Connection) {
    let stream = Arc::new(stream);
    (SharedStream(Arc::clone(&stream)), Connection(stream))
}

impl AsyncRead for SharedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.poll_read_ready(cx))?;
            match self.0.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
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
                Ok(n) => return Poll::Ready(Ok(n)),
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
