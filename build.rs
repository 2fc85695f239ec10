//! Embeds every `rules/*.toml` file in the binary, twice:
//!
//! - the TOML text as written (`BUILTIN`), for `rules test` and the self-check, which need
//!   the examples;
//! - a compact JSON form without examples (`BUILTIN_COMPACT`), which is what a scan loads:
//!   parsing 300 KB of TOML costs ~15 ms at every start, JSON without examples well under 1 ms,
//!   and a pre-commit hook pays start-up on every commit.
//!
//! The list is generated rather than written by hand so that a new rule file can never be
//! forgotten: dropping a file into `rules/` is enough. A rule file that is not valid TOML
//! fails the build with its name.

use std::{env, fs, path::Path};

fn main() {
    let dir = Path::new(&env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .join("rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("rules/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// Built-in rule files: (file name, TOML text).\npub const BUILTIN: &[(&str, &str)] = &[\n",
    );
    let mut compact = Vec::new();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f
            .file_name()
            .expect("file has a name")
            .to_string_lossy()
            .into_owned();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
        let text = fs::read_to_string(f).expect("rule file is readable");
        let mut value: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("rules/{name} is not valid TOML: {e}"));
        if let Some(toml::Value::Array(rules)) = value.get_mut("rule") {
            for r in rules.iter_mut() {
                if let toml::Value::Table(t) = r {
                    t.remove("examples");
                    t.remove("negative_examples");
                    t.remove("references");
                    t.remove("description");
                }
            }
        }
        compact.push(serde_json::json!({"origin": format!("rules/{name}"), "rule": value.get("rule").cloned().unwrap_or(toml::Value::Array(vec![]))}));
    }
    out.push_str("];\n");
    out.push_str(
        "/// The built-in rules as JSON without examples: `[{\"origin\", \"rule\": [...]}]`.\npub const BUILTIN_COMPACT: &str = include_str!(concat!(env!(\"OUT_DIR\"), \"/builtin_rules.json\"));\n",
    );
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    fs::write(Path::new(&out_dir).join("builtin_rules.rs"), out).expect("write builtin_rules.rs");
    fs::write(
        Path::new(&out_dir).join("builtin_rules.json"),
        serde_json::to_string(&compact).expect("rules serialize"),
    )
    .expect("write builtin_rules.json");
}
