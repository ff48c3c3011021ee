package backup_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/veche/veche/internal/backup"
	"github.com/veche/veche/internal/store"
)

const benchRows = 100_000

// seed writes benchRows rows: security events like those a busy instance
// records (about 150 bytes each), and one in a hundred an account with a
// sealed secret.
func seed(b *testing.B, db *store.DB) {
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *store.Tx) error {
		accounts := benchRows / 100
		for i := 0; i < accounts; i += 500 {
			var q strings.Builder
			var args []any
			q.WriteString("INSERT INTO accounts (email, password_hash, created_at, password_changed_at) VALUES ")
			for j := i; j < min(i+500, accounts); j++ {
				if j > i {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?)")
				args = append(args, fmt.Sprintf("person%06d@example.org", j), "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$"+strings.Repeat("h", 43), int64(j), int64(j))
			}
			if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		for i := 0; i < benchRows-accounts; i += 1000 {
			var q strings.Builder
			var args []any
			q.WriteString("INSERT INTO security_events (at, kind, ip, account, route, detail) VALUES ")
			for j := i; j < min(i+1000, benchRows-accounts); j++ {
				if j > i {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?)")
				args = append(args, 1700000000000000+int64(j), "signin_failed", fmt.Sprintf("198.51.%d.%d", j/250%250, j%250),
					fmt.Sprintf("account:%022d", j%9973), "/signin", "wrong password; Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0")
			}
			if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBackup100k backs up, verifies and restores 100,000 rows on each
// engine; the numbers are in docs/backup.md.
func BenchmarkBackup100k(b *testing.B) {
	ctx := context.Background()
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			src := e.open(b)
			seed(b, src)
			var file []byte
			b.Run("write", func(b *testing.B) {
				// One buffer for all iterations, so its growth is not timed.
				buf := bytes.NewBuffer(make([]byte, 0, 32<<20))
				for b.Loop() {
					buf.Reset()
					if _, err := backup.Write(ctx, src, buf, testKey.Recipient()); err != nil {
						b.Fatal(err)
					}
					file = buf.Bytes()
				}
				b.ReportMetric(float64(len(file)), "bytes")
				b.ReportMetric(benchRows/(b.Elapsed().Seconds()/float64(b.N)), "rows/s")
			})
			b.Run("verify", func(b *testing.B) {
				for b.Loop() {
					if _, err := backup.Verify(bytes.NewReader(file), testKey); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(benchRows/(b.Elapsed().Seconds()/float64(b.N)), "rows/s")
			})
			b.Run("restore", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					dst := e.open(b)
					b.StartTimer()
					m, err := backup.Restore(ctx, dst, bytes.NewReader(file), backup.RestoreOptions{}, testKey)
					if err != nil {
						b.Fatal(err)
					}
					if m.Rows() < benchRows {
						b.Fatalf("restored %d rows", m.Rows())
					}
				}
				b.ReportMetric(benchRows/(b.Elapsed().Seconds()/float64(b.N)), "rows/s")
			})
		})
	}
}
