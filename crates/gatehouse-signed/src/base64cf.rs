//! CloudFront's URL-safe base64: standard base64 with `+`→`-`, `=`→`_`, `/`→`~`.

use base64::Engine as _;

/// Encodes bytes the way CloudFront signers do.
pub fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '+' => '-',
            '=' => '_',
            '/' => '~',
            c => c,
        })
        .collect()
}

/// Decodes CloudFront base64. Also accepts the plain standard alphabet (some signers leave
/// `+/=` in place) and tolerates missing padding.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(s.len() + 3);
    buf.extend_from_slice(s.as_bytes());
    // A plain loop over a copy: this runs on every signed request (hot path).
    for b in buf.iter_mut() {
        *b = match *b {
            b'-' => b'+',
            b'_' => b'=',
            b'~' => b'/',
            b => b,
        };
    }
    if buf.iter().any(u8::is_ascii_whitespace) {
        buf.retain(|b| !b.is_ascii_whitespace());
    }
    while buf.len() % 4 != 0 {
        buf.push(b'=');
    }
    base64::engine::general_purpose::STANDARD.decode(&buf).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_alphabet() {
        let data: Vec<u8> = (0..=255u8).collect();
        let e = super::encode(&data);
        assert!(!e.contains(['+', '=', '/']));
        assert_eq!(super::decode(&e).unwrap(), data);
        assert!(super::decode("!!!").is_none());
        // Standard alphabet, missing padding and whitespace are tolerated.
        assert_eq!(
            super::decode("+/8=").unwrap(),
            super::decode("-~8_").unwrap()
        );
        assert_eq!(
            super::decode("-~8").unwrap(),
            super::decode("-~8_").unwrap()
        );
        assert_eq!(super::decode(" -~\n8_ ").unwrap(), vec![0xfb, 0xff]);
        assert!(super::decode("-~8__").is_none());
    }
}
