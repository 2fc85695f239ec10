//! Issue #9: never the leak. Canary secrets are planted in a tree and a git history, then
//! every output of full runs (all formats, stdout, stderr, report files, `--verbose`,
//! `--show-suppressed`, errors, baselines, imports, rotation's report reader) is grepped
//! for them in plain, base64, hex and percent-encoded form. Only `--show-secrets` may
//! print them, and the test checks that it does (so the grep is known to work).

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;

use base64::Engine as _;
use common::*;
use tempfile::TempDir;

/// The canaries: a GitHub PAT, an AWS key id, a database password.
fn canaries() -> Vec<String> {
    vec![github_pat(9_001), aws_key_id(9_002), postgres_url(9_003).1]
}

/// Every form a canary must never take in an output.
fn forms(secret: &str) -> Vec<String> {
    let b = secret.as_bytes();
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut out = vec![
        secret.to_string(),
        b64.encode(b).trim_end_matches('=').to_string(),
        b64url.encode(b),
        hex::encode(b),
        hex::encode_upper(b),
        b.iter().map(|c| format!("%{c:02X}")).collect(),
        b.iter().map(|c| format!("%{c:02x}")).collect(),
        // JSON or debug escapes of every byte.
        b.iter().map(|c| format!("\\u{:04x}", c)).collect(),
        // As a byte list (`{:?}` of a Vec<u8>).
        format!("{:?}", b),
    ];
    out.retain(|f| !f.is_empty());
    out
}

/// Fails if any canary, in any form, occurs in `text`.
fn assert_clean(what: &str, text: &str) {
    for c in canaries() {
        for f in forms(&c) {
            assert!(
                !text.contains(&f),
                "{what}: a canary leaked (form {:?}…)\n{}",
                f.get(..6).unwrap_or(&f),
                text.chars().take(2000).collect::<String>()
            );
        }
    }
}

fn all_output(o: &Output) -> String {
    format!("{}\n{}", stdout(o), stderr(o))
}

fn leaksweep(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LOG", "trace")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(args)
        .output()
        .expect("run leaksweep")
}

/// A tree holding every canary plainly, encoded, suppressed inline, in a binary file and
/// in an over-large file, committed to git.
fn tree() -> TempDir {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let [pat, aws, pw] = <[String; 3]>::try_from(canaries()).unwrap();
    let url = format!("postgres://app:{pw}@db.internal.corp:5432/app");
    fs::write(
        d.join("app.env"),
        format!("GITHUB_TOKEN={pat}\naws_access_key_id = {aws}\nDATABASE_URL={url}\n"),
    )
    .unwrap();
    fs::write(
        d.join("db.env"),
        format!("aws_access_key_id = {aws}\nDATABASE_URL={url}\n"),
    )
    .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    fs::write(
        d.join("encoded.yaml"),
        format!(
            "token_b64: {}\ntoken_hex: {}\nurl_pct: {}\n",
            b64.encode(&pat),
            hex::encode(&pat),
            url.replace(':', "%3A").replace('@', "%40")
        ),
    )
    .unwrap();
    fs::write(
        d.join("allowed.py"),
        format!("TOKEN = \"{pat}\"  # leaksweep:allow\n"),
    )
    .unwrap();
    fs::write(d.join("blob.bin"), format!("\0\0{pat}\0")).unwrap();
    fs::write(d.join("huge.log"), format!("{}\n{pat}\n", "x".repeat(3000))).unwrap();
    let git = |args: &[&str]| {
        git_in(d, args, None);
    };
    git(&["init", "-q", "-b", "main", "."]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "add config"]);
    // A second commit removes the secret from app.env, so history holds it alone.
    fs::write(d.join("app.env"), "GITHUB_TOKEN=\n").unwrap();
    git(&["commit", "-q", "-am", "remove token"]);
    fs::write(d.join("app.env"), format!("GITHUB_TOKEN={pat}\n")).unwrap();
    dir
}

const FORMATS: &[&str] = &["text", "json", "jsonl", "sarif"];

#[test]
fn issue_9_no_canary_in_any_scan_output() {
    let dir = tree();
    let d = dir.path();
    for fmt in FORMATS {
        for extra in [
            &[][..],
            &["--verbose"][..],
            &["--show-suppressed", "--no-inline-ignores"][..],
            &["--max-file-size", "1K", "-j1", "--chunk-size", "1024"][..],
            &["--max-findings-per-file", "1"][..],
            &["--color", "always"][..],
        ] {
            let o = leaksweep(d, &[&["scan", ".", "-f", fmt][..], extra].concat());
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            assert_clean(&format!("scan -f {fmt} {extra:?}"), &all_output(&o));
        }
        // Files named explicitly (binary and large files are scanned then), stdin, and
        // a missing path (an error).
        let o = leaksweep(
            d,
            &["scan", "blob.bin", "huge.log", "no-such-file", "-f", fmt],
        );
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("no-such-file"), "{}", stderr(&o));
        assert_clean(&format!("scan named files -f {fmt}"), &all_output(&o));
    }
}

#[test]
fn issue_9_no_canary_in_report_files_and_they_are_private() {
    let dir = tree();
    let d = dir.path();
    for fmt in FORMATS {
        let out = d.join(format!("report.{fmt}"));
        let o = leaksweep(
            d,
            &["scan", ".", "-f", fmt, "-o", out.to_str().unwrap(), "-v"],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_clean(&format!("scan -o ({fmt}) streams"), &all_output(&o));
        let text = fs::read_to_string(&out).unwrap();
        assert!(text.len() > 100, "the {fmt} report has content");
        assert_clean(&format!("report file {fmt}"), &text);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&out).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{fmt} report mode");
        }
        fs::remove_file(&out).unwrap();
    }
}

#[test]
fn issue_9_no_canary_in_git_outputs() {
    let dir = tree();
    let d = dir.path();
    for fmt in FORMATS {
        for extra in [
            &[][..],
            &["--verbose", "--all-occurrences"][..],
            &["--max-blob-size", "1K", "-j1"][..],
        ] {
            let o = leaksweep(
                d,
                &[&["git", ".", "--no-progress", "-f", fmt][..], extra].concat(),
            );
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            assert_clean(&format!("git -f {fmt} {extra:?}"), &all_output(&o));
        }
    }
    // A bad range is an error that names the range, not a secret.
    let o = leaksweep(d, &["git", ".", "--range", "nope..HEAD"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_clean("git bad range", &all_output(&o));
    // Staged changes (pre-commit).
    let o = leaksweep(d, &["git", ".", "--staged", "-v"]);
    assert_clean("git --staged", &all_output(&o));
}

#[test]
fn issue_9_no_canary_in_baselines_imports_or_rotation_errors() {
    let dir = tree();
    let d = dir.path();
    let pat = github_pat(9_001);
    // A baseline holds fingerprints, never values.
    let o = leaksweep(d, &["baseline", "create", ".", "-o", "b.json"]);
    assert_clean("baseline create", &all_output(&o));
    let b = fs::read_to_string(d.join("b.json")).unwrap();
    assert!(b.contains("lsw1:"), "baseline lists fingerprints");
    assert_clean("baseline file", &b);
    let o = leaksweep(d, &["scan", ".", "--baseline", "b.json", "-v"]);
    assert_clean("scan --baseline", &all_output(&o));
    // A gitleaks report carries secrets; importing a broken one must not echo them.
    let broken = format!(
        "[{{\"RuleID\":\"github-pat\",\"Secret\":\"{pat}\",\"Match\":\"token={pat}\",\
         \"File\":\"app.env\",\"StartLine\":\"one\"}}]"
    );
    fs::write(d.join("gitleaks.json"), &broken).unwrap();
    let o = leaksweep(d, &["baseline", "import", "gitleaks.json", "-o", "i.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    assert_clean("baseline import of a broken report", &all_output(&o));
    // A good gitleaks report: the imported baseline holds fingerprints only.
    let good = format!(
        "[{{\"RuleID\":\"github-pat\",\"Secret\":\"{pat}\",\"Match\":\"GITHUB_TOKEN={pat}\",\
         \"File\":\"app.env\",\"StartLine\":1,\"EndLine\":1,\"StartColumn\":14,\
         \"EndColumn\":53,\"Fingerprint\":\"app.env:github-pat:1\"}}]"
    );
    fs::write(d.join("gitleaks.json"), &good).unwrap();
    let o = leaksweep(d, &["baseline", "import", "gitleaks.json", "-o", "i.json"]);
    assert_clean("baseline import", &all_output(&o));
    if let Ok(text) = fs::read_to_string(d.join("i.json")) {
        assert_clean("imported baseline", &text);
    }
    // Rotation reads reports; a malformed line holding a secret is named by line only.
    fs::write(
        d.join("r.jsonl"),
        format!("{{\"rule_id\":\"github-pat-classic\",\"secret\":\"{pat}\",\"path\":3}}\n"),
    )
    .unwrap();
    let o = leaksweep(d, &["rotate", "--report", "r.jsonl", "--locate"]);
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    assert_clean("rotate --report with a bad line", &all_output(&o));
    let o = leaksweep(d, &["rotate", "--scan", ".", "--locate", "-f", "json"]);
    assert_clean("rotate --scan --locate", &all_output(&o));
}

#[test]
fn issue_9_show_secrets_is_the_only_way_out() {
    // The grep above must be able to fail: with --show-secrets the canaries do appear.
    let dir = tree();
    for args in [
        &["scan", ".", "-f", "json", "--show-secrets"][..],
        &["git", ".", "--no-progress", "-f", "text", "--show-secrets"][..],
    ] {
        let text = all_output(&leaksweep(dir.path(), args));
        for c in canaries() {
            assert!(
                text.contains(&c),
                "{args:?} prints the canary {}…",
                c.get(..6).unwrap_or_default()
            );
        }
    }
}
