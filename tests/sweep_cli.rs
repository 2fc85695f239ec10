//! End-to-end tests of sweeps over many repositories (`leaksweep git R1 R2 ...`,
//! `--repos-from`, `--clone-dir`, `--shard`, `--checkpoint`) and of `leaksweep merge`, on
//! real repositories built with the git CLI.

mod common;
#[path = "rotate_cloud/harness.rs"]
mod harness;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tempfile::TempDir;

/// Creates a repository `name` under `root` with one commit holding `files`.
fn repo(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = root.join(name);
    fs::create_dir_all(&dir).unwrap();
    git_in(&dir, &["init", "-q", "-b", "main"], None);
    commit(&dir, files, "add config");
    dir
}

fn commit(dir: &Path, files: &[(&str, &str)], msg: &str) {
    for (path, text) in files {
        let p = dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    git_in(dir, &["add", "-A"], None);
    git_in(dir, &["commit", "-q", "-m", msg], None);
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)))
}

/// (repository, path, fingerprint, commit) of every finding of a JSON report.
fn places(v: &Value) -> BTreeSet<(String, String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["repository"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["fingerprint"].as_str().unwrap().to_string(),
                f["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn assert_no_secret(out: &std::process::Output, secrets: &[&str]) {
    for s in secrets {
        assert!(!stdout(out).contains(s), "secret in stdout");
        assert!(!stderr(out).contains(s), "secret in stderr");
    }
}

#[test]
fn one_secret_in_many_repositories_has_one_fingerprint_and_a_bad_repository_fails_the_sweep() {
    let root = TempDir::new().unwrap();
    let shared = github_pat(1);
    let own = github_pat(2);
    repo(
        root.path(),
        "a",
        &[("docs/setup.md", &format!("token: {shared}\n"))],
    );
    repo(
        root.path(),
        "b",
        &[
            (
                "site/search_index.json",
                &format!("{{\"t\": \"{shared}\"}}\n"),
            ),
            ("ci.env", &format!("GH={own}\n")),
        ],
    );
    fs::create_dir(root.path().join("not-a-repo")).unwrap();
    let out = run(root.path(), &["git", "a", "b", "not-a-repo", "-f", "json"]);
    // Findings elsewhere, but a repository that could not be swept: not clean, exit 2.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let v = json(&out);
    let got: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["repository"].as_str().unwrap().into(),
                f["path"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a".to_string(), "docs/setup.md".to_string()),
            ("b".into(), "ci.env".into()),
            ("b".into(), "site/search_index.json".into()),
        ]
    );
    let fp = |i: usize| {
        v["findings"][i]["fingerprint"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(fp(0), fp(2));
    assert_ne!(fp(0), fp(1));
    let s = &v["summary"];
    assert_eq!(s["repositories"], 3);
    assert_eq!(s["repositories_scanned"], 2);
    assert_eq!(s["repositories_failed"], 1);
    assert_eq!(s["failed_repositories"][0], "not-a-repo");
    assert_eq!(s["unique_secrets"], 2);
    assert!(
        stderr(&out).contains("repository not-a-repo: "),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("not a git repository"),
        "{}",
        stderr(&out)
    );
    assert_no_secret(&out, &[&shared, &own]);

    // Without the bad one: findings, exit 1; the text report shows the shared token once.
    let out = run(
        root.path(),
        &["git", "a", "b", "-f", "text", "--color", "never"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("(1 secret, 2 places)"), "{text}");
    assert!(text.contains("  a: docs/setup.md:1:8\n"), "{text}");
    assert!(text.contains("  b: site/search_index.json:1:8\n"), "{text}");
    assert_eq!(text.matches(&fp(0)).count(), 1, "{text}");
    assert_no_secret(&out, &[&shared, &own]);

    // --repos-from on stdin, with comments and blank lines: the same sweep.
    let mut cmd = bin();
    cmd.current_dir(root.path())
        .args(["git", "--repos-from", "-", "-f", "json"]);
    let out = output_with_stdin(&mut cmd, b"# the org\n\n  a\n# b is next\nb\n".to_vec());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json(&out)["summary"]["repositories"], 2);
    assert_eq!(json(&out)["findings"].as_array().unwrap().len(), 3);
    // A list that cannot be read is an error naming it.
    let out = run(root.path(), &["git", "--repos-from", "missing.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.txt: cannot read the repository list"));
}

#[test]
fn urls_are_cloned_bare_once_and_fetched_on_the_next_run() {
    let root = TempDir::new().unwrap();
    let first = aws_key_id(3);
    let later = github_pat(4);
    let origin = repo(
        root.path(),
        "origin",
        &[("a.env", &format!("AWS_KEY={first}\n"))],
    );
    let url = format!("file://{}", origin.display());
    let args = ["git", &url, "--clone-dir", "mirrors", "-f", "json"];
    let out = run(root.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["findings"][0]["repository"], url.as_str());
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    let mirrors: Vec<_> = fs::read_dir(root.path().join("mirrors")).unwrap().collect();
    assert_eq!(mirrors.len(), 1);
    let mirror = mirrors[0].as_ref().unwrap().path();
    assert!(
        mirror.join("HEAD").is_file() && !mirror.join(".git").exists(),
        "bare"
    );

    commit(&origin, &[("b.env", &format!("GH={later}\n"))], "add b");
    let out = run(root.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["findings"].as_array().unwrap().len(), 2, "fetched: {v}");
    assert_eq!(
        fs::read_dir(root.path().join("mirrors")).unwrap().count(),
        1
    );
    assert_no_secret(&out, &[&first, &later]);

    // A URL that cannot be cloned is named and skipped; a URL needs --clone-dir.
    let gone = format!("file://{}/nowhere", root.path().display());
    let out = run(
        root.path(),
        &["git", &url, &gone, "--clone-dir", "mirrors", "-f", "json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        json(&out)["summary"]["failed_repositories"][0],
        gone.as_str()
    );
    assert!(
        stderr(&out).contains("git clone failed"),
        "{}",
        stderr(&out)
    );
    let out = run(root.path(), &["git", &url]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("needs --clone-dir"),
        "{}",
        stderr(&out)
    );
    // A password in a URL would show in the process list: refused, not passed to git.
    let out = run(
        root.path(),
        &[
            "git",
            "https://bob:s3cretpw@127.0.0.1:9/x.git",
            "--clone-dir",
            "m2",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("credential helper"),
        "{}",
        stderr(&out)
    );
}

/// Twelve repositories, some sharing secrets.
fn org(root: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..12u64 {
        let name = format!("org/repo-{i:02}");
        repo(
            root,
            &name,
            &[
                (
                    "config/app.env",
                    &format!("GH_TOKEN={}\n", github_pat(100 + i)),
                ),
                ("shared.env", &format!("AWS_KEY={}\n", aws_key_id(i % 3))),
            ],
        );
        names.push(name);
    }
    names
}

#[test]
fn shards_merged_equal_one_run_in_every_format() {
    let root = TempDir::new().unwrap();
    let names = org(root.path());
    let mut list = names.join("\n");
    list.push('\n');
    fs::write(root.path().join("repos.txt"), &list).unwrap();
    // The order of the list does not change the shares.
    let mut reversed: Vec<&String> = names.iter().collect();
    reversed.reverse();
    let reversed: Vec<&str> = reversed.iter().map(|s| s.as_str()).collect();
    fs::write(root.path().join("reversed.txt"), reversed.join("\n")).unwrap();

    let out = run(
        root.path(),
        &["git", "--repos-from", "repos.txt", "-f", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let whole = places(&json(&out));
    assert_eq!(whole.len(), 24);

    let n = 3;
    let formats = ["json", "jsonl", "sarif"];
    let mut reports = Vec::new();
    let mut union = BTreeSet::new();
    let children: Vec<_> = (0..n)
        .map(|k| {
            let file = format!("shard-{k}.{}", formats[k]);
            let list = if k == 1 { "reversed.txt" } else { "repos.txt" };
            reports.push(file.clone());
            bin()
                .current_dir(root.path())
                .args(["git", "--repos-from", list, "--shard", &format!("{k}/{n}")])
                .args(["-f", formats[k], "-o", &file, "--exit-code", "0"])
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (k, c) in children.into_iter().enumerate() {
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "shard {k}: {}", stderr(&o));
        // The JSON shard holds only its own share.
        if k == 0 {
            let v: Value =
                serde_json::from_slice(&fs::read(root.path().join(&reports[0])).unwrap()).unwrap();
            let mine = places(&v);
            assert!(!mine.is_empty() && mine.len() < 24, "{}", mine.len());
            assert_eq!(v["summary"]["shard"], "0/3");
            union.extend(mine);
        }
    }
    let mut args = vec!["merge"];
    args.extend(reports.iter().map(String::as_str));
    let out = run(root.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let merged = json(&out);
    assert_eq!(places(&merged), whole);
    assert_eq!(merged["summary"]["findings"], 24);
    assert_eq!(merged["summary"]["unique_secrets"], 15);
    assert!(union.is_subset(&whole));
    // A shard report given twice does not double its places.
    let mut twice = args.clone();
    twice.push(&reports[0]);
    let out = run(root.path(), &twice);
    assert_eq!(places(&json(&out)), whole);
}

#[test]
fn a_sweep_killed_with_sigkill_resumes_from_its_checkpoint() {
    let root = TempDir::new().unwrap();
    let token = github_pat(7);
    let template = repo(
        root.path(),
        "template",
        &[("deploy/prod.env", &format!("T={token}\n"))],
    );
    let n = 150;
    let mut list = String::new();
    for i in 0..n {
        let name = format!("r{i:03}");
        copy_dir(&template, &root.path().join(&name));
        list.push_str(&name);
        list.push('\n');
    }
    fs::write(root.path().join("repos.txt"), &list).unwrap();
    let args = [
        "git",
        "--repos-from",
        "repos.txt",
        "--checkpoint",
        "sweep.checkpoint",
        "-f",
        "json",
        "-o",
        "report.json",
        "-j",
        "1",
    ];
    let cp = root.path().join("sweep.checkpoint");
    let mut child = bin()
        .current_dir(root.path())
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let lines = fs::read_to_string(&cp).map_or(0, |t| t.lines().count());
        if lines >= 4 {
            break;
        }
        assert!(Instant::now() < deadline, "no checkpoint progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the sweep ended before the kill"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let recorded = fs::read_to_string(&cp).unwrap().lines().count() - 1;
    assert!(
        recorded >= 3 && recorded < n,
        "{recorded} of {n} recorded at the kill"
    );
    let text = fs::read_to_string(&cp).unwrap();
    assert!(!text.contains(&token), "plaintext secret in the checkpoint");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&cp).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let out = run(root.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("taken from the checkpoint"),
        "{}",
        stderr(&out)
    );
    let resumed: Value =
        serde_json::from_slice(&fs::read(root.path().join("report.json")).unwrap()).unwrap();
    assert!(resumed["summary"]["repositories_resumed"].as_u64().unwrap() >= 3);
    // The same report as a sweep that was never interrupted.
    let out = run(
        root.path(),
        &["git", "--repos-from", "repos.txt", "-f", "json"],
    );
    let fresh = json(&out);
    assert_eq!(places(&resumed), places(&fresh));
    assert_eq!(places(&resumed).len(), n);
    for k in [
        "files_scanned",
        "bytes_scanned",
        "commits_walked",
        "findings",
    ] {
        assert_eq!(resumed["summary"][k], fresh["summary"][k], "{k}");
    }
    // A checkpoint of other settings is not resumed.
    let mut other = args.to_vec();
    other.push("--show-secrets");
    let out = run(root.path(), &other);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("belongs to another sweep"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sweep_flags_that_need_one_repository_are_refused() {
    let root = TempDir::new().unwrap();
    repo(root.path(), "a", &[("x.txt", "nothing\n")]);
    repo(root.path(), "b", &[("y.txt", "nothing\n")]);
    let out = run(root.path(), &["git", "a", "b", "--since", "HEAD~1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("take one repository"),
        "{}",
        stderr(&out)
    );
    let out = run(root.path(), &["git", "a", "--shard", "3/3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("K counts from 0"), "{}", stderr(&out));
    // Clean sweep: exit 0, and --progress plain writes plain lines only (no redraws).
    let out = run(root.path(), &["git", "a", "b", "--progress", "plain"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains('\r'));
}

/// Reads every YAML document of a shipped example.
fn yaml_docs(name: &str) -> Vec<serde_yaml_ng::Value> {
    use serde::Deserialize;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/sweeps")
        .join(name);
    let text = fs::read_to_string(&path).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde_yaml_ng::Value::deserialize(d).unwrap())
        .collect()
}

fn strings(v: &serde_yaml_ng::Value) -> Vec<String> {
    v.as_sequence()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// A shell whose PATH finds the leaksweep under test first.
fn sh(dir: &Path, script: &str, path_extra: &[&Path]) -> std::process::Output {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_leaksweep"));
    let mut path: Vec<PathBuf> = path_extra.iter().map(|p| p.to_path_buf()).collect();
    path.push(exe.parent().unwrap().to_path_buf());
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::process::Command::new("sh")
        .current_dir(dir)
        .env("PATH", std::env::join_paths(path).unwrap())
        .args(["-c", script])
        .output()
        .unwrap()
}

fn quote(args: &[String]) -> String {
    args.iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Kubernetes Indexed Job: every index reaches `--shard INDEX/completions`, and running
/// the pods' commands (as Kubernetes expands them) then the merge Job's gives one run's
/// findings.
#[test]
fn kubernetes_indexed_job_template_shards_by_completion_index() {
    let docs = yaml_docs("kubernetes-indexed-job.yaml");
    let job = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("Job"))
        .expect("a Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let n = spec["completions"].as_u64().unwrap();
    let pod = &spec["template"]["spec"];
    let args = strings(&pod["containers"][0]["args"]);
    let at = args.iter().position(|a| a == "--shard").expect("--shard");
    assert_eq!(args[at + 1], format!("$(JOB_COMPLETION_INDEX)/{n}"));
    assert_eq!(args[0], "git");
    let mkdir = strings(&pod["initContainers"][0]["command"]);

    let root = TempDir::new().unwrap();
    let names = org(root.path());
    let whole = places(&json(&run(
        root.path(),
        &[
            &["git", "-f", "json"],
            &names.iter().map(String::as_str).collect::<Vec<_>>()[..],
        ]
        .concat(),
    )));
    let work = root.path().join("work");
    let config = root.path().join("config");
    fs::create_dir_all(&config).unwrap();
    // Paths in the list are relative to where the pods run: use absolute ones here.
    let list: Vec<String> = names
        .iter()
        .map(|n| root.path().join(n).display().to_string())
        .collect();
    fs::write(config.join("repos.txt"), list.join("\n")).unwrap();
    let local = |s: &str| {
        s.replace("/work", &work.display().to_string())
            .replace("/config", &config.display().to_string())
    };
    let mkdir: Vec<String> = mkdir.iter().map(|a| local(a)).collect();
    assert!(sh(root.path(), &quote(&mkdir), &[]).status.success());
    for k in 0..n {
        let pod_args: Vec<String> = args
            .iter()
            .map(|a| local(&a.replace("$(JOB_COMPLETION_INDEX)", &k.to_string())))
            .collect();
        let o = sh(root.path(), &format!("leaksweep {}", quote(&pod_args)), &[]);
        assert_eq!(o.status.code(), Some(0), "pod {k}: {}", stderr(&o));
    }
    let merge = yaml_docs("kubernetes-merge-job.yaml");
    let c = &merge[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(strings(&c["command"]), ["sh", "-c"]);
    let script = local(&strings(&c["args"])[0]);
    let o = sh(root.path(), &script, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let merged: serde_json::Value =
        serde_json::from_slice(&fs::read(work.join("reports/merged.sarif")).unwrap()).unwrap();
    let results = merged["runs"][0]["results"].as_array().unwrap();
    let got: BTreeSet<(String, String)> = results
        .iter()
        .map(|r| {
            (
                r["properties"]["repository"].as_str().unwrap().to_string(),
                r["partialFingerprints"]["leaksweep/secret/v1"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = whole
        .iter()
        .map(|(r, _, fp, _)| (root.path().join(r).display().to_string(), fp.clone()))
        .collect();
    assert_eq!(got, want);
}

/// The GitHub Actions matrix: each matrix value reaches `--shard VALUE/N` (N the matrix
/// size), and the merge job's script joins the shard artifacts.
#[test]
fn github_actions_matrix_template_shards_by_matrix_value() {
    let docs = yaml_docs("github-actions-matrix.yml");
    let jobs = &docs[0]["jobs"];
    let shards: Vec<u64> = jobs["sweep"]["strategy"]["matrix"]["shard"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let n = shards.len() as u64;
    assert_eq!(shards, (0..n).collect::<Vec<_>>());
    let step = |job: &str, needle: &str| -> String {
        jobs[job]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str())
            .find(|r| r.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} step in {job}"))
            .to_string()
    };
    let sweep = step("sweep", "leaksweep git");
    assert!(
        sweep.contains(&format!("--shard ${{{{ matrix.shard }}}}/{n}")),
        "{sweep}"
    );
    assert_eq!(jobs["merge"]["needs"].as_str(), Some("sweep"));
    let merge = step("merge", "leaksweep merge");

    let root = TempDir::new().unwrap();
    let names = org(root.path());
    fs::write(root.path().join("repos.txt"), names.join("\n")).unwrap();
    fs::create_dir(root.path().join("shards")).unwrap();
    for k in &shards {
        let o = sh(
            root.path(),
            &sweep.replace("${{ matrix.shard }}", &k.to_string()),
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "shard {k}: {}", stderr(&o));
        fs::rename(
            root.path().join(format!("shard-{k}.json")),
            root.path().join(format!("shards/shard-{k}.json")),
        )
        .unwrap();
    }
    let o = sh(root.path(), &merge, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let sarif: serde_json::Value =
        serde_json::from_slice(&fs::read(root.path().join("leaksweep.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 24);
}

/// The GNU parallel script: the shard index it is called back with reaches `--shard`
/// on the host (ssh and scp replaced by local stand-ins), and the report comes back.
#[test]
fn parallel_ssh_script_runs_shard_k_on_its_host() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sweeps/parallel-ssh.sh");
    let text = fs::read_to_string(&script).unwrap();
    assert!(
        text.contains("::: $(seq 0 $((n - 1))) ::: $hosts"),
        "{text}"
    );
    let root = TempDir::new().unwrap();
    let names = org(root.path());
    let list: Vec<String> = names
        .iter()
        .map(|n| root.path().join(n).display().to_string())
        .collect();
    fs::write(root.path().join("repos.txt"), list.join("\n")).unwrap();
    let bin_dir = root.path().join("fakebin");
    let remote = root.path().join("remote");
    fs::create_dir_all(remote.join("host1")).unwrap();
    fs::create_dir_all(root.path().join("out")).unwrap();
    fs::create_dir_all(&bin_dir).unwrap();
    let r = remote.display();
    fs::write(
        bin_dir.join("ssh"),
        format!("#!/bin/sh\nhost=$1; shift; cd '{r}'/\"$host\" && exec \"$@\"\n"),
    )
    .unwrap();
    fs::write(
        bin_dir.join("scp"),
        format!(
            "#!/bin/sh\n[ \"$1\" = -q ] && shift\nmap() {{ case $1 in *:*) echo \
             '{r}'/\"${{1%%:*}}\"/\"${{1#*:}}\";; *) echo \"$1\";; esac; }}\n\
             cp \"$(map \"$1\")\" \"$(map \"$2\")\"\n"
        ),
    )
    .unwrap();
    #[cfg(unix)]
    for f in ["ssh", "scp"] {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(bin_dir.join(f), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let o = sh(
        root.path(),
        &format!("sh '{}' --one 1 host1 3 repos.txt out", script.display()),
        &[&bin_dir],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value =
        serde_json::from_slice(&fs::read(root.path().join("out/shard-1.json")).unwrap()).unwrap();
    assert_eq!(v["summary"]["shard"], "1/3");
    let want = names
        .iter()
        .filter(|n| {
            let id = root.path().join(n).display().to_string();
            leaksweep::sweep::shard::bucket(&id, 3) == 1
        })
        .count();
    assert_eq!(v["summary"]["repositories"], want as u64);
}

/// Commits `files` (None: delete) with author date `date`.
fn commit_at(dir: &Path, files: &[(&str, Option<&str>)], msg: &str, date: &str) {
    for (path, text) in files {
        let p = dir.join(path);
        match text {
            Some(t) => {
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                fs::write(p, t).unwrap();
            }
            None => fs::remove_file(p).unwrap(),
        }
    }
    git_in(dir, &["add", "-A"], None);
    git_in(dir, &["commit", "-q", "-m", msg, "--date", date], None);
}

/// A history whose attribution a split by blob could get wrong: a secret kept through an
/// edit whose author date is older than the commit that wrote it (rank, not date, must
/// win), one secret added on two branches at the same path in different blobs, renames,
/// a secret deleted before HEAD and one still at HEAD under another path.
fn tangled_history(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    git_in(dir, &["init", "-q", "-b", "main"], None);
    let t1 = github_pat(501);
    let t2 = github_pat(502);
    let k1 = aws_key_id(7);
    commit_at(
        dir,
        &[("a/config.env", Some(&format!("GH={t1}\nAWS={k1}\n")))],
        "add config",
        "2024-05-01T10:00:00Z",
    );
    // A rebased edit: older author date, later in history; the secret stays.
    commit_at(
        dir,
        &[(
            "a/config.env",
            Some(&format!("GH={t1}\nAWS={k1}\nDEBUG=1\n")),
        )],
        "debug on",
        "2024-01-01T10:00:00Z",
    );
    for i in 0..8u64 {
        commit_at(
            dir,
            &[(
                &format!("svc/s{i}.env"),
                Some(&format!(
                    "TOKEN={}\nKEY={}\n",
                    github_pat(600 + i),
                    aws_key_id(20 + i)
                )),
            )],
            &format!("service {i}"),
            &format!("2024-02-{:02}T10:00:00Z", i + 1),
        );
    }
    git_in(dir, &["checkout", "-q", "-b", "feature"], None);
    commit_at(
        dir,
        &[("dup/key.env", Some(&format!("X={t2}\nfeature\n")))],
        "feature key",
        "2024-03-01T10:00:00Z",
    );
    git_in(dir, &["checkout", "-q", "main"], None);
    commit_at(
        dir,
        &[("dup/key.env", Some(&format!("X={t2}\nmain\n")))],
        "main key",
        "2024-03-02T10:00:00Z",
    );
    fs::create_dir_all(dir.join("moved")).unwrap();
    git_in(dir, &["mv", "a/config.env", "moved/config.env"], None);
    git_in(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "rename",
            "--date",
            "2024-03-03T10:00:00Z",
        ],
        None,
    );
    git_in(dir, &["mv", "svc/s3.env", "svc/renamed.env"], None);
    git_in(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "rename s3",
            "--date",
            "2024-03-04T10:00:00Z",
        ],
        None,
    );
    commit_at(
        dir,
        &[("svc/s5.env", None), ("svc/s6.env", Some("TOKEN=\n"))],
        "drop s5, clear s6",
        "2024-03-05T10:00:00Z",
    );
    // s6's token is still at HEAD under another path, where a marker suppresses it: no
    // reported record says "at HEAD", yet the one at svc/s6.env is.
    commit_at(
        dir,
        &[(
            "keep/s6.txt",
            Some(&format!("old={} # leaksweep:allow\n", github_pat(606))),
        )],
        "keep",
        "2024-03-06T10:00:00Z",
    );
}

/// Every finding object of a JSON report, as canonical text, with its summary's counts.
fn finding_set(v: &Value) -> BTreeSet<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect()
}

#[test]
fn one_repository_split_by_blob_merges_to_exactly_one_run() {
    let root = TempDir::new().unwrap();
    let dir = root.path().join("big");
    tangled_history(&dir);
    for extra in [&[][..], &["--all-occurrences"][..]] {
        let mut args = vec!["git", "big", "-f", "json"];
        args.extend_from_slice(extra);
        let out = run(root.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let whole = json(&out);
        let want = finding_set(&whole);
        assert!(want.len() >= 20, "{}", want.len());
        // The rank rule is what this history tests: the edit dated earlier must not win.
        let rebased: Vec<&Value> = whole["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["path"] == "a/config.env")
            .collect();
        assert_eq!(rebased.len(), 2);
        assert!(rebased.iter().all(|f| f["commit_summary"] == "add config"));
        let s6 = whole["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "svc/s6.env" && f["rule_id"] == "github-pat-classic")
            .unwrap();
        assert_eq!(s6["present_at_head"], true);
        let total_blobs = whole["summary"]["unique_blobs"].as_u64().unwrap();
        let commits = whole["summary"]["commits_walked"].as_u64().unwrap();

        for n in 1..=3u64 {
            let mut reports = Vec::new();
            for k in 0..n {
                let file = format!("blob-{k}-of-{n}.json");
                let shard = format!("{k}/{n}");
                let mut a = vec!["git", "big", "--shard", &shard, "-f", "json", "-o", &file];
                a.extend_from_slice(extra);
                a.extend_from_slice(&["--exit-code", "0"]);
                let o = run(root.path(), &a);
                assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
                let v: Value =
                    serde_json::from_slice(&fs::read(root.path().join(&file)).unwrap()).unwrap();
                let s = &v["summary"];
                assert_eq!(s["shard_by"], "blob");
                // Every shard walks every commit but scans only its blobs.
                assert_eq!(s["commits_walked"].as_u64(), Some(commits));
                if n > 1 {
                    assert!(s["unique_blobs"].as_u64().unwrap() < total_blobs, "{s}");
                }
                reports.push(file);
            }
            let mut args = vec!["merge"];
            args.extend(reports.iter().map(String::as_str));
            let out = run(root.path(), &args);
            assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
            let merged = json(&out);
            let got = finding_set(&merged);
            assert_eq!(
                got.symmetric_difference(&want).collect::<Vec<_>>(),
                Vec::<&String>::new(),
                "N = {n}, {extra:?}"
            );
            let (m, w) = (&merged["summary"], &whole["summary"]);
            for k in [
                "findings",
                "unique_secrets",
                "unique_blobs",
                "blobs_scanned",
            ] {
                assert_eq!(m[k], w[k], "summary {k}, N = {n}");
            }
            assert!(m.get("blob_shares").is_none(), "{m}");
        }
    }
    // What the merge needs is in the JSON summary only.
    let out = run(
        root.path(),
        &["git", "big", "--shard", "0/2", "-f", "sarif"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("-f json"), "{}", stderr(&out));
}

/// Runs a sweep with the validation flags pointing GitHub at the contract server.
fn sweep_validated(root: &Path, s: &harness::Server, args: &[&str]) -> std::process::Output {
    bin()
        .current_dir(root)
        .env_remove("VAULT_ADDR")
        .env_remove("BAO_ADDR")
        .args(["git", "--validate", "--validate-endpoint"])
        .arg(format!("github={}/github", s.base))
        .args(args)
        .output()
        .unwrap()
}

/// How many requests the contract server saw per credential.
fn seen_by(s: &harness::Server, cred: &str) -> u64 {
    s.state()["seen"][cred].as_u64().unwrap_or(0)
}

#[test]
fn validate_in_a_sweep_asks_once_per_credential_and_checkpoints_and_merges_keep_it() {
    let root = TempDir::new().unwrap();
    let live = github_pat(701);
    let dead = github_pat(702);
    let names = ["org/a", "org/b", "org/c", "org/d"];
    repo(root.path(), names[0], &[("a.env", &format!("GH={live}\n"))]);
    repo(
        root.path(),
        names[1],
        &[("b.env", &format!("TOKEN={live}\nX={dead}\n"))],
    );
    repo(
        root.path(),
        names[2],
        &[("c/live.env", &format!("T={live}\n"))],
    );
    repo(
        root.path(),
        names[3],
        &[("d.env", &format!("OLD={dead}\n"))],
    );
    fs::write(root.path().join("repos.txt"), names.join("\n")).unwrap();
    let s = harness::Server::start("validators.py", &[]);
    s.seed(serde_json::json!({"credentials": { live.clone(): {"answer": "live", "identity": "octo"} }}));

    let args = [
        "--repos-from",
        "repos.txt",
        "-f",
        "json",
        "--checkpoint",
        "sweep.ckpt",
    ];
    let out = sweep_validated(root.path(), &s, &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_no_secret(&out, &[&live, &dead]);
    let v = json(&out);
    // One request per unique credential across the four repositories.
    assert_eq!((seen_by(&s, &live), seen_by(&s, &dead)), (1, 1));
    let status = |v: &Value| -> BTreeSet<(String, String, String)> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["repository"].as_str().unwrap().to_string(),
                    f["path"].as_str().unwrap().to_string(),
                    format!(
                        "{} {}",
                        f["validation"]["status"].as_str().unwrap(),
                        f["validation"]["identity"].as_str().unwrap_or("")
                    ),
                )
            })
            .collect()
    };
    let want: BTreeSet<(String, String, String)> = [
        ("org/a", "a.env", "live octo"),
        ("org/b", "b.env", "live octo"),
        ("org/b", "b.env", "invalid "),
        ("org/c", "c/live.env", "live octo"),
        ("org/d", "d.env", "invalid "),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(status(&v), want);
    assert_eq!(
        v["summary"]["validation"],
        serde_json::json!({"live": 3, "invalid": 2})
    );
    let ckpt = fs::read_to_string(root.path().join("sweep.ckpt")).unwrap();
    assert!(!ckpt.contains(&live) && !ckpt.contains(&dead));

    // Resumed: every repository comes from the checkpoint, results and all; no request.
    let out = sweep_validated(root.path(), &s, &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("4 of 4 repositories taken from the checkpoint"));
    assert_eq!(status(&json(&out)), want);
    assert_eq!((seen_by(&s, &live), seen_by(&s, &dead)), (1, 1));
    // A checkpoint made without --validate is not resumed by a sweep with it.
    let plain = run(
        root.path(),
        &[
            "git",
            "--repos-from",
            "repos.txt",
            "-f",
            "json",
            "--checkpoint",
            "plain.ckpt",
        ],
    );
    assert_eq!(plain.status.code(), Some(1), "{}", stderr(&plain));
    let out = sweep_validated(
        root.path(),
        &s,
        &["--repos-from", "repos.txt", "--checkpoint", "plain.ckpt"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // Shards validate their own share; the merge keeps every result and counts them.
    let mut reports = Vec::new();
    for k in 0..2 {
        let file = format!("v-{k}.json");
        let shard = format!("{k}/2");
        let o = sweep_validated(
            root.path(),
            &s,
            &[
                "--repos-from",
                "repos.txt",
                "--shard",
                &shard,
                "-f",
                "json",
                "-o",
                &file,
            ],
        );
        assert!(o.status.code() != Some(2), "{}", stderr(&o));
        reports.push(file);
    }
    let out = run(root.path(), &["merge", &reports[0], &reports[1]]);
    let merged = json(&out);
    assert_eq!(status(&merged), want);
    assert_eq!(
        merged["summary"]["validation"],
        serde_json::json!({"live": 3, "invalid": 2})
    );
    // --fail-on live across a sweep: the dead key alone passes the gate, a live one fails it.
    let out = sweep_validated(root.path(), &s, &["org/d", "org/d/.", "--fail-on", "live"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = sweep_validated(root.path(), &s, &["org/d", "org/a", "--fail-on", "live"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// True if `line` is `leaksweep: <label> <n>/<n>, ...` made only of leaksweep's counters.
fn counter_line(line: &str, label: &str) -> bool {
    let Some(rest) = line.strip_prefix(&format!("leaksweep: {label} ")) else {
        return false;
    };
    let number = |w: &str| w.parse::<f64>().is_ok();
    rest.split([',', ' ']).filter(|w| !w.is_empty()).all(|w| {
        number(w)
            || w.split_once('/')
                .is_some_and(|(a, b)| number(a) && number(b))
            || ["commits", "blobs", "MB", "MB/s"].contains(&w)
    })
}

#[test]
fn plain_progress_prints_counter_lines_for_one_repository_and_for_sweeps() {
    let root = TempDir::new().unwrap();
    let tok = github_pat(801);
    repo(root.path(), "one", &[("a.env", &format!("GH={tok}\n"))]);
    repo(
        root.path(),
        "evil\x1b[2Jname",
        &[("b.env", &format!("X={tok}\n"))],
    );

    // One repository: a line at the end (and every 5 seconds before), no redraws.
    let out = run(root.path(), &["git", "one", "--progress", "plain"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("leaksweep: commits"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(counter_line(lines[0], "commits"), "{}", lines[0]);
    assert!(
        lines[0].starts_with("leaksweep: commits 1/1, blobs 1/1, "),
        "{}",
        lines[0]
    );
    assert!(!err.contains('\r') && !err.contains('\x1b'), "{err:?}");
    assert_no_secret(&out, &[&tok]);

    // A sweep, one repository named with a terminal escape: nothing raw reaches stderr.
    let out = run(
        root.path(),
        &["git", "one", "evil\x1b[2Jname", "--progress", "plain"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let last = err
        .lines()
        .rfind(|l| l.starts_with("leaksweep: repos"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        last.starts_with("leaksweep: repos 2/2, blobs 2, "),
        "{last}"
    );
    assert!(!err.contains('\r') && !err.contains('\x1b'), "{err:?}");
    assert_no_secret(&out, &[&tok]);

    // Nothing with -q, nor in auto mode when stderr is not a terminal (here a pipe).
    for args in [
        &["git", "one", "--progress", "plain", "-q"][..],
        &["git", "one"][..],
        &["git", "one", "evil\x1b[2Jname"][..],
        &["git", "one", "--progress", "plain", "--no-progress"][..],
    ] {
        let out = run(root.path(), args);
        assert!(
            !stderr(&out).contains("leaksweep: commits")
                && !stderr(&out).contains("leaksweep: repos"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
