package election

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/record"
)

// ErrRecordNotReady refuses the record of an election whose result is
// not published yet, or whose last entries the log has not placed yet
// (the sequencer does within about a second).
var ErrRecordNotReady = errors.New("election: the election record is not complete yet")

// logScanChunk is how many log entries one search reads at a time.
const logScanChunk = 10000

// scanLog reads the audit log from where the last search stopped: the
// index of each cast of the election, and the span from the election's
// first entry to past its last.
func (s *Service) scanLog(ctx context.Context, e *Election) error {
	var size int64
	if err := s.db().QueryRow(ctx, "SELECT size FROM auditlog_checkpoint WHERE id = 1").Scan(&size); err != nil {
		return err
	}
	from := e.logScanned
	for from < size {
		to := min(size, from+logScanChunk)
		casts := map[string]int64{}
		first, end := int64(-1), int64(-1)
		rows, err := s.db().Query(ctx, "SELECT idx, entry FROM auditlog_entries WHERE idx >= ? AND idx < ? ORDER BY idx", from, to)
		if err != nil {
			return err
		}
		for rows.Next() {
			var idx int64
			var entry []byte
			if err := rows.Scan(&idx, &entry); err != nil {
				rows.Close()
				return err
			}
			rec, err := auditlog.ParseRecord(entry)
			if err != nil || rec.Detail[record.DetailElection] != e.ManifestID || !strings.HasPrefix(rec.Action, "election.") {
				continue
			}
			if first < 0 {
				first = idx
			}
			end = idx + 1
			if rec.Action == record.CastAction {
				casts[rec.Detail[record.DetailBallot]] = idx
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		err = s.db().InTx(ctx, func(tx *store.Tx) error {
			for hash, idx := range casts {
				if _, err := tx.Exec(ctx, "UPDATE election_ballots SET log_index = ? WHERE election_id = ? AND ballot_hash = ?", idx, e.ID, hash); err != nil {
					return err
				}
			}
			if first >= 0 {
				if _, err := tx.Exec(ctx, "UPDATE elections SET log_first = ? WHERE id = ? AND log_first IS NULL", first, e.ID); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "UPDATE elections SET log_end = ? WHERE id = ?", end, e.ID); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, "UPDATE elections SET log_scanned = ? WHERE id = ? AND log_scanned < ?", to, e.ID, to)
			return err
		})
		if err != nil {
			return err
		}
		from = to
	}
	return nil
}

// ResolveLogIndexes finds the audit-log index of every cast of the
// election that the log's sequencer has placed since the last search.
func (s *Service) ResolveLogIndexes(ctx context.Context, id int64) error {
	e, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	return s.scanLog(ctx, e)
}

// WriteRecord writes the election record of a published election as a
// zip archive (package record's layout and writer, which `veche
// verify-election` reads). logKey is the audit log's signed-note verifier
// key, published in the record beside the log's latest checkpoint, the
// entries of the election's span of the log and the hashes that tie them
// to it.
func (s *Service) WriteRecord(ctx context.Context, id int64, logKey string, w io.Writer) error {
	r, err := s.Record(ctx, id, logKey)
	if err != nil {
		return err
	}
	return record.WriteZip(w, r)
}

// Record assembles the record of a published election; its streams read
// the database as they are iterated.
func (s *Service) Record(ctx context.Context, id int64, logKey string) (*record.Record, error) {
	e, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.stored != Published {
		return nil, fmt.Errorf("%w: it is published with the result", ErrRecordNotReady)
	}
	if err := s.scanLog(ctx, e); err != nil {
		return nil, err
	}
	var first, end sql.NullInt64
	var size int64
	var note string
	if err := s.db().QueryRow(ctx, "SELECT e.log_first, e.log_end, c.size, c.note FROM elections e, auditlog_checkpoint c WHERE e.id = ? AND c.id = 1", id).
		Scan(&first, &end, &size, &note); err != nil {
		return nil, err
	}
	var pending int
	if err := s.db().QueryRow(ctx, "SELECT COUNT(*) FROM election_ballots WHERE election_id = ? AND log_index IS NULL", id).Scan(&pending); err != nil {
		return nil, err
	}
	var published bool
	if end.Valid {
		// The result's entry is the election's last.
		var entry []byte
		if err := s.db().QueryRow(ctx, "SELECT entry FROM auditlog_entries WHERE idx = ?", end.Int64-1).Scan(&entry); err == nil {
			rec, err := auditlog.ParseRecord(entry)
			published = err == nil && rec.Action == "election.results_published"
		}
	}
	if pending > 0 || !first.Valid || !published || end.Int64 > size {
		return nil, fmt.Errorf("%w: the audit log has not placed the election's last entries yet; try again in a moment", ErrRecordNotReady)
	}
	cer, _ := e.Ceremony()
	msgs, err := s.messages(ctx, s.db(), id)
	if err != nil {
		return nil, err
	}
	var public []Message
	for _, m := range msgs {
		if m.Kind != KindShare {
			public = append(public, m)
		}
	}
	cr, err := buildRecord(cer, public)
	if err != nil {
		return nil, err
	}
	r := &record.Record{Manifest: e.Manifest, JointKey: e.JointKey, Ceremony: cr}
	if r.Tally, err = voting.ParseEncryptedTally(e.TallyJSON); err != nil {
		return nil, err
	}
	if r.Result, err = voting.ParseResult(e.ResultJSON); err != nil {
		return nil, err
	}
	ds, err := s.Decryptions(ctx, id)
	if err != nil {
		return nil, err
	}
	for t := uint32(1); t <= uint32(len(e.Trustees)); t++ {
		if b, ok := ds[t]; ok {
			p, err := voting.ParsePartialDecryption(b)
			if err != nil {
				return nil, err
			}
			r.Decryptions = append(r.Decryptions, p)
		}
	}
	rows, err := s.db().Query(ctx, "SELECT counted FROM election_ballots WHERE election_id = ? ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	r.Counted = []int64{}
	for pos := int64(0); rows.Next(); pos++ {
		var counted bool
		if err := rows.Scan(&counted); err != nil {
			rows.Close()
			return nil, err
		}
		if counted {
			r.Counted = append(r.Counted, pos)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	r.Credentials = s.credentialStream(ctx, id)
	r.Ballots = s.ballotStream(ctx, id)
	r.Log = record.LogEvidence{Key: logKey, Checkpoint: []byte(note), First: first.Int64, Entries: s.entryStream(ctx, first.Int64, end.Int64)}
	if r.Log.Hashes, err = record.RangeProof(hashReader{ctx, s.db()}, size, first.Int64, end.Int64); err != nil {
		return nil, err
	}
	return r, nil
}

// rowStream yields each row of a query, scanned by scan.
func rowStream[T any](ctx context.Context, db *store.DB, query string, args []any, scan func(*sql.Rows) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rows, err := db.Query(ctx, query, args...)
		if err != nil {
			yield(zero, err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if !yield(v, err) || err != nil {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(zero, err)
		}
	}
}

func (s *Service) credentialStream(ctx context.Context, id int64) iter.Seq2[*voting.PublicCredential, error] {
	return rowStream(ctx, s.db(), "SELECT credential FROM election_credentials WHERE election_id = ? ORDER BY position", []any{id},
		func(rows *sql.Rows) (*voting.PublicCredential, error) {
			var c string
			if err := rows.Scan(&c); err != nil {
				return nil, err
			}
			pc := new(voting.PublicCredential)
			return pc, pc.UnmarshalText([]byte(c))
		})
}

func (s *Service) ballotStream(ctx context.Context, id int64) iter.Seq2[*record.Cast, error] {
	return rowStream(ctx, s.db(), "SELECT ballot, log_index FROM election_ballots WHERE election_id = ? ORDER BY id", []any{id},
		func(rows *sql.Rows) (*record.Cast, error) {
			var body string
			var idx int64
			if err := rows.Scan(&body, &idx); err != nil {
				return nil, err
			}
			b, err := voting.ParseBallot([]byte(body))
			if err != nil {
				return nil, err
			}
			return &record.Cast{Ballot: b, LogIndex: idx}, nil
		})
}

func (s *Service) entryStream(ctx context.Context, first, end int64) iter.Seq2[[]byte, error] {
	return rowStream(ctx, s.db(), "SELECT entry FROM auditlog_entries WHERE idx >= ? AND idx < ? ORDER BY idx", []any{first, end},
		func(rows *sql.Rows) ([]byte, error) {
			var b []byte
			err := rows.Scan(&b)
			return b, err
		})
}

// hashReader reads the log's stored hashes (package auditlog's table, in
// tlog's numbering) for the record's range proof.
type hashReader struct {
	ctx context.Context
	db  *store.DB
}

func (h hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for start := 0; start < len(indexes); start += 500 {
		chunk := indexes[start:min(start+500, len(indexes))]
		args := make([]any, len(chunk))
		for i, x := range chunk {
			args[i] = x
		}
		rows, err := h.db.Query(h.ctx, "SELECT id, hash FROM auditlog_hashes WHERE id IN (?"+strings.Repeat(", ?", len(chunk)-1)+")", args...)
		if err != nil {
			return nil, err
		}
		found := map[int64]tlog.Hash{}
		for rows.Next() {
			var id int64
			var b []byte
			if err := rows.Scan(&id, &b); err != nil {
				rows.Close()
				return nil, err
			}
			if len(b) != tlog.HashSize {
				rows.Close()
				return nil, fmt.Errorf("election: stored log hash %d has %d bytes", id, len(b))
			}
			found[id] = tlog.Hash(b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for i, x := range chunk {
			hh, ok := found[x]
			if !ok {
				return nil, fmt.Errorf("election: the log has no stored hash %d", x)
			}
			out[start+i] = hh
		}
	}
	return out, nil
}
