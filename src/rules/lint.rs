//! Static checks of rules: everything that can be checked without running the engine.
//!
//! Checks collect every [`Problem`] instead of stopping at the first, so a rule author
//! sees the whole list at once. The dynamic checks (examples through the full engine)
//! live in `engine::selfcheck`.

use std::collections::HashMap;

use globset::{Glob, GlobBuilder};

use super::LoadedRule;

/// One problem with one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file the rule came from.
    pub origin: String,
    /// The rule id.
    pub rule_id: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.origin, self.rule_id, self.message)
    }
}

/// Runs the static checks over a set of rules.
pub fn lint(rules: &[LoadedRule]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for r in rules {
        let s = &r.spec;
        let mut say = |message: String| {
            problems.push(Problem {
                origin: r.origin.clone(),
                rule_id: s.id.clone(),
                message,
            });
        };
        if let Some(prev) = seen.insert(&s.id, &r.origin) {
            say(format!("duplicate rule id (also defined in {prev})"));
        }
        if s.id.is_empty()
            || !s
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            say("id must be non-empty kebab-case: a-z, 0-9 and '-'".into());
        }
        if s.name.trim().is_empty() {
            say("name is empty".into());
        }
        lint_paths(s, &mut say);
        if s.keywords.is_empty() && s.paths.is_empty() {
            say("has no keywords: the prefilter would never run it".into());
        }
        for kw in &s.keywords {
            if kw.len() < 3 || !kw.is_ascii() {
                say(format!(
                    "keyword {kw:?} must be ASCII and at least 3 characters"
                ));
            }
        }
        if s.examples.is_empty() {
            say("has no examples".into());
        }
        if s.negative_examples.is_empty() {
            say("has no negative_examples".into());
        }
        for (i, ex) in s.examples.iter().enumerate().filter(|_| s.paths.is_empty()) {
            let lower = ex.to_ascii_lowercase();
            if !s
                .keywords
                .iter()
                .any(|k| lower.contains(&k.to_ascii_lowercase()))
            {
                say(format!(
                    "example {} contains none of the keywords, so the prefilter would skip it",
                    i + 1
                ));
            }
        }
        if let Some(e) = s.entropy {
            if !(0.0..=8.0).contains(&e) {
                say(format!("entropy {e} is outside 0..=8 bits per byte"));
            }
        }
        if let Some(max) = largest_bounded_repetition(&s.regex, s.unicode) {
            if max > MAX_REPETITION_BOUND {
                say(format!(
                    "a counted repetition with upper bound {max} (over {MAX_REPETITION_BOUND}) \
                     costs a compiled state per repetition; use an open bound `{{n,}}`: the \
                     prefilter window already bounds how far a match can reach"
                ));
            }
        }
    }
    problems
}

/// Compiles one path glob of a path-scoped rule. `*` stays within a path component (`**`
/// crosses them), so that `**/.aws/credentials` does not match `docs/.aws/credentials.md`;
/// case is ignored (Windows file names: `_NETRC`, `WebServers.XML`).
pub fn path_glob(glob: &str) -> Result<Glob, String> {
    GlobBuilder::new(glob)
        .literal_separator(true)
        .case_insensitive(true)
        .build()
        .map_err(|e| format!("path glob {glob:?}: {e}"))
}

/// Static checks of a path-scoped rule: its globs compile, it names its file type, and its
/// `example_path` is one of its files, so that the self-check really runs its examples.
fn lint_paths(s: &super::RuleSpec, say: &mut dyn FnMut(String)) {
    if s.paths.is_empty() {
        if s.file_type.is_some() || s.example_path.is_some() {
            say("file_type and example_path only make sense with paths".into());
        }
        return;
    }
    if s.file_type.as_deref().unwrap_or_default().trim().is_empty() {
        say("a path-scoped rule needs a file_type (shown with its findings)".into());
    }
    let mut globs = Vec::new();
    for g in &s.paths {
        match path_glob(g) {
            Ok(glob) => globs.push(glob.compile_matcher()),
            Err(e) => say(e),
        }
    }
    match &s.example_path {
        None => say("a path-scoped rule needs an example_path to run its examples on".into()),
        Some(p) if globs.len() == s.paths.len() && !globs.iter().any(|g| g.is_match(p)) => {
            say(format!(
                "example_path {p:?} matches none of the rule's paths"
            ));
        }
        Some(_) => {}
    }
}

/// The largest upper bound of a counted repetition (`{n,m}`) a rule may use. Each bound
/// repetition is compiled into its own NFA states: `(?s:.){64,16000}` took ~50 ms to
/// compile, and a scan compiles every rule whose keyword hits.
pub const MAX_REPETITION_BOUND: u32 = 2000;

/// The largest finite upper bound of any repetition in `regex`, if it parses and has one.
fn largest_bounded_repetition(regex: &str, unicode: bool) -> Option<u32> {
    fn walk(h: &regex_syntax::hir::Hir, max: &mut Option<u32>) {
        use regex_syntax::hir::HirKind;
        match h.kind() {
            HirKind::Repetition(r) => {
                if let Some(m) = r.max {
                    *max = Some(max.map_or(m, |x| x.max(m)));
                }
                walk(&r.sub, max);
            }
            HirKind::Capture(c) => walk(&c.sub, max),
            HirKind::Concat(v) | HirKind::Alternation(v) => {
                for x in v {
                    walk(x, max);
                }
            }
            _ => {}
        }
    }
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(unicode)
        .utf8(false)
        .build()
        .parse(regex)
        .ok()?;
    let mut max = None;
    walk(&hir, &mut max);
    max
}

#[cfg(test)]
mod tests {
    use super::largest_bounded_repetition;

    #[test]
    fn finds_the_largest_counted_repetition() {
        assert_eq!(
            largest_bounded_repetition(r"a{2,5}(b{1,16000}?|c+)", false),
            Some(16000)
        );
        assert_eq!(largest_bounded_repetition(r"a+b*(?s:.){64,}", false), None);
    }
}
