package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// The participation benchmarks of docs/performance.md. Both drive real
// HTTP (TLS, the full middleware chain, sessions) against SQLite and, when
// VECHE_TEST_POSTGRES is set, PostgreSQL:
//
//	go test -run '^$' -bench 'ConsultationPage|PetitionSigning' -benchtime 2000x ./internal/web/

func benchDBs(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, storetest.Postgres(b)) })
}

// benchAccounts inserts n verified accounts directly (no password work).
func benchAccounts(b *testing.B, db *store.DB, n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		if err := db.QueryRow(context.Background(), `INSERT INTO accounts (email, email_index, password_hash, created_at, password_changed_at, email_verified)
			VALUES ('', ?, 'h', 0, 0, TRUE) RETURNING id`, []byte(fmt.Sprintf("bench-%d", i))).Scan(&ids[i]); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// openBenchProcess creates a process open for a day, as official.
func openBenchProcess(b *testing.B, e *testEnv, official int64) *participation.Process {
	now := e.clock()
	p, err := e.part.CreateProcess(context.Background(), official, participation.ProcessInput{Title: "Bench",
		Phases: []participation.PhaseInput{{Name: "Open", Starts: now.Add(-time.Hour), Ends: now.Add(24 * time.Hour)}}})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// latencyMetrics reports p50 and p99 of lat in milliseconds.
func latencyMetrics(b *testing.B, lat []time.Duration, prefix string) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, prefix+"p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, prefix+"p99-ms")
}

// BenchmarkConsultationPage serves the page of a consultation holding
// 10,000 comments by 1,000 people (20 threads a page, each body decrypted
// under its author's key), and the page of its process.
func BenchmarkConsultationPage(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *store.DB) {
		e := newTestEnv(b, db, nil)
		ctx := context.Background()
		official := e.createUser("official@example.org", identity.RoleOfficial)
		p := openBenchProcess(b, e, official)
		space, err := consultation.New(e.part).Create(ctx, official, consultation.Input{ProcessID: p.ID, PhaseID: p.Phases[0].ID,
			Title: "Bench", Document: "Intro\n\n## One\nText\n\n## Two\nText\n"})
		if err != nil {
			b.Fatal(err)
		}
		authors := benchAccounts(b, db, 1000)
		const comments = 10000
		for start := 0; start < comments; start += 500 {
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				for i := start; i < start+500; i++ {
					author := authors[i%len(authors)]
					var id int64
					if err := tx.QueryRow(ctx, `INSERT INTO comments (space_id, author_id, body_sealed, status, created_at) VALUES (?, ?, ?, 'published', ?) RETURNING id`,
						space, author, []byte{}, store.Micros(e.clock())).Scan(&id); err != nil {
						return err
					}
					sealed, err := e.part.Seal(ctx, tx, author, "comments", "body_sealed", id, fmt.Sprintf("Comment %d: plant more trees along the river, with **benches**.", i))
					if err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, "UPDATE comments SET body_sealed = ?, thread_id = ? WHERE id = ?", sealed, id, id); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
		// A running instance has statistics on its tables (PostgreSQL's
		// autovacuum analyses a table after 10 % of it changed, and its
		// vacuum lets the count read the index alone); a bulk load just
		// before the first request has none yet.
		analyse := "ANALYZE"
		if db.Dialect() == store.Postgres {
			analyse = "VACUUM ANALYZE comments"
		}
		if _, err := db.Exec(ctx, analyse); err != nil {
			b.Fatal(err)
		}
		client := e.browser().c
		for _, page := range []struct{ name, path string }{
			{"consultation", fmt.Sprintf("/consultations/%d", space)},
			{"process", fmt.Sprintf("/processes/%d", p.ID)},
		} {
			b.Run(page.name, func(b *testing.B) {
				get := func() time.Duration {
					t0 := time.Now()
					resp, err := client.Get(e.srv.URL + page.path)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("status %d", resp.StatusCode)
					}
					return time.Since(t0)
				}
				get() // warm the key cache, as a running instance has it
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for range b.N {
					lat = append(lat, get())
				}
				b.StopTimer()
				latencyMetrics(b, lat, "")
			})
		}
	})
}

// BenchmarkPetitionSigning signs petitions over the JSON API from 16
// concurrent clients, as 500 signed-in people spread over the petitions
// (each signature its own transaction with eligibility, the unique
// signature row, the sharded count and an audit entry). The baseline is a
// bare net/http handler doing one INSERT on the same database.
func BenchmarkPetitionSigning(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *store.DB) {
		const people, workers = 500, 16
		e := newTestEnv(b, db, nil)
		ctx := context.Background()
		official := e.createUser("official@example.org", identity.RoleOfficial)
		p := openBenchProcess(b, e, official)
		svc := petition.New(e.part)
		space, err := svc.CreateSpace(ctx, official, petition.SpaceInput{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Bench", Threshold: 1000, ResponseDays: 30})
		if err != nil {
			b.Fatal(err)
		}
		tokens := make([]string, people)
		for i := range tokens {
			email := fmt.Sprintf("signer%d@example.org", i)
			e.createUser(email)
			res, _, err := e.id.SignIn(ctx, email, testPassword, identity.KindAPI, identity.ClientMeta{})
			if err != nil {
				b.Fatal(err)
			}
			tokens[i] = res.Token
		}
		petitions := make([]int64, (b.N+people-1)/people)
		for i := range petitions {
			pt, err := svc.File(ctx, official, space, petition.Input{Title: fmt.Sprintf("Petition %d", i), Body: "Please."})
			if err != nil {
				b.Fatal(err)
			}
			petitions[i] = pt.ID
		}
		client := e.apiCaller().c
		sign := func(i int) time.Duration {
			req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/api/v1/petitions/%d/signature", e.srv.URL, petitions[i/people]), strings.NewReader("{}"))
			req.Header.Set("Authorization", "Bearer "+tokens[i%people])
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return 0
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("signature %d: status %d", i, resp.StatusCode)
			}
			return time.Since(t0)
		}
		lat, elapsed := runConcurrently(b, workers, sign)

		// The baseline: the same number of requests at the same
		// concurrency, each one INSERT through database/sql.
		if _, err := db.Exec(ctx, `CREATE TABLE bench_plain (petition_id BIGINT NOT NULL, account_id BIGINT NOT NULL, signed_at BIGINT NOT NULL)`); err != nil {
			b.Fatal(err)
		}
		plain := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := db.Exec(r.Context(), "INSERT INTO bench_plain (petition_id, account_id, signed_at) VALUES (?, ?, ?)", 1, 1, time.Now().UnixMicro()); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.WriteHeader(http.StatusCreated)
		}))
		defer plain.Close()
		pc := plain.Client()
		insert := func(int) time.Duration {
			req, _ := http.NewRequest("PUT", plain.URL, nil)
			t0 := time.Now()
			resp, err := pc.Do(req)
			if err != nil {
				b.Error(err)
				return 0
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return time.Since(t0)
		}
		plainLat, plainElapsed := runConcurrently(b, workers, insert)
		// Reported last: ResetTimer in runConcurrently drops metrics.
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "signatures/s")
		latencyMetrics(b, lat, "")
		b.ReportMetric(float64(b.N)/plainElapsed.Seconds(), "bare-inserts/s")
		latencyMetrics(b, plainLat, "bare-")
		b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
	})
}

// runConcurrently calls do(0..b.N-1) from workers goroutines and returns
// each call's latency and the wall time.
func runConcurrently(b *testing.B, workers int, do func(i int) time.Duration) ([]time.Duration, time.Duration) {
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	t0 := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				lat[i] = do(i)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	return lat, elapsed
}
