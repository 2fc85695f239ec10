//! What a stream's bytes are: compressed (gzip, zstd, bzip2) or UTF-16 text, recognised
//! by their first bytes, and turned into the plain bytes the engine scans.
//!
//! Magic bytes decide, not file names: `app.log.2.gz` that is really plain text is
//! scanned as text, and a gzip stream on standard input is decompressed. UTF-16 is
//! recognised by its byte-order mark, or without one when one byte of every pair is NUL
//! in ASCII-heavy text, and transcoded to UTF-8; line numbers and columns of findings
//! in transcoded text are those of the original (a newline is a newline), byte offsets
//! are those of the UTF-8 text.

use std::io::{self, Read};

/// A compression format recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip (`1f 8b`), one or many members (`cat a.gz b.gz`).
    Gzip,
    /// Zstandard (`28 b5 2f fd`).
    Zstd,
    /// bzip2 (`BZh1`..`BZh9`).
    Bzip2,
}

impl Compression {
    /// The format's name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
        }
    }

    /// Recognises a format from the first bytes of a stream.
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        match head {
            [0x1f, 0x8b, ..] => Some(Compression::Gzip),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Compression::Zstd),
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Some(Compression::Bzip2),
            _ => None,
        }
    }

    /// The format a file name promises (`.gz`, `.zst`, `.bz2`), if any.
    pub fn from_name(name: &str) -> Option<Compression> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".gz") {
            Some(Compression::Gzip)
        } else if lower.ends_with(".zst") || lower.ends_with(".zstd") {
            Some(Compression::Zstd)
        } else if lower.ends_with(".bz2") {
            Some(Compression::Bzip2)
        } else {
            None
        }
    }
}

/// A UTF-16 byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Utf16 {
    /// Little-endian (Windows' default).
    Le,
    /// Big-endian.
    Be,
}

impl Utf16 {
    /// Recognises UTF-16 from the first bytes: a byte-order mark, or (for at least 64
    /// bytes) NULs in at least 40% of one byte position of the pairs and almost none in
    /// the other, which is what ASCII-heavy UTF-16 looks like. Returns the order and the
    /// length of the mark to skip.
    pub fn sniff(head: &[u8]) -> Option<(Utf16, usize)> {
        // A mark alone is not enough: `FF FE` also starts Latin-1 or binary junk. Text in
        // UTF-16 (a log above all) has ASCII units: a space, a digit, a newline.
        let ascii_unit = |body: &[u8], le: bool| {
            body.len() < 8
                || body.chunks_exact(2).any(|p| {
                    let (lo, hi) = if le { (p[0], p[1]) } else { (p[1], p[0]) };
                    hi == 0 && (lo == b'\n' || lo == b'\t' || (0x20..0x7f).contains(&lo))
                })
        };
        match head {
            [0xff, 0xfe, 0, 0, ..] => return None, // UTF-32LE
            [0xff, 0xfe, body @ ..] if ascii_unit(body, true) => return Some((Utf16::Le, 2)),
            [0xfe, 0xff, body @ ..] if ascii_unit(body, false) => return Some((Utf16::Be, 2)),
            [0xff, 0xfe, ..] | [0xfe, 0xff, ..] => return None,
            _ => {}
        }
        let n = head.len().min(4096) & !1;
        // Text in UTF-16 without a mark has a NUL in every ASCII unit; one SIMD search
        // clears nearly every file, where counting the NULs read 4 KiB byte pair by pair.
        if n < 64 || memchr::memchr(0, &head[..n]).is_none() {
            return None;
        }
        let pairs = n / 2;
        let (mut even, mut odd) = (0, 0);
        for p in head[..n].chunks_exact(2) {
            even += usize::from(p[0] == 0);
            odd += usize::from(p[1] == 0);
        }
        if odd * 10 >= pairs * 4 && even * 10 <= pairs {
            Some((Utf16::Le, 0))
        } else if even * 10 >= pairs * 4 && odd * 10 <= pairs {
            Some((Utf16::Be, 0))
        } else {
            None
        }
    }
}

/// What [`open`] found a stream to be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputKind {
    /// The compression that was undone, if any.
    pub compression: Option<Compression>,
    /// The UTF-16 order that was transcoded, if any.
    pub utf16: Option<Utf16>,
}

impl InputKind {
    /// A short description for messages (`gzip`, `utf-16le`, `gzip, utf-16le`), or "".
    pub fn describe(self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.compression {
            parts.push(c.as_str());
        }
        match self.utf16 {
            Some(Utf16::Le) => parts.push("utf-16le"),
            Some(Utf16::Be) => parts.push("utf-16be"),
            None => {}
        }
        parts.join(", ")
    }
}

/// A boxed stream that can move to a reader thread.
pub type BoxRead = Box<dyn Read + Send>;

/// Reads up to `want` bytes (fewer at end of stream), retrying short reads, so that
/// magic bytes and byte-order marks are seen whole.
fn read_head(r: &mut dyn Read, want: usize) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; want];
    let mut got = 0;
    while got < want {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => {
                got += n;
                // Enough for magic bytes: do not wait on a slow stream for the rest.
                if got >= 4 {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok(head)
}

/// Recognises compression and UTF-16 at the start of `r` and returns a reader of the
/// plain bytes. Compression is undone once (a `.gz` inside a `.gz` is scanned as
/// compressed bytes); UTF-16 is looked for after decompression.
pub fn open(r: BoxRead) -> io::Result<(BoxRead, InputKind)> {
    open_capped(r, None)
}

/// The error that ends a decompression stopped by [`open_capped`]'s cap: the stream
/// inflates to more than `cap` bytes (a decompression bomb, or a log larger than the
/// cap). Recognise it with [`capped_at`].
#[derive(Debug)]
pub struct DecompressionCapped {
    /// The cap, in decompressed bytes.
    pub cap: u64,
}

impl std::fmt::Display for DecompressionCapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "decompressed to more than {} bytes", self.cap)
    }
}

impl std::error::Error for DecompressionCapped {}

/// The cap, if `e` ended a decompression at its cap.
pub fn capped_at(e: &io::Error) -> Option<u64> {
    e.get_ref()?
        .downcast_ref::<DecompressionCapped>()
        .map(|c| c.cap)
}

/// Yields at most `left` bytes of a decompressor, then [`DecompressionCapped`] if the
/// decompressor had more (and a plain end of stream if it had exactly that many).
struct Capped {
    inner: BoxRead,
    left: u64,
    cap: u64,
}

impl Read for Capped {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(DecompressionCapped { cap: self.cap })),
            };
        }
        let want = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..want])?;
        self.left = self.left.saturating_sub(n as u64);
        Ok(n)
    }
}

/// [`open`], with decompressed output capped at `max_decompressed` bytes: past the cap
/// the reader fails with [`DecompressionCapped`], so a small archive that inflates to
/// tens of GiB costs bounded time. Plain and UTF-16 input is never capped.
pub fn open_capped(
    mut r: BoxRead,
    max_decompressed: Option<u64>,
) -> io::Result<(BoxRead, InputKind)> {
    let mut kind = InputKind::default();
    let head = read_head(&mut r, 4096)?;
    // `head` is consumed from `plain` in both arms.
    let (plain, head): (BoxRead, Vec<u8>) = match Compression::sniff(&head) {
        None => (r, head),
        Some(c) => {
            kind.compression = Some(c);
            let raw = io::Cursor::new(head).chain(r);
            let mut d: BoxRead = match c {
                Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
                Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(raw)?),
                Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(raw)),
            };
            if let Some(cap) = max_decompressed {
                d = Box::new(Capped {
                    inner: d,
                    left: cap,
                    cap,
                });
            }
            match read_head(&mut d, 4096) {
                Ok(head) => (d, head),
                // A damaged stream: report its error from the first read, with the
                // compression known, instead of failing to open.
                Err(e) => return Ok((Box::new(Failing(Some(e))), kind)),
            }
        }
    };
    match Utf16::sniff(&head) {
        None => Ok((Box::new(io::Cursor::new(head).chain(plain)), kind)),
        Some((order, bom)) => {
            kind.utf16 = Some(order);
            let rest = head.get(bom..).unwrap_or_default().to_vec();
            let inner: BoxRead = Box::new(io::Cursor::new(rest).chain(plain));
            Ok((Box::new(Utf16Reader::new(inner, order)), kind))
        }
    }
}

/// A reader that fails once with a stored error, then reads as empty.
struct Failing(Option<io::Error>);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

/// Transcodes UTF-16 to UTF-8 as it reads. Unpaired surrogates become U+FFFD.
pub struct Utf16Reader {
    inner: BoxRead,
    order: Utf16,
    inbuf: Vec<u8>,
    in_len: usize,
    out: Vec<u8>,
    out_pos: usize,
    eof: bool,
}

impl Utf16Reader {
    /// Wraps `inner`, whose byte-order mark (if any) was already consumed.
    pub fn new(inner: BoxRead, order: Utf16) -> Utf16Reader {
        Utf16Reader {
            inner,
            order,
            inbuf: vec![0; 64 * 1024],
            in_len: 0,
            out: Vec::with_capacity(96 * 1024),
            out_pos: 0,
            eof: false,
        }
    }

    /// Reads more input and transcodes every complete unit (keeping a trailing odd byte
    /// or lone high surrogate for the next round unless the input ended).
    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.out_pos = 0;
        while self.out.is_empty() && !(self.eof && self.in_len == 0) {
            if !self.eof {
                match self.inner.read(&mut self.inbuf[self.in_len..]) {
                    Ok(0) => self.eof = true,
                    Ok(n) => self.in_len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
            let whole = self.in_len & !1;
            let mut units: Vec<u16> = self.inbuf[..whole]
                .chunks_exact(2)
                .map(|p| match self.order {
                    Utf16::Le => u16::from_le_bytes([p[0], p[1]]),
                    Utf16::Be => u16::from_be_bytes([p[0], p[1]]),
                })
                .collect();
            let mut keep = self.in_len - whole;
            if !self.eof && units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
                units.pop();
                keep += 2;
            }
            for c in char::decode_utf16(units) {
                let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut b = [0u8; 4];
                self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
            if self.eof && keep == 1 {
                // A lone trailing byte cannot be a character.
                self.out.extend_from_slice("\u{FFFD}".as_bytes());
                keep = 0;
            }
            self.inbuf.copy_within(self.in_len - keep..self.in_len, 0);
            self.in_len = keep;
        }
        Ok(())
    }
}

impl Read for Utf16Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_pos >= self.out.len() {
            self.refill()?;
        }
        let avail = &self.out[self.out_pos..];
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(data: Vec<u8>) -> (Vec<u8>, InputKind) {
        let (mut r, kind) = open(Box::new(io::Cursor::new(data))).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        (out, kind)
    }

    #[test]
    fn plain_passes_through() {
        let (out, kind) = read_all(b"hello\nworld\n".to_vec());
        assert_eq!(out, b"hello\nworld\n");
        assert_eq!(kind, InputKind::default());
        assert_eq!(read_all(Vec::new()).0, b"");
    }

    #[test]
    fn gzip_zstd_bzip2_multi_member() {
        let text = b"line one\nline two \xe2\x82\xac\n".repeat(500);
        let mut gz = Vec::new();
        for _ in 0..2 {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&text).unwrap();
            gz.extend(e.finish().unwrap());
        }
        let (out, kind) = read_all(gz);
        assert_eq!(out, [text.clone(), text.clone()].concat());
        assert_eq!(kind.compression, Some(Compression::Gzip));
        let zs = zstd::encode_all(&text[..], 1).unwrap();
        assert_eq!(read_all(zs).0, text);
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&text).unwrap();
        let (out, kind) = read_all(bz.finish().unwrap());
        assert_eq!(out, text);
        assert_eq!(kind.describe(), "bzip2");
    }

    #[test]
    fn decompression_stops_at_the_cap_with_its_own_error() {
        let text = b"a log line\n".repeat(10_000);
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&text).unwrap();
        let gz = e.finish().unwrap();
        let read_capped = |cap: u64| {
            let (mut r, _) = open_capped(Box::new(io::Cursor::new(gz.clone())), Some(cap)).unwrap();
            let mut out = Vec::new();
            (r.read_to_end(&mut out), out)
        };
        let (res, out) = read_capped(5000);
        assert_eq!(capped_at(&res.unwrap_err()), Some(5000));
        assert_eq!(out, text[..5000]);
        // Exactly at the cap is the whole stream, not a cut.
        let (res, out) = read_capped(text.len() as u64);
        assert!(res.is_ok());
        assert_eq!(out, text);
        // Plain input is never capped.
        let (mut r, _) = open_capped(Box::new(io::Cursor::new(text.clone())), Some(10)).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn truncated_gzip_yields_the_prefix_then_an_error() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&text).unwrap();
        let gz = e.finish().unwrap();
        let (mut r, _) = open(Box::new(io::Cursor::new(gz[..gz.len() / 2].to_vec()))).unwrap();
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).is_err());
        assert!(!out.is_empty() && text.starts_with(&out));
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let s = "user=admin token=tök😀\n".repeat(20);
        let le: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = s.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let (out, kind) = read_all([vec![0xff, 0xfe], le.clone()].concat());
        assert_eq!(String::from_utf8(out).unwrap(), s);
        assert_eq!(kind.utf16, Some(Utf16::Le));
        let (out, kind) = read_all([vec![0xfe, 0xff], be.clone()].concat());
        assert_eq!(String::from_utf8(out).unwrap(), s);
        assert_eq!(kind.describe(), "utf-16be");
        let (out, kind) = read_all(le);
        assert_eq!(String::from_utf8(out).unwrap(), s);
        assert_eq!(kind.utf16, Some(Utf16::Le));
        // A mark followed by bytes that are not UTF-16 text: scanned as bytes.
        let (out, kind) = read_all(b"\xff\xfe garbage \xc3\x28 token=abc\n".to_vec());
        assert_eq!(kind.utf16, None);
        assert!(out.ends_with(b"token=abc\n"));
        // A lone trailing byte and an unpaired surrogate do not panic.
        let mut odd = vec![0xff, 0xfe, b'a', 0, 0x00, 0xd8, b'b', 0];
        odd.push(b'c');
        let (out, _) = read_all(odd);
        assert_eq!(String::from_utf8(out).unwrap(), "a\u{FFFD}b\u{FFFD}");
    }
}
