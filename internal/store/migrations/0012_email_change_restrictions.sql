-- Self-service change of address: the new address waits here, sealed under
-- the person's own key, until its owner opens the emailed link (24 hours).
-- The account's address changes only then.
CREATE TABLE email_changes (
	account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	email_sealed {{BLOB}} NOT NULL,
	requested_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);

-- Processing restrictions (GDPR Art. 18) and upheld objections (Art. 21),
-- per person and purpose. A row without lifted_at is in force: processing
-- for the purpose asks package privacy's Restricted first. Lifted rows
-- stay as the record, with who lifted them and why.
CREATE TABLE processing_restrictions (
	id {{ID}},
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	purpose TEXT NOT NULL,
	basis TEXT NOT NULL,
	request_id BIGINT REFERENCES subject_requests (id) ON DELETE SET NULL,
	reason_sealed {{BLOB}},
	set_by BIGINT,
	set_at BIGINT NOT NULL,
	lifted_at BIGINT,
	lifted_by BIGINT,
	lift_reason_sealed {{BLOB}}
);
CREATE UNIQUE INDEX processing_restrictions_active ON processing_restrictions (account_id, purpose) WHERE lifted_at IS NULL;
CREATE INDEX processing_restrictions_account ON processing_restrictions (account_id, id);
