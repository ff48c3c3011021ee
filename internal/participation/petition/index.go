package petition

import (
	"context"

	"github.com/veche/veche/internal/participation/search"
	"github.com/veche/veche/internal/store"
)

// index brings a petition's entry in the search index in line with its
// status in tx: published or answered petitions are indexed with their
// text (opened with the author's key), others are removed.
func (s *Service) index(ctx context.Context, tx *store.Tx, petition int64) error {
	var author *int64
	var title, body []byte
	if err := tx.QueryRow(ctx, "SELECT author_id, title_sealed, body_sealed FROM petitions WHERE id = ?", petition).Scan(&author, &title, &body); err != nil {
		return err
	}
	if author == nil {
		return search.Remove(ctx, tx, search.KindPetition, petition)
	}
	t, erased, err := s.p.Open(ctx, *author, "petitions", "title_sealed", petition, title)
	if err != nil || erased {
		if err == nil {
			err = search.Remove(ctx, tx, search.KindPetition, petition)
		}
		return err
	}
	b, _, err := s.p.Open(ctx, *author, "petitions", "body_sealed", petition, body)
	if err != nil {
		return err
	}
	return search.PutPetition(ctx, tx, petition, t, b)
}
