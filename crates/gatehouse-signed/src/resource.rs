//! Matching a custom policy's `Resource` against the request URL (`cloudfront.md` §3.4).
//!
//! The URL is in four sections, `protocol://domain/path?query`; `*` (zero or more) and `?`
//! (exactly one) match only inside their own section. Exceptions, as documented: `"*"` matches
//! any URL; a trailing `*` in the path also matches any query (`/hello*` ≡ `/hello*?*`); a
//! trailing `*` in the domain matches everything after it (`example.com*` ≡ `example.com*/*?*`);
//! a Resource without `://` (before its first `/`) has any protocol. The separator before the
//! query is written `\?` in a policy; an unescaped `?` is the one-character wildcard, and it may
//! also stand for that separator (AWS's signers put the plain URL, `?` included, into custom
//! policies). A URL without a query string has an empty query section, so `/hello*\?*` covers
//! `/hello` as `/hello*` does (the documented equivalence). Protocol and domain compare
//! case-insensitively, path and query exactly.
//!
//! The request URL is compared as received: percent-encoding kept, `+` not decoded.

/// The request URL in sections.
#[derive(Debug, Clone, Copy)]
pub struct Url<'a> {
    /// `http` or `https`.
    pub scheme: &'a str,
    /// The Host the viewer sent.
    pub host: &'a str,
    /// Path, starting with `/`.
    pub path: &'a str,
    /// Query without `?` (signing parameters removed), if any.
    pub query: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    One,
    Many,
    Sep,
}

fn tokens(pattern: &str) -> Vec<Tok> {
    let b = pattern.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if b.get(i + 1) == Some(&b'?') => {
                out.push(Tok::Sep);
                i += 2;
                continue;
            }
            b'*' => out.push(Tok::Many),
            b'?' => out.push(Tok::One),
            c => out.push(Tok::Lit(c)),
        }
        i += 1;
    }
    out
}

/// Makes every position after a reachable `*` reachable too (`*` may match nothing).
fn close(p: &[Tok], states: &mut [bool]) {
    for i in 0..p.len() {
        if states[i] && p[i] == Tok::Many {
            states[i + 1] = true;
        }
    }
}

/// Runs the pattern as an automaton over `text`, one section of the URL: from the pattern
/// positions in `states` to those reachable after all of `text`. `*` and `?` stay inside the
/// section; `\?` (the separator) matches nothing in it. O(pattern × text), no backtracking.
fn run(p: &[Tok], states: &mut Vec<bool>, text: &[u8]) {
    close(p, states);
    let mut next = vec![false; p.len() + 1];
    for &c in text {
        next.fill(false);
        for i in 0..p.len() {
            if !states[i] {
                continue;
            }
            match p[i] {
                Tok::Lit(l) if l == c => next[i + 1] = true,
                Tok::One => next[i + 1] = true,
                Tok::Many => next[i] = true,
                _ => {}
            }
        }
        close(p, &mut next);
        std::mem::swap(states, &mut next);
        if !states.contains(&true) {
            return;
        }
    }
}

fn start(p: &[Tok]) -> Vec<bool> {
    let mut s = vec![false; p.len() + 1];
    s[0] = true;
    s
}

/// Case-insensitive glob for the protocol and domain sections.
fn glob_ci(pattern: &str, text: &str) -> bool {
    let p = tokens(&pattern.to_ascii_lowercase());
    let mut s = start(&p);
    run(&p, &mut s, text.to_ascii_lowercase().as_bytes());
    s[p.len()]
}

/// The path and query sections: `p` covers the path, then either ends (no query section), or
/// goes on with a separator — `\?`, or a `?` standing for it — and covers the query. A URL
/// without a query has an empty query section. A trailing `*` without an explicit `\?` covers
/// any query (`/hello*` ≡ `/hello*?*`).
fn glob_path_query(p: &[Tok], path: &[u8], query: Option<&[u8]>) -> bool {
    let n = p.len();
    let mut s = start(p);
    run(p, &mut s, path);
    if s[n] && (query.is_none() || (p.last() == Some(&Tok::Many) && !p.contains(&Tok::Sep))) {
        return true;
    }
    let mut q = vec![false; n + 1];
    let mut any = false;
    for i in 0..n {
        if s[i] && matches!(p[i], Tok::Sep | Tok::One) {
            q[i + 1] = true;
            any = true;
        }
    }
    if !any {
        return false;
    }
    run(p, &mut q, query.unwrap_or(b""));
    q[n]
}

/// Whether `resource` (a custom policy's Resource) covers `url`.
pub fn matches(resource: &str, url: &Url<'_>) -> bool {
    if resource == "*" {
        return true;
    }
    // `://` after the first `/` belongs to the path or query of a Resource without protocol.
    let (scheme_pat, rest) = match resource.find("://") {
        Some(i) if !resource[..i].contains('/') => (&resource[..i], &resource[i + 3..]),
        _ => ("*", resource),
    };
    if !glob_ci(scheme_pat, url.scheme) {
        return false;
    }
    let (domain_pat, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    if !glob_ci(domain_pat, url.host) {
        return false;
    }
    match tail {
        // `example.com*` ≡ `example.com*/*?*`: everything below the domain.
        None if domain_pat.ends_with('*') => true,
        // A bare domain is its root.
        None => url.path == "/" && url.query.is_none(),
        Some(tail) => glob_path_query(
            &tokens(tail),
            url.path.as_bytes(),
            url.query.map(str::as_bytes),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &'static str) -> Url<'static> {
        let (scheme, rest) = s.split_once("://").unwrap();
        let i = rest.find('/').unwrap();
        let (host, pq) = rest.split_at(i);
        let (path, query) = match pq.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (pq, None),
        };
        Url {
            scheme,
            host,
            path,
            query,
        }
    }

    #[test]
    fn documented_examples() {
        let p = "https://www.example.com/hello*world";
        assert!(matches(p, &url("https://www.example.com/helloworld")));
        assert!(matches(p, &url("https://www.example.com/hello-world")));
        assert!(!matches(p, &url("https://www.example.net/hello?world")));
        assert!(!matches(p, &url("https://www.example.com/hello?world")));
        let g = "https://d111111abcdef8.cloudfront.net/*game_download.zip*";
        assert!(matches(
            g,
            &url("https://d111111abcdef8.cloudfront.net/game_download.zip")
        ));
        assert!(matches(
            g,
            &url("https://d111111abcdef8.cloudfront.net/example_game_download.zip?license=yes")
        ));
        assert!(matches(
            g,
            &url("https://d111111abcdef8.cloudfront.net/test_game_download.zip?license=temp")
        ));
        assert!(matches(
            "http://example.com/hello*",
            &url("http://example.com/hello/x?a=1")
        ));
        assert!(matches(
            "http://example.com*",
            &url("http://example.com/a/b?c=d")
        ));
        assert!(matches("*example.com/*", &url("https://www.example.com/a")));
        assert!(matches("*", &url("https://any.host/any?thing")));
        assert!(matches(
            "https://x.com/a.jpg\\?size=*",
            &url("https://x.com/a.jpg?size=large")
        ));
        assert!(!matches(
            "https://x.com/a.jpg\\?size=*",
            &url("https://x.com/a.jpg")
        ));
        // AWS signers put the plain URL in the policy: `?` stands for the separator.
        assert!(matches(
            "https://x.com/a.jpg?size=large",
            &url("https://x.com/a.jpg?size=large")
        ));
        assert!(!matches(
            "https://x.com/a.jpg",
            &url("https://x.com/a.jpg?size=large")
        ));
        assert!(!matches("https://x.com/a*", &url("http://x.com/a")));
        assert!(matches("*://x.com/a*", &url("http://x.com/a")));
        // encoded form compared literally
        assert!(!matches("https://x.com/a b", &url("https://x.com/a%20b")));
    }

    /// Found by tests/properties.rs against a matcher written from the documented rules.
    #[test]
    fn wildcards_stay_in_their_section() {
        // A trailing `*` in the domain: the domain's own wildcards stop at the domain.
        assert!(!matches("http://a?*", &url("http://a/")));
        assert!(!matches("http://a*b*", &url("http://ac/b")));
        assert!(matches("http://a*b*", &url("http://acb/x?y")));
        // A `*` before the separator, then another `*` in the query.
        assert!(matches("http://h/*?*x", &url("http://h/ab?cx")));
        assert!(matches("http://h/a*?b*c", &url("http://h/axx?bzzc")));
        // No protocol, `://` in the query.
        assert!(matches(
            "h.com/r\\?u=http://x",
            &url("http://h.com/r?u=http://x")
        ));
        // `/hello*` ≡ `/hello*?*`, with or without a query.
        assert!(matches("http://h/hello*\\?*", &url("http://h/hello")));
        assert!(matches("http://h/hello*?*", &url("http://h/hello")));
        assert!(matches("http://h/hello*\\?*", &url("http://h/hello?a")));
        assert!(!matches("http://h/hello\\?a*", &url("http://h/hello")));
    }
}
