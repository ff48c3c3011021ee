-- Participation processes (issue 4): a process has dated phases and
-- spaces (a consultation, a petition list, a budget, a survey), each
-- open for participation during one phase, and an eligibility rule.
CREATE TABLE processes (
	id {{ID}},
	title TEXT NOT NULL,
	description TEXT NOT NULL,
	residents_only BOOLEAN NOT NULL DEFAULT FALSE,
	districts TEXT NOT NULL DEFAULT '',
	min_age INTEGER NOT NULL DEFAULT 0,
	created_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE process_phases (
	id {{ID}},
	process_id BIGINT NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	name TEXT NOT NULL,
	starts_at BIGINT NOT NULL,
	ends_at BIGINT NOT NULL
);
CREATE INDEX process_phases_process ON process_phases (process_id, position);

CREATE TABLE spaces (
	id {{ID}},
	process_id BIGINT NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	title TEXT NOT NULL,
	phase_id BIGINT NOT NULL REFERENCES process_phases (id),
	moderated BOOLEAN NOT NULL DEFAULT FALSE,
	closed_at BIGINT,
	created_at BIGINT NOT NULL
);
CREATE INDEX spaces_process ON spaces (process_id);

-- The census of residents a public body imports: keyed hashes of identity
-- numbers (HMAC-SHA256 under the census key) with the attributes that
-- eligibility rules use. The identity numbers themselves never reach veche.
CREATE TABLE census_entries (
	hash {{BLOB}} PRIMARY KEY,
	district TEXT NOT NULL,
	birth_year INTEGER NOT NULL
);

CREATE TABLE census_imports (
	id {{ID}},
	entries BIGINT NOT NULL,
	digest TEXT NOT NULL,
	imported_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	imported_at BIGINT NOT NULL
);

-- A person's proof of residence: the census entry they claimed. One entry
-- can be claimed by one account only.
CREATE TABLE residents (
	account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	census_hash {{BLOB}} NOT NULL UNIQUE,
	verified_at BIGINT NOT NULL
);
