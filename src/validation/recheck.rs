//! After `rotate --execute` with `--validate`: is the OLD value still accepted by its
//! provider?
//!
//! A new version in a secret store does not revoke the credential it replaced: until
//! someone revokes it at the provider, whoever read the leak can still use it. So each
//! leaked value that a rotation acted on is validated again (where a validator exists),
//! and the rotation report says so in one plain sentence.

use serde::Serialize;

use crate::finding::Finding;
use crate::secret::Secret;

use super::{Status, Validation, Validator};

/// What the provider now says about one old value.
#[derive(Debug, Clone, Serialize)]
pub struct OldValue {
    /// The leak's fingerprint.
    pub fingerprint: String,
    /// Its rule.
    pub rule: String,
    /// `still_works`, `no_longer_works`, `unknown` or `error`.
    pub verdict: &'static str,
    /// The sentence for people.
    pub message: String,
    /// The validation result it is read from.
    pub validation: Validation,
}

/// One leaked value to check again.
pub struct Old<'a> {
    /// Fingerprint.
    pub fingerprint: &'a str,
    /// Rule id.
    pub rule_id: &'a str,
    /// A path it was found in (pairs are joined per path).
    pub path: &'a str,
    /// The value.
    pub secret: &'a Secret,
}

/// Validates each old value once more (the validator's run-wide memory is bypassed by
/// a fresh validator: pass one made for this purpose).
pub fn recheck(v: &Validator, old: &[Old<'_>]) -> Vec<OldValue> {
    let mut findings: Vec<Finding> = old
        .iter()
        .map(|o| Finding {
            rule_id: o.rule_id.to_string(),
            rule_name: String::new(),
            severity: crate::rules::Severity::default(),
            path: o.path.to_string(),
            line: 0,
            column: 0,
            end_line: 0,
            end_column: 0,
            offset: 0,
            secret: o.secret.clone(),
            fingerprint: o.fingerprint.to_string(),
            entropy: 0.0,
            decoded: None,
            file_type: None,
            git: None,
            repository: None,
            suppressed: None,
            validation: None,
        })
        .collect();
    v.validate(&mut findings);
    findings
        .into_iter()
        .filter_map(|f| {
            let val = f.validation?;
            let (verdict, message) = sentence(&val);
            Some(OldValue {
                fingerprint: f.fingerprint,
                rule: f.rule_id,
                verdict,
                message,
                validation: val,
            })
        })
        .collect()
}

fn sentence(v: &Validation) -> (&'static str, String) {
    match v.status {
        Status::Live => (
            "still_works",
            "old value still works: revoke it at the provider".to_string(),
        ),
        Status::Invalid => ("no_longer_works", "old value no longer works".to_string()),
        Status::Unknown => ("unknown", format!("old value not re-checked: {}", v.detail)),
        Status::Error => (
            "error",
            format!("old value could not be re-checked: {}", v.detail),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_say_what_to_do() {
        let live = Validation::new(Status::Live, "github", "", "t");
        assert_eq!(
            sentence(&live),
            (
                "still_works",
                "old value still works: revoke it at the provider".to_string()
            )
        );
        let gone = Validation::new(Status::Invalid, "vault", "HTTP 403", "t");
        assert_eq!(sentence(&gone).1, "old value no longer works");
        let v = Validator::new(super::super::Settings::default(), None);
        let s = Secret::new(b"no-rule-value".to_vec());
        let out = recheck(
            &v,
            &[Old {
                fingerprint: "lsw1:x",
                rule_id: "generic-api-key",
                path: "a.env",
                secret: &s,
            }],
        );
        assert_eq!(out[0].verdict, "unknown");
        assert!(
            out[0].message.contains("no validator"),
            "{}",
            out[0].message
        );
    }
}
