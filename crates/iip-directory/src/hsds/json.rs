//! The JSON form: an HSDS 3 organization package (`schema/compiled/organization_package.json`),
//! an array of organizations each with its services nested, and their languages, attributes
//! (with the taxonomy term), cost options, schedules, service areas and service_at_locations
//! (with the location and its address) nested in them.

use std::collections::HashSet;

use iip_domain::records::Organization;
use serde_json::{Map, Value};

use super::Directory;
use super::MAX_PACKAGE_BYTES;
use super::assemble::assemble;
use super::export::{self, AttributeOut, ExportError, Object};
use super::rows::{Cell, ImportError, Issue, Issues, MAX_RECORDS, Place, Row, Tables, clip};
use super::taxonomy::Term;
use crate::service::Service;

/// The directory as an HSDS 3 organization package.
pub fn export_json(organizations: &[Organization], services: &[Service]) -> Result<Value, ExportError> {
    let package = export::build(organizations, services)?;
    let organizations = package.organizations.into_iter().map(|org| {
        let mut row = org.row;
        put(
            &mut row,
            "organization_identifiers",
            org.identifiers.into_iter().map(Value::Object),
        );
        put(&mut row, "attributes", org.attributes.into_iter().map(attribute_json));
        let services = org.services.into_iter().map(|service| {
            let mut row = service.row;
            put(&mut row, "languages", service.languages.into_iter().map(Value::Object));
            put(
                &mut row,
                "attributes",
                service.attributes.into_iter().map(attribute_json),
            );
            put(
                &mut row,
                "cost_options",
                service.cost_options.into_iter().map(Value::Object),
            );
            put(&mut row, "schedules", service.schedules.into_iter().map(Value::Object));
            put(
                &mut row,
                "service_areas",
                service.service_areas.into_iter().map(Value::Object),
            );
            let at_locations = service.at_locations.into_iter().map(|at| {
                let mut location = at.location;
                put(&mut location, "addresses", at.addresses.into_iter().map(Value::Object));
                let mut row = at.row;
                row.insert("location".into(), Value::Object(location));
                Value::Object(row)
            });
            put(&mut row, "service_at_locations", at_locations);
            Value::Object(row)
        });
        put(&mut row, "services", services);
        Value::Object(row)
    });
    Ok(Value::Array(organizations.collect()))
}

fn put(object: &mut Object, key: &str, items: impl Iterator<Item = Value>) {
    object.insert(key.into(), Value::Array(items.collect()));
}

fn attribute_json(attribute: AttributeOut) -> Value {
    let mut row = attribute.row;
    row.insert("taxonomy_term".into(), Value::Object(term_json(&attribute.term)));
    Value::Object(row)
}

/// A term as HSDS nests it in an attribute, its taxonomy nested in turn.
pub fn term_json(term: &Term) -> Object {
    let mut detail = Map::new();
    detail.insert("id".into(), term.taxonomy.id().into());
    detail.insert("name".into(), term.taxonomy.name.into());
    detail.insert("description".into(), term.taxonomy.description.into());
    detail.insert("version".into(), term.taxonomy.version.into());
    let mut row = term_row(term);
    row.insert("taxonomy_detail".into(), Value::Object(detail));
    row
}

/// A term's own fields, as `taxonomy_terms.csv` has them.
pub fn term_row(term: &Term) -> Object {
    let mut row = Map::new();
    row.insert("id".into(), term.id.clone().into());
    row.insert("code".into(), term.code.clone().into());
    row.insert("name".into(), term.name.clone().into());
    row.insert("description".into(), term.description.clone().into());
    row.insert("taxonomy".into(), term.taxonomy.name.into());
    row.insert("taxonomy_id".into(), term.taxonomy.id().into());
    row
}

/// Reads an HSDS 3 JSON package: an array of organizations (or of services, each naming or
/// nesting its organization), one organization, or an API page with such items in `contents`.
pub fn import_json(bytes: &[u8]) -> Result<Directory, ImportError> {
    let mut reader = Flattener::default();
    let root = Place::Json("$".into());
    if bytes.len() > MAX_PACKAGE_BYTES {
        reader.issues.error(Issue::new(
            &root,
            None,
            format!(
                "is {} bytes; packages of at most {MAX_PACKAGE_BYTES} bytes are accepted",
                bytes.len()
            ),
        ));
        return Err(reader.issues.into_error());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(document) => reader.document(document),
        Err(e) => reader
            .issues
            .error(Issue::new(&root, None, format!("is not valid JSON: {e}"))),
    }
    if reader.issues.has_errors() {
        return Err(reader.issues.into_error());
    }
    assemble(reader.tables, reader.issues)
}

/// Turns the nested objects into rows of their tables, filling in the foreign keys that nesting
/// implies.
#[derive(Default)]
struct Flattener {
    tables: Tables,
    issues: Issues,
    /// Ids of organizations, locations and terms already taken: objects that several parents
    /// nest (a service's organization, a shared location, a term) are read once.
    seen: HashSet<(&'static str, String)>,
    records: usize,
}

impl Flattener {
    /// Counts one more object; past [`MAX_RECORDS`] the rest are refused.
    fn admit(&mut self) -> bool {
        self.records += 1;
        if self.records == MAX_RECORDS + 1 {
            let message = format!("has more than {MAX_RECORDS} objects; larger packages are not accepted");
            self.issues.error(Issue::new(&Place::Json("$".into()), None, message));
        }
        self.records <= MAX_RECORDS
    }

    fn document(&mut self, document: Value) {
        match document {
            Value::Array(items) => self.items(items, "$"),
            Value::Object(mut object) => match object.remove("contents") {
                Some(Value::Array(items)) => self.items(items, "$.contents"),
                Some(_) => self.issues.error(Issue::new(
                    &Place::Json("$".into()),
                    Some("contents"),
                    "must be an array",
                )),
                None => {
                    self.admit();
                    self.item(object, "$".into());
                }
            },
            other => self.issues.error(Issue::new(
                &Place::Json("$".into()),
                None,
                format!(
                    "must be an array of organizations or services, or one of them, not {}",
                    kind(&other)
                ),
            )),
        }
    }

    fn items(&mut self, items: Vec<Value>, path: &str) {
        for (i, item) in items.into_iter().enumerate() {
            let path = format!("{path}[{i}]");
            match item {
                Value::Object(_) if !self.admit() => return,
                Value::Object(object) => self.item(object, path),
                other => self.issues.error(Issue::new(
                    &Place::Json(path),
                    None,
                    format!("must be an object, not {}", kind(&other)),
                )),
            }
        }
    }

    /// A top-level item: a service when it carries what only services have.
    fn item(&mut self, object: Object, path: String) {
        if ["status", "organization_id", "organization", "service_at_locations"]
            .iter()
            .any(|k| object.contains_key(*k))
        {
            self.service(object, path, None);
        } else {
            self.organization(object, path, true);
        }
    }

    fn organization(&mut self, mut object: Object, path: String, with_services: bool) {
        let services = if with_services {
            self.children(&mut object, "services", &path)
        } else {
            Vec::new()
        };
        let identifiers = self.children(&mut object, "organization_identifiers", &path);
        let locations = self.children(&mut object, "locations", &path);
        let attributes = self.children(&mut object, "attributes", &path);
        let row = row(object, &path);
        let Some(id) = own_id(&row) else {
            self.tables.organization.push(row);
            return;
        };
        let first = self.seen.insert(("organization", id.clone()));
        if !with_services && !first {
            return; // the same organization, nested in another of its services
        }
        self.tables.organization.push(row);
        for (child, child_path) in services {
            self.service(child, child_path, Some(&id));
        }
        for (child, child_path) in identifiers {
            self.linked(
                child,
                &child_path,
                "organization_id",
                &id,
                Table::OrganizationIdentifier,
            );
        }
        for (child, child_path) in locations {
            self.location(child, child_path, Some(&id));
        }
        for (child, child_path) in attributes {
            self.attribute(child, child_path, "organization", &id);
        }
    }

    fn service(&mut self, mut object: Object, path: String, organization_id: Option<&str>) {
        let organization = self.nested(&mut object, "organization", &path);
        let at_locations = self.children(&mut object, "service_at_locations", &path);
        let languages = self.children(&mut object, "languages", &path);
        let attributes = self.children(&mut object, "attributes", &path);
        let cost_options = self.children(&mut object, "cost_options", &path);
        let schedules = self.children(&mut object, "schedules", &path);
        let service_areas = self.children(&mut object, "service_areas", &path);
        let mut row = row(object, &path);
        let nested_org_id = organization
            .as_ref()
            .and_then(|(o, _)| o.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let (Some(parent), Some(nested), Some((_, nested_path))) = (organization_id, &nested_org_id, &organization)
            && parent != nested
        {
            let message = format!(
                "is {:?} but the service is nested in organization {parent:?}",
                clip(nested)
            );
            self.issues
                .error(Issue::new(&Place::Json(nested_path.clone()), Some("id"), message));
        }
        if let Some(parent) = organization_id.map(str::to_owned).or(nested_org_id) {
            let linked = row.link("organization_id", &parent);
            self.issues.check(linked);
        }
        if let Some((org, org_path)) = organization {
            self.organization(org, org_path, false);
        }
        let Some(id) = own_id(&row) else {
            self.tables.service.push(row);
            return;
        };
        self.tables.service.push(row);
        for (child, child_path) in at_locations {
            self.service_at_location(child, child_path, &id);
        }
        for (child, child_path) in languages {
            self.linked(child, &child_path, "service_id", &id, Table::Language);
        }
        for (child, child_path) in attributes {
            self.attribute(child, child_path, "service", &id);
        }
        for (child, child_path) in cost_options {
            self.linked(child, &child_path, "service_id", &id, Table::CostOption);
        }
        for (child, child_path) in schedules {
            self.linked(child, &child_path, "service_id", &id, Table::Schedule);
        }
        for (child, child_path) in service_areas {
            self.linked(child, &child_path, "service_id", &id, Table::ServiceArea);
        }
    }

    fn service_at_location(&mut self, mut object: Object, path: String, service_id: &str) {
        let location = self.nested(&mut object, "location", &path);
        let schedules = self.children(&mut object, "schedules", &path);
        let mut row = row(object, &path);
        let linked = row.link("service_id", service_id);
        self.issues.check(linked);
        if let Some((location, location_path)) = location {
            if let Some(location_id) = location.get("id").and_then(Value::as_str) {
                let linked = row.link("location_id", location_id);
                self.issues.check(linked);
            }
            self.location(location, location_path, None);
        }
        let at_id = own_id(&row);
        self.tables.service_at_location.push(row);
        // A schedule of the service at one location is still the service's schedule.
        for (child, child_path) in schedules {
            let mut schedule = self::row(child, &child_path);
            let linked = schedule.link("service_id", service_id);
            self.issues.check(linked);
            if let Some(at_id) = &at_id {
                let linked = schedule.link("service_at_location_id", at_id);
                self.issues.check(linked);
            }
            self.tables.schedule.push(schedule);
        }
    }

    fn location(&mut self, mut object: Object, path: String, organization_id: Option<&str>) {
        let addresses = self.children(&mut object, "addresses", &path);
        let mut row = row(object, &path);
        if let Some(parent) = organization_id {
            let linked = row.link("organization_id", parent);
            self.issues.check(linked);
        }
        let Some(id) = own_id(&row) else {
            self.tables.location.push(row);
            return;
        };
        if !self.seen.insert(("location", id.clone())) {
            return;
        }
        self.tables.location.push(row);
        for (child, child_path) in addresses {
            self.linked(child, &child_path, "location_id", &id, Table::Address);
        }
    }

    fn attribute(&mut self, mut object: Object, path: String, entity: &str, link_id: &str) {
        let term = self.nested(&mut object, "taxonomy_term", &path);
        let mut row = row(object, &path);
        let linked = row
            .link("link_entity", entity)
            .and_then(|()| row.link("link_id", link_id));
        self.issues.check(linked);
        if let Some((term, term_path)) = term {
            if let Some(term_id) = term.get("id").and_then(Value::as_str) {
                let linked = row.link("taxonomy_term_id", term_id);
                self.issues.check(linked);
            }
            self.term(term, term_path);
        }
        self.tables.attribute.push(row);
    }

    fn term(&mut self, mut object: Object, path: String) {
        let detail = self.nested(&mut object, "taxonomy_detail", &path);
        let mut row = row(object, &path);
        if let Some((detail, _)) = detail {
            // The nested taxonomy stands for `taxonomy_id` and the taxonomy's name.
            if let Some(id) = detail.get("id").and_then(Value::as_str) {
                let linked = row.link("taxonomy_id", id);
                self.issues.check(linked);
            }
            if let Some(name) = detail.get("name").and_then(Value::as_str)
                && matches!(row.text("taxonomy", usize::MAX), Ok(None))
            {
                row.push("taxonomy", Cell::Text(name.to_owned()));
            }
        }
        let first = own_id(&row).is_none_or(|id| self.seen.insert(("taxonomy_term", id)));
        if first {
            self.tables.taxonomy_term.push(row);
        }
    }

    /// A child object with no children of its own we read, linked to its parent.
    fn linked(&mut self, object: Object, path: &str, field: &str, parent: &str, table: Table) {
        let mut row = row(object, path);
        let linked = row.link(field, parent);
        self.issues.check(linked);
        let rows = match table {
            Table::OrganizationIdentifier => &mut self.tables.organization_identifier,
            Table::Language => &mut self.tables.language,
            Table::CostOption => &mut self.tables.cost_option,
            Table::Schedule => &mut self.tables.schedule,
            Table::ServiceArea => &mut self.tables.service_area,
            Table::Address => &mut self.tables.address,
        };
        rows.push(row);
    }

    /// The objects of array `key`, each with its path; `null` counts as none.
    fn children(&mut self, object: &mut Object, key: &str, path: &str) -> Vec<(Object, String)> {
        match object.remove(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let item_path = format!("{path}.{key}[{i}]");
                    match item {
                        Value::Object(_) if !self.admit() => None,
                        Value::Object(child) => Some((child, item_path)),
                        other => {
                            let message = format!("must be an object, not {}", kind(&other));
                            self.issues.error(Issue::new(&Place::Json(item_path), None, message));
                            None
                        }
                    }
                })
                .collect(),
            Some(other) => {
                let message = format!("must be an array, not {}", kind(&other));
                self.issues
                    .error(Issue::new(&Place::Json(path.to_owned()), Some(key), message));
                Vec::new()
            }
        }
    }

    /// The object `key`, with its path; `null` counts as none.
    fn nested(&mut self, object: &mut Object, key: &str, path: &str) -> Option<(Object, String)> {
        match object.remove(key) {
            None | Some(Value::Null) => None,
            Some(Value::Object(_)) if !self.admit() => None,
            Some(Value::Object(child)) => Some((child, format!("{path}.{key}"))),
            Some(other) => {
                let message = format!("must be an object, not {}", kind(&other));
                self.issues
                    .error(Issue::new(&Place::Json(path.to_owned()), Some(key), message));
                None
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Table {
    OrganizationIdentifier,
    Language,
    CostOption,
    Schedule,
    ServiceArea,
    Address,
}

/// The row of an object's own fields (its nested arrays and objects already taken out); an
/// unknown field is kept but never read, as HSDS allows extensions.
fn row(object: Object, path: &str) -> Row {
    let mut row = Row::new(Place::Json(path.to_owned()));
    for (field, value) in object {
        let cell = match value {
            Value::Null => continue,
            Value::String(text) => Cell::Text(text),
            Value::Number(n) => n.as_f64().map_or(Cell::Other("a number out of range"), Cell::Number),
            other => Cell::Other(kind(&other)),
        };
        row.push(field, cell);
    }
    row
}

/// The row's own id, when it is usable as the parent of nested objects.
fn own_id(row: &Row) -> Option<String> {
    row.hsds_id("id").ok().flatten().map(str::to_owned)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
