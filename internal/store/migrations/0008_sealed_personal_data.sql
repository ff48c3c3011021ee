-- Personal data moves behind per-person keys (package fieldcrypt):
-- the address is sealed, and found by a keyed blind index; a session's
-- client address and browser are sealed together; queued mail is sealed.
-- The old plaintext columns stay (SQLite cannot drop a NOT NULL column in
-- place) but hold '' once identity's start-up step has sealed older rows.
ALTER TABLE accounts ADD COLUMN email_sealed {{BLOB}};
ALTER TABLE accounts ADD COLUMN email_index {{BLOB}};
DROP INDEX accounts_email;
CREATE UNIQUE INDEX accounts_email_index ON accounts (email_index);
ALTER TABLE sessions ADD COLUMN client_sealed {{BLOB}};
ALTER TABLE mail_outbox ADD COLUMN subject_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE mail_outbox ADD COLUMN sealed {{BLOB}};
