//! Base64 candidates: long runs of the base64 alphabets, found by a skip search.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use super::{mostly_printable, Candidate, Decoded, Encoding, MAX_BASE64_RUN, MIN_BASE64_RUN};

const ALNUM: u8 = 1;
const STD: u8 = 2; // + /
const URL: u8 = 4; // - _

/// Byte classes of the two base64 alphabets (0: not base64).
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b.is_ascii_alphanumeric() {
            ALNUM
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

#[inline]
fn is_b64(b: u8) -> bool {
    CLASS[usize::from(b)] != 0
}

/// Appends the base64 runs of `data` that start before `owned_end`.
///
/// The search looks at the last byte of a window of [`MIN_BASE64_RUN`] bytes: if it is
/// not base64, no run of that length can start in the window and the search jumps past
/// it; otherwise it walks back to the window start and restarts after the first byte
/// that breaks the run. Ordinary text is crossed in a few probes per word.
pub(super) fn candidates(data: &[u8], owned_end: usize, out: &mut Vec<Candidate>) {
    let n = data.len();
    let mut p = 0usize;
    while p < owned_end && p + MIN_BASE64_RUN <= n {
        let probe = p + MIN_BASE64_RUN - 1;
        if !is_b64(data[probe]) {
            p = probe + 1;
            continue;
        }
        if let Some(q) = data[p..probe].iter().rposition(|&b| !is_b64(b)) {
            p += q + 1;
            continue;
        }
        // [p, probe] is a run; p follows a non-base64 byte or the slice start.
        let mut e = probe + 1;
        while e < n && is_b64(data[e]) {
            e += 1;
        }
        let run = &data[p..e];
        if run.len() <= MAX_BASE64_RUN && looks_encoded(run) {
            let mut end = e;
            while end < n && end - e < 2 && data[end] == b'=' {
                end += 1;
            }
            out.push(Candidate {
                encoding: Encoding::Base64,
                start: p,
                end,
            });
        }
        p = e + 1;
    }
}

/// Base64 of text has upper and lower case letters, and uses one alphabet only.
fn looks_encoded(run: &[u8]) -> bool {
    let (mut upper, mut lower, mut classes) = (false, false, 0u8);
    for &b in run {
        upper |= b.is_ascii_uppercase();
        lower |= b.is_ascii_lowercase();
        classes |= CLASS[usize::from(b)];
    }
    upper && lower && (classes & (STD | URL)) != (STD | URL)
}

/// Decodes a run (with optional `=` padding) if it decodes to mostly printable text.
pub(super) fn decode(enc: &[u8]) -> Option<Decoded> {
    let body_len = enc.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let mut body = enc.get(..body_len)?;
    if body.len() % 4 == 1 {
        body = body.get(..body.len() - 1)?;
    }
    let url = body.iter().any(|&b| CLASS[usize::from(b)] == URL);
    let engine = if url { &URL_SAFE } else { &STANDARD };
    let bytes = engine.decode(body).ok()?;
    if bytes.len() < 8 || !mostly_printable(&bytes) {
        return None;
    }
    Some(Decoded {
        bytes,
        map: Vec::new(),
    })
}
