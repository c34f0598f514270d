//! Arbitrary bytes through both HSDS 3 importers: as a JSON document, and as one file of a
//! tabular package (the first byte picks the file) beside a valid organizations.csv. Each must
//! answer with a directory or its errors, never panic.
#![no_main]

use iip_directory::hsds::{import_json, import_tabular_files};
use libfuzzer_sys::fuzz_target;

/// The tabular files import reads, and one it only recognizes.
const FILES: &[&str] = &[
    "organizations.csv",
    "organization_identifiers.csv",
    "services.csv",
    "locations.csv",
    "addresses.csv",
    "service_at_location.csv",
    "languages.csv",
    "taxonomy_terms.csv",
    "attributes.csv",
    "cost_options.csv",
    "schedules.csv",
    "service_areas.csv",
    "phones.csv",
];

const ORGANIZATIONS: &[u8] = b"id,name,description\no1,Org,d\n";

fuzz_target!(|data: &[u8]| {
    let _ = import_json(data);
    let Some((&pick, content)) = data.split_first() else {
        return;
    };
    let file = FILES[usize::from(pick) % FILES.len()];
    let mut files: Vec<(&str, &[u8])> = vec![(file, content)];
    if file != "organizations.csv" {
        files.push(("organizations.csv", ORGANIZATIONS));
    }
    let _ = import_tabular_files(&files);
});
