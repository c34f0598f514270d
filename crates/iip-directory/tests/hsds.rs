//! HSDS 3 export and import: every exported object validates against the official schemas
//! (standards/hsds-3, offline), both forms round-trip, another directory's packages import,
//! and malformed input is refused with errors naming the place, never a panic.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use iip_directory::hsds::{
    self, Directory, ExportError, ImportError, MAX_PACKAGE_BYTES, export_json, export_tabular, import_json,
    import_tabular, import_tabular_files,
};
use iip_directory::{Location, Service};
use iip_domain::records::Organization;
use iip_domain::{Id, Level, Sector};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The sample directory

fn id(raw: &str) -> Id {
    Id::parse(raw).expect("id")
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn organization(org_id: &str, name: &str, sector: Sector, level: Level, parent: Option<&str>) -> Organization {
    Organization {
        org_id: id(org_id),
        name: name.into(),
        sector,
        level,
        parent_id: parent.map(id),
        area: None,
        areas_served: Vec::new(),
    }
}

fn location(location_id: &str, street: &str, city: &str, zip: &str, coordinates: Option<(f64, f64)>) -> Location {
    Location {
        location_id: id(location_id),
        name: Some(format!("{city} campus")),
        address: Some(street.into()),
        city: Some(city.into()),
        region: Some("CA".into()),
        postal_code: Some(zip.into()),
        latitude: coordinates.map(|c| c.0),
        longitude: coordinates.map(|c| c.1),
    }
}

fn service(service_id: &str, org_id: &str, name: &str) -> Service {
    Service {
        service_id: id(service_id),
        org_id: id(org_id),
        name: name.into(),
        description: None,
        elements: Vec::new(),
        languages: Vec::new(),
        eligibility: None,
        regardless_of_status: false,
        free: false,
        fees: None,
        schedule: None,
        areas: Vec::new(),
        locations: Vec::new(),
        url: None,
        email: None,
    }
}

fn sample() -> (Vec<Organization>, Vec<Service>) {
    let mut county = organization(
        "acoe",
        "Alameda County Office of Education",
        Sector::Education,
        Level::County,
        None,
    );
    county.area = Some("Alameda County".into());
    county.areas_served = strings(&["Alameda County"]);
    let mut school = organization(
        "fremont-adult",
        "Fremont Adult School",
        Sector::Education,
        Level::City,
        Some("acoe"),
    );
    school.area = Some("Fremont".into());
    school.areas_served = strings(&["Fremont", "Newark", "94536"]);
    let ministry = organization(
        "st-james",
        "St. James Immigrant Ministry",
        Sector::FaithBased,
        Level::Local,
        None,
    );
    let organizations = vec![county, school, ministry];

    let mut esl = service("fas-esl", "fremont-adult", "ESL evening classes");
    esl.description = Some("Beginning to advanced English, six levels.".into());
    esl.elements = strings(&["english", "education"]);
    esl.languages = strings(&["en", "es", "vi"]);
    esl.eligibility = Some("Adults 18 and over".into());
    esl.regardless_of_status = true;
    esl.free = true;
    esl.fees = Some("Books about $20".into());
    esl.schedule = Some("Mon–Thu 6–9 pm".into());
    esl.areas = strings(&["Fremont", "Newark"]);
    esl.locations = vec![location(
        "main",
        "4700 Calaveras Ave",
        "Fremont",
        "94538",
        Some((37.5483, -121.9886)),
    )];
    esl.url = Some("https://fremont.example.org/esl".into());
    esl.email = Some("esl@fremont.example.org".into());

    let mut cte = service("fas-cte", "fremont-adult", "Medical assistant certificate");
    cte.elements = strings(&["economic"]);
    cte.languages = strings(&["en"]);
    cte.fees = Some("$150 per term".into());
    cte.locations = vec![
        location("main", "4700 Calaveras Ave", "Fremont", "94538", None),
        location(
            "newark",
            "35753 Cedar Blvd",
            "Newark",
            "94560",
            Some((37.5297, -122.0402)),
        ),
    ];

    let mut legal = service("stj-legal", "st-james", "Citizenship and DACA clinic");
    legal.elements = strings(&["credentials", "civic", "navigation"]);
    legal.languages = strings(&["es", "tl", "zh"]);
    legal.regardless_of_status = true;
    legal.eligibility = Some("Anyone; bring your documents".into());
    legal.email = Some("clinic@stjames.example.org".into());

    let mut health = service("acoe-health", "acoe", "Family health navigators");
    health.description = Some("Help enrolling in Medi-Cal and finding a clinic.".into());
    health.elements = strings(&["health", "social"]);
    health.free = true;
    health.schedule = Some("By appointment".into());
    health.areas = strings(&["Alameda County"]);
    health.locations = vec![location("hayward", "313 W Winton Ave", "Hayward", "94544", None)];
    (organizations, vec![esl, cte, legal, health])
}

fn sorted(mut services: Vec<Service>) -> Vec<Service> {
    services.sort_by(|a, b| a.service_id.as_str().cmp(b.service_id.as_str()));
    services
}

// ---------------------------------------------------------------------------------------------
// The official schemas, offline

fn standard() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../standards/hsds-3")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Resolves the schemas' relative `$ref`s (`"attribute.json"`) to the files beside them; the
/// validator is built without its HTTP and file resolvers, so nothing else is reachable.
struct LocalSchemas;

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.path().as_str().trim_start_matches('/');
        if name.contains('/') || !name.ends_with(".json") {
            return Err(format!("{uri} is not one of the HSDS schema files").into());
        }
        let text = std::fs::read_to_string(standard().join("schema").join(name))?;
        Ok(serde_json::from_str(&text)?)
    }
}

struct Schemas {
    package: jsonschema::Validator,
    tables: HashMap<String, jsonschema::Validator>,
}

impl Schemas {
    fn load() -> Self {
        let build = |schema: &Value| {
            jsonschema::options()
                .should_validate_formats(true)
                .with_retriever(LocalSchemas)
                .build(schema)
                .expect("the HSDS schema compiles")
        };
        let package = build(&read_json(
            &standard().join("schema/compiled/organization_package.json"),
        ));
        let mut tables = HashMap::new();
        for entry in std::fs::read_dir(standard().join("schema")).expect("schema folder") {
            let path = entry.expect("entry").path();
            let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
                continue;
            };
            if path.extension().is_some_and(|e| e == "json") && name != "openapi" {
                tables.insert(name, build(&read_json(&path)));
            }
        }
        Self { package, tables }
    }

    fn table(&self, name: &str) -> &jsonschema::Validator {
        self.tables.get(name).unwrap_or_else(|| panic!("no schema/{name}.json"))
    }

    /// Every schema error of a JSON export: the whole package against the compiled
    /// organization_package schema, then each nested object against its table's schema.
    /// `seen` collects which kinds of object were checked.
    fn check_json(&self, document: &Value, seen: &mut BTreeSet<&'static str>) -> Vec<String> {
        let mut errors: Vec<String> = self
            .package
            .iter_errors(document)
            .map(|e| format!("organization_package {}: {e}", e.instance_path()))
            .collect();
        for (i, org) in document.as_array().into_iter().flatten().enumerate() {
            self.check_object("organization", org, &format!("[{i}]"), &mut errors, seen);
        }
        errors
    }

    fn check_object(
        &self,
        table: &'static str,
        object: &Value,
        path: &str,
        errors: &mut Vec<String>,
        seen: &mut BTreeSet<&'static str>,
    ) {
        seen.insert(table);
        errors.extend(
            self.table(table)
                .iter_errors(object)
                .map(|e| format!("{table} {path}{}: {e}", e.instance_path())),
        );
        const NESTED: &[(&str, &str)] = &[
            ("services", "service"),
            ("organization_identifiers", "organization_identifier"),
            ("attributes", "attribute"),
            ("taxonomy_term", "taxonomy_term"),
            ("taxonomy_detail", "taxonomy"),
            ("languages", "language"),
            ("cost_options", "cost_option"),
            ("schedules", "schedule"),
            ("service_areas", "service_area"),
            ("service_at_locations", "service_at_location"),
            ("location", "location"),
            ("addresses", "address"),
        ];
        for (key, child_table) in NESTED {
            match object.get(*key) {
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        self.check_object(child_table, item, &format!("{path}.{key}[{i}]"), errors, seen);
                    }
                }
                Some(item @ Value::Object(_)) => {
                    self.check_object(child_table, item, &format!("{path}.{key}"), errors, seen)
                }
                _ => {}
            }
        }
    }

    /// Every error of a tabular export against datapackage.json: file names, exact headers,
    /// each row (typed by the field types) against its table's schema, required fields
    /// (`constraints.required` and the schema's `tabular_required`) not empty, unique primary
    /// keys, and every foreign key naming a row of the table it refers to.
    fn check_tabular(&self, dir: &Path) -> Vec<String> {
        let datapackage = read_json(&standard().join("datapackage.json"));
        let resources = datapackage["resources"].as_array().expect("resources");
        let mut errors = Vec::new();
        let mut tables: BTreeMap<String, Vec<BTreeMap<String, String>>> = BTreeMap::new();
        for entry in std::fs::read_dir(dir).expect("export folder") {
            let path = entry.expect("entry").path();
            let file = path.file_name().and_then(|n| n.to_str()).expect("name").to_owned();
            if file == "datapackage.json" {
                continue;
            }
            let Some(resource) = resources.iter().find(|r| r["path"] == file.as_str()) else {
                errors.push(format!("{file}: not a file of the data package"));
                continue;
            };
            let name = resource["name"].as_str().expect("name").to_owned();
            let fields = resource["schema"]["fields"].as_array().expect("fields");
            let columns: Vec<&str> = fields.iter().map(|f| f["name"].as_str().expect("field name")).collect();
            let tabular_required: Vec<String> = read_json(&standard().join(format!("schema/{name}.json")))
                .get("tabular_required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            let mut reader = csv::Reader::from_path(&path).expect("csv");
            let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
            if header != columns {
                errors.push(format!("{file}: header {header:?} is not {columns:?}"));
            }
            let mut rows = Vec::new();
            for (n, record) in reader.records().enumerate() {
                let record = record.expect("record");
                let line = n + 2;
                let mut object = serde_json::Map::new();
                let mut row = BTreeMap::new();
                for (field, cell) in fields.iter().zip(record.iter()) {
                    let column = field["name"].as_str().expect("field name");
                    let required =
                        field["constraints"]["required"] == true || tabular_required.iter().any(|r| r == column);
                    if cell.is_empty() {
                        if required {
                            errors.push(format!("{file}:{line}: {column}: is required"));
                        }
                        continue;
                    }
                    row.insert(column.to_owned(), cell.to_owned());
                    let value = match field["type"].as_str() {
                        Some("number") => cell
                            .parse::<f64>()
                            .ok()
                            .and_then(serde_json::Number::from_f64)
                            .map_or_else(|| Value::String(cell.into()), Value::Number),
                        _ => Value::String(cell.into()),
                    };
                    object.insert(column.to_owned(), value);
                }
                let object = Value::Object(object);
                errors.extend(
                    self.table(&name)
                        .iter_errors(&object)
                        .map(|e| format!("{file}:{line}: {}: {e}", e.instance_path())),
                );
                rows.push(row);
            }
            tables.insert(name, rows);
        }
        for resource in resources {
            let name = resource["name"].as_str().expect("name");
            let Some(rows) = tables.get(name) else { continue };
            let key = resource["schema"]["primaryKey"].as_str().expect("primary key");
            let mut keys = HashSet::new();
            for row in rows {
                if let Some(value) = row.get(key)
                    && !keys.insert(value)
                {
                    errors.push(format!("{name}: {key} {value} appears twice"));
                }
            }
            for foreign in resource["schema"]["foreignKeys"].as_array().into_iter().flatten() {
                let field = foreign["fields"].as_str().expect("fk field");
                let target = foreign["reference"]["resource"].as_str().expect("fk resource");
                let target_field = foreign["reference"]["fields"].as_str().expect("fk target");
                let targets: HashSet<&String> = tables
                    .get(target)
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.get(target_field))
                    .collect();
                for row in rows {
                    if let Some(value) = row.get(field)
                        && !targets.contains(value)
                    {
                        errors.push(format!("{name}: {field} {value} names no {target}"));
                    }
                }
            }
        }
        errors
    }
}

// ---------------------------------------------------------------------------------------------
// (a) Every exported object validates, and validation bites

#[test]
fn every_exported_json_object_validates_against_the_hsds_schemas() {
    let (organizations, services) = sample();
    let document = export_json(&organizations, &services).expect("export");
    let schemas = Schemas::load();
    let mut seen = BTreeSet::new();
    let errors = schemas.check_json(&document, &mut seen);
    assert!(errors.is_empty(), "{errors:#?}");
    let expected: BTreeSet<&str> = [
        "organization",
        "organization_identifier",
        "attribute",
        "taxonomy_term",
        "taxonomy",
        "service",
        "language",
        "cost_option",
        "schedule",
        "service_area",
        "service_at_location",
        "location",
        "address",
    ]
    .into_iter()
    .collect();
    assert_eq!(seen, expected, "every kind of object the export writes was checked");
}

#[test]
fn every_exported_csv_row_validates_against_the_datapackage() {
    let (organizations, services) = sample();
    let dir = tempfile::tempdir().expect("tempdir");
    export_tabular(dir.path(), &organizations, &services).expect("export");
    let errors = Schemas::load().check_tabular(dir.path());
    assert!(errors.is_empty(), "{errors:#?}");
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "addresses.csv",
            "attributes.csv",
            "cost_options.csv",
            "datapackage.json",
            "languages.csv",
            "locations.csv",
            "organization_identifiers.csv",
            "organizations.csv",
            "schedules.csv",
            "service_areas.csv",
            "service_at_location.csv",
            "services.csv",
            "taxonomies.csv",
            "taxonomy_terms.csv",
        ]
    );
    let written = read_json(&dir.path().join("datapackage.json"));
    let described: BTreeSet<&str> = written["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["path"].as_str())
        .collect();
    let csv_files: BTreeSet<&str> = files
        .iter()
        .map(String::as_str)
        .filter(|f| f.ends_with(".csv"))
        .collect();
    assert_eq!(
        described, csv_files,
        "datapackage.json describes exactly the files written"
    );
    assert_eq!(written["version"], "3.0.0");
}

#[test]
fn validation_fails_on_objects_broken_on_purpose() {
    let (organizations, services) = sample();
    let schemas = Schemas::load();
    let document = export_json(&organizations, &services).expect("export");
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut copy = document.clone();
        edit(&mut copy);
        schemas.check_json(&copy, &mut BTreeSet::new())
    };
    let status = broken(&|d| d[1]["services"][0]["status"] = json!("open"));
    assert!(status.iter().any(|e| e.contains("/services/0/status")), "{status:#?}");
    let uuid = broken(&|d| d[0]["services"][0]["service_at_locations"][0]["location"]["id"] = json!("hayward"));
    assert!(uuid.iter().any(|e| e.contains("is not a \"uuid\"")), "{uuid:#?}");
    let name = broken(&|d| {
        d[2].as_object_mut().expect("organization").remove("name");
    });
    assert!(
        name.iter().any(|e| e.contains("\"name\" is a required property")),
        "{name:#?}"
    );
    let number = broken(&|d| d[1]["services"][0]["service_at_locations"][0]["location"]["latitude"] = json!("north"));
    assert!(number.iter().any(|e| e.contains("latitude")), "{number:#?}");

    let dir = tempfile::tempdir().expect("tempdir");
    export_tabular(dir.path(), &organizations, &services).expect("export");
    let locations = dir.path().join("locations.csv");
    let text = std::fs::read_to_string(&locations).expect("locations");
    std::fs::write(&locations, text.replacen(",physical,", ",somewhere,", 1)).expect("write");
    let services_csv = dir.path().join("services.csv");
    let text = std::fs::read_to_string(&services_csv).expect("services");
    let org_uuid = hsds::hsds_id("organization", "acoe");
    std::fs::write(&services_csv, text.replace(&org_uuid, "not-a-uuid")).expect("write");
    let errors = schemas.check_tabular(dir.path());
    assert!(
        errors.iter().any(|e| e.starts_with("locations.csv:2: /location_type:")),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("\"not-a-uuid\" is not a \"uuid\"")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("organization_id not-a-uuid names no organization")),
        "{errors:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// (b) Round trips

fn assert_round_trip(directory: &Directory, organizations: &[Organization], services: &[Service]) {
    assert!(directory.warnings.is_empty(), "{:#?}", directory.warnings);
    assert_eq!(sorted(directory.services.clone()), sorted(services.to_vec()));
    let back: Vec<Organization> = directory
        .organizations
        .iter()
        .map(|o| o.to_organization().expect("sector and level"))
        .collect();
    assert_eq!(back, organizations);
    for (org, original) in directory.organizations.iter().zip(organizations) {
        assert!(org.has_iip_id);
        assert_eq!(org.hsds_id, hsds::hsds_id("organization", original.org_id.as_str()));
    }
}

#[test]
fn json_round_trip_gives_back_the_same_directory() {
    let (organizations, services) = sample();
    let document = export_json(&organizations, &services).expect("export");
    let bytes = serde_json::to_vec_pretty(&document).expect("bytes");
    let directory = import_json(&bytes).expect("import");
    assert_round_trip(&directory, &organizations, &services);
    assert_eq!(
        export_json(&organizations, &services).expect("again"),
        document,
        "ids are deterministic"
    );
}

#[test]
fn tabular_round_trip_gives_back_the_same_directory() {
    let (organizations, services) = sample();
    let dir = tempfile::tempdir().expect("tempdir");
    export_tabular(dir.path(), &organizations, &services).expect("export");
    let directory = import_tabular(dir.path()).expect("import");
    assert_round_trip(&directory, &organizations, &services);
}

#[test]
fn partial_addresses_and_odd_values_round_trip() {
    let organizations = vec![organization(
        "org",
        "Org",
        Sector::Nonprofit,
        Level::Local,
        Some("elsewhere"),
    )];
    let mut only_city = service("s", "org", "Drop-in help");
    only_city.locations = vec![Location {
        location_id: id("l1"),
        name: None,
        address: None,
        city: Some("Union City".into()),
        region: None,
        postal_code: Some("94587".into()),
        latitude: None,
        longitude: None,
    }];
    only_city.elements = strings(&["housing"]); // an element of a framework loaded from a file
    only_city.fees = Some("Donation, \"suggested\" $5,\nnever required".into());
    let services = vec![only_city];
    let document = export_json(&organizations, &services).expect("export");
    let mut seen = BTreeSet::new();
    let errors = Schemas::load().check_json(&document, &mut seen);
    assert!(errors.is_empty(), "{errors:#?}");
    let mut expected = organizations.clone();
    expected[0].parent_id = None; // a parent outside the export is not written
    let from_json = import_json(&serde_json::to_vec(&document).expect("bytes")).expect("json");
    assert_round_trip(&from_json, &expected, &services);
    let dir = tempfile::tempdir().expect("tempdir");
    export_tabular(dir.path(), &organizations, &services).expect("export");
    let from_csv = import_tabular(dir.path()).expect("csv");
    assert_round_trip(&from_csv, &expected, &services);
}

#[test]
fn export_refuses_services_it_cannot_place() {
    let (organizations, mut services) = sample();
    services.push(service("orphan", "nobody", "Orphan"));
    assert!(matches!(
        export_json(&organizations, &services),
        Err(ExportError::UnknownOrganization { ref service_id, ref org_id }) if service_id == "orphan" && org_id == "nobody"
    ));
    let (organizations, mut services) = sample();
    services.push(services[0].clone());
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(matches!(
        export_tabular(dir.path(), &organizations, &services),
        Err(ExportError::DuplicateService(_))
    ));
}

#[test]
fn the_built_in_elements_are_the_frameworks() {
    let framework = iip_framework::Framework::builtin().expect("framework");
    let from_framework: Vec<(String, String)> = framework
        .elements
        .iter()
        .map(|e| (e.id.clone(), e.name.get("en").cloned().unwrap_or_default()))
        .collect();
    let built_in: Vec<(String, String)> = hsds::taxonomy::ELEMENTS
        .iter()
        .map(|(id, name)| ((*id).to_owned(), (*name).to_owned()))
        .collect();
    assert_eq!(built_in, from_framework);
}

// ---------------------------------------------------------------------------------------------
// (c) Another directory's packages

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hsds").join(path)
}

fn find<'a>(directory: &'a Directory, name: &str) -> &'a Service {
    directory
        .services
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name}"))
}

#[test]
fn another_directorys_json_package_imports() {
    let bytes = std::fs::read(fixture("other_directory.json")).expect("fixture");
    let directory = import_json(&bytes).expect("import");
    let org_ids: Vec<&str> = directory.organizations.iter().map(|o| o.org_id.as_str()).collect();
    assert_eq!(
        org_ids,
        [
            "8f0c2a7e-4b1d-4c3a-9e2f-1a2b3c4d5e6f",
            "9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
        ]
    );
    let clinic_org = &directory.organizations[0];
    assert!(!clinic_org.has_iip_id);
    assert_eq!((clinic_org.sector, clinic_org.level), (None, None));
    assert_eq!(
        clinic_org.to_organization(),
        None,
        "sector and level are the caller's to decide"
    );
    assert_eq!(clinic_org.url.as_deref(), Some("https://tri-city.example.org"));
    assert_eq!(directory.organizations[1].parent_id, None);

    assert_eq!(directory.services.len(), 3, "the defunct service is left out");
    let care = find(&directory, "Primary care for adults");
    assert_eq!(care.service_id.as_str(), "5b6c7d8e-9fa0-4b1c-8d2e-3f4a5b6c7d8e");
    assert_eq!(care.org_id.as_str(), "8f0c2a7e-4b1d-4c3a-9e2f-1a2b3c4d5e6f");
    assert_eq!(care.elements, ["health"]);
    assert_eq!(care.languages, ["es", "vi", "zh"]);
    assert!(care.regardless_of_status);
    assert!(!care.free);
    assert_eq!(care.fees.as_deref(), Some("Sliding scale by income"));
    assert_eq!(
        care.eligibility.as_deref(),
        Some("Adults 18 and over living in the Tri-City area")
    );
    assert_eq!(care.schedule.as_deref(), Some("MO,TU,WE,TH,FR 08:30–17:00"));
    assert_eq!(care.areas, ["Fremont", "Newark"]);
    assert_eq!(
        care.locations,
        [Location {
            location_id: id("28000000-0000-4000-8000-000000000001"),
            name: Some("Main clinic".into()),
            address: Some("39500 Liberty St".into()),
            city: Some("Fremont".into()),
            region: Some("CA".into()),
            postal_code: Some("94538".into()),
            latitude: Some(37.5485),
            longitude: Some(-121.9886),
        }]
    );
    let enrollment = find(&directory, "Covered California enrollment help");
    assert_eq!(
        (enrollment.elements.as_slice(), enrollment.languages.as_slice()),
        (&strings(&["navigation"])[..], &strings(&["en"])[..])
    );
    assert!(enrollment.free);
    let circle = find(&directory, "English conversation circle");
    assert_eq!(circle.elements, ["english", "social"]);
    assert!(circle.free && circle.fees.is_none());
    assert_eq!(circle.schedule.as_deref(), Some("Saturdays 10–11:30 am"));

    let warnings: Vec<String> = directory.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "$[0].services[2].status: is \"defunct\"; the service is left out",
            "$[0].services[0].languages[3].code: \"yue\" does not map to an ISO 639-1 code; the language is left out",
            "$[1].parent_organization_id: \"00000000-dead-4bee-8f00-000000000000\" names no organization in the package; the parent is left out",
        ]
    );
}

#[test]
fn another_directorys_tabular_package_imports() {
    let directory = import_tabular(&fixture("other_tabular")).expect("import");
    assert!(directory.warnings.is_empty(), "{:#?}", directory.warnings);
    assert_eq!(directory.organizations.len(), 2);
    assert_eq!(
        directory.organizations[0].name, "Centro de Servicios",
        "the byte order mark is not part of `id`"
    );
    let classes = find(&directory, "Citizenship classes");
    assert_eq!(
        classes.description.as_deref(),
        Some("Prepares for the\nnaturalization interview")
    );
    assert_eq!(classes.elements, ["credentials", "civic"]);
    assert_eq!(classes.languages, ["es", "en"]);
    assert!(classes.free);
    assert_eq!(classes.schedule.as_deref(), Some("Tuesdays and Thursdays 6–8 pm"));
    assert_eq!(classes.areas, ["Union City", "94587"]);
    assert_eq!(classes.eligibility.as_deref(), Some("Lawful permanent residents"));
    let office = &classes.locations[0];
    assert_eq!(
        office.address.as_deref(),
        Some("33000 Alvarado-Niles Rd, Suite 2"),
        "the physical address, not the PO box"
    );
    assert_eq!((office.latitude, office.longitude), (Some(37.5934), Some(-122.0439)));
    let legal = find(&directory, "Immigration legal consultations");
    assert_eq!(legal.elements, ["credentials"]);
    assert!(!legal.free);
    assert_eq!(legal.fees.as_deref(), Some("$25 per consultation"));
    let esl = find(&directory, "ESL evening classes");
    assert_eq!(esl.org_id.as_str(), "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b");
    assert_eq!(esl.elements, ["english"]);
    assert_eq!(
        esl.schedule.as_deref(),
        Some("MO,WE 18:00–21:00"),
        "given for the service at its location"
    );
    assert!(esl.serves_area("94587"));
}

// ---------------------------------------------------------------------------------------------
// (d) Malformed input

fn json_error(document: &str) -> String {
    import_json(document.as_bytes()).expect_err("refused").to_string()
}

fn assert_json_error(document: &str, expected: &str) {
    let error = json_error(document);
    assert!(
        error.lines().any(|l| l == expected),
        "expected {expected:?} in:\n{error}"
    );
}

const ORG: &str = r#""id": "o1", "name": "Org", "description": "d""#;

#[test]
fn malformed_json_is_refused_with_its_path() {
    assert!(json_error("{").starts_with("$: is not valid JSON: EOF while parsing"));
    assert_json_error(
        "\"organizations\"",
        "$: must be an array of organizations or services, or one of them, not a string",
    );
    assert_json_error("[1]", "$[0]: must be an object, not a number");
    assert_json_error(
        &format!("[{{{ORG}, \"services\": \"none\"}}]"),
        "$[0].services: must be an array, not a string",
    );
    assert_json_error(r#"[{"name": "No id", "description": "d"}]"#, "$[0].id: is required");
    let services = r#"[{"id": "s0", "name": "A"}, {"id": "s1", "name": "B"}, {"id": "s2", "name": "C"}, {"id": "s3"}]"#;
    assert_json_error(
        &format!("[{{{ORG}, \"services\": {services}}}]"),
        "$[0].services[3].name: is required",
    );
    assert_json_error(
        &format!("[{{{ORG}, \"services\": [{{\"id\": \"s\", \"name\": 5}}]}}]"),
        "$[0].services[0].name: must be a string, not a number",
    );
    let location = r#"{"id": "l", "location_type": "physical", "latitude": "north"}"#;
    assert_json_error(
        &format!(
            "[{{{ORG}, \"services\": [{{\"id\": \"s\", \"name\": \"S\", \"service_at_locations\": [{{\"id\": \"a\", \"location\": {location}}}]}}]}}]"
        ),
        "$[0].services[0].service_at_locations[0].location.latitude: must be a number, not a string",
    );
    assert_json_error(
        &format!(
            "[{{{ORG}}}, {{\"id\": \"s\", \"name\": \"S\", \"status\": \"active\", \"organization_id\": \"o2\"}}]"
        ),
        "$[1].organization_id: \"o2\" names no organization in the package",
    );
    assert_json_error(
        &format!("[{{{ORG}, \"services\": [{{\"id\": \"s\", \"name\": \"S\", \"organization_id\": \"o9\"}}]}}]"),
        "$[0].services[0].organization_id: is \"o9\" but the object is nested in \"o1\"",
    );
    assert_json_error(
        &format!("[{{{ORG}, \"services\": [{{\"id\": \"s\", \"name\": \"S\", \"status\": \"open\"}}]}}]"),
        "$[0].services[0].status: \"open\" is not one of: active, inactive, defunct, temporarily closed",
    );
    assert_json_error(
        &format!("[{{{ORG}}}, {{{ORG}}}]"),
        "$[1].id: \"o1\" is the id of another organization too",
    );
    assert_json_error(
        r#"[{"id": "has space", "name": "Org", "description": "d"}]"#,
        "$[0].id: \"has space\" cannot serve as an organization id: contains ' '; ids use only A-Z a-z 0-9 . _ -",
    );
    let long_name = "x".repeat(501);
    assert_json_error(
        &format!(r#"[{{"id": "o", "name": "{long_name}"}}]"#),
        "$[0].name: is 501 characters long; at most 500 are accepted",
    );
}

#[test]
fn bad_utf8_and_oversized_json_are_refused() {
    let mut bytes = br#"[{"id": "o", "name": "Caf"#.to_vec();
    bytes.extend_from_slice(&[0xC3, 0x28]);
    bytes.extend_from_slice(br#"", "description": "d"}]"#);
    let error = import_json(&bytes).expect_err("refused").to_string();
    assert!(error.starts_with("$: is not valid JSON: invalid unicode"), "{error}");
    let huge = vec![b' '; MAX_PACKAGE_BYTES + 1];
    let error = import_json(&huge).expect_err("refused").to_string();
    assert_eq!(
        error,
        format!(
            "$: is {} bytes; packages of at most {MAX_PACKAGE_BYTES} bytes are accepted",
            MAX_PACKAGE_BYTES + 1
        )
    );
}

#[test]
fn unknown_json_fields_are_accepted() {
    let document = json!([{
        "id": "o", "name": "Org", "description": "d", "x_flag": true, "x_nested": {"a": [1, 2]},
        "services": [{"id": "s", "name": "S", "status": "active", "x_rank": 3, "phones": [{"id": "p", "number": "555"}]}]
    }]);
    let directory = import_json(document.to_string().as_bytes()).expect("import");
    assert_eq!(directory.services.len(), 1);
    let attribute = json!({"id": "a", "taxonomy_term_id": "t-elsewhere", "link_entity": "service"});
    let document =
        json!([{"id": "o", "name": "Org", "services": [{"id": "s", "name": "S", "attributes": [attribute]}]}]);
    let directory = import_json(document.to_string().as_bytes()).expect("import");
    let warnings: Vec<String> = directory.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "$[0].services[0].attributes[0].taxonomy_term_id: \"t-elsewhere\" names no taxonomy term in the package; the attribute is ignored"
        ]
    );
}

#[test]
fn errors_are_listed_together_and_bounded() {
    let services: Vec<Value> = (0..250).map(|i| json!({"id": format!("s{i}")})).collect();
    let document = json!([{"id": "o", "name": "Org", "services": services}]);
    let error: ImportError = import_json(document.to_string().as_bytes()).expect_err("refused");
    assert_eq!(error.issues.len(), hsds::MAX_ISSUES);
    assert_eq!(error.unlisted, 150);
    assert_eq!(error.issues[1].to_string(), "$[0].services[1].name: is required");
    assert!(error.to_string().ends_with("… and 150 more errors"));
}

fn csv_error(files: &[(&str, &str)]) -> String {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(name, text)| (*name, text.as_bytes())).collect();
    import_tabular_files(&files).expect_err("refused").to_string()
}

fn assert_csv_error(files: &[(&str, &str)], expected: &str) {
    let error = csv_error(files);
    assert!(
        error.lines().any(|l| l == expected),
        "expected {expected:?} in:\n{error}"
    );
}

const ORGS_CSV: (&str, &str) = ("organizations.csv", "id,name,description\no1,Org,d\n");

#[test]
fn malformed_csv_is_refused_with_file_line_and_column() {
    assert_csv_error(
        &[ORGS_CSV, ("notes.csv", "a\n1\n")],
        "notes.csv: is not a file of HSDS 3 tabular data (those are: organizations.csv, programs.csv, services.csv, attributes.csv, service_at_location.csv, locations.csv, phones.csv, contacts.csv, addresses.csv, schedules.csv, funding.csv, service_areas.csv, required_documents.csv, languages.csv, accessibility.csv, taxonomy_terms.csv, metadata.csv, meta_table_descriptions.csv, cost_options.csv, organization_identifiers.csv, taxonomies.csv)",
    );
    let error = csv_error(&[ORGS_CSV, ("services.csv", "id,orgnization_id,name\ns,o1,S\n")]);
    assert!(
        error.starts_with(
            "services.csv:1: orgnization_id: is not a column of services.csv (its columns are: id, organization_id,"
        ),
        "{error}"
    );
    assert_csv_error(
        &[("services.csv", "id,name\n")],
        "organizations.csv: is missing: a tabular package has at least its organizations",
    );
    assert_csv_error(
        &[("organizations.csv", "")],
        "organizations.csv: is empty; its first line names the columns",
    );
    assert_csv_error(
        &[ORGS_CSV, ("services.csv", "id,organization_id,name\ns,o2,S\n")],
        "services.csv:2: organization_id: \"o2\" names no organization in the package",
    );
    assert_csv_error(
        &[ORGS_CSV, ("services.csv", "id,organization_id,name\ns,o1\n")],
        "services.csv:2: has 2 fields where the header has 3",
    );
    assert_csv_error(
        &[("organizations.csv", "id,name,name\no,a,b\n")],
        "organizations.csv:1: name: is named twice",
    );
    assert_csv_error(
        &[("organizations.csv", "id,name\n,Org\n")],
        "organizations.csv:2: id: is required",
    );
    assert_csv_error(
        &[
            ORGS_CSV,
            ("locations.csv", "id,location_type,latitude\nl,physical,north\n"),
        ],
        "locations.csv:2: latitude: \"north\" is not a number",
    );
    assert_csv_error(
        &[ORGS_CSV, ("addresses.csv", "id,location_id,address_1\na,l9,Main St\n")],
        "addresses.csv:2: location_id: \"l9\" names no location in the package",
    );
    assert_csv_error(
        &[ORGS_CSV, ("languages.csv", "id,service_id,code\nx,s9,es\n")],
        "languages.csv:2: service_id: \"s9\" names no service in the package",
    );
    assert_csv_error(
        &[ORGS_CSV, ("attributes.csv", "id,link_id,taxonomy_term_id\na,o1,t\n")],
        "attributes.csv:2: link_entity: is required",
    );
    assert_csv_error(
        &[
            ORGS_CSV,
            (
                "services.csv",
                "id,organization_id,name,description\ns1,o1,S,\"two\nlines\"\ns2,o1,,\n",
            ),
        ],
        "services.csv:4: name: is required",
    );
    let iip = "id,organization_id,identifier_type,identifier\ni,o1,iip_org_id,not an id\n";
    assert_csv_error(
        &[ORGS_CSV, ("organization_identifiers.csv", iip)],
        "organization_identifiers.csv:2: identifier: \"not an id\" contains ' '; ids use only A-Z a-z 0-9 . _ -",
    );
    let sector = "id,link_id,taxonomy_term_id,link_entity,value\na,o1,t,organization,church\n";
    let terms = "id,code,name,description\nt,iip_sector,IIP sector,d\n";
    assert_csv_error(
        &[ORGS_CSV, ("attributes.csv", sector), ("taxonomy_terms.csv", terms)],
        "attributes.csv:2: value: \"church\" is not one of: public, nonprofit, faith_based, education, business, philanthropy",
    );
}

#[test]
fn bad_utf8_in_csv_names_the_cell() {
    let mut organizations = b"id,name,description\no1,Org,d\no2,Caf".to_vec();
    organizations.extend_from_slice(&[0xE9]);
    organizations.extend_from_slice(b",d\n");
    let files: Vec<(&str, &[u8])> = vec![("organizations.csv", &organizations)];
    let error = import_tabular_files(&files).expect_err("refused").to_string();
    assert_eq!(error, "organizations.csv:3: name: is not valid UTF-8");
    let header: &[u8] = b"id,n\xFFme\n";
    let error = import_tabular_files(&[("organizations.csv", header)])
        .expect_err("refused")
        .to_string();
    assert_eq!(error, "organizations.csv:1: the header is not valid UTF-8");
}

#[test]
fn a_missing_folder_is_refused() {
    let error = import_tabular(Path::new("/nonexistent/hsds"))
        .expect_err("refused")
        .to_string();
    assert!(error.starts_with("/nonexistent/hsds: cannot be read:"), "{error}");
}

/// A small deterministic stand-in for the fuzz target: cut and corrupt real exports at many
/// places; every answer is a value or an error, never a panic.
#[test]
fn cut_and_corrupted_packages_never_panic() {
    let (organizations, services) = sample();
    let json = serde_json::to_vec(&export_json(&organizations, &services).expect("export")).expect("bytes");
    let dir = tempfile::tempdir().expect("tempdir");
    export_tabular(dir.path(), &organizations, &services).expect("export");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| {
            let path = e.expect("entry").path();
            (
                path.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read(&path).expect("read"),
            )
        })
        .collect();
    files.sort();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let cut = (next() % json.len() as u64) as usize;
        let mut bytes = json[..cut].to_vec();
        if let Some(byte) = bytes.get_mut((next() % (cut as u64 + 1)) as usize) {
            *byte = (next() % 256) as u8;
        }
        let _ = import_json(&bytes);
        let mut package = files.clone();
        let pick = (next() % package.len() as u64) as usize;
        let content = &mut package[pick].1;
        if !content.is_empty() {
            let at = (next() % content.len() as u64) as usize;
            content[at] = (next() % 256) as u8;
            content.truncate(at + (next() % 40) as usize);
        }
        let _ = import_tabular_files(&package);
    }
}

#[test]
fn packages_of_too_many_records_are_refused() {
    let mut csv = String::from("id\n");
    csv.push_str(&"x\n".repeat(hsds::MAX_RECORDS + 1));
    let error = csv_error(&[("organizations.csv", &csv)]);
    let last_line = hsds::MAX_RECORDS + 2;
    assert_eq!(
        error,
        format!(
            "organizations.csv:{last_line}: makes the package longer than 1000000 rows; larger packages are not accepted"
        )
    );
    let mut json = String::from("[");
    json.push_str(&"{},".repeat(hsds::MAX_RECORDS));
    json.push_str("{}]");
    let error = json_error(&json);
    assert!(
        error.ends_with("$: has more than 1000000 objects; larger packages are not accepted"),
        "{}",
        error.lines().last().unwrap_or_default()
    );
}
