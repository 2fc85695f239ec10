//! The in-memory secret type: redacts itself and is wiped on drop.
//!
//! A [`Secret`] has no `Display`; `Debug` prints a fixed marker. The only ways to see the
//! value are [`Secret::expose`] (for code that must use it: fingerprints, rotation) and
//! [`Secret::redacted`] (for people).

use zeroize::Zeroize;

/// A secret value found by a scan.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps bytes.
    pub fn new(bytes: Vec<u8>) -> Secret {
        Secret(bytes)
    }

    /// The raw bytes. Callers must not log or print them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A redacted form for people: a short prefix and `…`. The prefix is at most 6
    /// characters and at most a quarter of the value, so short secrets show less.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }

    /// The whole value as (lossy) UTF-8, for `--show-secrets` only.
    pub fn reveal_lossy(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

/// Redacts `bytes`: a short prefix, then `…`.
pub fn redact(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    // A PEM block shows its BEGIN line, which names the key type and hides nothing.
    if let Some(rest) = text.strip_prefix("-----BEGIN ") {
        if let Some(end) = rest.find("-----") {
            return format!("-----BEGIN {}-----…", &rest[..end]);
        }
    }
    let chars = text.chars().count();
    let keep = (chars / 4).min(6);
    let mut out: String = text.chars().take(keep).collect();
    out.push('…');
    out
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_a_short_prefix() {
        let s = Secret::new(b"AKIAZ7VRSQ5TJN2XKBRP".to_vec()); // leaksweep:allow (test fixture)
        assert_eq!(s.redacted(), "AKIAZ…");
        assert_eq!(Secret::new(b"hunter2".to_vec()).redacted(), "h…");
        assert_eq!(format!("{s:?}"), "Secret(<20 bytes redacted>)");
    }
}
