package privacy_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/validate"
)

// restrictionEnv is the privacy services on one database, with two
// accounts: a citizen and a DPO.
type restrictionEnv struct {
	db       *store.DB
	log      *auditlog.Log
	crypt    *fieldcrypt.Service
	requests *privacy.Requests
	consents *privacy.Consents
	citizen  int64
	dpo      int64
}

func newRestrictionEnv(t *testing.T, db *store.DB) *restrictionEnv {
	t.Helper()
	ctx := context.Background()
	skey, vkey, _ := note.GenerateKey(rand.Reader, "veche.test/log")
	signer, _ := note.NewSigner(skey)
	log := auditlog.New(db, signer, vkey, auditlog.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	kr, err := fieldcrypt.OpenLocalKeyring(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	crypt := fieldcrypt.New(db, kr, make([]byte, 32), fieldcrypt.Options{})
	pseud := auditlog.NewPseudonymizer(make([]byte, 32))
	pseudonym := func(id int64) string { return pseud.Of("account", strconv.FormatInt(id, 10)) }
	e := &restrictionEnv{db: db, log: log, crypt: crypt, requests: privacy.NewRequests(db, log, crypt, pseudonym)}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	e.consents = privacy.NewConsents(db, log, pseudonym, key)
	for i, id := range []*int64{&e.citizen, &e.dpo} {
		if err := db.QueryRow(ctx, `INSERT INTO accounts (email, email_index, password_hash, created_at, password_changed_at) VALUES ('', ?, 'h', 0, 0) RETURNING id`,
			[]byte{byte(i)}).Scan(id); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *restrictionEnv) auditActions(t *testing.T) []string {
	t.Helper()
	rows, err := e.db.Query(context.Background(), "SELECT entry FROM auditlog_pending ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var entry []byte
		if err := rows.Scan(&entry); err != nil {
			t.Fatal(err)
		}
		out = append(out, string(entry))
	}
	return out
}

// TestCompletedRestrictionRequestStopsProcessingUntilLifted files a
// restriction request, completes it as the DPO, and checks that the
// purpose is restricted for that person only, in and outside a
// transaction, that the person's list shows it with the reason, that
// lifting it (with a reason) frees the purpose, and that each step is in
// the audit log by pseudonym.
func TestCompletedRestrictionRequestStopsProcessingUntilLifted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newRestrictionEnv(t, db)
		rs := e.requests.Restrictions
		req, err := e.requests.Submit(ctx, e.citizen, privacy.RequestRestriction, "account", "I contest the accuracy of my data")
		if err != nil {
			t.Fatal(err)
		}
		if stop, err := rs.Restricted(ctx, e.citizen, "account"); err != nil || stop {
			t.Fatalf("restricted before the DPO answered: %v %v", stop, err)
		}
		if err := e.requests.Close(ctx, e.dpo, req.ID, privacy.RequestCompleted, "Restricted while we check."); err != nil {
			t.Fatal(err)
		}
		if stop, err := rs.Restricted(ctx, e.citizen, "account"); err != nil || !stop {
			t.Fatalf("not restricted after the request was completed: %v %v", stop, err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			stop, err := rs.RestrictedTx(ctx, tx, e.citizen, "account")
			if err == nil && !stop {
				t.Error("RestrictedTx: not restricted")
			}
			stop, err2 := privacy.IsRestricted(ctx, tx, e.citizen, "account")
			if err2 == nil && !stop {
				t.Error("IsRestricted: not restricted")
			}
			return errors.Join(err, err2)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, other := range []struct {
			account int64
			purpose string
		}{{e.dpo, "account"}, {e.citizen, "security"}} {
			if stop, err := rs.Restricted(ctx, other.account, other.purpose); err != nil || stop {
				t.Errorf("account %d, purpose %s: restricted = %v, %v; want only the citizen's account purpose", other.account, other.purpose, stop, err)
			}
		}
		list, err := rs.ForAccount(ctx, e.citizen)
		if err != nil || len(list) != 1 {
			t.Fatalf("ForAccount: %v %v", list, err)
		}
		r := list[0]
		if !r.InForce() || r.Basis != privacy.BasisRestriction || r.Request != req.ID || r.Reason != "Restricted while we check." {
			t.Fatalf("restriction: %+v", r)
		}
		if err := rs.Lift(ctx, e.dpo, r.ID, ""); !errors.Is(err, validate.ErrInvalid) {
			t.Fatalf("lift without a reason: %v", err)
		}
		if err := rs.Lift(ctx, e.dpo, r.ID, "The data was checked and is accurate."); err != nil {
			t.Fatal(err)
		}
		if stop, err := rs.Restricted(ctx, e.citizen, "account"); err != nil || stop {
			t.Fatalf("still restricted after lifting: %v %v", stop, err)
		}
		if err := rs.Lift(ctx, e.dpo, r.ID, "again"); !errors.Is(err, privacy.ErrRestrictionNotFound) {
			t.Fatalf("lifting twice: %v", err)
		}
		list, _ = rs.ForAccount(ctx, e.citizen)
		if len(list) != 1 || list[0].InForce() || list[0].LiftReason != "The data was checked and is accurate." {
			t.Fatalf("after lifting: %+v", list)
		}
		audit := strings.Join(e.auditActions(t), "\n")
		for _, want := range []string{"restriction.set", "restriction.lifted"} {
			if !strings.Contains(audit, want) {
				t.Errorf("no %s in the audit log:\n%s", want, audit)
			}
		}
		if strings.Contains(audit, "accurate") || strings.Contains(audit, "Restricted while") {
			t.Error("the audit log holds a reason's text")
		}
	})
}

// TestObjectionUpheldStopsConsentProcessingToo shows that an upheld
// objection is a restriction, that Consents.Has answers false for a
// restricted consent purpose even with consent given, that a refused
// request restricts nothing, and that an undeclared purpose is an error
// rather than "free to process".
func TestObjectionUpheldStopsConsentProcessingToo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newRestrictionEnv(t, db)
		rs := e.requests.Restrictions
		refused, err := e.requests.Submit(ctx, e.citizen, privacy.RequestObjection, "communication", "Stop emailing me")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.requests.Close(ctx, e.dpo, refused.ID, privacy.RequestRefused, "Security alerts are needed. You may complain to the supervisory authority."); err != nil {
			t.Fatal(err)
		}
		if stop, _ := rs.Restricted(ctx, e.citizen, "communication"); stop {
			t.Fatal("a refused objection restricted processing")
		}
		upheld, _ := e.requests.Submit(ctx, e.citizen, privacy.RequestObjection, "communication", "Stop emailing me, please")
		if err := e.requests.Close(ctx, e.dpo, upheld.ID, privacy.RequestCompleted, "Upheld."); err != nil {
			t.Fatal(err)
		}
		list, _ := rs.InForce(ctx)
		if len(list) != 1 || list[0].Basis != privacy.BasisObjection || list[0].Purpose != "communication" {
			t.Fatalf("in force: %+v", list)
		}

		if _, err := e.consents.Set(ctx, e.citizen, "newsletter", true, "api"); err != nil {
			t.Fatal(err)
		}
		if ok, err := e.consents.Has(ctx, e.citizen, "newsletter"); err != nil || !ok {
			t.Fatalf("consent given but Has = %v, %v", ok, err)
		}
		if err := rs.Restrict(ctx, e.dpo, e.citizen, "newsletter", privacy.BasisRestriction, "Address contested"); err != nil {
			t.Fatal(err)
		}
		if ok, err := e.consents.Has(ctx, e.citizen, "newsletter"); err != nil || ok {
			t.Fatalf("restricted newsletter but Has = %v, %v", ok, err)
		}
		if err := rs.Restrict(ctx, e.dpo, e.citizen, "newsletter", privacy.BasisRestriction, "twice"); err != nil {
			t.Fatalf("restricting a restricted purpose again: %v", err)
		}
		if stop, err := rs.Restricted(ctx, e.citizen, "newslettr"); err == nil || !stop {
			t.Fatalf("an undeclared purpose: %v, %v; want an error and true", stop, err)
		}
		if _, err := e.consents.Has(ctx, e.citizen, "newslettr"); err == nil {
			t.Fatal("Has accepted an undeclared purpose")
		}
		if err := rs.Restrict(ctx, e.dpo, e.citizen, "newslettr", privacy.BasisRestriction, "x"); !errors.Is(err, validate.ErrInvalid) {
			t.Fatalf("restricting an undeclared purpose: %v", err)
		}
	})
}

// TestRetentionHoldsBackRowsOfARestrictedPerson shows that the retention
// clock leaves the access-log rows of a person whose accountability
// purpose is restricted, and deletes everyone else's.
func TestRetentionHoldsBackRowsOfARestrictedPerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newRestrictionEnv(t, db)
		now := time.Date(2029, 6, 1, 12, 0, 0, 0, time.UTC)
		old := store.Micros(now.AddDate(-2, 0, -1))
		for _, subject := range []int64{e.citizen, e.dpo} {
			if _, err := db.Exec(ctx, `INSERT INTO access_log (at, subject_account, reader_account, reader_role, data, purpose) VALUES (?, ?, ?, 'admin', 'accounts.email_sealed', 'support')`,
				old, subject, e.dpo); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.requests.Restrictions.Restrict(ctx, e.dpo, e.citizen, "accountability", privacy.BasisRestriction, "Needed for a legal claim"); err != nil {
			t.Fatal(err)
		}
		job := privacy.NewRetentionJob(db, e.log, e.crypt)
		job.SetClock(func() time.Time { return now })
		if _, err := job.Run(ctx); err != nil {
			t.Fatal(err)
		}
		for subject, want := range map[int64]int{e.citizen: 1, e.dpo: 0} {
			var n int
			db.QueryRow(ctx, "SELECT COUNT(*) FROM access_log WHERE subject_account = ?", subject).Scan(&n)
			if n != want {
				t.Errorf("account %d: %d access-log rows after retention, want %d", subject, n, want)
			}
		}
	})
}
