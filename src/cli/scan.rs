//! `leaksweep scan`: files, directories and standard input.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::pipeline::scan_paths;

use super::args::{LimitArgs, LogArgs, OutputArgs, RuleArgs, TriageArgs, WalkArgs};
use super::common::{self, PathsFrom};
use super::output;

/// Flags of `leaksweep scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan; `-` reads standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Walk settings.
    #[command(flatten)]
    pub walk: WalkArgs,
    /// Logs and streams.
    #[command(flatten)]
    pub logs: LogArgs,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Config, ignore file, baseline.
    #[command(flatten)]
    pub triage: TriageArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Resource limits.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Live validation.
    #[command(flatten)]
    pub validate: super::validate::ValidateArgs,
}

/// Runs `leaksweep scan`.
pub fn run(mut args: ScanArgs) -> anyhow::Result<i32> {
    if let Some(file) = &args.logs.tail {
        if args.paths.len() != 1 || args.paths[0] != std::path::Path::new(".") {
            anyhow::bail!("--follow FILE watches one file: name no other PATH");
        }
        args.paths = vec![file.clone()];
    }
    let start = common::start_dir(&args.paths);
    let mut prep = common::prepare(
        &args.rules,
        &args.triage,
        args.output.no_inline_ignores,
        &start,
        PathsFrom::CurrentDir,
    )?;
    args.limits.apply(&mut prep.ctx)?;
    let defaults = &prep.project.config.config.scan;
    common::apply_output_defaults(&mut args.output, defaults);
    args.logs.apply(&mut prep.ctx);
    let validator = args.validate.validator(&prep.project, &prep.ctx.salt)?;
    prep.ctx.neighbourhoods = validator
        .as_ref()
        .map(crate::validation::Validator::neighbourhoods);
    if let Some(file) = &args.logs.tail {
        let opts = super::follow::FollowArgs {
            from_end: args.logs.from_end,
            poll: Duration::from_millis(args.logs.poll_interval.max(10)),
        };
        let v = validator.as_ref().map(|v| (&args.validate, v));
        return super::follow::run(&prep.ctx, file, opts, &args.output, &prep.triage, v);
    }
    let mut plan = args.walk.plan(args.paths, args.output.threads, defaults);
    plan.stream = args.logs.stream()?;
    let mut outcome = scan_paths(&prep.ctx, &plan, &output::skip_printer(args.output.verbose));
    outcome.summary.rules = prep.ctx.engine.rules().len() as u64;
    prep.triage.apply(&mut outcome);
    if let Some(v) = &validator {
        args.validate.apply(v, &mut outcome, args.output.quiet)?;
    }
    let code = output::finish(&prep.ctx, &outcome, &args.output)?;
    Ok(args
        .validate
        .exit_code(code, &outcome, args.output.exit_code))
}
