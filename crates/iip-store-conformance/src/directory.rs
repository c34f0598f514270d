//! The checks of `DirectoryStore` (and the import session's agreements), each against a fresh
//! store of the backend under test: the service directory, partnerships, community figures,
//! need signals and closed-loop referrals, sealed notes included.

use iip_directory::{
    CommunityFigure, Location, NeedSignal, NewReferral, Partnership, PartnershipKind, ReferralEvent, ReferralStatus,
    Service,
};
use iip_domain::records::{Assessment, MilestoneRecord, Organization};
use iip_domain::{Date, Id, Level, Sector};
use iip_store::{
    CaseStore, DirectoryStore, IdentityStore, ImportSession, PathwayKind, ReferralFilter, Refused, Store, Written,
};
use iip_vault::MasterKey;

use crate::{Backend, demo_files};

fn id(raw: &str) -> Id {
    Id::parse(raw).expect("id")
}

fn day(y: i32, m: u8, d: u8) -> Date {
    Date::from_ymd(y, m, d).expect("date")
}

/// A fresh store with the demo package: `consortium` over `school` (p1, p2) and `library` (L7).
async fn imported<B: Backend>(backend: &B, key: Option<MasterKey>) -> B::S {
    let store = backend.open(key).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let package = crate::write_package(dir.path(), "demo", &demo_files());
    let (summary, issues) = crate::import(&store, &package).await;
    assert!(summary.committed, "the demo package imports: {issues:?}");
    store
}

fn service(service_id: &str, org: &str, name: &str) -> Service {
    Service {
        service_id: id(service_id),
        org_id: id(org),
        name: name.into(),
        description: Some("Evening classes, childcare on site".into()),
        elements: vec!["english".into(), "civic".into()],
        languages: vec!["en".into(), "es".into()],
        eligibility: Some("Adults 18+".into()),
        regardless_of_status: true,
        free: false,
        fees: Some("$10 a term".into()),
        schedule: Some("Mon–Thu 6–9 pm".into()),
        areas: vec!["Oakland".into(), "94601".into()],
        locations: vec![Location {
            location_id: id(&format!("{service_id}-main")),
            name: Some("Main campus".into()),
            address: Some("1 Lake St".into()),
            city: Some("Oakland".into()),
            region: Some("CA".into()),
            postal_code: Some("94601".into()),
            latitude: Some(37.8044),
            longitude: Some(-122.2712),
        }],
        url: Some("https://school.example.org/esl".into()),
        email: None,
    }
}

fn partnership(partnership_id: &str, org: &str, partner: &str, kind: PartnershipKind) -> Partnership {
    Partnership {
        partnership_id: id(partnership_id),
        org_id: id(org),
        partner_org_id: id(partner),
        kind,
        scope: Some("english, health".into()),
        start_date: day(2024, 7, 1),
        end_date: Some(day(2025, 6, 30)),
    }
}

fn referral(from: &str, participant: &str, to: &str, service: Option<&str>, at: i64) -> NewReferral {
    NewReferral {
        from_org_id: id(from),
        participant_id: id(participant),
        to_org_id: id(to),
        service_id: service.map(id),
        element: "english".into(),
        note: Some("Needs evening classes".into()),
        by_user: 7,
        at,
    }
}

fn event(status: ReferralStatus, at: i64, by_org: &str, reason: Option<&str>) -> ReferralEvent {
    ReferralEvent {
        status,
        at,
        by_user: Some(11),
        by_org_id: by_org.into(),
        reason: reason.map(str::to_owned),
    }
}

async fn created<S: Store>(store: &S, new: &NewReferral) -> i64 {
    store
        .create_referral(new)
        .await
        .expect("create referral")
        .expect("the referral is accepted")
}

pub async fn services_are_put_replaced_and_refused_for_unknown_organizations<B: Backend>(backend: &B) {
    let store = imported(backend, None).await;
    assert!(store.services().await.expect("services").is_empty());
    let digest = store.content_digest().await.expect("digest");
    let mut esl = service("esl", "school", "ESL evenings");
    let mut bare = service("tutoring", "library", "Homework help");
    bare.description = None;
    bare.locations.clear();
    bare.areas.clear();
    bare.free = true;
    bare.fees = None;
    assert_eq!(
        store.put_services(&[esl.clone(), bare.clone()]).await.expect("put"),
        Ok(2)
    );
    assert_eq!(
        store.services().await.expect("services"),
        [bare.clone(), esl.clone()],
        "by organization, every field back"
    );
    let with_services = store.content_digest().await.expect("digest");
    assert_ne!(with_services, digest, "the digest covers the directory");

    // Replaced by id, locations with it.
    esl.name = "ESL evenings and weekends".into();
    esl.locations[0].city = Some("Alameda".into());
    esl.languages.push("vi".into());
    assert_eq!(
        store.put_services(std::slice::from_ref(&esl)).await.expect("put"),
        Ok(1)
    );
    assert_eq!(store.services().await.expect("services"), [bare.clone(), esl.clone()]);
    assert_ne!(store.content_digest().await.expect("digest"), with_services);

    // One unknown organization refuses the whole call.
    let before = store.content_digest().await.expect("digest");
    let refused = store
        .put_services(&[service("new", "school", "New"), service("x", "nowhere", "X")])
        .await
        .expect("put");
    assert_eq!(refused, Err(Refused::Unknown));
    assert_eq!(
        store.services().await.expect("services"),
        [bare, esl],
        "nothing written"
    );
    assert_eq!(store.content_digest().await.expect("digest"), before);
}

pub async fn partnerships_are_put_and_imported<B: Backend>(backend: &B) {
    let store = imported(backend, None).await;
    let referral_agreement = partnership("a1", "school", "library", PartnershipKind::Referral);
    let mut sharing = partnership("a2", "library", "consortium", PartnershipKind::DataSharing);
    sharing.scope = None;
    sharing.end_date = None;
    assert_eq!(
        store
            .put_partnerships(&[referral_agreement.clone(), sharing.clone()])
            .await
            .expect("put"),
        Ok(2)
    );
    assert_eq!(
        store.partnerships().await.expect("partnerships"),
        [referral_agreement.clone(), sharing.clone()]
    );
    let digest = store.content_digest().await.expect("digest");
    let mut replaced = referral_agreement.clone();
    replaced.kind = PartnershipKind::Funding;
    replaced.end_date = None;
    assert_eq!(
        store
            .put_partnerships(std::slice::from_ref(&replaced))
            .await
            .expect("put"),
        Ok(1)
    );
    assert_eq!(
        store.partnerships().await.expect("partnerships"),
        [replaced.clone(), sharing.clone()],
        "replaced by id"
    );
    assert_ne!(
        store.content_digest().await.expect("digest"),
        digest,
        "the digest covers agreements"
    );
    assert_eq!(
        store
            .put_partnerships(&[
                partnership("a3", "school", "consortium", PartnershipKind::Funding),
                partnership("a4", "school", "nowhere", PartnershipKind::Funding),
            ])
            .await
            .expect("put"),
        Err(Refused::Unknown)
    );
    assert_eq!(
        store.partnerships().await.expect("partnerships").len(),
        2,
        "nothing written"
    );

    // Through an import session: organizations written earlier in it count.
    let mut session = store.begin_import("agreements").await.expect("begin");
    let clinic = Organization {
        org_id: id("clinic"),
        name: "Community Clinic".into(),
        sector: Sector::parse("nonprofit").expect("sector"),
        level: Level::parse("local").expect("level"),
        parent_id: Some(id("consortium")),
        area: Some("Oakland".into()),
        areas_served: vec!["Oakland".into(), "94601".into()],
    };
    assert_eq!(
        session.upsert_organization(&clinic).await.expect("org"),
        Written::Stored
    );
    let health = partnership("a5", "school", "clinic", PartnershipKind::Referral);
    assert_eq!(
        session.upsert_partnership(&health).await.expect("agreement"),
        Written::Stored
    );
    assert_eq!(
        session.upsert_partnership(&health).await.expect("agreement"),
        Written::DuplicateInPackage
    );
    assert_eq!(
        session
            .upsert_partnership(&partnership("a6", "clinic", "nowhere", PartnershipKind::Referral))
            .await
            .expect("agreement"),
        Written::UnknownParent
    );
    assert_eq!(
        session
            .upsert_partnership(&partnership("a7", "nowhere", "school", PartnershipKind::Referral))
            .await
            .expect("agreement"),
        Written::UnknownParent
    );
    // An agreement stored before, written again in this package, is replaced.
    assert_eq!(
        session.upsert_partnership(&sharing).await.expect("agreement"),
        Written::Stored
    );
    session.commit().await.expect("commit");
    assert_eq!(
        store.partnerships().await.expect("partnerships"),
        [replaced, sharing, health]
    );

    // A rolled-back session writes no agreement.
    let mut session = store.begin_import("rolled back").await.expect("begin");
    let dropped = partnership("a8", "school", "library", PartnershipKind::Funding);
    assert_eq!(
        session.upsert_partnership(&dropped).await.expect("agreement"),
        Written::Stored
    );
    session.rollback().await.expect("rollback");
    assert_eq!(store.partnerships().await.expect("partnerships").len(), 3);
}

pub async fn community_figures_are_replaced_and_organizations_carry_areas_served<B: Backend>(backend: &B) {
    let store = imported(backend, None).await;
    assert!(store.community_figures().await.expect("figures").is_empty());
    let figure = |area: &str, language: &str, population: u64| CommunityFigure {
        area: area.into(),
        language: language.into(),
        population,
    };
    let first = [figure("Oakland", "es", 42_000), figure("Fremont", "tl", 8_100)];
    assert_eq!(store.put_community_figures(&first).await.expect("put"), 2);
    assert_eq!(
        store.community_figures().await.expect("figures"),
        [figure("Fremont", "tl", 8_100), figure("Oakland", "es", 42_000)],
        "by area and language"
    );
    let second = [figure("Hayward", "vi", 3_000)];
    assert_eq!(store.put_community_figures(&second).await.expect("put"), 1);
    assert_eq!(
        store.community_figures().await.expect("figures"),
        second,
        "replaced as a whole"
    );
    assert_eq!(store.put_community_figures(&[]).await.expect("put"), 0);
    assert!(store.community_figures().await.expect("figures").is_empty());

    // The demo package has no areas; a re-import of one organization with them.
    let records = store.organization_records().await.expect("records");
    let ids: Vec<&str> = records.iter().map(|o| o.org_id.as_str()).collect();
    assert_eq!(ids, ["consortium", "library", "school"]);
    assert!(records.iter().all(|o| o.area.is_none() && o.areas_served.is_empty()));
    let mut school = records[2].clone();
    assert_eq!(school.parent_id.as_ref().map(Id::as_str), Some("consortium"));
    school.area = Some("Oakland".into());
    school.areas_served = vec!["Oakland".into(), "Alameda County".into(), "94601".into()];
    let mut session = store.begin_import("areas").await.expect("begin");
    assert_eq!(
        session.upsert_organization(&school).await.expect("org"),
        Written::Stored
    );
    session.commit().await.expect("commit");
    let records = store.organization_records().await.expect("records");
    assert_eq!(records[2], school, "areas served come back in order");
    assert_eq!(records[0].areas_served, Vec::<String>::new());
}

pub async fn need_signals_come_from_pathway_needs_and_latest_low_self_scores<B: Backend>(backend: &B) {
    let store = imported(backend, None).await;
    assert!(store.need_signals().await.expect("signals").is_empty());
    let row = |org: &'static str, pid: &'static str| {
        let store = store.clone();
        async move {
            store
                .participant_record(org, pid)
                .await
                .expect("record")
                .expect("found")
                .row
        }
    };
    let (p1, p2) = (row("school", "p1").await, row("school", "p2").await);
    let today = day(2025, 1, 1);
    store
        .add_pathway_item(p1, PathwayKind::Need, "health", "Find a clinic", None, today)
        .await
        .expect("need");
    store
        .add_pathway_item(p1, PathwayKind::Goal, "work", "A job in a kitchen", None, today)
        .await
        .expect("a goal is no need");
    store
        .add_pathway_item(p2, PathwayKind::Need, "health", "Dental care", None, today)
        .await
        .expect("need");
    let score = |org: &str, pid: &str, on: Date, element: &str, score: f64| Assessment {
        org_id: id(org),
        participant_id: id(pid),
        date: on,
        instrument: id(&format!("iip_self.{element}")),
        score,
    };
    for assessment in [
        // The same element as p1's need: one signal, not two.
        score("school", "p1", day(2025, 1, 2), "health", 0.1),
        // Low, then high: the latest wins, no signal.
        score("school", "p2", day(2025, 1, 2), "english", 0.2),
        score("school", "p2", day(2025, 3, 2), "english", 0.8),
        // High, then low: a signal.
        score("library", "L7", day(2025, 1, 2), "work", 0.9),
        score("library", "L7", day(2025, 3, 2), "work", 0.25),
        // Low and alone: a signal; a low overall score is no element.
        score("school", "p2", day(2025, 1, 2), "civic", 0.0),
        score("school", "p2", day(2025, 1, 2), "overall", 0.1),
        // At the threshold is not below it.
        score(
            "school",
            "p1",
            day(2025, 1, 2),
            "civic",
            iip_directory::gaps::LOW_SELF_SCORE,
        ),
    ] {
        store
            .record_assessment(&assessment)
            .await
            .expect("score")
            .expect("recorded");
    }
    let signal = |org: &str, language: &str, element: &str| NeedSignal {
        org_id: org.into(),
        language: Some(language.into()),
        element: element.into(),
    };
    let mut signals = store.need_signals().await.expect("signals");
    signals.sort();
    assert_eq!(
        signals,
        [
            signal("library", "es", "work"),
            signal("school", "es", "health"),
            signal("school", "vi", "civic"),
            signal("school", "vi", "health"),
        ]
    );
    // Two participants with the same need in the same language are two signals.
    let mut twin = store
        .participant_record("school", "p2")
        .await
        .expect("record")
        .expect("found")
        .participant;
    twin.participant_id = id("p3");
    let twin_row = store
        .create_participant(&twin)
        .await
        .expect("create")
        .expect("created")
        .fact
        .expect("fact")
        .row;
    store
        .add_pathway_item(twin_row, PathwayKind::Need, "civic", "Voter registration", None, today)
        .await
        .expect("need");
    let civic = store
        .need_signals()
        .await
        .expect("signals")
        .into_iter()
        .filter(|s| *s == signal("school", "vi", "civic"))
        .count();
    assert_eq!(civic, 2, "one per participant record");
}

pub async fn referrals_are_created_only_for_known_participants_organizations_and_services<B: Backend>(backend: &B) {
    let store = imported(backend, None).await;
    store
        .put_services(&[
            service("tutoring", "library", "Homework help"),
            service("esl", "school", "ESL"),
        ])
        .await
        .expect("put")
        .expect("known organizations");
    let at = 1_735_000_000;
    let first = created(&store, &referral("school", "p1", "library", Some("tutoring"), at)).await;
    let found = store.referral(first).await.expect("read").expect("found");
    assert_eq!(
        (
            found.from_org_id.as_str(),
            found.participant_id.as_str(),
            found.to_org_id.as_str(),
            found.service_id.as_deref(),
            found.element.as_str(),
            found.note.as_deref(),
            found.status,
            found.outcome_milestone.as_deref(),
        ),
        (
            "school",
            "p1",
            "library",
            Some("tutoring"),
            "english",
            Some("Needs evening classes"),
            ReferralStatus::Requested,
            None
        )
    );
    assert_eq!(
        found.events,
        [ReferralEvent {
            status: ReferralStatus::Requested,
            at,
            by_user: Some(7),
            by_org_id: "school".into(),
            reason: None,
        }],
        "the first event is the request, by the sender"
    );
    let mut without = referral("library", "L7", "school", None, at + 1);
    without.note = None;
    let second = created(&store, &without).await;
    assert_eq!(store.referral(second).await.expect("read").expect("found").note, None);

    let digest = store.content_digest().await.expect("digest");
    for (refused, why) in [
        (
            referral("school", "nobody", "library", None, at),
            "an unknown participant",
        ),
        (
            referral("library", "p1", "school", None, at),
            "another organization's participant",
        ),
        (referral("school", "p1", "nowhere", None, at), "an unknown receiver"),
        (
            referral("school", "p1", "library", Some("missing"), at),
            "an unknown service",
        ),
        (
            referral("school", "p1", "library", Some("esl"), at),
            "a service of another organization",
        ),
    ] {
        assert_eq!(
            store.create_referral(&refused).await.expect("create"),
            Err(Refused::Unknown),
            "{why}"
        );
    }
    assert_eq!(
        store.referrals(ReferralFilter::All).await.expect("referrals").len(),
        2,
        "nothing written"
    );
    assert_eq!(store.content_digest().await.expect("digest"), digest);
    assert!(store.referral(second + 1000).await.expect("read").is_none());
}

pub async fn referral_changes_are_compare_and_set_and_keep_every_event<B: Backend>(backend: &B) {
    use ReferralStatus::*;
    let store = imported(backend, None).await;
    let at = 1_735_000_000;
    let id = created(&store, &referral("school", "p1", "library", None, at)).await;
    let accepted = event(Accepted, at + 60, "library", None);
    assert!(
        store
            .change_referral(id, Requested, &accepted, None)
            .await
            .expect("change")
    );
    assert!(
        !store
            .change_referral(id, Requested, &event(Rejected, at + 61, "library", Some("Full")), None)
            .await
            .expect("change"),
        "a stale state is refused"
    );
    assert!(
        !store
            .change_referral(id + 1000, Requested, &accepted, None)
            .await
            .expect("change"),
        "an unknown referral is refused"
    );
    let started = event(InProgress, at + 120, "library", None);
    assert!(
        store
            .change_referral(id, Accepted, &started, None)
            .await
            .expect("change")
    );
    let completed = event(Completed, at + 3600, "library", Some("Finished the term"));
    assert!(
        store
            .change_referral(id, InProgress, &completed, Some("english.efl_gain"))
            .await
            .expect("change")
    );
    let changed = store.referral(id).await.expect("read").expect("found");
    assert_eq!(changed.status, Completed);
    assert_eq!(changed.outcome_milestone.as_deref(), Some("english.efl_gain"));
    let statuses: Vec<ReferralStatus> = changed.events.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [Requested, Accepted, InProgress, Completed], "oldest first");
    assert_eq!(changed.events[1..], [accepted, started, completed], "who, when and why");
    assert_eq!(changed.reached(Accepted), Some(at + 60));

    // A refusal keeps its reason; the sender's withdrawal is recorded as the sender's.
    let other = created(&store, &referral("school", "p2", "library", None, at + 10)).await;
    let withdrawn = ReferralEvent {
        by_user: None,
        ..event(Cancelled, at + 20, "school", Some("Moved to Sacramento"))
    };
    assert!(
        store
            .change_referral(other, Requested, &withdrawn, None)
            .await
            .expect("change")
    );
    let other = store.referral(other).await.expect("read").expect("found");
    assert_eq!((other.status, other.outcome_milestone), (Cancelled, None));
    assert_eq!(other.events.last(), Some(&withdrawn));
}

/// A referral's outcome milestone stays on the sender's record and names the organization that
/// delivered it; crediting is once, for a milestone that exists and an organization that does,
/// and a re-import of the sender's package keeps it.
pub async fn outcome_milestones_name_the_organization_that_delivered_them<B: Backend>(backend: &B) {
    let store = backend.open(None).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let package = crate::write_package(dir.path(), "demo", &demo_files());
    let (summary, issues) = crate::import(&store, &package).await;
    assert!(summary.committed, "the demo package imports: {issues:?}");
    let outcome = MilestoneRecord {
        org_id: id("school"),
        participant_id: id("p1"),
        date: day(2025, 2, 3),
        milestone: "credentials.naturalized".into(),
        element: "credentials".into(),
    };
    store
        .record_milestone(&outcome)
        .await
        .expect("milestone")
        .expect("recorded");
    assert!(store.credit_milestone(&outcome, "library").await.expect("credit"));
    assert!(
        !store.credit_milestone(&outcome, "consortium").await.expect("credit"),
        "credited once"
    );
    let elsewhere = MilestoneRecord {
        date: day(2025, 2, 4),
        ..outcome.clone()
    };
    assert!(
        !store.credit_milestone(&elsewhere, "library").await.expect("credit"),
        "no such milestone"
    );
    let imported = MilestoneRecord {
        date: day(2025, 1, 10),
        milestone: "english.efl_gain".into(),
        element: "english".into(),
        ..outcome.clone()
    };
    assert!(
        !store.credit_milestone(&imported, "nowhere").await.expect("credit"),
        "an unknown organization"
    );
    let other_org = MilestoneRecord {
        org_id: id("library"),
        ..outcome.clone()
    };
    assert!(
        !store.credit_milestone(&other_org, "school").await.expect("credit"),
        "another organization's participant"
    );
    let delivered = |pathway: iip_store::Pathway| {
        pathway
            .milestones
            .into_iter()
            .map(|m| (m.milestone, m.delivered_by))
            .collect::<Vec<_>>()
    };
    let row = store
        .participant_record("school", "p1")
        .await
        .expect("read")
        .expect("p1")
        .row;
    let expected = vec![
        ("english.efl_gain".to_owned(), None),
        ("credentials.naturalized".to_owned(), Some("library".to_owned())),
    ];
    assert_eq!(delivered(store.pathway(row).await.expect("pathway")), expected);
    let (again, issues) = crate::import(&store, &package).await;
    assert!(again.committed, "{issues:?}");
    assert_eq!(
        delivered(store.pathway(row).await.expect("pathway")),
        expected,
        "a re-import keeps the credit"
    );
}

pub async fn concurrent_referral_changes_from_the_same_state_have_one_winner<B: Backend>(backend: &B) {
    use ReferralStatus::*;
    let store = imported(backend, None).await;
    for n in 0..5 {
        let at = 1_735_000_000 + n;
        let id = created(&store, &referral("school", "p1", "library", None, at)).await;
        let mut tasks = Vec::new();
        for worker in 0..8i64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let to = match worker % 3 {
                    0 => event(Accepted, at + worker, "library", None),
                    1 => event(Rejected, at + worker, "library", Some("No places")),
                    _ => event(Cancelled, at + worker, "school", Some("Not needed")),
                };
                let won = store.change_referral(id, Requested, &to, None).await.expect("change");
                (won, to)
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            let (won, to) = task.await.expect("worker");
            if won {
                winners.push(to);
            }
        }
        assert_eq!(winners.len(), 1, "exactly one of eight racing changes wins");
        let referral = store.referral(id).await.expect("read").expect("found");
        assert_eq!(referral.status, winners[0].status);
        assert_eq!(referral.events.len(), 2, "only the winner's event is appended");
        assert_eq!(referral.events[1], winners[0]);
    }
}

pub async fn referrals_are_listed_by_organization_and_participant_newest_first<B: Backend>(backend: &B) {
    let store = imported(backend, None).await;
    let at = 1_735_000_000;
    let a = created(&store, &referral("school", "p1", "library", None, at)).await;
    let b = created(&store, &referral("school", "p2", "library", None, at + 10)).await;
    let c = created(&store, &referral("library", "L7", "school", None, at + 20)).await;
    let d = created(&store, &referral("school", "p1", "consortium", None, at + 30)).await;
    // An older request recorded later still sorts by when it was made.
    let e = created(&store, &referral("school", "p2", "consortium", None, at - 10)).await;
    store
        .change_referral(
            a,
            ReferralStatus::Requested,
            &event(ReferralStatus::Accepted, at + 40, "library", None),
            None,
        )
        .await
        .expect("change");
    let ids = |filter: ReferralFilter<'static>| {
        let store = store.clone();
        async move {
            store
                .referrals(filter)
                .await
                .expect("referrals")
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(ReferralFilter::All).await, [d, c, b, a, e]);
    assert_eq!(
        ids(ReferralFilter::Organization("library")).await,
        [c, b, a],
        "sent or received"
    );
    assert_eq!(ids(ReferralFilter::Organization("consortium")).await, [d, e]);
    assert_eq!(ids(ReferralFilter::Organization("nowhere")).await, Vec::<i64>::new());
    assert_eq!(
        ids(ReferralFilter::Participant {
            org_id: "school",
            participant_id: "p1"
        })
        .await,
        [d, a]
    );
    assert_eq!(
        ids(ReferralFilter::Participant {
            org_id: "library",
            participant_id: "p1"
        })
        .await,
        Vec::<i64>::new(),
        "the sender's participant only"
    );
    // Listed with their events, like one read.
    let all = store.referrals(ReferralFilter::All).await.expect("referrals");
    for referral in &all {
        assert_eq!(referral.events[0].status, ReferralStatus::Requested);
        assert_eq!(
            store.referral(referral.id).await.expect("read").as_ref(),
            Some(referral)
        );
    }
    let listed_a = all.iter().find(|r| r.id == a).expect("a");
    assert_eq!(listed_a.events.len(), 2);
    assert_eq!(listed_a.status, ReferralStatus::Accepted);
}

pub async fn forgetting_removes_referrals_services_and_partnerships<B: Backend>(backend: &B) {
    let key = MasterKey::generate().expect("key");
    let store = imported(backend, Some(key)).await;
    let at = 1_735_000_000;
    store
        .put_services(&[
            service("tutoring", "library", "Homework help"),
            service("esl", "school", "ESL"),
        ])
        .await
        .expect("put")
        .expect("known organizations");
    store
        .put_partnerships(&[
            partnership("a1", "school", "library", PartnershipKind::Referral),
            partnership("a2", "consortium", "library", PartnershipKind::Funding),
            partnership("a3", "school", "consortium", PartnershipKind::Funding),
        ])
        .await
        .expect("put")
        .expect("known organizations");
    let p1_first = created(&store, &referral("school", "p1", "library", Some("tutoring"), at)).await;
    let p1_second = created(&store, &referral("school", "p1", "consortium", None, at + 1)).await;
    store
        .change_referral(
            p1_first,
            ReferralStatus::Requested,
            &event(ReferralStatus::Rejected, at + 2, "library", Some("Full")),
            None,
        )
        .await
        .expect("change");
    let p2 = created(&store, &referral("school", "p2", "consortium", None, at + 3)).await;
    let l7 = created(&store, &referral("library", "L7", "school", Some("esl"), at + 4)).await;

    assert!(store.forget_participant("school", "p1").await.expect("forget"));
    assert!(store.referral(p1_first).await.expect("read").is_none());
    assert!(store.referral(p1_second).await.expect("read").is_none());
    assert!(
        store
            .referrals(ReferralFilter::Participant {
                org_id: "school",
                participant_id: "p1"
            })
            .await
            .expect("referrals")
            .is_empty(),
        "their referrals and events are gone"
    );
    let left: Vec<i64> = store
        .referrals(ReferralFilter::All)
        .await
        .expect("referrals")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, [l7, p2], "others keep theirs");

    // An organization: its services, its agreements, and referrals it sent or received.
    let received = created(&store, &referral("school", "p2", "library", None, at + 5)).await;
    store.forget_organization("library").await.expect("shred");
    let services: Vec<String> = store
        .services()
        .await
        .expect("services")
        .iter()
        .map(|s| s.service_id.to_string())
        .collect();
    assert_eq!(services, ["esl"]);
    let agreements: Vec<String> = store
        .partnerships()
        .await
        .expect("partnerships")
        .iter()
        .map(|p| p.partnership_id.to_string())
        .collect();
    assert_eq!(agreements, ["a3"]);
    assert!(store.referral(l7).await.expect("read").is_none(), "sent");
    assert!(store.referral(received).await.expect("read").is_none(), "received");
    let left: Vec<i64> = store
        .referrals(ReferralFilter::All)
        .await
        .expect("referrals")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, [p2]);
    let p2 = store.referral(p2).await.expect("read").expect("kept");
    assert_eq!(p2.note.as_deref(), Some("Needs evening classes"), "and still opens");
}

/// Planted in a note and a reason: neither may appear in a sealed store's bytes.
const NOTE_CANARY: &str = "CanaryNote-Qx7vT3";
const REASON_CANARY: &str = "CanaryReason-Zp4kW9";

pub async fn sealed_referral_notes_leave_nothing_readable<B: Backend>(backend: &B) {
    let key = MasterKey::generate().expect("key");
    let store = imported(backend, Some(key.clone())).await;
    let at = 1_735_000_000;
    let mut new = referral("school", "p1", "library", None, at);
    new.note = Some(format!("Prefers mornings {NOTE_CANARY}"));
    let id = created(&store, &new).await;
    let rejected = event(ReferralStatus::Rejected, at + 5, "library", Some(REASON_CANARY));
    assert!(
        store
            .change_referral(id, ReferralStatus::Requested, &rejected, None)
            .await
            .expect("change")
    );
    let raw = backend.raw_contents().await;
    assert!(
        raw.contains("p1") && raw.contains("english"),
        "the raw contents are really read"
    );
    assert!(!raw.contains(NOTE_CANARY), "the note is readable in the raw store");
    assert!(!raw.contains(REASON_CANARY), "the reason is readable in the raw store");
    // The key opens them.
    let found = store.referral(id).await.expect("read").expect("found");
    assert_eq!(found.note, new.note);
    assert_eq!(found.events[1].reason.as_deref(), Some(REASON_CANARY));
    assert_eq!(
        store
            .referrals(ReferralFilter::Organization("library"))
            .await
            .expect("referrals"),
        std::slice::from_ref(&found)
    );
    let digest = store.content_digest().await.expect("digest");
    store.close().await;

    // Without the key: nothing opens and no note is written in the clear.
    let keyless = backend.open(None).await;
    assert!(keyless.referral(id).await.is_err(), "a sealed note needs the key");
    assert!(
        keyless
            .create_referral(&referral("school", "p2", "library", None, at))
            .await
            .is_err(),
        "a sealed store refuses clear notes"
    );
    let mut silent = referral("school", "p2", "library", None, at);
    silent.note = None;
    let noteless = keyless
        .create_referral(&silent)
        .await
        .expect("a referral without a note needs no key")
        .expect("created");
    assert_eq!(
        keyless.referral(noteless).await.expect("read").expect("found").note,
        None
    );
    keyless.close().await;

    // Rotation keeps them readable under the new master key; the sealed copy survives it.
    let store = backend.open(Some(key)).await;
    let rotated = MasterKey::generate().expect("key");
    store.rotate_master_key(&rotated, |_, _| {}).await.expect("rotate");
    store.close().await;
    let store = backend.open(Some(rotated)).await;
    assert_eq!(store.referral(id).await.expect("read").expect("found"), found);
    assert_eq!(
        store.content_digest().await.expect("digest"),
        digest,
        "referrals are not digested"
    );
    store.close().await;
}

pub async fn clear_referral_notes_are_sealed_with_identities<B: Backend>(backend: &B) {
    let store = imported(backend, None).await;
    let at = 1_735_000_000;
    let mut new = referral("school", "p1", "library", None, at);
    new.note = Some(NOTE_CANARY.into());
    let id = created(&store, &new).await;
    let rejected = event(ReferralStatus::Rejected, at + 5, "library", Some(REASON_CANARY));
    assert!(
        store
            .change_referral(id, ReferralStatus::Requested, &rejected, None)
            .await
            .expect("change")
    );
    assert_eq!(store.referral(id).await.expect("read").expect("found").note, new.note);
    let raw = backend.raw_contents().await;
    assert!(
        raw.contains(NOTE_CANARY) && raw.contains(REASON_CANARY),
        "without a key they are stored in the clear (and the raw contents are really read)"
    );
    store.close().await;

    // `iip keys init` on an existing store: identities and referral texts sealed at once.
    let key = MasterKey::generate().expect("key");
    let store = backend.open(Some(key)).await;
    assert_eq!(
        store.seal_clear_identities().await.expect("seal"),
        3,
        "identities counted"
    );
    let raw = backend.raw_contents().await;
    assert!(!raw.contains(NOTE_CANARY), "the note is readable in the raw store");
    assert!(!raw.contains(REASON_CANARY), "the reason is readable in the raw store");
    let found = store.referral(id).await.expect("read").expect("found");
    assert_eq!(found.note, new.note);
    assert_eq!(found.events[1].reason.as_deref(), Some(REASON_CANARY));
    store.close().await;
}
