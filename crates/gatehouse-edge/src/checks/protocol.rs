//! `ViewerProtocolPolicy` (`cloudfront.md` §5): `https-only` refuses HTTP with 403;
//! `redirect-to-https` answers 301 for GET/HEAD (and for every method on HTTP/1.0), 307 for
//! other methods on HTTP/1.1 and later, with `Location` keeping host, path and query.

use super::CheckInput;
use crate::response::Denial;
use gatehouse_model::aws::distribution::ViewerProtocolPolicy;
use gatehouse_model::Cause;
use http::{HeaderValue, Method, StatusCode, Version};

/// Runs the check.
pub fn check(i: &CheckInput<'_>) -> Option<Denial> {
    if i.conn.https {
        return None;
    }
    match i.behavior.viewer_protocol_policy {
        ViewerProtocolPolicy::AllowAll => None,
        ViewerProtocolPolicy::HttpsOnly => Some(Denial::new(
            Cause::HttpsOnly,
            format!(
                "HTTP request on behavior {} whose ViewerProtocolPolicy is https-only",
                i.behavior.name()
            ),
        )),
        ViewerProtocolPolicy::RedirectToHttps => {
            let status = if *i.method == Method::GET
                || *i.method == Method::HEAD
                || i.version < Version::HTTP_11
            {
                StatusCode::MOVED_PERMANENTLY
            } else {
                StatusCode::TEMPORARY_REDIRECT
            };
            let host = strip_port(i.host);
            let mut loc = String::with_capacity(8 + host.len() + 6 + i.path_and_query.len());
            loc.push_str("https://");
            loc.push_str(host);
            if let Some(port) = i.distribution.redirect_https_port {
                if port != 443 {
                    use std::fmt::Write as _;
                    let _ = write!(loc, ":{port}");
                }
            }
            loc.push_str(i.path_and_query);
            let mut d = Denial::new(
                Cause::RedirectToHttps,
                format!(
                    "HTTP request on behavior {} whose ViewerProtocolPolicy is redirect-to-https",
                    i.behavior.name()
                ),
            )
            .with_status(status);
            d.location = HeaderValue::from_str(&loc).ok();
            Some(d)
        }
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .rsplit_once("]:")
            .map_or(host, |(h, _)| &host[..h.len() + 1]);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}
