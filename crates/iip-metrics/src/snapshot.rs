//! The engine's in-memory, columnar snapshot of a store.
//!
//! Built by streaming every fact through [`FactSink`] and kept current the same way: applying
//! one more milestone or activity is a few vector pushes, never a rebuild. Persons are dense
//! `u32` ids (so sets of persons are roaring bitmaps); organizations, milestones and instruments
//! are interned. Identifying fields never enter: the store hands over the birth *year* only.
//!
//! Per program year the snapshot keeps one materialized aggregate per participant record
//! (hours, programs, first day), updated in place when an activity arrives; everything else
//! is computed per query.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use iip_domain::facts::{ActivityFact, AssessmentFact, FactSink, MilestoneFact, OrgNode, ParticipantFact};
use iip_domain::{Level, ProgramYear, Sector, groups};
use iip_framework::Framework;

use crate::cache::EngineCache;
use crate::engine;

pub(crate) const NO_DAY: i32 = i32::MAX;

#[derive(Debug, Clone)]
pub(crate) struct Org {
    pub id: String,
    pub name: String,
    pub sector: Sector,
    pub level: Level,
    pub parent_id: Option<String>,
    /// Resolved from `parent_id` whenever organizations change.
    pub parent: Option<u32>,
    pub children: Vec<u32>,
    pub records: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Act {
    pub day: i32,
    pub program: u8,
    pub hundredths: u32,
}

/// The attributes breakdowns read, coded small.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Attrs {
    pub gender: Option<u8>,
    pub race: Option<u8>,
    pub region: Option<u8>,
    pub language: Option<u16>,
    pub arrival_year: Option<i32>,
    pub birth_year: Option<i32>,
    pub barriers: u8,
}

#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub org: u32,
    pub person: u32,
    pub attrs: Attrs,
    pub activities: Vec<Act>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Ms {
    pub day: i32,
    pub milestone: u16,
    pub element: u8,
    pub record: u32,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Asmt {
    pub day: i32,
    pub instrument: u16,
    pub score: f64,
    pub record: u32,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Person {
    pub records: Vec<u32>,
    pub milestones: Vec<Ms>,
    pub assessments: Vec<Asmt>,
}

/// Per participant record, its totals for one program year (dense, indexed by record).
#[derive(Debug, Clone, Default)]
pub(crate) struct YearAgg {
    pub hundredths: Vec<u32>,
    pub programs: Vec<u16>,
    pub first_day: Vec<i32>,
}

impl YearAgg {
    fn grow(&mut self, len: usize) {
        if self.first_day.len() < len {
            self.hundredths.resize(len, 0);
            self.programs.resize(len, 0);
            self.first_day.resize(len, NO_DAY);
        }
    }

    fn add(&mut self, record: usize, act: Act) {
        self.grow(record + 1);
        self.hundredths[record] = self.hundredths[record].saturating_add(act.hundredths);
        self.programs[record] |= 1 << act.program;
        self.first_day[record] = self.first_day[record].min(act.day);
    }
}

/// What the snapshot could not place (facts naming unknown rows). Counted, never fatal: the
/// store's own constraints make these impossible, so a non-zero count points at a bug.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Orphans {
    pub records: u64,
    pub facts: u64,
}

#[derive(Debug, Default)]
pub struct Snapshot {
    pub(crate) orgs: Vec<Org>,
    pub(crate) org_index: HashMap<String, u32>,
    pub(crate) records: Vec<Record>,
    record_index: HashMap<i64, u32>,
    pub(crate) persons: Vec<Person>,
    person_index: HashMap<String, u32>,
    /// Element ids in framework order; milestones carry the index.
    pub(crate) elements: Vec<String>,
    pub(crate) milestones: Vec<String>,
    milestone_index: HashMap<String, (u16, u8)>,
    pub(crate) instruments: Vec<String>,
    instrument_index: HashMap<String, u16>,
    pub(crate) languages: Vec<String>,
    language_index: HashMap<String, u16>,
    /// The latest activity day seen: "today" for the data, which decides who has exited.
    pub(crate) latest_day: Option<i32>,
    pub orphans: Orphans,
    pub(crate) activity_count: u64,
    pub(crate) cache: Mutex<EngineCache>,
}

impl Snapshot {
    pub fn new(framework: &Framework) -> Self {
        let mut snapshot = Snapshot::default();
        for (e, element) in framework.elements.iter().enumerate() {
            snapshot.elements.push(element.id.clone());
            for milestone in &element.milestones {
                let index = snapshot.milestones.len() as u16;
                snapshot.milestones.push(milestone.id.clone());
                snapshot.milestone_index.insert(milestone.id.clone(), (index, e as u8));
            }
        }
        snapshot
    }

    pub fn persons(&self) -> usize {
        self.persons.len()
    }

    pub fn records(&self) -> usize {
        self.records.len()
    }

    pub fn activities(&self) -> u64 {
        self.activity_count
    }

    pub(crate) fn milestone_element(&self, milestone: &str) -> Option<(u16, u8)> {
        self.milestone_index.get(milestone).copied()
    }

    pub(crate) fn instrument(&self, name: &str) -> Option<u16> {
        self.instrument_index.get(name).copied()
    }

    pub(crate) fn element_index(&self, element: &str) -> Option<u8> {
        self.elements.iter().position(|e| e == element).map(|i| i as u8)
    }

    /// The per-record totals of a program year (the engine's cache keeps them current).
    pub(crate) fn year_totals(&self, year: ProgramYear) -> YearAgg {
        let (first, last) = (year.first_day().day_number(), year.last_day().day_number());
        let mut agg = YearAgg::default();
        agg.grow(self.records.len());
        for (r, record) in self.records.iter().enumerate() {
            for act in &record.activities {
                if (first..=last).contains(&act.day) {
                    agg.add(r, *act);
                }
            }
        }
        agg
    }

    /// Runs `update` on the engine's cache with the snapshot readable beside it.
    fn with_cache(&mut self, update: impl FnOnce(&Snapshot, &mut EngineCache)) {
        let mut cache = std::mem::take(self.cache.get_mut().unwrap_or_else(PoisonError::into_inner));
        update(self, &mut cache);
        *self.cache.get_mut().unwrap_or_else(PoisonError::into_inner) = cache;
    }

    /// A milestone or assessment arrived for `person`.
    fn outcome_changed(&mut self, person: u32) {
        if self
            .cache
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .years
            .is_empty()
        {
            return; // nothing computed yet (the snapshot is being built)
        }
        self.recheck_person(person);
        self.cache
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .drop_scope_outcomes();
    }

    /// Re-tests one person in every scope-independent cached set.
    fn recheck_person(&mut self, person: u32) {
        self.with_cache(|snapshot, cache| {
            for (start, year) in cache.years.iter_mut() {
                let program_year = ProgramYear::starting(*start);
                for cached in year.global.values_mut() {
                    if engine::recheck(snapshot, program_year, cached, person) {
                        cached.set.insert(person);
                    } else {
                        cached.set.remove(person);
                    }
                }
            }
        });
    }

    /// Children lists and parent indices, recomputed whenever the organization set changes.
    fn resolve_parents(&mut self) {
        for org in &mut self.orgs {
            org.children.clear();
        }
        for i in 0..self.orgs.len() {
            let parent = self.orgs[i]
                .parent_id
                .as_deref()
                .and_then(|p| self.org_index.get(p).copied())
                .filter(|&p| p as usize != i);
            self.orgs[i].parent = parent;
        }
        // A cycle (which the importer refuses) would make scopes infinite: cut it at the
        // first organization found on it.
        for start in 0..self.orgs.len() {
            let mut seen = vec![start as u32];
            let mut current = start;
            while let Some(parent) = self.orgs[current].parent {
                if seen.contains(&parent) {
                    self.orgs[current].parent = None;
                    break;
                }
                seen.push(parent);
                current = parent as usize;
            }
        }
        for i in 0..self.orgs.len() {
            if let Some(parent) = self.orgs[i].parent {
                self.orgs[parent as usize].children.push(i as u32);
            }
        }
    }

    fn person_for(&mut self, participant: &ParticipantFact) -> u32 {
        let key = match &participant.person_key {
            Some(key) => format!("k\u{1f}{key}"),
            None => format!("l\u{1f}{}\u{1f}{}", participant.org_id, participant.participant_id),
        };
        let next = self.persons.len() as u32;
        let person = *self.person_index.entry(key).or_insert(next);
        if person == next {
            self.persons.push(Person::default());
        }
        person
    }

    fn attrs(&mut self, p: &ParticipantFact) -> Attrs {
        let language = p.primary_language.as_ref().map(|l| {
            let next = self.languages.len() as u16;
            *self.language_index.entry(l.clone()).or_insert_with(|| {
                self.languages.push(l.clone());
                next
            })
        });
        let region = groups::region_of_birth(p.country_of_birth.as_deref());
        Attrs {
            gender: p.gender.map(|g| g as u8),
            race: p.race_ethnicity.map(|r| r as u8),
            region: groups::REGIONS.iter().position(|r| *r == region).map(|r| r as u8),
            language,
            arrival_year: p.us_arrival_year,
            birth_year: p.birth_year,
            barriers: p.barriers.iter().fold(0, |mask, b| mask | (1 << *b as u8)),
        }
    }

    fn add_activity_to(&mut self, record: u32, act: Act) {
        self.records[record as usize].activities.push(act);
        self.activity_count += 1;
        let latest = self.latest_day.map_or(act.day, |d| d.max(act.day));
        let moved = self.latest_day != Some(latest);
        self.latest_day = Some(latest);
        let org = self.records[record as usize].org;
        self.with_cache(|snapshot, cache| {
            if moved {
                cache.drop_exits();
            }
            for (start, year) in cache.years.iter_mut() {
                let program_year = ProgramYear::starting(*start);
                let days = program_year.first_day().day_number()..=program_year.last_day().day_number();
                if !days.contains(&act.day) {
                    continue;
                }
                year.agg.add(record as usize, act);
                let Some(scopes) = year.scopes.as_mut() else { continue };
                let row = engine::activity_row(snapshot, record, act.day, act.program, act.hundredths);
                for s in 0..scopes.defs.len() {
                    if !scopes.members[s].get(org as usize).copied().unwrap_or(false) {
                        continue;
                    }
                    let updated = engine::add_row(&mut scopes.lists[s], row);
                    scopes.served[s].insert(row.person);
                    // Only this person's row changed: re-test them in the scope's sets.
                    for cached in scopes.sets[s].values_mut() {
                        if engine::recheck_in_scope(snapshot, program_year, cached, &updated, &scopes.members[s]) {
                            cached.set.insert(row.person);
                        } else {
                            cached.set.remove(row.person);
                        }
                    }
                }
            }
        });
    }
}

impl FactSink for Snapshot {
    fn organization(&mut self, org: OrgNode) {
        match self.org_index.get(&org.org_id) {
            Some(&i) => {
                let existing = &mut self.orgs[i as usize];
                existing.name = org.name;
                existing.sector = org.sector;
                existing.level = org.level;
                existing.parent_id = org.parent_id;
            }
            None => {
                self.org_index.insert(org.org_id.clone(), self.orgs.len() as u32);
                self.orgs.push(Org {
                    id: org.org_id,
                    name: org.name,
                    sector: org.sector,
                    level: org.level,
                    parent_id: org.parent_id,
                    parent: None,
                    children: Vec::new(),
                    records: Vec::new(),
                });
            }
        }
        self.resolve_parents();
        self.cache.get_mut().unwrap_or_else(PoisonError::into_inner).clear();
    }

    fn participant(&mut self, participant: ParticipantFact) {
        let Some(&org) = self.org_index.get(&participant.org_id) else {
            self.orphans.records += 1;
            return;
        };
        let person = self.person_for(&participant);
        let attrs = self.attrs(&participant);
        if let Some(&r) = self.record_index.get(&participant.row) {
            // An update: attributes change, and the record may now belong to another person
            // (a person_key added by linkage), taking its outcomes along.
            let record = &mut self.records[r as usize];
            record.attrs = attrs;
            let old = record.person;
            if old != person {
                record.person = person;
                let from = std::mem::take(&mut self.persons[old as usize]);
                let (mine, theirs): (Vec<Ms>, Vec<Ms>) = from.milestones.into_iter().partition(|m| m.record == r);
                let (mine_a, theirs_a): (Vec<Asmt>, Vec<Asmt>) =
                    from.assessments.into_iter().partition(|a| a.record == r);
                self.persons[old as usize] = Person {
                    records: from.records.into_iter().filter(|&x| x != r).collect(),
                    milestones: theirs,
                    assessments: theirs_a,
                };
                let to = &mut self.persons[person as usize];
                to.records.push(r);
                to.milestones.extend(mine);
                to.assessments.extend(mine_a);
                // Two people's figures changed everywhere: start the cache afresh.
                self.cache.get_mut().unwrap_or_else(PoisonError::into_inner).clear();
            } else {
                self.recheck_person(person);
            }
            return;
        }
        let r = self.records.len() as u32;
        self.record_index.insert(participant.row, r);
        self.records.push(Record {
            org,
            person,
            attrs,
            activities: Vec::new(),
        });
        self.orgs[org as usize].records.push(r);
        self.persons[person as usize].records.push(r);
        self.recheck_person(person);
    }

    fn activity(&mut self, activity: ActivityFact) {
        let Some(&r) = self.record_index.get(&activity.participant_row) else {
            self.orphans.facts += 1;
            return;
        };
        let act = Act {
            day: activity.day,
            program: activity.program as u8,
            hundredths: activity.hundredths,
        };
        self.add_activity_to(r, act);
    }

    fn milestone(&mut self, milestone: MilestoneFact) {
        let (Some(&r), Some((index, element))) = (
            self.record_index.get(&milestone.participant_row),
            self.milestone_index.get(&milestone.milestone).copied(),
        ) else {
            self.orphans.facts += 1;
            return;
        };
        let person = self.records[r as usize].person;
        self.persons[person as usize].milestones.push(Ms {
            day: milestone.day,
            milestone: index,
            element,
            record: r,
        });
        self.outcome_changed(person);
    }

    fn assessment(&mut self, assessment: AssessmentFact) {
        let Some(&r) = self.record_index.get(&assessment.participant_row) else {
            self.orphans.facts += 1;
            return;
        };
        let next = self.instruments.len() as u16;
        let instrument = *self
            .instrument_index
            .entry(assessment.instrument.clone())
            .or_insert_with(|| {
                self.instruments.push(assessment.instrument);
                next
            });
        let person = self.records[r as usize].person;
        self.persons[person as usize].assessments.push(Asmt {
            day: assessment.day,
            instrument,
            score: assessment.score,
            record: r,
        });
        self.outcome_changed(person);
    }
}

impl Clone for Snapshot {
    fn clone(&self) -> Self {
        Snapshot {
            orgs: self.orgs.clone(),
            org_index: self.org_index.clone(),
            records: self.records.clone(),
            record_index: self.record_index.clone(),
            persons: self.persons.clone(),
            person_index: self.person_index.clone(),
            elements: self.elements.clone(),
            milestones: self.milestones.clone(),
            milestone_index: self.milestone_index.clone(),
            instruments: self.instruments.clone(),
            instrument_index: self.instrument_index.clone(),
            languages: self.languages.clone(),
            language_index: self.language_index.clone(),
            latest_day: self.latest_day,
            orphans: self.orphans,
            activity_count: self.activity_count,
            cache: Mutex::new(EngineCache::default()),
        }
    }
}
