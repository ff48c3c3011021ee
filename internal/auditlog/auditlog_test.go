package auditlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/veche/veche/internal/auditlog/logclient"
	"github.com/veche/veche/internal/auditlog/logformat"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

const testOrigin = "veche.test/log"

// testLog is a Log over db with a fresh key, served by an httptest server
// under /log.
type testLog struct {
	*Log
	db   *store.DB
	vkey string
	url  string // base URL of the log
}

func newTestLog(t testing.TB, db *store.DB, opts Options) *testLog {
	t.Helper()
	skey, vkey, err := GenerateKey(testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	return newTestLogWithKey(t, db, skey, vkey, opts)
}

func newTestLogWithKey(t testing.TB, db *store.DB, skey, vkey string, opts Options) *testLog {
	t.Helper()
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC) }
	}
	l := New(db, signer, vkey, opts)
	mux := http.NewServeMux()
	mux.Handle("/log/", http.StripPrefix("/log", l.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testLog{Log: l, db: db, vkey: vkey, url: srv.URL + "/log"}
}

func testEntry(tag string, i int) Entry {
	return Entry{Action: "test.appended", Detail: map[string]string{"tag": tag, "n": strconv.Itoa(i)}}
}

// appendN appends n entries, one transaction each.
func (tl *testLog) appendN(t testing.TB, tag string, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if err := tl.db.InTx(ctx, func(tx *store.Tx) error { return tl.Append(ctx, tx, testEntry(tag, i)) }); err != nil {
			t.Fatal(err)
		}
	}
}

func (tl *testLog) sequence(t testing.TB) int {
	t.Helper()
	n, err := tl.Sequence(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (tl *testLog) get(t testing.TB, path string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(tl.url + "/" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func storedEntries(t testing.TB, db *store.DB) [][]byte {
	t.Helper()
	rows, err := db.Query(context.Background(), "SELECT idx, entry FROM auditlog_entries ORDER BY idx")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var (
			idx int64
			e   []byte
		)
		if err := rows.Scan(&idx, &e); err != nil {
			t.Fatal(err)
		}
		if idx != int64(len(out)) {
			t.Fatalf("entry index %d follows %d entries: indexes are not consecutive", idx, len(out))
		}
		out = append(out, e)
	}
	return out
}

// memTree is an in-memory tlog store built independently of the Log, to
// check what it serves.
type memTree []tlog.Hash

func (m memTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = m[x]
	}
	return out, nil
}

func buildMemTree(t testing.TB, entries [][]byte) memTree {
	var m memTree
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, m)
		if err != nil {
			t.Fatal(err)
		}
		m = append(m, hs...)
	}
	return m
}

func TestAppendIsPartOfTheCallersTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl := newTestLog(t, db, Options{})
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tl.Append(ctx, tx, testEntry("rolled-back", 0)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		if n := tl.sequence(t); n != 0 {
			t.Fatalf("rolled-back append was sequenced: %d entries", n)
		}
		tl.appendN(t, "kept", 1)
		if n := tl.sequence(t); n != 1 {
			t.Fatalf("sequenced %d entries, want 1", n)
		}
		entries := storedEntries(t, db)
		if len(entries) != 1 || !bytes.Contains(entries[0], []byte(`"tag":"kept"`)) {
			t.Fatalf("log holds %q", entries)
		}
	})
}

func TestAppendRejectsInvalidEntries(t *testing.T) {
	p := NewPseudonymizer([]byte("test key"))
	tests := []struct {
		name  string
		e     Entry
		field string
	}{
		{"no action", Entry{}, "Action"},
		{"one-word action", Entry{Action: "created"}, "Action"},
		{"capital action", Entry{Action: "Account.created"}, "Action"},
		{"email as actor", Entry{Action: "a.b", Actor: "alice@example.org"}, "Actor"},
		{"raw id as subject", Entry{Action: "a.b", Subject: "account:42"}, "Subject"},
		{"bad digest", Entry{Action: "a.b", Digest: "md5:abc"}, "Digest"},
		{"upper-case digest", Entry{Action: "a.b", Digest: strings.ToUpper(Digest(nil))}, "Digest"},
		{"bad detail key", Entry{Action: "a.b", Detail: map[string]string{"Role": "x"}}, "Detail"},
		{"long detail value", Entry{Action: "a.b", Detail: map[string]string{"note": strings.Repeat("x", 201)}}, "Detail"},
		{"control character", Entry{Action: "a.b", Detail: map[string]string{"role": "a\nb"}}, "Detail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.e.Encode(time.Now())
			var ie *InvalidEntryError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidEntry) || ie.Field != tt.field {
				t.Fatalf("encode = %v, want invalid %s", err, tt.field)
			}
		})
	}
	ok := Entry{Action: "role.granted", Actor: p.Of("account", "1"), Subject: p.Of("account", "2"), Digest: Digest([]byte("x")), Detail: map[string]string{"role": "admin"}}
	if _, err := ok.Encode(time.Now()); err != nil {
		t.Fatalf("valid entry rejected: %v", err)
	}
}

func TestEntryEncodingIsCanonical(t *testing.T) {
	p := NewPseudonymizer([]byte("0123456789abcdef0123456789abcdef"))
	e := Entry{
		Action:  "role.granted",
		Actor:   p.Of("account", "1"),
		Subject: p.Of("account", "42"),
		Digest:  Digest([]byte("hello")),
		Detail:  map[string]string{"role": "admin", "by": "<policy&>"},
	}
	got, err := e.Encode(time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("x", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	// Known answer: fixes the field order, time form, sorted detail keys,
	// no HTML escaping, and the pseudonym derivation.
	want := `{"time":"2026-03-01T11:00:00.123456Z","action":"role.granted","actor":"account:A_yOgeabY7bglMFx6JvWmg","subject":"account:M2ME738YthJMlfhusmTtTA","digest":"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","detail":{"by":"<policy&>","role":"admin"}}`
	if string(got) != want {
		t.Fatalf("encoding\n got %s\nwant %s", got, want)
	}
	r, err := ParseRecord(got)
	if err != nil || r.Action != e.Action || r.Subject != e.Subject || r.Detail["role"] != "admin" || r.Time.Nanosecond() != 123456000 {
		t.Fatalf("ParseRecord = %+v, %v", r, err)
	}
	if got := (Entry{Action: "system.started"}); true {
		b, _ := got.Encode(time.Unix(0, 0))
		if string(b) != `{"time":"1970-01-01T00:00:00.000000Z","action":"system.started"}` {
			t.Fatalf("minimal entry = %s", b)
		}
	}
}

func TestSequenceAssignsConsecutiveIndexesAndSignsCheckpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl := newTestLog(t, db, Options{})
		// An empty log still has a valid checkpoint.
		if _, err := logclient.Verify(ctx, nil, tl.url, tl.vkey, ""); err != nil {
			t.Fatalf("empty log: %v", err)
		}
		total := 0
		for _, n := range []int{1, 2, 300, 0, 700} {
			tl.appendN(t, fmt.Sprint("batch", total), n)
			if got := tl.sequence(t); got != n {
				t.Fatalf("Sequence = %d, want %d", got, n)
			}
			total += n
			entries := storedEntries(t, db)
			if len(entries) != total {
				t.Fatalf("log holds %d entries, want %d", len(entries), total)
			}
			raw, err := tl.Checkpoint(ctx)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := note.NewVerifier(tl.vkey)
			n, err := note.Open(raw, note.VerifierList(v))
			if err != nil {
				t.Fatalf("checkpoint does not verify: %v", err)
			}
			cp, err := logformat.ParseCheckpoint(n.Text)
			if err != nil {
				t.Fatal(err)
			}
			root, _ := tlog.TreeHash(int64(total), buildMemTree(t, entries))
			if cp.Origin != testOrigin || cp.Size != int64(total) || cp.Hash != root {
				t.Fatalf("checkpoint %+v, want size %d root %s", cp, total, root)
			}
			rep, err := logclient.Verify(ctx, nil, tl.url, tl.vkey, "")
			if err != nil || rep.Size != int64(total) {
				t.Fatalf("Verify = %+v, %v", rep, err)
			}
		}
		// Entries keep their append order within a writer.
		entries := storedEntries(t, db)
		if !bytes.Contains(entries[3], []byte(`"n":"0"`)) || !bytes.Contains(entries[3], []byte(`"tag":"batch3"`)) {
			t.Fatalf("entry 3 = %s", entries[3])
		}
	})
}

func TestSequencerCacheSurvivesAcrossBatchesAndNewLogs(t *testing.T) {
	// A second Log (another node, or a restart) must continue the same tree
	// reading the right edge from the database instead of its cache.
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		skey, vkey, _ := GenerateKey(testOrigin)
		a := newTestLogWithKey(t, db, skey, vkey, Options{})
		a.appendN(t, "a", 333)
		a.sequence(t)
		b := newTestLogWithKey(t, db, skey, vkey, Options{})
		b.appendN(t, "b", 333)
		b.sequence(t)
		a.appendN(t, "a2", 5)
		a.sequence(t) // a's cache is stale: size moved on
		if _, err := logclient.Verify(ctx, nil, a.url, vkey, ""); err != nil {
			t.Fatal(err)
		}
	})
}

func TestServedTilesAndBundlesMatchTlog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tl := newTestLog(t, db, Options{})
		size := 0
		for _, grow := range []int{1, 254, 1, 1, 600} { // sizes 1, 255, 256, 257, 857
			tl.appendN(t, "x", grow)
			tl.sequence(t)
			size += grow
			entries := storedEntries(t, db)
			mem := buildMemTree(t, entries)
			for _, tile := range tlog.NewTiles(8, 0, int64(size)) {
				want, err := tlog.ReadTileData(tile, mem)
				if err != nil {
					t.Fatal(err)
				}
				path := logformat.TilePath(tile)
				status, h, got := tl.get(t, path)
				if status != 200 || !bytes.Equal(got, want) {
					t.Fatalf("size %d: %s: status %d, %d bytes, want %d bytes equal to tlog's", size, path, status, len(got), len(want))
				}
				if cc := h.Get("Cache-Control"); (tile.W == 256) != strings.Contains(cc, "immutable") {
					t.Fatalf("%s: Cache-Control %q", path, cc)
				}
				if tile.L != 0 {
					continue
				}
				bt := tile
				bt.L = logformat.EntriesLevel
				var bundle []byte
				for _, e := range entries[tile.N*256 : tile.N*256+int64(tile.W)] {
					bundle = logformat.AppendBundleEntry(bundle, e)
				}
				status, h, got = tl.get(t, logformat.TilePath(bt))
				if status != 200 || !bytes.Equal(got, bundle) {
					t.Fatalf("size %d: %s: status %d, bundle differs", size, logformat.TilePath(bt), status)
				}
				if cc := h.Get("Cache-Control"); (tile.W == 256) != strings.Contains(cc, "immutable") {
					t.Fatalf("%s: Cache-Control %q", logformat.TilePath(bt), cc)
				}
			}
		}
		// A narrower, older partial is still served (clients with an old
		// checkpoint ask for it) and is a prefix of the current data.
		status, _, got := tl.get(t, "tile/0/003.p/10")
		if status != 200 || len(got) != 10*32 {
			t.Fatalf("older partial: status %d, %d bytes", status, len(got))
		}
		status, h, _ := tl.get(t, "checkpoint")
		if status != 200 || h.Get("Cache-Control") != "no-cache" {
			t.Fatalf("checkpoint: %d %q", status, h.Get("Cache-Control"))
		}
		status, h, key := tl.get(t, "key")
		if status != 200 || strings.TrimSpace(string(key)) != tl.vkey || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
			t.Fatalf("key: %d %q %q", status, h.Get("Content-Type"), key)
		}
	})
}

func TestHandlerRejectsBadAndMissingTiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tl := newTestLog(t, db, Options{})
		tl.appendN(t, "x", 300) // one full level-0 tile, a partial of 44
		tl.sequence(t)
		tests := []struct {
			path   string
			status int
		}{
			{"tile/0/000", 200},
			{"tile/0/001.p/44", 200},
			{"tile/1/000.p/1", 200},
			{"tile/0/001.p/45", 404},  // wider than the tree
			{"tile/0/001", 404},       // full tile not complete yet
			{"tile/0/002.p/1", 404},   // beyond the tree
			{"tile/entries/002", 404}, // beyond the tree
			{"tile/1/000", 404},       // level-1 tile not full
			{"tile/2/000.p/1", 404},   // no level-2 hashes yet
			{"tile/0/001.p/0", 400},   // zero width
			{"tile/0/001.p/256", 400}, // full width as partial
			{"tile/0/01", 400},        // short group
			{"tile/0/x000/001", 400},  // leading zero group
			{"tile/00/000", 400},      // leading zero level
			{"tile/8/0/000", 400},     // sumdb layout
			{"tile/data/000", 400},    // sumdb layout
			{"tile/0/%30%30%30", 400}, // escapes
			{"tile/0/000/", 400},      // trailing slash
			{"tile/entries/001.p/-1", 400},
			{"nothing", 404},
		}
		for _, tt := range tests {
			if status, _, body := tl.get(t, tt.path); status != tt.status {
				t.Errorf("GET %s = %d (%s), want %d", tt.path, status, bytes.TrimSpace(body), tt.status)
			}
		}
		resp, err := http.Post(tl.url+"/checkpoint", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /checkpoint = %d", resp.StatusCode)
		}
	})
}

func TestVerifyNamesTheEntryChangedInTheDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl := newTestLog(t, db, Options{})
		tl.appendN(t, "x", 600)
		tl.sequence(t)
		state := filepath.Join(t.TempDir(), "state")
		if _, err := logclient.Verify(ctx, nil, tl.url, tl.vkey, state); err != nil {
			t.Fatalf("untouched log: %v", err)
		}
		for _, idx := range []int{7, 300, 599} {
			entries := storedEntries(t, db)
			forged := bytes.Replace(entries[idx], []byte(`"tag":"x"`), []byte(`"tag":"y"`), 1)
			if _, err := db.Exec(ctx, "UPDATE auditlog_entries SET entry = ? WHERE idx = ?", forged, idx); err != nil {
				t.Fatal(err)
			}
			_, err := logclient.Verify(ctx, nil, tl.url, tl.vkey, state)
			if !errors.Is(err, logclient.ErrEntry) || !strings.Contains(err.Error(), fmt.Sprintf("entry %d ", idx)) {
				t.Fatalf("Verify after changing entry %d = %v", idx, err)
			}
			if _, err := db.Exec(ctx, "UPDATE auditlog_entries SET entry = ? WHERE idx = ?", entries[idx], idx); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestVerifyDetectsChangedHashTile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl := newTestLog(t, db, Options{})
		tl.appendN(t, "x", 300)
		tl.sequence(t)
		// Rewrite the leaf hash of entry 10 and its entry consistently: the
		// entry now matches its tile, but the tile no longer matches the
		// signed root.
		forged := []byte(`{"time":"2026-03-01T12:00:00.123456Z","action":"test.forged"}`)
		h := tlog.RecordHash(forged)
		if _, err := db.Exec(ctx, "UPDATE auditlog_entries SET entry = ? WHERE idx = 10", forged); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "UPDATE auditlog_hashes SET hash = ? WHERE id = ?", h[:], tlog.StoredHashIndex(0, 10)); err != nil {
			t.Fatal(err)
		}
		_, err := logclient.Verify(ctx, nil, tl.url, tl.vkey, "")
		if !errors.Is(err, logclient.ErrTile) {
			t.Fatalf("Verify = %v, want ErrTile", err)
		}
	})
}

func TestVerifyCatchesRewrittenHistoryAgainstSavedCheckpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		skey, vkey, _ := GenerateKey(testOrigin)
		tl := newTestLogWithKey(t, db, skey, vkey, Options{})
		tl.appendN(t, "honest", 40)
		tl.sequence(t)
		state := filepath.Join(t.TempDir(), "state")
		rep, err := logclient.Verify(ctx, nil, tl.url, vkey, state)
		if err != nil || rep.PreviousSize != -1 {
			t.Fatalf("first Verify = %+v, %v", rep, err)
		}
		tl.appendN(t, "more", 10)
		tl.sequence(t)
		rep, err = logclient.Verify(ctx, nil, tl.url, vkey, state)
		if err != nil || rep.PreviousSize != 40 || rep.Size != 50 {
			t.Fatalf("growing log: Verify = %+v, %v", rep, err)
		}

		// The operator (holding the signing key) wipes the log and
		// sequences different history, longer than before.
		wipe := func() {
			for _, q := range []string{"DELETE FROM auditlog_entries", "DELETE FROM auditlog_hashes", "UPDATE auditlog_checkpoint SET size = 0, note = ''"} {
				if _, err := db.Exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}
		wipe()
		forked := newTestLogWithKey(t, db, skey, vkey, Options{})
		forked.appendN(t, "rewritten", 80)
		forked.sequence(t)
		if _, err := logclient.Verify(ctx, nil, forked.url, vkey, ""); err != nil {
			t.Fatalf("the forked log is self-consistent, Verify without state = %v", err)
		}
		_, err = logclient.Verify(ctx, nil, forked.url, vkey, state)
		if !errors.Is(err, logclient.ErrFork) {
			t.Fatalf("Verify of rewritten log = %v, want ErrFork", err)
		}

		// Shorter history is a rollback.
		wipe()
		short := newTestLogWithKey(t, db, skey, vkey, Options{})
		short.appendN(t, "short", 5)
		short.sequence(t)
		_, err = logclient.Verify(ctx, nil, short.url, vkey, state)
		if !errors.Is(err, logclient.ErrRollback) {
			t.Fatalf("Verify of shrunk log = %v, want ErrRollback", err)
		}
	})
}

func TestVerifyRejectsCheckpointNotSignedByTheKey(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	tl := newTestLog(t, db, Options{})
	tl.appendN(t, "x", 3)
	tl.sequence(t)
	_, otherSameName, _ := GenerateKey(testOrigin)
	if _, err := logclient.Verify(ctx, nil, tl.url, otherSameName, ""); !errors.Is(err, logclient.ErrSignature) {
		t.Fatalf("Verify with another key of the same name = %v, want ErrSignature", err)
	}
	_, otherName, _ := GenerateKey("other.test/log")
	if _, err := logclient.Verify(ctx, nil, tl.url, otherName, ""); !errors.Is(err, logclient.ErrSignature) {
		t.Fatalf("Verify with a key of another name = %v, want ErrSignature", err)
	}
	if _, err := logclient.Verify(ctx, nil, tl.url, "not a key", ""); err == nil {
		t.Fatal("Verify with a malformed key succeeded")
	}
	// A saved state signed by someone else is refused, not trusted.
	state := filepath.Join(t.TempDir(), "state")
	if _, err := logclient.Verify(ctx, nil, tl.url, tl.vkey, state); err != nil {
		t.Fatal(err)
	}
	other := newTestLog(t, storetest.SQLite(t), Options{})
	if _, err := logclient.Verify(ctx, nil, other.url, other.vkey, state); !errors.Is(err, logclient.ErrSignature) {
		t.Fatalf("Verify with a state file from another log = %v, want ErrSignature", err)
	}
}

func TestLeaseLetsOnlyOneLogSequence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		skey, vkey, _ := GenerateKey(testOrigin)
		a := newTestLogWithKey(t, db, skey, vkey, Options{Holder: "node-a", Interval: 10 * time.Millisecond})
		b := newTestLogWithKey(t, db, skey, vkey, Options{Holder: "node-b", Interval: 10 * time.Millisecond})
		var wg sync.WaitGroup
		for _, l := range []*testLog{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); l.Run(ctx) }()
		}
		const each = 200
		var appenders sync.WaitGroup
		for _, l := range []*testLog{a, b} {
			appenders.Add(1)
			go func() { defer appenders.Done(); l.appendN(t, l.holder, each) }()
		}
		appenders.Wait()
		deadline := time.Now().Add(10 * time.Second)
		for len(storedEntries(t, db)) < 2*each {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d entries sequenced", len(storedEntries(t, db)), 2*each)
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		na, nb := a.sequenced.Load(), b.sequenced.Load()
		if na+nb != 2*each || (na != 0 && nb != 0) {
			t.Fatalf("node-a sequenced %d, node-b %d: want one node to sequence all %d", na, nb, 2*each)
		}
		if _, err := logclient.Verify(context.Background(), nil, a.url, vkey, ""); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOutOfOrderCommitsAreSequencedLater(t *testing.T) {
	// PostgreSQL hands out pending ids at insert time, so a transaction
	// that started first can commit after a later one was sequenced.
	db := storetest.Postgres(t)
	ctx := context.Background()
	tl := newTestLog(t, db, Options{})
	inserted := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- db.InTx(ctx, func(tx *store.Tx) error {
			if err := tl.Append(ctx, tx, testEntry("slow", 0)); err != nil {
				return err
			}
			close(inserted)
			<-release
			return nil
		})
	}()
	<-inserted
	tl.appendN(t, "fast", 1)
	if n := tl.sequence(t); n != 1 {
		t.Fatalf("first pass sequenced %d, want 1 (the committed entry)", n)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := tl.sequence(t); n != 1 {
		t.Fatalf("second pass sequenced %d, want 1 (the late commit)", n)
	}
	entries := storedEntries(t, db)
	if len(entries) != 2 || !bytes.Contains(entries[0], []byte("fast")) || !bytes.Contains(entries[1], []byte("slow")) {
		t.Fatalf("entries = %q", entries)
	}
	if _, err := logclient.Verify(ctx, nil, tl.url, tl.vkey, ""); err != nil {
		t.Fatal(err)
	}
}

func TestRunPublishesWithinAnInterval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tl := newTestLog(t, db, Options{})
		published := make(chan int64, 100)
		tl.onPublish = func(size int64, _ time.Time) { published <- size }
		go tl.Run(ctx)
		time.Sleep(50 * time.Millisecond) // let Run take the lease on its first tick
		start := time.Now()
		tl.appendN(t, "x", 1)
		for {
			select {
			case size := <-published:
				if size == 1 {
					if d := time.Since(start); d > time.Second {
						t.Fatalf("checkpoint took %v", d)
					}
					return
				}
			case <-time.After(2 * time.Second):
				t.Fatal("no checkpoint within 2s")
			}
		}
	})
}

func TestPseudonymizer(t *testing.T) {
	p := NewPseudonymizer([]byte("k1"))
	q := NewPseudonymizer([]byte("k2"))
	a := p.Of("account", "42")
	if a != p.Of("account", "42") || a == q.Of("account", "42") || a == p.Of("account", "43") || a == p.Of("session", "42") {
		t.Fatal("pseudonyms are not stable, keyed and separated by kind and id")
	}
	if !strings.HasPrefix(a, "account:") || len(a) != len("account:")+22 || !isPseudonym(a) {
		t.Fatalf("pseudonym %q", a)
	}
	// kind and id are separated, so ("ab","c") and ("a","bc") differ.
	if p.Of("ab", "c")[3:] == p.Of("a", "bc")[2:] {
		t.Fatal("kind/id boundary is ambiguous")
	}
	if Digest([]byte("hello")) != "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Fatal("Digest")
	}
}

func TestSequenceDrainsMoreThanOneBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl := newTestLog(t, db, Options{})
		const total = 20 * 500 // more than maxBatch
		for done := 0; done < total; {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				for i := 0; i < 500; i++ {
					if err := tl.Append(ctx, tx, testEntry("bulk", done+i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			done += 500
		}
		published := 0
		tl.onPublish = func(int64, time.Time) { published++ }
		if n := tl.sequence(t); n != total {
			t.Fatalf("Sequence = %d, want %d", n, total)
		}
		if published != 2 {
			t.Fatalf("%d checkpoints published, want 2 (batches of at most %d)", published, maxBatch)
		}
		if _, err := logclient.Verify(ctx, nil, tl.url, tl.vkey, ""); err != nil {
			t.Fatal(err)
		}
	})
}
