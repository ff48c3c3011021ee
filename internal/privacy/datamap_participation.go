package privacy

// The declarations of the participation spaces (package participation):
// processes, the census, consultations, petitions, budgets, surveys and
// moderation.

// Data categories of participation.
const (
	ResidenceData     Category = "residence"     // district and birth year from the census
	ParticipationData Category = "participation" // what a person wrote, signed, supported or answered
	NameData          Category = "name"          // a name a person chose to show publicly
)

// participationPurposes are the purposes of taking part.
var participationPurposes = []Purpose{
	{ID: "participation", Basis: PublicTask, Subjects: []SubjectCategory{Citizens, Staff}},
	{ID: "eligibility", Basis: PublicTask, Subjects: []SubjectCategory{Citizens}},
	{ID: "public_name", Basis: Consent, Subjects: []SubjectCategory{Citizens}},
}

var (
	untilErased     = Retention{"account_erased", 0, Delete}
	untilNewCensus  = Retention{"census_replaced", 0, Delete}
	untilWithdrawn  = Retention{"consent_withdrawn", 0, Delete}
	staffReaders    = []string{"admin", "dpo", "auditor"}
	moderatorReader = []string{"moderator", "official"}
)

// participationFields are the personal-data columns of the participation
// spaces.
var participationFields = []Field{
	// Who created or answered what, in their official capacity.
	{"processes", "created_by", Identifiers, "accountability", untilErased, staffReaders, Structural},
	{"census_imports", "imported_by", Identifiers, "accountability", untilErased, staffReaders, Structural},
	{"consultations", "reported_by", Identifiers, "accountability", untilErased, staffReaders, Structural},
	{"official_answers", "answered_by", Identifiers, "accountability", untilErased, staffReaders, Structural},
	{"petitions", "responded_by", Identifiers, "accountability", untilErased, staffReaders, Structural},

	// The census holds keyed hashes, never identity numbers; a person is
	// linked to an entry only when they verify their residence.
	{"census_entries", "hash", PseudonymousData, "eligibility", untilNewCensus, nil, Pseudonym},
	{"census_entries", "district", ResidenceData, "eligibility", untilNewCensus, nil, Clear},
	{"census_entries", "birth_year", ResidenceData, "eligibility", untilNewCensus, nil, Clear},
	{"residents", "account_id", Identifiers, "eligibility", untilErased, nil, Structural},
	{"residents", "census_hash", PseudonymousData, "eligibility", untilErased, nil, Pseudonym},
	{"residents", "verified_at", ActivityData, "eligibility", untilErased, nil, Clear},

	// Contributions are sealed under the author's key: erasing the
	// account makes them unreadable everywhere, while counts stay.
	{"comments", "author_id", Identifiers, "participation", untilErased, moderatorReader, Structural},
	{"comments", "body_sealed", ParticipationData, "participation", untilErased, moderatorReader, Sealed},
	{"comments", "created_at", ActivityData, "participation", untilErased, nil, Clear},
	{"comments", "edited_at", ActivityData, "participation", untilErased, nil, Clear},
	{"comment_revisions", "body_sealed", ParticipationData, "participation", untilErased, moderatorReader, Sealed},
	{"comment_revisions", "written_at", ActivityData, "participation", untilErased, nil, Clear},
	{"comment_reactions", "account_id", Identifiers, "participation", untilErased, nil, Structural},
	{"comment_reactions", "agree", ParticipationData, "participation", untilErased, nil, Clear},
	{"petitions", "author_id", Identifiers, "participation", untilErased, moderatorReader, Structural},
	{"petitions", "title_sealed", ParticipationData, "participation", untilErased, moderatorReader, Sealed},
	{"petitions", "body_sealed", ParticipationData, "participation", untilErased, moderatorReader, Sealed},
	{"petitions", "created_at", ActivityData, "participation", untilErased, nil, Clear},
	{"petition_signatures", "account_id", Identifiers, "participation", untilErased, nil, Structural},
	{"petition_signatures", "signed_at", ActivityData, "participation", untilErased, nil, Clear},
	{"petition_signatures", "public_name_sealed", NameData, "public_name", untilWithdrawn, nil, Sealed},
}

// participationNotPersonal are the non-personal columns of the
// participation spaces.
var participationNotPersonal = []NotPersonal{
	{"processes", "id", "process number"},
	{"processes", "title", "public text written by the public body"},
	{"processes", "description", "public text written by the public body"},
	{"processes", "residents_only", "the process's eligibility rule"},
	{"processes", "districts", "the process's eligibility rule"},
	{"processes", "min_age", "the process's eligibility rule"},
	{"processes", "created_at", "public date of the process"},
	{"process_phases", "*", "the public timetable of a process"},
	{"spaces", "*", "the public settings of a participation space"},
	{"census_imports", "id", "import number"},
	{"census_imports", "entries", "how many entries an import held"},
	{"census_imports", "digest", "hash of the imported file, for accountability"},
	{"census_imports", "imported_at", "when the census was imported"},
	{"consultations", "space_id", "the consultation's space"},
	{"consultations", "intro", "public text written by the public body"},
	{"consultations", "report", "the public body's final report"},
	{"consultations", "reported_at", "public date of the report"},
	{"consultation_sections", "*", "the public draft document"},
	{"comments", "id", "comment number"},
	{"comments", "space_id", "where the comment was made"},
	{"comments", "section_id", "which section the comment is about"},
	{"comments", "parent_id", "the comment replied to"},
	{"comments", "thread_id", "the first comment of the thread"},
	{"comments", "status", "published, awaiting moderation or hidden"},
	{"comments", "agree", "count of agreements, kept after erasures"},
	{"comments", "disagree", "count of disagreements, kept after erasures"},
	{"comment_revisions", "id", "revision number"},
	{"comment_revisions", "comment_id", "the comment revised"},
	{"comment_reactions", "comment_id", "the comment reacted to"},
	{"official_answers", "id", "answer number"},
	{"official_answers", "space_id", "the consultation answered"},
	{"official_answers", "comment_id", "the comment answered"},
	{"official_answers", "section_id", "the section answered"},
	{"official_answers", "outcome", "whether the proposal was taken up"},
	{"official_answers", "body", "public statement of the public body"},
	{"official_answers", "answered_at", "public date of the answer"},
	{"petition_spaces", "*", "the public settings of a petition space"},
	{"petitions", "id", "petition number"},
	{"petitions", "space_id", "where the petition was filed"},
	{"petitions", "kind", "petition or proposal"},
	{"petitions", "status", "the petition's public state"},
	{"petitions", "threshold", "signatures needed for an official response"},
	{"petitions", "review_reason", "the moderator's public reason for a refusal"},
	{"petitions", "published_at", "public date"},
	{"petitions", "threshold_reached_at", "public date"},
	{"petitions", "response_due_at", "public deadline of the response"},
	{"petitions", "escalated_at", "when a missed deadline was escalated"},
	{"petitions", "response", "public statement of the public body"},
	{"petitions", "responded_at", "public date of the response"},
	{"petition_signatures", "id", "signature number"},
	{"petition_signatures", "petition_id", "the petition signed"},
	{"petition_counts", "*", "signature totals"},
}
