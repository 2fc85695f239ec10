//! Base64 candidates: long runs of the base64 alphabets, found by a skip search.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use super::{mostly_printable, Candidate, Decoded, Encoding, MAX_BASE64_RUN, MIN_BASE64_RUN};

const UPPER: u8 = 1;
const LOWER: u8 = 2;
const DIGIT: u8 = 4;
const STD: u8 = 8; // + /
const URL: u8 = 16; // - _
const _: () = assert!(MIN_BASE64_RUN == 24, "candidates() shifts for runs of 24");

/// Byte classes of the two base64 alphabets (0: not base64).
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        #[allow(clippy::cast_possible_truncation)] // i < 256
        let b = i as u8;
        t[i] = if b.is_ascii_uppercase() {
            UPPER
        } else if b.is_ascii_lowercase() {
            LOWER
        } else if b.is_ascii_digit() {
            DIGIT
        } else if b == b'+' || b == b'/' {
            STD
        } else if b == b'-' || b == b'_' {
            URL
        } else {
            0
        };
        i += 1;
    }
    t
};

const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);

/// The base64 mask of 16 bytes (given as two little-endian words) with SSE2, which
/// every x86_64 processor has: bit `i` is set if byte `i` is in the base64 alphabets.
#[cfg(target_arch = "x86_64")]
fn b64_16(lo: u64, hi: u64) -> u64 {
    use std::arch::x86_64::{
        _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_set_epi64x,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always
    // available; they read and write registers only, never memory.
    unsafe {
        #[allow(clippy::cast_possible_wrap)]
        let x = _mm_set_epi64x(hi as i64, lo as i64);
        let range = |lo: u8, hi: u8| {
            #[allow(clippy::cast_possible_wrap)]
            let (l, h) = ((lo - 1) as i8, (hi + 1) as i8);
            _mm_and_si128(
                _mm_cmpgt_epi8(x, _mm_set1_epi8(l)),
                _mm_cmpgt_epi8(_mm_set1_epi8(h), x),
            )
        };
        #[allow(clippy::cast_possible_wrap)]
        let eq = |b: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(b as i8));
        let sym = _mm_or_si128(
            _mm_or_si128(eq(b'+'), eq(b'/')),
            _mm_or_si128(eq(b'-'), eq(b'_')),
        );
        let b64 = _mm_or_si128(
            _mm_or_si128(range(b'A', b'Z'), range(b'a', b'z')),
            _mm_or_si128(range(b'0', b'9'), sym),
        );
        // movemask sets the low 16 bits only.
        #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
        u64::from(_mm_movemask_epi8(b64) as u16)
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn b64_16(lo: u64, hi: u64) -> u64 {
    let mut m = 0;
    for (i, byte) in lo
        .to_le_bytes()
        .into_iter()
        .chain(hi.to_le_bytes())
        .enumerate()
    {
        m |= u64::from(CLASS[usize::from(byte)] != 0) << i;
    }
    m
}

/// The base64 mask of a 64-byte block with SSE2 (or byte by byte off x86_64).
fn block_b64(block: &[u8; 64]) -> u64 {
    let mut m = 0;
    for (k, q) in block.chunks_exact(16).enumerate() {
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&q[i..i + 8]);
            u64::from_le_bytes(w)
        };
        m |= b64_16(word(0), word(8)) << (16 * k);
    }
    m
}

/// The base64 mask of a 64-byte block with AVX2: two 32-byte halves.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn block_b64_avx2(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_cmpgt_epi8, _mm256_loadu_si256,
        _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
    };
    let mut m = 0;
    for (k, half) in block.chunks_exact(32).enumerate() {
        // SAFETY: `half` is 32 readable bytes; the load is unaligned.
        let x = unsafe { _mm256_loadu_si256(half.as_ptr().cast::<__m256i>()) };
        #[allow(clippy::cast_possible_wrap)]
        let range = |lo: u8, hi: u8| {
            _mm256_and_si256(
                _mm256_cmpgt_epi8(x, _mm256_set1_epi8((lo - 1) as i8)),
                _mm256_cmpgt_epi8(_mm256_set1_epi8((hi + 1) as i8), x),
            )
        };
        #[allow(clippy::cast_possible_wrap)]
        let eq = |b: u8| _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b as i8));
        let sym = _mm256_or_si256(
            _mm256_or_si256(eq(b'+'), eq(b'/')),
            _mm256_or_si256(eq(b'-'), eq(b'_')),
        );
        let b64 = _mm256_or_si256(
            _mm256_or_si256(range(b'A', b'Z'), range(b'a', b'z')),
            _mm256_or_si256(range(b'0', b'9'), sym),
        );
        // movemask sets 32 bits: reinterpret them.
        #[allow(clippy::cast_sign_loss)]
        let bits = u64::from(_mm256_movemask_epi8(b64) as u32);
        m |= bits << (32 * k);
    }
    m
}

/// The base64 mask of the 64 bytes at `start` (bytes past the end of `data` count as
/// breaks), `block` classifying whole blocks in place. The last, partial blocks are
/// copied out and classified portably: a padded copy in the hot loop made the compiler
/// assemble every block byte by byte.
#[inline(always)]
fn mask_at(data: &[u8], start: usize, block: &impl Fn(&[u8; 64]) -> u64) -> u64 {
    match data
        .get(start..start + 64)
        .and_then(|b| <&[u8; 64]>::try_from(b).ok())
    {
        Some(b) => block(b),
        None => tail_mask(data, start),
    }
}

#[cold]
#[inline(never)]
fn tail_mask(data: &[u8], start: usize) -> u64 {
    let mut pad = [0u8; 64];
    if let Some(rest) = data.get(start..) {
        let n = rest.len().min(64);
        pad[..n].copy_from_slice(&rest[..n]);
    }
    block_b64(&pad)
}

/// Appends the base64 runs of `data` that start before `owned_end`.
///
/// Bytes are classified 64 at a time into a bit mask (SIMD on x86_64); a run of at
/// least [`MIN_BASE64_RUN`] base64 bytes shows as a set bit after AND-ing the mask with
/// its own shifts (1, 2, 4, 8, then 16), over two blocks so that runs may cross a block
/// edge. Only such runs are looked at byte by byte, and only if they hold both upper-
/// and lower-case letters (hex ids, paths and words do not).
pub(super) fn candidates(data: &[u8], owned_end: usize, out: &mut Vec<Candidate>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected.
        unsafe { candidates_avx2(data, owned_end, out) };
        return;
    }
    search(data, owned_end, out, &block_b64);
}

/// [`candidates`] with the AVX2 block mask, inlined into the loop.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn candidates_avx2(data: &[u8], owned_end: usize, out: &mut Vec<Candidate>) {
    // SAFETY: the caller checked AVX2 (this function's own feature).
    search(data, owned_end, out, &|b| unsafe { block_b64_avx2(b) });
}

/// The loop of [`candidates`], with `block` giving the base64 mask of a 64-byte block.
#[inline(always)]
fn search(
    data: &[u8],
    owned_end: usize,
    out: &mut Vec<Candidate>,
    block: &impl Fn(&[u8; 64]) -> u64,
) {
    let n = data.len();
    let mut p = 0usize; // runs starting before p were handled
    let mut start = 0usize;
    let mut cur = mask_at(data, 0, block);
    while start < owned_end && start < n {
        let next = mask_at(data, start + 64, block);
        let m = u128::from(cur) | u128::from(next) << 64;
        let x2 = m & (m >> 1);
        let x4 = x2 & (x2 >> 2);
        let x8 = x4 & (x4 >> 4);
        let x16 = x8 & (x8 >> 8);
        let x24 = x16 & (x8 >> 16);
        // u64 on purpose: only windows starting in this block.
        #[allow(clippy::cast_possible_truncation)]
        let mut starts = x24 as u64;
        // Windows inside a run already handled (a long run crosses many blocks).
        if p > start {
            starts &= if p - start >= 64 {
                0
            } else {
                !0u64 << (p - start)
            };
        }
        while starts != 0 {
            let s = start + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            if s < p || s >= owned_end {
                continue;
            }
            // The run's real start and end.
            let mut rs = s;
            while rs > p
                && data
                    .get(rs - 1)
                    .is_some_and(|&b| CLASS[usize::from(b)] != 0)
            {
                rs -= 1;
            }
            let off = s - start;
            let inv = !(m >> off);
            let mut e = if inv == 0 {
                start + 128
            } else {
                s + inv.trailing_zeros() as usize
            };
            while e < n && CLASS[usize::from(data[e])] != 0 {
                e += 1;
            }
            p = e + 1;
            let run = &data[rs..e];
            if run.len() <= MAX_BASE64_RUN
                && run.iter().any(u8::is_ascii_uppercase)
                && run.iter().any(u8::is_ascii_lowercase)
            {
                let mut end = e;
                while end < n && end - e < 2 && data[end] == b'=' {
                    end += 1;
                }
                out.push(Candidate {
                    encoding: Encoding::Base64,
                    start: rs,
                    end,
                });
            }
            // Skip the windows inside this run.
            if p >= start + 64 {
                starts = 0;
            } else {
                starts &= !0u64 << (p - start).min(63);
                if p - start >= 64 {
                    starts = 0;
                }
            }
        }
        cur = next;
        start += 64;
    }
}

/// How many characters of a long run are decoded first to tell text from binary (a
/// multiple of 4: whole base64 quanta).
const PROBE_CHARS: usize = 64;

/// Decodes a run (with optional `=` padding) if it decodes to mostly printable text.
pub(super) fn decode(enc: &[u8]) -> Option<Decoded> {
    let body_len = enc.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let mut body = enc.get(..body_len)?;
    if body.len() % 4 == 1 {
        body = body.get(..body.len() - 1)?;
    }
    let url = body.iter().any(|&b| CLASS[usize::from(b)] == URL);
    let engine = if url { &URL_SAFE } else { &STANDARD };
    // A long run (an embedded font or image) is judged by its head first: decoding 64 KiB
    // of binary to throw it away cost more than the rest of the decoding stage.
    if body.len() > 4 * PROBE_CHARS {
        let head = engine.decode(body.get(..PROBE_CHARS)?).ok()?;
        if !mostly_printable(&head) {
            return None;
        }
    }
    let bytes = engine.decode(body).ok()?;
    if bytes.len() < 8 || !mostly_printable(&bytes) {
        return None;
    }
    Some(Decoded {
        bytes,
        map: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious byte-by-byte search, to check the block search against.
    fn reference(data: &[u8], owned_end: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            if CLASS[usize::from(data[i])] == 0 {
                i += 1;
                continue;
            }
            let s = i;
            while i < data.len() && CLASS[usize::from(data[i])] != 0 {
                i += 1;
            }
            let run = &data[s..i];
            if s < owned_end
                && run.len() >= MIN_BASE64_RUN
                && run.len() <= MAX_BASE64_RUN
                && run.iter().any(u8::is_ascii_uppercase)
                && run.iter().any(u8::is_ascii_lowercase)
            {
                let mut e = i;
                while e < data.len() && e - i < 2 && data[e] == b'=' {
                    e += 1;
                }
                out.push((s, e));
            }
        }
        out
    }

    #[test]
    fn block_masks_agree_with_the_byte_classes() {
        for seed in 0..8usize {
            let block: [u8; 64] =
                std::array::from_fn(|i| u8::try_from((i * 37 + seed * 101) % 256).unwrap());
            let want = block.iter().enumerate().fold(0u64, |m, (i, &b)| {
                m | u64::from(CLASS[usize::from(b)] != 0) << i
            });
            assert_ne!(want, 0);
            assert_eq!(block_b64(&block), want, "seed {seed}");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 was just detected.
                assert_eq!(unsafe { block_b64_avx2(&block) }, want, "seed {seed}");
            }
        }
    }

    #[test]
    fn block_search_agrees_with_the_reference() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let alphabet = b"aB3+/-_ .=\n\xc3Zz9";
        for round in 0..300 {
            let len = 1 + (round * 37) % 700;
            let mut data = Vec::with_capacity(len);
            // Long runs are likelier than uniform noise would make them.
            let mut run_mode = false;
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if x % 29 == 0 {
                    run_mode = !run_mode;
                }
                let k = if run_mode {
                    (x >> 8) % 4
                } else {
                    (x >> 8) % alphabet.len() as u64
                };
                data.push(alphabet[usize::try_from(k).unwrap()]);
            }
            for owned in [data.len(), data.len() / 2] {
                let mut got = Vec::new();
                candidates(&data, owned, &mut got);
                let got: Vec<(usize, usize)> = got.iter().map(|c| (c.start, c.end)).collect();
                assert_eq!(got, reference(&data, owned), "round {round}, owned {owned}");
                // The portable block mask finds the same runs.
                let mut portable = Vec::new();
                search(&data, owned, &mut portable, &block_b64);
                let portable: Vec<(usize, usize)> =
                    portable.iter().map(|c| (c.start, c.end)).collect();
                assert_eq!(portable, got, "round {round}, owned {owned}");
            }
        }
    }
}
