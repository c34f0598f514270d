//! Names as encoded: decomposed (NFKD), marks stripped, lower case, letters and spaces only.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// "José-María  O'Neill" → "jose maria oneill".
pub fn normalize_name(name: &str) -> String {
    let folded: String = name
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == '-' || c.is_whitespace() { ' ' } else { c })
        .filter(|c| c.is_alphanumeric() || *c == ' ')
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_case_and_punctuation_go() {
        assert_eq!(normalize_name("José-María  O'Neill"), "jose maria oneill");
        assert_eq!(normalize_name("NGUYỄN Văn"), "nguyen van");
        assert_eq!(normalize_name("  "), "");
    }
}
