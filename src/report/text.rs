//! The text reporter, for people: findings grouped by file, short and exact.

use std::io::{self, Write};

use crate::finding::validation::{Status, Validation};
use crate::finding::Finding;
use crate::rules::Severity;

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

/// The validation result as the text report shows it: `[live: identity]`, with the
/// detail for the statuses that need one. Provider text is free of control characters.
pub fn validation_label(v: &Validation) -> String {
    let mut s = format!("[{}", v.status.as_str());
    if !v.provider.is_empty() {
        s.push_str(&format!(" {}", v.provider));
    }
    if let Some(id) = &v.identity {
        s.push_str(&format!(": {id}"));
    }
    if !v.scopes.is_empty() {
        s.push_str(&format!("; scopes {}", v.scopes.join(",")));
    }
    if !v.detail.is_empty() {
        s.push_str(&format!(" ({})", v.detail));
    }
    s.push(']');
    s.chars().filter(|c| !c.is_control()).collect()
}

fn status_color(s: Status) -> &'static str {
    match s {
        Status::Live => "\x1b[1;31m",
        Status::Error => "\x1b[33m",
        Status::Unknown | Status::Invalid => DIM,
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
    // Validated reports list live credentials first (then error, unknown, invalid); the
    // sort is stable, so each status keeps the report order.
    let mut ordered: Vec<&Finding> = findings.iter().collect();
    ordered.sort_by_key(|f| f.validation.as_ref().map_or(0, |v| v.status.rank()));
    for f in ordered {
        if last_path != Some(f.path.as_str()) {
            if last_path.is_some() {
                writeln!(out)?;
            }
            writeln!(
                out,
                "{}{}",
                paint(c, &format!("{BOLD}{MAGENTA}"), &f.path),
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
            f.rule_id,
            paint(c, BOLD, &shown_secret(f, opts)),
            paint(c, DIM, &f.fingerprint),
        )?;
        if let Some(d) = &f.decoded {
            write!(out, "  (decoded: {d})")?;
        }
        if let Some(r) = f.suppressed {
            write!(out, "  [suppressed: {}]", r.as_str())?;
        }
        if let Some(v) = &f.validation {
            write!(
                out,
                "  {}",
                paint(c, status_color(v.status), &validation_label(v))
            )?;
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
                        g.author,
                        g.email,
                        g.date,
                        g.summary,
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
