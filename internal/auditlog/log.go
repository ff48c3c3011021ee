// Package auditlog owns veche's tamper-evident public audit log: every state
// change appends one [Entry] in the same database transaction as the change,
// and the entries form an append-only Merkle tree whose signed checkpoints
// let anyone check that no entry was altered, removed or reordered.
//
// The log follows published specifications so that standard clients can
// check it without veche's code:
//
//   - the tree and its hashes: RFC 6962, section 2
//     (https://www.rfc-editor.org/rfc/rfc6962#section-2), computed with
//     golang.org/x/mod/sumdb/tlog;
//   - checkpoints: C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint),
//     signed as C2SP signed-note (https://c2sp.org/signed-note) Ed25519
//     notes with golang.org/x/mod/sumdb/note;
//   - serving: C2SP tlog-tiles (https://c2sp.org/tlog-tiles): /checkpoint,
//     hash tiles /tile/<L>/<N>[.p/<W>] and entry bundles
//     /tile/entries/<N>[.p/<W>] (see package logformat).
//
// Writers never contend on the log: [Log.Append] only inserts a pending row
// in the caller's transaction. A single sequencer ([Log.Run], guarded by a
// database lease so that one node of many runs it) moves pending rows into
// the tree in batches, one transaction per batch that stores the entries,
// their hashes and the new signed checkpoint together. The entry format and
// the URLs are described in docs/audit-log.md.
package auditlog

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/veche/veche/internal/auditlog/logformat"
	"github.com/veche/veche/internal/store"
)

// Options tune a Log; the zero value is usable.
type Options struct {
	// Origin is the checkpoint's first line, the log's name. It defaults
	// to the signer's name, which is what clients expect.
	Origin string
	// Interval is how often the sequencer looks for entries appended on
	// other nodes and retries after errors (entries appended through this
	// Log wake it at once). Default 250ms; values above 1s are lowered to
	// 1s so that checkpoints stay at most about a second behind.
	Interval time.Duration
	// Holder names this node in the sequencer lease; default a random id.
	Holder string
	// Now stamps entries; default time.Now.
	Now func() time.Time
	// Logger receives sequencer errors; default slog.Default().
	Logger *slog.Logger
}

// Log is the audit log of one instance. It is safe for concurrent use.
type Log struct {
	db          *store.DB
	signer      note.Signer
	verifierKey string
	origin      string
	interval    time.Duration
	holder      string
	now         func() time.Time
	logger      *slog.Logger
	wake        chan struct{}

	mu    sync.Mutex // one sequencing pass at a time in this process
	cache frontier   // right edge of the tree after the last pass; guarded by mu

	sequenced atomic.Int64                   // entries this Log has sequenced
	onPublish func(size int64, at time.Time) // test and benchmark hook, set before Run
}

const (
	defaultInterval = 250 * time.Millisecond
	maxInterval     = time.Second
	leaseName       = "auditlog.sequencer"
	// leaseTTL is how long a crashed sequencer node blocks the others.
	leaseTTL = 3 * time.Second
	// minPassGap is the least time between the starts of two passes.
	minPassGap = 10 * time.Millisecond
	// maxBatch bounds one sequencing transaction.
	maxBatch = 8192
)

// New returns the audit log stored in db, signing checkpoints with signer.
// verifierKey is the signer's public note verifier key, served at /key.
func New(db *store.DB, signer note.Signer, verifierKey string, opts Options) *Log {
	l := &Log{
		db:          db,
		signer:      signer,
		verifierKey: verifierKey,
		origin:      opts.Origin,
		interval:    opts.Interval,
		holder:      opts.Holder,
		now:         opts.Now,
		logger:      opts.Logger,
		wake:        make(chan struct{}, 1),
	}
	if l.origin == "" {
		l.origin = signer.Name()
	}
	if l.interval <= 0 {
		l.interval = defaultInterval
	}
	if l.interval > maxInterval {
		l.interval = maxInterval
	}
	if l.holder == "" {
		l.holder = rand.Text()
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.logger == nil {
		l.logger = slog.Default()
	}
	return l
}

// GenerateKey returns a new Ed25519 signed-note key pair named origin: the
// secret signer key (keep it like a password) and the public verifier key
// that clients use to check checkpoints.
func GenerateKey(origin string) (signerKey, verifierKey string, err error) {
	return note.GenerateKey(rand.Reader, origin)
}

// Append validates e and records it in tx; it becomes part of the log only
// if tx commits, and is then sequenced within moments. A rolled-back
// transaction leaves no trace in the log.
func (l *Log) Append(ctx context.Context, tx *store.Tx, e Entry) error {
	at := e.At
	if at.IsZero() {
		at = l.now()
	}
	b, err := e.Encode(at)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO auditlog_pending (entry) VALUES (?)", b); err != nil {
		return fmt.Errorf("auditlog: append %s: %w", e.Action, err)
	}
	tx.AfterCommit(l.poke)
	return nil
}

// poke wakes the sequencer without blocking; one pending wake is enough.
func (l *Log) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Checkpoint returns the latest signed checkpoint note. Before anything has
// been sequenced it is a freshly signed checkpoint of the empty tree.
func (l *Log) Checkpoint(ctx context.Context) ([]byte, error) {
	_, n, err := l.latest(ctx)
	return n, err
}

// latest returns the published tree size and its signed note.
func (l *Log) latest(ctx context.Context) (int64, []byte, error) {
	var (
		size int64
		text string
	)
	if err := l.db.QueryRow(ctx, "SELECT size, note FROM auditlog_checkpoint WHERE id = 1").Scan(&size, &text); err != nil {
		return 0, nil, fmt.Errorf("auditlog: read checkpoint: %w", err)
	}
	if text == "" {
		n, err := l.sign(0, emptyRoot())
		return 0, n, err
	}
	return size, []byte(text), nil
}

func emptyRoot() tlog.Hash {
	h, _ := tlog.TreeHash(0, nil)
	return h
}

// sign returns the signed C2SP checkpoint note for a tree.
func (l *Log) sign(size int64, root tlog.Hash) ([]byte, error) {
	body := logformat.Checkpoint{Origin: l.origin, Size: size, Hash: root}.Marshal()
	n, err := note.Sign(&note.Note{Text: string(body)}, l.signer)
	if err != nil {
		return nil, fmt.Errorf("auditlog: sign checkpoint: %w", err)
	}
	return n, nil
}

// Run sequences entries until ctx is done, then returns nil. It wakes when
// an Append through this Log commits and every Interval, and sequences only
// while it holds the database lease, so that of several nodes one at a
// time does the work; if that node stops, another takes over after a few
// seconds. Errors are logged and retried; they do not stop Run.
func (l *Log) Run(ctx context.Context) error {
	ticker := time.NewTicker(l.interval)
	defer ticker.Stop()
	var (
		holding  bool
		renewAt  time.Time
		lastPass time.Time
	)
	defer func() {
		if holding {
			l.db.ReleaseLease(context.WithoutCancel(ctx), leaseName, l.holder)
		}
	}()
	for first := true; ; first = false {
		// The first pass runs at once, for entries left pending by a
		// previous run.
		tick := first
		if !first {
			select {
			case <-ctx.Done():
				return nil
			case <-l.wake:
			case <-ticker.C:
				tick = true
			}
		}
		if !holding && !tick {
			// Another node sequences; it will find our entries on its
			// next tick. Asking for the lease on every wake would turn
			// each append into a second write.
			continue
		}
		if now := time.Now(); !holding || now.After(renewAt) {
			ok, err := l.db.AcquireLease(ctx, leaseName, l.holder, leaseTTL)
			if err != nil {
				if ctx.Err() == nil {
					l.logger.Error("auditlog: sequencer lease", "err", err)
				}
				holding = false
				continue
			}
			holding = ok
			if !ok {
				continue
			}
			renewAt = now.Add(leaseTTL / 3)
		}
		// Under load, wakes arrive faster than passes; spacing passes a
		// little lets entries pile up into bigger batches, so that the
		// sequencer's fixed cost per pass (a write transaction and a
		// signature) does not compete with the writers it serves.
		if wait := time.Until(lastPass.Add(min(minPassGap, l.interval))); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		lastPass = time.Now()
		// A pass is not cut short by shutdown: cancelling while it commits
		// could leave the database committed and this node believing it
		// failed. It gets a bounded time of its own instead.
		passCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		_, err := l.Sequence(passCtx)
		cancel()
		if err != nil {
			l.logger.Error("auditlog: sequence", "err", err)
		}
	}
}
