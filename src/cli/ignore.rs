//! `leaksweep ignore`: accept a finding by its fingerprint in `.leaksweepignore`.

use std::path::PathBuf;

use clap::Subcommand;

use crate::triage::ignorefile::{self, IgnoreFile};

use super::args::ConfigArgs;
use super::common;
use super::EXIT_CLEAN;

/// `leaksweep ignore ...`
#[derive(Debug, Subcommand)]
pub enum IgnoreCommand {
    /// Append a fingerprint (as reports print it) to the project's ignore file, with the
    /// reason as a comment above it, so that the acceptance is reviewed in the diff.
    Add {
        /// The fingerprint (`lsw1:...`).
        #[arg(value_name = "FINGERPRINT")]
        fingerprint: String,
        /// Why this finding is accepted (required: reviewers read it).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Accept it only in this project-relative path or glob (default: everywhere).
        #[arg(long, value_name = "PATH")]
        path: Option<String>,
        /// The ignore file (default: `scan.ignore_file` of the config, `.leaksweepignore`
        /// at the project root).
        #[arg(long, value_name = "FILE")]
        ignore_file: Option<PathBuf>,
        /// Project config.
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// Runs an `ignore` subcommand.
pub fn run(cmd: IgnoreCommand) -> anyhow::Result<i32> {
    match cmd {
        IgnoreCommand::Add {
            fingerprint,
            reason,
            path,
            ignore_file,
            config,
        } => {
            ignorefile::check_fingerprint(&fingerprint).map_err(anyhow::Error::msg)?;
            if reason.trim().is_empty() {
                anyhow::bail!("--reason is empty: say why this finding is accepted");
            }
            let file = match ignore_file {
                Some(f) => f,
                None => {
                    let project = common::load_project(&config, std::path::Path::new("."))?;
                    let c = &project.config;
                    c.resolve(&c.config.scan.ignore_file)
                }
            };
            if let Some(existing) = IgnoreFile::load(&file)? {
                if existing.has_entry(&fingerprint, path.as_deref()) {
                    eprintln!("leaksweep: {fingerprint} is already in {}", file.display());
                    return Ok(EXIT_CLEAN);
                }
            }
            ignorefile::append(&file, &fingerprint, path.as_deref(), &reason)?;
            eprintln!("leaksweep: added {fingerprint} to {}", file.display());
            Ok(EXIT_CLEAN)
        }
    }
}
