//! The STR loci catalogue: every locus the matcher knows, its repeat length (which the Prüm microvariant
//! rule needs), its membership of the European Standard Set and of the CODIS core, and the one alias table
//! that maps the spellings found in real files onto a catalogue entry.

/// Dense id of a catalogue locus (its position in [`CATALOGUE`]).
pub type LocusId = u8;

/// What the matcher needs to know about one locus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocusInfo {
    /// Canonical name, as written in output files.
    pub name: &'static str,
    /// Repeat unit length in bases (5 for the pentanucleotides, 0 for Amelogenin).
    pub repeat: u8,
    /// One of the 12 European Standard Set loci (Council Resolution 2009/C 296/01).
    pub ess: bool,
    /// One of the 20 CODIS core loci (FBI, in force since 1 January 2017).
    pub codis: bool,
}

const fn locus(name: &'static str, repeat: u8, ess: bool, codis: bool) -> LocusInfo {
    LocusInfo { name, repeat, ess, codis }
}

/// Number of loci that get a slot in the compact scan layout (see `profile.rs`); they are the first
/// entries of [`CATALOGUE`]: the 20 CODIS core loci (which include the 12 ESS loci) and the four extra
/// loci of the common European and US kits.
pub const SLOT_LOCI: usize = 24;

/// Id of Amelogenin, the sex marker: typed and reported but never counted as a matching locus.
pub const AMELOGENIN: LocusId = SLOT_LOCI as LocusId;

/// Every locus the matcher knows. The first [`SLOT_LOCI`] entries are scanned from the compact layout,
/// the rest (and Amelogenin) are compared from the per-profile extension.
pub const CATALOGUE: &[LocusInfo] = &[
    // ESS (12): also CODIS core except none.
    locus("D3S1358", 4, true, true),
    locus("vWA", 4, true, true),
    locus("D8S1179", 4, true, true),
    locus("D21S11", 4, true, true),
    locus("D18S51", 4, true, true),
    locus("TH01", 4, true, true),
    locus("FGA", 4, true, true),
    locus("D1S1656", 4, true, true),
    locus("D2S441", 4, true, true),
    locus("D10S1248", 4, true, true),
    locus("D12S391", 4, true, true),
    // D22S1045 is a trinucleotide; the Prüm annex predates it and treats every non-penta locus as a tetra.
    locus("D22S1045", 3, true, true),
    // The other 8 CODIS core loci.
    locus("CSF1PO", 4, false, true),
    locus("TPOX", 4, false, true),
    locus("D5S818", 4, false, true),
    locus("D7S820", 4, false, true),
    locus("D13S317", 4, false, true),
    locus("D16S539", 4, false, true),
    locus("D2S1338", 4, false, true),
    locus("D19S433", 4, false, true),
    // Extra loci of the common kits (PowerPlex Fusion, GlobalFiler, ESX/ESI, Investigator 24plex).
    locus("SE33", 4, false, false),
    locus("Penta D", 5, false, false),
    locus("Penta E", 5, false, false),
    locus("D6S1043", 4, false, false),
    // Position SLOT_LOCI: Amelogenin.
    locus("Amelogenin", 0, false, false),
    // Loci of the Prüm/Interpol 24-locus list and of population studies, compared from the extension.
    locus("Penta C", 5, false, false),
    locus("CD4", 5, false, false),
    locus("FES", 4, false, false),
    locus("F13A1", 4, false, false),
    locus("F13B", 4, false, false),
    locus("LPL", 4, false, false),
    locus("GABA", 4, false, false),
    locus("D2S1360", 4, false, false),
    locus("D3S1744", 4, false, false),
    locus("D4S2366", 4, false, false),
    locus("D5S2500", 4, false, false),
    locus("D5S2800", 4, false, false),
    locus("D6S474", 4, false, false),
    locus("D7S1517", 4, false, false),
    locus("D7S3048", 4, false, false),
    locus("D8S1132", 4, false, false),
    locus("D9S1122", 4, false, false),
    locus("D10S1435", 4, false, false),
    locus("D10S2325", 5, false, false),
    locus("D11S2368", 4, false, false),
    locus("D13S325", 4, false, false),
    locus("D14S1434", 4, false, false),
    locus("D15S659", 4, false, false),
    locus("D17S1301", 4, false, false),
    locus("D18S1364", 4, false, false),
    locus("D19S253", 4, false, false),
    locus("D20S482", 4, false, false),
    locus("D21S2055", 4, false, false),
    locus("D22GATA198B05", 4, false, false),
];

/// Spellings found in real files (kit exports, population tables, CODIS CMF, Prüm messages) that differ
/// from the canonical name by more than case, blanks, `_`, `-` and `.`, which [`fold`] already removes.
const ALIASES: &[(&str, &str)] = &[
    ("AMEL", "Amelogenin"),
    ("AM", "Amelogenin"),
    ("AMELOGENIN", "Amelogenin"),
    ("THO1", "TH01"),
    ("TH1", "TH01"),
    ("HUMTH01", "TH01"),
    ("VWA31", "vWA"),
    ("HUMVWA", "vWA"),
    ("HUMVWFA31", "vWA"),
    ("FESFPS", "FES"),
    ("HUMFES", "FES"),
    ("F13A01", "F13A1"),
    ("HUMF13A01", "F13A1"),
    ("FIBRA", "FGA"),
    ("HUMFIBRA", "FGA"),
    ("CSF1P0", "CSF1PO"),
    ("HUMCSF1PO", "CSF1PO"),
    ("HUMTPOX", "TPOX"),
    ("ACTBP2", "SE33"),
    ("HUMACTBP2", "SE33"),
    ("PD", "Penta D"),
    ("PE", "Penta E"),
    ("PC", "Penta C"),
];

/// Upper-cases and drops blanks, `_`, `-` and `.`: `Penta_D`, `PentaD`, `penta d` all fold to `PENTAD`.
fn fold(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, ' ' | '_' | '-' | '.' | '\t')).flat_map(char::to_uppercase).collect()
}

/// The catalogue id of a locus name as written in a file, `None` when it is not a known locus (the caller
/// turns that into a reject with its reason; a locus is never silently dropped).
pub fn lookup(name: &str) -> Option<LocusId> {
    let key = fold(name);
    if key.is_empty() {
        return None;
    }
    let canonical = ALIASES.iter().find(|(alias, _)| *alias == key).map_or(key.as_str(), |(_, c)| c);
    let canonical = fold(canonical);
    CATALOGUE.iter().position(|l| fold(l.name) == canonical).map(|i| i as LocusId)
}

/// Catalogue entry of a locus id; `None` for an id past the catalogue (only from a corrupted file).
pub fn info(id: LocusId) -> Option<&'static LocusInfo> {
    CATALOGUE.get(usize::from(id))
}

/// Canonical name of a locus id (`"?"` for an id past the catalogue).
pub fn name(id: LocusId) -> &'static str {
    info(id).map_or("?", |l| l.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_ess_codis_and_slots_in_front() {
        assert_eq!(CATALOGUE.iter().filter(|l| l.ess).count(), 12);
        assert_eq!(CATALOGUE.iter().filter(|l| l.codis).count(), 20);
        assert!(CATALOGUE[..SLOT_LOCI].iter().all(|l| l.repeat > 0));
        assert_eq!(CATALOGUE[usize::from(AMELOGENIN)].name, "Amelogenin");
        assert!(CATALOGUE.len() < 255);
    }

    #[test]
    fn aliases_resolve_to_one_entry() {
        for (spelling, canonical) in [
            ("Penta_D", "Penta D"),
            ("PentaD", "Penta D"),
            ("Penta D", "Penta D"),
            ("FES", "FES"),
            ("FESFPS", "FES"),
            ("F13A1", "F13A1"),
            ("F13A01", "F13A1"),
            ("VWA", "vWA"),
            ("vWA", "vWA"),
            ("THO1", "TH01"),
            ("TH01", "TH01"),
            ("AMEL", "Amelogenin"),
            ("Amelogenin", "Amelogenin"),
            ("d3s1358", "D3S1358"),
            ("CSF1P0", "CSF1PO"),
        ] {
            let id = lookup(spelling).unwrap_or_else(|| panic!("{spelling} unknown"));
            assert_eq!(name(id), canonical, "{spelling}");
        }
    }

    #[test]
    fn unknown_loci_are_none() {
        assert_eq!(lookup("D99S999"), None);
        assert_eq!(lookup(""), None);
        assert_eq!(lookup("  "), None);
    }

    #[test]
    fn every_canonical_name_round_trips() {
        for (i, l) in CATALOGUE.iter().enumerate() {
            assert_eq!(lookup(l.name), Some(i as LocusId), "{}", l.name);
        }
    }
}
