//! Credential-store files: path-scoped rules find low-entropy passwords in files whose
//! purpose is to hold credentials, say which kind of file in every output, stay silent on
//! empty slots and template references, and do not fire on the same text elsewhere.
//!
//! The files are written here in variants that the rules' own examples do not hold
//! (other quoting, comments, Windows line ends, several entries, nested directories), so
//! the test checks the formats, not the examples.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;
use tempfile::TempDir;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn scan_json(dir: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["scan", ".", "--format", "json", "--show-secrets"];
    all.extend_from_slice(args);
    let out = run(dir, &all);
    assert!(
        out.status.code() == Some(1) || out.status.code() == Some(0),
        "{}",
        stderr(&out)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    v["findings"].as_array().cloned().unwrap_or_default()
}

/// (path, file_type, secret) of every finding that carries a file type.
fn typed(findings: &[Value]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = findings
        .iter()
        .filter_map(|f| {
            Some((
                f["path"].as_str()?.trim_start_matches("./").to_string(),
                f["file_type"].as_str()?.to_string(),
                f["secret"].as_str()?.to_string(),
            ))
        })
        .collect();
    v.sort();
    v
}

/// Real-world shaped credential files, with the secret each must yield.
const FILES: &[(&str, &str, &str, &str)] = &[
    // (path, content, file type, secret)
    (
        "home/alice/.netrc",
        "# deploy hosts\r\nmachine ci.corp.lan\r\n    login builder\r\n    password letmein\r\n\r\nmachine files.corp.lan login alice password hunter2\r\n",
        "netrc",
        "letmein",
    ),
    ("home/alice/.netrc", "", "netrc", "hunter2"),
    (
        "home/bob/.pgpass",
        "#host:port:db:user:password\n*:5432:*:report:rep0rt\n",
        "pgpass",
        "rep0rt",
    ),
    (
        "home/bob/.git-credentials",
        "https://bob:qwerty12@git.corp.lan\n",
        "git-credentials",
        "qwerty12",
    ),
    (
        "srv/www/.htpasswd",
        "# generated\nalice:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\nbob:plainpass\n",
        "htpasswd",
        "plainpass",
    ),
    (
        "srv/www/blog/wp-config.php",
        "<?php\n/** MySQL settings */\ndefine( 'DB_NAME', 'blog' );\ndefine( 'DB_USER', 'blog' );\ndefine( 'DB_PASSWORD', 'blog123' );\ndefine( 'DB_HOST', 'localhost' );\n",
        "wp-config",
        "blog123",
    ),
    (
        "app/proj/settings/production.py",
        "import os\nDEBUG = False\nSECRET_KEY = '9x)k2(vp=0z!m#q@8r*w7e+t^y_u6i-o5p4a3s2d1f'\n",
        "django-settings",
        "9x)k2(vp=0z!m#q@8r*w7e+t^y_u6i-o5p4a3s2d1f",
    ),
    (
        "home/carol/.my.cnf",
        "[client]\nhost     = db.corp.lan\nuser     = carol\npassword = 'sunshine'\n",
        "my.cnf",
        "sunshine",
    ),
    (
        "home/carol/.docker/config.json",
        "{\n  \"auths\": {\n    \"registry.corp.lan\": {\n      \"auth\": \"Y2Fyb2w6ZHJhZ29uMTI=\"\n    }\n  }\n}\n",
        "docker-config",
        "Y2Fyb2w6ZHJhZ29uMTI=",
    ),
    (
        "home/carol/.kube/config",
        "apiVersion: v1\nclusters: []\nusers:\n- name: carol\n  user:\n    password: \"kubepw1\"\n    username: carol\n",
        "kubeconfig",
        "kubepw1",
    ),
    (
        "home/dave/.npmrc",
        "; corp registry\n//npm.corp.lan/repository/npm/:_password=ZGF2ZXB3\n",
        "npmrc",
        "ZGF2ZXB3",
    ),
    (
        "home/dave/.m2/settings.xml",
        "<settings>\n  <servers>\n    <server>\n      <id>corp</id>\n      <username>dave</username>\n      <password>\n        mavenpw\n      </password>\n    </server>\n  </servers>\n</settings>\n",
        "maven-settings",
        "mavenpw",
    ),
    (
        "home/dave/.aws/credentials",
        "[default]\r\naws_access_key_id=AKIAIOSFODNN7EXAMPL1\r\naws_secret_access_key=tiny-secret\r\n",
        "aws-credentials",
        "tiny-secret",
    ),
    (
        "Users/erin/AppData/Roaming/FileZilla/recentservers.xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<FileZilla3 version=\"3.60.2\">\n\t<RecentServers>\n\t\t<Server>\n\t\t\t<Host>ftp.corp.lan</Host>\n\t\t\t<Pass encoding=\"base64\">ZnRwcGFzcw==</Pass>\n\t\t</Server>\n\t</RecentServers>\n</FileZilla3>\n",
        "filezilla",
        "ZnRwcGFzcw==",
    ),
    (
        "etc/shadow",
        "root:$1$abcdefgh$0123456789ABCDEFGHIJKL:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\n",
        "shadow",
        "$1$abcdefgh$0123456789ABCDEFGHIJKL",
    ),
    (
        "home/erin/.msmtprc",
        "account default\nhost smtp.corp.lan\nuser erin\npassword \"mail pw 9\"\n",
        "msmtprc",
        "mail pw 9",
    ),
    (
        "projects/site/.vscode/sftp.json",
        "{\n    \"name\": \"staging\",\n    \"host\": \"staging.corp.lan\",\n    \"username\": \"www\",\n    \"password\": \"stagepw\",\n    \"uploadOnSave\": true\n}\n",
        "sftp-config",
        "stagepw",
    ),
    (
        "projects/app/config/database.yml",
        "production:\n  adapter: postgresql\n  username: app\n  password: 'railspw'\n",
        "rails-database",
        "railspw",
    ),
    (
        "services/api/.env",
        "# local settings\nDATABASE_HOST=localhost\nREDIS_PASSWORD=redispw\nSESSION_TTL=3600\n",
        "dotenv",
        "redispw",
    ),
    (
        "infra/envs/prod.auto.tfvars",
        "# prod\nregion      = \"eu-west-1\"\ndb_password = \"tfpw99\"\n",
        "terraform-tfvars",
        "tfpw99",
    ),
    (
        "var/lib/jenkins/credentials.xml",
        "<list>\n  <entry>\n    <password>{AQAAABAAAAAQxYz+Abc/Def0123456789=}</password>\n  </entry>\n</list>\n",
        "jenkins-credentials",
        "{AQAAABAAAAAQxYz+Abc/Def0123456789=}",
    ),
];

/// The same slots, empty or holding template references: nothing to report.
const CLEAN: &[(&str, &str)] = &[
    (
        "tpl/.netrc",
        "machine ci.corp.lan login builder password {{ netrc_password }}\n",
    ),
    ("tpl/.pgpass", "*:5432:*:report:\n"),
    (
        "tpl/wp-config.php",
        "<?php\ndefine( 'DB_PASSWORD', getenv('WORDPRESS_DB_PASSWORD') );\ndefine('AUTH_KEY', 'put your unique phrase here');\n",
    ),
    (
        "tpl/.my.cnf",
        "[client]\npassword=%(mysql_password)s\n",
    ),
    (
        "tpl/.docker/config.json",
        "{\"auths\": {\"ghcr.io\": {}}, \"credsStore\": \"osxkeychain\"}\n",
    ),
    (
        "tpl/.npmrc",
        "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n",
    ),
    (
        "tpl/.m2/settings.xml",
        "<settings><servers><server><id>x</id><password>${env.MVN_PW}</password></server></servers></settings>\n",
    ),
    (
        "tpl/config/database.yml",
        "production:\n  password: <%= ENV['DB_PASSWORD'] %>\n",
    ),
    (
        "services/api/.env.example",
        "REDIS_PASSWORD=redispw\nSESSION_TTL=3600\n",
    ),
    ("infra/envs/dev.tfvars", "db_password = \"\"\n"),
    // The same low-entropy lines outside credential files are not secrets.
    (
        "docs/netrc-howto.md",
        "Put `machine ci.corp.lan login builder password letmein` in your ~/.netrc.\n",
    ),
    (
        "src/settings_doc.txt",
        "SECRET_KEY = 'short'\ndefine( 'DB_PASSWORD', 'blog123' );\n",
    ),
];

#[test]
fn credential_files_are_found_with_their_file_type() {
    let dir = TempDir::new().unwrap();
    for (path, text, _, _) in FILES {
        if !text.is_empty() {
            write(dir.path(), path, text);
        }
    }
    let found = typed(&scan_json(dir.path(), &[]));
    for (path, _, file_type, secret) in FILES {
        assert!(
            found
                .iter()
                .any(|(p, t, s)| p == path && t == file_type && s == secret),
            "{path}: expected {file_type} finding {secret:?}; got {found:#?}"
        );
    }
}

#[test]
fn empty_slots_templates_and_other_files_are_not_findings() {
    let dir = TempDir::new().unwrap();
    for (path, text) in CLEAN {
        write(dir.path(), path, text);
    }
    let findings = scan_json(dir.path(), &[]);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn text_and_sarif_reports_name_the_file_type() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), ".pgpass", "db:5432:app:app:apppw\n");
    let text = stdout(&run(dir.path(), &["scan", ".", "--format", "text"]));
    assert!(text.contains("(file type: pgpass)"), "{text}");
    assert!(
        !text.contains("apppw"),
        "text report leaked the secret: {text}"
    );
    let sarif: Value =
        serde_json::from_slice(&run(dir.path(), &["scan", ".", "--format", "sarif"]).stdout)
            .unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["properties"]["file_type"], "pgpass", "{sarif:#}");
}

#[test]
fn git_history_blobs_are_matched_by_their_path() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    git_in(d, &["init", "-q"], None);
    write(
        d,
        "ops/.git-credentials",
        "https://ops:gitpw77@git.corp.lan\n",
    );
    git_in(d, &["add", "."], None);
    git_in(d, &["commit", "-q", "-m", "add creds"], None);
    fs::remove_file(d.join("ops/.git-credentials")).unwrap();
    git_in(d, &["commit", "-q", "-am", "remove creds"], None);
    let out = run(d, &["git", "--format", "json", "--show-secrets"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let found = typed(v["findings"].as_array().unwrap());
    assert!(
        found.contains(&(
            "ops/.git-credentials".into(),
            "git-credentials".into(),
            "gitpw77".into()
        )),
        "{found:#?}"
    );
}

#[test]
fn stdin_has_no_path_so_path_scoped_rules_stay_off() {
    let dir = TempDir::new().unwrap();
    let out = output_with_stdin(
        bin()
            .current_dir(dir.path())
            .args(["scan", "-", "--format", "json"]),
        b"machine ci.corp.lan login builder password letmein\n".to_vec(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert!(
        typed(v["findings"].as_array().unwrap()).is_empty(),
        "{}",
        stdout(&out)
    );
}
