package petition_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/participationtest"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/validate"
)

func setup(t *testing.T, db *store.DB, moderated bool, threshold int) (*participationtest.Env, *petition.Service, int64, int64) {
	e := participationtest.New(t, db)
	official := e.Account(t)
	p := e.Process(t, official, participation.Eligibility{})
	svc := petition.New(e.P)
	space, err := svc.CreateSpace(context.Background(), official, petition.SpaceInput{ProcessID: p.ID, PhaseID: p.Phases[0].ID,
		Title: "City petitions", Moderated: moderated, Threshold: threshold, ResponseDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	return e, svc, official, space
}

func TestSignOnceWithdrawAndThreshold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, svc, official, space := setup(t, db, false, 2)
		ctx := context.Background()
		author, a, b := e.Account(t), e.Account(t), e.Account(t)
		p, err := svc.File(ctx, author, space, petition.Input{Title: "More benches", Body: "In every park."})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := svc.Sign(ctx, a, p.ID, ""); err != nil || n != 1 {
			t.Fatalf("first signature: %d, %v", n, err)
		}
		if _, err := svc.Sign(ctx, a, p.ID, ""); !errors.Is(err, petition.ErrAlreadySigned) {
			t.Fatalf("second signature: %v, want already signed", err)
		}
		if n, err := svc.Withdraw(ctx, a, p.ID); err != nil || n != 0 {
			t.Fatalf("withdraw: %d, %v", n, err)
		}
		if _, err := svc.Withdraw(ctx, a, p.ID); !errors.Is(err, petition.ErrNotSigned) {
			t.Fatalf("withdraw twice: %v", err)
		}
		svc.Sign(ctx, a, p.ID, "")
		if _, err := svc.Sign(ctx, b, p.ID, "Boris"); err != nil {
			t.Fatal(err)
		}
		got, err := svc.Get(ctx, p.ID, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if got.Signatures != 2 || got.Reached == nil || got.ResponseDue == nil || !got.ResponseDue.Equal(e.Now.Add(30*24*time.Hour)) {
			t.Fatalf("after the threshold: %+v", got)
		}
		// Boris gave a name but no consent to public_name: nobody is listed.
		if list, _ := svc.PublicSigners(ctx, p.ID, 10); len(list) != 0 {
			t.Errorf("signers listed without consent: %v", list)
		}
		if _, err := db.Exec(ctx, `INSERT INTO consents (account_id, purpose, state, notice_version, method, at) VALUES (?, 'public_name', 'given', 2, 'api', 0)`, b); err != nil {
			t.Fatal(err)
		}
		if list, _ := svc.PublicSigners(ctx, p.ID, 10); len(list) != 1 || list[0].Name != "Boris" {
			t.Errorf("with consent: %v", list)
		}
		if _, err := db.Exec(ctx, `INSERT INTO consents (account_id, purpose, state, notice_version, method, at) VALUES (?, 'public_name', 'withdrawn', 2, 'api', 1)`, b); err != nil {
			t.Fatal(err)
		}
		if list, _ := svc.PublicSigners(ctx, p.ID, 10); len(list) != 0 {
			t.Errorf("after withdrawal the name is still shown: %v", list)
		}
		// The deadline passes: escalated once.
		e.Now = e.Now.Add(31 * 24 * time.Hour)
		ids, err := svc.EscalateOverdue(ctx)
		if err != nil || len(ids) != 1 || ids[0] != p.ID {
			t.Fatalf("escalate: %v %v", ids, err)
		}
		if ids, _ := svc.EscalateOverdue(ctx); len(ids) != 0 {
			t.Errorf("escalated twice: %v", ids)
		}
		if err := svc.Respond(ctx, official, p.ID, "We will add benches."); err != nil {
			t.Fatal(err)
		}
		got, _ = svc.Get(ctx, p.ID, 0, false)
		if got.Status != petition.Answered || got.Overdue(e.Now) {
			t.Errorf("after the response: %s overdue=%v", got.Status, got.Overdue(e.Now))
		}
		actions := strings.Join(e.Entries(t), " ")
		for _, a := range []string{"petition.filed", "petition.signed", "petition.signature_withdrawn", "petition.threshold_reached", "petition.response_overdue", "petition.answered"} {
			if !strings.Contains(actions, a) {
				t.Errorf("no audit entry %s in %s", a, actions)
			}
		}
	})
}

func TestConcurrentDoubleSignCountsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, svc, _, space := setup(t, db, false, 1000)
		ctx := context.Background()
		author, signer := e.Account(t), e.Account(t)
		p, err := svc.File(ctx, author, space, petition.Input{Title: "Lights", Body: "On the bridge."})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.Sign(ctx, signer, p.ID, "")
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, petition.ErrAlreadySigned):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		got, _ := svc.Get(ctx, p.ID, 0, false)
		if ok != 1 || got.Signatures != 1 {
			t.Fatalf("%d signatures accepted, count %d; want exactly 1", ok, got.Signatures)
		}
	})
}

func TestRefusalsChangeNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, svc, official, space := setup(t, db, true, 10)
		ctx := context.Background()
		author, signer := e.Account(t), e.Account(t)
		var v validate.Errors
		if _, err := svc.File(ctx, author, space, petition.Input{Title: strings.Repeat("x", petition.MaxTitle+1), Body: "b"}); !errors.As(err, &v) {
			t.Errorf("oversized title: %v", err)
		}
		if _, err := svc.File(ctx, author, space, petition.Input{Kind: "decree", Title: "t", Body: "b"}); !errors.As(err, &v) {
			t.Errorf("bad kind: %v", err)
		}
		p, err := svc.File(ctx, author, space, petition.Input{Title: "Held", Body: "for review"})
		if err != nil || p.Status != petition.Pending {
			t.Fatalf("moderated filing: %+v %v", p, err)
		}
		if _, err := svc.Sign(ctx, signer, p.ID, ""); !errors.Is(err, petition.ErrNotOpen) {
			t.Errorf("signing a pending petition: %v", err)
		}
		if _, err := svc.Get(ctx, p.ID, signer, false); !errors.Is(err, participation.ErrNotFound) {
			t.Errorf("a pending petition is visible to others: %v", err)
		}
		if err := svc.Review(ctx, official, p.ID, false, ""); !errors.As(err, &v) {
			t.Errorf("rejection without a reason: %v", err)
		}
		if err := svc.Review(ctx, official, p.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if err := svc.Review(ctx, official, p.ID, true, ""); !errors.Is(err, petition.ErrNotPending) {
			t.Errorf("second review: %v", err)
		}
		e.Now = e.Now.Add(8 * 24 * time.Hour) // the phase is over
		var pe *participation.PhaseError
		if _, err := svc.Sign(ctx, signer, p.ID, ""); !errors.As(err, &pe) || pe.State != participation.Closed {
			t.Errorf("signing after the phase: %v", err)
		}
		var n int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM petition_signatures").Scan(&n)
		if n != 0 {
			t.Errorf("%d signatures stored by refused requests", n)
		}
	})
}

func TestIneligibleCannotSign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := participationtest.New(t, db)
		ctx := context.Background()
		official, author := e.Account(t), e.Account(t)
		p := e.Process(t, official, participation.Eligibility{ResidentsOnly: true})
		svc := petition.New(e.P)
		space, err := svc.CreateSpace(ctx, official, petition.SpaceInput{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Residents", Threshold: 5, ResponseDays: 10})
		if err != nil {
			t.Fatal(err)
		}
		var ne *participation.NotEligibleError
		if _, err := svc.File(ctx, author, space, petition.Input{Title: "t", Body: "b"}); !errors.As(err, &ne) || ne.Reason != participation.ReasonResidentRequired {
			t.Errorf("filing while not a verified resident: %v", err)
		}
	})
}

func TestErasedSignerStillCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, svc, _, space := setup(t, db, false, 10)
		ctx := context.Background()
		author, signer := e.Account(t), e.Account(t)
		p, _ := svc.File(ctx, author, space, petition.Input{Title: "Trees", Body: "Plant them."})
		if _, err := svc.Sign(ctx, signer, p.ID, ""); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return e.Crypt.Erase(ctx, tx, "account:"+participation.ID(author)) }); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{author, signer} {
			if _, err := db.Exec(ctx, "DELETE FROM accounts WHERE id = ?", id); err != nil {
				t.Fatal(err)
			}
		}
		got, err := svc.Get(ctx, p.ID, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if got.Signatures != 1 || !got.Erased || got.Title != "" {
			t.Errorf("after erasure: signatures %d erased %v title %q", got.Signatures, got.Erased, got.Title)
		}
	})
}
