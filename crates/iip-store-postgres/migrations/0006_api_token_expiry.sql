-- Bearer tokens expire (see the SQLite schema, 0015_api_token_expiry.sql): tokens made before
-- this migration expire 90 days after it.
ALTER TABLE api_token ADD COLUMN expires_at BIGINT;
UPDATE api_token SET expires_at = extract(epoch FROM now())::bigint + 90 * 86400;
