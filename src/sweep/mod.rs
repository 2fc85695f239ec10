//! Sweeps of many repositories: after a leak, every repository of an organisation, in one
//! run or spread over machines by an existing scheduler.
//!
//! - [`list`]: the repository list (command line, `--repos-from`), paths and URLs;
//! - [`clone`]: URLs cloned as bare mirrors into `--clone-dir`, fetched on the next run;
//! - [`shard`]: `--shard K/N`, a stable share of the list;
//! - [`checkpoint`]: finished repositories on disk, so a killed sweep resumes;
//! - [`record`]: findings settled to what the report shows, and read back;
//! - [`merge`]: shard reports joined into one;
//! - [`validate`]: `--validate` across the sweep, one request per unique credential.
//!
//! [`run`] sweeps the repositories on one rayon pool: repositories in parallel, and the
//! blobs of each in parallel on the same workers. Each repository's history tables live
//! only while it is swept; what stays is its settled findings and counters, so memory
//! grows with the findings, not with the number or size of repositories.
//!
//! # One fingerprint across repositories
//! Fingerprints are keyed on a salt ([`crate::finding::fingerprint`]). A sweep loads the
//! project config once, from where it runs (or `--config`), never from the swept
//! repositories: so one salt holds for the whole sweep and the same secret has one
//! fingerprint in every repository (and every shard, given the same config). It also keeps
//! a swept repository from hiding its own leaks with allowlists of its own.

pub mod checkpoint;
pub mod clone;
pub mod list;
pub mod merge;
mod progress;
pub mod record;
pub mod shard;
pub mod validate;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::finding::{Finding, Skipped, Summary};
use crate::pipeline::ScanOutcome;
use crate::scan::ScanContext;
use crate::source::git::{self, GitOptions, Progress, Selection};
use crate::triage::Triage;

use checkpoint::{Checkpoint, RepoCounts, RepoEntry};
use list::{Location, RepoSpec};

/// Settings of a sweep.
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    /// Per-repository history settings.
    pub git: GitOptions,
    /// Where URLs are cloned (required when the list has URLs).
    pub clone_dir: Option<PathBuf>,
    /// Unreadable objects are only listed, not errors.
    pub keep_going: bool,
    /// Keep secrets whole in settled findings (and the checkpoint).
    pub show_secrets: bool,
    /// Keep suppressed findings for the report (their counts are kept anyway).
    pub keep_suppressed: bool,
    /// With `--validate`: validates each repository's findings before they are settled.
    pub validator: Option<std::sync::Arc<validate::SweepValidator>>,
}

/// Live counters of a sweep, read by a progress display.
#[derive(Debug, Default)]
pub struct SweepProgress {
    /// Repositories in this sweep (this shard).
    pub repos_total: AtomicU64,
    /// Finished (swept, resumed or failed).
    pub repos_done: AtomicU64,
    /// Failed.
    pub repos_failed: AtomicU64,
    /// Blobs of finished repositories.
    pub blobs_done: AtomicU64,
    /// Bytes of finished repositories.
    pub bytes_done: AtomicU64,
    current: Mutex<Vec<(String, Arc<Progress>)>>,
}

/// What a progress display shows at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Repositories in the sweep.
    pub repos_total: u64,
    /// Finished.
    pub repos_done: u64,
    /// Failed.
    pub repos_failed: u64,
    /// Blobs read, finished and current repositories.
    pub blobs: u64,
    /// Bytes scanned, finished and current repositories.
    pub bytes: u64,
    /// Repositories being swept: id, blobs done, blobs to do (0 while walking).
    pub current: Vec<(String, u64, u64)>,
}

impl SweepProgress {
    fn start(&self, id: &str) -> Arc<Progress> {
        let p = Arc::new(Progress::default());
        if let Ok(mut c) = self.current.lock() {
            c.push((id.to_string(), Arc::clone(&p)));
        }
        p
    }

    fn finish(&self, id: &str, p: &Progress, failed: bool) {
        if let Ok(mut c) = self.current.lock() {
            c.retain(|(i, _)| i != id);
        }
        self.blobs_done
            .fetch_add(p.blobs_done.load(Ordering::Relaxed), Ordering::Relaxed);
        self.bytes_done
            .fetch_add(p.bytes_done.load(Ordering::Relaxed), Ordering::Relaxed);
        if failed {
            self.repos_failed.fetch_add(1, Ordering::Relaxed);
        }
        self.repos_done.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        let mut s = Snapshot {
            repos_total: self.repos_total.load(Ordering::Relaxed),
            repos_done: self.repos_done.load(Ordering::Relaxed),
            repos_failed: self.repos_failed.load(Ordering::Relaxed),
            blobs: self.blobs_done.load(Ordering::Relaxed),
            bytes: self.bytes_done.load(Ordering::Relaxed),
            current: Vec::new(),
        };
        if let Ok(c) = self.current.lock() {
            for (id, p) in c.iter() {
                let done = p.blobs_done.load(Ordering::Relaxed);
                s.blobs += done;
                s.bytes += p.bytes_done.load(Ordering::Relaxed);
                s.current
                    .push((id.clone(), done, p.blobs_total.load(Ordering::Relaxed)));
            }
        }
        s
    }
}

/// A repository that could not be swept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Its id.
    pub repository: String,
    /// Why, one line, what to do.
    pub error: String,
}

/// The result of a sweep.
#[derive(Debug, Default)]
pub struct SweepOutcome {
    /// Settled findings of every repository, counters summed, errors (one per failed
    /// repository, and unreadable objects without `--keep-going`).
    pub outcome: ScanOutcome,
    /// Repositories that could not be opened, cloned or walked.
    pub failed: Vec<Failure>,
    /// Notes, prefixed with their repository.
    pub notes: Vec<String>,
    /// Repositories taken from the checkpoint.
    pub resumed: u64,
    /// Problems writing the checkpoint (the sweep went on).
    pub checkpoint_errors: Vec<String>,
    suppressed_counts: BTreeMap<String, u64>,
}

impl SweepOutcome {
    /// Sorts the findings and fills the counters (as [`ScanOutcome::finish`]), keeping the
    /// suppression counts of every repository even when the suppressed findings were not
    /// kept.
    pub fn finish(&mut self, started: Instant) {
        self.outcome.finish(started);
        self.outcome.summary.suppressed = self.suppressed_counts.clone();
    }

    /// Readies the outcome for the report: errors escaped for the terminal, and the
    /// summary told how many repositories were listed before sharding and which shard
    /// this is (`shard`: `K/N` and what it split, `repo` or `blob`).
    pub fn label(&mut self, listed: usize, shard: Option<(String, &str)>) {
        let o = &mut self.outcome;
        for e in &mut o.errors {
            *e = crate::report::escape::escape(e).into_owned();
        }
        let extra = &mut o.summary.extra;
        extra.insert("repositories_listed".into(), serde_json::json!(listed));
        if let Some((k_of_n, by)) = shard {
            extra.insert("shard".into(), serde_json::json!(k_of_n));
            extra.insert("shard_by".into(), serde_json::json!(by));
        }
    }

    fn add(&mut self, entry: RepoEntry, keep_suppressed: bool) {
        let s = &mut self.outcome.summary;
        let c = &entry.counts;
        s.files_scanned += c.blobs_scanned;
        s.bytes_scanned += c.bytes;
        for (k, v) in &c.skipped {
            *s.skipped.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &c.suppressed {
            *self.suppressed_counts.entry(k.clone()).or_default() += v;
        }
        for item in &c.skipped_files {
            s.list_skipped(item.clone());
        }
        bump(s, "commits_walked", c.commits);
        bump(s, "unique_blobs", c.unique_blobs);
        bump(s, "blobs_scanned", c.blobs_scanned);
        bump(s, "repositories_scanned", 1);
        if let Some(facts) = &c.share {
            let all = s
                .extra
                .entry(BLOB_SHARES.into())
                .or_insert_with(|| serde_json::json!({}));
            if let Some(all) = all.as_object_mut() {
                all.insert(
                    entry.repository.clone(),
                    serde_json::to_value(facts).unwrap_or_default(),
                );
            }
        }
        let bad = |e: serde_json::Error| format!("{}: a stored finding: {e}", entry.repository);
        for v in entry.findings {
            match record::from_json(v) {
                Ok(f) => self.outcome.findings.push(f),
                Err(e) => self.outcome.errors.push(bad(e)),
            }
        }
        if keep_suppressed {
            for v in entry.suppressed {
                match record::from_json(v) {
                    Ok(f) => self.outcome.suppressed.push(f),
                    Err(e) => self.outcome.errors.push(bad(e)),
                }
            }
        }
        self.notes.extend(entry.notes);
        self.outcome.errors.extend(entry.errors);
    }

    fn fail(&mut self, f: Failure) {
        self.outcome.errors.push(format!(
            "repository {}: {} (skipped; the sweep went on)",
            f.repository, f.error
        ));
        self.failed.push(f);
    }
}

/// The summary key of a blob-split shard's [`ShareFacts`](git::share::ShareFacts), by
/// repository: read and removed by `leaksweep merge`.
pub const BLOB_SHARES: &str = "blob_shares";

fn bump(s: &mut Summary, key: &str, by: u64) {
    let v = s
        .extra
        .get(key)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    s.extra.insert(key.into(), serde_json::json!(v + by));
}

/// Where a swept repository comes from: its path, or its mirror after a clone or fetch.
fn locate(spec: &RepoSpec, opts: &SweepOptions) -> Result<PathBuf, String> {
    match &spec.location {
        Location::Path(p) => Ok(p.clone()),
        Location::Url(url) => match &opts.clone_dir {
            Some(dir) => clone::clone_or_fetch(url, dir),
            None => Err("a URL needs --clone-dir DIR to be cloned into".into()),
        },
    }
}

/// Sweeps one repository into a checkpoint entry.
fn sweep_one(
    pool: &rayon::ThreadPool,
    ctx: &ScanContext,
    triage: &Triage,
    spec: &RepoSpec,
    opts: &SweepOptions,
    p: &Progress,
    on_skip: &(dyn Fn(&Skipped) + Sync),
) -> Result<RepoEntry, String> {
    let path = locate(spec, opts)?;
    let repo = git::open(&path).map_err(|e| e.to_string())?;
    let o = git::sweep_on(pool, ctx, &repo, &Selection::All, &opts.git, p, on_skip)
        .map_err(|e| e.to_string())?;
    let id = &spec.id;
    let mut outcome = ScanOutcome {
        findings: o.findings,
        summary: o.summary,
        ..ScanOutcome::default()
    };
    for f in &mut outcome.findings {
        f.repository = Some(id.clone());
    }
    let mut entry = RepoEntry {
        repository: id.clone(),
        notes: o.notes.iter().map(|n| format!("{id}: {n}")).collect(),
        ..RepoEntry::default()
    };
    for pr in &o.problems {
        let line = format!("{id}: {}: {} object: {}", pr.object, pr.reason, pr.detail);
        if opts.keep_going {
            entry.notes.push(format!("skipped {line}"));
        } else {
            entry.errors.push(format!(
                "{line} (skipped; run `git fsck` in it to inspect, or --keep-going to not fail)"
            ));
        }
    }
    triage.apply(&mut outcome);
    if let Some(v) = &opts.validator {
        v.validate(&mut outcome.findings);
    }
    let s = &outcome.summary;
    let extra = |k: &str| {
        s.extra
            .get(k)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    entry.counts = RepoCounts {
        commits: extra("commits_walked"),
        unique_blobs: extra("unique_blobs"),
        blobs_scanned: s.files_scanned,
        bytes: s.bytes_scanned,
        skipped: s.skipped.clone(),
        suppressed: s.suppressed.clone(),
        skipped_files: s
            .skipped_files
            .iter()
            .map(|k| Skipped {
                path: format!("{id}: {}", k.path),
                ..k.clone()
            })
            .collect(),
        share: o.share_facts,
    };
    let settle = |mut f: Finding| {
        record::settle(&mut f, opts.show_secrets);
        record::to_json(&f)
    };
    entry.findings = outcome.findings.into_iter().map(settle).collect();
    entry.suppressed = outcome.suppressed.into_iter().map(settle).collect();
    Ok(entry)
}

/// Sweeps `repos` (already sharded), skipping those `resumed` from a checkpoint and
/// recording the others in it as they finish. A repository that cannot be located,
/// cloned, opened or walked is named in [`SweepOutcome::failed`] and the sweep goes on.
#[allow(clippy::too_many_arguments)]
pub fn run(
    pool: &rayon::ThreadPool,
    ctx: &ScanContext,
    triage: &Triage,
    repos: &[RepoSpec],
    opts: &SweepOptions,
    progress: &SweepProgress,
    checkpoint: Option<(Checkpoint, Vec<RepoEntry>)>,
    on_skip: &(dyn Fn(&Skipped) + Sync),
) -> SweepOutcome {
    let mut out = SweepOutcome::default();
    progress
        .repos_total
        .store(repos.len() as u64, Ordering::Relaxed);
    let (mut cp, previous) = match checkpoint {
        Some((cp, prev)) => (Some(cp), prev),
        None => (None, Vec::new()),
    };
    let wanted: std::collections::HashSet<&str> = repos.iter().map(|r| r.id.as_str()).collect();
    let mut finished: std::collections::HashSet<String> = std::collections::HashSet::new();
    for e in previous {
        if wanted.contains(e.repository.as_str()) && finished.insert(e.repository.clone()) {
            out.resumed += 1;
            progress.repos_done.fetch_add(1, Ordering::Relaxed);
            out.add(e, opts.keep_suppressed);
        }
    }
    let todo: Vec<&RepoSpec> = repos.iter().filter(|r| !finished.contains(&r.id)).collect();
    let shared = Mutex::new((out, cp.take()));
    // One lane per worker, each sweeping one repository at a time: a worker waiting on
    // the blobs of its repository may run another lane's work, but never starts more
    // repositories than there are lanes, so memory stays bounded by the lanes' largest
    // repositories (a parallel iterator over repositories could stack many of them).
    let lanes = pool.current_num_threads().clamp(1, todo.len().max(1));
    let next = AtomicU64::new(0);
    let sweep_lane = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(spec) = usize::try_from(i).ok().and_then(|i| todo.get(i)) else {
            break;
        };
        {
            let p = progress.start(&spec.id);
            let result = sweep_one(pool, ctx, triage, spec, opts, &p, on_skip);
            progress.finish(&spec.id, &p, result.is_err());
            let Ok(mut g) = shared.lock() else {
                return;
            };
            let (out, cp) = &mut *g;
            match result {
                Ok(entry) => {
                    if let Some(cp) = cp.as_mut() {
                        if let Err(e) = cp.append(&entry) {
                            out.checkpoint_errors.push(e);
                        }
                    }
                    out.add(entry, opts.keep_suppressed);
                }
                Err(error) => out.fail(Failure {
                    repository: spec.id.clone(),
                    error,
                }),
            }
        }
    };
    pool.install(|| {
        rayon::scope(|s| {
            for _ in 0..lanes {
                s.spawn(|_| sweep_lane());
            }
        });
    });
    let (mut out, _) = shared
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    out.failed.sort_by(|a, b| a.repository.cmp(&b.repository));
    out.outcome.errors.sort();
    out.notes.sort();
    let s = &mut out.outcome.summary;
    s.extra
        .insert("repositories".into(), serde_json::json!(repos.len()));
    s.extra.insert(
        "repositories_failed".into(),
        serde_json::json!(out.failed.len()),
    );
    s.extra.insert(
        "repositories_resumed".into(),
        serde_json::json!(out.resumed),
    );
    if !out.failed.is_empty() {
        let names: Vec<&str> = out.failed.iter().map(|f| f.repository.as_str()).collect();
        s.extra
            .insert("failed_repositories".into(), serde_json::json!(names));
    }
    bump(s, "repositories_scanned", 0);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::Scratch;

    /// A real finding of the `tok` rule (token number `n`) at `path`.
    pub(crate) fn sample(path: &str, n: u32) -> Finding {
        let ctx = crate::testutil::context("", 1 << 20);
        let text = format!("key = tok_q8Zr2mV9xK4tW7pL{n:04}\n");
        let mut found =
            crate::scan::scan_slice(&ctx, text.as_bytes(), path, &mut Scratch::default());
        assert_eq!(found.len(), 1);
        found.remove(0)
    }

    #[test]
    fn progress_sums_finished_and_current_repositories() {
        let sp = SweepProgress::default();
        sp.repos_total.store(3, Ordering::Relaxed);
        let a = sp.start("org/a");
        a.blobs_total.store(10, Ordering::Relaxed);
        a.blobs_done.store(4, Ordering::Relaxed);
        a.bytes_done.store(400, Ordering::Relaxed);
        let b = sp.start("org/b");
        b.blobs_done.store(1, Ordering::Relaxed);
        sp.finish("org/b", &b, true);
        let s = sp.snapshot();
        assert_eq!(
            s,
            Snapshot {
                repos_total: 3,
                repos_done: 1,
                repos_failed: 1,
                blobs: 5,
                bytes: 400,
                current: vec![("org/a".into(), 4, 10)],
            }
        );
    }

    #[test]
    fn resumed_entries_count_and_failures_are_named() {
        let mut f = sample("a.env", 1);
        f.repository = Some("org/a".into());
        record::settle(&mut f, false);
        let entry = RepoEntry {
            repository: "org/a".into(),
            counts: RepoCounts {
                commits: 2,
                blobs_scanned: 3,
                bytes: 30,
                ..RepoCounts::default()
            },
            findings: vec![record::to_json(&f)],
            ..RepoEntry::default()
        };
        let ctx = crate::testutil::context("", 1 << 20);
        let repos = vec![
            RepoSpec::parse("org/a"),
            RepoSpec::parse("/nonexistent/leaksweep/repo"),
            RepoSpec::parse("https://git.invalid/x.git"),
        ];
        let dir = tempfile::tempdir().unwrap();
        let (cp, _) = Checkpoint::open(&dir.path().join("cp"), "k").unwrap();
        let pool = crate::pipeline::thread_pool(2);
        let progress = SweepProgress::default();
        let mut out = run(
            &pool,
            &ctx,
            &Triage::none(
                crate::triage::paths::PathMap::new(
                    std::path::Path::new("."),
                    std::path::Path::new("."),
                ),
                b"salt",
            ),
            &repos,
            &SweepOptions::default(),
            &progress,
            Some((cp, vec![entry])),
            &|_| {},
        );
        out.finish(Instant::now());
        assert_eq!(out.resumed, 1);
        assert_eq!(out.outcome.findings.len(), 1);
        assert_eq!(out.outcome.summary.extra["commits_walked"], 2);
        let failed: Vec<&str> = out.failed.iter().map(|f| f.repository.as_str()).collect();
        assert_eq!(
            failed,
            ["/nonexistent/leaksweep/repo", "https://git.invalid/x.git"]
        );
        assert!(
            out.failed[1].error.contains("--clone-dir"),
            "{:?}",
            out.failed
        );
        assert_eq!(out.outcome.errors.len(), 2);
        assert_eq!(out.outcome.summary.extra["repositories_failed"], 2);
        assert_eq!(progress.snapshot().repos_done, 3);
    }
}
