//! Referral metrics of every view at once, suppressed together.
//!
//! Each user sees the referral metrics of one view: what their organization sent or received
//! (case workers), what organizations in their subtree sent (analysts), or everything
//! (state-wide roles). Views overlap, so figures that are safe one view at a time can be
//! subtracted across views (the state's figure minus a consortium's). Here every view that
//! can be released is computed, and suppression is decided over all their figures at once
//! ([`crate::suppress::suppress_release`]): a figure is masked the same way in every view that
//! shows it, no two shown figures differ by 1 to `threshold − 1` referrals, and no withheld
//! figure follows from the shown ones, whatever views they come from.
//!
//! The atoms are the sender × receiver × element cells of the window's referrals; every
//! figure of every view counts a set of them. Hidden figures, never published but protected
//! when small: each atom, each view's partner × element cross-tab cell, and what each
//! organization sent and received (the "own" part of a subtree's figures).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use iip_domain::Sector;

use crate::referral::{Referral, ReferralStatus, SECONDS_PER_DAY};
use crate::referral_metrics::{Breakdown, OVERALL, ReferralReport, ReferralRow, UNKNOWN_SECTOR, Window, median, round};
use crate::suppress::{self, Equation, Population, Release};

/// An organization as the views need it: where it sits in the tree, and its sector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgNode {
    pub org_id: String,
    pub parent_id: Option<String>,
    pub sector: Option<Sector>,
}

impl OrgNode {
    pub fn new(org_id: &str, parent_id: Option<&str>, sector: Option<Sector>) -> Self {
        Self {
            org_id: org_id.to_owned(),
            parent_id: parent_id.map(str::to_owned),
            sector,
        }
    }
}

impl From<&iip_domain::records::Organization> for OrgNode {
    fn from(org: &iip_domain::records::Organization) -> Self {
        Self {
            org_id: org.org_id.as_str().to_owned(),
            parent_id: org.parent_id.as_ref().map(|p| p.as_str().to_owned()),
            sector: Some(org.sector),
        }
    }
}

/// The referrals a user's figures cover.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Every referral (state-wide roles).
    State,
    /// Referrals sent from the organization or any organization below it (analysts).
    Subtree(String),
    /// Referrals the organization sent or received (case workers).
    Organization(String),
}

/// The suppressed reports of every view of one window.
#[derive(Debug, Clone)]
pub struct ReferralViews {
    pub window: Window,
    pub threshold: u64,
    reports: BTreeMap<View, ReferralReport>,
}

impl ReferralViews {
    /// The report of `view`. A view no referral of the window falls in (an organization
    /// nobody referred to or from) is all zeros.
    pub fn report(&self, view: &View) -> ReferralReport {
        self.reports.get(view).cloned().unwrap_or_else(|| ReferralReport {
            window: self.window,
            threshold: self.threshold,
            rows: vec![ReferralRow {
                breakdown: Breakdown::Overall,
                group: OVERALL.to_owned(),
                sent: Some(0),
                accepted: Some(0),
                completed: Some(0),
                acceptance_rate: None,
                completion_rate: None,
                median_days_to_acceptance: None,
                median_days_to_completion: None,
            }],
        })
    }

    /// Every view computed, with its report.
    pub fn views(&self) -> impl Iterator<Item = (&View, &ReferralReport)> {
        self.reports.iter()
    }
}

/// A row of a view: the groups of [`ReferralRow`], ordered as reports list them (overall,
/// elements by id, partners by id, sectors in code order with the unknown last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Group<'a> {
    Overall,
    Element(&'a str),
    Partner(&'a str),
    Sector(bool, Option<Sector>),
}

/// The referrals of one sender × receiver × element cell.
#[derive(Debug, Default)]
struct Atom {
    counts: [u64; 3],
    days_to_acceptance: Vec<f64>,
    days_to_completion: Vec<f64>,
}

impl Atom {
    /// Days to acceptance (measure 1) or completion (measure 2).
    fn days(&self, measure: usize) -> &[f64] {
        match measure {
            1 => &self.days_to_acceptance,
            _ => &self.days_to_completion,
        }
    }
}

/// A set of referrals figures are computed over: a view, or a hidden part of one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Set {
    Published(View),
    /// Sent by the organization itself.
    Sent(String),
    /// Received by the organization from others.
    Received(String),
}

/// Every view's report for the referrals requested in `window`, suppressed together. Views:
/// the state, the subtree of each organization of `orgs`, and each organization (of `orgs`
/// or met in a referral) as a case worker sees it. Rates and medians follow
/// [`crate::referral_metrics::referral_metrics`]: shown only over shown counts of at least
/// `threshold`.
pub fn referral_views(
    referrals: &[Referral],
    orgs: &[OrgNode],
    window: impl Into<Window>,
    threshold: u64,
) -> ReferralViews {
    let window = window.into();
    let cohort: Vec<&Referral> = referrals.iter().filter(|r| window.contains(r.requested_on())).collect();
    let parent: HashMap<&str, Option<&str>> = orgs
        .iter()
        .map(|o| (o.org_id.as_str(), o.parent_id.as_deref()))
        .collect();
    let sector: HashMap<&str, Sector> = orgs
        .iter()
        .filter_map(|o| o.sector.map(|s| (o.org_id.as_str(), s)))
        .collect();
    let sector_key = |org: &str| {
        let s = sector.get(org).copied();
        (s.is_none(), s)
    };
    // An organization and those above it, as the access policy walks the tree.
    let ancestors = |org: &str| -> Vec<String> {
        let mut chain = vec![org.to_owned()];
        let mut current = org;
        while let Some(Some(up)) = parent.get(current) {
            if chain.len() > parent.len() || chain.iter().any(|c| c == up) {
                break;
            }
            chain.push((*up).to_owned());
            current = up;
        }
        chain
    };

    // Atoms, in (from, to, element) order.
    let mut atoms: BTreeMap<(&str, &str, &str), Atom> = BTreeMap::new();
    for referral in &cohort {
        let atom = atoms
            .entry((
                referral.from_org_id.as_str(),
                referral.to_org_id.as_str(),
                referral.element.as_str(),
            ))
            .or_default();
        let requested = referral.requested_at();
        let days = |at: i64| (at - requested).max(0) as f64 / SECONDS_PER_DAY as f64;
        atom.counts[0] += 1;
        if let Some(at) = referral.reached(ReferralStatus::Accepted) {
            atom.counts[1] += 1;
            atom.days_to_acceptance.push(days(at));
        }
        if let Some(at) = referral.reached(ReferralStatus::Completed) {
            atom.counts[2] += 1;
            atom.days_to_completion.push(days(at));
        }
    }
    let keys: Vec<(&str, &str, &str)> = atoms.keys().copied().collect();
    let atoms: Vec<Atom> = atoms.into_values().collect();
    let chains: Vec<Vec<String>> = keys.iter().map(|(from, _, _)| ancestors(from)).collect();

    // The sets: published views, then the hidden parts.
    let mut ids: BTreeSet<&str> = orgs.iter().map(|o| o.org_id.as_str()).collect();
    for (from, to, _) in &keys {
        ids.insert(from);
        ids.insert(to);
    }
    let mut sets: Vec<Set> = vec![Set::Published(View::State)];
    sets.extend(orgs_sorted(orgs).map(|o| Set::Published(View::Subtree(o.to_owned()))));
    sets.extend(ids.iter().map(|o| Set::Published(View::Organization((*o).to_owned()))));
    sets.extend(ids.iter().map(|o| Set::Sent((*o).to_owned())));
    sets.extend(ids.iter().map(|o| Set::Received((*o).to_owned())));
    let holds = |set: &Set, a: usize| -> bool {
        let (from, to, _) = keys[a];
        match set {
            Set::Published(View::State) => true,
            Set::Published(View::Subtree(x)) => chains[a].iter().any(|c| c == x),
            Set::Published(View::Organization(o)) => from == o || to == o,
            Set::Sent(o) => from == o,
            Set::Received(o) => to == o && from != o,
        }
    };

    // Slots: every row of every set, and every cross-tab cell of a published view, with the
    // atoms it counts.
    let mut slots: Vec<(Vec<u32>, bool)> = Vec::new();
    let mut rows: Vec<BTreeMap<Group<'_>, usize>> = Vec::new();
    let mut crosses: Vec<BTreeMap<(&str, &str), usize>> = Vec::new();
    for set in &sets {
        let published = matches!(set, Set::Published(_));
        let mut groups: BTreeMap<Group<'_>, Vec<u32>> = BTreeMap::new();
        groups.insert(Group::Overall, Vec::new());
        let mut cross: BTreeMap<(&str, &str), Vec<u32>> = BTreeMap::new();
        for a in (0..keys.len()).filter(|&a| holds(set, a)) {
            let (_, to, element) = keys[a];
            let (unknown, s) = sector_key(to);
            for g in [
                Group::Overall,
                Group::Element(element),
                Group::Partner(to),
                Group::Sector(unknown, s),
            ] {
                groups.entry(g).or_default().push(a as u32);
            }
            if published {
                cross.entry((to, element)).or_default().push(a as u32);
            }
        }
        let mut slot = |atoms: Vec<u32>, hidden: bool| {
            slots.push((atoms, hidden));
            slots.len() - 1
        };
        rows.push(
            groups
                .into_iter()
                .map(|(g, atoms)| (g, slot(atoms, !published)))
                .collect(),
        );
        // Cross-tab cells are never published.
        crosses.push(cross.into_iter().map(|(k, atoms)| (k, slot(atoms, true))).collect());
    }

    // Equations between slots.
    let mut equations: Vec<Equation> = Vec::new();
    let set_of = |wanted: &Set| sets.iter().position(|s| s == wanted);
    for (s, set) in sets.iter().enumerate() {
        let Set::Published(view) = set else { continue };
        let row = &rows[s];
        let overall = row[&Group::Overall];
        let of = |kind: fn(&Group<'_>) -> bool| -> Vec<usize> {
            row.iter().filter(|(g, _)| kind(g)).map(|(_, &slot)| slot).collect()
        };
        for parts in [
            of(|g| matches!(g, Group::Element(_))),
            of(|g| matches!(g, Group::Partner(_))),
            of(|g| matches!(g, Group::Sector(..))),
        ] {
            equations.push(std::iter::once(overall).chain(parts).collect());
        }
        for (g, &total) in row {
            if let Group::Sector(unknown, sec) = g {
                let mut eq = vec![total];
                eq.extend(
                    row.iter()
                        .filter(|(p, _)| matches!(p, Group::Partner(p) if sector_key(p) == (*unknown, *sec)))
                        .map(|(_, &slot)| slot),
                );
                equations.push(eq);
            }
        }
        // Each element and each partner is the sum of its cross-tab cells.
        let cross = &crosses[s];
        for (g, &total) in row {
            let parts: Vec<usize> = match g {
                Group::Element(e) => cross.iter().filter(|((_, x), _)| x == e).map(|(_, &c)| c).collect(),
                Group::Partner(p) => cross.iter().filter(|((x, _), _)| x == p).map(|(_, &c)| c).collect(),
                _ => continue,
            };
            equations.push(std::iter::once(total).chain(parts).collect());
        }
        // Across views: a subtree is its root's own referrals and its children's subtrees; the
        // state is the roots' subtrees and what organizations outside the tree sent; an
        // organization's view is what it sent and what it received from others.
        let parts: Vec<usize> = match view {
            View::State => {
                let roots = orgs_sorted(orgs).filter(|o| parent.get(o).is_some_and(Option::is_none));
                let mut parts: Vec<usize> = roots
                    .filter_map(|r| set_of(&Set::Published(View::Subtree(r.to_owned()))))
                    .collect();
                let outside: BTreeSet<&str> = keys
                    .iter()
                    .zip(&chains)
                    .filter(|(_, chain)| {
                        !chain
                            .iter()
                            .any(|c| parent.get(c.as_str()).is_some_and(Option::is_none))
                    })
                    .map(|((from, _, _), _)| *from)
                    .collect();
                parts.extend(outside.iter().filter_map(|o| set_of(&Set::Sent((*o).to_owned()))));
                parts
            }
            View::Subtree(x) => {
                let mut parts: Vec<usize> = set_of(&Set::Sent(x.clone())).into_iter().collect();
                parts.extend(
                    orgs_sorted(orgs)
                        .filter(|o| parent.get(o).copied().flatten() == Some(x.as_str()) && *o != x)
                        .filter_map(|c| set_of(&Set::Published(View::Subtree(c.to_owned())))),
                );
                parts
            }
            View::Organization(o) => [Set::Sent(o.clone()), Set::Received(o.clone())]
                .iter()
                .filter_map(&set_of)
                .collect(),
        };
        for (g, &total) in row {
            let eq: Vec<usize> = std::iter::once(total)
                .chain(parts.iter().filter_map(|&p| rows[p].get(g).copied()))
                .collect();
            equations.push(eq);
        }
    }
    // Only equations that hold exactly (disjoint parts adding up to the total) are kept.
    equations.retain(|eq| {
        let mut parts: Vec<u32> = eq[1..].iter().flat_map(|&p| slots[p].0.iter().copied()).collect();
        parts.sort_unstable();
        eq.len() >= 3 && parts == slots[eq[0]].0
    });

    // Suppression, one measure at a time.
    let hidden: Vec<bool> = slots.iter().map(|(_, h)| *h).collect();
    let masks: Vec<Vec<bool>> = (0..3)
        .map(|m| {
            let counts: Vec<u64> = atoms.iter().map(|a| a.counts[m]).collect();
            let populations: Vec<Population> = slots
                .iter()
                .map(|(atoms, _)| atoms.iter().copied().filter(|&a| counts[a as usize] > 0).collect())
                .collect();
            suppress::suppress_release(&Release {
                atoms: &counts,
                populations: &populations,
                hidden: &hidden,
                equations: &equations,
                threshold,
            })
        })
        .collect();

    // The reports.
    let mut reports = BTreeMap::new();
    for (s, set) in sets.iter().enumerate() {
        let Set::Published(view) = set else { continue };
        let report_rows = rows[s]
            .iter()
            .map(|(g, &slot)| {
                let members = &slots[slot].0;
                let count = |m: usize| members.iter().map(|&a| atoms[a as usize].counts[m]).sum::<u64>();
                let shown = |m: usize| (!masks[m][slot]).then(|| count(m));
                let (sent, accepted, completed) = (shown(0), shown(1), shown(2));
                let rate = |part: Option<u64>| match (part, sent) {
                    (Some(part), Some(sent)) if sent >= threshold.max(1) => Some(round(part as f64 / sent as f64, 4)),
                    _ => None,
                };
                let median_of = |m: usize| {
                    shown(m)
                        .filter(|&n| n >= threshold.max(1))
                        .and_then(|_| {
                            let all: Vec<f64> = members
                                .iter()
                                .flat_map(|&a| atoms[a as usize].days(m).iter().copied())
                                .collect();
                            median(&all)
                        })
                        .map(|d| round(d, 1))
                };
                let (breakdown, group) = match g {
                    Group::Overall => (Breakdown::Overall, OVERALL.to_owned()),
                    Group::Element(e) => (Breakdown::Element, (*e).to_owned()),
                    Group::Partner(p) => (Breakdown::Partner, (*p).to_owned()),
                    Group::Sector(_, s) => (Breakdown::Sector, s.map_or(UNKNOWN_SECTOR, Sector::as_str).to_owned()),
                };
                ReferralRow {
                    breakdown,
                    group,
                    sent,
                    accepted,
                    completed,
                    acceptance_rate: rate(accepted),
                    completion_rate: rate(completed),
                    median_days_to_acceptance: median_of(1),
                    median_days_to_completion: median_of(2),
                }
            })
            .collect();
        reports.insert(
            view.clone(),
            ReferralReport {
                window,
                threshold,
                rows: report_rows,
            },
        );
    }
    ReferralViews {
        window,
        threshold,
        reports,
    }
}

/// Organization ids of `orgs`, sorted, without repeats.
fn orgs_sorted(orgs: &[OrgNode]) -> impl Iterator<Item = &str> {
    orgs.iter()
        .map(|o| o.org_id.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
}

/// How many computed releases are kept (one per window, threshold and state of the data).
const CACHED: usize = 8;

type Fingerprint = (u64, u64);

static CACHE: Mutex<Vec<(Fingerprint, Arc<ReferralViews>)>> = Mutex::new(Vec::new());

/// The report of `view`, from [`referral_views`] over every view. The release is computed
/// once for the same referrals, organizations, window and threshold, and then served from a
/// cache: any change to the data (a new referral, a new event) computes it afresh.
pub fn referral_report(
    referrals: &[Referral],
    orgs: &[OrgNode],
    window: impl Into<Window>,
    threshold: u64,
    view: &View,
) -> ReferralReport {
    let window = window.into();
    let key = fingerprint(referrals, orgs, window, threshold);
    let cached = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| Arc::clone(v));
    if let Some(views) = cached {
        return views.report(view);
    }
    let views = Arc::new(referral_views(referrals, orgs, window, threshold));
    let mut cache = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    cache.retain(|(k, _)| *k != key);
    cache.insert(0, (key, Arc::clone(&views)));
    cache.truncate(CACHED);
    views.report(view)
}

/// Two independent 64-bit hashes of everything a release depends on.
fn fingerprint(referrals: &[Referral], orgs: &[OrgNode], window: Window, threshold: u64) -> Fingerprint {
    let hash = |salt: u64| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        window.first_day.hash(&mut h);
        window.last_day.hash(&mut h);
        threshold.hash(&mut h);
        orgs.hash(&mut h);
        for r in referrals.iter().filter(|r| window.contains(r.requested_on())) {
            r.from_org_id.hash(&mut h);
            r.to_org_id.hash(&mut h);
            r.element.hash(&mut h);
            r.events.len().hash(&mut h);
            for e in &r.events {
                e.status.hash(&mut h);
                e.at.hash(&mut h);
            }
        }
        h.finish()
    };
    (hash(0x5eed), hash(0xfeed))
}
