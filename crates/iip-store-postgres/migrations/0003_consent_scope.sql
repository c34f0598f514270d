-- What a consent lets the partner see: the whole record (record), the pathway without the
-- identity (pathway), or only the referrals sent to the partner (referrals). Consents recorded
-- before this migration covered the whole record.
ALTER TABLE consent ADD COLUMN scope TEXT NOT NULL DEFAULT 'record'
    CHECK (scope IN ('record', 'pathway', 'referrals'));
