package moderation_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/moderation"
	"github.com/veche/veche/internal/participation/participationtest"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/validate"
)

type env struct {
	*participationtest.Env
	mod      *moderation.Service
	cons     *consultation.Service
	pets     *petition.Service
	official int64
	space    int64 // a consultation
	pspace   int64 // a petition space
}

func setup(t *testing.T, db *store.DB) *env {
	t.Helper()
	e := &env{Env: participationtest.New(t, db)}
	e.mod, e.cons, e.pets = moderation.New(e.P), consultation.New(e.P), petition.New(e.P)
	e.official = e.Account(t)
	p := e.Process(t, e.official, participation.Eligibility{})
	ctx := context.Background()
	var err error
	if e.space, err = e.cons.Create(ctx, e.official, consultation.Input{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Parks", Document: "Intro"}); err != nil {
		t.Fatal(err)
	}
	if e.pspace, err = e.pets.CreateSpace(ctx, e.official, petition.SpaceInput{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Petitions",
		Threshold: 10, ResponseDays: 30}); err != nil {
		t.Fatal(err)
	}
	return e
}

// citizen creates an account old enough to escape pre-moderation, with a
// sealed address and a language, so that mail to it can be checked.
func (e *env) citizen(t *testing.T, email, locale string) int64 {
	t.Helper()
	id := e.Account(t)
	ctx := context.Background()
	err := e.DB.InTx(ctx, func(tx *store.Tx) error {
		sealed, err := e.Crypt.Seal(ctx, tx, identity.Subject(id), fieldcrypt.FieldRef{Table: "accounts", Column: "email", Row: participation.ID(id)}, []byte(email))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE accounts SET email_sealed = ?, locale = ?, created_at = 0 WHERE id = ?", sealed, locale, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// outbox returns the opened messages queued to account.
func (e *env) outbox(t *testing.T, account int64) []string {
	t.Helper()
	rows, err := e.DB.Query(context.Background(), "SELECT id, sealed FROM mail_outbox WHERE subject_ref = ? ORDER BY id", identity.Subject(account))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		var sealed []byte
		if err := rows.Scan(&id, &sealed); err != nil {
			t.Fatal(err)
		}
		b, err := e.Crypt.Open(context.Background(), identity.Subject(account), fieldcrypt.FieldRef{Table: "mail_outbox", Column: "message", Row: participation.ID(id)}, sealed)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func (e *env) comment(t *testing.T, author int64, body string) *consultation.Comment {
	t.Helper()
	c, err := e.cons.Post(context.Background(), author, e.space, 0, 0, body)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFlagOncePerPersonAndItem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		author, flagger := e.citizen(t, "a@example.org", "en"), e.citizen(t, "f@example.org", "en")
		c := e.comment(t, author, "Cut the trees down")
		in := moderation.FlagInput{Kind: moderation.KindComment, ItemID: c.ID, Reason: "abuse", Details: "Insults the neighbours"}
		if _, err := e.mod.Flag(ctx, flagger, in); err != nil {
			t.Fatal(err)
		}
		if _, err := e.mod.Flag(ctx, flagger, in); !errors.Is(err, moderation.ErrAlreadyFlagged) {
			t.Fatalf("second flag: %v, want already flagged", err)
		}
		// Parallel: many submits of another person's flag end in one.
		other := e.citizen(t, "o@example.org", "en")
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 8 {
			wg.Go(func() {
				_, err := e.mod.Flag(ctx, other, moderation.FlagInput{Kind: moderation.KindComment, ItemID: c.ID, Reason: "spam"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, moderation.ErrAlreadyFlagged):
					t.Errorf("parallel flag: %v", err)
				}
			})
		}
		wg.Wait()
		var n int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM moderation_flags WHERE flagger_id = ?", other).Scan(&n)
		if ok != 1 || n != 1 {
			t.Fatalf("parallel flags: %d accepted, %d stored, want 1", ok, n)
		}
		// Anyone may flag, signed out too, but without details.
		if _, err := e.mod.Flag(ctx, 0, moderation.FlagInput{Kind: moderation.KindComment, ItemID: c.ID, Reason: "spam"}); err != nil {
			t.Fatalf("anonymous flag: %v", err)
		}
		if _, err := e.mod.Flag(ctx, 0, moderation.FlagInput{Kind: moderation.KindComment, ItemID: c.ID, Reason: "spam", Details: "x"}); !errors.Is(err, validate.ErrInvalid) {
			t.Fatalf("anonymous details: %v", err)
		}
		q, err := e.mod.Queue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 1 || len(q[0].Flags) != 3 || q[0].Body != "Cut the trees down" || q[0].Flags[0].Details != "Insults the neighbours" {
			t.Fatalf("queue: %+v", q)
		}
	})
}

func TestBadFlagsAreRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		author := e.citizen(t, "a@example.org", "en")
		c := e.comment(t, author, "Hello")
		for _, in := range []moderation.FlagInput{
			{Kind: "comment", ItemID: c.ID, Reason: "boring"},
			{Kind: "survey", ItemID: c.ID, Reason: "spam"},
			{Kind: "comment", ItemID: c.ID, Reason: "other", Details: strings.Repeat("x", moderation.MaxDetails+1)},
			{Kind: "comment", ItemID: c.ID, Reason: moderation.ReasonReview}, // not hidden
		} {
			if _, err := e.mod.Flag(ctx, author, in); !errors.Is(err, validate.ErrInvalid) {
				t.Errorf("%+v: %v, want invalid", in, err)
			}
		}
		if _, err := e.mod.Flag(ctx, author, moderation.FlagInput{Kind: "comment", ItemID: c.ID + 100, Reason: "spam"}); !errors.Is(err, participation.ErrNotFound) {
			t.Errorf("missing item: %v", err)
		}
		var n int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM moderation_flags").Scan(&n)
		if n != 0 {
			t.Errorf("%d flags stored from refusals", n)
		}
	})
}

func TestHideAndRestoreComment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		author, flagger := e.citizen(t, "a@example.org", "be"), e.citizen(t, "f@example.org", "en")
		c := e.comment(t, author, "Call 555-0100 and ask for Ivan")
		if _, err := e.mod.Flag(ctx, flagger, moderation.FlagInput{Kind: "comment", ItemID: c.ID, Reason: "personal_data"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.mod.Decide(ctx, e.official, moderation.Decision{Kind: "comment", ItemID: c.ID, Action: moderation.Hide}); !errors.Is(err, validate.ErrInvalid) {
			t.Fatalf("hide without a public reason: %v", err)
		}
		before := len(e.Entries(t))
		a, err := e.mod.Decide(ctx, e.official, moderation.Decision{Kind: "comment", ItemID: c.ID, Action: moderation.Hide, PublicReason: "Publishes a phone number"})
		if err != nil {
			t.Fatal(err)
		}
		if a.Digest != auditlog.Digest([]byte("Call 555-0100 and ask for Ivan")) {
			t.Errorf("digest %q", a.Digest)
		}
		if got := e.Entries(t)[before:]; len(got) != 1 || got[0] != "moderation.hide" {
			t.Errorf("audit entries %v, want one moderation.hide", got)
		}
		// The audit entry holds the digest, not the text.
		var raw []byte
		db.QueryRow(ctx, "SELECT entry FROM auditlog_pending ORDER BY id DESC LIMIT 1").Scan(&raw)
		if !strings.Contains(string(raw), a.Digest) || strings.Contains(string(raw), "555-0100") || strings.Contains(string(raw), "phone") {
			t.Errorf("audit entry: %s", raw)
		}
		page, err := e.cons.Comments(ctx, e.space, 0, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Threads) != 1 || page.Threads[0].Status != consultation.Hidden || page.Threads[0].Body != "" {
			t.Fatalf("hidden comment in the page: %+v", page.Threads)
		}
		reasons, _ := e.mod.HiddenReasons(ctx, "comment", []int64{c.ID})
		if reasons[c.ID] != "Publishes a phone number" {
			t.Errorf("reasons %v", reasons)
		}
		mails := e.outbox(t, author)
		if len(mails) != 1 || !strings.Contains(mails[0], "Publishes a phone number") || !strings.Contains(mails[0], "a@example.org") ||
			!strings.Contains(mails[0], "/flag?kind=comment") {
			t.Fatalf("mail to the author: %q", mails)
		}
		if !strings.Contains(mails[0], "Мадэратар схаваў") {
			t.Errorf("mail not in the author's language (be): %q", mails[0])
		}
		q, _ := e.mod.Queue(ctx)
		if len(q) != 0 {
			t.Errorf("queue after the decision: %+v", q)
		}
		var told int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE account_id = ? AND kind = 'moderation' AND event = 'hidden'", author).Scan(&told)
		if told != 1 {
			t.Errorf("%d notifications on the site, want 1", told)
		}
		// The author asks for a review; the queue shows it; a moderator restores.
		if _, err := e.mod.Flag(ctx, flagger, moderation.FlagInput{Kind: "comment", ItemID: c.ID, Reason: moderation.ReasonReview}); !errors.Is(err, validate.ErrInvalid) {
			t.Errorf("review by someone else: %v", err)
		}
		if _, err := e.mod.Flag(ctx, author, moderation.FlagInput{Kind: "comment", ItemID: c.ID, Reason: moderation.ReasonReview, Details: "It is the city's hotline"}); err != nil {
			t.Fatal(err)
		}
		if q, _ := e.mod.Queue(ctx); len(q) != 1 || !q[0].Reviewing {
			t.Fatalf("review request not queued: %+v", q)
		}
		if _, err := e.mod.Decide(ctx, e.official, moderation.Decision{Kind: "comment", ItemID: c.ID, Action: moderation.Restore, PublicReason: "A public hotline"}); err != nil {
			t.Fatal(err)
		}
		page, _ = e.cons.Comments(ctx, e.space, 0, 0, 1)
		if page.Threads[0].Status != consultation.Published || page.Threads[0].Body == "" {
			t.Fatalf("restored comment: %+v", page.Threads[0])
		}
		if len(e.outbox(t, author)) != 2 {
			t.Errorf("no mail on restore")
		}
		if _, err := e.mod.Decide(ctx, e.official, moderation.Decision{Kind: "comment", ItemID: c.ID, Action: moderation.Restore, PublicReason: "again"}); !errors.Is(err, moderation.ErrNotApplicable) {
			t.Errorf("restore twice: %v", err)
		}
		log, _, err := e.mod.Log(ctx, 1)
		if err != nil || len(log) != 2 || log[0].Action.Action != moderation.Restore || log[1].PublicReason != "Publishes a phone number" {
			t.Fatalf("log %+v %v", log, err)
		}
	})
}

func TestHiddenPetitionIsGoneFromPublicViews(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		author, signer := e.citizen(t, "a@example.org", "ru"), e.citizen(t, "s@example.org", "en")
		p, err := e.pets.File(ctx, author, e.pspace, petition.Input{Title: "Ban cars", Body: "Everywhere."})
		if err != nil || p.Status != petition.Published {
			t.Fatalf("file: %v %+v", err, p)
		}
		if _, err := e.mod.Decide(ctx, e.official, moderation.Decision{Kind: "petition", ItemID: p.ID, Action: moderation.Hide, PublicReason: "Off topic"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.pets.Get(ctx, p.ID, 0, false); !errors.Is(err, participation.ErrNotFound) {
			t.Errorf("public get of a hidden petition: %v", err)
		}
		if own, err := e.pets.Get(ctx, p.ID, author, false); err != nil || own.Title != "" || own.Body != "" {
			t.Errorf("the author's view of a hidden petition: %+v %v", own, err)
		}
		if list, total, _ := e.pets.List(ctx, e.pspace, author, "", 1); len(list) != 0 || total != 0 {
			t.Errorf("hidden petition listed: %d", total)
		}
		if _, err := e.pets.Sign(ctx, signer, p.ID, ""); !errors.Is(err, participation.ErrNotFound) {
			t.Errorf("signing a hidden petition: %v", err)
		}
		if len(e.outbox(t, author)) != 1 {
			t.Errorf("author not mailed")
		}
		if _, err := e.mod.Decide(ctx, e.official, moderation.Decision{Kind: "petition", ItemID: p.ID, Action: moderation.Restore, PublicReason: "On topic after all"}); err != nil {
			t.Fatal(err)
		}
		if got, err := e.pets.Get(ctx, p.ID, 0, false); err != nil || got.Status != petition.Published || got.Title != "Ban cars" {
			t.Errorf("restored petition: %+v %v", got, err)
		}
	})
}

func TestNewAccountPetitionWithLinksIsHeldInTheQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		ctx := context.Background()
		fresh := e.Account(t) // created now: a new account
		p, err := e.pets.File(ctx, fresh, e.pspace, petition.Input{Title: "Cheap pills", Body: "See https://spam.example"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != petition.Pending {
			t.Fatalf("status %s, want pending", p.Status)
		}
		again, err := e.pets.File(ctx, fresh, e.pspace, petition.Input{Title: "More trees", Body: "Plant them."})
		if err != nil || again.Status != petition.Published {
			t.Fatalf("a plain petition: %v %+v", err, again)
		}
		repeat, err := e.pets.File(ctx, fresh, e.pspace, petition.Input{Title: "More  trees", Body: "plant them."})
		if err != nil || repeat.Status != petition.Pending {
			t.Fatalf("a repeat: %v %+v", err, repeat)
		}
		e.Now = e.Now.Add(participation.NewAccountAge + time.Hour)
		old, err := e.pets.File(ctx, fresh, e.pspace, petition.Input{Title: "Links", Body: "https://city.example/plan"})
		if err == nil && old.Status != petition.Published {
			t.Errorf("an older account's link was held")
		}
		q, err := e.mod.Queue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 2 || q[0].ID != p.ID || !q[0].Held || q[0].Title != "Cheap pills" || q[1].ID != repeat.ID {
			t.Fatalf("queue: %+v", q)
		}
		if _, err := e.mod.Decide(ctx, e.official, moderation.Decision{Kind: "petition", ItemID: repeat.ID, Action: moderation.Approve}); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.pets.Get(ctx, repeat.ID, 0, false); got == nil || got.Status != petition.Published || got.Published == nil {
			t.Errorf("approved petition: %+v", got)
		}
		if _, err := e.mod.Decide(ctx, e.official, moderation.Decision{Kind: "petition", ItemID: repeat.ID, Action: moderation.Approve}); !errors.Is(err, moderation.ErrNotApplicable) {
			t.Errorf("approve twice: %v", err)
		}
		if _, err := e.mod.Decide(ctx, e.official, moderation.Decision{Kind: "petition", ItemID: p.ID, Action: moderation.Dismiss}); !errors.Is(err, moderation.ErrNotApplicable) {
			t.Errorf("dismiss without flags: %v", err)
		}
	})
}
