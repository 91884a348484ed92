//! One access-log record: everything the edge knows about a finished request.
//!
//! [`RecordRef`] is what the formatters read: borrowed, so the edge lends its captured bytes
//! without copying them. [`LogRecord`] is an owned record (shared strings for the
//! per-distribution parts) for tests, tools and examples; it lends a [`RecordRef`] through
//! [`AsRecord`].

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Per-distribution logging settings (`DistributionConfig.Logging`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistLog {
    /// Distribution id.
    pub id: Arc<str>,
    /// Default domain (`cs(Host)`).
    pub domain: Arc<str>,
    /// Whether standard logging is on.
    pub enabled: bool,
    /// `Logging.Prefix`.
    pub prefix: Arc<str>,
    /// `Logging.IncludeCookies`.
    pub include_cookies: bool,
}

/// A finished request.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// The distribution.
    pub dist: Arc<DistLog>,
    /// When the response finished (date, time fields).
    pub end: SystemTime,
    /// Edge location (`x-edge-location`).
    pub edge_location: Arc<str>,
    /// Bytes sent to the viewer, headers included.
    pub sc_bytes: u64,
    /// Viewer IP as seen on the connection (`c-ip`).
    pub c_ip: IpAddr,
    /// Method.
    pub method: Box<str>,
    /// Path without query (raw, as received).
    pub uri_stem: Box<[u8]>,
    /// Status; 0 is written `000` (viewer left before the response started).
    pub status: u16,
    /// `Referer`.
    pub referer: Option<Box<[u8]>>,
    /// `User-Agent`.
    pub user_agent: Option<Box<[u8]>>,
    /// Query without `?`.
    pub query: Option<Box<[u8]>>,
    /// `Cookie` (written only when the distribution includes cookies).
    pub cookie: Option<Box<[u8]>>,
    /// `x-edge-result-type`.
    pub result_type: &'static str,
    /// `x-edge-request-id`.
    pub request_id: Box<str>,
    /// The Host the viewer sent.
    pub host_header: Box<[u8]>,
    /// `http` / `https`.
    pub protocol: &'static str,
    /// Bytes received from the viewer, headers included.
    pub cs_bytes: u64,
    /// Request received → last byte queued.
    pub time_taken: Duration,
    /// The originating IP when the viewer came through a proxy.
    pub forwarded_for: Option<Box<str>>,
    /// `TLSv1.3` etc.
    pub ssl_protocol: Option<&'static str>,
    /// Cipher.
    pub ssl_cipher: Option<&'static str>,
    /// `x-edge-response-result-type`.
    pub response_result_type: &'static str,
    /// `HTTP/1.1` etc.
    pub protocol_version: &'static str,
    /// Viewer source port.
    pub c_port: u16,
    /// Request received → first byte written.
    pub ttfb: Duration,
    /// `x-edge-detailed-result-type`.
    pub detailed_result_type: &'static str,
    /// Response `Content-Type`.
    pub content_type: Option<Box<str>>,
    /// Response `Content-Length`.
    pub content_len: Option<u64>,
    /// `Content-Range` start and end.
    pub range: Option<(u64, u64)>,
    /// Catalogue cause id (JSON only).
    pub cause: Option<&'static str>,
    /// What the failed check compared (JSON only).
    pub cause_detail: Option<Box<str>>,
    /// Viewer country (JSON only).
    pub country: Option<[u8; 2]>,
    /// The matched behaviour's path pattern (`*` for the default).
    pub path_pattern: Arc<str>,
}

/// A finished request, borrowed: what the formatters read. The edge builds one from the
/// request's captured bytes without copying them into an owned [`LogRecord`]; a
/// [`LogRecord`] lends one with [`AsRecord::record`]. Fields mean what [`LogRecord`]'s do.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    /// The distribution.
    pub dist: &'a Arc<DistLog>,
    /// When the response finished.
    pub end: SystemTime,
    /// Edge location.
    pub edge_location: &'a str,
    /// Bytes sent to the viewer, headers included.
    pub sc_bytes: u64,
    /// Viewer IP as seen on the connection.
    pub c_ip: IpAddr,
    /// Method.
    pub method: &'a [u8],
    /// Path without query (raw).
    pub uri_stem: &'a [u8],
    /// Status; 0 is written `000`.
    pub status: u16,
    /// `Referer`.
    pub referer: Option<&'a [u8]>,
    /// `User-Agent`.
    pub user_agent: Option<&'a [u8]>,
    /// Query without `?`.
    pub query: Option<&'a [u8]>,
    /// `Cookie`.
    pub cookie: Option<&'a [u8]>,
    /// `x-edge-result-type`.
    pub result_type: &'static str,
    /// `x-edge-request-id`.
    pub request_id: &'a [u8],
    /// The Host the viewer sent.
    pub host_header: &'a [u8],
    /// `http` / `https`.
    pub protocol: &'static str,
    /// Bytes received from the viewer.
    pub cs_bytes: u64,
    /// Request received → last byte queued.
    pub time_taken: Duration,
    /// The originating IP when the viewer came through a proxy.
    pub forwarded_for: Option<&'a [u8]>,
    /// TLS protocol.
    pub ssl_protocol: Option<&'static str>,
    /// TLS cipher.
    pub ssl_cipher: Option<&'static str>,
    /// `x-edge-response-result-type`.
    pub response_result_type: &'static str,
    /// `HTTP/1.1` etc.
    pub protocol_version: &'static str,
    /// Viewer source port.
    pub c_port: u16,
    /// Request received → first byte written.
    pub ttfb: Duration,
    /// `x-edge-detailed-result-type`.
    pub detailed_result_type: &'static str,
    /// Response `Content-Type`.
    pub content_type: Option<&'a [u8]>,
    /// Response `Content-Length`.
    pub content_len: Option<u64>,
    /// `Content-Range` start and end.
    pub range: Option<(u64, u64)>,
    /// Catalogue cause id.
    pub cause: Option<&'static str>,
    /// What the failed check compared.
    pub cause_detail: Option<&'a [u8]>,
    /// Viewer country.
    pub country: Option<[u8; 2]>,
    /// The matched behaviour's path pattern.
    pub path_pattern: &'a str,
}

/// Anything the formatters can read a record from: a [`LogRecord`] or a [`RecordRef`].
pub trait AsRecord {
    /// The record, borrowed.
    fn record(&self) -> RecordRef<'_>;
}

impl AsRecord for RecordRef<'_> {
    fn record(&self) -> RecordRef<'_> {
        *self
    }
}

impl AsRecord for LogRecord {
    fn record(&self) -> RecordRef<'_> {
        RecordRef {
            dist: &self.dist,
            end: self.end,
            edge_location: &self.edge_location,
            sc_bytes: self.sc_bytes,
            c_ip: self.c_ip,
            method: self.method.as_bytes(),
            uri_stem: &self.uri_stem,
            status: self.status,
            referer: self.referer.as_deref(),
            user_agent: self.user_agent.as_deref(),
            query: self.query.as_deref(),
            cookie: self.cookie.as_deref(),
            result_type: self.result_type,
            request_id: self.request_id.as_bytes(),
            host_header: &self.host_header,
            protocol: self.protocol,
            cs_bytes: self.cs_bytes,
            time_taken: self.time_taken,
            forwarded_for: self.forwarded_for.as_deref().map(str::as_bytes),
            ssl_protocol: self.ssl_protocol,
            ssl_cipher: self.ssl_cipher,
            response_result_type: self.response_result_type,
            protocol_version: self.protocol_version,
            c_port: self.c_port,
            ttfb: self.ttfb,
            detailed_result_type: self.detailed_result_type,
            content_type: self.content_type.as_deref().map(str::as_bytes),
            content_len: self.content_len,
            range: self.range,
            cause: self.cause,
            cause_detail: self.cause_detail.as_deref().map(str::as_bytes),
            country: self.country,
            path_pattern: &self.path_pattern,
        }
    }
}
