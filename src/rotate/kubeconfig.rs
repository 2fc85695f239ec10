//! Where the Kubernetes backend finds its cluster: the kubeconfig (current context or a
//! named one; token, token file, client certificate or exec credential plugin) or the
//! pod's in-cluster service account, and the TLS configuration that trusts the cluster's
//! CA. Read once when the backend is built; the backend itself only talks to the API.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use zeroize::Zeroize;

use super::cloud::expand_home;
use super::{BackendError, ErrorKind};
use crate::net::{b64_decode, pem_blocks};
use crate::scrub::wipe_json;
use crate::secret::Secret;

const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

pub(super) enum Cred {
    None,
    Token(Secret),
    TokenFile(PathBuf),
    Exec {
        command: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
    },
}

/// What the kubeconfig (or the pod) says about the cluster.
pub(super) struct Resolved {
    pub server: String,
    pub context: String,
    pub namespace: String,
    pub ca_pem: Option<Vec<u8>>,
    pub client_cert: Option<(Vec<u8>, Vec<u8>)>,
    pub cred: Cred,
}

pub(super) fn yaml_str<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    v.pointer(path).and_then(Value::as_str)
}

/// The named entry of a kubeconfig list (`clusters`, `users`, `contexts`).
fn named<'a>(cfg: &'a Value, list: &str, name: &str) -> Option<&'a Value> {
    cfg.get(list)?
        .as_array()?
        .iter()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
}

pub(super) fn read_kubeconfig(
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

pub(super) fn in_cluster(backend: &str) -> Result<Resolved, BackendError> {
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

pub(super) fn tls_config(
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
