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
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/secops"
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
// the run is in the audit log with its counts. Security events' addresses
// are erased by day: the keys of days that began more than a year ago go,
// so those addresses read as erased while later ones still open.
func TestRetentionJobAnonymisesAndDeletesOnlyExpiredRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		skey, vkey, _ := note.GenerateKey(rand.Reader, "veche.test/log")
		signer, _ := note.NewSigner(skey)
		log := auditlog.New(db, signer, vkey, auditlog.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		kr, err := fieldcrypt.OpenLocalKeyring(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		crypt := fieldcrypt.New(db, kr, make([]byte, 32), fieldcrypt.Options{})
		now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC) // a year before: 2026-06-01 12:00
		events := []struct {
			at         time.Time
			ip         string
			anonymised bool // the row is past the year
			erased     bool // its day began past the year
		}{
			{time.Date(2026, 5, 31, 10, 0, 0, 0, time.UTC), "203.0.113.9", true, true},
			{time.Date(2026, 6, 1, 11, 59, 0, 0, time.UTC), "203.0.113.9", true, true},
			{time.Date(2026, 6, 1, 13, 0, 0, 0, time.UTC), "198.51.100.2", false, true}, // same day: no address kept past the year
			{time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC), "198.51.100.3", false, false},
			{time.Date(2027, 5, 1, 8, 0, 0, 0, time.UTC), "203.0.113.9", false, false},
		}
		rec := secops.NewRecorder(db, slog.New(slog.NewTextHandler(io.Discard, nil)), crypt)
		for _, e := range events {
			rec.SetClock(func() time.Time { return e.at })
			rec.Record(ctx, secops.Event{Kind: secops.SignInFailed, IP: e.ip, Account: "account:abc", Route: "/signin", Detail: "x"})
		}
		var acct int64
		db.QueryRow(ctx, `INSERT INTO accounts (email, password_hash, created_at, password_changed_at) VALUES ('a@example.org', 'h', 0, 0) RETURNING id`).Scan(&acct)
		for _, at := range []int64{store.Micros(now.AddDate(-2, 0, -1)), store.Micros(now.AddDate(-1, 0, 0))} {
			if _, err := db.Exec(ctx, `INSERT INTO access_log (at, subject_account, reader_account, reader_role, data, purpose) VALUES (?, ?, ?, 'admin', 'accounts.email', 'support')`, at, acct, acct); err != nil {
				t.Fatal(err)
			}
		}
		job := privacy.NewRetentionJob(db, log, crypt)
		job.SetClock(func() time.Time { return now })
		res, err := job.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, r := range res {
			got[r.Table+"."+string(r.Action)] = r.Rows
			if r.Keys > 0 {
				got[r.Table+".keys"] = r.Keys
			}
		}
		if got["security_events.anonymise"] != 2 || got["security_events.keys"] != 2 || got["access_log.delete"] != 1 {
			t.Fatalf("run results %v; want 2 events anonymised, 2 day keys erased and 1 access-log row deleted", got)
		}

		listed, err := rec.Events(ctx, secops.Filter{})
		if err != nil {
			t.Fatalf("the events of erased days do not list: %v", err)
		}
		if len(listed) != len(events) {
			t.Fatalf("%d events listed, want %d", len(listed), len(events))
		}
		for i, e := range listed {
			want := events[len(events)-1-i]
			wantIP := want.ip
			if want.erased {
				wantIP = ""
			}
			wantAccount := "account:abc"
			if want.anonymised {
				wantAccount = ""
			}
			if e.IP != wantIP || e.IPErased != want.erased || e.Account != wantAccount || !e.At.Equal(want.at) || e.Kind != secops.SignInFailed {
				t.Errorf("event of %v after retention: %+v; want ip %q (erased %v), account %q, time and kind kept",
					want.at, e, wantIP, want.erased, wantAccount)
			}
		}
		byAddress, err := rec.Events(ctx, secops.Filter{IP: "203.0.113.9"})
		if err != nil || len(byAddress) != 1 || byAddress[0].IP != "203.0.113.9" {
			t.Fatalf("events of 203.0.113.9 after retention: %+v, %v; want only the one within the year", byAddress, err)
		}
		var blanked int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM security_events WHERE account = '' AND route = '' AND detail = ''
			AND (ip_index IS NULL OR length(ip_index) = 0) AND ip = '' AND kind = 'signin_failed'`).Scan(&blanked)
		if blanked != 2 {
			t.Fatalf("%d rows blanked, index included; want 2", blanked)
		}
		for day, wantErased := range map[string]bool{"2026-05-31": true, "2026-06-01": true, "2026-06-02": false, "2027-05-01": false} {
			if erased, err := crypt.Erased(ctx, secops.DaySubjectPrefix+day); err != nil || erased != wantErased {
				t.Errorf("day key of %s: erased=%v, %v; want %v", day, erased, err, wantErased)
			}
		}
		var left int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM access_log").Scan(&left)
		if left != 1 {
			t.Fatalf("%d access-log rows left, want 1", left)
		}
		// A second run finds nothing to do, and still leaves its record.
		res, _ = job.Run(ctx)
		for _, r := range res {
			if r.Rows != 0 || r.Keys != 0 {
				t.Fatalf("second run changed %d rows and erased %d keys of %s", r.Rows, r.Keys, r.Table)
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
				runs = append(runs, rec.Detail["security_events_anonymise"]+"/"+rec.Detail["security_events_keys_erased"]+"/"+rec.Detail["access_log_delete"])
			}
		}
		if strings.Join(runs, ",") != "2/2/1,0/0/0" {
			t.Fatalf("audit entries of the runs: %v, want [2/2/1 0/0/0]", runs)
		}
	})
}

// TestEveryTimeLimitedSealedFieldHasDayKeys: the job expires a sealed
// field by erasing keys, which it can do only for tables sealed under day
// keys; a person's key also seals their other data.
func TestEveryTimeLimitedSealedFieldHasDayKeys(t *testing.T) {
	for _, f := range privacy.Fields {
		if f.Retention.Keep > 0 && f.AtRest == privacy.Sealed && privacy.RetentionDayKeys[f.Table] == "" {
			t.Errorf("%s.%s is sealed and kept for %v, but table %s has no day keys (privacy.RetentionDayKeys) for retention to erase",
				f.Table, f.Column, f.Retention.Keep, f.Table)
		}
	}
}
