package main

import (
	"context"
	"fmt"
	"io"

	"github.com/veche/veche/internal/app"
	"github.com/veche/veche/internal/participation/search"
)

func init() {
	register(command{Name: "search", Summary: "the full-text index of public content: 'veche search reindex|prune' (see docs/api-search.md)", Run: runSearch})
}

const searchUsage = `veche search reindex   rebuild the index from the content (after a restore: the index is not in data backups)
veche search prune     delete index entries of hidden content and of erased authors now`

func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "reindex" && args[0] != "prune") {
		return fmt.Errorf("%w:\n%s", errUsage, searchUsage)
	}
	var cfg app.Config
	fs := newFlagSet("search "+args[0], stderr)
	cfg.BindFlags(fs)
	if err := parseFlags(fs, args[1:], app.ApplyEnv); err != nil {
		return err
	}
	in, err := openQuiet(ctx, cfg)
	if err != nil {
		return err
	}
	defer in.Close()
	s := search.New(in.DB, in.Participation, in.Participation.Now)
	if args[0] == "prune" {
		n, err := s.Prune(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted %d index entries\n", n)
		return nil
	}
	n, err := s.Reindex(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "indexed %d items\n", n)
	return nil
}
