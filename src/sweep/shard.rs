//! `--shard K/N`: a deterministic share of a sweep's repositories, so that N processes on
//! an existing scheduler (a Kubernetes Indexed Job, a CI matrix, GNU parallel) split the
//! work without talking to each other.
//!
//! A repository belongs to shard `SHA-256(id) mod N` (the first 8 bytes, big-endian):
//! the same in every process and on every machine, whatever the order of the list.

use std::str::FromStr;

use sha2::{Digest, Sha256};

/// One share of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which share, counting from 0 (a Kubernetes `JOB_COMPLETION_INDEX`).
    pub index: u64,
    /// How many shares.
    pub count: u64,
}

impl Shard {
    /// True if repository `id` belongs to this share.
    pub fn owns(&self, id: &str) -> bool {
        bucket(id, self.count) == self.index
    }
}

/// The share of `id` among `count`.
pub fn bucket(id: &str, count: u64) -> u64 {
    let d = Sha256::digest(id.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b) % count.max(1)
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "--shard {s:?}: expected K/N with 0 <= K < N (K counts from 0, as \
                 JOB_COMPLETION_INDEX does), e.g. 0/4"
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n_from_zero_and_refuses_the_rest() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 2, count: 5 }));
        for bad in ["5/5", "1/0", "x/3", "3", "-1/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_repository_lands_in_exactly_one_share_whatever_the_order() {
        let ids: Vec<String> = (0..500)
            .map(|i| format!("git@example:org/r{i}.git"))
            .collect();
        let n = 7;
        let shards: Vec<Shard> = (0..n).map(|index| Shard { index, count: n }).collect();
        let mut sizes = vec![0; 7];
        for id in &ids {
            let owners: Vec<u64> = shards
                .iter()
                .filter(|s| s.owns(id))
                .map(|s| s.index)
                .collect();
            assert_eq!(owners.len(), 1, "{id}");
            sizes[usize::try_from(owners[0]).unwrap()] += 1;
        }
        // Spread: no share is empty or holds more than twice its due.
        assert!(sizes.iter().all(|&s| s > 0 && s < 2 * 500 / 7), "{sizes:?}");
        // Pinned, so that a change of the hash (which would reshuffle running sweeps
        // between versions) cannot pass unnoticed.
        assert_eq!(bucket("org/repo", 1000), 26);
        assert_eq!(bucket("org/repo", 1), 0);
    }
}
