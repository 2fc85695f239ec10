//! Issue 6: the pre-commit / pre-push hooks and the CI gate, end to end with real git.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use tempfile::TempDir;

/// A git command isolated from the machine's configuration.
fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Dev One")
        .env("GIT_AUTHOR_EMAIL", "dev@corp.invalid")
        .env("GIT_COMMITTER_NAME", "Dev One")
        .env("GIT_COMMITTER_EMAIL", "dev@corp.invalid")
        .env("LEAKSWEEP", env!("CARGO_BIN_EXE_leaksweep"))
        .output()
        .expect("git runs")
}

fn git_ok(dir: &Path, args: &[&str]) -> String {
    let o = git(dir, args);
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
    stdout(&o)
}

fn new_repo() -> (TempDir, PathBuf) {
    let t = TempDir::new().unwrap();
    let repo = t.path().join("repo");
    fs::create_dir(&repo).unwrap();
    git_ok(&repo, &["init", "-q", "-b", "main"]);
    fs::write(repo.join("README.md"), "hello\n").unwrap();
    git_ok(&repo, &["add", "."]);
    git_ok(&repo, &["commit", "-q", "-m", "init"]);
    (t, repo)
}

fn install(repo: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["hook", "install"];
    args.extend_from_slice(extra);
    run(repo, &args)
}

#[test]
fn issue_6_commit_with_secret_is_blocked_with_a_clear_message() {
    let (_t, repo) = new_repo();
    assert!(install(&repo, &[]).status.success());
    let gh = github_pat(61);
    fs::write(repo.join("config.py"), format!("TOKEN = \"{gh}\"\n")).unwrap();
    git_ok(&repo, &["add", "config.py"]);
    let o = git(&repo, &["commit", "-q", "-m", "add config"]);
    assert!(!o.status.success(), "commit should be blocked");
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(all.contains("commit blocked"), "{all}");
    assert!(all.contains("config.py"), "{all}");
    assert!(
        all.contains("leaksweep:allow") && all.contains("leaksweep ignore add"),
        "{all}"
    );
    assert!(all.contains("lsw1:"), "the fingerprint is shown: {all}");
    assert!(!all.contains(&gh), "the secret must be redacted: {all}");
    // Nothing was committed.
    assert_eq!(git_ok(&repo, &["rev-list", "--count", "HEAD"]).trim(), "1");
}

#[test]
fn issue_6_clean_and_allowed_commits_pass() {
    let (_t, repo) = new_repo();
    assert!(install(&repo, &[]).status.success());
    fs::write(repo.join("a.txt"), "nothing secret here\n").unwrap();
    git_ok(&repo, &["add", "a.txt"]);
    git_ok(&repo, &["commit", "-q", "-m", "clean"]);
    let gh = github_pat(62);
    fs::write(
        repo.join("fixture.py"),
        format!("T = \"{gh}\"  # leaksweep:allow\n"),
    )
    .unwrap();
    git_ok(&repo, &["add", "fixture.py"]);
    git_ok(&repo, &["commit", "-q", "-m", "allowed fixture"]);
    assert_eq!(git_ok(&repo, &["rev-list", "--count", "HEAD"]).trim(), "3");
}

#[cfg(unix)]
#[test]
fn issue_6_install_chains_an_existing_hook_and_uninstall_restores_it() {
    use std::os::unix::fs::PermissionsExt;
    let (t, repo) = new_repo();
    let hooks = repo.join(".git/hooks");
    fs::create_dir_all(&hooks).unwrap();
    let marker = t.path().join("old-hook-ran");
    let old = format!("#!/bin/sh\necho ran > '{}'\nexit 0\n", marker.display());
    fs::write(hooks.join("pre-commit"), &old).unwrap();
    fs::set_permissions(hooks.join("pre-commit"), fs::Permissions::from_mode(0o755)).unwrap();
    let o = install(&repo, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(hooks.join("pre-commit.pre-leaksweep")).unwrap(),
        old
    );
    // Installing twice does not chain leaksweep to itself.
    assert!(install(&repo, &[]).status.success());
    assert_eq!(
        fs::read_to_string(hooks.join("pre-commit.pre-leaksweep")).unwrap(),
        old
    );
    fs::write(repo.join("b.txt"), "fine\n").unwrap();
    git_ok(&repo, &["add", "b.txt"]);
    git_ok(&repo, &["commit", "-q", "-m", "b"]);
    assert!(marker.exists(), "the chained hook ran");
    // A failing chained hook blocks the commit even without secrets.
    fs::write(
        hooks.join("pre-commit.pre-leaksweep"),
        "#!/bin/sh\necho old hook says no >&2\nexit 3\n",
    )
    .unwrap();
    fs::write(repo.join("c.txt"), "fine\n").unwrap();
    git_ok(&repo, &["add", "c.txt"]);
    let o = git(&repo, &["commit", "-q", "-m", "c"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("old hook says no"));
    // Uninstall restores the previous hook.
    assert!(run(&repo, &["hook", "uninstall"]).status.success());
    let restored = fs::read_to_string(hooks.join("pre-commit")).unwrap();
    assert!(restored.contains("old hook says no"));
    assert!(!hooks.join("pre-commit.pre-leaksweep").exists());
}

#[test]
fn issue_6_install_honours_core_hooks_path() {
    let (_t, repo) = new_repo();
    git_ok(&repo, &["config", "core.hooksPath", ".githooks"]);
    assert!(install(&repo, &[]).status.success());
    assert!(repo.join(".githooks/pre-commit").exists());
    let gh = github_pat(63);
    fs::write(repo.join("x.env"), format!("GH={gh}\n")).unwrap();
    git_ok(&repo, &["add", "x.env"]);
    assert!(!git(&repo, &["commit", "-q", "-m", "x"]).status.success());
}

#[test]
fn issue_6_pre_push_blocks_a_secret_added_then_removed() {
    let (t, repo) = new_repo();
    let remote = t.path().join("remote.git");
    git_ok(
        t.path(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    git_ok(
        &repo,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    git_ok(&repo, &["push", "-q", "origin", "main"]);
    assert!(install(&repo, &["--pre-push"]).status.success());
    let (url, _pw) = postgres_url(64);
    fs::write(repo.join("db.env"), format!("DATABASE_URL={url}\n")).unwrap();
    git_ok(&repo, &["add", "db.env"]);
    git_ok(&repo, &["commit", "-q", "-m", "add db"]);
    fs::remove_file(repo.join("db.env")).unwrap();
    git_ok(&repo, &["commit", "-q", "-am", "remove db"]);
    let o = git(&repo, &["push", "-q", "origin", "main"]);
    assert!(!o.status.success(), "push should be blocked");
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        all.contains("push blocked") && all.contains("db.env"),
        "{all}"
    );
    // A clean follow-up on a new branch from the remote's state pushes fine.
    git_ok(&repo, &["checkout", "-q", "-b", "clean", "origin/main"]);
    fs::write(repo.join("ok.txt"), "ok\n").unwrap();
    git_ok(&repo, &["add", "ok.txt"]);
    git_ok(&repo, &["commit", "-q", "-m", "ok"]);
    let o = git(&repo, &["push", "-q", "origin", "clean"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn issue_6_ci_gate_scans_only_the_new_commits() {
    let (_t, repo) = new_repo();
    // An old secret, already on the target branch.
    let old = github_pat(65);
    fs::write(repo.join("old.py"), format!("T = \"{old}\"\n")).unwrap();
    git_ok(&repo, &["add", "."]);
    git_ok(&repo, &["commit", "-q", "-m", "old secret"]);
    let base = git_ok(&repo, &["rev-parse", "HEAD"]).trim().to_string();
    git_ok(&repo, &["checkout", "-q", "-b", "feature"]);
    fs::write(repo.join("new.txt"), "clean change\n").unwrap();
    git_ok(&repo, &["add", "."]);
    git_ok(&repo, &["commit", "-q", "-m", "clean change"]);
    let gate = Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/ci-gate.sh");
    let sarif = repo.join("out.sarif");
    let run_gate = |envs: &[(&str, &str)]| {
        let mut c = Command::new("sh");
        c.arg(&gate)
            .current_dir(&repo)
            .env("LEAKSWEEP", env!("CARGO_BIN_EXE_leaksweep"))
            .env("LEAKSWEEP_SARIF", &sarif)
            .env_remove("GITHUB_BASE_REF")
            .env_remove("CI_COMMIT_BEFORE_SHA")
            .env_remove("CI_MERGE_REQUEST_DIFF_BASE_SHA");
        for (k, v) in envs {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    // GitLab merge request: only the feature commit is scanned; the old secret is not new.
    let o = run_gate(&[("CI_MERGE_REQUEST_DIFF_BASE_SHA", &base)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 0);
    // A new secret on the branch fails the gate, with SARIF for the UI.
    let new = github_pat(66);
    fs::write(repo.join("new.py"), format!("T = \"{new}\"\n")).unwrap();
    git_ok(&repo, &["add", "."]);
    git_ok(&repo, &["commit", "-q", "-m", "new secret"]);
    let o = run_gate(&[("LEAKSWEEP_BASE", &base)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&sarif).unwrap()).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "new.py"
    );
    assert!(!stderr(&o).contains(&new) && !fs::read_to_string(&sarif).unwrap().contains(&new));
}

/// The pre-commit framework installs leaksweep from this repository (`language: rust`) and
/// runs the hook. Needs `pre-commit` on PATH: `.ci/run` installs it.
#[test]
#[ignore = "needs the pre-commit framework (see TESTING.md)"]
fn issue_6_pre_commit_framework_runs_the_hook() {
    let have = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        have,
        "pre-commit is not on PATH: `pip install pre-commit` (or `bash .ci/run`, which installs it)"
    );
    let (t, repo) = new_repo();
    let gh = github_pat(67);
    fs::write(repo.join("leak.py"), format!("T = \"{gh}\"\n")).unwrap();
    git_ok(&repo, &["add", "leak.py"]);
    let manifest = env!("CARGO_MANIFEST_DIR");
    // Reuse the release build's compiled dependencies (`.ci/run` builds it before the tests)
    // so the framework's `cargo install` only compiles leaksweep itself.
    let target = Path::new(manifest).join("target");
    // The framework gets a HOME of its own; cargo keeps its home, so that its registry paths,
    // and with them the compiled dependencies in `target`, stay the same.
    let cargo_home = std::env::var_os("CARGO_HOME").map_or_else(
        || Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        std::path::PathBuf::from,
    );
    let mut pre_commit = Command::new("pre-commit");
    // cargo runs this test with its package variables set (CARGO_MANIFEST_DIR,
    // CARGO_PKG_NAME, ...). ring's build script declares them `rerun-if-env-changed`, so the
    // framework's cargo, inheriting them, would rebuild ring and rustls in `target`, and
    // the next plain `cargo build --release` (without them) would rebuild both again.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("CARGO_PKG_")
            || k.starts_with("CARGO_BIN_")
            || k.starts_with("CARGO_MANIFEST_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "OUT_DIR",
            ]
            .contains(&k.as_ref())
        {
            pre_commit.env_remove(k.as_ref());
        }
    }
    let o = pre_commit
        .current_dir(&repo)
        .args(["try-repo", manifest, "leaksweep", "--verbose"])
        .env("PRE_COMMIT_HOME", t.path().join("pc-home"))
        .env("CARGO_TARGET_DIR", &target)
        .env("CARGO_HOME", &cargo_home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", t.path())
        .output()
        .unwrap();
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        !o.status.success(),
        "the framework should report the secret: {all}"
    );
    assert!(all.contains("leak.py") && all.contains("github"), "{all}");
    assert!(!all.contains(&gh), "redacted: {all}");
}
