package privacy

// The declarations of notifications (package participation/notify): who
// follows which process, the notifications themselves and what a person
// wants by email. They serve the purpose "communication" (public task):
// service messages about the processes a person takes part in, which the
// person can turn off kind by kind and altogether for email.

// notifyPurposes: none of its own; notifications are "communication".
var notifyPurposes = []Purpose{}

var notificationKept = Retention{"notification_created", 90 * day, Delete}

// notifyFields are the personal-data columns of notifications. A
// notification says what happened to whom: everything in its row is
// about the person it tells, although its parameters are public facts
// (titles of public spaces, petition numbers) and never what anyone wrote.
var notifyFields = []Field{
	{"process_follows", "account_id", Identifiers, "communication", untilErased, nil, Structural},
	{"process_follows", "process_id", ParticipationData, "communication", untilErased, nil, Clear},
	{"process_follows", "following", Preferences, "communication", untilErased, nil, Clear},
	{"process_follows", "source", ParticipationData, "communication", untilErased, nil, Clear},
	{"process_follows", "created_at", ActivityData, "communication", untilErased, nil, Clear},

	{"notifications", "account_id", Identifiers, "communication", notificationKept, nil, Structural},
	{"notifications", "kind", MessageContent, "communication", notificationKept, nil, Clear},
	{"notifications", "event", MessageContent, "communication", notificationKept, nil, Clear},
	{"notifications", "process_id", ParticipationData, "communication", notificationKept, nil, Clear},
	{"notifications", "link", MessageContent, "communication", notificationKept, nil, Clear},
	{"notifications", "params", MessageContent, "communication", notificationKept, nil, Clear},
	{"notifications", "once_key", MessageContent, "communication", notificationKept, nil, Clear},
	{"notifications", "created_at", ActivityData, "communication", notificationKept, nil, Clear},
	{"notifications", "read_at", ActivityData, "communication", notificationKept, nil, Clear},
	{"notifications", "mail_state", ActivityData, "communication", notificationKept, nil, Clear},
	{"notifications", "mailed_at", ActivityData, "communication", notificationKept, nil, Clear},

	{"notify_preferences", "account_id", Identifiers, "communication", untilErased, nil, Structural},
	{"notify_preferences", "email_mode", Preferences, "communication", untilErased, nil, Clear},
	{"notify_preferences", "email_off", Preferences, "communication", untilErased, nil, Clear},
	{"notify_preferences", "updated_at", ActivityData, "communication", untilErased, nil, Clear},
}

// notifyNotPersonal are the non-personal columns of notifications.
var notifyNotPersonal = []NotPersonal{
	{"notifications", "id", "sequence number of a notification"},
}
