//! One access-log record: everything the edge knows about a finished request.
//!
//! Owned (it travels to the writer thread), with shared strings for the per-distribution parts.

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
