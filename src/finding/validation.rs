//! The result of live validation attached to a finding (`--validate`).
//!
//! The type lives with the finding (the reporters and the exit-code policy read it); the
//! network side that fills it is `crate::validation`, which depends on findings and not
//! the other way round.

use serde::{Deserialize, Serialize};

/// What the provider said about a credential.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The provider accepted the credential: it still works.
    Live,
    /// The provider refused it (revoked, expired, wrong secret).
    Invalid,
    /// Not checked: no validator for this rule, half of a pair missing, or a host that
    /// came from the scanned text.
    Unknown,
    /// Could not tell: timeout, refused connection, 5xx, still throttled after retries.
    Error,
}

impl Status {
    /// The name used in reports and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Invalid => "invalid",
            Status::Unknown => "unknown",
            Status::Error => "error",
        }
    }

    /// Report order: live first (what a responder handles first), then error (needs a
    /// second look), unknown, invalid.
    pub fn rank(self) -> u8 {
        match self {
            Status::Live => 0,
            Status::Error => 1,
            Status::Unknown => 2,
            Status::Invalid => 3,
        }
    }
}

/// One validation result. Never holds the secret: `detail` is built from fixed texts and
/// scrubbed provider messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// The verdict.
    pub status: Status,
    /// Provider id (`aws`, `github`, ...); empty when no validator covers the rule.
    pub provider: String,
    /// Who the credential belongs to, where the provider tells (ARN, login, team...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// What it opens, where the provider tells (OAuth scopes, policies...).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Why, in a few words (always set for unknown and error).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// When the provider was asked (RFC 3339, UTC); for cached results, when it was asked
    /// then.
    pub checked_at: String,
}

impl Validation {
    /// A result without identity or scopes.
    pub fn new(status: Status, provider: &str, detail: impl Into<String>, at: &str) -> Validation {
        Validation {
            status,
            provider: provider.to_string(),
            identity: None,
            scopes: Vec::new(),
            detail: detail.into(),
            checked_at: at.to_string(),
        }
    }
}
