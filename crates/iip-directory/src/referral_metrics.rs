//! Referral metrics: sent, accepted, completed, and days to acceptance and completion, by
//! element, partner and sector, with small cells suppressed.
//!
//! The cohort is the referrals *requested* in the window (UTC day of the first event); their
//! outcomes count whenever they happened, so a referral sent in June and accepted in July
//! counts as accepted in June's year. Definitions are in docs/gaps.md.

use std::collections::BTreeMap;

use iip_domain::{Date, ProgramYear, Sector};

use crate::referral::{Referral, ReferralStatus, SECONDS_PER_DAY};
use crate::suppress::{self, Equation};

/// The days referrals were requested on, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub first_day: Date,
    pub last_day: Date,
}

impl Window {
    pub fn new(first_day: Date, last_day: Date) -> Self {
        Self { first_day, last_day }
    }

    pub fn contains(self, day: Date) -> bool {
        self.first_day <= day && day <= self.last_day
    }
}

impl From<ProgramYear> for Window {
    fn from(year: ProgramYear) -> Self {
        Self::new(year.first_day(), year.last_day())
    }
}

/// How a row's referrals were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    /// Every referral of the window; the row's group is [`OVERALL`].
    Overall,
    /// By framework element id.
    Element,
    /// By receiving organization (`to_org_id`).
    Partner,
    /// By the receiving organization's sector code, or [`UNKNOWN_SECTOR`].
    Sector,
}

/// The group of the overall row.
pub const OVERALL: &str = "all";
/// The sector group of receivers whose sector is not known.
pub const UNKNOWN_SECTOR: &str = "unknown";

/// One row of the report. `None` is a figure withheld: a count that is small or would reveal
/// one, a rate or median over a withheld count or over fewer than `threshold` cases.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReferralRow {
    pub breakdown: Breakdown,
    pub group: String,
    /// Referrals requested in the window.
    pub sent: Option<u64>,
    /// Of those, referrals that were accepted at some time.
    pub accepted: Option<u64>,
    /// Of those, referrals that were completed.
    pub completed: Option<u64>,
    /// accepted ÷ sent, four decimals.
    pub acceptance_rate: Option<f64>,
    /// completed ÷ sent, four decimals.
    pub completion_rate: Option<f64>,
    /// Median days from the request to the first `accepted` event, one decimal.
    pub median_days_to_acceptance: Option<f64>,
    /// Median days from the request to the `completed` event, one decimal.
    pub median_days_to_completion: Option<f64>,
}

/// The suppressed referral report of one window: the overall row first, then elements (by
/// id), partners (by org id) and sectors (in code order, unknown last).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReferralReport {
    pub window: Window,
    pub threshold: u64,
    pub rows: Vec<ReferralRow>,
}

impl ReferralReport {
    pub fn row(&self, breakdown: Breakdown, group: &str) -> Option<&ReferralRow> {
        self.rows.iter().find(|r| r.breakdown == breakdown && r.group == group)
    }

    pub fn rows_of(&self, breakdown: Breakdown) -> impl Iterator<Item = &ReferralRow> {
        self.rows.iter().filter(move |r| r.breakdown == breakdown)
    }

    /// The overall row (always present, with zeros when the window holds no referral).
    pub fn overall(&self) -> Option<&ReferralRow> {
        self.row(Breakdown::Overall, OVERALL)
    }
}

/// Raw figures of one group; never leave this module.
#[derive(Debug, Default)]
struct Tally {
    sent: u64,
    accepted: u64,
    completed: u64,
    days_to_acceptance: Vec<f64>,
    days_to_completion: Vec<f64>,
}

impl Tally {
    fn add(&mut self, referral: &Referral) {
        let requested = referral.requested_at();
        let days = |at: i64| (at - requested).max(0) as f64 / SECONDS_PER_DAY as f64;
        self.sent += 1;
        if let Some(at) = referral.reached(ReferralStatus::Accepted) {
            self.accepted += 1;
            self.days_to_acceptance.push(days(at));
        }
        if let Some(at) = referral.reached(ReferralStatus::Completed) {
            self.completed += 1;
            self.days_to_completion.push(days(at));
        }
    }

    fn counts(&self) -> [u64; 3] {
        [self.sent, self.accepted, self.completed]
    }
}

/// The report of the referrals requested in `window`. `sector_of` gives a receiving
/// organization's sector (`None` when unknown). Counts from 1 to `threshold − 1` are withheld,
/// with complementary cells (see [`crate::suppress`]) over these equations, for each of sent,
/// accepted and completed: overall = Σ elements = Σ partners = Σ sectors; each sector = Σ its
/// partners (a partner's sector is public, so that sum is known too); and each element and
/// each partner = Σ its non-empty cells of the unpublished partner × element cross-tab.
pub fn referral_metrics(
    referrals: &[Referral],
    sector_of: &dyn Fn(&str) -> Option<Sector>,
    window: impl Into<Window>,
    threshold: u64,
) -> ReferralReport {
    let window = window.into();
    let mut overall = Tally::default();
    let mut elements: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut partners: BTreeMap<&str, Tally> = BTreeMap::new();
    // The partner × element cross-tab: never published, but its margins are.
    let mut crossed: BTreeMap<(&str, &str), Tally> = BTreeMap::new();
    for referral in referrals.iter().filter(|r| window.contains(r.requested_on())) {
        overall.add(referral);
        elements.entry(referral.element.as_str()).or_default().add(referral);
        partners.entry(referral.to_org_id.as_str()).or_default().add(referral);
        crossed
            .entry((referral.to_org_id.as_str(), referral.element.as_str()))
            .or_default()
            .add(referral);
    }
    // (unknown last, sector) orders sectors by code order with the unknown ones at the end.
    let partner_sector: BTreeMap<&str, (bool, Option<Sector>)> = partners
        .keys()
        .map(|&p| {
            let sector = sector_of(p);
            (p, (sector.is_none(), sector))
        })
        .collect();
    let mut sectors: BTreeMap<(bool, Option<Sector>), Tally> = BTreeMap::new();
    for referral in referrals.iter().filter(|r| window.contains(r.requested_on())) {
        let key = partner_sector
            .get(referral.to_org_id.as_str())
            .copied()
            .unwrap_or((true, None));
        sectors.entry(key).or_default().add(referral);
    }

    let mut rows: Vec<(Breakdown, String, &Tally)> = vec![(Breakdown::Overall, OVERALL.to_owned(), &overall)];
    rows.extend(elements.iter().map(|(e, t)| (Breakdown::Element, (*e).to_owned(), t)));
    let first_partner = rows.len();
    rows.extend(partners.iter().map(|(p, t)| (Breakdown::Partner, (*p).to_owned(), t)));
    let first_sector = rows.len();
    rows.extend(sectors.iter().map(|((_, s), t)| {
        let group = s.map_or(UNKNOWN_SECTOR, Sector::as_str).to_owned();
        (Breakdown::Sector, group, t)
    }));

    // Cell of row r and measure m (0 sent, 1 accepted, 2 completed): 3r + m; the cross-tab's
    // cells follow, hidden.
    let mut counts: Vec<u64> = rows.iter().flat_map(|(_, _, t)| t.counts()).collect();
    let of = |breakdown: Breakdown| -> Vec<usize> { (0..rows.len()).filter(|&r| rows[r].0 == breakdown).collect() };
    let mut row_equations: Vec<Vec<usize>> = Vec::new();
    for breakdown in [Breakdown::Element, Breakdown::Partner, Breakdown::Sector] {
        row_equations.push(std::iter::once(0).chain(of(breakdown)).collect());
    }
    for (s, key) in sectors.keys().enumerate() {
        let mut eq = vec![first_sector + s];
        eq.extend(
            partners
                .keys()
                .enumerate()
                .filter(|(_, p)| partner_sector.get(*p) == Some(key))
                .map(|(i, _)| first_partner + i),
        );
        row_equations.push(eq);
    }
    let mut equations: Vec<Equation> = row_equations
        .iter()
        .flat_map(|eq| (0..3).map(move |m| eq.iter().map(|r| 3 * r + m).collect()))
        .collect();
    // Whoever knows whom each partner serves (the directory says it) may know which cells of
    // the cross-tab are empty, and then element = Σ its partners' cells, partner = Σ its
    // elements' cells. Those cells are unknowns that must not be pinned when small; the empty
    // ones are taken as known zeros, which only makes the equations stricter.
    let element_row: BTreeMap<&str, usize> = elements.keys().enumerate().map(|(i, e)| (*e, 1 + i)).collect();
    let partner_row: BTreeMap<&str, usize> = partners
        .keys()
        .enumerate()
        .map(|(i, p)| (*p, first_partner + i))
        .collect();
    let published = counts.len();
    for m in 0..3 {
        let mut by_element: BTreeMap<usize, Equation> = BTreeMap::new();
        let mut by_partner: BTreeMap<usize, Equation> = BTreeMap::new();
        for ((partner, element), tally) in &crossed {
            let count = tally.counts()[m];
            if count == 0 {
                continue;
            }
            let cell = counts.len();
            counts.push(count);
            if let (Some(&e), Some(&p)) = (element_row.get(element), partner_row.get(partner)) {
                by_element.entry(e).or_insert_with(|| vec![3 * e + m]).push(cell);
                by_partner.entry(p).or_insert_with(|| vec![3 * p + m]).push(cell);
            }
        }
        equations.extend(by_element.into_values().chain(by_partner.into_values()));
    }
    let hidden: Vec<bool> = (0..counts.len()).map(|c| c >= published).collect();
    let masked = suppress::suppress_with_hidden(&counts, &hidden, &equations, threshold);

    let rows = rows
        .iter()
        .enumerate()
        .map(|(r, (breakdown, group, tally))| {
            let shown = |m: usize| (!masked[3 * r + m]).then_some(counts[3 * r + m]);
            let (sent, accepted, completed) = (shown(0), shown(1), shown(2));
            let rate = |part: Option<u64>| match (part, sent) {
                (Some(part), Some(sent)) if sent >= threshold.max(1) => Some(round(part as f64 / sent as f64, 4)),
                _ => None,
            };
            let median_of = |count: Option<u64>, days: &[f64]| {
                count
                    .filter(|&n| n >= threshold.max(1))
                    .and_then(|_| median(days))
                    .map(|d| round(d, 1))
            };
            ReferralRow {
                breakdown: *breakdown,
                group: group.clone(),
                sent,
                accepted,
                completed,
                acceptance_rate: rate(accepted),
                completion_rate: rate(completed),
                median_days_to_acceptance: median_of(accepted, &tally.days_to_acceptance),
                median_days_to_completion: median_of(completed, &tally.days_to_completion),
            }
        })
        .collect();
    ReferralReport {
        window,
        threshold,
        rows,
    }
}

/// The middle value, or the mean of the two middle values; `None` for no values.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

pub(crate) fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_take_the_middle_or_the_mean_of_the_two_middles() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(round(2.25, 1), 2.3);
        assert_eq!(round(2.0 / 3.0, 4), 0.6667);
    }

    #[test]
    fn a_program_year_is_a_window_of_its_days() {
        let window = Window::from(ProgramYear::starting(2024));
        assert!(window.contains(Date::parse("2024-07-01").expect("date")));
        assert!(window.contains(Date::parse("2025-06-30").expect("date")));
        assert!(!window.contains(Date::parse("2025-07-01").expect("date")));
    }
}
