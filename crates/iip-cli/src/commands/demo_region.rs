//! The partnership side of the demo: the directory, community figures, and referrals from the
//! adult schools to their partners in every state of the HL7 SDOH flow, each under the
//! participant's consent to share with the partner.

use std::path::Path;

use anyhow::Context;
use iip_directory::{NewReferral, ReferralEvent, ReferralStatus};
use iip_domain::records::MilestoneRecord;
use iip_domain::{Date, Id};
use iip_framework::Framework;
use iip_store::Store;

use ReferralStatus::*;

/// The histories the demo gives its referrals: each a list of (state, reason: every change
/// carries one), one step every few days. Together they cover every state; the second waits unanswered past the flag.
const SHAPES: &[&[(ReferralStatus, Option<&str>)]] = &[
    &[(Requested, None)],
    &[(Requested, None), (Accepted, Some("We have a place for them"))],
    &[(Requested, None), (Rejected, Some("Program full until next term"))],
    &[
        (Requested, None),
        (Accepted, Some("We have a place for them")),
        (InProgress, Some("First appointment held")),
    ],
    &[
        (Requested, None),
        (Accepted, Some("We have a place for them")),
        (OnHold, Some("Waiting for documents")),
    ],
    &[
        (Requested, None),
        (Accepted, Some("We have a place for them")),
        (InProgress, Some("First appointment held")),
        (Completed, Some("Goal reached")),
    ],
    &[
        (Requested, None),
        (Accepted, Some("We have a place for them")),
        (InProgress, Some("First appointment held")),
        (Completed, Some("Goal reached")),
    ],
    &[
        (Requested, None),
        (Accepted, Some("We have a place for them")),
        (InProgress, Some("First appointment held")),
        (Failed, Some("Participant moved away")),
    ],
    &[
        (Requested, None),
        (Cancelled, Some("Participant found a program closer to home")),
    ],
];

const DAY: i64 = 86_400;

pub struct Seeded {
    pub services: u64,
    pub community: u64,
    pub referrals: u64,
}

pub async fn seed<S: Store>(
    store: &S,
    framework: &Framework,
    dir: &Path,
    people: u64,
    seed: u64,
    case_worker: i64,
) -> anyhow::Result<Seeded> {
    let services = iip_generate::services(people);
    let stored = store
        .put_services(&services)
        .await?
        .map_err(|_| anyhow::anyhow!("a demo service names an unknown organization; this is a bug"))?;
    let community_path = dir.join("community.csv");
    let community = iip_generate::community_csv(people, seed);
    std::fs::write(&community_path, &community)
        .with_context(|| format!("cannot write {}", community_path.display()))?;
    let figures = iip_directory::community::read("community.csv", community.as_bytes())?;
    let community = store.put_community_figures(&figures).await?;

    let now = iip_web::auth::unix_now();
    let today = Date::today();
    let mut referrals = 0u64;
    let schools: Vec<String> = store
        .organizations()
        .await?
        .into_iter()
        .map(|o| o.org_id)
        .filter(|id| id.ends_with("-adult-school"))
        .collect();
    for school in &schools {
        let consortium = school.trim_end_matches("-adult-school");
        let targets: Vec<_> = services
            .iter()
            .filter(|s| s.org_id.as_str().starts_with(consortium) && s.org_id.as_str() != school)
            .collect();
        if targets.is_empty() {
            continue;
        }
        let people = store.search_participants(school, "", 90).await?;
        for (i, person) in people.iter().enumerate() {
            let service = targets[i % targets.len()];
            let shape = SHAPES[i % SHAPES.len()];
            let Some(record) = store.participant_record(school, &person.participant_id).await? else {
                continue;
            };
            let start_day = today.day_number() - 150 + i as i32;
            let valid_from = Date::from_day_number(start_day - 1).unwrap_or(today);
            store
                .record_consent(
                    record.row,
                    &iip_store::NewConsent {
                        partner_org_id: service.org_id.as_str(),
                        purpose: "referral",
                        // Consents of every scope: the whole record, the pathway only, referrals only.
                        scope: iip_store::ConsentScope::ALL[i % 3],
                        valid_from,
                        valid_to: None,
                        recorded_by: case_worker,
                    },
                )
                .await?;
            let element = service.elements.first().cloned().unwrap_or_else(|| "navigation".into());
            // The second shape waits unanswered for 20 days; the rest start months ago.
            let start = if i % SHAPES.len() == 0 {
                now - 20 * DAY
            } else {
                now - i64::from(150 - i as i32) * DAY
            };
            let new = NewReferral {
                from_org_id: Id::parse(school)?,
                participant_id: Id::parse(&person.participant_id)?,
                to_org_id: service.org_id.clone(),
                service_id: Some(service.service_id.clone()),
                element: element.clone(),
                note: Some(format!("Needs help with {element}")),
                by_user: case_worker,
                at: start,
            };
            let Ok(id) = store.create_referral(&new).await? else {
                continue;
            };
            referrals += 1;
            let mut previous = Requested;
            for (step, (status, reason)) in shape.iter().enumerate().skip(1) {
                let at = start + (step as i64) * (2 + (i as i64 % 9)) * DAY;
                let by_org = if status.decided_by() == iip_directory::Side::Sender {
                    school.clone()
                } else {
                    service.org_id.as_str().to_owned()
                };
                let milestone = (*status == Completed)
                    .then(|| {
                        framework
                            .element(&element)
                            .and_then(|e| e.milestones.first())
                            .map(|m| m.id.clone())
                    })
                    .flatten();
                let event = ReferralEvent {
                    status: *status,
                    at,
                    by_user: None,
                    by_org_id: by_org,
                    reason: reason.map(str::to_owned),
                };
                if !store
                    .change_referral(id, previous, &event, milestone.as_deref())
                    .await?
                {
                    break;
                }
                previous = *status;
                if let Some(milestone) = milestone {
                    let outcome = MilestoneRecord {
                        org_id: Id::parse(school)?,
                        participant_id: Id::parse(&person.participant_id)?,
                        date: iip_directory::referral::date_of(at).min(today),
                        milestone,
                        element: element.clone(),
                    };
                    // Already recorded that day: the same outcome.
                    let _ = store.record_milestone(&outcome).await?;
                    // The outcome names the partner that delivered it, as the web flow does.
                    store.credit_milestone(&outcome, service.org_id.as_str()).await?;
                }
            }
        }
    }
    Ok(Seeded {
        services: stored,
        community,
        referrals,
    })
}
