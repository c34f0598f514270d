//! Core integration metrics (PRODUCT.md §5): unduplicated counts and rates for every scope
//! (an organization and everything below it), suppressed before they leave this crate.
//!
//! Raw counts never cross the crate boundary: the only public output is [`Report`], whose
//! rows have already been through [`suppress`].

mod core;
mod suppression;

pub use core::{METRIC_ORDER_PREFIX, core_report};
pub use suppression::{SUPPRESSION_THRESHOLD, suppress};

use iip_domain::ProgramYear;
use serde::Serialize;

/// One published figure. Counts have no denominator; `rate` is a fraction in 0..=1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricRow {
    pub scope_id: String,
    pub metric: String,
    pub numerator: Option<u64>,
    pub denominator: Option<u64>,
    pub rate: Option<f64>,
    pub suppressed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub year: ProgramYear,
    pub framework_version: String,
    pub rows: Vec<MetricRow>,
}

impl Report {
    pub fn scope(&self, scope_id: &str) -> impl Iterator<Item = &MetricRow> {
        self.rows.iter().filter(move |r| r.scope_id == scope_id)
    }

    pub fn get(&self, scope_id: &str, metric: &str) -> Option<&MetricRow> {
        self.rows.iter().find(|r| r.scope_id == scope_id && r.metric == metric)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("scope {0} is not an organization in the store")]
    UnknownScope(String),
}
