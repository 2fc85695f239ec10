//! What a value *is*, by its shape, for the rules that only know a value by its context
//! (generic assignments, query parameters, JSON fields).
//!
//! A name such as `token` or `api_key` says "a secret may follow"; the value's shape can
//! overrule it. Four answers, from most to least certain:
//! - **dead**: a provider format with a checksum (GitHub `gh*_`, npm `npm_`) whose
//!   checksum fails: a fake or mangled token, which no rule reports, generic ones included;
//! - **public**: an identifier published by design (a UUID, a Stripe publishable key, a
//!   Twilio account SID, a Google OAuth client id, an Ethereum address, a Docker digest, a
//!   Subresource-Integrity string, an algorithm name, a URL, a public key);
//! - **password hash**: the stored form of a password (crypt, Django, Werkzeug, LDAP,
//!   MySQL, PostgreSQL), a kind of its own that dedicated hash rules report;
//! - **digest-shaped**: bare hex (a git SHA, an MD5/SHA digest, a cache key), which is
//!   a secret only when a strongly secret name gives it to an assignment (`API_KEY =
//!   "<32 hex>"`), not under a URL query parameter (`?token=<sha1>`) or a weak name.
//!
//! Context beats shape only for the last one: a public identifier stays public whatever
//! its name.

/// Why a value is not a secret, whatever name it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSecret {
    /// A checksummed provider format whose checksum fails.
    Dead,
    /// A published identifier, a URL, an algorithm name or a public key.
    Public,
    /// A password hash.
    PasswordHash,
}

/// Classifies `v` when its shape alone says it is not a secret.
pub fn not_secret(v: &[u8]) -> Option<NotSecret> {
    if has_dead_checksum(v) {
        return Some(NotSecret::Dead);
    }
    if is_password_hash(v) {
        return Some(NotSecret::PasswordHash);
    }
    if is_public(v) {
        return Some(NotSecret::Public);
    }
    None
}

/// Is `v` accepted as a secret given the text `before` it in its match (the name and the
/// operator)? False for [`not_secret`] shapes, and for bare hex unless the name is strong.
pub fn acceptable(v: &[u8], before: &[u8]) -> bool {
    if not_secret(v).is_some() {
        return false;
    }
    !is_digest_shaped(v) || strong_name(before)
}

/// A GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) or npm (`npm_`) token anywhere in `v`
/// whose CRC32 tail does not match its random part.
pub fn has_dead_checksum(v: &[u8]) -> bool {
    let mut i = 0;
    while i + 4 <= v.len() {
        let github = v[i..].starts_with(b"gh")
            && v.get(i + 3) == Some(&b'_')
            && matches!(v.get(i + 2), Some(b'p' | b'o' | b'u' | b's' | b'r'));
        if !(github || v[i..].starts_with(b"npm_")) {
            i += 1;
            continue;
        }
        let prefix_len = 4;
        let left_ok = i == 0 || !v[i - 1].is_ascii_alphanumeric();
        let body = &v[i + prefix_len..];
        let run = body
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if left_ok && run == 36 {
            let (random, tail) = body[..36].split_at(30);
            let crc = crc32fast::hash(random);
            if super::validate::base62(u64::from(crc), 6).as_bytes() != tail {
                return true;
            }
        }
        i += prefix_len;
    }
    false
}

fn all(v: &[u8], f: impl Fn(u8) -> bool) -> bool {
    !v.is_empty() && v.iter().all(|&b| f(b))
}

fn is_hex(v: &[u8]) -> bool {
    all(v, |b| b.is_ascii_hexdigit())
}

/// Hex in one letter case (digests are printed lower- or upper-case, never mixed).
fn is_one_case_hex(v: &[u8]) -> bool {
    is_hex(v) && !(v.iter().any(u8::is_ascii_lowercase) && v.iter().any(u8::is_ascii_uppercase))
}

/// `8-4-4-4-12` hex, optionally in braces (GUIDs).
fn is_uuid(v: &[u8]) -> bool {
    let v = v
        .strip_prefix(b"{")
        .and_then(|r| r.strip_suffix(b"}"))
        .unwrap_or(v);
    let parts: Vec<&[u8]> = v.split(|&b| b == b'-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && is_hex(p))
}

/// Algorithm and scheme names: `AWS4-HMAC-SHA256`, `HMAC-SHA512`, `AES-256-GCM`,
/// `RSA-OAEP-256`, `PBKDF2WithHmacSHA256`: short segments, one naming a primitive.
fn is_algorithm_name(v: &[u8]) -> bool {
    const PRIMITIVES: &[&str] = &[
        "hmac",
        "sha",
        "md5",
        "md4",
        "aes",
        "rsa",
        "ecdsa",
        "ecdh",
        "ed25519",
        "x25519",
        "gcm",
        "cbc",
        "ctr",
        "oaep",
        "pss",
        "pkcs",
        "pbkdf2",
        "scrypt",
        "argon2",
        "bcrypt",
        "chacha",
        "poly1305",
        "blake2",
        "blake3",
        "des",
        "hkdf",
        "dsa",
        "curve25519",
        "secp256",
    ];
    if v.len() > 40 || !all(v, |b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return false;
    }
    let text = String::from_utf8_lossy(v).to_ascii_lowercase();
    let segments: Vec<&str> = text.split(['-', '_']).collect();
    let named = segments.iter().any(|s| {
        PRIMITIVES
            .iter()
            .any(|p| s.starts_with(p) || s.ends_with(p))
    });
    // `PBKDF2WithHmacSHA256` is one segment made of primitives and `with`.
    let javaish = segments.len() == 1 && text.contains("with") && named;
    named && (javaish || segments.len() >= 2 && segments.iter().all(|s| s.len() <= 8))
}

fn contains(v: &[u8], needle: &[u8]) -> bool {
    v.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Published identifiers and other values that are public by design.
pub fn is_public(v: &[u8]) -> bool {
    if is_uuid(v) || is_algorithm_name(v) {
        return true;
    }
    // URLs (`?key=https://...`, also percent-encoded) and public key material.
    let lower = String::from_utf8_lossy(v).to_ascii_lowercase();
    if lower.contains("://")
        || lower.starts_with("http%3a")
        || lower.starts_with("https%3a")
        || lower.starts_with("www.")
    {
        return true;
    }
    if (lower.contains("-----begin") && lower.contains("public key"))
        || lower.contains("-----begin certificate")
        || lower.starts_with("ssh-rsa ")
        || lower.starts_with("ssh-ed25519 ")
        || lower.starts_with("ecdsa-sha2-")
        // Base64 bodies of an OpenPGP public-key packet and of SSH public keys.
        || v.starts_with(b"mQINB")
        || v.starts_with(b"mQENB")
        || v.starts_with(b"mQGNB")
        || v.starts_with(b"mDME")
        || v.starts_with(b"AAAAB3NzaC1yc2E")
        || v.starts_with(b"AAAAC3NzaC1lZDI1NTE5")
    {
        return true;
    }
    // Stripe publishable keys.
    if let Some(rest) = v
        .strip_prefix(b"pk_live_")
        .or_else(|| v.strip_prefix(b"pk_test_"))
    {
        return all(rest, |b| b.is_ascii_alphanumeric());
    }
    // Twilio SIDs: two upper-case letters (AC account, SK API key, PN number...) + 32 hex.
    if v.len() == 34
        && v[..2].iter().all(u8::is_ascii_uppercase)
        && is_one_case_hex(&v[2..])
        && v[2..].iter().all(|b| !b.is_ascii_uppercase())
    {
        return true;
    }
    // Google OAuth client ids: `<digits>-<32 lower alnum>.apps.googleusercontent.com`.
    if lower.ends_with(".apps.googleusercontent.com") {
        return true;
    }
    // Ethereum addresses (a private key is 64 hex, not 40).
    if let Some(rest) = v.strip_prefix(b"0x").or_else(|| v.strip_prefix(b"0X")) {
        if rest.len() == 40 && is_hex(rest) {
            return true;
        }
    }
    // Content digests with their algorithm: Docker/OCI `sha256:<hex>` (also after
    // `image@`), Subresource-Integrity and npm `integrity` strings `sha512-<base64>`.
    for alg in ["sha1", "sha224", "sha256", "sha384", "sha512", "md5"] {
        for sep in [":", "-", "="] {
            let tag = format!("{alg}{sep}");
            if let Some(at) = lower.find(&tag) {
                let body = &v[at + tag.len()..];
                let at_start = at == 0 || v[at - 1] == b'@';
                let digest = body.len() >= 20
                    && all(body, |b| b.is_ascii_alphanumeric() || b"+/=_-".contains(&b));
                if at_start && digest {
                    return true;
                }
            }
        }
    }
    false
}

/// Bare hex of a digest's length (16 bytes and more; `0x` allowed), in one letter case:
/// git SHAs, MD5/SHA digests, cache keys, but also old-style hex API keys.
pub fn is_digest_shaped(v: &[u8]) -> bool {
    let v = v
        .strip_prefix(b"0x")
        .or_else(|| v.strip_prefix(b"0X"))
        .unwrap_or(v);
    v.len() >= 16 && is_one_case_hex(v) && v.iter().any(u8::is_ascii_digit)
}

/// Stored password hashes, by structure: modular crypt (`$1$`, `$2b$`, `$5$`, `$6$`,
/// `$y$`, `$apr1$`, `$argon2id$`, `$pbkdf2-sha256$`), Django and Werkzeug
/// (`pbkdf2_sha256$...`, `sha1$<salt>$<hex>`, `pbkdf2:sha256:600000$...`), LDAP
/// (`{SSHA}...`), Spring's `{bcrypt}$2a$...`, PostgreSQL (`md5<32 hex>`, `SCRAM-SHA-256$`)
/// and MySQL (`*<40 hex>`).
pub fn is_password_hash(v: &[u8]) -> bool {
    const ALGOS: &[&str] = &[
        "sha", "md5", "pbkdf", "bcrypt", "argon", "scrypt", "crypt", "ssha", "smd5", "nt", "md4",
        "scram",
    ];
    let lower = String::from_utf8_lossy(v).to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("md5") {
        if rest.len() == 32 && is_hex(rest.as_bytes()) {
            return true;
        }
    }
    if let Some(rest) = v.strip_prefix(b"*") {
        if rest.len() == 40 && is_one_case_hex(rest) {
            return true;
        }
    }
    // LDAP and Spring scheme prefixes (`{noop}` and `{plain}` carry a cleartext password).
    let mut body = v;
    if v.first() == Some(&b'{') {
        if let Some(close) = v.iter().position(|&b| b == b'}') {
            let scheme = lower[1..close].to_string();
            if scheme.is_empty() || scheme == "noop" || scheme == "plain" || scheme == "cleartext" {
                return false;
            }
            if ALGOS.iter().any(|a| scheme.contains(a)) {
                let rest = &v[close + 1..];
                if rest.len() >= 16
                    && all(rest, |b| b.is_ascii_alphanumeric() || b"+/=.$".contains(&b))
                {
                    return true;
                }
                body = rest;
            }
        }
    }
    let fields: Vec<&[u8]> = body.split(|&b| b == b'$').collect();
    if fields.len() < 3 {
        return false;
    }
    let algo = String::from_utf8_lossy(if fields[0].is_empty() {
        fields[1]
    } else {
        fields[0]
    })
    .to_ascii_lowercase();
    let crypt_id = fields[0].is_empty()
        && (algo.chars().all(|c| c.is_ascii_digit()) || algo == "y" || algo.starts_with("2"));
    let named = ALGOS.iter().any(|a| algo.contains(a)) || algo == "apr1";
    let last = fields[fields.len() - 1];
    let hashlike = last.len() >= 16
        && all(last, |b| b.is_ascii_alphanumeric() || b"./+=".contains(&b))
        && fields
            .iter()
            .all(|f| !f.iter().any(u8::is_ascii_whitespace));
    (crypt_id || named) && hashlike && algo.len() <= 32
}

/// Name stems that make a bare hex value a secret when they name an assignment.
const STRONG: &[&str] = &[
    "apikey",
    "api_key",
    "api-key",
    "secret",
    "passw",
    "pwd",
    "private_key",
    "privatekey",
    "private-key",
    "access_key",
    "accesskey",
    "access-key",
    "auth_key",
    "authkey",
    "signing_key",
    "signingkey",
    "encryption_key",
    "encryptionkey",
    "master_key",
    "masterkey",
    "token",
    "credential",
];

/// Does `before` (a match's text before its value) give the value a strongly secret
/// name, outside a URL query string? `API_KEY = "`, `"client_secret": "` and
/// `X-Api-Key: ` do; `?token=`, `&key=`, `sig=`, `cache_key = "` do not.
pub fn strong_name(before: &[u8]) -> bool {
    let lower = String::from_utf8_lossy(before).to_ascii_lowercase();
    let lower = lower.as_bytes();
    let mut found = false;
    for stem in STRONG {
        let mut from = 0;
        while let Some(at) = find(&lower[from..], stem.as_bytes()) {
            let at = from + at;
            // The start of the name that holds the stem.
            let name_start = lower[..at]
                .iter()
                .rposition(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'))
                .map_or(0, |i| i + 1);
            let in_query = name_start > 0 && matches!(lower[name_start - 1], b'?' | b'&' | b';');
            if in_query {
                return false;
            }
            found = true;
            from = at + stem.len();
        }
    }
    found && !contains(before, b"hash") && !contains(before, b"digest")
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gh(prefix: &str, random: &str) -> String {
        let crc = crc32fast::hash(random.as_bytes());
        format!(
            "{prefix}_{random}{}",
            super::super::validate::base62(u64::from(crc), 6)
        )
    }

    #[test]
    fn dead_checksums_anywhere_in_the_value() {
        let live = gh("ghs", "Mq4Tz8Vn2Lp7Rx5Kc1Wb9Yd3Hf6Ja0");
        assert!(!has_dead_checksum(live.as_bytes()));
        let mut dead = live.clone().into_bytes();
        let n = dead.len();
        dead[n - 2] = if dead[n - 2] == b'Q' { b'R' } else { b'Q' };
        assert!(has_dead_checksum(&dead));
        let in_url = format!(
            "https://x-access:{}@git.corp",
            String::from_utf8(dead).unwrap()
        );
        assert!(has_dead_checksum(in_url.as_bytes()));
        let npm = gh("npm", "Aq4Tz8Vn2Lp7Rx5Kc1Wb9Yd3Hf6Ja0");
        assert!(!has_dead_checksum(npm.as_bytes()));
        assert!(has_dead_checksum(
            b"npm_Aq4Tz8Vn2Lp7Rx5Kc1Wb9Yd3Hf6Ja0000000"
        ));
        // Not 36 characters: not the checksummed format, so no verdict.
        assert!(!has_dead_checksum(b"ghp_short"));
    }

    #[test]
    fn public_identifiers_not_listed_in_rule_examples() {
        for v in [
            "{6F9619FF-8B86-D011-B42D-00C04FC964FF}",
            "pk_test_51Hh2LkQ9vZ3x",
            "PN0f3c5e2a9b8d7c6e5f4a3b2c1d0e9f8a",
            "1049383758221-q8zr2mv9xk4tw7pl3nb6yt1cabcd1234.apps.googleusercontent.com",
            "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B",
            "registry.corp/app@sha256:3f1c5e2a9b8d7c6e5f4a3b2c1d0e9f8a3f1c5e2a9b8d7c6e5f4a3b2c1d0e9f8a",
            "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC",
            "RSA-OAEP-256",
            "HMAC-SHA512",
            "PBKDF2WithHmacSHA256",
            "https%3A%2F%2Fcdn.corp%2Fimg.png",
            "mQINBFq8Zr2mV9xK4tW7pL3nB6yT1cAbCd",
        ] {
            assert!(is_public(v.as_bytes()), "{v}");
        }
        for v in [
            "q8Zr2mV9xK4tW7pL",
            "sk_live_51Hh2LkQ9vZ3x",
            "AES256KEYq8Zr2mV9",
        ] {
            assert!(!is_public(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn password_hashes_by_structure() {
        for v in [
            "$6$rounds=5000$saltsalt$Xq7vR2xLp9Wz4KdTm3Ns8BZx81Kq02mNv7Ps33Lw9T",
            "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7", // leaksweep:allow (a test vector)
            "$pbkdf2-sha512$25000$q8Zr2mV9xK4$Hq7vR2xLp9Wz4KdTm3Ns8B",
            "pbkdf2:sha256:600000$Zx81Kq02$0c6e5f4a3b2c1d0e9f8a3f1c5e2a9b8d",
            "bcrypt_sha256$$2b$12$Hq7vR2xLp9Wz4KdTm3Ns8uYk2Lq7Vz4Rp8Tw",
            "{SSHA}Hq7vR2xLp9Wz4KdTm3Ns8BZx81Kq",
            "{bcrypt}$2a$10$Hq7vR2xLp9Wz4KdTm3Ns8uYk2Lq7Vz4Rp8TwHq7vR2xLp9Wz4Kd",
            "MD5A3F1C5E2A9B8D7C6E5F4A3B2C1D0E9F8",
            "*A3F1C5E2A9B8D7C6E5F4A3B2C1D0E9F8A3F1C5E2",
        ] {
            assert!(is_password_hash(v.as_bytes()), "{v}");
        }
        for v in [
            "{noop}Hq7vR2xLp9Wz4KdTm3Ns8B",
            "Hq7v$R2xL$p9Wz4K",
            "q8Zr2mV9xK4tW7pL",
            "$HOME/$USER/secret",
        ] {
            assert!(!is_password_hash(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn context_beats_shape_only_for_bare_hex() {
        let hex32 = b"9e107d9d372bb6826bd81d3542a419d6";
        for strong in [
            "API_KEY = \"",
            "clientSecret: '",
            "\"x-api-key\": \"",
            "GITHUB_TOKEN=",
        ] {
            assert!(acceptable(hex32, strong.as_bytes()), "{strong}");
        }
        for weak in [
            "/assets/app.js?token=",
            "GET /dl?id=1&key=",
            "cache_key = \"",
            "sig=",
            "password_hash: ",
        ] {
            assert!(!acceptable(hex32, weak.as_bytes()), "{weak}");
        }
        // A public identifier stays public under the strongest name.
        assert!(!acceptable(
            b"123e4567-e89b-12d3-a456-426614174000",
            b"API_KEY = \""
        ));
        // A random value is not judged by shape.
        assert!(acceptable(b"q8Zr2mV9xK4tW7pL", b"?token="));
    }
}
