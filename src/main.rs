//! The `leaksweep` binary: hands over to `leaksweep::cli`, which parses the flags.

fn main() {
    std::process::exit(leaksweep::cli::main());
}
