//! Look-alike robustness: a corpus of strings that resemble secrets but are not
//! (lockfile integrity hashes, git SHAs, UUIDs, digests, ARNs, base64 images and fonts,
//! JWT-shaped strings, vendors' documented sample keys, CI `${{ secrets.X }}` references,
//! prose full of "token" and "password", code identifiers) must scan clean, while
//! real-shaped secrets of the newer formats placed next to them are still found.
//!
//! The corpus lives in `tests/fixtures/lookalikes/` and is copied to a temporary
//! directory, so the project's own `.leaksweep.toml` (which allowlists `tests/`) does
//! not apply.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;
use tempfile::TempDir;

fn corpus() -> TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lookalikes");
    let dir = TempDir::new().unwrap();
    let mut n = 0;
    for entry in fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        n += 1;
    }
    assert!(n >= 10, "look-alike corpus is missing files ({n})");
    dir
}

fn findings(dir: &Path) -> (Vec<Value>, std::process::Output) {
    let out = run(dir, &["scan", ".", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let list = v["findings"].as_array().cloned().unwrap_or_default();
    (list, out)
}

#[test]
fn lookalike_corpus_scans_clean() {
    let dir = corpus();
    let (list, out) = findings(dir.path());
    let shown: Vec<String> = list
        .iter()
        .map(|f| format!("{} {}:{}", f["rule_id"], f["path"], f["line"]))
        .collect();
    assert!(list.is_empty(), "look-alikes reported: {shown:#?}");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Real-shaped secrets of the formats added with the look-alike work, one per rule.
fn new_format_secrets() -> Vec<(&'static str, String)> {
    let lower = |s: String| s.to_ascii_lowercase();
    vec![
        (
            "azure-storage-identifiable-key",
            format!("{}+ASt{}Q==", random_alnum(101, 76), random_alnum(102, 5)),
        ),
        (
            "github-app-refresh-token-long",
            format!("ghr_{}", random_alnum(103, 76)),
        ),
        (
            "github-app-installation-token-jwt",
            format!(
                "ghs_482913_eyJ{}.{}.{}",
                random_alnum(104, 30),
                random_alnum(105, 120),
                random_alnum(106, 300)
            ),
        ),
        (
            "gitlab-pat",
            format!(
                "glpat-{}.01.{}",
                random_alnum(107, 44),
                lower(random_alnum(108, 9))
            ),
        ),
        (
            "anthropic-oauth-token",
            format!("sk-ant-oat01-{}AA", random_alnum(109, 93)),
        ),
        (
            "vercel-prefixed-token",
            format!("vcp_{}", random_alnum(110, 56)),
        ),
    ]
}

#[test]
fn new_formats_are_found_among_lookalikes() {
    let dir = corpus();
    let secrets = new_format_secrets();
    let mut env = String::from("# deploy settings\n");
    for (i, (_, s)) in secrets.iter().enumerate() {
        env.push_str(&format!("SETTING_{i}={s}\n"));
    }
    fs::write(dir.path().join("deploy.env"), env).unwrap();

    let (list, out) = findings(dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut got: Vec<(String, u64)> = list
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, u64)> = secrets
        .iter()
        .enumerate()
        .map(|(i, (rule, _))| ((*rule).to_string(), i as u64 + 2))
        .collect();
    want.sort();
    assert_eq!(got, want, "every new-format secret once, nothing else");
    for f in &list {
        assert_eq!(f["path"], "deploy.env", "{f}");
    }
    let text = stdout(&out);
    for (_, s) in &secrets {
        assert!(!text.contains(s.as_str()), "secret leaked in the report");
    }
}
