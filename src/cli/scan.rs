//! `leaksweep scan`: files, directories and standard input.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::pipeline::{scan_paths, ScanPlan, DEFAULT_MAX_FILE_SIZE};
use crate::source::stream::StreamOptions;
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
    #[arg(short = 'L', long = "follow-links")]
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
            stream: StreamOptions::default(),
        }
    }
}

/// Flags for logs and streams: follow mode, decoding, stalls.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Watch one growing log like `tail -F` (follows rotation and truncation) and print
    /// findings as they appear, until interrupted. Scans what the file already holds
    /// first unless --from-end. Formats: jsonl (recommended) or text.
    #[arg(long = "follow", value_name = "FILE")]
    pub tail: Option<PathBuf>,
    /// With --follow: skip what the file holds now and report only new lines.
    #[arg(long, requires = "tail")]
    pub from_end: bool,
    /// With --follow: how often to look for new data, rotation and truncation.
    #[arg(long, value_name = "MS", default_value_t = 250, requires = "tail")]
    pub poll_interval: u64,
    /// How many nested encodings to undo when looking for secrets (base64, percent-
    /// encoding, JSON/C escapes; `percent+base64` is 2). 0 turns decoding off.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub max_decode_depth: u8,
    /// Stop decompressing a gzip, zstd or bzip2 file (or standard input) after SIZE
    /// bytes, so that a decompression bomb cannot stall the scan: what came before is
    /// scanned and reported, the file is named on stderr and in the summary
    /// (`decompression-capped`). Suffixes K, M, G; 0: no cap.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "2G")]
    pub max_decompressed_size: u64,
    /// Stop reading standard input after this many seconds without data, and report
    /// what arrived (by default a stall is only reported, after 10 s).
    #[arg(long, value_name = "SECS")]
    pub stall_timeout: Option<f64>,
}

impl LogArgs {
    /// Applies the decoding depth and the decompression cap to a scan context (the hidden
    /// `--chunk-size` is one of the limit flags).
    pub fn apply(&self, ctx: &mut crate::source::ScanContext) {
        ctx.decode.max_depth = self.max_decode_depth;
        ctx.limits.max_decompressed =
            (self.max_decompressed_size > 0).then_some(self.max_decompressed_size);
    }

    /// Stall handling for standard input.
    pub fn stream(&self) -> anyhow::Result<StreamOptions> {
        let mut stream = StreamOptions::default();
        if let Some(secs) = self.stall_timeout {
            if !(secs.is_finite() && secs > 0.0) {
                anyhow::bail!("--stall-timeout {secs}: give a positive number of seconds");
            }
            let t = Duration::from_secs_f64(secs);
            stream.stall_timeout = Some(t);
            stream.stall_notice = stream.stall_notice.min(t);
        }
        Ok(stream)
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
    /// Logs and streams.
    #[command(flatten)]
    pub logs: LogArgs,
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
    /// Live validation.
    #[command(flatten)]
    pub validate: super::validate::ValidateArgs,
}

/// Parses `10M`, `512K`, `1G` or a plain number of bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    crate::triage::config::parse_size(s)
}

/// Runs `leaksweep scan`.
pub fn run(mut args: ScanArgs) -> anyhow::Result<i32> {
    if let Some(file) = &args.logs.tail {
        if args.paths.len() != 1 || args.paths[0] != std::path::Path::new(".") {
            anyhow::bail!("--follow FILE watches one file: name no other PATH");
        }
        args.paths = vec![file.clone()];
    }
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
    args.logs.apply(&mut prep.ctx);
    let validator = args.validate.validator(&prep.project, &prep.ctx.salt)?;
    prep.ctx.neighbourhoods = validator
        .as_ref()
        .map(crate::validation::Validator::neighbourhoods);
    if let Some(file) = &args.logs.tail {
        let opts = super::follow::FollowArgs {
            from_end: args.logs.from_end,
            poll: Duration::from_millis(args.logs.poll_interval.max(10)),
        };
        let v = validator.as_ref().map(|v| (&args.validate, v));
        return super::follow::run(&prep.ctx, file, opts, &args.output, &prep.triage, v);
    }
    let mut plan = args.walk.plan(args.paths, args.output.threads, defaults);
    plan.stream = args.logs.stream()?;
    let mut outcome = scan_paths(&prep.ctx, &plan, &common::skip_printer(args.output.verbose));
    outcome.summary.rules = prep.ctx.engine.rules().len() as u64;
    prep.triage.apply(&mut outcome);
    if let Some(v) = &validator {
        args.validate.apply(v, &mut outcome, args.output.quiet)?;
    }
    let code = common::finish(&prep.ctx, &outcome, &args.output)?;
    Ok(args
        .validate
        .exit_code(code, &outcome, args.output.exit_code))
}
