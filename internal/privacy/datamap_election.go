package privacy

// The declarations of verifiable elections (package election). Almost all
// of an election is public by design — the manifest, the key ceremony's
// messages, the public credentials, the ballot box, the tally, the
// decryptions and the result form the election record that anyone may
// check — and none of it names a person. The personal data are who
// created the election and who its trustees are, in their official
// capacity, and the link from a voter's account to the credential they
// voted with, which lets their revote replace their own ballot and nobody
// else's.

// electionPurposes are the purposes of voting in an election.
var electionPurposes = []Purpose{
	{ID: "voting", Basis: PublicTask, Subjects: []SubjectCategory{Citizens}},
}

// untilResultPublished is the account↔credential binding: needed while
// voting is open, it is deleted when the election's result is published
// (and at once if the account is erased).
var untilResultPublished = Retention{"election_published", 0, Delete}

// electionFields are the personal-data columns of elections.
var electionFields = []Field{
	{"elections", "created_by", Identifiers, "accountability", untilErased, append([]string{"election_officer"}, staffReaders...), Structural},
	{"election_trustees", "account_id", Identifiers, "accountability", untilErased, append([]string{"election_officer"}, staffReaders...), Structural},
	{"election_credentials", "account_id", Identifiers, "voting", untilResultPublished, nil, Structural},
}

// electionNotPersonal are the non-personal columns of elections.
var electionNotPersonal = []NotPersonal{
	{"elections", "id", "election number"},
	{"elections", "process_id", "the process the election belongs to"},
	{"elections", "manifest_id", "the public id of the election"},
	{"elections", "title", "public text written by the public body"},
	{"elections", "manifest", "the public manifest: contests, options, opening and closing times"},
	{"elections", "state", "the election's public state"},
	{"elections", "trustees", "how many trustees hold the key"},
	{"elections", "threshold", "how many trustees are needed to decrypt"},
	{"elections", "ceremony", "the key ceremony's public parameters"},
	{"elections", "joint_key", "the election's public key"},
	{"elections", "credentials", "how many public credentials were published"},
	{"elections", "credentials_digest", "the digest of the published credentials"},
	{"elections", "log_start", "where the election begins in the public audit log"},
	{"elections", "log_scanned", "how far the public audit log was searched"},
	{"elections", "log_first", "the election's first entry in the public audit log"},
	{"elections", "log_end", "past the election's last entry in the public audit log"},
	{"elections", "tally", "the published encrypted tally"},
	{"elections", "result", "the published result"},
	{"elections", "created_at", "public date"},
	{"elections", "ceremony_at", "public date"},
	{"elections", "key_fixed_at", "public date"},
	{"elections", "credentials_at", "public date"},
	{"elections", "opened_at", "public date"},
	{"elections", "closed_at", "public date"},
	{"elections", "tallied_at", "public date"},
	{"elections", "published_at", "public date"},
	{"election_trustees", "election_id", "the election"},
	{"election_trustees", "position", "the trustee's public number in the key ceremony"},
	{"election_messages", "*", "the key ceremony's messages: public commitments and results, and shares encrypted to trustees' keys"},
	{"election_credentials", "election_id", "the election"},
	{"election_credentials", "position", "the order in which the credential authority published the credential"},
	{"election_credentials", "credential", "a public credential: published, and linked to a person only through account_id"},
	{"election_credentials", "bound_at", "when a credential was first used; linked to a person only through account_id"},
	{"election_ballots", "*", "the public ballot box: encrypted ballots under public credentials, linked to no account"},
	{"election_audited_ballots", "*", "audited ballots voters chose to publish, linked to no account"},
	{"election_decryptions", "*", "the trustees' public partial decryptions of the tally"},
}
