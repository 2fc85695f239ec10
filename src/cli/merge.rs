//! `leaksweep merge REPORT...`: the reports of sweep shards joined into one (see
//! [`crate::sweep::merge`]).

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::pipeline::ScanOutcome;
use crate::report::{self, Format, Report};
use crate::sweep::merge::{merge, parse_report};
use crate::sweep::record::SETTLED;

use super::args::ColorChoice;
use super::{EXIT_CLEAN, EXIT_ERROR};

/// Flags of `leaksweep merge`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Exit codes: 0 no findings, 1 findings (--exit-code N), 2 a report could not be read, or a
shard counted errors or failed repositories (the merged report is still written).")]
pub struct MergeArgs {
    /// Shard reports (`--format json`, `jsonl` or `sarif`, detected from the content).
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,
    /// Format of the merged report.
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write the merged report to FILE (created with mode 0600) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit code when findings are reported.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub exit_code: i32,
    /// Print nothing on stderr unless something was found or went wrong.
    #[arg(short, long)]
    pub quiet: bool,
    /// Colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Runs `leaksweep merge`.
pub fn run(args: &MergeArgs) -> anyhow::Result<i32> {
    let mut parsed = Vec::new();
    for p in &args.reports {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("{}: cannot read the report (fix the path)", p.display()))?;
        parsed.push(parse_report(&text, &p.display().to_string()).map_err(anyhow::Error::msg)?);
    }
    let (findings, suppressed, summary, shard_errors) = merge(parsed);
    let mut outcome = ScanOutcome {
        findings,
        suppressed,
        summary,
        errors: Vec::new(),
    };
    let failed = outcome
        .summary
        .extra
        .get("repositories_failed")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if shard_errors > 0 || failed > 0 {
        outcome.errors.push(format!(
            "the shard reports count {shard_errors} error(s) and {failed} failed \
             repositories: this merge is not a clean sweep (see their stderr, and \
             `failed_repositories` in the summary)"
        ));
    }
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let opts = report::ReportOptions {
        color,
        show_suppressed: !outcome.suppressed.is_empty(),
        ..SETTLED
    };
    let report = Report {
        findings: &outcome.findings,
        suppressed: &outcome.suppressed,
        summary: &outcome.summary,
        rules: &[],
    };
    match &args.output {
        Some(path) => {
            let f = crate::private_fs::create(path)
                .with_context(|| format!("creating report file {}", path.display()))?;
            let mut w = io::BufWriter::new(f);
            report::write(&mut w, args.format, &report, opts)
                .and_then(|()| w.flush())
                .with_context(|| format!("writing report file {}", path.display()))?;
        }
        None => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::new(stdout.lock());
            report::write(&mut w, args.format, &report, opts)
                .and_then(|()| w.flush())
                .context("writing the report to stdout")?;
        }
    }
    for e in &outcome.errors {
        eprintln!("leaksweep: error: {e}");
    }
    let clean = outcome.findings.is_empty() && outcome.errors.is_empty();
    if !(args.quiet && clean) {
        eprintln!(
            "leaksweep: merged {} reports: {} findings, {} unique secrets",
            args.reports.len(),
            outcome.summary.findings,
            outcome.summary.unique_secrets
        );
    }
    Ok(if !outcome.errors.is_empty() {
        EXIT_ERROR
    } else if outcome.findings.is_empty() {
        EXIT_CLEAN
    } else {
        args.exit_code
    })
}
