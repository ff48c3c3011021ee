// Package moderation owns the moderation of what citizens write in the
// participation spaces: flags, the moderators' queue, and public
// decisions.
//
// Anyone may flag a comment or a petition with a reason from a fixed list
// ([Reasons]); signed-in people may add details, sealed under their own
// key, and hold at most one open flag per item (a unique index, so a
// double submit fails in the database whatever the timing). Signed-out
// visitors may flag too: nothing about them is stored (the web layer
// rate-limits them by address in memory).
//
// The queue ([Service.Queue]) lists every item with open flags and every
// item held for pre-moderation (a moderated space, or a new account
// posting links or repeating itself). A moderator hides, restores,
// approves or dismisses; each decision is public, with a public reason,
// and is recorded with the digest (auditlog.Digest) of the content at that
// moment, never the content, in the table and in one audit entry written
// in the same transaction. The author is mailed the decision in their
// language, with the public reason and how to ask for a review: a review
// request is a flag with the reason "review" that only the author of a
// hidden item can file.
package moderation

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// Kinds of content that can be flagged.
const (
	KindComment  = "comment"
	KindPetition = "petition"
)

// Kinds lists the kinds of content in the order forms show them.
var Kinds = []string{KindComment, KindPetition}

// Reasons are the reasons anyone may give for a flag.
var Reasons = []string{"spam", "abuse", "personal_data", "off_topic", "illegal", "other"}

// ReasonReview is the flag an author files to ask for a review of the
// hiding of their own item.
const ReasonReview = "review"

// Decisions a moderator takes.
const (
	Hide    = "hide"    // take the item out of pages and exports
	Restore = "restore" // bring a hidden item back
	Approve = "approve" // publish an item held for pre-moderation
	Dismiss = "dismiss" // close the open flags, leaving the item as it is
)

// Actions lists the decisions.
var Actions = []string{Hide, Restore, Approve, Dismiss}

// Content statuses shared by comments and petitions.
const (
	statusPending   = "pending"
	statusPublished = "published"
	statusHidden    = "hidden"
)

// Limits.
const (
	MaxDetails      = 1000
	MaxPublicReason = 1000
	QueueSize       = 200
	LogPageSize     = 50
)

// Errors callers branch on.
var (
	ErrAlreadyFlagged = errors.New("moderation: you have already flagged this; a moderator will look at it")
	ErrNotApplicable  = errors.New("moderation: this decision does not apply to the item as it is now")
)

// Service manages flags and decisions.
type Service struct {
	p *participation.Service
	// PublicURL is the base of links in the mail to authors.
	PublicURL string
	// MailQueued, if set, is called after a transaction that queued mail.
	MailQueued func()
}

// New returns the moderation service over the participation core.
func New(p *participation.Service) *Service {
	return &Service{p: p, PublicURL: "http://127.0.0.1:8080"}
}

// FlagInput is a flag as a person files it.
type FlagInput struct {
	Kind    string `json:"kind"`
	ItemID  int64  `json:"id"`
	Reason  string `json:"reason"`
	Details string `json:"details"`
}

// item is a flaggable item as the database holds it.
type item struct {
	kind    string
	id      int64
	space   int64
	process int64
	author  int64
	status  string
	created time.Time
	title   []byte // petitions only
	body    []byte
}

type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *store.Row
}

func loadItem(ctx context.Context, q querier, kind string, id int64) (*item, error) {
	it := &item{kind: kind, id: id}
	var author sql.NullInt64
	var created int64
	var err error
	switch kind {
	case KindComment:
		err = q.QueryRow(ctx, `SELECT c.space_id, s.process_id, c.author_id, c.status, c.created_at, c.body_sealed
			FROM comments c JOIN spaces s ON s.id = c.space_id WHERE c.id = ?`, id).Scan(&it.space, &it.process, &author, &it.status, &created, &it.body)
	case KindPetition:
		err = q.QueryRow(ctx, `SELECT p.space_id, s.process_id, p.author_id, p.status, p.created_at, p.title_sealed, p.body_sealed
			FROM petitions p JOIN spaces s ON s.id = p.space_id WHERE p.id = ?`, id).Scan(&it.space, &it.process, &author, &it.status, &created, &it.title, &it.body)
	default:
		return nil, participation.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, participation.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	it.author, it.created = author.Int64, store.FromMicros(created)
	return it, nil
}

// table is the item's table, for sealed fields and status updates.
func (it *item) table() string {
	if it.kind == KindPetition {
		return "petitions"
	}
	return "comments"
}

// text opens the item's content: the body of a comment, the title and
// body of a petition. erased is true when the author's key is gone.
func (s *Service) text(ctx context.Context, it *item) (title, body string, erased bool, err error) {
	if it.kind == KindPetition {
		if title, erased, err = s.p.Open(ctx, it.author, "petitions", "title_sealed", it.id, it.title); err != nil {
			return "", "", false, err
		}
	}
	body, erased2, err := s.p.Open(ctx, it.author, it.table(), "body_sealed", it.id, it.body)
	return title, body, erased || erased2, err
}

// digest is the auditlog digest of the content as its own "filed" or
// "posted" audit entry computed it, so the two can be matched.
func (s *Service) digest(ctx context.Context, it *item) (string, error) {
	title, body, erased, err := s.text(ctx, it)
	if err != nil || erased {
		return "", err
	}
	if it.kind == KindPetition {
		return auditlog.Digest([]byte(title + "\n" + body)), nil
	}
	return auditlog.Digest([]byte(body)), nil
}

// Flag files a flag by flagger (0 for a signed-out visitor) and returns
// its number. Details need a signed-in flagger (they are sealed under
// their key). An open flag per person and item: a second one is
// [ErrAlreadyFlagged]. The reason [ReasonReview] asks for a review of a
// hidden item and is open only to its author.
func (s *Service) Flag(ctx context.Context, flagger int64, in FlagInput) (int64, error) {
	var e validate.Errors
	in.Details = strings.TrimSpace(in.Details)
	if !slices.Contains(Kinds, in.Kind) {
		e.Add("kind", "invalid", nil)
	}
	if in.ItemID <= 0 {
		e.Add("id", "invalid", nil)
	}
	if !slices.Contains(Reasons, in.Reason) && in.Reason != ReasonReview {
		e.Add("reason", "invalid", nil)
	}
	if validate.Text(&e, "details", in.Details, false, MaxDetails) && in.Details != "" && flagger == 0 {
		e.Add("details", "signin_for_details", nil)
	}
	if err := e.Err(); err != nil {
		return 0, err
	}
	now := s.p.Now()
	var id int64
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		it, err := loadItem(ctx, tx, in.Kind, in.ItemID)
		if err != nil {
			return err
		}
		review := in.Reason == ReasonReview
		switch {
		case review && (it.status != statusHidden || flagger == 0 || flagger != it.author):
			return validate.One("reason", "review_own_hidden", nil)
		case !review && it.status == statusHidden:
			return participation.ErrNotFound
		case !review && it.status == statusPending && flagger != it.author:
			return participation.ErrNotFound // held items are seen by their author and moderators only
		}
		var who any
		if flagger != 0 {
			who = flagger
		}
		err = tx.QueryRow(ctx, `INSERT INTO moderation_flags (kind, item_id, reason, flagger_id, status, created_at)
			VALUES (?, ?, ?, ?, 'open', ?) RETURNING id`, in.Kind, in.ItemID, in.Reason, who, store.Micros(now)).Scan(&id)
		if errors.Is(err, store.ErrConflict) {
			return ErrAlreadyFlagged
		}
		if err != nil {
			return err
		}
		if in.Details != "" {
			sealed, err := s.p.Seal(ctx, tx, flagger, "moderation_flags", "details_sealed", id, in.Details)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE moderation_flags SET details_sealed = ? WHERE id = ?", sealed, id); err != nil {
				return err
			}
		}
		return s.p.Audit(ctx, tx, "moderation.flagged", flagger, "", map[string]string{"kind": in.Kind, "item": participation.ID(in.ItemID),
			"space": participation.ID(it.space), "reason": in.Reason, "flag": participation.ID(id)})
	})
	return id, err
}

// Flagged is one flag as moderators see it.
type Flagged struct {
	Reason  string    `json:"reason"`
	Details string    `json:"details,omitempty"`
	Signed  bool      `json:"signed_in"` // filed by a signed-in person (never who)
	At      time.Time `json:"flagged_at"`
}

// Item is an item in the moderators' queue.
type Item struct {
	Kind    string    `json:"kind"`
	ID      int64     `json:"id"`
	SpaceID int64     `json:"space_id"`
	Status  string    `json:"status"`
	Held    bool      `json:"held"` // awaiting pre-moderation
	Title   string    `json:"title,omitempty"`
	Body    string    `json:"body"`
	Author  string    `json:"author"` // per-process handle; "" once erased
	Erased  bool      `json:"erased,omitempty"`
	Created time.Time `json:"created_at"`
	Flags   []Flagged `json:"flags"`
	// Reviewing: the author asked for a review of the hiding.
	Reviewing bool `json:"review_requested,omitempty"`
}

// Queue lists what awaits a moderator, oldest first: items held for
// pre-moderation and items with open flags (including review requests of
// hidden items), each with its content and flags.
func (s *Service) Queue(ctx context.Context) ([]*Item, error) {
	db := s.p.DB()
	type key struct {
		kind string
		id   int64
	}
	var order []key
	seen := map[key]bool{}
	add := func(k key) {
		if !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	collect := func(q string, args ...any) error {
		rows, err := db.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.kind, &k.id); err != nil {
				return err
			}
			add(k)
		}
		return rows.Err()
	}
	if err := collect(`SELECT kind, item_id FROM moderation_flags WHERE status = 'open' GROUP BY kind, item_id ORDER BY MIN(id) LIMIT ?`, QueueSize); err != nil {
		return nil, err
	}
	if err := collect(`SELECT 'comment', id FROM comments WHERE status = 'pending' ORDER BY id LIMIT ?`, QueueSize); err != nil {
		return nil, err
	}
	if err := collect(`SELECT 'petition', id FROM petitions WHERE status = 'pending' ORDER BY id LIMIT ?`, QueueSize); err != nil {
		return nil, err
	}
	out := make([]*Item, 0, len(order))
	for _, k := range order {
		it, err := loadItem(ctx, db, k.kind, k.id)
		if errors.Is(err, participation.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		q := &Item{Kind: it.kind, ID: it.id, SpaceID: it.space, Status: it.status, Held: it.status == statusPending, Created: it.created}
		if q.Title, q.Body, q.Erased, err = s.text(ctx, it); err != nil {
			return nil, err
		}
		if !q.Erased {
			q.Author = s.p.Handle(it.process, it.author)
		}
		if q.Flags, err = s.openFlags(ctx, it.kind, it.id); err != nil {
			return nil, err
		}
		for _, f := range q.Flags {
			q.Reviewing = q.Reviewing || f.Reason == ReasonReview
		}
		out = append(out, q)
	}
	slices.SortStableFunc(out, func(a, b *Item) int { return a.Created.Compare(b.Created) })
	if len(out) > QueueSize {
		out = out[:QueueSize]
	}
	return out, nil
}

func (s *Service) openFlags(ctx context.Context, kind string, id int64) ([]Flagged, error) {
	rows, err := s.p.DB().Query(ctx, `SELECT id, reason, details_sealed, flagger_id, created_at FROM moderation_flags
		WHERE kind = ? AND item_id = ? AND status = 'open' ORDER BY id`, kind, id)
	if err != nil {
		return nil, err
	}
	type raw struct {
		id, at  int64
		reason  string
		sealed  []byte
		flagger sql.NullInt64
	}
	var list []raw
	for rows.Next() {
		var r raw
		if err := rows.Scan(&r.id, &r.reason, &r.sealed, &r.flagger, &r.at); err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []Flagged{}
	for _, r := range list {
		f := Flagged{Reason: r.reason, Signed: r.flagger.Valid, At: store.FromMicros(r.at)}
		if len(r.sealed) > 0 && r.flagger.Valid {
			if f.Details, _, err = s.p.Open(ctx, r.flagger.Int64, "moderation_flags", "details_sealed", r.id, r.sealed); err != nil {
				return nil, err
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// Decision is what a moderator decides about one item.
type Decision struct {
	Kind         string `json:"kind"`
	ItemID       int64  `json:"id"`
	Action       string `json:"action"`
	PublicReason string `json:"public_reason"`
}

// Action is a recorded decision, as the public log shows it.
type Action struct {
	ID           int64     `json:"id"`
	Kind         string    `json:"kind"`
	ItemID       int64     `json:"item_id"`
	SpaceID      int64     `json:"space_id"`
	Action       string    `json:"action"`
	PublicReason string    `json:"public_reason"`
	Digest       string    `json:"content_digest,omitempty"`
	Decided      time.Time `json:"decided_at"`
}

// Decide applies moderator's decision: hiding and restoring need a public
// reason. It changes the item's status, closes the item's open flags
// (all but a dismissal of a held item's flags keep it held), records the
// decision with the content's digest and one audit entry, and mails the
// author of a hidden or restored item, all in one transaction. A decision
// that does not fit the item's state is [ErrNotApplicable].
func (s *Service) Decide(ctx context.Context, moderator int64, d Decision) (*Action, error) {
	var e validate.Errors
	d.PublicReason = strings.TrimSpace(d.PublicReason)
	if !slices.Contains(Kinds, d.Kind) {
		e.Add("kind", "invalid", nil)
	}
	if d.ItemID <= 0 {
		e.Add("id", "invalid", nil)
	}
	if !slices.Contains(Actions, d.Action) {
		e.Add("action", "invalid", nil)
	}
	validate.Text(&e, "public_reason", d.PublicReason, d.Action == Hide || d.Action == Restore, MaxPublicReason)
	if err := e.Err(); err != nil {
		return nil, err
	}
	now := s.p.Now()
	a := &Action{Kind: d.Kind, ItemID: d.ItemID, Action: d.Action, PublicReason: d.PublicReason, Decided: now}
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		it, err := loadItem(ctx, tx, d.Kind, d.ItemID)
		if err != nil {
			return err
		}
		a.SpaceID = it.space
		var open int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM moderation_flags WHERE kind = ? AND item_id = ? AND status = 'open'", d.Kind, d.ItemID).Scan(&open); err != nil {
			return err
		}
		next := it.status
		switch d.Action {
		case Hide:
			if it.status == statusHidden {
				return ErrNotApplicable
			}
			next = statusHidden
		case Restore:
			if it.status != statusHidden {
				return ErrNotApplicable
			}
			var prior string
			err := tx.QueryRow(ctx, "SELECT prior_status FROM moderation_actions WHERE kind = ? AND item_id = ? AND action = ? ORDER BY id DESC LIMIT 1",
				d.Kind, d.ItemID, Hide).Scan(&prior)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			// A held item that a moderator looked at and restored is published.
			next = prior
			if prior == "" || prior == statusPending || prior == statusHidden {
				next = statusPublished
			}
		case Approve:
			if it.status != statusPending {
				return ErrNotApplicable
			}
			next = statusPublished
		case Dismiss:
			if open == 0 {
				return ErrNotApplicable
			}
		}
		if a.Digest, err = s.digest(ctx, it); err != nil {
			return err
		}
		if next != it.status {
			q := "UPDATE " + it.table() + " SET status = ? WHERE id = ?"
			if it.kind == KindPetition && next == statusPublished {
				q = "UPDATE petitions SET status = ?, published_at = COALESCE(published_at, " + strconv.FormatInt(store.Micros(now), 10) + ") WHERE id = ?"
			}
			if _, err := tx.Exec(ctx, q, next, it.id); err != nil {
				return err
			}
			if err := s.index(ctx, tx, it, next); err != nil {
				return err
			}
		}
		if open > 0 { // every open flag, review requests included, is answered by the decision
			if _, err := tx.Exec(ctx, "UPDATE moderation_flags SET status = 'resolved', resolved_at = ?, resolution = ? WHERE kind = ? AND item_id = ? AND status = 'open'",
				store.Micros(now), d.Action, d.Kind, d.ItemID); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO moderation_actions (kind, item_id, space_id, action, public_reason, content_digest, prior_status, moderator_id, decided_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, d.Kind, d.ItemID, it.space, d.Action, d.PublicReason, a.Digest, it.status, moderator,
			store.Micros(now)).Scan(&a.ID); err != nil {
			return err
		}
		detail := map[string]string{"kind": d.Kind, "item": participation.ID(d.ItemID), "space": participation.ID(it.space),
			"decision": participation.ID(a.ID), "status": next, "flags": strconv.Itoa(open)}
		if d.PublicReason != "" {
			detail["public_reason"] = auditlog.Digest([]byte(d.PublicReason))
		}
		if err := s.p.Audit(ctx, tx, "moderation."+d.Action, moderator, a.Digest, detail); err != nil {
			return err
		}
		if err := s.notifyAuthor(ctx, tx, it, a); err != nil {
			return err
		}
		if (d.Action == Hide || d.Action == Restore) && it.author != 0 {
			return s.tellAuthor(ctx, tx, it, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// HiddenReasons returns the public reason of the latest hiding of each of
// ids of kind that has one, for the pages that show a hidden item's place.
func (s *Service) HiddenReasons(ctx context.Context, kind string, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{kind, Hide}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.p.DB().Query(ctx, "SELECT item_id, public_reason FROM moderation_actions WHERE kind = ? AND action = ? AND item_id IN ("+
		strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+") ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var reason string
		if err := rows.Scan(&id, &reason); err != nil {
			return nil, err
		}
		out[id] = reason
	}
	return out, rows.Err()
}

// LogEntry is a decision in the public log, with whether the item is
// hidden now (for the restore button moderators see).
type LogEntry struct {
	Action
	HiddenNow bool `json:"hidden_now"`
}

// Log returns page (from 1) of the public moderation log, newest first,
// and the number of pages: decisions with their public reasons and
// digests, never the content and never who flagged.
func (s *Service) Log(ctx context.Context, page int) ([]LogEntry, int, error) {
	if page < 1 {
		page = 1
	}
	db := s.p.DB()
	var total int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM moderation_actions").Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := db.Query(ctx, `SELECT m.id, m.kind, m.item_id, COALESCE(m.space_id, 0), m.action, m.public_reason, m.content_digest, m.decided_at,
		COALESCE((SELECT c.status FROM comments c WHERE m.kind = 'comment' AND c.id = m.item_id), (SELECT p.status FROM petitions p WHERE m.kind = 'petition' AND p.id = m.item_id), '')
		FROM moderation_actions m ORDER BY m.id DESC LIMIT ? OFFSET ?`, LogPageSize, (page-1)*LogPageSize)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []LogEntry{}
	for rows.Next() {
		var l LogEntry
		var at int64
		var status string
		if err := rows.Scan(&l.ID, &l.Kind, &l.ItemID, &l.SpaceID, &l.Action.Action, &l.PublicReason, &l.Digest, &at, &status); err != nil {
			return nil, 0, err
		}
		l.Decided, l.HiddenNow = store.FromMicros(at), status == statusHidden
		out = append(out, l)
	}
	return out, max(1, (total+LogPageSize-1)/LogPageSize), rows.Err()
}

// Status returns the status of an item and whether viewer wrote it, for
// the flag page.
func (s *Service) Status(ctx context.Context, kind string, id, viewer int64) (status string, mine bool, err error) {
	it, err := loadItem(ctx, s.p.DB(), kind, id)
	if err != nil {
		return "", false, err
	}
	return it.status, viewer != 0 && viewer == it.author, nil
}
