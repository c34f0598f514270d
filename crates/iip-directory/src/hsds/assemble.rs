//! From the rows of an HSDS package to the directory: resolves every reference (an unknown
//! organization, service or location is an error naming the row), maps taxonomy terms to
//! elements and languages to ISO 639-1, and gives back our ids where the package carries them.

use std::collections::HashMap;

use iip_domain::{Id, Level, Sector};

use super::export::{LOCATION_ID_TYPE, ORG_ID_TYPE};
use super::language::iso_639_1;
use super::rows::{ImportError, Issue, Issues, Row, Tables, clip};
use super::taxonomy::{Meaning, TermFacts, meaning, meaning_of_builtin_id};
use super::{Directory, DirectoryOrganization};
use crate::service::{Location, Service};

/// HSDS `service.status` values.
const STATUSES: &str = "active, inactive, defunct, temporarily closed";

pub fn assemble(tables: Tables, issues: Issues) -> Result<Directory, ImportError> {
    let mut work = Assembly {
        issues,
        ..Assembly::default()
    };
    work.terms(&tables.taxonomy_term);
    work.organizations(&tables.organization);
    work.identifiers(&tables.organization_identifier);
    work.services(&tables.service);
    work.attributes(&tables.attribute);
    work.languages(&tables.language);
    work.cost_options(&tables.cost_option);
    work.service_areas(&tables.service_area);
    work.locations(&tables.location);
    work.addresses(&tables.address);
    work.at_locations(&tables.service_at_location);
    work.schedules(&tables.schedule);
    work.finish()
}

#[derive(Default)]
struct Assembly<'a> {
    issues: Issues,
    terms: HashMap<&'a str, Option<Meaning>>,
    organizations: Vec<OrganizationDraft<'a>>,
    organization_index: HashMap<&'a str, usize>,
    services: Vec<ServiceDraft<'a>>,
    service_index: HashMap<&'a str, usize>,
    locations: Vec<LocationDraft<'a>>,
    location_index: HashMap<&'a str, usize>,
    /// `service_at_location` id → service, for schedules given by service_at_location only.
    at_location_service: HashMap<&'a str, usize>,
}

struct OrganizationDraft<'a> {
    row: &'a Row,
    hsds_id: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    url: Option<&'a str>,
    email: Option<&'a str>,
    parent: Option<&'a str>,
    iip_id: Option<Id>,
    sector: Option<Sector>,
    level: Option<Level>,
    area: Option<&'a str>,
    areas_served: Vec<String>,
}

struct ServiceDraft<'a> {
    row: &'a Row,
    hsds_id: &'a str,
    organization: usize,
    /// Inactive and defunct services are read (their children refer to them) but left out.
    listed: bool,
    name: &'a str,
    description: Option<&'a str>,
    url: Option<&'a str>,
    email: Option<&'a str>,
    eligibility: Option<&'a str>,
    fees_description: Option<&'a str>,
    iip_id: Option<Id>,
    elements: Vec<String>,
    languages: Vec<String>,
    regardless_of_status: bool,
    costs: Vec<Cost>,
    schedules: Vec<String>,
    areas: Vec<String>,
    locations: Vec<usize>,
}

struct Cost {
    free: bool,
    description: Option<String>,
}

struct LocationDraft<'a> {
    row: &'a Row,
    hsds_id: &'a str,
    name: Option<&'a str>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    iip_id: Option<&'a str>,
    address: Option<Address>,
}

struct Address {
    physical: bool,
    street: Option<String>,
    city: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
}

/// Appends `value` unless it is there already.
fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

fn names_nothing(row: &Row, field: &str, id: &str, what: &str) -> Issue {
    row.issue(field, format!("{:?} names no {what} in the package", clip(id)))
}

impl<'a> Assembly<'a> {
    /// The value of a field, its error recorded; absent when it had one.
    fn opt(&mut self, result: Result<Option<&'a str>, Issue>) -> Option<&'a str> {
        self.issues.check(result).flatten()
    }

    fn service_of(&mut self, row: &'a Row, field: &str, required: bool) -> Option<usize> {
        let id = if required {
            self.issues.check(row.required_hsds_id(field))?
        } else {
            self.opt(row.hsds_id(field))?
        };
        let found = self.service_index.get(id).copied();
        if found.is_none() {
            self.issues.error(names_nothing(row, field, id, "service"));
        }
        found
    }

    fn terms(&mut self, rows: &'a [Row]) {
        for row in rows {
            let id = self.issues.check(row.required_hsds_id("id"));
            let facts = TermFacts {
                id: id.unwrap_or_default(),
                code: self.opt(row.name("code")),
                name: self.opt(row.name("name")),
                taxonomy_id: self.opt(row.hsds_id("taxonomy_id")),
                taxonomy: self.opt(row.name("taxonomy")),
            };
            let Some(id) = id else { continue };
            if self.terms.insert(id, meaning(facts)).is_some() {
                self.issues
                    .error(row.issue("id", format!("{:?} is the id of another taxonomy term too", clip(id))));
            }
        }
    }

    fn organizations(&mut self, rows: &'a [Row]) {
        for row in rows {
            let id = self.issues.check(row.required_hsds_id("id"));
            let name = self.issues.check(row.required_text("name", super::MAX_NAME_CHARS));
            let description = self.opt(row.long_text("description"));
            let url = self.opt(row.long_text("website"));
            let email = self.opt(row.name("email"));
            let parent = self.opt(row.hsds_id("parent_organization_id"));
            let (Some(hsds_id), Some(name)) = (id, name) else {
                continue;
            };
            if self.organization_index.contains_key(hsds_id) {
                self.issues.error(row.issue(
                    "id",
                    format!("{:?} is the id of another organization too", clip(hsds_id)),
                ));
                continue;
            }
            self.organization_index.insert(hsds_id, self.organizations.len());
            self.organizations.push(OrganizationDraft {
                row,
                hsds_id,
                name,
                description,
                url,
                email,
                parent,
                iip_id: None,
                sector: None,
                level: None,
                area: None,
                areas_served: Vec::new(),
            });
        }
    }

    fn identifiers(&mut self, rows: &'a [Row]) {
        for row in rows {
            let Some(org) = self.issues.check(row.required_hsds_id("organization_id")) else {
                continue;
            };
            let kind = self.opt(row.name("identifier_type"));
            let value = self.opt(row.name("identifier"));
            let Some(&i) = self.organization_index.get(org) else {
                self.issues
                    .error(names_nothing(row, "organization_id", org, "organization"));
                continue;
            };
            if !kind.is_some_and(|k| k.eq_ignore_ascii_case(ORG_ID_TYPE)) {
                continue; // a tax id, a charity number: not ours to read
            }
            let Some(value) = value else {
                self.issues.error(row.issue("identifier", "is required"));
                continue;
            };
            match Id::parse(value) {
                Err(e) => self
                    .issues
                    .error(row.issue("identifier", format!("{:?} {e}", clip(value)))),
                Ok(id) => match &self.organizations[i].iip_id {
                    Some(other) if *other != id => {
                        self.issues
                            .error(row.issue("identifier", format!("the organization has IIP id {other} already")));
                    }
                    _ => self.organizations[i].iip_id = Some(id),
                },
            }
        }
    }

    fn services(&mut self, rows: &'a [Row]) {
        for row in rows {
            let id = self.issues.check(row.required_hsds_id("id"));
            let org = self.issues.check(row.required_hsds_id("organization_id"));
            let name = self.issues.check(row.required_text("name", super::MAX_NAME_CHARS));
            let status = self.opt(row.name("status"));
            let description = self.opt(row.long_text("description"));
            let url = self.opt(row.long_text("url"));
            let email = self.opt(row.name("email"));
            let eligibility = self.opt(row.long_text("eligibility_description"));
            // `fees` is HSDS 3's deprecated name for `fees_description`.
            let fees_description = self.opt(row.long_text("fees_description"));
            let fees = self.opt(row.long_text("fees"));
            let (Some(hsds_id), Some(org), Some(name)) = (id, org, name) else {
                continue;
            };
            let Some(&organization) = self.organization_index.get(org) else {
                self.issues
                    .error(names_nothing(row, "organization_id", org, "organization"));
                continue;
            };
            let listed = match status.map(str::to_ascii_lowercase).as_deref() {
                None | Some("active" | "temporarily closed") => true,
                Some("inactive" | "defunct") => {
                    self.issues.warn(row.issue(
                        "status",
                        format!("is {:?}; the service is left out", status.unwrap_or_default()),
                    ));
                    false
                }
                Some(_) => {
                    let given = clip(status.unwrap_or_default());
                    self.issues
                        .error(row.issue("status", format!("{given:?} is not one of: {STATUSES}")));
                    continue;
                }
            };
            if self.service_index.contains_key(hsds_id) {
                self.issues
                    .error(row.issue("id", format!("{:?} is the id of another service too", clip(hsds_id))));
                continue;
            }
            self.service_index.insert(hsds_id, self.services.len());
            self.services.push(ServiceDraft {
                row,
                hsds_id,
                organization,
                listed,
                name,
                description,
                url,
                email,
                eligibility,
                fees_description: fees_description.or(fees),
                iip_id: None,
                elements: Vec::new(),
                languages: Vec::new(),
                regardless_of_status: false,
                costs: Vec::new(),
                schedules: Vec::new(),
                areas: Vec::new(),
                locations: Vec::new(),
            });
        }
    }

    fn attributes(&mut self, rows: &'a [Row]) {
        for row in rows {
            let entity = self
                .issues
                .check(row.required_text("link_entity", super::MAX_NAME_CHARS));
            let link = self.issues.check(row.required_hsds_id("link_id"));
            let term = self.issues.check(row.required_hsds_id("taxonomy_term_id"));
            let value = self.opt(row.long_text("value"));
            let (Some(entity), Some(link), Some(term)) = (entity, link, term) else {
                continue;
            };
            let meaning = match self.terms.get(term) {
                Some(known) => known.clone(),
                None => {
                    let ours = meaning_of_builtin_id(term);
                    if ours.is_none() {
                        let message = format!(
                            "{:?} names no taxonomy term in the package; the attribute is ignored",
                            clip(term)
                        );
                        self.issues.warn(row.issue("taxonomy_term_id", message));
                    }
                    ours
                }
            };
            let Some(meaning) = meaning else { continue };
            match entity.to_ascii_lowercase().as_str() {
                "organization" => match self.organization_index.get(link).copied() {
                    Some(i) => self.organization_attribute(row, i, meaning, value),
                    None => self.issues.error(names_nothing(row, "link_id", link, "organization")),
                },
                "service" => match self.service_index.get(link).copied() {
                    Some(i) => self.service_attribute(row, i, meaning, value),
                    None => self.issues.error(names_nothing(row, "link_id", link, "service")),
                },
                _ => {} // attributes of locations, phones, …: nothing the directory keeps
            }
        }
    }

    fn organization_attribute(&mut self, row: &Row, i: usize, meaning: Meaning, value: Option<&'a str>) {
        let needs_value = matches!(
            meaning,
            Meaning::Sector | Meaning::Level | Meaning::Area | Meaning::AreaServed
        );
        let Some(value) = value.or_else(|| {
            if needs_value {
                self.issues
                    .error(row.issue("value", "is required for this taxonomy term"));
            }
            None
        }) else {
            return;
        };
        let org = &mut self.organizations[i];
        match meaning {
            Meaning::Sector => match Sector::parse(&clip(value)) {
                Ok(sector) => org.sector = Some(sector),
                Err(e) => self.issues.error(row.issue("value", e.to_string())),
            },
            Meaning::Level => match Level::parse(&clip(value)) {
                Ok(level) => org.level = Some(level),
                Err(e) => self.issues.error(row.issue("value", e.to_string())),
            },
            Meaning::Area => org.area = Some(value),
            Meaning::AreaServed => push_unique(&mut org.areas_served, value),
            _ => {}
        }
    }

    fn service_attribute(&mut self, row: &Row, i: usize, meaning: Meaning, value: Option<&'a str>) {
        let service = &mut self.services[i];
        match meaning {
            Meaning::Element(element) => push_unique(&mut service.elements, &element),
            Meaning::RegardlessOfStatus => {
                let denied = value.is_some_and(|v| ["false", "no", "0"].iter().any(|no| v.eq_ignore_ascii_case(no)));
                service.regardless_of_status = !denied;
            }
            Meaning::ServiceId => match value.map(Id::parse) {
                None => self
                    .issues
                    .error(row.issue("value", "is required for this taxonomy term")),
                Some(Err(e)) => self
                    .issues
                    .error(row.issue("value", format!("{:?} {e}", clip(value.unwrap_or_default())))),
                Some(Ok(id)) => match &service.iip_id {
                    Some(other) if *other != id => {
                        self.issues
                            .error(row.issue("value", format!("the service has IIP id {other} already")));
                    }
                    _ => service.iip_id = Some(id),
                },
            },
            _ => {}
        }
    }

    fn languages(&mut self, rows: &'a [Row]) {
        for row in rows {
            let code = self.opt(row.name("code"));
            let name = self.opt(row.name("name"));
            // A language of a location or a phone only: not the service's.
            let Some(i) = self.service_of(row, "service_id", false) else {
                continue;
            };
            match iso_639_1(code, name) {
                Some(iso) => push_unique(&mut self.services[i].languages, &iso),
                None => {
                    let (field, given) = match (code, name) {
                        (Some(code), _) => ("code", code),
                        (None, Some(name)) => ("name", name),
                        (None, None) => ("code", ""),
                    };
                    let message = format!(
                        "{:?} does not map to an ISO 639-1 code; the language is left out",
                        clip(given)
                    );
                    self.issues.warn(row.issue(field, message));
                }
            }
        }
    }

    fn cost_options(&mut self, rows: &'a [Row]) {
        for row in rows {
            let option = self.opt(row.name("option"));
            let amount = self.issues.check(row.number("amount")).flatten();
            let currency = self.opt(row.name("currency"));
            let described = self.opt(row.long_text("amount_description"));
            let Some(i) = self.service_of(row, "service_id", true) else {
                continue;
            };
            let free = amount == Some(0.0) || option.is_some_and(|o| o.to_ascii_lowercase().starts_with("free"));
            let description = described.map(str::to_owned).or_else(|| match amount {
                Some(amount) if amount > 0.0 => Some(format!("{amount} {}", currency.unwrap_or("USD"))),
                _ => option.filter(|_| !free).map(str::to_owned),
            });
            self.services[i].costs.push(Cost { free, description });
        }
    }

    fn service_areas(&mut self, rows: &'a [Row]) {
        for row in rows {
            let name = self.opt(row.name("name"));
            let description = self.opt(row.name("description"));
            let Some(i) = self.service_of(row, "service_id", false) else {
                continue;
            };
            if let Some(area) = name.or(description) {
                push_unique(&mut self.services[i].areas, area);
            }
        }
    }

    fn locations(&mut self, rows: &'a [Row]) {
        for row in rows {
            let id = self.issues.check(row.required_hsds_id("id"));
            let name = self.opt(row.name("name"));
            let latitude = self.issues.check(row.number("latitude")).flatten();
            let longitude = self.issues.check(row.number("longitude")).flatten();
            let external = self.opt(row.name("external_identifier"));
            let external_type = self.opt(row.name("external_identifier_type"));
            let Some(hsds_id) = id else { continue };
            if self.location_index.contains_key(hsds_id) {
                self.issues
                    .error(row.issue("id", format!("{:?} is the id of another location too", clip(hsds_id))));
                continue;
            }
            self.location_index.insert(hsds_id, self.locations.len());
            let iip_id = external.filter(|_| external_type.is_some_and(|t| t.eq_ignore_ascii_case(LOCATION_ID_TYPE)));
            self.locations.push(LocationDraft {
                row,
                hsds_id,
                name,
                latitude,
                longitude,
                iip_id,
                address: None,
            });
        }
    }

    fn addresses(&mut self, rows: &'a [Row]) {
        for row in rows {
            let mut part = |field| self.opt(row.name(field)).map(str::to_owned);
            let street = match (part("address_1"), part("address_2")) {
                (Some(first), Some(second)) => Some(format!("{first}, {second}")),
                (first, second) => first.or(second),
            };
            let city = part("city");
            let region = part("state_province").or_else(|| part("region"));
            let postal_code = part("postal_code");
            let physical = part("address_type").is_none_or(|t| t.eq_ignore_ascii_case("physical"));
            let Some(location) = self.opt(row.hsds_id("location_id")) else {
                continue;
            };
            let Some(&i) = self.location_index.get(location) else {
                self.issues
                    .error(names_nothing(row, "location_id", location, "location"));
                continue;
            };
            // The directory keeps one address a location: the first physical one.
            let place = &mut self.locations[i];
            if place.address.as_ref().is_none_or(|kept| !kept.physical && physical) {
                place.address = Some(Address {
                    physical,
                    street,
                    city,
                    region,
                    postal_code,
                });
            }
        }
    }

    fn at_locations(&mut self, rows: &'a [Row]) {
        for row in rows {
            let id = self.opt(row.hsds_id("id"));
            let location = self.issues.check(row.required_hsds_id("location_id"));
            let Some(i) = self.service_of(row, "service_id", true) else {
                continue;
            };
            let Some(location) = location else { continue };
            let Some(&l) = self.location_index.get(location) else {
                self.issues
                    .error(names_nothing(row, "location_id", location, "location"));
                continue;
            };
            if !self.services[i].locations.contains(&l) {
                self.services[i].locations.push(l);
            }
            if let Some(id) = id {
                self.at_location_service.insert(id, i);
            }
        }
    }

    fn schedules(&mut self, rows: &'a [Row]) {
        for row in rows {
            let description = self.opt(row.long_text("description"));
            let days = self.opt(row.name("byday"));
            let opens = self.opt(row.name("opens_at"));
            let closes = self.opt(row.name("closes_at"));
            let service = if self.opt(row.hsds_id("service_id")).is_some() {
                self.service_of(row, "service_id", true)
            } else if let Some(at) = self.opt(row.hsds_id("service_at_location_id")) {
                let found = self.at_location_service.get(at).copied();
                if found.is_none() {
                    self.issues
                        .error(names_nothing(row, "service_at_location_id", at, "service_at_location"));
                }
                found
            } else {
                None // a location's opening hours
            };
            let Some(i) = service else { continue };
            if let Some(text) = description
                .map(str::to_owned)
                .or_else(|| spelled_out(days, opens, closes))
            {
                push_unique(&mut self.services[i].schedules, &text);
            }
        }
    }

    fn finish(mut self) -> Result<Directory, ImportError> {
        let org_ids = self.organization_ids();
        let organizations = self.organizations_out(&org_ids);
        let locations = self.locations_out();
        let services = self.services_out(&org_ids, &locations);
        let warnings = self.issues.finish()?;
        Ok(Directory {
            organizations,
            services,
            warnings,
        })
    }

    /// Our id of each organization: the IIP identifier it carries, else its HSDS id.
    fn organization_ids(&mut self) -> Vec<Option<Id>> {
        let mut taken: HashMap<Id, usize> = HashMap::new();
        let mut ids = Vec::with_capacity(self.organizations.len());
        for (i, org) in self.organizations.iter().enumerate() {
            let id = match org.iip_id.clone() {
                Some(id) => Some(id),
                None => match Id::parse(org.hsds_id) {
                    Ok(id) => Some(id),
                    Err(e) => {
                        let message = format!("{:?} cannot serve as an organization id: {e}", clip(org.hsds_id));
                        self.issues.error(org.row.issue("id", message));
                        None
                    }
                },
            };
            if let Some(id) = &id
                && let Some(first) = taken.insert(id.clone(), i)
            {
                let other = self.organizations.get(first).map_or("", |o| o.hsds_id);
                let message = format!("the organization has id {id}, as organization {:?} has", clip(other));
                self.issues.error(org.row.issue("id", message));
            }
            ids.push(id);
        }
        ids
    }

    fn organizations_out(&mut self, ids: &[Option<Id>]) -> Vec<DirectoryOrganization> {
        let mut out = Vec::with_capacity(self.organizations.len());
        for (org, id) in self.organizations.iter().zip(ids) {
            let Some(org_id) = id.clone() else { continue };
            let parent_id = org.parent.and_then(|parent| {
                let found = self
                    .organization_index
                    .get(parent)
                    .and_then(|&p| ids.get(p))
                    .cloned()
                    .flatten();
                if found.is_none() {
                    let message = format!(
                        "{:?} names no organization in the package; the parent is left out",
                        clip(parent)
                    );
                    self.issues.warn(org.row.issue("parent_organization_id", message));
                }
                found
            });
            out.push(DirectoryOrganization {
                org_id,
                hsds_id: org.hsds_id.to_owned(),
                has_iip_id: org.iip_id.is_some(),
                name: org.name.to_owned(),
                description: org.description.map(str::to_owned),
                url: org.url.map(str::to_owned),
                email: org.email.map(str::to_owned),
                sector: org.sector,
                level: org.level,
                parent_id,
                area: org.area.map(str::to_owned),
                areas_served: org.areas_served.clone(),
            });
        }
        out
    }

    fn locations_out(&mut self) -> Vec<Option<Location>> {
        let mut out = Vec::with_capacity(self.locations.len());
        for place in &self.locations {
            let (field, raw) = match place.iip_id {
                Some(ours) => ("external_identifier", ours),
                None => ("id", place.hsds_id),
            };
            let location_id = match Id::parse(raw) {
                Ok(id) => id,
                Err(e) => {
                    let message = format!("{:?} cannot serve as a location id: {e}", clip(raw));
                    self.issues.error(place.row.issue(field, message));
                    out.push(None);
                    continue;
                }
            };
            let address = place.address.as_ref();
            out.push(Some(Location {
                location_id,
                name: place.name.map(str::to_owned),
                address: address.and_then(|a| a.street.clone()),
                city: address.and_then(|a| a.city.clone()),
                region: address.and_then(|a| a.region.clone()),
                postal_code: address.and_then(|a| a.postal_code.clone()),
                latitude: place.latitude,
                longitude: place.longitude,
            }));
        }
        out
    }

    fn services_out(&mut self, org_ids: &[Option<Id>], locations: &[Option<Location>]) -> Vec<Service> {
        let mut taken: HashMap<Id, &str> = HashMap::new();
        let mut out = Vec::with_capacity(self.services.len());
        for draft in self.services.iter().filter(|s| s.listed) {
            let service_id = match draft.iip_id.clone().map_or_else(|| Id::parse(draft.hsds_id), Ok) {
                Ok(id) => id,
                Err(e) => {
                    let message = format!("{:?} cannot serve as a service id: {e}", clip(draft.hsds_id));
                    self.issues.error(draft.row.issue("id", message));
                    continue;
                }
            };
            if let Some(other) = taken.insert(service_id.clone(), draft.hsds_id) {
                let message = format!("the service has id {service_id}, as service {:?} has", clip(other));
                self.issues.error(draft.row.issue("id", message));
                continue;
            }
            let Some(org_id) = org_ids.get(draft.organization).cloned().flatten() else {
                continue;
            };
            let free = draft.costs.iter().any(|c| c.free)
                || draft.fees_description.is_some_and(|f| f.eq_ignore_ascii_case("free"));
            let fees = draft
                .fees_description
                .filter(|f| !f.eq_ignore_ascii_case("free"))
                .map(str::to_owned)
                .or_else(|| {
                    draft
                        .costs
                        .iter()
                        .filter(|c| !c.free)
                        .find_map(|c| c.description.clone())
                });
            out.push(Service {
                service_id,
                org_id,
                name: draft.name.to_owned(),
                description: draft.description.map(str::to_owned),
                elements: draft.elements.clone(),
                languages: draft.languages.clone(),
                eligibility: draft.eligibility.map(str::to_owned),
                regardless_of_status: draft.regardless_of_status,
                free,
                fees,
                schedule: (!draft.schedules.is_empty()).then(|| draft.schedules.join("; ")),
                areas: draft.areas.clone(),
                locations: draft
                    .locations
                    .iter()
                    .filter_map(|&l| locations.get(l).cloned().flatten())
                    .collect(),
                url: draft.url.map(str::to_owned),
                email: draft.email.map(str::to_owned),
            });
        }
        out
    }
}

/// A schedule given only as days and hours: `MO,WE 18:00–21:00`.
fn spelled_out(days: Option<&str>, opens: Option<&str>, closes: Option<&str>) -> Option<String> {
    let hours = match (opens, closes) {
        (Some(opens), Some(closes)) => Some(format!("{opens}–{closes}")),
        (Some(opens), None) => Some(format!("from {opens}")),
        (None, Some(closes)) => Some(format!("until {closes}")),
        (None, None) => None,
    };
    let parts: Vec<&str> = [days, hours.as_deref()].into_iter().flatten().collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}
