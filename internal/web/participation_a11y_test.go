package web

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/budget"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/petition"
)

// The pages of processes, consultations and petitions in the accessibility
// sweep (a11y_test.go), with data on each: a process with an open and a
// closed consultation (comments, a reply, answers, a report) and a petition
// space with a signed petition filed by the sweep's citizen.
func init() {
	a11yAreaVisits = append(a11yAreaVisits, participationVisits)
	notHTML["/budgets/{id}/results.csv"] = "a CSV download"
	notHTML["/budgets/{id}/results.json"] = "a JSON download"
}

type participationData struct {
	process, open, closed, section, comment, petitions, petition int64
	budgetOpen, budgetLater, budgetClosed, project               int64
}

var participationFixtures sync.Map // *a11yFixture -> *participationData

func participationVisits(fx *a11yFixture) map[string][]a11yVisit {
	d := &participationData{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	if fx.e != nil {
		d = fx.participationData()
	}
	v := func(format string, args ...any) []a11yVisit { return []a11yVisit{{fmt.Sprintf(format, args...), 200}} }
	return map[string][]a11yVisit{
		"/processes/{id}":                   v("/processes/%d", d.process),
		"/processes/{id}/consultations/new": v("/processes/%d/consultations/new", d.process),
		"/processes/{id}/petitions/new":     v("/processes/%d/petitions/new", d.process),
		"/consultations/{id}": {
			{fmt.Sprintf("/consultations/%d", d.open), 200},
			{fmt.Sprintf("/consultations/%d?section=%d", d.open, d.section), 200},
			{fmt.Sprintf("/consultations/%d", d.closed), 200},
		},
		"/consultations/{id}/report": v("/consultations/%d/report", d.closed),
		"/comments/{id}/edit":        v("/comments/%d/edit", d.comment),
		"/comments/{id}/history":     v("/comments/%d/history", d.comment),
		"/spaces/{id}/petitions":     v("/spaces/%d/petitions", d.petitions),
		"/spaces/{id}/petitions/new": v("/spaces/%d/petitions/new", d.petitions),
		"/petitions/{id}":            v("/petitions/%d", d.petition),

		"/processes/{id}/budgets/new": v("/processes/%d/budgets/new", d.process),
		"/budgets/{id}": {
			{fmt.Sprintf("/budgets/%d", d.budgetOpen), 200},
			{fmt.Sprintf("/budgets/%d", d.budgetLater), 200},
			{fmt.Sprintf("/budgets/%d", d.budgetClosed), 200},
		},
		"/budgets/{id}/projects/new": v("/budgets/%d/projects/new", d.budgetLater),
		"/budget-projects/{id}/edit": v("/budget-projects/%d/edit", d.project),
		"/budgets/{id}/results":      v("/budgets/%d/results", d.budgetClosed),
	}
}

func (fx *a11yFixture) participationData() *participationData {
	if v, ok := participationFixtures.Load(fx); ok {
		return v.(*participationData)
	}
	t, e, ctx := fx.t, fx.e, context.Background()
	official := newRoleHolder(e, identity.RoleOfficial, 8).id
	other := e.createUser("neighbour@example.org")
	if _, err := e.db.Exec(ctx, "UPDATE accounts SET created_at = 0"); err != nil {
		t.Fatal(err)
	}
	now := e.clock()
	p, err := e.part.CreateProcess(ctx, official, participation.ProcessInput{Title: "Parks 2027", Description: "How should we spend on **parks**?",
		Eligibility: participation.Eligibility{},
		Phases: []participation.PhaseInput{{Name: "Comments", Starts: now.Add(-time.Hour), Ends: now.Add(7 * 24 * time.Hour)},
			{Name: "Voting", Starts: now.Add(7 * 24 * time.Hour), Ends: now.Add(14 * 24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	d := &participationData{process: p.ID}
	cs := e.web.sp.consultations
	doc := "Why we consult.\n\n## Trees\nPlant 500 trees.\n\n## Benches\nAdd benches.\n"
	for _, id := range []*int64{&d.open, &d.closed} {
		if *id, err = cs.Create(ctx, official, consultation.Input{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Draft parks plan", Document: doc}); err != nil {
			t.Fatal(err)
		}
		con, err := cs.Get(ctx, *id)
		if err != nil {
			t.Fatal(err)
		}
		d.section = con.Sections[0].ID
		c, err := cs.Post(ctx, fx.citizen, *id, d.section, 0, "Plant **oaks**, not birches.")
		if err != nil {
			t.Fatal(err)
		}
		d.comment = c.ID
		if _, err := cs.Post(ctx, other, *id, 0, c.ID, "Oaks grow slowly."); err != nil {
			t.Fatal(err)
		}
		if err := cs.Edit(ctx, fx.citizen, c.ID, "Plant oaks and limes."); err != nil {
			t.Fatal(err)
		}
		if err := cs.Answer(ctx, official, *id, consultation.AnswerInput{CommentID: c.ID, Outcome: "accepted", Body: "Limes added."}); err != nil {
			t.Fatal(err)
		}
		if err := cs.Answer(ctx, official, *id, consultation.AnswerInput{SectionID: d.section, Outcome: "partly", Body: "400 trees."}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.part.CloseSpace(ctx, official, d.closed); err != nil {
		t.Fatal(err)
	}
	if err := cs.PublishReport(ctx, official, d.closed, fmt.Sprintf("We took up #c%d.", d.comment)); err != nil {
		t.Fatal(err)
	}
	ps := e.web.sp.petitions
	if d.petitions, err = ps.CreateSpace(ctx, official, petition.SpaceInput{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "City petitions",
		Threshold: 2, ResponseDays: 30}); err != nil {
		t.Fatal(err)
	}
	pt, err := ps.File(ctx, fx.citizen, d.petitions, petition.Input{Title: "More benches", Body: "In every park."})
	if err != nil {
		t.Fatal(err)
	}
	d.petition = pt.ID
	if _, err := ps.Sign(ctx, other, pt.ID, ""); err != nil {
		t.Fatal(err)
	}
	// Budgets take projects only before voting opens: their process
	// starts voting in a minute, and the clock then moves past it.
	bp, err := e.part.CreateProcess(ctx, official, participation.ProcessInput{Title: "Budget 2027",
		Phases: []participation.PhaseInput{{Name: "Voting", Starts: now.Add(time.Minute), Ends: now.Add(7 * 24 * time.Hour)},
			{Name: "Later", Starts: now.Add(7 * 24 * time.Hour), Ends: now.Add(14 * 24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	bs := e.web.sp.budgets
	type ballot struct {
		space    int64
		projects []int64
	}
	var ballots []ballot
	for i, b := range []struct {
		id    *int64
		phase int
	}{{&d.budgetOpen, 0}, {&d.budgetLater, 1}, {&d.budgetClosed, 0}} {
		if *b.id, err = bs.CreateSpace(ctx, official, budget.SpaceInput{ProcessID: bp.ID, PhaseID: bp.Phases[b.phase].ID,
			Title: "Parks budget", Intro: "Choose projects.", Total: 1000, Currency: "EUR"}); err != nil {
			t.Fatal(err)
		}
		var projects []int64
		for j, cost := range []int64{600, 300, 200} {
			pr, err := bs.AddProject(ctx, official, *b.id, budget.ProjectInput{Title: fmt.Sprintf("Project %d", j+1), Description: "A **good** idea.", Cost: cost})
			if err != nil {
				t.Fatalf("budget %d project %d: %v", i, j, err)
			}
			projects = append(projects, pr.ID)
		}
		if b.phase == 1 {
			d.project = projects[0]
		} else {
			ballots = append(ballots, ballot{*b.id, projects[:2]})
		}
	}
	e.advance(2 * time.Minute)
	for _, b := range ballots {
		if _, err := bs.Cast(ctx, fx.citizen, b.space, b.projects); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.part.CloseSpace(ctx, official, d.budgetClosed); err != nil {
		t.Fatal(err)
	}
	v, _ := participationFixtures.LoadOrStore(fx, d)
	return v.(*participationData)
}
