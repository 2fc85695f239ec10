//! Git history as a source: every unique blob reachable from the selected commits is read
//! and scanned once, then each finding is attributed to the commit that introduced it.
//!
//! The sweep runs in four steps:
//! 1. **Commits** ([`walk`]): all refs (branches, tags, remote-tracking refs, the stash and
//!    its reflog, HEAD), or the commits of one or more ranges; ordered oldest-first.
//! 2. **Changes** ([`walk::commit_changes`]): each commit's tree against its parents' trees,
//!    in parallel, giving the (path, blob) pairs it introduces. Blobs are recorded in
//!    compact tables (indices, not strings).
//! 3. **Scan**: each unique blob is read and scanned once, in parallel, with one libgit2
//!    repository handle and one engine scratch per thread. Blob contents live only for the
//!    scan of that blob.
//! 4. **Attribution** ([`attribution`]): one finding per (secret, path), naming the
//!    introducing commit and whether the secret is still present at HEAD.
//!
//! Objects that cannot be read are skipped and named ([`walk::ObjectProblem`]); the sweep
//! goes on. This module does not print: notes and problems are returned to the caller.
//!
//! # Ranges
//! In a range scan (`A..B`, pre-push), only blobs introduced by commits in the range are
//! reported. A secret is *present before the range* if it occurs in the pre-range version
//! of any file the range changes or deletes (the blobs the range's commits replaced that
//! the range did not itself introduce); such secrets are not reported again. This costs a
//! scan of the changed files' old versions, never of the whole tree.

pub mod attribution;
pub mod share;
pub mod staged;
pub mod walk;

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use git2::{Oid, Repository};
use rayon::prelude::*;

use crate::engine::Scratch;
use crate::error::{Error, Result};
use crate::finding::{Finding, Skipped, Summary};
use crate::scan::{scan_slice, ScanContext};
use crate::source::file::{has_binary_extension, is_binary, BINARY_PROBE};

use walk::{CommitNode, ObjectProblem};

/// The line a Git LFS pointer file starts with.
const LFS_POINTER_PREFIX: &[u8] = b"version https://git-lfs.github.com/spec/v1";
/// LFS pointers are small; larger blobs starting with the same line are content.
const LFS_POINTER_MAX: usize = 1024;
/// Commits diffed per parallel batch: bounds the memory of pending change lists.
const DIFF_BATCH: usize = 512;

/// Default `--max-blob-size`: larger blobs are dumps, archives and media.
pub const DEFAULT_MAX_BLOB_SIZE: u64 = 100 << 20;

/// Which commits to sweep.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Everything reachable from every ref, HEAD and the stash reflog.
    All,
    /// The union of commit ranges (commits reachable from `include`, not from `hide`).
    Ranges(Vec<RangeSpec>),
}

/// One commit range: what `git rev-list INCLUDE... ^HIDE...` lists.
#[derive(Debug, Clone)]
pub struct RangeSpec {
    /// Tips whose history is swept.
    pub include: Vec<Oid>,
    /// Tips whose history is excluded.
    pub hide: Vec<Oid>,
}

/// Settings of a history sweep.
#[derive(Debug, Clone)]
pub struct GitOptions {
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Blobs larger than this are skipped as `too-large`.
    pub max_blob_size: u64,
    /// List every (commit, path) that holds each secret.
    pub all_occurrences: bool,
    /// Scan only this share of the blobs (every commit is still walked).
    pub blob_share: Option<share::BlobShare>,
}

impl Default for GitOptions {
    fn default() -> Self {
        GitOptions {
            threads: 0,
            max_blob_size: DEFAULT_MAX_BLOB_SIZE,
            all_occurrences: false,
            blob_share: None,
        }
    }
}

/// Live counters, read by a progress display while the sweep runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Commits found so far (final once diffing starts).
    pub commits_total: AtomicU64,
    /// Commits diffed.
    pub commits_done: AtomicU64,
    /// Unique blobs to scan (known once diffing ends).
    pub blobs_total: AtomicU64,
    /// Blobs read (scanned or skipped).
    pub blobs_done: AtomicU64,
    /// Bytes scanned.
    pub bytes_done: AtomicU64,
}

/// The result of a sweep.
#[derive(Debug, Default)]
pub struct GitOutcome {
    /// Attributed findings (suppressed ones included, marked).
    pub findings: Vec<Finding>,
    /// Counters; git-specific ones are in `extra`.
    pub summary: Summary,
    /// Objects that could not be read.
    pub problems: Vec<ObjectProblem>,
    /// Things the user should know (shallow clone, submodules, LFS pointers), one line each.
    pub notes: Vec<String>,
    /// With a blob share: what `leaksweep merge` needs to attribute as one run does.
    pub share_facts: Option<share::ShareFacts>,
}

/// Opens the repository at `path` (a work tree, a directory inside one, a `.git`
/// directory or a bare repository), with an error that says what to do.
pub fn open(path: &Path) -> Result<Repository> {
    if !path.exists() {
        return Err(Error::Other(format!(
            "{}: no such file or directory (give the path of a git repository)",
            path.display()
        )));
    }
    Repository::open_ext(
        path,
        git2::RepositoryOpenFlags::empty(),
        &[] as &[&std::ffi::OsStr],
    )
    .map_err(|e| {
        if e.code() == git2::ErrorCode::NotFound {
            Error::Other(format!(
                "{}: not a git repository (nor inside one); use `leaksweep scan` for \
                     plain directories",
                path.display()
            ))
        } else {
            Error::Other(format!(
                "{}: cannot open the git repository: {}",
                path.display(),
                e.message()
            ))
        }
    })
}

/// Sets process-wide libgit2 options for scanning: objects are not re-hashed on read
/// (zlib's checksum and the pack CRCs still catch corruption; re-hashing every blob with
/// collision-detecting SHA-1 would cost more than the scan).
pub fn configure_libgit2() {
    git2::opts::strict_hash_verification(false);
}

/// The commit HEAD of the default branch points to, and what it was resolved from:
/// `HEAD`, else `refs/remotes/origin/HEAD` (a mirror whose HEAD is dangling), else `main`
/// or `master`. `None` when none exists (unborn HEAD in an empty repository).
pub fn default_head(repo: &Repository) -> Option<(String, Oid)> {
    if let Ok(h) = repo.head() {
        if let Ok(c) = h.peel_to_commit() {
            let name = h.name().unwrap_or("HEAD").to_string();
            return Some((name, c.id()));
        }
    }
    for name in [
        "refs/remotes/origin/HEAD",
        "refs/heads/main",
        "refs/heads/master",
    ] {
        if let Ok(c) = repo
            .find_reference(name)
            .and_then(|r| r.resolve())
            .and_then(|r| r.peel_to_commit())
        {
            return Some((name.to_string(), c.id()));
        }
    }
    None
}

/// Every commit a ref points to: branches, tags (peeled), remote-tracking refs, notes,
/// `refs/stash` and the stash reflog's older entries, and HEAD (even detached).
/// A ref whose object is missing or unreadable is a problem (named); a ref to a tree or a
/// blob is only noted.
pub fn ref_tips(
    repo: &Repository,
    notes: &mut Vec<String>,
    problems: &mut Vec<ObjectProblem>,
) -> Vec<Oid> {
    let mut tips = Vec::new();
    let mut non_commit = 0u64;
    if let Ok(refs) = repo.references() {
        for r in refs.flatten() {
            match r.peel_to_commit() {
                Ok(c) => tips.push(c.id()),
                Err(e)
                    if e.code() == git2::ErrorCode::NotFound
                        || e.class() == git2::ErrorClass::Odb
                        || e.class() == git2::ErrorClass::Zlib =>
                {
                    let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
                    let target = r
                        .resolve()
                        .ok()
                        .and_then(|t| t.target())
                        .map(|o| o.to_string())
                        .unwrap_or_default();
                    problems.push(ObjectProblem::new(format!("{name} -> {target}"), &e));
                }
                Err(_) => non_commit += 1,
            }
        }
    }
    if let Ok(h) = repo.head().and_then(|h| h.peel_to_commit()) {
        tips.push(h.id());
    }
    if let Ok(log) = repo.reflog("refs/stash") {
        tips.extend(log.iter().map(|e| e.id_new()));
    }
    if non_commit > 0 {
        notes.push(format!(
            "{non_commit} ref(s) do not point to a readable commit (tags of trees or blobs, \
             broken refs): not followed"
        ));
    }
    tips.sort_unstable();
    tips.dedup();
    tips
}

/// Lists the commits of `ranges` with revwalks (which stop early where the hidden side
/// is reached, so a CI range costs the range, not the history).
fn range_commits(
    repo: &Repository,
    ranges: &[RangeSpec],
    problems: &mut Vec<ObjectProblem>,
) -> Result<Vec<CommitNode>> {
    let mut ids: HashSet<Oid> = HashSet::new();
    for r in ranges {
        let mut walk = repo
            .revwalk()
            .map_err(|e| Error::Other(format!("cannot walk history: {}", e.message())))?;
        for &i in &r.include {
            walk.push(i)
                .map_err(|e| Error::Other(format!("commit {i}: {}", e.message())))?;
        }
        for &h in &r.hide {
            walk.hide(h)
                .map_err(|e| Error::Other(format!("commit {h}: {}", e.message())))?;
        }
        for item in walk {
            match item {
                Ok(id) => {
                    ids.insert(id);
                }
                Err(e) => {
                    problems.push(ObjectProblem::new("commit in range".into(), &e));
                    break;
                }
            }
        }
    }
    let mut ids: Vec<Oid> = ids.into_iter().collect();
    ids.sort_unstable();
    Ok(walk::load_commits(repo, &ids, problems))
}

/// A hasher for object ids, which are already uniformly random: the first 8 bytes are
/// the hash.
#[derive(Default)]
struct OidHasher(u64);

impl Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            for (d, s) in b.iter_mut().zip(chunk) {
                *d = *s;
            }
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(b);
        }
    }
}

type OidMap<V> = HashMap<Oid, V, BuildHasherDefault<OidHasher>>;

fn idx(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 commits, blobs and paths (each takes memory)")
}

/// Compact tables of what the commits introduced.
#[derive(Default)]
struct Tables {
    blob_ids: Vec<Oid>,
    blob_index: OidMap<u32>,
    /// First path each blob was introduced at (for scanning and messages).
    first_path: Vec<u32>,
    paths: Vec<Vec<u8>>,
    path_index: HashMap<Vec<u8>, u32>,
    /// (blob, commit rank, path).
    intros: Vec<(u32, u32, u32)>,
    before: HashSet<Oid>,
    submodules: HashSet<Vec<u8>>,
}

impl Tables {
    fn add(&mut self, rank: u32, path: Vec<u8>, blob: Oid) {
        let p = match self.path_index.get(&path) {
            Some(&p) => p,
            None => {
                let p = idx(self.paths.len());
                self.paths.push(path.clone());
                self.path_index.insert(path, p);
                p
            }
        };
        let b = match self.blob_index.get(&blob) {
            Some(&b) => b,
            None => {
                let b = idx(self.blob_ids.len());
                self.blob_ids.push(blob);
                self.first_path.push(p);
                self.blob_index.insert(blob, b);
                b
            }
        };
        self.intros.push((b, rank, p));
    }
}

/// A small pool of repository handles, one per worker: libgit2 handles are `Send` but not
/// `Sync`, and opening one per rayon job would cost more than it saves.
struct RepoPool {
    path: PathBuf,
    free: Mutex<Vec<Repository>>,
}

struct Pooled<'p> {
    pool: &'p RepoPool,
    repo: Option<Repository>,
    scratch: Scratch,
}

impl RepoPool {
    fn new(repo: &Repository) -> RepoPool {
        RepoPool {
            path: repo.path().to_path_buf(),
            free: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> Pooled<'_> {
        let repo = self
            .free
            .lock()
            .ok()
            .and_then(|mut f| f.pop())
            .or_else(|| Repository::open(&self.path).ok());
        Pooled {
            pool: self,
            repo,
            scratch: Scratch::default(),
        }
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let (Some(r), Ok(mut free)) = (self.repo.take(), self.pool.free.lock()) {
            free.push(r);
        }
    }
}

/// What reading and scanning one blob gave.
pub enum BlobResult {
    /// Scanned: findings and size.
    Scanned(Vec<Finding>, u64),
    /// A Git LFS pointer: noted, not fetched.
    LfsPointer,
    /// Not scanned by policy (`binary`, `too-large`).
    Skipped(&'static str, String),
    /// Unreadable.
    Problem(ObjectProblem),
}

/// Reads blob `oid` (introduced at `path`) and scans it.
pub fn scan_blob(
    ctx: &ScanContext,
    repo: &Repository,
    oid: Oid,
    path: &str,
    max_size: u64,
    scratch: &mut Scratch,
) -> BlobResult {
    let odb = match repo.odb() {
        Ok(o) => o,
        Err(e) => {
            return BlobResult::Problem(ObjectProblem::new(format!("blob {oid} ({path})"), &e))
        }
    };
    if has_binary_extension(Path::new(path)) {
        return BlobResult::Skipped("binary", String::new());
    }
    let (size, _) = match odb.read_header(oid) {
        Ok(h) => h,
        Err(e) => {
            return BlobResult::Problem(ObjectProblem::new(format!("blob {oid} ({path})"), &e))
        }
    };
    if size as u64 > max_size {
        return BlobResult::Skipped(
            "too-large",
            format!("{size} bytes > --max-blob-size {max_size}"),
        );
    }
    let obj = match odb.read(oid) {
        Ok(o) => o,
        Err(e) => {
            return BlobResult::Problem(ObjectProblem::new(format!("blob {oid} ({path})"), &e))
        }
    };
    let data = obj.data();
    if data.len() <= LFS_POINTER_MAX && data.starts_with(LFS_POINTER_PREFIX) {
        return BlobResult::LfsPointer;
    }
    if is_binary(data.get(..BINARY_PROBE).unwrap_or(data)) {
        return BlobResult::Skipped("binary", String::new());
    }
    let found = scan_slice(ctx, data, path, scratch);
    BlobResult::Scanned(found, data.len() as u64)
}

/// Scans a list of blobs in parallel. Returns the findings of blobs that have any, by
/// position in `blobs`, and records counters, skips and problems.
struct ScanJob<'a> {
    ctx: &'a ScanContext,
    pool: &'a RepoPool,
    max_size: u64,
    progress: &'a Progress,
    on_skip: &'a (dyn Fn(&Skipped) + Sync),
}

#[derive(Default)]
struct ScanTotals {
    scanned: u64,
    bytes: u64,
    lfs: u64,
    skipped: Vec<Skipped>,
    problems: Vec<ObjectProblem>,
}

impl ScanJob<'_> {
    fn run(&self, blobs: &[(Oid, String)]) -> (Vec<(u32, Vec<Finding>)>, ScanTotals) {
        let totals = Mutex::new(ScanTotals::default());
        let mut found: Vec<(u32, Vec<Finding>)> = blobs
            .par_iter()
            .enumerate()
            .map_init(
                || self.pool.take(),
                |state, (i, (oid, path))| {
                    let result = match &state.repo {
                        Some(repo) => scan_blob(
                            self.ctx,
                            repo,
                            *oid,
                            path,
                            self.max_size,
                            &mut state.scratch,
                        ),
                        None => BlobResult::Problem(ObjectProblem {
                            object: format!("blob {oid} ({path})"),
                            reason: "unreadable",
                            detail: "the repository could not be reopened".into(),
                        }),
                    };
                    self.progress.blobs_done.fetch_add(1, Ordering::Relaxed);
                    match result {
                        BlobResult::Scanned(f, bytes) => {
                            self.progress.bytes_done.fetch_add(bytes, Ordering::Relaxed);
                            if let Ok(mut t) = totals.lock() {
                                t.scanned += 1;
                                t.bytes += bytes;
                            }
                            (!f.is_empty()).then(|| (idx(i), f))
                        }
                        BlobResult::LfsPointer => {
                            if let Ok(mut t) = totals.lock() {
                                t.lfs += 1;
                            }
                            None
                        }
                        BlobResult::Skipped(reason, detail) => {
                            let item = Skipped {
                                path: format!("{path} (blob {oid})"),
                                reason: reason.to_string(),
                                detail,
                            };
                            (self.on_skip)(&item);
                            if let Ok(mut t) = totals.lock() {
                                t.skipped.push(item);
                            }
                            None
                        }
                        BlobResult::Problem(p) => {
                            if let Ok(mut t) = totals.lock() {
                                t.problems.push(p);
                            }
                            None
                        }
                    }
                },
            )
            .flatten()
            .collect();
        found.sort_unstable_by_key(|(i, _)| *i);
        let totals = totals.into_inner().unwrap_or_default();
        (found, totals)
    }
}

/// Sweeps the history of `repo`: see the module documentation.
pub fn sweep(
    ctx: &ScanContext,
    repo: &Repository,
    selection: &Selection,
    opts: &GitOptions,
    progress: &Progress,
    on_skip: &(dyn Fn(&Skipped) + Sync),
) -> Result<GitOutcome> {
    // Built here rather than through `pipeline`, which depends on sources, not the reverse.
    let thread_pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .thread_name(|i| format!("leaksweep-git-{i}"))
        .build()
    {
        Ok(p) => p,
        Err(e) => return Err(Error::Other(format!("cannot start worker threads: {e}"))),
    };
    sweep_on(&thread_pool, ctx, repo, selection, opts, progress, on_skip)
}

/// [`sweep`] on a thread pool the caller owns, so that a sweep of many repositories
/// shares one pool instead of starting one per repository (`opts.threads` is not used).
#[allow(clippy::too_many_arguments)]
pub fn sweep_on(
    thread_pool: &rayon::ThreadPool,
    ctx: &ScanContext,
    repo: &Repository,
    selection: &Selection,
    opts: &GitOptions,
    progress: &Progress,
    on_skip: &(dyn Fn(&Skipped) + Sync),
) -> Result<GitOutcome> {
    let mut out = GitOutcome::default();
    let mut problems = Vec::new();
    let shallow = repo.is_shallow();
    if shallow {
        out.notes.push(
            "shallow clone: only the history present locally was scanned (run `git fetch \
             --unshallow` for the rest)"
                .into(),
        );
    }
    let want_before = matches!(selection, Selection::Ranges(_));
    let commits = match selection {
        Selection::All => {
            let tips = ref_tips(repo, &mut out.notes, &mut problems);
            walk::collect_reachable(repo, &tips, &mut problems)
        }
        Selection::Ranges(r) => range_commits(repo, r, &mut problems)?,
    };
    let commits = walk::topo_order(commits);
    progress
        .commits_total
        .store(commits.len() as u64, Ordering::Relaxed);

    // Changes, diffed in parallel batches and merged in walk order.
    let pool = RepoPool::new(repo);
    let mut tables = Tables::default();
    thread_pool.install(|| {
        for (batch_no, batch) in commits.chunks(DIFF_BATCH).enumerate() {
            let changes: Vec<walk::CommitChanges> = batch
                .par_iter()
                .map_init(
                    || pool.take(),
                    |state, c| {
                        let ch = match &state.repo {
                            Some(r) => walk::commit_changes(r, c, want_before),
                            None => walk::CommitChanges {
                                problems: vec![ObjectProblem {
                                    object: format!("commit {}", c.id),
                                    reason: "unreadable",
                                    detail: "the repository could not be reopened".into(),
                                }],
                                ..walk::CommitChanges::default()
                            },
                        };
                        progress.commits_done.fetch_add(1, Ordering::Relaxed);
                        ch
                    },
                )
                .collect();
            for (k, ch) in changes.into_iter().enumerate() {
                let rank = idx(batch_no * DIFF_BATCH + k);
                for (path, blob) in ch.added {
                    tables.add(rank, path, blob);
                }
                tables.before.extend(ch.before);
                tables.submodules.extend(ch.submodules);
                problems.extend(ch.problems);
            }
        }
    });
    tables.intros.sort_unstable();
    // Scan every unique blob once (with a share: the blobs of this share).
    let owned: Vec<u32> = (0..tables.blob_ids.len())
        .filter(|&b| opts.blob_share.map_or(true, |s| s.owns(tables.blob_ids[b])))
        .map(idx)
        .collect();
    progress
        .blobs_total
        .store(owned.len() as u64, Ordering::Relaxed);
    let job = ScanJob {
        ctx,
        pool: &pool,
        max_size: opts.max_blob_size,
        progress,
        on_skip,
    };
    let to_scan: Vec<(Oid, String)> = owned
        .iter()
        .map(|&b| {
            let path = tables
                .first_path
                .get(b as usize)
                .and_then(|p| tables.paths.get(*p as usize))
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default();
            (tables.blob_ids[b as usize], path)
        })
        .collect();
    let (mut blob_findings, mut totals) = thread_pool.install(|| job.run(&to_scan));
    drop(to_scan);
    // Positions in the scan list back to blob indices (the same when nothing is shared).
    for (i, _) in &mut blob_findings {
        *i = owned[*i as usize];
    }

    // Range scans: secrets already in the files the range changed are not new.
    let mut before_fps: HashSet<String> = HashSet::new();
    if want_before {
        let base: Vec<(Oid, String)> = tables
            .before
            .iter()
            .filter(|o| !tables.blob_index.contains_key(*o))
            .map(|o| (*o, String::new()))
            .collect();
        let quiet_skip = |_: &Skipped| {};
        let base_job = ScanJob {
            on_skip: &quiet_skip,
            ..job
        };
        let (base_findings, base_totals) = thread_pool.install(|| base_job.run(&base));
        before_fps = base_findings
            .into_iter()
            .flat_map(|(_, fs)| fs.into_iter().map(|f| f.fingerprint))
            .collect();
        totals.scanned += base_totals.scanned;
        totals.bytes += base_totals.bytes;
        out.summary.extra.insert(
            "base_blobs_scanned".into(),
            serde_json::json!(base_totals.scanned),
        );
    }

    // present_at_head: fingerprints found in blobs of HEAD's tree (ranges: the tips).
    let head_commits: Vec<Oid> = match selection {
        Selection::All => match default_head(repo) {
            Some((name, id)) => {
                out.summary
                    .extra
                    .insert("head".into(), serde_json::json!(format!("{name} {id}")));
                vec![id]
            }
            None => {
                out.notes.push(
                    "no HEAD commit (unborn branch): present_at_head is false for every finding"
                        .into(),
                );
                Vec::new()
            }
        },
        Selection::Ranges(r) => r.iter().flat_map(|s| s.include.iter().copied()).collect(),
    };
    let mut head_blobs: HashSet<Oid> = HashSet::new();
    for h in head_commits {
        match walk::tree_blobs(repo, h) {
            Ok(set) => head_blobs.extend(set),
            Err(e) => problems.push(ObjectProblem::new(format!("tree of HEAD {h}"), &e)),
        }
    }
    let at_head: HashSet<String> = blob_findings
        .iter()
        .filter(|(b, _)| {
            tables
                .blob_ids
                .get(*b as usize)
                .is_some_and(|o| head_blobs.contains(o))
        })
        .flat_map(|(_, fs)| fs.iter().map(|f| f.fingerprint.clone()))
        .collect();

    let commit_ids: Vec<Oid> = commits.iter().map(|c| c.id).collect();
    let attributed = attribution::attribute(
        repo,
        &attribution::Attribution {
            commits: &commit_ids,
            paths: &tables.paths,
            intros: &tables.intros,
            blob_findings: &blob_findings,
        },
        &before_fps,
        &at_head,
        opts.all_occurrences,
    );
    out.findings = attributed;
    if opts.blob_share.is_some() {
        out.share_facts = Some(share_facts(&out.findings, &commit_ids, at_head));
    }

    // Counters and notes.
    let s = &mut out.summary;
    s.files_scanned = totals.scanned;
    s.bytes_scanned = totals.bytes;
    // Unreadable objects are listed first: the list is capped, and a history can hold
    // thousands of routine binary skips.
    let blobs_skipped = (totals.skipped.len() + totals.problems.len()) as u64;
    problems.extend(totals.problems);
    // Parallel scans finish in any order; reports do not.
    problems.sort();
    problems.dedup();
    totals
        .skipped
        .sort_by(|a, b| (&a.path, &a.reason).cmp(&(&b.path, &b.reason)));
    for p in &problems {
        s.skip(Skipped {
            path: p.object.clone(),
            reason: p.reason.to_string(),
            detail: p.detail.clone(),
        });
    }
    for item in totals.skipped {
        s.skip(item);
    }
    let extra = &mut s.extra;
    extra.insert("commits_walked".into(), serde_json::json!(commits.len()));
    extra.insert("blobs_scanned".into(), serde_json::json!(totals.scanned));
    // With a share, the blobs of this share: summed over the shares, the whole.
    extra.insert("unique_blobs".into(), serde_json::json!(owned.len()));
    extra.insert("blobs_skipped".into(), serde_json::json!(blobs_skipped));
    extra.insert("shallow".into(), serde_json::json!(shallow));
    if want_before {
        extra.insert(
            "present_before_range".into(),
            serde_json::json!(before_fps.len()),
        );
    }
    if totals.lfs > 0 {
        extra.insert("lfs_pointers".into(), serde_json::json!(totals.lfs));
        out.notes.push(format!(
            "{} Git LFS pointer(s) noted; LFS objects are not fetched or scanned",
            totals.lfs
        ));
    }
    if !tables.submodules.is_empty() {
        extra.insert(
            "submodules".into(),
            serde_json::json!(tables.submodules.len()),
        );
        let mut names: Vec<String> = tables
            .submodules
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        names.sort();
        names.truncate(5);
        out.notes.push(format!(
            "{} submodule path(s) not followed ({}); scan their repositories separately",
            tables.submodules.len(),
            names.join(", ")
        ));
    }
    out.problems = problems;
    Ok(out)
}

/// The walk ranks of the commits `findings` name and the fingerprints at HEAD, for a
/// share's report (see [`share`]).
fn share_facts(
    findings: &[Finding],
    commits: &[Oid],
    at_head: HashSet<String>,
) -> share::ShareFacts {
    let mut named: HashSet<&str> = HashSet::new();
    for g in findings.iter().filter_map(|f| f.git.as_ref()) {
        named.insert(&g.commit);
        named.extend(g.occurrences.iter().map(|o| o.commit.as_str()));
    }
    let mut facts = share::ShareFacts::default();
    for (rank, id) in commits.iter().enumerate() {
        let id = id.to_string();
        if named.contains(id.as_str()) {
            facts.ranks.insert(id, idx(rank));
        }
    }
    facts.head = at_head.into_iter().collect();
    facts.head.sort();
    facts
}
