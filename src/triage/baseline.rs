//! Baselines: the findings a project has accepted at one point in time, so that a scan
//! reports only what is new.
//!
//! # Format (version 1)
//!
//! ```json
//! {
//!   "version": 1,
//!   "salt": "leaksweep-fingerprint-v1",
//!   "entries": [
//!     {"fingerprint": "lsw1:0327…", "rule_id": "aws-access-key-id", "path": "src/settings.py"}
//!   ]
//! }
//! ```
//!
//! An entry matches a finding with the same fingerprint (rule + secret, computed with the
//! baseline's `salt`) at the same project-relative path. Line numbers play no part, so
//! editing a file above a baselined secret does not bring it back; the same secret copied
//! to a new file is a new finding and is reported. The file holds no secret values, and
//! it is written sorted, without timestamps (unless `--timestamp` asks for `created`), so
//! that re-running `baseline create` on an unchanged tree produces the same bytes.
//!
//! A baseline of a newer version, or one that does not parse, is an error that names the
//! file and line: it is never read as "nothing accepted".

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::Error;
use crate::finding::fingerprint::fingerprint;
use crate::finding::Finding;

use super::ignorefile::check_fingerprint;

/// The baseline format version this build reads and writes.
pub const BASELINE_VERSION: u32 = 1;

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Project-relative path (`/` separators).
    pub path: String,
    /// The fingerprint, under the baseline's salt.
    #[serde(deserialize_with = "de_fingerprint")]
    pub fingerprint: String,
    /// The rule (informational: the fingerprint already covers it).
    pub rule_id: String,
}

fn de_fingerprint<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    check_fingerprint(&s).map_err(serde::de::Error::custom)?;
    Ok(s)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    version: u32,
    salt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    entries: Vec<EntryForm>,
}

/// The field order written to disk: fingerprint, rule, path.
#[derive(Serialize)]
struct EntryForm {
    fingerprint: String,
    rule_id: String,
    path: String,
}

impl<'de> Deserialize<'de> for EntryForm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let e = Entry::deserialize(d)?;
        Ok(EntryForm {
            fingerprint: e.fingerprint,
            rule_id: e.rule_id,
            path: e.path,
        })
    }
}

/// A baseline in memory.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// The salt its fingerprints were made with.
    pub salt: String,
    /// When it was made, if recorded.
    pub created: Option<String>,
    entries: BTreeSet<Entry>,
}

impl Baseline {
    /// An empty baseline with `salt`.
    pub fn new(salt: &str) -> Baseline {
        Baseline {
            salt: salt.to_string(),
            created: None,
            entries: BTreeSet::new(),
        }
    }

    /// Reads a baseline. A missing file is an error: a `--baseline` that names nothing
    /// must not look like an empty baseline.
    pub fn load(path: &Path) -> Result<Baseline, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Other(format!(
                    "{}: baseline not found (create it with `leaksweep baseline create -o {}`, \
                     or fix the path)",
                    path.display(),
                    path.display()
                ))
            } else {
                Error::Other(format!("{}: cannot read the baseline: {e}", path.display()))
            }
        })?;
        Baseline::parse(path, &text)
    }

    /// Parses the text of the baseline file `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Baseline, Error> {
        let name = path.display();
        let probe: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::Other(format!(
                "{name}:{}: not a valid baseline (bad JSON: {e})",
                e.line()
            ))
        })?;
        if probe.is_array() {
            return Err(Error::Other(format!(
                "{name}:1: this looks like a gitleaks report, not a leaksweep baseline; \
                 convert it with `leaksweep baseline import {name}`"
            )));
        }
        if probe.get("results").is_some()
            && probe
                .get("version")
                .is_some_and(serde_json::Value::is_string)
        {
            return Err(Error::Other(format!(
                "{name}:1: this looks like a detect-secrets baseline; convert it with \
                 `leaksweep baseline import {name}`"
            )));
        }
        match probe.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v > u64::from(BASELINE_VERSION) => {
                let line = text
                    .lines()
                    .position(|l| l.contains("\"version\""))
                    .map_or(1, |i| i + 1);
                return Err(Error::Other(format!(
                    "{name}:{line}: baseline version {v} is newer than this leaksweep \
                     understands (version {BASELINE_VERSION}); upgrade leaksweep"
                )));
            }
            Some(0) | None => {
                return Err(Error::Other(format!(
                    "{name}:1: not a leaksweep baseline (no \"version\": {BASELINE_VERSION})"
                )));
            }
            Some(_) => {}
        }
        let file: FileForm = serde_json::from_str(text).map_err(|e| {
            Error::Other(format!(
                "{name}:{}:{}: not a valid baseline: {e}",
                e.line(),
                e.column()
            ))
        })?;
        if file.salt.is_empty() {
            return Err(Error::Other(format!(
                "{name}: not a valid baseline: the salt is empty"
            )));
        }
        Ok(Baseline {
            salt: file.salt,
            created: file.created,
            entries: file
                .entries
                .into_iter()
                .map(|e| Entry {
                    path: e.path,
                    fingerprint: e.fingerprint,
                    rule_id: e.rule_id,
                })
                .collect(),
        })
    }

    /// The fingerprint of `f` under this baseline's salt (the finding's own fingerprint
    /// when the salts agree).
    pub fn fingerprint_of(&self, f: &Finding, scan_salt: &[u8]) -> String {
        if self.salt.as_bytes() == scan_salt {
            f.fingerprint.clone()
        } else {
            fingerprint(self.salt.as_bytes(), &f.rule_id, f.secret.expose())
        }
    }

    /// Adds an entry.
    pub fn insert(&mut self, fingerprint: String, rule_id: String, path: String) {
        self.entries.insert(Entry {
            path,
            fingerprint,
            rule_id,
        });
    }

    /// Adds finding `f` found at project-relative path `rel`.
    pub fn add(&mut self, f: &Finding, rel: &str, scan_salt: &[u8]) {
        let fp = self.fingerprint_of(f, scan_salt);
        self.insert(fp, f.rule_id.clone(), rel.to_string());
    }

    /// True if the finding `f` at project-relative path `rel` is in the baseline.
    pub fn contains(&self, f: &Finding, rel: &str, scan_salt: &[u8]) -> bool {
        let fp = self.fingerprint_of(f, scan_salt);
        self.contains_key(&fp, rel)
    }

    /// True if (fingerprint, path) is in the baseline.
    pub fn contains_key(&self, fp: &str, rel: &str) -> bool {
        // Entries sort by (path, fingerprint, rule): look at the (path, fingerprint) range.
        let lo = Entry {
            path: rel.to_string(),
            fingerprint: fp.to_string(),
            rule_id: String::new(),
        };
        self.entries
            .range(lo..)
            .next()
            .is_some_and(|e| e.path == rel && e.fingerprint == fp)
    }

    /// Keeps only the entries for which `keep` says yes; returns how many were dropped.
    pub fn retain(&mut self, mut keep: impl FnMut(&Entry) -> bool) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| keep(e));
        before - self.entries.len()
    }

    /// The entries, sorted by path, fingerprint and rule.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The file's text: pretty JSON, sorted, newline-terminated.
    pub fn to_json(&self) -> String {
        let form = FileForm {
            version: BASELINE_VERSION,
            salt: self.salt.clone(),
            created: self.created.clone(),
            entries: self
                .entries
                .iter()
                .map(|e| EntryForm {
                    fingerprint: e.fingerprint.clone(),
                    rule_id: e.rule_id.clone(),
                    path: e.path.clone(),
                })
                .collect(),
        };
        let mut s = serde_json::to_string_pretty(&form)
            .expect("a baseline of strings and numbers always serializes");
        s.push('\n');
        s
    }

    /// Writes the baseline to `path` through a temporary file and a rename, so that an
    /// interrupted write never leaves half a baseline.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        write_atomic(path, self.to_json().as_bytes())
    }
}

/// Writes `bytes` to `path` through `path.tmp` and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "lsw1:0327253802457442cc91bbc2f38762d1";

    #[test]
    fn round_trip_is_sorted_and_stable() {
        let mut b = Baseline::new("s");
        b.insert(FP.into(), "r".into(), "z.txt".into());
        b.insert(FP.replace("03", "ff"), "r".into(), "a.txt".into());
        b.insert(FP.into(), "r".into(), "a.txt".into());
        let text = b.to_json();
        let again = Baseline::parse(Path::new("b.json"), &text).unwrap();
        assert_eq!(again.to_json(), text);
        assert!(text.find("a.txt").unwrap() < text.find("z.txt").unwrap());
        assert!(again.contains_key(FP, "a.txt"));
        assert!(again.contains_key(FP, "z.txt"));
        assert!(!again.contains_key(FP, "b.txt"));
        assert!(!text.contains("created"));
    }

    #[test]
    fn bad_baselines_are_errors() {
        let p = Path::new("b.json");
        let e = Baseline::parse(p, "{\"version\": 1,\n \"salt\": \"s\",\n \"entries\": [ {\"fingerprint\": \"x\", \"rule_id\": \"r\", \"path\": \"p\"} ]}")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("b.json:3:"), "{e}");
        assert!(e.contains("not a fingerprint"), "{e}");
        let e = Baseline::parse(p, "{\"version\": 2, \"salt\": \"s\", \"entries\": []}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("newer"), "{e}");
        let e = Baseline::parse(
            p,
            "{\"version\": 1, \"salt\": \"s\", \"entries\": [], \"x\": 1}",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown field"), "{e}");
        let e = Baseline::parse(p, "[{\"RuleID\": \"x\"}]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("gitleaks report"), "{e}");
        let e = Baseline::parse(p, "{\"version\": 1,\n\"salt\": ")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("b.json:2: not a valid baseline"), "{e}");
    }
}
