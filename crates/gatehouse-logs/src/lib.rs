//! CloudFront access logs for Gatehouse.
//!
//! * [`record`]: what the edge records per request;
//! * [`standard`]: the 33-field W3C line and the JSON line (with `cause`, `cause-detail`,
//!   `c-country`, `cache-behavior-path-pattern`);
//! * [`encode`]: the URL-encoding of values;
//! * [`sink`]: lines formatted on the request path into bounded batches, a writer thread
//!   appending them to plain files (hourly/size rotation, flush on shutdown), and a
//!   compressor thread gzipping rotated files at idle priority;
//! * [`reader`]: reading standard logs (ours or CloudFront's, gzip or plain) and JSON logs.

#![warn(missing_docs)]

pub mod encode;
pub mod reader;
pub mod record;
pub mod sink;
pub mod standard;

pub use record::{AsRecord, DistLog, LogRecord, RecordRef};
pub use sink::{CompressPriority, Formats, LogSink, SinkConfig};
