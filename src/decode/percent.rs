//! Percent-encoding (`%XX`): URLs, query strings and form bodies in logs.

use super::{Decoded, MAX_PERCENT_TOKEN};

/// Bytes that end a URL-ish token in a log line.
fn is_token_byte(b: u8) -> bool {
    b > b' ' && b < 0x7f && !matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>')
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// If `data[i]` opens a `%XX` escape, the bounds of the token around it.
pub(super) fn token_at(data: &[u8], i: usize) -> Option<(usize, usize)> {
    let (a, b) = (*data.get(i + 1)?, *data.get(i + 2)?);
    hex(a)?;
    hex(b)?;
    let lo_cap = i.saturating_sub(MAX_PERCENT_TOKEN / 2);
    let start = data[lo_cap..i]
        .iter()
        .rposition(|&b| !is_token_byte(b))
        .map_or(lo_cap, |p| lo_cap + p + 1);
    let hi_cap = (i + MAX_PERCENT_TOKEN / 2).min(data.len());
    let end = data[i..hi_cap]
        .iter()
        .position(|&b| !is_token_byte(b))
        .map_or(hi_cap, |p| i + p);
    Some((start, end))
}

/// Decodes every `%XX` of a token; other bytes (`+` included) are kept as they are.
pub(super) fn decode(enc: &[u8]) -> Option<Decoded> {
    let mut bytes = Vec::with_capacity(enc.len());
    let mut map = Vec::with_capacity(enc.len());
    let mut i = 0;
    let mut decoded_any = false;
    while let Some(&b) = enc.get(i) {
        let pair = enc
            .get(i + 1)
            .and_then(|&x| hex(x))
            .zip(enc.get(i + 2).and_then(|&x| hex(x)));
        map.push(u32::try_from(i).ok()?);
        match (b, pair) {
            (b'%', Some((h, l))) => {
                bytes.push(h << 4 | l);
                decoded_any = true;
                i += 3;
            }
            _ => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    decoded_any.then_some(Decoded { bytes, map })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_with_an_exact_map() {
        let d = decode(b"a%2Fb%zz").unwrap();
        assert_eq!(d.bytes, b"a/b%zz");
        assert_eq!(d.map, vec![0, 1, 4, 5, 6, 7]);
        assert!(decode(b"plain").is_none());
    }

    #[test]
    fn token_bounds_stop_at_quotes_and_spaces() {
        let line = b"GET \"/cb?x=%41b\" 200";
        let i = line.iter().position(|&b| b == b'%').unwrap();
        let (s, e) = token_at(line, i).unwrap();
        assert_eq!(&line[s..e], b"/cb?x=%41b");
        assert!(token_at(b"100% done", 3).is_none());
    }
}
