-- Differential-privacy budgets of published datasets (package privacy/dp).
-- Amounts are exact rationals written as TEXT ("1/2", "3", "1/1000000"),
-- read and summed with math/big, so that both databases keep them without
-- rounding. A release is charged in the same transaction that checks the
-- remaining budget; a dataset whose budget is spent gets no more releases.
CREATE TABLE dp_budgets (
	dataset TEXT PRIMARY KEY,
	epsilon_total TEXT NOT NULL,
	epsilon_spent TEXT NOT NULL,
	delta_total TEXT NOT NULL,
	delta_spent TEXT NOT NULL,
	releases BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

-- One row per charged release, so that the spending can be traced.
CREATE TABLE dp_releases (
	id {{ID}},
	dataset TEXT NOT NULL REFERENCES dp_budgets (dataset),
	mechanism TEXT NOT NULL,
	epsilon TEXT NOT NULL,
	delta TEXT NOT NULL,
	released_at BIGINT NOT NULL
);
CREATE INDEX dp_releases_dataset ON dp_releases (dataset, released_at);
