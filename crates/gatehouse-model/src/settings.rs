//! `gatehouse.toml`: the edge-local settings that AWS's JSON does not carry.
//!
//! Every key has a default, so an absent file means "listen on 127.0.0.1:8080 for HTTP, no
//! HTTPS". Unknown keys are refused (a typo must not silently change behaviour).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The whole `gatehouse.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Listening sockets.
    #[serde(default)]
    pub listen: Listen,
    /// Edge identity and behaviour switches.
    #[serde(default)]
    pub edge: Edge,
    /// Viewer TLS certificates.
    #[serde(default)]
    pub tls: Tls,
    /// Who the viewer is.
    #[serde(default)]
    pub clients: Clients,
    /// Where origins really are.
    #[serde(default)]
    pub origins: Origins,
    /// The GeoIP country database.
    #[serde(default)]
    pub geoip: Geoip,
    /// Access logs.
    #[serde(default)]
    pub logs: Logs,
    /// The admin listener (`/metrics`).
    #[serde(default)]
    pub admin: Admin,
}

/// `[admin]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// Address of the admin listener serving `/metrics` (absent = none). Never a viewer port.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
}

/// `[logs]`: where access logs go. Read at start only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logs {
    /// Directory for log files (relative to the config directory); absent = no access logs.
    /// A distribution's `Logging.Bucket` maps to this directory.
    #[serde(default)]
    pub directory: Option<PathBuf>,
    /// `standard` (33 fields, for distributions with `Logging.Enabled`) and/or `json` (every
    /// distribution, with causes).
    #[serde(default = "default_formats")]
    pub formats: Vec<LogFormat>,
    /// Rotate a file once it passes this many (uncompressed) bytes (besides every UTC hour).
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    /// CPU priority of the gzip compression of rotated files: `idle` (only spare CPU) or
    /// `normal`.
    #[serde(default)]
    pub compress_priority: CompressPriority,
    /// Longest time a line waits before it is flushed to disk, in milliseconds.
    #[serde(default = "default_flush_ms")]
    pub flush_ms: u64,
    /// Records that may wait for the writer, split evenly between the per-CPU batches (a
    /// batch past its share drops its lines and counts them).
    #[serde(default = "default_queue")]
    pub queue: usize,
}

/// `[logs] compress_priority`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CompressPriority {
    /// Only spare CPU (`SCHED_IDLE` on Linux): rotated files wait while the machine is busy.
    #[default]
    Idle,
    /// The edge's own priority: rotated files are compressed at once.
    Normal,
}

/// A log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// CloudFront's 33-field standard log.
    Standard,
    /// JSON lines with Gatehouse's extra fields.
    Json,
}

fn default_formats() -> Vec<LogFormat> {
    vec![LogFormat::Standard, LogFormat::Json]
}
fn default_max_file_bytes() -> u64 {
    64 * 1024 * 1024
}
fn default_flush_ms() -> u64 {
    1000
}
fn default_queue() -> usize {
    65536
}

impl Default for Logs {
    fn default() -> Self {
        Logs {
            directory: None,
            formats: default_formats(),
            max_file_bytes: default_max_file_bytes(),
            compress_priority: CompressPriority::default(),
            flush_ms: default_flush_ms(),
            queue: default_queue(),
        }
    }
}

/// `[geoip]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Geoip {
    /// The `.mmdb` file. Absent: the default database if installed (see docs/geo.md);
    /// `""`: no database (every country unknown).
    #[serde(default)]
    pub database: Option<PathBuf>,
    /// Record layout: `auto`, `geoip2` (MaxMind, DB-IP) or `ip-location-db`.
    #[serde(default)]
    pub schema: GeoipSchema,
    /// Seconds between checks of the file for changes (0 = never reload).
    #[serde(default = "default_geo_watch")]
    pub watch_secs: u64,
}

fn default_geo_watch() -> u64 {
    5
}

impl Default for Geoip {
    fn default() -> Self {
        Geoip {
            database: None,
            schema: GeoipSchema::Auto,
            watch_secs: default_geo_watch(),
        }
    }
}

/// `[geoip] schema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GeoipSchema {
    /// From the database's metadata, else both layouts.
    #[default]
    Auto,
    /// `country.iso_code` (MaxMind GeoIP2/GeoLite2, DB-IP).
    Geoip2,
    /// Top-level `country_code` (ip-location-db).
    IpLocationDb,
}

/// `[listen]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    /// Plain HTTP listeners (HTTP/1.1 and h2c prior knowledge).
    #[serde(default = "default_http")]
    pub http: Vec<SocketAddr>,
    /// HTTPS listeners (HTTP/1.1 and HTTP/2 by ALPN).
    #[serde(default)]
    pub https: Vec<SocketAddr>,
    /// Accept PROXY protocol v1/v2 headers from trusted proxies.
    #[serde(default)]
    pub proxy_protocol: bool,
}

fn default_http() -> Vec<SocketAddr> {
    vec![SocketAddr::from(([127, 0, 0, 1], 8080))]
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            http: default_http(),
            https: Vec::new(),
            proxy_protocol: false,
        }
    }
}

/// `[edge]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// Edge location code (`X-Amz-Cf-Pop`, log `x-edge-location`).
    #[serde(default = "default_location")]
    pub location: String,
    /// Suffix of default domains and of the `Via` host (`cloudfront.net`).
    #[serde(default = "default_suffix")]
    pub default_domain_suffix: String,
    /// 32 lower-hex characters naming this edge host in `Via`; random at start when absent.
    #[serde(default)]
    pub host_id: Option<String>,
    /// Send `X-Gatehouse-Cause` on denials. `false` is CloudFront-strict mode.
    #[serde(default = "yes")]
    pub cause_header: bool,
    /// Port written into `redirect-to-https` `Location`s (for HTTPS listeners not on 443).
    #[serde(default)]
    pub redirect_https_port: Option<u16>,
    /// Seconds a viewer has to send the request line and headers.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_secs: u64,
    /// Seconds an idle viewer keep-alive connection is kept.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// Seconds in-flight requests get to finish on SIGTERM.
    #[serde(default = "default_drain")]
    pub drain_timeout_secs: u64,
}

fn default_location() -> String {
    "GHS1-P1".to_string()
}
fn default_suffix() -> String {
    "cloudfront.net".to_string()
}
fn yes() -> bool {
    true
}
fn default_header_timeout() -> u64 {
    10
}
fn default_idle_timeout() -> u64 {
    60
}
fn default_drain() -> u64 {
    30
}

impl Default for Edge {
    fn default() -> Self {
        Edge {
            location: default_location(),
            default_domain_suffix: default_suffix(),
            host_id: None,
            cause_header: true,
            redirect_https_port: None,
            header_timeout_secs: default_header_timeout(),
            idle_timeout_secs: default_idle_timeout(),
            drain_timeout_secs: default_drain(),
        }
    }
}

/// `[tls]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// Certificates, chosen by SNI from their SANs.
    #[serde(default)]
    pub certificates: Vec<CertificateFiles>,
}

/// One `[[tls.certificates]]` entry; paths are relative to the config directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateFiles {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// `[clients]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clients {
    /// Peers whose `X-Forwarded-For` / PROXY header names the viewer.
    #[serde(default)]
    pub trusted_proxies: Vec<Cidr>,
}

/// An IP network written as `10.0.0.0/8` or a bare address (`127.0.0.1` = `/32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(pub ipnet::IpNet);

impl Cidr {
    /// Whether the network contains the address (IPv4-mapped IPv6 addresses match IPv4 nets).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.0.contains(&ip)
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(net) = s.parse::<ipnet::IpNet>() {
            return Ok(Cidr(net.trunc()));
        }
        s.parse::<std::net::IpAddr>()
            .map(|ip| Cidr(ipnet::IpNet::from(ip)))
            .map_err(|_| format!("{s:?} is not an IP address or CIDR network"))
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `[origins]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origins {
    /// Origin `DomainName` → URL (`http://127.0.0.1:3900`) that really serves it; replaces
    /// scheme, host and port.
    #[serde(default)]
    pub endpoints: BTreeMap<String, String>,
    /// Origin `DomainName` → IP address it resolves to (like `curl --resolve`); the scheme and
    /// port still come from the origin's protocol policy and ports.
    #[serde(default)]
    pub resolve: BTreeMap<String, std::net::IpAddr>,
    /// Extra PEM CA bundle trusted for HTTPS origins (besides the Mozilla roots).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}
