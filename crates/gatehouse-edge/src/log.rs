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
use gatehouse_logs::{DistLog, LogSink, RecordRef};
use gatehouse_model::Cause;
use http::{Request, Response, Version};
use hyper::body::{Body, Frame, SizeHint};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

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
    /// The viewer's country, once found (by the geo check or for `c-country`).
    pub country: crate::viewer::RequestCountry,
}

impl Outcome {
    /// Records a denial (the detail is moved in, not copied).
    pub fn deny(&mut self, cause: Cause, detail: String) {
        self.cause = Some(cause);
        self.detail = Some(detail);
    }
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

/// Where a captured value is in [`Entry::text`].
#[derive(Debug, Clone, Copy, Default)]
struct Span(u32, u32);

/// Appends `v` to `text`, returning where it is.
fn keep(text: &mut Vec<u8>, v: &[u8]) -> Span {
    let start = text.len() as u32;
    text.extend_from_slice(v);
    Span(start, text.len() as u32)
}

/// A request's log entry: every variable-length value in one buffer (one allocation, where an
/// owned [`gatehouse_logs::LogRecord`] takes one per value), lent to the formatters as a
/// [`RecordRef`].
struct Entry {
    text: Vec<u8>,
    method: Span,
    uri_stem: Span,
    query: Option<Span>,
    referer: Option<Span>,
    user_agent: Option<Span>,
    cookie: Option<Span>,
    host: Span,
    request_id: Span,
    forwarded_for: Option<Span>,
    content_type: Option<Span>,
    cause_detail: Option<Span>,
    cs_bytes: u64,
    /// When the request arrived.
    start: Instant,
    version: &'static str,
    c_ip: IpAddr,
    c_port: u16,
    https: bool,
    ssl: Option<(&'static str, &'static str)>,
    // Filled once the answer is known.
    dist: Option<Arc<DistLog>>,
    edge_location: Option<Arc<str>>,
    path_pattern: Option<Arc<str>>,
    status: u16,
    sc_bytes: u64,
    time_taken: Duration,
    ttfb: Duration,
    end: SystemTime,
    result_type: &'static str,
    response_result_type: &'static str,
    detailed_result_type: &'static str,
    content_len: Option<u64>,
    range: Option<(u64, u64)>,
    cause: Option<&'static str>,
    country: Option<[u8; 2]>,
}

impl Entry {
    fn bytes(&self, s: Span) -> &[u8] {
        &self.text[s.0 as usize..s.1 as usize]
    }

    /// The record, once `dist` is set.
    fn view<'a>(&'a self, dist: &'a Arc<DistLog>) -> RecordRef<'a> {
        RecordRef {
            dist,
            end: self.end,
            edge_location: self.edge_location.as_deref().unwrap_or("-"),
            sc_bytes: self.sc_bytes,
            c_ip: self.c_ip,
            method: self.bytes(self.method),
            uri_stem: self.bytes(self.uri_stem),
            status: self.status,
            referer: self.referer.map(|s| self.bytes(s)),
            user_agent: self.user_agent.map(|s| self.bytes(s)),
            query: self.query.map(|s| self.bytes(s)),
            cookie: self.cookie.map(|s| self.bytes(s)),
            result_type: self.result_type,
            request_id: self.bytes(self.request_id),
            host_header: self.bytes(self.host),
            protocol: if self.https { "https" } else { "http" },
            cs_bytes: self.cs_bytes,
            time_taken: self.time_taken,
            forwarded_for: self.forwarded_for.map(|s| self.bytes(s)),
            ssl_protocol: self.ssl.map(|s| s.0),
            ssl_cipher: self.ssl.map(|s| s.1),
            response_result_type: self.response_result_type,
            protocol_version: self.version,
            c_port: self.c_port,
            ttfb: self.ttfb,
            detailed_result_type: self.detailed_result_type,
            content_type: self.content_type.map(|s| self.bytes(s)),
            content_len: self.content_len,
            range: self.range,
            cause: self.cause,
            cause_detail: self.cause_detail.map(|s| self.bytes(s)),
            country: self.country,
            path_pattern: self.path_pattern.as_deref().unwrap_or("-"),
        }
    }

    /// Ends the record now: `time-taken` and the time of the line.
    fn end_now(&mut self) {
        self.time_taken = self.start.elapsed();
        self.end = SystemTime::now();
    }
}

/// The request side of a record, captured before the request is forwarded; completed by
/// [`Pending::finish`] (or [`Pending::abandoned`]) and sent to the sink when the response ends.
pub struct Pending {
    sink: Arc<LogSink>,
    entry: Box<Entry>,
}

impl Pending {
    /// Captures the request side; `head` is the request's
    /// [`head_len`](crate::pipeline::head_len).
    pub fn capture<B>(
        sink: Arc<LogSink>,
        conn: &Connection,
        req: &Request<B>,
        head: usize,
        request_id: &str,
    ) -> Self {
        use http::header::{CONTENT_LENGTH, COOKIE, HOST, REFERER, USER_AGENT};
        let mut text = Vec::with_capacity(512);
        let method = keep(&mut text, req.method().as_str().as_bytes());
        let uri_stem = keep(&mut text, req.uri().path().as_bytes());
        let query = req.uri().query().map(|q| keep(&mut text, q.as_bytes()));
        // The headers the log needs, in one pass (the first value of each, as
        // `HeaderMap::get` gives it).
        let (mut referer, mut user_agent, mut cookie, mut host) = (None, None, None, None);
        let mut body: Option<u64> = None;
        for (n, v) in req.headers() {
            let slot = if n == REFERER {
                &mut referer
            } else if n == USER_AGENT {
                &mut user_agent
            } else if n == COOKIE {
                &mut cookie
            } else if n == HOST {
                &mut host
            } else {
                if n == CONTENT_LENGTH && body.is_none() {
                    body = Some(v.to_str().ok().and_then(|v| v.parse().ok()).unwrap_or(0));
                }
                continue;
            };
            if slot.is_none() {
                *slot = Some(keep(&mut text, v.as_bytes()));
            }
        }
        let host = host.unwrap_or_else(|| {
            keep(
                &mut text,
                req.uri().authority().map_or(b"", |a| a.as_str().as_bytes()),
            )
        });
        let body = body.unwrap_or(0);
        let request_id = keep(&mut text, request_id.as_bytes());
        Pending {
            sink,
            entry: Box::new(Entry {
                text,
                method,
                uri_stem,
                query,
                referer,
                user_agent,
                cookie,
                host,
                request_id,
                forwarded_for: None,
                content_type: None,
                cause_detail: None,
                // The head with its final CRLF, and the body.
                cs_bytes: head as u64 + 2 + body,
                start: Instant::now(),
                version: version_str(req.version()),
                c_ip: conn.ip(),
                c_port: conn.source.port(),
                https: conn.https,
                ssl: conn.tls.as_ref().map(|t| (t.protocol, t.cipher)),
                dist: None,
                edge_location: None,
                path_pattern: None,
                status: 0,
                sc_bytes: 0,
                time_taken: Duration::ZERO,
                ttfb: Duration::ZERO,
                end: SystemTime::UNIX_EPOCH,
                result_type: "Miss",
                response_result_type: "Miss",
                detailed_result_type: "Miss",
                content_len: None,
                range: None,
                cause: None,
                country: None,
            }),
        }
    }

    /// Completes the entry with what the pipeline learned; `None` when no distribution owns
    /// the request (not logged, as CloudFront).
    fn complete(mut self, state: &EdgeState, conn: &Connection, o: &Outcome) -> Option<Self> {
        let dist = o.dist.and_then(|i| state.distributions.get(i))?;
        let e = &mut *self.entry;
        e.dist = Some(dist.log.clone());
        e.edge_location = Some(state.log_location.clone());
        e.path_pattern = o.pattern.clone();
        if let Some(c) = o.cause {
            let rt = c.result_types();
            e.result_type = rt.edge;
            e.response_result_type = rt.response;
            e.detailed_result_type = rt.detailed;
            e.cause = Some(c.id());
        }
        if let Some(d) = &o.detail {
            e.cause_detail = Some(keep(&mut e.text, d.as_bytes()));
        }
        if let Some(ip) = o.forwarded_for {
            let start = e.text.len() as u32;
            gatehouse_logs::standard::push_ip(&mut e.text, ip);
            e.forwarded_for = Some(Span(start, e.text.len() as u32));
        }
        // `c-country` is a JSON field: no lookup when no JSON line is written.
        let json = self.sink.formats().json;
        e.country = o
            .viewer_ip
            .filter(|_| json)
            .and_then(|ip| conn.country_of(&state.geo, ip, &o.country))
            .map(|c| {
                let b = c.as_str().as_bytes();
                [b[0], b[1]]
            });
        e.ttfb = e.start.elapsed();
        Some(self)
    }

    /// Ends the record now and hands it to the sink.
    fn send(mut self) {
        let e = &mut *self.entry;
        e.end_now();
        if let Some(dist) = &e.dist {
            self.sink.log(&e.view(dist));
        }
    }

    /// Wraps `resp` so that its record is written when the body ends. Requests that no
    /// distribution owns are not logged (as CloudFront).
    pub fn finish(
        self,
        state: &EdgeState,
        conn: &Connection,
        o: &Outcome,
        resp: Response<EdgeBody>,
    ) -> Response<EdgeBody> {
        let Some(mut pending) = self.complete(state, conn, o) else {
            return resp;
        };
        let e = &mut *pending.entry;
        let status = resp.status().as_u16();
        e.status = status;
        if o.cause.is_none() && status >= 400 {
            e.result_type = "Error";
            e.response_result_type = "Error";
            e.detailed_result_type = "Error";
        }
        // As HTTP/1.1 puts it on the wire: `HTTP/1.1 200 OK CRLF`, the headers, the `Date`
        // the server adds when the response has none, the final CRLF; the headers the log
        // needs taken in the same pass (first values).
        use http::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, DATE};
        let mut head_bytes = 15 + resp.status().canonical_reason().map_or(0, str::len) as u64 + 2;
        let mut date = false;
        let (mut content_type, mut content_len, mut range) = (None, None, None);
        for (n, v) in resp.headers() {
            head_bytes += (n.as_str().len() + v.len() + 4) as u64;
            if n == CONTENT_TYPE {
                if content_type.is_none() {
                    content_type = Some(v.to_str().ok());
                }
            } else if n == CONTENT_LENGTH {
                if content_len.is_none() {
                    content_len = Some(v.to_str().ok().and_then(|v| v.parse().ok()));
                }
            } else if n == CONTENT_RANGE {
                if range.is_none() {
                    range = Some(v.to_str().ok().and_then(parse_content_range));
                }
            } else if n == DATE {
                date = true;
            }
        }
        if !date {
            head_bytes += 37;
        }
        if let Some(v) = content_type.flatten() {
            e.content_type = Some(keep(&mut e.text, v.as_bytes()));
        }
        e.content_len = content_len.flatten();
        e.range = range.flatten();
        e.sc_bytes = head_bytes;
        let (parts, body) = resp.into_parts();
        let logged = LoggedBody {
            inner: body,
            pending: Some(pending),
        };
        Response::from_parts(parts, EdgeBody::Logged(Box::pin(logged)))
    }

    /// Logs a request whose viewer left before the response started (status `000`).
    pub fn abandoned(self, state: &EdgeState, conn: &Connection, o: &Outcome) {
        if let Some(mut pending) = self.complete(state, conn, o) {
            let e = &mut *pending.entry;
            e.result_type = "Error";
            e.response_result_type = "Error";
            e.detailed_result_type = "ClientHungUpRequest";
            pending.send();
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
    /// The completed record, until it is sent.
    pending: Option<Pending>,
}

impl LoggedBody {
    fn send(&mut self, complete: bool) {
        if let Some(mut pending) = self.pending.take() {
            let e = &mut *pending.entry;
            if !complete && e.result_type != "Error" {
                // The viewer disconnected mid-body (cloudfront.md §2.3).
                e.result_type = "Error";
                e.detailed_result_type = "ClientCommError";
            }
            pending.send();
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
                if let (Some(d), Some(p)) = (frame.data_ref(), this.pending.as_mut()) {
                    p.entry.sc_bytes += d.len() as u64;
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

/// A request's end, counted and logged exactly once: [`AbandonGuard::answer`] with the
/// response, or, when the request future is dropped before the response started, a `000`
/// (counted, and logged as abandoned).
pub struct AbandonGuard<'a> {
    /// The pending record.
    pending: Option<Pending>,
    state: &'a EdgeState,
    conn: &'a Connection,
    /// What is known so far (filled by the phases).
    pub outcome: Outcome,
    /// Set by `answer`; a guard dropped without it was abandoned.
    answered: bool,
}

impl<'a> AbandonGuard<'a> {
    /// Guards a request whose record (if logs are on) is `pending`.
    pub fn new(pending: Option<Pending>, state: &'a EdgeState, conn: &'a Connection) -> Self {
        AbandonGuard {
            pending,
            state,
            conn,
            outcome: Outcome::default(),
            answered: false,
        }
    }

    /// Counts `status` for the request's distribution, if it was routed.
    fn count(&self, status: u16) {
        if let Some(d) = self
            .outcome
            .dist
            .and_then(|i| self.state.distributions.get(i))
        {
            d.metrics.request(status, self.outcome.cause);
        }
    }

    /// The request was answered with `resp`: counted, and its record completed (written when
    /// the body ends).
    pub fn answer(mut self, resp: Response<EdgeBody>) -> Response<EdgeBody> {
        self.answered = true;
        self.count(resp.status().as_u16());
        match self.pending.take() {
            Some(p) => p.finish(self.state, self.conn, &self.outcome, resp),
            None => resp,
        }
    }
}

impl Drop for AbandonGuard<'_> {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        self.count(0);
        if let Some(p) = self.pending.take() {
            p.abandoned(self.state, self.conn, &self.outcome);
        }
    }
}
