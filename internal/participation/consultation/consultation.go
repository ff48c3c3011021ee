// Package consultation owns public consultations: a draft document that a
// public body publishes in sections, comments on the whole or on a
// section with threaded replies and agree/disagree, official answers per
// comment or section, and a final report that links what changed.
//
// Comment bodies are personal data: they are sealed under the author's
// key (package participation's Seal), so erasing an account makes its
// comments unreadable while threads and totals stay. Editing keeps every
// earlier version, which anyone can read as the comment's history.
package consultation

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/markdown"
	"github.com/veche/veche/internal/participation/notify"
	"github.com/veche/veche/internal/participation/search"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// Limits.
const (
	MaxComment  = 5000   // characters in a comment
	MaxDocument = 200000 // characters in the draft document
	MaxAnswer   = 10000
	MaxReport   = 100000
	PageSize    = 20 // threads per page
)

// Comment statuses.
const (
	Published = "published"
	Pending   = "pending" // held for moderation
	Hidden    = "hidden"  // hidden by a moderator
)

// Answer outcomes: what the public body did with a comment or section.
var Outcomes = []string{"accepted", "partly", "rejected", "noted"}

// Errors callers branch on.
var (
	ErrNotAuthor      = errors.New("consultation: only the author can edit a comment")
	ErrNoReport       = errors.New("consultation: the report can be published once the consultation is closed")
	ErrReplyElsewhere = errors.New("consultation: the comment replied to is in another consultation")
)

// Service manages consultations.
type Service struct {
	p *participation.Service
}

// New returns the consultation service over the participation core.
func New(p *participation.Service) *Service { return &Service{p: p} }

// Input is what an official enters to open a consultation.
type Input struct {
	ProcessID int64  `json:"process_id"`
	PhaseID   int64  `json:"phase_id"`
	Title     string `json:"title"`
	Document  string `json:"document"` // Markdown; each "## " heading starts a section
	Moderated bool   `json:"moderated"`
}

// Create opens a consultation in a process and returns its space number.
func (s *Service) Create(ctx context.Context, official int64, in Input) (int64, error) {
	var e validate.Errors
	validate.Text(&e, "document", in.Document, true, MaxDocument)
	if err := e.Err(); err != nil {
		return 0, err
	}
	sections := markdown.Split(in.Document)
	intro := ""
	if len(sections) > 0 && sections[0].Heading == "" {
		intro, sections = sections[0].Body, sections[1:]
	}
	var id int64
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = s.p.AddSpace(ctx, tx, official, in.ProcessID, participation.SpaceInput{Kind: participation.KindConsultation,
			Title: in.Title, PhaseID: in.PhaseID, Moderated: in.Moderated})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO consultations (space_id, intro) VALUES (?, ?)", id, intro); err != nil {
			return err
		}
		for i, sec := range sections {
			if _, err := tx.Exec(ctx, "INSERT INTO consultation_sections (space_id, position, heading, body) VALUES (?, ?, ?, ?)",
				id, i+1, sec.Heading, sec.Body); err != nil {
				return err
			}
		}
		if err := search.PutSections(ctx, tx, id); err != nil {
			return err
		}
		return notify.SpaceOpened(ctx, tx, id, s.p.Now())
	})
	return id, err
}

// Section is one part of the draft.
type Section struct {
	ID       int64   `json:"id"`
	Position int     `json:"position"`
	Heading  string  `json:"heading"`
	Body     string  `json:"body"`
	Comments int     `json:"comments"`
	Answer   *Answer `json:"answer,omitempty"`
}

// Answer is an official answer to a comment or a section.
type Answer struct {
	Outcome string    `json:"outcome"`
	Body    string    `json:"body"`
	At      time.Time `json:"answered_at"`
}

// Consultation is a consultation with its draft.
type Consultation struct {
	Space      participation.Space `json:"space"`
	Intro      string              `json:"intro"`
	Sections   []Section           `json:"sections"`
	Comments   int                 `json:"comments"`
	Report     string              `json:"report,omitempty"`
	ReportedAt *time.Time          `json:"reported_at,omitempty"`
}

// Get returns a consultation with its sections, comment counts and
// section answers.
func (s *Service) Get(ctx context.Context, space int64) (*Consultation, error) {
	sp, err := s.p.Space(ctx, space)
	if err != nil {
		return nil, err
	}
	if sp.Kind != participation.KindConsultation {
		return nil, participation.ErrNotFound
	}
	c := &Consultation{Space: *sp}
	var report sql.NullString
	var reported sql.NullInt64
	db := s.p.DB()
	if err := db.QueryRow(ctx, "SELECT intro, report, reported_at FROM consultations WHERE space_id = ?", space).Scan(&c.Intro, &report, &reported); err != nil {
		return nil, err
	}
	c.Report = report.String
	if reported.Valid {
		t := store.FromMicros(reported.Int64)
		c.ReportedAt = &t
	}
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM comments WHERE space_id = ? AND status = ?", space, Published).Scan(&c.Comments); err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT s.id, s.position, s.heading, s.body,
		(SELECT COUNT(*) FROM comments c WHERE c.section_id = s.id AND c.status = ?),
		a.outcome, a.body, a.answered_at
		FROM consultation_sections s LEFT JOIN official_answers a ON a.section_id = s.id
		WHERE s.space_id = ? ORDER BY s.position`, Published, space)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sec Section
		var outcome, body sql.NullString
		var at sql.NullInt64
		if err := rows.Scan(&sec.ID, &sec.Position, &sec.Heading, &sec.Body, &sec.Comments, &outcome, &body, &at); err != nil {
			return nil, err
		}
		if outcome.Valid {
			sec.Answer = &Answer{Outcome: outcome.String, Body: body.String, At: store.FromMicros(at.Int64)}
		}
		c.Sections = append(c.Sections, sec)
	}
	return c, rows.Err()
}

// Comment is a comment as pages show it.
type Comment struct {
	ID        int64      `json:"id"`
	SectionID int64      `json:"section_id,omitempty"`
	ParentID  int64      `json:"parent_id,omitempty"`
	Author    string     `json:"author"` // per-process handle; "" once erased
	Mine      bool       `json:"mine,omitempty"`
	Body      string     `json:"body"`
	Erased    bool       `json:"erased,omitempty"`
	Status    string     `json:"status"`
	Agree     int        `json:"agree"`
	Disagree  int        `json:"disagree"`
	Created   time.Time  `json:"created_at"`
	Edited    *time.Time `json:"edited_at,omitempty"`
	Answer    *Answer    `json:"answer,omitempty"`
	Replies   []*Comment `json:"replies,omitempty"`
	// HiddenReason is the moderator's public reason, shown in the place
	// of a hidden comment (package moderation fills it in).
	HiddenReason string `json:"hidden_reason,omitempty"`
	authorID     int64
}

// Page is one page of comment threads.
type Page struct {
	Threads []*Comment `json:"threads"`
	Total   int        `json:"total_threads"`
	Page    int        `json:"page"`
	Pages   int        `json:"pages"`
}

const commentColumns = `c.id, c.section_id, c.parent_id, c.thread_id, c.author_id, c.body_sealed, c.status, c.agree, c.disagree, c.created_at, c.edited_at,
	a.outcome, a.body, a.answered_at`

// Comments returns page (from 1) of the comment threads of a consultation
// or of one of its sections (section > 0), newest thread first, with all
// replies. viewer (0 for the public) also sees their own comments that
// await moderation.
func (s *Service) Comments(ctx context.Context, space, section, viewer int64, page int) (*Page, error) {
	sp, err := s.p.Space(ctx, space)
	if err != nil {
		return nil, err
	}
	if page < 1 {
		page = 1
	}
	// A hidden comment keeps its place in the thread, without its text.
	visible := "(c.status IN ('published', 'hidden') OR (c.status = 'pending' AND c.author_id = ?))"
	where := "c.space_id = ? AND c.parent_id IS NULL AND " + visible
	args := []any{space, viewer}
	if section > 0 {
		where += " AND c.section_id = ?"
		args = append(args, section)
	}
	db := s.p.DB()
	out := &Page{Page: page}
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM comments c WHERE "+where, args...).Scan(&out.Total); err != nil {
		return nil, err
	}
	out.Pages = max(1, (out.Total+PageSize-1)/PageSize)
	rows, err := db.Query(ctx, "SELECT "+commentColumns+" FROM comments c LEFT JOIN official_answers a ON a.comment_id = c.id WHERE "+where+
		" ORDER BY c.id DESC LIMIT ? OFFSET ?", append(args, PageSize, (page-1)*PageSize)...)
	if err != nil {
		return nil, err
	}
	threads, err := s.scanComments(ctx, sp.ProcessID, viewer, rows)
	if err != nil || len(threads) == 0 {
		return out, err
	}
	out.Threads = threads
	ids := make([]any, 0, len(threads)+1)
	for _, t := range threads {
		ids = append(ids, t.ID)
	}
	rows, err = db.Query(ctx, "SELECT "+commentColumns+" FROM comments c LEFT JOIN official_answers a ON a.comment_id = c.id WHERE c.thread_id IN ("+
		strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+") AND c.parent_id IS NOT NULL AND "+visible+" ORDER BY c.id", append(ids, viewer)...)
	if err != nil {
		return nil, err
	}
	replies, err := s.scanComments(ctx, sp.ProcessID, viewer, rows)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*Comment{}
	for _, c := range threads {
		byID[c.ID] = c
	}
	for _, r := range replies {
		byID[r.ID] = r
		if parent, ok := byID[r.ParentID]; ok {
			parent.Replies = append(parent.Replies, r)
		}
	}
	return out, nil
}

func (s *Service) scanComments(ctx context.Context, process, viewer int64, rows *sql.Rows) ([]*Comment, error) {
	defer rows.Close()
	var out []*Comment
	for rows.Next() {
		c, err := s.scanComment(ctx, process, viewer, rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Service) scanComment(ctx context.Context, process, viewer int64, scan func(...any) error) (*Comment, error) {
	c := &Comment{}
	var section, parent, thread, author, edited, answeredAt sql.NullInt64
	var sealed []byte
	var created int64
	var outcome, answer sql.NullString
	if err := scan(&c.ID, &section, &parent, &thread, &author, &sealed, &c.Status, &c.Agree, &c.Disagree, &created, &edited,
		&outcome, &answer, &answeredAt); err != nil {
		return nil, err
	}
	c.SectionID, c.ParentID, c.authorID = section.Int64, parent.Int64, author.Int64
	c.Created = store.FromMicros(created)
	if edited.Valid {
		t := store.FromMicros(edited.Int64)
		c.Edited = &t
	}
	if outcome.Valid {
		c.Answer = &Answer{Outcome: outcome.String, Body: answer.String, At: store.FromMicros(answeredAt.Int64)}
	}
	c.Mine = viewer != 0 && viewer == c.authorID
	c.Author = s.p.Handle(process, c.authorID)
	if c.Status == Hidden {
		c.Author, c.Mine = "", false
		return c, nil
	}
	var err error
	c.Body, c.Erased, err = s.p.Open(ctx, c.authorID, "comments", "body_sealed", c.ID, sealed)
	if err != nil {
		return nil, err
	}
	if c.Erased {
		c.Author = ""
	}
	return c, nil
}

// Post adds a comment on the consultation (section 0), on a section, or
// in reply to another comment (parent > 0). It checks the phase and the
// author's eligibility now. A moderated space holds every comment for
// review; so does the automatic pre-moderation for a new account that
// posts links or repeats one of its recent comments.
func (s *Service) Post(ctx context.Context, account, space, section, parent int64, body string) (*Comment, error) {
	var e validate.Errors
	body = strings.TrimSpace(body)
	validate.Text(&e, "body", body, true, MaxComment)
	if err := e.Err(); err != nil {
		return nil, err
	}
	now := s.p.Now()
	c := &Comment{SectionID: section, ParentID: parent, Body: body, Created: now, Mine: true, Status: Published, authorID: account}
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		sp, err := s.p.Gate(ctx, tx, participation.KindConsultation, space, account)
		if err != nil {
			return err
		}
		held, err := s.preModerate(ctx, tx, account, body)
		if err != nil {
			return err
		}
		if sp.Moderated || held {
			c.Status = Pending
		}
		thread := int64(0)
		if parent > 0 {
			var pSpace int64
			var pSection, pThread sql.NullInt64
			err := tx.QueryRow(ctx, "SELECT space_id, section_id, thread_id FROM comments WHERE id = ? AND status <> ?", parent, Hidden).Scan(&pSpace, &pSection, &pThread)
			if errors.Is(err, store.ErrNotFound) || (err == nil && pSpace != space) {
				return validate.One("parent", "invalid", nil)
			}
			if err != nil {
				return err
			}
			c.SectionID, thread = pSection.Int64, pThread.Int64
		} else if section > 0 {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM consultation_sections WHERE id = ? AND space_id = ?", section, space).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return validate.One("section", "invalid", nil)
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO comments (space_id, section_id, parent_id, author_id, body_sealed, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, space, nullID(c.SectionID), nullID(parent), account, []byte{}, c.Status, store.Micros(now)).Scan(&c.ID); err != nil {
			return err
		}
		if thread == 0 {
			thread = c.ID
		}
		sealed, err := s.p.Seal(ctx, tx, account, "comments", "body_sealed", c.ID, body)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE comments SET body_sealed = ?, thread_id = ? WHERE id = ?", sealed, thread, c.ID); err != nil {
			return err
		}
		if err := notify.CommentPosted(ctx, tx, c.ID, now); err != nil {
			return err
		}
		c.Author = s.p.Handle(sp.ProcessID, account)
		if err := search.PutComment(ctx, tx, c.ID, body); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "comment.posted", account, auditlog.Digest([]byte(body)),
			map[string]string{"space": participation.ID(space), "comment": participation.ID(c.ID), "status": c.Status})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// preModerate says whether a comment from account must wait for a
// moderator: accounts younger than participation.NewAccountAge that post
// links or repeat one of their comments of the last day are held, the
// usual shape of spam from fresh accounts.
func (s *Service) preModerate(ctx context.Context, tx *store.Tx, account int64, body string) (bool, error) {
	isNew, err := s.p.NewAccount(ctx, tx, account)
	if err != nil || !isNew {
		return false, err
	}
	if markdown.LinkCount(body) > 0 {
		return true, nil
	}
	rows, err := tx.Query(ctx, "SELECT id, body_sealed FROM comments WHERE author_id = ? AND created_at > ? ORDER BY id DESC LIMIT 20",
		account, store.Micros(s.p.Now().Add(-24*time.Hour)))
	if err != nil {
		return false, err
	}
	type prior struct {
		id     int64
		sealed []byte
	}
	var recent []prior
	for rows.Next() {
		var p prior
		if err := rows.Scan(&p.id, &p.sealed); err != nil {
			rows.Close()
			return false, err
		}
		recent = append(recent, p)
	}
	rows.Close()
	for _, p := range recent {
		text, _, err := s.p.Open(ctx, account, "comments", "body_sealed", p.id, p.sealed)
		if err != nil {
			return false, err
		}
		if strings.EqualFold(strings.Join(strings.Fields(text), " "), strings.Join(strings.Fields(body), " ")) {
			return true, nil
		}
	}
	return false, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Revision is an earlier version of an edited comment.
type Revision struct {
	Body    string    `json:"body"`
	Written time.Time `json:"written_at"`
}

// Edit replaces the text of account's comment while the consultation is
// open, keeping the earlier text in the comment's history.
func (s *Service) Edit(ctx context.Context, account, comment int64, body string) error {
	var e validate.Errors
	body = strings.TrimSpace(body)
	validate.Text(&e, "body", body, true, MaxComment)
	if err := e.Err(); err != nil {
		return err
	}
	now := s.p.Now()
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		var space, written int64
		var author, edited sql.NullInt64
		var sealed []byte
		var status string
		err := tx.QueryRow(ctx, "SELECT space_id, author_id, body_sealed, status, created_at, edited_at FROM comments WHERE id = ?", comment).
			Scan(&space, &author, &sealed, &status, &written, &edited)
		if errors.Is(err, store.ErrNotFound) {
			return participation.ErrNotFound
		}
		if err != nil {
			return err
		}
		if author.Int64 != account || status == Hidden {
			return ErrNotAuthor
		}
		if _, err := s.p.Gate(ctx, tx, participation.KindConsultation, space, account); err != nil {
			return err
		}
		old, _, err := s.p.Open(ctx, account, "comments", "body_sealed", comment, sealed)
		if err != nil {
			return err
		}
		if old == body {
			return nil
		}
		if edited.Valid {
			written = edited.Int64
		}
		var rev int64
		if err := tx.QueryRow(ctx, "INSERT INTO comment_revisions (comment_id, body_sealed, written_at) VALUES (?, ?, ?) RETURNING id",
			comment, []byte{}, written).Scan(&rev); err != nil {
			return err
		}
		oldSealed, err := s.p.Seal(ctx, tx, account, "comment_revisions", "body_sealed", rev, old)
		if err != nil {
			return err
		}
		newSealed, err := s.p.Seal(ctx, tx, account, "comments", "body_sealed", comment, body)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE comment_revisions SET body_sealed = ? WHERE id = ?", oldSealed, rev); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE comments SET body_sealed = ?, edited_at = ? WHERE id = ?", newSealed, store.Micros(now), comment); err != nil {
			return err
		}
		if err := search.PutComment(ctx, tx, comment, body); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "comment.edited", account, auditlog.Digest([]byte(body)),
			map[string]string{"space": participation.ID(space), "comment": participation.ID(comment)})
	})
}

// History returns the earlier versions of a comment, oldest first.
func (s *Service) History(ctx context.Context, comment int64) ([]Revision, error) {
	var author sql.NullInt64
	var status string
	err := s.p.DB().QueryRow(ctx, "SELECT author_id, status FROM comments WHERE id = ?", comment).Scan(&author, &status)
	if errors.Is(err, store.ErrNotFound) || status == Hidden {
		return nil, participation.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rows, err := s.p.DB().Query(ctx, "SELECT id, body_sealed, written_at FROM comment_revisions WHERE comment_id = ? ORDER BY id", comment)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		var id, at int64
		var sealed []byte
		if err := rows.Scan(&id, &sealed, &at); err != nil {
			return nil, err
		}
		body, _, err := s.p.Open(ctx, author.Int64, "comment_revisions", "body_sealed", id, sealed)
		if err != nil {
			return nil, err
		}
		out = append(out, Revision{Body: body, Written: store.FromMicros(at)})
	}
	return out, rows.Err()
}

// React records account's agreement (agree true) or disagreement with a
// comment. Reacting the same way again takes the reaction back; the other
// way changes it. One reaction per person and comment, enforced by the
// database.
func (s *Service) React(ctx context.Context, account, comment int64, agree bool) error {
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		var space int64
		var status string
		err := tx.QueryRow(ctx, "SELECT space_id, status FROM comments WHERE id = ?", comment).Scan(&space, &status)
		if errors.Is(err, store.ErrNotFound) || (err == nil && status != Published) {
			return participation.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := s.p.Gate(ctx, tx, participation.KindConsultation, space, account); err != nil {
			return err
		}
		var prev bool
		err = tx.QueryRow(ctx, "SELECT agree FROM comment_reactions WHERE comment_id = ? AND account_id = ?", comment, account).Scan(&prev)
		had := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		col := func(a bool) string {
			if a {
				return "agree"
			}
			return "disagree"
		}
		if had {
			if _, err := tx.Exec(ctx, "DELETE FROM comment_reactions WHERE comment_id = ? AND account_id = ?", comment, account); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE comments SET "+col(prev)+" = "+col(prev)+" - 1 WHERE id = ?", comment); err != nil {
				return err
			}
		}
		action := "comment.reaction_removed"
		if !had || prev != agree {
			if _, err := tx.Exec(ctx, "INSERT INTO comment_reactions (comment_id, account_id, agree) VALUES (?, ?, ?)", comment, account, agree); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE comments SET "+col(agree)+" = "+col(agree)+" + 1 WHERE id = ?", comment); err != nil {
				return err
			}
			action = "comment." + col(agree) + "d"
		}
		return s.p.Audit(ctx, tx, action, account, "", map[string]string{"comment": participation.ID(comment)})
	})
}

// AnswerInput is an official answer to a comment (CommentID) or to a
// section (SectionID).
type AnswerInput struct {
	CommentID int64  `json:"comment_id"`
	SectionID int64  `json:"section_id"`
	Outcome   string `json:"outcome"`
	Body      string `json:"body"`
}

// Answer publishes or replaces the official answer to a comment or a
// section of consultation space. Answers can be given during and after
// the consultation.
func (s *Service) Answer(ctx context.Context, official, space int64, in AnswerInput) error {
	var e validate.Errors
	if !slices.Contains(Outcomes, in.Outcome) {
		e.Add("outcome", "invalid", nil)
	}
	validate.Text(&e, "body", in.Body, true, MaxAnswer)
	if (in.CommentID == 0) == (in.SectionID == 0) {
		e.Add("comment_id", "one_of", nil)
	}
	if err := e.Err(); err != nil {
		return err
	}
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		sp, err := s.p.SpaceTx(ctx, tx, space)
		if err != nil {
			return err
		}
		if sp.Kind != participation.KindConsultation {
			return participation.ErrNotFound
		}
		target, column, q := in.CommentID, "comment_id", "SELECT COUNT(*) FROM comments WHERE id = ? AND space_id = ? AND status = 'published'"
		if in.SectionID != 0 {
			target, column, q = in.SectionID, "section_id", "SELECT COUNT(*) FROM consultation_sections WHERE id = ? AND space_id = ?"
		}
		var n int
		if err := tx.QueryRow(ctx, q, target, space).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return validate.One(column, "invalid", nil)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM official_answers WHERE "+column+" = ?", target); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO official_answers (space_id, "+column+", outcome, body, answered_by, answered_at) VALUES (?, ?, ?, ?, ?, ?)",
			space, target, in.Outcome, in.Body, official, store.Micros(s.p.Now())); err != nil {
			return err
		}
		if err := notify.Answered(ctx, tx, official, space, in.CommentID, in.SectionID, s.p.Now()); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "consultation.answered", official, auditlog.Digest([]byte(in.Body)),
			map[string]string{"space": participation.ID(space), strings.TrimSuffix(column, "_id"): participation.ID(target), "outcome": in.Outcome})
	})
}

// PublishReport publishes the final report of a closed consultation. The
// report is Markdown; "#c123" and "#s4" refer to comment 123 and section
// 4 and become links.
func (s *Service) PublishReport(ctx context.Context, official, space int64, body string) error {
	var e validate.Errors
	validate.Text(&e, "report", body, true, MaxReport)
	if err := e.Err(); err != nil {
		return err
	}
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		sp, err := s.p.SpaceTx(ctx, tx, space)
		if err != nil {
			return err
		}
		if sp.Kind != participation.KindConsultation {
			return participation.ErrNotFound
		}
		if sp.State != participation.Closed {
			return ErrNoReport
		}
		if _, err := tx.Exec(ctx, "UPDATE consultations SET report = ?, reported_by = ?, reported_at = ? WHERE space_id = ?",
			body, official, store.Micros(s.p.Now()), space); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "consultation.reported", official, auditlog.Digest([]byte(body)), map[string]string{"space": participation.ID(space)})
	})
}

// Outcome is an answered comment or section, for the report.
type Outcome struct {
	CommentID int64  `json:"comment_id,omitempty"`
	SectionID int64  `json:"section_id,omitempty"`
	Heading   string `json:"heading,omitempty"`
	Outcome   string `json:"outcome"`
	Answer    string `json:"answer"`
}

// Outcomes lists every official answer of a consultation, grouped by
// outcome (accepted first), for the report page and the results export.
func (s *Service) Outcomes(ctx context.Context, space int64) ([]Outcome, error) {
	rows, err := s.p.DB().Query(ctx, `SELECT a.comment_id, a.section_id, COALESCE(s.heading, ''), a.outcome, a.body
		FROM official_answers a LEFT JOIN consultation_sections s ON s.id = a.section_id
		LEFT JOIN comments c ON c.id = a.comment_id
		WHERE a.space_id = ? AND (c.id IS NULL OR c.status = 'published') ORDER BY a.id`, space)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Outcome
	for rows.Next() {
		var o Outcome
		var comment, section sql.NullInt64
		if err := rows.Scan(&comment, &section, &o.Heading, &o.Outcome, &o.Answer); err != nil {
			return nil, err
		}
		o.CommentID, o.SectionID = comment.Int64, section.Int64
		out = append(out, o)
	}
	slices.SortStableFunc(out, func(a, b Outcome) int {
		return slices.Index(Outcomes, a.Outcome) - slices.Index(Outcomes, b.Outcome)
	})
	return out, rows.Err()
}

// Body returns the current text of account's own comment, for editing.
func (s *Service) Body(ctx context.Context, comment, account int64) (string, error) {
	var author sql.NullInt64
	var sealed []byte
	err := s.p.DB().QueryRow(ctx, "SELECT author_id, body_sealed FROM comments WHERE id = ?", comment).Scan(&author, &sealed)
	if errors.Is(err, store.ErrNotFound) {
		return "", participation.ErrNotFound
	}
	if err != nil {
		return "", err
	}
	if author.Int64 != account {
		return "", ErrNotAuthor
	}
	text, _, err := s.p.Open(ctx, account, "comments", "body_sealed", comment, sealed)
	return text, err
}
