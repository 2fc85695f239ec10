//! The window gate: a cheaper superset of a rule's regex that rejects windows first.
//!
//! A rule's regex runs, unanchored, over every window its keywords open. Bounded
//! repetitions such as `[\w.-]{0,40}?` make that search slow: the lazy DFA tracks every
//! count at every start position at once, so a rule with two of them keeps building new
//! states window after window (the generic declaration rules spent three quarters of
//! their time determinizing). The same pattern with those upper bounds lifted
//! (`{0,}`) matches a superset of the texts, and its DFA stays small.
//!
//! So each rule whose pattern has such a repetition gets a *gate*: the relaxed pattern,
//! compiled with only the whole-match group. Every text the rule matches, the gate matches
//! at the same start, so the gate's leftmost match start is the first place a match of the
//! rule can start: the exact regex then runs *anchored* there (see
//! `Compiled::search_from`), and an anchored search of a bounded repetition is a short
//! chain of states, not the product of every overlapping start. A window where the gate
//! finds nothing is done after one cheap search. Findings are identical with and without
//! the gate.

use regex_automata::meta::{self, Regex};
use regex_syntax::hir::{Hir, HirKind, Repetition};

/// Bounded repetitions whose range (`max - min`) is at least this wide are lifted. Narrow
/// ranges (`{2,4}`, an optional `-`) cost the DFA little and keep the gate selective.
const MIN_RANGE: u32 = 6;

/// Builds the gate for the parsed pattern `hir`, or `None` when relaxing changes nothing
/// (the regex is already DFA-friendly) or the relaxed pattern does not compile within
/// `size_limit`. The caller parses once for the regex and the gate: parsing is a large
/// part of compiling a rule, and rules compile while the first files are scanned.
pub fn build(hir: &Hir, size_limit: usize) -> Option<Regex> {
    if !has_wide(hir) {
        return None;
    }
    let mut changed = false;
    let relaxed = relax(hir.clone(), &mut changed);
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .auto_prefilter(false)
                .utf8_empty(false)
                .which_captures(regex_automata::nfa::thompson::WhichCaptures::Implicit)
                .nfa_size_limit(Some(size_limit)),
        )
        .build_from_hir(&relaxed)
        .ok()
}

/// Whether `hir` has a repetition that [`relax`] lifts.
fn has_wide(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Repetition(rep) => is_wide(rep) || has_wide(&rep.sub),
        HirKind::Capture(cap) => has_wide(&cap.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().any(has_wide),
        _ => false,
    }
}

fn is_wide(rep: &Repetition) -> bool {
    rep.max.is_some_and(|max| max - rep.min >= MIN_RANGE)
}

/// Lifts the upper bound of every wide bounded repetition in `hir`. The result matches
/// every text `hir` matches: a repetition `{m,n}` becomes `{m,}`, and each other node
/// keeps its meaning with relaxed children.
fn relax(hir: Hir, changed: &mut bool) -> Hir {
    match hir.into_kind() {
        HirKind::Repetition(rep) => {
            let wide = is_wide(&rep);
            *changed |= wide;
            Hir::repetition(Repetition {
                min: rep.min,
                max: if wide { None } else { rep.max },
                greedy: rep.greedy,
                sub: Box::new(relax(*rep.sub, changed)),
            })
        }
        HirKind::Capture(cap) => Hir::capture(regex_syntax::hir::Capture {
            index: cap.index,
            name: cap.name,
            sub: Box::new(relax(*cap.sub, changed)),
        }),
        HirKind::Concat(subs) => Hir::concat(subs.into_iter().map(|h| relax(h, changed)).collect()),
        HirKind::Alternation(subs) => {
            Hir::alternation(subs.into_iter().map(|h| relax(h, changed)).collect())
        }
        kind @ (HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_)) => {
            // Leaves carry no repetition: rebuild them unchanged.
            match kind {
                HirKind::Empty => Hir::empty(),
                HirKind::Literal(lit) => Hir::literal(lit.0),
                HirKind::Class(class) => Hir::class(class),
                HirKind::Look(look) => Hir::look(look),
                _ => unreachable!("matched as a leaf above"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex_automata::Input;

    fn parse(pattern: &str) -> Hir {
        regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(pattern)
            .unwrap()
    }

    fn build(pattern: &str) -> Option<Regex> {
        super::build(&parse(pattern), 1 << 20)
    }

    #[test]
    fn narrow_or_unbounded_patterns_need_no_gate() {
        assert!(build(r"ghp_[A-Za-z0-9]{36}").is_none());
        assert!(build(r"key\s*=\s*[a-z]{2,4}").is_none());
    }

    #[test]
    fn the_gate_matches_a_superset() {
        let exact = r"(?i)(?:^|[^\w])([\w.-]{0,10}?token[\w-]{0,5})\s*=\s*([a-z0-9]{8,12})\b";
        let gate = build(exact).expect("a wide repetition is relaxed");
        let re = meta::Regex::new(exact).unwrap();
        for text in [
            "my_token = abcdef123456",
            "a_very_long_prefix_token = abcdef123456",
            "token_with_long_suffix = abcdefgh",
            "token = short",
            "nothing here",
        ] {
            if re.is_match(text) {
                assert!(gate.is_match(Input::new(text)), "{text}");
            }
        }
        // Only the relaxed pattern reads the 18-byte name prefix.
        assert!(gate.is_match("a_very_long_prefix_token = abcdef123456"));
        assert!(!re.is_match("a_very_long_prefix_token = abcdef123456 "));
        assert!(!gate.is_match("token = short"));
    }
}
