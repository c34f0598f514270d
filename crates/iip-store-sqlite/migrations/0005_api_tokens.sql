-- Bearer tokens for integrations, each acting as one account. Kept by SHA-256 only.
CREATE TABLE api_token (
    token_hash   BLOB PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX api_token_user ON api_token (user_id);
