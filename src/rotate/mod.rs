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

pub mod audit;
pub mod aws;
pub mod config;
pub mod exec;
pub mod generate;
pub mod retry;
pub mod run;
pub mod state;
pub mod vault;

use crate::secret::Secret;

/// The backend kinds this build knows, for error messages and `--help`.
pub const KINDS: &[&str] = &[
    "vault",
    "openbao",
    "aws-secretsmanager",
    "azure-keyvault",
    "gcp-secretmanager",
    "oci-vault",
    "kubernetes",
    "exec",
];

/// Builds the backend that a config entry describes: one match arm per `kind`.
/// A new backend adds its arm here (and its name to [`KINDS`]).
pub fn build_backend(def: &config::BackendDef) -> Result<Box<dyn Backend>, BackendError> {
    match def.kind.as_str() {
        "vault" | "openbao" => Ok(Box::new(vault::Vault::from_def(def)?)),
        "aws-secretsmanager" => Ok(Box::new(aws::SecretsManager::from_def(def)?)),
        "azure-keyvault" => Ok(Box::new(azure::AzureKeyVault::from_def(def)?)),
        "gcp-secretmanager" => Ok(Box::new(gcp::GcpSecretManager::from_def(def)?)),
        "oci-vault" => Ok(Box::new(oci::OciVault::from_def(def)?)),
        "kubernetes" => Ok(Box::new(kubernetes::Kubernetes::from_def(def)?)),
        "exec" => Ok(Box::new(exec::Exec::from_def(def)?)),
        other => Err(BackendError::new(
            &def.name,
            ErrorKind::Config,
            format!("unknown kind {other:?} (known: {})", KINDS.join(", ")),
        )),
    }
}

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
pub mod kubeconfig;
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
    /// The leaked credential itself was revoked at its issuer (see [`Backend::revoke`]).
    Revoked,
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

// The error shape of every service call; it lives with the HTTP client (`crate::net`).
pub use crate::net::{BackendError, ErrorKind};

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

    /// Revokes the leaked credential itself at its issuer (a Vault token, an API key),
    /// instead of replacing a stored copy. With `dry_run`, checks that the credential is
    /// known to the issuer and revokes nothing. Revocation is idempotent by nature: a
    /// credential that is already revoked or unknown is reported as
    /// [`RotateStatus::AlreadyApplied`]. Backends that cannot revoke keep this default.
    fn revoke(&self, leaked: &Secret, dry_run: bool) -> Result<RotateOutcome, BackendError> {
        let _ = (leaked, dry_run);
        Err(BackendError::new(
            self.name(),
            ErrorKind::Unsupported,
            "this backend cannot revoke credentials (use action = \"rotate\" in the route)",
        ))
    }
}

/// Compares two byte strings in constant time (for equal lengths).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    /// The dependency rule: rotation never scans. Every file of this module (built-in
    /// backends and future ones alike) may use `crate::secret` and `crate::error`, and
    /// must not reach the scanner, the findings or the CLI.
    #[test]
    fn rotate_never_imports_the_scanner() {
        crate::testutil::assert_module_avoids(
            "rotate",
            &[
                "crate::scan",
                "crate::source",
                "crate::engine",
                "crate::pipeline",
                "crate::finding",
                "crate::report",
                "crate::cli",
            ],
        );
    }

    /// Backends never import each other: what two of them share lives in `cloud`,
    /// `config`, `kubeconfig` or `crate::net`.
    #[test]
    fn backends_never_import_each_other() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rotate");
        let backends = ["aws", "azure", "exec", "gcp", "kubernetes", "oci", "vault"];
        for this in backends {
            let text = std::fs::read_to_string(dir.join(format!("{this}.rs"))).unwrap();
            for other in backends.iter().filter(|o| **o != this) {
                for path in [format!("super::{other}::"), format!("rotate::{other}::")] {
                    assert!(!text.contains(&path), "{this}.rs uses {path}");
                }
            }
        }
    }
}
