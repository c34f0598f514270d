-- The metrics break results down by age group, which needs only the year of birth. Keeping the
-- year beside the other non-identifying attributes lets the engine stay away from
-- participant_identity (and, once it is encrypted, from the keys).
ALTER TABLE participant ADD COLUMN birth_year INTEGER;

UPDATE participant SET birth_year = (
    SELECT CAST(substr(i.date_of_birth, 1, 4) AS INTEGER)
    FROM participant_identity i
    WHERE i.participant_row = participant.id AND i.date_of_birth IS NOT NULL
);

-- Bumped by every committed import: a cheap way for a long-lived reader (the web server's
-- metrics snapshot) to notice that another process changed the store.
CREATE TABLE store_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO store_revision (id, revision) VALUES (1, 0);
