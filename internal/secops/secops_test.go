package secops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

func TestLimiterThrottlesThenRefills(t *testing.T) {
	l := NewLimiter(map[string]Limit{"r": {Every: time.Minute, Burst: 3}}, []byte("k"))
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("r", "1.2.3.4"); !ok {
			t.Fatalf("attempt %d refused inside the burst", i)
		}
	}
	ok, wait := l.Allow("r", "1.2.3.4")
	if ok || wait <= 0 || wait > time.Minute {
		t.Fatalf("4th attempt: ok=%v wait=%v; want refused with a wait up to 1m", ok, wait)
	}
	if ok, _ := l.Allow("r", "5.6.7.8"); !ok {
		t.Fatal("another subject was throttled by the first one's bucket")
	}
	now = now.Add(time.Minute)
	if ok, _ := l.Allow("r", "1.2.3.4"); !ok {
		t.Fatal("no token after refill time")
	}
	if ok, _ := l.Allow("unknown-rule", "x"); !ok {
		t.Fatal("a rule without a limit refused")
	}
}

func TestLimiterMemoryStaysBounded(t *testing.T) {
	l := NewLimiter(map[string]Limit{"r": {Every: time.Hour, Burst: 1}}, []byte("k"))
	l.max = 1000
	for i := 0; i < 10_000; i++ {
		l.Allow("r", strings.Repeat("x", i%50)+string(rune(i)))
	}
	if n := len(l.buckets); n > 1000 {
		t.Fatalf("%d buckets kept, cap is 1000", n)
	}
}

func TestRecordStoresEventAndWritesFail2banLine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var logBuf bytes.Buffer
		r := NewRecorder(db, slog.New(slog.NewTextHandler(&logBuf, nil)), newCrypt(t, db))
		ctx := context.Background()
		r.Record(ctx, Event{Kind: SignInFailed, IP: "203.0.113.7", Account: "account:abc", Route: "/signin"})
		r.Record(ctx, Event{Kind: PermissionDenied, IP: "203.0.113.8", Route: "/admin/accounts", Detail: "needs roles.manage"})
		evs, err := r.Events(ctx, Filter{})
		if err != nil || len(evs) != 2 {
			t.Fatalf("Events = %v, %v", evs, err)
		}
		if evs[0].Kind != PermissionDenied || evs[1].IP != "203.0.113.7" {
			t.Fatalf("events not newest first: %+v", evs)
		}
		only, _ := r.Events(ctx, Filter{Kind: SignInFailed})
		if len(only) != 1 {
			t.Fatalf("kind filter returned %d", len(only))
		}
		line := logBuf.String()
		if !strings.Contains(line, "msg=auth_failure kind=signin_failed ip=203.0.113.7 account=account:abc route=/signin") {
			t.Fatalf("log line does not have the documented form: %q", line)
		}
		if strings.Count(line, "auth_failure") != 1 {
			t.Fatalf("permission denial wrote an auth_failure line: %q", line)
		}
		n, _ := r.Count(ctx, SignInFailed, time.Now().Add(-time.Minute))
		if n != 1 {
			t.Fatalf("Count = %d", n)
		}
	})
}

// newCrypt returns a field-encryption service with a fresh local keyring.
func newCrypt(t *testing.T, db *store.DB) *fieldcrypt.Service {
	t.Helper()
	kr, err := fieldcrypt.OpenLocalKeyring(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return fieldcrypt.New(db, kr, bytes.Repeat([]byte{7}, 32), fieldcrypt.Options{})
}

// rawEvent is a security_events row as stored.
type rawEvent struct {
	ip              string
	sealed, index   []byte
	account, detail string
}

func readRaw(t *testing.T, db *store.DB, id int64) rawEvent {
	t.Helper()
	var e rawEvent
	if err := db.QueryRow(context.Background(), "SELECT ip, ip_sealed, ip_index, account, detail FROM security_events WHERE id = ?", id).
		Scan(&e.ip, &e.sealed, &e.index, &e.account, &e.detail); err != nil {
		t.Fatal(err)
	}
	return e
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestAddressIsSealedAndFoundByBlindIndex: the stored row holds no
// address in clear, listing opens it, and the filter finds an address by
// its blind index however it is spelled.
func TestAddressIsSealedAndFoundByBlindIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := NewRecorder(db, discard(), newCrypt(t, db))
		day := time.Date(2026, 12, 2, 23, 59, 58, 0, time.UTC)
		recorded := []Event{
			{Kind: SignInFailed, IP: "203.0.113.7", Account: "account:abc", Route: "/signin"},
			{Kind: RateLimited, IP: "203.0.113.7", Route: "/signin", Detail: "signin_ip"},
			{Kind: PermissionDenied, IP: "2001:DB8:0::1", Route: "/admin"},
			{Kind: CrossOrigin, Route: "/signin"}, // no address known
		}
		for i, e := range recorded {
			r.SetClock(func() time.Time { return day.Add(time.Duration(i) * time.Second) }) // the last ones on the next day
			r.Record(ctx, e)
		}
		all, err := r.Events(ctx, Filter{})
		if err != nil || len(all) != len(recorded) {
			t.Fatalf("Events = %+v, %v", all, err)
		}
		for i, e := range all {
			want := recorded[len(recorded)-1-i]
			if e.IP != want.IP || e.IPErased || e.Kind != want.Kind || e.Account != want.Account {
				t.Errorf("event %d = %+v, want the address %q opened", e.ID, e, want.IP)
			}
			raw := readRaw(t, db, e.ID)
			if raw.ip != "" {
				t.Errorf("event %d keeps %q in the plaintext column", e.ID, raw.ip)
			}
			if want.IP == "" {
				if raw.sealed != nil || raw.index != nil {
					t.Errorf("event %d without an address has a sealed value or an index", e.ID)
				}
				continue
			}
			if len(raw.sealed) < fieldcrypt.Overhead || bytes.Contains(raw.sealed, []byte(want.IP)) || len(raw.index) != 32 {
				t.Errorf("event %d: sealed %x, index %x; want a ciphertext without the address and a 32-byte index", e.ID, raw.sealed, raw.index)
			}
		}
		var days []string
		rows, err := db.Query(ctx, "SELECT subject FROM subject_keys ORDER BY subject")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			rows.Scan(&s)
			days = append(days, s)
		}
		rows.Close()
		if want := "[security-day:2026-12-02 security-day:2026-12-03]"; fmt.Sprint(days) != want {
			t.Errorf("data keys %v, want one per UTC day of the events: %s", days, want)
		}

		tests := []struct {
			name   string
			filter Filter
			want   []EventKind
		}{
			{"an address", Filter{IP: "203.0.113.7"}, []EventKind{RateLimited, SignInFailed}},
			{"the same address mapped into IPv6", Filter{IP: "::ffff:203.0.113.7"}, []EventKind{RateLimited, SignInFailed}},
			{"an IPv6 address spelled otherwise", Filter{IP: "2001:db8::1"}, []EventKind{PermissionDenied}},
			{"an address and a kind", Filter{IP: "203.0.113.7", Kind: SignInFailed}, []EventKind{SignInFailed}},
			{"an address never seen", Filter{IP: "198.51.100.1"}, nil},
		}
		for _, tt := range tests {
			evs, err := r.Events(ctx, tt.filter)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			var got []EventKind
			for _, e := range evs {
				got = append(got, e.Kind)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("%s: kinds %v, want %v", tt.name, got, tt.want)
			}
		}
	})
}

// TestTamperedAddressFailsToOpen: an altered, truncated or moved sealed
// address fails the listing with ErrTampered; it never reads as another
// address.
func TestTamperedAddressFailsToOpen(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(sealed, other []byte) []byte
	}{
		{"a flipped bit", func(s, _ []byte) []byte { s[len(s)-1] ^= 1; return s }},
		{"truncated", func(s, _ []byte) []byte { return s[:len(s)-4] }},
		{"moved from another event of the same day", func(_, other []byte) []byte { return other }},
		{"unknown format", func(s, _ []byte) []byte { s[0] = 9; return s }},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := NewRecorder(db, discard(), newCrypt(t, db))
		for _, tt := range tests {
			r.Record(ctx, Event{Kind: SignInFailed, IP: "203.0.113.7"})
			r.Record(ctx, Event{Kind: SignInFailed, IP: "198.51.100.9"})
			evs, err := r.Events(ctx, Filter{Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			victim, other := readRaw(t, db, evs[0].ID), readRaw(t, db, evs[1].ID)
			if _, err := db.Exec(ctx, "UPDATE security_events SET ip_sealed = ? WHERE id = ?", tt.tamper(victim.sealed, other.sealed), evs[0].ID); err != nil {
				t.Fatal(err)
			}
			got, err := r.Events(ctx, Filter{})
			if !errors.Is(err, fieldcrypt.ErrTampered) {
				t.Errorf("%s: Events = %+v, %v; want ErrTampered", tt.name, got, err)
			}
			db.Exec(ctx, "DELETE FROM security_events")
		}
	})
}

// TestErasedDayReadsAsErased: once a day's key is destroyed its addresses
// read as erased, the listing still works, and other days still open.
func TestErasedDayReadsAsErased(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		crypt := newCrypt(t, db)
		r := NewRecorder(db, discard(), crypt)
		old, recent := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC), time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
		for _, at := range []time.Time{old, recent} {
			r.SetClock(func() time.Time { return at })
			r.Record(ctx, Event{Kind: SignInFailed, IP: "203.0.113.7"})
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return crypt.Erase(ctx, tx, DaySubject(old)) }); err != nil {
			t.Fatal(err)
		}
		evs, err := r.Events(ctx, Filter{})
		if err != nil || len(evs) != 2 {
			t.Fatalf("Events = %+v, %v", evs, err)
		}
		if evs[0].IP != "203.0.113.7" || evs[0].IPErased {
			t.Errorf("the event of a day whose key is kept reads %+v", evs[0])
		}
		if evs[1].IP != "" || !evs[1].IPErased {
			t.Errorf("the event of an erased day reads %+v, want the address erased", evs[1])
		}
	})
}

// failingSealer cannot seal, as when the keyring is unreachable.
type failingSealer struct{ *fieldcrypt.Service }

func (failingSealer) Seal(context.Context, *store.Tx, string, fieldcrypt.FieldRef, []byte) ([]byte, error) {
	return nil, fieldcrypt.ErrKeyUnavailable
}

// TestAddressThatCannotBeSealedIsLeftOut: the event is kept, its address
// is not, and certainly not in clear.
func TestAddressThatCannotBeSealedIsLeftOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var logBuf bytes.Buffer
		r := NewRecorder(db, slog.New(slog.NewTextHandler(&logBuf, nil)), failingSealer{newCrypt(t, db)})
		r.Record(ctx, Event{Kind: SignInFailed, IP: "203.0.113.7", Route: "/signin"})
		evs, err := r.Events(ctx, Filter{})
		if err != nil || len(evs) != 1 || evs[0].IP != "" || evs[0].Route != "/signin" {
			t.Fatalf("Events = %+v, %v; want the event without its address", evs, err)
		}
		if raw := readRaw(t, db, evs[0].ID); raw.ip != "" || raw.sealed != nil || raw.index != nil {
			t.Fatalf("raw row %+v, want no address in any form", raw)
		}
		if !strings.Contains(logBuf.String(), "stored without its address") {
			t.Errorf("the failure is not logged: %s", logBuf.String())
		}
	})
}

// TestSealLegacyRowsSealsAddressesStoredInClear: rows from before
// migration 0022 are sealed at start-up under their own day's key; one
// whose day is already erased loses its address; a second run finds
// nothing to do.
func TestSealLegacyRowsSealsAddressesStoredInClear(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		crypt := newCrypt(t, db)
		r := NewRecorder(db, discard(), crypt)
		erasedDay := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
		if err := db.InTx(ctx, func(tx *store.Tx) error { return crypt.Erase(ctx, tx, DaySubject(erasedDay)) }); err != nil {
			t.Fatal(err)
		}
		legacy := []struct {
			at time.Time
			ip string
		}{
			{time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), "203.0.113.7"},
			{time.Date(2026, 5, 2, 8, 0, 0, 0, time.UTC), "203.0.113.7"},
			{erasedDay, "198.51.100.4"},
		}
		for _, l := range legacy {
			if _, err := db.Exec(ctx, "INSERT INTO security_events (at, kind, ip) VALUES (?, 'signin_failed', ?)", store.Micros(l.at), l.ip); err != nil {
				t.Fatal(err)
			}
		}
		n, err := r.SealLegacyRows(ctx)
		if err != nil || n != 3 {
			t.Fatalf("SealLegacyRows = %d, %v; want 3", n, err)
		}
		var clear int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM security_events WHERE ip <> ''").Scan(&clear)
		if clear != 0 {
			t.Fatalf("%d rows keep their address in clear", clear)
		}
		found, err := r.Events(ctx, Filter{IP: "203.0.113.7"})
		if err != nil || len(found) != 2 || found[0].IP != "203.0.113.7" || found[1].IP != "203.0.113.7" {
			t.Fatalf("sealed legacy rows by address: %+v, %v", found, err)
		}
		if all, _ := r.Events(ctx, Filter{}); len(all) != 3 || all[0].IP != "" {
			t.Fatalf("the event of an erased day: %+v, want it kept without its address", all)
		}
		for _, subject := range []string{"security-day:2026-05-01", "security-day:2026-05-02"} {
			if erased, err := crypt.Erased(ctx, subject); err != nil || erased {
				t.Errorf("%s: erased=%v, %v; want a live key", subject, erased, err)
			}
		}
		if n, err := r.SealLegacyRows(ctx); err != nil || n != 0 {
			t.Fatalf("second SealLegacyRows = %d, %v; want 0", n, err)
		}
	})
}
