//! Retries with exponential backoff and full jitter, bounded in attempts and in time.
//!
//! `sleep = random(0, min(cap, base * 2^(attempt-1)))` (full jitter spreads clients that
//! were throttled together). Only errors whose [`ErrorKind`] is retryable (throttling
//! and 5xx, as each backend classifies its provider's own throttling codes) are retried;
//! the caller decides what a timeout means (a write's outcome is unknown after one).

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{BackendError, ErrorKind};

/// Retry settings (config `[rotation.retry]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts per operation, including the first.
    #[serde(default = "d_attempts")]
    pub max_attempts: u32,
    /// First backoff ceiling, milliseconds.
    #[serde(default = "d_base")]
    pub base_ms: u64,
    /// Largest backoff ceiling, milliseconds.
    #[serde(default = "d_cap")]
    pub cap_ms: u64,
    /// Time budget for one rotation (all attempts and sleeps), milliseconds.
    #[serde(default = "d_budget")]
    pub budget_ms: u64,
}

fn d_attempts() -> u32 {
    5
}
fn d_base() -> u64 {
    500
}
fn d_cap() -> u64 {
    30_000
}
fn d_budget() -> u64 {
    120_000
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: d_attempts(),
            base_ms: d_base(),
            cap_ms: d_cap(),
            budget_ms: d_budget(),
        }
    }
}

impl RetryPolicy {
    /// The jittered sleep before attempt `attempt + 1` (attempt is 1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
        let ceiling = exp.min(self.cap_ms);
        if ceiling == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(super::generate::random_u64() % (ceiling + 1))
    }
}

/// One failed attempt, reported to the caller's hook (for the audit log).
#[derive(Debug)]
pub struct Failure<'a> {
    /// 1-based attempt number.
    pub attempt: u32,
    /// The error.
    pub error: &'a BackendError,
    /// The sleep before the next attempt; `None` when giving up.
    pub retry_in: Option<Duration>,
}

/// Runs `op` until it succeeds, fails with a non-retryable error, or the policy's
/// attempts or time budget run out. `retry_also` widens what is retried (e.g. timeouts
/// of read-only calls). `on_failure` sees every failed attempt.
pub fn run<T>(
    policy: &RetryPolicy,
    started: Instant,
    retry_also: &dyn Fn(ErrorKind) -> bool,
    mut op: impl FnMut(u32) -> Result<T, BackendError>,
    mut on_failure: impl FnMut(Failure<'_>),
) -> Result<T, BackendError> {
    let budget = Duration::from_millis(policy.budget_ms);
    let mut attempt = 1u32;
    loop {
        match op(attempt) {
            Ok(v) => return Ok(v),
            Err(e) => {
                let retryable = e.kind.retryable() || retry_also(e.kind);
                let sleep = policy.backoff(attempt);
                let in_budget = started.elapsed() + sleep < budget;
                if !retryable || attempt >= policy.max_attempts.max(1) || !in_budget {
                    on_failure(Failure {
                        attempt,
                        error: &e,
                        retry_in: None,
                    });
                    if retryable {
                        let mut e = e;
                        e.message.push_str(&format!(
                            " (gave up after {attempt} attempt{} in {:.1} s)",
                            if attempt == 1 { "" } else { "s" },
                            started.elapsed().as_secs_f64()
                        ));
                        return Err(e);
                    }
                    return Err(e);
                }
                on_failure(Failure {
                    attempt,
                    error: &e,
                    retry_in: Some(sleep),
                });
                std::thread::sleep(sleep);
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: ErrorKind) -> BackendError {
        BackendError::new("t", kind, "boom")
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_ms: 1,
            cap_ms: 4,
            budget_ms: 10_000,
        }
    }

    #[test]
    fn retries_throttling_then_succeeds() {
        let mut seen = Vec::new();
        let r = run(
            &fast(),
            Instant::now(),
            &|_| false,
            |a| {
                if a < 3 {
                    Err(err(ErrorKind::Throttled))
                } else {
                    Ok(a)
                }
            },
            |f| seen.push((f.attempt, f.retry_in.is_some())),
        );
        assert_eq!(r.unwrap(), 3);
        assert_eq!(seen, vec![(1, true), (2, true)]);
    }

    #[test]
    fn never_retries_auth_and_gives_up_after_max_attempts() {
        let mut calls = 0;
        let r: Result<(), _> = run(
            &fast(),
            Instant::now(),
            &|_| false,
            |_| {
                calls += 1;
                Err(err(ErrorKind::Auth))
            },
            |_| {},
        );
        assert_eq!(calls, 1);
        assert_eq!(r.unwrap_err().kind, ErrorKind::Auth);
        let mut calls = 0;
        let r: Result<(), _> = run(
            &fast(),
            Instant::now(),
            &|_| false,
            |_| {
                calls += 1;
                Err(err(ErrorKind::Unavailable))
            },
            |_| {},
        );
        assert_eq!(calls, 4);
        assert!(r.unwrap_err().message.contains("gave up after 4 attempts"));
    }

    #[test]
    fn backoff_is_bounded_by_the_cap() {
        let p = RetryPolicy {
            base_ms: 500,
            cap_ms: 2000,
            ..RetryPolicy::default()
        };
        for attempt in 1..30 {
            assert!(p.backoff(attempt) <= Duration::from_millis(2000));
        }
        assert!(p.backoff(1) <= Duration::from_millis(500));
    }
}
