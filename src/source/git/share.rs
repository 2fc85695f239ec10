//! A share of one repository's blobs, so that N processes split a huge history between
//! them (`leaksweep git --shard K/N --shard-by blob`).
//!
//! Every process walks all commits (cheap: trees, no blob contents) and so builds the same
//! tables, in the same order; each then reads and scans only the blobs whose object id
//! falls in its share. Attribution needs two things a share cannot see alone, and
//! [`ShareFacts`] carries them to `leaksweep merge`:
//! - the walk rank of each commit a finding names (the earliest introducing commit wins by
//!   rank in one run, and the ranks are the same in every share);
//! - the fingerprints found in blobs of HEAD's tree (a secret is present at HEAD if any
//!   blob of HEAD holds it, whichever share scanned that blob).

use std::collections::BTreeMap;

use git2::Oid;
use serde::{Deserialize, Serialize};

/// Share `index` of `count` of a repository's blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobShare {
    /// Which share, from 0.
    pub index: u64,
    /// How many shares.
    pub count: u64,
}

impl BlobShare {
    /// True if blob `oid` is scanned by this share: the first 8 bytes of its object id,
    /// big-endian, modulo the count. Object ids are already uniform hashes of the content,
    /// so the shares are even and the same on every machine.
    pub fn owns(&self, oid: Oid) -> bool {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(oid.as_bytes()) {
            *d = *s;
        }
        u64::from_be_bytes(b) % self.count.max(1) == self.index
    }
}

/// What `leaksweep merge` needs of one share of one repository to give the attribution
/// of a single run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareFacts {
    /// Walk rank of every commit named by a finding or an occurrence.
    pub ranks: BTreeMap<String, u32>,
    /// Fingerprints found in blobs of HEAD's tree (this share's blobs only).
    pub head: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_blob_is_in_exactly_one_share() {
        let n = 3;
        let mut sizes = [0u32; 3];
        for i in 0..300u32 {
            let oid = Oid::hash_object(git2::ObjectType::Blob, &i.to_le_bytes()).unwrap();
            let owners: Vec<u64> = (0..n)
                .filter(|&index| BlobShare { index, count: n }.owns(oid))
                .collect();
            assert_eq!(owners.len(), 1);
            sizes[usize::try_from(owners[0]).unwrap()] += 1;
        }
        assert!(sizes.iter().all(|&s| s > 50), "{sizes:?}");
        // Pinned: a change would move blobs between the shares of running sweeps.
        let oid = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert!(BlobShare {
            index: 0x0123_4567_89ab_cdef % 7,
            count: 7
        }
        .owns(oid));
    }
}
