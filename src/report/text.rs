//! The text reporter, for people: findings grouped by secret, each with its places. Every
//! field that comes from scanned data is escaped ([`super::escape`]): this goes to a terminal.

use std::io::{self, Write};

use crate::finding::validation::{Status, Validation};
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

/// Where a finding is: `repository: path:line:column`.
fn place(f: &Finding) -> String {
    let at = format!("{}:{}:{}", escape(&f.path), f.line, f.column);
    match &f.repository {
        Some(r) => format!("{}: {at}", escape(r)),
        None => at,
    }
}

/// Writes findings grouped by secret: one heading per secret (rule, severity, the secret,
/// its fingerprint and how many places hold it), then its places in report order. A
/// documentation token copied into ten files, or one key in fourteen repositories, reads
/// as one secret to rotate, not as ten or fourteen.
fn write_group(
    out: &mut dyn Write,
    findings: &[Finding],
    opts: ReportOptions,
    label: &str,
) -> io::Result<()> {
    let c = opts.color;
    // Secrets in the order of their first place; places keep the report order.
    let mut order: Vec<&str> = Vec::new();
    let mut places: std::collections::HashMap<&str, Vec<&Finding>> =
        std::collections::HashMap::new();
    for f in findings {
        let e = places.entry(f.fingerprint.as_str()).or_default();
        if e.is_empty() {
            order.push(&f.fingerprint);
        }
        e.push(f);
    }
    // Validated reports list live credentials first (then error, unknown, invalid); the
    // sort is stable, so each status keeps the report order.
    order.sort_by_key(|fp| {
        places
            .get(fp)
            .and_then(|g| g.first())
            .and_then(|f| f.validation.as_ref())
            .map_or(0, |v| v.status.rank())
    });
    for (n, fp) in order.iter().enumerate() {
        let Some(group) = places.get(fp) else {
            continue;
        };
        let Some(first) = group.first() else {
            continue;
        };
        if n > 0 {
            writeln!(out)?;
        }
        let sev = format!("{:<8}", first.severity.as_str());
        let count = if group.len() == 1 {
            String::new()
        } else {
            format!("  (1 secret, {} places)", group.len())
        };
        write!(
            out,
            "{} {}  {}  {}{}{}",
            paint(c, severity_color(first.severity), &sev),
            escape(&first.rule_id),
            paint(c, BOLD, &escape(&shown_secret(first, opts))),
            paint(c, DIM, &first.fingerprint),
            count,
            label
        )?;
        if let Some(v) = &first.validation {
            write!(
                out,
                "  {}",
                paint(c, status_color(v.status), &validation_label(v))
            )?;
        }
        writeln!(out)?;
        for f in group {
            write!(
                out,
                "  {}",
                paint(c, &format!("{BOLD}{MAGENTA}"), &place(f))
            )?;
            if let Some(d) = &f.decoded {
                write!(out, "  (decoded: {})", escape(d))?;
            }
            if let Some(t) = &f.file_type {
                write!(out, "  (file type: {})", escape(t))?;
            }
            if let Some(r) = f.suppressed {
                write!(out, "  [suppressed: {}]", r.as_str())?;
            }
            writeln!(out)?;
            if let Some(g) = &f.git {
                let short = g.commit.get(..12).unwrap_or(&g.commit);
                let text = format!(
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
                );
                writeln!(out, "      {}", paint(c, DIM, &text))?;
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Summary;
    use crate::secret::Secret;

    fn finding(repo: Option<&str>, path: &str, fp: &str) -> Finding {
        Finding {
            rule_id: "tok".into(),
            rule_name: "Token".into(),
            severity: Severity::High,
            path: path.into(),
            line: 3,
            column: 7,
            end_line: 3,
            end_column: 27,
            offset: 40,
            secret: Secret::new(b"tok_q8Zr2mV9xK4tW7pL0001".to_vec()), // leaksweep:allow
            fingerprint: fp.into(),
            entropy: 4.0,
            decoded: None,
            file_type: None,
            validation: None,
            git: None,
            repository: repo.map(str::to_string),
            suppressed: None,
        }
    }

    #[test]
    fn one_secret_in_many_places_is_shown_once_with_its_places() {
        let findings = vec![
            finding(Some("org/a"), "docs/index.md", "lsw1:aa"),
            finding(Some("org/a"), "src/x.rs", "lsw1:bb"),
            finding(Some("org/b"), "search_index.json", "lsw1:aa"),
            finding(
                Some("org/c\x1b]0;pwned\x07"),
                "cov/\x1b[2Jindex.html",
                "lsw1:aa",
            ),
        ];
        let report = Report {
            findings: &findings,
            suppressed: &[],
            summary: &Summary::default(),
            rules: &[],
        };
        let mut out = Vec::new();
        write(&mut out, &report, ReportOptions::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("lsw1:aa").count(), 1, "{text}");
        assert!(text.contains("(1 secret, 3 places)"), "{text}");
        assert!(text.contains("  org/a: docs/index.md:3:7\n"), "{text}");
        assert!(text.contains("  org/b: search_index.json:3:7\n"), "{text}");
        // The single-place secret has no count, and nothing leaks or reaches the terminal raw.
        assert_eq!(text.matches("places").count(), 1, "{text}");
        assert!(!text.contains("q8Zr2mV9"), "{text}");
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text}");
        assert!(text.contains("org/c\\x1b]0;pwned\\x07"), "{text}");
    }
}
