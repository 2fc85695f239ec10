//! `leaksweep completions SHELL` and `leaksweep man`: shell completions and a man page,
//! generated from the same clap definition as the parser, so they never drift from it.

use std::io::{self, Write};

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, EXIT_CLEAN};

/// Arguments of `leaksweep completions`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  leaksweep completions bash > ~/.local/share/bash-completion/completions/leaksweep
  leaksweep completions zsh > \"${fpath[1]}/_leaksweep\"
  leaksweep completions fish > ~/.config/fish/completions/leaksweep.fish")]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `args.shell` to stdout.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<i32> {
    let mut cmd = Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "leaksweep", &mut out);
    out.flush()?;
    Ok(EXIT_CLEAN)
}

/// Writes the man page (roff, section 1) to stdout: `leaksweep man > leaksweep.1`.
pub fn man() -> anyhow::Result<i32> {
    let mut out = io::stdout().lock();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    out.flush()?;
    Ok(EXIT_CLEAN)
}
