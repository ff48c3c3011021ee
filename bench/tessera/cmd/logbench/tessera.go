package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"

	"github.com/veche/veche/internal/auditlog"
)

// tesseraTarget is Trillian Tessera's POSIX log in a directory: writers
// call Appender.Add and resolve the returned future (the acknowledgement:
// the POSIX driver resolves it once the batch is written, fsynced and
// integrated into the tiles), and the published checkpoint is read with the
// LogReader, as tessera.PublicationAwaiter does.
type tesseraTarget struct {
	app      *tessera.Appender
	shutdown func(context.Context) error
	reader   tessera.LogReader
	cancel   context.CancelFunc
	settings string
}

// openTessera opens a fresh POSIX log under dir with batches of at most
// batchSize entries or batchAge, and checkpoints every cfg.interval.
func openTessera(ctx context.Context, dir string, batchSize uint, batchAge time.Duration, cfg config) (*tesseraTarget, error) {
	skey, _, err := auditlog.GenerateKey(benchOrigin)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	drv, err := posix.New(ctx, posix.Config{Path: filepath.Join(dir, "tessera")})
	if err != nil {
		return nil, err
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(signer).
		WithCheckpointInterval(cfg.interval).
		WithBatching(batchSize, batchAge)
	appCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	app, shutdown, reader, err := tessera.NewAppender(appCtx, drv, opts)
	if err != nil {
		cancel()
		return nil, err
	}
	return &tesseraTarget{
		app: app, shutdown: shutdown, reader: reader, cancel: cancel,
		settings: fmt.Sprintf("Tessera %s POSIX driver, WithBatching(%d, %v), WithCheckpointInterval(%v), no antispam, no witnesses, GC every %v (default), files written O_SYNC + directory fsync",
			tesseraVersion, batchSize, batchAge, cfg.interval, tessera.DefaultGarbageCollectionInterval),
	}, nil
}

const tesseraVersion = "v1.0.4"

func (t *tesseraTarget) append(ctx context.Context, _ int, e auditlog.Entry) (int64, error) {
	b, err := encode(e, time.Now())
	if err != nil {
		return 0, err
	}
	idx, err := t.app.Add(ctx, tessera.NewEntry(b))()
	if err != nil {
		return 0, err
	}
	return int64(idx.Index), nil
}

func (t *tesseraTarget) published(ctx context.Context) (int64, error) {
	cp, err := t.reader.ReadCheckpoint(ctx)
	if err != nil {
		return 0, err
	}
	return checkpointSize(cp)
}

// resolveIndexes has nothing to do: Add reports the index.
func (t *tesseraTarget) resolveIndexes(context.Context, []int64) error { return nil }

func (t *tesseraTarget) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := t.shutdown(ctx)
	t.cancel()
	return err
}

func (t *tesseraTarget) describe() string { return t.settings }
