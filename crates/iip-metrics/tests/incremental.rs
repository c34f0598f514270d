//! The snapshot kept current fact by fact gives exactly the figures of a snapshot built from
//! scratch: facts applied after queries have warmed every cache (year totals, scope lists,
//! evaluated sets) must update them, never leave them stale.

use iip_domain::facts::{ActivityFact, AssessmentFact, FactSink, MilestoneFact, OrgNode, ParticipantFact};
use iip_domain::{Barrier, Gender, Level, Program, ProgramYear, Sector};
use iip_framework::Framework;
use iip_metrics::{Dimension, MetricSet, Query, Report, Snapshot};

#[derive(Clone)]
enum Fact {
    Org(OrgNode),
    Participant(ParticipantFact),
    Activity(ActivityFact),
    Milestone(MilestoneFact),
    Assessment(AssessmentFact),
}

fn apply(snapshot: &mut Snapshot, fact: &Fact) {
    match fact.clone() {
        Fact::Org(o) => snapshot.organization(o),
        Fact::Participant(p) => snapshot.participant(p),
        Fact::Activity(a) => snapshot.activity(a),
        Fact::Milestone(m) => snapshot.milestone(m),
        Fact::Assessment(a) => snapshot.assessment(a),
    }
}

/// A small deterministic world: a region with two members and a partner, 60 records.
fn world() -> (Vec<Fact>, Vec<Fact>) {
    let org = |id: &str, sector, level, parent: Option<&str>| {
        Fact::Org(OrgNode {
            org_id: id.into(),
            name: id.into(),
            sector,
            level,
            parent_id: parent.map(String::from),
        })
    };
    let mut base = vec![
        org("region", Sector::Public, Level::Region, None),
        org("school", Sector::Education, Level::Local, Some("region")),
        org("college", Sector::Education, Level::County, Some("region")),
        org("partner", Sector::Nonprofit, Level::City, Some("region")),
    ];
    let orgs = ["school", "college", "partner"];
    let milestones = [
        "english.efl_gain",
        "civic.voter_registered",
        "economic.employed",
        "health.insurance_enrolled",
        "navigation.accessed_benefit",
        "social.mentor_matched",
    ];
    let mut seed: u64 = 7;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let first = ProgramYear::starting(2024).first_day().day_number();
    let mut later = Vec::new();
    for row in 1..=60i64 {
        let key = (row % 4 == 0).then(|| format!("K{}", row / 8));
        base.push(Fact::Participant(ParticipantFact {
            row,
            org_id: orgs[(row % 3) as usize].into(),
            participant_id: format!("p{row}"),
            person_key: key,
            gender: [Some(Gender::Female), Some(Gender::Male), None][next(3) as usize],
            race_ethnicity: None,
            country_of_birth: Some(["MX", "VN", "AF", "UA"][next(4) as usize].into()),
            primary_language: Some(["es", "vi", "ps"][next(3) as usize].into()),
            us_arrival_year: Some(2010 + next(15) as i32),
            birth_year: Some(1960 + next(45) as i32),
            barriers: if next(2) == 0 {
                vec![Barrier::EnglishLearner]
            } else {
                vec![]
            },
        }));
        for _ in 0..(1 + next(4)) {
            let fact = Fact::Activity(ActivityFact {
                participant_row: row,
                day: first - 30 + next(420) as i32,
                program: [Program::Esl, Program::Cte, Program::Citizenship][next(3) as usize],
                hundredths: 200 + next(900) as u32,
            });
            if next(2) == 0 {
                base.push(fact)
            } else {
                later.push(fact)
            }
        }
        if next(2) == 0 {
            let fact = Fact::Milestone(MilestoneFact {
                participant_row: row,
                day: first + next(380) as i32,
                milestone: milestones[next(milestones.len() as u64) as usize].into(),
            });
            if next(2) == 0 {
                base.push(fact)
            } else {
                later.push(fact)
            }
        }
        if next(3) == 0 {
            for _ in 0..2 {
                later.push(Fact::Assessment(AssessmentFact {
                    participant_row: row,
                    day: first + next(360) as i32,
                    instrument: "casas_reading".into(),
                    score: 200.0 + next(20) as f64,
                }));
            }
        }
    }
    // A record that arrives late, with its activity; and a record that gains a person_key
    // joining it to another person (its outcomes move with it).
    later.push(Fact::Participant(ParticipantFact {
        row: 61,
        org_id: "partner".into(),
        participant_id: "late".into(),
        person_key: None,
        gender: Some(Gender::Female),
        race_ethnicity: None,
        country_of_birth: None,
        primary_language: None,
        us_arrival_year: None,
        birth_year: None,
        barriers: vec![Barrier::LowIncome],
    }));
    later.push(Fact::Activity(ActivityFact {
        participant_row: 61,
        day: first + 40,
        program: Program::Esl,
        hundredths: 1500,
    }));
    (base, later)
}

fn reports(snapshot: &Snapshot, framework: &Framework) -> Vec<Report> {
    let mut set = MetricSet::builtin(framework).expect("metrics");
    for metric in &mut set.metrics {
        metric.threshold = 1; // every figure visible
    }
    let year = ProgramYear::starting(2024);
    [
        vec![],
        vec![Dimension::Gender],
        vec![Dimension::ProgramArea, Dimension::AgeGroup],
    ]
    .into_iter()
    .map(|by| iip_metrics::report(snapshot, &framework.version, &set, &Query { year, by }, None).expect("report"))
    .collect()
}

#[test]
fn facts_applied_after_queries_give_the_figures_of_a_fresh_snapshot() {
    let framework = Framework::builtin().expect("framework");
    let (base, later) = world();

    let mut fresh = Snapshot::new(&framework);
    for fact in base.iter().chain(&later) {
        apply(&mut fresh, fact);
    }
    let expected = reports(&fresh, &framework);

    let mut live = Snapshot::new(&framework);
    for fact in &base {
        apply(&mut live, fact);
    }
    let before = reports(&live, &framework); // warms every cache
    for fact in &later {
        apply(&mut live, fact);
        // Query between facts too, so caches are warm at every step.
        let _ = reports(&live, &framework);
    }
    let after = reports(&live, &framework);
    assert_ne!(before[0], after[0], "the later facts change the figures");
    for (got, want) in after.iter().zip(&expected) {
        for (g, w) in got.rows.iter().zip(&want.rows) {
            assert_eq!(g, w);
        }
        assert_eq!(got.rows.len(), want.rows.len());
    }
}

#[test]
fn a_person_key_joining_two_records_moves_their_outcomes() {
    let framework = Framework::builtin().expect("framework");
    let (base, later) = world();
    let all: Vec<Fact> = base.iter().chain(&later).cloned().collect();
    let relink = |row: i64| {
        all.iter()
            .find_map(|f| match f {
                Fact::Participant(p) if p.row == row => Some(p.clone()),
                _ => None,
            })
            .expect("record")
    };
    let mut joined = relink(5);
    joined.person_key = Some("K1".into()); // row 8 carries K1

    let mut live = Snapshot::new(&framework);
    for fact in &all {
        apply(&mut live, fact);
    }
    let _ = reports(&live, &framework);
    live.participant(joined.clone());
    let got = reports(&live, &framework);

    let mut fresh = Snapshot::new(&framework);
    for fact in &all {
        match fact {
            Fact::Participant(p) if p.row == 5 => fresh.participant(joined.clone()),
            other => apply(&mut fresh, other),
        }
    }
    assert_eq!(got, reports(&fresh, &framework));
}
