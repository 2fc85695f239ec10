//! Structural and checksum validators for captured secrets.
//!
//! A validator runs last, on the captured secret only, after the regex and the entropy
//! floor. It answers one question: could this string be a real credential of the format
//! the rule describes? Checksums (GitHub and npm CRC32 tails) turn a regex hit into a
//! near-certain finding; structure checks (JWT, PEM, base64) drop look-alikes.

use base64::Engine as _;

/// A named validator, as written in a rule's `validator` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// `gh[pousr]_` + 30 base62 + 6-char base62 CRC32 of the random part.
    GithubChecksum,
    /// `npm_` + 30 base62 + 6-char base62 CRC32 of the random part.
    NpmChecksum,
    /// Three base64url segments; header and payload decode to JSON objects.
    Jwt,
    /// A complete PEM block: matching BEGIN/END labels and a body that decodes.
    Pem,
    /// Decodes as standard or URL-safe base64.
    Base64,
    /// Decodes as base64 to exactly 64 bytes (Azure storage account keys).
    Base64Bytes64,
    /// `pypi-` followed by a base64url macaroon.
    PypiMacaroon,
    /// Only hexadecimal digits.
    Hex,
    /// Extra placeholder screening for rules that rely on context only.
    NotPlaceholder,
    /// Heuristics for values assigned to secret-sounding names in code and config.
    Generic,
    /// The password of a `scheme://user:password@host` URL.
    UrlPassword,
    /// An opaque token named by its context (a bearer token, an API-key header, a
    /// query parameter): random-looking, not a word, an identifier or a placeholder.
    OpaqueToken,
    /// HTTP basic credentials: base64 of `user:password` with a real-looking password.
    BasicAuth,
}

impl Validator {
    /// Every validator name accepted in rule files.
    pub const NAMES: &'static [&'static str] = &[
        "github-checksum",
        "npm-checksum",
        "jwt",
        "pem",
        "base64",
        "base64-64bytes",
        "pypi-macaroon",
        "hex",
        "not-placeholder",
        "generic",
        "url-password",
        "opaque-token",
        "basic-auth",
    ];

    /// Looks a validator up by its rule-file name.
    pub fn from_name(name: &str) -> Option<Validator> {
        Some(match name {
            "github-checksum" => Validator::GithubChecksum,
            "npm-checksum" => Validator::NpmChecksum,
            "jwt" => Validator::Jwt,
            "pem" => Validator::Pem,
            "base64" => Validator::Base64,
            "base64-64bytes" => Validator::Base64Bytes64,
            "pypi-macaroon" => Validator::PypiMacaroon,
            "hex" => Validator::Hex,
            "not-placeholder" => Validator::NotPlaceholder,
            "generic" => Validator::Generic,
            "url-password" => Validator::UrlPassword,
            "opaque-token" => Validator::OpaqueToken,
            "basic-auth" => Validator::BasicAuth,
            _ => return None,
        })
    }

    /// True if `secret`, named by `named` (the text of its match before it, or the name
    /// its value was read for), passes this validator. The validators of context-only
    /// rules also consult the value's shape (`identify`): a dead checksummed token, a
    /// public identifier or a password hash is no secret whatever its name, and bare hex
    /// is one only under a strongly secret name.
    pub fn check_named(self, secret: &[u8], named: &[u8]) -> bool {
        match self {
            Validator::Generic | Validator::OpaqueToken | Validator::NotPlaceholder => {
                self.check(secret)
                    && super::identify::acceptable(secret, named)
                    && !encoded_placeholder(secret)
                    && !encoded_record(secret)
            }
            _ => self.check(secret),
        }
    }

    /// True if `secret` passes this validator.
    pub fn check(self, secret: &[u8]) -> bool {
        match self {
            Validator::GithubChecksum | Validator::NpmChecksum => crc32_base62_tail(secret),
            Validator::Jwt => jwt(secret),
            Validator::Pem => pem(secret),
            Validator::Base64 => decode_b64(secret).is_some(),
            Validator::Base64Bytes64 => decode_b64(secret).is_some_and(|d| d.len() == 64),
            Validator::PypiMacaroon => secret
                .strip_prefix(b"pypi-")
                .and_then(decode_b64)
                .is_some_and(|d| d.len() > 16),
            Validator::Hex => !secret.is_empty() && secret.iter().all(u8::is_ascii_hexdigit),
            Validator::NotPlaceholder => !looks_like_placeholder(secret),
            Validator::Generic => generic(secret),
            Validator::UrlPassword => url_password(secret),
            Validator::OpaqueToken => opaque_token(secret),
            Validator::BasicAuth => basic_auth(secret),
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes `n` in base62, left-padded with `0` to `width`.
pub fn base62(mut n: u64, width: usize) -> String {
    let mut out = Vec::with_capacity(width);
    while n > 0 {
        out.push(BASE62[usize::try_from(n % 62).unwrap_or(0)]);
        n /= 62;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Checks the GitHub/npm token checksum: the token is `PREFIX_` + random + 6 base62
/// characters that encode the CRC32 of the random part.
fn crc32_base62_tail(secret: &[u8]) -> bool {
    let Some(us) = secret.iter().position(|&b| b == b'_') else {
        return false;
    };
    let body = &secret[us + 1..];
    if body.len() < 7 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (random, tail) = body.split_at(body.len() - 6);
    let crc = crc32fast::hash(random);
    base62(u64::from(crc), 6).as_bytes() == tail
}

fn decode_b64(s: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    STANDARD
        .decode(s)
        .or_else(|_| STANDARD_NO_PAD.decode(s))
        .or_else(|_| URL_SAFE.decode(s))
        .or_else(|_| URL_SAFE_NO_PAD.decode(s))
        .ok()
}

fn json_object(bytes: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_slice::<serde_json::Value>(bytes).ok()? {
        serde_json::Value::Object(m) => Some(m),
        _ => None,
    }
}

fn jwt(secret: &[u8]) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Some(header) = decode_b64(h).and_then(|d| json_object(&d)) else {
        return false;
    };
    header.contains_key("alg") && decode_b64(p).and_then(|d| json_object(&d)).is_some()
}

fn pem(secret: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(secret) else {
        return false;
    };
    // Keys embedded in JSON or code strings carry escaped newlines.
    let text = text.replace("\\n", "\n").replace("\\r", "");
    let Some(begin) = text.find("-----BEGIN ") else {
        return false;
    };
    let rest = &text[begin + 11..];
    let Some(label_end) = rest.find("-----") else {
        return false;
    };
    let label = &rest[..label_end];
    let body_and_end = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let Some(end) = body_and_end.find(&end_marker) else {
        return false;
    };
    let body = &body_and_end[..end];
    // PEM headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`, PGP `Version:`) sit before a
    // blank line; the base64 body follows. PGP armour ends with a `=XXXX` CRC line.
    let b64: String = body
        .lines()
        .map(str::trim)
        .filter(|l| !(l.is_empty() || l.contains(':') || (l.starts_with('=') && l.len() <= 5)))
        .collect();
    if b64.len() < 64 {
        return false;
    }
    if looks_like_placeholder(b64.as_bytes()) {
        return false;
    }
    decode_b64(b64.as_bytes()).is_some_and(|d| d.len() >= 48)
}

/// Base64 of a placeholder (`Y2hhbmdlbWU=` is `changeme`): Kubernetes Secret manifests
/// carry their values encoded, and templates ship with encoded placeholders.
fn encoded_placeholder(s: &[u8]) -> bool {
    let Some(decoded) = decode_b64(s) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&decoded) else {
        return false;
    };
    if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return false;
    }
    let text = text.trim();
    if text.is_empty() {
        return true;
    }
    let lower = text.to_ascii_lowercase();
    const DEFAULTS: &[&str] = &[
        "password", "passwd", "secret", "changeit", "admin", "root", "test", "default", "none",
        "null", "todo", "tbd", "xxx", "pass", "123456", "12345678", "qwerty", "token", "value",
    ];
    DEFAULTS.contains(&lower.as_str())
        || super::allow::is_placeholder(text.as_bytes())
        || looks_like_placeholder(text.as_bytes())
        || (text.starts_with('<') && text.ends_with('>'))
}

/// Base64 of a JSON record: a pagination cursor or a state blob (`nextPageToken`,
/// `continuationToken`) that an API hands out and takes back, not a credential.
fn encoded_record(s: &[u8]) -> bool {
    if s.len() < 16 {
        return false;
    }
    decode_b64(s).is_some_and(|d| {
        let t = d.trim_ascii();
        matches!(t.first(), Some(b'{' | b'['))
            && serde_json::from_slice::<serde_json::Value>(t).is_ok()
    })
}

/// Placeholder screening shared by several validators (the global allowlist covers the
/// common words; this adds shapes).
fn looks_like_placeholder(s: &[u8]) -> bool {
    if s.is_empty() {
        return true;
    }
    let distinct = {
        let mut seen = [false; 256];
        let mut n = 0;
        for &b in s {
            if !seen[usize::from(b)] {
                seen[usize::from(b)] = true;
                n += 1;
            }
        }
        n
    };
    if distinct <= 3 {
        return true;
    }
    // Ascending runs such as 0123456789 or abcdefgh.
    let ascending = s
        .windows(2)
        .filter(|w| w[1] == w[0].wrapping_add(1))
        .count();
    ascending * 2 >= s.len()
}

/// How much of `s` is made of word-like runs: letters split at lower->upper case changes,
/// at least 4 long and holding a vowel (`defaultToConfig2` -> "default", "Config").
/// Random tokens score low; identifiers and prose score high.
fn wordiness(s: &[u8]) -> f32 {
    let mut word_bytes = 0usize;
    let mut i = 0;
    while i < s.len() {
        if !s[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < s.len()
            && s[i].is_ascii_alphabetic()
            && !(s[i].is_ascii_uppercase() && s[i - 1].is_ascii_lowercase())
        {
            i += 1;
        }
        let run = &s[start..i];
        let vowel = run
            .iter()
            .any(|b| matches!(b.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u'));
        if run.len() >= 4 && vowel {
            word_bytes += run.len();
        }
    }
    word_bytes as f32 / s.len().max(1) as f32
}

fn generic(s: &[u8]) -> bool {
    if s.len() < 8 || looks_like_placeholder(s) || !s.is_ascii() {
        return false;
    }
    if wordiness(s) >= 0.7 && !interleaved(s) {
        return false;
    }
    let Ok(text) = std::str::from_utf8(s) else {
        return false;
    };
    let (mut lower, mut upper, mut digit, mut other) = (0usize, 0usize, 0usize, 0usize);
    for b in s {
        match b {
            b'a'..=b'z' => lower += 1,
            b'A'..=b'Z' => upper += 1,
            b'0'..=b'9' => digit += 1,
            _ => other += 1,
        }
    }
    let classes = [lower, upper, digit, other]
        .iter()
        .filter(|&&n| n > 0)
        .count();
    if classes < 2 {
        return false;
    }
    // Identifiers and references: `self.password`, `config.api_key`, `os.environ`,
    // `ENV_VAR_NAME`, `someFunctionName`, `Some::Path`.
    let identifier_like = s
        .iter()
        .all(|&b| b.is_ascii_alphabetic() || b == b'_' || b == b'.' || b == b':' || b == b'-');
    if identifier_like {
        return false;
    }
    if digit == 0 && other == 0 && s.len() < 24 {
        // camelCase words without digits: a name, not a secret.
        return false;
    }
    let first = s[0];
    // `:` and `=` first: the tail of `Type::Variant` or of `==`, not a value.
    if matches!(
        first,
        b'$' | b'%'
            | b'@'
            | b'&'
            | b'#'
            | b'/'
            | b'\\'
            | b'('
            | b'['
            | b'<'
            | b':'
            | b'='
            | b'{'
            | b'~'
    ) {
        // `~/.netrc` is a path like `/etc/...`.
        return false;
    }
    // `anthropic-version: 2023-06-01`: a header or a YAML pair quoted whole, not a value.
    if s.windows(2).any(|w| w == b": ") {
        return false;
    }
    // Format strings and escaped multi-line text: `{before}\n`, `{}:{}`.
    if (s.contains(&b'{') && s.contains(&b'}')) || s.windows(2).any(|w| w == b"\\n") {
        return false;
    }
    if snake_identifier(s) || dotted_type_path(s) || names_a_secret(s) {
        return false;
    }
    let lowered = text.to_ascii_lowercase();
    const REFS: &[&str] = &[
        "process.env",
        "os.environ",
        "getenv",
        "env(",
        "env.",
        "environ",
        "secrets.",
        "vars.",
        "config.",
        "settings.",
        "params.",
        "http://",
        "https://",
        "file://",
        "localhost",
        "null",
        "undefined",
        "true",
        "false",
        "none",
        "password",
        "passwd",
        "secret",
        "token",
        "bearer",
        ".get(",
        "()",
        "->",
        "=>",
        "::",
    ];
    if REFS.iter().any(|r| lowered.contains(r)) {
        return false;
    }
    // Dotted or slashed paths: `com.example.Foo`, `a/b/c.txt`.
    if other > 0
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/' || b == b'_' || b == b'-')
        && (s.iter().filter(|&&b| b == b'.').count() >= 2
            || s.iter().filter(|&&b| b == b'/').count() >= 2)
    {
        return false;
    }
    true
}

/// Words interleaved with digits or symbols at least twice (`Plum7Tree4Rain`,
/// `blue!Fox9sky`): a passphrase made to satisfy a password policy, not an identifier
/// (`defaultToConfig2`) or a slug (`prod-db-credentials-v2`), whose separators are plain.
fn interleaved(s: &[u8]) -> bool {
    let first = s.iter().position(u8::is_ascii_alphabetic);
    let last = s.iter().rposition(u8::is_ascii_alphabetic);
    let (Some(first), Some(last)) = (first, last) else {
        return false;
    };
    s[first..last]
        .split(u8::is_ascii_alphabetic)
        .filter(|run| {
            !run.is_empty()
                && run
                    .iter()
                    .any(|b| !matches!(b, b'-' | b'_' | b'.' | b'/' | b' '))
        })
        .count()
        >= 2
}

/// `x25519_generate_private_key`: lowercase words and digits joined by underscores, at
/// least two of them real words. A function or field name, not a secret.
fn snake_identifier(s: &[u8]) -> bool {
    if !s
        .iter()
        .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    let parts: Vec<&[u8]> = s.split(|&b| b == b'_').collect();
    let words = parts
        .iter()
        .filter(|p| p.len() >= 3 && p.iter().all(u8::is_ascii_lowercase) && wordiness(p) > 0.0)
        .count();
    parts.len() >= 3 && words >= 2
}

/// `heroku-api-key-v2`, `prod_db_password`: a lowercase name (words and digits joined by
/// `-` or `_`) that itself says "key", "token", "secret" or "password". It names a secret,
/// as a rule id, a config key or a secret-store entry does; it is not one.
fn names_a_secret(s: &[u8]) -> bool {
    if !s
        .iter()
        .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return false;
    }
    let parts: Vec<&[u8]> = s.split(|&b| b == b'_' || b == b'-').collect();
    parts.len() >= 2
        && parts.iter().any(|p| {
            matches!(
                *p,
                b"key"
                    | b"keys"
                    | b"token"
                    | b"tokens"
                    | b"secret"
                    | b"secrets"
                    | b"password"
                    | b"passwd"
                    | b"pass"
                    | b"pwd"
                    | b"credential"
                    | b"credentials"
                    | b"apikey"
            )
        })
}

/// `ed25519.Ed25519PrivateKey`, `models.AccessToken`: dot-separated identifiers of
/// which one reads as a name. A type or attribute path, not a secret.
fn dotted_type_path(s: &[u8]) -> bool {
    let mut parts = s.split(|&b| b == b'.');
    let all_identifiers = parts.clone().count() >= 2
        && parts.all(|p| {
            p.first()
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                && p.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        });
    all_identifiers && s.split(|&b| b == b'.').any(|p| wordiness(p) >= 0.3)
}

/// An opaque token: at least 16 bytes, letters and digits (or token symbols), not an
/// identifier such as `AbstractTokenProviderFactory` or `access-token-for-service`.
fn opaque_token(s: &[u8]) -> bool {
    if s.len() < 16 || looks_like_placeholder(s) {
        return false;
    }
    let letters = s.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let digits = s.iter().filter(|b| b.is_ascii_digit()).count();
    let symbols = s.len() - letters - digits;
    if letters == 0 || (digits == 0 && symbols == 0) {
        return false;
    }
    // Words joined by separators (`access-token-for-service`, `some.config.key`) have
    // long letter runs between every separator and no digits.
    if digits == 0 {
        let longest_word = s
            .split(|b| !b.is_ascii_alphabetic())
            .map(<[u8]>::len)
            .max()
            .unwrap_or(0);
        let lower_only = !s.iter().any(u8::is_ascii_uppercase);
        if lower_only || longest_word * 2 >= s.len() {
            return false;
        }
    }
    let lowered = String::from_utf8_lossy(s).to_ascii_lowercase();
    !["null", "undefined", "token", "bearer", "secret", "password"]
        .iter()
        .any(|w| lowered.starts_with(w))
}

/// Base64 of `user:password` whose password is not empty or an obvious default.
fn basic_auth(s: &[u8]) -> bool {
    let Some(decoded) = decode_b64(s) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&decoded) else {
        return false;
    };
    let Some((user, password)) = text.split_once(':') else {
        return false;
    };
    !text.chars().any(char::is_control)
        && user.len() <= 256
        && password.len() >= 4
        && url_password(password.as_bytes())
}

fn url_password(s: &[u8]) -> bool {
    if s.is_empty() || looks_like_placeholder(s) {
        return false;
    }
    let lowered = String::from_utf8_lossy(s).to_ascii_lowercase();
    const BAD: &[&str] = &[
        "password", "passwd", "pass", "pwd", "secret", "user", "username", "changeme", "admin",
        "root", "guest", "test", "postgres", "mysql", "redis", "dbpass", "foobar", "foo", "bar",
    ];
    if BAD.contains(&lowered.as_str()) {
        return false;
    }
    let first = s[0];
    !matches!(first, b'$' | b'%' | b'{' | b'<' | b'[') && !lowered.contains("${")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gh_token(prefix: &str, random: &str) -> String {
        let crc = crc32fast::hash(random.as_bytes());
        format!("{prefix}_{random}{}", base62(u64::from(crc), 6))
    }

    #[test]
    fn github_checksum_accepts_valid_and_rejects_tampered() {
        let t = gh_token("ghp", "Zq3xV8kLmN2pR7sT1uW4yA6bC9dE0f");
        assert!(Validator::GithubChecksum.check(t.as_bytes()));
        let mut bad = t.into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'a' { b'b' } else { b'a' };
        assert!(!Validator::GithubChecksum.check(&bad));
    }

    #[test]
    fn base62_pads() {
        assert_eq!(base62(0, 6), "000000");
        assert_eq!(base62(61, 6), "00000z");
        assert_eq!(base62(62, 6), "000010");
    }

    #[test]
    fn jwt_structure() {
        let ok = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl";
        assert!(Validator::Jwt.check(ok));
        assert!(!Validator::Jwt.check(b"eyJub3QiOiJqd3QifQ.eyJzdWIiOiIxIn0.abc"));
        assert!(!Validator::Jwt.check(b"abc.def.ghi"));
    }

    #[test]
    fn generic_rejects_names_paths_and_quoted_pairs() {
        for v in [
            "heroku-api-key-v2",
            "prod_db_password2",
            "stripe-secret-key",
            "~/.config/pgpass",
            "x-api-version: 2024-10-01",
            "content-type: text/plain",
        ] {
            assert!(!generic(v.as_bytes()), "{v}");
        }
        for v in ["Hq7v-R2xL-p9Wz", "s3cr3t-T0ken-Zx81Kq02"] {
            assert!(generic(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn generic_rejects_identifiers_and_accepts_random() {
        for bad in [
            "self.password",
            "os.environ['X']",
            "getPassword",
            "SOME_ENV_NAME",
            "aaaaaaaaaa",
            "0123456789abcdef",
            "${DB_PASSWORD}",
            "com.example.app.Main",
            "defaultToConfig2",
            "Neočekávaný",
            "readWriteTokenRef",
            ":Aes128Gcm",
            "x25519_generate_private_key",
            "x25519_check_private_key_bytes",
            "ed25519.Ed25519PrivateKey",
            "hunter2hunter2",
            "{pat}\\naws_key",
            "id={}&sig={:x}",
        ] {
            assert!(!Validator::Generic.check(bad.as_bytes()), "{bad}");
        }
        for good in [
            "q8Zr2mV9xK4tW7pL",
            "Xk9#mQ2!vR7@pL4z",
            "b5d1e3f79a2c48e6a0b9",
            "k9x2_q7vm_z4rp8tw3",
            "Zq8.Xk9mV2pL7wR4",
            "Gold4Lake9Stone",
        ] {
            assert!(Validator::Generic.check(good.as_bytes()), "{good}");
        }
    }

    #[test]
    fn opaque_token_and_basic_auth() {
        for good in [
            "q8Zr2mV9xK4tW7pL3nB6",
            "Zx81Kq02mNv7Ps33Lw9T_abc",
            "aB-cD_eF~gH.iJ+kL/mN==",
        ] {
            assert!(Validator::OpaqueToken.check(good.as_bytes()), "{good}");
        }
        for bad in [
            "AbstractTokenProviderFactory",
            "access-token-for-service",
            "tokenplaceholdervalue",
            "0123456789abcdefgh",
            "short1",
        ] {
            assert!(!Validator::OpaqueToken.check(bad.as_bytes()), "{bad}");
        }
        use base64::Engine as _;
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert!(Validator::BasicAuth.check(enc("deploy:Hq7vR2xLp9").as_bytes()));
        assert!(!Validator::BasicAuth.check(enc("user:password").as_bytes()));
        assert!(!Validator::BasicAuth.check(enc("no-colon-here").as_bytes()));
        assert!(!Validator::BasicAuth.check(b"not base64!"));
    }

    #[test]
    fn context_validators_drop_encoded_placeholders_and_records() {
        use base64::Engine as _;
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        for placeholder in ["changeit", "<db password>", "TBD", "REPLACE_ME", " root\n"] {
            let v = enc(placeholder);
            assert!(
                !Validator::NotPlaceholder.check_named(v.as_bytes(), b"pw: "),
                "{placeholder}"
            );
        }
        let cursor = enc(r#"{"offset":200,"shard":"eu-3","ts":1714553211}"#);
        assert!(!Validator::Generic.check_named(cursor.as_bytes(), b"pageCursor = \""));
        // A base64 value that is not a placeholder stays a finding.
        let real = enc("Kf8Lq2Wx7Zp3Rz4N");
        assert!(Validator::NotPlaceholder.check_named(real.as_bytes(), b"pw: "));
        assert!(Validator::Generic.check_named(b"Kf8Lq2Wx7Zp3", b"pw = \""));
    }

    #[test]
    fn url_password_rejects_obvious_defaults() {
        assert!(!Validator::UrlPassword.check(b"password"));
        assert!(!Validator::UrlPassword.check(b"${PGPASSWORD}"));
        assert!(Validator::UrlPassword.check(b"s3cr3tP4ss9"));
    }
}
