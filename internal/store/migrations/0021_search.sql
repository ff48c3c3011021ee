-- Full-text search over public content (issue 4): one row per searchable
-- item (a process, a consultation section, a published comment, a
-- published petition or proposal, a budget project) with the filters a
-- search page offers. The text of comments and petitions is personal data
-- kept in plaintext here only while it is public: a row goes when its
-- item is hidden by a moderator, and with its author's account, in the
-- erasure's own transaction (ON DELETE CASCADE). The dialect's full-text
-- structure over this table (an FTS5 table on SQLite, a GIN index on
-- PostgreSQL) is built by package participation/search, and the table is
-- left out of data backups: it is rebuilt from the sealed content.
CREATE TABLE search_documents (
	id {{ID}},
	kind TEXT NOT NULL,
	item_id BIGINT NOT NULL,
	process_id BIGINT NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
	space_id BIGINT REFERENCES spaces (id) ON DELETE CASCADE,
	district TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL,
	published_at BIGINT NOT NULL,
	author_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
	title TEXT NOT NULL,
	body TEXT NOT NULL
);
CREATE UNIQUE INDEX search_documents_item ON search_documents (kind, item_id);
CREATE INDEX search_documents_process ON search_documents (process_id, published_at);
CREATE INDEX search_documents_author ON search_documents (author_id);
