//! Inline ignore markers: a comment on the line of a finding suppresses it.
//!
//! Recognised markers: `leaksweep:allow` (optionally followed by rule ids:
//! `leaksweep:allow aws-access-key-id,github-pat`), and the markers teams already have
//! from other scanners: `gitleaks:allow`, trufflehog's `trufflehog:ignore` and
//! detect-secrets' `pragma: allowlist secret` (`pragma: allowlist nextline secret` on the
//! line before works too).
//!
//! Markers are found as text, so every comment syntax works: `#`, `//`, `/* */`, `--`,
//! `<!-- -->`, `;`, `%`, `REM`, `'`. The caller passes the line *without* the match, so a
//! marker inside the secret itself never counts.
//!
//! Rule ids after `leaksweep:allow` are the words that look like rule ids (`a-z`, `0-9`,
//! `-`, starting with a letter or digit); the first word that does not (`--`, `*/`, `-->`,
//! a capitalised reason) ends the list. A list that does not name the finding's rule does
//! not suppress it: a typo in an id reports the finding rather than hiding it.

/// The leaksweep marker.
pub const MARKER: &str = "leaksweep:allow";

/// Markers of other scanners that suppress every rule on their line.
pub const FOREIGN_MARKERS: &[&str] = &[
    "gitleaks:allow",
    "trufflehog:ignore",
    "pragma: allowlist secret",
];

/// detect-secrets' marker for the line that follows.
pub const NEXTLINE_MARKER: &str = "pragma: allowlist nextline secret";

/// True if `line` (the text of the finding's line, the match itself left out) carries a
/// marker that covers `rule_id`, or `prev_line` carries a next-line marker.
pub fn is_allowed(line: &[u8], prev_line: Option<&[u8]>, rule_id: &str) -> bool {
    let mut at = 0;
    while let Some(i) = line
        .get(at..)
        .and_then(|l| memchr::memmem::find(l, MARKER.as_bytes()))
    {
        at += i + MARKER.len();
        let rest = line.get(at..).unwrap_or_default();
        // `leaksweep:allowed` or `leaksweep:allow_x` are other words, not the marker.
        if rest
            .first()
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            continue;
        }
        if covers(rest, rule_id) {
            return true;
        }
    }
    if FOREIGN_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(line, m.as_bytes()).is_some())
    {
        return true;
    }
    prev_line.is_some_and(|p| memchr::memmem::find(p, NEXTLINE_MARKER.as_bytes()).is_some())
}

/// Does the text after a `leaksweep:allow` marker cover `rule_id`?
fn covers(rest: &[u8], rule_id: &str) -> bool {
    let mut named = false;
    for word in rest
        .split(|&b| b == b' ' || b == b',' || b == b'\t' || b == b'\r')
        .filter(|s| !s.is_empty())
    {
        if !is_rule_id(word) {
            break;
        }
        if word == rule_id.as_bytes() {
            return true;
        }
        named = true;
    }
    !named
}

fn is_rule_id(word: &[u8]) -> bool {
    word.first()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && word
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::is_allowed;

    #[test]
    fn markers() {
        assert!(is_allowed(b"k = 'x' # leaksweep:allow", None, "r"));
        assert!(is_allowed(b"k = 'x' // leaksweep:allow r, s", None, "s"));
        assert!(!is_allowed(
            b"k = 'x' // leaksweep:allow other-rule",
            None,
            "r"
        ));
        assert!(is_allowed(b"k = 'x' /* gitleaks:allow */", None, "r"));
        assert!(is_allowed(
            b"k = 'x'  # pragma: allowlist secret",
            None,
            "r"
        ));
        assert!(is_allowed(
            b"k = 'x'",
            Some(b"# pragma: allowlist nextline secret"),
            "r"
        ));
        assert!(is_allowed(b"k = 'x' # trufflehog:ignore", None, "r"));
        assert!(!is_allowed(b"k = 'x'", None, "r"));
    }

    #[test]
    fn every_comment_syntax_ends_the_id_list() {
        for line in [
            "k = 'x' # leaksweep:allow",
            "k = 'x'; // leaksweep:allow r",
            "k = 'x'; /* leaksweep:allow r */",
            "k = 'x'; /* leaksweep:allow */",
            "<a k='x'/> <!-- leaksweep:allow r -->",
            "<a k='x'/> <!-- leaksweep:allow -->",
            "k = 'x' -- leaksweep:allow r",
            "k = 'x' ; leaksweep:allow",
            "k = 'x' % leaksweep:allow r",
            "REM leaksweep:allow r",
            "k = 'x' ' leaksweep:allow r",
            "k = 'x' # leaksweep:allow r -- rotated, test fixture",
            "k = 'x' # leaksweep:allow -- Test fixture",
            "k = 'x' # leaksweep:allow other,r",
        ] {
            assert!(is_allowed(line.as_bytes(), None, "r"), "{line}");
        }
    }

    #[test]
    fn near_misses_do_not_suppress() {
        for line in [
            "k = 'x' # leaksweep:allowed",
            "k = 'x' # leaksweep:allow_all",
            "k = 'x' # leaksweep:allow rr",
            "k = 'x' # leaksweep:allow other -- r",
            "k = 'x' # leaksweep: allow",
            "k = 'x' # pragma: allowlist",
        ] {
            assert!(!is_allowed(line.as_bytes(), None, "r"), "{line}");
        }
    }

    #[test]
    fn second_marker_on_a_line_counts() {
        assert!(is_allowed(
            b"a # leaksweep:allow other; leaksweep:allow r",
            None,
            "r"
        ));
    }
}
