//! Arbitrary requests (host, path, query, cookies, viewer IP, clock) through `verify::verify`
//! with a fixed set of trusted keys: it must never panic.
//!
//! Random bytes rarely get past the signature check, so when the input carries a `policy`, the
//! target signs that text with its own ECDSA key (generated at start-up, trusted as `KECFUZZ`)
//! and appends `Policy`, `Signature`, `Key-Pair-Id` and `Hash-Algorithm` to the query (or sends
//! them as cookies): the verifier then parses the fuzzed policy and checks its dates, IP and
//! Resource against the fuzzed URL.

#![no_main]

use gatehouse_signed::keys::{HashAlgorithm, PrivateKey, PublicKey};
use gatehouse_signed::verify::{self, Request, TrustedKeys};
use gatehouse_signed::{base64cf, VerifyCache};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

/// A throwaway public key (its private key was discarded); `Key-Pair-Id=KRSAFUZZ` reaches the
/// RSA verification with whatever the input holds.
const RSA_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuTr/Z3ESZAMV6hoIUbph
nEd1AQs4Tt4UdclcEOjrPgdBBaS8fLS0Z1UDBcAPjwsFIY/pq3I7ddzJTCNJcQLN
wtcZCBnzIQDhH3vvRaTxuyfaf/IOka7uHBZJaZ1RbyKBDHQkfTIOmL2iFXlJTchc
mqC28nEKyJCc6BE1C1qUleYhqSru+EkRo1tAymgIeaelirA88L8mmBw/55JMIQnB
/kTQFG333niJ+AUHqNfBep8ARhnpT2+16ZXp6+L3vt7WdYH2Ru23ygvWqtbZJJ11
hpxBv62ZRLT7yx1gXGianI5hKKWTBF2IS+UVvhoTG+i2RZXl8katEr9iDgeg6RPU
8QIDAQAB
-----END PUBLIC KEY-----
";

struct Fixture {
    trusted: TrustedKeys,
    signer: PrivateKey,
    /// Shared across inputs, like the edge's.
    cache: VerifyCache,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let point = pair.public_key().as_ref().to_vec();
        let mut keys = HashMap::new();
        keys.insert(
            "KRSAFUZZ".to_string(),
            Arc::new(PublicKey::from_pem(RSA_PUBLIC).unwrap()),
        );
        keys.insert("KECFUZZ".to_string(), Arc::new(PublicKey::EcP256(point)));
        Fixture {
            trusted: TrustedKeys::new(keys, vec!["kg-fuzz".into()]),
            signer: PrivateKey::EcP256(Box::new(pair)),
            cache: VerifyCache::new(256),
        }
    })
}

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    https: bool,
    host: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    cookies: Option<&'a str>,
    /// When set, signed with the trusted ECDSA key and added to the query or the cookies.
    policy: Option<&'a [u8]>,
    policy_in_cookies: bool,
    viewer_ip: Ip,
    now: u64,
    shared_cache: bool,
}

#[derive(Debug, Arbitrary)]
enum Ip {
    V4([u8; 4]),
    V6([u8; 16]),
}

fuzz_target!(|input: Input<'_>| {
    let f = fixture();
    let mut query = input.query.map(str::to_string);
    let mut cookies = input.cookies.map(str::to_string);
    if let Some(policy) = input.policy {
        let sig = f.signer.sign(HashAlgorithm::Sha256, policy).unwrap();
        let (p, s) = (base64cf::encode(policy), base64cf::encode(&sig));
        if input.policy_in_cookies {
            let c = format!(
                "CloudFront-Policy={p}; CloudFront-Signature={s}; CloudFront-Key-Pair-Id=KECFUZZ; CloudFront-Hash-Algorithm=SHA256"
            );
            cookies = Some(match cookies {
                Some(old) => format!("{old}; {c}"),
                None => c,
            });
        } else {
            let q = format!("Policy={p}&Signature={s}&Key-Pair-Id=KECFUZZ&Hash-Algorithm=SHA256");
            query = Some(match query {
                Some(old) => format!("{old}&{q}"),
                None => q,
            });
        }
    }
    let req = Request {
        scheme: if input.https { "https" } else { "http" },
        host: input.host,
        path: input.path,
        query: query.as_deref(),
        cookies: cookies.as_deref(),
        viewer_ip: match input.viewer_ip {
            Ip::V4(b) => IpAddr::from(b),
            Ip::V6(b) => IpAddr::from(b),
        },
        now: input.now,
    };
    let fresh;
    let cache = if input.shared_cache {
        &f.cache
    } else {
        fresh = VerifyCache::new(16);
        &fresh
    };
    let _ = verify::verify(&req, &f.trusted, cache);
});
