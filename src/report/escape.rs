//! Escaping for text meant for a terminal.
//!
//! Paths, author names, e-mails, commit messages, rule ids from user files and secrets shown
//! with `--show-secrets` come from the scanned data, i.e. from whoever wrote it. Printed raw,
//! an ESC, OSC or BEL sequence in a commit's author name can retitle or clear the responder's
//! terminal, move the cursor and overwrite the lines above it, or hide a finding. Everything
//! leaksweep prints for people goes through this module; JSON, JSON lines and SARIF stay
//! exact (serde escapes what JSON needs) because programs read them.
//!
//! What is escaped: C0 controls and DEL (`\x1b`, `\x07`, ..., `\n`, `\r`, `\t` by name), C1
//! controls (U+0080..U+009F: U+009B is a one-character CSI on some terminals), and the
//! bidirectional overrides and isolates (U+202A..U+202E, U+2066..U+2069) that can reorder
//! what a line appears to say. Everything else, including other non-ASCII text, is kept.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` with every control character escaped, line breaks and tabs included: for one field
/// (a path, an author name, a commit summary) that must stay on its line.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_with(s, false)
}

/// `s` with every control character escaped except `\n` and `\t`: for a whole message that
/// leaksweep composed and that may span lines (an error with its cause, a summary).
pub fn escape_text(s: &str) -> Cow<'_, str> {
    escape_with(s, true)
}

fn needs_escape(c: char, keep_breaks: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_breaks,
        // C0, DEL and C1 controls; bidirectional overrides and isolates.
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

fn escape_with(s: &str, keep_breaks: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| needs_escape(c, keep_breaks)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs_escape(c, keep_breaks) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0}'..='\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            _ => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for s in ["src/main.rs", "Zoë Müller <zoe@example.org>", "日本語", ""] {
            assert!(matches!(escape(s), Cow::Borrowed(t) if t == s));
            assert!(matches!(escape_text(s), Cow::Borrowed(t) if t == s));
        }
    }

    #[test]
    fn terminal_sequences_lose_their_escape_bytes() {
        let title = "Eve\x1b]0;pwned\x07\x1b[2J\x1b[1A";
        assert_eq!(escape(title), "Eve\\x1b]0;pwned\\x07\\x1b[2J\\x1b[1A");
        assert_eq!(escape("a\u{9b}31mb\u{7f}"), "a\\u{9b}31mb\\x7f");
        assert_eq!(escape("x\u{202e}gnp.exe"), "x\\u{202e}gnp.exe");
        assert_eq!(escape("\0\r"), "\\x00\\r");
    }

    #[test]
    fn fields_stay_on_one_line_and_messages_keep_their_breaks() {
        assert_eq!(escape("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(escape_text("a\nb\tc\x1b[K"), "a\nb\tc\\x1b[K");
        assert_eq!(escape_text("over\rwrite"), "over\\rwrite");
    }
}
