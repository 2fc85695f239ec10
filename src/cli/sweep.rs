//! `leaksweep git R1 R2 ...`, `--repos-from`, `--shard`, `--checkpoint`: the command line
//! of a sweep over many repositories, and its progress display. The work is in
//! [`crate::sweep`].

use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use sha2::{Digest, Sha256};

use crate::report::escape::escape;
use crate::source::git::share::BlobShare;
use crate::source::git::{self, GitOptions};
use crate::sweep::checkpoint::Checkpoint;
use crate::sweep::list::{self, Location, RepoSpec};
use crate::sweep::shard::Shard;
use crate::sweep::validate::SweepValidator;
use crate::sweep::{self, Snapshot, SweepOptions, SweepProgress};

use super::common::{self, PathsFrom};
use super::git::GitArgs;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// A live line on stderr when it is a terminal; nothing otherwise.
    Auto,
    /// A plain line every few seconds, for CI logs (sweeps).
    Plain,
    /// Nothing.
    None,
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

/// Seconds between two lines of `--progress plain`.
pub const PLAIN_EVERY: Duration = Duration::from_secs(5);

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
    /// same on every machine whatever the order of the list. Join the shards' reports with
    /// `leaksweep merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// What `--shard` splits: `repo` (whole repositories), `blob` (every shard walks every
    /// repository's commits and scans its share of the blobs: one huge repository over
    /// many machines; needs `-f json`), `auto` (`blob` when one repository is listed,
    /// `repo` otherwise).
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = ShardBy::Auto, requires = "shard")]
    pub shard_by: ShardBy,
    /// Progress: `auto` (a live line when stderr is a terminal), `plain` (a line every few
    /// seconds, for CI logs; sweeps only), `none`. `-q` shows none.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
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

/// The repositories named on the command line and in `--repos-from`, repeated ones
/// dropped.
fn repository_list(args: &GitArgs) -> anyhow::Result<Vec<RepoSpec>> {
    let mut list: Vec<RepoSpec> = args
        .repos
        .iter()
        .map(|p| RepoSpec::parse(&p.to_string_lossy()))
        .collect();
    if let Some(f) = &args.sweep.repos_from {
        let text = if f.as_os_str() == "-" {
            let mut t = String::new();
            io::stdin()
                .read_to_string(&mut t)
                .context("reading the repository list on stdin")?;
            t
        } else {
            std::fs::read_to_string(f).with_context(|| {
                format!(
                    "{}: cannot read the repository list (give a file with one repository \
                     per line)",
                    f.display()
                )
            })?
        };
        list.extend(list::parse_list(&text));
    }
    let dropped = list::dedup(&mut list);
    if dropped > 0 && !args.output.quiet {
        eprintln!("leaksweep: note: {dropped} repository entries listed twice: swept once");
    }
    Ok(list)
}

/// The identity of a sweep's settings, so that `--checkpoint` is never resumed by a run
/// whose findings would differ (other rules, salt, secrets shown or not, ...).
fn sweep_key(
    args: &GitArgs,
    ctx: &crate::source::ScanContext,
    blob_share: Option<BlobShare>,
) -> String {
    let mut h = Sha256::new();
    // A share of the blobs changes every repository's findings; a share of the
    // repositories does not change any.
    if let Some(s) = blob_share {
        h.update(format!("blobs {}/{}|", s.index, s.count));
    }
    h.update(env!("CARGO_PKG_VERSION"));
    h.update([0]);
    h.update(&ctx.salt);
    for r in ctx.engine.rules() {
        h.update([0]);
        h.update(&r.spec.id);
    }
    h.update(
        format!(
            "|{}|{}|{}|{}|{}|{}",
            args.output.show_secrets,
            args.output.show_suppressed,
            args.all_occurrences,
            args.keep_going,
            args.max_blob_size,
            ctx.inline_ignores
        )
        .as_bytes(),
    );
    // Records keep their validation result: a sweep with --validate resumes only its own
    // checkpoints (a checkpoint without results would leave findings unvalidated).
    h.update(format!("|validate={}", args.validate.validate).as_bytes());
    hex::encode(&h.finalize()[..16])
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
    let mut list = repository_list(args)?;
    if list.is_empty() {
        bail!("no repositories to sweep: name them, or give --repos-from FILE");
    }
    let listed = list.len();
    let blob_share = blob_share(args, listed);
    if let Some(shard) = args.sweep.shard.filter(|_| blob_share.is_none()) {
        list.retain(|r| shard.owns(&r.id));
    }
    if args.sweep.clone_dir.is_none() {
        if let Some(r) = list.iter().find(|r| matches!(r.location, Location::Url(_))) {
            bail!(
                "{}: a URL needs --clone-dir DIR (its bare mirror is kept there and fetched \
                 on the next run)",
                escape(&r.id)
            );
        }
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
    let ctx = &prep.ctx;
    let key = sweep_key(args, ctx, blob_share);
    let checkpoint = match &args.sweep.checkpoint {
        Some(p) => Some(Checkpoint::open(p, &key).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let opts = SweepOptions {
        git: GitOptions {
            threads: output.threads,
            max_blob_size: args.max_blob_size,
            all_occurrences: args.all_occurrences,
            blob_share,
        },
        clone_dir: args.sweep.clone_dir.clone(),
        keep_going: args.keep_going,
        show_secrets: output.show_secrets,
        keep_suppressed: output.show_suppressed,
        validator: validator.clone(),
    };
    let pool = crate::pipeline::thread_pool(output.threads);
    let progress = Arc::new(SweepProgress::default());
    let mode = if output.quiet || args.no_progress {
        ProgressMode::None
    } else {
        args.sweep.progress
    };
    let view = ProgressView::start(mode, Arc::clone(&progress));
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
    let o = &mut out.outcome;
    for e in &mut o.errors {
        *e = escape(e).into_owned();
    }
    for hit in ctx.take_limit_hits() {
        printer(&hit);
        o.summary.skip(hit);
    }
    o.summary.rules = ctx.engine.rules().len() as u64;
    o.summary
        .extra
        .insert("repositories_listed".into(), serde_json::json!(listed));
    if let Some(shard) = args.sweep.shard {
        o.summary
            .extra
            .insert("shard".into(), serde_json::json!(shard.to_string()));
        let by = if blob_share.is_some() { "blob" } else { "repo" };
        o.summary
            .extra
            .insert("shard_by".into(), serde_json::json!(by));
    }
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

/// The sweep's progress on stderr: a live line on a terminal, or plain lines for logs.
struct ProgressView {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<()>,
}

impl ProgressView {
    fn start(mode: ProgressMode, p: Arc<SweepProgress>) -> Option<ProgressView> {
        let live = match mode {
            ProgressMode::None => return None,
            ProgressMode::Auto => {
                if !io::stderr().is_terminal() {
                    return None;
                }
                true
            }
            ProgressMode::Plain => false,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let started = Instant::now();
            let mut last_plain = Instant::now();
            let mut last = String::new();
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let line = sweep_line(&p.snapshot(), started.elapsed());
                if live {
                    let line = fit(&line, terminal_width());
                    if line != last {
                        eprint!("\r\x1b[2K{line}");
                        last = line;
                    }
                } else if last_plain.elapsed() >= PLAIN_EVERY {
                    eprintln!("{line}");
                    last_plain = Instant::now();
                }
            }
            if live {
                eprint!("\r\x1b[2K");
            }
        });
        Some(ProgressView { stop, handle })
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
    }
}

/// The width of the terminal on stderr (80 if unknown), so that the live line never
/// wraps (a wrapped line cannot be redrawn in place).
fn terminal_width() -> usize {
    #[cfg(unix)]
    {
        let mut ws = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes one `winsize` into the struct we pass.
        let rc = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut ws) };
        if rc == 0 && ws.ws_col > 0 {
            return usize::from(ws.ws_col);
        }
    }
    80
}

/// `line` cut to `width - 1` characters.
fn fit(line: &str, width: usize) -> String {
    let max = width.saturating_sub(1).max(10);
    if line.chars().count() <= max {
        return line.to_string();
    }
    let mut s: String = line.chars().take(max - 1).collect();
    s.push('…');
    s
}

fn duration(secs: f64) -> String {
    // Rounded to whole seconds; an ETA is an estimate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s / 60) % 60),
    }
}

/// One line of sweep progress: repositories done of total (failed), blobs, bytes,
/// throughput, ETA over the whole sweep, and the repositories being swept.
fn sweep_line(s: &Snapshot, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    let mut line = format!("leaksweep: repos {}/{}", s.repos_done, s.repos_total);
    if s.repos_failed > 0 {
        line.push_str(&format!(" ({} failed)", s.repos_failed));
    }
    line.push_str(&format!(
        ", blobs {}, {:.1} MB, {:.1} MB/s",
        s.blobs,
        s.bytes as f64 / 1e6,
        s.bytes as f64 / 1e6 / secs
    ));
    if s.repos_done > 0 && s.repos_done < s.repos_total {
        let per = secs / s.repos_done as f64;
        line.push_str(&format!(
            ", ETA {}",
            duration(per * (s.repos_total - s.repos_done) as f64)
        ));
    }
    if !s.current.is_empty() {
        let now: Vec<String> = s
            .current
            .iter()
            .map(|(id, done, total)| {
                let id = escape(id);
                if *total > 0 {
                    format!("{id} {done}/{total}")
                } else {
                    id.into_owned()
                }
            })
            .collect();
        line.push_str(&format!("; now: {}", now.join(", ")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_line_shows_repos_rate_eta_and_current_ones_escaped() {
        let s = Snapshot {
            repos_total: 10,
            repos_done: 4,
            repos_failed: 1,
            blobs: 1200,
            bytes: 40_000_000,
            current: vec![("org/a".into(), 5, 20), ("evil\x1b[2J".into(), 0, 0)],
        };
        assert_eq!(
            sweep_line(&s, Duration::from_secs(8)),
            "leaksweep: repos 4/10 (1 failed), blobs 1200, 40.0 MB, 5.0 MB/s, ETA 12s; \
             now: org/a 5/20, evil\\x1b[2J"
        );
        let done = Snapshot {
            repos_total: 2,
            repos_done: 2,
            ..Snapshot::default()
        };
        assert_eq!(
            sweep_line(&done, Duration::from_secs(1)),
            "leaksweep: repos 2/2, blobs 0, 0.0 MB, 0.0 MB/s"
        );
        assert_eq!(duration(3725.0), "1h02m");
        assert_eq!(duration(61.0), "1m01s");
        assert_eq!(fit("abcdefghijklmnop", 12), "abcdefghij…");
    }
}
