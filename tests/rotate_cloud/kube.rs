//! Kubernetes backend against `kube_api.py` (a contract server; why not kmock:
//! tests/contract_servers/README.md).

use leaksweep::rotate::kubernetes::{Kubernetes, KubernetesConfig};
use leaksweep::rotate::{Backend, ErrorKind, Location, RotateStatus};
use leaksweep::secret::Secret;
use serde_json::{json, Value};

use crate::harness::{assert_no_canary, canary, Server};

fn server() -> Server {
    Server::start("kube_api.py", &[])
}

/// Writes a YAML kubeconfig whose current context uses `user` (YAML of the user entry).
fn kubeconfig(srv: &Server, file: &str, user: &str) -> std::path::PathBuf {
    let path = srv.dir.path().join(file);
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n\
             contexts:\n- name: rotator@test\n  context:\n    cluster: test\n    user: rotator\n    namespace: team-a\n\
             - name: other\n  context:\n    cluster: test\n    user: nobody\n\
             current-context: rotator@test\nusers:\n- name: rotator\n  user:\n{user}\n- name: nobody\n  user:\n    token: no-such-token\n",
            srv.base
        ),
    )
    .unwrap();
    path
}

fn backend(srv: &Server, token: &str, extra: &str) -> Kubernetes {
    let kc = kubeconfig(srv, &format!("kc-{token}"), &format!("    token: {token}"));
    let cfg: KubernetesConfig = toml::from_str(&format!(
        "kubeconfig = \"{}\"\nmax_retry_wait_ms = 3000\n{extra}",
        kc.display()
    ))
    .expect("config");
    Kubernetes::new("k8s", cfg).expect("backend")
}

fn loc(path: &str, key: &str) -> Location {
    Location {
        backend: "k8s".into(),
        path: path.into(),
        key: Some(key.into()),
    }
}

fn secret(srv: &Server, path: &str) -> Value {
    srv.state()["secrets"][path].clone()
}

fn rw_all() -> Value {
    json!({"*": ["get", "list", "patch"]})
}

#[test]
fn kube_locate_cluster_wide_and_per_readable_namespace() {
    let srv = server();
    let leaked = canary("KUL");
    let mut secrets = Vec::new();
    for i in 0..7 {
        secrets.push(json!({"namespace": "team-a", "name": format!("other-{i}"), "data": {"k": format!("v{i}")}}));
    }
    secrets.push(
        json!({"namespace": "team-a", "name": "db", "data": {"user": "app", "password": leaked}}),
    );
    secrets.push(json!({"namespace": "team-b", "name": "api", "stringData": {"token": leaked}, "keep_string_data": true}));
    secrets.push(json!({"namespace": "locked", "name": "copy", "data": {"password": leaked}}));
    srv.seed(json!({
        "users": {
            "admin-token": {"name": "admin", "rules": rw_all(), "cluster_list_secrets": true},
            "ns-token": {"name": "system:serviceaccount:ci:rotator", "list_namespaces": true,
                         "rules": {"team-a": ["list"], "team-b": ["list"]}},
            "narrow-token": {"name": "system:serviceaccount:team-a:rotator", "rules": {"team-a": ["list"]}},
        },
        "secrets": secrets,
    }));
    let leaked_s = Secret::new(leaked.clone().into_bytes());
    let mut out = String::new();

    let all = backend(&srv, "admin-token", "")
        .locate(&leaked_s)
        .expect("cluster-wide");
    out += &format!("{all:?}");
    let got: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "k8s:locked/copy#password",
            "k8s:team-a/db#password",
            "k8s:team-b/api#token"
        ]
    );
    let lists = srv
        .requests()
        .iter()
        .filter(|(_, p, _)| p == "/api/v1/secrets")
        .count();
    assert!(lists >= 3, "10 secrets in pages of 4: {lists}");

    // Without cluster-wide list: every namespace it may list; `locked` is skipped.
    let some = backend(&srv, "ns-token", "")
        .locate(&leaked_s)
        .expect("per namespace");
    let got: Vec<String> = some.iter().map(ToString::to_string).collect();
    assert_eq!(got, ["k8s:team-a/db#password", "k8s:team-b/api#token"]);
    // Without namespace list either: the context's namespace.
    let own = backend(&srv, "narrow-token", "")
        .locate(&leaked_s)
        .expect("own namespace");
    let got: Vec<String> = own.iter().map(ToString::to_string).collect();
    assert_eq!(got, ["k8s:team-a/db#password"]);
    // Naming a namespace it may not read is an error that says how to check.
    let e = backend(
        &srv,
        "narrow-token",
        "namespaces = [\"team-a\", \"locked\"]",
    )
    .locate(&leaked_s)
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permission);
    assert!(
        e.message
            .contains("kubectl auth can-i list secrets -n locked"),
        "{e}"
    );
    out += &format!("{e}");
    assert!(srv.writes().is_empty());
    assert_no_canary("locations and errors", &out, &[&leaked]);
    assert_no_canary("server log", &srv.log(), &[&leaked]);
}

#[test]
fn kube_dry_run_then_merge_patch_then_rerun_is_idempotent() {
    let srv = server();
    let leaked = canary("KUR");
    let new = canary("KUN");
    let last_applied = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "team-a"},
        "stringData": {"password": leaked, "user": "app"}})
    .to_string();
    srv.seed(json!({
        "users": {"tok": {"name": "rotator", "rules": rw_all()}},
        "secrets": [
            {"namespace": "team-a", "name": "db", "data": {"user": "app", "password": leaked},
             "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied, "team": "a"}},
            {"namespace": "team-a", "name": "kept", "stringData": {"token": leaked}, "keep_string_data": true},
        ],
    }));
    let k = backend(&srv, "tok", "");
    let new_s = Secret::new(new.clone().into_bytes());
    let leaked_s = Secret::new(leaked.clone().into_bytes());
    let key = "lsw1-feedfacefeedfacefeedfacefeedface";
    let mut out = String::new();
    let before = secret(&srv, "team-a/db");

    let dry = k
        .rotate(&loc("team-a/db", "password"), &new_s, key, true)
        .expect("dry run");
    out += &format!("{dry:?}");
    assert_eq!(dry.status, RotateStatus::WouldRotate);
    assert_eq!(
        dry.previous_version.as_deref(),
        before["metadata"]["resourceVersion"].as_str()
    );
    assert!(srv.writes().is_empty(), "dry run wrote: {:?}", srv.writes());
    assert_eq!(secret(&srv, "team-a/db"), before);
    assert!(!k
        .verify(&loc("team-a/db", "password"), &leaked_s)
        .expect("verify"));

    let done = k
        .rotate(&loc("team-a/db", "password"), &new_s, key, false)
        .expect("rotate");
    out += &format!("{done:?}");
    assert_eq!(done.status, RotateStatus::Rotated);
    let after = secret(&srv, "team-a/db");
    assert_eq!(after["decoded"]["password"], json!(new));
    assert_eq!(
        after["decoded"]["user"],
        json!("app"),
        "other keys untouched"
    );
    let ann = &after["metadata"]["annotations"];
    assert_eq!(ann["leaksweep.io/rotation-op"], json!(key));
    assert!(ann["leaksweep.io/rotated-at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(ann["team"], json!("a"), "other annotations untouched");
    let la = ann["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap();
    assert!(
        !la.contains(&leaked) && la.contains(&new),
        "last-applied no longer holds the leaked value"
    );
    assert_eq!(
        done.new_version.as_deref(),
        after["metadata"]["resourceVersion"].as_str()
    );
    assert_ne!(done.new_version, done.previous_version);
    assert!(k
        .verify(&loc("team-a/db", "password"), &leaked_s)
        .expect("verify"));

    let again = k
        .rotate(&loc("team-a/db", "password"), &new_s, key, false)
        .expect("re-run");
    out += &format!("{again:?}");
    assert_eq!(again.status, RotateStatus::AlreadyApplied);
    assert_eq!(srv.writes().len(), 1);

    // A server that keeps stringData: the key's stringData entry goes, data holds the new value.
    let done = k
        .rotate(&loc("team-a/kept", "token"), &new_s, key, false)
        .expect("rotate kept");
    assert_eq!(done.status, RotateStatus::Rotated);
    let kept = secret(&srv, "team-a/kept");
    assert!(kept["stringData"].get("token").is_none(), "{kept}");
    assert_eq!(kept["decoded"]["token"], json!(new));
    assert!(k
        .verify(&loc("team-a/kept", "token"), &leaked_s)
        .expect("verify kept"));
    assert_no_canary("outcomes", &out, &[&leaked, &new]);
    assert_no_canary("server log", &srv.log(), &[&leaked, &new]);
}

#[test]
fn kube_retries_throttling_and_maps_conflicts() {
    let srv = server();
    let new = canary("KUT");
    srv.seed(json!({
        "users": {"tok": {"name": "rotator", "rules": rw_all()}},
        "secrets": [{"namespace": "team-a", "name": "db", "data": {"password": "old-value"}}],
    }));
    let k = backend(&srv, "tok", "retries = 2");
    let p = "/api/v1/namespaces/team-a/secrets/db";
    srv.fault(Some("GET"), p, 429, 2, Some(0));
    srv.fault(Some("PATCH"), p, 429, 1, Some(1));
    let new_s = Secret::new(new.clone().into_bytes());
    let done = k
        .rotate(&loc("team-a/db", "password"), &new_s, "k1", false)
        .expect("rotate after throttling");
    assert_eq!(done.status, RotateStatus::Rotated);
    let patches: Vec<u16> = srv
        .requests()
        .iter()
        .filter(|(m, _, _)| m == "PATCH")
        .map(|r| r.2)
        .collect();
    assert_eq!(patches, [429, 200]);

    // retries = 2: three attempts, all throttled.
    srv.fault(Some("GET"), p, 429, 3, Some(0));
    let e = k.verify(&loc("team-a/db", "password"), &new_s).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert!(e.message.contains("API Priority and Fairness"), "{e}");

    // A concurrent writer between our read and our patch: 409 from the resourceVersion check.
    srv.fault(Some("PATCH"), p, 409, 1, None);
    let e = k
        .rotate(
            &loc("team-a/db", "password"),
            &Secret::new(b"another-new-value".to_vec()),
            "k2",
            false,
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(e.message.contains("re-run"), "{e}");
    assert_no_canary("errors", &format!("{e}"), &[&new]);
}

#[test]
fn kube_errors_name_cause_and_fix_and_never_leak() {
    let srv = server();
    let leaked = canary("KUE");
    let new = canary("KUF");
    srv.seed(json!({
        "users": {
            "tok": {"name": "rotator", "rules": rw_all()},
            "reader": {"name": "system:serviceaccount:ci:reader", "rules": {"team-a": ["get", "list"]}},
        },
        "secrets": [
            {"namespace": "team-a", "name": "db", "data": {"password": leaked}},
            {"namespace": "team-a", "name": "frozen", "data": {"password": leaked}, "immutable": true},
        ],
    }));
    let new_s = Secret::new(new.clone().into_bytes());
    let leaked_s = Secret::new(leaked.clone().into_bytes());
    let mut messages = String::new();

    let e = backend(&srv, "expired-token", "")
        .locate(&leaked_s)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(
        e.message.contains("kubectl create token") && e.message.contains("rotator@test"),
        "{e}"
    );
    messages += &format!("{e}\n");

    let e = backend(&srv, "reader", "")
        .rotate(&loc("team-a/db", "password"), &new_s, "k", false)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permission);
    assert!(
        e.message.contains("cannot patch resource")
            && e.message.contains("kubectl auth can-i patch"),
        "{e}"
    );
    messages += &format!("{e}\n");

    let k = backend(&srv, "tok", "retries = 0");
    let e = k
        .rotate(&loc("team-a/frozen", "password"), &new_s, "k", false)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(e.message.contains("immutable"), "{e}");
    messages += &format!("{e}\n");
    let e = k
        .rotate(&loc("team-a/db", "passwd"), &new_s, "k", false)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("keys: password"), "{e}");
    messages += &format!("{e}\n");
    let e = k
        .rotate(&loc("team-a/nope", "password"), &new_s, "k", false)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    messages += &format!("{e}\n");
    let mut no_key = loc("team-a/db", "x");
    no_key.key = None;
    let e = k.rotate(&no_key, &new_s, "k", false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("NAMESPACE/NAME#KEY"), "{e}");
    messages += &format!("{e}\n");
    srv.echo_fault("PATCH", "/api/v1/namespaces/team-a/secrets/db", 422);
    let e = k
        .rotate(&loc("team-a/db", "password"), &new_s, "k", false)
        .unwrap_err();
    assert!(e.message.contains("[redacted]"), "{e}");
    messages += &format!("{e}\n");
    srv.fault(
        Some("PATCH"),
        "/api/v1/namespaces/team-a/secrets/db",
        503,
        1,
        None,
    );
    let e = k
        .rotate(&loc("team-a/db", "password"), &new_s, "k", false)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable);
    messages += &format!("{e}\n");

    // Another context of the same kubeconfig, and a kubeconfig problem named with its file.
    let kc = kubeconfig(&srv, "kc-ctx", "    token: tok");
    let cfg: KubernetesConfig = toml::from_str(&format!(
        "kubeconfig = \"{}\"\ncontext = \"missing\"",
        kc.display()
    ))
    .unwrap();
    let e = Kubernetes::new("k8s", cfg).err().unwrap();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("no context named \"missing\""), "{e}");
    messages += &format!("{e}\n");
    assert_no_canary("error messages", &messages, &[&leaked, &new]);
    assert_no_canary("server log", &srv.log(), &[&leaked, &new]);
}

#[test]
fn kube_exec_credential_plugin_supplies_the_token() {
    let srv = server();
    let leaked = canary("KUX");
    srv.seed(json!({
        "users": {"exec-issued-token": {"name": "rotator", "rules": rw_all(), "cluster_list_secrets": true}},
        "secrets": [{"namespace": "team-a", "name": "db", "data": {"password": leaked}}],
    }));
    let plugin = srv.dir.path().join("cred-plugin.sh");
    std::fs::write(
        &plugin,
        "#!/bin/sh\n[ \"$1\" = get-token ] && [ -n \"$KUBERNETES_EXEC_INFO\" ] || exit 3\n\
         printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}' \"$TOKEN_FOR_TEST\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o700)).unwrap();
    let kc = kubeconfig(
        &srv,
        "kc-exec",
        &format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      args: [get-token]\n      env:\n      - name: TOKEN_FOR_TEST\n        value: exec-issued-token\n",
            plugin.display()
        ),
    );
    let cfg: KubernetesConfig =
        toml::from_str(&format!("kubeconfig = \"{}\"", kc.display())).unwrap();
    let found = Kubernetes::new("k8s", cfg)
        .unwrap()
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .expect("locate with an exec plugin");
    assert_eq!(found.len(), 1);
}

#[test]
#[ignore = "needs the Python package cryptography (see TESTING.md)"]
fn kube_tls_with_the_cluster_ca_and_a_client_certificate() {
    let srv = Server::start("kube_api.py", &["--tls"]);
    let leaked = canary("KUS");
    let new = canary("KUT");
    srv.seed(json!({
        "users": {"cert:leaksweep-rotator": {"name": "leaksweep-rotator", "rules": rw_all(), "cluster_list_secrets": true}},
        "secrets": [{"namespace": "team-a", "name": "db", "data": {"password": leaked}}],
    }));
    use base64::Engine as _;
    let b64 = |field: &str| {
        base64::engine::general_purpose::STANDARD
            .encode(std::fs::read(srv.info[field].as_str().unwrap()).unwrap())
    };
    let user = format!(
        "    client-certificate-data: {}\n    client-key-data: {}",
        b64("client_cert"),
        b64("client_key")
    );
    let kc = kubeconfig(&srv, "kc-tls", &user);
    // The cluster's CA, inline.
    let text = std::fs::read_to_string(&kc).unwrap().replace(
        &format!("    server: {}\n", srv.base),
        &format!(
            "    server: {}\n    certificate-authority-data: {}\n",
            srv.base,
            b64("ca")
        ),
    );
    std::fs::write(&kc, text).unwrap();
    let cfg: KubernetesConfig =
        toml::from_str(&format!("kubeconfig = \"{}\"", kc.display())).unwrap();
    let k = Kubernetes::new("k8s", cfg).expect("TLS backend");
    let found = k
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .expect("locate over TLS with a client certificate");
    assert_eq!(found.len(), 1);
    let done = k
        .rotate(
            &found[0],
            &Secret::new(new.clone().into_bytes()),
            "k",
            false,
        )
        .expect("rotate over TLS");
    assert_eq!(done.status, RotateStatus::Rotated);

    // Without the cluster CA the server is not trusted: nothing is sent.
    let untrusted = srv.dir.path().join("kc-untrusted");
    std::fs::write(
        &untrusted,
        std::fs::read_to_string(&kc)
            .unwrap()
            .replace(&b64("ca"), &b64("client_cert")),
    )
    .unwrap();
    let cfg: KubernetesConfig = toml::from_str(&format!(
        "kubeconfig = \"{}\"\nretries = 0",
        untrusted.display()
    ))
    .unwrap();
    let e = Kubernetes::new("k8s", cfg)
        .unwrap()
        .locate(&Secret::new(leaked.clone().into_bytes()))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
    assert!(
        e.message.contains("certificate"),
        "the message names the TLS problem: {e}"
    );
    assert_no_canary(
        "outcomes and errors",
        &format!("{found:?}{done:?}{e}"),
        &[&leaked, &new],
    );
}

#[test]
#[ignore = "needs the Python package kmock (see TESTING.md)"]
fn kube_cross_check_against_kmock() {
    // kmock (PyPI) is a third-party Kubernetes-shaped emulator: the happy path must work
    // against it too, so the backend does not depend on kube_api.py's reading of the API.
    let srv = Server::start("kmock_server.py", &[]);
    let leaked = canary("KMK");
    let new = canary("KMN");
    use base64::Engine as _;
    let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for (ns, name, value) in [
        ("prod", "db", leaked.as_str()),
        ("prod", "other", "unrelated-value"),
    ] {
        let body = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": ns},
            "type": "Opaque", "data": {"user": enc("app"), "password": enc(value)}});
        ureq::post(&format!("{}/api/v1/namespaces/{ns}/secrets", srv.base))
            .send_string(&body.to_string())
            .expect("kmock create");
    }
    let k = backend(&srv, "kmock-ignores-tokens", "");
    let leaked_s = Secret::new(leaked.clone().into_bytes());
    let new_s = Secret::new(new.clone().into_bytes());
    let found = k.locate(&leaked_s).expect("locate on kmock");
    let got: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(got, ["k8s:prod/db#password"]);
    let dry = k
        .rotate(&found[0], &new_s, "lsw1-kmock", true)
        .expect("dry run");
    assert_eq!(dry.status, RotateStatus::WouldRotate);
    assert!(!k.verify(&found[0], &leaked_s).expect("verify before"));
    let done = k
        .rotate(&found[0], &new_s, "lsw1-kmock", false)
        .expect("rotate on kmock");
    assert_eq!(done.status, RotateStatus::Rotated);
    assert!(k.verify(&found[0], &leaked_s).expect("verify after"));
    let obj: Value = serde_json::from_str(
        &ureq::get(&format!("{}/api/v1/namespaces/prod/secrets/db", srv.base))
            .call()
            .expect("kmock get")
            .into_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(obj["data"]["password"], json!(enc(&new)));
    assert_eq!(
        obj["data"]["user"],
        json!(enc("app")),
        "other keys untouched"
    );
    assert_eq!(
        obj["metadata"]["annotations"]["leaksweep.io/rotation-op"],
        json!("lsw1-kmock")
    );
    let again = k
        .rotate(&found[0], &new_s, "lsw1-kmock", false)
        .expect("re-run");
    assert_eq!(again.status, RotateStatus::AlreadyApplied);
    assert_no_canary(
        "outcomes",
        &format!("{found:?}{dry:?}{done:?}{again:?}"),
        &[&leaked, &new],
    );
}

/// The one `locate_limit` policy: more secrets than the limit is an error that says so,
/// not a locate that compares the first ones and misses a copy. At the limit it works.
#[test]
fn kube_locate_over_the_limit_fails_loudly() {
    let srv = server();
    let leaked = canary("KUX");
    let mut secrets = Vec::new();
    for i in 0..4 {
        secrets.push(json!({"namespace": "team-a", "name": format!("a-{i}"), "data": {"k": format!("v{i}")}}));
    }
    secrets.push(json!({"namespace": "team-a", "name": "zz-db", "data": {"password": leaked}}));
    srv.seed(json!({
        "users": {"admin-token": {"name": "admin", "rules": rw_all(), "cluster_list_secrets": true}},
        "secrets": secrets,
    }));
    let leaked_s = Secret::new(leaked.clone().into_bytes());
    let e = backend(&srv, "admin-token", "locate_limit = 4")
        .locate(&leaked_s)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config, "{e}");
    assert!(e.message.contains("more than locate_limit = 4"), "{e}");
    let found = backend(&srv, "admin-token", "locate_limit = 5")
        .locate(&leaked_s)
        .expect("at the limit");
    assert_eq!(found.len(), 1);
    assert_no_canary("limit error", &e.to_string(), &[&leaked]);
}
