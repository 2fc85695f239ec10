//! The pre-commit view: what the index adds over HEAD.
//!
//! Blobs are read from the object database by the ids the index records, so the work
//! tree is never read (unstaged edits are not what will be committed). New files are
//! scanned whole. For a modified file, a secret is reported only if it is not in the
//! file's HEAD version, nor in the HEAD version of a file the index deletes (a rename):
//! an old, accepted secret in a file you touch does not block your commit, and a secret
//! added on any new or changed line does. Works with no commits yet (everything staged
//! is new).

use std::collections::HashSet;

use git2::{Delta, DiffOptions, Oid, Repository};

use crate::engine::Scratch;
use crate::error::{Error, Result};
use crate::finding::{Finding, Skipped, Summary};
use crate::scan::ScanContext;

use super::walk::ObjectProblem;
use super::{scan_blob, BlobResult};

/// The result of a staged scan.
#[derive(Debug, Default)]
pub struct StagedOutcome {
    /// Findings on what the index adds.
    pub findings: Vec<Finding>,
    /// Counters.
    pub summary: Summary,
    /// Objects that could not be read.
    pub problems: Vec<ObjectProblem>,
    /// Notes for the user.
    pub notes: Vec<String>,
}

/// Scans what the index of `repo` adds over HEAD.
pub fn scan_staged(
    ctx: &ScanContext,
    repo: &Repository,
    max_blob_size: u64,
    on_skip: &dyn Fn(&Skipped),
) -> Result<StagedOutcome> {
    if repo.is_bare() {
        return Err(Error::Other(format!(
            "{}: --staged needs a repository with a work tree and an index (this one is bare)",
            repo.path().display()
        )));
    }
    let index = repo.index().map_err(|e| {
        Error::Other(format!(
            "{}: cannot read the index: {}",
            repo.path().display(),
            e.message()
        ))
    })?;
    let head_tree =
        match repo.head() {
            Ok(h) => Some(h.peel_to_tree().map_err(|e| {
                Error::Other(format!("HEAD: cannot read its tree: {}", e.message()))
            })?),
            Err(e)
                if e.code() == git2::ErrorCode::UnbornBranch
                    || e.code() == git2::ErrorCode::NotFound =>
            {
                None
            }
            Err(e) => return Err(Error::Other(format!("HEAD: {}", e.message()))),
        };
    let mut opts = DiffOptions::new();
    opts.ignore_submodules(true);
    let diff = repo
        .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut opts))
        .map_err(|e| Error::Other(format!("comparing the index with HEAD: {}", e.message())))?;

    let mut out = StagedOutcome::default();
    let mut new_blobs: Vec<(Oid, String)> = Vec::new();
    let mut old_blobs: Vec<Oid> = Vec::new();
    let mut conflicts = 0u64;
    for delta in diff.deltas() {
        let new = delta.new_file();
        let old = delta.old_file();
        let path = new
            .path_bytes()
            .or_else(|| old.path_bytes())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();
        let is_content = |mode: git2::FileMode| {
            matches!(mode, git2::FileMode::Blob | git2::FileMode::BlobExecutable)
        };
        match delta.status() {
            Delta::Added | Delta::Modified | Delta::Typechange | Delta::Renamed | Delta::Copied => {
                if is_content(new.mode()) {
                    new_blobs.push((new.id(), path));
                }
                if delta.status() != Delta::Added && is_content(old.mode()) {
                    old_blobs.push(old.id());
                }
            }
            Delta::Deleted if is_content(old.mode()) => old_blobs.push(old.id()),
            Delta::Conflicted => conflicts += 1,
            _ => {}
        }
    }
    if conflicts > 0 {
        out.notes.push(format!(
            "{conflicts} conflicted path(s) in the index were not scanned (resolve them first)"
        ));
    }

    let mut scratch = Scratch::default();
    let mut before: HashSet<String> = HashSet::new();
    for oid in old_blobs {
        if let BlobResult::Scanned(found, _) =
            scan_blob(ctx, repo, oid, "", max_blob_size, &mut scratch)
        {
            before.extend(found.into_iter().map(|f| f.fingerprint));
        }
    }
    let s = &mut out.summary;
    let mut lfs = 0u64;
    for (oid, path) in &new_blobs {
        match scan_blob(ctx, repo, *oid, path, max_blob_size, &mut scratch) {
            BlobResult::Scanned(found, bytes) => {
                s.files_scanned += 1;
                s.bytes_scanned += bytes;
                out.findings.extend(
                    found
                        .into_iter()
                        .filter(|f| !before.contains(&f.fingerprint)),
                );
            }
            BlobResult::LfsPointer => lfs += 1,
            BlobResult::Skipped(reason, detail) => {
                let item = Skipped {
                    path: path.clone(),
                    reason: reason.to_string(),
                    detail,
                };
                on_skip(&item);
                s.skip(item);
            }
            BlobResult::Problem(p) => {
                s.skip(Skipped {
                    path: p.object.clone(),
                    reason: p.reason.to_string(),
                    detail: p.detail.clone(),
                });
                out.problems.push(p);
            }
        }
    }
    s.extra
        .insert("staged_files".into(), serde_json::json!(new_blobs.len()));
    s.extra.insert(
        "head".into(),
        serde_json::json!(if head_tree.is_some() {
            "HEAD"
        } else {
            "unborn"
        }),
    );
    if lfs > 0 {
        s.extra
            .insert("lfs_pointers".into(), serde_json::json!(lfs));
        out.notes.push(format!(
            "{lfs} Git LFS pointer(s) staged; LFS objects are not scanned"
        ));
    }
    Ok(out)
}
