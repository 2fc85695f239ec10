//! Fuzz target bodies, shared by the cargo-fuzz targets in `fuzz/` and the stable
//! random-input harness in `tests/hardening_fuzz.rs`, so both exercise the same code.
//!
//! Each function takes arbitrary bytes and must never panic, hang or allocate without
//! bound; the engine target also checks an oracle (the same findings whatever the chunk
//! size and whether the input is a slice or a stream). Not a stable API.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::engine::{Engine, Scratch};
use crate::source::{scan_reader, scan_slice, Limits, ScanContext};

fn builtin_engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let rules = crate::rules::load_builtin().expect("the built-in rules load");
            Arc::new(Engine::new(rules).expect("the built-in rules compile"))
        })
        .clone()
}

fn context(chunk: usize) -> ScanContext {
    let mut ctx = ScanContext::new(builtin_engine());
    ctx.chunk_size = chunk;
    ctx.limits = Limits {
        max_findings_per_file: 0,
        file_timeout: None,
    };
    ctx
}

type Key = (u64, u64, u64, u64, u64, String, String);

fn keys(found: &[crate::finding::Finding]) -> Vec<Key> {
    let mut k: Vec<Key> = found
        .iter()
        .map(|f| {
            (
                f.offset,
                f.line,
                f.column,
                f.end_line,
                f.end_column,
                f.rule_id.clone(),
                f.fingerprint.clone(),
            )
        })
        .collect();
    k.sort();
    k
}

/// The engine on arbitrary bytes: scanned whole, in 1 KiB chunks (in parallel) and as a
/// 1 KiB-chunked stream, the findings must be the same.
pub fn engine(data: &[u8]) {
    let whole = scan_slice(&context(usize::MAX), data, "fuzz", &mut Scratch::default());
    let chunked = scan_slice(&context(1024), data, "fuzz", &mut Scratch::default());
    let (streamed, stats, err) = scan_reader(
        &context(1024),
        &mut &data[..],
        "fuzz",
        &mut Scratch::default(),
        &mut |_| {},
    );
    assert!(err.is_none());
    assert_eq!(stats.bytes, data.len() as u64);
    for f in &whole {
        let start = usize::try_from(f.offset).unwrap_or(usize::MAX);
        assert!(
            start + f.secret.len() <= data.len(),
            "a finding lies inside the input"
        );
    }
    // A chunk carries the line before it as context back to the engine's look-behind
    // (`WINDOW_BACK`); only a line longer than that, cut by a chunk boundary, may be
    // matched differently from a whole-file scan.
    let longest_line = data
        .split(|&b| b == b'\n')
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0);
    if longest_line > crate::engine::prefilter::WINDOW_BACK {
        return;
    }
    let want = keys(&whole);
    assert_eq!(keys(&chunked), want, "chunked slice differs from whole");
    assert_eq!(keys(&streamed), want, "stream differs from whole");
}

/// The leaksweep rule-file parser, then the engine build (regex compilation limits).
pub fn rule_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rules) = crate::rules::parse_rule_file("fuzz.toml", text) {
        if let Ok(engine) = Engine::new(rules) {
            let mut out = Vec::new();
            engine.scan(data, data.len(), None, &mut Scratch::default(), &mut out);
        }
    }
}

/// The gitleaks/betterleaks rule translator.
pub fn gitleaks_rules(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::triage::gitleaks_rules::parse("fuzz.toml", text);
    }
}

/// The project config (`.leaksweep.toml`).
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::triage::config::LoadedConfig::parse(
            Path::new("fuzz/.leaksweep.toml"),
            text.to_string(),
        );
    }
}

/// The baseline reader.
pub fn baseline(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::triage::baseline::Baseline::parse(Path::new("fuzz.json"), text);
    }
}

/// The ignore-file reader.
pub fn ignore_file(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::triage::ignorefile::IgnoreFile::parse(Path::new(".leaksweepignore"), text);
    }
}

/// The report reader of `rotate --report` (JSON and JSON Lines).
pub fn rotate_report(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::cli::rotate::fuzz_parse_report(text);
    }
}

/// The rotation config (`[rotation]` of `.leaksweep.toml`).
pub fn rotation_config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::rotate::config::parse(text, Path::new("fuzz.toml"));
    }
}

/// A fuzz target body.
pub type Target = fn(&[u8]);

/// Every target, by name (the fuzz binaries and the stable harness use these names).
pub const TARGETS: &[(&str, Target)] = &[
    ("engine", engine),
    ("rule_file", rule_file),
    ("gitleaks_rules", gitleaks_rules),
    ("config", config),
    ("baseline", baseline),
    ("ignore_file", ignore_file),
    ("rotate_report", rotate_report),
    ("rotation_config", rotation_config),
];
