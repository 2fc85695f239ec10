//! What a command prints at its end and the exit code it returns: the report, the
//! one-line summary on stderr, the notes about skipped files, and the exit-code policy
//! (see the codes below and the `cli` module documentation).

use std::io::{self, IsTerminal, Write};

use anyhow::Context;

use crate::finding::Skipped;
use crate::pipeline::ScanOutcome;
use crate::report::{self, Report, ReportOptions};
use crate::scan::ScanContext;

use super::args::{ColorChoice, OutputArgs};

/// Exit code for a clean run.
pub const EXIT_CLEAN: i32 = 0;
/// Default exit code when findings are reported.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code for errors.
pub const EXIT_ERROR: i32 = 2;
/// Exit code of `rotate` when a leaked value was left without any action (no route
/// matches it, or its finding could not be re-read) and nothing failed: a gate must not
/// read "nothing rotated" as success.
pub const EXIT_NOT_ROTATED: i32 = 3;

/// The exit code of a command's result: its own code, or [`EXIT_ERROR`] after naming the
/// error on stderr; a broken pipe (`leaksweep scan | head`) is a clean exit.
pub fn exit_code(result: anyhow::Result<i32>) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return EXIT_CLEAN;
            }
            eprintln!("leaksweep: error: {e:#}");
            EXIT_ERROR
        }
    }
}

/// True if the error chain ends in a broken pipe (`leaksweep scan | head`).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The skip callback for the pipeline: names skipped items on stderr. Binary files and
/// symlinks are routine in a tree and named only with `--verbose`.
pub fn skip_printer(verbose: bool) -> impl Fn(&Skipped) + Sync {
    move |s: &Skipped| {
        let routine = matches!(s.reason.as_str(), "binary" | "symlink");
        if verbose || !routine {
            if s.detail.is_empty() {
                eprintln!("leaksweep: skipped {}: {}", s.path, s.reason);
            } else {
                eprintln!("leaksweep: skipped {}: {} ({})", s.path, s.reason, s.detail);
            }
        }
    }
}

/// Names the binary files and symlinks that were skipped without a line of their own (see
/// [`skip_printer`]), a few of them, so that a user sees what was not scanned.
pub fn routine_skips_line(summary: &crate::finding::Summary) -> Option<String> {
    const SHOWN: usize = 5;
    let routine: Vec<&str> = summary
        .skipped_files
        .iter()
        .filter(|s| matches!(s.reason.as_str(), "binary" | "symlink"))
        .map(|s| s.path.as_str())
        .collect();
    let total: u64 = ["binary", "symlink"]
        .iter()
        .filter_map(|r| summary.skipped.get(*r))
        .sum();
    if total == 0 {
        return None;
    }
    let names: Vec<&str> = routine.iter().take(SHOWN).copied().collect();
    let mut line = if names.is_empty() {
        format!("leaksweep: not scanned (binary or symlink): {total}")
    } else {
        format!(
            "leaksweep: not scanned (binary or symlink): {}",
            names.join(", ")
        )
    };
    let shown = names.len() as u64;
    if shown > 0 && total > shown {
        line.push_str(&format!(" and {} more", total - shown));
    }
    line.push_str(" (-v names each; --format json lists them in skipped_files)");
    Some(line)
}

/// Writes the report, the stderr summary, and returns the exit code.
pub fn finish(ctx: &ScanContext, outcome: &ScanOutcome, out: &OutputArgs) -> anyhow::Result<i32> {
    for e in &outcome.errors {
        eprintln!("leaksweep: error: {e}");
    }
    let rules: Vec<(String, String, crate::rules::Severity)> = ctx
        .engine
        .rules()
        .iter()
        .map(|r| (r.spec.id.clone(), r.spec.name.clone(), r.spec.severity))
        .collect();
    let report = Report {
        findings: &outcome.findings,
        suppressed: &outcome.suppressed,
        summary: &outcome.summary,
        rules: &rules,
    };
    let stdout_tty = io::stdout().is_terminal();
    let color = match out.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            out.output.is_none() && stdout_tty && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let opts = ReportOptions {
        show_secrets: out.show_secrets,
        show_suppressed: out.show_suppressed,
        color,
    };
    match &out.output {
        Some(path) => {
            let f = crate::private_fs::create(path)
                .with_context(|| format!("creating report file {}", path.display()))?;
            let mut w = io::BufWriter::new(f);
            report::write(&mut w, out.format, &report, opts)
                .and_then(|()| w.flush())
                .with_context(|| format!("writing report file {}", path.display()))?;
        }
        None => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::new(stdout.lock());
            report::write(&mut w, out.format, &report, opts)
                .and_then(|()| w.flush())
                .context("writing the report to stdout")?;
        }
    }
    let clean = outcome.findings.is_empty() && outcome.errors.is_empty();
    if !(out.quiet && clean) {
        eprintln!("{}", summary_line(outcome));
        if !out.verbose {
            if let Some(line) = routine_skips_line(&outcome.summary) {
                eprintln!("{line}");
            }
        }
    }
    Ok(if !outcome.errors.is_empty() {
        EXIT_ERROR
    } else if outcome.findings.is_empty() {
        EXIT_CLEAN
    } else {
        out.exit_code
    })
}

/// The one-line stderr summary.
pub fn summary_line(outcome: &ScanOutcome) -> String {
    let s = &outcome.summary;
    let skipped: u64 = s.skipped.values().sum();
    let suppressed: u64 = s.suppressed.values().sum();
    // Git sweeps count blobs, and say how many commits they walked.
    let mut line = match s.extra.get("commits_walked") {
        Some(commits) => format!(
            "leaksweep: {commits} commits, {} blobs, {:.1} MB scanned",
            s.files_scanned,
            s.bytes_scanned as f64 / 1e6
        ),
        None => format!(
            "leaksweep: {} files, {:.1} MB scanned",
            s.files_scanned,
            s.bytes_scanned as f64 / 1e6
        ),
    };
    if skipped > 0 {
        let detail: Vec<String> = s.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        line.push_str(&format!(", {skipped} skipped ({})", detail.join(", ")));
    }
    line.push_str(&format!(
        ", {} finding{}",
        s.findings,
        if s.findings == 1 { "" } else { "s" }
    ));
    if suppressed > 0 {
        let detail: Vec<String> = s
            .suppressed
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        line.push_str(&format!(
            " ({suppressed} suppressed: {})",
            detail.join(", ")
        ));
    }
    if !s.validation.is_empty() {
        let detail: Vec<String> = s
            .validation
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        line.push_str(&format!(" (validation: {})", detail.join(", ")));
    }
    if s.errors > 0 {
        line.push_str(&format!(
            ", {} error{}",
            s.errors,
            if s.errors == 1 { "" } else { "s" }
        ));
    }
    line.push_str(&format!(
        ", {:.2} s, {:.1} MB/s",
        s.elapsed_ms as f64 / 1000.0,
        s.mb_per_s
    ));
    line
}
