//! The headers CloudFront adds to every response, and the request id.
//!
//! `X-Amz-Cf-Id` is 40 random bytes in URL-safe base64 with padding (56 characters).
//! `Server: CloudFront` only on responses the edge generates; the origin's `Server` is kept
//! otherwise. Order follows the captures: Server, Date, Content-Type, Content-Length,
//! Connection, X-Cache, Via, X-Amz-Cf-Pop, X-Amz-Cf-Id.

use base64::Engine as _;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use rand::RngCore;
use std::cell::RefCell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `x-cache`.
pub static X_CACHE: HeaderName = HeaderName::from_static("x-cache");
/// `x-amz-cf-pop`.
pub static X_AMZ_CF_POP: HeaderName = HeaderName::from_static("x-amz-cf-pop");
/// `x-amz-cf-id`.
pub static X_AMZ_CF_ID: HeaderName = HeaderName::from_static("x-amz-cf-id");
/// `x-gatehouse-cause`.
pub static X_GATEHOUSE_CAUSE: HeaderName = HeaderName::from_static("x-gatehouse-cause");

/// A new request id: 40 random bytes, URL-safe base64 with `=` padding, 56 characters.
pub fn new_request_id() -> HeaderValue {
    let mut raw = [0u8; 40];
    rand::rng().fill_bytes(&mut raw);
    let mut out = [0u8; 56];
    let n = base64::engine::general_purpose::URL_SAFE
        .encode_slice(raw, &mut out)
        .expect("56 bytes hold 40 encoded bytes");
    debug_assert_eq!(n, 56);
    HeaderValue::from_bytes(&out).expect("base64 is a valid header value")
}

/// Which `X-Cache` value a response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XCache {
    /// `Miss from cloudfront`.
    Miss,
    /// `Hit from cloudfront`.
    Hit,
    /// `Error from cloudfront`.
    Error,
    /// `Redirect from cloudfront`.
    Redirect,
}

impl XCache {
    /// The header value.
    pub fn value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            XCache::Miss => "Miss from cloudfront",
            XCache::Hit => "Hit from cloudfront",
            XCache::Error => "Error from cloudfront",
            XCache::Redirect => "Redirect from cloudfront",
        })
    }

    /// The value for a response passed through from the origin with this status.
    pub fn for_origin_status(status: u16) -> XCache {
        if status >= 400 {
            XCache::Error
        } else {
            XCache::Miss
        }
    }
}

/// Appends CloudFront's trailing headers (X-Cache, Via, X-Amz-Cf-Pop, X-Amz-Cf-Id).
pub fn append_cloudfront(
    h: &mut HeaderMap,
    x_cache: XCache,
    via: &HeaderValue,
    pop: &HeaderValue,
    request_id: &HeaderValue,
) {
    h.insert(X_CACHE.clone(), x_cache.value());
    h.insert(http::header::VIA, via.clone());
    h.insert(X_AMZ_CF_POP.clone(), pop.clone());
    h.insert(X_AMZ_CF_ID.clone(), request_id.clone());
}

thread_local! {
    static DATE: RefCell<(u64, HeaderValue)> = const { RefCell::new((u64::MAX, HeaderValue::from_static(""))) };
}

/// The current `Date` header value, formatted at most once per second per thread.
pub fn http_date() -> HeaderValue {
    let now = SystemTime::now();
    let secs = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    DATE.with(|d| {
        let mut d = d.borrow_mut();
        if d.0 != secs {
            let s = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
            d.1 = HeaderValue::from_str(&s).expect("http date is ASCII");
            d.0 = secs;
        }
        d.1.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_shape() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        let s = a.to_str().unwrap();
        assert_eq!(s.len(), 56);
        assert!(s.ends_with("=="));
        assert!(s[..54]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn date_format() {
        let d = http_date();
        let s = d.to_str().unwrap();
        assert!(s.ends_with(" GMT") && s.len() == 29, "{s}");
    }
}
