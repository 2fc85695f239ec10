//! JSON and JSON-lines reporters (the contract is documented in `report`).

use std::io::{self, Write};

use serde::Serialize;

use crate::finding::validation::Validation;
use crate::finding::{Finding, Occurrence, SuppressReason};

use super::{shown_secret, Report, ReportOptions};

/// Version of the JSON report format.
pub const VERSION: u32 = 1;

/// The serialized form of one finding.
#[derive(Serialize)]
pub struct FindingView<'a> {
    rule_id: &'a str,
    rule_name: &'a str,
    severity: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    repository: Option<&'a str>,
    path: &'a str,
    line: u64,
    column: u64,
    end_line: u64,
    end_column: u64,
    offset: u64,
    secret: String,
    fingerprint: &'a str,
    entropy: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    decoded: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit_summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    present_at_head: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    occurrences: Option<&'a [Occurrence]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<&'a Validation>,
}

impl<'a> FindingView<'a> {
    /// Builds the view of `f`.
    pub fn new(f: &'a Finding, opts: ReportOptions) -> FindingView<'a> {
        let g = f.git.as_ref();
        FindingView {
            rule_id: &f.rule_id,
            rule_name: &f.rule_name,
            severity: f.severity.as_str(),
            repository: f.repository.as_deref(),
            path: &f.path,
            line: f.line,
            column: f.column,
            end_line: f.end_line,
            end_column: f.end_column,
            offset: f.offset,
            secret: shown_secret(f, opts),
            fingerprint: &f.fingerprint,
            entropy: (f64::from(f.entropy) * 100.0).round() / 100.0,
            decoded: f.decoded.as_deref(),
            file_type: f.file_type.as_deref(),
            commit: g.map(|g| g.commit.as_str()),
            author: g.map(|g| g.author.as_str()),
            email: g.map(|g| g.email.as_str()),
            date: g.map(|g| g.date.as_str()),
            commit_summary: g.map(|g| g.summary.as_str()),
            present_at_head: g.map(|g| g.present_at_head),
            occurrences: g
                .filter(|g| !g.occurrences.is_empty())
                .map(|g| g.occurrences.as_slice()),
            suppressed: f.suppressed.map(SuppressReason::as_str),
            validation: f.validation.as_ref(),
        }
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Doc<'a> {
    version: u32,
    tool: Tool,
    findings: Vec<FindingView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<Vec<FindingView<'a>>>,
    summary: &'a crate::finding::Summary,
}

/// Writes the whole JSON document.
pub fn write(out: &mut dyn Write, report: &Report<'_>, opts: ReportOptions) -> io::Result<()> {
    let doc = Doc {
        version: VERSION,
        tool: Tool {
            name: "leaksweep",
            version: env!("CARGO_PKG_VERSION"),
        },
        findings: report
            .findings
            .iter()
            .map(|f| FindingView::new(f, opts))
            .collect(),
        suppressed: opts.show_suppressed.then(|| {
            report
                .suppressed
                .iter()
                .map(|f| FindingView::new(f, opts))
                .collect()
        }),
        summary: report.summary,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// Writes one finding per line.
pub fn write_lines(
    out: &mut dyn Write,
    findings: &[Finding],
    opts: ReportOptions,
) -> io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut *out, &FindingView::new(f, opts))?;
        writeln!(out)?;
    }
    Ok(())
}
