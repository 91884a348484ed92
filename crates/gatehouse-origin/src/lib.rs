//! Origin fetch for Gatehouse.
//!
//! The last hop of the request path: given a prepared origin request, open (or reuse) a
//! connection the way CloudFront does and bring back the response or a typed failure.
//!
//! * [`connect`]: DNS, `ConnectionAttempts` × `ConnectionTimeout`, TLS.
//! * [`client`]: one pooled client per origin, `OriginReadTimeout`, `OriginKeepaliveTimeout`.
//! * [`forward`]: the headers CloudFront sends to a custom origin.
//! * [`timed_body`]: the per-read timeout on the response body.

#![warn(missing_docs)]

pub mod client;
pub mod connect;
pub mod forward;
pub mod timed_body;

pub use client::{OriginClient, OriginEnv, OriginError, OriginRequestBody};
pub use timed_body::TimedBody;
