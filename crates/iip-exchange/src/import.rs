//! The import pipeline: package directory → validated records → one store transaction.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use csv::StringRecord;
use iip_domain::Date;
use iip_domain::records::{Activity, Organization};
use iip_framework::Framework;
use iip_store::{ImportSession, Store, StoreError, Written};

use crate::issue::Issue;
use crate::parse::{self, FieldErrors, TableRow};
use crate::reader::{NextRow, Row, Table};
use crate::rejected::RejectedWriter;
use crate::spec::{self, FileSpec};

#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Import the valid rows and write the others to `DIR/rejected/`, instead of all-or-nothing.
    pub skip_invalid: bool,
    /// Dates after this day are refused.
    pub today: Date,
}

/// Receives problems as they are found, and progress; an import never holds all issues in memory.
pub trait ImportObserver {
    fn issue(&mut self, issue: &Issue);
    fn started(&mut self, _total_bytes: u64) {}
    fn progress(&mut self, _done_bytes: u64) {}
}

impl ImportObserver for Vec<Issue> {
    fn issue(&mut self, issue: &Issue) {
        self.push(issue.clone());
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSummary {
    pub file: &'static str,
    pub accepted: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub files: Vec<FileSummary>,
    /// Problems reported, whether the rows were skipped or the import refused.
    pub issues: u64,
    /// Whether anything was written to the store.
    pub committed: bool,
    pub rejected_files: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {message}")]
    Package { path: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write rejected rows to {path}: {message}")]
    Rejected { path: String, message: String },
}

/// Imports the package in `dir`. Every problem goes to `observer`. Without `skip_invalid`, the
/// store is left unchanged unless the whole package is valid. Problems that make a file
/// unreadable (a wrong header, an unknown file) always leave the store unchanged.
pub async fn import_package<S: Store>(
    store: &S,
    framework: &Framework,
    dir: &Path,
    options: ImportOptions,
    observer: &mut impl ImportObserver,
) -> Result<ImportSummary, ImportError> {
    import_package_from(store, framework, dir, options, None, observer).await
}

/// [`import_package`] for a package sent by one organization (`iip import --from ORG`): every
/// row must be of `sender` or an organization under it (in the store, or new in the package
/// and placed under it), an organization may be moved only within that part of the tree (the
/// sender itself not at all), and agreements must be the sender side's. A row outside is
/// refused with the reason, like any invalid row. `None` trusts the package (the operator's
/// own data).
pub async fn import_package_from<S: Store>(
    store: &S,
    framework: &Framework,
    dir: &Path,
    options: ImportOptions,
    sender: Option<&str>,
    observer: &mut impl ImportObserver,
) -> Result<ImportSummary, ImportError> {
    let package_error = |message: String| ImportError::Package {
        path: dir.display().to_string(),
        message,
    };
    let entries =
        std::fs::read_dir(dir).map_err(|e| package_error(format!("cannot read the package directory: {e}")))?;

    let mut run = Run {
        observer,
        options,
        issues: 0,
        fatal: false,
        rejected_dir: dir.join("rejected"),
        done_bytes: 0,
        scope: None,
    };
    let mut present: HashMap<&'static str, (PathBuf, u64)> = HashMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| package_error(format!("cannot list the package directory: {e}")))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".csv") {
            continue;
        }
        // Follows a symbolic link, as opening the file does. A directory or anything else
        // named like a package file is refused, not skipped: its rows would be silently lost.
        let metadata = std::fs::metadata(entry.path()).ok();
        match spec::file_spec(&name) {
            Some(spec) if metadata.as_ref().is_some_and(|m| m.is_file()) => {
                let size = metadata.map_or(0, |m| m.len());
                present.insert(spec.name, (entry.path(), size));
            }
            Some(_) => run.fatal_issue(Issue::file(
                &name,
                if metadata.is_some_and(|m| m.is_dir()) {
                    "is a directory, not a CSV file"
                } else {
                    "is not a regular file"
                },
            )),
            None if name.starts_with("x_") => {}
            None => run.fatal_issue(Issue::file(
                &name,
                "is not a file of exchange format v1 (custom files must start with x_)",
            )),
        }
    }
    if present.is_empty() {
        return Err(package_error(format!(
            "no exchange-format files found (expected some of: {})",
            spec::FILES.map(|f| f.name).join(", ")
        )));
    }
    run.observer.started(present.values().map(|(_, size)| size).sum());

    let mut session = store.begin_import(&dir.display().to_string()).await?;
    if let Some(sender) = sender {
        let stored: HashMap<String, Option<String>> = session.organization_parents().await?.into_iter().collect();
        if !stored.contains_key(sender) {
            session.rollback().await?;
            return Err(package_error(format!(
                "--from {sender}: the store has no such organization (import the organization first, without --from)"
            )));
        }
        run.scope = Some(Scope::new(sender, &stored));
    }
    let mut summary = ImportSummary::default();
    let mut rejected_participants = HashMap::new();
    for spec in spec::FILES {
        let Some((path, size)) = present.get(spec.name) else {
            continue;
        };
        let file_summary = if spec.name == spec::ORGANIZATIONS.name {
            run.organizations(&mut session, path).await?
        } else {
            run.stream(&mut session, spec, path, framework, &mut rejected_participants)
                .await?
        };
        run.done_bytes += size;
        run.observer.progress(run.done_bytes);
        summary.rejected_files.extend(file_summary.1);
        summary.files.push(file_summary.0);
    }

    summary.issues = run.issues;
    summary.committed = !run.fatal && (run.issues == 0 || options.skip_invalid);
    if summary.committed {
        session.commit().await?;
    } else {
        session.rollback().await?;
    }
    Ok(summary)
}

struct Run<'o, O> {
    observer: &'o mut O,
    options: ImportOptions,
    issues: u64,
    /// A problem no row-skipping can get past (a bad header, an unknown file).
    fatal: bool,
    rejected_dir: PathBuf,
    done_bytes: u64,
    /// What the sender may write for, when the package came from one organization.
    scope: Option<Scope>,
}

/// The organizations a sender may send rows for: itself and everything under it.
struct Scope {
    sender: String,
    allowed: HashSet<String>,
}

impl Scope {
    /// From the stored tree alone: a package cannot widen it by re-parenting a stored
    /// organization under the sender.
    fn new(sender: &str, stored: &HashMap<String, Option<String>>) -> Self {
        let mut scope = Self {
            sender: sender.to_owned(),
            allowed: HashSet::from([sender.to_owned()]),
        };
        scope.grow(stored.iter().map(|(id, parent)| (id.as_str(), parent.as_deref())));
        scope
    }

    /// Adds every organization whose parent is allowed, until nothing changes.
    fn grow<'a>(&mut self, edges: impl Iterator<Item = (&'a str, Option<&'a str>)>) {
        let edges: Vec<(&str, &str)> = edges.filter_map(|(id, parent)| Some((id, parent?))).collect();
        loop {
            let before = self.allowed.len();
            for (id, parent) in &edges {
                if self.allowed.contains(*parent) {
                    self.allowed.insert((*id).to_owned());
                }
            }
            if self.allowed.len() == before {
                break;
            }
        }
    }

    fn refusal(&self, org: &str) -> String {
        format!(
            "{org} is not {} or an organization under it: a package from {} (--from) cannot carry its rows",
            self.sender, self.sender
        )
    }

    /// Why an organization row is outside the sender's part of the tree, if it is.
    fn organization_problem(
        &self,
        org: &Organization,
        stored: &HashMap<String, Option<String>>,
    ) -> Option<(&'static str, String)> {
        let id = org.org_id.as_str();
        let parent = org.parent_id.as_ref().map(|p| p.as_str());
        if !self.allowed.contains(id) {
            return Some(("org_id", self.refusal(id)));
        }
        if id == self.sender {
            let current = stored.get(id).cloned().flatten();
            return (parent != current.as_deref()).then(|| {
                (
                    "parent_id",
                    format!("{id} sent this package (--from): it cannot move itself"),
                )
            });
        }
        match parent {
            Some(p) if self.allowed.contains(p) => None,
            _ => Some((
                "parent_id",
                format!(
                    "{id} can be placed only under {} or an organization under it",
                    self.sender
                ),
            )),
        }
    }
}

type FileResult = Result<(FileSummary, Option<PathBuf>), ImportError>;

impl<O: ImportObserver> Run<'_, O> {
    fn issue(&mut self, issue: Issue) {
        self.issues += 1;
        self.observer.issue(&issue);
    }

    fn fatal_issue(&mut self, issue: Issue) {
        self.fatal = true;
        self.issue(issue);
    }

    /// Opens a file of the package and, when skipping invalid rows, its rejected-rows output.
    /// A file that cannot be read row by row is a fatal problem.
    fn open(&mut self, path: &Path, spec: &'static FileSpec) -> Option<(Table, Option<RejectedWriter>)> {
        let table = match Table::open(path, spec) {
            Ok(table) => table,
            Err(issues) => {
                issues.into_iter().for_each(|issue| self.fatal_issue(issue));
                return None;
            }
        };
        if !self.options.skip_invalid {
            return Some((table, None));
        }
        match RejectedWriter::new(&self.rejected_dir, spec.name, table.header.clone()) {
            Ok(writer) => Some((table, Some(writer))),
            Err(e) => {
                self.fatal_issue(Issue::file(
                    spec.name,
                    format!("cannot prepare rejected/{}: {e}", spec.name),
                ));
                None
            }
        }
    }

    /// Reports each field error as its own issue and, when skipping, writes the row out.
    fn reject(
        &mut self,
        spec: &FileSpec,
        writer: &mut Option<RejectedWriter>,
        line: u64,
        errors: &FieldErrors,
        record: &StringRecord,
    ) -> Result<(), ImportError> {
        for (column, message) in errors {
            let column = (!column.is_empty()).then_some(*column);
            self.issue(Issue::at(spec.name, line, column, message.clone()));
        }
        if let Some(writer) = writer {
            let reason = errors
                .iter()
                .map(|(c, m)| if c.is_empty() { m.clone() } else { format!("{c}: {m}") })
                .collect::<Vec<_>>()
                .join("; ");
            writer.write(line, &reason, record).map_err(|e| ImportError::Rejected {
                path: self.rejected_dir.join(spec.name).display().to_string(),
                message: e.to_string(),
            })?;
        }
        Ok(())
    }

    fn finish(
        &self,
        spec: &'static FileSpec,
        writer: Option<RejectedWriter>,
        accepted: u64,
        rejected: u64,
    ) -> FileResult {
        let path = match writer {
            Some(writer) => writer.finish().map_err(|e| ImportError::Rejected {
                path: self.rejected_dir.join(spec.name).display().to_string(),
                message: e.to_string(),
            })?,
            None => None,
        };
        Ok((
            FileSummary {
                file: spec.name,
                accepted,
                rejected,
            },
            path,
        ))
    }

    /// Organizations are few: read them all, check parents and cycles, then write.
    async fn organizations<S: ImportSession>(&mut self, session: &mut S, path: &Path) -> FileResult {
        let spec = &spec::ORGANIZATIONS;
        let Some((mut table, mut writer)) = self.open(path, spec) else {
            return Ok((
                FileSummary {
                    file: spec.name,
                    ..Default::default()
                },
                None,
            ));
        };
        let stored: HashMap<String, Option<String>> = session.organization_parents().await?.into_iter().collect();

        let mut rows: Vec<(u64, StringRecord, Result<Organization, FieldErrors>)> = Vec::new();
        let mut seen = HashSet::new();
        loop {
            match table.next_row() {
                Err(issue) => {
                    self.fatal_issue(issue);
                    break;
                }
                Ok(NextRow::End) => break,
                Ok(NextRow::Unreadable { line, record, issue }) => {
                    rows.push((line, record, Err(vec![("", issue.message)])));
                }
                Ok(NextRow::Row(row)) => {
                    let mut parsed = parse::organization(&TableRow(&table, &row), self.options.today);
                    if let Ok(org) = &parsed
                        && !seen.insert(org.org_id.to_string())
                    {
                        parsed = Err(vec![(
                            "org_id",
                            format!("{} appears more than once in this file", org.org_id),
                        )]);
                    }
                    rows.push((row.line, row.record, parsed));
                }
            }
        }

        if let Some(scope) = &mut self.scope {
            // New organizations (not in the store) placed under the sender join its part.
            let new: Vec<(&str, Option<&str>)> = rows
                .iter()
                .filter_map(|(_, _, parsed)| parsed.as_ref().ok())
                .filter(|org| !stored.contains_key(org.org_id.as_str()))
                .map(|org| (org.org_id.as_str(), org.parent_id.as_ref().map(|p| p.as_str())))
                .collect();
            scope.grow(new.into_iter());
            for (_, _, parsed) in rows.iter_mut() {
                if let Ok(org) = parsed
                    && let Some((column, message)) = scope.organization_problem(org, &stored)
                {
                    *parsed = Err(vec![(column, message)]);
                }
            }
        }

        // Drop organizations whose parent is unknown or whose parent chain loops, until stable:
        // dropping one can orphan its children.
        loop {
            let mut parents: HashMap<&str, Option<&str>> = stored
                .iter()
                .map(|(id, parent)| (id.as_str(), parent.as_deref()))
                .collect();
            for (_, _, parsed) in &rows {
                if let Ok(org) = parsed {
                    parents.insert(org.org_id.as_str(), org.parent_id.as_ref().map(|p| p.as_str()));
                }
            }
            let mut newly_invalid = Vec::new();
            for (index, (_, _, parsed)) in rows.iter().enumerate() {
                let Ok(org) = parsed else { continue };
                if let Some(message) = parent_problem(org, &parents) {
                    newly_invalid.push((index, message));
                }
            }
            if newly_invalid.is_empty() {
                break;
            }
            for (index, message) in newly_invalid {
                rows[index].2 = Err(vec![("parent_id", message)]);
            }
        }

        let (mut accepted, mut rejected) = (0, 0);
        for (line, record, parsed) in &rows {
            let errors = match parsed {
                Ok(org) => match session.upsert_organization(org).await? {
                    Written::Stored => {
                        accepted += 1;
                        continue;
                    }
                    _ => vec![("org_id", format!("{} could not be stored", org.org_id))],
                },
                Err(errors) => errors.clone(),
            };
            rejected += 1;
            self.reject(spec, &mut writer, *line, &errors, record)?;
        }
        self.finish(spec, writer, accepted, rejected)
    }

    /// Participants, activities, milestones and assessments: one row at a time.
    async fn stream<S: ImportSession>(
        &mut self,
        session: &mut S,
        spec: &'static FileSpec,
        path: &Path,
        framework: &Framework,
        rejected_participants: &mut HashMap<(String, String), u64>,
    ) -> FileResult {
        let Some((mut table, mut writer)) = self.open(path, spec) else {
            return Ok((
                FileSummary {
                    file: spec.name,
                    ..Default::default()
                },
                None,
            ));
        };
        let today = self.options.today;
        let (mut accepted, mut rejected) = (0u64, 0u64);
        let mut pending: Vec<PendingActivity> = Vec::with_capacity(ACTIVITY_BATCH);
        loop {
            let row = match table.next_row() {
                Err(issue) => {
                    self.fatal_issue(issue);
                    break;
                }
                Ok(NextRow::End) => break,
                Ok(NextRow::Unreadable { line, record, issue }) => {
                    // Keep issues in line order: write what is pending first.
                    let (a, r) = self
                        .flush_activities(session, spec, &mut writer, &mut pending, rejected_participants)
                        .await?;
                    accepted += a;
                    rejected += r + 1;
                    let errors = vec![(issue.column.map_or("", |c| leak_column(spec, &c)), issue.message)];
                    self.reject(spec, &mut writer, line, &errors, &record)?;
                    continue;
                }
                Ok(NextRow::Row(row)) => row,
            };
            if (accepted + rejected) % 4096 == 0 {
                self.observer.progress(self.done_bytes + table.bytes_read());
            }
            let outside = self.scope.as_ref().and_then(|scope| {
                let org = table.get(&row, "org_id").unwrap_or("");
                (!scope.allowed.contains(org)).then(|| vec![("org_id", scope.refusal(org))])
            });
            if spec.name == spec::ACTIVITIES.name {
                // A refusal waits in line order with the activities still pending.
                let parsed = match outside {
                    Some(errors) => Err(errors),
                    None => parse::activity(&TableRow(&table, &row), today, framework),
                };
                pending.push((row.line, row.record, parsed));
                if pending.len() >= ACTIVITY_BATCH {
                    let (a, r) = self
                        .flush_activities(session, spec, &mut writer, &mut pending, rejected_participants)
                        .await?;
                    accepted += a;
                    rejected += r;
                }
                continue;
            }
            if let Some(errors) = outside {
                rejected += 1;
                self.reject(spec, &mut writer, row.line, &errors, &row.record)?;
                continue;
            }
            let written = match spec.name {
                "participants.csv" => match parse::participant(&TableRow(&table, &row), today) {
                    Ok(p) => Ok(session.upsert_participant(&p).await?),
                    Err(e) => Err(e),
                },
                "partnerships.csv" => match parse::partnership(&TableRow(&table, &row), today) {
                    Ok(p) => Ok(session.upsert_partnership(&p).await?),
                    Err(e) => Err(e),
                },
                "milestones.csv" => match parse::milestone(&TableRow(&table, &row), today, framework) {
                    Ok(m) => Ok(session.add_milestone(&m).await?),
                    Err(e) => Err(e),
                },
                _ => match parse::assessment(&TableRow(&table, &row), today) {
                    Ok(s) => Ok(session.upsert_assessment(&s).await?),
                    Err(e) => Err(e),
                },
            };
            let errors = match written {
                Ok(Written::Stored) => {
                    accepted += 1;
                    continue;
                }
                Ok(Written::DuplicateInPackage) if spec.name == spec::PARTNERSHIPS.name => vec![(
                    "partnership_id",
                    format!(
                        "{} appears more than once in this file",
                        table.get(&row, "partnership_id").unwrap_or("")
                    ),
                )],
                Ok(Written::DuplicateInPackage) => vec![(
                    "participant_id",
                    format!(
                        "{} appears more than once for organization {} in this file",
                        table.get(&row, "participant_id").unwrap_or(""),
                        table.get(&row, "org_id").unwrap_or("")
                    ),
                )],
                Ok(Written::UnknownParent) => vec![unknown_parent(&table, &row, rejected_participants)],
                Err(errors) => errors,
            };
            if spec.name == spec::PARTICIPANTS.name
                && let (Some(org), Some(id)) = (table.get(&row, "org_id"), table.get(&row, "participant_id"))
            {
                rejected_participants
                    .entry((org.to_owned(), id.to_owned()))
                    .or_insert(row.line);
            }
            rejected += 1;
            self.reject(spec, &mut writer, row.line, &errors, &row.record)?;
        }
        let (a, r) = self
            .flush_activities(session, spec, &mut writer, &mut pending, rejected_participants)
            .await?;
        self.finish(spec, writer, accepted + a, rejected + r)
    }

    /// Writes the pending activities in one batch, then reports their outcomes in line order.
    /// Returns how many were accepted and rejected.
    async fn flush_activities<S: ImportSession>(
        &mut self,
        session: &mut S,
        spec: &FileSpec,
        writer: &mut Option<RejectedWriter>,
        pending: &mut Vec<PendingActivity>,
        rejected_participants: &HashMap<(String, String), u64>,
    ) -> Result<(u64, u64), ImportError> {
        let valid: Vec<Activity> = pending
            .iter()
            .filter_map(|(_, _, parsed)| parsed.as_ref().ok().cloned())
            .collect();
        let mut outcomes = session.add_activities(&valid).await?.into_iter();
        let (mut accepted, mut rejected) = (0, 0);
        for (line, record, parsed) in pending.drain(..) {
            let errors = match parsed {
                Err(errors) => errors,
                Ok(activity) => match outcomes.next() {
                    Some(Written::Stored) => {
                        accepted += 1;
                        continue;
                    }
                    _ => vec![unknown_participant(
                        activity.org_id.as_str(),
                        activity.participant_id.as_str(),
                        rejected_participants,
                    )],
                },
            };
            rejected += 1;
            self.reject(spec, writer, line, &errors, &record)?;
        }
        Ok((accepted, rejected))
    }
}

/// Activities are written in batches of this many rows: one round trip to the store each.
const ACTIVITY_BATCH: usize = 256;

type PendingActivity = (u64, StringRecord, Result<Activity, FieldErrors>);

/// Maps a column name taken from a file header back to the spec's static name.
fn leak_column(spec: &FileSpec, column: &str) -> &'static str {
    spec.columns.iter().find(|c| c.name == column).map_or("", |c| c.name)
}

fn unknown_parent(
    table: &Table,
    row: &Row,
    rejected_participants: &HashMap<(String, String), u64>,
) -> (&'static str, String) {
    let org = table.get(row, "org_id").unwrap_or("");
    if table.spec.name == spec::PARTNERSHIPS.name {
        let partner = table.get(row, "partner_org_id").unwrap_or("");
        return (
            "partner_org_id",
            format!("organization {org} or {partner} is in neither the package nor the store"),
        );
    }
    if table.spec.name == spec::PARTICIPANTS.name {
        return ("org_id", format!("no organization {org} in the package or the store"));
    }
    unknown_participant(
        org,
        table.get(row, "participant_id").unwrap_or(""),
        rejected_participants,
    )
}

fn unknown_participant(
    org: &str,
    id: &str,
    rejected_participants: &HashMap<(String, String), u64>,
) -> (&'static str, String) {
    match rejected_participants.get(&(org.to_owned(), id.to_owned())) {
        Some(line) => (
            "participant_id",
            format!("participant {id} of organization {org} was rejected at participants.csv line {line}"),
        ),
        None => (
            "participant_id",
            format!("no participant {id} at organization {org} in the package or the store"),
        ),
    }
}

/// Why an organization's parent is unacceptable: unknown, or a chain that never ends.
fn parent_problem(org: &Organization, parents: &HashMap<&str, Option<&str>>) -> Option<String> {
    let parent = org.parent_id.as_ref()?.as_str();
    if !parents.contains_key(parent) {
        return Some(format!("no organization {parent} in the package or the store"));
    }
    let mut seen = HashSet::from([org.org_id.as_str()]);
    let mut current = parent;
    loop {
        if !seen.insert(current) {
            return Some(if current == org.org_id.as_str() {
                format!("the parent chain of {} loops back to itself", org.org_id)
            } else {
                format!("the parent chain of {} runs into a loop at {current}", org.org_id)
            });
        }
        match parents.get(current).copied().flatten() {
            Some(next) if parents.contains_key(next) => current = next,
            _ => return None,
        }
    }
}
