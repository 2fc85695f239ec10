//! `leaksweep rotate` against moto's AWS Secrets Manager server started by `.ci/run`.

mod common;
mod rotate_common;

use std::fs;
use std::path::Path;
use std::process::Output;

use common::*;
use rotate_common::*;
use serde_json::{json, Value};
use tempfile::TempDir;

const KEY_ID: &str = "AKIATESTROTATE000001";
const SECRET_KEY: &str = "moto-accepts-any-secret-key-in-tests";

fn rotate(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .arg("rotate")
        .args(args)
        .env("LSW_AWS_KEY_ID", KEY_ID)
        .env("LSW_AWS_SECRET", SECRET_KEY)
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("run leaksweep")
}

fn config(dir: &Path, endpoint: &str, extra: &str) {
    write_rotation_config(
        dir,
        200,
        &format!(
            r#"
[[rotation.backend]]
name = "aws"
kind = "aws-secretsmanager"
region = "us-east-1"
endpoint = "{endpoint}"
access_key_id_env = "LSW_AWS_KEY_ID"
secret_access_key_env = "LSW_AWS_SECRET"
timeout_ms = 5000
{extra}
[[rotation.route]]
rules = ["database-connection-uri"]
backend = "aws"
policy = {{ length = 32, charset = "alnum-symbols" }}
"#
        ),
    );
}

fn leaked_db(dir: &Path, seed: u64) -> String {
    let pw = write_leaked_db(dir, seed, "app.env", "");
    scan_to_report(dir, "app.env", "report.jsonl", &[]);
    pw
}

fn create(endpoint: &str, name: &str, value: &str) {
    let (s, v) = sm(
        endpoint,
        "CreateSecret",
        &json!({"Name": name, "SecretString": value}),
    );
    assert_eq!(s, 200, "{v}");
}

fn versions(endpoint: &str, name: &str) -> Vec<(String, Vec<String>)> {
    let (s, v) = sm(endpoint, "ListSecretVersionIds", &json!({"SecretId": name}));
    assert_eq!(s, 200, "{v}");
    v["Versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["VersionId"].as_str().unwrap().to_string(),
                x["VersionStages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

fn value(endpoint: &str, name: &str, stage: &str) -> String {
    let (s, v) = sm(
        endpoint,
        "GetSecretValue",
        &json!({"SecretId": name, "VersionStage": stage}),
    );
    assert_eq!(s, 200, "{v}");
    v["SecretString"].as_str().unwrap().to_string()
}

#[test]
#[ignore = "needs a moto server (see TESTING.md)"]
fn aws_locate_dry_run_rotate_and_rerun() {
    let ep = aws();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let seed = run_seed();
    let pw = leaked_db(d, seed);
    let json_name = format!("lsw-{seed:x}/db");
    let plain_name = format!("lsw-{seed:x}/plain");
    create(
        &ep,
        &json_name,
        &json!({"username": "app", "password": pw}).to_string(),
    );
    create(&ep, &plain_name, &pw);
    create(
        &ep,
        &format!("lsw-{seed:x}/other"),
        &random_alnum(seed ^ 3, 20),
    );
    config(d, &ep, "");
    let mut outs = Vec::new();

    let out = rotate(d, &["report.jsonl", "--locate", "--format", "json"]);
    assert_exit(&out, 0);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let locs: Vec<&str> = v["located"][0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        locs,
        vec![
            format!("aws:{json_name}#password"),
            format!("aws:{plain_name}")
        ]
    );
    outs.push(out);

    let out = rotate(d, &["report.jsonl"]);
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out).matches("would-do").count(),
        2,
        "{}",
        stdout(&out)
    );
    assert_eq!(
        versions(&ep, &json_name).len(),
        1,
        "a dry run writes nothing"
    );
    assert_eq!(versions(&ep, &plain_name).len(), 1);
    outs.push(out);

    let out = rotate(
        d,
        &["report.jsonl", "--execute", "--yes", "--format", "json"],
    );
    assert_exit(&out, 0);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = doc["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["status"] == "rotated"), "{doc}");
    for name in [&json_name, &plain_name] {
        let vs = versions(&ep, name);
        assert_eq!(vs.len(), 2, "{vs:?}");
        let stages: Vec<String> = vs.iter().flat_map(|v| v.1.clone()).collect();
        assert!(stages.contains(&"AWSCURRENT".into()) && stages.contains(&"AWSPREVIOUS".into()));
        let rotated = results
            .iter()
            .find(|r| r["target"].as_str().unwrap().contains(name.as_str()))
            .unwrap();
        let current_id = vs
            .iter()
            .find(|v| v.1.contains(&"AWSCURRENT".to_string()))
            .unwrap();
        assert_eq!(rotated["new_version"].as_str().unwrap(), current_id.0);
    }
    let new_json: Value = serde_json::from_str(&value(&ep, &json_name, "AWSCURRENT")).unwrap();
    assert_eq!(new_json["username"], "app", "other keys are kept");
    let new_pw = new_json["password"].as_str().unwrap().to_string();
    assert_eq!(new_pw.len(), 32);
    assert_ne!(new_pw, pw);
    let old_json: Value = serde_json::from_str(&value(&ep, &json_name, "AWSPREVIOUS")).unwrap();
    assert_eq!(
        old_json["password"],
        pw.as_str(),
        "the previous version is kept"
    );
    let new_plain = value(&ep, &plain_name, "AWSCURRENT");
    assert_ne!(new_plain, pw);
    outs.push(out);

    // Re-run, with and without the state file: no second rotation.
    let out = rotate(d, &["report.jsonl", "--execute", "--yes"]);
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out).matches("already-done").count(),
        2,
        "{}",
        stdout(&out)
    );
    outs.push(out);
    let out = rotate(
        d,
        &[
            "report.jsonl",
            "--execute",
            "--yes",
            "--state",
            "fresh.json",
        ],
    );
    assert_exit(&out, 0);
    assert_eq!(versions(&ep, &json_name).len(), 2);
    assert_eq!(versions(&ep, &plain_name).len(), 2);
    outs.push(out);

    let canaries = [pw.as_str(), new_pw.as_str(), new_plain.as_str(), SECRET_KEY];
    for (i, o) in outs.iter().enumerate() {
        assert_output_clean(&format!("run {i}"), o, &canaries);
    }
    assert_files_clean(d, &canaries, &["app.env"]);
}

#[test]
#[ignore = "needs a moto server (see TESTING.md)"]
fn aws_retries_throttling_and_a_lost_answer_without_a_second_version() {
    let ep = aws();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let seed = run_seed();
    let pw = leaked_db(d, seed);
    let name = format!("lsw-{seed:x}/throttled");
    create(&ep, &name, &pw);
    // AWS throttles with 400 ThrottlingException (not 429); 5xx as InternalServiceError.
    // The first PutSecretValue reaches moto but its answer is lost (503 to the client):
    // the retry must reuse the same ClientRequestToken and not create a second version.
    let proxy = Proxy::start(&ep, move |n, head| {
        let lower = head.to_ascii_lowercase();
        if n < 2 {
            Fault::Reply(response(
                "400 Bad Request",
                r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
            ))
        } else if n == 2 {
            Fault::Reply(response(
                "500 Internal Server Error",
                r#"{"__type":"InternalServiceError","message":"try again"}"#,
            ))
        } else if lower.contains("secretsmanager.putsecretvalue") {
            static ONCE: std::sync::Once = std::sync::Once::new();
            let mut f = Fault::Pass;
            ONCE.call_once(|| f = Fault::Swallow(response("503 Service Unavailable", "{}")));
            f
        } else {
            Fault::Pass
        }
    });
    config(d, &proxy.url, "locate_limit = 100000");
    fs::write(
        d.join(".leaksweep.toml"),
        fs::read_to_string(d.join(".leaksweep.toml"))
            .unwrap()
            .replace(
                "backend = \"aws\"\npolicy",
                &format!("backend = \"aws\"\ntarget = \"{name}\"\npolicy"),
            ),
    )
    .unwrap();
    let out = rotate(d, &["report.jsonl", "--execute", "--yes"]);
    assert_exit(&out, 0);
    assert_contains(&stdout(&out), "rotated ");
    let vs = versions(&ep, &name);
    assert_eq!(vs.len(), 2, "one new version, not two: {vs:?}");
    let kinds = failed_attempt_kinds(d);
    assert_eq!(
        kinds,
        vec!["throttled", "throttled", "unavailable", "unavailable"],
        "{kinds:?}"
    );
    let new = value(&ep, &name, "AWSCURRENT");
    assert_ne!(new, pw);
    assert_output_clean("retry", &out, &[&pw, &new]);
    assert_files_clean(d, &[&pw, &new], &["app.env"]);
}

#[test]
#[ignore = "needs a moto server (see TESTING.md)"]
fn aws_errors_name_the_cause_and_the_fix() {
    let ep = aws();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let seed = run_seed();
    let pw = leaked_db(d, seed);
    // A target that does not exist: wrong name or region.
    config(d, &ep, "");
    fs::write(
        d.join(".leaksweep.toml"),
        fs::read_to_string(d.join(".leaksweep.toml"))
            .unwrap()
            .replace(
                "backend = \"aws\"\npolicy",
                "backend = \"aws\"\ntarget = \"no/such/secret\"\npolicy",
            ),
    )
    .unwrap();
    let out = rotate(d, &["report.jsonl"]);
    assert_exit(&out, 2);
    assert_contains(&stdout(&out), "wrong name/ARN or region");
    // Throttling that never ends: bounded attempts, then a clear failure.
    let proxy = Proxy::start(&ep, |_, _| {
        Fault::Reply(response(
            "400 Bad Request",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        ))
    });
    config(d, &proxy.url, "");
    let out = rotate(d, &["report.jsonl", "--execute", "--yes"]);
    assert_exit(&out, 2);
    assert_contains(&stdout(&out), "gave up after 5 attempts");
    assert_eq!(proxy.seen.load(std::sync::atomic::Ordering::SeqCst), 5);
    // Missing credentials: names the variable, before anything is done (every backend
    // is built, credentials read, before the first write).
    let out = bin()
        .current_dir(d)
        .args(["rotate", "report.jsonl"])
        .env_remove("LSW_AWS_KEY_ID")
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert_contains(&stderr(&out), "$LSW_AWS_KEY_ID");
    assert_contains(&stderr(&out), "nothing was done");
    assert_output_clean("errors", &out, &[&pw]);
}

/// A request signed with leaksweep's own SigV4 signer (for test setup on the signed server).
fn signed_sm(endpoint: &str, key_id: &str, secret: &str, op: &str, body: &Value) -> (u16, Value) {
    use leaksweep::net::sigv4::{authorization, Credentials, SignInput};
    let now = leaksweep::civil::Utc::now().amz_date();
    let host = endpoint.trim_start_matches("http://").to_string();
    let target = format!("secretsmanager.{op}");
    let payload = body.to_string();
    let creds = Credentials {
        access_key_id: key_id.to_string(),
        secret_access_key: leaksweep::secret::Secret::new(secret.as_bytes().to_vec()),
        session_token: None,
    };
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("host", host.as_str()),
        ("x-amz-date", now.as_str()),
        ("x-amz-target", target.as_str()),
    ];
    let auth = authorization(
        &creds,
        &SignInput {
            method: "POST",
            path: "/",
            query: &[],
            headers: &headers,
            payload: payload.as_bytes(),
            region: "us-east-1",
            service: "secretsmanager",
            amz_date: &now,
        },
    );
    http(
        "POST",
        &format!("{endpoint}/"),
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Date", &now),
            ("X-Amz-Target", &target),
            ("Authorization", &auth),
        ],
        Some(&payload),
    )
}

/// moto in IAM mode checks SigV4 signatures like AWS does: the right key works end to
/// end, a wrong secret key is refused and explained.
#[test]
#[ignore = "needs a moto server with IAM auth (see TESTING.md)"]
fn aws_signatures_are_accepted_by_a_verifying_server() {
    let ep = server(
        "LEAKSWEEP_TEST_AWS_SIGNED_ENDPOINT",
        "moto server in signature-checking mode",
    );
    let key_id = std::env::var("LEAKSWEEP_TEST_AWS_SIGNED_KEY_ID").expect("set by .ci/run");
    let secret = std::env::var("LEAKSWEEP_TEST_AWS_SIGNED_SECRET").expect("set by .ci/run");
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let seed = run_seed();
    let pw = leaked_db(d, seed);
    let name = format!("lsw-{seed:x}/signed");
    let (s, v) = signed_sm(
        &ep,
        &key_id,
        &secret,
        "CreateSecret",
        &json!({"Name": name, "SecretString": pw}),
    );
    assert_eq!(s, 200, "{v}");
    let (s, v) = sm(&ep, "ListSecrets", &json!({}));
    assert_ne!(s, 200, "the server must refuse unsigned requests: {v}");

    config(d, &ep, "");
    let with = |secret_key: &str, args: &[&str]| {
        bin()
            .current_dir(d)
            .arg("rotate")
            .args(args)
            .env("LSW_AWS_KEY_ID", &key_id)
            .env("LSW_AWS_SECRET", secret_key)
            .output()
            .unwrap()
    };
    let out = with(&secret, &["report.jsonl", "--execute", "--yes"]);
    assert_exit(&out, 0);
    assert_contains(
        &stdout(&out),
        &format!("rotated          rotate aws:{name}"),
    );
    let (s, v) = signed_sm(
        &ep,
        &key_id,
        &secret,
        "GetSecretValue",
        &json!({"SecretId": name}),
    );
    assert_eq!(s, 200);
    let new = v["SecretString"].as_str().unwrap().to_string();
    assert_ne!(new, pw);

    let wrong = with(
        "wrong-secret-key-wrong-secret-key",
        &["report.jsonl", "--locate"],
    );
    assert_exit(&wrong, 2);
    assert_contains(
        &stderr(&wrong),
        "are wrong (check the key id and secret key)",
    );
    for o in [&out, &wrong] {
        assert_output_clean("signed", o, &[&pw, &new, &secret]);
    }
    assert_files_clean(d, &[&pw, &new, &secret], &["app.env"]);
}

/// A secret with a rotation function (`RotationLambdaARN`) is rotated by asking AWS to
/// run it (`RotateSecret`), not by writing a value. moto "runs" a function it does not
/// have by moving AWSCURRENT to a version without a value; leaksweep must notice that the
/// current version holds no value and say so. With `use_rotation_function = false`,
/// leaksweep writes the new version itself.
#[test]
#[ignore = "needs a moto server (see TESTING.md)"]
fn aws_secret_with_a_rotation_function_goes_through_rotate_secret() {
    let ep = aws();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let seed = run_seed();
    let pw = leaked_db(d, seed);
    let by_fn = format!("lsw-{seed:x}/by-function");
    let by_put = format!("lsw-{seed:x}/by-put");
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:lsw-rotator";
    for name in [&by_fn, &by_put] {
        create(&ep, name, &pw);
        // moto records the rotation settings even though the function does not exist.
        let (s, _) = sm(
            &ep,
            "RotateSecret",
            &json!({"SecretId": name, "RotationLambdaARN": arn, "RotationRules": {"AutomaticallyAfterDays": 30}}),
        );
        assert_eq!(s, 404);
    }
    let targets = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = std::sync::Arc::clone(&targets);
    let proxy = Proxy::start(&ep, move |_, head| {
        if let Some(t) = head.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-amz-target:")
                .map(|v| v.trim().to_string())
        }) {
            seen.lock().unwrap().push(t);
        }
        Fault::Pass
    });
    fs::write(
        d.join(".leaksweep.toml"),
        format!(
            r#"
[rotation]
[[rotation.backend]]
name = "aws-fn"
kind = "aws-secretsmanager"
region = "us-east-1"
endpoint = "{url}"
access_key_id_env = "LSW_AWS_KEY_ID"
secret_access_key_env = "LSW_AWS_SECRET"
rotation_wait_ms = 3000

[[rotation.backend]]
name = "aws-put"
kind = "aws-secretsmanager"
region = "us-east-1"
endpoint = "{url}"
access_key_id_env = "LSW_AWS_KEY_ID"
secret_access_key_env = "LSW_AWS_SECRET"
use_rotation_function = false

[[rotation.route]]
backend = "aws-fn"
target = "{by_fn}"

[[rotation.route]]
backend = "aws-put"
target = "{by_put}"
"#,
            url = proxy.url
        ),
    )
    .unwrap();
    let out = rotate(d, &["report.jsonl", "--execute", "--yes"]);
    assert_exit(&out, 2);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("rotated          rotate aws-put:{by_put}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("failed           rotate aws-fn:{by_fn}")),
        "{text}"
    );
    assert!(text.contains("AWSCURRENT version has no value"), "{text}");
    let sent = targets.lock().unwrap().clone();
    let count = |t: &str| sent.iter().filter(|x| *x == t).count();
    assert_eq!(count("secretsmanager.rotatesecret"), 1, "{sent:?}");
    assert_eq!(count("secretsmanager.putsecretvalue"), 1, "{sent:?}");
    let new = value(&ep, &by_put, "AWSCURRENT");
    assert_ne!(new, pw);
    assert_output_clean("lambda", &out, &[&pw, &new]);
    assert_files_clean(d, &[&pw, &new], &["app.env"]);
}
