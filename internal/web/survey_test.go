package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// surveyProcess makes a process whose one phase opens in an hour.
func surveyProcess(t *testing.T, e *testEnv, official int64) *participation.Process {
	t.Helper()
	now := e.clock()
	p, err := e.part.CreateProcess(context.Background(), official, participation.ProcessInput{Title: "Parks",
		Phases: []participation.PhaseInput{{Name: "Survey", Starts: now.Add(time.Hour), Ends: now.Add(7 * 24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func surveyRows(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), "SELECT (SELECT COUNT(*) FROM survey_responses) + (SELECT COUNT(*) FROM survey_participants)").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSurveyFlowThroughPagesAndAPI: an official creates an anonymous
// survey and its questions through the pages, citizens answer through the
// pages (a bad answer comes back with the problem by the question and what
// was entered kept) and the API (in parallel: one answer counts), the
// official closes it, and the results page, CSV and JSON show counts.
func TestSurveyFlowThroughPagesAndAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		h := newRoleHolder(e, identity.RoleOfficial, 1)
		olga := h.id
		off := h.browser(e)
		p := surveyProcess(t, e, olga)

		// Bad input on the creation form comes back with the problem.
		pg := off.post(fmt.Sprintf("/processes/%d/surveys/new", p.ID), url.Values{"title": {""}, "phase_id": {fmt.Sprint(p.Phases[0].ID)}, "anonymous": {"yes"}})
		if pg.status != http.StatusUnprocessableEntity || !strings.Contains(pg.body, `aria-invalid="true"`) {
			t.Fatalf("empty title: %d\n%s", pg.status, pg.body)
		}
		pg = off.post(fmt.Sprintf("/processes/%d/surveys/new", p.ID), url.Values{"title": {"How are the parks?"}, "phase_id": {fmt.Sprint(p.Phases[0].ID)}, "anonymous": {"yes"}})
		if pg.status != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", pg.status, pg.body)
		}
		base := strings.TrimSuffix(pg.header.Get("Location"), "/questions")
		for _, q := range []url.Values{
			{"kind": {"single"}, "text": {"Which park?"}, "required": {"yes"}, "options": {"North\nSouth"}},
			{"kind": {"scale"}, "text": {"How safe?"}, "required": {"yes"}, "label_low": {"not at all"}, "label_high": {"very"}},
			{"kind": {"text"}, "text": {"Anything else?"}, "max_length": {"20"}},
		} {
			if pg := off.post(base+"/questions", q); pg.status != http.StatusSeeOther {
				t.Fatalf("add question: %d\n%s", pg.status, pg.body)
			}
		}
		if pg := off.post(base+"/questions", url.Values{"kind": {"single"}, "text": {"Bad"}, "options": {"only one"}}); pg.status != 422 || !strings.Contains(pg.body, "at least 2 options") {
			t.Fatalf("a question with one option: %d\n%s", pg.status, pg.body)
		}
		e.advance(2 * time.Hour) // the survey opens

		api := e.api()
		var id int64
		fmt.Sscanf(base, "/surveys/%d", &id)
		st, out, _ := api.call("GET", fmt.Sprintf("/api/v1/surveys/%d", id), nil)
		if st != 200 {
			t.Fatalf("GET survey: %d %v", st, out)
		}
		qs := out["survey"].(map[string]any)["questions"].([]any)
		qid := func(i int) string { return fmt.Sprint(int64(qs[i].(map[string]any)["id"].(float64))) }
		optID := int64(qs[0].(map[string]any)["options"].([]any)[1].(map[string]any)["id"].(float64))
		opt := fmt.Sprint(optID)

		// A citizen's bad answer: errors by question, values kept, nothing stored.
		e.createUser("c0@example.org")
		b := e.browser()
		b.signIn("c0@example.org", "")
		pg = b.post(base+"/responses", url.Values{"answers." + qid(1): {"9"}, "answers." + qid(2): {"this is far too long for twenty"}})
		if pg.status != 422 || !strings.Contains(pg.body, "Question 1 needs an answer") || !strings.Contains(pg.body, "from 1 to 5") ||
			!strings.Contains(pg.body, "this is far too long for twenty") || surveyRows(t, db) != 0 {
			t.Fatalf("bad answer: %d\n%s\n%s", pg.status, pg.body, e.logBuf.String())
		}
		if pg := b.post(base+"/responses", url.Values{"answers." + qid(0): {opt}, "answers." + qid(1): {"4"}, "answers." + qid(2): {"trees"}}); pg.status != http.StatusSeeOther {
			t.Fatalf("answer: %d\n%s", pg.status, pg.body)
		}
		if pg := b.post(base+"/responses", url.Values{"answers." + qid(0): {opt}, "answers." + qid(1): {"4"}}); pg.status != http.StatusConflict {
			t.Fatalf("second answer: %d", pg.status)
		}

		// Five more through the API, the last one sending in parallel.
		body := map[string]any{"answers": map[string]any{qid(0): map[string]any{"options": []any{optID}}, qid(1): map[string]any{"value": 5}}}
		for i := 1; i <= 5; i++ {
			e.createUser(fmt.Sprintf("c%d@example.org", i))
			c := e.api()
			c.signIn(fmt.Sprintf("c%d@example.org", i), "")
			if i < 5 {
				if st, out, _ := c.call("POST", fmt.Sprintf("/api/v1/surveys/%d/responses", id), body); st != 201 {
					t.Fatalf("API answer: %d %v", st, out)
				}
				continue
			}
			var wg sync.WaitGroup
			codes := make([]int, 6)
			for j := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[j], _, _ = c.call("POST", fmt.Sprintf("/api/v1/surveys/%d/responses", id), body)
				}()
			}
			wg.Wait()
			created := 0
			for _, code := range codes {
				if code == 201 {
					created++
				} else if code != 409 {
					t.Fatalf("parallel answers: %v", codes)
				}
			}
			if created != 1 {
				t.Fatalf("parallel answers: %v", codes)
			}
		}
		if st, out, _ := api.call("POST", fmt.Sprintf("/api/v1/surveys/%d/responses", id), map[string]any{"answers": map[string]any{qid(0): map[string]any{"value": 3}}}); st != 401 {
			t.Fatalf("an answer without an account: %d %v", st, out)
		}

		// Results are not public before the close.
		if st, out, _ := api.call("GET", fmt.Sprintf("/api/v1/surveys/%d/results", id), nil); st != 409 || errorCode(out) != "results_not_published" {
			t.Fatalf("early results: %d %v", st, out)
		}
		off = h.browser(e) // a fresh session: the clock moved past the idle timeout
		if pg := off.post(base+"/close", nil); pg.status != http.StatusSeeOther || pg.header.Get("Location") != base+"/results" {
			t.Fatalf("close: %d\n%s", pg.status, pg.body)
		}
		pg = e.browser().get(base + "/results")
		if pg.status != 200 || !strings.Contains(pg.body, "Responses: 6.") || !strings.Contains(pg.body, "<svg") || !strings.Contains(pg.body, "<caption>") {
			t.Fatalf("results page: %d\n%s", pg.status, pg.body)
		}
		csv := e.browser().get(base + "/results.csv")
		if csv.status != 200 || !strings.Contains(csv.body, "Which park?,1,single,South,6,100") {
			t.Fatalf("CSV: %d\n%s", csv.status, csv.body)
		}
		st, out, _ = api.call("GET", fmt.Sprintf("/api/v1/surveys/%d/results", id), nil)
		if st != 200 || out["results"].(map[string]any)["responses"].(float64) != 6 {
			t.Fatalf("API results: %d %v", st, out)
		}
	})
}

// TestFeedbackFromAnyPage: anyone sends feedback from the page form or
// the API; the query of the page is not kept; bad input is refused with
// nothing stored; officials list and export it.
func TestFeedbackFromAnyPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		count := func() int {
			var n int
			db.QueryRow(context.Background(), "SELECT COUNT(*) FROM feedback").Scan(&n)
			return n
		}
		b := e.browser()
		pg := b.get("/feedback/new?page=%2Fpassword%2Freset%3Ftoken%3Dsecret")
		if pg.status != 200 || !strings.Contains(pg.body, `name="page" value="/password/reset"`) {
			t.Fatalf("feedback form: %d\n%s", pg.status, pg.body)
		}
		if pg := b.post("/feedback", url.Values{"page": {"/password/reset?token=secret"}, "useful": {"no"}, "problem": {"The link expired"}}); pg.status != http.StatusSeeOther {
			t.Fatalf("feedback: %d\n%s", pg.status, pg.body)
		}
		for _, bad := range []url.Values{
			{"page": {"/privacy"}},
			{"page": {"https://evil.example/"}, "useful": {"yes"}},
			{"page": {"/privacy"}, "useful": {"maybe"}},
			{"page": {"/privacy"}, "problem": {strings.Repeat("a", 2001)}},
		} {
			if pg := b.post("/feedback", bad); pg.status != 422 || !strings.Contains(pg.body, "error-summary") {
				t.Fatalf("bad feedback %v: %d\n%s", bad, pg.status, pg.body)
			}
		}
		api := e.api()
		if st, out, _ := api.call("POST", "/api/v1/feedback", map[string]any{"page": "/privacy", "useful": true}); st != 201 {
			t.Fatalf("API feedback: %d %v", st, out)
		}
		if st, out, _ := api.call("POST", "/api/v1/feedback", map[string]any{"page": "/privacy", "problem": strings.Repeat("a", 2001)}); st != 422 {
			t.Fatalf("API oversized feedback: %d %v", st, out)
		}
		if n := count(); n != 2 {
			t.Fatalf("%d feedback rows, want 2", n)
		}
		var page string
		db.QueryRow(context.Background(), "SELECT page FROM feedback WHERE problem <> ''").Scan(&page)
		if page != "/password/reset" {
			t.Fatalf("stored page %q", page)
		}
		if st, _, _ := api.call("GET", "/api/v1/feedback", nil); st != 401 {
			t.Fatalf("feedback list without an account: %d", st)
		}
	})
}
