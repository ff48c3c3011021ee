package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

func TestVerifyLogCommand(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	skey, vkey, err := auditlog.GenerateKey("veche.test/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l := auditlog.New(db, signer, vkey, auditlog.Options{})
	for i := 0; i < 20; i++ {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return l.Append(ctx, tx, auditlog.Entry{Action: "test.appended", Detail: map[string]string{"n": strconv.Itoa(i)}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Sequence(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/log", l.Handler()))
	defer srv.Close()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "log.pub")
	if err := os.WriteFile(keyFile, []byte(vkey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	verify := func(key string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, []string{"verify-log", "--url", srv.URL + "/log", "--key", key, "--state", state}, nil, &out, &errb)
		return code, out.String(), errb.String()
	}

	if code, out, errs := verify("@" + keyFile); code != 0 || !strings.Contains(out, "entries: 20") {
		t.Fatalf("verify-log = %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("state file not written: %v", err)
	}
	if code, out, _ := verify(vkey); code != 0 || !strings.Contains(out, "extends the saved checkpoint of 20 entries") {
		t.Fatalf("second verify-log = %d: %s", code, out)
	}

	// Rewrite entry 3 behind the log's back.
	if _, err := db.Exec(ctx, "UPDATE auditlog_entries SET entry = ? WHERE idx = 3", []byte(`{"time":"2026-01-01T00:00:00.000000Z","action":"test.forged"}`)); err != nil {
		t.Fatal(err)
	}
	code, _, errs := verify(vkey)
	if code != 1 || !strings.Contains(errs, "NOT verified") || !strings.Contains(errs, "entry 3 ") {
		t.Fatalf("verify-log of tampered log = %d, stderr %q", code, errs)
	}

	_, otherKey, _ := auditlog.GenerateKey("veche.test/log")
	if code, _, errs := verify(otherKey); code != 1 || !strings.Contains(errs, "signature") {
		t.Fatalf("verify-log with the wrong key = %d, stderr %q", code, errs)
	}
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"verify-log", "--url", srv.URL + "/log"}, nil, &out, &errb); code != 2 {
		t.Fatalf("verify-log without --key = %d, want usage error 2", code)
	}
}
