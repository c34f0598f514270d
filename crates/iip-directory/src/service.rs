//! Services in the directory: what each organization offers, to whom, where and when.
//! The shape follows Open Referral HSDS 3 closely enough that `hsds` maps it both ways.

use iip_domain::Id;

/// One service of one organization.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Service {
    pub service_id: Id,
    pub org_id: Id,
    pub name: String,
    pub description: Option<String>,
    /// Framework element ids the service serves (`english`, `health`, …).
    pub elements: Vec<String>,
    /// ISO 639-1 codes of the languages the service is offered in.
    pub languages: Vec<String>,
    /// Who may use it, in the organization's words.
    pub eligibility: Option<String>,
    /// Served regardless of immigration status.
    pub regardless_of_status: bool,
    /// Free of charge.
    pub free: bool,
    /// What it costs when it is not free.
    pub fees: Option<String>,
    /// When it runs, in words ("Mon–Thu 6–9 pm").
    pub schedule: Option<String>,
    /// Areas served: city names, county names or ZIP codes.
    pub areas: Vec<String>,
    pub locations: Vec<Location>,
    pub url: Option<String>,
    pub email: Option<String>,
}

/// A place where a service is delivered.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Location {
    pub location_id: Id,
    pub name: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl Service {
    /// Whether the service reaches `area`: a service area of that name, or a location in that
    /// city or ZIP code (case-insensitive).
    pub fn serves_area(&self, area: &str) -> bool {
        let same = |candidate: &str| candidate.trim().eq_ignore_ascii_case(area.trim());
        self.areas.iter().any(|a| same(a))
            || self
                .locations
                .iter()
                .any(|l| l.city.as_deref().is_some_and(same) || l.postal_code.as_deref().is_some_and(same))
    }

    pub fn offers_language(&self, language: &str) -> bool {
        self.languages.iter().any(|l| l == language)
    }

    pub fn serves_element(&self, element: &str) -> bool {
        self.elements.iter().any(|e| e == element)
    }
}

/// What a directory search asks for; an empty field matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct ServiceQuery {
    pub element: Option<String>,
    pub language: Option<String>,
    pub area: Option<String>,
    /// Only services open regardless of immigration status.
    #[serde(default)]
    pub regardless_of_status: bool,
    /// Only free services.
    #[serde(default)]
    pub free: bool,
    /// Words in the name or description (case-insensitive).
    pub text: Option<String>,
}

/// A query field that says something: given and not blank.
fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl ServiceQuery {
    pub fn matches(&self, service: &Service) -> bool {
        given(&self.element).is_none_or(|e| service.serves_element(e))
            && given(&self.language).is_none_or(|l| service.offers_language(l))
            && given(&self.area).is_none_or(|a| service.serves_area(a))
            && (!self.regardless_of_status || service.regardless_of_status)
            && (!self.free || service.free)
            && given(&self.text).is_none_or(|text| {
                let text = text.to_lowercase();
                service.name.to_lowercase().contains(&text)
                    || service
                        .description
                        .as_deref()
                        .is_some_and(|d| d.to_lowercase().contains(&text))
            })
    }
}

/// The services matching `query`, by organization then name.
pub fn search<'a>(services: &'a [Service], query: &ServiceQuery) -> Vec<&'a Service> {
    let mut found: Vec<&Service> = services.iter().filter(|s| query.matches(s)).collect();
    found.sort_by(|a, b| (a.org_id.as_str(), &a.name).cmp(&(b.org_id.as_str(), &b.name)));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(id: &str, elements: &[&str], languages: &[&str], city: &str) -> Service {
        Service {
            service_id: Id::parse(id).expect("id"),
            org_id: Id::parse("org").expect("id"),
            name: format!("Service {id}"),
            description: Some("Help with forms".into()),
            elements: elements.iter().map(|e| e.to_string()).collect(),
            languages: languages.iter().map(|l| l.to_string()).collect(),
            eligibility: None,
            regardless_of_status: false,
            free: true,
            fees: None,
            schedule: None,
            areas: vec![],
            locations: vec![Location {
                location_id: Id::parse(&format!("{id}-loc")).expect("id"),
                name: None,
                address: None,
                city: Some(city.into()),
                region: Some("CA".into()),
                postal_code: Some("94536".into()),
                latitude: None,
                longitude: None,
            }],
            url: None,
            email: None,
        }
    }

    #[test]
    fn search_filters_by_element_language_area_and_eligibility() {
        let mut open = service("s1", &["health"], &["en", "tl"], "Fremont");
        open.regardless_of_status = true;
        let english_only = service("s2", &["health"], &["en"], "Fremont");
        let elsewhere = service("s3", &["health"], &["tl"], "Oakland");
        let all = [open, english_only, elsewhere];
        let query = |element: &str, language: &str, area: &str| ServiceQuery {
            element: Some(element.into()),
            language: Some(language.into()),
            area: Some(area.into()),
            ..ServiceQuery::default()
        };
        let ids = |found: Vec<&Service>| {
            found
                .iter()
                .map(|s| s.service_id.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(search(&all, &query("health", "tl", "fremont"))), ["s1"]);
        assert_eq!(ids(search(&all, &query("health", "en", "Fremont"))), ["s1", "s2"]);
        assert_eq!(ids(search(&all, &query("health", "tl", "94536"))), ["s1", "s3"]);
        assert!(search(&all, &query("english", "tl", "Fremont")).is_empty());
        let regardless = ServiceQuery {
            regardless_of_status: true,
            ..ServiceQuery::default()
        };
        assert_eq!(ids(search(&all, &regardless)), ["s1"]);
        let blank = ServiceQuery {
            element: Some(" ".into()),
            ..ServiceQuery::default()
        };
        assert_eq!(search(&all, &blank).len(), 3);
        let text = ServiceQuery {
            text: Some("FORMS".into()),
            ..ServiceQuery::default()
        };
        assert_eq!(search(&all, &text).len(), 3);
    }
}
