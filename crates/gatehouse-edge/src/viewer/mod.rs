//! The viewer phase: listeners, TLS, PROXY protocol, and who the viewer is.
//!
//! Each accepted TCP connection becomes a [`Connection`] (addresses, protocol, TLS details)
//! and is served by hyper (HTTP/1.1 and h2c prior knowledge on HTTP, HTTP/1.1 and HTTP/2 by
//! ALPN on HTTPS). Slow viewers are bounded: the TLS handshake and PROXY header must arrive
//! within the header timeout, request heads too, and idle HTTP/2 connections are pinged.

pub mod client_ip;
pub mod cloudfront_headers;
pub mod proxy_protocol;
pub mod tls;

use crate::Edge;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::Watcher;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;

/// TLS details of a viewer connection.
#[derive(Debug, Clone)]
pub struct TlsInfo {
    /// The SNI name the viewer sent.
    pub sni: Option<String>,
    /// Index of the certificate chosen for it.
    pub cert: Option<usize>,
    /// `TLSv1.2` / `TLSv1.3`.
    pub protocol: &'static str,
    /// Cipher suite name.
    pub cipher: &'static str,
}

/// A request's viewer country, once found (see [`Connection::country_of`]).
pub type RequestCountry = std::cell::OnceCell<Option<gatehouse_geo::CountryCode>>;

/// One viewer connection.
#[derive(Debug)]
pub struct Connection {
    /// The TCP peer.
    pub peer: SocketAddr,
    /// The viewer's address on the connection: the PROXY header's source, else the peer.
    pub source: SocketAddr,
    /// The local address.
    pub local: SocketAddr,
    /// Whether the connection is HTTPS.
    pub https: bool,
    /// TLS details on HTTPS.
    pub tls: Option<TlsInfo>,
    /// The country of [`Connection::ip`], looked up once per connection (and again after a
    /// GeoIP reload).
    pub country: gatehouse_geo::CountryMemo,
    /// [`Connection::ip`] as text, for the origin's `X-Forwarded-For`: formatted once per
    /// connection.
    pub ip_header: http::HeaderValue,
}

/// The connection's viewer IP (as [`Connection::ip`] gives it) as a header value.
fn ip_header(source: SocketAddr) -> http::HeaderValue {
    http::HeaderValue::from_str(&canonical(source.ip()).to_string())
        .expect("an IP address is a valid header value")
}

impl Connection {
    /// The connection-level viewer IP (before `X-Forwarded-For`).
    pub fn ip(&self) -> IpAddr {
        canonical(self.source.ip())
    }

    /// The country of a request's viewer `ip`, found once per request (kept in `request`
    /// for the geo check and `c-country`): remembered for the connection's own address,
    /// looked up for another one (a viewer behind a trusted proxy).
    pub fn country_of(
        &self,
        geo: &gatehouse_geo::GeoDb,
        ip: IpAddr,
        request: &RequestCountry,
    ) -> Option<gatehouse_geo::CountryCode> {
        *request.get_or_init(|| {
            if ip == self.ip() {
                geo.country_memo(ip, &self.country)
            } else {
                geo.country(ip)
            }
        })
    }
}

/// IPv4-mapped IPv6 addresses are shown as IPv4, as CloudFront logs them.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Accepts connections on `listener` until `stop` fires; each connection is watched by
/// `watcher` for graceful shutdown.
pub async fn accept_loop(
    edge: Arc<Edge>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    watcher: impl Fn() -> Watcher,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let local = listener.local_addr().ok();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let edge = edge.clone();
        let tls = tls.clone();
        let w = watcher();
        let local = tcp.local_addr().ok().or(local).unwrap_or(peer);
        tokio::spawn(async move {
            if let Err(e) = serve_connection(edge, tcp, peer, local, tls, w).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

async fn serve_connection(
    edge: Arc<Edge>,
    mut tcp: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    tls: Option<TlsAcceptor>,
    watcher: Watcher,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let _ = tcp.set_nodelay(true);
    let state = edge.state();
    let header_timeout = edge.header_timeout();
    let mut source = peer;
    if state.proxy_protocol && state.is_trusted(canonical(peer.ip())) {
        match tokio::time::timeout(header_timeout, proxy_protocol::read_header(&mut tcp)).await {
            Ok(Ok(Some(src))) => source = src,
            Ok(Ok(None)) => {}
            Ok(Err(e)) => return Err(Box::new(e)),
            Err(_) => return Err("PROXY header timed out".into()),
        }
    }
    drop(state);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(64 * 1024)
        .title_case_headers(true)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(edge.idle_timeout()))
        .keep_alive_timeout(Duration::from_secs(20))
        .max_concurrent_streams(128);
    match tls {
        None => {
            let conn = Connection {
                peer,
                source,
                local,
                https: false,
                tls: None,
                country: Default::default(),
                ip_header: ip_header(source),
            };
            serve_http(
                TokioIo::new(tcp),
                conn,
                edge,
                &builder,
                watcher,
                header_timeout,
            )
            .await
        }
        Some(acceptor) => {
            let stream = tokio::time::timeout(header_timeout, acceptor.accept(tcp))
                .await
                .map_err(|_| "TLS handshake timed out")??;
            let (_, session) = stream.get_ref();
            let sni = session.server_name().map(str::to_string);
            let cert = sni.as_deref().and_then(|s| edge.state().certs.select(s));
            let protocol = match session.protocol_version() {
                Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
                Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
                _ => "-",
            };
            let cipher = session
                .negotiated_cipher_suite()
                .and_then(|c| c.suite().as_str())
                .unwrap_or("-");
            let conn = Connection {
                peer,
                source,
                local,
                https: true,
                tls: Some(TlsInfo {
                    sni,
                    cert,
                    protocol,
                    cipher,
                }),
                country: Default::default(),
                ip_header: ip_header(source),
            };
            serve_http(
                TokioIo::new(stream),
                conn,
                edge,
                &builder,
                watcher,
                header_timeout,
            )
            .await
        }
    }
}

/// Serves HTTP on an established (plain or TLS) connection through the pipeline.
async fn serve_http<I>(
    io: I,
    conn: Connection,
    edge: Arc<Edge>,
    builder: &auto::Builder<TokioExecutor>,
    watcher: Watcher,
    header_timeout: Duration,
) -> Result<(), BoxError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let conn = Arc::new(conn);
    // Signalled by the service on every request; see `first_request_within`.
    let started = Arc::new(Notify::new());
    let first = started.clone();
    let svc = service_fn(move |req| {
        first.notify_one();
        crate::pipeline::service(edge.clone(), conn.clone(), req)
    });
    let served = watcher.watch(builder.serve_connection(io, svc).into_owned());
    first_request_within(header_timeout, &started, served).await
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serves a connection, but drops it if no request has started within `limit`.
///
/// hyper bounds each HTTP/1 request head (`header_read_timeout`), but not what comes before
/// it: hyper-util's sniffing of HTTP/1 versus the h2 preface, and the HTTP/2 handshake, wait
/// without a deadline. Without this a viewer that connects and sends nothing (or half a
/// preface) would hold the connection forever.
async fn first_request_within(
    limit: Duration,
    started: &Notify,
    served: impl Future<Output = Result<(), BoxError>>,
) -> Result<(), BoxError> {
    tokio::pin!(served);
    let first = tokio::time::timeout(limit, async {
        tokio::select! {
            done = &mut served => Some(done),
            () = started.notified() => None,
        }
    })
    .await;
    match first {
        Ok(Some(done)) => done,
        Ok(None) => served.await,
        Err(_) => Err("no request within the header timeout".into()),
    }
}
