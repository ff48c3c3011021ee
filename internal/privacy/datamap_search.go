package privacy

// The declarations of search (package participation/search): an index of
// public content. Comments and petitions are copied into it in plaintext
// only while they are public; a row is deleted when its item is hidden by
// a moderator and, through its author_id (ON DELETE CASCADE), in the
// transaction that erases the author's account and destroys their key.
// The table and the SQLite FTS5 tables built over it (search_fts*, not in
// the migrated schema: package search creates them) are left out of data
// backups and rebuilt from the sealed content.

// searchPurposes: search serves the purpose of participation itself (the
// public reading what was published), declared in datamap_participation.go.
var searchPurposes = []Purpose{}

// searchFields are the personal-data columns of the search index.
var searchFields = []Field{
	{"search_documents", "author_id", Identifiers, "participation", untilErased, nil, Structural},
	{"search_documents", "title", ParticipationData, "participation", untilErased, nil, Clear},
	{"search_documents", "body", ParticipationData, "participation", untilErased, nil, Clear},
	{"search_documents", "published_at", ActivityData, "participation", untilErased, nil, Clear},
}

// searchNotPersonal are the non-personal columns of the search index.
var searchNotPersonal = []NotPersonal{
	{"search_documents", "id", "index row number"},
	{"search_documents", "kind", "process, section, comment, petition or project"},
	{"search_documents", "item_id", "the public item indexed"},
	{"search_documents", "process_id", "the process the item belongs to"},
	{"search_documents", "space_id", "the space the item belongs to"},
	{"search_documents", "district", "districts of the project or the process, public"},
	{"search_documents", "status", "public status of the item"},
}
