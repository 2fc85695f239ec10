//! OCI Vault backend: secrets of the Vault service, OCI request signing.
//!
//! - **locate** lists the compartment's ACTIVE secrets (`GET /20180608/secrets`, paged by
//!   `opc-next-page`) on the management endpoint and reads each one's CURRENT bundle
//!   (`GET /20190301/secretbundles/{id}?stage=CURRENT`) on the secret-retrieval endpoint;
//!   the decoded content is compared with the leaked value in memory, in constant time.
//! - **rotate** is `UpdateSecret` (`PUT /20180608/secrets/{id}`) with `secretContent`
//!   of content type **BASE64** (PLAIN is deprecated) and stage CURRENT: a new secret
//!   version under the same OCID, so readers pick it up on their next refresh; the old
//!   version becomes PREVIOUS and stays readable. The PUT carries `if-match` with the etag
//!   just read (412 if someone changed the secret in between). The real service then moves
//!   the secret through `UPDATING` to `ACTIVE`; rotate polls until ACTIVE (bounded).
//! - **idempotency**: the new version gets the **name** `lsw-<idempotency key>`. Version
//!   names are unique within a secret, so a re-run lists the versions
//!   (`GET /20180608/secrets/{id}/versions`) and answers `already_applied` when the name
//!   is there, whichever version is current now. The name is metadata of the version the
//!   write itself creates: no second call that could be lost.
//! - **verify** reads the CURRENT bundle.
//!
//! Auth: OCI HTTP signatures (draft-cavage-http-signatures, "Signature Version 1"),
//! RSA-SHA256 over `date (request-target) host` and, for bodies, `content-length
//! content-type x-content-sha256`, with the API key named by the standard config file
//! (`~/.oci/config`, a profile) and the `OCI_CLI_*` environment variables, which override
//! the file as they do for the OCI CLI. Each attempt is signed afresh (new `date`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use super::cloud::{default_max_wait, default_retries, expand_home, locate_each, scrub_err};
use super::config::{check_locate_limit, default_locate_limit, default_timeout_ms};
use super::{
    constant_time_eq, Backend, BackendError, ErrorKind, Location, RotateOutcome, RotateStatus,
};
use crate::net::http::{
    check_endpoint, encode_component, status_kind, AuthHeaders, Http, HttpSettings, Reply, Req,
};
use crate::net::jwt::RsaSigner;
use crate::net::{b64, b64_decode};
use crate::scrub::{provider_text, wipe_json};
use crate::secret::Secret;

/// `[rotation.backend]` settings for `kind = "oci-vault"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OciConfig {
    /// Region (`us-ashburn-1`); default: the profile's or `$OCI_CLI_REGION`.
    #[serde(default)]
    pub region: Option<String>,
    /// Vault management endpoint (default `https://vaults.{region}.oci.oraclecloud.com`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Secret-retrieval endpoint (default
    /// `https://secrets.vaults.{region}.oci.oraclecloud.com`).
    #[serde(default)]
    pub secrets_endpoint: Option<String>,
    /// The OCI config file (default `~/.oci/config`).
    #[serde(default)]
    pub config_file: Option<PathBuf>,
    /// The profile in it.
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Whether `OCI_CLI_USER`, `OCI_CLI_TENANCY`, `OCI_CLI_FINGERPRINT`, `OCI_CLI_KEY_FILE`
    /// and `OCI_CLI_REGION` override the config file (as for the OCI CLI).
    #[serde(default = "default_true")]
    pub use_env: bool,
    /// Compartment OCID that `locate` lists.
    #[serde(default)]
    pub compartment_id: Option<String>,
    /// Restricts `locate` to one vault's secrets.
    #[serde(default)]
    pub vault_id: Option<String>,
    /// Restricts `locate` to these secret OCIDs.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// The most secrets `locate` reads.
    #[serde(default = "default_locate_limit")]
    pub locate_limit: usize,
    /// How long rotate waits for the secret to leave `UPDATING`, milliseconds.
    #[serde(default = "default_settle")]
    pub settle_timeout_ms: u64,
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

fn default_profile() -> String {
    "DEFAULT".into()
}
fn default_true() -> bool {
    true
}
fn default_settle() -> u64 {
    60_000
}

/// An API signing key: `keyId` and the private key.
struct ApiKey {
    key_id: String,
    signer: RsaSigner,
}

/// An OCI Vault compartment (or a list of secrets).
pub struct OciVault {
    name: String,
    endpoint: String,
    secrets_endpoint: String,
    profile: String,
    key: ApiKey,
    compartment: Option<String>,
    vault: Option<String>,
    ids: Vec<String>,
    limit: usize,
    settle: Duration,
    http: Http,
}

/// Reads one profile of an OCI config file (INI; profiles inherit `[DEFAULT]`).
pub fn read_profile(path: &Path, profile: &str) -> Result<HashMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut sections: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.trim().to_string());
            sections.entry(name.trim().to_string()).or_default();
            continue;
        }
        if let (Some(sec), Some((k, v))) = (&current, line.split_once('=')) {
            sections
                .entry(sec.clone())
                .or_default()
                .insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    let mut out = sections.get("DEFAULT").cloned().unwrap_or_default();
    match sections.get(profile) {
        Some(p) => out.extend(p.clone()),
        None if profile == "DEFAULT" && !out.is_empty() => {}
        None => {
            let mut names: Vec<_> = sections.keys().cloned().collect();
            names.sort();
            return Err(format!(
                "{}: no profile [{profile}] (profiles: {})",
                path.display(),
                names.join(", ")
            ));
        }
    }
    Ok(out)
}

impl OciVault {
    /// Builds the backend from its `[[rotation.backend]]` entry (`kind = "oci-vault"`).
    pub fn from_def(def: &super::config::BackendDef) -> Result<OciVault, BackendError> {
        let mut cfg: OciConfig = def.settings()?;
        cfg.config_file = cfg.config_file.map(|p| super::cloud::def_path(def, &p));
        OciVault::new(&def.name, cfg)
    }

    /// Builds the backend called `name` from its settings.
    pub fn new(name: &str, cfg: OciConfig) -> Result<OciVault, BackendError> {
        let config = |m: String| BackendError::new(name, ErrorKind::Config, m);
        let explicit = cfg.config_file.is_some();
        let file = expand_home(
            cfg.config_file
                .as_deref()
                .unwrap_or_else(|| Path::new("~/.oci/config")),
        );
        let mut prof = if explicit || file.exists() {
            read_profile(&file, &cfg.profile).map_err(config)?
        } else {
            HashMap::new()
        };
        if cfg.use_env {
            for (var, field) in [
                ("OCI_CLI_USER", "user"),
                ("OCI_CLI_TENANCY", "tenancy"),
                ("OCI_CLI_FINGERPRINT", "fingerprint"),
                ("OCI_CLI_KEY_FILE", "key_file"),
                ("OCI_CLI_REGION", "region"),
            ] {
                if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
                    prof.insert(field.into(), v.to_string_lossy().into_owned());
                }
            }
        }
        let source = format!("profile [{}] of {}", cfg.profile, file.display());
        let get = |k: &str| -> Result<String, BackendError> {
            prof.get(k).cloned().ok_or_else(|| {
                config(format!(
                    "no `{k}` in {source} (or ${})",
                    match k {
                        "user" => "OCI_CLI_USER",
                        "tenancy" => "OCI_CLI_TENANCY",
                        "fingerprint" => "OCI_CLI_FINGERPRINT",
                        "key_file" => "OCI_CLI_KEY_FILE",
                        _ => "OCI_CLI_REGION",
                    }
                ))
            })
        };
        if prof.contains_key("security_token_file") && !prof.contains_key("user") {
            return Err(config(format!(
                "{source} uses session-token auth (security_token_file), which this backend \
                 does not support: use an API-key profile (user, fingerprint, key_file)"
            )));
        }
        let key_id = format!(
            "{}/{}/{}",
            get("tenancy")?,
            get("user")?,
            get("fingerprint")?
        );
        let key_file = expand_home(Path::new(&get("key_file")?));
        if prof.contains_key("pass_phrase") {
            return Err(config(format!(
                "{source} has a pass_phrase: encrypted API keys are not supported; decrypt a \
                 copy (`openssl rsa -in KEY -out KEY.plain`, mode 0600) and point key_file at it"
            )));
        }
        let mut pem = std::fs::read(&key_file).map_err(|e| {
            config(format!(
                "reading key_file {} ({source}): {e}",
                key_file.display()
            ))
        })?;
        let signer = RsaSigner::from_pem(&pem);
        pem.zeroize();
        let signer = signer.map_err(|m| config(format!("{}: {m}", key_file.display())))?;
        let region = cfg.region.clone().or_else(|| prof.get("region").cloned());
        let endpoint = match (&cfg.endpoint, &region) {
            (Some(e), _) => check_endpoint(name, "endpoint", e)?,
            (None, Some(r)) => format!("https://vaults.{r}.oci.oraclecloud.com"),
            (None, None) => {
                return Err(config(format!(
                    "no region: set region in the backend config or in {source}"
                )))
            }
        };
        // Without an explicit secrets_endpoint: the retrieval host beside an overridden
        // management host (`vaults.` -> `secrets.vaults.`, as in every realm), the
        // region's, or the same host (a test server serving both APIs).
        let secrets_endpoint = match (&cfg.secrets_endpoint, &cfg.endpoint, &region) {
            (Some(e), _, _) => check_endpoint(name, "secrets_endpoint", e)?,
            (None, Some(_), _) => match endpoint.strip_prefix("https://vaults.") {
                Some(rest) => format!("https://secrets.vaults.{rest}"),
                None => endpoint.clone(),
            },
            (None, None, Some(r)) => format!("https://secrets.vaults.{r}.oci.oraclecloud.com"),
            (None, None, None) => endpoint.clone(),
        };
        Ok(OciVault {
            name: name.to_string(),
            endpoint,
            secrets_endpoint,
            profile: cfg.profile.clone(),
            key: ApiKey { key_id, signer },
            compartment: cfg.compartment_id,
            vault: cfg.vault_id,
            ids: cfg.secrets,
            limit: cfg.locate_limit,
            settle: Duration::from_millis(cfg.settle_timeout_ms),
            http: Http::with_settings(
                name,
                HttpSettings::from_ms(cfg.timeout_ms, cfg.retries, cfg.max_retry_wait_ms),
            ),
        })
    }

    fn err(&self, kind: ErrorKind, m: impl Into<String>) -> BackendError {
        BackendError::new(&self.name, kind, m)
    }

    /// The signature headers for one attempt of `req`.
    fn sign(&self, req: &Req) -> Result<AuthHeaders, BackendError> {
        sign_request(
            &self.key.key_id,
            &self.key.signer,
            req,
            &crate::civil::Utc::now().http_date(),
        )
        .map_err(|m| self.err(ErrorKind::Config, m))
    }

    fn send(&self, req: &Req, dry_run: bool) -> Result<Reply, BackendError> {
        self.http.send_auth(req, dry_run, &|r| self.sign(r))
    }

    fn fail(&self, reply: &Reply, op: &str, what: &str, content: bool) -> BackendError {
        let body = reply.json();
        let code = body.get("code").and_then(Value::as_str).unwrap_or("");
        let msg = provider_text(
            body.get("message").and_then(Value::as_str).unwrap_or(""),
            &[],
        );
        let req_id = reply
            .header("opc-request-id")
            .map(|r| format!(" (opc-request-id {})", provider_text(r, &[])))
            .unwrap_or_default();
        let p = &self.profile;
        let (kind, m) = match reply.status {
            401 => (
                ErrorKind::Auth,
                format!(
                    "{op} {what}: OCI rejected the request signature (401 {code}): check user, \
                     tenancy, fingerprint and key_file of profile [{p}] (the fingerprint must \
                     be the uploaded public key's) and this machine's clock (5 minutes of skew \
                     fail). A 401 right after rotation is a cached old credential: if you just \
                     rotated the key this profile (or an application) signs with, reload it"
                ),
            ),
            403 if content => (
                ErrorKind::Permission,
                format!(
                    "{op} {what}: OCI refused the secret content (403 {code}): this usually \
                     means the `use keys` policy is missing beside `read secret-family` (the \
                     vault's master encryption key decrypts the content): add `Allow group \
                     <group> to use keys in compartment <compartment>`"
                ),
            ),
            403 => (
                ErrorKind::Permission,
                format!(
                    "{op} {what}: not authorized (403 {code}): updating needs `manage \
                     secret-family` and `use keys` in the secret's compartment"
                ),
            ),
            404 => (
                ErrorKind::NotFound,
                format!(
                    "{op} {what}: not found (404 {code}): usually a wrong OCID or compartment \
                     (check the region too); OCI also answers 404 when no policy grants \
                     `read secret-family` there"
                ),
            ),
            409 => (
                ErrorKind::Conflict,
                format!(
                    "{op} {what}: conflict (409 {code}: {msg}): the secret is being updated or \
                     is pending deletion, or the version name is taken; re-run later"
                ),
            ),
            412 => (
                ErrorKind::Conflict,
                format!("{op} {what}: the secret changed since it was read (412 {code}); re-run"),
            ),
            429 => (
                ErrorKind::Throttled,
                format!(
                    "{op} {what}: OCI throttled the requests (429 {code}) after the configured \
                     retries: retry later"
                ),
            ),
            s @ 500..=599 => (
                ErrorKind::Unavailable,
                format!("{op} {what}: OCI Vault is unavailable (HTTP {s} {code}): retry later"),
            ),
            s => (
                status_kind(s),
                format!("{op} {what}: HTTP {s} {code}: {msg}"),
            ),
        };
        self.err(kind, format!("{m}{req_id}"))
    }

    fn target_id<'a>(&self, target: &'a Location) -> Result<&'a str, BackendError> {
        if target.key.is_some() {
            return Err(self.err(
                ErrorKind::Config,
                format!("{target}: an OCI secret holds one value; drop the #key part"),
            ));
        }
        let id = target.path.as_str();
        if !id.starts_with("ocid1.vaultsecret.") || !id.bytes().all(ocid_char) {
            return Err(self.err(
                ErrorKind::Config,
                format!("{target}: expected a secret OCID (ocid1.vaultsecret.oc1....)"),
            ));
        }
        Ok(id)
    }

    /// Reads the CURRENT bundle: (version number, decoded content).
    fn current(&self, id: &str) -> Result<(u64, Vec<u8>), BackendError> {
        let url = format!(
            "{}/20190301/secretbundles/{}?stage=CURRENT",
            self.secrets_endpoint,
            encode_component(id)
        );
        let reply = self.send(&Req::get(url), false)?;
        if !reply.ok() {
            return Err(self.fail(&reply, "read", id, true));
        }
        let mut v = reply.json();
        let version = v.get("versionNumber").and_then(Value::as_u64).unwrap_or(0);
        let ct = v
            .pointer("/secretBundleContent/contentType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let content = match ct {
            "BASE64" => v
                .pointer("/secretBundleContent/content")
                .and_then(Value::as_str)
                .and_then(b64_decode),
            _ => None,
        };
        wipe_json(&mut v);
        let content = content.ok_or_else(|| {
            self.err(
                ErrorKind::Protocol,
                format!("read {id}: the bundle has no BASE64 content"),
            )
        })?;
        Ok((version, content))
    }

    /// The secret's metadata and etag.
    fn secret(&self, id: &str) -> Result<(Value, Option<String>), BackendError> {
        let url = format!(
            "{}/20180608/secrets/{}",
            self.endpoint,
            encode_component(id)
        );
        let reply = self.send(&Req::get(url), false)?;
        if !reply.ok() {
            return Err(self.fail(&reply, "get", id, false));
        }
        Ok((reply.json(), reply.header("etag").map(str::to_string)))
    }

    /// Follows `opc-next-page` over `url` (a JSON-array listing).
    fn list(&self, url: &str, what: &str) -> Result<Vec<Value>, BackendError> {
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let u = match &page {
                Some(p) => format!("{url}&page={}", encode_component(p)),
                None => url.to_string(),
            };
            let reply = self.send(&Req::get(u), false)?;
            if !reply.ok() {
                return Err(self.fail(&reply, "list", what, false));
            }
            if let Value::Array(items) = reply.json() {
                out.extend(items);
            }
            page = reply
                .header("opc-next-page")
                .filter(|p| !p.is_empty())
                .map(str::to_string);
            // Reading one past the limit lets `ids` tell "exactly the limit" from "more".
            if page.is_none() || out.len() > self.limit {
                return Ok(out);
            }
        }
    }

    fn ids(&self) -> Result<Vec<String>, BackendError> {
        if !self.ids.is_empty() {
            return Ok(self.ids.clone());
        }
        let Some(c) = &self.compartment else {
            return Err(self.err(
                ErrorKind::Config,
                "locate needs compartment_id (or a list of secret OCIDs in `secrets`)",
            ));
        };
        let mut url = format!(
            "{}/20180608/secrets?compartmentId={}&lifecycleState=ACTIVE&limit=100",
            self.endpoint,
            encode_component(c)
        );
        if let Some(v) = &self.vault {
            url += &format!("&vaultId={}", encode_component(v));
        }
        let items = self.list(&url, c)?;
        check_locate_limit(
            &self.name,
            items.len(),
            self.limit,
            " in the compartment",
            "list the secrets to search in `secrets`, or ",
        )?;
        Ok(items
            .iter()
            .filter_map(|s| s.get("id").and_then(Value::as_str).map(str::to_string))
            .collect())
    }

    /// The version named `name`, if any.
    fn find_version(&self, id: &str, name: &str) -> Result<Option<u64>, BackendError> {
        let url = format!(
            "{}/20180608/secrets/{}/versions?limit=100",
            self.endpoint,
            encode_component(id)
        );
        Ok(self
            .list(&url, id)?
            .iter()
            .find(|v| v.get("name").and_then(Value::as_str) == Some(name))
            .map(|v| v.get("versionNumber").and_then(Value::as_u64).unwrap_or(0)))
    }

    /// Polls the secret until it is ACTIVE again (bounded by `settle_timeout_ms`).
    fn settle(&self, id: &str) -> Result<(), BackendError> {
        let start = std::time::Instant::now();
        let mut wait = Duration::from_millis(250);
        loop {
            let (s, _) = self.secret(id)?;
            match s.get("lifecycleState").and_then(Value::as_str) {
                Some("ACTIVE") | None => return Ok(()),
                Some(state) if start.elapsed() >= self.settle => {
                    return Err(self.err(
                        ErrorKind::Timeout,
                        format!(
                            "{id}: the update was accepted but the secret is still {state} \
                             after {} ms; check it in the console before re-running",
                            self.settle.as_millis()
                        ),
                    ))
                }
                Some(_) => {
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

fn ocid_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
}

/// The version name that marks a rotation with `key` (unique within a secret).
pub fn version_name(key: &str) -> String {
    let clean: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(60)
        .collect();
    format!("lsw-{clean}")
}

/// Builds the OCI signature headers of `req` at `date` (an IMF-fixdate).
///
/// GET/DELETE/HEAD sign `date (request-target) host`; requests with a body also sign
/// `content-length content-type x-content-sha256` (the documented minimum sets).
pub(crate) fn sign_request(
    key_id: &str,
    signer: &RsaSigner,
    req: &Req,
    date: &str,
) -> Result<AuthHeaders, String> {
    let (host, target) = split_url(&req.url).ok_or("the URL has no host")?;
    let mut headers: Vec<(String, String)> = vec![
        ("date".into(), date.to_string()),
        (
            "(request-target)".into(),
            format!("{} {target}", req.method.to_ascii_lowercase()),
        ),
        ("host".into(), host.to_string()),
    ];
    let with_body = matches!(req.method, "PUT" | "POST" | "PATCH");
    if with_body {
        let body = req.body.as_deref().unwrap_or_default();
        let ct = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map_or("application/json", |(_, v)| v.as_str());
        headers.push(("content-length".into(), body.len().to_string()));
        headers.push(("content-type".into(), ct.to_string()));
        headers.push(("x-content-sha256".into(), b64(&Sha256::digest(body))));
    }
    let signing_string = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n");
    let names = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let sig = signer.sign(signing_string.as_bytes())?;
    let auth = format!(
        "Signature version=\"1\",keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"{names}\",signature=\"{}\"",
        b64(&sig)
    );
    let mut out: AuthHeaders = headers
        .into_iter()
        .filter(|(k, _)| k != "(request-target)" && k != "content-type")
        .collect();
    out.push(("authorization".into(), auth));
    Ok(out)
}

/// `(host[:port], path?query)` of an http(s) URL.
fn split_url(url: &str) -> Option<(&str, &str)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    match rest.find('/') {
        Some(i) => Some((rest.get(..i)?, rest.get(i..)?)),
        None => Some((rest, "/")),
    }
}

impl Backend for OciVault {
    fn name(&self) -> &str {
        &self.name
    }

    fn locate(&self, leaked: &Secret) -> Result<Vec<Location>, BackendError> {
        let scrub = |e| scrub_err(e, &[leaked.expose()]);
        let ids = self.ids().map_err(scrub)?;
        locate_each(&self.name, leaked, ids, str::to_string, |id| {
            let (_, mut content) = self.current(id)?;
            let hit = constant_time_eq(&content, leaked.expose());
            content.zeroize();
            Ok(hit)
        })
    }

    fn rotate(
        &self,
        target: &Location,
        new_value: &Secret,
        idempotency_key: &str,
        dry_run: bool,
    ) -> Result<RotateOutcome, BackendError> {
        let id = self.target_id(target)?;
        let scrub = |e| scrub_err(e, &[new_value.expose()]);
        let (meta, etag) = self.secret(id).map_err(scrub)?;
        let previous = meta
            .get("currentVersionNumber")
            .and_then(Value::as_u64)
            .map(|n| n.to_string());
        let vname = version_name(idempotency_key);
        if let Some(n) = self.find_version(id, &vname).map_err(scrub)? {
            return Ok(RotateOutcome {
                status: RotateStatus::AlreadyApplied,
                new_version: Some(n.to_string()),
                previous_version: None,
            });
        }
        match meta.get("lifecycleState").and_then(Value::as_str) {
            Some("ACTIVE") | None => {}
            Some(state) => {
                return Err(self.err(
                    ErrorKind::Conflict,
                    format!("{id}: the secret is {state}, not ACTIVE: re-run once it is ACTIVE"),
                ))
            }
        }
        if dry_run {
            return Ok(RotateOutcome {
                status: RotateStatus::WouldRotate,
                new_version: None,
                previous_version: previous,
            });
        }
        let mut body = json!({"secretContent": {
            "contentType": "BASE64",
            "content": b64(new_value.expose()),
            "name": vname,
            "stage": "CURRENT",
        }});
        let mut req = Req::json(
            "PUT",
            format!(
                "{}/20180608/secrets/{}",
                self.endpoint,
                encode_component(id)
            ),
            &body,
        );
        wipe_json(&mut body);
        if let Some(e) = etag {
            req.headers.push(("if-match".into(), e));
        }
        let reply = self.send(&req, false).map_err(scrub)?;
        if !reply.ok() {
            return Err(scrub(self.fail(&reply, "update", id, false)));
        }
        let new_version = reply
            .json()
            .get("currentVersionNumber")
            .and_then(Value::as_u64)
            .map(|n| n.to_string());
        self.settle(id).map_err(scrub)?;
        Ok(RotateOutcome {
            status: RotateStatus::Rotated,
            new_version,
            previous_version: previous,
        })
    }

    fn verify(&self, target: &Location, leaked: &Secret) -> Result<bool, BackendError> {
        let id = self.target_id(target)?;
        let (_, mut content) = self
            .current(id)
            .map_err(|e| scrub_err(e, &[leaked.expose()]))?;
        let same = constant_time_eq(&content, leaked.expose());
        content.zeroize();
        Ok(!same)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_inherit_default() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        std::fs::write(
            &p,
            "[DEFAULT]\nregion=us-ashburn-1\nuser=u1\n\n[ops]\nuser = u2\n# comment\n",
        )
        .unwrap();
        let ops = read_profile(&p, "ops").unwrap();
        assert_eq!(ops["user"], "u2");
        assert_eq!(ops["region"], "us-ashburn-1");
        let e = read_profile(&p, "nope").unwrap_err();
        assert!(e.contains("no profile [nope]") && e.contains("ops"), "{e}");
    }

    #[test]
    fn version_names_are_clean() {
        assert_eq!(version_name("lsw1-ab/cd ef"), "lsw-lsw1-abcdef");
    }
}
