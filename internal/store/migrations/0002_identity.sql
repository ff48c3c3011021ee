-- Accounts. Email is stored normalised (lowercase, NFC); the data-protection
-- work moves it behind per-person encryption with a blind index.
CREATE TABLE accounts (
	id {{ID}},
	email TEXT NOT NULL,
	email_verified BOOLEAN NOT NULL DEFAULT FALSE,
	password_hash TEXT NOT NULL,
	locale TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	password_changed_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_email ON accounts (email);

-- Role grants beyond the implicit citizen role.
CREATE TABLE account_roles (
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	role TEXT NOT NULL,
	granted_by BIGINT,
	granted_at BIGINT NOT NULL,
	PRIMARY KEY (account_id, role)
);

-- TOTP secrets, sealed with an instance key; last_step blocks code replay.
CREATE TABLE totp_credentials (
	account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	secret_sealed {{BLOB}} NOT NULL,
	enabled BOOLEAN NOT NULL DEFAULT FALSE,
	last_step BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	code_hash TEXT NOT NULL,
	used_at BIGINT,
	PRIMARY KEY (account_id, code_hash)
);

-- Server-side sessions; only the SHA-256 of the bearer token is stored.
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	id TEXT NOT NULL UNIQUE,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	authenticated_at BIGINT NOT NULL,
	mfa_verified BOOLEAN NOT NULL DEFAULT FALSE,
	mfa_pending BOOLEAN NOT NULL DEFAULT FALSE,
	rotate BOOLEAN NOT NULL DEFAULT FALSE,
	user_agent TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions (account_id);

-- Single-use emailed tokens (address verification, password reset).
CREATE TABLE email_tokens (
	token_hash TEXT PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	purpose TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT
);

-- Outgoing mail, written in the transaction of the change that causes it
-- and sent by a background job, so that response times do not depend on
-- whether a message was sent (no enumeration by timing).
CREATE TABLE mail_outbox (
	id {{ID}},
	recipient TEXT NOT NULL,
	subject TEXT NOT NULL,
	body TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL
);
