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
    let height = ROW * bars.len() as f64 + 10.0;
    let plot = WIDTH - LABEL_WIDTH - 60.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-labelledby=\"chart-title chart-desc\" class=\"chart\"><title id=\"chart-title\">{}</title>\
         <desc id=\"chart-desc\">{}</desc>",
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
}
