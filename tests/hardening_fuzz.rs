//! Issue #9: a stable-toolchain fuzz harness. It runs the fuzz target bodies of
//! `leaksweep::fuzzing` (the same ones `fuzz/` runs under cargo-fuzz) on seeded random
//! mutations of a seed corpus, plus every file under `tests/fuzz-regressions/<target>/`
//! (crash inputs found by fuzzing are kept there as regression tests).
//!
//! `LEAKSWEEP_FUZZ_ITERS` (default 400) sets mutations per target; `LEAKSWEEP_FUZZ_SEED`
//! changes the random stream; `LEAKSWEEP_FUZZ_ONLY=a,b` runs only the named targets. A
//! failure prints the seed and iteration to replay it.

use std::path::Path;

use leaksweep::fuzzing::TARGETS;

struct Rng(u64);

/// SplitMix64's finalizer: a seed to a well-mixed state.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }
    }
}

/// Tokens that matter to the parsers and the engine, spliced into inputs.
const DICT: &[&str] = &[
    "ghp_",
    "AKIA",
    "xoxb-",
    "sk_live_",
    "-----BEGIN RSA PRIVATE KEY-----",
    "password=",
    "postgres://u:",
    "@h/db",
    "\n",
    "\r\n",
    "\"",
    "'''",
    "[[rule]]",
    "[[allowlist]]",
    "[rotation]",
    "regex = ",
    "keywords = [",
    "]",
    "{",
    "}",
    "[",
    ",",
    ":",
    "=",
    "lsw1:",
    "# leaksweep:allow",
    "\u{feff}",
    "\u{e9}",
    "\u{1F600}",
    "\\",
    "\\u0000",
    "\0",
    "0",
    "-1",
    "1e999",
    "18446744073709551616",
    "version = 1",
    "version = 99",
    "(?i)",
    "(",
    ")",
    "*",
    "+",
    "{1000}",
    "{1,}",
    "\\b",
    "[A-Za-z0-9]",
    "secret_group = 7",
    "\"findings\":",
    "\"fingerprint\":",
    "\"rule_id\":",
    "\"path\":",
    "%2F",
    "%25",
    "%3D",
    "%zz",
    "%",
    "\\x41",
    "\\u00e9",
    "\\ud83d\\ude00",
    "\\ud800",
    "\\\"",
    "\\n",
    "\\b",
    "==",
    "Z2hwX3E4WnIybVY5eEs0dFc3cExhMWIyYzNkNGU1ZjZnN2g4aTlqMA",
    "-_",
    "+/",
];

fn mutate(rng: &mut Rng, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..=rng.below(8) {
        match rng.below(8) {
            0 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] ^= 1 << rng.below(8);
            }
            1 if !d.is_empty() => {
                let i = rng.below(d.len());
                let n = rng.below(16).min(d.len() - i);
                d.drain(i..i + n);
            }
            2 => {
                let i = rng.below(d.len() + 1);
                let t = DICT[rng.below(DICT.len())].as_bytes();
                d.splice(i..i, t.iter().copied());
            }
            3 if !d.is_empty() => {
                // Duplicate a range many times (long runs of key characters).
                let i = rng.below(d.len());
                let n = (1 + rng.below(32)).min(d.len() - i);
                let piece: Vec<u8> = d[i..i + n].to_vec();
                let times = 1 + rng.below(200);
                for _ in 0..times {
                    d.splice(i..i, piece.iter().copied());
                }
            }
            4 => {
                let i = rng.below(d.len() + 1);
                let b = u8::try_from(rng.below(256)).unwrap_or(0);
                d.insert(i, b);
            }
            5 if !others.is_empty() => {
                let o = &others[rng.below(others.len())];
                if !o.is_empty() {
                    let a = rng.below(o.len());
                    let b = a + rng.below(o.len() - a);
                    let i = rng.below(d.len() + 1);
                    d.splice(i..i, o[a..b].iter().copied());
                }
            }
            6 if !d.is_empty() => {
                let i = rng.below(d.len());
                d.truncate(i);
            }
            _ => {
                let i = rng.below(d.len() + 1);
                let n = rng.below(8);
                let bytes: Vec<u8> = (0..n)
                    .map(|_| u8::try_from(rng.below(256)).unwrap_or(0))
                    .collect();
                d.splice(i..i, bytes);
            }
        }
    }
    d.truncate(64 * 1024);
    d
}

fn read_dir_files(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut paths: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_file() {
                if let Ok(b) = std::fs::read(&p) {
                    out.push(b);
                }
            }
        }
    }
    out
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut s = read_dir_files(&root.join("fuzz/seeds").join(target));
    match target {
        "rule_file" | "gitleaks_rules" => {
            let mut rules = read_dir_files(&root.join("rules"));
            rules.truncate(8);
            s.extend(rules);
        }
        "engine" => {
            s.push(b"GITHUB_TOKEN=ghp_q8Zr2mV9xK4tW7pLa1b2c3d4e5f6g7h8i9j0\n".to_vec());
            s.push(
                b"aws_access_key_id = AKIAQ7VRSQ5TJN2XKBRZ\npassword=\"hunter2hunter2\"\n".to_vec(),
            );
        }
        _ => {}
    }
    if s.is_empty() {
        s.push(Vec::new());
    }
    s
}

#[test]
fn issue_9_fuzz_targets_survive_random_inputs() {
    let iters: usize = std::env::var("LEAKSWEEP_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let seed: u64 = std::env::var("LEAKSWEEP_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_1ea4);
    let only = std::env::var("LEAKSWEEP_FUZZ_ONLY").ok();
    for (ti, (name, target)) in TARGETS.iter().enumerate() {
        let corpus = seeds(name);
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|t| t == *name))
        {
            continue;
        }
        // Mixed, so that seeds differing only in their low bit give different streams.
        let mut rng = Rng(splitmix(seed ^ (ti as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1);
        for it in 0..iters {
            let base = &corpus[rng.below(corpus.len())];
            let input = mutate(&mut rng, base, &corpus);
            let r = std::panic::catch_unwind(|| target(&input));
            if r.is_err() {
                let dir = std::env::temp_dir().join("leaksweep-fuzz-crash");
                let _ = std::fs::create_dir_all(&dir);
                let file = dir.join(format!("{name}-{seed}-{it}"));
                let _ = std::fs::write(&file, &input);
                panic!(
                    "fuzz target {name} failed at iteration {it} (LEAKSWEEP_FUZZ_SEED={seed}); \
                     input saved to {}",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn issue_9_fuzz_regressions_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    for (name, target) in TARGETS {
        for input in read_dir_files(&root.join(name)) {
            target(&input);
        }
    }
}
