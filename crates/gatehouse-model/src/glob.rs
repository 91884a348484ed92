//! CloudFront's two-wildcard glob: `*` matches zero or more bytes (including `/`), `?`
//! exactly one. Used by path patterns, cookie whitelists and signed-URL resources.

/// Whether `text` matches `pattern` (case-sensitive, byte-wise, linear backtracking).
pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn documented_examples() {
        assert!(matches(b"/images/*.jpg", b"/images/product1/x.jpg"));
        assert!(matches(b"*.doc*", b"/a.doc"));
        assert!(matches(b"*.doc*", b"/a.docx"));
        assert!(!matches(b"*.doc?", b"/a.doc"));
        assert!(!matches(b"*.jpg", b"/LOGO.JPG"));
        assert!(matches(b"*", b""));
        assert!(matches(b"a*b*c", b"aXXbYYc"));
        assert!(!matches(b"a*b*c", b"aXXbYY"));
    }
}
