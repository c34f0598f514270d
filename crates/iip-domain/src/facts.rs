//! What the metrics engine reads from a store for one window of time: the organization tree,
//! who each participant record is, and per-record totals. Plain data; no identifying fields.

use crate::{Level, Sector};

#[derive(Debug, Clone, PartialEq)]
pub struct OrgNode {
    pub org_id: String,
    pub name: String,
    pub sector: Sector,
    pub level: Level,
    pub parent_id: Option<String>,
}

/// One participant record (one organization's view of a person).
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantRef {
    /// The store's row id of the record.
    pub row: i64,
    pub org_id: String,
    pub participant_id: String,
    pub person_key: Option<String>,
}

/// Everything the core metrics need for one window `[first_day, last_day]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowFacts {
    pub organizations: Vec<OrgNode>,
    pub participants: Vec<ParticipantRef>,
    /// `(participant row, activity hours in hundredths)` for records with activity in the window.
    pub hours: Vec<(i64, u64)>,
    /// `(participant row, element id)` for each element with a milestone in the window.
    pub milestone_elements: Vec<(i64, String)>,
}
