//! `leaksweep config`: check a project config, and print the effective one.

use std::path::PathBuf;

use clap::Subcommand;

use crate::report::escape::escape_text;

use super::args::{ConfigArgs, RuleArgs, TriageArgs};
use super::common;
use super::{EXIT_CLEAN, EXIT_FINDINGS};

/// `leaksweep config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a config (default: `.leaksweep.toml` of the project around the current
    /// directory): syntax, keys, values, rule ids, regexes and globs, the rule files it
    /// lists, the examples of its rules, and the ignore file and baseline it names.
    /// Exit 0 if valid, 1 if a rule's examples fail, 2 on errors.
    Check {
        /// The config file.
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Print the effective config as TOML: the project's values with the built-in
    /// defaults filled in.
    Show {
        /// Project config.
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// Runs a `config` subcommand.
pub fn run(cmd: ConfigCommand) -> anyhow::Result<i32> {
    match cmd {
        ConfigCommand::Check { file } => {
            let triage = TriageArgs {
                config: ConfigArgs { config: file },
                ..TriageArgs::default()
            };
            let rules = RuleArgs {
                rules: Vec::new(),
                only: Vec::new(),
                disable: Vec::new(),
            };
            let prep = common::prepare(
                &rules,
                &triage,
                false,
                std::path::Path::new("."),
                common::PathsFrom::CurrentDir,
            )?;
            let c = &prep.project.config;
            // The config's own rules carry examples: run them through the engine, as
            // `rules test` does for rule files.
            let extra: Vec<crate::rules::LoadedRule> = c
                .config
                .extra_rules
                .iter()
                .map(|r| crate::rules::LoadedRule {
                    spec: r.get_ref().clone(),
                    origin: c.at(r.span()),
                })
                .collect();
            if c.config.rotation.is_some() {
                if let Some(path) = &c.path {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    crate::rotate::config::parse(&text, path).map_err(anyhow::Error::msg)?;
                }
            }
            let problems = crate::engine::selfcheck::check(&extra);
            for p in &problems {
                eprintln!("leaksweep: {p}");
            }
            if !problems.is_empty() {
                eprintln!(
                    "leaksweep: {}: {} problem{} in its rules",
                    c.name(),
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                );
                return Ok(EXIT_FINDINGS);
            }
            eprintln!(
                "leaksweep: {}: ok ({} rules, {} extra, {} allowlist{}, {} ignore-file entr{}{})",
                c.name(),
                prep.ctx.engine.rules().len(),
                c.config.extra_rules.len() + c.config.rules.files.len(),
                c.config.allowlists.len(),
                if c.config.allowlists.len() == 1 {
                    ""
                } else {
                    "s"
                },
                prep.triage.ignore.as_ref().map_or(0, |i| i.entries.len()),
                if prep.triage.ignore.as_ref().map_or(0, |i| i.entries.len()) == 1 {
                    "y"
                } else {
                    "ies"
                },
                prep.triage
                    .baseline
                    .as_ref()
                    .map(|b| format!(", baseline with {} entries", b.len()))
                    .unwrap_or_default(),
            );
            Ok(EXIT_CLEAN)
        }
        ConfigCommand::Show { config } => {
            let project = common::load_project(&config, std::path::Path::new("."))?;
            // The header names the config's path, which may hold any byte.
            print!("{}", escape_text(&project.config.show()?));
            Ok(EXIT_CLEAN)
        }
    }
}
