-- Consent records (GDPR Art. 7, ISO/IEC TS 27560): one row per consent
-- given or withdrawn; the latest row per purpose is the current state.
CREATE TABLE consents (
	id {{ID}},
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	purpose TEXT NOT NULL,
	state TEXT NOT NULL,
	notice_version INTEGER NOT NULL,
	method TEXT NOT NULL,
	at BIGINT NOT NULL
);
CREATE INDEX consents_account ON consents (account_id, purpose, id);
