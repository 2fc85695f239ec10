//! GCP Secret Manager backend against `gcp_sm.py`.

use leaksweep::rotate::gcp::{GcpConfig, GcpSecretManager};
use leaksweep::rotate::{Backend, ErrorKind, Location, RotateStatus};
use leaksweep::secret::Secret;
use serde_json::{json, Value};

use crate::harness::{assert_no_canary, canary, set_env, Server};

fn server() -> Server {
    Server::start("gcp_sm.py", &[])
}

fn backend(srv: &Server, var: &str, token: &str, extra: &str) -> GcpSecretManager {
    set_env(var, token);
    let cfg: GcpConfig = toml::from_str(&format!(
        "project = \"leaksweep-test\"\nendpoint = \"{}\"\ntoken_env = \"{var}\"\nmax_retry_wait_ms = 3000\n{extra}",
        srv.base
    ))
    .expect("config");
    GcpSecretManager::new("gsm", cfg).expect("backend")
}

fn loc(path: &str) -> Location {
    Location {
        backend: "gsm".into(),
        path: path.into(),
        key: None,
    }
}

fn versions(srv: &Server, id: &str) -> Vec<Value> {
    srv.state()["secrets"][id]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn gcp_locate_pages_and_compares_latest_only() {
    let srv = server();
    let leaked = canary("GCL");
    let mut secrets = serde_json::Map::new();
    for i in 0..10 {
        secrets.insert(
            format!("other-{i:02}"),
            json!([{"data": format!("unrelated-{i}")}]),
        );
    }
    secrets.insert("zz-db".into(), json!([{"data": leaked}]));
    secrets.insert("api".into(), json!([{"data": "old"}, {"data": leaked}]));
    secrets.insert(
        "rotated-already".into(),
        json!([{"data": leaked}, {"data": "new"}]),
    );
    secrets.insert(
        "disabled-latest".into(),
        json!([{"data": leaked, "state": "DISABLED"}]),
    );
    secrets.insert("no-versions".into(), json!([]));
    srv.seed(json!({"tokens": ["ya29.gcl"], "secrets": secrets}));
    let g = backend(&srv, "LSW_T_GCP_LOCATE", "ya29.gcl", "");
    let found = g
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .expect("locate");
    let mut paths: Vec<_> = found.iter().map(|l| l.path.clone()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "projects/leaksweep-test/secrets/api",
            "projects/leaksweep-test/secrets/zz-db"
        ]
    );
    let lists = srv
        .requests()
        .iter()
        .filter(|(_, p, _)| p == "/v1/projects/leaksweep-test/secrets")
        .count();
    assert!(lists >= 3, "15 secrets in pages of 7: {lists} list calls");
    assert!(srv.writes().is_empty());
    assert_no_canary("locations", &format!("{found:?}"), &[&leaked]);
    assert_no_canary("server log", &srv.log(), &[&leaked]);
}

#[test]
fn gcp_dry_run_then_add_version_then_rerun_is_idempotent() {
    let srv = server();
    let leaked = canary("GCR");
    let new = canary("GCN");
    srv.seed(json!({"tokens": ["ya29.gcr"], "secrets": {"db": [{"data": leaked}]}}));
    let g = backend(&srv, "LSW_T_GCP_ROTATE", "ya29.gcr", "");
    let new_s = Secret::new(new.clone().into_bytes());
    let leaked_s = Secret::new(leaked.clone().into_bytes());
    let target = loc("projects/leaksweep-test/secrets/db");
    let mut out = String::new();

    let dry = g.rotate(&target, &new_s, "lsw1-k", true).expect("dry run");
    out += &format!("{dry:?}");
    assert_eq!(dry.status, RotateStatus::WouldRotate);
    assert_eq!(dry.previous_version.as_deref(), Some("1"));
    assert!(srv.writes().is_empty(), "dry run wrote: {:?}", srv.writes());
    assert!(!g.verify(&target, &leaked_s).expect("verify"));

    let done = g.rotate(&target, &new_s, "lsw1-k", false).expect("rotate");
    out += &format!("{done:?}");
    assert_eq!(done.status, RotateStatus::Rotated);
    assert_eq!(done.new_version.as_deref(), Some("2"));
    assert_eq!(done.previous_version.as_deref(), Some("1"));
    let vs = versions(&srv, "db");
    assert_eq!(vs.len(), 2);
    assert_eq!(vs[0]["data"], json!(leaked), "old version kept");
    assert_eq!(vs[0]["state"], json!("ENABLED"));
    assert_eq!(vs[1]["data"], json!(new));
    assert!(g.verify(&target, &leaked_s).expect("verify"));

    // The short form of the target works too, and the re-run adds nothing.
    let again = g
        .rotate(&loc("db"), &new_s, "lsw1-k", false)
        .expect("re-run");
    out += &format!("{again:?}");
    assert_eq!(again.status, RotateStatus::AlreadyApplied);
    assert_eq!(again.new_version.as_deref(), Some("2"));
    let adds: Vec<_> = srv
        .writes()
        .into_iter()
        .filter(|(_, p, _)| p.ends_with(":addVersion"))
        .collect();
    assert_eq!(adds.len(), 1, "{adds:?}");
    assert_no_canary("outcomes", &out, &[&leaked, &new]);
    assert_no_canary("server log", &srv.log(), &[&leaked, &new]);
}

#[test]
fn gcp_retries_resource_exhausted_and_reports_exhaustion() {
    let srv = server();
    let new = canary("GCT");
    srv.seed(json!({"tokens": ["ya29.gct"], "secrets": {"db": [{"data": "old"}]}}));
    let g = backend(&srv, "LSW_T_GCP_THROTTLE", "ya29.gct", "retries = 3");
    srv.fault(
        Some("GET"),
        "/v1/projects/leaksweep-test/secrets/db/versions",
        429,
        2,
        None,
    );
    srv.fault(
        Some("POST"),
        "/v1/projects/leaksweep-test/secrets/db:addVersion",
        429,
        1,
        Some(1),
    );
    srv.fault(
        Some("GET"),
        "/v1/projects/leaksweep-test/secrets/db",
        503,
        1,
        None,
    );
    let done = g
        .rotate(
            &loc("db"),
            &Secret::new(new.clone().into_bytes()),
            "k",
            false,
        )
        .expect("rotate after throttling");
    assert_eq!(done.status, RotateStatus::Rotated);
    let adds: Vec<u16> = srv
        .requests()
        .iter()
        .filter(|(_, p, _)| p.ends_with(":addVersion"))
        .map(|r| r.2)
        .collect();
    assert_eq!(adds, [429, 200]);
    assert_eq!(versions(&srv, "db").len(), 2);

    srv.fault(
        None,
        "/v1/projects/leaksweep-test/secrets/db",
        429,
        10,
        Some(0),
    );
    let e = g
        .verify(&loc("db"), &Secret::new(b"old".to_vec()))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert!(e.message.contains("RESOURCE_EXHAUSTED"), "{e}");
}

#[test]
fn gcp_errors_name_cause_and_fix_and_never_leak() {
    let srv = server();
    let leaked = canary("GCE");
    let new = canary("GCF");
    srv.seed(json!({"tokens": ["ya29.gce"], "secrets": {"db": [{"data": leaked}]}}));
    let new_s = Secret::new(new.clone().into_bytes());
    let mut messages = String::new();

    let g = backend(&srv, "LSW_T_GCP_BADTOK", "ya29.expired", "");
    let e = g
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("gcloud auth print-access-token"), "{e}");
    messages += &format!("{e}\n");

    set_env("LSW_T_GCP_WRONGPROJ", "ya29.gce");
    let cfg: GcpConfig = toml::from_str(&format!(
        "project = \"someone-else\"\nendpoint = \"{}\"\ntoken_env = \"LSW_T_GCP_WRONGPROJ\"",
        srv.base
    ))
    .unwrap();
    let e = GcpSecretManager::new("gsm", cfg)
        .unwrap()
        .rotate(&loc("db"), &new_s, "k", false)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permission);
    assert!(
        e.message.contains("roles/secretmanager.secretAccessor"),
        "{e}"
    );
    messages += &format!("{e}\n");

    let g = backend(&srv, "LSW_T_GCP_ERRS", "ya29.gce", "retries = 0");
    let e = g.rotate(&loc("missing"), &new_s, "k", false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("project"), "{e}");
    messages += &format!("{e}\n");
    srv.echo_fault(
        "POST",
        "/v1/projects/leaksweep-test/secrets/db:addVersion",
        400,
    );
    let e = g.rotate(&loc("db"), &new_s, "k", false).unwrap_err();
    assert!(
        e.message.contains("[redacted]"),
        "the echoed payload is scrubbed: {e}"
    );
    messages += &format!("{e}\n");
    // A 5xx on addVersion is not re-sent (the version may exist): the caller decides.
    srv.fault(
        Some("POST"),
        "/v1/projects/leaksweep-test/secrets/db:addVersion",
        503,
        1,
        None,
    );
    let e = g.rotate(&loc("db"), &new_s, "k", false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable);
    messages += &format!("{e}\n");
    let e = g
        .rotate(&loc("projects/p/secrets/db/versions/1"), &new_s, "k", false)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    messages += &format!("{e}\n");

    // User credentials instead of a service-account key.
    let user = srv.dir.path().join("user.json");
    std::fs::write(
        &user,
        r#"{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r"}"#,
    )
    .unwrap();
    let cfg: GcpConfig = toml::from_str(&format!(
        "project = \"leaksweep-test\"\nendpoint = \"{}\"\ncredentials_file = \"{}\"",
        srv.base,
        user.display()
    ))
    .unwrap();
    let e = GcpSecretManager::new("gsm", cfg)
        .unwrap()
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("service-account key"), "{e}");
    messages += &format!("{e}\n");

    assert_no_canary("error messages", &messages, &[&leaked, &new]);
    assert_no_canary("server log", &srv.log(), &[&leaked, &new]);
}

#[test]
#[ignore = "needs the Python package cryptography (see TESTING.md)"]
fn gcp_service_account_key_is_exchanged_with_a_signed_jwt() {
    let srv = Server::start("gcp_sm.py", &["--service-account"]);
    let leaked = canary("GCS");
    let new = canary("GCT");
    srv.seed(json!({"secrets": {"db": [{"data": leaked}]}}));
    let key_file = srv.info["service_account_file"]
        .as_str()
        .expect("key file")
        .to_string();
    let cfg: GcpConfig = toml::from_str(&format!(
        "project = \"123456789012\"\nendpoint = \"{}\"\ncredentials_file = \"{key_file}\"",
        srv.base
    ))
    .unwrap();
    let g = GcpSecretManager::new("gsm", cfg).unwrap();
    let found = g
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .expect("locate with a service account");
    assert_eq!(found.len(), 1);
    let done = g
        .rotate(
            &found[0],
            &Secret::new(new.clone().into_bytes()),
            "k",
            false,
        )
        .expect("rotate");
    assert_eq!(done.status, RotateStatus::Rotated);
    let tokens = srv
        .requests()
        .iter()
        .filter(|(_, p, _)| p == "/token")
        .count();
    assert_eq!(tokens, 1, "the token is cached between requests");

    // A key the token endpoint does not know: a different client_email.
    let mut sa: Value = serde_json::from_str(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    sa["client_email"] = json!("someone@else.iam.gserviceaccount.com");
    let other = srv.dir.path().join("other.json");
    std::fs::write(&other, sa.to_string()).unwrap();
    let cfg: GcpConfig = toml::from_str(&format!(
        "project = \"leaksweep-test\"\nendpoint = \"{}\"\ncredentials_file = \"{}\"",
        srv.base,
        other.display()
    ))
    .unwrap();
    let e = GcpSecretManager::new("gsm", cfg)
        .unwrap()
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("invalid_grant"), "{e}");
    let pem_line = sa["private_key"]
        .as_str()
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    assert_no_canary(
        "errors",
        &format!("{e}\n{done:?}\n{found:?}"),
        &[&leaked, &new, &pem_line],
    );
    assert_no_canary("server log", &srv.log(), &[&leaked, &new]);
}

/// The one `locate_limit` policy: more secrets than the limit is an error that says so,
/// not a locate that compares the first ones and misses a copy. At the limit it works.
#[test]
fn gcp_locate_over_the_limit_fails_loudly() {
    let srv = server();
    let leaked = canary("GCX");
    let mut secrets = serde_json::Map::new();
    for i in 0..4 {
        secrets.insert(
            format!("a-{i}"),
            json!([{"data": format!("unrelated-{i}")}]),
        );
    }
    secrets.insert("zz-db".into(), json!([{"data": leaked}]));
    srv.seed(json!({"tokens": ["ya29.gcx"], "secrets": secrets}));
    let leaked_s = Secret::new(leaked.clone().into_bytes());
    let e = backend(&srv, "LSW_T_GCP_LIMIT", "ya29.gcx", "locate_limit = 4")
        .locate(&leaked_s)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config, "{e}");
    assert!(e.message.contains("more than locate_limit = 4"), "{e}");
    let found = backend(&srv, "LSW_T_GCP_LIMIT", "ya29.gcx", "locate_limit = 5")
        .locate(&leaked_s)
        .expect("at the limit");
    assert_eq!(found.len(), 1);
    assert_no_canary("limit error", &e.to_string(), &[&leaked]);
}
