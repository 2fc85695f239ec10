//! Reading a reported finding's place again: the file, or the blob at `commit:path`.
//!
//! Reports are redacted, so a command that needs a finding's value (rotation) or its
//! fingerprint under another salt (baseline import) scans the place the report names
//! again with the same engine, and picks the finding it wants from what that scan finds.
//! [`Rereader`] does this once per place, whatever the number of findings in it, and
//! opens the repository once, on the first history finding.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::finding::Finding;
use crate::scan::{scan_slice, ScanContext};

use super::file::{scan_file, FileOutcome, FilePolicy, FileScratch};

/// The path reports give to findings on standard input, which cannot be read again.
pub const STDIN_PATH: &str = "<stdin>";

/// Where a reported finding was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// A file, by the path the report gives it.
    File(String),
    /// A path in a commit (history findings).
    Blob {
        /// The commit, as a revision git can resolve (a full or abbreviated id).
        commit: String,
        /// The path inside the commit's tree.
        path: String,
    },
}

impl Place {
    /// The place of a reported finding: a blob if it names a commit, else a file.
    pub fn of(commit: Option<&str>, path: &str) -> Place {
        match commit {
            Some(c) => Place::Blob {
                commit: c.to_string(),
                path: path.to_string(),
            },
            None => Place::File(path.to_string()),
        }
    }

    /// A short name for messages: the path, or `commit:path` with 12 digits of the commit.
    pub fn describe(&self) -> String {
        match self {
            Place::File(p) => p.clone(),
            Place::Blob { commit, path } => {
                format!("{}:{path}", commit.get(..12).unwrap_or(commit))
            }
        }
    }
}

/// Scans reported places again, each once (see the module documentation).
pub struct Rereader<'a> {
    ctx: &'a ScanContext,
    root: Option<PathBuf>,
    repo_dir: Option<PathBuf>,
    repo: Option<Result<git2::Repository, String>>,
    cache: BTreeMap<Place, Result<Vec<Finding>, String>>,
    scratch: FileScratch,
}

impl<'a> Rereader<'a> {
    /// A rereader scanning with `ctx`, for file paths relative to the current directory
    /// and history findings of the repository around it.
    pub fn new(ctx: &'a ScanContext) -> Rereader<'a> {
        Rereader {
            ctx,
            root: None,
            repo_dir: None,
            repo: None,
            cache: BTreeMap::new(),
            scratch: FileScratch::default(),
        }
    }

    /// File paths are relative to `root` (findings keep the report's path).
    #[must_use]
    pub fn files_under(mut self, root: &Path) -> Self {
        self.root = Some(root.to_path_buf());
        self
    }

    /// History findings are read from the repository around `dir` (`None`: the current
    /// directory's).
    #[must_use]
    pub fn repo_at(mut self, dir: Option<&Path>) -> Self {
        self.repo_dir = dir.map(Path::to_path_buf);
        self
    }

    /// The findings at `place`, scanned now or on an earlier call; or why it cannot be
    /// read again. Findings carry the report's path, so their fingerprints and paths
    /// compare with the report's.
    pub fn reread(&mut self, place: &Place) -> Result<&[Finding], &str> {
        if !self.cache.contains_key(place) {
            let got = match place {
                Place::File(p) => self.file(p),
                Place::Blob { commit, path } => self.blob(commit, path),
            };
            self.cache.insert(place.clone(), got);
        }
        match self.cache.get(place) {
            Some(Ok(found)) => Ok(found),
            Some(Err(e)) => Err(e),
            None => Err("not scanned"),
        }
    }

    fn file(&mut self, path: &str) -> Result<Vec<Finding>, String> {
        if path == STDIN_PATH {
            return Err(
                "found on standard input, which cannot be read again (scan a file instead)".into(),
            );
        }
        let full = match &self.root {
            Some(r) => r.join(path),
            None => PathBuf::from(path),
        };
        let cannot = |reason: &str, detail: String| {
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(", {detail}")
            };
            format!("cannot re-read the file: {reason}{detail}")
        };
        // Only regular files: a named pipe or a device named in a report holds other
        // bytes now, and reading one could block forever.
        match std::fs::metadata(&full) {
            Err(e) => return Err(cannot("unreadable", e.to_string())),
            Ok(m) if !m.is_file() => return Err(cannot("not-a-regular-file", String::new())),
            Ok(_) => {}
        }
        let policy = FilePolicy {
            max_file_size: u64::MAX,
            explicit: true,
        };
        match scan_file(self.ctx, &full, path, policy, &mut self.scratch) {
            // A file scanned in part (a damaged archive) still holds what was found.
            FileOutcome::Scanned(found, _) | FileOutcome::Partial(found, _, _) => Ok(found),
            FileOutcome::Skipped(s) => Err(cannot(&s.reason, s.detail)),
        }
    }

    fn blob(&mut self, commit: &str, path: &str) -> Result<Vec<Finding>, String> {
        let dir = self.repo_dir.clone();
        let repo = match self.repo.get_or_insert_with(|| open_repo(dir.as_deref())) {
            Ok(r) => r,
            Err(e) => return Err(e.clone()),
        };
        let obj = repo
            .revparse_single(commit)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| {
                format!(
                    "commit not in the repository: {} (pass --repo DIR)",
                    e.message()
                )
            })?;
        let tree = obj.tree().map_err(|e| e.message().to_string())?;
        let entry = tree
            .get_path(Path::new(path))
            .map_err(|_| format!("no file {path} in commit {commit}"))?;
        let blob = entry
            .to_object(repo)
            .and_then(|o| o.peel_to_blob())
            .map_err(|e| e.message().to_string())?;
        Ok(scan_slice(
            self.ctx,
            blob.content(),
            path,
            &mut self.scratch.engine,
        ))
    }
}

fn open_repo(dir: Option<&Path>) -> Result<git2::Repository, String> {
    let d = dir.unwrap_or_else(|| Path::new("."));
    git2::Repository::discover(d).map_err(|e| {
        format!(
            "history finding, but no git repository at {}: {} (pass --repo DIR)",
            d.display(),
            e.message()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "tok_q8Zr2mV9xK4tW7pL0001"; // leaksweep:allow (test fixture)

    fn commit_file(repo: &git2::Repository, name: &str, text: &str) -> git2::Oid {
        let dir = repo.workdir().unwrap();
        std::fs::write(dir.join(name), text).unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new(name)).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.invalid").unwrap();
        let parents: Vec<git2::Commit<'_>> = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
            .unwrap()
    }

    #[test]
    fn rereads_files_and_blobs_with_the_reported_paths() {
        let ctx = crate::testutil::context("", crate::scan::CHUNK_SIZE);
        let t = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(t.path()).unwrap();
        let old = commit_file(&repo, "app.env", &format!("x = \"{TOKEN}\"\n"));
        // The file changed since the commit: the blob still holds the value.
        commit_file(&repo, "app.env", "x = 1\n");
        let mut r = Rereader::new(&ctx)
            .files_under(t.path())
            .repo_at(Some(t.path()));
        let now = r.reread(&Place::of(None, "app.env")).unwrap();
        assert!(now.is_empty(), "{now:?}");
        let place = Place::of(Some(&old.to_string()), "app.env");
        let then = r.reread(&place).unwrap();
        assert_eq!(then.len(), 1);
        assert_eq!(then[0].path, "app.env");
        assert_eq!(then[0].secret.expose(), TOKEN.as_bytes());
        assert_eq!(
            place.describe(),
            format!("{}:app.env", &old.to_string()[..12])
        );
    }

    #[test]
    fn says_why_a_place_cannot_be_read_again() {
        let ctx = crate::testutil::context("", crate::scan::CHUNK_SIZE);
        let t = tempfile::tempdir().unwrap();
        let mut r = Rereader::new(&ctx)
            .files_under(t.path())
            .repo_at(Some(t.path()));
        let e = r.reread(&Place::of(None, STDIN_PATH)).unwrap_err();
        assert!(e.contains("standard input"), "{e}");
        let e = r.reread(&Place::of(None, "gone.env")).unwrap_err();
        assert!(
            e.starts_with("cannot re-read the file: unreadable, "),
            "{e}"
        );
        std::fs::create_dir(t.path().join("d")).unwrap();
        let e = r.reread(&Place::of(None, "d")).unwrap_err();
        assert_eq!(e, "cannot re-read the file: not-a-regular-file");
        let e = r.reread(&Place::of(Some("0123456789ab"), "a")).unwrap_err();
        assert!(
            e.contains("no git repository") && e.contains("--repo DIR"),
            "{e}"
        );
    }
}
