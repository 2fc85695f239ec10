//! Context-dependent secrets through the real binary: values given to secret-sounding
//! names in the assignment and name/value-pair forms of many languages and formats,
//! password hashes that generic rules must not call passwords, key blocks split across
//! joined string literals, and values that must be reported whole.
//!
//! `tests/fixtures/assignment-forms/` holds one file per language or format, each
//! giving the same six secrets (moderate entropy, no provider format) to six names in
//! that language's own idioms; the test measures recall over all of them.

mod common;

use std::fs;
use std::path::Path;

use base64::Engine as _;
use common::*;
use serde_json::Value;
use tempfile::TempDir;

/// The six secrets of the assignment-forms corpus, by the name they are given.
const SECRETS: &[(&str, &str)] = &[
    ("DB_PASSWORD", "Summer#2024db"),
    ("API_KEY", "ak_9f3Kd02Lmq"),
    ("CLIENT_SECRET", "Plum7Tree4Rain"),
    ("AUTH_TOKEN", "bF7qLm2Wz0Tx"),
    // Bare hex: a secret only because the name says so.
    ("ENCRYPTION_KEY", "e4c1a9f07b3d52e8a6c0f19d3b7e42a5"),
    ("SMTP_PASS", "mailR00m!42"),
];

fn scan_json(dir: &Path) -> Vec<Value> {
    let out = run(dir, &["scan", ".", "--format", "json", "--show-secrets"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "scan failed: {}",
        stderr(&out)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    v["findings"].as_array().cloned().unwrap_or_default()
}

fn file_name(f: &Value) -> String {
    Path::new(f["path"].as_str().unwrap_or_default())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn assignment_forms_of_every_language_are_found() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/assignment-forms");
    let dir = TempDir::new().unwrap();
    let mut files = Vec::new();
    for entry in fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        files.push(entry.file_name().to_string_lossy().into_owned());
    }
    assert!(files.len() >= 13, "corpus lost files: {files:?}");
    let found = scan_json(dir.path());
    let mut missed = Vec::new();
    for file in &files {
        for (name, secret) in SECRETS {
            let hit = found
                .iter()
                .any(|f| file_name(f) == *file && f["secret"] == *secret);
            if !hit {
                missed.push(format!("{file}: {name}"));
            }
        }
    }
    let total = files.len() * SECRETS.len();
    eprintln!(
        "assignment forms: {}/{total} found over {} files",
        total - missed.len(),
        files.len()
    );
    assert!(missed.is_empty(), "missed: {missed:#?}");
    // Nothing but the six secrets is reported.
    let others: Vec<String> = found
        .iter()
        .filter(|f| !SECRETS.iter().any(|(_, s)| f["secret"] == *s))
        .map(|f| format!("{} {}:{}", f["rule_id"], f["path"], f["line"]))
        .collect();
    assert!(others.is_empty(), "unexpected findings: {others:#?}");
}

#[test]
fn password_hashes_are_not_reported_as_passwords() {
    let dir = TempDir::new().unwrap();
    fs::write(
        dir.path().join("users.json"),
        r#"[
  {"username": "ops", "password": "sha1$Zq81K$0f5b25cd58e6a8e2a6a6b9a1f3c1e4d5b6a7c8d9"},
  {"username": "ci", "password": "pbkdf2_sha256$600000$Hq7vR2xLp9Wz$Xk2mQ7vL9pZ4tR8wB1nC6yD3fG5hJ0kS2uV7xA9eI4o="},
  {"username": "svc", "password": "argon2$argon2id$v=19$m=102400,t=2,p=8$Wk9xR2tKcW1M$Zx81Kq02mNv7Ps33Lw9TbQ"}
]
"#,
    )
    .unwrap();
    fs::write(
        dir.path().join("pg_setup.md"),
        "Set `password = \"md5a3f1c5e2a9b8d7c6e5f4a3b2c1d0e9f8\"` in the role file.\n\
         db_password: \"$6$rounds=5000$Zq81Kq02$Xq7vR2xLp9Wz4KdTm3Ns8BZx81Kq02mNv7Ps33Lw9T\"\n\
         ADMIN_PASSWORD='{SSHA}Hq7vR2xLp9Wz4KdTm3Ns8BZx81Kq'\n",
    )
    .unwrap();
    let found = scan_json(dir.path());
    let generic: Vec<String> = found
        .iter()
        .filter(|f| {
            let id = f["rule_id"].as_str().unwrap_or_default();
            id.starts_with("generic-") || id == "json-password-field"
        })
        .map(|f| format!("{} {}:{}", f["rule_id"], f["path"], f["line"]))
        .collect();
    assert!(
        generic.is_empty(),
        "hashes reported as passwords: {generic:#?}"
    );
}

/// A PEM body that passes the structural validator: base64 of random bytes, in lines.
fn pem_lines(seed: u64) -> Vec<String> {
    let bytes: Vec<u8> = random_alnum(seed, 600).into_bytes();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    b64.as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect()
}

#[test]
fn key_blocks_split_by_string_concatenation_are_rebuilt() {
    let dir = TempDir::new().unwrap();
    let lines = pem_lines(1301);
    let (begin, end) = (
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----",
    );
    let quoted = |q: &str, sep: &str| {
        let mut parts = vec![format!("{q}{begin}\\n{q}")];
        parts.extend(lines.iter().map(|l| format!("{q}{l}\\n{q}")));
        parts.push(format!("{q}{end}\\n{q}"));
        parts.join(sep)
    };
    let go_raw = {
        let body = lines.join("\n");
        let (a, b) = body.split_at(body.len() / 2);
        format!("var testKey = `{begin}\n{a}` + `{b}\n{end}\n`\n")
    };
    let files = [
        ("key_test.go", go_raw),
        (
            "fixture.ts",
            format!("export const KEY = {};\n", quoted("'", " +\n  ")),
        ),
        (
            "fixtures.py",
            format!("TEST_KEY = (\n    {}\n)\n", quoted("\"", "\n    ")),
        ),
        (
            "KeyFixture.java",
            format!(
                "static final String PEM = {};\n",
                quoted("\"", "\n        + ")
            ),
        ),
        (
            "KeyFixture.cs",
            format!("const string Pem = {};\n", quoted("\"", " +\n    ")),
        ),
    ];
    for (name, text) in &files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    let found = scan_json(dir.path());
    for (name, _) in &files {
        assert!(
            found
                .iter()
                .any(|f| file_name(f) == *name && f["rule_id"] == "private-key-rsa"),
            "{name}: split key not found; findings: {found:#?}"
        );
    }
}

#[test]
fn values_with_delimiters_and_multi_line_blocks_are_reported_whole() {
    let dir = TempDir::new().unwrap();
    let django = "django-insecure-k8)w2#q9z!m4x@v7p(l3r$t6y%b1n^c5j&h0f*d=s+a";
    fs::write(
        dir.path().join("settings.py"),
        format!("DEBUG = False\nSECRET_KEY = '{django}'\n"),
    )
    .unwrap();
    let lines = pem_lines(1302);
    let pgp = format!(
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: ops signing key\n\n{}\n=Zx8K\n-----END PGP PRIVATE KEY BLOCK-----",
        lines.join("\n")
    );
    fs::write(dir.path().join("signing.asc"), format!("{pgp}\n")).unwrap();
    let found = scan_json(dir.path());
    assert!(
        found
            .iter()
            .any(|f| file_name(f) == "settings.py" && f["secret"] == django),
        "Django key not whole: {found:#?}"
    );
    assert!(
        found.iter().any(|f| file_name(f) == "signing.asc"
            && f["rule_id"] == "private-key-pgp"
            && f["end_line"].as_u64() > f["line"].as_u64()),
        "PGP block not whole: {found:#?}"
    );
}
