package app

import (
	"context"

	"github.com/veche/veche/internal/participation/search"
)

// searchHousekeeping keeps the search index honest: it deletes entries of
// content no longer public or of erased authors (a safety net behind the
// deletions in the content's own transactions) and rebuilds the index
// when it is empty while there is content, as after restoring a data
// backup, which never holds the index.
func (in *Instance) searchHousekeeping(ctx context.Context) {
	s := search.New(in.DB, in.Participation, in.Participation.Now)
	if n, err := s.Prune(ctx); err != nil && ctx.Err() == nil {
		in.Logger.Warn("search: prune failed", "err", err)
	} else if n > 0 {
		in.Logger.Info("search: pruned index entries", "rows", n)
	}
	var docs, processes int
	if err := in.DB.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM search_documents), (SELECT COUNT(*) FROM processes)").Scan(&docs, &processes); err != nil {
		return
	}
	if docs == 0 && processes > 0 {
		if n, err := s.Reindex(ctx); err != nil && ctx.Err() == nil {
			in.Logger.Warn("search: reindex failed", "err", err)
		} else {
			in.Logger.Info("search: index rebuilt", "items", n)
		}
	}
}
