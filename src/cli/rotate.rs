//! `leaksweep rotate`: locate leaked values in secret stores and replace them there.
//!
//! This is where scanning and rotation meet: the findings of a report are redacted, so
//! each secret is **re-read** from the place its finding names (the file, or the blob at
//! `commit:path` for history findings) by re-scanning it with the engine and picking the
//! finding with the same fingerprint. The value then lives in memory only and is handed
//! to `rotate::run`, which never sees the scanner.

use std::collections::BTreeMap;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use serde::Deserialize;
use serde_json::json;

use crate::pipeline::{scan_paths, ScanPlan, DEFAULT_MAX_FILE_SIZE};
use crate::report::escape::{escape, escape_text};
use crate::rotate::audit::AuditLog;
use crate::rotate::config::{self, Loaded};
use crate::rotate::run::{build_backends, ItemReport, Leak, Located, Runner};
use crate::rotate::state::State;
use crate::scan::ScanContext;
use crate::secret::Secret;
use crate::source::reread::{Place, Rereader};

use super::args::RuleArgs;
use super::common;
use super::output;
use super::{EXIT_CLEAN, EXIT_ERROR, EXIT_NOT_ROTATED};

/// Output format of `rotate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RotateFormat {
    /// One line per item, for people.
    Text,
    /// One JSON document.
    Json,
}

/// Flags of `leaksweep rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// A report written by `leaksweep scan` or `leaksweep git` (`--format json` or `jsonl`).
    #[arg(
        value_name = "REPORT",
        required_unless_present = "scan",
        conflicts_with = "scan"
    )]
    pub report: Option<PathBuf>,
    /// Scan these paths first and act on the findings (instead of a report; repeatable).
    #[arg(long, value_name = "PATH")]
    pub scan: Vec<PathBuf>,
    /// Rotation config (default: the [rotation] table of ./.leaksweep.toml).
    #[arg(long, value_name = "FILE")]
    pub rotation_config: Option<PathBuf>,
    /// Only ask every backend where each leaked value is currently stored; change nothing.
    #[arg(long, conflicts_with = "execute")]
    pub locate: bool,
    /// Perform the plan. Without it, rotate is a dry run: it prints the plan and checks
    /// each target read-only.
    #[arg(long)]
    pub execute: bool,
    /// Do not ask for confirmation (needed with --execute when stdin is not a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Audit log (JSON lines, mode 0600, appended). Default: from the config, else
    /// .leaksweep/rotate-audit.jsonl next to the config file.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// State file of completed rotations. Default: from the config, else
    /// .leaksweep/rotate-state.json next to the config file.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Repository that history findings (with a `commit`) come from (default: discovered
    /// from the current directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'f', long, value_enum, default_value_t = RotateFormat::Text)]
    pub format: RotateFormat,
    /// Rule selection (use the same rules as the scan that wrote the report).
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Print nothing on stderr unless something went wrong.
    #[arg(short, long)]
    pub quiet: bool,
    /// Act only on findings the report marks live (a report written with `--validate`).
    #[arg(long, conflicts_with = "scan")]
    pub only_live: bool,
    /// With --execute: validate each old value again after the run and say whether it
    /// still works at the provider (a new version in a store does not revoke it).
    #[command(flatten)]
    pub validate: super::validate::ValidateArgs,
}

/// The fields of a reported finding that rotate needs (the JSON contract, version 1).
#[derive(Debug, Deserialize)]
struct ReportedFinding {
    rule_id: String,
    path: String,
    fingerprint: String,
    #[serde(default)]
    commit: Option<String>,
    /// The `validation` object of a report written with `--validate` (its status only).
    #[serde(default)]
    validation: Option<ReportedValidation>,
}

#[derive(Debug, Deserialize)]
struct ReportedValidation {
    status: String,
}

/// Keeps the findings a validated report marks live (`rotate --only-live`).
fn only_live(
    findings: Vec<ReportedFinding>,
    report: &Path,
) -> anyhow::Result<Vec<ReportedFinding>> {
    if !findings.is_empty() && findings.iter().all(|f| f.validation.is_none()) {
        bail!(
            "{}: --only-live: the report has no validation results (write it with --validate)",
            report.display()
        );
    }
    Ok(findings
        .into_iter()
        .filter(|f| f.validation.as_ref().is_some_and(|v| v.status == "live"))
        .collect())
}

#[derive(Debug, Deserialize)]
struct ReportDoc {
    findings: Vec<ReportedFinding>,
}

fn read_report(path: &Path) -> anyhow::Result<Vec<ReportedFinding>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading report {}", path.display()))?;
    parse_report(path, &text)
}

/// Parses a report for `rotate --report` and returns how many findings it lists or the
/// error, for the fuzz targets (`crate::fuzzing`).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub fn fuzz_parse_report(text: &str) -> Result<usize, String> {
    parse_report(Path::new("<fuzz>"), text)
        .map(|v| v.len())
        .map_err(|e| format!("{e:#}"))
}

fn parse_report(path: &Path, text: &str) -> anyhow::Result<Vec<ReportedFinding>> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    if let Ok(doc) = serde_json::from_str::<ReportDoc>(trimmed) {
        return Ok(doc.findings);
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: ReportedFinding = serde_json::from_str(line).with_context(|| {
            format!(
                "{}:{}: not a leaksweep finding (rotate reads reports written with \
                 --format json or --format jsonl)",
                path.display(),
                i + 1
            )
        })?;
        out.push(f);
    }
    Ok(out)
}

/// Re-reads the values of reported findings; returns leaks and warnings.
fn reread(
    ctx: &ScanContext,
    findings: &[ReportedFinding],
    repo_dir: Option<&Path>,
) -> (Vec<Leak>, Vec<String>) {
    let mut leaks: BTreeMap<String, Leak> = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut places = Rereader::new(ctx).repo_at(repo_dir);
    for f in findings {
        if let Some(l) = leaks.get_mut(&f.fingerprint) {
            if !l.paths.contains(&f.path) {
                l.paths.push(f.path.clone());
            }
            continue;
        }
        let place = Place::of(f.commit.as_deref(), &f.path);
        let where_ = place.describe();
        match places.reread(&place) {
            Ok(found) => {
                match found
                    .iter()
                    .find(|x| x.fingerprint == f.fingerprint && x.rule_id == f.rule_id)
                {
                    Some(x) => {
                        leaks.insert(
                            f.fingerprint.clone(),
                            Leak {
                                fingerprint: f.fingerprint.clone(),
                                rule_id: f.rule_id.clone(),
                                paths: vec![f.path.clone()],
                                secret: Secret::new(x.secret.expose().to_vec()),
                            },
                        );
                    }
                    None => warnings.push(format!(
                        "{} ({}): no longer found in {where_}: the file changed since the \
                         report, or different rules were used (re-scan, or pass the same \
                         --rules)",
                        f.fingerprint, f.rule_id
                    )),
                }
            }
            Err(e) => {
                let hint = if matches!(place, Place::File(_)) && e.starts_with("cannot re-read") {
                    " (run rotate from the directory the scan ran in)"
                } else {
                    ""
                };
                warnings.push(format!(
                    "{} ({}): {where_}: {e}{hint}",
                    f.fingerprint, f.rule_id
                ));
            }
        }
    }
    (leaks.into_values().collect(), warnings)
}

fn scan_first(ctx: &ScanContext, paths: &[PathBuf]) -> (Vec<Leak>, Vec<String>) {
    let plan = ScanPlan {
        paths: paths.to_vec(),
        max_file_size: DEFAULT_MAX_FILE_SIZE,
        ..ScanPlan::default()
    };
    let outcome = scan_paths(ctx, &plan, &output::skip_printer(false));
    let mut leaks: BTreeMap<String, Leak> = BTreeMap::new();
    for f in &outcome.findings {
        let l = leaks.entry(f.fingerprint.clone()).or_insert_with(|| Leak {
            fingerprint: f.fingerprint.clone(),
            rule_id: f.rule_id.clone(),
            paths: Vec::new(),
            secret: Secret::new(f.secret.expose().to_vec()),
        });
        if !l.paths.contains(&f.path) {
            l.paths.push(f.path.clone());
        }
    }
    (leaks.into_values().collect(), outcome.errors)
}

fn load_config(args: &RotateArgs) -> anyhow::Result<Loaded> {
    let path = match &args.rotation_config {
        Some(p) => p.clone(),
        None => {
            let p = PathBuf::from(".leaksweep.toml");
            if !p.exists() {
                bail!(
                    "no rotation config: add a [rotation] table to ./.leaksweep.toml or pass \
                     --rotation-config FILE (see GUIDE.md, \"Rotation\")"
                );
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading rotation config {}", path.display()))?;
    let abs = std::path::absolute(&path).unwrap_or(path);
    config::parse(&text, &abs).map_err(anyhow::Error::msg)
}

fn confirm(n: usize) -> anyhow::Result<bool> {
    if !io::stdin().is_terminal() {
        bail!("--execute changes secrets: pass --yes when stdin is not a terminal");
    }
    eprint!(
        "leaksweep: write {n} change{} to the secret stores above? Type \"yes\": ",
        if n == 1 { "" } else { "s" }
    );
    io::stderr().flush().ok();
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim() == "yes")
}

fn status_word(s: &str) -> &str {
    match s {
        "would_rotate" => "would-do",
        "already_applied" => "already-applied",
        "already_done" => "already-done",
        "not_current" => "not-current",
        "not_located" => "not-located",
        "no_route" => "no-route",
        other => other,
    }
}

fn text_line(r: &ItemReport) -> String {
    let target = match (&r.target, r.action) {
        (Some(t), _) => t.clone(),
        (None, "revoke") => format!("{} (the credential)", r.backend),
        (None, _) => r.backend.clone(),
    };
    let mut line = format!(
        "{:<16} {} {}  {} ({})",
        status_word(r.status),
        r.action,
        target,
        r.fingerprint,
        r.rule
    );
    match (&r.previous_version, &r.new_version) {
        (Some(p), Some(n)) => line.push_str(&format!("  version {p} -> {n}")),
        (None, Some(n)) => line.push_str(&format!("  version {n}")),
        (Some(p), None) => line.push_str(&format!("  current version {p}")),
        (None, None) => {}
    }
    if let Some(m) = &r.message {
        line.push_str(&format!("\n                 {m}"));
    }
    line
}

/// Runs `leaksweep rotate`.
pub fn run(args: &RotateArgs) -> anyhow::Result<i32> {
    let loaded = load_config(args)?;
    // Every backend is checked before anything is read, written or logged.
    let backends = build_backends(&loaded).map_err(anyhow::Error::msg)?;
    let validator = recheck_validator(args)?;
    let engine = common::build_engine(common::load_rules(&args.rules)?)?;
    let mut ctx = ScanContext::new(engine);
    let (leaks, warnings) = match &args.report {
        Some(report) => {
            let mut findings = read_report(report)?;
            if args.only_live {
                findings = only_live(findings, report)?;
            }
            // Re-reading must find suppressed lines too: the report decided what to act on.
            ctx.inline_ignores = false;
            reread(&ctx, &findings, args.repo.as_deref())
        }
        None => scan_first(&ctx, &args.scan),
    };
    for w in &warnings {
        eprintln!("leaksweep: skipped {w}");
    }
    let dry_run = !args.execute;
    let run_id = format!("{:016x}", crate::rotate::generate::random_u64());
    let default_dir = loaded.resolve(Path::new(".leaksweep"));
    let audit_path = args
        .audit_log
        .clone()
        .or_else(|| loaded.config.audit_log.as_ref().map(|p| loaded.resolve(p)))
        .unwrap_or_else(|| default_dir.join("rotate-audit.jsonl"));
    let state_path = args
        .state
        .clone()
        .or_else(|| loaded.config.state_file.as_ref().map(|p| loaded.resolve(p)))
        .unwrap_or_else(|| default_dir.join("rotate-state.json"));
    let audit = AuditLog::open(&audit_path, &run_id, dry_run)
        .with_context(|| format!("opening the audit log {}", audit_path.display()))?;
    // Lock before loading, so that a concurrent run's completed work is seen.
    let _lock = if dry_run {
        None
    } else {
        Some(crate::rotate::state::lock(&state_path).map_err(anyhow::Error::msg)?)
    };
    let state = State::load(&state_path).map_err(anyhow::Error::msg)?;
    let mut runner = Runner::new(&loaded, backends, audit, state);

    if args.locate {
        let located = runner.locate(&leaks, &[]);
        print_located(args, &located)?;
        let errors = located.iter().any(|l| !l.errors.is_empty());
        return Ok(if errors { EXIT_ERROR } else { EXIT_CLEAN });
    }

    let (items, notes) = runner.plan(&leaks);
    let planned: Vec<ItemReport> = items
        .iter()
        .filter_map(|i| runner.planned(&leaks, i))
        .collect();
    if args.format == RotateFormat::Text {
        let mut out = io::stdout().lock();
        if planned.is_empty() {
            writeln!(
                out,
                "plan: nothing to do ({} leaked value{})",
                leaks.len(),
                if leaks.len() == 1 { "" } else { "s" }
            )?;
        } else {
            writeln!(
                out,
                "plan ({}):",
                if dry_run {
                    "dry run: nothing is written; add --execute to perform it"
                } else {
                    "--execute: these changes will be written"
                }
            )?;
            for p in &planned {
                let target = p
                    .target
                    .clone()
                    .unwrap_or_else(|| format!("{} (revoke the credential)", p.backend));
                writeln!(
                    out,
                    "  {} ({}, {}) -> {}: {}{}",
                    escape(&p.fingerprint),
                    escape(&p.rule),
                    escape(&p.paths.join(", ")),
                    escape(&target),
                    p.action,
                    p.policy
                        .as_ref()
                        .map(|s| format!(" (new version, {s})"))
                        .unwrap_or_default()
                )?;
            }
        }
        out.flush()?;
    }
    if !dry_run && !items.is_empty() && !args.yes {
        match confirm(items.len()) {
            Ok(true) => {}
            Ok(false) => {
                runner.refuse(
                    &leaks,
                    &items,
                    "not confirmed at the prompt: nothing was written",
                );
                eprintln!("leaksweep: not confirmed: nothing was written");
                return Ok(EXIT_ERROR);
            }
            Err(e) => {
                runner.refuse(&leaks, &items, &format!("{e}: nothing was written"));
                return Err(e);
            }
        }
    }
    let results = runner.execute(&leaks, &items, dry_run);
    let all: Vec<&ItemReport> = notes.iter().chain(results.iter()).collect();
    let old_values = match (&validator, dry_run) {
        (Some(v), false) => recheck_old_values(v, &leaks, &results),
        _ => Vec::new(),
    };
    match args.format {
        RotateFormat::Text => {
            let mut out = io::stdout().lock();
            if !all.is_empty() {
                writeln!(out, "{}:", if dry_run { "checks" } else { "results" })?;
            }
            for r in &all {
                writeln!(out, "  {}", escape_text(&text_line(r)))?;
            }
            if !old_values.is_empty() {
                writeln!(out, "old values (validated again):")?;
            }
            for o in &old_values {
                writeln!(
                    out,
                    "  {} ({}): {}",
                    escape(&o.fingerprint),
                    escape(&o.rule),
                    escape_text(&o.message)
                )?;
            }
            out.flush()?;
        }
        RotateFormat::Json => {
            let doc = json!({
                "version": 1,
                "mode": if dry_run { "dry-run" } else { "execute" },
                "plan": planned,
                "results": all,
                "old_values": old_values,
                "audit_log": runner.audit_path(),
                "state_file": runner.state_path(),
                "skipped": warnings,
            });
            let mut out = io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    let failed = all.iter().filter(|r| r.failed()).count();
    let count = |s: &str| all.iter().filter(|r| r.status == s).count();
    if !args.quiet || failed > 0 {
        eprintln!(
            "leaksweep: {} leaked value{}, {} action{} planned{}, {} failed; audit log {}",
            leaks.len(),
            if leaks.len() == 1 { "" } else { "s" },
            items.len(),
            if items.len() == 1 { "" } else { "s" },
            if dry_run {
                format!(", {} would be done (dry run)", count("would_rotate"))
            } else {
                format!(
                    ", {} done, {} already done",
                    count("rotated") + count("revoked"),
                    count("already_done") + count("already_applied") + count("not_current")
                )
            },
            failed,
            runner.audit_path().display()
        );
    }
    // Leaks no route applies to, and reported findings that could not be re-read. (A
    // routed store that holds no copy is not counted: there is nothing to rotate there.)
    let no_route = notes.iter().filter(|n| n.status == "no_route").count();
    let unread = if args.report.is_some() {
        warnings.len()
    } else {
        0
    };
    let unrotated = no_route + unread;
    if failed == 0 && unrotated > 0 {
        eprintln!(
            "leaksweep: {unrotated} leaked value{} left unrotated (no matching route, or the \
             finding could not be re-read; see above): exit code {EXIT_NOT_ROTATED}",
            if unrotated == 1 { "" } else { "s" },
        );
        return Ok(EXIT_NOT_ROTATED);
    }
    Ok(if failed > 0 { EXIT_ERROR } else { EXIT_CLEAN })
}

/// The validator of `rotate --validate`, checked (endpoints, allow-list) before anything
/// is read or written. Flags that filter a scan report do not apply here, and a results
/// cache would answer with the value's state before the rotation: both are refused.
fn recheck_validator(args: &RotateArgs) -> anyhow::Result<Option<crate::validation::Validator>> {
    let a = &args.validate;
    if !a.validate {
        return Ok(None);
    }
    if !a.results.is_empty() || a.fail_on != super::validate::FailOn::Any {
        bail!("--results and --fail-on filter scan reports; rotate does not take them");
    }
    if a.cache.is_some() {
        bail!(
            "--validate-cache: rotate asks the provider again after rotating; a cached \
             result would describe the value before it"
        );
    }
    let project = common::load_project(&super::args::ConfigArgs::default(), Path::new("."))?;
    a.validator(&project, crate::finding::fingerprint::DEFAULT_SALT)
}

/// Validates again each leaked value a rotation or revocation acted on in this run.
fn recheck_old_values(
    v: &crate::validation::Validator,
    leaks: &[Leak],
    results: &[ItemReport],
) -> Vec<crate::validation::recheck::OldValue> {
    use crate::validation::recheck::{recheck, Old};
    let acted = |l: &Leak| {
        results.iter().any(|r| {
            r.fingerprint == l.fingerprint
                && matches!(
                    r.status,
                    "rotated" | "revoked" | "already_done" | "already_applied"
                )
        })
    };
    let old: Vec<Old<'_>> = leaks
        .iter()
        .filter(|l| acted(l))
        .map(|l| Old {
            fingerprint: &l.fingerprint,
            rule_id: &l.rule_id,
            path: l.paths.first().map_or("", String::as_str),
            secret: &l.secret,
        })
        .collect();
    if old.is_empty() {
        return Vec::new();
    }
    recheck(v, &old)
}

fn print_located(args: &RotateArgs, located: &[Located]) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match args.format {
        RotateFormat::Text => {
            for l in located {
                if l.locations.is_empty() && !l.errors.is_empty() {
                    writeln!(
                        out,
                        "{} ({}) is not the current value of any stored secret that could be \
                         read ({} backend{} failed, see stderr)",
                        escape(&l.fingerprint),
                        escape(&l.rule),
                        l.errors.len(),
                        if l.errors.len() == 1 { "" } else { "s" }
                    )?;
                } else if l.locations.is_empty() {
                    writeln!(
                        out,
                        "{} ({}) is not the current value of any stored secret",
                        escape(&l.fingerprint),
                        escape(&l.rule)
                    )?;
                } else {
                    writeln!(
                        out,
                        "{} ({}) is the current value of {}",
                        escape(&l.fingerprint),
                        escape(&l.rule),
                        escape(&l.locations.join(" and "))
                    )?;
                }
                for e in &l.errors {
                    eprintln!("leaksweep: locate {}: {e}", l.fingerprint);
                }
            }
        }
        RotateFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &json!({"version": 1, "located": located}))?;
            writeln!(out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod only_live_tests {
    use super::*;

    /// `--only-live` keeps live findings of a validated report and refuses a report
    /// written without `--validate` (acting on nothing would look like success).
    #[test]
    fn only_live_filters_and_refuses_unvalidated_reports() {
        let p = Path::new("r.jsonl");
        let text = concat!(
            r#"{"rule_id":"a","path":"x","fingerprint":"f1","validation":{"status":"live"}}"#,
            "\n",
            r#"{"rule_id":"a","path":"y","fingerprint":"f2","validation":{"status":"invalid"}}"#,
            "\n"
        );
        let kept = only_live(parse_report(p, text).unwrap(), p).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].fingerprint, "f1");
        let plain = parse_report(p, r#"{"rule_id":"a","path":"x","fingerprint":"f1"}"#).unwrap();
        let e = only_live(plain, p).unwrap_err().to_string();
        assert!(e.contains("write it with --validate"), "{e}");
    }
}
