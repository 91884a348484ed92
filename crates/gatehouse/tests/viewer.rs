//! The viewer side of the edge, over real sockets: Host routing, cache behaviours, viewer
//! protocol policy, allowed methods, HTTPS/SNI/HTTP2, CloudFront's response headers, request
//! limits, malformed requests, reloads and `gatehouse check` (`cloudfront.md` §1, §5, §6, §7.4).

mod support;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::*;

const BAD_REQUEST: &str = "Bad request.";
const METHOD_REASON: &str = "This distribution is not configured to allow the HTTP request method that was used for this request. The distribution supports only cachable requests.";

/// A custom origin on the test origin process, with `OriginPath` set so that the origin's
/// answer (`origin object <path>`) shows which origin the request went to.
fn origin_at(id: &str, port: u16, origin_path: &str) -> Value {
    let mut o = custom_origin(id, "127.0.0.1", port);
    o["OriginPath"] = json!(origin_path);
    o
}

/// GET `path` over HTTP with `Host: host`.
fn get(gh: &Gatehouse, host: &str, path: &str) -> CurlResponse {
    curl(&["-H", &format!("Host: {host}"), &gh.http_url(path)])
}

/// Asserts `r` is a 200 from the origin with the body `origin object <object>`.
fn assert_object(r: &CurlResponse, object: &str) {
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), format!("origin object {object}"), "{r:?}");
}

/// The response's request id, checked to be CloudFront-shaped.
fn request_id(r: &CurlResponse) -> String {
    let id = r
        .header("x-amz-cf-id")
        .unwrap_or_else(|| panic!("no x-amz-cf-id: {r:?}"))
        .to_string();
    assert_eq!(id.len(), 56, "{id}");
    assert!(id.ends_with("=="), "{id}");
    assert!(
        id[..54]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{id}"
    );
    id
}

/// Asserts `r` is CloudFront's HTML error page, byte for byte, with its headers.
fn assert_error_page(r: &CurlResponse, status: u16, reason: &str, cause: &str) {
    assert_eq!(r.status, status, "{r:?}");
    let id = request_id(r);
    let page = expected_error_page(status, reason, &id);
    assert_eq!(r.text(), page, "{r:?}");
    assert_eq!(
        r.header("content-length"),
        Some(page.len().to_string().as_str())
    );
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(r.header("server"), Some("CloudFront"));
    assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));
    assert_eq!(r.header("x-gatehouse-cause"), Some(cause), "{r:?}");
}

/// Asserts `r` is the nginx-style status page for `title` (`421 Misdirected Request`).
fn assert_status_page(r: &CurlResponse, title: &str, cause: &str) {
    let status: u16 = title[..3].parse().unwrap();
    assert_eq!(r.status, status, "{r:?}");
    let page = expected_status_page(title);
    assert_eq!(r.text(), page, "{r:?}");
    assert_eq!(
        r.header("content-length"),
        Some(page.len().to_string().as_str())
    );
    assert_eq!(r.header("server"), Some("CloudFront"));
    assert_eq!(r.header("x-gatehouse-cause"), Some(cause), "{r:?}");
    request_id(r);
}

// ---------------------------------------------------------------------------------------------
// 1. Host routing (§6)

/// E1ROUTEA: `www.example.com` + `*.example.com` → OriginPath `/a`; E2ROUTEB:
/// `marketing.example.com` → `/b`; E3ROUTEOFF: disabled, `disabled.example.org`.
fn routing_edge() -> (Origin, ConfigDir, Gatehouse) {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    let dist = |aliases: &[&str], path: &str| {
        distribution(
            aliases,
            vec![origin_at("o", origin.port, path)],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![],
        )
    };
    let mut off = dist(&["disabled.example.org"], "/off");
    off["Enabled"] = json!(false);
    cfg.toml("")
        .distribution(
            "E1ROUTEA",
            dist(&["www.example.com", "*.example.com"], "/a"),
        )
        .distribution("E2ROUTEB", dist(&["marketing.example.com"], "/b"))
        .distribution("E3ROUTEOFF", off);
    let gh = Gatehouse::start(cfg.path());
    (origin, cfg, gh)
}

#[test]
fn exact_alias_routes_to_its_distribution() {
    let (_o, _c, gh) = routing_edge();
    assert_object(&get(&gh, "www.example.com", "/x"), "/a/x");
    assert_object(&get(&gh, "marketing.example.com", "/x"), "/b/x");
    let r = get(&gh, "www.example.org", "/x");
    assert_error_page(&r, 403, BAD_REQUEST, "alias-not-configured");
}

#[test]
fn wildcard_alias_matches_subdomains_but_not_the_apex() {
    let (_o, _c, gh) = routing_edge();
    assert_object(&get(&gh, "shop.example.com", "/p"), "/a/p");
    assert_object(&get(&gh, "a.b.example.com", "/p"), "/a/p");
    let r = get(&gh, "example.com", "/p");
    assert_error_page(&r, 403, BAD_REQUEST, "alias-not-configured");
    assert_eq!(r.header("content-length"), Some("915"));
    // Not a suffix match on the string: `badexample.com` is not under `example.com`.
    let r = get(&gh, "badexample.com", "/p");
    assert_error_page(&r, 403, BAD_REQUEST, "alias-not-configured");
}

#[test]
fn more_specific_alias_on_another_distribution_wins() {
    let (_o, _c, gh) = routing_edge();
    // marketing.example.com is on E2ROUTEB; *.example.com on E1ROUTEA would also match.
    assert_object(&get(&gh, "marketing.example.com", "/m"), "/b/m");
    // An exact alias does not cover names below it: those fall back to the wildcard.
    assert_object(&get(&gh, "x.marketing.example.com", "/m"), "/a/m");
}

#[test]
fn host_matching_ignores_case_and_port() {
    let (_o, _c, gh) = routing_edge();
    assert_object(&get(&gh, "WWW.Example.COM", "/c"), "/a/c");
    assert_object(&get(&gh, "www.example.com:8080", "/c"), "/a/c");
    assert_object(&get(&gh, "Marketing.EXAMPLE.com:1234", "/c"), "/b/c");
    assert_object(&get(&gh, "SHOP.example.com:80", "/c"), "/a/c");
}

#[test]
fn default_cloudfront_domain_routes() {
    let (_o, _c, gh) = routing_edge();
    assert_object(&get(&gh, "e1routea.cloudfront.net", "/d"), "/a/d");
    assert_object(&get(&gh, "E2ROUTEB.CloudFront.net", "/d"), "/b/d");
    let r = get(&gh, "e9nothere.cloudfront.net", "/d");
    assert_error_page(&r, 403, BAD_REQUEST, "alias-not-configured");
}

#[test]
fn disabled_distribution_is_refused() {
    let (_o, _c, gh) = routing_edge();
    let r = get(&gh, "disabled.example.org", "/x");
    assert_error_page(&r, 403, BAD_REQUEST, "distribution-disabled");
    let r = get(&gh, "e3routeoff.cloudfront.net", "/x");
    assert_error_page(&r, 403, BAD_REQUEST, "distribution-disabled");
}

// ---------------------------------------------------------------------------------------------
// 2. Cache behaviours (§7.4): each behaviour targets its own origin (OriginPath), so the
// object's path shows which behaviour matched.

fn behaviors_edge() -> (Origin, ConfigDir, Gatehouse) {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    let p = origin.port;
    cfg.toml("").distribution(
        "E1BEHAV",
        distribution(
            &["b.example.com"],
            vec![
                origin_at("dflt", p, "/dflt"),
                origin_at("first", p, "/first"),
                origin_at("second", p, "/second"),
                origin_at("img", p, "/img"),
                origin_at("q", p, "/q"),
            ],
            behavior(None, "dflt", "allow-all", GET_HEAD),
            vec![
                behavior(Some("/a/*"), "first", "allow-all", GET_HEAD),
                behavior(Some("/a/b/*"), "second", "allow-all", GET_HEAD),
                behavior(Some("images/*.jpg"), "img", "allow-all", GET_HEAD),
                behavior(Some("/v?/x"), "q", "allow-all", GET_HEAD),
            ],
        ),
    );
    let gh = Gatehouse::start(cfg.path());
    (origin, cfg, gh)
}

#[test]
fn first_matching_behavior_in_order_wins() {
    let (_o, _c, gh) = behaviors_edge();
    // Both /a/* (first) and /a/b/* (second) match: the first listed wins.
    assert_object(&get(&gh, "b.example.com", "/a/b/c"), "/first/a/b/c");
    assert_object(&get(&gh, "b.example.com", "/a/x"), "/first/a/x");
    // No pattern matches: the default behaviour.
    assert_object(&get(&gh, "b.example.com", "/z"), "/dflt/z");
}

#[test]
fn pattern_without_leading_slash_matches_and_star_crosses_slashes() {
    let (_o, _c, gh) = behaviors_edge();
    assert_object(
        &get(&gh, "b.example.com", "/images/a/b.jpg"),
        "/img/images/a/b.jpg",
    );
    assert_object(
        &get(&gh, "b.example.com", "/images/b.jpg"),
        "/img/images/b.jpg",
    );
    // The query string is not part of the match.
    assert_object(
        &get(&gh, "b.example.com", "/images/b.jpg?size=.png"),
        "/img/images/b.jpg?size=.png",
    );
    assert_object(
        &get(&gh, "b.example.com", "/imagesX/b.jpg"),
        "/dflt/imagesX/b.jpg",
    );
    assert_object(
        &get(&gh, "b.example.com", "/images/b.jpeg"),
        "/dflt/images/b.jpeg",
    );
}

#[test]
fn path_patterns_are_case_sensitive() {
    let (_o, _c, gh) = behaviors_edge();
    assert_object(
        &get(&gh, "b.example.com", "/images/X.JPG"),
        "/dflt/images/X.JPG",
    );
    assert_object(
        &get(&gh, "b.example.com", "/Images/x.jpg"),
        "/dflt/Images/x.jpg",
    );
    assert_object(
        &get(&gh, "b.example.com", "/images/x.jpg"),
        "/img/images/x.jpg",
    );
}

#[test]
fn question_mark_matches_exactly_one_character() {
    let (_o, _c, gh) = behaviors_edge();
    assert_object(&get(&gh, "b.example.com", "/v1/x"), "/q/v1/x");
    assert_object(&get(&gh, "b.example.com", "/vZ/x"), "/q/vZ/x");
    assert_object(&get(&gh, "b.example.com", "/v10/x"), "/dflt/v10/x");
    assert_object(&get(&gh, "b.example.com", "/v/x"), "/dflt/v/x");
}

// ---------------------------------------------------------------------------------------------
// 3. Viewer protocol policy (§5, §1.4)

fn protocol_edge(toml: &str) -> (Origin, ConfigDir, Gatehouse) {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml(toml).distribution(
        "E1PROTO",
        distribution(
            &["www.example.com"],
            vec![custom_origin("o", "127.0.0.1", origin.port)],
            behavior(None, "o", "allow-all", ALL),
            vec![
                behavior(Some("/secure/*"), "o", "https-only", ALL),
                behavior(Some("/r/*"), "o", "redirect-to-https", ALL),
            ],
        ),
    );
    let gh = Gatehouse::start(cfg.path());
    (origin, cfg, gh)
}

#[test]
fn https_only_refuses_http_with_bad_request_page() {
    let (_o, _c, gh) = protocol_edge("");
    let r = get(&gh, "www.example.com", "/secure/report.txt");
    assert_error_page(&r, 403, BAD_REQUEST, "https-only");
    assert_eq!(r.header("content-length"), Some("915"));
    assert_eq!(r.header("location"), None);
}

/// Asserts a redirect-to-https response.
fn assert_redirect(r: &CurlResponse, title: &str, location: &str, with_body: bool) {
    let status: u16 = title[..3].parse().unwrap();
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(r.header("location"), Some(location), "{r:?}");
    let page = expected_status_page(title);
    if with_body {
        assert_eq!(r.text(), page);
    }
    assert_eq!(
        r.header("content-length"),
        Some(page.len().to_string().as_str()),
        "{r:?}"
    );
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(r.header("x-cache"), Some("Redirect from cloudfront"));
    assert_eq!(r.header("server"), Some("CloudFront"));
    assert_eq!(r.header("x-gatehouse-cause"), Some("redirect-to-https"));
    request_id(r);
}

#[test]
fn redirect_to_https_answers_301_for_get_and_head() {
    let (_o, _c, gh) = protocol_edge("");
    let url = gh.http_url("/r/page.html?a=1&b=two");
    let loc = "https://www.example.com/r/page.html?a=1&b=two";
    let r = curl(&["-H", "Host: www.example.com", &url]);
    assert_redirect(&r, "301 Moved Permanently", loc, true);
    assert_eq!(r.body.len(), 167);
    let r = curl(&["--head", "-H", "Host: www.example.com", &url]);
    assert_redirect(&r, "301 Moved Permanently", loc, false);
    // The viewer's port is not carried over into the https:// URL.
    let r = curl(&["-H", "Host: www.example.com:8080", &gh.http_url("/r/x")]);
    assert_redirect(
        &r,
        "301 Moved Permanently",
        "https://www.example.com/r/x",
        true,
    );
}

#[test]
fn redirect_to_https_answers_307_for_post_and_put() {
    let (_o, _c, gh) = protocol_edge("");
    let url = gh.http_url("/r/form?step=2");
    let loc = "https://www.example.com/r/form?step=2";
    let r = curl(&["-X", "POST", "-H", "Host: www.example.com", &url]);
    assert_redirect(&r, "307 Temporary Redirect", loc, true);
    assert_eq!(r.body.len(), 169);
    let r = curl(&["-d", "a=1", "-H", "Host: www.example.com", &url]);
    assert_redirect(&r, "307 Temporary Redirect", loc, true);
    let r = curl(&["-X", "PUT", "-d", "x", "-H", "Host: www.example.com", &url]);
    assert_redirect(&r, "307 Temporary Redirect", loc, true);
}

#[test]
fn redirect_https_port_goes_into_location() {
    let (_o, _c, gh) = protocol_edge("[edge]\nredirect_https_port = 8443\n");
    let r = get(&gh, "www.example.com", "/r/x?q=1");
    assert_redirect(
        &r,
        "301 Moved Permanently",
        "https://www.example.com:8443/r/x?q=1",
        true,
    );
}

#[test]
fn allow_all_serves_over_http() {
    let (_o, _c, gh) = protocol_edge("");
    let r = get(&gh, "www.example.com", "/plain.txt?x=1");
    assert_object(&r, "/plain.txt?x=1");
    assert_eq!(r.header("x-cache"), Some("Miss from cloudfront"));
    assert_eq!(r.header("x-gatehouse-cause"), None);
}

// ---------------------------------------------------------------------------------------------
// 4. Allowed methods (§1.2, §7.3)

fn methods_edge() -> (Origin, ConfigDir, Gatehouse) {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml("").distribution(
        "E1METHODS",
        distribution(
            &["m.example.com"],
            vec![custom_origin("o", "127.0.0.1", origin.port)],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![behavior(
                Some("/opt/*"),
                "o",
                "allow-all",
                &["GET", "HEAD", "OPTIONS"],
            )],
        ),
    );
    let gh = Gatehouse::start(cfg.path());
    (origin, cfg, gh)
}

#[test]
fn post_on_get_head_behavior_is_refused() {
    let (_o, _c, gh) = methods_edge();
    let r = curl(&[
        "-X",
        "POST",
        "-d",
        "a=1",
        "-H",
        "Host: m.example.com",
        &gh.http_url("/orders"),
    ]);
    assert_error_page(&r, 403, METHOD_REASON, "method-not-allowed");
    assert_eq!(r.header("content-length"), Some("1053"));
    // GET on the same path is served.
    assert_object(&get(&gh, "m.example.com", "/orders"), "/orders");
}

#[test]
fn options_allowed_only_where_the_behavior_allows_it() {
    let (_o, _c, gh) = methods_edge();
    let r = curl(&[
        "-X",
        "OPTIONS",
        "-H",
        "Host: m.example.com",
        &gh.http_url("/opt/x"),
    ]);
    assert_object(&r, "/opt/x");
    let r = curl(&[
        "-X",
        "OPTIONS",
        "-H",
        "Host: m.example.com",
        &gh.http_url("/x"),
    ]);
    assert_error_page(&r, 403, METHOD_REASON, "method-not-allowed");
}

// ---------------------------------------------------------------------------------------------
// 5. HTTPS: SNI certificates, ALPN, domain fronting, h2c (§6)

struct TlsEdge {
    _origin: Origin,
    cfg: ConfigDir,
    gh: Gatehouse,
    port: u16,
}

impl TlsEdge {
    /// `curl -k --resolve name:PORT:127.0.0.1 https://name:PORT<path>` plus `args`.
    fn curl(&self, name: &str, path: &str, args: &[&str]) -> CurlResponse {
        let resolve = format!("{name}:{}:127.0.0.1", self.port);
        let url = format!("https://{name}:{}{path}", self.port);
        let mut all = vec!["-k", "--resolve", &resolve];
        all.extend_from_slice(args);
        all.push(&url);
        curl(&all)
    }
}

/// Certificates for a.example.com and b.example.com; a.example.com → E1TLSA (OriginPath
/// `/a`, `/secure/*` https-only), b.example.com → E2TLSB (`/b`).
fn tls_edge() -> TlsEdge {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    self_signed(cfg.path(), "a", &["a.example.com"]);
    self_signed(cfg.path(), "b", &["b.example.com"]);
    cfg.toml(
        "[listen]\nhttp = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\n\n\
         [[tls.certificates]]\ncert = \"a.pem\"\nkey = \"a.key\"\n\n\
         [[tls.certificates]]\ncert = \"b.pem\"\nkey = \"b.key\"\n",
    )
    .distribution(
        "E1TLSA",
        distribution(
            &["a.example.com"],
            vec![origin_at("o", origin.port, "/a")],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![behavior(Some("/secure/*"), "o", "https-only", GET_HEAD)],
        ),
    )
    .distribution(
        "E2TLSB",
        distribution(
            &["b.example.com"],
            vec![origin_at("o", origin.port, "/b")],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![],
        ),
    );
    let gh = Gatehouse::start(cfg.path());
    let port = gh.https.expect("no https listener").port();
    TlsEdge {
        _origin: origin,
        cfg,
        gh,
        port,
    }
}

#[test]
fn https_serves_http1_and_http2_by_alpn() {
    let t = tls_edge();
    let r = t.curl("a.example.com", "/x", &["--http1.1"]);
    assert_object(&r, "/a/x");
    assert_eq!(r.version, "HTTP/1.1");
    let r = t.curl("a.example.com", "/x", &["--http2"]);
    assert_object(&r, "/a/x");
    assert_eq!(r.version, "HTTP/2");
    request_id(&r);
    let r = t.curl("b.example.com", "/y", &["--http2"]);
    assert_object(&r, "/b/y");
    assert_eq!(r.version, "HTTP/2");
}

/// The base64 body of the first PEM certificate in `text` (line ends and headers removed).
fn pem_body(text: &str) -> String {
    let start = text
        .find("-----BEGIN CERTIFICATE-----")
        .unwrap_or_else(|| panic!("no certificate in {text}"));
    let rest = &text[start + "-----BEGIN CERTIFICATE-----".len()..];
    let end = rest.find("-----END CERTIFICATE-----").unwrap();
    rest[..end].split_whitespace().collect()
}

/// The leaf certificate the HTTPS listener serves for `sni` (via `openssl s_client`).
fn served_cert(port: u16, sni: &str) -> String {
    let out = std::process::Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-servername", sni])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl must be installed");
    pem_body(&String::from_utf8_lossy(&out.stdout))
}

#[test]
fn https_serves_the_certificate_for_the_sni_name() {
    let t = tls_edge();
    let a = pem_body(&std::fs::read_to_string(t.cfg.path().join("a.pem")).unwrap());
    let b = pem_body(&std::fs::read_to_string(t.cfg.path().join("b.pem")).unwrap());
    assert_ne!(a, b);
    assert_eq!(served_cert(t.port, "a.example.com"), a);
    assert_eq!(served_cert(t.port, "b.example.com"), b);
    // SNI is compared case-insensitively, as DNS names are.
    assert_eq!(served_cert(t.port, "B.Example.com"), b);
}

#[test]
fn host_of_a_distribution_the_certificate_does_not_cover_is_misdirected() {
    let t = tls_edge();
    for proto in ["--http1.1", "--http2"] {
        let r = t.curl("a.example.com", "/x", &[proto, "-H", "Host: b.example.com"]);
        assert_status_page(&r, "421 Misdirected Request", "misdirected-request");
        assert_eq!(r.body.len(), 171);
    }
    // The matching pair on the same listener is fine.
    let r = t.curl(
        "b.example.com",
        "/x",
        &["--http1.1", "-H", "Host: b.example.com"],
    );
    assert_object(&r, "/b/x");
}

#[test]
fn sni_that_no_certificate_covers_fails_the_handshake() {
    let t = tls_edge();
    let r = t.curl("c.example.com", "/x", &[]);
    assert_eq!(r.exit, 35, "{r:?}");
    assert_eq!(r.status, 0);
    // No SNI at all (an IP address in the URL): dropped too.
    let r = curl(&["-k", &format!("https://127.0.0.1:{}/x", t.port)]);
    assert_eq!(r.exit, 35, "{r:?}");
    // The listener still serves covered names afterwards.
    assert_object(&t.curl("a.example.com", "/x", &[]), "/a/x");
}

/// Completes a TLS handshake for `sni` negotiating `alpn`, then sends nothing; returns how
/// long the edge kept the connection (None: still open after 8 s).
fn silent_after_handshake(port: u16, sni: &str, alpn: &str) -> Option<Duration> {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut child = std::process::Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-servername", sni, "-alpn", alpn])
        .stdin(std::process::Stdio::piped())
        .stdout(out.reopen().unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl must be installed");
    let start = Instant::now();
    let _stdin = child.stdin.take();
    let ended = poll_until(Duration::from_secs(8), || {
        child.try_wait().unwrap().is_some()
    });
    let elapsed = start.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    // The handshake itself must have worked, or this proves nothing.
    let text = std::fs::read_to_string(out.path()).unwrap();
    assert!(
        text.contains(&format!("ALPN protocol: {alpn}")),
        "handshake with ALPN {alpn} failed: {text}"
    );
    ended.then_some(elapsed)
}

#[test]
fn viewer_silent_after_the_tls_handshake_is_disconnected() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    self_signed(cfg.path(), "a", &["a.example.com"]);
    cfg.toml(
        "[listen]\nhttp = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\n\n\
         [edge]\nheader_timeout_secs = 1\n\n\
         [[tls.certificates]]\ncert = \"a.pem\"\nkey = \"a.key\"\n",
    )
    .distribution(
        "E1TLSSLOW",
        distribution(
            &["a.example.com"],
            vec![custom_origin("o", "127.0.0.1", origin.port)],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![],
        ),
    );
    let gh = Gatehouse::start(cfg.path());
    let port = gh.https.unwrap().port();
    for alpn in ["http/1.1", "h2"] {
        let kept = silent_after_handshake(port, "a.example.com", alpn);
        let kept = kept.unwrap_or_else(|| panic!("{alpn}: still connected after 8 s"));
        assert!(kept >= Duration::from_millis(500), "{alpn}: closed at once");
    }
    let r = curl(&[
        "-k",
        "--resolve",
        &format!("a.example.com:{port}:127.0.0.1"),
        &format!("https://a.example.com:{port}/x"),
    ]);
    assert_object(&r, "/x");
}

#[test]
fn h2c_prior_knowledge_on_the_http_listener() {
    let t = tls_edge();
    let r = curl(&[
        "--http2-prior-knowledge",
        "-H",
        "Host: a.example.com",
        &t.gh.http_url("/h2c"),
    ]);
    assert_object(&r, "/a/h2c");
    assert_eq!(r.version, "HTTP/2");
    // HTTP/1.1 on the same listener.
    let r = get(&t.gh, "b.example.com", "/h1");
    assert_object(&r, "/b/h1");
    assert_eq!(r.version, "HTTP/1.1");
}

#[test]
fn https_only_behavior_is_served_over_https() {
    let t = tls_edge();
    let r = t.curl("a.example.com", "/secure/doc", &[]);
    assert_object(&r, "/a/secure/doc");
    let r = get(&t.gh, "a.example.com", "/secure/doc");
    assert_error_page(&r, 403, BAD_REQUEST, "https-only");
}

// ---------------------------------------------------------------------------------------------
// 6. Response headers (§1.5)

fn simple_edge(toml: &str) -> (Origin, ConfigDir, Gatehouse) {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml(toml).distribution(
        "E1HEADERS",
        distribution(
            &["h.example.com"],
            vec![custom_origin("o", "127.0.0.1", origin.port)],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![behavior(Some("/secure/*"), "o", "https-only", GET_HEAD)],
        ),
    );
    let gh = Gatehouse::start(cfg.path());
    (origin, cfg, gh)
}

#[test]
fn server_cloudfront_only_on_generated_responses() {
    let (_o, _c, gh) = simple_edge("");
    let r = get(&gh, "h.example.com", "/obj");
    assert_object(&r, "/obj");
    assert_eq!(r.header("server"), Some("test-origin"));
    // An origin error passes through with the origin's Server.
    let r = get(&gh, "h.example.com", "/status/404");
    assert_eq!(r.status, 404);
    assert_eq!(r.header("server"), Some("test-origin"));
    assert_eq!(r.header("x-cache"), Some("Error from cloudfront"));
    // Generated responses say CloudFront.
    let r = get(&gh, "nope.example.com", "/obj");
    assert_eq!(r.status, 403);
    assert_eq!(r.header("server"), Some("CloudFront"));
    let r = get(&gh, "h.example.com", "/secure/x");
    assert_eq!(r.status, 403);
    assert_eq!(r.header("server"), Some("CloudFront"));
}

#[test]
fn request_id_is_unique_and_matches_the_error_page() {
    let (_o, _c, gh) = simple_edge("");
    let r1 = get(&gh, "nope.example.com", "/");
    let r2 = get(&gh, "nope.example.com", "/");
    let (id1, id2) = (request_id(&r1), request_id(&r2));
    assert_ne!(id1, id2);
    for (r, id) in [(&r1, &id1), (&r2, &id2)] {
        let line = r
            .text()
            .lines()
            .find_map(|l| l.strip_prefix("Request ID: ").map(str::to_string))
            .unwrap_or_else(|| panic!("no Request ID line: {}", r.text()));
        assert_eq!(&line, id);
    }
    // Objects from the origin carry one too, different again.
    let r3 = get(&gh, "h.example.com", "/obj");
    let id3 = request_id(&r3);
    assert!(id3 != id1 && id3 != id2);
}

/// Sends one HTTP/1.1 request on a new raw connection and reads the response.
#[test]
fn generated_response_headers_in_capture_order_and_case() {
    let (_o, _c, gh) = simple_edge("[edge]\nlocation = \"TST1-P1\"\n");
    let (_, head, body) = exchange(
        gh.http.unwrap(),
        "GET / HTTP/1.1\r\nHost: nope.example.com\r\n\r\n",
    );
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("HTTP/1.1 403 Forbidden"));
    let names: Vec<&str> = lines.map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Server",
            "Date",
            "Content-Type",
            "Content-Length",
            "Connection",
            "X-Cache",
            "Via",
            "X-Amz-Cf-Pop",
            "X-Amz-Cf-Id",
            "X-Gatehouse-Cause"
        ],
        "{head}"
    );
    assert!(head.contains("\r\nConnection: keep-alive\r\n"), "{head}");
    assert!(head.contains("\r\nX-Amz-Cf-Pop: TST1-P1\r\n"), "{head}");
    let id = head
        .lines()
        .find_map(|l| l.strip_prefix("X-Amz-Cf-Id: "))
        .unwrap();
    assert_eq!(
        String::from_utf8(body).unwrap(),
        expected_error_page(403, BAD_REQUEST, id)
    );
}

/// Checks `1.1 <32 lower hex>.cloudfront.net (CloudFront)`; returns the hex.
fn via_host_id(r: &CurlResponse) -> String {
    let via = r.header("via").unwrap_or_else(|| panic!("no Via: {r:?}"));
    let hex = via
        .strip_prefix("1.1 ")
        .and_then(|v| v.strip_suffix(".cloudfront.net (CloudFront)"))
        .unwrap_or_else(|| panic!("Via {via:?} is not CloudFront-shaped"));
    assert_eq!(hex.len(), 32, "{via}");
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{via}"
    );
    hex.to_string()
}

#[test]
fn via_names_a_random_edge_host_id() {
    let (_o, _c, gh) = simple_edge("");
    let a = via_host_id(&get(&gh, "h.example.com", "/obj"));
    let b = via_host_id(&get(&gh, "nope.example.com", "/obj"));
    // One edge host: the same id on every response of the process.
    assert_eq!(a, b);
}

#[test]
fn via_uses_the_configured_host_id() {
    let id = "0123456789abcdef0123456789abcdef";
    let (_o, _c, gh) = simple_edge(&format!("[edge]\nhost_id = \"{id}\"\n"));
    let expected = format!("1.1 {id}.cloudfront.net (CloudFront)");
    let r = get(&gh, "h.example.com", "/obj");
    assert_eq!(r.header("via"), Some(expected.as_str()));
    let r = get(&gh, "nope.example.com", "/obj");
    assert_eq!(r.header("via"), Some(expected.as_str()));
}

#[test]
fn pop_header_is_the_configured_location() {
    let (_o, _c, gh) = simple_edge("[edge]\nlocation = \"TST9-P3\"\n");
    for r in [
        get(&gh, "h.example.com", "/obj"),
        get(&gh, "nope.example.com", "/obj"),
        get(&gh, "h.example.com", "/status/500"),
    ] {
        assert_eq!(r.header("x-amz-cf-pop"), Some("TST9-P3"), "{r:?}");
    }
}

#[test]
fn cause_header_can_be_turned_off() {
    let (_o, _c, gh) = simple_edge("[edge]\ncause_header = false\n");
    for r in [
        get(&gh, "nope.example.com", "/obj"),
        get(&gh, "h.example.com", "/secure/x"),
        get(&gh, "h.example.com", "/status/503"),
    ] {
        assert!(r.status >= 400, "{r:?}");
        assert_eq!(r.header("x-gatehouse-cause"), None, "{r:?}");
        assert!(r.header("x-amz-cf-id").is_some());
    }
    // The page itself is unchanged.
    let r = get(&gh, "nope.example.com", "/obj");
    let id = request_id(&r);
    assert_eq!(r.text(), expected_error_page(403, BAD_REQUEST, &id));
}

// ---------------------------------------------------------------------------------------------
// 7. Limits

#[test]
fn url_longer_than_8192_bytes_is_413() {
    let (_o, _c, gh) = simple_edge("");
    // Exactly 8192 bytes of path is still served…
    let ok = format!("/{}", "a".repeat(8191));
    assert_object(&get(&gh, "h.example.com", &ok), &ok);
    // …one more is not.
    let long = format!("/{}", "a".repeat(8192));
    let r = get(&gh, "h.example.com", &long);
    assert_status_page(&r, "413 Request Entity Too Large", "request-too-large");
    // Path and query count together.
    let long_q = format!("/q?{}", "b".repeat(8200));
    let r = get(&gh, "h.example.com", &long_q);
    assert_status_page(&r, "413 Request Entity Too Large", "request-too-large");
    assert_eq!(r.header("connection"), Some("close"));
}

#[test]
fn request_too_large_closes_the_connection() {
    let (_o, _c, gh) = simple_edge("");
    // A keep-alive HTTP/1.1 request: the edge still hangs up after the 413.
    let req = format!(
        "GET /{} HTTP/1.1\r\nHost: h.example.com\r\n\r\n",
        "a".repeat(9000)
    );
    let out = raw_exchange(gh.http.unwrap(), req.as_bytes(), Duration::from_secs(5));
    assert_ne!(out.end, RawEnd::TimedOut, "connection kept open: {out:?}");
    let text = out.text();
    assert!(text.starts_with("HTTP/1.1 413 "), "{text}");
    assert!(
        text.ends_with(&expected_status_page("413 Request Entity Too Large")),
        "{text}"
    );
}

#[test]
fn headers_over_20480_bytes_are_413() {
    let (_o, _c, gh) = simple_edge("");
    let big = |n: usize| format!("X-Big-{n}: {}", "v".repeat(8000));
    let (h1, h2, h3) = (big(1), big(2), big(3));
    let url = gh.http_url("/obj");
    // Two such headers fit…
    let r = curl(&["-H", "Host: h.example.com", "-H", &h1, "-H", &h2, &url]);
    assert_object(&r, "/obj");
    // …three do not.
    let r = curl(&[
        "-H",
        "Host: h.example.com",
        "-H",
        &h1,
        "-H",
        &h2,
        "-H",
        &h3,
        &url,
    ]);
    assert_status_page(&r, "413 Request Entity Too Large", "request-too-large");
}

#[test]
fn viewer_stalling_in_the_request_line_is_disconnected() {
    let (_o, _c, gh) = simple_edge("[edge]\nheader_timeout_secs = 1\n");
    let out = raw_exchange(gh.http.unwrap(), b"GET /obj HT", Duration::from_secs(5));
    assert_ne!(
        out.end,
        RawEnd::TimedOut,
        "still connected after 5 s: {out:?}"
    );
    // Not refused on sight either: the viewer had its second.
    assert!(out.elapsed >= Duration::from_millis(500), "{out:?}");

    // The same on a keep-alive connection after a first, complete request.
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(gh.http.unwrap()).unwrap();
    s.write_all(b"GET /obj HTTP/1.1\r\nHost: h.example.com\r\n\r\n")
        .unwrap();
    let (h, _) = read_response(&mut s);
    assert!(h.starts_with("HTTP/1.1 200 OK"), "{h}");
    s.write_all(b"GET /obj HT").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let start = Instant::now();
    match s.read(&mut [0u8; 1024]) {
        Ok(_) => {}
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "still connected after {:?}",
            start.elapsed()
        ),
    }
    // The edge is still serving.
    assert_object(&get(&gh, "h.example.com", "/obj"), "/obj");
}

#[test]
fn viewer_sending_nothing_is_disconnected() {
    let (_o, _c, gh) = simple_edge("[edge]\nheader_timeout_secs = 1\n");
    let out = raw_exchange(gh.http.unwrap(), b"", Duration::from_secs(5));
    assert_ne!(
        out.end,
        RawEnd::TimedOut,
        "still connected after 5 s: {out:?}"
    );
    // Half an HTTP/2 preface is no better than half a request line…
    let out = raw_exchange(gh.http.unwrap(), b"PRI * HTTP/2", Duration::from_secs(5));
    assert_ne!(
        out.end,
        RawEnd::TimedOut,
        "still connected after 5 s: {out:?}"
    );
    // …and neither is a whole preface with no request after it.
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let out = raw_exchange(gh.http.unwrap(), preface, Duration::from_secs(5));
    assert_ne!(
        out.end,
        RawEnd::TimedOut,
        "still connected after 5 s: {out:?}"
    );
    assert_object(&get(&gh, "h.example.com", "/obj"), "/obj");
}

// ---------------------------------------------------------------------------------------------
// 8. Malformed requests

#[test]
fn missing_host_over_http10_is_400_bad_request() {
    let (_o, _c, gh) = simple_edge("");
    let r = curl(&["-0", "-H", "Host:", &gh.http_url("/obj")]);
    assert_error_page(&r, 400, BAD_REQUEST, "malformed-request");
    assert!(r.text().contains("<H1>400 ERROR</H1>"));
    assert_eq!(r.header("content-length"), Some("915"));
}

#[test]
fn garbage_request_line_gets_400_or_a_close_and_the_edge_keeps_serving() {
    let (_o, _c, gh) = simple_edge("");
    let addr = gh.http.unwrap();
    for garbage in [
        &b"\x00\x01\x02 garbage \xff\xfe\r\n\r\n"[..],
        b"THIS IS NOT HTTP\r\n\r\n",
        b"GET /obj HTTP/9.9 nonsense\r\nHost: h.example.com\r\n\r\n",
    ] {
        let out = raw_exchange(addr, garbage, Duration::from_secs(5));
        assert_ne!(out.end, RawEnd::TimedOut, "{garbage:?} hung: {out:?}");
        let text = out.text();
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 400"),
            "{garbage:?} got {text:?}"
        );
    }
    assert_object(&get(&gh, "h.example.com", "/obj"), "/obj");
}

// ---------------------------------------------------------------------------------------------
// 9. Reload: SIGHUP, refused reloads, --watch, SIGTERM drain

fn reload_dist(origin: &Origin, aliases: &[&str]) -> Value {
    distribution(
        aliases,
        vec![custom_origin("o", "127.0.0.1", origin.port)],
        behavior(None, "o", "allow-all", GET_HEAD),
        vec![],
    )
}

#[test]
fn sighup_reloads_a_new_alias() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml("")
        .distribution("E1RELOAD", reload_dist(&origin, &["old.example.com"]));
    let gh = Gatehouse::start(cfg.path());
    assert_object(&get(&gh, "old.example.com", "/x"), "/x");
    assert_eq!(get(&gh, "new.example.com", "/x").status, 403);

    cfg.replace_distribution(
        "E1RELOAD",
        reload_dist(&origin, &["old.example.com", "new.example.com"]),
    );
    gh.signal("HUP");
    let routed = poll_until(Duration::from_secs(5), || {
        get(&gh, "new.example.com", "/x").status == 200
    });
    assert!(routed, "new alias not routed after SIGHUP: {}", gh.stderr());
    assert_object(&get(&gh, "new.example.com", "/x"), "/x");
    assert_object(&get(&gh, "old.example.com", "/x"), "/x");
}

#[test]
fn invalid_config_on_sighup_is_refused_and_the_old_one_keeps_serving() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml("")
        .distribution("E1RELOAD", reload_dist(&origin, &["old.example.com"]));
    let gh = Gatehouse::start(cfg.path());
    assert_object(&get(&gh, "old.example.com", "/x"), "/x");

    cfg.replace_file(
        "distributions/E1RELOAD.json",
        b"{\"DistributionConfig\": {\"Aliases\": ",
    );
    gh.signal("HUP");
    let refused = poll_until(Duration::from_secs(5), || {
        gh.stderr().contains("reload refused")
    });
    assert!(refused, "no refusal logged: {}", gh.stderr());
    assert!(gh.stderr().contains("E1RELOAD.json"), "{}", gh.stderr());
    assert_object(&get(&gh, "old.example.com", "/x"), "/x");
}

#[test]
fn watch_reloads_on_file_change_without_a_signal() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml("")
        .distribution("E1WATCH", reload_dist(&origin, &["old.example.com"]));
    let gh = Gatehouse::start_with(cfg.path(), &["--watch"]);
    assert_eq!(get(&gh, "new.example.com", "/x").status, 403);

    cfg.replace_distribution(
        "E1WATCH",
        reload_dist(&origin, &["old.example.com", "new.example.com"]),
    );
    let routed = poll_until(Duration::from_secs(5), || {
        get(&gh, "new.example.com", "/x").status == 200
    });
    assert!(
        routed,
        "--watch did not pick up the change: {}",
        gh.stderr()
    );
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_then_exits_zero() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml("")
        .distribution("E1TERM", reload_dist(&origin, &["t.example.com"]));
    let mut gh = Gatehouse::start(cfg.path());

    // A request the origin holds for 1.5 s (`/counted` records it on arrival).
    let url = gh.http_url("/counted?key=term&ms=1500");
    let slow = std::thread::spawn(move || curl(&["-H", "Host: t.example.com", &url]));
    let count = format!("http://127.0.0.1:{}/count?key=term", origin.port);
    let arrived = poll_until(Duration::from_secs(10), || curl(&[&count]).text() == "1");
    assert!(arrived, "the slow request never reached the origin");

    let sent_term = Instant::now();
    gh.signal("TERM");
    let r = slow.join().unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), "counted");
    let code = gh.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(0), "{}", gh.stderr());
    assert!(sent_term.elapsed() < Duration::from_secs(10));
    // New viewers are no longer accepted.
    let r = get_addr(gh.http.unwrap(), "t.example.com", "/x");
    assert_ne!(r.exit, 0, "{r:?}");
}

/// GET over HTTP from a listener address (for a process that may have exited).
fn get_addr(addr: std::net::SocketAddr, host: &str, path: &str) -> CurlResponse {
    curl(&[
        "-H",
        &format!("Host: {host}"),
        &format!("http://{addr}{path}"),
    ])
}

// ---------------------------------------------------------------------------------------------
// 10. gatehouse check

#[test]
fn check_accepts_a_valid_directory() {
    let cfg = ConfigDir::new();
    cfg.toml("[edge]\nlocation = \"TST1-P1\"\n").distribution(
        "E1HEADERS",
        distribution(
            &["h.example.com", "*.h.example.com"],
            vec![custom_origin("o", "127.0.0.1", 9)],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![behavior(Some("/secure/*"), "o", "https-only", GET_HEAD)],
        ),
    );
    let dir = cfg.path().to_str().unwrap();
    let run = run_bin(&["check", "--config", dir], Duration::from_secs(20));
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("OK"), "{run:?}");
    assert!(run.stdout.contains("E1HEADERS"), "{run:?}");
}

/// A directory with three different problems in two files.
fn bad_dir() -> ConfigDir {
    let cfg = ConfigDir::new();
    // 1. A behaviour pointing at an origin that does not exist.
    let mut d1 = distribution(
        &["one.example.com"],
        vec![custom_origin("o", "127.0.0.1", 9)],
        behavior(None, "o", "allow-all", GET_HEAD),
        vec![behavior(Some("/api/*"), "missing", "allow-all", GET_HEAD)],
    );
    // 2. An upper-case alias.
    d1["Aliases"] = json!({"Quantity": 2, "Items": ["one.example.com", "Two.Example.com"]});
    // 3. In another file: an OriginPath without its leading slash.
    let mut o = custom_origin("o", "127.0.0.1", 9);
    o["OriginPath"] = json!("static/");
    let d2 = distribution(
        &["three.example.com"],
        vec![o],
        behavior(None, "o", "allow-all", GET_HEAD),
        vec![],
    );
    cfg.toml("")
        .distribution("E1BAD", d1)
        .distribution("E2BAD", d2);
    cfg
}

#[test]
fn check_lists_every_problem_with_file_path_and_reason() {
    let cfg = bad_dir();
    let dir = cfg.path().to_str().unwrap();
    let run = run_bin(&["check", "--config", dir], Duration::from_secs(20));
    assert_eq!(run.code, Some(1), "{run:?}");
    let line = |file: &str, path: &str, reason: &str| {
        let found = run
            .stdout
            .lines()
            .find(|l| l.contains(&format!("{file}: {path}: ")))
            .unwrap_or_else(|| panic!("no line for {file} {path}: {}", run.stdout));
        assert!(found.contains(reason), "{found}");
    };
    line(
        "E1BAD.json",
        "$.DistributionConfig.CacheBehaviors.Items[0].TargetOriginId",
        "\"missing\" names no origin",
    );
    line(
        "E1BAD.json",
        "$.DistributionConfig.Aliases.Items[1]",
        "must be lower case",
    );
    line(
        "E2BAD.json",
        "$.DistributionConfig.Origins.Items[0].OriginPath",
        "must begin with '/'",
    );
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.stdout);
    assert!(!run.stdout.contains("OK"), "{}", run.stdout);
}

#[test]
fn serve_refuses_to_start_on_a_bad_directory() {
    let cfg = bad_dir();
    let dir = cfg.path().to_str().unwrap();
    let run = run_bin(&["serve", "--config", dir], Duration::from_secs(10));
    assert!(
        !run.timed_out,
        "serve kept running on a bad config: {run:?}"
    );
    assert!(run.code.is_some_and(|c| c != 0), "{run:?}");
    assert!(run.elapsed < Duration::from_secs(5), "{run:?}");
    assert!(!run.stdout.contains("listening"), "{run:?}");
    for needle in [
        "CacheBehaviors.Items[0].TargetOriginId",
        "Aliases.Items[1]",
        "Origins.Items[0].OriginPath",
    ] {
        assert!(run.stderr.contains(needle), "{needle} missing: {run:?}");
    }
}
