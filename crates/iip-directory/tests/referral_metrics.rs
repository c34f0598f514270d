//! Referral metrics worked by hand, and a linear attacker that must recover nothing.

use iip_directory::referral::SECONDS_PER_DAY;
use iip_directory::referral_metrics::{Breakdown, OVERALL, ReferralReport, ReferralRow, Window, referral_metrics};
use iip_directory::{Referral, ReferralEvent, ReferralStatus};
use iip_domain::{Date, ProgramYear, Sector};

/// 2024-09-02, inside program year 2024-25.
const DAY0: i64 = 19_968 * SECONDS_PER_DAY;

fn year() -> Window {
    Window::from(ProgramYear::starting(2024))
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
fn referral(to: &str, element: &str, day: i64, accepted: Option<f64>, completed: Option<f64>) -> Referral {
    let at = DAY0 + day * SECONDS_PER_DAY;
    let after = |days: f64| at + (days * SECONDS_PER_DAY as f64) as i64;
    let mut events = vec![event(ReferralStatus::Requested, at)];
    let mut status = ReferralStatus::Requested;
    if let Some(a) = accepted {
        events.push(event(ReferralStatus::Accepted, after(a)));
        status = ReferralStatus::Accepted;
    }
    if let Some(c) = completed {
        events.push(event(ReferralStatus::Completed, after(c)));
        status = ReferralStatus::Completed;
    }
    Referral {
        id: 0,
        from_org_id: "hub".into(),
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

fn sector_of(org: &str) -> Option<Sector> {
    match org {
        "clinic" | "a" | "b" => Some(Sector::Nonprofit),
        "college" => Some(Sector::Education),
        "c" => Some(Sector::Public),
        _ => None,
    }
}

fn row<'a>(report: &'a ReferralReport, breakdown: Breakdown, group: &str) -> &'a ReferralRow {
    report.row(breakdown, group).expect("row present")
}

fn counts(row: &ReferralRow) -> [Option<u64>; 3] {
    [row.sent, row.accepted, row.completed]
}

/// clinic (nonprofit), health: 20 referrals, the i-th (0-based) accepted after i + 1 days, the
/// first ten completed after 30 + i days. college (education), english: 20 referrals, the first
/// ten accepted after 3 days, none completed.
fn everything_shows() -> Vec<Referral> {
    let mut all = Vec::new();
    for i in 0..20 {
        let completed = (i < 10).then_some(30.0 + i as f64);
        all.push(referral("clinic", "health", i, Some(1.0 + i as f64), completed));
    }
    for i in 0..20 {
        all.push(referral("college", "english", i, (i < 10).then_some(3.0), None));
    }
    all
}

#[test]
fn a_set_where_every_figure_shows() {
    let report = referral_metrics(&everything_shows(), &sector_of, year(), 10);
    // Overall: 40 sent, 20 + 10 = 30 accepted, 10 completed.
    // Acceptance days, sorted: 1, 2, then eleven 3s (clinic's 3 and college's ten), 4, 5, 6, …
    // 20: thirty values, the 15th is 5 and the 16th 6: median 5.5. Completion: 30 … 39: 34.5.
    let overall = report.overall().expect("overall row");
    assert_eq!(overall.group, OVERALL);
    assert_eq!(counts(overall), [Some(40), Some(30), Some(10)]);
    assert_eq!(overall.acceptance_rate, Some(0.75));
    assert_eq!(overall.completion_rate, Some(0.25));
    assert_eq!(overall.median_days_to_acceptance, Some(5.5));
    assert_eq!(overall.median_days_to_completion, Some(34.5));

    // health = clinic = nonprofit: 20 sent, 20 accepted (1 … 20 days: median 10.5), 10 completed.
    for (breakdown, group) in [
        (Breakdown::Element, "health"),
        (Breakdown::Partner, "clinic"),
        (Breakdown::Sector, "nonprofit"),
    ] {
        let r = row(&report, breakdown, group);
        assert_eq!(counts(r), [Some(20), Some(20), Some(10)], "{group}");
        assert_eq!(r.acceptance_rate, Some(1.0));
        assert_eq!(r.completion_rate, Some(0.5));
        assert_eq!(r.median_days_to_acceptance, Some(10.5));
        assert_eq!(r.median_days_to_completion, Some(34.5));
    }
    // english = college = education: 20 sent, 10 accepted after 3 days, zero completed: the
    // zero is shown, its rate is 0, and there is no median of nothing.
    for (breakdown, group) in [
        (Breakdown::Element, "english"),
        (Breakdown::Partner, "college"),
        (Breakdown::Sector, "education"),
    ] {
        let r = row(&report, breakdown, group);
        assert_eq!(counts(r), [Some(20), Some(10), Some(0)], "{group}");
        assert_eq!(r.acceptance_rate, Some(0.5));
        assert_eq!(r.completion_rate, Some(0.0));
        assert_eq!(r.median_days_to_acceptance, Some(3.0));
        assert_eq!(r.median_days_to_completion, None);
    }
    // Rows: overall, 2 elements, 2 partners, 2 sectors, in that order.
    let order: Vec<(Breakdown, &str)> = report.rows.iter().map(|r| (r.breakdown, r.group.as_str())).collect();
    assert_eq!(
        order,
        [
            (Breakdown::Overall, "all"),
            (Breakdown::Element, "english"),
            (Breakdown::Element, "health"),
            (Breakdown::Partner, "clinic"),
            (Breakdown::Partner, "college"),
            (Breakdown::Sector, "nonprofit"),
            (Breakdown::Sector, "education"),
        ]
    );
}

#[test]
fn only_referrals_requested_in_the_window_count_and_an_empty_window_shows_zeros() {
    let mut all = everything_shows();
    // Requested on 2024-06-30 (program year 2023-24): left out, though accepted in July.
    let before = Date::parse("2024-06-30").expect("date").day_number() as i64 * SECONDS_PER_DAY;
    all.push(referral(
        "clinic",
        "health",
        (before - DAY0) / SECONDS_PER_DAY,
        Some(2.0),
        None,
    ));
    let report = referral_metrics(&all, &sector_of, year(), 10);
    assert_eq!(report.overall().and_then(|r| r.sent), Some(40));

    let empty = referral_metrics(&all, &sector_of, ProgramYear::starting(2030), 10);
    let overall = empty.overall().expect("overall row");
    assert_eq!(counts(overall), [Some(0), Some(0), Some(0)]);
    assert_eq!(overall.acceptance_rate, None, "no rate over no referral");
    assert_eq!(empty.rows.len(), 1);
}

/// a (nonprofit) 3 health referrals, b (nonprofit) 12 health, c (public) 20 english.
/// Accepted: a 3, b 12, c 10. Completed: a 2, b 0, c 10.
fn three_partners() -> Vec<Referral> {
    let mut all = Vec::new();
    for i in 0..3 {
        all.push(referral("a", "health", i, Some(1.0), (i < 2).then_some(5.0)));
    }
    for i in 0..12 {
        all.push(referral("b", "health", i, Some(2.0), None));
    }
    for i in 0..20 {
        all.push(referral(
            "c",
            "english",
            i,
            (i < 10).then_some(4.0),
            (i < 10).then_some(9.0),
        ));
    }
    all
}

#[test]
fn a_group_of_three_is_masked_with_its_complement() {
    let report = referral_metrics(&three_partners(), &sector_of, year(), 10);
    let partner = |g: &str| counts(row(&report, Breakdown::Partner, g));
    let sector = |g: &str| counts(row(&report, Breakdown::Sector, g));
    let element = |g: &str| counts(row(&report, Breakdown::Element, g));

    // Equations per measure: overall = english + health = a + b + c = public + nonprofit;
    // public = c, nonprofit = a + b; and through the unpublished cross-tab (a and b take only
    // health, c only english): health = x_ah + x_bh, english = x_ce, a = x_ah, b = x_bh,
    // c = x_ce.
    //
    // Sent. overall 35 = a 3 + b 12 + c 20: a is small and alone, so the smallest part that
    // protects it goes: b = 12 (a + b = 15 ≥ 10, and only a + b = 15 can be derived).
    //
    // Accepted (a 3, b 12, c 10). The smallest part is c = 10, but c = public = english = 10 is
    // published twice over, so masking it would leave a = 25 − 12 − 10: c is passed over and
    // b = 12 goes instead.
    //
    // Completed (a 2, b 0, c 10; health 2, nonprofit 2 small). overall 12 = english 10 +
    // health 2: english goes, though health = a = nonprofit = 12 − public still holds, because
    // no other part is left; overall = a + b + c: b is zero, so c goes; overall = public +
    // nonprofit: public goes. Now health = a = nonprofit = t and english = c = public = 12 − t:
    // nothing is determined. The total stays shown.
    assert_eq!(partner("a"), [None, None, None]);
    assert_eq!(partner("b"), [None, None, Some(0)]);
    assert_eq!(partner("c"), [Some(20), Some(10), None]);
    assert_eq!(sector("nonprofit"), [Some(15), Some(15), None]);
    assert_eq!(sector("public"), [Some(20), Some(10), None]);
    assert_eq!(element("health"), [Some(15), Some(15), None]);
    assert_eq!(element("english"), [Some(20), Some(10), None]);
    assert_eq!(
        counts(report.overall().expect("overall")),
        [Some(35), Some(25), Some(12)]
    );

    // Rates and medians over a withheld count are withheld; over 15 shown cases they show.
    let b = row(&report, Breakdown::Partner, "b");
    assert_eq!((b.acceptance_rate, b.median_days_to_acceptance), (None, None));
    let c = row(&report, Breakdown::Partner, "c");
    assert_eq!(c.acceptance_rate, Some(0.5));
    assert_eq!(c.completion_rate, None, "completed is withheld");
    assert_eq!(c.median_days_to_completion, None, "10 cases, but the count is withheld");
    let nonprofit = row(&report, Breakdown::Sector, "nonprofit");
    // 3 at 1 day and 12 at 2 days: the 8th of 15 is 2.
    assert_eq!(nonprofit.median_days_to_acceptance, Some(2.0));
}

#[test]
fn a_median_needs_ten_shown_cases() {
    // clinic: 15 sent, all accepted; 5 completed. college: 20 sent, 10 accepted, 10 completed.
    // Completed: overall 15 = clinic 5 + college 10: clinic masked with college (15 ≥ 10).
    // Element and sector rows are the same groups and mask alike.
    let mut all = Vec::new();
    for i in 0..15 {
        all.push(referral("clinic", "health", i, Some(1.0), (i < 5).then_some(8.0)));
    }
    for i in 0..20 {
        all.push(referral(
            "college",
            "english",
            i,
            (i < 10).then_some(2.0),
            (i < 10).then_some(6.0),
        ));
    }
    let report = referral_metrics(&all, &sector_of, year(), 10);
    let clinic = row(&report, Breakdown::Partner, "clinic");
    assert_eq!(counts(clinic), [Some(15), Some(15), None]);
    assert_eq!(clinic.median_days_to_completion, None, "five cases");
    assert_eq!(clinic.median_days_to_acceptance, Some(1.0), "fifteen cases");
    let college = row(&report, Breakdown::Partner, "college");
    assert_eq!(college.completed, None, "complement of the five");
    assert_eq!(college.median_days_to_completion, None, "ten cases, count withheld");
    assert_eq!(college.median_days_to_acceptance, Some(2.0), "exactly ten shown cases");
    // Overall: 15 completed, shown; 5 at 8 days and 10 at 6 days: the 8th of 15 is 6.
    let overall = report.overall().expect("overall");
    assert_eq!(overall.completed, Some(15));
    assert_eq!(overall.median_days_to_completion, Some(6.0));

    // Lower the threshold to 5 and the five cases show, with their median.
    let report = referral_metrics(&all, &sector_of, year(), 5);
    let clinic = row(&report, Breakdown::Partner, "clinic");
    assert_eq!(clinic.completed, Some(5));
    assert_eq!(clinic.median_days_to_completion, Some(8.0));
}

#[test]
fn days_count_in_fractions_rounded_to_a_tenth() {
    // Accepted after 0.25 days (6 hours) ×5 and 0.5 days ×6: 11 values, the 6th is 0.5.
    let mut all = Vec::new();
    for i in 0..5 {
        all.push(referral("clinic", "health", i, Some(0.25), None));
    }
    for i in 0..6 {
        all.push(referral("clinic", "health", i, Some(0.5), None));
    }
    let report = referral_metrics(&all, &sector_of, year(), 10);
    assert_eq!(report.overall().and_then(|r| r.median_days_to_acceptance), Some(0.5));
    // An unknown receiver's sector is "unknown".
    let mut odd = all.clone();
    for r in &mut odd {
        r.to_org_id = "nowhere".into();
    }
    let report = referral_metrics(&odd, &sector_of, year(), 10);
    assert_eq!(report.row(Breakdown::Sector, "unknown").and_then(|r| r.sent), Some(11));
}

// --- The attacker ----------------------------------------------------------------------------

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

fn random_world(seed: u64) -> Vec<Referral> {
    let mut rng = Rng(seed);
    let partners = ["a", "b", "c", "clinic", "college", "nowhere"];
    let elements = ["english", "health", "economic", "civic"];
    let mut all = Vec::new();
    // Each (partner, element) gets 0–14 referrals, a third of them empty: many small cells.
    for p in partners {
        for e in elements {
            let n = if rng.below(3) == 0 { 0 } else { rng.below(15) };
            for i in 0..n {
                let accepted = (rng.below(4) > 0).then(|| rng.below(30) as f64);
                let completed = accepted.filter(|_| rng.below(2) == 0).map(|a| a + 10.0);
                all.push(referral(p, e, i as i64, accepted, completed));
            }
        }
    }
    all
}

/// The additive relations anyone can write down from the published rows, for one measure.
fn published_equations(report: &ReferralReport) -> Vec<Vec<usize>> {
    let index = |b: Breakdown| -> Vec<usize> {
        (0..report.rows.len())
            .filter(|&r| report.rows[r].breakdown == b)
            .collect()
    };
    let overall = index(Breakdown::Overall)[0];
    let mut equations = Vec::new();
    for b in [Breakdown::Element, Breakdown::Partner, Breakdown::Sector] {
        equations.push(std::iter::once(overall).chain(index(b)).collect());
    }
    for s in index(Breakdown::Sector) {
        let sector = &report.rows[s].group;
        let mut eq = vec![s];
        eq.extend(
            index(Breakdown::Partner)
                .into_iter()
                .filter(|&p| sector_of(&report.rows[p].group).map_or("unknown", Sector::as_str) == sector),
        );
        equations.push(eq);
    }
    equations
}

/// The rank of a matrix (Gaussian elimination with partial pivoting).
fn rank(mut rows: Vec<Vec<f64>>) -> usize {
    let columns = rows.first().map_or(0, Vec::len);
    let mut r = 0;
    for c in 0..columns {
        let Some(p) = (r..rows.len()).max_by(|&a, &b| rows[a][c].abs().total_cmp(&rows[b][c].abs())) else {
            break;
        };
        if rows[p][c].abs() < 1e-9 {
            continue;
        }
        rows.swap(r, p);
        let pivot = rows[r].clone();
        for row in rows.iter_mut().skip(r + 1) {
            let f = row[c] / pivot[c];
            for (v, q) in row.iter_mut().zip(&pivot).skip(c) {
                *v -= f * q;
            }
        }
        r += 1;
    }
    r
}

/// The true partner × element cross-tab of one measure: never published, but anyone who
/// knows whom each partner serves knows which of its cells are empty.
fn cross_tab(world: &[Referral], measure: usize) -> Vec<(String, String, u64)> {
    let mut cells: std::collections::BTreeMap<(String, String), u64> = Default::default();
    for r in world {
        let counts = [
            true,
            r.reached(ReferralStatus::Accepted).is_some(),
            r.reached(ReferralStatus::Completed).is_some(),
        ];
        if counts[measure] {
            *cells.entry((r.to_org_id.clone(), r.element.clone())).or_default() += 1;
        }
    }
    cells.into_iter().map(|((p, e), n)| (p, e, n)).collect()
}

#[test]
fn no_masked_figure_can_be_recovered_by_subtraction() {
    let threshold = 10;
    let mut masked_seen = 0;
    for seed in 0..200 {
        let world = random_world(seed);
        let report = referral_metrics(&world, &sector_of, year(), threshold);
        // The true figures: with a threshold of 1 nothing is withheld.
        let truth = referral_metrics(&world, &sector_of, year(), 1);
        assert_eq!(report.rows.len(), truth.rows.len());
        let rows = report.rows.len();
        for measure in 0..3 {
            let value = |rows: &[ReferralRow], r: usize| counts(&rows[r])[measure];
            let mut real: Vec<u64> = (0..rows).map(|r| value(&truth.rows, r).expect("all shown")).collect();
            let mut shown: Vec<Option<u64>> = (0..rows).map(|r| value(&report.rows, r)).collect();
            for (r, s) in shown.iter().enumerate() {
                match s {
                    Some(v) => {
                        assert_eq!(*v, real[r]);
                        assert!(*v == 0 || *v >= threshold, "seed {seed}: small figure {v} shown");
                    }
                    None => {
                        masked_seen += 1;
                        assert_ne!(real[r], 0, "seed {seed}: a zero withheld");
                    }
                }
            }
            // Each published equation: none or two or more withheld; under a shown total,
            // the withheld parts add up to at least the threshold.
            let mut equations = published_equations(&report);
            for eq in &equations {
                let hidden: Vec<usize> = eq.iter().copied().filter(|&c| shown[c].is_none()).collect();
                assert_ne!(
                    hidden.len(),
                    1,
                    "seed {seed}, measure {measure}: one withheld in {eq:?}"
                );
                if shown[eq[0]].is_some() && !hidden.is_empty() {
                    let parts: u64 = hidden.iter().map(|&c| real[c]).sum();
                    assert!(parts >= threshold, "seed {seed}: withheld parts add up to {parts}");
                }
            }
            // The cross-tab's non-empty cells join as unknowns: element and partner rows are
            // sums of them.
            let row_of = |b: Breakdown, g: &str| report.rows.iter().position(|r| r.breakdown == b && r.group == g);
            let mut by_row: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
            for (partner, element, n) in cross_tab(&world, measure) {
                let cell = real.len();
                real.push(n);
                shown.push(None);
                for row in [
                    row_of(Breakdown::Element, &element),
                    row_of(Breakdown::Partner, &partner),
                ] {
                    by_row.entry(row.expect("row of a referral")).or_default().push(cell);
                }
            }
            equations.extend(
                by_row
                    .into_iter()
                    .map(|(row, cells)| std::iter::once(row).chain(cells).collect()),
            );
            // All equations together: an unknown is determined exactly when dropping its
            // column lowers the rank of the system over the unknowns. Withheld figures and
            // small cross-tab cells must not be.
            let unknowns: Vec<usize> = (0..shown.len()).filter(|&c| shown[c].is_none()).collect();
            let matrix = |skip: Option<usize>| -> Vec<Vec<f64>> {
                equations
                    .iter()
                    .map(|eq| {
                        unknowns
                            .iter()
                            .filter(|&&u| Some(u) != skip)
                            .map(|&u| {
                                eq.iter()
                                    .enumerate()
                                    .filter(|&(_, &c)| c == u)
                                    .map(|(k, _)| if k == 0 { 1.0 } else { -1.0 })
                                    .sum()
                            })
                            .collect()
                    })
                    .collect()
            };
            let full = rank(matrix(None));
            for &u in unknowns.iter().filter(|&&u| u < rows || real[u] < threshold) {
                let what = if u < rows {
                    report.rows[u].group.as_str()
                } else {
                    "a cross-tab cell"
                };
                assert_eq!(
                    rank(matrix(Some(u))),
                    full,
                    "seed {seed}, measure {measure}: {what} {} is determined",
                    ["sent", "accepted", "completed"][measure]
                );
            }
        }
        // Rates and medians never rest on a withheld count or fewer than ten cases.
        for (r, t) in report.rows.iter().zip(&truth.rows) {
            assert!(r.acceptance_rate.is_none() || (r.accepted.is_some() && r.sent.is_some_and(|s| s >= 10)));
            assert!(r.completion_rate.is_none() || (r.completed.is_some() && r.sent.is_some_and(|s| s >= 10)));
            assert!(r.median_days_to_acceptance.is_none() || r.accepted.is_some_and(|n| n >= 10));
            assert!(r.median_days_to_completion.is_none() || r.completed.is_some_and(|n| n >= 10));
            if r.accepted.is_some_and(|n| n >= 10) {
                assert_eq!(r.median_days_to_acceptance, t.median_days_to_acceptance);
            }
        }
    }
    assert!(
        masked_seen > 500,
        "the worlds exercise suppression: {masked_seen} withheld"
    );
}
