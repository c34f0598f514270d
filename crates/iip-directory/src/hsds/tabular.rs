//! The tabular form: the CSV files of HSDS 3's `datapackage.json`, with its file names and
//! columns (every column of each file we write, in the standard's order), and a
//! `datapackage.json` describing the files written.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::Path;

use iip_domain::records::Organization;
use serde_json::Value;

use super::assemble::assemble;
use super::datapackage::{self, Resource};
use super::export::{self, ExportError, Object};
use super::json::term_row;
use super::rows::{Cell, ImportError, Issue, Issues, MAX_RECORDS, Place, Row, Tables, clip};
use super::{Directory, MAX_PACKAGE_BYTES};
use crate::service::Service;

/// The file every tabular package must have.
const ORGANIZATIONS_FILE: &str = "organizations.csv";

/// Writes the directory into `dir` (created if missing) as HSDS 3 tabular data.
pub fn export_tabular(dir: &Path, organizations: &[Organization], services: &[Service]) -> Result<(), ExportError> {
    let package = export::build(organizations, services)?;
    let mut tables: Vec<(&str, Vec<Object>)> = [
        "organization",
        "organization_identifier",
        "service",
        "service_at_location",
        "location",
        "address",
        "language",
        "attribute",
        "cost_option",
        "schedule",
        "service_area",
        "taxonomy",
        "taxonomy_term",
    ]
    .into_iter()
    .map(|name| (name, Vec::new()))
    .collect();
    let mut add = |table: &str, rows: Vec<Object>| {
        if let Some((_, all)) = tables.iter_mut().find(|(name, _)| *name == table) {
            all.extend(rows);
        }
    };
    let mut taxonomies = Vec::new();
    for term in &package.terms {
        if !taxonomies
            .iter()
            .any(|t: &Object| t.get("id").and_then(Value::as_str) == Some(term.taxonomy.id().as_str()))
        {
            let mut row = Object::new();
            row.insert("id".into(), term.taxonomy.id().into());
            row.insert("name".into(), term.taxonomy.name.into());
            row.insert("description".into(), term.taxonomy.description.into());
            row.insert("version".into(), term.taxonomy.version.into());
            taxonomies.push(row);
        }
    }
    add("taxonomy", taxonomies);
    add("taxonomy_term", package.terms.iter().map(term_row).collect());
    for org in package.organizations {
        add("organization", vec![org.row]);
        add("organization_identifier", org.identifiers);
        add("attribute", org.attributes.into_iter().map(|a| a.row).collect());
        for service in org.services {
            add("service", vec![service.row]);
            add("language", service.languages);
            add("attribute", service.attributes.into_iter().map(|a| a.row).collect());
            add("cost_option", service.cost_options);
            add("schedule", service.schedules);
            add("service_area", service.service_areas);
            for at in service.at_locations {
                add("service_at_location", vec![at.row]);
                add("location", vec![at.location]);
                add("address", at.addresses);
            }
        }
    }
    fs::create_dir_all(dir).map_err(|source| ExportError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let standard = datapackage::hsds();
    let mut written = Vec::new();
    for (name, rows) in &tables {
        let Some(resource) = standard.resource(name) else {
            let source = std::io::Error::other(format!("the built-in datapackage.json has no {name} table"));
            return Err(ExportError::Io {
                path: dir.to_owned(),
                source,
            });
        };
        write_csv(&dir.join(&resource.path), resource, rows)?;
        written.push(*name);
    }
    write_datapackage(dir, &written)
}

fn write_csv(path: &Path, resource: &Resource, rows: &[Object]) -> Result<(), ExportError> {
    let csv_error = |source| ExportError::Csv {
        path: path.to_owned(),
        source,
    };
    let mut writer = csv::Writer::from_path(path).map_err(csv_error)?;
    writer.write_record(&resource.fields).map_err(csv_error)?;
    for row in rows {
        let cells = resource.fields.iter().map(|field| match row.get(field) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        });
        writer.write_record(cells).map_err(csv_error)?;
    }
    writer.flush().map_err(|source| ExportError::Io {
        path: path.to_owned(),
        source,
    })
}

/// The standard's data package, its resources cut down to the files written.
fn write_datapackage(dir: &Path, written: &[&str]) -> Result<(), ExportError> {
    let mut document = datapackage::hsds().document.clone();
    if let Some(Value::Array(resources)) = document.get_mut("resources") {
        resources.retain(|r| {
            r.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| written.contains(&n))
        });
    }
    let path = dir.join("datapackage.json");
    let text = serde_json::to_string_pretty(&document).map_err(|e| ExportError::Io {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    fs::write(&path, text).map_err(|source| ExportError::Io { path, source })
}

/// Reads a tabular package from `dir`: its `.csv` files (other files, `datapackage.json`
/// among them, are not read).
pub fn import_tabular(dir: &Path) -> Result<Directory, ImportError> {
    let mut issues = Issues::default();
    let shown = dir.display().to_string();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            issues.error(Issue::new(&Place::File(shown), None, format!("cannot be read: {e}")));
            return Err(issues.into_error());
        }
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut total = 0usize;
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            let name = entry.file_name().to_string_lossy().into_owned();
            issues.error(Issue::new(&Place::File(name), None, "has a name that is not UTF-8"));
            continue;
        };
        if !name.ends_with(".csv") || !entry.path().is_file() {
            continue;
        }
        let budget = MAX_PACKAGE_BYTES.saturating_sub(total);
        match read_at_most(&entry.path(), budget) {
            Ok(Some(bytes)) => {
                total += bytes.len();
                files.push((name, bytes));
            }
            Ok(None) => {
                let message = format!("makes the package larger than {MAX_PACKAGE_BYTES} bytes");
                issues.error(Issue::new(&Place::File(name), None, message));
                return Err(issues.into_error());
            }
            Err(e) => issues.error(Issue::new(&Place::File(name), None, format!("cannot be read: {e}"))),
        }
    }
    if issues.has_errors() {
        return Err(issues.into_error());
    }
    files.sort();
    import_tabular_files(&files)
}

/// The file's bytes, or `None` when it has more than `limit`.
fn read_at_most(path: &Path, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    fs::File::open(path)?.take(cap).read_to_end(&mut bytes)?;
    Ok((bytes.len() <= limit).then_some(bytes))
}

/// Reads a tabular package given as (file name, content) pairs: the same as [`import_tabular`]
/// without a folder (uploads, tests, fuzzing). Names not ending in `.csv` are skipped.
pub fn import_tabular_files<N: AsRef<str>, B: AsRef<[u8]>>(files: &[(N, B)]) -> Result<Directory, ImportError> {
    let mut issues = Issues::default();
    let mut tables = Tables::default();
    let total: usize = files.iter().map(|(_, bytes)| bytes.as_ref().len()).sum();
    if total > MAX_PACKAGE_BYTES {
        let message = format!("is {total} bytes; packages of at most {MAX_PACKAGE_BYTES} bytes are accepted");
        issues.error(Issue::new(&Place::File("the package".into()), None, message));
        return Err(issues.into_error());
    }
    let standard = datapackage::hsds();
    let mut seen = HashSet::new();
    let mut records = 0;
    for (name, bytes) in files {
        let name = name.as_ref();
        if !name.ends_with(".csv") {
            continue;
        }
        let place = Place::File(name.to_owned());
        if !seen.insert(name) {
            issues.error(Issue::new(&place, None, "is given twice"));
            continue;
        }
        let Some(resource) = standard.resource_of_file(name) else {
            let known: Vec<&str> = standard.resources.iter().map(|r| r.path.as_str()).collect();
            let message = format!("is not a file of HSDS 3 tabular data (those are: {})", known.join(", "));
            issues.error(Issue::new(&place, None, message));
            continue;
        };
        // Tables the directory has no use for (phones, contacts, programs, …) are not read.
        if let Some(rows) = tables.table_mut(&resource.name) {
            read_csv(name, bytes.as_ref(), &resource.fields, rows, &mut records, &mut issues);
        }
    }
    if !seen.contains(ORGANIZATIONS_FILE) {
        let message = "is missing: a tabular package has at least its organizations";
        issues.error(Issue::new(&Place::File(ORGANIZATIONS_FILE.into()), None, message));
    }
    // Rows that could not be read would only bring errors about what refers to them.
    if issues.has_errors() {
        return Err(issues.into_error());
    }
    assemble(tables, issues)
}

/// Reads one CSV file into rows; its header must name columns of its table only.
fn read_csv(
    file: &str,
    bytes: &[u8],
    columns: &[String],
    rows: &mut Vec<Row>,
    records: &mut usize,
    issues: &mut Issues,
) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let header_place = Place::Csv {
        file: file.to_owned(),
        line: 1,
    };
    let header = match reader.byte_headers() {
        Ok(header) if !header.is_empty() => header.clone(),
        Ok(_) => {
            issues.error(Issue::new(
                &Place::File(file.to_owned()),
                None,
                "is empty; its first line names the columns",
            ));
            return;
        }
        Err(e) => {
            issues.error(Issue::new(
                &header_place,
                None,
                format!("cannot be read: {}", csv_message(&e)),
            ));
            return;
        }
    };
    let mut names: Vec<&str> = Vec::with_capacity(header.len());
    let mut usable = true;
    for raw in header.iter() {
        let Ok(name) = std::str::from_utf8(raw) else {
            issues.error(Issue::new(&header_place, None, "the header is not valid UTF-8"));
            return;
        };
        let name = name.trim();
        let Some(column) = columns.iter().find(|c| *c == name) else {
            let message = format!("is not a column of {file} (its columns are: {})", columns.join(", "));
            issues.error(Issue::new(&header_place, Some(&clip(name)), message));
            usable = false;
            continue;
        };
        if names.contains(&column.as_str()) {
            issues.error(Issue::new(&header_place, Some(name), "is named twice"));
            usable = false;
        }
        names.push(column);
    }
    if !usable {
        return;
    }
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                let place = Place::Csv {
                    file: file.to_owned(),
                    line,
                };
                issues.error(Issue::new(&place, None, csv_message(&e)));
                if matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    continue;
                }
                return;
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        let place = Place::Csv {
            file: file.to_owned(),
            line,
        };
        *records += 1;
        if *records > MAX_RECORDS {
            let message = format!("makes the package longer than {MAX_RECORDS} rows; larger packages are not accepted");
            issues.error(Issue::new(&place, None, message));
            return;
        }
        let mut row = Row::new(place.clone());
        let mut readable = true;
        for (name, raw) in names.iter().zip(record.iter()) {
            match std::str::from_utf8(raw) {
                Ok(text) if text.trim().is_empty() => {}
                Ok(text) => row.push(*name, Cell::Csv(text.to_owned())),
                Err(_) => {
                    issues.error(Issue::new(&place, Some(name), "is not valid UTF-8"));
                    readable = false;
                }
            }
        }
        if readable {
            rows.push(row);
        }
    }
}

fn csv_message(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("has {len} fields where the header has {expected_len}")
        }
        _ => error.to_string(),
    }
}
