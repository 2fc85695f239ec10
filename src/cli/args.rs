//! Argument groups shared by several commands, and the parsers of their values.
//!
//! Commands flatten these groups into their own flags; the code that acts on a group
//! (its `apply` or `plan`) sits with it. No command module defines a group another one
//! uses, so commands never import each other for their flags.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, ValueEnum};

use crate::pipeline::{ScanPlan, DEFAULT_MAX_FILE_SIZE};
use crate::report::Format;
use crate::scan::ScanContext;
use crate::source::stream::StreamOptions;
use crate::source::walk::WalkOptions;
use crate::triage::config::ScanDefaults;

/// The flags the command line gave (clap ids of the subcommand that runs), as opposed to
/// defaulted ones, so that a project config's defaults fill in only the rest. Taken from
/// the one parse of the command line (`cli::main`); empty when a group is built in code,
/// where nothing counts as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Given(BTreeSet<String>);

impl Given {
    /// The flags given on the command line to the innermost subcommand of `matches`.
    pub fn of(matches: &ArgMatches) -> Given {
        let mut m = matches;
        while let Some((_, sub)) = m.subcommand() {
            m = sub;
        }
        Given(
            m.ids()
                .filter(|id| m.value_source(id.as_str()) == Some(ValueSource::CommandLine))
                .map(|id| id.as_str().to_string())
                .collect(),
        )
    }

    /// True if the flag with clap id `id` was given.
    pub fn has(&self, id: &str) -> bool {
        self.0.contains(id)
    }
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Rule selection flags.
#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    /// Add user rules from a TOML file or a directory of them (repeatable). gitleaks and
    /// betterleaks rule files are translated; what cannot be honoured is named on stderr.
    #[arg(long = "rules", value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,
    /// Run only these rule ids (comma-separated or repeated).
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Disable these rule ids (comma-separated or repeated).
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub disable: Vec<String>,
}

/// Output and exit-code flags.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Report format.
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE (created with mode 0600) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets whole. Off by default: reports show a short prefix and `…`.
    #[arg(long)]
    pub show_secrets: bool,
    /// Also list suppressed findings (inline markers, ignore file, baseline, allowlists).
    #[arg(long)]
    pub show_suppressed: bool,
    /// Ignore inline markers (`leaksweep:allow`, `gitleaks:allow`, ...), for audits.
    #[arg(long)]
    pub no_inline_ignores: bool,
    /// Exit code when findings are reported.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub exit_code: i32,
    /// Print nothing on stderr unless something was found or went wrong.
    #[arg(short, long)]
    pub quiet: bool,
    /// Name every skipped file on stderr (binary files included).
    #[arg(short, long)]
    pub verbose: bool,
    /// Colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Which of these flags the command line gave (see [`Given`]).
    #[arg(skip)]
    pub given: Given,
}

/// Resource limits shared by every scanning command, so that one hostile file or blob
/// cannot stall a CI gate or flood its report. A limit that bites is named on stderr and
/// counted in the summary's skipped items (`findings-capped`, `timeout`).
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Keep at most N findings per file or blob, the first by position (0: no cap).
    #[arg(long, value_name = "N", default_value_t = crate::scan::DEFAULT_MAX_FINDINGS_PER_FILE)]
    pub max_findings_per_file: usize,
    /// Stop scanning a file or blob after SECS seconds, at a chunk boundary (0: no limit).
    #[arg(long, value_name = "SECS", default_value_t = crate::scan::DEFAULT_FILE_TIMEOUT.as_secs_f64())]
    pub file_timeout: f64,
    /// Chunk size in bytes for large inputs (for tests of chunk-size independence).
    #[arg(long, hide = true, value_name = "BYTES", value_parser = parse_size)]
    pub chunk_size: Option<u64>,
}

impl LimitArgs {
    /// Applies the limits to a scan context.
    pub fn apply(&self, ctx: &mut ScanContext) -> anyhow::Result<()> {
        if !(self.file_timeout.is_finite() && self.file_timeout >= 0.0) {
            bail!("--file-timeout must be a number of seconds, 0 or more");
        }
        ctx.limits = crate::scan::Limits {
            max_findings_per_file: self.max_findings_per_file,
            file_timeout: (self.file_timeout > 0.0)
                .then(|| std::time::Duration::try_from_secs_f64(self.file_timeout).ok())
                .flatten(),
            ..ctx.limits
        };
        if let Some(c) = self.chunk_size {
            // Below the longest match span the overlap logic still holds, but tiny chunks
            // only make scans slow: 1 KiB is the floor.
            ctx.chunk_size = usize::try_from(c).unwrap_or(usize::MAX).max(1024);
        }
        Ok(())
    }
}

/// The project config flag, shared by every command that reads the config.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// Read the project config from FILE instead of `.leaksweep.toml` at the project root
    /// (the nearest parent of the scanned path holding `.leaksweep.toml` or `.git`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Triage flags shared by every scanning command: config, ignore file, baseline.
#[derive(Debug, Clone, Default, Args)]
pub struct TriageArgs {
    /// Project config.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Report only findings that are not in this baseline (`leaksweep baseline create`).
    /// Default: `scan.baseline` of the config, if set.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Accepted fingerprints, instead of the project's `.leaksweepignore`.
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// Do not apply the config's `scan.baseline` (for commands that write it).
    #[arg(skip)]
    pub skip_config_baseline: bool,
}

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
    /// Which of these flags the command line gave (see [`Given`]).
    #[arg(skip)]
    pub given: Given,
}

impl WalkArgs {
    /// The scan plan for `paths`, with the config's `[scan]` defaults filling in what the
    /// command line left alone (lists such as `exclude` are added to).
    pub fn plan(&self, paths: Vec<PathBuf>, threads: usize, d: &ScanDefaults) -> ScanPlan {
        let mut globs = self.globs.clone();
        globs.extend(d.glob.iter().cloned());
        let mut excludes = self.excludes.clone();
        excludes.extend(d.exclude.iter().cloned());
        let max_file_size = if self.given.has("max_file_size") {
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
    pub fn apply(&self, ctx: &mut crate::scan::ScanContext) {
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

/// Parses `10M`, `512K`, `1G` or a plain number of bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    crate::triage::config::parse_size(s)
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::super::{Cli, Command};
    use super::Given;

    fn given(argv: &[&str]) -> Given {
        let m = Cli::command().try_get_matches_from(argv).unwrap();
        Given::of(&m)
    }

    /// Only flags typed on the command line count: defaulted ones leave room for the
    /// project config's `[scan]` defaults.
    #[test]
    fn given_holds_the_typed_flags_of_the_subcommand() {
        let g = given(&["leaksweep", "scan", "--format", "json", "-j", "3", "."]);
        assert!(g.has("format") && g.has("threads") && g.has("paths"));
        assert!(!g.has("exit_code") && !g.has("max_file_size"));
        let g = given(&["leaksweep", "baseline", "create", "--max-file-size", "1M"]);
        assert!(g.has("max_file_size") && !g.has("threads"));
    }

    /// `cli::main` hands the one parse's [`Given`] to the groups that read it.
    #[test]
    fn parsed_commands_carry_what_was_given() {
        let argv = [
            "leaksweep",
            "scan",
            "--exit-code",
            "7",
            "--max-file-size",
            "2K",
        ];
        let m = Cli::command().try_get_matches_from(argv).unwrap();
        let mut cli = Cli::from_arg_matches(&m).unwrap();
        cli.command.note_given(&Given::of(&m));
        let Command::Scan(a) = cli.command else {
            panic!("not a scan");
        };
        assert!(a.output.given.has("exit_code") && !a.output.given.has("format"));
        assert!(a.walk.given.has("max_file_size"));
    }
}
