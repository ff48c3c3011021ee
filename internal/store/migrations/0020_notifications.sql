-- Notifications: what a person is told, on the site and by email, about
-- the processes they follow and the answers to what they wrote. Text is
-- rendered when read, from a catalog key (kind, event) and public
-- parameters; nothing a person wrote is copied here.

-- Who follows which process. following is FALSE when the person chose to
-- stop: taking part again then does not follow them again. source says
-- whether they chose to follow ('chosen') or took part ('took_part').
CREATE TABLE process_follows (
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	process_id BIGINT NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
	following BOOLEAN NOT NULL,
	source TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (account_id, process_id)
);
CREATE INDEX process_follows_process ON process_follows (process_id, following);

-- One notification to one person. once_key, when set, makes an event
-- notify a person at most once (e.g. "space 5 closes soon"). mail_state
-- is 'pending' until the mail job sent it ('sent') or decided not to
-- ('skipped': email off for the kind, restricted, no address).
CREATE TABLE notifications (
	id {{ID}},
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	event TEXT NOT NULL,
	process_id BIGINT REFERENCES processes (id) ON DELETE CASCADE,
	link TEXT NOT NULL,
	params TEXT NOT NULL,
	once_key TEXT,
	created_at BIGINT NOT NULL,
	read_at BIGINT,
	mail_state TEXT NOT NULL DEFAULT 'pending',
	mailed_at BIGINT
);
CREATE INDEX notifications_account ON notifications (account_id, id);
CREATE INDEX notifications_mail ON notifications (mail_state, account_id);
CREATE INDEX notifications_created ON notifications (created_at);
CREATE UNIQUE INDEX notifications_once ON notifications (account_id, once_key);

-- What a person wants by email: every notification at once, a daily
-- digest (the default, also when there is no row) or none; email_off
-- lists the kinds they want no email about, comma-separated.
CREATE TABLE notify_preferences (
	account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	email_mode TEXT NOT NULL,
	email_off TEXT NOT NULL DEFAULT '',
	updated_at BIGINT NOT NULL
);
