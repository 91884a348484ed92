//! The response phase: turning a [`Denial`] into CloudFront's exact response, and decorating
//! origin responses with CloudFront's headers.

pub mod body;
pub mod headers;
pub mod pages;

pub use body::EdgeBody;

use gatehouse_model::cause::{BodyKind, REASON_WAF};
use gatehouse_model::Cause;
use headers::{XCache, X_GATEHOUSE_CAUSE};
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

/// Why the edge answered with something other than the object, and what to send.
#[derive(Debug, Clone)]
pub struct Denial {
    /// The catalogue cause.
    pub cause: Cause,
    /// The status to send (the cause's default unless a rule overrides it).
    pub status: StatusCode,
    /// What was compared, for logs and the doctor (never sent to the viewer).
    pub detail: String,
    /// `Location` for redirects.
    pub location: Option<HeaderValue>,
}

impl Denial {
    /// A denial with the cause's default status.
    pub fn new(cause: Cause, detail: impl Into<String>) -> Self {
        Denial {
            cause,
            status: StatusCode::from_u16(cause.status()).unwrap_or(StatusCode::FORBIDDEN),
            detail: detail.into(),
            location: None,
        }
    }

    /// Overrides the status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

/// Per-edge values every generated response needs.
pub struct ResponseContext<'a> {
    /// `Via` value sent to viewers.
    pub via: &'a HeaderValue,
    /// `X-Amz-Cf-Pop` value.
    pub pop: &'a HeaderValue,
    /// This request's id.
    pub request_id: &'a HeaderValue,
    /// Whether to add `X-Gatehouse-Cause`.
    pub cause_header: bool,
    /// Whether the viewer speaks HTTP/1.x (gets `Connection: keep-alive`).
    pub http1: bool,
}

/// The reason phrase in a status page's title. CloudFront names 413 "Request Entity Too Large"
/// (`docs/compatibility.md`), where `http` has RFC 7231's "Payload Too Large".
fn status_page_reason(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "Request Entity Too Large",
        s => s.canonical_reason().unwrap_or(""),
    }
}

/// Builds the response CloudFront sends for `denial`.
pub fn generated(denial: &Denial, cx: &ResponseContext<'_>) -> Response<EdgeBody> {
    let status = denial.status;
    let id = cx.request_id.to_str().unwrap_or("");
    let (body, content_type) = match denial.cause.body() {
        BodyKind::ErrorPage { reason } => {
            (pages::error_page(status.as_u16(), reason, id), "text/html")
        }
        BodyKind::Waf => (
            pages::error_page(status.as_u16(), REASON_WAF, id),
            "text/html",
        ),
        BodyKind::StatusPage => (
            pages::status_page(status.as_u16(), status_page_reason(status)),
            "text/html",
        ),
        BodyKind::SignedXml { code, message } => (pages::signed_xml(code, message), "text/xml"),
        // An origin-sourced cause rendered by the edge (should not happen): say it plainly.
        BodyKind::FromOrigin => (
            pages::error_page(status.as_u16(), gatehouse_model::cause::REASON_CLOSED, id),
            "text/html",
        ),
    };
    let x_cache = if denial.cause == Cause::RedirectToHttps {
        XCache::Redirect
    } else {
        XCache::Error
    };
    let len = body.len();
    let mut resp = Response::new(EdgeBody::full(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::SERVER, HeaderValue::from_static("CloudFront"));
    h.insert(header::DATE, headers::http_date());
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if cx.http1 {
        let conn = if denial.cause == Cause::RequestTooLarge {
            "close"
        } else {
            "keep-alive"
        };
        h.insert(header::CONNECTION, HeaderValue::from_static(conn));
    }
    if let Some(loc) = &denial.location {
        h.insert(header::LOCATION, loc.clone());
    }
    headers::append_cloudfront(h, x_cache, cx.via, cx.pop, cx.request_id);
    if cx.cause_header {
        h.insert(
            X_GATEHOUSE_CAUSE.clone(),
            HeaderValue::from_static(denial.cause.id()),
        );
    }
    resp
}
