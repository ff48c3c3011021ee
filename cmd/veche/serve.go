package main

import (
	"context"
	"io"

	"github.com/veche/veche/internal/app"
)

func init() {
	register(command{Name: "serve", Summary: "run the platform (SQLite under ./veche-data unless --db says otherwise)", Run: runServe})
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg app.Config
	fs := newFlagSet("serve", stderr)
	cfg.BindFlags(fs)
	if err := parseFlags(fs, args, app.ApplyEnv); err != nil {
		return err
	}
	logger, err := app.NewLogger(stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	return app.Serve(ctx, cfg, logger, nil)
}
