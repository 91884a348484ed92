//! The body of every viewer response: a generated page, an origin stream, or nothing.

use bytes::Bytes;
use gatehouse_origin::timed_body::BodyError;
use gatehouse_origin::TimedBody;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A viewer response body.
pub enum EdgeBody {
    /// A body known in full (generated pages); `None` once sent.
    Full(Option<Bytes>),
    /// The origin's body, streamed with its read timeout.
    Origin(Pin<Box<TimedBody>>),
    /// Another body whose end writes the access-log record.
    Logged(Pin<Box<crate::log::LoggedBody>>),
}

impl EdgeBody {
    /// A complete body.
    pub fn full(b: Bytes) -> Self {
        EdgeBody::Full(Some(b))
    }

    /// No body.
    pub fn empty() -> Self {
        EdgeBody::Full(None)
    }
}

impl Body for EdgeBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            EdgeBody::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            EdgeBody::Origin(o) => o.as_mut().poll_frame(cx),
            EdgeBody::Logged(l) => l.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            EdgeBody::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            EdgeBody::Origin(o) => o.is_end_stream(),
            EdgeBody::Logged(l) => l.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            EdgeBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            EdgeBody::Origin(o) => o.size_hint(),
            EdgeBody::Logged(l) => l.size_hint(),
        }
    }
}
