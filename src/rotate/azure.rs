//! Azure Key Vault backend (data-plane REST API, pinned `api-version`).
//!
//! - **locate** lists the vault's secrets (`GET /secrets`, following `nextLink` only
//!   inside the vault), reads the current version of each enabled one and compares it
//!   with the leaked value in memory, in constant time.
//! - **rotate** is `PUT /secrets/{name}` (Set Secret), which always creates a **new
//!   version**; earlier versions stay readable for rollback. Key Vault has no idempotency
//!   token, so the new version carries the tag `leaksweep-op = <idempotency key>` (tags are
//!   stored per version): before writing, the current version and then the version list
//!   are searched for that tag, and a hit answers `already_applied` instead of writing a
//!   second version. The current version's content type and tags are carried over.
//! - **verify** reads the current version and checks it no longer equals the leaked value.
//!
//! Auth: a bearer token for `https://vault.azure.net` from an environment variable, or the
//! OAuth2 client-credentials flow of Microsoft Entra ID (tenant, client id, client secret
//! read from an environment variable or a file). Tokens and values are never logged.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use zeroize::Zeroize;

use super::cloud::{
    default_max_wait, default_retries, locate_each, scrub_err, CachedToken, TokenCache,
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
use crate::scrub::{provider_text, wipe_json};
use crate::secret::Secret;

/// The tag that marks a version written by leaksweep with its idempotency key.
pub const OP_TAG: &str = "leaksweep-op";

/// `[rotation.backend]` settings for `kind = "azure-keyvault"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureConfig {
    /// The vault URL, `https://NAME.vault.azure.net` (a test server: `http://127.0.0.1:PORT`).
    pub vault_url: String,
    /// The data-plane API version sent as `?api-version=` (7.4 is GA).
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// Environment variable holding a bearer token for `https://vault.azure.net`.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Entra ID tenant (client-credentials flow).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Application (client) id (client-credentials flow).
    #[serde(default)]
    pub client_id: Option<String>,
    /// Environment variable holding the client secret.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// File holding the client secret.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// The Entra ID authority (sovereign clouds, tests).
    #[serde(default = "default_authority")]
    pub authority_host: String,
    /// Restricts `locate` to these secret names (default: every secret in the vault).
    #[serde(default)]
    pub secrets: Vec<String>,
    /// The most secrets `locate` reads.
    #[serde(default = "default_locate_limit")]
    pub locate_limit: usize,
    /// Per-request timeout, milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Re-sends of one throttled request (see `cloud`).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// The longest wait between two attempts, milliseconds (caps `Retry-After`).
    #[serde(default = "default_max_wait")]
    pub max_retry_wait_ms: u64,
}

fn default_api_version() -> String {
    "7.4".into()
}
fn default_authority() -> String {
    "https://login.microsoftonline.com".into()
}

enum Auth {
    Env(String),
    Client {
        tenant: String,
        client_id: String,
        secret_env: Option<String>,
        secret_file: Option<PathBuf>,
        authority: String,
    },
}

/// An Azure Key Vault.
pub struct AzureKeyVault {
    name: String,
    vault: String,
    api: String,
    auth: Auth,
    token: TokenCache,
    names: Vec<String>,
    limit: usize,
    http: Http,
}

/// A secret bundle as returned by Get/Set Secret; `value` wiped on drop.
struct Bundle {
    version: Option<String>,
    value: Option<String>,
    content_type: Option<String>,
    tags: Map<String, Value>,
}

impl Drop for Bundle {
    fn drop(&mut self) {
        if let Some(v) = &mut self.value {
            v.zeroize();
        }
    }
}

impl AzureKeyVault {
    /// Builds the backend from its `[[rotation.backend]]` entry (`kind = "azure-keyvault"`).
    pub fn from_def(def: &super::config::BackendDef) -> Result<AzureKeyVault, BackendError> {
        let mut cfg: AzureConfig = def.settings()?;
        cfg.client_secret_file = cfg
            .client_secret_file
            .map(|p| super::cloud::def_path(def, &p));
        AzureKeyVault::new(&def.name, cfg)
    }

    /// Builds the backend called `name` from its settings.
    pub fn new(name: &str, cfg: AzureConfig) -> Result<AzureKeyVault, BackendError> {
        let config = |m: String| BackendError::new(name, ErrorKind::Config, m);
        let vault = check_endpoint(name, "vault_url", &cfg.vault_url)?;
        if cfg.api_version.is_empty()
            || !cfg
                .api_version
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b.is_ascii_alphabetic() || b == b'-')
        {
            return Err(config(format!(
                "api_version {:?} is not a Key Vault API version (e.g. \"7.4\")",
                cfg.api_version
            )));
        }
        let auth =
            match (&cfg.token_env, &cfg.tenant_id, &cfg.client_id) {
                (Some(v), None, None) => Auth::Env(v.clone()),
                (None, Some(t), Some(c)) => {
                    if cfg.client_secret_env.is_none() && cfg.client_secret_file.is_none() {
                        return Err(config(
                            "client credentials need client_secret_env = \"VAR\" or \
                         client_secret_file = \"PATH\""
                                .into(),
                        ));
                    }
                    Auth::Client {
                        tenant: t.clone(),
                        client_id: c.clone(),
                        secret_env: cfg.client_secret_env.clone(),
                        secret_file: cfg.client_secret_file.clone(),
                        authority: check_endpoint(name, "authority_host", &cfg.authority_host)?,
                    }
                }
                _ => return Err(config(
                    "set either token_env = \"VAR\" (a bearer token for https://vault.azure.net) \
                     or tenant_id + client_id + client_secret_env/client_secret_file"
                        .into(),
                )),
            };
        for n in &cfg.secrets {
            valid_name(name, n)?;
        }
        Ok(AzureKeyVault {
            name: name.to_string(),
            vault,
            api: cfg.api_version,
            auth,
            token: TokenCache::new(),
            names: cfg.secrets,
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

    /// The bearer token, fetched (client credentials) or read (env) when needed.
    fn bearer(&self) -> Result<AuthHeaders, BackendError> {
        self.token.bearer(&self.name, || match &self.auth {
            Auth::Env(var) => CachedToken::from_env(&self.name, var),
            Auth::Client {
                tenant,
                client_id,
                secret_env,
                secret_file,
                authority,
            } => self.client_credentials(
                tenant,
                client_id,
                secret_env.as_deref(),
                secret_file.as_deref(),
                authority,
            ),
        })
    }

    fn client_credentials(
        &self,
        tenant: &str,
        client_id: &str,
        secret_env: Option<&str>,
        secret_file: Option<&std::path::Path>,
        authority: &str,
    ) -> Result<CachedToken, BackendError> {
        let secret = read_credential(
            &self.name,
            "client secret",
            secret_env,
            secret_file,
            CredentialHint::General,
        )?;
        let secret_text = std::str::from_utf8(secret.expose())
            .map_err(|_| self.err(ErrorKind::Config, "the client secret is not UTF-8"))?;
        let url = format!("{authority}/{}/oauth2/v2.0/token", encode_component(tenant));
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
            encode_component(client_id),
            encode_component(secret_text),
            encode_component("https://vault.azure.net/.default")
        );
        // Getting a token changes nothing in the vault (not a write: allowed during a dry
        // run); the form, which holds the secret, is moved into the request and wiped with it.
        let req = Req::form(url, form);
        let reply = self
            .http
            .send_auth(&req, false, &|_| Ok(Vec::new()))
            .map_err(|e| scrub_err(e, &[secret.expose()]))?;
        let mut body = reply.json();
        let result = if reply.ok() {
            match (
                body.get("access_token").and_then(Value::as_str),
                body.get("expires_in"),
            ) {
                (Some(tok), exp) => {
                    let secs = exp
                        .and_then(|e| e.as_u64().or_else(|| e.as_str()?.parse().ok()))
                        .unwrap_or(300);
                    Ok(CachedToken {
                        token: Secret::new(tok.as_bytes().to_vec()),
                        refresh_after: unix_now() + secs.saturating_sub(60),
                    })
                }
                _ => Err(self.err(
                    ErrorKind::Protocol,
                    "the token endpoint answered 200 without access_token",
                )),
            }
        } else {
            let code = body.get("error").and_then(Value::as_str).unwrap_or("?");
            let desc = body
                .get("error_description")
                .and_then(Value::as_str)
                .and_then(|d| d.split(':').next())
                .unwrap_or("");
            let kind = match reply.status {
                400 | 401 => ErrorKind::Auth,
                s => status_kind(s),
            };
            Err(self.err(
                kind,
                format!(
                    "Entra ID refused the client credentials (HTTP {}, {} {}): check tenant_id \
                     and client_id, and that the client secret is current (client secrets \
                     expire; create a new one under the app registration's Certificates & \
                     secrets)",
                    reply.status,
                    provider_text(code, &[secret.expose()]),
                    provider_text(desc, &[secret.expose()])
                ),
            ))
        };
        wipe_json(&mut body);
        result
    }

    fn url(&self, path: &str, extra: &str) -> String {
        format!(
            "{}{path}?api-version={}{extra}",
            self.vault,
            encode_component(&self.api)
        )
    }

    fn send(&self, req: &Req, dry_run: bool) -> Result<Reply, BackendError> {
        self.http.send_auth(req, dry_run, &|_| self.bearer())
    }

    /// Gets the current version of `secret`; `Ok(None)` when it is disabled.
    fn get(&self, secret: &str) -> Result<Option<Bundle>, BackendError> {
        let req = Req::get(self.url(&format!("/secrets/{}", encode_component(secret)), ""));
        let reply = self.send(&req, false)?;
        if reply.status == 403 && inner_code(&reply) == Some("SecretDisabled") {
            return Ok(None);
        }
        if !reply.ok() {
            return Err(self.fail(&reply, "get", secret));
        }
        self.bundle(&reply).map(Some)
    }

    fn bundle(&self, reply: &Reply) -> Result<Bundle, BackendError> {
        let mut v: Value = reply.json();
        let id = v.get("id").and_then(Value::as_str).map(str::to_string);
        let b = Bundle {
            version: id.as_deref().and_then(version_of).map(str::to_string),
            value: v.get("value").and_then(Value::as_str).map(str::to_string),
            content_type: v
                .get("contentType")
                .and_then(Value::as_str)
                .map(str::to_string),
            tags: v
                .get("tags")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        };
        wipe_json(&mut v);
        if id.is_none() {
            return Err(self.err(
                ErrorKind::Protocol,
                "Key Vault answered without a secret id (is vault_url a Key Vault?)",
            ));
        }
        Ok(b)
    }

    /// Follows a paged list, calling `item` for each entry of `value`.
    fn list(
        &self,
        first: String,
        what: &str,
        mut item: impl FnMut(&Value) -> bool,
    ) -> Result<(), BackendError> {
        let mut next = Some(first);
        let mut pages = 0usize;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > self.limit {
                break;
            }
            let reply = self.send(&Req::get(url), false)?;
            if !reply.ok() {
                return Err(self.fail(&reply, "list", what));
            }
            let page = reply.json();
            for entry in page
                .get("value")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if !item(entry) {
                    return Ok(());
                }
            }
            next = match page.get("nextLink").and_then(Value::as_str) {
                Some(n) if !n.is_empty() => {
                    // The bearer token goes with the next request: never outside the vault.
                    if !n.starts_with(&format!("{}/", self.vault)) {
                        return Err(self.err(
                            ErrorKind::Protocol,
                            format!(
                                "nextLink points outside the vault ({}): refusing to send \
                                 the token there",
                                crate::net::http::strip_query(n)
                            ),
                        ));
                    }
                    Some(n.to_string())
                }
                _ => None,
            };
        }
        Ok(())
    }

    /// Maps a failed reply to an error that names cause and fix.
    fn fail(&self, reply: &Reply, op: &str, secret: &str) -> BackendError {
        let body = reply.json();
        let code = body
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or("");
        let inner = inner_code(reply).unwrap_or("");
        let vault = &self.vault;
        let (kind, message) = match reply.status {
            401 => {
                let tenant = reply
                    .header("www-authenticate")
                    .and_then(challenge_tenant)
                    .map(|t| format!(" The vault's challenge names tenant {t}."))
                    .unwrap_or_default();
                (
                    ErrorKind::Auth,
                    format!(
                        "Key Vault rejected the bearer token (401 {code}): it is missing, \
                         expired, or issued for another tenant or resource. The token must be \
                         for resource https://vault.azure.net (az account get-access-token \
                         --resource https://vault.azure.net), or check tenant_id/client_id.{tenant}"
                    ),
                )
            }
            403 if inner == "SecretDisabled" => (
                ErrorKind::Permission,
                format!("{op} {secret}: the current version is disabled (enable it or pick another secret)"),
            ),
            403 => (
                ErrorKind::Permission,
                format!(
                    "{op} {secret}: denied (403 {code} {inner}): the identity needs the secret \
                     permissions get, list and set (access-policy vaults) or the role 'Key Vault \
                     Secrets Officer' (RBAC vaults) on {vault}; ForbiddenByConnection means the \
                     vault's firewall blocks this network"
                ),
            ),
            404 => (
                ErrorKind::NotFound,
                format!(
                    "{op} {secret}: not found in {vault} (404 {code}): check the secret name and \
                     vault_url; a soft-deleted secret must be recovered first"
                ),
            ),
            409 => (
                ErrorKind::Conflict,
                format!(
                    "{op} {secret}: conflict (409 {code}): the secret is deleted but \
                     recoverable (recover it or pick another name) or being changed"
                ),
            ),
            429 => (
                ErrorKind::Throttled,
                format!(
                    "{op} {secret}: Key Vault throttled the requests (429, Retry-After {}s) \
                     after the configured retries: retry later or lower the request rate",
                    reply.header("retry-after").unwrap_or("?")
                ),
            ),
            s @ 500..=599 => (
                ErrorKind::Unavailable,
                format!("{op} {secret}: Key Vault is unavailable (HTTP {s} {code}): retry later"),
            ),
            400 => (
                ErrorKind::Protocol,
                format!(
                    "{op} {secret}: bad request (400 {code}: {}): check api_version {:?}",
                    provider_text(
                        body.pointer("/error/message").and_then(Value::as_str).unwrap_or(""),
                        &[]
                    ),
                    self.api
                ),
            ),
            s => (
                status_kind(s),
                format!("{op} {secret}: unexpected HTTP {s} {code}"),
            ),
        };
        self.err(kind, message)
    }

    fn target_name<'a>(&self, target: &'a Location) -> Result<&'a str, BackendError> {
        if target.key.is_some() {
            return Err(self.err(
                ErrorKind::Config,
                format!(
                    "{target}: a Key Vault secret holds one value; drop the #key part of the target"
                ),
            ));
        }
        let n = target.path.trim_start_matches("secrets/");
        valid_name(&self.name, n)?;
        Ok(n)
    }

    /// The version of `secret` tagged with `key`, if any (the whole version list).
    fn find_tagged(&self, secret: &str, key: &str) -> Result<Option<String>, BackendError> {
        let mut found = None;
        self.list(
            self.url(
                &format!("/secrets/{}/versions", encode_component(secret)),
                "&maxresults=25",
            ),
            secret,
            |v| {
                if v.pointer(&format!("/tags/{OP_TAG}"))
                    .and_then(Value::as_str)
                    == Some(key)
                {
                    found = v
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(version_of)
                        .map(str::to_string);
                    return false;
                }
                true
            },
        )?;
        Ok(found)
    }
}

fn inner_code(reply: &Reply) -> Option<&'static str> {
    let v = reply.json();
    match v.pointer("/error/innererror/code").and_then(Value::as_str) {
        Some("SecretDisabled") => Some("SecretDisabled"),
        Some("ForbiddenByPolicy") => Some("ForbiddenByPolicy"),
        Some("ForbiddenByConnection") => Some("ForbiddenByConnection"),
        Some("AccessDenied") => Some("AccessDenied"),
        _ => None,
    }
}

/// The tenant in a `WWW-Authenticate: Bearer authorization="https://.../{tenant}"` challenge.
fn challenge_tenant(h: &str) -> Option<String> {
    let start = h.find("authorization=\"")? + 15;
    let rest = h.get(start..)?;
    let url = rest.get(..rest.find('"')?)?;
    let tenant = url.trim_end_matches('/').rsplit('/').next()?;
    tenant
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        .then(|| tenant.to_string())
}

/// The version part of `https://v.vault.azure.net/secrets/{name}/{version}`.
fn version_of(id: &str) -> Option<&str> {
    let mut parts = id.rsplit('/');
    let version = parts.next()?;
    let name = parts.next()?;
    (parts.next()? == "secrets" && !name.is_empty() && !version.is_empty()).then_some(version)
}

/// The secret name from an id `https://v.vault.azure.net/secrets/{name}[/{version}]`.
fn name_of(id: &str) -> Option<&str> {
    let after = id.split("/secrets/").nth(1)?;
    after.split('/').next().filter(|n| !n.is_empty())
}

fn valid_name(backend: &str, n: &str) -> Result<(), BackendError> {
    if !n.is_empty() && n.len() <= 127 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Ok(())
    } else {
        Err(BackendError::new(
            backend,
            ErrorKind::Config,
            format!("{n:?} is not a Key Vault secret name (1-127 letters, digits and '-')"),
        ))
    }
}

impl Backend for AzureKeyVault {
    fn name(&self) -> &str {
        &self.name
    }

    fn locate(&self, leaked: &Secret) -> Result<Vec<Location>, BackendError> {
        let mut names = self.names.clone();
        if names.is_empty() {
            self.list(self.url("/secrets", "&maxresults=25"), "secrets", |v| {
                let enabled = v
                    .pointer("/attributes/enabled")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                if let (true, Some(n)) = (
                    enabled,
                    v.get("id").and_then(Value::as_str).and_then(name_of),
                ) {
                    names.push(n.to_string());
                }
                // One past the limit tells "exactly the limit" from "more".
                names.len() <= self.limit
            })?;
            check_locate_limit(&self.name, names.len(), self.limit, "", "")?;
        }
        locate_each(&self.name, leaked, names, str::to_string, |n| {
            let bundle = self.get(n)?;
            Ok(bundle
                .as_ref()
                .and_then(|b| b.value.as_ref())
                .is_some_and(|v| constant_time_eq(v.as_bytes(), leaked.expose())))
        })
    }

    fn rotate(
        &self,
        target: &Location,
        new_value: &Secret,
        idempotency_key: &str,
        dry_run: bool,
    ) -> Result<RotateOutcome, BackendError> {
        let secret = self.target_name(target)?;
        let value = std::str::from_utf8(new_value.expose()).map_err(|_| {
            self.err(
                ErrorKind::Config,
                "Key Vault secret values are text: the new value is not UTF-8",
            )
        })?;
        let scrub = |e| scrub_err(e, &[new_value.expose()]);
        let current = self.get(secret).map_err(scrub)?.ok_or_else(|| {
            self.err(
                ErrorKind::Permission,
                format!("{secret}: the current version is disabled: enable it before rotating"),
            )
        })?;
        let previous = current.version.clone();
        if current.tags.get(OP_TAG).and_then(Value::as_str) == Some(idempotency_key) {
            return Ok(RotateOutcome {
                status: RotateStatus::AlreadyApplied,
                new_version: previous,
                previous_version: None,
            });
        }
        if let Some(v) = self.find_tagged(secret, idempotency_key).map_err(scrub)? {
            return Ok(RotateOutcome {
                status: RotateStatus::AlreadyApplied,
                new_version: Some(v),
                previous_version: None,
            });
        }
        if dry_run {
            return Ok(RotateOutcome {
                status: RotateStatus::WouldRotate,
                new_version: None,
                previous_version: previous,
            });
        }
        let mut tags = current.tags.clone();
        tags.insert(OP_TAG.into(), Value::String(idempotency_key.into()));
        let mut body = json!({ "value": value, "tags": tags });
        if let Some(ct) = &current.content_type {
            body["contentType"] = Value::String(ct.clone());
        }
        let req = Req::json(
            "PUT",
            self.url(&format!("/secrets/{}", encode_component(secret)), ""),
            &body,
        );
        wipe_json(&mut body);
        let reply = self.send(&req, false).map_err(scrub)?;
        if !reply.ok() {
            return Err(scrub(self.fail(&reply, "set", secret)));
        }
        let written = self.bundle(&reply)?;
        Ok(RotateOutcome {
            status: RotateStatus::Rotated,
            new_version: written.version.clone(),
            previous_version: previous,
        })
    }

    fn verify(&self, target: &Location, leaked: &Secret) -> Result<bool, BackendError> {
        let secret = self.target_name(target)?;
        let current = self
            .get(secret)
            .map_err(|e| scrub_err(e, &[leaked.expose()]))?;
        Ok(match current.as_ref().and_then(|b| b.value.as_ref()) {
            Some(v) => !constant_time_eq(v.as_bytes(), leaked.expose()),
            // A disabled current version serves nothing.
            None => true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_and_challenges() {
        let id = "https://v.vault.azure.net/secrets/app-db/0123456789abcdef0123456789abcdef";
        assert_eq!(version_of(id), Some("0123456789abcdef0123456789abcdef"));
        assert_eq!(name_of(id), Some("app-db"));
        assert_eq!(
            name_of("https://v.vault.azure.net/secrets/app-db"),
            Some("app-db")
        );
        let h = "Bearer authorization=\"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47\", resource=\"https://vault.azure.net\"";
        assert_eq!(
            challenge_tenant(h).as_deref(),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
    }

    #[test]
    fn config_needs_one_auth_source() {
        let cfg: AzureConfig = toml::from_str("vault_url = \"https://v.vault.azure.net\"").unwrap();
        let e = AzureKeyVault::new("az", cfg).err().unwrap();
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(e.message.contains("token_env"), "{e}");
        let bad: Result<AzureConfig, _> = toml::from_str("vault_url = \"x\"\ntoken = \"literal\"");
        assert!(bad.is_err(), "unknown fields are refused");
    }
}
