//! Dynamic rule checks: every example must yield a finding for its rule through the full
//! engine (prefilter, regex, entropy, validator, allowlists), and no negative example may.
//!
//! Each rule is checked alone in a one-rule engine, as gitleaks' single-rule detector
//! does, so that another rule winning an overlap does not hide a broken example.

use crate::rules::lint::{lint, Problem};
use crate::rules::LoadedRule;

use super::{Engine, Scratch};

/// Runs the static and dynamic checks and returns every problem found.
pub fn check(rules: &[LoadedRule]) -> Vec<Problem> {
    let mut problems = lint(rules);
    for loaded in rules {
        let problem = |message: String| Problem {
            origin: loaded.origin.clone(),
            rule_id: loaded.spec.id.clone(),
            message,
        };
        let engine = match Engine::new(vec![loaded.clone()]) {
            Ok(e) => e,
            Err(errs) => {
                problems.extend(errs);
                continue;
            }
        };
        if let Err(msg) = engine.rules()[0].check_compiles() {
            problems.push(problem(msg));
            continue;
        }
        let mut scratch = Scratch::default();
        // A path-scoped rule's examples are files of its kind: scanned under its
        // example_path, and the first one must find nothing under an unrelated path.
        let path = loaded.spec.example_path.as_deref();
        let mut found_at = |text: &str, path: Option<&str>| {
            let mut out = Vec::new();
            engine.scan(text.as_bytes(), text.len(), path, &mut scratch, &mut out);
            !out.is_empty()
        };
        if let (false, Some(first)) = (loaded.spec.paths.is_empty(), loaded.spec.examples.first()) {
            if found_at(first, Some("notes/unrelated.txt")) {
                problems.push(problem(
                    "example 1 matched outside the rule's paths: path scoping is broken".into(),
                ));
            }
        }
        let mut found = |text: &str| found_at(text, path);
        for (i, ex) in loaded.spec.examples.iter().enumerate() {
            if !found(ex) {
                problems.push(problem(format!("example {} not matched: {:?}", i + 1, ex)));
            }
        }
        for (i, ex) in loaded.spec.negative_examples.iter().enumerate() {
            if found(ex) {
                problems.push(problem(format!(
                    "negative example {} matched: {:?}",
                    i + 1,
                    ex
                )));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{load_builtin, load_builtin_full};

    #[test]
    fn builtin_rules_pass_self_check() {
        let rules = load_builtin_full().expect("built-in rule files parse");
        let problems = check(&rules);
        for p in &problems {
            eprintln!("{p}");
        }
        assert!(
            problems.is_empty(),
            "{} problem(s) in built-in rules",
            problems.len()
        );
    }

    #[test]
    fn compact_builtin_form_matches_the_toml() {
        let full = load_builtin_full().unwrap();
        let compact = load_builtin().unwrap();
        assert_eq!(full.len(), compact.len());
        for (f, c) in full.iter().zip(&compact) {
            assert_eq!(
                (&f.origin, &f.spec.id, &f.spec.regex),
                (&c.origin, &c.spec.id, &c.spec.regex)
            );
            assert_eq!(f.spec.keywords, c.spec.keywords);
            assert_eq!(f.spec.allow, c.spec.allow);
            assert_eq!(
                (f.spec.entropy, &f.spec.validator, f.spec.priority),
                (c.spec.entropy, &c.spec.validator, c.spec.priority)
            );
        }
    }

    const NETRC_RULE: &str = r#"
[[rule]]
id = "netrc-password"
name = "netrc password"
paths = ["**/.netrc"]
file_type = "netrc"
example_path = "PATH"
regex = '''\bpassword\s+(\S+)'''
examples = ["machine h login u password hunter2"]
negative_examples = ["machine h login u password ${NETRC_PASS}"]
"#;

    #[test]
    fn path_scoped_examples_run_under_their_path() {
        let rules = |path: &str| {
            crate::rules::parse_rule_file("user.toml", &NETRC_RULE.replace("PATH", path)).unwrap()
        };
        let good = check(&rules("home/.netrc"));
        assert!(good.is_empty(), "{good:?}");
        // An example path outside the globs is caught statically, and the examples then
        // find nothing: scoping is enforced, not bypassed, by the self-check.
        let problems = check(&rules("netrc.txt"));
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("matches none of the rule's paths")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("example 1 not matched")),
            "{problems:?}"
        );
    }

    #[test]
    fn self_check_catches_a_broken_rule() {
        let rules = crate::rules::parse_rule_file(
            "user.toml",
            r#"
[[rule]]
id = "broken"
name = "Broken"
keywords = ["tok"]
regex = '''tok_([a-z]{10})'''
examples = ["tok_ABCDEFGHIJ"]
negative_examples = ["tok_abcdefghij"]
"#,
        )
        .unwrap();
        let problems = check(&rules);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].message.contains("example 1 not matched"));
        assert!(problems[1].message.contains("negative example 1 matched"));
    }
}
