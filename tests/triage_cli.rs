//! End-to-end tests of triage (issue #5): inline markers, `.leaksweep.toml`, the ignore
//! file, baselines and imports, run through the real binary on real files and real git
//! repositories built in the test.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use common::*;
use serde_json::Value;
use sha1::{Digest, Sha1};
use tempfile::TempDir;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@localhost",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// A git repository with one commit holding `files`.
fn repo(files: &[(&str, String)]) -> TempDir {
    let dir = TempDir::new().unwrap();
    git(dir.path(), &["init", "-q"]);
    write(dir.path(), files);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "initial"]);
    dir
}

fn write(dir: &Path, files: &[(&str, String)]) {
    for (name, text) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(p, text).unwrap();
    }
}

fn json(dir: &Path, extra: &[&str]) -> (Value, Output) {
    let mut args = vec!["scan", ".", "--format", "json"];
    args.extend_from_slice(extra);
    let out = run(dir, &args);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stderr(&out)));
    (v, out)
}

fn paths_of(v: &Value, key: &str) -> Vec<String> {
    let mut p: Vec<String> = v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["path"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    p.sort();
    p
}

fn suppressed(v: &Value, reason: &str) -> u64 {
    v["summary"]["suppressed"][reason].as_u64().unwrap_or(0)
}

fn assert_no_secret(out: &Output, secrets: &[&str]) {
    let all = format!("{}{}", stdout(out), stderr(out));
    for s in secrets {
        assert!(!all.contains(s), "output leaked a secret");
    }
}

#[test]
fn issue_5_inline_markers_in_every_comment_syntax() {
    let t: Vec<String> = (0..14).map(|i| github_pat(100 + i)).collect();
    let files = vec![
        ("a.py", format!("TOKEN = \"{}\"  # leaksweep:allow\n", t[0])),
        (
            "b.js",
            format!(
                "const t = \"{}\"; // leaksweep:allow github-pat-classic\n",
                t[1]
            ),
        ),
        (
            "c.css",
            format!(".x {{ --t: \"{}\"; }} /* leaksweep:allow */\n", t[2]),
        ),
        (
            "d.sql",
            format!(
                "INSERT INTO k VALUES ('{}'); -- leaksweep:allow -- test row\n",
                t[3]
            ),
        ),
        (
            "e.html",
            format!(
                "<meta name=\"t\" content=\"{}\"> <!-- leaksweep:allow -->\n",
                t[4]
            ),
        ),
        ("f.ini", format!("token = {} ; leaksweep:allow\n", t[5])),
        (
            "g.tex",
            format!("\\newcommand{{\\tok}}{{{}}} % leaksweep:allow\n", t[6]),
        ),
        (
            "h.bat",
            format!(
                "SET TOKEN={} & REM leaksweep:allow github-pat-classic\n",
                t[7]
            ),
        ),
        ("i.go", format!("t := \"{}\" // gitleaks:allow\n", t[8])),
        (
            "j.py",
            format!("t = \"{}\"  # pragma: allowlist secret\n", t[9]),
        ),
        (
            "k.py",
            format!("# pragma: allowlist nextline secret\nt = \"{}\"\n", t[10]),
        ),
        ("l.rb", format!("t = \"{}\" # trufflehog:ignore\n", t[11])),
        // Naming another rule does not suppress this one; neither does a near miss.
        (
            "m.py",
            format!("t = \"{}\"  # leaksweep:allow aws-access-key-id\n", t[12]),
        ),
        ("n.py", format!("t = \"{}\"  # leaksweep:allowed\n", t[13])),
    ];
    let files: Vec<(&str, String)> = files.into_iter().collect();
    let dir = TempDir::new().unwrap();
    write(dir.path(), &files);
    let (v, out) = json(dir.path(), &["--show-suppressed"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(paths_of(&v, "findings"), ["m.py", "n.py"]);
    assert_eq!(suppressed(&v, "inline"), 12);
    assert_eq!(v["suppressed"].as_array().unwrap().len(), 12);
    assert!(v["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["suppressed"] == "inline"));
    let all: Vec<&str> = t.iter().map(String::as_str).collect();
    assert_no_secret(&out, &all);
    // Audits see everything.
    let (v, _) = json(dir.path(), &["--no-inline-ignores"]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 14);
    assert_eq!(suppressed(&v, "inline"), 0);
    // The text summary names the suppressions by reason.
    let out = run(dir.path(), &["scan", "."]);
    assert!(
        stderr(&out).contains("2 findings (12 suppressed: inline 12)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn issue_5_config_allowlists_are_counted_and_listed() {
    let (url, pw) = postgres_url(7);
    let fixture = github_pat(20);
    let mocked = github_pat(21);
    let sampled = format!("{}SAMPLE", &github_pat(22)[..30]);
    let real = github_pat(23);
    let dir = repo(&[
        (
            ".leaksweep.toml",
            "version = 1\n\n[[allowlist]]\ndescription = \"fixtures\"\npaths = [\"tests/\"]\n\n\
             [[allowlist]]\nrules = [\"github-pat-classic\"]\ntarget = \"line\"\n\
             regexes = ['''mock_client\\(''']\n\n[[allowlist]]\nrules = [\"database-connection-uri\"]\n\
             stopwords = [\"q8zr\"]\n"
                .to_string(),
        ),
        ("tests/fixture.py", format!("T = \"{fixture}\"\n")),
        ("src/a.py", format!("c = mock_client(\"{mocked}\")\n")),
        ("src/b.py", format!("URL = \"{url}\"\n")),
        ("src/c.py", format!("T = \"{real}\"\nS = \"{sampled}\"\n")),
    ]);
    let (v, out) = json(dir.path(), &["--show-suppressed"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // The fixture path and the mock line are allowed; the URL's password has no stopword.
    let reported = paths_of(&v, "findings");
    assert!(reported.contains(&"src/c.py".to_string()), "{reported:?}");
    assert!(reported.contains(&"src/b.py".to_string()), "{reported:?}");
    assert!(!reported.contains(&"src/a.py".to_string()), "{reported:?}");
    assert!(!reported.contains(&"tests/fixture.py".to_string()));
    assert_eq!(suppressed(&v, "allowlist"), 2);
    assert_eq!(paths_of(&v, "suppressed"), ["src/a.py", "tests/fixture.py"]);
    assert_no_secret(&out, &[&fixture, &mocked, &real, &pw]);
    // The same allowlists hold when the scan runs from a subdirectory or names the
    // project by an absolute path: globs are relative to the project root.
    let (v, _) = {
        let out = run(&dir.path().join("src"), &["scan", "..", "--format", "json"]);
        (serde_json::from_slice::<Value>(&out.stdout).unwrap(), out)
    };
    assert_eq!(suppressed(&v, "allowlist"), 2, "{v}");
    let abs = dir.path().to_str().unwrap();
    let out = run(Path::new("/"), &["scan", abs, "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(suppressed(&v, "allowlist"), 2, "{}", stderr(&out));
}

#[test]
fn issue_5_bad_config_is_an_error_naming_file_line_key_and_allowed() {
    let dir = TempDir::new().unwrap();
    fs::write(
        dir.path().join("x.py"),
        format!("T = \"{}\"\n", github_pat(30)),
    )
    .unwrap();
    let cases: &[(&str, &[&str])] = &[
        (
            "version = 1\n\n[scan]\nformat = \"json\"\nexlude = [\"a\"]\n",
            &[".leaksweep.toml:5: unknown key \"exlude\" (allowed: ", "exclude"],
        ),
        (
            "alowlist = []\n",
            &[".leaksweep.toml:1: unknown key \"alowlist\"", "allowlist"],
        ),
        (
            "[scan]\nformat = \"yaml\"\n",
            &[".leaksweep.toml:2: bad value \"yaml\" for format (allowed: text, json, jsonl, sarif)"],
        ),
        (
            "[rules]\n\ndisable = [\"no-such-rule\"]\n",
            &[".leaksweep.toml:3: unknown rule id \"no-such-rule\""],
        ),
        (
            "[[allowlist]]\npaths = [\"a[\"]\n",
            &[".leaksweep.toml:1: bad path glob"],
        ),
        ("version = 7\n", &[".leaksweep.toml:1: config format version 7 is newer"]),
        ("[scan\n", &[".leaksweep.toml:1:"]),
    ];
    for (text, wants) in cases {
        fs::write(dir.path().join(".leaksweep.toml"), text).unwrap();
        for args in [&["scan", "."][..], &["config", "check"][..]] {
            let out = run(dir.path(), args);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{text:?} {args:?}: {}",
                stderr(&out)
            );
            assert!(stdout(&out).is_empty(), "no report on a bad config");
            for w in *wants {
                assert!(
                    stderr(&out).contains(w),
                    "{text:?}: want {w:?} in {}",
                    stderr(&out)
                );
            }
        }
    }
    fs::write(
        dir.path().join(".leaksweep.toml"),
        "[scan]\nformat = \"json\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["config", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // `--config` names another file; a missing one is an error.
    let out = run(dir.path(), &["scan", ".", "--config", "nope.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.toml"), "{}", stderr(&out));
}

#[test]
fn issue_5_config_tunes_rules_and_sets_flag_defaults() {
    let acme = format!("acme_{}", random_alnum(40, 24).to_lowercase());
    let key = aws_key_id(41);
    let gh = github_pat(42);
    let dir = repo(&[
        (
            ".leaksweep.toml",
            r#"
[scan]
format = "json"
exclude = ["vendor/**"]

[rules]
disable = ["aws-access-key-id"]

[rules.entropy]
github-pat-classic = 7.9

[[rule]]
id = "acme-token"
name = "ACME internal token"
severity = "critical"
keywords = ["acme_"]
regex = '''\b(acme_[a-z0-9]{24})\b'''
examples = ["acme_q8zr2mv9xk4tw7pla1b2c3d4"]
negative_examples = ["acme_"]
"#
            .to_string(),
        ),
        ("app.env", format!("ACME={acme}\nAWS={key}\nGH={gh}\n")),
        ("vendor/lib.env", format!("ACME={acme}\n")),
    ]);
    // format = "json" is the default now: stdout parses as JSON without --format.
    let out = run(dir.path(), &["scan", "."]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("config made JSON the default");
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    // The extra rule finds its token (not in the excluded vendor/), the disabled rule and
    // the entropy floor nobody reaches keep the others quiet.
    assert_eq!(rules, ["acme-token"], "{}", stderr(&out));
    assert_eq!(v["findings"][0]["path"], "app.env");
    assert_no_secret(&out, &[&acme, &key, &gh]);
    // A flag on the command line wins over the config's default.
    let out = run(dir.path(), &["scan", ".", "--format", "text"]);
    assert!(serde_json::from_slice::<Value>(&out.stdout).is_err());
    assert!(stdout(&out).contains("acme-token"));
    // `config show` prints the effective config, defaults included.
    let out = run(dir.path(), &["config", "show"]);
    assert_eq!(out.status.code(), Some(0));
    let shown = stdout(&out);
    for want in [
        "format = \"json\"",
        "max_file_size = \"100M\"",
        "disable = [\"aws-access-key-id\"]",
        "github-pat-classic = 7.9\n",
        "id = \"acme-token\"",
    ] {
        assert!(shown.contains(want), "missing {want:?} in\n{shown}");
    }
    // `config check` runs the config's rule examples through the engine.
    let out = run(dir.path(), &["config", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let cfg = fs::read_to_string(dir.path().join(".leaksweep.toml")).unwrap();
    fs::write(
        dir.path().join(".leaksweep.toml"),
        cfg.replace("acme_q8zr2mv9xk4tw7pla1b2c3d4", "acme_TOO_SHORT"),
    )
    .unwrap();
    let out = run(dir.path(), &["config", "check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("acme-token: example 1 not matched"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn issue_5_ignore_file_accepts_fingerprints_with_reasons() {
    let a = github_pat(50);
    let b = github_pat(51);
    let dir = repo(&[
        ("one.py", format!("A = \"{a}\"\nB = \"{b}\"\n")),
        ("two.py", format!("B = \"{b}\"\n")),
    ]);
    let (v, _) = json(dir.path(), &[]);
    let fp = |secret_prefix: &str| -> String {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| {
                secret_prefix.starts_with(f["secret"].as_str().unwrap().trim_end_matches('…'))
            })
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .unwrap()
    };
    let (fa, fb) = (fp(&a), fp(&b));
    let out = run(
        dir.path(),
        &[
            "ignore",
            "add",
            &fa,
            "--reason",
            "rotated on 2024-05-02, dead",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(
        dir.path(),
        &[
            "ignore", "add", &fb, "--reason", "fixture", "--path", "two.py",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = fs::read_to_string(dir.path().join(".leaksweepignore")).unwrap();
    assert!(
        text.contains(&format!("# rotated on 2024-05-02, dead\n{fa}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("# fixture\n{fb} two.py\n")),
        "{text}"
    );
    let (v, out) = json(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    // B is accepted in two.py only; one.py still reports it.
    assert_eq!(paths_of(&v, "findings"), ["one.py"]);
    assert_eq!(suppressed(&v, "ignore-file"), 2);
    // A reason is required, and a bad fingerprint is refused.
    let out = run(dir.path(), &["ignore", "add", &fa]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(dir.path(), &["ignore", "add", "lsw1:xyz", "--reason", "r"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a fingerprint"),
        "{}",
        stderr(&out)
    );
    // A malformed ignore file is an error naming its line, not "no findings".
    fs::write(
        dir.path().join(".leaksweepignore"),
        format!("{text}oops this is not a fingerprint\n"),
    )
    .unwrap();
    let out = run(dir.path(), &["scan", "."]);
    assert_eq!(out.status.code(), Some(2));
    let line = text.lines().count() + 1;
    assert!(
        stderr(&out).contains(&format!(
            ".leaksweepignore:{line}: \"oops\" is not a fingerprint"
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn issue_5_baseline_survives_edits_and_reports_copies_and_new_secrets() {
    let old = github_pat(60);
    let (url, pw) = postgres_url(61);
    let dir = repo(&[
        (
            "src/settings.py",
            format!("import os\n\nTOKEN = \"{old}\"\n"),
        ),
        ("deploy/.env", format!("DATABASE_URL={url}\n")),
    ]);
    let out = run(
        dir.path(),
        &["baseline", "create", ".", "-o", ".leaksweep-baseline.json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 entries"), "{}", stderr(&out));
    let base = fs::read_to_string(dir.path().join(".leaksweep-baseline.json")).unwrap();
    assert!(
        !base.contains(&old) && !base.contains(&pw),
        "the baseline holds no secrets"
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "baseline"]);

    let (v, out) = json(dir.path(), &["--baseline", ".leaksweep-baseline.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(suppressed(&v, "baseline"), 2);

    // Lines inserted above the secret do not bring it back.
    let edited = format!(
        "\"\"\"Settings.\"\"\"\nimport os\nimport sys\n\nDEBUG = False\n\nTOKEN = \"{old}\"\n"
    );
    fs::write(dir.path().join("src/settings.py"), edited).unwrap();
    let (v, out) = json(dir.path(), &["--baseline", ".leaksweep-baseline.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);

    // The same secret copied to a new file is reported; so is a new secret.
    let new = github_pat(62);
    fs::write(dir.path().join("src/copy.py"), format!("T = \"{old}\"\n")).unwrap();
    fs::write(
        dir.path().join("deploy/.env"),
        format!("DATABASE_URL={url}\nGH_TOKEN={new}\n"),
    )
    .unwrap();
    let (v, out) = json(
        dir.path(),
        &[
            "--baseline",
            ".leaksweep-baseline.json",
            "--show-suppressed",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(paths_of(&v, "findings"), ["deploy/.env", "src/copy.py"]);
    assert_eq!(suppressed(&v, "baseline"), 2);
    assert_no_secret(&out, &[&old, &new, &pw]);
    // Scanned from a subdirectory, paths still match the project-relative entries.
    let out = run(
        &dir.path().join("src"),
        &[
            "scan",
            "settings.py",
            "--baseline",
            "../.leaksweep-baseline.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn issue_5_baseline_is_stable_and_update_prunes_what_is_gone() {
    let a = github_pat(70);
    let b = github_pat(71);
    let dir = repo(&[
        ("z.py", format!("A = \"{a}\"\n")),
        ("a.py", format!("B = \"{b}\"\n")),
    ]);
    let create = |out: &str| {
        let o = run(dir.path(), &["baseline", "create", "-o", out]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        fs::read(dir.path().join(out)).unwrap()
    };
    let first = create("b1.json");
    let second = create("b2.json");
    assert_eq!(first, second, "re-running gives the same bytes");
    let v: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(v["version"], 1);
    assert!(v.get("created").is_none());
    let paths: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a.py", "z.py"], "sorted");
    let o = run(
        dir.path(),
        &["baseline", "create", "-o", "b3.json", "--timestamp"],
    );
    assert_eq!(o.status.code(), Some(0));
    let v3: Value = serde_json::from_slice(&fs::read(dir.path().join("b3.json")).unwrap()).unwrap();
    assert!(v3["created"].as_str().unwrap().ends_with('Z'));

    // The secret in z.py is removed; a new one appears in a.py.
    fs::write(dir.path().join("z.py"), "A = os.environ['A']\n").unwrap();
    let c = github_pat(72);
    fs::write(
        dir.path().join("a.py"),
        format!("B = \"{b}\"\nC = \"{c}\"\n"),
    )
    .unwrap();
    let o = run(dir.path(), &["baseline", "update", "--baseline", "b1.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("kept 1, pruned 1"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 finding is not in the baseline"),
        "{}",
        stderr(&o)
    );
    let v: Value = serde_json::from_slice(&fs::read(dir.path().join("b1.json")).unwrap()).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), 1);
    assert_eq!(v["entries"][0]["path"], "a.py");
    // The new secret is still reported against the updated baseline.
    let (v, _) = json(
        dir.path(),
        &["--baseline", "b1.json", "--exclude", "*.json"],
    );
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn issue_5_missing_newer_or_malformed_baseline_is_an_error() {
    let dir = TempDir::new().unwrap();
    fs::write(
        dir.path().join("x.py"),
        format!("T = \"{}\"\n", github_pat(80)),
    )
    .unwrap();
    let fp = "lsw1:0327253802457442cc91bbc2f38762d1";
    let cases: Vec<(&str, String, &str)> = vec![
        ("missing.json", String::new(), "missing.json: baseline not found"),
        (
            "newer.json",
            "{\"version\": 2, \"salt\": \"s\", \"entries\": []}".into(),
            "newer.json:1: baseline version 2 is newer",
        ),
        (
            "broken.json",
            format!("{{\"version\": 1,\n\"salt\": \"s\",\n\"entries\": [{{\"fingerprint\": \"{fp}\", \"rule\": \"x\"}}]}}"),
            "broken.json:3:",
        ),
        (
            "gitleaks.json",
            "[{\"RuleID\": \"github-pat\", \"File\": \"x.py\"}]".into(),
            "looks like a gitleaks report",
        ),
    ];
    for (name, text, want) in cases {
        if !text.is_empty() {
            fs::write(dir.path().join(name), text).unwrap();
        }
        let out = run(dir.path(), &["scan", ".", "--baseline", name]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(stdout(&out).is_empty(), "{name}: no report");
        assert!(
            stderr(&out).contains(want),
            "{name}: want {want:?} in {}",
            stderr(&out)
        );
    }
    // A baseline named by the config must exist too.
    fs::write(
        dir.path().join(".leaksweep.toml"),
        "[scan]\nbaseline = \"gone.json\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["scan", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("gone.json: baseline not found"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(".leaksweep.toml:2"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn issue_5_salt_in_config_keys_fingerprints_and_baselines_keep_theirs() {
    let t = github_pat(90);
    let dir = repo(&[("a.py", format!("T = \"{t}\"\n"))]);
    let o = run(dir.path(), &["baseline", "create", "-o", "base.json"]);
    assert_eq!(o.status.code(), Some(0));
    let (v1, _) = json(dir.path(), &["--exclude", "*.json"]);
    fs::write(
        dir.path().join(".leaksweep.toml"),
        "salt = \"acme-payments\"\n",
    )
    .unwrap();
    let (v2, _) = json(dir.path(), &["--exclude", "*.json"]);
    assert_ne!(
        v1["findings"][0]["fingerprint"], v2["findings"][0]["fingerprint"],
        "the salt keys fingerprints"
    );
    // The baseline was made with the default salt and records it: it still matches.
    let (v, out) = json(
        dir.path(),
        &["--baseline", "base.json", "--exclude", "*.json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(suppressed(&v, "baseline"), 1);
}

#[test]
fn issue_5_import_gitleaks_report() {
    let t = github_pat(100);
    let (url, pw) = postgres_url(101);
    let unknown = format!("zzq_{}", random_alnum(102, 30));
    let redacted_tok = github_pat(103);
    let dir = repo(&[
        ("app/config.py", format!("import os\nTOKEN = \"{t}\"\n")),
        (".env", format!("# db\nDATABASE_URL={url}\n")),
        ("notes.txt", format!("k = {unknown}\n")),
        ("old.py", format!("\n\nX = \"{redacted_tok}\"\n")),
    ]);
    // A gitleaks JSON report as `gitleaks dir --report-format json` writes it.
    let report = serde_json::json!([
        {"RuleID": "github-pat", "Description": "GitHub PAT", "StartLine": 2, "EndLine": 2,
         "StartColumn": 10, "EndColumn": 49, "Match": format!("\"{t}\""), "Secret": t,
         "File": "app/config.py", "SymlinkFile": "", "Commit": "", "Entropy": 5.1,
         "Author": "", "Email": "", "Date": "", "Message": "", "Tags": [],
         "Fingerprint": "app/config.py:github-pat:2"},
        {"RuleID": "generic-api-key", "StartLine": 2, "EndLine": 2, "StartColumn": 1,
         "EndColumn": 60, "Match": format!("DATABASE_URL={url}"), "Secret": pw,
         "File": ".env", "Fingerprint": ".env:generic-api-key:2"},
        {"RuleID": "custom", "StartLine": 1, "EndLine": 1, "StartColumn": 5, "EndColumn": 38,
         "Match": unknown, "Secret": unknown, "File": "notes.txt",
         "Fingerprint": "notes.txt:custom:1"},
        {"RuleID": "github-pat", "StartLine": 3, "EndLine": 3, "StartColumn": 6,
         "EndColumn": 45, "Match": "REDACTED", "Secret": "REDACTED", "File": "old.py",
         "Fingerprint": "old.py:github-pat:3"}
    ]);
    fs::write(
        dir.path().join("gitleaks-report.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    let out = run(
        dir.path(),
        &[
            "baseline",
            "import",
            "gitleaks-report.json",
            "-o",
            "imported.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("from 3 of 4 gitleaks entries"), "{err}");
    assert!(
        err.contains("custom in notes.txt:1): not imported"),
        "{err}"
    );
    assert!(err.contains("imported by position only"), "{err}");
    assert_no_secret(&out, &[&t, &pw, &redacted_tok]);
    let text = fs::read_to_string(dir.path().join("imported.json")).unwrap();
    assert!(!text.contains(&t) && !text.contains(&pw));
    // The imported baseline silences exactly what gitleaks had accepted.
    let (v, out) = json(
        dir.path(),
        &["--baseline", "imported.json", "--exclude", "*.json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}: {v}", stderr(&out));
    assert_eq!(suppressed(&v, "baseline"), 3);
}

#[test]
fn issue_5_import_detect_secrets_baseline() {
    let t = github_pat(110);
    let k = aws_key_id(111);
    let gone = github_pat(112);
    let dir = repo(&[(
        "src/settings.py",
        format!("TOKEN = \"{t}\"\nAWS_KEY = \"{k}\"\n"),
    )]);
    let sha = |s: &str| hex_lower(&Sha1::digest(s.as_bytes()));
    // A `.secrets.baseline` as detect-secrets 1.x writes it.
    let baseline = serde_json::json!({
        "version": "1.5.0",
        "plugins_used": [{"name": "GitHubTokenDetector"}, {"name": "AWSKeyDetector"}],
        "filters_used": [],
        "results": {
            "src/settings.py": [
                {"type": "GitHub Token", "filename": "src/settings.py",
                 "hashed_secret": sha(&t), "is_verified": false, "line_number": 1},
                {"type": "AWS Access Key", "filename": "src/settings.py",
                 "hashed_secret": sha(&k), "is_verified": false, "line_number": 2}
            ],
            "src/deleted.py": [
                {"type": "GitHub Token", "filename": "src/deleted.py",
                 "hashed_secret": sha(&gone), "is_verified": false, "line_number": 4}
            ]
        },
        "generated_at": "2024-05-02T10:00:00Z"
    });
    fs::write(
        dir.path().join(".secrets.baseline"),
        serde_json::to_string_pretty(&baseline).unwrap(),
    )
    .unwrap();
    let out = run(dir.path(), &["baseline", "import", ".secrets.baseline"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("from 2 of 3 detect-secrets entries"), "{err}");
    assert!(err.contains("src/deleted.py cannot be read here"), "{err}");
    // Written to the default place, and honoured by a scan.
    assert!(dir.path().join(".leaksweep-baseline.json").is_file());
    let (v, out) = json(
        dir.path(),
        &[
            "--baseline",
            ".leaksweep-baseline.json",
            "--exclude",
            ".secrets.baseline",
            "--exclude",
            "*.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}: {v}", stderr(&out));
    assert_eq!(suppressed(&v, "baseline"), 2);
    // Not a report at all: a clear error.
    fs::write(dir.path().join("x.json"), "{\"a\": 1}").unwrap();
    let out = run(dir.path(), &["baseline", "import", "x.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("x.json: neither a gitleaks"),
        "{}",
        stderr(&out)
    );
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn issue_5_gitleaks_rule_file_through_rules_and_config() {
    let tok = format!("acme_{}", random_alnum(120, 24).to_lowercase());
    let mock = format!("acme_{}", random_alnum(121, 24).to_lowercase());
    let dir = repo(&[
        (
            "svc.env",
            format!("ACME_TOKEN={tok}\nMOCK = mock({mock})\n"),
        ),
        (
            "gitleaks.toml",
            r#"title = "acme rules"

[extend]
useDefault = true

[[rules]]
id = "acme-token"
description = "ACME internal token"
regex = '''\b(acme_[a-z0-9]{24})\b'''
secretGroup = 1
keywords = ["acme_"]
validate = '''http.get("https://acme.internal/check")'''
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''mock\(''']

[[rules]]
id = "acme-pair"
regex = '''acme_pair_[0-9]{8}'''
keywords = ["acme_pair_"]
filter = '''
entropy(finding["secret"]) <= 2.0 && startsWith(finding["secret"], "x")
'''
[[rules.required]]
id = "acme-token"
"#
            .to_string(),
        ),
    ]);
    let (v, out) = json(
        dir.path(),
        &["--rules", "gitleaks.toml", "--exclude", "*.toml"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme-token"]);
    assert_eq!(
        suppressed(&v, "allowlist"),
        1,
        "the rule's allowlist suppresses the mock"
    );
    let err = stderr(&out);
    assert!(err.contains("rule acme-token: validate"), "{err}");
    assert!(
        err.contains("rule acme-pair: filter expression not supported"),
        "{err}"
    );
    assert!(
        err.contains("required (composite rule) not supported"),
        "{err}"
    );
    assert_no_secret(&out, &[&tok, &mock]);
    // The same file listed in the config's rules.files.
    fs::write(
        dir.path().join(".leaksweep.toml"),
        "[rules]\nfiles = [\"gitleaks.toml\"]\n\n[scan]\nexclude = [\"*.toml\"]\n",
    )
    .unwrap();
    let (v, out) = json(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(v["findings"][0]["rule_id"], "acme-token");
    // A rule file that is missing is an error naming the config line.
    fs::write(
        dir.path().join(".leaksweep.toml"),
        "[rules]\nfiles = [\"gone.toml\"]\n",
    )
    .unwrap();
    let out = run(dir.path(), &["scan", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(".leaksweep.toml:2"),
        "{}",
        stderr(&out)
    );
}

/// `config show` names the config file in its header: a path holding terminal control
/// bytes is printed escaped, like every other text output.
#[test]
fn config_show_escapes_the_config_path() {
    let dir = TempDir::new().unwrap();
    let sub = dir.path().join("a\x1b]0;pwned\x07b");
    fs::create_dir(&sub).unwrap();
    let cfg = sub.join(".leaksweep.toml");
    fs::write(&cfg, "[rules]\ndisable = [\"aws-access-key-id\"]\n").unwrap();
    let out = run(
        dir.path(),
        &["config", "show", "--config", cfg.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        !shown.contains('\x1b') && !shown.contains('\x07'),
        "{shown:?}"
    );
    assert!(shown.contains("a\\x1b]0;pwned\\x07b"), "{shown}");
    assert!(
        shown.contains("disable = [\"aws-access-key-id\"]"),
        "{shown}"
    );
}
