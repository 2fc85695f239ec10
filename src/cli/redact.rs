//! `leaksweep redact`: write a copy of files or standard input with every secret masked.
//!
//! Output goes to stdout, to `--output FILE` (created with mode 0600), or with
//! `--in-place` back over each input: through a temporary file (mode 0600) in the same
//! directory, flushed to disk, then renamed over the original, so a crash leaves the
//! original or the redacted copy, never half of one. The input is never modified
//! otherwise.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};

use crate::redact::{redact_stream, Mask, RedactStats};
use crate::scan::ScanContext;
use crate::source::input::{Compression, Utf16};

use super::args::RuleArgs;
use super::common;
use super::{EXIT_CLEAN, EXIT_ERROR};

/// How secrets are masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MaskStyle {
    /// `*` for every byte of the secret (line breaks kept): offsets and lines unchanged.
    SameLength,
    /// The secret is replaced by the marker (`--marker`).
    Marker,
}

/// Flags of `leaksweep redact`.
#[derive(Debug, Args)]
pub struct RedactArgs {
    /// Files to redact; `-` reads standard input. Several files are written one after
    /// the other (or each in place with --in-place).
    #[arg(value_name = "FILE", default_value = "-")]
    pub paths: Vec<PathBuf>,
    /// Write the copy to FILE (created with mode 0600) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE", conflicts_with = "in_place")]
    pub output: Option<PathBuf>,
    /// Replace each FILE with its redacted copy (via a 0600 temporary file in the same
    /// directory, renamed over the original). Not for standard input, compressed or
    /// UTF-16 files.
    #[arg(long)]
    pub in_place: bool,
    /// How to mask a secret.
    #[arg(long, value_enum, default_value_t = MaskStyle::SameLength)]
    pub mask: MaskStyle,
    /// The marker for --mask marker.
    #[arg(long, value_name = "TEXT", default_value = "[REDACTED]")]
    pub marker: String,
    /// How many nested encodings to undo when looking for secrets (0: none).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub max_decode_depth: u8,
    /// Print nothing on stderr unless something went wrong.
    #[arg(short, long)]
    pub quiet: bool,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Chunk size (tests shrink it to put secrets on chunk boundaries).
    #[arg(long, hide = true, value_parser = super::args::parse_size)]
    pub chunk_size: Option<u64>,
    /// Rule selection.
    #[command(flatten)]
    pub rules: RuleArgs,
}

fn open_input(p: &Path) -> anyhow::Result<Box<dyn Read + Send>> {
    if p.as_os_str() == "-" {
        return Ok(Box::new(io::stdin()));
    }
    if p.is_dir() {
        bail!(
            "{}: is a directory (redact takes files; use a shell glob)",
            p.display()
        );
    }
    let f = File::open(p).with_context(|| format!("opening {}", p.display()))?;
    Ok(Box::new(f))
}

fn redact_one(
    ctx: &ScanContext,
    p: &Path,
    mask: &Mask,
    out: &mut dyn Write,
) -> anyhow::Result<RedactStats> {
    let display = if p.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        p.display().to_string()
    };
    let input = open_input(p)?;
    let stats = redact_stream(ctx, input, &display, mask, out, &mut |_| {});
    if let Some(e) = stats.write_error {
        return Err(
            anyhow::Error::new(e).context(format!("writing the redacted copy of {display}"))
        );
    }
    if let Some(e) = &stats.end.error {
        bail!(
            "{display}: read error after {} bytes: {e}; the copy is incomplete (the bytes \
             before the error were written, redacted)",
            stats.end.bytes
        );
    }
    Ok(stats)
}

/// Refuses in-place redaction of inputs whose copy would not be the same format.
fn check_in_place(p: &Path) -> anyhow::Result<()> {
    if p.as_os_str() == "-" {
        bail!("--in-place needs files, not standard input");
    }
    let mut head = [0u8; 4096];
    let mut f = File::open(p).with_context(|| format!("opening {}", p.display()))?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let head = &head[..n];
    if let Some(c) = Compression::sniff(head) {
        bail!(
            "{}: is {}-compressed; redact it to a new file with --output (it is written \
             decompressed)",
            p.display(),
            c.as_str()
        );
    }
    if Utf16::sniff(head).is_some() {
        bail!(
            "{}: is UTF-16; redact it to a new file with --output (it is written as UTF-8)",
            p.display()
        );
    }
    Ok(())
}

fn in_place(ctx: &ScanContext, p: &Path, mask: &Mask) -> anyhow::Result<u64> {
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // tempfile creates the file with mode 0600 and a random name, exclusively.
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".leaksweep-tmp")
        .tempfile_in(&dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    let mut w = io::BufWriter::new(tmp);
    let stats = redact_one(ctx, p, mask, &mut w)?;
    let tmp = w.into_inner().map_err(|e| {
        anyhow::anyhow!(
            "writing the redacted copy of {}: {}",
            p.display(),
            e.error()
        )
    })?;
    if stats.masked == 0 {
        // Nothing to mask: leave the original (and its timestamps) alone.
        return Ok(0);
    }
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("flushing the redacted copy of {}", p.display()))?;
    tmp.persist(p)
        .map_err(|e| anyhow::anyhow!("replacing {}: {}", p.display(), e.error))?;
    if let Ok(d) = File::open(&dir) {
        // Make the rename itself durable.
        let _ = d.sync_all();
    }
    Ok(stats.masked)
}

/// Runs `leaksweep redact`.
pub fn run(args: &RedactArgs) -> anyhow::Result<i32> {
    let engine = common::build_engine(common::load_rules(&args.rules)?)?;
    let mut ctx = ScanContext::new(engine);
    ctx.decode.max_depth = args.max_decode_depth;
    if let Some(c) = args.chunk_size {
        ctx.chunk_size = usize::try_from(c).unwrap_or(usize::MAX).max(1024);
    }
    let mask = match args.mask {
        MaskStyle::SameLength => Mask::SameLength,
        MaskStyle::Marker => Mask::Marker(args.marker.clone().into_bytes()),
    };
    let stdin_count = args.paths.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin_count > 1 {
        bail!("standard input (-) can be named once");
    }
    if args.threads > 0 {
        // The stream scans on rayon's global pool; an error means it already exists.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(args.threads)
            .build_global();
    }
    let mut total = 0u64;
    let mut errors = 0;
    if args.in_place {
        for p in &args.paths {
            check_in_place(p)?;
        }
        for p in &args.paths {
            match in_place(&ctx, p, &mask) {
                Ok(n) => {
                    total += n;
                    if !args.quiet {
                        eprintln!("leaksweep: {}: {n} secret(s) masked", p.display());
                    }
                }
                Err(e) => {
                    errors += 1;
                    eprintln!("leaksweep: error: {e:#} (the original is unchanged)");
                }
            }
        }
    } else {
        let mut w: Box<dyn Write> = match &args.output {
            Some(o) => Box::new(io::BufWriter::new(
                crate::private_fs::create(o)
                    .with_context(|| format!("creating {}", o.display()))?,
            )),
            None => Box::new(io::BufWriter::new(io::stdout().lock())),
        };
        for p in &args.paths {
            match redact_one(&ctx, p, &mask, &mut *w) {
                Ok(s) => total += s.masked,
                Err(e) => {
                    if super::output::is_broken_pipe(&e) {
                        return Ok(EXIT_CLEAN);
                    }
                    errors += 1;
                    eprintln!("leaksweep: error: {e:#}");
                }
            }
        }
        if let Err(e) = w.flush() {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(EXIT_CLEAN);
            }
            return Err(anyhow::Error::new(e).context("writing the redacted copy"));
        }
    }
    if !args.quiet {
        eprintln!(
            "leaksweep: {total} secret(s) masked in {} input(s)",
            args.paths.len()
        );
    }
    Ok(if errors > 0 { EXIT_ERROR } else { EXIT_CLEAN })
}
