package election

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// The kinds of key-ceremony message the server relays.
const (
	KindCommitment = "commitment"
	KindShare      = "share"
	KindComplaint  = "complaint"
	KindAnswer     = "answer"
	KindResult     = "result"
)

// messageTypes maps dkg's message "type" to the kind.
var messageTypes = map[string]string{
	"dkg-commitment": KindCommitment,
	"dkg-share":      KindShare,
	"dkg-complaint":  KindComplaint,
	"dkg-answer":     KindAnswer,
	"dkg-result":     KindResult,
}

// Message is one relayed ceremony message.
type Message struct {
	Kind      string    `json:"kind"`
	Sender    uint32    `json:"sender"`
	Recipient uint32    `json:"recipient,omitempty"` // for a share
	Body      []byte    `json:"-"`
	Received  time.Time `json:"received_at"`
}

// File is where the message goes in a ceremony directory (package dkg's
// layout), so that `veche trustee` reads what the relay serves.
func (m *Message) File() string {
	switch m.Kind {
	case KindShare:
		return dkg.ShareFile(m.Sender, m.Recipient)
	case KindCommitment:
		return dkg.TrusteeFile(dkg.CommitmentsDir, m.Sender)
	case KindComplaint:
		return dkg.TrusteeFile(dkg.ComplaintsDir, m.Sender)
	case KindAnswer:
		return dkg.TrusteeFile(dkg.AnswersDir, m.Sender)
	}
	return dkg.TrusteeFile(dkg.ResultsDir, m.Sender)
}

func (s *Service) messages(ctx context.Context, q queryer, id int64) ([]Message, error) {
	rows, err := q.Query(ctx, "SELECT kind, sender, recipient, body, received_at FROM election_messages WHERE election_id = ? ORDER BY received_at, kind, sender, recipient", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var body string
		var at int64
		if err := rows.Scan(&m.Kind, &m.Sender, &m.Recipient, &body, &at); err != nil {
			return nil, err
		}
		m.Body, m.Received = []byte(body), store.FromMicros(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// buildRecord parses the public messages into the ceremony's record.
func buildRecord(cer dkg.Ceremony, msgs []Message) (*dkg.Record, error) {
	r := &dkg.Record{Ceremony: cer}
	for _, m := range msgs {
		var err error
		switch m.Kind {
		case KindCommitment:
			var c *dkg.Commitment
			if c, err = dkg.ParseCommitment(cer, m.Body); err == nil {
				r.Commitments = append(r.Commitments, c)
			}
		case KindComplaint:
			var c *dkg.Complaint
			if c, err = dkg.ParseComplaint(cer, m.Body); err == nil {
				r.Complaints = append(r.Complaints, c)
			}
		case KindAnswer:
			var a *dkg.Answer
			if a, err = dkg.ParseAnswer(cer, m.Body); err == nil {
				r.Answers = append(r.Answers, a)
			}
		case KindResult:
			var res *dkg.Result
			if res, err = dkg.ParseResult(cer, m.Body); err == nil {
				r.Results = append(r.Results, res)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("stored %s of trustee %d: %w", m.Kind, m.Sender, err)
		}
	}
	slices.SortFunc(r.Commitments, func(a, b *dkg.Commitment) int { return int(a.Trustee) - int(b.Trustee) })
	return r, nil
}

// problemOf returns the failure err names for sender's message of kind.
func problemOf(err error, sender uint32, kind string) error {
	for _, p := range dkg.Problems(err) {
		if p.Trustee == sender && p.Message == kind {
			return p
		}
	}
	return nil
}

// PostMessage relays a ceremony message from account, one of the
// election's trustees. The message is checked with package dkg's parser
// for its type and accepted only from the trustee it names, once, and in
// its phase: shares, complaints once every commitment is in; answers
// and results once every complaint is in; no complaint or answer once a
// result is in (a result signs the record it saw). Complaints, answers
// and results are checked against the record, so a badly signed one is
// refused with the reason. When every qualified trustee has posted its
// result and dkg.Verify of the record passes, the joint public key is
// fixed and the election waits for its credentials.
func (s *Service) PostMessage(ctx context.Context, account, id int64, body []byte) (*Message, error) {
	body = bytes.TrimSpace(body)
	now := s.Now()
	var out *Message
	err := s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lockIn(ctx, tx, id, Ceremony)
		if err != nil {
			return err
		}
		idx := e.TrusteeIndex(account)
		if idx == 0 {
			return ErrNotTrustee
		}
		cer, _ := e.Ceremony()
		msgs, err := s.messages(ctx, tx, id)
		if err != nil {
			return err
		}
		count := func(kind string) int {
			n := 0
			for _, m := range msgs {
				if m.Kind == kind {
					n++
				}
			}
			return n
		}
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(body, &head); err != nil {
			return refuse("message_invalid", "not a JSON message of the key ceremony: %v", err)
		}
		kind, ok := messageTypes[head.Type]
		if !ok {
			return refuse("message_invalid", "type %q is not a message of the key ceremony (dkg-commitment, dkg-share, dkg-complaint, dkg-answer, dkg-result)", head.Type)
		}
		m := &Message{Kind: kind, Sender: idx, Body: body, Received: now}
		n := int(cer.Trustees)
		tooEarly := func(what string, have int) error {
			return refuse("message_too_early", "%s: %d of %d trustees have sent theirs; wait for the others", what, have, n)
		}
		var named uint32
		var check func(r *dkg.Record) error
		switch kind {
		case KindCommitment:
			c, err := dkg.ParseCommitment(cer, body)
			if err != nil {
				return &Refusal{Code: "message_invalid", Err: err}
			}
			named = c.Trustee
		case KindShare:
			if have := count(KindCommitment); have < n {
				return tooEarly("shares are sent once every commitment is in", have)
			}
			sh, err := dkg.ParseEncryptedShare(cer, body)
			if err != nil {
				return &Refusal{Code: "message_invalid", Err: err}
			}
			named, m.Recipient = sh.Dealer, sh.Recipient
		case KindComplaint, KindAnswer:
			if kind == KindComplaint {
				if have := count(KindCommitment); have < n {
					return tooEarly("complaints are filed once every commitment is in", have)
				}
			} else if have := count(KindComplaint); have < n {
				return tooEarly("answers are sent once every complaint is in", have)
			}
			if count(KindResult) > 0 {
				return refuse("message_too_late", "trustees have begun to confirm the result of the record as it is; a %s now would change it", kind)
			}
			if kind == KindComplaint {
				c, err := dkg.ParseComplaint(cer, body)
				if err != nil {
					return &Refusal{Code: "message_invalid", Err: err}
				}
				named = c.Trustee
				check = func(r *dkg.Record) error {
					r.Complaints = append(r.Complaints, c)
					_, err := dkg.Evaluate(r)
					return err
				}
			} else {
				a, err := dkg.ParseAnswer(cer, body)
				if err != nil {
					return &Refusal{Code: "message_invalid", Err: err}
				}
				named = a.Dealer
				check = func(r *dkg.Record) error {
					if !slices.ContainsFunc(r.Complaints, func(c *dkg.Complaint) bool { return c.Accuses(idx) }) {
						return refuse("message_unexpected", "no trustee complained about you: there is nothing to answer (an answer nobody asked for disqualifies you)")
					}
					r.Answers = append(r.Answers, a)
					_, err := dkg.Evaluate(r)
					return err
				}
			}
		case KindResult:
			if have := count(KindComplaint); have < n {
				return tooEarly("results are confirmed once every complaint is in", have)
			}
			res, err := dkg.ParseResult(cer, body)
			if err != nil {
				return &Refusal{Code: "message_invalid", Err: err}
			}
			named = res.Trustee
			check = func(r *dkg.Record) error { r.Results = append(r.Results, res); _, err := dkg.Verify(r); return err }
		}
		if named != idx {
			return refuse("message_not_yours", "the message is from trustee %d; you are trustee %d", named, idx)
		}
		for _, o := range msgs {
			if o.Kind == m.Kind && o.Sender == m.Sender && o.Recipient == m.Recipient {
				if m.Kind == KindShare {
					return refuse("message_duplicate", "you have already sent your share for trustee %d", m.Recipient)
				}
				return refuse("message_duplicate", "you have already sent your %s", m.Kind)
			}
		}
		if check != nil {
			r, err := buildRecord(cer, msgs)
			if err != nil {
				return err
			}
			err = check(r)
			var rf *Refusal
			if errors.As(err, &rf) {
				return rf
			}
			if p := problemOf(err, idx, kind); p != nil {
				return &Refusal{Code: "message_invalid", Err: p}
			}
		}
		if _, err := tx.Exec(ctx, "INSERT INTO election_messages (election_id, kind, sender, recipient, body, received_at) VALUES (?, ?, ?, ?, ?, ?)",
			id, m.Kind, m.Sender, m.Recipient, string(body), store.Micros(now)); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return refuse("message_duplicate", "you have already sent your %s", m.Kind)
			}
			return err
		}
		detail := map[string]string{"kind": m.Kind, "trustee": strconv.Itoa(int(idx))}
		if m.Kind == KindShare {
			detail["recipient"] = strconv.Itoa(int(m.Recipient))
		}
		if err := s.audit(ctx, tx, "election.ceremony_message", account, e, digestOf(body), detail); err != nil {
			return err
		}
		out = m
		if kind == KindResult {
			return s.fixKey(ctx, tx, e, cer, append(msgs, *m), now)
		}
		return nil
	})
	return out, err
}

// fixKey fixes the joint public key once every qualified trustee has
// confirmed the result and the whole record verifies.
func (s *Service) fixKey(ctx context.Context, tx *store.Tx, e *Election, cer dkg.Ceremony, msgs []Message, now time.Time) error {
	r, err := buildRecord(cer, msgs)
	if err != nil {
		return err
	}
	o, err := dkg.Evaluate(r)
	if err != nil {
		return nil // a record that does not evaluate cannot have results; the status page says why
	}
	for _, q := range o.Qualified {
		if !slices.ContainsFunc(r.Results, func(res *dkg.Result) bool { return res.Trustee == q }) {
			return nil // not every qualified trustee has confirmed yet
		}
	}
	o, err = dkg.Verify(r)
	if err != nil {
		return nil // the status page shows the failure; the key stays unfixed
	}
	key, err := voting.NewJointKey(o.JointKey)
	if err != nil {
		return err
	}
	text, _ := key.MarshalText()
	if _, err := tx.Exec(ctx, "UPDATE elections SET state = ?, joint_key = ?, key_fixed_at = ? WHERE id = ?", Credentials, string(text), store.Micros(now), e.ID); err != nil {
		return err
	}
	return s.audit(ctx, tx, "election.key_fixed", 0, e, "", map[string]string{
		"joint_key": string(text), "record": hex.EncodeToString(o.Digest[:]), "qualified": joinIndices(o.Qualified)})
}

func joinIndices(v []uint32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(int(x))
	}
	return strings.Join(s, ",")
}

// CeremonyStatus is where the key ceremony stands.
type CeremonyStatus struct {
	Trustees uint32
	// Received lists, per kind, the trustees whose message is in (for
	// shares, the dealers that sent all of theirs).
	Received map[string][]uint32
	Shares   int // encrypted shares relayed
	// Outcome is what the record determines once every commitment is in
	// and the record evaluates: QUAL, the disqualified and why, K, the K_j.
	Outcome *dkg.Outcome
	// Problem is why the record does not verify, once results are in.
	Problem string
	// Fingerprints are the commitments' fingerprints, by trustee: what
	// each trustee reads to the others over a channel the server does not
	// control, to confirm the commitment shown for them is theirs.
	Fingerprints map[uint32]string
	// Accused are the trustees some complaint names, in order: each must
	// answer before anyone confirms the result.
	Accused []uint32
}

// The steps of `veche trustee`, as CeremonyStatus.Next names them.
const (
	StepInit    = "init"    // make and send the commitment
	StepShares  = "shares"  // send the encrypted shares
	StepReceive = "receive" // check the shares received; send the complaint (empty if none)
	StepAnswer  = "answer"  // reveal the shares someone complained about
	StepFinish  = "finish"  // confirm the result
	StepWait    = "wait"    // nothing to do until the others have sent theirs
	StepDone    = "done"    // this trustee has done everything
)

// Next is trustee i's next step of the ceremony and, when it is to wait,
// whom for. It follows the order the relay accepts messages in
// (PostMessage): commitments from everyone before shares, shares before
// complaints, every complaint before answers and results, and an
// accused trustee's answer before anyone confirms.
func (c *CeremonyStatus) Next(i uint32) (step string, waitingFor []uint32) {
	has := func(kind string, j uint32) bool { return slices.Contains(c.Received[kind], j) }
	n := int(c.Trustees)
	var unanswered []uint32
	for _, a := range c.Accused {
		if !has(KindAnswer, a) {
			unanswered = append(unanswered, a)
		}
	}
	var dealing []uint32 // other dealers whose shares are not all in
	for _, j := range c.Waiting(KindShare) {
		if j != i {
			dealing = append(dealing, j)
		}
	}
	results := len(c.Received[KindResult]) > 0
	switch {
	case !has(KindCommitment, i):
		return StepInit, nil
	case len(c.Received[KindCommitment]) < n:
		return StepWait, c.Waiting(KindCommitment)
	case !has(KindShare, i):
		return StepShares, nil
	case !has(KindComplaint, i) && len(dealing) > 0:
		return StepWait, dealing
	case !has(KindComplaint, i):
		return StepReceive, nil
	case len(c.Received[KindComplaint]) < n:
		return StepWait, c.Waiting(KindComplaint)
	case slices.Contains(unanswered, i) && !results:
		return StepAnswer, nil
	case len(unanswered) > 0 && !results:
		return StepWait, unanswered
	case !has(KindResult, i):
		return StepFinish, nil
	}
	return StepDone, nil
}

// Waiting lists the trustees whose message of kind is still missing.
func (c *CeremonyStatus) Waiting(kind string) []uint32 {
	var out []uint32
	for i := uint32(1); i <= c.Trustees; i++ {
		if !slices.Contains(c.Received[kind], i) {
			out = append(out, i)
		}
	}
	return out
}

// Ceremony reports where the key ceremony of an election stands.
func (s *Service) Ceremony(ctx context.Context, id int64) (*CeremonyStatus, error) {
	e, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	cer, ok := e.Ceremony()
	if !ok {
		return &CeremonyStatus{Trustees: uint32(len(e.Trustees)), Received: map[string][]uint32{}}, nil
	}
	msgs, err := s.messages(ctx, s.db(), id)
	if err != nil {
		return nil, err
	}
	st := &CeremonyStatus{Trustees: cer.Trustees, Received: map[string][]uint32{}}
	dealt := map[uint32]int{}
	var public []Message
	for _, m := range msgs {
		if m.Kind == KindShare {
			st.Shares++
			dealt[m.Sender]++
			if dealt[m.Sender] == int(cer.Trustees)-1 {
				st.Received[KindShare] = append(st.Received[KindShare], m.Sender)
			}
			continue
		}
		public = append(public, m)
		st.Received[m.Kind] = append(st.Received[m.Kind], m.Sender)
	}
	for _, v := range st.Received {
		slices.Sort(v)
	}
	r, err := buildRecord(cer, public)
	if err != nil {
		return nil, err
	}
	st.Fingerprints = map[uint32]string{}
	for _, c := range r.Commitments {
		st.Fingerprints[c.Trustee] = c.Fingerprint()
	}
	for i := uint32(1); i <= cer.Trustees; i++ {
		if slices.ContainsFunc(r.Complaints, func(c *dkg.Complaint) bool { return c.Accuses(i) }) {
			st.Accused = append(st.Accused, i)
		}
	}
	if len(st.Received[KindCommitment]) < int(cer.Trustees) {
		return st, nil
	}
	if len(r.Results) > 0 {
		if o, err := dkg.Verify(r); err == nil {
			st.Outcome = o
			return st, nil
		} else {
			st.Problem = err.Error()
		}
	}
	if o, err := dkg.Evaluate(r); err == nil {
		st.Outcome = o
	} else if st.Problem == "" {
		st.Problem = err.Error()
	}
	return st, nil
}

// CeremonyFiles returns the ceremony directory as the relay serves it:
// ceremony.json and every public message, with, for a trustee (account),
// the encrypted shares addressed to them and those they dealt. Paths are
// package dkg's layout.
func (s *Service) CeremonyFiles(ctx context.Context, id, account int64) (map[string][]byte, error) {
	e, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, ok := e.Ceremony(); !ok {
		return nil, &StateError{State: e.State, Want: []string{Ceremony, Credentials, Ready, Scheduled, Open, Closed, Tallying, Published}}
	}
	msgs, err := s.messages(ctx, s.db(), id)
	if err != nil {
		return nil, err
	}
	idx := e.TrusteeIndex(account)
	files := map[string][]byte{dkg.CeremonyFile: e.CeremonyJSON}
	for _, m := range msgs {
		if m.Kind == KindShare && (idx == 0 || (m.Recipient != idx && m.Sender != idx)) {
			continue
		}
		files[m.File()] = m.Body
	}
	return files, nil
}
