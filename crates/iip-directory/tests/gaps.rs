//! The gap analysis on a planted region: three areas, several languages, services in some.

use iip_directory::gaps::{
    CapacityLevel, CommunityFigure, GapCell, GapInput, GapReport, NeedLevel, NeedSignal, analyse, to_csv,
};
use iip_directory::referral::SECONDS_PER_DAY;
use iip_directory::{Location, Referral, ReferralEvent, ReferralStatus, Service};
use iip_domain::records::Organization;
use iip_domain::{Id, Level, Sector};

fn id(raw: &str) -> Id {
    Id::parse(raw).expect("id")
}

fn org(org_id: &str, area: Option<&str>) -> Organization {
    Organization {
        org_id: id(org_id),
        name: format!("Org {org_id}"),
        sector: Sector::Nonprofit,
        level: Level::Local,
        parent_id: None,
        area: area.map(str::to_owned),
        areas_served: vec![],
    }
}

fn service(service_id: &str, org_id: &str, element: &str, languages: &[&str], area: &str) -> Service {
    Service {
        service_id: id(service_id),
        org_id: id(org_id),
        name: format!("Service {service_id}"),
        description: None,
        elements: vec![element.into()],
        languages: languages.iter().map(|l| (*l).to_owned()).collect(),
        eligibility: None,
        regardless_of_status: true,
        free: true,
        fees: None,
        schedule: None,
        areas: vec![],
        locations: vec![Location {
            location_id: id(&format!("{service_id}-loc")),
            name: None,
            address: None,
            city: Some(area.into()),
            region: Some("CA".into()),
            postal_code: None,
            latitude: None,
            longitude: None,
        }],
        url: None,
        email: None,
    }
}

fn needs(org_id: &str, language: Option<&str>, element: &str, n: usize) -> Vec<NeedSignal> {
    let signal = NeedSignal {
        org_id: org_id.into(),
        language: language.map(str::to_owned),
        element: element.into(),
    };
    vec![signal; n]
}

fn figure(area: &str, language: &str, population: u64) -> CommunityFigure {
    CommunityFigure {
        area: area.into(),
        language: language.into(),
        population,
    }
}

/// A referral to `to` for `element`, accepted after `accepted` days when given.
fn referral(to: &str, element: &str, accepted: Option<i64>) -> Referral {
    let at = 20_000 * SECONDS_PER_DAY;
    let event = |status, at| ReferralEvent {
        status,
        at,
        by_user: None,
        by_org_id: "x".into(),
        reason: None,
    };
    let mut events = vec![event(ReferralStatus::Requested, at)];
    if let Some(days) = accepted {
        events.push(event(ReferralStatus::Accepted, at + days * SECONDS_PER_DAY));
    }
    Referral {
        id: 0,
        from_org_id: "fre-center".into(),
        participant_id: "p".into(),
        to_org_id: to.into(),
        service_id: None,
        element: element.into(),
        note: None,
        status: if accepted.is_some() {
            ReferralStatus::Accepted
        } else {
            ReferralStatus::Requested
        },
        outcome_milestone: None,
        events,
    }
}

struct Region {
    organizations: Vec<Organization>,
    needs: Vec<NeedSignal>,
    community: Vec<CommunityFigure>,
    services: Vec<Service>,
    referrals: Vec<Referral>,
}

impl Region {
    fn analyse(&self) -> GapReport {
        analyse(&GapInput {
            organizations: &self.organizations,
            needs: &self.needs,
            community: &self.community,
            services: &self.services,
            referrals: &self.referrals,
            threshold: 10,
        })
    }
}

/// Fremont, Hayward and Oakland. `zh_economic` is the true number of Chinese-speaking
/// participants with an economic need in Hayward (a small cell).
fn region(zh_economic: usize) -> Region {
    let organizations = vec![
        org("fre-center", Some("Fremont")),
        org("clinic", Some("Fremont")),
        org("hay-center", Some("Hayward")),
        org("oak-college", Some("Oakland")),
        org("state", None),
    ];
    let mut all_needs = Vec::new();
    // The planted gap: 30 Tagalog speakers need health navigation in Fremont.
    all_needs.extend(needs("fre-center", Some("tl"), "health", 30));
    // 12 needs in Fremont health without a recorded language.
    all_needs.extend(needs("clinic", None, "health", 12));
    // Well served: 15 Spanish speakers learning English in Oakland, three Spanish ESL classes.
    all_needs.extend(needs("oak-college", Some("es"), "english", 15));
    // A small cell: Chinese speakers with an economic need in Hayward, no service.
    all_needs.extend(needs("hay-center", Some("zh"), "economic", zh_economic));
    // 4 Tagalog speakers needing health in Hayward, where a Tagalog health service exists.
    all_needs.extend(needs("hay-center", Some("TL"), "health", 4));
    // 12 needs at an organization with no area: not placed.
    all_needs.extend(needs("state", Some("es"), "health", 12));
    let community = vec![figure("Fremont", "tl", 5_000), figure("hayward", "vi", 3_000)];
    let services = vec![
        service("fre-health-en", "clinic", "health", &["en"], "Fremont"),
        service("oak-esl-1", "oak-college", "english", &["es", "en"], "Oakland"),
        service("oak-esl-2", "oak-college", "english", &["es"], "Oakland"),
        service("oak-esl-3", "oak-college", "english", &["es", "zh"], "Oakland"),
        service("hay-health", "hay-center", "health", &["en", "es", "tl"], "Hayward"),
    ];
    // The clinic accepted 10 of 20 health referrals, after 28 days each.
    let mut referrals: Vec<Referral> = (0..10).map(|_| referral("clinic", "health", Some(28))).collect();
    referrals.extend((0..10).map(|_| referral("clinic", "health", None)));
    Region {
        organizations,
        needs: all_needs,
        community,
        services,
        referrals,
    }
}

fn cell<'a>(report: &'a GapReport, area: &str, element: &str, language: Option<&str>) -> &'a GapCell {
    report
        .cells
        .iter()
        .find(|c| c.area == area && c.element == element && c.language.as_deref() == language)
        .expect("cell present")
}

fn rank_of(report: &GapReport, area: &str, element: &str, language: Option<&str>) -> Option<usize> {
    report
        .gaps
        .iter()
        .find(|g| g.cell.area == area && g.cell.element == element && g.cell.language.as_deref() == language)
        .map(|g| g.rank)
}

#[test]
fn the_planted_gap_ranks_first() {
    let report = region(4).analyse();
    // Need: 30 participants = 3 points, 5 000 Tagalog speakers = log10(5000) − 2 = 1.70:
    // 4.70, high. The only health service in Fremont is English-only: no capacity. Gap 4.70.
    let first = &report.gaps[0];
    assert_eq!(first.rank, 1);
    assert_eq!(
        (first.cell.area.as_str(), first.cell.element.as_str()),
        ("Fremont", "health")
    );
    assert_eq!(first.cell.language.as_deref(), Some("tl"));
    assert_eq!(first.cell.need_count, Some(30));
    assert_eq!(first.cell.population, 5_000);
    assert_eq!(first.cell.need_score, 4.7);
    assert_eq!(first.cell.need_level, NeedLevel::High);
    assert_eq!(first.cell.services, 0);
    assert_eq!(first.cell.services_in_other_languages, 1);
    assert_eq!(first.cell.capacity_level, CapacityLevel::None);
    assert_eq!(first.cell.gap_score, 4.7);
    assert_eq!(
        first.cell.sentence,
        "Tagalog-speaking health navigation in Fremont: high need, no service"
    );

    // Then, hand-ranked: the other seven Fremont Tagalog elements (community only, 1.70 each,
    // in framework order); the eight Hayward Vietnamese elements (log10(3000) − 2 = 1.48);
    // Fremont health without a language (below); Hayward Chinese economic (0.5).
    let order: Vec<(String, String, Option<String>, f64)> = report
        .gaps
        .iter()
        .map(|g| {
            (
                g.cell.area.clone(),
                g.cell.element.clone(),
                g.cell.language.clone(),
                g.cell.gap_score,
            )
        })
        .collect();
    let mut expected = vec![("Fremont", "health", Some("tl"), 4.7)];
    for e in [
        "english",
        "education",
        "economic",
        "credentials",
        "civic",
        "navigation",
        "social",
    ] {
        expected.push(("Fremont", e, Some("tl"), 1.7));
    }
    for e in [
        "english",
        "education",
        "economic",
        "credentials",
        "health",
        "civic",
        "navigation",
        "social",
    ] {
        expected.push(("Hayward", e, Some("vi"), 1.48));
    }
    expected.push(("Fremont", "health", None, 0.95));
    expected.push(("Hayward", "economic", Some("zh"), 0.5));
    let expected: Vec<(String, String, Option<String>, f64)> = expected
        .into_iter()
        .map(|(a, e, l, s)| (a.to_owned(), e.to_owned(), l.map(str::to_owned), s))
        .collect();
    assert_eq!(order, expected);
    assert_eq!(
        report.gaps.iter().map(|g| g.rank).collect::<Vec<_>>(),
        (1..=18).collect::<Vec<_>>()
    );
}

#[test]
fn referrals_adjust_capacity_when_there_are_enough() {
    let report = region(4).analyse();
    // Fremont health, language not recorded: 12 participants = 1.2 points, medium. Every
    // health service of Fremont counts whatever its languages: the clinic's English one. Its
    // 20 health referrals (≥ 10): 10 accepted, rate 0.5; median 28 days to acceptance, twice
    // the prompt 14: half. Capacity 1 × 0.5 × 0.5 = 0.25, low. Gap 1.2 − 0.25 = 0.95.
    let c = cell(&report, "Fremont", "health", None);
    assert_eq!(c.need_count, Some(12));
    assert_eq!(c.need_level, NeedLevel::Medium);
    assert_eq!(c.services, 1);
    assert_eq!(c.acceptance_rate, Some(0.5));
    assert_eq!(c.median_days_to_acceptance, Some(28.0));
    assert_eq!(c.capacity_score, 0.25);
    assert_eq!(c.capacity_level, CapacityLevel::Low);
    assert_eq!(c.gap_score, 0.95);
    assert_eq!(
        c.sentence,
        "Health navigation in Fremont (language not recorded): medium need, low capacity (1 service)"
    );

    // With 9 referrals (fewer than 10) nothing is used or shown: capacity 1, adequate? 1 < 1.2:
    // still low, gap 0.2.
    let mut few = region(4);
    few.referrals.truncate(9);
    let report = few.analyse();
    let c = cell(&report, "Fremont", "health", None);
    assert_eq!((c.acceptance_rate, c.median_days_to_acceptance), (None, None));
    assert_eq!(c.capacity_score, 1.0);
    assert_eq!(c.gap_score, 0.2);

    // 20 referrals of which 3 accepted: the rate would rest on a small count: not used.
    let mut small = region(4);
    small.referrals = (0..3).map(|_| referral("clinic", "health", Some(2))).collect();
    small
        .referrals
        .extend((0..17).map(|_| referral("clinic", "health", None)));
    let c = small.analyse();
    let c = cell(&c, "Fremont", "health", None);
    assert_eq!((c.acceptance_rate, c.median_days_to_acceptance), (None, None));
    assert_eq!(c.capacity_score, 1.0);
}

#[test]
fn a_well_served_cell_is_not_a_gap() {
    let report = region(4).analyse();
    // Oakland English learning in Spanish: 15 participants = 1.5 points; three Spanish ESL
    // services = 3 points ≥ 1.5: adequate, gap 0.
    let c = cell(&report, "Oakland", "english", Some("es"));
    assert_eq!(c.need_count, Some(15));
    assert_eq!(c.services, 3);
    assert_eq!(c.capacity_level, CapacityLevel::Adequate);
    assert_eq!(c.gap_score, 0.0);
    assert_eq!(rank_of(&report, "Oakland", "english", Some("es")), None);
    // Hayward health in Tagalog ("TL" is read as "tl"): 4 participants, withheld, stand in as
    // 5 = 0.5 points; one Tagalog health service = 1 point: not a gap either.
    let c = cell(&report, "Hayward", "health", Some("tl"));
    assert_eq!(c.need_count, None);
    assert_eq!(c.need_score, 0.5);
    assert_eq!(c.capacity_level, CapacityLevel::Adequate);
    assert_eq!(rank_of(&report, "Hayward", "health", Some("tl")), None);
}

#[test]
fn a_small_cell_is_withheld_and_its_rank_does_not_tell_one_from_nine() {
    let with_one = region(1).analyse();
    let with_nine = region(9).analyse();
    let c = cell(&with_one, "Hayward", "economic", Some("zh"));
    // Withheld, stands in as 5 participants = 0.5 points, low need, no service.
    assert_eq!(c.need_count, None);
    assert_eq!(c.need_score, 0.5);
    assert_eq!(c.need_level, NeedLevel::Low);
    assert_eq!(c.gap_score, 0.5);
    assert_eq!(rank_of(&with_one, "Hayward", "economic", Some("zh")), Some(18));
    assert_eq!(rank_of(&with_nine, "Hayward", "economic", Some("zh")), Some(18));
    // Nothing in the whole report differs.
    assert_eq!(
        serde_json::to_string(&with_one).expect("json"),
        serde_json::to_string(&with_nine).expect("json")
    );
    // Ten is shown, and scores as ten.
    let with_ten = region(10).analyse();
    let c = cell(&with_ten, "Hayward", "economic", Some("zh"));
    assert_eq!((c.need_count, c.need_score), (Some(10), 1.0));
}

#[test]
fn community_population_alone_makes_a_gap() {
    let report = region(4).analyse();
    // Hayward, Vietnamese: no participant, 3 000 speakers ("hayward" matches "Hayward"):
    // 1.48 points, medium; the Hayward health service offers en, es, tl: none in Vietnamese.
    let c = cell(&report, "Hayward", "health", Some("vi"));
    assert_eq!(c.need_count, Some(0), "zero is shown");
    assert_eq!(c.population, 3_000);
    assert_eq!(c.need_level, NeedLevel::Medium);
    assert_eq!(c.capacity_level, CapacityLevel::None);
    assert_eq!(c.services_in_other_languages, 1);
    assert_eq!(rank_of(&report, "Hayward", "health", Some("vi")), Some(13));
    assert_eq!(
        c.sentence,
        "Vietnamese-speaking health navigation in Hayward: medium need, no service"
    );
}

#[test]
fn needs_without_an_area_are_counted_apart() {
    let report = region(4).analyse();
    assert_eq!(report.unplaced_needs, Some(12));
    assert!(
        report
            .cells
            .iter()
            .all(|c| !(c.element == "health" && c.language.as_deref() == Some("es")))
    );
    let mut few = region(4);
    few.needs.retain(|n| n.org_id != "state");
    few.needs.extend(needs("state", None, "civic", 3));
    few.needs.extend(needs("unknown-org", None, "civic", 1));
    assert_eq!(few.analyse().unplaced_needs, None, "4 is withheld");
}

#[test]
fn the_heat_map_holds_the_largest_gap_of_each_area_and_element() {
    let report = region(4).analyse();
    let map = &report.heat_map;
    assert_eq!(map.areas, ["Fremont", "Hayward", "Oakland"]);
    assert_eq!(
        map.elements,
        [
            "english",
            "education",
            "economic",
            "credentials",
            "health",
            "civic",
            "navigation",
            "social"
        ]
    );
    assert_eq!(map.element_names[0], "English learning");
    assert_eq!(map.max_score, 4.7);
    let at = |area: usize, element: usize| &map.rows[area].cells[element];
    // Fremont health: max(4.70 Tagalog, 0.95 not recorded).
    assert_eq!((at(0, 4).score, at(0, 4).language.as_deref()), (4.7, Some("tl")));
    // Hayward economic: max(1.48 Vietnamese, 0.5 Chinese).
    assert_eq!((at(1, 2).score, at(1, 2).language.as_deref()), (1.48, Some("vi")));
    // Oakland English learning: need, but served: 0, no language.
    assert_eq!((at(2, 0).score, at(2, 0).language.as_deref()), (0.0, None));
    assert_eq!(at(2, 0).need_level, NeedLevel::Medium);
    // Oakland health: no need at all.
    assert_eq!((at(2, 4).score, at(2, 4).need_level), (0.0, NeedLevel::None));
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["gaps"][0]["rank"], 1);
    assert_eq!(json["gaps"][0]["need_level"], "high");
    assert_eq!(json["heat_map"]["rows"][0]["cells"][4]["score"], 4.7);
}

#[test]
fn the_analysis_does_not_depend_on_input_order() {
    let a = region(4);
    let mut b = region(4);
    b.needs.reverse();
    b.services.reverse();
    b.community.reverse();
    b.organizations.reverse();
    assert_eq!(a.analyse(), b.analyse());
}

#[test]
fn the_csv_neutralises_formulas_in_area_names() {
    let mut planted = region(4);
    let evil = "=HYPERLINK(\"http://evil.example\",\"click\")";
    planted.organizations.push(org("evil-org", Some(evil)));
    planted.needs.extend(needs("evil-org", Some("es"), "civic", 20));
    let report = planted.analyse();
    let text = to_csv(&report);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("header").clone();
    assert_eq!(&headers[0], "rank");
    assert_eq!(&headers[1], "area");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), report.gaps.len());
    let evil_rows: Vec<&csv::StringRecord> = records.iter().filter(|r| r[1].contains("HYPERLINK")).collect();
    assert_eq!(evil_rows.len(), 1);
    assert_eq!(&evil_rows[0][1], format!("'{evil}"));
    for record in &records {
        for field in record {
            assert!(!field.starts_with(['=', '+', '-', '@']), "{field}");
        }
    }
    // The first data row is the planted gap, its withheld counts empty.
    assert_eq!(&records[0][0], "1");
    assert_eq!(&records[0][1], "Fremont");
    assert_eq!(&records[0][6], "30");
    let zh = records
        .iter()
        .find(|r| &r[2] == "economic" && &r[4] == "zh")
        .expect("zh row");
    assert_eq!((&zh[6], &zh[7]), ("", "true"));
}
