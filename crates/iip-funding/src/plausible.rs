//! Plausible demo inputs: census-style need figures and member prior-year amounts, scaled by
//! published sizes only (a masked size counts as a small unit), never by hidden counts.

use std::fmt::Write;

use crate::Cents;

/// A consortium and its members, with their published sizes (`None` when masked).
pub struct Sized {
    pub id: String,
    pub served: Option<u64>,
    pub members: Vec<(String, Option<u64>)>,
}

/// The need table and the member table, as CSV text, deterministic for a seed.
pub fn need_and_members(units: &[Sized], seed: u64) -> (String, String) {
    let mut state = seed;
    let mut noise = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        0.75 + ((state >> 33) % 1000) as f64 / 2000.0
    };
    let size = |s: Option<u64>| s.unwrap_or(10).max(10) as f64;
    let mut need =
        String::from("unit_id,prior_year,adult_population,unemployed,immigrants,no_diploma,limited_english\n");
    let mut members = String::from("member_id,unit_id,prior_year\n");
    for unit in units {
        let served = size(unit.served);
        let adults = (served * 40.0 * noise()).round();
        let prior: Cents = (served * 145_000.0 * noise()).round() as Cents;
        let _ = writeln!(
            need,
            "{},{},{},{},{},{},{}",
            unit.id,
            crate::dollars(prior),
            adults,
            (adults * 0.06 * noise()).round(),
            (adults * 0.27 * noise()).round(),
            (adults * 0.16 * noise()).round(),
            (adults * 0.09 * noise()).round(),
        );
        // Members share the consortium's prior year by size, in cents adding up exactly.
        let weights: Vec<f64> = unit.members.iter().map(|(_, s)| size(*s) * noise()).collect();
        let total: f64 = weights.iter().sum();
        let mut shares: Vec<Cents> = weights
            .iter()
            .map(|w| (prior as f64 * w / total).floor() as Cents)
            .collect();
        let left = prior - shares.iter().sum::<Cents>();
        if let Some(first) = shares.first_mut() {
            *first += left;
        }
        for ((id, _), share) in unit.members.iter().zip(shares) {
            let _ = writeln!(members, "{id},{},{}", unit.id, crate::dollars(share));
        }
    }
    (need, members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemberTable, NeedTable};

    #[test]
    fn members_add_up_to_their_consortium_and_the_tables_parse() {
        let units = vec![Sized {
            id: "c".into(),
            served: Some(500),
            members: vec![
                ("c-a".into(), Some(300)),
                ("c-b".into(), None),
                ("c-c".into(), Some(90)),
            ],
        }];
        let (need, members) = need_and_members(&units, 7);
        let need = NeedTable::parse(&need, "need.csv").expect("need parses");
        let members = MemberTable::parse(&members, "members.csv").expect("members parse");
        let sum: Cents = members.of("c").iter().map(|m| m.prior).sum();
        assert_eq!(sum, need.units[0].prior);
        assert_eq!(
            need_and_members(&units, 7).0,
            need_and_members(&units, 7).0,
            "deterministic"
        );
    }
}
