//! The rotation state file: which idempotency keys are done, so that re-running never
//! rotates the same finding at the same target twice.
//!
//! JSON, mode 0600, replaced atomically (write a temporary file, then rename) after each
//! completed action. It holds keys, fingerprints, targets and version ids, never values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One completed action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    /// Finding fingerprint.
    pub fingerprint: String,
    /// `backend:path#key`, or `backend` for a revocation.
    pub target: String,
    /// `rotate` or `revoke`.
    pub action: String,
    /// Outcome status.
    pub status: String,
    /// New version id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_version: Option<String>,
    /// Previous version id, for rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    version: u32,
    #[serde(default)]
    done: BTreeMap<String, Done>,
}

/// An exclusive lock on the state file; released on drop.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

/// The loaded state.
#[derive(Debug)]
pub struct State {
    path: PathBuf,
    file: File,
}

impl State {
    /// Loads `path`; a missing file is an empty state. A corrupt file is an error (never
    /// silently reset: that would allow a second rotation).
    pub fn load(path: &Path) -> Result<State, String> {
        let file = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                format!(
                    "{}: corrupt rotation state file: {e} (fix or move it; deleting it \
                     forgets which findings were already rotated)",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => File {
                version: 1,
                done: BTreeMap::new(),
            },
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Ok(State {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Takes an exclusive lock (`STATE.lock`, `flock`) for the duration of an executing
    /// run, so that two concurrent runs cannot both rotate the same finding. Released when
    /// the guard is dropped (or the process dies).
    pub fn lock(&self) -> Result<Lock, String> {
        lock(&self.path)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The record for `key`, if that action is done.
    pub fn get(&self, key: &str) -> Option<&Done> {
        self.file.done.get(key)
    }

    /// Completed actions for `fingerprint` on `backend` (targets `backend:...` or `backend`).
    pub fn done_for<'a>(
        &'a self,
        fingerprint: &'a str,
        backend: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Done)> + 'a {
        self.file.done.iter().filter_map(move |(k, d)| {
            let on_backend = d.target == backend
                || d.target
                    .strip_prefix(backend)
                    .is_some_and(|rest| rest.starts_with(':'));
            (d.fingerprint == fingerprint && on_backend).then_some((k.as_str(), d))
        })
    }

    /// Records `key` as done and saves the file atomically.
    pub fn record(&mut self, key: &str, done: Done) -> std::io::Result<()> {
        self.file.done.insert(key.to_string(), done);
        self.save()
    }

    fn save(&self) -> std::io::Result<()> {
        crate::private_fs::replace(&self.path, &serde_json::to_vec_pretty(&self.file)?)
    }
}

/// Takes the exclusive lock that guards the state file at `path` (see [`State::lock`]).
/// Take it before [`State::load`] so that what is loaded is current.
pub fn lock(path: &Path) -> Result<Lock, String> {
    let mut p = path.to_path_buf().into_os_string();
    p.push(".lock");
    let p = PathBuf::from(p);
    // Created 0600 like the state file beside it: no one else needs to open it.
    let f = crate::private_fs::open_keep(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock(2) on a file descriptor we own; no memory is involved.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            return Err(format!(
                "another `leaksweep rotate --execute` holds {} (wait for it to finish)",
                p.display()
            ));
        }
    }
    Ok(Lock { _file: f })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_corrupt_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s/state.json");
        let mut s = State::load(&p).unwrap();
        assert!(s.get("k").is_none());
        s.record(
            "k",
            Done {
                fingerprint: "lsw1:1".into(),
                target: "v:secret/a#b".into(),
                action: "rotate".into(),
                status: "rotated".into(),
                new_version: Some("2".into()),
                previous_version: Some("1".into()),
                at: "now".into(),
            },
        )
        .unwrap();
        let s = State::load(&p).unwrap();
        assert_eq!(s.get("k").unwrap().new_version.as_deref(), Some("2"));
        let lock = s.lock().unwrap();
        assert!(s.lock().unwrap_err().contains("another"));
        drop(lock);
        assert!(s.lock().is_ok());
        std::fs::write(&p, "{not json").unwrap();
        assert!(State::load(&p).unwrap_err().contains("corrupt"));
    }
}
