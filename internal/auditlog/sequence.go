package auditlog

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/veche/veche/internal/auditlog/logformat"
	"github.com/veche/veche/internal/store"
)

// Sequence moves every pending entry into the tree, in batches of at most
// maxBatch entries, one transaction each: it assigns consecutive indexes in
// pending-id order, stores the entries and their RFC 6962 hashes, deletes
// the pending rows and stores the newly signed checkpoint, all together. It
// reports how many entries it sequenced. Run calls it; tests and benchmarks
// may call it directly. Concurrent calls, here or on other nodes, are safe
// (the checkpoint row is locked and log indexes are primary keys) but only
// one makes progress at a time.
func (l *Log) Sequence(ctx context.Context) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	total := 0
	for {
		n, err := l.sequenceBatch(ctx)
		total += n
		if err != nil || n < maxBatch {
			return total, err
		}
	}
}

// frontier is the right edge of the tree of a given size: the roots of its
// maximal complete subtrees. Those are the only stored hashes that appending
// to the tree and computing its root need, so keeping them in memory saves
// every database read while this node holds the sequencer lease.
type frontier struct {
	size   int64
	hashes map[int64]tlog.Hash // by stored-hash index; nil = unknown
}

func (l *Log) sequenceBatch(ctx context.Context) (int, error) {
	var (
		n       int
		newSize int64
		next    frontier
	)
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		// Locking the checkpoint row orders sequencers on PostgreSQL; on
		// SQLite the transaction already holds the write lock.
		q := "SELECT size FROM auditlog_checkpoint WHERE id = 1"
		if tx.Dialect() == store.Postgres {
			q += " FOR UPDATE"
		}
		var size int64
		if err := tx.QueryRow(ctx, q).Scan(&size); err != nil {
			return fmt.Errorf("read tree size: %w", err)
		}
		ids, entries, err := readPending(ctx, tx)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return nil
		}

		r := &batchReader{ctx: ctx, tx: tx, base: tlog.StoredHashIndex(0, size), known: map[int64]tlog.Hash{}}
		if l.cache.hashes != nil && l.cache.size == size {
			r.known = l.cache.hashes
		}
		r.batch = make([]tlog.Hash, 0, 2*len(entries)+8)
		for i, e := range entries {
			hs, err := tlog.StoredHashesForRecordHash(size+int64(i), tlog.RecordHash(e), r)
			if err != nil {
				return fmt.Errorf("hash entry %d: %w", size+int64(i), err)
			}
			r.batch = append(r.batch, hs...)
		}
		newSize = size + int64(len(entries))
		root, err := tlog.TreeHash(newSize, r)
		if err != nil {
			return fmt.Errorf("tree hash at size %d: %w", newSize, err)
		}
		signed, err := l.sign(newSize, root)
		if err != nil {
			return err
		}

		if err := l.store(ctx, tx, size, entries, r.base, r.batch, ids, newSize, signed); err != nil {
			return err
		}

		next = frontier{size: newSize, hashes: make(map[int64]tlog.Hash, 64)}
		fi := logformat.RightEdge(newSize)
		hs, err := r.ReadHashes(fi)
		if err != nil {
			return err
		}
		for i, x := range fi {
			next.hashes[x] = hs[i]
		}
		n = len(entries)
		return nil
	})
	if err != nil {
		l.cache = frontier{}
		return 0, fmt.Errorf("auditlog: sequence: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	l.cache = next
	l.sequenced.Add(int64(n))
	if l.onPublish != nil {
		l.onPublish(newSize, time.Now())
	}
	return n, nil
}

// store writes a pass's results: the entries from index size on, the
// hashes from stored-hash index base on, the deletion of the pending rows
// and the new checkpoint.
func (l *Log) store(ctx context.Context, tx *store.Tx, size int64, entries [][]byte, base int64, hashes []tlog.Hash, ids []int64, newSize int64, signed []byte) error {
	signedAt := store.Micros(l.now())
	if tx.Dialect() == store.Postgres {
		// One statement with array parameters instead of chunked
		// multi-row INSERTs: a pass costs one round trip whatever its
		// size, and no parsing of thousands of placeholders. Under load
		// this halved commit-to-checkpoint latency in BenchmarkAppend
		// (docs/audit-log.md), because every round trip of the sequencer
		// waits for CPU behind the writers' backends.
		idx := make([]int64, len(entries))
		for i := range idx {
			idx[i] = size + int64(i)
		}
		hidx := make([]int64, len(hashes))
		hb := make([][]byte, len(hashes))
		for i := range hashes {
			hidx[i] = base + int64(i)
			hb[i] = hashes[i][:]
		}
		_, err := tx.Exec(ctx, `WITH e AS (INSERT INTO auditlog_entries (idx, entry) SELECT * FROM unnest(?::bigint[], ?::bytea[])),
			h AS (INSERT INTO auditlog_hashes (id, hash) SELECT * FROM unnest(?::bigint[], ?::bytea[])),
			d AS (DELETE FROM auditlog_pending WHERE id = ANY (?::bigint[]))
			UPDATE auditlog_checkpoint SET size = ?, note = ?, signed_at = ? WHERE id = 1`,
			idx, entries, hidx, hb, ids, newSize, string(signed), signedAt)
		if err != nil {
			return fmt.Errorf("store batch: %w", err)
		}
		return nil
	}
	if err := insertRows(ctx, tx, "INSERT INTO auditlog_entries (idx, entry) VALUES ", len(entries), func(i int) (any, any) {
		return size + int64(i), entries[i]
	}); err != nil {
		return fmt.Errorf("store entries: %w", err)
	}
	if err := insertRows(ctx, tx, "INSERT INTO auditlog_hashes (id, hash) VALUES ", len(hashes), func(i int) (any, any) {
		return base + int64(i), hashes[i][:]
	}); err != nil {
		return fmt.Errorf("store hashes: %w", err)
	}
	if err := deletePending(ctx, tx, ids); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE auditlog_checkpoint SET size = ?, note = ?, signed_at = ? WHERE id = 1",
		newSize, string(signed), signedAt); err != nil {
		return fmt.Errorf("store checkpoint: %w", err)
	}
	return nil
}

// readPending returns up to maxBatch pending entries in id order. On
// PostgreSQL ids can commit out of order, so a lower id may appear after a
// higher one was sequenced; it is simply sequenced in a later batch.
func readPending(ctx context.Context, tx *store.Tx) ([]int64, [][]byte, error) {
	rows, err := tx.Query(ctx, "SELECT id, entry FROM auditlog_pending ORDER BY id LIMIT ?", maxBatch)
	if err != nil {
		return nil, nil, fmt.Errorf("read pending: %w", err)
	}
	defer rows.Close()
	var (
		ids     []int64
		entries [][]byte
	)
	for rows.Next() {
		var (
			id int64
			e  []byte
		)
		if err := rows.Scan(&id, &e); err != nil {
			return nil, nil, fmt.Errorf("read pending: %w", err)
		}
		ids = append(ids, id)
		entries = append(entries, e)
	}
	return ids, entries, rows.Err()
}

// deletePending deletes exactly the sequenced pending rows: a range when
// they are contiguous (then every id in it is ours), else by list.
func deletePending(ctx context.Context, tx *store.Tx, ids []int64) error {
	if ids[len(ids)-1]-ids[0] == int64(len(ids)-1) {
		_, err := tx.Exec(ctx, "DELETE FROM auditlog_pending WHERE id BETWEEN ? AND ?", ids[0], ids[len(ids)-1])
		return err
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), rowsPerStatement)]
		ids = ids[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		q := "DELETE FROM auditlog_pending WHERE id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + ")"
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("delete pending: %w", err)
		}
	}
	return nil
}

// rowsPerStatement keeps multi-row statements well under PostgreSQL's
// 65535 bind parameters and SQLite's 32766 variables.
const rowsPerStatement = 1000

// insertRows inserts n two-column rows with multi-row INSERT statements.
func insertRows(ctx context.Context, tx *store.Tx, prefix string, n int, row func(i int) (any, any)) error {
	var full string
	for start := 0; start < n; start += rowsPerStatement {
		k := min(n-start, rowsPerStatement)
		var q string
		if k == rowsPerStatement && full != "" {
			q = full
		} else {
			q = prefix + strings.TrimSuffix(strings.Repeat("(?, ?),", k), ",")
			if k == rowsPerStatement {
				full = q
			}
		}
		args := make([]any, 0, 2*k)
		for i := start; i < start+k; i++ {
			a, b := row(i)
			args = append(args, a, b)
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// batchReader is the tlog.HashReader of a sequencing pass: hashes made in
// this batch, then the known right edge, then the database.
type batchReader struct {
	ctx   context.Context
	tx    *store.Tx
	base  int64       // stored-hash index of batch[0]
	batch []tlog.Hash // hashes stored by this pass, in index order
	known map[int64]tlog.Hash
}

func (r *batchReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for i, x := range indexes {
		switch {
		case x >= r.base:
			if x-r.base >= int64(len(r.batch)) {
				return nil, fmt.Errorf("hash %d is not stored yet", x)
			}
			out[i] = r.batch[x-r.base]
		default:
			if h, ok := r.known[x]; ok {
				out[i] = h
			} else {
				missing = append(missing, x)
			}
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	got, err := readHashes(r.ctx, r.tx, missing)
	if err != nil {
		return nil, err
	}
	for i, x := range indexes {
		if h, ok := got[x]; ok {
			out[i] = h
			r.known[x] = h
		}
	}
	return out, nil
}

// querier is what store.DB and store.Tx have in common for reading.
type querier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readHashes reads stored hashes by index in one query and fails if any
// is missing.
func readHashes(ctx context.Context, q querier, indexes []int64) (map[int64]tlog.Hash, error) {
	lo, hi := slices.Min(indexes), slices.Max(indexes)
	var (
		rows *sql.Rows
		err  error
	)
	if hi-lo < 4*int64(len(indexes)) {
		// A level-0 tile's hashes lie in a short range of stored indexes
		// (interleaved with the higher levels); one range scan beats a
		// long IN list.
		rows, err = q.Query(ctx, "SELECT id, hash FROM auditlog_hashes WHERE id BETWEEN ? AND ?", lo, hi)
	} else {
		args := make([]any, len(indexes))
		for i, x := range indexes {
			args[i] = x
		}
		rows, err = q.Query(ctx, "SELECT id, hash FROM auditlog_hashes WHERE id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(indexes)), ",")+")", args...)
	}
	if err != nil {
		return nil, fmt.Errorf("read hashes: %w", err)
	}
	defer rows.Close()
	got := make(map[int64]tlog.Hash, len(indexes))
	for rows.Next() {
		var (
			id int64
			b  []byte
		)
		if err := rows.Scan(&id, &b); err != nil {
			return nil, fmt.Errorf("read hashes: %w", err)
		}
		if len(b) != tlog.HashSize {
			return nil, fmt.Errorf("stored hash %d has %d bytes", id, len(b))
		}
		got[id] = tlog.Hash(b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read hashes: %w", err)
	}
	for _, x := range indexes {
		if _, ok := got[x]; !ok {
			return nil, fmt.Errorf("stored hash %d is missing", x)
		}
	}
	return got, nil
}

// dbReader reads stored hashes straight from the database, one query per
// ReadHashes call (tlog.ReadTileData makes one call per tile).
type dbReader struct {
	ctx context.Context
	db  *store.DB
}

func (r dbReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	got, err := readHashes(r.ctx, r.db, indexes)
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = got[x]
	}
	return out, nil
}
