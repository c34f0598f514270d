//! Community gap analysis: need against capacity, for each area, element and language.

/// A published community figure, imported from CSV: how many people of a language live in an
/// area (for example the immigrant population of Fremont that speaks Tagalog).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CommunityFigure {
    pub area: String,
    /// ISO 639-1 code.
    pub language: String,
    pub population: u64,
}

/// One participant's need in one element, as the store knows it: a need on their pathway or a
/// low self-assessment score (below [`LOW_SELF_SCORE`]). One per participant record and element.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NeedSignal {
    pub org_id: String,
    /// The participant's primary language (ISO 639-1), when recorded.
    pub language: Option<String>,
    pub element: String,
}

/// A self-assessment score (0–1) below this is read as a need in that element.
pub const LOW_SELF_SCORE: f64 = 0.5;

// ---------------------------------------------------------------------------------------------
// The analysis. Method and worked example: docs/gaps.md.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use iip_domain::records::Organization;

use crate::referral::{Referral, ReferralStatus, SECONDS_PER_DAY};
use crate::referral_metrics::median;
use crate::service::Service;
use crate::suppress::is_small;

/// The framework's element ids in framework order: every community figure is a demand for
/// each of them. Elements seen only in the data follow, alphabetically.
pub const ELEMENTS: [&str; 8] = [
    "english",
    "education",
    "economic",
    "credentials",
    "health",
    "civic",
    "navigation",
    "social",
];

/// Participants with a need that make one point of need.
pub const PARTICIPANTS_PER_POINT: f64 = 10.0;

/// Days to acceptance above which a service counts for less (half at twice this).
pub const PROMPT_DAYS: f64 = 14.0;

/// Everything the analysis reads. `referrals` are the ones the caller wants judged (say the
/// last program year's); all of them count.
#[derive(Debug, Clone, Copy)]
pub struct GapInput<'a> {
    pub organizations: &'a [Organization],
    pub needs: &'a [NeedSignal],
    pub community: &'a [CommunityFigure],
    pub services: &'a [Service],
    pub referrals: &'a [Referral],
    /// Small-cell threshold: counts from 1 to `threshold − 1` are withheld (10 by default).
    pub threshold: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedLevel {
    None,
    Low,
    Medium,
    High,
}

impl NeedLevel {
    /// high from 2 points, medium from 1, low above 0.
    pub fn of(score: f64) -> Self {
        if score >= 2.0 {
            Self::High
        } else if score >= 1.0 {
            Self::Medium
        } else if score > 0.0 {
            Self::Low
        } else {
            Self::None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityLevel {
    /// No service in the area, element and language.
    None,
    /// Services, but fewer capacity points than need points.
    Low,
    /// At least as many capacity points as need points.
    Adequate,
}

impl CapacityLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Adequate => "adequate",
        }
    }
}

/// One (area, element, language) of the analysis. Scores are rounded to two decimals before
/// they are compared, so the figures shown explain the order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GapCell {
    /// As the organizations or community figures spell it.
    pub area: String,
    pub element: String,
    pub element_name: String,
    /// ISO 639-1, lower case; `None` for needs recorded without a language.
    pub language: Option<String>,
    pub language_name: String,
    /// Participant records with the need; `None` when withheld (1 to threshold − 1).
    pub need_count: Option<u64>,
    /// Community figure for the language in the area (public, never withheld).
    pub population: u64,
    pub need_score: f64,
    pub need_level: NeedLevel,
    /// Directory services in the area, element and language.
    pub services: usize,
    /// Services in the area and element offered only in other languages.
    pub services_in_other_languages: usize,
    /// Of referrals to those services' organizations for the element, when used (see docs).
    pub acceptance_rate: Option<f64>,
    pub median_days_to_acceptance: Option<f64>,
    pub capacity_score: f64,
    pub capacity_level: CapacityLevel,
    /// need − capacity, at least 0. A cell is a gap when this is above 0.
    pub gap_score: f64,
    /// "Tagalog-speaking health navigation in Fremont: high need, no service".
    pub sentence: String,
}

/// A gap in the ranked list: 1 is the largest.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Gap {
    pub rank: usize,
    #[serde(flatten)]
    pub cell: GapCell,
}

/// One square of the heat map: the largest gap of the (area, element) over its languages.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HeatCell {
    pub element: String,
    /// 0 when no language of the cell has a gap.
    pub score: f64,
    /// The language of that largest gap.
    pub language: Option<String>,
    pub language_name: Option<String>,
    pub need_level: NeedLevel,
    pub capacity_level: Option<CapacityLevel>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HeatRow {
    pub area: String,
    /// In the order of [`HeatMap::elements`].
    pub cells: Vec<HeatCell>,
}

/// Areas down, elements across, for the web app's SVG grid.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HeatMap {
    pub areas: Vec<String>,
    pub elements: Vec<String>,
    pub element_names: Vec<String>,
    pub rows: Vec<HeatRow>,
    /// The largest score, for the colour scale.
    pub max_score: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GapReport {
    pub threshold: u64,
    /// Every cell with a need signal or a community figure, by area, element, language.
    pub cells: Vec<GapCell>,
    /// Cells with a gap, largest first; ties by area, element (framework order), language
    /// (by code, not recorded last).
    pub gaps: Vec<Gap>,
    pub heat_map: HeatMap,
    /// Needs held by organizations without an area (or unknown ones): left out of the cells,
    /// counted here so they are not lost silently. `None` when withheld.
    pub unplaced_needs: Option<u64>,
}

/// The element as a sentence names it.
pub fn element_name(element: &str) -> String {
    match element {
        "english" => "English learning",
        "education" => "education and training",
        "economic" => "employment and economic security",
        "credentials" => "credentials and residency help",
        "health" => "health navigation",
        "civic" => "civic engagement",
        "navigation" => "help navigating systems",
        "social" => "social connection",
        other => other,
    }
    .to_owned()
}

/// The English name of an ISO 639-1 code; the code itself when not in the list.
pub fn language_name(code: &str) -> String {
    match code {
        "am" => "Amharic",
        "ar" => "Arabic",
        "bn" => "Bengali",
        "en" => "English",
        "es" => "Spanish",
        "fa" => "Persian",
        "fr" => "French",
        "hi" => "Hindi",
        "ht" => "Haitian Creole",
        "hy" => "Armenian",
        "ja" => "Japanese",
        "km" => "Khmer",
        "ko" => "Korean",
        "lo" => "Lao",
        "my" => "Burmese",
        "ne" => "Nepali",
        "pa" => "Punjabi",
        "ps" => "Pashto",
        "pt" => "Portuguese",
        "ru" => "Russian",
        "so" => "Somali",
        "sw" => "Swahili",
        "ti" => "Tigrinya",
        "tl" => "Tagalog",
        "uk" => "Ukrainian",
        "ur" => "Urdu",
        "vi" => "Vietnamese",
        "zh" => "Chinese",
        other => other,
    }
    .to_owned()
}

/// Need points from a community figure: 0 up to 100 speakers, 1 at 1 000, 2 at 10 000, 3 at
/// 100 000 (log10(population) − 2). Logarithmic because a population says only that need may
/// be there: a large language group must not drown out needs participants actually recorded.
pub fn community_points(population: u64) -> f64 {
    if population == 0 {
        0.0
    } else {
        ((population as f64).log10() - 2.0).max(0.0)
    }
}

fn key(text: &str) -> String {
    text.trim().to_lowercase()
}

fn language_key(language: Option<&str>) -> Option<String> {
    language.map(key).filter(|l| !l.is_empty())
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Referrals to one organization for one element.
#[derive(Debug, Default, Clone)]
struct ReferralTally {
    sent: u64,
    accepted: u64,
    days_to_acceptance: Vec<f64>,
}

/// Need against capacity for every (area, element, language); see docs/gaps.md.
///
/// A need counts in the `area` of the organization holding the record; needs at organizations
/// without an area are counted in [`GapReport::unplaced_needs`] only, because no service can be
/// said to serve "somewhere". A need without a language is its own cell (language `None`),
/// matched against every service of the area and element whatever its languages.
pub fn analyse(input: &GapInput) -> GapReport {
    let threshold = input.threshold;
    let shown = |count: u64| (!is_small(count, threshold)).then_some(count);

    // Areas: key → spelling shown (the smallest, so input order does not matter).
    let mut areas: BTreeMap<String, String> = BTreeMap::new();
    let mut note_area = |raw: &str| {
        let k = key(raw);
        if k.is_empty() {
            return None;
        }
        let spelling = raw.trim().to_owned();
        areas
            .entry(k.clone())
            .and_modify(|s| {
                if spelling < *s {
                    s.clone_from(&spelling);
                }
            })
            .or_insert(spelling);
        Some(k)
    };
    let mut org_area: HashMap<&str, Option<String>> = HashMap::new();
    for org in input.organizations {
        org_area.insert(org.org_id.as_str(), org.area.as_deref().and_then(&mut note_area));
    }
    let mut population: BTreeMap<(String, String), u64> = BTreeMap::new();
    for figure in input.community {
        let (Some(area), Some(language)) = (note_area(&figure.area), language_key(Some(&figure.language))) else {
            continue;
        };
        *population.entry((area, language)).or_default() += figure.population;
    }

    let mut elements: Vec<String> = ELEMENTS.iter().map(|e| (*e).to_owned()).collect();
    let extra: BTreeSet<String> = input
        .needs
        .iter()
        .map(|n| n.element.trim().to_owned())
        .filter(|e| !e.is_empty() && !ELEMENTS.contains(&e.as_str()))
        .collect();
    elements.extend(extra);
    let element_index: HashMap<&str, usize> = elements.iter().enumerate().map(|(i, e)| (e.as_str(), i)).collect();

    // Need counts per (area, element, language); needs without a place set apart.
    type CellKey = (String, usize, Option<String>);
    let mut needs: BTreeMap<CellKey, u64> = BTreeMap::new();
    let mut unplaced = 0u64;
    for need in input.needs {
        let Some(&e) = element_index.get(need.element.trim()) else {
            continue; // blank element: not a need of anything
        };
        match org_area.get(need.org_id.as_str()) {
            Some(Some(area)) => {
                *needs
                    .entry((area.clone(), e, language_key(need.language.as_deref())))
                    .or_default() += 1;
            }
            _ => unplaced += 1,
        }
    }
    let mut cell_keys: BTreeSet<CellKey> = needs.keys().cloned().collect();
    for (area, language) in population.keys() {
        for e in 0..elements.len() {
            cell_keys.insert((area.clone(), e, Some(language.clone())));
        }
    }

    let mut referrals: HashMap<(&str, &str), ReferralTally> = HashMap::new();
    for referral in input.referrals {
        let tally = referrals
            .entry((referral.to_org_id.as_str(), referral.element.as_str()))
            .or_default();
        tally.sent += 1;
        if let Some(at) = referral.reached(ReferralStatus::Accepted) {
            tally.accepted += 1;
            tally
                .days_to_acceptance
                .push((at - referral.requested_at()).max(0) as f64 / SECONDS_PER_DAY as f64);
        }
    }

    let mut cells: Vec<GapCell> = Vec::new();
    let mut order: Vec<CellKey> = Vec::new();
    for cell_key in cell_keys {
        let (area_key, e, language) = &cell_key;
        let area = areas.get(area_key).cloned().unwrap_or_else(|| area_key.clone());
        let element = &elements[*e];
        let count = needs.get(&cell_key).copied().unwrap_or(0);
        let need_count = shown(count);
        // A withheld count stands in as half the threshold, whatever its value, so neither
        // score nor rank can tell 1 from 9.
        let participants = need_count.map_or(threshold as f64 / 2.0, |n| n as f64);
        let people = language
            .as_ref()
            .and_then(|l| population.get(&(area_key.clone(), l.clone())))
            .copied()
            .unwrap_or(0);
        let need_score = round2(participants / PARTICIPANTS_PER_POINT + community_points(people));
        let need_level = NeedLevel::of(need_score);

        let in_area: Vec<&Service> = input
            .services
            .iter()
            .filter(|s| s.serves_area(&area) && s.serves_element(element))
            .collect();
        let speaks = |s: &Service| {
            language
                .as_ref()
                .is_none_or(|l| s.languages.iter().any(|offered| key(offered) == *l))
        };
        let matching: Vec<&Service> = in_area.iter().copied().filter(|s| speaks(s)).collect();
        let services = matching.len();
        let services_in_other_languages = in_area.len() - services;

        let orgs: BTreeSet<&str> = matching.iter().map(|s| s.org_id.as_str()).collect();
        let mut pool = ReferralTally::default();
        for org in &orgs {
            if let Some(t) = referrals.get(&(*org, element.as_str())) {
                pool.sent += t.sent;
                pool.accepted += t.accepted;
                pool.days_to_acceptance.extend(&t.days_to_acceptance);
            }
        }
        // Used (and shown) only over at least `threshold` referrals, and the rate only when
        // the accepted count is itself showable.
        let enough = pool.sent >= threshold.max(1);
        let acceptance_rate = (enough && !is_small(pool.accepted, threshold))
            .then(|| (pool.accepted as f64 / pool.sent as f64 * 10_000.0).round() / 10_000.0);
        let median_days_to_acceptance = (enough && pool.accepted >= threshold.max(1))
            .then(|| median(&pool.days_to_acceptance))
            .flatten()
            .map(|d| (d * 10.0).round() / 10.0);
        let wait = median_days_to_acceptance.map_or(1.0, |d| if d > PROMPT_DAYS { PROMPT_DAYS / d } else { 1.0 });
        let capacity_score = round2(services as f64 * acceptance_rate.unwrap_or(1.0) * wait);
        let capacity_level = if services == 0 {
            CapacityLevel::None
        } else if capacity_score >= need_score {
            CapacityLevel::Adequate
        } else {
            CapacityLevel::Low
        };
        let gap_score = round2((need_score - capacity_score).max(0.0));
        let language_name = language
            .as_deref()
            .map_or_else(|| "not recorded".to_owned(), language_name);
        let sentence = sentence(
            &area,
            element,
            language.as_deref(),
            need_level,
            capacity_level,
            services,
        );
        cells.push(GapCell {
            area,
            element: element.clone(),
            element_name: element_name(element),
            language: language.clone(),
            language_name,
            need_count,
            population: people,
            need_score,
            need_level,
            services,
            services_in_other_languages,
            acceptance_rate,
            median_days_to_acceptance,
            capacity_score,
            capacity_level,
            gap_score,
            sentence,
        });
        order.push(cell_key);
    }

    // Cells by area, element, language with languages by code and "not recorded" last.
    let sort_key = |k: &CellKey| (k.0.clone(), k.1, k.2.is_none(), k.2.clone());
    let mut indexed: Vec<usize> = (0..cells.len()).collect();
    indexed.sort_by_key(|&i| sort_key(&order[i]));
    let mut ranked: Vec<usize> = indexed.iter().copied().filter(|&i| cells[i].gap_score > 0.0).collect();
    ranked.sort_by(|&a, &b| {
        cells[b]
            .gap_score
            .total_cmp(&cells[a].gap_score)
            .then_with(|| sort_key(&order[a]).cmp(&sort_key(&order[b])))
    });
    let gaps: Vec<Gap> = ranked
        .iter()
        .enumerate()
        .map(|(r, &i)| Gap {
            rank: r + 1,
            cell: cells[i].clone(),
        })
        .collect();

    let mut rows: Vec<HeatRow> = Vec::new();
    for (area_key, area) in &areas {
        let row_cells = (0..elements.len())
            .map(|e| {
                let here: Vec<usize> = indexed
                    .iter()
                    .copied()
                    .filter(|&i| order[i].0 == *area_key && order[i].1 == e)
                    .collect();
                // The first of the largest in language order.
                let worst = here.iter().copied().fold(None::<usize>, |best, i| match best {
                    Some(b) if cells[b].gap_score >= cells[i].gap_score => Some(b),
                    _ => Some(i),
                });
                let need_level = here
                    .iter()
                    .map(|&i| cells[i].need_level)
                    .max()
                    .unwrap_or(NeedLevel::None);
                match worst.filter(|&i| cells[i].gap_score > 0.0) {
                    Some(i) => HeatCell {
                        element: elements[e].clone(),
                        score: cells[i].gap_score,
                        language: cells[i].language.clone(),
                        language_name: Some(cells[i].language_name.clone()),
                        need_level: cells[i].need_level,
                        capacity_level: Some(cells[i].capacity_level),
                    },
                    None => HeatCell {
                        element: elements[e].clone(),
                        score: 0.0,
                        language: None,
                        language_name: None,
                        need_level,
                        capacity_level: None,
                    },
                }
            })
            .collect();
        rows.push(HeatRow {
            area: area.clone(),
            cells: row_cells,
        });
    }
    let max_score = gaps.first().map_or(0.0, |g| g.cell.gap_score);
    let heat_map = HeatMap {
        areas: areas.values().cloned().collect(),
        element_names: elements.iter().map(|e| element_name(e)).collect(),
        elements,
        rows,
        max_score,
    };
    let cells = indexed.iter().map(|&i| cells[i].clone()).collect();
    GapReport {
        threshold,
        cells,
        gaps,
        heat_map,
        unplaced_needs: shown(unplaced),
    }
}

/// "Tagalog-speaking health navigation in Fremont: high need, no service".
fn sentence(
    area: &str,
    element: &str,
    language: Option<&str>,
    need: NeedLevel,
    capacity: CapacityLevel,
    services: usize,
) -> String {
    let what = element_name(element);
    let subject = match language {
        Some(code) => format!("{}-speaking {what} in {area}", language_name(code)),
        None => {
            let mut chars = what.chars();
            let capital: String = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            format!("{capital} in {area} (language not recorded)")
        }
    };
    let plural = if services == 1 { "service" } else { "services" };
    let capacity = match capacity {
        CapacityLevel::None => "no service".to_owned(),
        CapacityLevel::Low => format!("low capacity ({services} {plural})"),
        CapacityLevel::Adequate => format!("adequate capacity ({services} {plural})"),
    };
    format!("{subject}: {} need, {capacity}", need.as_str())
}

/// The ranked gaps as CSV. Text comes from imports (area names above all), so a field that a
/// spreadsheet would read as a formula (= + - @, tab, carriage return first) gets a leading
/// apostrophe; fields are quoted when they hold a comma, quote or line break.
pub fn to_csv(report: &GapReport) -> String {
    let mut out = String::from(
        "rank,area,element,element_name,language,language_name,need_count,need_suppressed,population,\
         need_score,need_level,services,services_in_other_languages,acceptance_rate,\
         median_days_to_acceptance,capacity_score,capacity_level,gap_score,sentence\n",
    );
    for gap in &report.gaps {
        let c = &gap.cell;
        let fields = [
            gap.rank.to_string(),
            c.area.clone(),
            c.element.clone(),
            c.element_name.clone(),
            c.language.clone().unwrap_or_default(),
            c.language_name.clone(),
            c.need_count.map(|n| n.to_string()).unwrap_or_default(),
            c.need_count.is_none().to_string(),
            c.population.to_string(),
            format!("{:.2}", c.need_score),
            c.need_level.as_str().to_owned(),
            c.services.to_string(),
            c.services_in_other_languages.to_string(),
            c.acceptance_rate.map(|r| format!("{r:.4}")).unwrap_or_default(),
            c.median_days_to_acceptance
                .map(|d| format!("{d:.1}"))
                .unwrap_or_default(),
            format!("{:.2}", c.capacity_score),
            c.capacity_level.as_str().to_owned(),
            format!("{:.2}", c.gap_score),
            c.sentence.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// A text cell of the CSV: `iip_domain::csv_safe::text_field` (formula neutralised, quoted).
/// The numbers of this CSV are never negative, so every field can take the text rule.
fn csv_field(text: &str) -> String {
    iip_domain::csv_safe::text_field(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn community_points_grow_by_one_per_tenfold() {
        assert_eq!(community_points(0), 0.0);
        assert_eq!(community_points(100), 0.0);
        assert!((community_points(1_000) - 1.0).abs() < 1e-12);
        assert!((community_points(100_000) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn need_levels_follow_the_points() {
        assert_eq!(NeedLevel::of(0.0), NeedLevel::None);
        assert_eq!(NeedLevel::of(0.5), NeedLevel::Low);
        assert_eq!(NeedLevel::of(1.0), NeedLevel::Medium);
        assert_eq!(NeedLevel::of(2.0), NeedLevel::High);
    }

    #[test]
    fn sentences_name_language_element_and_area() {
        assert_eq!(
            sentence("Fremont", "health", Some("tl"), NeedLevel::High, CapacityLevel::None, 0),
            "Tagalog-speaking health navigation in Fremont: high need, no service"
        );
        assert_eq!(
            sentence("Hayward", "english", None, NeedLevel::Medium, CapacityLevel::Low, 1),
            "English learning in Hayward (language not recorded): medium need, low capacity (1 service)"
        );
    }

    #[test]
    fn formula_fields_are_neutralised_and_quoted() {
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("-2"), "'-2");
        assert_eq!(csv_field("Fremont"), "Fremont");
    }
}
