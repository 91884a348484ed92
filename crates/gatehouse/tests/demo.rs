//! The README's run command: `gatehouse serve` with no config runs the built-in demo, and every
//! path it advertises shows the behaviour it claims.

mod support;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::*;

struct Demo {
    child: std::process::Child,
    http: String,
    https_port: String,
    printed: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_demo() -> Demo {
    let mut child = Command::new(bin())
        .args([
            "serve",
            "--demo-http",
            "127.0.0.1:0",
            "--demo-https",
            "127.0.0.1:0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let (mut http, mut https_port, mut printed) = (String::new(), String::new(), String::new());
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        if let Some(a) = line.trim().strip_prefix("gatehouse: listening http ") {
            http = a.to_string();
        }
        if let Some(a) = line.trim().strip_prefix("gatehouse: listening https ") {
            https_port = a.rsplit(':').next().unwrap().to_string();
        }
        printed.push_str(&line);
        if line.starts_with("Every denial") {
            break;
        }
        line.clear();
    }
    assert!(
        !http.is_empty() && !https_port.is_empty(),
        "demo did not start: {printed}"
    );
    Demo {
        child,
        http,
        https_port,
        printed,
    }
}

#[test]
fn demo_shows_each_behaviour() {
    let d = start_demo();
    assert!(
        d.printed.contains("curl -i"),
        "the demo prints commands to try"
    );
    let get = |path: &str, extra: &[&str]| {
        let url = format!("http://{}{path}", d.http);
        let mut args = vec!["-H", "Host: demo.gatehouse.test"];
        args.extend_from_slice(extra);
        args.push(&url);
        curl(&args)
    };
    let r = get("/index.html", &[]);
    assert_eq!(
        (r.status, r.header("x-cache")),
        (200, Some("Miss from cloudfront"))
    );
    assert!(r
        .text()
        .starts_with("Hello from the Gatehouse demo origin."));

    let r = get("/secure/report.txt", &[]);
    assert_eq!(
        (r.status, r.header("x-gatehouse-cause")),
        (403, Some("https-only"))
    );

    let r = get("/redirect/page.html", &[]);
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some("https://demo.gatehouse.test/redirect/page.html")
    );
    assert_eq!(get("/redirect/form", &["-X", "POST"]).status, 307);

    let r = get("/api/orders", &["-X", "POST"]);
    assert_eq!(
        (r.status, r.header("x-gatehouse-cause")),
        (403, Some("method-not-allowed"))
    );

    let r = get("/forbidden/secret.txt", &[]);
    assert_eq!(r.status, 403);
    assert_eq!(r.header("server"), Some("gatehouse-demo-origin"));
    assert_eq!(r.header("x-gatehouse-cause"), Some("origin-denied"));

    let r = get("/missing/page.html", &[]);
    assert_eq!(r.status, 404);
    assert!(r.text().contains("custom error page"), "{}", r.text());

    let https = format!(
        "https://demo.gatehouse.test:{}/secure/report.txt",
        d.https_port
    );
    let resolve = format!("demo.gatehouse.test:{}:127.0.0.1", d.https_port);
    let r = curl(&["-k", "--resolve", &resolve, &https]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.version, "HTTP/2");

    let r = curl(&[
        "-H",
        "Host: shop.example.com",
        &format!("http://{}/", d.http),
    ]);
    assert_eq!(
        (r.status, r.header("x-gatehouse-cause")),
        (403, Some("alias-not-configured"))
    );
}
