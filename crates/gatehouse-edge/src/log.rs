//! The log phase: one access-log record per answered request, handed to the log writer off the
//! request path.
//!
//! [`Pending`] captures the request side when the request arrives; the pipeline fills an
//! [`Outcome`] as it goes (distribution, behaviour, cause, viewer); [`LoggedBody`] wraps the
//! response body and sends the record when the last byte is queued (or the viewer goes away).
//! A request dropped before its response started is logged with status `000`.

use crate::response::EdgeBody;
use crate::state::EdgeState;
use crate::viewer::Connection;
use bytes::Bytes;
use gatehouse_logs::{DistLog, LogRecord, LogSink};
use gatehouse_model::Cause;
use http::{HeaderMap, Request, Response, Version};
use hyper::body::{Body, Frame, SizeHint};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

/// What the pipeline learned about a request, for its log line.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The distribution (index into the state), once routed.
    pub dist: Option<usize>,
    /// The matched behaviour's pattern.
    pub pattern: Option<Arc<str>>,
    /// The cause, when the answer is not the object.
    pub cause: Option<Cause>,
    /// What the failed check compared.
    pub detail: Option<String>,
    /// The viewer's IP after trusted proxies, when it differs from the connection's.
    pub forwarded_for: Option<IpAddr>,
    /// The viewer IP used for checks.
    pub viewer_ip: Option<IpAddr>,
}

impl Outcome {
    /// Records a denial.
    pub fn deny(&mut self, cause: Cause, detail: &str) {
        self.cause = Some(cause);
        self.detail = Some(detail.to_string());
    }
}

fn bytes_of(h: &HeaderMap, name: http::header::HeaderName) -> Option<Box<[u8]>> {
    h.get(name).map(|v| v.as_bytes().into())
}

fn version_str(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// The request side of a record, captured before the request is forwarded.
pub struct Pending {
    sink: Arc<LogSink>,
    start: Instant,
    method: Box<str>,
    uri_stem: Box<[u8]>,
    query: Option<Box<[u8]>>,
    referer: Option<Box<[u8]>>,
    user_agent: Option<Box<[u8]>>,
    cookie: Option<Box<[u8]>>,
    host: Box<[u8]>,
    cs_bytes: u64,
    version: &'static str,
    request_id: Box<str>,
    c_ip: IpAddr,
    c_port: u16,
    https: bool,
    ssl: Option<(&'static str, &'static str)>,
}

impl Pending {
    /// Captures the request side.
    pub fn capture<B>(
        sink: Arc<LogSink>,
        conn: &Connection,
        req: &Request<B>,
        request_id: &str,
    ) -> Self {
        let h = req.headers();
        // `METHOD SP path SP HTTP/1.1 CRLF`, `name: value CRLF` per header, the final CRLF.
        let head: u64 = h
            .iter()
            .map(|(n, v)| (n.as_str().len() + v.len() + 4) as u64)
            .sum::<u64>()
            + (req.method().as_str().len()
                + req.uri().path_and_query().map_or(1, |p| p.as_str().len())
                + 14) as u64;
        let body = h
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .unwrap_or(0);
        Pending {
            sink,
            start: Instant::now(),
            method: req.method().as_str().into(),
            uri_stem: req.uri().path().as_bytes().into(),
            query: req.uri().query().map(|q| q.as_bytes().into()),
            referer: bytes_of(h, http::header::REFERER),
            user_agent: bytes_of(h, http::header::USER_AGENT),
            cookie: bytes_of(h, http::header::COOKIE),
            host: h
                .get(http::header::HOST)
                .map(|v| v.as_bytes().into())
                .or_else(|| req.uri().authority().map(|a| a.as_str().as_bytes().into()))
                .unwrap_or_default(),
            cs_bytes: head + body,
            version: version_str(req.version()),
            request_id: request_id.into(),
            c_ip: conn.ip(),
            c_port: conn.source.port(),
            https: conn.https,
            ssl: conn.tls.as_ref().map(|t| (t.protocol, t.cipher)),
        }
    }

    /// Moves the captured request side into a record (no copies), returning the writer and
    /// the start time alongside.
    fn record(
        self,
        dist: Arc<DistLog>,
        state: &EdgeState,
        o: &Outcome,
    ) -> (Box<LogRecord>, Arc<LogSink>, Instant) {
        let rt = o.cause.map(|c| c.result_types());
        let rec = Box::new(LogRecord {
            dist,
            end: SystemTime::now(),
            edge_location: state.log_location.clone(),
            sc_bytes: 0,
            c_ip: self.c_ip,
            method: self.method,
            uri_stem: self.uri_stem,
            status: 0,
            referer: self.referer,
            user_agent: self.user_agent,
            query: self.query,
            cookie: self.cookie,
            result_type: rt.map_or("Miss", |r| r.edge),
            request_id: self.request_id,
            host_header: self.host,
            protocol: if self.https { "https" } else { "http" },
            cs_bytes: self.cs_bytes,
            time_taken: self.start.elapsed(),
            forwarded_for: o.forwarded_for.map(|ip| ip.to_string().into()),
            ssl_protocol: self.ssl.map(|s| s.0),
            ssl_cipher: self.ssl.map(|s| s.1),
            response_result_type: rt.map_or("Miss", |r| r.response),
            protocol_version: self.version,
            c_port: self.c_port,
            ttfb: self.start.elapsed(),
            detailed_result_type: rt.map_or("Miss", |r| r.detailed),
            content_type: None,
            content_len: None,
            range: None,
            cause: o.cause.map(|c| c.id()),
            cause_detail: o.detail.as_deref().map(Into::into),
            country: o.viewer_ip.and_then(|ip| state.geo.country(ip)).map(|c| {
                let b = c.as_str().as_bytes();
                [b[0], b[1]]
            }),
            path_pattern: o.pattern.clone().unwrap_or_else(|| Arc::from("-")),
        });
        (rec, self.sink, self.start)
    }

    /// Wraps `resp` so that its record is written when the body ends. Requests that no
    /// distribution owns are not logged (as CloudFront).
    pub fn finish(
        self,
        state: &EdgeState,
        o: &Outcome,
        resp: Response<EdgeBody>,
    ) -> Response<EdgeBody> {
        let Some(dist) = o.dist.and_then(|i| state.distributions.get(i)) else {
            return resp;
        };
        let (mut rec, sink, start) = self.record(dist.log.clone(), state, o);
        let status = resp.status().as_u16();
        rec.status = status;
        if o.cause.is_none() && status >= 400 {
            rec.result_type = "Error";
            rec.response_result_type = "Error";
            rec.detailed_result_type = "Error";
        }
        let h = resp.headers();
        rec.content_type = h
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(Into::into);
        rec.content_len = h
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        rec.range = h
            .get(http::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_content_range);
        // As HTTP/1.1 puts it on the wire: `HTTP/1.1 200 OK CRLF`, the headers, the `Date`
        // the server adds when the response has none, the final CRLF.
        let status_line = 15 + resp.status().canonical_reason().map_or(0, str::len) as u64;
        let date = if h.contains_key(http::header::DATE) {
            0
        } else {
            37
        };
        let head_bytes = status_line
            + date
            + h.iter()
                .map(|(n, v)| (n.as_str().len() + v.len() + 4) as u64)
                .sum::<u64>()
            + 2;
        rec.sc_bytes = head_bytes;
        let (parts, body) = resp.into_parts();
        let logged = LoggedBody {
            inner: body,
            record: Some(rec),
            sink,
            start,
        };
        Response::from_parts(parts, EdgeBody::Logged(Box::pin(logged)))
    }

    /// Logs a request whose viewer left before the response started (status `000`).
    pub fn abandoned(self, state: &EdgeState, o: &Outcome) {
        if let Some(dist) = o.dist.and_then(|i| state.distributions.get(i)) {
            let (mut rec, sink, _) = self.record(dist.log.clone(), state, o);
            rec.result_type = "Error";
            rec.response_result_type = "Error";
            rec.detailed_result_type = "ClientHungUpRequest";
            sink.log(rec);
        }
    }
}

fn parse_content_range(v: &str) -> Option<(u64, u64)> {
    let range = v.strip_prefix("bytes ")?.split('/').next()?;
    let (a, b) = range.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// A response body that writes its request's log record when it ends.
pub struct LoggedBody {
    inner: EdgeBody,
    record: Option<Box<LogRecord>>,
    sink: Arc<LogSink>,
    start: Instant,
}

impl LoggedBody {
    fn send(&mut self, complete: bool) {
        if let Some(mut rec) = self.record.take() {
            rec.time_taken = self.start.elapsed();
            rec.end = SystemTime::now();
            if !complete && rec.result_type != "Error" {
                // The viewer disconnected mid-body (cloudfront.md §2.3).
                rec.result_type = "Error";
                rec.detailed_result_type = "ClientCommError";
            }
            self.sink.log(rec);
        }
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        let complete = self.inner.is_end_stream();
        self.send(complete);
    }
}

impl Body for LoggedBody {
    type Data = Bytes;
    type Error = gatehouse_origin::timed_body::BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(d), Some(rec)) = (frame.data_ref(), this.record.as_mut()) {
                    rec.sc_bytes += d.len() as u64;
                }
                if this.inner.is_end_stream() {
                    this.send(true);
                }
            }
            Poll::Ready(None) => this.send(true),
            Poll::Ready(Some(Err(_))) => this.send(false),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Sends a `000` record if the request future is dropped before the response started.
pub struct AbandonGuard<'a> {
    /// The pending record; taken when the response is ready.
    pub pending: Option<Pending>,
    /// The state the request runs on.
    pub state: &'a EdgeState,
    /// What is known so far.
    pub outcome: Outcome,
    /// Set once the response is ready; a guard dropped before that was abandoned.
    pub answered: bool,
}

impl Drop for AbandonGuard<'_> {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        if let Some(d) = self
            .outcome
            .dist
            .and_then(|i| self.state.distributions.get(i))
        {
            d.metrics.request(0, self.outcome.cause);
        }
        if let Some(p) = self.pending.take() {
            p.abandoned(self.state, &self.outcome);
        }
    }
}
