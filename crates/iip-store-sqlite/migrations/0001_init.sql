-- IIP store, SQLite. Forward-only: never edit a migration once it has shipped; add a new one.

CREATE TABLE import_run (
    id          INTEGER PRIMARY KEY,
    package     TEXT NOT NULL,
    started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE organization (
    org_id      TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    sector      TEXT NOT NULL,
    level       TEXT NOT NULL,
    -- Checked by the importer (exists, no cycle) rather than by a foreign key, so that a
    -- package may list a child before its parent.
    parent_id   TEXT,
    area        TEXT,
    last_import INTEGER
) STRICT;

CREATE TABLE participant (
    id               INTEGER PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organization (org_id),
    participant_id   TEXT NOT NULL,
    person_key       TEXT,
    gender           TEXT,
    race_ethnicity   TEXT,
    country_of_birth TEXT,
    primary_language TEXT,
    us_arrival_year  INTEGER,
    zip              TEXT,
    barriers         TEXT NOT NULL DEFAULT '',
    last_import      INTEGER,
    UNIQUE (org_id, participant_id)
) STRICT;

CREATE INDEX participant_person_key ON participant (person_key);

-- Identifying fields, apart from everything else: the one place encryption at rest will touch.
CREATE TABLE participant_identity (
    participant_row INTEGER PRIMARY KEY REFERENCES participant (id) ON DELETE CASCADE,
    first_name      TEXT,
    last_name       TEXT,
    date_of_birth   TEXT
) STRICT;

-- An activity has no id in the exchange format. Identical rows in one package are distinct
-- sessions, so each distinct row keeps how many times it appeared in the import that had the
-- most of it: re-importing the same package leaves `occurrences` unchanged.
CREATE TABLE activity (
    id              INTEGER PRIMARY KEY,
    participant_row INTEGER NOT NULL REFERENCES participant (id) ON DELETE CASCADE,
    date            TEXT NOT NULL,
    program         TEXT NOT NULL,
    hours_centi     INTEGER NOT NULL,
    element         TEXT NOT NULL DEFAULT '',
    occurrences     INTEGER NOT NULL DEFAULT 1,
    last_import     INTEGER,
    seen_in_import  INTEGER NOT NULL DEFAULT 1,
    UNIQUE (participant_row, date, program, hours_centi, element)
) STRICT;

CREATE INDEX activity_date ON activity (date, participant_row);

CREATE TABLE milestone (
    id              INTEGER PRIMARY KEY,
    participant_row INTEGER NOT NULL REFERENCES participant (id) ON DELETE CASCADE,
    date            TEXT NOT NULL,
    milestone       TEXT NOT NULL,
    element         TEXT NOT NULL,
    last_import     INTEGER,
    UNIQUE (participant_row, milestone, date)
) STRICT;

CREATE INDEX milestone_date ON milestone (date, participant_row);

CREATE TABLE assessment (
    id              INTEGER PRIMARY KEY,
    participant_row INTEGER NOT NULL REFERENCES participant (id) ON DELETE CASCADE,
    date            TEXT NOT NULL,
    instrument      TEXT NOT NULL,
    score           REAL NOT NULL,
    last_import     INTEGER,
    UNIQUE (participant_row, date, instrument)
) STRICT;
