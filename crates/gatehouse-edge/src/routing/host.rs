//! Host → distribution, as CloudFront routes (`cloudfront.md` §6).
//!
//! Host is compared case-insensitively with its port removed: an exact alias first, then a
//! distribution's default domain, then wildcard aliases from the most specific suffix to the
//! least. `*.example.com` matches one or more labels in front of `example.com` but never the
//! apex itself.

use std::collections::HashMap;

/// The routing table built from all distributions.
#[derive(Debug, Default)]
pub struct HostRouter {
    exact: HashMap<Box<str>, usize>,
    wildcard: HashMap<Box<str>, usize>,
}

impl HostRouter {
    /// Builds the table from `(distribution index, default domain, aliases)`.
    pub fn new<'a>(dists: impl IntoIterator<Item = (usize, &'a str, &'a [String])>) -> Self {
        let mut r = HostRouter::default();
        for (i, domain, aliases) in dists {
            r.exact.insert(domain.to_ascii_lowercase().into(), i);
            for a in aliases {
                let a = a.to_ascii_lowercase();
                match a.strip_prefix("*.") {
                    Some(suffix) => r.wildcard.insert(suffix.into(), i),
                    None => r.exact.insert(a.into(), i),
                };
            }
        }
        r
    }

    /// The distribution serving `host` (already lower-case, without port).
    pub fn route(&self, host: &str) -> Option<usize> {
        if let Some(&i) = self.exact.get(host) {
            return Some(i);
        }
        if self.wildcard.is_empty() {
            return None;
        }
        // Longest suffix first: the suffix after the first dot, then after the second…
        let mut rest = host;
        while let Some(dot) = rest.find('.') {
            rest = &rest[dot + 1..];
            if let Some(&i) = self.wildcard.get(rest) {
                return Some(i);
            }
        }
        None
    }
}

/// Normalises a Host header value: strips the port (and IPv6 brackets) and lower-cases it.
/// Returns `None` for an empty or malformed host.
pub fn normalize_host(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    let host = if let Some(rest) = raw.strip_prefix('[') {
        let end = rest.find(']')?;
        &rest[..end]
    } else {
        match raw.rfind(':') {
            Some(i) if raw[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &raw[..i],
            Some(_) => return None,
            None => raw,
        }
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b':' || b == b'_')
    {
        return None;
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Some(std::borrow::Cow::Owned(host.to_ascii_lowercase()))
    } else {
        Some(std::borrow::Cow::Borrowed(host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> HostRouter {
        let a = vec!["www.example.com".to_string(), "*.example.com".to_string()];
        let b = vec![
            "marketing.example.com".to_string(),
            "*.product.example.com".to_string(),
        ];
        HostRouter::new([
            (0, "e1.cloudfront.net", a.as_slice()),
            (1, "e2.cloudfront.net", b.as_slice()),
        ])
    }

    #[test]
    fn exact_wildcard_and_specificity() {
        let r = router();
        assert_eq!(r.route("www.example.com"), Some(0));
        assert_eq!(r.route("shop.example.com"), Some(0));
        assert_eq!(r.route("a.b.example.com"), Some(0));
        assert_eq!(r.route("marketing.example.com"), Some(1));
        assert_eq!(r.route("x.product.example.com"), Some(1));
        assert_eq!(r.route("product.example.com"), Some(0));
        assert_eq!(r.route("example.com"), None);
        assert_eq!(r.route("e2.cloudfront.net"), Some(1));
        assert_eq!(r.route("other.org"), None);
    }

    #[test]
    fn host_normalisation() {
        assert_eq!(
            normalize_host("WWW.Example.com:8080").unwrap(),
            "www.example.com"
        );
        assert_eq!(normalize_host("[::1]:80").unwrap(), "::1");
        assert_eq!(normalize_host("a.example.com.").unwrap(), "a.example.com");
        assert!(normalize_host("").is_none());
        assert!(normalize_host("bad host").is_none());
        assert!(normalize_host("a:b").is_none());
    }
}
