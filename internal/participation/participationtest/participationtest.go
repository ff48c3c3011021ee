// Package participationtest sets up the participation core on a real
// database for the tests of the space packages: an audit log, per-person
// encryption, a settable clock, accounts, and a process with one open
// phase.
package participationtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

// Env is a participation core over a test database.
type Env struct {
	DB    *store.DB
	Log   *auditlog.Log
	Crypt *fieldcrypt.Service
	P     *participation.Service
	Now   time.Time // the clock; tests move it
	// CensusKey is the key the census hashes are made with.
	CensusKey []byte
	accounts  atomic.Int64
}

// New returns an environment over db with the clock at 2027-03-01 12:00 UTC.
func New(t testing.TB, db *store.DB) *Env {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "veche.test/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{DB: db, Now: time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC), CensusKey: []byte("census key for tests, 32 bytes!!")}
	e.Log = auditlog.New(db, signer, vkey, auditlog.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	kr, err := fieldcrypt.OpenLocalKeyring(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e.Crypt = fieldcrypt.New(db, kr, make([]byte, 32), fieldcrypt.Options{Now: func() time.Time { return e.Now }})
	pseud := auditlog.NewPseudonymizer([]byte("pseudonym key for tests"))
	e.P = participation.New(db, e.Log, e.Crypt, func(id int64) string { return pseud.Of("account", fmt.Sprint(id)) },
		participation.Keys{Census: e.CensusKey, Handles: []byte("handle key for tests")})
	e.P.SetClock(func() time.Time { return e.Now })
	return e
}

// Account creates an account and returns its number.
func (e *Env) Account(t testing.TB) int64 {
	t.Helper()
	n := e.accounts.Add(1)
	var id int64
	if err := e.DB.QueryRow(context.Background(), `INSERT INTO accounts (email, email_index, password_hash, created_at, password_changed_at, email_verified)
		VALUES ('', ?, 'h', ?, ?, TRUE) RETURNING id`, []byte(fmt.Sprintf("index-%d-%d", n, time.Now().UnixNano())), store.Micros(e.Now), store.Micros(e.Now)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// Process creates a process whose one phase runs from an hour ago to a
// week from now, with the given eligibility, and returns it.
func (e *Env) Process(t testing.TB, official int64, el participation.Eligibility) *participation.Process {
	t.Helper()
	p, err := e.P.CreateProcess(context.Background(), official, participation.ProcessInput{
		Title: "Parks for everyone", Description: "How should the city spend on parks?", Eligibility: el,
		Phases: []participation.PhaseInput{{Name: "Participation", Starts: e.Now.Add(-time.Hour), Ends: e.Now.Add(7 * 24 * time.Hour)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Entries returns the actions of the audit entries appended so far.
func (e *Env) Entries(t testing.TB) []string {
	t.Helper()
	rows, err := e.DB.Query(context.Background(), "SELECT entry FROM auditlog_pending ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		r, err := auditlog.ParseRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Action)
	}
	return out
}
