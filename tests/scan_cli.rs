//! End-to-end tests of `leaksweep scan` on real files made in the test.
#![allow(clippy::cast_possible_truncation)]

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;
use tempfile::TempDir;

fn tree() -> (TempDir, Vec<String>) {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let gh = github_pat(1);
    let (url, pw) = postgres_url(2);
    fs::create_dir_all(d.join("src/config")).unwrap();
    fs::write(
        d.join("src/config/settings.py"),
        format!("import os\n\nGITHUB_TOKEN = \"{gh}\"\n"),
    )
    .unwrap();
    fs::write(d.join(".env"), format!("# local\nDATABASE_URL={url}\n")).unwrap();
    fs::write(
        d.join("README.md"),
        "# nothing here\nUse `${GITHUB_TOKEN}` in CI.\n",
    )
    .unwrap();
    (dir, vec![gh, pw])
}

fn json_report(dir: &Path, extra: &[&str]) -> (Value, std::process::Output) {
    let mut args = vec!["scan", ".", "--format", "json"];
    args.extend_from_slice(extra);
    let out = run(dir, &args);
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    (v, out)
}

#[test]
fn finds_secrets_with_exact_positions_and_exit_1() {
    let (dir, _) = tree();
    let (v, out) = json_report(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let findings = v["findings"].as_array().unwrap();
    let got: Vec<(String, String, u64, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        got.contains(&("database-connection-uri".into(), ".env".into(), 2, 29)),
        "{got:?}"
    );
    assert!(
        got.iter().any(|(r, p, l, c)| r.starts_with("github")
            && p == "src/config/settings.py"
            && *l == 3
            && *c == 17),
        "{got:?}"
    );
    for f in findings {
        for key in [
            "rule_name",
            "severity",
            "secret",
            "fingerprint",
            "entropy",
            "end_line",
            "end_column",
        ] {
            assert!(!f[key].is_null(), "missing {key} in {f}");
        }
        assert!(f["fingerprint"].as_str().unwrap().starts_with("lsw1:"));
    }
    assert_eq!(v["version"], 1);
    assert_eq!(
        v["summary"]["findings"].as_u64().unwrap() as usize,
        findings.len()
    );
    assert!(v["summary"]["files_scanned"].as_u64().unwrap() >= 3);
}

#[test]
fn secrets_are_redacted_unless_asked() {
    let (dir, secrets) = tree();
    for format in ["text", "json", "jsonl", "sarif"] {
        let out = run(dir.path(), &["scan", ".", "--format", format]);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        for s in &secrets {
            assert!(!all.contains(s.as_str()), "{format} leaked a secret");
        }
    }
    let out = run(
        dir.path(),
        &["scan", ".", "--format", "jsonl", "--show-secrets"],
    );
    for s in &secrets {
        assert!(
            stdout(&out).contains(s.as_str()),
            "--show-secrets should print {s}"
        );
    }
}

#[test]
fn clean_tree_exits_0_and_exit_code_flag_works() {
    let dir = TempDir::new().unwrap();
    fs::write(
        dir.path().join("a.txt"),
        "hello world\npassword = os.environ['PW']\n",
    )
    .unwrap();
    let out = run(dir.path(), &["scan", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (dir, _) = tree();
    let out = run(dir.path(), &["scan", ".", "--exit-code", "42"]);
    assert_eq!(out.status.code(), Some(42));
}

#[test]
fn jsonl_and_sarif_parse_back() {
    let (dir, _) = tree();
    let out = run(dir.path(), &["scan", ".", "--format", "jsonl"]);
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 2);
    let out = run(dir.path(), &["scan", ".", "--format", "sarif"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let schema: Value =
        serde_json::from_str(include_str!("fixtures/sarif-2.1.0-rtm.5.schema.json")).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "SARIF schema violations: {errors:#?}");
    // The validator is not vacuous: a wrong level is rejected.
    let mut bad = v.clone();
    bad["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&bad));
    let run0 = &v["runs"][0];
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), lines.len());
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(r["partialFingerprints"]["leaksweep/secret/v1"]
            .as_str()
            .unwrap()
            .starts_with("lsw1:"));
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
    }
}

#[cfg(unix)]
#[test]
fn report_file_is_created_0600() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _) = tree();
    let report = dir.path().join("out.json");
    fs::write(&report, "old").unwrap();
    fs::set_permissions(&report, fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(
        dir.path(),
        &["scan", "src", "--format", "json", "--output", "out.json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let mode = fs::metadata(&report).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let v: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    assert!(!v["findings"].as_array().unwrap().is_empty());
}

#[test]
fn placeholders_hashes_and_uuids_are_quiet() {
    let dir = TempDir::new().unwrap();
    let text = "\
AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
github_token = \"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"
sha256 = \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"
id: 123e4567-e89b-12d3-a456-426614174000
password = \"${DB_PASSWORD}\"
token: {{ .Values.token }}
img = \"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\"
commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904
";
    fs::write(dir.path().join("fixtures.txt"), text).unwrap();
    let out = run(dir.path(), &["scan", ".", "--format", "jsonl"]);
    assert_eq!(stdout(&out), "", "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn inline_markers_suppress_and_are_counted() {
    let dir = TempDir::new().unwrap();
    let gh = github_pat(9);
    fs::write(
        dir.path().join("a.py"),
        format!("T = \"{gh}\"  # leaksweep:allow\n"),
    )
    .unwrap();
    let (v, out) = json_report(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["summary"]["suppressed"]["inline"], 1);
    let (v, out) = json_report(dir.path(), &["--no-inline-ignores"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_inputs_are_skipped_and_named() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let gh = github_pat(3);
    // Binary file with a secret: skipped when walked.
    let mut bin = vec![0u8, 1, 2, 3];
    bin.extend_from_slice(gh.as_bytes());
    fs::write(d.join("blob.dat2"), &bin).unwrap();
    // Invalid UTF-8 around a secret: still found.
    let mut bad = b"\xff\xfe garbage \xc3\x28 ".to_vec();
    bad.extend_from_slice(format!("token={gh}\n").as_bytes());
    fs::write(d.join("latin.txt"), &bad).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("missing-target", d.join("dangling")).unwrap();
        std::os::unix::fs::symlink(".", d.join("loop")).unwrap();
    }
    let (v, out) = json_report(d, &["-L"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["path"] == "latin.txt"));
    assert!(!findings.iter().any(|f| f["path"] == "blob.dat2"));
    let skipped = &v["summary"]["skipped"];
    assert_eq!(skipped["binary"], 1, "{v}");
    #[cfg(unix)]
    assert!(
        skipped
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.contains("loop")),
        "{skipped}"
    );
    // Explicitly named binary files are scanned.
    let out = run(d, &["scan", "blob.dat2"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn missing_path_is_an_error_naming_it() {
    let dir = TempDir::new().unwrap();
    let out = run(dir.path(), &["scan", "does-not-exist"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does-not-exist"));
}

#[test]
fn bad_user_rule_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    fs::write(
        dir.path().join("bad.toml"),
        "[[rule]]\nid = \"mine\"\nname = \"Mine\"\nkeywords = [\"abc\"]\nregex = '''(unclosed'''\n",
    )
    .unwrap();
    let out = run(dir.path(), &["scan", ".", "--rules", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.toml") && err.contains("mine") && err.contains("regex"),
        "{err}"
    );
    fs::write(dir.path().join("bad2.toml"), "[[rule]]\nid = 3\n").unwrap();
    let out = run(dir.path(), &["scan", ".", "--rules", "bad2.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad2.toml"), "{}", stderr(&out));
}

#[test]
fn stdin_is_scanned_with_line_numbers() {
    use std::io::Write;
    let gh = github_pat(5);
    let mut child = bin()
        .args(["scan", "-", "--format", "jsonl"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for i in 0..50_000 {
        input.push_str(&format!("log line {i}\n"));
    }
    input.push_str(&format!("auth ok token={gh}\n"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(v["line"], 50_001);
    assert_eq!(v["path"], "<stdin>");
}

#[test]
fn rules_test_reports_failing_examples() {
    let dir = TempDir::new().unwrap();
    fs::write(
        dir.path().join("mine.toml"),
        "[[rule]]\nid = \"mine\"\nname = \"Mine\"\nkeywords = [\"mytok_\"]\nregex = '''mytok_([a-z]{8})'''\nexamples = [\"mytok_ABCDEFGH\"]\nnegative_examples = [\"mytok_\"]\n",
    )
    .unwrap();
    let out = run(dir.path(), &["rules", "test", "mine.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("mine.toml: mine: example 1 not matched"),
        "{}",
        stdout(&out)
    );
    let out = run(dir.path(), &["rules", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// Runs `leaksweep ARGS` in `dir` as a user without special privileges, so that permission
/// bits stop reads: directly when the tests do not run as root, and as `nobody` through
/// `setpriv` (util-linux) when they do, as CI does. The binary is copied next to the test
/// data so that `nobody` can run it wherever the build lives.
fn run_unprivileged(dir: &Path, args: &[&str]) -> std::process::Output {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return run(dir, args);
    }
    let exe = dir.join("leaksweep-copy");
    if !exe.exists() {
        fs::copy(env!("CARGO_BIN_EXE_leaksweep"), &exe).unwrap();
    }
    std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("setpriv (util-linux) runs the binary as nobody when the tests run as root")
}

/// A named input that cannot be read is an error (exit 2) that names it, once; the same
/// file met in a walk is a skip. A named directory that cannot be listed is named itself,
/// not a project file inside it.
#[test]
fn named_inputs_that_cannot_be_read_are_errors_and_walked_ones_are_skips() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    fs::create_dir(d.join("tree")).unwrap();
    fs::write(d.join("tree/locked.txt"), format!("T={}\n", github_pat(5))).unwrap();
    fs::set_permissions(d.join("tree/locked.txt"), fs::Permissions::from_mode(0o000)).unwrap();
    fs::write(d.join("tree/ok.txt"), "nothing\n").unwrap();
    fs::create_dir(d.join("closed")).unwrap();
    fs::write(d.join("closed/a.txt"), "nothing\n").unwrap();
    fs::set_permissions(d.join("closed"), fs::Permissions::from_mode(0o000)).unwrap();

    let named = run_unprivileged(d, &["scan", "tree/locked.txt", "--format", "json"]);
    assert_eq!(named.status.code(), Some(2), "{}", stderr(&named));
    let err = stderr(&named);
    assert!(
        err.contains("tree/locked.txt: cannot read this file: Permission denied"),
        "{err}"
    );
    let v: Value = serde_json::from_slice(&named.stdout).unwrap();
    assert_eq!(v["summary"]["errors"], 1);

    let walked = run_unprivileged(d, &["scan", "tree", "--format", "json"]);
    assert_eq!(walked.status.code(), Some(0), "{}", stderr(&walked));
    assert!(stderr(&walked).contains("skipped tree/locked.txt: unreadable"));

    let closed = run_unprivileged(d, &["scan", "closed"]);
    assert_eq!(closed.status.code(), Some(2));
    let err = stderr(&closed);
    assert!(
        err.contains("closed: cannot read this directory: Permission denied"),
        "{err}"
    );
    assert!(!err.contains(".leaksweepignore"), "{err}");
    assert_eq!(err.matches("os error 13").count(), 1, "{err}");
    fs::set_permissions(d.join("closed"), fs::Permissions::from_mode(0o755)).unwrap();
}

/// Read errors other than permissions, which root meets too: a named file whose read fails
/// (`/proc/self/mem` at offset 0 answers EIO) and a named symbolic link to nothing.
#[test]
fn named_file_with_a_read_error_or_a_dangling_link_exits_2() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let out = run(d, &["scan", "/proc/self/mem"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("/proc/self/mem: cannot read this file"));

    std::os::unix::fs::symlink("nowhere", d.join("dangling")).unwrap();
    fs::write(d.join("ok.txt"), "nothing\n").unwrap();
    let out = run(d, &["scan", "dangling", "ok.txt"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("dangling: cannot follow this symbolic link"),
        "{}",
        stderr(&out)
    );
    // The other named file was still scanned.
    assert!(
        stderr(&out).contains("leaksweep: 1 files"),
        "{}",
        stderr(&out)
    );
}

/// Skipped binary files are named on stderr without `-v`, in one short line.
#[test]
fn skipped_binary_files_are_named_in_one_line() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("logo.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    fs::write(d.join("notes.txt"), "nothing\n").unwrap();
    let out = run(d, &["scan", "."]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("not scanned (binary or symlink): logo.png (-v names each"),
        "{err}"
    );
    let out = run(d, &["scan", ".", "-q"]);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

/// File names come from whoever made the tree: control characters in them are escaped in
/// the text report and on stderr, and kept exact in JSON.
#[test]
fn control_characters_in_file_names_are_escaped_for_the_terminal() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let gh = github_pat(77);
    let name = "leak\x1b]0;owned\x07\x1b[2J.txt";
    fs::write(d.join(name), format!("T = \"{gh}\"\n")).unwrap();
    fs::write(d.join("bin\x1b[8m.png"), b"\x89PNG\r\n\x1a\n\0\0").unwrap();
    let out = run(d, &["scan", ".", "-v", "--color", "always"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("leak\\x1b]0;owned\\x07\\x1b[2J.txt"),
        "{text:?}"
    );
    assert!(!text.contains("\x1b]") && !text.contains('\x07') && !text.contains("\x1b[2J"));
    let err = stderr(&out);
    assert!(err.contains("bin\\x1b[8m.png"), "{err:?}");
    assert!(!err.contains('\x1b'), "{err:?}");

    let out = run(d, &["scan", ".", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["path"], name);
}

/// `completions` and `man` print what clap generates from the parser's own definition.
#[test]
fn completions_and_man_page_are_generated() {
    let dir = TempDir::new().unwrap();
    let out = run(dir.path(), &["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    let bash = stdout(&out);
    assert!(bash.contains("_leaksweep()") && bash.contains("--max-file-size"));
    let out = run(dir.path(), &["completions", "zsh"]);
    assert!(stdout(&out).starts_with("#compdef leaksweep"));
    let out = run(dir.path(), &["man"]);
    assert_eq!(out.status.code(), Some(0));
    let man = stdout(&out);
    assert!(
        man.contains(".TH leaksweep 1") && man.contains("scan"),
        "{man}"
    );
}
