-- The public audit log (package auditlog). Append writes auditlog_pending in
-- the caller's transaction; the sequencer moves pending rows into
-- auditlog_entries (by log index) and auditlog_hashes (RFC 6962 stored
-- hashes, keyed by golang.org/x/mod/sumdb/tlog's stored-hash index) and
-- updates the single signed checkpoint row, all in one transaction.
CREATE TABLE auditlog_pending (
	id {{ID}},
	entry {{BLOB}} NOT NULL
);

CREATE TABLE auditlog_entries (
	idx BIGINT PRIMARY KEY,
	entry {{BLOB}} NOT NULL
);

CREATE TABLE auditlog_hashes (
	id BIGINT PRIMARY KEY,
	hash {{BLOB}} NOT NULL
);

-- One row: the latest signed checkpoint. An empty note means nothing has
-- been sequenced yet.
CREATE TABLE auditlog_checkpoint (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	size BIGINT NOT NULL,
	note TEXT NOT NULL,
	signed_at BIGINT NOT NULL
);

INSERT INTO auditlog_checkpoint (id, size, note, signed_at) VALUES (1, 0, '', 0);
