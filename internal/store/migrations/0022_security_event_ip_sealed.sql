-- The client address of a security event moves behind a key (package
-- fieldcrypt): it is sealed under one data key per UTC day of the event
-- (subject "security-day:YYYY-MM-DD"), since nobody owns it and a day is
-- what retention erases, and found by a keyed blind index. The plaintext
-- column stays (SQLite cannot drop a NOT NULL column in place) but holds
-- '' once secops' start-up step (Recorder.SealLegacyRows) has sealed the
-- older rows; new rows never fill it.
ALTER TABLE security_events ADD COLUMN ip_sealed {{BLOB}};
ALTER TABLE security_events ADD COLUMN ip_index {{BLOB}};
CREATE INDEX security_events_ip_index ON security_events (ip_index, id);
