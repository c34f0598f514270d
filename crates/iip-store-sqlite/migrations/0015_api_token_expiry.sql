-- Bearer tokens expire (issue 9: tokens lasted until revoked). New tokens carry the expiry
-- chosen at `iip token create --days N` (90 by default); tokens made before this migration
-- expire 90 days after it, so an integration keeps working while a new token is made.
ALTER TABLE api_token ADD COLUMN expires_at INTEGER;
UPDATE api_token SET expires_at = CAST(strftime('%s', 'now') AS INTEGER) + 90 * 86400;
