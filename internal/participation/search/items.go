package search

import (
	"context"
	"database/sql"
	"errors"

	"github.com/veche/veche/internal/store"
)

// The space packages call these in their own transactions, with the text
// they have in hand (sealed text is never read back here); everything
// else about the item is read in tx.

// PutProcess indexes a process's title and description.
func PutProcess(ctx context.Context, tx *store.Tx, process int64) error {
	d := Doc{Kind: KindProcess, ItemID: process, ProcessID: process, Status: "published"}
	var at int64
	if err := tx.QueryRow(ctx, "SELECT title, description, districts, created_at FROM processes WHERE id = ?", process).
		Scan(&d.Title, &d.Body, &d.District, &at); err != nil {
		return err
	}
	d.Published = store.FromMicros(at)
	return Put(ctx, tx, d)
}

// PutSections indexes every section of a consultation.
func PutSections(ctx context.Context, tx *store.Tx, space int64) error {
	rows, err := tx.Query(ctx, `SELECT c.id, s.process_id, p.districts, s.created_at, c.heading, c.body
		FROM consultation_sections c JOIN spaces s ON s.id = c.space_id JOIN processes p ON p.id = s.process_id WHERE c.space_id = ?`, space)
	if err != nil {
		return err
	}
	var docs []Doc
	for rows.Next() {
		d := Doc{Kind: KindSection, SpaceID: space, Status: "published"}
		var at int64
		if err := rows.Scan(&d.ItemID, &d.ProcessID, &d.District, &at, &d.Title, &d.Body); err != nil {
			rows.Close()
			return err
		}
		d.Published = store.FromMicros(at)
		docs = append(docs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range docs {
		if err := Put(ctx, tx, d); err != nil {
			return err
		}
	}
	return nil
}

// PutComment indexes a comment with its current text if it is published,
// and removes it from the index otherwise (held for moderation, hidden).
func PutComment(ctx context.Context, tx *store.Tx, comment int64, body string) error {
	d := Doc{Kind: KindComment, ItemID: comment, Body: body}
	var author sql.NullInt64
	var at int64
	err := tx.QueryRow(ctx, `SELECT c.space_id, s.process_id, p.districts, c.status, c.created_at, c.author_id, COALESCE(x.heading, s.title)
		FROM comments c JOIN spaces s ON s.id = c.space_id JOIN processes p ON p.id = s.process_id
		LEFT JOIN consultation_sections x ON x.id = c.section_id WHERE c.id = ?`, comment).
		Scan(&d.SpaceID, &d.ProcessID, &d.District, &d.Status, &at, &author, &d.Title)
	if errors.Is(err, store.ErrNotFound) {
		return Remove(ctx, tx, KindComment, comment)
	}
	if err != nil {
		return err
	}
	if d.Status != "published" || !author.Valid {
		return Remove(ctx, tx, KindComment, comment)
	}
	d.AuthorID, d.Published = author.Int64, store.FromMicros(at)
	return Put(ctx, tx, d)
}

// PutPetition indexes a petition or proposal with its title and text if
// it is published or answered, and removes it from the index otherwise.
func PutPetition(ctx context.Context, tx *store.Tx, petition int64, title, body string) error {
	d := Doc{Kind: KindPetition, ItemID: petition, Title: title, Body: body}
	var author, published sql.NullInt64
	var created int64
	err := tx.QueryRow(ctx, `SELECT t.space_id, s.process_id, p.districts, t.status, t.created_at, t.published_at, t.author_id
		FROM petitions t JOIN spaces s ON s.id = t.space_id JOIN processes p ON p.id = s.process_id WHERE t.id = ?`, petition).
		Scan(&d.SpaceID, &d.ProcessID, &d.District, &d.Status, &created, &published, &author)
	if errors.Is(err, store.ErrNotFound) {
		return Remove(ctx, tx, KindPetition, petition)
	}
	if err != nil {
		return err
	}
	if (d.Status != "published" && d.Status != "answered") || !author.Valid {
		return Remove(ctx, tx, KindPetition, petition)
	}
	d.AuthorID, d.Published = author.Int64, store.FromMicros(created)
	if published.Valid {
		d.Published = store.FromMicros(published.Int64)
	}
	return Put(ctx, tx, d)
}

// PutProject indexes a budget project.
func PutProject(ctx context.Context, tx *store.Tx, project int64) error {
	d := Doc{Kind: KindProject, ItemID: project, Status: "published"}
	var at int64
	if err := tx.QueryRow(ctx, `SELECT b.space_id, s.process_id, b.district, b.created_at, b.title, b.description
		FROM budget_projects b JOIN spaces s ON s.id = b.space_id WHERE b.id = ?`, project).
		Scan(&d.SpaceID, &d.ProcessID, &d.District, &at, &d.Title, &d.Body); err != nil {
		return err
	}
	d.Published = store.FromMicros(at)
	return Put(ctx, tx, d)
}
