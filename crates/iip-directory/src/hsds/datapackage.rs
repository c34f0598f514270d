//! The HSDS 3 tabular data package (`standards/hsds-3/datapackage.json`), built in: it says
//! which files a tabular package has and the columns of each, for export and import alike.

use std::sync::OnceLock;

use serde_json::Value;

/// The standard's `datapackage.json`, unchanged.
pub const SOURCE: &str = include_str!("../../../../standards/hsds-3/datapackage.json");

/// One table of the tabular form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The table (`service_at_location`).
    pub name: String,
    /// Its file (`service_at_location.csv`).
    pub path: String,
    /// Its columns, in order.
    pub fields: Vec<String>,
}

/// The parsed standard: its resources, and the document itself (to write a package's own
/// `datapackage.json`).
#[derive(Debug)]
pub struct DataPackage {
    pub document: Value,
    pub resources: Vec<Resource>,
}

impl DataPackage {
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }

    pub fn resource_of_file(&self, path: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.path == path)
    }
}

/// The built-in data package. A unit test proves it parses; were it ever broken, it would read
/// as one with no tables, and import would refuse every file rather than crash.
pub fn hsds() -> &'static DataPackage {
    static PACKAGE: OnceLock<DataPackage> = OnceLock::new();
    PACKAGE.get_or_init(|| {
        let document: Value = serde_json::from_str(SOURCE).unwrap_or(Value::Null);
        let resources = document
            .get("resources")
            .and_then(Value::as_array)
            .map(|all| all.iter().filter_map(resource).collect())
            .unwrap_or_default();
        DataPackage { document, resources }
    })
}

fn resource(value: &Value) -> Option<Resource> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let fields = value.get("schema")?.get("fields")?.as_array()?;
    Some(Resource {
        name: text(value, "name")?,
        path: text(value, "path")?,
        fields: fields.iter().filter_map(|f| text(f, "name")).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_parses() {
        let package = hsds();
        assert_eq!(package.resources.len(), 21);
        let sal = package.resource("service_at_location").expect("service_at_location");
        assert_eq!(sal.path, "service_at_location.csv");
        assert_eq!(sal.fields, ["id", "service_id", "location_id", "description"]);
        assert!(package.resource_of_file("taxonomies.csv").is_some());
    }
}
