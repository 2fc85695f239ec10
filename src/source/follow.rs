//! Following a growing log (`scan --follow`): poll for new lines, scan them, and keep
//! going across rotation and truncation, as `tail -F` does.
//!
//! Polling (every `FollowOptions::poll`) needs no platform file-watching API and costs
//! one `stat` per interval. Each round reads what was appended, scans the complete
//! lines together with a window of the lines before them (so a multi-line secret, a PEM
//! block written line by line, is found once it is whole), and reports only findings not
//! reported before (by offset and rule). A partial last line waits for its newline,
//! unless it grows past the chunk size.
//!
//! - **Rotation** (the path now names another file: `mv app.log app.log.1` and a new
//!   `app.log`): the old file is read to its end, then the new one from its start.
//! - **Truncation** (`copytruncate`, `> app.log`): the file is read again from its start.
//! - **Missing** file: waited for.
//!
//! Line numbers restart at 1 after a rotation or truncation: they are the file's.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::engine::{Scratch, MAX_MATCH_SPAN};
use crate::finding::Finding;

use crate::scan::{char_count, count_lines, scan_chunk, Position, ScanContext};

/// Follow settings.
#[derive(Debug, Clone, Copy)]
pub struct FollowOptions {
    /// Start at the end of the file: report only lines written from now on.
    pub from_end: bool,
    /// How often to look for new data.
    pub poll: Duration,
}

/// What happened while following, for the caller to print.
#[derive(Debug)]
pub enum FollowEvent<'a> {
    /// New findings, in file order.
    Findings(&'a [Finding]),
    /// The path now names a new file (rotation); it is read from its start.
    Rotated,
    /// The file shrank (truncation); it is read again from its start.
    Truncated,
    /// The path does not exist (yet, or between rotation steps); waiting for it.
    Missing,
    /// A read error; the file is reopened on the next round.
    Error(io::Error),
}

#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// The scanning state of one file.
struct Tail {
    /// Already-scanned complete lines kept as context (at most `MAX_MATCH_SPAN`).
    window: Vec<u8>,
    /// Offset and 0-based line of `window[0]`.
    window_at: Position,
    /// Bytes read after the window: an incomplete last line.
    pending: Vec<u8>,
    /// (offset, rule id) of findings already reported that may be found again.
    reported: HashSet<(u64, String)>,
    scratch: Scratch,
}

impl Tail {
    fn new(at: Position) -> Tail {
        Tail {
            window: Vec::new(),
            window_at: at,
            pending: Vec::new(),
            reported: HashSet::new(),
            scratch: Scratch::default(),
        }
    }

    /// Scans `window + pending[..upto]` and returns the findings not reported before.
    fn scan(&mut self, ctx: &ScanContext, upto: usize, path: &str) -> Vec<Finding> {
        let mut hay = std::mem::take(&mut self.window);
        hay.extend(self.pending.drain(..upto));
        let mut found = Vec::new();
        scan_chunk(
            ctx,
            &hay,
            0..hay.len(),
            self.window_at,
            path,
            &mut self.scratch,
            &mut found,
        );
        found.retain(|f| self.reported.insert((f.offset, f.rule_id.clone())));
        // Keep the last MAX_MATCH_SPAN bytes, from a line start, as the next window. A
        // line longer than that is cut (on a character boundary) and its end kept, so
        // that a secret across the cut is whole in the next round and its column counts
        // the characters before the window.
        let keep_from = if hay.len() > MAX_MATCH_SPAN {
            let cut = hay.len() - MAX_MATCH_SPAN;
            match memchr::memchr(b'\n', &hay[cut..]) {
                Some(i) => cut + i + 1,
                None => {
                    let mut c = cut;
                    while c < hay.len() && (hay[c] & 0xC0) == 0x80 {
                        c += 1;
                    }
                    c
                }
            }
        } else {
            0
        };
        let dropped = &hay[..keep_from];
        self.window_at.offset += keep_from as u64;
        self.window_at.line += count_lines(dropped);
        self.window_at.column = match memchr::memrchr(b'\n', dropped) {
            Some(i) => char_count(&dropped[i + 1..]),
            None => self.window_at.column + char_count(dropped),
        };
        hay.drain(..keep_from);
        self.window = hay;
        let floor = self.window_at.offset;
        self.reported.retain(|(o, _)| *o >= floor);
        found
    }

    /// Scans the complete lines of `pending` (all of it if `all`, or if it outgrew a
    /// chunk without a newline).
    fn scan_ready(&mut self, ctx: &ScanContext, all: bool, path: &str) -> Vec<Finding> {
        let upto = if all || self.pending.len() >= ctx.chunk_size {
            self.pending.len()
        } else {
            memchr::memrchr(b'\n', &self.pending).map_or(0, |i| i + 1)
        };
        if upto == 0 {
            return Vec::new();
        }
        self.scan(ctx, upto, path)
    }
}

/// Counts the newlines of `file` up to its end and returns (bytes, lines).
fn skip_to_end(file: &mut File) -> io::Result<Position> {
    let mut buf = vec![0u8; 1 << 20];
    let mut at = Position::default();
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(at),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        at.offset += n as u64;
        at.line += count_lines(&buf[..n]);
    }
}

/// Follows `path` until `stop` is set, reporting through `on_event`. Returns early with
/// `Ok(())` when `on_event` returns false (the output went away).
pub fn follow(
    ctx: &ScanContext,
    path: &Path,
    display: &str,
    opts: FollowOptions,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(FollowEvent<'_>) -> bool,
) -> io::Result<()> {
    let mut file = File::open(path)?;
    let mut ident = identity(&file.metadata()?);
    let mut tail = Tail::new(Position::default());
    let mut pos = 0u64;
    if opts.from_end {
        let at = skip_to_end(&mut file)?;
        pos = at.offset;
        tail = Tail::new(at);
    }
    let mut missing = false;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        // Read what was appended, scanning as it comes so memory stays bounded.
        loop {
            let n = match file.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if !on_event(FollowEvent::Error(e)) {
                        return Ok(());
                    }
                    0
                }
            };
            if n == 0 {
                break;
            }
            pos += n as u64;
            tail.pending.extend_from_slice(&buf[..n]);
            if tail.pending.len() >= ctx.chunk_size {
                let found = tail.scan_ready(ctx, false, display);
                if !found.is_empty() && !on_event(FollowEvent::Findings(&found)) {
                    return Ok(());
                }
            }
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
        }
        let found = tail.scan_ready(ctx, false, display);
        if !found.is_empty() && !on_event(FollowEvent::Findings(&found)) {
            return Ok(());
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        match std::fs::metadata(path) {
            Err(_) => {
                if !missing {
                    missing = true;
                    if !on_event(FollowEvent::Missing) {
                        return Ok(());
                    }
                }
            }
            Ok(meta) => {
                missing = false;
                if identity(&meta) != ident {
                    // Rotated: the old file was read to its end above; flush its last
                    // partial line, then switch.
                    if let Ok(f) = File::open(path) {
                        let found = tail.scan_ready(ctx, true, display);
                        if !found.is_empty() && !on_event(FollowEvent::Findings(&found)) {
                            return Ok(());
                        }
                        ident = f.metadata().map_or(ident, |m| identity(&m));
                        file = f;
                        pos = 0;
                        tail = Tail::new(Position::default());
                        if !on_event(FollowEvent::Rotated) {
                            return Ok(());
                        }
                        continue;
                    }
                } else if meta.len() < pos {
                    file.seek(SeekFrom::Start(0))?;
                    pos = 0;
                    tail = Tail::new(Position::default());
                    if !on_event(FollowEvent::Truncated) {
                        return Ok(());
                    }
                    continue;
                }
            }
        }
        // Sleep in short steps so that a stop request is seen quickly.
        let mut slept = Duration::ZERO;
        while slept < opts.poll {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let step = (opts.poll - slept).min(Duration::from_millis(50));
            std::thread::sleep(step);
            slept += step;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ScanContext {
        crate::testutil::context(
            r#"
[[rule]]
id = "block"
name = "Block"
keywords = ["begin block"]
multiline = true
regex = '''(?s)BEGIN BLOCK\n(.{10,200}?)\nEND BLOCK'''
examples = ["BEGIN BLOCK\nq8Zr2mV9xK4tW7pL\nEND BLOCK"]
negative_examples = ["BEGIN BLOCK"]
"#,
            crate::scan::CHUNK_SIZE,
        )
    }

    #[test]
    fn a_block_written_line_by_line_is_reported_once_when_whole() {
        let c = ctx();
        let mut t = Tail::new(Position::default());
        let mut all = Vec::new();
        for part in [
            "x\nBEGIN BLOCK\n",
            "q8Zr2mV9",
            "xK4tW7pL\n",
            "END BLOCK\n",
            "tok_q8Zr2mV9xK4tW7pLa1b2\n",
            "y\n",
        ] {
            t.pending.extend_from_slice(part.as_bytes());
            all.extend(t.scan_ready(&c, false, "p"));
        }
        let got: Vec<(&str, u64)> = all.iter().map(|f| (f.rule_id.as_str(), f.line)).collect();
        assert_eq!(got, vec![("block", 3), ("tok", 5)]);
    }

    #[test]
    fn issue_9_a_line_longer_than_the_window_keeps_its_secrets_and_columns() {
        let mut c = ctx();
        c.chunk_size = 4096;
        let mut t = Tail::new(Position::default());
        let mut all = Vec::new();
        // One line of 3 * MAX_MATCH_SPAN bytes, written in 1000-byte pieces, with a token
        // at a known column in the middle and another across a piece boundary.
        let mut line = "é".repeat(10);
        line.push_str(&"a ".repeat(MAX_MATCH_SPAN));
        let first_col = line.chars().count() + 1;
        line.push_str("tok_q8Zr2mV9xK4tW7pLa1b2 ");
        line.push_str(&"b ".repeat(MAX_MATCH_SPAN / 2));
        let second_col = line.chars().count() + 1;
        line.push_str("tok_Zx81Kq02mNv7Ps33Lw9T\n");
        for piece in line.as_bytes().chunks(1000) {
            t.pending.extend_from_slice(piece);
            all.extend(t.scan_ready(&c, false, "p"));
        }
        all.extend(t.scan_ready(&c, true, "p"));
        let got: Vec<(u64, u64)> = all.iter().map(|f| (f.line, f.column)).collect();
        assert_eq!(got, vec![(1, first_col as u64), (1, second_col as u64)]);
    }
}
