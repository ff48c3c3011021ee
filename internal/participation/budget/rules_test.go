package budget

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// ballots builds ballots from project letters: "AB" approves the first
// two projects.
func ballots(spec ...string) [][]int32 {
	var out [][]int32
	for _, s := range spec {
		var b []int32
		for _, r := range s {
			b = append(b, int32(r-'A'))
		}
		out = append(out, b)
	}
	return out
}

func items(costs ...int64) []Item {
	out := make([]Item, len(costs))
	for i, c := range costs {
		out[i] = Item{ID: int64(i + 1), Cost: c}
	}
	return out
}

func letters(funded []int) string {
	s := ""
	for _, j := range funded {
		s += string(rune('A' + j))
	}
	return s
}

// The known answers are small profiles computed by hand; each case says
// how.
func TestKnownAnswers(t *testing.T) {
	tests := []struct {
		name          string
		profile       Profile
		greedy, mes   string // funded projects in the order funded
		greedyReasons []string
		mesReasons    []string
	}{
		{
			// 10 voters, 1000: six approve A (600) and B (400), four
			// approve C (400). Greedy: A and B have 6 votes, B is cheaper:
			// B, then A fits exactly, C does not fit. MES: shares of 100;
			// A and B both cost their supporters 1/6 of their cost per
			// unit; B is cheaper and goes first (66.67 each); C's four
			// supporters pay 100 each; A's supporters hold 6 × 33.33 =
			// 200 < 600. Raising shares (add1) keeps {B, C}, which is
			// exhaustive, so the 40% minority gets 400 of the 800 spent.
			name:    "majority and minority",
			profile: Profile{Items: items(600, 400, 400), Ballots: ballots("AB", "AB", "AB", "AB", "AB", "AB", "C", "C", "C", "C"), Budget: 1000},
			greedy:  "BA", mes: "BC",
			greedyReasons: []string{ReasonFundedFits, ReasonFundedFits, ReasonNotFundedExceeds},
			mesReasons:    []string{ReasonSupportersShort, ReasonFundedRound, ReasonFundedRound},
		},
		{
			// 4 voters, 400: A (150) by voters 1-3, B (180) by 2-4, C (60)
			// by voter 1. Greedy: A and B (3 votes, A cheaper), then C
			// fits: 390. MES at shares of 100 funds A (50 each) then B
			// (voters 2 and 3 give their last 50, voter 4 pays 80), and
			// C's supporter holds 50 < 60; not exhaustive, so shares rise
			// by 1 until at 110 voter 1 keeps 60 after A and buys C.
			name:    "add1 completion",
			profile: Profile{Items: items(150, 180, 60), Ballots: ballots("AC", "AB", "AB", "B"), Budget: 400},
			greedy:  "ABC", mes: "ABC",
			greedyReasons: []string{ReasonFundedFits, ReasonFundedFits, ReasonFundedFits},
			mesReasons:    []string{ReasonFundedRound, ReasonFundedRound, ReasonFundedRound},
		},
		{
			// Nobody approves B; A (70) fits; C (50) does not fit the 30
			// left for greedy. MES buys A first (3 supporters at 23.33 of
			// their 33.33), and C's one supporter has 10 left; the outcome
			// is exhaustive (70+50 > 100), so no completion step.
			name:    "unapproved project and no room",
			profile: Profile{Items: items(70, 10, 50), Ballots: ballots("A", "A", "AC"), Budget: 100},
			greedy:  "A", mes: "A",
			greedyReasons: []string{ReasonFundedFits, ReasonNoVotes, ReasonNotFundedExceeds},
			mesReasons:    []string{ReasonFundedRound, ReasonNoVotes, ReasonSupportersShort},
		},
		{
			// Equal votes and equal costs: the lower project number first.
			name:    "tie by number",
			profile: Profile{Items: items(60, 60), Ballots: ballots("AB", "AB"), Budget: 100},
			greedy:  "A", mes: "A",
		},
		{
			name:    "no ballots",
			profile: Profile{Items: items(10), Budget: 100},
			greedy:  "", mes: "",
			greedyReasons: []string{ReasonNoVotes},
			mesReasons:    []string{ReasonNoVotes},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, m := Greedy(&tt.profile), EqualShares(&tt.profile)
			if got := letters(g.Funded); got != tt.greedy {
				t.Errorf("greedy funded %q, want %q", got, tt.greedy)
			}
			if got := letters(m.Funded); got != tt.mes {
				t.Errorf("MES funded %q, want %q", got, tt.mes)
			}
			for j, want := range tt.greedyReasons {
				if got := g.Decisions[j].Reason; got != want {
					t.Errorf("greedy reason for %c = %s, want %s", 'A'+j, got, want)
				}
			}
			for j, want := range tt.mesReasons {
				if got := m.Decisions[j].Reason; got != want {
					t.Errorf("MES reason for %c = %s, want %s", 'A'+j, got, want)
				}
			}
		})
	}
}

// TestEqualSharesPricesAndRounds checks the prices of one fixed-share run
// by hand (the second known answer above, before completion): A at 50 per
// supporter in round 1, B at 80 in round 2 with two supporters capped at
// their last 50, C unaffordable with 50 behind it.
func TestEqualSharesPricesAndRounds(t *testing.T) {
	p := Profile{Items: items(150, 180, 60), Ballots: ballots("AC", "AB", "AB", "B"), Budget: 400}
	o := fixedShares(&p, supporters(&p), 100)
	want := []Decision{
		{Index: 0, Funded: true, Reason: ReasonFundedRound, Round: 1, Order: 1, Price: 50},
		{Index: 1, Funded: true, Reason: ReasonFundedRound, Round: 2, Order: 2, Price: 80},
		{Index: 2, Reason: ReasonSupportersShort, Money: 50},
	}
	for j, w := range want {
		d := o.Decisions[j]
		if d.Funded != w.Funded || d.Reason != w.Reason || d.Round != w.Round || math.Abs(d.Price-w.Price) > 1e-9 || math.Abs(d.Money-w.Money) > 1e-9 {
			t.Errorf("project %c: %+v, want %+v", 'A'+j, d, w)
		}
	}
	// With add1 the kept run gives each voter 110: ten steps of one unit.
	if m := EqualShares(&p); m.Share != 110 || m.Steps != 10 {
		t.Errorf("completion kept share %v after %d steps, want 110 after 10", m.Share, m.Steps)
	}
}

func randomProfile(r *rand.Rand) Profile {
	m := 1 + r.IntN(8)
	p := Profile{Budget: int64(50 + r.IntN(500))}
	for j := range m {
		p.Items = append(p.Items, Item{ID: int64(j + 1), Cost: int64(1 + r.IntN(int(p.Budget)))})
	}
	for range r.IntN(30) {
		var b []int32
		var cost int64
		for j := range m {
			if r.IntN(3) == 0 && cost+p.Items[j].Cost <= p.Budget {
				b = append(b, int32(j))
				cost += p.Items[j].Cost
			}
		}
		p.Ballots = append(p.Ballots, b)
	}
	return p
}

// TestRuleProperties checks, on random profiles, what both rules promise:
// they never spend more than the budget, they are exhaustive (no approved
// project left unfunded fits in what is left), they fund no unapproved
// project, and every project gets a reason; MES moreover never lets a
// supporter pay more than the share of the run it kept, and on a
// unanimous profile it agrees with greedy.
func TestRuleProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		p := randomProfile(r)
		v := votes(&p)
		for name, o := range map[string]Outcome{"greedy": Greedy(&p), "mes": EqualShares(&p)} {
			var spent int64
			for _, j := range o.Funded {
				spent += p.Items[j].Cost
				if v[j] == 0 {
					t.Fatalf("%s funded an unapproved project: %+v", name, p)
				}
			}
			if spent != o.Spent || spent > p.Budget {
				t.Fatalf("%s spent %d (says %d) of %d: %+v", name, spent, o.Spent, p.Budget, p)
			}
			if !exhaustive(&p, v, o) {
				t.Fatalf("%s is not exhaustive: %+v → %v", name, p, o.Funded)
			}
			for j, d := range o.Decisions {
				if d.Reason == "" || d.Funded != slices.Contains(o.Funded, j) {
					t.Fatalf("%s decision %d inconsistent: %+v", name, j, d)
				}
			}
		}
		m := EqualShares(&p)
		for _, d := range m.Decisions {
			if d.Reason == ReasonFundedRound && d.Price > m.Share*(1+1e-9) {
				t.Fatalf("a supporter paid %v above the share %v", d.Price, m.Share)
			}
		}
		// Unanimous: everyone casts the first ballot.
		if len(p.Ballots) > 0 {
			u := Profile{Items: p.Items, Budget: p.Budget}
			for range p.Ballots {
				u.Ballots = append(u.Ballots, p.Ballots[0])
			}
			if g, m := letters(Greedy(&u).Funded), letters(EqualShares(&u).Funded); g != m {
				t.Fatalf("unanimous profile: greedy %q, MES %q: %+v", g, m, u)
			}
		}
	}
}

// BenchmarkEqualShares counts 100,000 ballots over 50 projects.
func BenchmarkEqualShares(b *testing.B) {
	p := benchProfile(50, 100_000)
	b.ResetTimer()
	for b.Loop() {
		EqualShares(&p)
	}
}

// BenchmarkGreedy is the same profile counted by greedy.
func BenchmarkGreedy(b *testing.B) {
	p := benchProfile(50, 100_000)
	b.ResetTimer()
	for b.Loop() {
		Greedy(&p)
	}
}

// benchProfile is a city-like profile: projects of 20,000 to 400,000
// with a budget of a quarter of their total, and voters approving 1 to 8
// projects within the budget, popular projects more often.
func benchProfile(m, n int) Profile {
	r := rand.New(rand.NewPCG(7, 7))
	p := Profile{}
	var total int64
	for j := range m {
		c := int64(20_000 + r.IntN(380_000))
		p.Items = append(p.Items, Item{ID: int64(j + 1), Cost: c})
		total += c
	}
	p.Budget = total / 4
	for range n {
		k := 1 + r.IntN(8)
		var b []int32
		var cost int64
		for range k {
			j := int32(math.Min(float64(m-1), r.ExpFloat64()*float64(m)/4))
			if !slices.Contains(b, j) && cost+p.Items[j].Cost <= p.Budget {
				b = append(b, j)
				cost += p.Items[j].Cost
			}
		}
		p.Ballots = append(p.Ballots, b)
	}
	return p
}
