//! Talking to services over HTTP on the user's behalf: rotation (secret stores) and
//! validation (providers' read-only endpoints) share this layer, so that TLS, timeouts,
//! retries, wiping and the dry-run guard exist once.
//!
//! - [`http`]: the one HTTP client: request and reply wiped on drop, a guard that refuses
//!   writes during a dry run, retries of throttling with `Retry-After`, timeouts, the
//!   classification of statuses and transport failures, URL encoding, endpoint policy;
//! - [`sigv4`]: AWS Signature Version 4 request signing;
//! - [`jwt`]: RS256 JSON Web Tokens (GCP service-account assertions).
//!
//! This module knows no backend, no provider and no finding: it depends on nothing above
//! it (`crate::secret`, `crate::scrub` and `crate::civil` only).

pub mod http;
pub mod jwt;
pub mod sigv4;

use base64::Engine as _;

/// Standard base64 (with padding), as the cloud APIs use for payloads.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64; `None` on bad input.
pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

/// The PEM blocks of `pem`, in order, with their labels (`CERTIFICATE`, `PRIVATE KEY`, ...)
/// and DER bytes; blocks whose body is not base64 are skipped. The base64 text is wiped
/// (it may be a private key); the caller wipes the DER of keys.
pub fn pem_blocks(pem: &[u8]) -> Vec<(String, Vec<u8>)> {
    use zeroize::Zeroize as _;
    let text = String::from_utf8_lossy(pem);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let Some(after) = rest.get(start + 11..) else {
            break;
        };
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = after.get(..label_end).unwrap_or("").to_string();
        let end_marker = format!("-----END {label}-----");
        let Some(end) = after.find(&end_marker) else {
            break;
        };
        let mut body: String = after
            .get(label_end + 5..end)
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Some(der) = b64_decode(&body) {
            out.push((label, der));
        }
        body.zeroize();
        rest = after.get(end + end_marker.len()..).unwrap_or("");
    }
    out
}

/// Base64url without padding (JWT segments).
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Why a call to a service failed; decides retries and the hint shown to the user.
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
    /// The service does not offer this operation (a store that cannot revoke).
    Unsupported,
}

impl ErrorKind {
    /// Whether a retry with backoff may succeed.
    pub fn retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Unavailable)
    }
}

/// An error from a service or the way to it, named after the backend (or provider) that
/// called. The message never contains a secret value.
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

impl BackendError {
    /// A new error; `message` must not contain a secret value.
    pub fn new(backend: &str, kind: ErrorKind, message: impl Into<String>) -> BackendError {
        BackendError {
            backend: backend.to_string(),
            kind,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_pem_blocks() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAwQF\n-----END CERTIFICATE-----\n";
        let blocks = super::pem_blocks(pem);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[1].1, vec![3, 4, 5]);
    }

    /// The layering rule: this plumbing serves rotation and validation and knows neither,
    /// nor the scanner.
    #[test]
    fn net_depends_on_nothing_above_it() {
        crate::testutil::assert_module_avoids(
            "net",
            &[
                "crate::rotate",
                "crate::validat",
                "crate::scan",
                "crate::source",
                "crate::engine",
                "crate::pipeline",
                "crate::finding",
                "crate::report",
                "crate::cli",
                "super::super",
            ],
        );
    }
}
