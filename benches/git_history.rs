//! History sweep throughput on a generated repository (criterion prints MB/s of unique
//! blob bytes via `Throughput::Bytes`).
//!
//! The repository is built here with git2, deterministically: 240 commits, each rewriting
//! 4 of 60 source-like files (about 24 KB each), so about 1,000 unique blobs and 24 MB.
//! Two secrets are planted, one later removed. The peers comparison on a real history is
//! `../shared/bench/compare.sh target/release/leaksweep git REPO`.

#![allow(clippy::cast_possible_truncation, missing_docs)]

use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use git2::{Repository, Signature, Time};
use leaksweep::engine::Engine;
use leaksweep::rules::load_builtin;
use leaksweep::scan::ScanContext;
use leaksweep::source::git::{self, GitOptions, Progress, Selection};

const FILES: usize = 60;
const COMMITS: usize = 240;
const WORDS: &[&str] = &[
    "let",
    "const",
    "return",
    "if",
    "else",
    "for",
    "self",
    "value",
    "result",
    "config",
    "request",
    "response",
    "handler",
    "error",
    "client",
    "server",
    "user",
    "name",
    "data",
    "buffer",
    "stream",
    "parse",
    "format",
    "key",
    "token_count",
    "password_hint",
    "secretary",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn file_text(rng: &mut Rng, size: usize) -> String {
    let mut s = String::with_capacity(size + 100);
    while s.len() < size {
        for _ in 0..(4 + rng.next() % 8) {
            s.push_str(WORDS[(rng.next() % WORDS.len() as u64) as usize]);
            s.push(' ');
        }
        s.push_str("= call(arg);\n");
    }
    s
}

/// Builds the repository; returns the unique blob bytes.
fn build(dir: &Path) -> u64 {
    let repo = Repository::init(dir).unwrap();
    let mut rng = Rng(0x5eed);
    let mut contents: Vec<String> = (0..FILES).map(|_| file_text(&mut rng, 24_000)).collect();
    let mut bytes = 0u64;
    let mut parent: Option<git2::Oid> = None;
    for c in 0..COMMITS {
        let touched: Vec<usize> = if c == 0 {
            (0..FILES).collect()
        } else {
            (0..4)
                .map(|_| (rng.next() % FILES as u64) as usize)
                .collect()
        };
        for &f in &touched {
            if c > 0 {
                contents[f] = file_text(&mut rng, 24_000);
            }
            if c == 10 && f == touched[0] {
                // A fake AWS key id, generated: AKIA + 16 base32 characters.
                let id: String = (0..16)
                    .map(|_| {
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(rng.next() % 32) as usize] as char
                    })
                    .collect();
                contents[f].push_str(&format!("AWS_ACCESS_KEY_ID = \"AKIA{id}\"\n"));
            }
        }
        let mut tb = repo.treebuilder(None).unwrap();
        for (i, text) in contents.iter().enumerate() {
            let oid = repo.blob(text.as_bytes()).unwrap();
            tb.insert(format!("src_{i:03}.rs"), oid, 0o100_644).unwrap();
        }
        let tree = repo.find_tree(tb.write().unwrap()).unwrap();
        let sig = Signature::new(
            "Bench",
            "bench@leaksweep.invalid",
            &Time::new(1_600_000_000 + c as i64 * 3600, 0),
        )
        .unwrap();
        let parents: Vec<git2::Commit<'_>> = parent
            .map(|p| repo.find_commit(p).unwrap())
            .into_iter()
            .collect();
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let id = repo
            .commit(
                Some("HEAD"),
                &sig,
                &sig,
                &format!("commit {c}"),
                &tree,
                &refs,
            )
            .unwrap();
        parent = Some(id);
    }
    let odb = repo.odb().unwrap();
    odb.foreach(|oid| {
        if let Ok((size, git2::ObjectType::Blob)) = odb.read_header(*oid) {
            bytes += size as u64;
        }
        true
    })
    .unwrap();
    bytes
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::TempDir::new().unwrap();
    let bytes = build(dir.path());
    git::configure_libgit2();
    let engine = Arc::new(Engine::new(load_builtin().unwrap()).unwrap());
    let ctx = ScanContext::new(engine);
    let repo = git::open(dir.path()).unwrap();
    let mut g = c.benchmark_group("git");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    for threads in [1, 2] {
        g.bench_function(format!("full-history-{threads}-threads"), |b| {
            let opts = GitOptions {
                threads,
                ..GitOptions::default()
            };
            b.iter(|| {
                let out = git::sweep(
                    &ctx,
                    &repo,
                    &Selection::All,
                    &opts,
                    &Progress::default(),
                    &|_| {},
                )
                .unwrap();
                assert!(!out.findings.is_empty());
                out.findings.len()
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
