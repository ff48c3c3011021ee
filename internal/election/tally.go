package election

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// tallyChunk is how many ballots are verified and added at a time, so
// that a large ballot box is never held in memory at once.
const tallyChunk = 4096

// Tally closes an election whose voting period is over (if the officer did
// not) and computes its encrypted tally: the homomorphic sum of the last
// ballot of each credential, every one verified again (in batches) first.
// The tally is published for the trustees to decrypt.
//
// It runs in three steps so that no lock is held while the ballots are
// verified, which for a large ballot box takes minutes (SQLite has one
// writer for the whole platform): record the close; verify and add the
// ballots of the closed box, which no longer changes; then, in a second
// short transaction, check that the box is still what was added and
// publish the tally. While one tally of an election runs, another is
// refused (ErrTallyRunning).
func (s *Service) Tally(ctx context.Context, officer, id int64) (*Election, error) {
	if !s.tallies.start(id) {
		return nil, ErrTallyRunning
	}
	defer s.tallies.done(id)
	err := s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case e.stored == Open && e.State == Closed:
			return s.close(ctx, tx, 0, e)
		case e.stored != Closed:
			return &StateError{State: e.State, Want: []string{Closed}}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	e, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	ve, err := e.Voting()
	if err != nil {
		return nil, err
	}
	t, last, err := s.sum(ctx, s.db(), ve, id)
	if err != nil {
		return nil, err
	}
	tj, err := t.MarshalJSON()
	if err != nil {
		return nil, err
	}
	err = s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lockIn(ctx, tx, id, Closed)
		if err != nil {
			return err
		}
		// The box of a closed election does not change; check anyway that
		// what was added is what the box counts.
		var n, max int64
		if err := tx.QueryRow(ctx, "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM election_ballots WHERE election_id = ? AND counted", id).Scan(&n, &max); err != nil {
			return err
		}
		if uint64(n) != t.Ballots() || max != last {
			return fmt.Errorf("election %d: the ballot box changed while it was being added up (%d counted ballots, %d added)", id, n, t.Ballots())
		}
		if _, err := tx.Exec(ctx, "UPDATE elections SET state = ?, tally = ?, tallied_at = ? WHERE id = ?", Tallying, string(tj), store.Micros(s.Now()), id); err != nil {
			return err
		}
		return s.audit(ctx, tx, "election.tallied", officer, e, digestOf(tj), map[string]string{"ballots": strconv.FormatUint(t.Ballots(), 10)})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// ErrTallyRunning refuses a tally while another of the same election
// runs on this server.
var ErrTallyRunning = errors.New("election: the tally of this election is already being computed")

// TallyRunning reports whether a tally of the closed election e runs on
// this server, for the page and the API to say so.
func (s *Service) TallyRunning(e *Election) bool {
	return e.State == Closed && s.tallies.running(e.ID)
}

// runningSet is the elections whose tally runs on this server.
type runningSet struct {
	mu  sync.Mutex
	ids map[int64]bool
}

func (r *runningSet) start(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids[id] {
		return false
	}
	if r.ids == nil {
		r.ids = map[int64]bool{}
	}
	r.ids[id] = true
	return true
}

func (r *runningSet) done(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.ids, id)
}

func (r *runningSet) running(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[id]
}

// sum verifies and adds the counted ballots; last is the box's id of the
// last one added.
func (s *Service) sum(ctx context.Context, q queryer, ve *voting.Election, id int64) (total *voting.EncryptedTally, last int64, err error) {
	total = ve.NewTally()
	after := int64(0)
	for {
		rows, err := q.Query(ctx, "SELECT id, ballot FROM election_ballots WHERE election_id = ? AND counted AND id > ? ORDER BY id LIMIT ?", id, after, tallyChunk)
		if err != nil {
			return nil, 0, err
		}
		var ballots []*voting.Ballot
		var seqs []int64
		for rows.Next() {
			var seq int64
			var body string
			if err := rows.Scan(&seq, &body); err != nil {
				rows.Close()
				return nil, 0, err
			}
			b, err := voting.ParseBallot([]byte(body))
			if err != nil {
				rows.Close()
				return nil, 0, fmt.Errorf("election: stored ballot %d: %w", seq, err)
			}
			ballots, seqs = append(ballots, b), append(seqs, seq)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, 0, err
		}
		if len(ballots) == 0 {
			return total, after, nil
		}
		for i, err := range ve.VerifyBallots(ballots) {
			if err != nil {
				// Every ballot was verified when cast: this one was changed since.
				return nil, 0, fmt.Errorf("election: stored ballot %d no longer verifies: %w", seqs[i], err)
			}
		}
		for _, b := range ballots {
			if err := total.Add(b); err != nil {
				return nil, 0, err
			}
		}
		after = seqs[len(seqs)-1]
	}
}

// PostDecryption stores trustee account's partial decryption of the
// tally (its canonical JSON, as voting.ParsePartialDecryption reads it).
// It is accepted once per trustee, from the trustee it names; its proofs
// are checked when the decryptions are combined. Once the threshold's
// worth of them verify, voting.Decrypt combines them — a trustee whose
// proof fails is named and excluded — and the result is published.
func (s *Service) PostDecryption(ctx context.Context, account, id int64, body []byte) (*Election, error) {
	p, err := voting.ParsePartialDecryption(body)
	if err != nil {
		return nil, &Refusal{Code: "decryption_invalid", Err: err}
	}
	err = s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lockIn(ctx, tx, id, Tallying)
		if err != nil {
			return err
		}
		idx := e.TrusteeIndex(account)
		if idx == 0 {
			return ErrNotTrustee
		}
		if p.Trustee() != idx {
			return refuse("message_not_yours", "the partial decryption is trustee %d's; you are trustee %d", p.Trustee(), idx)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO election_decryptions (election_id, trustee, body, received_at) VALUES (?, ?, ?, ?)",
			id, idx, string(body), store.Micros(s.Now())); err != nil {
			if errIsConflict(err) {
				return refuse("message_duplicate", "you have already sent your partial decryption")
			}
			return err
		}
		if err := s.audit(ctx, tx, "election.decryption_received", account, e, digestOf(body), map[string]string{"trustee": strconv.Itoa(int(idx))}); err != nil {
			return err
		}
		return s.combine(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// verificationKeys are the trustees' K_j from the ceremony record.
func (s *Service) verificationKeys(ctx context.Context, q queryer, e *Election) ([]voting.VerificationKey, error) {
	cer, _ := e.Ceremony()
	msgs, err := s.messages(ctx, q, e.ID)
	if err != nil {
		return nil, err
	}
	var public []Message
	for _, m := range msgs {
		if m.Kind != KindShare {
			public = append(public, m)
		}
	}
	r, err := buildRecord(cer, public)
	if err != nil {
		return nil, err
	}
	o, err := dkg.Verify(r)
	if err != nil {
		return nil, fmt.Errorf("election: the stored ceremony no longer verifies: %w", err)
	}
	keys := make([]voting.VerificationKey, len(o.VerificationKeys))
	for i, k := range o.VerificationKeys {
		keys[i] = voting.VerificationKey{Index: k.Index, Key: k.Key}
	}
	return keys, nil
}

// partials returns the posted partial decryptions, by trustee.
func (s *Service) partials(ctx context.Context, q queryer, id int64) ([]uint32, [][]byte, error) {
	rows, err := q.Query(ctx, "SELECT trustee, body FROM election_decryptions WHERE election_id = ? ORDER BY trustee", id)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var who []uint32
	var bodies [][]byte
	for rows.Next() {
		var t uint32
		var b string
		if err := rows.Scan(&t, &b); err != nil {
			return nil, nil, err
		}
		who, bodies = append(who, t), append(bodies, []byte(b))
	}
	return who, bodies, rows.Err()
}

// combine publishes the result once enough partial decryptions verify.
func (s *Service) combine(ctx context.Context, tx *store.Tx, e *Election) error {
	_, bodies, err := s.partials(ctx, tx, e.ID)
	if err != nil || len(bodies) < e.Threshold {
		return err
	}
	ve, err := e.Voting()
	if err != nil {
		return err
	}
	t, err := voting.ParseEncryptedTally(e.TallyJSON)
	if err != nil {
		return err
	}
	keys, err := s.verificationKeys(ctx, tx, e)
	if err != nil {
		return err
	}
	ps := make([]*voting.PartialDecryption, 0, len(bodies))
	for _, b := range bodies {
		p, err := voting.ParsePartialDecryption(b)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	r, err := ve.Decrypt(t, e.Threshold, keys, ps)
	var de *voting.DecryptionError
	if errors.As(err, &de) {
		return nil // not enough valid ones yet; the page names the failures
	}
	if err != nil {
		return err
	}
	rj, err := r.MarshalJSON()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE elections SET state = ?, result = ?, published_at = ? WHERE id = ?", Published, string(rj), store.Micros(s.Now()), e.ID); err != nil {
		return err
	}
	// Voting is over: who voted with which credential is no longer needed.
	if _, err := tx.Exec(ctx, "UPDATE election_credentials SET account_id = NULL WHERE election_id = ?", e.ID); err != nil {
		return err
	}
	var excluded []uint32
	for _, f := range r.Excluded {
		excluded = append(excluded, f.Trustee)
	}
	return s.audit(ctx, tx, "election.results_published", 0, e, digestOf(rj), map[string]string{
		"ballots": strconv.FormatUint(r.Ballots, 10), "trustees": joinIndices(r.Trustees), "excluded": joinIndices(excluded)})
}

// Decryptions reports the partial decryptions posted so far and, while
// they are not enough, why those that fail do.
type Decryptions struct {
	Received []uint32
	Failed   []Excluded
}

// DecryptionStatus reports the partial decryptions of a tallied election.
func (s *Service) DecryptionStatus(ctx context.Context, id int64) (*Decryptions, error) {
	e, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	who, bodies, err := s.partials(ctx, s.db(), id)
	if err != nil {
		return nil, err
	}
	d := &Decryptions{Received: who}
	if e.stored != Tallying || len(bodies) == 0 {
		if r := e.Result(); r != nil {
			d.Failed = r.Excluded
		}
		return d, nil
	}
	ve, err := e.Voting()
	if err != nil {
		return nil, err
	}
	t, err := voting.ParseEncryptedTally(e.TallyJSON)
	if err != nil {
		return nil, err
	}
	keys, err := s.verificationKeys(ctx, s.db(), e)
	if err != nil {
		return nil, err
	}
	var ps []*voting.PartialDecryption
	for _, b := range bodies {
		if p, err := voting.ParsePartialDecryption(b); err == nil {
			ps = append(ps, p)
		}
	}
	// With a threshold of 1 the one valid decryption would have published
	// the result; asking Decrypt for every check names each failure.
	_, err = ve.Decrypt(t, len(keys), keys, ps)
	var de *voting.DecryptionError
	if errors.As(err, &de) {
		for _, f := range de.Failed {
			d.Failed = append(d.Failed, Excluded{Trustee: f.Trustee, Reason: f.Err.Error()})
		}
	}
	return d, nil
}

// Decryptions returns the partial decryptions, for the record.
func (s *Service) Decryptions(ctx context.Context, id int64) (map[uint32][]byte, error) {
	who, bodies, err := s.partials(ctx, s.db(), id)
	if err != nil {
		return nil, err
	}
	out := map[uint32][]byte{}
	for i, w := range who {
		out[w] = bodies[i]
	}
	return out, nil
}
