//! The little DER reading needed to unwrap keys: SubjectPublicKeyInfo (to the RSA key or EC
//! point ring wants) and SEC1 EC private keys (to wrap them as PKCS#8 for ring).

/// One TLV: tag, content.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&len0, rest) = rest.split_first()?;
    let (len, rest) = if len0 < 0x80 {
        (len0 as usize, rest)
    } else {
        let n = (len0 & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// OID 1.2.840.113549.1.1.1 (rsaEncryption).
pub const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// OID 1.2.840.10045.2.1 (id-ecPublicKey).
pub const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// OID 1.2.840.10045.3.1.7 (prime256v1 / P-256).
pub const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// A parsed SubjectPublicKeyInfo.
pub struct Spki<'a> {
    /// Algorithm OID.
    pub algorithm: &'a [u8],
    /// Parameter OID (the curve for EC keys), if any.
    pub parameter: Option<&'a [u8]>,
    /// The key bits (RSAPublicKey DER for RSA, the point for EC).
    pub key: &'a [u8],
}

/// Parses a SubjectPublicKeyInfo.
pub fn spki(der: &[u8]) -> Option<Spki<'_>> {
    let (0x30, body, _) = tlv(der)? else {
        return None;
    };
    let (0x30, alg, rest) = tlv(body)? else {
        return None;
    };
    let (0x06, oid, params) = tlv(alg)? else {
        return None;
    };
    let parameter = match tlv(params) {
        Some((0x06, p, _)) => Some(p),
        _ => None,
    };
    let (0x03, bits, _) = tlv(rest)? else {
        return None;
    };
    let (&unused, key) = bits.split_first()?;
    if unused != 0 {
        return None;
    }
    Some(Spki {
        algorithm: oid,
        parameter,
        key,
    })
}

fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0x81, n as u8]);
    } else {
        out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
}

/// Wraps a SEC1 `ECPrivateKey` (P-256) into PKCS#8.
pub fn sec1_to_pkcs8(sec1: &[u8]) -> Vec<u8> {
    let mut alg = Vec::new();
    push_tlv(&mut alg, 0x06, OID_EC);
    push_tlv(&mut alg, 0x06, OID_P256);
    let mut body = vec![0x02, 0x01, 0x00];
    push_tlv(&mut body, 0x30, &alg);
    push_tlv(&mut body, 0x04, sec1);
    let mut out = Vec::new();
    push_tlv(&mut out, 0x30, &body);
    out
}
