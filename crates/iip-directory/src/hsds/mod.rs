//! Open Referral HSDS 3: the directory exported and imported as JSON and as tabular CSV
//! (docs/directory.md).
//!
//! - JSON: an organization package (`schema/compiled/organization_package.json`), every
//!   service nested in its organization.
//! - Tabular: the CSV files of `datapackage.json`, with their exact names and columns.
//!
//! Both forms go through one model: export builds HSDS objects once (`export.rs`) and each form
//! lays them out; import turns either form into rows (`rows.rs`), which one step assembles
//! into the directory (`assemble.rs`). Import refuses what breaks meaning (missing ids, an
//! unknown organization, service or location, wrong types, bad UTF-8) with errors that name
//! the place, ignores unknown JSON fields (HSDS allows extensions), and never panics.

mod assemble;
mod datapackage;
mod export;
mod json;
mod language;
mod rows;
mod tabular;
pub mod taxonomy;
mod uuid;

use iip_domain::records::Organization;
use iip_domain::{Id, Level, Sector};

pub use export::{COUNTRY, ExportError, LOCATION_ID_TYPE, ORG_ID_SCHEME, ORG_ID_TYPE};
pub use json::{export_json, import_json};
pub use rows::{ImportError, Issue, MAX_HSDS_ID_CHARS, MAX_ISSUES, MAX_NAME_CHARS, MAX_RECORDS, MAX_TEXT_CHARS, Place};
pub use tabular::{export_tabular, import_tabular, import_tabular_files};
pub use uuid::hsds_id;

use crate::service::Service;

/// The largest package import reads: a JSON document, or all CSV files of a tabular one.
pub const MAX_PACKAGE_BYTES: usize = 50 * 1024 * 1024;

/// What an HSDS package holds for the directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Directory {
    pub organizations: Vec<DirectoryOrganization>,
    /// Active services only; each `org_id` is one of `organizations`.
    pub services: Vec<Service>,
    /// What was left out without refusing the package: languages with no ISO 639-1 code,
    /// inactive services, attributes of unknown terms, parents outside the package.
    pub warnings: Vec<Issue>,
}

/// An organization as a package describes it. One another directory produced carries only
/// what HSDS has: no sector or level, and its HSDS id as `org_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryOrganization {
    /// Our `org_id` when the package carries it (an `organization_identifier` of type
    /// [`ORG_ID_TYPE`]), else the HSDS id.
    pub org_id: Id,
    pub hsds_id: String,
    /// Whether `org_id` came from our identifier, i.e. the organization is known to IIP.
    pub has_iip_id: bool,
    pub name: String,
    pub description: Option<String>,
    /// `organization.website`.
    pub url: Option<String>,
    pub email: Option<String>,
    pub sector: Option<Sector>,
    pub level: Option<Level>,
    pub parent_id: Option<Id>,
    pub area: Option<String>,
    pub areas_served: Vec<String>,
}

impl DirectoryOrganization {
    /// The organization as the exchange format has it, when the package said its sector and
    /// level (an IIP export does; other directories do not).
    pub fn to_organization(&self) -> Option<Organization> {
        Some(Organization {
            org_id: self.org_id.clone(),
            name: self.name.clone(),
            sector: self.sector?,
            level: self.level?,
            parent_id: self.parent_id.clone(),
            area: self.area.clone(),
            areas_served: self.areas_served.clone(),
        })
    }
}
