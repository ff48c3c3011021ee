package petition

import (
	"context"
	"errors"
	"time"

	"github.com/veche/veche/internal/participation"
)

// ErrNotClosed refuses results of a petition space that is still open.
var ErrNotClosed = errors.New("petition: results are published once the petition space is closed")

// Result is one published petition in the open-data export: never who
// signed, never who wrote it.
type Result struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	Erased      bool       `json:"author_erased,omitempty"` // the title went with its author's account
	Status      string     `json:"status"`
	Signatures  int64      `json:"signatures"`
	Threshold   int        `json:"threshold"`
	Published   *time.Time `json:"published_at,omitempty"`
	Reached     *time.Time `json:"threshold_reached_at,omitempty"`
	ResponseDue *time.Time `json:"response_due_at,omitempty"`
	Responded   *time.Time `json:"responded_at,omitempty"`
	Response    string     `json:"response,omitempty"`
}

// Results is the export of a closed petition space.
type Results struct {
	Space     participation.Space `json:"space"`
	Petitions []Result            `json:"petitions"`
}

// Results returns every published or answered petition of a closed space
// ([ErrNotClosed] before), most signed first. Pending, rejected and
// hidden petitions are not in it.
func (s *Service) Results(ctx context.Context, space int64) (*Results, error) {
	sp, err := s.p.Space(ctx, space)
	if err != nil {
		return nil, err
	}
	if sp.Kind != participation.KindPetitions {
		return nil, participation.ErrNotFound
	}
	if sp.State != participation.Closed {
		return nil, ErrNotClosed
	}
	out := &Results{Space: *sp, Petitions: []Result{}}
	for page := 1; ; page++ {
		list, total, err := s.List(ctx, space, 0, "", page)
		if err != nil {
			return nil, err
		}
		for _, p := range list {
			if p.Status != Published && p.Status != Answered {
				continue
			}
			out.Petitions = append(out.Petitions, Result{ID: p.ID, Kind: p.Kind, Title: p.Title, Erased: p.Erased, Status: p.Status,
				Signatures: p.Signatures, Threshold: p.Threshold, Published: p.Published, Reached: p.Reached,
				ResponseDue: p.ResponseDue, Responded: p.Responded, Response: p.Response})
		}
		if page*PageSize >= total {
			break
		}
	}
	return out, nil
}
