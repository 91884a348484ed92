//! CloudFront signed URLs and signed cookies, without HTTP.
//!
//! * [`verify`]: the checks CloudFront makes, in its order, each failure with what was compared;
//! * [`cache`]: the bounded caches of successful checks (signatures, whole accepted requests);
//! * [`policy`]: canned (rebuilt byte for byte) and custom policies;
//! * [`resource`]: custom-policy `Resource` wildcards, section by section;
//! * [`keys`]: RSA (SHA-1/SHA-256) and ECDSA P-256 keys, public and private;
//! * [`sign`]: signing as AWS's tools print it;
//! * [`base64cf`]: CloudFront's `-_~` base64.

#![warn(missing_docs)]

pub mod base64cf;
pub mod cache;
mod der;
pub mod keys;
pub mod policy;
pub mod resource;
pub mod sign;
pub mod verify;

pub use cache::VerifyCache;
pub use keys::{HashAlgorithm, PrivateKey, PublicKey};
pub use verify::{
    strip_signing_params, verify, Cached, Failure, FailureKind, Request, TrustedKeys, Verified,
};
