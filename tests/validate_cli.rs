//! `--validate` end to end: the real binary against the validation contract server
//! (tests/contract_servers/validators.py), a real moto with IAM auth and a real OpenBao
//! (the last two started by `.ci/run`; see TESTING.md).

mod common;
#[path = "rotate_cloud/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use harness::{assert_no_canary, Server};
use serde_json::{json, Value};

/// Providers whose credential is two findings; the test file holds both halves.
const PAIRS: &[&str] = &["twilio", "datadog"];

fn server() -> Server {
    Server::start("validators.py", &[])
}

fn violations(s: &Server) -> Vec<String> {
    let v: Value = ureq::get(&format!("{}/_ctl/violations", s.base))
        .call()
        .expect("violations")
        .into_string()
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .expect("JSON");
    v.as_array()
        .expect("list")
        .iter()
        .map(|x| x.as_str().unwrap_or_default().to_string())
        .collect()
}

/// How many times the server saw each credential.
fn seen(s: &Server) -> BTreeMap<String, u64> {
    s.state()["seen"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// `leaksweep rules providers --json`.
fn providers() -> Vec<Value> {
    let o = common::bin()
        .args(["rules", "providers", "--json"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", common::stderr(&o));
    serde_json::from_slice::<Value>(&o.stdout)
        .expect("JSON")
        .as_array()
        .expect("list")
        .clone()
}

/// The first example of each built-in rule.
fn examples() -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).expect("rules dir") {
        let text = std::fs::read_to_string(e.expect("entry").path()).expect("rules file");
        let doc: toml::Value = toml::from_str(&text).expect("rules TOML");
        for r in doc["rule"].as_array().expect("rules") {
            if let (Some(id), Some(ex)) = (
                r["id"].as_str(),
                r.get("examples")
                    .and_then(|x| x.as_array())
                    .and_then(|a| a.first()),
            ) {
                out.insert(id.to_string(), ex.as_str().unwrap_or_default().to_string());
            }
        }
    }
    out
}

/// The HTTP providers the contract server covers, with the rules to exercise.
fn http_providers() -> Vec<(String, Vec<String>)> {
    providers()
        .into_iter()
        .filter(|p| {
            let req = p["request"].as_str().unwrap_or("");
            // Providers whose request is code, not a table row, have tests of their own.
            !req.starts_with("none:")
                && !["aws", "gcp-service-account", "azure", "basic-auth-url"]
                    .contains(&p["id"].as_str().unwrap_or_default())
        })
        .map(|p| {
            let id = p["id"].as_str().unwrap_or_default().to_string();
            let rules: Vec<String> = p["rules"]
                .as_array()
                .expect("rules")
                .iter()
                .map(|r| r.as_str().unwrap_or_default().to_string())
                .collect();
            let n = if PAIRS.contains(&id.as_str()) { 2 } else { 1 };
            (id, rules.into_iter().take(n).collect())
        })
        .collect()
}

fn endpoint_args(s: &Server, ids: &[&str]) -> Vec<String> {
    ids.iter()
        .flat_map(|id| {
            [
                "--validate-endpoint".to_string(),
                format!("{id}={}/{id}", s.base),
            ]
        })
        .collect()
}

fn scan(dir: &Path, args: &[String]) -> Output {
    common::bin()
        .current_dir(dir)
        .env_remove("VAULT_ADDR")
        .env_remove("BAO_ADDR")
        .args(["scan", "."])
        .args(args)
        .output()
        .expect("run leaksweep")
}

fn findings(o: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", common::stdout(o), common::stderr(o)));
    v["findings"].as_array().expect("findings").clone()
}

/// One file per provider holding its rule examples; returns provider -> credential key
/// as the contract server sees it (pairs as `first:second`).
fn write_provider_files(dir: &Path) -> BTreeMap<String, String> {
    let ex = examples();
    let mut files = BTreeMap::new();
    for (id, rules) in http_providers() {
        let text: String = rules
            .iter()
            .map(|r| {
                format!(
                    "{}\n",
                    ex.get(r).unwrap_or_else(|| panic!("no example for {r}"))
                )
            })
            .collect();
        std::fs::write(dir.join(format!("{id}.txt")), text).expect("write");
        files.insert(id, rules);
    }
    let o = scan(dir, &["--show-secrets".into(), "-f".into(), "json".into()]);
    let mut creds = BTreeMap::new();
    for (id, rules) in files {
        let path = format!("{id}.txt");
        let secret_of = |rule: &str| -> String {
            findings(&o)
                .iter()
                .find(|f| f["path"] == path.as_str() && f["rule_id"] == rule)
                .unwrap_or_else(|| panic!("{rule} example not found in {path}"))["secret"]
                .as_str()
                .expect("secret")
                .to_string()
        };
        let key = rules
            .iter()
            .map(|r| secret_of(r))
            .collect::<Vec<_>>()
            .join(":");
        creds.insert(id, key);
    }
    creds
}

/// The validation of the finding of `rule` in `path`.
fn validation_of(found: &[Value], path: &str, rule: &str) -> Value {
    found
        .iter()
        .find(|f| f["path"] == path && f["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {path}: {found:?}"))["validation"]
        .clone()
}

/// A listening port that must never be contacted: bound and counted, never answered.
struct Tripwire(TcpListener);

impl Tripwire {
    fn new() -> Tripwire {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        Tripwire(listener)
    }

    fn port(&self) -> u16 {
        self.0.local_addr().expect("addr").port()
    }

    /// Whether something connected (the control that proves the port is reachable).
    fn was_contacted(&self) -> bool {
        self.0.accept().is_ok()
    }

    /// Fails with `what` if anything connected since it was bound.
    fn assert_untouched(&self, what: &str) {
        match self.0.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// Every HTTP provider: a seeded credential is live with the identity the provider
/// shows, an unknown one is invalid, and every request matched the documented contract.
#[test]
fn every_http_provider_live_and_invalid_by_its_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = write_provider_files(dir.path());
    let ids: Vec<&str> = creds.keys().map(String::as_str).collect();
    assert!(ids.len() >= 30, "{} HTTP providers", ids.len());
    let live = server();
    let seeds: serde_json::Map<String, Value> = creds
        .iter()
        .map(|(id, c)| {
            (
                c.clone(),
                json!({"answer": "live", "identity": format!("who-{id}")}),
            )
        })
        .collect();
    live.seed(json!({ "credentials": seeds }));
    let mut args = endpoint_args(&live, &ids);
    args.extend(["--validate".into(), "-f".into(), "json".into()]);
    let o = scan(dir.path(), &args);
    assert_eq!(violations(&live), Vec::<String>::new());
    let found = findings(&o);
    for (id, rules) in http_providers() {
        let path = format!("{id}.txt");
        for rule in &rules {
            let v = validation_of(&found, &path, rule);
            assert_eq!(v["status"], "live", "{id} {rule}: {v}");
            assert_eq!(v["provider"], id.as_str(), "{v}");
            assert!(
                v["checked_at"].as_str().is_some_and(|t| t.ends_with('Z')),
                "{v}"
            );
        }
    }
    let gh = validation_of(&found, "github.txt", "github-pat-classic");
    assert_eq!(gh["identity"], "who-github");
    assert_eq!(gh["scopes"], json!(["repo", "read:org"]));
    let vault = validation_of(&found, "vault.txt", "vault-service-token");
    assert_eq!(vault["scopes"], json!(["default", "app"]));
    assert!(
        vault["detail"].as_str().unwrap_or("").contains("ttl 3600"),
        "{vault}"
    );
    let slack = validation_of(&found, "slack.txt", "slack-bot-token");
    assert_eq!(slack["identity"], "who-slack / Acme");
    // One request per credential.
    assert!(seen(&live).values().all(|&n| n == 1), "{:?}", seen(&live));

    let refusing = server();
    let mut args = endpoint_args(&refusing, &ids);
    args.extend(["--validate".into(), "-f".into(), "json".into()]);
    let found = findings(&scan(dir.path(), &args));
    assert_eq!(violations(&refusing), Vec::<String>::new());
    for (id, rules) in http_providers() {
        for rule in &rules {
            let v = validation_of(&found, &format!("{id}.txt"), rule);
            assert_eq!(v["status"], "invalid", "{id} {rule}: {v}");
        }
    }
}

fn github_file(dir: &Path, name: &str, seed: u64) -> String {
    let tok = common::github_pat(seed);
    std::fs::write(dir.join(name), format!("GITHUB_TOKEN={tok}\n")).expect("write");
    tok
}

fn gh_args(s: &Server, extra: &[&str]) -> Vec<String> {
    let mut a = endpoint_args(s, &["github"]);
    a.push("--validate".into());
    a.extend(extra.iter().map(|x| (*x).to_string()));
    a
}

#[test]
fn throttling_is_honoured_then_retried_and_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = github_file(dir.path(), "a.env", 1);
    let b = github_file(dir.path(), "b.env", 2);
    let s = server();
    s.seed(json!({"credentials": {
        a.clone(): {"answer": "throttle", "count": 1, "retry_after": 1, "identity": "after-wait"},
        b.clone(): {"answer": "throttle_forever", "retry_after": 1},
    }}));
    let t = Instant::now();
    let o = scan(
        dir.path(),
        &gh_args(&s, &["-f", "json", "--validate-retries", "2"]),
    );
    let found = findings(&o);
    let va = validation_of(&found, "a.env", "github-pat-classic");
    assert_eq!(
        (va["status"].as_str(), va["identity"].as_str()),
        (Some("live"), Some("after-wait"))
    );
    let vb = validation_of(&found, "b.env", "github-pat-classic");
    assert_eq!(vb["status"], "error", "{vb}");
    assert!(
        vb["detail"].as_str().unwrap_or("").contains("rate-limited"),
        "{vb}"
    );
    // Retry-After: 1 was waited for (once for a, twice for b: same provider, one pause).
    assert!(t.elapsed() >= Duration::from_secs(1), "{:?}", t.elapsed());
    let n = seen(&s);
    assert_eq!((n[&a], n[&b]), (2, 3), "{n:?}");
    // A Retry-After beyond --validate-max-wait is not waited for.
    let s2 = server();
    s2.seed(
        json!({"credentials": { b.clone(): {"answer": "throttle_forever", "retry_after": 120} }}),
    );
    std::fs::remove_file(dir.path().join("a.env")).expect("rm");
    let t = Instant::now();
    let o = scan(
        dir.path(),
        &gh_args(&s2, &["-f", "json", "--validate-max-wait", "5"]),
    );
    let v = validation_of(&findings(&o), "b.env", "github-pat-classic");
    assert_eq!(v["status"], "error");
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or("")
            .contains("Retry-After 120 s"),
        "{v}"
    );
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
}

#[test]
fn server_errors_timeouts_and_refused_connections_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = github_file(dir.path(), "a.env", 3);
    let b = github_file(dir.path(), "b.env", 4);
    let s = server();
    s.seed(json!({"credentials": {
        a.clone(): {"answer": "error"},
        b.clone(): {"answer": "slow", "delay": 4},
    }}));
    let o = scan(
        dir.path(),
        &gh_args(
            &s,
            &[
                "-f",
                "json",
                "--validate-timeout",
                "1",
                "--validate-retries",
                "1",
            ],
        ),
    );
    let found = findings(&o);
    let va = validation_of(&found, "a.env", "github-pat-classic");
    assert_eq!(va["status"], "error");
    assert!(
        va["detail"].as_str().unwrap_or("").contains("HTTP 500"),
        "{va}"
    );
    let vb = validation_of(&found, "b.env", "github-pat-classic");
    assert_eq!(vb["status"], "error");
    assert!(
        vb["detail"].as_str().unwrap_or("").contains("timeout"),
        "{vb}"
    );
    assert_eq!(seen(&s)[&a], 2, "one retry of a 500");
    // Nothing listens: refused, an error that names the request without the token.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let o = scan(
        dir.path(),
        &[
            "--validate".into(),
            "--validate-retries".into(),
            "0".into(),
            "--validate-endpoint".into(),
            format!("github=http://127.0.0.1:{port}"),
            "-f".into(),
            "json".into(),
        ],
    );
    let v = validation_of(&findings(&o), "a.env", "github-pat-classic");
    assert_eq!(v["status"], "error");
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or("")
            .contains("GET http://127.0.0.1"),
        "{v}"
    );
    assert_no_canary("refused detail", &v.to_string(), &[&a]);
}

#[test]
fn missing_half_of_a_pair_and_rules_without_validator_are_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ex = examples();
    std::fs::write(
        dir.path().join("half.env"),
        format!("{}\n{}\n", ex["datadog-app-key"], ex["aws-access-key-id"]),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("pk.pem"),
        format!("{}\n", ex["private-key-openssh"]),
    )
    .expect("write");
    let s = server();
    let mut args = endpoint_args(&s, &["datadog"]);
    args.extend(["--validate".into(), "-f".into(), "json".into()]);
    let o = scan(dir.path(), &args);
    let found = findings(&o);
    let dd = validation_of(&found, "half.env", "datadog-app-key");
    assert_eq!(
        (dd["status"].as_str(), dd["provider"].as_str()),
        (Some("unknown"), Some("datadog"))
    );
    assert!(
        dd["detail"].as_str().unwrap_or("").contains("other half"),
        "{dd}"
    );
    let aws = validation_of(&found, "half.env", "aws-access-key-id");
    assert_eq!(aws["status"], "unknown", "{aws}");
    let pk = found
        .iter()
        .find(|f| f["path"] == "pk.pem")
        .expect("pk finding");
    assert_eq!(pk["validation"]["status"], "unknown");
    assert_eq!(
        pk["validation"]["detail"],
        format!(
            "no validator for rule {}",
            pk["rule_id"].as_str().unwrap_or("")
        )
    );
    assert!(s.requests().is_empty(), "{:?}", s.requests());
}

/// Without --validate: no connection at all, even with endpoints configured in the
/// project config and credentials in the scanned files; and no `validation` key.
#[test]
fn no_connection_is_made_without_validate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = Tripwire::new();
    let port = listener.port();
    github_file(dir.path(), "a.env", 5);
    std::fs::write(
        dir.path().join(".leaksweep.toml"),
        format!("[validation.endpoints]\ngithub = \"http://127.0.0.1:{port}\"\nvault = \"http://127.0.0.1:{port}\"\n"),
    )
    .expect("config");
    std::fs::write(dir.path().join("v.env"), format!("VAULT_ADDR=http://127.0.0.1:{port}\nVAULT_TOKEN=hvs.EfHYJB55runOAm5bo1zjHk2ZByn8b_l9vAwNI8ymmqKpy6O62wevz_qfuqfIjMkPVzXPRCVVD5fPan7MHpyRpvBWLI\n")).expect("write");
    for fmt in ["json", "text", "sarif"] {
        let o = common::bin()
            .current_dir(dir.path())
            .env("VAULT_ADDR", format!("http://127.0.0.1:{port}"))
            .args(["scan", ".", "-f", fmt])
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(1), "{}", common::stderr(&o));
        assert!(
            !common::stdout(&o).contains("validation"),
            "{fmt}: {}",
            common::stdout(&o)
        );
    }
    listener.assert_untouched("a connection was made without --validate");
    // The same setup with --validate does connect (the listener is a valid target).
    let o = common::bin()
        .current_dir(dir.path())
        .args([
            "scan",
            "a.env",
            "--validate",
            "--validate-timeout",
            "1",
            "--validate-retries",
            "0",
        ])
        .output()
        .expect("run");
    assert!(
        common::stdout(&o).contains("[error github"),
        "{}",
        common::stdout(&o)
    );
    assert!(listener.was_contacted(), "--validate should have connected");
}

/// Hosts named in scanned text are never contacted: database URIs, URLs with
/// credentials, a VAULT_ADDR written in a file. Their findings stay `unknown`.
#[test]
fn hosts_named_in_scanned_files_are_never_contacted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = Tripwire::new();
    let port = listener.port();
    std::fs::write(
        dir.path().join("leak.env"),
        format!(
            "DATABASE_URL=postgres://app:Zq8vN3pL6wXr2TkY@127.0.0.1:{port}/prod\n\
             API=https://deploy:Hv7Kp2Qx9Lm4Rt6W@127.0.0.1:{port}/api\n\
             VAULT_ADDR=http://127.0.0.1:{port}\n\
             VAULT_TOKEN=hvs.EfHYJB55runOAm5bo1zjHk2ZByn8b_l9vAwNI8ymmqKpy6O62wevz_qfuqfIjMkPVzXPRCVVD5fPan7MHpyRpvBWLI\n"
        ),
    )
    .expect("write");
    let o = scan(
        dir.path(),
        &["--validate".into(), "-f".into(), "json".into()],
    );
    let found = findings(&o);
    assert!(found.len() >= 2, "{found:?}");
    assert!(
        found
            .iter()
            .any(|f| f["rule_id"] == "database-connection-uri"),
        "{found:?}"
    );
    for f in &found {
        assert_eq!(f["validation"]["status"], "unknown", "{f}");
    }
    let vault = found
        .iter()
        .find(|f| f["rule_id"] == "vault-service-token")
        .expect("vault");
    assert!(
        vault["validation"]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("VAULT_ADDR"),
        "{vault}"
    );
    listener.assert_untouched("a host from the scanned file was contacted");
}

/// A credential the provider echoes back never reaches stdout, stderr, the report file
/// or the cache; the cache is 0600 and answers the second run without a request.
#[test]
fn canaries_stay_out_of_every_output_and_the_cache_is_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ex = examples();
    let echo = github_file(dir.path(), "a.env", 6);
    let live = github_file(dir.path(), "b.env", 7);
    std::fs::write(
        dir.path().join("s.env"),
        format!("{}\n", ex["slack-bot-token"]),
    )
    .expect("write");
    let slack = "xoxb-283998085346-0884365957245-2vGOreqOhVtHOBsJWtfDz3mj";
    assert!(ex["slack-bot-token"].contains(slack));
    let s = server();
    s.seed(json!({"credentials": {
        echo.clone(): {"answer": "echo"},
        slack: {"answer": "echo"},
        live.clone(): {"answer": "live", "identity": "octo"},
    }}));
    let cache = dir.path().join("cache.json");
    let report = dir.path().join("report.sarif");
    let mut args = endpoint_args(&s, &["github", "slack"]);
    args.extend([
        "--validate".into(),
        "--validate-cache".into(),
        cache.display().to_string(),
    ]);
    let canaries = [echo.as_str(), live.as_str(), slack];
    for fmt in ["text", "json", "jsonl", "sarif"] {
        let mut a = args.clone();
        a.extend([
            "-f".into(),
            fmt.into(),
            "-o".into(),
            report.display().to_string(),
            "-v".into(),
        ]);
        let o = scan(dir.path(), &a);
        assert_eq!(o.status.code(), Some(1), "{}", common::stderr(&o));
        let text = std::fs::read_to_string(&report).expect("report");
        assert!(text.contains("invalid"), "{fmt}: {text}");
        assert_no_canary("stdout", &common::stdout(&o), &canaries);
        assert_no_canary("stderr", &common::stderr(&o), &canaries);
        assert_no_canary("report", &text, &canaries);
    }
    let ctext = std::fs::read_to_string(&cache).expect("cache");
    assert_no_canary("cache", &ctext, &canaries);
    assert!(ctext.contains("\"live\""), "{ctext}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    // The first run asked once per credential; the three later runs used the cache.
    let n = seen(&s);
    assert_eq!((n[&echo], n[&live], n[slack]), (1, 1, 1), "{n:?}");
    assert_no_canary("server log", &s.log(), &canaries);
}

#[test]
fn one_request_per_unique_credential_and_results_filter_and_fail_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let live = github_file(dir.path(), "a.env", 8);
    std::fs::write(dir.path().join("b.env"), format!("TOKEN={live}\n")).expect("write");
    std::fs::write(dir.path().join("c.env"), format!("X={live}\n")).expect("write");
    let dead = github_file(dir.path(), "d.env", 9);
    let s = server();
    s.seed(json!({"credentials": { live.clone(): {"answer": "live", "identity": "octo"} }}));
    let o = scan(dir.path(), &gh_args(&s, &["-f", "json"]));
    let found = findings(&o);
    assert_eq!(found.len(), 4);
    assert_eq!(seen(&s)[&live], 1, "one request for three findings");
    assert_eq!(seen(&s)[&dead], 1);
    let summary: Value =
        serde_json::from_slice::<Value>(&o.stdout).expect("json")["summary"].clone();
    assert_eq!(summary["validation"], json!({"live": 3, "invalid": 1}));
    // --results
    let o = scan(
        dir.path(),
        &gh_args(&s, &["-f", "json", "--results", "invalid"]),
    );
    let found = findings(&o);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["path"], "d.env");
    // Text lists live first and shows the status next to each finding.
    let o = scan(dir.path(), &gh_args(&s, &["--color", "never"]));
    let out = common::stdout(&o);
    let first_live = out.find("[live github: octo").expect("live shown");
    let first_invalid = out.find("[invalid github").expect("invalid shown");
    assert!(first_live < first_invalid, "{out}");
    assert!(
        common::stderr(&o).contains("(validation: invalid 1, live 3)"),
        "{}",
        common::stderr(&o)
    );
    // --fail-on live: dead keys alone pass the gate, a live one fails it.
    std::fs::write(dir.path().join("a.env"), "").expect("write");
    std::fs::write(dir.path().join("b.env"), "").expect("write");
    std::fs::write(dir.path().join("c.env"), "").expect("write");
    let o = scan(dir.path(), &gh_args(&s, &["--fail-on", "live"]));
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let o = scan(dir.path(), &gh_args(&s, &[]));
    assert_eq!(o.status.code(), Some(1));
    std::fs::write(dir.path().join("a.env"), format!("T={live}\n")).expect("write");
    let o = scan(dir.path(), &gh_args(&s, &["--fail-on", "live"]));
    assert_eq!(o.status.code(), Some(1));
    // --fail-on live without --validate is refused (it would always pass).
    let o = scan(dir.path(), &["--fail-on".into(), "live".into()]);
    common::assert_refused(&o, "needs --validate");
}

#[test]
fn bad_endpoints_are_refused_before_scanning() {
    let dir = tempfile::tempdir().expect("tempdir");
    github_file(dir.path(), "a.env", 10);
    for (arg, want) in [
        ("nosuch=https://x", "unknown provider id"),
        ("github", "PROVIDER=URL"),
        ("github=ftp://x", "http:// or https://"),
        ("self-hosted=https://x", "makes no request"),
    ] {
        let o = scan(
            dir.path(),
            &[
                "--validate".into(),
                "--validate-endpoint".into(),
                arg.into(),
            ],
        );
        common::assert_refused(&o, want);
    }
    std::fs::write(
        dir.path().join(".leaksweep.toml"),
        "[validation.endpoints]\nnosuch = \"https://x\"\n",
    )
    .expect("w");
    let o = scan(dir.path(), &["--validate".into()]);
    common::assert_refused(&o, ".leaksweep.toml: [validation.endpoints]");
}

#[test]
fn git_history_and_stdin_are_validated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tok = github_file(dir.path(), "a.env", 11);
    common::git_in(dir.path(), &["init", "-q"], None);
    common::git_in(dir.path(), &["add", "a.env"], None);
    common::git_in(dir.path(), &["commit", "-qm", "add"], None);
    let s = server();
    s.seed(json!({"credentials": { tok.clone(): {"answer": "live", "identity": "octo"} }}));
    let mut args: Vec<String> = vec!["git".into(), ".".into()];
    args.extend(gh_args(&s, &["-f", "jsonl"]));
    let o = common::bin()
        .current_dir(dir.path())
        .args(&args)
        .output()
        .expect("run");
    let line: Value =
        serde_json::from_str(common::stdout(&o).lines().next().expect("a line")).expect("jsonl");
    assert_eq!(line["validation"]["status"], "live", "{line}");
    assert!(line["commit"].is_string());
    let mut cmd = common::bin();
    cmd.current_dir(dir.path())
        .arg("scan")
        .arg("-")
        .args(gh_args(&s, &["-f", "json"]));
    let o = common::output_with_stdin(&mut cmd, format!("GITHUB_TOKEN={tok}\n").into_bytes());
    let v = validation_of(&findings(&o), "<stdin>", "github-pat-classic");
    assert_eq!(v["identity"], "octo");
}

fn env(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: start the servers with .ci/run (see TESTING.md)")
    })
}

/// moto with IAM auth (`.ci/run`): the key created through its IAM is live with its
/// ARN; a key id never issued, and a wrong secret for the real id, are invalid.
#[test]
#[ignore = "needs moto with IAM auth on :5001 and LEAKSWEEP_TEST_AWS_SIGNED_KEY_ID/SECRET (see TESTING.md)"]
fn aws_keys_against_moto_with_iam_auth() {
    let endpoint = env("LEAKSWEEP_TEST_AWS_SIGNED_ENDPOINT");
    let id = env("LEAKSWEEP_TEST_AWS_SIGNED_KEY_ID");
    let secret = env("LEAKSWEEP_TEST_AWS_SIGNED_SECRET");
    let dir = tempfile::tempdir().expect("tempdir");
    let never = common::aws_key_id(77);
    let mut wrong: Vec<char> = secret.chars().collect();
    wrong.reverse();
    let wrong: String = wrong.into_iter().collect();
    std::fs::create_dir(dir.path().join("real")).expect("mkdir");
    std::fs::create_dir(dir.path().join("never")).expect("mkdir");
    std::fs::create_dir(dir.path().join("wrong")).expect("mkdir");
    let creds =
        |id: &str, s: &str| format!("aws_access_key_id = {id}\naws_secret_access_key = {s}\n");
    std::fs::write(dir.path().join("real/credentials"), creds(&id, &secret)).expect("w");
    std::fs::write(dir.path().join("never/credentials"), creds(&never, &secret)).expect("w");
    std::fs::write(dir.path().join("wrong/credentials"), creds(&id, &wrong)).expect("w");
    let o = scan(
        dir.path(),
        &[
            "--validate".into(),
            "--validate-endpoint".into(),
            format!("aws={endpoint}"),
            "-f".into(),
            "json".into(),
        ],
    );
    let found = findings(&o);
    let real = validation_of(&found, "real/credentials", "aws-secret-access-key");
    assert_eq!(real["status"], "live", "{real}");
    assert!(
        real["identity"]
            .as_str()
            .unwrap_or("")
            .starts_with("arn:aws:iam::"),
        "{real}"
    );
    assert!(
        real["identity"]
            .as_str()
            .unwrap_or("")
            .ends_with(":user/leaksweep-rotator"),
        "{real}"
    );
    assert_eq!(
        validation_of(&found, "real/credentials", "aws-access-key-id"),
        real
    );
    for which in ["never", "wrong"] {
        let v = validation_of(
            &found,
            &format!("{which}/credentials"),
            "aws-secret-access-key",
        );
        assert_eq!(v["status"], "invalid", "{which}: {v}");
    }
    assert_no_canary("stdout", &common::stdout(&o), &[&secret, &wrong]);
    assert_no_canary("stderr", &common::stderr(&o), &[&secret, &wrong]);
}

fn bao(method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let addr = env("LEAKSWEEP_TEST_VAULT_ADDR");
    let r = ureq::request(method, &format!("{addr}{path}")).set("X-Vault-Token", token);
    let resp = match body {
        Some(b) => r.send_string(&b.to_string()),
        None => r.call(),
    }
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    serde_json::from_str(&resp.into_string().unwrap_or_default()).unwrap_or(Value::Null)
}

/// The OpenBao dev server (`.ci/run`): a created token is live with its policies and
/// display name; a revoked one is invalid. The address comes from VAULT_ADDR.
#[test]
#[ignore = "needs the OpenBao dev server on :8200 and LEAKSWEEP_TEST_VAULT_TOKEN (see TESTING.md)"]
fn vault_tokens_against_openbao() {
    let addr = env("LEAKSWEEP_TEST_VAULT_ADDR");
    let root = env("LEAKSWEEP_TEST_VAULT_TOKEN");
    bao(
        "PUT",
        "/v1/sys/policies/acl/lsw-validate",
        &root,
        Some(json!({"policy": "path \"secret/*\" { capabilities = [\"read\"] }"})),
    );
    let mk = |name: &str| -> String {
        let v = bao(
            "POST",
            "/v1/auth/token/create",
            &root,
            Some(json!({"policies": ["lsw-validate"], "display_name": name, "ttl": "1h"})),
        );
        v["auth"]["client_token"]
            .as_str()
            .expect("token")
            .to_string()
    };
    let live = mk("validate-live");
    let revoked = mk("validate-revoked");
    bao(
        "POST",
        "/v1/auth/token/revoke",
        &root,
        Some(json!({"token": revoked})),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.env"), format!("VAULT_TOKEN={live}\n")).expect("w");
    std::fs::write(dir.path().join("b.env"), format!("VAULT_TOKEN={revoked}\n")).expect("w");
    let o = common::bin()
        .current_dir(dir.path())
        .env("VAULT_ADDR", &addr)
        .env_remove("BAO_ADDR")
        .args(["scan", ".", "--validate", "-f", "json"])
        .output()
        .expect("run");
    let found = findings(&o);
    let a = found.iter().find(|f| f["path"] == "a.env").expect("a")["validation"].clone();
    assert_eq!(a["status"], "live", "{a}");
    assert_eq!(a["identity"], "token-validate-live");
    assert!(
        a["scopes"]
            .as_array()
            .expect("scopes")
            .contains(&json!("lsw-validate")),
        "{a}"
    );
    assert!(a["detail"].as_str().unwrap_or("").contains("ttl "), "{a}");
    let b = found.iter().find(|f| f["path"] == "b.env").expect("b")["validation"].clone();
    assert_eq!(b["status"], "invalid", "{b}");
    assert_no_canary("stdout", &common::stdout(&o), &[&live, &revoked]);
}

/// `--follow --validate`: each new finding is printed with its validation; a token seen
/// again later is not asked again; `--fail-on live` decides the exit code at the end.
#[test]
fn follow_validates_findings_as_they_appear() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("app.log");
    let live = common::github_pat(12);
    let dead = common::github_pat(13);
    std::fs::write(&log, format!("start token={live}\n")).expect("write");
    let s = server();
    s.seed(json!({"credentials": { live.clone(): {"answer": "live", "identity": "octo"} }}));
    let mut child = common::bin()
        .current_dir(dir.path())
        .args([
            "scan",
            "--follow",
            "app.log",
            "-f",
            "jsonl",
            "--poll-interval",
            "50",
        ])
        .args(gh_args(&s, &["--fail-on", "live"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = || -> Value {
        serde_json::from_str(&lines.next().expect("a line").expect("read")).expect("jsonl")
    };
    assert_eq!(next()["validation"]["identity"], "octo");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("open");
    writeln!(f, "later token={dead}\nagain token={live}").expect("append");
    drop(f);
    let a = next();
    let b = next();
    assert_eq!(a["validation"]["status"], "invalid", "{a}");
    assert_eq!(b["validation"]["status"], "live", "{b}");
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(1));
    assert_eq!(seen(&s)[&live], 1, "asked once across batches");
}

/// A GCP service-account key file: the RS256 JWT made from it is accepted by the token
/// endpoint (contract server verifying signature, kid, iss, aud, scope, iat/exp): live,
/// with the client e-mail. The same key id with another account's e-mail is refused.
#[test]
#[ignore = "needs Python `cryptography` for the GCP contract server (see TESTING.md)"]
fn gcp_service_account_key_files_are_checked_at_the_token_endpoint() {
    let s = Server::start("gcp_sm.py", &["--service-account"]);
    let sa = std::fs::read_to_string(s.info["service_account_file"].as_str().expect("sa file"))
        .expect("sa.json");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sa.json"), &sa).expect("write");
    let mut other: Value = serde_json::from_str(&sa).expect("json");
    other["client_email"] = json!("someone-else@leaksweep-test.iam.gserviceaccount.com");
    std::fs::create_dir(dir.path().join("b")).expect("mkdir");
    std::fs::write(dir.path().join("b/sa.json"), other.to_string()).expect("write");
    let o = scan(
        dir.path(),
        &[
            "--validate".into(),
            "--validate-endpoint".into(),
            format!("gcp-service-account={}", s.base),
            "-f".into(),
            "json".into(),
        ],
    );
    let found = findings(&o);
    let v = validation_of(&found, "sa.json", "gcp-service-account-key-id");
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(
        v["identity"],
        "rotator@leaksweep-test.iam.gserviceaccount.com"
    );
    let v = validation_of(&found, "b/sa.json", "gcp-service-account-key-id");
    assert_eq!(v["status"], "invalid", "{v}");
    let key: Value = serde_json::from_str(&sa).expect("json");
    assert_no_canary(
        "stdout",
        &common::stdout(&o),
        &[key["private_key"]
            .as_str()
            .expect("pem")
            .lines()
            .nth(1)
            .expect("pem line")],
    );
}

const VAULT_TOKEN: &str =
    "hvs.EfHYJB55runOAm5bo1zjHk2ZByn8b_l9vAwNI8ymmqKpy6O62wevz_qfuqfIjMkPVzXPRCVVD5fPan7MHpyRpvBWLI";

/// Files whose credentials sit next to (or in) a URL of `authority`: a password in a
/// URL, a Vault token next to its VAULT_ADDR, a GitLab token next to its server.
fn self_hosted_files(dir: &Path, authority: &str) {
    std::fs::write(
        dir.join("remote.env"),
        format!("REMOTE=http://deploy:Hv7Kp2Qx9Lm4Rt6W@{authority}/ops/app.git\n"),
    )
    .expect("write");
    std::fs::write(
        dir.join("wrong.env"),
        format!("MIRROR=http://deploy:Zr4Wq8Lp3Kx7Mn2T@{authority}/mirror\n"),
    )
    .expect("write");
    std::fs::write(
        dir.join("vault.env"),
        format!("VAULT_ADDR=http://{authority}\nVAULT_TOKEN={VAULT_TOKEN}\n"),
    )
    .expect("write");
    std::fs::write(
        dir.join("gitlab.yml"),
        format!("gitlab:\n  url: http://{authority}/\n  token: glpat-t0xfyzSoCFLjA3711Fhl\n"),
    )
    .expect("write");
}

/// Without --validate-allow-host, a host taken from the scanned text is never
/// contacted, whatever the credential: the findings stay `unknown` and the detail names
/// the flag. (The GitLab token still goes to its provider's fixed host, which the test
/// points at a closed port so that nothing leaves the machine.)
#[test]
fn hosts_next_to_credentials_are_not_contacted_unless_allow_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = Tripwire::new();
    let port = listener.port();
    self_hosted_files(dir.path(), &format!("127.0.0.1:{port}"));
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_port = closed.local_addr().expect("addr").port();
    drop(closed);
    let o = scan(
        dir.path(),
        &[
            "--validate".into(),
            "--validate-retries".into(),
            "0".into(),
            "--validate-endpoint".into(),
            format!("gitlab=http://127.0.0.1:{closed_port}"),
            // Another port of the same host: not this one.
            "--validate-allow-host".into(),
            format!("127.0.0.1:{}", port.wrapping_add(1).max(1)),
            "-f".into(),
            "json".into(),
        ],
    );
    let found = findings(&o);
    for path in ["remote.env", "wrong.env"] {
        let v = validation_of(&found, path, "url-basic-auth");
        assert_eq!(v["status"], "unknown", "{v}");
        assert_eq!(v["provider"], "basic-auth-url", "{v}");
        let d = v["detail"].as_str().unwrap_or_default();
        assert!(
            d.contains(&format!("--validate-allow-host 127.0.0.1:{port}")),
            "{d}"
        );
    }
    let v = validation_of(&found, "vault.env", "vault-service-token");
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(
        v["detail"]
            .as_str()
            .is_some_and(|d| d.contains("--validate-allow-host") && d.contains("VAULT_ADDR")),
        "{v}"
    );
    listener.assert_untouched("a host from the scanned text was contacted");
}

/// With the host allow-listed (flag or `[validation] allow_hosts`): the password in a URL
/// is checked with one GET of the URL's origin with basic auth (confirmed by the same GET
/// without credentials), and the Vault and GitLab tokens at the server named next to
/// them, each by its documented request.
#[test]
fn allow_listed_hosts_next_to_credentials_are_checked() {
    let s = server();
    let authority = s.base.trim_start_matches("http://").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    self_hosted_files(dir.path(), &authority);
    s.seed(json!({"credentials": {
        "deploy:Hv7Kp2Qx9Lm4Rt6W": {"answer": "live"},
        VAULT_TOKEN: {"answer": "live", "identity": "token-app"},
        "glpat-t0xfyzSoCFLjA3711Fhl": {"answer": "live", "identity": "ci-token"},
    }}));
    std::fs::write(
        dir.path().join(".leaksweep.toml"),
        format!("[validation]\nallow_hosts = [\"{authority}\"]\n"),
    )
    .expect("config");
    let o = scan(
        dir.path(),
        &["--validate".into(), "-f".into(), "json".into()],
    );
    assert_eq!(violations(&s), Vec::<String>::new());
    let found = findings(&o);
    let v = validation_of(&found, "remote.env", "url-basic-auth");
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(
        v["detail"], "HTTP 200 with the credentials, HTTP 401 without",
        "{v}"
    );
    let v = validation_of(&found, "wrong.env", "url-basic-auth");
    assert_eq!(v["status"], "invalid", "{v}");
    let v = validation_of(&found, "vault.env", "vault-service-token");
    assert_eq!(
        (&v["status"], &v["identity"]),
        (&json!("live"), &json!("token-app")),
        "{v}"
    );
    let v = validation_of(&found, "gitlab.yml", "gitlab-pat");
    assert_eq!(
        (&v["status"], &v["identity"]),
        (&json!("live"), &json!("ci-token")),
        "{v}"
    );
    let seen = seen(&s);
    assert_eq!(seen["deploy:Hv7Kp2Qx9Lm4Rt6W"], 1, "{seen:?}");
    assert_eq!(seen["<anonymous>"], 1, "one anonymous GET: {seen:?}");
    assert!(
        s.requests().iter().all(|(m, _, _)| m == "GET"),
        "{:?}",
        s.requests()
    );

    // A server that answers without credentials too proves nothing.
    let public = server();
    let authority = public.base.trim_start_matches("http://").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    self_hosted_files(dir.path(), &authority);
    public.seed(json!({"credentials": {"<anonymous>": {"public": true}}}));
    let o = scan(
        dir.path(),
        &[
            "--validate".into(),
            "--validate-allow-host".into(),
            authority.clone(),
            "-f".into(),
            "json".into(),
        ],
    );
    let v = validation_of(&findings(&o), "remote.env", "url-basic-auth");
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(
        v["detail"]
            .as_str()
            .is_some_and(|d| d.contains("without credentials too")),
        "{v}"
    );
}

/// Allow-list entries must be plain hosts: URLs, paths, user info and wildcards are
/// refused before anything is scanned or sent, naming where the entry came from.
#[test]
fn allow_list_entries_that_are_not_plain_hosts_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    github_file(dir.path(), "a.env", 21);
    for bad in [
        "https://git.corp.example",
        "git.corp.example/api",
        "*.corp.example",
        "u@h.example",
        "h.example:99999",
    ] {
        let o = scan(
            dir.path(),
            &[
                "--validate".into(),
                "--validate-allow-host".into(),
                bad.into(),
            ],
        );
        common::assert_refused(&o, "--validate-allow-host");
    }
    std::fs::write(
        dir.path().join(".leaksweep.toml"),
        "[validation]\nallow_hosts = [\"http://x.example\"]\n",
    )
    .expect("config");
    let o = scan(dir.path(), &["--validate".into()]);
    common::assert_refused(&o, "allow_hosts");
}

/// A redirect from an allow-listed host is never followed: the host it points to gets
/// no connection, and the result is `error` (cannot tell).
#[test]
fn redirects_from_allow_listed_hosts_are_not_followed() {
    let elsewhere = Tripwire::new();
    let elsewhere_port = elsewhere.port();
    let redirector = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = redirector.local_addr().expect("addr").port();
    let t = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut c, _) = redirector.accept().expect("accept");
        c.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let mut buf = [0u8; 4096];
        let n = c.read(&mut buf).unwrap_or(0);
        let head = String::from_utf8_lossy(&buf[..n]).to_string();
        write!(
            c,
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{elsewhere_port}/login\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .expect("answer");
        head
    });
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("remote.env"),
        format!("REMOTE=http://deploy:Hv7Kp2Qx9Lm4Rt6W@127.0.0.1:{port}/x\n"),
    )
    .expect("write");
    let o = scan(
        dir.path(),
        &[
            "--validate".into(),
            "--validate-allow-host".into(),
            format!("127.0.0.1:{port}"),
            "-f".into(),
            "json".into(),
        ],
    );
    let head = t.join().expect("server thread");
    assert!(head.starts_with("GET / HTTP/1.1\r\n"), "{head}");
    assert!(
        head.contains("\nauthorization: Basic ") || head.contains("\nAuthorization: Basic "),
        "{head}"
    );
    let v = validation_of(&findings(&o), "remote.env", "url-basic-auth");
    assert_eq!(v["status"], "error", "{v}");
    assert!(
        v["detail"].as_str().is_some_and(|d| d.contains("redirect")),
        "{v}"
    );
    elsewhere.assert_untouched("the redirect was followed");
}

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

fn azure_secret(tail: &str) -> String {
    format!("m3g8Q~lioowYmgkcbPoCmTcSvu_Hqrp8Njn{tail}")
}

/// Azure service principals: the client secret joined with the tenant and client ids
/// written next to it is checked with the client-credentials grant (the contract server
/// checks path, method, form content type and the exact form fields): live with the
/// app id, tenant and roles from the token's claims; a wrong secret, an expired one, an
/// unknown app and an unknown tenant are invalid; without the ids, unknown.
#[test]
fn azure_client_credentials_are_checked_at_the_token_endpoint() {
    let s = server();
    let dir = tempfile::tempdir().expect("tempdir");
    let other_tenant = "11111111-2222-4333-8444-555555555555";
    let other_client = "99999999-8888-4777-8666-555555555555";
    let cases = [
        ("live.env", TENANT, CLIENT, azure_secret("AzJF")),
        ("expired.env", TENANT, CLIENT, azure_secret("BxKq")),
        ("wrong.env", TENANT, CLIENT, azure_secret("CwLr")),
        ("noapp.env", TENANT, other_client, azure_secret("DvMs")),
        ("notenant.env", other_tenant, CLIENT, azure_secret("EuNt")),
    ];
    for (name, t, c, sec) in &cases {
        std::fs::write(
            dir.path().join(name),
            format!("AZURE_TENANT_ID={t}\nAZURE_CLIENT_ID={c}\nAZURE_CLIENT_SECRET={sec}\n"),
        )
        .expect("write");
    }
    std::fs::write(
        dir.path().join("sp.json"),
        format!(
            "{{\n  \"appId\": \"{CLIENT}\",\n  \"displayName\": \"ci\",\n  \"password\": \"{}\",\n  \"tenant\": \"{TENANT}\"\n}}\n",
            cases[0].3
        ),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("alone.env"),
        format!("AZURE_CLIENT_SECRET={}\n", azure_secret("FtOu")),
    )
    .expect("write");
    s.seed(json!({"credentials": {
        format!("{TENANT}:{CLIENT}:{}", cases[0].3): {"answer": "live", "roles": ["User.Read.All"]},
        format!("{TENANT}:{CLIENT}:{}", cases[1].3): {"answer": "expired"},
    }}));
    let o = scan(
        dir.path(),
        &[
            "--validate".into(),
            "--validate-endpoint".into(),
            format!("azure={}/azure", s.base),
            "-f".into(),
            "json".into(),
        ],
    );
    assert_eq!(violations(&s), Vec::<String>::new());
    let found = findings(&o);
    for path in ["live.env", "sp.json"] {
        let v = validation_of(&found, path, "azure-ad-client-secret");
        assert_eq!(v["status"], "live", "{path}: {v}");
        assert_eq!(v["identity"], CLIENT, "{v}");
        assert_eq!(v["detail"], format!("tenant {TENANT}"), "{v}");
        assert_eq!(v["scopes"], json!(["User.Read.All"]), "{v}");
    }
    for (path, code) in [
        ("expired.env", "AADSTS7000222"),
        ("wrong.env", "AADSTS7000215"),
        ("noapp.env", "AADSTS700016"),
        ("notenant.env", "AADSTS90002"),
    ] {
        let v = validation_of(&found, path, "azure-ad-client-secret");
        assert_eq!(v["status"], "invalid", "{path}: {v}");
        assert!(
            v["detail"].as_str().is_some_and(|d| d.contains(code)),
            "{path}: {v}"
        );
    }
    let v = validation_of(&found, "alone.env", "azure-ad-client-secret");
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(
        v["detail"]
            .as_str()
            .is_some_and(|d| d.contains("tenant id")),
        "{v}"
    );
    // One request per (tenant, client, secret): live.env and sp.json share one.
    assert_eq!(seen(&s)[&format!("{TENANT}:{CLIENT}:{}", cases[0].3)], 1);
    assert_no_canary("stdout", &common::stdout(&o), &[&cases[0].3]);
}

/// GitHub: the organisations a token may read are part of its identity (GET
/// /user/orgs); a token that may not read them is still live, with its login.
#[test]
fn github_identity_names_the_organisations_when_readable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let with = github_file(dir.path(), "a.env", 31);
    let without = github_file(dir.path(), "b.env", 32);
    let s = server();
    s.seed(json!({"credentials": {
        with.clone(): {"answer": "live", "identity": "octocat", "orgs": ["acme", "widgets"]},
        without.clone(): {"answer": "live", "identity": "fine-grained"},
    }}));
    let o = scan(dir.path(), &gh_args(&s, &["-f", "json"]));
    assert_eq!(violations(&s), Vec::<String>::new());
    let found = findings(&o);
    let v = validation_of(&found, "a.env", "github-pat-classic");
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["identity"], "octocat (orgs: acme,widgets)", "{v}");
    let v = validation_of(&found, "b.env", "github-pat-classic");
    assert_eq!(
        (&v["status"], &v["identity"]),
        (&json!("live"), &json!("fine-grained")),
        "{v}"
    );
    assert!(
        v["detail"]
            .as_str()
            .is_some_and(|d| d.contains("organisations not readable (HTTP 403)")),
        "{v}"
    );
    let seen = seen(&s);
    assert_eq!(
        (seen[&with], seen[&format!("orgs:{with}")]),
        (1, 1),
        "{seen:?}"
    );
}

/// A GCP service-account key in git history and on standard input: the key's
/// private_key and client_email are read from the text around its private_key_id (the
/// file is not on disk), and the signed JWT is accepted at the token endpoint.
#[test]
#[ignore = "needs Python `cryptography` for the GCP contract server (see TESTING.md)"]
fn gcp_service_account_keys_in_history_and_stdin_are_checked() {
    let s = Server::start("gcp_sm.py", &["--service-account"]);
    let sa = std::fs::read_to_string(s.info["service_account_file"].as_str().expect("sa file"))
        .expect("sa.json");
    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(&sa).expect("json"))
        .expect("json");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sa.json"), &pretty).expect("write");
    common::git_in(dir.path(), &["init", "-q"], None);
    common::git_in(dir.path(), &["add", "sa.json"], None);
    common::git_in(dir.path(), &["commit", "-qm", "add key"], None);
    common::git_in(dir.path(), &["rm", "-q", "sa.json"], None);
    common::git_in(dir.path(), &["commit", "-qm", "remove key"], None);
    let endpoint = format!("gcp-service-account={}", s.base);
    let o = common::bin()
        .current_dir(dir.path())
        .args([
            "git",
            ".",
            "--validate",
            "--validate-endpoint",
            &endpoint,
            "-f",
            "json",
        ])
        .output()
        .expect("run");
    let v = validation_of(&findings(&o), "sa.json", "gcp-service-account-key-id");
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(
        v["identity"],
        "rotator@leaksweep-test.iam.gserviceaccount.com"
    );
    let mut cmd = common::bin();
    cmd.current_dir(dir.path()).args([
        "scan",
        "-",
        "--validate",
        "--validate-endpoint",
        &endpoint,
        "-f",
        "json",
    ]);
    let o = common::output_with_stdin(&mut cmd, pretty.clone().into_bytes());
    let v = validation_of(&findings(&o), "<stdin>", "gcp-service-account-key-id");
    assert_eq!(v["status"], "live", "{v}");
    let key: Value = serde_json::from_str(&sa).expect("json");
    assert_no_canary(
        "stdout",
        &common::stdout(&o),
        &[key["private_key"]
            .as_str()
            .expect("pem")
            .lines()
            .nth(1)
            .expect("pem line")],
    );
}
