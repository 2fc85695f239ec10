//! The HTTP side of validation: one agent for the run, the host guard, and per-provider
//! concurrency, rate limits and throttling.
//!
//! Built on the shared rotation HTTP plumbing (`net::http`: TLS with certificate checks,
//! no redirects, transport classification, wiping, no logging). What it adds
//! is what a sweep over thousands of credentials needs: response headers (scopes,
//! `Retry-After`), a limiter per provider that every worker thread shares (so a 429 from
//! one provider pauses all requests to it, and only to it), and messages that never carry
//! the request URL's secret parts: callers describe a request by its path *template*.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use zeroize::Zeroize;

use crate::net::http::{Http, HttpSettings, Req, TransportHints};
use crate::rotate::ErrorKind;

/// Largest response body read (validation answers are small; a huge one is not parsed).
const MAX_BODY: usize = 1 << 20;

/// One request: the shared [`Req`] (URL, headers and body wiped on drop; the URL may hold
/// the credential in its path when the API demands it, as Telegram's does, and is never
/// printed), and how messages name it.
pub struct Call {
    /// The request; `write` stays false (validation only reads).
    pub req: Req,
    /// How messages name the request: method and the path template, no secret.
    pub what: String,
}

impl Call {
    /// A form POST of `body` to `url` ([`Req::form`]): the body, which holds the
    /// credential, is moved into the request and wiped with it.
    pub fn form_post(url: String, body: String, what: String) -> Call {
        Call {
            req: Req::form(url, body),
            what,
        }
    }
}

/// An answer, whatever its status. The body may echo the credential: parse, never print
/// it unscrubbed.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Response headers (names as sent).
    pub headers: Vec<(String, String)>,
    /// Body bytes (at most 1 MiB).
    pub body: Vec<u8>,
}

impl Answer {
    /// A header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// `Retry-After` in seconds (the HTTP-date form counts as absent).
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

/// Why no answer came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Timeout, unavailable (refused, DNS, TLS) or config (bad URL).
    pub kind: ErrorKind,
    /// What happened, naming the request by its template.
    pub message: String,
}

const HINTS: TransportHints = TransportHints {
    connect: "cannot connect (is the provider reachable from here? is --validate-endpoint right?)",
    dns: "cannot resolve the provider's host name",
    invalid_url: "invalid endpoint URL (check --validate-endpoint: http:// or https://)",
    timeout: "no answer before the timeout (raise --validate-timeout)",
};

/// The client of one validation run, on the shared [`Http`] client (TLS with certificate
/// checks, no redirects, request and reply wiped on drop). It makes no retries of its own:
/// [`Limiter`] and the caller decide when to try again, per provider.
pub struct Client {
    http: Http,
}

impl Client {
    /// A client with a per-request timeout.
    pub fn new(timeout: Duration) -> Client {
        let settings = HttpSettings {
            timeout,
            retries: 0,
            max_wait: Duration::ZERO,
        };
        let builder = ureq::AgentBuilder::new().max_idle_connections_per_host(32);
        Client {
            http: Http::with_agent("validation", settings, &HINTS, builder),
        }
    }

    /// Sends one request; every HTTP status is an [`Answer`].
    pub fn send(&self, call: &Call) -> Result<Answer, Failure> {
        let mut reply = self
            .http
            .send_auth(&call.req, false, &|_| Ok(Vec::new()))
            .map_err(|e| Failure {
                kind: e.kind,
                message: format!("{}: {}", call.what, e.message),
            })?;
        let mut body = std::mem::take(&mut reply.body).into_bytes();
        body.truncate(MAX_BODY);
        Ok(Answer {
            status: reply.status,
            headers: reply.headers().to_vec(),
            body,
        })
    }
}

/// Limits of one provider: at most `concurrency` requests in flight, at most `rate`
/// request starts per second, and a pause after a 429 that every worker honours.
pub struct Limiter {
    state: Mutex<LimiterState>,
    freed: Condvar,
    concurrency: usize,
    interval: Duration,
}

struct LimiterState {
    in_flight: usize,
    next_start: Instant,
}

impl Limiter {
    /// A limiter; `rate` is requests per second (0: unlimited).
    pub fn new(concurrency: usize, rate: f64) -> Limiter {
        let interval = if rate > 0.0 && rate.is_finite() {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        };
        Limiter {
            state: Mutex::new(LimiterState {
                in_flight: 0,
                next_start: Instant::now(),
            }),
            freed: Condvar::new(),
            concurrency: concurrency.max(1),
            interval,
        }
    }

    /// Waits for a slot and the next start time; the slot is released when the guard
    /// drops.
    pub fn acquire(&self) -> Slot<'_> {
        let mut st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while st.in_flight >= self.concurrency {
            st = self
                .freed
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        st.in_flight += 1;
        let now = Instant::now();
        let start = st.next_start.max(now);
        st.next_start = start + self.interval;
        drop(st);
        if start > now {
            std::thread::sleep(start - now);
        }
        Slot { limiter: self }
    }

    /// Pushes the next start of every worker back by `wait` (a 429's `Retry-After`).
    pub fn pause(&self, wait: Duration) {
        let mut st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let until = Instant::now() + wait;
        if st.next_start < until {
            st.next_start = until;
        }
    }
}

/// A request slot of a [`Limiter`].
pub struct Slot<'a> {
    limiter: &'a Limiter,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut st = self
            .limiter
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        st.in_flight = st.in_flight.saturating_sub(1);
        drop(st);
        self.limiter.freed.notify_one();
    }
}

/// One limiter per provider id, made on first use.
pub struct Limiters {
    map: Mutex<BTreeMap<String, std::sync::Arc<Limiter>>>,
    concurrency: usize,
    rate: f64,
}

impl Limiters {
    /// Limiters with these per-provider limits.
    pub fn new(concurrency: usize, rate: f64) -> Limiters {
        Limiters {
            map: Mutex::new(BTreeMap::new()),
            concurrency,
            rate,
        }
    }

    /// The limiter of `provider`.
    pub fn get(&self, provider: &str) -> std::sync::Arc<Limiter> {
        let mut m = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::sync::Arc::clone(
            m.entry(provider.to_string())
                .or_insert_with(|| std::sync::Arc::new(Limiter::new(self.concurrency, self.rate))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_spaces_starts_and_caps_concurrency() {
        let l = Limiter::new(2, 100.0);
        let t = Instant::now();
        let a = l.acquire();
        let b = l.acquire();
        assert!(t.elapsed() >= Duration::from_millis(9), "{:?}", t.elapsed());
        drop(a);
        let _c = l.acquire();
        drop(b);
        l.pause(Duration::from_millis(50));
        let t = Instant::now();
        let _d = l.acquire();
        assert!(
            t.elapsed() >= Duration::from_millis(45),
            "{:?}",
            t.elapsed()
        );
    }
}
