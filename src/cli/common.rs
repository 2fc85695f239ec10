//! Flags shared by every scanning command (`scan`, `git`, ...) and the code that turns
//! them into an engine, a report and an exit code.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, ValueEnum};

use crate::engine::Engine;
use crate::finding::Skipped;
use crate::pipeline::ScanOutcome;
use crate::report::{self, Format, Report, ReportOptions};
use crate::rules::{self, LoadedRule};
use crate::scan::ScanContext;
use crate::triage::allow::{AllowEntry, Allowlists};
use crate::triage::baseline::Baseline;
use crate::triage::config::{LoadedConfig, ScanDefaults};
use crate::triage::ignorefile::IgnoreFile;
use crate::triage::paths::{self as tpaths, PathMap};
use crate::triage::{gitleaks_rules, Triage};

use super::{EXIT_CLEAN, EXIT_ERROR};

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Rule selection flags.
#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    /// Add user rules from a TOML file or a directory of them (repeatable). gitleaks and
    /// betterleaks rule files are translated; what cannot be honoured is named on stderr.
    #[arg(long = "rules", value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,
    /// Run only these rule ids (comma-separated or repeated).
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Disable these rule ids (comma-separated or repeated).
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub disable: Vec<String>,
}

/// Output and exit-code flags.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Report format.
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE (created with mode 0600) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets whole. Off by default: reports show a short prefix and `…`.
    #[arg(long)]
    pub show_secrets: bool,
    /// Also list suppressed findings (inline markers, ignore file, baseline, allowlists).
    #[arg(long)]
    pub show_suppressed: bool,
    /// Ignore inline markers (`leaksweep:allow`, `gitleaks:allow`, ...), for audits.
    #[arg(long)]
    pub no_inline_ignores: bool,
    /// Exit code when findings are reported.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub exit_code: i32,
    /// Print nothing on stderr unless something was found or went wrong.
    #[arg(short, long)]
    pub quiet: bool,
    /// Name every skipped file on stderr (binary files included).
    #[arg(short, long)]
    pub verbose: bool,
    /// Colour text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

/// Resource limits shared by every scanning command, so that one hostile file or blob
/// cannot stall a CI gate or flood its report. A limit that bites is named on stderr and
/// counted in the summary's skipped items (`findings-capped`, `timeout`).
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Keep at most N findings per file or blob, the first by position (0: no cap).
    #[arg(long, value_name = "N", default_value_t = crate::scan::DEFAULT_MAX_FINDINGS_PER_FILE)]
    pub max_findings_per_file: usize,
    /// Stop scanning a file or blob after SECS seconds, at a chunk boundary (0: no limit).
    #[arg(long, value_name = "SECS", default_value_t = crate::scan::DEFAULT_FILE_TIMEOUT.as_secs_f64())]
    pub file_timeout: f64,
    /// Chunk size in bytes for large inputs (for tests of chunk-size independence).
    #[arg(long, hide = true, value_name = "BYTES", value_parser = super::scan::parse_size)]
    pub chunk_size: Option<u64>,
}

impl LimitArgs {
    /// Applies the limits to a scan context.
    pub fn apply(&self, ctx: &mut ScanContext) -> anyhow::Result<()> {
        if !(self.file_timeout.is_finite() && self.file_timeout >= 0.0) {
            bail!("--file-timeout must be a number of seconds, 0 or more");
        }
        ctx.limits = crate::scan::Limits {
            max_findings_per_file: self.max_findings_per_file,
            file_timeout: (self.file_timeout > 0.0)
                .then(|| std::time::Duration::try_from_secs_f64(self.file_timeout).ok())
                .flatten(),
            ..ctx.limits
        };
        if let Some(c) = self.chunk_size {
            // Below the longest match span the overlap logic still holds, but tiny chunks
            // only make scans slow: 1 KiB is the floor.
            ctx.chunk_size = usize::try_from(c).unwrap_or(usize::MAX).max(1024);
        }
        Ok(())
    }
}

/// The project config flag, shared by every command that reads the config.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// Read the project config from FILE instead of `.leaksweep.toml` at the project root
    /// (the nearest parent of the scanned path holding `.leaksweep.toml` or `.git`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Triage flags shared by every scanning command: config, ignore file, baseline.
#[derive(Debug, Clone, Default, Args)]
pub struct TriageArgs {
    /// Project config.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Report only findings that are not in this baseline (`leaksweep baseline create`).
    /// Default: `scan.baseline` of the config, if set.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Accepted fingerprints, instead of the project's `.leaksweepignore`.
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// Do not apply the config's `scan.baseline` (for commands that write it).
    #[arg(skip)]
    pub skip_config_baseline: bool,
}

/// A project: its root and its config (the built-in defaults if it has none).
#[derive(Debug, Clone)]
pub struct Project {
    /// The project root: where `.leaksweep.toml` or `.git` is.
    pub root: PathBuf,
    /// The config.
    pub config: LoadedConfig,
}

/// Finds the project of a scan of `start` and loads its config (`--config` wins).
pub fn load_project(args: &ConfigArgs, start: &Path) -> anyhow::Result<Project> {
    let root = tpaths::discover_root(start);
    let config = match &args.config {
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

/// The directory a scan's first path starts the project search from.
pub fn start_dir(paths: &[PathBuf]) -> PathBuf {
    match paths.first() {
        Some(p) if p.as_os_str() != "-" => p.clone(),
        _ => PathBuf::from("."),
    }
}

/// Prints notes about rule files (what could not be honoured) on stderr.
fn print_notes(notes: &[String]) {
    for n in notes {
        eprintln!("leaksweep: note: {n}");
    }
}

/// Loads a rule file or directory in leaksweep or gitleaks format, printing on stderr
/// what cannot be honoured.
pub fn load_rule_path(p: &Path) -> anyhow::Result<gitleaks_rules::Loaded> {
    let loaded = gitleaks_rules::load_path(p)
        .with_context(|| format!("loading rules from {} (fix the file)", p.display()))?;
    print_notes(&loaded.notes);
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

/// Loads built-in and user rules and applies `--only`/`--disable` (without a project
/// config; see [`load_project_rules`]).
pub fn load_rules(args: &RuleArgs) -> anyhow::Result<Vec<LoadedRule>> {
    let project = Project {
        root: PathBuf::from("."),
        config: LoadedConfig::defaults(Path::new(".")),
    };
    Ok(load_project_rules(args, &project)?.rules)
}

/// Loads the rules of a project (see [`RuleSet`]).
pub fn load_project_rules(args: &RuleArgs, project: &Project) -> anyhow::Result<RuleSet> {
    let cfg = &project.config;
    let c = &cfg.config;
    let mut all = rules::load_builtin().context("loading built-in rules")?;
    let mut allowlists = Vec::new();
    let mut foreign_disabled = Vec::new();
    for f in &c.rules.files {
        let p = cfg.resolve(f.get_ref());
        let loaded = load_rule_path(&p).with_context(|| {
            format!("{}: rules.files entry {:?}", cfg.at(f.span()), f.get_ref())
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
    for p in &args.rules {
        let loaded = load_rule_path(p).context("fix the file or drop --rules")?;
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
                eprintln!(
                    "leaksweep: note: rule {} from {} replaces the one from {}",
                    r.spec.id, r.origin, old.origin
                );
            }
        }
    }
    let mut flags = keep.into_iter();
    all.retain(|_| flags.next().unwrap_or(true));
    let ids: std::collections::HashSet<String> = all.iter().map(|r| r.spec.id.clone()).collect();
    let known = |id: &str| ids.contains(id);
    let mut problems = Vec::new();
    for id in args.only.iter().chain(&args.disable) {
        if !known(id) {
            bail!("unknown rule id {id:?} (see `leaksweep rules list`)");
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
        bail!("{}", problems.join("\n"));
    }
    for id in &foreign_disabled {
        if !known(id) {
            eprintln!("leaksweep: note: disabledRules: {id:?} is not a leaksweep rule id: ignored");
        }
    }
    let only: Vec<&str> = if args.only.is_empty() {
        c.rules.only.iter().map(|s| s.get_ref().as_str()).collect()
    } else {
        args.only.iter().map(String::as_str).collect()
    };
    if !only.is_empty() {
        all.retain(|r| only.contains(&r.spec.id.as_str()));
    }
    all.retain(|r| {
        !args.disable.contains(&r.spec.id)
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
            eprintln!(
                "leaksweep: note: {label}: targets rules leaksweep does not have ({}): not used",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
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

/// Where the relative paths of a scan's findings start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathsFrom {
    /// The current directory (`scan`: paths as given on the command line).
    CurrentDir,
    /// The project root (history scans: paths inside the repository).
    Root,
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

/// Sets up a scan of `start` (a scanned path; the project is found from it): loads the
/// config, the rules, the allowlists, the ignore file and the baseline. Every file is
/// checked here, before any scanning, and a bad one is an error naming file and line.
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
    let engine = build_engine(set.rules)?;
    let cfg = &project.config;
    let base = match from {
        PathsFrom::CurrentDir => std::env::current_dir().unwrap_or_else(|_| project.root.clone()),
        PathsFrom::Root => project.root.clone(),
    };
    let paths = PathMap::new(&project.root, &base);
    let mut ctx = ScanContext::new(engine);
    ctx.salt = cfg.config.salt.as_bytes().to_vec();
    ctx.inline_ignores = !no_inline_ignores && cfg.config.scan.inline_ignores;
    if !set.allowlists.is_empty() {
        let lists = Allowlists::new(&set.allowlists, paths.clone()).map_err(anyhow::Error::msg)?;
        ctx.allowlist = Some(Arc::new(lists));
    }
    let ignore =
        match &triage.ignore_file {
            Some(p) => Some(IgnoreFile::load(p)?.with_context(|| {
                format!("{}: ignore file not found (fix the path)", p.display())
            })?),
            None => IgnoreFile::load(&cfg.resolve(&cfg.config.scan.ignore_file))?,
        };
    let baseline = match (&triage.baseline, &cfg.config.scan.baseline) {
        (Some(p), _) => Some(Baseline::load(p)?),
        (None, Some(b)) if !triage.skip_config_baseline => {
            Some(Baseline::load(&cfg.resolve(b.get_ref())).with_context(|| {
                format!(
                    "the baseline named by scan.baseline at {}",
                    cfg.at(b.span())
                )
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
        project,
    })
}

/// True if the flag with clap id `id` was given on this process's command line (not
/// defaulted), so that a config default must not override it. The command line is
/// parsed again for this; outside the `leaksweep` binary (tests of the library) nothing
/// counts as given.
pub fn given_on_command_line(id: &str) -> bool {
    static MATCHES: std::sync::OnceLock<Option<ArgMatches>> = std::sync::OnceLock::new();
    let matches = MATCHES.get_or_init(|| {
        super::Cli::command()
            .try_get_matches_from(std::env::args_os())
            .ok()
    });
    let Some(mut m) = matches.as_ref() else {
        return false;
    };
    while let Some((_, sub)) = m.subcommand() {
        m = sub;
    }
    m.try_contains_id(id).is_ok() && m.value_source(id) == Some(ValueSource::CommandLine)
}

/// Applies the config's `[scan]` defaults to output flags the command line left alone.
pub fn apply_output_defaults(out: &mut OutputArgs, d: &ScanDefaults) {
    if !given_on_command_line("format") {
        out.format = d.format.format();
    }
    if !given_on_command_line("exit_code") {
        out.exit_code = d.exit_code;
    }
    if !given_on_command_line("threads") {
        out.threads = d.threads;
    }
    out.show_suppressed |= d.show_suppressed;
    out.no_inline_ignores |= !d.inline_ignores;
}

/// Builds the engine, turning rule problems into one error that lists them all.
pub fn build_engine(rules: Vec<LoadedRule>) -> anyhow::Result<Arc<Engine>> {
    Engine::new(rules).map(Arc::new).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("invalid rules:\n  {}", list.join("\n  "))
    })
}

/// Builds a scan context from the flags and the config of the project around the
/// current directory (rules and allowlists; no ignore file or baseline). Scanning commands
/// use [`prepare`], which also returns the after-scan [`Triage`].
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

/// The skip callback for the pipeline: names skipped items on stderr. Binary files and
/// symlinks are routine in a tree and named only with `--verbose`.
pub fn skip_printer(verbose: bool) -> impl Fn(&Skipped) + Sync {
    move |s: &Skipped| {
        let routine = matches!(s.reason.as_str(), "binary" | "symlink");
        if verbose || !routine {
            if s.detail.is_empty() {
                eprintln!("leaksweep: skipped {}: {}", s.path, s.reason);
            } else {
                eprintln!("leaksweep: skipped {}: {} ({})", s.path, s.reason, s.detail);
            }
        }
    }
}

/// Names the binary files and symlinks that were skipped without a line of their own (see
/// [`skip_printer`]), a few of them, so that a user sees what was not scanned.
pub fn routine_skips_line(summary: &crate::finding::Summary) -> Option<String> {
    const SHOWN: usize = 5;
    let routine: Vec<&str> = summary
        .skipped_files
        .iter()
        .filter(|s| matches!(s.reason.as_str(), "binary" | "symlink"))
        .map(|s| s.path.as_str())
        .collect();
    let total: u64 = ["binary", "symlink"]
        .iter()
        .filter_map(|r| summary.skipped.get(*r))
        .sum();
    if total == 0 {
        return None;
    }
    let names: Vec<&str> = routine.iter().take(SHOWN).copied().collect();
    let mut line = if names.is_empty() {
        format!("leaksweep: not scanned (binary or symlink): {total}")
    } else {
        format!(
            "leaksweep: not scanned (binary or symlink): {}",
            names.join(", ")
        )
    };
    let shown = names.len() as u64;
    if shown > 0 && total > shown {
        line.push_str(&format!(" and {} more", total - shown));
    }
    line.push_str(" (-v names each; --format json lists them in skipped_files)");
    Some(line)
}

/// Writes the report, the stderr summary, and returns the exit code.
pub fn finish(ctx: &ScanContext, outcome: &ScanOutcome, out: &OutputArgs) -> anyhow::Result<i32> {
    for e in &outcome.errors {
        eprintln!("leaksweep: error: {e}");
    }
    let rules: Vec<(String, String, crate::rules::Severity)> = ctx
        .engine
        .rules()
        .iter()
        .map(|r| (r.spec.id.clone(), r.spec.name.clone(), r.spec.severity))
        .collect();
    let report = Report {
        findings: &outcome.findings,
        suppressed: &outcome.suppressed,
        summary: &outcome.summary,
        rules: &rules,
    };
    let stdout_tty = io::stdout().is_terminal();
    let color = match out.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            out.output.is_none() && stdout_tty && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let opts = ReportOptions {
        show_secrets: out.show_secrets,
        show_suppressed: out.show_suppressed,
        color,
    };
    match &out.output {
        Some(path) => {
            let f = crate::private_fs::create(path)
                .with_context(|| format!("creating report file {}", path.display()))?;
            let mut w = io::BufWriter::new(f);
            report::write(&mut w, out.format, &report, opts)
                .and_then(|()| w.flush())
                .with_context(|| format!("writing report file {}", path.display()))?;
        }
        None => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::new(stdout.lock());
            report::write(&mut w, out.format, &report, opts)
                .and_then(|()| w.flush())
                .context("writing the report to stdout")?;
        }
    }
    let clean = outcome.findings.is_empty() && outcome.errors.is_empty();
    if !(out.quiet && clean) {
        eprintln!("{}", summary_line(outcome));
        if !out.verbose {
            if let Some(line) = routine_skips_line(&outcome.summary) {
                eprintln!("{line}");
            }
        }
    }
    Ok(if !outcome.errors.is_empty() {
        EXIT_ERROR
    } else if outcome.findings.is_empty() {
        EXIT_CLEAN
    } else {
        out.exit_code
    })
}

/// The one-line stderr summary.
pub fn summary_line(outcome: &ScanOutcome) -> String {
    let s = &outcome.summary;
    let skipped: u64 = s.skipped.values().sum();
    let suppressed: u64 = s.suppressed.values().sum();
    // Git sweeps count blobs, and say how many commits they walked.
    let mut line = match s.extra.get("commits_walked") {
        Some(commits) => format!(
            "leaksweep: {commits} commits, {} blobs, {:.1} MB scanned",
            s.files_scanned,
            s.bytes_scanned as f64 / 1e6
        ),
        None => format!(
            "leaksweep: {} files, {:.1} MB scanned",
            s.files_scanned,
            s.bytes_scanned as f64 / 1e6
        ),
    };
    if skipped > 0 {
        let detail: Vec<String> = s.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        line.push_str(&format!(", {skipped} skipped ({})", detail.join(", ")));
    }
    line.push_str(&format!(
        ", {} finding{}",
        s.findings,
        if s.findings == 1 { "" } else { "s" }
    ));
    if suppressed > 0 {
        let detail: Vec<String> = s
            .suppressed
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        line.push_str(&format!(
            " ({suppressed} suppressed: {})",
            detail.join(", ")
        ));
    }
    if !s.validation.is_empty() {
        let detail: Vec<String> = s
            .validation
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        line.push_str(&format!(" (validation: {})", detail.join(", ")));
    }
    if s.errors > 0 {
        line.push_str(&format!(
            ", {} error{}",
            s.errors,
            if s.errors == 1 { "" } else { "s" }
        ));
    }
    line.push_str(&format!(
        ", {:.2} s, {:.1} MB/s",
        s.elapsed_ms as f64 / 1000.0,
        s.mb_per_s
    ));
    line
}
