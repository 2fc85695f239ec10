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
/// A file up to this size is read whole by its first `read` and then examined: most
/// source files are smaller, and one call each instead of a probe, a rewind and two reads
/// to the end took a directory scan from about 3.6 reads and a seek per file to one. A
/// binary file of this size is read whole for nothing; a larger one is read in two steps
/// (the head, examined, then the rest), so that skipping it costs one read.
const WHOLE_READ: usize = 64 * 1024;

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

/// Reads from `file` into `buf[at..to]` until that is full or the file ends; returns
/// where the bytes read end. `buf` keeps its length from file to file (it is never
/// cleared), so a read zeroes memory only when the file is the largest so far.
fn fill(file: &mut File, buf: &mut Vec<u8>, mut at: usize, to: usize) -> std::io::Result<usize> {
    if buf.len() < to {
        buf.resize(to, 0);
    }
    while at < to {
        match file.read(&mut buf[at..to]) {
            Ok(0) => break,
            Ok(n) => at += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(at)
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
    let outcome = if len >= STREAM_THRESHOLD {
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
        stream_outcome(ctx, Box::new(file), display, Some(len))
    } else {
        // Below the threshold the size fits in memory and in `usize`.
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let buf = &mut scratch.buf;
        // A regular file of size 0 may still have bytes (files under /proc): read a
        // probe's worth, and on to the end below if it fills.
        let first = if len == 0 {
            BINARY_PROBE
        } else {
            len.min(WHOLE_READ)
        };
        let mut got = match fill(&mut file, buf, 0, first) {
            Ok(n) => n,
            Err(e) => return skipped(display, "unreadable", e.to_string()),
        };
        let head = &buf[..got.min(BINARY_PROBE)];
        if Compression::sniff(head).is_some() || Utf16::sniff(head).is_some() {
            if let Err(e) = file.seek(SeekFrom::Start(0)) {
                return skipped(display, "unreadable", e.to_string());
            }
            return stream_outcome(ctx, Box::new(file), display, None);
        }
        if !policy.explicit && is_binary(head) {
            return skipped(display, "binary", String::new());
        }
        let rest = if len == 0 && got == first {
            // A pseudo-file: to its end, as far as the stream threshold.
            buf.truncate(got);
            (&mut file)
                .take(STREAM_THRESHOLD - got as u64)
                .read_to_end(buf)
                .map(|n| got + n)
        } else {
            fill(&mut file, buf, got, len)
        };
        got = match rest {
            Ok(n) => n,
            Err(e) => return skipped(display, "read-error", e.to_string()),
        };
        let data = &buf[..got];
        let found = scan_slice(ctx, data, display, &mut scratch.engine);
        FileOutcome::Scanned(found, got as u64)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const SECRET: &str = "tok_q8Zr2mV9xK4tW7pLa1b2"; // leaksweep:allow (test fixture)

    fn walked() -> FilePolicy {
        FilePolicy {
            max_file_size: u64::MAX,
            explicit: false,
        }
    }

    fn scan(path: &Path, policy: FilePolicy, scratch: &mut FileScratch) -> FileOutcome {
        let ctx = crate::testutil::context("", 1 << 20);
        scan_file(&ctx, path, "f", policy, scratch)
    }

    /// Files read in one step, in two (head, then the rest) and after a larger one (the
    /// reused buffer then holds stale bytes past the file's end) all yield exactly their
    /// own bytes and secrets, wherever the secret sits.
    #[test]
    fn reads_each_file_whole_whatever_the_buffer_held() {
        let dir = tempfile::tempdir().unwrap();
        let mut scratch = FileScratch::default();
        for size in [WHOLE_READ * 3, 100, WHOLE_READ - 1, WHOLE_READ + 7, 40] {
            let mut text = "x".repeat(size.saturating_sub(SECRET.len() + 2));
            text.push(' ');
            text.push_str(SECRET);
            text.push('\n');
            let path = dir.path().join(format!("f{size}"));
            std::fs::write(&path, &text).unwrap();
            match scan(&path, walked(), &mut scratch) {
                FileOutcome::Scanned(found, bytes) => {
                    assert_eq!(bytes, text.len() as u64, "size {size}");
                    assert_eq!(found.len(), 1, "size {size}");
                }
                other => panic!("size {size}: {other:?}"),
            }
        }
        // A file without the secret after all of them: nothing stale is found.
        let path = dir.path().join("clean");
        std::fs::write(&path, "short and clean\n").unwrap();
        match scan(&path, walked(), &mut scratch) {
            FileOutcome::Scanned(found, 16) => assert!(found.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    /// A NUL in the head skips a walked file whether it was read whole or only its head;
    /// a named one is scanned through.
    #[test]
    fn binary_heads_skip_walked_files_of_any_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut scratch = FileScratch::default();
        for size in [200, WHOLE_READ * 2] {
            let mut data = vec![0u8, 1, 2];
            data.extend(std::iter::repeat_n(b'a', size));
            data.extend_from_slice(format!(" {SECRET}\n").as_bytes());
            let path = dir.path().join(format!("b{size}"));
            std::fs::write(&path, &data).unwrap();
            assert!(matches!(
                scan(&path, walked(), &mut scratch),
                FileOutcome::Skipped(s) if s.reason == "binary"
            ));
            let named = FilePolicy {
                explicit: true,
                ..walked()
            };
            match scan(&path, named, &mut scratch) {
                FileOutcome::Scanned(found, bytes) => {
                    assert_eq!(bytes, data.len() as u64);
                    assert_eq!(found.len(), 1);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    /// A compressed file is recognised in the bytes already read and streamed from its
    /// start.
    #[test]
    fn compressed_files_are_rewound_and_decompressed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain-name");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(format!("key {SECRET}\n").as_bytes()).unwrap();
        std::fs::write(&path, e.finish().unwrap()).unwrap();
        match scan(&path, walked(), &mut FileScratch::default()) {
            FileOutcome::Scanned(found, _) => assert_eq!(found.len(), 1),
            other => panic!("{other:?}"),
        }
    }

    /// Files under /proc say they are empty and are not: they are read to their end.
    #[cfg(target_os = "linux")]
    #[test]
    fn pseudo_files_of_size_zero_are_read() {
        let path = Path::new("/proc/self/status");
        assert_eq!(std::fs::metadata(path).unwrap().len(), 0);
        match scan(path, walked(), &mut FileScratch::default()) {
            FileOutcome::Scanned(_, bytes) => assert!(bytes > 100, "{bytes} bytes"),
            other => panic!("{other:?}"),
        }
    }
}
