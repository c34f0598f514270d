-- One-time links a case worker gives a participant for the self-assessment (no account
-- needed). Kept by the SHA-256 of the link's token; used once, then void.
CREATE TABLE self_assessment_link (
    token_hash      BLOB PRIMARY KEY,
    participant_row INTEGER NOT NULL REFERENCES participant (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
) STRICT;
