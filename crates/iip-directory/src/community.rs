//! Community figures from CSV: `area,language,population` (published counts such as the
//! immigrant population of a city by language spoken at home).

use std::io::Read;

use crate::gaps::CommunityFigure;

#[derive(Debug, thiserror::Error)]
pub enum CommunityError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{file}:{line}: {column}: {message}")]
    Field {
        file: String,
        line: u64,
        column: &'static str,
        message: String,
    },
}

const COLUMNS: [&str; 3] = ["area", "language", "population"];

/// Reads every row or refuses the file, naming the line and column of the first problem.
pub fn read(file: &str, input: impl Read) -> Result<Vec<CommunityFigure>, CommunityError> {
    let file_error = |message: String| CommunityError::File {
        file: file.to_owned(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| file_error(format!("cannot read the header: {e}")))?
        .clone();
    let position = |name: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}') == name);
    let mut index = [0usize; 3];
    for (slot, name) in index.iter_mut().zip(COLUMNS) {
        *slot = position(name).ok_or_else(|| file_error(format!("the header has no column {name}")))?;
    }
    if let Some(extra) = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}'))
        .find(|h| !COLUMNS.contains(h) && !h.starts_with("x_"))
    {
        return Err(file_error(format!(
            "unknown column {extra:?} (custom columns start with x_)"
        )));
    }
    let mut figures = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| file_error(e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize, column: &'static str| {
            let value = record.get(index[i]).unwrap_or("").trim();
            if value.is_empty() {
                Err(CommunityError::Field {
                    file: file.to_owned(),
                    line,
                    column,
                    message: "is required".into(),
                })
            } else {
                Ok(value)
            }
        };
        let bad = |column: &'static str, message: String| CommunityError::Field {
            file: file.to_owned(),
            line,
            column,
            message,
        };
        let area = field(0, "area")?;
        if area.chars().count() > 100 || area.chars().any(char::is_control) {
            return Err(bad(
                "area",
                "is at most 100 characters, without control characters".into(),
            ));
        }
        let language = field(1, "language")?;
        iip_domain::records::LanguageCode::parse(language).map_err(|e| bad("language", e.0))?;
        let population: u64 = field(2, "population")?
            .parse()
            .map_err(|_| bad("population", "is not a whole number".into()))?;
        figures.push(CommunityFigure {
            area: area.to_owned(),
            language: language.to_owned(),
            population,
        });
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_names_the_line_and_column_of_a_problem() {
        let ok = read("c.csv", "area,language,population\nFremont,tl,12000\n".as_bytes()).expect("valid");
        assert_eq!(
            ok,
            vec![CommunityFigure {
                area: "Fremont".into(),
                language: "tl".into(),
                population: 12000
            }]
        );
        let err = read(
            "c.csv",
            "area,language,population\nFremont,tl,12000\nOakland,es,many\n".as_bytes(),
        )
        .expect_err("bad number");
        assert_eq!(err.to_string(), "c.csv:3: population: is not a whole number");
        let err = read("c.csv", "area,language,population\nFremont,Tagalog,1\n".as_bytes()).expect_err("bad code");
        assert!(err.to_string().starts_with("c.csv:2: language:"), "{err}");
        let err = read("c.csv", "area,population\n".as_bytes()).expect_err("missing column");
        assert_eq!(err.to_string(), "c.csv: the header has no column language");
        let err = read("c.csv", "area,language,population,city\n".as_bytes()).expect_err("unknown column");
        assert!(err.to_string().contains("unknown column \"city\""), "{err}");
    }
}
