//! Response bodies that break on purpose.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame};
use tokio::time::Sleep;

/// Sends `first` (if any), waits a moment so the headers and those bytes
/// reach the client, then fails: hyper aborts the connection mid-body, and
/// the client sees fewer bytes than `Content-Length` promised.
pub(crate) struct BrokenBody {
    first: Option<Bytes>,
    pause: Pin<Box<Sleep>>,
}

impl BrokenBody {
    pub fn new(first: Option<Bytes>) -> BrokenBody {
        BrokenBody {
            first: first.filter(|b| !b.is_empty()),
            pause: Box::pin(tokio::time::sleep(Duration::from_millis(100))),
        }
    }
}

impl Body for BrokenBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if let Some(bytes) = this.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(bytes))));
        }
        ready!(this.pause.as_mut().poll(cx));
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "scenario fault: body cut short",
        ))))
    }
}
