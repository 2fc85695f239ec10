//! The keyword prefilter: which rules could match where.
//!
//! It finds every keyword occurrence in a chunk and turns the hits into per-rule
//! *windows*: the line around the hit (or, for multi-line rules, the text that follows
//! it). The regex of a rule then runs only inside its windows, never over the whole chunk.
//!
//! Keywords are found by their anchors ([`Grams`]), 32 positions at a time. A rule set
//! with a keyword shorter than three bytes (a user's rule; the built-in ones have none)
//! has no anchors: one Aho-Corasick automaton over all keywords reads every byte instead.

use aho_corasick::{AhoCorasick, MatchKind};

use super::grams::Grams;

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

/// The compiled prefilter.
#[derive(Debug)]
pub struct Prefilter {
    finder: Finder,
    /// For each keyword, the rules that declared it.
    pattern_rules: Vec<Vec<u32>>,
}

#[derive(Debug)]
enum Finder {
    None,
    Grams(Grams),
    Automaton(AhoCorasick),
}

impl Finder {
    fn new(patterns: &[String]) -> Result<Finder, String> {
        if patterns.is_empty() {
            return Ok(Finder::None);
        }
        if let Some(grams) = Grams::new(patterns) {
            return Ok(Finder::Grams(grams));
        }
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .map(Finder::Automaton)
            .map_err(|e| format!("building the keyword automaton: {e}"))
    }

    /// Every keyword occurrence, overlapping ones included, as `(start, end, pattern)`
    /// sorted.
    fn find_all(&self, hay: &[u8], found: &mut Vec<(usize, usize, u32)>) {
        match self {
            Finder::None => {}
            Finder::Grams(g) => g.find_all(hay, found),
            Finder::Automaton(ac) => {
                #[allow(clippy::cast_possible_truncation)]
                found.extend(
                    ac.find_overlapping_iter(hay)
                        .map(|m| (m.start(), m.end(), m.pattern().as_u32())),
                );
                found.sort_unstable();
            }
        }
    }
}

impl Prefilter {
    /// Builds the prefilter. `keywords[i]` are the keywords of rule `i`.
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
        Ok(Prefilter {
            finder: Finder::new(&patterns)?,
            pattern_rules,
        })
    }

    /// Calls `hit(rule, start, end)` for every keyword occurrence in `hay` and every rule
    /// that declared that keyword, in the order of the occurrences' starts (then ends).
    /// `found` is the caller's scratch buffer for the occurrences (cleared first), kept
    /// across calls so that a scan of many small files or blobs does not allocate per file.
    pub fn for_each_hit(
        &self,
        hay: &[u8],
        found: &mut Vec<(usize, usize, u32)>,
        mut hit: impl FnMut(usize, usize, usize),
    ) {
        found.clear();
        self.finder.find_all(hay, found);
        for &(start, end, pattern) in found.iter() {
            if let Some(rules) = self.pattern_rules.get(pattern as usize) {
                for &r in rules {
                    hit(r as usize, start, end);
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

    /// Both finders report exactly what one overlapping Aho-Corasick search reports:
    /// keywords inside each other, sharing prefixes or anchors, three-byte keywords, in
    /// any case, at both ends of the haystack.
    #[test]
    fn anchored_finder_equals_the_overlapping_search() {
        let patterns: Vec<String> = [
            "pass",
            "password",
            "sword",
            "akia",
            "token_",
            "ken",
            "pk_",
            "$1$",
            "xoxb-",
            "oxb-",
            "django-insecure-",
            "insecure",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        let oracle = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&patterns)
            .unwrap();
        let grams = Finder::new(&patterns).unwrap();
        assert!(matches!(grams, Finder::Grams(_)));
        let unit = b"xx PassWord=1 aKiA token_ab PK_x $1$y XOXB-1 django-INSECURE-k ";
        for len in [0, 1, 3, 40, 100, 1000] {
            for shift in 0..unit.len() {
                let hay: Vec<u8> = unit.iter().cycle().skip(shift).take(len).copied().collect();
                let mut want: Vec<(usize, usize, u32)> = oracle
                    .find_overlapping_iter(&hay)
                    .map(|m| (m.start(), m.end(), m.pattern().as_u32()))
                    .collect();
                want.sort_unstable();
                let mut got = Vec::new();
                grams.find_all(&hay, &mut got);
                assert_eq!(got, want, "len {len} shift {shift}");
            }
        }
    }

    #[test]
    fn a_two_byte_keyword_falls_back_to_the_automaton() {
        let p = Prefilter::new(&[vec!["ab".into(), "password".into()]]).unwrap();
        assert!(matches!(p.finder, Finder::Automaton(_)));
        let mut hits = Vec::new();
        p.for_each_hit(b"xab Password", &mut Vec::new(), |r, s, e| {
            hits.push((r, s, e));
        });
        assert_eq!(hits, vec![(0, 1, 3), (0, 4, 12)]);
    }

    #[test]
    fn hits_are_case_insensitive_and_shared() {
        let p = Prefilter::new(&[vec!["akia".into()], vec!["AKIA".into(), "aws".into()]]).unwrap();
        let mut hits = Vec::new();
        p.for_each_hit(b"x AkIa aws", &mut Vec::new(), |r, s, e| {
            hits.push((r, s, e));
        });
        assert_eq!(hits, vec![(0, 2, 6), (1, 2, 6), (1, 7, 10)]);
    }
}
