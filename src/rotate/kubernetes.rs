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
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use zeroize::Zeroize;

use super::cloud::{bearer_header, default_max_wait, default_retries, expand_home, scrub_err};
use super::config::{default_locate_limit, default_timeout_ms, read_credential, CredentialHint};
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
const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

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

enum Cred {
    None,
    Token(Secret),
    TokenFile(PathBuf),
    Exec {
        command: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
    },
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

/// What the kubeconfig (or the pod) says about the cluster.
struct Resolved {
    server: String,
    context: String,
    namespace: String,
    ca_pem: Option<Vec<u8>>,
    client_cert: Option<(Vec<u8>, Vec<u8>)>,
    cred: Cred,
}

fn yaml_str<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    v.pointer(path).and_then(Value::as_str)
}

/// The named entry of a kubeconfig list (`clusters`, `users`, `contexts`).
fn named<'a>(cfg: &'a Value, list: &str, name: &str) -> Option<&'a Value> {
    cfg.get(list)?
        .as_array()?
        .iter()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
}

fn read_kubeconfig(
    backend: &str,
    path: &Path,
    context: Option<&str>,
) -> Result<Resolved, BackendError> {
    let p = path.display();
    let config = |m: String| BackendError::new(backend, ErrorKind::Config, m);
    let mut text = std::fs::read(path).map_err(|e| {
        config(format!(
            "reading kubeconfig {p}: {e} (set kubeconfig or $KUBECONFIG)"
        ))
    })?;
    let parsed: Result<Value, _> = serde_yaml_ng::from_slice(&text);
    text.zeroize();
    let mut cfg = parsed.map_err(|e| {
        config(format!(
            "{p}: not a kubeconfig ({})",
            e.location().map_or_else(
                || "invalid YAML".to_string(),
                |l| format!("line {}", l.line())
            )
        ))
    })?;
    let result = (|| {
        let ctx_name = match context {
            Some(c) => c.to_string(),
            None => yaml_str(&cfg, "/current-context")
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    config(format!(
                        "{p}: no current-context: set context in the backend config"
                    ))
                })?
                .to_string(),
        };
        let ctx = named(&cfg, "contexts", &ctx_name)
            .and_then(|c| c.get("context"))
            .ok_or_else(|| config(format!("{p}: no context named {ctx_name:?}")))?;
        let cluster_name = yaml_str(ctx, "/cluster").unwrap_or("");
        let user_name = yaml_str(ctx, "/user").unwrap_or("");
        let namespace = yaml_str(ctx, "/namespace").unwrap_or("default").to_string();
        let cluster = named(&cfg, "clusters", cluster_name)
            .and_then(|c| c.get("cluster"))
            .ok_or_else(|| config(format!("{p}: context {ctx_name:?} names cluster {cluster_name:?}, which is not defined")))?;
        let server = yaml_str(cluster, "/server")
            .ok_or_else(|| config(format!("{p}: cluster {cluster_name:?} has no server")))?
            .to_string();
        if cluster
            .get("insecure-skip-tls-verify")
            .and_then(Value::as_bool)
            == Some(true)
        {
            return Err(config(format!(
                "{p}: cluster {cluster_name:?} sets insecure-skip-tls-verify: the bearer token and \
                 secret values would go to an unverified server; add its certificate-authority"
            )));
        }
        let ca_pem =
            match (
                yaml_str(cluster, "/certificate-authority-data"),
                yaml_str(cluster, "/certificate-authority"),
            ) {
                (Some(d), _) => Some(b64_decode(d).ok_or_else(|| {
                    config(format!("{p}: certificate-authority-data is not base64"))
                })?),
                (None, Some(f)) => Some(
                    std::fs::read(resolve(path, f))
                        .map_err(|e| config(format!("{p}: certificate-authority {f}: {e}")))?,
                ),
                (None, None) => None,
            };
        let user = named(&cfg, "users", user_name)
            .and_then(|u| u.get("user"))
            .cloned()
            .unwrap_or(Value::Null);
        let file_or_data = |data: &str, file: &str| -> Result<Option<Vec<u8>>, BackendError> {
            match (
                yaml_str(&user, &format!("/{data}")),
                yaml_str(&user, &format!("/{file}")),
            ) {
                (Some(d), _) => b64_decode(d).map(Some).ok_or_else(|| {
                    config(format!("{p}: user {user_name:?}: {data} is not base64"))
                }),
                (None, Some(f)) => std::fs::read(resolve(path, f))
                    .map(Some)
                    .map_err(|e| config(format!("{p}: user {user_name:?}: {file} {f}: {e}"))),
                (None, None) => Ok(None),
            }
        };
        let client_cert = match (
            file_or_data("client-certificate-data", "client-certificate")?,
            file_or_data("client-key-data", "client-key")?,
        ) {
            (Some(c), Some(k)) => Some((c, k)),
            _ => None,
        };
        let cred = if let Some(t) = yaml_str(&user, "/token") {
            Cred::Token(Secret::new(t.as_bytes().to_vec()))
        } else if let Some(f) = yaml_str(&user, "/tokenFile") {
            Cred::TokenFile(resolve(path, f))
        } else if let Some(exec) = user.get("exec") {
            let command = yaml_str(exec, "/command")
                .ok_or_else(|| config(format!("{p}: user {user_name:?}: exec has no command")))?
                .to_string();
            let args = exec
                .get("args")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let env = exec
                .get("env")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|e| {
                            Some((
                                yaml_str(e, "/name")?.to_string(),
                                yaml_str(e, "/value")?.to_string(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            Cred::Exec { command, args, env }
        } else if user.get("auth-provider").is_some() {
            return Err(config(format!(
                "{p}: user {user_name:?} uses a legacy auth-provider, which is not supported: \
                 use an exec plugin or a token (kubectl create token SERVICEACCOUNT)"
            )));
        } else if client_cert.is_some() {
            Cred::None
        } else {
            return Err(config(format!(
                "{p}: user {user_name:?} has no token, tokenFile, client certificate or exec plugin"
            )));
        };
        Ok(Resolved {
            server,
            context: ctx_name,
            namespace,
            ca_pem,
            client_cert,
            cred,
        })
    })();
    wipe_json(&mut cfg);
    result
}

/// A path from a kubeconfig, relative to the kubeconfig's directory.
fn resolve(kubeconfig: &Path, p: &str) -> PathBuf {
    let p = expand_home(Path::new(p));
    if p.is_absolute() {
        p
    } else {
        kubeconfig.parent().map_or(p.clone(), |d| d.join(&p))
    }
}

fn in_cluster(backend: &str) -> Result<Resolved, BackendError> {
    let config = |m: String| BackendError::new(backend, ErrorKind::Config, m);
    let host = std::env::var("KUBERNETES_SERVICE_HOST").map_err(|_| {
        config(
            "in_cluster = true but $KUBERNETES_SERVICE_HOST is not set: not running in a pod?"
                .into(),
        )
    })?;
    let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let dir = Path::new(SA_DIR);
    let namespace = std::fs::read_to_string(dir.join("namespace"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "default".into());
    let ca = std::fs::read(dir.join("ca.crt")).map_err(|e| {
        config(format!(
            "{SA_DIR}/ca.crt: {e} (is automountServiceAccountToken off?)"
        ))
    })?;
    Ok(Resolved {
        server: format!("https://{host}:{port}"),
        context: "in-cluster".into(),
        namespace,
        ca_pem: Some(ca),
        client_cert: None,
        // Re-read on every request: the kubelet refreshes projected tokens.
        cred: Cred::TokenFile(dir.join("token")),
    })
}

/// PEM blocks of `pem` with their labels.
fn pem_blocks(pem: &[u8]) -> Vec<(String, Vec<u8>)> {
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
        let body_start = label_end + 5;
        let end_marker = format!("-----END {label}-----");
        let Some(end) = after.find(&end_marker) else {
            break;
        };
        let body: String = after
            .get(body_start..end)
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Some(der) = b64_decode(&body) {
            out.push((label, der));
        }
        rest = after.get(end + end_marker.len()..).unwrap_or("");
    }
    out
}

fn tls_config(
    backend: &str,
    ca_pem: Option<&[u8]>,
    client: Option<&(Vec<u8>, Vec<u8>)>,
) -> Result<Arc<rustls::ClientConfig>, BackendError> {
    use rustls::pki_types::{
        CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
    };
    let config = |m: String| BackendError::new(backend, ErrorKind::Config, m);
    let mut roots = rustls::RootCertStore::empty();
    match ca_pem {
        Some(pem) => {
            for (label, der) in pem_blocks(pem) {
                if label == "CERTIFICATE" {
                    roots.add(CertificateDer::from(der)).map_err(|e| {
                        config(format!("the cluster CA certificate is invalid: {e}"))
                    })?;
                }
            }
            if roots.is_empty() {
                return Err(config(
                    "certificate-authority holds no PEM certificate".into(),
                ));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config(format!("TLS setup: {e}")))?
        .with_root_certificates(roots);
    let cfg = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let certs: Vec<CertificateDer<'static>> = pem_blocks(cert)
                .into_iter()
                .filter(|(l, _)| l == "CERTIFICATE")
                .map(|(_, d)| CertificateDer::from(d))
                .collect();
            let key: PrivateKeyDer<'static> = match pem_blocks(key).into_iter().next() {
                Some((l, d)) if l == "RSA PRIVATE KEY" => PrivatePkcs1KeyDer::from(d).into(),
                Some((l, d)) if l == "EC PRIVATE KEY" => PrivateSec1KeyDer::from(d).into(),
                Some((l, d)) if l == "PRIVATE KEY" => PrivatePkcs8KeyDer::from(d).into(),
                _ => return Err(config("client-key holds no PEM private key".into())),
            };
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| config(format!("the client certificate or key is invalid: {e}")))?
        }
    };
    Ok(Arc::new(cfg))
}

/// RFC 3339 UTC timestamp of now.
fn now_rfc3339() -> String {
    let secs = i64::try_from(super::cloud::unix_now()).unwrap_or(0);
    // Reuse the civil-date arithmetic of the OCI date header.
    let d = super::oci::http_date(secs); // "Mon, 23 Nov 2026 07:50:13 GMT"
    let parts: Vec<&str> = d.split(' ').collect();
    let month = match parts.get(2).copied().unwrap_or("") {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        _ => 12,
    };
    format!(
        "{}-{month:02}-{}T{}Z",
        parts.get(3).unwrap_or(&"1970"),
        parts.get(1).unwrap_or(&"01"),
        parts.get(4).unwrap_or(&"00:00:00")
    )
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
            if cont.is_none() || seen >= self.limit {
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
            annotations.insert(AT_ANNOTATION.into(), Value::String(now_rfc3339()));
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
    fn rfc3339_now_has_the_right_shape() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }

    #[test]
    fn last_applied_copies_are_rewritten() {
        let obj = json!({"metadata": {"annotations": {LAST_APPLIED:
            "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"stringData\":{\"pw\":\"old\"},\"data\":{\"other\":\"eA==\"}}"}}});
        let out = rewrite_last_applied(&obj, "pw", b"new-value").unwrap();
        assert!(out.contains("new-value") && !out.contains("old"), "{out}");
        assert!(rewrite_last_applied(&obj, "absent", b"x").is_none());
    }

    #[test]
    fn reads_pem_blocks() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAwQF\n-----END CERTIFICATE-----\n";
        let blocks = pem_blocks(pem);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[1].1, vec![3, 4, 5]);
    }
}
