//! Kubernetes Secrets backend (core/v1 REST API).
//!
//! - **locate** lists Secrets cluster-wide when RBAC allows (`GET /api/v1/secrets`),
//!   otherwise in each namespace the caller may list (namespaces it may not read are
//!   skipped), or in the configured `namespaces`. Every `data` value is base64-decoded in
//!   memory and compared with the leaked value in constant time; `stringData` values are
//!   compared too, for servers that keep that write-only field.
//! - **rotate** sends one JSON merge patch (`application/merge-patch+json`) that sets the
//!   one key in `data`, the annotations `leaksweep.io/rotation-op` (the idempotency key)
//!   and `leaksweep.io/rotated-at`, and `metadata.resourceVersion` as read, so a
//!   concurrent change answers 409 instead of being overwritten. Other keys are untouched.
//!   `stringData` is honoured: a server-kept `stringData` entry for the key is removed
//!   (it would win over `data` on the next write), and the key's copy in kubectl's
//!   `last-applied-configuration` annotation (`data` or `stringData`) is replaced too, so
//!   the leaked value does not stay in the object and `kubectl apply` diffs stay coherent.
//!   Immutable Secrets are refused: they can only be deleted and re-created, which
//!   rotation never does.
//! - **idempotency**: the rotation annotation holds the idempotency key; a re-run that
//!   finds it, or finds the key already holding the intended new value, answers
//!   `already_applied`.
//!
//! Auth: the kubeconfig's current context (or `context`), with a bearer token (`token`,
//! `tokenFile`), a client certificate, or an exec credential plugin; or the in-cluster
//! service-account token. TLS trusts the cluster's `certificate-authority(-data)`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{json, Map, Value};
use zeroize::Zeroize;

use super::cloud::{bearer_header, default_max_wait, default_retries, expand_home, scrub_err};
use super::config::{
    check_locate_limit, default_locate_limit, default_timeout_ms, read_credential, CredentialHint,
};
use super::kubeconfig::{in_cluster, read_kubeconfig, tls_config, yaml_str, Cred};
use super::{
    constant_time_eq, Backend, BackendError, ErrorKind, Location, RotateOutcome, RotateStatus,
};
use crate::net::http::{
    check_endpoint, encode_component, status_kind, AuthHeaders, Http, HttpSettings, Reply, Req,
    ENDPOINT_HINTS,
};
use crate::net::{b64, b64_decode};
use crate::scrub::{provider_text, wipe_json};
use crate::secret::Secret;

/// The annotation that records the idempotency key of the last rotation.
pub const OP_ANNOTATION: &str = "leaksweep.io/rotation-op";
/// The annotation that records when it happened (RFC 3339, UTC).
pub const AT_ANNOTATION: &str = "leaksweep.io/rotated-at";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `[rotation.backend]` settings for `kind = "kubernetes"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesConfig {
    /// The kubeconfig file (default: the first file of `$KUBECONFIG`, else `~/.kube/config`).
    #[serde(default)]
    pub kubeconfig: Option<PathBuf>,
    /// The context (default: the kubeconfig's `current-context`).
    #[serde(default)]
    pub context: Option<String>,
    /// Use the pod's service-account token and CA instead of a kubeconfig.
    #[serde(default)]
    pub in_cluster: bool,
    /// Overrides the API server URL.
    #[serde(default)]
    pub server: Option<String>,
    /// Restricts `locate` to these namespaces (default: every namespace the caller may read).
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// The most Secrets `locate` reads.
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

/// A Kubernetes cluster.
pub struct Kubernetes {
    name: String,
    server: String,
    context: String,
    default_ns: String,
    cred: Cred,
    namespaces: Vec<String>,
    limit: usize,
    http: Http,
}

impl Kubernetes {
    /// Builds the backend from its `[[rotation.backend]]` entry (`kind = "kubernetes"`).
    pub fn from_def(def: &super::config::BackendDef) -> Result<Kubernetes, BackendError> {
        let mut cfg: KubernetesConfig = def.settings()?;
        cfg.kubeconfig = cfg.kubeconfig.map(|p| super::cloud::def_path(def, &p));
        Kubernetes::new(&def.name, cfg)
    }

    /// Builds the backend called `name` from its settings.
    pub fn new(name: &str, cfg: KubernetesConfig) -> Result<Kubernetes, BackendError> {
        let resolved = if cfg.in_cluster {
            in_cluster(name)?
        } else {
            let path = match &cfg.kubeconfig {
                Some(p) => expand_home(p),
                None => std::env::var_os("KUBECONFIG")
                    .and_then(|v| std::env::split_paths(&v).next())
                    .unwrap_or_else(|| expand_home(Path::new("~/.kube/config"))),
            };
            read_kubeconfig(name, &path, cfg.context.as_deref())?
        };
        let server = match &cfg.server {
            Some(s) => s.clone(),
            None => resolved.server.clone(),
        };
        let server = check_endpoint(name, "server", &server)?;
        let settings = HttpSettings::from_ms(cfg.timeout_ms, cfg.retries, cfg.max_retry_wait_ms);
        let mut builder = ureq::AgentBuilder::new();
        if server.starts_with("https://") {
            builder = builder.tls_config(tls_config(
                name,
                resolved.ca_pem.as_deref(),
                resolved.client_cert.as_ref(),
            )?);
        }
        let mut resolved = resolved;
        if let Some((_, key)) = &mut resolved.client_cert {
            key.zeroize();
        }
        Ok(Kubernetes {
            name: name.to_string(),
            server,
            context: resolved.context,
            default_ns: resolved.namespace,
            cred: resolved.cred,
            namespaces: cfg.namespaces,
            limit: cfg.locate_limit,
            http: Http::with_agent(name, settings, &ENDPOINT_HINTS, builder),
        })
    }

    fn err(&self, kind: ErrorKind, m: impl Into<String>) -> BackendError {
        BackendError::new(&self.name, kind, m)
    }

    fn auth(&self) -> Result<AuthHeaders, BackendError> {
        let token = match &self.cred {
            Cred::None => return Ok(Vec::new()),
            Cred::Token(t) => t.clone(),
            Cred::TokenFile(f) => {
                read_credential(&self.name, "token", None, Some(f), CredentialHint::General)?
            }
            Cred::Exec { command, args, env } => self.exec_token(command, args, env)?,
        };
        Ok(bearer_header(&token))
    }

    /// Runs a client-go exec credential plugin and reads `status.token`.
    fn exec_token(
        &self,
        command: &str,
        args: &[String],
        env: &[(String, String)],
    ) -> Result<Secret, BackendError> {
        let mut cmd = std::process::Command::new(command);
        cmd.args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(
                "KUBERNETES_EXEC_INFO",
                json!({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                       "spec": {"interactive": false}})
                .to_string(),
            )
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let out = cmd.output().map_err(|e| {
            self.err(
                ErrorKind::Config,
                format!("running the kubeconfig exec plugin {command:?}: {e} (is it on PATH?)"),
            )
        })?;
        let mut stdout = out.stdout;
        let parsed: Result<Value, _> = serde_json::from_slice(&stdout);
        stdout.zeroize();
        if !out.status.success() {
            return Err(self.err(
                ErrorKind::Auth,
                format!(
                    "the kubeconfig exec plugin {command:?} failed ({}): run it by hand to log in",
                    out.status
                ),
            ));
        }
        let mut v = parsed.map_err(|_| {
            self.err(
                ErrorKind::Auth,
                format!("the exec plugin {command:?} did not print an ExecCredential"),
            )
        })?;
        let token = yaml_str(&v, "/status/token").map(|t| Secret::new(t.as_bytes().to_vec()));
        wipe_json(&mut v);
        token.ok_or_else(|| {
            self.err(
                ErrorKind::Auth,
                format!("the exec plugin {command:?} returned no status.token (client certificates from exec plugins are not supported)"),
            )
        })
    }

    fn send(&self, req: &Req, dry_run: bool) -> Result<Reply, BackendError> {
        self.http.send_auth(req, dry_run, &|_| self.auth())
    }

    fn fail(&self, reply: &Reply, verb: &str, what: &str) -> BackendError {
        let body = reply.json();
        let reason = body.get("reason").and_then(Value::as_str).unwrap_or("");
        let msg = provider_text(
            body.get("message").and_then(Value::as_str).unwrap_or(""),
            &[],
        );
        let ctx = &self.context;
        let (kind, m) = match reply.status {
            401 => (
                ErrorKind::Auth,
                format!(
                    "{verb} {what}: the API server rejected the credentials of context {ctx:?} \
                     (401 {reason}): the token expired (tokens from `kubectl create token` last \
                     one hour by default) or the client certificate is not trusted; refresh the \
                     kubeconfig user"
                ),
            ),
            403 => (
                ErrorKind::Permission,
                format!(
                    "{verb} {what}: RBAC denies it (403: {msg}): grant a Role with get, list and \
                     patch on secrets in that namespace (check with `kubectl auth can-i {verb} \
                     secrets -n NAMESPACE`)"
                ),
            ),
            404 => (
                ErrorKind::NotFound,
                format!("{verb} {what}: not found (404): check the namespace/name and the context {ctx:?}"),
            ),
            409 => (
                ErrorKind::Conflict,
                format!(
                    "{verb} {what}: the Secret changed since it was read (409 {reason}); re-run \
                     to rotate the latest version"
                ),
            ),
            422 => (
                ErrorKind::Protocol,
                format!("{verb} {what}: the API server refused the change (422 {reason}: {msg})"),
            ),
            429 => (
                ErrorKind::Throttled,
                format!(
                    "{verb} {what}: the API server throttled the requests (429, API Priority and \
                     Fairness) after the configured retries: retry later"
                ),
            ),
            s @ 500..=599 => (
                ErrorKind::Unavailable,
                format!("{verb} {what}: the API server is unavailable (HTTP {s} {reason}): retry later"),
            ),
            s => (status_kind(s), format!("{verb} {what}: HTTP {s} {reason}: {msg}")),
        };
        self.err(kind, m)
    }

    /// Lists Secrets at `path` (all pages), calling `f` for each item. `Ok(false)`: 403.
    fn list(
        &self,
        path: &str,
        what: &str,
        f: &mut dyn FnMut(&Value),
    ) -> Result<bool, BackendError> {
        let mut cont: Option<String> = None;
        let mut seen = 0usize;
        loop {
            let mut url = format!("{}{path}?limit=250", self.server);
            if let Some(c) = &cont {
                url += &format!("&continue={}", encode_component(c));
            }
            let reply = self.send(&Req::get(url), false)?;
            if reply.status == 403 {
                return Ok(false);
            }
            if !reply.ok() {
                return Err(self.fail(&reply, "list", what));
            }
            let mut page = reply.json();
            for item in page
                .get("items")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                f(item);
                seen += 1;
            }
            cont = yaml_str(&page, "/metadata/continue")
                .filter(|c| !c.is_empty())
                .map(str::to_string);
            wipe_json(&mut page);
            check_locate_limit(&self.name, seen, self.limit, &format!(" ({what})"), "")?;
            if cont.is_none() {
                return Ok(true);
            }
        }
    }

    fn namespaces_to_search(&self) -> Result<Vec<String>, BackendError> {
        let mut names = Vec::new();
        let url = format!("{}/api/v1/namespaces", self.server);
        let reply = self.send(&Req::get(url), false)?;
        if reply.status == 403 {
            return Ok(vec![self.default_ns.clone()]);
        }
        if !reply.ok() {
            return Err(self.fail(&reply, "list", "namespaces"));
        }
        for item in reply
            .json()
            .get("items")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if let Some(n) = yaml_str(item, "/metadata/name") {
                names.push(n.to_string());
            }
        }
        Ok(names)
    }

    fn get(&self, ns: &str, name: &str) -> Result<Value, BackendError> {
        let url = format!(
            "{}/api/v1/namespaces/{}/secrets/{}",
            self.server,
            encode_component(ns),
            encode_component(name)
        );
        let reply = self.send(&Req::get(url), false)?;
        if !reply.ok() {
            return Err(self.fail(&reply, "get", &format!("secret {ns}/{name}")));
        }
        Ok(reply.json())
    }

    /// `(namespace, name, key)` of a target `ns/name#key`.
    fn parse_target<'a>(
        &self,
        t: &'a Location,
    ) -> Result<(&'a str, &'a str, &'a str), BackendError> {
        let bad = || {
            self.err(
                ErrorKind::Config,
                format!("{t}: expected NAMESPACE/NAME#KEY (the data key to rotate)"),
            )
        };
        let (ns, name) = t.path.split_once('/').ok_or_else(bad)?;
        let key = t.key.as_deref().ok_or_else(bad)?;
        let dns = |s: &str| {
            !s.is_empty()
                && s.len() <= 253
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        };
        let key_ok = !key.is_empty()
            && key.len() <= 253
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if dns(ns) && dns(name) && key_ok {
            Ok((ns, name, key))
        } else {
            Err(bad())
        }
    }
}

/// The effective value of `key` in a Secret object: `stringData` (if the server kept it)
/// wins over `data`, as it does on a write.
fn value_of(obj: &Value, key: &str) -> Option<Vec<u8>> {
    if let Some(s) = obj
        .pointer("/stringData")
        .and_then(|d| d.get(key))
        .and_then(Value::as_str)
    {
        return Some(s.as_bytes().to_vec());
    }
    obj.pointer("/data")
        .and_then(|d| d.get(key))
        .and_then(Value::as_str)
        .and_then(b64_decode)
}

fn keys_of(obj: &Value) -> Vec<String> {
    let mut keys: Vec<String> = ["/data", "/stringData"]
        .iter()
        .filter_map(|p| obj.pointer(p).and_then(Value::as_object))
        .flat_map(|m| m.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The `last-applied-configuration` annotation with `key` replaced by `new`, if it held the key.
fn rewrite_last_applied(obj: &Value, key: &str, new: &[u8]) -> Option<String> {
    let text = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(Value::as_str)?;
    let mut last: Value = serde_json::from_str(text).ok()?;
    let mut changed = false;
    if let Some(d) = last.get_mut("data").and_then(Value::as_object_mut) {
        if d.contains_key(key) {
            d.insert(key.into(), Value::String(b64(new)));
            changed = true;
        }
    }
    if let Some(d) = last.get_mut("stringData").and_then(Value::as_object_mut) {
        if d.contains_key(key) {
            d.insert(
                key.into(),
                Value::String(String::from_utf8_lossy(new).into_owned()),
            );
            changed = true;
        }
    }
    let out = changed.then(|| last.to_string());
    wipe_json(&mut last);
    out
}

impl Backend for Kubernetes {
    fn name(&self) -> &str {
        &self.name
    }

    fn locate(&self, leaked: &Secret) -> Result<Vec<Location>, BackendError> {
        let scrub = |e| scrub_err(e, &[leaked.expose()]);
        let mut found = Vec::new();
        let mut check = |item: &Value| {
            let (Some(ns), Some(name)) = (
                yaml_str(item, "/metadata/namespace"),
                yaml_str(item, "/metadata/name"),
            ) else {
                return;
            };
            for key in keys_of(item) {
                if let Some(mut v) = value_of(item, &key) {
                    if constant_time_eq(&v, leaked.expose()) {
                        found.push(Location {
                            backend: self.name.clone(),
                            path: format!("{ns}/{name}"),
                            key: Some(key.clone()),
                        });
                    }
                    v.zeroize();
                }
            }
        };
        if self.namespaces.is_empty()
            && self
                .list("/api/v1/secrets", "secrets in all namespaces", &mut check)
                .map_err(scrub)?
        {
            found.sort();
            found.dedup();
            return Ok(found);
        }
        let (namespaces, explicit) = if self.namespaces.is_empty() {
            (self.namespaces_to_search().map_err(scrub)?, false)
        } else {
            (self.namespaces.clone(), true)
        };
        let mut readable = 0usize;
        for ns in &namespaces {
            let path = format!("/api/v1/namespaces/{}/secrets", encode_component(ns));
            let what = format!("secrets in namespace {ns}");
            if self.list(&path, &what, &mut check).map_err(scrub)? {
                readable += 1;
            } else if explicit {
                return Err(self.err(
                    ErrorKind::Permission,
                    format!(
                        "list {what}: RBAC denies it (403): grant list on secrets there, or drop \
                         {ns} from `namespaces` (check with `kubectl auth can-i list secrets -n {ns}`)"
                    ),
                ));
            }
        }
        if readable == 0 {
            return Err(self.err(
                ErrorKind::Permission,
                format!(
                    "the credentials of context {:?} may not list secrets in any namespace \
                     (tried {}): grant list on secrets, or name `namespaces` in the config",
                    self.context,
                    namespaces.join(", ")
                ),
            ));
        }
        found.sort();
        found.dedup();
        Ok(found)
    }

    fn rotate(
        &self,
        target: &Location,
        new_value: &Secret,
        idempotency_key: &str,
        dry_run: bool,
    ) -> Result<RotateOutcome, BackendError> {
        let (ns, name, key) = self.parse_target(target)?;
        let scrub = |e| scrub_err(e, &[new_value.expose()]);
        let mut obj = self.get(ns, name).map_err(scrub)?;
        let rv = yaml_str(&obj, "/metadata/resourceVersion").map(str::to_string);
        let marked = obj
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(OP_ANNOTATION))
            .and_then(Value::as_str)
            == Some(idempotency_key);
        let current = value_of(&obj, key);
        let holds_new = current
            .as_deref()
            .is_some_and(|v| constant_time_eq(v, new_value.expose()));
        let result = (|| {
            if marked || holds_new {
                return Ok(RotateOutcome {
                    status: RotateStatus::AlreadyApplied,
                    new_version: rv.clone(),
                    previous_version: None,
                });
            }
            if current.is_none() {
                return Err(self.err(
                    ErrorKind::NotFound,
                    format!(
                        "secret {ns}/{name} has no key {key:?} (keys: {})",
                        keys_of(&obj).join(", ")
                    ),
                ));
            }
            if obj.get("immutable").and_then(Value::as_bool) == Some(true) {
                return Err(self.err(
                    ErrorKind::Conflict,
                    format!(
                        "secret {ns}/{name} is immutable: it can only be deleted and re-created, \
                         which leaksweep never does; create a new Secret and point the workload at it"
                    ),
                ));
            }
            if dry_run {
                return Ok(RotateOutcome {
                    status: RotateStatus::WouldRotate,
                    new_version: None,
                    previous_version: rv.clone(),
                });
            }
            let mut annotations = Map::new();
            annotations.insert(OP_ANNOTATION.into(), Value::String(idempotency_key.into()));
            annotations.insert(
                AT_ANNOTATION.into(),
                Value::String(crate::civil::Utc::now().rfc3339_secs()),
            );
            if let Some(last) = rewrite_last_applied(&obj, key, new_value.expose()) {
                annotations.insert(LAST_APPLIED.into(), Value::String(last));
            }
            let mut metadata = json!({ "annotations": annotations });
            if let Some(rv) = &rv {
                metadata["resourceVersion"] = Value::String(rv.clone());
            }
            let mut data = Map::new();
            data.insert(key.into(), Value::String(b64(new_value.expose())));
            let mut patch = json!({ "metadata": metadata, "data": data });
            if obj
                .pointer("/stringData")
                .and_then(|d| d.get(key))
                .is_some()
            {
                patch["stringData"] = json!({ key: null });
            }
            let mut req = Req::json(
                "PATCH",
                format!(
                    "{}/api/v1/namespaces/{}/secrets/{}",
                    self.server,
                    encode_component(ns),
                    encode_component(name)
                ),
                &patch,
            );
            wipe_json(&mut patch);
            req.headers = vec![("content-type".into(), "application/merge-patch+json".into())];
            let reply = self.send(&req, false)?;
            if !reply.ok() {
                return Err(self.fail(&reply, "patch", &format!("secret {ns}/{name}")));
            }
            let new_rv = yaml_str(&reply.json(), "/metadata/resourceVersion").map(str::to_string);
            Ok(RotateOutcome {
                status: RotateStatus::Rotated,
                new_version: new_rv,
                previous_version: rv.clone(),
            })
        })();
        wipe_json(&mut obj);
        result.map_err(scrub)
    }

    fn verify(&self, target: &Location, leaked: &Secret) -> Result<bool, BackendError> {
        let (ns, name, key) = self.parse_target(target)?;
        let mut obj = self
            .get(ns, name)
            .map_err(|e| scrub_err(e, &[leaked.expose()]))?;
        let same = value_of(&obj, key).is_some_and(|mut v| {
            let eq = constant_time_eq(&v, leaked.expose());
            v.zeroize();
            eq
        });
        wipe_json(&mut obj);
        Ok(!same)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_applied_copies_are_rewritten() {
        let obj = json!({"metadata": {"annotations": {LAST_APPLIED:
            "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"stringData\":{\"pw\":\"old\"},\"data\":{\"other\":\"eA==\"}}"}}});
        let out = rewrite_last_applied(&obj, "pw", b"new-value").unwrap();
        assert!(out.contains("new-value") && !out.contains("old"), "{out}");
        assert!(rewrite_last_applied(&obj, "absent", b"x").is_none());
    }
}
