//! From a command's flags to the library's project setup: the project, its rules and
//! the scan context and triage of a scan ([`crate::triage::project`] holds the policy;
//! this module prints its notes and applies the config's defaults to output flags).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::bail;

use crate::engine::Engine;
use crate::rules::LoadedRule;
use crate::scan::ScanContext;
use crate::triage::config::ScanDefaults;
use crate::triage::gitleaks_rules;
use crate::triage::project::{self, RuleChoice, TriageFiles};

use super::args::{ConfigArgs, OutputArgs, RuleArgs, TriageArgs};

/// Moved to [`super::output`]; these paths are kept for the command modules that still
/// call them through `common`.
pub use super::output::{finish, skip_printer};
pub use crate::triage::project::{Prepared, Project, RuleSet};

/// Finds the project of a scan of `start` and loads its config (`--config` wins).
pub fn load_project(args: &ConfigArgs, start: &Path) -> anyhow::Result<Project> {
    Ok(Project::load(args.config.as_deref(), start)?)
}

/// The directory a scan's first path starts the project search from.
pub fn start_dir(paths: &[PathBuf]) -> PathBuf {
    match paths.first() {
        Some(p) if p.as_os_str() != "-" => p.clone(),
        _ => PathBuf::from("."),
    }
}

/// Prints a note of rule loading on stderr.
fn print_note(n: &str) {
    eprintln!("leaksweep: note: {n}");
}

/// Loads a rule file or directory in leaksweep or gitleaks format, printing on stderr
/// what cannot be honoured.
pub fn load_rule_path(p: &Path) -> anyhow::Result<gitleaks_rules::Loaded> {
    Ok(project::load_rule_path(p, &mut print_note)?)
}

/// Loads built-in and user rules and applies `--only`/`--disable` (without a project
/// config; see [`load_project_rules`]).
pub fn load_rules(args: &RuleArgs) -> anyhow::Result<Vec<LoadedRule>> {
    Ok(load_project_rules(args, &Project::none())?.rules)
}

/// Loads the rules of a project ([`project::resolve_rules`]), notes on stderr.
pub fn load_project_rules(args: &RuleArgs, project: &Project) -> anyhow::Result<RuleSet> {
    let choice = RuleChoice {
        files: &args.rules,
        only: &args.only,
        disable: &args.disable,
    };
    Ok(project::resolve_rules(project, &choice, &mut print_note)?)
}

/// Where the relative paths of a scan's findings start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathsFrom {
    /// The current directory (`scan`: paths as given on the command line).
    CurrentDir,
    /// The project root (history scans: paths inside the repository).
    Root,
}

/// Sets up a scan of `start` (a scanned path; the project is found from it): loads the
/// config, the rules, the allowlists, the ignore file and the baseline
/// ([`Project::prepare`]).
pub fn prepare(
    rules_args: &RuleArgs,
    triage: &TriageArgs,
    no_inline_ignores: bool,
    start: &Path,
    from: PathsFrom,
) -> anyhow::Result<Prepared> {
    // A named directory that cannot be listed is reported as itself, before the project
    // files inside it (`.leaksweepignore`) would be.
    if let Some(e) = crate::pipeline::named_path_error(start).filter(|_| start.is_dir()) {
        bail!("{e}");
    }
    let project = load_project(&triage.config, start)?;
    let set = load_project_rules(rules_args, &project)?;
    let base = match from {
        PathsFrom::CurrentDir => std::env::current_dir().unwrap_or_else(|_| project.root.clone()),
        PathsFrom::Root => project.root.clone(),
    };
    let files = TriageFiles {
        ignore_file: triage.ignore_file.as_deref(),
        baseline: triage.baseline.as_deref(),
        skip_config_baseline: triage.skip_config_baseline,
    };
    let prepared = project.prepare(set, &base, no_inline_ignores, &files)?;
    keep_until_exit(&prepared.ctx.engine);
    Ok(prepared)
}

/// Keeps the engine alive until the process exits. A command builds one engine and
/// exits when its scan is done; dropping the engine then frees every compiled rule (each
/// regex a tree of many small blocks) on one thread while the other cores idle: 7 ms of
/// a 250 ms directory scan. The operating system takes the memory back at exit anyway,
/// and the engine holds nothing else (no files, no connections) that needs closing.
fn keep_until_exit(engine: &Arc<Engine>) {
    std::mem::forget(Arc::clone(engine));
}

/// Applies the config's `[scan]` defaults to output flags the command line left alone.
pub fn apply_output_defaults(out: &mut OutputArgs, d: &ScanDefaults) {
    if !out.given.has("format") {
        out.format = d.format.format();
    }
    if !out.given.has("exit_code") {
        out.exit_code = d.exit_code;
    }
    if !out.given.has("threads") {
        out.threads = d.threads;
    }
    out.show_suppressed |= d.show_suppressed;
    out.no_inline_ignores |= !d.inline_ignores;
}

/// Builds the engine, turning rule problems into one error that lists them all.
pub fn build_engine(rules: Vec<LoadedRule>) -> anyhow::Result<Arc<Engine>> {
    let engine = project::build_engine(rules)?;
    keep_until_exit(&engine);
    Ok(engine)
}

/// Builds a scan context from the flags and the config of the project around the
/// current directory (rules and allowlists; no ignore file or baseline). Scanning commands
/// use [`prepare`], which also returns the after-scan [`crate::triage::Triage`].
pub fn context(rules: &RuleArgs, out: &OutputArgs) -> anyhow::Result<ScanContext> {
    let p = prepare(
        rules,
        &TriageArgs::default(),
        out.no_inline_ignores,
        Path::new("."),
        PathsFrom::CurrentDir,
    )?;
    Ok(p.ctx)
}
