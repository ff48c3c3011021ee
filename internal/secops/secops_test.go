package secops

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

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
		r := NewRecorder(db, slog.New(slog.NewTextHandler(&logBuf, nil)))
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
