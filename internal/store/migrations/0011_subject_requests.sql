-- Data-subject requests that need staff (GDPR Art. 12): the DPO's queue,
-- with the one-month deadline (extendable by two months, Art. 12(3)).
CREATE TABLE subject_requests (
	id {{ID}},
	account_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	purpose TEXT NOT NULL DEFAULT '',
	details_sealed {{BLOB}},
	status TEXT NOT NULL,
	received_at BIGINT NOT NULL,
	due_at BIGINT NOT NULL,
	reminded_at BIGINT,
	closed_at BIGINT,
	outcome TEXT NOT NULL DEFAULT '',
	handled_by BIGINT
);
CREATE INDEX subject_requests_status ON subject_requests (status, due_at);
CREATE INDEX subject_requests_account ON subject_requests (account_id);
