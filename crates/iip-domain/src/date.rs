use std::fmt;

use serde::{Serialize, Serializer};
use time::Month;

use crate::InvalidValue;

/// A calendar date written `YYYY-MM-DD`, as the exchange format requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(time::Date);

impl Date {
    /// Parses exactly `YYYY-MM-DD`; refuses impossible dates such as `2023-02-30`.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let bytes = raw.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape_ok {
            return Err(InvalidValue::new("is not a date of the form YYYY-MM-DD"));
        }
        let number =
            |range: std::ops::Range<usize>| -> i32 { raw[range].bytes().fold(0, |n, b| n * 10 + i32::from(b - b'0')) };
        Self::from_ymd(number(0..4), number(5..7) as u8, number(8..10) as u8)
            .ok_or_else(|| InvalidValue::new("is not a real calendar date"))
    }

    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<Self> {
        let month = Month::try_from(month).ok()?;
        time::Date::from_calendar_date(year, month, day).ok().map(Self)
    }

    /// Today in UTC: the bound for "no date in the future".
    pub fn today() -> Self {
        Self(time::OffsetDateTime::now_utc().date())
    }

    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// Days since 1970-01-01; convenient for arithmetic on windows.
    pub fn day_number(self) -> i32 {
        self.0.to_julian_day() - 2_440_588
    }

    pub fn from_day_number(days: i32) -> Option<Self> {
        time::Date::from_julian_day(days + 2_440_588).ok().map(Self)
    }

    /// `YYYY-MM-DD` written digit by digit, for years 0 to 9999 (every date `parse` accepts):
    /// dates are most of a pathway's JSON, and `fmt`'s machinery was a twentieth of a record
    /// read's time.
    fn iso(self) -> Option<[u8; 10]> {
        let year = u16::try_from(self.0.year()).ok().filter(|y| *y <= 9999)?;
        let (month, day) = (u16::from(u8::from(self.0.month())), u16::from(self.0.day()));
        // `v % 10` is below 10, so the cast loses nothing.
        let digit = |v: u16| b'0' + (v % 10) as u8;
        Some([
            digit(year / 1000),
            digit(year / 100),
            digit(year / 10),
            digit(year),
            b'-',
            digit(month / 10),
            digit(month),
            b'-',
            digit(day / 10),
            digit(day),
        ])
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.iso().as_ref().map(|bytes| std::str::from_utf8(bytes)) {
            Some(Ok(text)) => serializer.serialize_str(text),
            _ => serializer.collect_str(self),
        }
    }
}

/// A program year such as `2024-25`: 2024-07-01 to 2025-06-30 inclusive (PRODUCT.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProgramYear {
    start_year: i32,
}

impl ProgramYear {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let invalid = || InvalidValue::new(format!("{raw:?} is not a program year like 2024-25"));
        let (first, second) = raw.split_once('-').ok_or_else(invalid)?;
        if first.len() != 4 || second.len() != 2 {
            return Err(invalid());
        }
        let start_year: i32 = first.parse().map_err(|_| invalid())?;
        let end_suffix: i32 = second.parse().map_err(|_| invalid())?;
        if !(1900..=9998).contains(&start_year) || (start_year + 1) % 100 != end_suffix {
            return Err(invalid());
        }
        Ok(Self { start_year })
    }

    pub fn starting(start_year: i32) -> Self {
        Self { start_year }
    }

    /// The program year before this one.
    pub fn previous(self) -> Self {
        Self {
            start_year: self.start_year - 1,
        }
    }

    /// The program year a date falls in.
    pub fn containing(date: Date) -> Self {
        let start_year = if u8::from(date.0.month()) >= 7 {
            date.year()
        } else {
            date.year() - 1
        };
        Self { start_year }
    }

    pub fn first_day(self) -> Date {
        Date(time::Date::from_calendar_date(self.start_year, Month::July, 1).unwrap_or(time::Date::MIN))
    }

    pub fn last_day(self) -> Date {
        Date(time::Date::from_calendar_date(self.start_year + 1, Month::June, 30).unwrap_or(time::Date::MAX))
    }

    pub fn contains(self, date: Date) -> bool {
        self.first_day() <= date && date <= self.last_day()
    }
}

impl fmt::Display for ProgramYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.start_year, (self.start_year + 1) % 100)
    }
}

impl Serialize for ProgramYear {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_it_displays_across_the_years() {
        // Every day from year 0 to 9999 in steps of 97 days, and the ends of the range.
        let first = Date::parse("0000-01-01").expect("date").day_number();
        let last = Date::parse("9999-12-31").expect("date").day_number();
        let mut days: Vec<i32> = (first..=last).step_by(97).collect();
        days.extend([first, last]);
        for day in days {
            let date = Date::from_day_number(day).expect("in range");
            let json = serde_json::to_string(&date).expect("serializes");
            assert_eq!(json, format!("\"{date}\""));
            assert_eq!(Date::parse(&date.to_string()), Ok(date));
        }
    }

    #[test]
    fn parses_real_dates_only() {
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.to_string()),
            Ok("2024-02-29".into())
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-01",
            "24-01-01",
            "2024/01/01",
            "",
            "2024-01-32",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn program_year_bounds_are_inclusive() {
        let year = ProgramYear::parse("2024-25").expect("valid");
        assert_eq!(year.first_day().to_string(), "2024-07-01");
        assert_eq!(year.last_day().to_string(), "2025-06-30");
        let day = |s| Date::parse(s).expect("valid");
        assert!(year.contains(day("2024-07-01")));
        assert!(year.contains(day("2025-06-30")));
        assert!(!year.contains(day("2024-06-30")));
        assert!(!year.contains(day("2025-07-01")));
        assert_eq!(ProgramYear::containing(day("2025-06-30")), year);
        assert_eq!(ProgramYear::containing(day("2024-07-01")), year);
    }

    #[test]
    fn program_year_refuses_mismatched_halves() {
        assert!(ProgramYear::parse("2024-26").is_err());
        assert!(ProgramYear::parse("2024").is_err());
        assert_eq!(
            ProgramYear::parse("1999-00").map(|y| y.to_string()),
            Ok("1999-00".into())
        );
    }

    #[test]
    fn day_numbers_round_trip() {
        let d = Date::parse("1970-01-02").expect("valid");
        assert_eq!(d.day_number(), 1);
        assert_eq!(Date::from_day_number(d.day_number()), Some(d));
    }
}
