//! Inline ignore markers: a comment on the line of a finding suppresses it.
//!
//! Recognised markers: `leaksweep:allow` (optionally followed by rule ids:
//! `leaksweep:allow aws-access-key-id,github-pat`), and the markers teams already have
//! from other scanners: `gitleaks:allow` and detect-secrets' `pragma: allowlist secret`.
//! `pragma: allowlist nextline secret` on the line before works too.

/// True if `line` (the line holding a finding of `rule_id`) carries a marker, or
/// `prev_line` carries a next-line marker.
pub fn is_allowed(line: &[u8], prev_line: Option<&[u8]>, rule_id: &str) -> bool {
    if let Some(rest) = find(line, b"leaksweep:allow") {
        // Rule ids may follow: separated by spaces or commas, up to the comment's end.
        let ids: Vec<&[u8]> = rest
            .split(|&b| b == b' ' || b == b',' || b == b'\t')
            .filter(|s| !s.is_empty())
            .take_while(|s| {
                s.iter()
                    .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
            .collect();
        if ids.is_empty() || ids.contains(&rule_id.as_bytes()) {
            return true;
        }
    }
    if find(line, b"gitleaks:allow").is_some() || find(line, b"pragma: allowlist secret").is_some()
    {
        return true;
    }
    prev_line.is_some_and(|p| find(p, b"pragma: allowlist nextline secret").is_some())
}

fn find<'a>(hay: &'a [u8], needle: &[u8]) -> Option<&'a [u8]> {
    memchr::memmem::find(hay, needle).map(|i| &hay[i + needle.len()..])
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
        assert!(!is_allowed(b"k = 'x'", None, "r"));
    }
}
