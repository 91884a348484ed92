//! A bounded cache of successful signature checks.
//!
//! Keyed by the exact signed material (key id, hash algorithm, signature, signed message); an
//! entry never outlives the policy's `DateLessThan`. Sharded mutexes keep contention low; a full
//! shard is cleared (cheap, and only costs one re-verification per live URL).

use crate::keys::HashAlgorithm;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

const SHARDS: usize = 16;

struct Entry {
    key_id: Box<str>,
    hash: HashAlgorithm,
    signature: Box<[u8]>,
    message: Box<[u8]>,
    expires: u64,
}

/// Whether `a == b`, in time that depends only on the lengths (no early exit on the first
/// difference): the signature is compared with one that verified. Word by word, with one
/// `black_box` at the end, which is much cheaper than a per-byte `subtle` comparison on the
/// hot path of every signed request.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut acc = 0u64;
    let (mut ca, mut cb) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut ca).zip(&mut cb) {
        acc |=
            u64::from_ne_bytes(x.try_into().unwrap()) ^ u64::from_ne_bytes(y.try_into().unwrap());
    }
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        acc |= u64::from(x ^ y);
    }
    std::hint::black_box(acc) == 0
}

/// A request accepted before: its exact signed material and its parsed policy.
struct Accepted {
    parts: Box<[u8]>,
    /// Shared with every hit: a hit reads it, it does not copy it.
    policy: std::sync::Arc<crate::policy::Policy>,
    key_id: std::sync::Arc<str>,
}

/// The verification cache.
pub struct VerifyCache {
    shards: Vec<Mutex<HashMap<u64, Entry>>>,
    per_shard: usize,
    accepted: Vec<Mutex<HashMap<u64, Accepted>>>,
}

impl Default for VerifyCache {
    fn default() -> Self {
        Self::new(16_384)
    }
}

impl VerifyCache {
    /// A cache holding about `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        VerifyCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: (capacity / SHARDS).max(1),
            accepted: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn slot(key_id: &str, hash: HashAlgorithm, sig: &[u8], msg: &[u8]) -> u64 {
        let mut h = DefaultHasher::new();
        key_id.hash(&mut h);
        hash.hash(&mut h);
        sig.hash(&mut h);
        msg.hash(&mut h);
        h.finish()
    }

    /// Whether this exact material verified before and its policy has not expired.
    pub fn check(
        &self,
        key_id: &str,
        hash: HashAlgorithm,
        sig: &[u8],
        msg: &[u8],
        now: u64,
    ) -> bool {
        let slot = Self::slot(key_id, hash, sig, msg);
        let shard = &self.shards[slot as usize % SHARDS];
        let map = shard.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&slot) {
            Some(e) => {
                now < e.expires
                    && &*e.key_id == key_id
                    && e.hash == hash
                    && ct_eq(&e.signature, sig)
                    && ct_eq(&e.message, msg)
            }
            None => false,
        }
    }

    /// Records a successful verification valid until `expires`.
    pub fn insert(&self, key_id: &str, hash: HashAlgorithm, sig: &[u8], msg: &[u8], expires: u64) {
        let slot = Self::slot(key_id, hash, sig, msg);
        let shard = &self.shards[slot as usize % SHARDS];
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.per_shard {
            map.clear();
        }
        map.insert(
            slot,
            Entry {
                key_id: key_id.into(),
                hash,
                signature: sig.into(),
                message: msg.into(),
                expires,
            },
        );
    }

    fn parts_slot(parts: &[&[u8]]) -> u64 {
        let mut h = DefaultHasher::new();
        for p in parts {
            h.write(p);
            h.write_u8(0);
        }
        h.finish()
    }

    /// The policy and key of a request whose exact parts (URL pieces, cookies) were accepted
    /// before, without decoding anything: only its time and IP conditions remain to check.
    pub fn accepted(
        &self,
        parts: &[&[u8]],
    ) -> Option<(std::sync::Arc<crate::policy::Policy>, std::sync::Arc<str>)> {
        let slot = Self::parts_slot(parts);
        let map = self.accepted[slot as usize % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let e = map.get(&slot)?;
        // Compare piece by piece against the stored `\0`-joined parts (no allocation), in
        // constant time like the signature cache: the parts hold the Signature.
        let mut stored = e.parts.split(|&b| b == 0);
        let mut same = true;
        for p in parts {
            same &= stored.next().is_some_and(|s| ct_eq(s, p));
        }
        if !same {
            return None;
        }
        Some((e.policy.clone(), e.key_id.clone()))
    }

    /// Remembers a request that passed every check.
    pub fn accept(&self, parts: &[&[u8]], policy: &crate::policy::Policy, key_id: &str) {
        if parts.iter().any(|p| p.contains(&0)) {
            return;
        }
        let slot = Self::parts_slot(parts);
        let mut map = self.accepted[slot as usize % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.per_shard {
            map.clear();
        }
        map.insert(
            slot,
            Accepted {
                parts: parts.join(&0u8).into_boxed_slice(),
                policy: std::sync::Arc::new(policy.clone()),
                key_id: key_id.into(),
            },
        );
    }

    /// Number of cached entries.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq() {
        let a: Vec<u8> = (0..=255).collect();
        for len in [0, 1, 7, 8, 9, 63, 64, 256] {
            assert!(ct_eq(&a[..len], &a[..len]));
            for i in 0..len {
                let mut b = a[..len].to_vec();
                b[i] ^= 0x10;
                assert!(!ct_eq(&a[..len], &b), "len {len}, byte {i}");
            }
        }
        assert!(!ct_eq(&a[..8], &a[..9]));
    }

    #[test]
    fn hits_only_the_exact_material() {
        let c = VerifyCache::new(64);
        c.insert("K", HashAlgorithm::Sha1, b"sig", b"msg", 100);
        assert!(c.check("K", HashAlgorithm::Sha1, b"sig", b"msg", 99));
        assert!(!c.check("K", HashAlgorithm::Sha1, b"sig", b"msg", 100));
        assert!(!c.check("K", HashAlgorithm::Sha256, b"sig", b"msg", 99));
        assert!(!c.check("K2", HashAlgorithm::Sha1, b"sig", b"msg", 99));
        assert!(!c.check("K", HashAlgorithm::Sha1, b"siG", b"msg", 99));
        assert!(!c.check("K", HashAlgorithm::Sha1, b"sig", b"msG", 99));
    }
}
