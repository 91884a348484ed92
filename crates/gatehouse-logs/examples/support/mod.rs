//! Realistic, deterministic access-log records for the `gen_log` and `parse_speed` examples.
//!
//! Not an example itself (cargo only picks up `examples/*.rs` and `examples/*/main.rs`); both
//! examples include it with `#[path = "support/mod.rs"] mod support;`.

use gatehouse_logs::{DistLog, LogRecord};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// xorshift64*: fast, deterministic, good enough for picking test values.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced, xorshift must not start at 0).
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() >> 32) * n) >> 32
    }

    /// True with probability `pct`%.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    /// One element of `items`.
    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len() as u64) as usize]
    }
}

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "Amazon CloudFront",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    // Characters the encoder must escape: %, quotes, braces, a tab, non-ASCII.
    "Weird Agent 100% \"quoted\" {braces} [brackets] | pipe ^ caret ~tilde 'single'",
    "Agent\twith\ttabs and % signs 50%",
    "Météo-App/3.2 (Android 13; Pixel 7; ü ß)",
];

const REFERERS: &[&str] = &[
    "https://www.example.com/",
    "https://www.example.com/products/shoes?color=red&size=42",
    "https://www.google.com/search?q=cdn+edge+logs%20test&hl=en",
    "https://news.example.org/article/2024/11/some-long-slug-about-things",
    "android-app://com.example.app/",
];

const DIRS: &[&str] = &[
    "/static/js",
    "/static/css",
    "/images/products",
    "/images/hero",
    "/api/v1/items",
    "/video/hls/1080p",
    "/downloads",
    "/~user/files",
    "/docs/guide",
];

const NAMES: &[&str] = &[
    "app",
    "main",
    "vendor",
    "photo name with spaces",
    "résumé",
    "index",
    "segment",
    "report [final]",
    "100%-natural",
    "a{b}c",
];

const EXTS: &[&str] = &[
    ".js", ".css", ".jpg", ".png", ".webp", ".json", ".m3u8", ".ts", ".html", ".pdf", "",
];

const QUERIES: &[&str] = &[
    "v=3",
    "utm_source=newsletter&utm_medium=email&utm_campaign=black%20friday",
    "w=640&h=480&fit=crop",
    "Expires=1735689600&Signature=abcDEF123~xyz_&Key-Pair-Id=K2JCJMDEHXQW5F",
    "q=\"quoted value\"&sort=desc",
    "page=2",
];

const COOKIES: &[&str] = &[
    "session=abc123; theme=dark",
    "CloudFront-Policy=eyJTdGF0ZW1lbnQiOl; CloudFront-Signature=ab~cd; CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F",
];

const CONTENT_TYPES: &[&str] = &[
    "text/html; charset=utf-8",
    "application/javascript",
    "text/css",
    "image/jpeg",
    "image/webp",
    "application/json",
    "application/vnd.apple.mpegurl",
    "video/mp2t",
];

/// `(status, x-edge-result-type, x-edge-response-result-type, x-edge-detailed-result-type,
/// cause)`, weighted by repetition.
type Outcome = (
    u16,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);
const OUTCOMES: &[Outcome] = &[
    (200, "Hit", "Hit", "Hit", None),
    (200, "Hit", "Hit", "Hit", None),
    (200, "Hit", "Hit", "Hit", None),
    (200, "Hit", "Hit", "Hit", None),
    (200, "Miss", "Miss", "Miss", None),
    (200, "Miss", "Miss", "Miss", None),
    (200, "RefreshHit", "RefreshHit", "RefreshHit", None),
    (304, "Hit", "Hit", "Hit", None),
    (206, "Hit", "Hit", "Hit", None),
    (404, "Error", "Error", "Error", None),
    (403, "Error", "Error", "Error", Some("signed-url-expired")),
    (403, "Error", "Error", "Error", Some("geo-blocked")),
    (
        502,
        "Error",
        "Error",
        "OriginConnectError",
        Some("origin-connect-error"),
    ),
    (
        504,
        "Error",
        "Error",
        "OriginCommError",
        Some("origin-read-timeout"),
    ),
    (200, "Error", "Error", "ClientCommError", None),
    (0, "Error", "Error", "ClientHungUpRequest", None),
];

/// A random CloudFront-style request id (56 characters).
fn request_id(rng: &mut Rng) -> Box<str> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut s: String = (0..54)
        .map(|_| A[rng.below(A.len() as u64) as usize] as char)
        .collect();
    s.push_str("==");
    s.into()
}

/// Generates records for one distribution, ending `step_ms` apart from a fixed start.
pub struct Records {
    rng: Rng,
    dist: Arc<DistLog>,
    location: Arc<str>,
    patterns: [Arc<str>; 3],
    start: SystemTime,
    step_ms: u64,
    n: u64,
}

impl Records {
    /// Records starting 2026-11-28 00:00:00 UTC, `step_ms` apart.
    pub fn new(seed: u64, step_ms: u64) -> Self {
        Records {
            rng: Rng::new(seed),
            dist: Arc::new(DistLog {
                id: "E2BENCHLOGS123".into(),
                domain: "d111111abcdef8.cloudfront.net".into(),
                enabled: true,
                prefix: "".into(),
                include_cookies: true,
            }),
            location: "LHR62-C2".into(),
            patterns: ["*".into(), "/static/*".into(), "/api/*".into()],
            start: UNIX_EPOCH + Duration::from_secs(1_795_824_000),
            step_ms,
            n: 0,
        }
    }

    /// The next record.
    pub fn next_record(&mut self) -> LogRecord {
        let r = &mut self.rng;
        let end = self.start + Duration::from_millis(self.n * self.step_ms);
        self.n += 1;
        let (status, result, response, detailed, cause) =
            OUTCOMES[r.below(OUTCOMES.len() as u64) as usize];

        let mut path = format!("{}/{}", r.pick(DIRS), r.pick(NAMES));
        if r.chance(50) {
            path.push_str(&format!("-{:08x}", r.next_u64() as u32));
        }
        path.push_str(r.pick(EXTS));
        let query = r.chance(35).then(|| r.pick(QUERIES).as_bytes().into());

        let c_ip = if r.chance(85) {
            IpAddr::V4(Ipv4Addr::from(r.next_u64() as u32))
        } else {
            IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                r.next_u64() as u16,
                r.next_u64() as u16,
                0,
                0,
                r.next_u64() as u16,
                r.next_u64() as u16,
            ))
        };
        let https = r.chance(80);
        let body = match status {
            200 | 206 => 200 + r.below(2_000_000),
            304 | 0 => 0,
            _ => 200 + r.below(1000),
        };
        let content_len = (status == 200 || status == 206).then_some(body);
        let range = (status == 206).then(|| {
            let a = r.below(body);
            (a, a + r.below(body - a).max(1) - 1)
        });
        let time_taken = Duration::from_micros(500 + r.below(2_500_000));
        let ttfb = time_taken.mul_f64(0.2 + (r.below(80) as f64) / 100.0);
        LogRecord {
            dist: self.dist.clone(),
            end,
            edge_location: self.location.clone(),
            sc_bytes: if status == 0 { 0 } else { body + 350 },
            c_ip,
            method: r
                .pick(&["GET", "GET", "GET", "GET", "GET", "HEAD", "POST", "OPTIONS"])
                .into(),
            uri_stem: path.into_bytes().into(),
            status,
            referer: r.chance(60).then(|| r.pick(REFERERS).as_bytes().into()),
            user_agent: r.chance(97).then(|| r.pick(USER_AGENTS).as_bytes().into()),
            query,
            cookie: r.chance(20).then(|| r.pick(COOKIES).as_bytes().into()),
            result_type: result,
            request_id: request_id(r),
            host_header: r
                .pick(&[
                    "www.example.com",
                    "cdn.example.com",
                    "d111111abcdef8.cloudfront.net",
                ])
                .as_bytes()
                .into(),
            protocol: if https { "https" } else { "http" },
            cs_bytes: 150 + r.below(900),
            time_taken,
            forwarded_for: r
                .chance(10)
                .then(|| format!("198.51.100.{}", r.below(255)).into()),
            ssl_protocol: https.then_some("TLSv1.3"),
            ssl_cipher: https.then_some("TLS_AES_128_GCM_SHA256"),
            response_result_type: response,
            protocol_version: r.pick(&["HTTP/1.1", "HTTP/2.0", "HTTP/2.0"]),
            c_port: 1024 + r.below(64000) as u16,
            ttfb,
            detailed_result_type: detailed,
            content_type: (status != 0 && status != 304).then(|| r.pick(CONTENT_TYPES).into()),
            content_len,
            range,
            cause,
            cause_detail: cause.map(|c| format!("{c}: compared value {}", r.below(1000)).into()),
            country: r
                .chance(90)
                .then(|| *r.pick(&[b"GB", b"US", b"DE", b"FR", b"JP", b"BR"])),
            path_pattern: self.patterns[r.below(3) as usize].clone(),
        }
    }
}
