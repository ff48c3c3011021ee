package privacy_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

func TestEveryTimeLimitedTableHasAClock(t *testing.T) {
	for _, f := range privacy.Fields {
		if f.Retention.Keep > 0 {
			if _, ok := privacy.RetentionClocks[f.Table]; !ok {
				t.Errorf("%s.%s is kept for %v but table %s has no retention clock", f.Table, f.Column, f.Retention.Keep, f.Table)
			}
		}
	}
}

// TestRetentionJobAnonymisesAndDeletesOnlyExpiredRows puts rows on both
// sides of each time limit, runs the job, and checks what is left and that
// the run is in the audit log with its counts.
func TestRetentionJobAnonymisesAndDeletesOnlyExpiredRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		skey, vkey, _ := note.GenerateKey(rand.Reader, "veche.test/log")
		signer, _ := note.NewSigner(skey)
		log := auditlog.New(db, signer, vkey, auditlog.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
		old, fresh := store.Micros(now.AddDate(-1, 0, -1)), store.Micros(now.AddDate(0, -11, 0))
		for _, at := range []int64{old, old, fresh} {
			if _, err := db.Exec(ctx, `INSERT INTO security_events (at, kind, ip, account, route, detail) VALUES (?, 'signin_failed', '203.0.113.9', 'account:abc', '/signin', 'x')`, at); err != nil {
				t.Fatal(err)
			}
		}
		var acct int64
		db.QueryRow(ctx, `INSERT INTO accounts (email, password_hash, created_at, password_changed_at) VALUES ('a@example.org', 'h', 0, 0) RETURNING id`).Scan(&acct)
		for _, at := range []int64{store.Micros(now.AddDate(-2, 0, -1)), store.Micros(now.AddDate(-1, 0, 0))} {
			if _, err := db.Exec(ctx, `INSERT INTO access_log (at, subject_account, reader_account, reader_role, data, purpose) VALUES (?, ?, ?, 'admin', 'accounts.email', 'support')`, at, acct, acct); err != nil {
				t.Fatal(err)
			}
		}
		job := privacy.NewRetentionJob(db, log)
		job.SetClock(func() time.Time { return now })
		res, err := job.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, r := range res {
			got[r.Table+"."+string(r.Action)] = r.Rows
		}
		if got["security_events.anonymise"] != 2 || got["access_log.delete"] != 1 {
			t.Fatalf("run results %v; want 2 events anonymised and 1 access-log row deleted", got)
		}
		var blanked, kept int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM security_events WHERE ip = '' AND account = '' AND route = '' AND detail = '' AND kind = 'signin_failed'").Scan(&blanked)
		db.QueryRow(ctx, "SELECT COUNT(*) FROM security_events WHERE ip = '203.0.113.9'").Scan(&kept)
		if blanked != 2 || kept != 1 {
			t.Fatalf("%d anonymised (want 2, kind and time kept) and %d untouched (want 1)", blanked, kept)
		}
		var left int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM access_log").Scan(&left)
		if left != 1 {
			t.Fatalf("%d access-log rows left, want 1", left)
		}
		// A second run finds nothing to do, and still leaves its record.
		res, _ = job.Run(ctx)
		for _, r := range res {
			if r.Rows != 0 {
				t.Fatalf("second run changed %d rows of %s", r.Rows, r.Table)
			}
		}
		if _, err := log.Sequence(ctx); err != nil {
			t.Fatal(err)
		}
		rows, _ := db.Query(ctx, "SELECT entry FROM auditlog_entries ORDER BY idx")
		defer rows.Close()
		var runs []string
		for rows.Next() {
			var b []byte
			rows.Scan(&b)
			rec, _ := auditlog.ParseRecord(b)
			if rec.Action == "retention.run" {
				runs = append(runs, rec.Detail["security_events_anonymise"]+"/"+rec.Detail["access_log_delete"])
			}
		}
		if strings.Join(runs, ",") != "2/1,0/0" {
			t.Fatalf("audit entries of the runs: %v, want [2/1 0/0]", runs)
		}
	})
}
