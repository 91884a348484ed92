//! Bounded caches of successful checks: signatures of custom policies that verified, keyed by
//! the exact signed material (key id, hash algorithm, signature, signed message; a canned
//! policy's message is the URL, which the other cache covers), and requests accepted whole,
//! keyed by their exact parts (URL pieces, signing cookies); an entry never outlives the
//! policy's `DateLessThan` (an accepted request's conditions are checked again on each hit).
//! Sharded mutexes keep contention low; a full shard is cleared (cheap, and only costs one
//! re-verification per live URL).

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

/// A request accepted before: its exact signed material, its policy's time and IP
/// conditions, and the key that verified it.
struct Accepted {
    parts: Box<[u8]>,
    conditions: crate::policy::Conditions,
    /// Shared with every hit: a hit does not copy it.
    key_id: std::sync::Arc<str>,
}

/// Where a request's exact parts are in the cache of accepted requests
/// ([`VerifyCache::request_slot`]).
#[derive(Debug, Clone, Copy)]
pub struct RequestSlot(u64);

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
    /// A cache of about `capacity` verified signatures and, bounded separately, about as many
    /// accepted requests: up to twice `capacity` entries in all.
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
                // A plain comparison: it is only reached for material whose 64-bit hash is
                // a stored entry's, so its timing tells nothing about a signature someone
                // is guessing (a guess with other bytes lands in another slot).
                now < e.expires
                    && &*e.key_id == key_id
                    && e.hash == hash
                    && *e.signature == *sig
                    && *e.message == *msg
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

    /// The slot of a request's exact parts, for [`VerifyCache::accepted`] and
    /// [`VerifyCache::accept`] (computed once a request).
    pub fn request_slot(parts: &[&[u8]]) -> RequestSlot {
        RequestSlot(Self::parts_slot(parts))
    }

    fn parts_slot(parts: &[&[u8]]) -> u64 {
        let mut h = DefaultHasher::new();
        for p in parts {
            h.write(p);
            h.write_u8(0);
        }
        h.finish()
    }

    /// The policy's time and IP conditions and the key of a request whose exact parts (URL
    /// pieces, cookies) were accepted before, without decoding anything: only those
    /// conditions remain to check.
    pub fn accepted(
        &self,
        RequestSlot(slot): RequestSlot,
        parts: &[&[u8]],
    ) -> Option<(crate::policy::Conditions, std::sync::Arc<str>)> {
        let map = self.accepted[slot as usize % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let e = map.get(&slot)?;
        // Piece by piece against the stored `\0`-joined parts (no allocation); a plain
        // comparison, as in `check`: only parts hashing to this slot get here.
        let mut stored = e.parts.split(|&b| b == 0);
        if !parts.iter().all(|p| stored.next() == Some(*p)) {
            return None;
        }
        Some((e.conditions, e.key_id.clone()))
    }

    /// Remembers a request that passed every check: its policy's time and IP `conditions`
    /// and the key that verified it.
    pub fn accept(
        &self,
        RequestSlot(slot): RequestSlot,
        parts: &[&[u8]],
        conditions: crate::policy::Conditions,
        key_id: std::sync::Arc<str>,
    ) {
        if parts.iter().any(|p| p.contains(&0)) {
            return;
        }
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
                conditions,
                key_id,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
