//! Reporters: findings and summary -> text, JSON, JSON lines or SARIF.
//!
//! Reporters never scan and never decide exit codes. Secrets are redacted unless the
//! caller sets [`ReportOptions::show_secrets`].
//!
//! # JSON contract (`--format json`, version 1)
//!
//! ```json
//! {
//!   "version": 1,
//!   "tool": {"name": "leaksweep", "version": "0.1.0"},
//!   "findings": [ FINDING, ... ],
//!   "suppressed": [ FINDING, ... ],          // only with --show-suppressed
//!   "summary": { "files_scanned": 12, "bytes_scanned": 3400, "findings": 1, ... }
//! }
//! ```
//!
//! A FINDING has `rule_id`, `rule_name`, `severity`, `repository` (git scans), `path`,
//! `line`, `column`,
//! `end_line`, `end_column` (1-based; columns count characters), `offset` (byte offset
//! of the secret), `secret` (redacted unless `--show-secrets`), `fingerprint`
//! (`lsw1:<hex>`, keyed on rule and secret), `entropy`; decoded findings add `decoded`;
//! findings of path-scoped rules add `file_type` (`netrc`, `kubeconfig`); git findings add `commit`, `author`, `email`, `date`, `commit_summary`,
//! `present_at_head` (and `occurrences` with `--all-occurrences`); suppressed ones add
//! `suppressed` (the reason). `--format jsonl` writes one FINDING per line.
//!
//! With `--validate` a FINDING adds `validation`: `{"status": "live"|"invalid"|"unknown"|
//! "error", "provider", "identity" (when known), "scopes": [...], "detail" (when set),
//! "checked_at"}`, and the summary adds `validation` (findings by status). Without
//! `--validate` both keys are absent (not `null`), so reports are byte-identical to
//! those of earlier versions. SARIF carries the same object in each result's
//! `properties.validation`.

pub mod escape;
pub mod json;
pub mod sarif;
pub mod text;

use std::io::{self, Write};

use crate::finding::{Finding, Summary};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: grouped by file, colour on a terminal.
    Text,
    /// One JSON document: `{"version", "findings", "summary"}`.
    Json,
    /// One JSON finding per line.
    Jsonl,
    /// SARIF 2.1.0 for code-scanning UIs.
    Sarif,
}

/// Reporter settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportOptions {
    /// Print secrets whole instead of redacted.
    pub show_secrets: bool,
    /// Include suppressed findings.
    pub show_suppressed: bool,
    /// Use ANSI colours (text only).
    pub color: bool,
}

/// What a reporter writes.
pub struct Report<'a> {
    /// Reported findings.
    pub findings: &'a [Finding],
    /// Suppressed findings.
    pub suppressed: &'a [Finding],
    /// Counters.
    pub summary: &'a Summary,
    /// Rules, for SARIF's rule table: (id, name, severity).
    pub rules: &'a [(String, String, crate::rules::Severity)],
}

/// Writes `report` in `format`.
pub fn write(
    out: &mut dyn Write,
    format: Format,
    report: &Report<'_>,
    opts: ReportOptions,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(out, report, opts),
        Format::Json => json::write(out, report, opts),
        Format::Jsonl => {
            json::write_lines(out, report.findings, opts)?;
            if opts.show_suppressed {
                json::write_lines(out, report.suppressed, opts)?;
            }
            Ok(())
        }
        Format::Sarif => sarif::write(out, report, opts),
    }
}

/// The secret as a reporter shows it.
pub fn shown_secret(f: &Finding, opts: ReportOptions) -> String {
    if opts.show_secrets {
        f.secret.reveal_lossy()
    } else {
        f.secret.redacted()
    }
}
