//! leaksweep: a parallel secret-leak scanner.
//!
//! The data flow is visible in the module layout:
//! [`source`] (walk, read, decompress) -> [`scan`] (chunk, suppress, assemble findings
//! with provenance) -> [`engine`] (keyword prefilter -> regex -> entropy/validator ->
//! allowlists) -> [`finding`] (fingerprint, dedup, order) -> [`report`]. [`pipeline`] wires them on a thread pool; [`cli`] turns flags into plans.
//! [`rules`] describes rules and is read by the engine, never the reverse.
//! [`triage`] (project config, allowlists, ignore file, baselines) tunes the rule list and
//! marks accepted findings as suppressed before they are reported.
//! [`decode`] sits beside the engine: sources hand it each chunk, it finds base64,
//! percent-encoded and escaped spans and runs the engine on their decoded bytes.
//! [`redact`] masks the spans sources find and writes everything else unchanged.
//! [`sweep`] runs git sweeps over many repositories (lists, clones, shards, checkpoints)
//! and merges shard reports.
//!
//! Semver covers the command line and the output formats, not this Rust API.

pub mod alloc;
pub mod civil;
pub mod cli;
pub mod decode;
pub mod engine;
pub mod error;
pub mod finding;
/// Fuzz target bodies, shared by `fuzz/` (cargo-fuzz) and `tests/hardening_fuzz.rs`; only
/// in builds with the `fuzzing` feature, so the shipped binary carries none of it.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod net;
pub mod pipeline;
pub mod private_fs;
pub mod redact;
pub mod report;
pub mod rotate;
pub mod rules;
pub mod scan;
pub mod scrub;
pub mod secret;
pub mod source;
pub mod sweep;
#[cfg(test)]
mod testutil;
pub mod triage;
pub mod validation;

pub use error::{Error, Result};
