//! Key blocks split by string concatenation, rebuilt before matching.
//!
//! Test code and fixtures often hold a private key as string literals joined across
//! lines, to keep lines short or to dodge scanners:
//! `"-----BEGIN RSA PRIVATE KEY-----\n" + "MIIE..." + ...` (Java, C#, JS/TS), Go raw
//! strings `` `-----BEGIN...` + `...` ``, Python's adjacent literals `("..." "...")` and
//! `\` continuations, PHP `.`, Lua `..`, VB `&`. No single literal holds the whole block,
//! so no rule can match it. A candidate starts at the literal that holds `-----BEGIN `
//! and runs over the literals joined to it; decoding keeps their contents (escapes
//! untouched, a later escape pass undoes them) with a byte map back to the source.

use super::Decoded;

/// The most source bytes one joined block may span (a PEM block of an 8192-bit RSA key
/// is about 6.5 KiB; quoting adds a few bytes a line).
pub const MAX_CONCAT_SPAN: usize = 12 * 1024;
/// The most bytes between two joined literals (operators, blanks, a line break).
const MAX_GAP: usize = 64;

fn is_quote(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | b'`')
}

/// The end (exclusive, after the closing quote) of the literal opened at `open`; raw
/// backtick strings may span lines, others end on their line.
fn literal_end(data: &[u8], open: usize, limit: usize) -> Option<usize> {
    let q = data[open];
    let mut i = open + 1;
    while i < limit {
        let b = data[i];
        if b == b'\\' && q != b'`' {
            i += 2;
            continue;
        }
        if b == q {
            return Some(i + 1);
        }
        if b == b'\n' && q != b'`' {
            return None;
        }
        i += 1;
    }
    None
}

/// After a literal ending at `i`: the opening quote of the literal joined to it, if any.
fn next_literal(data: &[u8], mut i: usize, limit: usize) -> Option<usize> {
    let stop = limit.min(i + MAX_GAP);
    let mut ops = 0;
    let mut newlines = 0;
    while i < stop {
        match data[i] {
            b' ' | b'\t' | b'\r' => {}
            b'\n' => newlines += 1,
            b'+' | b'.' | b'&' | b'\\' => ops += 1,
            b'/' if data.get(i + 1) == Some(&b'/') => {
                // A line comment between the pieces.
                i = memchr::memchr(b'\n', &data[i..stop]).map(|p| i + p)?;
                continue;
            }
            q if is_quote(q) => {
                // Adjacent literals join only in Python and C, on the same line or the
                // next one.
                return (ops <= 2 && (ops > 0 || newlines <= 1)).then_some(i);
            }
            _ => return None,
        }
        i += 1;
    }
    None
}

/// Appends joined-literal candidates whose first `-----BEGIN ` starts before `owned_end`.
pub(super) fn candidates(data: &[u8], owned_end: usize, out: &mut Vec<(usize, usize)>) {
    // Built once: this runs on every chunk and every decoded span, and building the
    // searcher cost more than most searches (1% of a history scan).
    static BEGIN: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"-----BEGIN "));
    let finder = &*BEGIN;
    let mut from = 0;
    let owned = owned_end.min(data.len());
    while let Some(p) = finder.find(&data[from..owned]) {
        let at = from + p;
        from = at + 11;
        // The quote opening the literal: the nearest quote before `-----BEGIN ` on its
        // line (a Go raw string may have opened on the line before).
        let lo = at.saturating_sub(MAX_GAP * 16);
        let ls = memchr::memrchr(b'\n', &data[lo..at]).map_or(lo, |i| lo + i + 1);
        let Some(open) = data[ls..at]
            .iter()
            .rposition(|&b| is_quote(b))
            .map(|i| ls + i)
        else {
            continue;
        };
        let limit = (open + MAX_CONCAT_SPAN).min(data.len());
        let Some(mut end) = literal_end(data, open, limit) else {
            continue;
        };
        let mut pieces = 1;
        while let Some(next) = next_literal(data, end, limit) {
            match literal_end(data, next, limit) {
                Some(e) => {
                    end = e;
                    pieces += 1;
                }
                None => break,
            }
            // The block is complete: later literals are other code.
            if memchr::memmem::find(&data[next..end], b"-----END ").is_some() {
                break;
            }
        }
        if pieces >= 2 {
            out.push((open, end));
            from = from.max(end);
        }
    }
}

/// Joins the contents of the literals in `enc` (a candidate span), mapping each byte back.
pub(super) fn decode(enc: &[u8]) -> Option<Decoded> {
    let mut bytes = Vec::with_capacity(enc.len());
    let mut map = Vec::with_capacity(enc.len());
    let mut open = 0;
    loop {
        let end = literal_end(enc, open, enc.len())?;
        let body_end = end - 1;
        for (i, &b) in enc.iter().enumerate().take(body_end).skip(open + 1) {
            bytes.push(b);
            map.push(u32::try_from(i).ok()?);
        }
        match next_literal(enc, end, enc.len()) {
            Some(n) => open = n,
            None => break,
        }
    }
    Some(Decoded { bytes, map })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(src: &str) -> Vec<String> {
        let mut c = Vec::new();
        candidates(src.as_bytes(), src.len(), &mut c);
        c.iter()
            .map(|&(s, e)| String::from_utf8(decode(&src.as_bytes()[s..e]).unwrap().bytes).unwrap())
            .collect()
    }

    #[test]
    fn joins_forms_of_several_languages() {
        let want = "-----BEGIN X-----\\nAAAA\\nBBBB\\n-----END X-----";
        for src in [
            // C# with a verbatim `+` at line starts.
            "var k = \"-----BEGIN X-----\\n\"\n    + \"AAAA\\n\"\n    + \"BBBB\\n\"\n    + \"-----END X-----\";",
            // PHP concatenation with `.`.
            "$k = '-----BEGIN X-----\\n' .\n  'AAAA\\n' .\n  'BBBB\\n' .\n  '-----END X-----';",
            // Python adjacent literals in parentheses.
            "k = (\"-----BEGIN X-----\\n\"\n     \"AAAA\\n\"\n     \"BBBB\\n\"\n     \"-----END X-----\")",
        ] {
            assert_eq!(joined(src), [want], "{src}");
        }
        let go = "k := `-----BEGIN X-----\nAAAA` + // split\n`\nBBBB\n-----END X-----`";
        assert_eq!(
            joined(go),
            ["-----BEGIN X-----\nAAAA\nBBBB\n-----END X-----"]
        );
    }

    #[test]
    fn a_single_literal_or_unrelated_code_is_no_candidate() {
        assert!(joined("k = \"-----BEGIN X-----\\nAAAA\\n-----END X-----\"").is_empty());
        assert!(joined("k = \"-----BEGIN X-----\" if x else y; z = \"a\"").is_empty());
        assert!(joined("-----BEGIN X-----\nAAAA\n-----END X-----\n").is_empty());
    }

    #[test]
    fn map_points_at_source_bytes() {
        let src = "k = \"-----BEGIN \" + \"X\"";
        let mut c = Vec::new();
        candidates(src.as_bytes(), src.len(), &mut c);
        let (s, e) = c[0];
        let d = decode(&src.as_bytes()[s..e]).unwrap();
        for (i, &m) in d.map.iter().enumerate() {
            assert_eq!(src.as_bytes()[s + m as usize], d.bytes[i]);
        }
    }
}
