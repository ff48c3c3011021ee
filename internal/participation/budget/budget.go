package budget

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/notify"
	"github.com/veche/veche/internal/participation/search"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// Limits.
const (
	MaxTotal       = 1_000_000_000_000 // whole currency units
	MaxTitle       = 200
	MaxDescription = 20000
	MaxDistrict    = 100
	MaxProjects    = 200 // per space
)

// Errors callers branch on.
var (
	ErrLocked    = errors.New("budget: projects can be added or changed only before voting opens")
	ErrNoBallot  = errors.New("budget: you have no ballot in this budget")
	ErrNotClosed = errors.New("budget: results are published when voting has closed")
)

// Service manages participatory budgets.
type Service struct {
	p *participation.Service
}

// New returns the budget service over the participation core.
func New(p *participation.Service) *Service { return &Service{p: p} }

// SpaceInput is what an official enters to open a budget space.
type SpaceInput struct {
	ProcessID int64  `json:"process_id"`
	PhaseID   int64  `json:"phase_id"`
	Title     string `json:"title"`
	Intro     string `json:"description"`
	Total     int64  `json:"total"`
	Currency  string `json:"currency"`
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// CreateSpace opens a budget space in a process.
func (s *Service) CreateSpace(ctx context.Context, official int64, in SpaceInput) (int64, error) {
	var e validate.Errors
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if in.Total < 1 || in.Total > MaxTotal {
		e.Add("total", "budget_out_of_range", map[string]any{"min": 1, "max": int64(MaxTotal)})
	}
	if !currencyRE.MatchString(in.Currency) {
		e.Add("currency", "budget_currency", nil)
	}
	validate.Text(&e, "description", in.Intro, false, MaxDescription)
	if err := e.Err(); err != nil {
		return 0, err
	}
	var id int64
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = s.p.AddSpace(ctx, tx, official, in.ProcessID, participation.SpaceInput{Kind: participation.KindBudget, Title: in.Title, PhaseID: in.PhaseID})
		if err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, "INSERT INTO budget_spaces (space_id, total, currency, intro) VALUES (?, ?, ?, ?)", id, in.Total, in.Currency, strings.TrimSpace(in.Intro)); err != nil {
			return err
		}
		return notify.SpaceOpened(ctx, tx, id, s.p.Now())
	})
	return id, err
}

// Project is a project put to the vote.
type Project struct {
	ID          int64  `json:"id"`
	SpaceID     int64  `json:"space_id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Cost        int64  `json:"cost"`
	District    string `json:"district,omitempty"`
}

// Budget is a budget space with its projects.
type Budget struct {
	participation.Space
	Total    int64     `json:"total"`
	Currency string    `json:"currency"`
	Intro    string    `json:"description"`
	Projects []Project `json:"projects"`
	Ballots  int       `json:"ballots"`
}

// Get returns a budget space with its projects and the number of ballots
// cast so far.
func (s *Service) Get(ctx context.Context, space int64) (*Budget, error) {
	sp, err := s.p.Space(ctx, space)
	if err != nil {
		return nil, err
	}
	if sp.Kind != participation.KindBudget {
		return nil, participation.ErrNotFound
	}
	b := &Budget{Space: *sp}
	db := s.p.DB()
	if err := db.QueryRow(ctx, "SELECT total, currency, intro FROM budget_spaces WHERE space_id = ?", space).Scan(&b.Total, &b.Currency, &b.Intro); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, participation.ErrNotFound
		}
		return nil, err
	}
	rows, err := db.Query(ctx, "SELECT id, title, description, cost, district FROM budget_projects WHERE space_id = ? ORDER BY id", space)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		p := Project{SpaceID: space}
		if err := rows.Scan(&p.ID, &p.Title, &p.Description, &p.Cost, &p.District); err != nil {
			return nil, err
		}
		b.Projects = append(b.Projects, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = db.QueryRow(ctx, "SELECT COUNT(*) FROM budget_ballots WHERE space_id = ?", space).Scan(&b.Ballots)
	return b, err
}

// ProjectInput is what an official writes about a project.
type ProjectInput struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Cost        int64  `json:"cost"`
	District    string `json:"district"`
}

func (in *ProjectInput) validate(total int64) error {
	var e validate.Errors
	in.Title, in.Description, in.District = strings.TrimSpace(in.Title), strings.TrimSpace(in.Description), strings.TrimSpace(in.District)
	validate.Text(&e, "project_title", in.Title, true, MaxTitle)
	validate.Text(&e, "project_description", in.Description, false, MaxDescription)
	validate.Text(&e, "project_district", in.District, false, MaxDistrict)
	if in.Cost < 1 || in.Cost > total {
		e.Add("cost", "budget_out_of_range", map[string]any{"min": 1, "max": total})
	}
	return e.Err()
}

// editable checks in tx that space is a budget whose voting has not
// opened, and returns its total.
func (s *Service) editable(ctx context.Context, tx *store.Tx, space int64) (int64, error) {
	sp, err := s.p.SpaceTx(ctx, tx, space)
	if err != nil {
		return 0, err
	}
	if sp.Kind != participation.KindBudget {
		return 0, participation.ErrNotFound
	}
	if sp.State != participation.Upcoming {
		return 0, ErrLocked
	}
	var total int64
	err = tx.QueryRow(ctx, "SELECT total FROM budget_spaces WHERE space_id = ?", space).Scan(&total)
	return total, err
}

// AddProject adds a project to a budget before voting opens.
func (s *Service) AddProject(ctx context.Context, official, space int64, in ProjectInput) (*Project, error) {
	p := &Project{SpaceID: space}
	now := store.Micros(s.p.Now())
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		total, err := s.editable(ctx, tx, space)
		if err != nil {
			return err
		}
		if err := in.validate(total); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM budget_projects WHERE space_id = ?", space).Scan(&n); err != nil {
			return err
		}
		if n >= MaxProjects {
			return validate.One("project_title", "budget_too_many_projects", map[string]any{"max": MaxProjects})
		}
		if err := tx.QueryRow(ctx, `INSERT INTO budget_projects (space_id, title, description, cost, district, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, space, in.Title, in.Description, in.Cost, in.District, now, now).Scan(&p.ID); err != nil {
			return err
		}
		p.Title, p.Description, p.Cost, p.District = in.Title, in.Description, in.Cost, in.District
		if err := search.PutProject(ctx, tx, p.ID); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "budget.project_added", official, auditlog.Digest([]byte(in.Title+"\n"+in.Description)),
			map[string]string{"space": participation.ID(space), "project": participation.ID(p.ID), "cost": participation.ID(in.Cost)})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// UpdateProject changes a project before voting opens.
func (s *Service) UpdateProject(ctx context.Context, official, project int64, in ProjectInput) (*Project, error) {
	p, err := s.Project(ctx, project)
	if err != nil {
		return nil, err
	}
	now := store.Micros(s.p.Now())
	err = s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		total, err := s.editable(ctx, tx, p.SpaceID)
		if err != nil {
			return err
		}
		if err := in.validate(total); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE budget_projects SET title = ?, description = ?, cost = ?, district = ?, updated_at = ? WHERE id = ?",
			in.Title, in.Description, in.Cost, in.District, now, project); err != nil {
			return err
		}
		p.Title, p.Description, p.Cost, p.District = in.Title, in.Description, in.Cost, in.District
		if err := search.PutProject(ctx, tx, project); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "budget.project_changed", official, auditlog.Digest([]byte(in.Title+"\n"+in.Description)),
			map[string]string{"space": participation.ID(p.SpaceID), "project": participation.ID(project), "cost": participation.ID(in.Cost)})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Project returns one project.
func (s *Service) Project(ctx context.Context, id int64) (*Project, error) {
	p := &Project{ID: id}
	err := s.p.DB().QueryRow(ctx, "SELECT space_id, title, description, cost, district FROM budget_projects WHERE id = ?", id).
		Scan(&p.SpaceID, &p.Title, &p.Description, &p.Cost, &p.District)
	if errors.Is(err, store.ErrNotFound) {
		return nil, participation.ErrNotFound
	}
	return p, err
}

// Ballot is a person's ballot.
type Ballot struct {
	SpaceID  int64     `json:"space_id"`
	Projects []int64   `json:"projects"`
	Cost     int64     `json:"cost"`
	CastAt   time.Time `json:"cast_at"`
	Replaced bool      `json:"replaced,omitempty"` // this cast replaced an earlier ballot
}

// Cast records account's ballot approving projects in space, replacing
// any earlier ballot of theirs, while the phase is open and they are
// eligible. A ballot costing more than the budget is refused with the
// field error budget_over (parameters total, limit, currency) and nothing
// is stored.
func (s *Service) Cast(ctx context.Context, account, space int64, projects []int64) (*Ballot, error) {
	ids := slices.Clone(projects)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	switch {
	case len(ids) == 0:
		return nil, validate.One("projects", "budget_none_chosen", nil)
	case len(ids) > MaxProjects:
		return nil, validate.One("projects", "budget_unknown_project", nil)
	}
	now := s.p.Now()
	b := &Ballot{SpaceID: space, Projects: ids, CastAt: now}
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.p.Gate(ctx, tx, participation.KindBudget, space, account); err != nil {
			return err
		}
		var total int64
		var currency string
		if err := tx.QueryRow(ctx, "SELECT total, currency FROM budget_spaces WHERE space_id = ?", space).Scan(&total, &currency); err != nil {
			return err
		}
		costs, err := projectCosts(ctx, tx, space)
		if err != nil {
			return err
		}
		b.Cost = 0
		for _, id := range ids {
			c, ok := costs[id]
			if !ok {
				return validate.One("projects", "budget_unknown_project", nil)
			}
			b.Cost += c
		}
		if b.Cost > total {
			return validate.One("projects", "budget_over", map[string]any{"total": b.Cost, "limit": total, "currency": currency})
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM budget_ballots WHERE space_id = ? AND account_id = ?", space, account).Scan(&n); err != nil {
			return err
		}
		b.Replaced = n > 0
		// The upsert on the unique key makes concurrent casts by one
		// person end in one ballot: the later waits for the earlier's
		// row and replaces its approvals.
		var ballot int64
		if err := tx.QueryRow(ctx, `INSERT INTO budget_ballots (space_id, account_id, cast_at) VALUES (?, ?, ?)
			ON CONFLICT (space_id, account_id) DO UPDATE SET cast_at = excluded.cast_at RETURNING id`, space, account, store.Micros(now)).Scan(&ballot); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM budget_ballot_items WHERE ballot_id = ?", ballot); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.Exec(ctx, "INSERT INTO budget_ballot_items (ballot_id, project_id) VALUES (?, ?)", ballot, id); err != nil {
				return err
			}
		}
		action := "budget.ballot_cast"
		if b.Replaced {
			action = "budget.ballot_replaced"
		}
		// No digest of the approvals: with few projects it could be
		// reversed, and the log must not tell how a person voted.
		return s.p.Audit(ctx, tx, action, account, "", map[string]string{"space": participation.ID(space)})
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

func projectCosts(ctx context.Context, tx *store.Tx, space int64) (map[int64]int64, error) {
	rows, err := tx.Query(ctx, "SELECT id, cost FROM budget_projects WHERE space_id = ?", space)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, c int64
		if err := rows.Scan(&id, &c); err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, rows.Err()
}

// Withdraw removes account's ballot while the phase is open.
func (s *Service) Withdraw(ctx context.Context, account, space int64) error {
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.p.Gate(ctx, tx, participation.KindBudget, space, account); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM budget_ballots WHERE space_id = ? AND account_id = ?", space, account)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNoBallot
		}
		return s.p.Audit(ctx, tx, "budget.ballot_withdrawn", account, "", map[string]string{"space": participation.ID(space)})
	})
}

// MyBallot returns account's ballot in space, or nil if they have none.
func (s *Service) MyBallot(ctx context.Context, account, space int64) (*Ballot, error) {
	if account == 0 {
		return nil, nil
	}
	var id, at int64
	err := s.p.DB().QueryRow(ctx, "SELECT id, cast_at FROM budget_ballots WHERE space_id = ? AND account_id = ?", space, account).Scan(&id, &at)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b := &Ballot{SpaceID: space, CastAt: store.FromMicros(at), Projects: []int64{}}
	rows, err := s.p.DB().Query(ctx, "SELECT i.project_id, p.cost FROM budget_ballot_items i JOIN budget_projects p ON p.id = i.project_id WHERE i.ballot_id = ? ORDER BY i.project_id", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var pid, c int64
		if err := rows.Scan(&pid, &c); err != nil {
			return nil, err
		}
		b.Projects = append(b.Projects, pid)
		b.Cost += c
	}
	return b, rows.Err()
}

// Code is the machine code of the budget's errors, for the API and the
// message catalog (error.<code>).
func Code(err error) string {
	switch {
	case errors.Is(err, ErrLocked):
		return "budget_locked"
	case errors.Is(err, ErrNoBallot):
		return "budget_no_ballot"
	case errors.Is(err, ErrNotClosed):
		return "budget_not_closed"
	}
	return ""
}
