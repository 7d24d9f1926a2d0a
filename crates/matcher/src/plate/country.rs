//! Countries of plates and alerts: ISO 3166-1 alpha-2 codes, or the international vehicle registration
//! code (the oval sticker: B, NL, F, D, L, GB, BG, GR, …) normalised to alpha-2, and the policy that
//! decides whether a read and an alert of given countries may hit at all.

use crate::error::{MatchError, MatchResult};

/// A country as its ISO 3166-1 alpha-2 code packed into two ASCII bytes; `Country::UNKNOWN` is "not given".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Country(pub u16);

impl Country {
    /// No country given (null or empty); matches any country under the lenient policy.
    pub const UNKNOWN: Country = Country(0);

    /// True when a country was given.
    pub fn is_known(self) -> bool {
        self.0 != 0
    }

    /// The alpha-2 code, `None` when unknown.
    pub fn code(self) -> Option<String> {
        if self.is_known() {
            let [a, b] = self.0.to_be_bytes();
            Some(String::from_utf8_lossy(&[a, b]).into_owned())
        } else {
            None
        }
    }

    fn from_code(code: [u8; 2]) -> Country {
        Country(u16::from_be_bytes(code))
    }
}

/// Officially assigned ISO 3166-1 alpha-2 codes (ISO 3166 Maintenance Agency list), plus XK (Kosovo), the
/// user-assigned code the European Commission and Interpol use.
const ISO_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ \
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH \
    ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE \
    IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC \
    MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE \
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV \
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT \
    ZA ZM ZW XK";

/// International vehicle registration codes (UN Geneva 1949 / Vienna 1968 conventions, as notified to the
/// UN) that differ from the country's alpha-2 code. Codes equal to the alpha-2 code (NL, BG, GR, CH, …) need
/// no entry. Where a two-letter vehicle code is also an assigned alpha-2 code of another country (ET: Egypt
/// as a vehicle code, Ethiopia in ISO; MS: Mauritius / Montserrat) the ISO meaning wins, because data
/// exchanged between police systems uses ISO codes; the three-letter or one-letter forms stay unambiguous.
const VEHICLE_CODES: &[(&str, &str)] = &[
    ("A", "AT"),
    ("B", "BE"),
    ("C", "CU"),
    ("D", "DE"),
    ("E", "ES"),
    ("F", "FR"),
    ("H", "HU"),
    ("I", "IT"),
    ("J", "JP"),
    ("K", "KH"),
    ("L", "LU"),
    ("M", "MT"),
    ("N", "NO"),
    ("P", "PT"),
    ("Q", "QA"),
    ("S", "SE"),
    ("T", "TH"),
    ("V", "VA"),
    ("Z", "ZM"),
    ("AND", "AD"),
    ("AUS", "AU"),
    ("BIH", "BA"),
    ("BOL", "BO"),
    ("BRN", "BH"),
    ("CDN", "CA"),
    ("DOM", "DO"),
    ("EAK", "KE"),
    ("EAT", "TZ"),
    ("EAU", "UG"),
    ("EST", "EE"),
    ("ETH", "ET"),
    ("FIN", "FI"),
    ("FJI", "FJ"),
    ("FL", "LI"),
    ("GBA", "GG"),
    ("GBG", "GG"),
    ("GBJ", "JE"),
    ("GBM", "IM"),
    ("GBZ", "GI"),
    ("IND", "IN"),
    ("IRL", "IE"),
    ("IRQ", "IQ"),
    ("JA", "JM"),
    ("KS", "KG"),
    ("KWT", "KW"),
    ("LAR", "LY"),
    ("MAL", "MY"),
    ("MEX", "MX"),
    ("MGL", "MN"),
    ("MNE", "ME"),
    ("MOC", "MZ"),
    ("NMK", "MK"),
    ("RA", "AR"),
    ("RB", "BW"),
    ("RC", "TW"),
    ("RCA", "CF"),
    ("RCB", "CG"),
    ("RCH", "CL"),
    ("RG", "GN"),
    ("RH", "HT"),
    ("RI", "ID"),
    ("RIM", "MR"),
    ("RKS", "XK"),
    ("RL", "LB"),
    ("RM", "MG"),
    ("RMM", "ML"),
    ("RN", "NE"),
    ("ROK", "KR"),
    ("ROU", "UY"),
    ("RP", "PH"),
    ("RSM", "SM"),
    ("RUS", "RU"),
    ("RWA", "RW"),
    ("SGP", "SG"),
    ("SLO", "SI"),
    ("SRB", "RS"),
    ("SYR", "SY"),
    ("UAE", "AE"),
    ("UK", "GB"),
    ("USA", "US"),
    ("WAN", "NG"),
    ("YV", "VE"),
];

/// [`ISO_ALPHA2`] as a bitmap: bit `second - 'A'` of row `first - 'A'` is set when the code is assigned, so a
/// read's country is checked with one load instead of a scan of the list (this runs once per read).
const ISO_BITMAP: [u32; 26] = {
    let list = ISO_ALPHA2.as_bytes();
    let mut rows = [0_u32; 26];
    let mut i = 0;
    while i + 1 < list.len() {
        let (a, b) = (list[i], list[i + 1]);
        if a.is_ascii_uppercase() && b.is_ascii_uppercase() {
            rows[(a - b'A') as usize] |= 1 << (b - b'A');
        }
        i += 3;
    }
    rows
};

fn is_iso_alpha2(code: &[u8]) -> bool {
    match *code {
        [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => {
            ISO_BITMAP[usize::from(a - b'A')] & (1 << (b - b'A')) != 0
        }
        _ => false,
    }
}

/// Normalises a country as written on an alert or read: `Ok(UNKNOWN)` for empty text, `Err(())` when the
/// text is neither an alpha-2 code nor a vehicle code (the row then goes to rejects).
#[allow(clippy::result_unit_err)] // the only failure is "not a country"; the caller attaches the reason
pub fn normalise_country(text: &str) -> Result<Country, ()> {
    normalise_country_bytes(text.as_bytes())
}

/// [`normalise_country`] on raw bytes, for hot loops over string columns: every code is ASCII, so any other
/// byte (including invalid UTF-8) is `Err(())` without a UTF-8 validation pass.
#[allow(clippy::result_unit_err)] // as normalise_country
pub fn normalise_country_bytes(text: &[u8]) -> Result<Country, ()> {
    // Fast path for the spellings nearly every read uses, an alpha-2 code ("FR", "fr") or a one-letter vehicle
    // code ("B", "d"): one bitmap or table load instead of the separator filter and the vehicle-code scan. Same
    // result as the general path (test `fast_path_agrees_with_the_general_path`, every 1- and 2-byte text).
    match *text {
        [a, b] => {
            let code = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
            if is_iso_alpha2(&code) {
                return Ok(Country::from_code(code));
            }
        }
        [a] if a.is_ascii_alphabetic() => {
            let iso = ONE_LETTER_VEHICLE_CODES[usize::from(a.to_ascii_uppercase() - b'A')];
            if iso != 0 {
                return Ok(Country(iso));
            }
        }
        _ => {}
    }
    normalise_country_general(text)
}

/// [`VEHICLE_CODES`] of one letter as a table by letter (`Country` bits, 0 = no such code).
const ONE_LETTER_VEHICLE_CODES: [u16; 26] = {
    let mut table = [0_u16; 26];
    let mut i = 0;
    while i < VEHICLE_CODES.len() {
        let (vehicle, iso) = (VEHICLE_CODES[i].0.as_bytes(), VEHICLE_CODES[i].1.as_bytes());
        if vehicle.len() == 1 && vehicle[0].is_ascii_uppercase() && iso.len() == 2 {
            table[(vehicle[0] - b'A') as usize] = u16::from_be_bytes([iso[0], iso[1]]);
        }
        i += 1;
    }
    table
};

/// [`normalise_country_bytes`] for any spelling: separators dropped, upper case, alpha-2 then vehicle codes.
fn normalise_country_general(text: &[u8]) -> Result<Country, ()> {
    // "D.", "g b", "nl " are seen in exports: drop separators, compare in upper case. No code is longer than
    // three letters, so a fixed buffer avoids an allocation per read.
    let mut buf = [0_u8; 3];
    let mut len = 0_usize;
    for &b in text.iter().filter(|b| !matches!(b, b' ' | b'.' | b'-' | b'_')) {
        let slot = buf.get_mut(len).ok_or(())?;
        if !b.is_ascii_alphabetic() {
            return Err(());
        }
        *slot = b.to_ascii_uppercase();
        len += 1;
    }
    let code = &buf[..len];
    if code.is_empty() {
        return Ok(Country::UNKNOWN);
    }
    if let [a, b] = *code {
        if is_iso_alpha2(code) {
            return Ok(Country::from_code([a, b]));
        }
    }
    VEHICLE_CODES
        .iter()
        .find(|(vehicle, _)| vehicle.as_bytes() == code)
        .and_then(|(_, iso)| <[u8; 2]>::try_from(iso.as_bytes()).ok())
        .map(Country::from_code)
        .ok_or(())
}

/// Whether a read and an alert of given countries may hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CountryPolicy {
    /// Different known countries never hit; an unknown country on either side matches any.
    #[default]
    Lenient,
    /// Both countries must be known and equal.
    Strict,
    /// Countries are not looked at.
    Ignore,
}

impl CountryPolicy {
    /// Parses the option value used by the Python API and the CLI.
    pub fn parse(name: &str) -> MatchResult<Self> {
        match name {
            "lenient" => Ok(CountryPolicy::Lenient),
            "strict" => Ok(CountryPolicy::Strict),
            "ignore" => Ok(CountryPolicy::Ignore),
            other => Err(MatchError::invalid(format!(
                "country_policy must be 'lenient', 'strict' or 'ignore', not {other:?}"
            ))),
        }
    }

    /// The option value, as recorded in summaries.
    pub fn name(self) -> &'static str {
        match self {
            CountryPolicy::Lenient => "lenient",
            CountryPolicy::Strict => "strict",
            CountryPolicy::Ignore => "ignore",
        }
    }

    /// True when a read of country `read` may hit an alert of country `alert`.
    pub fn allows(self, read: Country, alert: Country) -> bool {
        match self {
            CountryPolicy::Lenient => !read.is_known() || !alert.is_known() || read == alert,
            CountryPolicy::Strict => read.is_known() && read == alert,
            CountryPolicy::Ignore => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> Option<String> {
        normalise_country(s).ok().and_then(Country::code)
    }

    #[test]
    fn fast_path_agrees_with_the_general_path() {
        let bytes: Vec<u8> = (0..=255).collect();
        for &a in &bytes {
            assert_eq!(normalise_country_bytes(&[a]), normalise_country_general(&[a]), "{a}");
            for &b in &bytes {
                assert_eq!(normalise_country_bytes(&[a, b]), normalise_country_general(&[a, b]), "{a} {b}");
            }
        }
        assert_eq!(normalise_country_bytes(b"b"), Ok(Country::from_code(*b"BE")));
    }

    #[test]
    fn bitmap_holds_exactly_the_listed_codes() {
        let listed: Vec<&[u8]> = ISO_ALPHA2.as_bytes().chunks(3).map(|c| &c[..2]).collect();
        assert_eq!(listed.len(), 250);
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                assert_eq!(is_iso_alpha2(&[a, b]), listed.contains(&&[a, b][..]), "{}{}", a as char, b as char);
            }
        }
        assert!(!is_iso_alpha2(b"de") && !is_iso_alpha2(b"D") && !is_iso_alpha2(b"DEU"));
    }

    #[test]
    fn alpha2_and_vehicle_codes_agree() {
        for (vehicle, iso) in [("B", "BE"), ("NL", "NL"), ("F", "FR"), ("D", "DE"), ("L", "LU"), ("GB", "GB")] {
            assert_eq!(code(vehicle).as_deref(), Some(iso), "{vehicle}");
            assert_eq!(code(iso).as_deref(), Some(iso), "{iso}");
        }
        assert_eq!(code("BG").as_deref(), Some("BG"));
        assert_eq!(code("GR").as_deref(), Some("GR"));
        assert_eq!(code("UK").as_deref(), Some("GB"));
        assert_eq!(code("d.").as_deref(), Some("DE"));
        assert_eq!(code(" rus ").as_deref(), Some("RU"));
    }

    #[test]
    fn every_vehicle_code_maps_to_an_assigned_alpha2() {
        for (vehicle, iso) in VEHICLE_CODES {
            assert!(is_iso_alpha2(iso.as_bytes()), "{vehicle} → {iso}");
        }
        assert_eq!(ISO_ALPHA2.split_whitespace().count(), 250);
    }

    #[test]
    fn empty_is_unknown_and_nonsense_is_refused() {
        assert_eq!(normalise_country(""), Ok(Country::UNKNOWN));
        assert_eq!(normalise_country("  "), Ok(Country::UNKNOWN));
        assert_eq!(normalise_country("XX"), Err(()));
        assert_eq!(normalise_country("Deutschland"), Err(()));
        assert_eq!(normalise_country("D1"), Err(()));
        assert_eq!(normalise_country("Ö"), Err(()));
    }

    #[test]
    fn policies() {
        let be = Country::from_code(*b"BE");
        let nl = Country::from_code(*b"NL");
        let u = Country::UNKNOWN;
        assert!(CountryPolicy::Lenient.allows(be, be));
        assert!(!CountryPolicy::Lenient.allows(be, nl));
        assert!(CountryPolicy::Lenient.allows(u, nl));
        assert!(CountryPolicy::Lenient.allows(be, u));
        assert!(CountryPolicy::Strict.allows(be, be));
        assert!(!CountryPolicy::Strict.allows(u, u));
        assert!(!CountryPolicy::Strict.allows(be, u));
        assert!(CountryPolicy::Ignore.allows(be, nl));
        assert!(CountryPolicy::parse("bogus").is_err());
    }
}
