//! Reading one file: plain read for small files, memory map for large regular files,
//! streaming for everything that is not a regular file.
//!
//! # Binary policy
//! A file found by walking is skipped as `binary` if its first 8 KiB hold a NUL byte or
//! its extension names a binary format. A file named explicitly on the command line is
//! always scanned (logs with stray NULs are still logs), as ripgrep does.
//!
//! # Memory maps
//! Files of at least [`MMAP_THRESHOLD`] bytes are mapped. The map is read-only and the
//! scan reads it once; a file truncated while mapped (log rotation with `copytruncate`)
//! could raise SIGBUS, so maps are used for regular files only and small files are read.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::engine::Scratch;
use crate::finding::{Finding, Skipped};

use super::{scan_reader, scan_slice, ScanContext};

/// Files at least this large are memory-mapped instead of read.
pub const MMAP_THRESHOLD: u64 = 4 << 20;
/// How much of a file's start is examined for NUL bytes.
pub const BINARY_PROBE: usize = 8 * 1024;

/// Extensions of formats that are binary (or compressed) and never hold greppable text.
const BINARY_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "bmp", "ico", "icns", "webp", "tif", "tiff", "psd", "mp3", "mp4",
    "m4a", "mov", "avi", "mkv", "webm", "ogg", "flac", "wav", "woff", "woff2", "ttf", "otf", "eot",
    "zip", "7z", "rar", "xz", "bz2", "tgz", "jar", "war", "ear", "class", "so", "dylib", "dll",
    "exe", "o", "a", "lib", "obj", "pyc", "pyo", "wasm", "pdf", "doc", "docx", "xls", "xlsx",
    "ppt", "pptx", "sqlite", "db", "bin", "dat", "iso", "dmg", "img",
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
        let (found, stats, err) =
            scan_reader(ctx, &mut file, display, &mut scratch.engine, &mut |_| {});
        return match err {
            Some(e) => skipped(display, "read-error", e.to_string()),
            None => FileOutcome::Scanned(found, stats.bytes),
        };
    }
    let len = meta.len();
    if !policy.explicit && len > policy.max_file_size {
        return skipped(
            display,
            "too-large",
            format!("{len} bytes > --max-file-size {}", policy.max_file_size),
        );
    }
    if len >= MMAP_THRESHOLD {
        // SAFETY: the map is read-only and only read; see the module docs for the
        // truncation caveat, which is why only regular files reach this point.
        if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
            if !policy.explicit && is_binary(&map[..map.len().min(BINARY_PROBE)]) {
                return skipped(display, "binary", String::new());
            }
            let found = scan_slice(ctx, &map, display, &mut scratch.engine);
            return FileOutcome::Scanned(found, map.len() as u64);
        }
        // A failed map falls back to streaming.
        let (found, stats, err) =
            scan_reader(ctx, &mut file, display, &mut scratch.engine, &mut |_| {});
        return match err {
            Some(e) => skipped(display, "read-error", e.to_string()),
            None => FileOutcome::Scanned(found, stats.bytes),
        };
    }
    scratch.buf.clear();
    if let Err(e) = (&mut file)
        .take(len.saturating_add(1))
        .read_to_end(&mut scratch.buf)
    {
        return skipped(display, "read-error", e.to_string());
    }
    let data = &scratch.buf;
    if !policy.explicit && is_binary(&data[..data.len().min(BINARY_PROBE)]) {
        return skipped(display, "binary", String::new());
    }
    let found = scan_slice(ctx, data, display, &mut scratch.engine);
    FileOutcome::Scanned(found, data.len() as u64)
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
