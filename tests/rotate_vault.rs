//! `leaksweep rotate` against a real OpenBao (Vault API) dev server started by `.ci/run`.
//! Every test greps all outputs, the report, the audit log and the state file for the
//! leaked and the new values.

mod common;
mod rotate_common;

use std::fs;
use std::path::Path;
use std::process::Output;

use common::*;
use rotate_common::*;
use serde_json::{json, Value};
use tempfile::TempDir;

fn rotate(dir: &Path, args: &[&str], token: &str) -> Output {
    bin()
        .current_dir(dir)
        .arg("rotate")
        .args(args)
        .env("LSW_TEST_VAULT_TOKEN", token)
        .output()
        .expect("run leaksweep")
}

fn config(dir: &Path, addr: &str, prefix: &str, extra_routes: &str) {
    write_rotation_config(
        dir,
        200,
        &format!(
            r#"
[[rotation.backend]]
name = "bao"
kind = "openbao"
address = "{addr}"
token_env = "LSW_TEST_VAULT_TOKEN"
locate_prefixes = ["{prefix}"]
timeout_ms = 5000

[[rotation.route]]
rules = ["database-connection-uri"]
backend = "bao"
policy = {{ length = 40, charset = "alnum" }}
{extra_routes}
"#
        ),
    );
}

/// Writes `data` as a new version of KV v2 secret `secret/{path}`.
fn put(addr: &str, root: &str, path: &str, data: &Value) {
    let body = json!({ "data": data });
    let (s, v) = vault_call(
        addr,
        root,
        "POST",
        &format!("secret/data/{path}"),
        Some(body),
    );
    assert_eq!(s, 200, "{v}");
}

fn current(addr: &str, root: &str, path: &str) -> (u64, Value) {
    let (s, v) = vault_call(addr, root, "GET", &format!("secret/data/{path}"), None);
    assert_eq!(s, 200, "{v}");
    (
        v["data"]["metadata"]["version"].as_u64().unwrap(),
        v["data"]["data"].clone(),
    )
}

#[test]
#[ignore = "needs an OpenBao/Vault dev server (see TESTING.md)"]
fn vault_locate_dry_run_rotate_and_rerun() {
    let (addr, root) = vault();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let seed = run_seed();
    let prefix = format!("lsw-{seed:x}");
    let pw = write_leaked_db(d, seed, ".env", "APP=1\n");
    let decoy = random_alnum(seed ^ 7, 24);
    for (path, data) in [
        (
            format!("{prefix}/db"),
            json!({"user": "app", "password": pw}),
        ),
        (format!("{prefix}/team/legacy"), json!({"dsn_password": pw})),
        (format!("{prefix}/unrelated"), json!({"password": decoy})),
    ] {
        put(&addr, &root, &path, &data);
    }
    config(d, &addr, &prefix, "");
    scan_to_report(d, ".env", "report.json", &[]);
    let mut outputs = Vec::new();

    // Locate: both stored copies, named by backend, path and field.
    let out = rotate(d, &["report.json", "--locate"], &root);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("is the current value of bao:secret/{prefix}/db#password and bao:secret/{prefix}/team/legacy#dsn_password")),
        "{text}"
    );
    assert!(!text.contains("unrelated"), "{text}");
    outputs.push(out);

    // Dry run (the default): a plan, read-only checks, and nothing written.
    let out = rotate(d, &["report.json"], &root);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("dry run"), "{text}");
    assert!(
        text.contains(&format!(
            "-> bao:secret/{prefix}/db#password: rotate (new version, 40 chars alnum)"
        )),
        "{text}"
    );
    assert_eq!(text.matches("would-do").count(), 2, "{text}");
    assert_eq!(current(&addr, &root, &format!("{prefix}/db")).0, 1);
    assert_eq!(current(&addr, &root, &format!("{prefix}/team/legacy")).0, 1);
    assert!(!d.join(".leaksweep/rotate-state.json").exists());
    outputs.push(out);

    // Execute: a new version with a fresh value; the old version stays for rollback.
    let out = rotate(d, &["report.json", "--execute", "--yes"], &root);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert_eq!(text.matches("rotated ").count(), 2, "{text}");
    assert!(text.contains("version 1 -> 2"), "{text}");
    let (v, data) = current(&addr, &root, &format!("{prefix}/db"));
    assert_eq!(v, 2);
    assert_eq!(data["user"], "app", "other fields are kept");
    let new_db = data["password"].as_str().unwrap().to_string();
    assert_eq!(new_db.len(), 40);
    assert!(new_db.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_ne!(new_db, pw);
    let (_, old) = vault_call(
        &addr,
        &root,
        "GET",
        &format!("secret/data/{prefix}/db?version=1"),
        None,
    );
    assert_eq!(
        old["data"]["data"]["password"],
        pw.as_str(),
        "version 1 kept for rollback"
    );
    let (v2, legacy) = current(&addr, &root, &format!("{prefix}/team/legacy"));
    assert_eq!(v2, 2);
    let new_legacy = legacy["dsn_password"].as_str().unwrap().to_string();
    assert_ne!(new_legacy, new_db, "each target gets its own value");
    let (vu, _) = current(&addr, &root, &format!("{prefix}/unrelated"));
    assert_eq!(vu, 1, "a secret holding another value is not touched");
    outputs.push(out);

    // Re-run: nothing is rotated a second time.
    let out = rotate(d, &["report.json", "--execute", "--yes"], &root);
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out).matches("already-done").count(),
        2,
        "{}",
        stdout(&out)
    );
    assert_eq!(current(&addr, &root, &format!("{prefix}/db")).0, 2);
    outputs.push(out);
    // Even without the state file, the target no longer holds the leaked value.
    let out = rotate(
        d,
        &[
            "report.json",
            "--execute",
            "--yes",
            "--state",
            "other-state.json",
        ],
        &root,
    );
    assert_exit(&out, 0);
    assert_eq!(current(&addr, &root, &format!("{prefix}/db")).0, 2);
    outputs.push(out);

    // The audit log: 0600, every step, version ids, and no value.
    let log = d.join(".leaksweep/rotate-audit.jsonl");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&log).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let records = audit(&log);
    let events: Vec<&str> = records
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    for e in [
        "located",
        "planned",
        "would_rotate",
        "attempt",
        "done",
        "skipped",
    ] {
        assert!(events.contains(&e), "no {e} event in {events:?}");
    }
    let done = records
        .iter()
        .find(|r| r["event"] == "done" && r["status"] == "rotated")
        .unwrap();
    assert_eq!(done["previous_version"], "1");
    assert_eq!(done["new_version"], "2");
    assert!(done["idempotency_key"]
        .as_str()
        .unwrap()
        .starts_with("lsw1-"));

    let canaries = [pw.as_str(), new_db.as_str(), new_legacy.as_str()];
    for (i, o) in outputs.iter().enumerate() {
        assert_output_clean(&format!("run {i}"), o, &canaries);
    }
    assert_files_clean(d, &canaries, &[".env"]);
}

#[test]
#[ignore = "needs an OpenBao/Vault dev server (see TESTING.md)"]
fn vault_token_revocation() {
    let (addr, root) = vault();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let (s, v) = vault_call(
        &addr,
        &root,
        "POST",
        "auth/token/create",
        Some(json!({"policies": ["default"], "ttl": "1h"})),
    );
    assert_eq!(s, 200, "{v}");
    let leaked = v["auth"]["client_token"].as_str().unwrap().to_string();
    fs::write(d.join(".env"), format!("VAULT_TOKEN={leaked}\n")).unwrap();
    config(
        d,
        &addr,
        "none",
        "[[rotation.route]]\nrules = [\"vault-service-token\", \"vault-legacy-token\"]\nbackend = \"bao\"\naction = \"revoke\"\n",
    );
    scan_to_report(d, ".env", "report.json", &[]);
    let alive = || vault_call(&addr, &leaked, "GET", "auth/token/lookup-self", None).0 == 200;
    assert!(alive());

    let dry = rotate(d, &["report.json"], &root);
    assert_exit(&dry, 0);
    assert_contains(&stdout(&dry), "bao (revoke the credential): revoke");
    assert!(alive(), "a dry run revokes nothing");

    let exec = rotate(d, &["report.json", "--execute", "--yes"], &root);
    assert_exit(&exec, 0);
    assert_contains(&stdout(&exec), "revoked ");
    assert!(!alive(), "the leaked token is revoked");

    let again = rotate(d, &["report.json", "--execute", "--yes"], &root);
    assert_exit(&again, 0);
    assert_contains(&stdout(&again), "already-done");

    for o in [&dry, &exec, &again] {
        assert_output_clean("revoke", o, &[&leaked]);
    }
    assert_files_clean(d, &[&leaked], &[".env"]);
}

#[test]
#[ignore = "needs an OpenBao/Vault dev server (see TESTING.md)"]
fn vault_retries_injected_503_and_throttling() {
    let (addr, root) = vault();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let seed = run_seed();
    let prefix = format!("lsw-{seed:x}");
    let pw = write_leaked_db(d, seed, ".env", "APP=1\n");
    put(
        &addr,
        &root,
        &format!("{prefix}/db"),
        &json!({"password": pw}),
    );
    // Requests 0 and 1 fail with 503, the first write with 429; the rest pass.
    let proxy = Proxy::start(&addr, |n, head| {
        if n < 2 {
            Fault::Reply(response(
                "503 Service Unavailable",
                r#"{"errors":["Vault is sealed"]}"#,
            ))
        } else if head.starts_with("POST") && head.contains("/data/") && !head.contains("lookup") {
            static ONCE: std::sync::Once = std::sync::Once::new();
            let mut fault = Fault::Pass;
            ONCE.call_once(|| {
                fault = Fault::Reply(response(
                    "429 Too Many Requests",
                    r#"{"errors":["rate limit quota exceeded"]}"#,
                ));
            });
            fault
        } else {
            Fault::Pass
        }
    });
    config(d, &proxy.url, &prefix, "");
    scan_to_report(d, ".env", "report.json", &[]);
    let out = rotate(d, &["report.json", "--execute", "--yes"], &root);
    assert_exit(&out, 0);
    let (v, data) = current(&addr, &root, &format!("{prefix}/db"));
    assert_eq!(v, 2, "exactly one new version despite the retries");
    let kinds = failed_attempt_kinds(d);
    assert_eq!(
        kinds.iter().filter(|k| **k == "unavailable").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "throttled").count(),
        1,
        "{kinds:?}"
    );
    let new = data["password"].as_str().unwrap().to_string();
    assert_output_clean("retry", &out, &[&pw, &new]);
    assert_files_clean(d, &[&pw, &new], &[".env"]);
}

#[test]
#[ignore = "needs an OpenBao/Vault dev server (see TESTING.md)"]
fn vault_errors_name_the_cause_and_the_fix() {
    let (addr, root) = vault();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let seed = run_seed();
    let prefix = format!("lsw-{seed:x}");
    let pw = write_leaked_db(d, seed, ".env", "APP=1\n");
    put(
        &addr,
        &root,
        &format!("{prefix}/db"),
        &json!({"password": pw}),
    );
    scan_to_report(d, ".env", "report.json", &[]);

    // A wrong token: 403 from the server, explained as a token problem.
    config(d, &addr, &prefix, "");
    let out = rotate(
        d,
        &["report.json", "--locate"],
        "s.NotARealToken000000000000",
    );
    assert_exit(&out, 2);
    assert_contains(&stderr(&out), "expired, revoked or wrong");
    assert_contains(&stderr(&out), "$LSW_TEST_VAULT_TOKEN");

    // A token that may read but not write (not even look itself up): names the missing
    // capability and path, not a token problem.
    let policy = format!(
        "path \"secret/data/{prefix}/*\" {{ capabilities = [\"read\"] }}\npath \"secret/metadata/{prefix}/*\" {{ capabilities = [\"list\", \"read\"] }}\npath \"secret/metadata/{prefix}\" {{ capabilities = [\"list\"] }}"
    );
    let name = format!("ro-{prefix}");
    let (s, _) = vault_call(
        &addr,
        &root,
        "PUT",
        &format!("sys/policies/acl/{name}"),
        Some(json!({"policy": policy})),
    );
    assert_eq!(s, 204);
    let (_, t) = vault_call(
        &addr,
        &root,
        "POST",
        "auth/token/create",
        Some(json!({"policies": [name], "no_default_policy": true, "ttl": "10m"})),
    );
    let ro = t["auth"]["client_token"].as_str().unwrap().to_string();
    let out = rotate(d, &["report.json", "--execute", "--yes"], &ro);
    assert_exit(&out, 2);
    assert_contains(
        &stdout(&out),
        &format!("lacks `update` on secret/data/{prefix}/db"),
    );
    assert_eq!(current(&addr, &root, &format!("{prefix}/db")).0, 1);

    // A target on a mount that does not exist: 404, wrong path or mount.
    config(
        d,
        &addr,
        &prefix,
        "[[rotation.route]]\nrules = [\"database-connection-uri\"]\nbackend = \"bao\"\ntarget = \"nosuchmount/app/db#password\"\n",
    );
    let out = rotate(d, &["report.json"], &root);
    assert_exit(&out, 2);
    assert_contains(&stdout(&out), "wrong path or mount");
    assert_output_clean("errors", &out, &[&pw, &ro, &root]);
}

/// A good OpenBao backend and a second block with a typo (an unknown field): the run
/// stops before the first write, so OpenBao keeps its version (checked on the server) and
/// the error names the line to fix.
#[test]
#[ignore = "needs the OpenBao dev server (see TESTING.md)"]
fn vault_one_bad_backend_block_leaves_openbao_unwritten() {
    let (addr, root) = vault();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let seed = run_seed();
    let prefix = format!("lsw-{seed:x}");
    let pw = write_leaked_db(d, seed, ".env", "");
    put(
        &addr,
        &root,
        &format!("{prefix}/db"),
        &json!({"password": pw}),
    );
    config(
        d,
        &addr,
        &prefix,
        r#"
[[rotation.backend]]
name = "aws"
kind = "aws-secretsmanager"
region = "us-east-1"
access_key_id_env = "AWS_ACCESS_KEY_ID"
secret_acess_key_env = "AWS_SECRET_ACCESS_KEY"

[[rotation.route]]
rules = ["database-connection-uri"]
backend = "aws"
"#,
    );
    scan_to_report(d, ".env", "report.json", &[]);
    let out = rotate(d, &["report.json", "--execute", "--yes"], &root);
    assert_exit(&out, 2);
    assert_contains(&stderr(&out), ".leaksweep.toml:24: aws: ");
    assert_contains(&stderr(&out), "unknown field `secret_acess_key_env`");
    let (version, data) = current(&addr, &root, &format!("{prefix}/db"));
    assert_eq!(
        version, 1,
        "OpenBao was written before the config was checked"
    );
    assert_eq!(data["password"], pw.as_str());
    assert!(!d.join(".leaksweep").exists());
    assert_output_clean("bad config", &out, &[&pw]);
}

/// A token with the policies of `default`, valid for an hour.
fn new_token(addr: &str, root: &str) -> String {
    let (s, v) = vault_call(
        addr,
        root,
        "POST",
        "auth/token/create",
        Some(json!({"policies": ["default"], "ttl": "1h"})),
    );
    assert_eq!(s, 200, "{v}");
    v["auth"]["client_token"].as_str().unwrap().to_string()
}

/// After `rotate --execute --validate`, the old value is validated again at the
/// provider (here OpenBao's lookup-self) and the report says it plainly: a revoked token
/// "no longer works"; a token whose stored copy got a new version "still works", because
/// a new version in a store does not revoke the credential.
#[test]
#[ignore = "needs an OpenBao/Vault dev server (see TESTING.md)"]
fn vault_old_values_are_validated_again_after_rotation() {
    let (addr, root) = vault();
    let endpoint = format!("vault={addr}");
    let recheck = ["--validate", "--validate-endpoint", endpoint.as_str()];

    // Revoked by the rotation: no longer works (text report).
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let revoked = new_token(&addr, &root);
    fs::write(d.join(".env"), format!("VAULT_TOKEN={revoked}\n")).unwrap();
    config(
        d,
        &addr,
        "none",
        "[[rotation.route]]\nrules = [\"vault-service-token\", \"vault-legacy-token\"]\nbackend = \"bao\"\naction = \"revoke\"\n",
    );
    scan_to_report(d, ".env", "report.json", &[]);
    let mut args = vec!["report.json", "--execute", "--yes"];
    args.extend(recheck);
    let gone = rotate(d, &args, &root);
    assert_exit(&gone, 0);
    let text = stdout(&gone);
    assert!(text.contains("revoked "), "{text}");
    assert!(text.contains("old values (validated again):"), "{text}");
    assert!(text.contains("token): old value no longer works"), "{text}");
    assert_output_clean("revoke", &gone, &[&revoked]);

    // A new version of the stored copy: the old token still works (JSON report).
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let seed = run_seed();
    let prefix = format!("lsw-{seed:x}");
    let kept = new_token(&addr, &root);
    put(
        &addr,
        &root,
        &format!("{prefix}/ci"),
        &json!({"token": kept}),
    );
    fs::write(d.join(".env"), format!("VAULT_TOKEN={kept}\n")).unwrap();
    config(
        d,
        &addr,
        &prefix,
        "[[rotation.route]]\nrules = [\"vault-service-token\", \"vault-legacy-token\"]\nbackend = \"bao\"\npolicy = { length = 40, charset = \"alnum\" }\n",
    );
    scan_to_report(d, ".env", "report.json", &[]);
    let mut args = vec!["report.json", "--execute", "--yes", "-f", "json"];
    args.extend(recheck);
    let still = rotate(d, &args, &root);
    assert_exit(&still, 0);
    let doc: Value = serde_json::from_str(&stdout(&still)).expect("JSON report");
    let old = doc["old_values"].as_array().expect("old_values");
    assert_eq!(old.len(), 1, "{doc}");
    assert_eq!(old[0]["verdict"], "still_works", "{doc}");
    assert_eq!(
        old[0]["message"],
        "old value still works: revoke it at the provider"
    );
    assert_eq!(old[0]["validation"]["status"], "live");
    assert_eq!(old[0]["validation"]["scopes"], json!(["default"]));
    assert_eq!(current(&addr, &root, &format!("{prefix}/ci")).0, 2);
    assert_output_clean("rotate", &still, &[&kept]);

    // Without --execute nothing is validated again (nothing was rotated).
    let dry = rotate(
        d,
        &[
            "report.json",
            "--validate",
            "--validate-endpoint",
            &endpoint,
        ],
        &root,
    );
    assert_exit(&dry, 0);
    assert!(!stdout(&dry).contains("old value"), "{}", stdout(&dry));
    // A cache would answer with the value's state before the rotation: refused.
    let cached = rotate(
        d,
        &["report.json", "--validate", "--validate-cache", "c.json"],
        &root,
    );
    assert_exit(&cached, 2);
}
