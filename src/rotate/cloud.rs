//! Plumbing shared by the cloud backends (Azure Key Vault, GCP Secret Manager, OCI Vault,
//! Kubernetes): a synchronous HTTP client with per-request retries, base64, scrubbing.
//! URL encoding, status and transport classification (`http`) and credential reading
//! (`config::read_credential`) are shared with every backend.
//!
//! What the client adds to `ureq`:
//! - a **dry-run guard**: a request marked as a write is refused before it leaves the
//!   process while a dry run is in progress (a mechanical guarantee, not a promise);
//! - **throttling retries per request**: a 429 means the request was not processed, so it
//!   is re-sent (any method) after the server's `Retry-After` or a jittered backoff,
//!   bounded in count and in wait. A 5xx or a transport error is retried only for reads:
//!   after a failed *write* the outcome is unknown, so the error goes back to the caller,
//!   whose retry of the whole `rotate` first looks for its idempotency marker. This keeps
//!   a `locate` over hundreds of secrets from restarting from scratch on one throttle;
//! - per-attempt authorization: the auth closure runs for every attempt, so an OCI
//!   signature carries a fresh `date` and an exchanged token can be refreshed;
//! - no logging at all. Bodies carry secret values: they are parsed by the backend and
//!   wiped on drop, never printed. Redirects are off.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use zeroize::Zeroize;

use super::config::{read_credential, CredentialHint};
use super::http::{agent, exchange, io_kind, strip_query, transport_error, TransportHints};
use super::{BackendError, ErrorKind, Location};
use crate::secret::Secret;

/// Standard base64 (with padding), as the cloud APIs use for payloads.
pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64; `None` on bad input.
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

/// Base64url without padding (JWT segments).
pub(crate) fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Retry and timeout settings shared by the cloud backends' configs.
#[derive(Debug, Clone, Copy)]
pub struct HttpSettings {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Re-sends of one request after throttling (429) or a 5xx on a read.
    pub retries: u32,
    /// The longest single wait between two attempts (caps `Retry-After`).
    pub max_wait: Duration,
}

impl HttpSettings {
    /// The settings as the cloud configs spell them (`timeout_ms`, `retries`,
    /// `max_retry_wait_ms`).
    pub fn from_ms(timeout_ms: u64, retries: u32, max_retry_wait_ms: u64) -> HttpSettings {
        HttpSettings {
            timeout: Duration::from_millis(timeout_ms),
            retries,
            max_wait: Duration::from_millis(max_retry_wait_ms),
        }
    }
}

/// Default `retries` of the cloud configs.
pub(crate) fn default_retries() -> u32 {
    3
}

/// Default `max_retry_wait_ms` of the cloud configs.
pub(crate) fn default_max_wait() -> u64 {
    30_000
}

/// An outgoing request.
pub(crate) struct Req {
    pub method: &'static str,
    pub url: String,
    /// Headers other than authorization.
    pub headers: Vec<(String, String)>,
    /// Body bytes (may hold a secret: wiped on drop).
    pub body: Option<Vec<u8>>,
    /// True if the request changes state in the backend.
    pub write: bool,
}

impl Req {
    pub fn get(url: String) -> Req {
        Req {
            method: "GET",
            url,
            headers: Vec::new(),
            body: None,
            write: false,
        }
    }

    /// A write carrying a JSON body.
    pub fn json(method: &'static str, url: String, body: &serde_json::Value) -> Req {
        Req {
            method,
            url,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(body.to_string().into_bytes()),
            write: true,
        }
    }

    /// The URL without its query, for messages.
    pub fn what(&self) -> String {
        format!("{} {}", self.method, strip_query(&self.url))
    }
}

impl Drop for Req {
    fn drop(&mut self) {
        if let Some(b) = &mut self.body {
            b.zeroize();
        }
    }
}

/// A response, whatever its status. The body may hold secret values: parse, never print.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    headers: Vec<(String, String)>,
}

impl Reply {
    /// A response header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

/// What the cloud client tells the user about a transport failure (the cloud configs name
/// an endpoint, a region or a kubeconfig server).
const HINTS: TransportHints = TransportHints {
    connect: "cannot connect: is the server running, and is the endpoint in the config right?",
    dns: "cannot resolve the host name: check the endpoint (or region) in the config",
    invalid_url: "invalid URL: check the endpoint in the config (https://...)",
    timeout: "no answer before the timeout (raise timeout_ms if the service is slow)",
};

/// Headers an auth source adds to one attempt.
pub(crate) type AuthHeaders = Vec<(String, String)>;

/// An HTTP client for one backend.
pub(crate) struct Http {
    agent: ureq::Agent,
    backend: String,
    settings: HttpSettings,
}

impl Http {
    pub fn new(backend: &str, settings: HttpSettings) -> Http {
        Http::with_agent(backend, settings, ureq::AgentBuilder::new())
    }

    /// A client built on `builder` (custom TLS roots for Kubernetes).
    pub fn with_agent(backend: &str, settings: HttpSettings, builder: ureq::AgentBuilder) -> Http {
        Http {
            agent: agent(builder, settings.timeout),
            backend: backend.to_string(),
            settings,
        }
    }

    /// Sends `req`, retrying throttling (and 5xx on reads) as the module doc says. `auth`
    /// runs before every attempt and returns the headers that authorize it. Every HTTP
    /// status comes back as a [`Reply`] once retries are exhausted.
    pub fn send(
        &self,
        req: &Req,
        dry_run: bool,
        auth: &dyn Fn(&Req) -> Result<AuthHeaders, BackendError>,
    ) -> Result<Reply, BackendError> {
        if req.write && dry_run {
            return Err(self.err(
                ErrorKind::Protocol,
                format!(
                    "refused to send a write ({}) during a dry run (a bug in the backend)",
                    req.what()
                ),
            ));
        }
        let start = Instant::now();
        let mut attempt = 0u32;
        loop {
            let result = self.once(req, auth);
            let wait = match &result {
                Ok(r) if r.status == 429 => Some(retry_after(r)),
                Ok(r) if r.status >= 500 && !req.write => Some(retry_after(r)),
                Err(e) if !req.write && e.kind == ErrorKind::Unavailable => Some(None),
                _ => None,
            };
            let Some(hint) = wait else { return result };
            if attempt >= self.settings.retries {
                return result;
            }
            let backoff = jitter(Duration::from_millis(200u64 << attempt.min(8)));
            let sleep = hint.unwrap_or(backoff).min(self.settings.max_wait);
            // Never let retries run past twice the wait budget in total.
            if start.elapsed() + sleep > self.settings.max_wait * 2 + self.settings.timeout {
                return result;
            }
            attempt += 1;
            std::thread::sleep(sleep);
        }
    }

    fn once(
        &self,
        req: &Req,
        auth: &dyn Fn(&Req) -> Result<AuthHeaders, BackendError>,
    ) -> Result<Reply, BackendError> {
        let mut r = self.agent.request(req.method, &req.url);
        for (k, v) in &req.headers {
            r = r.set(k, v);
        }
        for (k, v) in auth(req)? {
            r = r.set(&k, &v);
        }
        let resp = exchange(r, req.body.as_deref(), |t| self.transport_error(req, t))?;
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
            .collect();
        let mut body = Vec::new();
        use std::io::Read as _;
        resp.into_reader()
            .take(64 << 20)
            .read_to_end(&mut body)
            .map_err(|e| {
                body.zeroize();
                self.err(
                    io_kind(&e),
                    format!("reading the answer to {}: {e}", req.what()),
                )
            })?;
        Ok(Reply {
            status,
            body,
            headers,
        })
    }

    fn transport_error(&self, req: &Req, t: &ureq::Transport) -> BackendError {
        // The source chain names TLS failures (e.g. "invalid peer certificate: UnknownIssuer").
        let mut detail = String::new();
        let mut src = std::error::Error::source(t);
        while let Some(e) = src {
            detail = e.to_string();
            src = e.source();
        }
        let tls =
            detail.contains("certificate") || detail.contains("tls") || detail.contains("TLS");
        if tls {
            return self.err(
                ErrorKind::Unavailable,
                format!(
                    "{}: the TLS handshake failed ({detail}): the server's certificate is not \
                     trusted or not valid for this host; configure its CA (for Kubernetes: \
                     certificate-authority in the kubeconfig)",
                    req.what()
                ),
            );
        }
        transport_error(&self.backend, &req.what(), t, &HINTS)
    }

    pub fn err(&self, kind: ErrorKind, message: impl Into<String>) -> BackendError {
        BackendError::new(&self.backend, kind, message)
    }
}

/// The server's `Retry-After` in seconds (the HTTP-date form is treated as absent).
fn retry_after(r: &Reply) -> Option<Duration> {
    r.header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// A random duration in `[d/2, d]` (decorrelates clients throttled together).
fn jitter(d: Duration) -> Duration {
    let mut b = [0u8; 2];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    let frac = f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX);
    d.mul_f64(0.5 + frac / 2.0)
}

/// A provider's own error text, shortened and stripped of control characters, with any
/// of `secrets` (and their base64 form) replaced: some services echo request fields.
pub(crate) fn provider_text(text: &str, secrets: &[&[u8]]) -> String {
    let mut t: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
    t = scrub(&t, secrets);
    t
}

/// Replaces every occurrence of each secret (raw, base64, base64url) in `text`.
pub(crate) fn scrub(text: &str, secrets: &[&[u8]]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.len() < 4 {
            continue;
        }
        let forms = [String::from_utf8_lossy(s).into_owned(), b64(s), b64url(s)];
        for f in forms {
            if !f.is_empty() && out.contains(&f) {
                out = out.replace(&f, "[redacted]");
            }
        }
    }
    out
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

/// Overwrites the strings inside a JSON value (bodies that held secret values).
pub(crate) fn wipe_json(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(a) => a.iter_mut().for_each(wipe_json),
        Value::Object(o) => o.values_mut().for_each(wipe_json),
        _ => {}
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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
            if unix_now() < t.refresh_after {
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

/// Checks an endpoint override: `https://` (or `http://` for 127.0.0.1/localhost tests).
pub(crate) fn check_endpoint(
    backend: &str,
    field: &str,
    url: &str,
) -> Result<String, BackendError> {
    let u = url.trim_end_matches('/');
    let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| u.starts_with(p));
    if u.starts_with("https://") || local {
        Ok(u.to_string())
    } else {
        Err(BackendError::new(
            backend,
            ErrorKind::Config,
            format!(
                "{field} = {u:?} must start with https:// (plain http:// is accepted only for \
                 127.0.0.1 or localhost test servers, because the bearer token and the new \
                 secret value travel in the request)"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_every_form() {
        let s = b"LSWCANARY-0123456789";
        let text = format!("bad value {} and {}", "LSWCANARY-0123456789", b64(s));
        let out = scrub(&text, &[s]);
        assert!(!out.contains("LSWCANARY"), "{out}");
        assert!(!out.contains(&b64(s)), "{out}");
    }

    #[test]
    fn endpoints_must_be_https_except_loopback() {
        assert!(check_endpoint("b", "endpoint", "https://x.vault.azure.net/").is_ok());
        assert!(check_endpoint("b", "endpoint", "http://127.0.0.1:9").is_ok());
        let e = check_endpoint("b", "endpoint", "http://vault.internal").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
    }

    #[test]
    fn refused_connections_name_the_endpoint_in_the_config() {
        let port = crate::rotate::http::closed_port();
        let h = Http::new("t", HttpSettings::from_ms(500, 0, 0));
        let req = Req::get(format!("http://127.0.0.1:{port}/secrets?api-version=7.4"));
        let e = h.send(&req, false, &|_| Ok(Vec::new())).err().unwrap();
        assert_eq!(e.kind, ErrorKind::Unavailable);
        let want = format!("GET http://127.0.0.1:{port}/secrets: cannot connect: is the server");
        assert!(e.message.starts_with(&want), "{e}");
        assert!(e.message.contains("the endpoint in the config"), "{e}");
    }

    #[test]
    fn dry_run_guard_refuses_writes_before_sending() {
        let h = Http::new(
            "t",
            HttpSettings {
                timeout: Duration::from_millis(100),
                retries: 0,
                max_wait: Duration::ZERO,
            },
        );
        let req = Req::json("PUT", "http://127.0.0.1:9/x".into(), &serde_json::json!({}));
        let e = h.send(&req, true, &|_| Ok(Vec::new())).err().unwrap();
        assert!(e.message.contains("refused to send a write"), "{e}");
    }
}
