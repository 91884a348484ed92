//! `doctor logs --waf-logs` names the blocking rule; `doctor probe --direct-origin` compares
//! with the origin; `doctor config --bucket-policy` checks the OAC grant.

mod support;
use std::time::Duration;
use support::*;

const T: Duration = Duration::from_secs(60);

fn fields(values: &[(&str, &str)]) -> String {
    gatehouse_logs::standard::FIELDS
        .iter()
        .map(|f| values.iter().find(|(k, _)| k == f).map_or("-", |(_, v)| *v))
        .collect::<Vec<_>>()
        .join("\t")
}

#[test]
fn waf_logs_name_the_rule_of_a_blocked_request() {
    let dir = tempfile::tempdir().unwrap();
    let id = "wafBLOCKEDrequestIDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx==";
    let base = [
        ("date", "2026-11-28"),
        ("time", "10:00:00"),
        ("sc-status", "403"),
        ("cs-uri-stem", "/login"),
        ("c-ip", "203.0.113.9"),
        ("x-edge-result-type", "Error"),
        ("x-edge-response-result-type", "Error"),
        ("x-edge-detailed-result-type", "Error"),
        ("sc-content-type", "text/html"),
        ("sc-content-len", "919"),
        ("x-edge-request-id", id),
        ("time-taken", "0.001"),
    ];
    let log = format!("{}{}\n", gatehouse_logs::standard::header(), fields(&base));
    let log_path = dir.path().join("E1.2026-11-28-10.ABC.log");
    std::fs::write(&log_path, log).unwrap();
    let waf_path = dir.path().join("waf.log");
    std::fs::write(
        &waf_path,
        format!("{{\"timestamp\":1,\"formatVersion\":1,\"terminatingRuleId\":\"RateLimitLogin\",\"terminatingRuleType\":\"RATE_BASED\",\"action\":\"BLOCK\",\"httpSourceName\":\"CF\",\"httpRequest\":{{\"clientIp\":\"203.0.113.9\",\"requestId\":\"{id}\",\"uri\":\"/login\"}}}}\n"),
    )
    .unwrap();
    let (l, w) = (log_path.to_str().unwrap(), waf_path.to_str().unwrap());
    // Without the WAF logs the 919-byte page is only "likely" WAF; with them, certain and named.
    let plain = run_bin(&["doctor", "logs", l], T);
    assert_eq!(plain.code, Some(0), "{}", plain.stderr);
    assert!(!plain.stdout.contains("RateLimitLogin"));
    let joined = run_bin(
        &["doctor", "logs", l, "--waf-logs", w, "--format", "json"],
        T,
    );
    assert_eq!(joined.code, Some(0), "{}", joined.stderr);
    let v: serde_json::Value = serde_json::from_str(&joined.stdout).unwrap();
    let g = &v["groups"][0];
    assert_eq!(g["cause"], "waf-blocked");
    assert_eq!(g["confidence"], "certain");
    assert_eq!(g["waf_rules"][0][0], "RateLimitLogin");
    let story = run_bin(
        &["doctor", "logs", l, "--waf-logs", w, "--request-id", id],
        T,
    );
    assert!(
        story.stderr.contains("terminating rule RateLimitLogin"),
        "{}",
        story.stderr
    );
}

#[test]
fn direct_origin_tells_the_edges_refusal_from_the_origins() {
    let origin = Origin::start();
    let cfg = ConfigDir::new();
    cfg.toml("").distribution(
        "E1DIRECT",
        www_distribution(
            origin.port,
            vec![behavior(Some("/secure/*"), "o", "https-only", GET_HEAD)],
        ),
    );
    let gh = Gatehouse::start(cfg.path());
    let port = gh.http.unwrap().port();
    let resolve = format!("www.example.com:{port}:127.0.0.1");
    let c = cfg.path().to_str().unwrap();
    // The edge refuses (https-only) while the origin serves the object.
    let url = format!("http://www.example.com:{port}/secure/a.txt");
    let r = run_bin(
        &[
            "doctor",
            "probe",
            &url,
            "--resolve",
            &resolve,
            "--config",
            c,
            "--direct-origin",
            "--format",
            "json",
        ],
        T,
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["status"], 403);
    assert_eq!(v["origin"]["status"], 200);
    assert_eq!(v["cause"], "https-only");
    // Both refuse: the 403 is the origin's.
    let url = format!("http://www.example.com:{port}/status/403");
    let r = run_bin(
        &[
            "doctor",
            "probe",
            &url,
            "--resolve",
            &resolve,
            "--config",
            c,
            "--direct-origin",
        ],
        T,
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("the origin refuses too"), "{}", r.stdout);
    assert!(r.stdout.contains("Cause: origin-denied"), "{}", r.stdout);
}

#[test]
fn bucket_policy_grant_is_checked_against_each_distribution() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../gatehouse-model/tests/fixtures/valid"
    );
    let dir = tempfile::tempdir().unwrap();
    let policy = |dist: &str, actions: &str| {
        let doc = format!(
            "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"Service\":\"cloudfront.amazonaws.com\"}},\"Action\":{actions},\"Resource\":[\"arn:aws:s3:::amzn-s3-demo-bucket/*\",\"arn:aws:s3:::amzn-s3-demo-bucket\"],\"Condition\":{{\"StringEquals\":{{\"AWS:SourceArn\":\"arn:aws:cloudfront::111122223333:distribution/{dist}\"}}}}}}]}}"
        );
        let p = dir.path().join(format!("{dist}.json"));
        std::fs::write(&p, serde_json::json!({ "Policy": doc }).to_string()).unwrap();
        p
    };
    let own = policy("E2QWRUHEXAMPLE", "\"s3:GetObject\"");
    let r = run_bin(
        &[
            "doctor",
            "config",
            fixture,
            "--bucket-policy",
            own.to_str().unwrap(),
        ],
        T,
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("not s3:ListBucket"), "{}", r.stdout);
    let full = policy("E2QWRUHEXAMPLE", "[\"s3:GetObject\",\"s3:ListBucket\"]");
    let r = run_bin(
        &[
            "doctor",
            "config",
            fixture,
            "--bucket-policy",
            full.to_str().unwrap(),
        ],
        T,
    );
    assert!(
        r.stdout.contains("s3:GetObject and s3:ListBucket granted"),
        "{}",
        r.stdout
    );
    let other = policy("EOTHER", "\"s3:GetObject\"");
    let r = run_bin(
        &[
            "doctor",
            "config",
            fixture,
            "--bucket-policy",
            other.to_str().unwrap(),
        ],
        T,
    );
    assert!(
        r.stdout
            .contains("no s3:GetObject for cloudfront.amazonaws.com"),
        "{}",
        r.stdout
    );
}
