//! Named agreements between two organizations, with their scope and dates.

use iip_domain::{Date, Id, InvalidValue};

/// What an agreement between two organizations is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnershipKind {
    /// The partners send each other participants (closed-loop referrals).
    Referral,
    /// The partners may see each other's records, under each participant's consent.
    DataSharing,
    /// One partner funds the other.
    Funding,
}

impl PartnershipKind {
    pub const ALL: &'static [PartnershipKind] = &[Self::Referral, Self::DataSharing, Self::Funding];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Referral => "referral",
            Self::DataSharing => "data_sharing",
            Self::Funding => "funding",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == raw)
            .ok_or_else(|| InvalidValue::new(format!("{raw:?} is not one of: referral, data_sharing, funding")))
    }
}

impl std::fmt::Display for PartnershipKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An agreement between `org_id` and `partner_org_id`, valid from `start_date` to `end_date`
/// inclusive (open-ended without an end). Agreements bind both ways.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Partnership {
    pub partnership_id: Id,
    pub org_id: Id,
    pub partner_org_id: Id,
    pub kind: PartnershipKind,
    /// What the agreement covers, in the partners' words (elements, programs, data).
    pub scope: Option<String>,
    pub start_date: Date,
    pub end_date: Option<Date>,
}

impl Partnership {
    pub fn active_on(&self, day: Date) -> bool {
        self.start_date <= day && self.end_date.is_none_or(|end| day <= end)
    }

    /// Whether this agreement is between `a` and `b`, in either direction.
    pub fn joins(&self, a: &str, b: &str) -> bool {
        (self.org_id.as_str() == a && self.partner_org_id.as_str() == b)
            || (self.org_id.as_str() == b && self.partner_org_id.as_str() == a)
    }
}

/// Whether an agreement of `kind` between `a` and `b` is in force on `day`.
pub fn in_force(partnerships: &[Partnership], kind: PartnershipKind, a: &str, b: &str, day: Date) -> bool {
    partnerships
        .iter()
        .any(|p| p.kind == kind && p.joins(a, b) && p.active_on(day))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(raw: &str) -> Date {
        Date::parse(raw).expect("date")
    }

    fn id(raw: &str) -> Id {
        Id::parse(raw).expect("id")
    }

    #[test]
    fn an_agreement_binds_both_ways_and_only_between_its_dates() {
        let agreement = Partnership {
            partnership_id: id("p1"),
            org_id: id("a"),
            partner_org_id: id("b"),
            kind: PartnershipKind::DataSharing,
            scope: None,
            start_date: date("2024-07-01"),
            end_date: Some(date("2025-06-30")),
        };
        let all = [agreement];
        assert!(in_force(
            &all,
            PartnershipKind::DataSharing,
            "b",
            "a",
            date("2025-06-30")
        ));
        assert!(!in_force(
            &all,
            PartnershipKind::DataSharing,
            "a",
            "b",
            date("2025-07-01")
        ));
        assert!(!in_force(
            &all,
            PartnershipKind::DataSharing,
            "a",
            "b",
            date("2024-06-30")
        ));
        assert!(!in_force(&all, PartnershipKind::Referral, "a", "b", date("2025-01-01")));
        assert!(!in_force(
            &all,
            PartnershipKind::DataSharing,
            "a",
            "c",
            date("2025-01-01")
        ));
    }

    #[test]
    fn kinds_parse_from_their_codes_only() {
        for kind in PartnershipKind::ALL {
            assert_eq!(PartnershipKind::parse(kind.as_str()), Ok(*kind));
        }
        let err = PartnershipKind::parse("friendship").expect_err("not a kind");
        assert!(err.0.contains("data_sharing"), "{err}");
    }
}
