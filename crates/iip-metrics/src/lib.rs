//! The metrics engine: declarative metric definitions ([`MetricSet`], from `metrics/*.toml`)
//! computed over an in-memory [`Snapshot`] of the store, for every scope (the organization
//! hierarchy and roll-ups by sector and level), unduplicated, optionally broken down, and
//! suppressed before anything leaves this crate.
//!
//! Raw counts never cross the crate boundary: the only public output is [`Report`], whose
//! rows have been through [`suppression`] (primary and complementary).

mod cache;
pub mod definition;
mod engine;
pub mod expr;
pub mod output;
mod snapshot;
mod suppression;

pub use definition::{Attribution, Cond, DefinitionError, Kind, Metric, MetricSet, Window};
pub use engine::{Dimension, EXIT_AFTER_DAYS, Query};
pub use snapshot::{Orphans, Snapshot};

use iip_domain::ProgramYear;
use serde::Serialize;
use serde::ser::SerializeMap;

/// The default suppression threshold: counts from 1 to 9 are never shown.
pub const SUPPRESSION_THRESHOLD: u64 = definition::DEFAULT_THRESHOLD;

/// The group label of a total inside a breakdown, and of the masked groups taken together.
pub const GROUP_ALL: &str = "all";
pub const GROUP_ALL_MASKED: &str = "all_masked";

/// One published figure. Counts have no denominator; `rate` is a fraction in 0..=1; `value`
/// is the statistic of a median metric (days), whose `numerator` is how many people it is over.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricRow {
    pub scope_id: String,
    pub metric: String,
    pub groups: Groups,
    pub numerator: Option<u64>,
    pub denominator: Option<u64>,
    pub rate: Option<f64>,
    pub value: Option<f64>,
    pub suppressed: bool,
}

/// `(dimension, group)` pairs of a row, in the order of `--by`; serialized as a JSON object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Groups(pub Vec<(String, String)>);

impl Groups {
    pub fn get(&self, dimension: &str) -> Option<&str> {
        self.0.iter().find(|(d, _)| d == dimension).map(|(_, g)| g.as_str())
    }

    pub fn is_total(&self) -> bool {
        self.0.iter().all(|(_, g)| g == GROUP_ALL)
    }
}

impl Serialize for Groups {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (dimension, group) in &self.0 {
            map.serialize_entry(dimension, group)?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub year: ProgramYear,
    pub framework_version: String,
    pub metrics_version: String,
    /// The breakdowns, in order (empty for totals only).
    pub by: Vec<String>,
    pub rows: Vec<MetricRow>,
}

impl Report {
    pub fn scope(&self, scope_id: &str) -> impl Iterator<Item = &MetricRow> {
        self.rows.iter().filter(move |r| r.scope_id == scope_id)
    }

    /// The total (no breakdown) row of a metric at a scope.
    pub fn get(&self, scope_id: &str, metric: &str) -> Option<&MetricRow> {
        self.rows
            .iter()
            .find(|r| r.scope_id == scope_id && r.metric == metric && r.groups.is_total())
    }

    /// A breakdown row: `groups` as `(dimension, group)` pairs in `by` order.
    pub fn group(&self, scope_id: &str, metric: &str, groups: &[(&str, &str)]) -> Option<&MetricRow> {
        self.rows.iter().find(|r| {
            r.scope_id == scope_id
                && r.metric == metric
                && r.groups.0.len() == groups.len()
                && r.groups
                    .0
                    .iter()
                    .zip(groups)
                    .all(|((d, g), (wd, wg))| d == wd && g == wg)
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("scope {0} is not an organization or roll-up in the store")]
    UnknownScope(String),
    #[error("at most two breakdowns at once")]
    TooManyBreakdowns,
    #[error("breakdown {0} is given twice")]
    RepeatedBreakdown(String),
}

/// Computes `set` for `query` over every scope, suppresses, and returns the rows of `scope`
/// (or of every scope). Suppression always looks at every scope, so one scope's figures are
/// masked exactly as in the full report and cannot be differenced against it.
pub fn report(
    snapshot: &Snapshot,
    framework_version: &str,
    set: &MetricSet,
    query: &Query,
    scope: Option<&str>,
) -> Result<Report, MetricsError> {
    if query.by.len() > 2 {
        return Err(MetricsError::TooManyBreakdowns);
    }
    if query.by.len() == 2 && query.by[0] == query.by[1] {
        return Err(MetricsError::RepeatedBreakdown(query.by[0].as_str().into()));
    }
    let scopes = engine::scope_defs(snapshot);
    if let Some(scope) = scope.filter(|s| !scopes.iter().any(|(id, _)| id == s)) {
        return Err(MetricsError::UnknownScope(scope.to_owned()));
    }
    let mut computed = engine::compute(snapshot, set, query);
    suppression::suppress(&mut computed.cells, &computed.equations);

    // The all_masked row of each breakdown (one dimension, a partition), after its groups.
    let mut extra: std::collections::HashMap<usize, (u64, Option<u64>)> = Default::default();
    if let [(dim, _)] = computed.dims.as_slice()
        && dim.is_partition()
    {
        for eq in &computed.equations {
            let first = &computed.cells[eq[0]];
            let within =
                eq.iter().all(|&c| computed.cells[c].scope == first.scope) && first.key == [suppression::ALL; 2];
            if within && let Some(sum) = suppression::all_masked(&computed.cells, eq) {
                extra.insert(eq[eq.len() - 1], sum);
            }
        }
    }

    let label = |d: usize, key: u16| -> String {
        if key == suppression::ALL {
            GROUP_ALL.to_owned()
        } else {
            computed.dims[d].1[key as usize].clone()
        }
    };
    let mut rows = Vec::with_capacity(computed.cells.len());
    for (i, cell) in computed.cells.iter().enumerate() {
        let scope_id = &computed.scopes[cell.scope as usize].0;
        if scope.is_some_and(|s| s != scope_id) {
            continue;
        }
        let metric = &set.metrics[cell.metric as usize].id;
        let groups = Groups(
            computed
                .dims
                .iter()
                .enumerate()
                .map(|(d, (dim, _))| (dim.as_str().to_owned(), label(d, cell.key[d])))
                .collect(),
        );
        rows.push(published(
            scope_id,
            metric,
            groups,
            cell.num,
            cell.den,
            cell.value,
            cell.masked,
        ));
        if let Some((num, den)) = extra.get(&i) {
            let groups = Groups(vec![(
                computed.dims[0].0.as_str().to_owned(),
                GROUP_ALL_MASKED.to_owned(),
            )]);
            rows.push(published(scope_id, metric, groups, *num, *den, None, false));
        }
    }
    Ok(Report {
        year: query.year,
        framework_version: framework_version.to_owned(),
        metrics_version: set.version.clone(),
        by: query.by.iter().map(|d| d.as_str().to_owned()).collect(),
        rows,
    })
}

fn published(
    scope_id: &str,
    metric: &str,
    groups: Groups,
    num: u64,
    den: Option<u64>,
    value: Option<f64>,
    masked: bool,
) -> MetricRow {
    if masked {
        return MetricRow {
            scope_id: scope_id.to_owned(),
            metric: metric.to_owned(),
            groups,
            numerator: None,
            denominator: None,
            rate: None,
            value: None,
            suppressed: true,
        };
    }
    MetricRow {
        scope_id: scope_id.to_owned(),
        metric: metric.to_owned(),
        groups,
        numerator: Some(num),
        denominator: den,
        rate: den.filter(|d| *d > 0).map(|d| num as f64 / d as f64),
        value,
        suppressed: false,
    }
}
