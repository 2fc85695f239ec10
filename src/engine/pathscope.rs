//! Path-scoped rules: rules that run only on files whose path matches their globs.
//!
//! A credential store (`.netrc`, `.pgpass`, `wp-config.php`, a kubeconfig) holds
//! credentials in every password slot, whatever their entropy: `password hunter2` in a
//! `.netrc` is a leak, the same words in a README are not. Such rules declare the files they
//! apply to (`paths = ["**/.netrc"]`) and carry no entropy floor; the file's path, not the
//! content, is what makes the value a secret.
//!
//! Cost: every path-scoped glob of every rule is compiled into one [`GlobSet`], matched once
//! per file (the last answer is cached in the scan's scratch, so the chunks of one file and
//! the decoded spans inside it reuse it). These rules take no part in the keyword
//! prefilter, so a scan of ordinary files pays one glob-set match per file and nothing per
//! byte. When a path matches, the matching rules run over the whole chunk: credential
//! stores are small.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use globset::{GlobSet, GlobSetBuilder};

use crate::rules::lint::path_glob;
use crate::rules::RuleSpec;

/// The path-scoped rules of an engine and the one glob set that selects them.
///
/// The globs are case-insensitive, so the glob set compiles them all into one regex set:
/// 7 ms for the built-in rules, most of a pre-commit hook's start-up. So the set is built
/// the first time a path could match at all, which a cheap test decides first: every glob
/// has a literal part that any matching path contains (`.netrc`, `/.kube/`, `.my.cnf`), and
/// a path that contains none of them needs no glob set.
#[derive(Debug)]
pub struct PathRules {
    globs: Vec<globset::Glob>,
    set: OnceLock<Matcher>,
    /// The required literal of each glob, matched case-insensitively; `None` when some
    /// glob has none (`**/*`), and every path goes to the glob set.
    gate: Option<AhoCorasick>,
    /// For each glob of `set`, the rule index it belongs to.
    glob_rule: Vec<usize>,
}

/// The compiled globs: one set, or each glob alone when the set exceeds a size limit.
#[derive(Debug)]
enum Matcher {
    Set(GlobSet),
    Each(Vec<globset::GlobMatcher>),
}

impl PathRules {
    /// Builds the selector from `(rule index, spec)` pairs; `None` when no rule is
    /// path-scoped (the common case for user rule sets), so the scan skips it entirely.
    /// Every glob is parsed here, so that a bad one is reported before the scan.
    pub fn new<'a>(
        rules: impl Iterator<Item = (usize, &'a RuleSpec)>,
    ) -> Result<Option<PathRules>, (usize, String)> {
        let mut globs = Vec::new();
        let mut glob_rule = Vec::new();
        for (r, spec) in rules {
            for g in &spec.paths {
                globs.push(path_glob(g).map_err(|e| (r, e))?);
                glob_rule.push(r);
            }
        }
        if glob_rule.is_empty() {
            return Ok(None);
        }
        let literals: Option<Vec<String>> =
            globs.iter().map(|g| required_literal(g.glob())).collect();
        let gate = literals.and_then(|l| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(l)
                .ok()
        });
        Ok(Some(PathRules {
            globs,
            set: OnceLock::new(),
            gate,
            glob_rule,
        }))
    }

    /// The globs matching `path`, into `out` (cleared first).
    fn matches(&self, path: &str, out: &mut Vec<usize>) {
        let matcher = self.set.get_or_init(|| {
            let mut builder = GlobSetBuilder::new();
            for g in &self.globs {
                builder.add(g.clone());
            }
            match builder.build() {
                Ok(set) => Matcher::Set(set),
                // The set of them fails only on a size limit: then each glob on its own
                // (slower, the same answers), never a silent empty set.
                Err(_) => Matcher::Each(
                    self.globs
                        .iter()
                        .map(globset::Glob::compile_matcher)
                        .collect(),
                ),
            }
        });
        match matcher {
            Matcher::Set(set) => set.matches_into(path, out),
            Matcher::Each(each) => {
                out.clear();
                out.extend(
                    each.iter()
                        .enumerate()
                        .filter_map(|(i, m)| m.is_match(path).then_some(i)),
                );
            }
        }
    }

    /// The rules that apply to `path`, sorted and unique, via `cache` (one glob-set match
    /// per distinct path).
    pub fn active<'c>(&self, path: &str, cache: &'c mut PathCache) -> &'c [usize] {
        if cache.path.as_deref() != Some(path) {
            cache.path = Some(path.to_string());
            cache.rules.clear();
            cache.globs.clear();
            if self.gate.as_ref().map_or(true, |g| g.is_match(path)) {
                self.matches(path, &mut cache.globs);
            }
            cache
                .rules
                .extend(cache.globs.iter().map(|&g| self.glob_rule[g]));
            cache.rules.sort_unstable();
            cache.rules.dedup();
        }
        &cache.rules
    }
}

/// The longest literal part of `glob` that every matching path contains, or `None` when
/// there is none. Wildcards, character classes, `{a,b}` alternatives and escapes count as
/// unknown text; a `/` right after `**` may be absent (`**/.netrc` matches `.netrc`), so
/// leading slashes are dropped from each part.
fn required_literal(glob: &str) -> Option<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0usize;
    let mut chars = glob.chars();
    while let Some(c) = chars.next() {
        match c {
            '{' | '[' => {
                depth += 1;
                parts.push(String::new());
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                parts.push(String::new());
            }
            '\\' => {
                chars.next();
                parts.push(String::new());
            }
            '*' | '?' => parts.push(String::new()),
            c if depth == 0 => parts.last_mut().expect("never empty").push(c),
            _ => {}
        }
    }
    parts
        .into_iter()
        .map(|p| p.trim_start_matches('/').to_string())
        .max_by_key(String::len)
        .filter(|p| !p.is_empty())
}

/// The last path's answer, kept in the per-thread scratch.
#[derive(Debug, Default)]
pub struct PathCache {
    path: Option<String>,
    globs: Vec<usize>,
    rules: Vec<usize>,
}

/// Values that stand for a credential without being one, in files where any other value
/// is reported (the global placeholder policy has already run): template references the
/// global list does not know (`%(password)s`, `$(PASS)`, `%PASS%`, `@PASSWORD@`, `__PASS__`),
/// masks, and the handful of words people write in a password slot of a sample file.
pub fn is_template_value(secret: &[u8]) -> bool {
    let s = secret.trim_ascii();
    if s.is_empty() {
        return true;
    }
    let has = |n: &[u8]| s.windows(n.len()).any(|w| w == n);
    if has(b"%(") && has(b")s") || s.starts_with(b"$(") || s.starts_with(b"{%") {
        return true;
    }
    let wrapped =
        |a: &[u8], b: &[u8]| s.len() > a.len() + b.len() && s.starts_with(a) && s.ends_with(b);
    // `{password}` is a format-string slot; `{AQAAABAAAAAQ...=}` (Jenkins, Maven) is an
    // encrypted value, reported: only a short identifier inside braces is a template.
    let identifier = |inner: &[u8]| {
        inner.len() <= 48
            && inner
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b' '))
    };
    if wrapped(b"@", b"@")
        || wrapped(b"__", b"__")
        || (wrapped(b"{", b"}") && identifier(&s[1..s.len() - 1]))
        || wrapped(b"(", b")")
    {
        return true;
    }
    if s.iter()
        .all(|&b| b == b'*' || b == b'x' || b == b'X' || b == b'.' || b == b'-')
    {
        return true;
    }
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "none",
        "null",
        "nil",
        "todo",
        "tbd",
        "fixme",
        "required",
        "optional",
        "string",
        "env",
        "undefined",
        "mypassword",
        "yourpassword",
        "your_password",
        "<password>",
        "putyourpasswordhere",
        "password_here",
        "secret_key",
        "mysecret",
        "token",
        "api_key",
        "apikey",
        "put your unique phrase here",
    ];
    WORDS.iter().any(|w| s.eq_ignore_ascii_case(w.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_literals_are_in_every_matching_path() {
        let cases = [
            ("**/.netrc", Some(".netrc")),
            ("**/.kube/configs/*", Some(".kube/configs/")),
            ("**/*.{yml,yaml}", Some(".")),
            ("**/kubeconfig*.yaml", Some("kubeconfig")),
            ("**/[Ww]eb.config", Some("eb.config")),
            ("**/*", None),
        ];
        for (glob, want) in cases {
            assert_eq!(required_literal(glob).as_deref(), want, "{glob}");
        }
        // Against the glob matcher itself: a matching path contains the literal.
        for (glob, path) in [
            ("**/.netrc", ".NETRC"),
            ("**/.kube/configs/*", "home/u/.kube/configs/prod"),
            ("**/.kube/configs/*", ".kube/configs/prod"),
            ("**/*.{yml,yaml}", "a/b.yaml"),
        ] {
            let g = path_glob(glob).unwrap().compile_matcher();
            assert!(g.is_match(path), "{glob} {path}");
            let lit = required_literal(glob).unwrap().to_ascii_lowercase();
            assert!(path.to_ascii_lowercase().contains(&lit), "{glob} {path}");
        }
    }
    use crate::rules::parse_rule_file;

    #[test]
    fn one_glob_set_selects_rules_by_path() {
        let rules = parse_rule_file(
            "t.toml",
            r#"
[[rule]]
id = "a"
name = "A"
paths = ["**/.netrc", "**/_netrc"]
regex = 'password\s+(\S+)'
[[rule]]
id = "b"
name = "B"
paths = ["**/.aws/credentials"]
regex = 'x'
"#,
        )
        .unwrap();
        let pr = PathRules::new(rules.iter().map(|r| &r.spec).enumerate())
            .unwrap()
            .unwrap();
        let mut cache = PathCache::default();
        assert_eq!(pr.active("home/u/.netrc", &mut cache), &[0]);
        assert_eq!(pr.active(".netrc", &mut cache), &[0]);
        assert_eq!(pr.active("C/Users/u/_NETRC", &mut cache), &[0]);
        assert_eq!(pr.active("/root/.aws/credentials", &mut cache), &[1]);
        assert!(pr.active("docs/.aws/credentials.md", &mut cache).is_empty());
        assert!(pr.active("src/netrc.rs", &mut cache).is_empty());
        assert!(pr.active("<stdin>", &mut cache).is_empty());
    }

    #[test]
    fn no_path_rules_means_no_selector() {
        let rules = parse_rule_file(
            "t.toml",
            "[[rule]]\nid='a'\nname='A'\nkeywords=['abcd']\nregex='abcd'\n",
        )
        .unwrap();
        assert!(PathRules::new(rules.iter().map(|r| &r.spec).enumerate())
            .unwrap()
            .is_none());
    }

    #[test]
    fn template_values() {
        for t in [
            "%(db_password)s",
            "$(DB_PASS)",
            "@DB_PASSWORD@",
            "__PASSWORD__",
            "{password}",
            "********",
            "Password",
            "  ",
            "{% raw %}",
        ] {
            assert!(is_template_value(t.as_bytes()), "{t}");
        }
        for v in [
            "hunter2",
            "s3cr3t!",
            "P@ssw0rd2019",
            "(x",
            "{AQAAABAAAAAQ8fGx0Lz0kK1Rm3y8Zq4W9eM2vB5nX7cJ6hD1sL3aP0=}",
        ] {
            assert!(!is_template_value(v.as_bytes()), "{v}");
        }
    }
}
