//! The groups people are counted in when metrics are broken down (disaggregated): age groups,
//! years in the US, and world regions of birth. Plain rules on plain values, shared by the
//! metrics engine and any reference implementation.

use crate::ProgramYear;

/// Age groups of CAEP reporting, by age at the start of the program year.
pub const AGE_GROUPS: &[&str] = &["under_20", "20_24", "25_34", "35_44", "45_54", "55_plus"];

/// Years-in-the-US groups, counted at the start of the program year.
pub const YEARS_IN_US_GROUPS: &[&str] = &["0_2", "3_5", "6_10", "over_10"];

/// The group of a missing value: every breakdown keeps it, so groups always add up to the total.
pub const UNKNOWN: &str = "unknown";

/// Age group from the year of birth. Only the year is used (the metrics never read full birth
/// dates), so the age is the one reached during the calendar year the program year starts in.
pub fn age_group(birth_year: Option<i32>, year: ProgramYear) -> &'static str {
    let Some(birth_year) = birth_year else {
        return UNKNOWN;
    };
    match year.first_day().year() - birth_year {
        age if age < 0 => UNKNOWN,
        0..=19 => AGE_GROUPS[0],
        20..=24 => AGE_GROUPS[1],
        25..=34 => AGE_GROUPS[2],
        35..=44 => AGE_GROUPS[3],
        45..=54 => AGE_GROUPS[4],
        _ => AGE_GROUPS[5],
    }
}

/// Years since arrival, at the start of the program year: 0–2, 3–5, 6–10, over 10.
pub fn years_in_us(arrival_year: Option<i32>, year: ProgramYear) -> &'static str {
    let Some(arrival_year) = arrival_year else {
        return UNKNOWN;
    };
    match year.first_day().year() - arrival_year {
        years if years < 0 => UNKNOWN,
        0..=2 => YEARS_IN_US_GROUPS[0],
        3..=5 => YEARS_IN_US_GROUPS[1],
        6..=10 => YEARS_IN_US_GROUPS[2],
        _ => YEARS_IN_US_GROUPS[3],
    }
}

/// World regions of birth (after the UN geoscheme, with the Americas split the way US
/// immigration statistics split them).
pub const REGIONS: &[&str] = &[
    "latin_america",
    "northern_america",
    "europe",
    "africa",
    "middle_east",
    "south_asia",
    "east_asia",
    "southeast_asia",
    "central_asia",
    "oceania",
];

const REGION_MEMBERS: &[(&str, &str)] = &[
    (
        "latin_america",
        "AG AI AR AW BB BL BO BQ BR BS BZ CL CO CR CU CW DM DO EC FK GD GF GP GT GY HN HT JM KN KY LC MF MQ MS MX NI PA PE PR PY SR SV SX TC TT UY VC VE VG VI",
    ),
    ("northern_america", "BM CA GL PM US"),
    (
        "europe",
        "AD AL AT AX BA BE BG BY CH CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK",
    ),
    (
        "africa",
        "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW",
    ),
    (
        "middle_east",
        "AE AM AZ BH CY GE IL IQ IR JO KW LB OM PS QA SA SY TR YE",
    ),
    ("south_asia", "AF BD BT IN LK MV NP PK"),
    ("east_asia", "CN HK JP KP KR MN MO TW"),
    ("southeast_asia", "BN ID KH LA MM MY PH SG TH TL VN"),
    ("central_asia", "KG KZ TJ TM UZ"),
    (
        "oceania",
        "AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS",
    ),
];

/// The region of an ISO 3166-1 alpha-2 country code; `unknown` when missing or not listed.
pub fn region_of_birth(country: Option<&str>) -> &'static str {
    let Some(country) = country.filter(|c| c.len() == 2) else {
        return UNKNOWN;
    };
    REGION_MEMBERS
        .iter()
        .find(|(_, members)| members.split(' ').any(|code| code == country))
        .map_or(UNKNOWN, |(region, _)| region)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn year(start: i32) -> ProgramYear {
        ProgramYear::starting(start)
    }

    #[test]
    fn age_groups_have_inclusive_bounds() {
        assert_eq!(age_group(Some(2005), year(2024)), "under_20"); // 19
        assert_eq!(age_group(Some(2004), year(2024)), "20_24"); // 20
        assert_eq!(age_group(Some(2000), year(2024)), "20_24"); // 24
        assert_eq!(age_group(Some(1999), year(2024)), "25_34"); // 25
        assert_eq!(age_group(Some(1980), year(2024)), "35_44"); // 44
        assert_eq!(age_group(Some(1970), year(2024)), "45_54"); // 54
        assert_eq!(age_group(Some(1969), year(2024)), "55_plus"); // 55
        assert_eq!(age_group(None, year(2024)), UNKNOWN);
        assert_eq!(age_group(Some(2030), year(2024)), UNKNOWN);
    }

    #[test]
    fn years_in_us_groups_have_inclusive_bounds() {
        assert_eq!(years_in_us(Some(2024), year(2024)), "0_2");
        assert_eq!(years_in_us(Some(2022), year(2024)), "0_2");
        assert_eq!(years_in_us(Some(2021), year(2024)), "3_5");
        assert_eq!(years_in_us(Some(2019), year(2024)), "3_5");
        assert_eq!(years_in_us(Some(2014), year(2024)), "6_10");
        assert_eq!(years_in_us(Some(2013), year(2024)), "over_10");
        assert_eq!(years_in_us(None, year(2024)), UNKNOWN);
    }

    #[test]
    fn every_country_has_one_region() {
        let mut seen = std::collections::HashSet::new();
        for (region, members) in REGION_MEMBERS {
            assert!(REGIONS.contains(region));
            for code in members.split(' ') {
                assert_eq!(code.len(), 2, "{code}");
                assert!(seen.insert(code), "{code} is listed twice");
            }
        }
        assert_eq!(region_of_birth(Some("MX")), "latin_america");
        assert_eq!(region_of_birth(Some("VN")), "southeast_asia");
        assert_eq!(region_of_birth(Some("AF")), "south_asia");
        assert_eq!(region_of_birth(Some("ZZ")), UNKNOWN);
        assert_eq!(region_of_birth(None), UNKNOWN);
    }
}
