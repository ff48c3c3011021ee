package budget_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/budget"
	"github.com/veche/veche/internal/participation/participationtest"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/validate"
)

var ctx = context.Background()

// fixture is a budget of 1000 EUR with three projects (600, 400, 400)
// whose voting opens an hour after the start and runs for two days.
type fixture struct {
	e        *participationtest.Env
	s        *budget.Service
	official int64
	space    int64
	projects []int64
	start    time.Time
}

func newFixture(t *testing.T, db *store.DB, el participation.Eligibility) *fixture {
	t.Helper()
	e := participationtest.New(t, db)
	f := &fixture{e: e, s: budget.New(e.P), official: e.Account(t), start: e.Now}
	p, err := e.P.CreateProcess(ctx, f.official, participation.ProcessInput{Title: "City budget 2027", Eligibility: el,
		Phases: []participation.PhaseInput{{Name: "Voting", Starts: e.Now.Add(time.Hour), Ends: e.Now.Add(49 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	f.space, err = f.s.CreateSpace(ctx, f.official, budget.SpaceInput{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Parks", Total: 1000, Currency: "eur"})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []int64{600, 400, 400} {
		pr, err := f.s.AddProject(ctx, f.official, f.space, budget.ProjectInput{Title: "Project " + string(rune('A'+i)), Description: "**Trees**", Cost: c})
		if err != nil {
			t.Fatal(err)
		}
		f.projects = append(f.projects, pr.ID)
	}
	return f
}

func (f *fixture) open()  { f.e.Now = f.start.Add(2 * time.Hour) }
func (f *fixture) after() { f.e.Now = f.start.Add(50 * time.Hour) }

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func fieldCode(err error) string {
	var v validate.Errors
	if errors.As(err, &v) {
		return v[0].Field + ":" + v[0].Code
	}
	return ""
}

func TestCreateSpaceRefusesBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, participation.Eligibility{})
		p, _ := f.e.P.Space(ctx, f.space)
		tests := []struct {
			name string
			in   budget.SpaceInput
			want string
		}{
			{"zero total", budget.SpaceInput{ProcessID: p.ProcessID, PhaseID: p.Phase.ID, Title: "x", Total: 0, Currency: "EUR"}, "total:budget_out_of_range"},
			{"bad currency", budget.SpaceInput{ProcessID: p.ProcessID, PhaseID: p.Phase.ID, Title: "x", Total: 5, Currency: "euro"}, "currency:budget_currency"},
			{"no title", budget.SpaceInput{ProcessID: p.ProcessID, PhaseID: p.Phase.ID, Total: 5, Currency: "EUR"}, "title:required"},
			{"oversized intro", budget.SpaceInput{ProcessID: p.ProcessID, PhaseID: p.Phase.ID, Title: "x", Total: 5, Currency: "EUR", Intro: strings.Repeat("a", budget.MaxDescription+1)}, "description:too_long"},
		}
		for _, tt := range tests {
			before := count(t, db, "SELECT COUNT(*) FROM budget_spaces")
			_, err := f.s.CreateSpace(ctx, f.official, tt.in)
			if got := fieldCode(err); got != tt.want {
				t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
			}
			if count(t, db, "SELECT COUNT(*) FROM budget_spaces") != before {
				t.Errorf("%s: a refused space was stored", tt.name)
			}
		}
	})
}

func TestProjectsCanChangeOnlyBeforeVotingOpens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, participation.Eligibility{})
		if _, err := f.s.UpdateProject(ctx, f.official, f.projects[0], budget.ProjectInput{Title: "Bigger park", Cost: 700}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name string
			in   budget.ProjectInput
			want string
		}{
			{"over the total", budget.ProjectInput{Title: "x", Cost: 1001}, "cost:budget_out_of_range"},
			{"no cost", budget.ProjectInput{Title: "x"}, "cost:budget_out_of_range"},
			{"no title", budget.ProjectInput{Cost: 5}, "project_title:required"},
			{"oversized description", budget.ProjectInput{Title: "x", Cost: 5, Description: strings.Repeat("é", budget.MaxDescription+1)}, "project_description:too_long"},
		} {
			if _, err := f.s.AddProject(ctx, f.official, f.space, tt.in); fieldCode(err) != tt.want {
				t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
			}
		}
		f.open()
		if _, err := f.s.AddProject(ctx, f.official, f.space, budget.ProjectInput{Title: "Late", Cost: 5}); !errors.Is(err, budget.ErrLocked) {
			t.Errorf("adding after opening: %v", err)
		}
		if _, err := f.s.UpdateProject(ctx, f.official, f.projects[0], budget.ProjectInput{Title: "Changed", Cost: 5}); !errors.Is(err, budget.ErrLocked) {
			t.Errorf("changing after opening: %v", err)
		}
		b, err := f.s.Get(ctx, f.space)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Projects) != 3 || b.Projects[0].Title != "Bigger park" || b.Projects[0].Cost != 700 {
			t.Errorf("projects after refused changes: %+v", b.Projects)
		}
	})
}

func TestCastRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, participation.Eligibility{})
		voter := f.e.Account(t)
		other := newFixture(t, db, participation.Eligibility{})
		tests := []struct {
			name     string
			open     bool
			projects []int64
			want     func(error) bool
			desc     string
		}{
			{"before opening", false, f.projects[:1], func(err error) bool { return errors.Is(err, participation.ErrOutsidePhase) }, "outside phase"},
			{"over budget", true, f.projects, func(err error) bool {
				var v validate.Errors
				return errors.As(err, &v) && v[0].Code == "budget_over" && v[0].Params["total"] == int64(1400) && v[0].Params["limit"] == int64(1000)
			}, "budget_over with total 1400 and limit 1000"},
			{"nothing chosen", true, nil, func(err error) bool { return fieldCode(err) == "projects:budget_none_chosen" }, "budget_none_chosen"},
			{"another budget's project", true, other.projects[:1], func(err error) bool { return fieldCode(err) == "projects:budget_unknown_project" }, "budget_unknown_project"},
			{"no such project", true, []int64{999999}, func(err error) bool { return fieldCode(err) == "projects:budget_unknown_project" }, "budget_unknown_project"},
		}
		for _, tt := range tests {
			if tt.open {
				f.open()
			}
			_, err := f.s.Cast(ctx, voter, f.space, tt.projects)
			if !tt.want(err) {
				t.Errorf("%s: %v, want %s", tt.name, err, tt.desc)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM budget_ballots") + count(t, db, "SELECT COUNT(*) FROM budget_ballot_items"); n != 0 {
				t.Errorf("%s: a refused ballot stored %d rows", tt.name, n)
			}
		}
		f.after()
		if _, err := f.s.Cast(ctx, voter, f.space, f.projects[:1]); !errors.Is(err, participation.ErrOutsidePhase) {
			t.Errorf("after closing: %v", err)
		}
	})
}

func TestIneligibleVoterIsRefusedWithReason(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, participation.Eligibility{ResidentsOnly: true})
		f.open()
		_, err := f.s.Cast(ctx, f.e.Account(t), f.space, f.projects[:1])
		var ne *participation.NotEligibleError
		if !errors.As(err, &ne) || ne.Reason != participation.ReasonResidentRequired {
			t.Fatalf("cast by a non-resident: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM budget_ballots"); n != 0 {
			t.Fatalf("%d ballots stored", n)
		}
	})
}

func TestBallotChangeWithdrawAndErasure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, participation.Eligibility{})
		f.open()
		ana, bo := f.e.Account(t), f.e.Account(t)
		if b, err := f.s.Cast(ctx, ana, f.space, f.projects[:2]); err != nil || b.Cost != 1000 || b.Replaced {
			t.Fatalf("first cast: %+v %v", b, err)
		}
		if b, err := f.s.Cast(ctx, ana, f.space, f.projects[2:]); err != nil || !b.Replaced {
			t.Fatalf("second cast: %+v %v", b, err)
		}
		mine, err := f.s.MyBallot(ctx, ana, f.space)
		if err != nil || len(mine.Projects) != 1 || mine.Projects[0] != f.projects[2] || mine.Cost != 400 {
			t.Fatalf("ballot after change: %+v %v", mine, err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM budget_ballots"); n != 1 {
			t.Fatalf("%d ballots after a change, want 1", n)
		}
		if err := f.s.Withdraw(ctx, bo, f.space); !errors.Is(err, budget.ErrNoBallot) {
			t.Fatalf("withdrawing without a ballot: %v", err)
		}
		if _, err := f.s.Cast(ctx, bo, f.space, f.projects[2:]); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Withdraw(ctx, bo, f.space); err != nil {
			t.Fatal(err)
		}
		if mine, _ := f.s.MyBallot(ctx, bo, f.space); mine != nil {
			t.Fatalf("ballot after withdrawal: %+v", mine)
		}
		if _, err := f.s.Cast(ctx, bo, f.space, f.projects[:1]); err != nil {
			t.Fatal(err)
		}
		// Bo erases their account: the ballot stays, unlinked, and counts.
		if _, err := db.Exec(ctx, "DELETE FROM accounts WHERE id = ?", bo); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM budget_ballots WHERE account_id IS NULL"); n != 1 {
			t.Fatalf("%d anonymous ballots after erasure, want 1", n)
		}
		f.after()
		r, err := f.s.Results(ctx, f.space)
		if err != nil {
			t.Fatal(err)
		}
		if r.Voters != 2 || r.Projects[0].Votes != 1 || r.Projects[2].Votes != 1 {
			t.Fatalf("results after erasure: %d voters, votes %d/%d/%d", r.Voters, r.Projects[0].Votes, r.Projects[1].Votes, r.Projects[2].Votes)
		}
		want := []string{"budget.ballot_cast", "budget.ballot_replaced", "budget.ballot_cast", "budget.ballot_withdrawn", "budget.ballot_cast", "budget.results_published"}
		got := f.e.Entries(t)
		if strings.Join(got[len(got)-len(want):], " ") != strings.Join(want, " ") {
			t.Fatalf("audit actions %v, want them to end with %v", got, want)
		}
	})
}

// TestParallelCastsByOnePersonEndInOneBallot sends many casts of one
// person at once: the unique key leaves exactly one ballot, holding one of
// the submitted sets whole.
func TestParallelCastsByOnePersonEndInOneBallot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, participation.Eligibility{})
		f.open()
		voter := f.e.Account(t)
		sets := [][]int64{f.projects[:1], f.projects[1:2], f.projects[1:3]}
		var wg sync.WaitGroup
		errs := make(chan error, 24)
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.s.Cast(ctx, voter, f.space, sets[i%len(sets)])
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, store.ErrConflict) {
				t.Errorf("a parallel cast failed: %v", err)
			}
		}
		if ok == 0 {
			t.Fatal("no cast succeeded")
		}
		if n := count(t, db, "SELECT COUNT(*) FROM budget_ballots WHERE account_id = ?", voter); n != 1 {
			t.Fatalf("%d ballots for one person, want 1", n)
		}
		mine, err := f.s.MyBallot(ctx, voter, f.space)
		if err != nil {
			t.Fatal(err)
		}
		whole := false
		for _, s := range sets {
			if len(s) == len(mine.Projects) && s[0] == mine.Projects[0] && s[len(s)-1] == mine.Projects[len(s)-1] {
				whole = true
			}
		}
		if !whole {
			t.Fatalf("the ballot mixes submissions: %v", mine.Projects)
		}
	})
}

func TestResultsArePublishedOnceAfterClosing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, participation.Eligibility{})
		f.open()
		// The first known answer: six approve A and B, four approve C.
		for i := range 10 {
			set := f.projects[:2]
			if i >= 6 {
				set = f.projects[2:]
			}
			if _, err := f.s.Cast(ctx, f.e.Account(t), f.space, set); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.s.Results(ctx, f.space); !errors.Is(err, budget.ErrNotClosed) {
			t.Fatalf("results while open: %v", err)
		}
		r, err := f.s.Close(ctx, f.official, f.space)
		if err != nil {
			t.Fatal(err)
		}
		funded := func(rule func(budget.ProjectResult) budget.Decision) string {
			s := ""
			for i, p := range r.Projects {
				if rule(p).Funded {
					s += string(rune('A' + i))
				}
			}
			return s
		}
		if g := funded(func(p budget.ProjectResult) budget.Decision { return p.Greedy }); g != "AB" {
			t.Errorf("greedy funded %s, want AB", g)
		}
		if m := funded(func(p budget.ProjectResult) budget.Decision { return p.EqualShares }); m != "BC" {
			t.Errorf("MES funded %s, want BC", m)
		}
		if a := r.Projects[0].EqualShares; a.Reason != budget.ReasonSupportersShort || a.Money != 200 {
			t.Errorf("MES on A: %+v, want supporters short with 200", a)
		}
		if r.Voters != 10 || r.Greedy.Spent != 1000 || r.EqualShares.Spent != 800 || !strings.HasPrefix(r.Digest, "sha256:") {
			t.Errorf("result summary: %+v", r)
		}
		// Again: the same stored result, one audit entry.
		again, err := f.s.Results(ctx, f.space)
		if err != nil || again.Digest != r.Digest || !again.ComputedAt.Equal(r.ComputedAt) {
			t.Fatalf("second read: %+v %v", again, err)
		}
		n := 0
		for _, a := range f.e.Entries(t) {
			if a == "budget.results_published" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d publication entries, want 1", n)
		}
		if _, err := f.s.Cast(ctx, f.e.Account(t), f.space, f.projects[:1]); !errors.Is(err, participation.ErrOutsidePhase) {
			t.Fatalf("cast after close: %v", err)
		}
	})
}
