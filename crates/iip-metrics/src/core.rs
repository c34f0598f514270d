//! The core metrics of the walking skeleton: adults served, participants, element.E and
//! any_milestone, for every organization as a scope.

use std::collections::HashMap;

use iip_domain::ProgramYear;
use iip_domain::facts::WindowFacts;
use iip_framework::Framework;
use roaring::RoaringBitmap;

use crate::{MetricRow, MetricsError, Report, suppress};

/// 12 hours, in hundredths: the participant threshold.
const PARTICIPANT_HUNDREDTHS: u64 = 1200;

/// Element metrics are named `element.<element id>`.
pub const METRIC_ORDER_PREFIX: &str = "element.";

/// Computes the core metrics of `year` from `facts` (which must cover exactly that year), for
/// every organization, or only `scope` when given.
pub fn core_report(
    facts: &WindowFacts,
    framework: &Framework,
    year: ProgramYear,
    scope: Option<&str>,
) -> Result<Report, MetricsError> {
    let orgs = &facts.organizations;
    let org_index: HashMap<&str, usize> = orgs.iter().enumerate().map(|(i, o)| (o.org_id.as_str(), i)).collect();
    if let Some(scope) = scope.filter(|s| !org_index.contains_key(s)) {
        return Err(MetricsError::UnknownScope(scope.to_owned()));
    }

    // A scope is an organization and everything below it: each org counts toward itself and
    // its ancestors. A broken chain (which the importer refuses) simply stops the walk.
    let ancestors: Vec<Vec<u32>> = (0..orgs.len())
        .map(|start| {
            let mut chain = vec![start as u32];
            let mut current = start;
            while let Some(parent) = orgs[current].parent_id.as_deref().and_then(|p| org_index.get(p)) {
                if chain.contains(&(*parent as u32)) {
                    break;
                }
                chain.push(*parent as u32);
                current = *parent;
            }
            chain
        })
        .collect();

    // A person is its person_key where present, else its (org_id, participant_id).
    let mut person_ids: HashMap<PersonKey, u32> = HashMap::with_capacity(facts.participants.len());
    let mut row_person: HashMap<i64, (u32, u32)> = HashMap::with_capacity(facts.participants.len());
    for participant in &facts.participants {
        let Some(&org) = org_index.get(participant.org_id.as_str()) else {
            continue;
        };
        let key = match &participant.person_key {
            Some(key) => PersonKey::Shared(key.as_str()),
            None => PersonKey::Local(participant.org_id.as_str(), participant.participant_id.as_str()),
        };
        let next = person_ids.len() as u32;
        let person = *person_ids.entry(key).or_insert(next);
        row_person.insert(participant.row, (person, org as u32));
    }

    // Hours per (scope, person), summed across every organization inside the scope.
    let mut contributions: Vec<(u32, u32, u64)> = Vec::with_capacity(facts.hours.len() * 3);
    for (row, hours) in &facts.hours {
        let Some(&(person, org)) = row_person.get(row) else {
            continue;
        };
        for &scope in &ancestors[org as usize] {
            contributions.push((scope, person, *hours));
        }
    }
    contributions.sort_unstable_by_key(|&(scope, person, _)| (scope, person));
    let mut served = vec![RoaringBitmap::new(); orgs.len()];
    let mut participants = vec![RoaringBitmap::new(); orgs.len()];
    for group in contributions.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (scope, person, _) = group[0];
        let total: u64 = group.iter().map(|c| c.2).sum();
        served[scope as usize].insert(person);
        if total >= PARTICIPANT_HUNDREDTHS {
            participants[scope as usize].insert(person);
        }
    }

    // Milestones count wherever they were recorded (an outcome may come from a partner).
    let element_ids: Vec<&str> = framework.element_ids().collect();
    let mut achieved = vec![RoaringBitmap::new(); element_ids.len()];
    for (row, element) in &facts.milestone_elements {
        let (Some(&(person, _)), Some(e)) = (row_person.get(row), element_ids.iter().position(|id| id == element))
        else {
            continue;
        };
        achieved[e].insert(person);
    }
    let any_milestone = achieved.iter().fold(RoaringBitmap::new(), |acc, set| acc | set);

    let mut scopes: Vec<usize> = match scope {
        Some(scope) => org_index.get(scope).copied().into_iter().collect(),
        None => (0..orgs.len()).collect(),
    };
    scopes.sort_by(|a, b| orgs[*a].org_id.cmp(&orgs[*b].org_id));

    let mut rows: Vec<MetricRow> = Vec::with_capacity(scopes.len() * (element_ids.len() + 3));
    for index in scopes {
        let scope_id = orgs[index].org_id.as_str();
        let base = &participants[index];
        let denominator = base.len();
        rows.push(suppress(scope_id, "adults_served", served[index].len(), None));
        rows.push(suppress(scope_id, "participants", denominator, None));
        for (element, set) in element_ids.iter().zip(&achieved) {
            let metric = format!("{METRIC_ORDER_PREFIX}{element}");
            rows.push(suppress(
                scope_id,
                &metric,
                base.intersection_len(set),
                Some(denominator),
            ));
        }
        rows.push(suppress(
            scope_id,
            "any_milestone",
            base.intersection_len(&any_milestone),
            Some(denominator),
        ));
    }
    Ok(Report {
        year,
        framework_version: framework.version.clone(),
        rows,
    })
}

#[derive(Hash, PartialEq, Eq)]
enum PersonKey<'a> {
    Shared(&'a str),
    Local(&'a str, &'a str),
}
