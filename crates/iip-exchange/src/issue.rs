use std::fmt;

/// One problem found in a package, located by file, line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub file: String,
    /// The line where the record starts (1 is the header); `None` for the file as a whole.
    pub line: Option<u64>,
    pub column: Option<String>,
    pub message: String,
}

impl Issue {
    pub fn at(file: &str, line: u64, column: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: Some(line),
            column: column.map(str::to_owned),
            message: message.into(),
        }
    }

    pub fn file(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": {column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_file_line_column_message() {
        let issue = Issue::at("activities.csv", 7, Some("hours"), "must be greater than 0");
        assert_eq!(issue.to_string(), "activities.csv:7: hours: must be greater than 0");
        assert_eq!(Issue::file("x.csv", "unknown file").to_string(), "x.csv: unknown file");
    }
}
