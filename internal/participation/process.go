package participation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/veche/veche/internal/participation/search"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// Space kinds.
const (
	KindConsultation = "consultation"
	KindPetitions    = "petitions"
	KindBudget       = "budget"
	KindSurvey       = "survey"
)

// Kinds lists the space kinds in the order forms show them.
var Kinds = []string{KindConsultation, KindPetitions, KindBudget, KindSurvey}

// Space states, as of now.
const (
	Upcoming = "upcoming"
	Open     = "open"
	Closed   = "closed"
)

// Limits on what officials write.
const (
	MaxTitle       = 200
	MaxDescription = 20000
	MaxPhases      = 12
	MaxDistricts   = 200
)

// Eligibility says who may take part in a process.
type Eligibility struct {
	// ResidentsOnly admits only people verified against the census.
	ResidentsOnly bool `json:"residents_only"`
	// Districts, when not empty, admits residents of these districts only
	// (implies ResidentsOnly).
	Districts []string `json:"districts,omitempty"`
	// MinAge, when above zero, admits residents born at least MinAge
	// years before the current year (the census holds the birth year
	// only, so a person counts as N from 1 January of the year they turn
	// N; implies ResidentsOnly).
	MinAge int `json:"min_age,omitempty"`
}

// NeedsResidence reports whether the rule needs a census check.
func (e Eligibility) NeedsResidence() bool {
	return e.ResidentsOnly || len(e.Districts) > 0 || e.MinAge > 0
}

// Phase is a dated step of a process.
type Phase struct {
	ID       int64     `json:"id"`
	Position int       `json:"position"`
	Name     string    `json:"name"`
	Starts   time.Time `json:"starts"`
	Ends     time.Time `json:"ends"`
}

// Active reports whether t falls within the phase.
func (p Phase) Active(t time.Time) bool { return !t.Before(p.Starts) && t.Before(p.Ends) }

// Process is a participation process.
type Process struct {
	ID          int64       `json:"id"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Eligibility Eligibility `json:"eligibility"`
	Phases      []Phase     `json:"phases"`
	Spaces      []Space     `json:"spaces"`
	CreatedAt   time.Time   `json:"created_at"`
}

// CurrentPhase returns the phase active at t, if any.
func (p *Process) CurrentPhase(t time.Time) (Phase, bool) {
	for _, ph := range p.Phases {
		if ph.Active(t) {
			return ph, true
		}
	}
	return Phase{}, false
}

// Space is one participation space of a process.
type Space struct {
	ID        int64      `json:"id"`
	ProcessID int64      `json:"process_id"`
	Kind      string     `json:"kind"`
	Title     string     `json:"title"`
	Phase     Phase      `json:"phase"`
	Moderated bool       `json:"moderated"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	State     string     `json:"state"`
}

// Closes is when the space stops taking part: its phase's end or an
// earlier close.
func (sp *Space) Closes() time.Time {
	if sp.ClosedAt != nil && sp.ClosedAt.Before(sp.Phase.Ends) {
		return *sp.ClosedAt
	}
	return sp.Phase.Ends
}

func (sp *Space) setState(now time.Time) {
	switch {
	case !now.Before(sp.Closes()):
		sp.State = Closed
	case now.Before(sp.Phase.Starts):
		sp.State = Upcoming
	default:
		sp.State = Open
	}
}

// PhaseError refuses an act outside the space's phase.
type PhaseError struct {
	Opens, Closes time.Time
	State         string // Upcoming or Closed
}

func (e *PhaseError) Error() string {
	if e.State == Upcoming {
		return fmt.Sprintf("participation: opens at %s", e.Opens.Format(time.RFC3339))
	}
	return fmt.Sprintf("participation: closed at %s", e.Closes.Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrOutsidePhase) true.
func (e *PhaseError) Is(target error) bool { return target == ErrOutsidePhase }

// PhaseInput is a phase as an official enters it.
type PhaseInput struct {
	Name   string    `json:"name"`
	Starts time.Time `json:"starts"`
	Ends   time.Time `json:"ends"`
}

// ProcessInput is what an official enters to create a process.
type ProcessInput struct {
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Eligibility Eligibility  `json:"eligibility"`
	Phases      []PhaseInput `json:"phases"`
}

func (in *ProcessInput) validate() error {
	var e validate.Errors
	in.Title = strings.TrimSpace(in.Title)
	validate.Text(&e, "title", in.Title, true, MaxTitle)
	validate.Text(&e, "description", in.Description, false, MaxDescription)
	switch {
	case len(in.Phases) == 0:
		e.Add("phases", "required", nil)
	case len(in.Phases) > MaxPhases:
		e.Add("phases", "too_many", map[string]any{"max": MaxPhases})
	}
	for i, ph := range in.Phases {
		field := fmt.Sprintf("phases.%d", i)
		in.Phases[i].Name = strings.TrimSpace(ph.Name)
		validate.Text(&e, field+".name", in.Phases[i].Name, true, 100)
		switch {
		case ph.Starts.IsZero() || ph.Ends.IsZero():
			e.Add(field+".ends", "required", nil)
		case !ph.Ends.After(ph.Starts):
			e.Add(field+".ends", "ends_before_start", nil)
		}
	}
	el := &in.Eligibility
	if len(el.Districts) > MaxDistricts {
		e.Add("eligibility.districts", "too_many", map[string]any{"max": MaxDistricts})
	}
	var districts []string
	for _, d := range el.Districts {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		if strings.ContainsAny(d, ",\n") || len(d) > 100 {
			e.Add("eligibility.districts", "invalid", nil)
			break
		}
		districts = append(districts, d)
	}
	el.Districts = slices.Compact(districts)
	if el.MinAge < 0 || el.MinAge > 120 {
		e.Add("eligibility.min_age", "out_of_range", map[string]any{"min": 0, "max": 120})
	}
	return e.Err()
}

// CreateProcess creates a process with its phases.
func (s *Service) CreateProcess(ctx context.Context, official int64, in ProcessInput) (*Process, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.Now()
	var id int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO processes (title, description, residents_only, districts, min_age, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, in.Title, in.Description, in.Eligibility.NeedsResidence(),
			strings.Join(in.Eligibility.Districts, ","), in.Eligibility.MinAge, official, store.Micros(now)).Scan(&id); err != nil {
			return err
		}
		for i, ph := range in.Phases {
			if _, err := tx.Exec(ctx, `INSERT INTO process_phases (process_id, position, name, starts_at, ends_at) VALUES (?, ?, ?, ?, ?)`,
				id, i+1, ph.Name, store.Micros(ph.Starts.UTC()), store.Micros(ph.Ends.UTC())); err != nil {
				return err
			}
		}
		if err := search.PutProcess(ctx, tx, id); err != nil {
			return err
		}
		return s.Audit(ctx, tx, "process.created", official, "", map[string]string{"process": ID(id)})
	})
	if err != nil {
		return nil, err
	}
	return s.Process(ctx, id)
}

// SpaceInput is what an official enters to attach a space to a process.
type SpaceInput struct {
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	PhaseID   int64  `json:"phase_id"`
	Moderated bool   `json:"moderated"`
}

// AddSpace attaches a space to a process in tx and returns its number;
// the space packages call it when they create their own rows.
func (s *Service) AddSpace(ctx context.Context, tx *store.Tx, official, process int64, in SpaceInput) (int64, error) {
	var e validate.Errors
	in.Title = strings.TrimSpace(in.Title)
	validate.Text(&e, "title", in.Title, true, MaxTitle)
	if !slices.Contains(Kinds, in.Kind) {
		e.Add("kind", "invalid", nil)
	}
	var phaseProcess int64
	err := tx.QueryRow(ctx, "SELECT process_id FROM process_phases WHERE id = ?", in.PhaseID).Scan(&phaseProcess)
	if errors.Is(err, store.ErrNotFound) || (err == nil && phaseProcess != process) {
		e.Add("phase_id", "invalid", nil)
	} else if err != nil {
		return 0, err
	}
	if err := e.Err(); err != nil {
		return 0, err
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO spaces (process_id, kind, title, phase_id, moderated, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		process, in.Kind, in.Title, in.PhaseID, in.Moderated, store.Micros(s.Now())).Scan(&id); err != nil {
		return 0, err
	}
	return id, s.Audit(ctx, tx, "space.created", official, "", map[string]string{"process": ID(process), "space": ID(id), "kind": in.Kind})
}

// CloseSpace ends participation in a space now, before its phase ends;
// results can then be published.
func (s *Service) CloseSpace(ctx context.Context, official, space int64) error {
	now := s.Now()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE spaces SET closed_at = ? WHERE id = ? AND closed_at IS NULL", store.Micros(now), space)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := s.space(ctx, tx, space); err != nil {
				return err
			}
			return nil // already closed: closing again changes nothing
		}
		return s.Audit(ctx, tx, "space.closed", official, "", map[string]string{"space": ID(space)})
	})
}

// queryer is what reads need from a database or a transaction.
type queryer interface {
	QueryRow(ctx context.Context, query string, args ...any) *store.Row
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const spaceColumns = `s.id, s.process_id, s.kind, s.title, s.moderated, s.closed_at, p.id, p.position, p.name, p.starts_at, p.ends_at`

func (s *Service) scanSpace(scan func(...any) error) (Space, error) {
	var sp Space
	var closed sql.NullInt64
	var starts, ends int64
	if err := scan(&sp.ID, &sp.ProcessID, &sp.Kind, &sp.Title, &sp.Moderated, &closed,
		&sp.Phase.ID, &sp.Phase.Position, &sp.Phase.Name, &starts, &ends); err != nil {
		return sp, err
	}
	sp.Phase.Starts, sp.Phase.Ends = store.FromMicros(starts), store.FromMicros(ends)
	if closed.Valid {
		t := store.FromMicros(closed.Int64)
		sp.ClosedAt = &t
	}
	sp.setState(s.Now())
	return sp, nil
}

func (s *Service) space(ctx context.Context, q queryer, id int64) (*Space, error) {
	sp, err := s.scanSpace(q.QueryRow(ctx, `SELECT `+spaceColumns+` FROM spaces s JOIN process_phases p ON p.id = s.phase_id WHERE s.id = ?`, id).Scan)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &sp, nil
}

// Space returns a space with its phase and state.
func (s *Service) Space(ctx context.Context, id int64) (*Space, error) { return s.space(ctx, s.db, id) }

// SpaceTx returns a space within tx.
func (s *Service) SpaceTx(ctx context.Context, tx *store.Tx, id int64) (*Space, error) {
	return s.space(ctx, tx, id)
}

// Process returns a process with its phases and spaces.
func (s *Service) Process(ctx context.Context, id int64) (*Process, error) {
	p := &Process{ID: id}
	var districts string
	var created int64
	err := s.db.QueryRow(ctx, `SELECT title, description, residents_only, districts, min_age, created_at FROM processes WHERE id = ?`, id).
		Scan(&p.Title, &p.Description, &p.Eligibility.ResidentsOnly, &districts, &p.Eligibility.MinAge, &created)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p.CreatedAt = store.FromMicros(created)
	if districts != "" {
		p.Eligibility.Districts = strings.Split(districts, ",")
	}
	rows, err := s.db.Query(ctx, `SELECT id, position, name, starts_at, ends_at FROM process_phases WHERE process_id = ? ORDER BY position`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var ph Phase
		var starts, ends int64
		if err := rows.Scan(&ph.ID, &ph.Position, &ph.Name, &starts, &ends); err != nil {
			rows.Close()
			return nil, err
		}
		ph.Starts, ph.Ends = store.FromMicros(starts), store.FromMicros(ends)
		p.Phases = append(p.Phases, ph)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.Query(ctx, `SELECT `+spaceColumns+` FROM spaces s JOIN process_phases p ON p.id = s.phase_id WHERE s.process_id = ? ORDER BY p.position, s.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		sp, err := s.scanSpace(rows.Scan)
		if err != nil {
			return nil, err
		}
		p.Spaces = append(p.Spaces, sp)
	}
	return p, rows.Err()
}

// ProcessSummary is a process in a list.
type ProcessSummary struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Starts    time.Time `json:"starts"`
	Ends      time.Time `json:"ends"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
}

// Processes lists processes, newest first.
func (s *Service) Processes(ctx context.Context) ([]ProcessSummary, error) {
	rows, err := s.db.Query(ctx, `SELECT p.id, p.title, p.created_at, MIN(ph.starts_at), MAX(ph.ends_at)
		FROM processes p JOIN process_phases ph ON ph.process_id = p.id GROUP BY p.id, p.title, p.created_at ORDER BY p.id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := s.Now()
	var out []ProcessSummary
	for rows.Next() {
		var p ProcessSummary
		var created, starts, ends int64
		if err := rows.Scan(&p.ID, &p.Title, &created, &starts, &ends); err != nil {
			return nil, err
		}
		p.CreatedAt, p.Starts, p.Ends = store.FromMicros(created), store.FromMicros(starts), store.FromMicros(ends)
		switch {
		case now.Before(p.Starts):
			p.State = Upcoming
		case now.Before(p.Ends):
			p.State = Open
		default:
			p.State = Closed
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Gate is the check every act of participation passes, inside its
// transaction: the space exists and is of the expected kind, its phase is
// open now, and account is eligible under its process's rule now.
func (s *Service) Gate(ctx context.Context, tx *store.Tx, kind string, space, account int64) (*Space, error) {
	// One round trip for the space, its phase and its process's rule:
	// this runs in every act of participation.
	var el Eligibility
	var districts string
	sp, err := s.scanSpace(func(dest ...any) error {
		return tx.QueryRow(ctx, `SELECT `+spaceColumns+`, r.residents_only, r.districts, r.min_age
			FROM spaces s JOIN process_phases p ON p.id = s.phase_id JOIN processes r ON r.id = s.process_id WHERE s.id = ?`, space).
			Scan(append(dest, &el.ResidentsOnly, &districts, &el.MinAge)...)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if sp.Kind != kind {
		return nil, ErrNotFound
	}
	if sp.State != Open {
		return &sp, &PhaseError{Opens: sp.Phase.Starts, Closes: sp.Closes(), State: sp.State}
	}
	if districts != "" {
		el.Districts = strings.Split(districts, ",")
	}
	if err := s.meets(ctx, tx, el, account); err != nil {
		return &sp, err
	}
	return &sp, nil
}
