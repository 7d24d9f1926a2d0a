//! Properties of the template readers and writers on synthetic templates: round trips, and hostile input
//! (any truncation, any byte mutation, oversized counts and lengths) giving `Ok` or `Err`, never a panic.

use cgi_match_core::finger::synth::{impression, master, ImpressionParams, SynthParams};
use cgi_match_core::finger::{ansi378, detect, iso19794_2, read_any, xyt, Template, TemplateFormat};
use proptest::prelude::*;

fn synthetic(seed: u64) -> Template {
    impression(&master(seed, &SynthParams::default()), seed ^ 0xABCD, &ImpressionParams::default())
}

fn views(seed: u64, n: usize) -> Vec<Template> {
    (0..n).map(|i| synthetic(seed.wrapping_add(i as u64))).collect()
}

/// Every reader on the same bytes; what matters is that none panics.
fn read_all(bytes: &[u8]) {
    let _ = iso19794_2::read(bytes);
    let _ = ansi378::read(bytes);
    let _ = read_any(bytes, 500.0);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = xyt::read(text, 500.0, None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn iso_and_ansi_round_trip(seed in any::<u64>(), n in 1_usize..4) {
        let v = views(seed, n);
        let iso = iso19794_2::write(&v).unwrap();
        let back = iso19794_2::read(&iso).unwrap();
        prop_assert_eq!(back.len(), n);
        prop_assert_eq!(iso19794_2::write(&back).unwrap(), iso);
        let ansi = ansi378::write(&v).unwrap();
        let back = ansi378::read(&ansi).unwrap();
        prop_assert_eq!(ansi378::write(&back).unwrap(), ansi.clone());
        prop_assert_eq!(detect(&ansi), Some(TemplateFormat::Ansi378));
        // ANSI keeps angles to 2°, ISO to 1.41°: both within half a unit of the source.
        for (a, b) in v[0].minutiae.iter().zip(&back[0].minutiae) {
            let d = (a.angle - b.angle).rem_euclid(std::f32::consts::TAU);
            prop_assert!(d.min(std::f32::consts::TAU - d) <= 1.0_f32.to_radians() + 1e-4);
            prop_assert!((a.x - b.x).abs() <= 1.0 && (a.y - b.y).abs() <= 1.0);
            prop_assert_eq!(a.kind, b.kind);
        }
    }

    #[test]
    fn xyt_round_trips_to_the_pixel_and_degree(seed in any::<u64>()) {
        let t = synthetic(seed);
        let text = xyt::write(&t);
        let back = xyt::read(&text, 500.0, Some(t.height)).unwrap();
        prop_assert_eq!(back.minutiae.len(), t.minutiae.len());
        prop_assert_eq!(xyt::write(&back), text);
        for (a, b) in t.minutiae.iter().zip(&back.minutiae) {
            prop_assert!((a.x - b.x).abs() <= 0.5 + 1e-3 && (a.y - b.y).abs() <= 0.5 + 1e-3);
        }
    }

    #[test]
    fn truncation_never_panics_and_is_always_an_error(seed in any::<u64>(), cut in 0.0_f64..1.0) {
        for bytes in [iso19794_2::write(&views(seed, 2)).unwrap(), ansi378::write(&views(seed, 2)).unwrap()] {
            let n = ((bytes.len() as f64) * cut) as usize;
            read_all(&bytes[..n]);
            prop_assert!(iso19794_2::read(&bytes[..n]).is_err());
            prop_assert!(ansi378::read(&bytes[..n]).is_err());
        }
    }

    #[test]
    fn mutation_never_panics(seed in any::<u64>(), edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        for mut bytes in [iso19794_2::write(&views(seed, 2)).unwrap(), ansi378::write(&views(seed, 2)).unwrap()] {
            for &(at, value) in &edits {
                let i = at % bytes.len();
                bytes[i] = value;
            }
            read_all(&bytes);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), fmr in any::<bool>()) {
        let mut bytes = bytes;
        if fmr {
            // Start like a record so that the readers go past the magic number.
            let mut head = b"FMR\0 20\0".to_vec();
            head.extend_from_slice(&bytes);
            bytes = head;
        }
        read_all(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[0-9 \\-.#\\n\\tA-Za-z]{0,400}") {
        let _ = xyt::read(&text, 500.0, None);
        let _ = xyt::read(&text, 500.0, Some(100));
        let _ = read_any(text.as_bytes(), 500.0);
    }
}

#[test]
fn oversized_counts_and_lengths_are_errors_naming_the_field() {
    let bytes = iso19794_2::write(&views(3, 1)).unwrap();
    // Number of finger views says 255 while the record holds one.
    let mut many_views = bytes.clone();
    many_views[22] = 255;
    let err = iso19794_2::read(&many_views).unwrap_err().to_string();
    assert!(err.contains("record 1") && err.contains("truncated"), "{err}");
    // Minutia count 255 with far fewer minutiae present.
    let mut many_minutiae = bytes.clone();
    many_minutiae[27] = 255;
    assert!(iso19794_2::read(&many_minutiae).unwrap_err().to_string().contains("record 0"));
    // Extended data block longer than the record.
    let mut long_ext = bytes.clone();
    let n = long_ext.len();
    long_ext[n - 2] = 0xFF;
    let err = iso19794_2::read(&long_ext).unwrap_err().to_string();
    assert!(err.contains("extended data block"), "{err}");
    // Record length field larger than the input.
    let mut long_len = bytes;
    long_len[8] = 0x7F;
    let err = iso19794_2::read(&long_len).unwrap_err().to_string();
    assert!(err.contains("record length") && err.contains("byte 8"), "{err}");
    // xyt with too many lines, and text beyond the size limit.
    assert!(xyt::read(&"1 2 3\n".repeat(300), 500.0, None).is_err());
    assert!(xyt::read(&" ".repeat(xyt::MAX_BYTES + 1), 500.0, None).is_err());
}
