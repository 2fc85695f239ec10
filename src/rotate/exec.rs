//! External rotation plugins (`kind = "exec"`): a versioned JSON-lines protocol over the
//! plugin's stdin and stdout.
//!
//! The process contract (documented for plugin authors in docs/rotation-plugins.md):
//! - leaksweep runs `COMMAND... --leaksweep-plugin` in the config file's directory with a
//!   **cleared environment** plus an allow-list (`PATH`, `HOME`, `LANG`, `TMPDIR` and the
//!   backend's `pass_env`), in its own process group. Secret values travel **only on
//!   stdin**: never in argv, the environment or a file.
//! - The plugin first prints a hello line within `hello_timeout_ms`:
//!   `{"protocol":"leaksweep-rotate","versions":[1],"plugin":"NAME","capabilities":{"ops":["locate","rotate","verify"]}}`.
//! - leaksweep then sends one request per line and waits for the result line with the same
//!   `id` (progress lines `{"type":"progress",...}` may come first) within `timeout_ms`;
//!   past the deadline it kills the process group and reports a timeout (for a `rotate`
//!   the outcome is then unknown: the caller verifies before any retry).
//! - The leaked value is sent only to the operations that need it to compare (`locate`,
//!   `verify`, `revoke`); `rotate` gets the new value only; `describe` (read-only, used
//!   for dry runs when offered) gets neither.
//! - **Leak guard**: every line the plugin writes (stdout and stderr) is checked for the
//!   values sent to it, raw and in base64, base64url, hex, percent and JSON-escaped form.
//!   A plugin that echoes one fails the request with a `protocol` error, is stopped, and
//!   its output is withheld.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

use super::config::BackendDef;
use super::{Backend, BackendError, ErrorKind, Location, RotateOutcome, RotateStatus};
use crate::secret::Secret;

/// The protocol version this leaksweep speaks.
pub const PROTOCOL_VERSION: u64 = 1;
/// Longest accepted line from a plugin.
pub const MAX_LINE: usize = 1 << 20;
/// stderr kept from a plugin (the tail is shown, redacted, when it fails).
pub const MAX_STDERR: usize = 64 << 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    command: Vec<String>,
    #[serde(default)]
    pass_env: Vec<String>,
    #[serde(default = "default_timeout")]
    timeout_ms: u64,
    #[serde(default = "default_hello")]
    hello_timeout_ms: u64,
}

fn default_timeout() -> u64 {
    30_000
}
fn default_hello() -> u64 {
    5_000
}

/// Environment variables every plugin gets (when set).
pub const BASE_ENV: &[&str] = &["PATH", "HOME", "LANG", "TMPDIR"];

/// An external plugin backend.
pub struct Exec {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    cwd: PathBuf,
    pass_env: Vec<String>,
    timeout: Duration,
    hello_timeout: Duration,
    proc: Mutex<Option<Proc>>,
    next_id: AtomicU64,
}

struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Result<Vec<u8>, String>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    ops: Vec<String>,
}

impl Proc {
    fn kill(&mut self) {
        self.stdin = None;
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) with a negative pid signals the process group we created for
            // this child (process_group(0) at spawn); it touches no memory.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// True if `text` holds any form of any of `secrets` (the forms of `crate::scrub`).
fn echoes(text: &[u8], secrets: &[&Secret]) -> bool {
    let raw: Vec<&[u8]> = secrets.iter().map(|s| s.expose()).collect();
    crate::scrub::echoes(text, &raw)
}

fn encode_value(s: &Secret) -> Value {
    match std::str::from_utf8(s.expose()) {
        Ok(t) => json!({"encoding": "utf8", "value": t}),
        Err(_) => json!({
            "encoding": "base64",
            "value": base64::engine::general_purpose::STANDARD.encode(s.expose())
        }),
    }
}

fn error_kind(kind: &str) -> ErrorKind {
    match kind {
        "auth" => ErrorKind::Auth,
        "forbidden" | "permission" => ErrorKind::Permission,
        "not_found" => ErrorKind::NotFound,
        "conflict" => ErrorKind::Conflict,
        "rate_limited" | "throttled" => ErrorKind::Throttled,
        "transient" | "unavailable" => ErrorKind::Unavailable,
        "timeout" => ErrorKind::Timeout,
        "unsupported" => ErrorKind::Unsupported,
        "invalid_request" | "config" => ErrorKind::Config,
        _ => ErrorKind::Protocol,
    }
}

impl Exec {
    /// Builds the backend from its config (`kind = "exec"`). The plugin starts on first use.
    pub fn from_def(def: &BackendDef) -> Result<Exec, BackendError> {
        let s: Settings = def.settings()?;
        let Some((first, rest)) = s.command.split_first() else {
            return Err(BackendError::new(
                &def.name,
                ErrorKind::Config,
                "command = [\"PROGRAM\", \"ARG\"...] is empty",
            ));
        };
        let program = if first.contains('/') {
            def.resolve(std::path::Path::new(first))
        } else {
            PathBuf::from(first)
        };
        Ok(Exec {
            name: def.name.clone(),
            program,
            args: rest.to_vec(),
            cwd: if def.base_dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                def.base_dir.clone()
            },
            pass_env: s.pass_env,
            timeout: Duration::from_millis(s.timeout_ms),
            hello_timeout: Duration::from_millis(s.hello_timeout_ms),
            proc: Mutex::new(None),
            next_id: AtomicU64::new(1),
        })
    }

    fn err(&self, kind: ErrorKind, msg: impl Into<String>) -> BackendError {
        BackendError::new(&self.name, kind, msg)
    }

    fn spawn(&self) -> Result<Proc, BackendError> {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .arg("--leaksweep-plugin")
            .current_dir(&self.cwd)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in BASE_ENV
            .iter()
            .copied()
            .chain(self.pass_env.iter().map(String::as_str))
        {
            if let Some(v) = std::env::var_os(var) {
                cmd.env(var, v);
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let mut child = cmd.spawn().map_err(|e| {
            self.err(
                ErrorKind::Config,
                format!(
                    "cannot start plugin {}: {e} (check `command`; relative paths start at the \
                     config file's directory)",
                    self.program.display()
                ),
            )
        })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr_pipe = child.stderr.take();
        let (tx, rx) = mpsc::channel();
        if let Some(out) = stdout {
            std::thread::spawn(move || {
                let mut r = BufReader::new(out);
                loop {
                    let mut line = Vec::new();
                    match (&mut r)
                        .take(MAX_LINE as u64 + 1)
                        .read_until(b'\n', &mut line)
                    {
                        Ok(0) => break,
                        Ok(_) if line.len() > MAX_LINE => {
                            let _ = tx.send(Err(format!("a line longer than {MAX_LINE} bytes")));
                            break;
                        }
                        Ok(_) => {
                            if tx.send(Ok(line)).is_err() {
                                break;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(format!("reading stdout: {e}")));
                            break;
                        }
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(mut err_pipe) = stderr_pipe {
            let buf = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = err_pipe.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    if let (Ok(mut b), Some(c)) = (buf.lock(), chunk.get(..n)) {
                        if b.len() < MAX_STDERR {
                            b.extend_from_slice(c);
                        }
                    }
                }
            });
        }
        let mut proc = Proc {
            child,
            stdin,
            lines: rx,
            stderr,
            ops: Vec::new(),
        };
        let hello = match self.read_line(&mut proc, Instant::now() + self.hello_timeout, &[]) {
            Ok(h) => h,
            Err(mut e) => {
                proc.kill();
                if e.kind == ErrorKind::Timeout {
                    e.message = format!(
                        "plugin {} printed no hello within {} ms (it must print \
                         {{\"protocol\":\"leaksweep-rotate\",\"versions\":[1],...}} first)",
                        self.program.display(),
                        self.hello_timeout.as_millis()
                    );
                }
                return Err(e);
            }
        };
        let versions_ok = hello
            .get("versions")
            .and_then(Value::as_array)
            .is_some_and(|v| v.iter().any(|x| x.as_u64() == Some(PROTOCOL_VERSION)));
        if hello.get("protocol").and_then(Value::as_str) != Some("leaksweep-rotate") || !versions_ok
        {
            proc.kill();
            return Err(self.err(
                ErrorKind::Protocol,
                format!(
                    "plugin {} does not speak leaksweep-rotate version {PROTOCOL_VERSION} (its \
                     hello must say \"protocol\":\"leaksweep-rotate\",\"versions\":[1])",
                    self.program.display()
                ),
            ));
        }
        proc.ops = hello
            .pointer("/capabilities/ops")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Ok(proc)
    }

    /// Reads the next JSON line, enforcing the deadline and the leak guard.
    fn read_line(
        &self,
        proc: &mut Proc,
        deadline: Instant,
        guard: &[&Secret],
    ) -> Result<Value, BackendError> {
        let left = deadline.saturating_duration_since(Instant::now());
        match proc.lines.recv_timeout(left) {
            Ok(Ok(line)) => {
                if echoes(&line, guard) {
                    return Err(self.leaked_error());
                }
                serde_json::from_slice(&line).map_err(|_| {
                    self.err(
                        ErrorKind::Protocol,
                        "the plugin wrote a line that is not JSON (stdout is reserved for \
                         protocol lines; log to stderr)",
                    )
                })
            }
            Ok(Err(msg)) => Err(self.err(ErrorKind::Protocol, format!("plugin output: {msg}"))),
            Err(RecvTimeoutError::Timeout) => Err(self.err(
                ErrorKind::Timeout,
                format!(
                    "no answer within {} ms; the plugin was stopped (raise timeout_ms if it is \
                     slow)",
                    self.timeout.as_millis()
                ),
            )),
            Err(RecvTimeoutError::Disconnected) => {
                let status = proc.child.wait().ok();
                // Give the stderr reader a moment to collect the last words.
                std::thread::sleep(Duration::from_millis(50));
                let tail = self.stderr_tail(proc, guard);
                Err(self.err(
                    ErrorKind::Unavailable,
                    format!(
                        "the plugin exited ({}) before answering{tail}",
                        status.map_or_else(|| "unknown status".into(), |s| s.to_string())
                    ),
                ))
            }
        }
    }

    fn leaked_error(&self) -> BackendError {
        self.err(
            ErrorKind::Protocol,
            "the plugin echoed a secret value in its output: the request failed, the plugin \
             was stopped and its output withheld (fix the plugin: never print leaked.value or \
             new_value.value)",
        )
    }

    fn stderr_tail(&self, proc: &Proc, guard: &[&Secret]) -> String {
        let Ok(buf) = proc.stderr.lock() else {
            return String::new();
        };
        if buf.is_empty() {
            return String::new();
        }
        if echoes(&buf, guard) {
            return "; its stderr held a secret value and is withheld".into();
        }
        let text = String::from_utf8_lossy(&buf);
        let tail: String = text
            .chars()
            .rev()
            .take(400)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("; stderr: {}", tail.trim())
    }

    /// Sends one request and returns its result object (status checked by the caller).
    fn request(&self, op: &str, mut body: Value, guard: &[&Secret]) -> Result<Value, BackendError> {
        let mut slot = self
            .proc
            .lock()
            .map_err(|_| self.err(ErrorKind::Protocol, "plugin state poisoned"))?;
        if slot.is_none() {
            *slot = Some(self.spawn()?);
        }
        let Some(proc) = slot.as_mut() else {
            return Err(self.err(ErrorKind::Protocol, "plugin not running"));
        };
        if !proc.ops.iter().any(|o| o == op) {
            return Err(self.err(
                ErrorKind::Unsupported,
                format!(
                    "the plugin does not offer {op:?} (its hello lists {:?})",
                    proc.ops
                ),
            ));
        }
        let id = format!("req-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        body["v"] = json!(PROTOCOL_VERSION);
        body["id"] = json!(id);
        body["op"] = json!(op);
        body["deadline_ms"] = json!(u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX));
        let mut line = serde_json::to_vec(&body).unwrap_or_default();
        crate::scrub::wipe_json(&mut body);
        line.push(b'\n');
        let sent = proc
            .stdin
            .as_mut()
            .map(|w| w.write_all(&line).and_then(|()| w.flush()));
        zeroize::Zeroize::zeroize(&mut line);
        if !matches!(sent, Some(Ok(()))) {
            let tail = self.stderr_tail(proc, guard);
            proc.kill();
            *slot = None;
            return Err(self.err(
                ErrorKind::Unavailable,
                format!("the plugin stopped reading its input{tail}"),
            ));
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            let v = match self.read_line(proc, deadline, guard) {
                Ok(v) => v,
                Err(e) => {
                    proc.kill();
                    *slot = None;
                    return Err(e);
                }
            };
            if v.get("id").and_then(Value::as_str) != Some(id.as_str())
                || v.get("type").and_then(Value::as_str) == Some("progress")
            {
                continue;
            }
            // stderr is checked too: a plugin that logs the secret fails the request.
            if proc
                .stderr
                .lock()
                .map(|b| echoes(&b, guard))
                .unwrap_or(false)
            {
                proc.kill();
                *slot = None;
                return Err(self.leaked_error());
            }
            if v.get("status").and_then(Value::as_str) == Some("failed") {
                let kind = v
                    .pointer("/error/kind")
                    .and_then(Value::as_str)
                    .map_or(ErrorKind::Protocol, error_kind);
                let msg = v
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message");
                return Err(self.err(kind, format!("plugin: {op} failed: {msg}")));
            }
            return Ok(v);
        }
    }

    /// Whether the plugin's hello lists `op` (starts the plugin if needed).
    fn offers(&self, op: &str) -> Result<bool, BackendError> {
        let mut slot = self
            .proc
            .lock()
            .map_err(|_| self.err(ErrorKind::Protocol, "plugin state poisoned"))?;
        if slot.is_none() {
            *slot = Some(self.spawn()?);
        }
        Ok(slot.as_ref().is_some_and(|p| p.ops.iter().any(|o| o == op)))
    }

    fn target_json(target: &Location) -> Value {
        json!({"backend": target.backend, "path": target.path, "key": target.key})
    }

    fn outcome(&self, v: &Value, op: &str) -> Result<RotateOutcome, BackendError> {
        let status = match v.get("status").and_then(Value::as_str) {
            Some("rotated") => RotateStatus::Rotated,
            Some("revoked") => RotateStatus::Revoked,
            Some("already_applied") => RotateStatus::AlreadyApplied,
            Some("would_rotate" | "would_revoke") => RotateStatus::WouldRotate,
            other => {
                return Err(self.err(
                    ErrorKind::Protocol,
                    format!("{op}: unexpected status {other:?} in the plugin's result"),
                ))
            }
        };
        let text = |k: &str| {
            v.get(k).and_then(|x| match x {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        Ok(RotateOutcome {
            status,
            new_version: text("new_version").or_else(|| text("backend_version")),
            previous_version: text("previous_version"),
        })
    }
}

impl Drop for Exec {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.proc.lock() {
            if let Some(mut p) = slot.take() {
                // Closing stdin asks the plugin to exit; give it a moment, then stop it.
                p.stdin = None;
                let until = Instant::now() + Duration::from_secs(2);
                while Instant::now() < until {
                    if matches!(p.child.try_wait(), Ok(Some(_))) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                p.kill();
            }
        }
    }
}

impl Backend for Exec {
    fn name(&self) -> &str {
        &self.name
    }

    fn locate(&self, leaked: &Secret) -> Result<Vec<Location>, BackendError> {
        let v = self.request("locate", json!({"leaked": encode_value(leaked)}), &[leaked])?;
        let list = v
            .get("locations")
            .and_then(Value::as_array)
            .ok_or_else(|| self.err(ErrorKind::Protocol, "locate: result without `locations`"))?;
        let mut out = Vec::new();
        for l in list {
            let Some(path) = l.get("path").and_then(Value::as_str) else {
                continue;
            };
            out.push(Location {
                backend: self.name.clone(),
                path: path.to_string(),
                key: l.get("key").and_then(Value::as_str).map(str::to_string),
            });
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn rotate(
        &self,
        target: &Location,
        new_value: &Secret,
        idempotency_key: &str,
        dry_run: bool,
    ) -> Result<RotateOutcome, BackendError> {
        if dry_run && self.offers("describe")? {
            // Read-only by contract: the plugin never sees the new value in a dry run.
            let v = self.request(
                "describe",
                json!({"target": Self::target_json(target)}),
                &[new_value],
            )?;
            if v.get("exists").and_then(Value::as_bool) == Some(false) {
                return Err(self.err(
                    ErrorKind::NotFound,
                    format!("{target}: the plugin says there is no such secret (check the target)"),
                ));
            }
            if v.get("writable").and_then(Value::as_bool) == Some(false) {
                return Err(self.err(
                    ErrorKind::Permission,
                    format!(
                        "{target}: the plugin says the secret is not writable with its credentials"
                    ),
                ));
            }
            let text = |k: &str| {
                v.get(k).and_then(|x| match x {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
            };
            return Ok(RotateOutcome {
                status: RotateStatus::WouldRotate,
                new_version: None,
                previous_version: text("current_version"),
            });
        }
        let v = self.request(
            "rotate",
            json!({
                "dry_run": dry_run,
                "idempotency_key": idempotency_key,
                "target": Self::target_json(target),
                "new_value": encode_value(new_value),
            }),
            &[new_value],
        )?;
        let out = self.outcome(&v, "rotate")?;
        if dry_run && out.status == RotateStatus::Rotated {
            return Err(self.err(
                ErrorKind::Protocol,
                "the plugin answered `rotated` to a dry run: it must not write in a dry run",
            ));
        }
        Ok(out)
    }

    fn verify(&self, target: &Location, leaked: &Secret) -> Result<bool, BackendError> {
        let v = self.request(
            "verify",
            json!({"target": Self::target_json(target), "leaked": encode_value(leaked)}),
            &[leaked],
        )?;
        v.get("still_leaked")
            .and_then(Value::as_bool)
            .map(|still| !still)
            .ok_or_else(|| self.err(ErrorKind::Protocol, "verify: result without `still_leaked`"))
    }

    fn revoke(&self, leaked: &Secret, dry_run: bool) -> Result<RotateOutcome, BackendError> {
        let v = self.request(
            "revoke",
            json!({"dry_run": dry_run, "leaked": encode_value(leaked)}),
            &[leaked],
        )?;
        self.outcome(&v, "revoke")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leak_guard_sees_encoded_forms() {
        let s = Secret::new(b"Zq8Kp2Lm9Vx4Rt7W".to_vec());
        let b64 = base64::engine::general_purpose::STANDARD.encode(s.expose());
        let hexed = hex::encode(s.expose());
        for text in [
            "plain Zq8Kp2Lm9Vx4Rt7W here".to_string(),
            format!("{{\"v\":\"{b64}\"}}"),
            format!("hex {hexed}"),
            format!("HEX {}", hexed.to_uppercase()),
        ] {
            assert!(echoes(text.as_bytes(), &[&s]), "{text}");
        }
        assert!(!echoes(b"nothing to see", &[&s]));
        let quoted = Secret::new(b"pa\"ss\\word-1234".to_vec());
        assert!(echoes(br#"{"m":"pa\"ss\\word-1234"}"#, &[&quoted]));
    }
}
