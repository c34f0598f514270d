//! Differencing attacks on the referral metrics of overlapping views.
//!
//! Users see the referral metrics of one view each: their organization's (sent or received),
//! their subtree's (sent from it), or the state's. An attacker who can sign in as several
//! users (or reads several users' screens) holds every view's figures at once. Three
//! attackers, none of whom may learn a small count:
//!
//! - **subtraction**: two shown figures whose populations differ by 1 to 9 referrals (one
//!   nested in the other, or overlapping) give that small difference away;
//! - **linear algebra**: every shown figure is an equation over the sender × receiver ×
//!   element cells; a withheld figure, or a small cell, the system determines is recovered;
//! - **linear programming**: with the cells non-negative, every withheld figure's feasible
//!   range given the shown figures must be at least 10 wide.
//!
//! Releasing each view on its own (`referral_metrics` over the view's referrals) loses to the
//! first attacker; `referral_views`, which suppresses every view together, to none.

use std::collections::{BTreeMap, BTreeSet};

use iip_directory::referral::SECONDS_PER_DAY;
use iip_directory::referral_metrics::{Breakdown, ReferralReport, Window, referral_metrics};
use iip_directory::referral_views::{OrgNode, View, referral_report, referral_views};
use iip_directory::{Referral, ReferralEvent, ReferralStatus};
use iip_domain::{ProgramYear, Sector};

const K: u64 = 10;
/// 2024-09-02, inside program year 2024-25.
const DAY0: i64 = 19_968 * SECONDS_PER_DAY;

fn year() -> Window {
    Window::from(ProgramYear::starting(2024))
}

/// The state office; two consortia, each with members; and a second root outside the tree.
fn orgs() -> Vec<OrgNode> {
    vec![
        OrgNode::new("ca", None, Some(Sector::Public)),
        OrgNode::new("north", Some("ca"), Some(Sector::Nonprofit)),
        OrgNode::new("north-school", Some("north"), Some(Sector::Education)),
        OrgNode::new("north-cbo", Some("north"), Some(Sector::Nonprofit)),
        OrgNode::new("north-clinic", Some("north"), Some(Sector::Nonprofit)),
        OrgNode::new("south", Some("ca"), Some(Sector::Nonprofit)),
        OrgNode::new("south-school", Some("south"), Some(Sector::Education)),
        OrgNode::new("south-cbo", Some("south"), Some(Sector::Nonprofit)),
        OrgNode::new("tribal", None, Some(Sector::Nonprofit)),
    ]
}

fn sector_of(org: &str) -> Option<Sector> {
    orgs().into_iter().find(|o| o.org_id == org).and_then(|o| o.sector)
}

fn event(status: ReferralStatus, at: i64) -> ReferralEvent {
    ReferralEvent {
        status,
        at,
        by_user: None,
        by_org_id: "x".into(),
        reason: None,
    }
}

/// A referral requested on DAY0 + `day`, accepted and completed after so many days.
fn referral(from: &str, to: &str, element: &str, day: i64, accepted: Option<i64>, completed: Option<i64>) -> Referral {
    let at = DAY0 + day * SECONDS_PER_DAY;
    let mut events = vec![event(ReferralStatus::Requested, at)];
    let mut status = ReferralStatus::Requested;
    if let Some(a) = accepted {
        events.push(event(ReferralStatus::Accepted, at + a * SECONDS_PER_DAY));
        status = ReferralStatus::Accepted;
    }
    if let Some(c) = completed {
        events.push(event(ReferralStatus::Completed, at + c * SECONDS_PER_DAY));
        status = ReferralStatus::Completed;
    }
    Referral {
        id: 0,
        from_org_id: from.into(),
        participant_id: "p".into(),
        to_org_id: to.into(),
        service_id: None,
        element: element.into(),
        note: None,
        status,
        outcome_milestone: None,
        events,
    }
}

/// Every view a set of users could be shown.
fn every_view() -> Vec<View> {
    let mut views = vec![View::State];
    for o in orgs() {
        views.push(View::Subtree(o.org_id.clone()));
        views.push(View::Organization(o.org_id));
    }
    views
}

/// Whether `org` is `ancestor` or below it.
fn within(org: &str, ancestor: &str) -> bool {
    let orgs = orgs();
    let mut current = Some(org.to_owned());
    for _ in 0..=orgs.len() {
        match current {
            Some(ref c) if c == ancestor => return true,
            Some(ref c) => current = orgs.iter().find(|o| &o.org_id == c).and_then(|o| o.parent_id.clone()),
            None => return false,
        }
    }
    false
}

fn in_view(view: &View, r: &Referral) -> bool {
    match view {
        View::State => true,
        View::Subtree(x) => within(&r.from_org_id, x),
        View::Organization(o) => &r.from_org_id == o || &r.to_org_id == o,
    }
}

type Released = Vec<(View, ReferralReport)>;

/// The old way: each view's referrals, suppressed on their own.
fn one_view_at_a_time(world: &[Referral]) -> Released {
    every_view()
        .into_iter()
        .map(|view| {
            let mine: Vec<Referral> = world.iter().filter(|r| in_view(&view, r)).cloned().collect();
            let report = referral_metrics(&mine, &sector_of, year(), K);
            (view, report)
        })
        .collect()
}

/// Every view, suppressed together.
fn jointly(world: &[Referral]) -> Released {
    let all = referral_views(world, &orgs(), year(), K);
    every_view()
        .into_iter()
        .map(|view| {
            let report = all.report(&view);
            (view, report)
        })
        .collect()
}

/// One published figure as the attacker sees it, with (for the judge) the referrals it counts.
#[derive(Debug, Clone)]
struct Figure {
    label: String,
    measure: usize,
    /// Indices into the world, sorted.
    population: Vec<usize>,
    shown: Option<u64>,
}

const MEASURES: [&str; 3] = ["sent", "accepted", "completed"];

fn counts_in(r: &Referral, measure: usize) -> bool {
    match measure {
        0 => true,
        1 => r.reached(ReferralStatus::Accepted).is_some(),
        _ => r.reached(ReferralStatus::Completed).is_some(),
    }
}

fn in_group(breakdown: Breakdown, group: &str, r: &Referral) -> bool {
    match breakdown {
        Breakdown::Overall => true,
        Breakdown::Element => r.element == group,
        Breakdown::Partner => r.to_org_id == group,
        Breakdown::Sector => sector_of(&r.to_org_id).map_or("unknown", Sector::as_str) == group,
    }
}

fn figures(world: &[Referral], released: &Released) -> Vec<Figure> {
    let window = year();
    let mut out = Vec::new();
    for (view, report) in released {
        for row in &report.rows {
            for (measure, shown) in [row.sent, row.accepted, row.completed].into_iter().enumerate() {
                let population: Vec<usize> = (0..world.len())
                    .filter(|&i| {
                        let r = &world[i];
                        window.contains(r.requested_on())
                            && in_view(view, r)
                            && in_group(row.breakdown, &row.group, r)
                            && counts_in(r, measure)
                    })
                    .collect();
                if let Some(v) = shown {
                    assert_eq!(v, population.len() as u64, "{view:?} {row:?}");
                }
                out.push(Figure {
                    label: format!("{view:?} {:?} {} {}", row.breakdown, row.group, MEASURES[measure]),
                    measure,
                    population,
                    shown,
                });
            }
        }
    }
    out
}

/// The first attacker: every pair of shown figures of a measure whose populations differ by
/// 1 to K − 1 referrals. Returns what each such pair gives away.
fn subtraction(figures: &[Figure]) -> Vec<String> {
    let mut found = Vec::new();
    // One figure per distinct population (the same people shown twice teach nothing).
    let mut distinct: BTreeMap<(usize, Vec<usize>), &Figure> = BTreeMap::new();
    for f in figures.iter().filter(|f| f.shown.is_some()) {
        distinct.entry((f.measure, f.population.clone())).or_insert(f);
    }
    let shown: Vec<&Figure> = distinct.into_values().collect();
    for (i, a) in shown.iter().enumerate() {
        for b in &shown[i + 1..] {
            if a.measure != b.measure {
                continue;
            }
            let (x, y): (BTreeSet<usize>, BTreeSet<usize>) = (
                a.population.iter().copied().collect(),
                b.population.iter().copied().collect(),
            );
            let only_a = x.difference(&y).count() as u64;
            let only_b = y.difference(&x).count() as u64;
            if (1..K).contains(&(only_a + only_b)) {
                found.push(format!(
                    "{} ({}) − {} ({}): {} and {} referrals apart",
                    a.label,
                    a.shown.unwrap_or(0),
                    b.label,
                    b.shown.unwrap_or(0),
                    only_a,
                    only_b
                ));
            }
        }
    }
    found
}

/// The sender × receiver × element cells of a measure that hold at least one referral: the
/// unknowns of the second and third attackers (who are told which cells are empty).
fn cells_of(world: &[Referral], measure: usize) -> Vec<Vec<usize>> {
    let window = year();
    let mut cells: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, r) in world.iter().enumerate() {
        if window.contains(r.requested_on()) && counts_in(r, measure) {
            cells
                .entry((&r.from_org_id, &r.to_org_id, &r.element))
                .or_default()
                .push(i);
        }
    }
    cells.into_values().collect()
}

/// A figure as a vector over the cells (each cell wholly in or out of it).
fn vector(population: &[usize], cells: &[Vec<usize>]) -> Vec<f64> {
    cells
        .iter()
        .map(|cell| {
            let inside = cell.iter().filter(|i| population.binary_search(i).is_ok()).count();
            assert!(inside == 0 || inside == cell.len(), "a figure splits a cell");
            if inside > 0 { 1.0 } else { 0.0 }
        })
        .collect()
}

/// Reduced row echelon rows of the independent vectors among `rows`, with the indices kept.
fn independent(rows: &[Vec<f64>]) -> (Vec<(usize, Vec<f64>)>, Vec<usize>) {
    let mut basis: Vec<(usize, Vec<f64>)> = Vec::new(); // (pivot column, row)
    let mut kept = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let mut v = row.clone();
        for (p, b) in &basis {
            let f = v[*p];
            if f.abs() > 1e-9 {
                for (x, y) in v.iter_mut().zip(b) {
                    *x -= f * y;
                }
            }
        }
        let Some(p) = (0..v.len()).max_by(|&a, &b| v[a].abs().total_cmp(&v[b].abs())) else {
            continue;
        };
        if v[p].abs() < 1e-7 {
            continue;
        }
        let lead = v[p];
        for x in &mut v {
            *x /= lead;
        }
        for (_, b) in &mut basis {
            let f = b[p];
            if f.abs() > 1e-9 {
                for (x, y) in b.iter_mut().zip(&v) {
                    *x -= f * y;
                }
            }
        }
        basis.push((p, v));
        kept.push(i);
    }
    (basis, kept)
}

fn in_span(basis: &[(usize, Vec<f64>)], vector: &[f64]) -> bool {
    let mut v = vector.to_vec();
    for (p, b) in basis {
        let f = v[*p];
        if f.abs() > 1e-9 {
            for (x, y) in v.iter_mut().zip(b) {
                *x -= f * y;
            }
        }
    }
    v.iter().all(|x| x.abs() < 1e-7)
}

/// Minimises `cost · x` subject to the tableau's rows (`[coefficients | rhs]`, the columns of
/// `basis` forming an identity) and x ≥ 0, over columns `< usable`; Bland's rule. `None` when
/// unbounded.
fn simplex(tableau: &mut [Vec<f64>], basis: &mut [usize], cost: &[f64], usable: usize) -> Option<f64> {
    let width = tableau.first().map_or(0, |r| r.len() - 1);
    loop {
        let reduced = |j: usize| {
            cost[j]
                - basis
                    .iter()
                    .zip(tableau.iter())
                    .map(|(&b, row)| cost[b] * row[j])
                    .sum::<f64>()
        };
        let Some(enter) = (0..usable).find(|&j| !basis.contains(&j) && reduced(j) < -1e-9) else {
            return Some(
                basis
                    .iter()
                    .zip(tableau.iter())
                    .map(|(&b, row)| cost[b] * row[width])
                    .sum(),
            );
        };
        let leave = (0..tableau.len())
            .filter(|&i| tableau[i][enter] > 1e-9)
            .min_by(|&a, &b| {
                let ra = tableau[a][width] / tableau[a][enter];
                let rb = tableau[b][width] / tableau[b][enter];
                if (ra - rb).abs() > 1e-9 {
                    ra.total_cmp(&rb)
                } else {
                    basis[a].cmp(&basis[b])
                }
            })?;
        let lead = tableau[leave][enter];
        for x in tableau[leave].iter_mut() {
            *x /= lead;
        }
        let pivot = tableau[leave].clone();
        for (i, row) in tableau.iter_mut().enumerate() {
            let f = row[enter];
            if i != leave && f.abs() > 1e-12 {
                for (x, y) in row.iter_mut().zip(&pivot) {
                    *x -= f * y;
                }
            }
        }
        basis[leave] = enter;
    }
}

/// The third attacker's feasible set: A x = b, x ≥ 0, as a tableau in a feasible basis.
struct Feasible {
    tableau: Vec<Vec<f64>>,
    basis: Vec<usize>,
    columns: usize,
}

impl Feasible {
    fn new(rows: &[Vec<f64>], rhs: &[f64]) -> Self {
        let (n, m) = (rows.first().map_or(0, Vec::len), rows.len());
        // Phase one: an artificial variable per row.
        let mut tableau: Vec<Vec<f64>> = rows
            .iter()
            .zip(rhs)
            .enumerate()
            .map(|(i, (row, &b))| {
                let mut t = row.clone();
                t.extend((0..m).map(|j| if j == i { 1.0 } else { 0.0 }));
                t.push(b);
                t
            })
            .collect();
        let mut basis: Vec<usize> = (n..n + m).collect();
        let cost: Vec<f64> = (0..n + m).map(|j| if j >= n { 1.0 } else { 0.0 }).collect();
        let infeasibility = simplex(&mut tableau, &mut basis, &cost, n + m).expect("bounded");
        assert!(infeasibility.abs() < 1e-6, "the true figures are feasible");
        // Artificials left in the basis (at zero) are pivoted out; the rows are independent.
        for i in 0..m {
            if basis[i] >= n {
                let j = (0..n).find(|&j| tableau[i][j].abs() > 1e-9).expect("independent rows");
                let lead = tableau[i][j];
                for x in tableau[i].iter_mut() {
                    *x /= lead;
                }
                let pivot = tableau[i].clone();
                for (r, row) in tableau.iter_mut().enumerate() {
                    let f = row[j];
                    if r != i && f.abs() > 1e-12 {
                        for (x, y) in row.iter_mut().zip(&pivot) {
                            *x -= f * y;
                        }
                    }
                }
                basis[i] = j;
            }
        }
        Self {
            tableau,
            basis,
            columns: n,
        }
    }

    /// The least and the greatest value of `objective · x` (the greatest may be infinite).
    fn range(&self, objective: &[f64]) -> (f64, f64) {
        let m = self.tableau.len();
        let extend = |sign: f64| -> Vec<f64> {
            let mut c: Vec<f64> = objective.iter().map(|x| sign * x).collect();
            c.extend(std::iter::repeat_n(0.0, m));
            c
        };
        let solve = |sign: f64| {
            let (mut t, mut b) = (self.tableau.clone(), self.basis.clone());
            simplex(&mut t, &mut b, &extend(sign), self.columns).map(|v| sign * v)
        };
        let low = solve(1.0).expect("bounded below by zero");
        let high = solve(-1.0).unwrap_or(f64::INFINITY);
        (low, high)
    }
}

#[derive(Debug, Default)]
struct Outcome {
    figures: usize,
    withheld: usize,
    subtracted: Vec<String>,
    determined: Vec<String>,
    narrow: Vec<String>,
}

/// All three attackers against one release.
fn attack(world: &[Referral], released: &Released) -> Outcome {
    let figures = figures(world, released);
    let mut outcome = Outcome {
        figures: figures.len(),
        withheld: figures.iter().filter(|f| f.shown.is_none()).count(),
        subtracted: subtraction(&figures),
        ..Outcome::default()
    };
    for f in &figures {
        let n = f.population.len() as u64;
        assert!(
            f.shown.is_none_or(|v| v == 0 || v >= K),
            "{}: small figure shown",
            f.label
        );
        assert!(f.shown.is_some() || n > 0, "{}: a zero withheld", f.label);
    }
    for (measure, name) in MEASURES.iter().enumerate() {
        let cells = cells_of(world, measure);
        if cells.is_empty() {
            continue;
        }
        let of_measure: Vec<&Figure> = figures.iter().filter(|f| f.measure == measure).collect();
        let shown: Vec<&&Figure> = of_measure.iter().filter(|f| f.shown.is_some()).collect();
        let rows: Vec<Vec<f64>> = shown.iter().map(|f| vector(&f.population, &cells)).collect();
        let (basis, kept) = independent(&rows);
        // Withheld figures, each once, and the small cells.
        let mut targets: BTreeMap<Vec<usize>, String> = BTreeMap::new();
        for f in of_measure.iter().filter(|f| f.shown.is_none()) {
            targets.entry(f.population.clone()).or_insert_with(|| f.label.clone());
        }
        for cell in cells.iter().filter(|c| (c.len() as u64) < K) {
            let r = &world[cell[0]];
            targets
                .entry(cell.clone())
                .or_insert_with(|| format!("cell {} → {} {} {}", r.from_org_id, r.to_org_id, r.element, name));
        }
        for (population, label) in &targets {
            if in_span(&basis, &vector(population, &cells)) {
                outcome.determined.push(format!("{label} = {}", population.len()));
            }
        }
        let lp_rows: Vec<Vec<f64>> = kept.iter().map(|&i| rows[i].clone()).collect();
        let rhs: Vec<f64> = kept.iter().map(|&i| shown[i].shown.unwrap_or(0) as f64).collect();
        let feasible = Feasible::new(&lp_rows, &rhs);
        for f in of_measure.iter().filter(|f| f.shown.is_none()) {
            let (low, high) = feasible.range(&vector(&f.population, &cells));
            if high - low < K as f64 - 1e-6 {
                outcome.narrow.push(format!(
                    "{} = {}: between {low:.1} and {high:.1}",
                    f.label,
                    f.population.len()
                ));
            }
        }
    }
    outcome.narrow.sort();
    outcome.narrow.dedup();
    outcome
}

/// north-school sends 50 health referrals to north-cbo (all accepted, 20 completed);
/// south-school sends it 3, none accepted.
fn three_from_the_south() -> Vec<Referral> {
    let mut world = Vec::new();
    for i in 0..50 {
        world.push(referral(
            "north-school",
            "north-cbo",
            "health",
            i,
            Some(2),
            (i < 20).then_some(9),
        ));
    }
    for i in 0..3 {
        world.push(referral("south-school", "north-cbo", "health", i, None, None));
    }
    world
}

#[test]
fn views_released_one_at_a_time_give_away_the_state_minus_the_consortium() {
    let world = three_from_the_south();
    let released = one_view_at_a_time(&world);
    let row = |view: &View, g: &str| {
        let report = &released.iter().find(|(v, _)| v == view).expect("view").1;
        report.row(Breakdown::Partner, g).and_then(|r| r.sent)
    };
    // Each view is safe alone: the south's 3 are withheld in the south's view...
    assert_eq!(row(&View::Subtree("south".into()), "north-cbo"), None);
    // ...but the state shows 53 and the north 50: 53 − 50 = 3.
    assert_eq!(row(&View::State, "north-cbo"), Some(53));
    assert_eq!(row(&View::Subtree("north".into()), "north-cbo"), Some(50));
    let outcome = attack(&world, &released);
    assert!(
        outcome
            .subtracted
            .iter()
            .any(|s| s.contains("(50)") && s.contains("(53)")),
        "{:#?}",
        outcome.subtracted
    );
    assert!(
        !outcome.determined.is_empty(),
        "the 3 cells are recovered: {:#?}",
        outcome
    );
}

#[test]
fn views_released_together_give_nothing_away() {
    let world = three_from_the_south();
    let released = jointly(&world);
    let outcome = attack(&world, &released);
    assert!(outcome.subtracted.is_empty(), "{:#?}", outcome.subtracted);
    assert!(outcome.determined.is_empty(), "{:#?}", outcome.determined);
    assert!(outcome.narrow.is_empty(), "{:#?}", outcome.narrow);
    // The state's and the north's figures for north-cbo differ by the south's 3: not both
    // shown. What stays shown is consistent across views.
    let row = |view: &View, b: Breakdown, g: &str| {
        let report = &released.iter().find(|(v, _)| v == view).expect("view").1;
        report.row(b, g).and_then(|r| r.sent)
    };
    let state = row(&View::State, Breakdown::Partner, "north-cbo");
    let north = row(&View::Subtree("north".into()), Breakdown::Partner, "north-cbo");
    assert!(state.is_none() || north.is_none(), "{state:?} {north:?}");
    // The north's 50 is what north-school sent: its case workers see the same figure.
    assert_eq!(
        north,
        row(&View::Organization("north-school".into()), Breakdown::Overall, "all")
    );
    // The south's view still withholds its 3.
    assert_eq!(row(&View::Subtree("south".into()), Breakdown::Overall, "all"), None);
}

/// SplitMix64: the same worlds on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Referrals between the members and the second root, in two elements: each (sender,
/// receiver, element) cell empty half the time, else 1–15 referrals.
fn random_world(seed: u64) -> Vec<Referral> {
    let mut rng = Rng(seed);
    let senders = ["north-school", "north-cbo", "south-school", "tribal"];
    let receivers = ["north-cbo", "north-clinic", "south-cbo", "south-school", "tribal"];
    let mut world = Vec::new();
    for from in senders {
        for to in receivers.iter().filter(|&&t| t != from) {
            for element in ["health", "english"] {
                let n = if rng.below(2) == 0 { 0 } else { 1 + rng.below(15) };
                for i in 0..n {
                    let accepted = (rng.below(4) > 0).then(|| rng.below(20) as i64);
                    let completed = accepted.filter(|_| rng.below(2) == 0).map(|a| a + 10);
                    world.push(referral(from, to, element, i as i64, accepted, completed));
                }
            }
        }
    }
    world
}

#[test]
fn one_view_at_a_time_loses_to_subtraction_in_random_worlds() {
    let mut subtracted = 0;
    for seed in 0..10 {
        let world = random_world(seed);
        subtracted += attack(&world, &one_view_at_a_time(&world)).subtracted.len();
    }
    eprintln!("10 worlds released one view at a time: {subtracted} pairs a few referrals apart");
    assert!(subtracted > 0, "the attacker has teeth");
}

#[test]
fn no_attacker_recovers_anything_from_views_released_together() {
    let (mut figures, mut withheld) = (0, 0);
    for seed in 0..40 {
        let world = random_world(seed);
        let outcome = attack(&world, &jointly(&world));
        assert!(outcome.subtracted.is_empty(), "seed {seed}: {:#?}", outcome.subtracted);
        assert!(outcome.determined.is_empty(), "seed {seed}: {:#?}", outcome.determined);
        assert!(outcome.narrow.is_empty(), "seed {seed}: {:#?}", outcome.narrow);
        figures += outcome.figures;
        withheld += outcome.withheld;
    }
    eprintln!("40 worlds: {figures} figures released, {withheld} withheld");
    assert!(withheld > 1_000, "the worlds exercise suppression: {withheld} withheld");
    assert!(
        figures - withheld > 1_000,
        "and still show figures: {} shown",
        figures - withheld
    );
}

#[test]
fn medians_and_rates_rest_only_on_shown_counts_of_ten() {
    for seed in 0..10 {
        let world = random_world(seed);
        for (view, report) in jointly(&world) {
            for r in &report.rows {
                let ok = |rate: Option<f64>, part: Option<u64>| {
                    rate.is_none() || (part.is_some() && r.sent.is_some_and(|s| s >= K))
                };
                assert!(ok(r.acceptance_rate, r.accepted), "{view:?} {r:?}");
                assert!(ok(r.completion_rate, r.completed), "{view:?} {r:?}");
                assert!(r.median_days_to_acceptance.is_none() || r.accepted.is_some_and(|n| n >= K));
                assert!(r.median_days_to_completion.is_none() || r.completed.is_some_and(|n| n >= K));
            }
        }
    }
}

#[test]
fn the_cached_report_is_the_joint_one_and_follows_the_data() {
    let mut world = three_from_the_south();
    let all = referral_views(&world, &orgs(), year(), K);
    for view in every_view() {
        assert_eq!(referral_report(&world, &orgs(), year(), K, &view), all.report(&view));
    }
    // A new referral is a new release, not the cached one.
    world.push(referral("north-school", "north-cbo", "health", 60, None, None));
    let fresh = referral_views(&world, &orgs(), year(), K);
    for view in every_view() {
        assert_eq!(referral_report(&world, &orgs(), year(), K, &view), fresh.report(&view));
    }
    assert_ne!(fresh.report(&View::State), all.report(&View::State));
    // A view nobody's referrals fall in is all zeros.
    let empty = referral_report(&world, &orgs(), year(), K, &View::Organization("nowhere".into()));
    assert_eq!(empty.rows.len(), 1);
    assert_eq!(empty.overall().and_then(|r| r.sent), Some(0));
}

#[test]
fn a_single_view_shows_what_it_showed_alone_when_nothing_overlaps() {
    // One sender, one receiver per element, every figure large: nothing to withhold.
    let mut world = Vec::new();
    for i in 0..20 {
        world.push(referral("north-school", "north-cbo", "health", i, Some(1), None));
        world.push(referral("north-school", "north-clinic", "english", i, Some(3), Some(8)));
    }
    let joint = referral_views(&world, &orgs(), year(), K).report(&View::State);
    let alone = referral_metrics(&world, &sector_of, year(), K);
    assert_eq!(joint, alone);
}
