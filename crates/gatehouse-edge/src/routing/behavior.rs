//! Path → cache behaviour: `PathPattern`s in order, first match wins, else the default
//! (`cloudfront.md` §7.4). Patterns are case-sensitive, `*` crosses `/`, `?` is one byte, and
//! the leading `/` is optional (`images/*` ≡ `/images/*`).

use gatehouse_model::glob;

/// A compiled path pattern.
#[derive(Debug, Clone)]
pub struct PathPattern {
    /// The pattern as configured.
    pub source: String,
    normalized: Box<[u8]>,
    /// Literal bytes before the first wildcard, checked first.
    prefix_len: usize,
}

impl PathPattern {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Self {
        let normalized: Box<[u8]> = if pattern.starts_with('/') || pattern.starts_with('*') {
            pattern.as_bytes().into()
        } else {
            let mut v = Vec::with_capacity(pattern.len() + 1);
            v.push(b'/');
            v.extend_from_slice(pattern.as_bytes());
            v.into()
        };
        let prefix_len = normalized
            .iter()
            .position(|&b| b == b'*' || b == b'?')
            .unwrap_or(normalized.len());
        PathPattern {
            source: pattern.to_string(),
            normalized,
            prefix_len,
        }
    }

    /// Whether `path` (starting with `/`, no query) matches.
    pub fn matches(&self, path: &str) -> bool {
        let p = path.as_bytes();
        p.starts_with(&self.normalized[..self.prefix_len])
            && glob::matches(&self.normalized[self.prefix_len..], &p[self.prefix_len..])
    }
}

/// Picks the first behaviour whose pattern matches; `None` means the default behaviour.
pub fn select(patterns: &[PathPattern], path: &str) -> Option<usize> {
    patterns.iter().position(|p| p.matches(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_rules() {
        let p = PathPattern::new("images/*.jpg");
        assert!(p.matches("/images/product1/x.jpg"));
        assert!(!p.matches("/images/LOGO.JPG"));
        let q = PathPattern::new("/api/v?/*");
        assert!(q.matches("/api/v1/users"));
        assert!(!q.matches("/api/v10/users"));
        let all = [PathPattern::new("/a/*"), PathPattern::new("/a/b/*")];
        assert_eq!(select(&all, "/a/b/c"), Some(0));
        assert_eq!(select(&all, "/z"), None);
        assert!(PathPattern::new("*.doc*").matches("/x.docx"));
    }
}
