//! Redaction: a copy of a stream with every secret span masked and every other byte
//! unchanged, for sharing logs with a vendor or attaching them to a ticket.
//!
//! The stream is read and scanned exactly as `scan -` reads it ([`for_each_chunk`]: on
//! every core, bounded memory), and each chunk's owned bytes are written in order with
//! the secret spans masked. A span is the secret itself (not the rule's context), in the
//! original bytes: for a secret found in decoded text it is the encoded span that
//! carries it (see [`crate::decode`]). Spans that reach past a chunk's end are carried
//! into the next one. Every match is masked, including ones an inline
//! `leaksweep:allow` marker would hide from a scan report: a copy meant for others
//! should not depend on markers.
//!
//! Compressed input is written decompressed; UTF-16 input is written as UTF-8.

use std::io::{self, Write};
use std::time::Duration;

use crate::engine::Scratch;
use crate::scan::{chunk_matches, ScanContext};
use crate::source::input::BoxRead;
use crate::source::stream::{for_each_chunk, Chunk, StreamEnd, StreamOptions};

/// How a secret span is masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mask {
    /// Every byte becomes `*`, except line breaks: same length, same lines.
    SameLength,
    /// The whole span becomes this marker (lengths and, for multi-line secrets, line
    /// numbers change).
    Marker(Vec<u8>),
}

/// Counters of a redaction.
#[derive(Debug, Default)]
pub struct RedactStats {
    /// Secret spans masked (overlapping spans count once).
    pub masked: u64,
    /// How the input stream ended.
    pub end: StreamEnd,
    /// The first write error; nothing was written after it.
    pub write_error: Option<io::Error>,
}

/// A span being masked, in stream offsets.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u64,
    end: u64,
    marker_written: bool,
}

/// Writes `data` (which starts at stream offset `at`) with `spans` masked; spans must be
/// sorted and disjoint. Spans that end past `data` are returned to be carried on.
fn write_masked(
    out: &mut dyn Write,
    data: &[u8],
    at: u64,
    spans: &mut Vec<Span>,
    mask: &Mask,
) -> io::Result<()> {
    let end = at + data.len() as u64;
    let mut pos = at;
    let mut carry = Vec::new();
    let rel = |o: u64| {
        usize::try_from(o - at)
            .unwrap_or(data.len())
            .min(data.len())
    };
    for sp in spans.drain(..) {
        if sp.start >= end {
            carry.push(sp);
            continue;
        }
        let s = sp.start.max(pos);
        let e = sp.end.min(end);
        if s > pos {
            out.write_all(&data[rel(pos)..rel(s)])?;
        }
        if e > s {
            match mask {
                Mask::SameLength => {
                    let masked: Vec<u8> = data[rel(s)..rel(e)]
                        .iter()
                        .map(|&b| if b == b'\n' || b == b'\r' { b } else { b'*' })
                        .collect();
                    out.write_all(&masked)?;
                }
                Mask::Marker(m) => {
                    if !sp.marker_written {
                        out.write_all(m)?;
                    }
                }
            }
        }
        pos = pos.max(e);
        if sp.end > end {
            carry.push(Span {
                start: end,
                marker_written: true,
                ..sp
            });
        }
    }
    if pos < end {
        out.write_all(&data[rel(pos)..])?;
    }
    *spans = carry;
    Ok(())
}

/// The secret spans of one chunk, in stream offsets.
fn chunk_spans(ctx: &ScanContext, c: &Chunk, path: &str, scratch: &mut Scratch) -> Vec<(u64, u64)> {
    let mut plain = Vec::new();
    let mut decoded = Vec::new();
    chunk_matches(
        ctx,
        &c.data,
        c.owned_end,
        path,
        scratch,
        &mut plain,
        &mut decoded,
    );
    plain
        .iter()
        .map(|m| (m.secret_start, m.secret_end))
        .chain(decoded.iter().map(|d| (d.m.secret_start, d.m.secret_end)))
        .filter(|(s, e)| e > s)
        .map(|(s, e)| (c.offset + s as u64, c.offset + e as u64))
        .collect()
}

/// Copies `reader` to `out` with every secret span masked.
pub fn redact_stream(
    ctx: &ScanContext,
    reader: BoxRead,
    path: &str,
    mask: &Mask,
    out: &mut dyn Write,
    on_stall: &mut dyn FnMut(Duration),
) -> RedactStats {
    let mut stats = RedactStats::default();
    let mut carry: Vec<Span> = Vec::new();
    let mut write_error = None;
    let mut masked = 0u64;
    let end = for_each_chunk(
        reader,
        ctx.chunk_size,
        StreamOptions::default(),
        |c, scratch| chunk_spans(ctx, c, path, scratch),
        |c: &Chunk, new| {
            if write_error.is_some() {
                return;
            }
            let mut spans: Vec<Span> = std::mem::take(&mut carry);
            spans.extend(new.into_iter().map(|(start, end)| Span {
                start,
                end,
                marker_written: false,
            }));
            spans.sort_by_key(|s| (s.start, s.end));
            // Merge overlapping spans: a marker is written once for the union.
            let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
            for sp in spans {
                match merged.last_mut() {
                    Some(last) if sp.start < last.end => {
                        last.end = last.end.max(sp.end);
                        last.marker_written |= sp.marker_written;
                    }
                    _ => {
                        if !sp.marker_written {
                            masked += 1;
                        }
                        merged.push(sp);
                    }
                }
            }
            let owned = c.data.get(..c.owned_end).unwrap_or_default();
            if let Err(e) = write_masked(out, owned, c.offset, &mut merged, mask) {
                write_error = Some(e);
            }
            carry = merged;
        },
        on_stall,
    );
    stats.end = end;
    stats.masked = masked;
    stats.write_error = write_error;
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(v: &[(u64, u64)]) -> Vec<Span> {
        v.iter()
            .map(|&(start, end)| Span {
                start,
                end,
                marker_written: false,
            })
            .collect()
    }

    #[test]
    fn same_length_keeps_line_breaks_and_carries_spans() {
        let mut out = Vec::new();
        let mut sp = spans(&[(2, 4), (6, 12)]);
        write_masked(&mut out, b"abcdef\nhij", 0, &mut sp, &Mask::SameLength).unwrap();
        assert_eq!(out, b"ab**ef\n***");
        assert_eq!(sp.len(), 1);
        write_masked(&mut out, b"klmn", 10, &mut sp, &Mask::SameLength).unwrap();
        assert_eq!(out, b"ab**ef\n*****mn");
    }

    #[test]
    fn marker_is_written_once_per_span() {
        let mut out = Vec::new();
        let m = Mask::Marker(b"[X]".to_vec());
        let mut sp = spans(&[(1, 3), (5, 9)]);
        write_masked(&mut out, b"abcdefg", 0, &mut sp, &m).unwrap();
        write_masked(&mut out, b"hijk", 7, &mut sp, &m).unwrap();
        assert_eq!(out, b"a[X]de[X]jk");
    }
}
