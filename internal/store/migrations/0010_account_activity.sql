-- Accounts inactive past the configured period are warned, then erased.
ALTER TABLE accounts ADD COLUMN last_active_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN inactivity_warned_at BIGINT;
UPDATE accounts SET last_active_at = created_at;
