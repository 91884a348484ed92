//! The URL-encoding of standard log values (`cloudfront.md` §2.1): bytes 0–32, 127–255 and
//! `< > " # % { } | \ ^ ~ [ ] ` ' ` are written as `%XX`; everything else as is.

/// Which bytes are escaped, as a table: one load a byte (values under 16 bytes, and targets
/// without SSE2; longer values go through [`each_escape`]'s SSE2 path).
static ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b <= 32
            || b >= 127
            || matches!(
                b,
                b'<' | b'>'
                    | b'"'
                    | b'#'
                    | b'%'
                    | b'{'
                    | b'}'
                    | b'|'
                    | b'\\'
                    | b'^'
                    | b'~'
                    | b'['
                    | b']'
                    | b'`'
                    | b'\''
            );
        i += 1;
    }
    t
};

/// Whether `b` must be escaped.
#[inline]
pub fn needs_escape(b: u8) -> bool {
    ESCAPE[b as usize]
}

/// Appends `s` to `out`. Up to 16 bytes are copied with two fixed-size (possibly
/// overlapping) moves instead of a call to `memcpy`: most pieces of a log line (values, JSON
/// names, the runs between escapes) are that short, and there the call costs more than the
/// copy (a tenth of the formatting time of a line, measured with callgrind).
#[inline(always)]
pub(crate) fn put(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n > 16 {
        out.extend_from_slice(s);
        return;
    }
    out.reserve(16);
    let len = out.len();
    let src = s.as_ptr();
    // SAFETY: `reserve(16)` leaves at least 16 writable bytes after `len`, and every write
    // below stays within `len..len + n` (n ≤ 16) while every read stays within `s`. The
    // copies cover all of `0..n` (for 8 ≤ n ≤ 16, `0..8` and `n-8..n`; for 4 ≤ n < 8, `0..4`
    // and `n-4..n`; below 4, bytes 0, n/2 and n-1), so `len + n` bytes are initialised.
    unsafe {
        let dst = out.as_mut_ptr().add(len);
        if n >= 8 {
            std::ptr::copy_nonoverlapping(src, dst, 8);
            std::ptr::copy_nonoverlapping(src.add(n - 8), dst.add(n - 8), 8);
        } else if n >= 4 {
            std::ptr::copy_nonoverlapping(src, dst, 4);
            std::ptr::copy_nonoverlapping(src.add(n - 4), dst.add(n - 4), 4);
        } else if n > 0 {
            *dst = *src;
            *dst.add(n / 2) = *src.add(n / 2);
            *dst.add(n - 1) = *src.add(n - 1);
        }
        out.set_len(len + n);
    }
}

/// Appends `raw`, escaped, to `out`; an empty value is written as `-`, and a value that is
/// itself `-` as `%2D` (so that it reads back as `-`, not as "no value").
pub fn push_field(out: &mut Vec<u8>, raw: &[u8]) {
    if raw.is_empty() {
        out.push(b'-');
        return;
    }
    if raw == b"-" {
        out.extend_from_slice(b"%2D");
        return;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(raw.len() * 3);
    // Runs of bytes that need no escape, each copied at once.
    let mut done = 0;
    each_escape(raw, |i| {
        put(out, &raw[done..i]);
        let b = raw[i];
        put(out, &[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        done = i + 1;
    });
    put(out, &raw[done..]);
}

/// Calls `f` with the index of every byte of `s` that must be escaped, in order.
///
/// Values of 16 bytes and more (User-Agent, Referer, query, request id) are classified 16
/// bytes at a time with SSE2 where the build enables it (every x86_64 target but the
/// bare-metal ones); shorter values, and other targets, use [`ESCAPE`].
#[inline]
fn each_escape(s: &[u8], mut f: impl FnMut(usize)) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if s.len() >= 16 {
        let mut start = 0;
        while start + 16 <= s.len() {
            let mut mask = sse2::escapes(&s[start..start + 16]);
            while mask != 0 {
                f(start + mask.trailing_zeros() as usize);
                mask &= mask - 1;
            }
            start += 16;
        }
        if start < s.len() {
            // The last 16 bytes, without the ones already seen.
            let last = s.len() - 16;
            let mut mask = sse2::escapes(&s[last..]) >> (start - last);
            while mask != 0 {
                f(start + mask.trailing_zeros() as usize);
                mask &= mask - 1;
            }
        }
        return;
    }
    for (i, &b) in s.iter().enumerate() {
        if needs_escape(b) {
            f(i);
        }
    }
}

/// [`ESCAPE`] for 16 bytes at once.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_loadu_si128,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };

    /// Bit `i` set when byte `i` of `chunk` (16 bytes) must be escaped.
    #[inline]
    pub(super) fn escapes(chunk: &[u8]) -> u32 {
        let chunk: &[u8; 16] = chunk.try_into().expect("16 bytes");
        // SAFETY: this module is only built with SSE2 enabled (its `cfg`), so the intrinsics
        // exist on every processor the build runs on; the load reads the 16 bytes of `chunk`
        // (unaligned).
        unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            let eq = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
            // With `|` set, a pair of bytes differing in that bit looks like the larger one.
            let eq_or = |or: u8, b: u8| {
                _mm_cmpeq_epi8(
                    _mm_or_si128(v, _mm_set1_epi8(or as i8)),
                    _mm_set1_epi8(b as i8),
                )
            };
            // Compared as signed bytes, 128-255 are negative: below 0x21 with 0-32, and not
            // above 0x7a, so 0x7b-0x7f (`{ | } ~` DEL) is one comparison.
            let controls = _mm_cmplt_epi8(v, _mm_set1_epi8(0x21));
            let braces = _mm_cmpgt_epi8(v, _mm_set1_epi8(0x7a));
            // `[ \ ] ^`: 0x5b-0x5e.
            let brackets = _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8(0x5a)),
                _mm_cmplt_epi8(v, _mm_set1_epi8(0x5f)),
            );
            let punct = _mm_or_si128(
                _mm_or_si128(eq_or(1, b'#'), eq_or(2, b'\'')), // `" #`, `% '`
                _mm_or_si128(eq_or(2, b'>'), eq(b'`')),        // `< >`, backquote
            );
            let all = _mm_or_si128(
                _mm_or_si128(controls, braces),
                _mm_or_si128(brackets, punct),
            );
            _mm_movemask_epi8(all) as u32
        }
    }
}

/// Decodes `%XX` escapes (lenient: a `%` not followed by two hex digits stays).
pub fn decode(s: &str) -> std::borrow::Cow<'_, [u8]> {
    let b = s.as_bytes();
    if !b.contains(&b'%') {
        return std::borrow::Cow::Borrowed(b);
    }
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_copies_every_length() {
        let src: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for n in 0..=40 {
            for prefix in [0usize, 1, 7, 15] {
                let mut out = vec![b'#'; prefix];
                put(&mut out, &src[..n]);
                assert_eq!(&out[..prefix], &vec![b'#'; prefix][..]);
                assert_eq!(&out[prefix..], &src[..n], "n = {n}, prefix = {prefix}");
            }
        }
    }

    #[test]
    fn table_is_the_documented_set() {
        for b in 0..=255u8 {
            let listed = b <= 32 || b >= 127 || b"<>\"#%{}|\\^~[]`'".contains(&b);
            assert_eq!(needs_escape(b), listed, "byte {b:#04x}");
        }
    }

    #[test]
    fn every_escape_found_at_every_length_and_offset() {
        // Each byte value at each position of values 0-40 bytes long, among plain bytes and
        // among bytes to escape: the positions found are the table's.
        for len in 0..=40 {
            for pos in 0..len {
                for b in 0..=255u8 {
                    for fill in [b'a', b' '] {
                        let mut v = vec![fill; len];
                        v[pos] = b;
                        let mut found = Vec::new();
                        each_escape(&v, |i| found.push(i));
                        let want: Vec<usize> = (0..len).filter(|&i| needs_escape(v[i])).collect();
                        assert_eq!(
                            found, want,
                            "len {len}, byte {b:#04x} at {pos}, fill {fill}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn documented_example() {
        let mut out = Vec::new();
        push_field(&mut out, b"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\tA~B");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%09A%7EB"
        );
        assert_eq!(decode("a%20b%7E%zz").as_ref(), b"a b~%zz");
        let (mut empty, mut dash) = (Vec::new(), Vec::new());
        push_field(&mut empty, b"");
        push_field(&mut dash, b"-");
        assert_eq!((&empty[..], &dash[..]), (&b"-"[..], &b"%2D"[..]));
        assert_eq!(decode("%2D").as_ref(), b"-");
    }
}
