//! `.leaksweep.toml`: the project's scanner configuration, parsed strictly.
//!
//! Every key is known: an unknown key or a bad value is an error that names the file, the
//! line, the key and what is allowed (`.leaksweep.toml:12: unknown key "alowlist"
//! (allowed: version, salt, scan, rules, rule, allowlist, rotation, validation)`). A config written for a newer
//! format version is refused rather than half-understood.
//!
//! ```toml
//! version = 1                       # format version (optional)
//! salt = "acme-payments"            # fingerprint salt (optional; see below)
//!
//! [scan]                            # defaults for flags; a flag given on the command line wins
//! format = "text"                   # text | json | jsonl | sarif
//! exit_code = 1
//! max_file_size = "100M"            # bytes, or with a K, M or G suffix
//! threads = 0                       # 0: one per core
//! exclude = ["vendor/**"]           # added to --exclude
//! glob = []                         # added to --glob
//! no_ignore = false
//! hidden = true                     # false: skip hidden files (--no-hidden)
//! follow = false
//! inline_ignores = true             # false: as --no-inline-ignores
//! show_suppressed = false
//! baseline = ".leaksweep-baseline.json"   # default --baseline (relative to this file)
//! ignore_file = ".leaksweepignore"        # relative to this file
//!
//! [rules]
//! files = ["ci/extra-rules.toml"]   # leaksweep or gitleaks rule files/dirs (relative to this file)
//! disable = ["generic-password-flag"]
//! only = []                         # if set, run only these rules
//! [rules.entropy]                   # minimum entropy per rule id (0..=8 bits per byte)
//! generic-secret-assignment = 3.8
//!
//! [[rule]]                          # extra rules, in the format of rules/*.toml
//! id = "acme-internal-token"
//! # ...
//!
//! [[allowlist]]                     # project allowlists (suppressed findings are counted)
//! description = "fixtures hold generated fake secrets"
//! rules = []                        # only for these rule ids (default: all)
//! paths = ["tests/**"]              # globs relative to the project root
//! path_regexes = []                 # regexes on the project-relative path
//! regexes = []                      # regexes on `target`
//! target = "secret"                 # secret | match | line
//! stopwords = []                    # the secret contains one of these words
//! condition = "or"                  # or | and
//!
//! [validation]
//! allow_hosts = ["gitlab.corp.example"] # with --validate: hosts named next to a credential that may be asked
//!
//! [validation.endpoints]            # with --validate: base URL per provider id (docs/validation.md)
//! github = "https://ghe.example.com/api/v3"
//! ```
//!
//! The salt keys every fingerprint (`finding::fingerprint`). Fingerprints in
//! `.leaksweepignore` use the config's salt; a baseline records the salt it was made with
//! and is matched with that salt, so changing the salt never revives baselined findings.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use toml::Spanned;

use crate::error::Error;
use crate::finding::fingerprint::DEFAULT_SALT;
use crate::rules::RuleSpec;

use super::allow::AllowEntry;

/// The config format version this build reads and writes.
pub const CONFIG_VERSION: u32 = 1;

/// Default name of the ignore file.
pub const IGNORE_FILE: &str = ".leaksweepignore";

/// Default name of the baseline file.
pub const BASELINE_FILE: &str = ".leaksweep-baseline.json";

/// Default `--max-file-size`: 100 MiB (the pipeline's default).
pub const DEFAULT_MAX_FILE_SIZE: u64 = crate::pipeline::DEFAULT_MAX_FILE_SIZE;

/// The whole config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version.
    #[serde(default = "default_version")]
    pub version: u32,
    /// Fingerprint salt.
    #[serde(default = "default_salt")]
    pub salt: String,
    /// Defaults for scan flags.
    #[serde(default)]
    pub scan: ScanDefaults,
    /// Rule selection and tuning.
    #[serde(default)]
    pub rules: RulesSection,
    /// Extra rules, in the leaksweep rule format.
    #[serde(default, rename = "rule", skip_serializing_if = "Vec::is_empty")]
    pub extra_rules: Vec<Spanned<RuleSpec>>,
    /// Allowlists (`[[allowlist]]` tables).
    #[serde(default, rename = "allowlist", skip_serializing_if = "Vec::is_empty")]
    pub allowlists: Vec<Spanned<AllowEntry>>,
    /// Rotation backends and routes (`[rotation]`). Triage does not read it; `leaksweep
    /// rotate` and `config check` validate it (`rotate::config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<toml::Table>,
    /// Live validation settings (`[validation]`, used with `--validate`).
    #[serde(default, skip_serializing_if = "ValidationSection::is_empty")]
    pub validation: ValidationSection,
}

/// `[validation]`: where `--validate` may send credentials besides each provider's fixed
/// API host (see docs/validation.md). Hosts named in scanned text are never among them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationSection {
    /// Base URL per provider id (`github = "https://ghe.example.com/api/v3"`); the
    /// command line's `--validate-endpoint` wins.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoints: BTreeMap<String, String>,
    /// Hosts (`HOST` or `HOST:PORT`) that credentials found next to their URL may be
    /// sent to (`--validate-allow-host` adds to them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_hosts: Vec<String>,
}

impl ValidationSection {
    /// True when nothing is configured (the section is left out of `config print`).
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty() && self.allow_hosts.is_empty()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: CONFIG_VERSION,
            salt: default_salt(),
            scan: ScanDefaults::default(),
            rules: RulesSection::default(),
            extra_rules: Vec::new(),
            rotation: None,
            allowlists: Vec::new(),
            validation: ValidationSection::default(),
        }
    }
}

fn default_version() -> u32 {
    CONFIG_VERSION
}

fn default_salt() -> String {
    String::from_utf8_lossy(DEFAULT_SALT).into_owned()
}

fn default_true() -> bool {
    true
}

fn default_exit_code() -> i32 {
    1
}

fn default_ignore_file() -> String {
    IGNORE_FILE.to_string()
}

/// Report formats, as the config names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FormatName {
    /// `--format text`.
    #[default]
    Text,
    /// `--format json`.
    Json,
    /// `--format jsonl`.
    Jsonl,
    /// `--format sarif`.
    Sarif,
}

impl FormatName {
    /// The report format.
    pub fn format(self) -> crate::report::Format {
        match self {
            FormatName::Text => crate::report::Format::Text,
            FormatName::Json => crate::report::Format::Json,
            FormatName::Jsonl => crate::report::Format::Jsonl,
            FormatName::Sarif => crate::report::Format::Sarif,
        }
    }
}

/// A size in bytes, written as a number or with a K, M or G suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

/// Parses `10M`, `512K`, `1G` or a plain number of bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (s.get(..i).unwrap_or(""), 1u64 << 10),
        Some((i, 'M' | 'm')) => (s.get(..i).unwrap_or(""), 1 << 20),
        Some((i, 'G' | 'g')) => (s.get(..i).unwrap_or(""), 1 << 30),
        _ => (s, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{s:?} is not a size (use a number of bytes, or 10K, 20M, 1G)"))
}

/// Formats a size the way [`parse_size`] reads it, with the largest exact suffix.
pub fn format_size(n: u64) -> String {
    for (suffix, shift) in [("G", 30), ("M", 20), ("K", 10)] {
        if n != 0 && n % (1 << shift) == 0 {
            return format!("{}{suffix}", n >> shift);
        }
    }
    n.to_string()
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_size(self.0))
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Size, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Size;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a size: a number of bytes, or a string like \"10K\", \"20M\", \"1G\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Size, E> {
                u64::try_from(v)
                    .map(Size)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Size, E> {
                Ok(Size(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Size, E> {
                parse_size(v).map(Size).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// `[scan]`: defaults for the flags of scanning commands.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanDefaults {
    /// `--format`.
    #[serde(default)]
    pub format: FormatName,
    /// `--exit-code`.
    #[serde(default = "default_exit_code")]
    pub exit_code: i32,
    /// `--max-file-size`.
    #[serde(default = "default_max_file_size")]
    pub max_file_size: Size,
    /// `--threads` (0: one per core).
    #[serde(default)]
    pub threads: usize,
    /// Added to `--exclude`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Added to `--glob`.
    #[serde(default)]
    pub glob: Vec<String>,
    /// `--no-ignore`.
    #[serde(default)]
    pub no_ignore: bool,
    /// Scan hidden files (false: `--no-hidden`).
    #[serde(default = "default_true")]
    pub hidden: bool,
    /// `--follow`.
    #[serde(default)]
    pub follow: bool,
    /// Honour inline markers (false: `--no-inline-ignores`).
    #[serde(default = "default_true")]
    pub inline_ignores: bool,
    /// `--show-suppressed`.
    #[serde(default)]
    pub show_suppressed: bool,
    /// Default `--baseline`, relative to the config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Spanned<String>>,
    /// The ignore file, relative to the config file.
    #[serde(default = "default_ignore_file")]
    pub ignore_file: String,
}

fn default_max_file_size() -> Size {
    Size(DEFAULT_MAX_FILE_SIZE)
}

impl Default for ScanDefaults {
    fn default() -> Self {
        ScanDefaults {
            format: FormatName::Text,
            exit_code: 1,
            max_file_size: default_max_file_size(),
            threads: 0,
            exclude: Vec::new(),
            glob: Vec::new(),
            no_ignore: false,
            hidden: true,
            follow: false,
            inline_ignores: true,
            show_suppressed: false,
            baseline: None,
            ignore_file: default_ignore_file(),
        }
    }
}

/// `[rules]`: which rules run, and how strictly.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSection {
    /// Extra rule files or directories (leaksweep or gitleaks format).
    #[serde(default)]
    pub files: Vec<Spanned<String>>,
    /// Rule ids to turn off.
    #[serde(default)]
    pub disable: Vec<Spanned<String>>,
    /// If set, only these rule ids run.
    #[serde(default)]
    pub only: Vec<Spanned<String>>,
    /// Minimum entropy per rule id (f64 so that `config show` prints what was written).
    #[serde(default)]
    pub entropy: BTreeMap<Spanned<String>, f64>,
}

/// A config as loaded: the values, and where they came from (for messages and for
/// resolving relative paths).
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The file, or `None` for the built-in defaults.
    pub path: Option<PathBuf>,
    /// The directory relative paths in the config are relative to.
    pub dir: PathBuf,
    /// The values.
    pub config: Config,
    text: String,
}

impl LoadedConfig {
    /// The built-in defaults, as if an empty config sat in `dir`.
    pub fn defaults(dir: &Path) -> LoadedConfig {
        LoadedConfig {
            path: None,
            dir: dir.to_path_buf(),
            config: Config::default(),
            text: String::new(),
        }
    }

    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<LoadedConfig, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Other(format!(
                "{}: cannot read the config: {e} (fix the path or drop --config)",
                path.display()
            ))
        })?;
        Self::parse(path, text)
    }

    /// Parses `text` as the config file `path`.
    pub fn parse(path: &Path, text: String) -> Result<LoadedConfig, Error> {
        let name = path.display().to_string();
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        let table: toml::Table =
            toml::from_str(&text).map_err(|e| Error::Other(toml_error(&name, &text, &e)))?;
        if let Some(v) = table.get("version").and_then(toml::Value::as_integer) {
            if v > i64::from(CONFIG_VERSION) {
                let line = find_key_line(&text, "version").unwrap_or(1);
                return Err(Error::Other(format!(
                    "{name}:{line}: config format version {v} is newer than this leaksweep \
                     understands (version {CONFIG_VERSION}); upgrade leaksweep"
                )));
            }
            if v < 1 {
                let line = find_key_line(&text, "version").unwrap_or(1);
                return Err(Error::Other(format!(
                    "{name}:{line}: bad value {v} for version (allowed: 1)"
                )));
            }
        }
        for (key, want) in [("allowlist", "[[allowlist]]"), ("rule", "[[rule]]")] {
            if table.get(key).is_some_and(toml::Value::is_table) {
                let line = find_header_line(&text, key).unwrap_or(1);
                return Err(Error::Other(format!(
                    "{name}:{line}: {key} must be an array of tables: write {want} (double \
                     brackets), one per entry"
                )));
            }
        }
        if table.get("rules").is_some_and(toml::Value::is_array) {
            let line = find_header_line(&text, "rules").unwrap_or(1);
            return Err(Error::Other(format!(
                "{name}:{line}: [[rules]] is the gitleaks format: extra leaksweep rules are \
                 [[rule]] tables, and a gitleaks rule file is listed in rules.files"
            )));
        }
        let config: Config =
            toml::from_str(&text).map_err(|e| Error::Other(toml_error(&name, &text, &e)))?;
        let dir = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."));
        let me = LoadedConfig {
            path: Some(path.to_path_buf()),
            dir: super::paths::absolute(dir),
            config,
            text,
        };
        let problems = me.static_problems();
        if !problems.is_empty() {
            return Err(Error::Other(problems.join("\n")));
        }
        Ok(me)
    }

    /// The file's name for messages (`.leaksweep.toml`, or `(built-in defaults)`).
    pub fn name(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "(built-in defaults)".into(), |p| p.display().to_string())
    }

    /// `file:line` for a span of the config text.
    pub fn at(&self, span: Range<usize>) -> String {
        format!("{}:{}", self.name(), line_of(&self.text, span.start))
    }

    /// A path written in the config, resolved against the config's directory.
    pub fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }

    /// Checks that need no rules: salt, entropy ranges, allowlist regexes and globs.
    fn static_problems(&self) -> Vec<String> {
        let c = &self.config;
        let mut out = Vec::new();
        if c.salt.is_empty() {
            out.push(format!(
                "{}:{}: salt is empty (remove the key for the default salt)",
                self.name(),
                find_key_line(&self.text, "salt").unwrap_or(1)
            ));
        }
        for (id, e) in &c.rules.entropy {
            if !(0.0..=8.0).contains(e) {
                out.push(format!(
                    "{}: bad value {e} for rules.entropy.{} (allowed: 0 to 8 bits per byte)",
                    self.at(id.span()),
                    id.get_ref()
                ));
            }
        }
        let labeled = self.allow_entries();
        for (label, entry) in &labeled {
            let one = vec![(label.clone(), entry.clone())];
            if let Err(e) = super::allow::Allowlists::new(
                &one,
                super::paths::PathMap::new(&self.dir, &self.dir),
            ) {
                out.push(e);
            }
        }
        out
    }

    /// The allowlist entries, each labelled `file:line`.
    pub fn allow_entries(&self) -> Vec<(String, AllowEntry)> {
        self.config
            .allowlists
            .iter()
            .map(|a| (self.at(a.span()), a.get_ref().clone()))
            .collect()
    }

    /// The effective config as TOML: every key, with the built-in defaults filled in.
    pub fn show(&self) -> Result<String, Error> {
        let body = toml::to_string_pretty(&self.config)
            .map_err(|e| Error::Other(format!("printing the config: {e}")))?;
        let from = match &self.path {
            Some(p) => format!("{} with the built-in defaults", p.display()),
            None => "no config file: the built-in defaults".to_string(),
        };
        Ok(format!(
            "# effective leaksweep configuration: {from}\n{body}"
        ))
    }
}

/// 1-based line of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> usize {
    let end = at.min(text.len());
    text.as_bytes()
        .get(..end)
        .map_or(0, |b| memchr::memchr_iter(b'\n', b).count())
        + 1
}

fn find_key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

fn find_header_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim();
            l == format!("[{key}]") || l == format!("[[{key}]]")
        })
        .map(|i| i + 1)
}

/// The key written on the line holding byte `at`, if the line is `key = value`.
fn key_on_line(text: &str, at: usize) -> Option<String> {
    let start = text
        .get(..at.min(text.len()))?
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text.get(start..)?.lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_string())
}

/// Turns a `toml` error into `file:line: message`, with serde's wording rewritten into the
/// config's terms (keys, allowed values).
pub fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> String {
    let at = e.span().map_or(0, |s| s.start);
    let line = line_of(text, at);
    let msg = e.message().trim();
    let list = |s: &str| -> String {
        s.replace("expected one of ", "")
            .replace("expected ", "")
            .replace(" or ", ", ")
            .replace('`', "")
    };
    let out = if let Some(rest) = msg.strip_prefix("unknown field `") {
        let (name, tail) = rest.split_once('`').unwrap_or((rest, ""));
        let tail = tail.trim_start_matches(',').trim();
        let hint = if name == "rules" || name == "allowlists" {
            " (a gitleaks config? list it under rules.files instead)"
        } else {
            ""
        };
        if tail.starts_with("there are no fields") {
            format!("unknown key \"{name}\" (no keys are allowed here){hint}")
        } else {
            format!("unknown key \"{name}\" (allowed: {}){hint}", list(tail))
        }
    } else if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let (value, tail) = rest.split_once('`').unwrap_or((rest, ""));
        let tail = list(tail.trim_start_matches(',').trim());
        match key_on_line(text, at) {
            Some(k) => format!("bad value \"{value}\" for {k} (allowed: {tail})"),
            None => format!("bad value \"{value}\" (allowed: {tail})"),
        }
    } else {
        match key_on_line(text, at) {
            Some(k) => format!("bad value for {k}: {msg}"),
            None => msg.to_string(),
        }
    };
    format!("{file}:{line}: {out}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LoadedConfig, String> {
        LoadedConfig::parse(Path::new(".leaksweep.toml"), text.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_values() {
        let c = parse("").unwrap();
        assert_eq!(c.config.scan.max_file_size, Size(100 << 20));
        assert!(c.config.scan.hidden);
        let c = parse(
            "[scan]\nformat = \"json\"\nmax_file_size = \"2M\"\n[rules]\ndisable = [\"x\"]\n\
             [rules.entropy]\ngeneric-secret-assignment = 4.0\n[[allowlist]]\npaths = [\"t/\"]\n",
        )
        .unwrap();
        assert_eq!(c.config.scan.format, FormatName::Json);
        assert_eq!(c.config.scan.max_file_size, Size(2 << 20));
        assert_eq!(c.config.rules.disable[0].get_ref(), "x");
        assert_eq!(c.config.allowlists.len(), 1);
        let e = parse("[allowlist]\nstopwords = [\"sample\"]\n").unwrap_err();
        assert!(
            e.starts_with(".leaksweep.toml:1: allowlist must be an array"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_line_key_and_allowed() {
        let e = parse("version = 1\n\n[scan]\nformat = \"text\"\nexlude = []\n").unwrap_err();
        assert!(
            e.starts_with(".leaksweep.toml:5: unknown key \"exlude\" (allowed: "),
            "{e}"
        );
        assert!(e.contains("exclude"), "{e}");
        let e = parse("alowlist = 3\n").unwrap_err();
        assert!(
            e.starts_with(".leaksweep.toml:1: unknown key \"alowlist\""),
            "{e}"
        );
        assert!(e.contains("allowlist"), "{e}");
        let e = parse("[scan]\nformat = \"jsn\"\n").unwrap_err();
        assert_eq!(
            e,
            ".leaksweep.toml:2: bad value \"jsn\" for format (allowed: text, json, jsonl, sarif)"
        );
        let e = parse("[scan]\nmax_file_size = \"12Q\"\n").unwrap_err();
        assert!(
            e.starts_with(".leaksweep.toml:2: bad value for max_file_size"),
            "{e}"
        );
        let e = parse("[[allowlist]]\ntarget = \"secret\"\n").unwrap_err();
        assert!(
            e.starts_with(".leaksweep.toml:1: allowlist entry has nothing"),
            "{e}"
        );
        let e = parse("[[allowlist]]\nregexes = ['(unclosed']\n").unwrap_err();
        assert!(e.starts_with(".leaksweep.toml:1: regex"), "{e}");
        let e = parse("[rules.entropy]\nx = 9.5\n").unwrap_err();
        assert!(e.starts_with(".leaksweep.toml:2: bad value 9.5"), "{e}");
        let e = parse("version = 2\n").unwrap_err();
        assert!(e.contains("newer"), "{e}");
        let e = parse("[[rules]]\nid = \"x\"\n").unwrap_err();
        assert!(e.contains("rules.files"), "{e}");
        let e = parse("[scan\n").unwrap_err();
        assert!(e.starts_with(".leaksweep.toml:1:"), "{e}");
    }

    #[test]
    fn show_round_trips() {
        let c = parse("[rules]\ndisable = [\"x\"]\n[[allowlist]]\npaths = [\"t/\"]\n").unwrap();
        let shown = c.show().unwrap();
        assert!(shown.contains("max_file_size = \"100M\""), "{shown}");
        let again = parse(&shown).unwrap();
        assert_eq!(again.config.rules.disable[0].get_ref(), "x");
        assert_eq!(again.config.allowlists.len(), 1);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10K"), Ok(10 << 10));
        assert_eq!(format_size(100 << 20), "100M");
        assert_eq!(format_size(1000), "1000");
        assert!(parse_size("x").is_err());
    }
}
