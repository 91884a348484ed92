//! The cause catalogue: every reason the edge answers anything but the object.
//!
//! One enum, shared by the edge (which emits a [`Cause`] with every denial), the logs (which
//! carry its [`Cause::id`]) and the doctor (which explains it with [`Cause::fix`]). Each entry
//! knows its default status, the body CloudFront sends, the three log result types and the
//! fix text. Ids are stable, kebab-case and never reused.
//!
//! Where `cloudfront.md` marks a value UNCONFIRMED the choice made here is listed in
//! `docs/compatibility.md`; changing it is a one-line edit in this file.

use std::fmt;

/// What CloudFront puts in the body of a response for a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// The "The request could not be satisfied" HTML page with this reason line.
    ErrorPage {
        /// The reason line, ending in a period.
        reason: &'static str,
    },
    /// The nginx-style page CloudFront uses for redirects, 421 and 413 (`<title>{status}</title>`).
    StatusPage,
    /// The one-line signed URL / cookie XML error.
    SignedXml {
        /// `<Code>` value.
        code: &'static str,
        /// `<Message>` value.
        message: &'static str,
    },
    /// The origin's own response passes through unchanged.
    FromOrigin,
    /// A WAF block: the default `Request blocked.` page unless the rule has a custom response.
    Waf,
}

/// The three result-type fields of a CloudFront access log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultTypes {
    /// `x-edge-result-type`.
    pub edge: &'static str,
    /// `x-edge-response-result-type`.
    pub response: &'static str,
    /// `x-edge-detailed-result-type`.
    pub detailed: &'static str,
}

const fn rt(edge: &'static str, detailed: &'static str) -> ResultTypes {
    ResultTypes {
        edge,
        response: edge,
        detailed,
    }
}

/// The reason line for a Host that no distribution owns (also used for 400s).
pub const REASON_BAD_REQUEST: &str = "Bad request.";
/// The reason line of a geo-restriction refusal.
pub const REASON_GEO: &str =
    "The Amazon CloudFront distribution is configured to block access from your country.";
/// The reason line of a method outside `AllowedMethods` (note CloudFront's spelling "cachable").
pub const REASON_METHOD: &str = "This distribution is not configured to allow the HTTP request method that was used for this request. The distribution supports only cachable requests.";
/// The reason line of a default WAF block.
pub const REASON_WAF: &str = "Request blocked.";
/// The reason line of an origin connect failure.
pub const REASON_CONNECT: &str = "CloudFront wasn't able to connect to the origin.";
/// The reason line of an origin DNS failure.
pub const REASON_DNS: &str = "CloudFront wasn't able to resolve the origin domain name.";
/// The reason line of an origin that closed the connection.
pub const REASON_CLOSED: &str = "The origin closed the connection.";
/// The reason line of an origin timeout (504).
pub const REASON_TIMEOUT: &str = "CloudFront attempted to establish a connection with the origin, but either the attempt failed or the origin closed the connection.";

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $status:literal, $body:expr, $rt:expr, $summary:literal, $fix:literal; )*) => {
        /// A machine-readable reason for a response other than the object itself.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Cause {
            $( $(#[$doc])* $variant, )*
        }

        impl Cause {
            /// Every cause, in catalogue order.
            pub const ALL: &'static [Cause] = &[ $( Cause::$variant, )* ];

            /// The stable kebab-case id (`geo-blocked`), used in logs, headers and the doctor.
            pub const fn id(self) -> &'static str {
                match self { $( Cause::$variant => $id, )* }
            }

            /// The status CloudFront answers with for this cause (for `FromOrigin` causes, the
            /// status the origin typically sent).
            pub const fn status(self) -> u16 {
                match self { $( Cause::$variant => $status, )* }
            }

            /// What the body of the response is.
            pub const fn body(self) -> BodyKind {
                match self { $( Cause::$variant => $body, )* }
            }

            /// The access-log result types written for this cause.
            pub const fn result_types(self) -> ResultTypes {
                match self { $( Cause::$variant => $rt, )* }
            }

            /// One sentence saying what happened.
            pub const fn summary(self) -> &'static str {
                match self { $( Cause::$variant => $summary, )* }
            }

            /// What to change to make the request succeed (generic; the doctor adds specifics).
            pub const fn fix(self) -> &'static str {
                match self { $( Cause::$variant => $fix, )* }
            }
        }
    };
}

catalogue! {
    /// The Host is not an alias or default domain of any distribution.
    AliasNotConfigured = "alias-not-configured", 403,
        BodyKind::ErrorPage { reason: REASON_BAD_REQUEST }, rt("Error", "InvalidRequest"),
        "The Host header is not an alternate domain name (CNAME) or default domain of any distribution.",
        "Add the hostname to the Aliases of the distribution that should serve it (with a certificate covering it), or use the distribution's default domain.";
    /// The Host's distribution has `Enabled: false`.
    DistributionDisabled = "distribution-disabled", 403,
        BodyKind::ErrorPage { reason: REASON_BAD_REQUEST }, rt("Error", "InvalidRequest"),
        "The distribution that owns this Host is disabled (Enabled: false).",
        "Set Enabled to true in the distribution config.";
    /// HTTP request on an `https-only` behaviour.
    HttpsOnly = "https-only", 403,
        BodyKind::ErrorPage { reason: REASON_BAD_REQUEST }, rt("Error", "InvalidRequest"),
        "The request used HTTP on a cache behavior whose ViewerProtocolPolicy is https-only.",
        "Request the URL with https://, or set the behavior's ViewerProtocolPolicy to redirect-to-https or allow-all.";
    /// HTTP request on a `redirect-to-https` behaviour.
    RedirectToHttps = "redirect-to-https", 301,
        BodyKind::StatusPage, rt("Redirect", "Redirect"),
        "The request used HTTP on a cache behavior whose ViewerProtocolPolicy is redirect-to-https.",
        "Follow the redirect or link to the https:// URL directly.";
    /// The method is not in the behaviour's `AllowedMethods`.
    MethodNotAllowed = "method-not-allowed", 403,
        BodyKind::ErrorPage { reason: REASON_METHOD }, rt("Error", "InvalidRequestMethod"),
        "The HTTP method is not in the cache behavior's AllowedMethods.",
        "Set the behavior's AllowedMethods to GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE (all seven) if the origin must receive this method.";
    /// The viewer's country is refused by `Restrictions.GeoRestriction`.
    GeoBlocked = "geo-blocked", 403,
        BodyKind::ErrorPage { reason: REASON_GEO }, rt("Error", "ClientGeoBlocked"),
        "The viewer's country is refused by the distribution's geographic restriction.",
        "Add the country to the whitelist (or remove it from the blacklist) in Restrictions.GeoRestriction.";
    /// A WebACL rule (or the default action) blocked the request.
    WafBlocked = "waf-blocked", 403,
        BodyKind::Waf, rt("Error", "Error"),
        "An AWS WAF web ACL rule (or its default action) blocked the request.",
        "Find the terminating rule in the WAF logs for this request id and change the rule, its scope-down statement or its action.";
    /// No Key-Pair-Id in the URL or cookies.
    SignedMissingKey = "signed-missing-key", 403,
        BodyKind::SignedXml { code: "MissingKey", message: "Missing Key-Pair-Id query parameter or cookie value" },
        rt("Error", "Error"),
        "The behavior requires signed URLs or cookies and the request carried no Key-Pair-Id.",
        "Sign the URL (or set the CloudFront-* cookies) with a key from one of the behavior's trusted key groups.";
    /// The Key-Pair-Id is not in the behaviour's trusted key groups.
    SignedUnknownKey = "signed-unknown-key", 403,
        BodyKind::SignedXml { code: "InvalidKey", message: "Unknown Key" }, rt("Error", "Error"),
        "The Key-Pair-Id is not a public key of any key group trusted by this cache behavior.",
        "Sign with a key whose id is in the behavior's TrustedKeyGroups, or add the key to one of those key groups.";
    /// The signature is not decodable.
    SignedMalformedSignature = "signed-malformed-signature", 403,
        BodyKind::SignedXml { code: "MalformedSignature", message: "Could not unencode Signature" },
        rt("Error", "Error"),
        "The Signature value is not valid CloudFront base64 (- _ ~ alphabet).",
        "Do not re-encode the signed URL; CloudFront's base64 uses - _ ~ instead of + = /.";
    /// The policy is not decodable or invalid.
    SignedMalformedPolicy = "signed-malformed-policy", 403,
        BodyKind::SignedXml { code: "MalformedPolicy", message: "Malformed Policy" }, rt("Error", "Error"),
        "The Policy is not decodable, not valid policy JSON, or lacks DateLessThan.",
        "Build the policy with an AWS signer (one statement, Resource, DateLessThan as AWS:EpochTime).";
    /// DateLessThan has passed.
    SignedExpired = "signed-expired", 403,
        BodyKind::SignedXml { code: "AccessDenied", message: "Access denied" }, rt("Error", "Error"),
        "The signed URL or cookie has expired (DateLessThan is in the past by the edge's clock).",
        "Sign a new URL with a later expiry; check the signer's clock and timezone.";
    /// DateGreaterThan has not been reached.
    SignedNotYetValid = "signed-not-yet-valid", 403,
        BodyKind::SignedXml { code: "AccessDenied", message: "Access denied" }, rt("Error", "Error"),
        "The custom policy's DateGreaterThan is still in the future by the edge's clock.",
        "Wait until the start time, or sign without DateGreaterThan.";
    /// The viewer IP is outside the policy's IpAddress.
    SignedIpMismatch = "signed-ip-mismatch", 403,
        BodyKind::SignedXml { code: "AccessDenied", message: "Access denied" }, rt("Error", "Error"),
        "The viewer's IP address is outside the policy's IpAddress (AWS:SourceIp) range.",
        "Sign for the viewer's public IP (as CloudFront sees it), or drop the IpAddress condition.";
    /// The URL does not match the policy's Resource.
    SignedResourceMismatch = "signed-resource-mismatch", 403,
        BodyKind::SignedXml { code: "AccessDenied", message: "Access denied" }, rt("Error", "Error"),
        "The request URL does not match the policy's Resource (most often a URL re-encoded after signing).",
        "Sign exactly the URL that is requested (same scheme, host, path encoding and query), or use a wildcard Resource.";
    /// The signature does not verify.
    SignedBadSignature = "signed-bad-signature", 403,
        BodyKind::SignedXml { code: "AccessDenied", message: "Access denied" }, rt("Error", "Error"),
        "The signature does not verify against the public key named by Key-Pair-Id.",
        "Sign with the private key matching that public key, and the same hash algorithm (Hash-Algorithm).";
    /// A custom origin answered 403.
    OriginDenied = "origin-denied", 403,
        BodyKind::FromOrigin, rt("Error", "Error"),
        "The origin itself answered 403; CloudFront passed its response through.",
        "Look at the origin: its access rules, firewall or authentication refused the request CloudFront sent.";
    /// An origin answered another 4xx/5xx that was passed through.
    OriginErrorStatus = "origin-error-status", 500,
        BodyKind::FromOrigin, rt("Error", "Error"),
        "The origin answered with an error status (other than 403) that was passed through.",
        "Look at the origin's logs for this request (X-Amz-Cf-Id is sent to the origin).";
    /// S3 answered AccessDenied.
    S3AccessDenied = "s3-access-denied", 403,
        BodyKind::FromOrigin, rt("Error", "Error"),
        "The S3 origin answered AccessDenied (no OAC signature, not granted, or a missing object without s3:ListBucket).",
        "Attach an origin access control and grant s3:GetObject (and s3:ListBucket for honest 404s) to cloudfront.amazonaws.com for this distribution.";
    /// S3 rejected the OAC signature.
    S3SignatureMismatch = "s3-signature-mismatch", 403,
        BodyKind::FromOrigin, rt("Error", "Error"),
        "The S3 origin rejected the request signature (region, key or encoding).",
        "Check the bucket's Region in the origin domain name and the OAC signing settings.";
    /// TCP or TLS connection to the origin failed.
    OriginConnectError = "origin-connect-error", 502,
        BodyKind::ErrorPage { reason: REASON_CONNECT }, rt("Error", "OriginConnectError"),
        "CloudFront could not open a TCP/TLS connection to the origin.",
        "Check the origin's DomainName, HTTPPort/HTTPSPort, OriginProtocolPolicy and its certificate.";
    /// The origin's domain name did not resolve.
    OriginDnsError = "origin-dns-error", 502,
        BodyKind::ErrorPage { reason: REASON_DNS }, rt("Error", "OriginDnsError"),
        "The origin's domain name could not be resolved.",
        "Fix the origin DomainName or its DNS records.";
    /// The origin did not answer in time.
    OriginTimeout = "origin-timeout", 504,
        BodyKind::ErrorPage { reason: REASON_TIMEOUT }, rt("Error", "OriginCommError"),
        "The origin did not answer within ConnectionTimeout x ConnectionAttempts or OriginReadTimeout.",
        "Make the origin answer faster or raise OriginReadTimeout / ConnectionTimeout.";
    /// The origin closed the connection before a complete response.
    OriginClosed = "origin-closed", 502,
        BodyKind::ErrorPage { reason: REASON_CLOSED }, rt("Error", "OriginReadError"),
        "The origin closed the connection before sending a complete response.",
        "Check the origin for crashes, keep-alive timeouts shorter than OriginKeepaliveTimeout, or resets.";
    /// The origin sent something that is not valid HTTP.
    OriginInvalidResponse = "origin-invalid-response", 502,
        BodyKind::ErrorPage { reason: REASON_CLOSED }, rt("Error", "OriginInvalidResponseError"),
        "The origin's response was not valid HTTP/1.1.",
        "Check that the origin speaks HTTP on the configured port and protocol (not TLS on an http-only port).";
    /// Request line + headers or URL too large.
    RequestTooLarge = "request-too-large", 413,
        BodyKind::StatusPage, rt("Error", "InvalidRequestHeader"),
        "The request's URL is longer than 8,192 bytes or its request line and headers exceed 20,480 bytes.",
        "Shorten the URL, the cookies or the headers.";
    /// The request's Host is not covered by the TLS connection's certificate.
    MisdirectedRequest = "misdirected-request", 421,
        BodyKind::StatusPage, rt("Error", "InvalidRequestCertificate"),
        "The Host's distribution is not covered by the certificate of the TLS connection (domain fronting).",
        "Send the Host in the TLS SNI as well, or attach a certificate covering the alias.";
    /// The request was malformed (bad Host, absolute-form mismatch…).
    MalformedRequest = "malformed-request", 400,
        BodyKind::ErrorPage { reason: REASON_BAD_REQUEST }, rt("Error", "InvalidRequest"),
        "The request was malformed (no Host, invalid Host, or a GET/HEAD with a body).",
        "Send a well-formed HTTP request with a Host header.";
    /// An internal failure of the edge while handling the request.
    InternalError = "internal-error", 502,
        BodyKind::ErrorPage { reason: REASON_CLOSED }, rt("Error", "Error"),
        "The edge failed while handling the request (a bug; see the edge's log).",
        "Report it with the request id; the edge kept running.";
}

impl Cause {
    /// Looks a cause up by its id.
    pub fn from_id(id: &str) -> Option<Cause> {
        Cause::ALL.iter().copied().find(|c| c.id() == id)
    }

    /// Whether the edge itself generated the response (as opposed to passing the origin's through).
    pub const fn is_generated(self) -> bool {
        !matches!(self.body(), BodyKind::FromOrigin)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_kebab_case_and_round_trip() {
        let mut seen = HashSet::new();
        for &c in Cause::ALL {
            assert!(seen.insert(c.id()), "duplicate id {}", c.id());
            assert!(c
                .id()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            assert_eq!(Cause::from_id(c.id()), Some(c));
        }
        assert_eq!(Cause::from_id("nope"), None);
    }

    #[test]
    fn architecture_ids_exist() {
        for id in [
            "alias-not-configured",
            "distribution-disabled",
            "https-only",
            "redirect-to-https",
            "method-not-allowed",
            "geo-blocked",
            "waf-blocked",
            "signed-missing-key",
            "signed-unknown-key",
            "signed-malformed-signature",
            "signed-malformed-policy",
            "signed-expired",
            "signed-not-yet-valid",
            "signed-ip-mismatch",
            "signed-resource-mismatch",
            "signed-bad-signature",
            "origin-denied",
            "s3-access-denied",
            "s3-signature-mismatch",
            "origin-connect-error",
            "origin-dns-error",
            "origin-timeout",
            "origin-closed",
            "origin-invalid-response",
        ] {
            assert!(Cause::from_id(id).is_some(), "{id} missing");
        }
    }

    #[test]
    fn confirmed_log_values() {
        assert_eq!(
            Cause::GeoBlocked.result_types().detailed,
            "ClientGeoBlocked"
        );
        assert_eq!(
            Cause::MethodNotAllowed.result_types().detailed,
            "InvalidRequestMethod"
        );
        assert_eq!(Cause::WafBlocked.result_types().detailed, "Error");
        assert_eq!(Cause::RedirectToHttps.result_types().edge, "Redirect");
        assert_eq!(REASON_METHOD.len(), 150);
    }
}

#[cfg(test)]
mod docs_tests {
    use super::Cause;

    #[test]
    fn docs_causes_md_lists_every_cause_with_its_status() {
        let page =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/causes.md"))
                .expect("docs/causes.md exists");
        for c in Cause::ALL {
            let row = format!("| `{}` | {} |", c.id(), c.status());
            assert!(
                page.contains(&row),
                "docs/causes.md lacks the row for {}",
                c.id()
            );
        }
    }
}
