package consultation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/participationtest"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/validate"
)

const draft = "Why we consult.\n\n## Trees\nPlant 500 trees.\n\n## Benches\nAdd benches.\n"

func setup(t *testing.T, db *store.DB) (*participationtest.Env, *consultation.Service, int64, int64) {
	e := participationtest.New(t, db)
	official := e.Account(t)
	p := e.Process(t, official, participation.Eligibility{})
	svc := consultation.New(e.P)
	space, err := svc.Create(context.Background(), official, consultation.Input{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Parks plan", Document: draft})
	if err != nil {
		t.Fatal(err)
	}
	// Accounts made by the env are brand new; age them past pre-moderation.
	e.Now = e.Now.Add(participation.NewAccountAge)
	e.Now = e.Now.Add(-time.Hour)
	return e, svc, official, space
}

func TestCommentsThreadsAnswersAndReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, svc, official, space := setup(t, db)
		ctx := context.Background()
		anna, boris := e.Account(t), e.Account(t)
		db.Exec(ctx, "UPDATE accounts SET created_at = 0")
		con, err := svc.Get(ctx, space)
		if err != nil {
			t.Fatal(err)
		}
		if con.Intro != "Why we consult." || len(con.Sections) != 2 || con.Sections[0].Heading != "Trees" {
			t.Fatalf("sections: %+v", con)
		}
		trees := con.Sections[0].ID
		c1, err := svc.Post(ctx, anna, space, trees, 0, "Plant oaks, not birches.")
		if err != nil {
			t.Fatal(err)
		}
		reply, err := svc.Post(ctx, boris, space, 0, c1.ID, "Oaks grow slowly.")
		if err != nil {
			t.Fatal(err)
		}
		if reply.SectionID != trees {
			t.Errorf("a reply belongs to its parent's section, got %d", reply.SectionID)
		}
		if err := svc.React(ctx, boris, c1.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := svc.React(ctx, boris, c1.ID, false); err != nil { // changes to disagree
			t.Fatal(err)
		}
		if err := svc.Edit(ctx, anna, c1.ID, "Plant oaks and limes."); err != nil {
			t.Fatal(err)
		}
		if err := svc.Edit(ctx, boris, c1.ID, "hijack"); !errors.Is(err, consultation.ErrNotAuthor) {
			t.Errorf("editing another's comment: %v", err)
		}
		hist, err := svc.History(ctx, c1.ID)
		if err != nil || len(hist) != 1 || hist[0].Body != "Plant oaks, not birches." {
			t.Fatalf("history: %v %v", hist, err)
		}
		page, err := svc.Comments(ctx, space, trees, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Threads) != 1 || page.Threads[0].Body != "Plant oaks and limes." || page.Threads[0].Agree != 0 || page.Threads[0].Disagree != 1 ||
			len(page.Threads[0].Replies) != 1 || page.Threads[0].Author == "" || page.Threads[0].Author == page.Threads[0].Replies[0].Author {
			t.Fatalf("thread: %+v", page.Threads[0])
		}
		if err := svc.Answer(ctx, official, space, consultation.AnswerInput{CommentID: c1.ID, Outcome: "accepted", Body: "Limes added."}); err != nil {
			t.Fatal(err)
		}
		if err := svc.Answer(ctx, official, space, consultation.AnswerInput{SectionID: trees, Outcome: "partly", Body: "400 trees."}); err != nil {
			t.Fatal(err)
		}
		var v validate.Errors
		if err := svc.Answer(ctx, official, space, consultation.AnswerInput{CommentID: c1.ID, SectionID: trees, Outcome: "accepted", Body: "x"}); !errors.As(err, &v) {
			t.Errorf("answer to both a comment and a section: %v", err)
		}
		if err := svc.PublishReport(ctx, official, space, "See #c1."); !errors.Is(err, consultation.ErrNoReport) {
			t.Errorf("report while open: %v", err)
		}
		if err := e.P.CloseSpace(ctx, official, space); err != nil {
			t.Fatal(err)
		}
		var pe *participation.PhaseError
		if _, err := svc.Post(ctx, anna, space, 0, 0, "late"); !errors.As(err, &pe) {
			t.Errorf("posting after close: %v", err)
		}
		if err := svc.PublishReport(ctx, official, space, fmt.Sprintf("We took up #c%d.", c1.ID)); err != nil {
			t.Fatal(err)
		}
		out, err := svc.Outcomes(ctx, space)
		if err != nil || len(out) != 2 || out[0].Outcome != "accepted" {
			t.Fatalf("outcomes: %+v %v", out, err)
		}
	})
}

func TestBadCommentsChangeNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, svc, _, space := setup(t, db)
		ctx := context.Background()
		anna := e.Account(t)
		db.Exec(ctx, "UPDATE accounts SET created_at = 0")
		for name, body := range map[string]string{"empty": "  ", "oversized": strings.Repeat("é", consultation.MaxComment+1), "control": "a\x00b"} {
			var v validate.Errors
			if _, err := svc.Post(ctx, anna, space, 0, 0, body); !errors.As(err, &v) {
				t.Errorf("%s: %v", name, err)
			}
		}
		var v validate.Errors
		if _, err := svc.Post(ctx, anna, space, 999999, 0, "ok"); !errors.As(err, &v) {
			t.Errorf("unknown section: %v", err)
		}
		if _, err := svc.Post(ctx, anna, space, 0, 999999, "ok"); !errors.As(err, &v) {
			t.Errorf("unknown parent: %v", err)
		}
		var n int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM comments").Scan(&n)
		if n != 0 {
			t.Errorf("%d comments stored by refused requests", n)
		}
	})
}

func TestNewAccountsPostingLinksOrRepeatsAreHeld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, svc, _, space := setup(t, db)
		ctx := context.Background()
		fresh := e.Account(t) // created "now": new
		c, err := svc.Post(ctx, fresh, space, 0, 0, "Buy now at https://spam.example")
		if err != nil || c.Status != consultation.Pending {
			t.Fatalf("new account with a link: %+v %v", c, err)
		}
		c, _ = svc.Post(ctx, fresh, space, 0, 0, "Parks are great")
		if c.Status != consultation.Published {
			t.Errorf("new account, plain text: %s", c.Status)
		}
		c, _ = svc.Post(ctx, fresh, space, 0, 0, "parks   are GREAT")
		if c.Status != consultation.Pending {
			t.Errorf("new account repeating itself: %s", c.Status)
		}
		page, _ := svc.Comments(ctx, space, 0, 0, 1)
		if page.Total != 1 {
			t.Errorf("the public sees %d threads, want only the published one", page.Total)
		}
		page, _ = svc.Comments(ctx, space, 0, fresh, 1)
		if page.Total != 3 {
			t.Errorf("the author sees %d threads, want all 3", page.Total)
		}
	})
}

func TestErasedAuthorsCommentsBecomeUnreadable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, svc, _, space := setup(t, db)
		ctx := context.Background()
		anna, boris := e.Account(t), e.Account(t)
		db.Exec(ctx, "UPDATE accounts SET created_at = 0")
		c, _ := svc.Post(ctx, anna, space, 0, 0, "my secret view")
		svc.React(ctx, boris, c.ID, true)
		if err := db.InTx(ctx, func(tx *store.Tx) error { return e.Crypt.Erase(ctx, tx, "account:"+participation.ID(anna)) }); err != nil {
			t.Fatal(err)
		}
		page, err := svc.Comments(ctx, space, 0, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		got := page.Threads[0]
		if !got.Erased || got.Body != "" || got.Author != "" || got.Agree != 1 {
			t.Errorf("after erasure: %+v", got)
		}
	})
}

func TestCommentPagesHoldTwentyThreads(t *testing.T) {
	db := storetest.SQLite(t)
	e, svc, _, space := setup(t, db)
	ctx := context.Background()
	anna := e.Account(t)
	db.Exec(ctx, "UPDATE accounts SET created_at = 0")
	for i := range 45 {
		if _, err := svc.Post(ctx, anna, space, 0, 0, fmt.Sprintf("comment %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	page, err := svc.Comments(ctx, space, 0, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if page.Pages != 3 || len(page.Threads) != 5 || page.Threads[0].Body != "comment 4" {
		t.Errorf("page 3: pages %d, %d threads, first %q", page.Pages, len(page.Threads), page.Threads[0].Body)
	}
}
