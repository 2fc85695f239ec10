//! `leaksweep scan`: files, directories and standard input.

use std::path::PathBuf;

use clap::Args;

use crate::pipeline::{scan_paths, ScanPlan, DEFAULT_MAX_FILE_SIZE};
use crate::source::walk::WalkOptions;
use crate::triage::config::ScanDefaults;

use super::common::{self, LimitArgs, OutputArgs, PathsFrom, RuleArgs, TriageArgs};

/// Which files a directory scan visits (shared by `scan` and `baseline create`).
#[derive(Debug, Clone, Args)]
pub struct WalkArgs {
    /// Do not honour .gitignore, .ignore and git exclude files.
    #[arg(long)]
    pub no_ignore: bool,
    /// Scan hidden files and directories (the default: `.env` files are hidden).
    #[arg(long, overrides_with = "no_hidden")]
    pub hidden: bool,
    /// Skip hidden files and directories.
    #[arg(long)]
    pub no_hidden: bool,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(short = 'L', long)]
    pub follow: bool,
    /// Include files matching GLOB; `!GLOB` excludes (ripgrep syntax; repeatable).
    #[arg(short = 'g', long = "glob", value_name = "GLOB")]
    pub globs: Vec<String>,
    /// Exclude files matching GLOB (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    pub excludes: Vec<String>,
    /// Descend at most N directories.
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,
    /// Skip walked files larger than this many bytes (files named explicitly are always
    /// scanned). Suffixes K, M, G are accepted.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
}

impl WalkArgs {
    /// The scan plan for `paths`, with the config's `[scan]` defaults filling in what the
    /// command line left alone (lists such as `exclude` are added to).
    pub fn plan(&self, paths: Vec<PathBuf>, threads: usize, d: &ScanDefaults) -> ScanPlan {
        let mut globs = self.globs.clone();
        globs.extend(d.glob.iter().cloned());
        let mut excludes = self.excludes.clone();
        excludes.extend(d.exclude.iter().cloned());
        let max_file_size = if common::given_on_command_line("max_file_size") {
            self.max_file_size
        } else {
            d.max_file_size.0
        };
        ScanPlan {
            paths,
            walk: WalkOptions {
                no_ignore: self.no_ignore || d.no_ignore,
                skip_hidden: !self.hidden && (self.no_hidden || !d.hidden),
                follow_links: self.follow || d.follow,
                globs,
                excludes,
                max_depth: self.max_depth,
            },
            threads,
            max_file_size,
        }
    }
}

/// Flags of `leaksweep scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan; `-` reads standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Walk settings.
    #[command(flatten)]
    pub walk: WalkArgs,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Config, ignore file, baseline.
    #[command(flatten)]
    pub triage: TriageArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Resource limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Parses `10M`, `512K`, `1G` or a plain number of bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    crate::triage::config::parse_size(s)
}

/// Runs `leaksweep scan`.
pub fn run(mut args: ScanArgs) -> anyhow::Result<i32> {
    let start = common::start_dir(&args.paths);
    let mut prep = common::prepare(
        &args.rules,
        &args.triage,
        args.output.no_inline_ignores,
        &start,
        PathsFrom::CurrentDir,
    )?;
    args.limits.apply(&mut prep.ctx)?;
    let defaults = &prep.project.config.config.scan;
    common::apply_output_defaults(&mut args.output, defaults);
    let plan = args.walk.plan(args.paths, args.output.threads, defaults);
    let mut outcome = scan_paths(&prep.ctx, &plan, &common::skip_printer(args.output.verbose));
    outcome.summary.rules = prep.ctx.engine.rules().len() as u64;
    prep.triage.apply(&mut outcome);
    common::finish(&prep.ctx, &outcome, &args.output)
}
