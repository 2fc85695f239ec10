//! Streams scanned on every core with bounded memory.
//!
//! A reader thread reads the stream (and undoes compression and UTF-16, see
//! [`super::input`]) and hands pieces of at most [`PIECE`] bytes over a bounded channel.
//! The calling thread cuts them into chunks of `chunk_size` bytes plus
//! [`MAX_MATCH_SPAN`] of overlap (the overlap is owned by the next chunk, exactly as in
//! [`crate::scan::scan_reader`]), and scans a batch of up to [`MAX_BATCH`] chunks at a time on
//! the rayon pool. Results are consumed in stream order, so line numbers stay exact.
//!
//! Memory is bounded whatever the stream's length: the channel holds at most
//! [`CHANNEL_PIECES`] pieces, and at most one batch plus one chunk being filled exist.
//! With the defaults that is about 8 MiB + 5 x 4 MiB.
//!
//! A stream that stalls (a producer that stopped writing without closing the pipe) is
//! noticed: the caller is told after `StreamOptions::stall_notice`, and the stream is
//! abandoned after `StreamOptions::stall_timeout` if one is set (what arrived is still
//! scanned). The reader thread is then left blocked in `read`; it holds no lock and ends
//! with the process.

use std::io;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::engine::{Scratch, MAX_MATCH_SPAN};
use crate::finding::Finding;

use super::input::{self, BoxRead, InputKind};
use crate::scan::{count_lines, scan_chunk, Position, ScanContext};

/// The most bytes the reader thread hands over at once.
pub const PIECE: usize = 256 * 1024;
/// How many pieces may wait in the channel.
pub const CHANNEL_PIECES: usize = 32;
/// The most chunks scanned in parallel at once.
pub const MAX_BATCH: usize = 4;

/// Stall handling.
#[derive(Debug, Clone, Copy)]
pub struct StreamOptions {
    /// Tell the caller when no data arrived for this long.
    pub stall_notice: Duration,
    /// Give up on the stream when no data arrived for this long.
    pub stall_timeout: Option<Duration>,
    /// Stop decompressing a compressed stream after this many bytes (`None`: no cap;
    /// [`scan_stream`] takes the context's `--max-decompressed-size` when unset).
    pub max_decompressed: Option<u64>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            stall_notice: Duration::from_secs(10),
            stall_timeout: None,
            max_decompressed: None,
        }
    }
}

/// How a stream ended.
#[derive(Debug, Default)]
pub struct StreamEnd {
    /// Plain (decompressed, transcoded) bytes scanned.
    pub bytes: u64,
    /// What the stream was found to be.
    pub kind: InputKind,
    /// The error that ended it early (a truncated archive, an I/O error), if any.
    pub error: Option<io::Error>,
    /// Set when the stream was abandoned after `stall_timeout` without data.
    pub stalled: Option<Duration>,
    /// Set (to the cap) when decompression stopped at `StreamOptions::max_decompressed`;
    /// the bytes before the cap were scanned.
    pub capped: Option<u64>,
}

enum Piece {
    Kind(InputKind),
    /// A buffer of `PIECE` bytes of which the first `usize` were read.
    Data(Vec<u8>, usize),
    End(Option<io::Error>),
}

/// Starts the reader thread. Emptied pieces come back through `free` to be reused, so
/// the steady state allocates nothing.
fn spawn_reader(
    reader: BoxRead,
    free: Receiver<Vec<u8>>,
    max_decompressed: Option<u64>,
) -> Receiver<Piece> {
    let (tx, rx) = sync_channel(CHANNEL_PIECES);
    let spawned = std::thread::Builder::new()
        .name("leaksweep-read".into())
        .spawn(move || {
            let mut r = match input::open_capped(reader, max_decompressed) {
                Ok((r, kind)) => {
                    if tx.send(Piece::Kind(kind)).is_err() {
                        return;
                    }
                    r
                }
                Err(e) => {
                    let _ = tx.send(Piece::End(Some(e)));
                    return;
                }
            };
            loop {
                let mut buf = free.try_recv().unwrap_or_default();
                // Reused buffers keep their full length: zeroing 256 KiB for every short
                // read of a trickling pipe would cost more than the scan.
                if buf.len() < PIECE {
                    buf.resize(PIECE, 0);
                }
                match r.read(&mut buf) {
                    Ok(0) => {
                        let _ = tx.send(Piece::End(None));
                        return;
                    }
                    Ok(n) => {
                        if tx.send(Piece::Data(buf, n)).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.send(Piece::End(Some(e)));
                        return;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        // No thread: report it as the stream's error (the receiver sees the end).
        let (tx, rx) = sync_channel(1);
        let _ = tx.send(Piece::End(Some(e)));
        return rx;
    }
    rx
}

/// One chunk of a stream: `data[..owned_end]` is owned, the rest is overlap.
#[derive(Debug)]
pub struct Chunk {
    /// The bytes.
    pub data: Vec<u8>,
    /// Matches starting before this belong to this chunk.
    pub owned_end: usize,
    /// Offset of `data[0]` in the stream.
    pub offset: u64,
}

/// Reads `reader` in chunks, runs `work` on batches of chunks in parallel, and hands
/// each chunk and its result to `consume` in stream order. `on_stall` is called with
/// the time without data when a stall is noticed.
pub fn for_each_chunk<R, W, C>(
    reader: BoxRead,
    chunk_size: usize,
    opts: StreamOptions,
    work: W,
    mut consume: C,
    on_stall: &mut dyn FnMut(Duration),
) -> StreamEnd
where
    R: Send,
    W: Fn(&Chunk, &mut Scratch) -> R + Sync,
    C: FnMut(&Chunk, R),
{
    let chunk = chunk_size.max(1024);
    let cap = chunk + MAX_MATCH_SPAN;
    let (free_tx, free_rx) = sync_channel::<Vec<u8>>(CHANNEL_PIECES);
    let rx = spawn_reader(reader, free_rx, opts.max_decompressed);
    // Chunk buffers are reused too: a fresh 4 MiB buffer costs a thousand page faults.
    let mut spare: Vec<Vec<u8>> = Vec::new();
    let batch_max = rayon::current_num_threads().clamp(1, MAX_BATCH);
    let mut end = StreamEnd::default();
    let mut cur: Vec<u8> = Vec::with_capacity(cap);
    let mut offset = 0u64;
    let mut batch: Vec<Chunk> = Vec::new();
    let mut last_data = Instant::now();
    let mut noticed = false;
    let tick = opts
        .stall_timeout
        .map_or(opts.stall_notice, |t| t.min(opts.stall_notice))
        .clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        let piece = match rx.recv_timeout(tick) {
            Ok(p) => p,
            Err(RecvTimeoutError::Timeout) => {
                let idle = last_data.elapsed();
                if !noticed && idle >= opts.stall_notice {
                    noticed = true;
                    on_stall(idle);
                }
                if opts.stall_timeout.is_some_and(|t| idle >= t) {
                    end.stalled = Some(idle);
                    Piece::End(None)
                } else {
                    continue;
                }
            }
            Err(RecvTimeoutError::Disconnected) => Piece::End(None),
        };
        match piece {
            Piece::Kind(k) => end.kind = k,
            Piece::Data(data, n) => {
                last_data = Instant::now();
                noticed = false;
                end.bytes += n as u64;
                let mut rest: &[u8] = data.get(..n).unwrap_or_default();
                while !rest.is_empty() {
                    let take = rest.len().min(cap - cur.len());
                    cur.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if cur.len() == cap {
                        let nominal = cap - MAX_MATCH_SPAN;
                        let owned_end =
                            memchr::memrchr(b'\n', &cur[..nominal]).map_or(nominal, |i| i + 1);
                        let mut next = spare.pop().unwrap_or_else(|| Vec::with_capacity(cap));
                        next.extend_from_slice(&cur[owned_end..]);
                        let full = std::mem::replace(&mut cur, next);
                        batch.push(Chunk {
                            data: full,
                            owned_end,
                            offset,
                        });
                        offset += owned_end as u64;
                        if batch.len() >= batch_max {
                            run_batch(&mut batch, &mut spare, &work, &mut consume);
                        }
                    }
                }
                let _ = free_tx.try_send(data);
            }
            Piece::End(err) => {
                match err.as_ref().and_then(input::capped_at) {
                    Some(cap) => end.capped = Some(cap),
                    None => end.error = err,
                }
                if !cur.is_empty() {
                    let owned_end = cur.len();
                    batch.push(Chunk {
                        data: std::mem::take(&mut cur),
                        owned_end,
                        offset,
                    });
                }
                run_batch(&mut batch, &mut spare, &work, &mut consume);
                return end;
            }
        }
    }
}

/// Scans a batch of chunks in parallel, hands them to `consume` in order, and keeps
/// their buffers for reuse.
fn run_batch<R, W, C>(batch: &mut Vec<Chunk>, spare: &mut Vec<Vec<u8>>, work: &W, consume: &mut C)
where
    R: Send,
    W: Fn(&Chunk, &mut Scratch) -> R + Sync,
    C: FnMut(&Chunk, R),
{
    let results: Vec<R> = batch
        .par_iter()
        .map_init(Scratch::default, |s, c| work(c, s))
        .collect();
    for (mut c, r) in batch.drain(..).zip(results) {
        consume(&c, r);
        c.data.clear();
        spare.push(c.data);
    }
}

/// Findings of a stream, and how it ended.
#[derive(Debug, Default)]
pub struct StreamScan {
    /// Findings in stream order.
    pub findings: Vec<Finding>,
    /// How the stream ended.
    pub end: StreamEnd,
}

/// Scans a stream on the rayon pool with bounded memory. `on_findings` sees each
/// chunk's findings, in order, as soon as the chunk is scanned.
pub fn scan_stream(
    ctx: &ScanContext,
    reader: BoxRead,
    path: &str,
    opts: StreamOptions,
    on_findings: &mut dyn FnMut(&[Finding]),
    on_stall: &mut dyn FnMut(Duration),
) -> StreamScan {
    let mut findings = Vec::new();
    let mut line_base = 0u64;
    // Characters between the last newline seen so far and the end of the previous chunk:
    // a chunk that starts mid-line (a line longer than the chunk) shifts the columns of
    // findings on its first line by this much.
    let mut col_base = 0u64;
    let opts = StreamOptions {
        max_decompressed: opts.max_decompressed.or(ctx.limits.max_decompressed),
        ..opts
    };
    let end = for_each_chunk(
        reader,
        ctx.chunk_size,
        opts,
        |c, scratch| {
            let mut found = Vec::new();
            let base = Position {
                offset: c.offset,
                line: 0,
                column: 0,
            };
            scan_chunk(
                ctx,
                &c.data,
                0..c.owned_end,
                base,
                path,
                scratch,
                &mut found,
            );
            let owned = c.data.get(..c.owned_end).unwrap_or_default();
            let tail = match memchr::memrchr(b'\n', owned) {
                Some(i) => (true, crate::scan::char_count(&owned[i + 1..])),
                None => (false, crate::scan::char_count(owned)),
            };
            (found, count_lines(owned), tail)
        },
        |_: &Chunk, (mut found, lines, tail): (Vec<Finding>, u64, (bool, u64))| {
            for f in &mut found {
                if f.line == 1 {
                    f.column += col_base;
                }
                if f.end_line == 1 {
                    f.end_column += col_base;
                }
                f.line += line_base;
                f.end_line += line_base;
            }
            col_base = if tail.0 { tail.1 } else { col_base + tail.1 };
            if !found.is_empty() {
                on_findings(&found);
            }
            findings.extend(found);
            line_base += lines;
        },
        on_stall,
    );
    ctx.enforce_cap(&mut findings, path);
    if let Some(cap) = end.capped {
        ctx.note_decompression_cap(path, cap, &end.kind.describe());
    }
    StreamScan { findings, end }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(chunk: usize) -> ScanContext {
        crate::testutil::context("", chunk)
    }

    /// A reader that returns at most `n` bytes per call, like a pipe.
    struct Trickle(io::Cursor<Vec<u8>>, usize);
    impl io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn stream_agrees_with_slice_for_every_chunk_size() {
        let mut data = Vec::new();
        for i in 0..40_000u64 {
            if i % 331 == 7 {
                data.extend_from_slice(
                    format!("a tok_q8Zr2mV9xK4tW7pL{:04} b\n", i % 10_000).as_bytes(),
                );
            } else {
                data.extend_from_slice(b"an ordinary line of a log file, nothing to see\n");
            }
        }
        let expect: Vec<(u64, u64, u64)> =
            crate::scan::scan_slice(&ctx(1 << 30), &data, "p", &mut Scratch::default())
                .iter()
                .map(|f| (f.line, f.column, f.offset))
                .collect();
        assert_eq!(expect.len(), 121);
        for (chunk, piece) in [
            (1024, 7),
            (4096, 100_000),
            (65_536, 4096),
            (1 << 20, 1 << 20),
        ] {
            let c = ctx(chunk);
            let mut seen = 0;
            let r = Trickle(io::Cursor::new(data.clone()), piece);
            let s = scan_stream(
                &c,
                Box::new(r),
                "p",
                StreamOptions::default(),
                &mut |f| seen += f.len(),
                &mut |_| {},
            );
            let got: Vec<(u64, u64, u64)> = s
                .findings
                .iter()
                .map(|f| (f.line, f.column, f.offset))
                .collect();
            assert_eq!(got, expect, "chunk {chunk}, piece {piece}");
            assert_eq!(seen, expect.len());
            assert_eq!(s.end.bytes, data.len() as u64);
            assert!(s.end.error.is_none());
        }
    }

    /// A reader that yields some data and then blocks forever.
    struct Stall(Option<Vec<u8>>);
    impl io::Read for Stall {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if let Some(d) = self.0.take() {
                buf[..d.len()].copy_from_slice(&d);
                return Ok(d.len());
            }
            std::thread::sleep(Duration::from_secs(3600));
            Ok(0)
        }
    }

    #[test]
    fn a_stalled_stream_is_abandoned_with_what_arrived_scanned() {
        let c = ctx(1 << 20);
        let data = b"x tok_q8Zr2mV9xK4tW7pLa1b2 y\nmore".to_vec();
        let mut stalls = 0;
        let opts = StreamOptions {
            stall_notice: Duration::from_millis(100),
            stall_timeout: Some(Duration::from_millis(300)),
            max_decompressed: None,
        };
        let s = scan_stream(
            &c,
            Box::new(Stall(Some(data))),
            "p",
            opts,
            &mut |_| {},
            &mut |_| stalls += 1,
        );
        assert_eq!(s.findings.len(), 1);
        assert!(s.end.stalled.is_some());
        assert_eq!(stalls, 1);
    }
}
