//! The need table: one row per unit (consortium) with its prior-year amount and the
//! census-style figures the formula's need indicators name.

use std::collections::BTreeMap;

use crate::Cents;

#[derive(Debug, thiserror::Error)]
pub enum NeedError {
    #[error("{path}: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path}:{line}: {column}: {message}")]
    Invalid {
        path: String,
        line: u64,
        column: String,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub id: String,
    pub prior: Cents,
    pub values: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct NeedTable {
    pub units: Vec<Unit>,
}

impl NeedTable {
    /// Parses CSV with the columns `unit_id`, `prior_year` (dollars) and any number of numeric
    /// indicator columns. Every problem is reported with its line and column.
    pub fn parse(source: &str, path: &str) -> Result<Self, NeedError> {
        let mut reader = csv::ReaderBuilder::new().from_reader(source.trim_start_matches('\u{feff}').as_bytes());
        let unreadable = |e: csv::Error| NeedError::Unreadable {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let headers = reader.headers().map_err(unreadable)?.clone();
        let position = |name: &str| headers.iter().position(|h| h == name);
        let missing = |name: &str| NeedError::Invalid {
            path: path.to_owned(),
            line: 1,
            column: name.to_owned(),
            message: "required column is missing".into(),
        };
        let id_at = position("unit_id").ok_or_else(|| missing("unit_id"))?;
        let prior_at = position("prior_year").ok_or_else(|| missing("prior_year"))?;
        let mut units: Vec<Unit> = Vec::new();
        for record in reader.records() {
            let record = record.map_err(unreadable)?;
            let line = record.position().map_or(0, |p| p.line());
            let invalid = |column: &str, message: String| NeedError::Invalid {
                path: path.to_owned(),
                line,
                column: column.to_owned(),
                message,
            };
            let id = record.get(id_at).unwrap_or_default().trim().to_owned();
            if id.is_empty() {
                return Err(invalid("unit_id", "must not be empty".into()));
            }
            if units.iter().any(|u| u.id == id) {
                return Err(invalid("unit_id", format!("{id:?} appears twice")));
            }
            let number = |at: usize, column: &str| -> Result<f64, NeedError> {
                let raw = record.get(at).unwrap_or_default().trim();
                match raw.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                    _ => Err(invalid(column, format!("{raw:?} is not a number of 0 or more"))),
                }
            };
            let prior = number(prior_at, "prior_year")?;
            let mut values = BTreeMap::new();
            for (at, name) in headers.iter().enumerate() {
                if at != id_at && at != prior_at {
                    values.insert(name.to_owned(), number(at, name)?);
                }
            }
            units.push(Unit {
                id,
                prior: (prior * 100.0).round() as Cents,
                values,
            });
        }
        if units.is_empty() {
            return Err(NeedError::Unreadable {
                path: path.to_owned(),
                message: "no units".into(),
            });
        }
        Ok(NeedTable { units })
    }

    pub fn load(path: &std::path::Path) -> Result<Self, NeedError> {
        let shown = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| NeedError::Unreadable {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        Self::parse(&source, &shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_and_errors_name_line_and_column() {
        let table = NeedTable::parse("unit_id,prior_year,adults\na,100.5,30\nb,0,7\n", "n.csv").expect("valid");
        assert_eq!(table.units[0].prior, 10_050);
        assert_eq!(table.units[1].values["adults"], 7.0);
        let err = NeedTable::parse("unit_id,prior_year,adults\na,1,x\n", "n.csv").expect_err("bad");
        assert_eq!(err.to_string(), "n.csv:2: adults: \"x\" is not a number of 0 or more");
        let err = NeedTable::parse("unit_id,adults\na,1\n", "n.csv").expect_err("missing");
        assert!(err.to_string().contains("prior_year: required column is missing"));
        let err = NeedTable::parse("unit_id,prior_year\na,1\na,2\n", "n.csv").expect_err("twice");
        assert!(err.to_string().starts_with("n.csv:3: unit_id"), "{err}");
    }
}
