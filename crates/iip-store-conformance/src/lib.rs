//! One behaviour for every store. Each check here is generic over a [`Backend`] (a fresh,
//! empty store it can open with or without a master key) and asserts what the `Store`
//! traits promise: all-or-nothing imports, idempotent re-imports, facts for the engine,
//! accounts and sessions, case work, one-time links, consent, the audit chain, sealed
//! identities and concurrent writers. `conformance_tests!` turns them into tests for one
//! backend; the SQLite and PostgreSQL test files call it.

use std::future::Future;
use std::path::Path;

use iip_domain::Date;
use iip_domain::facts::{ActivityFact, AssessmentFact, FactSink, MilestoneFact, OrgNode, ParticipantFact};
use iip_exchange::{ImportOptions, ImportSummary, Issue, import_package};
use iip_framework::Framework;
use iip_store::Store;
use iip_vault::MasterKey;

pub mod checks;
pub mod directory;

/// A fresh, empty store of one backend. Every `open` reaches the same database.
pub trait Backend: Send + Sync {
    type S: Store;

    fn open(&self, key: Option<MasterKey>) -> impl Future<Output = Self::S> + Send;

    /// Every byte the backend keeps for this store, as text where it can (the database file
    /// for SQLite, every table's rows for PostgreSQL): what a thief would read.
    fn raw_contents(&self) -> impl Future<Output = String> + Send;
}

/// The package the checks import: two organizations under a consortium, names, a duplicate
/// activity row (two sessions), a milestone and a score.
pub const ORGS: &str = "org_id,name,sector,level,parent_id\n\
consortium,Bay Consortium,education,region,\n\
school,Adult School,education,local,consortium\n\
library,City Library,public,city,consortium\n";
pub const PARTICIPANTS: &str = "org_id,participant_id,person_key,first_name,last_name,date_of_birth,gender,primary_language,zip,barriers\n\
school,p1,K1,Zenaida,Quispe-Huaman,1990-01-02,female,es,94601,\n\
school,p2,,Minh,Nguyen,1985-05-06,male,vi,94602,low_literacy\n\
library,L7,K1,Zenaida,Quispe-Huaman,1990-01-02,female,es,94601,\n";
pub const ACTIVITIES: &str = "org_id,participant_id,date,program,hours\n\
school,p1,2024-09-01,esl,3\n\
school,p1,2024-09-01,esl,3\n\
school,p2,2024-09-02,citizenship,2.5\n\
library,L7,2024-10-05,other,1.25\n";
pub const MILESTONES: &str = "org_id,participant_id,date,milestone\nschool,p1,2025-01-10,english.efl_gain\n";
pub const ASSESSMENTS: &str = "org_id,participant_id,date,instrument,score\nschool,p1,2024-09-01,casas_reading,201\nschool,p2,2024-09-03,casas_reading,215.5\n";

/// The names and birth dates of [`PARTICIPANTS`]: none may appear in a sealed store's bytes.
pub const IDENTIFYING: &[&str] = &["Zenaida", "Quispe-Huaman", "Nguyen", "1990-01-02", "1985-05-06"];

pub fn today() -> Date {
    Date::from_ymd(2026, 11, 24).expect("a valid date")
}

/// Writes a package of `(file, contents)` into a new directory under `dir`.
pub fn write_package(dir: &Path, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).expect("package directory");
    for (file, contents) in files {
        std::fs::write(path.join(file), contents).expect("package file");
    }
    path
}

pub fn demo_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("organizations.csv", ORGS),
        ("participants.csv", PARTICIPANTS),
        ("activities.csv", ACTIVITIES),
        ("milestones.csv", MILESTONES),
        ("assessments.csv", ASSESSMENTS),
    ]
}

pub async fn import<S: Store>(store: &S, package: &Path) -> (ImportSummary, Vec<Issue>) {
    let framework = Framework::builtin().expect("framework");
    let mut issues: Vec<Issue> = Vec::new();
    let options = ImportOptions {
        skip_invalid: false,
        today: today(),
    };
    let summary = import_package(store, &framework, package, options, &mut issues)
        .await
        .expect("import runs");
    (summary, issues)
}

/// Every fact a store streams, in its order, with rows replaced by `(org, participant)` so two
/// backends' facts compare.
#[derive(Debug, Default, PartialEq)]
pub struct Facts {
    pub organizations: Vec<OrgNode>,
    pub participants: Vec<ParticipantFact>,
    pub activities: Vec<ActivityFact>,
    pub milestones: Vec<MilestoneFact>,
    pub assessments: Vec<AssessmentFact>,
}

impl FactSink for Facts {
    fn organization(&mut self, org: OrgNode) {
        self.organizations.push(org);
    }
    fn participant(&mut self, participant: ParticipantFact) {
        self.participants.push(participant);
    }
    fn activity(&mut self, activity: ActivityFact) {
        self.activities.push(activity);
    }
    fn milestone(&mut self, milestone: MilestoneFact) {
        self.milestones.push(milestone);
    }
    fn assessment(&mut self, assessment: AssessmentFact) {
        self.assessments.push(assessment);
    }
}

impl Facts {
    pub async fn of<S: Store>(store: &S) -> Self {
        let mut facts = Facts::default();
        store.scan_facts(&mut facts).await.expect("scan facts");
        facts
    }

    /// The facts with participant rows renamed to `org/participant`, sorted: comparable
    /// across backends whose row numbers differ.
    pub fn portable(&self) -> Vec<String> {
        let name = |row: i64| {
            self.participants
                .iter()
                .find(|p| p.row == row)
                .map(|p| format!("{}/{}", p.org_id, p.participant_id))
                .unwrap_or_else(|| format!("unknown row {row}"))
        };
        let mut lines: Vec<String> = Vec::new();
        lines.extend(self.organizations.iter().map(|o| format!("org {o:?}")));
        lines.extend(self.participants.iter().map(|p| {
            format!(
                "participant {}/{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                p.org_id,
                p.participant_id,
                p.person_key,
                p.gender,
                p.race_ethnicity,
                p.country_of_birth,
                p.primary_language,
                p.us_arrival_year,
                p.birth_year,
                p.barriers
            )
        }));
        lines.extend(self.activities.iter().map(|a| {
            format!(
                "activity {} {} {:?} {}",
                name(a.participant_row),
                a.day,
                a.program,
                a.hundredths
            )
        }));
        lines.extend(
            self.milestones
                .iter()
                .map(|m| format!("milestone {} {} {}", name(m.participant_row), m.day, m.milestone)),
        );
        lines.extend(self.assessments.iter().map(|s| {
            format!(
                "assessment {} {} {} {}",
                name(s.participant_row),
                s.day,
                s.instrument,
                s.score
            )
        }));
        lines.sort();
        lines
    }
}

/// Generates one `#[tokio::test]` per check for a backend: `$fresh` is an async fn returning
/// `Option<impl Backend>` (`None`: the backend is not available here, and it said why).
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:path) => {
        $crate::conformance_tests!(@each $fresh;
            a_valid_import_stores_every_record_and_a_second_changes_nothing,
            an_invalid_import_changes_nothing,
            scanned_facts_follow_the_records,
            accounts_sessions_tokens_and_invites,
            case_work_writes_and_reads_back,
            self_assessment_links_are_used_once,
            consent_is_dated_and_revocable,
            concurrent_audit_appends_form_one_chain,
            audit_entries_alone_and_with_writes_form_one_chain,
            sealed_identities_leave_nothing_readable,
            concurrent_case_writes_all_land,
            forgetting_removes_identities_and_keeps_counts,
            refusals_among_concurrent_writes_leave_the_others_whole,
            idempotency_keys_record_a_write_once
        );
        $crate::conformance_tests!(@directory $fresh;
            services_are_put_replaced_and_refused_for_unknown_organizations,
            partnerships_are_put_and_imported,
            community_figures_are_replaced_and_organizations_carry_areas_served,
            need_signals_come_from_pathway_needs_and_latest_low_self_scores,
            referrals_are_created_only_for_known_participants_organizations_and_services,
            referral_changes_are_compare_and_set_and_keep_every_event,
            outcome_milestones_name_the_organization_that_delivered_them,
            concurrent_referral_changes_from_the_same_state_have_one_winner,
            referrals_are_listed_by_organization_and_participant_newest_first,
            forgetting_removes_referrals_services_and_partnerships,
            sealed_referral_notes_leave_nothing_readable,
            clear_referral_notes_are_sealed_with_identities
        );
    };
    (@directory $fresh:path; $($check:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(backend) = $fresh().await else { return };
                $crate::directory::$check(&backend).await;
            }
        )+
    };
    (@each $fresh:path; $($check:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(backend) = $fresh().await else { return };
                $crate::checks::$check(&backend).await;
            }
        )+
    };
}
