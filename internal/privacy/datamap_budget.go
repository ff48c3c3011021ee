package privacy

// The declarations of the budget spaces (package participation/budget).

// budgetPurposes are purposes only the budget spaces need (most use
// "participation", declared in datamap_participation.go).
var budgetPurposes = []Purpose{}

// untilErasedThenAnonymous is the ballot's link to its voter: it goes when
// the account is erased (ON DELETE SET NULL), and the ballot stays as an
// anonymous one so that a published or pending count does not change.
var untilErasedThenAnonymous = Retention{"account_erased", 0, Anonymise}

// budgetFields are the personal-data columns of the budget spaces.
//
// A ballot's approvals are kept in the clear, not sealed under the
// voter's key: the Method of Equal Shares counts each ballot's set of
// approvals, so they must stay readable after the voter erases their
// account (sealed, erasure would change the result). What makes them
// personal is the link to the account, which is Structural and removed on
// erasure; nobody but the voter is shown their own ballot.
var budgetFields = []Field{
	{"budget_ballots", "account_id", Identifiers, "participation", untilErasedThenAnonymous, nil, Structural},
	{"budget_ballots", "cast_at", ActivityData, "participation", untilErasedThenAnonymous, nil, Clear},
	{"budget_ballot_items", "project_id", ParticipationData, "participation", untilErasedThenAnonymous, nil, Clear},
}

// budgetNotPersonal are the non-personal columns of the budget spaces.
var budgetNotPersonal = []NotPersonal{
	{"budget_spaces", "*", "the public settings of a budget: total, currency, introduction"},
	{"budget_projects", "*", "projects written by the public body, with their public costs"},
	{"budget_ballots", "id", "ballot number"},
	{"budget_ballots", "space_id", "the budget voted in"},
	{"budget_ballot_items", "ballot_id", "the ballot an approval belongs to"},
	{"budget_results", "*", "the published result: totals per project, no ballots"},
}
