package web

// The survey pages in the accessibility sweep (a11y_test.go): addresses
// with real surveys behind them.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/survey"
)

func init() {
	for path, why := range map[string]string{"/surveys/{id}/results.csv": "a CSV download of a survey's results",
		"/surveys/{id}/results.json": "a JSON download of a survey's results", "/feedback.csv": "a CSV download of page feedback"} {
		notHTML[path] = why
	}
	a11yAreaVisits = append(a11yAreaVisits, func(fx *a11yFixture) map[string][]a11yVisit {
		return map[string][]a11yVisit{
			"/processes/{id}/surveys/new": fx.surveyVisits("/processes/%[1]d/surveys/new"),
			"/surveys/{id}":               fx.surveyVisits("/surveys/%[2]d"),
			"/surveys/{id}/questions":     fx.surveyVisits("/surveys/%[3]d/questions"),
			"/survey-questions/{id}":      fx.surveyVisits("/survey-questions/%[4]d"),
			"/surveys/{id}/results":       fx.surveyVisits("/surveys/%[2]d/results"),
		}
	})
}

// surveyData are the surveys the accessibility sweep visits, made once
// per fixture: an upcoming one (its questions can be edited) and an open
// one with live results.
type surveyData struct{ process, open, upcoming, question int64 }

var surveyFixtures sync.Map // *a11yFixture -> *surveyData

// surveyVisits returns the address to check for a survey page: format
// takes the process, the open survey, the upcoming survey and one of its
// questions, as %[1]d to %[4]d.
func (fx *a11yFixture) surveyVisits(format string) []a11yVisit {
	if fx.e == nil { // the route check needs addresses only
		return []a11yVisit{{fmt.Sprintf(format, 1, 1, 1, 1), 200}}
	}
	v, ok := surveyFixtures.Load(fx)
	if !ok {
		d := &surveyData{}
		t := fx.t
		e := fx.e
		ctx := context.Background()
		official := newRoleHolder(e, identity.RoleOfficial, 9).id
		now := e.clock()
		p, err := e.part.CreateProcess(ctx, official, participation.ProcessInput{Title: "Parks",
			Phases: []participation.PhaseInput{{Name: "Now", Starts: now.Add(-time.Hour), Ends: now.Add(7 * 24 * time.Hour)},
				{Name: "Later", Starts: now.Add(7 * 24 * time.Hour), Ends: now.Add(14 * 24 * time.Hour)}}})
		if err != nil {
			t.Fatal(err)
		}
		d.process = p.ID
		qs := []survey.QuestionInput{
			{Kind: survey.Single, Text: "Which park?", Required: true, Options: []string{"North", "South"}},
			{Kind: survey.Multiple, Text: "What to improve?", Options: []string{"Benches", "Lights", "Paths"}, MaxChoices: 2},
			{Kind: survey.Scale, Text: "How safe?", LabelLow: "not at all", LabelHigh: "very"},
			{Kind: survey.Text, Text: "Anything else?"},
		}
		sv := e.web.sp.surveys
		if d.open, err = sv.CreateSpace(ctx, official, survey.SpaceInput{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Open survey",
			Anonymous: true, LiveResults: true, Questions: qs}); err != nil {
			t.Fatal(err)
		}
		if d.upcoming, err = sv.CreateSpace(ctx, official, survey.SpaceInput{ProcessID: p.ID, PhaseID: p.Phases[1].ID, Title: "Later survey", Questions: qs}); err != nil {
			t.Fatal(err)
		}
		got, err := sv.Get(ctx, d.upcoming)
		if err != nil {
			t.Fatal(err)
		}
		d.question = got.Questions[0].ID
		v, _ = surveyFixtures.LoadOrStore(fx, d)
	}
	d := v.(*surveyData)
	return []a11yVisit{{fmt.Sprintf(format, d.process, d.open, d.upcoming, d.question), 200}}
}
