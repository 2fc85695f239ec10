//! RSA signing for cloud authentication: PEM private keys, RSASSA-PKCS1-v1_5 with SHA-256
//! (the algorithm of both OCI request signatures and RS256 JWTs), and the compact JWT form
//! Google's service-account token exchange expects.
//!
//! Signing uses `ring`, which `ureq`'s TLS stack already builds: constant-time,
//! assembly-backed (fast in debug builds too), and without the timing advisory of the
//! pure-Rust `rsa` crate. Keys are read from PEM (`PRIVATE KEY` = PKCS#8, `RSA PRIVATE
//! KEY` = PKCS#1); encrypted keys are refused with a message that says how to decrypt.

use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use zeroize::Zeroize;

use super::b64url;

/// An RSA private key ready to sign.
pub struct RsaSigner {
    key: RsaKeyPair,
}

impl std::fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaSigner(<private key>)")
    }
}

impl RsaSigner {
    /// Parses a PEM private key. The error says what is wrong, never the key.
    pub fn from_pem(pem: &[u8]) -> Result<RsaSigner, String> {
        let text = std::str::from_utf8(pem).map_err(|_| "the key file is not PEM text")?;
        if text.contains("ENCRYPTED") {
            return Err(
                "the private key is encrypted (pass phrase): decrypt a copy with \
                        `openssl pkey -in KEY -out KEY.plain` kept mode 0600, and point the \
                        config at it"
                    .into(),
            );
        }
        let (label, mut der) = super::pem_blocks(text.as_bytes())
            .into_iter()
            .next()
            .ok_or(
                "no PEM private key found (expected -----BEGIN PRIVATE KEY----- or \
             -----BEGIN RSA PRIVATE KEY-----)",
            )?;
        let key = match label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            other => {
                der.zeroize();
                return Err(format!(
                    "the PEM block is {other:?}, not an RSA private key"
                ));
            }
        };
        der.zeroize();
        let key = key.map_err(|e| {
            format!(
                "the private key was rejected ({e}): it must be an RSA key of 2048 bits or more"
            )
        })?;
        Ok(RsaSigner { key })
    }

    /// RSASSA-PKCS1-v1_5 SHA-256 signature of `msg`.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, String> {
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                msg,
                &mut sig,
            )
            .map_err(|_| "RSA signing failed".to_string())?;
        Ok(sig)
    }

    /// A compact RS256 JWT over `header` and `claims` (JSON objects).
    pub fn jwt(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> Result<String, String> {
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let sig = self.sign(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", b64url(&sig)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_encrypted_and_non_keys() {
        let e = RsaSigner::from_pem(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .unwrap_err();
        assert!(e.contains("encrypted"), "{e}");
        let e = RsaSigner::from_pem(b"hello").unwrap_err();
        assert!(e.contains("no PEM private key"), "{e}");
        let e =
            RsaSigner::from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .unwrap_err();
        assert!(e.contains("CERTIFICATE"), "{e}");
    }
}
