package fieldcrypt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

var testIndexKey = bytes.Repeat([]byte{7}, 32)

func newLocal(t testing.TB) *LocalKeyring {
	t.Helper()
	kr, err := OpenLocalKeyring(filepath.Join(t.TempDir(), "kek"))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func seal(t testing.TB, s *Service, subject string, f FieldRef, pt string) []byte {
	t.Helper()
	var ct []byte
	err := s.db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		ct, err = s.Seal(context.Background(), tx, subject, f, []byte(pt))
		return err
	})
	if err != nil {
		t.Fatalf("seal %s %s: %v", subject, f, err)
	}
	return ct
}

func erase(t testing.TB, s *Service, subject string) {
	t.Helper()
	if err := s.db.InTx(context.Background(), func(tx *store.Tx) error { return s.Erase(context.Background(), tx, subject) }); err != nil {
		t.Fatalf("erase %s: %v", subject, err)
	}
}

var email = FieldRef{Table: "accounts", Column: "email", Row: "42"}

func TestSealOpenRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, newLocal(t), testIndexKey, Options{})
		for _, pt := range []string{"alice@example.org", "", strings.Repeat("ж", 5000)} {
			ct := seal(t, s, "account:42", email, pt)
			if len(ct) != len(pt)+Overhead || ct[0] != FormatV1 {
				t.Fatalf("ciphertext of %d bytes for %d-byte plaintext (format %d)", len(ct), len(pt), ct[0])
			}
			got, err := s.Open(ctx, "account:42", email, ct)
			if err != nil || string(got) != pt {
				t.Fatalf("Open = %q, %v; want %q", got, err, pt)
			}
			// A fresh service (cold cache) reads the key from the database.
			got, err = New(db, s.kr, nil, Options{}).Open(ctx, "account:42", email, ct)
			if err != nil || string(got) != pt {
				t.Fatalf("Open with a cold cache = %q, %v", got, err)
			}
		}
		// One key per subject, however many fields.
		v, _, err := s.KEKUsage(ctx)
		if err != nil || v[s.kr.Current()] != 1 {
			t.Fatalf("KEKUsage = %v, %v; want one key", v, err)
		}
	})
}

func TestOpenTxSeesKeyCreatedInTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, newLocal(t), nil, Options{})
		err := db.InTx(ctx, func(tx *store.Tx) error {
			ct, err := s.Seal(ctx, tx, "account:1", email, []byte("x@y.z"))
			if err != nil {
				return err
			}
			got, err := s.OpenTx(ctx, tx, "account:1", email, ct)
			if err != nil || string(got) != "x@y.z" {
				return fmt.Errorf("OpenTx = %q, %v", got, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestRolledBackKeyIsNeverUsed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, newLocal(t), nil, Options{})
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := s.Seal(ctx, tx, "account:7", email, []byte("lost")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		// The key of the rolled-back transaction must not serve this seal,
		// or its value would be unreadable by anyone else.
		ct := seal(t, s, "account:7", email, "kept")
		got, err := New(db, s.kr, nil, Options{}).Open(ctx, "account:7", email, ct)
		if err != nil || string(got) != "kept" {
			t.Fatalf("Open after a rolled-back key = %q, %v", got, err)
		}
	})
}

func TestCiphertextIsBoundToSubjectTableColumnRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, newLocal(t), nil, Options{})
		ct := seal(t, s, "account:42", email, "alice@example.org")
		seal(t, s, "account:43", email, "bob@example.org") // so account:43 has a key
		for _, c := range []struct {
			name    string
			subject string
			f       FieldRef
		}{
			{"other row", "account:42", FieldRef{"accounts", "email", "43"}},
			{"other column", "account:42", FieldRef{"accounts", "name", "42"}},
			{"other table", "account:42", FieldRef{"profiles", "email", "42"}},
			{"other subject", "account:43", email},
			{"ambiguous split", "account:42", FieldRef{"accountse", "mail", "42"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := s.Open(ctx, c.subject, c.f, ct)
				if !errors.Is(err, ErrTampered) || got != nil {
					t.Fatalf("Open moved ciphertext = %q, %v; want ErrTampered", got, err)
				}
			})
		}
	})
}

func TestTamperedCiphertextFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, newLocal(t), nil, Options{})
		ct := seal(t, s, "account:42", email, "alice@example.org")
		for i := range ct {
			bad := bytes.Clone(ct)
			bad[i] ^= 0x01
			got, err := s.Open(ctx, "account:42", email, bad)
			if !errors.Is(err, ErrTampered) || got != nil {
				t.Fatalf("byte %d flipped: Open = %q, %v; want ErrTampered", i, got, err)
			}
		}
		for _, bad := range [][]byte{nil, ct[:1], ct[:len(ct)-1], append(bytes.Clone(ct), 0)} {
			if _, err := s.Open(ctx, "account:42", email, bad); !errors.Is(err, ErrTampered) {
				t.Fatalf("%d-byte ciphertext: %v; want ErrTampered", len(bad), err)
			}
		}
		if _, err := s.Open(ctx, "account:42", email, ct); err != nil {
			t.Fatalf("the original still opens: %v", err)
		}
	})
}

func TestWrongKeyringFailsClearly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, newLocal(t), nil, Options{})
		ct := seal(t, s, "account:42", email, "alice@example.org")
		// Another keyring has a version of the same name but another key.
		other := New(db, newLocal(t), nil, Options{})
		got, err := other.Open(ctx, "account:42", email, ct)
		if !errors.Is(err, ErrKeyUnavailable) || got != nil {
			t.Fatalf("Open under another keyring = %q, %v; want ErrKeyUnavailable", got, err)
		}
		if !strings.Contains(err.Error(), "local-1") || strings.Contains(err.Error(), "alice") {
			t.Fatalf("error should name the KEK version and no data: %v", err)
		}
		// Check, as at start-up, says so before anything is read or written.
		if err := other.Check(ctx); !errors.Is(err, ErrKeyUnavailable) || !strings.Contains(err.Error(), "keys/kek") {
			t.Fatalf("Check with the wrong keyring: %v", err)
		}
		if err := s.Check(ctx); err != nil {
			t.Fatalf("Check with the right keyring: %v", err)
		}
		// Sealing under the wrong keyring fails and changes nothing.
		var before []byte
		db.QueryRow(ctx, "SELECT keyset FROM subject_keys WHERE subject = 'account:42'").Scan(&before)
		err = db.InTx(ctx, func(tx *store.Tx) error {
			_, err := other.Seal(ctx, tx, "account:42", FieldRef{"accounts", "name", "42"}, []byte("Alice"))
			return err
		})
		var after []byte
		db.QueryRow(ctx, "SELECT keyset FROM subject_keys WHERE subject = 'account:42'").Scan(&after)
		if !errors.Is(err, ErrKeyUnavailable) || !bytes.Equal(before, after) {
			t.Fatalf("Seal under the wrong keyring: %v (key changed: %v)", err, !bytes.Equal(before, after))
		}
		// A keyring without the version at all.
		missing := newLocal(t)
		if _, err := missing.Rotate(); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(missing.Dir(), "local-1.json"))
		if _, err := New(db, missing, nil, Options{}).Open(ctx, "account:42", email, ct); !errors.Is(err, ErrKeyUnavailable) {
			t.Fatalf("Open with the version missing: %v; want ErrKeyUnavailable", err)
		}
	})
}

func TestEraseShredsOneSubject(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, newLocal(t), nil, Options{})
		ctA := seal(t, s, "account:1", email, "a@example.org")
		ctB := seal(t, s, "account:2", email, "b@example.org")
		if _, err := s.Open(ctx, "account:1", email, ctA); err != nil { // warm the cache
			t.Fatal(err)
		}
		erase(t, s, "account:1")
		for _, svc := range []*Service{s, New(db, s.kr, nil, Options{})} {
			got, err := svc.Open(ctx, "account:1", email, ctA)
			if !errors.Is(err, ErrErased) || got != nil {
				t.Fatalf("Open erased = %q, %v; want ErrErased", got, err)
			}
			if got, err := svc.Open(ctx, "account:2", email, ctB); err != nil || string(got) != "b@example.org" {
				t.Fatalf("other subject: %q, %v", got, err)
			}
		}
		if ok, err := s.Erased(ctx, "account:1"); !ok || err != nil {
			t.Fatalf("Erased(account:1) = %v, %v", ok, err)
		}
		if ok, err := s.Erased(ctx, "account:2"); ok || err != nil {
			t.Fatalf("Erased(account:2) = %v, %v", ok, err)
		}
		// No new key for an erased person, and erasing is idempotent.
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := s.Seal(ctx, tx, "account:1", email, []byte("again"))
			return err
		})
		if !errors.Is(err, ErrErased) {
			t.Fatalf("Seal for erased subject: %v; want ErrErased", err)
		}
		erase(t, s, "account:1")
		erase(t, s, "account:never-seen")
		if ok, _ := s.Erased(ctx, "account:never-seen"); !ok {
			t.Fatal("erasing an unknown subject should leave a marker")
		}
		var wrapped []byte
		if err := db.QueryRow(ctx, "SELECT keyset FROM subject_keys WHERE subject = ?", "account:1").Scan(&wrapped); err != nil || len(wrapped) != 0 {
			t.Fatalf("erased row keeps %d bytes of keyset (%v)", len(wrapped), err)
		}
		if _, err := s.Open(ctx, "account:9", email, ctB); !errors.Is(err, ErrUnknownSubject) {
			t.Fatalf("Open for a subject without a key: %v; want ErrUnknownSubject", err)
		}
	})
}

func TestEraseInvalidatesCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, newLocal(t), nil, Options{CacheTTL: time.Hour})
		ct := seal(t, s, "account:1", email, "a@example.org")
		if _, err := s.Open(ctx, "account:1", email, ct); err != nil {
			t.Fatal(err)
		}
		if s.cache.get("account:1", nil) == nil {
			t.Fatal("key not cached after Open")
		}
		// An erasure that rolls back keeps the key.
		boom := errors.New("boom")
		db.InTx(ctx, func(tx *store.Tx) error {
			if err := s.Erase(ctx, tx, "account:1"); err != nil {
				return err
			}
			return boom
		})
		if _, err := s.Open(ctx, "account:1", email, ct); err != nil {
			t.Fatalf("after a rolled-back erasure: %v", err)
		}
		erase(t, s, "account:1")
		if s.cache.get("account:1", nil) != nil {
			t.Fatal("key still cached after Erase")
		}
		if _, err := s.Open(ctx, "account:1", email, ct); !errors.Is(err, ErrErased) {
			t.Fatalf("Open after Erase: %v", err)
		}
	})
}

func TestCacheBoundsAndExpiry(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	now := time.Unix(1e9, 0)
	clock := func() time.Time { return now }
	s := New(db, newLocal(t), nil, Options{CacheTTL: time.Minute, CacheSize: 3, Now: clock})
	var cts [][]byte
	for i := range 5 {
		cts = append(cts, seal(t, s, fmt.Sprintf("account:%d", i), email, "v"))
	}
	if n := s.cache.len(); n != 3 {
		t.Fatalf("cache holds %d keys, bound 3", n)
	}
	if s.cache.get("account:0", nil) != nil || s.cache.get("account:4", nil) == nil {
		t.Fatal("LRU should have evicted the oldest")
	}
	now = now.Add(2 * time.Minute)
	if s.cache.get("account:4", nil) != nil {
		t.Fatal("expired key served")
	}
	for i, ct := range cts {
		if _, err := s.Open(ctx, fmt.Sprintf("account:%d", i), email, ct); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRewrapWhileSealingAndOpeningLosesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kr := newLocal(t)
		s := New(db, kr, nil, Options{CacheTTL: time.Hour})
		type sealed struct {
			subject string
			ct      []byte
			pt      string
		}
		var (
			mu  sync.Mutex
			all []sealed
		)
		for i := range 150 {
			sub := fmt.Sprintf("account:%03d", i)
			pt := "before-" + sub
			all = append(all, sealed{sub, seal(t, s, sub, email, pt), pt})
		}
		base := append([]sealed(nil), all...)
		// Another process's view: its own Service on the same keyring
		// directory, as the running server beside `veche rotate-keys`.
		server := New(db, kr, nil, Options{CacheTTL: time.Hour})
		stop := make(chan struct{})
		var (
			wg       sync.WaitGroup
			errs     = make(chan error, 100)
			sealedN  atomic.Int64
			openedN  atomic.Int64
			newSubjN atomic.Int64
		)
		wg.Go(func() { // writer: new people and new fields of existing people
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				sub := fmt.Sprintf("account:%03d", i%150)
				if i%3 == 0 {
					sub = fmt.Sprintf("account:new%04d", i)
					newSubjN.Add(1)
				}
				pt := fmt.Sprintf("during-%d", i)
				var ct []byte
				err := db.InTx(ctx, func(tx *store.Tx) error {
					var err error
					ct, err = server.Seal(ctx, tx, sub, FieldRef{"t", "c", fmt.Sprint(i)}, []byte(pt))
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("seal during rotation: %w", err)
					return
				}
				sealedN.Add(1)
				mu.Lock()
				all = append(all, sealed{sub + "|" + fmt.Sprint(i), ct, pt})
				mu.Unlock()
			}
		})
		wg.Go(func() { // reader, with a cold cache every few reads
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := server
				if i%10 == 0 {
					r = New(db, kr, nil, Options{})
				}
				sub := fmt.Sprintf("account:%03d", i%150)
				got, err := r.Open(ctx, sub, email, base[i%150].ct)
				if err != nil || string(got) != "before-"+sub {
					errs <- fmt.Errorf("open during rotation: %q, %v", got, err)
					return
				}
				openedN.Add(1)
			}
		})
		from := kr.Current()
		to, err := kr.Rotate()
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		n, err := s.Rewrap(ctx, 16)
		if err != nil {
			t.Fatalf("Rewrap: %v", err)
		}
		// Keys created before the writer saw the rotation are re-wrapped
		// by a second pass, as `veche rotate-keys` does.
		time.Sleep(20 * time.Millisecond)
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		n2, err := s.Rewrap(ctx, 16)
		if err != nil {
			t.Fatal(err)
		}
		if n < 150 {
			t.Fatalf("re-wrapped %d+%d keys, want at least the 150 made before", n, n2)
		}
		usage, _, err := s.KEKUsage(ctx)
		if err != nil || usage[from] != 0 || usage[to] == 0 {
			t.Fatalf("after rewrap: %v (%v); want nothing under %s", usage, err, from)
		}
		if err := kr.Retire(ctx, db, from); err != nil {
			t.Fatalf("Retire %s: %v", from, err)
		}
		t.Logf("during rotation: %d seals (%d new people), %d opens", sealedN.Load(), newSubjN.Load(), openedN.Load())
		// Every value opens after the old version is gone, cold cache.
		cold := New(db, kr, nil, Options{})
		for _, v := range all {
			sub, row, _ := strings.Cut(v.subject, "|")
			f := email
			if row != "" {
				f = FieldRef{"t", "c", row}
			}
			got, err := cold.Open(ctx, sub, f, v.ct)
			if err != nil || string(got) != v.pt {
				t.Fatalf("%s after rotation: %q, %v; want %q", v.subject, got, err, v.pt)
			}
		}
	})
}

func TestRetireRefusesWhileInUse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kr := newLocal(t)
		s := New(db, kr, nil, Options{})
		ct := seal(t, s, "account:1", email, "a@example.org")
		if err := s.RetireKEK(ctx, "local-1"); !errors.Is(err, ErrKEKInUse) {
			t.Fatalf("retire the current version: %v; want ErrKEKInUse", err)
		}
		if _, err := kr.Rotate(); err != nil {
			t.Fatal(err)
		}
		err := s.RetireKEK(ctx, "local-1")
		if !errors.Is(err, ErrKEKInUse) || !strings.Contains(err.Error(), "1 data keys") {
			t.Fatalf("retire a version in use: %v; want ErrKEKInUse", err)
		}
		if _, err := os.Stat(filepath.Join(kr.Dir(), "local-1.json")); err != nil {
			t.Fatalf("refused retirement removed the key: %v", err)
		}
		if n, err := s.Rewrap(ctx, 10); n != 1 || err != nil {
			t.Fatalf("Rewrap = %d, %v", n, err)
		}
		if n, err := s.Rewrap(ctx, 10); n != 0 || err != nil {
			t.Fatalf("second Rewrap = %d, %v; want nothing to do", n, err)
		}
		if err := s.RetireKEK(ctx, "local-1"); err != nil {
			t.Fatalf("retire unused version: %v", err)
		}
		if v, _ := kr.Versions(); len(v) != 1 || v[0] != "local-2" {
			t.Fatalf("versions after retire: %v", v)
		}
		if got, err := New(db, kr, nil, Options{}).Open(ctx, "account:1", email, ct); err != nil || string(got) != "a@example.org" {
			t.Fatalf("Open after retire: %q, %v", got, err)
		}
		if err := s.RetireKEK(ctx, "local-1"); err == nil {
			t.Fatal("retiring twice should fail")
		}
	})
}

// staleKeyring names local-1 current once, as a process that read the
// current version just before a rotation, and "retires" local-1 (removes
// its file, as another process's Retire would) right after handing it out.
type staleKeyring struct {
	*LocalKeyring
	staleOnce, retired bool
}

func (k *staleKeyring) Current() string {
	if k.staleOnce {
		k.staleOnce = false
		return "local-1"
	}
	return k.LocalKeyring.Current()
}

func (k *staleKeyring) AEAD(ctx context.Context, v string) (tink.AEAD, error) {
	a, err := k.LocalKeyring.AEAD(ctx, v)
	if v == "local-1" && err == nil && !k.retired {
		k.retired = true
		os.Remove(filepath.Join(k.Dir(), "local-1.json"))
	}
	return a, err
}

// A key wrapped under a version that another process retires between the
// wrap and the write is re-wrapped by its writer, not lost.
func TestKeyWrappedUnderJustRetiredVersionIsRewrapped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kr := newLocal(t)
		if _, err := kr.Rotate(); err != nil {
			t.Fatal(err)
		}
		s := New(db, &staleKeyring{LocalKeyring: kr, staleOnce: true}, nil, Options{})
		ct := seal(t, s, "account:1", email, "a@example.org")
		usage, _, _ := s.KEKUsage(ctx)
		if usage["local-1"] != 0 || usage["local-2"] != 1 {
			t.Fatalf("usage %v: the key should have moved to local-2", usage)
		}
		if got, err := New(db, kr, nil, Options{}).Open(ctx, "account:1", email, ct); err != nil || string(got) != "a@example.org" {
			t.Fatalf("Open: %q, %v", got, err)
		}
	})
}

// Concurrent first seals for one new person agree on one key: the losers
// of the insert use the winner's key.
func TestConcurrentFirstSealsShareOneKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kr := newLocal(t)
		const n = 8
		cts := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			s := New(db, kr, nil, Options{}) // separate nodes: no shared cache
			wg.Go(func() {
				errs[i] = db.InTx(ctx, func(tx *store.Tx) error {
					var err error
					cts[i], err = s.Seal(ctx, tx, "account:new", FieldRef{"t", "c", fmt.Sprint(i)}, []byte(fmt.Sprint("v", i)))
					return err
				})
			})
		}
		wg.Wait()
		cold := New(db, kr, nil, Options{})
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("seal %d: %v", i, errs[i])
			}
			if got, err := cold.Open(ctx, "account:new", FieldRef{"t", "c", fmt.Sprint(i)}, cts[i]); err != nil || string(got) != fmt.Sprint("v", i) {
				t.Fatalf("value %d: %q, %v", i, got, err)
			}
		}
	})
}
