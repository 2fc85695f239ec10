//! Azure Key Vault backend against `azure_kv.py`.

use leaksweep::rotate::azure::{AzureConfig, AzureKeyVault};
use leaksweep::rotate::{Backend, ErrorKind, Location, RotateStatus};
use leaksweep::secret::Secret;
use serde_json::{json, Value};

use crate::harness::{assert_no_canary, canary, set_env, Server};

fn server() -> Server {
    Server::start("azure_kv.py", &[])
}

/// A backend on `srv` with a token read from `$var`.
fn backend(srv: &Server, var: &str, token: &str, extra: &str) -> AzureKeyVault {
    set_env(var, token);
    let cfg: AzureConfig = toml::from_str(&format!(
        "vault_url = \"{}\"\ntoken_env = \"{var}\"\nmax_retry_wait_ms = 3000\n{extra}",
        srv.base
    ))
    .expect("config");
    AzureKeyVault::new("kv", cfg).expect("backend")
}

fn loc(path: &str) -> Location {
    Location {
        backend: "kv".into(),
        path: path.into(),
        key: None,
    }
}

fn versions(srv: &Server, name: &str) -> Vec<Value> {
    srv.state()["secrets"][name]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn azure_locate_finds_every_copy_across_pages() {
    let srv = server();
    let leaked = canary("AZL");
    let mut secrets = serde_json::Map::new();
    for i in 0..30 {
        secrets.insert(
            format!("other-{i:02}"),
            json!([{"value": format!("unrelated-{i}")}]),
        );
    }
    // Beyond the first page of 25, and an old (non-current) version that must not count.
    secrets.insert("zz-app-db".into(), json!([{"value": leaked}]));
    secrets.insert("app-api".into(), json!([{"value": leaked}]));
    secrets.insert(
        "old-copy".into(),
        json!([{"value": leaked}, {"value": "newer"}]),
    );
    secrets.insert(
        "disabled".into(),
        json!([{"value": leaked, "enabled": false}]),
    );
    srv.seed(json!({"tokens": ["tok-azl"], "secrets": secrets}));
    let kv = backend(&srv, "LSW_T_AZ_LOCATE", "tok-azl", "");
    let found = kv
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .expect("locate");
    let mut paths: Vec<_> = found.iter().map(|l| l.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["app-api", "zz-app-db"]);
    let reqs = srv.requests();
    assert!(
        reqs.iter()
            .filter(|(m, p, _)| m == "GET" && p == "/secrets")
            .count()
            >= 2,
        "the list was paged: {reqs:?}"
    );
    assert!(srv.writes().is_empty(), "locate wrote: {:?}", srv.writes());
    assert_no_canary("locations", &format!("{found:?}"), &[&leaked]);
    assert_no_canary("server log", &srv.log(), &[&leaked]);
}

#[test]
fn azure_dry_run_writes_nothing_then_rotate_makes_a_tagged_version_then_rerun_is_idempotent() {
    let srv = server();
    let leaked = canary("AZR");
    let new = canary("AZN");
    srv.seed(json!({"tokens": ["tok-azr"], "secrets": {
        "app-db": [{"value": leaked, "contentType": "text/plain", "tags": {"owner": "team-a"}}]
    }}));
    let kv = backend(&srv, "LSW_T_AZ_ROTATE", "tok-azr", "");
    let key = "lsw1-0123456789abcdef0123456789abcdef";
    let new_secret = Secret::new(new.clone().into_bytes());
    let leaked_secret = Secret::new(leaked.clone().into_bytes());
    let mut out = String::new();

    let dry = kv
        .rotate(&loc("app-db"), &new_secret, key, true)
        .expect("dry run");
    out += &format!("{dry:?}\n");
    assert_eq!(dry.status, RotateStatus::WouldRotate);
    assert!(srv.writes().is_empty(), "dry run wrote: {:?}", srv.writes());
    assert_eq!(versions(&srv, "app-db").len(), 1);
    assert!(!kv.verify(&loc("app-db"), &leaked_secret).expect("verify"));

    let done = kv
        .rotate(&loc("app-db"), &new_secret, key, false)
        .expect("rotate");
    out += &format!("{done:?}\n");
    assert_eq!(done.status, RotateStatus::Rotated);
    let vs = versions(&srv, "app-db");
    assert_eq!(vs.len(), 2, "a new version, the old one kept");
    assert_eq!(
        vs[0]["value"],
        json!(leaked),
        "previous version kept for rollback"
    );
    assert_eq!(vs[1]["value"], json!(new));
    assert_eq!(vs[1]["tags"]["leaksweep-op"], json!(key));
    assert_eq!(vs[1]["tags"]["owner"], json!("team-a"), "tags carried over");
    assert_eq!(vs[1]["contentType"], json!("text/plain"));
    assert_eq!(done.new_version.as_deref(), vs[1]["version"].as_str());
    assert_eq!(done.previous_version.as_deref(), vs[0]["version"].as_str());
    assert!(kv.verify(&loc("app-db"), &leaked_secret).expect("verify"));

    // Re-run: the current version carries our tag.
    let again = kv
        .rotate(&loc("app-db"), &new_secret, key, false)
        .expect("re-run");
    out += &format!("{again:?}\n");
    assert_eq!(again.status, RotateStatus::AlreadyApplied);
    // Someone writes after us: the version list still shows our rotation.
    srv.seed(json!({"secrets": {"app-db": [{"value": "written-later"}]}}));
    let later = kv
        .rotate(&loc("app-db"), &new_secret, key, false)
        .expect("re-run 2");
    assert_eq!(later.status, RotateStatus::AlreadyApplied);
    assert_eq!(later.new_version, done.new_version);
    let puts = srv.writes().iter().filter(|(m, _, _)| m == "PUT").count();
    assert_eq!(puts, 1, "exactly one Set Secret");
    assert_no_canary("outcomes", &out, &[&leaked, &new]);
    assert_no_canary("server log", &srv.log(), &[&leaked, &new]);
}

#[test]
fn azure_retries_throttling_and_reports_exhaustion() {
    let srv = server();
    let new = canary("AZT");
    srv.seed(json!({"tokens": ["tok-azt"], "secrets": {"app": [{"value": "old"}]}}));
    let kv = backend(&srv, "LSW_T_AZ_THROTTLE", "tok-azt", "retries = 2");
    srv.fault(Some("GET"), "/secrets/app", 429, 1, Some(1));
    srv.fault(Some("PUT"), "/secrets/app", 429, 2, Some(0));
    let t0 = std::time::Instant::now();
    let done = kv
        .rotate(
            &loc("app"),
            &Secret::new(new.clone().into_bytes()),
            "lsw1-t",
            false,
        )
        .expect("rotate after throttling");
    assert_eq!(done.status, RotateStatus::Rotated);
    assert!(
        t0.elapsed() >= std::time::Duration::from_millis(900),
        "Retry-After honoured"
    );
    let statuses: Vec<u16> = srv
        .requests()
        .iter()
        .filter(|(m, _, _)| m == "PUT")
        .map(|r| r.2)
        .collect();
    assert_eq!(statuses, [429, 429, 200]);
    assert_eq!(
        versions(&srv, "app").len(),
        2,
        "one new version despite three PUTs"
    );

    srv.fault(None, "/secrets/app", 429, 10, Some(0));
    let e = kv
        .verify(&loc("app"), &Secret::new(b"old".to_vec()))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert!(e.message.contains("throttled"), "{e}");
    assert!(e.kind.retryable());
}

#[test]
fn azure_errors_name_cause_and_fix_and_never_leak() {
    let srv = server();
    let leaked = canary("AZE");
    let new = canary("AZF");
    srv.seed(json!({"tokens": ["tok-aze"], "clients": [
        {"tenant": "t-1", "client_id": "app-1", "secret": "client-secret-for-tests"}
    ], "secrets": {"app": [{"value": leaked}]}}));
    let new_s = Secret::new(new.clone().into_bytes());
    let mut messages = String::new();

    // Wrong token: 401 with the tenant from the challenge.
    let kv = backend(&srv, "LSW_T_AZ_BADTOK", "not-a-valid-token", "");
    let e = kv.rotate(&loc("app"), &new_s, "k", false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("https://vault.azure.net"), "{e}");
    assert!(
        e.message.contains("72f98000-86f1-41af-91ab-2d7cd011db47"),
        "{e}"
    );
    messages += &format!("{e}\n");

    // Unset variable: a config error naming it.
    let cfg: AzureConfig = toml::from_str(&format!(
        "vault_url = \"{}\"\ntoken_env = \"LSW_T_AZ_UNSET_VAR\"",
        srv.base
    ))
    .unwrap();
    let e = AzureKeyVault::new("kv", cfg)
        .unwrap()
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("$LSW_T_AZ_UNSET_VAR"), "{e}");
    messages += &format!("{e}\n");

    // Client credentials: the right secret works, a wrong one says which part to fix.
    let secret_file = srv.dir.path().join("client-secret");
    std::fs::write(&secret_file, "client-secret-for-tests\n").unwrap();
    let cc = |file: &std::path::Path| {
        let cfg: AzureConfig = toml::from_str(&format!(
            "vault_url = \"{0}\"\nauthority_host = \"{0}\"\ntenant_id = \"t-1\"\nclient_id = \"app-1\"\nclient_secret_file = \"{1}\"",
            srv.base,
            file.display()
        ))
        .unwrap();
        AzureKeyVault::new("kv", cfg).unwrap()
    };
    let found = cc(&secret_file)
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .expect("client credentials");
    assert_eq!(found.len(), 1);
    let wrong = srv.dir.path().join("wrong-secret");
    std::fs::write(&wrong, "stale-secret\n").unwrap();
    let e = cc(&wrong)
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(
        e.message.contains("invalid_client") && e.message.contains("client secret"),
        "{e}"
    );
    assert!(!e.message.contains("stale-secret"));
    messages += &format!("{e}\n");

    let kv = backend(&srv, "LSW_T_AZ_ERRS", "tok-aze", "retries = 0");
    // 404: wrong name.
    let e = kv.rotate(&loc("missing"), &new_s, "k", false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("vault_url"), "{e}");
    messages += &format!("{e}\n");
    // 403: which permission.
    srv.fault(Some("PUT"), "/secrets/app", 403, 1, None);
    let e = kv.rotate(&loc("app"), &new_s, "k", false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permission);
    assert!(e.message.contains("Key Vault Secrets Officer"), "{e}");
    messages += &format!("{e}\n");
    // A 5xx on the write is not retried (outcome unknown) and echoes the body: scrubbed.
    srv.echo_fault("PUT", "/secrets/app", 400);
    let e = kv.rotate(&loc("app"), &new_s, "k", false).unwrap_err();
    assert!(
        e.message.contains("[redacted]"),
        "the echoed value is scrubbed: {e}"
    );
    messages += &format!("{e}\n");
    srv.fault(Some("PUT"), "/secrets/app", 503, 1, None);
    let e = kv.rotate(&loc("app"), &new_s, "k", false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable);
    messages += &format!("{e}\n");
    // A bad target shape.
    let mut keyed = loc("app");
    keyed.key = Some("field".into());
    let e = kv.rotate(&keyed, &new_s, "k", false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    messages += &format!("{e}\n");

    assert_no_canary(
        "error messages",
        &messages,
        &[&leaked, &new, "client-secret-for-tests"],
    );
    assert_no_canary("server log", &srv.log(), &[&leaked, &new]);
}

/// The one `locate_limit` policy: more secrets than the limit is an error that says so,
/// not a locate that compares the first ones and misses a copy. At the limit it works.
#[test]
fn azure_locate_over_the_limit_fails_loudly() {
    let srv = server();
    let leaked = canary("AZX");
    let mut secrets = serde_json::Map::new();
    for i in 0..4 {
        secrets.insert(
            format!("a-{i}"),
            json!([{"value": format!("unrelated-{i}")}]),
        );
    }
    secrets.insert("zz-db".into(), json!([{"value": leaked}]));
    srv.seed(json!({"tokens": ["tok-azx"], "secrets": secrets}));
    let leaked_s = Secret::new(leaked.clone().into_bytes());
    let e = backend(&srv, "LSW_T_AZ_LIMIT", "tok-azx", "locate_limit = 4")
        .locate(&leaked_s)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config, "{e}");
    assert!(e.message.contains("more than locate_limit = 4"), "{e}");
    let found = backend(&srv, "LSW_T_AZ_LIMIT", "tok-azx", "locate_limit = 5")
        .locate(&leaked_s)
        .expect("at the limit");
    assert_eq!(found.len(), 1);
    assert_no_canary("limit error", &e.to_string(), &[&leaked]);
}
