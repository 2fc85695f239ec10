//! The `leaksweep` binary: parses flags and hands over to `leaksweep::cli`.

use clap::Parser;

fn main() {
    let cli = leaksweep::cli::Cli::parse();
    std::process::exit(leaksweep::cli::run(cli));
}
