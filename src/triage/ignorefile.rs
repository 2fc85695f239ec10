//! `.leaksweepignore`: fingerprints a team has accepted, one per line, so that each
//! acceptance is a reviewable line in a diff.
//!
//! ```text
//! # rotated on 2024-05-02, the old value is dead     <- reasons are comments
//! lsw1:5b0c0c7d8f1e2a3b4c5d6e7f8a9b0c1d
//! # generated fixture
//! lsw1:0327253802457442cc91bbc2f38762d1 tests/fixtures/settings.py
//! ```
//!
//! An entry without a path accepts that secret (rule + value) everywhere; with a path (a
//! project-relative path or glob) only there. Fingerprints use the config's salt, like
//! the ones reports print. A line that is not an entry is an error naming the file and
//! line; a fingerprint of a newer scheme (`lsw2:`) is refused, never ignored.

use std::io::Write;
use std::path::{Path, PathBuf};

use globset::GlobSet;

use crate::error::Error;
use crate::finding::fingerprint::PREFIX;

use super::paths::glob_set;

/// One accepted fingerprint.
#[derive(Debug, Clone)]
pub struct IgnoreEntry {
    /// The fingerprint (`lsw1:...`).
    pub fingerprint: String,
    /// The path or glob it is limited to, if any.
    pub path: Option<String>,
    /// 1-based line in the file.
    pub line: usize,
    glob: Option<GlobSet>,
}

/// A parsed ignore file.
#[derive(Debug, Clone, Default)]
pub struct IgnoreFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its entries, in file order.
    pub entries: Vec<IgnoreEntry>,
}

/// Checks the printed form of a fingerprint: `lsw1:` and 32 lowercase hex digits.
pub fn check_fingerprint(s: &str) -> Result<(), String> {
    if let Some(hex) = s.strip_prefix(PREFIX) {
        if hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Ok(());
        }
        return Err(format!(
            "{s:?} is not a fingerprint ({PREFIX} and 32 lowercase hex digits, as reports print them)"
        ));
    }
    if let Some(v) = s
        .strip_prefix("lsw")
        .and_then(|r| r.split_once(':'))
        .and_then(|(v, _)| v.parse::<u32>().ok())
    {
        return Err(format!(
            "fingerprint scheme lsw{v} is newer than this leaksweep understands ({PREFIX}); \
             upgrade leaksweep"
        ));
    }
    Err(format!(
        "{s:?} is not a fingerprint ({PREFIX} and 32 lowercase hex digits, as reports print them)"
    ))
}

impl IgnoreFile {
    /// Reads `path`. A missing file is `Ok(None)`.
    pub fn load(path: &Path) -> Result<Option<IgnoreFile>, Error> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| Error::Other(format!("{}: not UTF-8 text", path.display())))?;
                IgnoreFile::parse(path, &text).map(Some)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Parses the text of the ignore file `path`.
    pub fn parse(path: &Path, text: &str) -> Result<IgnoreFile, Error> {
        let mut entries = Vec::new();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = strip_comment(raw).trim();
            if content.is_empty() {
                continue;
            }
            let (fp, rest) = content
                .split_once(char::is_whitespace)
                .map_or((content, ""), |(a, b)| (a, b.trim()));
            check_fingerprint(fp)
                .map_err(|m| Error::Other(format!("{}:{line}: {m}", path.display())))?;
            let (path_part, glob) = if rest.is_empty() {
                (None, None)
            } else {
                let anchored = format!("/{}", rest.trim_start_matches("./"));
                let g = glob_set([anchored.as_str()])
                    .map_err(|m| Error::Other(format!("{}:{line}: {m}", path.display())))?;
                (Some(rest.to_string()), Some(g))
            };
            entries.push(IgnoreEntry {
                fingerprint: fp.to_string(),
                path: path_part,
                line,
                glob,
            });
        }
        Ok(IgnoreFile {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// True if `fingerprint` at the project-relative path `rel` is accepted.
    pub fn matches(&self, fingerprint: &str, rel: &str) -> bool {
        self.entries.iter().any(|e| {
            e.fingerprint == fingerprint && e.glob.as_ref().map_or(true, |g| g.is_match(rel))
        })
    }

    /// True if the exact entry (fingerprint and path) is already listed.
    pub fn has_entry(&self, fingerprint: &str, path: Option<&str>) -> bool {
        self.entries
            .iter()
            .any(|e| e.fingerprint == fingerprint && e.path.as_deref() == path)
    }
}

/// A `#` starts a comment at the start of a line or after whitespace.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace)) {
            return line.get(..i).unwrap_or("");
        }
    }
    line
}

/// Appends an entry with its reason (a comment line above it) to the ignore file at
/// `path`, creating the file with a header if needed.
pub fn append(
    path: &Path,
    fingerprint: &str,
    entry_path: Option<&str>,
    reason: &str,
) -> Result<(), Error> {
    check_fingerprint(fingerprint).map_err(Error::Other)?;
    let existing = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(path, e)),
    };
    if let Some(text) = &existing {
        // Refuse to append to a file that would not parse afterwards.
        IgnoreFile::parse(path, text)?;
    }
    let mut out = String::new();
    match &existing {
        None => out.push_str(
            "# leaksweep ignore file: accepted findings, one fingerprint per line, with an\n\
             # optional project-relative path. Add entries with `leaksweep ignore add`.\n",
        ),
        Some(t) if !t.is_empty() && !t.ends_with('\n') => out.push('\n'),
        Some(_) => {}
    }
    let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    out.push_str(&format!("# {reason}\n{fingerprint}"));
    if let Some(p) = entry_path {
        out.push(' ');
        out.push_str(p);
    }
    out.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.write_all(out.as_bytes()).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "lsw1:0327253802457442cc91bbc2f38762d1";

    #[test]
    fn parses_and_matches() {
        let text = format!(
            "# header\n\n{FP}\n# reason\n{} tests/a b.py # trailing\n",
            FP.replace("03", "04")
        );
        let f = IgnoreFile::parse(Path::new(".leaksweepignore"), &text).unwrap();
        assert_eq!(f.entries.len(), 2);
        assert!(f.matches(FP, "any/where.rs"));
        let other = FP.replace("03", "04");
        assert!(f.matches(&other, "tests/a b.py"));
        assert!(!f.matches(&other, "src/a b.py"));
        assert_eq!(f.entries[1].line, 5);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let e = IgnoreFile::parse(Path::new("ig"), &format!("{FP}\nnot-a-fingerprint\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("ig:2: \"not-a-fingerprint\" is not a fingerprint"),
            "{e}"
        );
        let e = IgnoreFile::parse(Path::new("ig"), "lsw2:abcd\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("ig:1: fingerprint scheme lsw2 is newer"),
            "{e}"
        );
        let e = IgnoreFile::parse(Path::new("ig"), &format!("{}\n", FP.to_uppercase()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a fingerprint"), "{e}");
    }
}
