//! The harness itself: an object through a real origin, and the `Bad request.` page.

mod support;
use support::*;

#[test]
fn object_and_unknown_host() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml("[edge]\nlocation = \"TST1-P1\"\n")
        .distribution("E1SMOKE", www_distribution(origin.port, vec![]));
    let gh = Gatehouse::start(cfg.path());
    let r = curl(&["-H", "Host: www.example.com", &gh.http_url("/a.txt")]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), "origin object /a.txt");
    assert_eq!(r.header("x-cache"), Some("Miss from cloudfront"));
    assert_eq!(r.header("server"), Some("test-origin"));

    let r = curl(&["-H", "Host: nope.example.org", &gh.http_url("/")]);
    assert_eq!(r.status, 403);
    let id = r.header("x-amz-cf-id").unwrap().to_string();
    assert_eq!(r.text(), expected_error_page(403, "Bad request.", &id));
    assert_eq!(r.header("content-length"), Some("915"));
    assert_eq!(r.header("server"), Some("CloudFront"));
    assert_eq!(r.header("x-gatehouse-cause"), Some("alias-not-configured"));
}

/// A panic while handling one request answers that request with a 502 and nothing else dies
/// (debug builds honour `GATEHOUSE_DEBUG_PANIC_PATH`).
#[test]
fn a_panicking_request_does_not_take_the_edge_down() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml("")
        .distribution("E1PANIC", www_distribution(origin.port, vec![]));
    std::env::set_var("GATEHOUSE_DEBUG_PANIC_PATH", "/boom");
    let gh = Gatehouse::start(cfg.path());
    let r = curl(&["-H", "Host: www.example.com", &gh.http_url("/boom")]);
    assert_eq!(r.status, 502);
    assert_eq!(r.header("x-gatehouse-cause"), Some("internal-error"));
    let ok = curl(&["-H", "Host: www.example.com", &gh.http_url("/fine")]);
    assert_eq!(ok.status, 200);
    assert!(gh.stderr().contains("panicked"));
}
