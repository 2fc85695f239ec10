//! A project (its root and config) and the rules a scan of it runs.
//!
//! Rule resolution is policy every command shares: built-in rules, then the config's rule
//! files and extra rules, then the user's rule files (a later rule with an earlier one's
//! id replaces it), then the choice of `--only` / `--disable` or the config's `rules`
//! section, then entropy floors; with the allowlists of the config, of gitleaks rule
//! files, and an implicit one for the files that hold rule examples. Unknown rule ids
//! are errors naming the config line; nothing here prints.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::Engine;
use crate::error::Error;
use crate::rules::{self, LoadedRule};
use crate::scan::ScanContext;

use super::allow::{AllowEntry, Allowlists};
use super::baseline::Baseline;
use super::config::LoadedConfig;
use super::gitleaks_rules;
use super::ignorefile::IgnoreFile;
use super::paths::{self as tpaths, PathMap};
use super::Triage;

/// A project: its root and its config (the built-in defaults if it has none).
#[derive(Debug, Clone)]
pub struct Project {
    /// The project root: where `.leaksweep.toml` or `.git` is.
    pub root: PathBuf,
    /// The config.
    pub config: LoadedConfig,
}

impl Project {
    /// The project of a scan of `start`, with its config; `config` (a `--config` file)
    /// wins over the root's `.leaksweep.toml`.
    pub fn load(config: Option<&Path>, start: &Path) -> Result<Project, Error> {
        let root = tpaths::discover_root(start);
        let config = match config {
            Some(p) => LoadedConfig::load(p)?,
            None => {
                let p = root.join(tpaths::CONFIG_FILE);
                if p.is_file() {
                    LoadedConfig::load(&p)?
                } else {
                    LoadedConfig::defaults(&root)
                }
            }
        };
        Ok(Project { root, config })
    }

    /// No project: the current directory with the built-in config (commands that take
    /// rules but no project, such as `redact`).
    pub fn none() -> Project {
        Project {
            root: PathBuf::from("."),
            config: LoadedConfig::defaults(Path::new(".")),
        }
    }
}

/// The triage files a scan names on its command line (`--ignore-file`, `--baseline`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TriageFiles<'a> {
    /// Accepted fingerprints, instead of the config's `scan.ignore_file`; must exist.
    pub ignore_file: Option<&'a Path>,
    /// A baseline, instead of the config's `scan.baseline`.
    pub baseline: Option<&'a Path>,
    /// Do not apply the config's `scan.baseline` (for commands that write it).
    pub skip_config_baseline: bool,
}

/// Everything a scanning command needs from the project: the scan context (rules,
/// salt, inline and allowlist settings) and the after-scan triage (ignore file,
/// baseline).
#[derive(Debug)]
pub struct Prepared {
    /// The scan context.
    pub ctx: ScanContext,
    /// Ignore file and baseline; call `triage.apply(&mut outcome)` before reporting.
    pub triage: Triage,
    /// The project.
    pub project: Project,
}

impl Project {
    /// The scan context and the triage of a scan of this project with the rules `set`:
    /// the config's salt and inline-marker setting (`no_inline_ignores` turns markers off
    /// whatever the config says), the allowlists, the ignore file and the baseline.
    /// Finding paths are relative to `base`. Every file is read here, before any
    /// scanning, and a bad one is an error naming file and line.
    pub fn prepare(
        self,
        set: RuleSet,
        base: &Path,
        no_inline_ignores: bool,
        files: &TriageFiles<'_>,
    ) -> Result<Prepared, Error> {
        let engine = build_engine(set.rules)?;
        let cfg = &self.config;
        let paths = PathMap::new(&self.root, base);
        let mut ctx = ScanContext::new(engine);
        ctx.salt = cfg.config.salt.as_bytes().to_vec();
        ctx.inline_ignores = !no_inline_ignores && cfg.config.scan.inline_ignores;
        if !set.allowlists.is_empty() {
            let lists = Allowlists::new(&set.allowlists, paths.clone()).map_err(Error::Other)?;
            ctx.allowlist = Some(Arc::new(lists));
        }
        let ignore = match files.ignore_file {
            Some(p) => Some(IgnoreFile::load(p)?.ok_or_else(|| {
                Error::Other(format!(
                    "{}: ignore file not found (fix the path)",
                    p.display()
                ))
            })?),
            None => IgnoreFile::load(&cfg.resolve(&cfg.config.scan.ignore_file))?,
        };
        let baseline = match (files.baseline, &cfg.config.scan.baseline) {
            (Some(p), _) => Some(Baseline::load(p)?),
            (None, Some(b)) if !files.skip_config_baseline => {
                Some(Baseline::load(&cfg.resolve(b.get_ref())).map_err(|e| {
                    Error::Other(format!(
                        "the baseline named by scan.baseline at {}: {e}",
                        cfg.at(b.span())
                    ))
                })?)
            }
            (None, _) => None,
        };
        let triage = Triage {
            paths,
            salt: ctx.salt.clone(),
            ignore,
            baseline,
        };
        Ok(Prepared {
            ctx,
            triage,
            project: self,
        })
    }
}

/// Builds the engine, turning rule problems into one error that lists them all.
pub fn build_engine(rules: Vec<LoadedRule>) -> Result<Arc<Engine>, Error> {
    Engine::new(rules).map(Arc::new).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        Error::Other(format!("invalid rules:\n  {}", list.join("\n  ")))
    })
}

/// The user's choice of rules (`--rules`, `--only`, `--disable`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleChoice<'a> {
    /// Rule files or directories to add.
    pub files: &'a [PathBuf],
    /// Run only these rule ids (empty: the config's `rules.only`, else all).
    pub only: &'a [String],
    /// Disable these rule ids (added to the config's `rules.disable`).
    pub disable: &'a [String],
}

/// Loads a rule file or directory in leaksweep or gitleaks format; `note` hears what
/// cannot be honoured.
pub fn load_rule_path(
    p: &Path,
    note: &mut dyn FnMut(&str),
) -> Result<gitleaks_rules::Loaded, Error> {
    let loaded = gitleaks_rules::load_path(p).map_err(|e| {
        Error::Other(format!(
            "loading rules from {} (fix the file): {e}",
            p.display()
        ))
    })?;
    for n in &loaded.notes {
        note(n);
    }
    Ok(loaded)
}

/// Rules and allowlists for a scan: built-in rules, the config's rule files and extra
/// rules, `--rules` files, then `--only`/`--disable`, the config's `rules` section and
/// entropy floors.
#[derive(Debug, Default)]
pub struct RuleSet {
    /// The rules, in load order.
    pub rules: Vec<LoadedRule>,
    /// Allowlists from the config and from gitleaks rule files, labelled.
    pub allowlists: Vec<(String, AllowEntry)>,
}

/// Resolves the rules of `project` for `choice` (see [`RuleSet`]). `note` hears, in
/// order, what a reader should know but is no error: a rule file's constructs that
/// cannot be honoured, a rule replaced by a later one with its id, foreign rule ids and
/// allowlists that do not apply.
pub fn resolve_rules(
    project: &Project,
    choice: &RuleChoice<'_>,
    note: &mut dyn FnMut(&str),
) -> Result<RuleSet, Error> {
    let cfg = &project.config;
    let c = &cfg.config;
    let mut all =
        rules::load_builtin().map_err(|e| Error::Other(format!("loading built-in rules: {e}")))?;
    let mut allowlists = Vec::new();
    let mut foreign_disabled = Vec::new();
    for f in &c.rules.files {
        let p = cfg.resolve(f.get_ref());
        let loaded = load_rule_path(&p, note).map_err(|e| {
            Error::Other(format!(
                "{}: rules.files entry {:?}: {e}",
                cfg.at(f.span()),
                f.get_ref()
            ))
        })?;
        all.extend(loaded.rules);
        allowlists.extend(loaded.allowlists);
        foreign_disabled.extend(loaded.disabled);
    }
    for r in &c.extra_rules {
        all.push(LoadedRule {
            spec: r.get_ref().clone(),
            origin: cfg.at(r.span()),
        });
    }
    for p in choice.files {
        let loaded = load_rule_path(p, note)
            .map_err(|e| Error::Other(format!("fix the file or drop --rules: {e}")))?;
        all.extend(loaded.rules);
        allowlists.extend(loaded.allowlists);
        foreign_disabled.extend(loaded.disabled);
    }
    // A later rule with the id of an earlier one replaces it (a project may redefine a
    // built-in rule), and says so.
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut keep = vec![true; all.len()];
    for (i, r) in all.iter().enumerate() {
        if let Some(prev) = seen.insert(r.spec.id.clone(), i) {
            if let (Some(k), Some(old)) = (keep.get_mut(prev), all.get(prev)) {
                *k = false;
                note(&format!(
                    "rule {} from {} replaces the one from {}",
                    r.spec.id, r.origin, old.origin
                ));
            }
        }
    }
    let mut flags = keep.into_iter();
    all.retain(|_| flags.next().unwrap_or(true));
    let ids: std::collections::HashSet<String> = all.iter().map(|r| r.spec.id.clone()).collect();
    let known = |id: &str| ids.contains(id);
    let mut problems = Vec::new();
    for id in choice.only.iter().chain(choice.disable) {
        if !known(id) {
            return Err(Error::Other(format!(
                "unknown rule id {id:?} (see `leaksweep rules list`)"
            )));
        }
    }
    for id in c.rules.disable.iter().chain(&c.rules.only) {
        if !known(id.get_ref()) {
            problems.push(format!(
                "{}: unknown rule id {:?} (see `leaksweep rules list`)",
                cfg.at(id.span()),
                id.get_ref()
            ));
        }
    }
    for id in c.rules.entropy.keys() {
        if !known(id.get_ref()) {
            problems.push(format!(
                "{}: unknown rule id {:?} in rules.entropy (see `leaksweep rules list`)",
                cfg.at(id.span()),
                id.get_ref()
            ));
        }
    }
    for a in &c.allowlists {
        for id in &a.get_ref().rules {
            if !known(id) {
                problems.push(format!(
                    "{}: allowlist names unknown rule id {id:?} (see `leaksweep rules list`)",
                    cfg.at(a.span())
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::Other(problems.join("\n")));
    }
    for id in &foreign_disabled {
        if !known(id) {
            note(&format!(
                "disabledRules: {id:?} is not a leaksweep rule id: ignored"
            ));
        }
    }
    let only: Vec<&str> = if choice.only.is_empty() {
        c.rules.only.iter().map(|s| s.get_ref().as_str()).collect()
    } else {
        choice.only.iter().map(String::as_str).collect()
    };
    if !only.is_empty() {
        all.retain(|r| only.contains(&r.spec.id.as_str()));
    }
    all.retain(|r| {
        !choice.disable.contains(&r.spec.id)
            && !c.rules.disable.iter().any(|d| d.get_ref() == &r.spec.id)
            && !foreign_disabled.contains(&r.spec.id)
    });
    for (id, e) in &c.rules.entropy {
        // Checked to lie in 0..=8 when the config was read: it fits an f32.
        #[allow(clippy::cast_possible_truncation)]
        let e = *e as f32;
        for r in all.iter_mut().filter(|r| &r.spec.id == id.get_ref()) {
            r.spec.entropy = Some(e);
        }
    }
    let mut labelled = cfg.allow_entries();
    // Files that define rules hold their examples: the config itself and the rule files
    // it lists. Findings there are suppressed as `allowlist` (counted, and listed by
    // --show-suppressed), as gitleaks skips its own config.
    let mut own: Vec<PathBuf> = cfg.path.iter().cloned().collect();
    own.extend(c.rules.files.iter().map(|f| cfg.resolve(f.get_ref())));
    let map = PathMap::new(&project.root, &project.root);
    let own: Vec<String> = own
        .iter()
        .map(|p| map.rel(&tpaths::absolute(p).to_string_lossy()))
        .filter(|r| !r.starts_with('/') && !r.starts_with(".."))
        .map(|r| format!("/{r}"))
        .collect();
    if !own.is_empty() {
        labelled.push((
            format!("{} (implicit)", cfg.name()),
            AllowEntry {
                description: Some(
                    "the project config and its rule files hold rule examples".into(),
                ),
                paths: own,
                ..AllowEntry::default()
            },
        ));
    }
    // Allowlists of foreign files that target rules leaksweep does not have never apply.
    allowlists.retain(|(label, a): &(String, AllowEntry)| {
        let missing: Vec<&String> = a.rules.iter().filter(|id| !known(id)).collect();
        if !missing.is_empty() && missing.len() == a.rules.len() {
            note(&format!(
                "{label}: targets rules leaksweep does not have ({}): not used",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return false;
        }
        true
    });
    labelled.extend(allowlists);
    Ok(RuleSet {
        rules: all,
        allowlists: labelled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXTRA: &str = r#"
[[rule]]
id = "acme-token"
name = "Acme token"
keywords = ["acme_"]
regex = '''\b(acme_[A-Za-z0-9]{24})\b'''
examples = ["acme_Zq8r2mV9xK4tW7pL0a1b2c3d"]
negative_examples = ["acme_"]
"#;

    /// A project whose `.leaksweep.toml` (in a temporary root) holds `text`.
    fn project(text: &str) -> (tempfile::TempDir, Project) {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join(".leaksweep.toml");
        std::fs::write(&path, text).unwrap();
        let p = Project::load(None, t.path()).unwrap();
        (t, p)
    }

    fn ids(set: &RuleSet) -> Vec<&str> {
        set.rules.iter().map(|r| r.spec.id.as_str()).collect()
    }

    fn resolve(p: &Project, choice: &RuleChoice<'_>) -> (Result<RuleSet, Error>, Vec<String>) {
        let mut notes = Vec::new();
        let r = resolve_rules(p, choice, &mut |n| notes.push(n.to_string()));
        (r, notes)
    }

    #[test]
    fn config_rules_disable_only_and_entropy_apply() {
        let text = format!(
            "[rules]\ndisable = [\"github-pat-classic\"]\n[rules.entropy]\nacme-token = 3.5\n{EXTRA}"
        );
        let (_t, p) = project(&text);
        let (set, notes) = resolve(&p, &RuleChoice::default());
        let set = set.unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        let all = ids(&set);
        assert!(all.contains(&"acme-token") && !all.contains(&"github-pat-classic"));
        assert!(all.len() > 100, "the built-in rules stay: {}", all.len());
        let acme = set
            .rules
            .iter()
            .find(|r| r.spec.id == "acme-token")
            .unwrap();
        assert_eq!(acme.spec.entropy, Some(3.5));
        // The config holds rule examples: it is allowlisted for its own findings.
        assert!(set
            .allowlists
            .iter()
            .any(|(label, a)| label.contains("(implicit)") && a.paths == ["/.leaksweep.toml"]));

        // --only wins over everything else, and still cannot revive a disabled rule.
        let only = ["acme-token".to_string(), "github-pat-classic".to_string()];
        let choice = RuleChoice {
            only: &only,
            ..RuleChoice::default()
        };
        assert_eq!(ids(&resolve(&p, &choice).0.unwrap()), ["acme-token"]);
    }

    #[test]
    fn unknown_rule_ids_are_errors_naming_the_config_line() {
        let (_t, p) = project("[rules]\n\ndisable = [\"no-such-rule\"]\n");
        let e = resolve(&p, &RuleChoice::default())
            .0
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(".leaksweep.toml:3: unknown rule id \"no-such-rule\""),
            "{e}"
        );
        let (_t, p) = project("");
        let disable = ["nope".to_string()];
        let choice = RuleChoice {
            disable: &disable,
            ..RuleChoice::default()
        };
        let e = resolve(&p, &choice).0.unwrap_err().to_string();
        assert_eq!(e, "unknown rule id \"nope\" (see `leaksweep rules list`)");
    }

    #[test]
    fn prepare_applies_the_config_and_checks_named_files() {
        let text = format!("salt = \"acme\"\n[scan]\ninline_ignores = false\n{EXTRA}");
        let (t, p) = project(&text);
        let set = resolve(&p, &RuleChoice::default()).0.unwrap();
        let prep = p
            .clone()
            .prepare(set, t.path(), false, &TriageFiles::default())
            .unwrap();
        assert_eq!(prep.ctx.salt, b"acme");
        assert_eq!(prep.triage.salt, b"acme");
        assert!(!prep.ctx.inline_ignores);
        // The implicit allowlist of the config's own examples.
        assert!(prep.ctx.allowlist.is_some());
        assert!(prep.triage.ignore.is_none() && prep.triage.baseline.is_none());

        let gone = t.path().join("gone.ignore");
        let files = TriageFiles {
            ignore_file: Some(&gone),
            ..TriageFiles::default()
        };
        let set = resolve(&p, &RuleChoice::default()).0.unwrap();
        let e = p.prepare(set, t.path(), false, &files).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: ignore file not found (fix the path)", gone.display())
        );
    }

    #[test]
    fn a_baseline_the_config_names_is_checked_unless_skipped() {
        let (t, p) = project("[scan]\nbaseline = \"missing.json\"\n");
        let set = || resolve(&p, &RuleChoice::default()).0.unwrap();
        let e = p
            .clone()
            .prepare(set(), t.path(), false, &TriageFiles::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("the baseline named by scan.baseline at ")
                && e.contains(".leaksweep.toml:2: "),
            "{e}"
        );
        let files = TriageFiles {
            skip_config_baseline: true,
            ..TriageFiles::default()
        };
        let prep = p.clone().prepare(set(), t.path(), false, &files).unwrap();
        assert!(prep.triage.baseline.is_none());
    }

    #[test]
    fn a_later_rule_replaces_an_earlier_one_and_says_so() {
        let (t, p) = project(EXTRA);
        let file = t.path().join("more.toml");
        std::fs::write(&file, EXTRA.replace("Acme token", "Acme token, again")).unwrap();
        let files = [file];
        let choice = RuleChoice {
            files: &files,
            ..RuleChoice::default()
        };
        let (set, notes) = resolve(&p, &choice);
        let set = set.unwrap();
        let acme: Vec<&LoadedRule> = set
            .rules
            .iter()
            .filter(|r| r.spec.id == "acme-token")
            .collect();
        assert_eq!(acme.len(), 1);
        assert_eq!(acme[0].spec.name, "Acme token, again");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with("rule acme-token from "), "{notes:?}");
    }
}
