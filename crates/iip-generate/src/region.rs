//! The partnership side of a generated region: where each agency is, the agreements between
//! them, the services they offer (with gaps left on purpose), community figures, and the
//! self-assessment scores that show participants' needs.

use iip_directory::{Location, Service};
use iip_domain::Id;

use crate::rng::Rng;

/// Three cities per consortium (same order as `CONSORTIA`); member agencies sit in them in turn.
pub const CITIES: &[[&str; 3]] = &[
    ["San Jose", "Santa Clara", "Milpitas"],
    ["Santa Rosa", "Petaluma", "Sonoma"],
    ["Sacramento", "Elk Grove", "Citrus Heights"],
    ["Oakland", "Fremont", "Hayward"],
    ["Fresno", "Clovis", "Sanger"],
    ["Riverside", "Moreno Valley", "Corona"],
    ["Los Angeles", "Long Beach", "Glendale"],
    ["San Diego", "Chula Vista", "El Cajon"],
];

/// The city of the `member`-th agency of consortium `consortium`.
pub fn city(consortium: usize, member: usize) -> &'static str {
    CITIES[consortium % CITIES.len()][member % 3]
}

/// What an agency of each kind offers: (service suffix, name, elements, languages, regardless of
/// status, free, schedule). No kind offers health navigation in Tagalog or Vietnamese, and
/// only some offer Chinese: the gap analysis has something real to find.
type Offer = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    bool,
    bool,
    &'static str,
);

pub fn offers(kind_suffix: &str) -> &'static [Offer] {
    match kind_suffix {
        "adult-school" => &[
            (
                "esl",
                "English as a Second Language classes",
                &["english", "civic"],
                &["en", "es", "vi", "zh"],
                true,
                true,
                "Mon–Thu 6–9 pm",
            ),
            (
                "hse",
                "High school equivalency preparation",
                &["education"],
                &["en", "es"],
                true,
                true,
                "Tue and Thu 5–8 pm",
            ),
        ],
        "college" => &[(
            "cte",
            "Career technical education certificates",
            &["education", "economic"],
            &["en", "es"],
            false,
            false,
            "Semester terms",
        )],
        "cbo" => &[
            (
                "citizenship",
                "Citizenship and immigration legal help",
                &["credentials", "civic"],
                &["en", "es", "vi", "tl", "zh"],
                true,
                true,
                "Wed 9 am–4 pm, by appointment",
            ),
            (
                "benefits",
                "Benefits and public services navigation",
                &["navigation"],
                &["en", "es"],
                true,
                true,
                "Mon–Fri 9 am–5 pm",
            ),
        ],
        "faith" => &[(
            "welcome",
            "Welcome circles and mentoring",
            &["social"],
            &["en", "es", "tl"],
            true,
            true,
            "Sundays after services",
        )],
        "library" => &[(
            "digital",
            "Digital literacy and conversation circles",
            &["navigation", "english", "social"],
            &["en", "es", "zh"],
            true,
            true,
            "Sat 10 am–1 pm",
        )],
        "county-oir" => &[(
            "health",
            "Health coverage enrollment assistance",
            &["health"],
            &["en", "es"],
            true,
            true,
            "Mon–Fri 8 am–5 pm",
        )],
        "workforce" => &[(
            "jobs",
            "Job placement and wage progression",
            &["economic"],
            &["en", "es"],
            false,
            true,
            "Mon–Fri 8 am–6 pm",
        )],
        _ => &[],
    }
}

/// The services of one member agency located in `city` of `county`. County-wide agencies
/// (the college, the county office) and the community organization serve every city of the
/// consortium; the others their own city.
pub fn services_of(org_id: &str, kind_suffix: &str, city: &str, county: &str, cities: &[&str]) -> Vec<Service> {
    let areas: Vec<String> = if matches!(kind_suffix, "college" | "county-oir" | "cbo") {
        cities
            .iter()
            .map(|c| (*c).to_owned())
            .chain(std::iter::once(county.to_owned()))
            .collect()
    } else {
        vec![city.to_owned(), county.to_owned()]
    };
    let id = |raw: String| Id::parse(&raw).ok();
    offers(kind_suffix)
        .iter()
        .filter_map(|(suffix, name, elements, languages, regardless, free, schedule)| {
            Some(Service {
                service_id: id(format!("{org_id}-{suffix}"))?,
                org_id: id(org_id.to_owned())?,
                name: (*name).to_owned(),
                description: Some(format!("{name} in {city}.")),
                elements: elements.iter().map(|e| (*e).to_owned()).collect(),
                languages: languages.iter().map(|l| (*l).to_owned()).collect(),
                eligibility: Some("Adults 18 and over living or working in the county".to_owned()),
                regardless_of_status: *regardless,
                free: *free,
                fees: (!free).then(|| "Enrollment fees; waivers for low-income students".to_owned()),
                schedule: Some((*schedule).to_owned()),
                areas: areas.clone(),
                locations: vec![Location {
                    location_id: id(format!("{org_id}-{suffix}-site"))?,
                    name: Some(format!("{city} site")),
                    address: Some(format!("{} Main Street", 100 + suffix.len() * 11)),
                    city: Some(city.to_owned()),
                    region: Some("CA".to_owned()),
                    postal_code: None,
                    latitude: None,
                    longitude: None,
                }],
                url: None,
                email: None,
            })
        })
        .collect()
}

/// Agreements of one consortium's members, as `partnerships.csv` rows: data sharing between the
/// adult school and its closest partners (one of them ended in June 2024, so sharing with that
/// partner has stopped), referral partnerships from the adult school to every other member, and
/// the state fund's grant to the community organization.
pub fn partnership_rows(consortium: &str, member_suffixes: &[&str]) -> Vec<[String; 7]> {
    let school = format!("{consortium}-adult-school");
    let mut rows = Vec::new();
    let mut row = |id: String, a: &str, b: &str, kind: &str, scope: &str, end: &str| {
        rows.push([
            id,
            a.to_owned(),
            b.to_owned(),
            kind.to_owned(),
            scope.to_owned(),
            "2023-07-01".to_owned(),
            end.to_owned(),
        ]);
    };
    for (partner, end) in [("cbo", ""), ("college", ""), ("library", "2024-06-30")] {
        row(
            format!("{consortium}-share-{partner}"),
            &school,
            &format!("{consortium}-{partner}"),
            "data_sharing",
            "Participant records under consent, for referrals and shared outcomes",
            end,
        );
    }
    for suffix in member_suffixes.iter().filter(|s| **s != "adult-school") {
        row(
            format!("{consortium}-refer-{suffix}"),
            &school,
            &format!("{consortium}-{suffix}"),
            "referral",
            "Closed-loop referrals for every element the partner serves",
            "",
        );
    }
    row(
        format!("{consortium}-fund-cbo"),
        "ca-immigrant-fund",
        &format!("{consortium}-cbo"),
        "funding",
        "Citizenship and legal services grant",
        "2025-06-30",
    );
    rows
}

/// Published immigrant population by city and language (`community.csv` rows): plausible
/// magnitudes, with a large Tagalog-speaking population in the second city of every consortium.
pub fn community_rows(consortium: usize, seed: u64) -> Vec<(String, &'static str, u64)> {
    let mut rng = Rng::new(seed ^ 0xc0ff_ee00 ^ consortium as u64);
    let mut rows = Vec::new();
    for (index, city) in CITIES[consortium % CITIES.len()].iter().enumerate() {
        for (language, base) in [
            ("es", 40_000u64),
            ("vi", 9_000),
            ("zh", 12_000),
            ("tl", 6_000),
            ("fa", 2_000),
        ] {
            let planted = if language == "tl" && index == 1 { 6 } else { 1 };
            let population = (base + rng.below(base)) * planted / (1 + index as u64);
            rows.push(((*city).to_owned(), language, population));
        }
    }
    rows
}

/// Self-assessment scores (0–1, three decimals) for one record, by element, as the phone
/// questionnaire records them (`iip_self.<element>`). Newcomers score lower where services in
/// their language are scarce: health for Tagalog and Vietnamese speakers, credentials for
/// Spanish speakers, English for everyone who is learning it.
pub fn self_scores(rng: &mut Rng, language: &str) -> Vec<(&'static str, f64)> {
    const ELEMENTS: [&str; 8] = [
        "english",
        "education",
        "economic",
        "credentials",
        "health",
        "civic",
        "navigation",
        "social",
    ];
    ELEMENTS
        .iter()
        .map(|element| {
            let low = matches!(
                (language, *element),
                ("tl" | "vi", "health") | ("es", "credentials") | (_, "english")
            );
            let base = if low { 250 } else { 550 };
            let score = (base + rng.below(400)) as f64 / 1000.0;
            (*element, score.min(1.0))
        })
        .collect()
}
