//! Keeping secret values out of what leaves the process: the forms a value can take in
//! text it comes back in (a provider's error, a plugin's answer), replacing them, and
//! wiping parsed bodies.
//!
//! Rotation and validation send secret values to services and read their answers; some
//! services echo request fields in errors, and a plugin may print what it was given. Every
//! message built from such an answer goes through [`scrub`] with the values in play, and
//! exec plugins' output is checked with [`echoes`]; both look for the same
//! [`leak_forms`], so a value is caught in the same encodings everywhere.

use base64::Engine as _;
use zeroize::Zeroize;

/// What replaces a secret value in a message.
pub const MARK: &str = "[redacted]";

/// The forms in which `raw` may appear in text: as is, base64 (standard without padding,
/// and URL-safe), hex (lower and upper case), percent-encoded, and JSON-escaped. Values
/// shorter than 4 bytes only as is: their encodings are too short to mean anything.
pub fn leak_forms(raw: &[u8]) -> Vec<Vec<u8>> {
    if raw.len() < 4 {
        return vec![raw.to_vec()];
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    let mut forms = vec![
        raw.to_vec(),
        // A prefix of the padded form: matching it covers both.
        b64.trim_end_matches('=').as_bytes().to_vec(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(raw)
            .into_bytes(),
        hex::encode(raw).into_bytes(),
        hex::encode_upper(raw).into_bytes(),
    ];
    if let Ok(text) = std::str::from_utf8(raw) {
        forms.push(crate::net::http::encode_component(text).into_bytes());
        let json = serde_json::to_string(text).unwrap_or_default();
        if let Some(inner) = json.get(1..json.len().saturating_sub(1)) {
            forms.push(inner.as_bytes().to_vec());
        }
    }
    forms.sort();
    forms.dedup();
    // Longest first, so that a form containing another is replaced whole.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms
}

/// True if `text` holds any form of any of `secrets`.
pub fn echoes(text: &[u8], secrets: &[&[u8]]) -> bool {
    secrets.iter().any(|s| {
        leak_forms(s)
            .iter()
            .any(|f| !f.is_empty() && memchr::memmem::find(text, f).is_some())
    })
}

/// `text` with every form of each of `secrets` replaced by [`MARK`].
pub fn scrub(text: &str, secrets: &[&[u8]]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        for form in leak_forms(s) {
            if let Ok(f) = std::str::from_utf8(&form) {
                if !f.is_empty() && out.contains(f) {
                    out = out.replace(f, MARK);
                }
            }
        }
    }
    out
}

/// A provider's own error text for a message: shortened to 300 characters, stripped of
/// control characters, and [`scrub`]bed of `secrets`.
pub fn provider_text(text: &str, secrets: &[&[u8]]) -> String {
    let t: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
    scrub(&t, secrets)
}

/// Overwrites the strings inside a parsed JSON body that held secret values.
pub fn wipe_json(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(a) => a.iter_mut().for_each(wipe_json),
        Value::Object(o) => o.values_mut().for_each(wipe_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_found_and_replaced() {
        let raw = b"Zq8K/p2L+m9Vx\"4Rt7W";
        let text = std::str::from_utf8(raw).unwrap();
        let forms = [
            text.to_string(),
            base64::engine::general_purpose::STANDARD.encode(raw),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw),
            hex::encode(raw),
            hex::encode_upper(raw),
            crate::net::http::encode_component(text),
            serde_json::to_string(text).unwrap(),
        ];
        for f in &forms {
            let msg = format!("server said <{f}> twice <{f}>");
            assert!(echoes(msg.as_bytes(), &[raw]), "{f}");
            let out = scrub(&msg, &[raw]);
            assert!(!echoes(out.as_bytes(), &[raw]), "{f}: {out}");
            assert!(out.contains(MARK), "{out}");
        }
        assert!(!echoes(b"nothing here", &[raw]));
        assert_eq!(
            scrub("a short ab value", &[b"ab"]),
            "a short [redacted] value"
        );
    }

    #[test]
    fn provider_text_is_short_and_printable() {
        let t = provider_text(&format!("bad\x1b[2J{}", "x".repeat(400)), &[]);
        assert!(!t.contains('\x1b'));
        assert_eq!(t.chars().count(), 300);
    }
}
