//! A deterministic generator of realistic exchange packages: a state, regional consortia and
//! member agencies of several sectors; newcomers whose countries, languages, ages and barriers
//! resemble a California region; activity hours, assessments and milestones at plausible rates;
//! people served by two agencies; records without a person_key.
//!
//! The same seed always writes the same bytes (a hand-written SplitMix64 keeps the stream
//! independent of any crate's version), so the demo, the tests and the benchmarks agree.

mod people;
pub mod region;
pub mod rng;

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

use iip_domain::Date;
use people::{COUNTRIES, Country, FIRST_NAMES, LAST_NAMES};
use rng::Rng;

#[derive(Debug, Clone, Copy)]
pub struct GeneratorConfig {
    /// How many people to create; about one in ten is also served by a second agency.
    pub people: u64,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeneratedCounts {
    pub organizations: u64,
    pub partnerships: u64,
    pub participants: u64,
    pub activities: u64,
    pub milestones: u64,
    pub assessments: u64,
}

/// The kinds of member agency in every consortium, with their share of participants.
const MEMBER_KINDS: &[MemberKind] = &[
    MemberKind {
        suffix: "adult-school",
        name: "Adult School",
        sector: "education",
        level: "local",
        weight: 34,
        programs: &[
            ("esl", 60),
            ("abe", 10),
            ("ase", 10),
            ("cte", 8),
            ("citizenship", 6),
            ("el_civics", 6),
        ],
    },
    MemberKind {
        suffix: "college",
        name: "Community College",
        sector: "education",
        level: "county",
        weight: 15,
        programs: &[("esl", 40), ("cte", 40), ("ase", 20)],
    },
    MemberKind {
        suffix: "cbo",
        name: "Immigrant Services Center",
        sector: "nonprofit",
        level: "city",
        weight: 20,
        programs: &[("citizenship", 40), ("el_civics", 20), ("workforce", 20), ("other", 20)],
    },
    MemberKind {
        suffix: "faith",
        name: "Catholic Charities",
        sector: "faith_based",
        level: "city",
        weight: 8,
        programs: &[("esl", 50), ("citizenship", 30), ("other", 20)],
    },
    MemberKind {
        suffix: "library",
        name: "Public Library",
        sector: "public",
        level: "city",
        weight: 8,
        programs: &[("esl", 50), ("other", 50)],
    },
    MemberKind {
        suffix: "county-oir",
        name: "County Office of Immigrant Relations",
        sector: "public",
        level: "county",
        weight: 7,
        programs: &[("other", 60), ("citizenship", 40)],
    },
    MemberKind {
        suffix: "workforce",
        name: "Workforce Partnership",
        sector: "business",
        level: "local",
        weight: 8,
        programs: &[("workforce", 70), ("cte", 30)],
    },
];

const CONSORTIA: &[(&str, &str, &str)] = &[
    (
        "south-bay",
        "South Bay Consortium for Adult Education",
        "Santa Clara County",
    ),
    ("north-bay", "North Bay Adult Education Consortium", "Sonoma County"),
    (
        "capital",
        "Capital Adult Education Regional Consortium",
        "Sacramento County",
    ),
    ("east-bay", "East Bay Adult Education Alliance", "Alameda County"),
    (
        "central-valley",
        "Central Valley Adult Education Consortium",
        "Fresno County",
    ),
    ("inland", "Inland Adult Education Consortium", "Riverside County"),
    (
        "la-metro",
        "Los Angeles Metro Adult Education Consortium",
        "Los Angeles County",
    ),
    ("san-diego", "San Diego Adult Education Consortium", "San Diego County"),
];

struct MemberKind {
    suffix: &'static str,
    name: &'static str,
    sector: &'static str,
    level: &'static str,
    weight: u32,
    programs: &'static [(&'static str, u32)],
}

/// The data runs over two program years, 2023-24 and 2024-25.
fn first_day() -> i32 {
    Date::from_ymd(2023, 7, 1).map_or(0, Date::day_number)
}
fn last_day() -> i32 {
    Date::from_ymd(2025, 6, 30).map_or(0, Date::day_number)
}

fn date(day: i32) -> String {
    Date::from_day_number(day).map(|d| d.to_string()).unwrap_or_default()
}

/// Number of consortia for a package of `people`: two for a demo, up to eight for a state.
pub fn consortia_for(people: u64) -> usize {
    (people / 25_000).clamp(2, CONSORTIA.len() as u64) as usize
}

pub fn generate(config: GeneratorConfig, out: &Path) -> io::Result<GeneratedCounts> {
    std::fs::create_dir_all(out)?;
    let writer = |name: &str| -> io::Result<csv::Writer<BufWriter<File>>> {
        Ok(csv::Writer::from_writer(BufWriter::with_capacity(
            1 << 16,
            File::create(out.join(name))?,
        )))
    };
    let mut counts = GeneratedCounts::default();
    let mut rng = Rng::new(config.seed);

    let mut orgs = writer("organizations.csv")?;
    orgs.write_record(["org_id", "name", "sector", "level", "parent_id", "area", "areas_served"])?;
    orgs.write_record([
        "ca",
        "California Adult Education Program",
        "public",
        "state",
        "",
        "California",
        "California",
    ])?;
    orgs.write_record([
        "ca-immigrant-fund",
        "California Immigrant Integration Fund",
        "philanthropy",
        "state",
        "ca",
        "California",
        "California",
    ])?;
    counts.organizations += 2;
    let consortia = &CONSORTIA[..consortia_for(config.people)];
    let mut partnerships = writer("partnerships.csv")?;
    partnerships.write_record([
        "partnership_id",
        "org_id",
        "partner_org_id",
        "kind",
        "scope",
        "start_date",
        "end_date",
    ])?;
    let suffixes: Vec<&str> = MEMBER_KINDS.iter().map(|k| k.suffix).collect();
    for (c, (id, name, area)) in consortia.iter().enumerate() {
        orgs.write_record([*id, *name, "public", "region", "ca", *area, *area])?;
        counts.organizations += 1;
        for (m, kind) in MEMBER_KINDS.iter().enumerate() {
            let member = format!("{id}-{}", kind.suffix);
            let region = area.trim_end_matches(" County");
            let member_name = format!("{region} {}", kind.name);
            let city = region::city(c, m);
            let served = if kind.level == "county" {
                (*area).to_owned()
            } else {
                format!("{city};{area}")
            };
            orgs.write_record([
                member.as_str(),
                member_name.as_str(),
                kind.sector,
                kind.level,
                *id,
                city,
                &served,
            ])?;
            counts.organizations += 1;
        }
        for row in region::partnership_rows(id, &suffixes) {
            partnerships.write_record(&row)?;
            counts.partnerships += 1;
        }
    }
    orgs.flush()?;
    partnerships.flush()?;

    let mut participants = writer("participants.csv")?;
    participants.write_record([
        "org_id",
        "participant_id",
        "person_key",
        "first_name",
        "last_name",
        "date_of_birth",
        "gender",
        "race_ethnicity",
        "country_of_birth",
        "primary_language",
        "us_arrival_year",
        "zip",
        "barriers",
    ])?;
    let mut activities = writer("activities.csv")?;
    activities.write_record(["org_id", "participant_id", "date", "program", "hours", "element"])?;
    let mut milestones = writer("milestones.csv")?;
    milestones.write_record(["org_id", "participant_id", "date", "milestone"])?;
    let mut assessments = writer("assessments.csv")?;
    assessments.write_record(["org_id", "participant_id", "date", "instrument", "score"])?;

    let member_weights: Vec<u32> = MEMBER_KINDS.iter().map(|k| k.weight).collect();
    let country_weights: Vec<u32> = COUNTRIES.iter().map(|c| c.weight).collect();
    let mut next_record = 0u64;
    for person in 0..config.people {
        let consortium = consortia[rng.below(consortia.len() as u64) as usize].0;
        let country = &COUNTRIES[rng.weighted(&country_weights)];
        let profile = Profile::new(&mut rng, country, person);
        let mut kinds = vec![rng.weighted(&member_weights)];
        if rng.chance(10) {
            let second = rng.weighted(&member_weights);
            if second != kinds[0] {
                kinds.push(second);
            }
        }
        for kind_index in kinds {
            let kind = &MEMBER_KINDS[kind_index];
            let org = format!("{consortium}-{}", kind.suffix);
            next_record += 1;
            let participant_id = format!("P{next_record:07}");
            profile.write(&mut participants, &org, &participant_id)?;
            counts.participants += 1;
            let record = Record {
                org: &org,
                participant_id: &participant_id,
                kind,
                language: profile.country.language,
                seed: config.seed ^ next_record.wrapping_mul(0x9e37_79b9),
            };
            record.write_history(
                &mut rng,
                &mut activities,
                &mut milestones,
                &mut assessments,
                &mut counts,
            )?;
        }
    }
    participants.flush()?;
    activities.flush()?;
    milestones.flush()?;
    assessments.flush()?;
    Ok(counts)
}

/// The services of every member agency of the region a package of `people` holds.
pub fn services(people: u64) -> Vec<iip_directory::Service> {
    let mut all = Vec::new();
    for (c, (id, _, area)) in CONSORTIA[..consortia_for(people)].iter().enumerate() {
        for (m, kind) in MEMBER_KINDS.iter().enumerate() {
            let org = format!("{id}-{}", kind.suffix);
            let cities = &region::CITIES[c % region::CITIES.len()];
            all.extend(region::services_of(&org, kind.suffix, region::city(c, m), area, cities));
        }
    }
    all
}

/// `community.csv` for the region of a package of `people`: immigrant population by city and
/// language (published figures, in the form `iip directory community` imports).
pub fn community_csv(people: u64, seed: u64) -> String {
    let mut text = String::from("area,language,population\n");
    for c in 0..consortia_for(people) {
        for (area, language, population) in region::community_rows(c, seed) {
            text.push_str(&format!("{area},{language},{population}\n"));
        }
    }
    text
}

/// Who a person is; the same across the agencies that serve them.
struct Profile {
    person_key: Option<String>,
    first_name: &'static str,
    last_name: &'static str,
    date_of_birth: String,
    gender: &'static str,
    race: &'static str,
    country: &'static Country,
    arrival_year: i32,
    zip: String,
    barriers: String,
}

impl Profile {
    fn new(rng: &mut Rng, country: &'static Country, person: u64) -> Self {
        // One in five records carries no shared key (the agency has no shared student id).
        let person_key = (!rng.chance(20)).then(|| format!("K{person:08}"));
        let age = 18 + [rng.below(12), rng.below(25), rng.below(57)][rng.weighted(&[40, 40, 20])] as i32;
        let birth_year = 2024 - age;
        let date_of_birth = format!("{birth_year:04}-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28));
        let gender = ["female", "male", "nonbinary", ""][rng.weighted(&[55, 43, 1, 1])];
        let arrival_year = (birth_year + 14 + rng.below(30) as i32).min(2024);
        let zip = format!("951{:02}", 10 + rng.below(90));
        let mut barriers = Vec::new();
        for (barrier, percent) in [
            ("english_learner", 70),
            ("low_income", 50),
            ("low_literacy", 15),
            ("cultural_barriers", 30),
        ] {
            if rng.chance(percent) {
                barriers.push(barrier);
            }
        }
        let language = country.language;
        let names = |list: &'static [(&'static str, &'static [&'static str])], rng: &mut Rng| {
            let pool = list
                .iter()
                .find(|(l, _)| *l == language)
                .map_or(list[0].1, |(_, pool)| pool);
            pool[rng.below(pool.len() as u64) as usize]
        };
        Self {
            person_key,
            first_name: names(FIRST_NAMES, rng),
            last_name: names(LAST_NAMES, rng),
            date_of_birth,
            gender,
            race: country.race,
            country,
            arrival_year,
            zip,
            barriers: barriers.join(";"),
        }
    }

    fn write(&self, out: &mut csv::Writer<BufWriter<File>>, org: &str, participant_id: &str) -> io::Result<()> {
        let arrival = self.arrival_year.to_string();
        out.write_record([
            org,
            participant_id,
            self.person_key.as_deref().unwrap_or(""),
            self.first_name,
            self.last_name,
            &self.date_of_birth,
            self.gender,
            self.race,
            self.country.code,
            self.country.language,
            &arrival,
            &self.zip,
            &self.barriers,
        ])?;
        Ok(())
    }
}

struct Record<'a> {
    org: &'a str,
    participant_id: &'a str,
    kind: &'static MemberKind,
    language: &'static str,
    /// Seeds what is drawn apart from the main stream (self-assessments), so adding it left
    /// every other generated value as it was.
    seed: u64,
}

type Out = csv::Writer<BufWriter<File>>;

impl Record<'_> {
    fn write_history(
        &self,
        rng: &mut Rng,
        activities: &mut Out,
        milestones: &mut Out,
        assessments: &mut Out,
        counts: &mut GeneratedCounts,
    ) -> io::Result<()> {
        let weights: Vec<u32> = self.kind.programs.iter().map(|p| p.1).collect();
        let program = self.kind.programs[rng.weighted(&weights)].0;
        // About a third stay under the 12-hour participant threshold.
        let target_hundredths = if rng.chance(35) {
            100 + rng.below(1000)
        } else {
            1200 + rng.below(10_800)
        };
        let start = first_day() + rng.below((last_day() - first_day()) as u64) as i32;
        let mut day = start;
        let mut total = 0;
        while total < target_hundredths && day <= last_day() {
            let hours = [150, 200, 250, 300][rng.below(4) as usize];
            let element = match program {
                "esl" => "english",
                "abe" | "ase" | "cte" => "education",
                "citizenship" => "credentials",
                "el_civics" => "civic",
                "workforce" => "economic",
                _ => ["navigation", "health", "social"][rng.below(3) as usize],
            };
            let hours_text = format!("{}.{:02}", hours / 100, hours % 100);
            activities.write_record([self.org, self.participant_id, &date(day), program, &hours_text, element])?;
            counts.activities += 1;
            total += hours;
            day += 3 + rng.below(9) as i32;
        }
        let end = day.min(last_day());

        if program == "esl" {
            let pre = 190 + rng.below(35);
            assessments.write_record([
                self.org,
                self.participant_id,
                &date(start),
                "casas_reading",
                &pre.to_string(),
            ])?;
            counts.assessments += 1;
            if end > start + 30 {
                let post = pre + rng.below(16);
                let post = post.saturating_sub(3);
                assessments.write_record([
                    self.org,
                    self.participant_id,
                    &date(end),
                    "casas_reading",
                    &post.to_string(),
                ])?;
                counts.assessments += 1;
            }
        }

        // One record in three carries the phone self-assessment, taken in its first weeks.
        let mut own = Rng::new(self.seed);
        if own.chance(33) {
            let on = date((start + 14).min(last_day()));
            for (element, score) in region::self_scores(&mut own, self.language) {
                let instrument = format!("iip_self.{element}");
                let score = format!("{score:.3}");
                assessments.write_record([self.org, self.participant_id, &on, &instrument, &score])?;
                counts.assessments += 1;
            }
        }

        let participant = total >= 1200;
        let scale = if participant { 1 } else { 4 };
        let chances: Vec<(&str, u64)> = vec![
            ("english.efl_gain", if program == "esl" { 45 } else { 2 }),
            ("english.level_completed", if program == "esl" { 30 } else { 1 }),
            ("education.hse_earned", if program == "ase" { 25 } else { 1 }),
            (
                "education.postsecondary_transition",
                if matches!(program, "abe" | "ase" | "cte") {
                    12
                } else {
                    2
                },
            ),
            ("education.certificate_earned", if program == "cte" { 30 } else { 0 }),
            ("education.child_enrolled", 3),
            ("economic.employed", if program == "workforce" { 40 } else { 10 }),
            ("economic.wage_gain", if program == "workforce" { 20 } else { 5 }),
            ("economic.financial_account", 4),
            ("credentials.naturalized", if program == "citizenship" { 30 } else { 1 }),
            ("credentials.lpr_obtained", 2),
            ("credentials.work_authorization", 4),
            ("credentials.license_obtained", if program == "cte" { 8 } else { 1 }),
            (
                "health.insurance_enrolled",
                if self.kind.suffix == "county-oir" { 30 } else { 6 },
            ),
            ("health.primary_care_connected", 4),
            ("civic.el_civics_coaap", if program == "el_civics" { 60 } else { 0 }),
            ("civic.voter_registered", if program == "citizenship" { 15 } else { 1 }),
            ("civic.volunteered", 5),
            (
                "navigation.digital_literacy",
                if self.kind.suffix == "library" { 30 } else { 6 },
            ),
            (
                "navigation.accessed_benefit",
                if self.kind.suffix == "county-oir" { 30 } else { 5 },
            ),
            (
                "social.community_group_joined",
                if self.kind.suffix == "faith" { 25 } else { 5 },
            ),
            ("social.mentor_matched", 3),
        ];
        for (milestone, percent) in chances {
            if percent > 0 && rng.below(100 * scale) < percent {
                let on = start + rng.below((end - start + 1).max(1) as u64) as i32;
                milestones.write_record([self.org, self.participant_id, &date(on), milestone])?;
                counts.milestones += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_writes_the_same_bytes() {
        let (a, b, c) = (tempfile_dir("a"), tempfile_dir("b"), tempfile_dir("c"));
        let config = GeneratorConfig { people: 300, seed: 7 };
        let counts = generate(config, &a).expect("generate a");
        assert_eq!(generate(config, &b).expect("generate b"), counts);
        generate(GeneratorConfig { seed: 8, ..config }, &c).expect("generate c");
        for file in [
            "organizations.csv",
            "partnerships.csv",
            "participants.csv",
            "activities.csv",
            "milestones.csv",
            "assessments.csv",
        ] {
            let read = |dir: &Path| std::fs::read(dir.join(file)).expect("read");
            assert_eq!(read(&a), read(&b), "{file} differs for one seed");
            if !matches!(file, "organizations.csv" | "partnerships.csv") {
                assert_ne!(read(&a), read(&c), "{file} ignores the seed");
            }
        }
        assert!(counts.participants > 300, "some people are served by two agencies");
        assert!(counts.activities > counts.participants);
        assert!(counts.milestones > 0 && counts.assessments > 0);
        for dir in [a, b, c] {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    fn tempfile_dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("iip-generate-test-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }
}
