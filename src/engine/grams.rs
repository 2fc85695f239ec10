//! Finding keywords by a rare four-byte *anchor* in each, tested at 32 positions at once.
//!
//! An Aho-Corasick automaton reads one state per byte, each load waiting on the one before:
//! about four cycles a byte whatever the text. But most positions of real text are inside
//! no keyword, and whether one could be is a question about a few bytes, which can be
//! asked of many positions at once. Each keyword of four bytes or more is given an
//! anchor, its four consecutive bytes least likely in ordinary text ([`anchor`]); a
//! three-byte keyword is its own anchor. Anchors, ASCII case folded, are bits in hashed
//! tables.
//!
//! The block filter reads one table, `prefix`, with one gather per eight positions (with
//! AVX2: hash the folded bytes at 32 positions and gather their words in a few dozen
//! instructions, the lookups being independent instead of a chain). Its word for a
//! three-byte prefix holds one bit per *class* of the byte that follows the prefix in
//! some anchor (the byte's low five bits once folded: letters are told apart, a digit
//! shares its class with a letter), and all 32 bits for a three-byte keyword, which may
//! be followed by anything. So one gather tests four bytes: 1.7% of the positions of a
//! source tree pass, where a bit per three-byte prefix passed 4.5% (anchors start with
//! common trigrams: `est`, `par`, `ret`) and each passing position costs a branch and a
//! call. The two exact tables (`four`, `three`) then settle each candidate before it is
//! looked up in an [`Index`] of anchors and each keyword anchored there is compared with
//! the text around it.
//!
//! Nothing is missed: equal ignoring ASCII case implies equal after setting bit 5 of
//! every byte, and the same folded bytes hash to the same slot and class. Hash
//! collisions, shared classes and the coarser folding (`@` and `` ` `` fold together)
//! only add lookups. Keywords shorter than three bytes have no anchor: [`Grams::new`]
//! declines them and the caller uses an automaton.

/// Table size: 2^17 bits (16 KiB) per table, so they stay in the L1 cache. The block
/// filter's table passes 4.5% of the positions of the medium source tree; the exact
/// tables leave 1.0%, about half of them real anchors. A four-byte table of 2^18 bits
/// left 0.86% and was no faster end to end.
const SLOT_BITS: u32 = 17;
const WORDS: usize = 1 << (SLOT_BITS - 5);
/// Words of the block filter's table: 2^12 (16 KiB, in the L1 cache beside the exact
/// tables). About 850 distinct anchor prefixes fill a fifth of the slots; 2^13 words
/// passed 1.1% of a source tree's positions instead of 1.7%, at twice the cache.
const PREFIX_BITS: u32 = 12;
/// Setting bit 5 of each byte folds ASCII upper case onto lower case.
const FOLD: u32 = 0x2020_2020;
const FOLD8: u64 = 0x2020_2020_2020_2020;
const LOW3: u32 = 0x00FF_FFFF;
/// Odd multipliers for multiplicative hashing; the top bits of the product are the slot.
const MUL4: u32 = 0x9E37_79B1;
const MUL3: u32 = 0x85EB_CA77;

#[inline]
fn slot4(gram: u32) -> usize {
    ((gram | FOLD).wrapping_mul(MUL4) >> (32 - SLOT_BITS)) as usize
}

#[inline]
fn slot3(gram: u32) -> usize {
    (((gram | FOLD) & LOW3).wrapping_mul(MUL3) >> (32 - SLOT_BITS)) as usize
}

/// The block filter's word for a four-byte gram: its folded first three bytes, hashed.
#[inline]
fn prefix_slot(gram: u32) -> usize {
    (((gram | FOLD) & LOW3).wrapping_mul(MUL3) >> (32 - PREFIX_BITS)) as usize
}

/// The class of a gram's fourth byte, folded: its low five bits.
#[inline]
fn next_class(gram: u32) -> u32 {
    ((gram | FOLD) >> 24) & 31
}

#[inline]
fn bit(table: &[u32], slot: usize) -> bool {
    table[slot >> 5] >> (slot & 31) & 1 != 0
}

/// The keyword finder.
#[derive(Debug)]
pub struct Grams {
    /// Slots of the four-byte anchors.
    four: Box<[u32]>,
    /// Slots of the three-byte keywords.
    three: Box<[u32]>,
    /// Per hashed three-byte prefix, the classes of the byte after it in some anchor
    /// ([`next_class`]), all of them for a three-byte keyword: the table the block
    /// filter reads.
    prefix: Box<[u32]>,
    index: Index,
}

/// One keyword, stored under its anchor.
#[derive(Debug)]
struct Keyword {
    /// The caller's pattern number.
    pattern: u32,
    /// Where the anchor starts inside the keyword.
    offset: usize,
    /// The keyword in lower case.
    text: Box<[u8]>,
    /// The keyword's first eight bytes (fewer if shorter) folded, little endian, and the
    /// mask of those bytes: most anchors found are inside other words, and one compare
    /// of eight bytes rejects them.
    head: u64,
    head_mask: u64,
}

impl Keyword {
    fn new(pattern: u32, offset: usize, text: Box<[u8]>) -> Keyword {
        let n = text.len().min(8);
        let mut bytes = [0u8; 8];
        bytes[..n].copy_from_slice(&text[..n]);
        let head_mask = if n == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * n)) - 1
        };
        Keyword {
            pattern,
            offset,
            head: (u64::from_le_bytes(bytes) | FOLD8) & head_mask,
            head_mask,
            text,
        }
    }

    /// Whether the keyword occurs at `start` of `hay`.
    #[inline]
    fn is_at(&self, hay: &[u8], start: usize) -> bool {
        let Some(here) = hay.get(start..start + self.text.len()) else {
            return false;
        };
        if let Some(eight) = hay.get(start..start + 8) {
            let word = u64::from_le_bytes([
                eight[0], eight[1], eight[2], eight[3], eight[4], eight[5], eight[6], eight[7],
            ]);
            if (word | FOLD8) & self.head_mask != self.head {
                return false;
            }
        }
        here.eq_ignore_ascii_case(&self.text)
    }
}

/// Folded anchors to the keywords that carry them: open addressing, linear probing. A
/// three-byte anchor's key has a zero top byte, which no folded four-byte anchor has, and
/// no key is zero, which marks an empty slot.
#[derive(Debug)]
struct Index {
    keys: Box<[u32]>,
    /// Per slot, the range of `keywords` under that key.
    ranges: Box<[(u32, u32)]>,
    keywords: Vec<Keyword>,
    shift: u32,
}

impl Index {
    fn new(mut entries: Vec<(u32, Keyword)>) -> Index {
        entries.sort_by_key(|(key, kw)| (*key, kw.pattern));
        let (sorted_keys, keywords): (Vec<u32>, Vec<Keyword>) = entries.into_iter().unzip();
        let distinct = sorted_keys.chunk_by(|a, b| a == b).count();
        let bits = (distinct * 2).next_power_of_two().trailing_zeros().max(4);
        let mut index = Index {
            keys: vec![0u32; 1 << bits].into_boxed_slice(),
            ranges: vec![(0u32, 0u32); 1 << bits].into_boxed_slice(),
            keywords,
            shift: 32 - bits,
        };
        let mut first = 0;
        for run in sorted_keys.chunk_by(|a, b| a == b) {
            let mut slot = index.home(run[0]);
            while index.keys[slot] != 0 {
                slot = (slot + 1) & (index.keys.len() - 1);
            }
            index.keys[slot] = run[0];
            #[allow(clippy::cast_possible_truncation)]
            {
                index.ranges[slot] = (first as u32, (first + run.len()) as u32);
            }
            first += run.len();
        }
        index
    }

    /// Where the probe for `key` starts.
    #[inline]
    fn home(&self, key: u32) -> usize {
        (key.wrapping_mul(MUL4) >> self.shift) as usize
    }

    /// The keywords anchored on `key`.
    #[inline]
    fn get(&self, key: u32) -> &[Keyword] {
        let mut slot = self.home(key);
        loop {
            match self.keys[slot] {
                0 => return &[],
                k if k == key => {
                    let (a, b) = self.ranges[slot];
                    return &self.keywords[a as usize..b as usize];
                }
                _ => slot = (slot + 1) & (self.keys.len() - 1),
            }
        }
    }
}

/// How common a byte is in source text and prose, roughly in parts per thousand, ASCII
/// case folded: the weights [`anchor`] ranks anchors by. Letters follow English letter
/// frequency; the separators of identifiers and URLs are far rarer next to letters than
/// letters next to letters.
fn commonness(b: u8) -> f64 {
    match b.to_ascii_lowercase() {
        b' ' => 150.0,
        b'e' => 80.0,
        b't' => 65.0,
        b'a' | b'o' | b'i' | b'n' | b's' | b'r' => 50.0,
        b'l' | b'c' | b'd' => 30.0,
        b'u' => 25.0,
        b'p' | b'm' | b'h' => 20.0,
        b'f' | b'g' | b'_' | b'.' => 15.0,
        b'b' | b'y' | b'w' | b'(' | b')' | b'"' | b',' | b'=' | b'\n' => 10.0,
        b'v' | b'\'' => 8.0,
        b'-' => 7.0,
        b'0'..=b'9' => 6.0,
        b'k' | b'x' | b'/' | b':' | b'{' | b'}' | b';' => 5.0,
        b'[' | b']' | b'<' | b'>' | b'*' | b'#' => 3.0,
        b'j' | b'+' | b'!' => 2.0,
        b'q' | b'z' | b'$' | b'@' | b'%' | b'&' | b'?' | b'|' => 1.0,
        _ => 0.5,
    }
}

/// Letter pairs frequent in English words and identifiers, each making a gram about four
/// times likelier than its letters alone say (`word` beside `swor`).
const COMMON_PAIRS: &[&[u8; 2]] = &[
    b"th", b"he", b"in", b"er", b"an", b"re", b"on", b"at", b"en", b"nd", b"ti", b"es", b"or",
    b"te", b"of", b"ed", b"is", b"it", b"al", b"ar", b"st", b"to", b"nt", b"ng", b"se", b"ha",
    b"as", b"ou", b"io", b"le", b"ve", b"co", b"me", b"de", b"hi", b"ri", b"ro", b"ic", b"ne",
    b"ea", b"ra", b"ce", b"li", b"ch", b"ll", b"be", b"ma", b"si", b"om", b"ur", b"ss", b"ct",
    b"el", b"ta", b"la", b"ns", b"ge", b"ly", b"ec", b"us", b"ut", b"ia", b"rs", b"ac", b"ol",
    b"et", b"il", b"ni", b"pe", b"lo", b"ad", b"ow", b"di", b"un", b"sa", b"em", b"ca",
];

/// The offset of `kw`'s anchor: the four consecutive bytes least likely in ordinary text
/// by [`commonness`] and [`COMMON_PAIRS`] (the first such), so that ordinary text wakes
/// few lookups.
pub fn anchor(kw: &[u8]) -> usize {
    let pair_weight = 4f64.ln();
    let score = |g: &[u8]| {
        let bytes: f64 = g.iter().map(|&b| commonness(b).ln()).sum();
        let pairs = g
            .windows(2)
            .filter(|p| {
                let p = [p[0].to_ascii_lowercase(), p[1].to_ascii_lowercase()];
                COMMON_PAIRS.contains(&&p)
            })
            .count();
        #[allow(clippy::cast_precision_loss)]
        let pairs = pairs as f64;
        bytes + pair_weight * pairs
    };
    let mut best = (f64::INFINITY, 0);
    for (offset, gram) in kw.windows(4).enumerate() {
        let s = score(gram);
        if s < best.0 {
            best = (s, offset);
        }
    }
    best.1
}

#[inline]
fn load4(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

impl Grams {
    /// The finder for `patterns` (any case; pattern `i` is reported as `i`), or `None`
    /// when one of them is shorter than three bytes.
    pub fn new<K: AsRef<[u8]>>(patterns: &[K]) -> Option<Grams> {
        let mut four = vec![0u32; WORDS].into_boxed_slice();
        let mut three = vec![0u32; WORDS].into_boxed_slice();
        let mut prefix = vec![0u32; 1 << PREFIX_BITS].into_boxed_slice();
        let mut entries = Vec::with_capacity(patterns.len());
        for (pattern, kw) in patterns.iter().enumerate() {
            let text: Box<[u8]> = kw.as_ref().to_ascii_lowercase().into();
            let pattern = u32::try_from(pattern).ok()?;
            let (offset, key) = match text.len() {
                0..=2 => return None,
                3 => {
                    let key = (load4(&[text[0], text[1], text[2], 0]) | FOLD) & LOW3;
                    let s = slot3(key);
                    three[s >> 5] |= 1 << (s & 31);
                    prefix[prefix_slot(key)] = u32::MAX;
                    (0, key)
                }
                _ => {
                    let offset = anchor(&text);
                    let key = load4(&text[offset..]) | FOLD;
                    let s = slot4(key);
                    four[s >> 5] |= 1 << (s & 31);
                    prefix[prefix_slot(key)] |= 1 << next_class(key);
                    (offset, key)
                }
            };
            entries.push((key, Keyword::new(pattern, offset, text)));
        }
        Some(Grams {
            four,
            three,
            prefix,
            index: Index::new(entries),
        })
    }

    /// Appends every keyword occurrence in `hay` to `found` as `(start, end, pattern)`,
    /// sorted, overlapping occurrences included.
    pub fn find_all(&self, hay: &[u8], found: &mut Vec<(usize, usize, u32)>) {
        let first = found.len();
        self.for_each_candidate(hay, |i| self.verify(hay, i, found));
        // Anchors inside keywords report their keywords out of order.
        found[first..].sort_unstable();
    }

    /// The keywords anchored at `i`.
    #[inline]
    fn verify(&self, hay: &[u8], i: usize, found: &mut Vec<(usize, usize, u32)>) {
        let rest = &hay[i..];
        let (four, three) = match rest.len() {
            0..=2 => return,
            3 => (
                None,
                Some((load4(&[rest[0], rest[1], rest[2], 0]) | FOLD) & LOW3),
            ),
            _ => {
                let g = load4(rest) | FOLD;
                (Some(g), Some(g & LOW3))
            }
        };
        let mut check = |key: u32| {
            for kw in self.index.get(key) {
                if let Some(start) = i.checked_sub(kw.offset) {
                    if kw.is_at(hay, start) {
                        found.push((start, start + kw.text.len(), kw.pattern));
                    }
                }
            }
        };
        if let Some(g) = four {
            if bit(&self.four, slot4(g)) {
                check(g);
            }
        }
        if let Some(g) = three {
            if bit(&self.three, slot3(g)) {
                check(g);
            }
        }
    }

    /// Whether an anchor could start at `i`. With three bytes left only a three-byte
    /// keyword can, whose word has every bit.
    #[inline]
    fn passes(&self, hay: &[u8], i: usize) -> bool {
        match &hay[i..] {
            [a, b, c] => self.prefix[prefix_slot(load4(&[*a, *b, *c, 0]))] == u32::MAX,
            rest if rest.len() >= 4 => {
                let g = load4(rest);
                self.prefix[prefix_slot(g)] >> next_class(g) & 1 != 0
            }
            _ => false,
        }
    }

    /// Calls `at(i)` for every position of `hay` where an anchor could start, in
    /// increasing order.
    fn for_each_candidate(&self, hay: &[u8], mut at: impl FnMut(usize)) {
        let mut i = 0;
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was just detected.
            i = unsafe { self.candidates_avx2(hay, &mut at) };
        }
        for j in i..hay.len() {
            if self.passes(hay, j) {
                at(j);
            }
        }
    }

    /// The candidates among the positions of whole 32-byte blocks (each block reads three
    /// bytes past its end); returns the first position not tested.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn candidates_avx2(&self, hay: &[u8], at: &mut impl FnMut(usize)) -> usize {
        use std::arch::x86_64::{
            __m256i, _mm256_and_si256, _mm256_castsi256_ps, _mm256_i32gather_epi32,
            _mm256_loadu_si256, _mm256_movemask_ps, _mm256_mullo_epi32, _mm256_or_si256,
            _mm256_set1_epi32, _mm256_sllv_epi32, _mm256_srli_epi32, _mm256_xor_si256,
        };
        #[allow(clippy::cast_possible_wrap)]
        let c = |v: u32| _mm256_set1_epi32(v as i32);
        let (fold, low3, mul3, k31) = (c(FOLD), c(LOW3), c(MUL3), c(31));
        let prefix = self.prefix.as_ptr().cast::<i32>();
        let mut i = 0;
        while i + 32 + 3 <= hay.len() {
            // Lane `j` of the load at `i + m` is the four bytes at `i + 4j + m`.
            let mut lanes = [0u32; 4];
            for (m, lane) in lanes.iter_mut().enumerate() {
                // SAFETY: `i + m + 32 <= hay.len()`; the load is unaligned.
                let g = unsafe { _mm256_loadu_si256(hay.as_ptr().add(i + m).cast::<__m256i>()) };
                let g = _mm256_or_si256(g, fold);
                let slot = _mm256_srli_epi32::<{ 32 - PREFIX_BITS as i32 }>(_mm256_mullo_epi32(
                    _mm256_and_si256(g, low3),
                    mul3,
                ));
                // SAFETY: slots are below 2^PREFIX_BITS, the table's length.
                let word = unsafe { _mm256_i32gather_epi32::<4>(prefix, slot) };
                // The bit of the fourth byte's class, moved to the lane's sign bit.
                let class = _mm256_and_si256(_mm256_srli_epi32::<24>(g), k31);
                let hit = _mm256_sllv_epi32(word, _mm256_xor_si256(class, k31));
                #[allow(clippy::cast_sign_loss)]
                {
                    *lane = _mm256_movemask_ps(_mm256_castsi256_ps(hit)) as u32;
                }
            }
            if lanes != [0; 4] {
                let mut mask = spread(lanes[0])
                    | spread(lanes[1]) << 1
                    | spread(lanes[2]) << 2
                    | spread(lanes[3]) << 3;
                while mask != 0 {
                    at(i + mask.trailing_zeros() as usize);
                    mask &= mask - 1;
                }
            }
            i += 32;
        }
        i
    }
}

/// Moves bit `k` of an 8-bit mask to bit `4k`.
#[inline]
fn spread(x: u32) -> u32 {
    let x = (x | x << 12) & 0x000F_000F;
    let x = (x | x << 6) & 0x0303_0303;
    (x | x << 3) & 0x1111_1111
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(g: &Grams, hay: &[u8]) -> Vec<usize> {
        let mut v = Vec::new();
        g.for_each_candidate(hay, |i| v.push(i));
        v
    }

    #[test]
    fn spread_moves_each_bit_to_four_times_its_place() {
        for x in 0..256u32 {
            let want = (0..8)
                .filter(|k| x >> k & 1 == 1)
                .fold(0, |m, k| m | 1 << (4 * k));
            assert_eq!(spread(x), want, "{x:#x}");
        }
    }

    #[test]
    fn anchors_avoid_common_letters_and_pairs() {
        let at = |kw: &'static [u8]| &kw[anchor(kw)..][..4];
        assert_eq!(at(b"django-insecure-"), b"go-i");
        assert_eq!(at(b"xoxb-"), b"xoxb");
        assert_eq!(at(b"akia"), b"akia");
        // Not the `lass` of every `class`.
        assert_eq!(at(b"atlassian"), b"atla");
    }

    /// Every keyword, in any case, anywhere in a block or in the tail, is found, and
    /// nothing else; the SIMD blocks and the scalar test agree on every position.
    #[test]
    fn finds_every_keyword_and_both_paths_agree() {
        let kws = [
            "password",
            "AKIA",
            "pk_",
            "sk-ant-api",
            "$1$",
            "eyJ",
            "django-insecure-",
        ];
        let g = Grams::new(&kws).unwrap();
        let filler = b"the quick brown fox jumps over the lazy dog 0123456789 {}[]:=\"' ";
        for (p, kw) in (0u32..).zip(kws) {
            for case in [kw.to_ascii_lowercase(), kw.to_ascii_uppercase()] {
                for at in 0..80 {
                    let mut hay: Vec<u8> = filler.iter().cycle().take(at).copied().collect();
                    hay.extend_from_slice(case.as_bytes());
                    hay.extend(filler.iter().take(at % 7));
                    let mut found = Vec::new();
                    g.find_all(&hay, &mut found);
                    assert_eq!(found, vec![(at, at + kw.len(), p)], "{case:?} at {at}");
                    let got = candidates(&g, &hay);
                    let scalar: Vec<usize> =
                        (0..hay.len()).filter(|&i| g.passes(&hay, i)).collect();
                    assert_eq!(got, scalar, "{case:?} at {at}");
                }
            }
        }
    }

    /// The filter is a filter: text without keywords passes at few positions.
    #[test]
    fn text_without_keywords_has_few_candidates() {
        let g = Grams::new(&["password", "AKIA", "pk_", "token"]).unwrap();
        // Pseudo-random lower-case words: many distinct four-byte grams.
        let mut x = 0x2545_f491_u32;
        let hay: Vec<u8> = (0..256 * 1024)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if x % 7 == 0 {
                    b' '
                } else {
                    b'a' + (x % 26) as u8
                }
            })
            .collect();
        let n = candidates(&g, &hay).len();
        assert!(n < hay.len() / 1000, "{n} candidates");
    }

    #[test]
    fn a_keyword_shorter_than_three_bytes_has_no_anchor() {
        assert!(Grams::new(&["ab", "password"]).is_none());
    }
}
