package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/mail"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/notify"
	"github.com/veche/veche/internal/participation/participationtest"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

const publicURL = "https://veche.example"

type env struct {
	*participationtest.Env
	n        *notify.Service
	con      *consultation.Service
	pet      *petition.Service
	official int64
	process  *participation.Process
}

func newEnv(t *testing.T, db *store.DB) *env {
	e := &env{Env: participationtest.New(t, db)}
	e.n = notify.New(e.P, publicURL+"/")
	e.con, e.pet = consultation.New(e.P), petition.New(e.P)
	e.official = e.Account(t)
	e.process = e.Process(t, e.official, participation.Eligibility{})
	return e
}

// person creates an account with a confirmed, sealed address and a language.
func (e *env) person(t *testing.T, email, locale string) int64 {
	t.Helper()
	id := e.Account(t)
	ctx := context.Background()
	if _, err := e.DB.Exec(ctx, "UPDATE accounts SET created_at = 0 WHERE id = ?", id); err != nil {
		t.Fatal(err)
	}
	err := e.DB.InTx(ctx, func(tx *store.Tx) error {
		sealed, err := e.P.Seal(ctx, tx, id, "accounts", "email", id, email)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE accounts SET email_sealed = ?, locale = ? WHERE id = ?", sealed, locale, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *env) consultation(t *testing.T) (space, section int64) {
	t.Helper()
	space, err := e.con.Create(context.Background(), e.official, consultation.Input{ProcessID: e.process.ID, PhaseID: e.process.Phases[0].ID,
		Title: "Parks plan", Document: "Intro.\n\n## Trees\nPlant trees.\n"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.con.Get(context.Background(), space)
	if err != nil {
		t.Fatal(err)
	}
	return space, c.Sections[0].ID
}

func (e *env) list(t *testing.T, account int64) []notify.Item {
	t.Helper()
	items, err := e.n.List(context.Background(), account, i18n.English, 1)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func kinds(items []notify.Item) string {
	var out []string
	for _, it := range items {
		k := it.Kind
		if it.Event != "" {
			k += "." + it.Event
		}
		out = append(out, k)
	}
	return strings.Join(out, " ")
}

func (e *env) run(t *testing.T) notify.RunResult {
	t.Helper()
	res, err := e.n.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// outbox opens the queued mail.
func (e *env) outbox(t *testing.T) []mail.Message {
	t.Helper()
	rows, err := e.DB.Query(context.Background(), "SELECT id, subject_ref, sealed FROM mail_outbox ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []mail.Message
	for rows.Next() {
		var id, subject string
		var sealed []byte
		if err := rows.Scan(&id, &subject, &sealed); err != nil {
			t.Fatal(err)
		}
		b, err := e.Crypt.Open(context.Background(), subject, fieldcrypt.FieldRef{Table: "mail_outbox", Column: "message", Row: id}, sealed)
		if err != nil {
			t.Fatal(err)
		}
		var m mail.Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func to(msgs []mail.Message, addr string) []mail.Message {
	var out []mail.Message
	for _, m := range msgs {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

func TestReplyNotifiesTheParentAuthorAndNotTheReplier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		anna, boris := e.person(t, "anna@example.org", "en"), e.person(t, "boris@example.org", "en")
		space, _ := e.consultation(t)
		c, err := e.con.Post(ctx, anna, space, 0, 0, "Plant oaks.")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.con.Post(ctx, boris, space, 0, c.ID, "Oaks grow slowly."); err != nil {
			t.Fatal(err)
		}
		if _, err := e.con.Post(ctx, anna, space, 0, c.ID, "Limes then."); err != nil {
			t.Fatal(err)
		}
		got := e.list(t, anna)
		if kinds(got) != "reply" || got[0].Read || !strings.Contains(got[0].Text, "“Parks plan”") ||
			got[0].Link != "/consultations/"+participation.ID(space)+"#c"+participation.ID(c.ID+1) {
			t.Fatalf("anna's notifications: %+v", got)
		}
		if got := e.list(t, boris); len(got) != 0 {
			t.Errorf("the replier was notified: %+v", got)
		}
		for _, who := range []int64{anna, boris} {
			if ok, _ := e.n.Following(ctx, who, e.process.ID); !ok {
				t.Errorf("account %d took part but does not follow the process", who)
			}
		}
		if n, _ := e.n.MarkRead(ctx, anna, 0); n != 1 {
			t.Errorf("marked %d read, want 1", n)
		}
		if n, _ := e.n.Unread(ctx, anna); n != 0 {
			t.Errorf("unread after marking: %d", n)
		}
	})
}

func TestAnswersReachTheCommentAndSectionAuthors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		anna, boris, carl := e.person(t, "a@example.org", "en"), e.person(t, "b@example.org", "en"), e.person(t, "c@example.org", "en")
		space, section := e.consultation(t)
		c, err := e.con.Post(ctx, anna, space, section, 0, "Plant oaks.")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.con.Post(ctx, boris, space, section, 0, "Plant limes."); err != nil {
			t.Fatal(err)
		}
		if _, err := e.con.Post(ctx, carl, space, 0, 0, "On the whole."); err != nil {
			t.Fatal(err)
		}
		if err := e.con.Answer(ctx, e.official, space, consultation.AnswerInput{CommentID: c.ID, Outcome: "accepted", Body: "Yes."}); err != nil {
			t.Fatal(err)
		}
		if err := e.con.Answer(ctx, e.official, space, consultation.AnswerInput{SectionID: section, Outcome: "partly", Body: "Some."}); err != nil {
			t.Fatal(err)
		}
		if got := kinds(e.list(t, anna)); got != "answer.section answer.comment" {
			t.Errorf("anna: %q", got)
		}
		if got := e.list(t, boris); kinds(got) != "answer.section" || !strings.Contains(got[0].Text, "“Trees”") {
			t.Errorf("boris: %+v", got)
		}
		if got := e.list(t, carl); len(got) != 0 {
			t.Errorf("carl commented elsewhere but was told: %+v", got)
		}
	})
}

func TestNewSpacesReachFollowersAndUnfollowingSticks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		anna, boris, dora := e.person(t, "a@example.org", "en"), e.person(t, "b@example.org", "en"), e.person(t, "d@example.org", "en")
		space, _ := e.consultation(t)
		for _, who := range []int64{anna, boris} {
			if _, err := e.con.Post(ctx, who, space, 0, 0, "A thought."); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.n.Follow(ctx, boris, e.process.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := e.n.Follow(ctx, dora, e.process.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := e.con.Post(ctx, boris, space, 0, 0, "Another thought."); err != nil {
			t.Fatal(err)
		}
		if ok, _ := e.n.Following(ctx, boris, e.process.ID); ok {
			t.Fatal("taking part again followed a process its author chose to stop following")
		}
		if err := e.n.Follow(ctx, 424242, 999999, true); !errors.Is(err, participation.ErrNotFound) {
			t.Errorf("following a missing process: %v", err)
		}
		id, err := e.pet.CreateSpace(ctx, e.official, petition.SpaceInput{ProcessID: e.process.ID, PhaseID: e.process.Phases[0].ID,
			Title: "Petitions on parks", Threshold: 1, ResponseDays: 10})
		if err != nil {
			t.Fatal(err)
		}
		for who, want := range map[int64]string{anna: "new_space", dora: "new_space", boris: ""} {
			got := e.list(t, who)
			if kinds(got) != want {
				t.Errorf("account %d: %q, want %q", who, kinds(got), want)
			} else if want != "" && got[0].Link != "/spaces/"+participation.ID(id)+"/petitions" {
				t.Errorf("link %q", got[0].Link)
			}
		}
		if !strings.Contains(strings.Join(e.Entries(t), " "), "process.unfollowed") {
			t.Error("unfollowing is not in the audit log")
		}
	})
}

func TestPetitionResponsesAndMissedDeadlines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		anna, boris := e.person(t, "a@example.org", "en"), e.person(t, "b@example.org", "en")
		space, err := e.pet.CreateSpace(ctx, e.official, petition.SpaceInput{ProcessID: e.process.ID, PhaseID: e.process.Phases[0].ID,
			Title: "Petitions", Threshold: 1, ResponseDays: 10})
		if err != nil {
			t.Fatal(err)
		}
		file := func() int64 {
			p, err := e.pet.File(ctx, anna, space, petition.Input{Kind: petition.KindPetition, Title: "More benches", Body: "Please."})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.pet.Sign(ctx, boris, p.ID, ""); err != nil {
				t.Fatal(err)
			}
			return p.ID
		}
		answered, overdue := file(), file()
		if err := e.pet.Respond(ctx, e.official, answered, "We will."); err != nil {
			t.Fatal(err)
		}
		e.Now = e.Now.Add(11 * 24 * time.Hour)
		for range 2 {
			if _, err := e.pet.EscalateOverdue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := kinds(e.list(t, anna)); got != "deadline.petition answer.petition" {
			t.Errorf("anna (author): %q", got)
		}
		got := e.list(t, boris)
		if kinds(got) != "deadline.petition answer.petition_signed" || got[0].Link != "/petitions/"+participation.ID(overdue) {
			t.Errorf("boris (signer): %+v", got)
		}
	})
}

func TestSpaceDeadlineOncePerSpaceAndPerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		anna := e.person(t, "a@example.org", "en")
		if err := e.n.Follow(ctx, anna, e.process.ID, true); err != nil {
			t.Fatal(err)
		}
		e.consultation(t)
		if res := e.run(t); res.Deadlines != 0 {
			t.Fatalf("deadline notice a week ahead: %+v", res)
		}
		e.Now = e.process.Phases[0].Ends.Add(-47 * time.Hour)
		if res := e.run(t); res.Deadlines != 1 {
			t.Fatalf("first run: %+v", res)
		}
		e.Now = e.Now.Add(time.Hour)
		if res := e.run(t); res.Deadlines != 0 {
			t.Fatalf("second run repeated the deadline: %+v", res)
		}
		if got := e.list(t, anna); kinds(got) != "deadline.space new_space" {
			t.Errorf("anna: %q", kinds(got))
		}
	})
}

// TestEmailModesDigestAndOptOut: "immediately" sends at the next run,
// "daily" sends one digest with every item after a day and then nothing
// more, a kind turned off stays on the site only, "never" sends nothing;
// the mails carry plain links, no tracking, and the genuineness footer in
// the person's language.
func TestEmailModesDigestAndOptOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		anna, boris := e.person(t, "anna@example.org", "be"), e.person(t, "boris@example.org", "en")
		carl, dora := e.person(t, "carl@example.org", "en"), e.person(t, "dora@example.org", "ru")
		prefs := map[int64]notify.Preferences{
			boris: {Email: notify.EmailImmediately},
			carl:  {Email: notify.EmailNever},
			dora:  {Email: notify.EmailImmediately, EmailOff: []string{notify.KindReply}},
		}
		for who, p := range prefs {
			if err := e.n.SetPreferences(ctx, who, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.n.SetPreferences(ctx, anna, notify.Preferences{Email: "hourly"}); err == nil {
			t.Error("an unknown mode was accepted")
		}
		space, section := e.consultation(t)
		var comments []int64
		for _, who := range []int64{anna, boris, carl, dora} {
			c, err := e.con.Post(ctx, who, space, section, 0, "My view.")
			if err != nil {
				t.Fatal(err)
			}
			comments = append(comments, c.ID)
		}
		// Everyone gets a reply from the next person, then a section answer.
		for i, c := range comments {
			if _, err := e.con.Post(ctx, []int64{boris, carl, dora, anna}[i], space, 0, c, "I disagree."); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.con.Answer(ctx, e.official, space, consultation.AnswerInput{SectionID: section, Outcome: "noted", Body: "Thanks."}); err != nil {
			t.Fatal(err)
		}
		e.run(t)
		msgs := e.outbox(t)
		if len(msgs) != 2 || len(to(msgs, "boris@example.org")) != 1 || len(to(msgs, "dora@example.org")) != 1 {
			t.Fatalf("first run: %d mails %+v", len(msgs), msgs)
		}
		if d := to(msgs, "dora@example.org")[0]; strings.Contains(d.Body, "#c") || !strings.Contains(d.Body, "Орган власти ответил на раздел") {
			t.Errorf("dora turned replies off but got one, or not the answer in Russian:\n%s", d.Body)
		}
		if got := kinds(e.list(t, dora)); got != "answer.section reply" {
			t.Errorf("dora's notifications on the site: %q", got)
		}
		e.Now = e.Now.Add(23 * time.Hour)
		e.run(t)
		if n := len(e.outbox(t)); n != 2 {
			t.Fatalf("a digest went out before a day passed: %d mails", n)
		}
		e.Now = e.Now.Add(time.Hour)
		e.run(t)
		msgs = e.outbox(t)
		digest := to(msgs, "anna@example.org")
		if len(msgs) != 3 || len(digest) != 1 || len(to(msgs, "carl@example.org")) != 0 {
			t.Fatalf("after a day: %d mails, %d to anna", len(msgs), len(digest))
		}
		body := digest[0].Body
		if digest[0].Subject != i18n.T(i18n.Belarusian, "notify.mail.subject.digest") || strings.Count(body, "\n* ") != 2 ||
			!strings.Contains(body, "Хтосьці адказаў") || !strings.Contains(body, publicURL+"/consultations/") {
			t.Errorf("anna's digest:\n%s\n%s", digest[0].Subject, body)
		}
		for _, m := range msgs {
			checkUntracked(t, m)
		}
		e.Now = e.Now.Add(48 * time.Hour)
		if e.run(t); len(e.outbox(t)) != 3 {
			t.Error("mail went out again for notifications already sent")
		}
	})
}

// checkUntracked: plain text, links to the instance only, each without a
// query (no per-recipient token), and the footer on genuine messages.
func checkUntracked(t *testing.T, m mail.Message) {
	t.Helper()
	for _, bad := range []string{"<img", "<a ", "utm_", "token"} {
		if strings.Contains(strings.ToLower(m.Body), bad) {
			t.Errorf("mail to %s contains %q:\n%s", m.To, bad, m.Body)
		}
	}
	for _, f := range strings.Fields(m.Body) {
		if strings.Contains(f, "://") && (!strings.HasPrefix(f, publicURL+"/") || strings.Contains(f, "?")) {
			t.Errorf("mail to %s links %q", m.To, f)
		}
	}
	found := false
	for _, l := range i18n.Langs {
		if strings.Contains(m.Body, i18n.T(l, "notify.mail.genuine", "host", "veche.example")) {
			found = true
		}
	}
	if !found {
		t.Errorf("mail to %s lacks the footer on genuine messages:\n%s", m.To, m.Body)
	}
}

func TestErasureRemovesNotificationsFollowsAndPreferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		anna, boris := e.person(t, "a@example.org", "en"), e.person(t, "b@example.org", "en")
		space, _ := e.consultation(t)
		c, err := e.con.Post(ctx, anna, space, 0, 0, "Plant oaks.")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.con.Post(ctx, boris, space, 0, c.ID, "No."); err != nil {
			t.Fatal(err)
		}
		if err := e.n.SetPreferences(ctx, anna, notify.Preferences{Email: notify.EmailNever}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "DELETE FROM accounts WHERE id = ?", anna); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"notifications", "process_follows", "notify_preferences"} {
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM "+table+" WHERE account_id = ?", anna).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%s keeps %d rows of the erased account", table, n)
			}
		}
	})
}

func TestEmitRefusesWhatTheCatalogCannotRender(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		anna := e.person(t, "a@example.org", "en")
		for _, n := range []notify.Notification{
			{Account: anna, Kind: "gossip", Link: "/"},
			{Account: anna, Kind: notify.KindModeration, Event: "deleted", Link: "/"},
			{Account: anna, Kind: notify.KindModeration, Event: "hidden", Link: "https://elsewhere.example/"},
			{Account: anna, Kind: notify.KindModeration, Event: "hidden", Link: "//elsewhere.example/"},
		} {
			err := db.InTx(ctx, func(tx *store.Tx) error { return notify.Emit(ctx, tx, n) })
			if !errors.Is(err, notify.ErrInvalid) {
				t.Errorf("%+v: %v", n, err)
			}
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return notify.Emit(ctx, tx, notify.Notification{Account: anna, Kind: notify.KindModeration, Event: "hidden", Link: "/comments/1/history", At: e.Now})
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range i18n.Langs {
			for _, k := range notify.Kinds {
				if !i18n.Has("notify.kind." + k) {
					t.Errorf("no catalog entry for kind %s", k)
				}
			}
			_ = l
		}
		if got := e.list(t, anna); kinds(got) != "moderation.hidden" || !strings.Contains(got[0].Text, "moderator hid") {
			t.Errorf("%+v", got)
		}
	})
}
