package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"modernc.org/sqlite"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/store"
)

// syncFullDir is a directory name that makes the connection hook below
// switch SQLite to synchronous=FULL. store.Open fixes synchronous=NORMAL in
// its DSN, and the bench may not change store, so the stricter setting is
// applied by a modernc.org/sqlite connection hook, which runs after the
// DSN's pragmas on every new connection.
const syncFullDir = "sqlite-sync-full"

var registerHook sync.Once

func registerSyncFullHook() {
	registerHook.Do(func() {
		sqlite.RegisterConnectionHook(func(conn sqlite.ExecQuerierContext, dsn string) error {
			if !strings.Contains(dsn, "/"+syncFullDir+"/") {
				return nil
			}
			_, err := conn.ExecContext(context.Background(), "PRAGMA synchronous = FULL", []driver.NamedValue{})
			return err
		})
	})
}

// vecheTarget is veche's audit log on one database: writers call
// Log.Append inside db.InTx (the acknowledgement is the commit), Log.Run
// sequences in the background, and a second connection pool reads the
// published checkpoint the way /checkpoint does.
type vecheTarget struct {
	db, obs  *store.DB // writers and sequencer; observer
	log      *auditlog.Log
	obsLog   *auditlog.Log // same log, used only for Checkpoint on obs
	cancel   context.CancelFunc
	running  chan struct{}
	cleanup  []func()
	settings string
}

// openVeche opens veche's log on kind "sqlite", "sqlite-full" or
// "postgres" and starts its sequencer.
func openVeche(ctx context.Context, kind, dir string, cfg config) (*vecheTarget, error) {
	t := &vecheTarget{}
	var dsn string
	switch kind {
	case "sqlite", "sqlite-full":
		sub := "sqlite"
		if kind == "sqlite-full" {
			registerSyncFullHook()
			sub = syncFullDir
		}
		dsn = filepath.Join(dir, sub, "veche.db")
	case "postgres":
		u, drop, err := freshPostgresSchema(ctx, cfg.postgresURL)
		if err != nil {
			return nil, err
		}
		t.cleanup = append(t.cleanup, drop)
		dsn = u
	default:
		return nil, fmt.Errorf("unknown veche database %q", kind)
	}
	var err error
	if t.db, err = store.Open(ctx, dsn); err != nil {
		t.close()
		return nil, err
	}
	if t.obs, err = store.Open(ctx, dsn); err != nil {
		t.close()
		return nil, err
	}
	if t.settings, err = describeDB(ctx, t.db); err != nil {
		t.close()
		return nil, err
	}
	if kind == "sqlite-full" && !strings.Contains(t.settings, "synchronous=2") {
		t.close()
		return nil, fmt.Errorf("sqlite-full: connection hook did not take effect (%s)", t.settings)
	}

	skey, vkey, err := auditlog.GenerateKey(benchOrigin)
	if err != nil {
		t.close()
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.close()
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := auditlog.Options{Interval: cfg.interval, Now: time.Now, Logger: logger}
	t.log = auditlog.New(t.db, signer, vkey, opts)
	t.obsLog = auditlog.New(t.obs, signer, vkey, opts)
	t.settings += fmt.Sprintf(", sequencer Interval=%v (wake on every commit), max 8192 entries/pass, one checkpoint per pass", cfg.interval)

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t.cancel = cancel
	t.running = make(chan struct{})
	go func() { t.log.Run(runCtx); close(t.running) }()
	// Let Run take the sequencer lease before the clock starts, as
	// veche's own benchmark does; until it holds the lease it ignores
	// wake-ups and would only sequence on its next tick.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM leases WHERE name = 'auditlog.sequencer'").Scan(&n); err != nil {
			t.close()
			return nil, err
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.close()
			return nil, fmt.Errorf("sequencer did not take its lease within 10s")
		}
		time.Sleep(time.Millisecond)
	}
	return t, nil
}

const benchOrigin = "logbench.example/log"

func (t *vecheTarget) append(ctx context.Context, _ int, e auditlog.Entry) (int64, error) {
	err := t.db.InTx(ctx, func(tx *store.Tx) error { return t.log.Append(ctx, tx, e) })
	return -1, err
}

func (t *vecheTarget) published(ctx context.Context) (int64, error) {
	cp, err := t.obsLog.Checkpoint(ctx)
	if err != nil {
		return 0, err
	}
	return checkpointSize(cp)
}

// resolveIndexes reads back the log index of every entry: the sequencer
// assigns them, so Append does not return one.
func (t *vecheTarget) resolveIndexes(ctx context.Context, idx []int64) error {
	rows, err := t.db.Query(ctx, "SELECT idx, entry FROM auditlog_entries")
	if err != nil {
		return err
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var (
			i int64
			b []byte
		)
		if err := rows.Scan(&i, &b); err != nil {
			return err
		}
		r, err := auditlog.ParseRecord(b)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(r.Detail["n"])
		if err != nil || n < 0 || n >= len(idx) {
			return fmt.Errorf("entry %d: unexpected detail %q", i, r.Detail["n"])
		}
		idx[n] = i
		seen++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if seen != len(idx) {
		return fmt.Errorf("%d entries in the log, %d acknowledged", seen, len(idx))
	}
	return nil
}

func (t *vecheTarget) close() error {
	if t.cancel != nil {
		t.cancel()
		<-t.running
	}
	if t.obs != nil {
		t.obs.Close()
	}
	if t.db != nil {
		t.db.Close()
	}
	for _, f := range t.cleanup {
		f()
	}
	return nil
}

func (t *vecheTarget) describe() string { return t.settings }

// describeDB reports the durability settings the writers' connections
// actually run with.
func describeDB(ctx context.Context, db *store.DB) (string, error) {
	if db.Dialect() == store.Postgres {
		var sc, fs, method string
		if err := db.QueryRow(ctx, "SELECT current_setting('synchronous_commit'), current_setting('fsync'), current_setting('wal_sync_method')").Scan(&sc, &fs, &method); err != nil {
			return "", err
		}
		return fmt.Sprintf("PostgreSQL synchronous_commit=%s fsync=%s wal_sync_method=%s, pool 32 conns", sc, fs, method), nil
	}
	var jm string
	var syn int
	// One connection for both pragmas, so they describe the same one.
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&jm); err != nil {
		return "", err
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syn); err != nil {
		return "", err
	}
	return fmt.Sprintf("SQLite journal_mode=%s synchronous=%d (1=NORMAL, 2=FULL), _txlock=immediate, pool 8 conns", jm, syn), nil
}

// freshPostgresSchema creates an empty schema in the database at base and
// returns a URL whose search_path selects it, and a func that drops it
// (the same recipe as internal/store/storetest.PostgresURL, which needs a
// testing.TB).
func freshPostgresSchema(ctx context.Context, base string) (string, func(), error) {
	var b [6]byte
	rand.Read(b[:])
	schema := "logbench_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
