package dp

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/veche/veche/internal/store"
)

// ErrBudgetExhausted is matched (errors.Is) by a [*BudgetExhaustedError].
var ErrBudgetExhausted = errors.New("privacy budget exhausted")

// BudgetExhaustedError says which dataset's budget a release would
// overspend, what it asked for and what is left.
type BudgetExhaustedError struct {
	Dataset   string
	Requested Cost
	Remaining Cost
}

func (e *BudgetExhaustedError) Error() string {
	return fmt.Sprintf("privacy budget of dataset %q exhausted: the release needs %s but only %s remains; nothing was released or spent",
		e.Dataset, e.Requested, e.Remaining)
}

// Is makes errors.Is(err, ErrBudgetExhausted) true.
func (e *BudgetExhaustedError) Is(target error) bool { return target == ErrBudgetExhausted }

// Budget is one dataset's privacy budget as stored.
type Budget struct {
	Dataset  string
	Total    Cost
	Spent    Cost
	Releases int64
	Created  time.Time // the first release
	Updated  time.Time // the latest charge
}

// Remaining is Total - Spent.
func (b Budget) Remaining() Cost {
	return Cost{
		Epsilon: new(big.Rat).Sub(b.Total.Epsilon, b.Spent.Epsilon),
		Delta:   new(big.Rat).Sub(b.Total.Delta, b.Spent.Delta),
	}
}

// fits reports whether c fits in what remains.
func (b Budget) fits(c Cost) bool {
	r := b.Remaining()
	return c.Epsilon.Cmp(r.Epsilon) <= 0 && c.Delta.Cmp(r.Delta) <= 0
}

// Charge is one dataset's part of a release.
type Charge struct {
	Dataset   string
	Mechanism string // e.g. "discrete-laplace"; recorded with the release
	Cost      Cost
	// Initial is the dataset's total budget, used when the dataset has no
	// budget row yet (its first release). An existing budget is never
	// changed by a charge.
	Initial Cost
	// Rho is ρ of a zCDP (discrete Gaussian) release, recorded beside the
	// (ε, δ) it is charged; nil for a pure-DP release.
	Rho *big.Rat
}

// Ledger keeps privacy budgets in the database.
type Ledger struct {
	db  *store.DB
	now func() time.Time
}

// NewLedger returns the ledger stored in db.
func NewLedger(db *store.DB) *Ledger { return &Ledger{db: db, now: time.Now} }

// Budget returns the dataset's stored budget, or [store.ErrNotFound] before
// its first release.
func (l *Ledger) Budget(ctx context.Context, dataset string) (Budget, error) {
	row := l.db.QueryRow(ctx, `SELECT `+budgetColumns+` FROM dp_budgets WHERE dataset = ?`, dataset)
	return scanBudget(dataset, row)
}

// Check reports, without charging, whether every charge fits the stored
// budgets (or the initial ones for datasets not yet released) and the
// ledger is not on hold after a restore ([*LedgerHeldError]). It lets a
// caller refuse early; [Ledger.Spend] checks again under a lock.
func (l *Ledger) Check(ctx context.Context, charges []Charge) error {
	if len(charges) > 0 {
		if err := refuseIfHeld(ctx, l.db); err != nil {
			return err
		}
	}
	for _, c := range charges {
		if err := checkCharge(c); err != nil {
			return err
		}
		b, err := l.Budget(ctx, c.Dataset)
		if errors.Is(err, store.ErrNotFound) {
			b = Budget{Dataset: c.Dataset, Total: c.Initial, Spent: zeroCost()}
		} else if err != nil {
			return err
		}
		if !b.fits(c.Cost) {
			return &BudgetExhaustedError{Dataset: c.Dataset, Requested: c.Cost, Remaining: b.Remaining()}
		}
	}
	return nil
}

// Spend charges every charge in one transaction, then runs also (if not
// nil) in the same transaction, for the caller's audit entry. Either all
// charges are made and also succeeds, or nothing changes: a charge that
// does not fit returns a [*BudgetExhaustedError], and a ledger on hold
// after a restore a [*LedgerHeldError]. Each charge is recorded as a
// release with a random identity, by which ledgers from backups are
// merged ([Ledger.Merge]). It returns the budgets after the charges, in
// the order of charges.
func (l *Ledger) Spend(ctx context.Context, charges []Charge, also func(ctx context.Context, tx *store.Tx) error) ([]Budget, error) {
	for _, c := range charges {
		if err := checkCharge(c); err != nil {
			return nil, err
		}
	}
	var out []Budget
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		out = out[:0]
		if len(charges) > 0 {
			if err := refuseIfHeld(ctx, tx); err != nil {
				return err
			}
		}
		now := store.Micros(l.now())
		for _, c := range charges {
			if _, err := tx.Exec(ctx, `INSERT INTO dp_budgets (dataset, epsilon_total, epsilon_spent, delta_total, delta_spent, releases, created_at, updated_at)
				VALUES (?, ?, '0', ?, '0', 0, ?, ?) ON CONFLICT (dataset) DO NOTHING`,
				c.Dataset, c.Initial.Epsilon.RatString(), c.Initial.Delta.RatString(), now, now); err != nil {
				return fmt.Errorf("dp: create budget of %q: %w", c.Dataset, err)
			}
			q := `SELECT ` + budgetColumns + ` FROM dp_budgets WHERE dataset = ?`
			if tx.Dialect() == store.Postgres {
				// SQLite write transactions already hold the database lock.
				q += " FOR UPDATE"
			}
			b, err := scanBudget(c.Dataset, tx.QueryRow(ctx, q, c.Dataset))
			if err != nil {
				return err
			}
			if !b.fits(c.Cost) {
				return &BudgetExhaustedError{Dataset: c.Dataset, Requested: c.Cost, Remaining: b.Remaining()}
			}
			b.Spent.Epsilon.Add(b.Spent.Epsilon, c.Cost.Epsilon)
			b.Spent.Delta.Add(b.Spent.Delta, c.Cost.Delta)
			b.Releases++
			b.Updated = store.FromMicros(now)
			if _, err := tx.Exec(ctx, `UPDATE dp_budgets SET epsilon_spent = ?, delta_spent = ?, releases = ?, updated_at = ? WHERE dataset = ?`,
				b.Spent.Epsilon.RatString(), b.Spent.Delta.RatString(), b.Releases, now, c.Dataset); err != nil {
				return fmt.Errorf("dp: charge budget of %q: %w", c.Dataset, err)
			}
			rho := ""
			if c.Rho != nil {
				rho = c.Rho.RatString()
			}
			if _, err := tx.Exec(ctx, `INSERT INTO dp_releases (uid, dataset, mechanism, epsilon, delta, rho, released_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				newReleaseID(), c.Dataset, c.Mechanism, c.Cost.Epsilon.RatString(), c.Cost.Delta.RatString(), rho, now); err != nil {
				return fmt.Errorf("dp: record release of %q: %w", c.Dataset, err)
			}
			out = append(out, b)
		}
		if also != nil {
			return also(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func checkCharge(c Charge) error {
	switch {
	case c.Dataset == "":
		return fmt.Errorf("%w: charge without a dataset", ErrInvalidParameter)
	case !nonNegative(c.Cost.Epsilon) || !nonNegative(c.Cost.Delta):
		return fmt.Errorf("%w: charge to %q must have ε ≥ 0 and δ ≥ 0", ErrInvalidParameter, c.Dataset)
	case !nonNegative(c.Initial.Epsilon) || !nonNegative(c.Initial.Delta) || c.Initial.Delta.Cmp(big.NewRat(1, 1)) >= 0:
		return fmt.Errorf("%w: budget of %q must have ε ≥ 0 and 0 ≤ δ < 1", ErrInvalidParameter, c.Dataset)
	case c.Rho != nil && c.Rho.Sign() <= 0:
		return fmt.Errorf("%w: charge to %q must have ρ > 0", ErrInvalidParameter, c.Dataset)
	case !mechanismRE.MatchString(c.Mechanism) && c.Mechanism != "":
		return fmt.Errorf("%w: charge to %q names mechanism %q (lowercase letters, digits and '-')", ErrInvalidParameter, c.Dataset, c.Mechanism)
	}
	return nil
}

func nonNegative(r *big.Rat) bool { return r != nil && r.Sign() >= 0 }

func zeroCost() Cost { return Cost{Epsilon: new(big.Rat), Delta: new(big.Rat)} }

// budgetColumns are the columns scanBudget reads, in its order.
const budgetColumns = "epsilon_total, epsilon_spent, delta_total, delta_spent, releases, created_at, updated_at"

func scanBudget(dataset string, row interface{ Scan(...any) error }) (Budget, error) {
	var et, es, dt, ds string
	var created, updated int64
	b := Budget{Dataset: dataset}
	if err := row.Scan(&et, &es, &dt, &ds, &b.Releases, &created, &updated); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Budget{}, err
		}
		return Budget{}, fmt.Errorf("dp: read budget of %q: %w", dataset, err)
	}
	vals := make([]*big.Rat, 4)
	for i, s := range []string{et, es, dt, ds} {
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return Budget{}, fmt.Errorf("dp: budget of %q holds %q, not a rational number", dataset, s)
		}
		vals[i] = r
	}
	b.Total = Cost{Epsilon: vals[0], Delta: vals[2]}
	b.Spent = Cost{Epsilon: vals[1], Delta: vals[3]}
	b.Created = store.FromMicros(created)
	b.Updated = store.FromMicros(updated)
	return b, nil
}
