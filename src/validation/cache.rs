//! The results cache (`--validate-cache FILE`): validation results keyed by a salted
//! fingerprint of provider and credential, with an expiry, so that re-running a large
//! sweep does not ask providers again. It holds no secret (the key is an HMAC, as a
//! finding's fingerprint is); the CLI writes it with mode 0600 all the same.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::finding::validation::{Status, Validation};

/// Version of the cache file format.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    /// Unix seconds after which the entry is ignored.
    expires: u64,
    validation: Validation,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    version: u32,
    entries: BTreeMap<String, Entry>,
}

/// The cache in memory.
#[derive(Debug, Default)]
pub struct Cache {
    file: File,
    ttl: u64,
}

impl Cache {
    /// An empty cache whose new entries live `ttl_secs`.
    pub fn new(ttl_secs: u64) -> Cache {
        Cache {
            file: File {
                version: VERSION,
                entries: BTreeMap::new(),
            },
            ttl: ttl_secs,
        }
    }

    /// Reads a cache file's text; expired entries are dropped.
    pub fn parse(text: &str, ttl_secs: u64, now: u64) -> Result<Cache, String> {
        let mut file: File = serde_json::from_str(text).map_err(|e| {
            format!("not a leaksweep validation cache ({e}); delete it or name another file")
        })?;
        if file.version != VERSION {
            return Err(format!(
                "cache format version {} (this leaksweep reads {VERSION}); delete it",
                file.version
            ));
        }
        file.entries.retain(|_, e| e.expires > now);
        Ok(Cache {
            file,
            ttl: ttl_secs,
        })
    }

    /// The cached result for `key`, if not expired.
    pub fn get(&self, key: &str, now: u64) -> Option<&Validation> {
        self.file
            .entries
            .get(key)
            .filter(|e| e.expires > now)
            .map(|e| &e.validation)
    }

    /// Records a result. Only verdicts are cached (live, invalid): an error or unknown is
    /// asked again next time.
    pub fn put(&mut self, key: String, v: &Validation, now: u64) {
        if matches!(v.status, Status::Live | Status::Invalid) && self.ttl > 0 {
            self.file.entries.insert(
                key,
                Entry {
                    expires: now.saturating_add(self.ttl),
                    validation: v.clone(),
                },
            );
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.file.entries.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.file.entries.is_empty()
    }

    /// The file's text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.file).unwrap_or_default()
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_only_verdicts_are_kept() {
        let mut c = Cache::new(60);
        let live = Validation::new(Status::Live, "github", "", "t");
        c.put("k1".into(), &live, 1000);
        c.put(
            "k2".into(),
            &Validation::new(Status::Error, "github", "x", "t"),
            1000,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c.get("k1", 1059), Some(&live));
        assert_eq!(c.get("k1", 1060), None);
        let again = Cache::parse(&c.to_json(), 60, 1030).unwrap();
        assert_eq!(again.get("k1", 1030), Some(&live));
        assert!(Cache::parse(&c.to_json(), 60, 2000).unwrap().is_empty());
        assert!(Cache::parse("{", 60, 0)
            .unwrap_err()
            .contains("not a leaksweep"));
    }
}
