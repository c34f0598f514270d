//! The integration framework as data (PRODUCT.md §3).
//!
//! A consortium edits `framework/iip.toml`; this crate loads it, checks it, and answers
//! questions such as "which element does this milestone belong to?". A broken file is refused
//! with an error naming the file and line.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The framework shipped with IIP.
pub const DEFAULT_SOURCE: &str = include_str!("../../../framework/iip.toml");
pub const DEFAULT_PATH: &str = "framework/iip.toml";

/// Languages every name and description must be given in.
pub const REQUIRED_LANGUAGES: &[&str] = &["en", "es"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameworkError {
    #[error("{path}:{line}: {message}")]
    Invalid { path: String, line: usize, message: String },
    #[error("{path}: cannot read: {message}")]
    Unreadable { path: String, message: String },
}

/// Text in several languages, keyed by ISO 639-1 code.
pub type Localized = BTreeMap<String, String>;

#[derive(Debug, Clone, Serialize)]
pub struct Framework {
    pub version: String,
    pub elements: Vec<Element>,
    #[serde(skip)]
    milestone_element: HashMap<String, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Element {
    pub id: String,
    pub name: Localized,
    pub description: Localized,
    pub indicators: Vec<Entry>,
    pub milestones: Vec<Entry>,
}

/// An indicator or a milestone.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    pub name: Localized,
    pub description: Localized,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    version: Spanned<String>,
    #[serde(rename = "element", default)]
    elements: Vec<RawElement>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawElement {
    id: Spanned<String>,
    name: Spanned<Localized>,
    description: Spanned<Localized>,
    #[serde(rename = "indicator", default)]
    indicators: Vec<RawEntry>,
    #[serde(rename = "milestone", default)]
    milestones: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: Spanned<String>,
    name: Spanned<Localized>,
    #[serde(default)]
    description: Option<Spanned<Localized>>,
}

impl Framework {
    /// The framework shipped with IIP. It is tested, so this cannot fail in a release.
    pub fn builtin() -> Result<Self, FrameworkError> {
        Self::parse(DEFAULT_SOURCE, DEFAULT_PATH)
    }

    pub fn load(path: &Path) -> Result<Self, FrameworkError> {
        let shown = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| FrameworkError::Unreadable {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        Self::parse(&source, &shown)
    }

    /// Parses and validates framework TOML; `path` is used only in error messages.
    pub fn parse(source: &str, path: &str) -> Result<Self, FrameworkError> {
        let at = |offset: usize, message: String| FrameworkError::Invalid {
            path: path.to_owned(),
            line: line_of(source, offset),
            message,
        };
        let raw: RawFramework = toml::from_str(source).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            at(offset, e.message().to_owned())
        })?;

        if raw.version.get_ref().trim().is_empty() {
            return Err(at(raw.version.span().start, "version must not be empty".into()));
        }
        if raw.elements.is_empty() {
            return Err(at(0, "the framework has no [[element]]".into()));
        }

        let mut seen = HashSet::new();
        let mut elements = Vec::with_capacity(raw.elements.len());
        let mut milestone_element = HashMap::new();
        for (index, element) in raw.elements.into_iter().enumerate() {
            let id = element.id.get_ref().clone();
            check_slug(&id).map_err(|m| at(element.id.span().start, format!("element id {id:?} {m}")))?;
            if !seen.insert(id.clone()) {
                return Err(at(element.id.span().start, format!("duplicate id {id:?}")));
            }
            check_languages(element.name.get_ref())
                .map_err(|m| at(element.name.span().start, format!("element {id:?} name {m}")))?;
            check_languages(element.description.get_ref()).map_err(|m| {
                at(
                    element.description.span().start,
                    format!("element {id:?} description {m}"),
                )
            })?;

            let mut entries = |raw: Vec<RawEntry>, kind: &str| -> Result<Vec<Entry>, FrameworkError> {
                let mut out = Vec::with_capacity(raw.len());
                for entry in raw {
                    let entry_id = entry.id.get_ref().clone();
                    let offset = entry.id.span().start;
                    let Some(local) = entry_id.strip_prefix(&format!("{id}.")) else {
                        return Err(at(offset, format!("{kind} id {entry_id:?} must start with \"{id}.\"")));
                    };
                    check_slug(local).map_err(|m| at(offset, format!("{kind} id {entry_id:?} {m}")))?;
                    if !seen.insert(entry_id.clone()) {
                        return Err(at(offset, format!("duplicate id {entry_id:?}")));
                    }
                    check_languages(entry.name.get_ref())
                        .map_err(|m| at(entry.name.span().start, format!("{kind} {entry_id:?} name {m}")))?;
                    out.push(Entry {
                        id: entry_id,
                        name: entry.name.into_inner(),
                        description: entry.description.map(Spanned::into_inner).unwrap_or_default(),
                    });
                }
                Ok(out)
            };
            let indicators = entries(element.indicators, "indicator")?;
            let milestones = entries(element.milestones, "milestone")?;
            for milestone in &milestones {
                milestone_element.insert(milestone.id.clone(), index);
            }
            elements.push(Element {
                id,
                name: element.name.into_inner(),
                description: element.description.into_inner(),
                indicators,
                milestones,
            });
        }
        Ok(Self {
            version: raw.version.into_inner(),
            elements,
            milestone_element,
        })
    }

    /// The element a milestone id belongs to, if the framework knows the milestone.
    pub fn element_of_milestone(&self, milestone_id: &str) -> Option<&Element> {
        self.milestone_element.get(milestone_id).map(|&i| &self.elements[i])
    }

    pub fn milestone(&self, milestone_id: &str) -> Option<&Entry> {
        self.element_of_milestone(milestone_id)?
            .milestones
            .iter()
            .find(|m| m.id == milestone_id)
    }

    pub fn element(&self, element_id: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.id == element_id)
    }

    pub fn element_ids(&self) -> impl Iterator<Item = &str> {
        self.elements.iter().map(|e| e.id.as_str())
    }
}

/// The text in `lang`, falling back to English.
pub fn localized<'a>(text: &'a Localized, lang: &str) -> &'a str {
    text.get(lang)
        .or_else(|| text.get("en"))
        .map(String::as_str)
        .unwrap_or("")
}

fn check_slug(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 48
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.as_bytes()[0].is_ascii_lowercase();
    if ok {
        Ok(())
    } else {
        Err("must be lower-case letters, digits and _ (starting with a letter)".into())
    }
}

fn check_languages(text: &Localized) -> Result<(), String> {
    for lang in REQUIRED_LANGUAGES {
        match text.get(*lang) {
            Some(s) if !s.trim().is_empty() => {}
            _ => return Err(format!("is missing its {lang:?} text")),
        }
    }
    Ok(())
}

fn line_of(source: &str, offset: usize) -> usize {
    let offset = offset.min(source.len());
    source.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORE: &[(&str, &[&str])] = &[
        ("english", &["english.efl_gain", "english.level_completed"]),
        (
            "education",
            &[
                "education.hse_earned",
                "education.postsecondary_transition",
                "education.child_enrolled",
            ],
        ),
        (
            "economic",
            &["economic.employed", "economic.wage_gain", "economic.financial_account"],
        ),
        (
            "credentials",
            &[
                "credentials.lpr_obtained",
                "credentials.naturalized",
                "credentials.work_authorization",
                "credentials.license_obtained",
            ],
        ),
        (
            "health",
            &["health.insurance_enrolled", "health.primary_care_connected"],
        ),
        (
            "civic",
            &["civic.voter_registered", "civic.volunteered", "civic.el_civics_coaap"],
        ),
        (
            "navigation",
            &["navigation.digital_literacy", "navigation.accessed_benefit"],
        ),
        ("social", &["social.community_group_joined", "social.mentor_matched"]),
    ];

    #[test]
    fn builtin_framework_has_the_eight_elements_and_core_milestones() {
        let framework = Framework::builtin().expect("shipped framework is valid");
        let ids: Vec<_> = framework.element_ids().collect();
        assert_eq!(ids, CORE.iter().map(|(e, _)| *e).collect::<Vec<_>>());
        for (element, milestones) in CORE {
            for milestone in *milestones {
                let found = framework.element_of_milestone(milestone).map(|e| e.id.as_str());
                assert_eq!(found, Some(*element), "{milestone}");
            }
            let element = framework.element(element).expect("present");
            assert!(!element.indicators.is_empty(), "{} has indicators", element.id);
            for lang in REQUIRED_LANGUAGES {
                assert!(element.name.contains_key(*lang));
            }
        }
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let source = "version = \"1\"\n[[element]]\nid = \"english\"\nname = { en = \"x\", es = \"y\" \n";
        let err = Framework::parse(source, "f.toml").expect_err("broken");
        let FrameworkError::Invalid { path, line, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(path, "f.toml");
        assert_eq!(*line, 4, "{err}");
    }

    #[test]
    fn semantic_errors_name_the_line() {
        let source = r#"version = "1"

[[element]]
id = "english"
name = { en = "English", es = "Inglés" }
description = { en = "d", es = "d" }

[[element.milestone]]
id = "civic.voted"
name = { en = "Voted", es = "Votó" }
"#;
        let err = Framework::parse(source, "f.toml").expect_err("wrong prefix");
        assert_eq!(err.to_string().split(':').nth(1), Some("9"), "{err}");
        assert!(err.to_string().contains("must start with \"english.\""), "{err}");
    }

    #[test]
    fn missing_spanish_and_duplicates_are_refused() {
        let missing = r#"version = "1"
[[element]]
id = "english"
name = { en = "English" }
description = { en = "d", es = "d" }
"#;
        let err = Framework::parse(missing, "f.toml").expect_err("no es");
        assert!(err.to_string().starts_with("f.toml:4:"), "{err}");
        assert!(err.to_string().contains("\"es\""), "{err}");

        let duplicate = r#"version = "1"
[[element]]
id = "english"
name = { en = "E", es = "I" }
description = { en = "d", es = "d" }
[[element]]
id = "english"
name = { en = "E", es = "I" }
description = { en = "d", es = "d" }
"#;
        let err = Framework::parse(duplicate, "f.toml").expect_err("duplicate");
        assert!(err.to_string().starts_with("f.toml:7:"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let source = "version = \"1\"\ncolour = 3\n";
        let err = Framework::parse(source, "f.toml").expect_err("unknown key");
        assert!(err.to_string().starts_with("f.toml:2:"), "{err}");
    }
}
