package auditlog

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// Run with, for example:
//
//	VECHE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test \
//	  go test -run '^$' -bench . -benchtime 20000x ./internal/auditlog/
//
// Numbers for one machine are in docs/audit-log.md.

func benchEach(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, storetest.Postgres(b)) })
	// The same PostgreSQL with synchronous_commit=off for these sessions:
	// commits return before their WAL reaches disk (a crash loses the last
	// moments of commits, never consistency), which shows what the log
	// costs once commit latency is not the limit.
	b.Run("postgres-async-commit", func(b *testing.B) {
		db, err := store.Open(context.Background(), storetest.PostgresURL(b)+"&synchronous_commit=off")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		fn(b, db)
	})
}

// writersPerProc is the b.SetParallelism factor: many concurrent request
// handlers per core, each committing its own transaction.
var writersPerProc = envInt("VECHE_BENCH_WRITERS_PER_PROC", 16)

// BenchmarkAppend measures sustained throughput: parallel writers each
// commit b.N transactions in total, one entry each, while Run sequences;
// the clock stops when a published checkpoint covers every entry. It also
// reports commit-to-checkpoint latency under that load.
func BenchmarkAppend(b *testing.B) {
	benchEach(b, func(b *testing.B, db *store.DB) {
		runLoad(b, db, func(write func(n int)) {
			var next atomic.Int64
			b.SetParallelism(writersPerProc)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					write(int(next.Add(1) - 1))
				}
			})
		})
	})
}

// BenchmarkCheckpointLatency measures commit-to-checkpoint latency at a
// steady 1,000 entries/s (a busy day for a public body), offered by a
// pacer to a pool of writers so that one slow commit does not hold back
// the rate.
func BenchmarkCheckpointLatency(b *testing.B) {
	benchEach(b, func(b *testing.B, db *store.DB) {
		runLoad(b, db, func(write func(n int)) {
			work := make(chan int, b.N)
			var wg sync.WaitGroup
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := range work {
						write(n)
					}
				}()
			}
			tick := time.NewTicker(time.Millisecond)
			for i := 0; i < b.N; i++ {
				<-tick.C
				work <- i
			}
			tick.Stop()
			close(work)
			wg.Wait()
		})
	})
}

// runLoad starts the sequencer, runs load (which calls write(n) for n in
// [0, b.N), each call committing one entry), waits until a checkpoint
// covers all entries and reports entries/s and the p50/p99 time from an
// entry's commit to the first published checkpoint that covers it.
func runLoad(b *testing.B, db *store.DB, load func(write func(n int))) {
	tl := newTestLog(b, db, Options{Now: time.Now})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type publish struct {
		size int64
		at   time.Time
	}
	var (
		mu         sync.Mutex
		publishes  []publish
		covered    = make(chan struct{})
		commitTime = make([]time.Time, b.N)
		want       = int64(b.N)
	)
	tl.onPublish = func(size int64, at time.Time) {
		mu.Lock()
		publishes = append(publishes, publish{size, at})
		mu.Unlock()
		if size == want {
			close(covered)
		}
	}
	running := make(chan struct{})
	go func() { tl.Run(ctx); close(running) }()
	defer func() { cancel(); <-running }()
	// Let Run take the lease before the clock starts.
	for !leaseHeld(b, db) {
		time.Sleep(time.Millisecond)
	}

	write := func(n int) {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			// Registered before Append's own hook, so the commit time is
			// taken before the sequencer is woken.
			tx.AfterCommit(func() { commitTime[n] = time.Now() })
			return tl.Append(ctx, tx, Entry{Action: "bench.appended", Detail: map[string]string{"n": strconv.Itoa(n)}})
		})
		if err != nil {
			b.Error(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	load(write)
	select {
	case <-covered:
	case <-time.After(2 * time.Minute):
		b.Fatalf("entries not covered by a checkpoint after 2 minutes")
	}
	elapsed := time.Since(start)
	b.StopTimer()

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "entries/s")
	mu.Lock()
	defer mu.Unlock()
	lat := latencies(b, db, commitTime, func(idx int64) time.Time {
		i, _ := slices.BinarySearchFunc(publishes, idx+1, func(p publish, size int64) int {
			return int(p.size - size)
		})
		return publishes[i].at
	})
	b.ReportMetric(float64(lat[len(lat)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100])/1e6, "p99-ms")
	b.ReportMetric(float64(len(publishes)), "checkpoints")
}

func leaseHeld(b *testing.B, db *store.DB) bool {
	var n int
	if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM leases WHERE name = ?", leaseName).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n == 1
}

// latencies maps each log index back to the writer's entry number (in the
// entry's detail) and returns the sorted commit-to-checkpoint delays.
func latencies(b *testing.B, db *store.DB, commitTime []time.Time, coveredAt func(idx int64) time.Time) []time.Duration {
	rows, err := db.Query(context.Background(), "SELECT idx, entry FROM auditlog_entries")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var lat []time.Duration
	for rows.Next() {
		var (
			idx int64
			e   []byte
		)
		if err := rows.Scan(&idx, &e); err != nil {
			b.Fatal(err)
		}
		r, err := ParseRecord(e)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := strconv.Atoi(r.Detail["n"])
		lat = append(lat, max(0, coveredAt(idx).Sub(commitTime[n])))
	}
	if len(lat) != len(commitTime) {
		b.Fatalf("%d entries in the log, %d written", len(lat), len(commitTime))
	}
	slices.Sort(lat)
	return lat
}

// BenchmarkSequence measures the sequencer alone: b.N entries are already
// pending, and the clock runs while Sequence moves them into the tree.
func BenchmarkSequence(b *testing.B) {
	benchEach(b, func(b *testing.B, db *store.DB) {
		tl := newTestLog(b, db, Options{})
		ctx := context.Background()
		entry, err := Entry{Action: "bench.appended", Detail: map[string]string{"n": "123456"}}.Encode(time.Now())
		if err != nil {
			b.Fatal(err)
		}
		for done := 0; done < b.N; {
			k := min(b.N-done, rowsPerStatement)
			args := make([]any, k)
			for i := range args {
				args[i] = entry
			}
			q := "INSERT INTO auditlog_pending (entry) VALUES " + strings.TrimSuffix(strings.Repeat("(?),", k), ",")
			if _, err := db.Exec(ctx, q, args...); err != nil {
				b.Fatal(err)
			}
			done += k
		}
		b.ResetTimer()
		start := time.Now()
		n, err := tl.Sequence(ctx)
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil || n != b.N {
			b.Fatalf("Sequence = %d, %v; want %d", n, err, b.N)
		}
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "entries/s")
	})
}

// BenchmarkServeTile measures reading one full hash tile from the database.
func BenchmarkServeTile(b *testing.B) {
	benchEach(b, func(b *testing.B, db *store.DB) {
		tl := newTestLog(b, db, Options{})
		tl.appendN(b, "x", 512)
		tl.sequence(b)
		h := tl.Handler()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", fmt.Sprintf("/tile/0/%03d", i%2), nil))
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
