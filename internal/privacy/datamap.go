// Package privacy owns veche's data-protection rules: which personal data
// the platform holds, why, on what lawful basis, for how long and who may
// read it. The answers are declared once, in this file's registry, and
// everything else is generated from it: the public privacy notice
// (/privacy), the record of processing activities that GDPR Art. 30 asks
// the controller to keep, and the retention rules the background jobs
// enforce. A test compares the registry with the live database schema
// (SQLite and PostgreSQL) and fails when a column is neither declared as
// personal data nor explicitly listed as not personal, so no personal field
// can be stored without a declaration.
//
// Lawful bases follow GDPR Art. 6(1) and, for special categories, Art. 9(2).
// A public body processes most data under public task or legal obligation
// (Art. 6(1)(e)/(c), Recital 43), not consent; purposes that do need
// consent are marked so.
//
// Processing that uses a person's data for a purpose must stop while the
// person has a restriction of that purpose in force (GDPR Art. 18, or an
// objection the DPO upheld under Art. 21): features call
// [Restrictions.Restricted] (in a transaction [Restrictions.RestrictedTx],
// or [IsRestricted] without a *Restrictions) with the account and the
// purpose's ID before each use, and skip the person when it says true or
// fails. An undeclared purpose is an error, never "free to process".
// [Consents.Has] already includes the check for consent purposes.
// Restrictions are put in force when the DPO completes a restriction or
// objection request, and lifted by the DPO with a reason; both are audited.
//
// Subpackages: fieldcrypt (per-person encryption and crypto-shredding),
// anonymize and dp (k-anonymity, differential privacy), opendata.
package privacy

import (
	"slices"
	"time"
)

// Basis is a lawful basis under GDPR Art. 6(1).
type Basis string

// Lawful bases.
const (
	Consent             Basis = "6(1)(a)"
	Contract            Basis = "6(1)(b)"
	LegalObligation     Basis = "6(1)(c)"
	VitalInterests      Basis = "6(1)(d)"
	PublicTask          Basis = "6(1)(e)"
	LegitimateInterests Basis = "6(1)(f)"
)

// Bases lists the bases in the order of Art. 6(1).
var Bases = []Basis{Consent, Contract, LegalObligation, VitalInterests, PublicTask, LegitimateInterests}

// Purpose is one reason veche processes personal data.
type Purpose struct {
	ID    string // stable name; its texts are privacy.purpose.<ID>.* in the catalogs
	Basis Basis
	// Subjects are the categories of people whose data serves the purpose.
	Subjects []SubjectCategory
	// Uses lists fields (table.column) declared under another purpose
	// that this purpose also reads, e.g. a newsletter reads the address.
	Uses []string
}

// NeedsConsent reports whether processing for p stops without consent.
func (p Purpose) NeedsConsent() bool { return p.Basis == Consent }

// SubjectCategory is a kind of person whose data is processed.
type SubjectCategory string

// Subject categories.
const (
	Citizens SubjectCategory = "citizens" // registered participants
	Staff    SubjectCategory = "staff"    // officials, moderators and other staff accounts
	Visitors SubjectCategory = "visitors" // anyone sending requests, signed in or not
)

// Category is a category of personal data (GDPR Art. 30(1)(c)).
type Category string

// Data categories.
const (
	ContactData      Category = "contact"        // email address
	Identifiers      Category = "identifiers"    // internal account numbers linking records to a person
	Credentials      Category = "credentials"    // password hashes, second-factor secrets
	Preferences      Category = "preferences"    // language
	Roles            Category = "roles"          // what a person may do on the platform
	ConnectionData   Category = "connection"     // network address, browser description
	ActivityData     Category = "activity"       // sign-in times, session state
	MessageContent   Category = "messages"       // emails queued for sending
	SecurityRecords  Category = "security"       // refused attempts and their circumstances
	PseudonymousData Category = "pseudonymous"   // keyed pseudonyms in the public audit log
	SpecialCategory  Category = "special"        // GDPR Art. 9 data (none yet)
	OtherPersonal    Category = "other_personal" // declared for completeness
)

// Action is what happens to data when its retention period ends.
type Action string

// Retention actions.
const (
	Delete    Action = "delete"
	Anonymise Action = "anonymise"
)

// Retention says how long a field is kept: Keep after the event After,
// then Action. Keep 0 means for as long as the event has not happened
// (e.g. "until the account is erased").
type Retention struct {
	After  string // an event name: privacy.until.<After> and privacy.event.<After> in the catalogs (see RetentionJSON.EventKey)
	Keep   time.Duration
	Action Action
}

// Field declares one column that holds personal data.
type Field struct {
	Table, Column string
	Category      Category
	Purpose       string // Purpose.ID
	Retention     Retention
	Readers       []string // staff roles that may read it, besides the person themselves
	AtRest        Storage
}

// Storage is how a field is protected at rest.
type Storage string

// Storage forms.
const (
	Clear      Storage = "clear"      // plain column (to be moved behind per-person keys)
	Sealed     Storage = "sealed"     // encrypted (AEAD), with the key named in the field's comment
	Hashed     Storage = "hashed"     // one-way: a password hash or the hash of a token
	Pseudonym  Storage = "pseudonym"  // keyed pseudonym (HMAC with an instance key)
	Structural Storage = "structural" // a reference to another row, personal only through it
)

// NotPersonal lists a column that holds no personal data, and why.
type NotPersonal struct {
	Table, Column, Why string
}

// Retention periods, named so the notice and the jobs agree.
const (
	day  = 24 * time.Hour
	year = 365 * day
)

// Purposes is every purpose veche processes personal data for.
var Purposes = slices.Concat(foundationPurposes, participationPurposes, budgetPurposes, surveyPurposes, moderationPurposes, notifyPurposes, searchPurposes, electionPurposes)

// foundationPurposes are the purposes of accounts, security and privacy.
var foundationPurposes = []Purpose{
	{ID: "account", Basis: PublicTask, Subjects: []SubjectCategory{Citizens, Staff}},
	{ID: "security", Basis: LegalObligation, Subjects: []SubjectCategory{Citizens, Staff, Visitors}},
	{ID: "accountability", Basis: PublicTask, Subjects: []SubjectCategory{Citizens, Staff}},
	{ID: "communication", Basis: PublicTask, Subjects: []SubjectCategory{Citizens, Staff}},
	{ID: "consent_proof", Basis: LegalObligation, Subjects: []SubjectCategory{Citizens, Staff}},
	// Purposes that need the person's consent (opt-in, package privacy's
	// Consents): nothing is processed for them without a current consent.
	{ID: "newsletter", Basis: Consent, Subjects: []SubjectCategory{Citizens, Staff}, Uses: []string{"accounts.email_sealed"}},
	{ID: "research_contact", Basis: Consent, Subjects: []SubjectCategory{Citizens}, Uses: []string{"accounts.email_sealed", "accounts.locale"}},
}

// ConsentPurposes lists the purposes that rest on consent.
func ConsentPurposes() []Purpose {
	var out []Purpose
	for _, p := range Purposes {
		if p.NeedsConsent() {
			out = append(out, p)
		}
	}
	return out
}

// Fields is the registry of personal data: every column that holds it.
// It is one list, kept in one file per feature area so that each area's
// declarations sit together: this file for accounts, security and privacy,
// datamap_<area>.go for the others.
var Fields = slices.Concat(foundationFields, participationFields, budgetFields, surveyFields, moderationFields, notifyFields, searchFields, electionFields)

// foundationFields are the personal-data columns of accounts, security and
// privacy.
var foundationFields = []Field{
	{"accounts", "id", Identifiers, "account", Retention{"account_erased", 0, Delete}, []string{"admin", "dpo"}, Structural},
	{"accounts", "email_sealed", ContactData, "account", Retention{"account_erased", 0, Delete}, []string{"admin", "dpo"}, Sealed},
	{"accounts", "email_index", ContactData, "account", Retention{"account_erased", 0, Delete}, nil, Pseudonym},
	{"accounts", "email_verified", ActivityData, "account", Retention{"account_erased", 0, Delete}, []string{"admin", "dpo"}, Clear},
	{"accounts", "password_hash", Credentials, "account", Retention{"account_erased", 0, Delete}, nil, Hashed},
	{"accounts", "locale", Preferences, "account", Retention{"account_erased", 0, Delete}, nil, Clear},
	{"accounts", "created_at", ActivityData, "account", Retention{"account_erased", 0, Delete}, []string{"admin", "dpo"}, Clear},
	{"accounts", "password_changed_at", ActivityData, "security", Retention{"account_erased", 0, Delete}, nil, Clear},
	{"accounts", "last_active_at", ActivityData, "account", Retention{"account_erased", 0, Delete}, []string{"admin", "dpo"}, Clear},
	{"accounts", "inactivity_warned_at", ActivityData, "account", Retention{"account_erased", 0, Delete}, []string{"admin", "dpo"}, Clear},

	{"account_roles", "account_id", Identifiers, "account", Retention{"role_revoked", 0, Delete}, []string{"admin", "dpo", "auditor"}, Structural},
	{"account_roles", "role", Roles, "account", Retention{"role_revoked", 0, Delete}, []string{"admin", "dpo", "auditor"}, Clear},
	{"account_roles", "granted_by", Identifiers, "accountability", Retention{"role_revoked", 0, Delete}, []string{"admin", "dpo", "auditor"}, Structural},
	{"account_roles", "granted_at", ActivityData, "accountability", Retention{"role_revoked", 0, Delete}, []string{"admin", "dpo", "auditor"}, Clear},

	{"totp_credentials", "account_id", Identifiers, "security", Retention{"mfa_disabled", 0, Delete}, nil, Structural},
	{"totp_credentials", "secret_sealed", Credentials, "security", Retention{"mfa_disabled", 0, Delete}, nil, Sealed},
	{"totp_credentials", "enabled", Credentials, "security", Retention{"mfa_disabled", 0, Delete}, []string{"admin"}, Clear},
	{"totp_credentials", "last_step", Credentials, "security", Retention{"mfa_disabled", 0, Delete}, nil, Clear},
	{"totp_credentials", "created_at", ActivityData, "security", Retention{"mfa_disabled", 0, Delete}, nil, Clear},
	{"recovery_codes", "account_id", Identifiers, "security", Retention{"codes_replaced", 0, Delete}, nil, Structural},
	{"recovery_codes", "code_hash", Credentials, "security", Retention{"codes_replaced", 0, Delete}, nil, Hashed},
	{"recovery_codes", "used_at", ActivityData, "security", Retention{"codes_replaced", 0, Delete}, nil, Clear},

	{"sessions", "token_hash", Credentials, "security", Retention{"session_ended", 0, Delete}, nil, Hashed},
	{"sessions", "id", Identifiers, "security", Retention{"session_ended", 0, Delete}, nil, Clear},
	{"sessions", "account_id", Identifiers, "security", Retention{"session_ended", 0, Delete}, nil, Structural},
	{"sessions", "kind", ActivityData, "security", Retention{"session_ended", 0, Delete}, nil, Clear},
	{"sessions", "created_at", ActivityData, "security", Retention{"session_ended", 0, Delete}, nil, Clear},
	{"sessions", "last_seen_at", ActivityData, "security", Retention{"session_ended", 0, Delete}, nil, Clear},
	{"sessions", "expires_at", ActivityData, "security", Retention{"session_ended", 0, Delete}, nil, Clear},
	{"sessions", "authenticated_at", ActivityData, "security", Retention{"session_ended", 0, Delete}, nil, Clear},
	{"sessions", "mfa_verified", ActivityData, "security", Retention{"session_ended", 0, Delete}, nil, Clear},
	{"sessions", "mfa_pending", ActivityData, "security", Retention{"session_ended", 0, Delete}, nil, Clear},
	{"sessions", "rotate", ActivityData, "security", Retention{"session_ended", 0, Delete}, nil, Clear},
	{"sessions", "client_sealed", ConnectionData, "security", Retention{"session_ended", 0, Delete}, nil, Sealed},

	{"email_tokens", "token_hash", Credentials, "account", Retention{"token_expired", 0, Delete}, nil, Hashed},
	{"email_tokens", "account_id", Identifiers, "account", Retention{"token_expired", 0, Delete}, nil, Structural},
	{"email_tokens", "purpose", ActivityData, "account", Retention{"token_expired", 0, Delete}, nil, Clear},
	{"email_tokens", "expires_at", ActivityData, "account", Retention{"token_expired", 0, Delete}, nil, Clear},
	{"email_tokens", "used_at", ActivityData, "account", Retention{"token_expired", 0, Delete}, nil, Clear},

	// A change of address waiting for the new address to be confirmed;
	// deleted when confirmed or cancelled, and after its link expires.
	{"email_changes", "account_id", Identifiers, "account", Retention{"token_expired", 0, Delete}, nil, Structural},
	{"email_changes", "email_sealed", ContactData, "account", Retention{"token_expired", 0, Delete}, nil, Sealed},
	{"email_changes", "requested_at", ActivityData, "account", Retention{"token_expired", 0, Delete}, nil, Clear},
	{"email_changes", "expires_at", ActivityData, "account", Retention{"token_expired", 0, Delete}, nil, Clear},

	{"mail_outbox", "subject_ref", Identifiers, "communication", Retention{"mail_sent", 0, Delete}, nil, Structural},
	{"mail_outbox", "sealed", MessageContent, "communication", Retention{"mail_sent", 0, Delete}, nil, Sealed},

	// The client address is sealed under a key per UTC day, not per person
	// (nobody owns an address seen in a refused request): retention erases
	// the keys of days past the period (RetentionDayKeys) and blanks the
	// rest of the row, the address's blind index included.
	{"security_events", "ip_sealed", ConnectionData, "security", Retention{"event_recorded", year, Anonymise}, []string{"security_analyst", "auditor", "admin"}, Sealed},
	{"security_events", "ip_index", ConnectionData, "security", Retention{"event_recorded", year, Anonymise}, nil, Pseudonym},
	{"security_events", "account", PseudonymousData, "security", Retention{"event_recorded", year, Anonymise}, []string{"security_analyst", "auditor", "admin"}, Pseudonym},
	{"security_events", "at", ActivityData, "security", Retention{"event_recorded", year, Anonymise}, []string{"security_analyst", "auditor", "admin"}, Clear},
	{"security_events", "route", ActivityData, "security", Retention{"event_recorded", year, Anonymise}, []string{"security_analyst", "auditor", "admin"}, Clear},
	{"security_events", "detail", ActivityData, "security", Retention{"event_recorded", year, Anonymise}, []string{"security_analyst", "auditor", "admin"}, Clear},

	// Per-person data keys (package fieldcrypt). Erasing a person destroys
	// the keyset; the row stays as a tombstone that proves the erasure and
	// makes later reads fail as "erased" rather than "missing".
	{"subject_keys", "subject", Identifiers, "accountability", Retention{"never", 0, Delete}, nil, Structural},
	{"subject_keys", "keyset", Credentials, "security", Retention{"account_erased", 0, Delete}, nil, Sealed},
	{"subject_keys", "created_at", ActivityData, "security", Retention{"account_erased", 0, Delete}, nil, Clear},
	{"subject_keys", "erased_at", ActivityData, "accountability", Retention{"never", 0, Delete}, nil, Clear},

	// Access transparency: who among staff read whose data, and why.
	{"access_log", "subject_account", Identifiers, "accountability", Retention{"access_recorded", 2 * year, Delete}, []string{"dpo", "auditor"}, Structural},
	{"access_log", "reader_account", Identifiers, "accountability", Retention{"access_recorded", 2 * year, Delete}, []string{"dpo", "auditor"}, Structural},
	{"access_log", "reader_role", Roles, "accountability", Retention{"access_recorded", 2 * year, Delete}, []string{"dpo", "auditor"}, Clear},
	{"access_log", "at", ActivityData, "accountability", Retention{"access_recorded", 2 * year, Delete}, []string{"dpo", "auditor"}, Clear},
	{"access_log", "data", ActivityData, "accountability", Retention{"access_recorded", 2 * year, Delete}, []string{"dpo", "auditor"}, Clear},
	{"access_log", "purpose", ActivityData, "accountability", Retention{"access_recorded", 2 * year, Delete}, []string{"dpo", "auditor"}, Clear},
	{"access_log", "justification", ActivityData, "accountability", Retention{"access_recorded", 2 * year, Delete}, []string{"dpo", "auditor"}, Clear},
	{"access_log", "break_glass", ActivityData, "accountability", Retention{"access_recorded", 2 * year, Delete}, []string{"dpo", "auditor"}, Clear},

	// Consent records: the proof GDPR Art. 7(1) asks for, one row per
	// given or withdrawn consent, kept while the account exists.
	{"consents", "account_id", Identifiers, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Structural},
	{"consents", "purpose", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"consents", "state", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"consents", "notice_version", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"consents", "method", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"consents", "at", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},

	// Data-subject requests handled by the DPO; kept while the account
	// exists, as the record that each request was answered in time.
	{"subject_requests", "account_id", Identifiers, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Structural},
	{"subject_requests", "kind", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"subject_requests", "purpose", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"subject_requests", "details_sealed", MessageContent, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Sealed},
	{"subject_requests", "status", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"subject_requests", "received_at", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"subject_requests", "due_at", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"subject_requests", "reminded_at", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"subject_requests", "closed_at", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"subject_requests", "outcome", MessageContent, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"subject_requests", "handled_by", Identifiers, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Structural},

	// Restrictions of processing (Art. 18) and upheld objections (Art. 21)
	// the DPO put in force, and their lifting; kept while the account
	// exists, as the record of what the person asked and what was done.
	{"processing_restrictions", "account_id", Identifiers, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Structural},
	{"processing_restrictions", "purpose", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"processing_restrictions", "basis", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"processing_restrictions", "request_id", Identifiers, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Structural},
	{"processing_restrictions", "reason_sealed", MessageContent, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Sealed},
	{"processing_restrictions", "set_by", Identifiers, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Structural},
	{"processing_restrictions", "set_at", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"processing_restrictions", "lifted_at", ActivityData, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Clear},
	{"processing_restrictions", "lifted_by", Identifiers, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Structural},
	{"processing_restrictions", "lift_reason_sealed", MessageContent, "consent_proof", Retention{"account_erased", 0, Delete}, []string{"dpo"}, Sealed},

	// The public audit log names people only by keyed pseudonym; the key
	// never leaves the instance. Entries are kept for good: they are the
	// proof that nothing was altered (GDPR Art. 17(3)(b)/(e)).
	{"auditlog_pending", "entry", PseudonymousData, "accountability", Retention{"never", 0, Delete}, nil, Pseudonym},
	{"auditlog_entries", "entry", PseudonymousData, "accountability", Retention{"never", 0, Delete}, nil, Pseudonym},
}

// NotPersonalColumns lists the columns that hold no personal data.
var NotPersonalColumns = slices.Concat(foundationNotPersonal, participationNotPersonal, budgetNotPersonal, surveyNotPersonal, moderationNotPersonal, notifyNotPersonal, searchNotPersonal, ledgerHoldsNotPersonal, electionNotPersonal)

// foundationNotPersonal are the non-personal columns of the foundation.
var foundationNotPersonal = []NotPersonal{
	{"schema_migrations", "*", "the database schema version"},
	{"leases", "*", "which app node runs a background job"},
	{"auditlog_pending", "id", "sequence number of a pending log entry"},
	{"auditlog_entries", "idx", "position in the public log"},
	{"auditlog_hashes", "*", "Merkle tree hashes over pseudonymous entries"},
	{"auditlog_checkpoint", "*", "the signed tree head of the public log"},
	{"mail_outbox", "id", "queue position"},
	{"mail_outbox", "created_at", "queue bookkeeping; the message is deleted once sent"},
	{"mail_outbox", "attempts", "delivery bookkeeping"},
	{"mail_outbox", "next_attempt_at", "delivery bookkeeping"},
	{"security_events", "id", "sequence number"},
	{"security_events", "kind", "the kind of event, from a fixed list"},
	{"access_log", "id", "sequence number"},
	{"consents", "id", "sequence number of a consent record"},
	{"subject_requests", "id", "request number"},
	{"processing_restrictions", "id", "sequence number of a restriction"},
	// Columns that held personal data in clear before migration 0008; the
	// identity service empties them at start-up (SealLegacyRows) and new
	// rows never fill them.
	{"accounts", "email", "legacy, always empty: the address is in email_sealed"},
	{"sessions", "ip", "legacy, always empty: the client is in client_sealed"},
	{"sessions", "user_agent", "legacy, always empty: the client is in client_sealed"},
	{"mail_outbox", "recipient", "legacy, always empty: the message is in sealed"},
	{"mail_outbox", "subject", "legacy, always empty: the message is in sealed"},
	{"mail_outbox", "body", "legacy, always empty: the message is in sealed"},
	// Held the address in clear before migration 0022; secops empties it
	// at start-up (Recorder.SealLegacyRows) and new rows never fill it.
	{"security_events", "ip", "legacy, always empty: the address is in ip_sealed"},
	{"subject_keys", "kek_version", "which key-encryption key wraps the data key"},
	{"dp_budgets", "*", "privacy-budget accounting of published statistics"},
	{"dp_releases", "*", "the log of differentially private releases"},
}

// PurposeByID returns the declared purpose with id.
func PurposeByID(id string) (Purpose, bool) {
	i := slices.IndexFunc(Purposes, func(p Purpose) bool { return p.ID == id })
	if i < 0 {
		return Purpose{}, false
	}
	return Purposes[i], true
}

// FieldsFor returns the declared fields of a purpose, in registry order.
func FieldsFor(purpose string) []Field {
	var out []Field
	for _, f := range Fields {
		if f.Purpose == purpose {
			out = append(out, f)
		}
	}
	return out
}
