package dp

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"slices"
	"time"

	"github.com/veche/veche/internal/store"
)

// Release is one charged release as the ledger records it.
type Release struct {
	// ID identifies the release across backups and restores.
	ID        string
	Dataset   string
	Mechanism string
	Cost      Cost
	Rho       *big.Rat // ρ of a zCDP release; nil for pure DP
	At        time.Time
}

// Digest is the hex SHA-256 of the release's canonical form (every field,
// exact): two records of one release agree on it, and a changed field
// changes it.
func (r Release) Digest() string {
	rho := ""
	if r.Rho != nil {
		rho = r.Rho.RatString()
	}
	b, _ := json.Marshal([]any{"veche dp release v1", r.ID, r.Dataset, r.Mechanism,
		r.Cost.Epsilon.RatString(), r.Cost.Delta.RatString(), rho, store.Micros(r.At)})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func newReleaseID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Budgets returns every dataset's stored budget, by dataset name.
func (l *Ledger) Budgets(ctx context.Context) ([]Budget, error) {
	rows, err := l.db.Query(ctx, `SELECT dataset, `+budgetColumns+` FROM dp_budgets ORDER BY dataset`)
	if err != nil {
		return nil, fmt.Errorf("dp: read budgets: %w", err)
	}
	defer rows.Close()
	return scanBudgets(rows)
}

// Releases returns every recorded release, oldest first.
func (l *Ledger) Releases(ctx context.Context) ([]Release, error) {
	rows, err := l.db.Query(ctx, `SELECT `+releaseColumns+` FROM dp_releases ORDER BY released_at, uid`)
	if err != nil {
		return nil, fmt.Errorf("dp: read releases: %w", err)
	}
	defer rows.Close()
	return scanReleases(rows)
}

const releaseColumns = "uid, dataset, mechanism, epsilon, delta, rho, released_at"

func scanBudgets(rows *sql.Rows) ([]Budget, error) {
	var out []Budget
	for rows.Next() {
		var dataset string
		b, err := scanBudget("", scanFunc(func(dest ...any) error {
			return rows.Scan(append([]any{&dataset}, dest...)...)
		}))
		if err != nil {
			return nil, err
		}
		b.Dataset = dataset
		out = append(out, b)
	}
	return out, rows.Err()
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

func scanReleases(rows *sql.Rows) ([]Release, error) {
	var out []Release
	for rows.Next() {
		var id, dataset, mech, eps, delta, rho string
		var at int64
		if err := rows.Scan(&id, &dataset, &mech, &eps, &delta, &rho, &at); err != nil {
			return nil, fmt.Errorf("dp: read releases: %w", err)
		}
		r := Release{ID: id, Dataset: dataset, Mechanism: mech, At: store.FromMicros(at)}
		var ok1, ok2 bool
		r.Cost.Epsilon, ok1 = new(big.Rat).SetString(eps)
		r.Cost.Delta, ok2 = new(big.Rat).SetString(delta)
		if rho != "" {
			var ok bool
			if r.Rho, ok = new(big.Rat).SetString(rho); !ok {
				ok1 = false
			}
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("dp: release %s of %q holds a cost that is not a rational number", id, dataset)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ErrLedgerHeld is matched (errors.Is) by a [*LedgerHeldError].
var ErrLedgerHeld = errors.New("privacy budgets are on hold after a restore")

// Hold records one restore of the database: releases made after
// KnownUntil (the backup's time) cannot be known from the backup, so
// while the hold is active no budget is spent.
type Hold struct {
	ID         int64
	PlacedAt   time.Time // when the restore ran
	KnownUntil time.Time // releases up to here are in the restored ledger
	LiftedAt   time.Time // zero while the hold is active
	LiftedBy   string    // why it was lifted
}

// Active reports whether the hold still stops releases.
func (h Hold) Active() bool { return h.LiftedAt.IsZero() }

// LedgerHeldError refuses a release while the ledger is on hold.
type LedgerHeldError struct{ Hold Hold }

func (e *LedgerHeldError) Error() string {
	known := formatTime(e.Hold.KnownUntil)
	return fmt.Sprintf("privacy budgets are on hold since the restore on %s: the restored ledger holds the releases up to %s, "+
		"the backup's time, and a release made after that would be forgotten and its budget spent twice; "+
		"restore a key backup made after %s ('veche restore keys' merges the ledger it carries), "+
		"or confirm that no release is missing ('veche restore keys --dp-ledger-complete'); nothing was released or spent",
		formatTime(e.Hold.PlacedAt), known, known)
}

// Is makes errors.Is(err, ErrLedgerHeld) true.
func (e *LedgerHeldError) Is(target error) bool { return target == ErrLedgerHeld }

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000000Z07:00") }

type rowQuerier interface {
	QueryRow(ctx context.Context, query string, args ...any) *store.Row
}

const holdColumns = "id, placed_at, known_until, lifted_at, lifted_by"

func scanHold(row interface{ Scan(...any) error }) (Hold, error) {
	var h Hold
	var placed, known int64
	var lifted sql.NullInt64
	if err := row.Scan(&h.ID, &placed, &known, &lifted, &h.LiftedBy); err != nil {
		return Hold{}, err
	}
	h.PlacedAt, h.KnownUntil = store.FromMicros(placed), store.FromMicros(known)
	if lifted.Valid {
		h.LiftedAt = store.FromMicros(lifted.Int64)
	}
	return h, nil
}

// activeHold returns the latest active hold, or nil.
func activeHold(ctx context.Context, q rowQuerier) (*Hold, error) {
	h, err := scanHold(q.QueryRow(ctx, `SELECT `+holdColumns+` FROM dp_ledger_holds WHERE lifted_at IS NULL ORDER BY id DESC LIMIT 1`))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dp: read the ledger's hold: %w", err)
	}
	return &h, nil
}

func refuseIfHeld(ctx context.Context, q rowQuerier) error {
	h, err := activeHold(ctx, q)
	if err != nil {
		return err
	}
	if h != nil {
		return &LedgerHeldError{Hold: *h}
	}
	return nil
}

// Hold returns the active hold, or nil when releases may be made.
func (l *Ledger) Hold(ctx context.Context) (*Hold, error) { return activeHold(ctx, l.db) }

// Holds returns every hold this database has had, oldest first.
func (l *Ledger) Holds(ctx context.Context) ([]Hold, error) {
	rows, err := l.db.Query(ctx, `SELECT `+holdColumns+` FROM dp_ledger_holds ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("dp: read the ledger's holds: %w", err)
	}
	defer rows.Close()
	var out []Hold
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, fmt.Errorf("dp: read the ledger's holds: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// PlaceHold records a restore in tx, the restore's own transaction: h's
// PlacedAt and KnownUntil are set, and LiftedAt and LiftedBy too when the
// operator confirmed at once that the backup misses no release. A hold
// still active from an earlier restore is lifted as replaced: the restore
// replaced the ledger it was about.
func PlaceHold(ctx context.Context, tx *store.Tx, h Hold) error {
	if h.PlacedAt.IsZero() || h.KnownUntil.IsZero() || (h.LiftedAt.IsZero() != (h.LiftedBy == "")) {
		return errors.New("dp: a hold needs the restore's time and the backup's, and a reason when lifted")
	}
	placed := store.Micros(h.PlacedAt)
	if _, err := tx.Exec(ctx, `UPDATE dp_ledger_holds SET lifted_at = ?, lifted_by = ? WHERE lifted_at IS NULL`,
		placed, "replaced by the restore on "+formatTime(h.PlacedAt)); err != nil {
		return fmt.Errorf("dp: place a hold: %w", err)
	}
	var lifted any
	if !h.LiftedAt.IsZero() {
		lifted = store.Micros(h.LiftedAt)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO dp_ledger_holds (placed_at, known_until, lifted_at, lifted_by) VALUES (?, ?, ?, ?)`,
		placed, store.Micros(h.KnownUntil), lifted, h.LiftedBy); err != nil {
		return fmt.Errorf("dp: place a hold: %w", err)
	}
	return nil
}

// Confirm lifts the active hold on the word of an operator who checked
// that no release made after the hold's KnownUntil is missing (for
// instance against the budgets printed in the published data
// dictionaries). It returns the hold it lifted, or nil if there was none.
func (l *Ledger) Confirm(ctx context.Context, by string) (*Hold, error) {
	if by == "" {
		return nil, errors.New("dp: a confirmation needs to say who or what confirmed")
	}
	var out *Hold
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		h, err := activeHold(ctx, tx)
		if err != nil || h == nil {
			return err
		}
		h.LiftedAt, h.LiftedBy = l.now().UTC(), by
		if _, err := tx.Exec(ctx, `UPDATE dp_ledger_holds SET lifted_at = ?, lifted_by = ? WHERE lifted_at IS NULL`,
			store.Micros(h.LiftedAt), by); err != nil {
			return fmt.Errorf("dp: lift the hold: %w", err)
		}
		out = h
		return nil
	})
	return out, err
}

// ledgerFormat is the first line of a ledger export.
const ledgerFormat = "veche dp ledger v1"

// ErrInvalidLedger is wrapped by every error about a ledger export that
// cannot be trusted: malformed, inconsistent, or altered.
var ErrInvalidLedger = errors.New("invalid privacy-budget ledger")

// ErrLedgerConflict is wrapped when a ledger export and the database
// record one release (the same ID) differently.
var ErrLedgerConflict = errors.New("privacy-budget ledgers disagree")

// Snapshot is a ledger export read back: every budget and release it
// records, and the time up to which it knows every release.
type Snapshot struct {
	// CompleteUntil is when the export was made, or, if the exporting
	// database was itself on hold after a restore, the KnownUntil of
	// that hold: releases after it may be missing.
	CompleteUntil time.Time
	Budgets       []Budget
	Releases      []Release
}

// ledgerLine is one line of a ledger export: the header, a budget or a
// release.
type ledgerLine struct {
	Format        string        `json:"format,omitempty"`
	CompleteUntil int64         `json:"complete_until,omitempty"`
	Budget        *budgetEntry  `json:"budget,omitempty"`
	Release       *releaseEntry `json:"release,omitempty"`
}

type budgetEntry struct {
	Dataset      string `json:"dataset"`
	EpsilonTotal string `json:"epsilon_total"`
	DeltaTotal   string `json:"delta_total"`
	EpsilonSpent string `json:"epsilon_spent"`
	DeltaSpent   string `json:"delta_spent"`
	Releases     int64  `json:"releases"`
	CreatedAt    int64  `json:"created_at"`
	UpdatedAt    int64  `json:"updated_at"`
}

type releaseEntry struct {
	ID         string `json:"id"`
	Dataset    string `json:"dataset"`
	Mechanism  string `json:"mechanism"`
	Epsilon    string `json:"epsilon"`
	Delta      string `json:"delta"`
	Rho        string `json:"rho,omitempty"`
	ReleasedAt int64  `json:"released_at"`
	Digest     string `json:"digest"`
}

// Export writes the whole ledger to w as JSON lines — a header with the
// time up to which it is complete, every budget, every release with its
// [Release.Digest] — read in one read-only snapshot. at is the moment
// just before the snapshot (the key backup's time); the export is
// complete up to at, or only up to the active hold's KnownUntil if the
// database is on hold.
func (l *Ledger) Export(ctx context.Context, w io.Writer, at time.Time) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if l.db.Dialect() == store.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := l.db.SQL().BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("dp: export the ledger: %w", err)
	}
	defer tx.Rollback()
	complete := at
	var known sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MIN(known_until) FROM dp_ledger_holds WHERE lifted_at IS NULL`).Scan(&known); err != nil {
		return fmt.Errorf("dp: export the ledger: %w", err)
	}
	if known.Valid && store.FromMicros(known.Int64).Before(complete) {
		complete = store.FromMicros(known.Int64)
	}
	rows, err := tx.QueryContext(ctx, `SELECT dataset, `+budgetColumns+` FROM dp_budgets ORDER BY dataset`)
	if err != nil {
		return fmt.Errorf("dp: export the ledger: %w", err)
	}
	budgets, err := scanBudgets(rows)
	rows.Close()
	if err != nil {
		return fmt.Errorf("dp: export the ledger: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT `+releaseColumns+` FROM dp_releases ORDER BY released_at, uid`)
	if err != nil {
		return fmt.Errorf("dp: export the ledger: %w", err)
	}
	releases, err := scanReleases(rows)
	rows.Close()
	if err != nil {
		return fmt.Errorf("dp: export the ledger: %w", err)
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(ledgerLine{Format: ledgerFormat, CompleteUntil: store.Micros(complete)}); err != nil {
		return err
	}
	for _, b := range budgets {
		if err := enc.Encode(ledgerLine{Budget: &budgetEntry{
			Dataset: b.Dataset, EpsilonTotal: b.Total.Epsilon.RatString(), DeltaTotal: b.Total.Delta.RatString(),
			EpsilonSpent: b.Spent.Epsilon.RatString(), DeltaSpent: b.Spent.Delta.RatString(),
			Releases: b.Releases, CreatedAt: store.Micros(b.Created), UpdatedAt: store.Micros(b.Updated),
		}}); err != nil {
			return err
		}
	}
	for _, r := range releases {
		e := &releaseEntry{ID: r.ID, Dataset: r.Dataset, Mechanism: r.Mechanism, Epsilon: r.Cost.Epsilon.RatString(),
			Delta: r.Cost.Delta.RatString(), ReleasedAt: store.Micros(r.At), Digest: r.Digest()}
		if r.Rho != nil {
			e.Rho = r.Rho.RatString()
		}
		if err := enc.Encode(ledgerLine{Release: e}); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return tx.Commit()
}

var (
	// ratRE is what RatString writes for a non-negative number; bounded so
	// that no line can make math/big work hard.
	ratRE       = regexp.MustCompile(`^(0|[1-9][0-9]{0,99})(/[1-9][0-9]{0,99})?$`)
	releaseIDRE = regexp.MustCompile(`^[0-9a-z-]{1,64}$`)
	mechanismRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	digestRE    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ReadLedger reads an export written by [Ledger.Export] and checks all of
// it: the form of every line, each release's digest against its fields,
// one budget per dataset and one record per release, and that no budget
// says less was spent than its releases add up to. Any fault returns an
// error wrapping [ErrInvalidLedger], naming the line.
func ReadLedger(r io.Reader) (*Snapshot, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	dec.DisallowUnknownFields()
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("%w: line %d: %s", ErrInvalidLedger, line, fmt.Sprintf(format, args...))
	}
	var head ledgerLine
	if err := dec.Decode(&head); err != nil || head.Format != ledgerFormat || head.Budget != nil || head.Release != nil || head.CompleteUntil <= 0 {
		return nil, fmt.Errorf("%w: not a veche privacy-budget ledger (want first line {\"format\":%q,\"complete_until\":…})", ErrInvalidLedger, ledgerFormat)
	}
	s := &Snapshot{CompleteUntil: store.FromMicros(head.CompleteUntil)}
	budgetLine := map[string]int{}
	seen := map[string]bool{}
	type sums struct {
		eps, delta *big.Rat
		n          int64
	}
	spent := map[string]*sums{}
	for n := 2; ; n++ {
		var l ledgerLine
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bad(n, "%v", err)
		}
		if l.Format != "" || l.CompleteUntil != 0 || (l.Budget == nil) == (l.Release == nil) {
			return nil, bad(n, "want exactly one budget or release")
		}
		if b := l.Budget; b != nil {
			if !validDataset(b.Dataset) {
				return nil, bad(n, "budget of dataset %q: not a dataset name", b.Dataset)
			}
			if _, dup := budgetLine[b.Dataset]; dup {
				return nil, bad(n, "a second budget of dataset %q", b.Dataset)
			}
			vals, ok := parseRats(b.EpsilonTotal, b.DeltaTotal, b.EpsilonSpent, b.DeltaSpent)
			if !ok || vals[1].Cmp(big.NewRat(1, 1)) >= 0 || b.Releases < 0 || b.CreatedAt <= 0 || b.UpdatedAt < b.CreatedAt {
				return nil, bad(n, "budget of dataset %q: amounts or times out of range", b.Dataset)
			}
			budgetLine[b.Dataset] = n
			s.Budgets = append(s.Budgets, Budget{Dataset: b.Dataset,
				Total: Cost{Epsilon: vals[0], Delta: vals[1]}, Spent: Cost{Epsilon: vals[2], Delta: vals[3]},
				Releases: b.Releases, Created: store.FromMicros(b.CreatedAt), Updated: store.FromMicros(b.UpdatedAt)})
			continue
		}
		e := l.Release
		if !releaseIDRE.MatchString(e.ID) || seen[e.ID] {
			return nil, bad(n, "release %q: missing, malformed or repeated id", e.ID)
		}
		seen[e.ID] = true
		if !validDataset(e.Dataset) || (e.Mechanism != "" && !mechanismRE.MatchString(e.Mechanism)) || e.ReleasedAt <= 0 || !digestRE.MatchString(e.Digest) {
			return nil, bad(n, "release %s: dataset, mechanism, time or digest malformed", e.ID)
		}
		vals, ok := parseRats(e.Epsilon, e.Delta)
		if !ok {
			return nil, bad(n, "release %s: ε or δ is not a non-negative rational", e.ID)
		}
		rel := Release{ID: e.ID, Dataset: e.Dataset, Mechanism: e.Mechanism, Cost: Cost{Epsilon: vals[0], Delta: vals[1]}, At: store.FromMicros(e.ReleasedAt)}
		if e.Rho != "" {
			rho, ok := parseRats(e.Rho)
			if !ok || rho[0].Sign() == 0 {
				return nil, bad(n, "release %s: ρ is not a positive rational", e.ID)
			}
			rel.Rho = rho[0]
		}
		if rel.Digest() != e.Digest {
			return nil, bad(n, "release %s: its digest does not match its fields (the ledger was altered)", e.ID)
		}
		sm := spent[e.Dataset]
		if sm == nil {
			sm = &sums{eps: new(big.Rat), delta: new(big.Rat)}
			spent[e.Dataset] = sm
		}
		sm.eps.Add(sm.eps, rel.Cost.Epsilon)
		sm.delta.Add(sm.delta, rel.Cost.Delta)
		sm.n++
		s.Releases = append(s.Releases, rel)
	}
	for dataset := range spent {
		if _, ok := budgetLine[dataset]; !ok {
			return nil, fmt.Errorf("%w: releases of dataset %q but no budget for it", ErrInvalidLedger, dataset)
		}
	}
	for _, b := range s.Budgets {
		sm := spent[b.Dataset]
		if sm == nil {
			sm = &sums{eps: new(big.Rat), delta: new(big.Rat)}
		}
		if b.Spent.Epsilon.Cmp(sm.eps) < 0 || b.Spent.Delta.Cmp(sm.delta) < 0 || b.Releases < sm.n {
			return nil, fmt.Errorf("%w: line %d: budget of dataset %q says %s spent in %d releases, but its releases add up to %s in %d (the ledger was altered)",
				ErrInvalidLedger, budgetLine[b.Dataset], b.Dataset, b.Spent, b.Releases, Cost{Epsilon: sm.eps, Delta: sm.delta}, sm.n)
		}
	}
	return s, nil
}

func validDataset(name string) bool {
	if name == "" || len(name) > 200 {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// parseRats parses non-negative rationals in RatString form.
func parseRats(ss ...string) ([]*big.Rat, bool) {
	out := make([]*big.Rat, len(ss))
	for i, s := range ss {
		if !ratRE.MatchString(s) {
			return nil, false
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return nil, false
		}
		out[i] = r
	}
	return out, true
}

// MergeResult says what [Ledger.Merge] changed.
type MergeResult struct {
	// Added counts the releases the database did not know of.
	Added int
	// Lifted is the hold the merge lifted, nil if none.
	Lifted *Hold
	// Held is the hold still active after the merge, nil if none.
	Held *Hold
}

// Merge brings the releases of s into the database, in one transaction,
// so that no release is forgotten: releases are united by their ID, a
// budget missing from the database is created with the snapshot's total,
// and a budget in both keeps the smaller total. Each budget of s is then
// spent at least as much as the sum of its releases, as the database
// said and as s said — never less than before. A release recorded
// differently in both (the same ID, another digest) stops the merge with
// an error wrapping [ErrLedgerConflict], and nothing changes.
//
// If the database is on hold after a restore and s is complete up to a
// time after the hold's KnownUntil — the key backup was made after the
// data backup, on an instance not itself on hold — the hold is lifted:
// every release up to s.CompleteUntil is now known. (A release made after
// the key backup is in neither; the backup schedule keeps that gap short,
// see docs/backup.md.)
func (l *Ledger) Merge(ctx context.Context, s *Snapshot) (MergeResult, error) {
	var res MergeResult
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		res = MergeResult{}
		rows, err := tx.Query(ctx, `SELECT `+releaseColumns+` FROM dp_releases`)
		if err != nil {
			return fmt.Errorf("dp: merge the ledger: %w", err)
		}
		have, err := scanReleases(rows)
		rows.Close()
		if err != nil {
			return err
		}
		byID := map[string]Release{}
		for _, r := range have {
			byID[r.ID] = r
		}
		var add []Release
		for _, r := range s.Releases {
			old, ok := byID[r.ID]
			if !ok {
				add = append(add, r)
				continue
			}
			if old.Digest() != r.Digest() {
				return fmt.Errorf("%w: release %s is recorded as %s of dataset %q at %s in this database and as %s of dataset %q at %s in the ledger being merged; nothing was merged",
					ErrLedgerConflict, r.ID, old.Cost, old.Dataset, formatTime(old.At), r.Cost, r.Dataset, formatTime(r.At))
			}
		}
		lock := ""
		if tx.Dialect() == store.Postgres {
			lock = " FOR UPDATE"
		}
		before := map[string]Budget{}
		for _, b := range s.Budgets {
			old, err := scanBudget(b.Dataset, tx.QueryRow(ctx, `SELECT `+budgetColumns+` FROM dp_budgets WHERE dataset = ?`+lock, b.Dataset))
			switch {
			case errors.Is(err, store.ErrNotFound):
				if _, err := tx.Exec(ctx, `INSERT INTO dp_budgets (dataset, epsilon_total, epsilon_spent, delta_total, delta_spent, releases, created_at, updated_at)
					VALUES (?, ?, '0', ?, '0', 0, ?, ?)`, b.Dataset, b.Total.Epsilon.RatString(), b.Total.Delta.RatString(),
					store.Micros(b.Created), store.Micros(b.Created)); err != nil {
					return fmt.Errorf("dp: merge the budget of %q: %w", b.Dataset, err)
				}
				before[b.Dataset] = Budget{Dataset: b.Dataset, Total: b.Total, Spent: zeroCost(), Created: b.Created, Updated: b.Created}
			case err != nil:
				return err
			default:
				before[b.Dataset] = old
			}
		}
		for _, r := range add {
			rho := ""
			if r.Rho != nil {
				rho = r.Rho.RatString()
			}
			if _, err := tx.Exec(ctx, `INSERT INTO dp_releases (uid, dataset, mechanism, epsilon, delta, rho, released_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				r.ID, r.Dataset, r.Mechanism, r.Cost.Epsilon.RatString(), r.Cost.Delta.RatString(), rho, store.Micros(r.At)); err != nil {
				return fmt.Errorf("dp: merge release %s of %q: %w", r.ID, r.Dataset, err)
			}
		}
		res.Added = len(add)
		for _, b := range s.Budgets {
			old := before[b.Dataset]
			sumEps, sumDelta := new(big.Rat), new(big.Rat)
			var n int64
			rows, err := tx.Query(ctx, `SELECT `+releaseColumns+` FROM dp_releases WHERE dataset = ?`, b.Dataset)
			if err != nil {
				return fmt.Errorf("dp: merge the budget of %q: %w", b.Dataset, err)
			}
			rs, err := scanReleases(rows)
			rows.Close()
			if err != nil {
				return err
			}
			for _, r := range rs {
				sumEps.Add(sumEps, r.Cost.Epsilon)
				sumDelta.Add(sumDelta, r.Cost.Delta)
				n++
			}
			spentEps := maxRat(sumEps, old.Spent.Epsilon, b.Spent.Epsilon)
			spentDelta := maxRat(sumDelta, old.Spent.Delta, b.Spent.Delta)
			totalEps := minRat(old.Total.Epsilon, b.Total.Epsilon)
			totalDelta := minRat(old.Total.Delta, b.Total.Delta)
			releases := max(n, old.Releases, b.Releases)
			updated := old.Updated
			if b.Updated.After(updated) {
				updated = b.Updated
			}
			if _, err := tx.Exec(ctx, `UPDATE dp_budgets SET epsilon_total = ?, delta_total = ?, epsilon_spent = ?, delta_spent = ?, releases = ?, updated_at = ? WHERE dataset = ?`,
				totalEps.RatString(), totalDelta.RatString(), spentEps.RatString(), spentDelta.RatString(), releases, store.Micros(updated), b.Dataset); err != nil {
				return fmt.Errorf("dp: merge the budget of %q: %w", b.Dataset, err)
			}
		}
		h, err := activeHold(ctx, tx)
		if err != nil {
			return err
		}
		if h != nil && s.CompleteUntil.After(h.KnownUntil) {
			h.LiftedAt = l.now().UTC()
			h.LiftedBy = "merged a ledger complete up to " + formatTime(s.CompleteUntil)
			if _, err := tx.Exec(ctx, `UPDATE dp_ledger_holds SET lifted_at = ?, lifted_by = ? WHERE id = ?`,
				store.Micros(h.LiftedAt), h.LiftedBy, h.ID); err != nil {
				return fmt.Errorf("dp: lift the hold: %w", err)
			}
			res.Lifted = h
			return nil
		}
		res.Held = h
		return nil
	})
	if err != nil {
		return MergeResult{}, err
	}
	return res, nil
}

func maxRat(rs ...*big.Rat) *big.Rat {
	return new(big.Rat).Set(slices.MaxFunc(rs, func(a, b *big.Rat) int { return a.Cmp(b) }))
}

func minRat(rs ...*big.Rat) *big.Rat {
	return new(big.Rat).Set(slices.MinFunc(rs, func(a, b *big.Rat) int { return a.Cmp(b) }))
}
