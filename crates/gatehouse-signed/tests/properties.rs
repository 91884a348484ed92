//! Property tests for signed URLs:
//!
//! 1. `resource::matches` agrees with a reference matcher written straight from the documented
//!    wildcard rules (`cloudfront.md` §3.4), on random patterns and URLs;
//! 2. signing then verifying always succeeds (URLs and cookies, canned and custom policies), and a
//!    one-byte mutation of a signed URL is accepted only when it provably leaves the signed
//!    material identical (see [`material`] for the exact list). `material` reads the signed
//!    material with the crate's own base64 decoding and canned-policy builder, so this part
//!    proves that the verdict follows the material, not how it is decoded: that is pinned by
//!    `the_allowed_mutations` and the unit tests of `base64cf` and `policy`;
//! 3. `strip_signing_params` removes exactly the five signing parameters and keeps the rest in
//!    order.

use gatehouse_signed::base64cf;
use gatehouse_signed::policy;
use gatehouse_signed::resource::{self, Url};
use gatehouse_signed::sign::{sign_cookies, sign_url, SignRequest};
use gatehouse_signed::verify::SIGNING_PARAMS;
use gatehouse_signed::*;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

mod common;

// ---------------------------------------------------------------------------------------------
// 1. The reference matcher
// ---------------------------------------------------------------------------------------------

/// One section of a Resource against the same section of the URL, by brute force: `*` is any run
/// of characters, `?` exactly one, anything else itself. `\?` is the path/query separator, which
/// never occurs inside a section, so it matches nothing here (a Resource has at most one query
/// section: a second `\?` can never match — resource.rs's choice, the docs only speak of one).
fn wild(p: &[u8], t: &[u8]) -> bool {
    match p {
        [] => t.is_empty(),
        [b'*', rest @ ..] => (0..=t.len()).any(|i| wild(rest, &t[i..])),
        [b'?', rest @ ..] => !t.is_empty() && wild(rest, &t[1..]),
        [b'\\', b'?', ..] => false,
        [c, rest @ ..] => t.first() == Some(c) && wild(rest, &t[1..]),
    }
}

/// Protocol and domain sections compare case-insensitively (resource.rs's choice: DNS names
/// are case-insensitive; `cloudfront.md` lists the case of the domain as UNCONFIRMED).
fn wild_ci(p: &str, t: &str) -> bool {
    wild(
        p.to_ascii_lowercase().as_bytes(),
        t.to_ascii_lowercase().as_bytes(),
    )
}

/// Path and query sections: case-sensitive, percent-encoding compared literally (§4b).
/// `query` is the query section of the pattern (`None`: the pattern has none).
fn path_query(path_pat: &str, query_pat: Option<&str>, url: &Url<'_>) -> bool {
    wild(path_pat.as_bytes(), url.path.as_bytes())
        && match (query_pat, url.query) {
            (None, None) => true,
            // A pattern without a query section does not cover a URL with a query.
            (None, Some(_)) => false,
            // A URL without a query string has an empty query section: the documented
            // equivalence `/hello*` ≡ `/hello*?*`, with `/hello*` covering `/hello` (and
            // `/*game_download.zip*` covering `…/game_download.zip`), means the query pattern
            // `*` covers a URL without a query.
            (Some(q), query) => wild(q.as_bytes(), query.unwrap_or("").as_bytes()),
        }
}

/// Whether `pattern` covers `url`, section by section (`cloudfront.md` §3.4).
fn reference(pattern: &str, url: &Url<'_>) -> bool {
    // `"Resource":"*"` matches any URL.
    if pattern == "*" {
        return true;
    }
    // `[protocol]://[domain]/[path]?[query]`. The protocol may be omitted: documented for a
    // Resource starting with `*` in the domain (`*example.com` ≡ `*://*example.com/`);
    // resource.rs (module doc) extends that to any Resource without a protocol. A `://` after
    // the first `/` is part of the path or query, not the protocol.
    let (proto, rest) = match pattern.find("://") {
        Some(i) if !pattern[..i].contains('/') => (&pattern[..i], &pattern[i + 3..]),
        _ => ("*", pattern),
    };
    if !wild_ci(proto, url.scheme) {
        return false;
    }
    let (domain, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    if !wild_ci(domain, url.host) {
        return false;
    }
    let Some(tail) = tail else {
        return if domain.ends_with('*') {
            // A trailing `*` in the domain implies `*/*?*`.
            path_query("/*", Some("*"), url)
        } else {
            // `*example.com` ≡ `*://*example.com/`: the root, no query.
            path_query("/", None, url)
        };
    };
    // Where the path ends and the query starts.
    let mut splits: Vec<(&str, Option<&str>)> = Vec::new();
    if let Some(i) = tail.find("\\?") {
        // The documented way: `\?` separates the path and the query.
        splits.push((&tail[..i], Some(&tail[i + 2..])));
    } else {
        // No `\?`: an unescaped `?` is the one-character wildcard, and it may also stand for
        // the separator (resource.rs's choice, module doc: AWS's signers put the plain URL,
        // `?` included, into custom policies). Try each `?` as the separator...
        for (i, c) in tail.char_indices() {
            if c == '?' {
                splits.push((&tail[..i], Some(&tail[i + 1..])));
            }
        }
        // ...and none. A trailing `*` in the path implies `?*` for the query.
        splits.push((tail, tail.ends_with('*').then_some("*")));
    }
    splits.iter().any(|&(p, q)| path_query(p, q, url))
}

#[derive(Debug, Clone)]
struct TestUrl {
    scheme: String,
    host: String,
    path: String,
    query: Option<String>,
}

impl TestUrl {
    fn url(&self) -> Url<'_> {
        Url {
            scheme: &self.scheme,
            host: &self.host,
            path: &self.path,
            query: self.query.as_deref(),
        }
    }

    fn text(&self) -> String {
        match &self.query {
            Some(q) => format!("{}://{}{}?{q}", self.scheme, self.host, self.path),
            None => format!("{}://{}{}", self.scheme, self.host, self.path),
        }
    }
}

fn chars(
    alphabet: &'static [u8],
    len: std::ops::Range<usize>,
) -> impl Strategy<Value = String> + Clone {
    proptest::collection::vec(select(alphabet), len).prop_map(|v| String::from_utf8(v).unwrap())
}

/// Small alphabets, so that random patterns and URLs often meet.
fn test_url() -> impl Strategy<Value = TestUrl> {
    (
        select(vec!["http", "https"]),
        chars(b"abAB.", 1..5),
        chars(b"ab./*%=:", 0..6),
        proptest::option::of(chars(b"ab./=&?*:", 0..6)),
    )
        .prop_map(|(scheme, host, path, query)| TestUrl {
            scheme: scheme.to_string(),
            host,
            path: format!("/{path}"),
            query,
        })
}

/// A pattern built section by section.
fn pattern_by_sections() -> impl Strategy<Value = String> {
    let scheme = select(vec![
        "", "", "http://", "https://", "*://", "h*://", "HTTP?://", "ht?p*://", "?://",
    ]);
    let domain = chars(b"abAB.*?", 0..5);
    let query = (chars(b"ab/=&*?:", 0..5), 0u8..8).prop_map(|(q, extra)| {
        // Now and then a second `\?` (never matches).
        if extra == 0 {
            format!("\\?{q}\\?a")
        } else {
            format!("\\?{q}")
        }
    });
    let tail = proptest::option::of(
        (chars(b"ab./*?=&:", 0..6), proptest::option::of(query))
            .prop_map(|(p, q)| format!("/{p}{}", q.unwrap_or_default())),
    );
    (scheme, domain, tail).prop_map(|(s, d, t)| format!("{s}{d}{}", t.unwrap_or_default()))
}

/// A pattern made from a URL by a few edits, so it often (not always) covers it.
fn pattern_from(url: &TestUrl) -> impl Strategy<Value = String> {
    let text = url.text();
    proptest::collection::vec((any::<Index>(), 0u8..8), 0..4).prop_map(move |edits| {
        let mut s = text.clone();
        for (at, kind) in edits {
            let i = at.index(s.len() + 1);
            match kind {
                0 | 1 if i < s.len() => s.replace_range(i..i + 1, "*"),
                2 if i < s.len() => s.replace_range(i..i + 1, "?"),
                3 => s.insert(i, '*'),
                4 => {
                    s.truncate(i);
                    s.push('*');
                }
                5 => {
                    if let Some(q) = s.find('?') {
                        s.replace_range(q..q + 1, "\\?");
                    }
                }
                6 => {
                    if let Some(e) = s.find("://") {
                        s.replace_range(..e + 3, "");
                    }
                }
                7 => s = s.to_ascii_uppercase(),
                _ => {}
            }
        }
        s
    })
}

/// Any string over the alphabet of patterns.
fn pattern_any() -> impl Strategy<Value = String> {
    chars(b"htps:/*?\\ab.=&", 0..16)
}

/// A URL, and a pattern: built from that URL or from a slightly different one, or random.
fn url_and_pattern() -> impl Strategy<Value = (TestUrl, String)> {
    (test_url(), test_url(), 0u8..4).prop_flat_map(|(u, other, mode)| {
        let pat = match mode {
            0 => pattern_from(&u).boxed(),
            1 => pattern_from(&other).boxed(),
            2 => pattern_by_sections().boxed(),
            _ => pattern_any().boxed(),
        };
        (Just(u), pat)
    })
}

#[test]
fn reference_follows_the_documented_examples() {
    let u = |s: &str| {
        let (scheme, host, path, query) = common::split(s).unwrap();
        TestUrl {
            scheme: scheme.into(),
            host: host.into(),
            path: path.into(),
            query: query.map(str::to_string),
        }
    };
    let yes = |p: &str, url: &str| assert!(reference(p, &u(url).url()), "{p} should cover {url}");
    let no =
        |p: &str, url: &str| assert!(!reference(p, &u(url).url()), "{p} should not cover {url}");
    let p = "https://www.example.com/hello*world";
    yes(p, "https://www.example.com/helloworld");
    yes(p, "https://www.example.com/hello-world");
    no(p, "https://www.example.net/hello?world");
    let g = "https://d111111abcdef8.cloudfront.net/*game_download.zip*";
    yes(g, "https://d111111abcdef8.cloudfront.net/game_download.zip");
    yes(
        g,
        "https://d111111abcdef8.cloudfront.net/example_game_download.zip?license=yes",
    );
    yes(
        g,
        "https://d111111abcdef8.cloudfront.net/test_game_download.zip?license=temp",
    );
    for url in [
        "http://example.com/hello",
        "http://example.com/hello/x?a=1",
        "http://example.com/helloworld?",
        "http://example.com/hell",
        "http://example.com/hello?",
    ] {
        assert_eq!(
            reference("http://example.com/hello*", &u(url).url()),
            reference("http://example.com/hello*\\?*", &u(url).url()),
            "{url}"
        );
    }
    for url in [
        "http://example.com/",
        "http://example.com.evil/a/b?c",
        "http://example.org/a",
        "https://example.com/a?b",
    ] {
        assert_eq!(
            reference("http://example.com*", &u(url).url()),
            reference("http://example.com*/*\\?*", &u(url).url()),
            "{url}"
        );
    }
    yes("*example.com", "https://www.example.com/");
    no("*example.com", "https://www.example.com/a");
    yes("*", "http://a/b?c");
    yes(
        "https://x.com/a.jpg\\?size=large&license=yes",
        "https://x.com/a.jpg?size=large&license=yes",
    );
    no("https://x.com/a.jpg\\?size=*", "https://x.com/a.jpg");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn matcher_agrees_with_the_documented_rules((url, pattern) in url_and_pattern()) {
        let u = url.url();
        prop_assert_eq!(
            resource::matches(&pattern, &u),
            reference(&pattern, &u),
            "pattern {:?} vs URL {}", pattern, url.text()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Sign, verify, mutate
// ---------------------------------------------------------------------------------------------

const KEY_ID: &str = "K2JCJMDEHXQW5F";
const NOW: u64 = 1_800_000_000;
const VIEWER: &str = "192.0.2.10";

struct Fixture {
    key: PrivateKey,
    trusted: TrustedKeys,
}

/// One RSA-2048 key, generated once by the openssl CLI (as tests/roundtrip.rs does).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (private, public) = common::keypair("rsa-pkcs8");
        Fixture {
            key: PrivateKey::from_pem(&private).unwrap(),
            trusted: common::trusted(KEY_ID, &public),
        }
    })
}

fn request<'a>(url: &'a str, cookies: Option<&'a str>) -> Option<Request<'a>> {
    let (scheme, host, path, query) = common::split(url)?;
    Some(Request {
        scheme,
        host,
        path,
        query,
        cookies,
        viewer_ip: VIEWER.parse().unwrap(),
        now: NOW,
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                if b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() {
                    out.push(v);
                    i += 3;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query without the signing parameters (`None` when nothing is left).
fn base_query(q: &str) -> Option<String> {
    let kept: Vec<&str> = q
        .split('&')
        .filter(|p| !SIGNING_PARAMS.contains(&p.split('=').next().unwrap()))
        .collect();
    Some(kept.join("&")).filter(|q| !q.is_empty())
}

/// What the signature of a signed URL covers.
#[derive(Debug, PartialEq, Eq)]
struct Material {
    key_id: String,
    hash: HashAlgorithm,
    /// The signature bytes.
    signature: Vec<u8>,
    /// The exact bytes signed: the decoded custom policy, or the canned policy rebuilt from the
    /// request URL (without the signing parameters) and `Expires`.
    message: Vec<u8>,
}

/// The signed material a (possibly mutated) signed URL presents, and the Resource of its custom
/// policy. Two URLs with equal material verify alike, except that a custom policy's Resource is
/// matched against each URL. So the one-byte mutations of a valid URL that must be accepted are
/// exactly those that leave the material equal (and, for custom policies, keep the URL inside
/// the Resource):
///
/// * in the `Signature` or `Policy` value, any change that decodes to the same bytes: the value
///   is percent-decoded first (`%7E` ↔ `%7e`, `%2D` → `%2B`); then read as CloudFront base64,
///   which also takes the standard alphabet (`-`↔`+`, `_`↔`=`, `~`↔`/`), tolerates missing
///   padding (a trailing `_` deleted) and ignores ASCII whitespace (one inserted);
/// * in `Expires`, a leading `+` or `0`: the value is read as a number and the canned policy is
///   rebuilt from the number, so the signed bytes are identical;
/// * a lone `&` added to a URL whose only parameters are the signing ones (`?&Expires=…`,
///   `…&Key-Pair-Id=K&`): without the signing parameters the query is empty, so the rebuilt
///   Resource has no `?`, as signed;
/// * with a custom policy, any change to scheme, host, path or the non-signing query that the
///   policy's Resource still covers (the URL itself is not signed; domains compare
///   case-insensitively).
///
/// Everything else (any other byte of the URL, parameter names, `Key-Pair-Id`,
/// `Hash-Algorithm`, the separators) changes the material and must be refused.
fn material(url: &str) -> Option<(Material, Option<String>)> {
    let (scheme, host, path, query) = common::split(url)?;
    let query = query?;
    let mut v: HashMap<&str, String> = HashMap::new();
    for pair in query.split('&') {
        let (k, val) = pair.split_once('=').unwrap_or((pair, ""));
        if SIGNING_PARAMS.contains(&k) {
            v.insert(k, percent_decode(val)); // the last one wins
        }
    }
    let key_id = v.get("Key-Pair-Id")?.clone();
    let hash = match v.get("Hash-Algorithm") {
        None => HashAlgorithm::Sha1,
        Some(h) => HashAlgorithm::parse(h)?,
    };
    let signature = base64cf::decode(v.get("Signature")?).filter(|s| !s.is_empty())?;
    let (message, resource) = if let Some(p) = v.get("Policy") {
        let bytes = base64cf::decode(p)?;
        let parsed = policy::parse(&bytes).ok()?;
        (bytes, parsed.resource)
    } else {
        let expires: u64 = v.get("Expires")?.parse().ok()?;
        let base = base_query(query);
        let url = match &base {
            Some(q) => format!("{scheme}://{host}{path}?{q}"),
            None => format!("{scheme}://{host}{path}"),
        };
        (policy::canned(&url, expires).into_bytes(), None)
    };
    Some((
        Material {
            key_id,
            hash,
            signature,
            message,
        },
        resource,
    ))
}

/// Whether the verifier must accept `mutated`, a variant of the valid `original`.
fn must_accept(original: &str, mutated: &str) -> bool {
    let (Some((m0, _)), Some((m1, resource))) = (material(original), material(mutated)) else {
        return false;
    };
    if m0 != m1 {
        return false;
    }
    let Some(r) = resource else {
        return true;
    };
    let (scheme, host, path, query) = common::split(mutated).unwrap();
    let base = query.and_then(base_query);
    reference(
        &r,
        &Url {
            scheme,
            host,
            path,
            query: base.as_deref(),
        },
    )
}

#[derive(Debug, Clone)]
enum PolicyKind {
    Canned,
    /// Custom because of DateGreaterThan and IpAddress; Resource = the URL itself.
    CustomSelf,
    /// Resource = the URL up to some byte, then `*`.
    CustomPrefix(Index),
    /// Resource = `*`.
    CustomAny,
    /// Resource = the URL with `\?` as the separator.
    CustomEscaped,
}

#[derive(Debug, Clone)]
struct Case {
    url: String,
    expires_in: u64,
    hash: HashAlgorithm,
    kind: PolicyKind,
    /// Percent-encode `-`, `_` and `~` in Signature and Policy (as some third-party signers do).
    percent: bool,
}

fn case() -> impl Strategy<Value = Case> {
    let host = chars(b"abcxyz019-", 1..8).prop_map(|h| format!("{h}.example.com"));
    let path = chars(b"abcXYZ019._~-/%*", 0..12);
    let pair = (chars(b"abcdefgh", 1..6), chars(b"abcXYZ09._~-/%*?", 0..6))
        .prop_map(|(k, v)| format!("{k}={v}"));
    let query = proptest::option::of(proptest::collection::vec(pair, 1..4));
    let kind = prop_oneof![
        3 => Just(PolicyKind::Canned),
        1 => Just(PolicyKind::CustomSelf),
        1 => any::<Index>().prop_map(PolicyKind::CustomPrefix),
        1 => Just(PolicyKind::CustomAny),
        1 => Just(PolicyKind::CustomEscaped),
    ];
    (
        select(vec!["http", "https"]),
        host,
        path,
        query,
        1u64..5_000_000,
        select(vec![HashAlgorithm::Sha1, HashAlgorithm::Sha256]),
        kind,
        any::<bool>(),
    )
        .prop_map(
            |(scheme, host, path, query, expires_in, hash, kind, percent)| {
                let mut url = format!("{scheme}://{host}/{path}");
                if let Some(q) = query {
                    url.push('?');
                    url.push_str(&q.join("&"));
                }
                Case {
                    url,
                    expires_in,
                    hash,
                    kind,
                    percent,
                }
            },
        )
}

impl Case {
    fn resource(&self) -> Option<String> {
        match &self.kind {
            PolicyKind::Canned | PolicyKind::CustomSelf => None,
            PolicyKind::CustomPrefix(i) => {
                // Cut after `scheme://`: a Resource without `://` is read as a bare domain.
                let from = self.url.find("://").unwrap() + 3;
                let mut r = self.url[..from + i.index(self.url.len() - from + 1)].to_string();
                r.push('*');
                Some(r)
            }
            PolicyKind::CustomAny => Some("*".into()),
            PolicyKind::CustomEscaped => Some(self.url.replacen('?', "\\?", 1)),
        }
    }
}

/// The signed URL, with `-_~` percent-encoded in Signature and Policy when asked.
fn signed_url(c: &Case) -> String {
    let resource = c.resource();
    let custom = !matches!(c.kind, PolicyKind::Canned);
    let req = SignRequest {
        url: &c.url,
        key_pair_id: KEY_ID,
        date_less_than: NOW + c.expires_in,
        date_greater_than: custom.then_some(NOW - 3600),
        ip_address: custom.then_some("192.0.2.0/24"),
        policy_resource: resource.as_deref(),
        hash: c.hash,
    };
    let url = sign_url(&req, &fixture().key).unwrap();
    if !c.percent {
        return url;
    }
    let (base, query) = url.split_once('?').unwrap();
    let query: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k @ ("Signature" | "Policy"), v)) => format!(
                "{k}={}",
                v.replace('-', "%2D")
                    .replace('_', "%5f")
                    .replace('~', "%7E")
            ),
            _ => p.to_string(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

#[derive(Debug, Clone)]
enum Op {
    Replace(u8),
    Insert(u8),
    Delete,
}

#[derive(Debug, Clone)]
struct Mutation {
    /// `None`: anywhere in the URL; `Some(name)`: inside that parameter's value.
    within: Option<&'static str>,
    at: Index,
    op: Op,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![
        2 => 0u8..128,
        3 => select(b"-_~+=/ \t%&?#0+AaEeFf27".to_vec()),
    ];
    let op = prop_oneof![
        byte.clone().prop_map(Op::Replace),
        byte.prop_map(Op::Insert),
        Just(Op::Delete),
    ];
    let within = prop_oneof![
        2 => Just(None),
        1 => select(vec!["Signature", "Policy", "Expires", "Key-Pair-Id", "Hash-Algorithm"]).prop_map(Some),
    ];
    (within, any::<Index>(), op).prop_map(|(within, at, op)| Mutation { within, at, op })
}

/// Applies `m` to `url` (ASCII, so every byte offset is a char boundary). `None` when the
/// mutation targets a parameter the URL does not have.
fn mutate(url: &str, m: &Mutation) -> Option<String> {
    let (start, end) = match m.within {
        None => (0, url.len()),
        Some(name) => {
            let q = url.find('?')? + 1;
            let mut pos = q;
            let mut span = None;
            for pair in url[q..].split('&') {
                if let Some(v) = pair.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                    let vs = pos + pair.len() - v.len();
                    span = Some((vs, vs + v.len()));
                }
                pos += pair.len() + 1;
            }
            span?
        }
    };
    let mut b = url.as_bytes().to_vec();
    match m.op {
        Op::Insert(c) => b.insert(start + m.at.index(end - start + 1), c),
        Op::Replace(c) if end > start => b[start + m.at.index(end - start)] = c,
        Op::Delete if end > start => {
            b.remove(start + m.at.index(end - start));
        }
        _ => return None,
    }
    Some(String::from_utf8(b).unwrap())
}

fn check(url: &str, cache: &VerifyCache) -> Result<verify::Verified, String> {
    let req = request(url, None).ok_or_else(|| "not a URL".to_string())?;
    verify(&req, &fixture().trusted, cache).map_err(|f| f.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn signed_urls_verify_and_mutations_are_refused(
        c in case(),
        mutations in proptest::collection::vec(mutation(), 1..10),
    ) {
        let url = signed_url(&c);
        let warm = VerifyCache::default();
        let ok = check(&url, &warm);
        prop_assert!(ok.is_ok(), "{url}: {ok:?}");
        prop_assert!(must_accept(&url, &url), "oracle refuses the original {url}");
        // Warm: the second time from the cache.
        prop_assert_eq!(check(&url, &warm).unwrap().cached, Cached::Request);

        // The same as signed cookies, on the unsigned URL.
        let resource = c.resource();
        let custom = !matches!(c.kind, PolicyKind::Canned);
        let req = SignRequest {
            url: resource.as_deref().unwrap_or(&c.url),
            key_pair_id: KEY_ID,
            date_less_than: NOW + c.expires_in,
            date_greater_than: custom.then_some(NOW - 3600),
            ip_address: custom.then_some("192.0.2.0/24"),
            policy_resource: None,
            hash: c.hash,
        };
        let cookies = sign_cookies(&req, &fixture().key).unwrap();
        let header: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let header = header.join("; ");
        let r = request(&c.url, Some(&header)).unwrap();
        let v = verify(&r, &fixture().trusted, &VerifyCache::default());
        prop_assert!(v.is_ok(), "cookies {header} on {}: {v:?}", c.url);

        for m in &mutations {
            let Some(bad) = mutate(&url, m) else { continue };
            let expected = must_accept(&url, &bad);
            let cold = check(&bad, &VerifyCache::default());
            prop_assert_eq!(
                cold.is_ok(), expected,
                "mutation {:?}\n  original {}\n  mutated  {}\n  verifier: {:?}", m, url, bad, cold
            );
            // The cache never accepts what the full check refuses.
            let cached = check(&bad, &warm);
            prop_assert_eq!(cached.is_ok(), expected, "warm cache, mutated {}: {:?}", bad, cached);
        }
    }
}

/// Each allowed mutation class of [`material`], once, and near misses that must fail.
#[test]
fn the_allowed_mutations() {
    let c = Case {
        url: "https://h.example.com/a.jpg".into(),
        expires_in: 1000,
        hash: HashAlgorithm::Sha1,
        kind: PolicyKind::Canned,
        percent: false,
    };
    let url = signed_url(&c);
    let accepted = |u: &str| check(u, &VerifyCache::default()).is_ok();
    assert!(accepted(&url));
    let (head, sig_and_rest) = url.split_once("&Signature=").unwrap();
    let (sig, rest) = sig_and_rest.split_once('&').unwrap();
    let with_sig = |s: &str| format!("{head}&Signature={s}&{rest}");
    // RSA-2048: 256 bytes = 342 base64 characters and `__`.
    assert!(sig.ends_with("__"));
    assert!(accepted(&with_sig(&sig[..sig.len() - 1])));
    assert!(accepted(&with_sig(&sig.replace('_', "="))));
    assert!(accepted(&with_sig(&format!(" {sig}"))));
    assert!(!accepted(&with_sig(&format!("{sig}_"))));
    assert!(!accepted(&with_sig(&sig[1..])));
    if let Some(i) = sig.find(['-', '~']) {
        let swapped = if &sig[i..=i] == "-" { "+" } else { "/" };
        let mut s = sig.to_string();
        s.replace_range(i..=i, swapped);
        assert!(accepted(&with_sig(&s)));
    }
    let expires = format!("Expires={}", NOW + 1000);
    assert!(accepted(
        &url.replace(&expires, &format!("Expires=+{}", NOW + 1000))
    ));
    assert!(accepted(
        &url.replace(&expires, &format!("Expires=0{}", NOW + 1000))
    ));
    assert!(!accepted(
        &url.replace(&expires, &format!("Expires={}", NOW + 1001))
    ));
    assert!(accepted(&format!("{url}&")));
    assert!(accepted(&url.replace("a.jpg?", "a.jpg?&")));
    assert!(!accepted(&url.replace("a.jpg", "A.jpg")));
    assert!(!accepted(&url.replace("h.example", "H.example")));
    assert!(!accepted(&format!("{url}&x")));
}

// ---------------------------------------------------------------------------------------------
// 3. strip_signing_params
// ---------------------------------------------------------------------------------------------

fn param() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        select(vec![
            "Expires",
            "Policy",
            "Signature",
            "Key-Pair-Id",
            "Hash-Algorithm",
            "expires",
            "Expires2",
            "Key-Pair-ID",
            "XSignature",
            "policy",
            "",
        ])
        .prop_map(String::from),
        chars(b"abcEPSKH-y", 0..8),
    ];
    (name, proptest::option::of(chars(b"abc=%-_~?/", 0..6))).prop_map(|(n, v)| match v {
        Some(v) => format!("{n}={v}"),
        None => n,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn strip_removes_exactly_the_signing_params(
        pairs in proptest::collection::vec(param(), 0..8),
    ) {
        let query = pairs.join("&");
        let kept: Vec<&str> = pairs
            .iter()
            .map(String::as_str)
            .filter(|p| {
                let name = p.split_once('=').map_or(*p, |(n, _)| n);
                !["Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"].contains(&name)
            })
            .collect();
        let stripped = strip_signing_params(&query);
        if pairs.is_empty() {
            prop_assert_eq!(&*stripped, "");
        } else {
            prop_assert_eq!(&*stripped, kept.join("&"));
        }
        if kept.len() == pairs.len() {
            prop_assert!(matches!(stripped, Cow::Borrowed(_)));
        }
    }
}
