package privacy

// The declarations of the survey spaces (package participation/survey)
// and of the feedback channel on every page (package
// participation/feedback).

// FeedbackText is what a visitor wrote in a problem report: it need not
// be personal, but may be.
const FeedbackText Category = "feedback_text"

// surveyPurposes are purposes only the survey spaces need (most use
// "participation", declared in datamap_participation.go).
var surveyPurposes = []Purpose{
	{ID: "feedback", Basis: PublicTask, Subjects: []SubjectCategory{Visitors}},
}

// Anonymous survey answers are kept apart from who answered (see
// docs/surveys.md): survey_responses holds no account, a random number and
// the day only; survey_participants says who answered, with no time and,
// for an anonymous survey, no response. Their free text cannot be sealed
// under a person's key, since nothing says whose it is: it is declared
// here as anonymous text that may still hold what someone chose to write
// about themselves, and deleted two years after the day it came.
var (
	untilSurveyTextExpires = Retention{"survey_answered", 2 * year, Anonymise}
	feedbackKept           = Retention{"feedback_received", year, Delete}
)

// surveyFields are the personal-data columns of the survey spaces.
var surveyFields = []Field{
	{"survey_participants", "account_id", Identifiers, "participation", untilErased, nil, Structural},
	// Set for identified surveys only: the link from a person to their answers.
	{"survey_participants", "response_id", Identifiers, "participation", untilErased, []string{"official"}, Structural},
	// Linked to a person only through survey_participants.response_id
	// (identified surveys), which the erasure of the account removes.
	{"survey_responses", "answers", ParticipationData, "participation", untilErased, []string{"official"}, Clear},
	{"survey_responses", "texts_sealed", ParticipationData, "participation", untilErased, []string{"official"}, Sealed},
	{"survey_responses", "texts", ParticipationData, "participation", untilSurveyTextExpires, nil, Clear},
	{"survey_responses", "day", ActivityData, "participation", untilErased, []string{"official"}, Clear},

	{"feedback", "problem", FeedbackText, "feedback", feedbackKept, []string{"official"}, Clear},
	{"feedback", "received_on", ActivityData, "feedback", feedbackKept, []string{"official"}, Clear},
}

// surveyNotPersonal are the non-personal columns of the survey spaces.
var surveyNotPersonal = []NotPersonal{
	{"surveys", "*", "the public settings of a survey"},
	{"survey_questions", "*", "the public questions written by the public body"},
	{"survey_options", "*", "the public options written by the public body"},
	{"survey_responses", "id", "a random number, unrelated to who answered or when"},
	{"survey_responses", "space_id", "the survey answered"},
	{"survey_participants", "space_id", "the survey answered"},
	{"feedback", "id", "message number"},
	{"feedback", "page", "the path of a public page"},
	{"feedback", "useful", "yes or no, not linked to anyone"},
	{"feedback", "lang", "the language the page was shown in"},
}
