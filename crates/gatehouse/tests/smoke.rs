//! The harness itself: an object through a real origin, and the `Bad request.` page.

mod support;
use support::*;

#[test]
fn object_and_unknown_host() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml("[edge]\nlocation = \"TST1-P1\"\n").distribution(
        "E1SMOKE",
        distribution(
            &["www.example.com"],
            vec![custom_origin("o", "127.0.0.1", origin.port)],
            behavior(None, "o", "allow-all", GET_HEAD),
            vec![],
        ),
    );
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
