//! Public keys (CloudFront `EncodedKey` PEM) for verifying, private keys for signing.
//!
//! RSA keys verify PKCS#1 v1.5 signatures with SHA-1 or SHA-256; EC P-256 keys verify DER
//! ECDSA signatures with SHA-256. Public keys come as SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`,
//! what CloudFront stores); private keys as PKCS#1, PKCS#8 or SEC1 PEM.

use crate::der;
use ring::signature::{self, EcdsaKeyPair, UnparsedPublicKey};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, SubjectPublicKeyInfoDer};

/// The hash algorithm of a signature (`Hash-Algorithm` parameter / cookie).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-1 (the default).
    Sha1,
    /// SHA-256.
    Sha256,
}

impl HashAlgorithm {
    /// Parses `SHA1` / `SHA256` (exact, as AWS's tools write them).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "SHA1" => Some(HashAlgorithm::Sha1),
            "SHA256" => Some(HashAlgorithm::Sha256),
            _ => None,
        }
    }

    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA1",
            HashAlgorithm::Sha256 => "SHA256",
        }
    }
}

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not PEM, or no key in it.
    #[error("not a PEM key: {0}")]
    Pem(String),
    /// An algorithm CloudFront does not support.
    #[error("unsupported key: {0}")]
    Unsupported(String),
}

/// A public key trusted for signed URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// RSA, as PKCS#1 `RSAPublicKey` DER.
    Rsa(Vec<u8>),
    /// ECDSA P-256, as the uncompressed point.
    EcP256(Vec<u8>),
}

impl PublicKey {
    /// Parses a PEM public key.
    pub fn from_pem(pem_text: &str) -> Result<Self, KeyError> {
        if let Ok(spki) = SubjectPublicKeyInfoDer::from_pem_slice(pem_text.as_bytes()) {
            let s = der::spki(spki.as_ref())
                .ok_or_else(|| KeyError::Pem("malformed SubjectPublicKeyInfo".into()))?;
            if s.algorithm == der::OID_RSA {
                return Ok(PublicKey::Rsa(s.key.to_vec()));
            }
            if s.algorithm == der::OID_EC {
                if s.parameter != Some(der::OID_P256) {
                    return Err(KeyError::Unsupported(
                        "EC keys must be P-256 (prime256v1)".into(),
                    ));
                }
                return Ok(PublicKey::EcP256(s.key.to_vec()));
            }
            return Err(KeyError::Unsupported(
                "only RSA and ECDSA P-256 keys are supported".into(),
            ));
        }
        Err(KeyError::Pem(
            "no PUBLIC KEY block (CloudFront's EncodedKey is a SubjectPublicKeyInfo PEM)".into(),
        ))
    }

    /// A short name of the algorithm.
    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::Rsa(_) => "RSA",
            PublicKey::EcP256(_) => "ECDSA P-256",
        }
    }

    /// Verifies `sig` over `msg`. ECDSA keys only verify SHA-256.
    pub fn verify(&self, hash: HashAlgorithm, msg: &[u8], sig: &[u8]) -> bool {
        let alg: &dyn signature::VerificationAlgorithm = match (self, hash) {
            (PublicKey::Rsa(_), HashAlgorithm::Sha1) => {
                &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY
            }
            (PublicKey::Rsa(_), HashAlgorithm::Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
            (PublicKey::EcP256(_), HashAlgorithm::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
            (PublicKey::EcP256(_), HashAlgorithm::Sha1) => return false,
        };
        let key = match self {
            PublicKey::Rsa(k) | PublicKey::EcP256(k) => k,
        };
        UnparsedPublicKey::new(alg, key).verify(msg, sig).is_ok()
    }
}

/// A private key for `gatehouse sign`.
pub enum PrivateKey {
    /// RSA.
    Rsa(Box<rsa::RsaPrivateKey>),
    /// ECDSA P-256.
    EcP256(Box<EcdsaKeyPair>),
}

impl PrivateKey {
    /// Parses a PEM private key (PKCS#1, PKCS#8 or SEC1; unencrypted).
    pub fn from_pem(pem_text: &str) -> Result<Self, KeyError> {
        let der = PrivateKeyDer::from_pem_slice(pem_text.as_bytes())
            .map_err(|e| KeyError::Pem(e.to_string()))?;
        let rng = ring::rand::SystemRandom::new();
        match der {
            PrivateKeyDer::Pkcs1(k) => rsa::RsaPrivateKey::from_pkcs1_der(k.secret_pkcs1_der())
                .map(|k| PrivateKey::Rsa(Box::new(k)))
                .map_err(|e| KeyError::Unsupported(e.to_string())),
            PrivateKeyDer::Pkcs8(k) => {
                let bytes = k.secret_pkcs8_der();
                if let Ok(rsa) = rsa::RsaPrivateKey::from_pkcs8_der(bytes) {
                    return Ok(PrivateKey::Rsa(Box::new(rsa)));
                }
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, bytes, &rng)
                    .map(|k| PrivateKey::EcP256(Box::new(k)))
                    .map_err(|e| KeyError::Unsupported(format!("neither RSA nor P-256: {e}")))
            }
            PrivateKeyDer::Sec1(k) => {
                let p8 = der::sec1_to_pkcs8(k.secret_sec1_der());
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &p8, &rng)
                    .map(|k| PrivateKey::EcP256(Box::new(k)))
                    .map_err(|e| KeyError::Unsupported(format!("EC key is not P-256: {e}")))
            }
            _ => Err(KeyError::Unsupported("unknown private key format".into())),
        }
    }

    /// Signs `msg`. ECDSA always uses SHA-256 (asking for SHA-1 is an error).
    pub fn sign(&self, hash: HashAlgorithm, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = ring::rand::SystemRandom::new();
        match self {
            PrivateKey::Rsa(k) => {
                let k = (**k).clone();
                let sig = match hash {
                    HashAlgorithm::Sha1 => rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(k)
                        .try_sign(msg)
                        .map(|s| s.to_vec()),
                    HashAlgorithm::Sha256 => rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(k)
                        .try_sign(msg)
                        .map(|s| s.to_vec()),
                };
                sig.map_err(|e| KeyError::Unsupported(e.to_string()))
            }
            PrivateKey::EcP256(k) => {
                if hash != HashAlgorithm::Sha256 {
                    return Err(KeyError::Unsupported(
                        "ECDSA keys sign with SHA256 only (use --hash-algorithm SHA256)".into(),
                    ));
                }
                k.sign(&rng, msg)
                    .map(|s| s.as_ref().to_vec())
                    .map_err(|e| KeyError::Unsupported(e.to_string()))
            }
        }
    }

    /// Whether this is an EC key.
    pub fn is_ec(&self) -> bool {
        matches!(self, PrivateKey::EcP256(_))
    }
}
