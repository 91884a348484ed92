//! Geo restriction through the running edge (`cloudfront.md` §4, §9.1): `Restrictions.
//! GeoRestriction` on the viewer the edge resolved (peer, trusted `X-Forwarded-For`, PROXY
//! protocol), the geo page, the `CloudFront-Viewer-*` headers to the origin, the `[geoip]`
//! settings and reloading the database while serving.
//!
//! Databases: the real default one (ip-location-db geo-whois-asn-country), MaxMind's official
//! test databases, and small ones written here with `mmdb-writer`. The real files come from
//! `scripts/install-test-data.sh`; a test that needs one fails (never skips) when it is missing.

mod support;
use ipnet::IpNet;
use mmdb_writer::{Value as Mmdb, Writer};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

/// The alias every distribution here answers for.
const HOST: &str = "www.example.com";
const REASON_GEO: &str =
    "The Amazon CloudFront distribution is configured to block access from your country.";
const REASON_METHOD: &str = "This distribution is not configured to allow the HTTP request method that was used for this request. The distribution supports only cachable requests.";
/// Managed origin request policy AllViewerAndCloudFrontHeaders-2022-06.
const ALL_VIEWER_AND_CF: &str = "33f36d7e-f396-46d9-90e0-52428a34d9dc";
/// Managed cache policy CachingOptimized (no origin request policy: nothing extra forwarded).
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/// `origin.test` → 127.0.0.1 for the origin connections.
const RESOLVE: &str = "[origins.resolve]\n\"origin.test\" = \"127.0.0.1\"\n";
/// Loopback (curl, raw sockets) is a trusted proxy: its `X-Forwarded-For` names the viewer.
const TRUSTED: &str = "[clients]\ntrusted_proxies = [\"127.0.0.1\"]\n";
/// PROXY protocol from trusted loopback.
const PROXY_PROTOCOL: &str = "[listen]\nhttp = [\"127.0.0.1:0\"]\nproxy_protocol = true\n\n\
                              [clients]\ntrusted_proxies = [\"127.0.0.1\"]\n";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A file under the repository's `data/geoip/`, which must exist.
fn geo_data(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/geoip")
        .join(rel);
    assert!(
        p.is_file(),
        "test data {} is missing: run scripts/install-test-data.sh (from the repository root) \
         to install the GeoIP databases the tests use",
        p.display()
    );
    p
}

/// The real default database (ip-location-db geo-whois-asn-country).
fn default_db() -> PathBuf {
    geo_data("geo-whois-asn-country.mmdb")
}

/// `[geoip]` naming `db` (a TOML literal string), with `schema` and `watch_secs`.
fn geoip(db: &Path, schema: &str, watch_secs: u64) -> String {
    let db = db.to_str().unwrap();
    assert!(!db.contains('\''), "{db}");
    format!("[geoip]\ndatabase = '{db}'\nschema = \"{schema}\"\nwatch_secs = {watch_secs}\n")
}

/// Trusted loopback, the origin resolver and `[geoip]` on `db` (auto schema, no watching).
fn trusted_with(db: &Path) -> String {
    format!("{TRUSTED}\n{RESOLVE}\n{}", geoip(db, "auto", 0))
}

/// `Restrictions` of `kind` (`whitelist`, `blacklist`, `none`) over `items`.
fn restrictions(kind: &str, items: &[&str]) -> Value {
    if items.is_empty() {
        json!({"GeoRestriction": {"RestrictionType": kind, "Quantity": 0}})
    } else {
        json!({"GeoRestriction": {"RestrictionType": kind, "Quantity": items.len(), "Items": items}})
    }
}

/// The test origin as `o` (DomainName `origin.test`).
fn test_origin(port: u16) -> Value {
    custom_origin("o", "origin.test", port)
}

/// A one-origin distribution for `www.example.com` with `default` and `behaviors`, restricted.
fn geo_distribution(
    port: u16,
    default: Value,
    behaviors: Vec<Value>,
    kind: &str,
    items: &[&str],
) -> Value {
    let mut d = distribution(&[HOST], vec![test_origin(port)], default, behaviors);
    d["Restrictions"] = restrictions(kind, items);
    d
}

/// The simplest restricted distribution: one GET/HEAD behaviour.
fn simple(port: u16, kind: &str, items: &[&str]) -> Value {
    geo_distribution(
        port,
        behavior(None, "o", "allow-all", GET_HEAD),
        vec![],
        kind,
        items,
    )
}

/// A behaviour with the AllViewerAndCloudFrontHeaders-2022-06 origin request policy.
fn all_viewer_and_cf(pattern: Option<&str>) -> Value {
    let mut b = behavior(pattern, "o", "allow-all", GET_HEAD);
    b["OriginRequestPolicyId"] = json!(ALL_VIEWER_AND_CF);
    b
}

/// A running origin and edge, and the config directory the edge was started from.
struct Edge {
    gh: Gatehouse,
    cfg: ConfigDir,
    _origin: Origin,
}

impl Edge {
    /// Starts an origin, writes `toml` and the distribution `dist(origin port)` into `cfg`
    /// and starts the edge.
    fn start_in(cfg: ConfigDir, toml: &str, dist: impl FnOnce(u16) -> Value) -> Edge {
        let origin = Origin::start();
        cfg.toml(toml).distribution("E1GEO", dist(origin.port));
        let gh = Gatehouse::start(cfg.path());
        Edge {
            gh,
            cfg,
            _origin: origin,
        }
    }

    fn start(toml: &str, dist: impl FnOnce(u16) -> Value) -> Edge {
        Self::start_in(ConfigDir::new(), toml, dist)
    }

    /// curl with `Host: www.example.com` and `args`.
    fn get(&self, path: &str, args: &[&str]) -> CurlResponse {
        let host = format!("Host: {HOST}");
        let url = self.gh.http_url(path);
        let mut all: Vec<&str> = vec!["-H", &host];
        all.extend_from_slice(args);
        all.push(&url);
        curl(&all)
    }

    /// GET `path` with `X-Forwarded-For: xff`.
    fn from(&self, xff: &str, path: &str) -> CurlResponse {
        self.get(path, &["-H", &format!("X-Forwarded-For: {xff}")])
    }

    /// A raw HTTP/1.1 request after `prefix` (e.g. a PROXY header) on a new connection.
    fn raw(&self, prefix: &[u8], method: &str, path: &str, extra: &str) -> RawResponse {
        let mut bytes = prefix.to_vec();
        bytes.extend_from_slice(
            format!("{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n{extra}Connection: close\r\n\r\n")
                .as_bytes(),
        );
        raw_request(self.gh.http.unwrap(), &bytes, Duration::from_secs(20)).1
    }
}

/// The geo page, byte for byte, with CloudFront's headers and the cause.
fn assert_geo_page(r: &CurlResponse) {
    assert_eq!(r.status, 403, "{r:?}");
    let id = r.header("x-amz-cf-id").expect("x-amz-cf-id");
    assert_eq!(id.len(), 56, "{id}");
    assert_eq!(r.text(), expected_error_page(403, REASON_GEO, id), "{r:?}");
    assert_eq!(r.body.len(), 986);
    assert_eq!(r.header("content-length"), Some("986"));
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(r.header("server"), Some("CloudFront"));
    assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));
    assert_eq!(r.header("x-gatehouse-cause"), Some("geo-blocked"));
}

/// The same for a raw response.
fn assert_geo_page_raw(r: &RawResponse) {
    assert_eq!(r.status, 403, "{r:?} {}", r.text());
    let id = r.header("x-amz-cf-id").expect("x-amz-cf-id");
    assert_eq!(id.len(), 56, "{id}");
    assert_eq!(r.text(), expected_error_page(403, REASON_GEO, id));
    assert_eq!(r.header("content-length"), Some("986"));
    assert_eq!(r.header("x-gatehouse-cause"), Some("geo-blocked"));
}

/// Served by the origin (`anything else` answers `origin object <path>`).
fn assert_served(r: &CurlResponse, path: &str) {
    assert_eq!(r.status, 200, "{r:?} {}", r.text());
    assert_eq!(r.text(), format!("origin object {path}"));
    assert_eq!(r.header("x-gatehouse-cause"), None, "{r:?}");
}

fn assert_served_raw(r: &RawResponse, path: &str) {
    assert_eq!(r.status, 200, "{r:?} {}", r.text());
    assert_eq!(r.text(), format!("origin object {path}"));
}

/// Every value of header `name` the echo origin received.
fn sent(doc: &Value, name: &str) -> Vec<String> {
    doc["headers"]
        .as_array()
        .unwrap_or_else(|| panic!("not an echo document: {doc}"))
        .iter()
        .filter(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .map(|h| h[1].as_str().unwrap().to_string())
        .collect()
}

/// Names of every `CloudFront-*` header the echo origin received, lower-cased and sorted.
fn cloudfront_headers(doc: &Value) -> Vec<String> {
    let mut v: Vec<String> = doc["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h[0].as_str())
        .map(|n| n.to_ascii_lowercase())
        .filter(|n| n.starts_with("cloudfront-"))
        .collect();
    v.sort();
    v
}

/// A GeoIP2-layout database (`{"country":{"iso_code":..,"names":{"en":..}}}`) of `entries`.
fn geoip2_db(entries: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut w = Writer::new("GeoIP2-Country");
    for (n, code, name) in entries {
        let record = Mmdb::map([(
            "country",
            Mmdb::map([
                ("iso_code", Mmdb::from(*code)),
                ("names", Mmdb::map([("en", Mmdb::from(*name))])),
            ]),
        )]);
        w.insert_value(n.parse::<IpNet>().unwrap(), record).unwrap();
    }
    w.to_bytes().unwrap()
}

// ---------------------------------------------------------------------------------------------
// 1. Whitelist and blacklist with the real default database
// ---------------------------------------------------------------------------------------------

#[test]
fn whitelist_serves_listed_countries_and_refuses_others_with_the_geo_page() {
    let edge = Edge::start(&trusted_with(&default_db()), |port| {
        geo_distribution(
            port,
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![behavior(Some("/api/*"), "o", "allow-all", ALL)],
            "whitelist",
            &["GB"],
        )
    });
    // 81.2.69.160 is GB.
    assert_served(&edge.from("81.2.69.160", "/x"), "/x");
    assert_served(&edge.from("81.2.69.160", "/api/x"), "/api/x");
    // 8.8.8.8 is US, 1.1.1.1 AU: refused on every behaviour (the whole distribution).
    let a = edge.from("8.8.8.8", "/x");
    assert_geo_page(&a);
    let b = edge.from("1.1.1.1", "/api/y");
    assert_geo_page(&b);
    assert_ne!(a.header("x-amz-cf-id"), b.header("x-amz-cf-id"));
    // IPv6 (2001:4860:4860::8888 is US), and an IPv4 viewer written IPv4-mapped.
    assert_geo_page(&edge.from("2001:4860:4860::8888", "/x"));
    assert_geo_page(&edge.from("::ffff:8.8.8.8", "/x"));
    assert_served(&edge.from("::ffff:81.2.69.160", "/x"), "/x");
    // HTTP/2 viewers too, same page.
    let h2 = edge.get(
        "/x",
        &["--http2-prior-knowledge", "-H", "X-Forwarded-For: 8.8.8.8"],
    );
    assert_eq!(h2.version, "HTTP/2");
    assert_geo_page(&h2);
    // HEAD: the page's headers, no body.
    let head = edge.get("/x", &["-I", "-H", "X-Forwarded-For: 8.8.8.8"]);
    assert_eq!(head.status, 403, "{head:?}");
    assert_eq!(head.header("x-gatehouse-cause"), Some("geo-blocked"));

    // A refused request never reaches the origin.
    assert_geo_page(&edge.from("8.8.8.8", "/counted?key=geo-refused"));
    let n = edge.from("81.2.69.160", "/count?key=geo-refused");
    assert_eq!((n.status, n.text().as_str()), (200, "0"), "{n:?}");
    let ok = edge.from("81.2.69.160", "/counted?key=geo-refused");
    assert_eq!(ok.status, 200, "{ok:?}");
    let n = edge.from("81.2.69.160", "/count?key=geo-refused");
    assert_eq!(n.text(), "1");
}

#[test]
fn blacklist_refuses_listed_countries_and_serves_others() {
    let edge = Edge::start(&trusted_with(&default_db()), |port| {
        simple(port, "blacklist", &["US", "AU"])
    });
    assert_geo_page(&edge.from("8.8.8.8", "/x"));
    assert_geo_page(&edge.from("1.1.1.1", "/x"));
    assert_geo_page(&edge.from("2001:4860:4860::8888", "/x"));
    assert_served(&edge.from("81.2.69.160", "/x"), "/x");
    // Unknown countries are served under a blacklist too.
    assert_served(&edge.from("10.1.2.3", "/x"), "/x");
    assert_served(&edge.get("/x", &[]), "/x");
}

#[test]
fn restriction_none_or_absent_serves_everyone() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    let mut none = distribution(
        &["none.example.com"],
        vec![test_origin(origin.port)],
        behavior(None, "o", "allow-all", GET_HEAD),
        vec![],
    );
    none["Restrictions"] = restrictions("none", &[]);
    let absent = distribution(
        &["absent.example.com"],
        vec![test_origin(origin.port)],
        behavior(None, "o", "allow-all", GET_HEAD),
        vec![],
    );
    let mut blocked = distribution(
        &["blocked.example.com"],
        vec![test_origin(origin.port)],
        behavior(None, "o", "allow-all", GET_HEAD),
        vec![],
    );
    blocked["Restrictions"] = restrictions("whitelist", &["GB"]);
    cfg.toml(&trusted_with(&default_db()))
        .distribution("E1NONE", none)
        .distribution("E2ABSENT", absent)
        .distribution("E3BLOCKED", blocked);
    let gh = Gatehouse::start(cfg.path());
    let get = |host: &str, xff: &str| {
        curl(&[
            "-H",
            &format!("Host: {host}"),
            "-H",
            &format!("X-Forwarded-For: {xff}"),
            &gh.http_url("/x"),
        ])
    };
    for xff in ["8.8.8.8", "1.1.1.1", "81.2.69.160", "2001:4860:4860::8888"] {
        assert_served(&get("none.example.com", xff), "/x");
        assert_served(&get("absent.example.com", xff), "/x");
    }
    // The restriction is per distribution: the third one still refuses.
    assert_geo_page(&get("blocked.example.com", "8.8.8.8"));
}

// ---------------------------------------------------------------------------------------------
// 2. Which address is the viewer's
// ---------------------------------------------------------------------------------------------

#[test]
fn proxy_protocol_source_is_the_viewer() {
    let edge = Edge::start(
        &format!(
            "{PROXY_PROTOCOL}\n{RESOLVE}\n{}",
            geoip(&default_db(), "auto", 0)
        ),
        |port| simple(port, "whitelist", &["GB"]),
    );
    // v1
    let r = edge.raw(b"PROXY TCP4 8.8.8.8 127.0.0.1 5555 80\r\n", "GET", "/x", "");
    assert_geo_page_raw(&r);
    let r = edge.raw(
        b"PROXY TCP4 81.2.69.160 127.0.0.1 5555 80\r\n",
        "GET",
        "/x",
        "",
    );
    assert_served_raw(&r, "/x");
    let r = edge.raw(
        b"PROXY TCP6 2001:4860:4860::8888 ::1 5555 80\r\n",
        "GET",
        "/x",
        "",
    );
    assert_geo_page_raw(&r);
    // v2
    let r = edge.raw(
        &proxy_v2(
            "8.8.8.8:40000".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
        ),
        "GET",
        "/x",
        "",
    );
    assert_geo_page_raw(&r);
    let r = edge.raw(
        &proxy_v2(
            "81.2.69.160:40000".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
        ),
        "GET",
        "/x",
        "",
    );
    assert_served_raw(&r, "/x");
    // The PROXY source is a viewer, not a trusted proxy: its X-Forwarded-For counts for
    // nothing, either way.
    let r = edge.raw(
        b"PROXY TCP4 8.8.8.8 127.0.0.1 5555 80\r\n",
        "GET",
        "/x",
        "X-Forwarded-For: 81.2.69.160\r\n",
    );
    assert_geo_page_raw(&r);
    let r = edge.raw(
        b"PROXY TCP4 81.2.69.160 127.0.0.1 5555 80\r\n",
        "GET",
        "/x",
        "X-Forwarded-For: 8.8.8.8\r\n",
    );
    assert_served_raw(&r, "/x");
    // No PROXY header: the loopback peer, whose country is unknown, is served.
    let r = edge.raw(b"", "GET", "/x", "");
    assert_served_raw(&r, "/x");
}

#[test]
fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    // No trusted proxies: the viewer is the loopback peer (no country), whatever XFF says.
    let edge = Edge::start(
        &format!("{RESOLVE}\n{}", geoip(&default_db(), "auto", 0)),
        |port| simple(port, "whitelist", &["GB"]),
    );
    assert_served(&edge.from("8.8.8.8", "/x"), "/x");
    assert_served(&edge.from("1.1.1.1, 8.8.8.8", "/x"), "/x");
    let blacklist = Edge::start(
        &format!("{RESOLVE}\n{}", geoip(&default_db(), "auto", 0)),
        |port| simple(port, "blacklist", &["GB"]),
    );
    assert_served(&blacklist.from("81.2.69.160", "/x"), "/x");
}

#[test]
fn x_forwarded_for_rightmost_untrusted_entry_is_the_viewer() {
    let toml = format!(
        "[clients]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\n\n{RESOLVE}\n{}",
        geoip(&default_db(), "auto", 0)
    );
    let edge = Edge::start(&toml, |port| simple(port, "whitelist", &["GB"]));
    // A trusted hop in between is skipped.
    assert_geo_page(&edge.from("8.8.8.8, 10.0.0.5", "/x"));
    assert_served(&edge.from("81.2.69.160, 10.0.0.5", "/x"), "/x");
    // Only the rightmost untrusted address counts; what the viewer wrote before it does not.
    assert_served(&edge.from("8.8.8.8, 81.2.69.160", "/x"), "/x");
    assert_geo_page(&edge.from("81.2.69.160, 8.8.8.8", "/x"));
    // Several header fields are one list.
    let r = edge.get(
        "/x",
        &[
            "-H",
            "X-Forwarded-For: 81.2.69.160",
            "-H",
            "X-Forwarded-For: 8.8.8.8",
        ],
    );
    assert_geo_page(&r);
}

#[test]
fn viewer_with_unknown_country_is_served_under_a_whitelist() {
    let edge = Edge::start(&trusted_with(&default_db()), |port| {
        simple(port, "whitelist", &["GB"])
    });
    // In no network of the default database (checked with mmdblookup).
    for xff in ["10.1.2.3", "192.0.2.1", "100.64.0.1", "::1", "fc00::1"] {
        assert_served(&edge.from(xff, "/x"), "/x");
    }
    // No X-Forwarded-For: the loopback peer.
    assert_served(&edge.get("/x", &[]), "/x");
    // An unparsable entry stops the walk at the trusted peer (loopback, unknown).
    assert_served(&edge.from("not-an-address", "/x"), "/x");
    // Control: the same edge does refuse.
    assert_geo_page(&edge.from("8.8.8.8", "/x"));
}

// ---------------------------------------------------------------------------------------------
// 3. IPv6 viewers and other databases
// ---------------------------------------------------------------------------------------------

#[test]
fn ipv6_viewer_with_a_written_database() {
    let cfg = ConfigDir::new();
    let db = cfg.file(
        "geo/written.mmdb",
        &geoip2_db(&[
            ("2001:db8::/32", "FR", "France"),
            ("198.51.100.0/24", "DE", "Germany"),
        ]),
    );
    let toml = format!("{PROXY_PROTOCOL}\n{RESOLVE}\n{}", geoip(&db, "auto", 0));
    let edge = Edge::start_in(cfg, &toml, |port| simple(port, "whitelist", &["DE"]));
    // Trusted X-Forwarded-For with IPv6 addresses.
    assert_geo_page(&edge.from("2001:db8::7", "/x"));
    assert_geo_page(&edge.from("2001:db8:ffff::1", "/x"));
    assert_geo_page(&edge.from("[2001:db8::7]:443", "/x"));
    assert_served(&edge.from("2001:db9::1", "/x"), "/x");
    assert_served(&edge.from("2001:4860:4860::8888", "/x"), "/x");
    assert_served(&edge.from("198.51.100.7", "/x"), "/x");
    // PROXY protocol with IPv6 sources.
    let r = edge.raw(b"PROXY TCP6 2001:db8::9 ::1 4444 80\r\n", "GET", "/x", "");
    assert_geo_page_raw(&r);
    let r = edge.raw(
        &proxy_v2(
            "[2001:db8::42]:6000".parse().unwrap(),
            "[::1]:80".parse().unwrap(),
        ),
        "GET",
        "/x",
        "",
    );
    assert_geo_page_raw(&r);
    let r = edge.raw(b"PROXY TCP6 2001:db9::9 ::1 4444 80\r\n", "GET", "/x", "");
    assert_served_raw(&r, "/x");
}

/// Countries checked against `data/geoip/test/GeoIP2-Country-Test.json`: 81.2.69.160 GB,
/// 89.160.20.128 SE, 2a02:cf40::1 NO; 8.8.8.8 is in no network there.
#[test]
fn maxmind_geoip2_test_database_with_schema_geoip2() {
    let toml = format!(
        "{TRUSTED}\n{RESOLVE}\n{}",
        geoip(&geo_data("test/GeoIP2-Country-Test.mmdb"), "geoip2", 0)
    );
    let edge = Edge::start(&toml, |port| {
        geo_distribution(
            port,
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![all_viewer_and_cf(Some("/echo/*"))],
            "whitelist",
            &["GB", "SE"],
        )
    });
    assert_served(&edge.from("81.2.69.160", "/x"), "/x");
    assert_served(&edge.from("89.160.20.128", "/x"), "/x");
    assert_geo_page(&edge.from("2a02:cf40::1", "/x"));
    // Unknown to the test database (the default one would say US).
    assert_served(&edge.from("8.8.8.8", "/x"), "/x");

    let r = edge.from("81.2.69.160", "/echo/gb");
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert_eq!(sent(&doc, "cloudfront-viewer-country"), vec!["GB"]);
    assert_eq!(
        sent(&doc, "cloudfront-viewer-country-name"),
        vec!["United Kingdom"]
    );
    // A Country database has no subdivisions.
    assert!(sent(&doc, "cloudfront-viewer-country-region").is_empty());
    assert!(sent(&doc, "cloudfront-viewer-country-region-name").is_empty());
    let r = edge.from("89.160.20.128", "/echo/se");
    assert_eq!(
        sent(&r.json(), "cloudfront-viewer-country-name"),
        vec!["Sweden"]
    );
}

#[test]
fn schema_setting_is_honoured() {
    // The MaxMind layout read as ip-location-db: no country can be read, everyone is served.
    let toml = format!(
        "{TRUSTED}\n{RESOLVE}\n{}",
        geoip(
            &geo_data("test/GeoIP2-Country-Test.mmdb"),
            "ip-location-db",
            0
        )
    );
    let edge = Edge::start(&toml, |port| simple(port, "whitelist", &["GB"]));
    assert_served(&edge.from("2a02:cf40::1", "/x"), "/x");
    assert_served(&edge.from("89.160.20.128", "/x"), "/x");
    // And the ip-location-db layout read as GeoIP2.
    let toml = format!(
        "{TRUSTED}\n{RESOLVE}\n{}",
        geoip(&default_db(), "geoip2", 0)
    );
    let edge = Edge::start(&toml, |port| simple(port, "whitelist", &["GB"]));
    assert_served(&edge.from("8.8.8.8", "/x"), "/x");
    // The same file with the right schema does refuse.
    let toml = format!(
        "{TRUSTED}\n{RESOLVE}\n{}",
        geoip(&default_db(), "ip-location-db", 0)
    );
    let edge = Edge::start(&toml, |port| simple(port, "whitelist", &["GB"]));
    assert_geo_page(&edge.from("8.8.8.8", "/x"));
    assert_served(&edge.from("81.2.69.160", "/x"), "/x");
}

#[test]
fn relative_database_path_resolves_against_the_config_directory() {
    let cfg = ConfigDir::new();
    cfg.file(
        "geo.mmdb",
        &geoip2_db(&[("198.51.100.0/24", "FR", "France")]),
    );
    let toml = format!("{TRUSTED}\n{RESOLVE}\n[geoip]\ndatabase = \"geo.mmdb\"\nwatch_secs = 0\n");
    let edge = Edge::start_in(cfg, &toml, |port| simple(port, "blacklist", &["FR"]));
    assert_geo_page(&edge.from("198.51.100.7", "/x"));
    assert_served(&edge.from("8.8.8.8", "/x"), "/x");
}

#[test]
fn default_database_from_the_environment() {
    // No [geoip] table: the default database is looked for, first in
    // $GATEHOUSE_GEOIP_DATABASE.
    let cfg = ConfigDir::new();
    let db = cfg.file(
        "elsewhere/geo.mmdb",
        &geoip2_db(&[
            ("198.51.100.0/24", "FR", "France"),
            ("2001:db8::/32", "FR", "France"),
            ("203.0.113.0/24", "DE", "Germany"),
        ]),
    );
    let origin = Origin::start();
    cfg.toml(&format!("{TRUSTED}\n{RESOLVE}\n"))
        .distribution("E1GEO", simple(origin.port, "whitelist", &["FR"]));
    let gh = Gatehouse::start_with_env(
        cfg.path(),
        &[],
        &[("GATEHOUSE_GEOIP_DATABASE", db.to_str().unwrap())],
    );
    let get = |xff: &str| {
        curl(&[
            "-H",
            &format!("Host: {HOST}"),
            "-H",
            &format!("X-Forwarded-For: {xff}"),
            &gh.http_url("/x"),
        ])
    };
    // Answers only the written database gives (the installed one says AU, JP and US), and a
    // refusal to show the restriction is on.
    assert_served(&get("198.51.100.7"), "/x");
    assert_served(&get("2001:db8::1"), "/x");
    assert_served(&get("8.8.8.8"), "/x");
    assert_geo_page(&get("203.0.113.1"));
}

#[test]
fn empty_database_setting_turns_geo_off() {
    let toml = format!("{TRUSTED}\n{RESOLVE}\n[geoip]\ndatabase = \"\"\n");
    let edge = Edge::start(&toml, |port| {
        geo_distribution(
            port,
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![all_viewer_and_cf(Some("/echo/*"))],
            "whitelist",
            &["GB"],
        )
    });
    assert_served(&edge.from("8.8.8.8", "/x"), "/x");
    assert_served(&edge.from("1.1.1.1", "/x"), "/x");
    let r = edge.from("8.8.8.8", "/echo/x");
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert!(sent(&doc, "cloudfront-viewer-country").is_empty(), "{doc}");
    // The other viewer headers do not need a database.
    assert_eq!(sent(&doc, "cloudfront-forwarded-proto"), vec!["http"]);
}

// ---------------------------------------------------------------------------------------------
// 4. CloudFront-Viewer-* headers to the origin
// ---------------------------------------------------------------------------------------------

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148";

/// Values checked with `mmdblookup -f data/geoip/test/GeoIP2-City-Test.mmdb -i 216.160.83.56`.
#[test]
fn viewer_headers_with_all_viewer_and_cloudfront_headers() {
    let toml = format!(
        "{TRUSTED}\n{RESOLVE}\n{}",
        geoip(&geo_data("test/GeoIP2-City-Test.mmdb"), "auto", 0)
    );
    let edge = Edge::start(&toml, |port| {
        geo_distribution(port, all_viewer_and_cf(None), vec![], "none", &[])
    });
    let (local, r) = raw_request(
        edge.gh.http.unwrap(),
        format!(
            "GET /echo/city HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: {IPHONE}\r\n\
             X-Forwarded-For: 216.160.83.56\r\nCloudFront-Viewer-Country: ZZ\r\n\
             CloudFront-Is-Desktop-Viewer: true\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
        Duration::from_secs(20),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert_eq!(sent(&doc, "cloudfront-viewer-country"), vec!["US"]);
    assert_eq!(
        sent(&doc, "cloudfront-viewer-country-name"),
        vec!["United States"]
    );
    assert_eq!(sent(&doc, "cloudfront-viewer-country-region"), vec!["WA"]);
    assert_eq!(
        sent(&doc, "cloudfront-viewer-country-region-name"),
        vec!["Washington"]
    );
    assert_eq!(
        sent(&doc, "cloudfront-viewer-address"),
        vec![format!("216.160.83.56:{}", local.port())]
    );
    assert_eq!(sent(&doc, "cloudfront-viewer-http-version"), vec!["1.1"]);
    assert_eq!(sent(&doc, "cloudfront-forwarded-proto"), vec!["http"]);
    for (name, value) in [
        ("cloudfront-is-desktop-viewer", "false"),
        ("cloudfront-is-mobile-viewer", "true"),
        ("cloudfront-is-tablet-viewer", "false"),
        ("cloudfront-is-smarttv-viewer", "false"),
        ("cloudfront-is-android-viewer", "false"),
        ("cloudfront-is-ios-viewer", "true"),
    ] {
        assert_eq!(sent(&doc, name), vec![value], "{name}");
    }
    // Plain HTTP: no TLS header.
    assert!(sent(&doc, "cloudfront-viewer-tls").is_empty());

    // Another country, IPv6, no subdivision in the database; a desktop agent.
    let r = edge.get(
        "/echo/no",
        &[
            "-A",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
            "-H",
            "X-Forwarded-For: 2a02:cf40::1",
        ],
    );
    let doc = r.json();
    assert_eq!(sent(&doc, "cloudfront-viewer-country"), vec!["NO"]);
    assert_eq!(sent(&doc, "cloudfront-viewer-country-name"), vec!["Norway"]);
    assert!(sent(&doc, "cloudfront-viewer-country-region").is_empty());
    assert_eq!(sent(&doc, "cloudfront-is-desktop-viewer"), vec!["true"]);
    assert_eq!(sent(&doc, "cloudfront-is-mobile-viewer"), vec!["false"]);

    // A viewer whose country is unknown: no country headers, and the forged one is gone.
    let r = edge.get("/echo/unknown", &["-H", "CloudFront-Viewer-Country: ZZ"]);
    let doc = r.json();
    assert!(sent(&doc, "cloudfront-viewer-country").is_empty(), "{doc}");
    assert!(sent(&doc, "cloudfront-viewer-country-name").is_empty());
    assert_eq!(sent(&doc, "cloudfront-forwarded-proto"), vec!["http"]);
}

#[test]
fn viewer_country_by_legacy_forwarded_values_headers() {
    let edge = Edge::start(&trusted_with(&default_db()), |port| {
        let mut b = behavior(None, "o", "allow-all", GET_HEAD);
        let m = b.as_object_mut().unwrap();
        m.remove("OriginRequestPolicyId");
        m.remove("CachePolicyId");
        b["ForwardedValues"] = json!({
            "QueryString": false,
            "Cookies": {"Forward": "none"},
            "Headers": {"Quantity": 2, "Items": ["CloudFront-Viewer-Country", "CloudFront-Is-Mobile-Viewer"]},
            "QueryStringCacheKeys": {"Quantity": 0}
        });
        b["MinTTL"] = json!(0);
        b["DefaultTTL"] = json!(86400);
        b["MaxTTL"] = json!(31536000);
        geo_distribution(port, b, vec![], "blacklist", &["US"])
    });
    let r = edge.get(
        "/echo/legacy",
        &[
            "-A",
            IPHONE,
            "-H",
            "X-Forwarded-For: 1.1.1.1",
            "-H",
            "CloudFront-Viewer-Country: ZZ",
            "-H",
            "CloudFront-Viewer-Address: 6.6.6.6:1",
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    // Exactly the named ones, the country from the database.
    assert_eq!(
        cloudfront_headers(&doc),
        vec!["cloudfront-is-mobile-viewer", "cloudfront-viewer-country"]
    );
    assert_eq!(sent(&doc, "cloudfront-viewer-country"), vec!["AU"]);
    assert_eq!(sent(&doc, "cloudfront-is-mobile-viewer"), vec!["true"]);
    // The restriction still applies on this behaviour.
    assert_geo_page(&edge.from("8.8.8.8", "/echo/legacy"));
}

#[test]
fn viewer_headers_are_not_sent_when_the_policy_does_not_ask() {
    let edge = Edge::start(&trusted_with(&default_db()), |port| {
        let mut optimized = behavior(Some("/echo/optimized*"), "o", "allow-all", GET_HEAD);
        optimized
            .as_object_mut()
            .unwrap()
            .remove("OriginRequestPolicyId");
        optimized["CachePolicyId"] = json!(CACHING_OPTIMIZED);
        // Default: AllViewerExceptHostHeader (every viewer header, but no CloudFront-* ones).
        geo_distribution(
            port,
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![optimized],
            "whitelist",
            &["GB", "US"],
        )
    });
    for path in ["/echo/all-viewer", "/echo/optimized"] {
        let r = edge.get(
            path,
            &[
                "-A",
                IPHONE,
                "-H",
                "X-Forwarded-For: 8.8.8.8",
                "-H",
                "CloudFront-Viewer-Country: ZZ",
                "-H",
                "CloudFront-Is-Mobile-Viewer: false",
                "-H",
                "X-Kept: 1",
            ],
        );
        assert_eq!(r.status, 200, "{path}: {r:?}");
        let doc = r.json();
        assert_eq!(
            cloudfront_headers(&doc),
            Vec::<String>::new(),
            "{path}: {doc}"
        );
        if path == "/echo/all-viewer" {
            // Control: the policy does forward viewer headers.
            assert_eq!(sent(&doc, "x-kept"), vec!["1"]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Reloading the database while serving
// ---------------------------------------------------------------------------------------------

/// 81.2.69.0/24 in `code`, plus an IPv6 network, GeoIP2 layout.
fn moving_db(code: &str) -> Vec<u8> {
    geoip2_db(&[
        ("81.2.69.0/24", code, "Somewhere"),
        ("2001:db8::/32", code, "Somewhere"),
    ])
}

/// Polls `f` every 50 ms until it returns true; panics with `what` after `timeout`.
fn wait_for(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn database_reload_while_serving_flips_the_answer() {
    let cfg = ConfigDir::new();
    cfg.file("geo.mmdb", &moving_db("GB"));
    let toml = format!("{TRUSTED}\n{RESOLVE}\n[geoip]\ndatabase = \"geo.mmdb\"\nwatch_secs = 1\n");
    let edge = Arc::new(Edge::start_in(cfg, &toml, |port| {
        simple(port, "whitelist", &["GB"])
    }));
    assert_served(&edge.from("81.2.69.160", "/x"), "/x");
    assert_served(&edge.from("2001:db8::1", "/x"), "/x");

    // A viewer hammering the edge (sequential requests on new connections) during the swap.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let hammer = {
        let (edge, stop, done) = (edge.clone(), stop.clone(), done.clone());
        std::thread::spawn(move || {
            let addr = edge.gh.http.unwrap();
            let mut statuses = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let (_, r) = raw_request(
                    addr,
                    format!(
                        "GET /h HTTP/1.1\r\nHost: {HOST}\r\nX-Forwarded-For: 81.2.69.160\r\n\
                         Connection: close\r\n\r\n"
                    )
                    .as_bytes(),
                    Duration::from_secs(20),
                );
                statuses.push(r.status);
                done.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
            statuses
        })
    };
    wait_for(
        Duration::from_secs(20),
        "the viewer's first requests",
        || done.load(Ordering::SeqCst) >= 3,
    );
    edge.cfg.replace_file("geo.mmdb", &moving_db("US"));
    wait_for(
        Duration::from_secs(10),
        "the edge reloaded the database",
        || edge.from("81.2.69.160", "/x").status == 403,
    );
    // Once swapped, never the old answer again.
    for _ in 0..5 {
        assert_geo_page(&edge.from("81.2.69.160", "/x"));
        assert_geo_page(&edge.from("2001:db8::1", "/x"));
    }
    let seen = done.load(Ordering::SeqCst);
    wait_for(
        Duration::from_secs(20),
        "the viewer's last requests",
        || done.load(Ordering::SeqCst) >= seen + 3,
    );
    stop.store(true, Ordering::Relaxed);
    let statuses = hammer.join().expect("the hammering thread panicked");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 403),
        "{statuses:?}"
    );
    let first_403 = statuses
        .iter()
        .position(|s| *s == 403)
        .unwrap_or_else(|| panic!("the hammering viewer never saw the new database: {statuses:?}"));
    assert!(
        first_403 > 0,
        "no request saw the old database: {statuses:?}"
    );
    assert!(
        statuses[first_403..].iter().all(|s| *s == 403),
        "an old answer after the new one: {statuses:?}"
    );
    assert!(
        edge.gh.stderr().contains("GeoIP database reloaded"),
        "{}",
        edge.gh.stderr()
    );
}

#[test]
fn broken_database_replacement_keeps_the_old_answers() {
    let cfg = ConfigDir::new();
    cfg.file("geo.mmdb", &moving_db("GB"));
    let toml = format!("{TRUSTED}\n{RESOLVE}\n[geoip]\ndatabase = \"geo.mmdb\"\nwatch_secs = 1\n");
    let edge = Edge::start_in(cfg, &toml, |port| simple(port, "whitelist", &["GB"]));
    assert_served(&edge.from("81.2.69.160", "/x"), "/x");
    let good = moving_db("US");
    // Half a file (a copy in progress), written in place.
    std::fs::write(edge.cfg.path().join("geo.mmdb"), &good[..good.len() / 2]).unwrap();
    wait_for(
        Duration::from_secs(10),
        "the edge warned about the broken database",
        || edge.gh.stderr().contains("could not be loaded"),
    );
    assert_served(&edge.from("81.2.69.160", "/x"), "/x");
    assert_served(&edge.from("2001:db8::1", "/x"), "/x");
    // Completed: picked up.
    edge.cfg.replace_file("geo.mmdb", &good);
    wait_for(
        Duration::from_secs(10),
        "the edge reloaded the database",
        || edge.from("81.2.69.160", "/x").status == 403,
    );
    assert_geo_page(&edge.from("81.2.69.160", "/x"));
}

/// Sends a GET on `s` (kept alive), with `extra` header lines, and returns the status of its
/// response, read whole.
/// The status of `GET path` on the kept-alive `s` ([`keep_alive_get`] for [`HOST`]).
fn status_on(s: &mut std::net::TcpStream, path: &str, extra: &str) -> u16 {
    keep_alive_get(s, HOST, path, extra).0
}

#[test]
fn a_kept_alive_connection_sees_a_reloaded_database() {
    // The viewer is the connection's own address (no trusted proxy), whose country the edge
    // remembers per connection: a reload must still change the answer on that connection.
    let loopback = |code| geoip2_db(&[("127.0.0.0/8", code, "Loopback")]);
    let cfg = ConfigDir::new();
    cfg.file("geo.mmdb", &loopback("GB"));
    let toml = format!("{RESOLVE}\n[geoip]\ndatabase = \"geo.mmdb\"\nwatch_secs = 1\n");
    let edge = Edge::start_in(cfg, &toml, |port| simple(port, "whitelist", &["GB"]));
    let mut s = std::net::TcpStream::connect(edge.gh.http.unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(status_on(&mut s, "/a", ""), 200);
    assert_eq!(status_on(&mut s, "/b", ""), 200, "remembered: still GB");
    edge.cfg.replace_file("geo.mmdb", &loopback("US"));
    wait_for(
        Duration::from_secs(10),
        "the edge reloaded the database",
        || edge.get("/x", &[]).status == 403,
    );
    assert_eq!(
        status_on(&mut s, "/c", ""),
        403,
        "the same connection, the new database"
    );
}

#[test]
fn viewers_behind_a_trusted_proxy_on_one_connection_are_each_looked_up() {
    // One kept-alive connection from the trusted proxy carries viewers from different
    // countries: what the connection remembers is its own address's country, never theirs.
    let cfg = ConfigDir::new();
    cfg.file(
        "geo.mmdb",
        &geoip2_db(&[
            ("81.2.69.0/24", "GB", "United Kingdom"),
            ("198.51.100.0/24", "US", "United States"),
        ]),
    );
    let toml = format!("{TRUSTED}\n{RESOLVE}\n[geoip]\ndatabase = \"geo.mmdb\"\n");
    let edge = Edge::start_in(cfg, &toml, |port| simple(port, "whitelist", &["GB"]));
    let mut s = std::net::TcpStream::connect(edge.gh.http.unwrap()).unwrap();
    let gb = "X-Forwarded-For: 81.2.69.160\r\n";
    let us = "X-Forwarded-For: 198.51.100.7\r\n";
    assert_eq!(status_on(&mut s, "/a", gb), 200);
    assert_eq!(
        status_on(&mut s, "/b", us),
        403,
        "not the GB viewer's country"
    );
    assert_eq!(status_on(&mut s, "/c", gb), 200);
    assert_eq!(status_on(&mut s, "/d", us), 403);
}

#[test]
fn watch_secs_zero_never_reloads_but_sighup_reopens_the_database() {
    let cfg = ConfigDir::new();
    cfg.file("geo.mmdb", &moving_db("GB"));
    let toml = format!("{TRUSTED}\n{RESOLVE}\n[geoip]\ndatabase = \"geo.mmdb\"\nwatch_secs = 0\n");
    let edge = Edge::start_in(cfg, &toml, |port| simple(port, "whitelist", &["GB"]));
    assert_served(&edge.from("81.2.69.160", "/x"), "/x");
    edge.cfg.replace_file("geo.mmdb", &moving_db("US"));
    // Not watched: still the old answer after well over a second.
    std::thread::sleep(Duration::from_millis(2500));
    assert_served(&edge.from("81.2.69.160", "/x"), "/x");
    edge.gh.signal("HUP");
    wait_for(
        Duration::from_secs(10),
        "SIGHUP reopened the database",
        || edge.from("81.2.69.160", "/x").status == 403,
    );
    assert_geo_page(&edge.from("81.2.69.160", "/x"));
}

// ---------------------------------------------------------------------------------------------
// 6. Configuration errors
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_database_is_a_check_problem_and_serve_refuses_it() {
    let cfg = ConfigDir::new();
    cfg.toml(&format!(
        "{RESOLVE}\n[geoip]\ndatabase = \"nowhere/missing.mmdb\"\n"
    ))
    .distribution("E1GEO", simple(1, "whitelist", &["GB"]));
    let dir = cfg.path().to_str().unwrap();
    let run = run_bin(&["check", "--config", dir], Duration::from_secs(20));
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("geoip.database"), "{run:?}");
    assert!(run.stdout.contains("missing.mmdb"), "{run:?}");
    let run = run_bin(&["serve", "--config", dir], Duration::from_secs(20));
    assert!(
        !run.timed_out,
        "serve started without its database: {run:?}"
    );
    assert_ne!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("geoip.database"), "{run:?}");
}

#[test]
fn garbage_database_file_is_refused_at_start() {
    let cfg = ConfigDir::new();
    cfg.file("geo.mmdb", b"this is not a MaxMind DB");
    cfg.toml(&format!("{RESOLVE}\n[geoip]\ndatabase = \"geo.mmdb\"\n"))
        .distribution("E1GEO", simple(1, "whitelist", &["GB"]));
    let dir = cfg.path().to_str().unwrap();
    let run = run_bin(&["serve", "--config", dir], Duration::from_secs(20));
    assert!(
        !run.timed_out,
        "serve started with a broken database: {run:?}"
    );
    assert_ne!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("not a valid MaxMind DB") && run.stderr.contains("geo.mmdb"),
        "{run:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Order of checks and custom error pages
// ---------------------------------------------------------------------------------------------

#[test]
fn geo_check_runs_after_allowed_methods() {
    let edge = Edge::start(&trusted_with(&default_db()), |port| {
        simple(port, "whitelist", &["GB"])
    });
    // POST on a GET/HEAD behaviour from a refused country: the methods check answers first.
    let r = edge.raw(
        b"",
        "POST",
        "/x",
        "X-Forwarded-For: 8.8.8.8\r\nContent-Length: 0\r\n",
    );
    assert_eq!(r.status, 403, "{r:?}");
    let id = r.header("x-amz-cf-id").unwrap().to_string();
    assert_eq!(r.text(), expected_error_page(403, REASON_METHOD, &id));
    assert_eq!(r.header("content-length"), Some("1053"));
    assert_eq!(r.header("x-gatehouse-cause"), Some("method-not-allowed"));
    // GET from there: geo.
    assert_geo_page_raw(&edge.raw(b"", "GET", "/x", "X-Forwarded-For: 8.8.8.8\r\n"));
    // POST from an allowed country: still the methods refusal.
    let r = edge.raw(
        b"",
        "POST",
        "/x",
        "X-Forwarded-For: 81.2.69.160\r\nContent-Length: 0\r\n",
    );
    assert_eq!(r.header("x-gatehouse-cause"), Some("method-not-allowed"));
}

#[test]
fn custom_error_response_for_403_replaces_the_geo_page() {
    let edge = Edge::start(&trusted_with(&default_db()), |port| {
        let mut d = simple(port, "whitelist", &["GB"]);
        d["CustomErrorResponses"] = json!({"Quantity": 1, "Items": [{
            "ErrorCode": 403, "ResponsePagePath": "/page/geo.html", "ResponseCode": "403",
            "ErrorCachingMinTTL": 10
        }]});
        d
    });
    let r = edge.from("8.8.8.8", "/x");
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(r.text(), "<html><body>custom error page</body></html>");
    assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));
    assert_eq!(r.header("x-gatehouse-cause"), Some("geo-blocked"));
    assert_eq!(r.header("x-amz-cf-id").map(str::len), Some(56));
    // Allowed viewers are not affected.
    assert_served(&edge.from("81.2.69.160", "/x"), "/x");
}
