//! The malformed-import corpus (`tests/corpus/`, one package per directory, listed in its
//! README.md) through the real importer and SQLite store.
//!
//! For every case, from the table [`CASES`]: the exact problems reported (`FILE:LINE: COLUMN:
//! message`, in order), the import refused with the store unchanged (the content digest of an
//! empty store, every count zero), no identifying value planted in the case (names, birth dates,
//! formulas planted as names) in any message, nothing panicking; and with `skip_invalid` the
//! row-level cases import their valid rows and write exactly the rejected ones, with reasons, to
//! `DIR/rejected/<file>.csv` (accepted + rejected = the file's records). File-level problems
//! refuse the package in both modes. Positive controls import cleanly. Every file of every case
//! also goes through `check_file` (the upload check and fuzz entry point) without panicking.
//!
//! The 10 MB field of `huge_field` is generated here rather than committed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use iip_domain::Date;
use iip_exchange::{ImportError, ImportOptions, ImportSummary, Issue, check_file, import_package, spec};
use iip_framework::Framework;
use iip_store::{DirectoryStore, Store, TableCounts};
use iip_store_sqlite::SqliteStore;

/// What a case must do.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A positive control: imports without a problem, leaving these counts.
    Imports(Counts),
    /// Row-level problems in `file`: refused as a whole, or with `skip_invalid` exactly
    /// `rejected` rows of `file` written out and every other row imported.
    Rows { file: &'static str, rejected: u64 },
    /// A problem that makes a file unreadable: refused even with `skip_invalid`.
    Refused,
    /// Not a package at all: `ImportError::Package` whose message holds this.
    PackageError(&'static str),
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    organizations: u64,
    participants: u64,
    activities: u64,
    milestones: u64,
    assessments: u64,
    partnerships: usize,
}

const fn counts(organizations: u64, participants: u64, activities: u64) -> Counts {
    Counts {
        organizations,
        participants,
        activities,
        milestones: 0,
        assessments: 0,
        partnerships: 0,
    }
}

struct Case {
    name: &'static str,
    expect: Expect,
    /// Every problem reported, in order, exactly as the CLI prints it.
    issues: &'static [&'static str],
}

const fn rows(file: &'static str, rejected: u64) -> Expect {
    Expect::Rows { file, rejected }
}

const P: &str = "participants.csv";
const A: &str = "activities.csv";
const O: &str = "organizations.csv";
const N: &str = "partnerships.csv";

/// Identifying values planted in the corpus: first and last names, birth dates, formulas
/// planted as names. None may appear in any message.
const PLANTED: &[&str] = &[
    "Zebulon",
    "Quixotic",
    "1977-07-17",
    "Philomena",
    "Wigglesworth",
    "1981-03-09",
    "Ottoline",
    "Fairweather",
    "1990-01-02",
    "2027-07-17",
    "1977-02-30",
    "HYPERLINK",
    "@SUM",
    "+cmd",
];

const CASES: &[Case] = &[
    // Positive controls.
    Case {
        name: "ok_bom",
        expect: Expect::Imports(counts(2, 2, 2)),
        issues: &[],
    },
    Case {
        name: "ok_crlf",
        expect: Expect::Imports(Counts {
            milestones: 1,
            assessments: 1,
            ..counts(2, 2, 2)
        }),
        issues: &[],
    },
    Case {
        name: "ok_mixed_line_ends",
        expect: Expect::Imports(counts(2, 2, 0)),
        issues: &[],
    },
    Case {
        name: "ok_x_column",
        expect: Expect::Imports(counts(2, 2, 0)),
        issues: &[],
    },
    Case {
        name: "ok_header_only",
        expect: Expect::Imports(counts(2, 0, 0)),
        issues: &[],
    },
    Case {
        name: "ok_formula_in_name",
        expect: Expect::Imports(counts(2, 2, 0)),
        issues: &[],
    },
    Case {
        name: "ok_partnerships",
        expect: Expect::Imports(Counts {
            partnerships: 2,
            ..counts(2, 0, 0)
        }),
        issues: &[],
    },
    // Encoding and structure.
    Case {
        name: "utf8_bad_field",
        expect: rows(P, 1),
        issues: &["participants.csv:3: first_name: is not valid UTF-8"],
    },
    Case {
        name: "utf8_bad_header",
        expect: Expect::Refused,
        issues: &["organizations.csv:1: column 2: is not valid UTF-8"],
    },
    Case {
        name: "utf16_file",
        expect: Expect::Refused,
        issues: &["organizations.csv:1: the file is UTF-16; save it as UTF-8"],
    },
    Case {
        name: "nul_byte",
        expect: rows(O, 1),
        issues: &["organizations.csv:4: name: contains control characters"],
    },
    Case {
        name: "unterminated_quote",
        expect: rows(P, 1),
        issues: &["participants.csv:2: gender: contains a line break (is a quote left open?)"],
    },
    Case {
        name: "unterminated_quote_ragged",
        expect: rows(P, 1),
        issues: &[
            "participants.csv:2: has 7 fields; the header has 13 (a field holds a line break: is a quote left open?)",
        ],
    },
    Case {
        name: "unterminated_quote_header",
        expect: Expect::Refused,
        issues: &["participants.csv:1: column 3: contains a line break (is a quote left open?)"],
    },
    Case {
        name: "quote_in_unquoted_field",
        expect: rows(P, 1),
        issues: &["participants.csv:3: participant_id: contains '\"'; ids use only A-Z a-z 0-9 . _ -"],
    },
    Case {
        name: "ragged_too_many",
        expect: rows(A, 1),
        issues: &["activities.csv:3: has 7 fields; the header has 6"],
    },
    Case {
        name: "ragged_too_few",
        expect: rows(A, 1),
        issues: &["activities.csv:3: has 4 fields; the header has 6"],
    },
    Case {
        name: "header_duplicate_column",
        expect: Expect::Refused,
        issues: &["activities.csv:1: hours: column appears more than once"],
    },
    Case {
        name: "header_missing_required",
        expect: Expect::Refused,
        issues: &["activities.csv:1: hours: required column is missing"],
    },
    Case {
        name: "header_unknown_column",
        expect: Expect::Refused,
        issues: &["organizations.csv:1: colour: is not a column of this file (custom columns must start with x_)"],
    },
    Case {
        name: "empty_file",
        expect: Expect::Refused,
        issues: &["participants.csv:1: the file is empty; a header row is required"],
    },
    Case {
        name: "bom_only_file",
        expect: Expect::Refused,
        issues: &["participants.csv:1: the file is empty; a header row is required"],
    },
    Case {
        name: "unknown_file",
        expect: Expect::Refused,
        issues: &["notes.csv: is not a file of exchange format v1 (custom files must start with x_)"],
    },
    Case {
        name: "directory_named_like_file",
        expect: Expect::Refused,
        issues: &["participants.csv: is a directory, not a CSV file"],
    },
    Case {
        name: "no_package_files",
        expect: Expect::PackageError("no exchange-format files found"),
        issues: &[],
    },
    Case {
        name: "huge_field",
        expect: rows(P, 2),
        issues: &[
            "participants.csv:3: first_name: is longer than 100 characters",
            "participants.csv:4: gender: the value (10485760 characters) is not one of: female, male, nonbinary",
        ],
    },
    // Ids.
    Case {
        name: "id_too_long",
        expect: rows(P, 1),
        issues: &["participants.csv:3: participant_id: is 65 characters long; ids have at most 64"],
    },
    Case {
        name: "id_with_space",
        expect: rows(P, 1),
        issues: &["participants.csv:3: participant_id: contains ' '; ids use only A-Z a-z 0-9 . _ -"],
    },
    Case {
        name: "id_with_slash",
        expect: rows(P, 1),
        issues: &["participants.csv:3: participant_id: contains '/'; ids use only A-Z a-z 0-9 . _ -"],
    },
    // Organizations.
    Case {
        name: "org_bad_sector",
        expect: rows(O, 1),
        issues: &[
            "organizations.csv:4: sector: \"church\" is not one of: public, nonprofit, faith_based, education, business, philanthropy",
        ],
    },
    Case {
        name: "org_bad_level",
        expect: rows(O, 1),
        issues: &["organizations.csv:4: level: \"town\" is not one of: federal, state, region, county, city, local"],
    },
    Case {
        name: "org_parent_unknown",
        expect: rows(O, 1),
        issues: &["organizations.csv:4: parent_id: no organization ghost in the package or the store"],
    },
    Case {
        name: "org_parent_cycle_2",
        expect: rows(O, 2),
        issues: &[
            "organizations.csv:4: parent_id: the parent chain of a loops back to itself",
            "organizations.csv:5: parent_id: the parent chain of b loops back to itself",
        ],
    },
    Case {
        name: "org_parent_cycle_3",
        expect: rows(O, 3),
        issues: &[
            "organizations.csv:4: parent_id: the parent chain of a loops back to itself",
            "organizations.csv:5: parent_id: the parent chain of b loops back to itself",
            "organizations.csv:6: parent_id: the parent chain of c loops back to itself",
        ],
    },
    Case {
        name: "org_self_parent",
        expect: rows(O, 1),
        issues: &["organizations.csv:4: parent_id: an organization cannot be its own parent"],
    },
    Case {
        name: "org_duplicate_id",
        expect: rows(O, 1),
        issues: &["organizations.csv:4: org_id: school appears more than once in this file"],
    },
    // Participants.
    Case {
        name: "participant_duplicate",
        expect: rows(P, 1),
        issues: &["participants.csv:4: participant_id: p1 appears more than once for organization school in this file"],
    },
    Case {
        name: "participant_unknown_org",
        expect: rows(P, 1),
        issues: &["participants.csv:3: org_id: no organization ghost in the package or the store"],
    },
    Case {
        name: "gender_unknown",
        expect: rows(P, 1),
        issues: &["participants.csv:3: gender: \"woman\" is not one of: female, male, nonbinary"],
    },
    Case {
        name: "race_unknown",
        expect: rows(P, 1),
        issues: &[
            "participants.csv:3: race_ethnicity: \"latino\" is not one of: asian, black, filipino, hispanic, native_american, pacific_islander, white, multiple",
        ],
    },
    Case {
        name: "country_lowercase",
        expect: rows(P, 1),
        issues: &[
            "participants.csv:3: country_of_birth: \"mx\" is not an ISO 3166-1 alpha-2 code (two upper-case letters)",
        ],
    },
    Case {
        name: "language_three_letters",
        expect: rows(P, 1),
        issues: &["participants.csv:3: primary_language: \"spa\" is not an ISO 639-1 code (two lower-case letters)"],
    },
    Case {
        name: "zip_four_digits",
        expect: rows(P, 1),
        issues: &["participants.csv:3: zip: \"9511\" is not a 5-digit ZIP code"],
    },
    Case {
        name: "barriers_unknown",
        expect: rows(P, 1),
        issues: &[
            "participants.csv:3: barriers: \"homeless\" is not one of: english_learner, low_income, low_literacy, cultural_barriers",
        ],
    },
    Case {
        name: "arrival_before_birth",
        expect: rows(P, 1),
        issues: &["participants.csv:3: us_arrival_year: is before the year of birth"],
    },
    Case {
        name: "arrival_1800",
        expect: rows(P, 1),
        issues: &["participants.csv:3: us_arrival_year: 1800 is not between 1900 and 2026"],
    },
    Case {
        name: "birth_date_future",
        expect: rows(P, 1),
        issues: &["participants.csv:3: date_of_birth: is in the future (after 2026-11-24)"],
    },
    Case {
        name: "birth_date_impossible",
        expect: rows(P, 1),
        issues: &["participants.csv:3: date_of_birth: is not a real calendar date"],
    },
    Case {
        name: "formula_in_rejected_row",
        expect: rows(P, 1),
        issues: &["participants.csv:3: gender: \"woman\" is not one of: female, male, nonbinary"],
    },
    // Activities.
    Case {
        name: "activity_unknown_participant",
        expect: rows(A, 1),
        issues: &[
            "activities.csv:3: participant_id: no participant nobody at organization school in the package or the store",
        ],
    },
    Case {
        name: "hours_zero",
        expect: rows(A, 1),
        issues: &["activities.csv:3: hours: must be greater than 0"],
    },
    Case {
        name: "hours_25",
        expect: rows(A, 1),
        issues: &["activities.csv:3: hours: must be at most 24"],
    },
    Case {
        name: "hours_three_decimals",
        expect: rows(A, 1),
        issues: &["activities.csv:3: hours: has more than two decimals"],
    },
    Case {
        name: "hours_negative",
        expect: rows(A, 1),
        issues: &["activities.csv:3: hours: must be greater than 0"],
    },
    Case {
        name: "hours_exponent",
        expect: rows(A, 1),
        issues: &["activities.csv:3: hours: \"1e3\" is not a number of hours"],
    },
    Case {
        name: "date_impossible",
        expect: rows(A, 1),
        issues: &["activities.csv:3: date: is not a real calendar date"],
    },
    Case {
        name: "date_future",
        expect: rows(A, 1),
        issues: &["activities.csv:3: date: is in the future (after 2026-11-24)"],
    },
    Case {
        name: "date_unpadded",
        expect: rows(A, 1),
        issues: &["activities.csv:3: date: is not a date of the form YYYY-MM-DD"],
    },
    Case {
        name: "program_unknown",
        expect: rows(A, 1),
        issues: &[
            "activities.csv:3: program: \"yoga\" is not one of: esl, abe, ase, cte, citizenship, el_civics, workforce, other",
        ],
    },
    Case {
        name: "element_unknown",
        expect: rows(A, 1),
        issues: &[
            "activities.csv:3: element: \"astrology\" is not an element of framework 2026.1 (english, education, economic, credentials, health, civic, navigation, social)",
        ],
    },
    // Milestones and assessments.
    Case {
        name: "milestone_unknown",
        expect: rows("milestones.csv", 1),
        issues: &["milestones.csv:3: milestone: \"english.flying\" is not a milestone of framework 2026.1"],
    },
    Case {
        name: "score_not_number",
        expect: rows("assessments.csv", 1),
        issues: &["assessments.csv:3: score: \"high\" is not a number"],
    },
    Case {
        name: "score_nan_inf",
        expect: rows("assessments.csv", 3),
        issues: &[
            "assessments.csv:3: score: \"NaN\" is not a number",
            "assessments.csv:4: score: \"inf\" is not a number",
            "assessments.csv:5: score: \"-infinity\" is not a number",
        ],
    },
    // Partnerships (exchange format v1.1).
    Case {
        name: "partnership_partner_unknown",
        expect: rows(N, 1),
        issues: &[
            "partnerships.csv:3: partner_org_id: organization state or ghost is in neither the package nor the store",
        ],
    },
    Case {
        name: "partnership_same_org",
        expect: rows(N, 1),
        issues: &["partnerships.csv:3: partner_org_id: an organization cannot partner with itself"],
    },
    Case {
        name: "partnership_end_before_start",
        expect: rows(N, 1),
        issues: &["partnerships.csv:3: end_date: is before start_date (2024-06-01)"],
    },
    Case {
        name: "partnership_kind_unknown",
        expect: rows(N, 1),
        issues: &["partnerships.csv:3: kind: \"friendship\" is not one of: referral, data_sharing, funding"],
    },
    Case {
        name: "partnership_duplicate_id",
        expect: rows(N, 1),
        issues: &["partnerships.csv:3: partnership_id: ag1 appears more than once in this file"],
    },
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn today() -> Date {
    Date::from_ymd(2026, 11, 24).expect("date")
}

/// Copies a case into `to` (the importer writes `rejected/` into the package directory).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read case") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// The case's package in a fresh directory, with generated files added.
fn prepare(case: &str, to: &Path) {
    copy_dir(&corpus().join(case), to);
    if case == "huge_field" {
        // Two fields of 10 MB (10 485 760 bytes): a first name (identifying: never repeated)
        // and a gender (repeated in messages only when short).
        let huge = 10 * 1024 * 1024;
        let name = "Zebulon".repeat(huge / 7 + 1)[..huge].to_owned();
        let gender = "x".repeat(huge);
        let text = format!(
            "org_id,participant_id,first_name,gender\n\
             school,p1,Philomena,female\n\
             school,p3,{name},male\n\
             school,p4,Ottoline,{gender}\n\
             school,p2,Fairweather,\n"
        );
        std::fs::write(to.join("participants.csv"), text).expect("write");
    }
}

struct Outcome {
    summary: Result<ImportSummary, String>,
    issues: Vec<Issue>,
    counts: TableCounts,
    partnerships: usize,
    digest: String,
    empty_digest: String,
    package: PathBuf,
    _dir: tempfile::TempDir,
}

/// Imports the case into a fresh store, on a task of its own so a panic is reported with the
/// case's name.
async fn import(case: &'static str, skip_invalid: bool, framework: Arc<Framework>) -> Result<Outcome, String> {
    // The import's future is not `Send`: a local task, whose panic comes back as an error.
    let local = tokio::task::LocalSet::new();
    let task = local.spawn_local(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let package = dir.path().join(case);
        prepare(case, &package);
        let store = SqliteStore::open(&dir.path().join("t.db")).await.expect("open");
        let empty_digest = store.content_digest().await.expect("digest");
        let mut issues: Vec<Issue> = Vec::new();
        let options = ImportOptions {
            skip_invalid,
            today: today(),
        };
        let summary = import_package(&store, &framework, &package, options, &mut issues)
            .await
            .map_err(|e| match e {
                ImportError::Package { .. } => e.to_string(),
                other => format!("NOT A PACKAGE ERROR: {other}"),
            });
        Outcome {
            summary,
            issues,
            counts: store.counts().await.expect("counts"),
            partnerships: store.partnerships().await.expect("partnerships").len(),
            digest: store.content_digest().await.expect("digest"),
            empty_digest,
            package,
            _dir: dir,
        }
    });
    local
        .run_until(task)
        .await
        .map_err(|e| format!("{case} (skip_invalid: {skip_invalid}): the import panicked: {e}"))
}

/// The records of a CSV file as the importer's reader sees them (header excluded).
fn records(path: &Path) -> Vec<csv::StringRecord> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .expect("open")
        .byte_records()
        .map(|r| {
            let r = r.expect("record");
            csv::StringRecord::from(
                r.iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

/// Every check of one case in one mode; problems are pushed to `failures`.
fn check(case: &Case, skip: bool, outcome: &Outcome, failures: &mut Vec<String>) {
    let mut fail = |what: String| failures.push(format!("{} (skip_invalid: {skip}): {what}", case.name));
    let shown: Vec<String> = outcome.issues.iter().map(ToString::to_string).collect();
    if shown != case.issues {
        fail(format!("issues {shown:#?}, expected {:#?}", case.issues));
    }
    let mut messages = shown.clone();
    if let Err(e) = &outcome.summary {
        messages.push(e.clone());
    }
    for message in &messages {
        if let Some(value) = PLANTED.iter().find(|v| message.contains(**v)) {
            fail(format!("an identifying value ({value}) in {message:.200}"));
        }
        if message.len() > 1000 {
            fail(format!("a message of {} bytes", message.len()));
        }
    }
    for issue in &outcome.issues {
        if issue.file.is_empty() || issue.message.is_empty() {
            fail(format!("an issue without its file or message: {issue:?}"));
        }
    }
    let unchanged = outcome.digest == outcome.empty_digest && outcome.counts == TableCounts::default();
    let rejected_dir = outcome.package.join("rejected");

    match case.expect {
        Expect::PackageError(expected) => match &outcome.summary {
            Err(e) if e.contains(expected) => {}
            other => fail(format!("expected a package error with {expected:?}, got {other:?}")),
        },
        Expect::Imports(want) => {
            match &outcome.summary {
                Ok(s) if s.committed && s.issues == 0 => {}
                other => fail(format!("a positive control was not imported: {other:?}")),
            }
            let c = &outcome.counts;
            let got = (
                c.organizations,
                c.participants,
                c.activities,
                c.milestones,
                c.assessments,
            );
            let expected = (
                want.organizations,
                want.participants,
                want.activities,
                want.milestones,
                want.assessments,
            );
            if got != expected || outcome.partnerships != want.partnerships {
                fail(format!(
                    "counts {got:?} and {} partnerships, expected {expected:?} and {}",
                    outcome.partnerships, want.partnerships
                ));
            }
            if rejected_dir.exists() {
                fail("a rejected/ directory for a clean package".into());
            }
        }
        Expect::Refused => {
            match &outcome.summary {
                Ok(s) if !s.committed && s.issues == case.issues.len() as u64 => {}
                other => fail(format!("expected a refusal, got {other:?}")),
            }
            if !unchanged {
                fail(format!("the store changed: {:?}", outcome.counts));
            }
            for issue in &outcome.issues {
                let file_level = issue.line.is_none() || issue.line == Some(1);
                if !file_level {
                    fail(format!("a file-level refusal reported a row: {issue}"));
                }
            }
        }
        Expect::Rows { file, rejected } => {
            for issue in &outcome.issues {
                if issue.file != file || issue.line.is_none_or(|l| l < 2) {
                    fail(format!("a row problem not located at a row of {file}: {issue}"));
                }
            }
            let Ok(summary) = &outcome.summary else {
                fail(format!("the import failed: {:?}", outcome.summary));
                return;
            };
            if !skip {
                if summary.committed || !unchanged {
                    fail(format!(
                        "not refused as a whole: committed {}, counts {:?}",
                        summary.committed, outcome.counts
                    ));
                }
                if rejected_dir.exists() {
                    fail("rejected rows written without skip_invalid".into());
                }
                return;
            }
            if !summary.committed {
                fail("with skip_invalid the valid rows were not imported".into());
            }
            let Some(totals) = summary.files.iter().find(|f| f.file == file) else {
                fail(format!("no summary for {file}"));
                return;
            };
            let sent = records(&outcome.package.join(file)).len() as u64;
            if totals.rejected != rejected || totals.accepted + totals.rejected != sent {
                fail(format!(
                    "{} accepted and {} rejected of {sent} rows, expected {rejected} rejected",
                    totals.accepted, totals.rejected
                ));
            }
            for other in summary.files.iter().filter(|f| f.file != file) {
                if other.rejected != 0 {
                    fail(format!("rows of {} rejected too", other.file));
                }
            }
            let written = rejected_dir.join(file);
            if !written.exists() {
                fail(format!("no rejected/{file}"));
                return;
            }
            let out = records(&written);
            if out.len() as u64 != rejected {
                fail(format!("rejected/{file} holds {} rows, expected {rejected}", out.len()));
            }
            let lines: Vec<u64> = outcome.issues.iter().filter_map(|i| i.line).collect();
            for (row, line) in out.iter().zip(&lines) {
                if row.get(0) != Some(line.to_string().as_str()) || row.get(1).is_none_or(str::is_empty) {
                    fail(format!("rejected row {row:?} lacks line {line} or its reason"));
                }
                if let Some(cell) = row.iter().find(|c| c.starts_with(['=', '+', '@', '\t', '\r'])) {
                    fail(format!("a formula echoed into rejected/{file}: {cell:?}"));
                }
            }
            let stored = match file {
                "organizations.csv" => outcome.counts.organizations,
                "participants.csv" => outcome.counts.participants,
                "activities.csv" => outcome.counts.activities,
                "milestones.csv" => outcome.counts.milestones,
                "assessments.csv" => outcome.counts.assessments,
                _ => outcome.partnerships as u64,
            };
            if stored != totals.accepted {
                fail(format!("{stored} rows of {file} stored, {} accepted", totals.accepted));
            }
        }
    }
}

#[tokio::test]
async fn every_malformed_package_is_refused_cleanly_and_every_control_imports() {
    let framework = Arc::new(Framework::builtin().expect("framework"));
    let mut failures = Vec::new();
    for case in CASES {
        for skip in [false, true] {
            match import(case.name, skip, framework.clone()).await {
                Ok(outcome) => check(case, skip, &outcome, &mut failures),
                Err(panic) => failures.push(panic),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_formula_in_a_rejected_row_is_neutralised_and_one_in_an_accepted_name_kept_as_data() {
    let framework = Arc::new(Framework::builtin().expect("framework"));
    let outcome = import("formula_in_rejected_row", true, framework)
        .await
        .expect("no panic");
    let rejected = records(&outcome.package.join("rejected/participants.csv"));
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].get(0), Some("3"));
    assert_eq!(
        rejected[0].get(5),
        Some("'=HYPERLINK(\"http://x\",\"y\")"),
        "{rejected:?}"
    );
    assert_eq!(rejected[0].get(6), Some("'@SUM(1)"), "{rejected:?}");

    // Names are data: the formula is stored as it was sent (exports neutralise it).
    let dir = tempfile::tempdir().expect("tempdir");
    let package = dir.path().join("pkg");
    prepare("ok_formula_in_name", &package);
    let store = SqliteStore::open(&dir.path().join("t.db")).await.expect("open");
    let mut issues: Vec<Issue> = Vec::new();
    let options = ImportOptions {
        skip_invalid: false,
        today: today(),
    };
    let framework = Framework::builtin().expect("framework");
    let summary = import_package(&store, &framework, &package, options, &mut issues)
        .await
        .expect("import");
    assert!(summary.committed && issues.is_empty(), "{issues:?}");
    let names: Vec<String> = store
        .organizations()
        .await
        .expect("orgs")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert!(
        names.contains(&"=HYPERLINK(\"http://x\",\"y\")".to_owned()),
        "{names:?}"
    );
}

#[test]
fn check_file_never_panics_on_the_corpus_and_passes_the_controls() {
    let framework = Framework::builtin().expect("framework");
    for case in CASES {
        let dir = tempfile::tempdir().expect("tempdir");
        prepare(case.name, dir.path());
        for entry in std::fs::read_dir(dir.path()).expect("read") {
            let entry = entry.expect("entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(spec) = spec::file_spec(&name) else { continue };
            if !entry.file_type().expect("type").is_file() {
                continue;
            }
            let bytes = std::fs::read(entry.path()).expect("read");
            let found = check_file(spec, &bytes, today(), &framework);
            if matches!(case.expect, Expect::Imports(_)) {
                assert!(found.is_empty(), "{}/{name}: {found:?}", case.name);
            }
            for issue in &found {
                let text = issue.to_string();
                assert!(
                    !PLANTED.iter().any(|v| text.contains(v)) && text.len() <= 1000,
                    "{}/{name}: {text:.200}",
                    case.name
                );
            }
        }
    }
}

#[test]
fn the_corpus_table_and_readme_list_every_case_and_nothing_else() {
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus())
        .expect("corpus")
        .filter_map(|e| {
            let e = e.expect("entry");
            e.file_type()
                .expect("type")
                .is_dir()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CASES.iter().map(|c| c.name.to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every directory of tests/corpus has a row in CASES");
    assert!(CASES.len() >= 40, "{} cases", CASES.len());
    let readme = std::fs::read_to_string(corpus().join("README.md")).expect("README.md");
    for case in CASES {
        assert!(
            readme.contains(&format!("`{}`", case.name)),
            "README.md lists {}",
            case.name
        );
    }
}
