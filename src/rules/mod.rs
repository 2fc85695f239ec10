//! Rule definitions: the TOML format, loading, and static checks.
//!
//! This module only describes rules. It never scans bytes: the engine compiles
//! [`RuleSpec`]s into matchers (`crate::engine`), and the engine's self-check runs the
//! examples.
//!
//! # Rule file format
//!
//! ```toml
//! [[rule]]
//! id = "github-pat-classic"              # unique, kebab-case
//! name = "GitHub personal access token (classic)"
//! severity = "high"                      # critical | high | medium | low | info
//! keywords = ["ghp_"]                    # ASCII, matched case-insensitively, >= 3 chars
//! regex = '''\b(ghp_[A-Za-z0-9]{36})\b'''
//! secret_group = 1                       # default: group "secret", else 1, else 0;
//!                                        # groups `secret_alt1`, ... stand in when it did not
//!                                        # take part (`"(?P<secret>..)"|(?P<secret_alt1>..)`)
//! entropy = 3.0                          # optional minimum Shannon entropy of the secret
//! validator = "github-checksum"          # optional structural/checksum check
//! examples = ["token = ghp_..."]
//! negative_examples = ["ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]
//! # paths = ["**/.netrc"]                # path-scoped rule: only these files, no prefilter
//! # file_type = "netrc"                  # shown with its findings
//! # example_path = ".netrc"              # where the self-check scans the examples
//! [[rule.allow]]
//! regexes = ['''(?i)example''']          # on the secret (see `target`)
//! ```

pub mod builtin;
pub mod lint;

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// How bad a leak of this kind of secret is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: a weak signal or a low-value credential.
    Info,
    /// Low impact or low confidence.
    Low,
    /// Medium impact.
    Medium,
    /// High impact: a live credential to a service.
    #[default]
    High,
    /// Critical: cloud root credentials, private keys, secret-manager tokens.
    Critical,
}

impl Severity {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an allowlist regex is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AllowTarget {
    /// The captured secret (default).
    #[default]
    Secret,
    /// The whole regex match.
    Match,
    /// The line (or lines) that hold the match.
    Line,
}

/// One allowlist entry of a rule: a finding is dropped if any of its conditions holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AllowSpec {
    /// Optional note saying why these values are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Regexes; a match of any of them on `target` drops the finding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regexes: Vec<String>,
    /// Substrings; the secret containing any of them (ASCII case-insensitively) drops it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopwords: Vec<String>,
    /// Path globs; a finding in a matching path is dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// What `regexes` are matched against.
    #[serde(default)]
    pub target: AllowTarget,
}

/// A rule as written in a rule file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique id, kebab-case (`aws-access-key-id`).
    pub id: String,
    /// Human name (`AWS access key ID`).
    pub name: String,
    /// Optional longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Severity of a leak.
    #[serde(default)]
    pub severity: Severity,
    /// Keywords for the prefilter; matched ASCII case-insensitively. Keywords of three
    /// bytes or more let the prefilter skip text by anchors; a shorter one makes it read
    /// every byte with an automaton.
    /// Path-scoped rules need none: their paths select them.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The regex, in Rust `regex` syntax, run on bytes.
    pub regex: String,
    /// The capture group that holds the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_group: Option<usize>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entropy: Option<f32>,
    /// Name of a structural or checksum validator (see `engine::validate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<String>,
    /// Enable Unicode classes in the regex (off by default: ASCII is faster).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unicode: bool,
    /// The match may span lines (PEM blocks). Otherwise a match stays on one line.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiline: bool,
    /// The regex finds a secret-sounding *name*; the engine reads its value from the
    /// context (`assignment` or `pair`, see `engine::context`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extract: Option<String>,
    /// Overlap resolution: where two rules match overlapping secrets, the higher wins.
    /// Generic rules use a negative priority so that a provider rule always wins.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority: i32,
    /// Tags (`cloud`, `generic`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Documentation of the format.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Optional rotation hint: which backend kind can rotate this secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate: Option<toml::Table>,
    /// Texts that must produce a finding for this rule.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Texts that must not produce a finding for this rule.
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// Allowlists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<AllowSpec>,
    /// Path globs (`**/.netrc`): when set, the rule runs only on files whose path matches,
    /// over the whole file, with no keyword prefilter (see `engine::pathscope`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// The kind of file a path-scoped rule reads (`netrc`), shown with its findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_type: Option<String>,
    /// The path the self-check scans a path-scoped rule's examples under (`.netrc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example_path: Option<String>,
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

/// A parsed rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// A rule together with where it came from, for messages.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    /// The rule.
    pub spec: RuleSpec,
    /// The file it was read from (`rules/aws.toml`, or a user path).
    pub origin: String,
}

/// Parses the text of one rule file. `origin` names it in errors.
pub fn parse_rule_file(origin: &str, text: &str) -> Result<Vec<LoadedRule>, Error> {
    let file: RuleFile = toml::from_str(text).map_err(|e| Error::Rules {
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    Ok(file
        .rule
        .into_iter()
        .map(|spec| LoadedRule {
            spec,
            origin: origin.to_string(),
        })
        .collect())
}

/// Loads the built-in rules for scanning: from the compact form embedded at build time,
/// without examples (fast: this runs at every start).
pub fn load_builtin() -> Result<Vec<LoadedRule>, Error> {
    #[derive(Deserialize)]
    struct Compact {
        origin: String,
        rule: Vec<RuleSpec>,
    }
    let files: Vec<Compact> =
        serde_json::from_str(builtin::BUILTIN_COMPACT).map_err(|e| Error::Rules {
            origin: "(built-in rules)".into(),
            message: e.to_string(),
        })?;
    Ok(files
        .into_iter()
        .flat_map(|f| {
            let origin = f.origin;
            f.rule.into_iter().map(move |spec| LoadedRule {
                spec,
                origin: origin.clone(),
            })
        })
        .collect())
}

/// Loads the built-in rules with their examples, references and descriptions (for
/// `rules test`, `rules list --json` and the self-check).
pub fn load_builtin_full() -> Result<Vec<LoadedRule>, Error> {
    let mut out = Vec::new();
    for (name, text) in builtin::BUILTIN {
        out.extend(parse_rule_file(&format!("rules/{name}"), text)?);
    }
    Ok(out)
}

/// Loads user rules from a file or from every `*.toml` file of a directory.
pub fn load_path(path: &Path) -> Result<Vec<LoadedRule>, Error> {
    let mut files = Vec::new();
    if path.is_dir() {
        let rd = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(path, e))?;
            let p = entry.path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| Error::io(&f, e))?;
        out.extend(parse_rule_file(&f.display().to_string(), &text)?);
    }
    Ok(out)
}
