//! `leaksweep rotate` (the real binary) against the cloud contract servers: locate, dry
//! run, execute after injected throttling, re-run, and no leaked or new value in any
//! output, file or server log. One test per backend kind.

mod common;
#[path = "rotate_cloud/harness.rs"]
mod harness;
mod rotate_common;

use std::fs;
use std::path::Path;
use std::process::Output;

use common::*;
use harness::Server;
use rotate_common::*;
use serde_json::{json, Value};
use tempfile::TempDir;

/// One backend under test.
struct Case<'a> {
    srv: &'a Server,
    /// The `[[rotation.backend]]` table, named "cloud".
    backend: String,
    /// Environment of the leaksweep process (credential variables).
    env: Vec<(&'static str, String)>,
    /// How `--locate` names the stored copy (`cloud:...`).
    location: String,
    /// The write request's path prefix on the server (for the injected 429).
    write_path: String,
    /// Reads the current value of the target from the server state.
    current: &'a dyn Fn(&Server) -> String,
}

fn rotate(dir: &Path, case: &Case<'_>, args: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.current_dir(dir).arg("rotate").args(args);
    for (k, v) in &case.env {
        cmd.env(k, v);
    }
    cmd.output().expect("run leaksweep")
}

/// Writes `.env` with a leaked database URL and scans it; returns (report dir, password).
fn leak(seed: u64) -> (TempDir, String) {
    let dir = TempDir::new().unwrap();
    let pw = write_leaked_db(dir.path(), seed, ".env", "APP=1\n");
    scan_to_report(dir.path(), ".env", "report.json", &[]);
    (dir, pw)
}

fn full_cycle(d: &Path, pw: &str, case: &Case<'_>) {
    write_rotation_config(
        d,
        200,
        &format!(
            "\n[[rotation.backend]]\nname = \"cloud\"\n{}\n\n\
             [[rotation.route]]\nrules = [\"database-connection-uri\"]\nbackend = \"cloud\"\n\
             policy = {{ length = 40, charset = \"alnum\" }}\n",
            case.backend
        ),
    );
    let mut outputs = Vec::new();

    let out = rotate(d, case, &["report.json", "--locate"]);
    assert_exit(&out, 0);
    assert_contains(&stdout(&out), &case.location);
    assert!(!stdout(&out).contains("decoy"), "{}", stdout(&out));
    outputs.push(out);

    let out = rotate(d, case, &["report.json"]);
    assert_exit(&out, 0);
    assert_contains(&stdout(&out), "dry run");
    assert_eq!(
        stdout(&out).matches("would-do").count(),
        1,
        "{}",
        stdout(&out)
    );
    assert!(
        case.srv.writes().is_empty(),
        "the dry run wrote: {:?}",
        case.srv.writes()
    );
    assert_eq!((case.current)(case.srv), pw);
    outputs.push(out);

    // Throttled once on the write: retried, one new version.
    case.srv.fault(None, &case.write_path, 429, 1, Some(0));
    let out = rotate(d, case, &["report.json", "--execute", "--yes"]);
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out).matches("rotated ").count(),
        1,
        "{}",
        stdout(&out)
    );
    let new = (case.current)(case.srv);
    assert_ne!(new, pw);
    assert_eq!(new.len(), 40);
    assert!(new.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert!(
        case.srv.requests().iter().any(|r| r.2 == 429),
        "the fault was hit: {:?}",
        case.srv.requests()
    );
    let writes: Vec<u16> = case.srv.writes().iter().map(|w| w.2).collect();
    assert_eq!(
        writes.iter().filter(|s| (200..300).contains(*s)).count(),
        1,
        "{writes:?}"
    );
    outputs.push(out);

    let out = rotate(d, case, &["report.json", "--execute", "--yes"]);
    assert_exit(&out, 0);
    assert_contains(&stdout(&out), "already-done");
    assert_eq!((case.current)(case.srv), new, "nothing rotated twice");
    outputs.push(out);

    let log = d.join(".leaksweep/rotate-audit.jsonl");
    let events: Vec<String> = audit(&log)
        .iter()
        .map(|r| r["event"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(events.iter().any(|e| e == "done"), "{events:?}");
    for (i, o) in outputs.iter().enumerate() {
        assert_output_clean(&format!("run {i}"), o, &[pw, &new]);
    }
    assert_files_clean(d, &[pw, &new], &[".env"]);
    harness::assert_no_canary("server log", &case.srv.log(), &[pw, &new]);
}

#[test]
fn cli_azure_keyvault() {
    let srv = Server::start("azure_kv.py", &[]);
    let (dir, pw) = leak(run_seed() ^ 0xA2);
    srv.seed(json!({"tokens": ["az-cli-token"], "secrets": {
        "app-db": [{"value": pw, "contentType": "text/plain"}],
        "decoy": [{"value": "something-else-entirely"}],
    }}));
    let current = |s: &Server| {
        s.state()["secrets"]["app-db"]
            .as_array()
            .and_then(|v| v.last())
            .map(|v| v["value"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    full_cycle(
        dir.path(),
        &pw,
        &Case {
            srv: &srv,
            backend: format!(
                "kind = \"azure-keyvault\"\nvault_url = \"{}\"\ntoken_env = \"LSW_CLI_AZ_TOKEN\"",
                srv.base
            ),
            env: vec![("LSW_CLI_AZ_TOKEN", "az-cli-token".into())],
            location: "cloud:app-db".into(),
            write_path: "/secrets/app-db".into(),
            current: &current,
        },
    );
}

#[test]
fn cli_gcp_secretmanager() {
    let srv = Server::start("gcp_sm.py", &[]);
    let (dir, pw) = leak(run_seed() ^ 0x6C);
    srv.seed(json!({"tokens": ["ya29.cli"], "secrets": {
        "app-db": [{"data": pw}],
        "decoy": [{"data": "something-else-entirely"}],
    }}));
    let current = |s: &Server| {
        s.state()["secrets"]["app-db"]
            .as_array()
            .and_then(|v| v.last())
            .map(|v| v["data"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    full_cycle(
        dir.path(),
        &pw,
        &Case {
            srv: &srv,
            backend: format!(
                "kind = \"gcp-secretmanager\"\nproject = \"leaksweep-test\"\nendpoint = \"{}\"\ntoken_env = \"LSW_CLI_GCP_TOKEN\"",
                srv.base
            ),
            env: vec![("LSW_CLI_GCP_TOKEN", "ya29.cli".into())],
            location: "cloud:projects/leaksweep-test/secrets/app-db".into(),
            write_path: "/v1/projects/leaksweep-test/secrets/app-db:addVersion".into(),
            current: &current,
        },
    );
}

#[test]
#[ignore = "needs the Python package cryptography (see TESTING.md)"]
fn cli_oci_vault() {
    let srv = Server::start("oci_vault.py", &[]);
    let (dir, pw) = leak(run_seed() ^ 0x0C);
    srv.seed(json!({"secrets": [
        {"name": "appdb", "content": pw},
        {"name": "decoy", "content": "something-else-entirely"},
    ]}));
    let id = "ocid1.vaultsecret.oc1.iad.appdb";
    let current = move |s: &Server| {
        let vs: Vec<Value> = s.state()["secrets"][id]
            .as_array()
            .cloned()
            .unwrap_or_default();
        vs.iter()
            .find(|v| {
                v["stages"]
                    .as_array()
                    .is_some_and(|st| st.contains(&json!("CURRENT")))
            })
            .map(|v| v["content"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    full_cycle(
        dir.path(),
        &pw,
        &Case {
            srv: &srv,
            backend: format!(
                "kind = \"oci-vault\"\nendpoint = \"{}\"\nconfig_file = \"{}\"\nuse_env = false\ncompartment_id = \"{}\"",
                srv.base,
                srv.info["config_file"].as_str().unwrap(),
                srv.info["compartment"].as_str().unwrap()
            ),
            env: vec![],
            location: format!("cloud:{id}"),
            write_path: format!("/20180608/secrets/{id}"),
            current: &current,
        },
    );
}

#[test]
fn cli_kubernetes() {
    let srv = Server::start("kube_api.py", &[]);
    let (dir, pw) = leak(run_seed() ^ 0x8E);
    srv.seed(json!({
        "users": {"kube-cli-token": {"name": "rotator", "cluster_list_secrets": true,
                                     "rules": {"*": ["get", "list", "patch"]}}},
        "secrets": [
            {"namespace": "prod", "name": "app-db", "data": {"user": "app", "password": pw}},
            {"namespace": "prod", "name": "decoy", "data": {"password": "something-else-entirely"}},
        ],
    }));
    // A kubeconfig next to the config file, named relative to it.
    fs::write(
        dir.path().join("kubeconfig.yaml"),
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n\
             contexts:\n- name: ctx\n  context: {{cluster: c, user: u}}\ncurrent-context: ctx\n\
             users:\n- name: u\n  user:\n    tokenFile: kube-token\n",
            srv.base
        ),
    )
    .unwrap();
    fs::write(dir.path().join("kube-token"), "kube-cli-token\n").unwrap();
    let current = |s: &Server| {
        s.state()["secrets"]["prod/app-db"]["decoded"]["password"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    full_cycle(
        dir.path(),
        &pw,
        &Case {
            srv: &srv,
            backend: "kind = \"kubernetes\"\nkubeconfig = \"kubeconfig.yaml\"".into(),
            env: vec![],
            location: "cloud:prod/app-db#password".into(),
            write_path: "/api/v1/namespaces/prod/secrets/app-db".into(),
            current: &current,
        },
    );
    let after = &srv.state()["secrets"]["prod/app-db"];
    assert_eq!(after["decoded"]["user"], json!("app"));
    assert!(after["metadata"]["annotations"]["leaksweep.io/rotation-op"]
        .as_str()
        .is_some_and(|k| k.starts_with("lsw1-")));
}

#[test]
fn cli_auth_errors_name_cause_and_fix() {
    let srv = Server::start("azure_kv.py", &[]);
    let (dir, pw) = leak(run_seed() ^ 0xE1);
    let d = dir.path();
    srv.seed(json!({"tokens": ["az-good"], "secrets": {"app-db": [{"value": pw}]}}));
    fs::write(
        d.join(".leaksweep.toml"),
        format!(
            "[rotation]\n[[rotation.backend]]\nname = \"cloud\"\nkind = \"azure-keyvault\"\n\
             vault_url = \"{}\"\ntoken_env = \"LSW_CLI_AZ_BAD\"\n\n[[rotation.route]]\n\
             rules = [\"database-connection-uri\"]\nbackend = \"cloud\"\n",
            srv.base
        ),
    )
    .unwrap();
    let case = Case {
        srv: &srv,
        backend: String::new(),
        env: vec![("LSW_CLI_AZ_BAD", "az-expired".into())],
        location: String::new(),
        write_path: String::new(),
        current: &|_| String::new(),
    };
    let out = rotate(d, &case, &["report.json", "--locate"]);
    assert_exit(&out, 2);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("Key Vault rejected the bearer token"), "{all}");
    assert!(all.contains("az account get-access-token"), "{all}");
    assert_output_clean("auth error", &out, &[&pw, "az-expired"]);

    // The variable is not set at all: a config error naming it.
    let case = Case {
        env: vec![],
        ..case
    };
    let out = rotate(d, &case, &["report.json", "--locate"]);
    assert_exit(&out, 2);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("$LSW_CLI_AZ_BAD"), "{all}");
    // A config with an unknown field is refused before anything is sent.
    let cfg = fs::read_to_string(d.join(".leaksweep.toml")).unwrap();
    fs::write(
        d.join(".leaksweep.toml"),
        cfg.replace("token_env", "tokenenv"),
    )
    .unwrap();
    let out = rotate(d, &case, &["report.json", "--locate"]);
    assert_exit(&out, 2);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("tokenenv"), "{all}");
    assert!(srv.writes().is_empty());
}

#[test]
fn cli_lost_answer_to_a_write_makes_one_version_only() {
    // Azure and GCP have no request ids: a write whose answer is lost must not be repeated
    // blindly. The write lands, the client sees a 503, and the run's retry must find it.
    let srv = Server::start("azure_kv.py", &[]);
    let (dir, pw) = leak(run_seed() ^ 0x105);
    let d = dir.path();
    srv.seed(json!({"tokens": ["az-lost"], "secrets": {"app-db": [{"value": pw}]}}));
    write_rotation_config(
        d,
        200,
        &format!(
            "\n[[rotation.backend]]\n\
             name = \"cloud\"\nkind = \"azure-keyvault\"\nvault_url = \"{}\"\ntoken_env = \"LSW_CLI_AZ_LOST\"\n\n\
             [[rotation.route]]\nrules = [\"database-connection-uri\"]\nbackend = \"cloud\"\n",
            srv.base
        ),
    );
    srv.lose_answer("PUT", "/secrets/app-db", 503);
    let case = Case {
        srv: &srv,
        backend: String::new(),
        env: vec![("LSW_CLI_AZ_LOST", "az-lost".into())],
        location: String::new(),
        write_path: String::new(),
        current: &|_| String::new(),
    };
    let out = rotate(d, &case, &["report.json", "--execute", "--yes"]);
    assert_exit(&out, 0);
    let versions = srv.state()["secrets"]["app-db"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        versions.len(),
        2,
        "one new version, not two: {}",
        stdout(&out)
    );
    let new = versions[1]["value"].as_str().unwrap().to_string();
    assert_ne!(new, pw);
    assert_output_clean("lost answer", &out, &[&pw, &new]);
    assert_files_clean(d, &[&pw, &new], &[".env"]);
}
