-- The partnership side of the store (see the SQLite schema, 0010_directory.sql): the areas an
-- organization serves, its services (the directory), agreements between organizations,
-- published community figures, and closed-loop referrals with every change of state. The
-- directory is small and read whole: these tables are not partitioned.

-- `;`-joined area names (NULL: none).
ALTER TABLE organization ADD COLUMN areas_served TEXT;

-- One service of one organization: the keys as columns, the details as one JSON document
-- (kept as text, so both backends hold and digest the same bytes).
CREATE TABLE service (
    service_id TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organization (org_id),
    document   TEXT NOT NULL
);

CREATE INDEX service_org ON service (org_id);

-- An agreement between two organizations (both ways), valid from start_date to end_date
-- inclusive (open-ended without an end).
CREATE TABLE partnership (
    partnership_id TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organization (org_id),
    partner_org_id TEXT NOT NULL REFERENCES organization (org_id),
    kind           TEXT NOT NULL,
    scope          TEXT,
    start_date     DATE NOT NULL,
    end_date       DATE,
    last_import    BIGINT
);

CREATE INDEX partnership_org ON partnership (org_id);
CREATE INDEX partnership_partner ON partnership (partner_org_id);

-- Published figures (how many people of a language live in an area), replaced as a whole.
CREATE TABLE community_figure (
    id         BIGSERIAL PRIMARY KEY,
    area       TEXT NOT NULL,
    language   TEXT NOT NULL,
    population BIGINT NOT NULL
);

-- A referral of one of the sending organization's participants to another organization.
-- The note is sealed under the sender's data key when the store has a master key
-- (sealed_note; note stays NULL), in the clear otherwise.
CREATE TABLE referral (
    id                BIGSERIAL PRIMARY KEY,
    from_org_id       TEXT NOT NULL REFERENCES organization (org_id),
    participant_id    TEXT NOT NULL,
    to_org_id         TEXT NOT NULL REFERENCES organization (org_id),
    service_id        TEXT,
    element           TEXT NOT NULL,
    note              TEXT,
    sealed_note       BYTEA,
    status            TEXT NOT NULL,
    outcome_milestone TEXT,
    requested_at      BIGINT NOT NULL,
    FOREIGN KEY (from_org_id, participant_id) REFERENCES participant (org_id, participant_id)
);

CREATE INDEX referral_participant ON referral (from_org_id, participant_id);
CREATE INDEX referral_to ON referral (to_org_id);

-- Every change of state of a referral, oldest first: who, when, why (the reason sealed like
-- the note).
CREATE TABLE referral_event (
    id            BIGSERIAL PRIMARY KEY,
    referral_id   BIGINT NOT NULL REFERENCES referral (id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    at            BIGINT NOT NULL,
    by_user       BIGINT,
    by_org_id     TEXT NOT NULL,
    reason        TEXT,
    sealed_reason BYTEA
);

CREATE INDEX referral_event_referral ON referral_event (referral_id, id);
