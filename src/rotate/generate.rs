//! New secret values: a cryptographically secure generator with a length and
//! character-set policy per route.
//!
//! Randomness comes from the operating system (`getrandom`); characters are drawn by
//! rejection sampling, so every character of the set is equally likely. Intermediate
//! buffers are wiped.

use serde::Deserialize;
use zeroize::Zeroize;

use crate::secret::Secret;

/// How to generate a replacement value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuePolicy {
    /// Number of characters (16..=4096).
    #[serde(default = "default_length")]
    pub length: usize,
    /// `alnum` (default), `alnum-symbols`, `hex`, `base64url`, or `custom` with `chars`.
    #[serde(default = "default_charset")]
    pub charset: String,
    /// The characters to draw from when `charset = "custom"` (ASCII, 2..=256 distinct).
    #[serde(default)]
    pub chars: Option<String>,
    /// A fixed prefix kept in front of the random part (`sk_live_`), not counted in `length`.
    #[serde(default)]
    pub prefix: String,
}

fn default_length() -> usize {
    32
}

fn default_charset() -> String {
    "alnum".into()
}

impl Default for ValuePolicy {
    fn default() -> Self {
        ValuePolicy {
            length: default_length(),
            charset: default_charset(),
            chars: None,
            prefix: String::new(),
        }
    }
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const SYMBOLS: &str = "!#%*+-.:=?@^_~";

impl ValuePolicy {
    /// The character set, or a message saying what is wrong with the policy.
    pub fn alphabet(&self) -> Result<Vec<u8>, String> {
        if !(16..=4096).contains(&self.length) {
            return Err(format!(
                "length = {} is out of range (use 16 to 4096 characters)",
                self.length
            ));
        }
        let set: String = match self.charset.as_str() {
            "alnum" => ALNUM.into(),
            "alnum-symbols" => format!("{ALNUM}{SYMBOLS}"),
            "hex" => "0123456789abcdef".into(),
            "base64url" => format!("{ALNUM}-_"),
            "custom" => self
                .chars
                .clone()
                .ok_or("charset = \"custom\" needs chars = \"...\"")?,
            other => {
                return Err(format!(
                    "unknown charset {other:?} (use alnum, alnum-symbols, hex, base64url or custom)"
                ))
            }
        };
        let mut bytes: Vec<u8> = set.bytes().collect();
        bytes.sort_unstable();
        bytes.dedup();
        if !set.is_ascii() || bytes.len() < 2 || bytes.iter().any(u8::is_ascii_control) {
            return Err("chars must be at least 2 distinct printable ASCII characters".into());
        }
        Ok(bytes)
    }

    /// A short description for plans: `32 chars alnum`.
    pub fn describe(&self) -> String {
        format!("{} chars {}", self.length, self.charset)
    }

    /// Generates a value.
    pub fn generate(&self) -> Result<Secret, String> {
        let alphabet = self.alphabet()?;
        let n = alphabet.len();
        // Largest multiple of n that fits in a byte: bytes above it are rejected.
        let limit = 256 - 256 % n;
        let mut out = Vec::with_capacity(self.prefix.len() + self.length);
        out.extend_from_slice(self.prefix.as_bytes());
        let mut buf = [0u8; 64];
        while out.len() < self.prefix.len() + self.length {
            getrandom::fill(&mut buf)
                .map_err(|e| format!("the operating system's random generator failed: {e}"))?;
            for &b in &buf {
                if usize::from(b) < limit && out.len() < self.prefix.len() + self.length {
                    if let Some(&c) = alphabet.get(usize::from(b) % n) {
                        out.push(c);
                    }
                }
            }
        }
        buf.zeroize();
        Ok(Secret::new(out))
    }
}

/// A random `u64` from the operating system (for backoff jitter and run ids).
pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // Jitter and ids do not need to fail the run if the generator is unavailable.
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_policy_values() {
        let p = ValuePolicy::default();
        let a = p.generate().unwrap();
        let b = p.generate().unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.expose().iter().all(u8::is_ascii_alphanumeric));
        let hex = ValuePolicy {
            length: 40,
            charset: "hex".into(),
            prefix: "sk_".into(),
            chars: None,
        };
        let h = hex.generate().unwrap();
        assert_eq!(h.len(), 43);
        assert!(h.expose().starts_with(b"sk_"));
        assert!(h.expose()[3..].iter().all(u8::is_ascii_hexdigit));
    }

    #[test]
    fn rejects_bad_policies() {
        let short = ValuePolicy {
            length: 4,
            ..ValuePolicy::default()
        };
        assert!(short.generate().is_err());
        let custom = ValuePolicy {
            charset: "custom".into(),
            ..ValuePolicy::default()
        };
        assert!(custom.alphabet().is_err());
        let weird = ValuePolicy {
            charset: "emoji".into(),
            ..ValuePolicy::default()
        };
        assert!(weird.alphabet().unwrap_err().contains("unknown charset"));
    }

    #[test]
    fn every_character_is_used() {
        let p = ValuePolicy {
            length: 4096,
            charset: "hex".into(),
            ..ValuePolicy::default()
        };
        let v = p.generate().unwrap();
        let mut seen = [false; 256];
        for &c in v.expose() {
            seen[usize::from(c)] = true;
        }
        assert!(b"0123456789abcdef".iter().all(|&c| seen[usize::from(c)]));
    }
}
