//! The checks, each against a fresh store of the backend under test.

use iip_domain::audit::AuditEvent;
use iip_domain::records::{Activity, Assessment, Hours, Identity, MilestoneRecord, Participant};
use iip_domain::{Date, Id, Program};
use iip_store::{
    AccountStore, AuditStore, CaseStore, Claim, ConsentScope, IdentityStore, NewConsent, NewUser, PathwayKind, Refused,
    SessionLimits, Store,
};
use iip_vault::MasterKey;

use crate::{ACTIVITIES, ASSESSMENTS, Backend, Facts, IDENTIFYING, MILESTONES, ORGS, PARTICIPANTS, demo_files};

fn id(raw: &str) -> Id {
    Id::parse(raw).expect("id")
}

fn day(y: i32, m: u8, d: u8) -> Date {
    Date::from_ymd(y, m, d).expect("date")
}

async fn imported<B: Backend>(backend: &B, key: Option<MasterKey>) -> (B::S, tempfile::TempDir) {
    let store = backend.open(key).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let package = crate::write_package(dir.path(), "demo", &demo_files());
    let (summary, issues) = crate::import(&store, &package).await;
    assert!(summary.committed, "the demo package imports: {issues:?}");
    (store, dir)
}

pub async fn a_valid_import_stores_every_record_and_a_second_changes_nothing<B: Backend>(backend: &B) {
    let store = backend.open(None).await;
    assert_eq!(store.revision().await.expect("revision"), 0);
    assert_eq!(store.latest_activity_date().await.expect("latest"), None);
    let dir = tempfile::tempdir().expect("tempdir");
    let package = crate::write_package(dir.path(), "demo", &demo_files());
    let (summary, issues) = crate::import(&store, &package).await;
    assert!(summary.committed && issues.is_empty(), "{issues:?}");
    let counts = store.counts().await.expect("counts");
    assert_eq!(
        (counts.organizations, counts.participants, counts.identities),
        (3, 3, 3)
    );
    // The two identical activity rows are one stored row with two occurrences.
    assert_eq!((counts.activities, counts.milestones, counts.assessments), (3, 1, 2));
    assert_eq!(store.revision().await.expect("revision"), 1);
    assert_eq!(
        store.latest_activity_date().await.expect("latest"),
        Some(day(2024, 10, 5))
    );
    let orgs = store.organizations().await.expect("organizations");
    let ids: Vec<&str> = orgs.iter().map(|o| o.org_id.as_str()).collect();
    assert_eq!(ids, ["consortium", "library", "school"]);
    assert_eq!(orgs[2].parent_id.as_deref(), Some("consortium"));

    let digest = store.content_digest().await.expect("digest");
    let (again, issues) = crate::import(&store, &package).await;
    assert!(again.committed, "{issues:?}");
    assert_eq!(
        store.content_digest().await.expect("digest"),
        digest,
        "a re-import changes nothing"
    );
    assert_eq!(store.counts().await.expect("counts"), counts);
    assert_eq!(
        store.revision().await.expect("revision"),
        2,
        "every commit bumps the revision"
    );

    // A changed score is a change.
    let changed = ASSESSMENTS.replace("201", "202");
    let files = [("assessments.csv", changed.as_str())];
    let package = crate::write_package(dir.path(), "changed", &files);
    let (summary, issues) = crate::import(&store, &package).await;
    assert!(summary.committed, "{issues:?}");
    assert_ne!(store.content_digest().await.expect("digest"), digest);
}

pub async fn an_invalid_import_changes_nothing<B: Backend>(backend: &B) {
    let (store, dir) = imported(backend, None).await;
    let before = (
        store.content_digest().await.expect("digest"),
        store.counts().await.expect("counts"),
        store.revision().await.expect("revision"),
    );
    // New valid rows and one bad date: nothing of it may land.
    let activities = format!("{ACTIVITIES}school,p2,2024-09-09,esl,2\nschool,p2,2024-13-01,esl,2\n");
    let participants = format!("{PARTICIPANTS}school,p9,,Ana,Ruiz,1970-03-04,female,es,94603,\n");
    let files = [
        ("organizations.csv", ORGS),
        ("participants.csv", participants.as_str()),
        ("activities.csv", activities.as_str()),
        ("milestones.csv", MILESTONES),
    ];
    let package = crate::write_package(dir.path(), "bad", &files);
    let (summary, issues) = crate::import(&store, &package).await;
    assert!(!summary.committed);
    assert_eq!(issues.len(), 1, "{issues:?}");
    let after = (
        store.content_digest().await.expect("digest"),
        store.counts().await.expect("counts"),
        store.revision().await.expect("revision"),
    );
    assert_eq!(after, before);
}

pub async fn scanned_facts_follow_the_records<B: Backend>(backend: &B) {
    let (store, _dir) = imported(backend, None).await;
    let facts = Facts::of(&store).await;
    assert_eq!(facts.organizations.len(), 3);
    assert_eq!(facts.participants.len(), 3);
    let p1 = facts
        .participants
        .iter()
        .find(|p| p.participant_id == "p1")
        .expect("p1");
    assert_eq!((p1.org_id.as_str(), p1.person_key.as_deref()), ("school", Some("K1")));
    assert_eq!(
        p1.birth_year,
        Some(1990),
        "the birth year, not the date, reaches the engine"
    );
    let p2 = facts
        .participants
        .iter()
        .find(|p| p.participant_id == "p2")
        .expect("p2");
    assert_eq!(p2.barriers.len(), 1);
    // p1's two sessions of 3 hours are one fact of 6 hours.
    let p1_esl: Vec<_> = facts
        .activities
        .iter()
        .filter(|a| a.participant_row == p1.row)
        .collect();
    assert_eq!(p1_esl.len(), 1);
    assert_eq!((p1_esl[0].hundredths, p1_esl[0].program), (600, Program::Esl));
    assert_eq!(p1_esl[0].day, day(2024, 9, 1).day_number());
    assert_eq!(facts.milestones.len(), 1);
    assert_eq!(facts.milestones[0].milestone, "english.efl_gain");
    let scores: Vec<f64> = facts.assessments.iter().map(|s| s.score).collect();
    assert_eq!(scores.len(), 2);
    assert!(scores.contains(&201.0) && scores.contains(&215.5), "{scores:?}");
    // Facts arrive ordered by participant row (the engine relies on it).
    let rows: Vec<i64> = facts.activities.iter().map(|a| a.participant_row).collect();
    assert!(rows.windows(2).all(|w| w[0] <= w[1]));
}

pub async fn accounts_sessions_tokens_and_invites<B: Backend>(backend: &B) {
    let store = backend.open(None).await;
    let new = |email: &'static str, org: &'static str| NewUser {
        email,
        display_name: "Case Worker",
        org_id: org,
        role: "case_worker",
        password_hash: "$argon2id$fake",
    };
    let ana = store
        .create_user(&new("Ana@Example.org", "school"))
        .await
        .expect("create")
        .expect("new account");
    let bo = store
        .create_user(&new("bo@example.org", "library"))
        .await
        .expect("create")
        .expect("new account");
    assert_eq!(
        store
            .create_user(&new("ana@example.ORG", "library"))
            .await
            .expect("create"),
        None,
        "emails are unique whatever their case"
    );
    let found = store
        .user_by_email("ANA@example.org")
        .await
        .expect("by email")
        .expect("found");
    assert_eq!(
        (found.id, found.org_id.as_str(), found.disabled),
        (ana, "school", false)
    );
    let all: Vec<i64> = store.users(None).await.expect("users").iter().map(|u| u.id).collect();
    assert_eq!(all, [ana, bo], "ordered by email");
    let library: Vec<i64> = store
        .users(Some("library"))
        .await
        .expect("users")
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(library, [bo]);

    let limits = SessionLimits {
        idle: 100,
        absolute: 1000,
    };
    store.create_session(b"s1", ana, "csrf1", 0).await.expect("session");
    let live = store.session(b"s1", 50, limits).await.expect("session").expect("live");
    assert_eq!((live.user.id, live.csrf.as_str()), (ana, "csrf1"));
    assert!(
        store.session(b"s1", 50 + 101, limits).await.expect("session").is_none(),
        "idle"
    );
    assert!(
        store.session(b"s1", 60, limits).await.expect("session").is_none(),
        "an expired session is deleted"
    );
    store.create_session(b"s2", ana, "csrf2", 0).await.expect("session");
    let mut now = 0;
    while now + 90 <= 1000 {
        now += 90;
        assert!(
            store.session(b"s2", now, limits).await.expect("session").is_some(),
            "kept alive at {now}"
        );
    }
    assert!(
        store.session(b"s2", 1001, limits).await.expect("session").is_none(),
        "absolute limit"
    );
    store.create_session(b"s3", ana, "c", 0).await.expect("session");
    store.create_session(b"s4", ana, "c", 0).await.expect("session");
    store.delete_session(b"s3").await.expect("delete");
    assert!(store.session(b"s3", 1, limits).await.expect("session").is_none());
    assert!(store.session(b"s4", 1, limits).await.expect("session").is_some());
    store.set_password(ana, "$argon2id$new").await.expect("password");
    assert!(
        store.session(b"s4", 1, limits).await.expect("session").is_none(),
        "a new password ends sessions"
    );
    assert_eq!(
        store
            .user_by_id(ana)
            .await
            .expect("by id")
            .expect("found")
            .password_hash,
        "$argon2id$new"
    );
    store.create_session(b"s5", bo, "c", 0).await.expect("session");
    store.delete_user_sessions(bo).await.expect("sign out everywhere");
    assert!(store.session(b"s5", 1, limits).await.expect("session").is_none());

    store.create_api_token(b"t1", bo, "sis", 0, 1_000).await.expect("token");
    assert_eq!(
        store.api_token_user(b"t1", 5).await.expect("token").map(|u| u.id),
        Some(bo)
    );
    assert_eq!(store.revoke_api_tokens(bo, "sis").await.expect("revoke"), 1);
    assert_eq!(store.revoke_api_tokens(bo, "sis").await.expect("revoke"), 0);
    assert!(store.api_token_user(b"t1", 6).await.expect("token").is_none());

    store
        .create_api_token(b"t2", bo, "other", 0, 1_000)
        .await
        .expect("token");
    store.create_session(b"s6", bo, "c", 0).await.expect("session");
    store.set_user_disabled(bo, true).await.expect("disable");
    assert!(store.user_by_id(bo).await.expect("by id").expect("found").disabled);
    assert!(store.session(b"s6", 1, limits).await.expect("session").is_none());
    assert!(
        store.api_token_user(b"t2", 1).await.expect("token").is_none(),
        "a disabled account's token is dead"
    );
    store.set_user_disabled(bo, false).await.expect("enable");
    assert!(store.api_token_user(b"t2", 1).await.expect("token").is_some());
    assert!(store.api_token_user(b"t2", 999).await.expect("token").is_some());
    assert!(
        store.api_token_user(b"t2", 1_000).await.expect("token").is_none(),
        "a token ends at its expiry"
    );

    store.create_invite(b"i1", bo, 0, 100).await.expect("invite");
    assert_eq!(
        store.invite_user(b"i1", 50).await.expect("invite").map(|u| u.id),
        Some(bo)
    );
    assert!(
        store.invite_user(b"i1", 100).await.expect("invite").is_none(),
        "expired"
    );
    assert!(store.use_invite(b"i1", 50).await.expect("use"));
    assert!(!store.use_invite(b"i1", 51).await.expect("use"), "used once");
    assert!(store.invite_user(b"i1", 51).await.expect("invite").is_none());
}

fn participant(org: &str, pid: &str, first: &str, last: &str) -> Participant {
    Participant {
        org_id: id(org),
        participant_id: id(pid),
        person_key: None,
        identity: Identity {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            date_of_birth: Some(day(1980, 2, 29)),
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

fn activity(org: &str, pid: &str, date: Date, hundredths: u32) -> Activity {
    Activity {
        org_id: id(org),
        participant_id: id(pid),
        date,
        program: Program::Esl,
        hours: Hours::from_hundredths(hundredths).expect("hours"),
        element: Some("english".into()),
    }
}

pub async fn case_work_writes_and_reads_back<B: Backend>(backend: &B) {
    let (store, _dir) = imported(backend, None).await;
    let revision = store.revision().await.expect("revision");
    let created = store
        .create_participant(&participant("school", "c1", "Wanjiru", "Otieno"))
        .await
        .expect("create")
        .expect("created");
    assert_eq!(created.revision, revision + 1);
    let fact = created.fact.expect("a participant fact");
    assert_eq!((fact.participant_id.as_str(), fact.birth_year), ("c1", Some(1980)));
    assert_eq!(
        store
            .create_participant(&participant("school", "c1", "X", "Y"))
            .await
            .expect("create"),
        Err(Refused::Duplicate)
    );
    assert_eq!(
        store
            .create_participant(&participant("nowhere", "c1", "X", "Y"))
            .await
            .expect("create"),
        Err(Refused::Unknown)
    );
    let record = store
        .participant_record("school", "c1")
        .await
        .expect("record")
        .expect("found");
    assert_eq!(record.row, fact.row);
    assert_eq!(record.participant, participant("school", "c1", "Wanjiru", "Otieno"));
    assert!(
        store
            .participant_record("library", "c1")
            .await
            .expect("record")
            .is_none()
    );

    let on = day(2025, 3, 4);
    let first = store
        .record_activity(&activity("school", "c1", on, 150))
        .await
        .expect("activity")
        .expect("recorded");
    assert_eq!(
        first.fact.map(|f| (f.participant_row, f.hundredths)),
        Some((fact.row, 150))
    );
    store
        .record_activity(&activity("school", "c1", on, 150))
        .await
        .expect("activity")
        .expect("a second identical session counts again");
    assert_eq!(
        store
            .record_activity(&activity("school", "nobody", on, 150))
            .await
            .expect("activity"),
        Err(Refused::Unknown)
    );
    let milestone = MilestoneRecord {
        org_id: id("school"),
        participant_id: id("c1"),
        date: on,
        milestone: "english.efl_gain".into(),
        element: "english".into(),
    };
    store
        .record_milestone(&milestone)
        .await
        .expect("milestone")
        .expect("recorded");
    assert_eq!(
        store.record_milestone(&milestone).await.expect("milestone"),
        Err(Refused::Duplicate)
    );
    let score = |score: f64| Assessment {
        org_id: id("school"),
        participant_id: id("c1"),
        date: on,
        instrument: id("casas_reading"),
        score,
    };
    let new_score = store
        .record_assessment(&score(210.0))
        .await
        .expect("score")
        .expect("recorded");
    assert!(new_score.fact.is_some());
    let replaced = store
        .record_assessment(&score(212.5))
        .await
        .expect("score")
        .expect("recorded");
    assert!(replaced.fact.is_none(), "a replaced score asks readers to rebuild");
    let goal = store
        .add_pathway_item(
            fact.row,
            PathwayKind::Goal,
            "english",
            "Pass the citizenship interview",
            Some(day(2026, 1, 1)),
            on,
        )
        .await
        .expect("goal");
    store
        .add_pathway_item(fact.row, PathwayKind::Need, "english", "Evening classes", None, on)
        .await
        .expect("need");

    let pathway = store.pathway(fact.row).await.expect("pathway");
    assert_eq!(pathway.activities.len(), 2, "two sessions");
    assert!(pathway.activities.iter().all(|a| a.hundredths == 150 && a.date == on));
    assert_eq!(pathway.milestones.len(), 1);
    assert_eq!(pathway.assessments.len(), 1);
    assert_eq!(pathway.assessments[0].score, 212.5);
    let kinds: Vec<(PathwayKind, Option<Date>)> = pathway.items.iter().map(|i| (i.kind, i.target_date)).collect();
    assert_eq!(
        kinds,
        [(PathwayKind::Goal, Some(day(2026, 1, 1))), (PathwayKind::Need, None)]
    );
    assert_eq!(pathway.items[0].id, goal);
    // The record and pathway read together are the two read apart; another organization's
    // id finds nothing.
    let (record, together) = store
        .participant_with_pathway("school", "c1")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(record.row, fact.row);
    assert_eq!(
        Some(record.participant),
        store
            .participant_record("school", "c1")
            .await
            .expect("record")
            .map(|r| r.participant)
    );
    assert_eq!(*together, pathway);
    assert!(
        store
            .participant_with_pathway("library", "c1")
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(store.revision().await.expect("revision"), revision + 6);

    // Search: by id prefix, by part of a name (any case), by full name; one organization only.
    let ids = |found: Vec<iip_store::ParticipantSummary>| -> Vec<String> {
        found.into_iter().map(|p| p.participant_id).collect()
    };
    assert_eq!(
        ids(store.search_participants("school", "", 50).await.expect("all")),
        ["c1", "p1", "p2"]
    );
    assert_eq!(
        ids(store.search_participants("school", "p", 50).await.expect("prefix")),
        ["p1", "p2"]
    );
    assert_eq!(
        ids(store.search_participants("school", "wanj", 50).await.expect("part")),
        ["c1"]
    );
    assert_eq!(
        ids(store
            .search_participants("school", "Wanjiru Otieno", 50)
            .await
            .expect("full")),
        ["c1"]
    );
    assert_eq!(
        ids(store
            .search_participants("library", "Wanjiru", 50)
            .await
            .expect("other org")),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(store.search_participants("school", "%", 50).await.expect("wildcard")),
        Vec::<String>::new()
    );
    let summary = store.search_participants("school", "c1", 5).await.expect("by id");
    assert_eq!(summary[0].last_activity, Some(on));
    assert_eq!(summary[0].first_name.as_deref(), Some("Wanjiru"));
}

pub async fn self_assessment_links_are_used_once<B: Backend>(backend: &B) {
    let (store, _dir) = imported(backend, None).await;
    let row = store
        .participant_record("school", "p2")
        .await
        .expect("record")
        .expect("found")
        .row;
    store
        .create_self_assessment_link(row, b"link", 10, 100)
        .await
        .expect("link");
    let linked = store
        .self_assessment_link(b"link", 50)
        .await
        .expect("link")
        .expect("live");
    assert_eq!(
        (linked.org_id.as_str(), linked.participant_id.as_str()),
        ("school", "p2")
    );
    assert!(
        store.self_assessment_link(b"link", 100).await.expect("link").is_none(),
        "expired"
    );
    assert!(store.self_assessment_link(b"other", 50).await.expect("link").is_none());
    let (a, b) = tokio::join!(
        store.use_self_assessment_link(b"link", 60),
        store.use_self_assessment_link(b"link", 60)
    );
    assert_eq!(
        [a.expect("use"), b.expect("use")].iter().filter(|used| **used).count(),
        1,
        "of two racing submissions exactly one wins"
    );
    assert!(store.self_assessment_link(b"link", 61).await.expect("link").is_none());
}

pub async fn consent_is_dated_and_revocable<B: Backend>(backend: &B) {
    let (store, _dir) = imported(backend, None).await;
    let row = store
        .participant_record("school", "p1")
        .await
        .expect("record")
        .expect("found")
        .row;
    let open_ended = store
        .record_consent(
            row,
            &NewConsent {
                partner_org_id: "library",
                purpose: "referral",
                scope: ConsentScope::Referrals,
                valid_from: day(2025, 1, 1),
                valid_to: None,
                recorded_by: 7,
            },
        )
        .await
        .expect("consent");
    let dated = store
        .record_consent(
            row,
            &NewConsent {
                partner_org_id: "clinic",
                purpose: "health navigation",
                scope: ConsentScope::Pathway,
                valid_from: day(2025, 1, 1),
                valid_to: Some(day(2025, 6, 30)),
                recorded_by: 7,
            },
        )
        .await
        .expect("consent");
    let consents = store.consents(row).await.expect("consents");
    assert_eq!(consents.len(), 2);
    assert!(consents.iter().all(|c| !c.revoked));
    assert_eq!(consents[1].valid_to, Some(day(2025, 6, 30)));
    // Each consent keeps its scope, and shares it.
    assert_eq!(
        consents.iter().map(|c| c.scope).collect::<Vec<_>>(),
        [ConsentScope::Referrals, ConsentScope::Pathway]
    );
    let scopes = store.shared_with("clinic", day(2025, 3, 1)).await.expect("shared");
    assert_eq!(
        scopes.iter().map(|s| s.scope).collect::<Vec<_>>(),
        [ConsentScope::Pathway]
    );
    let shared = |partner: &'static str, on: Date| {
        let store = store.clone();
        async move {
            store
                .shared_with(partner, on)
                .await
                .expect("shared")
                .into_iter()
                .map(|s| (s.owner_org_id, s.participant_id, s.consent_id))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        shared("clinic", day(2025, 6, 30)).await,
        [("school".into(), "p1".into(), dated)]
    );
    assert!(shared("clinic", day(2025, 7, 1)).await.is_empty(), "after its end");
    assert!(shared("clinic", day(2024, 12, 31)).await.is_empty(), "before its start");
    assert_eq!(shared("library", day(2030, 1, 1)).await.len(), 1);
    assert!(store.revoke_consent(row, open_ended).await.expect("revoke"));
    assert!(!store.revoke_consent(row, open_ended).await.expect("revoke"), "once");
    let other = store
        .participant_record("school", "p2")
        .await
        .expect("record")
        .expect("found")
        .row;
    assert!(
        !store.revoke_consent(other, dated).await.expect("revoke"),
        "not another participant's consent"
    );
    assert!(shared("library", day(2025, 2, 1)).await.is_empty(), "revoked at once");
    assert!(store.consents(row).await.expect("consents")[0].revoked);
}

pub async fn concurrent_audit_appends_form_one_chain<B: Backend>(backend: &B) {
    let store = backend.open(None).await;
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..10 {
                let event = AuditEvent {
                    at: 1_700_000_000 + n,
                    user_id: Some(worker),
                    org_id: "school".into(),
                    action: "read".into(),
                    subject: format!("participant:school/p{n}"),
                    reason: "conformance".into(),
                };
                store
                    .append_audit(&event, iip_auth::audit::chain_hash)
                    .await
                    .expect("append");
            }
        }));
    }
    for task in tasks {
        task.await.expect("worker");
    }
    let first = store.audit_events(0, 25).await.expect("events");
    let rest = store
        .audit_events(first.last().expect("some").id, 100)
        .await
        .expect("events");
    assert_eq!((first.len(), rest.len()), (25, 15));
    let all: Vec<_> = first.iter().chain(&rest).collect();
    iip_auth::audit::verify(
        iip_auth::audit::GENESIS.to_vec(),
        all.iter()
            .map(|e| (e.id, &e.event, e.prev_hash.as_slice(), e.hash.as_slice())),
    )
    .expect("one unbroken chain");
    // A forged entry does not verify.
    let mut forged = all[3].event.clone();
    forged.subject = "participant:school/someone-else".into();
    let entries = all.iter().enumerate().map(|(i, e)| {
        let event = if i == 3 { &forged } else { &e.event };
        (e.id, event, e.prev_hash.as_slice(), e.hash.as_slice())
    });
    assert!(iip_auth::audit::verify(iip_auth::audit::GENESIS.to_vec(), entries).is_err());
}

/// Audit entries appended alone (a read's) and with case writes (a change's), at once from
/// many tasks, form one unbroken chain: a backend may commit the two kinds of batch on
/// different connections, but never as two chains.
pub async fn audit_entries_alone_and_with_writes_form_one_chain<B: Backend>(backend: &B) {
    let (store, _dir) = imported(backend, None).await;
    let event = |worker: i64, n: i64, action: &str| AuditEvent {
        at: 1_700_000_000 + n,
        user_id: Some(worker),
        org_id: "school".into(),
        action: action.into(),
        subject: format!("participant:school/p{n}"),
        reason: "conformance".into(),
    };
    let mut tasks = Vec::new();
    for worker in 0..4_i64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..15_i64 {
                let entry = event(worker, n, if worker % 2 == 0 { "read" } else { "change" });
                let audited = store.append_audit(&entry, iip_auth::audit::chain_hash);
                if worker % 2 == 0 {
                    audited.await.expect("read entry");
                    continue;
                }
                let first = Date::from_ymd(2024, 1, 1).expect("date").day_number();
                let day = Date::from_day_number(first + i32::try_from(n + 15 * worker).expect("small")).expect("date");
                let write = activity("school", "p2", day, 100);
                let (written, audited) = tokio::join!(store.record_activity(&write), audited);
                written.expect("activity").expect("recorded");
                audited.expect("change entry");
            }
        }));
    }
    for task in tasks {
        task.await.expect("worker");
    }
    let all = store.audit_events(0, 1000).await.expect("events");
    assert_eq!(all.len(), 60);
    iip_auth::audit::verify(
        iip_auth::audit::GENESIS.to_vec(),
        all.iter()
            .map(|e| (e.id, &e.event, e.prev_hash.as_slice(), e.hash.as_slice())),
    )
    .expect("one unbroken chain");
    let pathway = store
        .participant_with_pathway("school", "p2")
        .await
        .expect("read")
        .expect("found")
        .1;
    assert_eq!(
        pathway.activities.len(),
        1 + 30,
        "the import's session and the 30 written"
    );
}

pub async fn sealed_identities_leave_nothing_readable<B: Backend>(backend: &B) {
    let key = MasterKey::generate().expect("key");
    let (store, dir) = imported(backend, Some(key.clone())).await;
    assert!(store.holds_data_keys().await.expect("keys"));
    let raw = backend.raw_contents().await;
    assert!(
        raw.contains("p1") && raw.contains("94601"),
        "the raw contents are really read"
    );
    for value in IDENTIFYING {
        assert!(!raw.contains(value), "{value} is readable in the raw store");
    }
    // The key opens them, and names are found by their blind indexes.
    let record = store
        .participant_record("school", "p1")
        .await
        .expect("record")
        .expect("found");
    assert_eq!(record.participant.identity.last_name.as_deref(), Some("Quispe-Huaman"));
    let found = store
        .search_participants("school", "zenaida quispe-huaman", 10)
        .await
        .expect("search");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].first_name.as_deref(), Some("Zenaida"));
    store.close().await;

    // Without the key nothing opens and nothing is written in the clear.
    let keyless = backend.open(None).await;
    assert!(keyless.participant_record("school", "p1").await.is_err());
    let refused = keyless
        .create_participant(&participant("school", "c9", "Ana", "Ruiz"))
        .await;
    assert!(refused.is_err(), "a sealed store refuses clear identities");
    // A different key opens nothing either.
    let wrong = backend.open(Some(MasterKey::generate().expect("key"))).await;
    assert!(wrong.participant_record("school", "p1").await.is_err());

    // Rotation re-wraps the data keys: the new master key opens everything, the old none.
    drop((keyless, wrong));
    let store = backend.open(Some(key.clone())).await;
    let digest = store.content_digest().await.expect("digest");
    let rotated = MasterKey::generate().expect("key");
    let mut seen = Vec::new();
    let total = store
        .rotate_master_key(&rotated, |done, total| seen.push((done, total)))
        .await
        .expect("rotate");
    assert_eq!(total, 2, "one data key per organization with identities");
    assert_eq!(seen, [(1, 2), (2, 2)]);
    store.close().await;
    let store = backend.open(Some(rotated)).await;
    assert_eq!(store.content_digest().await.expect("digest"), digest);
    store.close().await;
    assert!(
        backend
            .open(Some(key))
            .await
            .participant_record("school", "p1")
            .await
            .is_err()
    );

    drop(dir);
}

pub async fn concurrent_case_writes_all_land<B: Backend>(backend: &B) {
    let (store, _dir) = imported(backend, None).await;
    let revision = store.revision().await.expect("revision");
    let mut tasks = Vec::new();
    for worker in 0..8u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut revisions = Vec::new();
            for n in 0..25u32 {
                let on = day(2025, 1 + (n % 12) as u8, 1 + worker as u8);
                let recorded = store
                    .record_activity(&activity("school", "p2", on, 100 + n))
                    .await
                    .expect("write")
                    .expect("recorded");
                revisions.push(recorded.revision);
            }
            revisions
        }));
    }
    let mut revisions = Vec::new();
    for task in tasks {
        revisions.extend(task.await.expect("worker"));
    }
    revisions.sort_unstable();
    let expected: Vec<i64> = (revision + 1..=revision + 200).collect();
    assert_eq!(revisions, expected, "every write got its own revision");
    let row = store
        .participant_record("school", "p2")
        .await
        .expect("record")
        .expect("found")
        .row;
    assert_eq!(store.pathway(row).await.expect("pathway").activities.len(), 201);
}

pub async fn forgetting_removes_identities_and_keeps_counts<B: Backend>(backend: &B) {
    let key = MasterKey::generate().expect("key");
    let (store, _dir) = imported(backend, Some(key)).await;
    let facts = Facts::of(&store).await.portable();
    assert!(store.forget_participant("school", "p2").await.expect("forget"));
    assert!(!store.forget_participant("school", "p2").await.expect("forget"), "once");
    let p2 = store
        .participant_record("school", "p2")
        .await
        .expect("record")
        .expect("the record stays");
    assert!(p2.participant.identity.is_empty());
    assert_eq!(store.forget_organization("library").await.expect("shred"), 1);
    let counts = store.counts().await.expect("counts");
    assert_eq!((counts.participants, counts.identities), (3, 1));
    assert_eq!(Facts::of(&store).await.portable(), facts, "aggregates do not change");
    let l7 = store
        .participant_record("library", "L7")
        .await
        .expect("record")
        .expect("the record stays");
    assert!(l7.participant.identity.is_empty());
    let p1 = store
        .participant_record("school", "p1")
        .await
        .expect("record")
        .expect("found");
    assert_eq!(
        p1.participant.identity.first_name.as_deref(),
        Some("Zenaida"),
        "others keep theirs"
    );
}

pub async fn refusals_among_concurrent_writes_leave_the_others_whole<B: Backend>(backend: &B) {
    let (store, _dir) = imported(backend, None).await;
    let mut tasks = Vec::new();
    for n in 0..60u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let on = day(2025, 2, 1 + (n % 20) as u8);
            match n % 3 {
                // A milestone on 20 distinct dates, each sent three times: one lands, two are duplicates.
                0 | 1 => {
                    let milestone = MilestoneRecord {
                        org_id: id("school"),
                        participant_id: id("p1"),
                        date: on,
                        milestone: "civic.volunteered".into(),
                        element: "civic".into(),
                    };
                    store.record_milestone(&milestone).await.expect("write").is_ok()
                }
                // Unknown participants are refused.
                _ => store
                    .record_activity(&activity("school", "nobody", on, 100))
                    .await
                    .expect("write")
                    .is_ok(),
            }
        }));
    }
    let mut recorded = 0;
    for task in tasks {
        recorded += usize::from(task.await.expect("task"));
    }
    let row = store
        .participant_record("school", "p1")
        .await
        .expect("record")
        .expect("found")
        .row;
    let milestones = store.pathway(row).await.expect("pathway").milestones;
    let volunteered = milestones.iter().filter(|m| m.milestone == "civic.volunteered").count();
    assert_eq!(volunteered, 20, "one per date");
    assert_eq!(recorded, 20, "every other write was refused");
    assert_eq!(
        Facts::of(&store).await.activities.len(),
        3,
        "no activity for an unknown participant"
    );
}

/// What a write was refused as (`None`: recorded).
fn refusal<F>(written: iip_store::WriteResult<F>) -> Option<Refused> {
    written.expect("write").err()
}

/// Idempotency keys: a write sent again with its key is recorded once; the key used for
/// another request is refused; keys are per organization, kept only with a recorded write,
/// forgotten after a day; concurrent sends of one key record one write.
pub async fn idempotency_keys_record_a_write_once<B: Backend>(backend: &B) {
    let (store, _dir) = imported(backend, Some(MasterKey::generate().expect("key"))).await;
    let now = 1_800_000_000;
    let claim = |org: &str, key: &str, request: &str| Claim::new(org, key, request, now);
    let activities = |store: B::S| async move {
        let row = store
            .participant_record("school", "p2")
            .await
            .expect("record")
            .expect("found")
            .row;
        store.pathway(row).await.expect("pathway").activities.len()
    };
    let before = activities(store.clone()).await;
    let first = activity("school", "p2", day(2025, 3, 3), 150);
    let k1 = claim("school", "k1", "first");
    assert_eq!(refusal(store.record_activity_once(&first, Some(&k1)).await), None);
    assert_eq!(
        refusal(store.record_activity_once(&first, Some(&k1)).await),
        Some(Refused::Replayed)
    );
    let other = activity("school", "p2", day(2025, 3, 4), 150);
    assert_eq!(
        refusal(
            store
                .record_activity_once(&other, Some(&claim("school", "k1", "second")))
                .await
        ),
        Some(Refused::KeyReused)
    );
    assert_eq!(activities(store.clone()).await, before + 1, "recorded once");

    // Another organization's k1 is its own.
    let library = activity("library", "L7", day(2025, 3, 3), 150);
    assert_eq!(
        refusal(
            store
                .record_activity_once(&library, Some(&claim("library", "k1", "first")))
                .await
        ),
        None
    );
    // A refused write does not keep its key: the corrected write goes through with it.
    let unknown = activity("school", "nobody", day(2025, 3, 3), 150);
    assert_eq!(
        refusal(
            store
                .record_activity_once(&unknown, Some(&claim("school", "k2", "typo")))
                .await
        ),
        Some(Refused::Unknown)
    );
    assert_eq!(
        refusal(
            store
                .record_activity_once(&other, Some(&claim("school", "k2", "typo")))
                .await
        ),
        None
    );
    // Milestones, assessments and intake take keys too.
    let milestone = MilestoneRecord {
        org_id: id("school"),
        participant_id: id("p2"),
        date: day(2025, 3, 5),
        milestone: "civic.volunteered".into(),
        element: "civic".into(),
    };
    let k3 = claim("school", "k3", "milestone");
    assert_eq!(refusal(store.record_milestone_once(&milestone, Some(&k3)).await), None);
    assert_eq!(
        refusal(store.record_milestone_once(&milestone, Some(&k3)).await),
        Some(Refused::Replayed),
        "a replay, not a duplicate"
    );
    let score = Assessment {
        org_id: id("school"),
        participant_id: id("p2"),
        date: day(2025, 3, 5),
        instrument: id("casas_reading"),
        score: 221.0,
    };
    let k4 = claim("school", "k4", "score");
    assert_eq!(refusal(store.record_assessment_once(&score, Some(&k4)).await), None);
    assert_eq!(
        refusal(store.record_assessment_once(&score, Some(&k4)).await),
        Some(Refused::Replayed)
    );
    let newcomer = participant("school", "p9", "Ana", "Lima");
    let k5 = claim("school", "k5", "intake");
    assert_eq!(refusal(store.create_participant_once(&newcomer, Some(&k5)).await), None);
    assert_eq!(
        refusal(store.create_participant_once(&newcomer, Some(&k5)).await),
        Some(Refused::Replayed)
    );
    let without = store.create_participant(&newcomer).await.expect("write");
    assert_eq!(
        without.err(),
        Some(Refused::Duplicate),
        "without the key it is a duplicate"
    );

    // Eight sends of one key at once: one write.
    let before = activities(store.clone()).await;
    let third = activity("school", "p2", day(2025, 3, 6), 175);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, third, k6) = (store.clone(), third.clone(), claim("school", "k6", "third"));
            tokio::spawn(async move { store.record_activity_once(&third, Some(&k6)).await.expect("write") })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task").err());
    }
    assert_eq!(outcomes.iter().filter(|o| o.is_none()).count(), 1, "{outcomes:?}");
    assert_eq!(
        outcomes.iter().filter(|o| **o == Some(Refused::Replayed)).count(),
        7,
        "{outcomes:?}"
    );
    assert_eq!(activities(store.clone()).await, before + 1);

    // A day later the key is forgotten: the same request is a new write.
    let later = Claim::new("school", "k1", "first", now + iip_store::IDEMPOTENCY_KEY_SECONDS + 1);
    assert_eq!(refusal(store.record_activity_once(&first, Some(&later)).await), None);
    assert_eq!(activities(store.clone()).await, before + 2);
}
