package voting

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The JSON encodings of a tally, a partial decryption, a verification key
// and a result (docs/election-record.md). Parsers accept only the
// canonical JSON, which is what MarshalJSON writes.

type wireTally struct {
	Type     string             `json:"type"`
	Election string             `json:"election"`
	Manifest string             `json:"manifest"`
	Ballots  uint64             `json:"ballots"`
	Contests []wireTallyContest `json:"contests"`
}

type wireTallyContest struct {
	ID      string            `json:"id"`
	Options []wireTallyOption `json:"options"`
}

type wireTallyOption struct {
	ID         string `json:"id"`
	Ciphertext string `json:"ciphertext"`
}

// MarshalJSON is the tally's canonical JSON.
func (t *EncryptedTally) MarshalJSON() ([]byte, error) {
	w := wireTally{Type: typeEncryptedTally, Election: t.election, Manifest: encodeHex(t.manifest[:]), Ballots: t.ballots, Contests: make([]wireTallyContest, len(t.contests))}
	cts := t.ciphertexts()
	for i, c := range t.contests {
		wc := wireTallyContest{ID: c.id, Options: make([]wireTallyOption, len(c.options))}
		for j, o := range c.options {
			wc.Options[j] = wireTallyOption{ID: o.id, Ciphertext: encodeHex(cts[i][j].Bytes())}
		}
		w.Contests[i] = wc
	}
	return marshalCanonical(w)
}

// ParseEncryptedTally decodes a tally from its canonical JSON.
func ParseEncryptedTally(data []byte) (*EncryptedTally, error) {
	var w wireTally
	if err := unmarshalStrict("tally", data, &w); err != nil {
		return nil, err
	}
	if err := checkType("tally", w.Type, typeEncryptedTally); err != nil {
		return nil, err
	}
	if len(w.Contests) > MaxContests {
		return nil, fmt.Errorf("%w: tally of %d contests, at most %d", ErrEncoding, len(w.Contests), MaxContests)
	}
	t := &EncryptedTally{election: w.Election, ballots: w.Ballots, contests: make([]tallyContest, len(w.Contests))}
	var err error
	if t.manifest, err = decodeHexDigest("tally manifest", w.Manifest); err != nil {
		return nil, err
	}
	for i, c := range w.Contests {
		if len(c.Options) > MaxOptions {
			return nil, fmt.Errorf("%w: tally contest %q: %d options, at most %d", ErrEncoding, c.ID, len(c.Options), MaxOptions)
		}
		tc := tallyContest{id: c.ID, options: make([]tallyOption, len(c.Options))}
		for j, o := range c.Options {
			ct, err := parseHexCiphertext(fmt.Sprintf("tally contest %q option %q", c.ID, o.ID), o.Ciphertext)
			if err != nil {
				return nil, err
			}
			tc.options[j] = tallyOption{id: o.ID, sum: ciphertextSum{alpha: ct.alpha.e, beta: ct.beta.e}}
		}
		t.contests[i] = tc
	}
	canonical, err := t.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := checkCanonical("tally", data, canonical); err != nil {
		return nil, err
	}
	return t, nil
}

type wirePartial struct {
	Type     string               `json:"type"`
	Election string               `json:"election"`
	Manifest string               `json:"manifest"`
	Trustee  uint32               `json:"trustee"`
	Contests []wirePartialContest `json:"contests"`
}

type wirePartialContest struct {
	ID      string              `json:"id"`
	Options []wirePartialOption `json:"options"`
}

type wirePartialOption struct {
	ID    string `json:"id"`
	Share string `json:"share"`
	Proof string `json:"proof"`
}

// MarshalJSON is the partial decryption's canonical JSON.
func (p *PartialDecryption) MarshalJSON() ([]byte, error) {
	w := wirePartial{Type: typePartialDecryption, Election: p.election, Manifest: encodeHex(p.manifest[:]), Trustee: p.trustee, Contests: make([]wirePartialContest, len(p.contests))}
	for i, c := range p.contests {
		wc := wirePartialContest{ID: c.id, Options: make([]wirePartialOption, len(c.options))}
		for j, o := range c.options {
			wc.Options[j] = wirePartialOption{ID: o.id, Share: encodeHex(o.share.enc[:]), Proof: encodeHex(o.proof.Bytes())}
		}
		w.Contests[i] = wc
	}
	return marshalCanonical(w)
}

// ParsePartialDecryption decodes a partial decryption from its canonical
// JSON. The proofs are checked by [Election.Decrypt].
func ParsePartialDecryption(data []byte) (*PartialDecryption, error) {
	var w wirePartial
	if err := unmarshalStrict("partial decryption", data, &w); err != nil {
		return nil, err
	}
	if err := checkType("partial decryption", w.Type, typePartialDecryption); err != nil {
		return nil, err
	}
	if len(w.Contests) > MaxContests {
		return nil, fmt.Errorf("%w: partial decryption of %d contests, at most %d", ErrEncoding, len(w.Contests), MaxContests)
	}
	p := &PartialDecryption{election: w.Election, trustee: w.Trustee, contests: make([]partialContest, len(w.Contests))}
	var err error
	if p.manifest, err = decodeHexDigest("partial decryption manifest", w.Manifest); err != nil {
		return nil, err
	}
	for i, c := range w.Contests {
		if len(c.Options) > MaxOptions {
			return nil, fmt.Errorf("%w: partial decryption contest %q: %d options, at most %d", ErrEncoding, c.ID, len(c.Options), MaxOptions)
		}
		pc := partialContest{id: c.ID, options: make([]partialOption, len(c.Options))}
		for j, o := range c.Options {
			field := fmt.Sprintf("partial decryption contest %q option %q", c.ID, o.ID)
			raw, err := decodeHex(field+" share", o.Share, ElementSize)
			if err != nil {
				return nil, err
			}
			d, err := decodePoint(raw)
			if err != nil {
				return nil, fmt.Errorf("%s share: %w", field, err)
			}
			raw, err = decodeHex(field+" proof", o.Proof, DecryptionProofSize)
			if err != nil {
				return nil, err
			}
			proof, err := ParseDecryptionProof(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			pc.options[j] = partialOption{id: o.ID, share: d, proof: proof}
		}
		p.contests[i] = pc
	}
	canonical, err := p.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := checkCanonical("partial decryption", data, canonical); err != nil {
		return nil, err
	}
	return p, nil
}

type wireVerificationKey struct {
	Index uint32 `json:"index"`
	Key   string `json:"key"`
}

// MarshalJSON is {"index": i, "key": hexadecimal of K_i}.
func (k VerificationKey) MarshalJSON() ([]byte, error) {
	if k.Key == nil {
		return nil, fmt.Errorf("%w: verification key of trustee %d has no key", ErrInvalidKey, k.Index)
	}
	return marshalCanonical(wireVerificationKey{Index: k.Index, Key: encodeHex(k.Key.Bytes())})
}

// UnmarshalJSON decodes what MarshalJSON writes, refusing index 0 and
// the identity.
func (k *VerificationKey) UnmarshalJSON(data []byte) error {
	var w wireVerificationKey
	if err := unmarshalStrict("verification key", data, &w); err != nil {
		return err
	}
	key, err := decodeHexElement("verification key", w.Key)
	if err != nil {
		return err
	}
	if w.Index == 0 || isIdentity(key) {
		return fmt.Errorf("%w: verification key of trustee %d: an index from 1 and a key that is not the identity", ErrInvalidKey, w.Index)
	}
	*k = VerificationKey{Index: w.Index, Key: key}
	return nil
}

type wireResult struct {
	Type     string          `json:"type"`
	Election string          `json:"election"`
	Ballots  uint64          `json:"ballots"`
	Contests []ContestResult `json:"contests"`
	Trustees []uint32        `json:"trustees"`
	Excluded []wireExcluded  `json:"excluded"`
}

type wireExcluded struct {
	Trustee uint32 `json:"trustee"`
	Reason  string `json:"reason"`
}

// MarshalJSON is the result's JSON, with each excluded trustee's reason
// as text.
func (r *Result) MarshalJSON() ([]byte, error) {
	w := wireResult{Type: typeResult, Election: r.Election, Ballots: r.Ballots, Contests: r.Contests, Trustees: r.Trustees, Excluded: []wireExcluded{}}
	for _, f := range r.Excluded {
		w.Excluded = append(w.Excluded, wireExcluded{Trustee: f.Trustee, Reason: f.Err.Error()})
	}
	return marshalCanonical(w)
}

// ParseResult decodes a result from its canonical JSON (what
// [Result.MarshalJSON] writes); each excluded trustee's reason becomes an
// error with that text.
func ParseResult(data []byte) (*Result, error) {
	var w wireResult
	if err := unmarshalStrict("result", data, &w); err != nil {
		return nil, err
	}
	if err := checkType("result", w.Type, typeResult); err != nil {
		return nil, err
	}
	r := &Result{Election: w.Election, Ballots: w.Ballots, Contests: w.Contests, Trustees: w.Trustees}
	for _, x := range w.Excluded {
		r.Excluded = append(r.Excluded, TrusteeFailure{Trustee: x.Trustee, Err: errors.New(x.Reason)})
	}
	canonical, err := r.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := checkCanonical("result", data, canonical); err != nil {
		return nil, err
	}
	return r, nil
}

// SameCounts reports whether r and s give the same counts, from the same
// trustees, for the same election: how a verifier compares its own
// decryption with a published result.
func (r *Result) SameCounts(s *Result) bool {
	a, err1 := json.Marshal(wireResult{Election: r.Election, Ballots: r.Ballots, Contests: r.Contests, Trustees: r.Trustees})
	b, err2 := json.Marshal(wireResult{Election: s.Election, Ballots: s.Ballots, Contests: s.Contests, Trustees: s.Trustees})
	return err1 == nil && err2 == nil && string(a) == string(b)
}
