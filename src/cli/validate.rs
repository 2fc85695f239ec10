//! `--validate` and the flags that use its results (`--results`, `--fail-on`), shared by
//! `scan` (files, stdin, `--follow`) and `git`. The work is `crate::validation`; this
//! file turns flags and the `[validation]` config table into its settings, and applies
//! the results to the outcome and the exit code.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};

use crate::finding::validation::Status;
use crate::pipeline::ScanOutcome;
use crate::validation::cache::{self, Cache};
use crate::validation::context::AllowHost;
use crate::validation::{check_endpoint, Settings, Validator};

use super::common::Project;
use super::EXIT_CLEAN;

/// Which findings make the exit code non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any reported finding (the default).
    Any,
    /// Only findings whose credential is live (needs --validate).
    Live,
}

/// Validation flags.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Ask each credential's provider, with one read-only request, whether it still
    /// works and what it opens (network access; see docs/validation.md). Off by default:
    /// without it leaksweep opens no connection.
    #[arg(long)]
    pub validate: bool,
    /// Send PROVIDER's credentials to URL instead of its fixed API host (GitHub
    /// Enterprise, self-managed GitLab, a Vault address, a test server); repeatable.
    /// Plain http:// is accepted here only because you named it.
    #[arg(
        long = "validate-endpoint",
        value_name = "PROVIDER=URL",
        requires = "validate"
    )]
    pub endpoints: Vec<String>,
    /// Allow credentials found next to a URL of HOST (or HOST:PORT) to be checked there:
    /// a password in https://user:pass@HOST/, a self-managed GitLab, GitHub Enterprise,
    /// Vault or Shopify URL next to its token; repeatable. Without it, a host taken from
    /// the scanned text is never contacted.
    #[arg(
        long = "validate-allow-host",
        value_name = "HOST[:PORT]",
        requires = "validate"
    )]
    pub allow_hosts: Vec<String>,
    /// Keep results in FILE (mode 0600; no secrets, keyed by salted fingerprints) and
    /// reuse those younger than --validate-cache-ttl.
    #[arg(long = "validate-cache", value_name = "FILE", requires = "validate")]
    pub cache: Option<PathBuf>,
    /// How long a cached result is reused, in seconds.
    #[arg(
        long = "validate-cache-ttl",
        value_name = "SECS",
        default_value_t = 86_400
    )]
    pub cache_ttl: u64,
    /// Per-request timeout, in seconds.
    #[arg(long = "validate-timeout", value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Retries of one request after a 429, a 5xx or a refused connection.
    #[arg(long = "validate-retries", value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// The longest Retry-After honoured, in seconds; a longer one gives `error`.
    #[arg(
        long = "validate-max-wait",
        value_name = "SECS",
        default_value_t = 30.0
    )]
    pub max_wait: f64,
    /// Requests in flight per provider.
    #[arg(long = "validate-concurrency", value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
    /// Requests started per second per provider (0: no limit).
    #[arg(long = "validate-rate", value_name = "N", default_value_t = 20.0)]
    pub rate: f64,
    /// Report only findings with these validation statuses (comma-separated: live,
    /// invalid, unknown, error).
    #[arg(long, value_enum, value_delimiter = ',', requires = "validate")]
    pub results: Vec<Status>,
    /// Exit with the findings code for any finding, or only when a live credential was
    /// found (a CI gate that tolerates dead test keys).
    #[arg(long, value_enum, default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
}

fn secs(flag: &str, v: f64) -> anyhow::Result<Duration> {
    if !(v.is_finite() && v >= 0.0) {
        bail!("{flag} must be a number of seconds, 0 or more");
    }
    Ok(Duration::from_secs_f64(v))
}

impl ValidateArgs {
    /// The validator for this run, or `None` without `--validate`. Checks every endpoint
    /// (flags, config, VAULT_ADDR / BAO_ADDR) and reads the cache before anything is sent.
    pub fn validator(&self, project: &Project, salt: &[u8]) -> anyhow::Result<Option<Validator>> {
        if !self.validate {
            if self.fail_on == FailOn::Live {
                bail!(
                    "--fail-on live needs --validate (without it no finding is known to be live)"
                );
            }
            return Ok(None);
        }
        let mut endpoints: BTreeMap<String, String> = BTreeMap::new();
        // OpenBao's own variable wins over Vault's, as in the `bao` CLI.
        for var in ["VAULT_ADDR", "BAO_ADDR"] {
            if let Some(v) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
                check_endpoint("vault", &v).map_err(|e| anyhow::anyhow!("${var}: {e}"))?;
                endpoints.insert("vault".into(), v);
            }
        }
        let cfg = &project.config;
        for (id, url) in &cfg.config.validation.endpoints {
            check_endpoint(id, url)
                .map_err(|e| anyhow::anyhow!("{}: [validation.endpoints]: {e}", cfg.name()))?;
            endpoints.insert(id.clone(), url.clone());
        }
        for e in &self.endpoints {
            let Some((id, url)) = e.split_once('=') else {
                bail!("--validate-endpoint {e:?}: give PROVIDER=URL (providers: `leaksweep rules providers`)");
            };
            check_endpoint(id, url).map_err(|m| anyhow::anyhow!("--validate-endpoint: {m}"))?;
            endpoints.insert(id.to_string(), url.to_string());
        }
        let mut allow_hosts = Vec::new();
        for h in &cfg.config.validation.allow_hosts {
            allow_hosts.push(
                AllowHost::parse(h).map_err(|e| {
                    anyhow::anyhow!("{}: [validation] allow_hosts: {e}", cfg.name())
                })?,
            );
        }
        for h in &self.allow_hosts {
            allow_hosts.push(
                AllowHost::parse(h).map_err(|e| anyhow::anyhow!("--validate-allow-host: {e}"))?,
            );
        }
        let settings = Settings {
            allow_hosts,
            endpoints,
            timeout: secs("--validate-timeout", self.timeout)?.max(Duration::from_millis(10)),
            retries: self.retries.min(10),
            max_wait: secs("--validate-max-wait", self.max_wait)?,
            concurrency: self.concurrency.max(1),
            rate: if self.rate.is_finite() && self.rate >= 0.0 {
                self.rate
            } else {
                bail!("--validate-rate must be 0 or more")
            },
            workers: 16,
            salt: salt.to_vec(),
        };
        let cache = match &self.cache {
            None => None,
            Some(p) => Some(match std::fs::read_to_string(p) {
                Ok(text) => Cache::parse(&text, self.cache_ttl, cache::unix_now())
                    .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Cache::new(self.cache_ttl),
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("reading validation cache {}", p.display()))
                }
            }),
        };
        Ok(Some(Validator::new(settings, cache)))
    }

    /// Validates the reported findings, counts them by status in the summary, applies
    /// `--results`, saves the cache and says what was done on stderr.
    pub fn apply(
        &self,
        v: &Validator,
        outcome: &mut ScanOutcome,
        quiet: bool,
    ) -> anyhow::Result<()> {
        v.validate(&mut outcome.findings);
        self.conclude(v, outcome, quiet)
    }

    /// After validation (here, or repository by repository in a sweep): counts the
    /// findings by status in the summary, applies `--results`, saves the cache and says
    /// what was done on stderr.
    pub fn conclude(
        &self,
        v: &Validator,
        outcome: &mut ScanOutcome,
        quiet: bool,
    ) -> anyhow::Result<()> {
        outcome.summary.validation = crate::validation::count(&outcome.findings);
        if !self.results.is_empty() {
            outcome.findings.retain(|f| {
                f.validation
                    .as_ref()
                    .is_some_and(|x| self.results.contains(&x.status))
            });
            outcome.regroup();
        }
        self.save_cache(v)?;
        if !quiet {
            let s = v.stats();
            eprintln!(
                "leaksweep: validation: {} unique credential{} checked, {} request{}, {} from cache",
                s.unique,
                if s.unique == 1 { "" } else { "s" },
                s.requests,
                if s.requests == 1 { "" } else { "s" },
                s.cached
            );
        }
        Ok(())
    }

    /// Writes the cache file (mode 0600), if one was named.
    pub fn save_cache(&self, v: &Validator) -> anyhow::Result<()> {
        if let (Some(path), Some(c)) = (&self.cache, v.take_cache()) {
            use std::io::Write as _;
            let mut f = crate::private_fs::create(path)
                .with_context(|| format!("creating validation cache {}", path.display()))?;
            f.write_all(c.to_json().as_bytes())
                .with_context(|| format!("writing validation cache {}", path.display()))?;
        }
        Ok(())
    }

    /// The exit code with `--fail-on`: `live` turns the findings code into 0 when no
    /// reported credential is live (errors keep theirs).
    pub fn exit_code(&self, code: i32, outcome: &ScanOutcome, findings_code: i32) -> i32 {
        let live = outcome.findings.iter().any(|f| {
            f.validation
                .as_ref()
                .is_some_and(|v| v.status == Status::Live)
        });
        if self.fail_on == FailOn::Live
            && code == findings_code
            && !live
            && outcome.errors.is_empty()
        {
            EXIT_CLEAN
        } else {
            code
        }
    }
}
