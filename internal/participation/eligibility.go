package participation

import (
	"context"
	"slices"
	"strings"

	"github.com/veche/veche/internal/store"
)

// Reasons for refusing an act, which pages and the API show.
const (
	ReasonResidentRequired = "resident_required" // the process admits verified residents only
	ReasonNotInCensus      = "not_in_census"     // verified earlier, but the current census no longer lists them
	ReasonDistrict         = "district"          // lives in another district
	ReasonAge              = "age"               // too young
)

// NotEligibleError refuses an act by someone the process does not admit,
// saying why.
type NotEligibleError struct {
	Reason    string
	Districts []string // for ReasonDistrict
	MinAge    int      // for ReasonAge
}

func (e *NotEligibleError) Error() string {
	switch e.Reason {
	case ReasonDistrict:
		return "participation: only residents of " + strings.Join(e.Districts, ", ") + " may take part"
	case ReasonAge:
		return "participation: only residents of the minimum age may take part"
	case ReasonNotInCensus:
		return "participation: the current census no longer lists your verified residence"
	}
	return "participation: only verified residents may take part"
}

// Is makes errors.Is(err, ErrNotEligible) true.
func (e *NotEligibleError) Is(target error) bool { return target == ErrNotEligible }

// CheckEligibility says whether account may take part in process now, and
// if not, why; pages show it before a person tries. Acts check again in
// their own transaction ([Service.Gate]).
func (s *Service) CheckEligibility(ctx context.Context, process, account int64) error {
	return s.eligible(ctx, s.db, process, account)
}

// EligibleTx is CheckEligibility inside tx.
func (s *Service) EligibleTx(ctx context.Context, tx *store.Tx, process, account int64) error {
	return s.eligible(ctx, tx, process, account)
}

func (s *Service) eligible(ctx context.Context, q queryer, process, account int64) error {
	var el Eligibility
	var districts string
	if err := q.QueryRow(ctx, "SELECT residents_only, districts, min_age FROM processes WHERE id = ?", process).
		Scan(&el.ResidentsOnly, &districts, &el.MinAge); err != nil {
		return err
	}
	if districts != "" {
		el.Districts = strings.Split(districts, ",")
	}
	return s.meets(ctx, q, el, account)
}

// meets checks account against the rule el.
func (s *Service) meets(ctx context.Context, q queryer, el Eligibility, account int64) error {
	if !el.NeedsResidence() {
		return nil
	}
	res, err := s.residence(ctx, q, account)
	if err != nil {
		return err
	}
	switch {
	case res == nil:
		return &NotEligibleError{Reason: ReasonResidentRequired}
	case !res.InCensus:
		return &NotEligibleError{Reason: ReasonNotInCensus}
	case len(el.Districts) > 0 && !slices.Contains(el.Districts, res.District):
		return &NotEligibleError{Reason: ReasonDistrict, Districts: el.Districts}
	case el.MinAge > 0 && s.Now().Year()-res.BirthYear < el.MinAge:
		return &NotEligibleError{Reason: ReasonAge, MinAge: el.MinAge}
	}
	return nil
}
