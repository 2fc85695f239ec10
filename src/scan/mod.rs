//! The scanner: turns the bytes a source hands over into findings.
//!
//! [`ScanContext`] holds what every scan shares (the engine, the fingerprint salt, inline
//! markers, allowlists, per-file limits). The functions here cut bytes into chunks that
//! overlap by the longest possible match, hand each chunk to the engine (and the decoder),
//! suppress what inline markers and allowlists accept, and assemble [`Finding`]s with
//! exact paths, lines and columns. Where the bytes come from is [`crate::source`]'s job.
//! The scanner never prints and never decides exit codes.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::decode::{self, DecodeOptions, DecodedMatch};
use crate::engine::allow::AllowInput;
use crate::engine::{Engine, Match, Scratch, MAX_MATCH_SPAN};
use crate::finding::neighbourhood::Neighbourhoods;
use crate::finding::{fingerprint, inline, Finding, Skipped, SuppressReason};
use crate::secret::Secret;

/// Size of one chunk when a large slice is scanned in parallel, or a stream is read.
pub const CHUNK_SIZE: usize = 4 << 20;

/// A suppression check that needs the text around a match (the line, the whole match),
/// so it runs here, where the chunk is still at hand, rather than on finished findings.
/// The project config's allowlists implement it (`triage::allow`); a finding it allows
/// is kept as suppressed ([`SuppressReason::Allowlist`]) so that it is counted, not lost.
pub trait LineFilter: Send + Sync + std::fmt::Debug {
    /// True if the finding of `rule_id` described by `input` is allowed (suppressed).
    fn allows(&self, rule_id: &str, input: &AllowInput<'_>) -> bool;
}

/// Default cap on findings kept per file or blob (`--max-findings-per-file`).
pub const DEFAULT_MAX_FINDINGS_PER_FILE: usize = 1000;
/// Default time budget per file or blob (`--file-timeout`).
pub const DEFAULT_FILE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on the bytes one compressed file or stream may inflate to
/// (`--max-decompressed-size`): 2 GiB, a 100 MiB log at a typical 20:1 ratio; a few
/// seconds of scanning. A gzip bomb (1000:1) of 2 MiB reaches it.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 2 << 30;

/// Bounds that keep one hostile file from stalling a scan or flooding a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Keep at most this many findings per file or blob, the first by position (0: no cap).
    pub max_findings_per_file: usize,
    /// Stop scanning a file or blob after this long (`None`: no limit). Checked between
    /// chunks, so a file is cut at a chunk boundary and one chunk always completes.
    pub file_timeout: Option<Duration>,
    /// Stop decompressing a gzip, zstd or bzip2 file or stream after this many bytes
    /// (`None`: no cap); what came before is scanned.
    pub max_decompressed: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_findings_per_file: DEFAULT_MAX_FINDINGS_PER_FILE,
            file_timeout: Some(DEFAULT_FILE_TIMEOUT),
            max_decompressed: Some(DEFAULT_MAX_DECOMPRESSED),
        }
    }
}

impl Limits {
    fn cap(&self) -> usize {
        match self.max_findings_per_file {
            0 => usize::MAX,
            n => n,
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.file_timeout
            .and_then(|t| Instant::now().checked_add(t))
    }
}

/// Skip reason recorded when a file's findings were cut to the cap.
pub const REASON_FINDINGS_CAPPED: &str = "findings-capped";
/// Skip reason recorded when a file's scan was cut by the per-file timeout.
pub const REASON_TIMEOUT: &str = "timeout";
/// Skip reason recorded when a compressed file or stream inflated past
/// `--max-decompressed-size` and the rest was not scanned.
pub const REASON_DECOMPRESSION_CAPPED: &str = "decompression-capped";

/// Everything a source needs to turn bytes into findings.
#[derive(Debug, Clone)]
pub struct ScanContext {
    /// The engine.
    pub engine: Arc<Engine>,
    /// Fingerprint salt.
    pub salt: Vec<u8>,
    /// Honour inline ignore markers.
    pub inline_ignores: bool,
    /// Allowlists that suppress (and count) findings; `None` when there are none.
    pub allowlist: Option<Arc<dyn LineFilter>>,
    /// Chunk size for large inputs (tests shrink it to put secrets on boundaries).
    pub chunk_size: usize,
    /// Decoding of base64, percent-encoded and escaped text (`--max-decode-depth`).
    pub decode: DecodeOptions,
    /// Per-file caps and time budget.
    pub limits: Limits,
    /// Files whose scan a limit cut short, recorded by the sources as [`Skipped`] items
    /// (reasons [`REASON_FINDINGS_CAPPED`], [`REASON_TIMEOUT`]); the command that ran the
    /// scan takes them with [`ScanContext::take_limit_hits`] into its summary.
    pub limit_hits: Arc<Mutex<Vec<Skipped>>>,
    /// With `--validate`: where the text around findings that need it is kept.
    pub neighbourhoods: Option<Arc<Neighbourhoods>>,
}

impl ScanContext {
    /// A context with default settings.
    pub fn new(engine: Arc<Engine>) -> ScanContext {
        ScanContext {
            engine,
            salt: fingerprint::DEFAULT_SALT.to_vec(),
            inline_ignores: true,
            allowlist: None,
            chunk_size: CHUNK_SIZE,
            decode: DecodeOptions::default(),
            limits: Limits::default(),
            limit_hits: Arc::default(),
            neighbourhoods: None,
        }
    }

    /// Takes the limit notes recorded so far, in a deterministic order.
    pub fn take_limit_hits(&self) -> Vec<Skipped> {
        let mut hits = match self.limit_hits.lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        hits.sort_by(|a, b| (&a.path, &a.reason).cmp(&(&b.path, &b.reason)));
        hits
    }

    fn record_limit(&self, path: &str, reason: &str, detail: String) {
        let item = Skipped {
            path: path.to_string(),
            reason: reason.to_string(),
            detail,
        };
        match self.limit_hits.lock() {
            Ok(mut g) => g.push(item),
            Err(p) => p.into_inner().push(item),
        }
    }

    /// Cuts `found` (in position order) to the findings cap, noting it when it bites.
    pub(crate) fn enforce_cap(&self, found: &mut Vec<Finding>, path: &str) {
        let cap = self.limits.cap();
        if found.len() > cap {
            found.truncate(cap);
            self.record_limit(
                path,
                REASON_FINDINGS_CAPPED,
                format!(
                    "kept the first {cap} findings; raise --max-findings-per-file (0: no cap) \
                     to see the rest"
                ),
            );
        }
    }

    pub(crate) fn note_decompression_cap(&self, path: &str, cap: u64, what: &str) {
        let what = if what.is_empty() { "compressed" } else { what };
        self.record_limit(
            path,
            REASON_DECOMPRESSION_CAPPED,
            format!(
                "{what} data inflates to more than {cap} bytes (a decompression bomb?): \
                 the first {cap} were scanned and their findings reported, the rest was not; \
                 raise --max-decompressed-size (0: no cap) to scan it"
            ),
        );
    }

    fn note_timeout(&self, path: &str, at: u64, len: Option<u64>) {
        let secs = self.limits.file_timeout.map_or(0.0, |t| t.as_secs_f64());
        let of = len.map_or(String::new(), |l| format!(" of {l}"));
        self.record_limit(
            path,
            REASON_TIMEOUT,
            format!(
                "stopped after {secs}s (--file-timeout) at byte {at}{of}; the rest was not \
                 scanned"
            ),
        );
    }
}

/// Where a chunk sits in its source: byte offset and 0-based line of its first byte.
#[derive(Debug, Clone, Copy, Default)]
pub struct Position {
    /// Byte offset.
    pub offset: u64,
    /// Number of newlines before it.
    pub line: u64,
    /// Characters between the start of its line and its first byte: non-zero when a chunk
    /// starts mid-line (lines longer than the chunk), so that columns stay exact.
    pub column: u64,
}

/// The engine's matches on one chunk plus the matches found in its decoded spans
/// (base64, percent-encoded, escaped), all positioned in `hay`.
pub fn chunk_matches(
    ctx: &ScanContext,
    hay: &[u8],
    owned_end: usize,
    path: &str,
    scratch: &mut Scratch,
    plain: &mut Vec<Match>,
    decoded: &mut Vec<DecodedMatch>,
) {
    ctx.engine.scan(hay, owned_end, Some(path), scratch, plain);
    decode::scan(
        &ctx.engine,
        hay,
        owned_end,
        Some(path),
        ctx.decode,
        scratch,
        plain,
        decoded,
    );
}

/// Scans one chunk `hay`, owning matches that start in `owned`, and appends
/// findings positioned relative to `base`.
pub fn scan_chunk(
    ctx: &ScanContext,
    hay: &[u8],
    owned: std::ops::Range<usize>,
    base: Position,
    path: &str,
    scratch: &mut Scratch,
    out: &mut Vec<Finding>,
) {
    let mut matches: Vec<Match> = Vec::new();
    let mut decoded: Vec<DecodedMatch> = Vec::new();
    chunk_matches(
        ctx,
        hay,
        owned.end,
        path,
        scratch,
        &mut matches,
        &mut decoded,
    );
    // Bytes before `owned.start` are context (the end of the line before the chunk), so
    // that `\b` and `^` see what precedes the chunk; their matches belong to the previous
    // chunk.
    matches.retain(|m| m.start >= owned.start);
    // A decoded match belongs to the chunk that holds its secret, not the start of its
    // encoded span: an escaped region can be a whole long line, begun chunks earlier, and
    // only the chunk that holds the secret also holds the plain match that supersedes a
    // decoded copy of the same bytes (a line with one stray backslash decodes to itself).
    decoded.retain(|d| (owned.start..owned.end).contains(&d.m.secret_start));
    if matches.is_empty() && decoded.is_empty() {
        return;
    }
    let mut all: Vec<(Match, Option<&DecodedMatch>)> = matches.iter().map(|&m| (m, None)).collect();
    all.extend(decoded.iter().map(|d| (d.m, Some(d))));
    all.sort_by_key(|(m, _)| m.secret_start);
    // One more than the cap, so that the caller sees that the cap was hit.
    all.truncate(ctx.limits.cap().saturating_add(1));
    let mut lines = LineCounter::new(hay);
    for (m, dec) in all {
        let (line, mut column) = lines.locate(m.secret_start);
        let (end_line, mut end_column) = lines.locate_end(m.secret_end);
        if line == 0 {
            column += base.column;
        }
        if end_line == 0 {
            end_column += base.column;
        }
        let rule = &ctx.engine.rules()[m.rule];
        let secret = match dec {
            Some(d) => d.secret.as_slice(),
            None => &hay[m.secret_start..m.secret_end],
        };
        let suppressed = if ctx.inline_ignores && inline_marked(hay, m, &rule.spec.id) {
            Some(SuppressReason::Inline)
        } else if ctx
            .allowlist
            .as_ref()
            .is_some_and(|a| allowlisted(a.as_ref(), hay, m, &rule.spec.id, path))
        {
            Some(SuppressReason::Allowlist)
        } else {
            None
        };
        let fingerprint = fingerprint::fingerprint(&ctx.salt, &rule.spec.id, secret);
        let offset = base.offset + m.secret_start as u64;
        if let Some(n) = ctx
            .neighbourhoods
            .as_ref()
            .filter(|n| n.wants(&rule.spec.id))
        {
            n.keep(offset, &fingerprint, hay, m.secret_start, m.secret_end);
        }
        out.push(Finding {
            rule_id: rule.spec.id.clone(),
            rule_name: rule.spec.name.clone(),
            severity: rule.spec.severity,
            path: path.to_string(),
            line: base.line + line + 1,
            column,
            end_line: base.line + end_line + 1,
            end_column,
            offset,
            secret: Secret::new(secret.to_vec()),
            fingerprint,
            entropy: m.entropy,
            decoded: dec.map(|d| d.how.clone()),
            file_type: rule.spec.file_type.clone(),
            git: None,
            repository: None,
            suppressed,
            validation: None,
        });
    }
}

fn allowlisted(filter: &dyn LineFilter, hay: &[u8], m: Match, rule_id: &str, path: &str) -> bool {
    let line_lo = memchr::memrchr(b'\n', &hay[..m.start]).map_or(0, |i| i + 1);
    let line_hi = memchr::memchr(b'\n', &hay[m.end..]).map_or(hay.len(), |i| m.end + i);
    let input = AllowInput {
        secret: &hay[m.secret_start..m.secret_end],
        whole: &hay[m.start..m.end],
        line: &hay[line_lo..line_hi],
        path: Some(path),
    };
    filter.allows(rule_id, &input)
}

fn inline_marked(hay: &[u8], m: Match, rule_id: &str) -> bool {
    let line_lo = memchr::memrchr(b'\n', &hay[..m.start]).map_or(0, |i| i + 1);
    // A multi-line match (PEM) may carry the marker on its first or last line. The match
    // itself is left out, so that a marker inside the secret never counts.
    let line_hi = memchr::memchr(b'\n', &hay[m.end..]).map_or(hay.len(), |i| m.end + i);
    let prev = (line_lo > 0).then(|| {
        let p_hi = line_lo - 1;
        let p_lo = memchr::memrchr(b'\n', &hay[..p_hi]).map_or(0, |i| i + 1);
        &hay[p_lo..p_hi]
    });
    inline::is_allowed(&hay[line_lo..m.start], prev, rule_id)
        || inline::is_allowed(&hay[m.end..line_hi], None, rule_id)
}

/// Computes 0-based lines and 1-based character columns for increasing offsets in one
/// pass over the chunk.
struct LineCounter<'a> {
    hay: &'a [u8],
    pos: usize,
    line: u64,
    line_start: usize,
}

impl<'a> LineCounter<'a> {
    fn new(hay: &'a [u8]) -> Self {
        LineCounter {
            hay,
            pos: 0,
            line: 0,
            line_start: 0,
        }
    }

    fn locate(&mut self, offset: usize) -> (u64, u64) {
        if offset < self.pos {
            // Matches are sorted by start; a rewind only happens for end positions.
            *self = LineCounter::new(self.hay);
        }
        for i in memchr::memchr_iter(b'\n', &self.hay[self.pos..offset]) {
            self.line += 1;
            self.line_start = self.pos + i + 1;
        }
        self.pos = offset;
        (
            self.line,
            char_count(&self.hay[self.line_start..offset]) + 1,
        )
    }

    fn locate_end(&mut self, end: usize) -> (u64, u64) {
        let saved = (self.pos, self.line, self.line_start);
        let r = self.locate(end);
        (self.pos, self.line, self.line_start) = saved;
        r
    }
}

pub(crate) fn char_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}

/// How much of the line before a chunk is scanned with it as context (not owned): as far
/// back as the engine looks behind a keyword, so that on lines up to that long a chunk
/// sees the same regex windows as a whole-file scan (and finds the same matches).
const LEAD: usize = crate::engine::prefilter::WINDOW_BACK;

/// Where the context of a chunk starting at `s` begins: at most [`LEAD`] bytes back, not
/// before the start of `s`'s line, on a character boundary.
fn lead_start(data: &[u8], s: usize) -> usize {
    let min = s.saturating_sub(LEAD);
    let mut lo = memchr::memrchr(b'\n', &data[min..s]).map_or(min, |i| min + i + 1);
    while lo < s && (data[lo] & 0xC0) == 0x80 {
        lo += 1;
    }
    lo
}

/// What a chunk does to the line and column of the next one.
#[derive(Debug, Clone, Copy)]
struct LineTail {
    /// Newlines in the chunk.
    lines: u64,
    /// Characters after its last newline (or in all of it, if it has none).
    tail_chars: u64,
}

impl LineTail {
    fn of(bytes: &[u8]) -> LineTail {
        let lines = count_lines(bytes);
        let tail = memchr::memrchr(b'\n', bytes).map_or(bytes, |i| &bytes[i + 1..]);
        LineTail {
            lines,
            tail_chars: char_count(tail),
        }
    }

    /// The column base of the next chunk, given this chunk's.
    fn advance(self, column_base: u64) -> u64 {
        if self.lines > 0 {
            self.tail_chars
        } else {
            column_base + self.tail_chars
        }
    }
}

/// Counts newlines in `bytes`.
pub fn count_lines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Splits `len` bytes of `data` into chunk boundaries near multiples of `chunk`, moved
/// forward to just after a newline when one is near, so that chunks start at line starts.
fn chunk_bounds(data: &[u8], chunk: usize) -> Vec<usize> {
    let mut bounds = vec![0];
    let mut at = 0;
    while data.len() - at > chunk {
        let nominal = at + chunk;
        let search_end = (nominal + 64 * 1024).min(data.len());
        let next =
            memchr::memchr(b'\n', &data[nominal..search_end]).map_or(nominal, |i| nominal + i + 1);
        if next >= data.len() {
            break;
        }
        bounds.push(next);
        at = next;
    }
    bounds.push(data.len());
    bounds
}

/// Scans a whole in-memory slice (a small file read whole, a blob). Slices larger
/// than the chunk size are cut into overlapping chunks scanned in parallel.
///
/// The context's [`Limits`] apply: findings beyond the cap are dropped (the first ones by
/// position are kept, whatever the thread count), and chunks not started before the
/// file's deadline are not scanned; both are recorded in [`ScanContext::limit_hits`].
pub fn scan_slice(
    ctx: &ScanContext,
    data: &[u8],
    path: &str,
    scratch: &mut Scratch,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if data.len() <= ctx.chunk_size {
        scan_chunk(
            ctx,
            data,
            0..data.len(),
            Position::default(),
            path,
            scratch,
            &mut out,
        );
        ctx.enforce_cap(&mut out, path);
        return out;
    }
    let deadline = ctx.limits.deadline();
    let bounds = chunk_bounds(data, ctx.chunk_size);
    let parts: Vec<(Option<Vec<Finding>>, LineTail)> = bounds
        .par_windows(2)
        .map_init(Scratch::default, |scratch, w| {
            let (s, e) = (w[0], w[1]);
            let tail = LineTail::of(&data[s..e]);
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return (None, tail);
            }
            let hay_end = (e + MAX_MATCH_SPAN).min(data.len());
            let lo = lead_start(data, s);
            let mut found = Vec::new();
            let base = Position {
                offset: lo as u64,
                ..Position::default()
            };
            scan_chunk(
                ctx,
                &data[lo..hay_end],
                s - lo..e - lo,
                base,
                path,
                scratch,
                &mut found,
            );
            // Columns on the first line were counted from `lo`; the fix-up below adds
            // the column of `s`.
            let lead_chars = char_count(&data[lo..s]);
            for f in &mut found {
                if f.line == 1 {
                    f.column = f.column.saturating_sub(lead_chars);
                }
                if f.end_line == 1 {
                    f.end_column = f.end_column.saturating_sub(lead_chars);
                }
            }
            (Some(found), tail)
        })
        .collect();
    let mut line_base = 0;
    let mut column_base = 0;
    let mut timed_out_at = None;
    for ((found, tail), w) in parts.into_iter().zip(bounds.windows(2)) {
        match found {
            Some(mut found) => {
                for f in &mut found {
                    // Findings on the chunk's first line continue a line begun earlier.
                    if f.line == 1 {
                        f.column += column_base;
                    }
                    if f.end_line == 1 {
                        f.end_column += column_base;
                    }
                    f.line += line_base;
                    f.end_line += line_base;
                }
                out.extend(found);
            }
            None => {
                timed_out_at.get_or_insert(w[0] as u64);
            }
        }
        line_base += tail.lines;
        column_base = tail.advance(column_base);
    }
    if let Some(at) = timed_out_at {
        ctx.note_timeout(path, at, Some(data.len() as u64));
    }
    ctx.enforce_cap(&mut out, path);
    out
}

/// Counters from a streaming scan.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamStats {
    /// Bytes read.
    pub bytes: u64,
}

/// Scans a stream in chunks with bounded memory: at most one chunk plus the overlap is
/// held at a time. `on_findings` is called as findings appear (for `--follow`-style
/// consumers); they are also returned. An I/O error ends the scan and is returned with
/// everything found so far.
pub fn scan_reader(
    ctx: &ScanContext,
    reader: &mut dyn Read,
    path: &str,
    scratch: &mut Scratch,
    on_findings: &mut dyn FnMut(&[Finding]),
) -> (Vec<Finding>, StreamStats, Option<std::io::Error>) {
    let chunk = ctx.chunk_size.max(1024);
    let overlap = MAX_MATCH_SPAN;
    let mut buf: Vec<u8> = Vec::with_capacity(chunk + overlap);
    let mut all = Vec::new();
    let mut base = Position::default();
    let mut stats = StreamStats::default();
    let mut eof = false;
    let mut error = None;
    let deadline = ctx.limits.deadline();
    let cap = ctx.limits.cap();
    let mut timed_out = false;
    // Bytes at the start of `buf` kept from the previous chunk as context.
    let mut lead = 0;
    loop {
        // Fill up to chunk + overlap bytes (after the lead).
        while !eof && buf.len() < lead + chunk + overlap {
            let old = buf.len();
            buf.resize(lead + chunk + overlap, 0);
            match reader.read(&mut buf[old..]) {
                Ok(0) => {
                    buf.truncate(old);
                    eof = true;
                }
                Ok(n) => {
                    buf.truncate(old + n);
                    stats.bytes += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(old),
                Err(e) => {
                    buf.truncate(old);
                    error = Some(e);
                    eof = true;
                }
            }
        }
        let owned_end = if eof {
            buf.len()
        } else {
            // Own up to the last line start before the overlap region (never inside the
            // lead: the chunk is at least 1 KiB, the lead at most 256 bytes).
            let nominal = buf.len() - overlap;
            memchr::memrchr(b'\n', &buf[lead..nominal]).map_or(nominal, |i| lead + i + 1)
        };
        // Past the deadline or the cap, the rest is read (and counted) but not scanned.
        if !timed_out && deadline.is_some_and(|d| Instant::now() >= d) {
            timed_out = true;
            ctx.note_timeout(path, base.offset + lead as u64, None);
        }
        if !timed_out && all.len() <= cap {
            let mut found = Vec::new();
            scan_chunk(ctx, &buf, lead..owned_end, base, path, scratch, &mut found);
            if !found.is_empty() {
                let room = cap.saturating_add(1).saturating_sub(all.len());
                found.truncate(room);
                on_findings(&found[..found.len().min(cap.saturating_sub(all.len()))]);
                all.extend(found);
            }
        }
        if eof {
            break;
        }
        // `base` is the position of buf[0]; move it to owned_end, then keep the end of
        // the line before owned_end as the next chunk's context.
        let tail = LineTail::of(&buf[..owned_end]);
        let end_offset = base.offset + owned_end as u64;
        let end_line = base.line + tail.lines;
        let end_column = tail.advance(base.column);
        let lo = lead_start(&buf, owned_end);
        lead = owned_end - lo;
        base = Position {
            offset: end_offset - lead as u64,
            line: end_line,
            column: end_column.saturating_sub(char_count(&buf[lo..owned_end])),
        };
        buf.drain(..lo);
    }
    ctx.enforce_cap(&mut all, path);
    (all, stats, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(chunk: usize) -> ScanContext {
        crate::testutil::context("", chunk)
    }

    fn corpus() -> (Vec<u8>, Vec<(u64, u64)>) {
        let mut data = Vec::new();
        let mut expect = Vec::new();
        for i in 0..3000u64 {
            if i % 97 == 5 {
                data.extend_from_slice(format!("x = \"tok_q8Zr2mV9xK4tW7pL{i:04}\"\n").as_bytes());
                expect.push((i + 1, 6));
            } else {
                data.extend_from_slice(b"ordinary log line with nothing in it at all\n");
            }
        }
        (data, expect)
    }

    #[test]
    fn same_findings_for_every_chunk_size_and_reader() {
        let (data, expect) = corpus();
        for chunk in [1024, 4096, 10_000, 1 << 20] {
            let c = ctx(chunk);
            let got: Vec<(u64, u64)> = scan_slice(&c, &data, "p", &mut Scratch::default())
                .iter()
                .map(|f| (f.line, f.column))
                .collect();
            assert_eq!(got, expect, "slice, chunk {chunk}");
            let (found, stats, err) = scan_reader(
                &c,
                &mut &data[..],
                "p",
                &mut Scratch::default(),
                &mut |_| {},
            );
            assert!(err.is_none());
            assert_eq!(stats.bytes, data.len() as u64);
            let got: Vec<(u64, u64)> = found.iter().map(|f| (f.line, f.column)).collect();
            assert_eq!(got, expect, "reader, chunk {chunk}");
        }
    }
}
