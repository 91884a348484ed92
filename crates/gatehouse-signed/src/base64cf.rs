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
    let mut buf: Vec<u8> = s
        .bytes()
        .map(|b| match b {
            b'-' => b'+',
            b'_' => b'=',
            b'~' => b'/',
            b => b,
        })
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
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
    }
}
