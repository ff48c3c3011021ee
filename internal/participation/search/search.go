// Package search owns full-text search over the public content of
// participation: process titles and descriptions, consultation sections,
// published comments, published petitions and proposals, and budget
// projects.
//
// Every searchable item is one row of search_documents, written by the
// space packages in the transaction that makes the item public or changes
// it ([Put]) and deleted in the transaction that hides it ([Remove]). Over
// that table each database keeps its own full-text structure, built by
// [Service.Ensure]: on SQLite an external-content FTS5 table
// (https://sqlite.org/fts5.html, tokenizer unicode61 with diacritics
// removed) kept in step by triggers; on PostgreSQL a GIN index over
// to_tsvector('simple', title || ' ' || body)
// (https://www.postgresql.org/docs/current/textsearch.html). The 'simple'
// configuration and unicode61 only lower-case and split words, so
// Belarusian, Russian and English text are searched alike, without
// stemming.
//
// Comments and petitions are sealed under their author's key elsewhere;
// the index holds their plaintext, so it must not outlive what it copies:
//
//   - erasure: author_id references the account ON DELETE CASCADE, and
//     erasing an account deletes the account row in the transaction that
//     destroys the key, so the index rows (and, through the triggers, the
//     FTS5 entries) go in that same transaction;
//   - moderation: hiding an item calls [Remove]; queries also check the
//     item's live status, and [Service.Prune] (run by reindexing and the
//     housekeeping job) deletes any row whose item is no longer public or
//     whose author's key is erased, so a missed call cannot keep text
//     readable for long, nor ever show it;
//   - backups: search_documents and the FTS5 tables are left out of data
//     backups (package backup); after a restore `veche search reindex`
//     rebuilds them from the sealed content, which erased people's keys no
//     longer open.
//
// Queries are never passed to the full-text engine as syntax: [Terms]
// reduces them to words of letters and digits, each matched as a quoted
// prefix (FTS5) or a prefix lexeme (tsquery), so operators, quotes and
// brackets cannot make a query fail.
package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// Kinds of searchable items.
const (
	KindProcess  = "process"
	KindSection  = "section"
	KindComment  = "comment"
	KindPetition = "petition"
	KindProject  = "project"
)

// Kinds lists the kinds in the order the search form shows them.
var Kinds = []string{KindProcess, KindSection, KindComment, KindPetition, KindProject}

// States a result can be filtered by: the state of its space (or, for a
// process, of the process) now.
var States = []string{"upcoming", "open", "closed"}

// Sort orders.
const (
	SortRelevance = "relevance"
	SortNewest    = "newest"
)

// PageSize is the number of results per page.
const PageSize = 20

// Doc is one searchable item.
type Doc struct {
	Kind      string
	ItemID    int64
	ProcessID int64
	SpaceID   int64 // 0 for a process
	// District is a comma-separated list: a project's district, or the
	// districts a process is limited to.
	District  string
	Status    string
	Published time.Time
	// AuthorID is the citizen who wrote the text (comments, petitions);
	// 0 for what officials publish.
	AuthorID int64
	Title    string
	Body     string
}

// Put adds or replaces d in the index within tx, the transaction that
// makes the item public or changes it.
func Put(ctx context.Context, tx *store.Tx, d Doc) error {
	if err := Remove(ctx, tx, d.Kind, d.ItemID); err != nil {
		return err
	}
	var space, author any
	if d.SpaceID != 0 {
		space = d.SpaceID
	}
	if d.AuthorID != 0 {
		author = d.AuthorID
	}
	_, err := tx.Exec(ctx, `INSERT INTO search_documents (kind, item_id, process_id, space_id, district, status, published_at, author_id, title, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.Kind, d.ItemID, d.ProcessID, space, d.District, d.Status,
		store.Micros(d.Published.UTC()), author, d.Title, d.Body)
	if err != nil {
		return fmt.Errorf("search: index %s %d: %w", d.Kind, d.ItemID, err)
	}
	return nil
}

// Remove deletes an item from the index within tx (the item was hidden,
// rejected or deleted).
func Remove(ctx context.Context, tx *store.Tx, kind string, item int64) error {
	if _, err := tx.Exec(ctx, "DELETE FROM search_documents WHERE kind = ? AND item_id = ?", kind, item); err != nil {
		return fmt.Errorf("search: remove %s %d: %w", kind, item, err)
	}
	return nil
}

// SetStatus records an item's new public status (e.g. a petition
// answered) without rewriting its text.
func SetStatus(ctx context.Context, tx *store.Tx, kind string, item int64, status string) error {
	_, err := tx.Exec(ctx, "UPDATE search_documents SET status = ? WHERE kind = ? AND item_id = ?", status, kind, item)
	return err
}

// Opener decrypts text sealed under an author's key; *participation.Service
// is one. erased is true once the author's key is destroyed.
type Opener interface {
	Open(ctx context.Context, account int64, table, column string, row int64, sealed []byte) (text string, erased bool, err error)
}

// Service searches the index and rebuilds it.
type Service struct {
	db   *store.DB
	open Opener
	now  func() time.Time

	mu    sync.Mutex
	ready bool
}

// New returns the search service over db; open decrypts sealed content
// when the index is rebuilt, now is the clock for space states.
func New(db *store.DB, open Opener, now func() time.Time) *Service {
	return &Service{db: db, open: open, now: now}
}

// Ensure builds the dialect's full-text structure over search_documents
// if it is missing (a newly migrated or restored database). It is
// idempotent and runs before the first search; never call it inside a
// transaction.
func (s *Service) Ensure(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return nil
	}
	var err error
	if s.db.Dialect() == store.Postgres {
		err = s.ensurePostgres(ctx)
	} else {
		err = s.ensureSQLite(ctx)
	}
	if err != nil {
		return fmt.Errorf("search: build the full-text index: %w", err)
	}
	s.ready = true
	return nil
}

const pgVector = `to_tsvector('simple', d.title || ' ' || d.body)`

func (s *Service) ensurePostgres(ctx context.Context) error {
	_, err := s.db.Exec(ctx, `CREATE INDEX IF NOT EXISTS search_documents_fts ON search_documents USING GIN (to_tsvector('simple', title || ' ' || body))`)
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && pgErr.SQLState() == "23505" {
		return nil // another node created it at the same moment
	}
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}

// ftsTables are the SQLite tables of the FTS5 index (the virtual table and
// its shadow tables), for the backup's exclusions and the data map.
var ftsTables = []string{"search_fts", "search_fts_data", "search_fts_idx", "search_fts_docsize", "search_fts_config"}

func (s *Service) ensureSQLite(ctx context.Context) error {
	var n int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'search_fts'").Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, q := range []string{
			`CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, body, content='search_documents', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`,
			`CREATE TRIGGER IF NOT EXISTS search_documents_ai AFTER INSERT ON search_documents BEGIN
				INSERT INTO search_fts (rowid, title, body) VALUES (new.id, new.title, new.body); END`,
			`CREATE TRIGGER IF NOT EXISTS search_documents_ad AFTER DELETE ON search_documents BEGIN
				INSERT INTO search_fts (search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END`,
			`CREATE TRIGGER IF NOT EXISTS search_documents_au AFTER UPDATE ON search_documents BEGIN
				INSERT INTO search_fts (search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
				INSERT INTO search_fts (rowid, title, body) VALUES (new.id, new.title, new.body); END`,
			// Rows written before the table existed.
			`INSERT INTO search_fts (search_fts) VALUES ('rebuild')`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		// Deleted entries are removed from the index itself, not only
		// marked (SQLite 3.44+; older versions ignore nothing, so the
		// error is tolerated and Prune's 'optimize' merges them away).
		tx.Exec(ctx, `INSERT INTO search_fts (search_fts, rank) VALUES ('secure-delete', 1)`)
		return nil
	})
}

// Query is what a person searches for.
type Query struct {
	Text     string `json:"q"`
	Process  int64  `json:"process,omitempty"`
	Kind     string `json:"kind,omitempty"`
	State    string `json:"status,omitempty"`
	District string `json:"district,omitempty"`
	Sort     string `json:"sort,omitempty"`
	Page     int    `json:"page,omitempty"`
}

// Hit is one result.
type Hit struct {
	Kind         string    `json:"kind"`
	ID           int64     `json:"id"`
	ProcessID    int64     `json:"process_id"`
	ProcessTitle string    `json:"process_title"`
	SpaceID      int64     `json:"space_id,omitempty"`
	SpaceKind    string    `json:"space_kind,omitempty"`
	SectionID    int64     `json:"section_id,omitempty"`
	Title        string    `json:"title"`
	Snippet      []Segment `json:"snippet"`
	State        string    `json:"status"`
	Published    time.Time `json:"published_at"`
}

// Results is one page of results.
type Results struct {
	Query Query    `json:"query"`
	Terms []string `json:"terms"`
	Hits  []Hit    `json:"results"`
	Total int      `json:"total"`
	Page  int      `json:"page"`
	Pages int      `json:"pages"`
}

// Check refuses filter values that are not in their lists, so that a
// mistyped filter is said to be wrong rather than silently widening the
// search to everything. The words to find are never refused: anything
// typed there is searched for as words (see [Terms]).
func (q Query) Check() error {
	var errs validate.Errors
	if q.Kind != "" && !contains(Kinds, q.Kind) {
		errs.Add("kind", "unknown_search_kind", nil)
	}
	if q.State != "" && !contains(States, q.State) {
		errs.Add("status", "unknown_status", nil)
	}
	if q.Sort != "" && q.Sort != SortNewest && q.Sort != SortRelevance {
		errs.Add("sort", "unknown_sort", nil)
	}
	if q.Process < 0 {
		errs.Add("process", "not_a_number", nil)
	}
	if q.Page < 0 {
		errs.Add("page", "not_a_number", nil)
	}
	return errs.Err()
}

// Search runs q, after [Query.Check].
func (s *Service) Search(ctx context.Context, q Query) (*Results, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	if err := s.Ensure(ctx); err != nil {
		return nil, err
	}
	q.Text = strings.TrimSpace(q.Text)
	if len([]rune(q.Text)) > 200 {
		q.Text = string([]rune(q.Text)[:200])
	}
	if q.Page < 1 {
		q.Page = 1
	}
	if q.Sort != SortNewest {
		q.Sort = SortRelevance
	}
	q.District = strings.TrimSpace(q.District)
	terms := Terms(q.Text)
	out := &Results{Query: q, Terms: terms, Page: q.Page}
	now := store.Micros(s.now().UTC())
	pg := s.db.Dialect() == store.Postgres

	var args []any
	score, from, match := "0", "search_documents d", ""
	if len(terms) > 0 {
		if pg {
			score = "ts_rank(" + pgVector + ", to_tsquery('simple', ?))"
			match = " AND " + pgVector + " @@ to_tsquery('simple', ?)"
			args = append(args, pgQuery(terms))
		} else {
			score = "-bm25(search_fts, 5.0, 1.0)"
			from = "search_fts JOIN search_documents d ON d.id = search_fts.rowid"
			match = " AND search_fts MATCH ?"
		}
	}
	state := `CASE WHEN d.space_id IS NULL THEN
			CASE WHEN CAST(? AS BIGINT) >= (SELECT MAX(x.ends_at) FROM process_phases x WHERE x.process_id = d.process_id) THEN 'closed'
			WHEN CAST(? AS BIGINT) < (SELECT MIN(x.starts_at) FROM process_phases x WHERE x.process_id = d.process_id) THEN 'upcoming' ELSE 'open' END
		ELSE
			CASE WHEN CAST(? AS BIGINT) >= (CASE WHEN s.closed_at IS NOT NULL AND s.closed_at < ph.ends_at THEN s.closed_at ELSE ph.ends_at END) THEN 'closed'
			WHEN CAST(? AS BIGINT) < ph.starts_at THEN 'upcoming' ELSE 'open' END
		END`
	inner := `SELECT d.id AS doc, d.kind AS kind, d.item_id AS item, d.process_id AS process, COALESCE(d.space_id, 0) AS space,
		COALESCE(s.kind, '') AS space_kind, d.published_at AS published, d.title AS title, d.body AS body, p.title AS process_title,
		` + state + ` AS state, ` + score + ` AS score, d.district AS district
		FROM ` + from + ` JOIN processes p ON p.id = d.process_id
		LEFT JOIN spaces s ON s.id = d.space_id LEFT JOIN process_phases ph ON ph.id = s.phase_id
		WHERE 1 = 1` + match + `
		AND (d.kind <> 'comment' OR EXISTS (SELECT 1 FROM comments c WHERE c.id = d.item_id AND c.status = 'published'))
		AND (d.kind <> 'petition' OR EXISTS (SELECT 1 FROM petitions t WHERE t.id = d.item_id AND t.status IN ('published', 'answered')))`
	// The arguments in the order of the placeholders: state, score, match.
	innerArgs := []any{now, now, now, now}
	if len(terms) > 0 && pg {
		innerArgs = append(innerArgs, pgQuery(terms))
	}
	if len(terms) > 0 {
		if pg {
			innerArgs = append(innerArgs, args...)
		} else {
			innerArgs = append(innerArgs, ftsQuery(terms))
		}
	}
	if q.Process != 0 {
		inner += " AND d.process_id = ?"
		innerArgs = append(innerArgs, q.Process)
	}
	if q.Kind != "" {
		inner += " AND d.kind = ?"
		innerArgs = append(innerArgs, q.Kind)
	}
	if q.District != "" {
		inner += " AND (',' || d.district || ',') LIKE ?"
		innerArgs = append(innerArgs, "%,"+escapeLike(q.District)+",%")
	}
	where := ""
	if q.State != "" {
		where = " WHERE r.state = ?"
		innerArgs = append(innerArgs, q.State)
	}
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM ("+inner+") r"+where, innerArgs...).Scan(&out.Total); err != nil {
		return nil, fmt.Errorf("search: count: %w", err)
	}
	out.Pages = max(1, (out.Total+PageSize-1)/PageSize)
	order := " ORDER BY r.score DESC, r.published DESC, r.doc DESC"
	if q.Sort == SortNewest || len(terms) == 0 {
		order = " ORDER BY r.published DESC, r.doc DESC"
	}
	rows, err := s.db.Query(ctx, `SELECT r.kind, r.item, r.process, r.space, r.space_kind, r.published, r.title, r.body, r.process_title, r.state
		FROM (`+inner+") r"+where+order+" LIMIT ? OFFSET ?", append(innerArgs, PageSize, (q.Page-1)*PageSize)...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h Hit
		var published int64
		var body string
		if err := rows.Scan(&h.Kind, &h.ID, &h.ProcessID, &h.SpaceID, &h.SpaceKind, &published, &h.Title, &body, &h.ProcessTitle, &h.State); err != nil {
			return nil, err
		}
		h.Published = store.FromMicros(published)
		h.Snippet = Snippet(body, terms, 160)
		out.Hits = append(out.Hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.sections(ctx, out.Hits)
}

// sections fills in the section of comment hits, for their links.
func (s *Service) sections(ctx context.Context, hits []Hit) error {
	for i := range hits {
		if hits[i].Kind != KindComment {
			continue
		}
		var sec *int64
		if err := s.db.QueryRow(ctx, "SELECT section_id FROM comments WHERE id = ?", hits[i].ID).Scan(&sec); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if sec != nil {
			hits[i].SectionID = *sec
		}
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func escapeLike(s string) string {
	// District names never hold commas (package participation refuses
	// them); % and _ are matched literally by removing them.
	return strings.NewReplacer("%", "", "_", "", ",", "").Replace(s)
}
