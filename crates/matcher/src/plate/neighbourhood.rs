//! The candidate index: every alert's OCR-folded key and, for edit matching, its deletion neighbourhood
//! (the key with 1 or 2 characters deleted, "symmetric deletion" as in Wolf Garbe's SymSpell): two keys
//! within unit edit distance `k` always share a string reachable from each by at most `k` deletions, so
//! looking up the read's own deletions finds every candidate; a verification step then computes the true
//! weighted distance.
//!
//! Stored as one sorted array of (hash, alert) pairs with a directory on the hash's top bits: 8 bytes per
//! entry plus 4 bytes per directory slot, no per-key allocation, built with a parallel sort.

use rayon::prelude::*;

/// 64-bit hash of a character sequence (FxHash-style multiply-rotate, finished with MurmurHash3's fmix64 so
/// that the directory's top bits are well mixed). Written here so the index file is portable and the hash
/// never changes under a dependency upgrade.
#[inline]
pub fn hash_chars<I: IntoIterator<Item = char>>(chars: I) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = 0x243f_6a88_85a3_08d3;
    let mut n = 0_u64;
    for c in chars {
        h = (h.rotate_left(5) ^ u64::from(c)).wrapping_mul(K);
        n += 1;
    }
    fmix64(h ^ n)
}

#[inline]
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// Multiplier of the polynomial [`deletion_hash`] (odd, so multiplying by it is invertible modulo 2^64).
const POLY: u64 = 0x9e37_79b9_7f4a_7c15;

/// Hash of a string in the edit tables (a key or one of its deletion strings): a polynomial over the
/// characters, `Σ c_i · POLY^(n-1-i)` modulo 2^64, finished with fmix64 together with the length. Polynomial so
/// that [`for_each_deletion`] gets every single-deletion hash of a key from prefix and suffix sums, in linear
/// rather than quadratic time. Different strings share a hash only by chance (then verification drops the
/// extra candidate); equal strings always do, which is all the candidate search relies on.
#[inline]
pub fn deletion_hash<I: IntoIterator<Item = char>>(chars: I) -> u64 {
    let mut h = 0_u64;
    let mut n = 0_u64;
    for c in chars {
        h = h.wrapping_mul(POLY).wrapping_add(u64::from(c));
        n += 1;
    }
    finish_deletion_hash(h, n)
}

#[inline]
fn finish_deletion_hash(poly: u64, len: u64) -> u64 {
    fmix64(poly ^ len.wrapping_mul(0x517c_c1b7_2722_0a95))
}

/// Calls `f` with the [`deletion_hash`] of every distinct string obtained from `key` by deleting up to `depth`
/// characters (depth 0 is the key itself). Duplicates (deleting either of two equal neighbours) may be
/// reported more than once; callers de-duplicate.
pub fn for_each_deletion(key: &[char], depth: usize, mut f: impl FnMut(u64)) {
    const MAX: usize = crate::plate::normalise::MAX_PLATE_LEN;
    let n = key.len();
    if n > MAX {
        // Never reached by matching (keys are at most MAX_PLATE_LEN characters); kept general and simple.
        f(deletion_hash(key.iter().copied()));
        if depth >= 1 {
            for i in 0..n {
                f(deletion_hash(key.iter().enumerate().filter(|&(p, _)| p != i).map(|(_, &c)| c)));
            }
        }
    } else {
        // prefix[i]: polynomial of key[..i]; power[i] = POLY^i.
        let mut prefix = [0_u64; MAX + 1];
        let mut power = [1_u64; MAX + 1];
        for (i, &c) in key.iter().enumerate() {
            prefix[i + 1] = prefix[i].wrapping_mul(POLY).wrapping_add(u64::from(c));
            power[i + 1] = power[i].wrapping_mul(POLY);
        }
        let whole = prefix[n];
        f(finish_deletion_hash(whole, n as u64));
        if depth >= 1 {
            for i in 0..n {
                // Deleting the second of two equal neighbours gives the same string as deleting the first.
                if i > 0 && key[i] == key[i - 1] {
                    continue;
                }
                // key[i + 1..] as a polynomial of its own: the whole minus the first i + 1 characters' share.
                let suffix = whole.wrapping_sub(prefix[i + 1].wrapping_mul(power[n - i - 1]));
                let deleted = prefix[i].wrapping_mul(power[n - i - 1]).wrapping_add(suffix);
                f(finish_deletion_hash(deleted, (n - 1) as u64));
            }
        }
    }
    if depth >= 2 {
        for i in 0..n {
            for j in i + 1..n {
                f(deletion_hash(key.iter().enumerate().filter(|&(p, _)| p != i && p != j).map(|(_, &c)| c)));
            }
        }
    }
}

/// Immutable multimap from 64-bit hash to alert numbers.
#[derive(Debug, Clone, Default)]
pub struct Neighbourhood {
    shift: u32,
    /// `dir[b]..dir[b + 1]` is the range of entries whose hash has top bits `b`.
    dir: Vec<u32>,
    /// (low 32 bits of the hash, alert) per entry, side by side so a run is read from one cache line; the
    /// top bits of the hash are implied by the directory slot.
    entries: Vec<(u32, u32)>,
}

impl Neighbourhood {
    /// Builds the table from (hash, alert) pairs; duplicates are removed. Deterministic for any thread count.
    pub fn build(mut entries: Vec<(u64, u32)>) -> Self {
        entries.par_sort_unstable();
        entries.dedup();
        let n = entries.len();
        // About four entries per directory slot: a run of 4 × 8 bytes usually sits in one cache line, and the
        // directory (4 bytes per slot) stays a quarter of the entries' size.
        let bits = (usize::BITS - (n / 4).max(1).leading_zeros()).clamp(1, 31);
        let shift = 64 - bits;
        let slots = 1_usize << bits;
        let mut dir = Vec::with_capacity(slots + 1);
        let mut e = 0_usize;
        for b in 0..slots {
            dir.push(e as u32);
            while e < n && (entries[e].0 >> shift) as usize == b {
                e += 1;
            }
        }
        dir.push(n as u32);
        let entries = entries.iter().map(|&(h, a)| (h as u32, a)).collect();
        Neighbourhood { shift, dir, entries }
    }

    /// Appends to `out` the alerts stored under `hash` (and, rarely, under another hash with the same
    /// directory slot and fingerprint; candidates are always verified).
    #[inline]
    pub fn get_into(&self, hash: u64, out: &mut Vec<u32>) {
        let slot = (hash >> self.shift) as usize;
        let (Some(&lo), Some(&hi)) = (self.dir.get(slot), self.dir.get(slot + 1)) else {
            return;
        };
        let fp = hash as u32;
        if let Some(run) = self.entries.get(lo as usize..hi as usize) {
            out.extend(run.iter().filter(|&&(f, _)| f == fp).map(|&(_, a)| a));
        }
    }

    /// Calls `f` with every alert stored under `hash` (same alerts, same order as [`Neighbourhood::get_into`]).
    #[inline]
    pub fn for_each(&self, hash: u64, mut f: impl FnMut(u32)) {
        let (lo, hi) = self.run_of(hash);
        let fp = hash as u32;
        for &(_, a) in self.entries.get(lo as usize..hi as usize).unwrap_or_default().iter().filter(|&&(g, _)| g == fp)
        {
            f(a);
        }
    }

    /// The run of entries that may hold `hash` (its directory slot), for [`Neighbourhood::scan_into`]; split
    /// from the scan so a caller can load many directory slots before scanning any run.
    #[inline]
    pub fn run_of(&self, hash: u64) -> (u32, u32) {
        let slot = (hash >> self.shift) as usize;
        match (self.dir.get(slot), self.dir.get(slot + 1)) {
            (Some(&lo), Some(&hi)) => (lo, hi),
            _ => (0, 0),
        }
    }

    /// Appends to `out` the alerts stored under `hash` in `run` (from [`Neighbourhood::run_of`]); same
    /// result as [`Neighbourhood::get_into`].
    #[inline]
    pub fn scan_into(&self, hash: u64, (lo, hi): (u32, u32), out: &mut Vec<u32>) {
        let fp = hash as u32;
        if let Some(run) = self.entries.get(lo as usize..hi as usize) {
            out.extend(run.iter().filter(|&&(f, _)| f == fp).map(|&(_, a)| a));
        }
    }

    /// Number of (hash, alert) entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.dir.capacity() * 4 + self.entries.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn finds_what_was_stored_and_nothing_else() {
        let entries: Vec<(u64, u32)> = (0..1000_u32).map(|i| (hash_chars(chars(&format!("K{i}"))), i)).collect();
        let t = Neighbourhood::build(entries);
        for i in 0..1000_u32 {
            let mut out = Vec::new();
            t.get_into(hash_chars(chars(&format!("K{i}"))), &mut out);
            assert_eq!(out, vec![i]);
        }
        let mut out = Vec::new();
        t.get_into(hash_chars(chars("nope")), &mut out);
        assert!(out.is_empty());
        let empty = Neighbourhood::build(Vec::new());
        empty.get_into(1, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn deletions_cover_depths() {
        let mut got = Vec::new();
        for_each_deletion(&chars("ABC"), 2, |h| got.push(h));
        for s in ["ABC", "BC", "AC", "AB", "A", "B", "C"] {
            assert!(got.contains(&deletion_hash(chars(s))), "{s}");
        }
        let mut d1 = Vec::new();
        for_each_deletion(&chars("AAB"), 1, |h| d1.push(h));
        assert_eq!(d1.len(), 3); // AAB, AB, AA
    }

    proptest::proptest! {
        /// The linear-time single deletions equal hashing each deletion string on its own, for keys of any
        /// length (including past MAX_PLATE_LEN, the general branch) and any characters.
        #[test]
        fn deletion_hashes_equal_hashing_each_string(key in "[A-Z0-9ÖЖ]{0,14}", depth in 0_usize..3) {
            let key = chars(&key);
            let mut got = Vec::new();
            for_each_deletion(&key, depth, |h| got.push(h));
            let mut expected = vec![deletion_hash(key.iter().copied())];
            if depth >= 1 {
                for i in 0..key.len() {
                    if i == 0 || key[i] != key[i - 1] || key.len() > crate::plate::normalise::MAX_PLATE_LEN {
                        expected.push(deletion_hash(key.iter().enumerate().filter(|&(p, _)| p != i).map(|(_, &c)| c)));
                    }
                }
            }
            if depth >= 2 {
                for i in 0..key.len() {
                    for j in i + 1..key.len() {
                        expected.push(deletion_hash(
                            key.iter().enumerate().filter(|&(p, _)| p != i && p != j).map(|(_, &c)| c),
                        ));
                    }
                }
            }
            proptest::prop_assert_eq!(got, expected);
        }
    }
}
