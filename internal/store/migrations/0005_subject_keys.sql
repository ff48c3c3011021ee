-- Per-person data keys (package privacy/fieldcrypt). Each subject ("account:42")
-- has one tink AES-256-GCM keyset, stored only wrapped (encrypted) under a
-- key-encryption key whose version is named in kek_version. Erasure
-- (crypto-shredding) empties keyset and kek_version and sets erased_at, so
-- the row remains as proof that the person was erased. Data backups leave
-- this table out; it is exported on its own (veche backup keys).
CREATE TABLE subject_keys (
	subject TEXT PRIMARY KEY,
	keyset {{BLOB}} NOT NULL,
	kek_version TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	erased_at BIGINT
);
CREATE INDEX subject_keys_kek ON subject_keys (kek_version);
