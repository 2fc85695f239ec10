//! The rotation run: route findings to backends, locate, plan, and execute safely.
//!
//! Order of a run: for every leak (a finding whose value was re-read into memory), the
//! matching routes give (backend, target, action) items; a route without a target uses
//! the places `locate` finds. Each item then goes through:
//! 1. the **state file**: an idempotency key already done is skipped (never twice);
//! 2. **verify before**: a target that no longer holds the leaked value is left alone;
//! 3. **rotate** (or a dry-run check that writes nothing) with retries; a timed-out write
//!    has an unknown outcome, so the next attempt verifies first;
//! 4. **verify after**: the current version must no longer equal the leaked value;
//! 5. the state file and the audit log record what was done, with version ids.
//!
//! Every message that leaves this module is scrubbed of the values it handled.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::audit::{AuditLog, Event, Record};
use super::config::{Action, Loaded};
use super::retry::{self, RetryPolicy};
use super::state::{Done, State};
use super::{Backend, BackendError, ErrorKind, Location, RotateOutcome, RotateStatus};
use crate::civil::Utc;
use crate::secret::Secret;

/// A leaked value to act on: a finding's identity, where it was found, and its value.
pub struct Leak {
    /// Fingerprint (`lsw1:...`).
    pub fingerprint: String,
    /// Rule id.
    pub rule_id: String,
    /// Paths where it was found (for route globs and messages).
    pub paths: Vec<String>,
    /// The value, re-read from the finding's location; memory only.
    pub secret: Secret,
}

/// One planned action.
#[derive(Debug, Clone)]
pub struct Item {
    /// Index into the leaks.
    pub leak: usize,
    /// Backend name.
    pub backend: String,
    /// Target (`None` for a revocation).
    pub target: Option<Location>,
    /// What to do.
    pub action: Action,
    /// Index of the route that produced it.
    pub route: usize,
    /// Idempotency key.
    pub key: String,
}

/// What happened to an item (or what would happen, in a dry run).
#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    /// Finding fingerprint.
    pub fingerprint: String,
    /// Rule id.
    pub rule: String,
    /// Where the finding was.
    pub paths: Vec<String>,
    /// Backend.
    pub backend: String,
    /// `backend:path#key`, or absent for a revocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `rotate` or `revoke`.
    pub action: &'static str,
    /// `planned`, `would_rotate`, `rotated`, `revoked`, `already_applied`, `already_done`,
    /// `not_current`, `not_located`, `refused`, `failed`.
    pub status: &'static str,
    /// The idempotency key.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub idempotency_key: String,
    /// New version id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_version: Option<String>,
    /// Previous version id (rollback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    /// Error kind, for failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
    /// What to know (error cause and fix, or a note).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The value policy, for rotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl ItemReport {
    /// True if this item failed.
    pub fn failed(&self) -> bool {
        self.status == "failed"
    }
}

/// Where a leak was located.
#[derive(Debug, Clone, Serialize)]
pub struct Located {
    /// Fingerprint.
    pub fingerprint: String,
    /// Rule id.
    pub rule: String,
    /// Stored secrets whose current value is the leaked value.
    pub locations: Vec<String>,
    /// Backends that could not be asked, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// The idempotency key of an action: stable for a finding, target and action.
pub fn idempotency_key(fingerprint: &str, target: &str, action: Action) -> String {
    let mut h = Sha256::new();
    h.update(b"leaksweep-rotate-v1\0");
    h.update(fingerprint.as_bytes());
    h.update(b"\0");
    h.update(target.as_bytes());
    h.update(b"\0");
    h.update(action.as_str().as_bytes());
    format!("lsw1-{}", hex::encode(&h.finalize()[..16]))
}

/// `msg` with every form of the values in `secrets` replaced (see `crate::scrub`).
fn scrub(msg: &str, secrets: &[&Secret]) -> String {
    let raw: Vec<&[u8]> = secrets.iter().map(|s| s.expose()).collect();
    crate::scrub::scrub(msg, &raw)
}

/// Every configured backend, built, by name.
pub type Backends = BTreeMap<String, Box<dyn Backend>>;

/// Builds every backend of the config **before anything is written**, and fails with all
/// their errors at once (`file:line: backend: message`). Built lazily, a typo in the third
/// backend would surface only after the first two stores were rotated, leaving the copies
/// of a secret split between old and new values. Building reads settings and credentials
/// and opens no connection (plugins start on first use).
pub fn build_backends(loaded: &Loaded) -> Result<Backends, String> {
    let mut built = Backends::new();
    let mut errors = Vec::new();
    for (i, def) in loaded.config.backends.iter().enumerate() {
        match super::build_backend(def) {
            Ok(b) => {
                built.insert(def.name.clone(), b);
            }
            Err(e) => errors.push(format!("{}: {e}", loaded.backend_at(i, &e.message))),
        }
    }
    if errors.is_empty() {
        Ok(built)
    } else {
        Err(format!(
            "the rotation config has {} error{} (nothing was done):\n  {}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            errors.join("\n  ")
        ))
    }
}

/// A run over one config.
pub struct Runner<'a> {
    loaded: &'a Loaded,
    backends: Backends,
    audit: AuditLog,
    state: State,
    retry: RetryPolicy,
    locate_cache: BTreeMap<(String, usize), Result<Vec<Location>, BackendError>>,
}

impl<'a> Runner<'a> {
    /// A runner over `backends` (from [`build_backends`]) writing to `audit` and `state`.
    pub fn new(
        loaded: &'a Loaded,
        backends: Backends,
        audit: AuditLog,
        state: State,
    ) -> Runner<'a> {
        Runner {
            loaded,
            backends,
            audit,
            state,
            retry: loaded.config.retry,
            locate_cache: BTreeMap::new(),
        }
    }

    /// The audit log.
    pub fn audit_path(&self) -> &std::path::Path {
        self.audit.path()
    }

    /// The state file.
    pub fn state_path(&self) -> &std::path::Path {
        self.state.path()
    }

    fn backend(&self, name: &str) -> Result<&dyn Backend, BackendError> {
        self.backends.get(name).map(AsRef::as_ref).ok_or_else(|| {
            BackendError::new(
                name,
                ErrorKind::Config,
                "no backend with this name in the config",
            )
        })
    }

    fn log(&mut self, event: Event, rec: &Record<'_>) {
        if let Err(e) = self.audit.write(event, rec) {
            eprintln!(
                "leaksweep: warning: cannot append to the audit log {:?}: {e}",
                self.audit.path()
            );
        }
    }

    /// Read-only call with retries (timeouts of reads are retried too).
    fn read_retry<T>(
        &mut self,
        leak: &Leak,
        backend: &str,
        target: Option<&str>,
        action: &str,
        mut op: impl FnMut(&dyn Backend) -> Result<T, BackendError>,
    ) -> Result<T, BackendError> {
        let policy = self.retry;
        let started = Instant::now();
        let b = self.backend(backend)?;
        let mut failures: Vec<(u32, ErrorKind, String, Option<u64>)> = Vec::new();
        let r = retry::run(
            &policy,
            started,
            &|k| k == ErrorKind::Timeout,
            |_| op(b),
            |f| {
                failures.push((
                    f.attempt,
                    f.error.kind,
                    scrub(&f.error.message, &[&leak.secret]),
                    f.retry_in
                        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                ));
            },
        );
        for (attempt, kind, message, retry_in_ms) in failures {
            if retry_in_ms.is_some() {
                self.log(
                    Event::AttemptFailed,
                    &Record {
                        action,
                        fingerprint: &leak.fingerprint,
                        rule: &leak.rule_id,
                        backend,
                        target: target.map(str::to_string),
                        attempt: Some(attempt),
                        error_kind: Some(kind),
                        message: Some(message),
                        retry_in_ms,
                        ..Record::default()
                    },
                );
            }
        }
        r
    }

    /// Asks every backend (or the named ones) where each leak is currently stored.
    pub fn locate(&mut self, leaks: &[Leak], only: &[String]) -> Vec<Located> {
        let names: Vec<String> = self
            .loaded
            .config
            .backends
            .iter()
            .map(|b| b.name.clone())
            .filter(|n| only.is_empty() || only.contains(n))
            .collect();
        let mut out = Vec::new();
        for (i, leak) in leaks.iter().enumerate() {
            let mut locations = Vec::new();
            let mut errors = Vec::new();
            for name in &names {
                // `locate_one` records each place found; a locate-only run also records
                // the backends that hold no copy and the ones that failed, so that the
                // audit log shows every question asked.
                let mut record = Record {
                    action: "locate",
                    fingerprint: &leak.fingerprint,
                    rule: &leak.rule_id,
                    backend: name,
                    ..Record::default()
                };
                match self.locate_one(leaks, i, name) {
                    Ok(found) => {
                        if found.is_empty() {
                            record.status = Some("not_located".into());
                            self.log(Event::NotLocated, &record);
                        }
                        locations.extend(found.iter().map(ToString::to_string));
                    }
                    Err(e) if e.kind == ErrorKind::Unsupported => {}
                    Err(e) => {
                        let message = scrub(&e.to_string(), &[&leak.secret]);
                        record.status = Some("failed".into());
                        record.error_kind = Some(e.kind);
                        record.message = Some(message.clone());
                        self.log(Event::Failed, &record);
                        errors.push(message);
                    }
                }
            }
            out.push(Located {
                fingerprint: leak.fingerprint.clone(),
                rule: leak.rule_id.clone(),
                locations,
                errors,
            });
        }
        out
    }

    fn locate_one(
        &mut self,
        leaks: &[Leak],
        i: usize,
        backend: &str,
    ) -> Result<Vec<Location>, BackendError> {
        let key = (backend.to_string(), i);
        if let Some(r) = self.locate_cache.get(&key) {
            return r.clone();
        }
        let Some(leak) = leaks.get(i) else {
            return Ok(Vec::new());
        };
        let r = self.read_retry(leak, backend, None, "locate", |b| b.locate(&leak.secret));
        if let Ok(found) = &r {
            for l in found {
                self.log(
                    Event::Located,
                    &Record {
                        action: "locate",
                        fingerprint: &leak.fingerprint,
                        rule: &leak.rule_id,
                        backend,
                        target: Some(l.to_string()),
                        ..Record::default()
                    },
                );
            }
        }
        self.locate_cache.insert(key, r.clone());
        r
    }

    /// Routes every leak and returns the items to act on, plus reports for leaks that have
    /// nothing to act on (no route, not located, locate failed).
    pub fn plan(&mut self, leaks: &[Leak]) -> (Vec<Item>, Vec<ItemReport>) {
        let mut items: Vec<Item> = Vec::new();
        let mut notes = Vec::new();
        let routes = self.loaded.routes.clone();
        for (li, leak) in leaks.iter().enumerate() {
            let mut routed = false;
            for (ri, route) in routes.iter().enumerate() {
                if !route.matches(&leak.rule_id, &leak.fingerprint, &leak.paths) {
                    continue;
                }
                routed = true;
                let backend = route.def.backend.clone();
                let action = route.def.action;
                let targets: Vec<Option<Location>> = match (action, route.target()) {
                    (Action::Revoke, _) => vec![None],
                    (Action::Rotate, Some(t)) => vec![Some(t)],
                    (Action::Rotate, None) => match self.locate_one(leaks, li, &backend) {
                        Ok(found) if found.is_empty() => {
                            let done: Vec<ItemReport> = self
                                .state
                                .done_for(&leak.fingerprint, &backend)
                                .filter(|(_, d)| d.action == action.as_str())
                                .map(|(k, d)| {
                                    let mut r =
                                        self.report(leak, &backend, None, action, "already_done");
                                    r.target = Some(d.target.clone());
                                    r.idempotency_key = k.to_string();
                                    r.new_version.clone_from(&d.new_version);
                                    r.previous_version.clone_from(&d.previous_version);
                                    r.message = Some(format!(
                                        "rotated on {} (recorded in {})",
                                        d.at,
                                        self.state.path().display()
                                    ));
                                    r
                                })
                                .collect();
                            if done.is_empty() {
                                notes.push(
                                    self.report(leak, &backend, None, action, "not_located")
                                        .with_message(format!(
                                            "{backend} holds no current copy of this value \
                                             (nothing to rotate there)"
                                        )),
                                );
                            }
                            notes.extend(done);
                            continue;
                        }
                        Ok(found) => found.into_iter().map(Some).collect(),
                        Err(e) => {
                            notes.push(self.failure(leak, &backend, None, action, &e));
                            continue;
                        }
                    },
                };
                for target in targets {
                    let tname = target
                        .as_ref()
                        .map_or_else(|| backend.clone(), ToString::to_string);
                    let key = idempotency_key(&leak.fingerprint, &tname, action);
                    if items.iter().any(|it| it.key == key) {
                        continue;
                    }
                    items.push(Item {
                        leak: li,
                        backend: backend.clone(),
                        target,
                        action,
                        route: ri,
                        key,
                    });
                }
            }
            if !routed {
                notes.push(
                    self.report(leak, "-", None, Action::Rotate, "no_route")
                        .with_message(format!(
                            "no [[rotation.route]] matches rule {} (add one with rules = [\"{}\"])",
                            leak.rule_id, leak.rule_id
                        )),
                );
            }
        }
        for n in &notes {
            let event = if n.failed() {
                Event::Failed
            } else {
                Event::Skipped
            };
            self.log(
                event,
                &Record {
                    action: n.action,
                    fingerprint: &n.fingerprint,
                    rule: &n.rule,
                    backend: &n.backend,
                    target: n.target.clone(),
                    idempotency_key: &n.idempotency_key,
                    status: Some(n.status.to_string()),
                    new_version: n.new_version.clone(),
                    previous_version: n.previous_version.clone(),
                    error_kind: n.error_kind,
                    message: n.message.clone(),
                    ..Record::default()
                },
            );
        }
        (items, notes)
    }

    fn report(
        &self,
        leak: &Leak,
        backend: &str,
        target: Option<&Location>,
        action: Action,
        status: &'static str,
    ) -> ItemReport {
        ItemReport {
            fingerprint: leak.fingerprint.clone(),
            rule: leak.rule_id.clone(),
            paths: leak.paths.clone(),
            backend: backend.to_string(),
            target: target.map(ToString::to_string),
            action: action.as_str(),
            status,
            idempotency_key: String::new(),
            new_version: None,
            previous_version: None,
            error_kind: None,
            message: None,
            policy: None,
        }
    }

    fn failure(
        &self,
        leak: &Leak,
        backend: &str,
        target: Option<&Location>,
        action: Action,
        e: &BackendError,
    ) -> ItemReport {
        let mut r = self.report(leak, backend, target, action, "failed");
        r.error_kind = Some(e.kind);
        r.message = Some(scrub(&e.to_string(), &[&leak.secret]));
        r
    }

    /// The report of a planned item (before anything is checked).
    pub fn planned(&self, leaks: &[Leak], item: &Item) -> Option<ItemReport> {
        let leak = leaks.get(item.leak)?;
        let mut r = self.report(
            leak,
            &item.backend,
            item.target.as_ref(),
            item.action,
            "planned",
        );
        r.idempotency_key.clone_from(&item.key);
        if item.action == Action::Rotate {
            r.policy = self
                .loaded
                .routes
                .get(item.route)
                .map(|rt| rt.def.policy.describe());
        }
        Some(r)
    }

    /// Records that the planned `items` were not performed (`why`: the confirmation was
    /// refused or could not be asked), so the audit log holds the refused run too.
    pub fn refuse(&mut self, leaks: &[Leak], items: &[Item], why: &str) {
        for item in items {
            let Some(leak) = leaks.get(item.leak) else {
                continue;
            };
            let Some(mut report) = self.planned(leaks, item) else {
                continue;
            };
            report.status = "refused";
            report.message = Some(why.to_string());
            self.log_report(Event::Refused, leak, item, &report);
        }
    }

    /// Executes (or, with `dry_run`, checks without writing) every item.
    pub fn execute(&mut self, leaks: &[Leak], items: &[Item], dry_run: bool) -> Vec<ItemReport> {
        let mut out = Vec::new();
        for item in items {
            let Some(leak) = leaks.get(item.leak) else {
                continue;
            };
            let Some(mut report) = self.planned(leaks, item) else {
                continue;
            };
            let target = report.target.clone();
            self.log(
                Event::Planned,
                &Record {
                    action: item.action.as_str(),
                    fingerprint: &leak.fingerprint,
                    rule: &leak.rule_id,
                    backend: &item.backend,
                    target: target.clone(),
                    idempotency_key: &item.key,
                    ..Record::default()
                },
            );
            if let Some(done) = self.state.get(&item.key) {
                report.status = "already_done";
                report.new_version.clone_from(&done.new_version);
                report.previous_version.clone_from(&done.previous_version);
                report.message = Some(format!(
                    "done on {} (recorded in {})",
                    done.at,
                    self.state.path().display()
                ));
                self.log_report(Event::Skipped, leak, item, &report);
                out.push(report);
                continue;
            }
            let result = match item.action {
                Action::Rotate => self.do_rotate(leak, item, dry_run),
                Action::Revoke => self.do_revoke(leak, item, dry_run),
            };
            match result {
                Ok(done) => {
                    report.status = done.status;
                    report.new_version = done.outcome.as_ref().and_then(|o| o.new_version.clone());
                    report.previous_version = done
                        .outcome
                        .as_ref()
                        .and_then(|o| o.previous_version.clone());
                    report.message = done.note;
                }
                Err(e) => {
                    report.status = "failed";
                    report.error_kind = Some(e.kind);
                    report.message = Some(scrub(&e.to_string(), &[&leak.secret]));
                }
            }
            let event = match report.status {
                "failed" => Event::Failed,
                "would_rotate" => Event::WouldRotate,
                "not_current" => Event::Skipped,
                _ => Event::Done,
            };
            self.log_report(event, leak, item, &report);
            let record_state =
                !dry_run && matches!(report.status, "rotated" | "revoked" | "already_applied");
            if record_state {
                let done = Done {
                    fingerprint: leak.fingerprint.clone(),
                    target: target.unwrap_or_else(|| item.backend.clone()),
                    action: item.action.as_str().to_string(),
                    status: report.status.to_string(),
                    new_version: report.new_version.clone(),
                    previous_version: report.previous_version.clone(),
                    at: Utc::now().rfc3339(),
                };
                if let Err(e) = self.state.record(&item.key, done) {
                    report.message = Some(format!(
                        "done, but the state file {} could not be written: {e} (a re-run will \
                         verify the target and find it already rotated)",
                        self.state.path().display()
                    ));
                }
            }
            out.push(report);
        }
        out
    }

    fn log_report(&mut self, event: Event, leak: &Leak, item: &Item, r: &ItemReport) {
        self.log(
            event,
            &Record {
                action: item.action.as_str(),
                fingerprint: &leak.fingerprint,
                rule: &leak.rule_id,
                backend: &item.backend,
                target: r.target.clone(),
                idempotency_key: &item.key,
                status: Some(r.status.to_string()),
                new_version: r.new_version.clone(),
                previous_version: r.previous_version.clone(),
                error_kind: r.error_kind,
                message: r.message.clone(),
                ..Record::default()
            },
        );
    }

    fn do_rotate(
        &mut self,
        leak: &Leak,
        item: &Item,
        dry_run: bool,
    ) -> Result<Outcome, BackendError> {
        let Some(target) = item.target.clone() else {
            return Err(BackendError::new(
                &item.backend,
                ErrorKind::Config,
                "rotation without a target",
            ));
        };
        let tname = target.to_string();
        // 1. Does the target still hold the leaked value?
        match self.read_retry(leak, &item.backend, Some(&tname), "rotate", |b| {
            b.verify(&target, &leak.secret)
        }) {
            Ok(true) => {
                return Ok(Outcome {
                    status: "not_current",
                    outcome: None,
                    note: Some(
                        "the target's current version does not hold the leaked value (already \
                         rotated, or the wrong target): nothing written"
                            .into(),
                    ),
                })
            }
            Ok(false) => {}
            Err(e) if e.kind == ErrorKind::Unsupported => {}
            Err(e) => return Err(e),
        }
        // 2. The new value: one per item, reused by every attempt.
        let policy = self
            .loaded
            .routes
            .get(item.route)
            .map(|r| r.def.policy.clone())
            .unwrap_or_default();
        let new_value = policy
            .generate()
            .map_err(|e| BackendError::new(&item.backend, ErrorKind::Config, e))?;
        // 3. Rotate with retries; after a timeout the outcome is unknown: verify first.
        let policy_r = self.retry;
        let started = Instant::now();
        let b = self.backend(&item.backend)?;
        let mut unknown = false;
        type Ev = (Event, u32, Option<(ErrorKind, String)>, Option<u64>);
        let events: std::cell::RefCell<Vec<Ev>> = std::cell::RefCell::new(Vec::new());
        let result = retry::run(
            &policy_r,
            started,
            &|k| k == ErrorKind::Timeout,
            |attempt| {
                events
                    .borrow_mut()
                    .push((Event::Attempt, attempt, None, None));
                if unknown && !dry_run {
                    if let Ok(true) = b.verify(&target, &leak.secret) {
                        return Ok(RotateOutcome {
                            status: RotateStatus::AlreadyApplied,
                            new_version: None,
                            previous_version: None,
                        });
                    }
                }
                let r = b.rotate(&target, &new_value, &item.key, dry_run);
                if matches!(&r, Err(e) if e.kind == ErrorKind::Timeout) {
                    unknown = true;
                }
                r
            },
            |f| {
                events.borrow_mut().push((
                    Event::AttemptFailed,
                    f.attempt,
                    Some((
                        f.error.kind,
                        scrub(&f.error.message, &[&leak.secret, &new_value]),
                    )),
                    f.retry_in
                        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                ));
            },
        );
        for (event, attempt, err, retry_in_ms) in events.borrow().iter().cloned() {
            self.log(
                event,
                &Record {
                    action: "rotate",
                    fingerprint: &leak.fingerprint,
                    rule: &leak.rule_id,
                    backend: &item.backend,
                    target: Some(tname.clone()),
                    idempotency_key: &item.key,
                    attempt: Some(attempt),
                    error_kind: err.as_ref().map(|e| e.0),
                    message: err.map(|e| e.1),
                    retry_in_ms,
                    ..Record::default()
                },
            );
        }
        let attempts = events
            .borrow()
            .iter()
            .filter(|e| e.0 == Event::Attempt)
            .count();
        let outcome = result.map_err(|mut e| {
            e.message = scrub(&e.message, &[&leak.secret, &new_value]);
            e
        })?;
        drop(new_value);
        // An earlier attempt of this run landed (its answer was lost): that is our rotation.
        let outcome = if attempts > 1 && outcome.status == RotateStatus::AlreadyApplied {
            RotateOutcome {
                status: RotateStatus::Rotated,
                ..outcome
            }
        } else {
            outcome
        };
        if dry_run {
            return Ok(Outcome {
                status: match outcome.status {
                    RotateStatus::AlreadyApplied => "already_applied",
                    _ => "would_rotate",
                },
                outcome: Some(outcome),
                note: None,
            });
        }
        // 4. The current version must no longer be the leaked value.
        match self.read_retry(leak, &item.backend, Some(&tname), "rotate", |b| {
            b.verify(&target, &leak.secret)
        }) {
            Ok(true) => Ok(Outcome {
                status: status_name(&outcome.status),
                outcome: Some(outcome),
                note: None,
            }),
            Ok(false) => Err(BackendError::new(
                &item.backend,
                ErrorKind::Protocol,
                format!(
                    "{tname}: the write succeeded but the current version still equals the \
                     leaked value (a replica lag or a rotation function that did not finish): \
                     check the target and re-run"
                ),
            )),
            Err(e) if e.kind == ErrorKind::Unsupported => Ok(Outcome {
                status: status_name(&outcome.status),
                outcome: Some(outcome),
                note: Some("not verified: the backend cannot verify".into()),
            }),
            Err(e) => Err(e),
        }
    }

    fn do_revoke(
        &mut self,
        leak: &Leak,
        item: &Item,
        dry_run: bool,
    ) -> Result<Outcome, BackendError> {
        let outcome = self.read_retry(leak, &item.backend, None, "revoke", |b| {
            b.revoke(&leak.secret, dry_run)
        })?;
        if dry_run || outcome.status == RotateStatus::AlreadyApplied {
            return Ok(Outcome {
                status: match outcome.status {
                    RotateStatus::AlreadyApplied => "already_applied",
                    _ => "would_rotate",
                },
                note: (outcome.status == RotateStatus::AlreadyApplied).then(|| {
                    "the issuer does not know this credential: already revoked or expired".into()
                }),
                outcome: Some(outcome),
            });
        }
        // Verify: a dry-run revoke must now find the credential unknown.
        let check = self.read_retry(leak, &item.backend, None, "revoke", |b| {
            b.revoke(&leak.secret, true)
        })?;
        if check.status == RotateStatus::AlreadyApplied {
            Ok(Outcome {
                status: "revoked",
                outcome: Some(outcome),
                note: None,
            })
        } else {
            Err(BackendError::new(
                &item.backend,
                ErrorKind::Protocol,
                "the revocation was accepted but the credential is still valid: check the issuer",
            ))
        }
    }
}

struct Outcome {
    status: &'static str,
    outcome: Option<RotateOutcome>,
    note: Option<String>,
}

fn status_name(s: &RotateStatus) -> &'static str {
    match s {
        RotateStatus::Rotated => "rotated",
        RotateStatus::AlreadyApplied => "already_applied",
        RotateStatus::WouldRotate => "would_rotate",
        RotateStatus::Revoked => "revoked",
    }
}

impl ItemReport {
    fn with_message(mut self, m: String) -> ItemReport {
        self.message = Some(m);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_distinct() {
        let a = idempotency_key("lsw1:aa", "v:secret/a#b", Action::Rotate);
        assert_eq!(
            a,
            idempotency_key("lsw1:aa", "v:secret/a#b", Action::Rotate)
        );
        assert_ne!(
            a,
            idempotency_key("lsw1:aa", "v:secret/a#c", Action::Rotate)
        );
        assert_ne!(
            a,
            idempotency_key("lsw1:aa", "v:secret/a#b", Action::Revoke)
        );
        assert!(a.starts_with("lsw1-") && a.len() == 5 + 32);
    }

    #[test]
    fn scrub_removes_values_and_encodings() {
        let s = Secret::new(b"Zq8Kp2Lm9Vx4Rt7W".to_vec());
        let m = format!(
            "server said Zq8Kp2Lm9Vx4Rt7W and {}",
            hex::encode(s.expose())
        );
        let out = scrub(&m, &[&s]);
        assert!(!out.contains("Zq8Kp2Lm9Vx4Rt7W"));
        assert!(!out.contains(&hex::encode(s.expose())));
        assert!(out.contains(crate::scrub::MARK));
    }
}
