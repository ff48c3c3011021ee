package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// staffBrowser signs in a new account holding roles, with TOTP enrolled
// so that the staff permissions are in force.
func (e *testEnv) staffBrowser(email string, roles ...identity.Role) *browser {
	e.t.Helper()
	e.createUser(email, roles...)
	b := e.browser()
	b.signIn(email, "")
	secret := b.enableMFA()
	b.post("/signout", nil)
	b.signIn(email, secret)
	return b
}

// citizenBrowser signs in a new citizen whose account is old enough to
// escape the pre-moderation of new accounts.
func (e *testEnv) citizenBrowser(email string) (*browser, int64) {
	e.t.Helper()
	id := e.createUser(email)
	if _, err := e.db.Exec(e.t.Context(), "UPDATE accounts SET created_at = 0 WHERE id = ?", id); err != nil {
		e.t.Fatal(err)
	}
	b := e.browser()
	b.signIn(email, "")
	return b, id
}

var locationID = regexp.MustCompile(`/(\d+)`)

// created returns the number in the Location of a 303 answer.
func created(t testing.TB, p page) string {
	t.Helper()
	if p.status != http.StatusSeeOther {
		t.Fatalf("status %d, want 303\n%s", p.status, p.body)
	}
	m := locationID.FindStringSubmatch(p.header.Get("Location"))
	if m == nil {
		t.Fatalf("no number in Location %q", p.header.Get("Location"))
	}
	return m[1]
}

func (e *testEnv) newProcess(official *browser, extra url.Values) string {
	e.t.Helper()
	now := e.clock().UTC()
	form := url.Values{"title": {"Parks 2027"}, "description": {"How should we spend on **parks**?"},
		"phase_name_0": {"Participation"}, "phase_starts_0": {now.Add(-time.Hour).Format(formTime)}, "phase_ends_0": {now.Add(7 * 24 * time.Hour).Format(formTime)}}
	for k, v := range extra {
		form[k] = v
	}
	return created(e.t, official.post("/processes", form))
}

// TestConsultationFlowThroughPages: an official opens a process and a
// consultation; citizens comment, reply and react; the official answers,
// closes and publishes the report, which links what changed.
func TestConsultationFlowThroughPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		official := e.staffBrowser("official@example.org", identity.RoleOfficial)
		anna, _ := e.citizenBrowser("anna@example.org")
		boris, _ := e.citizenBrowser("boris@example.org")

		process := e.newProcess(official, nil)
		page := official.get("/processes/" + process)
		phase := regexp.MustCompile(`<option value="(\d+)"`).FindStringSubmatch(official.get("/processes/" + process + "/consultations/new").body)
		if page.status != 200 || phase == nil {
			t.Fatalf("process page %d / no phase option", page.status)
		}
		space := created(t, official.post("/processes/"+process+"/consultations", url.Values{"title": {"Draft parks plan"}, "phase_id": {phase[1]},
			"document": {"Why.\n\n## Trees\nPlant trees.\n\n## Benches\nAdd benches.\n"}}))
		con := anna.get("/consultations/" + space)
		section := regexp.MustCompile(`id="s(\d+)"`).FindStringSubmatch(con.body)
		if con.status != 200 || section == nil || !strings.Contains(con.body, "Plant trees.") {
			t.Fatalf("consultation page %d\n%s", con.status, con.body)
		}
		p := anna.post("/consultations/"+space+"/comments", url.Values{"section": {section[1]}, "body": {"Plant oaks <script>alert(1)</script>"}})
		comment := regexp.MustCompile(`#c(\d+)`).FindStringSubmatch(p.header.Get("Location"))
		if p.status != http.StatusSeeOther || comment == nil {
			t.Fatalf("comment: %d %s", p.status, p.body)
		}
		if p := boris.post("/consultations/"+space+"/comments", url.Values{"parent": {comment[1]}, "body": {"Oaks grow slowly."}}); p.status != http.StatusSeeOther {
			t.Fatalf("reply: %d", p.status)
		}
		if p := boris.post("/comments/"+comment[1]+"/reaction", url.Values{"reaction": {"agree"}}); p.status != http.StatusSeeOther {
			t.Fatalf("react: %d", p.status)
		}
		view := e.browser().get("/consultations/" + space + "?section=" + section[1])
		if strings.Contains(view.body, "<script>alert") || !strings.Contains(view.body, "Oaks grow slowly.") || !strings.Contains(view.body, "1 agree") {
			t.Fatalf("the public page does not show the thread safely:\n%s", view.body)
		}
		if p := anna.post("/comments/"+comment[1]+"/edit", url.Values{"body": {"Plant oaks and limes."}}); p.status != http.StatusSeeOther {
			t.Fatalf("edit: %d", p.status)
		}
		if h := e.browser().get("/comments/" + comment[1] + "/history"); !strings.Contains(h.body, "Plant oaks") {
			t.Errorf("the history does not show the earlier text")
		}
		if p := official.post("/consultations/"+space+"/answers", url.Values{"comment_id": {comment[1]}, "outcome": {"accepted"}, "answer": {"Limes added."}}); p.status != http.StatusSeeOther {
			t.Fatalf("answer: %d %s", p.status, p.body)
		}
		if p := official.post("/consultations/"+space+"/report", url.Values{"report": {"too early"}}); p.status != http.StatusConflict {
			t.Errorf("report while open: %d, want 409", p.status)
		}
		if p := official.post("/spaces/"+space+"/close", nil); p.status != http.StatusSeeOther {
			t.Fatalf("close: %d", p.status)
		}
		if p := anna.post("/consultations/"+space+"/comments", url.Values{"body": {"late"}}); p.status != http.StatusConflict || !strings.Contains(p.body, "closed") {
			t.Errorf("comment after close: %d", p.status)
		}
		if p := official.post("/consultations/"+space+"/report", url.Values{"report": {"We took up #c" + comment[1] + "."}}); p.status != http.StatusSeeOther {
			t.Fatalf("report: %d %s", p.status, p.body)
		}
		report := e.browser().get("/consultations/" + space + "/report")
		if !strings.Contains(report.body, `href="/consultations/`+space+`#c`+comment[1]+`"`) || !strings.Contains(report.body, "Limes added.") {
			t.Errorf("the report does not link the accepted comment:\n%s", report.body)
		}
	})
}

// TestPetitionFlowThroughPages: a citizen files a petition in a moderated
// space, a moderator publishes it, others sign (once), the threshold starts
// the deadline, the official responds.
func TestPetitionFlowThroughPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		official := e.staffBrowser("official@example.org", identity.RoleOfficial)
		anna, _ := e.citizenBrowser("anna@example.org")
		boris, _ := e.citizenBrowser("boris@example.org")
		process := e.newProcess(official, nil)
		phase := regexp.MustCompile(`<option value="(\d+)"`).FindStringSubmatch(official.get("/processes/" + process + "/petitions/new").body)
		space := created(t, official.post("/processes/"+process+"/petitions", url.Values{"title": {"City petitions"}, "phase_id": {phase[1]},
			"moderated": {"1"}, "threshold": {"2"}, "response_days": {"30"}}))
		id := created(t, anna.post("/spaces/"+space+"/petitions", url.Values{"kind": {"petition"}, "title": {"Benches"}, "body": {"More benches."}}))
		if p := boris.get("/petitions/" + id); p.status != http.StatusNotFound {
			t.Errorf("a pending petition is visible to others: %d", p.status)
		}
		if p := official.post("/petitions/"+id+"/review", url.Values{"decision": {"publish"}}); p.status != http.StatusSeeOther {
			t.Fatalf("review: %d %s", p.status, p.body)
		}
		if p := boris.post("/petitions/"+id+"/signature", url.Values{"show_name": {"1"}, "public_name": {"Boris B."}}); p.status != http.StatusSeeOther {
			t.Fatalf("sign: %d %s", p.status, p.body)
		}
		if p := boris.post("/petitions/"+id+"/signature", nil); p.status != http.StatusConflict {
			t.Errorf("signing twice: %d, want 409", p.status)
		}
		if p := anna.post("/petitions/"+id+"/signature", nil); p.status != http.StatusSeeOther {
			t.Fatalf("second signer: %d", p.status)
		}
		pub := e.browser().get("/petitions/" + id)
		if !strings.Contains(pub.body, "2 of 2 signatures") || !strings.Contains(pub.body, "Boris B.") || !strings.Contains(pub.body, "must respond by") {
			t.Fatalf("public petition page:\n%s", pub.body)
		}
		if p := official.post("/petitions/"+id+"/response", url.Values{"response": {"Benches ordered."}}); p.status != http.StatusSeeOther {
			t.Fatalf("respond: %d", p.status)
		}
		if p := e.browser().get("/petitions/" + id); !strings.Contains(p.body, "Benches ordered.") {
			t.Errorf("the response is not shown")
		}
	})
}

// TestParallelSignaturesOverHTTP sends the same person's signature many
// times at once: the database accepts one.
func TestParallelSignaturesOverHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPITestEnv(t, db, nil)
		official, _, _ := e.staffAPI("official@example.org", identity.RoleOfficial)
		r := official.call("POST", "/api/v1/processes", map[string]any{"title": "P", "phases": []map[string]any{
			{"name": "Now", "starts": e.clock().Add(-time.Hour), "ends": e.clock().Add(5 * time.Minute)}}})
		if r.status != 201 {
			t.Fatalf("process: %s", r)
		}
		proc := r.body["process"].(map[string]any)
		phase := proc["phases"].([]any)[0].(map[string]any)["id"]
		r = official.call("POST", fmt.Sprintf("/api/v1/processes/%v/petitions", proc["id"]), map[string]any{"title": "S", "phase_id": phase, "threshold": 10, "response_days": 5})
		if r.status != 201 {
			t.Fatalf("space: %s", r)
		}
		space := r.body["space"].(map[string]any)["id"]
		e.createUser("anna@example.org")
		anna := e.apiCaller()
		anna.signIn("anna@example.org", testPassword, "")
		r = anna.call("POST", fmt.Sprintf("/api/v1/spaces/%v/petitions", space), map[string]any{"title": "T", "body": "B"})
		if r.status != 201 {
			t.Fatalf("file: %s", r)
		}
		pid := r.body["petition"].(map[string]any)["id"]
		var wg sync.WaitGroup
		statuses := make(chan int, 10)
		for range 10 {
			wg.Go(func() {
				statuses <- anna.call("PUT", fmt.Sprintf("/api/v1/petitions/%v/signature", pid), map[string]any{}).status
			})
		}
		wg.Wait()
		close(statuses)
		counts := map[int]int{}
		for s := range statuses {
			counts[s]++
		}
		if counts[201] != 1 || counts[409] != 9 {
			t.Fatalf("answers %v; want one 201 and nine 409", counts)
		}
		r = anna.call("GET", fmt.Sprintf("/api/v1/petitions/%v", pid), nil)
		if n := r.body["petition"].(map[string]any)["signatures"]; n != float64(1) {
			t.Fatalf("count %v, want 1", n)
		}
		// Outside the phase: refused with the closing time, nothing stored.
		e.advance(6 * time.Minute)
		r = anna.call("DELETE", fmt.Sprintf("/api/v1/petitions/%v/signature", pid), nil)
		if r.status != 409 || r.errCode() != "outside_phase" || !strings.Contains(r.errMessage(), "closed on") {
			t.Fatalf("withdraw after the phase: %s", r)
		}
	})
}

// TestResidentsOnlyProcessExplainsRefusals: a process for residents of one
// district refuses others with the reason, and admits a verified resident.
func TestResidentsOnlyProcessExplainsRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		census := "hash,district,birth_year\n" +
			fmt.Sprintf("%x,Centre,1990\n", censusHash(e, "3010190A001PB1")) +
			fmt.Sprintf("%x,North,1985\n", censusHash(e, "3020285B002PB2"))
		if _, err := e.part.ImportCensus(t.Context(), 0, strings.NewReader(census)); err != nil {
			t.Fatal(err)
		}
		official := e.staffBrowser("official@example.org", identity.RoleOfficial)
		anna, _ := e.citizenBrowser("anna@example.org")
		boris, _ := e.citizenBrowser("boris@example.org")
		process := e.newProcess(official, url.Values{"districts": {"Centre"}})
		phase := regexp.MustCompile(`<option value="(\d+)"`).FindStringSubmatch(official.get("/processes/" + process + "/consultations/new").body)
		space := created(t, official.post("/processes/"+process+"/consultations", url.Values{"title": {"C"}, "phase_id": {phase[1]}, "document": {"Text"}}))
		p := anna.post("/consultations/"+space+"/comments", url.Values{"body": {"hello"}})
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "Verify your residence") {
			t.Errorf("unverified: %d", p.status)
		}
		if p := anna.post("/account/residence", url.Values{"identity_number": {"3010190A001PB1"}, "birth_year": {"1991"}}); p.status != 422 || strings.Contains(p.body, "3010190A001PB1") {
			t.Errorf("wrong birth year: %d (the page must not echo the number)", p.status)
		}
		if p := anna.post("/account/residence", url.Values{"identity_number": {"3010190A001PB1"}, "birth_year": {"1990"}}); p.status != http.StatusSeeOther {
			t.Fatalf("verify: %d %s", p.status, p.body)
		}
		if p := boris.post("/account/residence", url.Values{"identity_number": {"3010190A001PB1"}, "birth_year": {"1990"}}); p.status != http.StatusConflict {
			t.Errorf("claiming another's entry: %d", p.status)
		}
		boris.post("/account/residence", url.Values{"identity_number": {"3020285B002PB2"}, "birth_year": {"1985"}})
		if p := boris.post("/consultations/"+space+"/comments", url.Values{"body": {"hello"}}); p.status != http.StatusForbidden || !strings.Contains(p.body, "Centre") {
			t.Errorf("other district: %d", p.status)
		}
		if p := anna.post("/consultations/"+space+"/comments", url.Values{"body": {"hello"}}); p.status != http.StatusSeeOther {
			t.Errorf("resident of Centre: %d %s", p.status, p.body)
		}
	})
}
