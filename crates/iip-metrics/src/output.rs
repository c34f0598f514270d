//! Text forms of a [`Report`] shared by every output (CLI, API): CSV with a fixed column order.

use std::io::Write;

use iip_domain::csv_safe::text_field;

use crate::{MetricRow, Report};

fn count(value: Option<u64>) -> String {
    value.map(|n| n.to_string()).unwrap_or_default()
}

/// `scope_id,metric[,<dimension>…],numerator,denominator,rate,suppressed[,value]`.
///
/// Without breakdowns and median metrics this is exactly the walking skeleton's contract:
/// `scope_id,metric,numerator,denominator,rate,suppressed`. Numerator and denominator are empty
/// when suppressed, the denominator is empty for counts, the rate is a decimal fraction. A
/// `value` column (median days) appears when a median metric is in the report.
///
/// Scope ids and group labels come from imports (an organization id may start with `-`), so
/// every text field goes through [`iip_domain::csv_safe::text_field`]: a leading formula
/// character gets an apostrophe, and a field holding a comma, quote or line break is quoted.
/// Numbers are written as they are.
pub fn write_csv(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    let with_value = report.rows.iter().any(|r| r.value.is_some());
    let mut header = vec!["scope_id".to_owned(), "metric".to_owned()];
    header.extend(report.by.iter().map(|d| text_field(d)));
    header.extend(["numerator", "denominator", "rate", "suppressed"].map(String::from));
    if with_value {
        header.push("value".into());
    }
    writeln!(out, "{}", header.join(","))?;
    for row in &report.rows {
        let mut fields = vec![text_field(&row.scope_id), text_field(&row.metric)];
        fields.extend(row.groups.0.iter().map(|(_, g)| text_field(g)));
        fields.push(count(row.numerator));
        fields.push(count(row.denominator));
        fields.push(rate_text(row));
        fields.push(row.suppressed.to_string());
        if with_value {
            fields.push(row.value.map(|v| v.to_string()).unwrap_or_default());
        }
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

/// The rate with four decimals, empty when not shown.
pub fn rate_text(row: &MetricRow) -> String {
    row.rate.map(|r| format!("{r:.4}")).unwrap_or_default()
}
