//! `baseline import`: turns a gitleaks JSON report or a detect-secrets `.secrets.baseline`
//! into a leaksweep baseline, so that a team moving over keeps its accepted findings.
//!
//! Entries are matched against what leaksweep itself finds, and written as ordinary
//! baseline entries (leaksweep fingerprint + path). Nothing is imported by line number:
//! a baseline entry that could be satisfied by whatever sits on a line would silence the
//! next secret written there.
//!
//! - **gitleaks** reports hold the secret (unless made with `--redact`). leaksweep scans
//!   the report's `Line` (or `Match`) text and the secret itself, then the file, and keeps
//!   its findings whose secret equals, contains or is contained in gitleaks' secret. The
//!   rule ids need not agree: the fingerprint is leaksweep's own. For a redacted report,
//!   the file is scanned and a leaksweep finding at the reported line and columns is
//!   taken, and each such match is named on stderr so that someone checks it.
//! - **detect-secrets** baselines hold only `hashed_secret`, an unsalted SHA-1 of the
//!   secret. leaksweep scans each listed file and keeps its findings whose secret has that
//!   SHA-1. Entries it cannot match (the file is gone, or no leaksweep rule finds that
//!   value) are named on stderr and not imported; nothing of theirs is suppressed.
//!
//! Unmatched entries are not an error: leaksweep does not report what it does not find,
//! so there is nothing to suppress today, and a later rule that finds it will report it.

use std::collections::BTreeMap;

use serde::Deserialize;
use sha1::{Digest, Sha1};

use crate::engine::Scratch;
use crate::error::Error;
use crate::finding::Finding;
use crate::scan::{scan_slice, ScanContext};
use crate::source::reread::{Place, Rereader};

use super::baseline::Baseline;
use super::paths::PathMap;

/// The formats `baseline import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    /// A gitleaks JSON report (`gitleaks ... --report-format json`).
    Gitleaks,
    /// A detect-secrets baseline (`.secrets.baseline`).
    DetectSecrets,
}

impl ImportFormat {
    /// Recognises the format of a report's text.
    pub fn detect(value: &serde_json::Value) -> Option<ImportFormat> {
        if value.is_array() {
            return Some(ImportFormat::Gitleaks);
        }
        if value
            .get("results")
            .is_some_and(serde_json::Value::is_object)
        {
            return Some(ImportFormat::DetectSecrets);
        }
        None
    }
}

/// The result of an import.
#[derive(Debug, Default)]
pub struct Imported {
    /// Entries in the source report.
    pub total: usize,
    /// Source entries that became at least one baseline entry.
    pub matched: usize,
    /// What was not imported, or imported on weaker evidence, one line each.
    pub notes: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct GitleaksFinding {
    #[serde(rename = "RuleID", default)]
    rule_id: String,
    #[serde(rename = "File", default)]
    file: String,
    #[serde(rename = "Secret", default)]
    secret: String,
    #[serde(rename = "Match", default)]
    matched: String,
    #[serde(rename = "Line", default)]
    line: String,
    #[serde(rename = "StartLine", default)]
    start_line: u64,
    #[serde(rename = "EndLine", default)]
    end_line: u64,
    #[serde(rename = "StartColumn", default)]
    start_column: u64,
    #[serde(rename = "EndColumn", default)]
    end_column: u64,
}

#[derive(Debug, Deserialize)]
struct DetectSecretsFile {
    results: BTreeMap<String, Vec<DetectSecretsEntry>>,
}

#[derive(Debug, Deserialize)]
struct DetectSecretsEntry {
    #[serde(rename = "type", default)]
    kind: String,
    hashed_secret: String,
    #[serde(default)]
    line_number: Option<u64>,
}

/// The findings in project file `rel` (scanned once), or `None` if it cannot be read.
fn findings<'f>(files: &'f mut Rereader<'_>, rel: &str) -> Option<&'f [Finding]> {
    files.reread(&Place::File(rel.to_string())).ok()
}

/// The fingerprint of `f` under the baseline's salt.
fn fp_of(out: &Baseline, f: &Finding) -> String {
    crate::finding::fingerprint::fingerprint(out.salt.as_bytes(), &f.rule_id, f.secret.expose())
}

fn related(a: &[u8], b: &[u8]) -> bool {
    !a.is_empty()
        && !b.is_empty()
        && (a == b || memchr::memmem::find(a, b).is_some() || memchr::memmem::find(b, a).is_some())
}

/// serde_json's message for `e` without the values it may quote: a malformed report
/// must not echo a secret in an error.
fn json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg
        .split_once(" at line ")
        .map_or(msg.as_str(), |(m, _)| m)
        .to_string();
    match (msg.find('"'), msg.rfind('"')) {
        (Some(a), Some(b)) if b > a => format!(
            "{}…{}",
            msg.get(..=a).unwrap_or_default(),
            msg.get(b..).unwrap_or_default()
        ),
        _ => msg,
    }
}

/// Imports `text` (in `format`) into `out`. `ctx` is the scan context of the project
/// (its rules and salt); `paths` maps report paths (relative to the project root, or
/// absolute) to project-relative ones.
pub fn import(
    text: &str,
    format: ImportFormat,
    origin: &str,
    ctx: &ScanContext,
    paths: &PathMap,
    out: &mut Baseline,
) -> Result<Imported, Error> {
    let mut files = Rereader::new(ctx).files_under(paths.root());
    match format {
        ImportFormat::Gitleaks => {
            let list: Vec<GitleaksFinding> = serde_json::from_str(text).map_err(|e| {
                Error::Other(format!(
                    "{origin}:{}:{}: not a gitleaks JSON report: {}",
                    e.line(),
                    e.column(),
                    json_error(&e)
                ))
            })?;
            Ok(import_gitleaks(&list, ctx, paths, &mut files, out))
        }
        ImportFormat::DetectSecrets => {
            let file: DetectSecretsFile = serde_json::from_str(text).map_err(|e| {
                Error::Other(format!(
                    "{origin}:{}:{}: not a detect-secrets baseline: {}",
                    e.line(),
                    e.column(),
                    json_error(&e)
                ))
            })?;
            Ok(import_detect_secrets(
                &file, paths, &mut files, &ctx.salt, out,
            ))
        }
    }
}

fn import_gitleaks(
    list: &[GitleaksFinding],
    ctx: &ScanContext,
    paths: &PathMap,
    files: &mut Rereader<'_>,
    out: &mut Baseline,
) -> Imported {
    let mut result = Imported {
        total: list.len(),
        ..Imported::default()
    };
    let mut scratch = Scratch::default();
    for (i, g) in list.iter().enumerate() {
        let rel = paths.rel(&g.file);
        let at = format!(
            "gitleaks finding {} ({} in {rel}:{})",
            i + 1,
            g.rule_id,
            g.start_line
        );
        let redacted = g.secret.is_empty() || g.secret == "REDACTED";
        let mut hits: Vec<(String, String)> = Vec::new();
        if !redacted {
            let secret = g.secret.as_bytes();
            for text in [&g.line, &g.matched, &g.secret] {
                if text.is_empty() {
                    continue;
                }
                for f in scan_slice(ctx, text.as_bytes(), &rel, &mut scratch) {
                    if related(f.secret.expose(), secret) {
                        hits.push((f.rule_id.clone(), fp_of(out, &f)));
                    }
                }
                if !hits.is_empty() {
                    break;
                }
            }
            if hits.is_empty() {
                if let Some(found) = findings(files, &rel) {
                    for f in found {
                        if related(f.secret.expose(), secret) {
                            hits.push((f.rule_id.clone(), fp_of(out, f)));
                        }
                    }
                }
            }
            for (rule, fp) in hits.iter().cloned() {
                out.insert(fp, rule, rel.clone());
            }
            if hits.is_empty() {
                result.notes.push(format!(
                    "{at}: not imported: leaksweep finds no secret matching it (nothing to \
                     suppress today)"
                ));
            } else {
                result.matched += 1;
            }
            continue;
        }
        // Redacted: only the position is known. Take a leaksweep finding that starts on
        // the reported line and overlaps the reported columns, and say so.
        let Some(found) = findings(files, &rel) else {
            result.notes.push(format!(
                "{at}: not imported: the report is redacted and {rel} cannot be read here"
            ));
            continue;
        };
        let mut n = 0;
        for f in found {
            let on_line = f.line >= g.start_line && f.line <= g.end_line.max(g.start_line);
            let overlaps =
                g.start_column == 0 || (f.column <= g.end_column && f.end_column >= g.start_column);
            if on_line && overlaps {
                out.add(f, &rel, &ctx.salt);
                n += 1;
            }
        }
        if n == 0 {
            result.notes.push(format!(
                "{at}: not imported: the report is redacted and leaksweep finds nothing at that \
                 position"
            ));
        } else {
            result.matched += 1;
            result.notes.push(format!(
                "{at}: imported by position only (the report is redacted): check {rel}:{}",
                g.start_line
            ));
        }
    }
    result
}

fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

fn import_detect_secrets(
    file: &DetectSecretsFile,
    paths: &PathMap,
    files: &mut Rereader<'_>,
    salt: &[u8],
    out: &mut Baseline,
) -> Imported {
    let mut result = Imported::default();
    for (name, entries) in &file.results {
        let rel = paths.rel(name);
        result.total += entries.len();
        let found: Vec<Finding> = findings(files, &rel)
            .map(<[Finding]>::to_vec)
            .unwrap_or_default();
        let readable = findings(files, &rel).is_some();
        for e in entries {
            let at = format!(
                "detect-secrets entry ({} in {rel}{})",
                e.kind,
                e.line_number.map(|l| format!(":{l}")).unwrap_or_default()
            );
            if !readable {
                result
                    .notes
                    .push(format!("{at}: not imported: {rel} cannot be read here"));
                continue;
            }
            let want = e.hashed_secret.to_ascii_lowercase();
            let mut n = 0;
            for f in &found {
                if sha1_hex(f.secret.expose()) == want {
                    out.add(f, &rel, salt);
                    n += 1;
                }
            }
            if n == 0 {
                result.notes.push(format!(
                    "{at}: not imported: leaksweep finds no secret with that hash in {rel} \
                     (nothing to suppress today)"
                ));
            } else {
                result.matched += 1;
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_detect_secrets() {
        // detect-secrets hashes the secret's UTF-8 bytes with SHA-1.
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn json_errors_do_not_quote_values() {
        let e = serde_json::from_str::<Vec<GitleaksFinding>>(
            "[{\"StartLine\": \"ghp_q8Zr2mV9xK4tW7pLa1b2c3d4e5f6g7h8i9j0\"}]",
        )
        .unwrap_err();
        let m = json_error(&e);
        assert!(!m.contains("ghp_"), "{m}");
        assert!(m.starts_with("invalid type: string \"…\""), "{m}");
    }

    #[test]
    fn detects_formats() {
        let v: serde_json::Value = serde_json::from_str("[]").unwrap();
        assert_eq!(ImportFormat::detect(&v), Some(ImportFormat::Gitleaks));
        let v: serde_json::Value =
            serde_json::from_str("{\"version\": \"1.5.0\", \"results\": {}}").unwrap();
        assert_eq!(ImportFormat::detect(&v), Some(ImportFormat::DetectSecrets));
        let v: serde_json::Value = serde_json::from_str("{\"version\": 1}").unwrap();
        assert_eq!(ImportFormat::detect(&v), None);
    }
}
