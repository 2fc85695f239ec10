//! `leaksweep rules`: list the rules, and test rule files (examples through the engine).

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use crate::engine::selfcheck;
use crate::report::escape::escape;
use crate::rules;

use super::{EXIT_CLEAN, EXIT_FINDINGS};

/// `leaksweep rules ...`
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List rules: id, severity, name, keywords.
    List {
        /// Also list rules from these files or directories.
        #[arg(long = "rules", value_name = "FILE|DIR")]
        rules: Vec<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List the providers `--validate` knows: id (for --validate-endpoint), the request
    /// it makes, and the rules it covers. Providers that make no request say why.
    Providers {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check rule files: syntax, ids, keywords, and every example and negative example
    /// through the full engine. With no FILE, checks the built-in rules. Exit 1 on problems.
    #[command(alias = "check")]
    Test {
        /// Rule files or directories.
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// Runs a `rules` subcommand.
pub fn run(cmd: RulesCommand) -> anyhow::Result<i32> {
    match cmd {
        RulesCommand::List { rules: extra, json } => {
            let mut all = rules::load_builtin_full()?;
            for p in &extra {
                all.extend(super::common::load_rule_path(p)?.rules);
            }
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            if json {
                let specs: Vec<&rules::RuleSpec> = all.iter().map(|r| &r.spec).collect();
                serde_json::to_writer_pretty(&mut w, &specs)?;
                writeln!(w)?;
            } else {
                for r in &all {
                    writeln!(
                        w,
                        "{:<45} {:<8} {:<50} {}",
                        escape(&r.spec.id),
                        r.spec.severity.as_str(),
                        escape(&r.spec.name),
                        escape(&r.spec.keywords.join(","))
                    )?;
                }
            }
            w.flush()?;
            Ok(EXIT_CLEAN)
        }
        RulesCommand::Providers { json } => {
            use crate::validation::providers::{describe, PROVIDERS};
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            if json {
                let list: Vec<serde_json::Value> = PROVIDERS
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "id": p.id, "name": p.name, "request": describe(p),
                            "rules": p.rules, "fixed_host": p.base.is_some(),
                        })
                    })
                    .collect();
                serde_json::to_writer_pretty(&mut w, &list)?;
                writeln!(w)?;
            } else {
                for p in PROVIDERS {
                    writeln!(w, "{:<20} {}", p.id, describe(p))?;
                    writeln!(w, "{:<20} rules: {}", "", p.rules.join(", "))?;
                }
            }
            w.flush()?;
            Ok(EXIT_CLEAN)
        }
        RulesCommand::Test { files } => {
            let mut all = Vec::new();
            if files.is_empty() {
                all = rules::load_builtin_full()?;
            }
            for p in &files {
                all.extend(super::common::load_rule_path(p)?.rules);
            }
            let problems = selfcheck::check(&all);
            for p in &problems {
                println!("{}", crate::report::escape::escape_text(&p.to_string()));
            }
            let examples: usize = all
                .iter()
                .map(|r| r.spec.examples.len() + r.spec.negative_examples.len())
                .sum();
            eprintln!(
                "leaksweep: {} rules, {} examples checked, {} problem{}",
                all.len(),
                examples,
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            Ok(if problems.is_empty() {
                EXIT_CLEAN
            } else {
                EXIT_FINDINGS
            })
        }
    }
}
