//! Custom origins over real sockets (`cloudfront.md` §9): what reaches the origin, the
//! protocol policies, the failure pages, pass-through errors, keep-alive pooling, custom error
//! pages and the viewer's address as the origin sees it.

mod support;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::*;

/// The alias every distribution here answers for.
const HOST: &str = "www.example.com";
/// Managed cache policy CachingOptimized (no query, cookies or headers forwarded).
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/// Managed origin request policy AllViewerAndCloudFrontHeaders-2022-06.
const ALL_VIEWER_AND_CF: &str = "33f36d7e-f396-46d9-90e0-52428a34d9dc";
/// `origin.test` → 127.0.0.1 for the origin connections.
const RESOLVE: &str = "[origins.resolve]\n\"origin.test\" = \"127.0.0.1\"\n";

const REASON_CONNECT: &str = "CloudFront wasn't able to connect to the origin.";
const REASON_DNS: &str = "CloudFront wasn't able to resolve the origin domain name.";
const REASON_CLOSED: &str = "The origin closed the connection.";
const REASON_TIMEOUT: &str = "CloudFront attempted to establish a connection with the origin, but either the attempt failed or the origin closed the connection.";

/// A running edge and the config directory it was started from.
struct Edge {
    gh: Gatehouse,
    _cfg: ConfigDir,
}

impl Edge {
    /// Writes `toml` and one distribution into `cfg` and starts the edge.
    fn start_in(cfg: ConfigDir, toml: &str, dist: Value) -> Edge {
        cfg.toml(toml).distribution("E1ORIGIN", dist);
        let gh = Gatehouse::start(cfg.path());
        Edge { gh, _cfg: cfg }
    }

    fn start(toml: &str, dist: Value) -> Edge {
        Self::start_in(ConfigDir::new(), toml, dist)
    }

    /// curl with `Host: www.example.com` against the HTTP listener.
    fn get(&self, path: &str, args: &[&str]) -> CurlResponse {
        let host = format!("Host: {HOST}");
        let url = self.gh.http_url(path);
        let mut all: Vec<&str> = vec!["-H", &host];
        all.extend_from_slice(args);
        all.push(&url);
        curl(&all)
    }

    /// A raw HTTP/1.1 request (optionally after `prefix`, e.g. a PROXY header) on a new
    /// connection; returns the connection's local address and the response.
    fn raw(&self, prefix: &[u8], path: &str, extra: &str) -> (SocketAddr, RawResponse) {
        let mut bytes = prefix.to_vec();
        bytes.extend_from_slice(
            format!("GET {path} HTTP/1.1\r\nHost: {HOST}\r\n{extra}Connection: close\r\n\r\n")
                .as_bytes(),
        );
        raw_request(self.gh.http.unwrap(), &bytes, Duration::from_secs(20))
    }
}

/// A one-origin, one-behaviour distribution for `www.example.com`.
fn single(origin: Value, default: Value) -> Value {
    distribution(&[HOST], vec![origin], default, vec![])
}

/// `custom_origin` named `o` with DomainName `origin.test`.
fn test_origin(port: u16) -> Value {
    custom_origin("o", "origin.test", port)
}

/// A behaviour with CachingOptimized and no origin request policy (the removal list applies).
fn caching_optimized(mut b: Value) -> Value {
    b.as_object_mut().unwrap().remove("OriginRequestPolicyId");
    b["CachePolicyId"] = json!(CACHING_OPTIMIZED);
    b
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

/// The single value of header `name` the echo origin received (`None` if absent).
fn sent1(doc: &Value, name: &str) -> Option<String> {
    let v = sent(doc, name);
    assert!(v.len() <= 1, "{name} sent {} times: {v:?}", v.len());
    v.into_iter().next()
}

/// Checks `<version> <32 lower-hex>.cloudfront.net (CloudFront)` and returns the hex.
fn via_hex<'a>(element: &'a str, version: &str) -> &'a str {
    let hex = element
        .strip_prefix(version)
        .and_then(|r| r.strip_prefix(' '))
        .and_then(|r| r.strip_suffix(".cloudfront.net (CloudFront)"))
        .unwrap_or_else(|| panic!("not a CloudFront {version} Via element: {element:?}"));
    assert!(
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "Via host id is not 32 lower-hex characters: {element:?}"
    );
    hex
}

/// A CloudFront-generated error page, byte for byte, with its headers.
fn assert_error_page(r: &CurlResponse, status: u16, reason: &str, len: usize, cause: &str) {
    assert_eq!(r.status, status, "{r:?}");
    let id = r.header("x-amz-cf-id").expect("x-amz-cf-id");
    assert_eq!(id.len(), 56, "{id}");
    assert_eq!(r.text(), expected_error_page(status, reason, id));
    assert_eq!(r.body.len(), len);
    assert_eq!(r.header("content-length"), Some(len.to_string().as_str()));
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(r.header("server"), Some("CloudFront"));
    assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));
    assert_eq!(r.header("x-gatehouse-cause"), Some(cause));
}

// ---------------------------------------------------------------------------------------------
// 1. Request forwarding
// ---------------------------------------------------------------------------------------------

#[test]
fn origin_gets_host_user_agent_xff_via_and_request_id() {
    let origin = Origin::start();
    let edge = Edge::start(
        RESOLVE,
        single(
            test_origin(origin.port),
            caching_optimized(behavior(None, "o", "allow-all", GET_HEAD)),
        ),
    );
    let r = edge.get(
        "/echo/x",
        &[
            "-A",
            "viewer-agent/1.0",
            "-H",
            "X-Forwarded-For: 203.0.113.9",
            "-H",
            "Via: 1.1 proxy.example.net",
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-cache"), Some("Miss from cloudfront"));
    let doc = r.json();
    assert_eq!(doc["method"], "GET");
    assert_eq!(doc["path"], "/echo/x");
    assert_eq!(sent1(&doc, "host").as_deref(), Some("origin.test"));
    assert_eq!(
        sent1(&doc, "user-agent").as_deref(),
        Some("Amazon CloudFront")
    );
    assert_eq!(
        sent1(&doc, "x-forwarded-for").as_deref(),
        Some("203.0.113.9,127.0.0.1")
    );
    let via = sent1(&doc, "via").expect("Via sent to the origin");
    let ours = via
        .strip_prefix("1.1 proxy.example.net, ")
        .unwrap_or_else(|| panic!("viewer's Via not kept in front: {via:?}"));
    let hex = via_hex(ours, "1.1");
    // The same edge host id the viewer sees.
    assert_eq!(
        via_hex(r.header("via").expect("viewer Via"), "1.1"),
        hex,
        "{r:?}"
    );
    assert_eq!(
        sent1(&doc, "x-amz-cf-id").as_deref(),
        r.header("x-amz-cf-id")
    );
    assert_eq!(
        sent1(&doc, "connection").map(|c| c.to_ascii_lowercase()),
        Some("keep-alive".to_string())
    );

    // Without a viewer X-Forwarded-For the origin gets only the connection's address, and a
    // new request id.
    let r2 = edge.get("/echo/y", &[]);
    let doc2 = r2.json();
    assert_eq!(
        sent1(&doc2, "x-forwarded-for").as_deref(),
        Some("127.0.0.1")
    );
    via_hex(&sent1(&doc2, "via").unwrap(), "1.1");
    assert_eq!(
        sent1(&doc2, "x-amz-cf-id").as_deref(),
        r2.header("x-amz-cf-id")
    );
    assert_ne!(r2.header("x-amz-cf-id"), r.header("x-amz-cf-id"));
}

#[test]
fn http2_viewer_is_announced_as_via_2_0() {
    let origin = Origin::start();
    let edge = Edge::start(
        RESOLVE,
        single(
            test_origin(origin.port),
            caching_optimized(behavior(None, "o", "allow-all", GET_HEAD)),
        ),
    );
    let r = edge.get(
        "/echo/h2",
        &[
            "--http2-prior-knowledge",
            "-H",
            "Via: 1.1 proxy.example.net",
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.version, "HTTP/2");
    let doc = r.json();
    let via = sent1(&doc, "via").expect("Via sent to the origin");
    let ours = via
        .strip_prefix("1.1 proxy.example.net, ")
        .unwrap_or_else(|| panic!("viewer's Via not kept in front: {via:?}"));
    let hex = via_hex(ours, "2.0");
    // Towards the viewer CloudFront still says 1.1 (captures of HTTP/2 responses).
    assert_eq!(via_hex(r.header("via").unwrap(), "1.1"), hex);
    assert_eq!(sent1(&doc, "host").as_deref(), Some("origin.test"));
    assert_eq!(
        sent1(&doc, "x-amz-cf-id").as_deref(),
        r.header("x-amz-cf-id")
    );
}

#[test]
fn custom_headers_are_added_and_override_the_viewers() {
    let origin = Origin::start();
    let mut o = test_origin(origin.port);
    o["CustomHeaders"] = json!({"Quantity": 2, "Items": [
        {"HeaderName": "X-Origin-Secret", "HeaderValue": "s3cr3t"},
        {"HeaderName": "X-Shared", "HeaderValue": "from-origin"}
    ]});
    // AllViewerExceptHostHeader: the viewer's X-Shared would reach the origin if not overridden.
    let edge = Edge::start(
        RESOLVE,
        single(o, behavior(None, "o", "allow-all", GET_HEAD)),
    );
    let r = edge.get(
        "/echo/c",
        &[
            "-H",
            "X-Shared: from-viewer",
            "-H",
            "X-Viewer-Only: v",
            "-H",
            "X-Origin-Secret: forged",
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert_eq!(sent(&doc, "x-shared"), vec!["from-origin"]);
    assert_eq!(sent(&doc, "x-origin-secret"), vec!["s3cr3t"]);
    assert_eq!(sent(&doc, "x-viewer-only"), vec!["v"]);
}

#[test]
fn origin_path_is_prefixed() {
    let origin = Origin::start();
    let mut o = test_origin(origin.port);
    o["OriginPath"] = json!("/prod");
    let edge = Edge::start(
        RESOLVE,
        single(o, behavior(None, "o", "allow-all", GET_HEAD)),
    );
    // origin.py answers "origin object <path>" for paths outside its special ones.
    let r = edge.get("/echo/x?a=1", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), "origin object /prod/echo/x?a=1");
}

#[test]
fn http_port_is_used_for_http_only_origins() {
    let origin = Origin::start();
    let dead = dead_port();
    let mut right = test_origin(origin.port);
    right["CustomOriginConfig"]["HTTPSPort"] = json!(dead);
    let mut wrong = custom_origin("wrong", "origin.test", dead);
    wrong["CustomOriginConfig"]["HTTPSPort"] = json!(origin.port);
    let edge = Edge::start(
        RESOLVE,
        distribution(
            &[HOST],
            vec![right, wrong],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![behavior(Some("/wrong/*"), "wrong", "allow-all", GET_HEAD)],
        ),
    );
    let r = edge.get("/whoami", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    let who = r.json();
    assert_eq!(who["port"], origin.port);
    assert_eq!(who["tls"], false);
    // HTTPSPort is not used by an http-only origin, even when something listens there.
    let r = edge.get("/wrong/whoami", &[]);
    assert_error_page(&r, 502, REASON_CONNECT, 951, "origin-connect-error");
}

#[test]
fn removal_list_query_and_cookies_with_caching_optimized() {
    let origin = Origin::start();
    let edge = Edge::start(
        RESOLVE,
        single(
            test_origin(origin.port),
            caching_optimized(behavior(None, "o", "allow-all", ALL)),
        ),
    );
    let r = edge.get(
        "/echo/x?q=1&r=2",
        &[
            "-H",
            "Accept-Language: de-DE",
            "-H",
            "Accept-Charset: utf-8",
            "-H",
            "Accept: text/html",
            "-H",
            "Referer: https://elsewhere.example/",
            "-H",
            "X-Real-IP: 198.51.100.1",
            "-H",
            "X-Forwarded-Proto: https",
            "-H",
            "X-HTTP-Method-Override: DELETE",
            "-H",
            "X-Edge-Secret: x",
            "-H",
            "Authorization: Bearer token",
            "-H",
            "Cookie: session=abc; theme=dark",
            "-H",
            "If-None-Match: \"v1\"",
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    // Neither the query string nor cookies are forwarded by CachingOptimized.
    assert_eq!(doc["path"], "/echo/x");
    for name in [
        "accept-language",
        "accept-charset",
        "accept",
        "referer",
        "x-real-ip",
        "x-forwarded-proto",
        "x-http-method-override",
        "x-edge-secret",
        "authorization",
        "cookie",
    ] {
        assert_eq!(
            sent(&doc, name),
            Vec::<String>::new(),
            "{name} reached the origin"
        );
    }
    // Forwarded as-is (§9.1).
    assert_eq!(sent(&doc, "if-none-match"), vec!["\"v1\""]);
    assert_eq!(
        sent1(&doc, "user-agent").as_deref(),
        Some("Amazon CloudFront")
    );
}

#[test]
fn authorization_is_kept_for_methods_other_than_get_and_head() {
    let origin = Origin::start();
    let edge = Edge::start(
        RESOLVE,
        single(
            test_origin(origin.port),
            caching_optimized(behavior(None, "o", "allow-all", ALL)),
        ),
    );
    // GET: removed.
    let r = edge.get("/echo/a", &["-H", "Authorization: Bearer get"]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(sent(&r.json(), "authorization"), Vec::<String>::new());
    // OPTIONS is not a cached method in this behaviour, so it keeps the header too.
    for method in ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        let r = edge.get(
            "/echo/a",
            &[
                "-X",
                method,
                "--data-binary",
                "hello",
                "-H",
                "Authorization: Bearer t",
                "-H",
                "Referer: https://elsewhere.example/",
            ],
        );
        assert_eq!(r.status, 200, "{method}: {r:?}");
        let doc = r.json();
        assert_eq!(doc["method"], method);
        assert_eq!(doc["body_len"], 5, "{method}");
        assert_eq!(
            sent(&doc, "authorization"),
            vec!["Bearer t"],
            "{method} lost Authorization"
        );
        // The rest of the removal list applies to every method.
        assert_eq!(sent(&doc, "referer"), Vec::<String>::new(), "{method}");
    }
}

#[test]
fn all_viewer_except_host_forwards_query_cookies_and_headers() {
    let origin = Origin::start();
    let edge = Edge::start(
        RESOLVE,
        single(
            test_origin(origin.port),
            behavior(None, "o", "allow-all", GET_HEAD),
        ),
    );
    let r = edge.get(
        "/echo/x?a=1&b=two",
        &[
            "-H",
            "X-Amz-Cf-Id: forged",
            "-A",
            "viewer-agent/1.0",
            "-H",
            "Accept-Language: de-DE",
            "-H",
            "Cookie: a=1; b=2",
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert_eq!(doc["path"], "/echo/x?a=1&b=two");
    assert_eq!(sent(&doc, "cookie"), vec!["a=1; b=2"]);
    assert_eq!(sent(&doc, "accept-language"), vec!["de-DE"]);
    assert_eq!(sent(&doc, "user-agent"), vec!["viewer-agent/1.0"]);
    // Except Host: the origin's own domain.
    assert_eq!(sent(&doc, "host"), vec!["origin.test"]);
    // The request id is always the edge's own.
    assert_eq!(
        sent1(&doc, "x-amz-cf-id").as_deref(),
        r.header("x-amz-cf-id")
    );
}

#[test]
fn legacy_forwarded_values_forward_query_and_whitelisted_cookie() {
    let origin = Origin::start();
    let mut b = behavior(None, "o", "allow-all", GET_HEAD);
    let m = b.as_object_mut().unwrap();
    m.remove("OriginRequestPolicyId");
    m.remove("CachePolicyId");
    b["ForwardedValues"] = json!({
        "QueryString": true,
        "Cookies": {"Forward": "whitelist", "WhitelistedNames": {"Quantity": 1, "Items": ["keep"]}},
        "Headers": {"Quantity": 0},
        "QueryStringCacheKeys": {"Quantity": 0}
    });
    b["MinTTL"] = json!(0);
    b["DefaultTTL"] = json!(86400);
    b["MaxTTL"] = json!(31536000);
    let edge = Edge::start(RESOLVE, single(test_origin(origin.port), b));
    let r = edge.get(
        "/echo/x?a=1",
        &[
            "-H",
            "Cookie: drop=1; keep=2; keeper=3",
            "-H",
            "Accept-Language: de-DE",
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert_eq!(doc["path"], "/echo/x?a=1");
    assert_eq!(sent(&doc, "cookie"), vec!["keep=2"]);
    assert_eq!(sent(&doc, "accept-language"), Vec::<String>::new());
    assert_eq!(
        sent1(&doc, "user-agent").as_deref(),
        Some("Amazon CloudFront")
    );
}

// ---------------------------------------------------------------------------------------------
// 2. OriginProtocolPolicy, CA trust, endpoint overrides
// ---------------------------------------------------------------------------------------------

/// An https-only origin `origin.test` on `port`.
fn https_origin(port: u16) -> Value {
    let mut o = test_origin(dead_port());
    o["CustomOriginConfig"]["HTTPSPort"] = json!(port);
    o["CustomOriginConfig"]["OriginProtocolPolicy"] = json!("https-only");
    o
}

#[test]
fn https_only_reaches_a_tls_origin_trusted_through_ca_file() {
    let cfg = ConfigDir::new();
    let (cert, key) = self_signed(cfg.path(), "origin", &["origin.test"]);
    let origin = Origin::start_tls(&cert, &key);
    let toml = format!("[origins]\nca_file = \"{}\"\n\n{RESOLVE}", cert.display());
    let edge = Edge::start_in(
        cfg,
        &toml,
        single(
            https_origin(origin.port),
            behavior(None, "o", "allow-all", GET_HEAD),
        ),
    );
    let r = edge.get("/whoami", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    let who = r.json();
    assert_eq!(who["port"], origin.port);
    assert_eq!(who["tls"], true);
    let r = edge.get("/echo/tls", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(sent(&r.json(), "host"), vec!["origin.test"]);
}

#[test]
fn untrusted_origin_certificate_is_a_connect_error() {
    let cfg = ConfigDir::new();
    let (cert, key) = self_signed(cfg.path(), "origin", &["origin.test"]);
    let origin = Origin::start_tls(&cert, &key);
    let edge = Edge::start_in(
        cfg,
        RESOLVE,
        single(
            https_origin(origin.port),
            behavior(None, "o", "allow-all", GET_HEAD),
        ),
    );
    let r = edge.get("/whoami", &[]);
    assert_error_page(&r, 502, REASON_CONNECT, 951, "origin-connect-error");
}

#[test]
fn origin_certificate_for_another_name_is_a_connect_error() {
    let cfg = ConfigDir::new();
    // Trusted, but issued for a different name than the origin's DomainName.
    let (cert, key) = self_signed(cfg.path(), "origin", &["other.test"]);
    let origin = Origin::start_tls(&cert, &key);
    let toml = format!("[origins]\nca_file = \"{}\"\n\n{RESOLVE}", cert.display());
    let edge = Edge::start_in(
        cfg,
        &toml,
        single(
            https_origin(origin.port),
            behavior(None, "o", "allow-all", GET_HEAD),
        ),
    );
    let r = edge.get("/whoami", &[]);
    assert_error_page(&r, 502, REASON_CONNECT, 951, "origin-connect-error");
}

#[test]
fn match_viewer_follows_the_viewer_protocol() {
    let cfg = ConfigDir::new();
    let (ocert, okey) = self_signed(cfg.path(), "origin", &["origin.test"]);
    self_signed(cfg.path(), "viewer", &[HOST, "plain.example.com"]);
    let tls_origin = Origin::start_tls(&ocert, &okey);
    let plain_origin = Origin::start();

    let mut mv = test_origin(plain_origin.port);
    mv["CustomOriginConfig"]["HTTPSPort"] = json!(tls_origin.port);
    mv["CustomOriginConfig"]["OriginProtocolPolicy"] = json!("match-viewer");
    let mut ho = test_origin(plain_origin.port);
    ho["CustomOriginConfig"]["HTTPSPort"] = json!(tls_origin.port);
    cfg.distribution(
        "E2PLAIN",
        distribution(
            &["plain.example.com"],
            vec![ho],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![],
        ),
    );
    let toml = format!(
        "[listen]\nhttp = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\n\n\
         [[tls.certificates]]\ncert = \"viewer.pem\"\nkey = \"viewer.key\"\n\n\
         [origins]\nca_file = \"{}\"\n\n{RESOLVE}",
        ocert.display()
    );
    let edge = Edge::start_in(
        cfg,
        &toml,
        single(mv, behavior(None, "o", "allow-all", GET_HEAD)),
    );
    let https = edge.gh.https.expect("https listener");
    let https_get = |host: &str| {
        let resolve = format!("{host}:{}:127.0.0.1", https.port());
        let url = format!("https://{host}:{}/whoami", https.port());
        curl(&["-k", "--resolve", &resolve, &url])
    };

    // match-viewer: HTTP viewer → HTTP to HTTPPort.
    let r = edge.get("/whoami", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["port"], plain_origin.port);
    assert_eq!(r.json()["tls"], false);
    // match-viewer: HTTPS viewer → HTTPS to HTTPSPort.
    let r = https_get(HOST);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["port"], tls_origin.port);
    assert_eq!(r.json()["tls"], true);
    // http-only: an HTTPS viewer still goes to the origin over HTTP.
    let r = https_get("plain.example.com");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["port"], plain_origin.port);
    assert_eq!(r.json()["tls"], false);
}

#[test]
fn endpoint_override_redirects_the_origin_but_keeps_its_host() {
    let origin = Origin::start();
    let mut o = custom_origin("o", "api.example.com", 80);
    // The endpoint replaces scheme, host and port, so even https-only goes to plain HTTP here.
    o["CustomOriginConfig"]["OriginProtocolPolicy"] = json!("https-only");
    let toml = format!(
        "[origins.endpoints]\n\"api.example.com\" = \"http://127.0.0.1:{}\"\n",
        origin.port
    );
    let edge = Edge::start(&toml, single(o, behavior(None, "o", "allow-all", GET_HEAD)));
    let r = edge.get("/echo/ep?x=1", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert_eq!(doc["path"], "/echo/ep?x=1");
    assert_eq!(sent(&doc, "host"), vec!["api.example.com"]);
}

// ---------------------------------------------------------------------------------------------
// 3. Origin failures
// ---------------------------------------------------------------------------------------------

/// An edge in front of `origin` (on `origin.test`) with the harness behaviour and `tweak`
/// applied to the origin item.
fn edge_with(port: u16, methods: &[&str], tweak: impl FnOnce(&mut Value)) -> Edge {
    let mut o = test_origin(port);
    tweak(&mut o);
    Edge::start(
        RESOLVE,
        single(o, behavior(None, "o", "allow-all", methods)),
    )
}

#[test]
fn connection_refused_is_502_connect_error() {
    let edge = edge_with(dead_port(), GET_HEAD, |_| {});
    let r = edge.get("/a", &[]);
    assert_error_page(&r, 502, REASON_CONNECT, 951, "origin-connect-error");
}

#[test]
fn unresolvable_domain_is_502_dns_error() {
    let o = custom_origin("o", "does-not-exist.invalid", 80);
    let edge = Edge::start("", single(o, behavior(None, "o", "allow-all", GET_HEAD)));
    let r = edge.get("/a", &[]);
    assert_error_page(&r, 502, REASON_DNS, 960, "origin-dns-error");
}

#[test]
fn origin_closing_the_connection_is_502_origin_closed() {
    let origin = Origin::start();
    let edge = edge_with(origin.port, GET_HEAD, |_| {});
    let r = edge.get("/close", &[]);
    assert_error_page(&r, 502, REASON_CLOSED, 936, "origin-closed");
}

#[test]
fn read_timeout_is_504() {
    let origin = Origin::start();
    let edge = edge_with(origin.port, GET_HEAD, |o| {
        o["CustomOriginConfig"]["OriginReadTimeout"] = json!(1);
        o["ConnectionAttempts"] = json!(1);
    });
    let t = Instant::now();
    let r = edge.get("/slow?ms=3000", &[]);
    let took = t.elapsed();
    assert_error_page(&r, 504, REASON_TIMEOUT, 1033, "origin-timeout");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2900),
        "504 after {took:?}, expected about 1 s"
    );
}

#[test]
fn invalid_http_from_the_origin_is_502() {
    let origin = Origin::start();
    let edge = edge_with(origin.port, GET_HEAD, |_| {});
    let r = edge.get("/garbage", &[]);
    // No capture of a reason line for this; the edge uses the closed-connection page
    // (docs/compatibility.md).
    assert_error_page(&r, 502, REASON_CLOSED, 936, "origin-invalid-response");
}

/// How many requests origin.py's `/counted` saw under `key` (asked directly, not via the edge).
fn origin_count(origin: &Origin, key: &str) -> String {
    let r = curl(&[&format!("http://127.0.0.1:{}/count?key={key}", origin.port)]);
    assert_eq!(r.status, 200, "{r:?}");
    r.text()
}

#[test]
fn get_is_retried_connection_attempts_times_on_read_timeout() {
    let origin = Origin::start();
    let edge = edge_with(origin.port, ALL, |o| {
        o["CustomOriginConfig"]["OriginReadTimeout"] = json!(1);
        o["ConnectionAttempts"] = json!(3);
    });
    let t = Instant::now();
    let r = edge.get("/counted?key=get&ms=1500", &[]);
    let took = t.elapsed();
    assert_error_page(&r, 504, REASON_TIMEOUT, 1033, "origin-timeout");
    assert!(
        took >= Duration::from_millis(2700) && took < Duration::from_secs(10),
        "504 after {took:?}, expected about 3 s (3 attempts of 1 s)"
    );
    assert_eq!(origin_count(&origin, "get"), "3");
}

#[test]
fn post_is_not_retried_on_read_timeout() {
    let origin = Origin::start();
    let edge = edge_with(origin.port, ALL, |o| {
        o["CustomOriginConfig"]["OriginReadTimeout"] = json!(1);
        o["ConnectionAttempts"] = json!(3);
    });
    let t = Instant::now();
    let r = edge.get("/counted?key=post&ms=1500", &["-X", "POST", "-d", "x=1"]);
    let took = t.elapsed();
    assert_error_page(&r, 504, REASON_TIMEOUT, 1033, "origin-timeout");
    // §9.2's "waits 30 s" for these methods is the default OriginReadTimeout; what matters
    // is the single attempt.
    assert!(
        took < Duration::from_millis(2500),
        "504 after {took:?}, expected about 1 s (no retry)"
    );
    assert_eq!(origin_count(&origin, "post"), "1");
}

#[test]
fn stalled_body_ends_the_viewer_transfer() {
    let origin = Origin::start();
    let edge = edge_with(origin.port, GET_HEAD, |o| {
        o["CustomOriginConfig"]["OriginReadTimeout"] = json!(1);
    });
    let t = Instant::now();
    let r = edge.get("/stall-body", &[]);
    let took = t.elapsed();
    // The head and the first 10 bytes arrived; then the transfer is cut short.
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-length"), Some("100"));
    assert_eq!(r.text(), "0123456789");
    assert_ne!(r.exit, 0, "curl did not notice a partial transfer: {r:?}");
    assert!(
        took < Duration::from_secs(10),
        "transfer ended after {took:?}; the origin stalls for 30 s"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Origin status codes pass through
// ---------------------------------------------------------------------------------------------

#[test]
fn origin_403_passes_through_as_origin_denied() {
    let origin = Origin::start();
    let edge = edge_with(origin.port, GET_HEAD, |_| {});
    let r = edge.get("/status/403", &[]);
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(r.text(), "<html><body>origin says 403</body></html>");
    assert_eq!(r.header("server"), Some("test-origin"));
    assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));
    assert_eq!(r.header("x-gatehouse-cause"), Some("origin-denied"));
    assert!(r.header("x-origin-conn").is_some(), "{r:?}");
    via_hex(r.header("via").expect("Via"), "1.1");
    assert_eq!(r.header("x-amz-cf-id").map(str::len), Some(56));
}

#[test]
fn other_origin_errors_pass_through_as_origin_error_status() {
    let origin = Origin::start();
    let edge = edge_with(origin.port, GET_HEAD, |_| {});
    for code in [404u16, 500, 503] {
        let r = edge.get(&format!("/status/{code}"), &[]);
        assert_eq!(r.status, code, "{r:?}");
        assert_eq!(
            r.text(),
            format!("<html><body>origin says {code}</body></html>")
        );
        assert_eq!(r.header("server"), Some("test-origin"));
        assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));
        assert_eq!(r.header("x-gatehouse-cause"), Some("origin-error-status"));
    }
}

#[test]
fn origin_success_is_a_miss_without_cause() {
    let origin = Origin::start();
    let edge = edge_with(origin.port, GET_HEAD, |_| {});
    let r = edge.get("/status/200", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), "<html><body>origin says 200</body></html>");
    assert_eq!(r.header("server"), Some("test-origin"));
    assert_eq!(r.header("x-cache"), Some("Miss from cloudfront"));
    assert_eq!(r.header("x-gatehouse-cause"), None);
}

// ---------------------------------------------------------------------------------------------
// 5. Keep-alive pooling
// ---------------------------------------------------------------------------------------------

/// The origin connection id of one request (echo `conn`, also in `X-Origin-Conn`).
fn origin_conn(edge: &Edge) -> u64 {
    let r = edge.get("/echo/conn", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    let conn = r.json()["conn"].as_u64().unwrap();
    assert_eq!(r.header("x-origin-conn"), Some(conn.to_string().as_str()));
    conn
}

#[test]
fn origin_connections_are_reused_across_viewer_connections() {
    let origin = Origin::start();
    let edge = edge_with(origin.port, GET_HEAD, |o| {
        o["CustomOriginConfig"]["OriginKeepaliveTimeout"] = json!(5);
    });
    let a = origin_conn(&edge);
    let b = origin_conn(&edge);
    assert_eq!(a, b, "second viewer request used a new origin connection");
}

#[test]
fn idle_origin_connections_close_after_keepalive_timeout() {
    let origin = Origin::start();
    let edge = edge_with(origin.port, GET_HEAD, |o| {
        o["CustomOriginConfig"]["OriginKeepaliveTimeout"] = json!(1);
    });
    let a = origin_conn(&edge);
    let b = origin_conn(&edge);
    assert_eq!(
        a, b,
        "pooling is off: the idle timeout test would prove nothing"
    );
    std::thread::sleep(Duration::from_millis(2500));
    let c = origin_conn(&edge);
    assert_ne!(
        b, c,
        "origin connection was kept past OriginKeepaliveTimeout"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. CustomErrorResponses
// ---------------------------------------------------------------------------------------------

fn error_responses(items: Value) -> Value {
    let n = items.as_array().unwrap().len();
    json!({"Quantity": n, "Items": items})
}

#[test]
fn custom_error_page_replaces_an_origin_404() {
    let origin = Origin::start();
    let mut d = single(
        test_origin(origin.port),
        behavior(None, "o", "allow-all", GET_HEAD),
    );
    d["CustomErrorResponses"] = error_responses(json!([{
        "ErrorCode": 404, "ResponsePagePath": "/page/404.html", "ResponseCode": "200",
        "ErrorCachingMinTTL": 10
    }]));
    let edge = Edge::start(RESOLVE, d);
    let r = edge.get("/status/404", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), "<html><body>custom error page</body></html>");
    assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));
    // A status without a custom page still passes through.
    let r = edge.get("/status/403", &[]);
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(r.text(), "<html><body>origin says 403</body></html>");
}

#[test]
fn custom_error_page_for_a_connect_failure_uses_response_code() {
    let origin = Origin::start();
    let dead = custom_origin("dead", "origin.test", dead_port());
    let mut d = distribution(
        &[HOST],
        vec![dead, test_origin(origin.port)],
        behavior(None, "dead", "allow-all", GET_HEAD),
        vec![behavior(Some("/page/*"), "o", "allow-all", GET_HEAD)],
    );
    d["CustomErrorResponses"] = error_responses(json!([{
        "ErrorCode": 502, "ResponsePagePath": "/page/502.html", "ResponseCode": "503"
    }]));
    let edge = Edge::start(RESOLVE, d);
    let r = edge.get("/anything", &[]);
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.text(), "<html><body>custom error page</body></html>");
    assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));
    assert_eq!(r.header("x-gatehouse-cause"), Some("origin-connect-error"));
}

#[test]
fn unavailable_custom_error_page_sends_the_original_error() {
    let origin = Origin::start();
    let dead = custom_origin("dead", "origin.test", dead_port());
    let mut d = distribution(
        &[HOST],
        vec![test_origin(origin.port), dead],
        behavior(None, "o", "allow-all", GET_HEAD),
        vec![behavior(Some("/dead/*"), "dead", "allow-all", GET_HEAD)],
    );
    d["CustomErrorResponses"] = error_responses(json!([
        // The page answers 500: not usable.
        {"ErrorCode": 404, "ResponsePagePath": "/status/500", "ResponseCode": "200"},
        // The page's origin is down.
        {"ErrorCode": 502, "ResponsePagePath": "/dead/502.html", "ResponseCode": "200"}
    ]));
    let edge = Edge::start(RESOLVE, d);

    let r = edge.get("/status/404", &[]);
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(r.text(), "<html><body>origin says 404</body></html>");
    assert_eq!(r.header("server"), Some("test-origin"));
    assert_eq!(r.header("x-gatehouse-cause"), Some("origin-error-status"));

    let r = edge.get("/dead/x", &[]);
    assert_error_page(&r, 502, REASON_CONNECT, 951, "origin-connect-error");
}

// ---------------------------------------------------------------------------------------------
// 7. The viewer's address (CloudFront-Viewer-Address and friends)
// ---------------------------------------------------------------------------------------------

/// An edge whose behaviour adds the CloudFront-* headers, with `toml` for clients/listen.
fn viewer_edge(origin: &Origin, toml: &str) -> Edge {
    let mut b = behavior(None, "o", "allow-all", GET_HEAD);
    b["OriginRequestPolicyId"] = json!(ALL_VIEWER_AND_CF);
    Edge::start(
        &format!("{toml}\n{RESOLVE}"),
        single(test_origin(origin.port), b),
    )
}

const TRUSTED: &str = "[clients]\ntrusted_proxies = [\"127.0.0.1\"]\n";
const PROXY_PROTOCOL: &str = "[listen]\nhttp = [\"127.0.0.1:0\"]\nproxy_protocol = true\n\n\
                              [clients]\ntrusted_proxies = [\"127.0.0.1\"]\n";

#[test]
fn viewer_address_from_a_trusted_proxys_x_forwarded_for() {
    let origin = Origin::start();
    let edge = viewer_edge(&origin, TRUSTED);
    let (local, r) = edge.raw(b"", "/echo/v", "X-Forwarded-For: 81.2.69.160\r\n");
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert_eq!(
        sent(&doc, "cloudfront-viewer-address"),
        vec![format!("81.2.69.160:{}", local.port())]
    );
    assert_eq!(sent(&doc, "cloudfront-forwarded-proto"), vec!["http"]);
    assert_eq!(sent(&doc, "cloudfront-viewer-http-version"), vec!["1.1"]);
    assert_eq!(sent(&doc, "x-forwarded-for"), vec!["81.2.69.160,127.0.0.1"]);
}

#[test]
fn viewer_address_ipv6_from_x_forwarded_for() {
    let origin = Origin::start();
    let edge = viewer_edge(&origin, TRUSTED);
    let (local, r) = edge.raw(b"", "/echo/v6", "X-Forwarded-For: 2001:db8::7\r\n");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        sent(&r.json(), "cloudfront-viewer-address"),
        vec![format!("[2001:db8::7]:{}", local.port())]
    );
}

#[test]
fn x_forwarded_for_is_ignored_from_untrusted_peers() {
    let origin = Origin::start();
    let edge = viewer_edge(&origin, "");
    let (local, r) = edge.raw(b"", "/echo/u", "X-Forwarded-For: 81.2.69.160\r\n");
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert_eq!(
        sent(&doc, "cloudfront-viewer-address"),
        vec![format!("127.0.0.1:{}", local.port())]
    );
    // The header still travels on, with the connection's address appended.
    assert_eq!(sent(&doc, "x-forwarded-for"), vec!["81.2.69.160,127.0.0.1"]);
}

#[test]
fn http2_viewer_http_version_is_2_0() {
    let origin = Origin::start();
    let edge = viewer_edge(&origin, "");
    let r = edge.get("/echo/h2", &["--http2-prior-knowledge"]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.version, "HTTP/2");
    let doc = r.json();
    assert_eq!(sent(&doc, "cloudfront-viewer-http-version"), vec!["2.0"]);
    assert_eq!(sent(&doc, "cloudfront-forwarded-proto"), vec!["http"]);
}

#[test]
fn proxy_protocol_v1_names_the_viewer() {
    let origin = Origin::start();
    let edge = viewer_edge(&origin, PROXY_PROTOCOL);
    let (_, r) = edge.raw(b"PROXY TCP4 8.8.8.8 127.0.0.1 5555 80\r\n", "/echo/p1", "");
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert_eq!(
        sent(&doc, "cloudfront-viewer-address"),
        vec!["8.8.8.8:5555"]
    );
    assert_eq!(sent(&doc, "x-forwarded-for"), vec!["8.8.8.8"]);
    assert_eq!(sent(&doc, "cloudfront-forwarded-proto"), vec!["http"]);
    assert_eq!(sent(&doc, "cloudfront-viewer-http-version"), vec!["1.1"]);

    let (_, r) = edge.raw(b"PROXY TCP6 2001:db8::9 ::1 4444 80\r\n", "/echo/p1v6", "");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        sent(&r.json(), "cloudfront-viewer-address"),
        vec!["[2001:db8::9]:4444"]
    );

    // Without a PROXY header the connection is served as it is.
    let (local, r) = edge.raw(b"", "/echo/plain", "");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        sent(&r.json(), "cloudfront-viewer-address"),
        vec![format!("127.0.0.1:{}", local.port())]
    );
}

#[test]
fn proxy_protocol_v2_ipv4_names_the_viewer() {
    let origin = Origin::start();
    let edge = viewer_edge(&origin, PROXY_PROTOCOL);
    let header = proxy_v2(
        "203.0.113.7:40000".parse().unwrap(),
        "127.0.0.1:80".parse().unwrap(),
    );
    let (_, r) = edge.raw(&header, "/echo/p2", "");
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert_eq!(
        sent(&doc, "cloudfront-viewer-address"),
        vec!["203.0.113.7:40000"]
    );
    assert_eq!(sent(&doc, "x-forwarded-for"), vec!["203.0.113.7"]);
}

#[test]
fn proxy_protocol_v2_ipv6_names_the_viewer() {
    let origin = Origin::start();
    let edge = viewer_edge(&origin, PROXY_PROTOCOL);
    let header = proxy_v2(
        "[2001:db8::42]:6000".parse().unwrap(),
        "[::1]:80".parse().unwrap(),
    );
    let (_, r) = edge.raw(&header, "/echo/p2v6", "");
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert_eq!(
        sent(&doc, "cloudfront-viewer-address"),
        vec!["[2001:db8::42]:6000"]
    );
    assert_eq!(sent(&doc, "x-forwarded-for"), vec!["2001:db8::42"]);
}

#[test]
fn http2_split_cookie_fields_reach_the_origin_as_one_header() {
    let origin = Origin::start();
    let mut legacy = behavior(Some("/echo/legacy/*"), "o", "allow-all", GET_HEAD);
    let m = legacy.as_object_mut().unwrap();
    m.remove("OriginRequestPolicyId");
    m.remove("CachePolicyId");
    legacy["ForwardedValues"] = json!({
        "QueryString": false,
        "Cookies": {"Forward": "whitelist", "WhitelistedNames": {"Quantity": 2, "Items": ["keep", "also"]}},
        "Headers": {"Quantity": 0}
    });
    let edge = Edge::start(
        RESOLVE,
        distribution(
            &[HOST],
            vec![test_origin(origin.port)],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![legacy],
        ),
    );
    // curl sends each -H Cookie as its own HTTP/2 header field, as browsers do; an HTTP/1.1
    // origin must get them joined into one Cookie header (RFC 9113 §8.2.3).
    let cookies = [
        "--http2-prior-knowledge",
        "-H",
        "Cookie: a=1",
        "-H",
        "Cookie: keep=2; b=3",
        "-H",
        "Cookie: also=4",
    ];
    let r = edge.get("/echo/all", &cookies);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.version, "HTTP/2");
    assert_eq!(sent(&r.json(), "cookie"), vec!["a=1; keep=2; b=3; also=4"]);
    // Whitelisted: what is left of every field, still one header.
    let r = edge.get("/echo/legacy/x", &cookies);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(sent(&r.json(), "cookie"), vec!["keep=2; also=4"]);
}

#[test]
fn custom_error_page_fetch_carries_the_viewers_via_version_and_request_id() {
    let origin = Origin::start();
    let mut d = single(
        test_origin(origin.port),
        behavior(None, "o", "allow-all", GET_HEAD),
    );
    // The "page" is the echo, so the page request itself can be inspected.
    d["CustomErrorResponses"] = error_responses(json!([{
        "ErrorCode": 404, "ResponsePagePath": "/echo/error-page", "ResponseCode": "200"
    }]));
    let edge = Edge::start(RESOLVE, d);
    for (args, version) in [(&[][..], "1.1"), (&["--http2-prior-knowledge"][..], "2.0")] {
        let r = edge.get("/status/404", args);
        assert_eq!(r.status, 200, "{r:?}");
        let doc = r.json();
        assert_eq!(doc["path"], "/echo/error-page");
        assert_eq!(sent1(&doc, "host").as_deref(), Some("origin.test"));
        via_hex(&sent1(&doc, "via").expect("Via"), version);
        assert_eq!(
            sent1(&doc, "x-amz-cf-id").as_deref(),
            r.header("x-amz-cf-id")
        );
    }
}

/// CloudFront removes the origin's `Set-Cookie` when the behaviour forwards no cookies, and
/// keeps it when cookies are forwarded.
#[test]
fn set_cookie_is_removed_unless_cookies_are_forwarded() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml(&format!("{RESOLVE}\n")).distribution(
        "E1COOKIES",
        distribution(
            &[HOST],
            vec![test_origin(origin.port)],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![caching_optimized(behavior(
                Some("/set-cookie"),
                "o",
                "allow-all",
                GET_HEAD,
            ))],
        ),
    );
    let gh = Gatehouse::start(cfg.path());
    let hostname = format!("Host: {HOST}");
    let stripped = curl(&["-H", &hostname, &gh.http_url("/set-cookie")]);
    assert_eq!(stripped.status, 200, "{stripped:?}");
    assert_eq!(stripped.header("set-cookie"), None);
    // The default behaviour (AllViewerExceptHostHeader) forwards cookies: Set-Cookie passes.
    let kept = curl(&["-H", &hostname, &gh.http_url("/set-cookie/default")]);
    assert_eq!(kept.status, 200);
    assert_eq!(kept.header("set-cookie"), Some("session=abc; Path=/"));
}

/// Headers the viewer names in `Connection` are hop-by-hop and never reach the origin.
#[test]
fn headers_named_in_connection_are_not_forwarded() {
    let origin = Origin::start();
    let edge = Edge::start(
        RESOLVE,
        single(
            test_origin(origin.port),
            behavior(None, "o", "allow-all", GET_HEAD),
        ),
    );
    let r = edge.get(
        "/echo/conn",
        &[
            "-H",
            "Connection: keep-alive, X-Secret-Hop",
            "-H",
            "X-Secret-Hop: 1",
            "-H",
            "X-Kept: 2",
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let doc = r.json();
    assert!(sent(&doc, "x-secret-hop").is_empty(), "{doc}");
    assert_eq!(sent(&doc, "x-kept"), vec!["2"]);
}
