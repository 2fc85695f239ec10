//! `leaksweep git`: history sweeps, CI ranges, pre-commit (`--staged`) and pre-push.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use git2::{Oid, Repository, RevparseMode};

use crate::finding::Skipped;
use crate::pipeline::ScanOutcome;
use crate::source::git::walk::ObjectProblem;
use crate::source::git::{self, GitOptions, Progress, RangeSpec, Selection};

use super::args::{parse_size, LimitArgs, OutputArgs, RuleArgs, TriageArgs};
use super::common::{self, PathsFrom};
use super::output;
use super::progress::{ProgressMode, ProgressView};

/// Flags of `leaksweep git`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Modes (one at a time):
  leaksweep git [REPO]                 every commit reachable from any ref
  leaksweep git --range A..B           secrets the commits of A..B add (CI)
  leaksweep git --range origin/main...HEAD   same, from the merge base
  leaksweep git --since REV            shorthand for --range REV..HEAD
  leaksweep git --staged               what the index adds over HEAD (pre-commit)
  git's pre-push hook: leaksweep git --pre-push   (reads the hook's stdin)")]
pub struct GitArgs {
    /// The repository (a work tree, a directory inside one, or a bare repository);
    /// several, or URLs, make a sweep (see `--repos-from`). Default: `.`.
    #[arg(value_name = "REPO")]
    pub repos: Vec<PathBuf>,
    /// Report only secrets that the commits of a range add: `A..B` (commits in B not in A),
    /// `A...B` (from the merge base of A and B to B), `A..` (A..HEAD). A secret already
    /// in a file before the range is not reported again.
    #[arg(long, value_name = "A..B", conflicts_with_all = ["since", "staged", "pre_push"])]
    pub range: Option<String>,
    /// Shorthand for `--range REV..HEAD`.
    #[arg(long, value_name = "REV", conflicts_with_all = ["staged", "pre_push"])]
    pub since: Option<String>,
    /// Report only what the index adds over HEAD: new files and secrets on new or changed
    /// lines. Blobs are read from the index, never from the work tree. Works before the
    /// first commit.
    #[arg(long, conflicts_with = "pre_push")]
    pub staged: bool,
    /// Read git's pre-push hook lines (`<local ref> <local sha> <remote ref> <remote sha>`)
    /// on stdin and scan the commits being pushed.
    #[arg(long)]
    pub pre_push: bool,
    /// List every (commit, path, line) where each secret was written, not only the first.
    #[arg(long)]
    pub all_occurrences: bool,
    /// Report missing or corrupt objects as skipped without failing (exit 2 otherwise).
    #[arg(long)]
    pub keep_going: bool,
    /// Skip blobs larger than this (suffixes K, M, G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = git::DEFAULT_MAX_BLOB_SIZE)]
    pub max_blob_size: u64,
    /// Never draw the progress bar (it is drawn only when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Config, ignore file, baseline (paths in them are relative to the repository root).
    #[command(flatten)]
    pub triage: TriageArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Resource limits (per blob).
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Sweeps of many repositories.
    #[command(flatten)]
    pub sweep: super::sweep::SweepArgs,
    /// Live validation.
    #[command(flatten)]
    pub validate: super::validate::ValidateArgs,
}

/// Runs `leaksweep git`.
pub fn run(args: &GitArgs) -> anyhow::Result<i32> {
    if super::sweep::is_sweep(args) {
        return super::sweep::run(args);
    }
    let started = Instant::now();
    git::configure_libgit2();
    let repo_arg = args
        .repos
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let repo = git::open(&repo_arg)?;
    // The project (config, ignore file, baseline) is the repository's work tree, or the
    // repository itself when it is bare; finding paths are relative to its root.
    let start = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let mut prep = common::prepare(
        &args.rules,
        &args.triage,
        args.output.no_inline_ignores,
        &start,
        PathsFrom::Root,
    )?;
    args.limits.apply(&mut prep.ctx)?;
    let validator = args.validate.validator(&prep.project, &prep.ctx.salt)?;
    prep.ctx.neighbourhoods = validator
        .as_ref()
        .map(crate::validation::Validator::neighbourhoods);
    let mut output = args.output.clone();
    common::apply_output_defaults(&mut output, &prep.project.config.config.scan);
    let args = &GitArgs {
        output,
        ..args.clone()
    };
    let ctx = &prep.ctx;
    let verbose = args.output.verbose;
    let printer = output::skip_printer(verbose);

    let (findings, mut summary, problems, notes) = if args.staged {
        let o = git::staged::scan_staged(ctx, &repo, args.max_blob_size, &printer)?;
        (o.findings, o.summary, o.problems, o.notes)
    } else {
        let selection = selection(&repo, args)?;
        let progress = Arc::new(Progress::default());
        let bar = {
            let p = Arc::clone(&progress);
            let mode = if args.no_progress {
                ProgressMode::None
            } else {
                args.sweep.progress
            };
            // Rates and the ETA count from the start of the blob scan, not of the walk.
            let mut scan_started: Option<Instant> = None;
            ProgressView::start(mode, args.output.quiet, move || {
                if scan_started.is_none() && p.blobs_total.load(Ordering::Relaxed) > 0 {
                    scan_started = Some(Instant::now());
                }
                progress_line(&p, scan_started.map_or(Duration::ZERO, |t| t.elapsed()))
            })
        };
        let opts = GitOptions {
            threads: args.output.threads,
            max_blob_size: args.max_blob_size,
            all_occurrences: args.all_occurrences,
            blob_share: None,
        };
        // Skipped blobs are listed in the summary; on stderr only with --verbose (a history
        // holds thousands of images and archives).
        let quiet_skip = |s: &Skipped| {
            if verbose {
                printer(s);
            }
        };
        // The pool every other scan runs on, rather than one `git::sweep` would build.
        let pool = crate::pipeline::thread_pool(args.output.threads);
        let result = git::sweep_on(&pool, ctx, &repo, &selection, &opts, &progress, &quiet_skip);
        if let Some(bar) = bar {
            bar.stop();
        }
        let o = result?;
        (o.findings, o.summary, o.problems, o.notes)
    };

    if !args.output.quiet {
        for n in &notes {
            eprintln!("leaksweep: note: {n}");
        }
    }
    for hit in ctx.take_limit_hits() {
        printer(&hit);
        summary.skip(hit);
    }
    summary.rules = ctx.engine.rules().len() as u64;
    let mut findings = findings;
    let repository = repo_arg.to_string_lossy().into_owned();
    for f in &mut findings {
        f.repository = Some(repository.clone());
    }
    let mut outcome = ScanOutcome {
        findings,
        suppressed: Vec::new(),
        summary,
        errors: Vec::new(),
    };
    report_problems(&problems, args.keep_going, &mut outcome);
    prep.triage.apply(&mut outcome);
    outcome.finish(started);
    if let Some(v) = &validator {
        args.validate.apply(v, &mut outcome, args.output.quiet)?;
    }
    let code = output::finish(ctx, &outcome, &args.output)?;
    Ok(args
        .validate
        .exit_code(code, &outcome, args.output.exit_code))
}

fn report_problems(problems: &[ObjectProblem], keep_going: bool, outcome: &mut ScanOutcome) {
    for p in problems {
        let line = format!("{}: {} object: {}", p.object, p.reason, p.detail);
        if keep_going {
            eprintln!("leaksweep: skipped {line}");
        } else {
            outcome.errors.push(format!(
                "{line} (skipped; run `git fsck` to inspect, or --keep-going to not fail)"
            ));
        }
    }
}

/// Turns `--range`, `--since` and `--pre-push` into a selection.
fn selection(repo: &Repository, args: &GitArgs) -> anyhow::Result<Selection> {
    if let Some(spec) = &args.range {
        return Ok(Selection::Ranges(vec![parse_range(repo, spec)?]));
    }
    if let Some(rev) = &args.since {
        let from = commit_of(repo, rev)?;
        let head = commit_of(repo, "HEAD")?;
        return Ok(Selection::Ranges(vec![RangeSpec {
            include: vec![head],
            hide: vec![from],
        }]));
    }
    if args.pre_push {
        // The pre-commit framework runs pre-push hooks with the range in environment
        // variables instead of git's stdin lines (and stdin may be a terminal).
        if let Ok(to) = std::env::var("PRE_COMMIT_TO_REF") {
            let from = std::env::var("PRE_COMMIT_FROM_REF").unwrap_or_default();
            let remote = std::env::var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_default();
            let to_sha = commit_of(repo, &to)?;
            let from_sha = if from.is_empty() {
                "0".repeat(40)
            } else {
                commit_of(repo, &from)?.to_string()
            };
            let line = format!("{to} {to_sha} {remote} {from_sha}\n");
            return pre_push_ranges(repo, &line).map(Selection::Ranges);
        }
        let mut input = String::new();
        io::stdin()
            .read_to_string(&mut input)
            .context("reading the pre-push lines on stdin")?;
        return pre_push_ranges(repo, &input).map(Selection::Ranges);
    }
    Ok(Selection::All)
}

fn commit_of(repo: &Repository, rev: &str) -> anyhow::Result<Oid> {
    let obj = repo
        .revparse_single(rev)
        .map_err(|e| anyhow::anyhow!("{rev:?}: unknown revision ({})", e.message()))?;
    let c = obj
        .peel_to_commit()
        .map_err(|e| anyhow::anyhow!("{rev:?}: not a commit ({})", e.message()))?;
    Ok(c.id())
}

/// Parses `A..B`, `A...B` (merge base of A and B, to B) and `A..` (to HEAD).
fn parse_range(repo: &Repository, spec: &str) -> anyhow::Result<RangeSpec> {
    if !spec.contains("..") {
        bail!(
            "--range {spec:?}: expected A..B (or A...B from the merge base); use --since REV \
             for REV..HEAD"
        );
    }
    let rs = repo
        .revparse(spec)
        .map_err(|e| anyhow::anyhow!("--range {spec:?}: {}", e.message()))?;
    let peel = |o: Option<&git2::Object<'_>>, side: &str| -> anyhow::Result<Oid> {
        let o = o.ok_or_else(|| anyhow::anyhow!("--range {spec:?}: missing {side} side"))?;
        Ok(o.peel_to_commit()
            .map_err(|e| anyhow::anyhow!("--range {spec:?}: {side} side: {}", e.message()))?
            .id())
    };
    let from = peel(rs.from(), "left")?;
    let to = peel(rs.to(), "right")?;
    let hide = if rs.mode().contains(RevparseMode::MERGE_BASE) {
        repo.merge_base(from, to)
            .map_err(|e| anyhow::anyhow!("--range {spec:?}: no merge base ({})", e.message()))?
    } else {
        from
    };
    Ok(RangeSpec {
        include: vec![to],
        hide: vec![hide],
    })
}

/// Turns git's pre-push stdin into ranges. A deleted ref pushes nothing; a new remote ref
/// (remote sha all zeros) pushes what no remote-tracking ref has; otherwise the range is
/// `remote..local`, or as for a new ref when the remote commit is not available locally.
pub fn pre_push_ranges(repo: &Repository, input: &str) -> anyhow::Result<Vec<RangeSpec>> {
    let mut out = Vec::new();
    let remotes = || -> Vec<Oid> {
        let mut v = Vec::new();
        if let Ok(refs) = repo.references_glob("refs/remotes/*") {
            v.extend(
                refs.flatten()
                    .filter_map(|r| r.peel_to_commit().ok().map(|c| c.id())),
            );
        }
        v
    };
    for (n, line) in input.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let [_local_ref, local_sha, _remote_ref, remote_sha] = fields[..] else {
            bail!(
                "pre-push input line {}: expected `<local ref> <local sha> <remote ref> \
                 <remote sha>` (git passes these on stdin to the pre-push hook)",
                n + 1
            );
        };
        let parse = |s: &str| {
            Oid::from_str(s)
                .map_err(|_| anyhow::anyhow!("pre-push input line {}: {s:?} is not a sha", n + 1))
        };
        let local = parse(local_sha)?;
        let remote = parse(remote_sha)?;
        if local.is_zero() {
            continue; // a deletion pushes no content
        }
        let hide = if !remote.is_zero() && repo.find_commit(remote).is_ok() {
            vec![remote]
        } else {
            remotes()
        };
        out.push(RangeSpec {
            include: vec![local],
            hide,
        });
    }
    Ok(out)
}

fn progress_line(p: &Progress, elapsed: Duration) -> String {
    let commits = p.commits_total.load(Ordering::Relaxed);
    let cdone = p.commits_done.load(Ordering::Relaxed);
    let blobs = p.blobs_total.load(Ordering::Relaxed);
    let bdone = p.blobs_done.load(Ordering::Relaxed);
    let bytes = p.bytes_done.load(Ordering::Relaxed);
    let secs = elapsed.as_secs_f64().max(0.001);
    if blobs == 0 {
        return format!("leaksweep: commits {cdone}/{commits}");
    }
    let mbps = bytes as f64 / 1e6 / secs;
    let eta = if bdone > 0 && bdone < blobs {
        let rate = bdone as f64 / secs;
        format!(", ETA {:.0} s", (blobs - bdone) as f64 / rate)
    } else {
        String::new()
    };
    format!(
        "leaksweep: commits {cdone}/{commits}, blobs {bdone}/{blobs}, {:.1} MB, {mbps:.1} MB/s{eta}",
        bytes as f64 / 1e6
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_line_shows_counts_rate_and_eta() {
        let p = Progress::default();
        p.commits_total.store(10, Ordering::Relaxed);
        p.commits_done.store(4, Ordering::Relaxed);
        assert_eq!(progress_line(&p, Duration::ZERO), "leaksweep: commits 4/10");
        p.commits_done.store(10, Ordering::Relaxed);
        p.blobs_total.store(100, Ordering::Relaxed);
        p.blobs_done.store(25, Ordering::Relaxed);
        p.bytes_done.store(50_000_000, Ordering::Relaxed);
        assert_eq!(
            progress_line(&p, Duration::from_secs(1)),
            "leaksweep: commits 10/10, blobs 25/100, 50.0 MB, 50.0 MB/s, ETA 3 s"
        );
    }
}
