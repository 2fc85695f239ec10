//! The keyword prefilter: one Aho-Corasick automaton over every rule's keywords.
//!
//! It runs once over each chunk and turns keyword hits into per-rule *windows*: the line
//! around the hit (or, for multi-line rules, the text that follows it). The regex of a
//! rule then runs only inside its windows, never over the whole chunk.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{dfa::DFA, AhoCorasick, AhoCorasickKind, Anchored, MatchKind};

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

/// Haystacks shorter than this are searched as one stream: two streams pay for a buffer
/// of the second half's hits and a second overlap.
const TWO_STREAMS_MIN: usize = 4096;

/// Bytes scanned with the NFA before the DFA is built. The DFA searches about three times
/// faster but takes a few milliseconds to build: a pre-commit hook scanning a few small files
/// never pays for it, a directory or log scan pays once.
const DFA_AFTER_BYTES: u64 = 1 << 20;

/// The compiled prefilter.
#[derive(Debug)]
pub struct Prefilter {
    patterns: Vec<String>,
    nfa: Option<AhoCorasick>,
    dfa: OnceLock<Option<DFA>>,
    scanned: AtomicU64,
    /// For each automaton pattern, the rules that declared that keyword.
    pattern_rules: Vec<Vec<u32>>,
}

fn build_nfa(patterns: &[String]) -> Result<AhoCorasick, String> {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .build(patterns)
        .map_err(|e| format!("building the keyword automaton: {e}"))
}

/// The DFA is searched by [`search_dfa`], not through `AhoCorasick`: with standard match
/// semantics every match state lists all the keywords that end there, which is exactly
/// the overlapping search, and a loop of our own can run two streams at once.
fn build_dfa(patterns: &[String]) -> Option<DFA> {
    DFA::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .build(patterns)
        .ok()
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
            Some(build_nfa(&patterns)?)
        };
        Ok(Prefilter {
            patterns,
            nfa,
            dfa: OnceLock::new(),
            scanned: AtomicU64::new(0),
            pattern_rules,
        })
    }

    /// The DFA once enough bytes were scanned to pay for building it (a few ms), else
    /// `None`: the NFA searches.
    fn dfa(&self, len: usize) -> Option<&DFA> {
        if let Some(dfa) = self.dfa.get() {
            return dfa.as_ref();
        }
        let before = self.scanned.fetch_add(len as u64, Ordering::Relaxed);
        if before + len as u64 > DFA_AFTER_BYTES && self.nfa.is_some() {
            // A DFA that fails to build (too large) leaves the NFA in charge.
            self.dfa.get_or_init(|| build_dfa(&self.patterns)).as_ref()
        } else {
            None
        }
    }

    /// Calls `hit(rule, start, end)` for every keyword occurrence in `hay` and every rule
    /// that declared that keyword, in the order of the occurrences' ends.
    pub fn for_each_hit(&self, hay: &[u8], mut hit: impl FnMut(usize, usize, usize)) {
        let Some(nfa) = &self.nfa else {
            return;
        };
        let mut emit = |pattern: usize, start: usize, end: usize| {
            if let Some(rules) = self.pattern_rules.get(pattern) {
                for &r in rules {
                    hit(r as usize, start, end);
                }
            }
        };
        match self.dfa(hay.len()) {
            Some(dfa) => search_dfa(dfa, hay, &mut emit),
            None => {
                for m in nfa.find_overlapping_iter(hay) {
                    emit(m.pattern().as_usize(), m.start(), m.end());
                }
            }
        }
    }
}

/// Every keyword occurrence in `hay`, as `emit(pattern, start, end)` in the order of the
/// ends.
///
/// A DFA search is a chain of dependent loads, one per byte: the processor waits on each.
/// Two independent chains (the two halves of `hay`, the second starting early enough to
/// catch a keyword that straddles the middle) run in the same loop and overlap their
/// waits, which makes the keyword pass about 1.6 times faster. The second half's hits are
/// held back and emitted after the first half's, so the order is the one-stream order.
fn search_dfa(dfa: &DFA, hay: &[u8], emit: &mut impl FnMut(usize, usize, usize)) {
    let Ok(start) = dfa.start_state(Anchored::No) else {
        return;
    };
    if hay.len() < TWO_STREAMS_MIN {
        let mut sid = start;
        for (i, &b) in hay.iter().enumerate() {
            sid = dfa.next_state(Anchored::No, sid, b);
            if dfa.is_special(sid) && dfa.is_match(sid) {
                emit_matches(dfa, sid, i + 1, emit);
            }
        }
        return;
    }
    let mid = hay.len() / 2;
    // The second stream starts one keyword length (less a byte) before the middle and
    // reports only keywords that end past it: those ending at or before the middle are
    // the first stream's.
    let base = mid.saturating_sub(dfa.max_pattern_len().saturating_sub(1));
    let (first, second) = (&hay[..mid], &hay[base..]);
    let mut later: Vec<(usize, usize, usize)> = Vec::new();
    let (mut s1, mut s2) = (start, start);
    let both = first.len().min(second.len());
    for i in 0..both {
        s1 = dfa.next_state(Anchored::No, s1, first[i]);
        s2 = dfa.next_state(Anchored::No, s2, second[i]);
        if dfa.is_special(s1) && dfa.is_match(s1) {
            emit_matches(dfa, s1, i + 1, emit);
        }
        if dfa.is_special(s2) && dfa.is_match(s2) && base + i + 1 > mid {
            emit_matches(dfa, s2, base + i + 1, &mut |p, s, e| later.push((p, s, e)));
        }
    }
    for (i, &b) in second.iter().enumerate().skip(both) {
        s2 = dfa.next_state(Anchored::No, s2, b);
        if dfa.is_special(s2) && dfa.is_match(s2) && base + i + 1 > mid {
            emit_matches(dfa, s2, base + i + 1, &mut |p, s, e| later.push((p, s, e)));
        }
    }
    for (p, s, e) in later {
        emit(p, s, e);
    }
}

/// The keywords that end at `end` in match state `sid`.
#[inline]
fn emit_matches(dfa: &DFA, sid: StateID, end: usize, emit: &mut impl FnMut(usize, usize, usize)) {
    for i in 0..dfa.match_len(sid) {
        let p = dfa.match_pattern(sid, i);
        emit(p.as_usize(), end - dfa.pattern_len(p), end);
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

    /// The two-stream DFA search reports exactly what the one-stream overlapping search
    /// does, in the same order, with keywords inside each other, at both ends and across
    /// the middle, for every haystack length around the split.
    #[test]
    fn two_stream_search_equals_the_overlapping_search() {
        let patterns: Vec<String> = ["pass", "password", "sword", "akia", "a", "token_", "ken"]
            .iter()
            .map(ToString::to_string)
            .collect();
        let nfa = build_nfa(&patterns).unwrap();
        let dfa = build_dfa(&patterns).unwrap();
        let unit = b"xx PassWord=1 aKiA token_ab ";
        for len in [
            0,
            1,
            100,
            TWO_STREAMS_MIN - 1,
            TWO_STREAMS_MIN,
            TWO_STREAMS_MIN + 7,
            9001,
        ] {
            for shift in 0..unit.len() {
                let hay: Vec<u8> = unit.iter().cycle().skip(shift).take(len).copied().collect();
                let want: Vec<(usize, usize, usize)> = nfa
                    .find_overlapping_iter(&hay)
                    .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                    .collect();
                let mut got = Vec::new();
                search_dfa(&dfa, &hay, &mut |p, s, e| got.push((p, s, e)));
                // The same hits; per end position the order of keywords may differ.
                let key =
                    |v: &mut Vec<(usize, usize, usize)>| v.sort_by_key(|&(p, s, e)| (e, p, s));
                let (mut w, mut g) = (want.clone(), got.clone());
                key(&mut w);
                key(&mut g);
                assert_eq!(g, w, "len {len} shift {shift}");
                assert!(got.windows(2).all(|x| x[0].2 <= x[1].2), "ordered by end");
            }
        }
    }

    #[test]
    fn hits_are_case_insensitive_and_shared() {
        let p = Prefilter::new(&[vec!["akia".into()], vec!["AKIA".into(), "aws".into()]]).unwrap();
        let mut hits = Vec::new();
        p.for_each_hit(b"x AkIa aws", |r, s, e| hits.push((r, s, e)));
        assert_eq!(hits, vec![(0, 2, 6), (1, 2, 6), (1, 7, 10)]);
    }
}
