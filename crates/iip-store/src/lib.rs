//! The storage boundary. Every backend (SQLite now, PostgreSQL next) implements [`Store`];
//! the importer, the metrics and the web app are generic over it. No SQL lives here.

use std::future::Future;

pub mod batch;
pub mod codec;
pub mod directory;
pub mod directory_codec;
pub mod kept;
pub mod sealing;

use iip_domain::Date;
use iip_domain::facts::{ActivityFact, AssessmentFact, FactSink, MilestoneFact, OrgNode, ParticipantFact};
use iip_domain::records::{Activity, Assessment, MilestoneRecord, Organization, Participant};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, migrated or queried. The message is the backend's and
    /// never carries participant values: queries bind them as parameters.
    #[error("storage error: {0}")]
    Backend(String),
    /// The database server cannot be reached (down, restarting, network cut): a transient
    /// outage, answered with 503 and nothing written.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The connection to the database server was lost while a commit was on its way: the
    /// write may or may not be recorded (503 too, but saying so; an `Idempotency-Key` makes
    /// sending it again safe).
    #[error("storage connection lost during a commit: {0}")]
    InDoubt(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What happened to one record offered to an import session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Stored (inserted, or already present with the same content).
    Stored,
    /// The same key already appeared earlier in this import: a duplicate in the package.
    DuplicateInPackage,
    /// The organization or participant it refers to is not known.
    UnknownParent,
}

/// Row counts per table, for summaries and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    pub organizations: u64,
    pub participants: u64,
    pub identities: u64,
    pub activities: u64,
    pub milestones: u64,
    pub assessments: u64,
}

pub use directory::{DirectoryStore, ReferralFilter};

pub trait Store:
    AccountStore + CaseStore + AuditStore + IdentityStore + DirectoryStore + Clone + Send + Sync + 'static
{
    type Import: ImportSession;

    /// Starts an all-or-nothing import: nothing is visible to readers until `commit`.
    fn begin_import(&self, package: &str) -> impl Future<Output = StoreResult<Self::Import>> + Send;

    fn organizations(&self) -> impl Future<Output = StoreResult<Vec<OrgNode>>> + Send;

    /// Streams every fact to `sink`: organizations, then participants, then activities,
    /// milestones and assessments. Builds the metrics engine's in-memory snapshot.
    fn scan_facts<S: FactSink>(&self, sink: &mut S) -> impl Future<Output = StoreResult<()>> + Send;

    /// A number that grows with every committed change: readers holding derived state (the
    /// metrics snapshot) compare it to know when to refresh.
    fn revision(&self) -> impl Future<Output = StoreResult<i64>> + Send;

    /// The date of the latest activity, if any: the default program year to show.
    fn latest_activity_date(&self) -> impl Future<Output = StoreResult<Option<Date>>> + Send;

    fn counts(&self) -> impl Future<Output = StoreResult<TableCounts>> + Send;

    /// A digest of every stored fact (not bookkeeping): equal digests mean equal data.
    fn content_digest(&self) -> impl Future<Output = StoreResult<String>> + Send;

    /// The backend's own check of its files and indexes: `Ok(Ok(()))` when sound, else what
    /// it found.
    fn integrity_check(&self) -> impl Future<Output = StoreResult<Result<(), String>>> + Send;

    /// Closes the store's connections (waits for those in use).
    fn close(&self) -> impl Future<Output = ()> + Send;
}

/// One import in progress, inside a single transaction.
pub trait ImportSession: Send {
    fn upsert_organization(&mut self, org: &Organization) -> impl Future<Output = StoreResult<Written>> + Send;

    /// Adds or replaces an agreement by `partnership_id`. `UnknownParent` when either
    /// organization is neither in the store nor written earlier in this session;
    /// `DuplicateInPackage` when the id was written earlier in this session.
    fn upsert_partnership(
        &mut self,
        partnership: &iip_directory::Partnership,
    ) -> impl Future<Output = StoreResult<Written>> + Send;

    /// Every organization's `(org_id, parent_id)`, including those written in this session.
    fn organization_parents(&mut self) -> impl Future<Output = StoreResult<Vec<(String, Option<String>)>>> + Send;

    fn upsert_participant(&mut self, participant: &Participant) -> impl Future<Output = StoreResult<Written>> + Send;

    /// Adds a batch of activities in one round trip; one outcome per activity, in order.
    fn add_activities(&mut self, batch: &[Activity]) -> impl Future<Output = StoreResult<Vec<Written>>> + Send;

    fn add_milestone(&mut self, milestone: &MilestoneRecord) -> impl Future<Output = StoreResult<Written>> + Send;

    fn upsert_assessment(&mut self, assessment: &Assessment) -> impl Future<Output = StoreResult<Written>> + Send;

    fn commit(self) -> impl Future<Output = StoreResult<()>> + Send;

    fn rollback(self) -> impl Future<Output = StoreResult<()>> + Send;
}

/// A new account. The password arrives already hashed (Argon2id, `iip-auth`).
pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub org_id: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
}

#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub org_id: String,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
}

/// Redacted: the password hash and the email stay out of logs.
impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: UserRecord,
    /// The per-session token every form must send back (CSRF).
    pub csrf: String,
}

/// How long sessions live, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Ended after this long without a request.
    pub idle: i64,
    /// Ended this long after sign-in, however active.
    pub absolute: i64,
}

/// Accounts and sessions. Sessions are kept by the SHA-256 of their token only.
pub trait AccountStore {
    /// Creates an account; `Ok(None)` when the email is taken.
    fn create_user(&self, user: &NewUser<'_>) -> impl Future<Output = StoreResult<Option<i64>>> + Send;

    fn user_by_email(&self, email: &str) -> impl Future<Output = StoreResult<Option<UserRecord>>> + Send;

    /// Every account, or those of one organization, by email.
    fn users(&self, org_id: Option<&str>) -> impl Future<Output = StoreResult<Vec<UserRecord>>> + Send;

    /// Disables or enables an account; disabling also ends its sessions.
    fn set_user_disabled(&self, user_id: i64, disabled: bool) -> impl Future<Output = StoreResult<()>> + Send;

    fn create_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        csrf: &str,
        now: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// The session when it exists, its user is enabled and it is within `limits` at `now`;
    /// marks it used at `now`. An expired session is deleted.
    fn session(
        &self,
        token_hash: &[u8],
        now: i64,
        limits: SessionLimits,
    ) -> impl Future<Output = StoreResult<Option<SessionRecord>>> + Send;

    fn delete_session(&self, token_hash: &[u8]) -> impl Future<Output = StoreResult<()>> + Send;

    /// Ends every session of a user (sign out everywhere, password change, disabling).
    fn delete_user_sessions(&self, user_id: i64) -> impl Future<Output = StoreResult<()>> + Send;

    /// Stores an API token for an account under a name (for listing and revoking), valid
    /// until `expires_at` (Unix seconds).
    fn create_api_token(
        &self,
        token_hash: &[u8],
        user_id: i64,
        name: &str,
        now: i64,
        expires_at: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// The enabled account a live token acts as; marks the token used.
    fn api_token_user(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> impl Future<Output = StoreResult<Option<UserRecord>>> + Send;

    fn user_by_id(&self, user_id: i64) -> impl Future<Output = StoreResult<Option<UserRecord>>> + Send;

    /// Replaces the password hash and ends every session of the account.
    fn set_password(&self, user_id: i64, password_hash: &str) -> impl Future<Output = StoreResult<()>> + Send;

    /// A one-time link for a new account to choose its password, valid until `expires_at`.
    fn create_invite(
        &self,
        token_hash: &[u8],
        user_id: i64,
        now: i64,
        expires_at: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// The enabled account an unused, unexpired invite is for.
    fn invite_user(&self, token_hash: &[u8], now: i64) -> impl Future<Output = StoreResult<Option<UserRecord>>> + Send;

    /// Spends an invite once; `false` when it was used or expired already.
    fn use_invite(&self, token_hash: &[u8], now: i64) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Revokes a user's tokens of that name; how many were revoked.
    fn revoke_api_tokens(&self, user_id: i64, name: &str) -> impl Future<Output = StoreResult<u64>> + Send;
}

/// One participant in a case worker's list.
#[derive(Clone, PartialEq)]
pub struct ParticipantSummary {
    pub participant_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub primary_language: Option<String>,
    pub last_activity: Option<Date>,
}

impl std::fmt::Debug for ParticipantSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParticipantSummary")
            .field("participant_id", &self.participant_id)
            .finish_non_exhaustive()
    }
}

/// A participant as stored, with its row (the engine's key).
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantRecord {
    pub row: i64,
    pub participant: Participant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityEntry {
    pub date: Date,
    pub program: String,
    pub hundredths: u32,
    pub element: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MilestoneEntry {
    pub date: Date,
    pub milestone: String,
    pub element: String,
    /// The organization that delivered it when it is a referral's outcome
    /// ([`DirectoryStore::credit_milestone`]); `None` when the record's own organization did.
    pub delivered_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentEntry {
    pub date: Date,
    pub instrument: String,
    pub score: f64,
}

/// A need or a goal on a participant's pathway, for one element.
#[derive(Debug, Clone, PartialEq)]
pub struct PathwayItem {
    pub id: i64,
    pub kind: PathwayKind,
    pub element: String,
    pub description: String,
    pub target_date: Option<Date>,
    pub created_on: Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathwayKind {
    Need,
    Goal,
}

impl PathwayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PathwayKind::Need => "need",
            PathwayKind::Goal => "goal",
        }
    }
}

/// Everything on one participant's pathway, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pathway {
    pub activities: Vec<ActivityEntry>,
    pub milestones: Vec<MilestoneEntry>,
    pub assessments: Vec<AssessmentEntry>,
    pub items: Vec<PathwayItem>,
}

impl Pathway {
    /// About the bytes it holds in memory (its entries and their text), for a cache's budget.
    pub fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        let text = |s: &str| s.len() + 16;
        let activities: usize = self
            .activities
            .iter()
            .map(|a| size_of::<ActivityEntry>() + text(&a.program) + a.element.as_deref().map_or(0, text))
            .sum();
        let milestones: usize = self
            .milestones
            .iter()
            .map(|m| {
                size_of::<MilestoneEntry>()
                    + text(&m.milestone)
                    + text(&m.element)
                    + m.delivered_by.as_deref().map_or(0, text)
            })
            .sum();
        let assessments: usize = self
            .assessments
            .iter()
            .map(|a| size_of::<AssessmentEntry>() + text(&a.instrument))
            .sum();
        let items: usize = self
            .items
            .iter()
            .map(|i| size_of::<PathwayItem>() + text(&i.element) + text(&i.description))
            .sum();
        size_of::<Self>() + activities + milestones + assessments + items
    }
}

/// What a consent lets the partner see, from the widest to the narrowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConsentScope {
    /// The whole record: identity (names) and pathway.
    Record,
    /// The pathway (needs, goals, activities, milestones, assessments) without the identity.
    Pathway,
    /// Only the referrals sent to the partner: the participant's id and the referral's note.
    Referrals,
}

impl ConsentScope {
    pub const ALL: [ConsentScope; 3] = [Self::Record, Self::Pathway, Self::Referrals];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Record => "record",
            Self::Pathway => "pathway",
            Self::Referrals => "referrals",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Record => "the whole record, with the name",
            Self::Pathway => "the pathway, without the name",
            Self::Referrals => "referrals to the partner only",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| format!("{raw:?} is not a consent scope (record, pathway, referrals)"))
    }

    /// Whether it lets the partner open the pathway page.
    pub fn shows_pathway(self) -> bool {
        matches!(self, Self::Record | Self::Pathway)
    }

    /// Whether it lets the partner see the name.
    pub fn shows_identity(self) -> bool {
        self == Self::Record
    }
}

/// A consent as a case worker records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewConsent<'a> {
    pub partner_org_id: &'a str,
    pub purpose: &'a str,
    pub scope: ConsentScope,
    pub valid_from: Date,
    /// Inclusive; open-ended when `None`.
    pub valid_to: Option<Date>,
    /// The account that recorded it.
    pub recorded_by: i64,
}

/// A participant's consent to share their record with a partner organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: i64,
    pub partner_org_id: String,
    pub purpose: String,
    pub scope: ConsentScope,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub revoked: bool,
}

impl Consent {
    /// Whether it lets the partner see the record on `day`.
    pub fn active_on(&self, day: Date) -> bool {
        !self.revoked && self.valid_from <= day && self.valid_to.is_none_or(|to| day <= to)
    }
}

/// A record shared with the asking organization under an active consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRecord {
    pub owner_org_id: String,
    pub participant_id: String,
    pub consent_id: i64,
    pub purpose: String,
    pub scope: ConsentScope,
    pub valid_to: Option<Date>,
}

/// Who a self-assessment link is for: enough to record assessments, nothing identifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedParticipant {
    pub org_id: String,
    pub participant_id: String,
}

/// What a write did, for readers that keep derived state (the metrics snapshot): the store's
/// new revision and the fact to apply, or `None` when the write changed something a fact
/// cannot express (a replaced score) and derived state must be rebuilt.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded<F> {
    pub revision: i64,
    pub fact: Option<F>,
}

/// Why a case-work write was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The same record exists already (a participant id, a milestone on that date).
    Duplicate,
    /// The organization or participant it names does not exist.
    Unknown,
    /// The request's idempotency key was used before for this same request, which was
    /// recorded then: nothing is written again, and the first answer stands.
    Replayed,
    /// The request's idempotency key was used before for a different request.
    KeyReused,
}

/// How long a store remembers an idempotency key: a client retrying after a lost answer does
/// so within seconds or minutes; a day covers a client that was offline overnight.
pub const IDEMPOTENCY_KEY_SECONDS: i64 = 24 * 60 * 60;

/// An `Idempotency-Key` a client sent with a case write: the store keeps it, in the same
/// commit as the write, so a retry of a write whose answer was lost is recognised and not
/// recorded twice. Kept as keyed digests of the key and of the request, per organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub org_id: String,
    key: String,
    request: String,
    /// Unix seconds; the key is forgotten [`IDEMPOTENCY_KEY_SECONDS`] later.
    pub at: i64,
}

impl Claim {
    /// `request` is a canonical text of what the write asks for (the same request gives the
    /// same text), so that the key reused for another request is told apart.
    pub fn new(org_id: &str, key: &str, request: &str, at: i64) -> Self {
        Self {
            org_id: org_id.to_owned(),
            key: key.to_owned(),
            request: request.to_owned(),
            at,
        }
    }

    /// The digests a store keeps: `(key, request)`, keyed by the master key when there is one.
    pub fn digests(&self, keys: Option<&sealing::Keys>) -> (Vec<u8>, Vec<u8>) {
        let key = format!("{}\u{0}{}", self.org_id, self.key);
        match keys {
            Some(keys) => (
                keys.master().keyed_digest("idempotency-key", key.as_bytes()),
                keys.master()
                    .keyed_digest("idempotency-request", self.request.as_bytes()),
            ),
            None => (
                iip_vault::plain_digest("idempotency-key", key.as_bytes()),
                iip_vault::plain_digest("idempotency-request", self.request.as_bytes()),
            ),
        }
    }

    /// What a key already held answers for this request.
    pub fn refusal(&self, stored_request: &[u8], keys: Option<&sealing::Keys>) -> Refused {
        if self.digests(keys).1 == stored_request {
            Refused::Replayed
        } else {
            Refused::KeyReused
        }
    }
}

pub type WriteResult<F> = StoreResult<Result<Recorded<F>, Refused>>;

/// Case work from the web app: one organization's participants and their pathways. Every
/// call names the organization, so nothing here reaches another organization's records.
pub trait CaseStore {
    /// Participants of `org_id` whose local id starts with `query` or whose first or last name
    /// contains it (case-insensitive); all of them for an empty query. At most `limit`.
    fn search_participants(
        &self,
        org_id: &str,
        query: &str,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<ParticipantSummary>>> + Send;

    fn participant_record(
        &self,
        org_id: &str,
        participant_id: &str,
    ) -> impl Future<Output = StoreResult<Option<ParticipantRecord>>> + Send;

    fn create_participant(
        &self,
        participant: &Participant,
    ) -> impl Future<Output = WriteResult<ParticipantFact>> + Send {
        self.create_participant_once(participant, None)
    }

    /// Adds one session of an activity (a second identical one counts again).
    fn record_activity(&self, activity: &Activity) -> impl Future<Output = WriteResult<ActivityFact>> + Send {
        self.record_activity_once(activity, None)
    }

    fn record_milestone(&self, milestone: &MilestoneRecord) -> impl Future<Output = WriteResult<MilestoneFact>> + Send {
        self.record_milestone_once(milestone, None)
    }

    /// Records a score; a score for the same instrument and date replaces it.
    fn record_assessment(&self, assessment: &Assessment) -> impl Future<Output = WriteResult<AssessmentFact>> + Send {
        self.record_assessment_once(assessment, None)
    }

    /// The writes above, done at most once per [`Claim`]: a key seen before answers
    /// [`Refused::Replayed`] (or [`Refused::KeyReused`]) and writes nothing; a new key is kept
    /// in the same commit as the write (and not at all when the write is refused).
    fn create_participant_once(
        &self,
        participant: &Participant,
        claim: Option<&Claim>,
    ) -> impl Future<Output = WriteResult<ParticipantFact>> + Send;

    fn record_activity_once(
        &self,
        activity: &Activity,
        claim: Option<&Claim>,
    ) -> impl Future<Output = WriteResult<ActivityFact>> + Send;

    fn record_milestone_once(
        &self,
        milestone: &MilestoneRecord,
        claim: Option<&Claim>,
    ) -> impl Future<Output = WriteResult<MilestoneFact>> + Send;

    fn record_assessment_once(
        &self,
        assessment: &Assessment,
        claim: Option<&Claim>,
    ) -> impl Future<Output = WriteResult<AssessmentFact>> + Send;

    fn pathway(&self, participant_row: i64) -> impl Future<Output = StoreResult<Pathway>> + Send;

    /// A participant's record and pathway as of one moment (a backend that can reads both in
    /// one transaction): what a case worker opens. The pathway is shared so that a backend
    /// may keep it between changes.
    fn participant_with_pathway(
        &self,
        org_id: &str,
        participant_id: &str,
    ) -> impl Future<Output = StoreResult<Option<(ParticipantRecord, std::sync::Arc<Pathway>)>>> + Send
    where
        Self: Sync,
    {
        async move {
            let Some(record) = self.participant_record(org_id, participant_id).await? else {
                return Ok(None);
            };
            let pathway = self.pathway(record.row).await?;
            Ok(Some((record, std::sync::Arc::new(pathway))))
        }
    }

    /// Stores a one-time self-assessment link for a participant, valid until `expires_at`.
    fn create_self_assessment_link(
        &self,
        participant_row: i64,
        token_hash: &[u8],
        now: i64,
        expires_at: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// The participant a link is for, while it is unused and unexpired.
    fn self_assessment_link(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> impl Future<Output = StoreResult<Option<LinkedParticipant>>> + Send;

    /// Marks a link used, once: `false` when it was used or expired already (a second
    /// submission of the same answers loses the race and changes nothing).
    fn use_self_assessment_link(&self, token_hash: &[u8], now: i64) -> impl Future<Output = StoreResult<bool>> + Send;

    fn record_consent(
        &self,
        participant_row: i64,
        consent: &NewConsent<'_>,
    ) -> impl Future<Output = StoreResult<i64>> + Send;

    /// Revokes a consent of this participant; `false` when there is none by that id.
    fn revoke_consent(&self, participant_row: i64, consent_id: i64) -> impl Future<Output = StoreResult<bool>> + Send;

    fn consents(&self, participant_row: i64) -> impl Future<Output = StoreResult<Vec<Consent>>> + Send;

    /// Records shared with `partner_org_id` under a consent active on `day`.
    fn shared_with(
        &self,
        partner_org_id: &str,
        day: Date,
    ) -> impl Future<Output = StoreResult<Vec<SharedRecord>>> + Send;

    fn add_pathway_item(
        &self,
        participant_row: i64,
        kind: PathwayKind,
        element: &str,
        description: &str,
        target_date: Option<Date>,
        today: Date,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
}

/// The append-only audit log. The chain's hash function comes from the caller (`iip-auth`),
/// so no backend holds crypto; the backend appends under its write lock so concurrent
/// appends still form one chain.
pub trait AuditStore {
    fn append_audit(
        &self,
        event: &iip_domain::audit::AuditEvent,
        chain: fn(&[u8], &iip_domain::audit::AuditEvent) -> Vec<u8>,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Entries after `after_id`, oldest first, at most `limit`.
    fn audit_events(
        &self,
        after_id: i64,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<iip_domain::audit::StoredAuditEvent>>> + Send;
}

/// Custody of the identities a store keeps sealed: the data keys, their rotation under a new
/// master key, and forgetting (crypto-shredding) a participant or an organization.
pub trait IdentityStore {
    /// Whether the store holds data keys (its identities are, or are to be, encrypted).
    fn holds_data_keys(&self) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Seals every identity still in the clear (after `iip keys init` on an existing store).
    fn seal_clear_identities(&self) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Re-wraps every data key under `new` in one transaction; `progress(done, total)`.
    fn rotate_master_key<F: FnMut(u64, u64) + Send>(
        &self,
        new: &iip_vault::MasterKey,
        progress: F,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Deletes a participant's identity; their activities and outcomes stay, so aggregates
    /// do not change. `false` when there was none.
    fn forget_participant(&self, org_id: &str, participant_id: &str) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Destroys an organization's data key and its sealed identities; returns how many.
    fn forget_organization(&self, org_id: &str) -> impl Future<Output = StoreResult<u64>> + Send;
}
