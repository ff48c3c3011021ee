package dp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

var initial = cost("1", "1/1000000")

func spend(t *testing.T, l *dp.Ledger, dataset string, c dp.Cost, rho *big.Rat) {
	t.Helper()
	if _, err := l.Spend(context.Background(), []dp.Charge{{Dataset: dataset, Mechanism: "discrete-laplace", Cost: c, Initial: initial, Rho: rho}}, nil); err != nil {
		t.Fatalf("spend %s on %s: %v", c, dataset, err)
	}
}

func export(t *testing.T, l *dp.Ledger, at time.Time) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := l.Export(context.Background(), &b, at); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readLedger(t *testing.T, b []byte) *dp.Snapshot {
	t.Helper()
	s, err := dp.ReadLedger(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fresh opens a new database of the same engine as like.
func fresh(t *testing.T, like *store.DB) *store.DB {
	if like.Dialect() == store.Postgres {
		return storetest.Postgres(t)
	}
	return storetest.SQLite(t)
}

func spentEps(t *testing.T, l *dp.Ledger, dataset string) string {
	t.Helper()
	b, err := l.Budget(context.Background(), dataset)
	if err != nil {
		t.Fatalf("budget of %s: %v", dataset, err)
	}
	return b.Spent.Epsilon.RatString()
}

// Merging never lowers what was spent: releases are united by their
// identity, whichever ledger knew them, and the merge can be repeated.
func TestMergeUnitesReleasesAndNeverLowersTheSpending(t *testing.T) {
	storetest.Each(t, func(t *testing.T, src *store.DB) {
		ctx := context.Background()
		l := dp.NewLedger(src)
		spend(t, l, "a", cost("1/4", "0"), nil)
		older := export(t, l, time.Now())
		spend(t, l, "a", cost("1/4", "1/10000000"), big.NewRat(1, 100))
		spend(t, l, "b", cost("1/2", "0"), nil)
		newer := export(t, l, time.Now())

		tests := []struct {
			name     string
			merge    [][]byte
			spentA   string
			releases int
		}{
			{"nothing merged", nil, "1/4", 1},
			{"the same ledger", [][]byte{older}, "1/4", 1},
			{"a newer ledger", [][]byte{newer}, "1/2", 3},
			{"a newer ledger twice", [][]byte{newer, newer}, "1/2", 3},
			{"newer, then older", [][]byte{newer, older}, "1/2", 3},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// dst knows what src knew at the older export, as after a
				// restore of a data backup made then.
				dst := dp.NewLedger(fresh(t, src))
				if _, err := dst.Merge(ctx, readLedger(t, older)); err != nil {
					t.Fatal(err)
				}
				for _, b := range tt.merge {
					if _, err := dst.Merge(ctx, readLedger(t, b)); err != nil {
						t.Fatal(err)
					}
				}
				if got := spentEps(t, dst, "a"); got != tt.spentA {
					t.Errorf("spent on a: %s, want %s", got, tt.spentA)
				}
				rs, err := dst.Releases(ctx)
				if err != nil || len(rs) != tt.releases {
					t.Fatalf("releases: %d, %v; want %d", len(rs), err, tt.releases)
				}
				if tt.releases == 3 {
					want, _ := l.Releases(ctx)
					for i := range want {
						if rs[i].Digest() != want[i].Digest() {
							t.Errorf("release %d: %+v, want %+v", i, rs[i], want[i])
						}
					}
					if rs[1].Rho == nil || rs[1].Rho.RatString() != "1/100" {
						t.Errorf("ρ of the Gaussian release: %v, want 1/100", rs[1].Rho)
					}
					if b, err := dst.Budget(ctx, "b"); err != nil || b.Total.Epsilon.RatString() != "1" || b.Releases != 1 {
						t.Errorf("budget of b, known only to the newer ledger: %+v, %v", b, err)
					}
				}
			})
		}

		// A budget that says more was spent than its releases add up to
		// (its releases lost) keeps its spending.
		lossy := bytes.Replace(newer, []byte(`"epsilon_spent":"1/2"`), []byte(`"epsilon_spent":"3/4"`), 1)
		lossy = removeLine(t, lossy, `"epsilon":"1/4","delta":"1/10000000"`)
		dst := dp.NewLedger(fresh(t, src))
		if _, err := dst.Merge(ctx, readLedger(t, lossy)); err != nil {
			t.Fatal(err)
		}
		if got := spentEps(t, dst, "a"); got != "3/4" {
			t.Fatalf("spent after merging a budget whose releases were lost: %s, want 3/4", got)
		}
	})
}

func removeLine(t *testing.T, b []byte, containing string) []byte {
	t.Helper()
	var out []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if !strings.Contains(line, containing) {
			out = append(out, line)
		}
	}
	if len(out) == len(strings.SplitAfter(string(b), "\n")) {
		t.Fatalf("no line contains %q", containing)
	}
	return []byte(strings.Join(out, ""))
}

// A ledger export is refused, naming what is wrong, when a line was
// altered in a way its checks see.
func TestReadLedgerRefusesAnAlteredExport(t *testing.T) {
	db := storetest.SQLite(t)
	l := dp.NewLedger(db)
	spend(t, l, "a", cost("1/4", "0"), nil)
	spend(t, l, "a", cost("1/4", "1/10000000"), big.NewRat(1, 100))
	good := export(t, l, time.Now())
	readLedger(t, good)
	tests := []struct {
		name string
		edit func([]byte) []byte
		msg  string
	}{
		{"a release's ε lowered", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"epsilon":"1/4","delta":"0"`), []byte(`"epsilon":"1/8","delta":"0"`), 1)
		}, "its digest does not match its fields"},
		{"a release's time changed", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"released_at":1`), []byte(`"released_at":2`), 1)
		}, "its digest does not match"},
		{"a budget's spending below its releases", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"epsilon_spent":"1/2"`), []byte(`"epsilon_spent":"1/4"`), 1)
		}, "its releases add up to ε=0.5"},
		{"a budget's release count below its releases", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"releases":2`), []byte(`"releases":1`), 1)
		}, "in 2"},
		{"the budget removed", func(b []byte) []byte { return removeLine(t, b, `"budget"`) }, `releases of dataset "a" but no budget`},
		{"a release repeated", func(b []byte) []byte {
			lines := strings.SplitAfter(string(b), "\n")
			return []byte(string(b) + lines[2])
		}, "repeated id"},
		{"an unknown field", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"mechanism"`), []byte(`"note":"x","mechanism"`), 1)
		}, "unknown field"},
		{"a number in another form", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"epsilon_total":"1"`), []byte(`"epsilon_total":"1e9"`), 1)
		}, "out of range"},
		{"not a ledger", func([]byte) []byte { return []byte(`{"format":"veche subject keys v1"}` + "\n") }, "not a veche privacy-budget ledger"},
		{"a second header", func(b []byte) []byte {
			return append(b, b[:bytes.IndexByte(b, '\n')+1]...)
		}, "want exactly one budget or release"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dp.ReadLedger(bytes.NewReader(tt.edit(bytes.Clone(good))))
			if !errors.Is(err, dp.ErrInvalidLedger) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("ReadLedger: %v; want ErrInvalidLedger containing %q", err, tt.msg)
			}
		})
	}
}

// One release recorded differently in the database and in a ledger (the
// same identity, another cost, its digest made to match) is a conflict:
// nothing is merged.
func TestMergeRefusesAReleaseRecordedDifferently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := dp.NewLedger(db)
		spend(t, l, "a", cost("1/4", "0"), nil)
		s := readLedger(t, export(t, l, time.Now()))
		s.Releases[0].Cost = cost("1/8", "0")
		s.Releases = append(s.Releases, dp.Release{ID: "extra", Dataset: "a", Cost: cost("1/2", "0"), At: time.Now()})
		if _, err := l.Merge(ctx, s); !errors.Is(err, dp.ErrLedgerConflict) || !strings.Contains(err.Error(), "nothing was merged") {
			t.Fatalf("merge: %v; want ErrLedgerConflict", err)
		}
		if got := spentEps(t, l, "a"); got != "1/4" {
			t.Fatalf("spent after a refused merge: %s", got)
		}
	})
}

// While the ledger is on hold after a restore no budget is spent; a
// merged ledger complete up to the hold's time, or an operator's
// confirmation, lifts it.
func TestSpendIsRefusedWhileTheLedgerIsOnHold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := dp.NewLedger(db)
		spend(t, l, "a", cost("1/4", "0"), nil)
		backupAt := time.Now().UTC().Truncate(time.Microsecond)
		// The ledger of the instance the backup came from, which is not on
		// hold, as its key backups carry it.
		origin := dp.NewLedger(fresh(t, db))
		spend(t, origin, "a", cost("1/4", "0"), nil)
		merge := func(at time.Time) func() (*dp.Hold, error) {
			return func() (*dp.Hold, error) {
				r, err := l.Merge(ctx, readLedger(t, export(t, origin, at)))
				return r.Lifted, err
			}
		}
		tests := []struct {
			name string
			lift func() (*dp.Hold, error)
			want string // lifted_by; "" for still held
		}{
			{"a ledger complete up to an earlier time", merge(backupAt.Add(-time.Second)), ""},
			{"a ledger complete up to the backup's time only", merge(backupAt), ""},
			// Made while this database is on hold, its own export knows
			// no more than the backup did.
			{"this database's own ledger", func() (*dp.Hold, error) {
				r, err := l.Merge(ctx, readLedger(t, export(t, l, time.Now())))
				return r.Lifted, err
			}, ""},
			{"a ledger complete up to a later time", merge(backupAt.Add(time.Microsecond)), "merged a ledger complete up to"},
			{"an operator's confirmation", func() (*dp.Hold, error) { return l.Confirm(ctx, "operator: checked") }, "operator: checked"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.InTx(ctx, func(tx *store.Tx) error {
					return dp.PlaceHold(ctx, tx, dp.Hold{PlacedAt: time.Now(), KnownUntil: backupAt})
				})
				if err != nil {
					t.Fatal(err)
				}
				charge := []dp.Charge{{Dataset: "a", Cost: cost("1/4", "0"), Initial: initial}}
				_, err = l.Spend(ctx, charge, nil)
				var held *dp.LedgerHeldError
				if !errors.As(err, &held) || !errors.Is(err, dp.ErrLedgerHeld) || !held.Hold.KnownUntil.Equal(backupAt) ||
					!strings.Contains(err.Error(), backupAt.Format("2006-01-02 15:04:05")) || !strings.Contains(err.Error(), "nothing was released or spent") {
					t.Fatalf("spend on hold: %v; want LedgerHeldError naming %s", err, backupAt)
				}
				if err := l.Check(ctx, charge); !errors.Is(err, dp.ErrLedgerHeld) {
					t.Fatalf("check on hold: %v", err)
				}
				// A release that charges no budget (microdata) goes on.
				if _, err := l.Spend(ctx, nil, nil); err != nil {
					t.Fatalf("spend nothing on hold: %v", err)
				}
				lifted, err := tt.lift()
				if err != nil {
					t.Fatal(err)
				}
				h, err := l.Hold(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == "" {
					if lifted != nil || h == nil {
						t.Fatalf("lifted %+v, active %+v; want still held", lifted, h)
					}
					if _, err := l.Confirm(ctx, "test cleanup"); err != nil {
						t.Fatal(err)
					}
					return
				}
				if lifted == nil || !strings.Contains(lifted.LiftedBy, tt.want) || h != nil {
					t.Fatalf("lifted %+v, active %+v; want lifted by %q", lifted, h, tt.want)
				}
				if _, err := l.Spend(ctx, charge, nil); err != nil {
					t.Fatalf("spend after the hold was lifted: %v", err)
				}
			})
		}
		holds, err := l.Holds(ctx)
		if err != nil || len(holds) != len(tests) {
			t.Fatalf("holds: %d, %v; want one per restore", len(holds), err)
		}
		// A restore replaces a hold still active from an earlier one.
		for range 2 {
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				return dp.PlaceHold(ctx, tx, dp.Hold{PlacedAt: time.Now(), KnownUntil: backupAt})
			}); err != nil {
				t.Fatal(err)
			}
		}
		holds, _ = l.Holds(ctx)
		if n := len(holds); holds[n-2].Active() || !strings.Contains(holds[n-2].LiftedBy, "replaced by the restore") || !holds[n-1].Active() {
			t.Fatalf("holds after two restores: %+v", holds[n-2:])
		}
	})
}

// The export is JSON lines a person can read.
func TestLedgerExportIsJSONLines(t *testing.T) {
	l := dp.NewLedger(storetest.SQLite(t))
	spend(t, l, "accounts-by-month", cost("1/2", "0"), nil)
	for i, line := range strings.Split(strings.TrimSpace(string(export(t, l, time.Now()))), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if _, ok := v[[]string{"format", "budget", "release"}[i]]; !ok {
			t.Fatalf("line %d is %s", i+1, line)
		}
	}
}
