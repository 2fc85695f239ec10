//! Wires a scan together: sources -> engine -> findings, on a thread pool.
//!
//! The pipeline owns threads, ordering and counters. It does not print: skipped items
//! are handed to a callback so that the CLI can name them on stderr as they happen.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use crate::finding::{sort_and_dedup, Finding, Skipped, Summary};
use crate::scan::ScanContext;
use crate::source::file::{scan_file, FileOutcome, FilePolicy, FileScratch};
use crate::source::stream::{scan_stream, StreamOptions};
use crate::source::walk::{self, WalkOptions};

/// Default `--max-file-size` for walked files: 100 MiB. Larger files in a tree are almost
/// always archives, dumps or media; name a file explicitly to scan it whatever its size.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 100 << 20;

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    /// Files and directories; `-` is standard input.
    pub paths: Vec<PathBuf>,
    /// Walk settings.
    pub walk: WalkOptions,
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Skip walked files above this size.
    pub max_file_size: u64,
    /// Stall handling for standard input.
    pub stream: StreamOptions,
}

impl Default for ScanPlan {
    fn default() -> Self {
        ScanPlan {
            paths: vec![PathBuf::from(".")],
            walk: WalkOptions::default(),
            threads: 0,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            stream: StreamOptions::default(),
        }
    }
}

/// The result of a scan: reported and suppressed findings, and counters.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    /// Findings to report, sorted.
    pub findings: Vec<Finding>,
    /// Findings suppressed by inline markers, ignore files, baselines or allowlists.
    pub suppressed: Vec<Finding>,
    /// Counters.
    pub summary: Summary,
    /// Errors, one line each, already free of secrets.
    pub errors: Vec<String>,
}

impl ScanOutcome {
    /// Moves suppressed findings out of `findings`, sorts both and the skipped list, and
    /// fills the counters.
    pub fn finish(&mut self, started: Instant) {
        self.regroup();
        self.summary.settle_skipped();
        let secs = started.elapsed().as_secs_f64();
        self.summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.summary.mb_per_s = if secs > 0.0 {
            ((self.summary.bytes_scanned as f64 / 1e6 / secs) * 10.0).round() / 10.0
        } else {
            0.0
        };
    }

    /// Moves findings marked suppressed out of `findings` and recounts findings,
    /// unique secrets, suppressions by reason and errors. Triage calls it again after
    /// marking findings of a finished scan (ignore file, baseline).
    pub fn regroup(&mut self) {
        let (sup, rep): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut self.findings)
            .into_iter()
            .partition(|f| f.suppressed.is_some());
        self.findings = rep;
        self.suppressed.extend(sup);
        sort_and_dedup(&mut self.findings);
        sort_and_dedup(&mut self.suppressed);
        self.summary.suppressed.clear();
        for f in &self.suppressed {
            if let Some(r) = f.suppressed {
                *self
                    .summary
                    .suppressed
                    .entry(r.as_str().to_string())
                    .or_default() += 1;
            }
        }
        self.summary.findings = self.findings.len() as u64;
        let mut fps: Vec<&str> = self
            .findings
            .iter()
            .map(|f| f.fingerprint.as_str())
            .collect();
        fps.sort_unstable();
        fps.dedup();
        self.summary.unique_secrets = fps.len() as u64;
        self.summary.errors = self.errors.len() as u64;
    }
}

#[derive(Default)]
struct Acc {
    findings: Vec<Finding>,
    summary: Summary,
    errors: Vec<String>,
}

/// Builds a rayon pool with `threads` workers (0: one per core).
pub fn thread_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("leaksweep-{i}"))
        .build()
        .expect("a thread pool can be built (threads is a small positive number)")
}

/// The walker's thread count for `threads` (0: one per core, as the pool).
fn walk_threads(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    } else {
        threads
    }
}

/// Scans the plan's paths. `on_skip` sees every skipped item as it happens.
pub fn scan_paths(
    ctx: &ScanContext,
    plan: &ScanPlan,
    on_skip: &(dyn Fn(&Skipped) + Sync),
) -> ScanOutcome {
    let started = Instant::now();
    let acc = Mutex::new(Acc::default());
    let mut roots = Vec::new();
    for p in &plan.paths {
        if p.as_os_str() == "-" {
            let s = thread_pool(plan.threads).install(|| {
                scan_stream(
                    ctx,
                    Box::new(std::io::stdin()),
                    "<stdin>",
                    plan.stream,
                    &mut |_| {},
                    &mut |idle| {
                        on_skip(&Skipped {
                            path: "<stdin>".into(),
                            reason: "stalled".into(),
                            detail: format!(
                                "no data for {} s; still waiting (end the input, or set \
                                 --stall-timeout)",
                                idle.as_secs()
                            ),
                        });
                    },
                )
            });
            let mut a = acc.lock().expect("no thread panics while holding the lock");
            a.summary.files_scanned += 1;
            a.summary.bytes_scanned += s.end.bytes;
            a.findings.extend(s.findings);
            if let Some(e) = s.end.error {
                a.errors.push(format!(
                    "<stdin>: read error after {} bytes: {e} (the bytes before it were scanned)",
                    s.end.bytes
                ));
            }
            if let Some(idle) = s.end.stalled {
                a.errors.push(format!(
                    "<stdin>: no data for {} s: stopped reading after {} bytes (they were \
                     scanned); raise --stall-timeout to wait longer",
                    idle.as_secs(),
                    s.end.bytes
                ));
            }
        } else if let Some(e) = named_path_error(p) {
            let mut a = acc.lock().expect("no thread panics while holding the lock");
            a.errors.push(e);
        } else {
            roots.push(p.clone());
        }
    }
    if !roots.is_empty() {
        match walk::build_parallel(&roots, &plan.walk, walk_threads(plan.threads)) {
            Ok(walker) => {
                let strip_dot = plan.paths.len() == 1 && plan.paths[0] == Path::new(".");
                // The walker's threads list and scan. (When one file wakes many rules at
                // once, the engine compiles them on rayon's pool for a moment.)
                let acc = &acc;
                walker.run(|| {
                    let mut scratch = FileScratch::default();
                    Box::new(move |entry| {
                        visit(ctx, plan, entry, strip_dot, &mut scratch, acc, on_skip);
                        ignore::WalkState::Continue
                    })
                });
            }
            Err(e) => acc
                .lock()
                .expect("no thread panics while holding the lock")
                .errors
                .push(e.to_string()),
        }
    }
    let mut a = acc
        .into_inner()
        .expect("no thread panicked while holding the lock");
    for hit in ctx.take_limit_hits() {
        on_skip(&hit);
        a.summary.skip(hit);
    }
    let mut out = ScanOutcome {
        findings: a.findings,
        suppressed: Vec::new(),
        summary: a.summary,
        errors: a.errors,
    };
    out.finish(started);
    out
}

/// Why a path named on the command line cannot be scanned, if it cannot: it is missing, a
/// symbolic link to nothing (or a loop), or a directory that cannot be listed. A named input
/// that cannot be read is an error (exit 2), while the same thing met during a walk is a
/// skip: a gate must not pass an input it never read.
pub fn named_path_error(p: &Path) -> Option<String> {
    let shown = p.display();
    if std::fs::symlink_metadata(p).is_err() {
        return Some(format!(
            "{shown}: no such file or directory (check the path)"
        ));
    }
    match std::fs::metadata(p) {
        Err(e) => Some(format!(
            "{shown}: cannot follow this symbolic link: {e} (check where it points)"
        )),
        Ok(m) if m.is_dir() => std::fs::read_dir(p)
            .err()
            .map(|e| format!("{shown}: cannot read this directory: {e} (check its permissions)")),
        Ok(_) => None,
    }
}

fn display_path(path: &Path, strip_dot: bool) -> String {
    let s = path.to_string_lossy();
    if strip_dot {
        if let Some(rest) = s.strip_prefix("./") {
            return rest.to_string();
        }
    }
    s.into_owned()
}

fn visit(
    ctx: &ScanContext,
    plan: &ScanPlan,
    entry: Result<ignore::DirEntry, ignore::Error>,
    strip_dot: bool,
    scratch: &mut FileScratch,
    acc: &Mutex<Acc>,
    on_skip: &(dyn Fn(&Skipped) + Sync),
) {
    let skip = |item: Skipped| {
        on_skip(&item);
        acc.lock()
            .expect("no thread panics while holding the lock")
            .summary
            .skip(item);
    };
    let entry = match entry {
        Ok(e) => e,
        Err(err) => {
            let (path, reason) = walk_error_parts(&err);
            skip(Skipped {
                path,
                reason,
                detail: err.to_string(),
            });
            return;
        }
    };
    let Some(ft) = entry.file_type() else {
        return; // stdin marker; handled above
    };
    if ft.is_dir() {
        return;
    }
    let display = display_path(entry.path(), strip_dot);
    if ft.is_symlink() {
        // Not following links: a link to a file inside the tree is scanned at its target.
        skip(Skipped {
            path: display,
            reason: "symlink".into(),
            detail: String::new(),
        });
        return;
    }
    let policy = FilePolicy {
        max_file_size: plan.max_file_size,
        explicit: entry.depth() == 0,
    };
    match scan_file(ctx, entry.path(), &display, policy, scratch) {
        FileOutcome::Scanned(found, bytes) => {
            let mut a = acc.lock().expect("no thread panics while holding the lock");
            a.summary.files_scanned += 1;
            a.summary.bytes_scanned += bytes;
            a.findings.extend(found);
        }
        FileOutcome::Partial(found, bytes, item) => {
            {
                let mut a = acc.lock().expect("no thread panics while holding the lock");
                a.summary.files_scanned += 1;
                a.summary.bytes_scanned += bytes;
                a.findings.extend(found);
            }
            skip(item);
        }
        // A file named on the command line that cannot be read is an error, not a skip.
        FileOutcome::Skipped(item) if policy.explicit && item.reason == "unreadable" => {
            acc.lock()
                .expect("no thread panics while holding the lock")
                .errors
                .push(format!(
                    "{}: cannot read this file: {}{}",
                    item.path,
                    item.detail,
                    if item.detail.contains("ermission denied") {
                        " (check its permissions)"
                    } else {
                        ""
                    }
                ));
        }
        FileOutcome::Skipped(item) => skip(item),
    }
}

fn walk_error_parts(err: &ignore::Error) -> (String, String) {
    match err {
        ignore::Error::WithPath { path, err } => {
            let (_, reason) = walk_error_parts(err);
            (path.to_string_lossy().into_owned(), reason)
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error_parts(err)
        }
        ignore::Error::Loop { child, .. } => {
            (child.to_string_lossy().into_owned(), "symlink-loop".into())
        }
        ignore::Error::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            (String::new(), "unreadable".into())
        }
        _ => (String::new(), "walk-error".into()),
    }
}
