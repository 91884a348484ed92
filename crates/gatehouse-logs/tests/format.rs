//! The standard log format against CloudFront's documentation (`cloudfront.md` §2.1–2.2 and
//! the real lines of §13 2b/2e), the reader's handling of headers, compression and bad lines,
//! and the JSON lines.

use gatehouse_logs::reader::{self, ParseError, StandardReader};
use gatehouse_logs::standard::{self, FIELDS};
use gatehouse_logs::{DistLog, LogRecord};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The `#Fields:` line of `cloudfront.md` §2.1 (the Athena DDL's column order), verbatim.
const DOC_FIELDS_LINE: &str = "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end";

/// The documented sample row of `cloudfront.md` §2.2 (a 502 DNS error), verbatim.
const DOC_SAMPLE: &str = "2019-12-13\t22:36:26\tSEA19-C1\t900\t192.0.2.200\tGET\td111111abcdef8.cloudfront.net\t/\t502\t-\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36\t-\t-\tError\t3AqrZGCnF_g0-5KOvfA7c9XLcf4YGvMFSeFdIetR1N_2y8jSis8Zxg==\twww.example.com\thttp\t735\t0.107\t-\t-\t-\tError\tHTTP/1.1\t-\t-\t3802\t0.107\tOriginDnsError\ttext/html\t507\t-\t-";

/// The real method-not-allowed line of `cloudfront.md` §13 2b (the `…` in the user agent of
/// the spec replaced by text, everything else verbatim).
const REAL_METHOD_LINE: &str = "2025-10-12\t09:52:59\tMRS53-P3\t1400\t150.107.232.112\tPOST\td2p1j3y3mcauy0.cloudfront.net\t/plugin/add\t403\t-\tMozilla/5.0%20(Macintosh;%20Intel)%20Version/17.3.1%20Safari/605.1.1%0920.51\t-\t-\tError\tWcPCNG0WyL4BbXhEXq4AQulhrqte2TPUHt1Uz-iqcSwtx1L6ORdTOA==\tlivecdn.kerkdienstgemist.nl\thttps\t9760\t0.124\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tError\tHTTP/1.1\t-\t-\t50294\t0.000\tInvalidRequestMethod\ttext/html\t1053\t-\t-";

/// The real 2024 redirect line of `cloudfront.md` §13 2e (request id and user agent
/// completed where the spec elides them).
const REAL_REDIRECT_LINE: &str = "2024-10-11\t22:35:44\tSEA900-P3\t578\t216.244.66.244\tGET\tdssqkj1981x2t.cloudfront.net\t/robots.txt\t301\t-\tMozilla/5.0%20(compatible;%20DotBot/1.2;%20+https://opensiteexplorer.org/dotbot)\t-\t-\tRedirect\tiG3alVWAexampleexampleexampleexampleexampleexamplerA==\tangeloceccato.com\thttp\t222\t0.001\t-\t-\t-\tRedirect\tHTTP/1.1\t-\t-\t49918\t0.001\tRedirect\ttext/html\t167\t-\t-";

fn file_text(lines: &[&str]) -> String {
    let mut s = standard::header();
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A line read: its number and `(name, raw value)` pairs.
type ReadLine = (u64, Vec<(String, String)>);

/// Everything a reader yields: the lines, or the errors.
fn read_all(path: &Path) -> Vec<Result<ReadLine, ParseError>> {
    let mut r = StandardReader::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(x) = r.next() {
        out.push(x.map(|l| {
            (
                l.number,
                l.pairs()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
            )
        }));
        assert!(out.len() < 10_000, "the reader does not end");
    }
    out
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    // Inverse of the civil date: count days of whole years and months (independent of the
    // crate's algorithm).
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days = 0i64;
    for yy in 1970..y {
        days += if leap(yy) { 366 } else { 365 };
    }
    let month_days = [
        31,
        if leap(y) { 29 } else { 28 },
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
    for md in &month_days[..(m - 1) as usize] {
        days += md;
    }
    days + d as i64 - 1
}

/// `date` + `time` fields → the time.
fn parse_time(date: &str, time: &str) -> SystemTime {
    let d: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let t: Vec<u64> = time.split(':').map(|x| x.parse().unwrap()).collect();
    let days = days_from_civil(d[0], d[1] as u32, d[2] as u32) as u64;
    UNIX_EPOCH + Duration::from_secs(days * 86400 + t[0] * 3600 + t[1] * 60 + t[2])
}

fn secs3(s: &str) -> Duration {
    let (a, b) = s.split_once('.').unwrap();
    assert_eq!(b.len(), 3, "{s}: milliseconds");
    Duration::from_secs(a.parse().unwrap()) + Duration::from_millis(b.parse().unwrap())
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// Builds a record from a parsed line (the inverse of `write_line`).
fn record_from(line: &reader::Line<'_>, dist_id: &str) -> LogRecord {
    let get = |n: &str| line.get(n).unwrap_or_else(|| panic!("no field {n}"));
    let bytes = |n: &str| line.decoded(n).map(|b| b.into_owned().into_boxed_slice());
    let text = |n: &str| line.text(n).map(String::into_boxed_str);
    let cookie = bytes("cs(Cookie)");
    let range = match (get("sc-range-start"), get("sc-range-end")) {
        ("-", "-") => None,
        (a, b) => Some((a.parse().unwrap(), b.parse().unwrap())),
    };
    LogRecord {
        dist: Arc::new(DistLog {
            id: Arc::from(dist_id),
            domain: Arc::from(line.text("cs(Host)").unwrap().as_str()),
            enabled: true,
            prefix: Arc::from(""),
            include_cookies: cookie.is_some(),
        }),
        end: parse_time(get("date"), get("time")),
        edge_location: Arc::from(line.text("x-edge-location").unwrap().as_str()),
        sc_bytes: get("sc-bytes").parse().unwrap(),
        c_ip: get("c-ip").parse::<IpAddr>().unwrap(),
        method: text("cs-method").unwrap(),
        uri_stem: bytes("cs-uri-stem").unwrap(),
        status: get("sc-status").parse().unwrap(),
        referer: bytes("cs(Referer)"),
        user_agent: bytes("cs(User-Agent)"),
        query: bytes("cs-uri-query"),
        cookie,
        result_type: leak(get("x-edge-result-type")),
        request_id: text("x-edge-request-id").unwrap(),
        host_header: bytes("x-host-header").unwrap(),
        protocol: leak(get("cs-protocol")),
        cs_bytes: get("cs-bytes").parse().unwrap(),
        time_taken: secs3(get("time-taken")),
        forwarded_for: text("x-forwarded-for"),
        ssl_protocol: line.get("ssl-protocol").filter(|v| *v != "-").map(leak),
        ssl_cipher: line.get("ssl-cipher").filter(|v| *v != "-").map(leak),
        response_result_type: leak(get("x-edge-response-result-type")),
        protocol_version: leak(get("cs-protocol-version")),
        c_port: get("c-port").parse().unwrap(),
        ttfb: secs3(get("time-to-first-byte")),
        detailed_result_type: leak(get("x-edge-detailed-result-type")),
        content_type: text("sc-content-type"),
        content_len: line.get("sc-content-len").and_then(|v| v.parse().ok()),
        range,
        cause: None,
        cause_detail: None,
        country: None,
        path_pattern: Arc::from("*"),
    }
}

fn write_line(r: &LogRecord) -> String {
    let mut out = Vec::new();
    standard::write_line(r, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn fields_are_the_documented_33_in_athena_order() {
    let names: Vec<&str> = DOC_FIELDS_LINE
        .strip_prefix("#Fields: ")
        .unwrap()
        .split(' ')
        .collect();
    assert_eq!(names.len(), 33);
    assert_eq!(FIELDS.to_vec(), names);
    assert_eq!(
        standard::header(),
        format!("#Version: 1.0\n{DOC_FIELDS_LINE}\n")
    );
}

#[test]
fn documented_sample_parses_and_reserialises_byte_for_byte() {
    let text = file_text(&[DOC_SAMPLE]);
    let mut r = StandardReader::new(text.as_bytes(), Path::new("sample.log"));
    let line = r.next().expect("one line").expect("parses");
    assert_eq!(line.number, 3, "two header lines first");
    let pairs: Vec<(&str, &str)> = line.pairs().collect();
    assert_eq!(pairs.len(), 33);
    let expected: Vec<&str> = DOC_SAMPLE.split('\t').collect();
    for ((name, value), (want_name, want)) in pairs.iter().zip(FIELDS.iter().zip(expected)) {
        assert_eq!(name, want_name);
        assert_eq!(*value, want, "{name}");
    }
    assert_eq!(line.get("sc-status"), Some("502"));
    assert_eq!(
        line.text("cs(User-Agent)").unwrap(),
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36"
    );
    assert_eq!(line.decoded("cs(Referer)"), None);
    assert_eq!(
        line.get("x-edge-detailed-result-type"),
        Some("OriginDnsError")
    );
    assert_eq!(line.get("sc-content-len"), Some("507"));
    assert_eq!(line.get("no-such-field"), None);
    assert_eq!(line.raw(), DOC_SAMPLE);

    let rec = record_from(&line, "EMLARXS9EXAMPLE");
    assert_eq!(write_line(&rec), format!("{DOC_SAMPLE}\n"));
    assert!(r.next().is_none());
}

#[test]
fn real_lines_reserialise_byte_for_byte() {
    // A TAB inside the user agent is `%09`; https fields; 0.000 time to first byte.
    for sample in [REAL_METHOD_LINE, REAL_REDIRECT_LINE] {
        let text = file_text(&[sample]);
        let mut r = StandardReader::new(text.as_bytes(), Path::new("real.log"));
        let line = r.next().unwrap().unwrap();
        let rec = record_from(&line, "E2EXAMPLE");
        assert_eq!(write_line(&rec), format!("{sample}\n"));
    }
    let text = file_text(&[REAL_METHOD_LINE]);
    let mut r = StandardReader::new(text.as_bytes(), Path::new("real.log"));
    let line = r.next().unwrap().unwrap();
    assert!(line
        .text("cs(User-Agent)")
        .unwrap()
        .ends_with("Safari/605.1.1\t20.51"));
}

#[test]
fn a_fields_header_in_another_order_is_honoured() {
    // Reversed order, plus a short file (three fields) after a second #Fields line.
    let mut names: Vec<&str> = FIELDS.to_vec();
    names.reverse();
    let mut values: Vec<&str> = DOC_SAMPLE.split('\t').collect();
    values.reverse();
    let text = format!(
        "#Version: 1.0\n#Fields: {}\n{}\n#Fields: sc-status  cs-method\tdate\n404\tPUT\t2020-01-02\n",
        names.join(" "),
        values.join("\t")
    );
    let mut r = StandardReader::new(text.as_bytes(), Path::new("reversed.log"));
    {
        let line = r.next().unwrap().unwrap();
        assert_eq!(line.get("date"), Some("2019-12-13"));
        assert_eq!(line.get("sc-range-end"), Some("-"));
        assert_eq!(line.get("c-port"), Some("3802"));
        assert_eq!(line.get("x-host-header"), Some("www.example.com"));
        let rec = record_from(&line, "E1");
        assert_eq!(write_line(&rec), format!("{DOC_SAMPLE}\n"));
        assert_eq!(line.pairs().next(), Some(("sc-range-end", "-")));
    }
    {
        let line = r.next().unwrap().unwrap();
        assert_eq!(line.number, 5);
        assert_eq!(line.get("sc-status"), Some("404"));
        assert_eq!(line.get("cs-method"), Some("PUT"));
        assert_eq!(line.get("date"), Some("2020-01-02"));
        assert_eq!(line.get("time"), None);
    }
    assert!(r.next().is_none());
}

#[test]
fn without_a_header_the_33_fields_are_assumed_and_crlf_is_accepted() {
    let text = format!("{DOC_SAMPLE}\r\n\n{REAL_METHOD_LINE}\n");
    let mut r = StandardReader::new(text.as_bytes(), Path::new("bare.log"));
    let a = r.next().unwrap().unwrap();
    assert_eq!(a.get("sc-range-end"), Some("-"));
    assert_eq!(a.get("x-edge-location"), Some("SEA19-C1"));
    let b = r.next().unwrap().unwrap();
    assert_eq!(b.number, 3);
    assert_eq!(b.get("sc-status"), Some("403"));
    assert!(r.next().is_none());
}

#[test]
fn gzip_plain_and_multi_member_files_read_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let text = file_text(&[DOC_SAMPLE, REAL_METHOD_LINE, REAL_REDIRECT_LINE]);
    let plain = dir.path().join("E1.2019-12-13-22.PLAIN");
    std::fs::write(&plain, &text).unwrap();
    let gzipped = dir.path().join("E1.2019-12-13-22.ABC.gz");
    std::fs::write(&gzipped, gz(text.as_bytes())).unwrap();
    // As the writer does: one gzip member per flush.
    let (head, rest) = text.split_at(text.find("2025-10-12").unwrap());
    let mut members = gz(head.as_bytes());
    members.extend(gz(rest.as_bytes()));
    let multi = dir.path().join("E1.2019-12-13-22.MULTI.gz");
    std::fs::write(&multi, members).unwrap();

    let want = read_all(&plain);
    assert_eq!(want.len(), 3);
    assert!(want.iter().all(Result::is_ok));
    assert_eq!(read_all(&gzipped), want);
    assert_eq!(read_all(&multi), want);
    let mut plain_text = String::new();
    reader::open(&multi)
        .unwrap()
        .read_to_string(&mut plain_text)
        .unwrap();
    assert_eq!(plain_text, text);
}

fn assert_error(e: &ParseError, file: &Path, line: u64, reason_has: &str) {
    assert_eq!(e.file, file, "{e}");
    assert_eq!(e.line, line, "{e}");
    assert!(e.reason.contains(reason_has), "{e}");
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("{}:{line}: ", file.display())),
        "{shown}"
    );
}

#[test]
fn malformed_lines_are_errors_with_file_and_line_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.log");
    let short: Vec<&str> = DOC_SAMPLE.split('\t').take(32).collect();
    let mut bytes = standard::header().into_bytes();
    bytes.extend_from_slice(format!("{DOC_SAMPLE}\n").as_bytes()); // 3
    bytes.extend_from_slice(format!("{}\n", short.join("\t")).as_bytes()); // 4: 32 fields
    bytes.extend_from_slice(format!("{DOC_SAMPLE}\textra\n").as_bytes()); // 5: 34 fields
    let mut non_utf8 = DOC_SAMPLE.replace("/\t502", "/caf\u{e9}\t502").into_bytes();
    let at = non_utf8.iter().position(|&b| b == 0xc3).unwrap();
    non_utf8.remove(at); // a lone 0xA9: not UTF-8
    bytes.extend_from_slice(&non_utf8); // 6
    bytes.push(b'\n');
    bytes.extend_from_slice(b"#Fields:\n"); // 7: names nothing
    bytes.extend_from_slice(format!("{REAL_REDIRECT_LINE}\n").as_bytes()); // 8
    std::fs::write(&path, &bytes).unwrap();

    for p in [path.clone(), {
        let g = dir.path().join("bad.gz");
        std::fs::write(&g, gz(&bytes)).unwrap();
        g
    }] {
        let got = read_all(&p);
        assert_eq!(got.len(), 6, "{got:?}");
        assert_eq!(got[0].as_ref().unwrap().0, 3);
        assert_error(
            got[1].as_ref().unwrap_err(),
            &p,
            4,
            "32 tab-separated values",
        );
        assert_error(
            got[2].as_ref().unwrap_err(),
            &p,
            5,
            "34 tab-separated values",
        );
        assert_error(got[3].as_ref().unwrap_err(), &p, 6, "UTF-8");
        assert_error(got[4].as_ref().unwrap_err(), &p, 7, "no fields");
        let last = got[5].as_ref().unwrap();
        assert_eq!(last.0, 8);
        assert_eq!(last.1[8], ("sc-status".to_string(), "301".to_string()));
    }
}

#[test]
fn a_truncated_gzip_file_gives_its_lines_then_an_error_and_ends() {
    let dir = tempfile::tempdir().unwrap();
    let text = file_text(&[DOC_SAMPLE, REAL_METHOD_LINE, REAL_REDIRECT_LINE]);
    // The first member (header and one line) complete, the second cut in the middle, as a
    // file whose writer died mid-flush.
    let (head, rest) = text.split_at(text.find("2025-10-12").unwrap());
    let mut bytes = gz(head.as_bytes());
    let second = gz(rest.as_bytes());
    bytes.extend_from_slice(&second[..second.len() / 2]);
    let path = dir.path().join("E1.2019-12-13-22.TRUNC.gz");
    std::fs::write(&path, &bytes).unwrap();

    let got = read_all(&path);
    assert!(got.len() >= 2, "{got:?}");
    assert_eq!(got[0].as_ref().unwrap().0, 3);
    let errors: Vec<&ParseError> = got.iter().filter_map(|x| x.as_ref().err()).collect();
    assert_eq!(errors.len(), 1, "{got:?}");
    let e = errors[0];
    assert_eq!(e.file, path);
    let last_ok = got
        .iter()
        .filter_map(|x| x.as_ref().ok())
        .map(|x| x.0)
        .max();
    assert_eq!(e.line, last_ok.unwrap() + 1, "the line being read: {e}");
    assert!(e.reason.contains("read error"), "{e}");
    // The error is the last thing: nothing after it (and the reader ends).
    assert!(got.last().unwrap().is_err(), "{got:?}");

    // A file cut inside the gzip header itself.
    let stub = dir.path().join("stub.gz");
    std::fs::write(&stub, &gz(b"x")[..5]).unwrap();
    let got = read_all(&stub);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].as_ref().unwrap_err().file, stub);

    // And a missing file is an error naming it, line 0.
    let missing = dir.path().join("missing.gz");
    let e = StandardReader::open(&missing).err().unwrap();
    assert_error(&e, &missing, 0, "cannot open");
}

fn sample_record() -> LogRecord {
    let text = file_text(&[DOC_SAMPLE]);
    let mut r = StandardReader::new(text.as_bytes(), Path::new("s"));
    let line = r.next().unwrap().unwrap();
    record_from(&line, "EMLARXS9EXAMPLE")
}

#[test]
fn json_lines_round_trip() {
    let mut rec = sample_record();
    rec.end += Duration::from_millis(123);
    rec.cause = Some("origin-dns-error");
    rec.cause_detail = Some("origin \"o\"\tdoes-not-exist.invalid:80 — no such host\n".into());
    rec.country = Some(*b"US");
    rec.path_pattern = Arc::from("/images/*");
    rec.user_agent = Some(b"tab\there \"quoted\" ~\xff".to_vec().into_boxed_slice());

    let mut std_line = Vec::new();
    standard::write_line(&rec, &mut std_line);
    let std_line = String::from_utf8(std_line).unwrap();
    let std_values: Vec<&str> = std_line.trim_end_matches('\n').split('\t').collect();

    let dir = tempfile::tempdir().unwrap();
    let mut plain = Vec::new();
    standard::write_json(&rec, &mut plain);
    let mut second = rec.clone();
    second.cause = None;
    second.cause_detail = None;
    second.country = None;
    standard::write_json(&second, &mut plain);
    assert_eq!(plain.iter().filter(|&&b| b == b'\n').count(), 2);
    let plain_path = dir.path().join("E1.2019-12-13-22.X.json");
    std::fs::write(&plain_path, &plain).unwrap();
    let gz_path = dir.path().join("E1.2019-12-13-22.X.json.gz");
    std::fs::write(&gz_path, gz(&plain)).unwrap();

    for p in [plain_path, gz_path] {
        let mut objs = Vec::new();
        let mut errs = Vec::new();
        reader::read_json(&p, |n, m| objs.push((n, m)), |e| errs.push(e)).unwrap();
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(objs.len(), 2);
        let (n, m) = &objs[0];
        assert_eq!(*n, 1);
        for (name, v) in FIELDS.iter().zip(&std_values) {
            assert_eq!(m[*name], *v, "{name}: same value as the standard line");
        }
        assert_eq!(m["timestamp"], "1576276586");
        assert_eq!(m["timestamp(ms)"], "1576276586123");
        assert_eq!(m["distribution-id"], "EMLARXS9EXAMPLE");
        assert_eq!(m["cause"], "origin-dns-error");
        assert_eq!(
            m["cause-detail"],
            "origin \"o\"\tdoes-not-exist.invalid:80 — no such host\n"
        );
        assert_eq!(m["c-country"], "US");
        assert_eq!(m["cache-behavior-path-pattern"], "/images/*");
        assert_eq!(m["cs(User-Agent)"], "tab%09here%20%22quoted%22%20%7E%FF");
        assert_eq!(m.len(), 33 + 3 + 4);
        let (n, m) = &objs[1];
        assert_eq!(*n, 2);
        assert_eq!(m["cause"], "-");
        assert_eq!(m["cause-detail"], "-");
        assert_eq!(m["c-country"], "-");
    }
}

#[test]
fn bad_json_lines_are_errors_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut good = Vec::new();
    standard::write_json(&sample_record(), &mut good);
    let mut bytes = good.clone();
    bytes.extend_from_slice(b"{\"truncated\": \n");
    bytes.extend_from_slice(b"[1, 2]\n");
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(&good);
    let p = dir.path().join("bad.json");
    std::fs::write(&p, &bytes).unwrap();
    let mut lines = Vec::new();
    let mut errs = Vec::new();
    reader::read_json(&p, |n, _| lines.push(n), |e| errs.push(e)).unwrap();
    assert_eq!(lines, vec![1, 5]);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!((errs[0].line, errs[1].line), (2, 3));
    assert!(errs[0].reason.contains("invalid JSON"));
    assert!(errs[1].reason.contains("not a JSON object"));
    assert!(errs.iter().all(|e| e.file == p));

    let missing = dir.path().join("nope.json.gz");
    let e = reader::read_json(&missing, |_, _| {}, |_| {}).unwrap_err();
    assert_eq!((e.file.clone(), e.line), (missing, 0));
}

#[test]
fn status_zero_is_written_000_and_cookies_only_when_included() {
    let mut rec = sample_record();
    rec.status = 0;
    rec.cookie = Some(b"a=1; b=\"x y\"".to_vec().into_boxed_slice());
    let base = (*rec.dist).clone();
    let dist = |include_cookies| {
        Arc::new(DistLog {
            include_cookies,
            ..base.clone()
        })
    };
    rec.dist = dist(false);
    let off = write_line(&rec);
    let f: Vec<&str> = off.trim_end().split('\t').collect();
    assert_eq!(f[8], "000");
    assert_eq!(f[12], "-");
    rec.dist = dist(true);
    let on = write_line(&rec);
    let f: Vec<&str> = on.trim_end().split('\t').collect();
    assert_eq!(f[12], "a=1;%20b=%22x%20y%22");
    rec.range = Some((100, 199));
    let f2 = write_line(&rec);
    let f: Vec<&str> = f2.trim_end().split('\t').collect();
    assert_eq!((f[31], f[32]), ("100", "199"));
}
