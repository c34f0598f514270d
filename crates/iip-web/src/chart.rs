//! Hand-written SVG bar charts: accessible (`role="img"`, title, description), no scripts,
//! and always shown beside a table with the same numbers.

use std::fmt::Write;

pub struct Bar {
    pub label: String,
    /// A fraction in 0..=1, or `None` when suppressed or undefined.
    pub value: Option<f64>,
}

const WIDTH: f64 = 760.0;
const LABEL_WIDTH: f64 = 340.0;
const ROW: f64 = 28.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Renders the chart as an inline SVG string (already escaped; safe to embed).
pub fn bar_chart(title: &str, description: &str, bars: &[Bar]) -> String {
    bar_chart_with_id("chart", title, description, bars)
}

/// The same, with its own element ids, for a second chart on a page.
pub fn bar_chart_with_id(id: &str, title: &str, description: &str, bars: &[Bar]) -> String {
    let height = ROW * bars.len() as f64 + 10.0;
    let plot = WIDTH - LABEL_WIDTH - 60.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" class=\"chart\"><title id=\"{id}-title\">{}</title>\
         <desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(description)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = i as f64 * ROW + 5.0;
        let _ = write!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\" class=\"chart-label\">{}</text>",
            LABEL_WIDTH - 8.0,
            y + 17.0,
            escape(&bar.label)
        );
        match bar.value {
            Some(value) => {
                let width = (value.clamp(0.0, 1.0) * plot).max(1.0);
                let _ = write!(
                    svg,
                    "<rect x=\"{LABEL_WIDTH}\" y=\"{:.0}\" width=\"{width:.1}\" height=\"{:.0}\" class=\"chart-bar\"/>\
                     <text x=\"{:.1}\" y=\"{:.0}\" class=\"chart-value\">{:.1}%</text>",
                    y + 3.0,
                    ROW - 8.0,
                    LABEL_WIDTH + width + 6.0,
                    y + 17.0,
                    value * 100.0
                );
            }
            None => {
                let _ = write!(
                    svg,
                    "<text x=\"{:.0}\" y=\"{:.0}\" class=\"chart-suppressed\">suppressed</text>",
                    LABEL_WIDTH + 6.0,
                    y + 17.0
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One unit's change in cents, for a diverging chart.
pub struct Change {
    pub label: String,
    pub cents: i64,
}

/// A diverging bar chart of changes (gains right of the axis, losses left), in dollars.
pub fn change_chart(title: &str, description: &str, changes: &[Change]) -> String {
    let height = ROW * changes.len() as f64 + 10.0;
    let plot = WIDTH - LABEL_WIDTH - 20.0;
    let axis = LABEL_WIDTH + plot / 2.0;
    let largest = changes.iter().map(|c| c.cents.unsigned_abs()).max().unwrap_or(0).max(1) as f64;
    // Half the plot for each side, less room for the value's text.
    let half = plot / 2.0 - 90.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-labelledby=\"chart-title chart-desc\" class=\"chart\"><title id=\"chart-title\">{}</title>\
         <desc id=\"chart-desc\">{}</desc>\
         <line x1=\"{axis:.1}\" x2=\"{axis:.1}\" y1=\"0\" y2=\"{height:.0}\" class=\"chart-axis\"/>",
        escape(title),
        escape(description)
    );
    for (i, change) in changes.iter().enumerate() {
        let y = i as f64 * ROW + 5.0;
        let width = (change.cents.unsigned_abs() as f64 / largest * half).max(1.0);
        let (x, text_x, anchor, class) = if change.cents >= 0 {
            (axis, axis + width + 6.0, "start", "chart-bar")
        } else {
            (axis - width, axis - width - 6.0, "end", "chart-bar chart-loss")
        };
        let sign = if change.cents > 0 {
            "+"
        } else if change.cents < 0 {
            "-"
        } else {
            ""
        };
        let _ = write!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\" class=\"chart-label\">{}</text>\
             <rect x=\"{x:.1}\" y=\"{:.0}\" width=\"{width:.1}\" height=\"{:.0}\" class=\"{class}\"/>\
             <text x=\"{text_x:.1}\" y=\"{:.0}\" text-anchor=\"{anchor}\" class=\"chart-value\">{sign}${}</text>",
            LABEL_WIDTH - 8.0,
            y + 17.0,
            escape(&change.label),
            y + 3.0,
            ROW - 8.0,
            y + 17.0,
            thousands(change.cents.unsigned_abs() / 100),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Whole dollars with thousands separators: 1234567 → "1,234,567".
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One square of a heat map: its shade (0 = no gap … 4 = the largest) and its label.
pub struct HeatSquare {
    pub shade: u8,
    pub label: String,
}

/// A heat map of areas (rows) by elements (columns); each square carries its number as text,
/// so the figure reads without colour.
pub fn heat_map(title: &str, description: &str, columns: &[String], rows: &[(String, Vec<HeatSquare>)]) -> String {
    const LABEL: f64 = 170.0;
    const CELL_W: f64 = 72.0;
    const CELL_H: f64 = 30.0;
    const HEAD: f64 = 56.0;
    let width = LABEL + CELL_W * columns.len() as f64 + 4.0;
    let height = HEAD + CELL_H * rows.len() as f64 + 4.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" \
         aria-labelledby=\"heat-title heat-desc\" class=\"chart heat\"><title id=\"heat-title\">{}</title>\
         <desc id=\"heat-desc\">{}</desc>",
        escape(title),
        escape(description)
    );
    for (c, column) in columns.iter().enumerate() {
        let x = LABEL + CELL_W * c as f64 + CELL_W / 2.0;
        let _ = write!(
            svg,
            "<text x=\"{x:.0}\" y=\"{:.0}\" text-anchor=\"middle\" class=\"chart-label heat-head\">{}</text>",
            HEAD - 10.0,
            escape(column)
        );
    }
    for (r, (area, squares)) in rows.iter().enumerate() {
        let y = HEAD + CELL_H * r as f64;
        let _ = write!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\" class=\"chart-label\">{}</text>",
            LABEL - 8.0,
            y + 20.0,
            escape(area)
        );
        for (c, square) in squares.iter().enumerate() {
            let x = LABEL + CELL_W * c as f64;
            let _ = write!(
                svg,
                "<rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{:.0}\" height=\"{:.0}\" class=\"heat-{}\"/>\
                 <text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" class=\"chart-value heat-text-{}\">{}</text>",
                CELL_W - 2.0,
                CELL_H - 2.0,
                square.shade.min(4),
                x + CELL_W / 2.0,
                y + 20.0,
                u8::from(square.shade >= 3),
                escape(&square.label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_and_suppressed_values_are_not_drawn() {
        let svg = bar_chart(
            "T <x>",
            "D",
            &[
                Bar {
                    label: "A & B".into(),
                    value: Some(0.5),
                },
                Bar {
                    label: "C".into(),
                    value: None,
                },
            ],
        );
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title id=\"chart-title\">T &lt;x&gt;</title>"));
        assert!(svg.contains("A &amp; B"));
        assert!(svg.contains("width=\"180.0\""), "half of the 360-unit plot: {svg}");
        assert_eq!(svg.matches("<rect").count(), 1, "a suppressed bar draws no rectangle");
        assert!(svg.contains("suppressed"));
    }

    #[test]
    fn changes_diverge_from_the_axis_and_scale_to_the_largest() {
        let svg = change_chart(
            "T",
            "D",
            &[
                Change {
                    label: "Gains".into(),
                    cents: 20_000_000,
                },
                Change {
                    label: "Loses".into(),
                    cents: -10_000_000,
                },
            ],
        );
        // Plot 400 wide, axis at 540, half 110: the gain is 110 wide from the axis, the loss
        // 55 wide ending at it.
        assert!(svg.contains("<rect x=\"540.0\" y=\"8\" width=\"110.0\""), "{svg}");
        assert!(svg.contains("<rect x=\"485.0\" y=\"36\" width=\"55.0\""), "{svg}");
        assert!(
            svg.contains(">+$200,000</text>") && svg.contains(">-$100,000</text>"),
            "{svg}"
        );
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
    }
}
