//! Reading one file: plain read for small files, the parallel stream for large files,
//! compressed and UTF-16 files, and everything that is not a regular file.
//!
//! # Binary policy
//! A file found by walking is skipped as `binary` if its first 8 KiB hold a NUL byte or
//! its extension names a binary format. A file named explicitly on the command line is
//! always scanned (logs with stray NULs are still logs), as ripgrep does.
//!
//! # Large files are streamed, not mapped
//! Files of at least [`STREAM_THRESHOLD`] bytes are read by the parallel stream
//! ([`super::stream`]): a reader thread reads 256 KiB pieces while every core scans
//! 4 MiB chunks. A memory map was measured no faster on a 1 GiB log (see docs/benchmarks.md),
//! counts the whole file in the process's resident memory, and raises SIGBUS when the
//! file is truncated while mapped (log rotation with `copytruncate`); a read just ends
//! early, which is reported as `shrank`.
//!
//! # Compressed, UTF-16 and damaged files
//! gzip, zstd and bzip2 files (recognised by their magic bytes, whatever their name)
//! are decompressed on the fly; UTF-16 files are transcoded ([`super::input`]). A
//! damaged archive is scanned up to the damage: its findings are kept and the file is
//! reported as `truncated` (or `corrupt`). A file named `.gz` that is not gzip is
//! scanned as plain text and reported as `not-compressed`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::engine::Scratch;
use crate::finding::{Finding, Skipped};

use super::input::{BoxRead, Compression, Utf16};
use super::stream::{scan_stream, StreamOptions};
use crate::scan::{scan_slice, ScanContext};

/// Files at least this large are streamed on every core instead of read whole.
pub const STREAM_THRESHOLD: u64 = 4 << 20;
/// How much of a file's start is examined for NUL bytes.
pub const BINARY_PROBE: usize = 8 * 1024;

/// Extensions of formats that are binary (or compressed) and never hold greppable text.
const BINARY_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "bmp", "ico", "icns", "webp", "tif", "tiff", "psd", "mp3", "mp4",
    "m4a", "mov", "avi", "mkv", "webm", "ogg", "flac", "wav", "woff", "woff2", "ttf", "otf", "eot",
    "zip", "7z", "rar", "xz", "tgz", "jar", "war", "ear", "class", "so", "dylib", "dll", "exe",
    "o", "a", "lib", "obj", "pyc", "pyo", "wasm", "pdf", "doc", "docx", "xls", "xlsx", "ppt",
    "pptx", "sqlite", "db", "bin", "dat", "iso", "dmg", "img",
];

/// Per-thread state for file scanning.
#[derive(Debug, Default)]
pub struct FileScratch {
    /// Engine scratch.
    pub engine: Scratch,
    /// Reused read buffer.
    pub buf: Vec<u8>,
}

/// What scanning a file produced.
#[derive(Debug)]
pub enum FileOutcome {
    /// Scanned: findings and bytes read.
    Scanned(Vec<Finding>, u64),
    /// Scanned in part, or with a caveat the user must hear about: a damaged archive
    /// scanned up to the damage, a read error or a shrinking file, a `.gz` that is not
    /// gzip. Findings and bytes are those of the part that was scanned.
    Partial(Vec<Finding>, u64, Skipped),
    /// Not scanned.
    Skipped(Skipped),
}

/// Options that decide whether a file is scanned.
#[derive(Debug, Clone, Copy)]
pub struct FilePolicy {
    /// Skip walked files larger than this.
    pub max_file_size: u64,
    /// The file was named on the command line (no binary or size skip).
    pub explicit: bool,
}

fn skipped(path: &str, reason: &str, detail: String) -> FileOutcome {
    FileOutcome::Skipped(Skipped {
        path: path.to_string(),
        reason: reason.to_string(),
        detail,
    })
}

/// True if the extension names a binary format.
pub fn has_binary_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| BINARY_EXTENSIONS.iter().any(|b| b.eq_ignore_ascii_case(e)))
}

/// Scans a stream (compressed, UTF-16, large or not a regular file) and turns how it
/// ended into an outcome. `expected` is the file's size when it was opened, to notice a
/// file that shrank while read.
fn stream_outcome(
    ctx: &ScanContext,
    reader: BoxRead,
    display: &str,
    expected: Option<u64>,
) -> FileOutcome {
    let s = scan_stream(
        ctx,
        reader,
        display,
        StreamOptions::default(),
        &mut |_| {},
        &mut |_| {},
    );
    let bytes = s.end.bytes;
    let what = s.end.kind.describe();
    if let Some(e) = s.end.error {
        let (reason, detail) = match s.end.kind.compression {
            Some(c) => {
                let reason = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    "truncated"
                } else {
                    "corrupt"
                };
                (
                    reason,
                    format!(
                        "{} stream damaged after {bytes} decompressed bytes ({e}); findings \
                         before the damage are reported",
                        c.as_str()
                    ),
                )
            }
            None => (
                "read-error",
                format!("{e} after {bytes} bytes; findings before the error are reported"),
            ),
        };
        return FileOutcome::Partial(s.findings, bytes, note(display, reason, detail));
    }
    if let Some(len) = expected {
        if what.is_empty() && bytes < len {
            return FileOutcome::Partial(
                s.findings,
                bytes,
                note(
                    display,
                    "shrank",
                    format!(
                        "the file shrank from {len} to {bytes} bytes while it was read \
                         (truncated by log rotation?); the bytes read were scanned"
                    ),
                ),
            );
        }
    }
    FileOutcome::Scanned(s.findings, bytes)
}

fn note(path: &str, reason: &str, detail: String) -> Skipped {
    Skipped {
        path: path.to_string(),
        reason: reason.to_string(),
        detail,
    }
}

/// Reads up to `buf.len()` bytes from the start of `file`, then rewinds it.
fn peek(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(got)
}

/// Scans one file.
pub fn scan_file(
    ctx: &ScanContext,
    path: &Path,
    display: &str,
    policy: FilePolicy,
    scratch: &mut FileScratch,
) -> FileOutcome {
    if !policy.explicit && has_binary_extension(path) {
        return skipped(display, "binary", String::new());
    }
    let mut file = match open(path, policy.explicit) {
        Ok(f) => f,
        Err(e) => return skipped(display, "unreadable", e.to_string()),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return skipped(display, "unreadable", e.to_string()),
    };
    if !meta.is_file() {
        // FIFOs, devices, sockets: stream explicitly named ones, skip walked ones (a FIFO
        // in a tree would block the scan forever).
        if !policy.explicit || meta.is_dir() {
            return skipped(display, "not-a-regular-file", String::new());
        }
        return stream_outcome(ctx, Box::new(file), display, None);
    }
    let len = meta.len();
    if !policy.explicit && len > policy.max_file_size {
        return skipped(
            display,
            "too-large",
            format!("{len} bytes > --max-file-size {}", policy.max_file_size),
        );
    }
    let mut head = [0u8; BINARY_PROBE];
    let n = match peek(&mut file, &mut head) {
        Ok(n) => n,
        Err(e) => return skipped(display, "unreadable", e.to_string()),
    };
    let head = &head[..n];
    if Compression::sniff(head).is_some() || Utf16::sniff(head).is_some() {
        return stream_outcome(ctx, Box::new(file), display, None);
    }
    if !policy.explicit && is_binary(head) {
        return skipped(display, "binary", String::new());
    }
    let outcome = if len >= STREAM_THRESHOLD {
        stream_outcome(ctx, Box::new(file), display, Some(len))
    } else {
        scratch.buf.clear();
        if let Err(e) = (&mut file)
            .take(len.saturating_add(1))
            .read_to_end(&mut scratch.buf)
        {
            return skipped(display, "read-error", e.to_string());
        }
        let data = &scratch.buf;
        let found = scan_slice(ctx, data, display, &mut scratch.engine);
        FileOutcome::Scanned(found, data.len() as u64)
    };
    match (outcome, Compression::from_name(display)) {
        (FileOutcome::Scanned(found, bytes), Some(c)) => FileOutcome::Partial(
            found,
            bytes,
            note(
                display,
                "not-compressed",
                format!(
                    "named like a {} file but it has no {} header; scanned as plain bytes",
                    c.as_str(),
                    c.as_str()
                ),
            ),
        ),
        (outcome, _) => outcome,
    }
}

/// Opens a file for scanning. A walked file is opened non-blocking: opening a FIFO for
/// reading blocks until a writer appears, so a FIFO in a tree (or a file swapped for one
/// after the walk saw it) would stall the scan forever before its type could be checked.
/// Reads from regular files ignore the flag. Named files open normally, so that
/// `leaksweep scan /dev/stdin` and named FIFOs are streamed.
fn open(path: &Path, explicit: bool) -> std::io::Result<File> {
    #[cfg(unix)]
    if !explicit {
        use std::os::unix::fs::OpenOptionsExt;
        return std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path);
    }
    let _ = explicit;
    File::open(path)
}

/// The binary test: a NUL byte in the probe.
pub fn is_binary(probe: &[u8]) -> bool {
    memchr::memchr(0, probe).is_some()
}
