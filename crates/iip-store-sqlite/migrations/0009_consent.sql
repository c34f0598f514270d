-- A participant's consent to share their record with a partner organization: for what purpose,
-- from when to when (inclusive; open-ended when valid_to is NULL), until revoked.
CREATE TABLE consent (
    id              INTEGER PRIMARY KEY,
    participant_row INTEGER NOT NULL REFERENCES participant (id) ON DELETE CASCADE,
    partner_org_id  TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    valid_from      TEXT NOT NULL,
    valid_to        TEXT,
    recorded_by     INTEGER,
    recorded_at     INTEGER NOT NULL,
    revoked_at      INTEGER
) STRICT;

CREATE INDEX consent_participant ON consent (participant_row);
CREATE INDEX consent_partner ON consent (partner_org_id);
