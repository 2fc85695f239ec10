//! gitleaks and betterleaks rule files (`[[rules]]` with `regex`, `secretGroup`,
//! `keywords`, `entropy`, allowlists), translated into leaksweep rules and allowlists, so
//! that `--rules` and `rules.files` take the files teams already have.
//!
//! What cannot be honoured is named per rule in [`Loaded::notes`] (the CLI prints them on
//! stderr), never dropped silently:
//! - `path` (a rule limited to some files): the rule runs on every file;
//! - `[[rules.required]]` (composite rules): the rule reports on its own;
//! - `skipReport` rules (components of composite rules): skipped;
//! - path-only rules (no `regex`): skipped;
//! - betterleaks `filter` expressions: only `entropy(finding["secret"]) <= N` (or `<`) is
//!   understood (as an entropy floor); other expressions and `validate` are ignored, which
//!   reports more, never less;
//! - allowlist `commits`: not applied;
//! - regexes that Rust's `regex` does not accept (rare: RE2 and Rust agree on nearly
//!   everything): the rule is skipped;
//! - rules without keywords: keywords are derived from the regex's literal prefixes when
//!   that is possible, otherwise the rule is skipped (leaksweep's prefilter needs them).
//!
//! Allowlists become project allowlists ([`super::allow`]): findings they cover are
//! suppressed and counted, like the config's own.

use std::path::Path;

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use toml::{Table, Value};

use crate::error::Error;
use crate::rules::{self, AllowTarget, LoadedRule, RuleSpec, Severity};

use super::allow::{AllowEntry, Condition};

/// Rules and allowlists read from rule files of either format.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The rules.
    pub rules: Vec<LoadedRule>,
    /// Allowlists, each labelled with where it came from.
    pub allowlists: Vec<(String, AllowEntry)>,
    /// Rule ids the file asks to disable (gitleaks `[extend] disabledRules`).
    pub disabled: Vec<String>,
    /// What could not be honoured, one line each.
    pub notes: Vec<String>,
}

/// True if `text` is a gitleaks-family rule file (top-level `[[rules]]`).
pub fn is_gitleaks(table: &Table) -> bool {
    table.get("rules").is_some_and(Value::is_array)
        || table.contains_key("extend")
        || table.contains_key("allowlists")
}

/// Loads a rule file or every `*.toml` of a directory, in either format.
pub fn load_path(path: &Path) -> Result<Loaded, Error> {
    let mut files = Vec::new();
    if path.is_dir() {
        let rd = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
        for entry in rd {
            let p = entry.map_err(|e| Error::io(path, e))?.path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut out = Loaded::default();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| Error::io(&f, e))?;
        let one = parse(&f.display().to_string(), &text)?;
        out.rules.extend(one.rules);
        out.allowlists.extend(one.allowlists);
        out.disabled.extend(one.disabled);
        out.notes.extend(one.notes);
    }
    Ok(out)
}

/// Parses one rule file of either format; `origin` names it in messages.
pub fn parse(origin: &str, text: &str) -> Result<Loaded, Error> {
    let table: Table = toml::from_str(text).map_err(|e| Error::Rules {
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    if !is_gitleaks(&table) {
        return Ok(Loaded {
            rules: rules::parse_rule_file(origin, text)?,
            ..Loaded::default()
        });
    }
    Ok(translate(origin, &table))
}

/// Translates a parsed gitleaks/betterleaks file.
pub fn translate(origin: &str, table: &Table) -> Loaded {
    let mut out = Loaded::default();
    if let Some(list) = table.get("rules").and_then(Value::as_array) {
        for (i, r) in list.iter().enumerate() {
            match r.as_table() {
                Some(t) => translate_rule(origin, i, t, &mut out),
                None => out
                    .notes
                    .push(format!("{origin}: rules[{i}] is not a table: skipped")),
            }
        }
    }
    for (key, value) in table {
        match key.as_str() {
            "title" | "description" | "minVersion" | "betterleaksMinVersion" | "rules" => {}
            "extend" => translate_extend(origin, value, &mut out),
            "allowlist" | "allowlists" => {
                for (i, a) in tables(value).into_iter().enumerate() {
                    let label = format!("{origin}: global allowlist {}", i + 1);
                    let (entry, notes) = translate_allowlist(a, None);
                    for n in notes {
                        out.notes.push(format!("{label}: {n}"));
                    }
                    if let Some(e) = entry {
                        out.allowlists.push((label, e));
                    }
                }
            }
            "prefilter" | "filter" => out.notes.push(format!(
                "{origin}: top-level {key} expression not supported: ignored (more findings, \
                 not fewer)"
            )),
            other => out.notes.push(format!(
                "{origin}: unknown top-level key {other:?}: ignored"
            )),
        }
    }
    out
}

fn tables(v: &Value) -> Vec<&Table> {
    match v {
        Value::Table(t) => vec![t],
        Value::Array(a) => a.iter().filter_map(Value::as_table).collect(),
        _ => Vec::new(),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn translate_extend(origin: &str, value: &Value, out: &mut Loaded) {
    let Some(t) = value.as_table() else { return };
    for (k, v) in t {
        match k.as_str() {
            "useDefault" => {} // the built-in rules always run; --only/--disable choose
            "disabledRules" => out.disabled.extend(strings(Some(v))),
            "path" | "url" => out.notes.push(format!(
                "{origin}: [extend] {k} not supported: the extended file is not read (list it \
                 in --rules too)"
            )),
            other => out
                .notes
                .push(format!("{origin}: unknown key extend.{other}: ignored")),
        }
    }
}

/// The entropy floor a simple betterleaks filter expresses, if it is one.
fn entropy_filter(expr: &str) -> Option<f32> {
    let e = expr.trim();
    let e = e.strip_prefix("filter.").unwrap_or(e);
    let rest = e.strip_prefix("entropy(finding[\"secret\"])")?.trim_start();
    let (strict, num) = if let Some(n) = rest.strip_prefix("<=") {
        (false, n)
    } else {
        (true, rest.strip_prefix('<')?)
    };
    let v: f32 = num.trim().parse().ok()?;
    // `entropy <= v` drops a finding; leaksweep drops below its floor.
    Some(if strict { v } else { v + 1e-4 })
}

fn derive_keywords(regex: &str) -> Option<Vec<String>> {
    let hir = match regex_syntax::ParserBuilder::new()
        .utf8(false)
        .unicode(false)
        .build()
        .parse(regex)
    {
        Ok(h) => h,
        Err(_) => regex_syntax::Parser::new().parse(regex).ok()?,
    };
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut ex = Extractor::new();
        ex.kind(kind);
        let seq = ex.extract(&hir);
        let Some(lits) = seq.literals() else { continue };
        let mut words: Vec<String> = lits
            .iter()
            .map(|l| String::from_utf8_lossy(l.as_bytes()).to_ascii_lowercase())
            .collect();
        words.sort();
        words.dedup();
        if !words.is_empty()
            && words.len() <= 32
            && words.iter().all(|w| w.len() >= 3 && w.is_ascii())
        {
            return Some(words);
        }
    }
    None
}

fn translate_rule(origin: &str, index: usize, t: &Table, out: &mut Loaded) {
    let Some(id) = t.get("id").and_then(Value::as_str).map(str::to_string) else {
        out.notes
            .push(format!("{origin}: rules[{index}] has no id: skipped"));
        return;
    };
    let mut notes: Vec<String> = Vec::new();
    let mut skip: Option<String> = None;
    let mut spec = RuleSpec {
        id: id.clone(),
        name: id.clone(),
        description: None,
        severity: Severity::High,
        keywords: Vec::new(),
        regex: String::new(),
        secret_group: None,
        entropy: None,
        validator: None,
        unicode: false,
        multiline: false,
        extract: None,
        priority: 0,
        tags: Vec::new(),
        references: Vec::new(),
        rotate: None,
        examples: Vec::new(),
        negative_examples: Vec::new(),
        allow: Vec::new(),
        paths: Vec::new(),
        file_type: None,
        example_path: None,
    };
    let mut allowlists = Vec::new();
    for (k, v) in t {
        match k.as_str() {
            "id" => {}
            "description" => {
                if let Some(d) = v.as_str() {
                    spec.name = d.to_string();
                }
            }
            "regex" => spec.regex = v.as_str().unwrap_or_default().to_string(),
            "secretGroup" => {
                spec.secret_group = v
                    .as_integer()
                    .and_then(|g| usize::try_from(g).ok())
                    .filter(|&g| g > 0);
            }
            "entropy" => {
                // An entropy in bits per byte (0..=8) fits an f32 exactly enough.
                #[allow(clippy::cast_possible_truncation)]
                let to_f32 = |f: f64| f as f32;
                spec.entropy = v
                    .as_float()
                    .or_else(|| v.as_integer().map(|i| i as f64))
                    .map(to_f32)
                    .filter(|f| *f > 0.0);
            }
            "keywords" => spec.keywords = strings(Some(v)),
            "tags" => spec.tags = strings(Some(v)),
            "path" => notes.push(
                "path (a rule limited to some files) not supported: the rule runs on every file"
                    .into(),
            ),
            "allowlist" | "allowlists" => {
                for a in tables(v) {
                    let (entry, n) = translate_allowlist(a, Some(&id));
                    notes.extend(n.into_iter().map(|n| format!("allowlist: {n}")));
                    allowlists.extend(entry);
                }
            }
            "required" => notes.push(
                "required (composite rule) not supported: the rule reports on its own".into(),
            ),
            "skipReport" => {
                if v.as_bool() == Some(true) {
                    skip = Some(
                        "skipReport (a component of composite rules): skipped, since leaksweep \
                         does not combine rules"
                            .into(),
                    );
                }
            }
            "filter" => match v.as_str().and_then(entropy_filter) {
                Some(e) => spec.entropy = Some(spec.entropy.map_or(e, |old| old.max(e))),
                None => notes.push(
                    "filter expression not supported: ignored (more findings, not fewer)".into(),
                ),
            },
            "validate" => {
                notes
                    .push("validate (live check) not run: findings are reported unverified".into());
            }
            other => notes.push(format!("unknown key {other:?}: ignored")),
        }
    }
    if spec.regex.is_empty() && skip.is_none() {
        skip = Some("no regex (a path-only rule finds files, not secrets): skipped".into());
    }
    if skip.is_none() {
        if spec.regex.contains("\\p{") || spec.regex.contains("\\P{") {
            spec.unicode = true;
        }
        if spec.regex.contains("(?s")
            || spec.regex.contains("\\n")
            || spec.regex.contains("[\\s\\S]")
            || spec.regex.contains("BEGIN")
        {
            spec.multiline = true;
        }
        let compiled = regex::bytes::RegexBuilder::new(&spec.regex)
            .unicode(spec.unicode)
            .size_limit(8 << 20)
            .build()
            .or_else(|_| {
                spec.unicode = true;
                regex::bytes::RegexBuilder::new(&spec.regex)
                    .size_limit(8 << 20)
                    .build()
            });
        match compiled {
            Err(e) => skip = Some(format!("regex not accepted by leaksweep: {e}; skipped")),
            Ok(re) => {
                let groups = re.captures_len();
                if let Some(g) = spec.secret_group {
                    if g >= groups {
                        skip = Some(format!(
                            "secretGroup {g} does not exist (the regex has {} groups): skipped",
                            groups - 1
                        ));
                    }
                }
            }
        }
    }
    if skip.is_none() {
        spec.keywords = spec
            .keywords
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .filter(|k| !k.is_empty())
            .collect();
        if spec.keywords.is_empty() {
            match derive_keywords(&spec.regex) {
                Some(words) => {
                    notes.push(format!(
                        "no keywords: derived {} from the regex",
                        words.join(", ")
                    ));
                    spec.keywords = words;
                }
                None => {
                    skip = Some(
                        "no keywords, and none can be derived from the regex: skipped (add \
                         keywords; leaksweep runs a rule only where one occurs)"
                            .into(),
                    );
                }
            }
        }
    }
    if let Some(why) = &skip {
        notes.push(why.clone());
    }
    if !notes.is_empty() {
        out.notes
            .push(format!("{origin}: rule {id}: {}", notes.join("; ")));
    }
    if skip.is_some() {
        return;
    }
    for (i, a) in allowlists.into_iter().enumerate() {
        out.allowlists
            .push((format!("{origin}: rule {id} allowlist {}", i + 1), a));
    }
    out.rules.push(LoadedRule {
        spec,
        origin: origin.to_string(),
    });
}

/// Translates one gitleaks allowlist; `rule` scopes a rule's own allowlist.
fn translate_allowlist(t: &Table, rule: Option<&str>) -> (Option<AllowEntry>, Vec<String>) {
    let mut notes = Vec::new();
    let mut e = AllowEntry {
        rules: rule.map(|r| vec![r.to_string()]).unwrap_or_default(),
        ..AllowEntry::default()
    };
    for (k, v) in t {
        match k.as_str() {
            "description" => e.description = v.as_str().map(str::to_string),
            "condition" => match v.as_str().map(str::to_ascii_uppercase).as_deref() {
                Some("AND" | "&&") => e.condition = Condition::And,
                Some("OR" | "||" | "") | None => e.condition = Condition::Or,
                Some(other) => notes.push(format!("unknown condition {other:?}: using OR")),
            },
            "regexTarget" => match v.as_str() {
                Some("match") => e.target = AllowTarget::Match,
                Some("line") => e.target = AllowTarget::Line,
                Some("secret" | "") | None => e.target = AllowTarget::Secret,
                Some(other) => notes.push(format!("unknown regexTarget {other:?}: using secret")),
            },
            "regexes" => e.regexes = strings(Some(v)),
            "paths" => e.path_regexes = strings(Some(v)),
            "stopwords" => e.stopwords = strings(Some(v)),
            "targetRules" => {
                if rule.is_none() {
                    e.rules = strings(Some(v));
                }
            }
            "commits" => {
                notes.push("commits not supported: those commits are not allowlisted".into());
            }
            other => notes.push(format!("unknown key {other:?}: ignored")),
        }
    }
    // Drop the parts leaksweep cannot compile, naming each.
    e.regexes.retain(|r| match super::allow::compile_regex(r) {
        Ok(_) => true,
        Err(m) => {
            notes.push(format!("{m}: dropped"));
            false
        }
    });
    e.path_regexes.retain(|r| match regex::Regex::new(r) {
        Ok(_) => true,
        Err(m) => {
            notes.push(format!("path regex {r:?} does not compile: {m}: dropped"));
            false
        }
    });
    e.stopwords.retain(|w| !w.is_empty());
    let empty = e.regexes.is_empty() && e.path_regexes.is_empty() && e.stopwords.is_empty();
    if empty {
        notes.push("nothing leaksweep can apply is left: the allowlist is not used".into());
        return (None, notes);
    }
    (Some(e), notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
title = "custom"
[extend]
useDefault = true
disabledRules = ["generic-api-key"]

[[rules]]
id = "acme-token"
description = "ACME token"
regex = '''acme_(?P<tok>[a-z0-9]{24})'''
secretGroup = 1
entropy = 3.2
keywords = ["ACME_"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''mock''']
commits = ["abc"]

[[rules]]
id = "no-keywords"
regex = '''zz9tok-[A-Z0-9]{20}'''

[[rules]]
id = "part"
regex = '''p[0-9]{8}'''
keywords = ["p"]
skipReport = true

[[rules]]
id = "bl"
regex = '''bl_[a-z0-9]{20}'''
keywords = ["bl_"]
filter = '''
entropy(finding["secret"]) <= 3.5
'''
validate = '''http.get("x")'''

[[rules]]
id = "pathonly"
path = '''\.p12$'''

[[allowlists]]
targetRules = ["acme-token"]
paths = ['''(^|/)fixtures/''']
"#;

    #[test]
    fn translates_and_names_what_it_cannot_honour() {
        let got = parse("g.toml", FILE).unwrap();
        let ids: Vec<&str> = got.rules.iter().map(|r| r.spec.id.as_str()).collect();
        assert_eq!(ids, ["acme-token", "no-keywords", "bl"]);
        let acme = &got.rules[0].spec;
        assert_eq!(acme.keywords, ["acme_"]);
        assert_eq!(acme.secret_group, Some(1));
        assert_eq!(acme.entropy, Some(3.2));
        assert_eq!(got.rules[1].spec.keywords, ["zz9tok-"]);
        assert!((got.rules[2].spec.entropy.unwrap() - 3.5).abs() < 0.01);
        assert_eq!(got.disabled, ["generic-api-key"]);
        assert_eq!(got.allowlists.len(), 2);
        assert_eq!(got.allowlists[0].1.target, AllowTarget::Line);
        assert_eq!(got.allowlists[1].1.rules, ["acme-token"]);
        let notes = got.notes.join("\n");
        for want in [
            "rule acme-token: allowlist: commits not supported",
            "rule no-keywords: no keywords: derived zz9tok- from the regex",
            "rule part: skipReport",
            "rule bl: validate",
            "rule pathonly: path (a rule limited to some files) not supported: the rule runs \
             on every file; no regex",
        ] {
            assert!(notes.contains(want), "missing {want:?} in\n{notes}");
        }
    }

    #[test]
    fn leaksweep_files_pass_through() {
        let got = parse(
            "mine.toml",
            "[[rule]]\nid = \"x\"\nname = \"X\"\nkeywords = [\"xx_\"]\nregex = 'xx_([0-9]{8})'\n",
        )
        .unwrap();
        assert_eq!(got.rules.len(), 1);
        assert!(got.notes.is_empty());
    }
}
