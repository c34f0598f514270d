//! The records of an HSDS package as both importers read them: flat rows of named cells, each
//! with its place in the input, so that one assembly step serves JSON and CSV and every error
//! names where it is.

use std::fmt;

/// The most characters a name may have (organization, service, location, taxonomy term).
pub const MAX_NAME_CHARS: usize = 500;
/// The most characters any other text may have (descriptions, eligibility, schedules).
pub const MAX_TEXT_CHARS: usize = 20_000;
/// The most characters an HSDS id may have (a UUID has 36).
pub const MAX_HSDS_ID_CHARS: usize = 100;
/// The most records (objects or CSV rows) a package may have: with the byte limit, this bounds
/// the memory a hostile package of tiny records can take.
pub const MAX_RECORDS: usize = 1_000_000;
/// Errors kept before import stops listing them; as many warnings again.
pub const MAX_ISSUES: usize = 100;

/// Where in a package something is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// An object of a JSON document, by its path (`$[0].services[3]`).
    Json(String),
    /// A row of a CSV file, by the line it starts on (the header is line 1).
    Csv { file: String, line: u64 },
    /// A whole file of a tabular package.
    File(String),
}

/// One problem, at one place and, where it is one field's, that field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub place: Place,
    pub field: Option<String>,
    pub message: String,
}

impl Issue {
    pub fn new(place: &Place, field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            place: place.clone(),
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// `$[0].services[3].name: is required` for JSON, `services.csv:4: name: is required` for CSV.
impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.place, &self.field) {
            (Place::Json(path), Some(field)) => write!(f, "{path}.{field}: {}", self.message),
            (Place::Json(path), None) => write!(f, "{path}: {}", self.message),
            (Place::Csv { file, line }, Some(field)) => write!(f, "{file}:{line}: {field}: {}", self.message),
            (Place::Csv { file, line }, None) => write!(f, "{file}:{line}: {}", self.message),
            (Place::File(file), Some(field)) => write!(f, "{file}: {field}: {}", self.message),
            (Place::File(file), None) => write!(f, "{file}: {}", self.message),
        }
    }
}

/// Why a package was refused: its errors, in input order, the first [`MAX_ISSUES`] of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    pub issues: Vec<Issue>,
    /// Errors found past the first [`MAX_ISSUES`], not listed.
    pub unlisted: usize,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines = self.issues.iter();
        if let Some(first) = lines.next() {
            write!(f, "{first}")?;
        }
        for issue in lines {
            write!(f, "\n{issue}")?;
        }
        if self.unlisted > 0 {
            write!(f, "\n… and {} more errors", self.unlisted)?;
        }
        Ok(())
    }
}

/// Errors and warnings as they are found, bounded so hostile input cannot fill memory.
#[derive(Debug, Default)]
pub struct Issues {
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
    unlisted: usize,
}

impl Issues {
    pub fn error(&mut self, issue: Issue) {
        if self.errors.len() < MAX_ISSUES {
            self.errors.push(issue);
        } else {
            self.unlisted += 1;
        }
    }

    pub fn warn(&mut self, issue: Issue) {
        if self.warnings.len() < MAX_ISSUES {
            self.warnings.push(issue);
        }
    }

    /// Records the error of `result`, if any, and passes its value on.
    pub fn check<T>(&mut self, result: Result<T, Issue>) -> Option<T> {
        result.map_err(|issue| self.error(issue)).ok()
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The refusal, with what was found so far: for a package that cannot be read further.
    pub fn into_error(self) -> ImportError {
        ImportError {
            issues: self.errors,
            unlisted: self.unlisted,
        }
    }

    /// The warnings, or the refusal when there was any error.
    pub fn finish(self) -> Result<Vec<Issue>, ImportError> {
        if self.errors.is_empty() {
            Ok(self.warnings)
        } else {
            Err(ImportError {
                issues: self.errors,
                unlisted: self.unlisted,
            })
        }
    }
}

/// One cell as it was written.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A JSON string.
    Text(String),
    /// A CSV cell: text that may stand for a number.
    Csv(String),
    /// A JSON number.
    Number(f64),
    /// Any other JSON value, named for the error message ("a boolean", "an array", "an object").
    Other(&'static str),
}

/// One record of one HSDS table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub place: Place,
    cells: Vec<(String, Cell)>,
}

impl Row {
    pub fn new(place: Place) -> Self {
        Self {
            place,
            cells: Vec::new(),
        }
    }

    pub fn push(&mut self, field: impl Into<String>, cell: Cell) {
        self.cells.push((field.into(), cell));
    }

    fn cell(&self, field: &str) -> Option<&Cell> {
        self.cells.iter().find(|(name, _)| name == field).map(|(_, cell)| cell)
    }

    pub fn issue(&self, field: &str, message: impl Into<String>) -> Issue {
        Issue::new(&self.place, Some(field), message)
    }

    /// The text of `field`, trimmed; blank is absent.
    pub fn text(&self, field: &str, max_chars: usize) -> Result<Option<&str>, Issue> {
        let text = match self.cell(field) {
            None => return Ok(None),
            Some(Cell::Text(text) | Cell::Csv(text)) => text.trim(),
            Some(Cell::Number(_)) => return Err(self.issue(field, "must be a string, not a number")),
            Some(Cell::Other(kind)) => return Err(self.issue(field, format!("must be a string, not {kind}"))),
        };
        let chars = text.chars().count();
        if chars > max_chars {
            return Err(self.issue(
                field,
                format!("is {chars} characters long; at most {max_chars} are accepted"),
            ));
        }
        Ok(Some(text).filter(|t| !t.is_empty()))
    }

    pub fn required_text(&self, field: &str, max_chars: usize) -> Result<&str, Issue> {
        self.text(field, max_chars)?
            .ok_or_else(|| self.issue(field, "is required"))
    }

    pub fn name(&self, field: &str) -> Result<Option<&str>, Issue> {
        self.text(field, MAX_NAME_CHARS)
    }

    pub fn long_text(&self, field: &str) -> Result<Option<&str>, Issue> {
        self.text(field, MAX_TEXT_CHARS)
    }

    /// An HSDS id (`id`, `service_id`, …).
    pub fn hsds_id(&self, field: &str) -> Result<Option<&str>, Issue> {
        self.text(field, MAX_HSDS_ID_CHARS)
    }

    pub fn required_hsds_id(&self, field: &str) -> Result<&str, Issue> {
        self.required_text(field, MAX_HSDS_ID_CHARS)
    }

    /// A finite number: a JSON number, or a CSV cell that parses as one.
    pub fn number(&self, field: &str) -> Result<Option<f64>, Issue> {
        let number = match self.cell(field) {
            None => return Ok(None),
            Some(Cell::Number(n)) => *n,
            Some(Cell::Csv(text)) if text.trim().is_empty() => return Ok(None),
            Some(Cell::Csv(text)) => text
                .trim()
                .parse::<f64>()
                .map_err(|_| self.issue(field, format!("{:?} is not a number", clip(text))))?,
            Some(Cell::Text(_)) => return Err(self.issue(field, "must be a number, not a string")),
            Some(Cell::Other(kind)) => return Err(self.issue(field, format!("must be a number, not {kind}"))),
        };
        if number.is_finite() {
            Ok(Some(number))
        } else {
            Err(self.issue(field, "must be a finite number"))
        }
    }

    /// Sets the foreign key `field` to `parent` when a nested object leaves it out; refuses one
    /// that names another parent than the object it is nested in.
    pub fn link(&mut self, field: &str, parent: &str) -> Result<(), Issue> {
        match self.text(field, MAX_HSDS_ID_CHARS) {
            Ok(None) => {
                self.cells.retain(|(name, _)| name != field);
                self.push(field, Cell::Text(parent.to_owned()));
                Ok(())
            }
            Ok(Some(given)) if given == parent => Ok(()),
            Ok(Some(given)) => Err(self.issue(
                field,
                format!("is {:?} but the object is nested in {:?}", clip(given), parent),
            )),
            Err(issue) => Err(issue),
        }
    }
}

/// A value quoted in a message, cut short so that an error never repeats a huge input.
pub fn clip(text: &str) -> String {
    const SHOWN: usize = 60;
    if text.chars().count() <= SHOWN {
        text.to_owned()
    } else {
        let mut shown: String = text.chars().take(SHOWN).collect();
        shown.push('…');
        shown
    }
}

/// The HSDS tables import reads, by table name; the others are accepted and ignored.
#[derive(Debug, Default)]
pub struct Tables {
    pub organization: Vec<Row>,
    pub organization_identifier: Vec<Row>,
    pub service: Vec<Row>,
    pub location: Vec<Row>,
    pub address: Vec<Row>,
    pub service_at_location: Vec<Row>,
    pub language: Vec<Row>,
    pub taxonomy_term: Vec<Row>,
    pub attribute: Vec<Row>,
    pub cost_option: Vec<Row>,
    pub schedule: Vec<Row>,
    pub service_area: Vec<Row>,
}

impl Tables {
    /// The table of HSDS resource `name`, when import reads it.
    pub fn table_mut(&mut self, name: &str) -> Option<&mut Vec<Row>> {
        Some(match name {
            "organization" => &mut self.organization,
            "organization_identifier" => &mut self.organization_identifier,
            "service" => &mut self.service,
            "location" => &mut self.location,
            "address" => &mut self.address,
            "service_at_location" => &mut self.service_at_location,
            "language" => &mut self.language,
            "taxonomy_term" => &mut self.taxonomy_term,
            "attribute" => &mut self.attribute,
            "cost_option" => &mut self.cost_option,
            "schedule" => &mut self.schedule,
            "service_area" => &mut self.service_area,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_name_the_place() {
        let json = Issue::new(&Place::Json("$[0].services[3]".into()), Some("name"), "is required");
        assert_eq!(json.to_string(), "$[0].services[3].name: is required");
        let csv = Issue::new(
            &Place::Csv {
                file: "services.csv".into(),
                line: 4,
            },
            Some("name"),
            "is required",
        );
        assert_eq!(csv.to_string(), "services.csv:4: name: is required");
    }

    #[test]
    fn cells_are_read_by_their_type() {
        let mut row = Row::new(Place::Json("$".into()));
        row.push("name", Cell::Number(5.0));
        row.push("latitude", Cell::Text("37.5".into()));
        row.push("longitude", Cell::Csv(" -122.0 ".into()));
        row.push("blank", Cell::Text("  ".into()));
        assert!(row.text("name", 10).is_err());
        assert!(row.number("latitude").is_err(), "a JSON string is not a number");
        assert_eq!(row.number("longitude"), Ok(Some(-122.0)));
        assert_eq!(row.text("blank", 10), Ok(None));
        assert_eq!(
            row.required_text("blank", 10).map_err(|e| e.to_string()),
            Err("$.blank: is required".into())
        );
        assert!(row.text("latitude", 2).is_err(), "too long");
    }
}
