//! Translations for the participant-facing self-assessment and a few shared UI strings, with
//! [Fluent](https://projectfluent.org/).
//!
//! The `.ftl` files under `locales/<code>/main.ftl` are built into the binary. [`Translations::load`] parses them
//! once (at server start); the result is `Send + Sync` and can sit in an `Arc` in shared state. Output is plain
//! text without Unicode isolation marks: escape it like any other text when putting it into HTML.
//!
//! The questionnaire (which questions exist, their order, the scoring) is in [`QUESTIONS`] and [`score`].

mod negotiate;
mod questionnaire;

pub use questionnaire::{ELEMENTS, MAX_ANSWER, QUESTIONS, Question, SCALE, ScoreError, Scores, score};

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
use unic_langid::LanguageIdentifier;

/// The supported languages: code (as used in URLs, forms and `lang` attributes) and name in that language.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", "English"),
    ("es", "Español"),
    ("vi", "Tiếng Việt"),
    ("zh-CN", "简体中文"),
    ("tl", "Tagalog"),
];

/// The language every lookup falls back to.
pub const FALLBACK_LANGUAGE: &str = "en";

/// One built-in Fluent file.
struct Source {
    code: &'static str,
    file: &'static str,
    text: &'static str,
}

macro_rules! source {
    ($code:literal) => {
        Source {
            code: $code,
            file: concat!("locales/", $code, "/main.ftl"),
            text: include_str!(concat!("../locales/", $code, "/main.ftl")),
        }
    };
}

/// Every built-in file, one per entry of [`LANGUAGES`], in the same order.
const SOURCES: &[Source] = &[
    source!("en"),
    source!("es"),
    source!("vi"),
    source!("zh-CN"),
    source!("tl"),
];

/// A built-in translation file could not be loaded. Names the file (relative to the crate) and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum I18nError {
    /// The Fluent parser rejected the file; `details` lists every error with its line.
    #[error("{file}: Fluent syntax error: {details}")]
    Parse { file: &'static str, details: String },
    /// The file parsed, but adding it to its bundle failed (e.g. a message defined twice).
    #[error("{file}: {details}")]
    Bundle { file: &'static str, details: String },
    /// The file's folder name is not a valid language identifier.
    #[error("{file}: {code:?} is not a valid language identifier: {details}")]
    Language {
        file: &'static str,
        code: &'static str,
        details: String,
    },
}

/// Every language's messages, parsed. Cheap to share (`Send + Sync`), not meant to be cloned.
pub struct Translations {
    /// `(code, bundle)` in [`LANGUAGES`] order; the first is English.
    bundles: Vec<(&'static str, FluentBundle<FluentResource>)>,
}

// Fails to compile if a future Fluent version stops being thread-safe.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Translations>();
};

impl std::fmt::Debug for Translations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Translations")
            .field(
                "languages",
                &self.bundles.iter().map(|(code, _)| *code).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Translations {
    /// Parses every built-in `.ftl` file. Fails (naming the file and the Fluent error) if any is invalid.
    pub fn load() -> Result<Self, I18nError> {
        load_from(SOURCES)
    }

    /// Whether `lang` is one of the supported language codes (ASCII case-insensitive: `zh-cn` counts).
    pub fn has(&self, lang: &str) -> bool {
        self.bundle(lang).is_some()
    }

    /// The message in `lang`, falling back to English; never panics; unknown ids return the id itself.
    ///
    /// `lang` must be a supported code (see [`LANGUAGES`]; use [`Translations::negotiate`] for a header value);
    /// any other value gets English.
    pub fn get(&self, lang: &str, id: &str) -> String {
        self.format(lang, id)
            .or_else(|| self.format(FALLBACK_LANGUAGE, id))
            .unwrap_or_else(|| id.to_owned())
    }

    /// Picks the best supported language from an `Accept-Language` header value, honouring q-values
    /// (e.g. `"vi-VN,vi;q=0.9,en;q=0.8"` -> `"vi"`; `"zh-Hans-CN"`, `"zh-CN"` or `"zh"` -> `"zh-CN"`;
    /// `"fil"` -> `"tl"`); `"en"` when nothing matches.
    pub fn negotiate(accept_language: &str) -> &'static str {
        negotiate::negotiate(accept_language)
    }

    fn bundle(&self, lang: &str) -> Option<&FluentBundle<FluentResource>> {
        self.bundles
            .iter()
            .find(|(code, _)| code.eq_ignore_ascii_case(lang))
            .map(|(_, bundle)| bundle)
    }

    /// The message `id` in exactly `lang`, if both exist and the message has a value.
    fn format(&self, lang: &str, id: &str) -> Option<String> {
        let bundle = self.bundle(lang)?;
        let pattern = bundle.get_message(id)?.value()?;
        // Our messages take no arguments, so resolver errors cannot happen; if one ever did, Fluent still
        // returns its best-effort text (with the faulty placeable shown as `{...}`), which beats failing a page.
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, None, &mut errors);
        Some(text.into_owned())
    }
}

/// The name of a supported language in that language, e.g. `"vi"` -> `"Tiếng Việt"`.
pub fn language_name(code: &str) -> Option<&'static str> {
    LANGUAGES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, name)| *name)
}

fn load_from(sources: &[Source]) -> Result<Translations, I18nError> {
    let mut bundles = Vec::with_capacity(sources.len());
    for source in sources {
        let resource = FluentResource::try_new(source.text.to_owned()).map_err(|(_, errors)| I18nError::Parse {
            file: source.file,
            details: errors
                .iter()
                .map(|e| format!("line {}: {e}", line_of(source.text, e.pos.start)))
                .collect::<Vec<_>>()
                .join("; "),
        })?;
        let langid: LanguageIdentifier = source.code.parse().map_err(|e| I18nError::Language {
            file: source.file,
            code: source.code,
            details: format!("{e}"),
        })?;
        let mut bundle = FluentBundle::new_concurrent(vec![langid]);
        bundle.set_use_isolating(false);
        bundle.add_resource(resource).map_err(|errors| I18nError::Bundle {
            file: source.file,
            details: errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "),
        })?;
        bundles.push((source.code, bundle));
    }
    Ok(Translations { bundles })
}

/// The 1-based line of byte offset `pos` in `text`.
fn line_of(text: &str, pos: usize) -> usize {
    let end = pos.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_syntax::ast;
    use std::collections::BTreeSet;

    fn load() -> Translations {
        Translations::load().expect("built-in translations load")
    }

    /// The message ids of one file, straight from the Fluent parser (not through a bundle).
    fn message_ids(source: &Source) -> BTreeSet<String> {
        let resource = fluent_syntax::parser::parse(source.text).expect("file parses");
        let mut ids = BTreeSet::new();
        for entry in &resource.body {
            match entry {
                ast::Entry::Message(message) => {
                    assert!(
                        message.value.is_some(),
                        "{}: {} has no value",
                        source.file,
                        message.id.name
                    );
                    assert!(
                        message.attributes.is_empty(),
                        "{}: {} has attributes",
                        source.file,
                        message.id.name
                    );
                    assert!(
                        ids.insert(message.id.name.to_owned()),
                        "{}: {} twice",
                        source.file,
                        message.id.name
                    );
                }
                ast::Entry::Term(term) => panic!("{}: unexpected term -{}", source.file, term.id.name),
                ast::Entry::Junk { content } => panic!("{}: junk {content:?}", source.file),
                ast::Entry::Comment(_) | ast::Entry::GroupComment(_) | ast::Entry::ResourceComment(_) => {}
            }
        }
        ids
    }

    fn english_ids() -> BTreeSet<String> {
        message_ids(&SOURCES[0])
    }

    #[test]
    fn sources_match_languages() {
        assert_eq!(SOURCES.len(), LANGUAGES.len());
        for (source, (code, _)) in SOURCES.iter().zip(LANGUAGES) {
            assert_eq!(source.code, *code);
        }
        assert_eq!(SOURCES[0].code, FALLBACK_LANGUAGE);
        let translations = load();
        for (code, _) in LANGUAGES {
            assert!(translations.has(code), "{code}");
        }
        assert!(translations.has("zh-cn"));
        assert!(!translations.has("fr"));
        assert!(!translations.has(""));
        assert_eq!(language_name("vi"), Some("Tiếng Việt"));
        assert_eq!(language_name("xx"), None);
    }

    #[test]
    fn every_language_has_exactly_the_english_ids() {
        let english = english_ids();
        assert!(english.len() > 30, "english has only {} messages", english.len());
        for source in &SOURCES[1..] {
            let ids = message_ids(source);
            let missing: Vec<_> = english.difference(&ids).collect();
            let extra: Vec<_> = ids.difference(&english).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", source.file);
            assert!(extra.is_empty(), "{} has ids English lacks: {extra:?}", source.file);
        }
    }

    #[test]
    fn no_message_is_empty_or_left_in_english() {
        let translations = load();
        let english = english_ids();
        for (code, _) in LANGUAGES {
            for id in &english {
                let text = translations.get(code, id);
                assert!(!text.trim().is_empty(), "{code}: {id} is empty");
                assert_ne!(&text, id, "{code}: {id} is missing");
                assert!(
                    !text.contains(['\u{2068}', '\u{2069}']),
                    "{code}: {id} has isolation marks"
                );
                if *code != FALLBACK_LANGUAGE {
                    assert_ne!(
                        text,
                        translations.get(FALLBACK_LANGUAGE, id),
                        "{code}: {id} is still English"
                    );
                }
            }
        }
    }

    #[test]
    fn questionnaire_ids_exist_everywhere() {
        let required: Vec<String> = QUESTIONS
            .iter()
            .map(|q| q.id.to_owned())
            .chain(ELEMENTS.iter().map(|e| format!("sa-element-{e}")))
            .chain(SCALE.iter().map(|s| (*s).to_owned()))
            .chain(
                [
                    "sa-title",
                    "sa-intro",
                    "sa-submit",
                    "sa-thanks",
                    "sa-language",
                    "sa-expired",
                    "sa-required",
                    "nav-skip",
                    "privacy-note",
                ]
                .map(str::to_owned),
            )
            .collect();
        for source in SOURCES {
            let ids = message_ids(source);
            for id in &required {
                assert!(ids.contains(id), "{} lacks {id}", source.file);
            }
        }
        for &element in ELEMENTS {
            let n = QUESTIONS.iter().filter(|q| q.element == element).count();
            assert!((2..=3).contains(&n), "{element} has {n} questions");
        }
    }

    #[test]
    fn get_falls_back_to_english_then_to_the_id() {
        let translations = load();
        assert_eq!(translations.get("en", "nav-skip"), "Skip to content");
        assert_eq!(translations.get("es", "nav-skip"), "Saltar al contenido");
        assert_eq!(translations.get("zh-cn", "sa-language"), "语言");
        assert_eq!(translations.get("fr", "nav-skip"), "Skip to content");
        assert_eq!(translations.get("", "sa-language"), "Language");
        assert_eq!(translations.get("es", "no-such-message"), "no-such-message");
        assert_eq!(translations.get("fr", "no-such-message"), "no-such-message");
        assert_eq!(translations.get("en", ""), "");
    }

    #[test]
    fn translations_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}
        let shared = std::sync::Arc::new(load());
        assert_send_sync(&shared);
        let handle = {
            let shared = std::sync::Arc::clone(&shared);
            std::thread::spawn(move || shared.get("vi", "sa-language"))
        };
        assert_eq!(handle.join().expect("thread"), "Ngôn ngữ");
    }

    #[test]
    fn parse_errors_name_the_file_and_line() {
        let broken = [Source {
            code: "en",
            file: "locales/en/main.ftl",
            text: "ok = fine\nbroken = { $\n",
        }];
        let err = load_from(&broken).expect_err("broken file");
        let message = err.to_string();
        assert!(message.starts_with("locales/en/main.ftl: "), "{message}");
        assert!(message.contains("line 2"), "{message}");

        let duplicate = [Source {
            code: "es",
            file: "locales/es/main.ftl",
            text: "a = uno\na = dos\n",
        }];
        let err = load_from(&duplicate).expect_err("duplicate message");
        assert!(
            matches!(
                err,
                I18nError::Bundle {
                    file: "locales/es/main.ftl",
                    ..
                }
            ),
            "{err}"
        );

        let bad_code = [Source {
            code: "not a language",
            file: "x.ftl",
            text: "a = b\n",
        }];
        assert!(matches!(load_from(&bad_code), Err(I18nError::Language { .. })));
    }
}
