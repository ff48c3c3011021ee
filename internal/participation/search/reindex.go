package search

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/veche/veche/internal/store"
)

// Reindex rebuilds the whole index from the content: processes, sections,
// published comments and petitions (opened with their authors' keys; an
// erased author's text is not indexed) and budget projects. It reads
// first and then replaces the index in one transaction, and returns the
// number of items indexed.
func (s *Service) Reindex(ctx context.Context) (int, error) {
	if err := s.Ensure(ctx); err != nil {
		return 0, err
	}
	var docs []Doc
	collect := func(q string, scan func(rows *sql.Rows) (Doc, bool, error)) error {
		rows, err := s.db.Query(ctx, q)
		if err != nil {
			return err
		}
		var sealed []Doc
		var keep []bool
		for rows.Next() {
			d, ok, err := scan(rows)
			if err != nil {
				rows.Close()
				return err
			}
			sealed, keep = append(sealed, d), append(keep, ok)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, d := range sealed {
			if keep[i] {
				docs = append(docs, d)
			}
		}
		return nil
	}
	// Processes.
	if err := collect(`SELECT id, title, description, districts, created_at FROM processes`, func(r *sql.Rows) (Doc, bool, error) {
		d := Doc{Kind: KindProcess, Status: "published"}
		var at int64
		err := r.Scan(&d.ItemID, &d.Title, &d.Body, &d.District, &at)
		d.ProcessID, d.Published = d.ItemID, store.FromMicros(at)
		return d, true, err
	}); err != nil {
		return 0, fmt.Errorf("search: read processes: %w", err)
	}
	// Consultation sections.
	if err := collect(`SELECT c.id, c.space_id, s.process_id, p.districts, s.created_at, c.heading, c.body
		FROM consultation_sections c JOIN spaces s ON s.id = c.space_id JOIN processes p ON p.id = s.process_id`, func(r *sql.Rows) (Doc, bool, error) {
		d := Doc{Kind: KindSection, Status: "published"}
		var at int64
		err := r.Scan(&d.ItemID, &d.SpaceID, &d.ProcessID, &d.District, &at, &d.Title, &d.Body)
		d.Published = store.FromMicros(at)
		return d, true, err
	}); err != nil {
		return 0, fmt.Errorf("search: read sections: %w", err)
	}
	// Budget projects.
	if err := collect(`SELECT b.id, b.space_id, s.process_id, b.district, b.created_at, b.title, b.description
		FROM budget_projects b JOIN spaces s ON s.id = b.space_id`, func(r *sql.Rows) (Doc, bool, error) {
		d := Doc{Kind: KindProject, Status: "published"}
		var at int64
		err := r.Scan(&d.ItemID, &d.SpaceID, &d.ProcessID, &d.District, &at, &d.Title, &d.Body)
		d.Published = store.FromMicros(at)
		return d, true, err
	}); err != nil {
		return 0, fmt.Errorf("search: read projects: %w", err)
	}
	// Published comments, opened with their authors' keys.
	type sealedRow struct {
		doc         Doc
		title, body []byte
		titleColumn string
		table       string
	}
	var sealed []sealedRow
	rows, err := s.db.Query(ctx, `SELECT c.id, c.space_id, s.process_id, p.districts, c.created_at, c.author_id, c.body_sealed, COALESCE(x.heading, s.title)
		FROM comments c JOIN spaces s ON s.id = c.space_id JOIN processes p ON p.id = s.process_id
		LEFT JOIN consultation_sections x ON x.id = c.section_id
		WHERE c.status = 'published' AND c.author_id IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("search: read comments: %w", err)
	}
	for rows.Next() {
		r := sealedRow{doc: Doc{Kind: KindComment, Status: "published"}, table: "comments"}
		var at int64
		if err := rows.Scan(&r.doc.ItemID, &r.doc.SpaceID, &r.doc.ProcessID, &r.doc.District, &at, &r.doc.AuthorID, &r.body, &r.doc.Title); err != nil {
			rows.Close()
			return 0, err
		}
		r.doc.Published = store.FromMicros(at)
		sealed = append(sealed, r)
	}
	rows.Close()
	rows, err = s.db.Query(ctx, `SELECT t.id, t.space_id, s.process_id, p.districts, COALESCE(t.published_at, t.created_at), t.author_id, t.title_sealed, t.body_sealed, t.status
		FROM petitions t JOIN spaces s ON s.id = t.space_id JOIN processes p ON p.id = s.process_id
		WHERE t.status IN ('published', 'answered') AND t.author_id IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("search: read petitions: %w", err)
	}
	for rows.Next() {
		r := sealedRow{doc: Doc{Kind: KindPetition}, table: "petitions", titleColumn: "title_sealed"}
		var at int64
		if err := rows.Scan(&r.doc.ItemID, &r.doc.SpaceID, &r.doc.ProcessID, &r.doc.District, &at, &r.doc.AuthorID, &r.title, &r.body, &r.doc.Status); err != nil {
			rows.Close()
			return 0, err
		}
		r.doc.Published = store.FromMicros(at)
		sealed = append(sealed, r)
	}
	rows.Close()
	for _, r := range sealed {
		body, erased, err := s.open.Open(ctx, r.doc.AuthorID, r.table, "body_sealed", r.doc.ItemID, r.body)
		if err != nil {
			return 0, fmt.Errorf("search: open %s %d: %w", r.table, r.doc.ItemID, err)
		}
		if erased {
			continue
		}
		r.doc.Body = body
		if r.titleColumn != "" {
			if r.doc.Title, _, err = s.open.Open(ctx, r.doc.AuthorID, r.table, r.titleColumn, r.doc.ItemID, r.title); err != nil {
				return 0, fmt.Errorf("search: open %s %d: %w", r.table, r.doc.ItemID, err)
			}
		}
		docs = append(docs, r.doc)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM search_documents"); err != nil {
			return err
		}
		for _, d := range docs {
			if err := Put(ctx, tx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if _, err := s.Prune(ctx); err != nil {
		return 0, err
	}
	return len(docs), nil
}

// Prune deletes index rows whose item is no longer public (hidden,
// rejected, deleted) or whose author's key has been erased, and on SQLite
// merges the FTS5 index so that deleted entries leave its pages. It
// returns the number of rows deleted. The housekeeping job runs it; it is
// a safety net behind [Remove] and the erasure's cascade.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	if err := s.Ensure(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, q := range []string{
			`DELETE FROM search_documents WHERE kind = 'comment' AND NOT EXISTS (SELECT 1 FROM comments c WHERE c.id = search_documents.item_id AND c.status = 'published')`,
			`DELETE FROM search_documents WHERE kind = 'petition' AND NOT EXISTS (SELECT 1 FROM petitions t WHERE t.id = search_documents.item_id AND t.status IN ('published', 'answered'))`,
			`DELETE FROM search_documents WHERE kind = 'section' AND NOT EXISTS (SELECT 1 FROM consultation_sections c WHERE c.id = search_documents.item_id)`,
			`DELETE FROM search_documents WHERE kind = 'project' AND NOT EXISTS (SELECT 1 FROM budget_projects b WHERE b.id = search_documents.item_id)`,
			`DELETE FROM search_documents WHERE author_id IS NOT NULL AND EXISTS (SELECT 1 FROM subject_keys k
				WHERE k.subject = 'account:' || CAST(search_documents.author_id AS TEXT) AND k.erased_at IS NOT NULL)`,
		} {
			res, err := tx.Exec(ctx, q)
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			n += m
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("search: prune: %w", err)
	}
	if s.db.Dialect() == store.SQLite && n > 0 {
		if _, err := s.db.Exec(ctx, `INSERT INTO search_fts (search_fts) VALUES ('optimize')`); err != nil {
			return n, fmt.Errorf("search: optimize: %w", err)
		}
	}
	return n, nil
}
