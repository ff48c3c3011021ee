package privacy

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// RequestKind is what a data-subject request asks for.
type RequestKind string

// Request kinds that need staff: the others (access, erasure, consent)
// are self-service on the account page.
const (
	RequestRectification RequestKind = "rectification" // Art. 16
	RequestRestriction   RequestKind = "restriction"   // Art. 18
	RequestObjection     RequestKind = "objection"     // Art. 21
	RequestOther         RequestKind = "other"
)

// RequestKinds lists the kinds in form order.
var RequestKinds = []RequestKind{RequestRectification, RequestRestriction, RequestObjection, RequestOther}

// Request statuses.
const (
	RequestOpen      = "open"
	RequestExtended  = "extended"
	RequestCompleted = "completed"
	RequestRefused   = "refused"
)

// ErrRequestClosed is returned when acting on a closed request.
var ErrRequestClosed = errors.New("privacy: the request is already closed")

// ErrRequestNotFound is returned for a request number that does not exist.
var ErrRequestNotFound = errors.New("privacy: no such request")

// The legal clock: one month to answer, extendable by two further months
// where necessary (GDPR Art. 12(3)); reminders a week before the deadline.
const (
	RequestDeadline  = 30 * 24 * time.Hour
	RequestExtension = 60 * 24 * time.Hour
	RequestReminder  = 7 * 24 * time.Hour
)

// Request is one data-subject request in the DPO's queue.
type Request struct {
	ID         int64       `json:"id"`
	Account    int64       `json:"account"`
	Kind       RequestKind `json:"kind"`
	Purpose    string      `json:"purpose,omitempty"`
	Details    string      `json:"details"`
	Status     string      `json:"status"`
	ReceivedAt time.Time   `json:"received_at"`
	DueAt      time.Time   `json:"due_at"`
	ClosedAt   *time.Time  `json:"closed_at,omitempty"`
	Outcome    string      `json:"outcome,omitempty"`
}

// Overdue reports whether an open request has passed its deadline at now.
func (r Request) Overdue(now time.Time) bool {
	return r.ClosedAt == nil && now.After(r.DueAt)
}

// Requests is the queue of data-subject requests.
type Requests struct {
	db        *store.DB
	log       *auditlog.Log
	crypt     *fieldcrypt.Service
	pseudonym func(int64) string
	now       func() time.Time
	// Restrictions are what completed restriction and objection requests
	// put in force.
	Restrictions *Restrictions
}

// NewRequests returns the queue, with its restrictions service.
func NewRequests(db *store.DB, log *auditlog.Log, crypt *fieldcrypt.Service, pseudonym func(int64) string) *Requests {
	return &Requests{db: db, log: log, crypt: crypt, pseudonym: pseudonym, now: time.Now,
		Restrictions: NewRestrictions(db, log, crypt, pseudonym)}
}

// SetClock replaces the clock, for tests.
func (q *Requests) SetClock(now func() time.Time) {
	q.now = now
	q.Restrictions.SetClock(now)
}

func subject(account int64) string { return "account:" + strconv.FormatInt(account, 10) }

func detailsRef(id int64) fieldcrypt.FieldRef {
	return fieldcrypt.FieldRef{Table: "subject_requests", Column: "details", Row: strconv.FormatInt(id, 10)}
}

// Submit files a request from account. Restriction and objection name the
// purpose they concern; the details (what to correct, why) are sealed
// under the person's key.
func (q *Requests) Submit(ctx context.Context, account int64, kind RequestKind, purpose, details string) (*Request, error) {
	var v validate.Errors
	if !slices.Contains(RequestKinds, kind) {
		v.Add("kind", "required", nil)
	}
	if kind == RequestRestriction || kind == RequestObjection {
		if p, ok := PurposeByID(purpose); !ok || p.NeedsConsent() {
			v.Add("purpose", "unknown_purpose", nil)
		} else if kind == RequestObjection && p.Basis != PublicTask && p.Basis != LegitimateInterests {
			v.Add("purpose", "objection_not_applicable", nil)
		}
	} else {
		purpose = ""
	}
	validate.Text(&v, "details", details, true, 4000)
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := q.now().UTC().Truncate(time.Microsecond)
	r := &Request{Account: account, Kind: kind, Purpose: purpose, Details: strings.TrimSpace(details), Status: RequestOpen,
		ReceivedAt: now, DueAt: now.Add(RequestDeadline)}
	err := q.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO subject_requests (account_id, kind, purpose, status, received_at, due_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, account, string(kind), purpose, RequestOpen, store.Micros(now), store.Micros(r.DueAt)).Scan(&r.ID); err != nil {
			return err
		}
		sealed, err := q.crypt.Seal(ctx, tx, subject(account), detailsRef(r.ID), []byte(r.Details))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE subject_requests SET details_sealed = ? WHERE id = ?", sealed, r.ID); err != nil {
			return err
		}
		return q.log.Append(ctx, tx, auditlog.Entry{Action: "request.received", Actor: q.pseudonym(account), Subject: q.pseudonym(account),
			Detail: map[string]string{"kind": string(kind), "request": strconv.FormatInt(r.ID, 10)}})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ForAccount lists account's own requests, newest first.
func (q *Requests) ForAccount(ctx context.Context, account int64) ([]Request, error) {
	return q.list(ctx, "account_id = ?", account)
}

// Queue lists open requests by deadline, then closed ones, for the DPO.
func (q *Requests) Queue(ctx context.Context) ([]Request, error) {
	return q.list(ctx, "1 = ?", 1)
}

// Request returns one request of the queue.
func (q *Requests) Request(ctx context.Context, id int64) (*Request, error) {
	list, err := q.list(ctx, "id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrRequestNotFound
	}
	return &list[0], nil
}

// RequestFilter selects requests from the queue. The zero value selects
// all of them.
type RequestFilter struct {
	// Status is one of the request statuses, "pending" for open or
	// extended, or "" for any.
	Status string
	// DueSoon keeps only requests still to answer whose deadline is
	// within RequestReminder (or has passed).
	DueSoon bool
}

// Find lists the queue's requests that f selects, in the order of
// [Requests.Queue].
func (q *Requests) Find(ctx context.Context, f RequestFilter) ([]Request, error) {
	where, args := []string{"1 = 1"}, []any{}
	switch f.Status {
	case "":
	case "pending":
		where = append(where, "closed_at IS NULL")
	case RequestOpen, RequestExtended, RequestCompleted, RequestRefused:
		where = append(where, "status = ?")
		args = append(args, f.Status)
	default:
		return nil, validate.One("status", "unknown_status", nil)
	}
	if f.DueSoon {
		where = append(where, "closed_at IS NULL AND due_at <= ?")
		args = append(args, store.Micros(q.now().Add(RequestReminder)))
	}
	return q.list(ctx, strings.Join(where, " AND "), args...)
}

func (q *Requests) list(ctx context.Context, where string, args ...any) ([]Request, error) {
	rows, err := q.db.Query(ctx, `SELECT id, account_id, kind, purpose, details_sealed, status, received_at, due_at, closed_at, outcome
		FROM subject_requests WHERE `+where+` ORDER BY CASE WHEN closed_at IS NULL THEN 0 ELSE 1 END, due_at, id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, err
	}
	type row struct {
		r      Request
		sealed []byte
	}
	var got []row
	for rows.Next() {
		var x row
		var kind string
		var recv, due int64
		var closed *int64
		if err := rows.Scan(&x.r.ID, &x.r.Account, &kind, &x.r.Purpose, &x.sealed, &x.r.Status, &recv, &due, &closed, &x.r.Outcome); err != nil {
			rows.Close()
			return nil, err
		}
		x.r.Kind, x.r.ReceivedAt, x.r.DueAt = RequestKind(kind), store.FromMicros(recv), store.FromMicros(due)
		if closed != nil {
			t := store.FromMicros(*closed)
			x.r.ClosedAt = &t
		}
		got = append(got, x)
	}
	rows.Close()
	out := make([]Request, 0, len(got))
	for _, x := range got {
		pt, err := q.crypt.Open(ctx, subject(x.r.Account), detailsRef(x.r.ID), x.sealed)
		if err != nil && !errors.Is(err, fieldcrypt.ErrErased) {
			return nil, err
		}
		x.r.Details = string(pt)
		out = append(out, x.r)
	}
	return out, nil
}

// Close records the DPO's outcome: completed or refused, with the reasons
// the person will read (a refusal must say why and mention the right to
// complain to the supervisory authority, Art. 12(4)). Extend moves the
// deadline by two months once, with the reason. Completing a restriction
// or objection request puts the restriction of its purpose in force in
// the same transaction (see [Restrictions]), with the answer as reason.
func (q *Requests) Close(ctx context.Context, dpo, id int64, status, outcome string) error {
	var v validate.Errors
	if status != RequestCompleted && status != RequestRefused && status != RequestExtended {
		v.Add("status", "required", nil)
	}
	validate.Text(&v, "outcome", outcome, true, 4000)
	if err := v.Err(); err != nil {
		return err
	}
	return q.db.InTx(ctx, func(tx *store.Tx) error {
		var cur, kind, purpose string
		var account int64
		var due int64
		if err := tx.QueryRow(ctx, "SELECT status, account_id, due_at, kind, purpose FROM subject_requests WHERE id = ?", id).Scan(&cur, &account, &due, &kind, &purpose); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrRequestNotFound
			}
			return err
		}
		if cur == RequestCompleted || cur == RequestRefused {
			return ErrRequestClosed
		}
		now := store.Micros(q.now())
		if status == RequestExtended {
			if cur == RequestExtended {
				return validate.One("status", "already_extended", nil)
			}
			if _, err := tx.Exec(ctx, "UPDATE subject_requests SET status = ?, due_at = ?, outcome = ?, handled_by = ?, reminded_at = NULL WHERE id = ?",
				status, due+int64(RequestExtension/time.Microsecond), outcome, dpo, id); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, "UPDATE subject_requests SET status = ?, closed_at = ?, outcome = ?, handled_by = ? WHERE id = ?",
			status, now, outcome, dpo, id); err != nil {
			return err
		}
		if k := RequestKind(kind); status == RequestCompleted && purpose != "" && (k == RequestRestriction || k == RequestObjection) {
			if _, err := q.Restrictions.restrictTx(ctx, tx, dpo, account, purpose, string(k), id, outcome); err != nil {
				return err
			}
		}
		return q.log.Append(ctx, tx, auditlog.Entry{Action: "request." + status, Actor: q.pseudonym(dpo), Subject: q.pseudonym(account),
			Detail: map[string]string{"request": strconv.FormatInt(id, 10)}})
	})
}

// DueSoon lists open requests whose deadline is within RequestReminder and
// that have not been reminded about yet, marking them reminded; the caller
// tells the DPO. Run by the hourly job.
func (q *Requests) DueSoon(ctx context.Context) ([]Request, error) {
	now := q.now()
	var ids []int64
	err := q.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ids, err = store.IDs(tx.Query(ctx, `SELECT id FROM subject_requests WHERE closed_at IS NULL AND reminded_at IS NULL AND due_at <= ?`,
			store.Micros(now.Add(RequestReminder))))
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.Exec(ctx, "UPDATE subject_requests SET reminded_at = ? WHERE id = ?", store.Micros(now), id); err != nil {
				return err
			}
			if err := q.log.Append(ctx, tx, auditlog.Entry{Action: "request.reminder",
				Detail: map[string]string{"request": strconv.FormatInt(id, 10)}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	all, err := q.Queue(ctx)
	if err != nil {
		return nil, err
	}
	var out []Request
	for _, r := range all {
		if slices.Contains(ids, r.ID) {
			out = append(out, r)
		}
	}
	return out, nil
}
