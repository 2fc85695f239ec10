//! What a validator reads from the text around a finding (its neighbourhood, kept by
//! the scanner with `--validate`; see `finding::neighbourhood`): the URL a password sits
//! in, URLs written next to a token, the tenant and client ids next to an Azure client
//! secret, the fields of a service-account key around its key id.
//!
//! Everything here is parsing of scanned text, which an attacker may have written: hosts
//! are parsed strictly and used only when the user allow-listed them
//! ([`AllowHost`]), ids only when they have their documented shape.

use zeroize::Zeroize;

/// A URL found in the text: scheme and authority only (the path is never used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// Host, lowercase (an IPv6 literal keeps its brackets).
    pub host: String,
    /// Port, explicit or the scheme's default.
    pub port: u16,
}

impl Origin {
    /// `scheme://host[:port]`, the port written only when it is not the default.
    pub fn base(&self) -> String {
        let default = if self.scheme == "https" { 443 } else { 80 };
        if self.port == default {
            format!("{}://{}", self.scheme, self.host)
        } else {
            format!("{}://{}:{}", self.scheme, self.host, self.port)
        }
    }

    /// `host[:port]` as the user would allow-list it.
    pub fn authority(&self) -> String {
        let default = if self.scheme == "https" { 443 } else { 80 };
        if self.port == default {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// One `--validate-allow-host` entry: a plain host name or IP address, and an optional
/// port (without one, every port of the host is allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowHost {
    host: String,
    port: Option<u16>,
}

impl AllowHost {
    /// Parses `HOST[:PORT]`. Anything that is not a plain host is refused: schemes,
    /// paths, user info, wildcards, spaces.
    pub fn parse(entry: &str) -> Result<AllowHost, String> {
        let bad = |why: &str| {
            Err(format!(
                "allow-listed host {entry:?}: {why} (give HOST or HOST:PORT, e.g. gitlab.corp.example or 10.0.0.5:8443)"
            ))
        };
        if entry.contains("://") {
            return bad("a host, not a URL");
        }
        let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
            let Some((h, after)) = rest.split_once(']') else {
                return bad("unclosed [");
            };
            let port = match (after, after.strip_prefix(':')) {
                ("", _) => None,
                (_, Some(p)) => Some(p),
                (_, None) => return bad("junk after ]"),
            };
            if h.parse::<std::net::Ipv6Addr>().is_err() {
                return bad("not an IPv6 address in [ ]");
            }
            (format!("[{}]", h.to_ascii_lowercase()), port)
        } else {
            match entry.rsplit_once(':') {
                Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
                None => (entry.to_ascii_lowercase(), None),
            }
        };
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => return bad("the port must be a number from 1 to 65535"),
            },
        };
        if !host.starts_with('[') && !plain_host(&host) {
            return bad("not a plain host name or IP address");
        }
        Ok(AllowHost { host, port })
    }

    /// Whether `o` is allowed by this entry.
    pub fn allows(&self, o: &Origin) -> bool {
        self.host == o.host && self.port.map_or(true, |p| p == o.port)
    }
}

/// Letters, digits, `-` and `.`, in labels of 1-63 characters, not starting or ending
/// with `-` (IPv4 addresses are such names too).
fn plain_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Parses the authority that starts `s` (after `scheme://` and any user info), up to the
/// first `/`, `?`, `#`, quote, space or other delimiter.
fn authority(scheme: &str, s: &str) -> Option<Origin> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')))
        .unwrap_or(s.len());
    let auth = &s[..end];
    let (host, port) = if auth.starts_with('[') {
        let close = auth.find(']')?;
        let h = &auth[..=close];
        h[1..close].parse::<std::net::Ipv6Addr>().ok()?;
        (h.to_ascii_lowercase(), auth[close + 1..].strip_prefix(':'))
    } else {
        match auth.split_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (auth.to_ascii_lowercase(), None),
        }
    };
    if !host.starts_with('[') && !plain_host(&host) {
        return None;
    }
    let port = match port {
        None => {
            if scheme == "https" {
                443
            } else {
                80
            }
        }
        Some(p) => p.parse::<u16>().ok().filter(|&n| n > 0)?,
    };
    Some(Origin {
        scheme: scheme.to_string(),
        host,
        port,
    })
}

/// The scheme that ends just before `at` (`http` or `https`, case-insensitive).
fn scheme_before(text: &str, at: usize) -> Option<String> {
    let head = text.get(..at)?;
    for s in ["https", "http"] {
        if head.len() >= s.len() && head[head.len() - s.len()..].eq_ignore_ascii_case(s) {
            let before = head[..head.len() - s.len()].chars().next_back();
            if before.map_or(true, |c| !c.is_ascii_alphanumeric() && c != '+') {
                return Some(s.to_string());
            }
        }
    }
    None
}

/// The `http(s)://USER:SECRET@HOST[:PORT]` URL that holds `secret` as its password in
/// `text`: the user name and the origin.
pub fn userinfo_url(text: &[u8], secret: &[u8]) -> Option<(String, Origin)> {
    let text = std::str::from_utf8(text).ok()?;
    let secret = std::str::from_utf8(secret).ok()?;
    let mut from = 0;
    while let Some(i) = text.get(from..)?.find(secret).map(|i| i + from) {
        from = i + 1;
        let after = &text[i + secret.len()..];
        let Some(rest) = after.strip_prefix('@') else {
            continue;
        };
        let head = &text[..i];
        let Some(head) = head.strip_suffix(':') else {
            continue;
        };
        let Some(slashes) = head.rfind("://") else {
            continue;
        };
        let user = &head[slashes + 3..];
        if user.is_empty() || user.contains(['/', '@', ' ', '"', '\'']) {
            continue;
        }
        let Some(scheme) = scheme_before(text, slashes) else {
            continue;
        };
        if let Some(o) = authority(&scheme, rest) {
            return Some((user.to_string(), o));
        }
    }
    None
}

/// Decodes `%XX` escapes (URL user info is percent-encoded: `p%40ss` is `p@ss`); a `%`
/// not followed by two hex digits stays as it is.
pub fn percent_decode(s: &[u8]) -> Vec<u8> {
    let hex = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match (
            s[i],
            s.get(i + 1).copied().and_then(hex),
            s.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push(h << 4 | l);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Every `http(s)://` origin written in `text` (without user info), in order, once each.
pub fn origins(text: &[u8]) -> Vec<Origin> {
    let text = String::from_utf8_lossy(text);
    let lower = text.to_ascii_lowercase();
    let mut out: Vec<Origin> = Vec::new();
    let mut from = 0;
    while let Some(i) = lower
        .get(from..)
        .and_then(|s| s.find("://"))
        .map(|i| i + from)
    {
        from = i + 3;
        let Some(scheme) = scheme_before(&lower, i) else {
            continue;
        };
        let rest = &text[i + 3..];
        // A URL with user info is a credential of its own (see `userinfo_url`).
        let auth_end = rest.find(['/', ' ', '"', '\'', '\n']).unwrap_or(rest.len());
        if rest[..auth_end].contains('@') {
            continue;
        }
        if let Some(o) = authority(&scheme, rest) {
            if !out.contains(&o) {
                out.push(o);
            }
        }
    }
    out
}

/// The first GUID in `text` written after a label that contains one of `labels`
/// (case-insensitive; `AZURE_TENANT_ID=`, `"tenantId": "`, `tenant: `), within the
/// same line.
pub fn labelled_guid(text: &[u8], labels: &[&str]) -> Option<String> {
    let text = String::from_utf8_lossy(text);
    for line in text.lines() {
        let lower = line.to_ascii_lowercase();
        for l in labels {
            let mut from = 0;
            while let Some(i) = lower.get(from..).and_then(|s| s.find(l)).map(|i| i + from) {
                from = i + l.len();
                // The label must be a whole word part: not `subtenant_id`.
                if lower[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
                {
                    continue;
                }
                // The rest of the label (`_ID`, `Id`), then `=`, `:`, quotes and spaces.
                let rest = &line[from..];
                let label_end = rest
                    .find(|c: char| !(c.is_ascii_alphabetic() || c == '_' || c == '-'))
                    .unwrap_or(rest.len());
                let val = rest[label_end..].trim_start_matches([' ', '"', '\'', ':', '=', '\t']);
                if let Some(g) = val.get(..36).filter(|g| is_guid(g)) {
                    if val[36..]
                        .chars()
                        .next()
                        .map_or(true, |c| !c.is_ascii_hexdigit())
                    {
                        return Some(g.to_ascii_lowercase());
                    }
                }
            }
        }
    }
    None
}

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// The value of the JSON string field `"name": "..."` in `text` (unescaped), the first
/// one after byte `from` or, failing that, the last one before it.
pub fn json_string_field(text: &[u8], name: &str, from: usize) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    let key = format!("\"{name}\"");
    let mut hits = Vec::new();
    let mut at = 0;
    while let Some(i) = text.get(at..)?.find(&key).map(|i| i + at) {
        at = i + key.len();
        let rest = text[at..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let rest = rest.trim_start();
        if !rest.starts_with('"') {
            continue;
        }
        // The literal runs to the first quote that no backslash escapes.
        let bytes = rest.as_bytes();
        let mut j = 1;
        while j < bytes.len() && bytes[j] != b'"' {
            j += if bytes[j] == b'\\' { 2 } else { 1 };
        }
        if j >= bytes.len() {
            continue;
        }
        let mut literal = rest[..=j].to_string();
        let value: Option<String> = serde_json::from_str(&literal).ok();
        literal.zeroize();
        if let Some(v) = value {
            hits.push((i, v.into_bytes()));
        }
    }
    let pos = hits.iter().position(|(i, _)| *i >= from);
    let pick = match pos {
        Some(p) => p,
        None => hits.len().checked_sub(1)?,
    };
    let (_, v) = hits.swap_remove(pick);
    for (_, mut rest) in hits {
        rest.zeroize();
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_entries_must_be_plain_hosts() {
        assert!(AllowHost::parse("gitlab.corp.example").is_ok());
        assert!(AllowHost::parse("10.0.0.5:8443").is_ok());
        assert!(AllowHost::parse("[::1]:80").is_ok());
        for bad in [
            "https://gitlab.corp.example",
            "gitlab.corp.example/api",
            "u@host",
            "*.corp.example",
            "host:0",
            "host:http",
            "",
            "a b",
            "-x.example",
        ] {
            assert!(AllowHost::parse(bad).is_err(), "{bad}");
        }
        let a = AllowHost::parse("GitLab.Corp.Example").unwrap();
        let o = origins(b"url: https://gitlab.corp.example/group").remove(0);
        assert!(a.allows(&o));
        let p = AllowHost::parse("gitlab.corp.example:8443").unwrap();
        assert!(!p.allows(&o));
    }

    #[test]
    fn finds_the_url_a_password_is_in() {
        let t = b"API=https://deploy:Hv7Kp2Qx9Lm4Rt6W@127.0.0.1:8080/api\n"; // leaksweep:allow
        let (user, o) = userinfo_url(t, b"Hv7Kp2Qx9Lm4Rt6W").unwrap();
        assert_eq!(user, "deploy");
        assert_eq!(o.base(), "http://127.0.0.1:8080".replace("http:", "https:"));
        assert_eq!(o.authority(), "127.0.0.1:8080");
        assert!(userinfo_url(
            b"ssh://deploy:Hv7Kp2Qx9Lm4Rt6W@h.example",
            b"Hv7Kp2Qx9Lm4Rt6W"
        )
        .is_none());
        assert!(userinfo_url(b"pw Hv7Kp2Qx9Lm4Rt6W", b"Hv7Kp2Qx9Lm4Rt6W").is_none());
        assert_eq!(percent_decode(b"p%40ss%2f%zz%4"), b"p@ss/%zz%4");
    }

    #[test]
    fn finds_origins_and_labelled_ids() {
        let t = b"GITLAB_URL=http://Git.Corp.Example:8929/\nX=https://a:b@c.example\n";
        let o = origins(t);
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].base(), "http://git.corp.example:8929");
        let t = b"AZURE_TENANT_ID=72F988BF-86F1-41AF-91AB-2D7CD011DB47\n\"clientId\": \"04b07795-8ddb-461a-bbee-02f9e1bf7b46\"\n";
        assert_eq!(
            labelled_guid(t, &["tenant"]).as_deref(),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
        assert_eq!(
            labelled_guid(t, &["client_id", "clientid"]).as_deref(),
            Some("04b07795-8ddb-461a-bbee-02f9e1bf7b46")
        );
        assert!(labelled_guid(
            b"subtenant=72f988bf-86f1-41af-91ab-2d7cd011db47",
            &["tenant"]
        )
        .is_none());
    }

    #[test]
    fn reads_json_string_fields() {
        let t = br#"{"private_key_id": "abc", "private_key": "-----BEGIN\nX\n", "client_email": "sa@p.iam"}"#;
        assert_eq!(
            json_string_field(t, "private_key", 0).unwrap(),
            b"-----BEGIN\nX\n"
        );
        assert_eq!(
            json_string_field(t, "client_email", 0).unwrap(),
            b"sa@p.iam"
        );
        assert!(json_string_field(t, "token_uri", 0).is_none());
    }
}
