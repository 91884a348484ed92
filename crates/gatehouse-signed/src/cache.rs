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
use subtle::ConstantTimeEq;

const SHARDS: usize = 16;

struct Entry {
    key_id: Box<str>,
    hash: HashAlgorithm,
    signature: Box<[u8]>,
    message: Box<[u8]>,
    expires: u64,
}

/// The verification cache.
pub struct VerifyCache {
    shards: Vec<Mutex<HashMap<u64, Entry>>>,
    per_shard: usize,
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
                    && bool::from(e.signature.ct_eq(sig))
                    && bool::from(e.message.ct_eq(msg))
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
