//! The one synchronous HTTP client of rotation and validation, and the HTTP helpers they
//! share: URL encoding, endpoint policy, and the classification of statuses and transport
//! failures.
//!
//! What it adds to `ureq`:
//! - one error shape ([`BackendError`]) with a kind that decides retries, and messages
//!   that name the request (`METHOD url-without-query`) and the fix;
//! - a **dry-run guard**: a request marked as a write is refused before it leaves the
//!   process while a dry run is in progress (a mechanical guarantee, not a promise);
//! - **throttling retries per request** ([`HttpSettings::retries`], none unless asked): a
//!   429 means the request was not processed, so it is re-sent (any method) after the
//!   server's `Retry-After` or a jittered backoff, bounded in count and in wait. A 5xx or
//!   a transport error is retried only for reads: after a failed *write* the outcome is
//!   unknown, so the error goes back to the caller, whose retry of the whole operation
//!   first looks for its idempotency marker;
//! - per-attempt authorization ([`Http::send_auth`]): the auth closure runs for every
//!   attempt, so an OCI signature carries a fresh `date` and a token can be refreshed;
//! - **wiping**: request headers and bodies and reply bodies may hold secret values; they
//!   are overwritten when dropped, and never logged: there is no logging here at all.
//!   Redirects are off: a service that redirects a write elsewhere is misconfigured.

use std::time::{Duration, Instant};

use zeroize::Zeroize;

use super::{BackendError, ErrorKind};

/// Timeout and retry settings of a client.
#[derive(Debug, Clone, Copy)]
pub struct HttpSettings {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Re-sends of one request after throttling (429) or a 5xx on a read.
    pub retries: u32,
    /// The longest single wait between two attempts (caps `Retry-After`).
    pub max_wait: Duration,
}

impl HttpSettings {
    /// The settings as configs spell them (`timeout_ms`, `retries`, `max_retry_wait_ms`).
    pub fn from_ms(timeout_ms: u64, retries: u32, max_retry_wait_ms: u64) -> HttpSettings {
        HttpSettings {
            timeout: Duration::from_millis(timeout_ms),
            retries,
            max_wait: Duration::from_millis(max_retry_wait_ms),
        }
    }
}

/// An HTTP client for one backend (or provider).
pub struct Http {
    agent: ureq::Agent,
    backend: String,
    settings: HttpSettings,
    hints: &'static TransportHints,
}

/// A request whose body the caller owns (and wipes). Header values may be credentials:
/// they are wiped when the request is dropped.
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

impl Drop for Request<'_> {
    fn drop(&mut self) {
        for (_, v) in &mut self.headers {
            v.zeroize();
        }
    }
}

/// A request that owns its URL and body, for clients that build requests and hand them
/// to [`Http::send_auth`] (authorization is added per attempt). Wiped on drop.
pub struct Req {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// Full URL.
    pub url: String,
    /// Headers other than authorization.
    pub headers: Vec<(String, String)>,
    /// Body bytes (may hold a secret).
    pub body: Option<Vec<u8>>,
    /// True if the request changes state in the backend.
    pub write: bool,
}

impl Req {
    /// A read.
    pub fn get(url: String) -> Req {
        Req {
            method: "GET",
            url,
            headers: Vec::new(),
            body: None,
            write: false,
        }
    }

    /// A form POST (`application/x-www-form-urlencoded`), as OAuth token endpoints take
    /// it. The body usually holds the credential: it is moved in, and wiped on drop.
    pub fn form(url: String, body: String) -> Req {
        Req {
            method: "POST",
            url,
            headers: vec![(
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: Some(body.into_bytes()),
            write: false,
        }
    }

    /// A write carrying a JSON body.
    pub fn json(method: &'static str, url: String, body: &serde_json::Value) -> Req {
        Req {
            method,
            url,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(body.to_string().into_bytes()),
            write: true,
        }
    }

    /// `METHOD url-without-query`, for messages.
    pub fn what(&self) -> String {
        format!("{} {}", self.method, strip_query(&self.url))
    }
}

impl Drop for Req {
    fn drop(&mut self) {
        // Some APIs (Telegram's) carry the credential in the URL path.
        self.url.zeroize();
        if let Some(b) = &mut self.body {
            b.zeroize();
        }
        for (_, v) in &mut self.headers {
            v.zeroize();
        }
    }
}

/// A response, whatever its status. The body may hold secret values: parse it, never
/// print it; it is wiped when the reply is dropped (`std::mem::take` it to keep it).
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body (UTF-8, lossy).
    pub body: String,
    /// The `x-amzn-ErrorType` header, if any.
    pub amz_error_type: Option<String>,
    headers: Vec<(String, String)>,
}

impl Reply {
    /// Every response header, names as sent.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// A header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A 2xx status.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

/// Headers an auth source adds to one attempt.
pub type AuthHeaders = Vec<(String, String)>;

/// One request as it goes on the wire, whichever way it was built.
struct Wire<'r> {
    method: &'r str,
    url: &'r str,
    headers: Vec<(&'r str, &'r str)>,
    body: Option<&'r [u8]>,
    write: bool,
}

impl Wire<'_> {
    fn what(&self) -> String {
        format!("{} {}", self.method, strip_query(self.url))
    }
}

/// Hints for clients whose configs name the server `address` or `endpoint` (Vault, AWS).
pub const SERVER_HINTS: TransportHints = TransportHints {
    connect: "cannot connect: is the server running, and is `address`/`endpoint` right?",
    dns: "cannot resolve the host name: check `address`/`endpoint`",
    invalid_url: "invalid URL: check `address`/`endpoint` (http:// or https://)",
    timeout: "no answer before the timeout (raise `timeout_ms` if the server is slow)",
};

/// Hints for clients whose configs name an endpoint, a region or a kubeconfig server.
pub const ENDPOINT_HINTS: TransportHints = TransportHints {
    connect: "cannot connect: is the server running, and is the endpoint in the config right?",
    dns: "cannot resolve the host name: check the endpoint (or region) in the config",
    invalid_url: "invalid URL: check the endpoint in the config (https://...)",
    timeout: "no answer before the timeout (raise timeout_ms if the service is slow)",
};

impl Http {
    /// A client with a per-request timeout, no retries and [`SERVER_HINTS`] (callers that
    /// retry whole operations themselves).
    pub fn new(backend: &str, timeout: Duration) -> Http {
        Http::with_agent(
            backend,
            HttpSettings {
                timeout,
                retries: 0,
                max_wait: Duration::ZERO,
            },
            &SERVER_HINTS,
            ureq::AgentBuilder::new(),
        )
    }

    /// A client with `settings` (retries included) and [`ENDPOINT_HINTS`].
    pub fn with_settings(backend: &str, settings: HttpSettings) -> Http {
        Http::with_agent(
            backend,
            settings,
            &ENDPOINT_HINTS,
            ureq::AgentBuilder::new(),
        )
    }

    /// A client built on `builder` (custom TLS roots for Kubernetes): a per-request
    /// timeout, no redirects, leaksweep's user agent.
    pub fn with_agent(
        backend: &str,
        settings: HttpSettings,
        hints: &'static TransportHints,
        builder: ureq::AgentBuilder,
    ) -> Http {
        Http {
            agent: builder
                .timeout(settings.timeout)
                .redirects(0)
                .user_agent(concat!("leaksweep/", env!("CARGO_PKG_VERSION")))
                .build(),
            backend: backend.to_string(),
            settings,
            hints,
        }
    }

    /// Sends `req`. Transport failures become [`ErrorKind::Unavailable`] (connection
    /// refused, reset) or [`ErrorKind::Timeout`]; every HTTP status comes back as a
    /// [`Reply`] for the caller to classify, once the retries the settings allow are
    /// spent.
    pub fn send(&self, req: &Request<'_>) -> Result<Reply, BackendError> {
        let wire = Wire {
            method: req.method,
            url: req.url,
            headers: req.headers.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            body: req.body,
            write: req.write,
        };
        self.deliver(&wire, req.dry_run, &|| Ok(Vec::new()))
    }

    /// Sends `req` like [`Http::send`]; `auth` runs before every attempt and returns the
    /// headers that authorize it.
    pub fn send_auth(
        &self,
        req: &Req,
        dry_run: bool,
        auth: &dyn Fn(&Req) -> Result<AuthHeaders, BackendError>,
    ) -> Result<Reply, BackendError> {
        let wire = Wire {
            method: req.method,
            url: &req.url,
            headers: req
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            body: req.body.as_deref(),
            write: req.write,
        };
        self.deliver(&wire, dry_run, &|| auth(req))
    }

    /// The guard, then attempts with retries as the module doc says.
    fn deliver(
        &self,
        req: &Wire<'_>,
        dry_run: bool,
        auth: &dyn Fn() -> Result<AuthHeaders, BackendError>,
    ) -> Result<Reply, BackendError> {
        if req.write && dry_run {
            return Err(self.err(
                ErrorKind::Protocol,
                format!(
                    "refused to send a write ({}) during a dry run (this is a bug in the caller)",
                    req.what()
                ),
            ));
        }
        let start = Instant::now();
        let mut attempt = 0u32;
        loop {
            let result = self.once(req, auth);
            let wait = match &result {
                Ok(r) if r.status == 429 => Some(retry_after(r)),
                Ok(r) if r.status >= 500 && !req.write => Some(retry_after(r)),
                Err(e) if !req.write && e.kind == ErrorKind::Unavailable => Some(None),
                _ => None,
            };
            let Some(hint) = wait else { return result };
            if attempt >= self.settings.retries {
                return result;
            }
            let backoff = jitter(Duration::from_millis(200u64 << attempt.min(8)));
            let sleep = hint.unwrap_or(backoff).min(self.settings.max_wait);
            // Never let retries run past twice the wait budget in total.
            if start.elapsed() + sleep > self.settings.max_wait * 2 + self.settings.timeout {
                return result;
            }
            attempt += 1;
            std::thread::sleep(sleep);
        }
    }

    fn once(
        &self,
        req: &Wire<'_>,
        auth: &dyn Fn() -> Result<AuthHeaders, BackendError>,
    ) -> Result<Reply, BackendError> {
        let mut r = self.agent.request(req.method, req.url);
        for (k, v) in &req.headers {
            r = r.set(k, v);
        }
        let mut extra = auth()?;
        for (k, v) in &extra {
            r = r.set(k, v);
        }
        for (_, v) in &mut extra {
            v.zeroize();
        }
        let sent = match req.body {
            Some(b) => r.send_bytes(b),
            None => r.call(),
        };
        let resp = match sent {
            Ok(resp) | Err(ureq::Error::Status(_, resp)) => resp,
            Err(ureq::Error::Transport(t)) => return Err(self.transport_error(req, &t)),
        };
        let status = resp.status();
        let amz_error_type = resp.header("x-amzn-ErrorType").map(str::to_string);
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
            .collect();
        let mut bytes = Vec::new();
        use std::io::Read as _;
        if let Err(e) = resp.into_reader().take(64 << 20).read_to_end(&mut bytes) {
            bytes.zeroize();
            return Err(self.err(
                io_kind(&e),
                format!("reading the answer to {}: {e}", req.what()),
            ));
        }
        let body = String::from_utf8(bytes).unwrap_or_else(|e| {
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            e.into_bytes().zeroize();
            lossy
        });
        Ok(Reply {
            status,
            body,
            amz_error_type,
            headers,
        })
    }

    fn transport_error(&self, req: &Wire<'_>, t: &ureq::Transport) -> BackendError {
        // The source chain names TLS failures (e.g. "invalid peer certificate: UnknownIssuer").
        let mut detail = String::new();
        let mut src = std::error::Error::source(t);
        while let Some(e) = src {
            detail = e.to_string();
            src = e.source();
        }
        if detail.contains("certificate") || detail.contains("tls") || detail.contains("TLS") {
            return self.err(
                ErrorKind::Unavailable,
                format!(
                    "{}: the TLS handshake failed ({detail}): the server's certificate is not \
                     trusted or not valid for this host; configure its CA (for Kubernetes: \
                     certificate-authority in the kubeconfig)",
                    req.what()
                ),
            );
        }
        transport_error(&self.backend, &req.what(), t, self.hints)
    }

    /// An error of this client's backend.
    pub fn err(&self, kind: ErrorKind, message: impl Into<String>) -> BackendError {
        BackendError::new(&self.backend, kind, message)
    }
}

/// The server's `Retry-After` in seconds (the HTTP-date form is treated as absent).
fn retry_after(r: &Reply) -> Option<Duration> {
    r.header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// A random duration in `[d/2, d]` (decorrelates clients throttled together).
fn jitter(d: Duration) -> Duration {
    let mut b = [0u8; 2];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    let frac = f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX);
    d.mul_f64(0.5 + frac / 2.0)
}

/// The fix-it hints a client gives for each transport failure; each client names the
/// config fields its users set.
pub struct TransportHints {
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
/// name failures are `Unavailable`, a bad URL is `Config`, a read timeout is `Timeout`.
fn transport_error(
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
pub fn io_kind(e: &std::io::Error) -> ErrorKind {
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

/// Checks a configured endpoint: `https://`, or `http://` for 127.0.0.1/localhost test
/// servers only, because credentials and secret values travel in the requests.
pub fn check_endpoint(backend: &str, field: &str, url: &str) -> Result<String, BackendError> {
    let u = url.trim_end_matches('/');
    let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| u.starts_with(p));
    if u.starts_with("https://") || local {
        Ok(u.to_string())
    } else {
        Err(BackendError::new(
            backend,
            ErrorKind::Config,
            format!(
                "{field} = {u:?} must start with https:// (plain http:// is accepted only for \
                 127.0.0.1 or localhost test servers, because the bearer token and the new \
                 secret value travel in the request)"
            ),
        ))
    }
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
        let h = Http::with_settings("t", HttpSettings::from_ms(100, 3, 0));
        let req = Req::json("PUT", "http://127.0.0.1:9/x".into(), &serde_json::json!({}));
        let e = h.send_auth(&req, true, &|_| Ok(Vec::new())).err().unwrap();
        assert!(e.message.contains("refused to send a write"), "{e}");
    }

    /// A refused connection is `Unavailable` with the hint of the client's config words.
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

        let h = Http::with_settings("t", HttpSettings::from_ms(500, 0, 0));
        let req = Req::get(format!("http://127.0.0.1:{port}/secrets?api-version=7.4"));
        let e = h.send_auth(&req, false, &|_| Ok(Vec::new())).err().unwrap();
        assert_eq!(e.kind, ErrorKind::Unavailable);
        let want = format!("GET http://127.0.0.1:{port}/secrets: cannot connect: is the server");
        assert!(e.message.starts_with(&want), "{e}");
        assert!(e.message.contains("the endpoint in the config"), "{e}");
    }

    /// Throttling is retried after the server's `Retry-After`, as many times as the
    /// settings allow, by every way of sending; the client without retries returns the 429.
    #[test]
    fn throttling_is_retried_after_retry_after() {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let mut seen = 0;
            for stream in listener.incoming().take(4) {
                let mut s = stream.unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                while r.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                    line.clear();
                }
                seen += 1;
                // Answers 1 and 3 throttle; 2 and 4 succeed.
                let answer = if seen % 2 == 1 {
                    "HTTP/1.1 429 Too Many Requests\r\nretry-after: 0\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                } else {
                    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                };
                s.write_all(answer.as_bytes()).unwrap();
            }
        });
        let url = format!("http://127.0.0.1:{port}/x");
        let h = Http::with_settings("t", HttpSettings::from_ms(2000, 2, 1000));
        let r = h
            .send_auth(&Req::get(url.clone()), false, &|_| Ok(Vec::new()))
            .unwrap();
        assert_eq!((r.status, r.body.as_str()), (200, "ok"));
        let h = Http::new("t", Duration::from_secs(2));
        let get = |h: &Http| {
            h.send(&Request {
                method: "GET",
                url: &url,
                headers: vec![],
                body: None,
                write: false,
                dry_run: false,
            })
            .unwrap()
            .status
        };
        assert_eq!(get(&h), 429, "no retries unless the settings ask");
        assert_eq!(get(&h), 200);
        server.join().unwrap();
    }

    #[test]
    fn endpoints_must_be_https_except_loopback() {
        assert!(check_endpoint("b", "endpoint", "https://x.vault.azure.net/").is_ok());
        assert!(check_endpoint("b", "endpoint", "http://127.0.0.1:9").is_ok());
        let e = check_endpoint("b", "endpoint", "http://vault.internal").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
    }

    #[test]
    fn encodes_paths() {
        assert_eq!(encode_path("app/db name"), "app/db%20name");
        assert_eq!(encode_component("a/b"), "a%2Fb");
        assert_eq!(status_kind(503), ErrorKind::Unavailable);
    }
}
