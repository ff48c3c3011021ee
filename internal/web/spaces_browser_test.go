package web

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/web/browsertest"
)

// Full flows of the budget and survey spaces in headless Chromium. Both
// spaces take their projects or questions only before their phase opens,
// so the process starts in an hour and the test moves the server clock.

// browserUpcomingProcess creates, through the form, a process whose one
// phase starts in an hour, and returns its path.
func (e *testEnv) browserUpcomingProcess(p *browsertest.Page, title string) string {
	t := p.T()
	t.Helper()
	p.Open("/processes/new")
	p.Fill("Title", title)
	p.Fill("phases.0.name", "Voting")
	now := e.clock().UTC()
	browsertest.Eval[string](p, fmt.Sprintf(`document.getElementById('phases.0.starts').value = %q`, now.Add(time.Hour).Format(formTime)))
	browsertest.Eval[string](p, fmt.Sprintf(`document.getElementById('phases.0.ends').value = %q`, now.Add(7*24*time.Hour).Format(formTime)))
	p.Click("Create the process")
	if !regexp.MustCompile(`^/processes/\d+$`).MatchString(p.Path()) {
		t.Fatalf("after creating the process: %s\n%s", p.Path(), p.Text())
	}
	return p.Path()
}

func TestBudgetFlowInTheBrowser(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	official := newRoleHolder(e, identity.RoleOfficial, 1)
	off := browsertest.NewAt(t, e.srv.URL)
	e.browserSignIn(off, official.email, official.secret)
	e.browserUpcomingProcess(off, "Budget 2027")
	off.Click("New participatory budget")
	off.CheckA11y()
	off.Fill("Title", "Parks budget")
	off.Fill("Total budget", "1000")
	off.Fill("Currency", "EUR")
	off.Click("Create the budget")
	space := off.Path()
	for _, pr := range []struct{ title, cost string }{{"Playground", "600"}, {"Benches", "300"}, {"Lights", "200"}} {
		off.Open(space)
		off.Click("Add a project")
		off.Fill("Project title", pr.title)
		off.Fill("Project description", "A **good** idea.")
		off.Fill("Cost (EUR)", pr.cost)
		off.Click("Save the project")
	}
	off.Open(space)
	off.CheckA11y()

	e.advance(2 * time.Hour) // voting opens
	anna := e.browserCitizen(t, "anna@example.org")
	anna.Open(space)
	anna.CheckA11y()
	anna.Check("Playground — 600 EUR")
	anna.Check("Benches — 300 EUR")
	anna.Check("Lights — 200 EUR")
	anna.Click("Cast my ballot")
	anna.MustContain("more than the budget of 1000 EUR") // refused, saying the limit
	anna.CheckA11y()
	// By keyboard: untick Lights and cast.
	anna.TabTo("Lights — 200 EUR", 80)
	anna.Press("Space")
	anna.TabTo("Cast my ballot", 10)
	anna.PressAndWait("Enter")

	boris := e.browserCitizen(t, "boris@example.org")
	boris.Open(space)
	boris.Check("Benches — 300 EUR")
	boris.Check("Lights — 200 EUR")
	boris.Click("Cast my ballot")

	e.browserSignIn(off, official.email, official.secret) // the earlier session went idle
	off.Open(space)
	off.Click("Close voting now and publish the results")
	pub := browsertest.NewAt(t, e.srv.URL)
	pub.Open(space + "/results")
	pub.CheckA11y()
	pub.MustContain("Benches")
	pub.MustContain("Equal Shares")
}

func TestSurveyFlowInTheBrowser(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	official := newRoleHolder(e, identity.RoleOfficial, 1)
	off := browsertest.NewAt(t, e.srv.URL)
	e.browserSignIn(off, official.email, official.secret)
	e.browserUpcomingProcess(off, "Survey 2027")
	off.Click("New survey")
	off.CheckA11y()
	off.Fill("Title", "Park safety")
	off.Check("Anonymous: nothing links an answer to the person who gave it")
	browsertest.Eval[bool](off, `document.getElementById('phase_id').checked = true`) // the only phase
	off.Click("Create the survey")
	off.CheckA11y()
	questions := off.Path()
	off.Fill("Kind of question", "Single choice")
	off.Fill("Question", "Which park do you visit?")
	off.Check("An answer is required")
	off.Fill("Options", "North park\nSouth park")
	off.Click("Add the question")
	off.MustContain("The question was added.")
	survey := regexp.MustCompile(`/questions$`).ReplaceAllString(questions, "")

	e.advance(2 * time.Hour) // the survey opens
	for i, name := range []string{"anna", "boris", "vera", "gleb", "dasha"} {
		p := e.browserCitizen(t, name+"@example.org")
		p.Open(survey)
		if i == 0 {
			p.CheckA11y()
			p.Click("Send my answers") // the required question unanswered
			p.MustContain("needs an answer")
			p.CheckA11y()
			// By keyboard: choose North park and send.
			p.TabTo("North park", 80)
			p.Press("Space")
			p.TabTo("Send my answers", 10)
			p.PressAndWait("Enter")
		} else {
			p.Check([]string{"North park", "South park"}[i%2])
			p.Click("Send my answers")
		}
		p.MustContain("You have answered this survey.")
	}
	e.browserSignIn(off, official.email, official.secret)
	off.Open(questions)
	off.Click("Close the survey now")
	pub := browsertest.NewAt(t, e.srv.URL)
	pub.Open(survey + "/results")
	pub.CheckA11y()
	pub.MustContain("North park")
}
