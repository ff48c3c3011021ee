package privacy

// The declarations of moderation (package participation/moderation):
// flags on comments and petitions, and moderators' public decisions.

// moderationPurposes are the purposes of moderation.
var moderationPurposes = []Purpose{
	{ID: "moderation", Basis: PublicTask, Subjects: []SubjectCategory{Citizens, Staff}},
}

// moderationFields are the personal-data columns of moderation. Who
// flagged is never shown, not even to moderators (they see only whether
// the flagger was signed in); a signed-out visitor's flag stores nothing
// about them, not even the address, and cannot carry details, since text
// from an unknown person could not be sealed under anyone's key. Details
// are sealed under the flagger's key: erasing the account makes them
// unreadable and turns the flag into an anonymous one.
var moderationFields = []Field{
	{"moderation_flags", "flagger_id", Identifiers, "moderation", untilErased, nil, Structural},
	{"moderation_flags", "details_sealed", ParticipationData, "moderation", untilErased, moderatorReader, Sealed},
	{"moderation_flags", "created_at", ActivityData, "moderation", untilErased, nil, Clear},
	// Who decided, in their official capacity; the public log does not name them.
	{"moderation_actions", "moderator_id", Identifiers, "accountability", untilErased, staffReaders, Structural},
}

// moderationNotPersonal are the non-personal columns of moderation.
var moderationNotPersonal = []NotPersonal{
	{"moderation_flags", "id", "flag number"},
	{"moderation_flags", "kind", "comment or petition"},
	{"moderation_flags", "item_id", "the public item flagged"},
	{"moderation_flags", "reason", "a reason from a fixed list"},
	{"moderation_flags", "status", "open or resolved"},
	{"moderation_flags", "resolved_at", "when a moderator decided"},
	{"moderation_flags", "resolution", "the public decision that closed the flag"},
	{"moderation_actions", "id", "decision number"},
	{"moderation_actions", "kind", "comment or petition"},
	{"moderation_actions", "item_id", "the public item decided on"},
	{"moderation_actions", "space_id", "where the item is"},
	{"moderation_actions", "action", "hide, restore, approve or dismiss"},
	{"moderation_actions", "public_reason", "the moderator's public reason, published in the log"},
	{"moderation_actions", "content_digest", "a hash of the content at the time, which cannot be turned back into it"},
	{"moderation_actions", "prior_status", "the item's public status before the decision"},
	{"moderation_actions", "decided_at", "public date of the decision"},
}
