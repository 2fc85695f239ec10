//! Allowlists: the global placeholder policy and each rule's own allow entries.
//!
//! The global policy drops values that are documentation or templates, not secrets:
//! vendors' documented example keys, `${VAR}` and `{{ .x }}` templates, `xxxx` and `****`
//! masks, `changeme` and `your-api-key`. It applies to every rule. It is a policy value
//! written down here, not a condition buried in the matcher.

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::bytes::{Regex, RegexBuilder};

use crate::rules::{AllowSpec, AllowTarget};

/// Substrings (ASCII case-insensitive) that mark a value as a placeholder.
pub const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "xxxx",
    "****",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "redacted",
    "your_",
    "your-",
    "yourapikey",
    "yourtoken",
    "insert_",
    "insert-",
    "replace_me",
    "replaceme",
    "dummy",
    "notreal",
    "not_real",
    "not-a-real",
    "fake_",
    "lorem",
    "ipsum",
    "${",
    "{{",
    "}}",
    "<%",
    "%>",
    "#{",
    "...",
    "•••",
];

/// Values published as examples in RFCs and in widely installed library documentation.
/// They look random, so no placeholder word catches them; matched exactly.
pub const DOCUMENTED_EXAMPLES: &[&str] = &[
    // RFC 6749 (OAuth 2.0): access and refresh tokens, code, client credentials.
    "2YotnFZFEjr1zCsicMWpAA",
    "tGzv3JOkF0XG5Qx2TlKWIA",
    "SplxlOBeZQQYbYS6WxSbIA",
    "czZCaGRSa3F0MzpnWDFmQmF0M2JW",
    "gX1fBat3bV",
    "7Fjfp0ZBr1KtDRbnfVdmIw",
    // RFC 6750 (bearer tokens).
    "mF_9.B5f-4.1JqM",
    // RFC 5849 (OAuth 1.0) client, temporary and token credentials.
    "kd94hf93k423kf44",
    "hdhd0244k9j7ao03",
    "pfkkdhi9sl3r4s00",
    "nnch734d00sl2jdk",
    // oauthlib's docstrings.
    "ad180jjd733klru7",
    // jwt.io's default token and PyJWT's README token ({"some": "payload"}, key "secret").
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzb21lIjoicGF5bG9hZCJ9.4twFt5NiznN84AWoo1d7KO1T_yoc0Z6XOpOVswacPZg",
];

/// Is `secret` a placeholder by the global policy?
pub fn is_placeholder(secret: &[u8]) -> bool {
    if secret.is_empty() || DOCUMENTED_EXAMPLES.iter().any(|e| e.as_bytes() == secret) {
        return true;
    }
    // Template brackets around the whole value: <token>, [TOKEN], %TOKEN%, $TOKEN.
    let first = secret[0];
    let last = secret[secret.len() - 1];
    if (first == b'<' && last == b'>')
        || (first == b'[' && last == b']')
        || (first == b'%' && last == b'%')
        || (first == b'$' && secret.len() > 1 && secret[1].is_ascii_uppercase())
    {
        return true;
    }
    // One repeated character for most of the value (aaaaaaaa, 00000000).
    let mut counts = [0u32; 256];
    for &b in secret {
        counts[usize::from(b)] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(0) as usize;
    if secret.len() >= 8 && max * 10 >= secret.len() * 7 {
        return true;
    }
    contains_any_ci(secret, PLACEHOLDER_WORDS)
}

/// ASCII case-insensitive substring test against a small list.
pub fn contains_any_ci(hay: &[u8], needles: &[impl AsRef<str>]) -> bool {
    needles.iter().any(|n| {
        let n = n.as_ref().as_bytes();
        !n.is_empty()
            && hay.len() >= n.len()
            && hay.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
    })
}

/// A compiled allow entry of one rule.
#[derive(Debug)]
pub struct CompiledAllow {
    regexes: Vec<Regex>,
    stopwords: Vec<String>,
    paths: Option<GlobSet>,
    target: AllowTarget,
}

/// What an allow entry is checked against.
pub struct AllowInput<'a> {
    /// The captured secret.
    pub secret: &'a [u8],
    /// The whole regex match.
    pub whole: &'a [u8],
    /// The line or lines holding the match.
    pub line: &'a [u8],
    /// The path, if any.
    pub path: Option<&'a str>,
}

impl CompiledAllow {
    /// Compiles an allow entry; errors name the bad regex or glob.
    pub fn new(spec: &AllowSpec) -> Result<CompiledAllow, String> {
        let regexes = spec
            .regexes
            .iter()
            .map(|r| {
                RegexBuilder::new(r)
                    .unicode(false)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("allow regex {r:?}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let paths = if spec.paths.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for p in &spec.paths {
                b.add(Glob::new(p).map_err(|e| format!("allow path glob {p:?}: {e}"))?);
            }
            Some(b.build().map_err(|e| format!("allow path globs: {e}"))?)
        };
        Ok(CompiledAllow {
            regexes,
            stopwords: spec.stopwords.clone(),
            paths,
            target: spec.target,
        })
    }

    /// True if this entry allows (drops) the finding.
    pub fn allows(&self, input: &AllowInput<'_>) -> bool {
        let target = match self.target {
            AllowTarget::Secret => input.secret,
            AllowTarget::Match => input.whole,
            AllowTarget::Line => input.line,
        };
        if self.regexes.iter().any(|r| r.is_match(target)) {
            return true;
        }
        if contains_any_ci(input.secret, &self.stopwords) {
            return true;
        }
        if let (Some(set), Some(path)) = (&self.paths, input.path) {
            if set.is_match(path) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for p in [
            "AKIAIOSFODNN7EXAMPLE",
            "${GITHUB_TOKEN}",
            "{{ .Values.token }}",
            "xxxxxxxxxxxxxxxx",
            "<your-token-here>",
            "changeme123",
            "$API_KEY",
            "0000000000000000",
            "2YotnFZFEjr1zCsicMWpAA",
            "czZCaGRSa3F0MzpnWDFmQmF0M2JW",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for s in [
            "AKIAZ7VRSQ5TJN2XKBRP", // leaksweep:allow (test fixture)
            "q8Zr2mV9xK4tW7pL",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc", // leaksweep:allow (test fixture)
        ] {
            assert!(!is_placeholder(s.as_bytes()), "{s}");
        }
    }
}
