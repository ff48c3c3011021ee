package budget

import (
	"cmp"
	"math"
	"slices"
)

// The two counting rules, as pure functions of the projects, the ballots
// and the budget, so that they can be tested on known answers and
// benchmarked apart from storage.

// Item is a project as the counting rules see it.
type Item struct {
	ID   int64 // the project number, the last tie-break
	Cost int64 // whole currency units, > 0
}

// Profile is what is counted: the projects, each ballot as the indexes
// (into Items) of the projects it approves, and the total budget.
type Profile struct {
	Items   []Item
	Ballots [][]int32
	Budget  int64
}

// Reasons a project was or was not funded; pages translate them
// (budget.reason.<code>) with the parameters of [Decision].
const (
	ReasonFundedFits       = "funded_fits"        // greedy: it fit in what was left
	ReasonNotFundedExceeds = "not_funded_exceeds" // greedy or completion: its cost exceeds what was left
	ReasonNoVotes          = "no_votes"           // nobody approved it
	ReasonFundedRound      = "funded_round"       // MES: bought by its supporters in a round
	ReasonFundedCompletion = "funded_completion"  // MES: added by the greedy completion
	ReasonSupportersShort  = "supporters_short"   // MES: its supporters' money is less than its cost
)

// Decision is what a rule decided about one project, and why.
type Decision struct {
	Index     int     `json:"-"`
	Funded    bool    `json:"funded"`
	Reason    string  `json:"reason"`
	Votes     int     `json:"votes"`
	Order     int     `json:"order,omitempty"`     // 1-based position among funded projects
	Round     int     `json:"round,omitempty"`     // MES round that funded it
	Price     float64 `json:"price,omitempty"`     // MES: the most one supporter paid
	Remaining float64 `json:"remaining,omitempty"` // greedy: budget left when it was considered
	Money     float64 `json:"money,omitempty"`     // MES: its supporters' money at the end
}

// Outcome is the result of one rule.
type Outcome struct {
	Decisions []Decision `json:"decisions"` // in the order of Profile.Items
	Funded    []int      `json:"-"`         // indexes, in the order funded
	Spent     int64      `json:"spent"`
	// Share is, for MES, the money each voter received in the run whose
	// outcome was kept (the equal share, or a larger one the completion
	// step chose); Steps is how many times the completion raised it.
	Share float64 `json:"share,omitempty"`
	Steps int     `json:"completion_steps,omitempty"`
}

// votes counts the approvals of each project.
func votes(p *Profile) []int {
	v := make([]int, len(p.Items))
	for _, b := range p.Ballots {
		for _, j := range b {
			v[j]++
		}
	}
	return v
}

// byVotes orders project indexes by approvals, most first; ties go to the
// cheaper project, then to the lower project number.
func byVotes(p *Profile, v []int) []int {
	order := make([]int, len(p.Items))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(v[b], v[a]); c != 0 {
			return c
		}
		return tieBreak(p, a, b)
	})
	return order
}

// tieBreak is the stated tie-break of both rules: fewer cost first, then
// the lower project number.
func tieBreak(p *Profile, a, b int) int {
	if c := cmp.Compare(p.Items[a].Cost, p.Items[b].Cost); c != 0 {
		return c
	}
	return cmp.Compare(p.Items[a].ID, p.Items[b].ID)
}

// Greedy funds projects in order of approvals while they fit in what is
// left of the budget, skipping any that do not fit and going on with the
// next. Projects nobody approved are not funded.
func Greedy(p *Profile) Outcome {
	v := votes(p)
	out := Outcome{Decisions: make([]Decision, len(p.Items))}
	left := p.Budget
	for _, j := range byVotes(p, v) {
		d := Decision{Index: j, Votes: v[j], Remaining: float64(left)}
		switch {
		case v[j] == 0:
			d.Reason, d.Remaining = ReasonNoVotes, 0
		case p.Items[j].Cost <= left:
			d.Funded, d.Reason = true, ReasonFundedFits
			left -= p.Items[j].Cost
			out.Funded = append(out.Funded, j)
			d.Order = len(out.Funded)
		default:
			d.Reason = ReasonNotFundedExceeds
		}
		out.Decisions[j] = d
	}
	out.Spent = p.Budget - left
	return out
}

// epsilon is the relative tolerance of MES's money comparisons, which are
// in floating point: sums of shares equal to a cost count as equal.
const epsilon = 1e-9

// maxCompletionSteps bounds the completion step's search.
const maxCompletionSteps = 10000

// EqualShares is the Method of Equal Shares for approval ballots with cost
// utilities, with the add1 completion and then greedy completion
// (see the package documentation).
func EqualShares(p *Profile) Outcome {
	n := len(p.Ballots)
	v := votes(p)
	if n == 0 {
		out := Outcome{Decisions: make([]Decision, len(p.Items))}
		for j := range p.Items {
			out.Decisions[j] = Decision{Index: j, Reason: ReasonNoVotes}
		}
		return out
	}
	sup := supporters(p)
	var supportedCost int64
	for j, it := range p.Items {
		if v[j] > 0 {
			supportedCost += it.Cost
		}
	}
	share := float64(p.Budget) / float64(n)
	step := math.Max(1, share/100)
	best := fixedShares(p, sup, share)
	steps := 0
	for steps < maxCompletionSteps && !exhaustive(p, v, best) && share < float64(supportedCost) {
		share += step
		next := fixedShares(p, sup, share)
		if next.Spent > p.Budget {
			break
		}
		steps++
		best = next
	}
	best.Steps = steps
	completeGreedily(p, v, &best)
	for j := range best.Decisions {
		best.Decisions[j].Votes = v[j]
	}
	return best
}

// supporters lists, for each project, the ballots approving it.
func supporters(p *Profile) [][]int32 {
	sup := make([][]int32, len(p.Items))
	for i, b := range p.Ballots {
		for _, j := range b {
			sup[j] = append(sup[j], int32(i))
		}
	}
	return sup
}

// exhaustive reports whether no approved, unfunded project fits in what
// the outcome leaves of the budget.
func exhaustive(p *Profile, v []int, o Outcome) bool {
	for j, d := range o.Decisions {
		if !d.Funded && v[j] > 0 && o.Spent+p.Items[j].Cost <= p.Budget {
			return false
		}
	}
	return true
}

// fixedShares runs MES with each voter given share: in each round, among
// the projects whose supporters can still pay for them, the one needing
// the lowest price per unit of utility (ρ) is bought, each supporter
// paying min(their money, ρ·cost); it ends when no project is affordable.
// Projects are kept in a candidate list ordered by their last effective
// vote count (cost/ρ), which only falls as money is spent, so a round
// stops examining candidates once the rest cannot beat the best found.
func fixedShares(p *Profile, sup [][]int32, share float64) Outcome {
	money := make([]float64, len(p.Ballots))
	for i := range money {
		money[i] = share
	}
	out := Outcome{Decisions: make([]Decision, len(p.Items)), Share: share}
	type cand struct {
		j   int
		eff float64 // last 1/ρ: an upper bound of the next, as money only falls
	}
	var cands []cand
	for j := range p.Items {
		if len(sup[j]) == 0 {
			out.Decisions[j] = Decision{Index: j, Reason: ReasonNoVotes}
			continue
		}
		cands = append(cands, cand{j, float64(len(sup[j]))})
	}
	scratch := make([]float64, 0, len(p.Ballots))
	for round := 1; ; round++ {
		slices.SortStableFunc(cands, func(a, b cand) int {
			if c := cmp.Compare(b.eff, a.eff); c != 0 {
				return c
			}
			return tieBreak(p, a.j, b.j)
		})
		bestK, bestEff, bestPrice := -1, 0.0, 0.0
		for k := 0; k < len(cands); k++ {
			c := &cands[k]
			if bestK >= 0 && c.eff < bestEff*(1-epsilon) {
				break
			}
			cost := float64(p.Items[c.j].Cost)
			price, ok := priceFor(cost, sup[c.j], money, &scratch)
			if !ok {
				c.eff = -1 // money only falls: unaffordable for the rest of the run
				continue
			}
			// With cost utilities a supporter pays ρ·cost, so ρ is
			// price/cost; the rule buys the smallest ρ, the largest 1/ρ
			// (the number of supporters while nobody is capped).
			c.eff = cost / price
			switch {
			case bestK < 0 || c.eff > bestEff*(1+epsilon):
				bestK, bestEff, bestPrice = k, c.eff, price
			case c.eff >= bestEff*(1-epsilon) && tieBreak(p, c.j, cands[bestK].j) < 0:
				bestK, bestEff, bestPrice = k, c.eff, price
			}
		}
		if bestK < 0 {
			break
		}
		j := cands[bestK].j
		for _, i := range sup[j] {
			money[i] -= math.Min(money[i], bestPrice)
		}
		out.Funded = append(out.Funded, j)
		out.Spent += p.Items[j].Cost
		out.Decisions[j] = Decision{Index: j, Funded: true, Reason: ReasonFundedRound, Round: round, Order: len(out.Funded), Price: bestPrice}
		cands = slices.DeleteFunc(cands, func(c cand) bool { return c.j == j || c.eff < 0 })
	}
	for j := range p.Items {
		if d := &out.Decisions[j]; !d.Funded && len(sup[j]) > 0 {
			*d = Decision{Index: j, Reason: ReasonSupportersShort, Money: sum(sup[j], money)}
		}
	}
	return out
}

func sum(sup []int32, money []float64) float64 {
	var s float64
	for _, i := range sup {
		s += money[i]
	}
	return s
}

// priceFor finds the price p, the most one supporter pays, with
// Σ min(money_i, p) = cost over the supporters: water-filling from the
// equal split, raising p while supporters who cannot pay it give all they
// have. Each pass fixes at least one more supporter at their money, and
// in practice two or three passes suffice. It reports false when the
// supporters together have less than cost.
func priceFor(cost float64, sup []int32, money []float64, scratch *[]float64) (float64, bool) {
	total := 0.0
	low := (*scratch)[:0]
	for _, i := range sup {
		total += money[i]
		low = append(low, money[i])
	}
	*scratch = low
	if total < cost*(1-epsilon) {
		return 0, false
	}
	price := cost / float64(len(sup))
	for {
		capped, rich := 0.0, 0
		for _, m := range low {
			if m < price {
				capped += m
			} else {
				rich++
			}
		}
		if rich == 0 { // everyone gives all they have: total ≈ cost
			return price, true
		}
		next := (cost - capped) / float64(rich)
		if next <= price*(1+epsilon) {
			return math.Max(price, next), true
		}
		price = next
	}
}

// completeGreedily funds, after the add1 step, the approved projects that
// still fit, in order of approvals (equalshares.net's final completion).
func completeGreedily(p *Profile, v []int, o *Outcome) {
	left := p.Budget - o.Spent
	for _, j := range byVotes(p, v) {
		d := &o.Decisions[j]
		if d.Funded || v[j] == 0 {
			continue
		}
		if p.Items[j].Cost <= left {
			left -= p.Items[j].Cost
			o.Funded = append(o.Funded, j)
			*d = Decision{Index: j, Funded: true, Reason: ReasonFundedCompletion, Order: len(o.Funded), Remaining: float64(left + p.Items[j].Cost)}
		} else {
			d.Remaining = float64(left)
		}
	}
	o.Spent = p.Budget - left
}
