//! The rotation audit log: append-only JSON lines, mode 0600, one record per state change.
//!
//! A record is built from [`Record`], whose fields can only hold names, fingerprints,
//! targets, version ids, error kinds and secret-free messages: there is no field that
//! could carry a secret value, a token or a request body. Each record is written with a
//! single `write` on a file opened with `O_APPEND`, and flushed, so concurrent runs
//! interleave whole lines and a crash loses at most the record being written.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::civil::Utc;

/// Audit events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// An action was planned (dry run or not).
    Planned,
    /// A dry run checked the target and would perform the action.
    WouldRotate,
    /// An attempt started.
    Attempt,
    /// An attempt failed (and may be retried).
    AttemptFailed,
    /// The action failed for good.
    Failed,
    /// The action is done (rotated, revoked, or found already done).
    Done,
    /// The action was skipped (already recorded in the state file, or the target no longer
    /// holds the leaked value).
    Skipped,
    /// A locate query found the leaked value at a target.
    Located,
    /// A locate-only run asked a backend, which holds no current copy of the leaked value.
    NotLocated,
    /// The planned action was not performed because the user did not confirm it.
    Refused,
}

/// One audit record. Only secret-free fields exist.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Record<'a> {
    /// The action (`rotate`, `revoke`, `locate`).
    pub action: &'a str,
    /// The finding's fingerprint.
    pub fingerprint: &'a str,
    /// Its rule id.
    pub rule: &'a str,
    /// Backend name.
    pub backend: &'a str,
    /// Target (`backend:path#key`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Idempotency key.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub idempotency_key: &'a str,
    /// Attempt number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Outcome status (`rotated`, `already_applied`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// New version id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_version: Option<String>,
    /// Previous version id (kept for rollback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    /// Error kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<super::ErrorKind>,
    /// A secret-free message (errors are scrubbed of known values before they get here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Milliseconds until the next attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_ms: Option<u64>,
}

#[derive(Serialize)]
struct Line<'a> {
    ts: String,
    run_id: &'a str,
    event: Event,
    dry_run: bool,
    #[serde(flatten)]
    record: &'a Record<'a>,
}

/// An open audit log.
pub struct AuditLog {
    file: File,
    path: PathBuf,
    run_id: String,
    dry_run: bool,
}

impl AuditLog {
    /// Opens (creating with mode 0600) `path` for appending. Parent directories are
    /// created (mode 0700).
    pub fn open(path: &Path, run_id: &str, dry_run: bool) -> std::io::Result<AuditLog> {
        Ok(AuditLog {
            file: crate::private_fs::append(path)?,
            path: path.to_path_buf(),
            run_id: run_id.to_string(),
            dry_run,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record.
    pub fn write(&mut self, event: Event, record: &Record<'_>) -> std::io::Result<()> {
        let line = Line {
            ts: Utc::now().rfc3339(),
            run_id: &self.run_id,
            event,
            dry_run: self.dry_run,
            record,
        };
        let mut bytes = serde_json::to_vec(&line)?;
        bytes.push(b'\n');
        self.file.write_all(&bytes)?;
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_private_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/audit.jsonl");
        for run in ["r1", "r2"] {
            let mut log = AuditLog::open(&p, run, true).unwrap();
            log.write(
                Event::Planned,
                &Record {
                    action: "rotate",
                    fingerprint: "lsw1:00",
                    backend: "v",
                    ..Record::default()
                },
            )
            .unwrap();
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["run_id"], "r2");
        assert_eq!(lines[0]["event"], "planned");
        assert_eq!(lines[0]["dry_run"], true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
