use std::fmt;

use serde::Serialize;

use crate::InvalidValue;

/// An identifier of the exchange format: 1–64 characters of `A-Z a-z 0-9 . _ -`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Id(String);

impl Id {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.is_empty() {
            return Err(InvalidValue::new("is empty"));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(InvalidValue::new(format!(
                "is {} characters long; ids have at most {}",
                raw.len(),
                Self::MAX_LEN
            )));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(InvalidValue::new(format!(
                "contains {bad:?}; ids use only A-Z a-z 0-9 . _ -"
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet() {
        assert_eq!(Id::parse("org-1.a_B").map(|id| id.0), Ok("org-1.a_B".into()));
        assert!(Id::parse(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn refuses_empty_long_and_foreign_characters() {
        assert!(Id::parse("").is_err());
        assert!(Id::parse(&"x".repeat(65)).is_err());
        assert!(Id::parse("a b").is_err());
        assert!(Id::parse("é").is_err());
        assert!(Id::parse("a/b").is_err());
    }
}
