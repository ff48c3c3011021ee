-- Security events: refused attempts, failed sign-ins, MFA failures and
-- permission denials. Never passwords or codes; accounts by pseudonym.
CREATE TABLE security_events (
	id {{ID}},
	at BIGINT NOT NULL,
	kind TEXT NOT NULL,
	ip TEXT NOT NULL,
	account TEXT NOT NULL DEFAULT '',
	route TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX security_events_at ON security_events (at);
CREATE INDEX security_events_kind ON security_events (kind, at);
