-- Participatory budgets (issue 4): projects with costs within a total
-- budget; eligible people approve projects within the budget; results by
-- greedy and by the Method of Equal Shares.
CREATE TABLE budget_spaces (
	space_id BIGINT PRIMARY KEY REFERENCES spaces (id) ON DELETE CASCADE,
	total BIGINT NOT NULL,
	currency TEXT NOT NULL,
	intro TEXT NOT NULL DEFAULT ''
);

CREATE TABLE budget_projects (
	id {{ID}},
	space_id BIGINT NOT NULL REFERENCES budget_spaces (space_id) ON DELETE CASCADE,
	title TEXT NOT NULL,
	description TEXT NOT NULL,
	cost BIGINT NOT NULL,
	district TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX budget_projects_space ON budget_projects (space_id, id);

-- One ballot per person and space (the unique index makes a double submit
-- end in one ballot). Counting the Method of Equal Shares needs each
-- ballot's approvals, so they are kept; erasing the account removes the
-- link to it and the anonymous ballot still counts.
CREATE TABLE budget_ballots (
	id {{ID}},
	space_id BIGINT NOT NULL REFERENCES budget_spaces (space_id) ON DELETE CASCADE,
	account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	cast_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX budget_ballots_once ON budget_ballots (space_id, account_id);
CREATE INDEX budget_ballots_account ON budget_ballots (account_id);

CREATE TABLE budget_ballot_items (
	ballot_id BIGINT NOT NULL REFERENCES budget_ballots (id) ON DELETE CASCADE,
	project_id BIGINT NOT NULL REFERENCES budget_projects (id) ON DELETE CASCADE,
	PRIMARY KEY (ballot_id, project_id)
);
CREATE INDEX budget_ballot_items_project ON budget_ballot_items (project_id);

-- The published result, computed once after the space closed; its digest
-- is in the audit log.
CREATE TABLE budget_results (
	space_id BIGINT PRIMARY KEY REFERENCES budget_spaces (space_id) ON DELETE CASCADE,
	result TEXT NOT NULL,
	digest TEXT NOT NULL,
	computed_at BIGINT NOT NULL
);
