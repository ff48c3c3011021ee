package store_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

func TestLeaseIsExclusiveUntilItLapses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		steps := []struct {
			holder string
			ttl    time.Duration
			want   bool
		}{
			{"node-a", time.Hour, true},
			{"node-b", time.Hour, false},
			{"node-a", time.Hour, true}, // renew
			{"node-a", -time.Second, true},
			{"node-b", time.Hour, true}, // a's lease lapsed
			{"node-a", time.Hour, false},
		}
		for i, s := range steps {
			got, err := db.AcquireLease(ctx, "job", s.holder, s.ttl)
			if err != nil {
				t.Fatal(err)
			}
			if got != s.want {
				t.Fatalf("step %d: %s acquire = %v, want %v", i, s.holder, got, s.want)
			}
		}
	})
}

func TestInTxRollsBackOnErrorAndMapsConflicts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)", "x", "h", 1); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx error = %v, want boom", err)
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM leases").Scan(&n); err != nil || n != 0 {
			t.Fatalf("after rollback: %d rows, err %v", n, err)
		}
		if _, err := db.Exec(ctx, "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)", "x", "h", 1); err != nil {
			t.Fatal(err)
		}
		_, err = db.Exec(ctx, "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)", "x", "h", 1)
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate insert error = %v, want ErrConflict", err)
		}
		if err := db.QueryRow(ctx, "SELECT holder FROM leases WHERE name = ?", "nope").Scan(new(string)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing row error = %v, want ErrNotFound", err)
		}
	})
}

func TestRebindLeavesQuotedQuestionMarks(t *testing.T) {
	db := storetest.SQLite(t)
	if got := db.Rebind("SELECT '?' , ?"); got != "SELECT '?' , ?" {
		t.Fatalf("sqlite rebind changed query: %q", got)
	}
}

func TestReopenKeepsSchemaVersion(t *testing.T) {
	url := storetest.PostgresURL(t)
	for i := 0; i < 2; i++ {
		db, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		db.Close()
	}
}

func TestOpenExistingNeverMigrates(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/veche.db"
	ctx := context.Background()
	if _, err := store.OpenExisting(ctx, path); !errors.Is(err, store.ErrSchemaVersion) {
		t.Fatalf("OpenExisting on a new file = %v, want ErrSchemaVersion", err)
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = store.OpenExisting(ctx, path)
	if err != nil {
		t.Fatalf("OpenExisting on a current database: %v", err)
	}
	// A database one migration behind is refused, not migrated.
	if _, err := db.Exec(ctx, "DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := store.OpenExisting(ctx, path); !errors.Is(err, store.ErrSchemaVersion) {
		t.Fatalf("OpenExisting on an older schema = %v, want ErrSchemaVersion", err)
	}
}

// TestPreparedStatementsBehaveAsUnprepared: the statements SQLite keeps
// prepared give the same answers as running the text: in and out of
// transactions, a transaction reading its own writes, a rolled-back write
// gone, an error reported as the error, a text of several statements run
// whole, and more distinct queries than the cache holds.
func TestPreparedStatementsBehaveAsUnprepared(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if db.Dialect() == store.SQLite {
			if _, err := db.Exec(ctx, "CREATE TABLE prep_t (a INTEGER NOT NULL UNIQUE); INSERT INTO prep_t (a) VALUES (1)"); err != nil {
				t.Fatal(err)
			}
		} else {
			for _, q := range []string{"CREATE TABLE prep_t (a INTEGER NOT NULL UNIQUE)", "INSERT INTO prep_t (a) VALUES (1)"} {
				if _, err := db.Exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}
		count := func(q func(ctx context.Context, query string, args ...any) *store.Row) int {
			var n int
			if err := q(ctx, "SELECT COUNT(*) FROM prep_t WHERE a >= ?", 0).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for range 3 { // the same text, again and again
			if n := count(db.QueryRow); n != 1 {
				t.Fatalf("rows: %d, want 1 (the second statement of the text ran?)", n)
			}
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO prep_t (a) VALUES (?)", 2); err != nil {
				return err
			}
			if n := count(tx.QueryRow); n != 2 {
				t.Errorf("in the transaction: %d rows, want its own write too", n)
			}
			return errors.New("roll back")
		})
		if err == nil || count(db.QueryRow) != 1 {
			t.Fatalf("after a rollback: %v, %d rows", err, count(db.QueryRow))
		}
		if _, err := db.Exec(ctx, "INSERT INTO prep_t (a) VALUES (?)", 1); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a duplicate through a prepared statement: %v, want ErrConflict", err)
		}
		if _, err := db.Query(ctx, "SELECT nope FROM prep_t"); err == nil {
			t.Fatal("a query that cannot prepare ran")
		}
		for i := range 1100 { // past the cache's bound
			want := 1 // the one row, a = 1
			if i == 1 {
				want = 0
			}
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM prep_t WHERE a <> "+strconv.Itoa(i)+" AND a >= ?", 0).Scan(&n); err != nil || n != want {
				t.Fatalf("distinct query %d: %d rows, %v; want %d", i, n, err, want)
			}
		}
	})
}
