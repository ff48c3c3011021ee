// Package activity owns the public activity feed of a process: what
// happened in its spaces, newest first — a space opened or closed, a
// comment published, a petition published or past its threshold, an
// official answer or response, a report, results.
//
// The feed is read from the content tables themselves, not from a table
// of its own: every event it shows is already a dated public fact there
// (a phase's start, a comment's creation, an answer's date), so a feed
// table would copy what exists, need writes in every service and could
// drift from it. Reading from the source also means that what the
// content tables forget, the feed forgets: a comment hidden by a
// moderator drops out at once. Events carry no text anyone wrote and no
// handle: only the kind of event, when, and where (space, section,
// petition number), for links.
package activity

import (
	"context"
	"database/sql"
	"time"

	"github.com/veche/veche/internal/store"
)

// Event kinds.
const (
	SpaceOpened       = "space_opened"
	SpaceClosed       = "space_closed"
	Comment           = "comment"
	PetitionPublished = "petition_published"
	ThresholdReached  = "threshold_reached"
	Answer            = "answer"
	Response          = "response"
	Report            = "report"
	Results           = "results"
)

// PageSize is the number of events per page.
const PageSize = 30

// Event is one public event.
type Event struct {
	Kind       string    `json:"kind"`
	At         time.Time `json:"at"`
	SpaceID    int64     `json:"space_id"`
	SpaceKind  string    `json:"space_kind"`
	SpaceTitle string    `json:"space_title"`
	// ItemID is the comment or petition concerned, if any.
	ItemID int64 `json:"item_id,omitempty"`
	// SectionID and Section name the consultation section a comment or
	// answer is about.
	SectionID int64  `json:"section_id,omitempty"`
	Section   string `json:"section,omitempty"`
}

// Page is one page of a process's feed.
type Page struct {
	Events []Event `json:"events"`
	Page   int     `json:"page"`
	More   bool    `json:"more"`
}

// Service reads the feed.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// New returns the feed over db; now is the clock (events in the future,
// such as a phase that has not started, are not shown).
func New(db *store.DB, now func() time.Time) *Service { return &Service{db: db, now: now} }

// The events of one process, as one query. Each branch selects kind, at,
// space, item, section, section heading; "?" is the process number.
const events = `
SELECT 'space_opened' AS kind, ph.starts_at AS at, s.id AS space, 0 AS item, 0 AS section FROM spaces s JOIN process_phases ph ON ph.id = s.phase_id
	WHERE s.process_id = ? AND ph.starts_at <= ? AND (s.closed_at IS NULL OR s.closed_at > ph.starts_at)
UNION ALL
SELECT 'space_closed', CASE WHEN s.closed_at IS NOT NULL AND s.closed_at < ph.ends_at THEN s.closed_at ELSE ph.ends_at END, s.id, 0, 0
	FROM spaces s JOIN process_phases ph ON ph.id = s.phase_id
	WHERE s.process_id = ? AND (CASE WHEN s.closed_at IS NOT NULL AND s.closed_at < ph.ends_at THEN s.closed_at ELSE ph.ends_at END) <= ?
UNION ALL
SELECT 'comment', c.created_at, c.space_id, c.id, COALESCE(c.section_id, 0) FROM comments c JOIN spaces s ON s.id = c.space_id
	WHERE s.process_id = ? AND c.status = 'published'
UNION ALL
SELECT 'petition_published', t.published_at, t.space_id, t.id, 0 FROM petitions t JOIN spaces s ON s.id = t.space_id
	WHERE s.process_id = ? AND t.status IN ('published', 'answered') AND t.published_at IS NOT NULL
UNION ALL
SELECT 'threshold_reached', t.threshold_reached_at, t.space_id, t.id, 0 FROM petitions t JOIN spaces s ON s.id = t.space_id
	WHERE s.process_id = ? AND t.status IN ('published', 'answered') AND t.threshold_reached_at IS NOT NULL
UNION ALL
SELECT 'response', t.responded_at, t.space_id, t.id, 0 FROM petitions t JOIN spaces s ON s.id = t.space_id
	WHERE s.process_id = ? AND t.status = 'answered' AND t.responded_at IS NOT NULL
UNION ALL
SELECT 'answer', a.answered_at, a.space_id, COALESCE(a.comment_id, 0), COALESCE(a.section_id, c.section_id, 0)
	FROM official_answers a JOIN spaces s ON s.id = a.space_id LEFT JOIN comments c ON c.id = a.comment_id
	WHERE s.process_id = ? AND (a.comment_id IS NULL OR c.status = 'published')
UNION ALL
SELECT 'report', k.reported_at, k.space_id, 0, 0 FROM consultations k JOIN spaces s ON s.id = k.space_id
	WHERE s.process_id = ? AND k.reported_at IS NOT NULL
UNION ALL
SELECT 'results', b.computed_at, b.space_id, 0, 0 FROM budget_results b JOIN spaces s ON s.id = b.space_id
	WHERE s.process_id = ?`

// Feed returns page (from 1) of process's events, newest first.
func (s *Service) Feed(ctx context.Context, process int64, page int) (*Page, error) {
	if page < 1 {
		page = 1
	}
	now := store.Micros(s.now().UTC())
	args := []any{process, now, process, now, process, process, process, process, process, process, process}
	rows, err := s.db.Query(ctx, `SELECT e.kind, e.at, e.space, s.kind, s.title, e.item, e.section, COALESCE(x.heading, '')
		FROM (`+events+`) e JOIN spaces s ON s.id = e.space LEFT JOIN consultation_sections x ON x.id = e.section
		ORDER BY e.at DESC, e.kind, e.item DESC, e.space DESC LIMIT ? OFFSET ?`, append(args, PageSize+1, (page-1)*PageSize)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &Page{Page: page}
	for rows.Next() {
		var e Event
		var at int64
		var section sql.NullInt64
		if err := rows.Scan(&e.Kind, &at, &e.SpaceID, &e.SpaceKind, &e.SpaceTitle, &e.ItemID, &section, &e.Section); err != nil {
			return nil, err
		}
		e.At, e.SectionID = store.FromMicros(at), section.Int64
		out.Events = append(out.Events, e)
	}
	if len(out.Events) > PageSize {
		out.Events, out.More = out.Events[:PageSize], true
	}
	return out, rows.Err()
}
