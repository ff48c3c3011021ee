package moderation

import (
	"context"

	"github.com/veche/veche/internal/participation/search"
	"github.com/veche/veche/internal/store"
)

// index brings the item's search entry in line with its new status in tx:
// a hidden item leaves the index (its plaintext with it), an approved or
// restored one comes back with its text, unless its author was erased.
func (s *Service) index(ctx context.Context, tx *store.Tx, it *item, status string) error {
	kind := search.KindComment
	if it.kind == KindPetition {
		kind = search.KindPetition
	}
	// PutComment and PutPetition index only what is public (published,
	// or answered for a petition) and remove anything else.
	if status == statusHidden || it.author == 0 {
		return search.Remove(ctx, tx, kind, it.id)
	}
	title, body, erased, err := s.text(ctx, it)
	if err != nil {
		return err
	}
	if erased {
		return search.Remove(ctx, tx, kind, it.id)
	}
	if kind == search.KindPetition {
		return search.PutPetition(ctx, tx, it.id, title, body)
	}
	return search.PutComment(ctx, tx, it.id, body)
}
