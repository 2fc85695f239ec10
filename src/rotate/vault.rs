//! HashiCorp Vault / OpenBao backend: KV version 2 secrets and token revocation.
//!
//! - **locate** lists the configured KV v2 mounts (`LIST /v1/{mount}/metadata/...`),
//!   reads each secret's current version and compares every string field with the leaked
//!   value in memory, in constant time.
//! - **rotate** reads the current version `N` and writes a new version with
//!   `options.cas = N` (check-and-set), keeping every other field of the secret; version
//!   `N` stays readable for rollback. A check-and-set failure re-reads the secret: if it
//!   already holds our new value the attempt had landed (`already_applied`), otherwise
//!   someone else wrote in between (`conflict`). Nothing is ever deleted.
//! - **revoke** looks a leaked token up (`auth/token/lookup`) to get its accessor, then
//!   revokes it by accessor (`auth/token/revoke-accessor`); an unknown token is already
//!   revoked or expired.
//!
//! Request and response bodies hold secret values: they are parsed here and wiped, never
//! logged. Errors say which capability on which path was missing.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use zeroize::Zeroize;

use super::config::{
    check_locate_limit, default_locate_limit, default_timeout_ms, read_credential, BackendDef,
    CredentialHint,
};
use super::{
    constant_time_eq, Backend, BackendError, ErrorKind, Location, RotateOutcome, RotateStatus,
};
use crate::net::http::{encode_path, status_kind, Http, Request};
use crate::scrub::wipe_json;
use crate::secret::Secret;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    address: String,
    #[serde(default)]
    token_env: Option<String>,
    #[serde(default)]
    token_file: Option<PathBuf>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default = "default_mounts")]
    mounts: Vec<String>,
    #[serde(default)]
    locate_prefixes: Vec<String>,
    #[serde(default = "default_locate_limit")]
    locate_limit: usize,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
}

fn default_mounts() -> Vec<String> {
    vec!["secret".into()]
}

/// A Vault or OpenBao server.
pub struct Vault {
    name: String,
    address: String,
    token: Secret,
    token_source: String,
    namespace: Option<String>,
    mounts: Vec<String>,
    prefixes: Vec<String>,
    limit: usize,
    http: Http,
}

/// What a read of a KV v2 secret returns: its current version and fields.
struct Kv {
    version: u64,
    data: Map<String, Value>,
}

impl Drop for Kv {
    fn drop(&mut self) {
        for v in self.data.values_mut() {
            wipe_json(v);
        }
    }
}

impl Vault {
    /// Builds the backend from its config (`kind = "vault"` or `"openbao"`).
    pub fn from_def(def: &BackendDef) -> Result<Vault, BackendError> {
        let s: Settings = def.settings()?;
        let (env, file) = match (&s.token_env, &s.token_file) {
            (None, None) => (Some("VAULT_TOKEN".to_string()), None),
            (e, f) => (e.clone(), f.as_ref().map(|p| def.resolve(p))),
        };
        let token = read_credential(
            &def.name,
            "token",
            env.as_deref(),
            file.as_deref(),
            CredentialHint::Keys,
        )?;
        let token_source = match (&env, &file) {
            (Some(v), _) => format!("${v}"),
            (None, Some(f)) => f.display().to_string(),
            (None, None) => "the token".into(),
        };
        if !(s.address.starts_with("http://") || s.address.starts_with("https://")) {
            return Err(BackendError::new(
                &def.name,
                ErrorKind::Config,
                format!(
                    "address {:?} must start with https:// (or http:// for a local dev server)",
                    s.address
                ),
            ));
        }
        let prefixes = if s.locate_prefixes.is_empty() {
            vec![String::new()]
        } else {
            s.locate_prefixes
                .iter()
                .map(|p| {
                    let p = p.trim_matches('/');
                    if p.is_empty() {
                        String::new()
                    } else {
                        format!("{p}/")
                    }
                })
                .collect()
        };
        Ok(Vault {
            name: def.name.clone(),
            address: s.address.trim_end_matches('/').to_string(),
            token,
            token_source,
            namespace: s.namespace,
            mounts: s
                .mounts
                .iter()
                .map(|m| m.trim_matches('/').to_string())
                .collect(),
            prefixes,
            limit: s.locate_limit,
            http: Http::new(&def.name, Duration::from_millis(s.timeout_ms)),
        })
    }

    fn err(&self, kind: ErrorKind, msg: impl Into<String>) -> BackendError {
        BackendError::new(&self.name, kind, msg)
    }

    /// Sends one API call. `need` names the capability and path, for error messages.
    fn call(
        &self,
        method: &str,
        api_path: &str,
        body: Option<&Value>,
        write: bool,
        dry_run: bool,
        need: &str,
    ) -> Result<(u16, Value), BackendError> {
        let url = format!("{}/v1/{api_path}", self.address);
        let mut bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        let token = String::from_utf8_lossy(self.token.expose()).into_owned();
        let mut headers = vec![("X-Vault-Token", token)];
        if let Some(ns) = &self.namespace {
            headers.push(("X-Vault-Namespace", ns.clone()));
        }
        if bytes.is_some() {
            headers.push(("Content-Type", "application/json".into()));
        }
        let result = self.http.send(&Request {
            method,
            url: &url,
            headers,
            body: bytes.as_deref(),
            write,
            dry_run,
        });
        if let Some(b) = bytes.as_mut() {
            b.zeroize();
        }
        let reply = result?;
        let mut value: Value = if reply.body.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&reply.body).map_err(|_| {
                self.err(
                    ErrorKind::Protocol,
                    format!(
                        "{method} /v1/{api_path}: HTTP {} with a body that is not JSON: is \
                         `address` a Vault/OpenBao server?",
                        reply.status
                    ),
                )
            })?
        };
        if (200..300).contains(&reply.status) {
            return Ok((reply.status, value));
        }
        let errors: Vec<String> = value
            .get("errors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                    .collect()
            })
            .unwrap_or_default();
        wipe_json(&mut value);
        Err(self.classify(reply.status, &errors.join("; "), method, api_path, need))
    }

    fn classify(
        &self,
        status: u16,
        server: &str,
        method: &str,
        api_path: &str,
        need: &str,
    ) -> BackendError {
        let what = format!("{method} /v1/{api_path}");
        let said = if server.is_empty() {
            String::new()
        } else {
            format!(" (server: {server})")
        };
        match status {
            401 => self.err(
                ErrorKind::Auth,
                format!(
                    "{what}: HTTP 401{said}: the token in {} is missing, expired or wrong \
                     (renew it or log in again)",
                    self.token_source
                ),
            ),
            403 => {
                // Vault and OpenBao answer 403 both to an unknown token and to a policy that
                // denies; a policy denial comes wrapped ("1 error occurred: ..."), and our own
                // token's lookup-self tells the rest apart.
                let policy_denial = server.contains("error occurred");
                if server.contains("bad token")
                    || server.contains("invalid token")
                    || (!policy_denial && !self.token_is_valid())
                {
                    self.err(
                        ErrorKind::Auth,
                        format!(
                            "{what}: HTTP 403{said}: the token in {} is expired, revoked or \
                             wrong (renew it or log in again)",
                            self.token_source
                        ),
                    )
                } else {
                    self.err(
                        ErrorKind::Permission,
                        format!(
                            "{what}: HTTP 403{said}: the token's policy lacks {need} (add the \
                             capability to the policy of the token in {})",
                            self.token_source
                        ),
                    )
                }
            }
            404 => self.err(
                ErrorKind::NotFound,
                format!(
                    "{what}: HTTP 404{said}: no such secret, or wrong path or mount (is the \
                     mount a KV version 2 engine? configured mounts: {})",
                    self.mounts.join(", ")
                ),
            ),
            400 if server.contains("check-and-set") => self.err(
                ErrorKind::Conflict,
                format!("{what}: check-and-set failed: the secret changed while rotating"),
            ),
            _ => {
                let kind = status_kind(status);
                let hint = match kind {
                    ErrorKind::Throttled => " (rate limited: will back off)",
                    ErrorKind::Unavailable => " (server error or sealed/standby node)",
                    _ => "",
                };
                self.err(kind, format!("{what}: HTTP {status}{said}{hint}"))
            }
        }
    }

    /// Whether our own token still authenticates (used to tell a wrong token from a
    /// policy denial). A token without the `lookup-self` capability still authenticates:
    /// its 403 is a wrapped policy denial.
    fn token_is_valid(&self) -> bool {
        let url = format!("{}/v1/auth/token/lookup-self", self.address);
        let token = String::from_utf8_lossy(self.token.expose()).into_owned();
        let req = Request {
            method: "GET",
            url: &url,
            headers: vec![("X-Vault-Token", token)],
            body: None,
            write: false,
            dry_run: false,
        };
        match self.http.send(&req) {
            Ok(r) => r.status == 200 || (r.status == 403 && r.body.contains("error occurred")),
            // Cannot tell: do not claim the token is wrong.
            Err(_) => true,
        }
    }

    /// Splits `secret/app/db` into the mount and the path inside it, preferring the
    /// longest configured mount.
    fn split<'a>(&self, path: &'a str) -> Result<(&'a str, &'a str), BackendError> {
        let path = path.trim_matches('/');
        let mut best: Option<usize> = None;
        for m in &self.mounts {
            if path.len() > m.len() + 1
                && path.starts_with(m.as_str())
                && path.as_bytes().get(m.len()) == Some(&b'/')
                && best.is_none_or_len_lt(m.len())
            {
                best = Some(m.len());
            }
        }
        let cut = match best {
            Some(n) => n,
            None => path.find('/').ok_or_else(|| {
                self.err(
                    ErrorKind::Config,
                    format!("target {path:?} must be MOUNT/PATH (for example secret/app/db)"),
                )
            })?,
        };
        Ok((&path[..cut], &path[cut + 1..]))
    }

    fn read(&self, mount: &str, rel: &str) -> Result<Kv, BackendError> {
        let api = format!("{}/data/{}", encode_path(mount), encode_path(rel));
        let need = format!("`read` on {mount}/data/{rel}");
        let (_, mut v) = self.call("GET", &api, None, false, false, &need)?;
        let version = v
            .pointer("/data/metadata/version")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let Some(Value::Object(data)) = v.pointer_mut("/data/data").map(Value::take) else {
            wipe_json(&mut v);
            return Err(self.err(
                ErrorKind::NotFound,
                format!(
                    "{mount}/{rel}: the current version is deleted or destroyed (undelete it, \
                     or rotate another target)"
                ),
            ));
        };
        wipe_json(&mut v);
        Ok(Kv { version, data })
    }

    fn field<'a>(&self, kv: &'a Kv, target: &Location) -> Result<(String, &'a str), BackendError> {
        let name = match &target.key {
            Some(k) => k.clone(),
            None => {
                let strings: Vec<&String> = kv
                    .data
                    .iter()
                    .filter(|(_, v)| v.is_string())
                    .map(|(k, _)| k)
                    .collect();
                match strings.as_slice() {
                    [only] => (*only).clone(),
                    _ => {
                        let names: Vec<&str> = kv.data.keys().map(String::as_str).collect();
                        return Err(self.err(
                            ErrorKind::Config,
                            format!(
                                "{target}: the secret has fields [{}]: name one in the target \
                                 ({}#FIELD)",
                                names.join(", "),
                                target.path
                            ),
                        ));
                    }
                }
            }
        };
        match kv.data.get(&name) {
            Some(Value::String(s)) => Ok((name, s.as_str())),
            Some(_) => Err(self.err(
                ErrorKind::Config,
                format!("{target}: field {name:?} is not a string"),
            )),
            None => Err(self.err(
                ErrorKind::NotFound,
                format!("{target}: the secret has no field {name:?} (check the target's #FIELD)"),
            )),
        }
    }

    fn list(&self, mount: &str, folder: &str) -> Result<Vec<String>, BackendError> {
        let api = format!(
            "{}/metadata/{}?list=true",
            encode_path(mount),
            encode_path(folder)
        );
        let need = format!("`list` on {mount}/metadata/{folder}");
        match self.call("GET", &api, None, false, false, &need) {
            Ok((_, v)) => Ok(v
                .pointer("/data/keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// `Option<usize>` helper: no best yet, or a shorter one.
trait BestLen {
    fn is_none_or_len_lt(&self, n: usize) -> bool;
}

impl BestLen for Option<usize> {
    fn is_none_or_len_lt(&self, n: usize) -> bool {
        self.map_or(true, |b| b < n)
    }
}

impl Backend for Vault {
    fn name(&self) -> &str {
        &self.name
    }

    fn locate(&self, leaked: &Secret) -> Result<Vec<Location>, BackendError> {
        let mut found = Vec::new();
        let mut read = 0usize;
        for mount in &self.mounts {
            for prefix in &self.prefixes {
                let mut stack = vec![prefix.clone()];
                while let Some(folder) = stack.pop() {
                    for key in self.list(mount, &folder)? {
                        let full = format!("{folder}{key}");
                        if key.ends_with('/') {
                            stack.push(full);
                            continue;
                        }
                        read += 1;
                        check_locate_limit(
                            &self.name,
                            read,
                            self.limit,
                            &format!(" under {}", self.mounts.join(", ")),
                            "narrow locate_prefixes or ",
                        )?;
                        let kv = match self.read(mount, &full) {
                            Ok(kv) => kv,
                            // Deleted between list and read, or a deleted current version.
                            Err(e) if e.kind == ErrorKind::NotFound => continue,
                            Err(e) => return Err(e),
                        };
                        for (k, v) in &kv.data {
                            if let Value::String(s) = v {
                                if constant_time_eq(s.as_bytes(), leaked.expose()) {
                                    found.push(Location {
                                        backend: self.name.clone(),
                                        path: format!("{mount}/{full}"),
                                        key: Some(k.clone()),
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        found.sort();
        found.dedup();
        Ok(found)
    }

    fn rotate(
        &self,
        target: &Location,
        new_value: &Secret,
        _idempotency_key: &str,
        dry_run: bool,
    ) -> Result<RotateOutcome, BackendError> {
        let (mount, rel) = self.split(&target.path)?;
        let kv = self.read(mount, rel)?;
        let (field, current) = self.field(&kv, target)?;
        let prev = kv.version.checked_sub(1).filter(|v| *v > 0);
        if constant_time_eq(current.as_bytes(), new_value.expose()) {
            return Ok(RotateOutcome {
                status: RotateStatus::AlreadyApplied,
                new_version: Some(kv.version.to_string()),
                previous_version: prev.map(|v| v.to_string()),
            });
        }
        if dry_run {
            return Ok(RotateOutcome {
                status: RotateStatus::WouldRotate,
                new_version: None,
                previous_version: Some(kv.version.to_string()),
            });
        }
        let new_text = std::str::from_utf8(new_value.expose()).map_err(|_| {
            self.err(
                ErrorKind::Config,
                "Vault KV stores text: the new value must be UTF-8",
            )
        })?;
        let mut data = kv.data.clone();
        data.insert(field, Value::String(new_text.to_string()));
        let mut body = json!({"data": data, "options": {"cas": kv.version}});
        let api = format!("{}/data/{}", encode_path(mount), encode_path(rel));
        let need = format!("`update` on {mount}/data/{rel}");
        let result = self.call("POST", &api, Some(&body), true, false, &need);
        wipe_json(&mut body);
        match result {
            Ok((_, v)) => {
                let version = v.pointer("/data/version").and_then(Value::as_u64);
                Ok(RotateOutcome {
                    status: RotateStatus::Rotated,
                    new_version: version.map(|v| v.to_string()),
                    previous_version: Some(kv.version.to_string()),
                })
            }
            Err(e) if e.kind == ErrorKind::Conflict => {
                // Did our own earlier attempt land? Compare the current value in memory.
                let now = self.read(mount, rel)?;
                let (_, cur) = self.field(&now, target)?;
                if constant_time_eq(cur.as_bytes(), new_value.expose()) {
                    Ok(RotateOutcome {
                        status: RotateStatus::AlreadyApplied,
                        new_version: Some(now.version.to_string()),
                        previous_version: Some(kv.version.to_string()),
                    })
                } else {
                    Err(self.err(
                        ErrorKind::Conflict,
                        format!(
                            "{target}: version {} was written by someone else while rotating \
                             (expected {}); re-run to rotate the new current version",
                            now.version, kv.version
                        ),
                    ))
                }
            }
            Err(e) => Err(e),
        }
    }

    fn verify(&self, target: &Location, leaked: &Secret) -> Result<bool, BackendError> {
        let (mount, rel) = self.split(&target.path)?;
        let kv = self.read(mount, rel)?;
        let (_, current) = self.field(&kv, target)?;
        Ok(!constant_time_eq(current.as_bytes(), leaked.expose()))
    }

    fn revoke(&self, leaked: &Secret, dry_run: bool) -> Result<RotateOutcome, BackendError> {
        let token = std::str::from_utf8(leaked.expose())
            .map_err(|_| self.err(ErrorKind::Config, "the leaked value is not a Vault token"))?;
        let mut body = json!({ "token": token });
        // lookup is a POST so that the token travels in the body, but it changes nothing.
        let looked = self.call(
            "POST",
            "auth/token/lookup",
            Some(&body),
            false,
            dry_run,
            "`update` on auth/token/lookup",
        );
        wipe_json(&mut body);
        let accessor = match looked {
            Ok((_, v)) => v
                .pointer("/data/accessor")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    self.err(
                        ErrorKind::Protocol,
                        "auth/token/lookup answered without an accessor",
                    )
                })?,
            Err(e)
                if (e.kind == ErrorKind::Auth || e.kind == ErrorKind::Permission)
                    && (e.message.contains("bad token") || e.message.contains("invalid token")) =>
            {
                // The server does not know the token: revoked or expired already.
                return Ok(RotateOutcome {
                    status: RotateStatus::AlreadyApplied,
                    new_version: None,
                    previous_version: None,
                });
            }
            Err(e) => return Err(e),
        };
        if dry_run {
            return Ok(RotateOutcome {
                status: RotateStatus::WouldRotate,
                new_version: None,
                previous_version: None,
            });
        }
        let mut body = json!({ "accessor": accessor });
        let result = self.call(
            "POST",
            "auth/token/revoke-accessor",
            Some(&body),
            true,
            false,
            "`update` on auth/token/revoke-accessor",
        );
        wipe_json(&mut body);
        result?;
        Ok(RotateOutcome {
            status: RotateStatus::Revoked,
            new_version: None,
            previous_version: None,
        })
    }
}
