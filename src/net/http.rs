//! A small synchronous HTTP client for the Vault and AWS backends, and the HTTP helpers
//! every backend shares (the cloud client in `cloud` too): the agent settings, sending,
//! URL encoding, and the classification of statuses and transport failures.
//!
//! It adds three things to `ureq`: one error shape ([`BackendError`]) with a kind that
//! decides retries; a **dry-run guard** that refuses every request the backend marked as
//! a write while a dry run is in progress (a mechanical guarantee, not a promise); and no
//! logging at all, so request and response bodies (which carry secret values) are only
//! ever seen by the backend that parses them. Redirects are off: a secret store that
//! redirects a write elsewhere is a misconfiguration to report, not to follow.

use std::time::Duration;

use super::{BackendError, ErrorKind};

/// An HTTP client for one backend.
pub struct Http {
    agent: ureq::Agent,
    backend: String,
}

/// A request.
pub struct Request<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// Full URL.
    pub url: &'a str,
    /// Headers (values may be credentials: they are never logged).
    pub headers: Vec<(&'a str, String)>,
    /// Body bytes.
    pub body: Option<&'a [u8]>,
    /// True if the request changes state in the backend.
    pub write: bool,
    /// True while planning: writes are refused before they leave the process.
    pub dry_run: bool,
}

/// A response, whatever its status.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body (UTF-8, lossy). May hold secret values: parse it, never print it.
    pub body: String,
    /// The `x-amzn-ErrorType` header, if any.
    pub amz_error_type: Option<String>,
}

impl Http {
    /// A client with a per-request timeout.
    pub fn new(backend: &str, timeout: Duration) -> Http {
        Http {
            agent: agent(ureq::AgentBuilder::new(), timeout),
            backend: backend.to_string(),
        }
    }

    /// Sends `req`. Transport failures become [`ErrorKind::Unavailable`] (connection
    /// refused, reset) or [`ErrorKind::Timeout`]; every HTTP status comes back as a
    /// [`Reply`] for the backend to classify.
    pub fn send(&self, req: &Request<'_>) -> Result<Reply, BackendError> {
        if req.write && req.dry_run {
            return Err(BackendError::new(
                &self.backend,
                ErrorKind::Protocol,
                format!(
                    "refused to send a write ({} {}) during a dry run (this is a bug in the backend)",
                    req.method,
                    strip_query(req.url)
                ),
            ));
        }
        let mut r = self.agent.request(req.method, req.url);
        for (k, v) in &req.headers {
            r = r.set(k, v);
        }
        let resp = exchange(r, req.body, |t| self.transport_error(req, t))?;
        let status = resp.status();
        let amz_error_type = resp.header("x-amzn-ErrorType").map(str::to_string);
        let body = resp.into_string().map_err(|e| {
            BackendError::new(
                &self.backend,
                io_kind(&e),
                format!(
                    "reading the answer to {} {}: {e}",
                    req.method,
                    strip_query(req.url)
                ),
            )
        })?;
        Ok(Reply {
            status,
            body,
            amz_error_type,
        })
    }
}

/// What this client tells the user about a transport failure (Vault and AWS configs name
/// the server `address` or `endpoint`).
const HINTS: TransportHints = TransportHints {
    connect: "cannot connect: is the server running, and is `address`/`endpoint` right?",
    dns: "cannot resolve the host name: check `address`/`endpoint`",
    invalid_url: "invalid URL: check `address`/`endpoint` (http:// or https://)",
    timeout: "no answer before the timeout (raise `timeout_ms` if the server is slow)",
};

impl Http {
    fn transport_error(&self, req: &Request<'_>, t: &ureq::Transport) -> BackendError {
        let what = format!("{} {}", req.method, strip_query(req.url));
        transport_error(&self.backend, &what, t, &HINTS)
    }
}

/// The `ureq` agent every backend client uses: a per-request timeout, no redirects (a
/// store that redirects a write is misconfigured), leaksweep's user agent. `builder`
/// carries anything else (custom TLS roots for Kubernetes).
pub(crate) fn agent(builder: ureq::AgentBuilder, timeout: Duration) -> ureq::Agent {
    builder
        .timeout(timeout)
        .redirects(0)
        .user_agent(concat!("leaksweep/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sends `r` with `body`: every HTTP status is a response for the backend to classify;
/// only a transport failure is an error, described by `transport`.
pub(crate) fn exchange(
    r: ureq::Request,
    body: Option<&[u8]>,
    transport: impl FnOnce(&ureq::Transport) -> BackendError,
) -> Result<ureq::Response, BackendError> {
    let result = match body {
        Some(b) => r.send_bytes(b),
        None => r.call(),
    };
    match result {
        Ok(resp) | Err(ureq::Error::Status(_, resp)) => Ok(resp),
        Err(ureq::Error::Transport(t)) => Err(transport(&t)),
    }
}

/// The fix-it hints a client gives for each transport failure; each client names the
/// config fields its backends have.
pub(crate) struct TransportHints {
    /// Connection refused or reset.
    pub connect: &'static str,
    /// The host name does not resolve.
    pub dns: &'static str,
    /// The URL cannot be parsed or has an unknown scheme.
    pub invalid_url: &'static str,
    /// No answer before the timeout.
    pub timeout: &'static str,
}

/// Classifies a transport failure of `what` (`METHOD url-without-query`): connection and
/// DNS failures are [`ErrorKind::Unavailable`], a bad URL is [`ErrorKind::Config`], an I/O
/// timeout is [`ErrorKind::Timeout`]; the message adds the matching hint.
pub(crate) fn transport_error(
    backend: &str,
    what: &str,
    t: &ureq::Transport,
    hints: &TransportHints,
) -> BackendError {
    let (kind, hint) = match t.kind() {
        ureq::ErrorKind::ConnectionFailed => (ErrorKind::Unavailable, hints.connect),
        ureq::ErrorKind::Dns => (ErrorKind::Unavailable, hints.dns),
        ureq::ErrorKind::InvalidUrl | ureq::ErrorKind::UnknownScheme => {
            (ErrorKind::Config, hints.invalid_url)
        }
        _ => {
            let timed_out = std::error::Error::source(t)
                .and_then(|s| s.downcast_ref::<std::io::Error>())
                .is_some_and(|e| io_kind(e) == ErrorKind::Timeout);
            if timed_out {
                (ErrorKind::Timeout, hints.timeout)
            } else {
                (ErrorKind::Unavailable, "the connection failed")
            }
        }
    };
    BackendError::new(backend, kind, format!("{what}: {hint} ({})", t.kind()))
}

/// The kind for an I/O error while talking to a server: a timeout, or the server gone.
pub(crate) fn io_kind(e: &std::io::Error) -> ErrorKind {
    if matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ) {
        ErrorKind::Timeout
    } else {
        ErrorKind::Unavailable
    }
}

/// The URL without its query string (queries never carry secrets here, but they are
/// noise in messages).
pub fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// The kind for an HTTP status, before any provider-specific refinement.
pub fn status_kind(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Auth,
        403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        409 | 412 => ErrorKind::Conflict,
        429 => ErrorKind::Throttled,
        500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Protocol,
    }
}

/// Percent-encodes one path segment or query value (RFC 3986 unreserved kept).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a path, keeping `/` separators.
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_component)
        .collect::<Vec<_>>()
        .join("/")
}

/// A loopback port nothing listens on (bound, then released), for refused connections.
#[cfg(test)]
pub(crate) fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(9, |a| a.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_guard_refuses_writes_before_sending() {
        let h = Http::new("t", Duration::from_millis(100));
        // Port 9 (discard) is never contacted: the guard answers first.
        let e = h
            .send(&Request {
                method: "POST",
                url: "http://127.0.0.1:9/v1/secret/data/x",
                headers: vec![],
                body: Some(b"{}"),
                write: true,
                dry_run: true,
            })
            .err()
            .unwrap();
        assert!(e.message.contains("refused to send a write"), "{e}");
    }

    /// A refused connection is `Unavailable` with this client's hint (the cloud client
    /// shares the classification and words its own hint).
    #[test]
    fn refused_connections_are_unavailable_with_a_hint() {
        let port = closed_port();
        let h = Http::new("t", Duration::from_millis(500));
        let url = format!("http://127.0.0.1:{port}/v1/x?list=true");
        let e = h
            .send(&Request {
                method: "GET",
                url: &url,
                headers: vec![],
                body: None,
                write: false,
                dry_run: false,
            })
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::Unavailable);
        let want = format!("GET http://127.0.0.1:{port}/v1/x: cannot connect: is the server");
        assert!(e.message.starts_with(&want), "{e}");
        assert!(e.message.contains("`address`/`endpoint`"), "{e}");
    }

    #[test]
    fn encodes_paths() {
        assert_eq!(encode_path("app/db name"), "app/db%20name");
        assert_eq!(encode_component("a/b"), "a%2Fb");
        assert_eq!(status_kind(503), ErrorKind::Unavailable);
    }
}
