//! Metric definitions as data: TOML files (`metrics/*.toml`) read into checked [`Metric`]s.
//!
//! A definition names who is counted (`population`), what must be true of them (`outcome`),
//! the window in which outcomes count, where they may have been recorded (`attribution`), the
//! kind of figure and its suppression threshold. Expressions are parsed by [`crate::expr`] and
//! resolved here against the framework, so a typo fails at load time with `FILE:LINE:COL`.

use std::collections::HashSet;
use std::path::Path;

use iip_domain::{Barrier, Program};
use iip_framework::{Framework, Localized};
use serde::Deserialize;
use toml::Spanned;

use crate::expr::{self, Arg, CmpOp, Expr, Span, Term};

/// The definition sets shipped with IIP, built into the binary. `core.toml` holds the metrics
/// of the walking skeleton (PRODUCT.md §5) and is the default report.
pub const BUILTIN_SETS: &[(&str, &str)] = &[
    ("metrics/core.toml", include_str!("../../../metrics/core.toml")),
    ("metrics/elements.toml", include_str!("../../../metrics/elements.toml")),
    ("metrics/programs.toml", include_str!("../../../metrics/programs.toml")),
    ("metrics/barriers.toml", include_str!("../../../metrics/barriers.toml")),
    (
        "metrics/participation.toml",
        include_str!("../../../metrics/participation.toml"),
    ),
];

pub const DEFAULT_THRESHOLD: u64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error("{path}: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// How many people of the population meet the outcome.
    Count,
    /// Those people over the population.
    Rate,
    /// The median number of days from a person's first activity in the year (at the scope) to
    /// their first outcome milestone on or after it.
    MedianDays,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Outcomes dated in the program year.
    ProgramYear,
    /// Outcomes dated in the program year or the next one (employment after exit, for example).
    SameOrNextYear,
    /// Outcomes dated from the person's first activity of the year at the scope to that many
    /// days after it.
    DaysAfterFirstActivity(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution {
    /// An outcome recorded at any organization counts (PRODUCT.md §5).
    Any,
    /// Only outcomes recorded at an organization inside the scope count.
    Scope,
}

/// Which milestones a `milestone(...)` term matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MilestoneFilter {
    Any,
    Element(String),
    Id(String),
}

/// A resolved condition. Every population is taken within the scope's adults served, so
/// `Not` is "served at the scope and not …".
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    True,
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    /// Total activity hours in the year at organizations of the scope, in hundredths.
    Hours(CmpOp, u64),
    /// Any activity in the year, at the scope, in one of these programs (bit per `Program`).
    Program(u16),
    /// Any of these barriers on any of the person's records (bit per `Barrier`).
    Barrier(u8),
    Milestone(MilestoneFilter),
    ElementsWithMilestone(CmpOp, f64),
    /// Latest minus first score of an instrument in the window (needs two assessments).
    AssessmentGain(String, CmpOp, f64),
    /// Latest score of an instrument in the window.
    AssessmentScore(String, CmpOp, f64),
    /// The person left the scope in the year: 90 days passed without activity after their
    /// last activity dated in the year (CAEP's period of participation).
    Exited,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub id: String,
    pub name: Localized,
    pub description: Localized,
    pub element: Option<String>,
    pub population: Cond,
    pub outcome: Cond,
    pub kind: Kind,
    pub window: Window,
    pub attribution: Attribution,
    pub threshold: u64,
    /// Where it was defined, for messages: `metrics/core.toml`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricSet {
    pub version: String,
    pub metrics: Vec<Metric>,
}

impl MetricSet {
    /// Every built-in set, in order.
    pub fn builtin(framework: &Framework) -> Result<Self, DefinitionError> {
        Self::from_sources(
            BUILTIN_SETS.iter().map(|(p, s)| (p.to_string(), s.to_string())),
            framework,
        )
    }

    /// The core metrics of PRODUCT.md §5 only: the default report.
    pub fn core(framework: &Framework) -> Result<Self, DefinitionError> {
        let (path, source) = BUILTIN_SETS[0];
        Self::from_sources([(path.to_owned(), source.to_owned())], framework)
    }

    /// Loads a file, or every `*.toml` file of a directory in name order.
    pub fn load(path: &Path, framework: &Framework) -> Result<Self, DefinitionError> {
        let unreadable = |e: std::io::Error| DefinitionError::Unreadable {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let mut files = Vec::new();
        if path.is_dir() {
            for entry in std::fs::read_dir(path).map_err(unreadable)? {
                let file = entry.map_err(unreadable)?.path();
                if file.extension().is_some_and(|e| e == "toml") {
                    files.push(file);
                }
            }
            files.sort();
        } else {
            files.push(path.to_owned());
        }
        let mut sources = Vec::with_capacity(files.len());
        for file in files {
            let source = std::fs::read_to_string(&file).map_err(|e| DefinitionError::Unreadable {
                path: file.display().to_string(),
                message: e.to_string(),
            })?;
            sources.push((file.display().to_string(), source));
        }
        Self::from_sources(sources, framework)
    }

    /// Parses `(path, text)` pairs into one set; ids must be unique across all of them.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
        framework: &Framework,
    ) -> Result<Self, DefinitionError> {
        let mut set = MetricSet::default();
        let mut seen = HashSet::new();
        for (path, source) in sources {
            let file = parse_file(&path, &source, framework)?;
            if set.version.is_empty() {
                set.version = file.version;
            }
            for (metric, offset) in file.metrics {
                if !seen.insert(metric.id.clone()) {
                    return Err(invalid(
                        &path,
                        &source,
                        offset,
                        format!("duplicate metric id {:?}", metric.id),
                    ));
                }
                set.metrics.push(metric);
            }
        }
        if set.metrics.is_empty() {
            return Err(DefinitionError::Unreadable {
                path: "metrics".into(),
                message: "no metric definitions found".into(),
            });
        }
        Ok(set)
    }

    pub fn get(&self, id: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.id == id)
    }

    /// Keeps only the named metrics, in the given order.
    pub fn select(&self, ids: &[&str]) -> Result<Self, String> {
        let metrics = ids
            .iter()
            .map(|id| {
                self.get(id)
                    .cloned()
                    .ok_or_else(|| format!("no metric {id:?} in the definitions"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            version: self.version.clone(),
            metrics,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Spanned<String>,
    #[serde(rename = "metric", default)]
    metrics: Vec<RawMetric>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    id: Spanned<String>,
    name: Spanned<Localized>,
    description: Spanned<Localized>,
    #[serde(default)]
    element: Option<Spanned<String>>,
    #[serde(default)]
    population: Option<Spanned<String>>,
    #[serde(default)]
    outcome: Option<Spanned<String>>,
    kind: Spanned<String>,
    #[serde(default)]
    window: Option<Spanned<String>>,
    #[serde(default)]
    window_days: Option<Spanned<i64>>,
    #[serde(default)]
    attribution: Option<Spanned<String>>,
    #[serde(default)]
    threshold: Option<Spanned<i64>>,
}

struct ParsedFile {
    version: String,
    metrics: Vec<(Metric, usize)>,
}

fn parse_file(path: &str, source: &str, framework: &Framework) -> Result<ParsedFile, DefinitionError> {
    let at = |offset: usize, message: String| invalid(path, source, offset, message);
    let raw: RawFile =
        toml::from_str(source).map_err(|e| at(e.span().map_or(0, |s| s.start), e.message().to_owned()))?;
    if raw.version.get_ref().trim().is_empty() {
        return Err(at(raw.version.span().start, "version must not be empty".into()));
    }
    let mut metrics = Vec::with_capacity(raw.metrics.len());
    for m in raw.metrics {
        let id = m.id.get_ref().clone();
        let id_at = m.id.span().start;
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._".contains(&b))
        {
            return Err(at(
                id_at,
                format!("metric id {id:?} must be lower-case letters, digits, `.` and `_`"),
            ));
        }
        for (text, what) in [(&m.name, "name"), (&m.description, "description")] {
            for lang in ["en", "es"] {
                if text.get_ref().get(lang).is_none_or(|t| t.trim().is_empty()) {
                    return Err(at(text.span().start, format!("metric {id:?} {what} needs {lang} text")));
                }
            }
        }
        let element = match m.element {
            Some(e) if framework.element(e.get_ref()).is_none() => {
                return Err(at(
                    e.span().start,
                    format!("{:?} is not an element of the framework", e.get_ref()),
                ));
            }
            Some(e) => Some(e.into_inner()),
            None => None,
        };
        let kind = match m.kind.get_ref().as_str() {
            "count" => Kind::Count,
            "rate" => Kind::Rate,
            "median_days" => Kind::MedianDays,
            other => {
                return Err(at(
                    m.kind.span().start,
                    format!("kind {other:?} is not one of: count, rate, median_days"),
                ));
            }
        };
        let window = match (m.window.as_ref().map(|w| w.get_ref().as_str()), &m.window_days) {
            (None | Some("program_year"), None) => Window::ProgramYear,
            (Some("same_or_next_year"), None) => Window::SameOrNextYear,
            (Some("days_after_first_activity"), Some(days)) => {
                let n = *days.get_ref();
                if !(1..=3660).contains(&n) {
                    return Err(at(days.span().start, "window_days must be from 1 to 3660".into()));
                }
                Window::DaysAfterFirstActivity(n as i32)
            }
            (Some("days_after_first_activity"), None) => {
                let offset = m.window.as_ref().map_or(id_at, |w| w.span().start);
                return Err(at(
                    offset,
                    "window \"days_after_first_activity\" needs window_days = N".into(),
                ));
            }
            (_, Some(days)) => {
                return Err(at(
                    days.span().start,
                    "window_days goes with window = \"days_after_first_activity\"".into(),
                ));
            }
            (Some(other), None) => {
                let offset = m.window.as_ref().map_or(id_at, |w| w.span().start);
                return Err(at(
                    offset,
                    format!(
                        "window {other:?} is not one of: program_year, same_or_next_year, days_after_first_activity"
                    ),
                ));
            }
        };
        let attribution = match m.attribution.as_ref().map(|a| a.get_ref().as_str()) {
            None | Some("any") => Attribution::Any,
            Some("scope") => Attribution::Scope,
            Some(other) => {
                let offset = m.attribution.as_ref().map_or(id_at, |a| a.span().start);
                return Err(at(offset, format!("attribution {other:?} is not one of: any, scope")));
            }
        };
        let threshold = match &m.threshold {
            None => DEFAULT_THRESHOLD,
            Some(t) if (1..=1000).contains(t.get_ref()) => *t.get_ref() as u64,
            Some(t) => return Err(at(t.span().start, "threshold must be from 1 to 1000".into())),
        };
        let resolve = |field: &Option<Spanned<String>>| -> Result<Cond, DefinitionError> {
            let Some(text) = field else { return Ok(Cond::True) };
            let base = string_body_offset(source, text.span().start);
            let expr = expr::parse(text.get_ref()).map_err(|e| at(base + e.offset, e.message))?;
            resolve(&expr, framework).map_err(|(span, message)| at(base + span.start, message))
        };
        let population = resolve(&m.population)?;
        let outcome = resolve(&m.outcome)?;
        if kind == Kind::MedianDays && !matches!(outcome, Cond::Milestone(_)) {
            let offset = m.outcome.as_ref().map_or(id_at, |o| o.span().start);
            return Err(at(
                offset,
                "a median_days metric needs outcome = one milestone(...) term".into(),
            ));
        }
        metrics.push((
            Metric {
                id,
                name: m.name.into_inner(),
                description: m.description.into_inner(),
                element,
                population,
                outcome,
                kind,
                window,
                attribution,
                threshold,
                source: path.to_owned(),
            },
            id_at,
        ));
    }
    Ok(ParsedFile {
        version: raw.version.into_inner(),
        metrics,
    })
}

/// Where the text of a TOML string starts, given where its quotes start.
fn string_body_offset(source: &str, quote_at: usize) -> usize {
    let rest = &source[quote_at.min(source.len())..];
    if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
        // A newline right after the opening quotes is not part of the string.
        let after = quote_at + 3;
        match source.as_bytes().get(after) {
            Some(b'\n') => after + 1,
            Some(b'\r') => after + 2,
            _ => after,
        }
    } else {
        quote_at + 1
    }
}

fn invalid(path: &str, source: &str, offset: usize, message: String) -> DefinitionError {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    DefinitionError::Invalid {
        path: path.to_owned(),
        line,
        column,
        message,
    }
}

type Resolved<T> = Result<T, (Span, String)>;

const TERMS: &str = "served, hours, program(...), barrier(...), milestone(...), elements_with_milestone, \
                     assessment_gain(\"instrument\"), assessment(\"instrument\"), exited, true";

fn resolve(expr: &Expr, framework: &Framework) -> Resolved<Cond> {
    Ok(match expr {
        Expr::And(a, b) => Cond::And(Box::new(resolve(a, framework)?), Box::new(resolve(b, framework)?)),
        Expr::Or(a, b) => Cond::Or(Box::new(resolve(a, framework)?), Box::new(resolve(b, framework)?)),
        Expr::Not(a) => Cond::Not(Box::new(resolve(a, framework)?)),
        Expr::Term(term) => resolve_condition(term, framework)?,
        Expr::Compare(term, op, value) => resolve_comparison(term, *op, *value)?,
    })
}

fn no_args(term: &Term) -> Resolved<()> {
    match &term.args {
        Some(args) if !args.is_empty() => Err((args[0].span, format!("`{}` takes no arguments", term.name))),
        _ => Ok(()),
    }
}

fn args<'a>(term: &'a Term, usage: &str) -> Resolved<&'a [Arg]> {
    match &term.args {
        Some(args) if !args.is_empty() => Ok(args),
        _ => Err((term.span, format!("`{}` needs arguments: {usage}", term.name))),
    }
}

fn resolve_condition(term: &Term, framework: &Framework) -> Resolved<Cond> {
    match term.name.as_str() {
        "true" => no_args(term).map(|()| Cond::True),
        "served" => no_args(term).map(|()| Cond::Hours(CmpOp::Gt, 0)),
        "exited" => no_args(term).map(|()| Cond::Exited),
        "program" => {
            let mut mask = 0u16;
            for arg in args(term, "program(esl) or program(esl, abe)")? {
                let code = positional_text(arg)?;
                let program = Program::parse(code).map_err(|e| (arg.span, format!("program {e}")))?;
                mask |= 1 << program as u16;
            }
            Ok(Cond::Program(mask))
        }
        "barrier" => {
            let mut mask = 0u8;
            for arg in args(term, "barrier(english_learner)")? {
                let code = positional_text(arg)?;
                let barrier = Barrier::parse(code).map_err(|e| (arg.span, format!("barrier {e}")))?;
                mask |= 1 << barrier as u8;
            }
            Ok(Cond::Barrier(mask))
        }
        "milestone" => {
            let args = term.args.as_deref().unwrap_or_default();
            match args {
                [] => Ok(Cond::Milestone(MilestoneFilter::Any)),
                [arg] => {
                    let text = arg
                        .value
                        .as_text()
                        .ok_or_else(|| (arg.span, "expected a quoted id".to_owned()))?;
                    match arg.key.as_deref() {
                        Some("element") if framework.element(text).is_some() => {
                            Ok(Cond::Milestone(MilestoneFilter::Element(text.to_owned())))
                        }
                        Some("element") => Err((arg.span, format!("{text:?} is not an element of the framework"))),
                        Some("id") | None if framework.element_of_milestone(text).is_some() => {
                            Ok(Cond::Milestone(MilestoneFilter::Id(text.to_owned())))
                        }
                        Some("id") | None => Err((arg.span, format!("{text:?} is not a milestone of the framework"))),
                        Some(other) => Err((arg.span, format!("milestone() takes element = or id =, not {other} ="))),
                    }
                }
                [_, extra, ..] => Err((
                    extra.span,
                    "milestone() takes one argument; combine terms with `or`".into(),
                )),
            }
        }
        "hours" | "elements_with_milestone" | "assessment_gain" | "assessment" => Err((
            term.span,
            format!(
                "`{}` is a number: compare it, for example `{} >= 1`",
                term.name, term.name
            ),
        )),
        other => Err((term.span, format!("unknown term `{other}`; known terms: {TERMS}"))),
    }
}

fn positional_text(arg: &Arg) -> Resolved<&str> {
    if let Some(key) = &arg.key {
        return Err((arg.span, format!("unexpected `{key} =` here")));
    }
    arg.value
        .as_text()
        .ok_or_else(|| (arg.span, "expected a code, not a number".to_owned()))
}

fn instrument(term: &Term) -> Resolved<String> {
    match args(term, &format!("{}(\"casas_reading\")", term.name))? {
        [arg] => {
            let text = positional_text(arg)?;
            iip_domain::Id::parse(text).map_err(|e| (arg.span, format!("instrument {e}")))?;
            Ok(text.to_owned())
        }
        [_, extra, ..] => Err((extra.span, format!("`{}` takes one instrument", term.name))),
        [] => Err((term.span, "missing instrument".into())),
    }
}

fn resolve_comparison(term: &Term, op: CmpOp, value: f64) -> Resolved<Cond> {
    if !value.is_finite() {
        return Err((term.span, "the number must be finite".into()));
    }
    match term.name.as_str() {
        "hours" => {
            no_args(term)?;
            if value < 0.0 {
                return Err((term.span, "hours are never negative".into()));
            }
            Ok(Cond::Hours(op, (value * 100.0).round() as u64))
        }
        "elements_with_milestone" => no_args(term).map(|()| Cond::ElementsWithMilestone(op, value)),
        "assessment_gain" => Ok(Cond::AssessmentGain(instrument(term)?, op, value)),
        "assessment" => Ok(Cond::AssessmentScore(instrument(term)?, op, value)),
        "served" | "exited" | "program" | "barrier" | "milestone" | "true" => Err((
            term.span,
            format!("`{}` is a condition, not a number: it cannot be compared", term.name),
        )),
        other => Err((term.span, format!("unknown term `{other}`; known terms: {TERMS}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framework() -> Framework {
        Framework::builtin().expect("built-in framework")
    }

    /// A one-metric file; `metric` starts on line 8 (after `kind = "rate"`, unless it sets kind).
    fn one(metric: &str) -> Result<MetricSet, DefinitionError> {
        let kind = if metric.contains("kind =") {
            ""
        } else {
            "kind = \"rate\"\n"
        };
        let source = format!(
            "version = \"t\"\n\n[[metric]]\nid = \"m\"\nname = {{ en = \"M\", es = \"M\" }}\n\
             description = {{ en = \"M\", es = \"M\" }}\n{kind}{metric}\n"
        );
        MetricSet::from_sources([("test.toml".to_owned(), source)], &framework())
    }

    #[test]
    fn the_builtin_sets_load_and_cover_every_element_twice() {
        let framework = framework();
        let set = MetricSet::builtin(&framework).expect("built-in metrics load");
        for element in framework.element_ids() {
            let n = set
                .metrics
                .iter()
                .filter(|m| m.element.as_deref() == Some(element))
                .count();
            assert!(n >= 2, "element {element} has {n} metrics");
        }
        let core = MetricSet::core(&framework).expect("core");
        assert_eq!(core.metrics[0].id, "adults_served");
        assert_eq!(core.metrics.len(), 11);
    }

    #[test]
    fn expressions_resolve_to_conditions() {
        let set =
            one("population = \"hours >= 12 and program(esl, abe)\"\noutcome = \"milestone(element = \\\"civic\\\")\"")
                .expect("valid");
        let metric = &set.metrics[0];
        let esl_abe = (1 << Program::Esl as u16) | (1 << Program::Abe as u16);
        assert_eq!(
            metric.population,
            Cond::And(Box::new(Cond::Hours(CmpOp::Ge, 1200)), Box::new(Cond::Program(esl_abe)))
        );
        assert_eq!(
            metric.outcome,
            Cond::Milestone(MilestoneFilter::Element("civic".into()))
        );
        assert_eq!((metric.threshold, metric.window), (10, Window::ProgramYear));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        // Line 8 holds the field under test; the expression starts at column 15.
        let cases = [
            (
                "population = \"hours >= 12 and program(swimming)\"",
                8,
                39,
                "program \"swimming\" is not one of",
            ),
            ("population = \"hours >= 12 and\"", 8, 30, "expected a condition"),
            (
                "population = \"barrier(low_income) >= 2\"",
                8,
                15,
                "is a condition, not a number",
            ),
            (
                "outcome = \"milestone(element = \\\"sports\\\")\"",
                8,
                32,
                "not an element",
            ),
            (
                "outcome = \"milestone(id = \\\"civic.won_lottery\\\")\"",
                8,
                27,
                "not a milestone",
            ),
            ("population = \"hours\"", 8, 15, "is a number"),
            ("population = \"colour(red)\"", 8, 15, "unknown term `colour`"),
            ("window = \"fortnight\"", 8, 10, "window \"fortnight\""),
            ("window = \"days_after_first_activity\"", 8, 10, "needs window_days"),
            ("threshold = 0", 8, 13, "threshold must be"),
            ("attribution = \"everywhere\"", 8, 15, "attribution \"everywhere\""),
            ("colour = \"red\"", 8, 1, "unknown field"),
        ];
        for (line, want_line, want_column, want) in cases {
            let err = one(line).expect_err(line);
            let DefinitionError::Invalid {
                path,
                line: l,
                column,
                message,
            } = &err
            else {
                panic!("{err}")
            };
            assert_eq!(path, "test.toml");
            assert!(message.contains(want), "{line}: {err}");
            assert_eq!((*l, *column), (want_line, want_column), "{line}: {err}");
        }
    }

    #[test]
    fn median_metrics_need_one_milestone_outcome() {
        let err = one("kind = \"median_days\"\noutcome = \"served\"").expect_err("not a milestone");
        assert!(
            err.to_string()
                .starts_with("test.toml:8:11: a median_days metric needs"),
            "{err}"
        );
        one("kind = \"median_days\"\noutcome = \"milestone()\"").expect("valid");
    }
}
