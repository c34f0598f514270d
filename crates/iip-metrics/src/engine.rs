//! Computes a metric set over a [`Snapshot`] for every scope: the organization hierarchy and
//! the roll-ups by sector and by level, optionally broken down by one or two dimensions.
//!
//! Per scope the engine builds one sorted list of the people active there in the year (their
//! hours, programs, sectors and first day, summed across every record inside the scope), by
//! merging the lists of the scope's children; conditions then become roaring bitmaps of
//! persons, and every figure is a set size. Outcomes that do not depend on the scope (the
//! common case: a program-year window, recorded anywhere) are computed once per query.

use std::collections::HashMap;

use iip_domain::{Gender, Level, Program, ProgramYear, RaceEthnicity, Sector, groups};
use roaring::RoaringBitmap;

use crate::cache::{CachedSet, ScopeCache};
use crate::definition::{Attribution, Cond, Kind, Metric, MetricSet, MilestoneFilter, Window};
use crate::snapshot::{NO_DAY, Snapshot, YearAgg};
use crate::suppression::{ALL, Cell, Equations};

/// Days without activity after which a person has left (CAEP's period of participation).
pub const EXIT_AFTER_DAYS: i32 = 90;

/// What a report can be broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Gender,
    AgeGroup,
    RaceEthnicity,
    PrimaryLanguage,
    RegionOfBirth,
    YearsInUs,
    ProgramArea,
    Sector,
}

impl Dimension {
    pub const ALL: &[Dimension] = &[
        Dimension::Gender,
        Dimension::AgeGroup,
        Dimension::RaceEthnicity,
        Dimension::PrimaryLanguage,
        Dimension::RegionOfBirth,
        Dimension::YearsInUs,
        Dimension::ProgramArea,
        Dimension::Sector,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Gender => "gender",
            Dimension::AgeGroup => "age_group",
            Dimension::RaceEthnicity => "race_ethnicity",
            Dimension::PrimaryLanguage => "primary_language",
            Dimension::RegionOfBirth => "region_of_birth",
            Dimension::YearsInUs => "years_in_us",
            Dimension::ProgramArea => "program_area",
            Dimension::Sector => "sector",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL.iter().copied().find(|d| d.as_str() == raw).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|d| d.as_str()).collect();
            format!("{raw:?} is not a breakdown; choose from: {}", names.join(", "))
        })
    }

    /// Whether every person falls in exactly one group, so that groups add up to the total.
    /// A person counts in every program area and sector they had activity in.
    pub fn is_partition(self) -> bool {
        !matches!(self, Dimension::ProgramArea | Dimension::Sector)
    }
}

/// A report request. Suppression is always decided over every scope, so asking for one
/// scope shows the same cells, masked the same way, as the full report.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub year: ProgramYear,
    pub by: Vec<Dimension>,
}

/// A scope: an organization and everything below it, or a roll-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScopeDef {
    Org(u32),
    /// Every organization of a sector (each with its own records only).
    Sector(Sector),
    /// Every organization of a level, with everything below it.
    Level(Level),
}

/// One person's totals within one scope and year.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub person: u32,
    pub hundredths: u32,
    pub programs: u16,
    pub sectors: u8,
    pub first_day: i32,
}

fn combine(into: &mut Row, other: &Row) {
    into.hundredths = into.hundredths.saturating_add(other.hundredths);
    into.programs |= other.programs;
    into.sectors |= other.sectors;
    into.first_day = into.first_day.min(other.first_day);
}

/// Appends in increasing order (the fast path), inserting if the order is ever broken.
fn push(set: &mut RoaringBitmap, person: u32) {
    if set.try_push(person).is_err() {
        set.insert(person);
    }
}

fn merge(a: &[Row], b: &[Row]) -> Vec<Row> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].person.cmp(&b[j].person) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let mut row = a[i];
                combine(&mut row, &b[j]);
                out.push(row);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Merges sorted lists pairwise (O(n log k)), keeping persons unique.
fn merge_all(mut lists: Vec<Vec<Row>>) -> Vec<Row> {
    while lists.len() > 1 {
        let mut next = Vec::with_capacity(lists.len().div_ceil(2));
        let mut iter = lists.into_iter();
        while let Some(a) = iter.next() {
            match iter.next() {
                Some(b) => next.push(merge(&a, &b)),
                None => next.push(a),
            }
        }
        lists = next;
    }
    lists.pop().unwrap_or_default()
}

fn own_rows(snapshot: &Snapshot, agg: &YearAgg, org: u32) -> Vec<Row> {
    let o = &snapshot.orgs[org as usize];
    let sector = 1u8 << o.sector as u8;
    let mut rows: Vec<Row> = o
        .records
        .iter()
        .filter_map(|&r| {
            let r = r as usize;
            let first_day = agg.first_day.get(r).copied().unwrap_or(NO_DAY);
            (first_day != NO_DAY).then(|| Row {
                person: snapshot.records[r].person,
                hundredths: agg.hundredths[r],
                programs: agg.programs[r],
                sectors: sector,
                first_day,
            })
        })
        .collect();
    rows.sort_unstable_by_key(|r| r.person);
    rows.dedup_by(|later, kept| {
        if later.person == kept.person {
            combine(kept, later);
            true
        } else {
            false
        }
    });
    rows
}

/// Scope ids and definitions in output order: organizations by id, then roll-ups.
pub(crate) fn scope_defs(snapshot: &Snapshot) -> Vec<(String, ScopeDef)> {
    let mut scopes: Vec<(String, ScopeDef)> = snapshot
        .orgs
        .iter()
        .enumerate()
        .map(|(i, o)| (o.id.clone(), ScopeDef::Org(i as u32)))
        .collect();
    scopes.sort_by(|a, b| a.0.cmp(&b.0));
    for sector in Sector::ALL {
        if snapshot.orgs.iter().any(|o| o.sector == *sector) {
            scopes.push((format!("sector:{sector}"), ScopeDef::Sector(*sector)));
        }
    }
    for level in Level::ALL {
        if snapshot.orgs.iter().any(|o| o.level == *level) {
            scopes.push((format!("level:{level}"), ScopeDef::Level(*level)));
        }
    }
    scopes
}

/// The values of a breakdown, in output order; the last is `unknown` for partitions.
pub(crate) fn dimension_values(snapshot: &Snapshot, dim: Dimension) -> Vec<String> {
    let owned = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut values = match dim {
        Dimension::Gender => Gender::ALL.iter().map(|g| g.to_string()).collect(),
        Dimension::AgeGroup => owned(groups::AGE_GROUPS),
        Dimension::RaceEthnicity => RaceEthnicity::ALL.iter().map(|g| g.to_string()).collect(),
        Dimension::PrimaryLanguage => {
            let mut languages = snapshot.languages.clone();
            languages.sort();
            languages
        }
        Dimension::RegionOfBirth => owned(groups::REGIONS),
        Dimension::YearsInUs => owned(groups::YEARS_IN_US_GROUPS),
        Dimension::ProgramArea => return Program::ALL.iter().map(|p| p.to_string()).collect(),
        Dimension::Sector => return Sector::ALL.iter().map(|s| s.to_string()).collect(),
    };
    values.push(groups::UNKNOWN.to_owned());
    values
}

/// Person-level breakdown groups: one bitmap per value, each person in exactly one.
fn person_groups(snapshot: &Snapshot, dim: Dimension, year: ProgramYear, values: &[String]) -> Vec<RoaringBitmap> {
    let unknown = values.len() - 1;
    let language_slot: Vec<usize> = snapshot
        .languages
        .iter()
        .map(|l| values.iter().position(|v| v == l).unwrap_or(unknown))
        .collect();
    let mut sets = vec![RoaringBitmap::new(); values.len()];
    for (p, person) in snapshot.persons.iter().enumerate() {
        // The first record that knows the attribute speaks for the person.
        let attr = |get: &dyn Fn(&crate::snapshot::Attrs) -> Option<usize>| {
            person
                .records
                .iter()
                .find_map(|&r| get(&snapshot.records[r as usize].attrs))
        };
        let slot = match dim {
            Dimension::Gender => attr(&|a| a.gender.map(usize::from)),
            Dimension::RaceEthnicity => attr(&|a| a.race.map(usize::from)),
            Dimension::RegionOfBirth => attr(&|a| a.region.map(usize::from)),
            Dimension::PrimaryLanguage => attr(&|a| a.language.map(|l| language_slot[l as usize])),
            Dimension::AgeGroup => {
                let group = groups::age_group(attr(&|a| a.birth_year.map(|y| y as usize)).map(|y| y as i32), year);
                values.iter().position(|v| v == group)
            }
            Dimension::YearsInUs => {
                let group = groups::years_in_us(attr(&|a| a.arrival_year.map(|y| y as usize)).map(|y| y as i32), year);
                values.iter().position(|v| v == group)
            }
            Dimension::ProgramArea | Dimension::Sector => None,
        };
        push(&mut sets[slot.unwrap_or(unknown)], p as u32);
    }
    sets
}

/// Scope-level breakdown groups from the scope's rows (a person may be in several).
fn scope_groups(rows: &[Row], dim: Dimension) -> Vec<RoaringBitmap> {
    let (count, mask_of): (usize, fn(&Row) -> u16) = match dim {
        Dimension::ProgramArea => (Program::ALL.len(), |r| r.programs),
        _ => (Sector::ALL.len(), |r| u16::from(r.sectors)),
    };
    let mut sets = vec![RoaringBitmap::new(); count];
    for row in rows {
        let mask = mask_of(row);
        for (bit, set) in sets.iter_mut().enumerate() {
            if mask & (1 << bit) != 0 {
                push(set, row.person);
            }
        }
    }
    sets
}

/// Everything known about one scope while its metrics are computed.
pub(crate) struct ScopeData<'a> {
    pub rows: &'a [Row],
    pub served: &'a RoaringBitmap,
    /// Which organizations are inside the scope (for `attribution = "scope"` and exits).
    pub members: &'a [bool],
}

/// The part of a metric that decides when and where outcomes count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rule {
    pub window: Window,
    pub attribution: Attribution,
}

impl Rule {
    pub const ANYWHERE: Rule = Rule {
        window: Window::ProgramYear,
        attribution: Attribution::Any,
    };

    pub fn of(metric: &Metric) -> Self {
        Rule {
            window: metric.window,
            attribution: metric.attribution,
        }
    }
}

impl ScopeData<'_> {
    fn filter(&self, keep: impl Fn(&Row) -> bool) -> RoaringBitmap {
        RoaringBitmap::from_sorted_iter(self.rows.iter().filter(|r| keep(r)).map(|r| r.person)).unwrap_or_default()
    }
}

/// Evaluates conditions; scope-independent sets live in the snapshot's cache between queries.
pub(crate) struct Evaluator<'a> {
    pub snapshot: &'a Snapshot,
    pub year: ProgramYear,
    pub global: HashMap<String, CachedSet>,
}

impl<'a> Evaluator<'a> {
    pub fn new(snapshot: &'a Snapshot, year: ProgramYear, global: HashMap<String, CachedSet>) -> Self {
        Self { snapshot, year, global }
    }

    /// The days in which an outcome counts for a person whose first activity (at the scope,
    /// in the year) is `first_day`.
    pub fn window(&self, window: Window, first_day: i32) -> (i32, i32) {
        let (first, last) = (self.year.first_day().day_number(), self.year.last_day().day_number());
        match window {
            Window::ProgramYear => (first, last),
            Window::SameOrNextYear => {
                let next = ProgramYear::starting(self.year.first_day().year() + 1);
                (first, next.last_day().day_number())
            }
            Window::DaysAfterFirstActivity(days) => (first_day, first_day.saturating_add(days)),
        }
    }

    fn milestone_matches(&self, filter: &MilestoneFilter) -> impl Fn(u16, u8) -> bool + use<> {
        let (id, element) = match filter {
            MilestoneFilter::Any => (None, None),
            MilestoneFilter::Element(e) => (None, Some(self.snapshot.element_index(e).unwrap_or(u8::MAX))),
            MilestoneFilter::Id(m) => (
                Some(self.snapshot.milestone_element(m).map_or(u16::MAX, |(i, _)| i)),
                None,
            ),
        };
        move |milestone, el| id.is_none_or(|i| i == milestone) && element.is_none_or(|e| e == el)
    }

    /// Tests an outcome condition on one person (the slow path: per-person windows or
    /// outcomes restricted to the scope).
    pub fn person_outcome(&self, cond: &Cond, rule: Rule, person: u32, first_day: i32, members: &[bool]) -> bool {
        let snapshot = self.snapshot;
        let p = &snapshot.persons[person as usize];
        let (lo, hi) = self.window(rule.window, first_day);
        let counts = |record: u32| {
            rule.attribution == Attribution::Any || members[snapshot.records[record as usize].org as usize]
        };
        match cond {
            Cond::Milestone(filter) => {
                let matches = self.milestone_matches(filter);
                p.milestones
                    .iter()
                    .any(|m| (lo..=hi).contains(&m.day) && matches(m.milestone, m.element) && counts(m.record))
            }
            Cond::ElementsWithMilestone(op, n) => {
                let mask = p
                    .milestones
                    .iter()
                    .filter(|m| (lo..=hi).contains(&m.day) && counts(m.record))
                    .fold(0u32, |mask, m| mask | (1 << m.element));
                op.holds(f64::from(mask.count_ones()), *n)
            }
            Cond::AssessmentGain(instrument, op, n) | Cond::AssessmentScore(instrument, op, n) => {
                let Some(instrument) = snapshot.instrument(instrument) else {
                    return false;
                };
                let mut scores: Vec<(i32, f64)> = p
                    .assessments
                    .iter()
                    .filter(|a| a.instrument == instrument && (lo..=hi).contains(&a.day) && counts(a.record))
                    .map(|a| (a.day, a.score))
                    .collect();
                scores.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
                let (Some(first), Some(last)) = (scores.first(), scores.last()) else {
                    return false;
                };
                match cond {
                    Cond::AssessmentGain(..) => scores.len() >= 2 && op.holds(last.1 - first.1, *n),
                    _ => op.holds(last.1, *n),
                }
            }
            Cond::Barrier(mask) => p
                .records
                .iter()
                .any(|&r| snapshot.records[r as usize].attrs.barriers & mask != 0),
            _ => false,
        }
    }

    fn scope_independent(rule: Rule) -> bool {
        rule.attribution == Attribution::Any && !matches!(rule.window, Window::DaysAfterFirstActivity(_))
    }

    /// Persons (anywhere) meeting a scope-independent condition (an outcome recorded
    /// anywhere in a fixed window, or a barrier), kept in the snapshot across queries.
    fn global(&mut self, cond: &Cond, rule: Rule) -> &RoaringBitmap {
        let key = format!("{cond:?}|{:?}", rule.window);
        if !self.global.contains_key(&key) {
            let mut set = RoaringBitmap::new();
            for (p, person) in self.snapshot.persons.iter().enumerate() {
                let relevant = match cond {
                    Cond::Milestone(_) | Cond::ElementsWithMilestone(..) => !person.milestones.is_empty(),
                    Cond::Barrier(_) => true,
                    _ => !person.assessments.is_empty(),
                };
                if relevant && self.person_outcome(cond, rule, p as u32, NO_DAY, &[]) {
                    push(&mut set, p as u32);
                }
            }
            let cached = CachedSet {
                set,
                cond: cond.clone(),
                rule,
            };
            self.global.insert(key.clone(), cached);
        }
        &self.global[&key].set
    }

    pub fn eval(&mut self, cond: &Cond, rule: Rule, scope: &ScopeData) -> RoaringBitmap {
        match cond {
            Cond::True => scope.served.clone(),
            Cond::And(a, b) => self.eval(a, rule, scope) & self.eval(b, rule, scope),
            Cond::Or(a, b) => self.eval(a, rule, scope) | self.eval(b, rule, scope),
            Cond::Not(a) => scope.served - self.eval(a, rule, scope),
            Cond::Hours(op, n) => scope.filter(|r| op.holds(u64::from(r.hundredths), *n)),
            Cond::Program(mask) => scope.filter(|r| r.programs & mask != 0),
            Cond::Exited => {
                let latest = self.snapshot.latest_day.unwrap_or(NO_DAY);
                scope.filter(|r| self.exited(r.person, scope.members, latest))
            }
            Cond::Barrier(_) => self.global(cond, Rule::ANYWHERE) & scope.served,
            outcome if Self::scope_independent(rule) => self.global(outcome, rule) & scope.served,
            outcome => scope.filter(|r| self.person_outcome(outcome, rule, r.person, r.first_day, scope.members)),
        }
    }

    /// `eval` for one person of a scope: the same rules, person by person.
    pub fn holds(&self, cond: &Cond, rule: Rule, row: &Row, members: &[bool]) -> bool {
        match cond {
            Cond::True => true,
            Cond::And(a, b) => self.holds(a, rule, row, members) && self.holds(b, rule, row, members),
            Cond::Or(a, b) => self.holds(a, rule, row, members) || self.holds(b, rule, row, members),
            Cond::Not(a) => !self.holds(a, rule, row, members),
            Cond::Hours(op, n) => op.holds(u64::from(row.hundredths), *n),
            Cond::Program(mask) => row.programs & mask != 0,
            Cond::Exited => self.exited(row.person, members, self.snapshot.latest_day.unwrap_or(NO_DAY)),
            Cond::Barrier(_) => self.person_outcome(cond, Rule::ANYWHERE, row.person, NO_DAY, &[]),
            outcome if Self::scope_independent(rule) => self.person_outcome(outcome, rule, row.person, NO_DAY, &[]),
            outcome => self.person_outcome(outcome, rule, row.person, row.first_day, members),
        }
    }

    /// Whether the person's period of participation at the scope ended in the year: a day of
    /// activity in the year followed by 90 days without any, all before the data's latest day.
    fn exited(&self, person: u32, members: &[bool], latest: i32) -> bool {
        let (first, last) = (self.year.first_day().day_number(), self.year.last_day().day_number());
        let snapshot = self.snapshot;
        let mut days: Vec<i32> = snapshot.persons[person as usize]
            .records
            .iter()
            .filter(|&&r| members[snapshot.records[r as usize].org as usize])
            .flat_map(|&r| snapshot.records[r as usize].activities.iter().map(|a| a.day))
            .filter(|d| (first..=last + EXIT_AFTER_DAYS).contains(d))
            .collect();
        days.sort_unstable();
        days.dedup();
        days.iter().enumerate().any(|(i, &day)| {
            day <= last
                && day + EXIT_AFTER_DAYS < latest
                && days.get(i + 1).is_none_or(|next| *next > day + EXIT_AFTER_DAYS)
        })
    }

    /// Days from first activity to the first matching milestone on or after it, per person of
    /// `persons` (in `rows` order).
    pub fn days_to_milestone(
        &self,
        metric: &Metric,
        filter: &MilestoneFilter,
        persons: &RoaringBitmap,
        scope: &ScopeData,
    ) -> Vec<(u32, i32)> {
        let matches = self.milestone_matches(filter);
        let snapshot = self.snapshot;
        scope
            .rows
            .iter()
            .filter(|r| persons.contains(r.person))
            .filter_map(|r| {
                let (lo, hi) = self.window(metric.window, r.first_day);
                snapshot.persons[r.person as usize]
                    .milestones
                    .iter()
                    .filter(|m| {
                        m.day >= r.first_day
                            && (lo..=hi).contains(&m.day)
                            && matches(m.milestone, m.element)
                            && (metric.attribution == Attribution::Any
                                || scope.members[snapshot.records[m.record as usize].org as usize])
                    })
                    .map(|m| m.day - r.first_day)
                    .min()
                    .map(|days| (r.person, days))
            })
            .collect()
    }
}

fn median(values: &mut [i32]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        f64::from(values[mid])
    } else {
        (f64::from(values[mid - 1]) + f64::from(values[mid])) / 2.0
    })
}

/// The raw figures of a query, before suppression. Never leaves the crate.
pub(crate) struct Computed {
    pub scopes: Vec<(String, ScopeDef)>,
    pub dims: Vec<(Dimension, Vec<String>)>,
    pub cells: Vec<Cell>,
    pub equations: Equations,
}

/// Per-scope lists for one year: organizations by merging children before parents, roll-ups
/// from their organizations.
pub(crate) fn build_scopes(snapshot: &Snapshot, agg: &YearAgg) -> ScopeCache {
    let defs = scope_defs(snapshot);
    let n_orgs = snapshot.orgs.len();
    let mut lists: Vec<Option<Vec<Row>>> = vec![None; n_orgs];
    let mut order: Vec<u32> = Vec::with_capacity(n_orgs);
    let mut stack: Vec<(u32, bool)> = snapshot
        .orgs
        .iter()
        .enumerate()
        .filter(|(_, o)| o.parent.is_none())
        .map(|(i, _)| (i as u32, false))
        .collect();
    while let Some((org, expanded)) = stack.pop() {
        if expanded {
            order.push(org);
        } else {
            stack.push((org, true));
            stack.extend(snapshot.orgs[org as usize].children.iter().map(|&c| (c, false)));
        }
    }
    for &org in &order {
        let mut parts = vec![own_rows(snapshot, agg, org)];
        for &child in &snapshot.orgs[org as usize].children {
            parts.push(lists[child as usize].clone().unwrap_or_default());
        }
        lists[org as usize] = Some(merge_all(parts));
    }
    let ancestors: Vec<Vec<u32>> = (0..n_orgs as u32)
        .map(|start| {
            let mut chain = vec![start];
            let mut current = start;
            while let Some(parent) = snapshot.orgs[current as usize].parent {
                chain.push(parent);
                current = parent;
            }
            chain
        })
        .collect();
    let mut scope_lists = Vec::with_capacity(defs.len());
    let mut members = Vec::with_capacity(defs.len());
    for (_, def) in &defs {
        let (rows, inside): (Vec<Row>, Vec<bool>) = match *def {
            ScopeDef::Org(o) => (
                lists[o as usize].clone().unwrap_or_default(),
                ancestors.iter().map(|chain| chain.contains(&o)).collect(),
            ),
            ScopeDef::Sector(sector) => {
                let inside: Vec<bool> = snapshot.orgs.iter().map(|o| o.sector == sector).collect();
                let parts = (0..n_orgs as u32)
                    .filter(|&o| inside[o as usize])
                    .map(|o| own_rows(snapshot, agg, o))
                    .collect();
                (merge_all(parts), inside)
            }
            ScopeDef::Level(level) => {
                let inside: Vec<bool> = ancestors
                    .iter()
                    .map(|chain| chain.iter().any(|&a| snapshot.orgs[a as usize].level == level))
                    .collect();
                // The topmost organizations of the level hold everyone below them.
                let parts = (0..n_orgs)
                    .filter(|&o| {
                        snapshot.orgs[o].level == level
                            && !ancestors[o][1..]
                                .iter()
                                .any(|&a| snapshot.orgs[a as usize].level == level)
                    })
                    .map(|o| lists[o].clone().unwrap_or_default())
                    .collect();
                (merge_all(parts), inside)
            }
        };
        scope_lists.push(rows);
        members.push(inside);
    }
    let served = scope_lists
        .iter()
        .map(|rows| RoaringBitmap::from_sorted_iter(rows.iter().map(|r| r.person)).unwrap_or_default())
        .collect();
    let sets = vec![HashMap::new(); defs.len()];
    ScopeCache {
        defs,
        lists: scope_lists,
        members,
        served,
        sets,
    }
}

/// Adds one record's contribution to a scope's sorted list (an activity arrived).
pub(crate) fn add_row(list: &mut Vec<Row>, row: Row) -> Row {
    match list.binary_search_by_key(&row.person, |r| r.person) {
        Ok(i) => {
            combine(&mut list[i], &row);
            list[i]
        }
        Err(i) => {
            list.insert(i, row);
            row
        }
    }
}

/// A row for one activity of a record at `org`.
pub(crate) fn activity_row(snapshot: &Snapshot, record: u32, day: i32, program: u8, hundredths: u32) -> Row {
    let r = &snapshot.records[record as usize];
    Row {
        person: r.person,
        hundredths,
        programs: 1 << program,
        sectors: 1 << snapshot.orgs[r.org as usize].sector as u8,
        first_day: day,
    }
}

/// Whether the person of `row` belongs to a cached per-scope set, after their row changed.
pub(crate) fn recheck_in_scope(
    snapshot: &Snapshot,
    year: ProgramYear,
    cached: &CachedSet,
    row: &Row,
    members: &[bool],
) -> bool {
    Evaluator::new(snapshot, year, HashMap::new()).holds(&cached.cond, cached.rule, row, members)
}

/// Whether a person belongs to a cached scope-independent set, after their facts changed.
pub(crate) fn recheck(snapshot: &Snapshot, year: ProgramYear, cached: &CachedSet, person: u32) -> bool {
    Evaluator::new(snapshot, year, HashMap::new()).person_outcome(&cached.cond, cached.rule, person, NO_DAY, &[])
}

pub(crate) fn compute(snapshot: &Snapshot, set: &MetricSet, query: &Query) -> Computed {
    let mut cache = snapshot.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let year_cache = cache.year(snapshot, query.year);
    if year_cache.scopes.is_none() {
        year_cache.scopes = Some(build_scopes(snapshot, &year_cache.agg));
    }
    let mut evaluator = Evaluator::new(snapshot, query.year, std::mem::take(&mut year_cache.global));
    let Some(ScopeCache {
        defs,
        lists,
        members,
        served,
        sets,
    }) = year_cache.scopes.as_mut()
    else {
        unreachable!("built above")
    };

    let dims: Vec<(Dimension, Vec<String>)> = query.by.iter().map(|&d| (d, dimension_values(snapshot, d))).collect();
    let global_groups: Vec<Option<Vec<RoaringBitmap>>> = dims
        .iter()
        .map(|(d, values)| {
            d.is_partition()
                .then(|| person_groups(snapshot, *d, query.year, values))
        })
        .collect();

    let mut cells = Vec::new();
    for s in 0..defs.len() {
        let rows = &lists[s];
        let scope = ScopeData {
            rows,
            served: &served[s],
            members: &members[s],
        };
        let groups: Vec<std::borrow::Cow<'_, [RoaringBitmap]>> = dims
            .iter()
            .zip(&global_groups)
            .map(|((d, _), global)| match global {
                Some(sets) => std::borrow::Cow::Borrowed(sets.as_slice()),
                None => std::borrow::Cow::Owned(scope_groups(rows, *d)),
            })
            .collect();
        // Cross groups of two breakdowns, once per scope (not once per metric).
        let crosses: Vec<Vec<RoaringBitmap>> = match groups.as_slice() {
            [first, second] => first
                .iter()
                .map(|g1| second.iter().map(|g2| g1 & g2).collect())
                .collect(),
            _ => Vec::new(),
        };
        // Populations and outcomes are kept per scope between queries (most metrics share
        // "hours >= 12"); an activity at the scope drops them.
        let memo = &mut sets[s];
        for (m, metric) in set.metrics.iter().enumerate() {
            let rule = Rule::of(metric);
            let mut eval = |cond: &Cond| -> RoaringBitmap {
                let key = format!("{cond:?}|{rule:?}");
                memo.entry(key)
                    .or_insert_with(|| CachedSet {
                        set: evaluator.eval(cond, rule, &scope),
                        cond: cond.clone(),
                        rule,
                    })
                    .set
                    .clone()
            };
            let population = eval(&metric.population);
            let achieved = match metric.outcome {
                Cond::True => population.clone(),
                ref outcome => eval(outcome) & &population,
            };
            let days = match (&metric.kind, &metric.outcome) {
                (Kind::MedianDays, Cond::Milestone(filter)) => {
                    evaluator.days_to_milestone(metric, filter, &achieved, &scope)
                }
                _ => Vec::new(),
            };
            let numerator = if metric.kind == Kind::MedianDays {
                RoaringBitmap::from_iter(days.iter().map(|(p, _)| *p))
            } else {
                achieved
            };
            let mut push = |key: [u16; 2], group: Option<&RoaringBitmap>| {
                let (num, pop) = match group {
                    Some(g) => (numerator.intersection_len(g), population.intersection_len(g)),
                    None => (numerator.len(), population.len()),
                };
                if group.is_some() && pop == 0 {
                    return;
                }
                let value = match metric.kind {
                    Kind::MedianDays => median(
                        &mut days
                            .iter()
                            .filter(|(p, _)| group.is_none_or(|g| g.contains(*p)))
                            .map(|(_, d)| *d)
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                };
                cells.push(Cell {
                    scope: s as u32,
                    metric: m as u16,
                    key,
                    num,
                    den: (metric.kind == Kind::Rate).then_some(pop),
                    value,
                    threshold: metric.threshold,
                    masked: false,
                });
            };
            push([ALL, ALL], None);
            match groups.as_slice() {
                [] => {}
                [first] => {
                    for (v, g) in first.iter().enumerate() {
                        push([v as u16, ALL], Some(g));
                    }
                }
                [first, second, ..] => {
                    for (v, g) in first.iter().enumerate() {
                        push([v as u16, ALL], Some(g));
                    }
                    for (w, g) in second.iter().enumerate() {
                        push([ALL, w as u16], Some(g));
                    }
                    for (v, row) in crosses.iter().enumerate() {
                        for (w, both) in row.iter().enumerate() {
                            push([v as u16, w as u16], Some(both));
                        }
                    }
                }
            }
        }
    }
    let scopes = defs.clone();
    year_cache.global = std::mem::take(&mut evaluator.global);
    drop(cache);
    let equations = crate::suppression::equations(snapshot, &scopes, &dims, &cells);
    Computed {
        scopes,
        dims,
        cells,
        equations,
    }
}
