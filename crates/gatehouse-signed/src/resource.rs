//! Matching a custom policy's `Resource` against the request URL (`cloudfront.md` §3.4).
//!
//! The URL is in four sections, `protocol://domain/path?query`; `*` (zero or more) and `?`
//! (exactly one) match only inside their own section. Exceptions, as documented: `"*"` matches
//! any URL; a trailing `*` in the path also matches any query (`/hello*` ≡ `/hello*?*`); a
//! trailing `*` in the domain matches everything after it (`example.com*` ≡ `example.com*/*?*`);
//! a Resource without `://` has any protocol. The separator before the query is written `\?` in
//! a policy; an unescaped `?` is the one-character wildcard, and it may also stand for that
//! separator (AWS's signers put the plain URL, `?` included, into custom policies).
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

/// Glob over `text` where `sep` (if any) is the index of the path/query separator: `*` may not
/// cross it unless `free_tail` (a trailing `*` with no explicit query section).
fn glob(p: &[Tok], text: &[u8], sep: Option<usize>, free_tail: bool) -> bool {
    fn go(p: &[Tok], t: &[u8], pos: usize, sep: Option<usize>, free_tail: bool) -> bool {
        let (mut pi, mut ti) = (0usize, pos);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            let at_sep = Some(ti) == sep;
            let ok = match p.get(pi) {
                Some(Tok::Lit(c)) => !at_sep && *c == t[ti],
                Some(Tok::One) => true,
                Some(Tok::Sep) => at_sep,
                _ => false,
            };
            if ok {
                pi += 1;
                ti += 1;
            } else if p.get(pi) == Some(&Tok::Many) {
                star = Some((pi, ti));
                pi += 1;
            } else if let Some((sp, st)) = star {
                let last = sp + 1 == p.len();
                if Some(st) == sep && !(last && free_tail) {
                    return false;
                }
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == Tok::Many)
    }
    go(p, text, 0, sep, free_tail)
}

/// Case-insensitive glob for the protocol and domain sections.
fn glob_ci(pattern: &str, text: &str) -> bool {
    let p = tokens(&pattern.to_ascii_lowercase());
    glob(&p, text.to_ascii_lowercase().as_bytes(), None, false)
}

/// Whether `resource` (a custom policy's Resource) covers `url`.
pub fn matches(resource: &str, url: &Url<'_>) -> bool {
    if resource == "*" {
        return true;
    }
    let (scheme_pat, rest) = match resource.split_once("://") {
        Some((s, r)) => (s, r),
        None => ("*", resource),
    };
    if !glob_ci(scheme_pat, url.scheme) {
        return false;
    }
    let (domain_pat, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let Some(tail) = tail else {
        // `example.com*` covers everything below; a bare domain covers its root only.
        if domain_pat.ends_with('*') {
            let host_and_rest = format!(
                "{}{}{}{}",
                url.host,
                url.path,
                if url.query.is_some() { "?" } else { "" },
                url.query.unwrap_or("")
            );
            return glob_ci(domain_pat, &host_and_rest);
        }
        return glob_ci(domain_pat, url.host) && url.path == "/" && url.query.is_none();
    };
    if !glob_ci(domain_pat, url.host) {
        return false;
    }
    let p = tokens(tail);
    let explicit_query = p.contains(&Tok::Sep);
    let free_tail = !explicit_query && p.last() == Some(&Tok::Many);
    match url.query {
        None => glob(&p, url.path.as_bytes(), None, false),
        Some(q) => {
            let mut text = Vec::with_capacity(url.path.len() + 1 + q.len());
            text.extend_from_slice(url.path.as_bytes());
            let sep = text.len();
            text.push(b'?');
            text.extend_from_slice(q.as_bytes());
            glob(&p, &text, Some(sep), free_tail)
        }
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
}
