//! `gatehouse doctor` against the real edge: for every cause the edge produces, a scenario
//! through `gatehouse serve`, then the doctor names the cause
//!
//! (a) from `doctor probe` (with `X-Gatehouse-Cause`),
//! (b) from `doctor probe` against a CloudFront-strict edge (`[edge] cause_header = false`):
//!     from the page, the XML and the headers alone — certain where the body is unique, among
//!     the ranked candidates otherwise,
//! (c) from the standard log line written for the request (`explain --log-line`): named where
//!     the standard log carries the signal, among the candidates otherwise,
//! (d) from the JSON log line: named, certain.
//!
//! Then `doctor logs` over those files (groups, counts, catalogue ids, `--request-id`), `doctor
//! config`, fixes written against the config, hostile log input, and the HTML report rendered
//! in headless Chromium.

mod support;
use gatehouse_logs::sink::LogFormat;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::*;

const SHOP: &str = "shop.example.com";
const GEO_HOST: &str = "geo.example.com";
const OFF_HOST: &str = "off.example.com";
const B_HOST: &str = "b.example.com";
const SHOP_ID: &str = "E1DOCTORSHOP";
const GEO_ID: &str = "E2DOCTORGEO";
const OFF_ID: &str = "E3DOCTOROFF";
const B_ID: &str = "E4DOCTORB";
const KEY_ID: &str = "K2DOCTORKEY001";
const GROUP: &str = "6b1f0c2e-3d4a-4e5f-8a9b-0c1d2e3f4a5b";
/// 2033-05-18.
const FUTURE: u64 = 2_000_000_000;
/// 2001-09-09.
const PAST: u64 = 1_000_000_000;
/// FR in the test GeoIP database (the geo distribution allows only US).
const FR_VIEWER: &str = "203.0.113.7";
/// US in the test GeoIP database.
const US_VIEWER: &str = "198.51.100.7";

// ---------------------------------------------------------------------------------------------
// The world: an origin, keys, a GeoIP database, certificates, four distributions with logging
// ---------------------------------------------------------------------------------------------

struct World {
    _gh: Gatehouse,
    cfg: ConfigDir,
    _origin: Origin,
    http: u16,
    https: u16,
}

/// A GeoIP2-layout database: 203.0.113.0/24 is FR, 198.51.100.0/24 is US.
fn geo_db() -> Vec<u8> {
    use mmdb_writer::{Value as Mmdb, Writer};
    let mut w = Writer::new("GeoIP2-Country");
    for (net, code) in [("203.0.113.0/24", "FR"), ("198.51.100.0/24", "US")] {
        let record = Mmdb::map([("country", Mmdb::map([("iso_code", Mmdb::from(code))]))]);
        w.insert_value(net.parse::<ipnet::IpNet>().unwrap(), record)
            .unwrap();
    }
    w.to_bytes().unwrap()
}

fn logging() -> Value {
    json!({"Enabled": true, "IncludeCookies": false, "Bucket": "logs.s3.amazonaws.com", "Prefix": ""})
}

/// Writes the config directory: keys, database, certificate, four distributions.
fn write_config(cfg: &ConfigDir, origin_port: u16, cause_header: bool) {
    let dir = cfg.path();
    let key = dir.join("signer.pem");
    run_ok(
        Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(&key)
            .arg("2048"),
    );
    let public = run_ok(
        Command::new("openssl")
            .args(["rsa", "-pubout", "-in"])
            .arg(&key),
    );
    cfg.file(
        &format!("public-keys/{KEY_ID}.json"),
        serde_json::to_string_pretty(&json!({"ETag": "E2QWRUHEXAMPLE", "PublicKey": {
            "Id": KEY_ID, "CreatedTime": "2024-01-01T00:00:00Z",
            "PublicKeyConfig": {"CallerReference": "ref", "Name": "doctor", "EncodedKey": public, "Comment": ""}}}))
        .unwrap()
        .as_bytes(),
    );
    cfg.file(
        &format!("key-groups/{GROUP}.json"),
        serde_json::to_string_pretty(&json!({"ETag": "E3UN6WX5RRO2AG", "KeyGroup": {
            "Id": GROUP, "LastModifiedTime": "2024-01-01T00:00:00Z",
            "KeyGroupConfig": {"Name": "signers", "Items": [KEY_ID], "Comment": ""}}}))
        .unwrap()
        .as_bytes(),
    );
    cfg.file("geo.mmdb", &geo_db());
    self_signed(dir, "shop", &[SHOP]);
    cfg.toml(&format!(
        "[listen]\nhttp = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\n\n\
         [edge]\ncause_header = {cause_header}\n\n\
         [[tls.certificates]]\ncert = \"shop.pem\"\nkey = \"shop.key\"\n\n\
         [origins.resolve]\n\"origin.test\" = \"127.0.0.1\"\n\n\
         [clients]\ntrusted_proxies = [\"127.0.0.1\"]\n\n\
         [geoip]\ndatabase = \"geo.mmdb\"\nwatch_secs = 0\n\n\
         [logs]\ndirectory = \"logs\"\nflush_ms = 50\n"
    ));

    let o = custom_origin("o", "origin.test", origin_port);
    let dead = custom_origin("dead", "127.0.0.1", dead_port());
    let dns = custom_origin("dns", "does-not-exist.invalid", 80);
    let mut slow = custom_origin("slow", "origin.test", origin_port);
    slow["CustomOriginConfig"]["OriginReadTimeout"] = json!(1);
    let mut private = behavior(Some("/private/*"), "o", "allow-all", GET_HEAD);
    private["TrustedKeyGroups"] = json!({"Enabled": true, "Quantity": 1, "Items": [GROUP]});
    let mut shop = distribution(
        &[SHOP],
        vec![o.clone(), dead, dns, slow],
        behavior(None, "o", "allow-all", GET_HEAD),
        vec![
            behavior(Some("/secure/*"), "o", "https-only", GET_HEAD),
            behavior(Some("/redirect/*"), "o", "redirect-to-https", GET_HEAD),
            private,
            behavior(Some("/dead/*"), "dead", "allow-all", GET_HEAD),
            behavior(Some("/dns/*"), "dns", "allow-all", GET_HEAD),
            behavior(Some("/slow"), "slow", "allow-all", GET_HEAD),
        ],
    );
    shop["Logging"] = logging();
    let plain = |alias: &str| {
        let mut d = distribution(
            &[alias],
            vec![o.clone()],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![],
        );
        d["Logging"] = logging();
        d
    };
    let mut geo = plain(GEO_HOST);
    geo["Restrictions"] =
        json!({"GeoRestriction": {"RestrictionType": "whitelist", "Quantity": 1, "Items": ["US"]}});
    let mut off = plain(OFF_HOST);
    off["Enabled"] = json!(false);
    cfg.distribution(SHOP_ID, shop)
        .distribution(GEO_ID, geo)
        .distribution(OFF_ID, off)
        .distribution(B_ID, plain(B_HOST));
}

impl World {
    fn start(cause_header: bool) -> World {
        let origin = Origin::start();
        let cfg = ConfigDir::new();
        write_config(&cfg, origin.port, cause_header);
        let gh = Gatehouse::start(cfg.path());
        let http = gh.http.expect("http listener").port();
        let https = gh.https.expect("https listener").port();
        World {
            _gh: gh,
            cfg,
            _origin: origin,
            http,
            https,
        }
    }

    fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.http)
    }

    fn logs(&self) -> PathBuf {
        self.cfg.path().join("logs")
    }

    /// `gatehouse sign url URL --key-pair-id KEY --private-key … --date-less-than FUTURE` + `extra`.
    fn sign(&self, url: &str, key_id: &str, extra: &[&str]) -> String {
        let key = self.cfg.path().join("signer.pem");
        let mut args = vec![
            "sign",
            "url",
            url,
            "--key-pair-id",
            key_id,
            "--private-key",
            key.to_str().unwrap(),
        ];
        if !extra.contains(&"--date-less-than") {
            args.extend(["--date-less-than", "2000000000"]);
        }
        args.extend_from_slice(extra);
        let r = run_bin(&args, Duration::from_secs(30));
        assert_eq!(r.code, Some(0), "gatehouse {args:?}: {}", r.stderr);
        r.stdout.trim().to_string()
    }

    /// `gatehouse doctor probe URL --resolve HOST:PORT:127.0.0.1 --format json`, with
    /// `--config DIR` when `config`.
    fn probe(&self, url: &str, args: &[&str], config: bool) -> Value {
        let authority = url.split("://").nth(1).unwrap().split('/').next().unwrap();
        let resolve = format!("{authority}:127.0.0.1");
        let mut all = vec![
            "doctor",
            "probe",
            url,
            "--resolve",
            &resolve,
            "--format",
            "json",
        ];
        if config {
            all.extend(["--config", self.cfg.path().to_str().unwrap()]);
        }
        all.extend_from_slice(args);
        let r = run_bin(&all, Duration::from_secs(30));
        assert_eq!(r.code, Some(0), "probe {all:?}: {}", r.stderr);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

/// What the doctor must say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Top candidate, certain.
    Certain,
    /// Top candidate (likely or possible: the signals point to it but cannot prove it).
    Named,
    /// Among the candidates, and nothing claimed certain.
    Candidate,
    /// No line is written (the request belongs to no distribution, or is refused before one
    /// is known: as CloudFront, which does not log them).
    NotLogged,
}
use Expect::*;

struct Scenario {
    cause: &'static str,
    url: String,
    args: Vec<String>,
    /// Probing a CloudFront-strict edge (no cause header), without a config: the response and
    /// the URL alone.
    strict: Expect,
    /// The same with `--config` (aliases, behaviours, public keys).
    with_config: Expect,
    /// From the standard log line.
    standard: Expect,
}

/// A scenario; `expect` is `[strict, with_config, standard]`.
fn sc(cause: &'static str, url: String, args: &[&str], expect: [Expect; 3]) -> Scenario {
    Scenario {
        cause,
        url,
        args: args.iter().map(|s| s.to_string()).collect(),
        strict: expect[0],
        with_config: expect[1],
        standard: expect[2],
    }
}

/// `url` with query parameter `name` set to `value`.
fn set_param(url: &str, name: &str, value: &str) -> String {
    let (base, q) = url.split_once('?').unwrap();
    let pairs: Vec<String> = q
        .split('&')
        .map(|p| {
            if p.split('=').next() == Some(name) {
                format!("{name}={value}")
            } else {
                p.to_string()
            }
        })
        .collect();
    assert!(
        pairs.iter().any(|p| p.starts_with(&format!("{name}="))),
        "{url}"
    );
    format!("{base}?{}", pairs.join("&"))
}

fn param<'a>(url: &'a str, name: &str) -> &'a str {
    url.split_once('?')
        .unwrap()
        .1
        .split('&')
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("{url} has no {name}"))
}

fn routing(w: &World) -> Vec<Scenario> {
    let long = format!("/{}", "a".repeat(8300));
    vec![
        sc(
            "alias-not-configured",
            w.url("www.shop.example.com", "/x"),
            &[],
            [Named, Named, NotLogged],
        ),
        sc(
            "distribution-disabled",
            w.url(OFF_HOST, "/x"),
            &[],
            [Candidate, Named, Candidate],
        ),
        sc(
            "misdirected-request",
            format!("https://{SHOP}:{}/x", w.https),
            &["-k", "-H", &format!("Host: {B_HOST}")],
            [Certain, Certain, Certain],
        ),
        sc(
            "malformed-request",
            w.url(SHOP, "/x"),
            &["-H", "Host: bad!host.example.com"],
            [Named, Named, NotLogged],
        ),
        sc(
            "request-too-large",
            w.url(SHOP, &long),
            &[],
            [Certain, Certain, NotLogged],
        ),
    ]
}

fn viewer(w: &World) -> Vec<Scenario> {
    let fr = format!("X-Forwarded-For: {FR_VIEWER}");
    vec![
        sc(
            "https-only",
            w.url(SHOP, "/secure/x"),
            &[],
            [Candidate, Named, Named],
        ),
        sc(
            "redirect-to-https",
            w.url(SHOP, "/redirect/x"),
            &[],
            [Certain, Certain, Certain],
        ),
        sc(
            "method-not-allowed",
            w.url(SHOP, "/x"),
            &["-X", "POST"],
            [Certain, Certain, Certain],
        ),
        sc(
            "geo-blocked",
            w.url(GEO_HOST, "/x"),
            &["-H", &fr],
            [Certain, Certain, Certain],
        ),
        // The same over HTTP/2 (prior knowledge on the http listener).
        sc(
            "geo-blocked",
            w.url(GEO_HOST, "/h2"),
            &["--http2", "-H", &fr],
            [Certain, Certain, Certain],
        ),
    ]
}

/// The signed-URL causes. The `Access denied` family is one XML body, but the URL carries its
/// policy: the probe and the log line decide from it (likely: without the public key the
/// signature is not checked), and with `--config` the probe runs the edge's check (certain).
fn signed(w: &World) -> Vec<Scenario> {
    let target = w.url(SHOP, "/private/a.txt");
    let good = w.sign(&target, KEY_ID, &[]);
    let sig = param(&good, "Signature");
    let tweaked = format!(
        "{}{}",
        if sig.starts_with('A') { "B" } else { "A" },
        &sig[1..]
    );
    let other = w.url(SHOP, "/private/other/*");
    let all = [Certain, Certain, Certain];
    let decided = [Named, Certain, Named];
    vec![
        sc("signed-missing-key", target.clone(), &[], all),
        sc(
            "signed-unknown-key",
            w.sign(&target, "KUNKNOWNKEY0001", &[]),
            &[],
            all,
        ),
        sc(
            "signed-malformed-signature",
            set_param(&good, "Signature", "not!base64!"),
            &[],
            all,
        ),
        sc(
            "signed-malformed-policy",
            format!("{target}?Policy=e30_&Signature={sig}&Key-Pair-Id={KEY_ID}"),
            &[],
            all,
        ),
        sc(
            "signed-expired",
            w.sign(&target, KEY_ID, &["--date-less-than", &PAST.to_string()]),
            &[],
            decided,
        ),
        sc(
            "signed-not-yet-valid",
            w.sign(
                &target,
                KEY_ID,
                &["--date-greater-than", &(FUTURE - 1000).to_string()],
            ),
            &[],
            decided,
        ),
        // The viewer named with X-Forwarded-For (the edge trusts loopback)…
        sc(
            "signed-ip-mismatch",
            w.sign(&target, KEY_ID, &["--ip-address", "192.0.2.0/24"]),
            &["-H", &format!("X-Forwarded-For: {US_VIEWER}")],
            decided,
        ),
        // …or not: the probe does not know the IP the edge saw, so even with the keys the
        // IP condition is only likely. The log line has it.
        sc(
            "signed-ip-mismatch",
            w.sign(&target, KEY_ID, &["--ip-address", "192.0.2.0/24"]),
            &[],
            [Named, Named, Named],
        ),
        sc(
            "signed-resource-mismatch",
            w.sign(&target, KEY_ID, &["--policy-resource", &other]),
            &[],
            decided,
        ),
        sc(
            "signed-bad-signature",
            set_param(&good, "Signature", &tweaked),
            &[],
            decided,
        ),
    ]
}

fn origins(w: &World) -> Vec<Scenario> {
    vec![
        sc(
            "origin-denied",
            w.url(SHOP, "/status/403"),
            &[],
            [Named, Named, Named],
        ),
        sc(
            "origin-error-status",
            w.url(SHOP, "/status/500"),
            &[],
            [Named, Named, Named],
        ),
        sc(
            "origin-connect-error",
            w.url(SHOP, "/dead/x"),
            &[],
            [Certain, Certain, Certain],
        ),
        sc(
            "origin-dns-error",
            w.url(SHOP, "/dns/x"),
            &[],
            [Certain, Certain, Certain],
        ),
        sc(
            "origin-timeout",
            w.url(SHOP, "/slow?ms=3000"),
            &[],
            [Certain, Certain, Certain],
        ),
        // Gatehouse's page for a closed connection is also its page for an answer that is not
        // HTTP: ranked; the log's detailed type tells them apart.
        sc(
            "origin-closed",
            w.url(SHOP, "/close"),
            &[],
            [Named, Named, Certain],
        ),
        sc(
            "origin-invalid-response",
            w.url(SHOP, "/garbage"),
            &[],
            [Candidate, Candidate, Certain],
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

fn candidates(d: &Value) -> Vec<String> {
    d["candidates"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["cause"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `d` (a diagnosis as JSON) says `cause` as `expect` asks, and never names another cause
/// with certainty.
#[track_caller]
fn check(d: &Value, cause: &str, expect: Expect, what: &str) {
    let top = d["cause"].as_str();
    let conf = d["confidence"].as_str();
    if conf == Some("certain") {
        assert_eq!(top, Some(cause), "{what}: a certain wrong answer: {d:#}");
    }
    match expect {
        Certain => assert_eq!((top, conf), (Some(cause), Some("certain")), "{what}: {d:#}"),
        Named => assert_eq!(top, Some(cause), "{what}: {d:#}"),
        Candidate => {
            assert!(
                candidates(d).iter().any(|c| c == cause),
                "{what}: {cause} not among the candidates: {d:#}"
            );
            assert_ne!(conf, Some("certain"), "{what}: {d:#}");
        }
        NotLogged => unreachable!(),
    }
}

/// Every line of the standard (`.gz`) and JSON (`.json.gz`) logs under `dir`, by request id.
fn log_lines(dir: &Path) -> (HashMap<String, String>, HashMap<String, String>) {
    let (mut std_lines, mut json_lines) = (HashMap::new(), HashMap::new());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (std_lines, json_lines);
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let format = gatehouse_logs::sink::file_format(&name);
        if format == Some(LogFormat::Json) {
            let _ = gatehouse_logs::reader::read_json(
                &p,
                |_, m| {
                    if let Some(id) = m.get("x-edge-request-id").and_then(|v| v.as_str()) {
                        json_lines.insert(id.to_string(), Value::Object(m.clone()).to_string());
                    }
                },
                |_| {},
            );
        } else if format == Some(LogFormat::Standard) {
            let mut r = gatehouse_logs::reader::StandardReader::open(&p).unwrap();
            while let Some(line) = r.next() {
                if let Ok(l) = line {
                    if let Some(id) = l.get("x-edge-request-id") {
                        std_lines.insert(id.to_string(), l.raw().to_string());
                    }
                }
            }
        }
    }
    (std_lines, json_lines)
}

/// `gatehouse doctor explain --log-line LINE --format json`.
fn explain_line(line: &str) -> Value {
    doctor_json(&["doctor", "explain", "--log-line", line, "--format", "json"])
}

/// Runs the scenarios of `family` against an edge with the cause header (a) and a
/// CloudFront-strict one (b), then reads the strict edge's logs (c, d).
fn run_family(family: fn(&World) -> Vec<Scenario>) {
    // (a) With X-Gatehouse-Cause.
    let open = World::start(true);
    for s in family(&open) {
        let args: Vec<&str> = s.args.iter().map(String::as_str).collect();
        let d = open.probe(&s.url, &args, true);
        check(&d, s.cause, Certain, &format!("(a) probe {}", s.cause));
        assert!(
            d["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e.as_str() == Some(&format!("X-Gatehouse-Cause: {}", s.cause))),
            "{d:#}"
        );
    }
    drop(open);

    // (b) CloudFront-strict: the page, the XML, the headers.
    let strict = World::start(false);
    let mut ids = Vec::new();
    for s in family(&strict) {
        let args: Vec<&str> = s.args.iter().map(String::as_str).collect();
        let with_config = strict.probe(&s.url, &args, true);
        check(
            &with_config,
            s.cause,
            s.with_config,
            &format!("(b) strict probe with --config, {}", s.cause),
        );
        let d = strict.probe(&s.url, &args, false);
        assert!(
            !d["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e.as_str().unwrap().contains("X-Gatehouse-Cause")),
            "the strict edge sent the cause header: {d:#}"
        );
        check(
            &d,
            s.cause,
            s.strict,
            &format!("(b) strict probe {}", s.cause),
        );
        let id = d["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no request id: {d:#}"))
            .to_string();
        ids.push((s, id));
    }

    // (c), (d): the log lines of those requests.
    let logged: Vec<&String> = ids
        .iter()
        .filter(|(s, _)| s.standard != NotLogged)
        .map(|(_, id)| id)
        .collect();
    let mut lines = (HashMap::new(), HashMap::new());
    let all_there = poll_until(Duration::from_secs(10), || {
        lines = log_lines(&strict.logs());
        logged
            .iter()
            .all(|id| lines.0.contains_key(*id) && lines.1.contains_key(*id))
    });
    assert!(
        all_there,
        "log lines missing: standard {:?}, json {:?}, wanted {logged:?}",
        lines.0.keys(),
        lines.1.keys()
    );
    let (std_lines, json_lines) = lines;
    for (s, id) in &ids {
        if s.standard == NotLogged {
            assert!(
                !std_lines.contains_key(id) && !json_lines.contains_key(id),
                "{} was logged",
                s.cause
            );
            continue;
        }
        let line = &std_lines[id];
        assert_eq!(line.split('\t').count(), 33, "{line}");
        check(
            &explain_line(line),
            s.cause,
            s.standard,
            &format!("(c) standard log line of {}: {line}", s.cause),
        );
        let json_line = &json_lines[id];
        check(
            &explain_line(json_line),
            s.cause,
            Certain,
            &format!("(d) JSON log line of {}", s.cause),
        );
    }
}

#[test]
fn routing_causes_alias_disabled_misdirected_malformed_too_large() {
    run_family(routing);
}

#[test]
fn viewer_causes_https_only_redirect_method_geo() {
    run_family(viewer);
}

#[test]
fn signed_url_causes() {
    run_family(signed);
}

#[test]
fn origin_causes() {
    run_family(origins);
}

#[test]
fn every_cause_the_edge_produces_has_a_scenario() {
    // The scenario lists above cover the catalogue, less the causes the edge cannot produce
    // yet (WAF and S3 origins) and its internal error.
    let w = World::start(false);
    let mut covered: Vec<&str> = [routing, viewer, signed, origins]
        .iter()
        .flat_map(|f| f(&w))
        .map(|s| s.cause)
        .collect();
    covered.sort_unstable();
    covered.dedup();
    let mut expected: Vec<&str> = gatehouse_model::Cause::ALL
        .iter()
        .map(|c| c.id())
        .filter(|id| {
            !matches!(
                *id,
                "waf-blocked" | "s3-access-denied" | "s3-signature-mismatch" | "internal-error"
            )
        })
        .collect();
    expected.sort_unstable();
    assert_eq!(covered, expected);
}

// ---------------------------------------------------------------------------------------------
// `doctor logs` over the edge's own files
// ---------------------------------------------------------------------------------------------

/// The JSON log files under `dir` (`.json` while open, `.json.gz` once rotated), or the
/// standard ones (`.log`, `.gz`).
fn files(dir: &Path, json: bool) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path().to_str().unwrap().to_string())
        .filter(|p| {
            let want = if json {
                LogFormat::Json
            } else {
                LogFormat::Standard
            };
            gatehouse_logs::sink::file_format(p) == Some(want)
        })
        .collect();
    v.sort();
    v
}

fn doctor(args: &[&str]) -> BinRun {
    let r = run_bin(args, Duration::from_secs(60));
    assert!(!r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
    r
}

fn doctor_json(args: &[&str]) -> Value {
    let r = doctor(args);
    assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

/// `groups` of a `doctor logs --format json` output as cause → count.
fn group_counts(v: &Value) -> HashMap<String, u64> {
    v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["cause"].as_str().unwrap().to_string(),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn doctor_logs_groups_the_edges_logs_by_cause() {
    let w = World::start(false);
    // Three geo blocks, two origin timeouts' worth of 502s, a method refusal, a signed-URL
    // expiry, an https-only refusal and a few objects served.
    let fr = format!("X-Forwarded-For: {FR_VIEWER}");
    let target = w.url(SHOP, "/private/a.txt");
    let expired = w.sign(&target, KEY_ID, &["--date-less-than", &PAST.to_string()]);
    let requests: Vec<(String, Vec<&str>)> = vec![
        (w.url(GEO_HOST, "/a"), vec!["-H", &fr]),
        (w.url(GEO_HOST, "/b"), vec!["-H", &fr]),
        (w.url(GEO_HOST, "/a"), vec!["-H", &fr]),
        (w.url(SHOP, "/dead/1"), vec![]),
        (w.url(SHOP, "/dead/2"), vec![]),
        (w.url(SHOP, "/x"), vec!["-X", "POST"]),
        (expired.clone(), vec![]),
        (w.url(SHOP, "/secure/x"), vec![]),
        (w.url(SHOP, "/ok/1"), vec![]),
        (w.url(SHOP, "/ok/2"), vec![]),
    ];
    let mut ids = Vec::new();
    for (url, args) in &requests {
        let d = w.probe(url, args, false);
        ids.push(d["request_id"].as_str().unwrap().to_string());
    }
    assert!(poll_until(Duration::from_secs(10), || {
        let (s, j) = log_lines(&w.logs());
        ids.iter()
            .all(|id| s.contains_key(id) && j.contains_key(id))
    }));
    let logs = w.logs();
    let cfg = w.cfg.path().to_str().unwrap();
    let expected = [
        ("geo-blocked", 3),
        ("origin-connect-error", 2),
        ("method-not-allowed", 1),
        ("signed-expired", 1),
        ("https-only", 1),
    ];

    // JSON logs: the edge's own causes, certain, with catalogue ids.
    let json_files = files(&logs, true);
    let mut args = vec!["doctor", "logs", "--format", "json", "--config", cfg];
    args.extend(json_files.iter().map(String::as_str));
    let v = doctor_json(&args);
    assert_eq!(v["lines"], 10, "{v:#}");
    assert_eq!(v["bad_lines"], 0);
    let counts = group_counts(&v);
    assert_eq!(counts.len(), expected.len(), "{counts:?}");
    for (cause, n) in expected {
        assert_eq!(counts.get(cause), Some(&n), "{cause}: {counts:?}");
    }
    for g in v["groups"].as_array().unwrap() {
        let id = g["cause"].as_str().unwrap();
        assert!(gatehouse_model::Cause::from_id(id).is_some(), "{id}");
        assert_eq!(g["confidence"], "certain", "{g:#}");
    }
    // Sorted by count, with the top paths and a fix against the config.
    assert_eq!(v["groups"][0]["cause"], "geo-blocked");
    assert_eq!(v["groups"][0]["top_paths"][0], json!(["/a", 2]));
    let geo_fix = v["groups"][0]["fix"].as_str().unwrap();
    assert!(
        geo_fix.contains(GEO_ID)
            && geo_fix.contains("$.DistributionConfig.Restrictions.GeoRestriction"),
        "{geo_fix}"
    );

    // Standard logs: the same groups, named from the signals the format carries (the
    // signed-URL expiry from the line's own policy and time; https-only from InvalidRequest
    // over http).
    let std_files = files(&logs, false);
    let mut args = vec!["doctor", "logs", "--format", "json", "--config", cfg];
    args.extend(std_files.iter().map(String::as_str));
    let v = doctor_json(&args);
    assert_eq!(v["lines"], 10);
    let counts = group_counts(&v);
    for (cause, n) in expected {
        assert_eq!(counts.get(cause), Some(&n), "{cause}: {counts:?}");
    }
    let by: HashMap<&str, &Value> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["cause"].as_str().unwrap(), g))
        .collect();
    assert_eq!(by["geo-blocked"]["confidence"], "certain");
    assert_eq!(by["signed-expired"]["confidence"], "likely");
    assert_eq!(by["https-only"]["confidence"], "likely");
    assert!(by["https-only"]["alternatives"]
        .as_array()
        .unwrap()
        .contains(&json!("distribution-disabled")));
    let fix = by["https-only"]["fix"].as_str().unwrap();
    assert!(
        fix.contains(SHOP_ID) && fix.contains("$.DistributionConfig.CacheBehaviors.Items[0]"),
        "{fix}"
    );
    // The summary gives the usual time-taken and each group's mean beside it (the report
    // compares them; on loopback both are a millisecond or two, too close to order here).
    assert!(v["normal_time_taken"].as_f64().is_some(), "{v:#}");
    assert!(
        by["geo-blocked"]["mean_time_taken"].as_f64().is_some(),
        "{v:#}"
    );

    // Text: one block per cause with its count.
    let mut args = vec!["doctor", "logs", "--config", cfg];
    args.extend(std_files.iter().map(String::as_str));
    let r = doctor(&args);
    assert_eq!(r.code, Some(0));
    assert!(
        r.stdout.contains("geo-blocked — 3 request(s)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("origin-connect-error — 2 request(s)"));

    // --request-id: that request's fields and its diagnosis.
    let id = &ids[5]; // the POST
    let mut args = vec!["doctor", "logs", "--request-id", id, "--config", cfg];
    args.extend(std_files.iter().map(String::as_str));
    let r = doctor(&args);
    assert!(
        r.stdout.contains(&format!("x-edge-request-id: {id}")),
        "{r:?}"
    );
    assert!(r.stdout.contains("cs-method: POST"), "{}", r.stdout);
    assert!(r
        .stdout
        .contains("x-edge-detailed-result-type: InvalidRequestMethod"));
    assert!(
        r.stdout.contains("→ method-not-allowed (Certain)"),
        "{}",
        r.stdout
    );
    let mut args = vec![
        "doctor",
        "logs",
        "--request-id",
        &ids[6],
        "--format",
        "json",
    ];
    args.extend(json_files.iter().map(String::as_str));
    let v = doctor_json(&args);
    let req = &v["request"][0];
    assert_eq!(req["fields"]["x-edge-request-id"], ids[6].as_str());
    assert_eq!(req["cause"], "signed-expired");
    assert_eq!(req["confidence"], "certain");
    assert!(req["fields"]["cause-detail"]
        .as_str()
        .unwrap()
        .contains("DateLessThan"));
    // An id that is not there says so.
    let mut args = vec!["doctor", "logs", "--request-id", "nope"];
    args.extend(std_files.iter().map(String::as_str));
    let r = doctor(&args);
    assert!(
        r.stderr.contains("no line with x-edge-request-id nope"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// `doctor config` and fixes against the user's config
// ---------------------------------------------------------------------------------------------

#[test]
fn doctor_config_names_the_behaviour_and_its_demands() {
    let cfg = ConfigDir::new();
    write_config(&cfg, 9, false);
    let dir = cfg.path().to_str().unwrap();
    let run = |host: &str, path: &str| {
        let r = doctor(&["doctor", "config", dir, "--host", host, "--path", path]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        r.stdout
    };
    let out = run(SHOP, "/private/a.txt");
    assert!(
        out.contains(&format!("{SHOP}: served by distribution {SHOP_ID}")),
        "{out}"
    );
    assert!(
        out.contains("path /private/a.txt hits behavior `/private/*` ($.DistributionConfig.CacheBehaviors.Items[2])"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "signed URLs or cookies required (key groups [{GROUP}], keys [{KEY_ID}]): without one 403 signed-missing-key"
        )),
        "{out}"
    );
    assert!(!out.contains(GEO_ID), "{out}");
    let out = run(&format!("{SHOP}:8080"), "/secure/x");
    assert!(out.contains("hits behavior `/secure/*`"), "{out}");
    assert!(
        out.contains("https-only: http gets 403 https-only"),
        "{out}"
    );
    let out = run(SHOP, "/anything");
    assert!(
        out.contains("hits behavior `* (default)` ($.DistributionConfig.DefaultCacheBehavior)"),
        "{out}"
    );
    assert!(
        out.contains("methods [GET, HEAD]: others get 403 method-not-allowed"),
        "{out}"
    );
    let out = run(GEO_HOST, "/");
    assert!(
        out.contains("geo restriction ($.DistributionConfig.Restrictions.GeoRestriction): whitelist [US] → other countries get 403 geo-blocked"),
        "{out}"
    );
    let out = run(OFF_HOST, "/");
    assert!(
        out.contains(&format!("distribution {OFF_ID} owns it but is disabled")),
        "{out}"
    );
    assert!(
        out.contains("$.DistributionConfig.Enabled is false"),
        "{out}"
    );
    let out = run("www.shop.example.com", "/");
    assert!(
        out.contains(&format!(
            "no distribution has it as an alias → 403 alias-not-configured. Fix: add `www.shop.example.com` to Aliases of {SHOP_ID}"
        )),
        "{out}"
    );
    assert!(out.contains("$.DistributionConfig.Aliases"), "{out}");
}

#[test]
fn fixes_name_the_users_distribution_and_json_path() {
    let w = World::start(false);
    let probe_text = |url: &str, args: &[&str]| {
        let authority = url.split("://").nth(1).unwrap().split('/').next().unwrap();
        let resolve = format!("{authority}:127.0.0.1");
        let mut all = vec![
            "doctor",
            "probe",
            url,
            "--resolve",
            &resolve,
            "--config",
            w.cfg.path().to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        let r = doctor(&all);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        r.stdout
    };
    let file = |id: &str| {
        format!(
            "{}: $.DistributionConfig",
            w.cfg
                .path()
                .join("distributions")
                .join(format!("{id}.json"))
                .display()
        )
    };
    let out = probe_text(&w.url("www.shop.example.com", "/x"), &[]);
    assert!(
        out.contains("Cause: alias-not-configured (Likely)"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "Fix: add `www.shop.example.com` to Aliases of {SHOP_ID} ({}.Aliases)",
            file(SHOP_ID)
        )),
        "{out}"
    );
    assert!(
        out.contains("config: no distribution has `www.shop.example.com`"),
        "{out}"
    );
    let out = probe_text(&w.url(OFF_HOST, "/x"), &[]);
    assert!(
        out.contains("Cause: distribution-disabled (Likely)"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "set Enabled to true in {OFF_ID} ({}.Enabled)",
            file(OFF_ID)
        )),
        "{out}"
    );
    let out = probe_text(&w.url(SHOP, "/secure/x"), &[]);
    assert!(out.contains("Cause: https-only (Likely)"), "{out}");
    assert!(
        out.contains(&format!(
            "{}.CacheBehaviors.Items[0]) has ViewerProtocolPolicy https-only",
            file(SHOP_ID)
        )),
        "{out}"
    );
    let out = probe_text(&w.url(SHOP, "/x"), &["-X", "DELETE"]);
    assert!(out.contains("Cause: method-not-allowed (Certain)"), "{out}");
    assert!(out.contains("allows only [GET, HEAD], not DELETE"), "{out}");
    let fr = format!("X-Forwarded-For: {FR_VIEWER}");
    let out = probe_text(&w.url(GEO_HOST, "/x"), &["-H", &fr]);
    assert!(
        out.contains(&format!(
            "{GEO_ID} ({}.Restrictions.GeoRestriction) has a whitelist of [US]",
            file(GEO_ID)
        )),
        "{out}"
    );
    let out = probe_text(&w.url(SHOP, "/private/a.txt"), &[]);
    assert!(out.contains("Cause: signed-missing-key (Certain)"), "{out}");
    assert!(
        out.contains(&format!("trusts key groups [{GROUP}] (keys [{KEY_ID}])")),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// Malformed, truncated and hostile log input
// ---------------------------------------------------------------------------------------------

/// A standard data line (33 fields) for a request at `time` with `status` and detailed type.
fn std_line(time: &str, path: &str, status: u16, detailed: &str, ctype: &str, len: u32) -> String {
    let result = if status < 400 { "Hit" } else { "Error" };
    [
        "2026-11-27",
        time,
        "FRA56-P6",
        "1400",
        "203.0.113.9",
        "GET",
        "d111111abcdef8.cloudfront.net",
        path,
        &status.to_string(),
        "-",
        "curl/8.5.0",
        "-",
        "-",
        result,
        "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOp==",
        "www.example.com",
        "https",
        "120",
        "0.004",
        "-",
        "TLSv1.3",
        "TLS_AES_128_GCM_SHA256",
        result,
        "HTTP/1.1",
        "-",
        "-",
        "50000",
        "0.004",
        detailed,
        ctype,
        &len.to_string(),
        "-",
        "-",
    ]
    .join("\t")
}

const HEADER: &str = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end\n";

fn geo_line() -> String {
    std_line("10:00:00", "/g", 403, "ClientGeoBlocked", "text/html", 986)
}

fn ok_line() -> String {
    std_line("10:00:01", "/ok", 200, "Hit", "text/html", 5000)
}

/// gzip of `text` as one member (via the system's gzip).
fn gzip(text: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut stdin = child.stdin.take().unwrap();
    let text = text.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&text).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out.stdout
}

#[test]
fn hostile_log_input_gives_clear_errors_and_keeps_the_good_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let (geo, ok) = (geo_line(), ok_line());
    // A truncated gzip file: a complete member of 400 lines, then one cut in half.
    let member: String = (0..400).map(|_| format!("{geo}\n")).collect();
    let mut gz = gzip(format!("{HEADER}{member}").as_bytes());
    let second = gzip(member.as_bytes());
    gz.extend_from_slice(&second[..second.len() / 2]);
    std::fs::write(p("truncated.gz"), &gz).unwrap();
    // Binary garbage (deterministic), with a few newlines.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let garbage: Vec<u8> = (0..65_536)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(p("garbage.bin"), &garbage).unwrap();
    // Too few fields on line 4.
    let short = ["a", "b", "c", "d", "e", "f", "g", "h", "403", "j"].join("\t");
    std::fs::write(p("short.log"), format!("{HEADER}{geo}\n{short}\n{ok}\n")).unwrap();
    // A 3 MiB line on line 4.
    let huge = "x".repeat(3 << 20);
    std::fs::write(p("huge.log"), format!("{HEADER}{geo}\n{huge}\n{ok}\n")).unwrap();
    // Invalid UTF-8 on line 4.
    let mut bad = format!("{HEADER}{geo}\n").into_bytes();
    bad.extend_from_slice(b"2026-11-27\t\xff\xfe\xfd\n");
    bad.extend_from_slice(format!("{ok}\n").as_bytes());
    std::fs::write(p("utf8.log"), &bad).unwrap();
    // JSON lines: a good one, a broken one, a non-object, a good one.
    let json_line = json!({"date": "2026-11-27", "time": "10:00:02", "sc-status": "502",
        "x-edge-detailed-result-type": "OriginConnectError", "cause": "origin-connect-error",
        "x-edge-request-id": "J1", "cs-uri-stem": "/j", "time-taken": "0.010"})
    .to_string();
    std::fs::write(
        p("bad.json"),
        format!("{json_line}\n{{\"date\": \"2026-\n[1, 2]\n{json_line}\n"),
    )
    .unwrap();
    // An empty file, and one that does not exist.
    std::fs::write(p("empty.log"), b"").unwrap();

    let names = [
        "truncated.gz",
        "garbage.bin",
        "short.log",
        "huge.log",
        "utf8.log",
        "bad.json",
        "empty.log",
        "missing.log",
    ];
    let paths: Vec<String> = names
        .iter()
        .map(|n| p(n).to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["doctor", "logs", "--format", "json"];
    args.extend(paths.iter().map(String::as_str));
    let r = doctor(&args);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let err = &r.stderr;
    let has = |name: &str, line: &str, what: &str| {
        let prefix = format!("{}:{line}: ", p(name).display());
        assert!(
            err.lines().any(|l| l.contains(&prefix) && l.contains(what)),
            "no {prefix}… {what} in:\n{err}"
        );
    };
    has(
        "short.log",
        "4",
        "10 tab-separated values, but #Fields names 33",
    );
    has("huge.log", "4", "longer than the 1048576-byte limit");
    has("utf8.log", "4", "not UTF-8");
    has("bad.json", "2", "invalid JSON");
    has("bad.json", "3", "not a JSON object");
    has("missing.log", "0", "cannot open");
    assert!(
        err.lines()
            .any(|l| l.contains("truncated.gz:") && l.contains("read error")),
        "{err}"
    );
    assert!(err.lines().any(|l| l.contains("garbage.bin:")), "{err}");
    // The good lines are all counted: 2 in each of short, huge, utf8; 2 JSON lines; at least
    // the complete member of the gzip file.
    let geo_count = group_counts(&v)["geo-blocked"];
    assert!((400 + 3..=800 + 3).contains(&geo_count), "{v:#}");
    assert_eq!(group_counts(&v)["origin-connect-error"], 2, "{v:#}");
    let lines = v["lines"].as_u64().unwrap();
    assert_eq!(lines, geo_count + 3 + 2, "{v:#}");
    assert!(v["bad_lines"].as_u64().unwrap() >= 7, "{v:#}");
    assert!(v["problems"].as_array().unwrap().len() <= 100);
    assert!(err.contains("garbage.bin: … and "), "{err}");

    // Each file alone: the same, and the text report lists the problems.
    for (name, good) in [
        ("short.log", 2),
        ("huge.log", 2),
        ("utf8.log", 2),
        ("bad.json", 2),
    ] {
        let path = p(name);
        let v = doctor_json(&["doctor", "logs", "--format", "json", path.to_str().unwrap()]);
        assert_eq!(v["lines"], good, "{name}: {v:#}");
    }
    let r = doctor(&["doctor", "logs", p("garbage.bin").to_str().unwrap()]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("Unreadable lines:"), "{}", r.stdout);
    assert!(r.stdout.contains("0 line(s)"), "{}", r.stdout);
}

// ---------------------------------------------------------------------------------------------
// The HTML report in headless Chromium
// ---------------------------------------------------------------------------------------------

/// The bar colours of `report.rs` (RGB).
const BAR_COLOURS: [(u8, u8, u8); 4] = [
    (0xd1, 0x49, 0x5b),
    (0xed, 0xae, 0x49),
    (0x00, 0x79, 0x8c),
    (0x30, 0x63, 0x8e),
];

/// A day of traffic: objects served, and refusals of four causes, more in some hours.
fn day_of_logs() -> String {
    let mut out = String::from(HEADER);
    for hour in 0..24 {
        for i in 0..(20 + (hour * 7) % 13) {
            let t = format!("{hour:02}:{:02}:{:02}", i % 60, (i * 7) % 60);
            out.push_str(&std_line(&t, "/index.html", 200, "Hit", "text/html", 5000));
            out.push('\n');
            let (path, status, detailed, ctype, len) = match i % 5 {
                0 | 1 => ("/shop/cart", 403, "ClientGeoBlocked", "text/html", 986),
                2 => ("/private/video.mp4", 403, "Error", "text/xml", 146),
                3 if hour % 3 == 0 => (
                    "/api/orders",
                    403,
                    "InvalidRequestMethod",
                    "text/html",
                    1053,
                ),
                3 => continue,
                _ => ("/api/items", 502, "OriginConnectError", "text/html", 951),
            };
            out.push_str(&std_line(&t, path, status, detailed, ctype, len));
            out.push('\n');
        }
    }
    out
}

fn chromium() -> &'static str {
    for c in ["chromium", "chromium-browser"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return c;
        }
    }
    panic!("chromium is not installed: run scripts/test.sh (it installs the Debian package `chromium`)");
}

#[test]
fn html_report_renders_its_charts_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("E1.2026-11-27-00.abc");
    std::fs::write(&log, day_of_logs()).unwrap();
    let r = doctor(&["doctor", "logs", "--format", "html", log.to_str().unwrap()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let html = r.stdout;
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("id=\"by-cause\"") && html.contains("id=\"top-paths\""));
    assert!(!html.contains("<script"), "the report is static");
    assert!(!html.contains("http://") || html.contains("http://www.w3.org/2000/svg"));
    for cause in [
        "geo-blocked",
        "signed-missing-key",
        "method-not-allowed",
        "origin-connect-error",
    ] {
        assert!(html.contains(cause), "{cause}");
    }
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let png_path = dir.path().join("report.png");
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png_path.display()))
        .arg("--window-size=1000,1200")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        png_path.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Decode it and count the pixels of each bar colour.
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1000, 1200));
    let channels = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    let mut counts = [0usize; BAR_COLOURS.len()];
    for px in buf[..info.buffer_size()].chunks_exact(channels) {
        for (i, (r, g, b)) in BAR_COLOURS.iter().enumerate() {
            let close = |a: u8, b: u8| a.abs_diff(b) <= 3;
            if close(px[0], *r) && close(px[1], *g) && close(px[2], *b) {
                counts[i] += 1;
            }
        }
    }
    // The stacked bars of the four causes (and the share bars) cover thousands of pixels each;
    // the legend swatches alone would be about a hundred.
    for (i, n) in counts.iter().enumerate() {
        assert!(
            *n > 2000,
            "colour {:?}: {n} pixels ({counts:?})",
            BAR_COLOURS[i]
        );
    }
}
