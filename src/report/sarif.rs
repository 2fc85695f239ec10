//! SARIF 2.1.0 reporter for code-scanning UIs (GitHub code scanning, GitLab, Azure DevOps).
//!
//! One run; the rule table lists every rule that produced a result; each result carries
//! `partialFingerprints["leaksweep/secret/v1"]` so that UIs track a secret across edits.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{json, Value};

use crate::rules::Severity;

use super::{shown_secret, Report, ReportOptions};

/// The SARIF schema URI written into every report.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// A relative path as a URI reference: forward slashes, percent-encoded where needed.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b));
            }
            b'\\' => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out.strip_prefix("./").map(str::to_string).unwrap_or(out)
}

/// Writes the SARIF log.
pub fn write(out: &mut dyn Write, report: &Report<'_>, opts: ReportOptions) -> io::Result<()> {
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules: Vec<Value> = Vec::new();
    let names: BTreeMap<&str, (&str, Severity)> = report
        .rules
        .iter()
        .map(|(id, name, sev)| (id.as_str(), (name.as_str(), *sev)))
        .collect();
    let mut results = Vec::new();
    for f in report.findings {
        let idx = *rule_index.entry(&f.rule_id).or_insert_with(|| {
            let (name, sev) = names
                .get(f.rule_id.as_str())
                .copied()
                .unwrap_or((f.rule_name.as_str(), f.severity));
            rules.push(json!({
                "id": f.rule_id,
                "name": name,
                "shortDescription": {"text": name},
                "fullDescription": {"text": format!("{name} found by leaksweep rule {}", f.rule_id)},
                "defaultConfiguration": {"level": level(sev)},
                "properties": {"tags": ["security", "secret"], "security-severity": match sev {
                    Severity::Critical => "9.5", Severity::High => "8.0", Severity::Medium => "5.5",
                    Severity::Low => "3.0", Severity::Info => "1.0" }},
            }));
            rules.len() - 1
        });
        let mut props = json!({
            "severity": f.severity.as_str(),
            "secret": shown_secret(f, opts),
            "entropy": (f64::from(f.entropy) * 100.0).round() / 100.0,
        });
        if let Some(d) = &f.decoded {
            props["decoded"] = json!(d);
        }
        if let Some(t) = &f.file_type {
            props["file_type"] = json!(t);
        }
        if let Some(v) = &f.validation {
            props["validation"] = json!(v);
        }
        if let Some(g) = &f.git {
            props["commit"] = json!(g.commit);
            props["author"] = json!(g.author);
            props["email"] = json!(g.email);
            props["date"] = json!(g.date);
            props["present_at_head"] = json!(g.present_at_head);
            props["commit_summary"] = json!(g.summary);
        }
        if let Some(r) = &f.repository {
            props["repository"] = json!(r);
        }
        results.push(json!({
            "ruleId": f.rule_id,
            "ruleIndex": idx,
            "level": level(f.severity),
            "message": {"text": format!("{} detected: {}", f.rule_name, shown_secret(f, opts))},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": uri(&f.path)},
                    "region": {
                        "startLine": f.line,
                        "startColumn": f.column,
                        "endLine": f.end_line,
                        "endColumn": f.end_column,
                    }
                }
            }],
            "partialFingerprints": {"leaksweep/secret/v1": f.fingerprint},
            "properties": props,
        }));
    }
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "leaksweep",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/leaksweep/leaksweep",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn uri_encoding() {
        assert_eq!(super::uri("./src/a b.rs"), "src/a%20b.rs");
        assert_eq!(super::uri("dir\\x.txt"), "dir/x.txt");
    }
}
