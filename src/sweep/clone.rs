//! Cloning the URLs a user listed: bare mirrors in `--clone-dir`, reused and fetched on
//! the next run, so that a second sweep costs what changed.
//!
//! git runs as a subprocess (its transports, credential helpers and SSH configuration
//! are the user's) with a scrubbed environment: only what git needs to find itself and
//! the user's credentials (`PATH`, `HOME`, `SSH_AUTH_SOCK`, ...), never a prompt
//! (`GIT_TERMINAL_PROMPT=0`), never the `ext::` transport. A URL that carries a password
//! is refused: on git's command line it would be visible to every user of the machine
//! (`ps`), so credentials must come from a credential helper or an SSH agent.
//! Nothing is cloned that the user did not name: submodules are not followed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// Environment variables passed to git; everything else is dropped.
const KEEP_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "SSH_AUTH_SOCK",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_SSL_CAINFO",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "XDG_CONFIG_HOME",
];

/// True if `url` has a password in its user info (`https://user:pass@host/...`).
pub fn has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// The directory a URL is mirrored into: a readable slug plus a hash of the whole URL,
/// so that two URLs never share a mirror.
pub fn mirror_dir(clone_dir: &Path, url: &str) -> PathBuf {
    let tail = url
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("repo")
        .trim_end_matches(".git");
    let slug: String = tail
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let hash = hex::encode(&Sha256::digest(url.as_bytes())[..6]);
    clone_dir.join(format!("{slug}-{hash}.git"))
}

fn git() -> Command {
    let mut cmd = Command::new("git");
    cmd.env_clear();
    for k in KEEP_ENV {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GCM_INTERACTIVE", "never")
        .args(["-c", "protocol.ext.allow=never"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn run(mut cmd: Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot run git ({e}); is git installed and on PATH?"))?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no message)")
        .trim();
    Err(format!("{what} failed: {last}"))
}

/// Clones `url` as a bare mirror into `clone_dir` (all refs, full history), or fetches
/// into the mirror a previous run made. Returns the mirror's path. A clone is made in a
/// `.partial` directory and renamed when complete, so that a killed run never leaves a
/// half clone that a later run would take for a mirror.
pub fn clone_or_fetch(url: &str, clone_dir: &Path) -> Result<PathBuf, String> {
    if has_password(url) {
        return Err(
            "the URL carries a password, which git's command line would show to every user \
             of this machine: drop it from the URL and use a git credential helper or an \
             SSH agent"
                .into(),
        );
    }
    std::fs::create_dir_all(clone_dir)
        .map_err(|e| format!("creating --clone-dir {}: {e}", clone_dir.display()))?;
    let dest = mirror_dir(clone_dir, url);
    if dest.join("HEAD").is_file() {
        let mut cmd = git();
        cmd.arg("--git-dir")
            .arg(&dest)
            .args(["fetch", "--quiet", "--prune", "--tags", "origin"]);
        run(cmd, "git fetch")?;
        return Ok(dest);
    }
    let partial = dest.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial)
            .map_err(|e| format!("removing the unfinished clone {}: {e}", partial.display()))?;
    }
    let mut cmd = git();
    cmd.args(["clone", "--mirror", "--quiet", "--"])
        .arg(url)
        .arg(&partial);
    run(cmd, "git clone")?;
    std::fs::rename(&partial, &dest)
        .map_err(|e| format!("moving the clone to {}: {e}", dest.display()))?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_recognised() {
        assert!(has_password("https://bob:hunter2@git.example/x.git"));
        assert!(!has_password("https://bob@git.example/x.git"));
        assert!(!has_password("git@git.example:org/x.git"));
        assert!(!has_password("https://git.example/a:b@c"));
    }

    #[test]
    fn mirrors_have_distinct_readable_names() {
        let d = Path::new("/m");
        let a = mirror_dir(d, "https://git.example/org/app.git");
        let b = mirror_dir(d, "https://other.example/org/app.git");
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("app-") && name.ends_with(".git"), "{name}");
        let odd = mirror_dir(d, "file:///srv/x;rm -rf");
        assert!(!odd.to_string_lossy().contains(';'));
    }

    #[test]
    fn a_password_url_is_refused_before_git_runs() {
        let dir = tempfile::tempdir().unwrap();
        let e = clone_or_fetch("https://u:p4ss@127.0.0.1:1/x.git", dir.path()).unwrap_err();
        assert!(
            e.contains("credential helper") && !e.contains("p4ss"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
