package web

import (
	"context"
	"encoding/csv"
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

// budgetOfficial signs in a new official with TOTP enrolled, through
// pages and through the API.
func (e *testEnv) budgetOfficial(email string) (*browser, *apiClient) {
	e.t.Helper()
	e.createUser(email, identity.RoleOfficial)
	b := e.browser()
	b.signIn(email, "")
	secret := b.enableMFA()
	b.post("/signout", nil)
	b.signIn(email, secret)
	a := e.api()
	a.signIn(email, secret)
	return b, a
}

// budgetProcess creates a process whose voting phase opens in an hour
// and lasts two days, with the given eligibility.
func (e *testEnv) budgetProcess(official int64, el participation.Eligibility) *participation.Process {
	e.t.Helper()
	now := e.clock()
	p, err := e.part.CreateProcess(context.Background(), official, participation.ProcessInput{Title: "City budget", Eligibility: el,
		Phases: []participation.PhaseInput{{Name: "Voting", Starts: now.Add(10 * time.Minute), Ends: now.Add(48 * time.Hour)}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// budgetCreated returns the number at the end of the Location of a 303.
func budgetCreated(t *testing.T, p page) string {
	t.Helper()
	loc := p.header.Get("Location")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/budgets/") {
		t.Fatalf("status %d to %q, want 303 to a budget\n%s", p.status, loc, p.body)
	}
	return strings.TrimPrefix(loc, "/budgets/")
}

func budgetRows(t *testing.T, db *store.DB) int {
	t.Helper()
	n := 0
	for _, table := range []string{"budget_spaces", "budget_projects", "budget_ballots", "budget_ballot_items", "budget_results"} {
		n += dbCount(t, db, "SELECT COUNT(*) FROM "+table)
	}
	return n
}

// TestBudgetFlowThroughPages: an official creates a budget and its
// projects; citizens vote (one over budget, refused with the total and
// the limit), change and withdraw; the official closes; everyone reads the
// results page and its CSV and JSON exports.
func TestBudgetFlowThroughPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		official, _ := e.budgetOfficial("olga@example.org")
		var officialID int64
		if err := db.QueryRow(t.Context(), "SELECT id FROM accounts ORDER BY id DESC LIMIT 1").Scan(&officialID); err != nil {
			t.Fatal(err)
		}
		proc := e.budgetProcess(officialID, participation.Eligibility{})
		pid := fmt.Sprint(proc.ID)
		if p := official.get("/processes/" + pid + "/budgets/new"); p.status != 200 || !strings.Contains(p.body, `name="total"`) {
			t.Fatalf("new budget form: %d\n%s", p.status, p.body)
		}
		// Bad input comes back on the form, nothing stored.
		p := official.post("/processes/"+pid+"/budgets", url.Values{"title": {"Parks"}, "phase_id": {fmt.Sprint(proc.Phases[0].ID)}, "total": {"0"}, "currency": {"euro"}})
		if p.status != 422 || !strings.Contains(p.body, `aria-invalid="true"`) || !strings.Contains(p.body, "three-letter") || budgetRows(t, db) != 0 {
			t.Fatalf("bad budget: %d, %d rows\n%s", p.status, budgetRows(t, db), p.body)
		}
		p = official.post("/processes/"+pid+"/budgets", url.Values{"title": {"Parks"}, "phase_id": {fmt.Sprint(proc.Phases[0].ID)}, "total": {"1000"}, "currency": {"eur"}, "description": {"Our **parks**"}})
		bid := budgetCreated(t, p)
		base := "/budgets/" + bid
		for i, cost := range []string{"600", "400", "400"} {
			p = official.post(base+"/projects", url.Values{"project_title": {"Project " + string(rune('A'+i))}, "project_description": {"Trees"}, "cost": {cost}})
			if p.status != http.StatusSeeOther {
				t.Fatalf("add project: %d\n%s", p.status, p.body)
			}
		}
		if p = official.post(base+"/projects", url.Values{"project_title": {strings.Repeat("x", 201)}, "cost": {"5000"}}); p.status != 422 || !strings.Contains(p.body, "from 1 to 1000") {
			t.Fatalf("oversized project: %d\n%s", p.status, p.body)
		}
		var projects []string
		rows, _ := db.Query(t.Context(), "SELECT id FROM budget_projects ORDER BY id")
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			projects = append(projects, fmt.Sprint(id))
		}
		rows.Close()
		if p = official.get("/budget-projects/" + projects[0] + "/edit"); p.status != 200 || !strings.Contains(p.body, `value="600"`) {
			t.Fatalf("edit form: %d\n%s", p.status, p.body)
		}

		citizen := e.browser()
		e.createUser("ana@example.org")
		citizen.signIn("ana@example.org", "")
		if p = citizen.post(base+"/ballot", url.Values{"project": {projects[1]}}); p.status != 409 || !strings.Contains(p.body, "opens") {
			t.Fatalf("vote before opening: %d\n%s", p.status, p.body)
		}
		e.advance(11 * time.Minute)
		if p = official.post("/budget-projects/"+projects[0]+"/edit", url.Values{"project_title": {"Late"}, "cost": {"5"}}); p.status != 409 {
			t.Fatalf("edit after opening: %d\n%s", p.status, p.body)
		}
		page := citizen.get(base)
		if page.status != 200 || !strings.Contains(page.body, "<fieldset") || !strings.Contains(page.body, "<legend>") || !strings.Contains(page.body, `name="project"`) {
			t.Fatalf("budget page: %d\n%s", page.status, page.body)
		}
		// The running total, without storing.
		p = citizen.post(base+"/ballot", url.Values{"project": {projects[0], projects[1]}, "action": {"check"}})
		if p.status != 200 || !strings.Contains(p.body, "1000 EUR of 1000 EUR") || dbCount(t, db, "SELECT COUNT(*) FROM budget_ballots") != 0 {
			t.Fatalf("check total: %d\n%s", p.status, p.body)
		}
		// Over budget: refused, saying the total and the limit.
		p = citizen.post(base+"/ballot", url.Values{"project": projects, "action": {"cast"}})
		if p.status != 422 || !strings.Contains(p.body, "1400 EUR together, more than the budget of 1000 EUR") || dbCount(t, db, "SELECT COUNT(*) FROM budget_ballots") != 0 {
			t.Fatalf("over budget: %d\n%s", p.status, p.body)
		}
		if p = citizen.post(base+"/ballot", url.Values{"project": {projects[0], projects[1]}, "action": {"cast"}}); p.status != http.StatusSeeOther {
			t.Fatalf("cast: %d\n%s", p.status, p.body)
		}
		if p = citizen.get(base + "?done=cast"); !strings.Contains(p.body, "Your ballot is saved") || !strings.Contains(p.body, "Replace my ballot") {
			t.Fatalf("after casting:\n%s", p.body)
		}
		citizen.post(base+"/ballot", url.Values{"project": {projects[2]}, "action": {"cast"}})
		if n := dbCount(t, db, "SELECT COUNT(*) FROM budget_ballot_items"); n != 1 {
			t.Fatalf("%d approvals after replacing, want 1", n)
		}
		if p = citizen.post(base+"/ballot/withdraw", nil); p.status != http.StatusSeeOther || dbCount(t, db, "SELECT COUNT(*) FROM budget_ballots") != 0 {
			t.Fatalf("withdraw: %d", p.status)
		}
		// Ten voters: six for A and B, four for C (the known answer).
		for i := range 10 {
			v := e.browser()
			email := fmt.Sprintf("voter%d@example.org", i)
			e.createUser(email)
			v.signIn(email, "")
			set := []string{projects[0], projects[1]}
			if i >= 6 {
				set = []string{projects[2]}
			}
			if p = v.post(base+"/ballot", url.Values{"project": set}); p.status != http.StatusSeeOther {
				t.Fatalf("voter %d: %d\n%s", i, p.status, p.body)
			}
		}
		if p = citizen.get(base + "/results"); p.status != 409 || !strings.Contains(p.body, "published when voting closes") {
			t.Fatalf("results before closing: %d\n%s", p.status, p.body)
		}
		if p = official.post("/spaces/"+bid+"/close", nil); p.status != http.StatusSeeOther {
			t.Fatalf("close: %d\n%s", p.status, p.body)
		}
		anon := e.browser()
		p = anon.get(base + "/results")
		if p.status != 200 || !strings.Contains(p.body, "<caption>") || !strings.Contains(p.body, "Funded in round 1") || !strings.Contains(p.body, "had 200.00 EUR left between them") {
			t.Fatalf("results page: %d\n%s", p.status, p.body)
		}
		p = anon.get(base + "/results.csv")
		recs, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
		if err != nil || len(recs) != 4 || recs[1][6] != "true" || recs[1][8] != "false" || recs[3][8] != "true" {
			t.Fatalf("CSV: %v\n%s", err, p.body)
		}
		if p = anon.get(base + "/results.json"); p.status != 200 || !strings.Contains(p.body, `"digest": "sha256:`) {
			t.Fatalf("JSON: %d\n%s", p.status, p.body)
		}
		// Russian and Belarusian pages.
		ru := e.browser()
		ru.header.Set("Accept-Language", "ru")
		if p = ru.get(base + "/results"); !strings.Contains(p.body, "Метод равных долей") {
			t.Fatalf("Russian results:\n%s", p.body)
		}
		be := e.browser()
		be.header.Set("Accept-Language", "be")
		if p = be.get(base); !strings.Contains(p.body, "Бюджэт: 1000 EUR") {
			t.Fatalf("Belarusian page:\n%s", p.body)
		}
	})
}

// TestBudgetAPI walks the API: create, add projects, refusals (over
// budget, outside the phase, not eligible, oversized text), cast,
// replace, withdraw, results; a refused request stores nothing.
func TestBudgetAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		_, official := e.budgetOfficial("olga@example.org")
		var officialID int64
		db.QueryRow(t.Context(), "SELECT id FROM accounts ORDER BY id DESC LIMIT 1").Scan(&officialID)
		proc := e.budgetProcess(officialID, participation.Eligibility{})
		residents := e.budgetProcess(officialID, participation.Eligibility{ResidentsOnly: true})
		st, out, _ := official.call("POST", fmt.Sprintf("/api/v1/processes/%d/budgets", proc.ID), map[string]any{"phase_id": proc.Phases[0].ID, "title": "Parks", "total": 1000, "currency": "BYN"})
		if st != 201 {
			t.Fatalf("create: %d %v", st, out)
		}
		bid := int64(out["budget"].(map[string]any)["id"].(float64))
		st, out, _ = official.call("POST", fmt.Sprintf("/api/v1/processes/%d/budgets", residents.ID), map[string]any{"phase_id": residents.Phases[0].ID, "title": "Residents", "total": 1000, "currency": "BYN"})
		if st != 201 {
			t.Fatalf("create: %d %v", st, out)
		}
		rid := int64(out["budget"].(map[string]any)["id"].(float64))
		var projects []int64
		for _, c := range []int{600, 400, 400} {
			st, out, _ = official.call("POST", fmt.Sprintf("/api/v1/budgets/%d/projects", bid), map[string]any{"title": "P", "cost": c, "description": "d"})
			if st != 201 {
				t.Fatalf("add project: %d %v", st, out)
			}
			projects = append(projects, int64(out["project"].(map[string]any)["id"].(float64)))
		}
		st, out, _ = official.call("POST", fmt.Sprintf("/api/v1/budgets/%d/projects", rid), map[string]any{"title": "R", "cost": 10})
		if st != 201 {
			t.Fatalf("add project: %d %v", st, out)
		}
		rproject := int64(out["project"].(map[string]any)["id"].(float64))
		if st, out, _ = official.call("PUT", fmt.Sprintf("/api/v1/budget-projects/%d", projects[0]), map[string]any{"title": "Big park", "cost": 650}); st != 200 {
			t.Fatalf("edit project: %d %v", st, out)
		}
		e.createUser("ana@example.org")
		ana := e.api()
		ana.signIn("ana@example.org", "")
		ballot := fmt.Sprintf("/api/v1/budgets/%d/ballot", bid)
		before := budgetRows(t, db)
		cases := []struct {
			name   string
			c      *apiClient
			method string
			path   string
			body   any
			status int
			code   string
			msg    string
		}{
			{"before opening", ana, "PUT", ballot, map[string]any{"projects": projects[1:2]}, 409, "outside_phase", ""},
			{"oversized title", official, "POST", fmt.Sprintf("/api/v1/budgets/%d/projects", bid), map[string]any{"title": strings.Repeat("я", 201), "cost": 5}, 422, "invalid_input", ""},
			{"citizen adds a project", ana, "POST", fmt.Sprintf("/api/v1/budgets/%d/projects", bid), map[string]any{"title": "x", "cost": 5}, 403, "forbidden", ""},
		}
		run := func() {
			for _, tc := range cases {
				st, out, _ := tc.c.call(tc.method, tc.path, tc.body)
				msg, _ := out["error"].(map[string]any)["message"].(string)
				if st != tc.status || errorCode(out) != tc.code || !strings.Contains(msg, tc.msg) {
					t.Errorf("%s: %d %v, want %d %s %q", tc.name, st, out, tc.status, tc.code, tc.msg)
				}
				if after := budgetRows(t, db); after != before {
					t.Errorf("%s: stored rows %d → %d", tc.name, before, after)
				}
			}
		}
		run()
		e.advance(11 * time.Minute)
		cases = []struct {
			name   string
			c      *apiClient
			method string
			path   string
			body   any
			status int
			code   string
			msg    string
		}{
			{"over budget", ana, "PUT", ballot, map[string]any{"projects": projects}, 422, "over_budget", "cost 1450 BYN together, more than the budget of 1000 BYN"},
			{"nothing", ana, "PUT", ballot, map[string]any{"projects": []int64{}}, 422, "invalid_input", ""},
			{"not eligible", ana, "PUT", fmt.Sprintf("/api/v1/budgets/%d/ballot", rid), map[string]any{"projects": []int64{rproject}}, 403, "not_eligible", "resident"},
			{"withdraw without a ballot", ana, "DELETE", ballot, nil, 409, "budget_no_ballot", ""},
			{"edit after opening", official, "PUT", fmt.Sprintf("/api/v1/budget-projects/%d", projects[0]), map[string]any{"title": "x", "cost": 5}, 409, "budget_locked", ""},
			{"results while open", ana, "GET", fmt.Sprintf("/api/v1/budgets/%d/results", bid), nil, 409, "budget_not_closed", ""},
		}
		run()
		if st, out, _ = ana.call("PUT", ballot, map[string]any{"projects": projects[1:]}); st != 201 {
			t.Fatalf("cast: %d %v", st, out)
		}
		if st, out, _ = ana.call("PUT", ballot, map[string]any{"projects": projects[:1]}); st != 200 || out["ballot"].(map[string]any)["replaced"] != true {
			t.Fatalf("replace: %d %v", st, out)
		}
		if st, out, _ = ana.call("GET", fmt.Sprintf("/api/v1/budgets/%d", bid), nil); st != 200 || out["ballot"].(map[string]any)["cost"].(float64) != 650 || out["eligible"] != true {
			t.Fatalf("get: %d %v", st, out)
		}
		if st, _, _ = ana.call("DELETE", ballot, nil); st != 204 {
			t.Fatalf("withdraw: %d", st)
		}
		ana.call("PUT", ballot, map[string]any{"projects": projects[1:]})
		if st, out, _ = official.call("POST", fmt.Sprintf("/api/v1/spaces/%d/close", bid), nil); st >= 300 {
			t.Fatalf("close: %d %v", st, out)
		}
		st, out, _ = e.api().call("GET", fmt.Sprintf("/api/v1/budgets/%d/results", bid), nil)
		if st != 200 || out["result"].(map[string]any)["voters"].(float64) != 1 || len(out["projects"].([]any)) != 3 {
			t.Fatalf("results: %d %v", st, out)
		}
		if st, out, _ = ana.call("PUT", ballot, map[string]any{"projects": projects[1:2]}); st != 409 || errorCode(out) != "outside_phase" {
			t.Fatalf("cast after close: %d %v", st, out)
		}
	})
}

// TestParallelBallotsOverHTTP: one person sends the same ballot many
// times at once; the database leaves exactly one ballot.
func TestParallelBallotsOverHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		_, official := e.budgetOfficial("olga@example.org")
		var officialID int64
		db.QueryRow(t.Context(), "SELECT id FROM accounts ORDER BY id DESC LIMIT 1").Scan(&officialID)
		proc := e.budgetProcess(officialID, participation.Eligibility{})
		_, out, _ := official.call("POST", fmt.Sprintf("/api/v1/processes/%d/budgets", proc.ID), map[string]any{"phase_id": proc.Phases[0].ID, "title": "Parks", "total": 1000, "currency": "EUR"})
		bid := int64(out["budget"].(map[string]any)["id"].(float64))
		_, out, _ = official.call("POST", fmt.Sprintf("/api/v1/budgets/%d/projects", bid), map[string]any{"title": "P", "cost": 100})
		project := int64(out["project"].(map[string]any)["id"].(float64))
		e.advance(11 * time.Minute)
		voter := e.createUser("ana@example.org")
		ana := e.api()
		ana.signIn("ana@example.org", "")
		var wg sync.WaitGroup
		statuses := make(chan int, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, _, _ := ana.call("PUT", fmt.Sprintf("/api/v1/budgets/%d/ballot", bid), map[string]any{"projects": []int64{project}})
				statuses <- st
			}()
		}
		wg.Wait()
		close(statuses)
		for st := range statuses {
			if st != 200 && st != 201 && st != 409 {
				t.Errorf("a parallel ballot got %d", st)
			}
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM budget_ballots WHERE account_id = ?", voter); n != 1 {
			t.Fatalf("%d ballots, want 1", n)
		}
	})
}
