//! `leaksweep git R1 R2 ...`, `--repos-from`, `--shard`, `--checkpoint`: the flags of a
//! sweep over many repositories, wired to its phases in [`crate::sweep`]: the list
//! ([`crate::sweep::list::resolve`]), the share ([`crate::sweep::shard`]), clones, scans
//! and the checkpoint ([`crate::sweep::run`]), and the report
//! ([`crate::sweep::SweepOutcome::label`], then the common report writer).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use clap::{Args, ValueEnum};

use crate::report::escape::escape;
use crate::source::git::share::BlobShare;
use crate::source::git::{self, GitOptions};
use crate::sweep::checkpoint::{sweep_key, Checkpoint, KeySettings};
use crate::sweep::list::{self, Location, RepoSpec};
use crate::sweep::shard::Shard;
use crate::sweep::validate::SweepValidator;
use crate::sweep::{self, SweepOptions, SweepProgress};

use super::common::{self, PathsFrom};
use super::git::GitArgs;
pub use super::progress::ProgressMode;
use super::progress::ProgressView;

/// Flags of a sweep over many repositories.
#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    /// Read repositories from FILE, one per line (`-`: standard input; blank lines and
    /// `#` comments are skipped): paths of work trees or bare mirrors, or URLs to clone.
    #[arg(long, value_name = "FILE")]
    pub repos_from: Option<PathBuf>,
    /// Clone URLs as bare mirrors (full history, every ref) into DIR; a later run reuses
    /// and fetches them. git runs with a scrubbed environment; credentials come from its
    /// credential helpers or an SSH agent, never from the URL.
    #[arg(long, value_name = "DIR")]
    pub clone_dir: Option<PathBuf>,
    /// Record finished repositories and their findings in FILE (mode 0600); the same
    /// command run again skips them and still writes the complete report.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Sweep share K of N (K counts from 0): the repositories whose id hashes to K, the
    /// same on every machine whatever the order of the list (or, see `--shard-by`, the
    /// blobs whose object id does). Join the shards' reports with `leaksweep merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// What `--shard` splits: `repo` (whole repositories), `blob` (every shard walks every
    /// repository's commits and scans its share of the blobs: one huge repository over
    /// many machines; needs `-f json`), `auto` (`blob` when one repository is listed,
    /// `repo` otherwise).
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = ShardBy::Auto, requires = "shard")]
    pub shard_by: ShardBy,
    /// Progress: `auto` (a live line when stderr is a terminal), `plain` (a line every few
    /// seconds and one at the end, for CI logs), `none`. `-q` shows none.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

/// What `--shard` splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShardBy {
    /// `blob` for one repository, `repo` for several.
    Auto,
    /// Whole repositories.
    Repo,
    /// The blobs of every repository, by object id.
    Blob,
}

/// True if the command line asks for a sweep rather than the history of one repository.
pub fn is_sweep(args: &GitArgs) -> bool {
    let s = &args.sweep;
    args.repos.len() > 1
        || s.repos_from.is_some()
        || s.checkpoint.is_some()
        || s.shard.is_some()
        || s.clone_dir.is_some()
        || args.repos.iter().any(|r| {
            matches!(
                RepoSpec::parse(&r.to_string_lossy()).location,
                Location::Url(_)
            )
        })
}

/// The share of blobs this process scans: with `--shard` split by blob (`auto`: when one
/// repository is listed, where a split by repository would give one shard everything).
fn blob_share(args: &GitArgs, listed: usize) -> Option<BlobShare> {
    let shard = args.sweep.shard?;
    let by_blob = match args.sweep.shard_by {
        ShardBy::Blob => true,
        ShardBy::Repo => false,
        ShardBy::Auto => listed == 1,
    };
    by_blob.then_some(BlobShare {
        index: shard.index,
        count: shard.count,
    })
}

/// Runs a sweep.
pub fn run(args: &GitArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    if args.range.is_some() || args.since.is_some() || args.staged || args.pre_push {
        bail!(
            "--range, --since, --staged and --pre-push take one repository; a sweep scans the \
             whole history of each"
        );
    }
    git::configure_libgit2();

    // The list, and this process's share of it.
    let s = &args.sweep;
    let (mut list, dropped) =
        list::resolve(&args.repos, s.repos_from.as_deref(), s.clone_dir.as_deref())
            .map_err(anyhow::Error::msg)?;
    if dropped > 0 && !args.output.quiet {
        eprintln!("leaksweep: note: {dropped} repository entries listed twice: swept once");
    }
    let listed = list.len();
    let blob_share = blob_share(args, listed);
    if let Some(shard) = s.shard.filter(|_| blob_share.is_none()) {
        list.retain(|r| shard.owns(&r.id));
    }

    // One project for the whole sweep: the config where the sweep runs (or --config),
    // so that one salt holds for every repository (see `crate::sweep`).
    let mut prep = common::prepare(
        &args.rules,
        &args.triage,
        args.output.no_inline_ignores,
        Path::new("."),
        PathsFrom::Root,
    )?;
    args.limits.apply(&mut prep.ctx)?;
    let mut output = args.output.clone();
    common::apply_output_defaults(&mut output, &prep.project.config.config.scan);
    if blob_share.is_some() && output.format != crate::report::Format::Json {
        bail!(
            "--shard-by blob writes what `leaksweep merge` needs to attribute each finding \
             (commit order, secrets at HEAD) in the JSON summary: use -f json"
        );
    }
    let validator = args
        .validate
        .validator(&prep.project, &prep.ctx.salt)?
        .map(|v| Arc::new(SweepValidator::new(v)));
    // The text around credentials that need it (Azure ids, a GCP key's fields, an
    // allow-listed URL) is kept for the validator, as in a single-repository run.
    prep.ctx.neighbourhoods = validator.as_ref().map(|v| v.validator().neighbourhoods());
    let ctx = &prep.ctx;
    let checkpoint = match &s.checkpoint {
        Some(p) => {
            let key = sweep_key(&KeySettings {
                salt: &ctx.salt,
                rules: ctx
                    .engine
                    .rules()
                    .iter()
                    .map(|r| r.spec.id.as_str())
                    .collect(),
                flags: format!(
                    "|{}|{}|{}|{}|{}|{}",
                    output.show_secrets,
                    output.show_suppressed,
                    args.all_occurrences,
                    args.keep_going,
                    args.max_blob_size,
                    ctx.inline_ignores
                ),
                blob_share: blob_share.map(|b| (b.index, b.count)),
                validate: validator.is_some(),
            });
            Some(Checkpoint::open(p, &key).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };

    // Clones, scans and the checkpoint.
    let opts = SweepOptions {
        git: GitOptions {
            threads: output.threads,
            max_blob_size: args.max_blob_size,
            all_occurrences: args.all_occurrences,
            blob_share,
        },
        clone_dir: s.clone_dir.clone(),
        keep_going: args.keep_going,
        show_secrets: output.show_secrets,
        keep_suppressed: output.show_suppressed,
        validator: validator.clone(),
    };
    let pool = crate::pipeline::thread_pool(output.threads);
    let progress = Arc::new(SweepProgress::default());
    let view = {
        let p = Arc::clone(&progress);
        let mode = if args.no_progress {
            ProgressMode::None
        } else {
            s.progress
        };
        ProgressView::start(mode, output.quiet, move || {
            p.snapshot().line(started.elapsed())
        })
    };
    let verbose = output.verbose;
    let printer = common::skip_printer(verbose);
    let quiet_skip = |s: &crate::finding::Skipped| {
        if verbose {
            printer(s);
        }
    };
    let mut out = sweep::run(
        &pool,
        ctx,
        &prep.triage,
        &list,
        &opts,
        &progress,
        checkpoint,
        &quiet_skip,
    );
    if let Some(v) = view {
        v.stop();
    }

    // The report.
    if !output.quiet {
        for n in &out.notes {
            eprintln!("leaksweep: note: {}", escape(n));
        }
        if out.resumed > 0 {
            eprintln!(
                "leaksweep: note: {} of {} repositories taken from the checkpoint",
                out.resumed,
                list.len()
            );
        }
    }
    for e in &out.checkpoint_errors {
        eprintln!("leaksweep: warning: {}", escape(e));
    }
    for hit in ctx.take_limit_hits() {
        printer(&hit);
        out.outcome.summary.skip(hit);
    }
    out.outcome.summary.rules = ctx.engine.rules().len() as u64;
    let by = if blob_share.is_some() { "blob" } else { "repo" };
    out.label(listed, s.shard.map(|k| (k.to_string(), by)));
    out.finish(started);
    if let Some(v) = &validator {
        args.validate
            .conclude(v.validator(), &mut out.outcome, output.quiet)?;
    }
    // Findings are settled: their text is already what the report shows.
    output.show_secrets = true;
    let code = common::finish(ctx, &out.outcome, &output)?;
    Ok(args
        .validate
        .exit_code(code, &out.outcome, output.exit_code))
}
