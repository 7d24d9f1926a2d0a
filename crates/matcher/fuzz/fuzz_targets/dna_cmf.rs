//! CODIS CMF XML reader: never panics on any bytes; whatever it reads, parsed as a long table and written
//! back as CMF, reads again to the same allele rows.
#![no_main]

use cgi_match_core::columns::{StrColumn, StrColumnBuilder};
use cgi_match_core::dna::cmf::{read_cmf, write_cmf, CmfHeader};
use cgi_match_core::dna::parse_long;
use libfuzzer_sys::fuzz_target;

fn column(values: impl Iterator<Item = String>) -> StrColumnBuilder {
    let mut b = StrColumnBuilder::default();
    b.offsets.push(0);
    for v in values {
        b.push(Some(&v));
    }
    b
}

fuzz_target!(|data: &[u8]| {
    let Ok(rows) = read_cmf(data) else { return };
    let ids = column(rows.iter().map(|r| r.specimen_id.clone()));
    let loci = column(rows.iter().map(|r| r.locus.clone()));
    let alleles = column(rows.iter().map(|r| r.allele.clone()));
    let (Ok(i), Ok(l), Ok(a)) = (
        StrColumn::new(&ids.offsets, &ids.data, Some(&ids.valid)),
        StrColumn::new(&loci.offsets, &loci.data, Some(&loci.valid)),
        StrColumn::new(&alleles.offsets, &alleles.data, Some(&alleles.valid)),
    ) else {
        return;
    };
    let parsed = parse_long(&i, &l, &a, None).expect("columns of equal length");
    let xml = write_cmf(&CmfHeader::default(), &parsed.ids, &parsed.profiles).expect("equal lengths");
    let back = read_cmf(xml.as_bytes()).expect("our own CMF reads back");
    let kept: usize = parsed.profiles.iter().map(|p| p.loci.iter().map(|t| t.alleles.len()).sum::<usize>()).sum();
    assert_eq!(back.len(), kept);
});
