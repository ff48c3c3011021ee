-- Surveys: an official writes the questions before the survey opens;
-- eligible people answer once, identified or anonymously.
CREATE TABLE surveys (
	space_id BIGINT PRIMARY KEY REFERENCES spaces (id) ON DELETE CASCADE,
	intro TEXT NOT NULL DEFAULT '',
	anonymous BOOLEAN NOT NULL,
	live_results BOOLEAN NOT NULL DEFAULT FALSE,
	public_text BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE survey_questions (
	id {{ID}},
	space_id BIGINT NOT NULL REFERENCES surveys (space_id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	kind TEXT NOT NULL,
	text TEXT NOT NULL,
	help TEXT NOT NULL DEFAULT '',
	required BOOLEAN NOT NULL,
	max_choices INTEGER NOT NULL DEFAULT 0,
	scale_min INTEGER NOT NULL DEFAULT 0,
	scale_max INTEGER NOT NULL DEFAULT 0,
	label_low TEXT NOT NULL DEFAULT '',
	label_high TEXT NOT NULL DEFAULT '',
	max_length INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX survey_questions_space ON survey_questions (space_id, position);

CREATE TABLE survey_options (
	id {{ID}},
	question_id BIGINT NOT NULL REFERENCES survey_questions (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	label TEXT NOT NULL
);
CREATE INDEX survey_options_question ON survey_options (question_id, position);

-- One row per response, identified or anonymous. The id is random and
-- always given by the service (never the sequence), so neither the id nor
-- SQLite's row order follows the order of answering; the date is the day
-- only. The row holds no account: for an identified survey the link is in
-- survey_participants.response_id. Choices and scale values are one JSON
-- object (keys sorted), so there are no child rows in insert order either.
-- Free text is sealed under the person's key in identified surveys
-- (texts_sealed) and kept as declared anonymous text in anonymous ones
-- (texts).
CREATE TABLE survey_responses (
	id {{ID}},
	space_id BIGINT NOT NULL REFERENCES surveys (space_id) ON DELETE CASCADE,
	day BIGINT NOT NULL,
	answers TEXT NOT NULL,
	texts TEXT NOT NULL DEFAULT '',
	texts_sealed {{BLOB}}
);
CREATE INDEX survey_responses_space ON survey_responses (space_id, id);

-- Who has answered: one row per person and survey, made in the same
-- transaction as the response, unique so that a double submit fails in
-- the database. No time, and for an anonymous survey no link to the
-- response.
CREATE TABLE survey_participants (
	space_id BIGINT NOT NULL REFERENCES surveys (space_id) ON DELETE CASCADE,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	response_id BIGINT REFERENCES survey_responses (id) ON DELETE SET NULL,
	PRIMARY KEY (space_id, account_id)
);
CREATE INDEX survey_participants_account ON survey_participants (account_id);
