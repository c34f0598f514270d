//! What the metrics engine reads from a store: the organization tree and every fact, streamed
//! through a [`FactSink`]. Plain data; no identifying fields (the birth year only).

use crate::{Barrier, Gender, Level, Program, RaceEthnicity, Sector};

#[derive(Debug, Clone, PartialEq)]
pub struct OrgNode {
    pub org_id: String,
    pub name: String,
    pub sector: Sector,
    pub level: Level,
    pub parent_id: Option<String>,
}

/// One participant record as the metrics engine sees it: who the person is and the attributes
/// breakdowns use. Only the birth *year* is carried: the engine never sees names or full dates.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantFact {
    pub row: i64,
    pub org_id: String,
    pub participant_id: String,
    pub person_key: Option<String>,
    pub gender: Option<Gender>,
    pub race_ethnicity: Option<RaceEthnicity>,
    pub country_of_birth: Option<String>,
    pub primary_language: Option<String>,
    pub us_arrival_year: Option<i32>,
    pub birth_year: Option<i32>,
    pub barriers: Vec<Barrier>,
}

/// One activity row; `hundredths` already multiplied by the row's occurrences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityFact {
    pub participant_row: i64,
    /// Days since 1970-01-01 (see [`crate::Date::day_number`]).
    pub day: i32,
    pub program: Program,
    pub hundredths: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneFact {
    pub participant_row: i64,
    pub day: i32,
    pub milestone: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentFact {
    pub participant_row: i64,
    pub day: i32,
    pub instrument: String,
    pub score: f64,
}

/// Receives every fact of a store, organizations first, then participants, then the records
/// that name them. The metrics engine's snapshot is built, and kept current, through this.
pub trait FactSink: Send {
    fn organization(&mut self, org: OrgNode);
    fn participant(&mut self, participant: ParticipantFact);
    fn activity(&mut self, activity: ActivityFact);
    fn milestone(&mut self, milestone: MilestoneFact);
    fn assessment(&mut self, assessment: AssessmentFact);
}
