// Package petition owns petitions and proposals: citizens write them
// (held for review first if the space is moderated), eligible people sign
// each once, and the public sees a live count but never who signed,
// except signers who chose to show their name (with consent for the
// purpose public_name, which they can withdraw). Reaching the space's
// threshold starts the public body's response deadline; a missed deadline
// is escalated by [Service.EscalateOverdue] and shown as overdue.
//
// A signature is unique per person and petition in the database, so a
// double submit fails there whatever the timing. Totals are kept in
// sharded counters so that concurrent signers do not queue on one row,
// and signature rows outlive the signer's erasure (without the link to
// them), so totals do not change when someone leaves.
package petition

import (
	"context"
	"database/sql"
	"errors"
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

// Kinds of text citizens file.
const (
	KindPetition = "petition"
	KindProposal = "proposal"
)

// Statuses.
const (
	Pending   = "pending"   // awaiting review in a moderated space
	Published = "published" // open for signatures
	Rejected  = "rejected"  // refused at review, with a public reason
	Answered  = "answered"  // the public body has responded
	Hidden    = "hidden"    // hidden by a moderator (package moderation)
)

// Limits.
const (
	MaxTitle      = 200
	MaxBody       = 20000
	MaxPublicName = 100
	MaxThreshold  = 10_000_000
	PageSize      = 20
	shards        = 16
)

// Errors callers branch on.
var (
	ErrAlreadySigned = errors.New("petition: you have already signed this petition")
	ErrNotSigned     = errors.New("petition: you have not signed this petition")
	ErrNotOpen       = errors.New("petition: this petition is not open for signatures")
	ErrNotPending    = errors.New("petition: this petition is not awaiting review")
	ErrNotPublished  = errors.New("petition: only a published petition can be answered")
)

// Service manages petitions.
type Service struct {
	p *participation.Service
}

// New returns the petition service over the participation core.
func New(p *participation.Service) *Service { return &Service{p: p} }

// SpaceInput is what an official enters to open a petition space.
type SpaceInput struct {
	ProcessID    int64  `json:"process_id"`
	PhaseID      int64  `json:"phase_id"`
	Title        string `json:"title"`
	Moderated    bool   `json:"moderated"`
	Threshold    int    `json:"threshold"`
	ResponseDays int    `json:"response_days"`
}

// CreateSpace opens a petition space in a process.
func (s *Service) CreateSpace(ctx context.Context, official int64, in SpaceInput) (int64, error) {
	var e validate.Errors
	if in.Threshold < 1 || in.Threshold > MaxThreshold {
		e.Add("threshold", "out_of_range", map[string]any{"min": 1, "max": MaxThreshold})
	}
	if in.ResponseDays < 1 || in.ResponseDays > 365 {
		e.Add("response_days", "out_of_range", map[string]any{"min": 1, "max": 365})
	}
	if err := e.Err(); err != nil {
		return 0, err
	}
	var id int64
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = s.p.AddSpace(ctx, tx, official, in.ProcessID, participation.SpaceInput{Kind: participation.KindPetitions,
			Title: in.Title, PhaseID: in.PhaseID, Moderated: in.Moderated})
		if err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, "INSERT INTO petition_spaces (space_id, threshold, response_days) VALUES (?, ?, ?)", id, in.Threshold, in.ResponseDays); err != nil {
			return err
		}
		return notify.SpaceOpened(ctx, tx, id, s.p.Now())
	})
	return id, err
}

// Settings are a petition space's rules.
type Settings struct {
	Threshold    int `json:"threshold"`
	ResponseDays int `json:"response_days"`
}

// Settings returns the rules of a petition space.
func (s *Service) Settings(ctx context.Context, space int64) (Settings, error) {
	var st Settings
	err := s.p.DB().QueryRow(ctx, "SELECT threshold, response_days FROM petition_spaces WHERE space_id = ?", space).Scan(&st.Threshold, &st.ResponseDays)
	if errors.Is(err, store.ErrNotFound) {
		return st, participation.ErrNotFound
	}
	return st, err
}

// Input is what a citizen writes.
type Input struct {
	Kind  string `json:"kind"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

// Petition is a petition or proposal as pages show it.
type Petition struct {
	ID          int64      `json:"id"`
	SpaceID     int64      `json:"space_id"`
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	Erased      bool       `json:"erased,omitempty"` // the author erased their account
	Author      string     `json:"author"`           // per-process handle
	Mine        bool       `json:"mine,omitempty"`
	Status      string     `json:"status"`
	Reason      string     `json:"review_reason,omitempty"`
	Signatures  int64      `json:"signatures"`
	Threshold   int        `json:"threshold"`
	Signed      bool       `json:"signed,omitempty"` // by the viewer
	Created     time.Time  `json:"created_at"`
	Published   *time.Time `json:"published_at,omitempty"`
	Reached     *time.Time `json:"threshold_reached_at,omitempty"`
	ResponseDue *time.Time `json:"response_due_at,omitempty"`
	Escalated   *time.Time `json:"escalated_at,omitempty"`
	Response    string     `json:"response,omitempty"`
	Responded   *time.Time `json:"responded_at,omitempty"`
	// HiddenReason is the moderator's public reason, shown in the place
	// of a hidden petition (package moderation fills it in).
	HiddenReason string `json:"hidden_reason,omitempty"`
	authorID     int64
}

// Overdue reports whether the response deadline has passed unanswered.
func (p *Petition) Overdue(now time.Time) bool {
	return p.ResponseDue != nil && p.Responded == nil && now.After(*p.ResponseDue)
}

// File files a petition or proposal in space for account, checking the
// phase and their eligibility now.
func (s *Service) File(ctx context.Context, account, space int64, in Input) (*Petition, error) {
	var e validate.Errors
	in.Title, in.Body = strings.TrimSpace(in.Title), strings.TrimSpace(in.Body)
	if in.Kind == "" {
		in.Kind = KindPetition
	}
	if in.Kind != KindPetition && in.Kind != KindProposal {
		e.Add("kind", "invalid", nil)
	}
	validate.Text(&e, "title", in.Title, true, MaxTitle)
	validate.Text(&e, "body", in.Body, true, MaxBody)
	if err := e.Err(); err != nil {
		return nil, err
	}
	now := s.p.Now()
	p := &Petition{SpaceID: space, Kind: in.Kind, Title: in.Title, Body: in.Body, Mine: true, Created: now, authorID: account}
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		sp, err := s.p.Gate(ctx, tx, participation.KindPetitions, space, account)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT threshold FROM petition_spaces WHERE space_id = ?", space).Scan(&p.Threshold); err != nil {
			return err
		}
		held, err := s.preModerate(ctx, tx, account, in.Title+"\n"+in.Body)
		if err != nil {
			return err
		}
		p.Status = Published
		var published any = store.Micros(now)
		if sp.Moderated || held {
			p.Status, published = Pending, nil
		} else {
			p.Published = &now
		}
		if err := tx.QueryRow(ctx, `INSERT INTO petitions (space_id, kind, author_id, title_sealed, body_sealed, status, threshold, created_at, published_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, space, in.Kind, account, []byte{}, []byte{}, p.Status, p.Threshold,
			store.Micros(now), published).Scan(&p.ID); err != nil {
			return err
		}
		title, err := s.p.Seal(ctx, tx, account, "petitions", "title_sealed", p.ID, in.Title)
		if err != nil {
			return err
		}
		body, err := s.p.Seal(ctx, tx, account, "petitions", "body_sealed", p.ID, in.Body)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE petitions SET title_sealed = ?, body_sealed = ? WHERE id = ?", title, body, p.ID); err != nil {
			return err
		}
		if err := notify.TookPart(ctx, tx, account, space, now); err != nil {
			return err
		}
		p.Author = s.p.Handle(sp.ProcessID, account)
		if err := search.PutPetition(ctx, tx, p.ID, in.Title, in.Body); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "petition.filed", account, auditlog.Digest([]byte(in.Title+"\n"+in.Body)),
			map[string]string{"space": participation.ID(space), "petition": participation.ID(p.ID), "status": p.Status})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Review publishes (approve) or rejects a pending petition, with a public
// reason for a rejection.
func (s *Service) Review(ctx context.Context, moderator, petition int64, approve bool, reason string) error {
	var e validate.Errors
	reason = strings.TrimSpace(reason)
	validate.Text(&e, "reason", reason, !approve, 1000)
	if err := e.Err(); err != nil {
		return err
	}
	now := s.p.Now()
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		var status string
		err := tx.QueryRow(ctx, "SELECT status FROM petitions WHERE id = ?", petition).Scan(&status)
		if errors.Is(err, store.ErrNotFound) {
			return participation.ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != Pending {
			return ErrNotPending
		}
		action := "petition.published"
		if approve {
			_, err = tx.Exec(ctx, "UPDATE petitions SET status = ?, published_at = ? WHERE id = ?", Published, store.Micros(now), petition)
		} else {
			action = "petition.rejected"
			_, err = tx.Exec(ctx, "UPDATE petitions SET status = ?, review_reason = ? WHERE id = ?", Rejected, reason, petition)
		}
		if err != nil {
			return err
		}
		if err := s.index(ctx, tx, petition); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, action, moderator, "", map[string]string{"petition": participation.ID(petition)})
	})
}

// Sign records account's signature on a published petition while its
// space is open and they are eligible, and returns the new total while
// the threshold is not yet reached (-1 after: the sum is then not needed
// in the transaction; ask [Service.Count]). publicName, if not empty, is shown
// in the public list of signers for as long as the signer's consent to
// the purpose public_name stands (the caller records that consent first).
func (s *Service) Sign(ctx context.Context, account, petition int64, publicName string) (int64, error) {
	var e validate.Errors
	publicName = strings.TrimSpace(publicName)
	validate.Text(&e, "public_name", publicName, false, MaxPublicName)
	if err := e.Err(); err != nil {
		return 0, err
	}
	now := s.p.Now()
	var total int64
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		space, threshold, reached, err := s.openPetition(ctx, tx, petition, account)
		if err != nil {
			return err
		}
		var sig int64
		if err := tx.QueryRow(ctx, "INSERT INTO petition_signatures (petition_id, account_id, signed_at) VALUES (?, ?, ?) RETURNING id",
			petition, account, store.Micros(now)).Scan(&sig); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return ErrAlreadySigned
			}
			return err
		}
		if publicName != "" {
			sealed, err := s.p.Seal(ctx, tx, account, "petition_signatures", "public_name_sealed", sig, publicName)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE petition_signatures SET public_name_sealed = ? WHERE id = ?", sealed, sig); err != nil {
				return err
			}
		}
		// Past the threshold the total is not needed here: skip the sum.
		if total, err = s.addCount(ctx, tx, petition, account, 1, !reached); err != nil {
			return err
		}
		if !reached && total >= int64(threshold) {
			if err := s.markReached(ctx, tx, petition, space, now); err != nil {
				return err
			}
		}
		if err := notify.TookPart(ctx, tx, account, space, now); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "petition.signed", account, "", map[string]string{"petition": participation.ID(petition)})
	})
	return total, err
}

// openPetition checks, in tx, that petition is published, its space open
// and account eligible; it returns the space, the threshold and whether
// it was reached already.
func (s *Service) openPetition(ctx context.Context, tx *store.Tx, petition, account int64) (space int64, threshold int, reached bool, err error) {
	var status string
	var reachedAt sql.NullInt64
	err = tx.QueryRow(ctx, "SELECT space_id, status, threshold, threshold_reached_at FROM petitions WHERE id = ?", petition).Scan(&space, &status, &threshold, &reachedAt)
	if errors.Is(err, store.ErrNotFound) {
		return 0, 0, false, participation.ErrNotFound
	}
	if err != nil {
		return 0, 0, false, err
	}
	if status == Hidden {
		return 0, 0, false, participation.ErrNotFound
	}
	if status == Pending || status == Rejected {
		return 0, 0, false, ErrNotOpen
	}
	if _, err := s.p.Gate(ctx, tx, participation.KindPetitions, space, account); err != nil {
		return 0, 0, false, err
	}
	return space, threshold, reachedAt.Valid, nil
}

// addCount adds delta to account's shard of the petition's count and,
// if sum, returns the new total (else -1).
func (s *Service) addCount(ctx context.Context, tx *store.Tx, petition, account int64, delta int, sum bool) (int64, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO petition_counts (petition_id, shard, signatures) VALUES (?, ?, ?)
		ON CONFLICT (petition_id, shard) DO UPDATE SET signatures = petition_counts.signatures + ?`, petition, account%shards, delta, delta); err != nil {
		return 0, err
	}
	if !sum {
		return -1, nil
	}
	var total int64
	err := tx.QueryRow(ctx, "SELECT COALESCE(SUM(signatures), 0) FROM petition_counts WHERE petition_id = ?", petition).Scan(&total)
	return total, err
}

// markReached starts the response deadline the first time the threshold
// is met.
func (s *Service) markReached(ctx context.Context, tx *store.Tx, petition, space int64, now time.Time) error {
	var days int
	if err := tx.QueryRow(ctx, "SELECT response_days FROM petition_spaces WHERE space_id = ?", space).Scan(&days); err != nil {
		return err
	}
	due := now.Add(time.Duration(days) * 24 * time.Hour)
	res, err := tx.Exec(ctx, "UPDATE petitions SET threshold_reached_at = ?, response_due_at = ? WHERE id = ? AND threshold_reached_at IS NULL",
		store.Micros(now), store.Micros(due), petition)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return s.p.Audit(ctx, tx, "petition.threshold_reached", 0, "", map[string]string{"petition": participation.ID(petition), "due": due.Format(time.RFC3339)})
}

// Count returns a petition's signature total.
func (s *Service) Count(ctx context.Context, petition int64) (int64, error) {
	var total int64
	err := s.p.DB().QueryRow(ctx, "SELECT COALESCE(SUM(signatures), 0) FROM petition_counts WHERE petition_id = ?", petition).Scan(&total)
	return total, err
}

// Withdraw takes account's signature back while the petition is open.
func (s *Service) Withdraw(ctx context.Context, account, petition int64) (int64, error) {
	var total int64
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		if _, _, _, err := s.openPetition(ctx, tx, petition, account); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM petition_signatures WHERE petition_id = ? AND account_id = ?", petition, account)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotSigned
		}
		if total, err = s.addCount(ctx, tx, petition, account, -1, true); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "petition.signature_withdrawn", account, "", map[string]string{"petition": participation.ID(petition)})
	})
	return total, err
}

// Respond publishes the public body's response to a petition.
func (s *Service) Respond(ctx context.Context, official, petition int64, response string) error {
	var e validate.Errors
	response = strings.TrimSpace(response)
	validate.Text(&e, "response", response, true, MaxBody)
	if err := e.Err(); err != nil {
		return err
	}
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		var status string
		err := tx.QueryRow(ctx, "SELECT status FROM petitions WHERE id = ?", petition).Scan(&status)
		if errors.Is(err, store.ErrNotFound) {
			return participation.ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != Published && status != Answered {
			return ErrNotPublished
		}
		if _, err := tx.Exec(ctx, "UPDATE petitions SET status = ?, response = ?, responded_by = ?, responded_at = ? WHERE id = ?",
			Answered, response, official, store.Micros(s.p.Now()), petition); err != nil {
			return err
		}
		if err := search.SetStatus(ctx, tx, search.KindPetition, petition, Answered); err != nil {
			return err
		}
		if err := notify.PetitionAnswered(ctx, tx, petition, s.p.Now()); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "petition.answered", official, auditlog.Digest([]byte(response)), map[string]string{"petition": participation.ID(petition)})
	})
}

const petitionColumns = `p.id, p.space_id, p.kind, p.author_id, p.title_sealed, p.body_sealed, p.status, p.review_reason, p.threshold,
	p.created_at, p.published_at, p.threshold_reached_at, p.response_due_at, p.escalated_at, COALESCE(p.response, ''), p.responded_at,
	(SELECT COALESCE(SUM(n.signatures), 0) FROM petition_counts n WHERE n.petition_id = p.id), s.process_id`

func (s *Service) scan(ctx context.Context, viewer int64, scan func(...any) error) (*Petition, error) {
	p := &Petition{}
	var author, published, reached, due, escalated, responded sql.NullInt64
	var title, body []byte
	var created, process int64
	if err := scan(&p.ID, &p.SpaceID, &p.Kind, &author, &title, &body, &p.Status, &p.Reason, &p.Threshold, &created,
		&published, &reached, &due, &escalated, &p.Response, &responded, &p.Signatures, &process); err != nil {
		return nil, err
	}
	p.authorID = author.Int64
	p.Created = store.FromMicros(created)
	p.Published, p.Reached, p.ResponseDue = optTime(published), optTime(reached), optTime(due)
	p.Escalated, p.Responded = optTime(escalated), optTime(responded)
	p.Mine = viewer != 0 && viewer == p.authorID
	var err error
	if p.Title, p.Erased, err = s.p.Open(ctx, p.authorID, "petitions", "title_sealed", p.ID, title); err != nil {
		return nil, err
	}
	if p.Body, _, err = s.p.Open(ctx, p.authorID, "petitions", "body_sealed", p.ID, body); err != nil {
		return nil, err
	}
	if !p.Erased {
		p.Author = s.p.Handle(process, p.authorID)
	}
	return p, nil
}

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := store.FromMicros(v.Int64)
	return &t
}

// Get returns a petition as viewer (0 for the public) sees it: a pending
// or rejected petition only to its author and to moderators
// (moderator true).
func (s *Service) Get(ctx context.Context, petition, viewer int64, moderator bool) (*Petition, error) {
	p, err := s.scan(ctx, viewer, s.p.DB().QueryRow(ctx, "SELECT "+petitionColumns+" FROM petitions p JOIN spaces s ON s.id = p.space_id WHERE p.id = ?", petition).Scan)
	if errors.Is(err, store.ErrNotFound) {
		return nil, participation.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if (p.Status == Pending || p.Status == Rejected || p.Status == Hidden) && !p.Mine && !moderator {
		return nil, participation.ErrNotFound
	}
	if p.Status == Hidden && !moderator { // its author sees its place, not its text
		p.Title, p.Body = "", ""
	}
	if viewer != 0 {
		var n int
		if err := s.p.DB().QueryRow(ctx, "SELECT COUNT(*) FROM petition_signatures WHERE petition_id = ? AND account_id = ?", petition, viewer).Scan(&n); err != nil {
			return nil, err
		}
		p.Signed = n > 0
	}
	return p, nil
}

// List returns page (from 1) of a space's published and answered
// petitions, most signed first, plus viewer's own pending ones; status
// "pending" lists what awaits review (for moderators).
func (s *Service) List(ctx context.Context, space, viewer int64, status string, page int) ([]*Petition, int, error) {
	if page < 1 {
		page = 1
	}
	where := "p.space_id = ? AND (p.status IN ('published', 'answered') OR (p.author_id = ? AND p.status <> 'hidden'))"
	args := []any{space, viewer}
	if status == Pending {
		where, args = "p.space_id = ? AND p.status = 'pending'", []any{space}
	}
	var total int
	if err := s.p.DB().QueryRow(ctx, "SELECT COUNT(*) FROM petitions p WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.p.DB().Query(ctx, "SELECT "+petitionColumns+" FROM petitions p JOIN spaces s ON s.id = p.space_id WHERE "+where+
		" ORDER BY 17 DESC, p.id DESC LIMIT ? OFFSET ?", append(args, PageSize, (page-1)*PageSize)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*Petition
	for rows.Next() {
		p, err := s.scan(ctx, viewer, rows.Scan)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, p)
	}
	return out, total, rows.Err()
}

// Signer is a signer who chose to show their name.
type Signer struct {
	Name   string    `json:"name"`
	Signed time.Time `json:"signed_at"`
}

// PublicSigners lists the signers of a petition who gave a name and whose
// consent to the purpose public_name stands now, newest first. Everyone
// else is only counted.
func (s *Service) PublicSigners(ctx context.Context, petition int64, limit int) ([]Signer, error) {
	rows, err := s.p.DB().Query(ctx, `SELECT g.id, g.account_id, g.public_name_sealed, g.signed_at FROM petition_signatures g
		WHERE g.petition_id = ? AND g.public_name_sealed IS NOT NULL AND g.account_id IS NOT NULL
		AND (SELECT c.state FROM consents c WHERE c.account_id = g.account_id AND c.purpose = 'public_name' ORDER BY c.id DESC LIMIT 1) = 'given'
		ORDER BY g.id DESC LIMIT ?`, petition, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Signer
	for rows.Next() {
		var id, account, at int64
		var sealed []byte
		if err := rows.Scan(&id, &account, &sealed, &at); err != nil {
			return nil, err
		}
		name, erased, err := s.p.Open(ctx, account, "petition_signatures", "public_name_sealed", id, sealed)
		if err != nil {
			return nil, err
		}
		if !erased {
			out = append(out, Signer{Name: name, Signed: store.FromMicros(at)})
		}
	}
	return out, rows.Err()
}

// EscalateOverdue marks, once, every petition whose response deadline
// passed unanswered, and starts the deadline of any petition whose
// threshold was met by signatures that raced each other past it. It
// returns the petitions escalated now, for the caller to notify.
func (s *Service) EscalateOverdue(ctx context.Context) ([]int64, error) {
	now := s.p.Now()
	var out []int64
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT p.id, p.space_id FROM petitions p WHERE p.threshold_reached_at IS NULL AND p.status IN ('published', 'answered')
			AND (SELECT COALESCE(SUM(n.signatures), 0) FROM petition_counts n WHERE n.petition_id = p.id) >= p.threshold`)
		if err != nil {
			return err
		}
		type reached struct{ id, space int64 }
		var missed []reached
		for rows.Next() {
			var r reached
			if err := rows.Scan(&r.id, &r.space); err != nil {
				rows.Close()
				return err
			}
			missed = append(missed, r)
		}
		rows.Close()
		for _, r := range missed {
			if err := s.markReached(ctx, tx, r.id, r.space, now); err != nil {
				return err
			}
		}
		rows, err = tx.Query(ctx, "SELECT id FROM petitions WHERE response_due_at < ? AND responded_at IS NULL AND escalated_at IS NULL AND status <> 'hidden'", store.Micros(now))
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			out = append(out, id)
		}
		rows.Close()
		for _, id := range out {
			if _, err := tx.Exec(ctx, "UPDATE petitions SET escalated_at = ? WHERE id = ?", store.Micros(now), id); err != nil {
				return err
			}
			if err := s.p.Audit(ctx, tx, "petition.response_overdue", 0, "", map[string]string{"petition": participation.ID(id)}); err != nil {
				return err
			}
			if err := notify.PetitionOverdue(ctx, tx, id, now); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Statuses lists the statuses in display order.
var Statuses = []string{Pending, Published, Answered, Rejected}

// preModerate says whether a petition from account must wait for a
// moderator although its space is not moderated: accounts younger than
// participation.NewAccountAge that write links or repeat one of their
// petitions of the last day are held, as comments are.
func (s *Service) preModerate(ctx context.Context, tx *store.Tx, account int64, text string) (bool, error) {
	isNew, err := s.p.NewAccount(ctx, tx, account)
	if err != nil || !isNew {
		return false, err
	}
	if markdown.LinkCount(text) > 0 {
		return true, nil
	}
	rows, err := tx.Query(ctx, "SELECT id, title_sealed, body_sealed FROM petitions WHERE author_id = ? AND created_at > ? ORDER BY id DESC LIMIT 20",
		account, store.Micros(s.p.Now().Add(-24*time.Hour)))
	if err != nil {
		return false, err
	}
	type prior struct {
		id          int64
		title, body []byte
	}
	var recent []prior
	for rows.Next() {
		var p prior
		if err := rows.Scan(&p.id, &p.title, &p.body); err != nil {
			rows.Close()
			return false, err
		}
		recent = append(recent, p)
	}
	rows.Close()
	norm := func(t string) string { return strings.ToLower(strings.Join(strings.Fields(t), " ")) }
	for _, p := range recent {
		title, _, err := s.p.Open(ctx, account, "petitions", "title_sealed", p.id, p.title)
		if err != nil {
			return false, err
		}
		body, _, err := s.p.Open(ctx, account, "petitions", "body_sealed", p.id, p.body)
		if err != nil {
			return false, err
		}
		if norm(title+"\n"+body) == norm(text) {
			return true, nil
		}
	}
	return false, nil
}
