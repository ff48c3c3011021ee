package dp_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func cost(eps, delta string) dp.Cost { return dp.Cost{Epsilon: rat(eps), Delta: rat(delta)} }

func TestLedgerSpendsUntilExhaustedThenRefusesAndSpendsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := dp.NewLedger(db)
		if _, err := l.Budget(ctx, "accounts"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("budget before first release: %v, want ErrNotFound", err)
		}
		initial := cost("1", "1/1000000")
		steps := []struct {
			cost      dp.Cost
			ok        bool
			spentEps  string
			remaining string
		}{
			{cost("1/3", "0"), true, "1/3", "2/3"},
			{cost("1/3", "1/2000000"), true, "2/3", "1/3"},
			{cost("1/2", "0"), false, "2/3", "1/3"},         // too much ε
			{cost("1/3", "1/1000000"), false, "2/3", "1/3"}, // too much δ
			{cost("1/3", "1/2000000"), true, "1", "0"},      // exactly what is left
			{cost("1/1000000000", "0"), false, "1", "0"},
		}
		for i, s := range steps {
			_, err := l.Spend(ctx, []dp.Charge{{Dataset: "accounts", Mechanism: "discrete-laplace", Cost: s.cost, Initial: initial}}, nil)
			if s.ok && err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if !s.ok {
				var be *dp.BudgetExhaustedError
				if !errors.As(err, &be) || !errors.Is(err, dp.ErrBudgetExhausted) {
					t.Fatalf("step %d: error %v, want BudgetExhaustedError", i, err)
				}
				if be.Dataset != "accounts" || be.Remaining.Epsilon.RatString() != s.remaining {
					t.Fatalf("step %d: error names %q remaining %s, want accounts %s", i, be.Dataset, be.Remaining, s.remaining)
				}
				if !strings.Contains(err.Error(), `"accounts"`) || !strings.Contains(err.Error(), "remains") {
					t.Fatalf("step %d: message %q should name the dataset and what remains", i, err)
				}
				if err := l.Check(ctx, []dp.Charge{{Dataset: "accounts", Cost: s.cost, Initial: initial}}); !errors.Is(err, dp.ErrBudgetExhausted) {
					t.Fatalf("step %d: Check = %v, want ErrBudgetExhausted", i, err)
				}
			}
			b, err := l.Budget(ctx, "accounts")
			if err != nil {
				t.Fatal(err)
			}
			if b.Spent.Epsilon.RatString() != s.spentEps || b.Remaining().Epsilon.RatString() != s.remaining {
				t.Fatalf("step %d: spent %s remaining %s, want %s and %s", i, b.Spent.Epsilon, b.Remaining().Epsilon, s.spentEps, s.remaining)
			}
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM dp_releases WHERE dataset = ?", "accounts").Scan(&n); err != nil || n != 3 {
			t.Fatalf("dp_releases rows = %d, %v; want 3", n, err)
		}
	})
}

func TestLedgerSpendIsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := dp.NewLedger(db)
		initial := cost("1", "0")
		if _, err := l.Spend(ctx, []dp.Charge{{Dataset: "b", Cost: cost("9/10", "0"), Initial: initial}}, nil); err != nil {
			t.Fatal(err)
		}
		// a fits, b does not: neither is charged
		_, err := l.Spend(ctx, []dp.Charge{
			{Dataset: "a", Cost: cost("1/2", "0"), Initial: initial},
			{Dataset: "b", Cost: cost("1/2", "0"), Initial: initial},
		}, nil)
		if !errors.Is(err, dp.ErrBudgetExhausted) {
			t.Fatalf("error %v, want ErrBudgetExhausted", err)
		}
		if _, err := l.Budget(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("dataset a has a budget row after a refused release: %v", err)
		}
		// the caller's own write failing rolls the charges back
		boom := errors.New("audit failed")
		_, err = l.Spend(ctx, []dp.Charge{{Dataset: "a", Cost: cost("1/2", "0"), Initial: initial}},
			func(context.Context, *store.Tx) error { return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("error %v, want the callback's", err)
		}
		if _, err := l.Budget(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("dataset a charged although the transaction failed: %v", err)
		}
		// invalid charges
		for _, c := range []dp.Charge{
			{Dataset: "", Cost: cost("1", "0"), Initial: initial},
			{Dataset: "a", Cost: cost("-1", "0"), Initial: initial},
			{Dataset: "a", Cost: dp.Cost{}, Initial: initial},
			{Dataset: "a", Cost: cost("1", "0"), Initial: cost("1", "1")},
		} {
			if _, err := l.Spend(ctx, []dp.Charge{c}, nil); !errors.Is(err, dp.ErrInvalidParameter) {
				t.Errorf("charge %+v: error %v, want ErrInvalidParameter", c, err)
			}
		}
	})
}

func TestLedgerConcurrentSpendsNeverOverspend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := dp.NewLedger(db)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		for range 10 {
			wg.Go(func() {
				_, err := l.Spend(ctx, []dp.Charge{{Dataset: "c", Cost: cost("3/10", "0"), Initial: cost("1", "0")}}, nil)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, dp.ErrBudgetExhausted):
					refused++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		b, err := l.Budget(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		if ok != 3 || refused != 7 || b.Spent.Epsilon.RatString() != "9/10" || b.Releases != 3 {
			t.Fatalf("%d spends, %d refused, spent %s in %d releases; want 3, 7, 9/10, 3", ok, refused, b.Spent.Epsilon, b.Releases)
		}
	})
}
