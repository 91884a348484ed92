//! One request, top to bottom: the named phases of the request path.
//!
//! ```text
//! limits → host routing → certificate coverage → behaviour → checks → origin → response
//! ```
//! Every phase either hands on to the next or ends the request with a [`Denial`], which the
//! response phase renders exactly as CloudFront would (with `CustomErrorResponses` applied).
//! A panic anywhere in a request becomes a 502 `internal-error` for that request only.

use crate::checks::{self, CheckInput};
use crate::log::{AbandonGuard, Outcome, Pending};
use crate::response::headers::{self, XCache, X_GATEHOUSE_CAUSE};
use crate::response::{self, Denial, EdgeBody, ResponseContext};
use crate::routing::host::normalize_host;
use crate::state::{Behavior, Distribution, EdgeState};
use crate::viewer::Connection;
use crate::Edge;
use futures_util::FutureExt;
use gatehouse_model::Cause;
use gatehouse_origin::forward::{origin_headers, CookieForward, ForwardContext};
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// CloudFront's URL limit (bytes of path and query).
pub const MAX_URL: usize = 8192;
/// CloudFront's limit on request line plus headers.
pub const MAX_HEAD: usize = 20480;

/// The hyper service entry point.
pub async fn service(
    edge: Arc<Edge>,
    conn: Arc<Connection>,
    req: Request<Incoming>,
) -> Result<Response<EdgeBody>, Infallible> {
    let state = edge.state();
    let request_id = headers::new_request_id();
    let http1 = req.version() < Version::HTTP_2;
    let head = head_len(&req);
    let pending = edge.logs().map(|sink| {
        Pending::capture(
            sink.clone(),
            &conn,
            &req,
            head,
            request_id.to_str().unwrap_or("-"),
        )
    });
    let mut guard = AbandonGuard::new(pending, &state, &conn);
    let result = AssertUnwindSafe(handle(
        &state,
        &conn,
        &request_id,
        req,
        head,
        &mut guard.outcome,
    ))
    .catch_unwind()
    .await;
    let resp = match result {
        Ok(resp) => resp,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(request_id = ?request_id, panic = %msg, "request handler panicked");
            let d = Denial::new(Cause::InternalError, msg);
            let resp = response::generated(&d, &rcx(&state, &request_id, http1));
            guard.outcome.deny(d.cause, d.detail);
            resp
        }
    };
    Ok(guard.answer(resp))
}

fn rcx<'a>(state: &'a EdgeState, request_id: &'a HeaderValue, http1: bool) -> ResponseContext<'a> {
    ResponseContext {
        via: &state.via_viewer,
        pop: &state.pop,
        request_id,
        cause_header: state.cause_header,
        http1,
    }
}

/// Runs the phases for one request (`head`: its [`head_len`]).
pub async fn handle(
    state: &EdgeState,
    conn: &Connection,
    request_id: &HeaderValue,
    req: Request<Incoming>,
    head: usize,
    outcome: &mut Outcome,
) -> Response<EdgeBody> {
    let http1 = req.version() < Version::HTTP_2;
    let cx = rcx(state, request_id, http1);
    let deny = |d: Denial, o: &mut Outcome| {
        tracing::debug!(cause = d.cause.id(), detail = %d.detail, "denied");
        let resp = response::generated(&d, &cx);
        o.deny(d.cause, d.detail);
        resp
    };

    #[cfg(debug_assertions)]
    if state.debug_panic_path.as_deref() == Some(req.uri().path()) {
        panic!("GATEHOUSE_DEBUG_PANIC_PATH requested a panic");
    }

    // Phase: limits.
    if let Some(d) = limits(&req, head) {
        return deny(d, outcome);
    }

    // Phase: host routing.
    let raw_host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    let Some(raw_host) = raw_host else {
        return deny(
            Denial::new(Cause::MalformedRequest, "no Host header"),
            outcome,
        );
    };
    let Some(host) = normalize_host(raw_host) else {
        return deny(
            Denial::new(
                Cause::MalformedRequest,
                format!("invalid Host header {raw_host:?}"),
            ),
            outcome,
        );
    };
    let Some(di) = state.router.route(&host) else {
        return deny(
            Denial::new(
                Cause::AliasNotConfigured,
                format!("Host {host} is no alias or default domain of any distribution"),
            ),
            outcome,
        );
    };
    let dist = &state.distributions[di];
    outcome.dist = Some(di);
    if !dist.enabled {
        return deny(
            Denial::new(
                Cause::DistributionDisabled,
                format!("distribution {} is disabled", dist.id),
            ),
            outcome,
        );
    }

    // Phase: certificate coverage (domain fronting).
    if let Some(tls) = &conn.tls {
        let covered = tls
            .cert
            .and_then(|c| dist.covered_by_cert.get(c).copied())
            .unwrap_or(false);
        if !covered {
            return deny(Denial::new(
                Cause::MisdirectedRequest,
                format!(
                    "Host {host} belongs to distribution {} which the certificate for SNI {:?} does not cover",
                    dist.id, tls.sni
                ),
            ), outcome);
        }
    }

    // Phase: behaviour.
    let path = req.uri().path();
    let behavior = dist.behavior_for(path);
    outcome.pattern = Some(behavior.log_pattern.clone());
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or(path);

    // Phase: checks.
    let (viewer_ip, via_proxy) =
        crate::viewer::client_ip::viewer_ip(conn.ip(), req.headers(), &state.trusted_proxies);
    outcome.viewer_ip = Some(viewer_ip);
    if via_proxy {
        outcome.forwarded_for = Some(viewer_ip);
    }
    // Phase: checks (the input, which borrows the request's country cell, ends here).
    let denial = checks::run(&CheckInput {
        method: req.method(),
        version: req.version(),
        host: raw_host,
        path_and_query: pq,
        distribution: dist,
        behavior,
        viewer_ip,
        geo: &state.geo,
        conn,
        country: &outcome.country,
        headers: req.headers(),
        signed_cache: &state.signed_cache,
    });
    if let Some(d) = denial {
        let cause = d.cause;
        let resp = deny(d, outcome);
        return custom_error(state, dist, conn, &req, request_id, resp, cause).await;
    }

    // Phase: origin.
    let resp = fetch(state, dist, behavior, conn, viewer_ip, request_id, req).await;
    match resp {
        Ok((resp, viewer_req_head)) => {
            let status = resp.status().as_u16();
            if status >= 400 {
                let cause = if status == 403 {
                    Cause::OriginDenied
                } else {
                    Cause::OriginErrorStatus
                };
                outcome.deny(
                    cause,
                    format!(
                        "origin {} answered {status}",
                        dist.origins[behavior.origin].id
                    ),
                );
                custom_error(state, dist, conn, &viewer_req_head, request_id, resp, cause).await
            } else {
                resp
            }
        }
        Err((d, viewer_req_head)) => {
            tracing::debug!(cause = d.cause.id(), detail = %d.detail, "origin failure");
            let resp = response::generated(&d, &cx);
            outcome.deny(d.cause, d.detail);
            custom_error(
                state,
                dist,
                conn,
                &viewer_req_head,
                request_id,
                resp,
                d.cause,
            )
            .await
        }
    }
}

/// Bytes of the request line and headers as HTTP/1.1 puts them on the wire (`METHOD SP
/// path SP HTTP/1.1 CRLF`, then `name: value CRLF` per header), without the final CRLF: what
/// the 20,480-byte limit counts, and (with that CRLF) the head's part of `cs-bytes`.
pub fn head_len<B>(req: &Request<B>) -> usize {
    let pq_len = req.uri().path_and_query().map_or(1, |p| p.as_str().len());
    req.method().as_str().len()
        + 1
        + pq_len
        + 1
        + 8
        + 2
        + req
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len() + 2 + v.len() + 2)
            .sum::<usize>()
}

/// Phase: limits. URL over 8,192 bytes or request line plus headers (`head`, its
/// [`head_len`]) over 20,480 → 413.
fn limits<B>(req: &Request<B>, head: usize) -> Option<Denial> {
    let pq_len = req.uri().path_and_query().map_or(1, |p| p.as_str().len());
    if pq_len > MAX_URL {
        return Some(Denial::new(
            Cause::RequestTooLarge,
            format!("URL is {pq_len} bytes; the limit is {MAX_URL}"),
        ));
    }
    if head > MAX_HEAD {
        return Some(Denial::new(
            Cause::RequestTooLarge,
            format!("request line and headers are {head} bytes; the limit is {MAX_HEAD}"),
        ));
    }
    None
}

/// The request head kept after the body went to the origin (for custom error pages).
type Head = Request<()>;

/// Phase: origin. Forwards the request and decorates the response.
#[allow(clippy::too_many_arguments)]
async fn fetch(
    state: &EdgeState,
    dist: &Distribution,
    behavior: &Behavior,
    conn: &Connection,
    viewer_ip: std::net::IpAddr,
    request_id: &HeaderValue,
    req: Request<Incoming>,
) -> Result<(Response<EdgeBody>, Head), (Denial, Head)> {
    let path = req.uri().path();
    let origin = &dist.origins[behavior.origin];
    let fwd = &behavior.forwarding;
    // The signing parameters never reach the origin of a restricted behaviour.
    let stripped;
    let origin_path: &str = match (&dist.default_root_object, path) {
        (Some(root), "/") => root,
        _ if fwd.query => match (req.uri().query(), &behavior.trusted) {
            (Some(q), Some(_)) => {
                stripped = match gatehouse_signed::strip_signing_params(q) {
                    std::borrow::Cow::Borrowed(_) => None,
                    std::borrow::Cow::Owned(rest) if rest.is_empty() => Some(path.to_string()),
                    std::borrow::Cow::Owned(rest) => Some(format!("{path}?{rest}")),
                };
                stripped
                    .as_deref()
                    .unwrap_or_else(|| req.uri().path_and_query().map_or(path, |p| p.as_str()))
            }
            _ => req.uri().path_and_query().map_or(path, |p| p.as_str()),
        },
        _ => path,
    };
    let uri = origin.uri(conn.https, origin_path);
    let get_or_head = req.method() == Method::GET || req.method() == Method::HEAD;
    let via = if req.version() == Version::HTTP_2 {
        &state.via_origin_h2
    } else {
        &state.via_origin_h1
    };
    let mut headers = origin_headers(
        req.headers(),
        origin.host_header(),
        origin.custom_headers(),
        fwd,
        &ForwardContext {
            connection_ip: &conn.ip_header,
            via,
            request_id,
            get_or_head,
        },
    );
    if fwd.cloudfront_headers || !fwd.headers.is_empty() {
        crate::viewer::cloudfront_headers::add(
            &mut headers,
            fwd,
            &crate::viewer::cloudfront_headers::Facts {
                conn,
                viewer_ip,
                version: req.version(),
                viewer_headers: req.headers(),
                geo: &state.geo,
            },
        );
    }
    let (parts, body) = req.into_parts();
    let mut oreq = Request::new(body.boxed());
    *oreq.method_mut() = parts.method.clone();
    *oreq.uri_mut() = uri;
    *oreq.headers_mut() = headers;
    // The viewer's head (moved, not copied) stays for a custom error page fetch.
    let head = Request::from_parts(parts, ());
    let strip_set_cookie = fwd.cookies == CookieForward::None;
    let sent = std::time::Instant::now();
    let result = origin.send(oreq, get_or_head).await;
    dist.metrics.origin_latency(sent.elapsed());
    match result {
        Ok(resp) => {
            let http1 = head.version() < Version::HTTP_2;
            Ok((
                decorate(
                    state,
                    request_id,
                    resp.map(|b| EdgeBody::Origin(Box::pin(b))),
                    http1,
                    strip_set_cookie,
                ),
                head,
            ))
        }
        Err(e) => Err((
            Denial::new(e.cause(), format!("origin {}: {e}", origin.id)),
            head,
        )),
    }
}

/// Hop-by-hop headers removed from origin responses.
const HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
];

/// Adds CloudFront's headers to an origin response (its `Server` is kept). When the behaviour
/// forwards no cookies, the origin's `Set-Cookie` is removed, as CloudFront does.
fn decorate(
    state: &EdgeState,
    request_id: &HeaderValue,
    mut resp: Response<EdgeBody>,
    http1: bool,
    strip_set_cookie: bool,
) -> Response<EdgeBody> {
    let status = resp.status().as_u16();
    let h = resp.headers_mut();
    for name in HOP {
        h.remove(*name);
    }
    if strip_set_cookie {
        h.remove(header::SET_COOKIE);
    }
    if http1 {
        h.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
    }
    headers::append_cloudfront(
        h,
        XCache::for_origin_status(status),
        &state.via_viewer,
        &state.pop,
        request_id,
    );
    if status >= 400 && state.cause_header {
        let cause = if status == 403 {
            Cause::OriginDenied
        } else {
            Cause::OriginErrorStatus
        };
        h.insert(
            X_GATEHOUSE_CAUSE.clone(),
            HeaderValue::from_static(cause.id()),
        );
    }
    resp
}

/// Applies `CustomErrorResponses`: when the distribution maps this status to a page, the page
/// is fetched from the origin of the behaviour matching its path and sent with `ResponseCode`.
/// If the page cannot be fetched, the original error goes out.
async fn custom_error<B>(
    state: &EdgeState,
    dist: &Distribution,
    conn: &Connection,
    viewer: &Request<B>,
    request_id: &HeaderValue,
    original: Response<EdgeBody>,
    cause: Cause,
) -> Response<EdgeBody> {
    let status = original.status();
    let Some(page) = dist.error_pages.get(&status.as_u16()) else {
        return original;
    };
    if cause == Cause::RedirectToHttps {
        return original;
    }
    let behavior = dist.behavior_for(&page.path);
    let origin = &dist.origins[behavior.origin];
    let via = if viewer.version() == Version::HTTP_2 {
        &state.via_origin_h2
    } else {
        &state.via_origin_h1
    };
    let headers = origin_headers(
        viewer.headers(),
        origin.host_header(),
        origin.custom_headers(),
        &behavior.forwarding,
        &ForwardContext {
            connection_ip: &conn.ip_header,
            via,
            request_id,
            get_or_head: true,
        },
    );
    let mut oreq = Request::new(gatehouse_origin::client::empty());
    *oreq.uri_mut() = origin.uri(conn.https, &page.path);
    *oreq.headers_mut() = headers;
    match origin.send(oreq, true).await {
        Ok(resp) if resp.status().is_success() => {
            let http1 = viewer.version() < Version::HTTP_2;
            let mut resp = decorate(
                state,
                request_id,
                resp.map(|b| EdgeBody::Origin(Box::pin(b))),
                http1,
                behavior.forwarding.cookies == CookieForward::None,
            );
            *resp.status_mut() = page.status.unwrap_or(status);
            let h = resp.headers_mut();
            h.insert(headers::X_CACHE.clone(), XCache::Error.value());
            if state.cause_header {
                h.insert(
                    X_GATEHOUSE_CAUSE.clone(),
                    HeaderValue::from_static(cause.id()),
                );
            } else {
                h.remove(&X_GATEHOUSE_CAUSE);
            }
            resp
        }
        Ok(resp) => {
            tracing::warn!(distribution = %dist.id, page = %page.path, status = %resp.status(), "custom error page not available; sending the original error");
            original
        }
        Err(e) => {
            tracing::warn!(distribution = %dist.id, page = %page.path, error = %e, "custom error page fetch failed; sending the original error");
            original
        }
    }
}
