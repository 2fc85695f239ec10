//! `leaksweep rotate` with external plugins (`kind = "exec"`): the example plugin in
//! `examples/rotate-plugins/`, and misbehaving plugins written by the tests (echoing the
//! secret, slow, flaky, silent), run as real processes.

mod common;
mod rotate_common;

use std::fs;
use std::path::Path;
use std::process::Output;

use common::*;
use rotate_common::*;
use serde_json::{json, Value};
use tempfile::TempDir;

/// The `command` of the example plugin (`examples/rotate-plugins/`) on `store.json`.
fn example_command() -> String {
    let plugin = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rotate-plugins/filestore.py");
    format!(
        "[\"python3\", {:?}, \"--store\", \"store.json\"]",
        plugin.display().to_string()
    )
}

/// Writes `store.json` holding `secrets` and configures the example plugin on it.
fn example_store(dir: &Path, secrets: &Value) {
    fs::write(
        dir.join("store.json"),
        json!({ "secrets": secrets }).to_string(),
    )
    .unwrap();
    config(dir, &example_command(), "");
}

/// [`example_store`] holding the leaked password `pw` at `app/db`, version 1.
fn db_store(dir: &Path, pw: &str) {
    example_store(
        dir,
        &json!({"app/db": {"current": 1, "versions": {"1": {"fields": {"password": pw}}}}}),
    );
}

fn rotate(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .arg("rotate")
        .args(args)
        .env("LSW_CANARY_ENV", "canary-env-value-must-not-reach-plugins")
        .env("PASSME", "passed")
        .output()
        .expect("run leaksweep")
}

/// A config with the exec backend `plug` running `command` (plus `extra` settings), and
/// a route of the leaked database URL to it.
fn config(dir: &Path, command: &str, extra: &str) {
    config_then(dir, command, extra, "");
}

/// [`config`], then `more` (further routes).
fn config_then(dir: &Path, command: &str, extra: &str, more: &str) {
    write_rotation_config(
        dir,
        100,
        &format!(
            r#"
[[rotation.backend]]
name = "plug"
kind = "exec"
command = {command}
{extra}

[[rotation.route]]
rules = ["database-connection-uri"]
backend = "plug"
{more}"#
        ),
    );
}

fn leaked_db(dir: &Path, seed: u64) -> String {
    let pw = write_leaked_db(dir, seed, "app.env", "");
    scan_to_report(dir, "app.env", "report.json", &[]);
    pw
}

fn store(dir: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(dir.join("store.json")).unwrap()).unwrap()
}

#[test]
fn exec_example_plugin_locate_dry_run_rotate_and_rerun() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let pw = leaked_db(d, run_seed());
    let other = random_alnum(run_seed() ^ 9, 22);
    example_store(
        d,
        &json!({
            "app/db": {"current": 1, "versions": {"1": {"fields": {"user": "app", "password": pw}}}},
            "app/other": {"current": 1, "versions": {"1": {"fields": {"token": other}}}},
        }),
    );
    let mut outs = Vec::new();

    let out = rotate(d, &["report.json", "--locate"]);
    assert_exit(&out, 0);
    assert_contains(
        &stdout(&out),
        "is the current value of plug:app/db#password",
    );
    outs.push(out);

    let before = fs::read(d.join("store.json")).unwrap();
    let out = rotate(d, &["report.json"]);
    assert_exit(&out, 0);
    // The example plugin offers `describe`: the dry run uses it and shows the version.
    assert_contains(
        &stdout(&out),
        "would-do         rotate plug:app/db#password",
    );
    assert_contains(&stdout(&out), "current version 1");
    assert_eq!(
        fs::read(d.join("store.json")).unwrap(),
        before,
        "a dry run writes nothing"
    );
    outs.push(out);

    let out = rotate(d, &["report.json", "--execute", "--yes"]);
    assert_exit(&out, 0);
    assert_contains(&stdout(&out), "version 1 -> 2");
    let s = store(d);
    assert_eq!(s["secrets"]["app/db"]["current"], 2);
    assert_eq!(
        s["secrets"]["app/db"]["versions"]["1"]["fields"]["password"],
        pw.as_str()
    );
    let new = s["secrets"]["app/db"]["versions"]["2"]["fields"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(new.len(), 32);
    assert_ne!(new, pw);
    assert_eq!(s["secrets"]["app/other"]["current"], 1);
    outs.push(out);

    for args in [
        vec!["report.json", "--execute", "--yes"],
        vec!["report.json", "--execute", "--yes", "--state", "fresh.json"],
    ] {
        let out = rotate(d, &args);
        assert_exit(&out, 0);
        assert_eq!(store(d)["secrets"]["app/db"]["current"], 2, "never twice");
        outs.push(out);
    }
    let canaries = [pw.as_str(), new.as_str()];
    for (i, o) in outs.iter().enumerate() {
        assert_output_clean(&format!("run {i}"), o, &canaries);
    }
    assert_files_clean(d, &canaries, &["app.env", "store.json"]);
}

/// A test plugin whose behaviour is chosen by `--mode` (a config value, not a secret).
const TEST_PLUGIN: &str = r#"
import base64, json, os, sys, time
args = sys.argv[1:]
mode = args[args.index("--mode") + 1]
state = "plugin-state.json"
def bump(name):
    s = json.load(open(state)) if os.path.exists(state) else {}
    s[name] = s.get(name, 0) + 1
    json.dump(s, open(state, "w"))
    return s[name]
def send(o):
    sys.stdout.write(json.dumps(o) + "\n"); sys.stdout.flush()
if mode == "env":
    json.dump({"env": dict(os.environ), "argv": sys.argv}, open("plugin-env.json", "w"))
if mode == "silent":
    time.sleep(30)
send({"protocol": "leaksweep-rotate", "versions": [1], "plugin": "test", "capabilities": {"ops": ["locate", "rotate", "verify"]}})
for line in sys.stdin:
    req = json.loads(line)
    op = req["op"]
    r = {"v": 1, "id": req["id"], "type": "result"}
    def val(k):
        return req[k]["value"]
    if op == "locate":
        r.update(status="located", locations=[{"path": "app/db", "key": "password"}])
    elif op == "verify":
        rotated = os.path.exists("rotated")
        r.update(status="verified", still_leaked=not rotated)
        if mode == "echo-verify":
            r["debug"] = "compared with " + val("leaked")
    elif op == "rotate":
        n = bump("rotate")
        if mode == "echo-rotate-b64":
            r.update(status="failed", error={"kind": "other", "message": "bad value " + base64.b64encode(val("new_value").encode()).decode()})
        elif mode == "echo-stderr":
            sys.stderr.write("writing " + val("new_value") + "\n"); sys.stderr.flush()
            time.sleep(0.2)
            r.update(status="would_rotate" if req["dry_run"] else "rotated", new_version="2")
        elif mode == "flaky" and n == 1:
            time.sleep(10)
        elif mode == "flaky" and n == 2:
            r.update(status="failed", error={"kind": "rate_limited", "message": "slow down"}, retryable=True)
        else:
            if not req["dry_run"]:
                open("rotated", "w").write(req["idempotency_key"])
            r.update(status="would_rotate" if req["dry_run"] else "rotated", new_version="2", previous_version="1")
    send(r)
"#;

fn test_plugin(dir: &Path, mode: &str, extra: &str) {
    fs::write(dir.join("plugin.py"), TEST_PLUGIN).unwrap();
    config(
        dir,
        &format!("[\"python3\", \"plugin.py\", \"--mode\", \"{mode}\"]"),
        extra,
    );
}

#[test]
fn exec_plugin_that_echoes_a_secret_is_failed_and_its_output_withheld() {
    for mode in ["echo-verify", "echo-rotate-b64", "echo-stderr"] {
        let dir = TempDir::new().unwrap();
        let d = dir.path();
        let pw = leaked_db(d, run_seed());
        test_plugin(d, mode, "");
        let out = rotate(d, &["report.json", "--execute", "--yes"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{mode}: {}\n{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(
            stdout(&out).contains("the plugin echoed a secret value"),
            "{mode}: {}",
            stdout(&out)
        );
        assert_output_clean(mode, &out, &[&pw]);
        assert_files_clean(d, &[&pw], &["app.env"]);
        let records = audit(&d.join(".leaksweep/rotate-audit.jsonl"));
        assert!(records.iter().any(|r| r["event"] == "failed"), "{mode}");
    }
}

#[test]
fn exec_plugin_gets_a_cleared_environment_and_no_secret_in_argv() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let pw = leaked_db(d, run_seed());
    // The real interpreter, not a wrapper script (pyenv shims add variables of their own).
    let py = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    let py = String::from_utf8(py.stdout).unwrap().trim().to_string();
    fs::write(d.join("plugin.py"), TEST_PLUGIN).unwrap();
    config(
        d,
        &format!("[{py:?}, \"plugin.py\", \"--mode\", \"env\"]"),
        "pass_env = [\"PASSME\"]",
    );
    let out = rotate(d, &["report.json", "--execute", "--yes"]);
    assert_exit(&out, 0);
    let seen: Value =
        serde_json::from_str(&fs::read_to_string(d.join("plugin-env.json")).unwrap()).unwrap();
    let env = seen["env"].as_object().unwrap();
    assert_eq!(env.get("PASSME").and_then(Value::as_str), Some("passed"));
    assert!(!env.contains_key("LSW_CANARY_ENV"), "{env:?}");
    let allowed = ["PATH", "HOME", "LANG", "TMPDIR", "PASSME", "LC_CTYPE"];
    for k in env.keys() {
        assert!(
            allowed.contains(&k.as_str()),
            "unexpected variable {k} in the plugin's environment"
        );
    }
    let argv: Vec<&str> = seen["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(argv[1..], ["--mode", "env", "--leaksweep-plugin"]);
    assert_output_clean(
        "env",
        &out,
        &[&pw, "canary-env-value-must-not-reach-plugins"],
    );
    assert_files_clean(d, &[&pw], &["app.env"]);
}

#[test]
fn exec_plugin_timeout_and_retryable_failure_are_retried_after_verifying() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let pw = leaked_db(d, run_seed());
    test_plugin(d, "flaky", "timeout_ms = 800");
    let out = rotate(d, &["report.json", "--execute", "--yes"]);
    assert_exit(&out, 0);
    assert_contains(&stdout(&out), "rotated ");
    let kinds = failed_attempt_kinds(d);
    assert_eq!(kinds, ["timeout", "throttled"], "{kinds:?}");
    let counts: Value =
        serde_json::from_str(&fs::read_to_string(d.join("plugin-state.json")).unwrap()).unwrap();
    assert_eq!(counts["rotate"], 3);
    assert_output_clean("flaky", &out, &[&pw]);
}

#[test]
fn exec_plugin_without_hello_is_reported() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let pw = leaked_db(d, run_seed());
    test_plugin(d, "silent", "hello_timeout_ms = 300");
    let started = std::time::Instant::now();
    let out = rotate(d, &["report.json", "--locate"]);
    assert_exit(&out, 2);
    assert_contains(&stderr(&out), "printed no hello within 300 ms");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the silent plugin was killed"
    );
    assert_output_clean("silent", &out, &[&pw]);
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// History findings name a commit and a path: the value is re-read from that blob even
/// though the file no longer holds it.
#[test]
fn exec_history_finding_is_reread_from_its_blob() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let pw = leaked_db(d, run_seed());
    let report: Value =
        serde_json::from_str(&fs::read_to_string(d.join("report.json")).unwrap()).unwrap();
    let f = &report["findings"][0];
    git(d, &["init", "-q"]);
    git(d, &["add", "app.env"]);
    git(d, &["commit", "-q", "-m", "add config"]);
    let commit = git(d, &["rev-parse", "HEAD"]);
    fs::write(d.join("app.env"), "DATABASE_URL=${DATABASE_URL}\n").unwrap();
    git(d, &["commit", "-q", "-am", "use the environment"]);
    let line = |commit: &str| {
        json!({"rule_id": f["rule_id"], "path": "app.env", "fingerprint": f["fingerprint"], "commit": commit, "secret": f["secret"]})
            .to_string()
    };
    fs::write(
        d.join("history.jsonl"),
        format!(
            "{}\n{}\n",
            line("0123456789abcdef0123456789abcdef01234567"),
            line(&commit)
        ),
    )
    .unwrap();
    db_store(d, &pw);
    let out = rotate(d, &["history.jsonl", "--locate"]);
    assert_exit(&out, 0);
    assert_contains(
        &stdout(&out),
        "is the current value of plug:app/db#password",
    );
    // The first line names a commit that does not exist: skipped with a reason.
    assert_contains(&stderr(&out), "commit not in the repository");
    // A worktree finding whose file changed since the report is skipped, not guessed.
    let out2 = rotate(d, &["report.json", "--locate"]);
    assert_contains(&stderr(&out2), "no longer found in app.env");
    for o in [&out, &out2] {
        assert_output_clean("history", o, &[&pw]);
    }
}

#[test]
fn exec_execute_without_a_terminal_needs_yes() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let pw = leaked_db(d, run_seed());
    db_store(d, &pw);
    let before = fs::read(d.join("store.json")).unwrap();
    let out = bin()
        .current_dir(d)
        .args(["rotate", "report.json", "--execute"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert_contains(&stderr(&out), "pass --yes");
    assert_eq!(fs::read(d.join("store.json")).unwrap(), before);
    assert_output_clean("no-tty", &out, &[&pw]);
}

/// On a terminal, --execute asks first; anything but "yes" writes nothing. `script`
/// (util-linux) gives the binary a pseudo-terminal.
#[test]
#[ignore = "needs script from util-linux (see TESTING.md)"]
fn exec_execute_on_a_terminal_asks_for_confirmation() {
    if let Err(e) = std::process::Command::new("script")
        .arg("--version")
        .output()
    {
        panic!("`script` (util-linux) gives this test a terminal and cannot run: {e}");
    }
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let pw = leaked_db(d, run_seed());
    db_store(d, &pw);
    let on_tty = |answer: &str| {
        let mut child = std::process::Command::new("script")
            .current_dir(d)
            .args([
                "-qec",
                &format!(
                    "{} rotate report.json --execute",
                    env!("CARGO_BIN_EXE_leaksweep")
                ),
                "/dev/null",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{answer}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let no = on_tty("no");
    assert_exit(&no, 2);
    assert_contains(&stdout(&no), "Type \"yes\"");
    assert_contains(&stdout(&no), "nothing was written");
    assert_eq!(store(d)["secrets"]["app/db"]["current"], 1);
    let yes = on_tty("yes");
    assert_exit(&yes, 0);
    assert_eq!(store(d)["secrets"]["app/db"]["current"], 2);
    for o in [&no, &yes] {
        assert_output_clean("tty", o, &[&pw]);
    }
}

/// The example plugin's store with the leaked password at `app/db`, and a config whose
/// routes send the leak to the plugin first and then to `second` (a backend block).
fn store_and_second_backend(d: &Path, pw: &str, second: &str) {
    db_store(d, pw);
    config_then(
        d,
        &example_command(),
        &format!("\n{second}"),
        "\n[[rotation.route]]\nrules = [\"database-connection-uri\"]\nbackend = \"other\"\n",
    );
}

/// One bad `[[rotation.backend]]` block after a good one: the whole config is checked
/// before the first write, so the good store keeps the leaked value (it would be rotated
/// first if backends were checked when used), and no audit log or state file appears.
/// Each error names the config file and the line to fix.
#[test]
fn exec_one_bad_backend_block_stops_the_run_before_any_write() {
    let cases = [
        // (the second block, the line the error names, what it says)
        (
            "[[rotation.backend]]\nname = \"other\"\nkind = \"exec\"\ncomand = [\"x\"]",
            14,
            "unknown field `comand`",
        ),
        (
            "[[rotation.backend]]\nname = \"other\"\nkind = \"aws-secretmanager\"",
            11,
            "unknown kind \"aws-secretmanager\"",
        ),
        (
            "[[rotation.backend]]\nname = \"other\"\nkind = \"vault\"\naddress = \
             \"http://127.0.0.1:1\"\ntoken = \"hvs.literal-token-in-config\"",
            15,
            "`token` must not be written in the config",
        ),
        (
            "[[rotation.backend]]\nname = \"other\"\nkind = \"exec\"\ncommand = [\"x\"]\n\
             timeout_ms = \"soon\"",
            11,
            "invalid settings for kind = \"exec\"",
        ),
    ];
    for (second, line, says) in cases {
        let dir = TempDir::new().unwrap();
        let d = dir.path();
        let pw = leaked_db(d, run_seed());
        store_and_second_backend(d, &pw, second);
        let before = fs::read(d.join("store.json")).unwrap();
        let out = rotate(d, &["report.json", "--execute", "--yes"]);
        assert_exit(&out, 2);
        assert_contains(&stderr(&out), &format!(".leaksweep.toml:{line}: other: "));
        assert_contains(&stderr(&out), says);
        assert_contains(&stderr(&out), "nothing was done");
        assert_eq!(
            fs::read(d.join("store.json")).unwrap(),
            before,
            "{says}: the good backend was written"
        );
        assert!(
            !d.join(".leaksweep").exists(),
            "{says}: audit or state written"
        );
        assert!(!stderr(&out).contains("hvs.literal-token-in-config"));
        assert_output_clean(says, &out, &[&pw]);
    }
}

/// TOML syntax and type errors in the rotation config name `file:line`.
#[test]
fn exec_rotation_config_syntax_and_type_errors_name_the_line() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    leaked_db(d, run_seed());
    for (text, want) in [
        (
            "[rotation]\naudit_log = \"a.jsonl\"\n\n[[rotation.backend]\nname = \"p\"\n",
            ".leaksweep.toml:4: ",
        ),
        (
            "[rotation]\nstate_file = \"s.json\"\naudit_log = 3\n",
            ".leaksweep.toml:3: ",
        ),
        (
            "[rotation]\n\n[[rotation.route]]\nbackend = \"p\"\nrulez = [\"x\"]\n",
            ".leaksweep.toml:5: unknown key \"rulez\"",
        ),
    ] {
        fs::write(d.join(".leaksweep.toml"), text).unwrap();
        let out = rotate(d, &["report.json"]);
        assert_exit(&out, 2);
        assert_contains(&stderr(&out), want);
    }
}

/// A run that found a leak but acts on none of it exits 3, dry run or not: no route
/// matches its rule, or its history finding cannot be re-read (no repository). A gate
/// must not read that as success (exit 0 is kept for runs that did all they planned).
#[test]
fn exec_leak_left_unrotated_exits_3() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let pw = leaked_db(d, run_seed());
    db_store(d, &pw);
    let routed = fs::read_to_string(d.join(".leaksweep.toml")).unwrap();
    fs::write(
        d.join(".leaksweep.toml"),
        routed.replace(
            "rules = [\"database-connection-uri\"]",
            "rules = [\"github-pat\"]",
        ),
    )
    .unwrap();
    for args in [&["report.json"][..], &["report.json", "--execute", "--yes"]] {
        let out = rotate(d, args);
        assert_exit(&out, 3);
        assert_contains(&stdout(&out), "no-route");
        assert_contains(&stderr(&out), "1 leaked value left unrotated");
        assert_output_clean("no route", &out, &[&pw]);
    }
    assert_eq!(store(d)["secrets"]["app/db"]["current"], 1);

    // A history finding, but the directory is no repository (and no --repo).
    fs::write(d.join(".leaksweep.toml"), routed).unwrap();
    let report: Value =
        serde_json::from_str(&fs::read_to_string(d.join("report.json")).unwrap()).unwrap();
    let f = &report["findings"][0];
    let line = json!({"rule_id": f["rule_id"], "path": "app.env", "fingerprint": f["fingerprint"],
        "commit": "0123456789abcdef0123456789abcdef01234567"});
    fs::write(d.join("history.jsonl"), format!("{line}\n")).unwrap();
    let out = rotate(d, &["history.jsonl", "--execute", "--yes"]);
    assert_exit(&out, 3);
    assert_contains(&stderr(&out), "pass --repo DIR");
    assert_eq!(store(d)["secrets"]["app/db"]["current"], 1);

    // The same leak with its route: rotated, exit 0.
    let out = rotate(d, &["report.json", "--execute", "--yes"]);
    assert_exit(&out, 0);
    assert_eq!(store(d)["secrets"]["app/db"]["current"], 2);
}

/// Locate-only runs and refused runs leave audit records; the lock file of an executing
/// run is created 0600 like the state file.
#[test]
fn exec_locate_and_refused_runs_are_audited_and_the_lock_is_private() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let pw = leaked_db(d, run_seed());
    db_store(d, &pw);
    let log = d.join(".leaksweep/rotate-audit.jsonl");

    let out = rotate(d, &["report.json", "--locate"]);
    assert_exit(&out, 0);
    let records = audit(&log);
    let located: Vec<&Value> = records.iter().filter(|r| r["event"] == "located").collect();
    assert_eq!(located.len(), 1, "{records:?}");
    assert_eq!(located[0]["target"], "plug:app/db#password");
    assert_eq!(located[0]["action"], "locate");

    // A value no store holds: a locate-only run records that the backend was asked.
    fs::write(d.join("store.json"), json!({"secrets": {}}).to_string()).unwrap();
    let out = rotate(d, &["report.json", "--locate"]);
    assert_exit(&out, 0);
    let records = audit(&log);
    let not_located: Vec<&Value> = records
        .iter()
        .filter(|r| r["event"] == "not_located")
        .collect();
    assert_eq!(not_located.len(), 1, "{records:?}");
    assert_eq!(not_located[0]["backend"], "plug");

    // --execute without --yes and without a terminal: refused, recorded, nothing written.
    db_store(d, &pw);
    let out = bin()
        .current_dir(d)
        .args(["rotate", "report.json", "--execute"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let records = audit(&log);
    let refused: Vec<&Value> = records.iter().filter(|r| r["event"] == "refused").collect();
    assert_eq!(refused.len(), 1, "{records:?}");
    assert_eq!(refused[0]["target"], "plug:app/db#password");
    assert_eq!(refused[0]["dry_run"], false);
    assert_contains(refused[0]["message"].as_str().unwrap(), "pass --yes");
    assert_eq!(store(d)["secrets"]["app/db"]["current"], 1);

    let out = rotate(d, &["report.json", "--execute", "--yes"]);
    assert_exit(&out, 0);
    #[cfg(unix)]
    for f in [
        "rotate-state.json.lock",
        "rotate-state.json",
        "rotate-audit.jsonl",
    ] {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(d.join(".leaksweep").join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    assert_files_clean(d, &[&pw], &["app.env", "store.json"]);
}
