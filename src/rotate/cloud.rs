//! What the cloud backends (Azure Key Vault, GCP Secret Manager, OCI Vault, Kubernetes)
//! share beyond the HTTP client (`crate::net::http`) and credential reading
//! (`config::read_credential`): the retry defaults of their configs, the locate loop of
//! one-value stores, paths from settings, and cached bearer tokens.

use std::path::Path;
use std::sync::Mutex;

use super::config::{read_credential, CredentialHint};
use super::{BackendError, ErrorKind, Location};
use crate::net::http::AuthHeaders;
use crate::scrub::scrub;
use crate::secret::Secret;

/// Default `retries` of the cloud configs.
pub(crate) fn default_retries() -> u32 {
    3
}

/// Default `max_retry_wait_ms` of the cloud configs.
pub(crate) fn default_max_wait() -> u64 {
    30_000
}

/// The locate loop of the stores that keep one value per secret (Azure, GCP, OCI):
/// `holds(id)` reads candidate `id`'s current value and compares it with the leaked one
/// (in constant time); each match becomes the location `path(id)`. Errors are scrubbed
/// of the leaked value, as some services echo request fields.
pub(crate) fn locate_each(
    backend: &str,
    leaked: &Secret,
    ids: Vec<String>,
    path: impl Fn(&str) -> String,
    mut holds: impl FnMut(&str) -> Result<bool, BackendError>,
) -> Result<Vec<Location>, BackendError> {
    let mut found = Vec::new();
    for id in ids {
        if holds(&id).map_err(|e| scrub_err(e, &[leaked.expose()]))? {
            found.push(Location {
                backend: backend.to_string(),
                path: path(&id),
                key: None,
            });
        }
    }
    Ok(found)
}

/// Applies [`scrub`] to an error's message.
pub(crate) fn scrub_err(mut e: BackendError, secrets: &[&[u8]]) -> BackendError {
    e.message = scrub(&e.message, secrets);
    e
}

/// A path from a backend's settings: `~/...` as is (expanded later), otherwise relative to
/// the config file's directory.
pub(crate) fn def_path(def: &super::config::BackendDef, p: &Path) -> std::path::PathBuf {
    if p.starts_with("~") {
        p.to_path_buf()
    } else {
        def.resolve(p)
    }
}

/// Expands a leading `~/` with `$HOME`.
pub(crate) fn expand_home(p: &Path) -> std::path::PathBuf {
    if let Ok(rest) = p.strip_prefix("~") {
        if let Some(home) = std::env::var_os("HOME") {
            return Path::new(&home).join(rest);
        }
    }
    p.to_path_buf()
}

/// A bearer token with its expiry, cached between requests.
pub(crate) struct CachedToken {
    pub token: Secret,
    /// Unix seconds after which the token must be fetched again.
    pub refresh_after: u64,
}

impl CachedToken {
    /// A token given in the environment variable `var` (`token_env`): never refreshed.
    pub fn from_env(backend: &str, var: &str) -> Result<CachedToken, BackendError> {
        Ok(CachedToken {
            token: read_credential(backend, "token", Some(var), None, CredentialHint::General)?,
            refresh_after: u64::MAX,
        })
    }
}

/// The one bearer token a backend holds, fetched again once it is due.
pub(crate) struct TokenCache(Mutex<Option<CachedToken>>);

impl TokenCache {
    pub fn new() -> TokenCache {
        TokenCache(Mutex::new(None))
    }

    /// The `authorization` header with the cached token, or with a token from `fetch`
    /// when there is none yet or it is due (fetched under the lock: one fetch at a time).
    pub fn bearer(
        &self,
        backend: &str,
        fetch: impl FnOnce() -> Result<CachedToken, BackendError>,
    ) -> Result<AuthHeaders, BackendError> {
        let mut slot = self
            .0
            .lock()
            .map_err(|_| BackendError::new(backend, ErrorKind::Protocol, "token cache poisoned"))?;
        if let Some(t) = slot.as_ref() {
            if crate::civil::unix_now() < t.refresh_after {
                return Ok(bearer_header(&t.token));
            }
        }
        let fresh = fetch()?;
        let h = bearer_header(&fresh.token);
        *slot = Some(fresh);
        Ok(h)
    }
}

/// The `authorization: Bearer ...` header for `token`.
pub(crate) fn bearer_header(token: &Secret) -> AuthHeaders {
    vec![(
        "authorization".into(),
        format!("Bearer {}", String::from_utf8_lossy(token.expose())),
    )]
}
