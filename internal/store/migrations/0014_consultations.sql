-- Consultations: a draft document in sections that citizens comment on,
-- with threaded replies, agree/disagree, edit history, official answers
-- and a final report. Comment bodies are sealed under the author's key.
CREATE TABLE consultations (
	space_id BIGINT PRIMARY KEY REFERENCES spaces (id) ON DELETE CASCADE,
	intro TEXT NOT NULL DEFAULT '',
	report TEXT,
	reported_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	reported_at BIGINT
);

CREATE TABLE consultation_sections (
	id {{ID}},
	space_id BIGINT NOT NULL REFERENCES consultations (space_id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	heading TEXT NOT NULL,
	body TEXT NOT NULL
);
CREATE INDEX consultation_sections_space ON consultation_sections (space_id, position);

CREATE TABLE comments (
	id {{ID}},
	space_id BIGINT NOT NULL REFERENCES spaces (id) ON DELETE CASCADE,
	section_id BIGINT REFERENCES consultation_sections (id),
	parent_id BIGINT REFERENCES comments (id),
	thread_id BIGINT,
	author_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	body_sealed {{BLOB}} NOT NULL,
	status TEXT NOT NULL,
	agree INTEGER NOT NULL DEFAULT 0,
	disagree INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	edited_at BIGINT
);
CREATE INDEX comments_space ON comments (space_id, status, id);
CREATE INDEX comments_section ON comments (section_id, id);
CREATE INDEX comments_thread ON comments (thread_id, id);
CREATE INDEX comments_author ON comments (author_id);

-- Earlier versions of edited comments, shown as the comment's history.
CREATE TABLE comment_revisions (
	id {{ID}},
	comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
	body_sealed {{BLOB}} NOT NULL,
	written_at BIGINT NOT NULL
);
CREATE INDEX comment_revisions_comment ON comment_revisions (comment_id, id);

-- One agree or disagree per person and comment; the totals live on the
-- comment so that they survive the person's erasure.
CREATE TABLE comment_reactions (
	comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	agree BOOLEAN NOT NULL,
	PRIMARY KEY (comment_id, account_id)
);

-- Official answers, to a comment or to a section: public statements of
-- the public body.
CREATE TABLE official_answers (
	id {{ID}},
	space_id BIGINT NOT NULL REFERENCES consultations (space_id) ON DELETE CASCADE,
	comment_id BIGINT REFERENCES comments (id) ON DELETE CASCADE,
	section_id BIGINT REFERENCES consultation_sections (id),
	outcome TEXT NOT NULL,
	body TEXT NOT NULL,
	answered_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	answered_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX official_answers_comment ON official_answers (comment_id);
CREATE UNIQUE INDEX official_answers_section ON official_answers (section_id);
