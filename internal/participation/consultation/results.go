package consultation

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/store"
)

// ErrNotClosed refuses results of a consultation that is still open.
var ErrNotClosed = errors.New("consultation: results are published once the consultation is closed")

// Results is the open-data export of a closed consultation: sections with
// their comment counts and answers, every published comment with its
// totals and answer, the outcomes and the report. It names no one: no
// author, no handle. Hidden comments are left out; comments of erased
// authors keep their place and totals without text.
type Results struct {
	Space      participation.Space `json:"space"`
	Sections   []Section           `json:"sections"`
	Comments   []ResultComment     `json:"comments"`
	Outcomes   []Outcome           `json:"outcomes"`
	Report     string              `json:"report,omitempty"`
	ReportedAt *time.Time          `json:"reported_at,omitempty"`
}

// ResultComment is a comment in the export.
type ResultComment struct {
	ID        int64     `json:"id"`
	SectionID int64     `json:"section_id,omitempty"`
	ParentID  int64     `json:"parent_id,omitempty"`
	Body      string    `json:"body"`
	Erased    bool      `json:"author_erased,omitempty"`
	Agree     int       `json:"agree"`
	Disagree  int       `json:"disagree"`
	Created   time.Time `json:"created_at"`
	Outcome   string    `json:"outcome,omitempty"`
	Answer    string    `json:"answer,omitempty"`
}

// Results returns the export of a consultation once it is closed
// ([ErrNotClosed] before).
func (s *Service) Results(ctx context.Context, space int64) (*Results, error) {
	c, err := s.Get(ctx, space)
	if err != nil {
		return nil, err
	}
	if c.Space.State != participation.Closed {
		return nil, ErrNotClosed
	}
	r := &Results{Space: c.Space, Sections: c.Sections, Report: c.Report, ReportedAt: c.ReportedAt}
	if r.Outcomes, err = s.Outcomes(ctx, space); err != nil {
		return nil, err
	}
	rows, err := s.p.DB().Query(ctx, `SELECT c.id, c.section_id, c.parent_id, c.author_id, c.body_sealed, c.agree, c.disagree, c.created_at,
		COALESCE(a.outcome, ''), COALESCE(a.body, '')
		FROM comments c LEFT JOIN official_answers a ON a.comment_id = c.id WHERE c.space_id = ? AND c.status = ? ORDER BY c.id`, space, Published)
	if err != nil {
		return nil, err
	}
	type sealedComment struct {
		ResultComment
		author int64
		sealed []byte
	}
	var all []sealedComment
	for rows.Next() {
		var x sealedComment
		var section, parent, author sql.NullInt64
		var created int64
		if err := rows.Scan(&x.ID, &section, &parent, &author, &x.sealed, &x.Agree, &x.Disagree, &created, &x.Outcome, &x.Answer); err != nil {
			rows.Close()
			return nil, err
		}
		x.SectionID, x.ParentID, x.author, x.Created = section.Int64, parent.Int64, author.Int64, store.FromMicros(created)
		all = append(all, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	r.Comments = make([]ResultComment, 0, len(all))
	for _, x := range all {
		if x.Body, x.Erased, err = s.p.Open(ctx, x.author, "comments", "body_sealed", x.ID, x.sealed); err != nil {
			return nil, err
		}
		r.Comments = append(r.Comments, x.ResultComment)
	}
	return r, nil
}
