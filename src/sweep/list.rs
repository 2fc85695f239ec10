//! The repository list of a sweep: command-line entries and `--repos-from` files, each
//! entry either a local repository (a work tree or a bare mirror) or a URL to clone.

use std::path::{Path, PathBuf};

/// One repository of a sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSpec {
    /// Its id: the entry as written (trimmed). Reports name the repository by it and
    /// shards are chosen by its hash, so every shard of a sweep must get the same list.
    pub id: String,
    /// Where it is.
    pub location: Location,
}

/// Where a repository is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A directory on this machine.
    Path(PathBuf),
    /// A URL git can clone (`https://`, `ssh://`, `git://`, `file://`, `user@host:path`).
    Url(String),
}

impl RepoSpec {
    /// Classifies one entry. An existing local path wins over an scp-like URL (`a:b`
    /// can be both).
    pub fn parse(entry: &str) -> RepoSpec {
        let id = entry.trim().to_string();
        let location = if is_url(&id) && !Path::new(&id).exists() {
            Location::Url(id.clone())
        } else {
            Location::Path(PathBuf::from(&id))
        };
        RepoSpec { id, location }
    }
}

/// True for `scheme://...` and for git's scp-like `[user@]host:path` (a colon before any
/// slash, and not a one-letter Windows drive).
pub fn is_url(s: &str) -> bool {
    if let Some((scheme, _)) = s.split_once("://") {
        return !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    }
    match (s.find(':'), s.find('/')) {
        (Some(colon), slash) => colon > 1 && slash.map_or(true, |sl| colon < sl),
        (None, _) => false,
    }
}

/// Parses a `--repos-from` text: one repository per line; blank lines and lines starting
/// with `#` (after leading blanks) are skipped.
pub fn parse_list(text: &str) -> Vec<RepoSpec> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(RepoSpec::parse)
        .collect()
}

/// Drops repeated ids (the first one stays), so that a repository listed twice is swept
/// once and its findings are not doubled.
pub fn dedup(list: &mut Vec<RepoSpec>) -> usize {
    let mut seen = std::collections::HashSet::new();
    let before = list.len();
    list.retain(|r| seen.insert(r.id.clone()));
    before - list.len()
}

/// The repositories of a sweep: `named` on the command line, then those of the
/// `--repos-from` file (`-`: standard input), repeated ids dropped (their count is
/// returned). A URL without a clone directory is refused here, before anything is swept.
pub fn resolve(
    named: &[PathBuf],
    repos_from: Option<&Path>,
    clone_dir: Option<&Path>,
) -> Result<(Vec<RepoSpec>, usize), String> {
    let mut list: Vec<RepoSpec> = named
        .iter()
        .map(|p| RepoSpec::parse(&p.to_string_lossy()))
        .collect();
    if let Some(f) = repos_from {
        let text = if f.as_os_str() == "-" {
            let mut t = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)
                .map_err(|e| format!("reading the repository list on stdin: {e}"))?;
            t
        } else {
            std::fs::read_to_string(f).map_err(|e| {
                format!(
                    "{}: cannot read the repository list: {e} (give a file with one \
                     repository per line)",
                    f.display()
                )
            })?
        };
        list.extend(parse_list(&text));
    }
    let dropped = dedup(&mut list);
    if list.is_empty() {
        return Err("no repositories to sweep: name them, or give --repos-from FILE".into());
    }
    if clone_dir.is_none() {
        if let Some(r) = list.iter().find(|r| matches!(r.location, Location::Url(_))) {
            return Err(format!(
                "{}: a URL needs --clone-dir DIR (its bare mirror is kept there and fetched \
                 on the next run)",
                crate::report::escape::escape(&r.id)
            ));
        }
    }
    Ok((list, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_blank_lines_urls_and_paths() {
        let list = parse_list(
            "# org sweep\n\n  repos/a  \nhttps://git.example/org/b.git\n   # indented comment\n\
             git@git.example:org/c.git\nfile:///srv/mirrors/d.git\n./e\nC:/x\n",
        );
        let got: Vec<(&str, bool)> = list
            .iter()
            .map(|r| (r.id.as_str(), matches!(r.location, Location::Url(_))))
            .collect();
        assert_eq!(
            got,
            [
                ("repos/a", false),
                ("https://git.example/org/b.git", true),
                ("git@git.example:org/c.git", true),
                ("file:///srv/mirrors/d.git", true),
                ("./e", false),
                ("C:/x", false),
            ]
        );
    }

    #[test]
    fn an_existing_directory_is_a_path_even_if_it_looks_like_a_url() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("host:repo");
        std::fs::create_dir(&odd).unwrap();
        let spec = RepoSpec::parse(&odd.to_string_lossy());
        assert_eq!(spec.location, Location::Path(odd));
        assert!(is_url("host:repo"));
    }

    #[test]
    fn repeated_entries_are_swept_once() {
        let mut list = parse_list("a\nb\na\n");
        assert_eq!(dedup(&mut list), 1);
        assert_eq!(list.len(), 2);
    }
}

#[cfg(test)]
mod resolve_tests {
    use super::*;

    #[test]
    fn named_and_listed_repositories_are_joined_and_urls_need_a_clone_dir() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("repos.txt");
        std::fs::write(&f, "b\n# c\na\n").unwrap();
        let (list, dropped) = resolve(&[PathBuf::from("a")], Some(&f), None).unwrap();
        let ids: Vec<&str> = list.iter().map(|r| r.id.as_str()).collect();
        assert_eq!((ids, dropped), (vec!["a", "b"], 1));
        let url = [PathBuf::from("https://git.example/x.git")];
        let e = resolve(&url, None, None).unwrap_err();
        assert!(e.contains("--clone-dir"), "{e}");
        assert!(resolve(&url, None, Some(dir.path())).is_ok());
        let e = resolve(&[], Some(&dir.path().join("missing")), None).unwrap_err();
        assert!(
            e.contains("missing: cannot read the repository list"),
            "{e}"
        );
        assert!(resolve(&[], None, None)
            .unwrap_err()
            .contains("no repositories"));
    }
}
