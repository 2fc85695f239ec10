//! Helpers for the rotation tests: real servers from the environment, the setup every
//! test repeats (a scanned leak, a rotation config), a fault-injecting HTTP proxy, canary
//! checks. Test crates that use it also declare `mod common;`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A seed that differs between runs (servers outlive test runs during development).
pub fn run_seed() -> u64 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let t = u64::try_from(t % u128::from(u64::MAX)).unwrap();
    t ^ (u64::from(std::process::id()) << 32)
}

/// Reads a server address from `var`. The tests that call this are `#[ignore]`d, so they
/// run only when asked (`--include-ignored`, as `.ci/run` does after starting the servers);
/// asked without the server, they fail and say how to start it, never pass unrun.
pub fn server(var: &str, what: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v.trim_end_matches('/').to_string(),
        _ => panic!(
            "{var} is not set: no {what} to test against. `bash .ci/run` starts it; by \
             hand: see TESTING.md (OpenBao: `bao server -dev -dev-no-store-token \
             -dev-root-token-id=leaksweep-root-token`, moto: `moto_server -H 127.0.0.1 -p \
             5000`) and export {var}"
        ),
    }
}

/// (address, root token) of the OpenBao dev server.
pub fn vault() -> (String, String) {
    let addr = server("LEAKSWEEP_TEST_VAULT_ADDR", "OpenBao/Vault server");
    let token = std::env::var("LEAKSWEEP_TEST_VAULT_TOKEN")
        .unwrap_or_else(|_| "leaksweep-root-token".into());
    (addr, token)
}

/// The moto server's endpoint.
pub fn aws() -> String {
    server(
        "LEAKSWEEP_TEST_AWS_ENDPOINT",
        "moto (AWS Secrets Manager) server",
    )
}

/// Writes `dir/file` holding `lead` and then a leaked database URL; returns the password.
pub fn write_leaked_db(dir: &Path, seed: u64, file: &str, lead: &str) -> String {
    let (url, pw) = super::common::postgres_url(seed);
    std::fs::write(dir.join(file), format!("{lead}DATABASE_URL={url}\n")).unwrap();
    pw
}

/// Scans `dir/file` into `report` (its extension, `json` or `jsonl`, is the format;
/// `extra` adds arguments) and checks that the scan found a leak (exit 1).
pub fn scan_to_report(dir: &Path, file: &str, report: &str, extra: &[&str]) {
    let format = report.rsplit('.').next().unwrap_or("json");
    let mut args = vec!["scan", file, "--format", format, "-o", report];
    args.extend_from_slice(extra);
    assert_exit(&super::common::run(dir, &args), 1);
}

/// Writes `dir/.leaksweep.toml`: a `[rotation]` table with fast retries (20 ms base,
/// `cap_ms` cap), then `rest` (backends and routes).
pub fn write_rotation_config(dir: &Path, cap_ms: u64, rest: &str) {
    std::fs::write(
        dir.join(".leaksweep.toml"),
        format!("[rotation]\n[rotation.retry]\nbase_ms = 20\ncap_ms = {cap_ms}\n{rest}"),
    )
    .unwrap();
}

/// Asserts the exit code of a run, showing its stdout and stderr when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small HTTP call for test setup (never through leaksweep).
pub fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let mut r = agent.request(method, url);
    for (k, v) in headers {
        r = r.set(k, v);
    }
    let resp = match body {
        Some(b) => r.send_string(b),
        None => r.call(),
    };
    let resp = match resp {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = resp.status();
    let text = resp.into_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// Vault API call with a token.
pub fn vault_call(
    addr: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let b = body.map(|b| b.to_string());
    http(
        method,
        &format!("{addr}/v1/{path}"),
        &[("X-Vault-Token", token)],
        b.as_deref(),
    )
}

/// Secrets Manager call (moto does not check signatures by default; the header only
/// routes the request to the right service).
pub fn sm(endpoint: &str, op: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let target = format!("secretsmanager.{op}");
    http(
        "POST",
        &format!("{endpoint}/"),
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", &target),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIATESTSETUP0000000/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=00",
            ),
        ],
        Some(&body.to_string()),
    )
}

/// Asserts that none of `canaries` (nor their base64/hex forms) appears in `text`.
pub fn assert_no_canary(what: &str, text: &str, canaries: &[&str]) {
    use base64::Engine as _;
    for c in canaries {
        assert!(!c.is_empty());
        let forms = [
            c.to_string(),
            base64::engine::general_purpose::STANDARD
                .encode(c)
                .trim_end_matches('=')
                .to_string(),
            hex::encode(c),
        ];
        for f in forms {
            assert!(
                !text.contains(&f),
                "{what} leaks a canary value ({} chars)",
                c.len()
            );
        }
    }
}

/// Checks stdout and stderr of `out`.
pub fn assert_output_clean(what: &str, out: &Output, canaries: &[&str]) {
    assert_no_canary(
        &format!("{what} stdout"),
        &String::from_utf8_lossy(&out.stdout),
        canaries,
    );
    assert_no_canary(
        &format!("{what} stderr"),
        &String::from_utf8_lossy(&out.stderr),
        canaries,
    );
}

/// Every file under `dir` (reports, audit log, state file, plugin logs), for canary checks.
pub fn assert_files_clean(dir: &Path, canaries: &[&str], except: &[&str]) {
    for entry in walk(dir) {
        let name = entry.to_string_lossy().to_string();
        if except.iter().any(|e| name.ends_with(e)) {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).to_string();
        assert_no_canary(&name, &text, canaries);
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Audit log records.
pub fn audit(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit lines are JSON"))
        .collect()
}

/// The `error_kind` of every `attempt_failed` record in `dir`'s audit log, in order.
pub fn failed_attempt_kinds(dir: &Path) -> Vec<String> {
    audit(&dir.join(".leaksweep/rotate-audit.jsonl"))
        .iter()
        .filter(|r| r["event"] == "attempt_failed")
        .map(|r| r["error_kind"].as_str().unwrap().to_string())
        .collect()
}

/// Asserts that `text` (a run's stdout or stderr) contains `needle`, showing it if not.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "{text}");
}

/// What the proxy does with request number `n` (0-based).
#[derive(Clone)]
pub enum Fault {
    /// Forward it.
    Pass,
    /// Answer this raw HTTP response without forwarding.
    Reply(String),
    /// Forward it, drop the real answer, and answer this instead (the write landed but
    /// the client saw a failure).
    Swallow(String),
}

/// A fault-injecting HTTP/1.1 proxy in front of `upstream` (`http://host:port`). One
/// request per connection; `plan(n, head)` decides each request's fate.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Requests seen.
    pub seen: Arc<AtomicUsize>,
}

/// A canned response.
pub fn response(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

impl Proxy {
    /// Starts the proxy on a free loopback port.
    pub fn start(
        upstream: &str,
        plan: impl Fn(usize, &str) -> Fault + Send + Sync + 'static,
    ) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let up = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let seen = Arc::new(AtomicUsize::new(0));
        let seen2 = Arc::clone(&seen);
        let plan = Arc::new(plan);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { continue };
                let up = up.clone();
                let seen = Arc::clone(&seen2);
                let plan = Arc::clone(&plan);
                std::thread::spawn(move || {
                    let _ = serve(client, &up, &seen, &*plan);
                });
            }
        });
        Proxy { url, seen }
    }
}

fn read_message(s: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)?;
    Ok((head, body))
}

fn with_close(head: &str) -> String {
    let mut lines: Vec<&str> = head
        .trim_end()
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    format!("{}\r\n\r\n", lines.join("\r\n"))
}

fn serve(
    mut client: TcpStream,
    up: &str,
    seen: &AtomicUsize,
    plan: &(dyn Fn(usize, &str) -> Fault + Send + Sync),
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    let (head, body) = read_message(&mut client)?;
    let n = seen.fetch_add(1, Ordering::SeqCst);
    let fault = plan(n, &head);
    let forward = |head: &str, body: &[u8]| -> std::io::Result<Vec<u8>> {
        let mut u = TcpStream::connect(up)?;
        u.write_all(with_close(head).as_bytes())?;
        u.write_all(body)?;
        let mut resp = Vec::new();
        u.read_to_end(&mut resp)?;
        Ok(resp)
    };
    match fault {
        Fault::Reply(r) => client.write_all(r.as_bytes())?,
        Fault::Swallow(r) => {
            forward(&head, &body)?;
            client.write_all(r.as_bytes())?;
        }
        Fault::Pass => {
            let resp = forward(&head, &body)?;
            let split = resp
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(resp.len(), |p| p + 4);
            let rhead = String::from_utf8_lossy(&resp[..split]).to_string();
            client.write_all(with_close(&rhead).as_bytes())?;
            client.write_all(&resp[split..])?;
        }
    }
    client.flush()
}
