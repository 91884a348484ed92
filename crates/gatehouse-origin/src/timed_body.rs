//! An origin response body whose every read is bounded by `OriginReadTimeout`.
//!
//! CloudFront's read timeout is the time it waits for the next bytes, not for the whole body;
//! a stalled origin ends the viewer's response instead of holding it forever.

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Error of a [`TimedBody`].
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The origin's connection failed mid-body.
    #[error(transparent)]
    Hyper(#[from] hyper::Error),
    /// No bytes for longer than the read timeout.
    #[error("origin body stalled for {0:?}")]
    Stalled(Duration),
}

pin_project! {
    /// An origin body with a per-read deadline.
    pub struct TimedBody {
        #[pin]
        inner: Incoming,
        #[pin]
        sleep: Sleep,
        timeout: Duration,
    }
}

impl TimedBody {
    /// Wraps `inner`; each frame must arrive within `timeout` of the previous one.
    pub fn new(inner: Incoming, timeout: Duration) -> Self {
        TimedBody {
            inner,
            sleep: tokio::time::sleep(timeout),
            timeout,
        }
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let mut this = self.project();
        match this.inner.poll_frame(cx) {
            Poll::Ready(frame) => {
                let t = *this.timeout;
                this.sleep.as_mut().reset(Instant::now() + t);
                Poll::Ready(frame.map(|f| f.map_err(BodyError::from)))
            }
            Poll::Pending => match this.sleep.poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(BodyError::Stalled(*this.timeout)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
