//! Flags shared by every scanning command (`scan`, `git`, ...) and the code that turns
//! them into an engine, a report and an exit code.

use std::fs::OpenOptions;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};

use crate::engine::Engine;
use crate::finding::Skipped;
use crate::pipeline::ScanOutcome;
use crate::report::{self, Format, Report, ReportOptions};
use crate::rules::{self, LoadedRule};
use crate::source::ScanContext;

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
    /// Add user rules from a TOML file or a directory of them (repeatable).
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

/// Loads built-in and user rules and applies `--only`/`--disable`.
pub fn load_rules(args: &RuleArgs) -> anyhow::Result<Vec<LoadedRule>> {
    let mut all = rules::load_builtin().context("loading built-in rules")?;
    for p in &args.rules {
        let user = rules::load_path(p).with_context(|| {
            format!(
                "loading rules from {} (fix the file or drop --rules)",
                p.display()
            )
        })?;
        all.extend(user);
    }
    for id in args.only.iter().chain(&args.disable) {
        if !all.iter().any(|r| &r.spec.id == id) {
            bail!("unknown rule id {id:?} (see `leaksweep rules list`)");
        }
    }
    if !args.only.is_empty() {
        all.retain(|r| args.only.contains(&r.spec.id));
    }
    all.retain(|r| !args.disable.contains(&r.spec.id));
    Ok(all)
}

/// Builds the engine, turning rule problems into one error that lists them all.
pub fn build_engine(rules: Vec<LoadedRule>) -> anyhow::Result<Arc<Engine>> {
    Engine::new(rules).map(Arc::new).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("invalid rules:\n  {}", list.join("\n  "))
    })
}

/// Builds a scan context from the flags.
pub fn context(rules: &RuleArgs, out: &OutputArgs) -> anyhow::Result<ScanContext> {
    let engine = build_engine(load_rules(rules)?)?;
    let mut ctx = ScanContext::new(engine);
    ctx.inline_ignores = !out.no_inline_ignores;
    Ok(ctx)
}

/// Creates (or truncates) a file that may hold secrets with mode 0600 before anything is
/// written to it.
pub fn create_private(path: &Path) -> io::Result<std::fs::File> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        o.mode(0o600);
        let f = o.open(path)?;
        // An existing file keeps its old mode on open: tighten it before writing.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(f)
    }
    #[cfg(not(unix))]
    o.open(path)
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
            let f = create_private(path)
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
    let mut line = format!(
        "leaksweep: {} files, {:.1} MB scanned",
        s.files_scanned,
        s.bytes_scanned as f64 / 1e6
    );
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
