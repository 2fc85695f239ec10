//! Rotation: locate where a leaked value is stored and replace it there.
//!
//! This module never scans and never imports `source` or `engine`: it receives leaked
//! values (re-read from the location a finding names) and talks to secret stores through
//! the [`Backend`] trait. Built-in backends (Vault/OpenBao, AWS Secrets Manager, Azure Key
//! Vault, GCP Secret Manager, OCI Vault, Kubernetes) and external plugins (`exec`)
//! implement the same trait, so one contract test suite runs against all of them.
//!
//! Rules every backend follows:
//! - a secret value never appears in an error, a log line, argv or an environment variable;
//! - rotation writes a **new version** (never delete and re-create) and keeps the previous one;
//! - `rotate` is idempotent for a given idempotency key (derived from the finding);
//! - errors carry an [`ErrorKind`] so the caller can retry throttling and 5xx, and a message
//!   that names the cause and the fix (401: token expired or wrong; 403: which permission;
//!   404: wrong path, mount or region).

use crate::secret::Secret;

/// A stored secret in a backend: `vault:secret/app/db#password`, `aws:prod/app/db`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Location {
    /// The configured backend name (`vault-prod`).
    pub backend: String,
    /// The backend-specific path or name of the stored secret
    /// (`secret/app/db`, `prod/app/db`, `projects/p/secrets/s`, `ns/name`, an OCID).
    pub path: String,
    /// The field inside it, for stores that hold maps (Vault KV, Kubernetes, JSON secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.backend, self.path)?;
        if let Some(k) = &self.key {
            write!(f, "#{k}")?;
        }
        Ok(())
    }
}

// Cloud backends (issue #8): Azure Key Vault, GCP Secret Manager, OCI Vault, Kubernetes.
pub mod azure;
pub mod cloud;
pub mod gcp;
pub mod jwt;
pub mod kubernetes;
pub mod oci;

/// What a successful (or planned) rotation did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RotateStatus {
    /// A new version was written.
    Rotated,
    /// The idempotency key shows this rotation was already done.
    AlreadyApplied,
    /// Dry run: this is what would be done.
    WouldRotate,
}

/// The outcome of `rotate`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RotateOutcome {
    /// What happened.
    pub status: RotateStatus,
    /// The new version id, when the backend has one.
    pub new_version: Option<String>,
    /// The previous version id, kept for rollback.
    pub previous_version: Option<String>,
}

/// Why a backend call failed; decides retries and the hint shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad configuration (missing address, token file...).
    Config,
    /// 401: credentials missing, expired or wrong.
    Auth,
    /// 403: authenticated but not allowed.
    Permission,
    /// 404: no such secret, mount, region or project.
    NotFound,
    /// 409/412: a concurrent write (check-and-set failed).
    Conflict,
    /// Throttled (429 or the provider's own throttling error): retry with backoff.
    Throttled,
    /// 5xx or a transport error: retry with backoff.
    Unavailable,
    /// The deadline passed: the outcome is unknown, `verify` before any retry.
    Timeout,
    /// The backend answered something this client does not understand.
    Protocol,
}

impl ErrorKind {
    /// Whether a retry with backoff may succeed.
    pub fn retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Unavailable)
    }
}

/// A backend error. The message never contains a secret value.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{backend}: {message}")]
pub struct BackendError {
    /// The backend name.
    pub backend: String,
    /// The kind.
    pub kind: ErrorKind,
    /// What went wrong and what to do about it.
    pub message: String,
}

/// A secret store that can find and replace leaked values.
pub trait Backend: Send + Sync {
    /// The configured name of this backend.
    fn name(&self) -> &str;

    /// Which stored secrets currently hold `leaked` (compared in memory, in constant time).
    fn locate(&self, leaked: &Secret) -> Result<Vec<Location>, BackendError>;

    /// Writes `new_value` as a new version of `target`. With `dry_run`, checks that the
    /// target exists and is writable as far as the API allows, writes nothing and returns
    /// [`RotateStatus::WouldRotate`]. `idempotency_key` is stable for a finding and target.
    fn rotate(
        &self,
        target: &Location,
        new_value: &Secret,
        idempotency_key: &str,
        dry_run: bool,
    ) -> Result<RotateOutcome, BackendError>;

    /// True if the current version of `target` no longer equals `leaked`.
    fn verify(&self, target: &Location, leaked: &Secret) -> Result<bool, BackendError>;
}

/// Compares two byte strings in constant time (for equal lengths).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
