//! Brute-force reference matcher for the tests: every read against every alert, with the textbook
//! algorithms (full edit-distance matrix, recursive wildcard matching, position-by-position look-alike
//! check) written independently of the index's candidate tables, banded distance and iterative glob.
//! The property tests below require the index to give exactly the same hits in exactly the same order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::many_single_char_names, clippy::needless_range_loop)]

use proptest::prelude::*;

use crate::columns::{StrColumn, StrColumnBuilder};
use crate::plate::country::{normalise_country, CountryPolicy};
use crate::plate::index::{AlertColumns, MatchKind, MatchOptions, PlateIndex, ReadColumns, TimeColumn};
use crate::plate::normalise::normalise_plate;
use crate::plate::ocr::OcrClasses;

/// One alert row as a test writes it.
#[derive(Debug, Clone)]
pub struct Alert {
    pub id: String,
    pub plate: String,
    pub country: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// One read row as a test writes it.
#[derive(Debug, Clone)]
pub struct Read {
    pub plate: Option<String>,
    pub country: Option<String>,
    pub seen_at: Option<i64>,
}

/// A hit as (read row, alert id, kind, distance ×2, score).
pub type RefHit = (usize, String, MatchKind, u32, f32);

/// Full-matrix weighted Levenshtein in half-edits, the textbook recurrence.
pub fn full_distance(a: &[char], b: &[char], c: &OcrClasses) -> u32 {
    let mut d = vec![vec![0_u32; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = 2 * i as u32;
    }
    for j in 0..=b.len() {
        d[0][j] = 2 * j as u32;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let s = if a[i - 1] == b[j - 1] {
                0
            } else if c.lookalike(a[i - 1], b[j - 1]) {
                1
            } else {
                2
            };
            d[i][j] = (d[i - 1][j - 1] + s).min(d[i - 1][j] + 2).min(d[i][j - 1] + 2);
        }
    }
    d[a.len()][b.len()]
}

fn glob(p: &[char], t: &[char]) -> bool {
    match (p.first(), t.first()) {
        (None, None) => true,
        (Some('*'), _) => glob(&p[1..], t) || (!t.is_empty() && glob(p, &t[1..])),
        (Some('?'), Some(_)) => glob(&p[1..], &t[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &t[1..]),
        _ => false,
    }
}

fn is_pattern(k: &[char]) -> bool {
    k.iter().any(|&c| c == '?' || c == '*')
}

fn literals(k: &[char]) -> usize {
    k.iter().filter(|&&c| c != '?' && c != '*').count()
}

/// Every (read, alert) pair checked directly; output in (read, score desc, alert id, alert row) order.
pub fn brute_force(alerts: &[Alert], reads: &[Read], classes: &OcrClasses, o: &MatchOptions) -> Vec<RefHit> {
    // Alerts the index would keep.
    let mut kept = Vec::new();
    for (row, a) in alerts.iter().enumerate() {
        let Ok(key) = normalise_plate(&a.plate, true) else { continue };
        let key: Vec<char> = key.chars().collect();
        if literals(&key) == 0 || a.id.is_empty() {
            continue;
        }
        let Ok(country) = normalise_country(a.country.as_deref().unwrap_or("")) else { continue };
        let (from, to) = (a.from.unwrap_or(i64::MIN), a.to.unwrap_or(i64::MAX));
        if to < from {
            continue;
        }
        kept.push((row, a.id.clone(), key, country, from, to));
    }
    let mut out = Vec::new();
    for (r, read) in reads.iter().enumerate() {
        let Some(plate) = &read.plate else { continue };
        let Ok(key) = normalise_plate(plate, true) else { continue };
        let rk: Vec<char> = key.chars().collect();
        let Ok(rc) = normalise_country(read.country.as_deref().unwrap_or("")) else { continue };
        if is_pattern(&rk) && literals(&rk) == 0 {
            continue;
        }
        let t = read.seen_at.unwrap_or(o.at);
        let mut found: Vec<(f32, String, usize, MatchKind, u32)> = Vec::new();
        for (row, id, ak, ac, from, to) in &kept {
            if !o.country_policy.allows(rc, *ac) || t < *from || t > *to {
                continue;
            }
            let hit = match (is_pattern(&rk), is_pattern(ak)) {
                (true, true) => None,
                (true, false) => {
                    glob(&rk, ak).then(|| (MatchKind::Wildcard, 0, literals(&rk) as f32 / ak.len() as f32))
                }
                (false, true) => glob(ak, &rk).then(|| (MatchKind::Wildcard, 0, literals(ak) as f32 / rk.len() as f32)),
                (false, false) => {
                    let longer = rk.len().max(ak.len()) as f32;
                    let fuzzy = rk.len() >= o.min_fuzzy_length && ak.len() >= o.min_fuzzy_length;
                    let ocr_limit = if fuzzy { o.max_ocr } else { o.max_ocr.min(o.max_ocr_short) };
                    let same_len_lookalike = rk.len() == ak.len()
                        && rk.iter().zip(ak.iter()).all(|(&x, &y)| x == y || classes.lookalike(x, y));
                    let subs = rk.iter().zip(ak.iter()).filter(|(x, y)| x != y).count() as u32;
                    if rk == *ak {
                        Some((MatchKind::Exact, 0, 1.0))
                    } else if same_len_lookalike && ocr_limit > 0 && subs <= ocr_limit {
                        Some((MatchKind::Ocr, subs, 1.0 - (subs as f32 / 2.0) / longer))
                    } else if fuzzy && o.max_edits > 0 {
                        let d = full_distance(&rk, ak, classes);
                        (d <= 2 * o.max_edits).then(|| (MatchKind::Edit, d, 1.0 - (d as f32 / 2.0) / longer))
                    } else {
                        None
                    }
                }
            };
            if let Some((kind, d, score)) = hit {
                found.push((score.clamp(0.0, 1.0), id.clone(), *row, kind, d));
            }
        }
        found.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
        out.extend(found.into_iter().map(|(score, id, _, kind, d)| (r, id, kind, d, score)));
    }
    out
}

fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> StrColumnBuilder {
    let mut b = StrColumnBuilder::with_capacity(0, 0);
    for v in values {
        b.push(v);
    }
    b
}

fn times(values: impl Iterator<Item = Option<i64>>) -> (Vec<i64>, Vec<bool>) {
    values.map(|v| (v.unwrap_or(0), v.is_some())).unzip()
}

/// Builds the index from test rows.
pub fn build_index(alerts: &[Alert], classes: OcrClasses) -> PlateIndex {
    let ids = strings(alerts.iter().map(|a| Some(a.id.as_str())));
    let plates = strings(alerts.iter().map(|a| Some(a.plate.as_str())));
    let countries = strings(alerts.iter().map(|a| a.country.as_deref()));
    let (from, from_ok) = times(alerts.iter().map(|a| a.from));
    let (to, to_ok) = times(alerts.iter().map(|a| a.to));
    let cols = AlertColumns {
        alert_id: StrColumn::new(&ids.offsets, &ids.data, Some(&ids.valid)).unwrap(),
        plate: StrColumn::new(&plates.offsets, &plates.data, Some(&plates.valid)).unwrap(),
        country: Some(StrColumn::new(&countries.offsets, &countries.data, Some(&countries.valid)).unwrap()),
        valid_from: Some(TimeColumn::new(&from, Some(&from_ok)).unwrap()),
        valid_to: Some(TimeColumn::new(&to, Some(&to_ok)).unwrap()),
    };
    PlateIndex::build(&cols, classes, Vec::new()).unwrap()
}

/// Matches test reads with the index, `split` reads per call (a batch split), as reference-shaped hits.
pub fn index_hits(index: &PlateIndex, reads: &[Read], o: &MatchOptions, split: usize) -> Vec<RefHit> {
    let plates = strings(reads.iter().map(|r| r.plate.as_deref()));
    let countries = strings(reads.iter().map(|r| r.country.as_deref()));
    let (seen, seen_ok) = times(reads.iter().map(|r| r.seen_at));
    let cols = ReadColumns {
        plate: StrColumn::new(&plates.offsets, &plates.data, Some(&plates.valid)).unwrap(),
        country: Some(StrColumn::new(&countries.offsets, &countries.data, Some(&countries.valid)).unwrap()),
        seen_at: Some(TimeColumn::new(&seen, Some(&seen_ok)).unwrap()),
    };
    let mut out = Vec::new();
    let mut start = 0;
    while start < reads.len() {
        let end = (start + split.max(1)).min(reads.len());
        let m = index.match_reads(&cols, start..end, o).unwrap();
        assert_eq!(m.reject.len(), end - start);
        for h in 0..m.hits.len() {
            let kind = MatchKind::ALL.iter().copied().find(|k| *k as u8 == m.hits.kind[h]).unwrap();
            out.push((
                m.hits.read[h] as usize,
                index.alert_id(m.hits.alert[h] as usize).to_owned(),
                kind,
                (m.hits.distance[h] * 2.0).round() as u32,
                m.hits.score[h],
            ));
        }
        start = end;
    }
    out
}

fn plate() -> impl Strategy<Value = String> {
    // A small alphabet full of look-alikes so that every kind of hit occurs often.
    prop_oneof![
        8 => "[AB80OD1I5S][AB80OD1I5S -]{3,8}",
        1 => "[AB80?*]{1,6}",
        1 => "[AB80]{1,3}",
    ]
}

fn country() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("B".to_owned())),
        Just(Some("BE".to_owned())),
        Just(Some("NL".to_owned())),
        Just(Some("??".to_owned()))
    ]
}

fn time() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![Just(None), (0_i64..10).prop_map(Some)]
}

fn alerts() -> impl Strategy<Value = Vec<Alert>> {
    prop::collection::vec(
        ("[a-d]{1,2}", plate(), country(), time(), time()).prop_map(|(id, plate, country, from, to)| Alert {
            id,
            plate,
            country,
            from,
            to,
        }),
        0..40,
    )
}

fn reads() -> impl Strategy<Value = Vec<Read>> {
    prop::collection::vec(
        (prop::option::weighted(0.95, plate()), country(), time()).prop_map(|(plate, country, seen_at)| Read {
            plate,
            country,
            seen_at,
        }),
        0..40,
    )
}

fn options() -> impl Strategy<Value = MatchOptions> {
    (0_u32..3, 0_u32..3, 0_usize..7, 0_u32..3, 0_usize..3, 0_i64..10).prop_map(
        |(ocr, edits, mfl, ocr_short, policy, at)| {
            let policy = [CountryPolicy::Lenient, CountryPolicy::Strict, CountryPolicy::Ignore][policy];
            MatchOptions::new(ocr, edits, mfl, ocr_short, policy, at).unwrap()
        },
    )
}

fn close(a: &[RefHit], b: &[RefHit]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && x.1 == y.1 && x.2 == y.2 && x.3 == y.3 && (x.4 - y.4).abs() < 1e-6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn index_equals_brute_force(alerts in alerts(), reads in reads(), o in options(), split in 1_usize..50) {
        let classes = OcrClasses::default();
        let index = build_index(&alerts, classes.clone());
        let expected = brute_force(&alerts, &reads, &classes, &o);
        let got = index_hits(&index, &reads, &o, split);
        prop_assert!(close(&got, &expected), "index {got:?}\nbrute force {expected:?}");
    }

    #[test]
    fn reads_with_one_unknown_character_equal_brute_force(
        alerts in alerts(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..30),
        o in options(),
    ) {
        prop_assume!(!alerts.is_empty());
        // Each read is an alert's plate with one character replaced by `?` (what ANPR writes when unsure).
        let reads: Vec<Read> = picks
            .iter()
            .map(|(a, c)| {
                let mut chars: Vec<char> = alerts[a.index(alerts.len())].plate.chars().collect();
                let i = c.index(chars.len());
                chars[i] = '?';
                Read { plate: Some(chars.into_iter().collect()), country: None, seen_at: None }
            })
            .collect();
        let classes = OcrClasses::default();
        let index = build_index(&alerts, classes.clone());
        let expected = brute_force(&alerts, &reads, &classes, &o);
        let got = index_hits(&index, &reads, &o, 7);
        prop_assert!(close(&got, &expected), "index {got:?}\nbrute force {expected:?}");
    }

    #[test]
    fn star_patterns_equal_brute_force(
        alerts in alerts(),
        reads in prop::collection::vec("[AB80OD1]{0,3}[*?][AB80OD1*?]{0,2}[AB80OD1]{0,3}", 1..30),
        o in options(),
    ) {
        // Witness patterns with literal prefixes and suffixes: found through the prefix / suffix orders.
        let reads: Vec<Read> =
            reads.into_iter().map(|p| Read { plate: Some(p), country: None, seen_at: None }).collect();
        let classes = OcrClasses::default();
        let index = build_index(&alerts, classes.clone());
        let expected = brute_force(&alerts, &reads, &classes, &o);
        let got = index_hits(&index, &reads, &o, 5);
        prop_assert!(close(&got, &expected), "index {got:?}\nbrute force {expected:?}");
    }

    #[test]
    fn saved_and_loaded_index_gives_the_same_hits(alerts in alerts(), reads in reads(), o in options()) {
        let index = build_index(&alerts, OcrClasses::default());
        let (loaded, _) = PlateIndex::from_bytes(&index.to_bytes()).unwrap();
        prop_assert_eq!(index_hits(&index, &reads, &o, 64), index_hits(&loaded, &reads, &o, 64));
        prop_assert_eq!(index.rejects(), loaded.rejects());
    }

    #[test]
    fn a_read_equal_to_an_alert_always_hits_exact(alerts in alerts(), pick in any::<prop::sample::Index>(), o in options()) {
        prop_assume!(!alerts.is_empty());
        let a = &alerts[pick.index(alerts.len())];
        let index = build_index(&alerts, OcrClasses::default());
        let Ok(key) = normalise_plate(&a.plate, true) else { return Ok(()) };
        prop_assume!(!key.contains(['?', '*']) && !a.id.is_empty());
        prop_assume!(a.from.unwrap_or(i64::MIN) <= a.to.unwrap_or(i64::MAX));
        prop_assume!(normalise_country(a.country.as_deref().unwrap_or("")).is_ok());
        let read = Read { plate: Some(a.plate.clone()), country: a.country.clone(), seen_at: a.from.or(a.to) };
        let o = MatchOptions { country_policy: CountryPolicy::Lenient, ..o };
        let hits = index_hits(&index, &[read], &o, 1);
        prop_assert!(hits.iter().any(|h| h.1 == a.id && h.2 == MatchKind::Exact));
    }

    #[test]
    fn corrupting_any_byte_is_an_index_file_error(alerts in alerts(), at in any::<prop::sample::Index>(), flip in 1_u8..=255) {
        let mut bytes = build_index(&alerts, OcrClasses::default()).to_bytes();
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        prop_assert!(matches!(PlateIndex::from_bytes(&bytes), Err(crate::MatchError::IndexFile(_))));
        let cut = at.index(bytes.len());
        prop_assert!(matches!(PlateIndex::from_bytes(&bytes[..cut]), Err(crate::MatchError::IndexFile(_))));
    }
}

#[test]
fn thread_count_does_not_change_hits() {
    let alerts: Vec<Alert> = (0..3000)
        .map(|i| Alert {
            id: format!("A{i:05}"),
            plate: format!("AB{:04}", i % 2000),
            country: None,
            from: None,
            to: None,
        })
        .collect();
    let reads: Vec<Read> = (0..5000)
        .map(|i| Read { plate: Some(format!("A8{:04}", (i * 7) % 2500)), country: None, seen_at: None })
        .collect();
    let index = build_index(&alerts, OcrClasses::default());
    let o = MatchOptions::new(2, 1, 5, 1, CountryPolicy::Lenient, 0).unwrap();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| index_hits(&index, &reads, &o, 5000));
    let four =
        rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap().install(|| index_hits(&index, &reads, &o, 777));
    assert!(!one.is_empty());
    assert_eq!(one, four);
}

#[test]
fn examples_of_each_kind() {
    let alerts = vec![
        Alert { id: "a1".into(), plate: "1-ABC-123".into(), country: Some("B".into()), from: None, to: None },
        Alert { id: "a2".into(), plate: "AB-123-CD".into(), country: Some("F".into()), from: Some(5), to: Some(9) },
        Alert { id: "a3".into(), plate: "M?X*".into(), country: None, from: None, to: None },
        Alert { id: "a4".into(), plate: String::new(), country: None, from: None, to: None },
    ];
    let index = build_index(&alerts, OcrClasses::default());
    assert_eq!(index.len(), 3);
    assert_eq!(index.rejects(), &[(3, crate::plate::PlateReject::Empty.code())]);
    let o = MatchOptions::new(2, 1, 5, 1, CountryPolicy::Lenient, 7).unwrap();
    let read = |p: &str, c: Option<&str>, t: Option<i64>| Read {
        plate: Some(p.into()),
        country: c.map(Into::into),
        seen_at: t,
    };
    let reads = vec![
        read("1abc123", Some("BE"), None), // exact, country by alpha-2
        read("IABCI23", None, None),       // ocr: two look-alikes (1→I)
        read("1ABC12", None, None),        // edit: dropped character
        read("AB123CD", Some("D"), None),  // other country: no hit
        read("AB123CD", None, Some(10)),   // expired at seen_at: no hit
        read("MAX77", None, None),         // wildcard alert
        read("AB*CD", None, None),         // query pattern
    ];
    let hits = index_hits(&index, &reads, &o, 3);
    let summary: Vec<(usize, &str, MatchKind)> = hits.iter().map(|h| (h.0, h.1.as_str(), h.2)).collect();
    assert_eq!(
        summary,
        vec![
            (0, "a1", MatchKind::Exact),
            (1, "a1", MatchKind::Ocr),
            (2, "a1", MatchKind::Edit),
            (5, "a3", MatchKind::Wildcard),
            (6, "a2", MatchKind::Wildcard),
        ]
    );
    assert!((hits[1].4 - (1.0 - 1.0 / 7.0)).abs() < 1e-6); // two half-edits over 7 characters
}
