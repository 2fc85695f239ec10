//! The text reporter, for people: findings grouped by file, short and exact. Every field
//! that comes from scanned data is escaped ([`super::escape`]): this goes to a terminal.

use std::io::{self, Write};

use crate::finding::Finding;
use crate::rules::Severity;

use super::escape::escape;
use super::{shown_secret, Report, ReportOptions};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const MAGENTA: &str = "\x1b[35m";

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "\x1b[1;31m",
        Severity::High => "\x1b[31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
        Severity::Info => "\x1b[2m",
    }
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("{code}{text}{RESET}")
    } else {
        text.to_string()
    }
}

fn write_group(
    out: &mut dyn Write,
    findings: &[Finding],
    opts: ReportOptions,
    label: &str,
) -> io::Result<()> {
    let c = opts.color;
    let mut last_path: Option<&str> = None;
    for f in findings {
        if last_path != Some(f.path.as_str()) {
            if last_path.is_some() {
                writeln!(out)?;
            }
            writeln!(
                out,
                "{}{}",
                paint(c, &format!("{BOLD}{MAGENTA}"), &escape(&f.path)),
                label
            )?;
            last_path = Some(&f.path);
        }
        let sev = format!("{:<8}", f.severity.as_str());
        write!(
            out,
            "  {}:{}  {} {}  {}  {}",
            f.line,
            f.column,
            paint(c, severity_color(f.severity), &sev),
            escape(&f.rule_id),
            paint(c, BOLD, &escape(&shown_secret(f, opts))),
            paint(c, DIM, &f.fingerprint),
        )?;
        if let Some(d) = &f.decoded {
            write!(out, "  (decoded: {})", escape(d))?;
        }
        if let Some(t) = &f.file_type {
            write!(out, "  (file type: {t})")?;
        }
        if let Some(r) = f.suppressed {
            write!(out, "  [suppressed: {}]", r.as_str())?;
        }
        writeln!(out)?;
        if let Some(g) = &f.git {
            let short = g.commit.get(..12).unwrap_or(&g.commit);
            writeln!(
                out,
                "      {}",
                paint(
                    c,
                    DIM,
                    &format!(
                        "introduced in {short} by {} <{}> on {}: {}{}",
                        escape(&g.author),
                        escape(&g.email),
                        escape(&g.date),
                        escape(&g.summary),
                        if g.present_at_head {
                            ""
                        } else {
                            " (not at HEAD: history only)"
                        }
                    )
                )
            )?;
        }
    }
    Ok(())
}

/// Writes the text report.
pub fn write(out: &mut dyn Write, report: &Report<'_>, opts: ReportOptions) -> io::Result<()> {
    write_group(out, report.findings, opts, "")?;
    if opts.show_suppressed && !report.suppressed.is_empty() {
        if !report.findings.is_empty() {
            writeln!(out)?;
        }
        write_group(out, report.suppressed, opts, " (suppressed)")?;
    }
    Ok(())
}
