//! The Gatehouse edge: a CloudFront distribution served from its AWS JSON.
//!
//! The crate is laid out along the request's path:
//!
//! | phase | module |
//! |---|---|
//! | viewer: listeners, TLS/SNI, PROXY protocol, client IP | [`viewer`] |
//! | routing: Host → distribution, path → behaviour | [`routing`] |
//! | checks: protocol policy, allowed methods (geo, WAF, signed URLs to come) | [`checks`] |
//! | origin: forwarding rules and fetch | `gatehouse-origin` |
//! | response: generated pages and CloudFront headers | [`response`] |
//!
//! [`pipeline`] strings the phases together; [`state`] holds the compiled configuration that
//! [`Edge`] swaps atomically on reload.
//!
//! Invariants: the request path takes no lock (the state is read through an `ArcSwap`); every
//! denial carries a [`gatehouse_model::Cause`]; a request's panic never ends the process.

#![warn(missing_docs)]

pub mod checks;
pub mod log;
pub mod metrics;
pub mod pipeline;
pub mod response;
pub mod routing;
pub mod state;
pub mod viewer;

use arc_swap::ArcSwap;
use gatehouse_model::Config;
use hyper_util::server::graceful::GracefulShutdown;
use rand::RngCore;
use state::{EdgeState, StateError};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A running edge's shared state: the current compiled config and the edge's identity.
pub struct Edge {
    state: ArcSwap<EdgeState>,
    host_id: String,
    header_timeout: Duration,
    idle_timeout: Duration,
    drain_timeout: Duration,
    logs: Option<Arc<gatehouse_logs::LogSink>>,
    metrics: Arc<metrics::Metrics>,
}

impl Edge {
    /// Compiles `config` into a new edge.
    pub fn new(config: &Config) -> Result<Arc<Self>, StateError> {
        let host_id = config.settings.edge.host_id.clone().unwrap_or_else(|| {
            let mut b = [0u8; 16];
            rand::rng().fill_bytes(&mut b);
            b.iter().map(|x| format!("{x:02x}")).collect()
        });
        let metrics = Arc::new(metrics::Metrics::default());
        let state = EdgeState::build(config, &host_id, &metrics)?;
        let e = &config.settings.edge;
        let l = &config.settings.logs;
        let logs = match &l.directory {
            None => None,
            Some(dir) => {
                use gatehouse_model::settings::{CompressPriority, LogFormat};
                let sink = gatehouse_logs::LogSink::start(gatehouse_logs::SinkConfig {
                    directory: config.resolve_path(dir),
                    formats: gatehouse_logs::Formats {
                        standard: l.formats.contains(&LogFormat::Standard),
                        json: l.formats.contains(&LogFormat::Json),
                    },
                    max_file_bytes: l.max_file_bytes,
                    flush_interval: Duration::from_millis(l.flush_ms.max(1)),
                    capacity: l.queue,
                    compress: match l.compress_priority {
                        CompressPriority::Idle => gatehouse_logs::CompressPriority::Idle,
                        CompressPriority::Normal => gatehouse_logs::CompressPriority::Normal,
                    },
                })
                .map_err(|e| StateError::Logs(config.resolve_path(dir).display().to_string(), e))?;
                Some(Arc::new(sink))
            }
        };
        Ok(Arc::new(Edge {
            state: ArcSwap::from_pointee(state),
            host_id,
            header_timeout: Duration::from_secs(e.header_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(e.idle_timeout_secs.max(1)),
            drain_timeout: Duration::from_secs(e.drain_timeout_secs),
            logs,
            metrics,
        }))
    }

    /// The access-log writer, when `[logs] directory` is set.
    pub fn logs(&self) -> Option<&Arc<gatehouse_logs::LogSink>> {
        self.logs.as_ref()
    }

    /// The Prometheus text of `/metrics`.
    pub fn render_metrics(&self) -> String {
        self.metrics
            .render(self.logs.as_ref().map(|l| l.counters()))
    }

    /// Writes every queued log record and closes the log files (after draining).
    pub fn shutdown_logs(&self) {
        if let Some(l) = &self.logs {
            l.shutdown();
        }
    }

    /// The current compiled state.
    pub fn state(&self) -> Arc<EdgeState> {
        self.state.load_full()
    }

    /// Replaces the configuration. On error nothing changes. Listeners and timeouts are kept
    /// from the start; everything else (distributions, certificates, origins) is swapped.
    pub fn reload(&self, config: &Config) -> Result<(), StateError> {
        let state = EdgeState::build(config, &self.host_id, &self.metrics)?;
        self.state.store(Arc::new(state));
        Ok(())
    }

    /// The 32-hex id in `Via`.
    pub fn host_id(&self) -> &str {
        &self.host_id
    }

    pub(crate) fn header_timeout(&self) -> Duration {
        self.header_timeout
    }

    pub(crate) fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }
}

/// Bound listening sockets, before serving.
pub struct Listeners {
    /// HTTP listeners.
    pub http: Vec<TcpListener>,
    /// HTTPS listeners.
    pub https: Vec<TcpListener>,
    /// The admin listener (`/metrics`).
    pub admin: Option<TcpListener>,
}

impl Listeners {
    /// Binds every address of `[listen]`.
    pub async fn bind(
        http: &[SocketAddr],
        https: &[SocketAddr],
        admin: Option<SocketAddr>,
    ) -> std::io::Result<Self> {
        let mut l = Listeners {
            http: Vec::new(),
            https: Vec::new(),
            admin: None,
        };
        if let Some(a) = admin {
            l.admin = Some(bind(a).await?);
        }
        for a in http {
            l.http.push(bind(*a).await?);
        }
        for a in https {
            l.https.push(bind(*a).await?);
        }
        Ok(l)
    }

    /// The bound addresses, `("http" | "https", addr)`.
    pub fn addresses(&self) -> Vec<(&'static str, SocketAddr)> {
        let mut v = Vec::new();
        for l in &self.http {
            if let Ok(a) = l.local_addr() {
                v.push(("http", a));
            }
        }
        for l in &self.https {
            if let Ok(a) = l.local_addr() {
                v.push(("https", a));
            }
        }
        if let Some(Ok(a)) = self.admin.as_ref().map(|l| l.local_addr()) {
            v.push(("admin", a));
        }
        v
    }
}

async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

/// Serves on `listeners` until `shutdown` completes, then stops accepting and lets in-flight
/// requests finish (up to `edge.drain_timeout_secs`).
pub async fn serve(edge: Arc<Edge>, listeners: Listeners, shutdown: impl Future<Output = ()>) {
    let graceful = Arc::new(GracefulShutdown::new());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let tls = if listeners.https.is_empty() {
        None
    } else {
        Some(TlsAcceptor::from(viewer::tls::server_config(edge.clone())))
    };
    let mut loops = Vec::new();
    if let Some(admin) = listeners.admin {
        loops.push(tokio::spawn(metrics_server(
            edge.clone(),
            admin,
            stop_rx.clone(),
        )));
    }
    let all = listeners
        .http
        .into_iter()
        .map(|l| (l, None))
        .chain(listeners.https.into_iter().map(|l| (l, tls.clone())));
    for (listener, tls) in all {
        let g = graceful.clone();
        loops.push(tokio::spawn(viewer::accept_loop(
            edge.clone(),
            listener,
            tls,
            move || g.watcher(),
            stop_rx.clone(),
        )));
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    for l in loops {
        let _ = l.await;
    }
    let graceful = Arc::try_unwrap(graceful).unwrap_or_else(|g| {
        // The accept loops are done, so only clones inside finished closures remain.
        tracing::debug!("graceful handle still shared; draining through a new watcher");
        let _ = g;
        GracefulShutdown::new()
    });
    tracing::info!(connections = graceful.count(), "draining");
    if tokio::time::timeout(edge.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("drain timeout reached; closing remaining connections");
    }
}

/// Serves `GET /metrics` on the admin listener until `stop` fires.
async fn metrics_server(
    edge: Arc<Edge>,
    listener: TcpListener,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (tcp, _) = tokio::select! {
            a = listener.accept() => match a {
                Ok(x) => x,
                Err(_) => continue,
            },
            _ = stop.changed() => break,
        };
        let edge = edge.clone();
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let edge = edge.clone();
                    async move {
                        let (status, body) = if req.uri().path() == "/metrics" {
                            (http::StatusCode::OK, edge.render_metrics())
                        } else {
                            (
                                http::StatusCode::NOT_FOUND,
                                "not found; see /metrics\n".to_string(),
                            )
                        };
                        let mut resp = http::Response::new(http_body_util::Full::new(
                            bytes::Bytes::from(body),
                        ));
                        *resp.status_mut() = status;
                        resp.headers_mut().insert(
                            http::header::CONTENT_TYPE,
                            http::HeaderValue::from_static("text/plain; version=0.0.4"),
                        );
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), svc)
                .await;
        });
    }
}
