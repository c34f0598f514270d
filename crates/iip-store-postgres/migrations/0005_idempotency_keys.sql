-- Idempotency keys of case writes (the API's Idempotency-Key header), written in the same
-- commit as the write they name, so that a client retrying a write whose answer it never
-- received (a crash, a lost connection) finds the first write instead of recording it again.
-- Only keyed digests are kept: of the organization and key, and of the request (which may
-- hold a name); a key is forgotten a day after its use (IDEMPOTENCY_KEY_SECONDS).
CREATE TABLE idempotency_key (
    key_digest BYTEA PRIMARY KEY,
    org_id TEXT NOT NULL,
    request_digest BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX idempotency_key_age ON idempotency_key (created_at);
