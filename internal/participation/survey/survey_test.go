package survey_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/participationtest"
	"github.com/veche/veche/internal/participation/survey"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/validate"
)

// fixture is a survey with one question of each kind, in a process whose
// phase starts in an hour; the clock is then moved into the phase.
type fixture struct {
	e        *participationtest.Env
	s        *survey.Service
	official int64
	process  *participation.Process
	space    int64
	q        map[string]survey.Question // by kind
}

func newFixture(t *testing.T, db *store.DB, anonymous bool, el participation.Eligibility) *fixture {
	t.Helper()
	ctx := context.Background()
	e := participationtest.New(t, db)
	f := &fixture{e: e, s: survey.New(e.P), official: e.Account(t), q: map[string]survey.Question{}}
	p, err := e.P.CreateProcess(ctx, f.official, participation.ProcessInput{Title: "Parks", Eligibility: el,
		Phases: []participation.PhaseInput{{Name: "Survey", Starts: e.Now.Add(time.Hour), Ends: e.Now.Add(8 * 24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	f.process = p
	f.space, err = f.s.CreateSpace(ctx, f.official, survey.SpaceInput{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "How are the parks?",
		Anonymous: anonymous})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []survey.QuestionInput{
		{Kind: survey.Single, Text: "Which park do you visit most?", Required: true, Options: []string{"North", "South", "None"}},
		{Kind: survey.Multiple, Text: "What would you improve?", Options: []string{"Benches", "Lights", "Paths", "Toilets"}, MaxChoices: 2},
		{Kind: survey.Scale, Text: "How safe do you feel?", Required: true, ScaleMin: 1, ScaleMax: 5, LabelLow: "not at all", LabelHigh: "very"},
		{Kind: survey.Text, Text: "Anything else?", MaxLength: 50},
	} {
		if _, err := f.s.AddQuestion(ctx, f.official, f.space, in); err != nil {
			t.Fatal(err)
		}
	}
	sv, err := f.s.Get(ctx, f.space)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range sv.Questions {
		f.q[q.Kind] = q
	}
	e.Now = e.Now.Add(2 * time.Hour) // the survey is open
	return f
}

func intp(v int) *int { return &v }

// valid is a complete, acceptable response.
func (f *fixture) valid() map[int64]survey.Answer {
	return map[int64]survey.Answer{
		f.q[survey.Single].ID:   {Options: []int64{f.q[survey.Single].Options[0].ID}},
		f.q[survey.Multiple].ID: {Options: []int64{f.q[survey.Multiple].Options[1].ID, f.q[survey.Multiple].Options[2].ID}},
		f.q[survey.Scale].ID:    {Value: intp(4)},
		f.q[survey.Text].ID:     {Text: "More trees please"},
	}
}

func count(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRespondRefusesBadAnswersAndStoresNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, true, participation.Eligibility{})
		ctx := context.Background()
		with := func(change func(a map[int64]survey.Answer)) map[int64]survey.Answer {
			a := f.valid()
			change(a)
			return a
		}
		single, multi, scale, text := f.q[survey.Single], f.q[survey.Multiple], f.q[survey.Scale], f.q[survey.Text]
		cases := []struct {
			name    string
			answers map[int64]survey.Answer
			field   string
			code    string
		}{
			{"a required question left out", with(func(a map[int64]survey.Answer) { delete(a, single.ID) }), single.Field(), "survey_answer_required"},
			{"a required scale left out", with(func(a map[int64]survey.Answer) { delete(a, scale.ID) }), scale.Field(), "survey_answer_required"},
			{"an option of another question", with(func(a map[int64]survey.Answer) { a[single.ID] = survey.Answer{Options: []int64{multi.Options[0].ID}} }), single.Field(), "survey_not_an_option"},
			{"an option that does not exist", with(func(a map[int64]survey.Answer) { a[multi.ID] = survey.Answer{Options: []int64{999999}} }), multi.Field(), "survey_not_an_option"},
			{"two options of a single choice", with(func(a map[int64]survey.Answer) {
				a[single.ID] = survey.Answer{Options: []int64{single.Options[0].ID, single.Options[1].ID}}
			}), single.Field(), "survey_one_choice_only"},
			{"too many selections", with(func(a map[int64]survey.Answer) {
				a[multi.ID] = survey.Answer{Options: []int64{multi.Options[0].ID, multi.Options[1].ID, multi.Options[2].ID}}
			}), multi.Field(), "survey_too_many_choices"},
			{"a scale value above the scale", with(func(a map[int64]survey.Answer) { a[scale.ID] = survey.Answer{Value: intp(6)} }), scale.Field(), "survey_outside_scale"},
			{"a scale value below the scale", with(func(a map[int64]survey.Answer) { a[scale.ID] = survey.Answer{Value: intp(0)} }), scale.Field(), "survey_outside_scale"},
			{"text for a scale", with(func(a map[int64]survey.Answer) { a[scale.ID] = survey.Answer{Text: "5"} }), scale.Field(), "survey_outside_scale"},
			{"oversized text", with(func(a map[int64]survey.Answer) { a[text.ID] = survey.Answer{Text: strings.Repeat("a", 51)} }), text.Field(), "survey_answer_too_long"},
			{"control characters", with(func(a map[int64]survey.Answer) { a[text.ID] = survey.Answer{Text: "a\x00b"} }), text.Field(), "survey_answer_invalid_text"},
			{"an option for a text", with(func(a map[int64]survey.Answer) { a[text.ID] = survey.Answer{Options: []int64{1}} }), text.Field(), "survey_answer_text_only"},
			{"an unknown question", with(func(a map[int64]survey.Answer) { a[424242] = survey.Answer{Text: "x"} }), "answers.424242", "survey_not_a_question"},
		}
		person := f.e.Account(t)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := f.s.Respond(ctx, person, f.space, tc.answers)
				var v validate.Errors
				if !errors.As(err, &v) {
					t.Fatalf("got %v, want field errors", err)
				}
				fe, ok := v.Field(tc.field)
				if !ok || fe.Code != tc.code {
					t.Fatalf("got %v, want %s on %s", v, tc.code, tc.field)
				}
				for _, table := range []string{"survey_responses", "survey_participants"} {
					if n := count(t, db, table); n != 0 {
						t.Fatalf("%s holds %d rows after a refused response", table, n)
					}
				}
			})
		}
		// Several problems at once are all reported.
		err := f.s.Respond(ctx, person, f.space, map[int64]survey.Answer{scale.ID: {Value: intp(9)}})
		var v validate.Errors
		if !errors.As(err, &v) || len(v) != 2 {
			t.Fatalf("got %v, want the two problems", err)
		}
		// A valid response then passes.
		if err := f.s.Respond(ctx, person, f.space, f.valid()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRespondChecksPhaseAndEligibility(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, false, participation.Eligibility{ResidentsOnly: true})
		person := f.e.Account(t)
		if err := f.s.Respond(ctx, person, f.space, f.valid()); !errors.Is(err, participation.ErrNotEligible) {
			t.Fatalf("a non-resident answered: %v", err)
		}
		g := newFixture(t, storetest.SQLite(t), false, participation.Eligibility{})
		before := g.e.Now
		g.e.Now = before.Add(-2 * time.Hour) // before the phase
		if err := g.s.Respond(ctx, g.e.Account(t), g.space, g.valid()); !errors.Is(err, participation.ErrOutsidePhase) {
			t.Fatalf("answered before the phase: %v", err)
		}
		g.e.Now = before.Add(30 * 24 * time.Hour) // after it
		if err := g.s.Respond(ctx, g.e.Account(t), g.space, g.valid()); !errors.Is(err, participation.ErrOutsidePhase) {
			t.Fatalf("answered after the phase: %v", err)
		}
		for _, table := range []string{"survey_responses", "survey_participants"} {
			if n := count(t, db, table); n != 0 {
				t.Fatalf("%s holds %d rows", table, n)
			}
		}
	})
}

func TestQuestionsChangeOnlyBeforeTheSurveyOpens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, true, participation.Eligibility{})
		in := survey.QuestionInput{Kind: survey.Text, Text: "Late question"}
		if _, err := f.s.AddQuestion(ctx, f.official, f.space, in); !errors.Is(err, survey.ErrQuestionsLocked) {
			t.Fatalf("added a question to an open survey: %v", err)
		}
		if err := f.s.UpdateQuestion(ctx, f.official, f.space, f.q[survey.Text].ID, in); !errors.Is(err, survey.ErrQuestionsLocked) {
			t.Fatalf("changed a question of an open survey: %v", err)
		}
		if err := f.s.DeleteQuestion(ctx, f.official, f.space, f.q[survey.Text].ID); !errors.Is(err, survey.ErrQuestionsLocked) {
			t.Fatalf("removed a question of an open survey: %v", err)
		}
	})
}

func TestQuestionInputIsChecked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := participationtest.New(t, db)
		s := survey.New(e.P)
		official := e.Account(t)
		p, err := e.P.CreateProcess(ctx, official, participation.ProcessInput{Title: "P",
			Phases: []participation.PhaseInput{{Name: "Later", Starts: e.Now.Add(time.Hour), Ends: e.Now.Add(48 * time.Hour)}}})
		if err != nil {
			t.Fatal(err)
		}
		space, err := s.CreateSpace(ctx, official, survey.SpaceInput{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "S"})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			in    survey.QuestionInput
			field string
			code  string
		}{
			{"no kind", survey.QuestionInput{Text: "Q"}, "kind", "survey_unknown_question_kind"},
			{"no text", survey.QuestionInput{Kind: survey.Text}, "text", "required"},
			{"one option", survey.QuestionInput{Kind: survey.Single, Text: "Q", Options: []string{"a", " "}}, "options", "survey_too_few_options"},
			{"the same option twice", survey.QuestionInput{Kind: survey.Single, Text: "Q", Options: []string{"a", "A"}}, "options", "survey_duplicate_option"},
			{"a limit above the options", survey.QuestionInput{Kind: survey.Multiple, Text: "Q", Options: []string{"a", "b"}, MaxChoices: 3}, "max_choices", "survey_max_choices_out_of_range"},
			{"an upside-down scale", survey.QuestionInput{Kind: survey.Scale, Text: "Q", ScaleMin: 5, ScaleMax: 1}, "scale_max", "survey_scale_out_of_range"},
			{"a huge scale", survey.QuestionInput{Kind: survey.Scale, Text: "Q", ScaleMin: 0, ScaleMax: 100}, "scale_max", "survey_scale_out_of_range"},
			{"a huge text limit", survey.QuestionInput{Kind: survey.Text, Text: "Q", MaxLength: 1 << 20}, "max_length", "survey_max_length_out_of_range"},
		}
		for _, tc := range cases {
			_, err := s.AddQuestion(ctx, official, space, tc.in)
			var v validate.Errors
			if fe, ok := v.Field(tc.field); !errors.As(err, &v) {
				t.Errorf("%s: got %v", tc.name, err)
			} else if fe, ok = v.Field(tc.field); !ok || fe.Code != tc.code {
				t.Errorf("%s: got %v, want %s on %s", tc.name, v, tc.code, tc.field)
			}
		}
		if n := count(t, db, "survey_questions"); n != 0 {
			t.Fatalf("%d questions stored", n)
		}
		// Moving and removing keep positions 1..n.
		ids := []int64{}
		for _, text := range []string{"A", "B", "C"} {
			id, err := s.AddQuestion(ctx, official, space, survey.QuestionInput{Kind: survey.Text, Text: text})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := s.UpdateQuestion(ctx, official, space, ids[2], survey.QuestionInput{Kind: survey.Text, Text: "C", Position: 1}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteQuestion(ctx, official, space, ids[0]); err != nil {
			t.Fatal(err)
		}
		sv, _ := s.Get(ctx, space)
		var got []string
		for _, q := range sv.Questions {
			got = append(got, fmt.Sprintf("%d%s", q.Position, q.Text))
		}
		if strings.Join(got, " ") != "1C 2B" {
			t.Fatalf("questions %v, want 1C 2B", got)
		}
	})
}

func TestAnswerOnceEvenInParallel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, anonymous := range []bool{false, true} {
			f := newFixture(t, db, anonymous, participation.Eligibility{})
			person := f.e.Account(t)
			if err := f.s.Respond(ctx, person, f.space, f.valid()); err != nil {
				t.Fatal(err)
			}
			if err := f.s.Respond(ctx, person, f.space, f.valid()); !errors.Is(err, survey.ErrAlreadyAnswered) {
				t.Fatalf("a second answer: %v", err)
			}
			other := f.e.Account(t)
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = f.s.Respond(ctx, other, f.space, f.valid())
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, survey.ErrAlreadyAnswered):
				default:
					t.Fatalf("parallel answer: %v", err)
				}
			}
			if ok != 1 {
				t.Fatalf("%d of the parallel answers were accepted, want 1", ok)
			}
			var n int
			db.QueryRow(ctx, "SELECT COUNT(*) FROM survey_responses WHERE space_id = ?", f.space).Scan(&n)
			if n != 2 {
				t.Fatalf("%d responses stored, want 2", n)
			}
		}
	})
}

// TestAnonymousResponseHasNoLinkToThePerson reads every column of the
// survey tables and every audit entry after anonymous answers, and finds
// neither the account number, its pseudonym, nor a time finer than the
// day; the response numbers do not follow the order of answering.
func TestAnonymousResponseHasNoLinkToThePerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, true, participation.Eligibility{})
		f.e.Now = f.e.Now.Add(37*time.Minute + 13*time.Second + 123456*time.Microsecond)
		entriesBefore := len(f.e.Entries(t))
		var people []int64
		for range 6 {
			// Account numbers apart from 1..n, so that they cannot be
			// mistaken for small numbers in the rows.
			people = append(people, f.e.Account(t))
		}
		for _, p := range people {
			if err := f.s.Respond(ctx, p, f.space, f.valid()); err != nil {
				t.Fatal(err)
			}
			f.e.Now = f.e.Now.Add(time.Second)
		}
		now := f.e.Now
		day := survey.Day(now)
		forbidden := map[string]string{}
		for _, p := range people {
			forbidden[f.e.P.Pseudonym(p)] = "pseudonym"
		}
		// Any precise time around the answers, in the stored forms.
		for d := -20 * time.Second; d <= 20*time.Second; d += time.Second {
			at := now.Add(d)
			forbidden[fmt.Sprint(store.Micros(at))[:10]] = "time (micros)"
			forbidden[at.UTC().Format("2006-01-02T15:04:05")] = "time (RFC 3339)"
		}
		dump := func(table string) [][]string {
			rows, err := db.Query(ctx, "SELECT * FROM "+table)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			var out [][]string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				row := make([]string, len(cols))
				for i, v := range vals {
					if b, ok := v.([]byte); ok {
						v = string(b)
					}
					row[i] = cols[i] + "=" + fmt.Sprint(v)
				}
				out = append(out, row)
			}
			return out
		}
		var ids []string
		for _, row := range dump("survey_responses") {
			for _, cell := range row {
				value := cell[strings.IndexByte(cell, '=')+1:]
				for _, p := range people {
					if value == fmt.Sprint(p) {
						t.Errorf("survey_responses: %s is the account number of a person who answered", cell)
					}
				}
				for s, what := range forbidden {
					if strings.Contains(value, s) {
						t.Errorf("survey_responses: %s holds a %s", cell, what)
					}
				}
				if strings.HasPrefix(cell, "day=") && value != fmt.Sprint(store.Micros(day)) {
					t.Errorf("survey_responses: %s is not the day", cell)
				}
				if strings.HasPrefix(cell, "id=") {
					ids = append(ids, value)
				}
			}
		}
		if len(ids) != len(people) {
			t.Fatalf("%d responses, want %d", len(ids), len(people))
		}
		for _, row := range dump("survey_participants") {
			for _, cell := range row {
				if strings.HasPrefix(cell, "response_id=") && cell != "response_id=<nil>" {
					t.Errorf("survey_participants links a person to a response: %s", cell)
				}
				for s, what := range forbidden {
					if strings.Contains(cell, s) {
						t.Errorf("survey_participants: %s holds a %s", cell, what)
					}
				}
			}
		}
		// The response numbers are random: not small, not consecutive.
		for _, id := range ids {
			if len(id) < 10 {
				t.Errorf("response number %s looks like a sequence", id)
			}
		}
		// The audit entries of the answers name nobody and no response.
		rows, err := db.Query(ctx, "SELECT entry FROM auditlog_pending ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		var entries []auditlog.Record
		for rows.Next() {
			var b []byte
			rows.Scan(&b)
			r, err := auditlog.ParseRecord(b)
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, r)
		}
		rows.Close()
		answered := entries[entriesBefore:]
		if len(answered) != len(people) {
			t.Fatalf("%d audit entries for %d answers", len(answered), len(people))
		}
		for _, r := range answered {
			if r.Action != "survey.answered_anonymously" || r.Actor != "" || r.Subject != "" || r.Digest != "" {
				t.Errorf("audit entry %+v names someone or something", r)
			}
			for k, v := range r.Detail {
				for _, id := range ids {
					if v == id {
						t.Errorf("audit detail %s=%s is a response number", k, v)
					}
				}
				if k != "space" {
					t.Errorf("audit detail %s=%s", k, v)
				}
			}
		}
		// Nobody, not even the person, can find an anonymous response again.
		if mine, err := f.s.MyResponse(ctx, f.space, people[0]); err != nil || mine != nil {
			t.Fatalf("MyResponse of an anonymous survey: %v %v", mine, err)
		}
	})
}

func TestIdentifiedResponseSealsTextUnderThePersonsKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, false, participation.Eligibility{})
		person := f.e.Account(t)
		if err := f.s.Respond(ctx, person, f.space, f.valid()); err != nil {
			t.Fatal(err)
		}
		var texts string
		var sealed []byte
		if err := db.QueryRow(ctx, "SELECT texts, texts_sealed FROM survey_responses").Scan(&texts, &sealed); err != nil {
			t.Fatal(err)
		}
		if texts != "" || len(sealed) == 0 || strings.Contains(string(sealed), "trees") {
			t.Fatalf("free text of an identified response is not sealed: texts=%q sealed=%d bytes", texts, len(sealed))
		}
		mine, err := f.s.MyResponse(ctx, f.space, person)
		if err != nil {
			t.Fatal(err)
		}
		if mine[f.q[survey.Text].ID].Text != "More trees please" || *mine[f.q[survey.Scale].ID].Value != 4 {
			t.Fatalf("my response: %+v", mine)
		}
		if got := f.e.Entries(t); got[len(got)-1] != "survey.answered" {
			t.Fatalf("last audit entry %s", got[len(got)-1])
		}
	})
}

func TestResultsCountAndSuppressSmallNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, true, participation.Eligibility{})
		if _, err := f.s.Results(ctx, f.space, false); !errors.Is(err, survey.ErrResultsNotYet) {
			t.Fatalf("results of an open survey: %v", err)
		}
		single, multi, scale, text := f.q[survey.Single], f.q[survey.Multiple], f.q[survey.Scale], f.q[survey.Text]
		respond := func(opt int, picks []int, value int, words string) {
			t.Helper()
			a := map[int64]survey.Answer{single.ID: {Options: []int64{single.Options[opt].ID}}, scale.ID: {Value: intp(value)}}
			if picks != nil {
				var o []int64
				for _, p := range picks {
					o = append(o, multi.Options[p].ID)
				}
				a[multi.ID] = survey.Answer{Options: o}
			}
			if words != "" {
				a[text.ID] = survey.Answer{Text: words}
			}
			if err := f.s.Respond(ctx, f.e.Account(t), f.space, a); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 4 {
			respond(0, []int{0}, 2+i%2, "")
		}
		// Officials may look while the survey is open; with 4 responses
		// nothing is broken down.
		res, err := f.s.Results(ctx, f.space, true)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Suppressed || res.Responses != 4 || len(res.Questions[0].Options) != 0 {
			t.Fatalf("4 responses: %+v", res)
		}
		respond(1, []int{0, 1}, 5, "=cmd|' /C calc'!A0")
		respond(2, nil, 5, "Quiet please")
		if err := f.s.Close(ctx, f.official, f.space); err != nil {
			t.Fatal(err)
		}
		res, err = f.s.Results(ctx, f.space, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Suppressed || res.Responses != 6 {
			t.Fatalf("6 responses: %+v", res)
		}
		q := res.Questions
		if q[0].Answered != 6 || q[0].Options[0].Count != 4 || q[0].Options[1].Count != 1 || q[0].Options[2].Count != 1 || q[0].Options[0].Percent != 66.7 {
			t.Errorf("single choice: %+v", q[0])
		}
		if q[1].Answered != 5 || q[1].Options[0].Count != 5 || q[1].Options[1].Count != 1 || q[1].Options[1].Percent != 20 {
			t.Errorf("multiple choice: %+v", q[1])
		}
		// Values 2, 3, 2, 3, 5, 5: mean 3.33, median 3.
		if q[2].Answered != 6 || *q[2].Mean != 3.33 || *q[2].Median != 3 || q[2].Scale[1].Count != 2 || len(q[2].Scale) != 5 {
			t.Errorf("scale: %+v", q[2])
		}
		// Two free-text answers: below the rule, so not listed.
		if q[3].Answered != 2 || !q[3].Suppressed || len(q[3].Texts) != 0 {
			t.Errorf("text: %+v", q[3])
		}
		var b strings.Builder
		if err := res.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		csv := b.String()
		for _, want := range []string{"question,position,kind,answer,count,percent", "Which park do you visit most?,1,single,North,4,66.7",
			"How safe do you feel?,3,scale,(mean),3.33,", "(suppressed: fewer than 5 answers)"} {
			if !strings.Contains(csv, want) {
				t.Errorf("CSV lacks %q:\n%s", want, csv)
			}
		}
		if survey.CSVCell("=cmd") != "'=cmd" || survey.CSVCell("-1") != "'-1" || survey.CSVCell("ok") != "ok" {
			t.Error("CSV cells are not defused")
		}
	})
}
