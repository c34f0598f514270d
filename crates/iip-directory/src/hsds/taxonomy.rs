//! The IIP taxonomies HSDS attributes point to: the framework's integration elements, and the
//! directory's own terms for what HSDS 3 has no field for (served regardless of immigration
//! status, our ids, sector and level). Import also reads foreign terms that name an element.

use std::sync::OnceLock;

use super::uuid::hsds_id;

/// One of our taxonomies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taxonomy {
    /// Key of its deterministic HSDS id.
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub version: &'static str,
}

impl Taxonomy {
    pub fn id(&self) -> String {
        hsds_id("taxonomy", self.key)
    }
}

pub const ELEMENTS_TAXONOMY: Taxonomy = Taxonomy {
    key: "elements",
    name: "IIP integration elements",
    description: "The eight elements of immigrant integration of the IIP framework; a service is \
                  tagged with each element it serves.",
    version: "1",
};

pub const DIRECTORY_TAXONOMY: Taxonomy = Taxonomy {
    key: "directory",
    name: "IIP directory attributes",
    description: "Facts the IIP directory keeps that HSDS 3 has no field for; an attribute's value \
                  carries the fact where it has one.",
    version: "1",
};

/// The framework's elements, id and English name (`framework/iip.toml`; a test keeps them equal).
pub const ELEMENTS: &[(&str, &str)] = &[
    ("english", "English language proficiency"),
    ("education", "Education and training (adults and their children)"),
    ("economic", "Economic security"),
    ("credentials", "Credentials and residency"),
    ("health", "Health and well-being"),
    ("civic", "Civic engagement"),
    ("navigation", "Navigating systems"),
    ("social", "Social connections and belonging"),
];

/// Served regardless of immigration status (a service attribute, no value).
pub const REGARDLESS_OF_STATUS: &str = "iip_regardless_of_status";
/// Our `service_id` (a service attribute; the value is the id).
pub const SERVICE_ID: &str = "iip_service_id";
/// The organization's sector code (an organization attribute; the value is the code).
pub const SECTOR: &str = "iip_sector";
/// The organization's level code (an organization attribute; the value is the code).
pub const LEVEL: &str = "iip_level";
/// Where the organization is (an organization attribute; the value is the city or county).
pub const AREA: &str = "iip_area";
/// One area the organization serves (an organization attribute, one per area).
pub const AREA_SERVED: &str = "iip_area_served";

/// The directory terms: code, name, description.
pub const DIRECTORY_TERMS: &[(&str, &str, &str)] = &[
    (
        REGARDLESS_OF_STATUS,
        "Served regardless of immigration status",
        "The service is open to people whatever their immigration status.",
    ),
    (SERVICE_ID, "IIP service id", "The value is the service's id in IIP."),
    (SECTOR, "IIP sector", "The value is the organization's sector in IIP."),
    (
        LEVEL,
        "IIP level",
        "The value is the level of government or territory the organization works at.",
    ),
    (
        AREA,
        "IIP area",
        "The value is the city or county where the organization is.",
    ),
    (
        AREA_SERVED,
        "IIP area served",
        "The value is a city, county or ZIP code the organization serves.",
    ),
];

/// A taxonomy term as HSDS writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub taxonomy: Taxonomy,
}

/// The term of framework element `element`; elements the built-in list does not know (a
/// framework loaded from another file) get their id as name.
pub fn element_term(element: &str) -> Term {
    let name = ELEMENTS
        .iter()
        .find(|(id, _)| *id == element)
        .map_or(element, |(_, name)| *name);
    Term {
        id: hsds_id("taxonomy_term", &format!("element/{element}")),
        code: element.to_owned(),
        name: name.to_owned(),
        description: format!("Serves the IIP integration element \"{name}\" ({element})."),
        taxonomy: ELEMENTS_TAXONOMY,
    }
}

/// The directory term of `code`, one of [`DIRECTORY_TERMS`].
pub fn directory_term(code: &'static str) -> Term {
    let (name, description) = DIRECTORY_TERMS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or((code, ""), |(_, name, description)| (*name, *description));
    Term {
        id: hsds_id("taxonomy_term", &format!("directory/{code}")),
        code: code.to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        taxonomy: DIRECTORY_TAXONOMY,
    }
}

/// Every term of the built-in taxonomies.
pub fn builtin_terms() -> Vec<Term> {
    ELEMENTS
        .iter()
        .map(|(id, _)| element_term(id))
        .chain(DIRECTORY_TERMS.iter().map(|(code, _, _)| directory_term(code)))
        .collect()
}

/// What an attribute's term means to IIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    Element(String),
    RegardlessOfStatus,
    ServiceId,
    Sector,
    Level,
    Area,
    AreaServed,
}

/// What import knows of a term.
#[derive(Debug, Clone, Copy, Default)]
pub struct TermFacts<'a> {
    pub id: &'a str,
    pub code: Option<&'a str>,
    pub name: Option<&'a str>,
    pub taxonomy_id: Option<&'a str>,
    /// The taxonomy's name (`taxonomy_term.taxonomy`).
    pub taxonomy: Option<&'a str>,
}

/// What a term means: ours by id or by taxonomy and code; any other whose code or name is an
/// element id or English element name, or a directory code (case-insensitive).
pub fn meaning(term: TermFacts<'_>) -> Option<Meaning> {
    if let Some(known) = meaning_of_builtin_id(term.id) {
        return Some(known);
    }
    let in_elements_taxonomy = term.taxonomy_id == Some(ELEMENTS_TAXONOMY.id().as_str())
        || term
            .taxonomy
            .is_some_and(|t| t.trim().eq_ignore_ascii_case(ELEMENTS_TAXONOMY.name));
    if in_elements_taxonomy && let Some(code) = term.code.map(str::trim).filter(|c| is_element_id(c)) {
        return Some(Meaning::Element(code.to_ascii_lowercase()));
    }
    [term.code, term.name].into_iter().flatten().find_map(meaning_of_word)
}

/// The meaning of one of our own term ids, which a package may carry without the term itself.
pub fn meaning_of_builtin_id(id: &str) -> Option<Meaning> {
    static BUILTIN: OnceLock<Vec<(String, Meaning)>> = OnceLock::new();
    let builtin = BUILTIN.get_or_init(|| {
        builtin_terms()
            .into_iter()
            .filter_map(|term| Some((term.id, meaning_of_word(&term.code)?)))
            .collect()
    });
    let id = id.trim();
    builtin
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(id))
        .map(|(_, meaning)| meaning.clone())
}

fn meaning_of_word(word: &str) -> Option<Meaning> {
    let word = word.trim();
    if let Some((id, _)) = ELEMENTS
        .iter()
        .find(|(id, name)| id.eq_ignore_ascii_case(word) || name.eq_ignore_ascii_case(word))
    {
        return Some(Meaning::Element((*id).to_owned()));
    }
    let directory = [
        (REGARDLESS_OF_STATUS, Meaning::RegardlessOfStatus),
        (SERVICE_ID, Meaning::ServiceId),
        (SECTOR, Meaning::Sector),
        (LEVEL, Meaning::Level),
        (AREA, Meaning::Area),
        (AREA_SERVED, Meaning::AreaServed),
    ];
    directory
        .into_iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(word))
        .map(|(_, meaning)| meaning)
}

/// Element ids are short lower-case words (`english`, `civic`), as the framework's loader checks.
fn is_element_id(code: &str) -> bool {
    !code.is_empty() && code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_terms_and_foreign_names() {
        let ours = element_term("health");
        assert_eq!(
            meaning(TermFacts {
                id: &ours.id,
                ..TermFacts::default()
            }),
            Some(Meaning::Element("health".into()))
        );
        let foreign = |code, name| TermFacts {
            id: "x",
            code,
            name,
            ..TermFacts::default()
        };
        assert_eq!(
            meaning(foreign(None, Some("Civic"))),
            Some(Meaning::Element("civic".into()))
        );
        assert_eq!(
            meaning(foreign(Some("ECONOMIC"), None)),
            Some(Meaning::Element("economic".into()))
        );
        assert_eq!(
            meaning(foreign(None, Some("health and well-being"))),
            Some(Meaning::Element("health".into()))
        );
        assert_eq!(
            meaning(foreign(Some("IIP_Regardless_Of_Status"), None)),
            Some(Meaning::RegardlessOfStatus)
        );
        assert_eq!(meaning(foreign(Some("food"), Some("Food pantry"))), None);
        let custom = TermFacts {
            id: "y",
            code: Some("housing"),
            taxonomy: Some("IIP integration elements"),
            ..TermFacts::default()
        };
        assert_eq!(meaning(custom), Some(Meaning::Element("housing".into())));
    }
}
