//! Live validation (`--validate`): asks each credential's provider, with one documented
//! read-only request, whether it still works and what it opens.
//!
//! Findings come in after triage; each gets a [`Validation`]. The run:
//! 1. maps each finding's rule to a provider ([`providers`]); no provider: `unknown`;
//! 2. joins the halves of pairs (AWS key id + secret, Twilio SID + secret, Datadog API +
//!    application key) from the same file and commit (the nearest other half wins); a
//!    missing half: `unknown`;
//! 3. makes **one request per unique credential** (or pair) per run, whatever the number
//!    of findings that carry it, answered from the cache when one is given;
//! 4. runs the requests on a few worker threads, within each provider's concurrency and
//!    rate limits ([`client::Limiter`]); a 429 pauses that provider for its
//!    `Retry-After` (bounded) and is retried a bounded number of times.
//!
//! Safety: a credential goes only to its provider's fixed `https://` host (the table), to
//! the endpoint the user configured for that provider, or to a host named next to it in
//! the scanned text that the user allow-listed (`--validate-allow-host`; [`context`]
//! parses the text around the finding, kept by the scanner with `--validate`). Any other
//! host from the scanned text is never contacted: those findings stay `unknown`. Messages
//! name requests by their path template, and provider text is scrubbed of the credential.
//!
//! After a rotation, [`recheck`] asks again about the old values.

pub mod cache;
pub mod client;
pub mod context;
pub mod providers;
pub mod recheck;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::civil::Utc;
use crate::finding::neighbourhood::Neighbourhoods;
pub use crate::finding::validation::{Status, Validation};
use crate::finding::Finding;
use crate::net::http::Req;
use crate::net::sigv4::{authorization, Credentials, SignInput};
use crate::rotate::ErrorKind;
use crate::scrub::provider_text;
use crate::secret::Secret;

use cache::Cache;
use client::{Answer, Call, Client, Limiters};
use context::{AllowHost, Origin};
use providers::{Auth, Check, HttpSpec, Provider};

/// Settings of a validation run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL per provider id, configured by the user (wins over the table's host).
    pub endpoints: BTreeMap<String, String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries of one request after a 429, a 5xx or a failed connection.
    pub retries: u32,
    /// The longest wait for a `Retry-After`; a longer one is an `error`.
    pub max_wait: Duration,
    /// Requests in flight per provider.
    pub concurrency: usize,
    /// Request starts per second per provider (0: no limit).
    pub rate: f64,
    /// Worker threads for the whole run.
    pub workers: usize,
    /// Salt of the cache keys (the project's fingerprint salt).
    pub salt: Vec<u8>,
    /// Hosts the user allows credentials to be sent to although their address came from
    /// the scanned text (`--validate-allow-host`, `[validation] allow_hosts`).
    pub allow_hosts: Vec<AllowHost>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            endpoints: BTreeMap::new(),
            timeout: Duration::from_secs(10),
            retries: 3,
            max_wait: Duration::from_secs(30),
            concurrency: 4,
            rate: 20.0,
            workers: 16,
            salt: crate::finding::fingerprint::DEFAULT_SALT.to_vec(),
            allow_hosts: Vec::new(),
        }
    }
}

/// Checks a configured endpoint: a known provider that makes requests, and an
/// `http://` or `https://` URL with a host. Plain http is allowed because the user named
/// the endpoint (a local test server, a Vault on a private network).
pub fn check_endpoint(provider: &str, url: &str) -> Result<(), String> {
    let Some(p) = providers::by_id(provider) else {
        return Err(format!(
            "unknown provider id {provider:?} (see `leaksweep rules providers`)"
        ));
    };
    if let Check::None(why) = p.check {
        return Err(format!("provider {provider:?} makes no request ({why})"));
    }
    if let Check::BasicAuthUrl = p.check {
        return Err(format!(
            "provider {provider:?} takes its host from the URL the password is in: allow that \
             host with --validate-allow-host HOST instead"
        ));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("endpoint {url:?} for {provider}: give an http:// or https:// URL")
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        return Err(format!(
            "endpoint {url:?} for {provider}: give a host, without user:password@"
        ));
    }
    if rest.contains(['?', '#']) {
        return Err(format!(
            "endpoint {url:?} for {provider}: a base URL takes no query or fragment"
        ));
    }
    Ok(())
}

/// Counters of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// Unique credentials (or pairs) checked.
    pub unique: u64,
    /// HTTP requests sent (retries included).
    pub requests: u64,
    /// Results taken from the cache.
    pub cached: u64,
}

/// The credential of one job.
struct Job {
    provider: &'static Provider,
    /// The request: the provider's main check, or the first half's own check.
    spec: Which,
    a: Secret,
    b: Option<Secret>,
    /// A public part read around the credential: the GCP key id (the finding's own
    /// value), the Azure tenant id.
    aux: String,
    /// The base URL when it came from an allow-listed host next to the credential.
    base: Option<String>,
    cache_key: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Main,
    FirstAlone,
}

/// A validation run: settings, HTTP client, limits, cache and the results so far (one
/// request per unique credential, also across the batches of `--follow`).
pub struct Validator {
    settings: Settings,
    client: Client,
    limiters: Limiters,
    cache: Mutex<Option<Cache>>,
    done: Mutex<HashMap<[u8; 32], Validation>>,
    stats: Mutex<Stats>,
    neighbourhoods: std::sync::Arc<Neighbourhoods>,
}

impl Validator {
    /// A validator; `cache`, if given, is read and filled.
    pub fn new(settings: Settings, cache: Option<Cache>) -> Validator {
        let allow_any = !settings.allow_hosts.is_empty();
        Validator {
            client: Client::new(settings.timeout),
            limiters: Limiters::new(settings.concurrency, settings.rate),
            settings,
            cache: Mutex::new(cache),
            done: Mutex::new(HashMap::new()),
            stats: Mutex::new(Stats::default()),
            neighbourhoods: std::sync::Arc::new(Neighbourhoods::new(move |rule: &str| {
                providers::wants_neighbourhood(rule, allow_any)
            })),
        }
    }

    /// Where the scanner keeps the text around findings this run reads (set it as the
    /// scan context's `neighbourhoods` before scanning).
    pub fn neighbourhoods(&self) -> std::sync::Arc<Neighbourhoods> {
        std::sync::Arc::clone(&self.neighbourhoods)
    }

    fn allowed(&self, o: &Origin) -> bool {
        self.settings.allow_hosts.iter().any(|a| a.allows(o))
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        *self
            .stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cache, for saving.
    pub fn take_cache(&self) -> Option<Cache> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Validates `findings` in place (sets `validation` on each).
    pub fn validate(&self, findings: &mut [Finding]) {
        let at = Utc::now().rfc3339();
        let mut jobs: Vec<Job> = Vec::new();
        let mut job_of: HashMap<[u8; 32], usize> = HashMap::new();
        let mut assign: Vec<Option<[u8; 32]>> = vec![None; findings.len()];
        let partners = pair_up(findings);
        // Findings that made no request for a reason only this run knows (a host not
        // allow-listed, ids not found next to the secret).
        let mut notes: Vec<Option<Validation>> = vec![None; findings.len()];
        for (i, f) in findings.iter().enumerate() {
            let Some(p) = providers::for_rule(&f.rule_id) else {
                continue;
            };
            let wants = self.neighbourhoods.wants(&f.rule_id);
            let hood = if wants {
                self.neighbourhoods.get(f)
            } else {
                None
            };
            if hood.is_none() && wants {
                // The scanner kept no text for it (its cap was reached, or the finding
                // did not come from a scan): say so rather than blame the text.
                let on_disk = f.git.is_none() && f.path != "<stdin>";
                let needs = match p.check {
                    Check::Http(_) => false,
                    Check::GcpServiceAccount => !on_disk,
                    _ => true,
                };
                if needs {
                    notes[i] = Some(Validation::new(
                        Status::Unknown,
                        p.id,
                        "the text around this finding is not available (a scan keeps it for \
                         up to 10,000 findings; a rotation re-reads the value alone); not \
                         checked",
                        &at,
                    ));
                    continue;
                }
            }
            let hood_text = hood.as_ref().map_or(&[][..], Secret::expose);
            let mut base: Option<String> = None;
            let mut aux = String::new();
            let held_a: Secret;
            let held_b: Secret;
            let (which, a, b) = match (&p.check, p.pair) {
                (Check::None(_), _) => continue,
                (Check::GcpServiceAccount, _) => {
                    match gcp_key_file(f).or_else(|| gcp_key_text(hood_text, f)) {
                        Some((pem, email)) => {
                            held_a = pem;
                            held_b = email;
                            aux = String::from_utf8_lossy(f.secret.expose()).into_owned();
                            (Which::Main, &held_a, Some(&held_b))
                        }
                        None => continue,
                    }
                }
                (Check::BasicAuthUrl, _) => {
                    let Some((user, o)) = context::userinfo_url(hood_text, f.secret.expose())
                    else {
                        notes[i] = Some(Validation::new(
                            Status::Unknown,
                            p.id,
                            "not an http(s) URL with a user name: nothing to ask",
                            &at,
                        ));
                        continue;
                    };
                    if !self.allowed(&o) {
                        notes[i] = Some(not_allowed(p.id, &o, &at));
                        continue;
                    }
                    base = Some(o.base());
                    held_b = Secret::new(user.into_bytes());
                    (Which::Main, &f.secret, Some(&held_b))
                }
                (Check::AzureClientCredentials, _) => {
                    let tenant = context::labelled_guid(hood_text, AZURE_TENANT_LABELS);
                    let client = context::labelled_guid(hood_text, AZURE_CLIENT_LABELS);
                    let (Some(tenant), Some(client)) = (tenant, client) else {
                        notes[i] = Some(Validation::new(
                            Status::Unknown,
                            p.id,
                            "needs the tenant id and the client (application) id next to the \
                             secret (AZURE_TENANT_ID / AZURE_CLIENT_ID, tenantId / clientId, \
                             ...); not found",
                            &at,
                        ));
                        continue;
                    };
                    aux = tenant;
                    held_b = Secret::new(client.into_bytes());
                    (Which::Main, &f.secret, Some(&held_b))
                }
                (_, None) => {
                    if let (Some(prefix), false) = (
                        providers::self_hosted(p.id),
                        self.settings.endpoints.contains_key(p.id),
                    ) {
                        let near = context::origins(hood_text);
                        if let Some(o) = near.iter().find(|o| self.allowed(o)) {
                            base = Some(format!("{}{prefix}", o.base()));
                        } else if let (None, Some(o)) = (p.base, near.first()) {
                            notes[i] = Some(not_allowed(p.id, o, &at));
                            continue;
                        }
                    }
                    (Which::Main, &f.secret, None)
                }
                (_, Some(pair)) => {
                    let first = pair.first.contains(&f.rule_id.as_str());
                    let other = partners[i].map(|j| &findings[j].secret);
                    match (first, other) {
                        (true, Some(o)) => (Which::Main, &f.secret, Some(o)),
                        (false, Some(o)) => (Which::Main, o, Some(&f.secret)),
                        (true, None) if pair.first_alone.is_some() => {
                            (Which::FirstAlone, &f.secret, None)
                        }
                        _ => continue,
                    }
                }
            };
            let key = job_key(p, which, a, b, base.as_deref(), &aux);
            assign[i] = Some(key);
            if let std::collections::hash_map::Entry::Vacant(slot) = job_of.entry(key) {
                let done = self
                    .done
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if done.contains_key(&key) {
                    continue;
                }
                drop(done);
                slot.insert(jobs.len());
                jobs.push(Job {
                    provider: p,
                    spec: which,
                    a: a.clone(),
                    b: b.cloned(),
                    cache_key: cache_key(
                        &self.settings.salt,
                        p,
                        which,
                        a,
                        b,
                        base.as_deref(),
                        &aux,
                    ),
                    aux,
                    base,
                });
            }
        }
        let results = self.run_jobs(&jobs);
        {
            let mut done = self
                .done
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (key, idx) in &job_of {
                if let Some(v) = results.get(*idx) {
                    done.insert(*key, v.clone());
                }
            }
        }
        let done = self
            .done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (i, f) in findings.iter_mut().enumerate() {
            if let Some(v) = assign[i].and_then(|k| done.get(&k)) {
                f.validation = Some(v.clone());
                continue;
            }
            if let Some(v) = notes[i].take() {
                f.validation = Some(v);
                continue;
            }
            f.validation = Some(unvalidated(f, partners[i].is_some(), &at));
        }
    }

    fn run_jobs(&self, jobs: &[Job]) -> Vec<Validation> {
        let now = cache::unix_now();
        let mut results: Vec<Option<Validation>> = vec![None; jobs.len()];
        {
            let cache = self
                .cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(c) = cache.as_ref() {
                let mut hits = 0;
                for (r, j) in results.iter_mut().zip(jobs) {
                    if let Some(v) = c.get(&j.cache_key, now) {
                        *r = Some(v.clone());
                        hits += 1;
                    }
                }
                self.stats
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .cached += hits;
            }
        }
        let todo: Vec<usize> = (0..jobs.len()).filter(|&i| results[i].is_none()).collect();
        let out: Vec<Mutex<Option<Validation>>> =
            (0..jobs.len()).map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let workers = self.settings.workers.clamp(1, 64).min(todo.len().max(1));
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = todo.get(n) else { break };
                    let v = self.run_job(&jobs[i]);
                    *out[i]
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(v);
                });
            }
        });
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut stats = self
            .stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        stats.unique += jobs.len() as u64;
        for i in todo {
            let v = out[i]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if let (Some(c), Some(v)) = (cache.as_mut(), v.as_ref()) {
                c.put(jobs[i].cache_key.clone(), v, now);
            }
            results[i] = v;
        }
        results
            .into_iter()
            .map(|v| {
                v.unwrap_or_else(|| Validation::new(Status::Error, "", "internal: no result", ""))
            })
            .collect()
    }

    /// One credential: the request, its retries, the verdict.
    fn run_job(&self, job: &Job) -> Validation {
        let p = job.provider;
        let at = || Utc::now().rfc3339();
        let base =
            match self.settings.endpoints.get(p.id).or(job.base.as_ref()) {
                Some(b) => b.trim_end_matches('/').to_string(),
                None => {
                    match p.base {
                        Some(b) => b.to_string(),
                        None => {
                            return Validation::new(
                                Status::Unknown,
                                p.id,
                                format!(
                            "no fixed API host: name yours with --validate-endpoint {}=URL{}",
                            p.id,
                            if p.id == "vault" { " (or VAULT_ADDR / BAO_ADDR)" } else { "" }
                        ),
                                &at(),
                            )
                        }
                    }
                }
            };
        // The second part of an Azure or URL credential is public (client id, user name):
        // provider text that names it is not scrubbed.
        let public_b = matches!(p.check, Check::AzureClientCredentials | Check::BasicAuthUrl);
        let secrets: Vec<&[u8]> = std::iter::once(job.a.expose())
            .chain(job.b.as_ref().filter(|_| !public_b).map(Secret::expose))
            .collect();
        // A service-account key is a PEM block that only goes into a signature; an Azure
        // secret goes into a form body, percent-encoded.
        let in_request = !matches!(
            p.check,
            Check::GcpServiceAccount | Check::AzureClientCredentials
        );
        if in_request && secrets.iter().any(|s| !header_safe(s)) {
            return Validation::new(
                Status::Unknown,
                p.id,
                "the value holds characters no request can carry",
                &at(),
            );
        }
        let limiter = self.limiters.get(p.id);
        let mut last = String::new();
        for attempt in 0..=self.settings.retries {
            let call = match self.build(job, &base) {
                Ok(c) => c,
                Err(msg) => return Validation::new(Status::Unknown, p.id, msg, &at()),
            };
            let answer = {
                let _slot = limiter.acquire();
                self.stats
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .requests += 1;
                self.client.send(&call)
            };
            let backoff = Duration::from_millis(200u64 << attempt.min(6));
            let when = at();
            match answer {
                Err(f) => {
                    last = f.message;
                    if f.kind != ErrorKind::Unavailable {
                        break;
                    }
                    if attempt < self.settings.retries {
                        std::thread::sleep(backoff.min(self.settings.max_wait));
                    }
                }
                Ok(ans) if ans.status == 429 => {
                    let wait = ans.retry_after().unwrap_or(backoff);
                    if wait > self.settings.max_wait {
                        return Validation::new(
                            Status::Error,
                            p.id,
                            format!(
                                "rate-limited (HTTP 429): Retry-After {} s is longer than --validate-max-wait",
                                wait.as_secs()
                            ),
                            &when,
                        );
                    }
                    last = format!(
                        "still rate-limited (HTTP 429) after {} retries",
                        self.settings.retries
                    );
                    if attempt < self.settings.retries {
                        limiter.pause(wait);
                    }
                }
                Ok(ans) if ans.status >= 500 => {
                    last = format!("{}: HTTP {} from the provider", call.what, ans.status);
                    if attempt < self.settings.retries {
                        std::thread::sleep(backoff.min(self.settings.max_wait));
                    }
                }
                Ok(ans) => {
                    let mut v = self.judge(job, &ans, &secrets, &when);
                    self.follow_up(job, &base, &mut v, &secrets);
                    return v;
                }
            }
        }
        Validation::new(Status::Error, p.id, provider_text(&last, &secrets), &at())
    }

    /// The request of `job` against `base`.
    fn build(&self, job: &Job, base: &str) -> Result<Call, String> {
        let p = job.provider;
        let spec = match (p.check, job.spec) {
            (Check::Aws, _) => return Ok(aws_call(base, job)),
            (Check::GcpServiceAccount, _) => return gcp_call(base, job),
            (Check::BasicAuthUrl, _) => return Ok(basic_url_call(base, job, true)),
            (Check::AzureClientCredentials, _) => return Ok(azure_call(base, job)),
            (Check::Http(s), Which::Main) => s,
            (Check::Http(_), Which::FirstAlone) => p
                .pair
                .and_then(|x| x.first_alone)
                .ok_or("internal: no single-key check")?,
            (Check::None(why), _) => return Err(why.to_string()),
        };
        http_call(base, &spec, &job.a, job.b.as_ref())
    }

    /// A second read-only request that completes a live result: GitHub organisations
    /// (`GET /user/orgs`, when the token may read them); for a password in a URL, the
    /// same GET without credentials (a server that answers it too proves nothing).
    fn follow_up(&self, job: &Job, base: &str, v: &mut Validation, secrets: &[&[u8]]) {
        if v.status != Status::Live {
            return;
        }
        let p = job.provider;
        let call = match p.check {
            Check::BasicAuthUrl => basic_url_call(base, job, false),
            Check::Http(_) if p.id == "github" && job.spec == Which::Main => {
                let spec = HttpSpec {
                    path: "/user/orgs?per_page=100",
                    ..match p.check {
                        Check::Http(s) => s,
                        _ => return,
                    }
                };
                match http_call(base, &spec, &job.a, None) {
                    Ok(c) => c,
                    Err(_) => return,
                }
            }
            _ => return,
        };
        let limiter = self.limiters.get(p.id);
        let answer = {
            let _slot = limiter.acquire();
            self.stats
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .requests += 1;
            self.client.send(&call)
        };
        match (p.check, answer) {
            (Check::BasicAuthUrl, Ok(a)) if (200..300).contains(&a.status) => {
                *v = Validation::new(
                    Status::Unknown,
                    p.id,
                    format!(
                        "the server answers HTTP {} without credentials too: cannot tell",
                        a.status
                    ),
                    &v.checked_at,
                );
            }
            (Check::BasicAuthUrl, Ok(a)) => {
                v.detail = format!(
                    "HTTP {} with the credentials, HTTP {} without",
                    v.detail.trim_start_matches("HTTP "),
                    a.status
                );
            }
            (Check::BasicAuthUrl, Err(_)) => {}
            (_, Ok(a)) if a.status == 200 => {
                let orgs: Vec<String> = a
                    .json()
                    .as_array()
                    .map(|l| {
                        l.iter()
                            .filter_map(|o| o["login"].as_str())
                            .map(|o| provider_text(o, secrets))
                            .collect()
                    })
                    .unwrap_or_default();
                let list = if orgs.is_empty() {
                    "none".to_string()
                } else {
                    orgs.join(",")
                };
                v.identity = Some(format!(
                    "{} (orgs: {list})",
                    v.identity.as_deref().unwrap_or("?")
                ));
            }
            (_, Ok(a)) => {
                let note = format!("organisations not readable (HTTP {})", a.status);
                v.detail = if v.detail.is_empty() {
                    note
                } else {
                    format!("{}, {note}", v.detail)
                };
            }
            (_, Err(_)) => {
                let note = "organisations not read (no answer)".to_string();
                v.detail = if v.detail.is_empty() {
                    note
                } else {
                    format!("{}, {note}", v.detail)
                };
            }
        }
    }

    fn judge(&self, job: &Job, ans: &Answer, secrets: &[&[u8]], at: &str) -> Validation {
        let p = job.provider;
        match p.check {
            Check::Aws => judge_aws(ans, secrets, at),
            Check::GcpServiceAccount => judge_gcp(job, ans, secrets, at),
            Check::BasicAuthUrl => judge_basic_url(ans, at),
            Check::AzureClientCredentials => judge_azure(ans, secrets, at),
            Check::Http(main) => {
                let spec = match job.spec {
                    Which::Main => main,
                    Which::FirstAlone => p.pair.and_then(|x| x.first_alone).unwrap_or(main),
                };
                judge_http(p.id, &spec, ans, secrets, at)
            }
            Check::None(why) => Validation::new(Status::Unknown, p.id, why, at),
        }
    }
}

/// The `unknown` result of a finding that made no request.
fn unvalidated(f: &Finding, has_partner: bool, at: &str) -> Validation {
    match providers::for_rule(&f.rule_id) {
        None => Validation::new(
            Status::Unknown,
            "",
            format!("no validator for rule {}", f.rule_id),
            at,
        ),
        Some(p) => match (p.check, p.pair) {
            (Check::None(why), _) => Validation::new(Status::Unknown, p.id, why, at),
            (Check::GcpServiceAccount, _) => Validation::new(
                Status::Unknown,
                p.id,
                "needs the key's client_email and private_key next to this private_key_id \
                 (a service-account key file); not found",
                at,
            ),
            (_, Some(pair)) if !has_partner => Validation::new(
                Status::Unknown,
                p.id,
                format!(
                    "needs {} in the same file (or commit); the other half was not found",
                    pair.what
                ),
                at,
            ),
            _ => Validation::new(Status::Unknown, p.id, "not checked", at),
        },
    }
}

/// For each finding of a paired provider, the nearest finding holding the other half in
/// the same file (and commit, for history).
fn pair_up(findings: &[Finding]) -> Vec<Option<usize>> {
    let mut out = vec![None; findings.len()];
    let mut groups: HashMap<(&str, Option<&str>, &str), Vec<usize>> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        if let Some(p) = providers::for_rule(&f.rule_id).filter(|p| p.pair.is_some()) {
            let commit = f.git.as_ref().map(|g| g.commit.as_str());
            groups.entry((&f.path, commit, p.id)).or_default().push(i);
        }
    }
    for ((_, _, id), members) in groups {
        let Some(pair) = providers::by_id(id).and_then(|p| p.pair) else {
            continue;
        };
        for &i in &members {
            let first = pair.first.contains(&findings[i].rule_id.as_str());
            let best = members
                .iter()
                .copied()
                .filter(|&j| {
                    let r = findings[j].rule_id.as_str();
                    if first {
                        pair.second.contains(&r)
                    } else {
                        pair.first.contains(&r)
                    }
                })
                .min_by_key(|&j| findings[j].offset.abs_diff(findings[i].offset));
            out[i] = best;
        }
    }
    out
}

/// In-memory identity of a credential for one provider check (never written anywhere).
fn job_key(
    p: &Provider,
    which: Which,
    a: &Secret,
    b: Option<&Secret>,
    base: Option<&str>,
    aux: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(p.id.as_bytes());
    h.update([0, u8::from(which == Which::FirstAlone)]);
    h.update(a.expose());
    h.update([0]);
    if let Some(b) = b {
        h.update(b.expose());
    }
    h.update([0]);
    h.update(base.unwrap_or_default().as_bytes());
    h.update([0]);
    h.update(aux.as_bytes());
    h.finalize().into()
}

/// The cache key: a salted fingerprint of provider and credential (as a finding's
/// fingerprint is of rule and secret).
fn cache_key(
    salt: &[u8],
    p: &Provider,
    which: Which,
    a: &Secret,
    b: Option<&Secret>,
    base: Option<&str>,
    aux: &str,
) -> String {
    let mut material = a.expose().to_vec();
    if let Some(b) = b {
        material.push(0);
        material.extend_from_slice(b.expose());
    }
    // Where it was asked and the public part (tenant) tell two results apart too; the
    // keys of earlier runs (neither) are unchanged.
    for extra in [base.unwrap_or_default(), aux] {
        if !extra.is_empty() {
            material.push(0);
            material.extend_from_slice(extra.as_bytes());
        }
    }
    let tag = format!(
        "validation/{}{}",
        p.id,
        if which == Which::FirstAlone {
            "/alone"
        } else {
            ""
        }
    );
    let k = crate::finding::fingerprint::fingerprint(salt, &tag, &material);
    material.zeroize();
    k
}

/// True if every byte can go in a header value or a URL path segment unchanged.
fn header_safe(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| (0x21..0x7f).contains(&b))
}

fn text(s: &Secret) -> String {
    String::from_utf8_lossy(s.expose()).into_owned()
}

/// The request of an HTTP check.
fn http_call(base: &str, spec: &HttpSpec, a: &Secret, b: Option<&Secret>) -> Result<Call, String> {
    let mut headers: Vec<(String, String)> = spec
        .headers
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    let basic = |user: &str, pass: &str| {
        let mut raw = format!("{user}:{pass}");
        let v = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())
        );
        raw.zeroize();
        v
    };
    let mut path = spec.path.to_string();
    let need_b = || b.ok_or_else(|| "internal: the pair's second half is missing".to_string());
    match spec.auth {
        Auth::Bearer => headers.push(("Authorization".into(), format!("Bearer {}", text(a)))),
        Auth::Header(h) => headers.push((h.into(), text(a))),
        Auth::Prefixed(h, pre) => headers.push((h.into(), format!("{pre}{}", text(a)))),
        Auth::BasicUser => headers.push(("Authorization".into(), basic(&text(a), ""))),
        Auth::BasicWith(user) => headers.push(("Authorization".into(), basic(user, &text(a)))),
        Auth::BasicPair => {
            let b = need_b()?;
            headers.push(("Authorization".into(), basic(&text(a), &text(b))));
        }
        Auth::HeaderPair(h1, h2) => {
            let b = need_b()?;
            headers.push((h1.into(), text(a)));
            headers.push((h2.into(), text(b)));
        }
        Auth::InPath => {
            // Percent-encoded so that no character can leave the path segment; `:` (as
            // in Telegram's `123:ABC` tokens) is a legal path character and stays.
            let seg = crate::net::http::encode_component(&text(a)).replace("%3A", ":");
            path = path.replace("{secret}", &seg);
        }
    }
    let body = spec.body.map(|(ct, body)| {
        headers.push(("Content-Type".into(), ct.into()));
        body.as_bytes().to_vec()
    });
    Ok(Call {
        req: Req {
            method: spec.method,
            url: format!("{base}{path}"),
            headers,
            body,
            write: false,
        },
        what: format!(
            "{} {base}{}",
            spec.method,
            spec.path.replace("{secret}", "<token>")
        ),
    })
}

/// STS GetCallerIdentity, SigV4-signed (region us-east-1, the global endpoint's).
fn aws_call(base: &str, job: &Job) -> Call {
    let host = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .unwrap_or(base)
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let payload = b"Action=GetCallerIdentity&Version=2011-06-15".to_vec();
    let now = Utc::now().amz_date();
    let ct = "application/x-www-form-urlencoded; charset=utf-8";
    let creds = Credentials {
        access_key_id: text(&job.a),
        secret_access_key: job.b.clone().unwrap_or_else(|| Secret::new(Vec::new())),
        session_token: None,
    };
    let signed: Vec<(&str, &str)> =
        vec![("content-type", ct), ("host", &host), ("x-amz-date", &now)];
    let auth = authorization(
        &creds,
        &SignInput {
            method: "POST",
            path: "/",
            query: &[],
            headers: &signed,
            payload: &payload,
            region: "us-east-1",
            service: "sts",
            amz_date: &now,
        },
    );
    Call {
        req: Req {
            method: "POST",
            url: format!("{base}/"),
            headers: vec![
                ("Content-Type".into(), ct.into()),
                ("X-Amz-Date".into(), now.clone()),
                ("Authorization".into(), auth),
            ],
            body: Some(payload),
            write: false,
        },
        what: format!("POST {base}/ (sts:GetCallerIdentity)"),
    }
}

/// The private key and client e-mail of the service-account key file that holds `f`
/// (a file on disk, whose `private_key_id` is the finding's secret). Nothing else of the
/// file is used: its `token_uri` is text from the scan and never contacted.
fn gcp_key_file(f: &Finding) -> Option<(Secret, Secret)> {
    if f.git.is_some() || f.path == "<stdin>" {
        return None;
    }
    let meta = std::fs::metadata(&f.path).ok()?;
    if meta.len() > 1 << 20 {
        return None;
    }
    let mut text = std::fs::read(&f.path).ok()?;
    let mut doc: serde_json::Value = serde_json::from_slice(&text).ok()?;
    text.zeroize();
    let out = (|| {
        if doc["private_key_id"].as_str()?.as_bytes() != f.secret.expose() {
            return None;
        }
        let pem = doc["private_key"].as_str()?.as_bytes().to_vec();
        let email = doc["client_email"].as_str()?.as_bytes().to_vec();
        Some((Secret::new(pem), Secret::new(email)))
    })();
    crate::scrub::wipe_json(&mut doc);
    out
}

/// The jwt-bearer grant at `{base}/token`, with an RS256 JWT (audience: that URL, as
/// Google's documentation says for the token endpoint).
fn gcp_call(base: &str, job: &Job) -> Result<Call, String> {
    let signer = crate::net::jwt::RsaSigner::from_pem(job.a.expose())
        .map_err(|e| format!("the key file's private key cannot sign: {e}"))?;
    let email = job.b.as_ref().map(text).unwrap_or_default();
    let kid = job.aux.clone();
    let aud = format!("{base}/token");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut jwt = signer.jwt(
        &serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        &serde_json::json!({
            "iss": email, "aud": aud, "iat": now, "exp": now + 600,
            "scope": "https://www.googleapis.com/auth/cloud-platform",
        }),
    )?;
    let body = format!(
        "grant_type={}&assertion={jwt}",
        crate::net::http::encode_component("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    // The signed assertion is a bearer credential for ten minutes: only the body keeps it.
    jwt.zeroize();
    Ok(Call::form_post(
        aud,
        body,
        format!("POST {base}/token (jwt-bearer)"),
    ))
}

fn judge_gcp(job: &Job, ans: &Answer, secrets: &[&[u8]], at: &str) -> Validation {
    let id = "gcp-service-account";
    let json = ans.json();
    match ans.status {
        200 if json["access_token"].is_string() => {
            let mut v = Validation::new(Status::Live, id, "", at);
            // The e-mail is the key's public half: only the private key is scrubbed.
            v.identity = job
                .b
                .as_ref()
                .map(|e| provider_text(&text(e), &[job.a.expose()]));
            v.scopes = vec!["https://www.googleapis.com/auth/cloud-platform".into()];
            v
        }
        400 | 401 => {
            let code = json["error"].as_str().unwrap_or("refused");
            Validation::new(
                Status::Invalid,
                id,
                format!("HTTP {}: {}", ans.status, provider_text(code, secrets)),
                at,
            )
        }
        s => Validation::new(Status::Error, id, format!("unexpected HTTP {s}"), at),
    }
}

/// Labels of an Azure tenant id next to a client secret (environment variables, JSON
/// and YAML keys, `az ad sp create-for-rbac` output).
const AZURE_TENANT_LABELS: &[&str] = &["tenant", "directory_id", "directoryid"];
/// Labels of the client (application) id.
const AZURE_CLIENT_LABELS: &[&str] = &[
    "client_id",
    "clientid",
    "client-id",
    "appid",
    "app_id",
    "application_id",
    "applicationid",
];

/// The `unknown` result of a credential whose host came from the scanned text and was
/// not allow-listed.
fn not_allowed(id: &str, o: &Origin, at: &str) -> Validation {
    let host = provider_text(&o.authority(), &[]);
    let vault = if id == "vault" {
        " (or name the server with --validate-endpoint vault=URL, VAULT_ADDR or BAO_ADDR)"
    } else {
        ""
    };
    Validation::new(
        Status::Unknown,
        id,
        format!(
            "the host {host} comes from the scanned text and is not contacted: allow it with \
             --validate-allow-host {host} to check{vault}"
        ),
        at,
    )
}

/// A service-account key's private key and client e-mail, read from the text around
/// its `private_key_id` (history, standard input, or a file too large to re-read). Only
/// these two fields are used: the text's `token_uri` is never contacted.
fn gcp_key_text(text: &[u8], f: &Finding) -> Option<(Secret, Secret)> {
    let secret = f.secret.expose();
    let at = text
        .windows(secret.len().max(1))
        .position(|w| w == secret)?;
    let mut id = context::json_string_field(text, "private_key_id", at.saturating_sub(64))?;
    let same = id == secret;
    id.zeroize();
    if !same {
        return None;
    }
    let pem = context::json_string_field(text, "private_key", at)?;
    let Some(email) = context::json_string_field(text, "client_email", at) else {
        let mut pem = pem;
        pem.zeroize();
        return None;
    };
    Some((Secret::new(pem), Secret::new(email)))
}

/// GET of the origin of a URL that held a password: with basic auth (`user` is the
/// job's second part), or `anonymous` to see whether the server asks for credentials.
fn basic_url_call(base: &str, job: &Job, with_auth: bool) -> Call {
    let mut headers = Vec::new();
    if with_auth {
        // User info is percent-encoded in a URL; basic auth carries it decoded.
        let mut raw = job
            .b
            .as_ref()
            .map(|u| context::percent_decode(u.expose()))
            .unwrap_or_default();
        raw.push(b':');
        let mut pw = context::percent_decode(job.a.expose());
        raw.extend_from_slice(&pw);
        pw.zeroize();
        headers.push((
            "Authorization".to_string(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(&raw)
            ),
        ));
        raw.zeroize();
    }
    Call {
        req: Req {
            method: "GET",
            url: format!("{base}/"),
            headers,
            body: None,
            write: false,
        },
        what: format!("GET {base}/"),
    }
}

/// 2xx: the server let the credentials in (confirmed by the anonymous follow-up); 401:
/// refused; a redirect is never followed and tells nothing.
fn judge_basic_url(ans: &Answer, at: &str) -> Validation {
    let id = "basic-auth-url";
    match ans.status {
        200..=299 => Validation::new(Status::Live, id, format!("HTTP {}", ans.status), at),
        401 => Validation::new(
            Status::Invalid,
            id,
            "HTTP 401: the server refused the user name and password",
            at,
        ),
        300..=399 => Validation::new(
            Status::Error,
            id,
            format!(
                "HTTP {}: a redirect, not followed (it may lead to another host); cannot tell",
                ans.status
            ),
            at,
        ),
        s => Validation::new(Status::Error, id, format!("unexpected HTTP {s}"), at),
    }
}

/// The client-credentials grant at `{base}/{tenant}/oauth2/v2.0/token`, for Microsoft
/// Graph's `.default` scope (the secret and ids in the form body, never in the URL).
fn azure_call(base: &str, job: &Job) -> Call {
    use crate::net::http::encode_component as enc;
    let client = job.b.as_ref().map(text).unwrap_or_default();
    let mut secret = text(&job.a);
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
        enc(&client),
        enc(&secret),
        enc("https://graph.microsoft.com/.default")
    );
    secret.zeroize();
    Call::form_post(
        format!("{base}/{}/oauth2/v2.0/token", job.aux),
        body,
        format!("POST {base}/<tenant>/oauth2/v2.0/token (client_credentials)"),
    )
}

/// Entra ID error codes that mean the credential does not work: invalid secret, app not
/// found in the tenant, tenant not found, expired secret.
const AZURE_INVALID: &[(u64, &str)] = &[
    (7_000_215, "invalid client secret"),
    (700_016, "application not found in the tenant"),
    (90_002, "tenant not found"),
    (7_000_222, "client secret expired"),
];

/// 200 with an access token: live, identity from its claims (read, not verified, and
/// dropped); the documented AADSTS codes above: invalid; anything else: error.
fn judge_azure(ans: &Answer, secrets: &[&[u8]], at: &str) -> Validation {
    let id = "azure";
    let json = ans.json();
    if ans.status == 200 {
        let Some(token) = json["access_token"].as_str() else {
            return Validation::new(Status::Error, id, "HTTP 200 without an access token", at);
        };
        let mut claims = jwt_claims(token);
        let mut v = Validation::new(Status::Live, id, "", at);
        v.identity = claims["appid"]
            .as_str()
            .or_else(|| claims["azp"].as_str())
            .map(|a| provider_text(a, secrets));
        if let Some(t) = claims["tid"].as_str() {
            v.detail = format!("tenant {}", provider_text(t, secrets));
        }
        if let Some(roles) = claims["roles"].as_array() {
            v.scopes = roles
                .iter()
                .filter_map(|r| r.as_str())
                .map(|r| provider_text(r, secrets))
                .collect();
        }
        crate::scrub::wipe_json(&mut claims);
        return v;
    }
    let codes: Vec<u64> = json["error_codes"]
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_u64).collect())
        .unwrap_or_default();
    if let Some((code, what)) = AZURE_INVALID.iter().find(|(c, _)| codes.contains(c)) {
        return Validation::new(
            Status::Invalid,
            id,
            format!("HTTP {}: AADSTS{code}: {what}", ans.status),
            at,
        );
    }
    let first = codes
        .first()
        .map_or_else(|| "no AADSTS code".to_string(), |c| format!("AADSTS{c}"));
    Validation::new(
        Status::Error,
        id,
        format!("unexpected HTTP {} ({first})", ans.status),
        at,
    )
}

/// The claims of a JWT, decoded without verifying the signature (the token came
/// straight from the issuer over TLS; it is read for the identity and dropped).
fn jwt_claims(token: &str) -> serde_json::Value {
    let Some(payload) = token.split('.').nth(1) else {
        return serde_json::Value::Null;
    };
    let Ok(mut raw) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
    else {
        return serde_json::Value::Null;
    };
    let v = serde_json::from_slice(&raw).unwrap_or(serde_json::Value::Null);
    raw.zeroize();
    v
}

/// The text of the first `<tag>` element of an XML answer.
fn xml_tag<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim())
}

fn judge_aws(ans: &Answer, secrets: &[&[u8]], at: &str) -> Validation {
    let body = String::from_utf8_lossy(&ans.body);
    match ans.status {
        200 => {
            let mut v = Validation::new(Status::Live, "aws", "", at);
            v.identity = xml_tag(&body, "Arn").map(|s| provider_text(s, secrets));
            if let Some(acct) = xml_tag(&body, "Account") {
                v.detail = format!("account {}", provider_text(acct, secrets));
            }
            v
        }
        // The signature was accepted and a policy (an SCP) denied the call: the key works.
        403 if xml_tag(&body, "Code") == Some("AccessDenied") => Validation::new(
            Status::Live,
            "aws",
            "authenticated; GetCallerIdentity denied by a policy",
            at,
        ),
        400 | 401 | 403 => {
            let code = xml_tag(&body, "Code").unwrap_or("refused");
            Validation::new(
                Status::Invalid,
                "aws",
                format!("HTTP {}: {}", ans.status, provider_text(code, secrets)),
                at,
            )
        }
        s => Validation::new(
            Status::Error,
            "aws",
            format!("unexpected HTTP {s} from STS"),
            at,
        ),
    }
}

/// The string form of a JSON value (strings, numbers, booleans).
fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn judge_http(id: &str, spec: &HttpSpec, ans: &Answer, secrets: &[&[u8]], at: &str) -> Validation {
    let s = ans.status;
    if spec.invalid.contains(&s) {
        return Validation::new(
            Status::Invalid,
            id,
            format!("HTTP {s}: the provider refused the credential"),
            at,
        );
    }
    let limited = spec.limited.contains(&s);
    if !(limited || spec.live.contains(&s)) {
        return Validation::new(Status::Error, id, format!("unexpected HTTP {s}"), at);
    }
    let json = ans.json();
    if let Some(ptr) = spec.ok_pointer.filter(|_| !limited) {
        if json.pointer(ptr) != Some(&serde_json::Value::Bool(true)) {
            let why = spec
                .error_pointer
                .and_then(|e| json.pointer(e))
                .and_then(scalar)
                .map_or_else(
                    || format!("{ptr} is not true"),
                    |e| provider_text(&e, secrets),
                );
            return Validation::new(Status::Invalid, id, format!("refused: {why}"), at);
        }
    }
    let mut v = Validation::new(Status::Live, id, "", at);
    let ident: Vec<String> = spec
        .identity
        .iter()
        .filter_map(|p| json.pointer(p).and_then(scalar))
        .map(|x| provider_text(&x, secrets))
        .collect();
    if !ident.is_empty() {
        v.identity = Some(ident.join(" / "));
    }
    if let Some(h) = spec.scopes_header.and_then(|h| ans.header(h)) {
        v.scopes = h
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(|x| provider_text(x, secrets))
            .collect();
    } else if let Some(val) = spec.scopes_pointer.and_then(|p| json.pointer(p)) {
        v.scopes = match val {
            serde_json::Value::Array(a) => a.iter().filter_map(scalar).collect(),
            serde_json::Value::String(s) => s
                .split([' ', ','])
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
            serde_json::Value::Object(o) => o.keys().cloned().collect(),
            _ => Vec::new(),
        };
        v.scopes = v.scopes.iter().map(|x| provider_text(x, secrets)).collect();
    }
    let mut facts: Vec<String> = spec
        .details
        .iter()
        .filter_map(|(label, p)| {
            json.pointer(p)
                .and_then(scalar)
                .map(|x| format!("{label} {}", provider_text(&x, secrets)))
        })
        .collect();
    if limited {
        facts.insert(
            0,
            format!("authenticated; this call is not permitted (HTTP {s})"),
        );
    }
    v.detail = facts.join(", ");
    v
}

/// Counts findings by validation status (for the summary).
pub fn count(findings: &[Finding]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for f in findings {
        if let Some(v) = &f.validation {
            *m.entry(v.status.as_str().to_string()).or_default() += 1;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked() {
        assert!(check_endpoint("github", "https://ghe.example.com/api/v3").is_ok());
        assert!(check_endpoint("vault", "http://127.0.0.1:8200").is_ok());
        assert!(check_endpoint("nope", "https://x")
            .unwrap_err()
            .contains("unknown provider"));
        assert!(check_endpoint("github", "ftp://x")
            .unwrap_err()
            .contains("http://"));
        assert!(check_endpoint("github", "https://u:p@x")
            .unwrap_err()
            .contains("user:password"));
        assert!(check_endpoint("pypi", "https://x")
            .unwrap_err()
            .contains("no request"));
    }

    #[test]
    fn aws_answers_are_read() {
        let ok = Answer {
            status: 200,
            headers: vec![],
            body: b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>".to_vec(),
        };
        let v = judge_aws(&ok, &[], "t");
        assert_eq!(v.status, Status::Live);
        assert_eq!(
            v.identity.as_deref(),
            Some("arn:aws:iam::123456789012:user/ci")
        );
        assert_eq!(v.detail, "account 123456789012");
        let bad = Answer {
            status: 403,
            headers: vec![],
            body:
                b"<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>"
                    .to_vec(),
        };
        let v = judge_aws(&bad, &[], "t");
        assert_eq!(
            (v.status, v.detail.as_str()),
            (Status::Invalid, "HTTP 403: SignatureDoesNotMatch")
        );
    }

    #[test]
    fn provider_text_that_echoes_the_credential_is_scrubbed() {
        let spec = providers::by_id("slack").unwrap();
        let Check::Http(s) = spec.check else { panic!() };
        let ans = Answer {
            status: 200,
            headers: vec![],
            body: br#"{"ok":false,"error":"bad token xoxb-canary-1234"}"#.to_vec(),
        };
        let v = judge_http("slack", &s, &ans, &[b"xoxb-canary-1234"], "t");
        assert_eq!(v.status, Status::Invalid);
        assert!(!v.detail.contains("canary"), "{}", v.detail);
    }
}
