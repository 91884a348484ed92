//! One pooled client per origin, configured from its `Origin` JSON.
//!
//! Keep-alive connections are pooled and dropped after `OriginKeepaliveTimeout` idle seconds.
//! The response must start within `OriginReadTimeout` (GET and HEAD are retried up to
//! `ConnectionAttempts` times, as CloudFront does), and every later body read gets the same
//! budget. Failures come back as [`OriginError`], which maps onto the cause catalogue.

use crate::connect::{ConnectError, Connector};
use crate::timed_body::TimedBody;
use bytes::Bytes;
use gatehouse_model::aws::distribution::{Origin, OriginProtocolPolicy};
use gatehouse_model::Cause;
use http::header::{HeaderName, HeaderValue};
use http::{Request, Response, Uri};
use http_body_util::combinators::BoxBody;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::collections::HashMap;
use std::error::Error as _;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_rustls::TlsConnector;

/// The body type sent to origins.
pub type OriginRequestBody = BoxBody<Bytes, hyper::Error>;

/// Why the origin gave no usable response.
#[derive(Debug, thiserror::Error)]
pub enum OriginError {
    /// No connection could be opened.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The response did not start within `OriginReadTimeout`.
    #[error("the origin did not start its response within {0:?}")]
    ReadTimeout(Duration),
    /// The origin closed the connection before a complete response head.
    #[error("the origin closed the connection: {0}")]
    Closed(String),
    /// The origin's bytes were not an HTTP/1.1 response.
    #[error("the origin's response is not valid HTTP: {0}")]
    InvalidResponse(String),
}

impl OriginError {
    /// The catalogue cause the viewer's error page reports.
    pub fn cause(&self) -> Cause {
        match self {
            OriginError::Connect(ConnectError::Dns { .. }) => Cause::OriginDnsError,
            OriginError::Connect(ConnectError::TimedOut { .. }) => Cause::OriginTimeout,
            OriginError::Connect(_) => Cause::OriginConnectError,
            OriginError::ReadTimeout(_) => Cause::OriginTimeout,
            OriginError::Closed(_) => Cause::OriginClosed,
            OriginError::InvalidResponse(_) => Cause::OriginInvalidResponse,
        }
    }
}

/// What every origin client of the edge shares: resolve/endpoint overrides and TLS trust.
#[derive(Clone)]
pub struct OriginEnv {
    resolve: Arc<HashMap<String, IpAddr>>,
    endpoints: Arc<HashMap<String, Uri>>,
    tls: TlsConnector,
}

/// Errors building the [`OriginEnv`].
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// The CA file could not be read or parsed.
    #[error("origin CA file {path}: {detail}")]
    CaFile {
        /// The file.
        path: String,
        /// What failed.
        detail: String,
    },
    /// An endpoint override is not a URL.
    #[error("origin endpoint {0:?} is not a valid URL")]
    Endpoint(String),
}

impl OriginEnv {
    /// Builds the shared environment from `gatehouse.toml`'s `[origins]` values.
    pub fn new(
        resolve: &std::collections::BTreeMap<String, IpAddr>,
        endpoints: &std::collections::BTreeMap<String, String>,
        ca_file: Option<&Path>,
    ) -> Result<Self, EnvError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = ca_file {
            let err = |detail: String| EnvError::CaFile {
                path: path.display().to_string(),
                detail,
            };
            let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
            let mut n = 0;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| err(e.to_string()))?;
                roots.add(cert).map_err(|e| err(e.to_string()))?;
                n += 1;
            }
            if n == 0 {
                return Err(err("no certificates found".into()));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut eps = HashMap::new();
        for (host, url) in endpoints {
            let uri: Uri = url.parse().map_err(|_| EnvError::Endpoint(url.clone()))?;
            if uri.authority().is_none() {
                return Err(EnvError::Endpoint(url.clone()));
            }
            eps.insert(host.to_ascii_lowercase(), uri);
        }
        Ok(OriginEnv {
            resolve: Arc::new(
                resolve
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), *v))
                    .collect(),
            ),
            endpoints: Arc::new(eps),
            tls: TlsConnector::from(Arc::new(cfg)),
        })
    }

    /// The address `[origins.resolve]` gives `host` (any case), as the origin connector
    /// uses it; `None` when DNS decides.
    pub fn resolved(&self, host: &str) -> Option<IpAddr> {
        self.resolve.get(&host.to_ascii_lowercase()).copied()
    }
}

/// A client for one origin of one distribution.
pub struct OriginClient {
    /// The origin's `Id`.
    pub id: String,
    /// The origin's `DomainName` (sent as `Host`).
    pub domain_name: String,
    host_header: HeaderValue,
    origin_path: String,
    custom_headers: Vec<(HeaderName, HeaderValue)>,
    policy: OriginProtocolPolicy,
    http_port: u16,
    https_port: u16,
    endpoint: Option<Uri>,
    read_timeout: Duration,
    attempts: u32,
    client: Client<Connector, OriginRequestBody>,
}

impl OriginClient {
    /// Builds the client for `origin`. S3 REST origins are fetched over HTTPS on 443 (signing
    /// comes with the S3 origin work).
    pub fn new(origin: &Origin, env: &OriginEnv) -> Self {
        let (policy, http_port, https_port, read, keepalive) = match &origin.custom_origin_config {
            Some(c) => (
                c.origin_protocol_policy,
                c.http_port as u16,
                c.https_port as u16,
                c.origin_read_timeout.unwrap_or(30),
                c.origin_keepalive_timeout.unwrap_or(5),
            ),
            None => (
                OriginProtocolPolicy::HttpsOnly,
                80,
                443,
                origin
                    .s3_origin_config
                    .as_ref()
                    .and_then(|s| s.origin_read_timeout)
                    .unwrap_or(30),
                5,
            ),
        };
        let connector = Connector {
            attempts: origin.attempts(),
            timeout: Duration::from_secs(origin.connect_timeout_secs() as u64),
            resolve: env.resolve.clone(),
            tls: env.tls.clone(),
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(keepalive as u64))
            .pool_timer(TokioTimer::new())
            .retry_canceled_requests(true)
            .set_host(false)
            .build(connector);
        let domain = origin.domain_name.to_ascii_lowercase();
        OriginClient {
            id: origin.id.clone(),
            host_header: HeaderValue::from_str(&domain)
                .unwrap_or_else(|_| HeaderValue::from_static("invalid")),
            domain_name: domain.clone(),
            origin_path: origin.origin_path.clone(),
            custom_headers: origin
                .custom_headers
                .iter()
                .filter_map(|h| {
                    Some((
                        HeaderName::from_bytes(h.header_name.as_bytes()).ok()?,
                        HeaderValue::from_str(&h.header_value).ok()?,
                    ))
                })
                .collect(),
            policy,
            http_port,
            https_port,
            endpoint: env.endpoints.get(&domain).cloned(),
            read_timeout: Duration::from_secs(read as u64),
            attempts: origin.attempts().max(1),
            client,
        }
    }

    /// The `Host` header value sent to this origin.
    pub fn host_header(&self) -> &HeaderValue {
        &self.host_header
    }

    /// Headers from the origin's `CustomHeaders`.
    pub fn custom_headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.custom_headers
    }

    /// The absolute URI of an origin request: scheme by protocol policy (or endpoint
    /// override), `OriginPath` prefixed to the viewer's path and query.
    pub fn uri(&self, viewer_https: bool, path_and_query: &str) -> Uri {
        let https = match self.policy {
            OriginProtocolPolicy::HttpOnly => false,
            OriginProtocolPolicy::HttpsOnly => true,
            OriginProtocolPolicy::MatchViewer => viewer_https,
        };
        let mut s = String::with_capacity(64 + path_and_query.len());
        match &self.endpoint {
            Some(ep) => {
                s.push_str(ep.scheme_str().unwrap_or("http"));
                s.push_str("://");
                s.push_str(ep.authority().map(|a| a.as_str()).unwrap_or(""));
                s.push_str(ep.path().trim_end_matches('/'));
            }
            None => {
                s.push_str(if https { "https://" } else { "http://" });
                if self.domain_name.contains(':') {
                    s.push('[');
                    s.push_str(&self.domain_name);
                    s.push(']');
                } else {
                    s.push_str(&self.domain_name);
                }
                let (port, default) = if https {
                    (self.https_port, 443)
                } else {
                    (self.http_port, 80)
                };
                if port != default {
                    use std::fmt::Write as _;
                    let _ = write!(s, ":{port}");
                }
            }
        }
        s.push_str(&self.origin_path);
        s.push_str(path_and_query);
        s.parse()
            .unwrap_or_else(|_| Uri::from_static("http://invalid/"))
    }

    /// Sends a request whose URI came from [`OriginClient::uri`]. `retry` allows repeating it
    /// after a read timeout (GET/HEAD without a body).
    pub async fn send(
        &self,
        mut req: Request<OriginRequestBody>,
        retry: bool,
    ) -> Result<Response<TimedBody>, OriginError> {
        let tries = if retry { self.attempts } else { 1 };
        for i in 0..tries {
            let attempt = if i + 1 < tries {
                clone_bodyless(&req)
            } else {
                std::mem::replace(&mut req, Request::new(empty()))
            };
            match tokio::time::timeout(self.read_timeout, self.client.request(attempt)).await {
                Ok(Ok(resp)) => {
                    let timeout = self.read_timeout;
                    return Ok(resp.map(|b| TimedBody::new(b, timeout)));
                }
                Ok(Err(e)) => return Err(classify(e)),
                Err(_) => continue,
            }
        }
        Err(OriginError::ReadTimeout(self.read_timeout))
    }
}

/// An empty origin request body.
pub fn empty() -> OriginRequestBody {
    use http_body_util::BodyExt;
    http_body_util::Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

fn clone_bodyless(req: &Request<OriginRequestBody>) -> Request<OriginRequestBody> {
    let mut r = Request::new(empty());
    *r.method_mut() = req.method().clone();
    *r.uri_mut() = req.uri().clone();
    *r.version_mut() = req.version();
    *r.headers_mut() = req.headers().clone();
    r
}

fn classify(e: hyper_util::client::legacy::Error) -> OriginError {
    let mut src: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(s) = src {
        if let Some(c) = s.downcast_ref::<ConnectError>() {
            return OriginError::Connect(c.clone());
        }
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            if h.is_parse() || h.is_parse_status() || h.is_parse_too_large() {
                return OriginError::InvalidResponse(h.to_string());
            }
            return OriginError::Closed(h.to_string());
        }
        src = s.source();
    }
    if e.is_connect() {
        return OriginError::Connect(ConnectError::Refused {
            addr: ([0, 0, 0, 0], 0).into(),
            attempts: 1,
            detail: e.to_string(),
        });
    }
    OriginError::Closed(e.to_string())
}
