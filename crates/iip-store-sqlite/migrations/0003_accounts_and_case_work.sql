-- Accounts, sessions and a participant's pathway items (needs and goals), for the web app.

-- Staff accounts. org_id is checked by the application (a system admin may be created
-- before any organization is imported).
CREATE TABLE app_user (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
) STRICT;

-- Server-side sessions, kept by the SHA-256 of the cookie's token: revocable, and a stolen
-- database holds no usable session.
CREATE TABLE user_session (
    token_hash   BLOB PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) STRICT;

CREATE INDEX user_session_user ON user_session (user_id);

CREATE TABLE pathway_item (
    id              INTEGER PRIMARY KEY,
    participant_row INTEGER NOT NULL REFERENCES participant (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('need', 'goal')),
    element         TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    target_date     TEXT,
    created_on      TEXT NOT NULL
) STRICT;

CREATE INDEX pathway_item_participant ON pathway_item (participant_row);
