//! The scan layout and its kernel: the allele codes of the compact rows (see `profile.rs`) transposed into
//! blocks of 64 profiles, so that one locus of 64 profiles is two runs of 64 bytes and the rule test runs
//! on whole vectors.
//!
//! # Group layout
//!
//! Profiles are stored in groups of [`GROUP_ROWS`] = 4096 (the last one padded with untyped profiles,
//! which the caller drops by row number). In group `g`, for slot locus `s` and allele `k` (0 or 1), bytes
//! `(2·s + k)·4096 ..+ 4096` are that allele code of each of the 4096 profiles: one locus of a whole group
//! is two contiguous 4 KiB runs. Codes are exactly those of the row layout (0 untyped, 1 wildcard, 2 in the
//! extension, 3.. designations in Prüm order). The 16 header bytes of each row stay row-major beside the
//! groups, so the index still spends 64 bytes per profile.
//!
//! # Kernel
//!
//! For one probe and one group, [`group_survivors`] takes the probe's loci in its order of selectivity and,
//! per locus, streams the two runs of every 64-profile lane block still alive, counting per profile the
//! loci that certainly fail the rule (byte-wise range compares written without branches, so each 64-lane
//! step is a few vector instructions). A lane block is dropped as soon as all its profiles fail more loci
//! than the rule allows; for an unrelated database that happens after a handful of loci, so most of a group
//! is never read and what is read is read sequentially. The survivors then go through the exact row test
//! and comparison as before.

use super::profile::{ALLELE_BYTES, FIRST_CODE, ROW_BYTES};

/// Profiles per lane block: the kernel's unit, one bit each in a `u64` survivor mask.
pub const LANES: usize = 64;
/// Profiles per group (4096: one 4 KiB run per locus allele, and 64 lane blocks, one bit each in a `u64`).
pub const GROUP_ROWS: usize = 4096;
/// Lane blocks per group.
const GROUP_BLOCKS: usize = GROUP_ROWS / LANES;
/// Bytes of one group.
pub const GROUP_BYTES: usize = ALLELE_BYTES * GROUP_ROWS;

/// Offset of profile `r`'s allele byte `byte` (= 2·slot + allele) in the groups.
#[inline]
fn offset(r: usize, byte: usize) -> usize {
    (r / GROUP_ROWS) * GROUP_BYTES + byte * GROUP_ROWS + r % GROUP_ROWS
}
/// Header bytes of a row (flags, counts, extension pointer) kept row-major.
pub const HEAD_BYTES: usize = ROW_BYTES - ALLELE_BYTES;
/// Most probe alleles per locus the kernel tests (a two-person mixture).
pub const MAX_PROBE_ALLELES: usize = 4;

/// 0xFF when true, 0 when false: byte masks keep the kernel free of branches.
#[inline]
fn m(b: bool) -> u8 {
    u8::from(b).wrapping_neg()
}

/// The allele codes of all profiles in groups of [`GROUP_ROWS`], with the row headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanBlocks {
    blocks: Vec<u8>,
    heads: Vec<u8>,
    len: usize,
}

impl ScanBlocks {
    /// Transposes row-major compact rows (`ROW_BYTES` each) into groups.
    pub fn from_rows(rows: &[u8]) -> ScanBlocks {
        let len = rows.len() / ROW_BYTES;
        let mut blocks = vec![0_u8; len.div_ceil(GROUP_ROWS) * GROUP_BYTES];
        let mut heads = Vec::with_capacity(len * HEAD_BYTES);
        for (r, row) in rows.chunks_exact(ROW_BYTES).enumerate() {
            for (byte, &code) in row[..ALLELE_BYTES].iter().enumerate() {
                blocks[offset(r, byte)] = code;
            }
            heads.extend_from_slice(&row[ALLELE_BYTES..]);
        }
        ScanBlocks { blocks, heads, len }
    }

    /// Number of profiles.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes held (blocks and headers): the memory a full scan may read.
    pub fn bytes(&self) -> usize {
        self.blocks.len() + self.heads.len()
    }

    /// The groups, [`GROUP_BYTES`] each.
    pub fn groups(&self) -> &[u8] {
        &self.blocks
    }

    /// The compact row of profile `r` (gathered from its block and header), `None` past the end.
    pub fn row(&self, r: usize) -> Option<[u8; ROW_BYTES]> {
        if r >= self.len {
            return None;
        }
        let mut row = [0_u8; ROW_BYTES];
        for (byte, out) in row[..ALLELE_BYTES].iter_mut().enumerate() {
            *out = *self.blocks.get(offset(r, byte))?;
        }
        row[ALLELE_BYTES..].copy_from_slice(self.heads.get(r * HEAD_BYTES..(r + 1) * HEAD_BYTES)?);
        Some(row)
    }

    /// The 16 header bytes of profile `r` (row bytes 48..64), `None` past the end.
    pub fn head(&self, r: usize) -> Option<&[u8]> {
        self.heads.get(r * HEAD_BYTES..(r + 1) * HEAD_BYTES)
    }

    /// Overwrites one allele byte of a profile (tests build corrupt indexes with it).
    #[cfg(test)]
    pub fn set_code(&mut self, r: usize, byte: usize, code: u8) {
        self.blocks[offset(r, byte)] = code;
    }
}

/// What the kernel tests at one slot locus the probe is compared at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotTest {
    /// Slot locus.
    pub slot: u8,
    /// Per probe allele (fewer than [`MAX_PROBE_ALLELES`] repeat the first), the inclusive code range
    /// `lo ..= lo + width` it matches.
    pub lo: [u8; MAX_PROBE_ALLELES],
    /// See `lo`.
    pub width: [u8; MAX_PROBE_ALLELES],
    /// Stored codes `c` with `c - FIRST_CODE ≥ free_from` (wrapping) match anything: the untyped, wildcard
    /// and extension codes 0–2 (they wrap to 253–255) and, under Prüm, the off-ladder range at the top.
    pub free_from: u8,
}

impl SlotTest {
    /// `free_from` when only codes 0–2 are free (no stored off-ladder designation, or not Prüm).
    pub const NO_FREE_RANGE: u8 = 0u8.wrapping_sub(FIRST_CODE);
}

/// 0xFF when a stored genotype with codes (`x`, `y`) may pass the test `t`, 0 when it certainly fails.
/// `S` is the stringency (0 Prüm, 1 CODIS high, 2 moderate, 3 low), `K` the probe alleles tested per locus
/// (2, or 4 for a mixture probe).
// Inlined on purpose: the vectorised lane loop is built from it.
#[allow(clippy::inline_always)]
#[inline(always)]
fn genotype_ok<const S: u8, const K: usize>(x: u8, y: u8, t: &SlotTest) -> u8 {
    let fx = m(x.wrapping_sub(FIRST_CODE) >= t.free_from);
    let fy = m(y.wrapping_sub(FIRST_CODE) >= t.free_from);
    // xin / yin: the stored allele is among the probe's; all: every probe allele is among the stored.
    let (mut xin, mut yin, mut all) = (fx, fy, 0xFF_u8);
    for k in 0..K {
        let px = m(x.wrapping_sub(t.lo[k]) <= t.width[k]);
        let py = m(y.wrapping_sub(t.lo[k]) <= t.width[k]);
        xin |= px;
        yin |= py;
        all &= px | py | fx | fy;
    }
    match S {
        // Prüm and CODIS high: every allele of each side found on the other.
        0 | 1 => xin & yin & all,
        // CODIS moderate: one side contained in the other.
        2 => (xin & yin) | all,
        // CODIS low: one shared allele.
        _ => xin | yin,
    }
}

/// Adds one to `fails` of each lane whose stored genotype (`a`, `b`) certainly fails the test `t`.
// Inlined into the group loop on purpose: the const generics must reach the vectorised loop.
#[allow(clippy::inline_always)]
#[inline(always)]
fn count_fails<const S: u8, const K: usize>(a: &[u8; LANES], b: &[u8; LANES], t: &SlotTest, fails: &mut [u8; LANES]) {
    for j in 0..LANES {
        // At most 24 loci: never overflows.
        fails[j] += !genotype_ok::<S, K>(a[j], b[j], t) & 1;
    }
}

impl ScanBlocks {
    /// The group kernel's test for one profile, reading only the loci it needs (at most `max_fail` + 1
    /// failing ones): the cheap first test of candidates that come from the pair postings, where
    /// gathering the whole row would touch 48 cache lines.
    pub fn may_match<const S: u8, const K: usize>(&self, r: usize, tests: &[SlotTest], max_fail: u8) -> bool {
        let mut fails = 0_u8;
        for t in tests {
            let byte = 2 * usize::from(t.slot);
            let (Some(&x), Some(&y)) = (self.blocks.get(offset(r, byte)), self.blocks.get(offset(r, byte + 1))) else {
                return false;
            };
            fails += !genotype_ok::<S, K>(x, y, t) & 1;
            if fails > max_fail {
                return false;
            }
        }
        r < self.len
    }
}

/// Calls `found(row_in_group)` for each profile of the group that fails at most `max_fail` of the probe's
/// loci (a lower bound of the failing loci, exactly the row test's count), in row order. `S` and `K` as
/// for [`count_fails`].
pub fn group_survivors<const S: u8, const K: usize>(
    group: &[u8],
    tests: &[SlotTest],
    max_fail: u8,
    mut found: impl FnMut(usize),
) {
    let mut fails = [[0_u8; LANES]; GROUP_BLOCKS];
    let mut alive = u64::MAX;
    for (i, t) in tests.iter().enumerate() {
        let base = 2 * usize::from(t.slot) * GROUP_ROWS;
        let (Some(a), Some(b)) =
            (group.get(base..base + GROUP_ROWS), group.get(base + GROUP_ROWS..base + 2 * GROUP_ROWS))
        else {
            continue;
        };
        // Every other locus (and after the last), drop the lane blocks where no profile can be a hit.
        let check = i % 2 == 1 || i + 1 == tests.len();
        let mut blocks = alive;
        while blocks != 0 {
            let k = blocks.trailing_zeros() as usize;
            blocks &= blocks - 1;
            let (Ok(a), Ok(b), Some(f)) = (
                <&[u8; LANES]>::try_from(&a[k * LANES..(k + 1) * LANES]),
                <&[u8; LANES]>::try_from(&b[k * LANES..(k + 1) * LANES]),
                fails.get_mut(k),
            ) else {
                continue;
            };
            count_fails::<S, K>(a, b, t, f);
            if check && f.iter().fold(0_u8, |acc, &x| acc | m(x <= max_fail)) == 0 {
                alive &= !(1_u64 << k);
            }
        }
        if alive == 0 {
            return;
        }
    }
    while alive != 0 {
        let k = alive.trailing_zeros() as usize;
        alive &= alive - 1;
        for (j, &f) in fails[k].iter().enumerate() {
            if f <= max_fail {
                found(k * LANES + j);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_groups() {
        let n = GROUP_ROWS + 130;
        let rows: Vec<u8> = (0..n * ROW_BYTES).map(|i| (i * 7 % 251) as u8).collect();
        let blocks = ScanBlocks::from_rows(&rows);
        assert_eq!(blocks.len(), n);
        assert_eq!(blocks.groups().len(), 2 * GROUP_BYTES);
        for r in 0..n {
            assert_eq!(&blocks.row(r).unwrap()[..], &rows[r * ROW_BYTES..(r + 1) * ROW_BYTES]);
        }
        assert_eq!(blocks.row(n), None);
    }

    #[test]
    fn free_codes_wrap_above_the_threshold() {
        for code in 0..FIRST_CODE {
            assert!(code.wrapping_sub(FIRST_CODE) >= SlotTest::NO_FREE_RANGE);
        }
        assert!(255_u8.wrapping_sub(FIRST_CODE) < SlotTest::NO_FREE_RANGE);
    }
}
