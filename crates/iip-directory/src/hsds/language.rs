//! Language codes from other directories, read as the ISO 639-1 codes the directory keeps.
//! HSDS 3 `language.code` is free text; in practice it is ISO 639-1 (`es`), a BCP 47 tag
//! (`es-MX`, `zh-Hant`), an ISO 639-2/3 code (`spa`), or missing with only an English name.

/// ISO 639-1, ISO 639-2/T (= 639-3), ISO 639-2/B where it differs, English name: the languages
/// most spoken by immigrants to the US and the ones IIP's questionnaire offers.
const LANGUAGES: &[(&str, &str, &str, &str)] = &[
    ("am", "amh", "", "Amharic"),
    ("ar", "ara", "", "Arabic"),
    ("bn", "ben", "", "Bengali"),
    ("de", "deu", "ger", "German"),
    ("el", "ell", "gre", "Greek"),
    ("en", "eng", "", "English"),
    ("es", "spa", "", "Spanish"),
    ("fa", "fas", "per", "Persian"),
    ("fr", "fra", "fre", "French"),
    ("gu", "guj", "", "Gujarati"),
    ("he", "heb", "", "Hebrew"),
    ("hi", "hin", "", "Hindi"),
    ("ht", "hat", "", "Haitian Creole"),
    ("hy", "hye", "arm", "Armenian"),
    ("it", "ita", "", "Italian"),
    ("ja", "jpn", "", "Japanese"),
    ("km", "khm", "", "Khmer"),
    ("ko", "kor", "", "Korean"),
    ("lo", "lao", "", "Lao"),
    ("my", "mya", "bur", "Burmese"),
    ("ne", "nep", "", "Nepali"),
    ("pa", "pan", "", "Punjabi"),
    ("pl", "pol", "", "Polish"),
    ("ps", "pus", "", "Pashto"),
    ("pt", "por", "", "Portuguese"),
    ("ro", "ron", "rum", "Romanian"),
    ("ru", "rus", "", "Russian"),
    ("so", "som", "", "Somali"),
    ("sw", "swa", "", "Swahili"),
    ("ta", "tam", "", "Tamil"),
    ("te", "tel", "", "Telugu"),
    ("th", "tha", "", "Thai"),
    ("ti", "tir", "", "Tigrinya"),
    ("tl", "tgl", "", "Tagalog"),
    ("uk", "ukr", "", "Ukrainian"),
    ("ur", "urd", "", "Urdu"),
    ("vi", "vie", "", "Vietnamese"),
    ("zh", "zho", "chi", "Chinese"),
];

/// The English name of an ISO 639-1 code, when the table knows it.
pub fn english_name(code: &str) -> Option<&'static str> {
    LANGUAGES
        .iter()
        .find(|(iso1, ..)| *iso1 == code)
        .map(|(.., name)| *name)
}

/// The ISO 639-1 code of a language given by `code` or, without a usable code, by English
/// `name`; `None` when neither maps without guessing.
pub fn iso_639_1(code: Option<&str>, name: Option<&str>) -> Option<String> {
    code.and_then(from_code).or_else(|| name.and_then(from_name))
}

fn from_code(code: &str) -> Option<String> {
    // A BCP 47 tag's primary subtag is the language (`zh-Hant-TW` is Chinese).
    let primary = code.trim().split(['-', '_']).next().unwrap_or_default();
    if !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let primary = primary.to_ascii_lowercase();
    match primary.len() {
        2 => Some(primary),
        3 => LANGUAGES
            .iter()
            .find(|(_, t, b, _)| *t == primary || *b == primary)
            .map(|(iso1, ..)| (*iso1).to_owned()),
        _ => None,
    }
}

fn from_name(name: &str) -> Option<String> {
    let name = name.trim();
    LANGUAGES
        .iter()
        .find(|(.., english)| english.eq_ignore_ascii_case(name))
        .map(|(iso1, ..)| (*iso1).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_what_is_trivially_mappable() {
        let code = |c: &str| iso_639_1(Some(c), None);
        assert_eq!(code("es").as_deref(), Some("es"));
        assert_eq!(code("EN").as_deref(), Some("en"));
        assert_eq!(code("zh-Hant").as_deref(), Some("zh"));
        assert_eq!(code("pt_BR").as_deref(), Some("pt"));
        assert_eq!(code("spa").as_deref(), Some("es"));
        assert_eq!(code("chi").as_deref(), Some("zh"));
        assert_eq!(iso_639_1(None, Some("tagalog")).as_deref(), Some("tl"));
        assert_eq!(iso_639_1(Some("x1"), Some("Vietnamese")).as_deref(), Some("vi"));
        assert_eq!(code("yue"), None, "Cantonese has no ISO 639-1 code of its own");
        assert_eq!(code("english"), None);
        assert_eq!(code(""), None);
        assert_eq!(iso_639_1(None, Some("Klingon")), None);
        assert_eq!(english_name("tl"), Some("Tagalog"));
    }
}
