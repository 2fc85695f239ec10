//! `--validate` in a sweep: one request per unique credential (or pair) across every
//! repository, through the one validation runner ([`crate::validation::Validator`]).
//!
//! A repository's findings are validated when it is done, before they are settled (after
//! that the secret is redacted, and no longer something a provider could check): the
//! result is stored on each record, so the checkpoint keeps it and a resumed sweep does not
//! ask again. The validator remembers every credential it checked, so the same secret in a
//! later repository takes the result without a request. Repositories finish on several
//! lanes at once; their validations run one after the other, so that two lanes never send
//! the same credential at the same time (each batch is still validated concurrently,
//! within the per-provider limits).

use std::sync::Mutex;

use crate::finding::Finding;
use crate::validation::Validator;

/// The validator of a sweep, shared by its lanes.
pub struct SweepValidator {
    validator: Validator,
    one_batch_at_a_time: Mutex<()>,
}

impl std::fmt::Debug for SweepValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SweepValidator").finish_non_exhaustive()
    }
}

impl SweepValidator {
    /// Wraps the run's validator.
    pub fn new(validator: Validator) -> SweepValidator {
        SweepValidator {
            validator,
            one_batch_at_a_time: Mutex::new(()),
        }
    }

    /// Sets `validation` on each of one repository's reported findings.
    pub fn validate(&self, findings: &mut [Finding]) {
        if findings.is_empty() {
            return;
        }
        let _turn = self
            .one_batch_at_a_time
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.validator.validate(findings);
    }

    /// The validator, for its counters and cache once the sweep is done.
    pub fn validator(&self) -> &Validator {
        &self.validator
    }
}
