package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/veche/veche/internal/backup"
	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

var budgetTotal = dp.Cost{Epsilon: big.NewRat(1, 1), Delta: big.NewRat(1, 1000000)}

func charge(dataset, eps string, rho *big.Rat) []dp.Charge {
	e, _ := new(big.Rat).SetString(eps)
	c := dp.Charge{Dataset: dataset, Mechanism: "discrete-laplace", Cost: dp.Cost{Epsilon: e, Delta: new(big.Rat)}, Initial: budgetTotal}
	if rho != nil {
		c.Mechanism, c.Rho, c.Cost.Delta = "discrete-gaussian", rho, big.NewRat(1, 10000000)
	}
	return []dp.Charge{c}
}

// ledgerHistory is an instance that spent budget, was backed up, and spent
// more: the key backups made before and after the data backup, and one
// of the first format, which carries no ledger.
type ledgerHistory struct {
	src                          *store.DB
	data                         []byte
	dataAt                       time.Time
	keysBefore, keysAfter, keys1 []byte
}

func makeLedgerHistory(t *testing.T, src *store.DB) *ledgerHistory {
	t.Helper()
	ctx := context.Background()
	h := &ledgerHistory{src: src}
	l := dp.NewLedger(src)
	if _, err := src.Exec(ctx, "INSERT INTO subject_keys (subject, keyset, kek_version, created_at) VALUES ('account:1', ?, 'v1', 1)", []byte("wrapped")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Spend(ctx, charge("accounts-by-month", "1/2", nil), nil); err != nil {
		t.Fatal(err)
	}
	h.keysBefore = writeKeys(t, src)
	var m *backup.Manifest
	h.data, m = write(t, src)
	h.dataAt = m.CreatedAt
	// After the data backup: a Gaussian release of the same dataset, and
	// the first release of a dataset the data backup knows nothing of.
	if _, err := l.Spend(ctx, charge("accounts-by-month", "1/4", big.NewRat(1, 100)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Spend(ctx, charge("security-events-by-day", "1/2", nil), nil); err != nil {
		t.Fatal(err)
	}
	h.keysAfter = writeKeys(t, src)
	var plain, sealed bytes.Buffer
	if err := fieldcrypt.ExportKeys(ctx, src, &plain); err != nil {
		t.Fatal(err)
	}
	w, _ := age.Encrypt(&sealed, testKey.Recipient())
	w.Write(plain.Bytes())
	w.Close()
	h.keys1 = sealed.Bytes()
	return h
}

func writeKeys(t *testing.T, db *store.DB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := backup.WriteKeys(context.Background(), db, &b, testKey.Recipient()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func spent(t *testing.T, db *store.DB, dataset string) string {
	t.Helper()
	b, err := dp.NewLedger(db).Budget(context.Background(), dataset)
	if errors.Is(err, store.ErrNotFound) {
		return "none"
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Spent.Epsilon.RatString()
}

// Releases made after a data backup are not forgotten when it is
// restored: the key backup made after it carries them, and restoring it
// merges them. Without such a key backup the restored ledger stays on
// hold, and no budget is spent, until an operator confirms.
func TestReleasesAfterADataBackupSurviveItsRestore(t *testing.T) {
	tests := []struct {
		name     string
		keys     func(h *ledgerHistory) [][]byte
		complete bool   // RestoreOptions.DPLedgerComplete
		held     bool   // releases refused after the restore
		accounts string // ε spent on accounts-by-month after the restore
		events   string // ε spent on security-events-by-day
	}{
		{name: "the key backup made after the data backup",
			keys: func(h *ledgerHistory) [][]byte { return [][]byte{h.keysAfter} }, accounts: "3/4", events: "1/2"},
		{name: "both key backups, the newer first",
			keys: func(h *ledgerHistory) [][]byte { return [][]byte{h.keysAfter, h.keysBefore} }, accounts: "3/4", events: "1/2"},
		{name: "both key backups, the older first",
			keys: func(h *ledgerHistory) [][]byte { return [][]byte{h.keysBefore, h.keysAfter} }, accounts: "3/4", events: "1/2"},
		{name: "only a key backup made before the data backup",
			keys: func(h *ledgerHistory) [][]byte { return [][]byte{h.keysBefore} }, held: true, accounts: "1/2", events: "none"},
		{name: "only a key backup of the first format, without a ledger",
			keys: func(h *ledgerHistory) [][]byte { return [][]byte{h.keys1} }, held: true, accounts: "1/2", events: "none"},
		{name: "no key backup", held: true, accounts: "1/2", events: "none"},
		// The operator's word is taken: what the backup missed is then
		// spent again. docs/backup.md says how to check before giving it.
		{name: "no key backup, confirmed at the restore", complete: true, accounts: "1/2", events: "none"},
	}
	for _, from := range engines {
		for _, to := range engines {
			t.Run(from.name+"_to_"+to.name, func(t *testing.T) {
				ctx := context.Background()
				h := makeLedgerHistory(t, from.open(t))
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						dst := to.open(t)
						if _, err := backup.Restore(ctx, dst, bytes.NewReader(h.data), backup.RestoreOptions{DPLedgerComplete: tt.complete}, testKey); err != nil {
							t.Fatal(err)
						}
						if tt.keys != nil {
							for _, k := range tt.keys(h) {
								if err := backup.RestoreKeys(ctx, dst, bytes.NewReader(k), testKey); err != nil {
									t.Fatal(err)
								}
							}
						}
						if got := spent(t, dst, "accounts-by-month"); got != tt.accounts {
							t.Errorf("ε spent on accounts-by-month: %s, want %s", got, tt.accounts)
						}
						if got := spent(t, dst, "security-events-by-day"); got != tt.events {
							t.Errorf("ε spent on security-events-by-day: %s, want %s", got, tt.events)
						}
						wantKeys := 0
						if tt.keys != nil {
							wantKeys = 1
						}
						var n int
						if err := dst.QueryRow(ctx, "SELECT COUNT(*) FROM subject_keys").Scan(&n); err != nil || n != wantKeys {
							t.Errorf("subject keys after the restore: %d, %v; want %d", n, err, wantKeys)
						}

						l := dp.NewLedger(dst)
						_, err := l.Spend(ctx, charge("accounts-by-month", "1/2", nil), nil)
						if tt.held {
							var held *dp.LedgerHeldError
							if !errors.As(err, &held) || !held.Hold.KnownUntil.Equal(h.dataAt) ||
								!strings.Contains(err.Error(), h.dataAt.Format("2006-01-02 15:04:05")) || !strings.Contains(err.Error(), "veche restore keys") {
								t.Fatalf("a release after the restore: %v; want it refused, naming the backup's time %s", err, h.dataAt)
							}
							if _, err := l.Confirm(ctx, "operator: test"); err != nil {
								t.Fatal(err)
							}
							if _, err := l.Spend(ctx, charge("accounts-by-month", "1/2", nil), nil); err != nil {
								t.Fatalf("a release once the operator confirmed: %v", err)
							}
							return
						}
						if tt.accounts == "1/2" {
							if err != nil {
								t.Fatalf("a release after a confirmed restore: %v", err)
							}
							return
						}
						// The later spending counts: only ε = 1/4 is left.
						var exhausted *dp.BudgetExhaustedError
						if !errors.As(err, &exhausted) || exhausted.Remaining.Epsilon.RatString() != "1/4" ||
							!strings.Contains(err.Error(), `privacy budget of dataset "accounts-by-month" exhausted`) || !strings.Contains(err.Error(), "only ε=0.25") {
							t.Fatalf("a release beyond the budget after the restore: %v; want BudgetExhaustedError with ε=1/4 left", err)
						}
						if _, err := l.Spend(ctx, charge("accounts-by-month", "1/4", nil), nil); err != nil {
							t.Fatalf("a release of what is left: %v", err)
						}
						got, err := l.Releases(ctx)
						if err != nil || len(got) != 4 {
							t.Fatalf("releases after the restore: %d, %v; want 4", len(got), err)
						}
						want, _ := dp.NewLedger(h.src).Releases(ctx)
						for i, r := range want {
							if got[i].Digest() != r.Digest() {
								t.Errorf("release %d after the restore: %+v, want %+v", i, got[i], r)
							}
						}
						if got[1].Rho == nil || got[1].Rho.RatString() != "1/100" {
							t.Errorf("ρ of the Gaussian release after the restore: %v", got[1].Rho)
						}
					})
				}
			})
		}
	}
}

// keysManifest mirrors a key backup's manifest.json.
type keysManifest struct {
	Format    string    `json:"format"`
	CreatedAt time.Time `json:"created_at"`
	Dialect   string    `json:"dialect"`
	Sections  []struct {
		Name   string `json:"name"`
		Lines  int64  `json:"lines"`
		SHA256 string `json:"sha256"`
	} `json:"sections,omitempty"`
}

// fixChecksums recomputes a key backup's manifest from its sections, as
// someone who edits a section and knows the format would.
func fixChecksums(t *testing.T, es []entry) []entry {
	t.Helper()
	last := &es[len(es)-1]
	var m keysManifest
	if err := json.Unmarshal(last.body, &m); err != nil {
		t.Fatal(err)
	}
	for i, s := range m.Sections {
		sum := sha256.New()
		var lines int64
		for _, e := range es {
			if strings.HasPrefix(e.name, s.Name+"/") {
				sum.Write(e.body)
				lines += int64(bytes.Count(e.body, []byte("\n")))
			}
		}
		m.Sections[i].SHA256, m.Sections[i].Lines = hex.EncodeToString(sum.Sum(nil)), lines
	}
	last.body, _ = json.MarshalIndent(m, "", "  ")
	return es
}

// editLedger changes the ledger's lines that contain match with edit.
func editLedger(t *testing.T, es []entry, match string, edit func(line []byte) []byte) []entry {
	t.Helper()
	for i, e := range es {
		if !strings.HasPrefix(e.name, "dp-ledger/") {
			continue
		}
		lines := bytes.SplitAfter(e.body, []byte("\n"))
		for j, line := range lines {
			if bytes.Contains(line, []byte(match)) {
				lines[j] = edit(line)
				es[i].body = bytes.Join(lines, nil)
				return es
			}
		}
	}
	t.Fatalf("no ledger line contains %q", match)
	return nil
}

// redigest sets a release line's digest to what its fields hash to.
func redigest(t *testing.T, line []byte) []byte {
	t.Helper()
	var l struct {
		Release struct {
			ID, Dataset, Mechanism, Epsilon, Delta, Rho string
			ReleasedAt                                  int64 `json:"released_at"`
			Digest                                      string
		}
	}
	if err := json.Unmarshal(line, &l); err != nil {
		t.Fatal(err)
	}
	r := l.Release
	rat := func(s string) *big.Rat { x, _ := new(big.Rat).SetString(s); return x }
	rel := dp.Release{ID: r.ID, Dataset: r.Dataset, Mechanism: r.Mechanism, Cost: dp.Cost{Epsilon: rat(r.Epsilon), Delta: rat(r.Delta)}, At: store.FromMicros(r.ReleasedAt)}
	if r.Rho != "" {
		rel.Rho = rat(r.Rho)
	}
	return bytes.Replace(line, []byte(r.Digest), []byte(rel.Digest()), 1)
}

// A key backup whose ledger was altered is refused, and nothing of it is
// applied: neither the ledger nor the keys.
func TestRestoreKeysRefusesAnAlteredLedger(t *testing.T) {
	later := `"epsilon":"1/2","delta":"0"` // security-events-by-day, after the data backup
	lower := func(line []byte) []byte {
		return bytes.Replace(line, []byte(`"epsilon":"1/2"`), []byte(`"epsilon":"1/8"`), 1)
	}
	tests := []struct {
		name string
		edit func([]entry) []entry
		msg  string
	}{
		{"a later release's ε lowered", func(es []entry) []entry {
			return editLedger(t, es, later, lower)
		}, "dp-ledger: its lines hash to SHA-256"},
		{"a later release's ε lowered, the manifest's checksums recomputed", func(es []entry) []entry {
			return fixChecksums(t, editLedger(t, es, later, lower))
		}, "its digest does not match its fields"},
		{"a budget's spending lowered below its releases, checksums recomputed", func(es []entry) []entry {
			es = editLedger(t, es, `"epsilon_spent":"3/4"`, func(line []byte) []byte {
				return bytes.Replace(line, []byte(`"epsilon_spent":"3/4"`), []byte(`"epsilon_spent":"1/4"`), 1)
			})
			return fixChecksums(t, es)
		}, "its releases add up to ε=0.75"},
		{"a release the data backup has, recorded with another ε and digest", func(es []entry) []entry {
			es = editLedger(t, es, `"epsilon":"1/2","delta":"0","released_at"`, func(line []byte) []byte {
				return redigest(t, lower(line))
			})
			es = editLedger(t, es, `"epsilon_spent":"3/4"`, func(line []byte) []byte {
				return bytes.Replace(line, []byte(`"epsilon_spent":"3/4"`), []byte(`"epsilon_spent":"3/8"`), 1)
			})
			return fixChecksums(t, es)
		}, "privacy-budget ledgers disagree"},
		{"the ledger's line count changed", func(es []entry) []entry {
			last := &es[len(es)-1]
			last.body = bytes.Replace(last.body, []byte(`"name": "dp-ledger",
      "lines": 6,`), []byte(`"name": "dp-ledger",
      "lines": 5,`), 1)
			return es
		}, "dp-ledger: 6 lines, the manifest says 5"},
		{"the ledger removed", func(es []entry) []entry {
			var out []entry
			for _, e := range es {
				if !strings.HasPrefix(e.name, "dp-ledger/") {
					out = append(out, e)
				}
			}
			return out
		}, "section dp-ledger is missing"},
		{"the ledger moved before the keys", func(es []entry) []entry {
			es[1], es[2] = es[2], es[1]
			return es
		}, "out-of-order entry"},
		{"an unknown field in the manifest", func(es []entry) []entry {
			last := &es[len(es)-1]
			last.body = bytes.Replace(last.body, []byte(`"format": "veche-keys/2"`), []byte(`"format": "veche-keys/2", "x": 1`), 1)
			return es
		}, "unknown field"},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			h := makeLedgerHistory(t, e.open(t))
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dst := e.open(t)
					if _, err := restore(dst, h.data); err != nil {
						t.Fatal(err)
					}
					err := backup.RestoreKeys(ctx, dst, bytes.NewReader(reseal(t, h.keysAfter, tt.edit)), testKey)
					if !errors.Is(err, backup.ErrDamaged) || !strings.Contains(err.Error(), tt.msg) {
						t.Fatalf("restore keys: %v; want ErrDamaged containing %q", err, tt.msg)
					}
					if got := spent(t, dst, "accounts-by-month"); got != "1/2" {
						t.Errorf("ε spent after a refused key backup: %s, want the data backup's 1/2", got)
					}
					var n int
					if err := dst.QueryRow(ctx, "SELECT COUNT(*) FROM subject_keys").Scan(&n); err != nil || n != 0 {
						t.Errorf("subject keys after a refused key backup: %d, %v", n, err)
					}
					if hold, err := dp.NewLedger(dst).Hold(ctx); err != nil || hold == nil {
						t.Errorf("hold after a refused key backup: %+v, %v; want still on hold", hold, err)
					}
				})
			}
		})
	}
}

// A data backup never carries the restore history, and the tables of the
// ledger restore exactly.
func TestDataBackupLeavesOutTheLedgerHolds(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			h := makeLedgerHistory(t, e.open(t))
			dst := e.open(t)
			m, err := restore(dst, h.data)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, x := range m.Excluded {
				found = found || x.Table == "dp_ledger_holds"
			}
			for _, tb := range m.Tables {
				if tb.Name == "dp_ledger_holds" {
					t.Fatal("dp_ledger_holds is in the data backup")
				}
			}
			if !found {
				t.Fatalf("dp_ledger_holds not listed as excluded: %+v", m.Excluded)
			}
			// Backed up while on hold and restored again, the ledger is on
			// hold from the later backup's time.
			again, m2 := write(t, dst)
			dst2 := e.open(t)
			if _, err := restore(dst2, again); err != nil {
				t.Fatal(err)
			}
			hold, err := dp.NewLedger(dst2).Hold(context.Background())
			if err != nil || hold == nil || !hold.KnownUntil.Equal(m2.CreatedAt) {
				t.Fatalf("hold after restoring a backup of a restored instance: %+v, %v", hold, err)
			}
			// Its key backup knows no more than the first data backup, so
			// it does not lift that hold.
			if err := backup.RestoreKeys(context.Background(), dst2, bytes.NewReader(writeKeys(t, dst)), testKey); err != nil {
				t.Fatal(err)
			}
			if hold, err := dp.NewLedger(dst2).Hold(context.Background()); err != nil || hold == nil {
				t.Fatalf("hold after a key backup made on hold: %+v, %v; want still on hold", hold, err)
			}
		})
	}
}
