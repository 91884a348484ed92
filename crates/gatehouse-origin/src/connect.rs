//! Opening connections to an origin the way CloudFront does.
//!
//! DNS resolution (or a configured override), then up to `ConnectionAttempts` TCP connects
//! each bounded by `ConnectionTimeout`, then TLS for HTTPS origins. Failures are typed
//! ([`ConnectError`]) so the edge can answer with the right page: a DNS failure, a refused
//! connection and a timed-out connection are three different CloudFront errors.

use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Why a connection to the origin could not be opened.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    /// The origin's domain name did not resolve.
    #[error("DNS lookup of {host} failed: {detail}")]
    Dns {
        /// The name looked up.
        host: String,
        /// The resolver's message.
        detail: String,
    },
    /// Every attempt was refused or reset.
    #[error("connection to {addr} failed after {attempts} attempt(s): {detail}")]
    Refused {
        /// The address tried last.
        addr: SocketAddr,
        /// How many attempts were made.
        attempts: u32,
        /// The last OS error.
        detail: String,
    },
    /// Every attempt timed out.
    #[error("connection to {addr} timed out after {attempts} attempt(s) of {timeout:?}")]
    TimedOut {
        /// The address tried last.
        addr: SocketAddr,
        /// How many attempts were made.
        attempts: u32,
        /// The per-attempt timeout.
        timeout: Duration,
    },
    /// The TLS handshake failed (bad certificate, no common protocol…).
    #[error("TLS handshake with {host} failed: {detail}")]
    Tls {
        /// The name verified.
        host: String,
        /// The TLS error.
        detail: String,
    },
    /// The URI had no usable host.
    #[error("origin URI has no host")]
    NoHost,
}

/// How to reach origins: per-origin connect limits plus the edge-wide overrides and TLS.
#[derive(Clone)]
pub struct Connector {
    pub(crate) attempts: u32,
    pub(crate) timeout: Duration,
    pub(crate) resolve: Arc<HashMap<String, IpAddr>>,
    pub(crate) tls: TlsConnector,
}

impl Connector {
    async fn connect(self, uri: http::Uri) -> Result<MaybeTls, ConnectError> {
        let host = uri.host().ok_or(ConnectError::NoHost)?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let addrs: Vec<SocketAddr> = if let Some(ip) = self.resolve.get(&host) {
            vec![SocketAddr::new(*ip, port)]
        } else if let Ok(ip) = host.parse::<IpAddr>() {
            vec![SocketAddr::new(ip, port)]
        } else {
            let looked_up = tokio::net::lookup_host((host.clone(), port)).await;
            match looked_up {
                Ok(it) => it.collect(),
                Err(e) => {
                    return Err(ConnectError::Dns {
                        host,
                        detail: e.to_string(),
                    })
                }
            }
        };
        if addrs.is_empty() {
            return Err(ConnectError::Dns {
                host,
                detail: "no addresses".into(),
            });
        }
        let mut last: Option<ConnectError> = None;
        for attempt in 0..self.attempts.max(1) {
            let addr = addrs[attempt as usize % addrs.len()];
            match tokio::time::timeout(self.timeout, TcpStream::connect(addr)).await {
                Ok(Ok(tcp)) => {
                    let _ = tcp.set_nodelay(true);
                    if !https {
                        return Ok(MaybeTls::Plain(tcp));
                    }
                    let name =
                        ServerName::try_from(host.clone()).map_err(|e| ConnectError::Tls {
                            host: host.clone(),
                            detail: e.to_string(),
                        })?;
                    return match self.tls.connect(name, tcp).await {
                        Ok(s) => Ok(MaybeTls::Tls(Box::new(s))),
                        Err(e) => Err(ConnectError::Tls {
                            host,
                            detail: e.to_string(),
                        }),
                    };
                }
                Ok(Err(e)) => {
                    last = Some(ConnectError::Refused {
                        addr,
                        attempts: attempt + 1,
                        detail: e.to_string(),
                    })
                }
                Err(_) => {
                    last = Some(ConnectError::TimedOut {
                        addr,
                        attempts: attempt + 1,
                        timeout: self.timeout,
                    })
                }
            }
        }
        Err(last.unwrap_or(ConnectError::NoHost))
    }
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = TokioIo<MaybeTls>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.connect(uri).await.map(TokioIo::new) })
    }
}

/// A plain or TLS connection to an origin.
pub enum MaybeTls {
    /// HTTP.
    Plain(TcpStream),
    /// HTTPS.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connection for MaybeTls {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for MaybeTls {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MaybeTls {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_flush(cx),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MaybeTls::Plain(s) => s.is_write_vectored(),
            MaybeTls::Tls(s) => s.is_write_vectored(),
        }
    }
}
