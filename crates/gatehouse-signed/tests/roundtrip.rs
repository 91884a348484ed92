//! `gatehouse sign` output verifies with the edge's verifier, for every key type and hash,
//! and each tampered byte is refused with the right failure.

use gatehouse_signed::sign::{sign_cookies, sign_url, SignRequest};
use gatehouse_signed::*;

mod common;
use common::{keypair, request, trusted};

#[test]
fn every_key_type_and_hash_round_trips() {
    for (kind, hashes) in [
        (
            "rsa-pkcs8",
            vec![HashAlgorithm::Sha1, HashAlgorithm::Sha256],
        ),
        (
            "rsa-pkcs1",
            vec![HashAlgorithm::Sha1, HashAlgorithm::Sha256],
        ),
        ("ec-sec1", vec![HashAlgorithm::Sha256]),
        ("ec-pkcs8", vec![HashAlgorithm::Sha256]),
    ] {
        let (private, public) = keypair(kind);
        let key = PrivateKey::from_pem(&private).unwrap();
        let keys = trusted("K2JCJMDEHXQW5F", &public);
        for hash in hashes {
            let cache = VerifyCache::default();
            let base = SignRequest {
                url: "https://d111111abcdef8.cloudfront.net/private/a.jpg?size=large",
                key_pair_id: "K2JCJMDEHXQW5F",
                date_less_than: 2_000_000_000,
                date_greater_than: None,
                ip_address: None,
                policy_resource: None,
                hash,
            };
            let url = sign_url(&base, &key).unwrap();
            let v = verify(&request(&url, 1_800_000_000), &keys, &cache);
            assert!(v.is_ok(), "{kind} {hash:?} canned: {v:?}");
            // Second time comes from the cache of accepted requests.
            assert_eq!(
                verify(&request(&url, 1_800_000_000), &keys, &cache)
                    .unwrap()
                    .cached,
                Cached::Request
            );
            // Expired.
            let e = verify(&request(&url, 2_000_000_000), &keys, &cache).unwrap_err();
            assert_eq!(e.kind, FailureKind::Expired, "{e}");
            // Tampered path.
            let tampered = url.replace("/a.jpg", "/b.jpg");
            let e = verify(
                &request(&tampered, 1_800_000_000),
                &keys,
                &VerifyCache::default(),
            )
            .unwrap_err();
            assert_eq!(e.kind, FailureKind::BadSignature, "{e}");

            let custom = SignRequest {
                policy_resource: Some("https://d111111abcdef8.cloudfront.net/private/*"),
                ip_address: Some("192.0.2.0/24"),
                date_greater_than: Some(1_700_000_000),
                ..base.clone()
            };
            let url = sign_url(&custom, &key).unwrap();
            assert!(url.contains("Policy="));
            verify(&request(&url, 1_800_000_000), &keys, &cache).unwrap();
            let mut r = request(&url, 1_800_000_000);
            r.viewer_ip = "198.51.100.1".parse().unwrap();
            assert_eq!(
                verify(&r, &keys, &cache).unwrap_err().kind,
                FailureKind::IpMismatch
            );
            let early = verify(&request(&url, 1_600_000_000), &keys, &cache).unwrap_err();
            assert_eq!(early.kind, FailureKind::NotYetValid);
            let other = url.replace("/private/a.jpg", "/public/a.jpg");
            assert_eq!(
                verify(&request(&other, 1_800_000_000), &keys, &cache)
                    .unwrap_err()
                    .kind,
                FailureKind::ResourceMismatch
            );

            // Cookies.
            let header = cookie_header(&sign_cookies(&base, &key).unwrap());
            let mut r = request(
                "https://d111111abcdef8.cloudfront.net/private/a.jpg?size=large",
                1_800_000_000,
            );
            r.cookies = Some(&header);
            let ok = verify(&r, &keys, &VerifyCache::default()).unwrap();
            assert_eq!(ok.source, verify::Source::Cookies);
        }
    }
}

/// A canned SHA-1 signing request for `https://h/x` with key id `KGOOD`, valid until 2033.
fn h_x() -> SignRequest<'static> {
    SignRequest {
        url: "https://h/x",
        key_pair_id: "KGOOD",
        date_less_than: 2_000_000_000,
        date_greater_than: None,
        ip_address: None,
        policy_resource: None,
        hash: HashAlgorithm::Sha1,
    }
}

/// A `Cookie` header carrying `cookies` (name, value).
fn cookie_header(cookies: &[(String, String)]) -> String {
    let pairs: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join("; ")
}

#[test]
fn failures_in_cloudfront_order() {
    let (private, public) = keypair("rsa-pkcs8");
    let key = PrivateKey::from_pem(&private).unwrap();
    let keys = trusted("KGOOD", &public);
    let cache = VerifyCache::default();
    let now = 1_800_000_000;
    let kind = |url: &str| {
        verify(&request(url, now), &keys, &cache)
            .map(|_| ())
            .map_err(|e| e.kind)
    };
    assert_eq!(kind("https://h/x"), Err(FailureKind::MissingKey));
    assert_eq!(
        kind("https://h/x?Key-Pair-Id=&Signature=a"),
        Err(FailureKind::MissingKey)
    );
    assert_eq!(
        kind("https://h/x?Expires=1&Signature=abc&Key-Pair-Id=KOTHER"),
        Err(FailureKind::UnknownKey)
    );
    assert_eq!(
        kind("https://h/x?Expires=1&Signature=%%%&Key-Pair-Id=KGOOD"),
        Err(FailureKind::MalformedSignature)
    );
    assert_eq!(
        kind("https://h/x?Signature=abcd&Key-Pair-Id=KGOOD"),
        Err(FailureKind::MalformedPolicy)
    );
    assert_eq!(
        kind("https://h/x?Policy=e30_&Signature=abcd&Key-Pair-Id=KGOOD"),
        Err(FailureKind::MalformedPolicy)
    );
    assert_eq!(
        kind("https://h/x?Expires=soon&Signature=abcd&Key-Pair-Id=KGOOD"),
        Err(FailureKind::MalformedPolicy)
    );
    assert_eq!(
        kind("https://h/x?Expires=2000000000&Signature=abcd&Key-Pair-Id=KGOOD"),
        Err(FailureKind::BadSignature)
    );
    // A signed URL takes precedence over cookies.
    let header = cookie_header(&sign_cookies(&h_x(), &key).unwrap());
    let mut r = request("https://h/x?Key-Pair-Id=KOTHER", now);
    r.cookies = Some(&header);
    assert_eq!(
        verify(&r, &keys, &cache).unwrap_err().kind,
        FailureKind::UnknownKey
    );
    assert_eq!(
        strip_signing_params("a=1&Expires=2&Signature=x&Key-Pair-Id=K&Hash-Algorithm=SHA256&b=2"),
        "a=1&b=2"
    );
}

#[test]
fn a_remembered_acceptance_needs_a_key_still_trusted() {
    // The cache of accepted requests must not accept for a caller that no longer trusts the
    // key (another behaviour, or key groups that changed).
    let (private, public) = keypair("rsa-pkcs8");
    let key = PrivateKey::from_pem(&private).unwrap();
    let cache = VerifyCache::default();
    let now = 1_800_000_000;
    let url = sign_url(&h_x(), &key).unwrap();
    let first = verify(&request(&url, now), &trusted("KGOOD", &public), &cache).unwrap();
    assert_eq!(first.cached, Cached::No);
    let again = verify(&request(&url, now), &trusted("KGOOD", &public), &cache).unwrap();
    assert_eq!(
        again.cached,
        Cached::Request,
        "the second check comes from the cache"
    );
    // The same public key under another id: what counts is the id the caller trusts.
    assert_eq!(
        verify(&request(&url, now), &trusted("KOTHER", &public), &cache)
            .unwrap_err()
            .kind,
        FailureKind::UnknownKey
    );
}

#[test]
fn signed_cookies_are_remembered_whatever_other_cookies_come_along() {
    let (private, public) = keypair("rsa-pkcs8");
    let key = PrivateKey::from_pem(&private).unwrap();
    let keys = trusted("KGOOD", &public);
    let cache = VerifyCache::default();
    let now = 1_800_000_000;
    let signing = cookie_header(&sign_cookies(&h_x(), &key).unwrap());
    let with = |other: &str| format!("_ga={other}; {signing}");
    let check = |cookies: &str| {
        let mut r = request("https://h/x", now);
        r.cookies = Some(cookies);
        verify(&r, &keys, &cache)
    };
    assert_eq!(check(&with("GA1.1")).unwrap().cached, Cached::No);
    assert_eq!(
        check(&with("GA1.2")).unwrap().cached,
        Cached::Request,
        "another analytics cookie, the same signing cookies: accepted from the cache"
    );
    // A changed signing cookie is checked again, and fails.
    let tampered = with("GA1.3").replace("CloudFront-Signature=", "CloudFront-Signature=A");
    assert!(check(&tampered).is_err());
}
