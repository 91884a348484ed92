//! The standard (legacy) access log: W3C extended format, 33 tab-separated fields
//! (`cloudfront.md` §2.1–2.2), and the JSON lines with the same field names plus Gatehouse's
//! `cause`, `cause-detail`, `c-country` and `cache-behavior-path-pattern`.

use crate::encode::{push_field, put};
use crate::record::{AsRecord, RecordRef};
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The 33 fields, in CloudFront's order.
pub const FIELDS: [&str; 33] = [
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
];

/// The two header lines of every standard log file.
pub fn header() -> String {
    format!("#Version: 1.0\n#Fields: {}\n", FIELDS.join(" "))
}

/// Whole seconds since the Unix epoch (0 before it).
pub(crate) fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// `(YYYY-MM-DD, HH:MM:SS)` of a time, UTC: the `date` and `time` fields.
pub fn date_time(t: SystemTime) -> (String, String) {
    let s = Stamp::new(t);
    (
        String::from_utf8_lossy(s.date()).into_owned(),
        String::from_utf8_lossy(&s.time).into_owned(),
    )
}

/// Civil date of a day number (days since 1970-01-01), Howard Hinnant's algorithm.
pub fn civil(days: u64) -> (i64, u32, u32) {
    let z = days as i64 + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The `date` and `time` values of a record, formatted once for both formats without
/// allocating.
struct Stamp {
    date: [u8; 32],
    date_len: usize,
    time: [u8; 8],
}

impl Stamp {
    fn new(t: SystemTime) -> Self {
        let secs = epoch_secs(t);
        let (y, m, d) = civil(secs / 86400);
        let mut date = [0u8; 32];
        let date_len = if (0..=9999).contains(&y) {
            let y = y as u32;
            date[..4].copy_from_slice(&[
                b'0' + (y / 1000) as u8,
                b'0' + (y / 100 % 10) as u8,
                b'0' + (y / 10 % 10) as u8,
                b'0' + (y % 10) as u8,
            ]);
            date[4] = b'-';
            date[5..7].copy_from_slice(&two(m));
            date[7] = b'-';
            date[8..10].copy_from_slice(&two(d));
            10
        } else {
            let mut w = &mut date[..];
            let _ = write!(w, "{y:04}-{m:02}-{d:02}");
            32 - w.len()
        };
        let s = (secs % 86400) as u32;
        let (h, mi, se) = (two(s / 3600), two(s / 60 % 60), two(s % 60));
        Stamp {
            date,
            date_len,
            time: [h[0], h[1], b':', mi[0], mi[1], b':', se[0], se[1]],
        }
    }

    fn date(&self) -> &[u8] {
        &self.date[..self.date_len]
    }
}

/// Two decimal digits of `n` (< 100).
fn two(n: u32) -> [u8; 2] {
    [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]
}

/// Appends `n` in decimal.
fn push_u64(out: &mut Vec<u8>, n: u64) {
    put(out, itoa::Buffer::new().format(n).as_bytes());
}

/// Appends an IP address as `Display` writes it; IPv4 without the formatting machinery.
pub fn push_ip(out: &mut Vec<u8>, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(v4) => {
            for (i, o) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                if o >= 100 {
                    out.push(b'0' + o / 100);
                }
                if o >= 10 {
                    out.push(b'0' + o / 10 % 10);
                }
                out.push(b'0' + o % 10);
            }
        }
        std::net::IpAddr::V6(_) => {
            let _ = write!(out, "{ip}");
        }
    }
}

/// Appends seconds with millisecond precision (`1.234`).
fn push_secs3(out: &mut Vec<u8>, d: Duration) {
    push_u64(out, d.as_secs());
    let ms = d.subsec_millis();
    put(
        out,
        &[
            b'.',
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
        ],
    );
}

fn opt(out: &mut Vec<u8>, v: Option<&[u8]>) {
    push_field(out, v.unwrap_or(b""));
}

fn push_or_dash(out: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(n) => push_u64(out, n),
        None => out.push(b'-'),
    }
}

/// Appends the record's standard log line (with its newline) to `out`.
///
/// Builds the line in place: no allocation beyond `out` growing.
pub fn write_line(r: &impl AsRecord, out: &mut Vec<u8>) {
    let r = r.record();
    line_with_spans(&r, &Stamp::new(r.end), out, &mut Spans::default());
}

/// Where each of the 33 values of a line starts and ends (offsets from the line's start),
/// and which were written as given (bit `i`), not encoded.
struct Spans {
    at: [(u32, u32); 33],
    as_given: u64,
}

impl Default for Spans {
    fn default() -> Self {
        Spans {
            at: [(0, 0); 33],
            as_given: 0,
        }
    }
}

/// Appends the record's 33 standard values to `out`, tab-separated, with the newline, noting
/// in `spans` where each is. Values are encoded, but for those marked `given` (the result
/// types, the protocol and its version: constants in the edge, but anything in a hand-made
/// record), written as they are.
///
/// One arm a field, in [`FIELDS`]' order (checked by the tests): straight-line code, no
/// dispatch on the field number.
fn line_with_spans(r: &RecordRef<'_>, stamp: &Stamp, out: &mut Vec<u8>, spans: &mut Spans) {
    out.reserve(512);
    let line = out.len();
    let mut i = 0;
    // `field!(write)` for an encoded value, `field!(given write)` for one written as given.
    macro_rules! field {
        (given $write:expr) => {{
            spans.as_given |= 1 << i;
            field!($write)
        }};
        ($write:expr) => {{
            let start = out.len();
            $write;
            // A line is far shorter than 4 GiB: request heads are bounded.
            spans.at[i] = ((start - line) as u32, (out.len() - line) as u32);
            i += 1;
            out.push(if i == FIELDS.len() { b'\n' } else { b'\t' });
        }};
    }
    field!(put(out, stamp.date())); // date
    field!(put(out, &stamp.time)); // time
    field!(push_field(out, r.edge_location.as_bytes())); // x-edge-location
    field!(push_u64(out, r.sc_bytes)); // sc-bytes
    field!(push_ip(out, r.c_ip)); // c-ip
    field!(push_field(out, r.method)); // cs-method
    field!(push_field(out, r.dist.domain.as_bytes())); // cs(Host)
    field!(push_field(out, r.uri_stem)); // cs-uri-stem
    field!(if r.status == 0 {
        put(out, b"000")
    } else {
        push_u64(out, r.status.into())
    }); // sc-status
    field!(opt(out, r.referer)); // cs(Referer)
    field!(opt(out, r.user_agent)); // cs(User-Agent)
    field!(opt(out, r.query)); // cs-uri-query
    field!(opt(out, r.cookie.filter(|_| r.dist.include_cookies))); // cs(Cookie)
    field!(given put(out, r.result_type.as_bytes())); // x-edge-result-type
    field!(push_field(out, r.request_id)); // x-edge-request-id
    field!(push_field(out, r.host_header)); // x-host-header
    field!(given put(out, r.protocol.as_bytes())); // cs-protocol
    field!(push_u64(out, r.cs_bytes)); // cs-bytes
    field!(push_secs3(out, r.time_taken)); // time-taken
    field!(opt(out, r.forwarded_for)); // x-forwarded-for
    field!(opt(out, r.ssl_protocol.map(str::as_bytes))); // ssl-protocol
    field!(opt(out, r.ssl_cipher.map(str::as_bytes))); // ssl-cipher
    field!(given put(out, r.response_result_type.as_bytes())); // x-edge-response-result-type
    field!(given put(out, r.protocol_version.as_bytes())); // cs-protocol-version
                                                           // fle-status, fle-encrypted-fields: no field-level encryption.
    field!(out.push(b'-'));
    field!(out.push(b'-'));
    field!(push_u64(out, r.c_port.into())); // c-port
    field!(push_secs3(out, r.ttfb)); // time-to-first-byte
    field!(given put(out, r.detailed_result_type.as_bytes())); // x-edge-detailed-result-type
    field!(opt(out, r.content_type)); // sc-content-type
    field!(push_or_dash(out, r.content_len)); // sc-content-len
    field!(push_or_dash(out, r.range.map(|(a, _)| a))); // sc-range-start
    field!(push_or_dash(out, r.range.map(|(_, b)| b))); // sc-range-end
    debug_assert_eq!(i, FIELDS.len());
}

/// Appends the record's standard line to `standard` and its JSON line to `json`, encoding
/// the 33 values once for both (the JSON line's values are the standard line's).
pub fn write_both(r: &impl AsRecord, standard: &mut Vec<u8>, json: &mut Vec<u8>) {
    let r = r.record();
    let stamp = Stamp::new(r.end);
    let mut spans = Spans::default();
    let line = standard.len();
    line_with_spans(&r, &stamp, standard, &mut spans);
    json_from(&r, &standard[line..], &spans, json);
}

/// A member of the JSON line.
#[derive(Clone, Copy)]
enum JsonKey {
    /// A standard field, by index into [`FIELDS`].
    Field(usize),
    Timestamp,
    TimestampMs,
    DistributionId,
    Country,
    PathPattern,
    Cause,
    CauseDetail,
}

/// The text written before a JSON member's value: the previous value's closing quote and `,`
/// (or `{`), the quoted name, `:` and the value's opening quote. Padded to 48 bytes, so
/// that it is copied with three fixed-size moves.
struct Before {
    text: [u8; 48],
    len: usize,
}

/// The JSON members in the order they are written: sorted by name (the order of a
/// `serde_json::Map`, which the JSON line was first written through), each with the text that
/// goes before its value. Every value is a string.
fn json_keys() -> &'static [(Before, JsonKey)] {
    static KEYS: OnceLock<Vec<(Before, JsonKey)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut k: Vec<(&'static str, JsonKey)> = FIELDS
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, JsonKey::Field(i)))
            .collect();
        k.extend([
            ("timestamp", JsonKey::Timestamp),
            ("timestamp(ms)", JsonKey::TimestampMs),
            ("distribution-id", JsonKey::DistributionId),
            ("c-country", JsonKey::Country),
            ("cache-behavior-path-pattern", JsonKey::PathPattern),
            ("cause", JsonKey::Cause),
            ("cause-detail", JsonKey::CauseDetail),
        ]);
        k.sort_by(|a, b| a.0.cmp(b.0));
        k.iter()
            .enumerate()
            .map(|(n, &(name, key))| {
                let open = if n == 0 { "{" } else { "\"," };
                let before = format!("{open}\"{name}\":\"");
                let mut text = [0u8; 48];
                text[..before.len()].copy_from_slice(before.as_bytes());
                let len = before.len();
                (Before { text, len }, key)
            })
            .collect()
    })
}

/// Appends a member's [`Before`] text.
#[inline(always)]
fn put_before(out: &mut Vec<u8>, b: &Before) {
    out.reserve(48);
    // SAFETY: `reserve(48)` leaves 48 writable bytes after `len`; the 48 bytes copied are all
    // of `b.text`, and `b.len` (≤ 48) of them are kept.
    unsafe {
        let len = out.len();
        std::ptr::copy_nonoverlapping(b.text.as_ptr(), out.as_mut_ptr().add(len), 48);
        out.set_len(len + b.len);
    }
}

/// Appends `s` as the inside of a JSON string (no quotes), escaped as serde_json does.
#[inline]
fn json_inner(out: &mut Vec<u8>, s: &[u8]) {
    if s.iter().all(|&c| json_plain(c)) {
        put(out, s);
    } else {
        let start = out.len();
        let _ = serde_json::to_writer(&mut *out, &*String::from_utf8_lossy(s));
        // serde_json's quotes: the closing one, then the opening one.
        out.pop();
        out.remove(start);
    }
}

/// Whether `b` can stand in a JSON string as is, and is ASCII (so the bytes are UTF-8).
#[inline]
fn json_plain(b: u8) -> bool {
    JSON_PLAIN[b as usize]
}

/// [`json_plain`] as a table: printable ASCII but `"` and `\`.
static JSON_PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0x20;
    while i < 0x7f {
        t[i] = i != b'"' as usize && i != b'\\' as usize;
        i += 1;
    }
    t
};

/// Appends the record's JSON line (with its newline) to `out`: the standard fields (values as
/// in the standard log, so encoded the same way), `timestamp`, `timestamp(ms)`,
/// `distribution-id`, and Gatehouse's `cause`, `cause-detail`, `c-country`,
/// `cache-behavior-path-pattern`.
///
/// Members are in name order, every value a string. Written in place: encoded values are
/// ASCII without quotes or backslashes, so they need no JSON escaping (anything else goes
/// through serde_json's string escaping).
pub fn write_json(r: &impl AsRecord, out: &mut Vec<u8>) {
    thread_local! {
        /// The standard line the JSON values are taken from, kept between calls.
        static LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let r = r.record();
    let stamp = Stamp::new(r.end);
    LINE.with_borrow_mut(|line| {
        line.clear();
        let mut spans = Spans::default();
        line_with_spans(&r, &stamp, line, &mut spans);
        json_from(&r, line, &spans, out);
    });
}

/// The JSON line of `r`, its standard values taken from `line` at `spans`. Encoded values
/// are printable ASCII without `"` or `\` (both are escaped by the standard encoding), so
/// they go between quotes as they are.
fn json_from(r: &RecordRef<'_>, line: &[u8], spans: &Spans, out: &mut Vec<u8>) {
    let ms = r
        .end
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as u64;
    out.reserve(1536);
    for (before, key) in json_keys() {
        put_before(out, before);
        match *key {
            JsonKey::Field(i) => {
                let (a, b) = spans.at[i];
                let v = &line[a as usize..b as usize];
                // Encoded values need no check; values written as given may need escaping.
                if spans.as_given & (1 << i) == 0 {
                    put(out, v);
                } else {
                    json_inner(out, v);
                }
            }
            JsonKey::Timestamp => push_u64(out, ms / 1000),
            JsonKey::TimestampMs => push_u64(out, ms),
            JsonKey::DistributionId => json_inner(out, r.dist.id.as_bytes()),
            JsonKey::Country => match &r.country {
                Some(c) => json_inner(out, c),
                None => out.push(b'-'),
            },
            JsonKey::PathPattern => json_inner(out, r.path_pattern.as_bytes()),
            JsonKey::Cause => json_inner(out, r.cause.unwrap_or("-").as_bytes()),
            JsonKey::CauseDetail => json_inner(out, r.cause_detail.unwrap_or(b"-")),
        }
    }
    put(out, b"\"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{DistLog, LogRecord};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use std::sync::Arc;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(18243), (2019, 12, 13));
        assert_eq!(civil(11016), (2000, 2, 29));
        let t = UNIX_EPOCH + Duration::from_secs(1_576_276_586);
        assert_eq!(date_time(t), ("2019-12-13".into(), "22:36:26".into()));
    }

    #[test]
    fn header_lines() {
        let h = header();
        assert!(h.starts_with("#Version: 1.0\n#Fields: date time x-edge-location sc-bytes"));
        assert!(h.ends_with("sc-range-start sc-range-end\n"));
    }

    /// The first implementation of both lines (one allocated value per field, the JSON
    /// line through a `serde_json::Map`): the in-place writers must produce the same bytes.
    mod reference {
        use super::super::*;
        use crate::record::LogRecord;

        /// The first `date_time`, with `format!` (the production one goes through `Stamp`,
        /// which this checks, years outside 0000-9999 included).
        fn date_time(t: SystemTime) -> (String, String) {
            let secs = epoch_secs(t);
            let (y, m, d) = civil(secs / 86400);
            let s = secs % 86400;
            (
                format!("{y:04}-{m:02}-{d:02}"),
                format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
            )
        }

        fn secs3(d: Duration) -> String {
            format!("{}.{:03}", d.as_secs(), d.subsec_millis())
        }

        fn values(r: &LogRecord) -> [Vec<u8>; 33] {
            let (date, time) = date_time(r.end);
            let mut v: [Vec<u8>; 33] = std::array::from_fn(|_| Vec::new());
            let s = |x: &str| x.as_bytes().to_vec();
            let enc = |x: Option<&[u8]>| {
                let mut o = Vec::new();
                opt(&mut o, x);
                o
            };
            v[0] = s(&date);
            v[1] = s(&time);
            v[2] = enc(Some(r.edge_location.as_bytes()));
            v[3] = s(&r.sc_bytes.to_string());
            v[4] = s(&r.c_ip.to_string());
            v[5] = enc(Some(r.method.as_bytes()));
            v[6] = enc(Some(r.dist.domain.as_bytes()));
            v[7] = enc(Some(&r.uri_stem));
            v[8] = if r.status == 0 {
                s("000")
            } else {
                s(&r.status.to_string())
            };
            v[9] = enc(r.referer.as_deref());
            v[10] = enc(r.user_agent.as_deref());
            v[11] = enc(r.query.as_deref());
            v[12] = enc(if r.dist.include_cookies {
                r.cookie.as_deref()
            } else {
                None
            });
            v[13] = s(r.result_type);
            v[14] = enc(Some(r.request_id.as_bytes()));
            v[15] = enc(Some(&r.host_header));
            v[16] = s(r.protocol);
            v[17] = s(&r.cs_bytes.to_string());
            v[18] = s(&secs3(r.time_taken));
            v[19] = enc(r.forwarded_for.as_deref().map(str::as_bytes));
            v[20] = enc(r.ssl_protocol.map(str::as_bytes));
            v[21] = enc(r.ssl_cipher.map(str::as_bytes));
            v[22] = s(r.response_result_type);
            v[23] = s(r.protocol_version);
            v[24] = s("-");
            v[25] = s("-");
            v[26] = s(&r.c_port.to_string());
            v[27] = s(&secs3(r.ttfb));
            v[28] = s(r.detailed_result_type);
            v[29] = enc(r.content_type.as_deref().map(str::as_bytes));
            v[30] = match r.content_len {
                Some(n) => s(&n.to_string()),
                None => s("-"),
            };
            match r.range {
                Some((a, b)) => {
                    v[31] = s(&a.to_string());
                    v[32] = s(&b.to_string());
                }
                None => {
                    v[31] = s("-");
                    v[32] = s("-");
                }
            }
            v
        }

        pub fn write_line(r: &LogRecord, out: &mut Vec<u8>) {
            for (i, v) in values(r).iter().enumerate() {
                if i > 0 {
                    out.push(b'\t');
                }
                out.extend_from_slice(v);
            }
            out.push(b'\n');
        }

        pub fn write_json(r: &LogRecord, out: &mut Vec<u8>) {
            let mut m = serde_json::Map::with_capacity(42);
            let ms = r
                .end
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_millis() as u64;
            m.insert("timestamp".into(), (ms / 1000).to_string().into());
            m.insert("timestamp(ms)".into(), ms.to_string().into());
            m.insert("distribution-id".into(), r.dist.id.to_string().into());
            for (name, v) in FIELDS.iter().zip(values(r)) {
                m.insert(
                    (*name).into(),
                    String::from_utf8(v).unwrap_or_default().into(),
                );
            }
            let dash =
                |s: Option<String>| serde_json::Value::String(s.unwrap_or_else(|| "-".into()));
            m.insert(
                "c-country".into(),
                dash(r.country.map(|c| String::from_utf8_lossy(&c).into_owned())),
            );
            m.insert(
                "cache-behavior-path-pattern".into(),
                r.path_pattern.to_string().into(),
            );
            m.insert("cause".into(), dash(r.cause.map(str::to_string)));
            m.insert(
                "cause-detail".into(),
                dash(r.cause_detail.as_deref().map(str::to_string)),
            );
            let _ = serde_json::to_writer(&mut *out, &m);
            let _ = out.write_all(b"\n");
        }
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn pick<T: Copy>(&mut self, items: &[T]) -> T {
            items[self.below(items.len() as u64) as usize]
        }
        fn bytes(&mut self) -> Box<[u8]> {
            const PARTS: &[&[u8]] = &[
                b"",
                b"/a/b.html",
                b"Mozilla/5.0 (X11; Linux x86_64)",
                b"100% \"quoted\" {x} [y] | ^ ~ ` ' < > # \\",
                b"\t\r\n\x00\x1f\x7f",
                b"\xc3\xa9t\xc3\xa9 \xe2\x82\xac",
                b"\xff\xfe not UTF-8",
                b"a=1&b=%20c",
            ];
            let mut v = Vec::new();
            for _ in 0..self.below(3) {
                v.extend_from_slice(self.pick(PARTS));
            }
            v.into()
        }
        fn text(&mut self) -> String {
            String::from_utf8_lossy(&self.bytes()).into_owned()
        }
        fn maybe<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
            (self.below(3) > 0).then(|| f(self))
        }
    }

    fn record(g: &mut Rng) -> LogRecord {
        const STATICS: &[&str] = &[
            "",
            "Hit",
            "Miss",
            "ClientHungUpRequest",
            "HTTP/1.1",
            "quote\"",
            "back\\slash",
            "tab\t",
            "\u{1}",
            "del\u{7f}",
            "é",
        ];
        let end = match g.below(6) {
            0 => UNIX_EPOCH - Duration::from_secs(5),
            1 => UNIX_EPOCH + Duration::from_secs(253_402_300_799 + g.below(1 << 40)),
            _ => UNIX_EPOCH + Duration::from_millis(g.below(4_102_444_800_000)),
        };
        let dur = |g: &mut Rng| {
            Duration::from_nanos(match g.below(3) {
                0 => g.below(1_000_000_000),
                1 => g.below(100_000_000_000),
                _ => g.next(),
            })
        };
        let num = |g: &mut Rng| match g.below(3) {
            0 => 0,
            1 => g.below(100_000),
            _ => g.next(),
        };
        LogRecord {
            dist: Arc::new(DistLog {
                id: g.text().into(),
                domain: g.text().into(),
                enabled: true,
                prefix: "".into(),
                include_cookies: g.below(2) == 0,
            }),
            end,
            edge_location: g.text().into(),
            sc_bytes: num(g),
            c_ip: if g.below(2) == 0 {
                IpAddr::V4(Ipv4Addr::from(g.next() as u32))
            } else {
                IpAddr::V6(Ipv6Addr::from(
                    (g.next() as u128) << (g.below(2) * 64) | g.below(3) as u128,
                ))
            },
            method: g.text().into(),
            uri_stem: g.bytes(),
            status: g.pick(&[0, 200, 206, 304, 403, 502, 65535]),
            referer: g.maybe(Rng::bytes),
            user_agent: g.maybe(Rng::bytes),
            query: g.maybe(Rng::bytes),
            cookie: g.maybe(Rng::bytes),
            result_type: g.pick(STATICS),
            request_id: g.text().into(),
            host_header: g.bytes(),
            protocol: g.pick(STATICS),
            cs_bytes: num(g),
            time_taken: dur(g),
            forwarded_for: g.maybe(|g| g.text().into()),
            ssl_protocol: g.maybe(|g| g.pick(STATICS)),
            ssl_cipher: g.maybe(|g| g.pick(STATICS)),
            response_result_type: g.pick(STATICS),
            protocol_version: g.pick(STATICS),
            c_port: g.next() as u16,
            ttfb: dur(g),
            detailed_result_type: g.pick(STATICS),
            content_type: g.maybe(|g| g.text().into()),
            content_len: g.maybe(num),
            range: g.maybe(|g| (num(g), num(g))),
            cause: g.maybe(|g| g.pick(STATICS)),
            cause_detail: g.maybe(|g| g.text().into()),
            country: g.maybe(|g| [g.next() as u8, g.pick(&[b'A', 0xff, b'"'])]),
            path_pattern: g.text().into(),
        }
    }

    #[test]
    fn same_bytes_as_the_reference_writers() {
        let mut g = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for n in 0..20_000 {
            let r = record(&mut g);
            // Appends to what is already in the buffer.
            a.clear();
            b.clear();
            a.extend_from_slice(b"prefix");
            b.extend_from_slice(b"prefix");
            write_line(&r, &mut a);
            reference::write_line(&r, &mut b);
            assert_eq!(a, b, "standard line of record {n}: {r:?}");
            a.clear();
            b.clear();
            write_json(&r, &mut a);
            reference::write_json(&r, &mut b);
            assert_eq!(
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b),
                "JSON line of record {n}: {r:?}"
            );
            assert_eq!(a, b);
            // Both at once, each appended after what its buffer already holds.
            let (mut std_both, mut json_both) = (b"x\n".to_vec(), b"{}\n".to_vec());
            write_both(&r, &mut std_both, &mut json_both);
            let mut std_ref = b"x\n".to_vec();
            reference::write_line(&r, &mut std_ref);
            let mut json_ref = b"{}\n".to_vec();
            json_ref.extend_from_slice(&b);
            assert_eq!(std_both, std_ref, "write_both, standard line of record {n}");
            assert_eq!(json_both, json_ref, "write_both, JSON line of record {n}");
        }
    }
}
