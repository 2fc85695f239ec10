//! `leaksweep scan --follow FILE`: print findings of a growing log as they appear.
//!
//! Each finding is written and flushed at once (one JSON object a line with
//! `--format jsonl`, one line with `--format text`). SIGINT and SIGTERM stop the watch
//! cleanly: the summary goes to stderr and the exit code says whether anything was
//! found. A closed stdout (the reader went away) ends the watch with exit 0.

use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::finding::Finding;
use crate::pipeline::ScanOutcome;
use crate::report::escape::escape;
use crate::report::{json, shown_secret, Format, ReportOptions};
use crate::scan::ScanContext;
use crate::source::follow::{follow, FollowEvent, FollowOptions};
use crate::triage::Triage;

use super::args::OutputArgs;
use super::output;
use super::validate::ValidateArgs;
use super::{EXIT_CLEAN, EXIT_ERROR};
use crate::validation::Validator;

/// Settings of a follow run.
#[derive(Debug, Clone, Copy)]
pub struct FollowArgs {
    /// Report only lines written from now on.
    pub from_end: bool,
    /// Poll interval.
    pub poll: Duration,
}

fn write_finding(
    out: &mut dyn Write,
    f: &Finding,
    format: Format,
    opts: ReportOptions,
) -> io::Result<()> {
    match format {
        Format::Jsonl | Format::Json | Format::Sarif => {
            json::write_lines(out, std::slice::from_ref(f), opts)?;
        }
        Format::Text => {
            write!(
                out,
                "{}:{}:{}  {:<8} {}  {}  {}",
                escape(&f.path),
                f.line,
                f.column,
                f.severity.as_str(),
                escape(&f.rule_id),
                escape(&shown_secret(f, opts)),
                f.fingerprint
            )?;
            if let Some(d) = &f.decoded {
                write!(out, "  (decoded: {})", escape(d))?;
            }
            if let Some(v) = &f.validation {
                write!(out, "  {}", crate::report::text::validation_label(v))?;
            }
            writeln!(out)?;
        }
    }
    out.flush()
}

/// Runs the follow loop until interrupted.
pub fn run(
    ctx: &ScanContext,
    file: &Path,
    args: FollowArgs,
    out: &OutputArgs,
    triage: &Triage,
    validate: Option<(&ValidateArgs, &Validator)>,
) -> anyhow::Result<i32> {
    if !matches!(out.format, Format::Jsonl | Format::Text) {
        bail!("--follow prints findings as they appear: use --format jsonl (or text)");
    }
    let display = file.to_string_lossy().into_owned();
    if std::fs::metadata(file).is_err() {
        bail!("{display}: no such file (check the path; --follow waits for a file that is rotated away, not for one that never existed)");
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing the SIGINT/SIGTERM handler")?;
    }
    let opts = ReportOptions {
        show_secrets: out.show_secrets,
        show_suppressed: out.show_suppressed,
        color: false,
    };
    let mut writer: Box<dyn Write> = match &out.output {
        Some(p) => Box::new(io::BufWriter::new(
            crate::private_fs::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(io::stdout()),
    };
    let started = Instant::now();
    let mut outcome = ScanOutcome::default();
    let mut gone = false;
    let quiet = out.quiet;
    let result = follow(
        ctx,
        file,
        &display,
        FollowOptions {
            from_end: args.from_end,
            poll: args.poll,
        },
        &stop,
        &mut |ev| match ev {
            FollowEvent::Findings(found) => {
                // The ignore file and the baseline apply as they do to a scan.
                let mut batch = ScanOutcome {
                    findings: found.to_vec(),
                    ..ScanOutcome::default()
                };
                triage.apply(&mut batch);
                // Pairs are joined within the batch (the log neighbourhood); a credential
                // seen before is not asked again.
                if let Some((_, v)) = validate {
                    v.validate(&mut batch.findings);
                }
                batch.findings.append(&mut batch.suppressed);
                for f in &batch.findings {
                    let wanted = match validate {
                        None => true,
                        Some((a, _)) => {
                            a.results.is_empty()
                                || f.validation
                                    .as_ref()
                                    .is_some_and(|x| a.results.contains(&x.status))
                        }
                    };
                    if !wanted {
                        continue;
                    }
                    if f.suppressed.is_some() {
                        outcome.suppressed.push(f.clone());
                        if !out.show_suppressed {
                            continue;
                        }
                    } else {
                        outcome.findings.push(f.clone());
                    }
                    if write_finding(&mut *writer, f, out.format, opts).is_err() {
                        gone = true;
                        return false;
                    }
                }
                true
            }
            FollowEvent::Rotated => {
                if !quiet {
                    eprintln!(
                        "leaksweep: {display}: rotated; following the new file from its start"
                    );
                }
                true
            }
            FollowEvent::Truncated => {
                if !quiet {
                    eprintln!("leaksweep: {display}: truncated; reading again from its start");
                }
                true
            }
            FollowEvent::Missing => {
                if !quiet {
                    eprintln!("leaksweep: {display}: missing; waiting for it to appear");
                }
                true
            }
            FollowEvent::Error(e) => {
                eprintln!("leaksweep: {display}: read error: {e}; retrying");
                true
            }
        },
    );
    if gone {
        return Ok(EXIT_CLEAN);
    }
    if let Err(e) = result {
        eprintln!("leaksweep: error: {display}: {e}");
        return Ok(EXIT_ERROR);
    }
    let _ = writer.flush();
    let mut sup = std::mem::take(&mut outcome.suppressed);
    outcome.findings.append(&mut sup);
    outcome.summary.files_scanned = 1;
    outcome.summary.rules = ctx.engine.rules().len() as u64;
    outcome.finish(started);
    if let Some((a, v)) = validate {
        outcome.summary.validation = crate::validation::count(&outcome.findings);
        a.save_cache(v)?;
    }
    let stopped = stop.load(Ordering::Relaxed);
    if !(quiet && outcome.findings.is_empty()) {
        eprintln!(
            "{}{}",
            output::summary_line(&outcome),
            if stopped { " (stopped by signal)" } else { "" }
        );
    }
    let code = if outcome.findings.is_empty() {
        EXIT_CLEAN
    } else {
        out.exit_code
    };
    Ok(validate.map_or(code, |(a, _)| a.exit_code(code, &outcome, out.exit_code)))
}
