-- Verifiable elections (package election): an election of a participation
-- process, its trustees' key ceremony relayed by the server, the public
-- credentials the credential authority published, the public ballot box,
-- the encrypted tally, the trustees' partial decryptions and the result.
-- Everything here but the account↔credential binding and the officer and
-- trustee accounts is public: it is the election record.
CREATE TABLE elections (
	id {{ID}},
	process_id BIGINT NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
	-- The manifest's id: what ballots, credentials and the ceremony name.
	manifest_id TEXT NOT NULL,
	title TEXT NOT NULL,
	-- The manifest's canonical JSON (package voting).
	manifest TEXT NOT NULL,
	state TEXT NOT NULL,
	trustees INTEGER NOT NULL,
	threshold INTEGER NOT NULL,
	-- ceremony.json, written when the ceremony starts.
	ceremony TEXT NOT NULL DEFAULT '',
	-- The joint public key (base64url), fixed when the ceremony is verified.
	joint_key TEXT NOT NULL DEFAULT '',
	credentials INTEGER NOT NULL DEFAULT 0,
	credentials_digest TEXT NOT NULL DEFAULT '',
	-- The audit log's size when the election was created: every entry of
	-- the election has an index at or above it.
	log_start BIGINT NOT NULL DEFAULT 0,
	-- How far the log was searched for the election's casts (their indexes
	-- are found once the sequencer has placed them).
	log_scanned BIGINT NOT NULL DEFAULT 0,
	-- The span of the log from the election's first entry to past its
	-- last, as far as it was searched: the record's log evidence.
	log_first BIGINT,
	log_end BIGINT,
	tally TEXT NOT NULL DEFAULT '',
	result TEXT NOT NULL DEFAULT '',
	created_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	created_at BIGINT NOT NULL,
	ceremony_at BIGINT,
	key_fixed_at BIGINT,
	credentials_at BIGINT,
	opened_at BIGINT,
	closed_at BIGINT,
	tallied_at BIGINT,
	published_at BIGINT
);
CREATE UNIQUE INDEX elections_manifest_id ON elections (manifest_id);
CREATE INDEX elections_process ON elections (process_id);

-- The trustees of an election, numbered 1…n as the ceremony numbers them.
CREATE TABLE election_trustees (
	election_id BIGINT NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	PRIMARY KEY (election_id, position)
);
CREATE UNIQUE INDEX election_trustees_account ON election_trustees (election_id, account_id);
CREATE INDEX election_trustees_by_account ON election_trustees (account_id);

-- The key-ceremony messages the server relays (package voting/dkg): one
-- per kind and sender (and recipient, for the encrypted shares).
CREATE TABLE election_messages (
	election_id BIGINT NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	sender INTEGER NOT NULL,
	recipient INTEGER NOT NULL,
	body TEXT NOT NULL,
	received_at BIGINT NOT NULL,
	PRIMARY KEY (election_id, kind, sender, recipient)
);

-- The public credentials, in the order the credential authority uploaded
-- them. account_id binds a credential to the account that first cast a
-- ballot with it, so that only that person's later ballots replace it;
-- bound_at stays when the account is erased, so the credential stays used.
CREATE TABLE election_credentials (
	election_id BIGINT NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	credential TEXT NOT NULL,
	account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	bound_at BIGINT,
	PRIMARY KEY (election_id, credential)
);
CREATE UNIQUE INDEX election_credentials_position ON election_credentials (election_id, position);
-- One credential per person and election.
CREATE UNIQUE INDEX election_credentials_account ON election_credentials (election_id, account_id);
CREATE INDEX election_credentials_by_account ON election_credentials (account_id);

-- The public ballot box: every accepted ballot, in order of acceptance.
-- counted marks the last ballot of each credential, the one the tally
-- adds; the partial unique index lets the database, not timing, settle
-- concurrent casts with one credential.
CREATE TABLE election_ballots (
	id {{ID}},
	election_id BIGINT NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
	credential TEXT NOT NULL,
	ballot_hash TEXT NOT NULL,
	tracking_code TEXT NOT NULL,
	ballot TEXT NOT NULL,
	cast_at BIGINT NOT NULL,
	counted BOOLEAN NOT NULL,
	log_index BIGINT
);
CREATE UNIQUE INDEX election_ballots_hash ON election_ballots (election_id, ballot_hash);
CREATE UNIQUE INDEX election_ballots_counted ON election_ballots (election_id, credential) WHERE counted;
CREATE INDEX election_ballots_tracking ON election_ballots (election_id, tracking_code);
CREATE INDEX election_ballots_box ON election_ballots (election_id, id);

-- Audited ballots voters chose to publish (Benaloh challenges): never
-- counted, there for anyone to check.
CREATE TABLE election_audited_ballots (
	id {{ID}},
	election_id BIGINT NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
	tracking_code TEXT NOT NULL,
	ballot TEXT NOT NULL,
	published_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX election_audited_once ON election_audited_ballots (election_id, tracking_code);

-- The trustees' partial decryptions of the encrypted tally.
CREATE TABLE election_decryptions (
	election_id BIGINT NOT NULL REFERENCES elections (id) ON DELETE CASCADE,
	trustee INTEGER NOT NULL,
	body TEXT NOT NULL,
	received_at BIGINT NOT NULL,
	PRIMARY KEY (election_id, trustee)
);
