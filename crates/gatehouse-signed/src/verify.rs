//! Checking a request's signed URL or signed cookies, as CloudFront does (`cloudfront.md` §1.3, §3).
//!
//! Order: find the signing values (a signed URL takes precedence over cookies) → `Key-Pair-Id`
//! present (`MissingKey`) → trusted by this behaviour (`InvalidKey`) → `Signature` decodable
//! (`MalformedSignature`) → policy decodable and valid (`MalformedPolicy`) → signature verifies
//! (`AccessDenied`) → `DateLessThan`, `DateGreaterThan`, `IpAddress`, `Resource`
//! (`AccessDenied`). Every failure says exactly what was compared, for the doctor.
//!
//! Successful signature checks are cached ([`VerifyCache`]) by the exact signed material, so a
//! repeated URL skips the RSA/ECDSA work; and a request whose exact parts (scheme, Host, path,
//! query, signing cookies) were accepted before with a key still trusted skips the rest too,
//! but for the time and IP conditions, which are checked on every request (the Resource
//! matched those same parts).

use crate::keys::{HashAlgorithm, PublicKey};
use crate::policy::{self, Conditions, Policy};
use crate::resource::{self, Url};
use crate::{base64cf, cache::VerifyCache};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// Which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// No (or an empty/garbage) Key-Pair-Id.
    MissingKey,
    /// The key is not in this behaviour's trusted key groups.
    UnknownKey,
    /// The Signature is missing or not decodable.
    MalformedSignature,
    /// The Policy (or Expires) is missing, not decodable or invalid.
    MalformedPolicy,
    /// DateLessThan has passed.
    Expired,
    /// DateGreaterThan is in the future.
    NotYetValid,
    /// The viewer IP is outside IpAddress.
    IpMismatch,
    /// The URL does not match Resource.
    ResourceMismatch,
    /// The signature does not verify.
    BadSignature,
}

/// A failed check and what was compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Which check.
    pub kind: FailureKind,
    /// What was compared (never sent to the viewer).
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.detail)
    }
}

fn fail(kind: FailureKind, detail: impl Into<String>) -> Failure {
    Failure {
        kind,
        detail: detail.into(),
    }
}

/// Where the signing values came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Query parameters.
    Url,
    /// `CloudFront-*` cookies.
    Cookies,
}

/// The keys a behaviour trusts: key id → key (the union of its key groups).
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: HashMap<String, Arc<PublicKey>>,
    /// Names of the key groups, for messages.
    pub groups: Vec<String>,
}

impl TrustedKeys {
    /// Builds the set.
    pub fn new(keys: HashMap<String, Arc<PublicKey>>, groups: Vec<String>) -> Self {
        TrustedKeys { keys, groups }
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The request as the verifier sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `http` / `https`.
    pub scheme: &'a str,
    /// The Host the viewer sent.
    pub host: &'a str,
    /// Path as received.
    pub path: &'a str,
    /// Raw query (without `?`), as received.
    pub query: Option<&'a str>,
    /// The `Cookie` header(s), joined with `; `.
    pub cookies: Option<&'a str>,
    /// The viewer's IP.
    pub viewer_ip: IpAddr,
    /// The edge clock, epoch seconds.
    pub now: u64,
}

/// A successful check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// URL or cookies.
    pub source: Source,
    /// The key used.
    pub key_pair_id: Arc<str>,
    /// Which cache, if any, answered.
    pub cached: Cached,
}

/// Which cache answered a successful check ([`Verified::cached`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cached {
    /// Neither: the signature was verified.
    No,
    /// The signature cache: this exact signed material verified before; the policy was
    /// decoded and matched again.
    Signature,
    /// The cache of accepted requests: the same URL and signing values passed before; only
    /// the policy's time and IP conditions were checked again.
    Request,
}

/// The signing parameters CloudFront removes from the query.
pub const SIGNING_PARAMS: &[&str] = &[
    "Expires",
    "Policy",
    "Signature",
    "Key-Pair-Id",
    "Hash-Algorithm",
];

fn param_name(pair: &str) -> &str {
    pair.split('=').next().unwrap_or("")
}

/// The query with the signing parameters removed (borrowed when there are none).
pub fn strip_signing_params(query: &str) -> Cow<'_, str> {
    if !query
        .split('&')
        .any(|p| SIGNING_PARAMS.contains(&param_name(p)))
    {
        return Cow::Borrowed(query);
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !SIGNING_PARAMS.contains(&param_name(p)))
        .collect();
    Cow::Owned(kept.join("&"))
}

fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// A signing value's bytes, or `\x01` for a missing one (a value never holds it).
fn present<'b>(x: &'b Option<Cow<'_, str>>) -> &'b [u8] {
    x.as_deref().map_or(b"\x01", str::as_bytes)
}

#[derive(Default)]
struct Values<'a> {
    expires: Option<Cow<'a, str>>,
    policy: Option<Cow<'a, str>>,
    signature: Option<Cow<'a, str>>,
    key_pair_id: Option<Cow<'a, str>>,
    hash: Option<Cow<'a, str>>,
}

impl<'a> Values<'a> {
    fn any(&self) -> bool {
        self.expires.is_some()
            || self.policy.is_some()
            || self.signature.is_some()
            || self.key_pair_id.is_some()
    }

    fn from_query(q: &'a str) -> Self {
        let mut v = Values::default();
        for pair in q.split('&') {
            let (k, val) = pair.split_once('=').unwrap_or((pair, ""));
            let val = percent_decode(val);
            match k {
                "Expires" => v.expires = Some(val),
                "Policy" => v.policy = Some(val),
                "Signature" => v.signature = Some(val),
                "Key-Pair-Id" => v.key_pair_id = Some(val),
                "Hash-Algorithm" => v.hash = Some(val),
                _ => {}
            }
        }
        v
    }

    fn from_cookies(c: &'a str) -> Self {
        let mut v = Values::default();
        for pair in c.split(';') {
            let (k, val) = pair.trim().split_once('=').unwrap_or((pair.trim(), ""));
            let val = Cow::Borrowed(val.trim_matches('"'));
            match k {
                "CloudFront-Expires" => v.expires = Some(val),
                "CloudFront-Policy" => v.policy = Some(val),
                "CloudFront-Signature" => v.signature = Some(val),
                "CloudFront-Key-Pair-Id" => v.key_pair_id = Some(val),
                "CloudFront-Hash-Algorithm" => v.hash = Some(val),
                _ => {}
            }
        }
        v
    }
}

/// Checks `req` against `trusted`, using and filling `cache`.
pub fn verify(
    req: &Request<'_>,
    trusted: &TrustedKeys,
    cache: &VerifyCache,
) -> Result<Verified, Failure> {
    let from_url = req.query.map(Values::from_query).filter(Values::any);
    let (v, source) = match from_url {
        Some(v) => (v, Source::Url),
        None => (
            req.cookies.map(Values::from_cookies).unwrap_or_default(),
            Source::Cookies,
        ),
    };
    // Fast path: this exact request (URL, plus the signing cookies when they carry it) was
    // accepted before, with a key the caller still trusts; only the time and IP conditions
    // can have changed.
    // From cookies, only the five signing values count (a viewer's other cookies change
    // from request to request); a missing one is told apart from an empty one.
    let cookie: [&[u8]; 5] = match source {
        Source::Url => [b""; 5],
        Source::Cookies => [
            present(&v.expires),
            present(&v.policy),
            present(&v.signature),
            present(&v.key_pair_id),
            present(&v.hash),
        ],
    };
    let parts: [&[u8]; 9] = [
        req.scheme.as_bytes(),
        req.host.as_bytes(),
        req.path.as_bytes(),
        req.query.unwrap_or("").as_bytes(),
        cookie[0],
        cookie[1],
        cookie[2],
        cookie[3],
        cookie[4],
    ];
    let slot = VerifyCache::request_slot(&parts);
    if let Some((conditions, key_pair_id)) = cache
        .accepted(slot, &parts)
        .filter(|(_, id)| trusted.keys.contains_key(&**id))
    {
        time_and_ip(&conditions, req)?;
        return Ok(Verified {
            source,
            key_pair_id,
            cached: Cached::Request,
        });
    }
    let where_ = match source {
        Source::Url => "query parameter",
        Source::Cookies => "cookie",
    };
    let key_id = v.key_pair_id.as_deref().unwrap_or("");
    if key_id.is_empty() || key_id.len() > 64 || !key_id.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(fail(
            FailureKind::MissingKey,
            if key_id.is_empty() {
                format!("no Key-Pair-Id {where_}")
            } else {
                format!("Key-Pair-Id {where_} {key_id:.40?} is not a key id")
            },
        ));
    }
    let Some(key) = trusted.keys.get(key_id) else {
        let mut ids: Vec<&str> = trusted.keys.keys().map(String::as_str).collect();
        ids.sort();
        return Err(fail(
            FailureKind::UnknownKey,
            format!(
                "Key-Pair-Id {key_id} is not in the behavior's trusted key groups [{}] (keys: {})",
                trusted.groups.join(", "),
                ids.join(", ")
            ),
        ));
    };
    let sig_text = v.signature.as_deref().unwrap_or("");
    let signature = base64cf::decode(sig_text)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            fail(
                FailureKind::MalformedSignature,
                format!("Signature {where_} {sig_text:.60?} is not CloudFront base64"),
            )
        })?;
    let hash = match v.hash.as_deref() {
        None => HashAlgorithm::Sha1,
        Some(h) => HashAlgorithm::parse(h).ok_or_else(|| {
            fail(
                FailureKind::MalformedPolicy,
                format!("Hash-Algorithm {h:?} is neither SHA1 nor SHA256"),
            )
        })?,
    };
    let base_query = req.query.map(strip_signing_params);
    let base_query = base_query.as_deref().filter(|q| !q.is_empty());
    let url = Url {
        scheme: req.scheme,
        host: req.host,
        path: req.path,
        query: base_query,
    };
    // The signed message and the parsed policy.
    let (message, policy, canned_resource): (Cow<'_, [u8]>, Policy, Option<String>) =
        if let Some(p) = v.policy.as_deref() {
            let bytes = base64cf::decode(p).ok_or_else(|| {
                fail(
                    FailureKind::MalformedPolicy,
                    format!("Policy {where_} is not CloudFront base64"),
                )
            })?;
            let parsed =
                policy::parse(&bytes).map_err(|e| fail(FailureKind::MalformedPolicy, e.0))?;
            (Cow::Owned(bytes), parsed, None)
        } else if let Some(e) = v.expires.as_deref() {
            let expires: u64 = e.parse().map_err(|_| {
                fail(
                    FailureKind::MalformedPolicy,
                    format!("Expires {where_} {e:?} is not epoch seconds"),
                )
            })?;
            let resource = format!(
                "{}://{}{}{}{}",
                req.scheme,
                req.host,
                req.path,
                if base_query.is_some() { "?" } else { "" },
                base_query.unwrap_or("")
            );
            let text = policy::canned(&resource, expires);
            (
                Cow::Owned(text.into_bytes()),
                Policy {
                    resource: None,
                    date_less_than: expires,
                    date_greater_than: None,
                    ip_address: None,
                },
                Some(resource),
            )
        } else {
            return Err(fail(
                FailureKind::MalformedPolicy,
                format!("neither Policy nor Expires {where_}"),
            ));
        };

    // A canned policy's message is rebuilt from the URL, so the signature cache would only
    // repeat the cache of accepted requests (same URL, same signing values): custom
    // policies only.
    let custom = canned_resource.is_none();
    let cached = if custom && cache.check(key_id, hash, &signature, &message, req.now) {
        Cached::Signature
    } else {
        Cached::No
    };
    if cached == Cached::No {
        if !key.verify(hash, &message, &signature) {
            let what = match &canned_resource {
                Some(r) => format!(
                    "the canned policy rebuilt from the request URL ({r}) with Expires {}",
                    policy.date_less_than
                ),
                None => "the custom policy".to_string(),
            };
            return Err(fail(
                FailureKind::BadSignature,
                format!(
                    "the {} {} signature does not verify over {what} with key {key_id} ({})",
                    key.algorithm(),
                    hash.as_str(),
                    String::from_utf8_lossy(&message)
                ),
            ));
        }
        if custom {
            cache.insert(key_id, hash, &signature, &message, policy.date_less_than);
        }
    }

    time_and_ip(&policy.conditions(), req)?;
    if let Some(r) = &policy.resource {
        if !resource::matches(r, &url) {
            return Err(fail(
                FailureKind::ResourceMismatch,
                format!(
                    "Resource {r:?} does not match the request URL {}://{}{}{}{}",
                    url.scheme,
                    url.host,
                    url.path,
                    if url.query.is_some() { "?" } else { "" },
                    url.query.unwrap_or("")
                ),
            ));
        }
    }
    let key_pair_id: Arc<str> = key_id.into();
    cache.accept(slot, &parts, policy.conditions(), key_pair_id.clone());
    Ok(Verified {
        source,
        key_pair_id,
        cached,
    })
}

/// `DateLessThan`, `DateGreaterThan` and `IpAddress`: the conditions that change between two
/// identical requests.
fn time_and_ip(policy: &Conditions, req: &Request<'_>) -> Result<(), Failure> {
    if req.now >= policy.date_less_than {
        return Err(fail(
            FailureKind::Expired,
            format!(
                "DateLessThan {} is {} s before the edge clock {}",
                policy.date_less_than,
                req.now - policy.date_less_than,
                req.now
            ),
        ));
    }
    if let Some(t) = policy.date_greater_than {
        if req.now <= t {
            return Err(fail(
                FailureKind::NotYetValid,
                format!(
                    "DateGreaterThan {t} is {} s after the edge clock {}",
                    t - req.now,
                    req.now
                ),
            ));
        }
    }
    if let Some(net) = policy.ip_address {
        let inside = match req.viewer_ip {
            IpAddr::V4(v4) => net.contains(&v4),
            IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some_and(|v4| net.contains(&v4)),
        };
        if !inside {
            return Err(fail(
                FailureKind::IpMismatch,
                format!("viewer IP {} is outside IpAddress {net}", req.viewer_ip),
            ));
        }
    }
    Ok(())
}
