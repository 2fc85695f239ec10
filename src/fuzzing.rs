//! Fuzz target bodies, shared by the cargo-fuzz targets in `fuzz/` and the stable
//! random-input harness in `tests/hardening_fuzz.rs`, so both exercise the same code.
//!
//! Each function takes arbitrary bytes and must never panic, hang or allocate without
//! bound; the engine target also checks an oracle (the same findings whatever the chunk
//! size and whether the input is a slice or a stream), and the decoder targets check
//! theirs (length bounds, exact position maps, round trips through reference encoders,
//! the decode-depth limit). Not a stable API.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC};

use crate::decode::{
    self, DecodeOptions, Encoding, ESCAPE_REACH, MAX_BASE64_RUN, MAX_PERCENT_TOKEN, MIN_BASE64_RUN,
};
use crate::engine::{Engine, Scratch};
use crate::scan::{scan_reader, scan_slice, Limits, ScanContext};

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
        max_decompressed: None,
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

/// A byte of either base64 alphabet.
fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// A decoded-to-encoded map is one entry per decoded byte, in order, inside `enc`.
fn check_map(enc: &[u8], bytes: &[u8], map: &[u32], strictly: bool) {
    assert_eq!(map.len(), bytes.len(), "one map entry per decoded byte");
    for w in map.windows(2) {
        assert!(
            if strictly { w[0] < w[1] } else { w[0] <= w[1] },
            "the map runs forward: {w:?}"
        );
    }
    if let Some(&last) = map.last() {
        assert!((last as usize) < enc.len(), "the map stays inside the span");
    }
}

/// Candidates of one encoding, as the decode layer finds them in `data`.
fn spans(data: &[u8], which: &[Encoding]) -> Vec<(Encoding, usize, usize)> {
    let c = decode::fuzz_candidates(data, data.len());
    for &(_, s, e) in &c {
        assert!(
            s < e && e <= data.len(),
            "a candidate lies inside the input"
        );
    }
    c.into_iter().filter(|c| which.contains(&c.0)).collect()
}

/// Checks one base64 decoding. Bound: `decoded * 4 <= body * 3` (the body is the run
/// without its `=` padding), at least 8 bytes, mostly printable; faithful: re-encoding
/// the bytes gives the body back except its last character (whose low bits the decoder
/// ignores) and a dangling 4k+1-th character (dropped).
fn check_base64_decode(enc: &[u8]) {
    let Some((bytes, map)) = decode::fuzz_decode(Encoding::Base64, enc) else {
        return;
    };
    assert!(map.is_empty(), "base64 maps by groups, not bytes");
    let body_len = enc.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let mut body = &enc[..body_len];
    assert!(
        bytes.len() * 4 <= body.len() * 3,
        "{} bytes decoded from {} characters",
        bytes.len(),
        body.len()
    );
    assert!(bytes.len() >= 8 && crate::decode::mostly_printable(&bytes));
    if body.len() % 4 == 1 {
        // A dangling 4k+1-th character is dropped, and what was before it may end in
        // padding (only on spans that are not candidates: a run never holds `=`).
        body = &body[..body.len() - 1];
        let kept = body.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
        body = &body[..kept];
    }
    let url = body.iter().any(|&b| b == b'-' || b == b'_');
    let again = if url {
        URL_SAFE_NO_PAD.encode(&bytes)
    } else {
        STANDARD_NO_PAD.encode(&bytes)
    };
    assert_eq!(again.len(), body.len());
    let n = body.len().saturating_sub(1);
    assert_eq!(&again.as_bytes()[..n], &body[..n], "decoding is faithful");
}

/// Base64: the run search and the decoder on arbitrary bytes, then a round trip: the
/// rest of the input (as bytes, or made printable) encoded with the reference encoder
/// (standard or URL-safe, padded or not, by the first byte) and embedded in a line is
/// found as one run and decoded to exactly the original bytes when it is text.
pub fn decode_base64(data: &[u8]) {
    let mut prev_end = 0;
    let mut total = 0;
    for (_, s, e) in spans(data, &[Encoding::Base64]) {
        let span = &data[s..e];
        let body_len = span.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
        let body = &span[..body_len];
        assert!(span.len() - body_len <= 2, "at most two `=`");
        assert!(
            body.iter().copied().all(is_b64),
            "a run is base64 characters"
        );
        assert!((MIN_BASE64_RUN..=MAX_BASE64_RUN).contains(&body.len()));
        assert!(s == 0 || !is_b64(data[s - 1]), "a run starts at its start");
        assert!(
            !data.get(s + body_len).is_some_and(|&b| is_b64(b)),
            "a run ends at its end"
        );
        assert!(body.iter().any(u8::is_ascii_uppercase) && body.iter().any(u8::is_ascii_lowercase));
        assert!(s >= prev_end, "runs do not overlap");
        prev_end = e;
        total += e - s;
        check_base64_decode(span);
    }
    assert!(total <= data.len());
    check_base64_decode(data);

    let flags = data.first().copied().unwrap_or(0);
    let mut payload: Vec<u8> = data.iter().skip(1).take(3000).copied().collect();
    if flags & 4 != 0 {
        for b in &mut payload {
            *b = b' ' + *b % 95;
        }
    }
    let enc = match flags & 3 {
        0 => STANDARD.encode(&payload),
        1 => STANDARD_NO_PAD.encode(&payload),
        2 => URL_SAFE.encode(&payload),
        _ => URL_SAFE_NO_PAD.encode(&payload),
    };
    let line = [b"key: \"", enc.as_bytes(), b"\" end"].concat();
    let found = spans(&line, &[Encoding::Base64]);
    let body = enc.trim_end_matches('=');
    let runs = (MIN_BASE64_RUN..=MAX_BASE64_RUN).contains(&body.len())
        && body.bytes().any(|b| b.is_ascii_uppercase())
        && body.bytes().any(|b| b.is_ascii_lowercase());
    if !runs {
        assert!(found.is_empty(), "{found:?}");
        return;
    }
    assert_eq!(found, [(Encoding::Base64, 6, 6 + enc.len())]);
    let got = decode::fuzz_decode(Encoding::Base64, &line[6..6 + enc.len()]).map(|d| d.0);
    // As the decoder: a run longer than 256 characters is first judged by its first 48
    // decoded bytes (64 characters), then as a whole.
    let head_is_text = body.len() <= 256 || crate::decode::mostly_printable(&payload[..48]);
    if payload.len() >= 8 && head_is_text && crate::decode::mostly_printable(&payload) {
        assert_eq!(got.as_deref(), Some(&payload[..]), "round trip");
    } else {
        assert!(got.is_none(), "binary is not decoded");
    }
}

/// Bytes that the percent decoder keeps in a token (as `percent::is_token_byte`).
fn is_token_byte(b: u8) -> bool {
    b > b' ' && b < 0x7f && !matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>')
}

/// How many `%XX` a left-to-right decoder undoes in `enc`.
fn percent_units(enc: &[u8]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < enc.len() {
        let hex = |j: usize| enc.get(j).is_some_and(u8::is_ascii_hexdigit);
        if enc[i] == b'%' && hex(i + 1) && hex(i + 2) {
            n += 1;
            i += 3;
        } else {
            i += 1;
        }
    }
    n
}

/// Checks one percent decoding against the reference decoder (`percent_encoding`).
/// Bound: exactly `encoded - 2 * units` bytes (each `%XX` becomes one byte, every other
/// byte is kept), so never more than the input; the map points at each byte's unit.
fn check_percent_decode(enc: &[u8]) {
    let units = percent_units(enc);
    let Some((bytes, map)) = decode::fuzz_decode(Encoding::Percent, enc) else {
        assert_eq!(units, 0, "a span with %XX is decoded");
        return;
    };
    assert!(units > 0);
    let reference: Vec<u8> = percent_encoding::percent_decode(enc).collect();
    assert_eq!(bytes, reference, "same bytes as the reference decoder");
    assert_eq!(bytes.len() + 2 * units, enc.len());
    check_map(enc, &bytes, &map, true);
    for (k, &at) in map.iter().enumerate() {
        let at = at as usize;
        let next = map.get(k + 1).map_or(enc.len(), |&n| n as usize);
        let width = if enc[at] == b'%' && next - at == 3 {
            3
        } else {
            1
        };
        assert_eq!(next - at, width, "each unit is one byte or one %XX");
        if width == 1 {
            assert_eq!(bytes[k], enc[at]);
        }
    }
}

/// Bytes a URL-ish token never holds unencoded in the round trip: controls, space,
/// quotes, angle brackets, `%` itself and `\` (which would open an escape region).
const TOKEN_UNSAFE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'\'')
    .add(b'`')
    .add(b'<')
    .add(b'>')
    .add(b'%')
    .add(b'\\');

/// Percent-encoding: tokens and the decoder on arbitrary bytes, then a round trip: the
/// rest of the input percent-encoded by the reference encoder (every non-alphanumeric
/// byte, or only what a URL must encode) in a request line is found as one token and
/// decoded to the original bytes, each mapped to its `%XX`.
pub fn decode_percent(data: &[u8]) {
    let mut total = 0;
    for (_, s, e) in spans(data, &[Encoding::Percent]) {
        let tok = &data[s..e];
        assert!(tok.len() <= MAX_PERCENT_TOKEN);
        assert!(
            tok.iter().copied().all(is_token_byte),
            "a token is URL-ish bytes"
        );
        assert!(percent_units(tok) > 0, "a token holds a %XX");
        total += tok.len();
        check_percent_decode(tok);
    }
    // Tokens may overlap only where one was cut at its cap: at most twice the input.
    assert!(
        total <= 2 * data.len(),
        "{total} token bytes in {}",
        data.len()
    );
    check_percent_decode(data);

    let flags = data.first().copied().unwrap_or(0);
    let payload: Vec<u8> = data.iter().skip(1).take(1000).copied().collect();
    let set = if flags & 1 == 0 {
        NON_ALPHANUMERIC
    } else {
        TOKEN_UNSAFE
    };
    let enc = percent_encoding::percent_encode(&payload, set).to_string();
    let line = format!("GET /cb?q={enc} HTTP/1.1\n");
    let found = spans(line.as_bytes(), &[Encoding::Percent, Encoding::Escape]);
    if !enc.contains('%') {
        assert!(found.is_empty(), "{found:?}");
        return;
    }
    let end = 10 + enc.len();
    assert_eq!(found, [(Encoding::Percent, 4, end)]);
    let (bytes, map) =
        decode::fuzz_decode(Encoding::Percent, &line.as_bytes()[4..end]).unwrap_or_default();
    assert_eq!(bytes, [&b"/cb?q="[..], &payload].concat(), "round trip");
    let mut at = 6;
    for (k, &b) in payload.iter().enumerate() {
        assert_eq!(map[6 + k] as usize, at, "byte {k} maps to its unit");
        at += percent_encoding::percent_encode(&[b], set)
            .to_string()
            .len();
    }
}

/// True if the bytes after a backslash are an escape the decoder undoes.
fn undone_escape(next: &[u8]) -> bool {
    let hex = |r: std::ops::Range<usize>| {
        next.get(r)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    };
    match next.first() {
        Some(b'"' | b'\\' | b'/' | b'\'' | b'n' | b'r' | b't' | b'b' | b'f') => true,
        Some(b'u') => hex(1..5),
        Some(b'x') => hex(1..3),
        _ => false,
    }
}

/// True if the bytes after a backslash open an escape region (as `escape::opens`):
/// `\"`, `\n`, `\uXXXX`, `\xHH`.
fn opens_region(next: &[u8]) -> bool {
    let hex = |r: std::ops::Range<usize>| {
        next.get(r)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    };
    match next.first() {
        Some(b'"' | b'n') => true,
        Some(b'u') => hex(1..5),
        Some(b'x') => hex(1..3),
        _ => false,
    }
}

/// Checks one escape decoding. Bound: never longer than the input (`\X` 2 -> 1 byte,
/// `\xHH` 4 -> 1, `\uXXXX` 6 -> at most 3, a surrogate pair 12 -> 4); bytes that are not
/// part of an escape are copied; decoded iff some escape is undone.
fn check_escape_decode(enc: &[u8]) {
    let any = (0..enc.len()).any(|i| enc[i] == b'\\' && undone_escape(&enc[i + 1..]));
    let Some((bytes, map)) = decode::fuzz_decode(Encoding::Escape, enc) else {
        assert!(!any, "a span with an escape is decoded");
        return;
    };
    assert!(any);
    assert!(
        bytes.len() <= enc.len(),
        "{} bytes from {}",
        bytes.len(),
        enc.len()
    );
    check_map(enc, &bytes, &map, false);
    for (k, &at) in map.iter().enumerate() {
        let at = at as usize;
        if enc[at] != b'\\' {
            assert_eq!(bytes[k], enc[at], "plain bytes are copied");
        }
    }
}

/// JSON with every non-ASCII character written as `\uXXXX` (surrogate pairs above the
/// BMP), as ASCII-only JSON writers do.
fn ascii_json(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_default();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// Escapes: regions and the decoder on arbitrary bytes, then round trips: the rest of
/// the input escaped by `std::ascii::escape_default` (`\xHH`, `\n`, `\"`, ...), by
/// `serde_json` (as a string in a JSON line), or by serde_json then `\uXXXX` for every
/// non-ASCII character, decodes to exactly the original.
pub fn decode_escape(data: &[u8]) {
    let mut total = 0;
    for (_, s, e) in spans(data, &[Encoding::Escape]) {
        let region = &data[s..e];
        assert!(region.len() <= 2 * ESCAPE_REACH);
        assert!(!region.contains(&b'\n'), "a region is within one line");
        total += region.len();
        check_escape_decode(region);
    }
    // A region reaches back at most one region's length over the one before.
    assert!(
        total <= 2 * data.len(),
        "{total} region bytes in {}",
        data.len()
    );
    check_escape_decode(data);

    let flags = data.first().copied().unwrap_or(0);
    let payload: Vec<u8> = data.iter().skip(1).take(1000).copied().collect();
    if flags & 3 == 0 {
        let esc: Vec<u8> = payload
            .iter()
            .flat_map(|&b| std::ascii::escape_default(b))
            .collect();
        let got = decode::fuzz_decode(Encoding::Escape, &esc).map_or_else(|| esc.clone(), |d| d.0);
        assert_eq!(got, payload, "escape_default round trip");
        return;
    }
    let text = String::from_utf8_lossy(&payload);
    let json = if flags & 3 == 1 {
        serde_json::to_string(&text).unwrap_or_default()
    } else {
        ascii_json(&text)
    };
    let line = format!("{{\"msg\":{json}}}");
    let want = format!("{{\"msg\":\"{text}\"}}");
    let got = decode::fuzz_decode(Encoding::Escape, line.as_bytes())
        .map_or_else(|| line.clone().into_bytes(), |d| d.0);
    assert_eq!(
        String::from_utf8_lossy(&got),
        want,
        "JSON round trip of {json}"
    );
    // The decode layer opens the whole line as one region (when no percent token takes
    // the escapes first).
    let found = spans(line.as_bytes(), &[Encoding::Percent, Encoding::Escape]);
    let b = line.as_bytes();
    let opens = (0..b.len()).any(|i| b[i] == b'\\' && opens_region(&b[i + 1..]));
    if !line.contains('%') && opens && line.len() <= ESCAPE_REACH {
        assert_eq!(found, [(Encoding::Escape, 0, line.len())]);
    }
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A GitHub classic token with a valid checksum, its body drawn from `seed`.
fn github_pat(seed: &[u8]) -> String {
    let body: String = (0..30)
        .map(|i| {
            let b = seed
                .get(i)
                .copied()
                .unwrap_or(0)
                .wrapping_add(u8::try_from(i).unwrap_or(0).wrapping_mul(37));
            char::from(BASE62[usize::from(b) % 62])
        })
        .collect();
    let mut n = crc32fast::hash(body.as_bytes());
    let mut tail = [b'0'; 6];
    for t in tail.iter_mut().rev() {
        *t = BASE62[(n % 62) as usize];
        n /= 62;
    }
    format!("ghp_{body}{}", String::from_utf8_lossy(&tail))
}

/// One layer of a round-trip chain; each hides the token from the plain scan.
#[derive(Debug, Clone, Copy)]
enum Layer {
    Base64,
    Base64Url,
    Percent,
    /// Every byte as `\xHH`.
    Escape,
}

impl Layer {
    fn apply(self, text: &[u8]) -> Vec<u8> {
        match self {
            Layer::Base64 => STANDARD.encode(text).into_bytes(),
            Layer::Base64Url => URL_SAFE_NO_PAD.encode(text).into_bytes(),
            Layer::Percent => percent_encoding::percent_encode(text, NON_ALPHANUMERIC)
                .to_string()
                .into_bytes(),
            Layer::Escape => text
                .iter()
                .flat_map(|b| format!("\\x{b:02x}").into_bytes())
                .collect(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Layer::Base64 | Layer::Base64Url => "base64",
            Layer::Percent => "percent",
            Layer::Escape => "escape",
        }
    }
}

/// The decode layer's driver (`decode::scan`, the built-in rules) on arbitrary bytes with
/// a depth limit from the first byte: every decoded match names at most `max_depth`
/// decodings, lies inside the input (its secret span non-empty, so it can be masked),
/// decoded matches do not overlap, and plain matches are only ever removed. Then a round
/// trip: a valid GitHub token encoded by a chain of 1 to 4 layers (from the input) is
/// found, through exactly that chain, at the encoded span, iff the chain is no deeper
/// than the limit.
pub fn decode_scan(data: &[u8]) {
    let engine = builtin_engine();
    let first = data.first().copied().unwrap_or(0);
    let hay = data.get(1..).unwrap_or_default();
    let opts = DecodeOptions {
        max_depth: first % 6,
        budget: if first & 0x80 == 0 {
            DecodeOptions::default().budget
        } else {
            1024
        },
    };
    let (plain, found) = decode_all(&engine, hay, opts);
    if opts.max_depth == 0 {
        assert!(found.is_empty());
    }
    let mut prev_end = 0;
    for d in &found {
        let layers: Vec<&str> = d.how.split('+').collect();
        assert!(
            (1..=usize::from(opts.max_depth)).contains(&layers.len()),
            "{} decodings with --max-decode-depth {}",
            layers.len(),
            opts.max_depth
        );
        assert!(layers
            .iter()
            .all(|l| ["base64", "percent", "escape"].contains(l)));
        let m = &d.m;
        assert!(m.start <= m.secret_start && m.secret_start <= m.secret_end);
        assert!(m.secret_end <= m.end && m.end <= hay.len());
        assert!(
            !d.secret.is_empty() && m.secret_end > m.secret_start,
            "maskable"
        );
        assert!(m.secret_start >= prev_end, "decoded matches do not overlap");
        prev_end = m.secret_end;
    }
    let mut before = Vec::new();
    engine.scan(hay, hay.len(), None, &mut Scratch::default(), &mut before);
    let key = |m: &crate::engine::Match| (m.rule, m.secret_start, m.secret_end);
    assert!(
        plain
            .iter()
            .all(|p| before.iter().any(|b| key(b) == key(p))),
        "decoding only removes plain matches"
    );

    // Round trip through a chain of layers, innermost first.
    let n = 1 + usize::from(data.get(1).copied().unwrap_or(0) % 4);
    let bits = data.get(2).copied().unwrap_or(0);
    let mut chain: Vec<Layer> = (0..n)
        .map(|i| match (bits >> (2 * i)) & 3 {
            0 => Layer::Base64,
            1 => Layer::Base64Url,
            2 => Layer::Percent,
            _ => Layer::Escape,
        })
        .collect();
    let pat = github_pat(data.get(3..).unwrap_or_default());
    let mut text = format!("export GITHUB_TOKEN={pat}").into_bytes();
    // A layer that changes nothing (percent-encoding of base64 without `+/=`) is no
    // decoding: it is not in the expected chain.
    chain.retain(|l| {
        let next = l.apply(&text);
        let changed = next != text;
        text = next;
        changed
    });
    let n = chain.len();
    let prefix = b"ts=2026-11-23T10:00:00Z level=info msg=";
    let line = [&prefix[..], &text, b" status=200\n"].concat();
    let opts = DecodeOptions {
        max_depth: opts.max_depth,
        ..DecodeOptions::default()
    };
    let (plain, found) = decode_all(&engine, &line, opts);
    let how: Vec<&str> = chain.iter().rev().map(|l| l.name()).collect();
    assert!(
        !plain
            .iter()
            .any(|m| line.get(m.secret_start..m.secret_end) == Some(pat.as_bytes())),
        "every layer hides the token"
    );
    let hit = found.iter().find(|d| d.secret == pat.as_bytes());
    if let Some(d) = hit {
        // Found through the chain, or through fewer of its layers when an outer layer
        // only touched bytes the inner decoder can do without (`%3D` padding): never
        // through more decodings than the limit, never through a layer not applied.
        let mut want = how.iter();
        assert!(
            d.how.split('+').all(|l| want.any(|w| *w == l)),
            "{} is not a sub-chain of {}",
            d.how,
            how.join("+")
        );
        assert!(d.m.secret_start >= prefix.len() && d.m.secret_end <= prefix.len() + text.len());
    }
    // The global placeholder policy drops tokens such as `ghp_…xxxx…`.
    let findable = !crate::engine::allow::is_placeholder(pat.as_bytes());
    if n <= usize::from(opts.max_depth) && text.len() <= MAX_PERCENT_TOKEN / 2 && findable {
        assert!(
            hit.is_some(),
            "{} ({} bytes) not found at depth {}: {found:?}",
            how.join("+"),
            text.len(),
            opts.max_depth
        );
    }
}

/// The engine's plain matches on `hay` (after the decode layer's de-duplication) and the
/// decoded matches.
fn decode_all(
    engine: &Engine,
    hay: &[u8],
    opts: DecodeOptions,
) -> (Vec<crate::engine::Match>, Vec<decode::DecodedMatch>) {
    let mut scratch = Scratch::default();
    let mut plain = Vec::new();
    engine.scan(hay, hay.len(), None, &mut scratch, &mut plain);
    let mut found = Vec::new();
    decode::scan(
        engine,
        hay,
        hay.len(),
        None,
        opts,
        &mut scratch,
        &mut plain,
        &mut found,
    );
    (plain, found)
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
    ("decode_base64", decode_base64),
    ("decode_percent", decode_percent),
    ("decode_escape", decode_escape),
    ("decode_scan", decode_scan),
];
