//! `doctor logs`: reads many access-log files (standard — ours or CloudFront's, gzip or plain —
//! and Gatehouse's JSON), streaming and in parallel, and groups refusals (403s, 5xx and the
//! edge's own refusals such as redirects) by cause with counts, time ranges, top paths, IPs and
//! user agents, and `time-taken` against the usual.
//!
//! Work is split into units: a gzip file is one unit; a plain file is cut into byte ranges that
//! end on line boundaries, so one big file keeps every core busy. Each unit reads large blocks
//! and looks at raw field values (no allocation per field); only the lines that are counted are
//! decoded, and a line's diagnosis is memoised on the few fields that decide it. Results are
//! merged in file and range order, so they do not depend on how the work was split.
//!
//! Malformed input — a truncated gzip file, binary garbage, a line with too few fields, a huge
//! line, invalid UTF-8, invalid JSON — is reported with the file and line and skipped; the good
//! lines are still counted.

use crate::classify::{self, Confidence, Diagnosis};
use gatehouse_logs::encode;
use gatehouse_logs::standard::FIELDS;
use gatehouse_model::Cause;
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// One group of refused requests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Group {
    /// The most likely cause id.
    pub cause: String,
    /// How sure.
    pub confidence: Option<Confidence>,
    /// Other candidates when the logs cannot decide.
    pub alternatives: Vec<String>,
    /// Why.
    pub why: String,
    /// What would decide.
    pub next_check: Option<String>,
    /// Requests.
    pub count: u64,
    /// Statuses seen.
    pub statuses: HashMap<String, u64>,
    /// First `date time`.
    pub first: String,
    /// Last `date time`.
    pub last: String,
    /// Requests per hour (`YYYY-MM-DD HH` → count), for the report's chart.
    pub per_hour: HashMap<String, u64>,
    /// Paths.
    pub paths: HashMap<String, u64>,
    /// Viewer IPs.
    pub ips: HashMap<String, u64>,
    /// Hosts the viewers asked for (`x-host-header`).
    pub hosts: HashMap<String, u64>,
    /// User agents.
    pub user_agents: HashMap<String, u64>,
    /// Sum of time-taken (seconds).
    pub time_taken_sum: f64,
    /// One request id, to look up.
    pub sample_request_id: String,
    /// WAF terminating rules of these requests (from `--waf-logs`).
    pub rules: HashMap<String, u64>,
}

/// The result of reading the logs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Data lines read.
    pub lines: u64,
    /// Lines that could not be parsed.
    pub bad_lines: u64,
    /// The first problems (`file:line: reason`), in file and line order.
    pub problems: Vec<String>,
    /// Groups by cause id.
    pub groups: HashMap<String, Group>,
    /// Sum and count of time-taken over every line (the distribution's normal).
    pub time_taken_sum: f64,
    /// Lines with a time-taken.
    pub time_taken_count: u64,
    /// For `--request-id`: every field of that request's line(s), decoded.
    pub request: Vec<Vec<(String, String)>>,
}

/// How many problems are listed in all (all are counted in `bad_lines`)…
pub const MAX_PROBLEMS: usize = 100;
/// …and per file.
pub const PROBLEMS_PER_FILE: usize = 5;
/// Lines longer than this are reported and skipped without being buffered whole.
pub const MAX_LINE: usize = 1 << 20;
/// Plain files are cut into ranges of about this size.
const RANGE: u64 = 32 << 20;
/// Read size.
const BLOCK: usize = 2 << 20;

// ---------------------------------------------------------------------------------------------
// A small fast hasher for the counting maps (keys are short byte strings from our own input).

#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            h = (h.rotate_left(5) ^ v).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
        self.0 = h;
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

// ---------------------------------------------------------------------------------------------
// Fields

/// The fields the doctor reads from every line.
#[derive(Clone, Copy)]
enum F {
    Date,
    Time,
    Status,
    Stem,
    Ip,
    Ua,
    RequestId,
    Protocol,
    TimeTaken,
    Detailed,
    CType,
    Len,
    Cause,
    Host,
}

const NAMES: [&str; 14] = [
    "date",
    "time",
    "sc-status",
    "cs-uri-stem",
    "c-ip",
    "cs(User-Agent)",
    "x-edge-request-id",
    "cs-protocol",
    "time-taken",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "cause",
    "x-host-header",
];

/// Field names by position (from `#Fields:`, CloudFront's 33 by default) and where the fields
/// the doctor reads are.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layout {
    names: Vec<String>,
    idx: [usize; NAMES.len()],
}

impl Layout {
    fn new(names: Vec<String>) -> Self {
        let mut idx = [usize::MAX; NAMES.len()];
        for (i, n) in NAMES.iter().enumerate() {
            if let Some(p) = names.iter().position(|x| x == n) {
                idx[i] = p;
            }
        }
        Layout { names, idx }
    }

    fn standard() -> Self {
        Self::new(FIELDS.iter().map(|s| s.to_string()).collect())
    }

    /// From a `#Fields:` line's rest.
    fn parse(rest: &[u8]) -> Option<Self> {
        let names: Vec<String> = String::from_utf8_lossy(rest)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        (!names.is_empty()).then(|| Self::new(names))
    }
}

/// One log record, standard or JSON.
trait Record {
    /// The raw (URL-encoded) value; `-` included.
    fn raw(&self, f: F) -> Option<&[u8]>;
    /// The decoded value of any field by name; `None` when absent.
    fn decoded(&self, name: &str) -> Option<String>;
    /// Every field, decoded.
    fn all(&self) -> Vec<(String, String)>;
}

fn decode_text(v: &[u8]) -> String {
    match std::str::from_utf8(v) {
        Ok(s) => String::from_utf8_lossy(&encode::decode(s)).into_owned(),
        Err(_) => String::from_utf8_lossy(v).into_owned(),
    }
}

struct Std<'a> {
    line: &'a [u8],
    ranges: &'a [(u32, u32)],
    layout: &'a Layout,
}

impl Std<'_> {
    fn at(&self, i: usize) -> Option<&[u8]> {
        self.ranges
            .get(i)
            .map(|&(a, b)| &self.line[a as usize..b as usize])
    }
}

impl Record for Std<'_> {
    fn raw(&self, f: F) -> Option<&[u8]> {
        self.at(self.layout.idx[f as usize])
    }
    fn decoded(&self, name: &str) -> Option<String> {
        let i = self.layout.names.iter().position(|n| n == name)?;
        self.at(i).filter(|v| *v != b"-").map(decode_text)
    }
    fn all(&self) -> Vec<(String, String)> {
        self.layout
            .names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((n.clone(), decode_text(self.at(i)?))))
            .collect()
    }
}

struct Json<'a>(&'a serde_json::Map<String, serde_json::Value>);

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => String::from_utf8_lossy(&encode::decode(s)).into_owned(),
        other => other.to_string(),
    }
}

impl Record for Json<'_> {
    fn raw(&self, f: F) -> Option<&[u8]> {
        self.0
            .get(NAMES[f as usize])
            .and_then(|v| v.as_str())
            .map(str::as_bytes)
    }
    fn decoded(&self, name: &str) -> Option<String> {
        self.0.get(name).map(json_text).filter(|v| v != "-")
    }
    fn all(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(k, v)| (k.clone(), json_text(v)))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Counting

/// Seconds with up to millisecond precision (`0.107`) → milliseconds; `None` if not a number.
fn parse_ms(v: &[u8]) -> Option<u64> {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(p) => (&v[..p], &v[p + 1..]),
        None => (v, &b""[..]),
    };
    if int.is_empty() || int.len() > 12 || !int.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut ms = int.iter().fold(0u64, |a, &b| a * 10 + u64::from(b - b'0')) * 1000;
    for (i, scale) in [100, 10, 1].into_iter().enumerate() {
        if let Some(&d) = frac.get(i) {
            ms += u64::from(d - b'0') * scale;
        }
    }
    Some(ms)
}

fn parse_status(v: &[u8]) -> u16 {
    if v.len() == 3 && v.iter().all(u8::is_ascii_digit) {
        v.iter().fold(0u16, |a, &b| a * 10 + u16::from(b - b'0'))
    } else {
        0
    }
}

/// Whether a line is counted: 403s and 5xx, and the edge's own refusals whatever their status
/// (redirects, 400, 421…), known from the JSON cause or the detailed result type.
fn counted(code: u16, cause: Option<&[u8]>, detailed: &[u8]) -> bool {
    if code == 403 || code >= 500 {
        return true;
    }
    if let Some(c) = cause
        .and_then(|c| std::str::from_utf8(c).ok())
        .and_then(Cause::from_id)
    {
        return c.is_generated();
    }
    matches!(
        detailed,
        b"Redirect"
            | b"ClientGeoBlocked"
            | b"InvalidRequest"
            | b"InvalidRequestMethod"
            | b"InvalidRequestCertificate"
            | b"InvalidRequestHeader"
            | b"InvalidRequestBlocked"
    )
}

/// A group while counting: raw (still encoded) keys.
#[derive(Default)]
struct RawGroup {
    cause: String,
    diagnosis: Diagnosis,
    count: u64,
    statuses: FxMap<u16, u64>,
    first: Vec<u8>,
    last: Vec<u8>,
    per_hour: FxMap<Box<[u8]>, u64>,
    paths: FxMap<Box<[u8]>, u64>,
    ips: FxMap<Box<[u8]>, u64>,
    hosts: FxMap<Box<[u8]>, u64>,
    user_agents: FxMap<Box<[u8]>, u64>,
    time_taken_ms: u64,
    sample_request_id: Vec<u8>,
    rules: FxMap<Box<[u8]>, u64>,
}

fn bump(m: &mut FxMap<Box<[u8]>, u64>, k: &[u8], n: u64) {
    match m.get_mut(k) {
        Some(c) => *c += n,
        None => {
            m.insert(k.into(), n);
        }
    }
}

impl RawGroup {
    fn merge(&mut self, o: RawGroup) {
        if self.count == 0 {
            *self = o;
            return;
        }
        self.count += o.count;
        self.time_taken_ms += o.time_taken_ms;
        if !o.first.is_empty() && (self.first.is_empty() || o.first < self.first) {
            self.first = o.first;
        }
        if o.last > self.last {
            self.last = o.last;
        }
        for (k, v) in o.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        for (m, n) in [
            (&mut self.per_hour, o.per_hour),
            (&mut self.paths, o.paths),
            (&mut self.ips, o.ips),
            (&mut self.hosts, o.hosts),
            (&mut self.user_agents, o.user_agents),
            (&mut self.rules, o.rules),
        ] {
            for (k, v) in n {
                bump(m, &k, v);
            }
        }
    }

    fn finish(self) -> Group {
        let decode = |m: FxMap<Box<[u8]>, u64>| {
            let mut out: HashMap<String, u64> = HashMap::with_capacity(m.len());
            for (k, v) in m {
                *out.entry(decode_text(&k)).or_default() += v;
            }
            out
        };
        let top = self.diagnosis.top();
        Group {
            cause: self.cause,
            confidence: top.map(|c| c.confidence),
            alternatives: self
                .diagnosis
                .candidates
                .iter()
                .skip(1)
                .map(|c| c.cause.id().to_string())
                .collect(),
            why: top.map_or_else(
                || "no signal in the log line".to_string(),
                |c| c.why.clone(),
            ),
            next_check: self.diagnosis.next_check.clone(),
            count: self.count,
            statuses: self
                .statuses
                .into_iter()
                .map(|(k, v)| (format!("{k:03}"), v))
                .collect(),
            first: String::from_utf8_lossy(&self.first).into_owned(),
            last: String::from_utf8_lossy(&self.last).into_owned(),
            per_hour: self
                .per_hour
                .into_iter()
                .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
                .collect(),
            paths: decode(self.paths),
            ips: decode(self.ips),
            hosts: decode(self.hosts),
            user_agents: decode(self.user_agents),
            time_taken_sum: self.time_taken_ms as f64 / 1000.0,
            sample_request_id: String::from_utf8_lossy(&self.sample_request_id).into_owned(),
            rules: decode(self.rules),
        }
    }
}

/// A memoised diagnosis.
enum Memo {
    Group(usize),
    PerLine(Diagnosis),
}

/// A problem with a line number relative to its unit.
struct Problem {
    line: u64,
    reason: String,
}

/// What one unit (a file, or a byte range of one) found.
#[derive(Default)]
struct Acc {
    /// Physical lines owned by the unit (for line numbers of later ranges).
    physical: u64,
    lines: u64,
    bad_lines: u64,
    problems: Vec<Problem>,
    time_taken_ms: u64,
    time_taken_count: u64,
    request: Vec<Vec<(String, String)>>,
    /// Memo: the deciding fields → the group, or the diagnosis to refine with each line's URL
    /// (a signed-URL `Access denied`).
    memo: FxMap<Vec<u8>, Memo>,
    key: Vec<u8>,
    groups: Vec<RawGroup>,
    by_cause: HashMap<String, usize>,
    /// A `#Fields` line changed the layout after the data began.
    layout_changed: bool,
    /// WAF logs to join by request id.
    waf: Option<std::sync::Arc<crate::waf::WafIndex>>,
}

impl Acc {
    fn problem(&mut self, line: u64, reason: String) {
        self.bad_lines += 1;
        if self.problems.len() < PROBLEMS_PER_FILE {
            self.problems.push(Problem { line, reason });
        }
    }

    /// The group of a diagnosis's top cause (created with this diagnosis if new).
    fn group_of(&mut self, d: Diagnosis) -> usize {
        let id = d
            .top()
            .map_or_else(|| "unknown".to_string(), |c| c.cause.id().to_string());
        if let Some(&i) = self.by_cause.get(&id) {
            return i;
        }
        self.groups.push(RawGroup {
            cause: id.clone(),
            diagnosis: d,
            ..Default::default()
        });
        self.by_cause.insert(id, self.groups.len() - 1);
        self.groups.len() - 1
    }

    fn record(&mut self, r: &dyn Record, request_id: Option<&[u8]>) {
        self.lines += 1;
        let tt = r.raw(F::TimeTaken).and_then(parse_ms);
        if let Some(t) = tt {
            self.time_taken_ms += t;
            self.time_taken_count += 1;
        }
        if let Some(want) = request_id {
            if r.raw(F::RequestId) == Some(want) {
                self.request.push(r.all());
            }
        }
        let code = parse_status(r.raw(F::Status).unwrap_or(b""));
        let cause = r.raw(F::Cause).filter(|c| *c != b"-");
        if !counted(code, cause, r.raw(F::Detailed).unwrap_or(b"")) {
            return;
        }
        if code == 403 {
            let blocked = self.waf.as_ref().and_then(|w| {
                r.raw(F::RequestId)
                    .and_then(|id| w.blocked_by(id))
                    .map(str::to_string)
            });
            if let Some(rule) = blocked {
                let mut d = Diagnosis::default();
                d.candidates.push(classify::Candidate {
                    cause: gatehouse_model::Cause::WafBlocked,
                    confidence: Confidence::Certain,
                    why: "the WAF logs have a blocking record with this request id".into(),
                });
                let gi = self.group_of(d);
                bump(&mut self.groups[gi].rules, rule.as_bytes(), 1);
                self.count_in(gi, r, code, tt);
                return;
            }
        }
        self.key.clear();
        for f in [
            F::Status,
            F::Detailed,
            F::CType,
            F::Len,
            F::Protocol,
            F::Cause,
        ] {
            self.key.extend_from_slice(r.raw(f).unwrap_or(b"\x01"));
            self.key.push(0);
        }
        let gi = match self.memo.get(&self.key) {
            Some(Memo::Group(i)) => *i,
            Some(Memo::PerLine(d)) => {
                let mut d = d.clone();
                classify::refine_log(&mut d, &|n: &str| r.decoded(n));
                self.group_of(d)
            }
            None => {
                let d = classify::from_log(&|n: &str| r.decoded(n));
                if d.needs_signed_url() {
                    self.memo.insert(self.key.clone(), Memo::PerLine(d.clone()));
                    let mut d = d;
                    classify::refine_log(&mut d, &|n: &str| r.decoded(n));
                    self.group_of(d)
                } else {
                    let i = self.group_of(d);
                    self.memo.insert(self.key.clone(), Memo::Group(i));
                    i
                }
            }
        };
        self.count_in(gi, r, code, tt);
    }

    /// Counts one refused line into group `gi`.
    fn count_in(&mut self, gi: usize, r: &dyn Record, code: u16, tt: Option<u64>) {
        let g = &mut self.groups[gi];
        if g.count == 0 {
            g.sample_request_id = r.raw(F::RequestId).unwrap_or(b"").to_vec();
        }
        g.count += 1;
        *g.statuses.entry(code).or_default() += 1;
        let (date, time) = (r.raw(F::Date).unwrap_or(b""), r.raw(F::Time).unwrap_or(b""));
        let mut wb = [0u8; 48];
        let mut wl = 0;
        for b in date.iter().chain(b" ").chain(time.iter()).take(wb.len()) {
            wb[wl] = *b;
            wl += 1;
        }
        let when = &wb[..wl];
        if g.first.is_empty() || when < &g.first[..] {
            g.first = when.to_vec();
        }
        if when > &g.last[..] {
            g.last = when.to_vec();
        }
        bump(&mut g.per_hour, &when[..wl.min(13)], 1);
        if let Some(v) = r.raw(F::Stem) {
            bump(&mut g.paths, v, 1);
        }
        if let Some(v) = r.raw(F::Ip) {
            bump(&mut g.ips, v, 1);
        }
        if let Some(v) = r.raw(F::Ua) {
            bump(&mut g.user_agents, v, 1);
        }
        if let Some(v) = r.raw(F::Host) {
            bump(&mut g.hosts, v, 1);
        }
        g.time_taken_ms += tt.unwrap_or(0);
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// A line, or the length of one too long to keep.
enum Item<'a> {
    Line(&'a [u8]),
    TooLong(u64),
}

/// Reads `input` in large blocks and calls `f` for each line (without its `\n`). With `skip`,
/// the first line (the end of the previous range's last line) is passed over. Stops before the
/// first line that starts `limit` bytes or more into `input`. Returns the read error that ended
/// the input, if any.
fn each_line(
    mut input: impl Read,
    skip: bool,
    limit: u64,
    f: &mut dyn FnMut(Item<'_>),
) -> Option<std::io::Error> {
    let mut buf = vec![0u8; BLOCK + MAX_LINE + 1];
    let mut filled = 0usize;
    let mut pos = 0u64; // offset in `input` of buf[0]
    let mut long: Option<u64> = None; // bytes of an over-long line so far
    let mut skip = skip;
    loop {
        let n = loop {
            match input.read(&mut buf[filled..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Some(e),
            }
        };
        filled += n;
        let eof = n == 0;
        let mut s = 0usize;
        while let Some(i) = memchr::memchr(b'\n', &buf[s..filled]) {
            if long.is_none() && pos + s as u64 >= limit {
                return None;
            }
            if skip {
                skip = false;
            } else if let Some(k) = long.take() {
                f(Item::TooLong(k + i as u64));
            } else {
                f(Item::Line(&buf[s..s + i]));
            }
            long = None;
            s += i + 1;
        }
        if eof {
            if long.is_none() && pos + s as u64 >= limit {
                return None;
            }
            if skip {
                return None;
            }
            match long {
                Some(k) => f(Item::TooLong(k + (filled - s) as u64)),
                None if s < filled => f(Item::Line(&buf[s..filled])),
                None => {}
            }
            return None;
        }
        let rest = filled - s;
        if long.is_some() || rest > MAX_LINE {
            if long.is_none() && pos + s as u64 >= limit {
                return None;
            }
            *long.get_or_insert(0) += rest as u64;
            pos += filled as u64;
            filled = 0;
        } else {
            buf.copy_within(s..filled, 0);
            pos += s as u64;
            filled = rest;
        }
    }
}

/// Counts the bytes read from a file, for the progress bar.
struct Counting<'a, R> {
    inner: R,
    read: &'a AtomicU64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Standard,
    Json,
}

/// What a file is, and the layout its header declares.
struct FileInfo {
    path: PathBuf,
    size: u64,
    gz: bool,
    kind: Kind,
    layout: Layout,
}

fn inspect(path: &Path) -> Result<FileInfo, String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let size = f.metadata().map_err(|e| format!("cannot open: {e}"))?.len();
    let mut magic = [0u8; 2];
    let got = read_up_to(&mut f, &mut magic).map_err(|e| format!("cannot read: {e}"))?;
    let gz = got == 2 && magic == [0x1f, 0x8b];
    f.seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot read: {e}"))?;
    // The head of the content: JSON or standard, and the standard header's #Fields.
    let mut head = vec![0u8; 64 * 1024];
    let n = if gz {
        read_up_to(&mut flate2::read::MultiGzDecoder::new(f), &mut head)
    } else {
        read_up_to(&mut f, &mut head)
    }
    .unwrap_or(0);
    head.truncate(n);
    let kind = if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        Kind::Json
    } else {
        Kind::Standard
    };
    let mut layout = Layout::standard();
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line[0] != b'#' {
            break;
        }
        if let Some(l) = line.strip_prefix(b"#Fields:").and_then(Layout::parse) {
            layout = l;
        }
    }
    Ok(FileInfo {
        path: path.to_path_buf(),
        size,
        gz,
        kind,
        layout,
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if n > 0 => {
                let _ = e;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A piece of work: a whole file, or a byte range of a plain one.
struct Unit {
    file: usize,
    start: u64,
    end: u64,
}

/// Reads one unit.
fn run_unit(
    info: &FileInfo,
    u: &Unit,
    request_id: Option<&[u8]>,
    read: &AtomicU64,
    waf: Option<&std::sync::Arc<crate::waf::WafIndex>>,
) -> Acc {
    let mut acc = Acc {
        waf: waf.cloned(),
        ..Default::default()
    };
    let file = match std::fs::File::open(&info.path) {
        Ok(f) => f,
        Err(e) => {
            acc.problem(0, format!("cannot open: {e}"));
            return acc;
        }
    };
    let mut file = Counting { inner: file, read };
    let skip = u.start > 0;
    if skip {
        if let Err(e) = file.inner.seek(SeekFrom::Start(u.start - 1)) {
            acc.problem(0, format!("cannot read: {e}"));
            return acc;
        }
    }
    let limit = if u.end == u64::MAX {
        u64::MAX
    } else {
        u.end - u.start + u64::from(skip)
    };
    let mut layout = info.layout.clone();
    let mut ranges: Vec<(u32, u32)> = Vec::with_capacity(64);
    let mut data_seen = false;
    let kind = info.kind;
    let mut on_item = |item: Item<'_>| {
        acc.physical += 1;
        let n = acc.physical;
        let line = match item {
            Item::TooLong(len) => {
                acc.problem(
                    n,
                    format!(
                        "a line of {len} bytes, longer than the {MAX_LINE}-byte limit: skipped"
                    ),
                );
                return;
            }
            Item::Line(l) => l.strip_suffix(b"\r").unwrap_or(l),
        };
        match kind {
            Kind::Json => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    return;
                }
                match serde_json::from_slice::<serde_json::Value>(line) {
                    Ok(serde_json::Value::Object(m)) => acc.record(&Json(&m), request_id),
                    Ok(_) => acc.problem(n, "not a JSON object".into()),
                    Err(e) => acc.problem(n, format!("invalid JSON: {e}")),
                }
            }
            Kind::Standard => {
                if line.is_empty() {
                    return;
                }
                if line[0] == b'#' {
                    if let Some(rest) = line.strip_prefix(b"#Fields:") {
                        match Layout::parse(rest) {
                            Some(l) => {
                                if data_seen && l != info.layout {
                                    acc.layout_changed = true;
                                }
                                layout = l;
                            }
                            None => acc.problem(n, "#Fields line names no fields".into()),
                        }
                    }
                    return;
                }
                data_seen = true;
                if std::str::from_utf8(line).is_err() {
                    acc.problem(n, "line is not UTF-8 (values must be URL-encoded)".into());
                    return;
                }
                ranges.clear();
                let mut start = 0u32;
                for i in memchr::memchr_iter(b'\t', line) {
                    ranges.push((start, i as u32));
                    start = i as u32 + 1;
                }
                ranges.push((start, line.len() as u32));
                if ranges.len() != layout.names.len() {
                    acc.problem(
                        n,
                        format!(
                            "{} tab-separated values, but #Fields names {}",
                            ranges.len(),
                            layout.names.len()
                        ),
                    );
                    return;
                }
                let rec = Std {
                    line,
                    ranges: &ranges,
                    layout: &layout,
                };
                acc.record(&rec, request_id);
            }
        }
    };
    let err = if info.gz {
        each_line(
            flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(256 * 1024, file)),
            false,
            u64::MAX,
            &mut on_item,
        )
    } else {
        each_line(file, skip, limit, &mut on_item)
    };
    if let Some(e) = err {
        let n = acc.physical + 1;
        acc.problem(
            n,
            format!("read error (the file ends early or is damaged): {e}"),
        );
    }
    acc
}

/// Options for [`analyze_with`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Collect every field of the lines with this `x-edge-request-id`.
    pub request_id: Option<String>,
    /// Threads (0: one per core).
    pub threads: usize,
    /// Largest byte range of a plain file read as one unit (0: the default).
    pub range_bytes: u64,
    /// Called now and then with (bytes read, total bytes), from another thread.
    pub progress: Option<fn(u64, u64)>,
    /// WAF logs joined by request id (`--waf-logs`).
    pub waf: Option<std::sync::Arc<crate::waf::WafIndex>>,
}

/// Reads `files` in parallel (one thread per core) and groups the refusals, as `options` say.
pub fn analyze_with(files: &[PathBuf], opts: &Options) -> Summary {
    let threads = if opts.threads > 0 {
        opts.threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    let range = if opts.range_bytes > 0 {
        opts.range_bytes
    } else {
        RANGE
    };
    let request_id = opts.request_id.as_deref().map(str::as_bytes);

    // Inspect every file (in parallel too: opening a gzip file reads its head).
    let infos: Vec<Result<FileInfo, String>> =
        parallel_map(files.len(), threads, |i| inspect(&files[i]));
    let total: u64 = infos.iter().flatten().map(|i| i.size).sum();
    let mut units = Vec::new();
    for (fi, info) in infos.iter().enumerate() {
        let Ok(info) = info else { continue };
        if info.gz || info.size <= range {
            units.push(Unit {
                file: fi,
                start: 0,
                end: u64::MAX,
            });
        } else {
            // At least one range per thread for a big file, each at most `range` bytes.
            let n = info.size.div_ceil(range).max(threads as u64);
            let step = info.size.div_ceil(n);
            let mut s = 0;
            while s < info.size {
                let e = (s + step).min(info.size);
                units.push(Unit {
                    file: fi,
                    start: s,
                    end: if e == info.size { u64::MAX } else { e },
                });
                s = e;
            }
        }
    }
    // Largest first: gzip files cannot be split, so start the long ones early.
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by_key(|&i| {
        let u = &units[i];
        let size = infos[u.file].as_ref().map_or(0, |f| f.size);
        std::cmp::Reverse(u.end.min(size) - u.start.min(size))
    });
    let read = AtomicU64::new(0);
    let done = std::sync::atomic::AtomicBool::new(false);
    let results: Vec<Acc> = std::thread::scope(|s| {
        if let Some(p) = opts.progress {
            let (read, done) = (&read, &done);
            s.spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    p(read.load(Ordering::Relaxed), total);
                }
            });
        }
        let out = parallel_map(units.len(), threads, |k| {
            let u = &units[order[k]];
            let info = infos[u.file]
                .as_ref()
                .expect("units are made of readable files");
            (
                order[k],
                run_unit(info, u, request_id, &read, opts.waf.as_ref()),
            )
        });
        done.store(true, Ordering::Relaxed);
        // Back from largest-first to unit order.
        let mut out = out;
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, a)| a).collect()
    });

    // Merge in file and range order; redo sequentially a split file whose layout changed.
    let mut summary = Summary {
        files: files.len(),
        ..Default::default()
    };
    let mut groups: Vec<RawGroup> = Vec::new();
    let mut by_cause: HashMap<String, usize> = HashMap::new();
    let mut problems: Vec<(usize, u64, String)> = Vec::new();
    let mut bad_per_file = vec![0u64; files.len()];
    let mut results = results.into_iter().map(Some).collect::<Vec<_>>();
    let mut ui = 0;
    for (fi, info) in infos.iter().enumerate() {
        let info = match info {
            Ok(i) => i,
            Err(reason) => {
                problems.push((fi, 0, reason.clone()));
                bad_per_file[fi] += 1;
                continue;
            }
        };
        let mut accs: Vec<Acc> = Vec::new();
        while ui < units.len() && units[ui].file == fi {
            accs.push(results[ui].take().expect("each unit once"));
            ui += 1;
        }
        if accs.len() > 1 && accs.iter().any(|a| a.layout_changed) {
            let whole = Unit {
                file: fi,
                start: 0,
                end: u64::MAX,
            };
            accs = vec![run_unit(info, &whole, request_id, &read, opts.waf.as_ref())];
        }
        let mut offset = 0;
        for a in accs {
            summary.lines += a.lines;
            summary.bad_lines += a.bad_lines;
            bad_per_file[fi] += a.bad_lines;
            summary.time_taken_count += a.time_taken_count;
            summary.time_taken_sum += a.time_taken_ms as f64 / 1000.0;
            summary.request.extend(a.request);
            for p in a.problems {
                problems.push((fi, if p.line == 0 { 0 } else { offset + p.line }, p.reason));
            }
            offset += a.physical;
            for g in a.groups {
                match by_cause.get(&g.cause) {
                    Some(&i) => groups[i].merge(g),
                    None => {
                        by_cause.insert(g.cause.clone(), groups.len());
                        groups.push(g);
                    }
                }
            }
        }
    }
    // The first few problems of each file (so that one damaged file does not hide the
    // others), then how many more it had.
    problems.sort_by_key(|(f, l, _)| (*f, *l));
    let mut shown: Vec<String> = Vec::new();
    let mut i = 0;
    while i < problems.len() {
        let f = problems[i].0;
        let end = problems[i..]
            .iter()
            .position(|p| p.0 != f)
            .map_or(problems.len(), |n| i + n);
        for (_, l, r) in &problems[i..end.min(i + PROBLEMS_PER_FILE)] {
            shown.push(format!("{}:{l}: {r}", files[f].display()));
        }
        let more = bad_per_file[f].saturating_sub(PROBLEMS_PER_FILE as u64);
        if more > 0 {
            shown.push(format!(
                "{}: … and {more} more unreadable line(s)",
                files[f].display()
            ));
        }
        i = end;
    }
    shown.truncate(MAX_PROBLEMS);
    summary.problems = shown;
    summary.bad_lines += infos.iter().filter(|i| i.is_err()).count() as u64;
    summary.time_taken_sum = (summary.time_taken_sum * 1000.0).round() / 1000.0;
    summary.groups = groups
        .into_iter()
        .map(|g| (g.cause.clone(), g.finish()))
        .collect();
    summary
}

/// `f(0..n)` on up to `threads` threads; results in index order.
fn parallel_map<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, n.max(1));
    let f = &f;
    let next = &next;
    let mut out: Vec<(usize, T)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        mine.push((i, f(i)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_the_index_order() {
        let out = parallel_map(200, 4, |i| {
            if i % 7 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            i
        });
        assert_eq!(out, (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn time_taken_in_ms() {
        assert_eq!(parse_ms(b"0.107"), Some(107));
        assert_eq!(parse_ms(b"12"), Some(12_000));
        assert_eq!(parse_ms(b"1.5"), Some(1_500));
        assert_eq!(parse_ms(b"0.0005"), Some(0));
        assert_eq!(parse_ms(b"-"), None);
        assert_eq!(parse_ms(b"1e3"), None);
    }

    #[test]
    fn lines_across_blocks_ranges_and_limits() {
        let text = b"a\nbb\n\nccc\nlast";
        let collect = |skip, limit| {
            let mut v = Vec::new();
            each_line(&text[..], skip, limit, &mut |i| {
                if let Item::Line(l) = i {
                    v.push(String::from_utf8_lossy(l).into_owned())
                }
            });
            v
        };
        assert_eq!(collect(false, u64::MAX), ["a", "bb", "", "ccc", "last"]);
        assert_eq!(collect(false, 2), ["a"]);
        assert_eq!(collect(false, 3), ["a", "bb"]);
        assert_eq!(collect(true, u64::MAX), ["bb", "", "ccc", "last"]);
    }
}
