package voting

import (
	"fmt"

	"github.com/gtank/ristretto255"
)

// The JSON encodings of a ballot and of an audited ballot
// (docs/election-record.md, "Ballot" and "Audited ballot"). Parsers
// accept only the canonical JSON, which is what MarshalJSON writes.

// The values of the "type" field of each object.
const (
	typeBallot            = "ballot"
	typeAuditedBallot     = "audited-ballot"
	typeEncryptedTally    = "encrypted-tally"
	typePartialDecryption = "partial-decryption"
	typeResult            = "result"
)

type wireBallot struct {
	Type       string        `json:"type"`
	Election   string        `json:"election"`
	Manifest   string        `json:"manifest"`
	Credential string        `json:"credential"`
	Contests   []wireContest `json:"contests"`
	Signature  string        `json:"signature"`
}

type wireContest struct {
	ID      string       `json:"id"`
	Options []wireOption `json:"options"`
	Proof   string       `json:"proof"`
}

type wireOption struct {
	ID         string `json:"id"`
	Ciphertext string `json:"ciphertext"`
	Proof      string `json:"proof"`
}

type wireAuditedBallot struct {
	Type         string               `json:"type"`
	Election     string               `json:"election"`
	Manifest     string               `json:"manifest"`
	Credential   string               `json:"credential"`
	Contests     []wireAuditedContest `json:"contests"`
	TrackingCode string               `json:"tracking_code"`
}

type wireAuditedContest struct {
	ID      string              `json:"id"`
	Options []wireAuditedOption `json:"options"`
	Proof   string              `json:"proof"`
}

type wireAuditedOption struct {
	ID         string `json:"id"`
	Ciphertext string `json:"ciphertext"`
	Proof      string `json:"proof"`
	Selected   bool   `json:"selected"`
	Randomness string `json:"randomness"`
}

func (b *Ballot) wire() wireBallot {
	w := wireBallot{
		Type:     typeBallot,
		Election: b.election,
		Manifest: encodeHex(b.manifest[:]),
		Contests: make([]wireContest, len(b.contests)),
	}
	if b.credential != nil {
		w.Credential = b.credential.String()
	}
	if b.signature != nil {
		w.Signature = encodeHex(b.signature.Bytes())
	}
	for i, c := range b.contests {
		wc := wireContest{ID: c.id, Options: make([]wireOption, len(c.options)), Proof: encodeHex(c.proof.Bytes())}
		for j, o := range c.options {
			wc.Options[j] = wireOption{ID: o.id, Ciphertext: encodeHex(o.ciphertext.Bytes()), Proof: encodeHex(o.proof.Bytes())}
		}
		w.Contests[i] = wc
	}
	return w
}

// BallotSize is the length in bytes of the canonical JSON of every ballot
// of the election (all its fields have a fixed length for a given
// manifest): the limit for reading a ballot from the network.
func (e *Election) BallotSize() int {
	w := wireBallot{
		Type:       typeBallot,
		Election:   e.manifest.ID,
		Manifest:   encodeHex(e.digest[:]),
		Credential: encodeHex(make([]byte, ElementSize)),
		Signature:  encodeHex(make([]byte, KnowledgeProofSize)),
	}
	for _, c := range e.manifest.Contests {
		wc := wireContest{ID: c.ID, Proof: encodeHex(make([]byte, RangeProofSize(c.Max-c.Min+1)))}
		for _, o := range c.Options {
			wc.Options = append(wc.Options, wireOption{ID: o.ID, Ciphertext: encodeHex(make([]byte, CiphertextSize)), Proof: encodeHex(make([]byte, RangeProofSize(2)))})
		}
		w.Contests = append(w.Contests, wc)
	}
	data, err := marshalCanonical(w)
	if err != nil {
		panic("voting: encoding a ballot: " + err.Error()) // cannot happen
	}
	return len(data)
}

// MarshalJSON is the ballot's canonical JSON.
func (b *Ballot) MarshalJSON() ([]byte, error) { return marshalCanonical(b.wire()) }

// ParseBallot decodes a ballot from its canonical JSON. It checks the
// encodings (every element and scalar canonical, the credential not the
// identity) but not the proofs: [Election.VerifyBallot] does. An audited
// ballot is refused with [ErrAuditedBallot].
func ParseBallot(data []byte) (*Ballot, error) {
	var w wireBallot
	if err := unmarshalStrict("ballot", data, &w); err != nil {
		if _, aerr := ParseAuditedBallot(data); aerr == nil {
			return nil, ErrAuditedBallot
		}
		return nil, err
	}
	if err := checkType("ballot", w.Type, typeBallot); err != nil {
		return nil, err
	}
	b, err := ballotFromWire(w.Election, w.Manifest, w.Credential, len(w.Contests), func(i int) (string, string, int) {
		return w.Contests[i].ID, w.Contests[i].Proof, len(w.Contests[i].Options)
	}, func(i, j int) (string, string, string) {
		o := w.Contests[i].Options[j]
		return o.ID, o.Ciphertext, o.Proof
	})
	if err != nil {
		return nil, err
	}
	if b.signature, err = parseHexKnowledgeProof("ballot signature", w.Signature); err != nil {
		return nil, err
	}
	canonical, err := b.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := checkCanonical("ballot", data, canonical); err != nil {
		return nil, err
	}
	return b, nil
}

func parseHexKnowledgeProof(field, s string) (*KnowledgeProof, error) {
	raw, err := decodeHex(field, s, KnowledgeProofSize)
	if err != nil {
		return nil, err
	}
	p, err := ParseKnowledgeProof(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return p, nil
}

func parseHexRangeProof(field, s string) (*RangeProof, error) {
	raw, err := decodeHex(field, s, -1)
	if err != nil {
		return nil, err
	}
	p, err := ParseRangeProof(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return p, nil
}

func parseHexCiphertext(field, s string) (*Ciphertext, error) {
	raw, err := decodeHex(field, s, CiphertextSize)
	if err != nil {
		return nil, err
	}
	c, err := ParseCiphertext(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return c, nil
}

// ballotFromWire decodes the parts common to a ballot and an audited
// ballot, given accessors to the contests and options of either wire form.
func ballotFromWire(election, manifest, credential string, contests int,
	contest func(i int) (id, proof string, options int),
	option func(i, j int) (id, ciphertext, proof string)) (*Ballot, error) {
	if contests > MaxContests {
		return nil, fmt.Errorf("%w: %d contests, at most %d", ErrEncoding, contests, MaxContests)
	}
	b := &Ballot{election: election, contests: make([]ballotContest, contests)}
	var err error
	if b.manifest, err = decodeHexDigest("manifest", manifest); err != nil {
		return nil, err
	}
	raw, err := decodeHex("credential", credential, ElementSize)
	if err != nil {
		return nil, err
	}
	if b.credential, err = ParsePublicCredential(raw); err != nil {
		return nil, err
	}
	for i := range b.contests {
		id, proof, options := contest(i)
		if options > MaxOptions {
			return nil, fmt.Errorf("%w: contest %q: %d options, at most %d", ErrEncoding, id, options, MaxOptions)
		}
		bc := ballotContest{id: id, options: make([]ballotOption, options)}
		if bc.proof, err = parseHexRangeProof(fmt.Sprintf("contest %q proof", id), proof); err != nil {
			return nil, err
		}
		for j := range bc.options {
			oid, ct, proof := option(i, j)
			bo := ballotOption{id: oid}
			if bo.ciphertext, err = parseHexCiphertext(fmt.Sprintf("contest %q option %q ciphertext", id, oid), ct); err != nil {
				return nil, err
			}
			if bo.proof, err = parseHexRangeProof(fmt.Sprintf("contest %q option %q proof", id, oid), proof); err != nil {
				return nil, err
			}
			bc.options[j] = bo
		}
		b.contests[i] = bc
	}
	return b, nil
}

// MarshalJSON is the audited ballot's canonical JSON: the ballot's
// fields but the signature, each option's selection and randomness, and
// the tracking code.
func (a *AuditedBallot) MarshalJSON() ([]byte, error) {
	bw := a.ballot.wire()
	w := wireAuditedBallot{
		Type:         typeAuditedBallot,
		Election:     bw.Election,
		Manifest:     bw.Manifest,
		Credential:   bw.Credential,
		Contests:     make([]wireAuditedContest, len(bw.Contests)),
		TrackingCode: a.TrackingCode(),
	}
	for i, c := range bw.Contests {
		wc := wireAuditedContest{ID: c.ID, Options: make([]wireAuditedOption, len(c.Options)), Proof: c.Proof}
		for j, o := range c.Options {
			wc.Options[j] = wireAuditedOption{
				ID:         o.ID,
				Ciphertext: o.Ciphertext,
				Proof:      o.Proof,
				Selected:   a.selected[i][j] == 1,
				Randomness: encodeHex(a.randomness[i][j].Bytes()),
			}
		}
		w.Contests[i] = wc
	}
	return marshalCanonical(w)
}

// ParseAuditedBallot decodes an audited ballot from its canonical JSON,
// checking that its tracking code is the ballot's.
func ParseAuditedBallot(data []byte) (*AuditedBallot, error) {
	var w wireAuditedBallot
	if err := unmarshalStrict("audited ballot", data, &w); err != nil {
		return nil, err
	}
	if err := checkType("audited ballot", w.Type, typeAuditedBallot); err != nil {
		return nil, err
	}
	b, err := ballotFromWire(w.Election, w.Manifest, w.Credential, len(w.Contests), func(i int) (string, string, int) {
		return w.Contests[i].ID, w.Contests[i].Proof, len(w.Contests[i].Options)
	}, func(i, j int) (string, string, string) {
		o := w.Contests[i].Options[j]
		return o.ID, o.Ciphertext, o.Proof
	})
	if err != nil {
		return nil, err
	}
	a := &AuditedBallot{
		ballot:     b,
		selected:   make([][]uint64, len(w.Contests)),
		randomness: make([][]*ristretto255.Scalar, len(w.Contests)),
	}
	for i, c := range w.Contests {
		a.selected[i] = make([]uint64, len(c.Options))
		a.randomness[i] = make([]*ristretto255.Scalar, len(c.Options))
		for j, o := range c.Options {
			if o.Selected {
				a.selected[i][j] = 1
			}
			if a.randomness[i][j], err = decodeHexScalar(fmt.Sprintf("contest %q option %q randomness", c.ID, o.ID), o.Randomness); err != nil {
				return nil, err
			}
		}
	}
	if w.TrackingCode != a.TrackingCode() {
		return nil, fmt.Errorf("%w: audited ballot: tracking code %q is not the ballot's (%s)", ErrEncoding, w.TrackingCode, a.TrackingCode())
	}
	canonical, err := a.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := checkCanonical("audited ballot", data, canonical); err != nil {
		return nil, err
	}
	return a, nil
}
