//! The records of the exchange format, parsed. Identifying fields live in [`Identity`], apart
//! from everything else, so that storage and encryption can treat them in one place.

use crate::{Barrier, Date, Gender, Id, InvalidValue, Level, Program, RaceEthnicity, Sector};

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub org_id: Id,
    pub name: String,
    pub sector: Sector,
    pub level: Level,
    pub parent_id: Option<Id>,
    /// Where the organization is (a city or county name); participants' needs count here.
    pub area: Option<String>,
    /// The areas it serves: city names, county names or ZIP codes.
    pub areas_served: Vec<String>,
}

/// The fields that identify a person. Never logged, never in URLs, errors or aggregates.
#[derive(Clone, PartialEq, Default)]
pub struct Identity {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub date_of_birth: Option<Date>,
}

impl Identity {
    pub fn is_empty(&self) -> bool {
        self.first_name.is_none() && self.last_name.is_none() && self.date_of_birth.is_none()
    }
}

/// Redacted on purpose: a stray `{:?}` must not leak a name into a log.
impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    pub org_id: Id,
    pub participant_id: Id,
    pub person_key: Option<Id>,
    pub identity: Identity,
    pub gender: Option<Gender>,
    pub race_ethnicity: Option<RaceEthnicity>,
    pub country_of_birth: Option<CountryCode>,
    pub primary_language: Option<LanguageCode>,
    pub us_arrival_year: Option<i32>,
    pub zip: Option<Zip>,
    pub barriers: Vec<Barrier>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub org_id: Id,
    pub participant_id: Id,
    pub date: Date,
    pub program: Program,
    pub hours: Hours,
    /// Framework element id the activity serves, when given.
    pub element: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MilestoneRecord {
    pub org_id: Id,
    pub participant_id: Id,
    pub date: Date,
    pub milestone: String,
    /// The element the milestone belongs to, resolved from the framework.
    pub element: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub org_id: Id,
    pub participant_id: Id,
    pub date: Date,
    pub instrument: Id,
    pub score: f64,
}

/// Hours of an activity, held in hundredths so that sums are exact: more than 0, at most 24,
/// at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hours(u32);

impl Hours {
    pub const MAX_HUNDREDTHS: u32 = 24 * 100;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let not_number = || InvalidValue::new(format!("{raw:?} is not a number of hours"));
        let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
        if raw.starts_with('-') {
            return Err(InvalidValue::new("must be greater than 0"));
        }
        if whole.is_empty() && fraction.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(not_number());
        }
        if fraction.len() > 2 {
            return Err(InvalidValue::new("has more than two decimals"));
        }
        if whole.len() > 4 {
            return Err(InvalidValue::new("must be at most 24"));
        }
        let whole: u32 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| not_number())?
        };
        let mut hundredths: u32 = fraction.parse().unwrap_or(0);
        if fraction.len() == 1 {
            hundredths *= 10;
        }
        let total = whole * 100 + hundredths;
        if total == 0 {
            return Err(InvalidValue::new("must be greater than 0"));
        }
        if total > Self::MAX_HUNDREDTHS {
            return Err(InvalidValue::new("must be at most 24"));
        }
        Ok(Self(total))
    }

    pub fn from_hundredths(hundredths: u32) -> Option<Self> {
        (1..=Self::MAX_HUNDREDTHS)
            .contains(&hundredths)
            .then_some(Self(hundredths))
    }

    pub fn hundredths(self) -> u32 {
        self.0
    }
}

/// ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.len() == 2 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::new(format!(
                "{raw:?} is not an ISO 3166-1 alpha-2 code (two upper-case letters)"
            )))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// ISO 639-1 language code, lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguageCode(String);

impl LanguageCode {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.len() == 2 && raw.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::new(format!(
                "{raw:?} is not an ISO 639-1 code (two lower-case letters)"
            )))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A 5-digit US ZIP code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Zip(String);

impl Zip {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.len() == 5 && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::new(format!("{raw:?} is not a 5-digit ZIP code")))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_exact_hundredths_within_bounds() {
        assert_eq!(Hours::parse("1.5").map(Hours::hundredths), Ok(150));
        assert_eq!(Hours::parse("0.25").map(Hours::hundredths), Ok(25));
        assert_eq!(Hours::parse("24").map(Hours::hundredths), Ok(2400));
        assert_eq!(Hours::parse(".5").map(Hours::hundredths), Ok(50));
        for bad in ["0", "-1", "24.01", "25", "1.255", "abc", "", ".", "1e3", "99999"] {
            assert!(Hours::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn identity_debug_is_redacted() {
        let identity = Identity {
            first_name: Some("Ana".into()),
            last_name: Some("Lopez".into()),
            date_of_birth: Date::from_ymd(1990, 1, 2),
        };
        let shown = format!("{identity:?}");
        assert!(!shown.contains("Ana") && !shown.contains("1990"), "{shown}");
    }

    #[test]
    fn codes_check_their_shape() {
        assert!(CountryCode::parse("MX").is_ok());
        assert!(CountryCode::parse("mx").is_err());
        assert!(LanguageCode::parse("es").is_ok());
        assert!(LanguageCode::parse("spa").is_err());
        assert!(Zip::parse("95112").is_ok());
        assert!(Zip::parse("9511").is_err());
    }
}
