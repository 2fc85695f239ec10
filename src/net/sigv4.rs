//! AWS Signature Version 4 request signing (header form), hand-written on `hmac`/`sha2`.
//!
//! Why not the `aws-sigv4` crate: it pulls in the smithy runtime (`aws-smithy-*`, `http`,
//! `time`, ...) for ~150 lines of HMAC chaining that `hmac` and `sha2` (already
//! dependencies) do. Correctness is pinned by AWS's published Signature V4 test-suite
//! vectors, a golden vector produced by botocore for a Secrets Manager request, and the
//! integration tests against moto in its signature-checking mode.
//!
//! Scope: header signing with a signed payload hash, the way every JSON-protocol service
//! (Secrets Manager) is called. The secret access key only ever enters the HMAC.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// AWS credentials. The secret key is a [`Secret`] (redacted, wiped on drop).
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Access key id (`AKIA...`, `ASIA...`); not secret on its own.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Session token for temporary credentials.
    pub session_token: Option<Secret>,
}

/// What is signed.
pub struct SignInput<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Absolute path, already percent-encoded as it goes on the wire (`/`).
    pub path: &'a str,
    /// Query pairs, unencoded.
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign (name, value); must include `host` and `x-amz-date`.
    pub headers: &'a [(&'a str, &'a str)],
    /// Request body.
    pub payload: &'a [u8],
    /// Region (`us-east-1`).
    pub region: &'a str,
    /// Service signing name (`secretsmanager`).
    pub service: &'a str,
    /// `YYYYMMDDTHHMMSSZ`, equal to the `x-amz-date` header.
    pub amz_date: &'a str,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn uri_encode(s: &str) -> String {
    super::http::encode_component(s)
}

/// The canonical request (exposed for tests).
pub fn canonical_request(input: &SignInput<'_>) -> (String, String) {
    let mut query: Vec<(String, String)> = input
        .query
        .iter()
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(k, v)| {
            let collapsed = v.split_whitespace().collect::<Vec<_>>().join(" ");
            (k.to_ascii_lowercase(), collapsed)
        })
        .collect();
    // Stable sort on the name only: repeated headers keep their order, joined by commas.
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut merged: Vec<(String, String)> = Vec::new();
    for (k, v) in headers {
        match merged.last_mut() {
            Some((lk, lv)) if *lk == k => {
                lv.push(',');
                lv.push_str(&v);
            }
            _ => merged.push((k, v)),
        }
    }
    let canonical_headers: String = merged.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed: String = merged
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let path = if input.path.is_empty() {
        "/"
    } else {
        input.path
    };
    let req = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        path,
        query,
        canonical_headers,
        signed,
        sha256_hex(input.payload)
    );
    (req, signed)
}

/// The `Authorization` header value.
pub fn authorization(creds: &Credentials, input: &SignInput<'_>) -> String {
    let (creq, signed) = canonical_request(input);
    let date = input.amz_date.get(..8).unwrap_or(input.amz_date);
    let scope = format!("{date}/{}/{}/aws4_request", input.region, input.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        input.amz_date,
        sha256_hex(creq.as_bytes())
    );
    let mut k_secret = b"AWS4".to_vec();
    k_secret.extend_from_slice(creds.secret_access_key.expose());
    let k_date = hmac(&k_secret, date.as_bytes());
    zeroize::Zeroize::zeroize(&mut k_secret);
    let k_region = hmac(&k_date, input.region.as_bytes());
    let k_service = hmac(&k_region, input.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex::encode(hmac(&k_signing, to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
        creds.access_key_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // AWS's Signature Version 4 test suite: the documented example credentials and date.
    fn suite_creds() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new(b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_vec()),
            session_token: None,
        }
    }

    fn suite(method: &str, headers: &[(&str, &str)], query: &[(&str, &str)]) -> String {
        authorization(
            &suite_creds(),
            &SignInput {
                method,
                path: "/",
                query,
                headers,
                payload: b"",
                region: "us-east-1",
                service: "service",
                amz_date: "20150830T123600Z",
            },
        )
    }

    const HOST: (&str, &str) = ("Host", "example.amazonaws.com");
    const DATE: (&str, &str) = ("X-Amz-Date", "20150830T123600Z");

    #[test]
    fn aws_suite_get_vanilla() {
        assert_eq!(
            suite("GET", &[HOST, DATE], &[]),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn aws_suite_post_vanilla() {
        assert!(suite("POST", &[HOST, DATE], &[]).ends_with(
            "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        ));
    }

    #[test]
    fn aws_suite_get_header_key_duplicate() {
        let got = suite(
            "GET",
            &[
                HOST,
                ("My-Header1", "value2"),
                ("My-Header1", "value2"),
                ("My-Header1", "value1"),
                DATE,
            ],
            &[],
        );
        assert!(
            got.ends_with(
                "SignedHeaders=host;my-header1;x-amz-date, \
                 Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"
            ),
            "{got}"
        );
    }

    #[test]
    fn aws_suite_get_vanilla_query_order_key_case() {
        let got = suite(
            "GET",
            &[HOST, DATE],
            &[("Param2", "value2"), ("Param1", "value1")],
        );
        assert!(
            got.ends_with(
                "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
            ),
            "{got}"
        );
    }

    /// Golden vector computed by botocore's `SigV4Auth` for the exact request shape the
    /// Secrets Manager backend sends (JSON 1.1 target, session token, host with a port).
    #[test]
    fn botocore_secretsmanager_with_session_token() {
        let creds = Credentials {
            session_token: Some(Secret::new(b"session-token-value".to_vec())),
            ..suite_creds()
        };
        let got = authorization(
            &creds,
            &SignInput {
                method: "POST",
                path: "/",
                query: &[],
                headers: &[
                    ("content-type", "application/x-amz-json-1.1"),
                    ("host", "127.0.0.1:5000"),
                    ("x-amz-date", "20261123T120704Z"),
                    ("x-amz-security-token", "session-token-value"),
                    ("x-amz-target", "secretsmanager.GetSecretValue"),
                ],
                payload: br#"{"SecretId":"prod/app/db"}"#,
                region: "us-east-1",
                service: "secretsmanager",
                amz_date: "20261123T120704Z",
            },
        );
        assert_eq!(
            got,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/secretsmanager/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
             Signature=97080c133224da4cdd6cea97af20b95710a4508928812677a3628a1286d7bf13"
        );
    }
}
