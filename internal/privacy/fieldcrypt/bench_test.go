package fieldcrypt

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// Run with: go test -run '^$' -bench . -benchmem ./internal/privacy/fieldcrypt/
// (SQLite; results and the machine in docs/privacy-encryption.md).

var benchEmail = []byte("citizen.number042@example.org") // 29 bytes

// personRecord is eight fields of one person as a sign-up stores them.
var personRecord = []struct {
	col, val string
}{
	{"email", "citizen.number042@example.org"},
	{"given_name", "Аляксандра"},
	{"family_name", "Васілеўская"},
	{"street", "вуліца Скарыны 12-34"},
	{"postcode", "220030"},
	{"city", "Мінск"},
	{"phone", "+375 29 123 45 67"},
	{"birth_date", "1987-03-14"},
}

// BenchmarkAESGCMBaseline is the floor: AES-256-GCM from crypto/cipher
// on the same short field, no key lookup.
func BenchmarkAESGCMBaseline(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	blk, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(blk)
	nonce := make([]byte, 12)
	ad := associatedData("account:42", email)
	for b.Loop() {
		rand.Read(nonce)
		g.Seal(nil, nonce, benchEmail, ad)
	}
}

func benchService(b *testing.B, cacheSize int) (*Service, *store.DB) {
	db := storetest.SQLite(b)
	kr, err := OpenLocalKeyring(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return New(db, kr, testIndexKey, Options{CacheSize: cacheSize}), db
}

// inTx runs the benchmark loop inside one transaction, so the numbers are
// the field encryption and not the transaction.
func inTx(b *testing.B, db *store.DB, fn func(tx *store.Tx)) {
	err := db.InTx(context.Background(), func(tx *store.Tx) error { fn(tx); return nil })
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkSealShortField(b *testing.B) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		cache int
	}{{"warm", 0}, {"cold", -1}} {
		b.Run(c.name, func(b *testing.B) {
			s, db := benchService(b, c.cache)
			seal(b, s, "account:42", email, "x")
			inTx(b, db, func(tx *store.Tx) {
				for b.Loop() {
					if _, err := s.Seal(ctx, tx, "account:42", email, benchEmail); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
	b.Run("new-person", func(b *testing.B) {
		s, db := benchService(b, 0)
		i := 0
		inTx(b, db, func(tx *store.Tx) {
			for b.Loop() {
				i++
				if _, err := s.Seal(ctx, tx, fmt.Sprint("account:", i), email, benchEmail); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func BenchmarkOpenShortField(b *testing.B) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		cache int
	}{{"warm", 0}, {"cold", -1}} {
		b.Run(c.name, func(b *testing.B) {
			s, _ := benchService(b, c.cache)
			ct := seal(b, s, "account:42", email, string(benchEmail))
			for b.Loop() {
				if _, err := s.Open(ctx, "account:42", email, ct); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("cold-vault", func(b *testing.B) {
		fake, srv := newFakeTransit(b, "veche")
		kr, err := NewVaultTransitKeyring(ctx, VaultConfig{Address: srv.URL, Key: "veche", Token: fake.token, Client: srv.Client()})
		if err != nil {
			b.Fatal(err)
		}
		s := New(storetest.SQLite(b), kr, nil, Options{CacheSize: -1})
		ct := seal(b, s, "account:42", email, string(benchEmail))
		for b.Loop() {
			if _, err := s.Open(ctx, "account:42", email, ct); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPersonRecord seals or opens the eight fields of one person's
// record per op, each person a different subject (1000 people).
func BenchmarkPersonRecord(b *testing.B) {
	ctx := context.Background()
	const people = 1000
	// warm: every key cached; first-view: the cache is on but the person
	// was not seen within CacheTTL (one unwrap per record); cold: no cache
	// (one unwrap per field).
	for _, c := range []struct {
		name  string
		cache int
	}{{"warm", 0}, {"first-view", 0}, {"cold", -1}} {
		s, db := benchService(b, c.cache)
		cts := make([][][]byte, people)
		inTx(b, db, func(tx *store.Tx) {
			for p := range people {
				for _, f := range personRecord {
					ct, err := s.Seal(ctx, tx, fmt.Sprint("account:", p), FieldRef{"people", f.col, fmt.Sprint(p)}, []byte(f.val))
					if err != nil {
						b.Fatal(err)
					}
					cts[p] = append(cts[p], ct)
				}
			}
		})
		if c.name == "warm" { // warm every key
			for p := range people {
				s.Open(ctx, fmt.Sprint("account:", p), FieldRef{"people", "email", fmt.Sprint(p)}, cts[p][0])
			}
		}
		b.Run("seal-"+c.name, func(b *testing.B) {
			p := 0
			inTx(b, db, func(tx *store.Tx) {
				for b.Loop() {
					p = (p + 1) % people
					if c.name == "first-view" {
						s.cache.invalidate(fmt.Sprint("account:", p))
					}
					for _, f := range personRecord {
						if _, err := s.Seal(ctx, tx, fmt.Sprint("account:", p), FieldRef{"people", f.col, fmt.Sprint(p)}, []byte(f.val)); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run("open-"+c.name, func(b *testing.B) {
			p := 0
			for b.Loop() {
				p = (p + 1) % people
				if c.name == "first-view" {
					s.cache.invalidate(fmt.Sprint("account:", p))
				}
				for i, f := range personRecord {
					if _, err := s.Open(ctx, fmt.Sprint("account:", p), FieldRef{"people", f.col, fmt.Sprint(p)}, cts[p][i]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkErase shows that erasing a person costs the same however much
// they wrote: it destroys one key and touches none of their rows. Between
// iterations (timer stopped) the person gets a key again, their rows stay.
func BenchmarkErase(b *testing.B) {
	ctx := context.Background()
	for _, items := range []int{10, 10000} {
		b.Run(fmt.Sprint("items=", items), func(b *testing.B) {
			s, db := benchService(b, 0)
			if _, err := db.Exec(ctx, "CREATE TABLE comments (id INTEGER PRIMARY KEY, subject TEXT NOT NULL, body BLOB NOT NULL)"); err != nil {
				b.Fatal(err)
			}
			const sub = "account:42"
			inTx(b, db, func(tx *store.Tx) {
				for i := range items {
					f := FieldRef{"comments", "body", fmt.Sprint(i)}
					ct, err := s.Seal(ctx, tx, sub, f, []byte("a comment of some length, as people write them"))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := tx.Exec(ctx, "INSERT INTO comments (id, subject, body) VALUES (?, ?, ?)", i, sub, ct); err != nil {
						b.Fatal(err)
					}
				}
			})
			for b.Loop() {
				if err := db.InTx(ctx, func(tx *store.Tx) error { return s.Erase(ctx, tx, sub) }); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if _, err := db.Exec(ctx, "DELETE FROM subject_keys WHERE subject = ?", sub); err != nil {
					b.Fatal(err)
				}
				seal(b, s, sub, email, "x")
				b.StartTimer()
			}
		})
	}
}
