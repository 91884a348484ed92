//! Deciding between the signed-URL `AccessDenied` causes when the URL is known.
//!
//! CloudFront answers one `Access denied` for an expired URL, one not yet valid, a viewer IP
//! outside the policy, a Resource that does not match and a bad signature. The URL itself
//! carries the policy (`Expires`, or `Policy` in CloudFront base64), so the doctor runs the
//! check the user would: decode it and compare `DateLessThan`, `DateGreaterThan` and
//! `IpAddress` with the time and the viewer, and `Resource` with the URL. With the public keys
//! of the behaviour (from `--config`) it runs the edge's own verifier and the answer is exact;
//! without them the signature cannot be checked, so a failing condition is only likely (the
//! edge checks the signature first) and a URL whose conditions all hold points to the
//! signature.

use crate::classify::{Confidence, Diagnosis};
use gatehouse_model::Cause;
use gatehouse_signed::verify::{self, FailureKind, TrustedKeys};
use gatehouse_signed::{base64cf, policy, resource, VerifyCache};
use std::net::IpAddr;

/// The request a signed-URL refusal was for.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// `http` / `https`.
    pub scheme: String,
    /// The Host the viewer sent (with its port, as signed).
    pub host: String,
    /// The path as sent (still percent-encoded).
    pub path: String,
    /// The raw query, without `?`.
    pub query: Option<String>,
    /// The viewer's IP as the edge saw it, when known.
    pub viewer_ip: Option<IpAddr>,
    /// The edge's clock, epoch seconds (the log line's time; now for a probe).
    pub now: u64,
}

impl SignedRequest {
    /// From a URL (`http://host:port/path?query`).
    pub fn from_url(url: &str, viewer_ip: Option<IpAddr>, now: u64) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let (authority, pq) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (path, query) = match pq.split_once('?') {
            Some((p, q)) => (p, Some(q.to_string())),
            None => (pq, None),
        };
        Some(SignedRequest {
            scheme: scheme.to_ascii_lowercase(),
            host: authority.to_string(),
            path: path.to_string(),
            query,
            viewer_ip,
            now,
        })
    }
}

fn cause_of(k: FailureKind) -> Cause {
    match k {
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

/// The value of query parameter `name` (percent-decoded), first occurrence.
fn param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (k == name)
            .then(|| String::from_utf8_lossy(&gatehouse_logs::encode::decode(v)).into_owned())
    })
}

/// What the URL says about an `Access denied`: the cause, how sure, and what was compared.
pub fn decide(
    req: &SignedRequest,
    keys: Option<&TrustedKeys>,
) -> Option<(Cause, Confidence, String)> {
    let query = req.query.as_deref()?;
    if let Some(keys) = keys {
        let ip = req
            .viewer_ip
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let r = verify::Request {
            scheme: &req.scheme,
            host: &req.host,
            path: &req.path,
            query: Some(query),
            cookies: None,
            viewer_ip: ip,
            now: req.now,
        };
        return match verify::verify(&r, keys, &VerifyCache::new(1)) {
            Err(f) if f.kind == FailureKind::IpMismatch && req.viewer_ip.is_none() => Some((
                Cause::SignedIpMismatch,
                Confidence::Likely,
                "the signature and the other conditions hold; the policy's IpAddress is left, and the viewer's IP as the edge saw it is not known here".into(),
            )),
            Err(f) => Some((
                cause_of(f.kind),
                Confidence::Certain,
                format!("the edge's check, run again with the config's public keys: {}", f.detail),
            )),
            Ok(_) => None,
        };
    }
    // Without the keys: the conditions only.
    let stripped = verify::strip_signing_params(query);
    let stripped = Some(stripped.as_ref()).filter(|q| !q.is_empty());
    let pol = if let Some(p) = param(query, "Policy") {
        policy::parse(&base64cf::decode(&p)?).ok()?
    } else {
        policy::Policy {
            resource: None,
            date_less_than: param(query, "Expires")?.parse().ok()?,
            date_greater_than: None,
            ip_address: None,
        }
    };
    let unchecked = "; the signature was not checked (give --config with the public keys to check it), so a bad signature is also possible";
    if req.now >= pol.date_less_than {
        return Some((
            Cause::SignedExpired,
            Confidence::Likely,
            format!(
                "DateLessThan {} is {} s before the edge's clock {}{unchecked}",
                pol.date_less_than,
                req.now - pol.date_less_than,
                req.now
            ),
        ));
    }
    if let Some(t) = pol.date_greater_than.filter(|t| req.now <= *t) {
        return Some((
            Cause::SignedNotYetValid,
            Confidence::Likely,
            format!(
                "DateGreaterThan {t} is {} s after the edge's clock {}{unchecked}",
                t - req.now,
                req.now
            ),
        ));
    }
    let mut ip_unknown = None;
    if let Some(net) = pol.ip_address {
        match req.viewer_ip {
            Some(ip) => {
                let inside = match ip {
                    IpAddr::V4(v4) => net.contains(&v4),
                    IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some_and(|v4| net.contains(&v4)),
                };
                if !inside {
                    return Some((
                        Cause::SignedIpMismatch,
                        Confidence::Likely,
                        format!(
                            "the viewer IP {ip} is outside the policy's IpAddress {net}{unchecked}"
                        ),
                    ));
                }
            }
            None => ip_unknown = Some(net),
        }
    }
    if let Some(r) = &pol.resource {
        let url = resource::Url {
            scheme: &req.scheme,
            host: &req.host,
            path: &req.path,
            query: stripped,
        };
        if !resource::matches(r, &url) {
            return Some((
                Cause::SignedResourceMismatch,
                Confidence::Likely,
                format!(
                    "the policy's Resource {r:?} does not match the URL {}://{}{}{}{}{unchecked}",
                    req.scheme,
                    req.host,
                    req.path,
                    if stripped.is_some() { "?" } else { "" },
                    stripped.unwrap_or("")
                ),
            ));
        }
    }
    if let Some(net) = ip_unknown {
        return Some((
            Cause::SignedIpMismatch,
            Confidence::Likely,
            format!("the dates and the Resource hold; the policy restricts the viewer to {net}, and the viewer's IP as the edge saw it is not known here (a proxy or NAT changes it)"),
        ));
    }
    Some((
        Cause::SignedBadSignature,
        Confidence::Likely,
        if pol.resource.is_none() {
            "the canned policy's Expires is in the future, so the signature does not verify: the wrong private key or hash algorithm, or a URL changed after signing (re-encoded, a parameter added: the canned policy is rebuilt from the URL as requested)".to_string()
        } else {
            "the policy's dates, IpAddress and Resource all hold, so the signature does not verify: the wrong private key or hash algorithm for this Key-Pair-Id, or a Policy changed after signing".to_string()
        },
    ))
}

/// Narrows an `Access denied` diagnosis with what the URL says.
pub fn refine(d: &mut Diagnosis, req: &SignedRequest, keys: Option<&TrustedKeys>) {
    if !d.needs_signed_url() {
        return;
    }
    if let Some((cause, confidence, why)) = decide(req, keys) {
        d.promote(cause, confidence, why);
        d.next_check = Some(match confidence {
            Confidence::Certain => "none: the edge's own check decided".to_string(),
            _ if keys.is_none() => "run the same with --config (the public keys of the behavior's key groups) to check the signature too".to_string(),
            _ => "compare the viewer's public IP, as the edge sees it (behind a proxy or NAT it differs), with the policy's IpAddress".to_string(),
        });
    }
}
