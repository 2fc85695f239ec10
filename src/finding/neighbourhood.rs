//! The text around a finding, kept for live validation only.
//!
//! Some credentials cannot be checked from their own value: a password in a URL needs
//! the URL's user and host, an Azure client secret needs the tenant and client ids
//! written next to it, a service-account key id needs the key's `private_key` and
//! `client_email`. In a file on disk those could be read again, but not in git history
//! (a blob of some commit) or on standard input (gone once read). So, with `--validate`,
//! the scanner keeps the few lines around each finding whose rule asks for them, here,
//! keyed by the finding's offset and fingerprint (not its path: git history reports a
//! blob under the path of the commit that introduced it, which need not be the path it
//! was scanned under; two copies of one secret at one offset are copies of one file).
//! The text may hold secrets: it is a [`Secret`] (wiped on drop), never serialised and
//! never printed, and it lives as long as the validation run.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::secret::Secret;

use super::Finding;

/// Lines kept on each side of the finding.
const LINES: usize = 12;
/// Bytes kept on each side of the finding, at most (a minified file is one long line).
const BYTES: usize = 4 * 1024;
/// Windows kept at most per run (at most 80 MiB); later findings get none (and say so
/// when validated).
const MAX_ENTRIES: usize = 10_000;

type Key = (u64, String);

/// Windows of text around findings, filled by the scanner, read by the validator.
pub struct Neighbourhoods {
    wanted: Box<dyn Fn(&str) -> bool + Send + Sync>,
    map: Mutex<HashMap<Key, Secret>>,
}

impl std::fmt::Debug for Neighbourhoods {
    /// The count only: the windows may hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.map.lock().map_or(0, |m| m.len());
        write!(f, "Neighbourhoods({n} windows)")
    }
}

impl Neighbourhoods {
    /// A store that keeps windows for the rules `wanted` accepts.
    pub fn new(wanted: impl Fn(&str) -> bool + Send + Sync + 'static) -> Neighbourhoods {
        Neighbourhoods {
            wanted: Box::new(wanted),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Whether findings of `rule_id` get a window.
    pub fn wants(&self, rule_id: &str) -> bool {
        (self.wanted)(rule_id)
    }

    /// Keeps the lines of `hay` around `start..end` (the secret) for the finding at
    /// `offset` with `fingerprint`.
    pub fn keep(&self, offset: u64, fingerprint: &str, hay: &[u8], start: usize, end: usize) {
        let (lo, hi) = window(hay, start, end);
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            return;
        }
        map.entry((offset, fingerprint.to_string()))
            .or_insert_with(|| Secret::new(hay[lo..hi].to_vec()));
    }

    /// The window of `f`, if one was kept.
    pub fn get(&self, f: &Finding) -> Option<Secret> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&(f.offset, f.fingerprint.clone()))
            .cloned()
    }
}

/// The byte range of up to [`LINES`] lines (and [`BYTES`] bytes) on each side of
/// `start..end` in `hay`.
fn window(hay: &[u8], start: usize, end: usize) -> (usize, usize) {
    let start = start.min(hay.len());
    let end = end.clamp(start, hay.len());
    let floor = start.saturating_sub(BYTES);
    let mut lo = start;
    let mut lines = 0;
    while lo > floor {
        if hay[lo - 1] == b'\n' {
            lines += 1;
            if lines > LINES {
                break;
            }
        }
        lo -= 1;
    }
    let ceil = end.saturating_add(BYTES).min(hay.len());
    let mut hi = end;
    let mut lines = 0;
    while hi < ceil {
        if hay[hi] == b'\n' {
            lines += 1;
            if lines > LINES {
                break;
            }
        }
        hi += 1;
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_stop_at_lines_and_bytes() {
        let text: String = (0..40).map(|i| format!("line {i}\n")).collect();
        let at = text.find("line 20").unwrap();
        let (lo, hi) = window(text.as_bytes(), at, at + 7);
        let w = &text[lo..hi];
        assert!(w.starts_with("line 8\n"), "{w}");
        assert!(w.ends_with("line 32"), "{w}");
        let long = "x".repeat(20_000);
        let (lo, hi) = window(long.as_bytes(), 10_000, 10_010);
        assert_eq!((lo, hi), (10_000 - BYTES, 10_010 + BYTES));
    }
}
