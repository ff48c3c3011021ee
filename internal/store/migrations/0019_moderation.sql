-- Moderation: anyone may flag a comment or a petition with a reason from a
-- fixed list; moderators hide, restore, approve held items or dismiss
-- flags, each decision with a public reason, recorded with a digest of the
-- content at that moment (never the content itself).

-- A flag. flagger_id is NULL for a signed-out visitor (nothing about them
-- is stored, not even the address) and becomes NULL when the flagger's
-- account is erased. Only signed-in flaggers may add details, sealed under
-- their own key.
CREATE TABLE moderation_flags (
	id {{ID}},
	kind TEXT NOT NULL,
	item_id BIGINT NOT NULL,
	reason TEXT NOT NULL,
	details_sealed {{BLOB}},
	flagger_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	status TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	resolved_at BIGINT,
	resolution TEXT NOT NULL DEFAULT ''
);
-- One open flag per person and item: a second flag, however timed, fails here.
CREATE UNIQUE INDEX moderation_flags_once ON moderation_flags (kind, item_id, flagger_id) WHERE status = 'open' AND flagger_id IS NOT NULL;
CREATE INDEX moderation_flags_open ON moderation_flags (status, kind, item_id);
CREATE INDEX moderation_flags_flagger ON moderation_flags (flagger_id);

-- A moderator's decision: public, with its public reason and the digest of
-- the content at the time (auditlog.Digest), so that the decision can be
-- matched to the content without keeping a copy of it.
CREATE TABLE moderation_actions (
	id {{ID}},
	kind TEXT NOT NULL,
	item_id BIGINT NOT NULL,
	space_id BIGINT,
	action TEXT NOT NULL,
	public_reason TEXT NOT NULL DEFAULT '',
	content_digest TEXT NOT NULL DEFAULT '',
	prior_status TEXT NOT NULL DEFAULT '',
	moderator_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	decided_at BIGINT NOT NULL
);
CREATE INDEX moderation_actions_item ON moderation_actions (kind, item_id, id);
CREATE INDEX moderation_actions_moderator ON moderation_actions (moderator_id);
