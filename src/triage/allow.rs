//! Project allowlists: the `[[allowlist]]` entries of `.leaksweep.toml` and the allowlists
//! of imported gitleaks rule files. A finding they allow is suppressed and counted
//! (reason `allowlist`), never dropped, so an auditor sees what they silence
//! (`--show-suppressed`).
//!
//! They run inside the scan, through [`crate::scan::LineFilter`], because a `line`
//! target needs the text around the match.

use std::collections::BTreeSet;

use globset::GlobSet;
use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::engine::allow::{contains_any_ci, AllowInput};
use crate::rules::AllowTarget;
use crate::scan::LineFilter;

use super::paths::{glob_set, PathMap};

/// How the conditions of one entry combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    /// Any condition allows the finding (the default).
    #[default]
    Or,
    /// Every condition that is set must hold.
    And,
}

/// One allowlist entry as written in `.leaksweep.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AllowEntry {
    /// Why these findings are harmless (shown by `config show`; please write one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Only for these rule ids (default: every rule).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Path globs relative to the project root (gitignore-like; see `paths::glob_set`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Regexes on the project-relative path (gitleaks' `paths`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path_regexes: Vec<String>,
    /// Regexes on `target`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regexes: Vec<String>,
    /// What `regexes` look at: the secret (default), the whole match, or its line.
    #[serde(default, skip_serializing_if = "is_secret_target")]
    pub target: AllowTarget,
    /// Words: a secret containing one (ASCII case-insensitively) is allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopwords: Vec<String>,
    /// `or` (default): any condition allows; `and`: all conditions that are set must hold.
    #[serde(default, skip_serializing_if = "is_or")]
    pub condition: Condition,
}

fn is_secret_target(t: &AllowTarget) -> bool {
    *t == AllowTarget::Secret
}

fn is_or(c: &Condition) -> bool {
    *c == Condition::Or
}

/// A compiled entry.
#[derive(Debug)]
struct Compiled {
    rules: BTreeSet<String>,
    globs: Option<GlobSet>,
    path_regexes: Vec<regex::Regex>,
    regexes: Vec<Regex>,
    target: AllowTarget,
    stopwords: Vec<String>,
    condition: Condition,
}

/// Compiles one allowlist regex: ASCII classes first (fast, like rule regexes), Unicode
/// when the pattern needs it (`\p{L}`).
pub fn compile_regex(r: &str) -> Result<Regex, String> {
    RegexBuilder::new(r)
        .unicode(false)
        .size_limit(1 << 20)
        .build()
        .or_else(|_| RegexBuilder::new(r).size_limit(1 << 20).build())
        .map_err(|e| format!("regex {r:?} does not compile: {e}"))
}

impl Compiled {
    fn new(e: &AllowEntry) -> Result<Compiled, String> {
        if e.paths.is_empty()
            && e.path_regexes.is_empty()
            && e.regexes.is_empty()
            && e.stopwords.is_empty()
        {
            return Err(
                "allowlist entry has nothing to match: give paths, path_regexes, \
                        regexes or stopwords (to turn a rule off, use rules.disable)"
                    .into(),
            );
        }
        let globs = if e.paths.is_empty() {
            None
        } else {
            Some(glob_set(e.paths.iter().map(String::as_str))?)
        };
        let path_regexes = e
            .path_regexes
            .iter()
            .map(|r| regex::Regex::new(r).map_err(|err| format!("path regex {r:?}: {err}")))
            .collect::<Result<Vec<_>, _>>()?;
        let regexes = e
            .regexes
            .iter()
            .map(|r| compile_regex(r))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(w) = e.stopwords.iter().find(|w| w.is_empty()) {
            return Err(format!("empty stopword {w:?} would allow every secret"));
        }
        Ok(Compiled {
            rules: e.rules.iter().cloned().collect(),
            globs,
            path_regexes,
            regexes,
            target: e.target,
            stopwords: e.stopwords.clone(),
            condition: e.condition,
        })
    }

    fn allows(&self, rule_id: &str, input: &AllowInput<'_>, rel: &mut RelPath<'_>) -> bool {
        if !self.rules.is_empty() && !self.rules.contains(rule_id) {
            return false;
        }
        let mut results = [None, None, None];
        if self.globs.is_some() || !self.path_regexes.is_empty() {
            let p = rel.get();
            results[0] = Some(
                self.globs.as_ref().is_some_and(|g| g.is_match(p))
                    || self.path_regexes.iter().any(|r| r.is_match(p)),
            );
        }
        if !self.regexes.is_empty() {
            let target = match self.target {
                AllowTarget::Secret => input.secret,
                AllowTarget::Match => input.whole,
                AllowTarget::Line => input.line,
            };
            results[1] = Some(self.regexes.iter().any(|r| r.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            results[2] = Some(contains_any_ci(input.secret, &self.stopwords));
        }
        let mut set = results.iter().flatten();
        match self.condition {
            Condition::Or => set.any(|&b| b),
            Condition::And => set.all(|&b| b),
        }
    }
}

/// The project-relative path of the finding, computed once and only if asked.
struct RelPath<'a> {
    map: &'a PathMap,
    display: &'a str,
    value: Option<String>,
}

impl RelPath<'_> {
    fn get(&mut self) -> &str {
        let (map, display) = (self.map, self.display);
        self.value.get_or_insert_with(|| map.rel(display))
    }
}

/// The compiled project allowlists, ready to run inside a scan.
#[derive(Debug)]
pub struct Allowlists {
    entries: Vec<Compiled>,
    paths: PathMap,
}

impl Allowlists {
    /// Compiles `entries`; an error names the entry (by its index in `labels`).
    pub fn new(entries: &[(String, AllowEntry)], paths: PathMap) -> Result<Allowlists, String> {
        let mut out = Vec::with_capacity(entries.len());
        for (label, e) in entries {
            out.push(Compiled::new(e).map_err(|m| format!("{label}: {m}"))?);
        }
        Ok(Allowlists {
            entries: out,
            paths,
        })
    }

    /// True if there is nothing to check.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl LineFilter for Allowlists {
    fn allows(&self, rule_id: &str, input: &AllowInput<'_>) -> bool {
        let mut rel = RelPath {
            map: &self.paths,
            display: input.path.unwrap_or(""),
            value: None,
        };
        self.entries
            .iter()
            .any(|e| e.allows(rule_id, input, &mut rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn lists(entries: Vec<AllowEntry>) -> Allowlists {
        let labeled: Vec<(String, AllowEntry)> =
            entries.into_iter().map(|e| ("t".to_string(), e)).collect();
        Allowlists::new(&labeled, PathMap::new(Path::new("/r"), Path::new("/r"))).unwrap()
    }

    fn input<'a>(secret: &'a [u8], line: &'a [u8], path: &'a str) -> AllowInput<'a> {
        AllowInput {
            secret,
            whole: secret,
            line,
            path: Some(path),
        }
    }

    #[test]
    fn or_and_scoping() {
        let a = lists(vec![AllowEntry {
            rules: vec!["r1".into()],
            paths: vec!["tests/".into()],
            stopwords: vec!["sample".into()],
            ..AllowEntry::default()
        }]);
        assert!(a.allows("r1", &input(b"q8Zr2", b"", "tests/x.rs")));
        assert!(a.allows("r1", &input(b"SAMPLEq8Zr2", b"", "src/x.rs")));
        assert!(!a.allows("r2", &input(b"q8Zr2", b"", "tests/x.rs")));
        assert!(!a.allows("r1", &input(b"q8Zr2", b"", "src/x.rs")));
        let a = lists(vec![AllowEntry {
            paths: vec!["tests/".into()],
            regexes: vec!["mock".into()],
            target: AllowTarget::Line,
            condition: Condition::And,
            ..AllowEntry::default()
        }]);
        assert!(a.allows("r", &input(b"q8Zr2", b"k = mock(q8Zr2)", "tests/a")));
        assert!(!a.allows("r", &input(b"q8Zr2", b"k = q8Zr2", "tests/a")));
        assert!(!a.allows("r", &input(b"q8Zr2", b"k = mock(q8Zr2)", "src/a")));
    }

    #[test]
    fn empty_entries_are_errors() {
        let labeled = vec![(
            "x:3".to_string(),
            AllowEntry {
                rules: vec!["r".into()],
                ..AllowEntry::default()
            },
        )];
        let e =
            Allowlists::new(&labeled, PathMap::new(Path::new("/"), Path::new("/"))).unwrap_err();
        assert!(
            e.starts_with("x:3: allowlist entry has nothing to match"),
            "{e}"
        );
    }
}
