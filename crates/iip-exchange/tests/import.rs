//! The importer against the real SQLite store: format tolerance, every error reported with its
//! file, line and column, all-or-nothing, --skip-invalid output, idempotency, parents and cycles.

use std::path::Path;

use iip_domain::Date;
use iip_exchange::{ImportOptions, ImportSummary, Issue, import_package};
use iip_framework::Framework;
use iip_store::Store;
use iip_store_sqlite::SqliteStore;
use tempfile::TempDir;

const ORGS: &str =
    "org_id,name,sector,level,parent_id\nstate,State,public,state,\nschool,School,education,local,state\n";
const PARTICIPANTS: &str = "org_id,participant_id,person_key,first_name,last_name,date_of_birth\n\
school,p1,K1,Ana,Lopez,1990-01-02\n\
school,p2,,Minh,Nguyen,1985-05-06\n";
const ACTIVITIES: &str = "org_id,participant_id,date,program,hours\n\
school,p1,2024-09-01,esl,3\n\
school,p1,2024-09-01,esl,3\n\
school,p2,2024-09-02,citizenship,2.5\n";
const MILESTONES: &str = "org_id,participant_id,date,milestone\nschool,p1,2025-01-10,english.efl_gain\n";
const ASSESSMENTS: &str = "org_id,participant_id,date,instrument,score\nschool,p1,2024-09-01,casas_reading,201\n";

fn today() -> Date {
    Date::from_ymd(2026, 11, 24).expect("date")
}

struct Fixture {
    dir: TempDir,
    store: SqliteStore,
    framework: Framework,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("t.db")).await.expect("open");
        Self {
            dir,
            store,
            framework: Framework::builtin().expect("framework"),
        }
    }

    fn package(&self, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).expect("mkdir");
        for (file, contents) in files {
            std::fs::write(path.join(file), contents).expect("write");
        }
        path
    }

    async fn import(&self, dir: &Path, skip_invalid: bool) -> (ImportSummary, Vec<Issue>) {
        let mut issues = Vec::new();
        let options = ImportOptions {
            skip_invalid,
            today: today(),
        };
        let summary = import_package(&self.store, &self.framework, dir, options, &mut issues)
            .await
            .expect("import");
        (summary, issues)
    }

    async fn digest(&self) -> String {
        self.store.content_digest().await.expect("digest")
    }
}

fn valid_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("organizations.csv", ORGS),
        ("participants.csv", PARTICIPANTS),
        ("activities.csv", ACTIVITIES),
        ("milestones.csv", MILESTONES),
        ("assessments.csv", ASSESSMENTS),
    ]
}

fn lines(issues: &[Issue]) -> Vec<String> {
    issues.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn a_valid_package_imports_and_a_second_import_changes_nothing() {
    let fx = Fixture::new().await;
    let dir = fx.package("pkg", &valid_files());
    let (summary, issues) = fx.import(&dir, false).await;
    assert!(issues.is_empty(), "{issues:?}");
    assert!(summary.committed);
    let counts = fx.store.counts().await.expect("counts");
    assert_eq!(
        (
            counts.organizations,
            counts.participants,
            counts.identities,
            counts.milestones,
            counts.assessments
        ),
        (2, 2, 2, 1, 1)
    );
    // Two identical activity rows are one distinct row seen twice.
    assert_eq!(counts.activities, 2);
    let digest = fx.digest().await;

    let (again, issues) = fx.import(&dir, false).await;
    assert!(issues.is_empty() && again.committed);
    assert_eq!(
        fx.digest().await,
        digest,
        "re-importing the same package changed the data"
    );
    assert_eq!(fx.store.counts().await.expect("counts"), counts);

    // A package with the duplicate activity row removed is different data.
    let fewer =
        "org_id,participant_id,date,program,hours\nschool,p1,2024-09-01,esl,3\nschool,p2,2024-09-02,citizenship,2.5\n";
    let other = fx.package("pkg2", &[("activities.csv", fewer)]);
    fx.import(&other, false).await;
    assert_eq!(
        fx.digest().await,
        digest,
        "occurrences keep the largest count seen in one import"
    );
}

#[tokio::test]
async fn bom_crlf_quotes_column_order_and_custom_columns_are_accepted() {
    let fx = Fixture::new().await;
    let orgs = "\u{feff}name,org_id,x_note,level,sector\r\n\"State, Office of \"\"Immigrant\"\" Affairs\",state,\"two\r\nlines\",state,public\r\n";
    let participants = "participant_id,org_id,x_local\r\np1,state,anything\r\n";
    let dir = fx.package(
        "pkg",
        &[("organizations.csv", orgs), ("participants.csv", participants)],
    );
    let (summary, issues) = fx.import(&dir, false).await;
    assert!(issues.is_empty(), "{issues:?}");
    assert!(summary.committed);
    let orgs = fx.store.organizations().await.expect("orgs");
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].name, "State, Office of \"Immigrant\" Affairs");
    assert_eq!(fx.store.counts().await.expect("counts").participants, 1);
}

#[tokio::test]
async fn header_problems_refuse_the_package_even_when_skipping() {
    let fx = Fixture::new().await;
    let before = fx.digest().await;
    let unknown = "org_id,name,sector,level,colour\nstate,State,public,state,blue\n";
    let missing = "org_id,participant_id,date,program\nstate,p1,2024-09-01,esl\n";
    let dir = fx.package(
        "pkg",
        &[
            ("organizations.csv", unknown),
            ("activities.csv", missing),
            ("notes.csv", "a\n"),
        ],
    );
    for skip in [false, true] {
        let (summary, issues) = fx.import(&dir, skip).await;
        assert!(!summary.committed);
        let shown = lines(&issues);
        assert!(
            shown.contains(
                &"organizations.csv:1: colour: is not a column of this file (custom columns must start with x_)"
                    .to_owned()
            ),
            "{shown:?}"
        );
        assert!(
            shown.contains(&"activities.csv:1: hours: required column is missing".to_owned()),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|l| l.starts_with("notes.csv: is not a file of exchange format v1")),
            "{shown:?}"
        );
        assert_eq!(fx.digest().await, before);
    }
}

/// The package of the issue's "done when": an impossible date, negative hours, an unknown
/// participant, an unknown milestone and a duplicate participant.
fn bad_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("organizations.csv", ORGS),
        (
            "participants.csv",
            "org_id,participant_id\nschool,p1\nschool,p2\nschool,p1\n", // line 4 duplicates line 2
        ),
        (
            "activities.csv",
            "org_id,participant_id,date,program,hours\n\
             school,p1,2024-09-01,esl,3\n\
             school,p1,2023-02-30,esl,3\n\
             school,p2,2024-09-02,esl,-2\n\
             school,nobody,2024-09-03,esl,1\n\
             school,p2,2024-09-04,esl,2\n",
        ),
        (
            "milestones.csv",
            "org_id,participant_id,date,milestone\nschool,p1,2025-01-10,english.efl_gain\nschool,p2,2025-01-11,english.flying\n",
        ),
    ]
}

const EXPECTED_BAD: [&str; 5] = [
    "participants.csv:4: participant_id: p1 appears more than once for organization school in this file",
    "activities.csv:3: date: is not a real calendar date",
    "activities.csv:4: hours: must be greater than 0",
    "activities.csv:5: participant_id: no participant nobody at organization school in the package or the store",
    "milestones.csv:3: milestone: \"english.flying\" is not a milestone of framework 2026.1",
];

#[tokio::test]
async fn every_error_is_reported_once_with_file_line_and_column_and_the_store_is_unchanged() {
    let fx = Fixture::new().await;
    // The store already holds an earlier import: it must survive untouched.
    let earlier = fx.package("earlier", &valid_files());
    assert!(fx.import(&earlier, false).await.0.committed);
    let before = fx.digest().await;
    let counts_before = fx.store.counts().await.expect("counts");

    let dir = fx.package("bad", &bad_files());
    let (summary, issues) = fx.import(&dir, false).await;
    assert_eq!(lines(&issues), EXPECTED_BAD);
    assert_eq!(summary.issues, 5);
    assert!(!summary.committed);
    assert_eq!(fx.digest().await, before);
    assert_eq!(fx.store.counts().await.expect("counts"), counts_before);
    assert!(
        !dir.join("rejected").exists(),
        "no rejected output without --skip-invalid"
    );
}

#[tokio::test]
async fn skip_invalid_imports_the_rest_and_writes_exactly_the_rejected_rows() {
    let fx = Fixture::new().await;
    let dir = fx.package("bad", &bad_files());
    let (summary, issues) = fx.import(&dir, true).await;
    assert_eq!(lines(&issues), EXPECTED_BAD);
    assert!(summary.committed);
    let counts = fx.store.counts().await.expect("counts");
    assert_eq!((counts.participants, counts.activities, counts.milestones), (2, 2, 1));

    let read = |file: &str| std::fs::read_to_string(dir.join("rejected").join(file)).expect(file);
    let participants = read("participants.csv");
    assert_eq!(
        participants,
        "line,reason,org_id,participant_id\n\
         4,participant_id: p1 appears more than once for organization school in this file,school,p1\n"
    );
    let activities: Vec<String> = read("activities.csv").lines().map(str::to_owned).collect();
    assert_eq!(activities[0], "line,reason,org_id,participant_id,date,program,hours");
    assert_eq!(activities.len(), 4, "{activities:?}");
    assert!(activities[1].starts_with("3,date: is not a real calendar date,school,p1,2023-02-30,esl,3"));
    assert!(activities[2].starts_with("4,hours: must be greater than 0,school,p2,2024-09-02,esl,-2"));
    assert!(activities[3].starts_with("5,participant_id: no participant nobody"));
    let milestones: Vec<String> = read("milestones.csv").lines().map(str::to_owned).collect();
    assert_eq!(milestones.len(), 2);
    assert!(milestones[1].starts_with("3,"));
    assert!(
        !dir.join("rejected/organizations.csv").exists(),
        "nothing rejected, no file"
    );
}

#[tokio::test]
async fn rows_depending_on_a_rejected_participant_say_so() {
    let fx = Fixture::new().await;
    let dir = fx.package(
        "pkg",
        &[
            ("organizations.csv", ORGS),
            ("participants.csv", "org_id,participant_id,gender\nschool,p1,woman\n"),
            (
                "activities.csv",
                "org_id,participant_id,date,program,hours\nschool,p1,2024-09-01,esl,3\n",
            ),
        ],
    );
    let (_, issues) = fx.import(&dir, true).await;
    assert_eq!(
        lines(&issues),
        [
            "participants.csv:2: gender: \"woman\" is not one of: female, male, nonbinary",
            "activities.csv:2: participant_id: participant p1 of organization school was rejected at participants.csv line 2",
        ]
    );
}

#[tokio::test]
async fn parents_must_exist_and_chains_must_not_loop() {
    let fx = Fixture::new().await;
    let orgs = "org_id,name,sector,level,parent_id\n\
                a,A,public,city,b\n\
                b,B,public,city,a\n\
                c,C,public,city,ghost\n\
                d,D,public,city,c\n\
                e,E,public,city,\n";
    let dir = fx.package("pkg", &[("organizations.csv", orgs)]);
    let (summary, issues) = fx.import(&dir, true).await;
    assert_eq!(
        lines(&issues),
        [
            "organizations.csv:2: parent_id: the parent chain of a loops back to itself",
            "organizations.csv:3: parent_id: the parent chain of b loops back to itself",
            "organizations.csv:4: parent_id: no organization ghost in the package or the store",
            "organizations.csv:5: parent_id: no organization c in the package or the store",
        ]
    );
    assert!(summary.committed);
    assert_eq!(fx.store.organizations().await.expect("orgs").len(), 1);

    // A parent already in the store is accepted.
    let child = fx.package(
        "child",
        &[(
            "organizations.csv",
            "org_id,name,sector,level,parent_id\nf,F,nonprofit,city,e\n",
        )],
    );
    let (summary, issues) = fx.import(&child, false).await;
    assert!(issues.is_empty() && summary.committed, "{issues:?}");
    assert_eq!(fx.store.organizations().await.expect("orgs").len(), 2);
}

#[tokio::test]
async fn future_dates_are_refused_and_today_is_accepted() {
    let fx = Fixture::new().await;
    let activities =
        "org_id,participant_id,date,program,hours\nschool,p1,2026-11-24,esl,1\nschool,p1,2026-11-25,esl,1\n";
    let dir = fx.package(
        "pkg",
        &[
            ("organizations.csv", ORGS),
            ("participants.csv", PARTICIPANTS),
            ("activities.csv", activities),
        ],
    );
    let (_, issues) = fx.import(&dir, false).await;
    assert_eq!(
        lines(&issues),
        ["activities.csv:3: date: is in the future (after 2026-11-24)"]
    );
}

#[tokio::test]
async fn identifying_values_never_appear_in_messages() {
    let fx = Fixture::new().await;
    let long_name = "Secretname".repeat(20);
    let participants = format!("org_id,participant_id,first_name,date_of_birth\nschool,p1,{long_name},1990-02-31\n");
    let dir = fx.package(
        "pkg",
        &[("organizations.csv", ORGS), ("participants.csv", &participants)],
    );
    let (_, issues) = fx.import(&dir, false).await;
    let shown = lines(&issues).join("\n");
    assert_eq!(issues.len(), 2, "{shown}");
    assert!(
        shown.contains("participants.csv:2: first_name: is longer than 100 characters"),
        "{shown}"
    );
    assert!(
        shown.contains("participants.csv:2: date_of_birth: is not a real calendar date"),
        "{shown}"
    );
    assert!(!shown.contains("Secretname") && !shown.contains("1990"), "{shown}");
}

#[tokio::test]
async fn a_row_with_the_wrong_number_of_fields_is_rejected_with_its_line() {
    let fx = Fixture::new().await;
    let activities = "org_id,participant_id,date,program,hours\nschool,p1,2024-09-01,esl\nschool,p1,2024-09-02,esl,2\n";
    let dir = fx.package(
        "pkg",
        &[
            ("organizations.csv", ORGS),
            ("participants.csv", PARTICIPANTS),
            ("activities.csv", activities),
        ],
    );
    let (summary, issues) = fx.import(&dir, true).await;
    assert_eq!(lines(&issues), ["activities.csv:2: has 4 fields; the header has 5"]);
    assert!(summary.committed);
    assert_eq!(fx.store.counts().await.expect("counts").activities, 1);
    let rejected = std::fs::read_to_string(dir.join("rejected/activities.csv")).expect("rejected");
    assert!(
        rejected.lines().nth(1).is_some_and(|l| l.starts_with("2,has 4 fields")),
        "{rejected}"
    );
}

#[tokio::test]
async fn large_files_keep_line_order_and_occurrences_across_write_batches() {
    let fx = Fixture::new().await;
    // 700 data rows (lines 2..=701): every row is written twice in a row, so identical pairs
    // straddle the importer's write batches; line 300 names an unknown participant and line
    // 450 has bad hours.
    let mut activities = String::from("org_id,participant_id,date,program,hours\n");
    for line in 2..=701u32 {
        let pair = line.div_ceil(2);
        let day = 1 + pair % 28;
        let month = 1 + (pair / 28) % 12;
        let row = match line {
            300 => "school,ghost,2024-01-01,esl,1".to_owned(),
            450 => "school,p1,2024-01-01,esl,25".to_owned(),
            _ => format!("school,p1,2024-{month:02}-{day:02},esl,1"),
        };
        activities.push_str(&row);
        activities.push('\n');
    }
    let dir = fx.package(
        "pkg",
        &[
            ("organizations.csv", ORGS),
            ("participants.csv", PARTICIPANTS),
            ("activities.csv", &activities),
        ],
    );
    let (summary, issues) = fx.import(&dir, true).await;
    assert_eq!(
        lines(&issues),
        [
            "activities.csv:300: participant_id: no participant ghost at organization school in the package or the store",
            "activities.csv:450: hours: must be at most 24",
        ]
    );
    let file = summary
        .files
        .iter()
        .find(|f| f.file == "activities.csv")
        .expect("summary");
    assert_eq!((file.accepted, file.rejected), (698, 2));
    let digest = fx.digest().await;
    let (again, _) = fx.import(&dir, true).await;
    assert!(again.committed);
    assert_eq!(fx.digest().await, digest, "re-import across batches changed the data");
}

impl Fixture {
    async fn import_from(&self, dir: &Path, sender: &str) -> (ImportSummary, Vec<Issue>) {
        let mut issues = Vec::new();
        let options = ImportOptions {
            skip_invalid: false,
            today: today(),
        };
        let summary =
            iip_exchange::import_package_from(&self.store, &self.framework, dir, options, Some(sender), &mut issues)
                .await
                .expect("import");
        (summary, issues)
    }
}

#[tokio::test]
async fn a_package_from_one_organization_carries_only_its_part_of_the_tree() {
    let fx = Fixture::new().await;
    let tree = "org_id,name,sector,level,parent_id\n\
                state,State,public,state,\n\
                east,East,public,county,state\n\
                school,School,education,local,east\n\
                west,West,public,county,state\n\
                clinic,Clinic,nonprofit,local,west\n";
    let base = fx.package("base", &[("organizations.csv", tree)]);
    assert!(fx.import(&base, false).await.0.committed);
    let digest = fx.digest().await;

    // East may add a program under itself and send its own participants and theirs.
    let fine = fx.package(
        "fine",
        &[
            (
                "organizations.csv",
                "org_id,name,sector,level,parent_id\nnight,Night School,education,local,school\n",
            ),
            (
                "participants.csv",
                "org_id,participant_id,first_name\nschool,p1,Ana\nnight,n1,Minh\n",
            ),
            (
                "activities.csv",
                "org_id,participant_id,date,program,hours\nnight,n1,2024-09-01,esl,2\n",
            ),
        ],
    );
    let (summary, issues) = fx.import_from(&fine, "east").await;
    assert!(summary.committed && issues.is_empty(), "{issues:?}");
    let after_fine = fx.digest().await;
    assert_ne!(after_fine, digest);

    // Anything about another part of the tree is refused, row by row, and nothing is written.
    let hostile = fx.package(
        "hostile",
        &[
            (
                "organizations.csv",
                "org_id,name,sector,level,parent_id\n\
                 clinic,Clinic,nonprofit,local,school\n\
                 east,East,public,county,\n\
                 school,School,education,local,west\n\
                 rogue,Rogue,nonprofit,local,west\n",
            ),
            (
                "participants.csv",
                "org_id,participant_id,first_name\nclinic,c1,Eve\nschool,p2,Bo\n",
            ),
            (
                "activities.csv",
                "org_id,participant_id,date,program,hours\nclinic,c9,2024-09-01,esl,2\nschool,p1,2024-09-02,esl,1\n",
            ),
            (
                "partnerships.csv",
                "partnership_id,org_id,partner_org_id,kind,start_date\nx1,west,school,data_sharing,2024-01-01\n",
            ),
        ],
    );
    let (summary, issues) = fx.import_from(&hostile, "east").await;
    assert!(!summary.committed);
    let text = lines(&issues);
    for expected in [
        "organizations.csv:2: org_id: clinic is not east or an organization under it",
        "organizations.csv:3: parent_id: east sent this package (--from): it cannot move itself",
        "organizations.csv:4: parent_id: school can be placed only under east or an organization under it",
        "organizations.csv:5: org_id: rogue is not east or an organization under it",
        "participants.csv:2: org_id: clinic is not east",
        "activities.csv:2: org_id: clinic is not east",
        "partnerships.csv:2: org_id: west is not east",
    ] {
        assert!(text.iter().any(|l| l.starts_with(expected)), "{expected}\n{text:#?}");
    }
    assert_eq!(text.len(), 7, "school's own rows are fine: {text:#?}");
    assert_eq!(fx.digest().await, after_fine, "a refused package writes nothing");

    // A sender the store does not have is refused before anything is read.
    let mut issues = Vec::new();
    let options = ImportOptions {
        skip_invalid: false,
        today: today(),
    };
    let error =
        iip_exchange::import_package_from(&fx.store, &fx.framework, &fine, options, Some("nobody"), &mut issues)
            .await
            .expect_err("unknown sender");
    assert!(error.to_string().contains("--from nobody"), "{error}");
}
