//! CloudFront access logs for Gatehouse.
//!
//! * [`record`]: what the edge records per request;
//! * [`standard`]: the 33-field W3C line and the JSON line (with `cause`, `cause-detail`,
//!   `c-country`, `cache-behavior-path-pattern`);
//! * [`encode`]: the URL-encoding of values;
//! * [`sink`]: the bounded queue and writer thread (hourly/size rotation, gzip, flush on
//!   shutdown);
//! * [`reader`]: reading standard logs (ours or CloudFront's, gzip or plain) and JSON logs.

#![warn(missing_docs)]

pub mod encode;
pub mod reader;
pub mod record;
pub mod sink;
pub mod standard;

pub use record::{DistLog, LogRecord};
pub use sink::{Formats, LogSink, SinkConfig};
