//! End-to-end tests of issue #4 (logs and streams) on logs generated here, with secrets
//! at known lines: chunk boundaries, stdin, query strings, headers, JSON fields, base64
//! basic auth, percent-encoded URLs, gzip and rotated files, UTF-16, follow mode with
//! appends, rotation and truncation, and redaction.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine as _;
use common::*;
use serde_json::Value;
use tempfile::TempDir;

/// A PEM RSA key block with a random body (its lines joined by `\n`).
fn pem_key(seed: u64) -> String {
    let mut x = seed | 1;
    let body: Vec<u8> = (0..900)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[3]
        })
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(body);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
        lines.join("\n")
    )
}

fn filler(i: usize) -> String {
    format!(
        "10.0.{}.{} - - [21/Nov/2023:10:46:04 +0000] \"GET /api/v2/orders/{i} HTTP/1.1\" 200 {} \"-\" \"curl/8.5.0\" rt=0.{:03} req_id={:032x}\n",
        i % 256,
        i % 250,
        i * 7 % 100_000,
        i % 1000,
        i * 2_654_435_761
    )
}

/// A planted secret: 1-based line, expected rule id, the secret as reported.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Planted {
    line: u64,
    rule: String,
    secret: String,
}

/// A log of `n` lines with one secret every `every` lines, in rotating contexts.
fn make_log(n: usize, every: usize) -> (String, Vec<Planted>) {
    let mut text = String::new();
    let mut planted = Vec::new();
    let mut line = 1u64;
    for i in 0..n {
        if i % every == every / 2 {
            let k = (i / every) as u64;
            let (chunk, rule, secret) = match k % 4 {
                0 => {
                    let t = github_pat(k);
                    (
                        format!("GET /cb?access_token={t}&state=1 HTTP/1.1\n"),
                        "github-pat-classic",
                        t,
                    )
                }
                1 => {
                    let t = random_alnum(k + 100, 40);
                    (
                        format!("10.1.1.1 - - \"POST /v1/charges\" 200 http_authorization=\"Bearer {t}\"\n"),
                        "http-bearer-token",
                        t,
                    )
                }
                2 => {
                    let (url, pw) = postgres_url(k);
                    (
                        format!("{{\"level\":\"ERROR\",\"msg\":\"db down\",\"dsn\":\"{url}\"}}\n"),
                        "database-connection-uri",
                        pw,
                    )
                }
                _ => {
                    let pem = pem_key(k);
                    (
                        format!("DEBUG config dump: tls.key=\n{pem}\n"),
                        "private-key-rsa",
                        pem,
                    )
                }
            };
            let at = if k % 4 == 3 { line + 1 } else { line };
            planted.push(Planted {
                line: at,
                rule: rule.to_string(),
                secret,
            });
            line += chunk.matches('\n').count() as u64;
            text.push_str(&chunk);
        } else {
            text.push_str(&filler(i));
            line += 1;
        }
    }
    (text, planted)
}

fn findings(out: &std::process::Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", stderr(out)));
    v["findings"].as_array().unwrap().clone()
}

fn got_set(found: &[Value]) -> BTreeSet<Planted> {
    found
        .iter()
        .map(|f| Planted {
            line: f["line"].as_u64().unwrap(),
            rule: f["rule_id"].as_str().unwrap().to_string(),
            secret: f["secret"].as_str().unwrap().to_string(),
        })
        .collect()
}

fn run_stdin(dir: &Path, args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = bin()
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn issue_4_secrets_across_chunk_boundaries_found_once_with_exact_lines() {
    let dir = TempDir::new().unwrap();
    let (text, planted) = make_log(6000, 97);
    fs::write(dir.path().join("app.log"), &text).unwrap();
    let want: BTreeSet<Planted> = planted.iter().cloned().collect();
    assert!(want.len() >= 60);
    for chunk in ["1K", "3K", "64K", "100M"] {
        let out = run(
            dir.path(),
            &[
                "scan",
                "app.log",
                "--format",
                "json",
                "--show-secrets",
                "--chunk-size",
                chunk,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let found = findings(&out);
        assert_eq!(
            found.len(),
            want.len(),
            "chunk {chunk}: one finding per secret"
        );
        assert_eq!(got_set(&found), want, "file, chunk {chunk}");
        let out = run_stdin(
            dir.path(),
            &[
                "scan",
                "-",
                "--format",
                "json",
                "--show-secrets",
                "--chunk-size",
                chunk,
            ],
            text.as_bytes(),
        );
        let found = findings(&out);
        assert_eq!(got_set(&found), want, "stdin, chunk {chunk}");
        assert!(found.iter().all(|f| f["path"] == "<stdin>"));
    }
    // Without --show-secrets nothing is leaked on stdout or stderr.
    let out = run(dir.path(), &["scan", "app.log", "--format", "json"]);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    for p in &planted {
        let probe = p.secret.lines().nth(1).unwrap_or(&p.secret);
        assert!(!all.contains(probe), "{} leaked", p.rule);
    }
}

#[test]
fn issue_4_log_context_and_decoded_secrets() {
    let dir = TempDir::new().unwrap();
    let bearer = random_alnum(7, 44);
    let api = random_alnum(8, 32);
    let query = random_alnum(9, 28);
    let jpw = random_alnum(10, 14);
    let gh = github_pat(11);
    let basic_pw = random_alnum(12, 18);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("deploy:{basic_pw}"));
    let basic_gh = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{gh}"));
    let pct_pw = format!("{}!{}", random_alnum(13, 8), random_alnum(14, 8));
    let pct = pct_pw.replace('!', "%21");
    let k8s_gh = github_pat(15);
    let k8s = base64::engine::general_purpose::STANDARD.encode(&k8s_gh);
    let esc_pw = random_alnum(16, 16);
    let lines = [
        "2024-05-01 INFO starting".to_string(),
        format!("{{\"msg\":\"outgoing\",\"headers\":{{\"Authorization\":\"Bearer {bearer}\"}}}}"),
        format!("> X-Api-Key: {api}"),
        format!("GET /export?format=csv&api_key={query} HTTP/1.1"),
        format!("{{\"event\":\"login\",\"user\":\"ops\",\"password\":\"{jpw}\"}}"),
        format!("Authorization: Basic {basic}"),
        format!("curl -H 'Authorization: Basic {basic_gh}' https://git.corp.net/repo"),
        format!("redirect to /login?next=%2Fhome&password={pct}&x=1"),
        format!("  github_token: {k8s}"),
        format!("{{\"body\":\"{{\\\"password\\\":\\\"{esc_pw}\\\"}}\"}}"),
        "Authorization: Bearer <token>".to_string(),
        "Authorization: Bearer ${TOKEN}".to_string(),
        "Authorization: Bearer null".to_string(),
    ];
    fs::write(dir.path().join("app.log"), lines.join("\n") + "\n").unwrap();
    let out = run(
        dir.path(),
        &["scan", "app.log", "--format", "json", "--show-secrets"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out);
    let has = |line: u64, rule: &str, secret: &str, decoded: Option<&str>| {
        assert!(
            found.iter().any(|f| f["line"] == line
                && f["rule_id"] == rule
                && f["secret"] == secret
                && f["decoded"].as_str() == decoded),
            "line {line} {rule} {decoded:?} not in {found:#?}"
        );
    };
    has(2, "http-bearer-token", &bearer, None);
    has(3, "http-api-key-header", &api, None);
    has(4, "url-query-secret", &query, None);
    has(5, "json-password-field", &jpw, None);
    has(6, "http-basic-credentials", &basic, None);
    has(7, "github-pat-classic", &gh, Some("base64"));
    has(8, "url-query-secret", &pct_pw, Some("percent"));
    has(9, "github-pat-classic", &k8s_gh, Some("base64"));
    has(10, "json-password-field", &esc_pw, Some("escape"));
    assert!(
        !found.iter().any(|f| f["line"].as_u64().unwrap() >= 11),
        "placeholders are not secrets: {found:#?}"
    );
    // Decoded findings point at the encoded text: the percent-encoded password starts
    // at its own column, the base64 token inside the header's value.
    let f8 = found.iter().find(|f| f["line"] == 8).unwrap();
    let col = lines[7].find(&pct).unwrap() as u64 + 1;
    assert_eq!(f8["column"], col);
    assert_eq!(f8["end_column"], col + pct.len() as u64);
    let f7 = found.iter().find(|f| f["line"] == 7).unwrap();
    let b = lines[6].find(&basic_gh).unwrap() as u64 + 1;
    let c = f7["column"].as_u64().unwrap();
    assert!(c >= b && c < b + basic_gh.len() as u64, "{f7}");
    // --max-decode-depth 0 turns decoding off.
    let out = run(
        dir.path(),
        &[
            "scan",
            "app.log",
            "--format",
            "json",
            "--max-decode-depth",
            "0",
        ],
    );
    assert!(findings(&out).iter().all(|f| f["decoded"].is_null()));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn issue_4_rotated_compressed_truncated_and_utf16_logs() {
    let dir = TempDir::new().unwrap();
    let d = dir.path().join("log");
    fs::create_dir(&d).unwrap();
    let secret_line = |seed: u64| {
        let t = github_pat(seed);
        (format!("GET /cb?access_token={t} HTTP/1.1\n"), t)
    };
    let mut expect = Vec::new();
    // app.log: plain; app.log.1: plain; app.log.2.gz: gzip; app.log.3.gz: truncated gzip
    // with a secret before the damage; app.log.4.gz: not gzip at all.
    for (name, seed) in [("app.log", 1u64), ("app.log.1", 2), ("app.log.2.gz", 3)] {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&filler(i));
        }
        let (l, t) = secret_line(seed);
        text.push_str(&l);
        let data = if name.ends_with(".gz") {
            gzip(text.as_bytes())
        } else {
            text.into_bytes()
        };
        fs::write(d.join(name), data).unwrap();
        expect.push((format!("log/{name}"), 201u64, t));
    }
    let (l, t) = secret_line(4);
    let mut text = l.clone();
    for i in 0..20_000 {
        text.push_str(&filler(i));
    }
    let gz = gzip(text.as_bytes());
    fs::write(d.join("app.log.3.gz"), &gz[..gz.len() / 2]).unwrap();
    expect.push(("log/app.log.3.gz".into(), 1, t));
    let (l, t) = secret_line(5);
    fs::write(d.join("app.log.4.gz"), format!("{}{l}", filler(0))).unwrap();
    expect.push(("log/app.log.4.gz".into(), 2, t));
    // UTF-16LE with a BOM.
    let (l, t) = secret_line(6);
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(
            format!("{}{l}", filler(1))
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    fs::write(d.join("windows.log"), utf16).unwrap();
    expect.push(("log/windows.log".into(), 2, t));

    let out = run(
        dir.path(),
        &["scan", "log", "--format", "json", "--show-secrets"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: BTreeSet<(String, u64, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, u64, String)> = expect.into_iter().collect();
    assert_eq!(got, want);
    let skipped = &v["summary"]["skipped"];
    assert_eq!(skipped["truncated"], 1, "{}", v["summary"]);
    assert_eq!(skipped["not-compressed"], 1, "{}", v["summary"]);
    let err = stderr(&out);
    assert!(
        err.contains("app.log.3.gz: truncated (gzip stream damaged after"),
        "{err}"
    );
    assert!(err.contains("app.log.4.gz: not-compressed"), "{err}");
    // A gzip stream on stdin is decompressed too.
    let (l, t) = secret_line(7);
    let out = run_stdin(
        dir.path(),
        &["scan", "-", "--format", "json", "--show-secrets"],
        &gzip(format!("{}{l}", filler(3)).as_bytes()),
    );
    let found = findings(&out);
    assert_eq!(found.len(), 1, "{}", stderr(&out));
    assert_eq!(found[0]["secret"], t.as_str());
    assert_eq!(found[0]["line"], 2);
}

#[test]
fn issue_4_bad_input_never_crashes() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let gh = github_pat(21);
    // NULs, invalid UTF-8 and binary noise inside a text log.
    let mut noisy = b"start\n\x00\x00\xff\xfe\xc3\x28 binary \x01\x02\x03\n".to_vec();
    noisy.extend_from_slice(format!("token={gh}\n").as_bytes());
    noisy.extend((0..5000u32).map(|i| u8::try_from(i * 31 % 256).unwrap()));
    fs::write(d.join("noisy.log"), &noisy).unwrap();
    let out = run(d, &["scan", "noisy.log", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(findings(&out)[0]["line"], 3);
    // A 6 MiB line without a newline, with a secret near its end.
    let mut long = vec![b'a'; 6 << 20];
    let at = long.len() - 1000;
    long[at..at + 7].copy_from_slice(b" token=");
    long[at + 7..at + 7 + gh.len()].copy_from_slice(gh.as_bytes());
    long[at + 7 + gh.len()] = b' ';
    fs::write(d.join("long.log"), &long).unwrap();
    let out = run(d, &["scan", "long.log", "--format", "json"]);
    let found = findings(&out);
    assert_eq!(found.len(), 1, "{}", stderr(&out));
    assert_eq!(found[0]["offset"], (at + 7) as u64);
    // Garbage that claims to be gzip (magic bytes, then noise).
    fs::write(d.join("bad.gz"), b"\x1f\x8b\x08\x00garbage garbage garbage").unwrap();
    let out = run(d, &["scan", "bad.gz", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad.gz: corrupt"), "{}", stderr(&out));
}

#[test]
fn issue_4_stalled_stdin_is_reported_and_what_arrived_is_scanned() {
    let dir = TempDir::new().unwrap();
    let gh = github_pat(31);
    let mut child = bin()
        .current_dir(dir.path())
        .args(["scan", "-", "--format", "json", "--stall-timeout", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("a line\ntoken={gh}\n").as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    // Keep the pipe open (a stalled producer) until the scanner gives up.
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(findings(&out)[0]["line"], 2);
    assert!(stderr(&out).contains("no data for"), "{}", stderr(&out));
}

/// Reads stdout lines of a child on a thread so that every wait is bounded.
fn line_reader(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn next_finding(rx: &mpsc::Receiver<String>) -> Value {
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a finding within 30 s");
    serde_json::from_str(&line).unwrap()
}

fn append(path: &Path, text: &str) {
    let mut f = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn issue_4_follow_appends_rotation_and_truncation() {
    let dir = TempDir::new().unwrap();
    let log = dir.path().join("app.log");
    let old = format!("{}token={}\n", filler(0), github_pat(40));
    fs::write(&log, &old).unwrap();
    let mut child = bin()
        .current_dir(dir.path())
        .args([
            "scan",
            "--follow",
            "app.log",
            "--format",
            "jsonl",
            "--show-secrets",
            "--poll-interval",
            "50",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = line_reader(&mut child);
    // What the file already holds is reported first.
    assert_eq!(next_finding(&rx)["line"], 2);
    // Appends: a secret, then a PEM block written in two steps.
    let t1 = github_pat(41);
    append(&log, &format!("{}x token={t1}\n", filler(1)));
    let f = next_finding(&rx);
    assert_eq!(
        (f["line"].as_u64(), f["secret"].as_str()),
        (Some(4), Some(t1.as_str()))
    );
    let pem = pem_key(42);
    let (head, tail) = pem.split_at(pem.len() / 2);
    append(&log, &format!("dump:\n{head}"));
    std::thread::sleep(Duration::from_millis(300));
    append(&log, &format!("{tail}\n"));
    let f = next_finding(&rx);
    assert_eq!(
        (f["line"].as_u64(), f["rule_id"].as_str()),
        (Some(6), Some("private-key-rsa"))
    );
    // Rotation: the file is moved away and a new one appears.
    fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    let t2 = github_pat(43);
    fs::write(&log, format!("token={t2}\n")).unwrap();
    let f = next_finding(&rx);
    assert_eq!(
        (f["line"].as_u64(), f["secret"].as_str()),
        (Some(1), Some(t2.as_str()))
    );
    // Truncation (copytruncate): the file shrinks and is written again.
    std::thread::sleep(Duration::from_millis(200));
    // Shorter than what was read, so the shrink shows.
    let t3 = github_pat(44);
    fs::write(&log, format!("t={t3}\n")).unwrap();
    let f = next_finding(&rx);
    assert_eq!(
        (f["line"].as_u64(), f["secret"].as_str()),
        (Some(1), Some(t3.as_str()))
    );
    // SIGINT stops it cleanly: exit 1 (findings), summary on stderr.
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
    let mut status = None;
    for _ in 0..200 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("--follow did not stop on SIGINT within 10 s");
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains("rotated") && err.contains("truncated"),
        "{err}"
    );
    assert!(err.contains("stopped by signal"), "{err}");
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "no duplicate findings"
    );
}

#[test]
fn issue_4_redact_masks_only_the_secret_spans() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let (mut text, planted) = make_log(3000, 61);
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("x-access-token:{}", github_pat(50)));
    text.push_str(&format!("Authorization: Basic {basic}\n"));
    fs::write(d.join("app.log"), &text).unwrap();
    let original = text.clone().into_bytes();
    let out = run(d, &["redact", "app.log", "--chunk-size", "2K"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let red = out.stdout.clone();
    assert_eq!(red.len(), original.len(), "same length");
    // Every differing byte is a '*' inside a planted secret; newlines are kept.
    let mut spans = Vec::new();
    for p in &planted {
        let at = text.find(&p.secret).unwrap();
        spans.push((at, at + p.secret.len()));
    }
    let b = text.rfind(&basic).unwrap();
    spans.push((b, b + basic.len()));
    for (i, (a, r)) in original.iter().zip(&red).enumerate() {
        if a != r {
            assert_eq!(*r, b'*', "byte {i}");
            assert!(
                spans.iter().any(|&(s, e)| i >= s && i < e),
                "byte {i} outside a secret"
            );
        }
    }
    for &(s, e) in &spans {
        let masked = red[s..e].iter().filter(|&&c| c == b'*').count();
        assert!(masked * 10 >= (e - s) * 8, "span {s}..{e} mostly masked");
    }
    // Nothing is found in the redacted copy.
    fs::write(d.join("red.log"), &red).unwrap();
    let out = run(d, &["scan", "red.log", "--format", "json"]);
    assert_eq!(findings(&out).len(), 0, "{}", stdout(&out));
    // stdin in, marker out, to a 0600 file; the input is untouched.
    let out = run_stdin(
        d,
        &["redact", "-", "--mask", "marker", "--output", "out.log"],
        &original,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let marked = fs::read_to_string(d.join("out.log")).unwrap();
    assert!(marked.contains("access_token=[REDACTED]&state=1"));
    assert!(!planted.iter().any(|p| marked.contains(&p.secret)));
    assert_eq!(fs::read(d.join("app.log")).unwrap(), original);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(d.join("out.log"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // --in-place: replaced through a 0600 temporary file.
    let out = run(d, &["redact", "--in-place", "app.log"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fs::read(d.join("app.log")).unwrap(), red);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(d.join("app.log"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let leftovers: Vec<_> = fs::read_dir(d)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("leaksweep-tmp"))
        .collect();
    assert!(leftovers.is_empty());
    // In place is refused for stdin and for compressed files.
    let out = run(d, &["redact", "--in-place", "-"]);
    assert_eq!(out.status.code(), Some(2));
    fs::write(d.join("a.gz"), gzip(b"x\n")).unwrap();
    let out = run(d, &["redact", "--in-place", "a.gz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--output"), "{}", stderr(&out));
}
