//! Project-relative paths: the one form in which allowlist globs, ignore-file entries and
//! baseline entries name files, whatever directory a scan runs from and however its paths
//! were spelled on the command line.
//!
//! The project root is the directory that holds `.leaksweep.toml`, or else the top of the
//! git work tree, found by walking up from the scanned path ([`discover_root`]).

use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Name of the config file looked for at the project root.
pub const CONFIG_FILE: &str = ".leaksweep.toml";

/// Finds the project root for a scan of `start` (a file or directory): the nearest
/// ancestor that holds `.leaksweep.toml` or `.git`, else `start` itself (its directory if
/// it is a file). The result is absolute.
pub fn discover_root(start: &Path) -> PathBuf {
    let abs = absolute(start);
    let dir = if abs.is_file() {
        abs.parent().map_or_else(|| abs.clone(), Path::to_path_buf)
    } else {
        abs.clone()
    };
    let mut at = Some(dir.as_path());
    while let Some(d) = at {
        if d.join(CONFIG_FILE).is_file() || d.join(".git").exists() {
            return d.to_path_buf();
        }
        at = d.parent();
    }
    dir
}

/// `p` made absolute against the current directory and lexically normalised (`.` and
/// `..` resolved without touching the file system).
pub fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        normalize(p)
    } else {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        normalize(&cwd.join(p))
    }
}

/// Lexical normalisation: drops `.` components and resolves `..` against the previous
/// component.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Maps the paths findings carry (as displayed) to paths relative to the project root,
/// with `/` separators.
#[derive(Debug, Clone)]
pub struct PathMap {
    /// The directory relative finding paths are relative to.
    base: PathBuf,
    /// The root, as given and canonicalised (symlinked temp dirs differ).
    roots: Vec<PathBuf>,
}

impl PathMap {
    /// A map for findings whose relative paths are relative to `base` (the current
    /// directory for `scan`, the repository root for history scans).
    pub fn new(root: &Path, base: &Path) -> PathMap {
        let mut roots = vec![absolute(root)];
        if let Ok(c) = root.canonicalize() {
            if !roots.contains(&c) {
                roots.push(c);
            }
        }
        PathMap {
            base: absolute(base),
            roots,
        }
    }

    /// The project root.
    pub fn root(&self) -> &Path {
        &self.roots[0]
    }

    /// The root-relative form of a finding's path; paths outside the root keep their
    /// displayed form (without a leading `./`). `<stdin>` stays as it is.
    pub fn rel(&self, display: &str) -> String {
        if display.starts_with('<') {
            return display.to_string();
        }
        let p = Path::new(display);
        let abs = if p.is_absolute() {
            normalize(p)
        } else {
            normalize(&self.base.join(p))
        };
        for root in &self.roots {
            if let Ok(rest) = abs.strip_prefix(root) {
                return slashes(rest);
            }
        }
        if let Ok(canon) = abs.canonicalize() {
            for root in &self.roots {
                if let Ok(rest) = canon.strip_prefix(root) {
                    return slashes(rest);
                }
            }
        }
        slashes(&normalize(p))
    }
}

fn slashes(p: &Path) -> String {
    let parts: Vec<String> = p
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let s = parts.join("/");
    // `Path::components` keeps the root as a component ("/"); avoid "//x".
    if let Some(rest) = s.strip_prefix("//") {
        format!("/{rest}")
    } else {
        s
    }
}

/// Compiles project path globs with gitignore-like meaning: `*` stays within one
/// directory and `**` crosses them; a pattern without `/` matches at any depth
/// (`*.lock`); a leading `/` anchors it at the root; a pattern that names a directory
/// matches everything below it (`tests/` and `tests` both cover `tests/a/b.rs`).
pub fn glob_set<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for pat in patterns {
        let p = pat.trim();
        if p.is_empty() {
            return Err("empty path glob".into());
        }
        let anchored = p.starts_with('/');
        let body = p.trim_start_matches('/').trim_end_matches('/');
        let full = if anchored || body.contains('/') {
            body.to_string()
        } else {
            format!("**/{body}")
        };
        for g in [full.clone(), format!("{full}/**")] {
            let glob = GlobBuilder::new(&g)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("bad path glob {pat:?}: {e}"))?;
            b.add(glob);
        }
    }
    b.build().map_err(|e| format!("path globs: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel_paths() {
        let m = PathMap::new(Path::new("/repo"), Path::new("/repo/sub"));
        assert_eq!(m.rel("a.txt"), "sub/a.txt");
        assert_eq!(m.rel("./a.txt"), "sub/a.txt");
        assert_eq!(m.rel("../b/c.txt"), "b/c.txt");
        assert_eq!(m.rel("/repo/x/y"), "x/y");
        assert_eq!(m.rel("/elsewhere/y"), "/elsewhere/y");
        assert_eq!(m.rel("<stdin>"), "<stdin>");
    }

    #[test]
    fn globs() {
        let g = glob_set(["tests/", "*.lock", "/docs/*.md"]).unwrap();
        assert!(g.is_match("tests/a/b.rs"));
        assert!(g.is_match("Cargo.lock"));
        assert!(g.is_match("a/b/yarn.lock"));
        assert!(g.is_match("docs/x.md"));
        assert!(!g.is_match("docs/sub/x.md"));
        assert!(!g.is_match("src/tests.rs"));
        let g = glob_set(["rules/**"]).unwrap();
        assert!(g.is_match("rules/aws.toml"));
        assert!(!g.is_match("src/rules/mod.rs"));
        assert!(glob_set(["a[b"]).is_err());
    }
}
