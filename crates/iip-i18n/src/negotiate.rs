//! `Accept-Language` negotiation (RFC 9110 §12.5.4) against the supported languages.

use crate::FALLBACK_LANGUAGE;

/// At most this many ranges are looked at; a longer header is cut (it would be absurd from a real browser).
const MAX_RANGES: usize = 32;

/// The best supported language for an `Accept-Language` value; [`FALLBACK_LANGUAGE`] when nothing matches.
///
/// Ranges are tried by descending q-value, ties in header order; `q=0` means "not this one". Each range is
/// matched on its primary subtag only, so `es-MX` gets Spanish and every Chinese variant (`zh`, `zh-CN`,
/// `zh-Hans-CN`, also `zh-TW`) gets Simplified Chinese, the only Chinese we have. `fil` (Filipino) gets Tagalog.
pub(crate) fn negotiate(accept_language: &str) -> &'static str {
    let mut ranges: Vec<(&str, u16)> = accept_language
        .split(',')
        .take(MAX_RANGES)
        .filter_map(parse_range)
        .filter(|&(_, q)| q > 0)
        .collect();
    // A stable sort keeps header order among equal q-values.
    ranges.sort_by_key(|&(_, q)| std::cmp::Reverse(q));
    ranges
        .into_iter()
        .find_map(|(range, _)| supported(range))
        .unwrap_or(FALLBACK_LANGUAGE)
}

/// `"vi;q=0.9"` -> `("vi", 900)`: the range and its weight in thousandths. `None` for an empty or malformed entry.
fn parse_range(entry: &str) -> Option<(&str, u16)> {
    let mut parts = entry.split(';');
    let range = parts.next()?.trim();
    if range.is_empty() {
        return None;
    }
    let mut q = 1000;
    for param in parts {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("q") {
            q = parse_q(value.trim())?;
        }
    }
    Some((range, q))
}

/// A q-value (`0`, `0.5`, `1.000`, …) in thousandths, `None` if malformed. Lenient: values above 1 count as 1.
fn parse_q(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if whole.is_empty()
        || whole.len() > 1
        || fraction.len() > 3
        || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u16 = whole.parse().ok()?;
    let mut thousandths = 0u16;
    for digit in fraction.bytes().chain(std::iter::repeat(b'0')).take(3) {
        thousandths = thousandths * 10 + u16::from(digit - b'0');
    }
    Some((whole * 1000 + thousandths).min(1000))
}

/// The supported language for one range, by its primary subtag (two- or three-letter codes).
fn supported(range: &str) -> Option<&'static str> {
    let primary = range.split(['-', '_']).next()?.to_ascii_lowercase();
    match primary.as_str() {
        "en" | "eng" => Some("en"),
        "es" | "spa" => Some("es"),
        "vi" | "vie" => Some("vi"),
        "zh" | "zho" | "chi" | "cmn" => Some("zh-CN"),
        "tl" | "tgl" | "fil" => Some("tl"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        let cases = [
            ("vi-VN,vi;q=0.9,en;q=0.8", "vi"),
            ("zh-Hans-CN", "zh-CN"),
            ("zh-CN", "zh-CN"),
            ("zh", "zh-CN"),
            ("zh-TW,zh;q=0.9", "zh-CN"),
            ("fil", "tl"),
            ("fil-PH, en;q=0.5", "tl"),
            ("tl", "tl"),
            ("es-MX,es;q=0.9", "es"),
            ("ES", "es"),
            ("en-US,en;q=0.9", "en"),
            ("en;q=0.1, vi;q=0.9", "vi"),
            ("en;q=0.1,vi;q=0.9,es;q=0.95", "es"),
            ("fr-FR,fr;q=0.9,es;q=0.5", "es"),
            ("de;q=1, vi;q=0.2, en;q=0.1", "vi"),
            // Equal weights keep header order.
            ("tl;q=0.8, es;q=0.8", "tl"),
            // q=0 means "not acceptable".
            ("vi;q=0, es;q=0.1", "es"),
            ("vi;q=0", "en"),
            // Nothing matches, or nothing usable.
            ("", "en"),
            ("   ", "en"),
            ("*", "en"),
            ("fr, de", "en"),
            (",,;;==", "en"),
            ("vi;q=abc, es", "es"),
            ("vi;q=0.12345, es", "es"),
            ("vi;q, es;q=0.5", "es"),
            ("vi;level=1;q=0.7, en;q=0.6", "vi"),
            ("vi;Q=0.9, en;q=0.8", "vi"),
        ];
        for (header, want) in cases {
            assert_eq!(negotiate(header), want, "{header:?}");
        }
    }

    #[test]
    fn q_values() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.0"), Some(1000));
        assert_eq!(parse_q("0.9"), Some(900));
        assert_eq!(parse_q("0.05"), Some(50));
        assert_eq!(parse_q("0.001"), Some(1));
        assert_eq!(parse_q("0"), Some(0));
        assert_eq!(parse_q("0."), Some(0));
        assert_eq!(parse_q("2"), Some(1000));
        assert_eq!(parse_q(""), None);
        assert_eq!(parse_q(".5"), None);
        assert_eq!(parse_q("-1"), None);
        assert_eq!(parse_q("10"), None);
    }

    #[test]
    fn long_headers_are_cut_not_slow() {
        let header = format!("{}vi", "xx,".repeat(10_000));
        assert_eq!(negotiate(&header), "en");
    }
}
