-- One-time links an administrator gives a new colleague to choose a password. By SHA-256 only.
CREATE TABLE account_invite (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
