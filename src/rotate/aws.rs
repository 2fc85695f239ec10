//! AWS Secrets Manager backend (JSON protocol 1.1, SigV4-signed).
//!
//! - **locate** pages through `ListSecrets`, reads each secret's `AWSCURRENT` value and
//!   compares, in memory and in constant time, the whole `SecretString`, each top-level
//!   string field when it is a JSON object (`{"password": ...}` is the common shape), and
//!   a `SecretBinary`.
//! - **rotate** writes a new version with `PutSecretValue`: the new version gets
//!   `AWSCURRENT` and the old one `AWSPREVIOUS` (kept for rollback). Its
//!   `ClientRequestToken` is a UUID derived from the idempotency key, so a retried request
//!   cannot create a second version. When the secret has a rotation function
//!   (`RotationLambdaARN`) and `use_rotation_function` is on (the default), leaksweep
//!   asks AWS to run it (`RotateSecret`) instead of writing a value itself.
//! - Errors are classified on the `__type` code, not the status (AWS answers client
//!   errors with 400): `ThrottlingException`, `TooManyRequestsException` and
//!   `RequestLimitExceeded` are throttling; `InternalServiceError` and 5xx are retried.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use super::config::{
    check_locate_limit, default_locate_limit, default_timeout_ms, read_credential, BackendDef,
    CredentialHint,
};
use super::{
    constant_time_eq, Backend, BackendError, ErrorKind, Location, RotateOutcome, RotateStatus,
};
use crate::civil::Utc;
use crate::net::http::{Http, Request};
use crate::net::sigv4::{authorization, Credentials, SignInput};
use crate::scrub::wipe_json;
use crate::secret::Secret;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    region: String,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    access_key_id_env: Option<String>,
    #[serde(default)]
    secret_access_key_env: Option<String>,
    #[serde(default)]
    secret_access_key_file: Option<PathBuf>,
    #[serde(default)]
    session_token_env: Option<String>,
    #[serde(default = "yes")]
    use_rotation_function: bool,
    #[serde(default = "default_wait")]
    rotation_wait_ms: u64,
    #[serde(default = "default_locate_limit")]
    locate_limit: usize,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
}

fn yes() -> bool {
    true
}
fn default_wait() -> u64 {
    60_000
}

/// An AWS Secrets Manager endpoint in one region.
pub struct SecretsManager {
    name: String,
    region: String,
    url: String,
    host: String,
    creds: Credentials,
    cred_source: String,
    use_rotation_function: bool,
    rotation_wait: Duration,
    limit: usize,
    http: Http,
}

/// A parsed `GetSecretValue` answer; wiped on drop.
struct Current {
    version_id: String,
    string: Option<String>,
    binary: Option<Vec<u8>>,
}

impl Drop for Current {
    fn drop(&mut self) {
        self.string.zeroize();
        self.binary.zeroize();
    }
}

/// A `ClientRequestToken` (UUID form) derived from an idempotency key.
pub fn request_token(idempotency_key: &str) -> String {
    let d = Sha256::digest(format!("leaksweep-aws-token\0{idempotency_key}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

impl SecretsManager {
    /// Builds the backend from its config (`kind = "aws-secretsmanager"`).
    pub fn from_def(def: &BackendDef) -> Result<SecretsManager, BackendError> {
        let s: Settings = def.settings()?;
        let cfg = |m: String| BackendError::new(&def.name, ErrorKind::Config, m);
        let id_env = s
            .access_key_id_env
            .clone()
            .unwrap_or_else(|| "AWS_ACCESS_KEY_ID".into());
        let access_key_id = std::env::var(&id_env)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                cfg(format!(
                    "the access key id is read from ${id_env}, which is not set (export it or \
                     set access_key_id_env)"
                ))
            })?;
        let key_file = s.secret_access_key_file.as_ref().map(|p| def.resolve(p));
        let key_env = match (&s.secret_access_key_env, &key_file) {
            (None, None) => Some("AWS_SECRET_ACCESS_KEY".to_string()),
            (e, _) => e.clone(),
        };
        let secret_access_key = read_credential(
            &def.name,
            "secret_access_key",
            key_env.as_deref(),
            key_file.as_deref(),
            CredentialHint::Keys,
        )?;
        let token_env = s
            .session_token_env
            .clone()
            .unwrap_or_else(|| "AWS_SESSION_TOKEN".into());
        let session_token = std::env::var_os(&token_env)
            .filter(|v| !v.is_empty())
            .map(|v| {
                use std::os::unix::ffi::OsStrExt;
                Secret::new(v.as_bytes().to_vec())
            });
        let url = s
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://secretsmanager.{}.amazonaws.com", s.region));
        let url = url.trim_end_matches('/').to_string();
        let host = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| {
                cfg(format!(
                    "endpoint {url:?} must start with https:// (or http:// for a local test server)"
                ))
            })?
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        if s.region.is_empty()
            || !s
                .region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(cfg(format!(
                "region {:?} is not a region name (us-east-1)",
                s.region
            )));
        }
        Ok(SecretsManager {
            name: def.name.clone(),
            region: s.region,
            url,
            host,
            creds: Credentials {
                access_key_id,
                secret_access_key,
                session_token,
            },
            cred_source: format!(
                "${id_env} / {}",
                key_env.map_or_else(
                    || key_file
                        .map(|f| f.display().to_string())
                        .unwrap_or_default(),
                    |e| format!("${e}")
                )
            ),
            use_rotation_function: s.use_rotation_function,
            rotation_wait: Duration::from_millis(s.rotation_wait_ms),
            limit: s.locate_limit,
            http: Http::new(&def.name, Duration::from_millis(s.timeout_ms)),
        })
    }

    fn err(&self, kind: ErrorKind, msg: impl Into<String>) -> BackendError {
        BackendError::new(&self.name, kind, msg)
    }

    /// Calls `secretsmanager.{op}`. `write` marks mutating operations (refused in a dry
    /// run); `subject` names the secret in errors.
    fn call(
        &self,
        op: &str,
        body: &Value,
        write: bool,
        dry_run: bool,
        subject: &str,
    ) -> Result<Value, BackendError> {
        let mut payload = serde_json::to_vec(body).unwrap_or_default();
        let now = Utc::now().amz_date();
        let target = format!("secretsmanager.{op}");
        let content_type = "application/x-amz-json-1.1";
        let token = self
            .creds
            .session_token
            .as_ref()
            .map(|t| String::from_utf8_lossy(t.expose()).into_owned());
        let mut signed: Vec<(&str, &str)> = vec![
            ("content-type", content_type),
            ("host", &self.host),
            ("x-amz-date", &now),
            ("x-amz-target", &target),
        ];
        if let Some(t) = &token {
            signed.push(("x-amz-security-token", t));
        }
        let auth = authorization(
            &self.creds,
            &SignInput {
                method: "POST",
                path: "/",
                query: &[],
                headers: &signed,
                payload: &payload,
                region: &self.region,
                service: "secretsmanager",
                amz_date: &now,
            },
        );
        let mut headers: Vec<(&str, String)> = signed
            .iter()
            .filter(|(k, _)| *k != "host")
            .map(|(k, v)| (*k, (*v).to_string()))
            .collect();
        headers.push(("authorization", auth));
        let url = format!("{}/", self.url);
        let result = self.http.send(&Request {
            method: "POST",
            url: &url,
            headers,
            body: Some(&payload),
            write,
            dry_run,
        });
        payload.zeroize();
        let mut reply = result?;
        let parsed: Option<Value> = serde_json::from_str(&reply.body).ok();
        let xml_code = xml_code(&reply.body);
        reply.body.zeroize();
        if (200..300).contains(&reply.status) {
            return match parsed {
                Some(v @ Value::Object(_)) => Ok(v),
                _ => Err(self.err(
                    ErrorKind::Protocol,
                    format!(
                        "{op}: HTTP {} without a JSON object: is `endpoint` a Secrets Manager \
                         endpoint?",
                        reply.status
                    ),
                )),
            };
        }
        let code = parsed
            .as_ref()
            .and_then(|v| v.get("__type"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or(reply.amz_error_type.clone())
            .or(xml_code)
            .unwrap_or_default();
        let code = code
            .rsplit('#')
            .next()
            .unwrap_or_default()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string();
        let message = parsed
            .as_ref()
            .and_then(|v| v.get("message").or_else(|| v.get("Message")))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some(mut v) = parsed {
            wipe_json(&mut v);
        }
        Err(self.classify(reply.status, &code, &message, op, subject))
    }

    fn classify(
        &self,
        status: u16,
        code: &str,
        message: &str,
        op: &str,
        subject: &str,
    ) -> BackendError {
        let said = if message.is_empty() {
            format!("{code} (HTTP {status})")
        } else {
            format!("{code}: {message}")
        };
        let (kind, hint) = match code {
            "ThrottlingException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "Throttling"
            | "SlowDown" => (ErrorKind::Throttled, "throttled: backing off".to_string()),
            "InternalServiceError" | "InternalFailure" | "ServiceUnavailable" => (
                ErrorKind::Unavailable,
                "AWS-side error: retrying".to_string(),
            ),
            "ResourceNotFoundException" if message.contains("staging label") => (
                ErrorKind::NotFound,
                format!(
                    "{subject} exists but its AWSCURRENT version has no value (a rotation \
                     function that did not finish?): put a value or fix the function"
                ),
            ),
            "ResourceNotFoundException" => (
                ErrorKind::NotFound,
                format!(
                    "no secret {subject:?} in region {}: wrong name/ARN or region",
                    self.region
                ),
            ),
            "AccessDeniedException" | "AccessDenied" => (
                ErrorKind::Permission,
                format!("the IAM principal lacks secretsmanager:{op} on {subject}"),
            ),
            "DecryptionFailure" => (
                ErrorKind::Permission,
                format!("the IAM principal lacks kms:Decrypt on the KMS key of {subject}"),
            ),
            "EncryptionFailure" => (
                ErrorKind::Permission,
                format!("the IAM principal lacks kms:GenerateDataKey on the KMS key of {subject}"),
            ),
            "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature"
            | "MissingAuthenticationToken"
            | "InvalidSignatureException" => (
                ErrorKind::Auth,
                format!(
                    "the credentials in {} are wrong (check the key id and secret key)",
                    self.cred_source
                ),
            ),
            "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" => (
                ErrorKind::Auth,
                "the credentials (or session token) expired, or the clock is off by more than 5 \
                 minutes: refresh them"
                    .to_string(),
            ),
            "ResourceExistsException" => (ErrorKind::Conflict, String::new()),
            "InvalidRequestException" | "InvalidParameterException" | "LimitExceededException" => {
                (ErrorKind::Protocol, String::new())
            }
            _ if status >= 500 => (ErrorKind::Unavailable, "server error: retrying".to_string()),
            _ if status == 429 => (ErrorKind::Throttled, "throttled: backing off".to_string()),
            _ => (crate::net::http::status_kind(status), String::new()),
        };
        let msg = if hint.is_empty() {
            format!("{op} {subject}: {said}")
        } else {
            format!("{op} {subject}: {said} ({hint})")
        };
        self.err(kind, msg)
    }

    fn get_current(&self, id: &str) -> Result<Current, BackendError> {
        let mut v = self.call("GetSecretValue", &json!({"SecretId": id}), false, false, id)?;
        let version_id = v
            .get("VersionId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let string = v
            .get("SecretString")
            .and_then(Value::as_str)
            .map(str::to_string);
        let binary = v
            .get("SecretBinary")
            .and_then(Value::as_str)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
        wipe_json(&mut v);
        if string.is_none() && binary.is_none() {
            return Err(self.err(
                ErrorKind::Protocol,
                format!(
                    "GetSecretValue {id}: the answer has neither SecretString nor SecretBinary"
                ),
            ));
        }
        Ok(Current {
            version_id,
            string,
            binary,
        })
    }

    /// Waits (bounded by `rotation_wait_ms`) until the rotation function has moved
    /// `AWSCURRENT` to `version`: RotateSecret only starts the function.
    fn wait_current(&self, id: &str, version: &str, arn: &str) -> Result<(), BackendError> {
        let started = std::time::Instant::now();
        loop {
            let d = self.call("DescribeSecret", &json!({"SecretId": id}), false, false, id)?;
            let current = d
                .get("VersionIdsToStages")
                .and_then(|m| m.get(version))
                .and_then(Value::as_array)
                .is_some_and(|st| st.iter().any(|x| x.as_str() == Some("AWSCURRENT")));
            if current {
                return Ok(());
            }
            if started.elapsed() >= self.rotation_wait {
                return Err(self.err(
                    ErrorKind::Protocol,
                    format!(
                        "RotateSecret {id}: the rotation function {arn} started version {version} \
                         but it is not AWSCURRENT after {} s (still running, or it failed: check \
                         its logs; raise rotation_wait_ms if it is slow)",
                        self.rotation_wait.as_secs()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(500).min(self.rotation_wait));
        }
    }

    /// The value at `key` of the current version (the whole string when `key` is None).
    fn value_at(&self, cur: &Current, target: &Location) -> Result<Secret, BackendError> {
        match (&target.key, &cur.string, &cur.binary) {
            (None, Some(s), _) => Ok(Secret::new(s.as_bytes().to_vec())),
            (None, None, Some(b)) => Ok(Secret::new(b.clone())),
            (None, None, None) => Err(self.err(
                ErrorKind::Protocol,
                format!("{target}: the current version has no value"),
            )),
            (Some(k), Some(s), _) => {
                let mut obj: Value = serde_json::from_str(s).unwrap_or(Value::Null);
                let out = obj
                    .get(k)
                    .and_then(Value::as_str)
                    .map(|v| Secret::new(v.as_bytes().to_vec()));
                let is_object = obj.is_object();
                wipe_json(&mut obj);
                out.ok_or_else(|| {
                    if is_object {
                        self.err(
                            ErrorKind::NotFound,
                            format!("{target}: the secret has no string key {k:?}"),
                        )
                    } else {
                        self.err(
                            ErrorKind::Config,
                            format!(
                                "{target}: the secret is not a JSON object, so it has no key \
                                 {k:?} (drop #{k} from the target)"
                            ),
                        )
                    }
                })
            }
            (Some(k), None, _) => Err(self.err(
                ErrorKind::Config,
                format!("{target}: a binary secret has no key {k:?}"),
            )),
        }
    }
}

fn xml_code(body: &str) -> Option<String> {
    let start = body.find("<Code>")? + "<Code>".len();
    let end = body.get(start..)?.find("</Code>")? + start;
    body.get(start..end).map(str::to_string)
}

fn matches_value(v: &str, leaked: &[u8]) -> bool {
    constant_time_eq(v.as_bytes(), leaked)
}

impl Backend for SecretsManager {
    fn name(&self) -> &str {
        &self.name
    }

    fn locate(&self, leaked: &Secret) -> Result<Vec<Location>, BackendError> {
        let mut found = Vec::new();
        let mut next: Option<String> = None;
        let mut seen = 0usize;
        loop {
            let mut req = json!({"MaxResults": 100});
            if let Some(t) = &next {
                req["NextToken"] = Value::String(t.clone());
            }
            let page = self.call("ListSecrets", &req, false, false, "(all secrets)")?;
            let names: Vec<String> = page
                .get("SecretList")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.get("Name").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .ok_or_else(|| {
                    self.err(
                        ErrorKind::Protocol,
                        "ListSecrets answered without SecretList",
                    )
                })?;
            for name in names {
                seen += 1;
                check_locate_limit(&self.name, seen, self.limit, "", "")?;
                let cur = match self.get_current(&name) {
                    Ok(c) => c,
                    // Deleted meanwhile, or a secret without a current value.
                    Err(e) if e.kind == ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                let loc = |key: Option<String>| Location {
                    backend: self.name.clone(),
                    path: name.clone(),
                    key,
                };
                if let Some(s) = &cur.string {
                    if matches_value(s, leaked.expose()) {
                        found.push(loc(None));
                    } else if let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(s) {
                        let mut o = Value::Object(obj);
                        if let Value::Object(m) = &o {
                            for (k, v) in m {
                                if let Value::String(v) = v {
                                    if matches_value(v, leaked.expose()) {
                                        found.push(loc(Some(k.clone())));
                                    }
                                }
                            }
                        }
                        wipe_json(&mut o);
                    }
                }
                if let Some(b) = &cur.binary {
                    if constant_time_eq(b, leaked.expose()) {
                        found.push(loc(None));
                    }
                }
            }
            next = page
                .get("NextToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        found.sort();
        found.dedup();
        Ok(found)
    }

    fn rotate(
        &self,
        target: &Location,
        new_value: &Secret,
        idempotency_key: &str,
        dry_run: bool,
    ) -> Result<RotateOutcome, BackendError> {
        let id = target.path.as_str();
        let token = request_token(idempotency_key);
        let desc = self.call("DescribeSecret", &json!({"SecretId": id}), false, false, id)?;
        let lambda = desc
            .get("RotationLambdaARN")
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty())
            .map(str::to_string);
        let cur = self.get_current(id)?;
        if cur.version_id == token {
            return Ok(RotateOutcome {
                status: RotateStatus::AlreadyApplied,
                new_version: Some(token),
                previous_version: None,
            });
        }
        if let (true, Some(arn)) = (self.use_rotation_function, lambda) {
            if dry_run {
                return Ok(RotateOutcome {
                    status: RotateStatus::WouldRotate,
                    new_version: None,
                    previous_version: Some(cur.version_id.clone()),
                });
            }
            let v = self
                .call(
                    "RotateSecret",
                    &json!({"SecretId": id, "ClientRequestToken": token, "RotateImmediately": true}),
                    true,
                    false,
                    id,
                )
                .map_err(|mut e| {
                    if e.kind == ErrorKind::NotFound {
                        e.message = format!(
                            "RotateSecret {id}: the rotation function {arn} was not found or \
                             failed to start (fix the function, or set use_rotation_function = \
                             false to let leaksweep write a new value)"
                        );
                    }
                    e
                })?;
            let new_version = v
                .get("VersionId")
                .and_then(Value::as_str)
                .unwrap_or(token.as_str())
                .to_string();
            self.wait_current(id, &new_version, &arn)?;
            return Ok(RotateOutcome {
                status: RotateStatus::Rotated,
                new_version: Some(new_version),
                previous_version: Some(cur.version_id.clone()),
            });
        }
        let new_text = std::str::from_utf8(new_value.expose()).map_err(|_| {
            self.err(
                ErrorKind::Config,
                "the new value must be UTF-8 for a SecretString",
            )
        })?;
        let mut new_string = match (&target.key, &cur.string) {
            (None, Some(_)) => new_text.to_string(),
            (Some(k), Some(s)) => {
                let mut obj: Value = serde_json::from_str(s).map_err(|_| {
                    self.err(ErrorKind::Config, format!("{target}: the secret is not a JSON object"))
                })?;
                let Some(m) = obj.as_object_mut() else {
                    return Err(self.err(ErrorKind::Config, format!("{target}: the secret is not a JSON object")));
                };
                if !m.get(k).is_some_and(Value::is_string) {
                    wipe_json(&mut obj);
                    return Err(self.err(ErrorKind::NotFound, format!("{target}: the secret has no string key {k:?}")));
                }
                m.insert(k.clone(), Value::String(new_text.to_string()));
                let out = serde_json::to_string(&obj).unwrap_or_default();
                wipe_json(&mut obj);
                out
            }
            (_, None) => {
                return Err(self.err(
                    ErrorKind::Unsupported,
                    format!("{target}: binary secrets are not rotated by leaksweep (rotate it with its owner's tooling)"),
                ))
            }
        };
        if cur
            .string
            .as_deref()
            .is_some_and(|s| constant_time_eq(s.as_bytes(), new_string.as_bytes()))
        {
            new_string.zeroize();
            return Ok(RotateOutcome {
                status: RotateStatus::AlreadyApplied,
                new_version: Some(cur.version_id.clone()),
                previous_version: None,
            });
        }
        if dry_run {
            new_string.zeroize();
            return Ok(RotateOutcome {
                status: RotateStatus::WouldRotate,
                new_version: None,
                previous_version: Some(cur.version_id.clone()),
            });
        }
        let mut body =
            json!({"SecretId": id, "ClientRequestToken": token, "SecretString": new_string});
        new_string.zeroize();
        let result = self.call("PutSecretValue", &body, true, false, id);
        wipe_json(&mut body);
        match result {
            Ok(v) => Ok(RotateOutcome {
                status: RotateStatus::Rotated,
                new_version: v
                    .get("VersionId")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                previous_version: Some(cur.version_id.clone()),
            }),
            Err(e) if e.kind == ErrorKind::Conflict => {
                let now = self.get_current(id)?;
                if now.version_id == token {
                    Ok(RotateOutcome {
                        status: RotateStatus::AlreadyApplied,
                        new_version: Some(token),
                        previous_version: Some(cur.version_id.clone()),
                    })
                } else {
                    Err(self.err(
                        ErrorKind::Conflict,
                        format!(
                            "PutSecretValue {id}: the request token {token} already names another \
                             version (this finding was rotated before and the leaked value was \
                             restored since): rotate it by hand or delete the state entry"
                        ),
                    ))
                }
            }
            Err(e) => Err(e),
        }
    }

    fn verify(&self, target: &Location, leaked: &Secret) -> Result<bool, BackendError> {
        let cur = self.get_current(&target.path)?;
        let v = self.value_at(&cur, target)?;
        Ok(!constant_time_eq(v.expose(), leaked.expose()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_tokens_are_stable_uuids() {
        let a = request_token("lsw1-00ff");
        assert_eq!(a, request_token("lsw1-00ff"));
        assert_ne!(a, request_token("lsw1-00fe"));
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn reads_xml_error_codes() {
        assert_eq!(
            xml_code("<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code>"),
            Some("SignatureDoesNotMatch".into())
        );
    }
}
