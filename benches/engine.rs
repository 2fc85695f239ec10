//! Engine throughput on generated inputs (criterion prints MB/s via `Throughput::Bytes`).
//!
//! Inputs are generated deterministically here, never downloaded: source-like text with no
//! secrets (the common case), keyword-dense config text, minified JavaScript (long lines),
//! and binary-looking noise.

#![allow(clippy::cast_possible_truncation, missing_docs)]

use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leaksweep::engine::prefilter::Prefilter;
use leaksweep::engine::{Engine, Scratch};
use leaksweep::rules::load_builtin;
use leaksweep::scan::{scan_slice, ScanContext};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "let",
    "const",
    "function",
    "return",
    "if",
    "else",
    "for",
    "while",
    "self",
    "value",
    "result",
    "config",
    "request",
    "response",
    "handler",
    "error",
    "string",
    "number",
    "client",
    "server",
    "user",
    "name",
    "data",
    "items",
    "index",
    "count",
    "buffer",
    "stream",
    "parse",
    "format",
    "token_count",
    "keyboard",
    "monkey",
    "passage",
    "secretary",
    "Option",
    "Vec",
    "HashMap",
];

fn source_text(size: usize, seed: u64, dense: bool) -> Vec<u8> {
    let mut r = Rng(seed);
    let mut out = String::with_capacity(size + 200);
    while out.len() < size {
        let indent = (r.next() % 4) as usize * 4;
        out.push_str(&" ".repeat(indent));
        let n = 3 + (r.next() % 9) as usize;
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(r.pick(WORDS));
        }
        if dense && r.next() % 3 == 0 {
            out.push_str(r.pick(&[
                " password = get_password(user)",
                " api_key: ${API_KEY}",
                " token = request.headers.get(\"Authorization\")",
                " url = \"https://docs.example.com/a/b\"",
                " secret_name = \"prod-db\"",
            ]));
        }
        out.push_str(";\n");
    }
    out.into_bytes()
}

fn minified(size: usize) -> Vec<u8> {
    source_text(size, 7, true)
        .into_iter()
        .map(|b| if b == b'\n' { b' ' } else { b })
        .collect()
}

/// nginx access lines and JSON application records with hex ids, timestamps, paths and
/// user agents, like `../shared/bench/make_logs.py` writes, without any secret or any
/// encoded data: the case where decoding must cost almost nothing.
fn log_lines(size: usize) -> Vec<u8> {
    let mut r = Rng(5);
    let hex = |r: &mut Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[(r.next() % 16) as usize]))
            .collect()
    };
    let mut out = String::with_capacity(size + 400);
    while out.len() < size {
        if r.next() % 5 < 3 {
            out.push_str(&format!(
                "10.{}.{}.{} - user{:05} [21/Nov/2023:10:46:{:02} +0000] \"GET /{}/{}/{} HTTP/1.1\" 200 {} \"-\" \"{}\" rt=0.{:03} req_id={}\n",
                r.next() % 256,
                r.next() % 256,
                r.next() % 256,
                r.next() % 100_000,
                r.next() % 60,
                r.pick(&["api", "v2", "users", "orders", "static", "reports"]),
                r.next() % 99_999,
                r.pick(&["items", "settings", "webhooks.js", "export", "cart"]),
                r.next() % 250_000,
                r.pick(&[
                    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                    "python-requests/2.31.0",
                    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15",
                ]),
                r.next() % 1000,
                hex(&mut r, 32),
            ));
        } else {
            out.push_str(&format!(
                "{{\"ts\":\"2023-11-21T10:46:04.{:03}Z\",\"level\":\"INFO\",\"service\":\"{}\",\"trace_id\":\"{}\",\"span_id\":\"{}\",\"msg\":\"{}\",\"duration_ms\":{}}}\n",
                r.next() % 1000,
                r.pick(&["orders", "payments", "auth", "catalog"]),
                hex(&mut r, 32),
                hex(&mut r, 16),
                r.pick(&["request completed", "cache miss, loading from database", "health check ok"]),
                r.next() % 3000,
            ));
        }
    }
    out.into_bytes()
}

fn binaryish(size: usize) -> Vec<u8> {
    let mut r = Rng(99);
    (0..size).map(|_| (r.next() & 0xff) as u8).collect()
}

fn bench(c: &mut Criterion) {
    let engine = Arc::new(Engine::new(load_builtin().unwrap()).unwrap());
    let ctx = ScanContext::new(engine);
    let size = 16 << 20;
    let inputs = [
        ("source-no-hits", source_text(size, 1, false)),
        ("config-keyword-dense", source_text(size, 2, true)),
        ("minified-js", minified(size)),
        ("binary-noise", binaryish(size)),
    ];
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    for (name, data) in &inputs {
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(*name, |b| {
            let mut scratch = Scratch::default();
            b.iter(|| scan_slice(&ctx, data, "bench", &mut scratch).len());
        });
    }
    // Decoding (base64, percent, escapes) on text with no encoded data: compare each
    // input with and without it; the difference is the cost of looking for candidates.
    let logs = log_lines(size);
    let mut plain = ctx.clone();
    plain.decode.max_depth = 0;
    for (name, data) in [("log-lines", &logs), ("source-no-hits", &inputs[0].1)] {
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(format!("{name}/decode"), |b| {
            let mut scratch = Scratch::default();
            b.iter(|| scan_slice(&ctx, data, "bench", &mut scratch).len());
        });
        g.bench_function(format!("{name}/no-decode"), |b| {
            let mut scratch = Scratch::default();
            b.iter(|| scan_slice(&plain, data, "bench", &mut scratch).len());
        });
    }
    g.finish();
}

/// The keyword pass alone, the shipped anchor finder against one Aho-Corasick DFA over the
/// same keywords (the design it replaced, still the finder for rule sets with keywords
/// shorter than three bytes): the same hits, read two ways.
fn bench_prefilter(c: &mut Criterion) {
    let keywords: Vec<Vec<String>> = load_builtin()
        .unwrap()
        .into_iter()
        .filter(|r| r.spec.paths.is_empty())
        .map(|r| r.spec.keywords)
        .collect();
    let anchors = Prefilter::new(&keywords).unwrap();
    let all: Vec<&String> = keywords.iter().flatten().collect();
    let automaton = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&all)
        .unwrap();
    let size = 16 << 20;
    let mut g = c.benchmark_group("prefilter");
    g.sample_size(10);
    for (name, data) in [
        ("source-no-hits", source_text(size, 1, false)),
        ("config-keyword-dense", source_text(size, 2, true)),
        ("log-lines", log_lines(size)),
    ] {
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(format!("{name}/anchors"), |b| {
            let mut found = Vec::new();
            b.iter(|| {
                let mut n = 0usize;
                anchors.for_each_hit(&data, &mut found, |_, _, _| n += 1);
                n
            });
        });
        g.bench_function(format!("{name}/aho-corasick-dfa"), |b| {
            b.iter(|| automaton.find_overlapping_iter(&data).count());
        });
    }
    g.finish();
}

criterion_group!(benches, bench, bench_prefilter);
criterion_main!(benches);
