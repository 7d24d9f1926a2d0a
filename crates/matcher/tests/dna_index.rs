//! The DNA index against a brute-force reference: every probe compared with every stored profile through
//! `rules::compare`, no scan, no layout, no parallelism. Hits must be identical, in the same order.

// Tests may unwrap: a panic here is a failing test, not a user-facing crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cgi_match_core::dna::allele::Allele;
use cgi_match_core::dna::kinship::{kinship_index, Relationship};
use cgi_match_core::dna::loci::{self, LocusId};
use cgi_match_core::dna::rules::{compare, MatchRules};
use cgi_match_core::dna::stats::AlleleFrequencies;
use cgi_match_core::dna::{DnaIndex, MatchClass, Profile, ProfileKind};
use cgi_match_core::MatchError;
use proptest::prelude::*;

/// Loci drawn by the generator: slot loci, a pentanucleotide, and two extension loci.
fn test_loci() -> Vec<LocusId> {
    ["D3S1358", "vWA", "D8S1179", "D21S11", "D18S51", "TH01", "FGA", "D1S1656", "Penta D", "FES", "F13A1"]
        .iter()
        .map(|n| loci::lookup(n).unwrap())
        .collect()
}

fn allele_strategy() -> impl Strategy<Value = Allele> {
    prop_oneof![
        20 => (8_u16..12).prop_map(|x| Allele::Repeat(x * 10)),
        3 => (8_u16..12, 1_u16..5).prop_map(|(x, y)| Allele::Repeat(x * 10 + y)),
        1 => Just(Allele::Wildcard),
        1 => Just(Allele::OffLadder),
    ]
}

fn profile_strategy() -> impl Strategy<Value = Profile> {
    let l = test_loci();
    (proptest::collection::vec((0..l.len(), proptest::collection::vec(allele_strategy(), 1..4)), 4..11), any::<bool>())
        .prop_map(move |(typings, stain)| {
            let kind = if stain { ProfileKind::Stain } else { ProfileKind::Reference };
            let mut p = Profile::new(
                kind,
                typings.into_iter().map(|(i, mut a)| {
                    if !stain {
                        a.truncate(2);
                    }
                    (l[i], a)
                }),
            );
            if kind == ProfileKind::Reference {
                p.apply_prum_third_allele_rule();
            }
            p
        })
}

fn brute_force(
    ids: &[String],
    refs: &[Profile],
    probes: &[Profile],
    rules: &MatchRules,
) -> Vec<(u32, String, MatchClass, u32, u32)> {
    let mut hits = Vec::new();
    for (p, probe) in probes.iter().enumerate() {
        let mut mine = Vec::new();
        for (id, r) in ids.iter().zip(refs) {
            let c = compare(probe, r, rules);
            if let Some(class) = c.class(rules) {
                mine.push((p as u32, id.clone(), class, c.loci_matched, c.mismatched_alleles));
            }
        }
        mine.sort_by(|a, b| a.2.cmp(&b.2).then(b.3.cmp(&a.3)).then(a.4.cmp(&b.4)).then(a.1.cmp(&b.1)));
        hits.extend(mine);
    }
    hits
}

fn canonical(p: &Profile) -> Profile {
    let mut q = p.clone();
    for t in &mut q.loci {
        t.alleles.sort();
    }
    q
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn index_hits_equal_brute_force(
        refs in proptest::collection::vec(profile_strategy(), 1..60),
        extra in proptest::collection::vec(profile_strategy(), 0..10),
        min_loci in 1_u32..5,
        max_mismatches in 0_u32..3,
        preset in 0_usize..4,
    ) {
        let ids: Vec<String> = (0..refs.len()).map(|i| format!("r{:03}", (i * 7919) % 1000)).collect();
        let mut ids = ids;
        ids.sort();
        ids.dedup();
        let refs = &refs[..ids.len()];
        let index = DnaIndex::build(&ids, refs).unwrap();
        // Probes: a few stored profiles themselves plus random ones.
        let mut probes: Vec<Profile> = refs.iter().take(5).cloned().collect();
        probes.extend(extra);
        let name = ["prum", "codis-high", "codis-moderate", "codis-low"][preset];
        let rules = MatchRules { min_loci, max_mismatches, ..MatchRules::preset(name).unwrap() };
        let want = brute_force(&ids, refs, &probes, &rules);
        let got: Vec<_> = index.search(&probes, &rules, None).unwrap().into_iter()
            .map(|h| (h.probe, index.id(h.row as usize).to_owned(), h.class, h.comparison.loci_matched, h.comparison.mismatched_alleles))
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn rows_decode_to_the_stored_profile(refs in proptest::collection::vec(profile_strategy(), 1..30)) {
        let ids: Vec<String> = (0..refs.len()).map(|i| format!("p{i}")).collect();
        let index = DnaIndex::build(&ids, &refs).unwrap();
        for (i, r) in refs.iter().enumerate() {
            prop_assert_eq!(canonical(&index.profile(i).unwrap()), canonical(r));
        }
        let back = DnaIndex::from_bytes(&index.to_bytes()).unwrap();
        prop_assert_eq!(back, index);
    }

    #[test]
    fn self_match_is_full_and_rules_are_symmetric(a in profile_strategy(), b in profile_strategy()) {
        let rules = MatchRules { min_loci: 1, ..MatchRules::preset("prum").unwrap() };
        let c = compare(&a, &a, &rules);
        prop_assert_eq!(c.mismatched_alleles, 0);
        for name in ["prum", "codis-high", "codis-low"] {
            let r = MatchRules { min_loci: 1, max_mismatches: 4, ..MatchRules::preset(name).unwrap() };
            // Prüm's third-allele rule keeps the *first* allele, so mixtures are excluded from symmetry.
            if a.is_mixture() || b.is_mixture() { continue; }
            prop_assert_eq!(compare(&a, &b, &r), compare(&b, &a, &r), "{}", name);
        }
        let high = MatchRules { min_loci: 1, ..MatchRules::preset("codis-high").unwrap() };
        let moderate = MatchRules { min_loci: 1, ..MatchRules::preset("codis-moderate").unwrap() };
        if compare(&a, &b, &high).class(&high).is_some() {
            prop_assert!(compare(&a, &b, &moderate).class(&moderate).is_some());
        }
    }
}

fn small_index() -> (Vec<String>, Vec<Profile>, DnaIndex) {
    let l = test_loci();
    let mut profiles = Vec::new();
    for i in 0..300_u16 {
        let typings = l.iter().enumerate().map(|(k, &locus)| {
            let a = 80 + ((i * 7 + k as u16 * 3) % 5) * 10;
            let b = 80 + ((i * 11 + k as u16) % 6) * 10;
            (locus, vec![Allele::Repeat(a), Allele::Repeat(b)])
        });
        profiles.push(Profile::new(ProfileKind::Reference, typings));
    }
    let ids: Vec<String> = (0..profiles.len()).map(|i| format!("id{i:04}")).collect();
    let index = DnaIndex::build(&ids, &profiles).unwrap();
    (ids, profiles, index)
}

#[test]
fn search_is_the_same_for_any_thread_count() {
    let (_, profiles, index) = small_index();
    let rules = MatchRules { min_loci: 3, max_mismatches: 2, ..MatchRules::preset("prum").unwrap() };
    let probes: Vec<Profile> = profiles.iter().step_by(7).cloned().collect();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| index.search(&probes, &rules, None).unwrap())
    };
    let one = run(1);
    assert!(!one.is_empty());
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}

#[test]
fn pair_postings_agree_with_brute_force_on_full_profiles() {
    // Fully typed profiles: every row is keyed, so the fast path (not the fallback scan) answers.
    let (ids, profiles, index) = small_index();
    let mut probes: Vec<Profile> = profiles.iter().step_by(11).cloned().collect();
    // Near-match probes: one allele changed at one key locus.
    for p in profiles.iter().step_by(13) {
        let mut q = p.clone();
        q.loci[1].alleles[0] = Allele::Repeat(80);
        probes.push(q);
    }
    for name in ["prum", "codis-high"] {
        for max_mismatches in 0..3 {
            let rules = MatchRules { min_loci: 3, max_mismatches, ..MatchRules::preset(name).unwrap() };
            let want = brute_force(&ids, &profiles, &probes, &rules);
            let got: Vec<_> = index
                .search(&probes, &rules, None)
                .unwrap()
                .into_iter()
                .map(|h| {
                    let c = h.comparison;
                    (h.probe, index.id(h.row as usize).to_owned(), h.class, c.loci_matched, c.mismatched_alleles)
                })
                .collect();
            assert_eq!(got, want, "{name} {max_mismatches}");
        }
    }
}

#[test]
fn identical_genotypes_found_through_the_hash() {
    let (ids, profiles, index) = small_index();
    let found = index.find_identical(&profiles[..3]).unwrap();
    for (p, row) in found {
        assert_eq!(canonical(&index.profile(row as usize).unwrap()), canonical(&profiles[p as usize]));
        let _ = &ids[row as usize];
    }
    let mut other = profiles[0].clone();
    other.loci[0].alleles = vec![Allele::Repeat(300)];
    assert!(index.find_identical(&[other]).unwrap().is_empty());
}

#[test]
fn familial_search_equals_the_direct_kinship_index() {
    let (ids, profiles, index) = small_index();
    let l = test_loci();
    let mut loc = Vec::new();
    let mut al = Vec::new();
    let mut fr = Vec::new();
    for &locus in &l {
        for (k, f) in [(80, 0.2), (90, 0.2), (100, 0.2), (110, 0.2), (120, 0.1), (130, 0.1)] {
            loc.push(locus);
            al.push(Allele::Repeat(k));
            fr.push(f);
        }
    }
    let n = vec![Some(500); loc.len()];
    let freqs = AlleleFrequencies::from_rows("t", &loc, &al, &fr, &n).unwrap();
    let probes = &profiles[..4];
    for rel in [Relationship::ParentChild, Relationship::FullSibling] {
        let hits = index.familial_search(probes, rel, &freqs, 5, 1.0).unwrap();
        for (p, probe) in probes.iter().enumerate() {
            let mut want: Vec<(f64, String)> = profiles
                .iter()
                .zip(&ids)
                .map(|(r, id)| (kinship_index(probe, r, rel, &freqs).0, id.clone()))
                .filter(|(ki, _)| *ki >= 1.0)
                .collect();
            want.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            want.truncate(5);
            let got: Vec<_> = hits.iter().filter(|h| h.probe == p as u32).collect();
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!((g.kinship_index - w.0).abs() <= 1e-9 * w.0, "{} vs {}", g.kinship_index, w.0);
                assert_eq!(index.id(g.row as usize), w.1);
            }
        }
    }
}

#[test]
fn corrupted_or_foreign_files_are_index_file_errors() {
    let (_, _, index) = small_index();
    let bytes = index.to_bytes();
    assert_eq!(DnaIndex::from_bytes(&bytes).unwrap(), index);
    let mut flipped = bytes.clone();
    let last = flipped.len() - 10;
    flipped[last] ^= 1;
    for broken in [&bytes[..bytes.len() / 2], &flipped[..], b"PK\x03\x04 not an index", &[][..]] {
        assert!(matches!(DnaIndex::from_bytes(broken), Err(MatchError::IndexFile(_))));
    }
    let mut version = bytes.clone();
    version[8] = 99;
    assert!(matches!(DnaIndex::from_bytes(&version), Err(MatchError::IndexFile(m)) if m.contains("format version")));
    let dir = std::env::temp_dir().join(format!("cgi-dna-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.dnaidx");
    index.save(&path).unwrap();
    assert_eq!(DnaIndex::load(&path).unwrap(), index);
    assert!(matches!(DnaIndex::load(&dir.join("missing")), Err(MatchError::Io { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn duplicate_ids_are_refused() {
    let (_, profiles, _) = small_index();
    let ids = vec!["a".to_owned(), "a".to_owned()];
    assert!(DnaIndex::build(&ids, &profiles[..2]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The scan works on blocks of 64 profiles: databases over several blocks (and a padded last block),
    /// under every preset, with and without a locus restriction, against the same brute force.
    #[test]
    fn scan_blocks_over_many_profiles_equal_brute_force(
        refs in proptest::collection::vec(profile_strategy(), 60..260),
        extra in proptest::collection::vec(profile_strategy(), 0..6),
        min_loci in 1_u32..5,
        max_mismatches in 0_u32..4,
        preset in 0_usize..4,
        restrict in any::<bool>(),
    ) {
        let ids: Vec<String> = (0..refs.len()).map(|i| format!("r{i:04}")).collect();
        let index = DnaIndex::build(&ids, &refs).unwrap();
        let mut probes: Vec<Profile> = refs.iter().step_by(37).cloned().collect();
        probes.extend(extra);
        let name = ["prum", "codis-high", "codis-moderate", "codis-low"][preset];
        let mut rules = MatchRules { min_loci, max_mismatches, ..MatchRules::preset(name).unwrap() };
        if restrict {
            rules.loci = Some(test_loci()[..6].to_vec());
        }
        let want = brute_force(&ids, &refs, &probes, &rules);
        let got: Vec<_> = index.search(&probes, &rules, None).unwrap().into_iter()
            .map(|h| (h.probe, index.id(h.row as usize).to_owned(), h.class, h.comparison.loci_matched, h.comparison.mismatched_alleles))
            .collect();
        prop_assert_eq!(got, want);
    }
}

/// Several scan groups of 4096 profiles (and a padded last group): every preset and a locus restriction
/// against the brute force, on a deterministic pseudo-random database with wildcards, off-ladder
/// alleles, microvariants and mixture stains.
#[test]
fn scan_groups_over_many_profiles_equal_brute_force() {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let l = test_loci();
    let allele = |next: &mut dyn FnMut(u64) -> u64| match next(40) {
        0 => Allele::Wildcard,
        1 => Allele::OffLadder,
        2..=4 => Allele::Repeat((8 + next(4) as u16) * 10 + 1 + next(4) as u16),
        _ => Allele::Repeat((8 + next(4) as u16) * 10),
    };
    let mut profiles = Vec::new();
    for i in 0..9_000 {
        let stain = i % 50 == 0;
        let mut typings: Vec<(LocusId, Vec<Allele>)> = Vec::new();
        for &locus in &l {
            if next(10) == 0 {
                continue;
            }
            let k = if stain { 1 + next(3) as usize } else { 1 + next(2) as usize };
            typings.push((locus, (0..k).map(|_| allele(&mut next)).collect()));
        }
        let mut p = Profile::new(if stain { ProfileKind::Stain } else { ProfileKind::Reference }, typings);
        if !stain {
            p.apply_prum_third_allele_rule();
        }
        profiles.push(p);
    }
    let ids: Vec<String> = (0..profiles.len()).map(|i| format!("g{i:05}")).collect();
    let index = DnaIndex::build(&ids, &profiles).unwrap();
    let probes: Vec<Profile> = profiles.iter().step_by(997).cloned().collect();
    for name in ["prum", "codis-high", "codis-moderate", "codis-low"] {
        for restrict in [false, true] {
            let mut rules = MatchRules { min_loci: 4, max_mismatches: 1, ..MatchRules::preset(name).unwrap() };
            if restrict {
                rules.loci = Some(l[..7].to_vec());
            }
            let want = brute_force(&ids, &profiles, &probes, &rules);
            let got: Vec<_> = index
                .search(&probes, &rules, None)
                .unwrap()
                .into_iter()
                .map(|h| {
                    let id = index.id(h.row as usize).to_owned();
                    (h.probe, id, h.class, h.comparison.loci_matched, h.comparison.mismatched_alleles)
                })
                .collect();
            assert!(!want.is_empty());
            assert_eq!(got, want, "{name}, restricted: {restrict}");
        }
    }
}

/// The build runs in parallel chunks of 16,384 profiles: over several chunks, with extension entries
/// (mixture loci, loci outside the slots) in every chunk, each row still decodes to its profile, the
/// index is the same in a one-thread pool, and it survives a save/load round trip.
#[test]
fn parallel_build_keeps_every_profile_and_extension_entry() {
    let l = test_loci();
    let profiles: Vec<Profile> = (0..40_000_u32)
        .map(|i| {
            let stain = i % 7 == 0;
            let typings = l.iter().enumerate().map(|(k, &locus)| {
                let base = 80 + ((i as u16).wrapping_mul(31).wrapping_add(k as u16 * 17) % 40);
                let alleles = if stain && k % 3 == 0 {
                    vec![Allele::Repeat(base), Allele::Repeat(base + 10), Allele::Repeat(base + 20)]
                } else {
                    vec![Allele::Repeat(base), Allele::Repeat(base + 10 * (k as u16 % 3))]
                };
                (locus, alleles)
            });
            Profile::new(if stain { ProfileKind::Stain } else { ProfileKind::Reference }, typings)
        })
        .collect();
    let ids: Vec<String> = (0..profiles.len()).map(|i| format!("b{i:05}")).collect();
    let index = DnaIndex::build(&ids, &profiles).unwrap();
    for (i, p) in profiles.iter().enumerate() {
        assert_eq!(canonical(&index.profile(i).unwrap()), canonical(p), "row {i}");
    }
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    assert_eq!(one.install(|| DnaIndex::build(&ids, &profiles).unwrap()), index);
    assert_eq!(DnaIndex::from_bytes(&index.to_bytes()).unwrap(), index);
}
