//! Signing URLs and cookies the way AWS's tools print them (`gatehouse sign`).
//!
//! Canned: `…?Expires=N&Signature=S&Key-Pair-Id=K` (botocore's order); custom:
//! `…?Policy=P&Signature=S&Key-Pair-Id=K`; `&Hash-Algorithm=SHA256` is appended only when not
//! SHA-1, as `aws cloudfront sign` does. Cookies are `CloudFront-Expires|Policy`,
//! `CloudFront-Signature`, `CloudFront-Key-Pair-Id` (+ `CloudFront-Hash-Algorithm`).

use crate::base64cf;
use crate::keys::{HashAlgorithm, KeyError, PrivateKey};
use crate::policy;

/// What to sign.
#[derive(Debug, Clone)]
pub struct SignRequest<'a> {
    /// The URL (for URLs) or the resource (for cookies).
    pub url: &'a str,
    /// The key id.
    pub key_pair_id: &'a str,
    /// DateLessThan, epoch seconds.
    pub date_less_than: u64,
    /// DateGreaterThan (makes the policy custom).
    pub date_greater_than: Option<u64>,
    /// IpAddress CIDR (makes the policy custom).
    pub ip_address: Option<&'a str>,
    /// A Resource other than the URL (makes the policy custom).
    pub policy_resource: Option<&'a str>,
    /// Hash algorithm.
    pub hash: HashAlgorithm,
}

impl SignRequest<'_> {
    fn is_custom(&self) -> bool {
        self.date_greater_than.is_some()
            || self.ip_address.is_some()
            || self.policy_resource.is_some_and(|r| r != self.url)
            || self.url.contains('*')
    }

    fn policy_text(&self) -> String {
        if self.is_custom() {
            policy::custom(
                self.policy_resource.unwrap_or(self.url),
                self.date_less_than,
                self.date_greater_than,
                self.ip_address,
            )
        } else {
            policy::canned(self.url, self.date_less_than)
        }
    }
}

/// A signed URL.
pub fn sign_url(req: &SignRequest<'_>, key: &PrivateKey) -> Result<String, KeyError> {
    let text = req.policy_text();
    let sig = base64cf::encode(&key.sign(req.hash, text.as_bytes())?);
    let sep = if req.url.contains('?') { '&' } else { '?' };
    let mut out = if req.is_custom() {
        format!(
            "{}{sep}Policy={}&Signature={sig}&Key-Pair-Id={}",
            req.url,
            base64cf::encode(text.as_bytes()),
            req.key_pair_id
        )
    } else {
        format!(
            "{}{sep}Expires={}&Signature={sig}&Key-Pair-Id={}",
            req.url, req.date_less_than, req.key_pair_id
        )
    };
    if req.hash != HashAlgorithm::Sha1 {
        out.push_str("&Hash-Algorithm=");
        out.push_str(req.hash.as_str());
    }
    Ok(out)
}

/// Signed cookies as `(name, value)` pairs, in AWS's order.
pub fn sign_cookies(
    req: &SignRequest<'_>,
    key: &PrivateKey,
) -> Result<Vec<(String, String)>, KeyError> {
    let text = req.policy_text();
    let sig = base64cf::encode(&key.sign(req.hash, text.as_bytes())?);
    let mut out = Vec::new();
    if req.is_custom() {
        out.push((
            "CloudFront-Policy".to_string(),
            base64cf::encode(text.as_bytes()),
        ));
    } else {
        out.push((
            "CloudFront-Expires".to_string(),
            req.date_less_than.to_string(),
        ));
    }
    out.push(("CloudFront-Signature".to_string(), sig));
    out.push((
        "CloudFront-Key-Pair-Id".to_string(),
        req.key_pair_id.to_string(),
    ));
    if req.hash != HashAlgorithm::Sha1 {
        out.push((
            "CloudFront-Hash-Algorithm".to_string(),
            req.hash.as_str().to_string(),
        ));
    }
    Ok(out)
}
