//! `--checkpoint FILE`: the finished repositories of a sweep and what the report needs of
//! them, so that after a SIGKILL or a reboot the same command skips them and still writes
//! the complete report.
//!
//! The file is JSON lines, created with mode 0600: a header naming the sweep (a hash of
//! the flags that change findings, so that a checkpoint is never resumed by a different
//! sweep), then one line per finished repository, appended and synced to disk when the
//! repository is done. Findings are stored as the report writes them, with secrets
//! redacted unless the sweep runs with `--show-secrets` (then the report holds them
//! anyway). A line cut short by a kill is dropped on resume and its repository is swept
//! again. Repositories that failed are not recorded: a resumed sweep tries them again.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::finding::Skipped;

/// The settings that change a sweep's findings: a checkpoint is resumed only by a sweep
/// with the same ones (see [`sweep_key`]).
#[derive(Debug, Clone, Default)]
pub struct KeySettings<'a> {
    /// The fingerprint salt.
    pub salt: &'a [u8],
    /// Ids of the rules in use.
    pub rules: Vec<&'a str>,
    /// Flags that change findings or their text, as one string.
    pub flags: String,
    /// With `--shard-by blob`: the share (each repository's findings are its share's).
    pub blob_share: Option<(u64, u64)>,
    /// With `--validate`: records carry results.
    pub validate: bool,
}

/// The identity of a sweep's settings, so that `--checkpoint` is never resumed by a run
/// whose findings would differ (other rules, salt, secrets shown or not, ...).
pub fn sweep_key(k: &KeySettings<'_>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    // A share of the blobs changes every repository's findings; a share of the
    // repositories does not change any.
    if let Some((i, n)) = k.blob_share {
        h.update(format!("blobs {i}/{n}|"));
    }
    h.update(env!("CARGO_PKG_VERSION"));
    h.update([0]);
    h.update(k.salt);
    for r in &k.rules {
        h.update([0]);
        h.update(r);
    }
    h.update(k.flags.as_bytes());
    // Records keep their validation result: a sweep with --validate resumes only its own
    // checkpoints (a checkpoint without results would leave findings unvalidated).
    h.update(format!("|validate={}", k.validate).as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Version of the checkpoint format.
pub const VERSION: u32 = 1;

/// Counters of one finished repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepoCounts {
    /// Commits walked.
    pub commits: u64,
    /// Unique blobs found.
    pub unique_blobs: u64,
    /// Blobs scanned.
    pub blobs_scanned: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Skipped items by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Suppressed findings by reason.
    pub suppressed: BTreeMap<String, u64>,
    /// Skipped items by name (capped), paths prefixed with the repository.
    pub skipped_files: Vec<Skipped>,
    /// With `--shard-by blob`: what the merge needs to attribute as one run does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<crate::source::git::share::ShareFacts>,
}

/// One finished repository.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RepoEntry {
    /// Its id.
    pub repository: String,
    /// Counters.
    pub counts: RepoCounts,
    /// Reported findings, settled (see [`super::record`]).
    pub findings: Vec<serde_json::Value>,
    /// Suppressed findings, settled.
    pub suppressed: Vec<serde_json::Value>,
    /// Notes (shallow clone, submodules, ...).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Errors that do not stop the sweep but fail it (unreadable objects without
    /// `--keep-going`).
    #[serde(default)]
    pub errors: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    leaksweep_checkpoint: u32,
    sweep: String,
}

/// An open checkpoint, appended to as repositories finish.
#[derive(Debug)]
pub struct Checkpoint {
    file: File,
    path: PathBuf,
}

impl Checkpoint {
    /// Opens (or creates) the checkpoint of the sweep identified by `key`, returning the
    /// repositories it records as finished.
    pub fn open(path: &Path, key: &str) -> Result<(Checkpoint, Vec<RepoEntry>), String> {
        let shown = path.display();
        let text = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(format!("{shown}: cannot read the checkpoint: {e}")),
        };
        let mut entries = Vec::new();
        let mut good_len = 0usize;
        if !text.is_empty() {
            let mut lines = text.split_inclusive(|&b| b == b'\n');
            let header = lines.next().unwrap_or_default();
            let h: Header = serde_json::from_slice(header).map_err(|_| {
                format!(
                    "{shown}: not a leaksweep checkpoint (give another --checkpoint file, or \
                     delete this one)"
                )
            })?;
            if h.leaksweep_checkpoint != VERSION || h.sweep != key {
                return Err(format!(
                    "{shown}: this checkpoint belongs to another sweep (other rules, flags or \
                     version); delete it to start over, or give another --checkpoint file"
                ));
            }
            good_len = header.len();
            for line in lines {
                // A line without its newline was being written when the run died.
                if !line.ends_with(b"\n") {
                    break;
                }
                match serde_json::from_slice::<RepoEntry>(line) {
                    Ok(e) => {
                        entries.push(e);
                        good_len += line.len();
                    }
                    Err(_) => break,
                }
            }
        }
        let mut file = crate::private_fs::open_keep(path)
            .map_err(|e| format!("{shown}: cannot open the checkpoint for writing: {e}"))?;
        if text.is_empty() {
            let h = Header {
                leaksweep_checkpoint: VERSION,
                sweep: key.to_string(),
            };
            let mut line = serde_json::to_vec(&h).unwrap_or_default();
            line.push(b'\n');
            file.write_all(&line)
                .and_then(|()| file.sync_data())
                .map_err(|e| format!("{shown}: cannot write the checkpoint: {e}"))?;
        } else {
            // Drop a torn last line, so that the next entry starts on a line of its own.
            file.set_len(good_len as u64)
                .map_err(|e| format!("{shown}: cannot repair the checkpoint: {e}"))?;
        }
        use std::io::Seek;
        file.seek(io::SeekFrom::End(0))
            .map_err(|e| format!("{shown}: {e}"))?;
        Ok((
            Checkpoint {
                file,
                path: path.to_path_buf(),
            },
            entries,
        ))
    }

    /// Records a finished repository and syncs it to disk.
    pub fn append(&mut self, entry: &RepoEntry) -> Result<(), String> {
        let mut line = serde_json::to_vec(entry).map_err(|e| e.to_string())?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| {
                format!(
                    "{}: cannot write the checkpoint: {e} (the sweep goes on; a resumed run \
                     repeats this repository)",
                    self.path.display()
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> RepoEntry {
        RepoEntry {
            repository: id.into(),
            counts: RepoCounts {
                commits: 3,
                ..RepoCounts::default()
            },
            ..RepoEntry::default()
        }
    }

    #[test]
    fn entries_survive_a_reopen_and_a_torn_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cp.jsonl");
        let (mut cp, done) = Checkpoint::open(&p, "k1").unwrap();
        assert!(done.is_empty());
        cp.append(&entry("a")).unwrap();
        cp.append(&entry("b")).unwrap();
        drop(cp);
        // A kill in the middle of the third line.
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(br#"{"repository":"c","cou"#).unwrap();
        drop(f);
        let (mut cp, done) = Checkpoint::open(&p, "k1").unwrap();
        let ids: Vec<&str> = done.iter().map(|e| e.repository.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(done[0].counts.commits, 3);
        cp.append(&entry("c")).unwrap();
        drop(cp);
        let (_, done) = Checkpoint::open(&p, "k1").unwrap();
        assert_eq!(done.len(), 3);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn another_sweep_or_another_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cp.jsonl");
        drop(Checkpoint::open(&p, "k1").unwrap());
        let e = Checkpoint::open(&p, "k2").unwrap_err();
        assert!(e.contains("another sweep"), "{e}");
        let q = dir.path().join("notes.txt");
        std::fs::write(&q, "shopping list\n").unwrap();
        let e = Checkpoint::open(&q, "k1").unwrap_err();
        assert!(e.contains("not a leaksweep checkpoint"), "{e}");
        assert_eq!(std::fs::read_to_string(&q).unwrap(), "shopping list\n");
    }
}
