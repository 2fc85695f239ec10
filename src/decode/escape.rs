//! JSON and C string escapes: `\"`, `\\`, `\/`, `\n`, `\r`, `\t`, `\b`, `\f`, `\uXXXX`, `\xHH`.
//!
//! Logs nest JSON in JSON (`"body":"{\"password\":\"...\"}"`), escape newlines of PEM
//! blocks (`-----BEGIN...\nMIIE...`) and write non-ASCII as `\u00e9`. Undoing the escapes
//! of the line around an escape lets context rules and multi-line rules see the text.

use super::{Decoded, ESCAPE_REACH};

fn hex(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

fn hex4(s: &[u8]) -> Option<u32> {
    let mut v = 0;
    for &b in s.get(..4)? {
        v = v << 4 | hex(b)?;
    }
    Some(v)
}

/// True if the bytes after a backslash make an escape worth decoding.
pub(super) fn opens(next: &[u8]) -> bool {
    match next.first() {
        Some(b'"' | b'n') => true,
        Some(b'u') => next.get(1..).and_then(hex4).is_some(),
        Some(b'x') => next
            .get(1..3)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)),
        _ => false,
    }
}

/// The region decoded for an escape at `i`: its line, at most [`ESCAPE_REACH`] each way.
pub(super) fn region_at(data: &[u8], i: usize) -> (usize, usize) {
    let lo_cap = i.saturating_sub(ESCAPE_REACH);
    let start = memchr::memrchr(b'\n', &data[lo_cap..i]).map_or(lo_cap, |p| lo_cap + p + 1);
    let hi_cap = (i + ESCAPE_REACH).min(data.len());
    let end = memchr::memchr(b'\n', &data[i..hi_cap]).map_or(hi_cap, |p| i + p);
    (start, end)
}

fn push_char(c: u32, at: u32, bytes: &mut Vec<u8>, map: &mut Vec<u32>) {
    let ch = char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut buf = [0u8; 4];
    for &b in ch.encode_utf8(&mut buf).as_bytes() {
        bytes.push(b);
        map.push(at);
    }
}

/// Undoes the escapes of a region; other bytes are kept.
pub(super) fn decode(enc: &[u8]) -> Option<Decoded> {
    let mut bytes = Vec::with_capacity(enc.len());
    let mut map = Vec::with_capacity(enc.len());
    let mut i = 0;
    let mut changed = false;
    while let Some(&b) = enc.get(i) {
        let at = u32::try_from(i).ok()?;
        if b != b'\\' {
            bytes.push(b);
            map.push(at);
            i += 1;
            continue;
        }
        let simple = match enc.get(i + 1) {
            Some(b'"') => Some(b'"'),
            Some(b'\\') => Some(b'\\'),
            Some(b'/') => Some(b'/'),
            Some(b'\'') => Some(b'\''),
            Some(b'n') => Some(b'\n'),
            Some(b'r') => Some(b'\r'),
            Some(b't') => Some(b'\t'),
            // JSON's backspace and form feed (serde_json writes them so).
            Some(b'b') => Some(0x08),
            Some(b'f') => Some(0x0c),
            _ => None,
        };
        if let Some(c) = simple {
            bytes.push(c);
            map.push(at);
            changed = true;
            i += 2;
            continue;
        }
        let tail = enc.get(i + 2..).unwrap_or_default();
        match enc.get(i + 1) {
            Some(b'u') if hex4(tail).is_some() => {
                let hi = hex4(tail).unwrap_or(0xFFFD);
                let mut len = 6;
                let mut c = hi;
                if (0xD800..0xDC00).contains(&hi) && tail.get(4..6) == Some(b"\\u") {
                    if let Some(lo) = tail.get(6..).and_then(hex4) {
                        if (0xDC00..0xE000).contains(&lo) {
                            c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                            len = 12;
                        }
                    }
                }
                push_char(c, at, &mut bytes, &mut map);
                changed = true;
                i += len;
            }
            Some(b'x')
                if tail
                    .get(..2)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
            {
                let v = tail
                    .get(..2)
                    .and_then(|h| Some(hex(h[0])? << 4 | hex(h[1])?));
                bytes.push(u8::try_from(v.unwrap_or(0x3f)).unwrap_or(b'?'));
                map.push(at);
                changed = true;
                i += 4;
            }
            _ => {
                bytes.push(b);
                map.push(at);
                i += 1;
            }
        }
    }
    changed.then_some(Decoded { bytes, map })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_and_surrogates() {
        let d = decode(br#"a\"b\u00e9\ud83d\ude00\nc\x41\q"#).unwrap();
        assert_eq!(
            String::from_utf8(d.bytes.clone()).unwrap(),
            "a\"b\u{e9}\u{1F600}\ncA\\q"
        );
        // é (2 bytes) both map to the \u00e9 at offset 4.
        assert_eq!(&d.map[3..5], &[4, 4]);
        assert!(decode(b"no escapes here").is_none());
        assert!(opens(b"u00e9") && opens(b"\"") && !opens(b"user") && !opens(b"q"));
    }
}
