-- IIP store, PostgreSQL. Forward-only: never edit a migration once it has shipped; add a new one.
-- The same tables as the SQLite store. Tenant tables (participants, their identities and every
-- record about them) carry org_id and are hash-partitioned by it, so each partition holds a
-- share of the organizations and a state-size store keeps its indexes small (docs/scaling.md).

CREATE TABLE import_run (
    id         BIGSERIAL PRIMARY KEY,
    package    TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE organization (
    org_id      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    sector      TEXT NOT NULL,
    level       TEXT NOT NULL,
    -- Checked by the importer (exists, no cycle), so a package may list a child before its parent.
    parent_id   TEXT,
    area        TEXT,
    last_import BIGINT
);

-- Participant rows are numbered from one sequence across partitions: the metrics engine and
-- the web app name a participant by its row alone.
CREATE SEQUENCE participant_row_seq;

CREATE TABLE participant (
    id               BIGINT NOT NULL DEFAULT nextval('participant_row_seq'),
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
    birth_year       INTEGER,
    last_import      BIGINT,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, participant_id)
) PARTITION BY HASH (org_id);

CREATE INDEX participant_row ON participant (id);
CREATE INDEX participant_person_key ON participant (person_key);

CREATE TABLE participant_identity (
    org_id               TEXT NOT NULL,
    participant_row      BIGINT NOT NULL,
    first_name           TEXT,
    last_name            TEXT,
    date_of_birth        TEXT,
    sealed_first_name    BYTEA,
    sealed_last_name     BYTEA,
    sealed_date_of_birth BYTEA,
    first_name_index     BYTEA,
    last_name_index      BYTEA,
    PRIMARY KEY (org_id, participant_row),
    FOREIGN KEY (org_id, participant_row) REFERENCES participant (org_id, id) ON DELETE CASCADE
) PARTITION BY HASH (org_id);

CREATE INDEX participant_identity_first_name_index ON participant_identity (org_id, first_name_index);
CREATE INDEX participant_identity_last_name_index ON participant_identity (org_id, last_name_index);

-- See the SQLite schema: identical rows in one package are distinct sessions, counted in
-- `occurrences` (the most any one import had), so a re-import changes nothing.
CREATE TABLE activity (
    id              BIGSERIAL,
    org_id          TEXT NOT NULL,
    participant_row BIGINT NOT NULL,
    date            DATE NOT NULL,
    program         TEXT NOT NULL,
    hours_centi     BIGINT NOT NULL,
    element         TEXT NOT NULL DEFAULT '',
    occurrences     BIGINT NOT NULL DEFAULT 1,
    last_import     BIGINT,
    seen_in_import  BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, participant_row, date, program, hours_centi, element),
    FOREIGN KEY (org_id, participant_row) REFERENCES participant (org_id, id) ON DELETE CASCADE
) PARTITION BY HASH (org_id);

CREATE INDEX activity_participant ON activity (participant_row, date);
CREATE INDEX activity_date ON activity (date);

CREATE TABLE milestone (
    id              BIGSERIAL,
    org_id          TEXT NOT NULL,
    participant_row BIGINT NOT NULL,
    date            DATE NOT NULL,
    milestone       TEXT NOT NULL,
    element         TEXT NOT NULL,
    last_import     BIGINT,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, participant_row, milestone, date),
    FOREIGN KEY (org_id, participant_row) REFERENCES participant (org_id, id) ON DELETE CASCADE
) PARTITION BY HASH (org_id);

CREATE INDEX milestone_participant ON milestone (participant_row, date);

CREATE TABLE assessment (
    id              BIGSERIAL,
    org_id          TEXT NOT NULL,
    participant_row BIGINT NOT NULL,
    date            DATE NOT NULL,
    instrument      TEXT NOT NULL,
    score           DOUBLE PRECISION NOT NULL,
    last_import     BIGINT,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, participant_row, date, instrument),
    FOREIGN KEY (org_id, participant_row) REFERENCES participant (org_id, id) ON DELETE CASCADE
) PARTITION BY HASH (org_id);

CREATE INDEX assessment_participant ON assessment (participant_row, date);

-- Eight partitions per tenant table; more can be had by detaching and re-partitioning
-- (docs/scaling.md).
DO $$
DECLARE
    t TEXT;
    r INTEGER;
BEGIN
    FOREACH t IN ARRAY ARRAY['participant', 'participant_identity', 'activity', 'milestone', 'assessment'] LOOP
        FOR r IN 0..7 LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES WITH (MODULUS 8, REMAINDER %s)',
                           t || '_p' || r, t, r);
        END LOOP;
    END LOOP;
END
$$;

-- Bumped by every committed change: long-lived readers (the web server's metrics snapshot)
-- compare it to know when to refresh.
CREATE TABLE store_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO store_revision (id, revision) VALUES (1, 0);

-- Staff accounts; emails are unique whatever their case.
CREATE TABLE app_user (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);

CREATE UNIQUE INDEX app_user_email ON app_user (lower(email));

-- Sessions, API tokens and one-time links are kept by the SHA-256 of their token only.
CREATE TABLE user_session (
    token_hash   BYTEA PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

CREATE INDEX user_session_user ON user_session (user_id);

CREATE TABLE api_token (
    token_hash   BYTEA PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked      BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX api_token_user ON api_token (user_id);

CREATE TABLE account_invite (
    token_hash BYTEA PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE TABLE pathway_item (
    id              BIGSERIAL PRIMARY KEY,
    participant_row BIGINT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('need', 'goal')),
    element         TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    target_date     DATE,
    created_on      DATE NOT NULL
);

CREATE INDEX pathway_item_participant ON pathway_item (participant_row);

CREATE TABLE self_assessment_link (
    token_hash      BYTEA PRIMARY KEY,
    participant_row BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);

-- Append-only, hash-chained audit log (see the SQLite schema). The trigger refuses edits and
-- deletions; the chain catches whoever goes around it.
CREATE TABLE audit_log (
    id        BIGSERIAL PRIMARY KEY,
    at        BIGINT NOT NULL,
    user_id   BIGINT,
    org_id    TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    reason    TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash      BYTEA NOT NULL
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Each organization's data key, wrapped by the master key the process is given.
CREATE TABLE org_key (
    org_id     TEXT PRIMARY KEY,
    wrapped    BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE consent (
    id              BIGSERIAL PRIMARY KEY,
    participant_row BIGINT NOT NULL,
    partner_org_id  TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    valid_from      DATE NOT NULL,
    valid_to        DATE,
    recorded_by     BIGINT,
    recorded_at     BIGINT NOT NULL,
    revoked_at      BIGINT
);

CREATE INDEX consent_participant ON consent (participant_row);
CREATE INDEX consent_partner ON consent (partner_org_id);
