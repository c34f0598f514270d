//! Small-cell suppression: a count from 1 to 9 is never shown; a rate is not shown when its
//! numerator or denominator is suppressed. Zero is shown.

use crate::MetricRow;

pub const SUPPRESSION_THRESHOLD: u64 = 10;

fn is_small(count: u64) -> bool {
    (1..SUPPRESSION_THRESHOLD).contains(&count)
}

/// Builds the published row for a raw count (`denominator: None`) or rate.
pub fn suppress(scope_id: &str, metric: &str, numerator: u64, denominator: Option<u64>) -> MetricRow {
    let suppressed = is_small(numerator) || denominator.is_some_and(is_small);
    let (numerator, denominator, rate) = if suppressed {
        (None, None, None)
    } else {
        let rate = denominator.filter(|d| *d > 0).map(|d| numerator as f64 / d as f64);
        (Some(numerator), denominator, rate)
    };
    MetricRow {
        scope_id: scope_id.to_owned(),
        metric: metric.to_owned(),
        numerator,
        denominator,
        rate,
        suppressed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_one_to_nine_are_hidden_zero_and_ten_are_shown() {
        assert!(suppress("s", "m", 9, None).suppressed);
        assert_eq!(suppress("s", "m", 9, None).numerator, None);
        assert!(suppress("s", "m", 1, None).suppressed);
        assert_eq!(suppress("s", "m", 0, None).numerator, Some(0));
        assert_eq!(suppress("s", "m", 10, None).numerator, Some(10));
        assert!(!suppress("s", "m", 10, None).suppressed);
    }

    #[test]
    fn a_rate_hides_when_either_side_is_small() {
        let row = suppress("s", "m", 5, Some(40));
        assert!(row.suppressed);
        assert_eq!((row.numerator, row.denominator, row.rate), (None, None, None));
        let row = suppress("s", "m", 0, Some(9));
        assert!(
            row.suppressed,
            "a small denominator hides the rate even when the numerator is 0"
        );
        let row = suppress("s", "m", 10, Some(40));
        assert_eq!(
            (row.numerator, row.denominator, row.rate),
            (Some(10), Some(40), Some(0.25))
        );
        let row = suppress("s", "m", 0, Some(0));
        assert_eq!(
            (row.suppressed, row.rate),
            (false, None),
            "0 of 0 is shown, with no rate"
        );
    }
}
