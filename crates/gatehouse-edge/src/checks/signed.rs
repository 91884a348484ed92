//! `TrustedKeyGroups` / `TrustedSigners` (`cloudfront.md` §1.3, §3): a restricted behaviour
//! refuses every request without a valid signed URL or signed cookies, with CloudFront's XML
//! answer. The verification itself lives in `gatehouse-signed`.

use super::CheckInput;
use crate::response::Denial;
use gatehouse_model::Cause;
use gatehouse_signed::verify::{self, FailureKind, Request};
use std::time::{SystemTime, UNIX_EPOCH};

/// The catalogue cause of a failed check.
pub fn cause(kind: FailureKind) -> Cause {
    match kind {
        FailureKind::MissingKey => Cause::SignedMissingKey,
        FailureKind::UnknownKey => Cause::SignedUnknownKey,
        FailureKind::MalformedSignature => Cause::SignedMalformedSignature,
        FailureKind::MalformedPolicy => Cause::SignedMalformedPolicy,
        FailureKind::Expired => Cause::SignedExpired,
        FailureKind::NotYetValid => Cause::SignedNotYetValid,
        FailureKind::IpMismatch => Cause::SignedIpMismatch,
        FailureKind::ResourceMismatch => Cause::SignedResourceMismatch,
        FailureKind::BadSignature => Cause::SignedBadSignature,
    }
}

/// Runs the check.
pub fn check(i: &CheckInput<'_>) -> Option<Denial> {
    let trusted = i.behavior.trusted.as_ref()?;
    let cookie_values: Vec<&str> = i
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let joined;
    let cookies = match cookie_values.len() {
        0 => None,
        1 => Some(cookie_values[0]),
        _ => {
            joined = cookie_values.join("; ");
            Some(joined.as_str())
        }
    };
    let (path, query) = match i.path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (i.path_and_query, None),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let req = Request {
        scheme: if i.conn.https { "https" } else { "http" },
        host: i.host,
        path,
        query,
        cookies,
        viewer_ip: i.viewer_ip,
        now,
    };
    match verify::verify(&req, trusted, i.signed_cache) {
        Ok(_) => None,
        Err(f) => Some(Denial::new(
            cause(f.kind),
            format!("behavior {}: {}", i.behavior.name(), f.detail),
        )),
    }
}
