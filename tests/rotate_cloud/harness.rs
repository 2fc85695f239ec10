//! Starts a contract server from `tests/contract_servers/` on a free 127.0.0.1 port and
//! talks to its `/_ctl/` endpoints. The server is killed (by its PID) when dropped.
//! Shared by `rotate_cloud` and `rotate_cloud_cli`, each of which uses a part.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running contract server.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The ready file's JSON (port and server-specific facts such as key paths).
    pub info: Value,
    stderr: PathBuf,
    /// Scratch directory of this server and its test (key files, configs).
    pub dir: tempfile::TempDir,
}

fn servers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contract_servers")
}

impl Server {
    /// Starts `script` with `args`. A server that reports a missing Python module fails
    /// the test with the install command: the tests whose servers need more than the
    /// standard library are `#[ignore]`d, and run by `.ci/run` with `--include-ignored`.
    pub fn start(script: &str, args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let ready = dir.path().join("ready.json");
        let stderr = dir.path().join("server.log");
        let log = std::fs::File::create(&stderr).expect("server log");
        // `.ci/run` points this at a venv that has tests/contract_servers/requirements.txt.
        let python = std::env::var("LEAKSWEEP_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(&python)
            .arg(servers_dir().join(script))
            .args(["--port", "0", "--ready-file"])
            .arg(&ready)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{python}: {e} (Python 3.11+ runs the contract servers)"));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                let info: Value = serde_json::from_str(&text).expect("ready file JSON");
                let port = info["port"].as_u64().expect("port");
                let base = info["base"]
                    .as_str()
                    .map_or_else(|| format!("http://127.0.0.1:{port}"), str::to_string);
                return Server {
                    child,
                    base,
                    info,
                    stderr,
                    dir,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&stderr).unwrap_or_default();
                if let Some(line) = log.lines().find(|l| l.starts_with("MISSING_MODULE")) {
                    panic!(
                        "{script}: {line}: install the test requirements with \
                         `python3 -m pip install -r tests/contract_servers/requirements.txt` \
                         and point LEAKSWEEP_TEST_PYTHON at that Python (see TESTING.md)"
                    );
                }
                panic!("{script} exited ({status}) before it was ready:\n{log}");
            }
            assert!(Instant::now() < deadline, "{script} not ready after 20 s");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let req = self
            .agent()
            .request(method, &format!("{}{path}", self.base));
        let resp = match body {
            Some(b) => req.send_string(&b.to_string()),
            None => req.call(),
        };
        match resp {
            Ok(r) if r.status() == 204 => Value::Null,
            Ok(r) => {
                serde_json::from_str(&r.into_string().expect("control body")).expect("control JSON")
            }
            Err(e) => panic!("control call {method} {path}: {e}"),
        }
    }

    /// An agent that trusts the server's test CA when it serves TLS.
    fn agent(&self) -> ureq::Agent {
        let Some(ca) = self.info["ca"].as_str() else {
            return ureq::Agent::new();
        };
        let pem = std::fs::read(ca).expect("test CA");
        let mut roots = rustls::RootCertStore::empty();
        let der = pem_der(&pem);
        roots.add(der.into()).expect("test CA certificate");
        let cfg = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        ureq::AgentBuilder::new()
            .tls_config(std::sync::Arc::new(cfg))
            .build()
    }

    /// Seeds provider state (tokens, secrets, ...).
    pub fn seed(&self, data: Value) {
        self.call("POST", "/_ctl/seed", Some(data));
    }

    /// Injects a fault: the next `count` requests under `path` (and `method`, if given)
    /// get `status` (with `Retry-After: retry_after`).
    pub fn fault(
        &self,
        method: Option<&str>,
        path: &str,
        status: u16,
        count: u32,
        retry_after: Option<u32>,
    ) {
        self.call(
            "POST",
            "/_ctl/faults",
            Some(serde_json::json!({
                "method": method, "path": path, "status": status, "count": count,
                "retry_after": retry_after,
            })),
        );
    }

    /// Lets the next matching request do its work, then answers `status` instead (the
    /// answer to a write that landed is lost).
    pub fn lose_answer(&self, method: &str, path: &str, status: u16) {
        self.call(
            "POST",
            "/_ctl/faults",
            Some(serde_json::json!({
                "method": method, "path": path, "status": status, "count": 1, "after": true,
            })),
        );
    }

    /// Injects a fault whose error message echoes the request body (a leak test).
    pub fn echo_fault(&self, method: &str, path: &str, status: u16) {
        self.call(
            "POST",
            "/_ctl/faults",
            Some(serde_json::json!({
                "method": method, "path": path, "status": status, "count": 1, "echo_body": true,
            })),
        );
    }

    /// Every provider request so far: (method, path, status).
    pub fn requests(&self) -> Vec<(String, String, u16)> {
        let v = self.call("GET", "/_ctl/requests", None);
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        (
                            r["method"].as_str().unwrap_or("").to_string(),
                            r["path"].as_str().unwrap_or("").to_string(),
                            u16::try_from(r["status"].as_u64().unwrap_or(0)).unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Requests that change state (anything but GET/HEAD), for dry-run checks.
    pub fn writes(&self) -> Vec<(String, String, u16)> {
        self.requests()
            .into_iter()
            .filter(|(m, p, _)| m != "GET" && m != "HEAD" && !p.contains("/token"))
            .collect()
    }

    /// The provider state dump.
    pub fn state(&self) -> Value {
        self.call("GET", "/_ctl/state", None)
    }

    /// The server's stderr so far (one line per request; never bodies).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh canary value: looks like a credential, unique per call.
pub fn canary(tag: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let a = h.finish();
    h.write_u64(a);
    let b = h.finish();
    format!("LSWCANARY{tag}{a:016x}{b:016x}")
}

/// Asserts that no canary (raw, base64 or base64url) appears in `text`.
pub fn assert_no_canary(what: &str, text: &str, canaries: &[&str]) {
    use base64::Engine as _;
    for c in canaries {
        let forms = [
            c.to_string(),
            base64::engine::general_purpose::STANDARD.encode(c),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c),
        ];
        for f in forms {
            assert!(!text.contains(&f), "{what} leaks a canary value: {text}");
        }
    }
}

/// Runs `f` with `var` set in this process's environment. Tests in this binary that use
/// environment variables give each variable a unique name, so no lock is needed.
pub fn set_env(var: &str, value: &str) {
    std::env::set_var(var, value);
}

/// The DER bytes of the first PEM block.
fn pem_der(pem: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let text = String::from_utf8_lossy(pem);
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("PEM base64")
}
