//! Access logs through the real `gatehouse serve` (`cloudfront.md` §2, §13 2b–2e): one
//! standard line and one JSON line per answered request, with CloudFront's values for each kind
//! of answer; `Logging.IncludeCookies` and `Prefix`; JSON only for distributions without
//! `Logging.Enabled`; nothing for a Host no distribution owns; no line lost when the edge is
//! stopped with requests in flight; `000` for a viewer that left before the response; an
//! unwritable log directory that does not stop the edge; and GoAccess's `CLOUDFRONT` format
//! reading our files without a rejected line.
//!
//! Log files are read back with `gatehouse_logs::reader`, after the edge exited (so every gzip
//! member is complete) unless a test is about the flush interval.

mod support;
use gatehouse_logs::reader::{self, StandardReader};
use gatehouse_logs::sink::{file_format, LogFormat};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::*;

/// The alias of the logged distribution.
const HOST: &str = "www.example.com";
/// Its id and default domain (`cs(Host)`).
const DIST: &str = "E1LOGS";
const DOMAIN: &str = "e1logs.cloudfront.net";
/// A distribution that logs cookies, without a prefix.
const COOKIE_HOST: &str = "cookies.example.com";
const COOKIE_DIST: &str = "E2COOKIES";
/// A distribution with `Logging.Enabled: false`.
const NOLOG_HOST: &str = "nolog.example.com";
const NOLOG_DIST: &str = "E3NOLOG";
/// The EC key in the key group `/private/*` trusts.
const KEY_ID: &str = "K1LOGSKEY00001";
const GROUP: &str = "5a0e3c1d-7b2f-4e6a-9c8d-1f2e3d4c5b6a";

const REASON_GEO: &str =
    "The Amazon CloudFront distribution is configured to block access from your country.";
const REASON_METHOD: &str = "This distribution is not configured to allow the HTTP request method that was used for this request. The distribution supports only cachable requests.";
const REASON_CONNECT: &str = "CloudFront wasn't able to connect to the origin.";
const REASON_TIMEOUT: &str = "CloudFront attempted to establish a connection with the origin, but either the attempt failed or the origin closed the connection.";

// ---------------------------------------------------------------------------------------------
// Reading the logs
// ---------------------------------------------------------------------------------------------

/// One standard line: its file (relative to the log directory) and raw values by name.
#[derive(Debug, Clone)]
struct StdLine {
    file: String,
    f: HashMap<String, String>,
}

impl StdLine {
    fn get(&self, name: &str) -> &str {
        self.f
            .get(name)
            .unwrap_or_else(|| panic!("no field {name}: {self:?}"))
    }
}

/// Everything under a log directory.
#[derive(Debug, Default)]
struct Logs {
    /// File names relative to the directory.
    files: Vec<String>,
    standard: Vec<StdLine>,
    json: Vec<(String, Map<String, Value>)>,
    /// Parse errors (the reader's Display: file:line: reason).
    errors: Vec<String>,
    /// Data lines per standard file.
    lines_per_file: HashMap<String, usize>,
}

impl Logs {
    fn read(dir: &Path) -> Logs {
        let mut logs = Logs::default();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.map(Result::unwrap) {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                logs.files.push(rel.clone());
                // Open files are plain (`.log`, `.json`), rotated ones gzip; a compression
                // in progress (`.tmp`) is listed, not read.
                let Some(format) = file_format(&rel) else {
                    continue;
                };
                if format == LogFormat::Json {
                    reader::read_json(
                        &p,
                        |_, m| logs.json.push((rel.clone(), m)),
                        |e| logs.errors.push(e.to_string()),
                    )
                    .unwrap();
                } else {
                    let mut r = StandardReader::open(&p).unwrap();
                    let mut n = 0;
                    while let Some(line) = r.next() {
                        match line {
                            Ok(l) => {
                                n += 1;
                                logs.standard.push(StdLine {
                                    file: rel.clone(),
                                    f: l.pairs()
                                        .map(|(k, v)| (k.to_string(), v.to_string()))
                                        .collect(),
                                });
                            }
                            Err(e) => logs.errors.push(e.to_string()),
                        }
                    }
                    logs.lines_per_file.insert(rel.clone(), n);
                }
            }
        }
        logs.files.sort();
        logs
    }

    fn std_for(&self, id: &str) -> Vec<&StdLine> {
        self.standard
            .iter()
            .filter(|l| l.get("x-edge-request-id") == id)
            .collect()
    }

    fn json_for(&self, id: &str) -> Vec<&Map<String, Value>> {
        self.json
            .iter()
            .filter(|(_, m)| m["x-edge-request-id"] == id)
            .map(|(_, m)| m)
            .collect()
    }

    /// The one standard line and the one JSON line of request `id`.
    fn one(&self, id: &str, what: &str) -> (&StdLine, &Map<String, Value>) {
        let s = self.std_for(id);
        let j = self.json_for(id);
        assert_eq!(s.len(), 1, "{what}: standard lines for {id}: {s:#?}");
        assert_eq!(j.len(), 1, "{what}: JSON lines for {id}: {j:#?}");
        (s[0], j[0])
    }
}

fn is_secs3(v: &str) -> bool {
    let Some((a, b)) = v.split_once('.') else {
        return false;
    };
    !a.is_empty()
        && a.bytes().all(|c| c.is_ascii_digit())
        && b.len() == 3
        && b.bytes().all(|c| c.is_ascii_digit())
}

fn is_digits(v: &str, n: usize) -> bool {
    v.len() == n && v.bytes().all(|c| c.is_ascii_digit())
}

/// `<prefix><id>.YYYY-MM-DD-HH.<unique>.gz` (or `.json.gz`) → (prefix+id, date-hour, json).
fn split_name(name: &str) -> Option<(String, String, bool)> {
    let (stem, json) = match name.strip_suffix(".json.gz") {
        Some(s) => (s, true),
        None => (name.strip_suffix(".gz")?, false),
    };
    let mut parts = stem.rsplitn(3, '.');
    let unique = parts.next()?;
    let hour = parts.next()?;
    let head = parts.next()?;
    let ok_unique = !unique.is_empty()
        && unique
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let ok_hour = hour.len() == 13
        && is_digits(&hour[0..4], 4)
        && &hour[4..5] == "-"
        && is_digits(&hour[5..7], 2)
        && &hour[7..8] == "-"
        && is_digits(&hour[8..10], 2)
        && &hour[10..11] == "-"
        && is_digits(&hour[11..13], 2);
    (ok_unique && ok_hour).then(|| (head.to_string(), hour.to_string(), json))
}

/// The current UTC `YYYY-MM-DD-HH` by counting days (independent of the crate).
fn utc_hours(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let mut days = secs / 86400;
    let leap = |y: u64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut y = 1970;
    while days >= if leap(y) { 366 } else { 365 } {
        days -= if leap(y) { 366 } else { 365 };
        y += 1;
    }
    let months = [
        31,
        28 + leap(y) as u64,
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
    let mut m = 0;
    while days >= months[m] {
        days -= months[m];
        m += 1;
    }
    format!(
        "{y:04}-{:02}-{:02}-{:02}",
        m + 1,
        days + 1,
        secs % 86400 / 3600
    )
}

// ---------------------------------------------------------------------------------------------
// The edge
// ---------------------------------------------------------------------------------------------

fn geo_db() -> PathBuf {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/geoip/geo-whois-asn-country.mmdb");
    assert!(
        p.is_file(),
        "test data {} is missing: run scripts/install-test-data.sh",
        p.display()
    );
    p
}

fn logging(enabled: bool, cookies: bool, prefix: &str) -> Value {
    json!({"Enabled": enabled, "IncludeCookies": cookies,
           "Bucket": "gatehouse-logs.s3.amazonaws.com", "Prefix": prefix})
}

/// An origin, a config directory with three distributions and `gatehouse serve`.
struct Edge {
    gh: Gatehouse,
    cfg: ConfigDir,
    _origin: Origin,
}

impl Edge {
    /// `E1LOGS` (`www.example.com`, logging with prefix `cf/`, no cookies; geo blacklist US;
    /// behaviours for every kind of answer), `E2COOKIES` (cookies, no prefix) and `E3NOLOG`
    /// (logging disabled). `toml` is added to the `[logs]`, `[clients]`, `[geoip]` settings.
    fn start(logs_toml: &str) -> Edge {
        let origin = Origin::start();
        let cfg = ConfigDir::new();
        let db = geo_db();
        cfg.toml(&format!(
            "{logs_toml}\n\n[clients]\ntrusted_proxies = [\"127.0.0.1\"]\n\n\
             [origins.resolve]\n\"origin.test\" = \"127.0.0.1\"\n\n\
             [geoip]\ndatabase = '{}'\nwatch_secs = 0\n",
            db.display()
        ));

        // A key group for /private/* (only its presence matters: requests carry no signature).
        let keys = tempfile::tempdir().unwrap();
        let pem = ec_key_pair(keys.path());
        cfg.file(
            &format!("public-keys/{KEY_ID}.json"),
            serde_json::to_string(&json!({"ETag": "E1", "PublicKey": {
                "Id": KEY_ID, "CreatedTime": "2024-01-01T00:00:00Z",
                "PublicKeyConfig": {"CallerReference": "logs", "Name": "logs-key",
                    "EncodedKey": pem, "Comment": ""}}}))
            .unwrap()
            .as_bytes(),
        );
        cfg.file(
            &format!("key-groups/{GROUP}.json"),
            serde_json::to_string(&json!({"ETag": "E2", "KeyGroup": {
                "Id": GROUP, "LastModifiedTime": "2024-01-01T00:00:00Z",
                "KeyGroupConfig": {"Name": "logs", "Items": [KEY_ID], "Comment": ""}}}))
            .unwrap()
            .as_bytes(),
        );

        let o = custom_origin("o", "origin.test", origin.port);
        let dead = custom_origin("dead", "origin.test", dead_port());
        let mut slow = custom_origin("slow", "origin.test", origin.port);
        slow["CustomOriginConfig"]["OriginReadTimeout"] = json!(1);
        slow["ConnectionAttempts"] = json!(1);
        let mut private = behavior(Some("/private/*"), "o", "allow-all", GET_HEAD);
        private["TrustedKeyGroups"] = json!({"Enabled": true, "Quantity": 1, "Items": [GROUP]});
        let mut d = distribution(
            &[HOST],
            vec![o.clone(), dead, slow],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![
                behavior(Some("/redirect/*"), "o", "redirect-to-https", GET_HEAD),
                behavior(Some("/secure/*"), "o", "https-only", GET_HEAD),
                private,
                behavior(Some("/dead/*"), "dead", "allow-all", GET_HEAD),
                behavior(Some("/counted*"), "slow", "allow-all", GET_HEAD),
            ],
        );
        d["Restrictions"] = json!({"GeoRestriction": {"RestrictionType": "blacklist", "Quantity": 1, "Items": ["US"]}});
        d["Logging"] = logging(true, false, "cf/");
        cfg.distribution(DIST, d);

        let mut c = distribution(
            &[COOKIE_HOST],
            vec![o.clone()],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![],
        );
        c["Logging"] = logging(true, true, "");
        cfg.distribution(COOKIE_DIST, c);

        let mut n = distribution(
            &[NOLOG_HOST],
            vec![o],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![],
        );
        n["Logging"] = logging(false, false, "");
        cfg.distribution(NOLOG_DIST, n);

        let gh = Gatehouse::start(cfg.path());
        Edge {
            gh,
            cfg,
            _origin: origin,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.gh.http.unwrap()
    }

    /// curl to the edge with `Host: host`.
    fn get_host(&self, host: &str, path: &str, args: &[&str]) -> CurlResponse {
        let host_header = format!("Host: {host}");
        let url = self.gh.http_url(path);
        let mut a: Vec<&str> = vec!["-H", &host_header];
        a.extend_from_slice(args);
        a.push(&url);
        curl(&a)
    }

    fn get(&self, path: &str, args: &[&str]) -> CurlResponse {
        self.get_host(HOST, path, args)
    }

    fn log_dir(&self) -> PathBuf {
        self.cfg.path().join("logs")
    }

    /// SIGTERM, wait for exit 0, read the logs.
    fn stop_and_read(&mut self) -> Logs {
        self.gh.signal("TERM");
        let code = self.gh.wait_exit(Duration::from_secs(40));
        assert_eq!(code, Some(0), "gatehouse exit: {}", self.gh.stderr());
        let logs = Logs::read(&self.log_dir());
        assert!(logs.errors.is_empty(), "parse errors: {:#?}", logs.errors);
        // A clean stop compresses every file: only CloudFront's names are left.
        assert!(
            logs.files.iter().all(|f| f.ends_with(".gz")),
            "files left uncompressed after the stop: {:?}",
            logs.files
        );
        logs
    }
}

fn cf_id(r: &CurlResponse) -> String {
    r.header("x-amz-cf-id")
        .unwrap_or_else(|| panic!("no X-Amz-Cf-Id: {r:?}"))
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Every kind of answer
// ---------------------------------------------------------------------------------------------

/// What one kind of request must log.
struct Want {
    what: &'static str,
    id: String,
    status: &'static str,
    result_types: [&'static str; 3],
    content_type: &'static str,
    content_len: String,
    cause: &'static str,
    pattern: &'static str,
    country: &'static str,
    forwarded_for: &'static str,
    method: &'static str,
    stem: &'static str,
    query: &'static str,
    /// Body bytes the viewer got.
    body_len: usize,
}

/// Sends one request of each kind; returns what each must log.
fn drive_every_kind(edge: &Edge) -> Vec<Want> {
    let mut wants = Vec::new();
    #[allow(clippy::too_many_arguments)]
    fn want(
        what: &'static str,
        r: &CurlResponse,
        status: u16,
        rt: [&'static str; 3],
        ct: &'static str,
        cl: usize,
        cause: &'static str,
        pattern: &'static str,
        stem: &'static str,
        query: &'static str,
    ) -> Want {
        assert_eq!(r.status, status, "{what}: {r:?}");
        assert_eq!(r.body.len(), cl, "{what}: body length");
        Want {
            what,
            id: cf_id(r),
            status: Box::leak(status.to_string().into_boxed_str()),
            result_types: rt,
            content_type: ct,
            content_len: cl.to_string(),
            cause,
            pattern,
            country: "-",
            forwarded_for: "-",
            method: "GET",
            stem,
            query,
            body_len: r.body.len(),
        }
    }

    let r = edge.get("/obj?a=1", &["-A", "logs test/1.0"]);
    wants.push(want(
        "object",
        &r,
        200,
        ["Miss"; 3],
        "text/plain",
        "origin object /obj?a=1".len(),
        "-",
        "*",
        "/obj",
        "a=1",
    ));

    let r = edge.get("/redirect/x", &[]);
    wants.push(want(
        "redirect",
        &r,
        301,
        ["Redirect"; 3],
        "text/html",
        167,
        "redirect-to-https",
        "/redirect/*",
        "/redirect/x",
        "-",
    ));

    let r = edge.get("/secure/x", &[]);
    let id = cf_id(&r);
    wants.push(want(
        "https-only",
        &r,
        403,
        ["Error", "Error", "InvalidRequest"],
        "text/html",
        expected_error_page(403, "Bad request.", &id).len(),
        "https-only",
        "/secure/*",
        "/secure/x",
        "-",
    ));

    let r = edge.get("/obj", &["-X", "POST", "-d", "abc"]);
    let id = cf_id(&r);
    assert_eq!(expected_error_page(403, REASON_METHOD, &id).len(), 1053);
    wants.push(want(
        "method not allowed",
        &r,
        403,
        ["Error", "Error", "InvalidRequestMethod"],
        "text/html",
        1053,
        "method-not-allowed",
        "*",
        "/obj",
        "-",
    ));
    wants.last_mut().unwrap().method = "POST";

    let r = edge.get("/geo", &["-H", "X-Forwarded-For: 8.8.8.8"]);
    let id = cf_id(&r);
    wants.push(want(
        "geo block",
        &r,
        403,
        ["Error", "Error", "ClientGeoBlocked"],
        "text/html",
        expected_error_page(403, REASON_GEO, &id).len(),
        "geo-blocked",
        "*",
        "/geo",
        "-",
    ));
    let w = wants.last_mut().unwrap();
    w.country = "US";
    w.forwarded_for = "8.8.8.8";

    let r = edge.get("/private/file.txt", &[]);
    assert!(r.text().contains("<Code>MissingKey</Code>"), "{r:?}");
    wants.push(want(
        "signed URL without key",
        &r,
        403,
        ["Error", "Error", "Error"],
        "text/xml",
        146,
        "signed-missing-key",
        "/private/*",
        "/private/file.txt",
        "-",
    ));

    let r = edge.get("/dead/x", &[]);
    let id = cf_id(&r);
    wants.push(want(
        "origin connect error",
        &r,
        502,
        ["Error", "Error", "OriginConnectError"],
        "text/html",
        expected_error_page(502, REASON_CONNECT, &id).len(),
        "origin-connect-error",
        "/dead/*",
        "/dead/x",
        "-",
    ));

    let r = edge.get("/counted?key=logs&ms=3000", &[]);
    let id = cf_id(&r);
    wants.push(want(
        "origin timeout",
        &r,
        504,
        ["Error", "Error", "OriginCommError"],
        "text/html",
        expected_error_page(504, REASON_TIMEOUT, &id).len(),
        "origin-timeout",
        "/counted*",
        "/counted",
        "key=logs&ms=3000",
    ));

    let r = edge.get("/status/403", &[]);
    wants.push(want(
        "origin 403",
        &r,
        403,
        ["Error", "Error", "Error"],
        "text/html",
        "<html><body>origin says 403</body></html>".len(),
        "origin-denied",
        "*",
        "/status/403",
        "-",
    ));

    wants
}

fn check_want(logs: &Logs, w: &Want) {
    let (s, j) = logs.one(&w.id, w.what);
    let what = w.what;
    assert!(
        s.file.starts_with(&format!("cf/{DIST}.")),
        "{what}: file {}",
        s.file
    );
    assert!(
        is_digits(&s.get("date").replace('-', ""), 8),
        "{what}: {s:?}"
    );
    assert!(
        is_digits(&s.get("time").replace(':', ""), 6),
        "{what}: {s:?}"
    );
    assert!(!s.get("x-edge-location").is_empty() && s.get("x-edge-location") != "-");
    assert_eq!(s.get("c-ip"), "127.0.0.1", "{what}");
    assert_eq!(s.get("cs-method"), w.method, "{what}");
    assert_eq!(s.get("cs(Host)"), DOMAIN, "{what}");
    assert_eq!(s.get("cs-uri-stem"), w.stem, "{what}");
    assert_eq!(s.get("sc-status"), w.status, "{what}");
    assert_eq!(s.get("cs(Referer)"), "-", "{what}");
    assert_eq!(s.get("cs-uri-query"), w.query, "{what}");
    assert_eq!(s.get("cs(Cookie)"), "-", "{what}");
    assert_eq!(
        [
            s.get("x-edge-result-type"),
            s.get("x-edge-response-result-type"),
            s.get("x-edge-detailed-result-type")
        ],
        w.result_types,
        "{what}"
    );
    assert_eq!(s.get("x-host-header"), HOST, "{what}");
    assert_eq!(s.get("cs-protocol"), "http", "{what}");
    let cs_bytes: u64 = s.get("cs-bytes").parse().unwrap();
    assert!(cs_bytes > 40, "{what}: cs-bytes {cs_bytes}");
    assert!(is_secs3(s.get("time-taken")), "{what}: {s:?}");
    assert!(is_secs3(s.get("time-to-first-byte")), "{what}: {s:?}");
    assert_eq!(s.get("x-forwarded-for"), w.forwarded_for, "{what}");
    assert_eq!(s.get("ssl-protocol"), "-", "{what}");
    assert_eq!(s.get("ssl-cipher"), "-", "{what}");
    assert_eq!(s.get("cs-protocol-version"), "HTTP/1.1", "{what}");
    assert_eq!(s.get("fle-status"), "-", "{what}");
    assert_eq!(s.get("fle-encrypted-fields"), "-", "{what}");
    let port: u16 = s.get("c-port").parse().unwrap();
    assert!(port > 0, "{what}");
    assert!(
        s.get("sc-content-type").starts_with(w.content_type),
        "{what}: {s:?}"
    );
    assert_eq!(s.get("sc-content-len"), w.content_len, "{what}");
    let sc_bytes: usize = s.get("sc-bytes").parse().unwrap();
    assert!(
        sc_bytes > w.body_len + 50,
        "{what}: sc-bytes {sc_bytes} for a {}-byte body",
        w.body_len
    );
    assert_eq!(s.get("sc-range-start"), "-");
    assert_eq!(s.get("sc-range-end"), "-");

    // The JSON line: the same 33 values, and the cause fields.
    for (k, v) in &s.f {
        assert_eq!(j[k.as_str()], v.as_str(), "{what}: JSON {k}");
    }
    assert_eq!(j["distribution-id"], DIST, "{what}");
    assert_eq!(j["cause"], w.cause, "{what}");
    let detail = j["cause-detail"].as_str().unwrap();
    if w.cause == "-" {
        assert_eq!(detail, "-", "{what}");
    } else {
        assert!(
            !detail.is_empty() && detail != "-",
            "{what}: cause-detail {detail:?}"
        );
    }
    assert_eq!(j["cache-behavior-path-pattern"], w.pattern, "{what}");
    assert_eq!(j["c-country"], w.country, "{what}");
    let ms: u64 = j["timestamp(ms)"].as_str().unwrap().parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        ms <= now && ms + 120_000 > now,
        "{what}: timestamp(ms) {ms}"
    );
}

#[test]
fn every_kind_of_answer_is_logged_once_with_cloudfronts_values() {
    let mut edge = Edge::start("[logs]\ndirectory = \"logs\"\nflush_ms = 100\n");
    let start_hour = utc_hours(SystemTime::now());
    let wants = drive_every_kind(&edge);

    // Within the flush interval (plus slack) the object's line is on disk while serving.
    let object = wants[0].id.clone();
    assert!(
        poll_until(Duration::from_secs(5), || Logs::read(&edge.log_dir())
            .std_for(&object)
            .len()
            == 1),
        "the object's line was not flushed while serving: {:?}",
        Logs::read(&edge.log_dir()).files
    );

    let end_hour = utc_hours(SystemTime::now());
    let logs = edge.stop_and_read();
    for w in &wants {
        check_want(&logs, w);
    }
    assert_eq!(logs.standard.len(), wants.len(), "{:#?}", logs.standard);
    assert_eq!(logs.json.len(), wants.len());

    // File names: `cf/E1LOGS.YYYY-MM-DD-HH.<unique>.gz` and `.json.gz`, this hour.
    assert!(!logs.files.is_empty());
    for f in &logs.files {
        let (head, hour, _) = split_name(f).unwrap_or_else(|| panic!("file name {f}"));
        assert_eq!(head, format!("cf/{DIST}"), "{f}");
        assert!(hour == start_hour || hour == end_hour, "{f}: hour {hour}");
    }
    assert!(logs.files.iter().any(|f| f.ends_with(".json.gz")));
    assert!(logs.files.iter().any(|f| !f.ends_with(".json.gz")));
}

/// The `X-Amz-Cf-Id` of a raw response.
fn raw_cf_id(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("x-amz-cf-id")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no X-Amz-Cf-Id: {text}"))
}

/// Sends `req` on a new connection and reads one response (to its `Content-Length`), every
/// byte of it; the connection stays open until the response is complete.
#[test]
fn byte_counts_are_the_bytes_on_the_wire() {
    let mut edge = Edge::start("[logs]\ndirectory = \"logs\"\nflush_ms = 100\n");
    // An object (odd characters in the head), a generated 403 for a request with a body, a
    // redirect, an origin's 403: cs-bytes and sc-bytes are every byte each way.
    let requests = [
        format!(
            "GET /raw/obj?x=%7E HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: raw\ttab \"q\" ~\r\n\
             Referer: http://ref.example/a b\r\n\r\n"
        ),
        format!("POST /raw/post HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 5\r\n\r\nabcde"),
        format!("GET /redirect/raw HTTP/1.1\r\nHost: {HOST}\r\n\r\n"),
        format!("GET /status/403 HTTP/1.1\r\nHost: {HOST}\r\n\r\n"),
    ];
    let seen: Vec<_> = requests
        .iter()
        .map(|req| {
            let (local, head, body) = exchange(edge.addr(), req);
            let mut data = head.into_bytes();
            data.extend_from_slice(b"\r\n\r\n");
            data.extend_from_slice(&body);
            (local, raw_cf_id(&data), data)
        })
        .collect();
    let logs = edge.stop_and_read();
    for (req, (local, id, data)) in requests.iter().zip(&seen) {
        let (s, _) = logs.one(id, req);
        assert_eq!(s.get("c-port"), local.port().to_string(), "{req}");
        assert_eq!(
            s.get("cs-bytes"),
            req.len().to_string(),
            "cs-bytes: every byte of {req:?}"
        );
        assert_eq!(
            s.get("sc-bytes"),
            data.len().to_string(),
            "sc-bytes: every byte of {:?}",
            String::from_utf8_lossy(data)
        );
    }
    let (s, _) = logs.one(&seen[0].1, "object");
    assert_eq!(s.get("cs(User-Agent)"), "raw%09tab%20%22q%22%20%7E");
    assert_eq!(s.get("cs(Referer)"), "http://ref.example/a%20b");
    assert_eq!(s.get("cs-uri-stem"), "/raw/obj");
    assert_eq!(s.get("cs-uri-query"), "x=%257E");
    assert_eq!(
        s.get("sc-content-len"),
        "origin object /raw/obj?x=%7E".len().to_string()
    );
}

#[test]
fn cookies_prefix_disabled_logging_and_unknown_hosts() {
    let mut edge = Edge::start("[logs]\ndirectory = \"logs\"\nflush_ms = 100\n");
    let cookie = "session=abc; theme=\"dark blue\"";
    let logged = edge.get_host(COOKIE_HOST, "/c", &["-H", &format!("Cookie: {cookie}")]);
    assert_eq!(logged.status, 200);
    let not_logged = edge.get_host(HOST, "/c", &["-H", &format!("Cookie: {cookie}")]);
    assert_eq!(not_logged.status, 200);
    let nolog = edge.get_host(NOLOG_HOST, "/n", &[]);
    assert_eq!(nolog.status, 200);
    let unknown = edge.get_host("unknown.example.net", "/u", &[]);
    assert_eq!(unknown.status, 403);
    let logs = edge.stop_and_read();

    // IncludeCookies: true logs the Cookie header (encoded); false writes `-`.
    let (s, j) = logs.one(&cf_id(&logged), "cookies");
    assert_eq!(
        s.get("cs(Cookie)"),
        "session=abc;%20theme=%22dark%20blue%22"
    );
    assert_eq!(j["cs(Cookie)"], "session=abc;%20theme=%22dark%20blue%22");
    assert_eq!(s.get("cs(Host)"), "e2cookies.cloudfront.net");
    assert!(s.file.starts_with(&format!("{COOKIE_DIST}.")), "{}", s.file);
    let (s, _) = logs.one(&cf_id(&not_logged), "no cookies");
    assert_eq!(s.get("cs(Cookie)"), "-");
    assert!(s.file.starts_with(&format!("cf/{DIST}.")), "{}", s.file);

    // Logging disabled: a JSON line only.
    let id = cf_id(&nolog);
    assert!(logs.std_for(&id).is_empty());
    let j = logs.json_for(&id);
    assert_eq!(j.len(), 1);
    assert_eq!(j[0]["distribution-id"], NOLOG_DIST);
    assert_eq!(j[0]["sc-status"], "200");
    assert!(
        !logs
            .files
            .iter()
            .any(|f| f.starts_with(NOLOG_DIST) && !f.ends_with(".json.gz")),
        "{:?}",
        logs.files
    );

    // A Host no distribution owns: no line anywhere.
    let id = cf_id(&unknown);
    assert!(logs.std_for(&id).is_empty() && logs.json_for(&id).is_empty());
    assert_eq!(logs.standard.len(), 2);
    assert_eq!(logs.json.len(), 3);

    // One standard and one JSON file per distribution, named with its prefix.
    let mut heads: Vec<(String, bool)> = logs
        .files
        .iter()
        .map(|f| {
            let (h, _, json) = split_name(f).unwrap_or_else(|| panic!("file name {f}"));
            (h, json)
        })
        .collect();
    heads.sort();
    assert_eq!(
        heads,
        vec![
            (COOKIE_DIST.to_string(), false),
            (COOKIE_DIST.to_string(), true),
            (NOLOG_DIST.to_string(), true),
            (format!("cf/{DIST}"), false),
            (format!("cf/{DIST}"), true),
        ]
    );
}

#[test]
fn formats_setting_limits_what_is_written() {
    let mut edge =
        Edge::start("[logs]\ndirectory = \"logs\"\nflush_ms = 100\nformats = [\"standard\"]\n");
    let r = edge.get("/obj", &[]);
    let logs = edge.stop_and_read();
    assert_eq!(logs.std_for(&cf_id(&r)).len(), 1);
    assert!(logs.json.is_empty());
    assert!(
        logs.files.iter().all(|f| !f.ends_with(".json.gz")),
        "{:?}",
        logs.files
    );
}

#[test]
fn full_files_are_rotated_and_gzipped_while_the_edge_serves() {
    // Small files and compression at the edge's own priority: `.gz` files appear while serving,
    // each request's line in exactly one file of each format.
    let mut edge = Edge::start(
        "[logs]\ndirectory = \"logs\"\nflush_ms = 50\nmax_file_bytes = 1500\n\
         compress_priority = \"normal\"\n",
    );
    let ids: Vec<String> = (0..20)
        .map(|i| cf_id(&edge.get(&format!("/obj{i}"), &[])))
        .collect();
    let gz = |format: LogFormat| {
        Logs::read(&edge.log_dir())
            .files
            .iter()
            .filter(|f| f.ends_with(".gz") && file_format(f) == Some(format))
            .count()
    };
    assert!(
        poll_until(Duration::from_secs(10), || gz(LogFormat::Standard) >= 2
            && gz(LogFormat::Json) >= 2),
        "no rotated .gz files while serving: {:?}",
        Logs::read(&edge.log_dir()).files
    );
    let logs = edge.stop_and_read();
    for id in &ids {
        logs.one(id, "a request logged across rotated files");
    }
    assert_eq!(logs.standard.len(), ids.len());
    assert_eq!(logs.json.len(), ids.len());
}

// ---------------------------------------------------------------------------------------------
// The viewer leaves; the edge stops
// ---------------------------------------------------------------------------------------------

#[test]
fn a_viewer_that_leaves_before_the_response_is_logged_000() {
    let mut edge = Edge::start("[logs]\ndirectory = \"logs\"\nflush_ms = 100\n");
    let mut s = std::net::TcpStream::connect(edge.addr()).unwrap();
    let local = s.local_addr().unwrap();
    s.write_all(
        format!("GET /slow?ms=1500&who=leaver HTTP/1.1\r\nHost: {HOST}\r\n\r\n").as_bytes(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(s);
    // Long enough for the origin to have answered, had anyone waited.
    std::thread::sleep(Duration::from_millis(2000));
    let logs = edge.stop_and_read();
    let lines: Vec<&StdLine> = logs
        .standard
        .iter()
        .filter(|l| l.get("cs-uri-query") == "ms=1500&who=leaver")
        .collect();
    assert_eq!(lines.len(), 1, "{:#?}", logs.standard);
    let l = lines[0];
    assert_eq!(l.get("sc-status"), "000", "{l:?}");
    assert_eq!(l.get("c-port"), local.port().to_string());
    assert_eq!(l.get("x-edge-result-type"), "Error");
    assert_eq!(l.get("x-edge-detailed-result-type"), "ClientHungUpRequest");
    assert_eq!(l.get("cs-uri-stem"), "/slow");
    let j = logs.json_for(l.get("x-edge-request-id"));
    assert_eq!(j.len(), 1);
    assert_eq!(j[0]["sc-status"], "000");
    assert_eq!(logs.json.len(), 1);
}

#[test]
fn a_viewer_that_leaves_mid_body_is_logged_client_comm_error() {
    let mut edge = Edge::start("[logs]\ndirectory = \"logs\"\nflush_ms = 100\n");
    let mut s = std::net::TcpStream::connect(edge.addr()).unwrap();
    s.write_all(format!("GET /stall-body?who=midbody HTTP/1.1\r\nHost: {HOST}\r\n\r\n").as_bytes())
        .unwrap();
    // The origin sends its head and 10 of the 100 bytes it announced, then stalls: the
    // viewer takes what came and leaves.
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"0123456789") {
        let n = s.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "the edge closed first: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    drop(s);
    std::thread::sleep(Duration::from_millis(500));
    let logs = edge.stop_and_read();
    let lines: Vec<&StdLine> = logs
        .standard
        .iter()
        .filter(|l| l.get("cs-uri-query") == "who=midbody")
        .collect();
    assert_eq!(lines.len(), 1, "{:#?}", logs.standard);
    let l = lines[0];
    assert_eq!(l.get("sc-status"), "200", "{l:?}");
    assert_eq!(l.get("x-edge-result-type"), "Error", "{l:?}");
    assert_eq!(
        l.get("x-edge-detailed-result-type"),
        "ClientCommError",
        "{l:?}"
    );
    // What the viewer received: the head and the 10 bytes.
    assert_eq!(l.get("sc-bytes"), got.len().to_string(), "{l:?}");
    let j = logs.json_for(l.get("x-edge-request-id"));
    assert_eq!(j.len(), 1);
    assert_eq!(j[0]["x-edge-detailed-result-type"], "ClientCommError");
}

#[test]
fn c_country_is_each_requests_viewer_by_proxy_protocol_or_trusted_x_forwarded_for() {
    let mut edge = Edge::start(
        "[listen]\nhttp = [\"127.0.0.1:0\"]\nproxy_protocol = true\n\n\
         [logs]\ndirectory = \"logs\"\nflush_ms = 100\n",
    );
    // GET `path` from `host` on kept-alive `s` with `extra` header lines: status and request
    // id.
    let send_to = |s: &mut std::net::TcpStream, host: &str, path: &str, extra: &str| {
        let (status, head) = keep_alive_get(s, host, path, extra);
        (status, raw_cf_id(head.as_bytes()))
    };
    let send = |s: &mut std::net::TcpStream, path: &str, extra: &str| send_to(s, HOST, path, extra);
    let connect = |proxy_source: &str| {
        let mut s = std::net::TcpStream::connect(edge.addr()).unwrap();
        s.write_all(format!("PROXY TCP4 {proxy_source} 127.0.0.1 5555 80\r\n").as_bytes())
            .unwrap();
        s
    };
    // (request id, the c-country its JSON line must carry)
    let mut want = Vec::new();
    // The PROXY source is the viewer: the connection's own country (remembered between its
    // requests); E1LOGS blocks US.
    for (source, status, country) in [("81.2.69.160", 200, "GB"), ("8.8.8.8", 403, "US")] {
        let mut s = connect(source);
        for _ in 0..2 {
            let (st, id) = send(&mut s, "/obj", "");
            assert_eq!(st, status, "{source}");
            want.push((id, country));
        }
    }
    // Answers the geo check never looked at, so `c-country` comes from the log's own lookup:
    // a distribution without a geo restriction, and a redirect (the protocol check comes
    // before the geo check).
    let mut s = connect("81.2.69.160");
    for (host, path, status) in [(COOKIE_HOST, "/obj", 200), (HOST, "/redirect/x", 301)] {
        let (st, id) = send_to(&mut s, host, path, "");
        assert_eq!(st, status, "{host}{path}");
        want.push((id, "GB"));
    }
    // A trusted proxy forwarding different viewers on one connection: each request's own.
    let mut s = connect("127.0.0.1");
    for (xff, status, country) in [
        ("81.2.69.160", 200, "GB"),
        ("8.8.8.8", 403, "US"),
        ("81.2.69.160", 200, "GB"),
    ] {
        let (st, id) = send(&mut s, "/obj", &format!("X-Forwarded-For: {xff}\r\n"));
        assert_eq!(st, status, "{xff}");
        want.push((id, country));
    }
    drop(s);
    let logs = edge.stop_and_read();
    for (id, country) in &want {
        let j = logs.json_for(id);
        assert_eq!(j.len(), 1, "{id}");
        assert_eq!(j[0]["c-country"], *country, "{id}: {:?}", j[0]);
    }
}

#[test]
fn no_line_is_lost_when_the_edge_stops_with_requests_in_flight() {
    const N: usize = 200;
    let mut edge = Edge::start("[logs]\ndirectory = \"logs\"\nflush_ms = 100\n");
    let addr = edge.addr();
    let sent = Arc::new(Barrier::new(N + 1));
    let ids = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..N)
        .map(|i| {
            let sent = sent.clone();
            let ids = ids.clone();
            std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.write_all(
                    format!("GET /slow?ms=1500&i={i} HTTP/1.1\r\nHost: {HOST}\r\n\r\n").as_bytes(),
                )
                .unwrap();
                sent.wait();
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read to the end of the head and the body (Content-Length) or the close.
                loop {
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&buf).to_string();
                let id = text.lines().find_map(|l| {
                    l.to_ascii_lowercase()
                        .starts_with("x-amz-cf-id:")
                        .then(|| l.split_once(':').unwrap().1.trim().to_string())
                });
                let status = text.split_whitespace().nth(1).unwrap_or("").to_string();
                if let Some(id) = id {
                    ids.lock().unwrap().push((i, status, id));
                }
            })
        })
        .collect();
    sent.wait();
    // Every request is at the origin (which takes 1.5 s); then stop.
    std::thread::sleep(Duration::from_millis(400));
    let t = Instant::now();
    edge.gh.signal("TERM");
    for t in threads {
        t.join().unwrap();
    }
    let code = edge.gh.wait_exit(Duration::from_secs(40));
    assert_eq!(code, Some(0), "{}", edge.gh.stderr());
    let ids = ids.lock().unwrap().clone();
    assert_eq!(ids.len(), N, "every request in flight got its response");
    assert!(t.elapsed() > Duration::from_millis(500), "the edge drained");
    let logs = Logs::read(&edge.log_dir());
    assert!(logs.errors.is_empty(), "{:?}", logs.errors);
    let mut std_count: HashMap<&str, usize> = HashMap::new();
    for l in &logs.standard {
        *std_count.entry(l.get("x-edge-request-id")).or_default() += 1;
    }
    let mut json_count: HashMap<&str, usize> = HashMap::new();
    for (_, m) in &logs.json {
        *json_count
            .entry(m["x-edge-request-id"].as_str().unwrap())
            .or_default() += 1;
    }
    for (i, _, id) in &ids {
        assert_eq!(
            std_count.get(id.as_str()),
            Some(&1),
            "request {i} ({id}): standard lines"
        );
        assert_eq!(
            json_count.get(id.as_str()),
            Some(&1),
            "request {i} ({id}): JSON lines"
        );
    }
    assert_eq!(logs.standard.len(), N);
    assert_eq!(logs.json.len(), N);
}

// ---------------------------------------------------------------------------------------------
// An unwritable directory
// ---------------------------------------------------------------------------------------------

#[test]
fn an_unwritable_log_directory_does_not_stop_the_edge() {
    // A directory under a regular file can be created by nobody, root included.
    let admin = dead_port();
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.file("not-a-dir", b"a regular file");
    cfg.toml(&format!(
        "[logs]\ndirectory = \"not-a-dir/logs\"\nflush_ms = 100\n\n\
         [admin]\nlisten = \"127.0.0.1:{admin}\"\n\n\
         [origins.resolve]\n\"origin.test\" = \"127.0.0.1\"\n"
    ));
    let mut d = distribution(
        &[HOST],
        vec![custom_origin("o", "origin.test", origin.port)],
        behavior(None, "o", "allow-all", GET_HEAD),
        vec![],
    );
    d["Logging"] = logging(true, false, "cf/");
    cfg.distribution(DIST, d);
    let mut gh = Gatehouse::start(cfg.path());
    for i in 0..3 {
        let r = curl(&[
            "-H",
            &format!("Host: {HOST}"),
            &gh.http_url(&format!("/obj{i}")),
        ]);
        assert_eq!(r.status, 200, "{r:?}");
    }
    let metric = |name: &str| -> Option<u64> {
        let r = curl(&[&format!("http://127.0.0.1:{admin}/metrics")]);
        r.text()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} "))?.trim().parse().ok())
    };
    // Two formats × three requests, all dropped and counted.
    assert!(
        poll_until(Duration::from_secs(5), || metric(
            "gatehouse_log_lines_dropped_total"
        ) == Some(6)),
        "dropped: {:?}; stderr: {}",
        metric("gatehouse_log_lines_dropped_total"),
        gh.stderr()
    );
    assert_eq!(metric("gatehouse_log_lines_written_total"), Some(0));
    let err = gh.stderr();
    assert!(
        err.contains("access log directory cannot be created") && err.contains("not-a-dir/logs"),
        "the start reports the directory: {err}"
    );
    assert!(
        err.contains("lines are being dropped"),
        "writes report: {err}"
    );
    gh.signal("TERM");
    assert_eq!(
        gh.wait_exit(Duration::from_secs(20)),
        Some(0),
        "{}",
        gh.stderr()
    );
}

#[test]
fn a_log_directory_that_appears_later_is_used() {
    // Not creatable at start (its parent is a file); the file is replaced by a directory.
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.file("later", b"for now a file");
    cfg.toml(
        "[logs]\ndirectory = \"later/logs\"\nflush_ms = 100\n\n\
         [origins.resolve]\n\"origin.test\" = \"127.0.0.1\"\n",
    );
    let mut d = distribution(
        &[HOST],
        vec![custom_origin("o", "origin.test", origin.port)],
        behavior(None, "o", "allow-all", GET_HEAD),
        vec![],
    );
    d["Logging"] = logging(true, false, "");
    cfg.distribution(DIST, d);
    let mut gh = Gatehouse::start(cfg.path());
    let get = |p: &str| curl(&["-H", &format!("Host: {HOST}"), &gh.http_url(p)]);
    assert_eq!(get("/before").status, 200);
    std::thread::sleep(Duration::from_millis(300));
    std::fs::remove_file(cfg.path().join("later")).unwrap();
    std::fs::create_dir(cfg.path().join("later")).unwrap();
    let after = get("/after");
    assert_eq!(after.status, 200);
    gh.signal("TERM");
    assert_eq!(gh.wait_exit(Duration::from_secs(20)), Some(0));
    let logs = Logs::read(&cfg.path().join("later/logs"));
    assert!(logs.errors.is_empty(), "{:?}", logs.errors);
    assert_eq!(logs.std_for(&cf_id(&after)).len(), 1, "{:?}", logs.files);
    assert!(logs
        .standard
        .iter()
        .all(|l| l.get("cs-uri-stem") != "/before"));
}

// ---------------------------------------------------------------------------------------------
// GoAccess
// ---------------------------------------------------------------------------------------------

#[test]
fn goaccess_cloudfront_format_reads_every_line() {
    let goaccess = Command::new("goaccess").arg("--version").output();
    assert!(
        goaccess.is_ok_and(|o| o.status.success()),
        "goaccess is not installed (scripts/test.sh installs the Debian package goaccess)"
    );
    let mut edge = Edge::start("[logs]\ndirectory = \"logs\"\nflush_ms = 100\n");
    let wants = drive_every_kind(&edge);
    // A few more shapes: HEAD, odd characters, a cookie, a viewer that leaves.
    assert_eq!(
        edge.get(
            "/a%20b/%7Ec?q=%22x%22&t=a%09b",
            &["-A", "Mozilla/5.0 (X11; Linux x86_64) \"quoted\""]
        )
        .status,
        200
    );
    assert_eq!(edge.get("/head", &["-I"]).status, 200);
    assert_eq!(
        edge.get_host(
            COOKIE_HOST,
            "/c",
            &["-H", "Cookie: a=1; b=2", "-e", "http://ref.example/x?y=1"]
        )
        .status,
        200
    );
    let mut s = std::net::TcpStream::connect(edge.addr()).unwrap();
    s.write_all(format!("GET /slow?ms=800 HTTP/1.1\r\nHost: {HOST}\r\n\r\n").as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(s);
    std::thread::sleep(Duration::from_millis(1200));
    let logs = edge.stop_and_read();
    let total = logs.standard.len();
    assert_eq!(
        logs.standard
            .iter()
            .filter(|l| l.get("sc-status") == "000")
            .count(),
        1
    );
    assert_eq!(total, wants.len() + 4, "{:#?}", logs.standard);

    let tmp = tempfile::tempdir().unwrap();
    for (i, f) in logs
        .files
        .iter()
        .filter(|f| !f.ends_with(".json.gz"))
        .enumerate()
    {
        let mut text = Vec::new();
        reader::open(&edge.log_dir().join(f))
            .unwrap()
            .read_to_end(&mut text)
            .unwrap();
        assert!(text.starts_with(b"#Version: 1.0\n#Fields: date time "));
        let plain = tmp.path().join(format!("access-{i}.log"));
        std::fs::write(&plain, &text).unwrap();
        let lines = logs.lines_per_file[f] as u64;
        let zeros = logs
            .standard
            .iter()
            .filter(|l| &l.file == f && l.get("sc-status") == "000")
            .count() as u64;
        // Strict (GoAccess's default): only CloudFront's `000` (viewer left before the
        // response) is refused, as it is in CloudFront's own logs; with --no-strict-status
        // every line is read.
        for strict in [true, false] {
            let report = tmp.path().join(format!("report-{i}-{strict}.json"));
            let invalid = tmp.path().join(format!("invalid-{i}-{strict}.log"));
            let mut cmd = Command::new("goaccess");
            cmd.arg(&plain)
                .args(["--log-format=CLOUDFRONT", "--no-global-config"])
                .arg(format!("--invalid-requests={}", invalid.display()))
                .arg("-o")
                .arg(&report);
            if !strict {
                cmd.arg("--no-strict-status");
            }
            let out = cmd.output().unwrap();
            let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap_or_default())
                .unwrap_or_else(|e| {
                    panic!(
                        "goaccess ({e}): {}\n{}",
                        String::from_utf8_lossy(&out.stderr),
                        String::from_utf8_lossy(&text)
                    )
                });
            let g = &r["general"];
            let refused = std::fs::read_to_string(&invalid).unwrap_or_default();
            let want_failed = if strict { zeros } else { 0 };
            assert_eq!(
                g["failed_requests"], want_failed,
                "{f} (strict {strict}): {g}\nrefused:\n{refused}"
            );
            assert_eq!(g["total_requests"], lines, "{f}: {g}");
            assert_eq!(g["valid_requests"], lines - want_failed, "{f}: {g}");
            assert_eq!(
                refused.lines().count() as u64,
                want_failed,
                "{f}: {refused}"
            );
            assert!(
                refused.lines().all(|l| l.split('\t').nth(8) == Some("000")),
                "{f}: refused lines that are not 000: {refused}"
            );
        }
    }
}
