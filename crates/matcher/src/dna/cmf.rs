//! CODIS CMF XML import and export for the subset that carries profiles: `CODISImportFile` with header
//! fields, then `SPECIMEN` elements holding `SPECIMENID`, `SPECIMENCATEGORY` and `LOCUS` elements
//! (`LOCUSNAME`, then `ALLELE` / `ALLELEVALUE`).
//!
//! The reader is a small strict XML parser written for this subset: UTF-8 only, no DTD (a `<!DOCTYPE` is
//! refused, so no entity expansion), the five predefined entities and numeric character references,
//! comments, processing instructions and CDATA; limits on size, depth and element count. Structural errors
//! name the specimen (record), the element (field) and the byte offset. Allele *values* are not judged
//! here: they go through the same parsing and rejects as any long table.

use std::fmt::Write as _;

use crate::error::{MatchError, MatchResult};

use super::loci;
use super::profile::{Profile, ProfileKind};

/// Largest CMF document accepted (1 GiB).
pub const MAX_CMF_BYTES: usize = 1 << 30;
/// Deepest element nesting accepted.
const MAX_DEPTH: usize = 32;
/// Most elements accepted in one document.
const MAX_ELEMENTS: usize = 50_000_000;

/// One allele row read from a CMF file, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmfRow {
    /// `SPECIMENID` text.
    pub specimen_id: String,
    /// `SPECIMENCATEGORY` text (may be empty).
    pub category: String,
    /// `LOCUSNAME` text as written.
    pub locus: String,
    /// `ALLELEVALUE` text as written.
    pub allele: String,
}

#[derive(Debug, Default)]
struct Element {
    name: String,
    offset: usize,
    children: Vec<Element>,
    text: String,
}

struct Reader<'a> {
    src: &'a str,
    pos: usize,
    elements: usize,
    record: usize,
}

fn err(record: usize, field: &'static str, offset: usize, msg: impl Into<String>) -> MatchError {
    MatchError::format(record, field, offset, msg)
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn fail(&self, msg: impl Into<String>) -> MatchError {
        err(self.record, "xml", self.pos, msg)
    }

    /// Skips whitespace, comments and processing instructions between elements.
    fn skip_misc(&mut self) -> MatchResult<()> {
        loop {
            let r = self.rest();
            let trimmed = r.trim_start();
            self.pos += r.len() - trimmed.len();
            if trimmed.starts_with("<?") {
                let end = trimmed.find("?>").ok_or_else(|| self.fail("unterminated processing instruction"))?;
                self.pos += end + 2;
            } else if trimmed.starts_with("<!--") {
                let end = trimmed.find("-->").ok_or_else(|| self.fail("unterminated comment"))?;
                self.pos += end + 3;
            } else if trimmed.starts_with("<!DOCTYPE") || trimmed.starts_with("<!ENTITY") {
                return Err(self.fail("DTDs are not accepted in CMF files"));
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> MatchResult<String> {
        let r = self.rest();
        let len = r
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')))
            .map_or(r.len(), |(i, _)| i);
        if len == 0 {
            return Err(self.fail("expected an element or attribute name"));
        }
        self.pos += len;
        Ok(r[..len].to_owned())
    }

    fn element(&mut self, depth: usize) -> MatchResult<Element> {
        if depth > MAX_DEPTH {
            return Err(self.fail(format!("elements nested deeper than {MAX_DEPTH}")));
        }
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(self.fail(format!("more than {MAX_ELEMENTS} elements")));
        }
        let offset = self.pos;
        if !self.rest().starts_with('<') {
            return Err(self.fail("expected '<'"));
        }
        self.pos += 1;
        let name = self.name()?;
        // Attributes are read for well-formedness and ignored (CASEID, PARTIAL, … are not needed to match).
        loop {
            let r = self.rest();
            let t = r.trim_start();
            self.pos += r.len() - t.len();
            if let Some(after) = t.strip_prefix("/>") {
                let _ = after;
                self.pos += 2;
                return Ok(Element { name, offset, ..Element::default() });
            }
            if t.starts_with('>') {
                self.pos += 1;
                break;
            }
            self.name()?;
            let r = self.rest().trim_start();
            if !r.starts_with('=') {
                return Err(self.fail(format!("attribute of <{name}> without a value")));
            }
            self.pos = self.src.len() - r.len() + 1;
            let r = self.rest().trim_start();
            self.pos = self.src.len() - r.len();
            let quote = r.chars().next().filter(|c| *c == '"' || *c == '\'');
            let Some(q) = quote else { return Err(self.fail("attribute value must be quoted")) };
            let end = r[1..].find(q).ok_or_else(|| self.fail("unterminated attribute value"))?;
            self.pos += end + 2;
        }
        let mut el = Element { name, offset, ..Element::default() };
        loop {
            let r = self.rest();
            if r.is_empty() {
                return Err(err(self.record, "xml", offset, format!("<{}> is never closed", el.name)));
            }
            if let Some(after) = r.strip_prefix("</") {
                let close = after.find('>').ok_or_else(|| self.fail("unterminated end tag"))?;
                let closing = after[..close].trim();
                if closing != el.name {
                    return Err(self.fail(format!("</{closing}> closes <{}>", el.name)));
                }
                self.pos += 2 + close + 1;
                return Ok(el);
            }
            if r.starts_with("<!--") || r.starts_with("<?") || r.starts_with("<!D") || r.starts_with("<!E") {
                self.skip_misc()?;
                continue;
            }
            if let Some(after) = r.strip_prefix("<![CDATA[") {
                let end = after.find("]]>").ok_or_else(|| self.fail("unterminated CDATA"))?;
                el.text.push_str(&after[..end]);
                self.pos += 9 + end + 3;
                continue;
            }
            if r.starts_with('<') {
                let child = self.element(depth + 1)?;
                el.children.push(child);
                continue;
            }
            let end = r.find('<').unwrap_or(r.len());
            el.text.push_str(&self.decode(&r[..end])?);
            self.pos += end;
        }
    }

    fn decode(&self, text: &str) -> MatchResult<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let end = after.find(';').filter(|&e| e <= 10).ok_or_else(|| self.fail("unterminated entity"))?;
            let ent = &after[..end];
            let ch = match ent {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(h) = ent.strip_prefix("#x") {
                        u32::from_str_radix(h, 16).ok()
                    } else if let Some(d) = ent.strip_prefix('#') {
                        d.parse().ok()
                    } else {
                        None
                    };
                    code.and_then(char::from_u32).ok_or_else(|| self.fail(format!("unknown entity '&{ent};'")))?
                }
            };
            out.push(ch);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn child_text<'e>(el: &'e Element, name: &str) -> Option<&'e str> {
    el.children.iter().find(|c| c.name == name).map(|c| c.text.trim())
}

/// Reads a CMF document into allele rows. A structurally broken document (not XML, no
/// `CODISImportFile`, a specimen without `SPECIMENID`, a locus without `LOCUSNAME`) is a
/// [`MatchError::Format`] naming the specimen, the element and the byte offset.
pub fn read_cmf(bytes: &[u8]) -> MatchResult<Vec<CmfRow>> {
    if bytes.len() > MAX_CMF_BYTES {
        return Err(err(0, "document", 0, format!("{} bytes is more than the {MAX_CMF_BYTES} accepted", bytes.len())));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let src = std::str::from_utf8(bytes)
        .map_err(|e| err(0, "document", e.valid_up_to(), "not UTF-8 (CMF files are read as UTF-8)"))?;
    let mut r = Reader { src, pos: 0, elements: 0, record: 0 };
    r.skip_misc()?;
    let root = r.element(0)?;
    r.skip_misc()?;
    if r.pos != src.len() {
        return Err(r.fail("content after the root element"));
    }
    if root.name != "CODISImportFile" {
        return Err(err(0, "CODISImportFile", root.offset, format!("root element is <{}>", root.name)));
    }
    let mut rows = Vec::new();
    for (record, spec) in root.children.iter().filter(|c| c.name == "SPECIMEN").enumerate() {
        let id = child_text(spec, "SPECIMENID")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| err(record, "SPECIMENID", spec.offset, "specimen without SPECIMENID"))?;
        let category = child_text(spec, "SPECIMENCATEGORY").unwrap_or("");
        for locus in spec.children.iter().filter(|c| c.name == "LOCUS") {
            let name = child_text(locus, "LOCUSNAME")
                .filter(|s| !s.is_empty())
                .ok_or_else(|| err(record, "LOCUSNAME", locus.offset, "locus without LOCUSNAME"))?;
            for allele in locus.children.iter().filter(|c| c.name == "ALLELE") {
                let value = child_text(allele, "ALLELEVALUE")
                    .ok_or_else(|| err(record, "ALLELEVALUE", allele.offset, "allele without ALLELEVALUE"))?;
                rows.push(CmfRow {
                    specimen_id: id.to_owned(),
                    category: category.to_owned(),
                    locus: name.to_owned(),
                    allele: value.to_owned(),
                });
            }
        }
    }
    Ok(rows)
}

/// Maps a CMF specimen category to a profile kind (`Forensic …` → stain, offender/arrestee → reference).
pub fn kind_of_category(category: &str) -> Option<ProfileKind> {
    let c = category.to_ascii_lowercase();
    if c.contains("forensic") || c.contains("unknown") || c.contains("mixture") {
        Some(ProfileKind::Stain)
    } else if c.contains("offender") || c.contains("arrestee") || c.contains("reference") || c.contains("detainee") {
        Some(ProfileKind::Reference)
    } else {
        None
    }
}

fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '&' => s.push_str("&amp;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            c => s.push(c),
        }
    }
    s
}

/// Header fields written at the top of an exported CMF file.
#[derive(Debug, Clone, Default)]
pub struct CmfHeader {
    /// `SOURCELAB` (the exporting laboratory's ORI).
    pub source_lab: String,
    /// `DESTINATIONORI`.
    pub destination_ori: String,
    /// `SUBMITBYUSERID`.
    pub user_id: String,
    /// `SUBMITDATETIME` (ISO 8601; given by the caller so the core stays free of clocks).
    pub submit_datetime: String,
    /// `BATCHID`.
    pub batch_id: String,
}

/// Writes profiles as a CMF document (header version 3.2, one `SPECIMEN` per profile, Amelogenin
/// included, alleles as written by `Allele`'s display).
pub fn write_cmf(header: &CmfHeader, ids: &[String], profiles: &[Profile]) -> MatchResult<String> {
    if ids.len() != profiles.len() {
        return Err(MatchError::invalid("ids and profiles differ in length"));
    }
    let mut s = String::new();
    let w = |s: &mut String, text: std::fmt::Arguments<'_>| {
        let _ = s.write_fmt(text);
    };
    w(&mut s, format_args!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CODISImportFile>\n"));
    w(&mut s, format_args!("  <HEADERVERSION>3.2</HEADERVERSION>\n  <MESSAGETYPE>Import</MESSAGETYPE>\n"));
    for (tag, v) in [
        ("DESTINATIONORI", &header.destination_ori),
        ("SOURCELAB", &header.source_lab),
        ("SUBMITBYUSERID", &header.user_id),
        ("SUBMITDATETIME", &header.submit_datetime),
        ("BATCHID", &header.batch_id),
    ] {
        w(&mut s, format_args!("  <{tag}>{}</{tag}>\n", escape(v)));
    }
    for (id, p) in ids.iter().zip(profiles) {
        let category = match p.kind {
            ProfileKind::Stain => "Forensic, Unknown",
            ProfileKind::Reference => "Convicted Offender",
        };
        w(&mut s, format_args!("  <SPECIMEN>\n    <SPECIMENID>{}</SPECIMENID>\n", escape(id)));
        w(&mut s, format_args!("    <SPECIMENCATEGORY>{category}</SPECIMENCATEGORY>\n"));
        for t in &p.loci {
            w(&mut s, format_args!("    <LOCUS>\n      <LOCUSNAME>{}</LOCUSNAME>\n", escape(loci::name(t.locus))));
            for a in &t.alleles {
                w(
                    &mut s,
                    format_args!("      <ALLELE><ALLELEVALUE>{}</ALLELEVALUE></ALLELE>\n", escape(&a.to_string())),
                );
            }
            w(&mut s, format_args!("    </LOCUS>\n"));
        }
        w(&mut s, format_args!("  </SPECIMEN>\n"));
    }
    w(&mut s, format_args!("</CODISImportFile>\n"));
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dna::allele::Allele;

    const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- exported -->
<CODISImportFile>
  <HEADERVERSION>3.2</HEADERVERSION>
  <SPECIMEN CASEID="C&amp;1" PARTIAL='false'>
    <SPECIMENID>S-1</SPECIMENID>
    <SPECIMENCATEGORY>Forensic, Unknown</SPECIMENCATEGORY>
    <LOCUS BATCHID="b"><LOCUSNAME>TH01</LOCUSNAME>
      <ALLELE><ALLELEVALUE>9.3</ALLELEVALUE></ALLELE>
      <ALLELE><ALLELEVALUE>&lt;6</ALLELEVALUE></ALLELE>
    </LOCUS>
  </SPECIMEN>
</CODISImportFile>
"#;

    #[test]
    fn reads_specimens_loci_and_alleles() {
        let rows = read_cmf(DOC.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].specimen_id, "S-1");
        assert_eq!(rows[1].allele, "<6");
        assert_eq!(kind_of_category(&rows[0].category), Some(ProfileKind::Stain));
    }

    #[test]
    fn structural_errors_name_specimen_element_and_offset() {
        let no_id = DOC.replace("<SPECIMENID>S-1</SPECIMENID>", "");
        let e = read_cmf(no_id.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("record 0") && e.contains("SPECIMENID"), "{e}");
        for broken in [
            "",
            "<CODISImportFile>",
            "<CODISImportFile></CODIS>",
            "<!DOCTYPE x [<!ENTITY a 'b'>]><CODISImportFile/>",
            "<Other/>",
            "<CODISImportFile a=b/>",
            "<CODISImportFile>&bogus;</CODISImportFile>",
        ] {
            assert!(matches!(read_cmf(broken.as_bytes()), Err(MatchError::Format(_))), "{broken}");
        }
        assert!(read_cmf(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn export_reads_back() {
        let th01 = loci::lookup("TH01").unwrap();
        let p = Profile::new(ProfileKind::Reference, [(th01, vec![Allele::Repeat(93), Allele::Repeat(60)])]);
        let xml = write_cmf(&CmfHeader::default(), &["a<b".to_owned()], &[p]).unwrap();
        let rows = read_cmf(xml.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].specimen_id, "a<b");
        assert_eq!(rows[0].allele, "9.3");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(read_cmf(deep.as_bytes()).is_err());
    }
}
