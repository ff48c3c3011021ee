package budget

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/store"
)

// Rule names in results.
const (
	RuleGreedy      = "greedy"
	RuleEqualShares = "equal_shares"
)

// ProjectResult is one project's line in the results: its votes and what
// each rule decided, with the reason.
type ProjectResult struct {
	ID          int64    `json:"id"`
	Title       string   `json:"title"`
	Cost        int64    `json:"cost"`
	District    string   `json:"district,omitempty"`
	Votes       int      `json:"votes"`
	Greedy      Decision `json:"greedy"`
	EqualShares Decision `json:"equal_shares"`
}

// RuleSummary is what a rule spent, and how.
type RuleSummary struct {
	Rule   string `json:"rule"`
	Funded int    `json:"funded"`
	Spent  int64  `json:"spent"`
	// For MES: the equal share of each voter, the share of the run kept
	// after the completion step, and how many steps it took.
	EqualShare float64 `json:"equal_share,omitempty"`
	KeptShare  float64 `json:"kept_share,omitempty"`
	Steps      int     `json:"completion_steps,omitempty"`
}

// Result is the published result of a closed budget.
type Result struct {
	SpaceID     int64           `json:"space_id"`
	Title       string          `json:"title"`
	Total       int64           `json:"total"`
	Currency    string          `json:"currency"`
	Voters      int             `json:"voters"`
	ClosedAt    time.Time       `json:"closed_at"`
	ComputedAt  time.Time       `json:"computed_at"`
	Greedy      RuleSummary     `json:"greedy"`
	EqualShares RuleSummary     `json:"equal_shares"`
	Projects    []ProjectResult `json:"projects"`
	// Digest is the SHA-256 of the stored result (this object without
	// the digest, as JSON), also written to the audit log.
	Digest string `json:"digest"`
}

// Results returns the result of a closed budget. The first call after the
// space closes computes both rules, stores the result and logs its
// digest; later calls return the stored result unchanged.
func (s *Service) Results(ctx context.Context, space int64) (*Result, error) {
	r, err := s.stored(ctx, space)
	if err != nil || r != nil {
		return r, err
	}
	b, err := s.Get(ctx, space)
	if err != nil {
		return nil, err
	}
	if b.State != participation.Closed {
		return nil, ErrNotClosed
	}
	r, err = s.compute(ctx, b)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	digest := auditlog.Digest(body)
	err = s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, "INSERT INTO budget_results (space_id, result, digest, computed_at) VALUES (?, ?, ?, ?) ON CONFLICT (space_id) DO NOTHING",
			space, string(body), digest, store.Micros(r.ComputedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // computed at the same time by another request, which logged it
		}
		return s.p.Audit(ctx, tx, "budget.results_published", 0, digest, map[string]string{"space": participation.ID(space),
			"voters": participation.ID(int64(r.Voters)), "greedy_spent": participation.ID(r.Greedy.Spent), "mes_spent": participation.ID(r.EqualShares.Spent)})
	})
	if err != nil {
		return nil, err
	}
	return s.stored(ctx, space)
}

func (s *Service) stored(ctx context.Context, space int64) (*Result, error) {
	var body, digest string
	err := s.p.DB().QueryRow(ctx, "SELECT result, digest FROM budget_results WHERE space_id = ?", space).Scan(&body, &digest)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r := &Result{}
	if err := json.Unmarshal([]byte(body), r); err != nil {
		return nil, err
	}
	r.Digest = digest
	return r, nil
}

// Close closes voting in a budget now (before its phase ends) and
// publishes the result.
func (s *Service) Close(ctx context.Context, official, space int64) (*Result, error) {
	if _, err := s.Get(ctx, space); err != nil {
		return nil, err
	}
	if err := s.p.CloseSpace(ctx, official, space); err != nil {
		return nil, err
	}
	return s.Results(ctx, space)
}

// Profile loads what is counted in a budget: its projects and ballots.
func (s *Service) Profile(ctx context.Context, b *Budget) (*Profile, error) {
	p := &Profile{Budget: b.Total}
	index := map[int64]int32{}
	for i, pr := range b.Projects {
		p.Items = append(p.Items, Item{ID: pr.ID, Cost: pr.Cost})
		index[pr.ID] = int32(i)
	}
	rows, err := s.p.DB().Query(ctx, `SELECT i.ballot_id, i.project_id FROM budget_ballot_items i JOIN budget_ballots b ON b.id = i.ballot_id
		WHERE b.space_id = ? ORDER BY i.ballot_id, i.project_id`, b.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	last := int64(-1)
	for rows.Next() {
		var ballot, project int64
		if err := rows.Scan(&ballot, &project); err != nil {
			return nil, err
		}
		if ballot != last {
			p.Ballots = append(p.Ballots, nil)
			last = ballot
		}
		p.Ballots[len(p.Ballots)-1] = append(p.Ballots[len(p.Ballots)-1], index[project])
	}
	return p, rows.Err()
}

func (s *Service) compute(ctx context.Context, b *Budget) (*Result, error) {
	p, err := s.Profile(ctx, b)
	if err != nil {
		return nil, err
	}
	g, m := Greedy(p), EqualShares(p)
	r := &Result{SpaceID: b.ID, Title: b.Title, Total: b.Total, Currency: b.Currency, Voters: len(p.Ballots),
		ClosedAt: b.Closes(), ComputedAt: s.p.Now(),
		Greedy:      RuleSummary{Rule: RuleGreedy, Funded: len(g.Funded), Spent: g.Spent},
		EqualShares: RuleSummary{Rule: RuleEqualShares, Funded: len(m.Funded), Spent: m.Spent, KeptShare: cents(m.Share), Steps: m.Steps},
		Projects:    []ProjectResult{},
	}
	if r.Voters > 0 {
		r.EqualShares.EqualShare = cents(float64(b.Total) / float64(r.Voters))
	}
	for j, pr := range b.Projects {
		gd, md := g.Decisions[j], m.Decisions[j]
		md.Price, md.Money, md.Remaining = cents(md.Price), cents(md.Money), cents(md.Remaining)
		r.Projects = append(r.Projects, ProjectResult{ID: pr.ID, Title: pr.Title, Cost: pr.Cost, District: pr.District, Votes: gd.Votes, Greedy: gd, EqualShares: md})
	}
	return r, nil
}

// cents rounds money to hundredths for publication.
func cents(x float64) float64 { return math.Round(x*100) / 100 }
