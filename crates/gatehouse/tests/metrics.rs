//! `/metrics` on the admin listener: requests by distribution, status and cause; the origin
//! latency histogram; log lines written (JSON only here: the distribution has no `Logging`).
//! Never on the viewer listener.

mod support;
use support::*;

#[test]
fn metrics_count_requests_causes_latency_and_log_lines() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml("[listen]\nhttp = [\"127.0.0.1:0\"]\n\n[admin]\nlisten = \"127.0.0.1:0\"\n\n[logs]\ndirectory = \"logs\"\nflush_ms = 50\n")
        .distribution(
            "E1METRICS",
            www_distribution(origin.port, vec![behavior(Some("/secure/*"), "o", "https-only", GET_HEAD)]),
        );
    let gh = Gatehouse::start(cfg.path());
    let admin = gh.admin.expect("the admin listener is reported");
    let host = ["-H", "Host: www.example.com"];
    for _ in 0..3 {
        assert_eq!(curl(&[host[0], host[1], &gh.http_url("/a")]).status, 200);
    }
    assert_eq!(
        curl(&[host[0], host[1], &gh.http_url("/secure/x")]).status,
        403
    );
    assert_eq!(
        curl(&[host[0], host[1], &gh.http_url("/status/403")]).status,
        403
    );

    let metrics_url = format!("http://{admin}/metrics");
    poll_until(std::time::Duration::from_secs(5), || {
        curl(&[&metrics_url])
            .text()
            .contains("gatehouse_log_lines_written_total 5")
    });
    let m = curl(&[&metrics_url]);
    assert_eq!(m.status, 200);
    assert_eq!(m.header("content-type"), Some("text/plain; version=0.0.4"));
    let text = m.text();
    for line in [
        "gatehouse_requests_total{distribution=\"E1METRICS\",status=\"200\",cause=\"none\"} 3",
        "gatehouse_requests_total{distribution=\"E1METRICS\",status=\"403\",cause=\"https-only\"} 1",
        "gatehouse_requests_total{distribution=\"E1METRICS\",status=\"403\",cause=\"origin-denied\"} 1",
        "gatehouse_origin_latency_seconds_count{distribution=\"E1METRICS\"} 4",
        "gatehouse_log_lines_written_total 5",
        "gatehouse_log_lines_dropped_total 0",
        "gatehouse_log_write_errors_total 0",
        "gatehouse_log_files_compressed_total 0",
        "gatehouse_log_compress_backlog_bytes 0",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    // Each answered request is counted once, under its own status: five in all, none as an
    // abandoned (`000`) one.
    let counted: u64 = text
        .lines()
        .filter(|l| l.starts_with("gatehouse_requests_total{distribution=\"E1METRICS\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted, 5, "{text}");
    assert!(!text.contains("status=\"000\""), "{text}");
    // The viewer listener does not serve metrics: /metrics is just another path there.
    let viewer = curl(&[host[0], host[1], &gh.http_url("/metrics")]);
    assert!(!viewer.text().contains("gatehouse_requests_total"));
}

#[test]
fn a_request_the_viewer_abandons_is_counted_once_as_000() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml("[listen]\nhttp = [\"127.0.0.1:0\"]\n\n[admin]\nlisten = \"127.0.0.1:0\"\n")
        .distribution("E1ABANDON", www_distribution(origin.port, vec![]));
    let gh = Gatehouse::start(cfg.path());
    let admin = gh.admin.expect("the admin listener is reported");
    let mut s = std::net::TcpStream::connect(gh.http.unwrap()).unwrap();
    std::io::Write::write_all(
        &mut s,
        b"GET /slow?ms=1500 HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(s);
    let metrics_url = format!("http://{admin}/metrics");
    let line =
        "gatehouse_requests_total{distribution=\"E1ABANDON\",status=\"000\",cause=\"none\"} 1";
    assert!(
        poll_until(std::time::Duration::from_secs(5), || curl(&[&metrics_url])
            .text()
            .contains(line)),
        "missing {line:?} in:\n{}",
        curl(&[&metrics_url]).text()
    );
    // Long enough for the origin to have answered, had anyone waited: still the one count.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let text = curl(&[&metrics_url]).text();
    let counted: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("gatehouse_requests_total{distribution=\"E1ABANDON\""))
        .collect();
    assert_eq!(counted, vec![line], "{text}");
}
