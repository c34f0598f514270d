//! Text forms of a [`Report`] shared by every output (CLI, API): CSV with a fixed column order.

use std::io::Write;

use crate::{MetricRow, Report};

fn count(value: Option<u64>) -> String {
    value.map(|n| n.to_string()).unwrap_or_default()
}

/// `scope_id,metric[,<dimension>…],numerator,denominator,rate,suppressed[,value]`.
///
/// Without breakdowns and median metrics this is exactly the walking skeleton's contract:
/// `scope_id,metric,numerator,denominator,rate,suppressed`. Numerator and denominator are empty
/// when suppressed, the denominator is empty for counts, the rate is a decimal fraction. A
/// `value` column (median days) appears when a median metric is in the report. Every field is
/// an id or a number, so nothing needs quoting.
pub fn write_csv(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    let with_value = report.rows.iter().any(|r| r.value.is_some());
    let mut header = vec!["scope_id".to_owned(), "metric".to_owned()];
    header.extend(report.by.iter().cloned());
    header.extend(["numerator", "denominator", "rate", "suppressed"].map(String::from));
    if with_value {
        header.push("value".into());
    }
    writeln!(out, "{}", header.join(","))?;
    for row in &report.rows {
        let mut fields = vec![row.scope_id.clone(), row.metric.clone()];
        fields.extend(row.groups.0.iter().map(|(_, g)| g.clone()));
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
