-- The partnership side of the store: the areas an organization serves, its services (the
-- directory), agreements between organizations, published community figures, and
-- closed-loop referrals with every change of state.

-- `;`-joined area names (NULL: none).
ALTER TABLE organization ADD COLUMN areas_served TEXT;

-- One service of one organization. The directory is small and searched in Rust: the
-- indexed columns are the keys, the rest is one JSON document (name, elements, languages,
-- eligibility, areas, locations, ...).
CREATE TABLE service (
    service_id TEXT PRIMARY KEY NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organization (org_id),
    document   TEXT NOT NULL
) STRICT;

CREATE INDEX service_org ON service (org_id);

-- An agreement between two organizations (both ways), valid from start_date to end_date
-- inclusive (open-ended without an end).
CREATE TABLE partnership (
    partnership_id TEXT PRIMARY KEY NOT NULL,
    org_id         TEXT NOT NULL REFERENCES organization (org_id),
    partner_org_id TEXT NOT NULL REFERENCES organization (org_id),
    kind           TEXT NOT NULL,
    scope          TEXT,
    start_date     TEXT NOT NULL,
    end_date       TEXT,
    last_import    INTEGER
) STRICT;

CREATE INDEX partnership_org ON partnership (org_id);
CREATE INDEX partnership_partner ON partnership (partner_org_id);

-- Published figures (how many people of a language live in an area), replaced as a whole.
CREATE TABLE community_figure (
    id         INTEGER PRIMARY KEY,
    area       TEXT NOT NULL,
    language   TEXT NOT NULL,
    population INTEGER NOT NULL
) STRICT;

-- A referral of one of the sending organization's participants to another organization.
-- The note is sealed under the sender's data key when the store has a master key
-- (sealed_note; note stays NULL), in the clear otherwise.
CREATE TABLE referral (
    id                INTEGER PRIMARY KEY,
    from_org_id       TEXT NOT NULL REFERENCES organization (org_id),
    participant_id    TEXT NOT NULL,
    to_org_id         TEXT NOT NULL REFERENCES organization (org_id),
    service_id        TEXT,
    element           TEXT NOT NULL,
    note              TEXT,
    sealed_note       BLOB,
    status            TEXT NOT NULL,
    outcome_milestone TEXT,
    requested_at      INTEGER NOT NULL,
    FOREIGN KEY (from_org_id, participant_id) REFERENCES participant (org_id, participant_id)
) STRICT;

CREATE INDEX referral_participant ON referral (from_org_id, participant_id);
CREATE INDEX referral_to ON referral (to_org_id);

-- Every change of state of a referral, oldest first: who, when, why (the reason sealed like
-- the note).
CREATE TABLE referral_event (
    id            INTEGER PRIMARY KEY,
    referral_id   INTEGER NOT NULL REFERENCES referral (id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    at            INTEGER NOT NULL,
    by_user       INTEGER,
    by_org_id     TEXT NOT NULL,
    reason        TEXT,
    sealed_reason BLOB
) STRICT;

CREATE INDEX referral_event_referral ON referral_event (referral_id, id);
