//! The command line: flags -> plans, and the exit-code policy.
//!
//! Exit codes: 0 nothing found, 1 findings (`--exit-code N` changes it), 2 error;
//! `rotate` only: 3 a leaked value was left unrotated (see [`EXIT_NOT_ROTATED`]).
//! `anyhow` is used here only; library modules return `leaksweep::Error`.

/// Every message the CLI writes to stderr names paths, refs, authors or errors that come
/// from scanned data, so `eprintln!` and `eprint!` are replaced, for this module and its
/// children, by versions that escape control characters ([`crate::report::escape`]) before
/// anything reaches the terminal. Defined before the `mod` lines so they see it; a line
/// that must send a terminal sequence on purpose (the progress line) writes to
/// `std::io::stderr()` itself.
macro_rules! eprintln {
    ($($arg:tt)*) => {
        ::std::eprintln!("{}", $crate::report::escape::escape_text(&::std::format!($($arg)*)))
    };
}

/// See [`eprintln!`] above.
macro_rules! eprint {
    ($($arg:tt)*) => {
        ::std::eprint!("{}", $crate::report::escape::escape_text(&::std::format!($($arg)*)))
    };
}

pub mod args;
pub mod baseline;
pub mod common;
pub mod completions;
pub mod config;
pub mod follow;
pub mod git;
pub mod hook;
pub mod ignore;
pub mod merge;
pub mod output;
pub mod progress;
pub mod redact;
pub mod rotate;
pub mod rules;
pub mod scan;
pub mod sweep;
pub mod validate;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use args::Given;
pub use output::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, EXIT_NOT_ROTATED};

/// leaksweep: find leaked credentials in worktrees, git history and logs.
#[derive(Debug, Parser)]
#[command(name = "leaksweep", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, directories or standard input (`-`) for secrets.
    Scan(scan::ScanArgs),
    /// Scan git history (every blob once), a commit range, the index or a push.
    Git(git::GitArgs),
    /// Write a copy of logs or files with every secret masked (for vendors and tickets).
    Redact(redact::RedactArgs),
    /// List, test and check detection rules.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Check the project config (`.leaksweep.toml`) or print the effective one.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Record accepted findings in a baseline, prune it, or import another scanner's.
    #[command(subcommand)]
    Baseline(baseline::BaselineCommand),
    /// Accept a finding by fingerprint in `.leaksweepignore`.
    #[command(subcommand)]
    Ignore(ignore::IgnoreCommand),
    /// Locate leaked secrets in secret stores and rotate them there (dry run by default).
    ///
    /// Exit codes: 0 all planned actions done (or would be, in a dry run); 2 an action
    /// failed, the rotation config is wrong, or --execute was not confirmed; 3 a leaked
    /// value was left unrotated (no matching route, or its finding could not be re-read).
    Rotate(rotate::RotateArgs),
    /// Install or remove the git pre-commit / pre-push hook.
    #[command(subcommand)]
    Hook(hook::HookCommand),
    /// Print shell completions (bash, zsh, fish, elvish, powershell) on stdout.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) on stdout: `leaksweep man > leaksweep.1`.
    Man,
    /// Join the reports of sweep shards (JSON, JSON lines, SARIF) into one.
    Merge(merge::MergeArgs),
}

/// Parses this process's command line once and runs it; returns the process exit code.
/// A bad command line prints clap's message and exits (2, or 0 for `--help`).
pub fn main() -> i32 {
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.format(&mut Cli::command()).exit(),
    };
    cli.command.note_given(&Given::of(&matches));
    run(cli)
}

impl Command {
    /// Hands the flags given on the command line to the argument groups whose defaults
    /// a project config may fill in ([`Given`]).
    fn note_given(&mut self, given: &Given) {
        match self {
            Command::Scan(a) => {
                a.output.given = given.clone();
                a.walk.given = given.clone();
            }
            Command::Git(a) => a.output.given = given.clone(),
            Command::Baseline(
                baseline::BaselineCommand::Create { scan, .. }
                | baseline::BaselineCommand::Update { scan, .. },
            ) => {
                scan.given = given.clone();
                scan.walk.given = given.clone();
            }
            _ => {}
        }
    }
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Git(args) => git::run(&args),
        Command::Rules(cmd) => rules::run(cmd),
        Command::Config(cmd) => config::run(cmd),
        Command::Baseline(cmd) => baseline::run(cmd),
        Command::Ignore(cmd) => ignore::run(cmd),
        Command::Rotate(args) => rotate::run(&args),
        Command::Hook(cmd) => hook::run(cmd),
        Command::Redact(args) => redact::run(&args),
        Command::Completions(args) => completions::completions(&args),
        Command::Man => completions::man(),
        Command::Merge(args) => merge::run(&args),
    };
    output::exit_code(result)
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks over every subcommand (duplicate flag names and the
    /// like panic at run time otherwise, and only for the subcommand that has them).
    #[test]
    fn command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
