//! Reads every real ISO 19794-2 template of the development set (when `../shared` is present) and checks
//! that each one is detected as ISO and round-trips through the writer, extended data aside.

use std::path::PathBuf;

use cgi_match_core::finger::{detect, iso19794_2, TemplateFormat};

fn devset() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fingerprints/fvc2002_db2_b");
    dir.is_dir().then_some(dir)
}

#[test]
fn every_devset_template_reads_and_round_trips() {
    let Some(dir) = devset() else {
        eprintln!("../shared/data not present: skipped");
        return;
    };
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "iso") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(detect(&bytes), Some(TemplateFormat::Iso19794_2), "{}", path.display());
        let views = iso19794_2::read(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(views.len(), 1);
        assert!(views[0].minutiae.len() >= 10, "{}", path.display());
        let again = iso19794_2::read(&iso19794_2::write(&views).unwrap()).unwrap();
        assert_eq!(again.len(), 1);
        for (a, b) in views[0].minutiae.iter().zip(&again[0].minutiae) {
            assert!((a.x - b.x).abs() < 1e-3 && (a.y - b.y).abs() < 1e-3 && (a.angle - b.angle).abs() < 1e-4);
        }
        n += 1;
    }
    assert_eq!(n, 80);
}
