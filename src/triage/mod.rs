//! Triage: what a project has declared harmless or accepted, applied to a scan, so that
//! teams can tune the scanner in reviewable files instead of switching it off.
//!
//! Four mechanisms, each counted in the summary by reason and listed with
//! `--show-suppressed`:
//!
//! | mechanism | file | where it runs | reason |
//! |---|---|---|---|
//! | inline markers | the scanned line | `scan::scan_chunk` | `inline` |
//! | allowlists | `.leaksweep.toml` `[[allowlist]]`, gitleaks rule files | `scan::scan_chunk` ([`allow::Allowlists`]) | `allowlist` |
//! | accepted fingerprints | `.leaksweepignore` ([`ignorefile`]) | [`Triage::apply`] | `ignore-file` |
//! | baseline | `--baseline FILE` ([`baseline`]) | [`Triage::apply`] | `baseline` |
//!
//! The config's rule settings (extra rules and rule files, disabled rules, entropy
//! floors) change the engine's rule list instead ([`config`], [`gitleaks_rules`]).
//!
//! Every file here is parsed strictly: a malformed or newer-version config, ignore file or
//! baseline is an error naming the file and line, never an empty "nothing suppressed".
//! Nothing here can suppress a finding by line number alone, so no edit can make a new
//! secret inherit an old acceptance.
//!
//! A scanning command builds one [`Triage`] next to its `ScanContext` and calls
//! [`Triage::apply`] on the finished outcome, before reporting:
//!
//! ```no_run
//! # fn demo(triage: &leaksweep::triage::Triage, outcome: &mut leaksweep::pipeline::ScanOutcome) {
//! triage.apply(outcome);
//! # }
//! ```

pub mod allow;
pub mod baseline;
pub mod config;
pub mod gitleaks_rules;
pub mod ignorefile;
pub mod import;
pub mod paths;
pub mod project;

use crate::finding::SuppressReason;
use crate::pipeline::ScanOutcome;

use baseline::Baseline;
use ignorefile::IgnoreFile;
use paths::PathMap;

/// The after-scan suppressions of a project: its ignore file and baseline.
#[derive(Debug, Clone)]
pub struct Triage {
    /// Maps finding paths to project-relative ones.
    pub paths: PathMap,
    /// The salt the scan's fingerprints were made with.
    pub salt: Vec<u8>,
    /// The ignore file, if the project has one.
    pub ignore: Option<IgnoreFile>,
    /// The baseline, if one was given.
    pub baseline: Option<Baseline>,
}

impl Triage {
    /// A triage that suppresses nothing.
    pub fn none(paths: PathMap, salt: &[u8]) -> Triage {
        Triage {
            paths,
            salt: salt.to_vec(),
            ignore: None,
            baseline: None,
        }
    }

    /// Marks the findings of `outcome` that the ignore file or the baseline accept, and
    /// moves them to `outcome.suppressed` with the counters updated. Call it once, after
    /// the scan and before reporting.
    pub fn apply(&self, outcome: &mut ScanOutcome) {
        if self.ignore.is_none() && self.baseline.is_none() {
            return;
        }
        for f in &mut outcome.findings {
            if f.suppressed.is_some() {
                continue;
            }
            let rel = self.paths.rel(&f.path);
            if self
                .ignore
                .as_ref()
                .is_some_and(|i| i.matches(&f.fingerprint, &rel))
            {
                f.suppressed = Some(SuppressReason::IgnoreFile);
            } else if self
                .baseline
                .as_ref()
                .is_some_and(|b| b.contains(f, &rel, &self.salt))
            {
                f.suppressed = Some(SuppressReason::Baseline);
            }
        }
        outcome.regroup();
    }
}
