package privacy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// A processing restriction stops processing one person's data for one
// purpose: the data is kept, and nothing else is done with it (GDPR Art.
// 18(2)), until the DPO lifts it. An objection the DPO upholds (Art. 21)
// stops the processing the same way. Both are set when the DPO completes
// a restriction or objection request, and each change is an audit entry.
//
// Code that processes personal data for a purpose asks first:
//
//	if stop, err := restrictions.Restricted(ctx, account, "newsletter"); err != nil || stop {
//		return err // skip this person: restricted, or not known to be free
//	}
//
// inside a transaction with [Restrictions.RestrictedTx]; a package that
// holds no *Restrictions calls [IsRestricted] with its database handle or
// transaction. An unknown purpose is an error, never "not restricted",
// so a misspelt purpose cannot let processing through. Consent purposes
// need no separate call: [Consents.Has] answers false for a restricted
// purpose.

// Restriction bases: how the restriction came about.
const (
	BasisRestriction = "restriction" // Art. 18
	BasisObjection   = "objection"   // Art. 21, upheld
)

// ErrRestrictionNotFound is returned for a restriction that does not exist
// or is no longer in force.
var ErrRestrictionNotFound = errors.New("privacy: no such restriction in force")

// Restriction is one restriction of processing, in force or lifted.
type Restriction struct {
	ID         int64      `json:"id"`
	Account    int64      `json:"account"`
	Purpose    string     `json:"purpose"`
	Basis      string     `json:"basis"` // restriction or objection
	Request    int64      `json:"request,omitempty"`
	Reason     string     `json:"reason"`
	SetAt      time.Time  `json:"set_at"`
	LiftedAt   *time.Time `json:"lifted_at,omitempty"`
	LiftReason string     `json:"lift_reason,omitempty"`
}

// InForce reports whether the restriction still applies.
func (r Restriction) InForce() bool { return r.LiftedAt == nil }

// Restrictions records restrictions and answers whether processing for a
// purpose may use a person's data.
type Restrictions struct {
	db        *store.DB
	log       *auditlog.Log
	crypt     *fieldcrypt.Service
	pseudonym func(int64) string
	now       func() time.Time
}

// NewRestrictions returns the restrictions service. Reasons are sealed
// under each person's key; pseudonym names people in the audit log.
func NewRestrictions(db *store.DB, log *auditlog.Log, crypt *fieldcrypt.Service, pseudonym func(int64) string) *Restrictions {
	return &Restrictions{db: db, log: log, crypt: crypt, pseudonym: pseudonym, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (r *Restrictions) SetClock(now func() time.Time) { r.now = now }

// Querier is a database handle (*store.DB) or a transaction (*store.Tx).
type Querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *store.Row
}

// Restricted reports whether processing account's data for purpose must
// stop. An undeclared purpose is an error.
func (r *Restrictions) Restricted(ctx context.Context, account int64, purpose string) (bool, error) {
	return restricted(ctx, r.db, account, purpose)
}

// RestrictedTx is [Restrictions.Restricted] inside a transaction (on
// SQLite a query outside it would wait for the transaction's lock).
func (r *Restrictions) RestrictedTx(ctx context.Context, tx *store.Tx, account int64, purpose string) (bool, error) {
	return restricted(ctx, tx, account, purpose)
}

// IsRestricted is [Restrictions.Restricted] for packages that have no
// *Restrictions at hand: q is their database handle or, inside a
// transaction, the transaction.
func IsRestricted(ctx context.Context, q Querier, account int64, purpose string) (bool, error) {
	return restricted(ctx, q, account, purpose)
}

func restricted(ctx context.Context, q Querier, account int64, purpose string) (bool, error) {
	if _, ok := PurposeByID(purpose); !ok {
		return true, fmt.Errorf("privacy: processing for %q, which the registry does not declare", purpose)
	}
	var n int
	err := q.QueryRow(ctx, "SELECT COUNT(*) FROM processing_restrictions WHERE account_id = ? AND purpose = ? AND lifted_at IS NULL",
		account, purpose).Scan(&n)
	if err != nil {
		return true, err
	}
	return n > 0, nil
}

func restrictionRef(column string, id int64) fieldcrypt.FieldRef {
	return fieldcrypt.FieldRef{Table: "processing_restrictions", Column: column, Row: strconv.FormatInt(id, 10)}
}

// Restrict puts a restriction on processing account's data for purpose,
// set by the DPO dpo with a reason the person reads. A purpose already
// restricted stays as it is (the call succeeds).
func (r *Restrictions) Restrict(ctx context.Context, dpo, account int64, purpose, basis, reason string) error {
	if err := checkRestriction(purpose, basis, reason); err != nil {
		return err
	}
	return r.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := r.restrictTx(ctx, tx, dpo, account, purpose, basis, 0, reason)
		return err
	})
}

func checkRestriction(purpose, basis, reason string) error {
	var v validate.Errors
	if _, ok := PurposeByID(purpose); !ok {
		v.Add("purpose", "unknown_purpose", nil)
	}
	if basis != BasisRestriction && basis != BasisObjection {
		v.Add("basis", "required", nil)
	}
	validate.Text(&v, "reason", reason, true, 4000)
	return v.Err()
}

// restrictTx records a restriction in tx and returns its id (0 when the
// purpose was restricted already).
func (r *Restrictions) restrictTx(ctx context.Context, tx *store.Tx, dpo, account int64, purpose, basis string, request int64, reason string) (int64, error) {
	if stop, err := restricted(ctx, tx, account, purpose); err != nil || stop {
		return 0, err
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO processing_restrictions (account_id, purpose, basis, request_id, set_by, set_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, account, purpose, basis, nullID(request), nullID(dpo), store.Micros(r.now())).Scan(&id)
	if err != nil {
		return 0, err
	}
	sealed, err := r.crypt.Seal(ctx, tx, subject(account), restrictionRef("reason", id), []byte(strings.TrimSpace(reason)))
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, "UPDATE processing_restrictions SET reason_sealed = ? WHERE id = ?", sealed, id); err != nil {
		return 0, err
	}
	e := auditlog.Entry{Action: "restriction.set", Subject: r.pseudonym(account),
		Detail: map[string]string{"purpose": purpose, "basis": basis, "restriction": strconv.FormatInt(id, 10)}}
	if dpo != 0 {
		e.Actor = r.pseudonym(dpo)
	}
	if request != 0 {
		e.Detail["request"] = strconv.FormatInt(request, 10)
	}
	return id, r.log.Append(ctx, tx, e)
}

// Lift ends restriction id, by the DPO dpo, with the reason the person
// reads (GDPR Art. 18(3): the person is told before processing resumes).
func (r *Restrictions) Lift(ctx context.Context, dpo, id int64, reason string) error {
	var v validate.Errors
	validate.Text(&v, "reason", reason, true, 4000)
	if err := v.Err(); err != nil {
		return err
	}
	return r.db.InTx(ctx, func(tx *store.Tx) error {
		var account int64
		var purpose string
		err := tx.QueryRow(ctx, "SELECT account_id, purpose FROM processing_restrictions WHERE id = ? AND lifted_at IS NULL", id).Scan(&account, &purpose)
		if errors.Is(err, store.ErrNotFound) {
			return ErrRestrictionNotFound
		}
		if err != nil {
			return err
		}
		sealed, err := r.crypt.Seal(ctx, tx, subject(account), restrictionRef("lift_reason", id), []byte(strings.TrimSpace(reason)))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE processing_restrictions SET lifted_at = ?, lifted_by = ?, lift_reason_sealed = ? WHERE id = ?",
			store.Micros(r.now()), nullID(dpo), sealed, id); err != nil {
			return err
		}
		return r.log.Append(ctx, tx, auditlog.Entry{Action: "restriction.lifted", Actor: r.pseudonym(dpo), Subject: r.pseudonym(account),
			Detail: map[string]string{"purpose": purpose, "restriction": strconv.FormatInt(id, 10)}})
	})
}

// ForAccount lists account's restrictions, in force first, newest first.
func (r *Restrictions) ForAccount(ctx context.Context, account int64) ([]Restriction, error) {
	return r.list(ctx, "account_id = ?", account)
}

// InForce lists every restriction in force, for the DPO.
func (r *Restrictions) InForce(ctx context.Context) ([]Restriction, error) {
	return r.list(ctx, "lifted_at IS NULL AND 1 = ?", 1)
}

func (r *Restrictions) list(ctx context.Context, where string, arg any) ([]Restriction, error) {
	rows, err := r.db.Query(ctx, `SELECT id, account_id, purpose, basis, COALESCE(request_id, 0), reason_sealed, set_at, lifted_at, lift_reason_sealed
		FROM processing_restrictions WHERE `+where+` ORDER BY CASE WHEN lifted_at IS NULL THEN 0 ELSE 1 END, id DESC LIMIT 500`, arg)
	if err != nil {
		return nil, err
	}
	type row struct {
		x             Restriction
		reason, lift  []byte
		setAt         int64
		liftedAtMicro *int64
	}
	var got []row
	for rows.Next() {
		var w row
		if err := rows.Scan(&w.x.ID, &w.x.Account, &w.x.Purpose, &w.x.Basis, &w.x.Request, &w.reason, &w.setAt, &w.liftedAtMicro, &w.lift); err != nil {
			rows.Close()
			return nil, err
		}
		got = append(got, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Restriction, 0, len(got))
	for _, w := range got {
		w.x.SetAt = store.FromMicros(w.setAt)
		if w.liftedAtMicro != nil {
			t := store.FromMicros(*w.liftedAtMicro)
			w.x.LiftedAt = &t
		}
		var err error
		if w.x.Reason, err = r.open(ctx, w.x.Account, restrictionRef("reason", w.x.ID), w.reason); err != nil {
			return nil, err
		}
		if w.x.LiftReason, err = r.open(ctx, w.x.Account, restrictionRef("lift_reason", w.x.ID), w.lift); err != nil {
			return nil, err
		}
		out = append(out, w.x)
	}
	return out, nil
}

// open reads a sealed reason; an erased person's reads as "".
func (r *Restrictions) open(ctx context.Context, account int64, ref fieldcrypt.FieldRef, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	pt, err := r.crypt.Open(ctx, subject(account), ref, sealed)
	if errors.Is(err, fieldcrypt.ErrErased) {
		return "", nil
	}
	return string(pt), err
}

// restrictedAccounts is the SQL condition "the account in column col has
// purpose restricted", for statements that process many people at once.
func restrictedAccounts(col string) string {
	return col + " IN (SELECT account_id FROM processing_restrictions WHERE purpose = ? AND lifted_at IS NULL)"
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
