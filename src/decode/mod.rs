//! Decoded secrets: find spans of base64, percent-encoded and escaped text, decode them,
//! run the engine on the decoded bytes, and map matches back to the original bytes.
//!
//! This layer sits between sources and the engine: it never reads files and never
//! builds findings. Sources call [`scan`] next to `Engine::scan` on each chunk.
//!
//! # Cost
//! Decoding must not slow a scan of text without encoded data by more than a few
//! percent, so candidates are found cheaply:
//! - **base64**: a skip search for runs of at least [`MIN_BASE64_RUN`] characters of the
//!   base64 alphabets (it looks at the last byte of a window first and jumps past it when
//!   that byte cannot be in a run), then a mixed-case test (hex ids, paths and words are
//!   not base64 of text), then decoding, then a printable test on the decoded bytes;
//! - **percent** and **escapes**: one `memchr2` pass for `%` and `\`; only `%XX` and
//!   JSON/C escapes (`\"`, `\\`, `\/`, `\n`, `\uXXXX`, `\xHH`) open a candidate.
//!
//! Work is bounded: each candidate is capped in length, the bytes decoded per call are
//! capped by [`DecodeOptions::budget`], and decoding recurses at most
//! [`DecodeOptions::max_depth`] levels (`percent+base64` is two).
//!
//! # Positions
//! Percent and escape decoding keep a byte-exact map from decoded to original offsets.
//! Base64 maps each 3 decoded bytes to their 4 encoded characters, so a secret inside a
//! base64 blob is located at the encoded characters that carry it.

mod base64run;
mod concat;
mod escape;
mod percent;

use crate::engine::{Engine, Match, Scratch};

/// The shortest base64 run that is decoded (18 decoded bytes).
pub const MIN_BASE64_RUN: usize = 24;
/// The longest base64 run that is decoded; longer runs are embedded files, not secrets.
pub const MAX_BASE64_RUN: usize = 64 * 1024;
/// The longest percent-encoded token that is decoded.
pub const MAX_PERCENT_TOKEN: usize = 8 * 1024;
/// How far an escape region reaches on each side of an escape, within its line.
pub const ESCAPE_REACH: usize = 8 * 1024;

/// Decoding settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// How many nested decodings to try (0 turns decoding off).
    pub max_depth: u8,
    /// The most bytes decoded per scanned chunk: at least this many, or a quarter of the
    /// chunk if that is more.
    pub budget: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_depth: 2,
            budget: 256 * 1024,
        }
    }
}

/// A decoding, as named in findings (`"decoded": "base64"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Standard or URL-safe base64.
    Base64,
    /// `%XX` percent-encoding (URLs, query strings, form bodies).
    Percent,
    /// JSON or C string escapes (`\"`, `\uXXXX`, `\n`, `\xHH`).
    Escape,
    /// String literals joined by concatenation (a key block split across literals).
    Concat,
}

impl Encoding {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Percent => "percent",
            Encoding::Escape => "escape",
            Encoding::Concat => "concat",
        }
    }
}

/// A match found in decoded text, mapped back to the scanned slice.
#[derive(Debug, Clone)]
pub struct DecodedMatch {
    /// The match; every offset is in the original slice (the encoded span that carries
    /// the secret), so it can be located and masked there.
    pub m: Match,
    /// The decoded secret.
    pub secret: Vec<u8>,
    /// The decodings applied, outermost first (`percent+base64`).
    pub how: String,
}

/// An encoded span and how its decoded bytes map back.
#[derive(Debug)]
struct Candidate {
    encoding: Encoding,
    start: usize,
    end: usize,
}

/// Decoded bytes with their map back to the candidate's original bytes.
#[derive(Debug, Default)]
struct Decoded {
    bytes: Vec<u8>,
    /// For percent and escapes: the offset (relative to the candidate start) of the
    /// encoded unit each decoded byte came from. Empty for base64 (3 -> 4 mapping).
    map: Vec<u32>,
}

impl Decoded {
    /// Maps a decoded range to a range relative to the candidate's start.
    fn map_range(&self, enc: Encoding, len: usize, s: usize, e: usize) -> (usize, usize) {
        if enc == Encoding::Base64 {
            let lo = s / 3 * 4;
            let hi = e.div_ceil(3) * 4;
            return (lo.min(len), hi.min(len));
        }
        let at = |i: usize| self.map.get(i).map_or(len, |&o| o as usize);
        (at(s), at(e).max(at(s)))
    }
}

/// Scans the decoded forms of the encoded spans of `hay` that start before `owned_end`
/// and appends what the engine finds there, mapped back to `hay`.
///
/// `plain` are the engine's matches on `hay` itself. Where a decoded match overlaps a
/// plain one, one of them goes, so a secret is not reported twice: the decoded one if
/// the plain one has the same bytes or a higher priority; otherwise (the same rule
/// matched the encoded bytes, `password=p%40ss`) the plain one, whose secret is still
/// encoded.
#[allow(clippy::too_many_arguments)]
pub fn scan(
    engine: &Engine,
    hay: &[u8],
    owned_end: usize,
    path: Option<&str>,
    opts: DecodeOptions,
    scratch: &mut Scratch,
    plain: &mut Vec<Match>,
    out: &mut Vec<DecodedMatch>,
) {
    if opts.max_depth == 0 {
        return;
    }
    let mut budget = opts.budget.max(hay.len() / 4);
    let first = out.len();
    level(
        engine,
        hay,
        owned_end,
        path,
        opts.max_depth,
        &mut budget,
        scratch,
        out,
    );
    if out.len() == first {
        return;
    }
    let mut found = out.split_off(first);
    let prio = |m: &Match| engine.rules()[m.rule].spec.priority;
    let mut superseded = vec![false; plain.len()];
    found.retain(|d| {
        let mut keep = true;
        for (i, p) in plain.iter().enumerate() {
            if !(p.secret_start < d.m.secret_end && d.m.secret_start < p.secret_end) {
                continue;
            }
            let same_bytes = hay.get(p.secret_start..p.secret_end) == Some(d.secret.as_slice());
            if p.rule == d.m.rule && !same_bytes {
                superseded[i] = true;
            } else if same_bytes || prio(p) >= prio(&d.m) {
                keep = false;
            }
        }
        keep
    });
    if superseded.iter().any(|&s| s) {
        let mut i = 0;
        plain.retain(|_| {
            i += 1;
            !superseded[i - 1]
        });
    }
    // Among decoded matches: one per overlapping span, the higher priority, then the
    // longer secret, then the shallower decoding.
    found.sort_by_key(|d| (d.m.secret_start, std::cmp::Reverse(d.m.secret_end)));
    for d in found {
        match out.get_mut(first..).and_then(<[DecodedMatch]>::last_mut) {
            Some(last) if d.m.secret_start < last.m.secret_end => {
                let key =
                    |x: &DecodedMatch| (prio(&x.m), x.secret.len(), std::cmp::Reverse(x.how.len()));
                if key(&d) > key(last) {
                    *last = d;
                }
            }
            _ => out.push(d),
        }
    }
}

/// One level of decoding over `data`: candidates, decode, engine, recurse, map back.
#[allow(clippy::too_many_arguments)]
fn level(
    engine: &Engine,
    data: &[u8],
    owned_end: usize,
    path: Option<&str>,
    depth: u8,
    budget: &mut usize,
    scratch: &mut Scratch,
    out: &mut Vec<DecodedMatch>,
) {
    let mut cands = Vec::new();
    base64run::candidates(data, owned_end, &mut cands);
    percent_and_escapes(data, owned_end, &mut cands);
    concat_candidates(data, owned_end, &mut cands);
    if cands.is_empty() {
        return;
    }
    let mut matches = Vec::new();
    let mut inner = Vec::new();
    for c in cands {
        if *budget == 0 {
            break;
        }
        let Some(enc) = data.get(c.start..c.end) else {
            continue;
        };
        let decoded = match c.encoding {
            Encoding::Base64 => base64run::decode(enc),
            Encoding::Percent => percent::decode(enc),
            Encoding::Escape => escape::decode(enc),
            Encoding::Concat => concat::decode(enc),
        };
        let Some(decoded) = decoded else { continue };
        *budget = budget.saturating_sub(decoded.bytes.len());
        let bytes = &decoded.bytes;
        matches.clear();
        engine.scan(bytes, bytes.len(), path, scratch, &mut matches);
        inner.clear();
        if depth > 1 {
            level(
                engine,
                bytes,
                bytes.len(),
                path,
                depth - 1,
                budget,
                scratch,
                &mut inner,
            );
        }
        let len = c.end - c.start;
        let map = |s: usize, e: usize| {
            let (s, e) = decoded.map_range(c.encoding, len, s, e);
            (c.start + s, c.start + e)
        };
        // A match in the decoded bytes, moved to the encoded span's offsets.
        let remap = |m: &Match| {
            let (start, end) = map(m.start, m.end);
            let (secret_start, secret_end) = map(m.secret_start, m.secret_end);
            Match {
                start,
                end,
                secret_start,
                secret_end,
                ..*m
            }
        };
        for m in &matches {
            let Some(secret) = bytes.get(m.secret_start..m.secret_end) else {
                continue;
            };
            out.push(DecodedMatch {
                m: remap(m),
                secret: secret.to_vec(),
                how: c.encoding.as_str().to_string(),
            });
        }
        for d in inner.drain(..) {
            out.push(DecodedMatch {
                m: remap(&d.m),
                secret: d.secret,
                how: format!("{}+{}", c.encoding.as_str(), d.how),
            });
        }
    }
}

/// The spans one decoding level looks at in `data` (base64 runs, then percent tokens and
/// escape regions), as [`scan`] finds them; for the fuzz targets of `crate::fuzzing`.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_candidates(data: &[u8], owned_end: usize) -> Vec<(Encoding, usize, usize)> {
    let mut cands = Vec::new();
    base64run::candidates(data, owned_end, &mut cands);
    percent_and_escapes(data, owned_end, &mut cands);
    concat_candidates(data, owned_end, &mut cands);
    cands
        .into_iter()
        .map(|c| (c.encoding, c.start, c.end))
        .collect()
}

/// Decodes one span as `encoding`, as [`scan`] does: the decoded bytes and, for percent
/// and escapes, the offset in `enc` of the encoded unit of each decoded byte (empty for
/// base64); for the fuzz targets of `crate::fuzzing`.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_decode(encoding: Encoding, enc: &[u8]) -> Option<(Vec<u8>, Vec<u32>)> {
    let d = match encoding {
        Encoding::Base64 => base64run::decode(enc),
        Encoding::Percent => percent::decode(enc),
        Encoding::Escape => escape::decode(enc),
        Encoding::Concat => concat::decode(enc),
    }?;
    Some((d.bytes, d.map))
}

/// Finds key blocks split across joined string literals.
fn concat_candidates(data: &[u8], owned_end: usize, out: &mut Vec<Candidate>) {
    let mut spans = Vec::new();
    concat::candidates(data, owned_end, &mut spans);
    out.extend(spans.into_iter().map(|(start, end)| Candidate {
        encoding: Encoding::Concat,
        start,
        end,
    }));
}

/// Finds percent-encoded tokens and escaped regions in one `memchr2` pass.
fn percent_and_escapes(data: &[u8], owned_end: usize, out: &mut Vec<Candidate>) {
    let Some(owned) = data.get(..owned_end) else {
        return;
    };
    let mut skip_to = 0;
    for i in memchr::memchr2_iter(b'%', b'\\', owned) {
        if i < skip_to {
            continue;
        }
        let next = &data[i + 1..];
        if data[i] == b'%' {
            if let Some((s, e)) = percent::token_at(data, i) {
                out.push(Candidate {
                    encoding: Encoding::Percent,
                    start: s,
                    end: e,
                });
                skip_to = e;
            }
        } else if escape::opens(next) {
            let (s, e) = escape::region_at(data, i);
            out.push(Candidate {
                encoding: Encoding::Escape,
                start: s,
                end: e,
            });
            skip_to = e;
        }
    }
}

/// True if `bytes` read as text: valid UTF-8 (a character cut at the end is allowed: a
/// decoded run may stop inside one) of which at least nine in ten characters are printable
/// or whitespace. Decoded base64 of binary, of long identifiers or of paths is random
/// bytes, which are almost never valid UTF-8; counting every byte >= 0x80 as printable,
/// as this test once did, let about half of them through to a full engine pass each.
pub(crate) fn mostly_printable(bytes: &[u8]) -> bool {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        // `error_len() == None`: the bytes end inside a character.
        Err(e) if e.error_len().is_none() => match std::str::from_utf8(&bytes[..e.valid_up_to()]) {
            Ok(text) => text,
            Err(_) => return false,
        },
        Err(_) => return false,
    };
    let (mut chars, mut printable) = (0usize, 0usize);
    for c in text.chars() {
        chars += 1;
        if !c.is_control() || matches!(c, '\n' | '\r' | '\t') {
            printable += 1;
        }
    }
    chars > 0 && printable * 10 >= chars * 9
}

#[cfg(test)]
mod tests {
    use super::*;

    use base64::Engine as _;

    fn engine() -> Engine {
        crate::testutil::engine(
            r#"
[[rule]]
id = "pw"
name = "Password field"
keywords = ["password"]
regex = '''"password"\s*:\s*"([^"]{8,})"'''
examples = ['"password": "Zq8rMv2x"'] # leaksweep:allow (a made-up example)
negative_examples = ["password"]
"#,
        )
    }

    fn run(hay: &[u8]) -> Vec<DecodedMatch> {
        let e = engine();
        let mut plain = Vec::new();
        let mut s = Scratch::default();
        e.scan(hay, hay.len(), None, &mut s, &mut plain);
        let mut out = Vec::new();
        scan(
            &e,
            hay,
            hay.len(),
            None,
            DecodeOptions::default(),
            &mut s,
            &mut plain,
            &mut out,
        );
        out
    }

    const TOK: &str = "tok_q8Zr2mV9xK4tW7pLa1b2";

    #[test]
    fn base64_secret_maps_to_its_encoded_characters() {
        let blob = base64::engine::general_purpose::STANDARD
            .encode(format!("user:{TOK} and some trailing words"));
        let hay = format!("Authorization: Basic {blob} end\n");
        let found = run(hay.as_bytes());
        assert_eq!(found.len(), 1, "{found:?}");
        let d = &found[0];
        assert_eq!(d.secret, TOK.as_bytes());
        assert_eq!(d.how, "base64");
        let start = hay.find(&blob).unwrap();
        // "user:" is 5 bytes: the token starts in group 1 (bytes 3..6) at encoded char 4.
        assert_eq!(d.m.secret_start, start + 4);
        assert!(d.m.secret_end <= start + blob.len());
        assert!(d.m.secret_end >= start + (5 + TOK.len()) * 4 / 3);
    }

    #[test]
    fn percent_and_escapes_map_exactly() {
        let hay = format!("GET /cb?next=%2Fhome%3Ft%3D{TOK}%26x HTTP/1.1\n");
        let found = run(hay.as_bytes());
        // `%3Dtok_...` hides the token's word boundary from the plain scan; decoded, it
        // is found at its exact original position.
        assert_eq!(found.len(), 1, "{found:?}");
        let s = hay.find(TOK).unwrap();
        assert_eq!(
            (found[0].m.secret_start, found[0].m.secret_end),
            (s, s + TOK.len())
        );
        assert_eq!(found[0].how, "percent");
        // Found in plain text, the decoded copy is dropped.
        let hay = format!("GET /cb?next=%2Fhome&t={TOK}&x HTTP/1.1\n");
        assert!(run(hay.as_bytes()).is_empty());

        let hay = r#"{"msg":"body={\"password\":\"Zq8rMv2x\u0041b9\"}"}"#; // leaksweep:allow
        let found = run(hay.as_bytes());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].secret, b"Zq8rMv2xAb9");
        assert_eq!(found[0].how, "escape");
        let s = hay.find("Zq8r").unwrap();
        assert_eq!(found[0].m.secret_start, s);
        assert_eq!(found[0].m.secret_end, s + "Zq8rMv2x\\u0041b9".len());
    }

    #[test]
    fn nested_percent_then_base64() {
        let blob = base64::engine::general_purpose::STANDARD.encode(format!("k={TOK};more text"));
        let enc: String = blob
            .bytes()
            .map(|b| match b {
                b'+' => "%2B".to_string(),
                b'/' => "%2F".to_string(),
                b'=' => "%3D".to_string(),
                _ => (b as char).to_string(),
            })
            .collect();
        let hay = format!("GET /x?auth=%20{enc} HTTP/1.1\n");
        let found = run(hay.as_bytes());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].secret, TOK.as_bytes());
        assert_eq!(found[0].how, "percent+base64");
        let none = {
            let e = engine();
            let mut out = Vec::new();
            let opts = DecodeOptions {
                max_depth: 1,
                ..DecodeOptions::default()
            };
            scan(
                &e,
                hay.as_bytes(),
                hay.len(),
                None,
                opts,
                &mut Scratch::default(),
                &mut Vec::new(),
                &mut out,
            );
            out
        };
        assert!(none.is_empty(), "depth 1 stops before base64: {none:?}");
    }

    #[test]
    fn hex_ids_words_and_binary_are_not_decoded() {
        let hay =
            b"trace_id=4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e path=/api/v2/users/orders/items/export \
                    AbstractAutowireCapableBeanFactoryImpl %zz \\q";
        assert!(run(hay).is_empty());
        let mut c = Vec::new();
        base64run::candidates(hay, hay.len(), &mut c);
        assert_eq!(c.len(), 1, "only the CamelCase word is a candidate: {c:?}");
    }
}
