//! Rotation configuration: named backends and the routes that send findings to them.
//!
//! Read from the `[rotation]` table of `.leaksweep.toml` or of the file named by
//! `--rotation-config`. The config names where credentials come from (an environment
//! variable or a file), never the credentials themselves:
//!
//! ```toml
//! [rotation]
//! audit_log = ".leaksweep/rotate-audit.jsonl"   # relative to this file
//! state_file = ".leaksweep/rotate-state.json"
//!
//! [[rotation.backend]]
//! name = "vault-prod"
//! kind = "vault"                       # vault | aws-secretsmanager | exec | ...
//! address = "https://vault.internal:8200"
//! token_env = "VAULT_TOKEN"            # or token_file = "/run/secrets/vault-token"
//! timeout_ms = 10000
//!
//! [[rotation.route]]
//! rules = ["database-connection-uri"]  # and/or fingerprints = [...], paths = ["config/**"]
//! backend = "vault-prod"
//! target = "secret/app/db#password"    # omit to rotate wherever `locate` finds the value
//! policy = { length = 32, charset = "alnum" }
//! ```

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::generate::ValuePolicy;
use super::retry::RetryPolicy;
use super::{BackendError, ErrorKind, Location};
use crate::secret::Secret;

/// The `[rotation]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationConfig {
    /// Backends by name.
    #[serde(default, rename = "backend")]
    pub backends: Vec<BackendDef>,
    /// Routes, tried in order; every matching route applies.
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteDef>,
    /// Audit log (JSON lines, 0600, append-only).
    #[serde(default)]
    pub audit_log: Option<PathBuf>,
    /// State file recording completed rotations (idempotency across runs).
    #[serde(default)]
    pub state_file: Option<PathBuf>,
    /// Retry policy for every backend call.
    #[serde(default)]
    pub retry: RetryPolicy,
}

/// One backend: a name, a kind, and kind-specific settings.
#[derive(Debug, Clone, Deserialize)]
pub struct BackendDef {
    /// Name used by routes and in locations (`vault-prod`).
    pub name: String,
    /// Kind: selects the implementation (see `registry`).
    pub kind: String,
    /// Everything else, parsed by the backend with [`BackendDef::settings`].
    #[serde(flatten)]
    pub settings: toml::Table,
    /// The directory of the config file (relative paths in settings start there).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

impl BackendDef {
    /// Resolves a path from the settings against the config file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// Parses the kind-specific settings into `T` (which should deny unknown fields),
    /// with an error that names the backend.
    pub fn settings<T: DeserializeOwned>(&self) -> Result<T, BackendError> {
        for forbidden in ["token", "secret_key", "password", "secret_access_key"] {
            if self.settings.contains_key(forbidden) {
                return Err(BackendError::new(
                    &self.name,
                    ErrorKind::Config,
                    format!(
                        "`{forbidden}` must not be written in the config: name an environment \
                         variable or a file that holds it ({forbidden}_env / {forbidden}_file)"
                    ),
                ));
            }
        }
        toml::Value::Table(self.settings.clone())
            .try_into()
            .map_err(|e: toml::de::Error| {
                BackendError::new(
                    &self.name,
                    ErrorKind::Config,
                    format!(
                        "invalid settings for kind = {:?}: {}",
                        self.kind,
                        e.message()
                    ),
                )
            })
    }
}

/// Default `locate_limit` of the HTTP backends: the most secrets one `locate` reads.
pub(crate) fn default_locate_limit() -> usize {
    10_000
}

/// The one `locate_limit` policy of every backend that lists secrets: a `locate` that
/// finds more than `limit` candidates (`seen`) fails loudly instead of comparing only the
/// first ones, because a leaked copy beyond the limit would be left unrotated without a
/// word. `scope` names what was listed (`""`, `" under secret/app"`), `fix` the setting
/// that narrows it, if the backend has one.
pub(crate) fn check_locate_limit(
    backend: &str,
    seen: usize,
    limit: usize,
    scope: &str,
    fix: &str,
) -> Result<(), BackendError> {
    if seen <= limit {
        return Ok(());
    }
    Err(BackendError::new(
        backend,
        ErrorKind::Config,
        format!(
            "more than locate_limit = {limit} secrets{scope}: {fix}raise locate_limit (a copy \
             beyond the limit would be left unrotated, so locate stops here)"
        ),
    ))
}

/// Default `timeout_ms` of the HTTP backends.
pub(crate) fn default_timeout_ms() -> u64 {
    10_000
}

/// What a route does with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Write a new version of the stored secret.
    #[default]
    Rotate,
    /// Revoke the leaked credential at its issuer (Vault tokens).
    Revoke,
}

impl Action {
    /// The name used in plans and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Rotate => "rotate",
            Action::Revoke => "revoke",
        }
    }
}

/// A route as written in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteDef {
    /// Rule ids this route applies to (any of).
    #[serde(default)]
    pub rules: Vec<String>,
    /// Finding fingerprints (`lsw1:...`) this route applies to (any of).
    #[serde(default)]
    pub fingerprints: Vec<String>,
    /// Path globs of the finding's location (any of).
    #[serde(default)]
    pub paths: Vec<String>,
    /// The backend name.
    pub backend: String,
    /// `path#key` in the backend; absent: wherever `locate` finds the leaked value.
    #[serde(default)]
    pub target: Option<String>,
    /// What to do.
    #[serde(default)]
    pub action: Action,
    /// How to generate the replacement value.
    #[serde(default)]
    pub policy: ValuePolicy,
}

/// A compiled route.
#[derive(Debug, Clone)]
pub struct Route {
    /// The definition.
    pub def: RouteDef,
    globs: Option<GlobSet>,
}

impl Route {
    /// Whether this route applies to a leak found by `rule_id` at `paths`.
    pub fn matches(&self, rule_id: &str, fingerprint: &str, paths: &[String]) -> bool {
        let d = &self.def;
        (d.rules.is_empty() || d.rules.iter().any(|r| r == rule_id))
            && (d.fingerprints.is_empty() || d.fingerprints.iter().any(|f| f == fingerprint))
            && self
                .globs
                .as_ref()
                .map_or(true, |g: &GlobSet| paths.iter().any(|p| g.is_match(p)))
    }

    /// The configured target as a location, if any.
    pub fn target(&self) -> Option<Location> {
        self.def.target.as_deref().map(|t| {
            let (path, key) = match t.rsplit_once('#') {
                Some((p, k)) if !k.is_empty() => (p, Some(k.to_string())),
                _ => (t, None),
            };
            Location {
                backend: self.def.backend.clone(),
                path: path.trim_matches('/').to_string(),
                key,
            }
        })
    }
}

/// A loaded config: the table plus the directory its relative paths are resolved from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The `[rotation]` table.
    pub config: RotationConfig,
    /// Compiled routes, in order.
    pub routes: Vec<Route>,
    /// The config file.
    pub origin: PathBuf,
    /// Where each backend block is written (empty if unknown).
    backend_lines: Vec<BlockLines>,
}

impl Loaded {
    /// Resolves a path from the config relative to the config file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            return p.to_path_buf();
        }
        self.origin
            .parent()
            .map_or_else(|| p.to_path_buf(), |d| d.join(p))
    }

    /// `file:line` of the backend block `index`, at the key an error names (a field
    /// written but not allowed, or a literal credential), else at its header.
    pub fn backend_at(&self, index: usize, message: &str) -> String {
        let o = self.origin.display();
        let Some(b) = self.backend_lines.get(index) else {
            return o.to_string();
        };
        // serde and `settings` name the offending key first, in backticks.
        let first = message.split('`').nth(1);
        let named = b.keys.iter().find(|(k, _)| Some(k.as_str()) == first);
        format!("{o}:{}", named.map_or(b.header, |(_, l)| *l))
    }

    /// The backend definition called `name`.
    pub fn backend(&self, name: &str) -> Option<&BackendDef> {
        self.config.backends.iter().find(|b| b.name == name)
    }
}

/// The whole config file as this module reads it: only `[rotation]`; the scan tables
/// beside it are read by triage.
#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    rotation: Option<RotationConfig>,
}

/// Parses `text` (a whole TOML file) and checks names and routes. `origin` names the file
/// in errors, which say `file:line: ...` for TOML syntax and type errors.
pub fn parse(text: &str, origin: &Path) -> Result<Loaded, String> {
    let o = origin.display();
    let doc: Doc = toml::from_str(text)
        .map_err(|e| crate::triage::config::toml_error(&o.to_string(), text, &e))?;
    let mut config = doc.rotation.ok_or_else(|| {
        format!("{o}: no [rotation] table (add [[rotation.backend]] and [[rotation.route]])")
    })?;
    let base_dir = origin.parent().map(Path::to_path_buf).unwrap_or_default();
    for b in &mut config.backends {
        b.base_dir.clone_from(&base_dir);
    }
    let mut names: Vec<&str> = Vec::new();
    for b in &config.backends {
        if b.name.is_empty() || b.name.contains([':', '#', '/']) {
            return Err(format!(
                "{o}: backend name {:?} must be non-empty without ':', '#' or '/'",
                b.name
            ));
        }
        if names.contains(&b.name.as_str()) {
            return Err(format!("{o}: two backends are named {:?}", b.name));
        }
        names.push(&b.name);
    }
    let mut routes = Vec::new();
    for (i, r) in config.routes.iter().enumerate() {
        let n = i + 1;
        if !names.contains(&r.backend.as_str()) {
            return Err(format!(
                "{o}: route {n} names backend {:?}, which is not defined (defined: {})",
                r.backend,
                names.join(", ")
            ));
        }
        if r.action == Action::Rotate {
            r.policy
                .alphabet()
                .map_err(|e| format!("{o}: route {n}: policy: {e}"))?;
        }
        if r.action == Action::Revoke && r.target.is_some() {
            return Err(format!(
                "{o}: route {n}: action = \"revoke\" revokes the leaked credential itself and \
                 takes no target"
            ));
        }
        let globs = if r.paths.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for g in &r.paths {
                b.add(Glob::new(g).map_err(|e| format!("{o}: route {n}: path glob {g:?}: {e}"))?);
            }
            Some(
                b.build()
                    .map_err(|e| format!("{o}: route {n}: path globs: {e}"))?,
            )
        };
        routes.push(Route {
            def: r.clone(),
            globs,
        });
    }
    let backend_lines = backend_lines(text, config.backends.len());
    Ok(Loaded {
        config,
        routes,
        origin: origin.to_path_buf(),
        backend_lines,
    })
}

/// Where each `[[rotation.backend]]` block is written: its header line and the line of
/// each `key = ...` in it, so that an error found when the backend is built (an unknown
/// field, a literal token) names `file:line` like a TOML error does. Blocks written
/// another way (an inline array) get no lines.
fn backend_lines(text: &str, n: usize) -> Vec<BlockLines> {
    let mut out: Vec<BlockLines> = Vec::new();
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            let name: String = t.chars().filter(|c| !c.is_whitespace()).collect();
            inside = name.starts_with("[[rotation.backend]]");
            if inside {
                out.push(BlockLines {
                    header: i + 1,
                    keys: Vec::new(),
                });
            }
        } else if inside {
            if let (Some(b), Some((k, _))) = (out.last_mut(), t.split_once('=')) {
                let k = k.trim().trim_matches('"');
                if !k.is_empty() && !k.starts_with('#') {
                    b.keys.push((k.to_string(), i + 1));
                }
            }
        }
    }
    if out.len() != n {
        return Vec::new();
    }
    out
}

/// The lines of one `[[rotation.backend]]` block.
#[derive(Debug, Clone, Default)]
pub struct BlockLines {
    /// The `[[rotation.backend]]` line.
    header: usize,
    /// `key = ...` lines.
    keys: Vec<(String, usize)>,
}

/// How an error about a missing or unreadable credential tells the user to fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialHint {
    /// The backend's config has `<what>_env` and `<what>_file` keys: name them.
    Keys,
    /// The variable or file comes from elsewhere (a key-file setting, a kubeconfig) or
    /// under another name: speak of "the backend's config" in general.
    General,
}

/// Reads a credential from an environment variable or a file (surrounding whitespace
/// removed; the file's bytes are wiped). Errors name the variable or file and never the
/// value; `hint` picks how they say what to fix.
pub fn read_credential(
    backend: &str,
    what: &str,
    env: Option<&str>,
    file: Option<&Path>,
    hint: CredentialHint,
) -> Result<Secret, BackendError> {
    let cfg = |m: String| BackendError::new(backend, ErrorKind::Config, m);
    let keys = hint == CredentialHint::Keys;
    if let Some(var) = env {
        return match std::env::var_os(var) {
            Some(v) if !v.is_empty() => {
                use std::os::unix::ffi::OsStrExt;
                Ok(Secret::new(v.as_bytes().trim_ascii().to_vec()))
            }
            _ if keys => Err(cfg(format!(
                "the {what} is read from ${var}, which is not set (export it, or set \
                 {what}_file in the backend's config)"
            ))),
            _ => Err(cfg(format!(
                "the {what} is read from ${var}, which is not set or empty (export it, or \
                 name a file in the backend's config)"
            ))),
        };
    }
    if let Some(path) = file {
        let mut bytes = std::fs::read(path).map_err(|e| {
            let fix = if keys {
                format!("check {what}_file")
            } else {
                "check the path in the backend's config".to_string()
            };
            cfg(format!(
                "reading the {what} from {}: {e} ({fix})",
                path.display()
            ))
        })?;
        let trimmed = bytes.trim_ascii().to_vec();
        zeroize::Zeroize::zeroize(&mut bytes);
        if trimmed.is_empty() {
            return Err(cfg(format!(
                "{} is empty (expected the {what})",
                path.display()
            )));
        }
        return Ok(Secret::new(trimmed));
    }
    Err(cfg(if keys {
        format!(
            "no {what}: set {what}_env = \"VAR\" or {what}_file = \"PATH\" in the backend's config"
        )
    } else {
        format!("no {what} configured: name an environment variable or a file that holds it")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = r#"
[rotation]
audit_log = "audit.jsonl"
[[rotation.backend]]
name = "v"
kind = "vault"
address = "http://127.0.0.1:8200"
token_env = "VT"
[[rotation.route]]
rules = ["database-connection-uri"]
paths = ["config/**"]
backend = "v"
target = "secret/app/db#password"
policy = { length = 24, charset = "hex" }
"#;

    #[test]
    fn parses_routes_and_targets() {
        let l = parse(CFG, Path::new("/x/.leaksweep.toml")).unwrap();
        assert_eq!(
            l.resolve(Path::new("audit.jsonl")),
            Path::new("/x/audit.jsonl")
        );
        let r = &l.routes[0];
        assert!(r.matches(
            "database-connection-uri",
            "lsw1:0",
            &["config/prod.env".into()]
        ));
        assert!(!r.matches("database-connection-uri", "lsw1:0", &["src/a.py".into()]));
        assert!(!r.matches("github-pat", "lsw1:0", &["config/prod.env".into()]));
        let t = r.target().unwrap();
        assert_eq!(t.to_string(), "v:secret/app/db#password");
        assert_eq!(r.def.policy.length, 24);
    }

    #[test]
    fn rejects_unknown_backends_and_literal_tokens() {
        let bad = CFG.replace("backend = \"v\"", "backend = \"nope\"");
        let e = parse(&bad, Path::new("c.toml")).unwrap_err();
        assert!(e.contains("not defined"), "{e}");
        let lit = CFG.replace("token_env = \"VT\"", "token = \"s.abc\"");
        let l = parse(&lit, Path::new("c.toml")).unwrap();
        #[derive(Debug, Deserialize)]
        struct S {}
        let e = l.config.backends[0].settings::<S>().unwrap_err();
        assert!(e.message.contains("must not be written"), "{e}");
        assert!(!e.message.contains("s.abc"));
    }

    #[test]
    fn credentials_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tok");
        std::fs::write(&p, "s.abcdef\n").unwrap();
        let s = read_credential("v", "token", None, Some(&p), CredentialHint::Keys).unwrap();
        assert_eq!(s.expose(), b"s.abcdef");
        for hint in [CredentialHint::Keys, CredentialHint::General] {
            let e = read_credential("v", "token", Some("LEAKSWEEP_UNSET_VAR_X"), None, hint)
                .unwrap_err();
            assert!(e.message.contains("$LEAKSWEEP_UNSET_VAR_X"));
        }
        let e = read_credential("v", "token", None, None, CredentialHint::Keys).unwrap_err();
        assert!(e.message.contains("token_env"), "{e}");
    }
}
