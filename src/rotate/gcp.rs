//! GCP Secret Manager backend (REST v1).
//!
//! - **locate** lists the project's secrets (`GET /v1/projects/{p}/secrets`, paged) and
//!   accesses each one's `latest` version; the payload's `dataCrc32c` is compared with
//!   the CRC32C of the leaked value first, so only a matching checksum is decoded and
//!   compared byte for byte (in constant time).
//! - **rotate** is `POST /v1/projects/{p}/secrets/{s}:addVersion`, a **new version**;
//!   earlier versions stay enabled for rollback. The payload carries `dataCrc32c`, so the
//!   service verifies the bytes it stored and no read-back is needed after the write.
//! - **idempotency**: `addVersion` has no request id, and versions have no labels. A
//!   secret-level label or annotation would need a second write (`secrets.patch`, another
//!   permission) that can be lost if the process dies between the two calls. Instead the
//!   check is the payload itself: before writing, `latest` is accessed and, if its CRC32C
//!   and then its bytes equal the intended new value, the rotation already happened
//!   (`already_applied`). Every retry of one rotation sends the same new value, so this
//!   is exact, atomic with the write and needs only the access permission rotation
//!   already uses. (Limit: if someone else adds a version after ours and before the
//!   re-run, the re-run writes again; the audit log shows both.)
//! - **verify** accesses `latest` and checks it no longer holds the leaked value.
//!
//! Auth: a bearer token from an environment variable (`gcloud auth print-access-token`),
//! or a service-account key file: an RS256-signed JWT exchanged at the key's `token_uri`
//! (OAuth 2.0 JWT bearer grant) for an access token with the `cloud-platform` scope.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{json, Value};
use zeroize::Zeroize;

use super::cloud::{
    default_max_wait, default_retries, expand_home, locate_each, scrub_err, CachedToken, TokenCache,
};
use super::config::{
    check_locate_limit, default_locate_limit, default_timeout_ms, read_credential, CredentialHint,
};
use super::{
    constant_time_eq, Backend, BackendError, ErrorKind, Location, RotateOutcome, RotateStatus,
};
use crate::civil::unix_now;
use crate::net::http::{
    check_endpoint, encode_component, status_kind, AuthHeaders, Http, HttpSettings, Reply, Req,
};
use crate::net::jwt::RsaSigner;
use crate::net::{b64, b64_decode};
use crate::scrub::{provider_text, wipe_json};
use crate::secret::Secret;

/// `[rotation.backend]` settings for `kind = "gcp-secretmanager"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpConfig {
    /// Project id or number.
    pub project: String,
    /// API endpoint (default `https://secretmanager.googleapis.com`; regional endpoints and
    /// test servers override it).
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Environment variable holding an OAuth2 access token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// A service-account key file (JSON). Default when `token_env` is not set:
    /// `$GOOGLE_APPLICATION_CREDENTIALS`.
    #[serde(default)]
    pub credentials_file: Option<PathBuf>,
    /// Overrides the key file's `token_uri`.
    #[serde(default)]
    pub token_uri: Option<String>,
    /// Restricts `locate` to these secret ids (default: every secret in the project).
    #[serde(default)]
    pub secrets: Vec<String>,
    /// A list filter for `locate` (e.g. `labels.team=payments`).
    #[serde(default)]
    pub filter: Option<String>,
    /// The most secrets `locate` reads.
    #[serde(default = "default_locate_limit")]
    pub locate_limit: usize,
    /// Per-request timeout, milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Re-sends of one throttled request.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// The longest wait between two attempts, milliseconds.
    #[serde(default = "default_max_wait")]
    pub max_retry_wait_ms: u64,
}

fn default_endpoint() -> String {
    "https://secretmanager.googleapis.com".into()
}

/// The OAuth2 scope requested for service-account tokens.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

enum Auth {
    Env(String),
    ServiceAccount {
        file: PathBuf,
        token_uri: Option<String>,
    },
}

/// A GCP Secret Manager project.
pub struct GcpSecretManager {
    name: String,
    project: String,
    endpoint: String,
    auth: Auth,
    token: TokenCache,
    ids: Vec<String>,
    filter: Option<String>,
    limit: usize,
    http: Http,
}

/// An accessed version: its number and payload (wiped on drop).
struct Payload {
    version: String,
    data: Vec<u8>,
    crc: Option<u32>,
}

impl Drop for Payload {
    fn drop(&mut self) {
        self.data.zeroize();
    }
}

impl Payload {
    /// Whether the payload equals `value`: CRC32C first (cheap, no decode needed for a
    /// mismatch), then the bytes in constant time.
    fn equals(&self, value: &[u8]) -> bool {
        if let Some(c) = self.crc {
            if c != crc32c(value) {
                return false;
            }
        }
        constant_time_eq(&self.data, value)
    }
}

impl GcpSecretManager {
    /// Builds the backend from its `[[rotation.backend]]` entry (`kind = "gcp-secretmanager"`).
    pub fn from_def(def: &super::config::BackendDef) -> Result<GcpSecretManager, BackendError> {
        let mut cfg: GcpConfig = def.settings()?;
        cfg.credentials_file = cfg
            .credentials_file
            .map(|p| super::cloud::def_path(def, &p));
        GcpSecretManager::new(&def.name, cfg)
    }

    /// Builds the backend called `name` from its settings.
    pub fn new(name: &str, cfg: GcpConfig) -> Result<GcpSecretManager, BackendError> {
        let config = |m: String| BackendError::new(name, ErrorKind::Config, m);
        let endpoint = check_endpoint(name, "endpoint", &cfg.endpoint)?;
        if cfg.project.is_empty() || !cfg.project.bytes().all(project_char) {
            return Err(config(format!(
                "project {:?} is not a GCP project id or number",
                cfg.project
            )));
        }
        let auth = match (&cfg.token_env, &cfg.credentials_file) {
            (Some(v), None) => Auth::Env(v.clone()),
            (None, Some(f)) => Auth::ServiceAccount {
                file: expand_home(f),
                token_uri: cfg.token_uri.clone(),
            },
            (None, None) => match std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS") {
                Some(f) if !f.is_empty() => Auth::ServiceAccount {
                    file: PathBuf::from(f),
                    token_uri: cfg.token_uri.clone(),
                },
                _ => {
                    return Err(config(
                        "no credentials: set token_env = \"VAR\" (a token from `gcloud auth \
                         print-access-token`) or credentials_file = \"PATH\" (a \
                         service-account key), or export GOOGLE_APPLICATION_CREDENTIALS"
                            .into(),
                    ))
                }
            },
            (Some(_), Some(_)) => {
                return Err(config("set token_env or credentials_file, not both".into()))
            }
        };
        Ok(GcpSecretManager {
            name: name.to_string(),
            project: cfg.project,
            endpoint,
            auth,
            token: TokenCache::new(),
            ids: cfg.secrets,
            filter: cfg.filter,
            limit: cfg.locate_limit,
            http: Http::with_settings(
                name,
                HttpSettings::from_ms(cfg.timeout_ms, cfg.retries, cfg.max_retry_wait_ms),
            ),
        })
    }

    fn err(&self, kind: ErrorKind, m: impl Into<String>) -> BackendError {
        BackendError::new(&self.name, kind, m)
    }

    fn bearer(&self) -> Result<AuthHeaders, BackendError> {
        self.token.bearer(&self.name, || match &self.auth {
            Auth::Env(var) => CachedToken::from_env(&self.name, var),
            Auth::ServiceAccount { file, token_uri } => self.exchange(file, token_uri.as_deref()),
        })
    }

    /// Signs a JWT with the service-account key and exchanges it for an access token.
    fn exchange(
        &self,
        file: &std::path::Path,
        token_uri: Option<&str>,
    ) -> Result<CachedToken, BackendError> {
        let f = file.display();
        let raw = read_credential(
            &self.name,
            "service-account key",
            None,
            Some(file),
            CredentialHint::General,
        )?;
        let mut key: Value = serde_json::from_slice(raw.expose()).map_err(|e| {
            self.err(
                ErrorKind::Config,
                format!(
                    "{f}: not a JSON key file (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        let field = |k: &str| key.get(k).and_then(Value::as_str).map(str::to_string);
        let result = (|| {
            match field("type").as_deref() {
                Some("service_account") => {}
                Some("authorized_user") => {
                    return Err(self.err(
                        ErrorKind::Config,
                        format!(
                            "{f} holds user credentials (gcloud auth application-default \
                             login): use a service-account key, or token_env with a token \
                             from `gcloud auth print-access-token`"
                        ),
                    ))
                }
                other => {
                    return Err(self.err(
                        ErrorKind::Config,
                        format!(
                            "{f}: type {:?} is not a service-account key",
                            other.unwrap_or("(none)")
                        ),
                    ))
                }
            }
            let email = field("client_email")
                .ok_or_else(|| self.err(ErrorKind::Config, format!("{f}: no client_email")))?;
            let uri = match token_uri {
                Some(u) => u.to_string(),
                None => field("token_uri")
                    .unwrap_or_else(|| "https://oauth2.googleapis.com/token".into()),
            };
            let uri = check_endpoint(&self.name, "token_uri", &uri)?;
            let mut pem = field("private_key")
                .ok_or_else(|| self.err(ErrorKind::Config, format!("{f}: no private_key")))?;
            let signer = RsaSigner::from_pem(pem.as_bytes());
            pem.zeroize();
            let signer = signer.map_err(|m| self.err(ErrorKind::Config, format!("{f}: {m}")))?;
            let now = unix_now();
            let mut header = json!({"alg": "RS256", "typ": "JWT"});
            if let Some(kid) = field("private_key_id") {
                header["kid"] = Value::String(kid);
            }
            let claims = json!({
                "iss": email, "scope": SCOPE, "aud": uri, "iat": now, "exp": now + 3600,
            });
            let mut assertion = signer
                .jwt(&header, &claims)
                .map_err(|m| self.err(ErrorKind::Config, format!("{f}: {m}")))?;
            let form = format!(
                "grant_type={}&assertion={assertion}",
                encode_component("urn:ietf:params:oauth:grant-type:jwt-bearer")
            );
            // The signed assertion is a bearer credential for an hour: only the request
            // body (wiped with it) keeps it. Getting a token changes nothing in Secret
            // Manager, so the request is not a write.
            assertion.zeroize();
            let req = Req::form(uri.clone(), form);
            let reply = self.http.send_auth(&req, false, &|_| Ok(Vec::new()))?;
            let mut body = reply.json();
            let out = if reply.ok() {
                let tok = body.get("access_token").and_then(Value::as_str);
                let secs = body
                    .get("expires_in")
                    .and_then(Value::as_u64)
                    .unwrap_or(300);
                tok.map(|t| CachedToken {
                    token: Secret::new(t.as_bytes().to_vec()),
                    refresh_after: now + secs.saturating_sub(60),
                })
                .ok_or_else(|| {
                    self.err(
                        ErrorKind::Protocol,
                        format!("{} answered 200 without access_token", uri),
                    )
                })
            } else {
                let code = body.get("error").and_then(Value::as_str).unwrap_or("?");
                let desc = body
                    .get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                Err(self.err(
                    if reply.status >= 500 {
                        ErrorKind::Unavailable
                    } else {
                        ErrorKind::Auth
                    },
                    format!(
                        "the token endpoint refused the service-account key {email} (HTTP {}, \
                         {code}: {}): the key may be deleted or disabled (create a new key \
                         for the service account), or this machine's clock is off",
                        reply.status,
                        provider_text(desc, &[])
                    ),
                ))
            };
            wipe_json(&mut body);
            out
        })();
        wipe_json(&mut key);
        result
    }

    fn send(&self, req: &Req, dry_run: bool) -> Result<Reply, BackendError> {
        self.http.send_auth(req, dry_run, &|_| self.bearer())
    }

    fn secret_path(&self, id: &str) -> String {
        format!(
            "projects/{}/secrets/{}",
            encode_component(&self.project),
            encode_component(id)
        )
    }

    /// Accesses `latest` of secret `id`. `Ok(None)`: the secret has no (enabled) version.
    fn access_latest(&self, id: &str) -> Result<Option<Payload>, BackendError> {
        let url = format!(
            "{}/v1/{}/versions/latest:access",
            self.endpoint,
            self.secret_path(id)
        );
        let reply = self.send(&Req::get(url), false)?;
        if !reply.ok() {
            let status = rpc_status(&reply);
            // No versions yet, or the latest is disabled/destroyed: nothing served.
            if status.as_deref() == Some("FAILED_PRECONDITION")
                || (reply.status == 404 && self.secret_exists(id)?)
            {
                return Ok(None);
            }
            return Err(self.fail(&reply, "access", id));
        }
        let mut v = reply.json();
        let version = v
            .get("name")
            .and_then(Value::as_str)
            .and_then(|n| n.rsplit('/').next())
            .unwrap_or("")
            .to_string();
        let data = v
            .pointer("/payload/data")
            .and_then(Value::as_str)
            .map_or(Some(Vec::new()), b64_decode);
        let crc = v.pointer("/payload/dataCrc32c").and_then(|c| {
            c.as_str()
                .and_then(|s| s.parse::<u64>().ok())
                .or_else(|| c.as_u64())
                .and_then(|n| u32::try_from(n).ok())
        });
        wipe_json(&mut v);
        let data = data.ok_or_else(|| {
            self.err(
                ErrorKind::Protocol,
                format!("access {id}: the payload is not base64"),
            )
        })?;
        Ok(Some(Payload { version, data, crc }))
    }

    fn secret_exists(&self, id: &str) -> Result<bool, BackendError> {
        let url = format!("{}/v1/{}", self.endpoint, self.secret_path(id));
        let reply = self.send(&Req::get(url), false)?;
        match reply.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(self.fail(&reply, "get", id)),
        }
    }

    fn fail(&self, reply: &Reply, op: &str, id: &str) -> BackendError {
        let body = reply.json();
        let status = rpc_status(reply).unwrap_or_default();
        let msg = provider_text(
            body.pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or(""),
            &[],
        );
        let p = &self.project;
        let (kind, m) = match (reply.status, status.as_str()) {
            (401, _) | (_, "UNAUTHENTICATED") => (
                ErrorKind::Auth,
                format!(
                    "{op} {id}: the access token was rejected (401 UNAUTHENTICATED): it expired \
                     (tokens last one hour: get a new one with `gcloud auth print-access-token`) \
                     or the service-account key was revoked"
                ),
            ),
            (403, _) | (_, "PERMISSION_DENIED") => {
                let api = if msg.contains("SERVICE_DISABLED") || msg.contains("has not been used") {
                    " The Secret Manager API is not enabled: `gcloud services enable \
                     secretmanager.googleapis.com`."
                } else {
                    ""
                };
                (
                    ErrorKind::Permission,
                    format!(
                        "{op} {id}: permission denied on project {p} (403): listing needs \
                         roles/secretmanager.viewer, reading roles/secretmanager.secretAccessor, \
                         adding a version roles/secretmanager.secretVersionAdder; an unknown \
                         project also answers 403 ({msg}).{api}"
                    ),
                )
            }
            (404, _) | (_, "NOT_FOUND") => (
                ErrorKind::NotFound,
                format!(
                    "{op} {id}: not found (404): check the secret id and project = {p:?} \
                     (id or number)"
                ),
            ),
            (429, _) | (_, "RESOURCE_EXHAUSTED") => (
                ErrorKind::Throttled,
                format!(
                    "{op} {id}: quota exhausted (429 RESOURCE_EXHAUSTED) after the configured \
                     retries: Secret Manager limits access requests per minute per project; \
                     retry later or narrow locate with `secrets` or `filter`"
                ),
            ),
            (_, "UNAVAILABLE") | (500..=599, _) => (
                ErrorKind::Unavailable,
                format!(
                    "{op} {id}: Secret Manager is unavailable (HTTP {}): retry later",
                    reply.status
                ),
            ),
            (s, st) => (status_kind(s), format!("{op} {id}: HTTP {s} {st}: {msg}")),
        };
        self.err(kind, m)
    }

    /// The secret id of a target `projects/P/secrets/ID` or `ID`.
    fn target_id<'a>(&self, target: &'a Location) -> Result<&'a str, BackendError> {
        if target.key.is_some() {
            return Err(self.err(
                ErrorKind::Config,
                format!("{target}: a Secret Manager secret holds one payload; drop the #key part"),
            ));
        }
        let id = match target.path.split('/').collect::<Vec<_>>().as_slice() {
            [id] | ["projects", _, "secrets", id] => *id,
            _ => "",
        };
        if id.is_empty()
            || id.len() > 255
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(self.err(
                ErrorKind::Config,
                format!(
                    "{target}: expected projects/PROJECT/secrets/ID or ID (letters, digits, - and _)"
                ),
            ));
        }
        Ok(id)
    }

    fn list_ids(&self) -> Result<Vec<String>, BackendError> {
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut url = format!(
                "{}/v1/projects/{}/secrets?pageSize=100",
                self.endpoint,
                encode_component(&self.project)
            );
            if let Some(f) = &self.filter {
                url += &format!("&filter={}", encode_component(f));
            }
            if let Some(t) = &token {
                url += &format!("&pageToken={}", encode_component(t));
            }
            let reply = self.send(&Req::get(url), false)?;
            if !reply.ok() {
                return Err(self.fail(&reply, "list", "secrets"));
            }
            let page = reply.json();
            for s in page
                .get("secrets")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if let Some(id) = s
                    .get("name")
                    .and_then(Value::as_str)
                    .and_then(|n| n.rsplit('/').next())
                {
                    ids.push(id.to_string());
                }
            }
            token = page
                .get("nextPageToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            check_locate_limit(&self.name, ids.len(), self.limit, "", "")?;
            if token.is_none() {
                return Ok(ids);
            }
        }
    }
}

fn project_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b':' || b == b'.'
}

/// The `google.rpc.Status` name (`NOT_FOUND`, `RESOURCE_EXHAUSTED`...).
fn rpc_status(reply: &Reply) -> Option<String> {
    reply
        .json()
        .pointer("/error/status")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// CRC32C (Castagnoli), as Secret Manager's `dataCrc32c`.
pub fn crc32c(data: &[u8]) -> u32 {
    const fn table() -> [u32; 256] {
        let mut t = [0u32; 256];
        let mut i: u32 = 0;
        while i < 256 {
            let mut c = i;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0x82F6_3B78 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i as usize] = c;
            i += 1;
        }
        t
    }
    const TABLE: [u32; 256] = table();
    let mut crc = !0u32;
    for &b in data {
        let idx = usize::from(crc.to_le_bytes()[0] ^ b);
        crc = TABLE.get(idx).copied().unwrap_or(0) ^ (crc >> 8);
    }
    !crc
}

impl Backend for GcpSecretManager {
    fn name(&self) -> &str {
        &self.name
    }

    fn locate(&self, leaked: &Secret) -> Result<Vec<Location>, BackendError> {
        let scrub = |e| scrub_err(e, &[leaked.expose()]);
        let ids = if self.ids.is_empty() {
            self.list_ids().map_err(scrub)?
        } else {
            self.ids.clone()
        };
        let path = |id: &str| self.secret_path(id);
        locate_each(&self.name, leaked, ids, path, |id| {
            let latest = self.access_latest(id)?;
            Ok(latest.is_some_and(|p| p.equals(leaked.expose())))
        })
    }

    fn rotate(
        &self,
        target: &Location,
        new_value: &Secret,
        idempotency_key: &str,
        dry_run: bool,
    ) -> Result<RotateOutcome, BackendError> {
        let _ = idempotency_key; // the payload is the marker (module doc)
        let id = self.target_id(target)?;
        let scrub = |e| scrub_err(e, &[new_value.expose()]);
        let current = self.access_latest(id).map_err(scrub)?;
        let previous = current.as_ref().map(|p| p.version.clone());
        if let Some(p) = &current {
            if p.equals(new_value.expose()) {
                return Ok(RotateOutcome {
                    status: RotateStatus::AlreadyApplied,
                    new_version: previous,
                    previous_version: None,
                });
            }
        }
        if dry_run {
            return Ok(RotateOutcome {
                status: RotateStatus::WouldRotate,
                new_version: None,
                previous_version: previous,
            });
        }
        let mut body = json!({"payload": {
            "data": b64(new_value.expose()),
            "dataCrc32c": crc32c(new_value.expose()).to_string(),
        }});
        let url = format!("{}/v1/{}:addVersion", self.endpoint, self.secret_path(id));
        let req = Req::json("POST", url, &body);
        wipe_json(&mut body);
        let reply = self.send(&req, false).map_err(scrub)?;
        if !reply.ok() {
            return Err(scrub(self.fail(&reply, "addVersion", id)));
        }
        let v = reply.json();
        let new_version = v
            .get("name")
            .and_then(Value::as_str)
            .and_then(|n| n.rsplit('/').next())
            .map(str::to_string);
        if new_version.is_none() {
            return Err(self.err(
                ErrorKind::Protocol,
                format!("addVersion {id}: the answer has no version name"),
            ));
        }
        Ok(RotateOutcome {
            status: RotateStatus::Rotated,
            new_version,
            previous_version: previous,
        })
    }

    fn verify(&self, target: &Location, leaked: &Secret) -> Result<bool, BackendError> {
        let id = self.target_id(target)?;
        let current = self
            .access_latest(id)
            .map_err(|e| scrub_err(e, &[leaked.expose()]))?;
        Ok(current.map_or(true, |p| !p.equals(leaked.expose())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_is_castagnoli() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn targets_accept_full_names_and_ids() {
        let cfg: GcpConfig = toml::from_str("project = \"p-1\"\ntoken_env = \"T\"").unwrap();
        let g = GcpSecretManager::new("g", cfg).unwrap();
        let loc = |p: &str| Location {
            backend: "g".into(),
            path: p.into(),
            key: None,
        };
        assert_eq!(g.target_id(&loc("projects/123/secrets/db")).unwrap(), "db");
        assert_eq!(g.target_id(&loc("db")).unwrap(), "db");
        assert!(g
            .target_id(&loc("projects/1/secrets/db/versions/2"))
            .is_err());
    }
}
