//! Findings: what a scan reports, their identity, order and suppression.
//!
//! A finding is one secret at one location. Its identity is the [`fingerprint`] (rule +
//! secret); locations are what differ between two findings of the same secret.

pub mod fingerprint;
pub mod inline;
pub mod neighbourhood;
pub mod validation;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rules::Severity;
use crate::secret::Secret;

/// Where a finding sits in git history (filled by the git sweep).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GitProvenance {
    /// The commit that introduced the secret at this path.
    pub commit: String,
    /// Its author's name.
    pub author: String,
    /// Its author's e-mail.
    pub email: String,
    /// Its author date, RFC 3339.
    pub date: String,
    /// The first line of its message.
    pub summary: String,
    /// Whether the secret is still present at HEAD of the default branch.
    pub present_at_head: bool,
    /// Every (commit, path) that contains it, with `--all-occurrences`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub occurrences: Vec<Occurrence>,
}

/// One place in history that holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Occurrence {
    /// Commit id.
    pub commit: String,
    /// Path in that commit's tree.
    pub path: String,
    /// 1-based line.
    pub line: u64,
}

/// Why a finding was suppressed instead of reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuppressReason {
    /// An inline marker (`leaksweep:allow`, `gitleaks:allow`, `pragma: allowlist secret`).
    Inline,
    /// A fingerprint in `.leaksweepignore`.
    IgnoreFile,
    /// A baseline entry.
    Baseline,
    /// A config allowlist.
    Allowlist,
}

impl SuppressReason {
    /// The name used in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressReason::Inline => "inline",
            SuppressReason::IgnoreFile => "ignore-file",
            SuppressReason::Baseline => "baseline",
            SuppressReason::Allowlist => "allowlist",
        }
    }
}

/// One secret at one location.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Rule id.
    pub rule_id: String,
    /// Rule name.
    pub rule_name: String,
    /// Severity.
    pub severity: Severity,
    /// Path as given on the command line joined with the walked path (or `<stdin>`).
    pub path: String,
    /// 1-based line of the secret's first byte.
    pub line: u64,
    /// 1-based column (in characters) of the secret's first byte.
    pub column: u64,
    /// 1-based line of the secret's last byte.
    pub end_line: u64,
    /// 1-based column just past the secret's last character.
    pub end_column: u64,
    /// Byte offset of the secret in the source.
    pub offset: u64,
    /// The secret.
    pub secret: Secret,
    /// Stable identity: rule + secret.
    pub fingerprint: String,
    /// Shannon entropy of the secret (bits per byte).
    pub entropy: f32,
    /// The decoding that revealed it (`base64`, `percent`, ...), if any.
    pub decoded: Option<String>,
    /// The kind of credential file a path-scoped rule found it in (`netrc`), if any.
    pub file_type: Option<String>,
    /// History provenance, for git scans.
    pub git: Option<GitProvenance>,
    /// The repository, for git scans: as named on the command line or in the list of a
    /// sweep (a path or a URL). Two repositories can hold the same path and secret.
    pub repository: Option<String>,
    /// Set when the finding is suppressed.
    pub suppressed: Option<SuppressReason>,
    /// The live-validation result, with `--validate` only.
    pub validation: Option<validation::Validation>,
}

impl Finding {
    /// The deterministic report order: repository, path, position, rule.
    pub fn sort_key(&self) -> (&str, &str, u64, u64, &str) {
        (
            self.repository.as_deref().unwrap_or(""),
            &self.path,
            self.offset,
            self.line,
            &self.rule_id,
        )
    }
}

/// Sorts findings into report order and drops exact duplicates (same rule, path,
/// position and secret), whatever the thread count that produced them.
pub fn sort_and_dedup(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| {
        a.path == b.path
            && a.repository == b.repository
            && a.offset == b.offset
            && a.rule_id == b.rule_id
            && a.fingerprint == b.fingerprint
            && a.decoded == b.decoded
    });
}

/// A file or object that was not scanned, and why. Ordered by path, then reason and
/// detail: the order of the report's list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Skipped {
    /// The path or object.
    pub path: String,
    /// Why (`binary`, `too-large`, `unreadable`, ...).
    pub reason: String,
    /// Detail (an OS error), without secrets.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Counters of a scan, printed on stderr and in every report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    /// Files (or blobs) scanned.
    pub files_scanned: u64,
    /// Bytes scanned.
    pub bytes_scanned: u64,
    /// Findings reported (after suppression).
    pub findings: u64,
    /// Distinct secrets among the reported findings (by fingerprint).
    pub unique_secrets: u64,
    /// Skipped items, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Suppressed findings, by reason.
    pub suppressed: BTreeMap<String, u64>,
    /// Errors (each also printed on stderr).
    pub errors: u64,
    /// Rules loaded.
    pub rules: u64,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
    /// Throughput in MB/s (10^6 bytes per second).
    pub mb_per_s: f64,
    /// Reported findings by validation status (`live`, `invalid`, ...), with `--validate`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub validation: BTreeMap<String, u64>,
    /// Extra counters from specific sources (git: commits walked, blobs...).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
    /// The skipped items themselves, at most [`Summary::SKIPPED_LIST_CAP`].
    pub skipped_files: Vec<Skipped>,
}

impl Summary {
    /// How many skipped items are listed by name in the report.
    pub const SKIPPED_LIST_CAP: usize = 1000;

    /// Records a skipped item: counts it and lists it.
    pub fn skip(&mut self, item: Skipped) {
        *self.skipped.entry(item.reason.clone()).or_default() += 1;
        self.list_skipped(item);
    }

    /// Lists a skipped item (already counted). A parallel walk, or a sweep, meets skipped
    /// items in a different order on every run; keeping the first items met would make the
    /// report differ between two runs over the same input. The list keeps the first
    /// [`Summary::SKIPPED_LIST_CAP`] in path order instead, trimmed whenever it doubles, and
    /// [`Summary::settle_skipped`] puts it in its final form.
    pub fn list_skipped(&mut self, item: Skipped) {
        self.skipped_files.push(item);
        if self.skipped_files.len() >= 2 * Self::SKIPPED_LIST_CAP {
            self.settle_skipped();
        }
    }

    /// Sorts the listed skipped items by path (then reason and detail) and keeps the first
    /// [`Summary::SKIPPED_LIST_CAP`].
    pub fn settle_skipped(&mut self) {
        self.skipped_files.sort_unstable();
        self.skipped_files.dedup();
        self.skipped_files.truncate(Self::SKIPPED_LIST_CAP);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(i: usize) -> Skipped {
        Skipped {
            path: format!("dir/{i:05}.bin"),
            reason: "binary".into(),
            detail: String::new(),
        }
    }

    /// The listed skips are the first in path order whatever order they were met in, and
    /// every skip is counted.
    #[test]
    fn the_skipped_list_does_not_depend_on_the_order_items_are_met() {
        let n = 3 * Summary::SKIPPED_LIST_CAP + 17;
        let mut forward = Summary::default();
        let mut shuffled = Summary::default();
        for i in 0..n {
            forward.skip(item(i));
            // A fixed permutation of 0..n (7919 is prime and does not divide n).
            shuffled.skip(item(i * 7919 % n));
        }
        forward.settle_skipped();
        shuffled.settle_skipped();
        let want: Vec<Skipped> = (0..Summary::SKIPPED_LIST_CAP).map(item).collect();
        assert_eq!(forward.skipped_files, want);
        assert_eq!(shuffled.skipped_files, want);
        assert_eq!(shuffled.skipped["binary"], n as u64);
    }
}
