-- Identities encrypted at rest (iip-vault): each organization's data key, wrapped by the
-- master key the process is given (never stored here); the sealed identifying fields; and
-- keyed blind indexes of the names for search. With a key, the plaintext columns stay NULL.
CREATE TABLE org_key (
    org_id     TEXT PRIMARY KEY NOT NULL,
    wrapped    BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

ALTER TABLE participant_identity ADD COLUMN sealed_first_name BLOB;
ALTER TABLE participant_identity ADD COLUMN sealed_last_name BLOB;
ALTER TABLE participant_identity ADD COLUMN sealed_date_of_birth BLOB;
ALTER TABLE participant_identity ADD COLUMN first_name_index BLOB;
ALTER TABLE participant_identity ADD COLUMN last_name_index BLOB;

CREATE INDEX participant_identity_first_name_index ON participant_identity (first_name_index);
CREATE INDEX participant_identity_last_name_index ON participant_identity (last_name_index);
