//! The detection engine: prefilter -> regex -> entropy -> validator -> allowlists.
//!
//! The engine scans a byte slice and returns [`Match`]es with offsets relative to that
//! slice. It knows nothing of files, commits or reports: sources give it bytes and turn
//! its matches into findings with provenance.
//!
//! Regexes are compiled lazily: a scan of one small file compiles only the rules whose
//! keywords occur in it, which keeps a pre-commit hook's start-up cost low. User rules are
//! compiled eagerly by [`Engine::new`] so that a bad regex is an error before any scan.

pub mod allow;
pub mod context;
mod gate;
mod grams;
pub mod identify;
pub mod pathscope;
pub mod prefilter;
pub mod selfcheck;
pub mod validate;

use std::sync::OnceLock;

use rayon::prelude::*;
use regex_automata::meta::{self, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input, PatternID};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::Hir;

use crate::rules::lint::Problem;
use crate::rules::{LoadedRule, RuleSpec};
use allow::{AllowInput, CompiledAllow};
use pathscope::{PathCache, PathRules};
use prefilter::Prefilter;
use validate::Validator;

pub use prefilter::MAX_MATCH_SPAN;

/// Compiled-program size limit per rule regex. Rules are small; 8 MiB leaves room for
/// bounded repetitions such as `[A-Za-z0-9]{100,300}` while stopping a hostile user rule
/// from taking the machine's memory.
const REGEX_SIZE_LIMIT: usize = 8 << 20;

/// One match of one rule, with offsets relative to the scanned slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Index of the rule in [`Engine::rules`].
    pub rule: usize,
    /// Start of the whole regex match.
    pub start: usize,
    /// End of the whole regex match.
    pub end: usize,
    /// Start of the captured secret.
    pub secret_start: usize,
    /// End of the captured secret.
    pub secret_end: usize,
    /// Shannon entropy of the secret, in bits per byte.
    pub entropy: f32,
}

/// The compiled, ready-to-run parts of a rule.
#[derive(Debug)]
struct Compiled {
    regex: Regex,
    /// A cheaper superset of `regex` that rejects windows before it runs (see [`gate`]).
    /// A rule with a gate has its `regex` built for anchored searches only.
    gate: Option<Regex>,
    /// For a rule with a gate, the regex with its lazy DFA, for long lines and the rare
    /// window where the gate keeps finding candidates the regex rejects (built on first
    /// need; see [`Compiled::with_lazy_dfa`]).
    lazy_dfa: OnceLock<Result<Regex, String>>,
    /// Every match begins with one of the rule's keywords (see [`starts_with_keyword`]):
    /// the regex runs anchored at each keyword hit instead of over the hit's line.
    at_hits: bool,
    secret_group: usize,
    /// Groups named `secret_alt1`, `secret_alt2`, ...: the other branches of an
    /// alternation that holds the secret in one of several forms (`"quoted"` or bare).
    alt_groups: Vec<usize>,
    allows: Vec<CompiledAllow>,
}

/// How many not-yet-compiled rules one scan call must wake before they are compiled in
/// parallel (a rule compiles in 0.1 to 1 ms; fewer are not worth the thread hand-off).
const PARALLEL_COMPILE_MIN: usize = 4;

/// A rule as the engine holds it.
#[derive(Debug)]
pub struct Rule {
    /// The rule's definition.
    pub spec: RuleSpec,
    /// Where it was defined.
    pub origin: String,
    validator: Option<Validator>,
    extract: Option<context::Mode>,
    compiled: OnceLock<Result<Compiled, String>>,
}

impl Rule {
    fn new(loaded: LoadedRule) -> Result<Rule, String> {
        let validator = match &loaded.spec.validator {
            None => None,
            Some(name) => Some(Validator::from_name(name).ok_or_else(|| {
                format!(
                    "unknown validator {name:?} (known: {})",
                    Validator::NAMES.join(", ")
                )
            })?),
        };
        let extract = match &loaded.spec.extract {
            None => None,
            Some(name) => Some(context::Mode::from_name(name).ok_or_else(|| {
                format!(
                    "unknown extract mode {name:?} (known: {})",
                    context::Mode::NAMES.join(", ")
                )
            })?),
        };
        Ok(Rule {
            spec: loaded.spec,
            origin: loaded.origin,
            validator,
            extract,
            compiled: OnceLock::new(),
        })
    }

    fn compiled(&self) -> Result<&Compiled, &str> {
        self.compiled
            .get_or_init(|| compile(&self.spec))
            .as_ref()
            .map_err(String::as_str)
    }

    /// Whether the rule is compiled and runs at its keyword hits (no window needed).
    #[inline]
    fn runs_at_hits(&self) -> bool {
        matches!(self.compiled.get(), Some(Ok(c)) if c.at_hits)
    }

    /// Compiles the rule now and returns the problem, if any.
    pub fn check_compiles(&self) -> Result<(), String> {
        self.compiled().map(|_| ()).map_err(str::to_string)
    }
}

/// Parses a rule's regex with the semantics of `regex::bytes::Regex` (bytes, not
/// necessarily UTF-8; Unicode classes only where the rule asks for them). The regex and
/// its gate are built from this one parse.
fn parse_regex(spec: &RuleSpec) -> Result<Hir, String> {
    regex_syntax::ParserBuilder::new()
        .unicode(spec.unicode)
        .utf8(false)
        .build()
        .parse(&spec.regex)
        .map_err(|e| explain(spec, &e))
}

/// Builds a rule's parsed regex through the meta engine directly, so that literal
/// prefilters can be turned off: a rule's regex only runs on the short windows around its
/// keyword hits, where a prefilter has nothing to skip, and extracting one was a third
/// of the cost of compiling the built-in rules.
///
/// `lazy_dfa: false` leaves out the lazy DFA (and the reverse automaton it needs) for a
/// gated rule's regex, which is searched anchored at the gate's candidates: on the rest of
/// a short line a bounded backtracker answers directly, where the lazy DFA of a pattern
/// with wide bounded repetitions kept filling its cache and starting over on source code
/// (the generic rules spent a third of their time building states). Long lines and the
/// unanchored fallback use a second build with the lazy DFA ([`Compiled::with_lazy_dfa`]).
fn build_regex(spec: &RuleSpec, hir: &Hir, lazy_dfa: bool) -> Result<Regex, String> {
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .auto_prefilter(false)
                .utf8_empty(false)
                .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
                .onepass_size_limit(Some(REGEX_SIZE_LIMIT))
                .hybrid(lazy_dfa),
        )
        .build_from_hir(hir)
        .map_err(|e| explain(spec, &e))
}

/// A compile error as the regex crate words it (the pattern with a caret), or as
/// `e` says when only the meta engine refuses the pattern.
fn explain(spec: &RuleSpec, e: &dyn std::fmt::Display) -> String {
    match regex::bytes::RegexBuilder::new(&spec.regex)
        .unicode(spec.unicode)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
    {
        Err(re) => format!("regex does not compile: {re}"),
        Ok(_) => format!("regex does not compile: {e}"),
    }
}

fn compile(spec: &RuleSpec) -> Result<Compiled, String> {
    let hir = parse_regex(spec)?;
    let at_hits = spec.extract.is_none()
        && spec.paths.is_empty()
        && starts_with_keyword(&hir, &spec.keywords);
    // A rule run at its keyword hits searches no window, so it needs no gate.
    let gate = if at_hits {
        None
    } else {
        gate::build(&hir, REGEX_SIZE_LIMIT)
    };
    let regex = build_regex(spec, &hir, gate.is_none())?;
    let names: Vec<Option<&str>> = regex.group_info().pattern_names(PatternID::ZERO).collect();
    let secret_group = match spec.secret_group {
        Some(g) if g < names.len() => g,
        Some(g) => {
            return Err(format!(
                "secret_group {g} does not exist (the regex has {} groups)",
                names.len() - 1
            ))
        }
        None => names
            .iter()
            .position(|n| *n == Some("secret"))
            .unwrap_or(usize::from(names.len() > 1)),
    };
    let alt_groups = names
        .iter()
        .enumerate()
        .filter(|(_, n)| n.is_some_and(|n| n.starts_with("secret_alt")))
        .map(|(i, _)| i)
        .collect();
    let allows = spec
        .allow
        .iter()
        .map(CompiledAllow::new)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Compiled {
        gate,
        lazy_dfa: OnceLock::new(),
        at_hits,
        regex,
        secret_group,
        alt_groups,
        allows,
    })
}

/// Whether every match of `hir` begins with one of `keywords` (ASCII case ignored, as the
/// prefilter ignores it). Then every match starts where a keyword hit starts, and trying
/// the regex anchored at each hit finds what a search of the hit's whole line finds, in
/// the time of a few bytes per hit instead of a pass over the line: a log line names
/// `https://` for nothing, and the URL rules read every such line whole.
///
/// The proof is the prefix literals of the pattern: a finite set such that every match
/// begins with one of them. When each of them begins with a keyword, so does every
/// match. Patterns whose prefixes are not a small finite set (a leading class, a
/// boundary group, `(?i)` over a long word) keep the line search.
fn starts_with_keyword(hir: &Hir, keywords: &[String]) -> bool {
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
    let Some(literals) = seq.literals() else {
        return false;
    };
    !literals.is_empty()
        && literals.iter().all(|lit| {
            let lit = lit.as_bytes();
            keywords.iter().any(|k| {
                !k.is_empty()
                    && lit.len() >= k.len()
                    && lit[..k.len()].eq_ignore_ascii_case(k.as_bytes())
            })
        })
}

impl Compiled {
    /// The leftmost match of the rule's regex in `hay` starting at or after `pos`, into
    /// `locs` (no match leaves `locs` empty).
    ///
    /// Without a gate this is one unanchored search. With one, the gate (a superset of
    /// the regex without its wide bounded repetitions, see [`gate`]) finds the leftmost
    /// position where a match could start, and the exact regex is tried *anchored* there.
    /// Every match of the regex is a match of the gate at the same start, so the first
    /// start where the anchored regex matches is the regex's leftmost match, with the same
    /// span and groups as the unanchored search reports. An anchored search never tracks
    /// the many overlapping starts that make a bounded repetition explode in the
    /// unanchored lazy DFA, which is where the generic rules spent most of their time.
    /// A window where the gate keeps matching and the regex does not falls back to the
    /// unanchored search after [`ANCHORED_TRIES`], so no input costs more than before.
    fn search_from(&self, spec: &RuleSpec, hay: &[u8], pos: usize, locs: &mut Captures) {
        let Some(gate) = &self.gate else {
            self.regex
                .search_captures(&Input::new(hay).span(pos..hay.len()), locs);
            return;
        };
        let mut at = pos;
        for _ in 0..ANCHORED_TRIES {
            let Some(candidate) = gate.find(Input::new(hay).span(at..hay.len())) else {
                locs.set_pattern(None);
                return;
            };
            let start = candidate.start();
            // A bounded backtracker clears a bit per automaton state and haystack byte
            // before each search: cheap on the rest of a short line, not on a long log
            // line, where the lazy DFA finds the match's end first.
            let regex = if hay.len() - start <= SHORT_SPAN {
                &self.regex
            } else {
                self.with_lazy_dfa(spec)
            };
            regex.search_captures(
                &Input::new(hay)
                    .span(start..hay.len())
                    .anchored(Anchored::Yes),
                locs,
            );
            if locs.is_match() || start >= hay.len() {
                return;
            }
            at = start + 1;
        }
        self.with_lazy_dfa(spec)
            .search_captures(&Input::new(hay).span(at..hay.len()), locs);
    }

    /// The rule's regex with its lazy DFA: the regex itself, or for a rule with a gate
    /// (whose `regex` is built for short anchored searches) a second build, made the
    /// first time it is needed.
    fn with_lazy_dfa(&self, spec: &RuleSpec) -> &Regex {
        if self.gate.is_none() {
            return &self.regex;
        }
        let built = self
            .lazy_dfa
            .get_or_init(|| parse_regex(spec).and_then(|hir| build_regex(spec, &hir, true)));
        // It compiled once already; were it to fail now, the other build still answers
        // (more slowly).
        built.as_ref().unwrap_or(&self.regex)
    }
}

/// The longest rest of a window (bytes) that a gated rule's regex searches without its
/// lazy DFA (see [`Compiled::search_from`]).
const SHORT_SPAN: usize = 256;

/// Gate candidates tried anchored in one search before it falls back to one unanchored
/// search (see [`Compiled::search_from`]).
const ANCHORED_TRIES: usize = 64;

/// Per-thread scratch space, reused across scans to avoid allocation on the hot path.
#[derive(Debug, Default)]
pub struct Scratch {
    windows: Vec<Vec<(usize, usize)>>,
    /// Per rule, the keyword hits `(start, end)` of this scan (for `at_hits` rules).
    hits: Vec<Vec<(usize, usize)>>,
    /// The prefilter's keyword occurrences `(start, end, keyword)` of this scan.
    keywords: Vec<(usize, usize, u32)>,
    touched: Vec<usize>,
    locs: Vec<Option<Captures>>,
    paths: PathCache,
}

/// The detection engine: compiled rules plus the keyword prefilter.
#[derive(Debug)]
pub struct Engine {
    rules: Vec<Rule>,
    prefilter: Prefilter,
    path_rules: Option<PathRules>,
}

impl Engine {
    /// Builds an engine. Rules whose `origin` does not start with `rules/` (user rules)
    /// are compiled at once so that errors surface before scanning.
    pub fn new(rules: Vec<LoadedRule>) -> Result<Engine, Vec<Problem>> {
        let mut errors = Vec::new();
        let mut out = Vec::with_capacity(rules.len());
        for loaded in rules {
            let (origin, id) = (loaded.origin.clone(), loaded.spec.id.clone());
            let builtin = origin.starts_with("rules/");
            match Rule::new(loaded) {
                Ok(rule) => {
                    if !builtin {
                        if let Err(message) = rule.check_compiles() {
                            errors.push(Problem {
                                origin,
                                rule_id: id,
                                message,
                            });
                            continue;
                        }
                    }
                    out.push(rule);
                }
                Err(message) => errors.push(Problem {
                    origin,
                    rule_id: id,
                    message,
                }),
            }
        }
        for rule in &out {
            if rule.spec.keywords.is_empty() && rule.spec.paths.is_empty() {
                errors.push(Problem {
                    origin: rule.origin.clone(),
                    rule_id: rule.spec.id.clone(),
                    message: "has no keywords: every rule needs at least one, or the prefilter \
                              never runs it"
                        .into(),
                });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let path_rules = PathRules::new(
            out.iter()
                .enumerate()
                .filter(|(_, r)| !r.spec.paths.is_empty())
                .map(|(i, r)| (i, &r.spec)),
        )
        .map_err(|(r, message)| {
            vec![Problem {
                origin: out[r].origin.clone(),
                rule_id: out[r].spec.id.clone(),
                message,
            }]
        })?;
        // Path-scoped rules stay out of the keyword prefilter: their paths select them.
        let keywords: Vec<Vec<String>> = out
            .iter()
            .map(|r| {
                if r.spec.paths.is_empty() {
                    r.spec.keywords.clone()
                } else {
                    Vec::new()
                }
            })
            .collect();
        let prefilter = Prefilter::new(&keywords).map_err(|message| {
            vec![Problem {
                origin: "(all rules)".into(),
                rule_id: "-".into(),
                message,
            }]
        })?;
        Ok(Engine {
            rules: out,
            prefilter,
            path_rules,
        })
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Scans `hay` and appends matches to `out`, sorted by position, one per secret span.
    ///
    /// `path` feeds path-based allowlists. Only matches whose whole-match start is
    /// before `owned_end` are kept: chunked readers scan `[start, end + overlap)` and own
    /// `[start, end)`, so a match is reported by exactly one chunk.
    pub fn scan(
        &self,
        hay: &[u8],
        owned_end: usize,
        path: Option<&str>,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        if scratch.windows.len() < self.rules.len() {
            scratch.windows.resize_with(self.rules.len(), Vec::new);
            scratch.hits.resize_with(self.rules.len(), Vec::new);
            scratch.locs.resize_with(self.rules.len(), || None);
        }
        let rules = &self.rules;
        let windows = &mut scratch.windows;
        let hits = &mut scratch.hits;
        let touched = &mut scratch.touched;
        self.prefilter
            .for_each_hit(hay, &mut scratch.keywords, |r, s, e| {
                let rule_hits = &mut hits[r];
                if rule_hits.is_empty() {
                    touched.push(r);
                }
                rule_hits.push((s, e));
                if rules[r].runs_at_hits() {
                    return;
                }
                let w = prefilter::window(hay, s, e, rules[r].spec.multiline);
                let list = &mut windows[r];
                match list.last_mut() {
                    Some(last) if w.0 <= last.1 => last.1 = last.1.max(w.1),
                    _ => list.push(w),
                }
            });
        if let (Some(pr), Some(path)) = (&self.path_rules, path) {
            for &r in pr.active(path, &mut scratch.paths) {
                windows[r].push((0, hay.len()));
                touched.push(r);
            }
        }
        let first = out.len();
        touched.sort_unstable();
        // Rules are compiled the first time a keyword of theirs hits. A file that wakes
        // many rules at once (a README naming providers, the first files of a scan) would
        // compile them one after another on this thread; other cores help instead.
        let cold = touched
            .iter()
            .filter(|&&r| self.rules[r].compiled.get().is_none())
            .count();
        if cold >= PARALLEL_COMPILE_MIN {
            touched.par_iter().for_each(|&r| {
                let _ = self.rules[r].compiled();
            });
        }
        for &r in touched.iter() {
            let rule = &self.rules[r];
            let list = std::mem::take(&mut windows[r]);
            let mut rule_hits = std::mem::take(&mut hits[r]);
            if let Ok(compiled) = rule.compiled() {
                let locs = scratch.locs[r].get_or_insert_with(|| compiled.regex.create_captures());
                if compiled.at_hits {
                    Self::run_at_hits(
                        r,
                        rule,
                        compiled,
                        hay,
                        &mut rule_hits,
                        owned_end,
                        path,
                        locs,
                        out,
                    );
                } else {
                    // A pair's value may sit before its name: a name just past the owned
                    // end can still make a match that starts inside it.
                    let reach = if rule.extract.is_some() {
                        context::PAIR_REACH
                    } else {
                        0
                    };
                    for &(lo, hi) in &list {
                        if lo >= owned_end + reach {
                            break;
                        }
                        Self::run_window(
                            r, rule, compiled, hay, lo, hi, false, owned_end, path, locs, out,
                        );
                    }
                }
            }
            let mut list = list;
            list.clear();
            windows[r] = list;
            rule_hits.clear();
            hits[r] = rule_hits;
        }
        touched.clear();
        if out.len() > first {
            let found = out.split_off(first);
            resolve_overlaps(&self.rules, found, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_window(
        r: usize,
        rule: &Rule,
        compiled: &Compiled,
        hay: &[u8],
        lo: usize,
        hi: usize,
        anchored: bool,
        owned_end: usize,
        path: Option<&str>,
        locs: &mut Captures,
        out: &mut Vec<Match>,
    ) -> usize {
        let bounded = &hay[..hi];
        let mut pos = lo;
        while pos <= hi {
            if anchored {
                // One try, at the hit: the next match starts at another hit.
                if pos != lo {
                    break;
                }
                compiled.regex.search_captures(
                    &Input::new(bounded)
                        .span(pos..bounded.len())
                        .anchored(Anchored::Yes),
                    locs,
                );
            } else {
                compiled.search_from(&rule.spec, bounded, pos, locs);
            }
            let Some(m) = locs.get_match() else {
                break;
            };
            let reach = if rule.extract.is_some() {
                context::PAIR_REACH
            } else {
                0
            };
            if m.start() >= owned_end + reach {
                break;
            }
            let Some((ss, se)) = locs
                .get_group(compiled.secret_group)
                .or_else(|| compiled.alt_groups.iter().find_map(|&g| locs.get_group(g)))
                .map(|g| (g.start, g.end))
            else {
                pos = next_search(m.start(), m.end(), m.end());
                continue;
            };
            // The next search starts where the secret ends, not the whole match: the
            // delimiter after a secret (a closing quote, a comma) may be the boundary
            // before the next one, and consuming it would make every other match of a
            // run depend on where the search began (a chunk start, a window start).
            pos = next_search(m.start(), m.end(), se);
            if se <= ss {
                continue;
            }
            // The text that names the secret: the match before it, or the name itself
            // when the value was read from the context.
            // Allowlists see the match from its name on.
            let whole_start = if rule.extract.is_some() {
                ss
            } else {
                m.start()
            };
            let (start, ss, se, end, named) = match rule.extract {
                None => (m.start(), ss, se, m.end(), &hay[m.start()..ss]),
                // The match starts at the name (not at the boundary before it), or at
                // the value when that comes first (`{"value": "...", "name": "X"}`).
                Some(mode) => match context::extract(hay, (ss, se), mode) {
                    Some((vs, ve)) => (ss.min(vs), vs, ve, m.end().max(ve), &hay[ss..se]),
                    None => continue,
                },
            };
            if start >= owned_end {
                continue;
            }
            let secret = &hay[ss..se];
            let entropy = entropy::shannon_entropy(secret);
            if rule.spec.entropy.is_some_and(|min| entropy < min) {
                continue;
            }
            if rule
                .validator
                .is_some_and(|v| !v.check_named(secret, named))
            {
                continue;
            }
            if allow::is_placeholder(secret)
                || (!rule.spec.paths.is_empty()
                    && (pathscope::is_template_value(secret)
                        // A token whose checksum fails is dead in a credential file too.
                        // (Public shapes are not dropped here: npm's legacy tokens and
                        // Heroku's API keys are UUIDs, and a credential file holds them.)
                        || identify::has_dead_checksum(secret)))
            {
                continue;
            }
            if !compiled.allows.is_empty() {
                let line_lo = memchr::memrchr(b'\n', &hay[..whole_start]).map_or(0, |i| i + 1);
                let line_hi = memchr::memchr(b'\n', &hay[end..]).map_or(hay.len(), |i| end + i);
                let input = AllowInput {
                    secret,
                    whole: &hay[whole_start..end],
                    line: &hay[line_lo..line_hi],
                    path,
                };
                if compiled.allows.iter().any(|a| a.allows(&input)) {
                    continue;
                }
            }
            out.push(Match {
                rule: r,
                start,
                end,
                secret_start: ss,
                secret_end: se,
                entropy,
            });
        }
        pos
    }

    /// Runs an `at_hits` rule: its regex anchored at each keyword hit, in the order of the
    /// hits' starts, each bounded by the hit's window end. A hit inside a match already
    /// read (before where the search would resume) is skipped, as the line search skips
    /// it, so both report the same matches.
    #[allow(clippy::too_many_arguments)]
    fn run_at_hits(
        r: usize,
        rule: &Rule,
        compiled: &Compiled,
        hay: &[u8],
        hits: &mut Vec<(usize, usize)>,
        owned_end: usize,
        path: Option<&str>,
        locs: &mut Captures,
        out: &mut Vec<Match>,
    ) {
        // The prefilter reports hits by start (then end). Two keywords can start at one
        // place: one try there, bounded by the longer.
        debug_assert!(hits.windows(2).all(|w| w[0] <= w[1]), "hits in start order");
        hits.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = kept.1.max(later.1);
            }
            same
        });
        let mut resume = 0;
        for &(s, e) in hits.iter() {
            if s < resume {
                continue;
            }
            if s >= owned_end {
                break;
            }
            let hi = prefilter::window(hay, s, e, rule.spec.multiline).1;
            resume = Self::run_window(
                r, rule, compiled, hay, s, hi, true, owned_end, path, locs, out,
            );
        }
    }
}

/// Where the search resumes after a match `[start, end)` whose secret ends at
/// `secret_end`: at the secret's end when that is past the match start, otherwise at the
/// match end (one past it for an empty match), so that the search always moves forward.
fn next_search(start: usize, end: usize, secret_end: usize) -> usize {
    if secret_end > start && secret_end <= end {
        secret_end
    } else if end > start {
        end
    } else {
        end + 1
    }
}

/// Sorts `matches` and keeps one match per overlapping secret span: the higher rule
/// priority wins, then the longer secret, then the rule loaded first.
fn resolve_overlaps(rules: &[Rule], mut matches: Vec<Match>, out: &mut Vec<Match>) {
    matches.sort_by_key(|m| (m.secret_start, std::cmp::Reverse(m.secret_end), m.rule));
    let first = out.len();
    for m in matches {
        let better = |a: &Match, b: &Match| {
            let (pa, pb) = (rules[a.rule].spec.priority, rules[b.rule].spec.priority);
            (pa, a.secret_end - a.secret_start, std::cmp::Reverse(a.rule))
                > (pb, b.secret_end - b.secret_start, std::cmp::Reverse(b.rule))
        };
        let has_own = out.len() > first;
        match out.last_mut() {
            Some(last) if has_own && m.secret_start < last.secret_end => {
                if better(&m, last) {
                    *last = m;
                }
            }
            _ => out.push(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule_file;

    fn engine(toml: &str) -> Engine {
        Engine::new(parse_rule_file("test.toml", toml).unwrap()).unwrap()
    }

    const RULES: &str = r#"
[[rule]]
id = "aws-access-key-id"
name = "AWS access key ID"
keywords = ["akia"]
regex = '''\b(AKIA[A-Z2-7]{16})\b'''
examples = ["AKIAZ7VRSQ5TJN2XKBRP"] # leaksweep:allow (test fixture)
negative_examples = ["AKIA"]

[[rule]]
id = "generic"
name = "Generic"
priority = -10
keywords = ["key"]
regex = '''key\s*=\s*(\S+)'''
examples = ["key = q8Zr2mV9xK4tW7pL"]
negative_examples = ["key"]
"#;

    #[test]
    fn finds_and_prefers_specific_rule() {
        let e = engine(RULES);
        let hay = b"line one\nkey = AKIAZ7VRSQ5TJN2XKBRP\n"; // leaksweep:allow (test fixture)
        let mut out = Vec::new();
        e.scan(hay, hay.len(), None, &mut Scratch::default(), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(e.rules()[out[0].rule].spec.id, "aws-access-key-id");
        assert_eq!(
            &hay[out[0].secret_start..out[0].secret_end],
            b"AKIAZ7VRSQ5TJN2XKBRP" // leaksweep:allow (test fixture)
        );
    }

    #[test]
    fn ownership_drops_matches_past_owned_end() {
        let e = engine(RULES);
        let hay = b"AKIAZ7VRSQ5TJN2XKBRP AKIAQ7VRSQ5TJN2XKBRZ"; // leaksweep:allow (test fixture)
        let mut out = Vec::new();
        e.scan(hay, 21, None, &mut Scratch::default(), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].start, 0);
    }

    #[test]
    fn alternate_secret_groups_stand_in_for_the_secret_group() {
        let e = engine(
            r#"
[[rule]]
id = "pw"
name = "pw"
keywords = ["-p "]
regex = '''-p (?:"(?P<secret>[^"]+)"|(?P<secret_alt1>\S+))'''
"#,
        );
        let cases: [(&[u8], &[u8]); 2] = [
            (b"run -p \"two words\"", b"two words"),
            (b"run -p bare9x", b"bare9x"),
        ];
        for (hay, want) in cases {
            let mut out = Vec::new();
            e.scan(hay, hay.len(), None, &mut Scratch::default(), &mut out);
            assert_eq!(out.len(), 1);
            assert_eq!(&hay[out[0].secret_start..out[0].secret_end], want);
        }
    }

    #[test]
    fn placeholder_is_dropped() {
        let e = engine(RULES);
        let mut out = Vec::new();
        let hay = b"AKIAIOSFODNN7EXAMPLE";
        e.scan(hay, hay.len(), None, &mut Scratch::default(), &mut out);
        assert!(out.is_empty());
    }

    /// The gate-led search (gate finds the start, the regex runs anchored there) reports
    /// exactly what one unanchored search of the regex does, from every position: names
    /// longer than the bounded repetition allows (the gate matches, the regex does not at
    /// that start), a match after many such false starts (past the anchored tries, where
    /// the search falls back), and no match at all.
    #[test]
    fn gate_led_search_equals_the_unanchored_search() {
        let toml = r#"
[[rule]]
id = "bounded"
name = "Bounded"
keywords = ["token"]
regex = '''(?i)(?:^|[^\w])([a-z_][\w.-]{0,12}?token[\w-]{0,8})\s*[:=]\s*["']?([\w/+]{8,40})'''
secret_group = 2
examples = ["my_token = q8Zr2mV9xK4tW7pL"] # leaksweep:allow (test fixture)
negative_examples = ["token"]
"#;
        let e = engine(toml);
        let rule = &e.rules()[0];
        let compiled = rule.compiled().unwrap();
        assert!(
            compiled.gate.is_some(),
            "the rule has wide bounded repetitions"
        );
        let false_starts = "a_very_long_name_indeed_token = abcdefgh12 ".repeat(ANCHORED_TRIES + 5);
        let hays: Vec<String> = vec![
            "my_token = q8Zr2mV9xK4tW7pL and api_token: 'Zq8r2mV9xK4tW7pLa'".into(), // leaksweep:allow
            "a_very_long_name_indeed_token = q8Zr2mV9xK4tW7pL, x_token=abcdefgh12".into(), // leaksweep:allow
            format!("{false_starts} ok_token = q8Zr2mV9xK4tW7pL"), // leaksweep:allow (test fixture)
            "no keyword here at all".into(),
            "TOKEN_VALUE_TOO_LONG_FOR_ANY_NAME_token_abcdefghijk = 12".into(),
        ];
        // The oracle: one unanchored search of the regex as built without a gate.
        let oracle = build_regex(&rule.spec, &parse_regex(&rule.spec).unwrap(), true).unwrap();
        let mut want = oracle.create_captures();
        let mut got = compiled.regex.create_captures();
        for hay in &hays {
            let hay = hay.as_bytes();
            for pos in 0..=hay.len() {
                oracle.search_captures(&Input::new(hay).span(pos..hay.len()), &mut want);
                compiled.search_from(&rule.spec, hay, pos, &mut got);
                let groups = |c: &Captures| {
                    (0..3)
                        .map(|g| c.get_group(g).map(|s| s.range()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(
                    groups(&got),
                    groups(&want),
                    "pos {pos} in {:?}",
                    String::from_utf8_lossy(hay)
                );
            }
        }
        assert!(
            matches!(compiled.lazy_dfa.get(), Some(Ok(_))),
            "the run of false starts took the unanchored fallback"
        );
    }

    /// A rule whose every match begins with a keyword runs anchored at the hits, and
    /// reports what a search of each whole line reports: several URLs on a line, a
    /// keyword inside another (`https://` in `git+https://`), a hit inside a match
    /// already read, hits with no match, keywords in another case.
    #[test]
    fn at_hits_rule_finds_what_a_line_search_finds() {
        let toml = r#"
[[rule]]
id = "url-auth"
name = "URL with credentials"
keywords = ["http://", "https://", "git+https://"]
regex = '''\b(?:https?|git\+https)://([^\s:@/]{1,64}):([^\s@/]{6,128})@[a-z0-9.-]+'''
secret_group = 2
examples = ["https://u:Zq8r2mV9xK@example.com"]
negative_examples = ["https://example.com"]

[[rule]]
id = "class-first"
name = "Starts with a class"
keywords = ["tok"]
regex = '''[a-z]tok_([a-z0-9]{12})'''
examples = ["xtok_abcdef123456"]
negative_examples = ["tok"]
"#;
        let e = engine(toml);
        assert!(e.rules()[0].compiled().unwrap().at_hits);
        assert!(
            !e.rules()[1].compiled().unwrap().at_hits,
            "a class comes first"
        );
        let hay =
            b"see https://u1:Zq8r2mV9xK@a.example.com and http://u2:Pw7nQ2rL5t@b.example.org\n\
            clone git+https://bot:Tk9vX3mR7q@git.example.net/repo.git https://nobody@x.io\n\
            HTTPS://U:Ab3dE5gH7j@c.example.com https://u:Mn4bV6cX8z@https://d.example.com\n\
            nested https://u:Qw3eR5tY7u@e.example.com/https://v:Lk8jH6gF4d@f.example.com\n";
        let regex = &e.rules()[0].compiled().unwrap().regex;
        let mut want = Vec::new();
        let mut caps = regex.create_captures();
        let mut line_start = 0;
        for line in hay.split_inclusive(|&b| b == b'\n') {
            let line_end = line_start + line.len() - 1;
            let mut pos = line_start;
            loop {
                let input = Input::new(&hay[..line_end]).span(pos..line_end);
                regex.search_captures(&input, &mut caps);
                let (Some(m), Some(g)) = (caps.get_match(), caps.get_group(2)) else {
                    break;
                };
                want.push((m.start(), g.start, g.end));
                pos = next_search(m.start(), m.end(), g.end);
            }
            line_start += line.len();
        }
        assert!(
            want.len() >= 5,
            "the oracle finds the planted URLs: {want:?}"
        );
        let mut out = Vec::new();
        e.scan(hay, hay.len(), None, &mut Scratch::default(), &mut out);
        let got: Vec<_> = out
            .iter()
            .filter(|m| m.rule == 0)
            .map(|m| (m.start, m.secret_start, m.secret_end))
            .collect();
        assert_eq!(got, want);
    }
}
