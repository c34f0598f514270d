//! The access policy: who may see what. Every handler asks these questions on the server;
//! nothing a client sends (an id in a URL, a hidden field) can widen the answer.

use std::collections::HashMap;

/// What a user does, from the most local to the widest view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Works with their organization's participants.
    CaseWorker,
    /// A case worker who also manages the organization's accounts.
    OrgAdmin,
    /// Aggregates (suppressed) of their consortium and everything below it.
    ConsortiumAnalyst,
    /// Aggregates of the whole state, the roll-ups and the funding simulator.
    StateAnalyst,
    /// Accounts of every organization, and every aggregate; no participant records.
    SystemAdmin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::CaseWorker,
        Role::OrgAdmin,
        Role::ConsortiumAnalyst,
        Role::StateAnalyst,
        Role::SystemAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::CaseWorker => "case_worker",
            Role::OrgAdmin => "org_admin",
            Role::ConsortiumAnalyst => "consortium_analyst",
            Role::StateAnalyst => "state_analyst",
            Role::SystemAdmin => "system_admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::CaseWorker => "Case worker",
            Role::OrgAdmin => "Organization admin",
            Role::ConsortiumAnalyst => "Consortium analyst",
            Role::StateAnalyst => "State analyst",
            Role::SystemAdmin => "System admin",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Role::ALL.into_iter().find(|r| r.as_str() == raw).ok_or_else(|| {
            format!("{raw:?} is not a role (case_worker, org_admin, consortium_analyst, state_analyst, system_admin)")
        })
    }

    /// Whether the role works with participant records (its own organization's only).
    pub fn works_with_participants(self) -> bool {
        matches!(self, Role::CaseWorker | Role::OrgAdmin)
    }
}

/// A signed-in user, as the server knows them (never as the client claims).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub org_id: String,
    pub role: Role,
    pub display_name: String,
}

/// Each organization's parent: enough to answer "is this scope inside the user's".
#[derive(Debug, Clone, Default)]
pub struct OrgTree {
    parent: HashMap<String, Option<String>>,
}

impl OrgTree {
    pub fn new(edges: impl IntoIterator<Item = (String, Option<String>)>) -> Self {
        Self {
            parent: edges.into_iter().collect(),
        }
    }

    pub fn contains(&self, org: &str) -> bool {
        self.parent.contains_key(org)
    }

    /// Whether `org` is `ancestor` or below it. Cycles (refused at import) end the walk.
    pub fn is_within(&self, org: &str, ancestor: &str) -> bool {
        let mut current = Some(org.to_owned());
        for _ in 0..=self.parent.len() {
            match current {
                Some(ref c) if c == ancestor => return true,
                Some(ref c) => current = self.parent.get(c).cloned().flatten(),
                None => return false,
            }
        }
        false
    }

    /// Whether `org` has no parent in the tree (a state office, say).
    pub fn is_root(&self, org: &str) -> bool {
        self.parent.get(org).is_some_and(Option::is_none)
    }
}

/// The answers the handlers need, for one principal.
pub struct Access<'a> {
    pub principal: &'a Principal,
    pub tree: &'a OrgTree,
}

impl Access<'_> {
    /// Whether the principal may see a participant record of `participant_org`: case workers
    /// and organization admins of that very organization only. (Partners will see records
    /// under the participant's consent.)
    pub fn participant(&self, participant_org: &str) -> bool {
        self.principal.role.works_with_participants() && self.principal.org_id == participant_org
    }

    /// Whether the principal may see the (suppressed) aggregates of `scope`: an organization
    /// within their own organization's subtree; the roll-ups by sector and level (which span
    /// every organization) only for those whose view is the whole tree.
    pub fn scope(&self, scope: &str) -> bool {
        if self.whole_tree() {
            return true;
        }
        !scope.contains(':') && self.tree.is_within(scope, &self.principal.org_id)
    }

    fn whole_tree(&self) -> bool {
        match self.principal.role {
            Role::SystemAdmin => true,
            Role::StateAnalyst => self.tree.is_root(&self.principal.org_id),
            _ => false,
        }
    }

    /// The funding simulator compares every consortium: state-wide roles only.
    pub fn funding(&self) -> bool {
        self.whole_tree()
    }

    /// Whether the principal may create or disable accounts in `org`.
    pub fn manage_users(&self, org: &str) -> bool {
        match self.principal.role {
            Role::SystemAdmin => true,
            Role::OrgAdmin => self.principal.org_id == org,
            _ => false,
        }
    }

    /// Roles the principal may give: an organization admin cannot make system admins.
    pub fn may_grant(&self, role: Role) -> bool {
        match self.principal.role {
            Role::SystemAdmin => true,
            Role::OrgAdmin => matches!(role, Role::CaseWorker | Role::OrgAdmin),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> OrgTree {
        OrgTree::new([
            ("ca".to_owned(), None),
            ("south".to_owned(), Some("ca".to_owned())),
            ("south-school".to_owned(), Some("south".to_owned())),
            ("north".to_owned(), Some("ca".to_owned())),
            ("north-school".to_owned(), Some("north".to_owned())),
        ])
    }

    fn who(role: Role, org: &str) -> Principal {
        Principal {
            user_id: 1,
            org_id: org.into(),
            role,
            display_name: "x".into(),
        }
    }

    #[test]
    fn case_workers_see_their_own_organizations_people_and_nothing_else() {
        let tree = tree();
        let worker = who(Role::CaseWorker, "south-school");
        let access = Access {
            principal: &worker,
            tree: &tree,
        };
        assert!(access.participant("south-school"));
        assert!(!access.participant("north-school"));
        assert!(!access.participant("south"), "not even the parent's");
        for role in [Role::ConsortiumAnalyst, Role::StateAnalyst, Role::SystemAdmin] {
            let p = who(role, "south-school");
            assert!(
                !Access {
                    principal: &p,
                    tree: &tree
                }
                .participant("south-school"),
                "{role:?}"
            );
        }
    }

    #[test]
    fn aggregates_follow_the_subtree_and_roll_ups_need_the_whole_tree() {
        let tree = tree();
        let analyst = who(Role::ConsortiumAnalyst, "south");
        let access = Access {
            principal: &analyst,
            tree: &tree,
        };
        assert!(access.scope("south") && access.scope("south-school"));
        assert!(!access.scope("north-school") && !access.scope("ca"));
        assert!(!access.scope("sector:public") && !access.scope("level:city"));
        assert!(!access.funding());
        let state = who(Role::StateAnalyst, "ca");
        let access = Access {
            principal: &state,
            tree: &tree,
        };
        assert!(access.scope("north-school") && access.scope("sector:public") && access.funding());
        // A "state analyst" placed under a consortium sees only that consortium.
        let misplaced = who(Role::StateAnalyst, "north");
        let access = Access {
            principal: &misplaced,
            tree: &tree,
        };
        assert!(!access.scope("south") && !access.scope("level:city") && !access.funding());
    }

    #[test]
    fn admins_manage_accounts_within_their_reach() {
        let tree = tree();
        let admin = who(Role::OrgAdmin, "south-school");
        let access = Access {
            principal: &admin,
            tree: &tree,
        };
        assert!(access.manage_users("south-school") && !access.manage_users("north-school"));
        assert!(access.may_grant(Role::CaseWorker) && !access.may_grant(Role::SystemAdmin));
        assert_eq!(Role::parse("state_analyst"), Ok(Role::StateAnalyst));
        assert!(Role::parse("root").is_err());
    }
}
