//! Streaming reader for one CSV file of a package: header checks, then one row at a time.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use csv::{ByteRecord, StringRecord};

use crate::issue::Issue;
use crate::spec::FileSpec;

pub struct Table {
    pub spec: &'static FileSpec,
    reader: csv::Reader<BufReader<Box<dyn Read + Send>>>,
    /// The header as written in the file (BOM removed), for rejected-row output.
    pub header: StringRecord,
    /// For each spec column, its position in the file's records.
    positions: Vec<Option<usize>>,
    raw: ByteRecord,
}

/// One data row. `record` holds the fields as written; `line` is where the record starts.
pub struct Row {
    pub line: u64,
    pub record: StringRecord,
}

pub enum NextRow {
    Row(Row),
    /// The row cannot be read at all (bad UTF-8, wrong number of fields): reject it whole.
    Unreadable {
        line: u64,
        record: StringRecord,
        issue: Issue,
    },
    End,
}

impl Table {
    /// Opens the file and checks its header; header problems come back as issues on line 1.
    pub fn open(path: &Path, spec: &'static FileSpec) -> Result<Self, Vec<Issue>> {
        let file = File::open(path).map_err(|e| vec![Issue::file(spec.name, format!("cannot open: {e}"))])?;
        Self::from_reader(Box::new(file), spec)
    }

    /// The same from any byte source (a file, bytes in memory, an upload).
    pub fn from_reader(input: Box<dyn Read + Send>, spec: &'static FileSpec) -> Result<Self, Vec<Issue>> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(BufReader::with_capacity(1 << 16, input));
        let mut first = ByteRecord::new();
        let has_header = reader
            .read_byte_record(&mut first)
            .map_err(|e| vec![Issue::at(spec.name, 1, None, format!("cannot read the header: {e}"))])?;
        if !has_header {
            return Err(vec![Issue::at(
                spec.name,
                1,
                None,
                "the file is empty; a header row is required",
            )]);
        }
        if first
            .get(0)
            .is_some_and(|f| f.starts_with(b"\xff\xfe") || f.starts_with(b"\xfe\xff"))
        {
            return Err(vec![Issue::at(
                spec.name,
                1,
                None,
                "the file is UTF-16; save it as UTF-8",
            )]);
        }
        let header = StringRecord::from_byte_record(first).map_err(|e| {
            let column = format!("column {}", e.utf8_error().field() + 1);
            vec![Issue::at(spec.name, 1, Some(&column), "is not valid UTF-8")]
        })?;
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, name)| {
                if i == 0 {
                    name.trim_start_matches('\u{feff}').to_owned()
                } else {
                    name.to_owned()
                }
            })
            .collect();
        let header = StringRecord::from(names.clone());

        let mut issues = Vec::new();
        for (i, name) in names.iter().enumerate() {
            // A quote left open in the header swallows the rows below into one "column name":
            // such a name is never repeated (it may hold names and birth dates).
            let shown = if name.contains(['\n', '\r']) || name.chars().count() > 64 {
                format!("column {}", i + 1)
            } else {
                name.clone()
            };
            if name.contains(['\n', '\r']) {
                issues.push(Issue::at(
                    spec.name,
                    1,
                    Some(&shown),
                    "contains a line break (is a quote left open?)",
                ));
            } else if names[..i].contains(name) {
                issues.push(Issue::at(spec.name, 1, Some(&shown), "column appears more than once"));
            } else if spec.column(name).is_none() && !name.starts_with("x_") {
                issues.push(Issue::at(
                    spec.name,
                    1,
                    Some(&shown),
                    "is not a column of this file (custom columns must start with x_)",
                ));
            }
        }
        let positions: Vec<Option<usize>> = spec
            .columns
            .iter()
            .map(|c| names.iter().position(|n| n == c.name))
            .collect();
        for (column, position) in spec.columns.iter().zip(&positions) {
            if column.required && position.is_none() {
                issues.push(Issue::at(spec.name, 1, Some(column.name), "required column is missing"));
            }
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        Ok(Self {
            spec,
            reader,
            header,
            positions,
            raw: ByteRecord::new(),
        })
    }

    /// Byte offset reached, for progress reporting.
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    pub fn next_row(&mut self) -> Result<NextRow, Issue> {
        let more = self.reader.read_byte_record(&mut self.raw).map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            Issue::at(self.spec.name, line, None, format!("cannot read the file: {e}"))
        })?;
        if !more {
            return Ok(NextRow::End);
        }
        let line = self.raw.position().map(|p| p.line()).unwrap_or(0);
        let name = self.spec.name;
        let record = match StringRecord::from_byte_record(self.raw.clone()) {
            Ok(record) => record,
            Err(e) => {
                let lossy: Vec<String> = self
                    .raw
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                let column = e.utf8_error().field();
                let column_name = self.header.get(column).unwrap_or("?").to_owned();
                return Ok(NextRow::Unreadable {
                    line,
                    record: StringRecord::from(lossy),
                    issue: Issue::at(name, line, Some(&column_name), "is not valid UTF-8"),
                });
            }
        };
        if record.len() != self.header.len() {
            let hint = if record.iter().any(|f| f.contains(['\n', '\r'])) {
                " (a field holds a line break: is a quote left open?)"
            } else {
                ""
            };
            let issue = Issue::at(
                name,
                line,
                None,
                format!(
                    "has {} fields; the header has {}{hint}",
                    record.len(),
                    self.header.len()
                ),
            );
            return Ok(NextRow::Unreadable { line, record, issue });
        }
        Ok(NextRow::Row(Row { line, record }))
    }

    /// The value of a spec column in `row`; `None` when the column is absent or the field empty.
    pub fn get<'r>(&self, row: &'r Row, column: &str) -> Option<&'r str> {
        let index = self.spec.columns.iter().position(|c| c.name == column)?;
        let position = self.positions[index]?;
        row.record.get(position).filter(|v| !v.is_empty())
    }
}
