-- Access transparency: every read of a person's data by staff, with the
-- purpose stated. The person sees their rows; the DPO reviews break-glass
-- reads (outside normal workflow, with a written justification).
CREATE TABLE access_log (
	id {{ID}},
	at BIGINT NOT NULL,
	subject_account BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	reader_account BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	reader_role TEXT NOT NULL,
	data TEXT NOT NULL,
	purpose TEXT NOT NULL,
	justification TEXT NOT NULL DEFAULT '',
	break_glass BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX access_log_subject ON access_log (subject_account, at);
CREATE INDEX access_log_break_glass ON access_log (break_glass, at);
