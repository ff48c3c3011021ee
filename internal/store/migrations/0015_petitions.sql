-- Petitions and proposals: citizens write them (pre-moderated if the space
-- says so), eligible people sign once, the public sees the count; reaching
-- the threshold starts the body's response deadline.
CREATE TABLE petition_spaces (
	space_id BIGINT PRIMARY KEY REFERENCES spaces (id) ON DELETE CASCADE,
	threshold INTEGER NOT NULL,
	response_days INTEGER NOT NULL
);

CREATE TABLE petitions (
	id {{ID}},
	space_id BIGINT NOT NULL REFERENCES petition_spaces (space_id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	author_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	title_sealed {{BLOB}} NOT NULL,
	body_sealed {{BLOB}} NOT NULL,
	status TEXT NOT NULL,
	review_reason TEXT NOT NULL DEFAULT '',
	threshold INTEGER NOT NULL,
	created_at BIGINT NOT NULL,
	published_at BIGINT,
	threshold_reached_at BIGINT,
	response_due_at BIGINT,
	escalated_at BIGINT,
	response TEXT,
	responded_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	responded_at BIGINT
);
CREATE INDEX petitions_space ON petitions (space_id, status, id);
CREATE INDEX petitions_due ON petitions (response_due_at);
CREATE INDEX petitions_author ON petitions (author_id);

-- One signature per person and petition (the unique index makes a double
-- submit fail in the database). The row stays when the signer's account is
-- erased, so totals do not change, but loses its link to them.
CREATE TABLE petition_signatures (
	id {{ID}},
	petition_id BIGINT NOT NULL REFERENCES petitions (id) ON DELETE CASCADE,
	account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	public_name_sealed {{BLOB}},
	signed_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX petition_signatures_once ON petition_signatures (petition_id, account_id);
CREATE INDEX petition_signatures_account ON petition_signatures (account_id);

-- The signature count, split over shards (account number mod 16) so that
-- concurrent signers of one petition do not queue on one row.
CREATE TABLE petition_counts (
	petition_id BIGINT NOT NULL REFERENCES petitions (id) ON DELETE CASCADE,
	shard INTEGER NOT NULL,
	signatures BIGINT NOT NULL,
	PRIMARY KEY (petition_id, shard)
);
