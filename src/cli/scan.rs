//! `leaksweep scan`: files, directories and standard input.

use std::path::PathBuf;

use clap::Args;

use crate::pipeline::{scan_paths, ScanPlan, DEFAULT_MAX_FILE_SIZE};
use crate::source::walk::WalkOptions;

use super::common::{self, OutputArgs, RuleArgs};

/// Flags of `leaksweep scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan; `-` reads standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
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
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Parses `10M`, `512K`, `1G` or a plain number of bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (&s[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&s[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{s:?} is not a size (use a number of bytes, or 10K, 20M, 1G)"))
}

/// Runs `leaksweep scan`.
pub fn run(args: ScanArgs) -> anyhow::Result<i32> {
    let ctx = common::context(&args.rules, &args.output)?;
    let plan = ScanPlan {
        paths: args.paths,
        walk: WalkOptions {
            no_ignore: args.no_ignore,
            skip_hidden: args.no_hidden && !args.hidden,
            follow_links: args.follow,
            globs: args.globs,
            excludes: args.excludes,
            max_depth: args.max_depth,
        },
        threads: args.output.threads,
        max_file_size: args.max_file_size,
    };
    let mut outcome = scan_paths(&ctx, &plan, &common::skip_printer(args.output.verbose));
    outcome.summary.rules = ctx.engine.rules().len() as u64;
    common::finish(&ctx, &outcome, &args.output)
}
