//! An audit event: who did what to which record, when and why. Ids only: never a name.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Unix seconds.
    pub at: i64,
    /// `None` for a participant acting through a one-time link.
    pub user_id: Option<i64>,
    pub org_id: String,
    /// `read`, `search`, `create`, `change` or `export`.
    pub action: String,
    /// What was touched, by id: `participant:<org>/<id>`.
    pub subject: String,
    /// Why: the page or API call that did it.
    pub reason: String,
}

/// An event as stored, with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuditEvent {
    pub id: i64,
    pub event: AuditEvent,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}
