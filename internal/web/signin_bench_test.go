package web

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pqtotp "github.com/pquerna/otp/totp"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/identity/password"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// BenchmarkSignInWithTOTP measures a complete two-step sign-in through the
// JSON API over TLS, as a client does it: POST /api/v1/sessions with the
// password, then POST /api/v1/sessions/mfa with a TOTP code, at the
// production Argon2id parameters. It reports sign-ins per second and the
// p50/p99 latency of the whole sign-in. Each sign-in uses its own account
// because a TOTP code is accepted only once.
//
//	go test -run '^$' -bench SignInWithTOTP -benchtime 400x ./internal/web/
func BenchmarkSignInWithTOTP(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchSignIn(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchSignIn(b, storetest.Postgres(b)) })
}

func benchSignIn(b *testing.B, db *store.DB) {
	saved := testHasherParams
	testHasherParams = password.DefaultParams
	defer func() { testHasherParams = saved }()
	e := newTestEnv(b, db, nil)
	ctx := context.Background()

	// Accounts share one password hash (copied in SQL: hashing thousands
	// of them would dominate set-up) and each enrols its own TOTP secret.
	hash, err := password.NewHasher(password.DefaultParams, 0).Hash(ctx, testPassword)
	if err != nil {
		b.Fatal(err)
	}
	type account struct{ email, secret string }
	accounts := make([]account, b.N)
	for i := range accounts {
		email := fmt.Sprintf("bench%d@example.org", i)
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO accounts (email, email_verified, password_hash, locale, created_at, password_changed_at)
			VALUES (?, TRUE, ?, '', 0, 0) RETURNING id`, email, hash).Scan(&id); err != nil {
			b.Fatal(err)
		}
		p := &identity.Principal{AccountID: id, Email: email}
		en, err := e.id.BeginTOTP(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		code, _ := pqtotp.GenerateCode(en.Secret, e.clock())
		if _, err := e.id.ConfirmTOTP(ctx, p, code); err != nil {
			b.Fatal(err)
		}
		accounts[i] = account{email, en.Secret}
	}
	e.advance(30 * time.Second) // the enrolment step is used up
	e.sequence()

	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	var mu sync.Mutex
	var failures []string
	b.SetParallelism(2) // 2×GOMAXPROCS clients, as many as hashing slots
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c := e.api()
		for pb.Next() {
			i := next.Add(1) - 1
			a := accounts[i]
			t0 := time.Now()
			st, out, _ := c.call("POST", "/api/v1/sessions", map[string]string{"email": a.email, "password": testPassword})
			if st != http.StatusCreated || out["mfa_required"] != true {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("password step %d %v", st, out))
				mu.Unlock()
				continue
			}
			code, _ := pqtotp.GenerateCode(a.secret, e.clock())
			c.token = out["token"].(string)
			st, out, _ = c.call("POST", "/api/v1/sessions/mfa", map[string]string{"code": code})
			c.token = ""
			if st != http.StatusCreated {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("TOTP step %d %v", st, out))
				mu.Unlock()
				continue
			}
			lat[i] = time.Since(t0)
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(failures) > 0 {
		b.Fatalf("%d of %d sign-ins failed, first: %s", len(failures), b.N, failures[0])
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "signins/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}
