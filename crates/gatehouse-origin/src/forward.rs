//! What CloudFront sends to a custom origin (`cloudfront.md` §9.1).
//!
//! From the viewer's headers: `Host` becomes the origin's domain, `User-Agent` becomes
//! `Amazon CloudFront`, the connection's IP is appended to `X-Forwarded-For` (comma, no space),
//! CloudFront's `Via` is appended, `X-Amz-Cf-Id` is added, the removal list is applied, and the
//! origin's `CustomHeaders` are set. Which viewer values (query, cookies, all headers) reach the
//! origin depends on the behaviour's legacy `ForwardedValues` or its policies ([`Forwarding`]).

use gatehouse_model::aws::distribution::CacheBehavior;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// Managed origin request policy: AllViewer (forwards the viewer's Host too).
pub const ORP_ALL_VIEWER: &str = "216adef6-5c7f-47e4-b989-5492eafa07d3";
/// Managed origin request policy: AllViewerAndCloudFrontHeaders-2022-06.
pub const ORP_ALL_VIEWER_AND_CF: &str = "33f36d7e-f396-46d9-90e0-52428a34d9dc";
/// Managed origin request policy: AllViewerExceptHostHeader.
pub const ORP_ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
/// Managed cache policy: CachingOptimized (no query strings, cookies or headers in the key).
pub const CP_CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/// Managed cache policy: CachingDisabled.
pub const CP_CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
/// Managed cache policy: CachingOptimizedForUncompressedObjects.
pub const CP_CACHING_OPTIMIZED_UNCOMPRESSED: &str = "b2884449-e4de-46a7-ac36-70bc7f1ddd6d";

/// Which cookies go to the origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CookieForward {
    /// None (the `Cookie` header is removed).
    None,
    /// All of them.
    All,
    /// Only these names.
    Whitelist(Vec<String>),
}

/// What of the viewer's request reaches the origin, derived from one cache behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarding {
    /// Whether the query string is forwarded.
    pub query: bool,
    /// Which cookies are forwarded.
    pub cookies: CookieForward,
    /// Whether every viewer header is forwarded (no removal list).
    pub all_headers: bool,
    /// Whether the viewer's `Host` is forwarded instead of the origin's domain.
    pub viewer_host: bool,
    /// Extra viewer headers forwarded by legacy `ForwardedValues.Headers`.
    pub headers: Vec<HeaderName>,
    /// Whether the `CloudFront-Viewer-*` headers are added (AllViewerAndCloudFrontHeaders).
    pub cloudfront_headers: bool,
}

impl Forwarding {
    /// Everything the viewer sent except `Host` (used when a behaviour names no policy and no
    /// `ForwardedValues`, which AWS itself would refuse).
    pub fn all_except_host() -> Self {
        Forwarding {
            query: true,
            cookies: CookieForward::All,
            all_headers: true,
            viewer_host: false,
            headers: Vec::new(),
            cloudfront_headers: false,
        }
    }

    /// Derives the forwarding rules of a behaviour.
    pub fn for_behavior(b: &CacheBehavior) -> Self {
        match b.origin_request_policy_id.as_str() {
            ORP_ALL_VIEWER => {
                return Forwarding {
                    viewer_host: true,
                    ..Self::all_except_host()
                }
            }
            ORP_ALL_VIEWER_AND_CF => {
                return Forwarding {
                    cloudfront_headers: true,
                    ..Self::all_except_host()
                }
            }
            ORP_ALL_VIEWER_EXCEPT_HOST => return Self::all_except_host(),
            "" => {}
            _ => return Self::all_except_host(),
        }
        if let Some(fv) = &b.forwarded_values {
            let query = fv
                .get("QueryString")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            let cookies = match fv
                .pointer("/Cookies/Forward")
                .and_then(|v| v.as_str())
                .unwrap_or("none")
            {
                "all" => CookieForward::All,
                "whitelist" => CookieForward::Whitelist(
                    fv.pointer("/Cookies/WhitelistedNames/Items")
                        .and_then(|v| v.as_array())
                        .map(|a| {
                            a.iter()
                                .filter_map(|s| s.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default(),
                ),
                _ => CookieForward::None,
            };
            let names: Vec<String> = fv
                .pointer("/Headers/Items")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if names.iter().any(|n| n == "*") {
                return Forwarding {
                    query,
                    cookies,
                    all_headers: true,
                    viewer_host: true,
                    headers: Vec::new(),
                    cloudfront_headers: false,
                };
            }
            let viewer_host = names.iter().any(|n| n.eq_ignore_ascii_case("host"));
            return Forwarding {
                query,
                cookies,
                all_headers: false,
                viewer_host,
                headers: names
                    .iter()
                    .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
                    .collect(),
                cloudfront_headers: false,
            };
        }
        match b.cache_policy_id.as_str() {
            CP_CACHING_OPTIMIZED | CP_CACHING_DISABLED | CP_CACHING_OPTIMIZED_UNCOMPRESSED => {
                Forwarding {
                    query: false,
                    cookies: CookieForward::None,
                    all_headers: false,
                    viewer_host: false,
                    headers: Vec::new(),
                    cloudfront_headers: false,
                }
            }
            _ => Self::all_except_host(),
        }
    }
}

/// Per-request values CloudFront adds.
pub struct ForwardContext<'a> {
    /// The IP of the connection the request came on, as text (appended to
    /// `X-Forwarded-For`): formatted once a connection, not once a request.
    pub connection_ip: &'a HeaderValue,
    /// CloudFront's own `Via` element for this request (`1.1 <hex>.cloudfront.net (CloudFront)`).
    pub via: &'a HeaderValue,
    /// The request id (`X-Amz-Cf-Id`).
    pub request_id: &'a HeaderValue,
    /// Whether the method is GET or HEAD (`Authorization` is removed for those).
    pub get_or_head: bool,
}

/// Headers removed from origin requests unless all viewer headers are forwarded.
const REMOVED: &[&str] = &[
    "accept",
    "accept-charset",
    "accept-language",
    "referer",
    "expect",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "x-forwarded-proto",
    "x-http-method-override",
    "x-real-ip",
];

/// Hop-by-hop headers never forwarded.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

/// Builds the origin request's headers from the viewer's.
pub fn origin_headers(
    viewer: &HeaderMap,
    origin_host: &HeaderValue,
    custom: &[(HeaderName, HeaderValue)],
    fwd: &Forwarding,
    cx: &ForwardContext<'_>,
) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(viewer.len() + 8);
    // Cookie header fields (an HTTP/2 viewer may split them) go out as one `Cookie` header,
    // joined with "; " (RFC 9113 §8.2.3).
    let mut cookies: Vec<u8> = Vec::new();
    let connection_tokens: Vec<&str> = viewer
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    for (name, value) in viewer {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n) || n == "host" || n == "via" || n == "x-forwarded-for" {
            continue;
        }
        // CloudFront-* headers are the edge's to set; a viewer's own are dropped.
        if n.starts_with("cloudfront-") {
            continue;
        }
        // Headers the viewer named in `Connection` are hop-by-hop too (RFC 9110 §7.6.1).
        if connection_tokens.iter().any(|t| t.eq_ignore_ascii_case(n)) {
            continue;
        }
        if n == "user-agent" && !fwd.all_headers && !fwd.headers.contains(name) {
            continue;
        }
        if n == "cookie" {
            let kept = match &fwd.cookies {
                CookieForward::None => None,
                CookieForward::All => Some(value.clone()),
                CookieForward::Whitelist(names) => filter_cookies(value, names),
            };
            if let Some(v) = kept.filter(|v| !v.is_empty()) {
                if !cookies.is_empty() {
                    cookies.extend_from_slice(b"; ");
                }
                cookies.extend_from_slice(v.as_bytes());
            }
            continue;
        } else if !fwd.all_headers && !fwd.headers.contains(name) {
            if REMOVED.contains(&n) || n.starts_with("x-edge-") {
                continue;
            }
            if n == "authorization" && cx.get_or_head {
                continue;
            }
        }
        out.append(name.clone(), value.clone());
    }
    if !cookies.is_empty() {
        if let Ok(v) = HeaderValue::from_bytes(&cookies) {
            out.insert(header::COOKIE, v);
        }
    }
    let host = if fwd.viewer_host {
        viewer.get(header::HOST).unwrap_or(origin_host)
    } else {
        origin_host
    };
    out.insert(header::HOST, host.clone());
    if !fwd.all_headers && !fwd.headers.contains(&header::USER_AGENT) {
        out.insert(
            header::USER_AGENT,
            HeaderValue::from_static("Amazon CloudFront"),
        );
    }
    out.insert(
        header::HeaderName::from_static("x-forwarded-for"),
        xff(viewer, cx.connection_ip),
    );
    out.insert(header::VIA, via(viewer, cx.via));
    out.insert(
        HeaderName::from_static("x-amz-cf-id"),
        cx.request_id.clone(),
    );
    out.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
    for (n, v) in custom {
        out.insert(n.clone(), v.clone());
    }
    out
}

/// The viewer's `existing` values, then `last`, joined with `sep`; `last` itself (a
/// refcount, no copy) when the viewer sent none.
fn join<'a>(
    existing: impl Iterator<Item = &'a [u8]>,
    sep: &[u8],
    last: &HeaderValue,
) -> HeaderValue {
    let mut buf = Vec::new();
    for e in existing {
        buf.extend_from_slice(e);
        buf.extend_from_slice(sep);
    }
    if buf.is_empty() {
        return last.clone();
    }
    buf.extend_from_slice(last.as_bytes());
    HeaderValue::from_maybe_shared(bytes::Bytes::from(buf)).unwrap_or_else(|_| last.clone())
}

/// `X-Forwarded-For`: the viewer's non-empty values, then the connection's IP.
fn xff(viewer: &HeaderMap, ip: &HeaderValue) -> HeaderValue {
    let existing = viewer
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.as_bytes())
        .filter(|v| !v.is_empty());
    join(existing, b",", ip)
}

/// `Via`: the viewer's values, then ours.
fn via(viewer: &HeaderMap, ours: &HeaderValue) -> HeaderValue {
    join(
        viewer.get_all(header::VIA).iter().map(|v| v.as_bytes()),
        b", ",
        ours,
    )
}

fn filter_cookies(value: &HeaderValue, names: &[String]) -> Option<HeaderValue> {
    let s = value.to_str().ok()?;
    let kept: Vec<&str> = s
        .split(';')
        .map(str::trim)
        .filter(|kv| {
            let name = kv.split('=').next().unwrap_or("");
            names
                .iter()
                .any(|n| gatehouse_model::glob::matches(n.as_bytes(), name.as_bytes()))
        })
        .collect();
    if kept.is_empty() {
        None
    } else {
        HeaderValue::from_str(&kept.join("; ")).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static CONNECTION_IP: HeaderValue = HeaderValue::from_static("192.0.2.2");

    fn cx<'a>(via: &'a HeaderValue, id: &'a HeaderValue) -> ForwardContext<'a> {
        ForwardContext {
            connection_ip: &CONNECTION_IP,
            via,
            request_id: id,
            get_or_head: true,
        }
    }

    #[test]
    fn cloudfront_headers() {
        let mut v = HeaderMap::new();
        v.insert("host", "www.example.com".parse().unwrap());
        v.insert("user-agent", "curl/8".parse().unwrap());
        v.insert("x-forwarded-for", "192.0.2.4,192.0.2.3".parse().unwrap());
        v.insert("via", "1.1 proxy".parse().unwrap());
        v.insert("accept", "*/*".parse().unwrap());
        v.insert("authorization", "Bearer x".parse().unwrap());
        v.insert("cookie", "a=1; b=2".parse().unwrap());
        v.insert("x-custom", "kept".parse().unwrap());
        let via = HeaderValue::from_static("1.1 abc.cloudfront.net (CloudFront)");
        let id = HeaderValue::from_static("ID==");
        let host = HeaderValue::from_static("origin.example.com");
        let custom = vec![(
            HeaderName::from_static("x-origin-secret"),
            HeaderValue::from_static("s"),
        )];
        let fwd = Forwarding {
            query: false,
            cookies: CookieForward::Whitelist(vec!["b".into()]),
            all_headers: false,
            viewer_host: false,
            headers: vec![],
            cloudfront_headers: false,
        };
        let h = origin_headers(&v, &host, &custom, &fwd, &cx(&via, &id));
        assert_eq!(h["host"], "origin.example.com");
        assert_eq!(h["user-agent"], "Amazon CloudFront");
        assert_eq!(h["x-forwarded-for"], "192.0.2.4,192.0.2.3,192.0.2.2");
        assert_eq!(h["via"], "1.1 proxy, 1.1 abc.cloudfront.net (CloudFront)");
        assert_eq!(h["x-amz-cf-id"], "ID==");
        assert_eq!(h["x-origin-secret"], "s");
        assert_eq!(h["cookie"], "b=2");
        assert_eq!(h["x-custom"], "kept");
        assert!(h.get("accept").is_none());
        assert!(h.get("authorization").is_none());
    }

    #[test]
    fn forwarded_for_and_via_without_the_viewers() {
        // Without the viewer's own values (an empty one does not count), the connection's IP
        // and our `Via` element alone.
        let mut v = HeaderMap::new();
        v.insert("host", "www.example.com".parse().unwrap());
        v.insert("x-forwarded-for", HeaderValue::from_static(""));
        let via = HeaderValue::from_static("1.1 abc.cloudfront.net (CloudFront)");
        let id = HeaderValue::from_static("ID==");
        let host = HeaderValue::from_static("origin.example.com");
        let h = origin_headers(
            &v,
            &host,
            &[],
            &Forwarding::all_except_host(),
            &cx(&via, &id),
        );
        assert_eq!(h["x-forwarded-for"], "192.0.2.2");
        assert_eq!(h.get_all("x-forwarded-for").iter().count(), 1);
        assert_eq!(h["via"], "1.1 abc.cloudfront.net (CloudFront)");
    }
}
