//! The keyword prefilter: one Aho-Corasick automaton over every rule's keywords.
//!
//! It runs once over each chunk and turns keyword hits into per-rule *windows*: the line
//! around the hit (or, for multi-line rules, the text that follows it). The regex of a
//! rule then runs only inside its windows, never over the whole chunk.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// How far a window reaches back from a keyword hit, at most (bytes). Lines longer than
/// this (minified code, one-line JSON logs) are cut; a secret is far shorter.
pub const WINDOW_BACK: usize = 4096;
/// How far a window reaches forward from a keyword hit on one line, at most.
pub const WINDOW_FORWARD: usize = 4096;
/// How far a multi-line rule's window reaches forward (a PEM block of an 8192-bit RSA key
/// is about 6.5 KiB).
pub const WINDOW_FORWARD_MULTILINE: usize = 16 * 1024;
/// The longest span a match can have: chunked readers overlap consecutive chunks by this.
pub const MAX_MATCH_SPAN: usize = WINDOW_BACK + WINDOW_FORWARD_MULTILINE + 1024;

/// Bytes scanned with the NFA before the DFA is built. The DFA searches about three times
/// faster but takes a few milliseconds to build: a pre-commit hook scanning a few small files
/// never pays for it, a directory or log scan pays once.
const DFA_AFTER_BYTES: u64 = 1 << 20;

/// The compiled prefilter.
#[derive(Debug)]
pub struct Prefilter {
    patterns: Vec<String>,
    nfa: Option<AhoCorasick>,
    dfa: OnceLock<Option<AhoCorasick>>,
    scanned: AtomicU64,
    /// For each automaton pattern, the rules that declared that keyword.
    pattern_rules: Vec<Vec<u32>>,
}

fn build(patterns: &[String], kind: AhoCorasickKind) -> Result<AhoCorasick, String> {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(kind))
        .build(patterns)
        .map_err(|e| format!("building the keyword automaton: {e}"))
}

impl Prefilter {
    /// Builds the automaton. `keywords[i]` are the keywords of rule `i`.
    pub fn new(keywords: &[Vec<String>]) -> Result<Prefilter, String> {
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (rule, kws) in keywords.iter().enumerate() {
            let rule = u32::try_from(rule).map_err(|_| "too many rules".to_string())?;
            for kw in kws {
                let kw = kw.to_ascii_lowercase();
                let id = *index.entry(kw.clone()).or_insert_with(|| {
                    patterns.push(kw);
                    pattern_rules.push(Vec::new());
                    patterns.len() - 1
                });
                if !pattern_rules[id].contains(&rule) {
                    pattern_rules[id].push(rule);
                }
            }
        }
        let nfa = if patterns.is_empty() {
            None
        } else {
            Some(build(&patterns, AhoCorasickKind::ContiguousNFA)?)
        };
        Ok(Prefilter {
            patterns,
            nfa,
            dfa: OnceLock::new(),
            scanned: AtomicU64::new(0),
            pattern_rules,
        })
    }

    fn automaton(&self, len: usize) -> Option<&AhoCorasick> {
        if let Some(dfa) = self.dfa.get() {
            return dfa.as_ref().or(self.nfa.as_ref());
        }
        let before = self.scanned.fetch_add(len as u64, Ordering::Relaxed);
        if before + len as u64 > DFA_AFTER_BYTES && self.nfa.is_some() {
            // A DFA that fails to build (too large) leaves the NFA in charge.
            self.dfa
                .get_or_init(|| build(&self.patterns, AhoCorasickKind::DFA).ok())
                .as_ref()
                .or(self.nfa.as_ref())
        } else {
            self.nfa.as_ref()
        }
    }

    /// Calls `hit(rule, start, end)` for every keyword occurrence in `hay` and every rule
    /// that declared that keyword.
    pub fn for_each_hit(&self, hay: &[u8], mut hit: impl FnMut(usize, usize, usize)) {
        let Some(ac) = self.automaton(hay.len()) else {
            return;
        };
        for m in ac.find_overlapping_iter(hay) {
            if let Some(rules) = self.pattern_rules.get(m.pattern().as_usize()) {
                for &r in rules {
                    hit(r as usize, m.start(), m.end());
                }
            }
        }
    }
}

/// The window a hit at `[start, end)` opens in `hay` for a rule.
pub fn window(hay: &[u8], start: usize, end: usize, multiline: bool) -> (usize, usize) {
    let lo_cap = start.saturating_sub(WINDOW_BACK);
    let lo = memchr::memrchr(b'\n', &hay[lo_cap..start]).map_or(lo_cap, |i| lo_cap + i + 1);
    let hi = if multiline {
        (end + WINDOW_FORWARD_MULTILINE).min(hay.len())
    } else {
        let hi_cap = (end + WINDOW_FORWARD).min(hay.len());
        memchr::memchr(b'\n', &hay[end..hi_cap]).map_or(hi_cap, |i| end + i)
    };
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_the_line() {
        let hay = b"first line\nkey = AKIA123\nthird";
        let s = 17;
        assert_eq!(&hay[s..s + 4], b"AKIA");
        let (lo, hi) = window(hay, s, s + 4, false);
        assert_eq!(&hay[lo..hi], b"key = AKIA123");
    }

    #[test]
    fn hits_are_case_insensitive_and_shared() {
        let p = Prefilter::new(&[vec!["akia".into()], vec!["AKIA".into(), "aws".into()]]).unwrap();
        let mut hits = Vec::new();
        p.for_each_hit(b"x AkIa aws", |r, s, e| hits.push((r, s, e)));
        assert_eq!(hits, vec![(0, 2, 6), (1, 2, 6), (1, 7, 10)]);
    }
}
