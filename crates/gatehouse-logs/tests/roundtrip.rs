//! Property: whatever a viewer sends (tabs, newlines, `%`, `~`, spaces, quotes, bytes that are
//! not UTF-8), a record written as a standard line reads back field for field: the decoded
//! value equals the original bytes, and an absent or empty value is `-`. The JSON line carries
//! the same values plus the cause fields.

use gatehouse_logs::reader::{self, StandardReader};
use gatehouse_logs::standard::{self, FIELDS};
use gatehouse_logs::{DistLog, LogRecord};
use proptest::collection::vec;
use proptest::prelude::*;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// Bytes a hostile viewer would pick, plus anything at all.
fn hostile_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => prop::sample::select(&b"\t\n\r %~\"'-#<>{}|\\^[]`?&=;,()/+\x00\x7f\x80\xc3\xa9\xff"[..]),
        2 => b'a'..=b'z',
        2 => any::<u8>(),
    ]
}

fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => vec(hostile_byte(), 0..48),
        1 => Just(b"-".to_vec()),
        1 => Just(b"%".to_vec()),
        1 => Just(b"%2D%zz%".to_vec()),
    ]
}

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => vec(
            prop_oneof![
                3 => prop::sample::select(&['\t', '\n', '\r', ' ', '%', '~', '"', '-', 'é', '€', '\u{0}', '😀'][..]),
                2 => any::<char>(),
                2 => prop::char::range('a', 'z'),
            ],
            0..32
        )
        .prop_map(|c| c.into_iter().collect()),
        1 => Just("-".to_string()),
        1 => Just(String::new()),
    ]
}

fn one_of(items: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop::sample::select(items)
}

const RESULT_TYPES: &[&str] = &[
    "Hit",
    "RefreshHit",
    "Miss",
    "LimitExceeded",
    "CapacityExceeded",
    "Error",
    "Redirect",
];
const DETAILED: &[&str] = &[
    "Miss",
    "Redirect",
    "Error",
    "ClientGeoBlocked",
    "ClientHungUpRequest",
    "ClientCommError",
    "InvalidRequest",
    "InvalidRequestMethod",
    "OriginConnectError",
    "OriginCommError",
    "OriginDnsError",
];

/// The viewer's side of a record.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    uri_stem: Vec<u8>,
    referer: Option<Vec<u8>>,
    user_agent: Option<Vec<u8>>,
    query: Option<Vec<u8>>,
    cookie: Option<Vec<u8>>,
    request_id: String,
    host_header: Vec<u8>,
    forwarded_for: Option<String>,
}

fn request() -> BoxedStrategy<Request> {
    (
        (
            hostile_string(),
            hostile_bytes(),
            proptest::option::of(hostile_bytes()),
        ),
        (
            proptest::option::of(hostile_bytes()),
            proptest::option::of(hostile_bytes()),
            proptest::option::of(hostile_bytes()),
        ),
        (
            hostile_string(),
            hostile_bytes(),
            proptest::option::of(hostile_string()),
        ),
    )
        .prop_map(|(a, b, c)| Request {
            method: a.0,
            uri_stem: a.1,
            referer: a.2,
            user_agent: b.0,
            query: b.1,
            cookie: b.2,
            request_id: c.0,
            host_header: c.1,
            forwarded_for: c.2,
        })
        .boxed()
}

/// Numbers, result types and the JSON-only fields.
type Numbers = (u64, u32, u64, IpAddr, u16, u64, (u64, u64), u16);

fn numbers() -> BoxedStrategy<Numbers> {
    (
        0u64..4_102_444_800,
        0u32..1000,
        any::<u64>(),
        any::<IpAddr>(),
        prop_oneof![Just(0u16), 100u16..600, any::<u16>()],
        any::<u64>(),
        (0u64..1_000_000_000_000, 0u64..1_000_000_000_000),
        any::<u16>(),
    )
        .boxed()
}

type Rest = (
    (String, bool, String, String),
    (&'static str, &'static str, &'static str, bool, &'static str),
    (Option<String>, Option<u64>, Option<(u64, u64)>),
    (
        Option<&'static str>,
        Option<String>,
        Option<[u8; 2]>,
        String,
    ),
);

fn rest() -> BoxedStrategy<Rest> {
    (
        (
            "[A-Z0-9]{1,14}",
            any::<bool>(),
            hostile_string(),
            hostile_string(),
        ),
        (
            one_of(RESULT_TYPES),
            one_of(RESULT_TYPES),
            one_of(DETAILED),
            any::<bool>(),
            one_of(&["HTTP/1.0", "HTTP/1.1", "HTTP/2.0"]),
        ),
        (
            proptest::option::of(hostile_string()),
            proptest::option::of(any::<u64>()),
            proptest::option::of((any::<u64>(), any::<u64>())),
        ),
        (
            proptest::option::of(one_of(&["geo-blocked", "https-only", "origin-timeout"])),
            proptest::option::of(hostile_string()),
            proptest::option::of(prop::array::uniform2(b'A'..=b'Z')),
            hostile_string(),
        ),
    )
        .boxed()
}

fn record() -> BoxedStrategy<LogRecord> {
    (request(), numbers(), rest())
        .prop_map(|(q, n, r)| {
            let (end_secs, end_ms, sc_bytes, c_ip, status, cs_bytes, times, c_port) = n;
            let ((id, include_cookies, domain, edge_location), rt, content, extra) = r;
            let https = rt.3;
            LogRecord {
                dist: Arc::new(DistLog {
                    id: Arc::from(id.as_str()),
                    domain: Arc::from(domain.as_str()),
                    enabled: true,
                    prefix: Arc::from(""),
                    include_cookies,
                }),
                end: UNIX_EPOCH
                    + Duration::from_secs(end_secs)
                    + Duration::from_millis(end_ms as u64),
                edge_location: Arc::from(edge_location.as_str()),
                sc_bytes,
                c_ip,
                method: q.method.into(),
                uri_stem: q.uri_stem.into(),
                status,
                referer: q.referer.map(Into::into),
                user_agent: q.user_agent.map(Into::into),
                query: q.query.map(Into::into),
                cookie: q.cookie.map(Into::into),
                result_type: rt.0,
                request_id: q.request_id.into(),
                host_header: q.host_header.into(),
                protocol: if https { "https" } else { "http" },
                cs_bytes,
                time_taken: Duration::from_micros(times.0),
                forwarded_for: q.forwarded_for.map(Into::into),
                ssl_protocol: https.then_some("TLSv1.3"),
                ssl_cipher: https.then_some("TLS_AES_128_GCM_SHA256"),
                response_result_type: rt.1,
                protocol_version: rt.4,
                c_port,
                ttfb: Duration::from_micros(times.1),
                detailed_result_type: rt.2,
                content_type: content.0.map(Into::into),
                content_len: content.1,
                range: content.2,
                cause: extra.0,
                cause_detail: extra.1.map(Into::into),
                country: extra.2,
                path_pattern: Arc::from(extra.3.as_str()),
            }
        })
        .boxed()
}

/// What a field must decode to: the bytes, or `None` for absent or empty.
fn want(v: Option<&[u8]>) -> Option<Vec<u8>> {
    v.filter(|b| !b.is_empty()).map(<[u8]>::to_vec)
}

fn secs3(d: Duration) -> String {
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` (counting, independent of the crate's algorithm).
fn days(date: &str) -> u64 {
    let p: Vec<u64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let leap = |y: u64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut n: u64 = (1970..p[0]).map(|y| if leap(y) { 366 } else { 365 }).sum();
    let months = [
        31,
        28 + leap(p[0]) as u64,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    n += months[..(p[1] - 1) as usize].iter().sum::<u64>();
    n + p[2] - 1
}

fn check(r: &LogRecord, line: &reader::Line<'_>) -> Result<(), TestCaseError> {
    let dec = |n: &str| line.decoded(n).map(|c| c.into_owned());
    let raw = |n: &str| line.get(n).unwrap().to_string();
    prop_assert_eq!(line.pairs().count(), 33);
    for (name, v) in line.pairs() {
        prop_assert!(!v.is_empty(), "{} is empty", name);
        prop_assert!(
            v.bytes().all(|b| b > 32 && b < 127),
            "{} = {:?} has a byte that must be encoded",
            name,
            v
        );
    }

    // date, time: the end, to the second, UTC.
    let secs = r.end.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let t: Vec<u64> = raw("time").split(':').map(|x| x.parse().unwrap()).collect();
    prop_assert_eq!(raw("date").len(), 10);
    prop_assert_eq!(raw("time").len(), 8);
    prop_assert_eq!(
        days(&raw("date")) * 86400 + t[0] * 3600 + t[1] * 60 + t[2],
        secs
    );

    prop_assert_eq!(
        dec("x-edge-location"),
        want(Some(r.edge_location.as_bytes()))
    );
    prop_assert_eq!(raw("sc-bytes"), r.sc_bytes.to_string());
    prop_assert_eq!(raw("c-ip").parse::<IpAddr>().unwrap(), r.c_ip);
    prop_assert_eq!(dec("cs-method"), want(Some(r.method.as_bytes())));
    prop_assert_eq!(dec("cs(Host)"), want(Some(r.dist.domain.as_bytes())));
    prop_assert_eq!(dec("cs-uri-stem"), want(Some(&r.uri_stem)));
    let status = if r.status == 0 {
        "000".to_string()
    } else {
        r.status.to_string()
    };
    prop_assert_eq!(raw("sc-status"), status);
    prop_assert_eq!(dec("cs(Referer)"), want(r.referer.as_deref()));
    prop_assert_eq!(dec("cs(User-Agent)"), want(r.user_agent.as_deref()));
    prop_assert_eq!(dec("cs-uri-query"), want(r.query.as_deref()));
    let cookie = if r.dist.include_cookies {
        want(r.cookie.as_deref())
    } else {
        None
    };
    prop_assert_eq!(dec("cs(Cookie)"), cookie);
    prop_assert_eq!(raw("x-edge-result-type"), r.result_type);
    prop_assert_eq!(
        dec("x-edge-request-id"),
        want(Some(r.request_id.as_bytes()))
    );
    prop_assert_eq!(dec("x-host-header"), want(Some(&r.host_header)));
    prop_assert_eq!(raw("cs-protocol"), r.protocol);
    prop_assert_eq!(raw("cs-bytes"), r.cs_bytes.to_string());
    prop_assert_eq!(raw("time-taken"), secs3(r.time_taken));
    prop_assert_eq!(
        dec("x-forwarded-for"),
        want(r.forwarded_for.as_deref().map(str::as_bytes))
    );
    prop_assert_eq!(dec("ssl-protocol"), want(r.ssl_protocol.map(str::as_bytes)));
    prop_assert_eq!(dec("ssl-cipher"), want(r.ssl_cipher.map(str::as_bytes)));
    prop_assert_eq!(raw("x-edge-response-result-type"), r.response_result_type);
    prop_assert_eq!(raw("cs-protocol-version"), r.protocol_version);
    prop_assert_eq!(raw("fle-status"), "-");
    prop_assert_eq!(raw("fle-encrypted-fields"), "-");
    prop_assert_eq!(raw("c-port"), r.c_port.to_string());
    prop_assert_eq!(raw("time-to-first-byte"), secs3(r.ttfb));
    prop_assert_eq!(raw("x-edge-detailed-result-type"), r.detailed_result_type);
    prop_assert_eq!(
        dec("sc-content-type"),
        want(r.content_type.as_deref().map(str::as_bytes))
    );
    prop_assert_eq!(
        raw("sc-content-len"),
        r.content_len.map_or("-".into(), |n| n.to_string())
    );
    let (a, b) = r.range.map_or(("-".into(), "-".into()), |(a, b)| {
        (a.to_string(), b.to_string())
    });
    prop_assert_eq!(raw("sc-range-start"), a);
    prop_assert_eq!(raw("sc-range-end"), b);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn standard_lines_round_trip(records in vec(record(), 1..8)) {
        // Several records in one file: a value can never split or join lines.
        let mut text = standard::header().into_bytes();
        for r in &records {
            let before = text.len();
            standard::write_line(r, &mut text);
            prop_assert_eq!(text[before..].iter().filter(|&&b| b == b'\n').count(), 1);
            prop_assert_eq!(text[before..].iter().filter(|&&b| b == b'\t').count(), 32);
        }
        let mut rd = StandardReader::new(&text[..], Path::new("prop.log"));
        let mut n = 0;
        while let Some(line) = rd.next() {
            let line = line.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(line.number, n as u64 + 3);
            check(&records[n], &line)?;
            n += 1;
        }
        prop_assert_eq!(n, records.len());
    }

    #[test]
    fn json_lines_round_trip(r in record()) {
        let mut std_line = Vec::new();
        standard::write_line(&r, &mut std_line);
        let std_line = String::from_utf8(std_line).unwrap();
        let values: Vec<&str> = std_line.trim_end_matches('\n').split('\t').collect();
        let mut json = Vec::new();
        standard::write_json(&r, &mut json);
        prop_assert_eq!(json.iter().filter(|&&b| b == b'\n').count(), 1);
        let m: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&json).unwrap();
        for (name, v) in FIELDS.iter().zip(values) {
            prop_assert_eq!(m[*name].as_str(), Some(v), "{}", name);
        }
        let ms = r.end.duration_since(UNIX_EPOCH).unwrap().as_millis();
        prop_assert_eq!(&m["timestamp(ms)"], &ms.to_string());
        prop_assert_eq!(&m["timestamp"], &(ms / 1000).to_string());
        prop_assert_eq!(m["distribution-id"].as_str(), Some(&*r.dist.id));
        prop_assert_eq!(m["cause"].as_str(), Some(r.cause.unwrap_or("-")));
        prop_assert_eq!(m["cause-detail"].as_str(), Some(r.cause_detail.as_deref().unwrap_or("-")));
        let country = r.country.map(|c| String::from_utf8(c.to_vec()).unwrap());
        prop_assert_eq!(m["c-country"].as_str(), Some(country.as_deref().unwrap_or("-")));
        prop_assert_eq!(m["cache-behavior-path-pattern"].as_str(), Some(&*r.path_pattern));
    }
}
