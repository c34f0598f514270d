//! The directory as HSDS 3 objects, built once for both forms: the JSON form nests them, the
//! tabular form writes each kind to its file. Every id is a deterministic UUID (`uuid.rs`); our
//! own ids travel in `organization_identifier`, `location.external_identifier` and an
//! `iip_service_id` attribute, so that import gives them back.

use std::collections::HashSet;
use std::path::PathBuf;

use iip_domain::records::Organization;
use serde_json::{Map, Value};

use super::language::english_name;
use super::taxonomy::{self, Term};
use super::uuid::hsds_id;
use crate::service::{Location, Service};

/// `organization_identifier.identifier_type` of our `org_id`.
pub const ORG_ID_TYPE: &str = "iip_org_id";
/// `organization_identifier.identifier_scheme` of our `org_id`.
pub const ORG_ID_SCHEME: &str = "IIP";
/// `location.external_identifier_type` of our `location_id`.
pub const LOCATION_ID_TYPE: &str = "iip_location_id";
/// The country of every address: IIP directories are in the United States.
pub const COUNTRY: &str = "US";

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("service {service_id}: its organization {org_id} is not among the organizations exported")]
    UnknownOrganization { service_id: String, org_id: String },
    #[error("organization {0} is given twice")]
    DuplicateOrganization(String),
    #[error("service {0} is given twice")]
    DuplicateService(String),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Csv { path: PathBuf, source: csv::Error },
}

pub type Object = Map<String, Value>;

/// The whole export.
#[derive(Debug)]
pub struct Package {
    pub organizations: Vec<OrganizationOut>,
    /// Every term of our taxonomies, the built-in ones first.
    pub terms: Vec<Term>,
}

#[derive(Debug)]
pub struct OrganizationOut {
    pub row: Object,
    pub identifiers: Vec<Object>,
    pub attributes: Vec<AttributeOut>,
    pub services: Vec<ServiceOut>,
}

#[derive(Debug)]
pub struct AttributeOut {
    pub row: Object,
    pub term: Term,
}

#[derive(Debug)]
pub struct ServiceOut {
    pub row: Object,
    pub languages: Vec<Object>,
    pub attributes: Vec<AttributeOut>,
    pub cost_options: Vec<Object>,
    pub schedules: Vec<Object>,
    pub service_areas: Vec<Object>,
    pub at_locations: Vec<AtLocationOut>,
}

/// A `service_at_location` with its location and the location's address.
#[derive(Debug)]
pub struct AtLocationOut {
    pub row: Object,
    pub location: Object,
    pub addresses: Vec<Object>,
}

/// Builds the export; every service's organization must be among `organizations`.
pub fn build(organizations: &[Organization], services: &[Service]) -> Result<Package, ExportError> {
    let mut org_ids = HashSet::new();
    for org in organizations {
        if !org_ids.insert(org.org_id.as_str()) {
            return Err(ExportError::DuplicateOrganization(org.org_id.to_string()));
        }
    }
    let mut service_ids = HashSet::new();
    for service in services {
        if !service_ids.insert(service.service_id.as_str()) {
            return Err(ExportError::DuplicateService(service.service_id.to_string()));
        }
        if !org_ids.contains(service.org_id.as_str()) {
            return Err(ExportError::UnknownOrganization {
                service_id: service.service_id.to_string(),
                org_id: service.org_id.to_string(),
            });
        }
    }
    let organizations: Vec<OrganizationOut> = organizations
        .iter()
        .map(|org| OrganizationOut {
            row: organization_row(org, &org_ids),
            identifiers: vec![organization_identifier(org)],
            attributes: organization_attributes(org),
            services: services
                .iter()
                .filter(|s| s.org_id == org.org_id)
                .map(service_out)
                .collect(),
        })
        .collect();
    let mut terms = taxonomy::builtin_terms();
    let used = organizations.iter().flat_map(|o| {
        o.attributes
            .iter()
            .chain(o.services.iter().flat_map(|s| s.attributes.iter()))
    });
    for attribute in used {
        if !terms.iter().any(|t| t.id == attribute.term.id) {
            terms.push(attribute.term.clone());
        }
    }
    Ok(Package { organizations, terms })
}

/// An object built field by field; absent and blank values are left out, as HSDS prefers.
struct Fields(Object);

impl Fields {
    fn new(id: String) -> Self {
        let mut map = Map::new();
        map.insert("id".into(), Value::String(id));
        Self(map)
    }

    fn text(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.insert(key.into(), Value::String(value.into()));
        self
    }

    fn some(self, key: &str, value: Option<&str>) -> Self {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            Some(value) => self.text(key, value),
            None => self,
        }
    }

    fn number(mut self, key: &str, value: Option<f64>) -> Self {
        if let Some(number) = value.and_then(serde_json::Number::from_f64) {
            self.0.insert(key.into(), Value::Number(number));
        }
        self
    }

    fn integer(mut self, key: &str, value: i64) -> Self {
        self.0.insert(key.into(), Value::from(value));
        self
    }

    fn done(self) -> Object {
        self.0
    }
}

fn organization_row(org: &Organization, exported: &HashSet<&str>) -> Object {
    // HSDS requires a description; ours are plain facts the directory knows.
    let description = format!(
        "{} ({} organization, {} level)",
        org.name,
        org.sector.as_str().replace('_', "-"),
        org.level
    );
    let parent = org
        .parent_id
        .as_ref()
        .filter(|p| exported.contains(p.as_str()))
        .map(|p| hsds_id("organization", p.as_str()));
    Fields::new(hsds_id("organization", org.org_id.as_str()))
        .text("name", org.name.clone())
        .text("description", description)
        .some("parent_organization_id", parent.as_deref())
        .done()
}

fn organization_identifier(org: &Organization) -> Object {
    Fields::new(hsds_id("organization_identifier", org.org_id.as_str()))
        .text("organization_id", hsds_id("organization", org.org_id.as_str()))
        .text("identifier_scheme", ORG_ID_SCHEME)
        .text("identifier_type", ORG_ID_TYPE)
        .text("identifier", org.org_id.as_str())
        .done()
}

fn attribute(entity: &str, our_id: &str, term: Term, value: Option<&str>) -> AttributeOut {
    let key = match value {
        Some(value) => format!("{entity}/{our_id}/{}/{value}", term.code),
        None => format!("{entity}/{our_id}/{}", term.code),
    };
    let row = Fields::new(hsds_id("attribute", &key))
        .text("link_id", hsds_id(entity, our_id))
        .text("link_entity", entity)
        .text("taxonomy_term_id", term.id.clone())
        .some("value", value)
        .done();
    AttributeOut { row, term }
}

fn organization_attributes(org: &Organization) -> Vec<AttributeOut> {
    let id = org.org_id.as_str();
    let directory = |code, value: &str| attribute("organization", id, taxonomy::directory_term(code), Some(value));
    let mut attributes = vec![
        directory(taxonomy::SECTOR, org.sector.as_str()),
        directory(taxonomy::LEVEL, org.level.as_str()),
    ];
    if let Some(area) = org.area.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        attributes.push(directory(taxonomy::AREA, area));
    }
    for area in unique(org.areas_served.iter().map(String::as_str)) {
        attributes.push(directory(taxonomy::AREA_SERVED, area));
    }
    attributes
}

fn service_out(service: &Service) -> ServiceOut {
    let our_id = service.service_id.as_str();
    let id = hsds_id("service", our_id);
    let row = Fields::new(id.clone())
        .text("organization_id", hsds_id("organization", service.org_id.as_str()))
        .text("name", service.name.clone())
        .some("description", service.description.as_deref())
        .some("url", service.url.as_deref().and_then(web_address).as_deref())
        .some("email", service.email.as_deref().filter(|e| looks_like_email(e)))
        .text("status", "active")
        .some("eligibility_description", service.eligibility.as_deref())
        .some("fees_description", service.fees.as_deref())
        .done();
    let child =
        |kind: &str, key: &str| Fields::new(hsds_id(kind, &format!("{our_id}/{key}"))).text("service_id", id.clone());
    let languages = unique(service.languages.iter().map(String::as_str))
        .map(|code| {
            child("language", code)
                .text("code", code)
                .some("name", english_name(code))
                .done()
        })
        .collect();
    let mut attributes: Vec<AttributeOut> = unique(service.elements.iter().map(String::as_str))
        .map(|element| attribute("service", our_id, taxonomy::element_term(element), None))
        .collect();
    if service.regardless_of_status {
        attributes.push(attribute(
            "service",
            our_id,
            taxonomy::directory_term(taxonomy::REGARDLESS_OF_STATUS),
            Some("true"),
        ));
    }
    attributes.push(attribute(
        "service",
        our_id,
        taxonomy::directory_term(taxonomy::SERVICE_ID),
        Some(our_id),
    ));
    let cost_options = if service.free {
        vec![
            child("cost_option", "free")
                .text("option", "Free")
                .integer("amount", 0)
                .text("currency", "USD")
                .done(),
        ]
    } else if let Some(fees) = service.fees.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        vec![
            child("cost_option", "fees")
                .text("option", "Fees")
                .text("amount_description", fees)
                .done(),
        ]
    } else {
        Vec::new()
    };
    let schedules = service
        .schedule
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|schedule| child("schedule", "schedule").text("description", schedule).done())
        .into_iter()
        .collect();
    let service_areas = unique(service.areas.iter().map(String::as_str))
        .map(|area| child("service_area", area).text("name", area).done())
        .collect();
    let mut seen = HashSet::new();
    let at_locations = service
        .locations
        .iter()
        .filter(|l| seen.insert(l.location_id.as_str()))
        .map(|l| at_location(service, &id, l))
        .collect();
    ServiceOut {
        row,
        languages,
        attributes,
        cost_options,
        schedules,
        service_areas,
        at_locations,
    }
}

/// Locations are keyed by service: the directory stores them with their service.
fn at_location(service: &Service, service_hsds_id: &str, location: &Location) -> AtLocationOut {
    let key = format!("{}/{}", service.service_id, location.location_id);
    let location_id = hsds_id("location", &key);
    let row = Fields::new(hsds_id("service_at_location", &key))
        .text("service_id", service_hsds_id)
        .text("location_id", location_id.clone())
        .done();
    let place = Fields::new(location_id.clone())
        .text("location_type", "physical")
        .text("organization_id", hsds_id("organization", service.org_id.as_str()))
        .some("name", location.name.as_deref())
        .number("latitude", location.latitude)
        .number("longitude", location.longitude)
        .text("external_identifier", location.location_id.as_str())
        .text("external_identifier_type", LOCATION_ID_TYPE)
        .done();
    let parts = [
        &location.address,
        &location.city,
        &location.region,
        &location.postal_code,
    ];
    let part = |p: &Option<String>| p.as_deref().map(str::trim).unwrap_or_default().to_owned();
    // HSDS requires every part of an address; a part IIP lacks is left empty, not made up.
    let addresses = if parts.iter().any(|p| !part(p).is_empty()) {
        vec![
            Fields::new(hsds_id("address", &key))
                .text("location_id", location_id)
                .text("address_1", part(&location.address))
                .text("city", part(&location.city))
                .text("state_province", part(&location.region))
                .text("postal_code", part(&location.postal_code))
                .text("country", COUNTRY)
                .text("address_type", "physical")
                .done(),
        ]
    } else {
        Vec::new()
    };
    AtLocationOut {
        row,
        location: place,
        addresses,
    }
}

/// Non-blank values, trimmed, first occurrence kept.
fn unique<'a>(values: impl Iterator<Item = &'a str>) -> impl Iterator<Item = &'a str> {
    let mut seen = HashSet::new();
    values.map(str::trim).filter(move |v| !v.is_empty() && seen.insert(*v))
}

/// A web address HSDS accepts as a `uri`: without a scheme it is taken for `https://`; characters
/// a URI cannot hold (spaces, non-ASCII) are percent-encoded.
pub fn web_address(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let has_scheme = raw.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    let mut address = String::with_capacity(raw.len() + 8);
    if !has_scheme {
        address.push_str("https://");
    }
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c) {
            address.push(c);
        } else {
            let mut bytes = [0u8; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                address.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    Some(address)
}

/// One `@` between a local part and a dotted domain, no spaces: what the `email` format asks.
pub fn looks_like_email(raw: &str) -> bool {
    let raw = raw.trim();
    match raw.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && raw.is_ascii()
                && !raw.chars().any(|c| c.is_whitespace() || c.is_ascii_control())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_addresses_become_uris() {
        assert_eq!(
            web_address("https://example.org/a").as_deref(),
            Some("https://example.org/a")
        );
        assert_eq!(web_address("example.org").as_deref(), Some("https://example.org"));
        assert_eq!(
            web_address("example.org/café menu").as_deref(),
            Some("https://example.org/caf%C3%A9%20menu")
        );
        assert_eq!(web_address("  "), None);
    }

    #[test]
    fn emails_are_checked_loosely() {
        assert!(looks_like_email("info@example.org"));
        assert!(!looks_like_email("info at example.org"));
        assert!(!looks_like_email("a@b@c.org"));
        assert!(!looks_like_email("a@localhost"));
    }
}
