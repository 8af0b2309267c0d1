//! Per-source token buckets for the collector, keyed by a keyed hash of the
//! peer address: the address itself is never stored or logged.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use sha2::{Digest, Sha256};

/// Buckets kept at most; when full, the fullest (idle) buckets go first.
const CAPACITY: usize = 100_000;

/// A keyed, truncated hash of a source address: stable for the life of the
/// process, useless without the random key (which is never written out).
#[derive(Debug, Clone)]
pub(crate) struct SourceHasher {
    key: [u8; 32],
}

impl SourceHasher {
    pub(crate) fn new() -> Self {
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        SourceHasher { key }
    }

    /// The source key: IPv6 addresses count per /64 (one host usually has
    /// a whole /64).
    pub(crate) fn source(&self, ip: IpAddr) -> String {
        let mut h = Sha256::new();
        h.update(self.key);
        match ip {
            IpAddr::V4(v4) => h.update(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => h.update(v4.octets()),
                None => h.update(&v6.octets()[..8]),
            },
        }
        h.update(self.key);
        hex::encode(&h.finalize()[..12])
    }
}

/// Token buckets: `burst` tokens, refilled at `per_second`.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub(crate) fn new(burst: u32, per_second: f64) -> Self {
        RateLimiter {
            burst: f64::from(burst.max(1)),
            per_second: per_second.max(0.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `cost` tokens for `source`; `false` when it has not enough.
    pub(crate) fn allow(&self, source: &str, cost: f64) -> bool {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return false;
        };
        if buckets.len() >= CAPACITY && !buckets.contains_key(source) {
            let (burst, rate) = (self.burst, self.per_second);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
            if buckets.len() >= CAPACITY {
                buckets.clear();
            }
        }
        let entry = buckets
            .entry(source.to_owned())
            .or_insert((self.burst, now));
        let refill = now.duration_since(entry.1).as_secs_f64() * self.per_second;
        entry.0 = (entry.0 + refill).min(self.burst);
        entry.1 = now;
        if entry.0 >= cost {
            entry.0 -= cost;
            true
        } else {
            false
        }
    }
}
