//! Accuracy of the matcher on the real development set (FVC protocol, when `../shared` is present).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use cgi_match_core::finger::{iso19794_2, Matcher};

fn devset() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fingerprints/fvc2002_db2_b");
    dir.is_dir().then_some(dir)
}

/// EER and FNMR at FMR 1 % and 0.1 % from genuine and impostor scores (higher = more similar).
fn rates(genuine: &[f32], impostor: &[f32]) -> (f64, f64, f64) {
    let mut thresholds: Vec<f32> = genuine.iter().chain(impostor).copied().collect();
    thresholds.sort_by(f32::total_cmp);
    thresholds.dedup();
    let fmr = |t: f32| impostor.iter().filter(|&&s| s >= t).count() as f64 / impostor.len() as f64;
    let fnmr = |t: f32| genuine.iter().filter(|&&s| s < t).count() as f64 / genuine.len() as f64;
    let mut eer = 1.0_f64;
    for &t in &thresholds {
        let (a, b) = (fmr(t), fnmr(t));
        eer = eer.min(a.max(b));
    }
    let at = |target: f64| thresholds.iter().filter(|&&t| fmr(t) <= target).map(|&t| fnmr(t)).fold(1.0_f64, f64::min);
    (eer, at(0.01), at(0.001))
}

#[test]
fn devset_accuracy_beats_the_reference_matchers() {
    let Some(dir) = devset() else {
        eprintln!("../shared/data not present: skipped");
        return;
    };
    let m = Matcher::default();
    let mut t = Vec::new();
    for f in 101..=110 {
        let mut row = Vec::new();
        for i in 1..=8 {
            let bytes = std::fs::read(dir.join(format!("{f}_{i}.iso"))).unwrap();
            row.push(m.prepare(&iso19794_2::read(&bytes).unwrap()[0]));
        }
        t.push(row);
    }
    let mut genuine = Vec::new();
    for row in &t {
        for i in 0..8 {
            for j in (i + 1)..8 {
                genuine.push(m.compare(&row[i], &row[j]));
            }
        }
    }
    let mut impostor = Vec::new();
    for f in 0..10 {
        for g in (f + 1)..10 {
            for i in 0..8 {
                for j in 0..8 {
                    impostor.push(m.compare(&t[f][i], &t[g][j]));
                }
            }
        }
    }
    let (eer, fmr100, fmr1000) = rates(&genuine, &impostor);
    eprintln!(
        "devset: {} genuine, {} impostor; EER {:.2} %, FNMR@FMR1% {:.2} %, FNMR@FMR0.1% {:.2} %",
        genuine.len(),
        impostor.len(),
        eer * 100.0,
        fmr100 * 100.0,
        fmr1000 * 100.0
    );
    // Measured 1.88 / 2.86 / 6.07 % with the paper's parameters; the margins stay below half the best
    // reference EER (OpenAFIS 6.67 %) and below every reference FMR100 / FMR1000 of ANCHORS.md.
    assert!(eer <= 0.030, "EER {eer}");
    assert!(fmr100 <= 0.05, "FNMR at FMR 1 % {fmr100}");
    assert!(fmr1000 <= 0.09, "FNMR at FMR 0.1 % {fmr1000}");
}
