//! `doctor logs` gives the same summary however the work is split: one thread reading each file
//! whole, or many threads reading small byte ranges of one file (lines across range ends, CRLF,
//! a last line without a newline, a `#Fields` change in the middle of a file, bad lines), and
//! gzip and plain files alike.

use gatehouse_doctor::logs::{analyze_with, Options, Summary};
use std::io::Write;
use std::path::PathBuf;

const FIELDS: &str = "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end";

/// A deterministic pseudo-random source.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// `n` standard lines over three hours: objects, and the refusals the doctor groups.
fn lines(n: usize, seed: u64) -> Vec<String> {
    let mut r = Rng(seed);
    let kinds: [(&str, &str, &str, &str, &str); 8] = [
        ("200", "Hit", "Hit", "text/html", "5120"),
        ("200", "Miss", "Miss", "image/png", "20480"),
        ("403", "Error", "ClientGeoBlocked", "text/html", "986"),
        ("403", "Error", "Error", "text/xml", "146"),
        ("403", "Error", "InvalidRequestMethod", "text/html", "1053"),
        ("502", "Error", "OriginConnectError", "text/html", "951"),
        ("301", "Redirect", "Redirect", "text/html", "167"),
        ("403", "Error", "Error", "text/html", "919"),
    ];
    (0..n)
        .map(|i| {
            let (status, result, detailed, ctype, len) = kinds[r.below(8) as usize];
            let t = format!(
                "{:02}:{:02}:{:02}",
                10 + r.below(3),
                r.below(60),
                r.below(60)
            );
            let path = format!("/p/{}%20x", r.below(40));
            let ip = format!("192.0.2.{}", r.below(200));
            let ua = ["curl/8.5.0", "Mozilla/5.0%20(X11)", "bot%09tab"][r.below(3) as usize];
            let id = format!("{i:054}==");
            let tt = format!("0.{:03}", r.below(1000));
            [
                "2026-11-27",
                &t,
                "FRA56-P6",
                "1400",
                &ip,
                "GET",
                "d1.cloudfront.net",
                &path,
                status,
                "-",
                ua,
                "-",
                "-",
                result,
                &id,
                "www.example.com",
                "https",
                "120",
                &tt,
                "-",
                "-",
                "-",
                result,
                "HTTP/1.1",
                "-",
                "-",
                "50000",
                &tt,
                detailed,
                ctype,
                len,
                "-",
                "-",
            ]
            .join("\t")
        })
        .collect()
}

fn header() -> String {
    format!("#Version: 1.0\n#Fields: {FIELDS}\n")
}

fn summary(files: &[PathBuf], threads: usize, range_bytes: u64) -> Summary {
    analyze_with(
        files,
        &Options {
            request_id: Some(format!("{:054}==", 17)),
            threads,
            range_bytes,
            progress: None,
            waf: None,
        },
    )
}

fn same(a: &Summary, b: &Summary, what: &str) {
    let (va, vb) = (
        serde_json::to_value(a).unwrap(),
        serde_json::to_value(b).unwrap(),
    );
    assert!(va == vb, "{what}: summaries differ:\n{va:#}\n---\n{vb:#}");
}

#[test]
fn splitting_a_file_into_ranges_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A plain file with CRLF on some lines, a bad line, an empty line, and no final newline.
    let mut text = header();
    for (i, l) in lines(3000, 7).iter().enumerate() {
        text.push_str(l);
        text.push_str(if i % 7 == 0 { "\r\n" } else { "\n" });
        if i == 1234 {
            text.push_str("too\tfew\tfields\n\n");
        }
    }
    text.push_str(&lines(1, 99)[0]);
    let plain = dir.path().join("a.log");
    std::fs::write(&plain, &text).unwrap();
    // The same content gzipped, in two members.
    let gz = dir.path().join("b.gz");
    let mut f = std::fs::File::create(&gz).unwrap();
    let (x, y) = text.split_at(text.len() / 2);
    for part in [x, y] {
        let mut e = flate2::write::GzEncoder::new(&mut f, flate2::Compression::fast());
        e.write_all(part.as_bytes()).unwrap();
        e.finish().unwrap();
    }
    let files = vec![plain.clone(), gz];
    let whole = summary(&files, 1, u64::MAX);
    assert_eq!(whole.lines, 2 * 3001, "{whole:#?}");
    assert_eq!(whole.bad_lines, 2);
    assert!(
        whole.problems[0].ends_with("a.log:1238: 3 tab-separated values, but #Fields names 33"),
        "{:?}",
        whole.problems
    );
    assert_eq!(whole.request.len(), 2);
    assert!(whole.groups.contains_key("redirect-to-https"));
    for (threads, range) in [(2, 4096), (3, 777), (8, 100), (4, 1 << 16)] {
        same(
            &whole,
            &summary(&files, threads, range),
            &format!("{threads} threads, ranges of {range} bytes"),
        );
    }
}

#[test]
fn a_fields_line_in_the_middle_of_a_split_file_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    // Two logs concatenated; the second declares its fields in another order.
    let mut text = header();
    for l in lines(500, 3) {
        text.push_str(&l);
        text.push('\n');
    }
    let names: Vec<&str> = FIELDS.split(' ').collect();
    let mut reversed = names.clone();
    reversed.reverse();
    text.push_str(&format!("#Version: 1.0\n#Fields: {}\n", reversed.join(" ")));
    for l in lines(500, 4) {
        let mut v: Vec<&str> = l.split('\t').collect();
        v.reverse();
        text.push_str(&v.join("\t"));
        text.push('\n');
    }
    let p = dir.path().join("cat.log");
    std::fs::write(&p, &text).unwrap();
    let files = vec![p];
    let whole = summary(&files, 1, u64::MAX);
    assert_eq!(
        (whole.lines, whole.bad_lines),
        (1000, 0),
        "{:?}",
        whole.problems
    );
    // The same lines written in the normal order give the same groups.
    let mut normal = header();
    for l in lines(500, 3).into_iter().chain(lines(500, 4)) {
        normal.push_str(&l);
        normal.push('\n');
    }
    let q = dir.path().join("normal.log");
    std::fs::write(&q, &normal).unwrap();
    let reference = summary(&[q], 1, u64::MAX);
    assert_eq!(
        serde_json::to_value(&whole.groups).unwrap(),
        serde_json::to_value(&reference.groups).unwrap()
    );
    for range in [1000, 5000] {
        same(
            &whole,
            &summary(&files, 4, range),
            &format!("ranges of {range}"),
        );
    }
}
