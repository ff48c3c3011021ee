package results_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/budget"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/participationtest"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/participation/results"
	"github.com/veche/veche/internal/participation/survey"
	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/privacy/opendata"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

var ctx = context.Background()

// city is a process with one space of each kind in which six people took
// part (the survey: as many as asked), all closed but one consultation
// left open.
type city struct {
	e                                *participationtest.Env
	consultation, open, petitions    int64
	budget, survey                   int64
	trees, petition, quietPetition   int64
	hiddenText, commentText, petText string
}

func newCity(t *testing.T, db *store.DB, surveyRespondents int) *city {
	t.Helper()
	e := participationtest.New(t, db)
	c := &city{e: e, hiddenText: "Secret hidden remark", commentText: "Plant oaks along the river", petText: "Walnut alley for the children"}
	official := e.Account(t)
	people := make([]int64, 6)
	for i := range people {
		people[i] = e.Account(t)
	}
	p, err := e.P.CreateProcess(ctx, official, participation.ProcessInput{Title: "Parks 2027",
		Phases: []participation.PhaseInput{{Name: "Participation", Starts: e.Now.Add(time.Hour), Ends: e.Now.Add(7 * 24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	phase := p.Phases[0].ID
	cs, ps, bs, ss := consultation.New(e.P), petition.New(e.P), budget.New(e.P), survey.New(e.P)
	doc := "Why.\n\n## Trees\nPlant trees.\n\n## Benches\nAdd benches.\n"
	if c.consultation, err = cs.Create(ctx, official, consultation.Input{ProcessID: p.ID, PhaseID: phase, Title: "Draft parks plan", Document: doc}); err != nil {
		t.Fatal(err)
	}
	if c.open, err = cs.Create(ctx, official, consultation.Input{ProcessID: p.ID, PhaseID: phase, Title: "Still open", Document: doc}); err != nil {
		t.Fatal(err)
	}
	if c.petitions, err = ps.CreateSpace(ctx, official, petition.SpaceInput{ProcessID: p.ID, PhaseID: phase, Title: "City petitions", Threshold: 3, ResponseDays: 30}); err != nil {
		t.Fatal(err)
	}
	if c.budget, err = bs.CreateSpace(ctx, official, budget.SpaceInput{ProcessID: p.ID, PhaseID: phase, Title: "Parks budget", Total: 1000, Currency: "eur"}); err != nil {
		t.Fatal(err)
	}
	var projects []int64
	for i, cost := range []int64{600, 400, 400} {
		pr, err := bs.AddProject(ctx, official, c.budget, budget.ProjectInput{Title: fmt.Sprintf("Project %c", 'A'+i), Description: "Trees", Cost: cost})
		if err != nil {
			t.Fatal(err)
		}
		projects = append(projects, pr.ID)
	}
	if c.survey, err = ss.CreateSpace(ctx, official, survey.SpaceInput{ProcessID: p.ID, PhaseID: phase, Title: "How are the parks?", Anonymous: true}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []survey.QuestionInput{
		{Kind: survey.Single, Text: "Which park do you visit most?", Required: true, Options: []string{"North", "South"}},
		{Kind: survey.Text, Text: "Anything else?", MaxLength: 50},
	} {
		if _, err := ss.AddQuestion(ctx, official, c.survey, in); err != nil {
			t.Fatal(err)
		}
	}
	sv, err := ss.Get(ctx, c.survey)
	if err != nil {
		t.Fatal(err)
	}
	e.Now = e.Now.Add(2 * time.Hour) // the phase is open

	con, err := cs.Get(ctx, c.consultation)
	if err != nil {
		t.Fatal(err)
	}
	c.trees = con.Sections[0].ID
	oak, err := cs.Post(ctx, people[0], c.consultation, c.trees, 0, c.commentText)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Post(ctx, people[1], c.consultation, 0, oak.ID, "Oaks grow slowly"); err != nil {
		t.Fatal(err)
	}
	hidden, err := cs.Post(ctx, people[2], c.consultation, c.trees, 0, c.hiddenText)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "UPDATE comments SET status = 'hidden' WHERE id = ?", hidden.ID); err != nil {
		t.Fatal(err)
	}
	for i, agree := range []bool{true, true, false} {
		if err := cs.React(ctx, people[3+i], oak.ID, agree); err != nil {
			t.Fatal(err)
		}
	}
	if err := cs.Answer(ctx, official, c.consultation, consultation.AnswerInput{CommentID: oak.ID, Outcome: "accepted", Body: "Oaks added."}); err != nil {
		t.Fatal(err)
	}
	if err := cs.Answer(ctx, official, c.consultation, consultation.AnswerInput{SectionID: c.trees, Outcome: "partly", Body: "400 trees."}); err != nil {
		t.Fatal(err)
	}

	pt, err := ps.File(ctx, people[0], c.petitions, petition.Input{Kind: "petition", Title: c.petText, Body: "Please plant walnuts."})
	if err != nil {
		t.Fatal(err)
	}
	c.petition = pt.ID
	for _, who := range people[1:4] {
		if _, err := ps.Sign(ctx, who, pt.ID, ""); err != nil {
			t.Fatal(err)
		}
	}
	quiet, err := ps.File(ctx, people[1], c.petitions, petition.Input{Kind: "proposal", Title: "Fewer cars", Body: "Please."})
	if err != nil {
		t.Fatal(err)
	}
	c.quietPetition = quiet.ID

	for i, who := range people {
		choice := []int64{projects[0]}
		if i%2 == 1 {
			choice = []int64{projects[1], projects[2]}
		}
		if i == 0 {
			choice = []int64{projects[1]}
		}
		if _, err := bs.Cast(ctx, who, c.budget, choice); err != nil {
			t.Fatal(err)
		}
		if i >= surveyRespondents {
			continue
		}
		park := sv.Questions[0].Options[i%2].ID
		if err := ss.Respond(ctx, who, c.survey, map[int64]survey.Answer{sv.Questions[0].ID: {Options: []int64{park}}, sv.Questions[1].ID: {Text: "free text nobody publishes"}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sp := range []int64{c.consultation, c.petitions, c.budget, c.survey} {
		if err := e.P.CloseSpace(ctx, official, sp); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// export writes the results datasets into a new directory and reads each
// CSV back, by dataset name.
func (c *city) export(t *testing.T) (string, map[string][][]string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "open-data")
	x := &opendata.Exporter{DB: c.e.DB, Ledger: dp.NewLedger(c.e.DB), Audit: c.e.Log}
	sums, err := x.Export(ctx, results.Datasets(c.e.P), opendata.Params{Now: c.e.Now}, dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][][]string{}
	for _, s := range sums {
		if s.Method != opendata.MethodResults {
			t.Errorf("%s: method %s", s.Dataset, s.Method)
		}
		f, err := os.Open(filepath.Join(dir, s.Dataset+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows)-1 != s.Rows {
			t.Errorf("%s: %d rows in the CSV, summary says %d", s.Dataset, len(rows)-1, s.Rows)
		}
		out[s.Dataset] = rows
	}
	return dir, out
}

// column returns the values of name in rows (header first), for the rows
// whose column key equals value ("" key: all rows).
func column(t *testing.T, rows [][]string, name, key, value string) []string {
	t.Helper()
	ci, ki := slices.Index(rows[0], name), slices.Index(rows[0], key)
	if ci < 0 || (key != "" && ki < 0) {
		t.Fatalf("no column %q or %q in %v", name, key, rows[0])
	}
	var out []string
	for _, r := range rows[1:] {
		if key == "" || r[ki] == value {
			out = append(out, r[ci])
		}
	}
	return out
}

// TestClosedSpacesAreExportedAsOpenDataWithTotalsOnly: the results of
// every closed space go out through the open-data export with the totals
// their pages show — counts, agree marks, answers, signatures, votes and
// decisions, survey counts — and nothing a citizen wrote, no one's
// identity, no hidden content and no space still open.
func TestClosedSpacesAreExportedAsOpenDataWithTotalsOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newCity(t, db, 6)
		dir, got := c.export(t)

		con := got["consultation-results"]
		trees := fmt.Sprint(c.trees)
		for col, want := range map[string]string{"comments": "2", "agree": "2", "disagree": "1", "comments_answered": "1", "section_outcome": "partly"} {
			if v := column(t, con, col, "section_id", trees); !slices.Equal(v, []string{want}) {
				t.Errorf("consultation, section Trees, %s = %v, want %s", col, v, want)
			}
		}
		if v := column(t, con, "space_id", "", ""); slices.Contains(v, fmt.Sprint(c.open)) {
			t.Errorf("the open consultation is exported")
		}
		if len(con)-1 != 3 { // the whole draft and two sections
			t.Errorf("consultation rows: %d, want 3", len(con)-1)
		}

		pet := got["petition-results"]
		if v := column(t, pet, "signatures", "petition_id", fmt.Sprint(c.petition)); !slices.Equal(v, []string{"3"}) {
			t.Errorf("signatures = %v, want 3", v)
		}
		if v := column(t, pet, "threshold_reached_at", "petition_id", fmt.Sprint(c.petition)); len(v) != 1 || v[0] == "" {
			t.Errorf("threshold reached at %v", v)
		}
		if v := column(t, pet, "threshold_reached_at", "petition_id", fmt.Sprint(c.quietPetition)); !slices.Equal(v, []string{""}) {
			t.Errorf("the quiet proposal reached its threshold: %v", v)
		}

		bud := got["budget-results"]
		if v := column(t, bud, "votes", "project", "Project A"); !slices.Equal(v, []string{"2"}) {
			t.Errorf("votes for A = %v, want 2", v)
		}
		if v := column(t, bud, "voters", "", ""); !slices.Equal(v, []string{"6", "6", "6"}) {
			t.Errorf("voters = %v", v)
		}
		if v := column(t, bud, "funded_greedy", "project", "Project B"); !slices.Equal(v, []string{"true"}) {
			t.Errorf("B funded by greedy: %v", v)
		}

		sur := got["survey-results"]
		if v := column(t, sur, "count", "answer", "North"); !slices.Equal(v, []string{"3"}) {
			t.Errorf("North = %v, want 3", v)
		}
		if v := column(t, sur, "question", "", ""); slices.Contains(v, "Anything else?") {
			t.Errorf("a free-text question is exported")
		}

		// Nothing a citizen wrote, in any file.
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{c.hiddenText, c.commentText, "Oaks grow slowly", c.petText, "Fewer cars", "free text nobody publishes"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("%s contains %q", filepath.Base(f), secret)
				}
			}
		}
		var dict struct {
			Method struct {
				Name   string `json:"name"`
				Source string `json:"published_at"`
			} `json:"method"`
			Columns []struct{ Name, Description string } `json:"columns"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "petition-results.dictionary.json"))
		if err != nil || json.Unmarshal(b, &dict) != nil {
			t.Fatalf("dictionary: %v\n%s", err, b)
		}
		if dict.Method.Name != "published results" || dict.Method.Source == "" || len(dict.Columns) != len(pet[0]) {
			t.Errorf("dictionary: %+v", dict)
		}
	})
}

// TestSurveyBelowItsSmallCountRuleExportsNoBreakdown: a survey with
// fewer responses than survey.SuppressBelow shows no breakdown on its
// page, and none in the export.
func TestSurveyBelowItsSmallCountRuleExportsNoBreakdown(t *testing.T) {
	c := newCity(t, storetest.SQLite(t), survey.SuppressBelow-1)
	_, got := c.export(t)
	if rows := got["survey-results"]; len(rows) != 1 {
		t.Errorf("survey with one response exported %d rows:\n%v", len(rows)-1, rows)
	}
}
