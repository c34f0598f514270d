//! The engine against a plain, obviously-correct reference: for every scope, metric and group,
//! loop over the raw facts person by person, straight from docs/metrics.md. Random small
//! worlds (proptest seeds), every shipped metric, no suppression (threshold 1), with and
//! without breakdowns.

use std::collections::{BTreeSet, HashMap};

use iip_domain::facts::{ActivityFact, AssessmentFact, FactSink, MilestoneFact, OrgNode, ParticipantFact};
use iip_domain::{Barrier, Gender, Level, Program, ProgramYear, RaceEthnicity, Sector, groups};
use iip_framework::Framework;
use iip_metrics::definition::MilestoneFilter;
use iip_metrics::{Attribution, Cond, Dimension, Kind, Metric, MetricSet, Query, Snapshot, Window};
use proptest::prelude::*;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

struct Org {
    id: String,
    sector: Sector,
    level: Level,
    parent: Option<usize>,
}

struct Rec {
    row: i64,
    org: usize,
    key: String,
    fact: ParticipantFact,
}

struct World {
    orgs: Vec<Org>,
    records: Vec<Rec>,
    activities: Vec<ActivityFact>,
    milestones: Vec<MilestoneFact>,
    assessments: Vec<AssessmentFact>,
}

fn world(seed: u64, framework: &Framework) -> World {
    let mut rng = Rng(seed);
    let n_orgs = 2 + rng.below(6) as usize;
    let orgs: Vec<Org> = (0..n_orgs)
        .map(|i| Org {
            id: format!("o{i}"),
            sector: rng.pick(Sector::ALL),
            level: rng.pick(Level::ALL),
            parent: (i > 0).then(|| rng.below(i as u64) as usize),
        })
        .collect();
    let milestones_ids: Vec<String> = framework
        .elements
        .iter()
        .flat_map(|e| e.milestones.iter().map(|m| m.id.clone()))
        .collect();
    let first = ProgramYear::starting(2024).first_day().day_number();
    let last = ProgramYear::starting(2024).last_day().day_number();
    let mut records = Vec::new();
    let (mut activities, mut milestones, mut assessments) = (Vec::new(), Vec::new(), Vec::new());
    let n_records = 3 + rng.below(40);
    for row in 1..=n_records as i64 {
        let org = rng.below(n_orgs as u64) as usize;
        let person_key = (rng.below(3) == 0).then(|| format!("K{}", rng.below(6)));
        let participant_id = format!("p{row}");
        let key = person_key.clone().map_or_else(
            || format!("local {} {participant_id}", orgs[org].id),
            |k| format!("key {k}"),
        );
        let maybe = |rng: &mut Rng| rng.below(4) != 0;
        let fact = ParticipantFact {
            row,
            org_id: orgs[org].id.clone(),
            participant_id,
            person_key,
            gender: maybe(&mut rng).then(|| rng.pick(Gender::ALL)),
            race_ethnicity: maybe(&mut rng).then(|| rng.pick(RaceEthnicity::ALL)),
            country_of_birth: maybe(&mut rng).then(|| rng.pick(&["MX", "VN", "AF", "UA", "ET", "ZZ"]).to_owned()),
            primary_language: maybe(&mut rng).then(|| rng.pick(&["es", "vi", "zh"]).to_owned()),
            us_arrival_year: maybe(&mut rng).then(|| 2005 + rng.below(22) as i32),
            birth_year: maybe(&mut rng).then(|| 1950 + rng.below(60) as i32),
            barriers: Barrier::ALL.iter().copied().filter(|_| rng.below(3) == 0).collect(),
        };
        records.push(Rec { row, org, key, fact });
        for _ in 0..rng.below(5) {
            // Days around the year, its first and last day included often.
            let day = match rng.below(6) {
                0 => first,
                1 => last,
                _ => first - 120 + rng.below(600) as i32,
            };
            activities.push(ActivityFact {
                participant_row: row,
                day,
                program: rng.pick(Program::ALL),
                hundredths: 1 + rng.below(1000) as u32,
            });
        }
        for _ in 0..rng.below(4) {
            milestones.push(MilestoneFact {
                participant_row: row,
                day: first - 60 + rng.below(800) as i32,
                milestone: milestones_ids[rng.below(milestones_ids.len() as u64) as usize].clone(),
            });
        }
        for _ in 0..rng.below(4) {
            assessments.push(AssessmentFact {
                participant_row: row,
                day: first - 30 + rng.below(450) as i32,
                instrument: rng.pick(&["casas_reading", "iip_self.social"]).to_owned(),
                score: rng.below(12) as f64 * 0.5,
            });
        }
    }
    World {
        orgs,
        records,
        activities,
        milestones,
        assessments,
    }
}

fn snapshot(world: &World, framework: &Framework) -> Snapshot {
    let mut snapshot = Snapshot::new(framework);
    for org in &world.orgs {
        snapshot.organization(OrgNode {
            org_id: org.id.clone(),
            name: org.id.clone(),
            sector: org.sector,
            level: org.level,
            parent_id: org.parent.map(|p| world.orgs[p].id.clone()),
        });
    }
    for record in &world.records {
        snapshot.participant(record.fact.clone());
    }
    for a in &world.activities {
        snapshot.activity(*a);
    }
    for m in &world.milestones {
        snapshot.milestone(m.clone());
    }
    for a in &world.assessments {
        snapshot.assessment(a.clone());
    }
    snapshot
}

/// The reference: everything recomputed from the raw facts for each question.
struct Reference<'w> {
    world: &'w World,
    framework: &'w Framework,
    year: ProgramYear,
    record_of_row: HashMap<i64, usize>,
    latest: i32,
}

#[derive(Debug, Default, Clone)]
struct AtScope {
    hours: u64,
    programs: BTreeSet<Program>,
    sectors: BTreeSet<Sector>,
    first_day: Option<i32>,
}

impl<'w> Reference<'w> {
    fn new(world: &'w World, framework: &'w Framework, year: ProgramYear) -> Self {
        Self {
            world,
            framework,
            year,
            record_of_row: world.records.iter().enumerate().map(|(i, r)| (r.row, i)).collect(),
            latest: world.activities.iter().map(|a| a.day).max().unwrap_or(i32::MIN),
        }
    }

    fn is_below(&self, org: usize, top: usize) -> bool {
        let mut current = Some(org);
        while let Some(o) = current {
            if o == top {
                return true;
            }
            current = self.world.orgs[o].parent;
        }
        false
    }

    /// Which organizations a scope id covers.
    fn scope_orgs(&self, scope: &str) -> Vec<bool> {
        let orgs = &self.world.orgs;
        (0..orgs.len())
            .map(|o| {
                if let Some(sector) = scope.strip_prefix("sector:") {
                    orgs[o].sector.as_str() == sector
                } else if let Some(level) = scope.strip_prefix("level:") {
                    (0..orgs.len()).any(|top| orgs[top].level.as_str() == level && self.is_below(o, top))
                } else {
                    let top = orgs.iter().position(|x| x.id == scope).expect("scope is an org");
                    self.is_below(o, top)
                }
            })
            .collect()
    }

    fn in_year(&self, day: i32) -> bool {
        (self.year.first_day().day_number()..=self.year.last_day().day_number()).contains(&day)
    }

    fn people_at(&self, inside: &[bool]) -> HashMap<String, AtScope> {
        let mut people: HashMap<String, AtScope> = HashMap::new();
        for a in &self.world.activities {
            let record = &self.world.records[self.record_of_row[&a.participant_row]];
            if !inside[record.org] || !self.in_year(a.day) {
                continue;
            }
            let entry = people.entry(record.key.clone()).or_default();
            entry.hours += u64::from(a.hundredths);
            entry.programs.insert(a.program);
            entry.sectors.insert(self.world.orgs[record.org].sector);
            entry.first_day = Some(entry.first_day.map_or(a.day, |d| d.min(a.day)));
        }
        people
    }

    fn records_of<'a>(&'a self, person: &'a str) -> impl Iterator<Item = &'a Rec> + 'a {
        self.world.records.iter().filter(move |r| r.key == person)
    }

    fn window(&self, window: Window, first_day: i32) -> (i32, i32) {
        match window {
            Window::ProgramYear => (self.year.first_day().day_number(), self.year.last_day().day_number()),
            Window::SameOrNextYear => (
                self.year.first_day().day_number(),
                ProgramYear::starting(self.year.first_day().year() + 1)
                    .last_day()
                    .day_number(),
            ),
            Window::DaysAfterFirstActivity(n) => (first_day, first_day + n),
        }
    }

    fn counts_at(&self, row: i64, metric: &Metric, inside: &[bool]) -> bool {
        metric.attribution == Attribution::Any || inside[self.world.records[self.record_of_row[&row]].org]
    }

    fn matches(&self, filter: &MilestoneFilter, milestone: &str) -> bool {
        match filter {
            MilestoneFilter::Any => true,
            MilestoneFilter::Element(e) => self
                .framework
                .element_of_milestone(milestone)
                .is_some_and(|x| &x.id == e),
            MilestoneFilter::Id(id) => id == milestone,
        }
    }

    fn holds(&self, cond: &Cond, metric: &Metric, person: &str, at: &AtScope, inside: &[bool]) -> bool {
        let first_day = at.first_day.expect("served");
        let (lo, hi) = self.window(metric.window, first_day);
        let mine = |row: i64| self.world.records[self.record_of_row[&row]].key == person;
        match cond {
            Cond::True => true,
            Cond::And(a, b) => self.holds(a, metric, person, at, inside) && self.holds(b, metric, person, at, inside),
            Cond::Or(a, b) => self.holds(a, metric, person, at, inside) || self.holds(b, metric, person, at, inside),
            Cond::Not(a) => !self.holds(a, metric, person, at, inside),
            Cond::Hours(op, n) => op.holds(at.hours, *n),
            Cond::Program(mask) => at.programs.iter().any(|p| mask & (1 << *p as u16) != 0),
            Cond::Barrier(mask) => self
                .records_of(person)
                .any(|r| r.fact.barriers.iter().any(|b| mask & (1 << *b as u8) != 0)),
            Cond::Milestone(filter) => self.world.milestones.iter().any(|m| {
                mine(m.participant_row)
                    && (lo..=hi).contains(&m.day)
                    && self.matches(filter, &m.milestone)
                    && self.counts_at(m.participant_row, metric, inside)
            }),
            Cond::ElementsWithMilestone(op, n) => {
                let elements: BTreeSet<String> = self
                    .world
                    .milestones
                    .iter()
                    .filter(|m| {
                        mine(m.participant_row)
                            && (lo..=hi).contains(&m.day)
                            && self.counts_at(m.participant_row, metric, inside)
                    })
                    .filter_map(|m| self.framework.element_of_milestone(&m.milestone).map(|e| e.id.clone()))
                    .collect();
                op.holds(elements.len() as f64, *n)
            }
            Cond::AssessmentGain(instrument, op, n) | Cond::AssessmentScore(instrument, op, n) => {
                let mut scores: Vec<(i32, f64)> = self
                    .world
                    .assessments
                    .iter()
                    .filter(|a| {
                        mine(a.participant_row)
                            && &a.instrument == instrument
                            && (lo..=hi).contains(&a.day)
                            && self.counts_at(a.participant_row, metric, inside)
                    })
                    .map(|a| (a.day, a.score))
                    .collect();
                scores.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
                match (cond, scores.first(), scores.last()) {
                    (Cond::AssessmentGain(..), Some(f), Some(l)) => scores.len() >= 2 && op.holds(l.1 - f.1, *n),
                    (Cond::AssessmentScore(..), _, Some(l)) => op.holds(l.1, *n),
                    _ => false,
                }
            }
            Cond::Exited => {
                let (first, last) = (self.year.first_day().day_number(), self.year.last_day().day_number());
                let days: BTreeSet<i32> = self
                    .world
                    .activities
                    .iter()
                    .filter(|a| {
                        mine(a.participant_row)
                            && inside[self.world.records[self.record_of_row[&a.participant_row]].org]
                    })
                    .map(|a| a.day)
                    .collect();
                days.iter().any(|&d| {
                    (first..=last).contains(&d) && d + 90 < self.latest && !days.iter().any(|&x| x > d && x <= d + 90)
                })
            }
        }
    }

    fn group(&self, dim: Dimension, person: &str, at: &AtScope) -> Vec<String> {
        let first_with = |get: &dyn Fn(&ParticipantFact) -> Option<String>| {
            self.records_of(person)
                .find_map(|r| get(&r.fact))
                .unwrap_or_else(|| "unknown".into())
        };
        match dim {
            Dimension::Gender => vec![first_with(&|f| f.gender.map(|g| g.to_string()))],
            Dimension::RaceEthnicity => vec![first_with(&|f| f.race_ethnicity.map(|g| g.to_string()))],
            Dimension::PrimaryLanguage => vec![first_with(&|f| f.primary_language.clone())],
            // A country no region lists (ZZ) says nothing: the next record may.
            Dimension::RegionOfBirth => vec![first_with(&|f| {
                f.country_of_birth
                    .as_ref()
                    .map(|c| groups::region_of_birth(Some(c)).to_owned())
                    .filter(|r| r != "unknown")
            })],
            Dimension::AgeGroup => {
                let year = self.records_of(person).find_map(|r| r.fact.birth_year);
                vec![groups::age_group(year, self.year).to_owned()]
            }
            Dimension::YearsInUs => {
                let year = self.records_of(person).find_map(|r| r.fact.us_arrival_year);
                vec![groups::years_in_us(year, self.year).to_owned()]
            }
            Dimension::ProgramArea => at.programs.iter().map(|p| p.to_string()).collect(),
            Dimension::Sector => at.sectors.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// (numerator, denominator, median) for one scope, metric and group (`all` = any).
    fn figure(&self, scope: &str, metric: &Metric, groups: &[(Dimension, String)]) -> (u64, Option<u64>, Option<f64>) {
        let inside = self.scope_orgs(scope);
        let people = self.people_at(&inside);
        let (mut num, mut den, mut days) = (0u64, 0u64, Vec::new());
        for (person, at) in &people {
            let in_group = groups
                .iter()
                .all(|(dim, value)| value == "all" || self.group(*dim, person, at).contains(value));
            if !in_group || !self.holds(&metric.population, metric, person, at, &inside) {
                continue;
            }
            den += 1;
            if !self.holds(&metric.outcome, metric, person, at, &inside) {
                continue;
            }
            if let (Kind::MedianDays, Cond::Milestone(filter)) = (metric.kind, &metric.outcome) {
                let first_day = at.first_day.expect("served");
                let (lo, hi) = self.window(metric.window, first_day);
                let best = self
                    .world
                    .milestones
                    .iter()
                    .filter(|m| {
                        self.world.records[self.record_of_row[&m.participant_row]].key == *person
                            && m.day >= first_day
                            && (lo..=hi).contains(&m.day)
                            && self.matches(filter, &m.milestone)
                            && self.counts_at(m.participant_row, metric, &inside)
                    })
                    .map(|m| m.day - first_day)
                    .min();
                if let Some(d) = best {
                    days.push(d);
                    num += 1;
                }
            } else {
                num += 1;
            }
        }
        days.sort_unstable();
        let median = (!days.is_empty()).then(|| {
            let mid = days.len() / 2;
            if days.len() % 2 == 1 {
                f64::from(days[mid])
            } else {
                (f64::from(days[mid - 1]) + f64::from(days[mid])) / 2.0
            }
        });
        match metric.kind {
            Kind::Count => (num, None, None),
            Kind::Rate => (num, Some(den), None),
            Kind::MedianDays => (num, None, median),
        }
    }
}

fn check(seed: u64, by: Vec<Dimension>) {
    let framework = Framework::builtin().expect("framework");
    let world = world(seed, &framework);
    let snapshot = snapshot(&world, &framework);
    let mut set = MetricSet::builtin(&framework).expect("metrics");
    for metric in &mut set.metrics {
        metric.threshold = 1;
    }
    let year = ProgramYear::starting(2024);
    let query = Query { year, by: by.clone() };
    let report = iip_metrics::report(&snapshot, &framework.version, &set, &query, None).expect("report");
    let reference = Reference::new(&world, &framework, year);
    let mut totals = 0;
    for row in &report.rows {
        assert!(!row.suppressed, "threshold 1 suppresses nothing: {row:?}");
        let metric = set.get(&row.metric).expect("metric");
        let groups: Vec<(Dimension, String)> = row
            .groups
            .0
            .iter()
            .map(|(d, g)| (Dimension::parse(d).expect("dimension"), g.clone()))
            .collect();
        totals += usize::from(row.groups.is_total());
        let (num, den, value) = reference.figure(&row.scope_id, metric, &groups);
        assert_eq!(
            (row.numerator, row.denominator),
            (Some(num), den),
            "seed {seed} by {by:?}: {} {} {:?}",
            row.scope_id,
            row.metric,
            row.groups
        );
        match (row.value, value) {
            (Some(got), Some(want)) => assert!((got - want).abs() < 1e-9, "seed {seed}: median {got} vs {want}"),
            (got, want) => assert_eq!(got.is_some(), want.is_some(), "seed {seed}: {row:?}"),
        }
    }
    // Every scope has every metric's total row.
    let scopes: BTreeSet<&str> = report.rows.iter().map(|r| r.scope_id.as_str()).collect();
    assert_eq!(totals, scopes.len() * set.metrics.len(), "seed {seed}");
    assert!(scopes.len() >= world.orgs.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn totals_equal_the_reference(seed in any::<u64>()) {
        check(seed, vec![]);
    }

    #[test]
    fn breakdowns_equal_the_reference(seed in any::<u64>(), a in 0usize..8, b in 0usize..8) {
        let first = Dimension::ALL[a];
        let second = Dimension::ALL[b];
        let by = if a == b { vec![first] } else { vec![first, second] };
        check(seed, by);
    }
}
