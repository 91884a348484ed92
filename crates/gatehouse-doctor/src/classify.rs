//! From signals to causes. What separates causes in real reports (cloudfront.md §1, §8, §13):
//! CloudFront's reason line, the signed-URL XML codes, S3's own XML and HTML errors, an origin's
//! own body, the log's detailed result type and the body length. When the signals cannot
//! decide, every remaining candidate is listed, ranked, with the one check that would decide.

use crate::evidence::Evidence;
use gatehouse_model::cause::{self, Cause};
use serde::Serialize;

/// How sure a candidate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The signals name it (a Gatehouse cause header, a unique body or log type).
    Certain,
    /// The most plausible reading of the signals.
    Likely,
    /// Consistent with the signals, less often the reason.
    Possible,
}

/// One possible cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// The catalogue cause.
    #[serde(serialize_with = "ser_cause")]
    pub cause: Cause,
    /// How sure.
    pub confidence: Confidence,
    /// Why this candidate.
    pub why: String,
}

fn ser_cause<S: serde::Serializer>(c: &Cause, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.id())
}

/// The verdict on one response or log line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// Candidates, most likely first.
    pub candidates: Vec<Candidate>,
    /// What was observed.
    pub evidence: Vec<String>,
    /// The one check that would decide between the candidates.
    pub next_check: Option<String>,
}

impl Diagnosis {
    fn add(&mut self, cause: Cause, confidence: Confidence, why: impl Into<String>) {
        if !self.candidates.iter().any(|c| c.cause == cause) {
            self.candidates.push(Candidate {
                cause,
                confidence,
                why: why.into(),
            });
        }
    }

    /// The best candidate.
    pub fn top(&self) -> Option<&Candidate> {
        self.candidates.first()
    }

    fn sort(&mut self) {
        self.candidates.sort_by_key(|c| c.confidence);
    }
}

const SIGNED_ACCESS_DENIED: [(Cause, &str); 4] = [
    (
        Cause::SignedResourceMismatch,
        "most often the URL was re-encoded after signing (space, +, %20, a query parameter added)",
    ),
    (
        Cause::SignedExpired,
        "the URL's Expires / DateLessThan may have passed",
    ),
    (
        Cause::SignedBadSignature,
        "the key or hash algorithm may not match the Key-Pair-Id",
    ),
    (
        Cause::SignedIpMismatch,
        "the policy's IpAddress may not contain the viewer's public IP",
    ),
];

const SIGNED_NEXT: &str = "decode the URL's Policy (or read Expires) and compare: the Resource with the exact URL requested, DateLessThan with the current time, IpAddress with the viewer's public IP; or run `gatehouse doctor probe` against Gatehouse with the same config to get the exact cause";

/// Diagnoses a response (or pasted text).
pub fn from_response(e: &Evidence) -> Diagnosis {
    let mut d = Diagnosis::default();
    if let Some(s) = e.status {
        d.evidence.push(format!("status {s}"));
    }
    if let Some(s) = &e.server {
        d.evidence.push(format!("Server: {s}"));
    }
    if let Some(x) = &e.x_cache {
        d.evidence.push(format!("X-Cache: {x}"));
    }
    if let Some(id) = &e.request_id {
        d.evidence.push(format!("request id {id}"));
    }
    if let Some(c) = e.gatehouse_cause.as_deref().and_then(Cause::from_id) {
        d.evidence.push(format!("X-Gatehouse-Cause: {}", c.id()));
        d.add(
            c,
            Confidence::Certain,
            "Gatehouse named the cause in X-Gatehouse-Cause",
        );
        return d;
    }

    // The signed-URL XML (no RequestId: CloudFront's own, not S3's).
    if let Some(code) = e.xml_code() {
        let msg = e.xml_message().unwrap_or("");
        d.evidence.push(format!("XML error {code}: {msg}"));
        let s3 = e.is_s3();
        match (code, s3) {
            ("MissingKey", false) => d.add(Cause::SignedMissingKey, Confidence::Certain, "CloudFront's signed-URL XML MissingKey: no Key-Pair-Id in the URL or the CloudFront-Key-Pair-Id cookie (or the cookies were not sent)"),
            ("InvalidKey", false) => d.add(Cause::SignedUnknownKey, Confidence::Certain, "CloudFront's InvalidKey / Unknown Key: the Key-Pair-Id is not in this behavior's trusted key groups"),
            ("MalformedSignature", false) => d.add(Cause::SignedMalformedSignature, Confidence::Certain, "CloudFront's MalformedSignature: the Signature is not CloudFront base64"),
            ("MalformedPolicy", false) => d.add(Cause::SignedMalformedPolicy, Confidence::Certain, "CloudFront's MalformedPolicy"),
            ("AccessDenied", false) if msg == "Access denied" => {
                d.evidence.push("'Access denied' with a lower-case d and no RequestId: CloudFront's signed-URL check, not S3".into());
                for (i, (c, why)) in SIGNED_ACCESS_DENIED.iter().enumerate() {
                    d.add(*c, if i == 0 { Confidence::Likely } else { Confidence::Possible }, *why);
                }
                d.next_check = Some(SIGNED_NEXT.into());
            }
            ("SignatureDoesNotMatch", _) | ("AuthorizationHeaderMalformed", _) | ("InvalidRequest", true) => {
                d.add(Cause::S3SignatureMismatch, Confidence::Likely, "S3 refused the request signature (origin access control, Region, or a key with + or spaces)");
            }
            ("AccessDenied", _) | ("AllAccessDisabled", _) => {
                d.add(Cause::S3AccessDenied, Confidence::Likely, "S3's own AccessDenied (RequestId/HostId, Server: AmazonS3) passed through by CloudFront");
                d.next_check = Some("S3 says AccessDenied for a missing object too when the caller lacks s3:ListBucket: check whether the object key exists, then the bucket policy grant to cloudfront.amazonaws.com (AWS:SourceArn = the distribution ARN) and the origin access control".into());
            }
            ("NoSuchKey", _) => d.add(Cause::OriginErrorStatus, Confidence::Likely, "S3 says the object does not exist"),
            _ => {}
        }
        if !d.candidates.is_empty() {
            d.sort();
            return d;
        }
    }

    // S3 website endpoint HTML error.
    if e.body.contains("Code: AccessDenied") && e.body.contains("RequestId:") {
        d.evidence.push("S3 website endpoint's HTML 403".into());
        d.add(Cause::S3AccessDenied, Confidence::Likely, "the S3 website endpoint refused: website endpoints serve only public objects (bucket policy must allow public s3:GetObject, Block Public Access off)");
        return d;
    }

    // CloudFront's generated page.
    if e.is_cloudfront_page() {
        let reason = [
            (cause::REASON_GEO, Cause::GeoBlocked),
            (cause::REASON_METHOD, Cause::MethodNotAllowed),
            (cause::REASON_WAF, Cause::WafBlocked),
            (cause::REASON_DNS, Cause::OriginDnsError),
            (cause::REASON_CONNECT, Cause::OriginConnectError),
            (cause::REASON_TIMEOUT, Cause::OriginTimeout),
            (cause::REASON_CLOSED, Cause::OriginClosed),
        ]
        .into_iter()
        .find(|(r, _)| e.body.contains(&r[..r.len() - 1]));
        if let Some((r, c)) = reason {
            d.evidence
                .push(format!("CloudFront's page with the reason \"{r}\""));
            d.add(
                c,
                Confidence::Certain,
                format!("the reason line \"{r}\" is specific to this cause"),
            );
            if c == Cause::WafBlocked {
                d.next_check = Some("every WAF rule gives this same page: look up this request id in the WAF logs (httpRequest.requestId) or sampled requests to find the terminating rule".into());
            }
            if c == Cause::OriginClosed {
                d.add(
                    Cause::OriginInvalidResponse,
                    Confidence::Possible,
                    "Gatehouse uses the same page when the origin's answer is not HTTP",
                );
            }
            return d;
        }
        if e.body.contains(cause::REASON_BAD_REQUEST) || e.body.contains("Bad request") {
            d.evidence
                .push("CloudFront's page with the reason \"Bad request.\"".into());
            if e.status == Some(400) {
                d.add(Cause::MalformedRequest, Confidence::Likely, "a 400 with Bad request.: the request itself was malformed (no Host, a GET with a body)");
            } else {
                d.add(Cause::AliasNotConfigured, Confidence::Likely, "the Host is not an alternate domain name (CNAME) of any distribution — the classic Bad request.");
                d.add(
                    Cause::HttpsOnly,
                    Confidence::Possible,
                    "an http:// request on a behavior whose ViewerProtocolPolicy is https-only",
                );
                d.add(
                    Cause::DistributionDisabled,
                    Confidence::Possible,
                    "the distribution that owns the Host is disabled",
                );
                d.next_check = Some("check that the exact hostname is in the distribution's Aliases (and that DNS points to it); if it is, retry the same URL with https://".into());
            }
            return d;
        }
    }

    match e.status {
        Some(301) | Some(307) if e.x_cache.as_deref().is_some_and(|x| x.starts_with("Redirect")) => {
            d.add(Cause::RedirectToHttps, Confidence::Certain, "X-Cache: Redirect from cloudfront: the behavior's ViewerProtocolPolicy is redirect-to-https");
        }
        Some(421) => d.add(Cause::MisdirectedRequest, Confidence::Certain, "421: the Host's distribution does not belong with the TLS connection's certificate (SNI and Host differ)"),
        Some(413) => d.add(Cause::RequestTooLarge, Confidence::Likely, "413: URL over 8,192 bytes or headers over 20,480 bytes"),
        Some(403) => {
            if e.body.contains("\"message\":\"Forbidden\"") || e.body.contains("\"message\": \"Forbidden\"") {
                d.evidence.push("API Gateway's {\"message\":\"Forbidden\"} body".into());
                d.add(Cause::OriginDenied, Confidence::Likely, "the origin (API Gateway) refused: wrong stage/path, missing API key, resource policy, or a private API");
            } else if e.server.as_deref().is_some_and(|s| !s.eq_ignore_ascii_case("CloudFront")) && e.via_cloudfront() {
                d.add(Cause::OriginDenied, Confidence::Likely, "the origin's own 403 passed through (its Server header is not CloudFront)");
            } else if e.via_cloudfront() {
                d.add(Cause::OriginDenied, Confidence::Possible, "an origin 403 passed through");
                d.add(Cause::WafBlocked, Confidence::Possible, "a WAF block with a custom response body");
                d.next_check = Some("request the origin directly (`gatehouse doctor probe --direct-origin`) and compare; check the WAF logs for this request id".into());
            } else {
                d.add(Cause::OriginDenied, Confidence::Possible, "no CloudFront headers: the answer may not have come through CloudFront at all");
            }
        }
        Some(502) | Some(504) if e.via_cloudfront() => {
            d.add(Cause::OriginConnectError, Confidence::Possible, "a 5xx from CloudFront without its page text");
        }
        _ => {}
    }
    if e.x_cache
        .as_deref()
        .is_some_and(|x| x.to_ascii_lowercase().starts_with("error"))
        && d.candidates.is_empty()
        && e.status.is_some_and(|s| s >= 400)
    {
        d.add(
            Cause::OriginErrorStatus,
            Confidence::Possible,
            "an error status with X-Cache: Error from cloudfront",
        );
    }
    d.sort();
    d
}

/// Expected body length of a generated XML error for `cause`.
fn xml_len(c: Cause) -> Option<u64> {
    match c.body() {
        cause::BodyKind::SignedXml { code, message } => Some(
            ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code></Code><Message></Message></Error>".len()
                + code.len()
                + message.len()) as u64,
        ),
        _ => None,
    }
}

/// Diagnoses a log record given as `(field name, decoded value)` lookups (standard or JSON).
pub fn from_log(get: &dyn Fn(&str) -> Option<String>) -> Diagnosis {
    let mut d = Diagnosis::default();
    if let Some(c) = get("cause")
        .filter(|c| c != "-")
        .and_then(|c| Cause::from_id(&c))
    {
        d.evidence
            .push(format!("Gatehouse JSON log cause {}", c.id()));
        if let Some(detail) = get("cause-detail").filter(|x| x != "-") {
            d.evidence.push(format!("detail: {detail}"));
        }
        d.add(
            c,
            Confidence::Certain,
            "Gatehouse's JSON log names the cause",
        );
        return d;
    }
    let status: Option<u16> = get("sc-status").and_then(|s| s.parse().ok());
    let detailed = get("x-edge-detailed-result-type").unwrap_or_default();
    let ctype = get("sc-content-type").unwrap_or_default();
    let len: Option<u64> = get("sc-content-len").and_then(|s| s.parse().ok());
    let protocol = get("cs-protocol").unwrap_or_default();
    d.evidence.push(format!(
        "sc-status {} x-edge-detailed-result-type {} sc-content-type {} sc-content-len {}",
        status.map_or("-".into(), |s| s.to_string()),
        detailed,
        ctype,
        len.map_or("-".into(), |l| l.to_string())
    ));
    let certain =
        |d: &mut Diagnosis, c: Cause, why: &str| d.add(c, Confidence::Certain, why.to_string());
    match detailed.as_str() {
        "ClientGeoBlocked" => certain(
            &mut d,
            Cause::GeoBlocked,
            "ClientGeoBlocked is logged only for geo restriction",
        ),
        "InvalidRequestMethod" => certain(
            &mut d,
            Cause::MethodNotAllowed,
            "InvalidRequestMethod: the method is not in AllowedMethods",
        ),
        "OriginDnsError" => certain(&mut d, Cause::OriginDnsError, "OriginDnsError"),
        "OriginConnectError" => certain(&mut d, Cause::OriginConnectError, "OriginConnectError"),
        "OriginCommError" => certain(
            &mut d,
            Cause::OriginTimeout,
            "OriginCommError: the origin did not answer in time",
        ),
        "OriginReadError" => certain(&mut d, Cause::OriginClosed, "OriginReadError"),
        "OriginInvalidResponseError" => certain(
            &mut d,
            Cause::OriginInvalidResponse,
            "OriginInvalidResponseError",
        ),
        "InvalidRequestCertificate" => certain(
            &mut d,
            Cause::MisdirectedRequest,
            "InvalidRequestCertificate",
        ),
        "Redirect" => certain(
            &mut d,
            Cause::RedirectToHttps,
            "a Redirect result: ViewerProtocolPolicy redirect-to-https",
        ),
        "InvalidRequest" => {
            if protocol == "http" && status == Some(403) {
                d.add(Cause::HttpsOnly, Confidence::Likely, "InvalidRequest with the Bad request. page over http: likely an https-only behavior");
            }
            d.add(
                Cause::MalformedRequest,
                Confidence::Possible,
                "InvalidRequest: the Bad request. page on a distribution that owns the Host",
            );
            d.add(
                Cause::DistributionDisabled,
                Confidence::Possible,
                "a disabled distribution answers Bad request.",
            );
        }
        _ => {}
    }
    if !d.candidates.is_empty() {
        d.sort();
        return d;
    }
    if status == Some(403) {
        if ctype.starts_with("text/xml") {
            let exact: Vec<Cause> = Cause::ALL
                .iter()
                .copied()
                .filter(|c| len.is_some() && xml_len(*c) == len)
                .collect();
            match exact.as_slice() {
                [Cause::SignedMissingKey]
                | [Cause::SignedUnknownKey]
                | [Cause::SignedMalformedSignature]
                | [Cause::SignedMalformedPolicy] => {
                    d.add(
                        exact[0],
                        Confidence::Certain,
                        format!(
                            "a text/xml 403 of exactly {} bytes is CloudFront's {} XML",
                            len.unwrap_or(0),
                            exact[0].id()
                        ),
                    );
                }
                [] => {}
                _ => {
                    for (i, (c, why)) in SIGNED_ACCESS_DENIED.iter().enumerate() {
                        d.add(
                            *c,
                            if i == 0 {
                                Confidence::Likely
                            } else {
                                Confidence::Possible
                            },
                            *why,
                        );
                    }
                    d.next_check = Some(SIGNED_NEXT.into());
                }
            }
        } else if ctype.starts_with("application/xml") {
            d.add(
                Cause::S3AccessDenied,
                Confidence::Likely,
                "an application/xml 403 is S3's own error passed through",
            );
            d.add(
                Cause::OriginDenied,
                Confidence::Possible,
                "or another XML origin refused",
            );
        } else if ctype.starts_with("text/html") && len == Some(919) {
            d.add(
                Cause::WafBlocked,
                Confidence::Likely,
                "a 919-byte text/html 403 is CloudFront's Request blocked. page (WAF)",
            );
            d.next_check = Some("look up this request id in the WAF logs to name the rule".into());
        } else if ctype.starts_with("text/html") && len == Some(915) {
            d.add(
                Cause::AliasNotConfigured,
                Confidence::Possible,
                "a 915-byte page is the Bad request. page",
            );
            d.add(
                Cause::HttpsOnly,
                Confidence::Possible,
                "an https-only behavior refusing http",
            );
        } else {
            d.add(
                Cause::OriginDenied,
                Confidence::Likely,
                "a 403 with a body CloudFront does not generate: the origin's own",
            );
            d.add(
                Cause::WafBlocked,
                Confidence::Possible,
                "or a WAF rule with a custom response",
            );
            d.next_check = Some("compare time-taken with the distribution's usual: a response much faster than the origin normally answers did not come from the origin".into());
        }
    } else if let Some(s) = status.filter(|s| *s >= 400) {
        d.add(
            Cause::OriginErrorStatus,
            Confidence::Possible,
            format!("status {s} from the origin"),
        );
    }
    d.sort();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_lengths() {
        assert_eq!(xml_len(Cause::SignedMissingKey), Some(146));
    }
}
