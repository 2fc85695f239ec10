//! `leaksweep baseline`: record the findings a project accepts today, prune what is gone,
//! and import the baselines of other scanners.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::pipeline::{scan_paths, ScanOutcome};
use crate::triage::baseline::Baseline;
use crate::triage::config::BASELINE_FILE;
use crate::triage::import::{self, ImportFormat};
use crate::triage::paths::PathMap;

use super::args::{ConfigArgs, Given, RuleArgs, TriageArgs, WalkArgs};
use super::common::{self, PathsFrom, Prepared};
use super::output;
use super::{EXIT_CLEAN, EXIT_ERROR};

/// The scan flags of `baseline create` and `baseline update`.
#[derive(Debug, Args)]
pub struct BaselineScanArgs {
    /// Files and directories to scan, as for `leaksweep scan`.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Walk settings.
    #[command(flatten)]
    pub walk: WalkArgs,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Project config.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Accepted fingerprints, instead of the project's `.leaksweepignore`.
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// Ignore inline markers, so that the baseline also covers marked findings.
    #[arg(long)]
    pub no_inline_ignores: bool,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Name every skipped file on stderr.
    #[arg(short, long)]
    pub verbose: bool,
    /// Which of these flags the command line gave (see [`Given`]).
    #[arg(skip)]
    pub given: Given,
}

/// `leaksweep baseline ...`
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan like `leaksweep scan` and record every reported finding (fingerprint, rule and
    /// path; never the secret) in a baseline. Later scans with `--baseline FILE` report
    /// only findings that are not in it.
    Create {
        /// Scan flags.
        #[command(flatten)]
        scan: BaselineScanArgs,
        /// The baseline file (default: `scan.baseline` of the config, else
        /// `.leaksweep-baseline.json` at the project root).
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Record when the baseline was made (`created`); off by default so that the
        /// file only changes when findings do.
        #[arg(long)]
        timestamp: bool,
    },
    /// Scan again and drop the entries whose finding is gone. New findings are not
    /// added: accept them explicitly (`baseline create`, or `ignore add`).
    Update {
        /// Scan flags.
        #[command(flatten)]
        scan: BaselineScanArgs,
        /// The baseline to update (default: `scan.baseline` of the config, else
        /// `.leaksweep-baseline.json` at the project root).
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// Write the result here instead of over the baseline.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Convert a gitleaks JSON report or a detect-secrets `.secrets.baseline` into a
    /// leaksweep baseline. Paths in the report are taken relative to the project root
    /// (the project around the current directory); the files they name are scanned to
    /// match entries. Entries that cannot be matched are named on stderr.
    Import {
        /// The report or baseline to convert.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Its format (default: recognised from the content).
        #[arg(long, value_enum, value_name = "FORMAT")]
        from: Option<ImportFormat>,
        /// The baseline to write (default: `.leaksweep-baseline.json` at the project root).
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Rule selection.
        #[command(flatten)]
        rules: RuleArgs,
        /// Project config.
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// Runs a `baseline` subcommand.
pub fn run(cmd: BaselineCommand) -> anyhow::Result<i32> {
    match cmd {
        BaselineCommand::Create {
            scan,
            output,
            timestamp,
        } => create(&scan, output, timestamp),
        BaselineCommand::Update {
            scan,
            baseline,
            output,
        } => update(&scan, baseline, output),
        BaselineCommand::Import {
            file,
            from,
            output,
            rules,
            config,
        } => import_cmd(&file, from, output, &rules, &config),
    }
}

/// Scans as `scan` would, with the ignore file applied and no baseline.
fn scan(args: &BaselineScanArgs) -> anyhow::Result<(Prepared, ScanOutcome)> {
    let start = common::start_dir(&args.paths);
    let triage = TriageArgs {
        config: args.config.clone(),
        baseline: None,
        ignore_file: args.ignore_file.clone(),
        // `scan.baseline` names the file this command writes, not one to apply.
        skip_config_baseline: true,
    };
    let prep = common::prepare(
        &args.rules,
        &triage,
        args.no_inline_ignores,
        &start,
        PathsFrom::CurrentDir,
    )?;
    let defaults = &prep.project.config.config.scan;
    let threads = if args.given.has("threads") {
        args.threads
    } else {
        defaults.threads
    };
    let plan = args.walk.plan(args.paths.clone(), threads, defaults);
    let mut outcome = scan_paths(&prep.ctx, &plan, &output::skip_printer(args.verbose));
    prep.triage.apply(&mut outcome);
    for e in &outcome.errors {
        eprintln!("leaksweep: error: {e}");
    }
    Ok((prep, outcome))
}

/// The baseline file a command writes or reads by default.
fn default_baseline(prep: &Prepared) -> PathBuf {
    let c = &prep.project.config;
    match &c.config.scan.baseline {
        Some(b) => c.resolve(b.get_ref()),
        None => prep.project.root.join(BASELINE_FILE),
    }
}

fn create(
    args: &BaselineScanArgs,
    output: Option<PathBuf>,
    timestamp: bool,
) -> anyhow::Result<i32> {
    let (prep, outcome) = scan(args)?;
    if !outcome.errors.is_empty() {
        eprintln!("leaksweep: the scan had errors: no baseline written");
        return Ok(EXIT_ERROR);
    }
    let path = output.unwrap_or_else(|| default_baseline(&prep));
    let salt = String::from_utf8_lossy(&prep.ctx.salt).into_owned();
    let mut b = Baseline::new(&salt);
    if timestamp {
        b.created = Some(crate::civil::Utc::now().rfc3339_secs());
    }
    for f in &outcome.findings {
        b.add(f, &prep.triage.paths.rel(&f.path), &prep.ctx.salt);
    }
    b.write(&path)
        .with_context(|| format!("writing the baseline {}", path.display()))?;
    eprintln!(
        "leaksweep: baseline {}: {} entr{} ({} finding{}, {} suppressed otherwise)",
        path.display(),
        b.len(),
        if b.len() == 1 { "y" } else { "ies" },
        outcome.findings.len(),
        if outcome.findings.len() == 1 { "" } else { "s" },
        outcome.suppressed.len()
    );
    Ok(EXIT_CLEAN)
}

fn update(
    args: &BaselineScanArgs,
    baseline: Option<PathBuf>,
    output: Option<PathBuf>,
) -> anyhow::Result<i32> {
    let (prep, outcome) = scan(args)?;
    if !outcome.errors.is_empty() {
        eprintln!("leaksweep: the scan had errors: the baseline is left as it was");
        return Ok(EXIT_ERROR);
    }
    let path = baseline.unwrap_or_else(|| default_baseline(&prep));
    let mut b = Baseline::load(&path)?;
    let mut present = std::collections::HashSet::new();
    let mut new = 0usize;
    for f in outcome.findings.iter().chain(&outcome.suppressed) {
        let rel = prep.triage.paths.rel(&f.path);
        let fp = b.fingerprint_of(f, &prep.ctx.salt);
        if f.suppressed.is_none() && !b.contains_key(&fp, &rel) {
            new += 1;
        }
        present.insert((fp, rel));
    }
    let pruned = b.retain(|e| present.contains(&(e.fingerprint.clone(), e.path.clone())));
    let out = output.unwrap_or_else(|| path.clone());
    b.write(&out)
        .with_context(|| format!("writing the baseline {}", out.display()))?;
    eprintln!(
        "leaksweep: baseline {}: kept {}, pruned {} (gone); {} finding{} not in the baseline \
         (not added: accept them with `baseline create` or `ignore add`)",
        out.display(),
        b.len(),
        pruned,
        new,
        if new == 1 { " is" } else { "s are" }
    );
    Ok(EXIT_CLEAN)
}

fn import_cmd(
    file: &Path,
    from: Option<ImportFormat>,
    output: Option<PathBuf>,
    rules: &RuleArgs,
    config: &ConfigArgs,
) -> anyhow::Result<i32> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading {} (fix the path)", file.display()))?;
    let format = match from {
        Some(f) => f,
        None => {
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{}:{}:{}: not JSON ({e}); expected a gitleaks JSON report or a \
                     detect-secrets baseline",
                    file.display(),
                    e.line(),
                    e.column()
                )
            })?;
            ImportFormat::detect(&v).with_context(|| {
                format!(
                    "{}: neither a gitleaks JSON report (an array of findings) nor a \
                     detect-secrets baseline (an object with \"results\"); say which with --from",
                    file.display()
                )
            })?
        }
    };
    let triage = TriageArgs {
        config: config.clone(),
        skip_config_baseline: true,
        ..TriageArgs::default()
    };
    let prep = common::prepare(rules, &triage, false, Path::new("."), PathsFrom::Root)?;
    let root = prep.project.root.clone();
    let paths = PathMap::new(&root, &root);
    let salt = String::from_utf8_lossy(&prep.ctx.salt).into_owned();
    let mut b = Baseline::new(&salt);
    let result = import::import(
        &text,
        format,
        &file.display().to_string(),
        &prep.ctx,
        &paths,
        &mut b,
    )?;
    for n in &result.notes {
        eprintln!("leaksweep: note: {n}");
    }
    let out = output.unwrap_or_else(|| default_baseline(&prep));
    b.write(&out)
        .with_context(|| format!("writing the baseline {}", out.display()))?;
    eprintln!(
        "leaksweep: baseline {}: {} entr{} from {} of {} {} entries ({} not imported, named \
         above)",
        out.display(),
        b.len(),
        if b.len() == 1 { "y" } else { "ies" },
        result.matched,
        result.total,
        match format {
            ImportFormat::Gitleaks => "gitleaks",
            ImportFormat::DetectSecrets => "detect-secrets",
        },
        result.total.saturating_sub(result.matched)
    );
    Ok(EXIT_CLEAN)
}
