package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// TestSearchActivityAndResultsThroughPages: what citizens publish is found
// by search (escaped, with no handle), shows in the process's activity
// without text, and is exported once the spaces close (409 before);
// hidden content leaves search and exports at once.
func TestSearchActivityAndResultsThroughPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		official := e.staffBrowser("official@example.org", identity.RoleOfficial)
		anna, _ := e.citizenBrowser("anna@example.org")
		boris, _ := e.citizenBrowser("boris@example.org")
		process := e.newProcess(official, nil)
		phase := regexp.MustCompile(`<option value="(\d+)"`).FindStringSubmatch(official.get("/processes/" + process + "/consultations/new").body)
		space := created(t, official.post("/processes/"+process+"/consultations", url.Values{"title": {"Draft parks plan"}, "phase_id": {phase[1]},
			"document": {"Why.\n\n## Trees\nPlant trees.\n\n## Benches\nAdd benches.\n"}}))
		section := regexp.MustCompile(`id="s(\d+)"`).FindStringSubmatch(anna.get("/consultations/" + space).body)
		p := anna.post("/consultations/"+space+"/comments", url.Values{"section": {section[1]}, "body": {"Plant walnuts <script>alert(1)</script> near the river"}})
		comment := regexp.MustCompile(`#c(\d+)`).FindStringSubmatch(p.header.Get("Location"))
		if comment == nil {
			t.Fatalf("comment: %d %s", p.status, p.body)
		}
		if p := anna.post("/consultations/"+space+"/comments", url.Values{"body": {"Swings for children please"}}); p.status != http.StatusSeeOther {
			t.Fatalf("second comment: %d", p.status)
		}
		pspace := created(t, official.post("/processes/"+process+"/petitions", url.Values{"title": {"City petitions"}, "phase_id": {phase[1]},
			"threshold": {"1"}, "response_days": {"30"}}))
		petition := created(t, boris.post("/spaces/"+pspace+"/petitions", url.Values{"kind": {"petition"}, "title": {"Walnut alley"}, "body": {"Plant an alley of walnut trees."}}))
		if p := anna.post("/petitions/"+petition+"/signature", nil); p.status != http.StatusSeeOther {
			t.Fatalf("sign: %d", p.status)
		}

		// Search.
		visitor := e.browser()
		s := visitor.get("/search?q=walnut")
		if s.status != 200 || !strings.Contains(s.body, `href="/consultations/`+space+`?section=`+section[1]+`#c`+comment[1]+`"`) ||
			!strings.Contains(s.body, `href="/petitions/`+petition+`"`) || !strings.Contains(s.body, "<mark>walnuts</mark>") {
			t.Fatalf("search page %d:\n%s", s.status, s.body)
		}
		if strings.Contains(s.body, "<script>alert") {
			t.Fatalf("a snippet is not escaped")
		}
		for _, q := range []string{`"walnut`, `walnut*`, `NEAR(walnut`, `AND OR NOT`, `'--`, `%`, `&|!:*`} {
			if p := visitor.get("/search?q=" + url.QueryEscape(q)); p.status != 200 {
				t.Errorf("search %q: %d", q, p.status)
			}
		}
		if p := visitor.get("/search?q=walnut&kind=petition&status=open&sort=newest&process=" + process); p.status != 200 ||
			strings.Contains(p.body, "#c"+comment[1]) || !strings.Contains(p.body, "/petitions/"+petition) {
			t.Errorf("filtered search:\n%s", p.body)
		}
		var api struct {
			Total   int `json:"total"`
			Results []struct {
				Kind string `json:"kind"`
				URL  string `json:"url"`
			} `json:"results"`
		}
		if p := visitor.get("/api/v1/search?q=walnut&kind=comment"); p.status != 200 || json.Unmarshal([]byte(p.body), &api) != nil || api.Total != 1 || api.Results[0].Kind != "comment" {
			t.Fatalf("api search: %d %s", p.status, p.body)
		}

		// Activity: where, never who or what.
		act := visitor.get("/processes/" + process + "/activity")
		if act.status != 200 || !strings.Contains(act.body, "A comment on the section “Trees” of “Draft parks plan”") ||
			!strings.Contains(act.body, "Petition no. "+petition+" published") || !strings.Contains(act.body, "reached its signature threshold") ||
			strings.Contains(act.body, "walnuts") {
			t.Fatalf("activity page:\n%s", act.body)
		}
		if p := visitor.get("/processes/" + process + "/activity.atom"); p.status != 200 || !strings.Contains(p.header.Get("Content-Type"), "atom+xml") ||
			!strings.Contains(p.body, "<entry>") {
			t.Errorf("atom: %d %s", p.status, p.body)
		}
		if p := visitor.get("/api/v1/processes/" + process + "/activity"); p.status != 200 || !strings.Contains(p.body, `"comment"`) {
			t.Errorf("api activity: %d %s", p.status, p.body)
		}

		// Results: 409 while open.
		for _, u := range []string{"/consultations/" + space + "/results.csv", "/spaces/" + pspace + "/petitions/results.json", "/api/v1/consultations/" + space + "/results"} {
			if p := visitor.get(u); p.status != http.StatusConflict || !strings.Contains(p.body, "once this space is closed") {
				t.Errorf("%s while open: %d %s", u, p.status, p.body)
			}
		}
		// A moderator hides the second comment: gone from search at once.
		if _, err := db.Exec(t.Context(), "UPDATE comments SET status = 'hidden' WHERE id <> ? AND space_id = ?", comment[1], space); err != nil {
			t.Fatal(err)
		}
		if p := visitor.get("/search?q=swings"); strings.Contains(p.body, "<mark>") {
			t.Errorf("hidden comment found")
		}
		for _, sp := range []string{space, pspace} {
			if p := official.post("/spaces/"+sp+"/close", nil); p.status != http.StatusSeeOther {
				t.Fatalf("close: %d", p.status)
			}
		}
		csv := visitor.get("/consultations/" + space + "/results.csv")
		if csv.status != 200 || !strings.Contains(csv.body, "Plant walnuts") || strings.Contains(csv.body, "Swings") ||
			!strings.HasPrefix(csv.body, "record,id,section_id") {
			t.Fatalf("consultation csv:\n%s", csv.body)
		}
		js := visitor.get("/api/v1/consultations/" + space + "/results")
		if js.status != 200 || strings.Contains(js.body, `"author"`) || !strings.Contains(js.body, `"agree"`) {
			t.Fatalf("consultation json: %s", js.body)
		}
		pcsv := visitor.get("/spaces/" + pspace + "/petitions/results.csv")
		if pcsv.status != 200 || !strings.Contains(pcsv.body, petition+",petition,Walnut alley,false,published,1,1,") {
			t.Fatalf("petition csv:\n%s", pcsv.body)
		}
		if p := visitor.get("/api/v1/spaces/" + pspace + "/petitions/results"); p.status != 200 || !strings.Contains(p.body, `"signatures": 1`) {
			t.Fatalf("petition json: %s", p.body)
		}
		if p := visitor.get("/processes/" + process); !strings.Contains(p.body, "/consultations/"+space+"/results.csv") ||
			!strings.Contains(p.body, "/processes/"+process+"/activity") {
			t.Errorf("the process page does not link the activity and exports")
		}
		if p := visitor.get("/processes/" + process + "/activity"); !strings.Contains(p.body, "closed") {
			t.Errorf("closing is not in the activity")
		}
	})
}

// TestSearchRefusesFiltersNotInTheirLists: a filter value that is not one
// of its list is refused with 422 naming the field, on the page (the form
// shown again with the message) and in the API, rather than silently
// searching everything; the words to find are never refused.
func TestSearchRefusesFiltersNotInTheirLists(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	visitor := e.browser()
	for _, tc := range []struct {
		query, field, message string
	}{
		{"kind=proposal", "kind", "Choose what to search for from the list."},
		{"status=finished", "status", "Choose a status from the list."},
		{"sort=oldest", "sort", "Choose an order from the list."},
		{"process=parks", "process", "Process must be a whole number."},
		{"process=-3", "process", "Process must be a whole number."},
		{"page=0", "page", "Page must be a whole number."},
		{"page=99999999999", "page", "Page must be a whole number."},
	} {
		t.Run(tc.query, func(t *testing.T) {
			p := visitor.get("/search?q=trees&" + tc.query)
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, tc.message) || !strings.Contains(p.body, `value="trees"`) {
				t.Errorf("page: %d, want 422 with %q and the words kept:\n%s", p.status, tc.message, p.body)
			}
			a := visitor.get("/api/v1/search?q=trees&" + tc.query)
			if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, `"field": "`+tc.field+`"`) {
				t.Errorf("api: %d, want 422 naming %s: %s", a.status, tc.field, a.body)
			}
		})
	}
	for _, q := range []string{"", "kind=&status=&sort=&process=&page=", "sort=relevance&page=2", "q=" + url.QueryEscape(`"oaks" OR *`)} {
		if p := visitor.get("/api/v1/search?" + q); p.status != http.StatusOK {
			t.Errorf("GET /api/v1/search?%s: %d %s", q, p.status, p.body)
		}
	}
}
