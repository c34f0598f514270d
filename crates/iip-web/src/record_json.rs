//! The answer of `GET /api/participants/{id}`, the API's most frequent read: serialized
//! straight from the record (no intermediate JSON values), and its pathway part kept as JSON
//! between the pathway's changes. The store hands out the same shared pathway until the
//! pathway changes (`CaseStore::participant_with_pathway`), so the JSON kept for a pathway is
//! reused only while the store still hands out that very pathway (`Weak` identity: a kept
//! `Weak` holds the allocation, so no other pathway can take its address). Only the pathway's
//! JSON is kept, never the participant's identity.

use std::sync::{Arc, Weak};

use iip_domain::Date;
use iip_domain::records::Participant;
use iip_store::kept::Kept;
use iip_store::{Pathway, PathwayKind};
use serde::Serialize;

/// The JSON kept holds this many bytes at most (a 90-row pathway's is about 7 kB: some 4 500
/// of them); past it the cache starts afresh.
const MOST_BYTES: usize = 32 << 20;

/// The JSON of pathways answered since they last changed, by participant row, with the
/// pathway it was written from.
pub(crate) struct PathwayJson {
    kept: Kept<Weak<Pathway>, Arc<str>>,
}

impl Default for PathwayJson {
    fn default() -> Self {
        Self {
            kept: Kept::new(MOST_BYTES),
        }
    }
}

impl PathwayJson {
    /// The record's JSON: `{"participant":{…},"activities":[…],…,"goals":[…]}`.
    pub(crate) fn record(&self, row: i64, participant: &Participant, pathway: &Arc<Pathway>) -> String {
        let fragment = self.fragment(row, pathway);
        let participant = serde_json::to_string(&ParticipantView::new(participant)).unwrap_or_else(|_| "null".into());
        let mut body = String::with_capacity(16 + participant.len() + fragment.len());
        body.push_str("{\"participant\":");
        body.push_str(&participant);
        body.push(',');
        body.push_str(&fragment);
        body.push('}');
        body
    }

    /// The pathway's members without the braces: `"activities":[…],…,"goals":[…]`.
    fn fragment(&self, row: i64, pathway: &Arc<Pathway>) -> Arc<str> {
        let same = |seen: &Weak<Pathway>| std::ptr::eq(seen.as_ptr(), Arc::as_ptr(pathway));
        if let Some(json) = self.kept.get(row, same) {
            return json;
        }
        let whole = serde_json::to_string(&PathwayView::new(pathway)).unwrap_or_else(|_| "{}".into());
        let members: Arc<str> = Arc::from(whole.get(1..whole.len().saturating_sub(1)).unwrap_or_default());
        self.kept
            .keep(row, Arc::downgrade(pathway), Arc::clone(&members), members.len());
        members
    }
}

/// The whole answer in one struct: what [`PathwayJson::record`] must equal.
#[cfg(test)]
#[derive(Serialize)]
struct RecordView<'a> {
    participant: ParticipantView<'a>,
    #[serde(flatten)]
    pathway: PathwayView<'a>,
}

#[derive(Serialize)]
struct PathwayView<'a> {
    activities: Vec<ActivityView<'a>>,
    milestones: Vec<MilestoneView<'a>>,
    assessments: Vec<AssessmentView<'a>>,
    needs: Vec<ItemView<'a>>,
    goals: Vec<ItemView<'a>>,
}

#[derive(Serialize)]
struct ParticipantView<'a> {
    participant_id: &'a str,
    person_key: Option<&'a str>,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    date_of_birth: Option<Date>,
    gender: Option<&'static str>,
    race_ethnicity: Option<&'static str>,
    country_of_birth: Option<&'a str>,
    primary_language: Option<&'a str>,
    us_arrival_year: Option<i32>,
    zip: Option<&'a str>,
    barriers: Vec<&'static str>,
}

#[derive(Serialize)]
struct ActivityView<'a> {
    date: Date,
    program: &'a str,
    hours: f64,
    element: Option<&'a str>,
}

#[derive(Serialize)]
struct MilestoneView<'a> {
    date: Date,
    milestone: &'a str,
    element: &'a str,
}

#[derive(Serialize)]
struct AssessmentView<'a> {
    date: Date,
    instrument: &'a str,
    score: f64,
}

#[derive(Serialize)]
struct ItemView<'a> {
    element: &'a str,
    description: &'a str,
    target_date: Option<Date>,
    created_on: Date,
}

impl<'a> ParticipantView<'a> {
    fn new(p: &'a Participant) -> Self {
        ParticipantView {
            participant_id: p.participant_id.as_str(),
            person_key: p.person_key.as_ref().map(|k| k.as_str()),
            first_name: p.identity.first_name.as_deref(),
            last_name: p.identity.last_name.as_deref(),
            date_of_birth: p.identity.date_of_birth,
            gender: p.gender.map(|g| g.as_str()),
            race_ethnicity: p.race_ethnicity.map(|r| r.as_str()),
            country_of_birth: p.country_of_birth.as_ref().map(|c| c.as_str()),
            primary_language: p.primary_language.as_ref().map(|l| l.as_str()),
            us_arrival_year: p.us_arrival_year,
            zip: p.zip.as_ref().map(|z| z.as_str()),
            barriers: p.barriers.iter().map(|b| b.as_str()).collect(),
        }
    }
}

impl<'a> PathwayView<'a> {
    fn new(pathway: &'a Pathway) -> Self {
        let items = |kind: PathwayKind| {
            pathway
                .items
                .iter()
                .filter(|i| i.kind == kind)
                .map(|i| ItemView {
                    element: &i.element,
                    description: &i.description,
                    target_date: i.target_date,
                    created_on: i.created_on,
                })
                .collect()
        };
        PathwayView {
            activities: pathway
                .activities
                .iter()
                .map(|a| ActivityView {
                    date: a.date,
                    program: &a.program,
                    hours: f64::from(a.hundredths) / 100.0,
                    element: a.element.as_deref(),
                })
                .collect(),
            milestones: pathway
                .milestones
                .iter()
                .map(|m| MilestoneView {
                    date: m.date,
                    milestone: &m.milestone,
                    element: &m.element,
                })
                .collect(),
            assessments: pathway
                .assessments
                .iter()
                .map(|a| AssessmentView {
                    date: a.date,
                    instrument: &a.instrument,
                    score: a.score,
                })
                .collect(),
            needs: items(PathwayKind::Need),
            goals: items(PathwayKind::Goal),
        }
    }
}

#[cfg(test)]
mod tests {
    use iip_domain::records::Identity;
    use iip_domain::{Date, Id};
    use iip_store::{ActivityEntry, MilestoneEntry, PathwayItem};

    use super::*;

    fn day(d: u8) -> Date {
        Date::from_ymd(2025, 3, d).expect("date")
    }

    fn participant() -> Participant {
        Participant {
            org_id: Id::parse("school").expect("id"),
            participant_id: Id::parse("p1").expect("id"),
            person_key: None,
            identity: Identity {
                first_name: Some("Zé \"Quote\"".into()),
                last_name: None,
                date_of_birth: Some(day(2)),
            },
            gender: None,
            race_ethnicity: None,
            country_of_birth: None,
            primary_language: None,
            us_arrival_year: Some(2019),
            zip: None,
            barriers: Vec::new(),
        }
    }

    fn pathway(hundredths: u32) -> Arc<Pathway> {
        Arc::new(Pathway {
            activities: vec![ActivityEntry {
                date: day(4),
                program: "esl".into(),
                hundredths,
                element: Some("english".into()),
            }],
            milestones: vec![MilestoneEntry {
                date: day(5),
                milestone: "english.efl_gain".into(),
                element: "english".into(),
                delivered_by: None,
            }],
            assessments: Vec::new(),
            items: vec![PathwayItem {
                id: 1,
                kind: PathwayKind::Goal,
                element: "civic".into(),
                description: "Vote\nin May".into(),
                target_date: None,
                created_on: day(6),
            }],
        })
    }

    fn whole(participant: &Participant, pathway: &Pathway) -> String {
        serde_json::to_string(&RecordView {
            participant: ParticipantView::new(participant),
            pathway: PathwayView::new(pathway),
        })
        .expect("json")
    }

    #[test]
    fn the_assembled_record_is_the_record_serialized_whole() {
        let cache = PathwayJson::default();
        let (p, kept) = (participant(), pathway(150));
        let first = cache.record(7, &p, &kept);
        assert_eq!(first, whole(&p, &kept));
        let parsed: serde_json::Value = serde_json::from_str(&first).expect("valid JSON");
        assert_eq!(parsed["activities"][0]["hours"], 1.5);
        assert_eq!(parsed["goals"][0]["description"], "Vote\nin May");
        // Served again from the kept JSON: still the same text.
        assert_eq!(cache.record(7, &p, &kept), first);
        // An empty pathway has every member, empty.
        let empty = Arc::new(Pathway::default());
        assert_eq!(cache.record(8, &p, &empty), whole(&p, &empty));
    }

    #[test]
    fn a_changed_pathway_is_serialized_afresh() {
        let cache = PathwayJson::default();
        let p = participant();
        let before = pathway(150);
        let kept = cache.record(7, &p, &before);
        // The store hands out a new pathway after a change: equal contents would not do, the
        // identity decides, so a changed pathway is never answered from the old JSON.
        let after = pathway(275);
        let fresh = cache.record(7, &p, &after);
        assert_ne!(fresh, kept);
        assert!(fresh.contains("\"hours\":2.75"), "{fresh}");
        // The store lets go of the pathway: the next one, wherever it is allocated, is not
        // answered with the JSON kept for the one before.
        drop(after);
        let again = pathway(999);
        assert!(cache.record(7, &p, &again).contains("\"hours\":9.99"));
        drop(before);
    }
}
