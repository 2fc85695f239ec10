//! Finding records: a finding as a report writes it (secret redacted unless
//! `--show-secrets`), read back from a checkpoint or a shard's report.
//!
//! A sweep *settles* each repository's findings as soon as the repository is done: the
//! secret is replaced by the text the report will show ([`settle`]), so that neither the
//! checkpoint nor the memory of a long sweep holds secrets the report would not print.
//! Settled findings are written with `show_secrets` on: their text is already final.

use serde::Deserialize;

use crate::finding::validation::Validation;
use crate::finding::{Finding, GitProvenance, Occurrence, SuppressReason};
use crate::report::json::FindingView;
use crate::report::ReportOptions;
use crate::rules::Severity;
use crate::secret::Secret;

/// Report options that print settled findings as they are.
pub const SETTLED: ReportOptions = ReportOptions {
    show_secrets: true,
    show_suppressed: true,
    color: false,
};

/// Replaces the secret of `f` by the text a report shows for it (the whole value only
/// with `show_secrets`). The real value is wiped when the old [`Secret`] drops.
pub fn settle(f: &mut Finding, show_secrets: bool) {
    let shown = if show_secrets {
        f.secret.reveal_lossy()
    } else {
        f.secret.redacted()
    };
    f.secret = Secret::new(shown.into_bytes());
}

/// A settled finding as JSON (the report's own finding object).
pub fn to_json(f: &Finding) -> serde_json::Value {
    serde_json::to_value(FindingView::new(f, SETTLED)).unwrap_or(serde_json::Value::Null)
}

/// A finding object of a JSON or JSON-lines report.
#[derive(Debug, Deserialize)]
pub struct Record {
    rule_id: String,
    #[serde(default)]
    rule_name: String,
    #[serde(default)]
    severity: Severity,
    #[serde(default)]
    repository: Option<String>,
    path: String,
    #[serde(default)]
    line: u64,
    #[serde(default)]
    column: u64,
    #[serde(default)]
    end_line: u64,
    #[serde(default)]
    end_column: u64,
    #[serde(default)]
    offset: u64,
    #[serde(default)]
    secret: String,
    fingerprint: String,
    #[serde(default)]
    entropy: f32,
    #[serde(default)]
    decoded: Option<String>,
    #[serde(default)]
    file_type: Option<String>,
    #[serde(default)]
    validation: Option<Validation>,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    commit_summary: Option<String>,
    #[serde(default)]
    present_at_head: Option<bool>,
    #[serde(default)]
    occurrences: Vec<Occurrence>,
    #[serde(default)]
    suppressed: Option<SuppressReason>,
}

impl Record {
    /// The settled finding this record describes.
    pub fn into_finding(self) -> Finding {
        let git = self.commit.map(|commit| GitProvenance {
            commit,
            author: self.author.unwrap_or_default(),
            email: self.email.unwrap_or_default(),
            date: self.date.unwrap_or_default(),
            summary: self.commit_summary.unwrap_or_default(),
            present_at_head: self.present_at_head.unwrap_or(false),
            occurrences: self.occurrences,
        });
        Finding {
            rule_id: self.rule_id,
            rule_name: self.rule_name,
            severity: self.severity,
            path: self.path,
            line: self.line,
            column: self.column,
            end_line: self.end_line,
            end_column: self.end_column,
            offset: self.offset,
            secret: Secret::new(self.secret.into_bytes()),
            fingerprint: self.fingerprint,
            entropy: self.entropy,
            decoded: self.decoded,
            file_type: self.file_type,
            validation: self.validation,
            git,
            repository: self.repository,
            suppressed: self.suppressed,
        }
    }
}

/// Reads one settled finding from its JSON object.
pub fn from_json(v: serde_json::Value) -> Result<Finding, serde_json::Error> {
    serde_json::from_value::<Record>(v).map(Record::into_finding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settled_finding_survives_the_round_trip_redacted() {
        let mut f = super::super::tests::sample("a.env", 1);
        f.repository = Some("org/app".into());
        f.git = Some(GitProvenance {
            commit: "ab".repeat(20),
            author: "Ada".into(),
            email: "ada@corp.invalid".into(),
            date: "2024-01-02T03:04:05Z".into(),
            summary: "add config".into(),
            present_at_head: true,
            occurrences: Vec::new(),
        });
        let secret = f.secret.reveal_lossy();
        settle(&mut f, false);
        let v = to_json(&f);
        assert!(!v.to_string().contains(&secret), "{v}");
        let back = from_json(v.clone()).unwrap();
        assert_eq!(to_json(&back), v);
        assert_eq!(back.repository.as_deref(), Some("org/app"));
        assert_eq!(back.git.unwrap().summary, "add config");
    }
}
