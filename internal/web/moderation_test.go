package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/moderation"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/secops"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/web/browsertest"
)

func init() {
	a11yAreaVisits = append(a11yAreaVisits, func(fx *a11yFixture) map[string][]a11yVisit {
		d := fx.moderationData()
		return map[string][]a11yVisit{
			"/flag": {
				{fmt.Sprintf("/flag?kind=comment&id=%d", d.comment), 200},
				{fmt.Sprintf("/flag?kind=petition&id=%d", d.petition), 200},
			},
			"/moderation":     {{"/moderation", 200}},
			"/moderation/log": {{"/moderation/log", 200}},
		}
	})
}

// moderationFixture is what the accessibility sweep finds on the
// moderation pages: a flagged comment, a hidden one, a held petition.
type moderationFixture struct{ comment, petition int64 }

var moderationFixtures sync.Map // *a11yFixture -> *moderationFixture

func (fx *a11yFixture) moderationData() *moderationFixture {
	if fx.e == nil { // the route check needs addresses only
		return &moderationFixture{1, 1}
	}
	if v, ok := moderationFixtures.Load(fx); ok {
		return v.(*moderationFixture)
	}
	t, e, ctx := fx.t, fx.e, context.Background()
	official := newRoleHolder(e, identity.RoleOfficial, 11).id
	now := e.clock()
	p, err := e.part.CreateProcess(ctx, official, participation.ProcessInput{Title: "Streets",
		Phases: []participation.PhaseInput{{Name: "Now", Starts: now.Add(-time.Hour), Ends: now.Add(7 * 24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	cons, pets, mod := consultation.New(e.part), petition.New(e.part), moderation.New(e.part)
	space, err := cons.Create(ctx, official, consultation.Input{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Street names", Document: "Which names?"})
	if err != nil {
		t.Fatal(err)
	}
	pspace, err := pets.CreateSpace(ctx, official, petition.SpaceInput{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Petitions", Moderated: true, Threshold: 5, ResponseDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	d := &moderationFixture{}
	c, err := cons.Post(ctx, fx.citizen, space, 0, 0, "Name it after the river.")
	if err != nil {
		t.Fatal(err)
	}
	d.comment = c.ID
	hidden, err := cons.Post(ctx, fx.citizen, space, 0, 0, "Something rude.")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mod.Flag(ctx, 0, moderation.FlagInput{Kind: moderation.KindComment, ItemID: c.ID, Reason: "off_topic"}); err != nil {
		t.Fatal(err)
	}
	if _, err := mod.Decide(ctx, official, moderation.Decision{Kind: moderation.KindComment, ItemID: hidden.ID, Action: moderation.Hide, PublicReason: "Insults"}); err != nil {
		t.Fatal(err)
	}
	pet, err := pets.File(ctx, fx.citizen, pspace, petition.Input{Title: "Rename Main Street", Body: "After the river."})
	if err != nil {
		t.Fatal(err)
	}
	d.petition = pet.ID
	if err := pets.Review(ctx, official, pet.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := pets.File(ctx, fx.citizen, pspace, petition.Input{Title: "Held", Body: "Awaits a moderator."}); err != nil {
		t.Fatal(err)
	}
	moderationFixtures.Store(fx, d)
	return d
}

var commentAnchor = regexp.MustCompile(`#c(\d+)`)

// TestModerationFlowThroughPages: a citizen comments; others flag it (a
// second flag is refused, a visitor flags without details); a moderator
// hides it with a public reason: the pages, the API and the log show the
// reason and never the text, the audit entry holds the digest only, and
// the author is mailed in their language; the author asks for a review
// and the moderator restores it.
func TestModerationFlowThroughPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		official := e.staffBrowser("official@example.org", identity.RoleOfficial)
		anna, annaID := e.citizenBrowser("anna@example.org")
		if _, err := db.Exec(context.Background(), "UPDATE accounts SET locale = 'ru' WHERE id = ?", annaID); err != nil {
			t.Fatal(err)
		}
		boris, _ := e.citizenBrowser("boris@example.org")
		process := e.newProcess(official, nil)
		phase := regexp.MustCompile(`<option value="(\d+)"`).FindStringSubmatch(official.get("/processes/" + process + "/consultations/new").body)
		space := created(t, official.post("/processes/"+process+"/consultations", url.Values{"title": {"Parks"}, "phase_id": {phase[1]}, "document": {"Intro"}}))
		p := anna.post("/consultations/"+space+"/comments", url.Values{"body": {"Ivan Petrov at 12 Lenin St. steals benches"}})
		m := commentAnchor.FindStringSubmatch(p.header.Get("Location"))
		if m == nil {
			t.Fatalf("comment: %d", p.status)
		}
		id := m[1]
		if page := e.browser().get("/consultations/" + space); !strings.Contains(page.body, `/flag?kind=comment&amp;id=`+id) {
			t.Fatalf("no report link on the comment")
		}
		if f := boris.get("/flag?kind=comment&id=" + id); f.status != 200 || !strings.Contains(f.body, `name="details"`) {
			t.Fatalf("flag form: %d", f.status)
		}
		flag := url.Values{"kind": {"comment"}, "id": {id}, "reason": {"personal_data"}, "details": {"Names and address"}}
		if r := boris.post("/flags", flag); r.status != http.StatusSeeOther {
			t.Fatalf("flag: %d %s", r.status, r.body)
		}
		if r := boris.post("/flags", flag); r.status != http.StatusConflict {
			t.Errorf("second flag: %d, want 409", r.status)
		}
		if r := boris.post("/flags", url.Values{"kind": {"comment"}, "id": {id}, "reason": {"boring"}}); r.status != http.StatusUnprocessableEntity {
			t.Errorf("bad reason: %d, want 422", r.status)
		}
		visitor := e.browser()
		if r := visitor.post("/flags", flag); r.status != http.StatusUnprocessableEntity {
			t.Errorf("visitor's details: %d, want 422", r.status)
		}
		if r := visitor.post("/flags", url.Values{"kind": {"comment"}, "id": {id}, "reason": {"abuse"}}); r.status != http.StatusSeeOther {
			t.Errorf("visitor's flag: %d", r.status)
		}
		if r := boris.get("/moderation"); r.status != http.StatusForbidden {
			t.Errorf("a citizen opens the queue: %d", r.status)
		}
		q := official.get("/moderation")
		if q.status != 200 || !strings.Contains(q.body, "steals benches") || !strings.Contains(q.body, "Names and address") {
			t.Fatalf("queue:\n%s", q.body)
		}
		if r := official.post("/moderation/decisions", url.Values{"kind": {"comment"}, "id": {id}, "action": {"hide"}}); r.status != http.StatusUnprocessableEntity {
			t.Errorf("hide without a reason: %d", r.status)
		}
		if r := official.post("/moderation/decisions", url.Values{"kind": {"comment"}, "id": {id}, "action": {"hide"}, "public_reason": {"Names a private person"}}); r.status != http.StatusSeeOther {
			t.Fatalf("hide: %d %s", r.status, r.body)
		}
		page := e.browser().get("/consultations/" + space)
		if strings.Contains(page.body, "steals benches") || !strings.Contains(page.body, "This comment was hidden by a moderator: Names a private person") {
			t.Errorf("the page after hiding:\n%s", page.body)
		}
		_, out, _ := e.api().call("GET", "/api/v1/consultations/"+space+"/comments", nil)
		if j := fmt.Sprint(out); strings.Contains(j, "steals benches") || !strings.Contains(j, "Names a private person") {
			t.Errorf("the API after hiding: %s", j)
		}
		log := e.browser().get("/moderation/log")
		if !strings.Contains(log.body, "Names a private person") || strings.Contains(log.body, "steals") || !strings.Contains(log.body, "sha256:") {
			t.Errorf("log:\n%s", log.body)
		}
		var entry []byte
		db.QueryRow(context.Background(), "SELECT entry FROM auditlog_pending ORDER BY id DESC LIMIT 1").Scan(&entry)
		if !strings.Contains(string(entry), "moderation.hide") || !strings.Contains(string(entry), "sha256:") || strings.Contains(string(entry), "benches") || strings.Contains(string(entry), "private person") {
			t.Errorf("audit entry: %s", entry)
		}
		mails := e.mails("anna@example.org")
		if len(mails) == 0 || !strings.Contains(mails[len(mails)-1].Subject, "Модератор") || !strings.Contains(mails[len(mails)-1].Body, "Names a private person") {
			t.Fatalf("mail to the author: %+v", mails)
		}
		review := e.lastLink("anna@example.org", "/flag")
		if f := anna.get(review); f.status != 200 || !strings.Contains(f.body, `value="review"`) || !strings.Contains(f.body, "Names a private person") {
			t.Fatalf("review form %s: %d", review, f.status)
		}
		if r := anna.post("/flags", url.Values{"kind": {"comment"}, "id": {id}, "reason": {"review"}, "details": {"It is true"}}); r.status != http.StatusSeeOther {
			t.Fatalf("review request: %d %s", r.status, r.body)
		}
		if r := boris.get("/flag?kind=comment&id=" + id); r.status != http.StatusNotFound {
			t.Errorf("flag form of a hidden comment for others: %d", r.status)
		}
		if q := official.get("/moderation"); !strings.Contains(q.body, "the author asks for a review") {
			t.Errorf("review request not in the queue")
		}
		if r := official.post("/moderation/decisions", url.Values{"kind": {"comment"}, "id": {id}, "action": {"restore"}, "public_reason": {"On reflection, a public matter"}}); r.status != http.StatusSeeOther {
			t.Fatalf("restore: %d %s", r.status, r.body)
		}
		if page := e.browser().get("/consultations/" + space); !strings.Contains(page.body, "steals benches") {
			t.Errorf("restored comment not shown")
		}
	})
}

// TestModerationAPI: a new account's petition with a link waits in the
// queue; a moderator approves it over the API; anyone flags it; hiding
// takes it out of the petition, the list and signing; the log shows the
// decisions.
func TestModerationAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		mod, officialID, _ := e.staffAPI("official@example.org", identity.RoleOfficial)
		_ = officialID
		now := e.clock()
		p, err := e.part.CreateProcess(context.Background(), officialID, participation.ProcessInput{Title: "Parks",
			Phases: []participation.PhaseInput{{Name: "Now", Starts: now.Add(-time.Hour), Ends: now.Add(7 * 24 * time.Hour)}}})
		if err != nil {
			t.Fatal(err)
		}
		r := mod.call("POST", fmt.Sprintf("/api/v1/processes/%d/petitions", p.ID), map[string]any{"phase_id": p.Phases[0].ID, "title": "Petitions", "threshold": 3, "response_days": 30})
		if r.status != http.StatusCreated {
			t.Fatalf("space: %s", r)
		}
		space := int64(r.body["space"].(map[string]any)["id"].(float64))
		e.createUser("new@example.org") // a new account
		fresh := e.apiCaller()
		fresh.signIn("new@example.org", testPassword, "")
		r = fresh.call("POST", fmt.Sprintf("/api/v1/spaces/%d/petitions", space), map[string]any{"title": "Cheap tickets", "body": "https://spam.example"})
		if r.status != http.StatusCreated {
			t.Fatalf("file: %s", r)
		}
		pet := r.body["petition"].(map[string]any)
		id := int64(pet["id"].(float64))
		if pet["status"] != "pending" {
			t.Fatalf("a new account's link was not held: %v", pet["status"])
		}
		if r := fresh.call("GET", "/api/v1/moderation/queue", nil); r.status != http.StatusForbidden {
			t.Errorf("a citizen reads the queue: %d", r.status)
		}
		r = mod.call("GET", "/api/v1/moderation/queue", nil)
		items, _ := r.body["items"].([]any)
		if r.status != 200 || len(items) != 1 || items[0].(map[string]any)["held"] != true {
			t.Fatalf("queue: %s", r)
		}
		if r := mod.call("POST", "/api/v1/moderation/decisions", map[string]any{"kind": "petition", "id": id, "action": "approve"}); r.status != http.StatusCreated {
			t.Fatalf("approve: %s", r)
		}
		anon := e.apiCaller()
		if r := anon.call("POST", "/api/v1/flags", map[string]any{"kind": "petition", "id": id, "reason": "spam"}); r.status != http.StatusCreated {
			t.Fatalf("anonymous flag: %s", r)
		}
		if r := anon.call("POST", "/api/v1/flags", map[string]any{"kind": "petition", "id": id, "reason": "nonsense"}); r.status != http.StatusUnprocessableEntity {
			t.Errorf("bad reason: %s", r)
		}
		if r := mod.call("POST", "/api/v1/moderation/decisions", map[string]any{"kind": "petition", "id": id, "action": "hide", "public_reason": "Advertising"}); r.status != http.StatusCreated {
			t.Fatalf("hide: %s", r)
		}
		if r := anon.call("GET", fmt.Sprintf("/api/v1/petitions/%d", id), nil); r.status != http.StatusNotFound {
			t.Errorf("a hidden petition over the API: %d", r.status)
		}
		if r := e.browser().get(fmt.Sprintf("/petitions/%d", id)); r.status != http.StatusNotFound {
			t.Errorf("a hidden petition's page: %d", r.status)
		}
		r = anon.call("GET", fmt.Sprintf("/api/v1/spaces/%d/petitions", space), nil)
		if strings.Contains(string(r.raw), "Cheap tickets") {
			t.Errorf("a hidden petition is listed: %s", r.raw)
		}
		own := fresh.call("GET", fmt.Sprintf("/api/v1/petitions/%d", id), nil)
		if own.status != 200 || own.body["petition"].(map[string]any)["hidden_reason"] != "Advertising" || strings.Contains(string(own.raw), "Cheap") {
			t.Errorf("the author's view: %s", own.raw)
		}
		if r := mod.call("POST", "/api/v1/moderation/decisions", map[string]any{"kind": "petition", "id": id, "action": "hide", "public_reason": "again"}); r.status != http.StatusConflict {
			t.Errorf("hide twice: %s", r)
		}
		r = anon.call("GET", "/api/v1/moderation/log", nil)
		decisions, _ := r.body["decisions"].([]any)
		if r.status != 200 || len(decisions) != 2 || strings.Contains(string(r.raw), "Cheap") {
			t.Errorf("log: %s", r.raw)
		}
	})
}

// TestModerationFlowInTheBrowser: in headless Chromium, a citizen reports
// a comment with the mouse, a moderator hides it from the queue with a
// public reason, the public sees the reason in its place and in the log;
// axe checks each page on the way.
func TestModerationFlowInTheBrowser(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	ctx := context.Background()
	official := newRoleHolder(e, identity.RoleOfficial, 1)
	author := e.createUser("author@example.org")
	now := e.clock()
	p, err := e.part.CreateProcess(ctx, official.id, participation.ProcessInput{Title: "Parks",
		Phases: []participation.PhaseInput{{Name: "Now", Starts: now.Add(-time.Hour), Ends: now.Add(7 * 24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	cons := consultation.New(e.part)
	space, err := cons.Create(ctx, official.id, consultation.Input{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Parks plan", Document: "Intro"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cons.Post(ctx, author, space, 0, 0, "Buy cheap watches at my shop")
	if err != nil {
		t.Fatal(err)
	}
	spacePath := fmt.Sprintf("/consultations/%d", space)

	boris := e.browserCitizen(t, "boris@example.org")
	boris.Open(spacePath)
	boris.Click(fmt.Sprintf("Report to the moderators (comment %d)", c.ID))
	boris.CheckA11y()
	boris.Click("Send the report") // no reason chosen: the error is tied to the choices
	boris.MustContain("this choice is not valid")
	boris.CheckA11y()
	boris.Check("Spam or advertising")
	boris.Fill("Details (optional)", "Advertising in every thread")
	boris.Click("Send the report")
	boris.MustContain("Thank you. A moderator will look at it")
	boris.CheckA11y()

	mod := browsertest.NewAt(t, e.srv.URL)
	e.browserSignIn(mod, official.email, official.secret)
	mod.Open("/moderation")
	mod.MustContain("Buy cheap watches")
	mod.MustContain("Advertising in every thread")
	mod.CheckA11y()
	mod.Fill(fmt.Sprintf("public_reason-comment-%d", c.ID), "Advertising")
	mod.Click("Hide")
	mod.MustContain("The decision is recorded")
	mod.MustContain("Nothing awaits a decision.")
	mod.CheckA11y()

	visitor := browsertest.NewAt(t, e.srv.URL)
	visitor.Open(spacePath)
	visitor.MustContain("This comment was hidden by a moderator: Advertising")
	if visitor.Contains("cheap watches") {
		t.Errorf("the hidden text is on the page")
	}
	visitor.CheckA11y()
	visitor.Open("/moderation/log")
	visitor.MustContain("Advertising")
	visitor.CheckA11y()
	visitor.Open("/moderation/policy")
	visitor.CheckA11y()
}

// TestPostingAndFlaggingAreRateLimited: posting is limited per space and
// person (another space is not affected), flags per person or, signed
// out, per address (a signed-in person is not affected by a visitor).
func TestPostingAndFlaggingAreRateLimited(t *testing.T) {
	limits := map[string]secops.Limit{}
	for k := range secops.DefaultLimits {
		limits[k] = secops.Limit{Every: time.Millisecond, Burst: 10000}
	}
	limits[postsPerSpace] = secops.Limit{Every: time.Hour, Burst: 2}
	limits[FlagsPerClient] = secops.Limit{Every: time.Hour, Burst: 2}
	e := newTestEnv(t, storetest.SQLite(t), limits)
	official := e.staffBrowser("official@example.org", identity.RoleOfficial)
	anna, _ := e.citizenBrowser("anna@example.org")
	process := e.newProcess(official, nil)
	phase := regexp.MustCompile(`<option value="(\d+)"`).FindStringSubmatch(official.get("/processes/" + process + "/consultations/new").body)
	one := created(t, official.post("/processes/"+process+"/consultations", url.Values{"title": {"One"}, "phase_id": {phase[1]}, "document": {"Intro"}}))
	two := created(t, official.post("/processes/"+process+"/consultations", url.Values{"title": {"Two"}, "phase_id": {phase[1]}, "document": {"Intro"}}))
	var ids []string
	for i := range 3 {
		p := anna.post("/consultations/"+one+"/comments", url.Values{"body": {fmt.Sprintf("Comment %d", i)}})
		if i < 2 {
			m := commentAnchor.FindStringSubmatch(p.header.Get("Location"))
			if m == nil {
				t.Fatalf("comment %d: %d", i, p.status)
			}
			ids = append(ids, m[1])
		} else if p.status != http.StatusTooManyRequests {
			t.Errorf("third comment in a space: %d, want 429", p.status)
		}
	}
	if p := anna.post("/consultations/"+two+"/comments", url.Values{"body": {"Elsewhere"}}); p.status != http.StatusSeeOther {
		t.Errorf("a comment in another space: %d", p.status)
	}
	visitor := e.browser()
	for i, want := range []int{http.StatusSeeOther, http.StatusSeeOther, http.StatusTooManyRequests} {
		if p := visitor.post("/flags", url.Values{"kind": {"comment"}, "id": {ids[i%2]}, "reason": {[]string{"spam", "abuse", "other"}[i]}}); p.status != want {
			t.Errorf("visitor's flag %d: %d, want %d", i, p.status, want)
		}
	}
	boris, _ := e.citizenBrowser("boris@example.org")
	if p := boris.post("/flags", url.Values{"kind": {"comment"}, "id": {ids[0]}, "reason": {"spam"}}); p.status != http.StatusSeeOther {
		t.Errorf("a signed-in person's flag after a visitor's limit: %d", p.status)
	}
}
