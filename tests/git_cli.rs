//! End-to-end tests of `leaksweep git` on real repositories built with the git CLI.

mod common;

use std::cell::Cell;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use serde_json::Value;
use tempfile::TempDir;

/// A repository in a temporary directory, driven with the git CLI under a fixed identity
/// and clock, with no system or user configuration.
struct Repo {
    home: TempDir,
    dir: PathBuf,
    clock: Cell<i64>,
}

fn git_env(cmd: &mut Command, home: &Path) {
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", home)
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.invalid")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.invalid")
        .env("GIT_TERMINAL_PROMPT", "0");
}

impl Repo {
    fn new() -> Repo {
        let home = TempDir::new().unwrap();
        let dir = home.path().join("repo");
        fs::create_dir(&dir).unwrap();
        let r = Repo {
            home,
            dir,
            clock: Cell::new(1_600_000_000),
        };
        r.git(&["init", "-q", "-b", "main", "."]);
        r
    }

    fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        git_env(&mut cmd, self.home.path());
        let t = self.clock.get();
        let date = format!("@{t} +0200");
        cmd.env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .args([
                "-c",
                "user.name=Ada Lovelace",
                "-c",
                "user.email=ada@example.invalid",
            ])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "protocol.file.allow=always",
            ])
            .args(args)
            .current_dir(dir);
        let out = cmd.output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.dir, args)
    }

    fn write(&self, path: &str, text: &str) {
        let p = self.dir.join(path);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(p, text).unwrap();
    }

    /// Stages everything and commits; returns the commit id.
    fn commit(&self, msg: &str) -> String {
        self.clock.set(self.clock.get() + 3600);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn leaksweep_in(&self, dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = bin();
        git_env(&mut cmd, self.home.path());
        cmd.current_dir(dir).args(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run leaksweep");
        if let Some(mut si) = child.stdin.take() {
            if let Some(text) = stdin {
                si.write_all(text.as_bytes()).unwrap();
            }
        }
        child.wait_with_output().unwrap()
    }

    /// `leaksweep git --format json ARGS` in the repository; returns (report, output).
    fn sweep(&self, args: &[&str]) -> (Value, Output) {
        self.sweep_in(&self.dir, args, None)
    }

    fn sweep_in(&self, dir: &Path, args: &[&str], stdin: Option<&str>) -> (Value, Output) {
        let mut all = vec!["git", "--format", "json"];
        all.extend_from_slice(args);
        let out = self.leaksweep_in(dir, &all, stdin);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}); stderr: {}; stdout: {}",
                stderr(&out),
                stdout(&out)
            )
        });
        (v, out)
    }
}

fn findings(v: &Value) -> Vec<Value> {
    v["findings"].as_array().cloned().unwrap_or_default()
}

/// The findings whose rule is the GitHub PAT rule, as (path, commit, line, present_at_head).
fn gh(v: &Value) -> Vec<(String, String, u64, bool)> {
    let mut out: Vec<(String, String, u64, bool)> = findings(v)
        .iter()
        .filter(|f| f["rule_id"].as_str().unwrap().starts_with("github"))
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["commit"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap(),
                f["present_at_head"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    out.sort();
    out
}

fn assert_no_secret(out: &Output, secrets: &[&str]) {
    let all = format!("{}{}", stdout(out), stderr(out));
    for s in secrets {
        assert!(!all.contains(s), "a secret leaked into the output");
    }
}

#[test]
fn secret_added_then_removed_is_history_only() {
    let r = Repo::new();
    let tok = github_pat(11);
    r.write("app/config.py", &format!("import os\nTOKEN = \"{tok}\"\n"));
    let c1 = r.commit("Add config");
    r.write("app/config.py", "import os\nTOKEN = os.environ['TOKEN']\n");
    r.commit("Read the token from the environment");

    let (v, out) = r.sweep(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(gh(&v), vec![("app/config.py".into(), c1.clone(), 2, false)]);
    let f = findings(&v)
        .into_iter()
        .find(|f| f["commit"] == c1.as_str())
        .unwrap();
    assert_eq!(f["author"], "Ada Lovelace");
    assert_eq!(f["email"], "ada@example.invalid");
    assert_eq!(f["commit_summary"], "Add config");
    assert_eq!(f["date"], "2020-09-13T15:26:40+02:00");
    assert_eq!(f["column"], 10);
    assert_eq!(v["summary"]["commits_walked"], 2);
    assert_eq!(v["summary"]["blobs_scanned"], 2);
    assert_eq!(v["summary"]["shallow"], false);
    assert_no_secret(&out, &[&tok]);
    // No progress bar when stderr is not a terminal.
    assert!(!stderr(&out).contains('\r'), "{}", stderr(&out));
    for format in ["text", "jsonl", "sarif"] {
        let out = r.leaksweep_in(&r.dir, &["git", "--format", format], None);
        assert_eq!(out.status.code(), Some(1));
        assert_no_secret(&out, &[&tok]);
    }
    let out = r.leaksweep_in(&r.dir, &["git", "--format", "text"], None);
    assert!(stdout(&out).contains("history only"), "{}", stdout(&out));
}

#[test]
fn secret_still_in_the_tree_is_present_at_head() {
    let r = Repo::new();
    let tok = github_pat(12);
    r.write("README.md", "hello\n");
    r.commit("Initial");
    r.write("deploy/env.sh", &format!("export GH_TOKEN={tok}\n"));
    let c2 = r.commit("Deploy script");
    r.write("README.md", "hello again\n");
    r.commit("Docs");
    let (v, _) = r.sweep(&[]);
    assert_eq!(gh(&v), vec![("deploy/env.sh".into(), c2, 1, true)]);
}

#[test]
fn secret_in_a_file_later_deleted() {
    let r = Repo::new();
    let tok = github_pat(13);
    r.write("keep.txt", "x\n");
    r.write("old/creds.txt", &format!("github: {tok}\n"));
    let c1 = r.commit("Add creds");
    r.git(&["rm", "-q", "-r", "old"]);
    r.commit("Remove creds");
    let (v, _) = r.sweep(&[]);
    assert_eq!(gh(&v), vec![("old/creds.txt".into(), c1, 1, false)]);
}

#[test]
fn secret_on_a_branch_never_merged() {
    let r = Repo::new();
    let tok = github_pat(14);
    r.write("a.txt", "a\n");
    r.commit("Initial");
    r.git(&["checkout", "-q", "-b", "experiment"]);
    r.write("exp.py", &format!("T = '{tok}'\n"));
    let c = r.commit("Try something");
    r.git(&["checkout", "-q", "main"]);
    r.write("a.txt", "b\n");
    r.commit("Main moves on");
    let (v, _) = r.sweep(&[]);
    assert_eq!(gh(&v), vec![("exp.py".into(), c, 1, false)]);
}

#[test]
fn merges_are_attributed_to_the_branch_commit_or_to_the_merge_itself() {
    let r = Repo::new();
    let (t1, t2) = (github_pat(15), github_pat(16));
    r.write("a.txt", "a\n");
    r.commit("Initial");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("feature.py", &format!("T = '{t1}'\n"));
    let on_branch = r.commit("Feature with a token");
    r.git(&["checkout", "-q", "main"]);
    r.write("a.txt", "main\n");
    r.commit("Main work");
    // The merge brings t1 in (introduced on the branch) and adds t2 itself (an "evil"
    // merge: content that neither parent had).
    r.clock.set(r.clock.get() + 3600);
    r.git(&["merge", "-q", "--no-ff", "--no-commit", "feature"]);
    r.write("merge-note.txt", &format!("token {t2}\n"));
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "Merge feature"]);
    let merge = r.git(&["rev-parse", "HEAD"]);
    let (v, _) = r.sweep(&[]);
    assert_eq!(
        gh(&v),
        vec![
            ("feature.py".into(), on_branch, 1, true),
            ("merge-note.txt".into(), merge, 1, true),
        ]
    );
}

#[test]
fn renamed_file_keeps_its_fingerprint_and_first_commit() {
    let r = Repo::new();
    let tok = github_pat(17);
    r.write("old_name.py", &format!("\nT = '{tok}'\n"));
    let c1 = r.commit("Add");
    r.git(&["mv", "old_name.py", "new_name.py"]);
    let c2 = r.commit("Rename");
    let (v, _) = r.sweep(&[]);
    // The blob is scanned once; each path names the commit that put the secret there.
    assert_eq!(v["summary"]["blobs_scanned"], 1);
    assert_eq!(
        gh(&v),
        vec![
            ("new_name.py".into(), c2, 2, true),
            ("old_name.py".into(), c1, 2, true),
        ]
    );
    let fps: Vec<Value> = findings(&v)
        .iter()
        .map(|f| f["fingerprint"].clone())
        .collect();
    assert!(fps.windows(2).all(|w| w[0] == w[1]), "{fps:?}");
    assert_eq!(v["summary"]["unique_secrets"], 1);
}

#[test]
fn same_secret_committed_twice_has_one_fingerprint_and_the_first_commit() {
    let r = Repo::new();
    let tok = github_pat(18);
    r.write("a.py", &format!("T = '{tok}'\n"));
    let c1 = r.commit("First");
    r.write("a.py", "T = None\n");
    r.commit("Remove");
    r.write("a.py", &format!("# again\nT = '{tok}'\n"));
    let c3 = r.commit("Again");
    r.write("a.py", &format!("# again, edited\nT = '{tok}'\nU = 1\n"));
    r.commit("Edit around it");
    r.write("b.py", &format!("T = '{tok}'\n"));
    let c5 = r.commit("Copy");
    let (v, _) = r.sweep(&[]);
    assert_eq!(
        gh(&v),
        vec![
            ("a.py".into(), c1.clone(), 1, true),
            ("b.py".into(), c5.clone(), 1, true),
        ]
    );
    assert_eq!(v["summary"]["unique_secrets"], 1);

    let (v, _) = r.sweep(&["--all-occurrences"]);
    let a = findings(&v)
        .into_iter()
        .find(|f| f["path"] == "a.py")
        .unwrap();
    let occ: Vec<(String, u64)> = a["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert_eq!(o["path"], "a.py");
            (
                o["commit"].as_str().unwrap().to_string(),
                o["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(occ.len(), 3, "{occ:?}");
    assert!(occ.contains(&(c1, 1)) && occ.contains(&(c3, 2)), "{occ:?}");
}

#[test]
fn ranges_include_or_exclude_the_introducing_commit() {
    let r = Repo::new();
    let (s1, s2) = (github_pat(19), github_pat(20));
    r.write("a.py", "x = 1\n");
    let c0 = r.commit("Base");
    r.write("a.py", &format!("x = 1\nT = '{s1}'\n"));
    let c1 = r.commit("Add s1");
    r.write("a.py", &format!("x = 2\nT = '{s1}'\n"));
    r.write("b.py", &format!("U = '{s2}'\n"));
    let c2 = r.commit("Edit a, add s2");

    let (v, out) = r.sweep(&["--range", &format!("{c0}..HEAD")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        gh(&v),
        vec![
            ("a.py".into(), c1.clone(), 2, true),
            ("b.py".into(), c2.clone(), 1, true)
        ]
    );
    // s1 was in a.py before the range: editing a.py does not report it again.
    let (v, _) = r.sweep(&["--range", &format!("{c1}..{c2}")]);
    assert_eq!(gh(&v), vec![("b.py".into(), c2.clone(), 1, true)]);
    assert_eq!(v["summary"]["commits_walked"], 1);
    let (v, _) = r.sweep(&["--since", &c1]);
    assert_eq!(gh(&v), vec![("b.py".into(), c2.clone(), 1, true)]);
    let (v, out) = r.sweep(&["--since", "HEAD"]);
    assert!(gh(&v).is_empty());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // The CI case: a feature branch checked against the target branch's merge base.
    r.git(&["checkout", "-q", "-b", "feature", &c1]);
    let s3 = github_pat(21);
    r.write("c.py", &format!("V = '{s3}'\n"));
    let c3 = r.commit("Feature");
    for spec in ["main...feature", "main..feature"] {
        let (v, _) = r.sweep(&["--range", spec]);
        assert_eq!(gh(&v), vec![("c.py".into(), c3.clone(), 1, true)], "{spec}");
    }
    let out = r.leaksweep_in(&r.dir, &["git", "--range", "nope..HEAD"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));
}

#[test]
fn pre_push_scans_the_pushed_commits() {
    let r = Repo::new();
    let (s1, s2) = (github_pat(22), github_pat(23));
    r.write("a.py", &format!("T = '{s1}'\n"));
    let c1 = r.commit("Already pushed");
    r.write("b.py", &format!("U = '{s2}'\n"));
    let c2 = r.commit("New");
    let zero = "0".repeat(40);
    let line = format!("refs/heads/main {c2} refs/heads/main {c1}\n");
    let (v, out) = r.sweep_in(&r.dir, &["--pre-push"], Some(&line));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(gh(&v), vec![("b.py".into(), c2.clone(), 1, true)]);
    // A new branch: everything not on a remote-tracking ref (there are none here).
    let line = format!("refs/heads/main {c2} refs/heads/new {zero}\n");
    let (v, _) = r.sweep_in(&r.dir, &["--pre-push"], Some(&line));
    assert_eq!(gh(&v).len(), 2);
    // A deletion pushes nothing.
    let line = format!("(delete) {zero} refs/heads/old {c1}\n");
    let (v, out) = r.sweep_in(&r.dir, &["--pre-push"], Some(&line));
    assert!(gh(&v).is_empty());
    assert_eq!(out.status.code(), Some(0));
    let out = r.leaksweep_in(&r.dir, &["git", "--pre-push"], Some("garbage\n"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn staged_reports_only_what_the_index_adds() {
    let r = Repo::new();
    let (s1, s2, s3) = (github_pat(24), github_pat(25), github_pat(26));
    // No commits yet: everything staged is new.
    r.write("a.py", &format!("T = '{s1}'\n"));
    r.git(&["add", "a.py"]);
    let (v, out) = r.sweep(&["--staged"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(gh(&v), vec![("a.py".into(), String::new(), 1, false)]);
    assert_eq!(v["summary"]["head"], "unborn");
    r.commit("Accepted");

    // Touching the file without adding a secret: the old secret does not block.
    r.write("a.py", &format!("# comment\nT = '{s1}'\nx = 1\n"));
    r.git(&["add", "a.py"]);
    let (v, out) = r.sweep(&["--staged"]);
    assert!(gh(&v).is_empty(), "{:?}", gh(&v));
    assert_eq!(out.status.code(), Some(0));

    // A new line with a new secret does; a staged deletion of a secret does not.
    r.write("a.py", &format!("T = '{s1}'\nU = '{s2}'\n"));
    r.git(&["add", "a.py"]);
    let (v, _) = r.sweep(&["--staged"]);
    assert_eq!(gh(&v), vec![("a.py".into(), String::new(), 2, false)]);
    r.commit("Second");
    r.write("a.py", "T = None\n");
    r.git(&["add", "a.py"]);
    let (v, out) = r.sweep(&["--staged"]);
    assert!(gh(&v).is_empty());
    assert_eq!(out.status.code(), Some(0));

    // The work tree is never read: an unstaged secret is not reported.
    r.write("b.py", &format!("V = '{s3}'\n"));
    let (v, _) = r.sweep(&["--staged"]);
    assert!(gh(&v).is_empty());
    // A rename moves an accepted secret without adding it.
    r.git(&["checkout", "-q", "--", "a.py"]);
    r.git(&["mv", "a.py", "moved.py"]);
    let (v, _) = r.sweep(&["--staged"]);
    assert!(gh(&v).is_empty(), "{:?}", gh(&v));
}

#[test]
fn shallow_clone_scans_what_exists_and_says_so() {
    let r = Repo::new();
    let (old, kept) = (github_pat(27), github_pat(28));
    r.write("old.py", &format!("T = '{old}'\n"));
    r.commit("Old");
    r.git(&["rm", "-q", "old.py"]);
    r.commit("Remove old");
    r.write("kept.py", &format!("T = '{kept}'\n"));
    let c3 = r.commit("Kept");
    let url = format!("file://{}", r.dir.display());
    let clone = r.home.path().join("shallow");
    r.git_in(
        r.home.path(),
        &["clone", "-q", "--depth", "1", &url, clone.to_str().unwrap()],
    );
    let (v, out) = r.sweep_in(&clone, &[], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(v["summary"]["shallow"], true);
    assert!(stderr(&out).contains("shallow"), "{}", stderr(&out));
    assert_eq!(gh(&v), vec![("kept.py".into(), c3, 1, true)]);
    assert_eq!(v["summary"]["errors"], 0);
}

fn loose_object_path(r: &Repo, oid: &str) -> PathBuf {
    r.dir.join(".git/objects").join(&oid[..2]).join(&oid[2..])
}

#[test]
fn corrupt_and_missing_objects_are_named_skipped_and_fail_unless_keep_going() {
    let r = Repo::new();
    let (good, bad) = (github_pat(29), github_pat(30));
    r.write("good.py", &format!("T = '{good}'\n"));
    r.write("bad.py", &format!("T = '{bad}'\n"));
    r.write("gone.py", "nothing here\n");
    r.commit("Three files");
    let bad_blob = r.git(&["rev-parse", "HEAD:bad.py"]);
    let gone_blob = r.git(&["rev-parse", "HEAD:gone.py"]);
    let p = loose_object_path(&r, &bad_blob);
    let mut perms = fs::metadata(&p).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&p, perms).unwrap();
    fs::write(&p, b"\x78\x9c this is not a zlib stream").unwrap();
    fs::remove_file(loose_object_path(&r, &gone_blob)).unwrap();

    let (v, out) = r.sweep(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&bad_blob), "{err}");
    assert!(err.contains(&gone_blob), "{err}");
    assert!(err.contains("bad.py") && err.contains("missing"), "{err}");
    // The readable blob is still scanned and reported.
    assert_eq!(gh(&v).len(), 1);
    assert_eq!(gh(&v)[0].0, "good.py");
    assert_eq!(v["summary"]["errors"], 2);

    let (v, out) = r.sweep(&["--keep-going"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(v["summary"]["errors"], 0);
    assert_eq!(v["summary"]["blobs_skipped"], 2);
    let skipped: Vec<String> = v["summary"]["skipped_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap().to_string())
        .collect();
    assert!(
        skipped.iter().any(|s| s.contains(&gone_blob)),
        "{skipped:?}"
    );
}

#[test]
fn corrupt_commit_is_skipped_and_the_rest_is_scanned() {
    let r = Repo::new();
    let tok = github_pat(31);
    r.write("a.py", &format!("T = '{tok}'\n"));
    r.commit("One");
    r.write("b.txt", "b\n");
    r.commit("Two");
    r.git(&["checkout", "-q", "-b", "side", "HEAD~1"]);
    r.write("c.txt", "c\n");
    let side = r.commit("Side");
    r.git(&["checkout", "-q", "main"]);
    fs::remove_file(loose_object_path(&r, &side)).unwrap();
    let (v, out) = r.sweep(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&side), "{}", stderr(&out));
    assert_eq!(gh(&v).len(), 1);
}

#[test]
fn bare_repository_and_subdirectory() {
    let r = Repo::new();
    let tok = github_pat(32);
    r.write("src/a.py", &format!("T = '{tok}'\n"));
    let c1 = r.commit("Add");
    let bare = r.home.path().join("bare.git");
    r.git_in(
        r.home.path(),
        &[
            "clone",
            "-q",
            "--bare",
            r.dir.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let (v, out) = r.sweep_in(r.home.path(), &[bare.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(gh(&v), vec![("src/a.py".into(), c1.clone(), 1, true)]);
    let (v, _) = r.sweep_in(&r.dir.join("src"), &[], None);
    assert_eq!(gh(&v), vec![("src/a.py".into(), c1, 1, true)]);
}

#[test]
fn not_a_repository_and_unborn_head_are_clear() {
    let dir = TempDir::new().unwrap();
    let out = run(dir.path(), &["git", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a git repository"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["git", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no/such/dir"), "{}", stderr(&out));

    let r = Repo::new();
    let (v, out) = r.sweep(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(v["summary"]["commits_walked"], 0);
}

#[cfg(unix)]
#[test]
fn non_utf8_paths_and_messages_binary_huge_lfs_and_submodules() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let r = Repo::new();
    let tok = github_pat(33);
    fs::write(
        r.dir.join(OsStr::from_bytes(b"caf\xe9.py")),
        format!("T = '{tok}'\n"),
    )
    .unwrap();
    fs::write(r.dir.join("blob.bin"), b"\x00\x01\x02 binary").unwrap();
    fs::write(r.dir.join("big.txt"), "y".repeat(4096)).unwrap();
    r.write(
        "asset.psd.txt",
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
    );
    r.git(&["add", "-A"]);
    let fake_commit = "1234567890123456789012345678901234567890";
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{fake_commit},vendor/lib"),
    ]);
    fs::write(r.home.path().join("msg"), b"Caf\xe9 latin-1 message\n").unwrap();
    r.git(&[
        "commit",
        "-q",
        "-F",
        r.home.path().join("msg").to_str().unwrap(),
    ]);

    let (v, out) = r.sweep(&["--max-blob-size", "1K"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let f = &findings(&v)[0];
    assert_eq!(f["path"], "caf\u{FFFD}.py");
    assert!(f["commit_summary"].as_str().unwrap().starts_with("Caf"));
    let s = &v["summary"];
    assert_eq!(s["skipped"]["binary"], 1, "{s}");
    assert_eq!(s["skipped"]["too-large"], 1, "{s}");
    assert_eq!(s["lfs_pointers"], 1, "{s}");
    assert_eq!(s["submodules"], 1, "{s}");
    let err = stderr(&out);
    assert!(err.contains("submodule") && err.contains("LFS"), "{err}");
}

#[test]
fn corrupt_pack_names_the_damaged_objects_and_scans_the_rest() {
    let r = Repo::new();
    let tok = github_pat(34);
    r.write("a.py", &format!("T = '{tok}'\n"));
    // A large, poorly compressible file so that the middle of the pack is its data.
    let big: String = (0..6000u64).map(|i| random_alnum(i, 40) + "\n").collect();
    r.write("big.txt", &big);
    r.commit("Two files");
    r.git(&["gc", "-q", "--aggressive"]);
    let pack_dir = r.dir.join(".git/objects/pack");
    let pack = fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pack"))
        .unwrap();
    let mut perms = fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&pack, perms).unwrap();
    let mut bytes = fs::read(&pack).unwrap();
    let mid = bytes.len() / 2;
    for b in bytes.iter_mut().skip(mid).take(2000).step_by(7) {
        *b ^= 0x5a;
    }
    fs::write(&pack, bytes).unwrap();
    let (v, out) = r.sweep(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("corrupt object") && err.contains("big.txt"),
        "{err}"
    );
    assert_eq!(v["summary"]["skipped"]["corrupt"], 1, "{}", v["summary"]);
    // The undamaged blob is still scanned and reported.
    assert_eq!(gh(&v).len(), 1);
    let (_, out) = r.sweep(&["--keep-going"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn project_ignore_file_and_allowlists_apply_to_history() {
    let r = Repo::new();
    let (t1, t2) = (github_pat(35), github_pat(36));
    r.write("src/a.py", &format!("T = '{t1}'\n"));
    r.write("tests/fixtures/b.py", &format!("T = '{t2}'\n"));
    r.commit("Two tokens");
    let (v, _) = r.sweep(&[]);
    assert_eq!(gh(&v).len(), 2);
    let fp = findings(&v)
        .into_iter()
        .find(|f| f["path"] == "src/a.py")
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    // Untracked project files in the work tree: the accepted fingerprint and a path
    // allowlist. Paths are relative to the repository root, also from a subdirectory.
    r.write(".leaksweepignore", &format!("{fp}  # rotated\n"));
    r.write(
        ".leaksweep.toml",
        "version = 1\n\n[[allowlist]]\ndescription = \"fixtures\"\npaths = [\"tests/fixtures/\"]\n",
    );
    let (v, out) = r.sweep_in(&r.dir.join("src"), &[], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(gh(&v).is_empty(), "{:?}", gh(&v));
    assert_eq!(
        v["summary"]["suppressed"]["ignore-file"], 1,
        "{}",
        v["summary"]
    );
    assert_eq!(
        v["summary"]["suppressed"]["allowlist"], 1,
        "{}",
        v["summary"]
    );
}

/// Author, e-mail, summary and path of a commit are whatever its author wrote: ESC, OSC and
/// BEL bytes in them could retitle or clear a responder's terminal and hide lines. The text
/// report escapes them; JSON keeps them exact.
#[test]
fn hostile_commit_metadata_is_escaped_in_text_and_exact_in_json() {
    let r = Repo::new();
    let gh = github_pat(91);
    let path = "evil\x1b[2Jname\x07.py";
    r.write(path, &format!("T = \"{gh}\"\n"));
    r.git(&["add", "-A"]);
    let tree = r.git(&["write-tree"]);
    let author = "Eve\x1b]0;pwned\x07\u{9b}31m";
    let email = "eve\x1b[8m@example.invalid";
    let raw = format!(
        "tree {tree}\nauthor {author} <{email}> 1600000000 +0000\ncommitter {author} \
         <{email}> 1600000000 +0000\n\nfix\x1b[1A\x1b[2K: all good\n"
    );
    let id = git_in(
        &r.dir,
        &[
            "hash-object",
            "-w",
            "-t",
            "commit",
            "--literally",
            "--stdin",
        ],
        Some(raw.as_bytes()),
    );
    let id = String::from_utf8_lossy(&id.stdout).trim().to_string();
    r.git(&["update-ref", "refs/heads/main", &id]);

    let out = r.leaksweep_in(&r.dir, &["git", "--color", "always"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for raw in [
        "\x1b]", "\x07", "\u{9b}", "\x1b[2J", "\x1b[1A", "\x1b[2K", "\x1b[8m",
    ] {
        assert!(
            !text.contains(raw),
            "{raw:?} reached the terminal: {text:?}"
        );
    }
    for shown in [
        "evil\\x1b[2Jname\\x07.py",
        "Eve\\x1b]0;pwned\\x07\\u{9b}31m <eve\\x1b[8m@example.invalid>",
        "fix\\x1b[1A\\x1b[2K: all good",
    ] {
        assert!(text.contains(shown), "{shown:?} not in {text:?}");
    }
    assert!(!stderr(&out).contains('\x1b'), "{:?}", stderr(&out));

    let (v, _) = r.sweep(&[]);
    let f = &findings(&v)[0];
    assert_eq!(f["author"], author);
    assert_eq!(f["email"], email);
    assert_eq!(f["path"], path);
    assert_eq!(f["commit_summary"], "fix\x1b[1A\x1b[2K: all good");
}
