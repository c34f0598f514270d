//! What the engine keeps between queries, inside the snapshot, and how each kind of new fact
//! updates it in place (so a new milestone shows at once, without a rebuild):
//!
//! - per program year, the per-record totals (hours, programs, first day);
//! - per year and scope, the sorted list of people active there and the set of them, plus the
//!   populations and outcomes already evaluated there;
//! - per year, sets that do not depend on the scope (an outcome recorded anywhere in a fixed
//!   window; a barrier).
//!
//! An activity updates the totals and the lists of the scopes containing its organization,
//! and re-tests its person in those scopes' evaluated sets. A milestone or assessment re-tests its person in
//! every scope-independent set and drops per-scope outcome sets. A changed organization tree
//! or a person's records merging (a new person_key) clears everything.

use std::collections::HashMap;

use iip_domain::ProgramYear;
use roaring::RoaringBitmap;

use crate::definition::Cond;
use crate::engine::{Row, Rule, ScopeDef};
use crate::snapshot::{Snapshot, YearAgg};

#[derive(Debug, Clone)]
pub(crate) struct CachedSet {
    pub set: RoaringBitmap,
    pub cond: Cond,
    pub rule: Rule,
}

#[derive(Debug, Default)]
pub(crate) struct ScopeCache {
    pub defs: Vec<(String, ScopeDef)>,
    pub lists: Vec<Vec<Row>>,
    pub members: Vec<Vec<bool>>,
    pub served: Vec<RoaringBitmap>,
    pub sets: Vec<HashMap<String, CachedSet>>,
}

#[derive(Debug, Default)]
pub(crate) struct YearCache {
    pub agg: YearAgg,
    pub scopes: Option<ScopeCache>,
    pub global: HashMap<String, CachedSet>,
}

#[derive(Debug, Default)]
pub(crate) struct EngineCache {
    pub years: HashMap<i32, YearCache>,
}

impl EngineCache {
    /// The cache of a program year, materializing its per-record totals on first use.
    pub fn year(&mut self, snapshot: &Snapshot, year: ProgramYear) -> &mut YearCache {
        self.years.entry(year.first_day().year()).or_insert_with(|| YearCache {
            agg: snapshot.year_totals(year),
            scopes: None,
            global: HashMap::new(),
        })
    }

    pub fn clear(&mut self) {
        self.years.clear();
    }

    /// Drops every per-scope set that depends on outcomes (milestones, assessments) or exits.
    pub fn drop_scope_outcomes(&mut self) {
        for year in self.years.values_mut() {
            if let Some(scopes) = year.scopes.as_mut() {
                for sets in &mut scopes.sets {
                    sets.retain(|_, cached| !depends_on_outcomes(&cached.cond));
                }
            }
        }
    }

    /// Drops per-scope sets that test exits (they move with the data's latest day).
    pub fn drop_exits(&mut self) {
        for year in self.years.values_mut() {
            if let Some(scopes) = year.scopes.as_mut() {
                for sets in &mut scopes.sets {
                    sets.retain(|_, cached| !mentions(&cached.cond, &|c| matches!(c, Cond::Exited)));
                }
            }
        }
    }
}

fn mentions(cond: &Cond, what: &dyn Fn(&Cond) -> bool) -> bool {
    what(cond)
        || match cond {
            Cond::And(a, b) | Cond::Or(a, b) => mentions(a, what) || mentions(b, what),
            Cond::Not(a) => mentions(a, what),
            _ => false,
        }
}

pub(crate) fn depends_on_outcomes(cond: &Cond) -> bool {
    mentions(cond, &|c| {
        matches!(
            c,
            Cond::Milestone(_) | Cond::ElementsWithMilestone(..) | Cond::AssessmentGain(..) | Cond::AssessmentScore(..)
        )
    })
}
