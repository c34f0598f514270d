//! How both backends store the directory's records alike: a service as one JSON document beside
//! its key columns, areas as one `;`-joined column, agreements and services as content-digest
//! lines. Pure Rust, so the two backends cannot drift apart.

use iip_directory::{Location, Partnership, ReferralStatus, Service};
use iip_domain::{Date, Id};
use iip_vault::Place;

use crate::{DirectoryStore, StoreError, StoreResult};

pub fn corrupt(what: &str) -> impl Fn(iip_domain::InvalidValue) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what} {e}"))
}

pub fn parse_id(raw: &str, what: &str) -> StoreResult<Id> {
    Id::parse(raw).map_err(corrupt(what))
}

pub fn parse_date(raw: &str) -> StoreResult<Date> {
    Date::parse(raw).map_err(corrupt("date"))
}

/// Areas as one `;`-separated column (`None` when there are none).
pub fn join_areas(areas: &[String]) -> Option<String> {
    (!areas.is_empty()).then(|| areas.join(";"))
}

pub fn split_areas(stored: Option<&str>) -> Vec<String> {
    stored
        .unwrap_or_default()
        .split(';')
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A service's details as stored: one JSON document beside its indexed keys.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ServiceDocument {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    elements: Vec<String>,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    eligibility: Option<String>,
    #[serde(default)]
    regardless_of_status: bool,
    #[serde(default)]
    free: bool,
    #[serde(default)]
    fees: Option<String>,
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default)]
    areas: Vec<String>,
    #[serde(default)]
    locations: Vec<LocationDocument>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct LocationDocument {
    location_id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
}

/// The JSON document of a service (also its content-digest form, the same on every backend).
pub fn service_document(s: &Service) -> StoreResult<String> {
    let document = ServiceDocument {
        name: s.name.clone(),
        description: s.description.clone(),
        elements: s.elements.clone(),
        languages: s.languages.clone(),
        eligibility: s.eligibility.clone(),
        regardless_of_status: s.regardless_of_status,
        free: s.free,
        fees: s.fees.clone(),
        schedule: s.schedule.clone(),
        areas: s.areas.clone(),
        locations: s
            .locations
            .iter()
            .map(|l| LocationDocument {
                location_id: l.location_id.to_string(),
                name: l.name.clone(),
                address: l.address.clone(),
                city: l.city.clone(),
                region: l.region.clone(),
                postal_code: l.postal_code.clone(),
                latitude: l.latitude,
                longitude: l.longitude,
            })
            .collect(),
        url: s.url.clone(),
        email: s.email.clone(),
    };
    serde_json::to_string(&document).map_err(|e| StoreError::Backend(format!("service document: {e}")))
}

pub fn service_from(service_id: &str, org_id: &str, document: &str) -> StoreResult<Service> {
    let d: ServiceDocument =
        serde_json::from_str(document).map_err(|e| StoreError::Corrupt(format!("service document: {e}")))?;
    Ok(Service {
        service_id: parse_id(service_id, "service_id")?,
        org_id: parse_id(org_id, "service org_id")?,
        name: d.name,
        description: d.description,
        elements: d.elements,
        languages: d.languages,
        eligibility: d.eligibility,
        regardless_of_status: d.regardless_of_status,
        free: d.free,
        fees: d.fees,
        schedule: d.schedule,
        areas: d.areas,
        locations: d
            .locations
            .into_iter()
            .map(|l| {
                Ok(Location {
                    location_id: parse_id(&l.location_id, "location_id")?,
                    name: l.name,
                    address: l.address,
                    city: l.city,
                    region: l.region,
                    postal_code: l.postal_code,
                    latitude: l.latitude,
                    longitude: l.longitude,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?,
        url: d.url,
        email: d.email,
    })
}

/// The content-digest line of a partnership, the same on every backend.
pub fn partnership_line(p: &Partnership) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}",
        p.partnership_id,
        p.org_id,
        p.partner_org_id,
        p.kind.as_str(),
        p.scope.as_deref().unwrap_or_default(),
        p.start_date,
        p.end_date.map(|d| d.to_string()).unwrap_or_default()
    )
}

/// The content-digest lines of partnerships and of services, sorted.
pub async fn digest_sections<S: DirectoryStore + Sync>(store: &S) -> StoreResult<[Vec<String>; 2]> {
    let mut partnerships: Vec<String> = store.partnerships().await?.iter().map(partnership_line).collect();
    partnerships.sort_unstable();
    let mut services = Vec::new();
    for s in store.services().await? {
        services.push(format!("{}|{}|{}", s.service_id, s.org_id, service_document(&s)?));
    }
    services.sort_unstable();
    Ok([partnerships, services])
}

pub fn place<'a>(table: &'a str, column: &'a str, record: i64, org_id: &'a str) -> Place<'a> {
    Place {
        table,
        column,
        record,
        org_id,
    }
}

pub fn status(raw: &str) -> StoreResult<ReferralStatus> {
    ReferralStatus::parse(raw).map_err(corrupt("referral status"))
}
