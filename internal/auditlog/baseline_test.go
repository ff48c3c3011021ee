package auditlog

import (
	"context"
	"testing"
	"time"

	"github.com/veche/veche/internal/store"
)

// BenchmarkAppendUnsequenced is the floor under BenchmarkAppend: the
// same parallel one-entry transactions with no sequencer running, i.e.
// what the database does for bare single-row commits on this machine.
func BenchmarkAppendUnsequenced(b *testing.B) {
	benchEach(b, func(b *testing.B, db *store.DB) {
		tl := newTestLog(b, db, Options{Now: time.Now})
		ctx := context.Background()
		e := Entry{Action: "bench.appended", Detail: map[string]string{"n": "123456"}}
		b.SetParallelism(writersPerProc)
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := db.InTx(ctx, func(tx *store.Tx) error { return tl.Append(ctx, tx, e) }); err != nil {
					b.Error(err)
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
	})
}
