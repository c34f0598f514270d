//! Turns one CSV row into a domain record, collecting every field error of the row.

use iip_directory::{Partnership, PartnershipKind};
use iip_domain::records::{
    Activity, Assessment, CountryCode, Hours, Identity, LanguageCode, MilestoneRecord, Organization, Participant, Zip,
};
use iip_domain::{Barrier, Date, Gender, Id, InvalidValue, Level, Program, RaceEthnicity, Sector};
use iip_framework::Framework;

use crate::reader::{Row, Table};

/// `(column, message)` pairs for one row.
pub type FieldErrors = Vec<(&'static str, String)>;

/// Where a record's fields come from: a CSV row of a package, or a form in the web app. The
/// same rules then apply to both.
pub trait FieldSource {
    /// The value of `column`; `None` when absent or empty.
    fn field(&self, column: &str) -> Option<&str>;
}

/// A row of a package's table.
pub(crate) struct TableRow<'a>(pub &'a Table, pub &'a Row);

impl FieldSource for TableRow<'_> {
    fn field(&self, column: &str) -> Option<&str> {
        self.0.get(self.1, column)
    }
}

/// Form fields by name (trimmed; empty means missing).
impl FieldSource for std::collections::HashMap<String, String> {
    fn field(&self, column: &str) -> Option<&str> {
        self.get(column).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

struct Fields<'a> {
    source: &'a dyn FieldSource,
    today: Date,
    errors: FieldErrors,
}

impl<'a> Fields<'a> {
    fn new(source: &'a dyn FieldSource, today: Date) -> Self {
        Self {
            source,
            today,
            errors: Vec::new(),
        }
    }

    fn optional<T>(&mut self, column: &'static str, parse: impl FnOnce(&str) -> Result<T, InvalidValue>) -> Option<T> {
        let raw = self.source.field(column)?;
        // No column of the format holds a line break. One in a field is most often a quote
        // left open, which swallows the following rows (names, birth dates) into this field:
        // refuse it without parsing, so no message can repeat what was swallowed.
        if raw.contains(['\n', '\r']) {
            self.errors
                .push((column, "contains a line break (is a quote left open?)".into()));
            return None;
        }
        match parse(raw) {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors.push((column, quiet(raw, e.0)));
                None
            }
        }
    }

    fn required<T>(&mut self, column: &'static str, parse: impl FnOnce(&str) -> Result<T, InvalidValue>) -> Option<T> {
        if self.source.field(column).is_none() {
            self.errors.push((column, "is required".into()));
            return None;
        }
        self.optional(column, parse)
    }

    fn past_date(&mut self, column: &'static str, required: bool) -> Option<Date> {
        let today = self.today;
        let check = |raw: &str| {
            let date = Date::parse(raw)?;
            if date > today {
                return Err(InvalidValue::new(format!("is in the future (after {today})")));
            }
            Ok(date)
        };
        if required {
            self.required(column, check)
        } else {
            self.optional(column, check)
        }
    }

    fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, FieldErrors> {
        if self.errors.is_empty() {
            // Every required field parsed, so `build` finds them all.
            build().ok_or_else(|| vec![("", "incomplete row".to_owned())])
        } else {
            Err(self.errors)
        }
    }
}

/// Values longer than this are not repeated in messages (a 10 MB field would make a 10 MB message).
const ECHO_MAX: usize = 64;

/// `message` without the value of `raw` when that is too long to repeat.
fn quiet(raw: &str, message: String) -> String {
    if raw.chars().count() <= ECHO_MAX {
        return message;
    }
    let shown = format!("{raw:?}");
    let message = message.replace(&shown, &format!("the value ({} characters)", raw.chars().count()));
    if message.chars().count() <= 4 * ECHO_MAX + 200 {
        message
    } else {
        // The value was repeated in another form: say only that it is refused.
        format!("is not valid ({} characters)", raw.chars().count())
    }
}

fn free_text(max: usize) -> impl Fn(&str) -> Result<String, InvalidValue> {
    move |raw: &str| {
        if raw.chars().count() > max {
            return Err(InvalidValue::new(format!("is longer than {max} characters")));
        }
        if raw.chars().any(char::is_control) {
            return Err(InvalidValue::new("contains control characters"));
        }
        Ok(raw.to_owned())
    }
}

pub fn organization(source: &dyn FieldSource, today: Date) -> Result<Organization, FieldErrors> {
    let mut f = Fields::new(source, today);
    let org_id = f.required("org_id", Id::parse);
    let name = f.required("name", free_text(200));
    let sector = f.required("sector", Sector::parse);
    let level = f.required("level", Level::parse);
    let parent_id = f.optional("parent_id", Id::parse);
    let area = f.optional("area", free_text(200));
    let areas_served = f.optional("areas_served", |raw| {
        raw.split(';')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(free_text(100))
            .collect::<Result<Vec<_>, _>>()
    });
    if parent_id.is_some() && parent_id == org_id {
        f.errors
            .push(("parent_id", "an organization cannot be its own parent".into()));
    }
    f.finish(|| {
        Some(Organization {
            org_id: org_id?,
            name: name?,
            sector: sector?,
            level: level?,
            parent_id,
            area,
            areas_served: areas_served.unwrap_or_default(),
        })
    })
}

pub fn partnership(source: &dyn FieldSource, today: Date) -> Result<Partnership, FieldErrors> {
    let mut f = Fields::new(source, today);
    let partnership_id = f.required("partnership_id", Id::parse);
    let org_id = f.required("org_id", Id::parse);
    let partner_org_id = f.required("partner_org_id", Id::parse);
    let kind = f.required("kind", PartnershipKind::parse);
    let scope = f.optional("scope", free_text(500));
    let start_date = f.required("start_date", Date::parse);
    let end_date = f.optional("end_date", Date::parse);
    if org_id.is_some() && org_id == partner_org_id {
        f.errors
            .push(("partner_org_id", "an organization cannot partner with itself".into()));
    }
    if let (Some(start), Some(end)) = (start_date, end_date)
        && end < start
    {
        f.errors.push(("end_date", format!("is before start_date ({start})")));
    }
    f.finish(|| {
        Some(Partnership {
            partnership_id: partnership_id?,
            org_id: org_id?,
            partner_org_id: partner_org_id?,
            kind: kind?,
            scope,
            start_date: start_date?,
            end_date,
        })
    })
}

pub fn participant(source: &dyn FieldSource, today: Date) -> Result<Participant, FieldErrors> {
    let mut f = Fields::new(source, today);
    let org_id = f.required("org_id", Id::parse);
    let participant_id = f.required("participant_id", Id::parse);
    let person_key = f.optional("person_key", Id::parse);
    let first_name = f.optional("first_name", free_text(100));
    let last_name = f.optional("last_name", free_text(100));
    let date_of_birth = f.past_date("date_of_birth", false);
    let gender = f.optional("gender", Gender::parse);
    let race_ethnicity = f.optional("race_ethnicity", RaceEthnicity::parse);
    let country_of_birth = f.optional("country_of_birth", CountryCode::parse);
    let primary_language = f.optional("primary_language", LanguageCode::parse);
    let this_year = today.year();
    let us_arrival_year = f.optional("us_arrival_year", |raw| {
        let year: i32 = raw
            .parse()
            .map_err(|_| InvalidValue::new(format!("{raw:?} is not a year")))?;
        if !(1900..=this_year).contains(&year) {
            return Err(InvalidValue::new(format!("{year} is not between 1900 and {this_year}")));
        }
        Ok(year)
    });
    if let (Some(born), Some(arrived)) = (date_of_birth, us_arrival_year)
        && arrived < born.year()
    {
        f.errors.push(("us_arrival_year", "is before the year of birth".into()));
    }
    if let Some(born) = date_of_birth
        && born.year() < 1900
    {
        f.errors.push(("date_of_birth", "is before 1900".into()));
    }
    let zip = f.optional("zip", Zip::parse);
    let barriers = f
        .optional("barriers", |raw| {
            let mut list = Vec::new();
            for part in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                let barrier = Barrier::parse(part)?;
                if !list.contains(&barrier) {
                    list.push(barrier);
                }
            }
            list.sort();
            Ok(list)
        })
        .unwrap_or_default();
    f.finish(|| {
        Some(Participant {
            org_id: org_id?,
            participant_id: participant_id?,
            person_key,
            identity: Identity {
                first_name,
                last_name,
                date_of_birth,
            },
            gender,
            race_ethnicity,
            country_of_birth,
            primary_language,
            us_arrival_year,
            zip,
            barriers,
        })
    })
}

pub fn activity(source: &dyn FieldSource, today: Date, framework: &Framework) -> Result<Activity, FieldErrors> {
    let mut f = Fields::new(source, today);
    let org_id = f.required("org_id", Id::parse);
    let participant_id = f.required("participant_id", Id::parse);
    let date = f.past_date("date", true);
    let program = f.required("program", Program::parse);
    let hours = f.required("hours", Hours::parse);
    let element = f.optional("element", |raw| match framework.element(raw) {
        Some(element) => Ok(element.id.clone()),
        None => Err(InvalidValue::new(format!(
            "{raw:?} is not an element of framework {} ({})",
            framework.version,
            framework.element_ids().collect::<Vec<_>>().join(", ")
        ))),
    });
    f.finish(|| {
        Some(Activity {
            org_id: org_id?,
            participant_id: participant_id?,
            date: date?,
            program: program?,
            hours: hours?,
            element,
        })
    })
}

pub fn milestone(source: &dyn FieldSource, today: Date, framework: &Framework) -> Result<MilestoneRecord, FieldErrors> {
    let mut f = Fields::new(source, today);
    let org_id = f.required("org_id", Id::parse);
    let participant_id = f.required("participant_id", Id::parse);
    let date = f.past_date("date", true);
    let milestone = f.required("milestone", |raw| match framework.element_of_milestone(raw) {
        Some(element) => Ok((raw.to_owned(), element.id.clone())),
        None => Err(InvalidValue::new(format!(
            "{raw:?} is not a milestone of framework {}",
            framework.version
        ))),
    });
    f.finish(|| {
        let (milestone, element) = milestone?;
        Some(MilestoneRecord {
            org_id: org_id?,
            participant_id: participant_id?,
            date: date?,
            milestone,
            element,
        })
    })
}

pub fn assessment(source: &dyn FieldSource, today: Date) -> Result<Assessment, FieldErrors> {
    let mut f = Fields::new(source, today);
    let org_id = f.required("org_id", Id::parse);
    let participant_id = f.required("participant_id", Id::parse);
    let date = f.past_date("date", true);
    let instrument = f.required("instrument", Id::parse);
    let score = f.required("score", |raw| match raw.parse::<f64>() {
        Ok(score) if score.is_finite() && score.abs() < 1e9 => Ok(score),
        _ => Err(InvalidValue::new(format!("{raw:?} is not a number"))),
    });
    f.finish(|| {
        Some(Assessment {
            org_id: org_id?,
            participant_id: participant_id?,
            date: date?,
            instrument: instrument?,
            score: score?,
        })
    })
}
