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

    /// Puts `cause` first with `confidence` (the others become possible; with certainty they
    /// go), and records why.
    pub fn promote(&mut self, cause: Cause, confidence: Confidence, why: String) {
        self.evidence.push(why.clone());
        if confidence == Confidence::Certain {
            self.candidates.clear();
        }
        self.candidates.retain(|c| c.cause != cause);
        for c in &mut self.candidates {
            c.confidence = c.confidence.max(Confidence::Possible);
        }
        self.candidates.insert(
            0,
            Candidate {
                cause,
                confidence,
                why,
            },
        );
    }

    /// Whether the candidates are the signed-URL `Access denied` family, which the URL itself
    /// can decide ([`crate::signed`]).
    pub fn needs_signed_url(&self) -> bool {
        self.candidates.iter().any(|c| {
            c.cause == Cause::SignedResourceMismatch && c.confidence != Confidence::Certain
        })
    }
}

const SIGNED_ACCESS_DENIED: [(Cause, &str); 5] = [
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
    (
        Cause::SignedNotYetValid,
        "the custom policy's DateGreaterThan may still be in the future",
    ),
];

const SIGNED_NEXT: &str = "decode the URL's Policy (or read Expires) and compare: the Resource with the exact URL requested, DateLessThan with the current time, IpAddress with the viewer's public IP; or run `gatehouse doctor probe` against Gatehouse with the same config to get the exact cause";

const S3_NEXT: &str = "S3 says AccessDenied for a missing object too when the caller lacks s3:ListBucket: check whether the object key exists, then the bucket policy grant to cloudfront.amazonaws.com (AWS:SourceArn = the distribution ARN) and the origin access control";

const WAF_NEXT: &str = "every WAF rule gives this same page: look up this request id in the WAF logs (httpRequest.requestId) or sampled requests to find the terminating rule";

fn signed_access_denied(d: &mut Diagnosis, first: Confidence) {
    for (i, (c, why)) in SIGNED_ACCESS_DENIED.iter().enumerate() {
        d.add(*c, if i == 0 { first } else { Confidence::Possible }, *why);
    }
}

/// The reason lines that name one cause. `alone`: long and specific enough to decide even when
/// the rest of the page was not pasted.
const REASONS: [(&str, Cause, bool); 8] = [
    (cause::REASON_GEO, Cause::GeoBlocked, true),
    (cause::REASON_METHOD, Cause::MethodNotAllowed, true),
    (cause::REASON_WAF, Cause::WafBlocked, false),
    (cause::REASON_DNS, Cause::OriginDnsError, true),
    (cause::REASON_CONNECT, Cause::OriginConnectError, true),
    (cause::REASON_TIMEOUT, Cause::OriginTimeout, true),
    (cause::REASON_CLOSED, Cause::OriginClosed, false),
    (cause::REASON_BAD_REQUEST, Cause::AliasNotConfigured, false),
];

/// How much of a reason line identifies it (every reason differs within its first words).
const REASON_PREFIX: usize = 45;

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
    let flat = e.flat();

    // XML errors: CloudFront's signed-URL XML (no RequestId) or S3's (RequestId, HostId,
    // `Server: AmazonS3`).
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
                signed_access_denied(&mut d, Confidence::Likely);
                d.next_check = Some(SIGNED_NEXT.into());
            }
            ("AccessDenied", false) if msg.is_empty() => {
                // Cut off before the message: CloudFront's or S3's cannot be told apart.
                d.evidence.push("AccessDenied without its message, RequestId or HostId: CloudFront's signed-URL XML or S3's".into());
                signed_access_denied(&mut d, Confidence::Possible);
                d.add(Cause::S3AccessDenied, Confidence::Possible, "S3's AccessDenied passed through (it carries RequestId and HostId, and `Server: AmazonS3`)");
                d.next_check = Some("look at the whole body and the Server header: S3's AccessDenied says `Access Denied` and carries RequestId/HostId with `Server: AmazonS3`; CloudFront's signed-URL one says `Access denied` and has neither".into());
            }
            ("SignatureDoesNotMatch", _) | ("AuthorizationHeaderMalformed", _) | ("InvalidRequest", true) => {
                d.add(Cause::S3SignatureMismatch, Confidence::Likely, "S3 refused the request signature (origin access control, Region, or a key with + or spaces)");
                d.next_check = Some("compare the bucket's Region with the origin's domain name, check that the viewer's Host is not forwarded to S3 (the signature covers it), and for PUT/POST that the viewer sends x-amz-content-sha256".into());
            }
            ("AccessDenied", _) | ("AllAccessDisabled", _) => {
                d.add(Cause::S3AccessDenied, Confidence::Likely, "S3's own AccessDenied (RequestId/HostId, Server: AmazonS3) passed through by CloudFront");
                d.next_check = Some(S3_NEXT.into());
            }
            ("NoSuchKey", _) | ("NoSuchBucket", _) => d.add(Cause::OriginErrorStatus, Confidence::Likely, "S3 says the object (or bucket) does not exist"),
            _ => {}
        }
        if !d.candidates.is_empty() {
            d.sort();
            return d;
        }
    }

    // S3 website endpoint HTML error.
    if flat.contains("Code: AccessDenied") && flat.contains("RequestId:") {
        d.evidence.push("S3 website endpoint's HTML 403".into());
        d.add(Cause::S3AccessDenied, Confidence::Likely, "the S3 website endpoint refused: website endpoints serve only public objects (bucket policy must allow public s3:GetObject, Block Public Access off)");
        d.next_check = Some("website endpoints cannot use origin access control: check that the bucket policy allows public s3:GetObject on the object, Block Public Access is off, and the object is owned by the bucket owner and not KMS-encrypted".into());
        return d;
    }

    // CloudFront's generated page: its reason line.
    let page = e.is_cloudfront_page();
    // Matched without the final period; a long reason by its first words, so that a page cut
    // in the middle of the reason line still decides.
    let reason = REASONS.into_iter().find(|(r, _, alone)| {
        let key = &r[..(r.len() - 1).min(REASON_PREFIX)];
        (page || *alone) && flat.contains(key)
    });
    if let Some((r, c, _)) = reason {
        d.evidence
            .push(format!("CloudFront's page with the reason \"{r}\""));
        let why = format!("the reason line \"{r}\" is specific to this cause");
        match c {
            Cause::AliasNotConfigured if e.status == Some(400) => {
                d.add(Cause::MalformedRequest, Confidence::Likely, "a 400 with Bad request.: the request itself was malformed (no Host, an invalid Host, a GET with a body)");
            }
            Cause::AliasNotConfigured => {
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
                d.add(
                    Cause::MalformedRequest,
                    Confidence::Possible,
                    "CloudFront also answers Bad request. to a GET that carries a body",
                );
                d.next_check = Some("check that the exact hostname is in the distribution's Aliases (and that DNS points to it); if it is, retry the same URL with https://, then check that the distribution is enabled".into());
            }
            Cause::OriginTimeout if e.status == Some(502) => {
                d.add(
                    Cause::OriginConnectError,
                    Confidence::Likely,
                    "with a 502 this sentence means the connection to the origin failed",
                );
                d.add(
                    Cause::OriginClosed,
                    Confidence::Possible,
                    "or the origin closed the connection",
                );
                d.add(
                    Cause::OriginTimeout,
                    Confidence::Possible,
                    "or the origin did not answer in time",
                );
                d.next_check = Some("look at the log's x-edge-detailed-result-type for this request id (OriginConnectError, OriginReadError, OriginCommError), or request the origin directly".into());
            }
            Cause::OriginClosed => {
                d.add(c, Confidence::Likely, why);
                d.add(
                    Cause::OriginInvalidResponse,
                    Confidence::Possible,
                    "Gatehouse uses the same page when the origin's answer is not HTTP",
                );
                d.next_check = Some("look at the log's x-edge-detailed-result-type (OriginReadError: closed; OriginInvalidResponseError: not HTTP), or request the origin directly".into());
            }
            Cause::WafBlocked => {
                d.add(c, Confidence::Certain, why);
                d.next_check = Some(WAF_NEXT.into());
            }
            _ => d.add(c, Confidence::Certain, why),
        }
        d.sort();
        return d;
    }
    if page {
        // CloudFront's page, but its reason line is missing (cut off or not pasted).
        d.evidence
            .push("CloudFront's page without a recognisable reason line".into());
        let status = e.status.unwrap_or(403);
        for c in Cause::ALL.iter().copied().filter(|c| {
            c.status() == status
                && matches!(
                    c.body(),
                    cause::BodyKind::ErrorPage { .. } | cause::BodyKind::Waf
                )
        }) {
            d.add(
                c,
                Confidence::Possible,
                "CloudFront generates this page for it",
            );
        }
        d.next_check = Some("the reason line follows \"The request could not be satisfied.\" on the page: paste the whole page, or look up the request id in the access log (x-edge-detailed-result-type)".into());
        return d;
    }

    let status_page = e.is_cloudfront_status_page();
    match e.status {
        Some(301) | Some(307)
            if e.x_cache
                .as_deref()
                .is_some_and(|x| x.to_ascii_lowercase().starts_with("redirect"))
                || status_page =>
        {
            d.add(Cause::RedirectToHttps, Confidence::Certain, "a redirect generated by CloudFront (X-Cache: Redirect from cloudfront): the behavior's ViewerProtocolPolicy is redirect-to-https");
        }
        Some(421) => d.add(Cause::MisdirectedRequest, Confidence::Certain, "421: the Host's distribution does not belong with the TLS connection's certificate (SNI and Host differ)"),
        Some(413) => d.add(
            Cause::RequestTooLarge,
            if status_page { Confidence::Certain } else { Confidence::Likely },
            "413: URL over 8,192 bytes or headers over 20,480 bytes",
        ),
        Some(403) => {
            if is_api_gateway_forbidden(&flat) {
                d.evidence.push("API Gateway's {\"message\":\"Forbidden\"} body".into());
                d.add(Cause::OriginDenied, Confidence::Likely, "the origin (API Gateway) refused: wrong stage/path, missing API key, resource policy, or a private API");
                d.next_check = Some("call the API Gateway endpoint directly with the same path and headers: check the stage in the origin path, the API key (x-api-key must be forwarded), the resource policy, and that a private API is not behind CloudFront".into());
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

/// API Gateway's `{"message":"Forbidden"}`, however it was spaced or rendered.
fn is_api_gateway_forbidden(flat: &str) -> bool {
    let compact: String = flat.chars().filter(|c| !c.is_whitespace()).collect();
    compact.contains("\"message\":\"Forbidden\"") || compact.contains("message:\"Forbidden\"")
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

/// [`from_log`], then, for a signed-URL `Access denied`, the policy in the line's own URL
/// (`cs-uri-query`) compared with the line's time, viewer and URL ([`crate::signed`]).
pub fn from_log_line(get: &dyn Fn(&str) -> Option<String>) -> Diagnosis {
    let mut d = from_log(get);
    refine_log(&mut d, get);
    d
}

/// The signed-URL refinement of a log line's diagnosis (see [`from_log_line`]).
pub fn refine_log(d: &mut Diagnosis, get: &dyn Fn(&str) -> Option<String>) {
    if !d.needs_signed_url() {
        return;
    }
    let (Some(now), Some(host), Some(path)) = (
        get("date")
            .zip(get("time"))
            .and_then(|(d, t)| epoch_seconds(&d, &t)),
        get("x-host-header"),
        get("cs-uri-stem"),
    ) else {
        return;
    };
    // The viewer the edge checked: the forwarded-for address when there is one.
    let viewer_ip = get("x-forwarded-for")
        .and_then(|x| x.split(',').next().and_then(|s| s.trim().parse().ok()))
        .or_else(|| get("c-ip").and_then(|c| c.parse().ok()));
    let req = crate::signed::SignedRequest {
        scheme: get("cs-protocol").unwrap_or_else(|| "https".into()),
        host,
        path,
        query: get("cs-uri-query"),
        viewer_ip,
        now,
    };
    crate::signed::refine(d, &req, None);
}

/// `YYYY-MM-DD` and `HH:MM:SS` (UTC) → epoch seconds.
pub fn epoch_seconds(date: &str, time: &str) -> Option<u64> {
    let n = |s: &str| s.parse::<i64>().ok();
    let mut d = date.split('-');
    let (y, m, day) = (n(d.next()?)?, n(d.next()?)?, n(d.next()?)?);
    let mut t = time.split(':');
    let (hh, mm, ss) = (n(t.next()?)?, n(t.next()?)?, n(t.next()?)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
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
            d.evidence.push("InvalidRequest: CloudFront's Bad request. page on a distribution that owns the Host (so not a missing alias)".into());
            if status == Some(400) {
                d.add(
                    Cause::MalformedRequest,
                    Confidence::Likely,
                    "a 400 InvalidRequest: the request itself was malformed",
                );
            } else if protocol == "http" {
                d.add(Cause::HttpsOnly, Confidence::Likely, "InvalidRequest with the Bad request. page over http: likely an https-only behavior");
            }
            d.add(
                Cause::MalformedRequest,
                Confidence::Possible,
                "CloudFront answers Bad request. to a GET that carries a body",
            );
            d.add(
                Cause::DistributionDisabled,
                Confidence::Possible,
                "a disabled distribution answers Bad request.",
            );
            if protocol == "http" {
                d.add(
                    Cause::HttpsOnly,
                    Confidence::Possible,
                    "an https-only behavior refusing http",
                );
            }
            d.next_check = Some("check the behavior's ViewerProtocolPolicy (http on https-only), whether the distribution is enabled, and whether the request carried a body (cs-bytes far above the usual for a GET)".into());
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
                [] => {
                    d.add(
                        Cause::OriginDenied,
                        Confidence::Likely,
                        "a text/xml 403 whose length matches none of CloudFront's XML errors: the origin's own",
                    );
                }
                _ => {
                    signed_access_denied(&mut d, Confidence::Likely);
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
            d.next_check = Some(S3_NEXT.into());
        } else if ctype.starts_with("text/html") && len == Some(919) {
            d.add(
                Cause::WafBlocked,
                Confidence::Likely,
                "a 919-byte text/html 403 is CloudFront's Request blocked. page (WAF)",
            );
            d.next_check = Some("look up this request id in the WAF logs to name the rule".into());
        } else if ctype.starts_with("text/html") && len == Some(915) {
            // A logged request belongs to a distribution: not a missing alias.
            d.evidence
                .push("a 915-byte text/html page is CloudFront's Bad request. page".into());
            if protocol == "http" {
                d.add(
                    Cause::HttpsOnly,
                    Confidence::Possible,
                    "an https-only behavior refusing http",
                );
            }
            d.add(
                Cause::MalformedRequest,
                Confidence::Possible,
                "a GET that carries a body",
            );
            d.add(
                Cause::DistributionDisabled,
                Confidence::Possible,
                "a disabled distribution",
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
    fn epoch() {
        assert_eq!(epoch_seconds("2019-12-13", "22:36:26"), Some(1_576_276_586));
        assert_eq!(epoch_seconds("1970-01-01", "00:00:00"), Some(0));
        assert_eq!(epoch_seconds("2000-02-29", "00:00:01"), Some(951_782_401));
        assert_eq!(epoch_seconds("x", "00:00:00"), None);
    }

    #[test]
    fn xml_lengths() {
        assert_eq!(xml_len(Cause::SignedMissingKey), Some(146));
    }
}
