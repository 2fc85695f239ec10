//! OCI Vault backend against `oci_vault.py`, which verifies every request signature.

use leaksweep::rotate::oci::{OciConfig, OciVault};
use leaksweep::rotate::{Backend, ErrorKind, Location, RotateStatus};
use leaksweep::secret::Secret;
use serde_json::{json, Value};

use crate::harness::{assert_no_canary, canary, set_env, Server};

const SECRET: &str = "ocid1.vaultsecret.oc1.iad.";

fn start(args: &[&str]) -> Server {
    Server::start("oci_vault.py", args)
}

/// A backend on `srv` using the server's config file; `extra` is more TOML.
fn backend(srv: &Server, extra: &str) -> OciVault {
    let cfg: OciConfig = toml::from_str(&format!(
        "endpoint = \"{0}\"\nsecrets_endpoint = \"{0}\"\nconfig_file = \"{1}\"\nuse_env = false\n\
         compartment_id = \"{2}\"\nmax_retry_wait_ms = 3000\nsettle_timeout_ms = 5000\n{extra}",
        srv.base,
        srv.info["config_file"].as_str().unwrap(),
        srv.info["compartment"].as_str().unwrap(),
    ))
    .expect("config");
    OciVault::new("oci", cfg).expect("backend")
}

fn loc(name: &str) -> Location {
    Location {
        backend: "oci".into(),
        path: format!("{SECRET}{name}"),
        key: None,
    }
}

fn versions(srv: &Server, name: &str) -> Vec<Value> {
    srv.state()["secrets"][format!("{SECRET}{name}")]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
#[ignore = "needs the Python package cryptography (see TESTING.md)"]
fn oci_locate_lists_the_compartment_and_reads_current_bundles() {
    let srv = start(&[]);
    let leaked = canary("OCL");
    let mut secrets = Vec::new();
    for i in 0..8 {
        secrets.push(json!({"name": format!("other{i}"), "content": format!("unrelated-{i}")}));
    }
    secrets.push(json!({"name": "zzdb", "content": leaked}));
    secrets.push(json!({"name": "api", "content": leaked}));
    secrets.push(json!({"name": "elsewhere", "content": leaked, "compartment": "ocid1.compartment.oc1..other"}));
    secrets.push(json!({"name": "deleting", "content": leaked, "state": "PENDING_DELETION"}));
    srv.seed(json!({"secrets": secrets}));
    let o = backend(&srv, "");
    let found = o
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .expect("locate");
    let mut paths: Vec<_> = found.iter().map(|l| l.path.clone()).collect();
    paths.sort();
    assert_eq!(paths, [format!("{SECRET}api"), format!("{SECRET}zzdb")]);
    let lists = srv
        .requests()
        .iter()
        .filter(|(_, p, _)| p == "/20180608/secrets")
        .count();
    assert!(lists >= 2, "paged by opc-next-page: {lists}");
    assert!(
        srv.requests().iter().all(|r| r.2 == 200),
        "every signature verified: {:?}",
        srv.requests()
    );
    assert!(srv.writes().is_empty());
    assert_no_canary("locations", &format!("{found:?}"), &[&leaked]);
    assert_no_canary("server log", &srv.log(), &[&leaked]);
}

#[test]
#[ignore = "needs the Python package cryptography (see TESTING.md)"]
fn oci_dry_run_then_update_secret_then_rerun_is_idempotent() {
    // A PKCS#1 key, and a secret that stays UPDATING for two polls after the update.
    let srv = start(&["--pkcs1", "--updating-polls", "2"]);
    let leaked = canary("OCR");
    let new = canary("OCN");
    srv.seed(json!({"secrets": [{"name": "db", "content": leaked}]}));
    let o = backend(&srv, "");
    let new_s = Secret::new(new.clone().into_bytes());
    let leaked_s = Secret::new(leaked.clone().into_bytes());
    let key = "lsw1-00112233445566778899aabbccddeeff";
    let mut out = String::new();

    let dry = o.rotate(&loc("db"), &new_s, key, true).expect("dry run");
    out += &format!("{dry:?}");
    assert_eq!(dry.status, RotateStatus::WouldRotate);
    assert_eq!(dry.previous_version.as_deref(), Some("1"));
    assert!(srv.writes().is_empty(), "dry run wrote: {:?}", srv.writes());
    assert!(!o.verify(&loc("db"), &leaked_s).expect("verify"));

    let done = o.rotate(&loc("db"), &new_s, key, false).expect("rotate");
    out += &format!("{done:?}");
    assert_eq!(done.status, RotateStatus::Rotated);
    assert_eq!(done.new_version.as_deref(), Some("2"));
    assert_eq!(done.previous_version.as_deref(), Some("1"));
    let vs = versions(&srv, "db");
    assert_eq!(vs.len(), 2);
    assert_eq!(vs[0]["content"], json!(leaked));
    assert_eq!(
        vs[0]["stages"],
        json!(["PREVIOUS"]),
        "the old version stays readable"
    );
    assert_eq!(vs[1]["content"], json!(new));
    assert_eq!(vs[1]["name"], json!(format!("lsw-{key}")));
    assert_eq!(vs[1]["stages"], json!(["CURRENT", "LATEST"]));
    let puts: Vec<_> = srv.writes();
    assert_eq!(puts.len(), 1, "{puts:?}");
    let polls = srv
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "GET" && p == &format!("/20180608/secrets/{SECRET}db"))
        .count();
    assert!(polls >= 3, "rotate waited for ACTIVE: {polls} GETs");
    assert!(o.verify(&loc("db"), &leaked_s).expect("verify"));

    let again = o.rotate(&loc("db"), &new_s, key, false).expect("re-run");
    out += &format!("{again:?}");
    assert_eq!(again.status, RotateStatus::AlreadyApplied);
    assert_eq!(again.new_version.as_deref(), Some("2"));
    // Someone rotates after us: the version name still shows ours.
    o.rotate(
        &loc("db"),
        &Secret::new(b"someone-else-1234".to_vec()),
        "lsw1-other",
        false,
    )
    .expect("second rotation");
    let later = o.rotate(&loc("db"), &new_s, key, false).expect("re-run 2");
    assert_eq!(later.status, RotateStatus::AlreadyApplied);
    assert_eq!(srv.writes().len(), 2);
    assert_no_canary("outcomes", &out, &[&leaked, &new]);
    assert_no_canary("server log", &srv.log(), &[&leaked, &new]);
}

#[test]
#[ignore = "needs the Python package cryptography (see TESTING.md)"]
fn oci_retries_too_many_requests() {
    let srv = start(&[]);
    let new = canary("OCT");
    srv.seed(json!({"secrets": [{"name": "db", "content": "old"}]}));
    let o = backend(&srv, "retries = 2");
    let path = format!("/20180608/secrets/{SECRET}db");
    srv.fault(Some("GET"), &path, 429, 2, Some(0));
    srv.fault(Some("PUT"), &path, 429, 1, Some(1));
    let done = o
        .rotate(
            &loc("db"),
            &Secret::new(new.clone().into_bytes()),
            "k",
            false,
        )
        .expect("rotate after throttling");
    assert_eq!(done.status, RotateStatus::Rotated);
    let puts: Vec<u16> = srv
        .requests()
        .iter()
        .filter(|(m, _, _)| m == "PUT")
        .map(|r| r.2)
        .collect();
    assert_eq!(puts, [429, 200]);
    assert_eq!(versions(&srv, "db").len(), 2);

    srv.fault(None, "/20190301/secretbundles", 429, 10, Some(0));
    let e = o
        .verify(&loc("db"), &Secret::new(b"old".to_vec()))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert!(e.message.contains("429 TooManyRequests"), "{e}");
}

#[test]
#[ignore = "needs the Python package cryptography (see TESTING.md)"]
fn oci_errors_say_what_oci_users_get_wrong() {
    let srv = start(&[]);
    let leaked = canary("OCE");
    let new = canary("OCF");
    srv.seed(json!({"secrets": [
        {"name": "db", "content": leaked},
        {"name": "nokeys", "content": leaked, "content_forbidden": true},
    ]}));
    let new_s = Secret::new(new.clone().into_bytes());
    let leaked_s = Secret::new(leaked.clone().into_bytes());
    let o = backend(&srv, "retries = 0");
    let mut messages = String::new();

    // 403 on content: `use keys` is missing beside `read secret-family`.
    let e = o.verify(&loc("nokeys"), &leaked_s).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permission);
    assert!(
        e.message
            .contains("`use keys` policy is missing beside `read secret-family`"),
        "{e}"
    );
    messages += &format!("{e}\n");
    // 404: wrong OCID or compartment.
    let e = o.rotate(&loc("nope"), &new_s, "k", false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("wrong OCID or compartment"), "{e}");
    messages += &format!("{e}\n");
    // 401: a key the server does not know (another fingerprint in the profile).
    let cfg_text = std::fs::read_to_string(srv.info["config_file"].as_str().unwrap()).unwrap();
    let fp = srv.info["fingerprint"].as_str().unwrap();
    let stale = srv.dir.path().join("stale_config");
    std::fs::write(
        &stale,
        cfg_text.replace(fp, "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"),
    )
    .unwrap();
    let cfg: OciConfig = toml::from_str(&format!(
        "endpoint = \"{0}\"\nconfig_file = \"{1}\"\nuse_env = false\nretries = 0",
        srv.base,
        stale.display()
    ))
    .unwrap();
    let bad = OciVault::new("oci", cfg).unwrap();
    let e = bad.rotate(&loc("db"), &new_s, "k", false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(
        e.message
            .contains("A 401 right after rotation is a cached old credential"),
        "{e}"
    );
    assert!(e.message.contains("opc-request-id"), "{e}");
    messages += &format!("{e}\n");
    // Environment variables override the file, as for the OCI CLI.
    set_env("OCI_CLI_FINGERPRINT", fp);
    let cfg: OciConfig = toml::from_str(&format!(
        "endpoint = \"{0}\"\nconfig_file = \"{1}\"\nsecrets = [\"{SECRET}db\"]",
        srv.base,
        stale.display()
    ))
    .unwrap();
    let found = OciVault::new("oci", cfg)
        .unwrap()
        .locate(&leaked_s)
        .expect("env overrides the file");
    assert_eq!(found.len(), 1);
    // Config problems name the file and the fix.
    let cfg: OciConfig = toml::from_str(&format!(
        "endpoint = \"{}\"\nconfig_file = \"{}\"\nprofile = \"PROD\"\nuse_env = false",
        srv.base,
        stale.display()
    ))
    .unwrap();
    let e = OciVault::new("oci", cfg).err().unwrap();
    assert!(e.message.contains("no profile [PROD]"), "{e}");
    messages += &format!("{e}\n");
    let no_comp = backend(&srv, "");
    let cfg: OciConfig = toml::from_str(&format!(
        "endpoint = \"{}\"\nconfig_file = \"{}\"\nuse_env = false",
        srv.base,
        srv.info["config_file"].as_str().unwrap()
    ))
    .unwrap();
    let e = OciVault::new("oci", cfg)
        .unwrap()
        .locate(&leaked_s)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("compartment_id"), "{e}");
    messages += &format!("{e}\n");
    // A provider error that echoes the request body is scrubbed; a 5xx on the write is
    // returned (outcome unknown), not re-sent.
    srv.echo_fault("PUT", &format!("/20180608/secrets/{SECRET}db"), 400);
    let e = no_comp.rotate(&loc("db"), &new_s, "k", false).unwrap_err();
    assert!(e.message.contains("[redacted]"), "{e}");
    messages += &format!("{e}\n");
    srv.fault(
        Some("PUT"),
        &format!("/20180608/secrets/{SECRET}db"),
        503,
        1,
        None,
    );
    let e = o.rotate(&loc("db"), &new_s, "k", false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable);
    messages += &format!("{e}\n");

    assert_no_canary("error messages", &messages, &[&leaked, &new]);
    assert_no_canary("server log", &srv.log(), &[&leaked, &new]);
}

/// The one `locate_limit` policy: more secrets than the limit is an error that says so,
/// not a locate that compares the first ones and misses a copy. At the limit it works.
#[test]
#[ignore = "needs the Python package cryptography (see TESTING.md)"]
fn oci_locate_over_the_limit_fails_loudly() {
    let srv = start(&[]);
    let leaked = canary("OCX");
    let mut secrets = Vec::new();
    for i in 0..4 {
        secrets.push(json!({"name": format!("a{i}"), "content": format!("unrelated-{i}")}));
    }
    secrets.push(json!({"name": "zzdb", "content": leaked}));
    srv.seed(json!({"secrets": secrets}));
    let leaked_s = Secret::new(leaked.clone().into_bytes());
    let e = backend(&srv, "locate_limit = 4")
        .locate(&leaked_s)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config, "{e}");
    assert!(e.message.contains("more than locate_limit = 4"), "{e}");
    let found = backend(&srv, "locate_limit = 5")
        .locate(&leaked_s)
        .expect("at the limit");
    assert_eq!(found.len(), 1);
    assert_no_canary("limit error", &e.to_string(), &[&leaked]);
}
