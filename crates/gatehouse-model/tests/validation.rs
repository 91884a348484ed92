//! Config loading and validation, end to end: real files in a directory, `load_dir`, and the
//! exact `(file, path, reason)` of every problem.
//!
//! The valid fixture lives in `tests/fixtures/valid/`; every bad configuration is written into
//! a temporary directory by the test itself, starting from a known-good config and breaking
//! one thing.

use gatehouse_model::aws::distribution::{
    GeoRestrictionType, HttpVersion, Method, OriginProtocolPolicy, PriceClass, ViewerProtocolPolicy,
};
use gatehouse_model::{load_dir, load_parts, Config, ConfigErrors, Problem};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid")
}

/// A valid `DistributionConfig` with two origins (S3 and custom), aliases, one cache
/// behaviour, a custom error response and a geo restriction, so that each test can break one
/// member of it.
fn base_config() -> Value {
    json!({
        "CallerReference": "test-1",
        "Aliases": {"Quantity": 2, "Items": ["www.example.com", "*.cdn.example.com"]},
        "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 2, "Items": [
            {"Id": "s3-site", "DomainName": "amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com",
             "OriginPath": "", "CustomHeaders": {"Quantity": 0},
             "S3OriginConfig": {"OriginAccessIdentity": "", "OriginReadTimeout": 30},
             "ConnectionAttempts": 3, "ConnectionTimeout": 10,
             "OriginAccessControlId": "E2QWRUHAPOMQZL"},
            {"Id": "api", "DomainName": "api.example.com", "OriginPath": "",
             "CustomHeaders": {"Quantity": 0},
             "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                "OriginProtocolPolicy": "https-only",
                "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5},
             "ConnectionAttempts": 3, "ConnectionTimeout": 10}
        ]},
        "OriginGroups": {"Quantity": 0},
        "DefaultCacheBehavior": {
            "TargetOriginId": "s3-site",
            "TrustedSigners": {"Enabled": false, "Quantity": 0},
            "TrustedKeyGroups": {"Enabled": false, "Quantity": 0},
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"],
                "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}},
            "Compress": true,
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"
        },
        "CacheBehaviors": {"Quantity": 1, "Items": [{
            "PathPattern": "/api/*",
            "TargetOriginId": "api",
            "TrustedSigners": {"Enabled": false, "Quantity": 0},
            "TrustedKeyGroups": {"Enabled": false, "Quantity": 0},
            "ViewerProtocolPolicy": "https-only",
            "AllowedMethods": {"Quantity": 3, "Items": ["HEAD", "GET", "OPTIONS"],
                "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}},
            "Compress": false,
            "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
        }]},
        "CustomErrorResponses": {"Quantity": 1, "Items": [
            {"ErrorCode": 404, "ResponsePagePath": "/errors/404.html", "ResponseCode": "404",
             "ErrorCachingMinTTL": 10}]},
        "Comment": "",
        "PriceClass": "PriceClass_All",
        "Enabled": true,
        "Restrictions": {"GeoRestriction": {"RestrictionType": "blacklist", "Quantity": 2,
            "Items": ["KP", "IR"]}},
        "WebACLId": "",
        "HttpVersion": "http2",
        "IsIPV6Enabled": true
    })
}

/// `get-distribution-config` shape: `{"ETag", "DistributionConfig"}`.
fn config_doc(config: Value) -> String {
    serde_json::to_string_pretty(&json!({"ETag": "ETESTETAG", "DistributionConfig": config}))
        .unwrap()
}

/// `get-distribution` shape: `{"ETag", "Distribution": {"Id", …, "DistributionConfig"}}`.
fn distribution_doc(id: &str, domain: Option<&str>, config: Value) -> String {
    let mut dist = json!({
        "Id": id,
        "ARN": format!("arn:aws:cloudfront::111122223333:distribution/{id}"),
        "Status": "Deployed",
        "DistributionConfig": config,
    });
    if let Some(d) = domain {
        dist["DomainName"] = json!(d);
    }
    serde_json::to_string_pretty(&json!({"ETag": "ETESTETAG", "Distribution": dist})).unwrap()
}

/// Replaces the member at a JSON pointer (`/CacheBehaviors/Items/0/TargetOriginId`).
fn set(config: &mut Value, pointer: &str, value: Value) {
    *config
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no member at {pointer}")) = value;
}

/// Removes the member at a JSON pointer.
fn remove(config: &mut Value, pointer: &str) {
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    let removed = config
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(name));
    assert!(removed.is_some(), "no member at {pointer}");
}

/// A config with one change applied.
fn base_with(pointer: &str, value: Value) -> Value {
    let mut c = base_config();
    set(&mut c, pointer, value);
    c
}

/// Writes `files` (paths relative to the directory) into a fresh temporary directory; creates
/// `distributions/` even when no distribution is given.
fn dir_with(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("distributions")).unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn load_ok(dir: &Path) -> Config {
    match load_dir(dir) {
        Ok(c) => c,
        Err(e) => panic!("expected {} to load, got {e}", dir.display()),
    }
}

fn load_problems(dir: &Path) -> Vec<Problem> {
    match load_dir(dir) {
        Ok(_) => panic!("expected {} to be refused, but it loaded", dir.display()),
        Err(ConfigErrors(problems)) => {
            assert!(!problems.is_empty(), "ConfigErrors with no problem");
            problems
        }
    }
}

fn show(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("\n  {p}"))
        .collect::<String>()
}

/// Asserts that `problems` contains one with exactly this file and path whose reason contains
/// `phrase`.
#[track_caller]
fn assert_has(problems: &[Problem], file: &Path, path: &str, phrase: &str) {
    assert!(
        problems
            .iter()
            .any(|p| p.file == file && p.path == path && p.reason.contains(phrase)),
        "expected a problem in {} at {path} mentioning {phrase:?}; got:{}",
        file.display(),
        show(problems)
    );
}

/// Loads a directory holding one distribution file and the given settings, and asserts it is
/// refused with exactly one problem: in `file` (relative to the directory), at `path`,
/// mentioning `phrase`. Returns the problem for further checks.
#[track_caller]
fn assert_single_problem(dir: &TempDir, file: &str, path: &str, phrase: &str) -> Problem {
    let problems = load_problems(dir.path());
    let file = dir.path().join(file);
    assert_has(&problems, &file, path, phrase);
    assert_eq!(
        problems.len(),
        1,
        "expected exactly one problem; got:{}",
        show(&problems)
    );
    problems.into_iter().next().unwrap()
}

/// One distribution file `distributions/EBAD.json` in `get-distribution-config` shape,
/// refused with exactly one problem at `path`.
#[track_caller]
fn assert_config_refused(config: Value, path: &str, phrase: &str) -> Problem {
    let dir = dir_with(&[("distributions/EBAD.json", &config_doc(config))]);
    assert_single_problem(&dir, "distributions/EBAD.json", path, phrase)
}

const ROOT: &str = "$.DistributionConfig";

// ---------------------------------------------------------------------------------------------
// The valid fixture
// ---------------------------------------------------------------------------------------------

#[test]
fn fixture_loads_both_distributions_sorted_by_id() {
    let cfg = load_ok(&fixture_dir());
    assert_eq!(cfg.dir, fixture_dir());
    let ids: Vec<&str> = cfg.distributions.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["E1SECONDEXAMPLE", "E2QWRUHEXAMPLE"]);
}

#[test]
fn fixture_get_distribution_config_shape() {
    let cfg = load_ok(&fixture_dir());
    let d = &cfg.distributions[1];
    assert_eq!(d.id, "E2QWRUHEXAMPLE", "id comes from the file name");
    assert_eq!(d.arn, None);
    assert_eq!(
        d.domain_name, "e2qwruhexample.cloudfront.net",
        "no DomainName in the document: <id lowercased>.cloudfront.net"
    );
    assert_eq!(d.etag.as_deref(), Some("E2QWRUHEXAMPLE"));
    assert_eq!(d.json_root, "$.DistributionConfig");
    assert_eq!(
        d.file,
        fixture_dir().join("distributions/E2QWRUHEXAMPLE.json")
    );

    let c = &d.config;
    assert_eq!(c.caller_reference, "cli-example-1700000000");
    assert!(c.enabled);
    assert_eq!(c.aliases.quantity, 2);
    assert_eq!(c.aliases.items, ["www.example.com", "*.cdn.example.com"]);
    assert_eq!(c.default_root_object, "index.html");
    assert_eq!(c.price_class, Some(PriceClass::PriceClassAll));
    assert_eq!(c.http_version, Some(HttpVersion::Http2And3));
    assert_eq!(c.is_ipv6_enabled, Some(true));
    assert!(c
        .web_acl_id
        .starts_with("arn:aws:wafv2:us-east-1:111122223333:global/webacl/"));
    let logging = c.logging.as_ref().unwrap();
    assert!(logging.enabled);
    assert_eq!(logging.bucket, "amzn-s3-demo-logs.s3.amazonaws.com");
    assert_eq!(logging.prefix, "cf/");
    let cert = c.viewer_certificate.as_ref().unwrap();
    assert_eq!(cert.cloud_front_default_certificate, Some(false));
    assert_eq!(
        cert.minimum_protocol_version.as_deref(),
        Some("TLSv1.2_2021")
    );
    let geo = &c.restrictions.as_ref().unwrap().geo_restriction;
    assert_eq!(geo.restriction_type, GeoRestrictionType::Blacklist);
    assert_eq!(geo.items, ["KP", "IR"]);
}

#[test]
fn fixture_origins() {
    let cfg = load_ok(&fixture_dir());
    let c = &cfg.distributions[1].config;
    let ids: Vec<&str> = c.origins.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["s3-site", "api"]);

    let s3 = &c.origins.items[0];
    assert_eq!(
        s3.domain_name,
        "amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com"
    );
    assert!(s3.custom_origin_config.is_none());
    let s3c = s3.s3_origin_config.as_ref().unwrap();
    assert_eq!(s3c.origin_access_identity, "");
    assert_eq!(s3c.origin_read_timeout, Some(30));
    assert_eq!(s3.origin_access_control_id, "E2QWRUHAPOMQZL");
    assert_eq!(s3.custom_headers.quantity, 0);
    assert!(s3.custom_headers.items.is_empty());

    let api = &c.origins.items[1];
    assert!(api.s3_origin_config.is_none());
    let coc = api.custom_origin_config.as_ref().unwrap();
    assert_eq!((coc.http_port, coc.https_port), (80, 443));
    assert_eq!(coc.origin_protocol_policy, OriginProtocolPolicy::HttpsOnly);
    assert_eq!(api.custom_headers.items.len(), 1);
    assert_eq!(api.custom_headers.items[0].header_name, "X-Origin-Secret");
    assert_eq!(api.custom_headers.items[0].header_value, "s3cr3t");
    assert_eq!(api.attempts(), 3);
    assert_eq!(api.connect_timeout_secs(), 10);
}

#[test]
fn fixture_behaviours_in_order() {
    let cfg = load_ok(&fixture_dir());
    let c = &cfg.distributions[1].config;

    let def = &c.default_cache_behavior;
    assert_eq!(def.path_pattern, None);
    assert_eq!(def.target_origin_id, "s3-site");
    assert_eq!(
        def.viewer_protocol_policy,
        ViewerProtocolPolicy::RedirectToHttps
    );
    assert_eq!(def.compress, Some(true));
    assert_eq!(def.cache_policy_id, "658327ea-f89d-4fab-a63d-7e88639e58f6");
    let am = def.allowed_methods.as_ref().unwrap();
    assert_eq!(am.items, [Method::Head, Method::Get]);

    assert_eq!(c.cache_behaviors.quantity, 1);
    let patterns: Vec<&str> = c
        .cache_behaviors
        .iter()
        .map(|b| b.path_pattern.as_deref().unwrap())
        .collect();
    assert_eq!(patterns, ["/private/*"]);
    let private = &c.cache_behaviors.items[0];
    assert_eq!(
        private.viewer_protocol_policy,
        ViewerProtocolPolicy::HttpsOnly
    );
    let tkg = private.trusted_key_groups.as_ref().unwrap();
    assert!(tkg.enabled);
    assert_eq!(tkg.items, ["a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"]);

    assert_eq!(c.custom_error_responses.items.len(), 1);
    let cer = &c.custom_error_responses.items[0];
    assert_eq!(cer.error_code, 403);
    assert_eq!(cer.response_code, "403");
    assert_eq!(cer.response_page_path, "/errors/403.html");
    assert_eq!(cer.error_caching_min_ttl, Some(10));
}

#[test]
fn fixture_get_distribution_shape() {
    let cfg = load_ok(&fixture_dir());
    let d = &cfg.distributions[0];
    assert_eq!(d.id, "E1SECONDEXAMPLE");
    assert_eq!(
        d.arn.as_deref(),
        Some("arn:aws:cloudfront::111122223333:distribution/E1SECONDEXAMPLE")
    );
    assert_eq!(
        d.domain_name, "d111111abcdef8.cloudfront.net",
        "DomainName of get-distribution wins over the derived name"
    );
    assert_eq!(d.etag.as_deref(), Some("E2QWRUHEXAMPLF"));
    assert_eq!(d.json_root, "$.Distribution.DistributionConfig");

    let c = &d.config;
    assert!(c.enabled);
    assert_eq!(c.aliases.quantity, 0);
    assert!(c.aliases.items.is_empty());
    assert_eq!(c.cache_behaviors.quantity, 0);
    assert!(c.cache_behaviors.items.is_empty());
    assert_eq!(c.custom_error_responses.quantity, 0);
    assert_eq!(c.default_root_object, "");
    assert_eq!(c.origins.items.len(), 1);
    let app = &c.origins.items[0];
    assert_eq!(app.id, "app");
    assert_eq!(app.domain_name, "app.example.org");
    assert!(app.s3_origin_config.is_none());
    assert_eq!(
        app.custom_origin_config
            .as_ref()
            .unwrap()
            .origin_protocol_policy,
        OriginProtocolPolicy::HttpOnly
    );
    let def = &c.default_cache_behavior;
    assert_eq!(def.target_origin_id, "app");
    assert_eq!(def.viewer_protocol_policy, ViewerProtocolPolicy::AllowAll);
    assert_eq!(def.allowed_methods.as_ref().unwrap().items.len(), 7);
    let geo = &c.restrictions.as_ref().unwrap().geo_restriction;
    assert_eq!(geo.restriction_type, GeoRestrictionType::None);
    assert!(geo.items.is_empty());
}

#[test]
fn fixture_settings() {
    let cfg = load_ok(&fixture_dir());
    let s = &cfg.settings;
    assert_eq!(
        s.listen.http,
        [
            "127.0.0.1:8080".parse().unwrap(),
            "[::1]:8080".parse::<std::net::SocketAddr>().unwrap()
        ]
    );
    assert!(s.listen.https.is_empty());
    assert!(s.tls.certificates.is_empty());
    assert_eq!(s.edge.location, "GHS1-P1");
    assert_eq!(s.edge.default_domain_suffix, "cloudfront.net");
    assert_eq!(
        s.edge.host_id.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
    let proxies = &s.clients.trusted_proxies;
    assert_eq!(proxies.len(), 3);
    assert!(proxies[0].contains("127.0.0.1".parse().unwrap()));
    assert!(!proxies[0].contains("127.0.0.2".parse().unwrap()));
    assert!(proxies[1].contains("10.20.30.40".parse().unwrap()));
    assert!(
        proxies[1].contains("::ffff:10.1.2.3".parse().unwrap()),
        "IPv4-mapped IPv6 matches an IPv4 network"
    );
    assert!(
        proxies[2].contains("::1".parse().unwrap()),
        "bare address = /128"
    );
    assert_eq!(
        s.origins.endpoints["api.example.com"],
        "https://127.0.0.1:8443"
    );
    assert_eq!(
        s.origins.resolve["app.example.org"],
        "127.0.0.1".parse::<std::net::IpAddr>().unwrap()
    );
}

#[test]
fn fixture_loads_the_same_through_load_parts() {
    let dir = fixture_dir();
    let settings_path = dir.join("gatehouse.toml");
    let settings_text = std::fs::read_to_string(&settings_path).unwrap();
    // Deliberately reversed: the result is sorted by id regardless of input order.
    let docs: Vec<(PathBuf, String)> = ["E2QWRUHEXAMPLE", "E1SECONDEXAMPLE"]
        .iter()
        .map(|id| {
            let p = dir.join(format!("distributions/{id}.json"));
            let t = std::fs::read_to_string(&p).unwrap();
            (p, t)
        })
        .collect();
    let parts = load_parts(&dir, &settings_path, Some(&settings_text), &docs).unwrap();
    let from_dir = load_ok(&dir);
    let summary = |c: &Config| -> Vec<(String, String, String)> {
        c.distributions
            .iter()
            .map(|d| (d.id.clone(), d.domain_name.clone(), d.json_root.clone()))
            .collect()
    };
    assert_eq!(summary(&parts), summary(&from_dir));
}

// ---------------------------------------------------------------------------------------------
// Other loading rules (valid inputs)
// ---------------------------------------------------------------------------------------------

#[test]
fn absent_gatehouse_toml_means_defaults() {
    let dir = dir_with(&[("distributions/EONE.json", &config_doc(base_config()))]);
    let cfg = load_ok(dir.path());
    assert_eq!(
        cfg.settings.listen.http,
        ["127.0.0.1:8080".parse().unwrap()]
    );
    assert!(cfg.settings.listen.https.is_empty());
    assert_eq!(cfg.settings.edge.location, "GHS1-P1");
    assert!(cfg.settings.edge.cause_header);
    assert_eq!(cfg.distributions.len(), 1);
}

#[test]
fn default_domain_uses_the_configured_suffix() {
    let dir = dir_with(&[
        (
            "gatehouse.toml",
            "[edge]\ndefault_domain_suffix = \"cdn.test\"\n",
        ),
        ("distributions/EABCDEF123.json", &config_doc(base_config())),
    ]);
    let cfg = load_ok(dir.path());
    assert_eq!(cfg.distributions[0].domain_name, "eabcdef123.cdn.test");
}

#[test]
fn distribution_id_comes_from_the_document_before_the_file_name() {
    let dir = dir_with(&[(
        "distributions/whatever.json",
        &distribution_doc("EFROMDOC", None, base_config()),
    )]);
    let cfg = load_ok(dir.path());
    let d = &cfg.distributions[0];
    assert_eq!(d.id, "EFROMDOC");
    assert_eq!(
        d.domain_name, "efromdoc.cloudfront.net",
        "get-distribution without DomainName: derived from the Id"
    );
}

#[test]
fn document_domain_name_is_lower_cased() {
    let dir = dir_with(&[(
        "distributions/EMIXED.json",
        &distribution_doc("EMIXED", Some("D123ABC.CloudFront.net"), base_config()),
    )]);
    assert_eq!(
        load_ok(dir.path()).distributions[0].domain_name,
        "d123abc.cloudfront.net"
    );
}

#[test]
fn non_json_files_in_distributions_are_ignored() {
    let dir = dir_with(&[
        ("distributions/EONE.json", &config_doc(base_config())),
        ("distributions/README.md", "not a distribution"),
        ("distributions/EONE.json.bak", "{ broken"),
    ]);
    assert_eq!(load_ok(dir.path()).distributions.len(), 1);
}

#[test]
fn no_distributions_is_a_valid_empty_config() {
    let dir = dir_with(&[]);
    assert!(load_ok(dir.path()).distributions.is_empty());
}

#[test]
fn wildcard_alias_may_overlap_a_specific_alias_of_another_distribution() {
    let a = base_with(
        "/Aliases",
        json!({"Quantity": 1, "Items": ["*.example.com"]}),
    );
    let b = base_with(
        "/Aliases",
        json!({"Quantity": 1, "Items": ["www.example.com"]}),
    );
    let dir = dir_with(&[
        ("distributions/EAAA.json", &config_doc(a)),
        ("distributions/EBBB.json", &config_doc(b)),
    ]);
    assert_eq!(load_ok(dir.path()).distributions.len(), 2);
}

#[test]
fn path_pattern_of_255_characters_and_every_allowed_character_is_accepted() {
    let long = format!("/{}", "a".repeat(254));
    let all = "/AZaz09_-.*$/~\"'@:+&?";
    let mut c = base_config();
    set(
        &mut c,
        "/CacheBehaviors",
        json!({"Quantity": 2, "Items": [
            base_config()["CacheBehaviors"]["Items"][0].clone(),
            base_config()["CacheBehaviors"]["Items"][0].clone(),
        ]}),
    );
    set(&mut c, "/CacheBehaviors/Items/0/PathPattern", json!(long));
    set(&mut c, "/CacheBehaviors/Items/1/PathPattern", json!(all));
    let dir = dir_with(&[("distributions/EOK.json", &config_doc(c))]);
    let cfg = load_ok(dir.path());
    let b = &cfg.distributions[0].config.cache_behaviors.items;
    assert_eq!(b[0].path_pattern.as_deref().map(str::len), Some(255));
    assert_eq!(b[1].path_pattern.as_deref(), Some(all));
}

#[test]
fn https_listener_with_existing_certificate_files_is_accepted() {
    let dir = dir_with(&[
        (
            "gatehouse.toml",
            "[listen]\nhttps = [\"127.0.0.1:8443\"]\n\n[[tls.certificates]]\ncert = \"certs/a.pem\"\nkey = \"certs/a.key\"\n",
        ),
        ("certs/a.pem", "placeholder"),
        ("certs/a.key", "placeholder"),
    ]);
    let cfg = load_ok(dir.path());
    assert_eq!(cfg.settings.listen.https.len(), 1);
    assert_eq!(
        cfg.resolve_path(&cfg.settings.tls.certificates[0].cert),
        dir.path().join("certs/a.pem")
    );
}

// ---------------------------------------------------------------------------------------------
// Bad distributions: parse errors (path from serde_path_to_error)
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_enum_value_viewer_protocol_policy() {
    let c = base_with(
        "/CacheBehaviors/Items/0/ViewerProtocolPolicy",
        json!("https"),
    );
    let p = assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Items[0].ViewerProtocolPolicy",
        "unknown variant `https`",
    );
    assert!(p.reason.contains("`https-only`"), "lists the variants: {p}");
    assert!(
        !p.reason.contains(" at line "),
        "position is in the path: {p}"
    );
}

#[test]
fn unknown_enum_value_in_a_get_distribution_document() {
    let c = base_with("/DefaultCacheBehavior/ViewerProtocolPolicy", json!("https"));
    let dir = dir_with(&[(
        "distributions/EBAD.json",
        &distribution_doc("EBAD", None, c),
    )]);
    assert_single_problem(
        &dir,
        "distributions/EBAD.json",
        "$.Distribution.DistributionConfig.DefaultCacheBehavior.ViewerProtocolPolicy",
        "unknown variant `https`",
    );
}

#[test]
fn unknown_method_in_allowed_methods() {
    let c = base_with(
        "/DefaultCacheBehavior/AllowedMethods/Items",
        json!(["GET", "get"]),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.DefaultCacheBehavior.AllowedMethods.Items[1]",
        "unknown variant `get`",
    );
}

#[test]
fn invalid_json_syntax_reports_line_and_column() {
    // Line 3 lacks the comma after "x".
    let text = "{\n  \"ETag\": \"E1\",\n  \"DistributionConfig\": {\"CallerReference\": \"x\"\n    \"Comment\": \"\"}\n}\n";
    let dir = dir_with(&[("distributions/EBAD.json", text)]);
    let p = assert_single_problem(
        &dir,
        "distributions/EBAD.json",
        "$.DistributionConfig",
        "invalid JSON at line 4 column 5",
    );
    assert!(p.reason.contains("expected `,` or `}`"), "{p}");
    assert_eq!(
        p.reason.matches("line 4").count(),
        1,
        "the position is said once: {p}"
    );
}

#[test]
fn truncated_json_reports_end_of_file() {
    let full = config_doc(base_config());
    let dir = dir_with(&[("distributions/EBAD.json", &full[..full.len() / 2])]);
    let problems = load_problems(dir.path());
    assert_eq!(problems.len(), 1, "{}", show(&problems));
    assert_eq!(problems[0].file, dir.path().join("distributions/EBAD.json"));
    assert!(
        problems[0].reason.starts_with("invalid JSON at line ")
            && problems[0].reason.contains("EOF while parsing"),
        "{}",
        problems[0]
    );
}

#[test]
fn empty_file_is_invalid_json_at_the_root() {
    let dir = dir_with(&[("distributions/EBAD.json", "")]);
    assert_single_problem(
        &dir,
        "distributions/EBAD.json",
        "$",
        "invalid JSON at line 1 column 0",
    );
}

#[test]
fn missing_required_field_enabled() {
    let mut c = base_config();
    remove(&mut c, "/Enabled");
    assert_config_refused(c, ROOT, "missing field `Enabled`");
}

#[test]
fn missing_required_field_in_an_origin() {
    let mut c = base_config();
    remove(&mut c, "/Origins/Items/1/DomainName");
    assert_config_refused(
        c,
        "$.DistributionConfig.Origins.Items[1]",
        "missing field `DomainName`",
    );
}

#[test]
fn wrong_type_enabled_yes() {
    let c = base_with("/Enabled", json!("yes"));
    assert_config_refused(
        c,
        "$.DistributionConfig.Enabled",
        "invalid type: string \"yes\", expected a boolean",
    );
}

#[test]
fn wrong_type_error_code_as_string() {
    let c = base_with("/CustomErrorResponses/Items/0/ErrorCode", json!("404"));
    assert_config_refused(
        c,
        "$.DistributionConfig.CustomErrorResponses.Items[0].ErrorCode",
        "invalid type: string \"404\"",
    );
}

#[test]
fn neither_distribution_config_nor_distribution() {
    let dir = dir_with(&[("distributions/EBAD.json", r#"{"ETag": "E1"}"#)]);
    assert_single_problem(
        &dir,
        "distributions/EBAD.json",
        "$",
        "get-distribution-config",
    );
}

#[test]
fn both_distribution_config_and_distribution() {
    let text = serde_json::to_string(&json!({
        "DistributionConfig": base_config(),
        "Distribution": {"Id": "EBAD", "DistributionConfig": base_config()},
    }))
    .unwrap();
    let dir = dir_with(&[("distributions/EBAD.json", &text)]);
    assert_single_problem(&dir, "distributions/EBAD.json", "$", "keep one");
}

#[test]
fn non_alphanumeric_distribution_id_from_file_name() {
    let dir = dir_with(&[("distributions/my-dist.json", &config_doc(base_config()))]);
    assert_single_problem(
        &dir,
        "distributions/my-dist.json",
        "$",
        "must be alphanumeric",
    );
}

// ---------------------------------------------------------------------------------------------
// Bad distributions: semantic errors (path from validate.rs)
// ---------------------------------------------------------------------------------------------

#[test]
fn quantity_differs_from_number_of_items() {
    let c = base_with("/Aliases/Quantity", json!(3));
    assert_config_refused(
        c,
        "$.DistributionConfig.Aliases.Quantity",
        "Quantity is 3 but Items has 2 element(s)",
    );
}

#[test]
fn quantity_zero_with_items() {
    let c = base_with("/CacheBehaviors/Quantity", json!(0));
    assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Quantity",
        "Quantity is 0 but Items has 1 element(s)",
    );
}

#[test]
fn quantity_mismatch_in_nested_lists() {
    for (pointer, path) in [
        (
            "/Origins/Items/1/CustomOriginConfig/OriginSslProtocols/Quantity",
            "$.DistributionConfig.Origins.Items[1].CustomOriginConfig.OriginSslProtocols.Quantity",
        ),
        (
            "/DefaultCacheBehavior/AllowedMethods/Quantity",
            "$.DistributionConfig.DefaultCacheBehavior.AllowedMethods.Quantity",
        ),
        (
            "/DefaultCacheBehavior/AllowedMethods/CachedMethods/Quantity",
            "$.DistributionConfig.DefaultCacheBehavior.AllowedMethods.CachedMethods.Quantity",
        ),
        (
            "/CacheBehaviors/Items/0/TrustedKeyGroups/Quantity",
            "$.DistributionConfig.CacheBehaviors.Items[0].TrustedKeyGroups.Quantity",
        ),
        (
            "/Restrictions/GeoRestriction/Quantity",
            "$.DistributionConfig.Restrictions.GeoRestriction.Quantity",
        ),
        (
            "/CustomErrorResponses/Quantity",
            "$.DistributionConfig.CustomErrorResponses.Quantity",
        ),
        ("/Origins/Quantity", "$.DistributionConfig.Origins.Quantity"),
        (
            "/OriginGroups/Quantity",
            "$.DistributionConfig.OriginGroups.Quantity",
        ),
    ] {
        let c = base_with(pointer, json!(5));
        assert_config_refused(c, path, "Quantity is 5 but Items has");
    }
}

#[test]
fn quantity_mismatch_under_get_distribution_root() {
    let c = base_with("/Origins/Quantity", json!(1));
    let dir = dir_with(&[(
        "distributions/EBAD.json",
        &distribution_doc("EBAD", None, c),
    )]);
    assert_single_problem(
        &dir,
        "distributions/EBAD.json",
        "$.Distribution.DistributionConfig.Origins.Quantity",
        "Quantity is 1 but Items has 2 element(s)",
    );
}

#[test]
fn target_origin_id_names_no_origin() {
    let c = base_with("/CacheBehaviors/Items/0/TargetOriginId", json!("apj"));
    let p = assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Items[0].TargetOriginId",
        "\"apj\" names no origin of this distribution",
    );
    assert!(p.reason.contains("api, s3-site"), "lists the origins: {p}");
}

#[test]
fn default_behaviour_target_origin_id_names_no_origin() {
    let c = base_with("/DefaultCacheBehavior/TargetOriginId", json!("S3-site"));
    assert_config_refused(
        c,
        "$.DistributionConfig.DefaultCacheBehavior.TargetOriginId",
        "names no origin",
    );
}

#[test]
fn duplicate_alias_across_two_distributions() {
    let a = base_with(
        "/Aliases",
        json!({"Quantity": 1, "Items": ["shop.example.com"]}),
    );
    let b = base_with(
        "/Aliases",
        json!({"Quantity": 2, "Items": ["other.example.com", "shop.example.com"]}),
    );
    let dir = dir_with(&[
        ("distributions/EAAA.json", &config_doc(a)),
        // get-distribution shape: the path must start at its own root.
        (
            "distributions/EBBB.json",
            &distribution_doc("EBBB", Some("dbbb.cloudfront.net"), b),
        ),
    ]);
    let p = assert_single_problem(
        &dir,
        "distributions/EBBB.json",
        "$.Distribution.DistributionConfig.Aliases.Items[1]",
        "already an alias of distribution EAAA",
    );
    assert!(p.reason.contains("\"shop.example.com\""), "{p}");
}

#[test]
fn identical_wildcard_alias_on_two_distributions() {
    let a = base_with(
        "/Aliases",
        json!({"Quantity": 1, "Items": ["*.example.com"]}),
    );
    let dir = dir_with(&[
        ("distributions/EAAA.json", &config_doc(a.clone())),
        ("distributions/EBBB.json", &config_doc(a)),
    ]);
    assert_single_problem(
        &dir,
        "distributions/EBBB.json",
        "$.DistributionConfig.Aliases.Items[0]",
        "already an alias of distribution EAAA",
    );
}

#[test]
fn duplicate_alias_within_one_distribution() {
    let c = base_with(
        "/Aliases",
        json!({"Quantity": 2, "Items": ["www.example.com", "www.example.com"]}),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.Aliases.Items[1]",
        "is listed twice",
    );
}

#[test]
fn same_default_domain_on_two_distributions() {
    let dir = dir_with(&[
        (
            "distributions/EAAA.json",
            &distribution_doc(
                "EAAA",
                Some("d1.cloudfront.net"),
                base_with("/Aliases", json!({"Quantity": 0})),
            ),
        ),
        (
            "distributions/EBBB.json",
            &distribution_doc(
                "EBBB",
                Some("d1.cloudfront.net"),
                base_with("/Aliases", json!({"Quantity": 0})),
            ),
        ),
    ]);
    assert_single_problem(
        &dir,
        "distributions/EBBB.json",
        "$",
        "default domain d1.cloudfront.net is also the domain of distribution EAAA",
    );
}

#[test]
fn wildcard_alias_with_partial_label() {
    let c = base_with("/Aliases/Items/1", json!("*example.com"));
    assert_config_refused(
        c,
        "$.DistributionConfig.Aliases.Items[1]",
        "invalid wildcard alias \"*example.com\"",
    );
}

#[test]
fn wildcard_alias_in_the_middle() {
    let c = base_with("/Aliases/Items/0", json!("a.*.example.com"));
    assert_config_refused(
        c,
        "$.DistributionConfig.Aliases.Items[0]",
        "invalid wildcard alias \"a.*.example.com\"",
    );
}

#[test]
fn upper_case_alias() {
    let c = base_with("/Aliases/Items/0", json!("WWW.Example.com"));
    assert_config_refused(
        c,
        "$.DistributionConfig.Aliases.Items[0]",
        "must be lower case",
    );
}

#[test]
fn alias_with_invalid_dns_label() {
    let c = base_with("/Aliases/Items/0", json!("www..example.com"));
    assert_config_refused(
        c,
        "$.DistributionConfig.Aliases.Items[0]",
        "invalid DNS label",
    );
}

#[test]
fn path_pattern_with_a_space() {
    let c = base_with("/CacheBehaviors/Items/0/PathPattern", json!("/my images/*"));
    assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Items[0].PathPattern",
        "contains ' '",
    );
}

#[test]
fn path_pattern_with_a_percent_sign() {
    let c = base_with(
        "/CacheBehaviors/Items/0/PathPattern",
        json!("/my%20images/*"),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Items[0].PathPattern",
        "contains '%'",
    );
}

#[test]
fn path_pattern_too_long() {
    let c = base_with(
        "/CacheBehaviors/Items/0/PathPattern",
        json!(format!("/{}", "a".repeat(255))),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Items[0].PathPattern",
        "is 256 characters; the limit is 255",
    );
}

#[test]
fn cache_behaviour_without_path_pattern() {
    let mut c = base_config();
    remove(&mut c, "/CacheBehaviors/Items/0/PathPattern");
    assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Items[0].PathPattern",
        "needs a PathPattern",
    );
}

#[test]
fn default_behaviour_with_path_pattern() {
    let c = {
        let mut c = base_config();
        c["DefaultCacheBehavior"]["PathPattern"] = json!("*");
        c
    };
    assert_config_refused(
        c,
        "$.DistributionConfig.DefaultCacheBehavior.PathPattern",
        "DefaultCacheBehavior has no PathPattern",
    );
}

#[test]
fn duplicate_path_pattern() {
    let mut c = base_config();
    let b = c["CacheBehaviors"]["Items"][0].clone();
    let mut b2 = b.clone();
    b2["PathPattern"] = json!("api/*"); // the leading '/' is irrelevant
    set(
        &mut c,
        "/CacheBehaviors",
        json!({"Quantity": 2, "Items": [b, b2]}),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Items[1].PathPattern",
        "is used twice",
    );
}

#[test]
fn allowed_methods_not_one_of_the_three_sets() {
    let c = base_with(
        "/CacheBehaviors/Items/0/AllowedMethods/Items",
        json!(["GET", "HEAD", "POST"]),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Items[0].AllowedMethods.Items",
        "must be exactly [GET, HEAD], [GET, HEAD, OPTIONS] or all seven methods",
    );
}

#[test]
fn allowed_methods_with_a_repeated_method() {
    // Three items, Quantity 3, but only two distinct methods.
    let c = base_with(
        "/CacheBehaviors/Items/0/AllowedMethods/Items",
        json!(["GET", "HEAD", "GET"]),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Items[0].AllowedMethods.Items",
        "must be exactly",
    );
}

#[test]
fn cached_methods_not_a_subset_of_allowed_methods() {
    // Allowed [GET, HEAD], cached [GET, HEAD, OPTIONS].
    let c = base_with(
        "/DefaultCacheBehavior/AllowedMethods/CachedMethods",
        json!({"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"]}),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.DefaultCacheBehavior.AllowedMethods.CachedMethods.Items",
        "must be a subset of the allowed methods",
    );
}

#[test]
fn cached_methods_not_one_of_the_two_sets() {
    let c = base_with(
        "/CacheBehaviors/Items/0/AllowedMethods/CachedMethods",
        json!({"Quantity": 1, "Items": ["GET"]}),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Items[0].AllowedMethods.CachedMethods.Items",
        "must be [GET, HEAD] or [GET, HEAD, OPTIONS]",
    );
}

#[test]
fn cached_methods_with_a_repeated_method() {
    let c = base_with(
        "/CacheBehaviors/Items/0/AllowedMethods/CachedMethods",
        json!({"Quantity": 3, "Items": ["GET", "HEAD", "HEAD"]}),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Items[0].AllowedMethods.CachedMethods.Items",
        "must be [GET, HEAD] or [GET, HEAD, OPTIONS]",
    );
}

#[test]
fn trusted_key_groups_enabled_without_items() {
    let c = base_with(
        "/CacheBehaviors/Items/0/TrustedKeyGroups",
        json!({"Enabled": true, "Quantity": 0}),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.CacheBehaviors.Items[0].TrustedKeyGroups",
        "every request would be refused",
    );
}

#[test]
fn response_code_not_a_number() {
    let c = base_with("/CustomErrorResponses/Items/0/ResponseCode", json!("OK"));
    assert_config_refused(
        c,
        "$.DistributionConfig.CustomErrorResponses.Items[0].ResponseCode",
        "\"OK\" is not an HTTP status code",
    );
}

#[test]
fn error_code_not_customisable() {
    let c = base_with("/CustomErrorResponses/Items/0/ErrorCode", json!(200));
    assert_config_refused(
        c,
        "$.DistributionConfig.CustomErrorResponses.Items[0].ErrorCode",
        "200 is not an error code CloudFront can customise",
    );
}

#[test]
fn response_page_path_without_response_code() {
    let c = base_with("/CustomErrorResponses/Items/0/ResponseCode", json!(""));
    assert_config_refused(
        c,
        "$.DistributionConfig.CustomErrorResponses.Items[0].ResponseCode",
        "ResponsePagePath needs a ResponseCode",
    );
}

#[test]
fn connection_attempts_out_of_range() {
    let c = base_with("/Origins/Items/1/ConnectionAttempts", json!(5));
    assert_config_refused(
        c,
        "$.DistributionConfig.Origins.Items[1].ConnectionAttempts",
        "5 is outside 1–3",
    );
}

#[test]
fn connection_timeout_zero() {
    let c = base_with("/Origins/Items/0/ConnectionTimeout", json!(0));
    assert_config_refused(
        c,
        "$.DistributionConfig.Origins.Items[0].ConnectionTimeout",
        "0 is outside 1–10 seconds",
    );
}

#[test]
fn origin_port_zero() {
    let c = base_with("/Origins/Items/1/CustomOriginConfig/HTTPSPort", json!(0));
    assert_config_refused(
        c,
        "$.DistributionConfig.Origins.Items[1].CustomOriginConfig.HTTPSPort",
        "0 is not a TCP port",
    );
}

#[test]
fn origin_domain_name_with_scheme() {
    let c = base_with(
        "/Origins/Items/1/DomainName",
        json!("https://api.example.com"),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.Origins.Items[1].DomainName",
        "is not a domain name",
    );
}

#[test]
fn origin_path_with_trailing_slash() {
    let c = base_with("/Origins/Items/1/OriginPath", json!("/v1/"));
    assert_config_refused(
        c,
        "$.DistributionConfig.Origins.Items[1].OriginPath",
        "must not end with '/'",
    );
}

#[test]
fn origin_custom_header_name_invalid() {
    let c = base_with(
        "/Origins/Items/1/CustomHeaders",
        json!({"Quantity": 1, "Items": [{"HeaderName": "X Secret", "HeaderValue": "v"}]}),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.Origins.Items[1].CustomHeaders.Items[0].HeaderName",
        "is not a valid header name",
    );
}

#[test]
fn geo_code_lower_case() {
    let c = base_with("/Restrictions/GeoRestriction/Items/1", json!("ir"));
    assert_config_refused(
        c,
        "$.DistributionConfig.Restrictions.GeoRestriction.Items[1]",
        "\"ir\" is not an upper-case ISO 3166-1 alpha-2 country code",
    );
}

#[test]
fn geo_restriction_none_with_items() {
    let c = base_with(
        "/Restrictions/GeoRestriction/RestrictionType",
        json!("none"),
    );
    assert_config_refused(
        c,
        "$.DistributionConfig.Restrictions.GeoRestriction.Items",
        "RestrictionType none takes no Items",
    );
}

#[test]
fn origin_with_neither_s3_nor_custom_origin_config() {
    let mut c = base_config();
    remove(&mut c, "/Origins/Items/0/S3OriginConfig");
    assert_config_refused(
        c,
        "$.DistributionConfig.Origins.Items[0]",
        "needs S3OriginConfig or CustomOriginConfig",
    );
}

#[test]
fn origin_with_both_s3_and_custom_origin_config() {
    let mut c = base_config();
    let coc = c["Origins"]["Items"][1]["CustomOriginConfig"].clone();
    c["Origins"]["Items"][0]["CustomOriginConfig"] = coc;
    assert_config_refused(
        c,
        "$.DistributionConfig.Origins.Items[0]",
        "cannot have both S3OriginConfig and CustomOriginConfig",
    );
}

#[test]
fn duplicate_origin_id() {
    let c = base_with("/Origins/Items/1/Id", json!("s3-site"));
    // The behaviour pointing at "api" now names no origin too; both are reported.
    let dir = dir_with(&[("distributions/EBAD.json", &config_doc(c))]);
    let problems = load_problems(dir.path());
    let file = dir.path().join("distributions/EBAD.json");
    assert_has(
        &problems,
        &file,
        "$.DistributionConfig.Origins.Items[1].Id",
        "origin Id \"s3-site\" is used twice",
    );
    assert_has(
        &problems,
        &file,
        "$.DistributionConfig.CacheBehaviors.Items[0].TargetOriginId",
        "\"api\" names no origin",
    );
    assert_eq!(problems.len(), 2, "{}", show(&problems));
}

#[test]
fn no_origins() {
    let mut c = base_with("/Origins", json!({"Quantity": 0}));
    // Behaviours must then name no origin either way; keep them out of the picture.
    set(&mut c, "/CacheBehaviors", json!({"Quantity": 0}));
    let dir = dir_with(&[("distributions/EBAD.json", &config_doc(c))]);
    let problems = load_problems(dir.path());
    assert_has(
        &problems,
        &dir.path().join("distributions/EBAD.json"),
        "$.DistributionConfig.Origins",
        "at least one origin",
    );
}

#[test]
fn default_root_object_with_leading_slash() {
    let c = base_with("/DefaultRootObject", json!("/index.html"));
    assert_config_refused(
        c,
        "$.DistributionConfig.DefaultRootObject",
        "must not begin with '/'",
    );
}

// ---------------------------------------------------------------------------------------------
// Bad gatehouse.toml
// ---------------------------------------------------------------------------------------------

#[test]
fn toml_unknown_key() {
    let dir = dir_with(&[(
        "gatehouse.toml",
        "[edge]\nlocation = \"FRA56-P6\"\ncause_headers = false\n",
    )]);
    let p = assert_single_problem(
        &dir,
        "gatehouse.toml",
        "edge.cause_headers",
        "unknown field `cause_headers`",
    );
    assert!(
        p.reason.contains("`cause_header`"),
        "lists the known keys: {p}"
    );
    assert!(p.reason.ends_with("(line 3)"), "says the line: {p}");
}

#[test]
fn toml_unknown_table() {
    let dir = dir_with(&[(
        "gatehouse.toml",
        "[listen]\nhttp = []\n\n[log]\ndir = \"x\"\n",
    )]);
    assert_single_problem(&dir, "gatehouse.toml", "log", "unknown field `log`");
}

#[test]
fn toml_bad_trusted_proxies_value() {
    let dir = dir_with(&[(
        "gatehouse.toml",
        "[clients]\ntrusted_proxies = [\"10.0.0.0/8\", \"10.0.0.300\"]\n",
    )]);
    assert_single_problem(
        &dir,
        "gatehouse.toml",
        "clients.trusted_proxies[1]",
        "\"10.0.0.300\" is not an IP address or CIDR network (line 2)",
    );
}

#[test]
fn toml_wrong_type() {
    let dir = dir_with(&[(
        "gatehouse.toml",
        "[edge]

idle_timeout_secs = \"60\"\n",
    )]);
    assert_single_problem(
        &dir,
        "gatehouse.toml",
        "edge.idle_timeout_secs",
        "invalid type: string \"60\", expected u64 (line 3)",
    );
}

#[test]
fn toml_certificate_entry_without_key() {
    let dir = dir_with(&[
        ("gatehouse.toml", "[[tls.certificates]]\ncert = \"a.pem\"\n"),
        ("a.pem", "placeholder"),
    ]);
    assert_single_problem(
        &dir,
        "gatehouse.toml",
        "tls.certificates[0]",
        "missing field `key`",
    );
}

#[test]
fn toml_syntax_error() {
    let dir = dir_with(&[("gatehouse.toml", "[listen]\nhttp = [\"127.0.0.1:8080\"\n")]);
    let problems = load_problems(dir.path());
    assert_eq!(problems.len(), 1, "{}", show(&problems));
    assert_eq!(problems[0].file, dir.path().join("gatehouse.toml"));
    assert_eq!(
        problems[0].path, "line 2",
        "no key path: the line is the path"
    );
}

#[test]
fn https_listener_without_certificates() {
    let dir = dir_with(&[("gatehouse.toml", "[listen]\nhttps = [\"127.0.0.1:8443\"]\n")]);
    assert_single_problem(
        &dir,
        "gatehouse.toml",
        "listen.https",
        "HTTPS listeners need at least one [[tls.certificates]] entry",
    );
}

#[test]
fn certificate_file_missing() {
    let dir = dir_with(&[
        (
            "gatehouse.toml",
            "[listen]\nhttps = [\"127.0.0.1:8443\"]\n\n[[tls.certificates]]\ncert = \"certs/a.pem\"\nkey = \"certs/a.key\"\n",
        ),
        ("certs/a.pem", "placeholder"),
    ]);
    let p = assert_single_problem(
        &dir,
        "gatehouse.toml",
        "tls.certificates[0].key",
        "does not exist",
    );
    assert!(p.reason.contains("a.key"), "{p}");
}

#[test]
fn origin_ca_file_missing() {
    let dir = dir_with(&[(
        "gatehouse.toml",
        "[origins]\nca_file = \"ca/origins.pem\"\n",
    )]);
    let p = assert_single_problem(&dir, "gatehouse.toml", "origins.ca_file", "does not exist");
    assert!(p.reason.contains("origins.pem"), "{p}");
    std::fs::create_dir_all(dir.path().join("ca")).unwrap();
    std::fs::write(dir.path().join("ca/origins.pem"), "placeholder").unwrap();
    load_ok(dir.path());
}

#[test]
fn origin_endpoints_accept_ipv4_ipv6_and_names() {
    let dir = dir_with(&[(
        "gatehouse.toml",
        "[origins.endpoints]\n\"a.example.com\" = \"http://127.0.0.1:3900\"\n\"b.example.com\" = \"https://[::1]:8443/\"\n\"c.example.com\" = \"http://localhost\"\n",
    )]);
    assert_eq!(load_ok(dir.path()).settings.origins.endpoints.len(), 3);
}

#[test]
fn host_id_not_hex() {
    let dir = dir_with(&[("gatehouse.toml", "[edge]\nhost_id = \"XYZ\"\n")]);
    assert_single_problem(
        &dir,
        "gatehouse.toml",
        "edge.host_id",
        "32 lower-case hex characters",
    );
}

#[test]
fn origin_endpoint_not_a_url() {
    let dir = dir_with(&[(
        "gatehouse.toml",
        "[origins.endpoints]\n\"api.example.com\" = \"127.0.0.1:3900\"\n",
    )]);
    assert_single_problem(
        &dir,
        "gatehouse.toml",
        "origins.endpoints.\"api.example.com\"",
        "is not an http:// or https:// URL",
    );
}

// ---------------------------------------------------------------------------------------------
// The directory itself, and reporting everything
// ---------------------------------------------------------------------------------------------

#[test]
fn not_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let problems = load_problems(&missing);
    assert_eq!(problems.len(), 1, "{}", show(&problems));
    assert_eq!(problems[0].file, missing);
    assert_eq!(problems[0].path, "$");
    assert!(problems[0].reason.contains("not a directory"));
}

#[test]
fn missing_distributions_directory() {
    let dir = tempfile::tempdir().unwrap();
    let problems = load_problems(dir.path());
    assert_eq!(problems.len(), 1, "{}", show(&problems));
    assert_eq!(problems[0].file, dir.path().join("distributions"));
    assert!(problems[0]
        .reason
        .contains("cannot read the distributions directory"));
}

#[test]
fn several_problems_are_all_reported() {
    // One file with three semantic problems, one that does not parse, one duplicate alias
    // across two otherwise valid files, one bad setting and one valid file.
    let mut three = base_config();
    set(&mut three, "/Aliases/Items/0", json!("WWW.example.com"));
    set(&mut three, "/Origins/Items/1/ConnectionAttempts", json!(5));
    set(
        &mut three,
        "/CacheBehaviors/Items/0/PathPattern",
        json!("/a b"),
    );
    let dup = base_with(
        "/Aliases",
        json!({"Quantity": 1, "Items": ["www.example.com"]}),
    );
    let dup2 = base_with(
        "/Aliases",
        json!({"Quantity": 1, "Items": ["www.example.com"]}),
    );
    let dir = dir_with(&[
        ("gatehouse.toml", "[listen]\nhttps = [\"127.0.0.1:8443\"]\n"),
        ("distributions/EONE.json", &config_doc(three)),
        (
            "distributions/ETWO.json",
            &config_doc(base_with("/Enabled", json!("yes"))),
        ),
        ("distributions/EDUP1.json", &config_doc(dup)),
        ("distributions/EDUP2.json", &config_doc(dup2)),
        (
            "distributions/EFINE.json",
            &config_doc(base_with("/Aliases", json!({"Quantity": 0}))),
        ),
    ]);
    let problems = load_problems(dir.path());
    let f = |name: &str| dir.path().join(name);
    assert_has(
        &problems,
        &f("gatehouse.toml"),
        "listen.https",
        "HTTPS listeners",
    );
    assert_has(
        &problems,
        &f("distributions/EONE.json"),
        "$.DistributionConfig.Aliases.Items[0]",
        "must be lower case",
    );
    assert_has(
        &problems,
        &f("distributions/EONE.json"),
        "$.DistributionConfig.Origins.Items[1].ConnectionAttempts",
        "outside 1–3",
    );
    assert_has(
        &problems,
        &f("distributions/EONE.json"),
        "$.DistributionConfig.CacheBehaviors.Items[0].PathPattern",
        "contains ' '",
    );
    assert_has(
        &problems,
        &f("distributions/ETWO.json"),
        "$.DistributionConfig.Enabled",
        "invalid type",
    );
    assert_has(
        &problems,
        &f("distributions/EDUP2.json"),
        "$.DistributionConfig.Aliases.Items[0]",
        "already an alias of distribution EDUP1",
    );
    assert_eq!(problems.len(), 6, "{}", show(&problems));

    // The error's Display lists every problem, one per line.
    let text = ConfigErrors(problems.clone()).to_string();
    assert!(
        text.starts_with("6 problem(s) in the configuration:\n"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 7, "{text}");
    for p in &problems {
        assert!(text.contains(&p.to_string()), "{text}");
    }
}

#[test]
fn problems_in_settings_and_distributions_are_reported_together() {
    // A settings parse error must not hide the distributions' problems (and vice versa).
    let dir = dir_with(&[
        ("gatehouse.toml", "[edge]\nlocaton = \"X\"\n"),
        (
            "distributions/EBAD.json",
            &config_doc(base_with("/Origins/Items/0/ConnectionTimeout", json!(0))),
        ),
    ]);
    let problems = load_problems(dir.path());
    assert!(
        problems
            .iter()
            .any(|p| p.file == dir.path().join("gatehouse.toml")
                && p.reason.contains("unknown field `locaton`")),
        "{}",
        show(&problems)
    );
    assert_has(
        &problems,
        &dir.path().join("distributions/EBAD.json"),
        "$.DistributionConfig.Origins.Items[0].ConnectionTimeout",
        "outside 1–10",
    );
    assert_eq!(problems.len(), 2, "{}", show(&problems));
}

#[test]
fn problem_display_is_file_path_reason() {
    let p = Problem {
        file: PathBuf::from("dir/distributions/E1.json"),
        path: "$.DistributionConfig.Enabled".into(),
        reason: "bad".into(),
    };
    assert_eq!(
        p.to_string(),
        "dir/distributions/E1.json: $.DistributionConfig.Enabled: bad"
    );
}
