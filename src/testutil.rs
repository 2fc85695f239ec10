//! Shared fixtures of the unit tests: a small engine with the `tok` rule (`tok_` and 20
//! alphanumerics) plus whatever rules a test adds.

use std::sync::Arc;

use crate::engine::Engine;
use crate::rules::parse_rule_file;
use crate::scan::ScanContext;

/// The `tok` rule: `tok_` followed by 20 alphanumerics.
pub const TOK_RULE: &str = r#"
[[rule]]
id = "tok"
name = "Token"
keywords = ["tok_"]
regex = '''\b(tok_[A-Za-z0-9]{20})\b'''
examples = ["tok_q8Zr2mV9xK4tW7pLa1b2"]
negative_examples = ["tok_"]
"#;

/// An engine with [`TOK_RULE`] and the rules in `extra` (rule-file TOML).
pub fn engine(extra: &str) -> Engine {
    let rules = parse_rule_file("t.toml", &format!("{TOK_RULE}\n{extra}")).unwrap();
    Engine::new(rules).unwrap()
}

/// A scan context over [`engine`]`(extra)` with chunks of `chunk` bytes.
pub fn context(extra: &str, chunk: usize) -> ScanContext {
    let mut c = ScanContext::new(Arc::new(engine(extra)));
    c.chunk_size = chunk;
    c
}

/// Fails if a file of `src/<dir>` (not its subdirectories) names any of `forbidden` in
/// its code: the text before its first `#[cfg(test)]`, since unit tests may name anything
/// (the tests that call this do). Each module's layering test states its own list.
pub fn assert_module_avoids(dir: &str, forbidden: &[&str]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(dir);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension() != Some(std::ffi::OsStr::new("rs")) {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for f in forbidden {
            assert!(!code.contains(f), "{} uses {f}", path.display());
        }
    }
    assert!(files > 0, "no source files in {}", dir.display());
}
