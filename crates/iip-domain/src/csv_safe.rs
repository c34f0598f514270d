//! Spreadsheet-formula neutralisation of exported cells (CSV injection, OWASP).
//!
//! A spreadsheet opening a CSV file runs a cell that starts with `=`, `+`, `-` or `@` (and, in
//! some, a tab or a carriage return) as a formula: `=HYPERLINK("http://x","y")` in an
//! organization's name becomes a live link, `@SUM(1)` a computation. Every CSV the system
//! writes passes its cells through this module, whatever crate writes it:
//!
//! - a **text** cell (a name, a label, an id, a sentence) that starts with one of those
//!   characters gets a leading apostrophe, so the spreadsheet shows it as the text it is — even
//!   `-2`, which as a name must not turn into the number −2 ([`text`]);
//! - a **number** the program formats itself (counts, rates, money) is written as it is and
//!   never passes through here: `-3.5` stays a number;
//! - a cell whose column may hold either (a rejected row echoed back as it was sent) keeps a
//!   plain decimal number such as `-3.5` or `+2` as it is and neutralises anything else that
//!   starts with a trigger ([`cell`]).
//!
//! [`quote`] adds RFC 4180 quoting for writers that build lines by hand; writers using the
//! `csv` crate get the quoting from it. Pure string functions: no I/O, no CSV parsing.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula when they come first.
pub const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `value` starts with a formula trigger.
pub fn starts_with_trigger(value: &str) -> bool {
    value.starts_with(TRIGGERS)
}

/// Whether `value` is a plain decimal number: an optional sign, digits, an optional fraction
/// (`-3.5`, `+2`, `-.25`, `10`). No exponent, no spaces, no thousands separators.
pub fn is_plain_number(value: &str) -> bool {
    let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match fraction {
        None => !whole.is_empty() && all_digits(whole),
        Some(fraction) => !(whole.is_empty() && fraction.is_empty()) && all_digits(whole) && all_digits(fraction),
    }
}

/// A text cell: a leading apostrophe when it starts with a formula trigger.
pub fn text(value: &str) -> Cow<'_, str> {
    if starts_with_trigger(value) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A cell that may be a number or text: a plain decimal number stays as it is (`-3.5`),
/// anything else is a [`text`] cell.
pub fn cell(value: &str) -> Cow<'_, str> {
    if is_plain_number(value) {
        Cow::Borrowed(value)
    } else {
        text(value)
    }
}

/// RFC 4180: quoted (inner quotes doubled) when the value holds a comma, a quote or a line break.
pub fn quote(value: &str) -> Cow<'_, str> {
    if value.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(value)
    }
}

/// A text cell ready for a hand-written CSV line: neutralised, then quoted when needed.
pub fn text_field(value: &str) -> String {
    quote(&text(value)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trigger_is_neutralised_in_text() {
        for (raw, expected) in [
            ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
            ("+cmd", "'+cmd"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-2", "'-2"),
        ] {
            assert_eq!(text(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for raw in [
            "",
            "Fremont",
            "south-bay",
            "a=b",
            "1+1",
            " =1",
            "'quoted",
            "x@y.org",
            "Año",
        ] {
            assert!(matches!(text(raw), Cow::Borrowed(_)), "{raw:?}");
            assert_eq!(cell(raw), raw);
        }
    }

    #[test]
    fn numbers_stay_numbers_in_cells_that_may_hold_them() {
        for number in ["-3.5", "+2", "-0.25", "-.5", "10", "0", "-100"] {
            assert!(is_plain_number(number), "{number}");
            assert_eq!(cell(number), number);
        }
        for not_number in [
            "-", "+", "-.", "-1e3", "-1,5", "- 3", "-3.5.1", "-0x10", "+1-1", "-3.5\t", "-inf", "-NaN",
        ] {
            assert!(!is_plain_number(not_number), "{not_number}");
            assert_eq!(cell(not_number), format!("'{not_number}"));
        }
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("@SUM(1)"), "'@SUM(1)");
    }

    #[test]
    fn quoting_follows_rfc_4180() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines"), "\"two\nlines\"");
        assert_eq!(
            text_field("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(text_field("-2"), "'-2");
    }
}
