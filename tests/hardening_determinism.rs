//! Issue #9: no finding lost, same answer every time. The set and order of findings must
//! not depend on the thread count or the chunk size, for walked files, large (streamed)
//! files, standard input and git history, on a corpus whose secrets straddle chunk
//! boundaries.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;
use tempfile::TempDir;

/// Chunk sizes the tests cut inputs into (the floor is 1 KiB; the default is 4 MiB).
const CHUNKS: &[&str] = &["1024", "4096", "65536", "1000003"];

/// Builds a corpus in `dir`; returns (path, secret) of the secrets planted, sorted.
///
/// `long.txt` is one 150 KB line (no newline, so chunk boundaries fall mid-line at the
/// nominal offsets) with a secret straddling every multiple of 1024 bytes; `lines.txt`
/// is 300 KB of short lines with
/// secrets around every multiple of 4096; plus 60 small files.
fn corpus(dir: &Path) -> Vec<(String, String)> {
    let mut planted = Vec::new();
    // long.txt: filler of words without keywords, secrets at k*1024 - 10.
    let mut long = Vec::new();
    let mut k = 1u64;
    while long.len() < 150_000 {
        let target = usize::try_from(k * 1024 - 10).unwrap();
        while long.len() < target {
            long.extend_from_slice(b"lorem ");
        }
        long.truncate(target);
        let s = github_pat(k);
        long.extend_from_slice(b" ");
        long.extend_from_slice(s.as_bytes());
        long.extend_from_slice(b" ");
        planted.push(("long.txt".to_string(), s));
        k += 1;
    }
    fs::write(dir.join("long.txt"), &long).unwrap();

    let mut lines = Vec::new();
    let mut k = 1u64;
    while lines.len() < 300_000 {
        let target = usize::try_from(k * 4096).unwrap();
        while lines.len() + 45 < target {
            lines.extend_from_slice(b"an ordinary log line with nothing in it at all\n");
        }
        // The secret's line starts just before the multiple of 4096.
        let s = github_pat(10_000 + k);
        lines.extend_from_slice(format!("token {s}\n").as_bytes());
        planted.push(("lines.txt".to_string(), s));
        k += 1;
    }
    fs::write(dir.join("lines.txt"), &lines).unwrap();

    fs::create_dir(dir.join("small")).unwrap();
    for i in 0..60u64 {
        let s = aws_key_id(20_000 + i);
        fs::write(
            dir.join(format!("small/f{i:02}.cfg")),
            format!("# config {i}\naws_access_key_id = {s}\n"),
        )
        .unwrap();
        planted.push((format!("small/f{i:02}.cfg"), s));
    }
    planted.sort();
    planted
}

type Row = (String, u64, u64, u64, String, String);

/// Asserts two finding lists are equal, printing only the first rows that differ.
fn same(got: &[Row], want: &[Row], what: &str) {
    if got != want {
        let missing: Vec<&Row> = want.iter().filter(|r| !got.contains(r)).take(5).collect();
        let extra: Vec<&Row> = got.iter().filter(|r| !want.contains(r)).take(5).collect();
        panic!(
            "{what}: {} findings instead of {}; missing {missing:?}; extra {extra:?}",
            got.len(),
            want.len()
        );
    }
}

/// (path, line, column, offset, rule, fingerprint) of every finding, in report order.
fn findings(json: &str) -> Vec<Row> {
    let v: Value = serde_json::from_str(json).expect("JSON report");
    v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["column"].as_u64().unwrap_or_default(),
                f["offset"].as_u64().unwrap_or_default(),
                f["rule_id"].as_str().unwrap_or_default().to_string(),
                f["fingerprint"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn secrets(json: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(json).expect("JSON report");
    let mut out: Vec<(String, u64, String)> = v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["offset"].as_u64().unwrap_or_default(),
                f["secret"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    let mut by_path: Vec<(String, String)> = out.into_iter().map(|(p, _, s)| (p, s)).collect();
    by_path.sort();
    by_path.into_iter().map(|(_, s)| s).collect()
}

#[test]
fn issue_9_findings_do_not_depend_on_threads_or_chunk_size() {
    let dir = TempDir::new().unwrap();
    let planted: Vec<String> = corpus(dir.path()).into_iter().map(|(_, s)| s).collect();
    let base = [
        "scan",
        ".",
        "-f",
        "json",
        "--show-secrets",
        "--max-findings-per-file",
        "0",
    ];
    let reference = run(dir.path(), &[&base[..], &["-j1"]].concat());
    assert_eq!(reference.status.code(), Some(1), "{}", stderr(&reference));
    let want = stdout(&reference);
    // No finding lost: every planted secret, once.
    assert_eq!(
        secrets(&want),
        planted,
        "the -j1 scan finds every planted secret"
    );
    let want = findings(&want);
    for threads in ["-j1", "-j4"] {
        for chunk in CHUNKS {
            let o = run(
                dir.path(),
                &[&base[..], &[threads, "--chunk-size", chunk]].concat(),
            );
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            same(
                &findings(&stdout(&o)),
                &want,
                &format!("{threads} --chunk-size {chunk}"),
            );
        }
    }
}

#[test]
fn issue_9_stdin_findings_do_not_depend_on_chunk_size() {
    let dir = TempDir::new().unwrap();
    let in_long = corpus(dir.path())
        .iter()
        .filter(|(p, _)| p == "long.txt")
        .count();
    let data = fs::read(dir.path().join("long.txt")).unwrap();
    let scan = |chunk: Option<&str>| {
        let mut cmd = bin();
        cmd.current_dir(dir.path()).args([
            "scan",
            "-",
            "-f",
            "json",
            "--max-findings-per-file",
            "0",
        ]);
        if let Some(c) = chunk {
            cmd.args(["--chunk-size", c]);
        }
        let o = output_with_stdin(&mut cmd, data.clone());
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        findings(&stdout(&o))
    };
    let want = scan(None);
    assert_eq!(
        want.len(),
        in_long,
        "one finding per planted secret in long.txt"
    );
    for chunk in CHUNKS {
        same(
            &scan(Some(chunk)),
            &want,
            &format!("stdin, --chunk-size {chunk}"),
        );
    }
}

#[test]
fn issue_9_git_findings_do_not_depend_on_threads() {
    let dir = TempDir::new().unwrap();
    let repo = dir.path().join("repo");
    fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| {
        git_in(&repo, args, None);
    };
    git(&["init", "-q", "-b", "main", "."]);
    for c in 0..12u64 {
        for f in 0..5u64 {
            let mut text = String::new();
            for l in 0..40u64 {
                if (c + f + l) % 13 == 0 {
                    text.push_str(&format!("key = {}\n", github_pat(c * 1000 + f * 100 + l)));
                } else {
                    text.push_str("plain text line\n");
                }
            }
            fs::write(repo.join(format!("f{f}.txt")), text).unwrap();
        }
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", &format!("c{c}")]);
    }
    let scan = |extra: &[&str]| {
        let o = run(
            &repo,
            &[&["git", ".", "-f", "json", "--no-progress"][..], extra].concat(),
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        findings(&stdout(&o))
    };
    let want = scan(&["-j1"]);
    assert!(
        want.len() > 100,
        "history holds many secrets: {}",
        want.len()
    );
    same(&scan(&["-j4"]), &want, "git -j4");
    same(
        &scan(&["-j2", "--chunk-size", "1024"]),
        &want,
        "git -j2 --chunk-size 1024",
    );
}
