package voting

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/gtank/ristretto255"
)

// Choices are a voter's selections: for each contest id, the ids of the
// selected options. A contest left out has no selection, which is valid
// when its Min is 0.
type Choices map[string][]string

// Ballot is an encrypted, signed ballot: per contest, per option, a
// ciphertext of 0 or 1 with a proof that it is one of the two; per
// contest, a proof that the number of selections is within the
// contest's bounds; and a Schnorr signature by the voter's credential.
// A Ballot that [Election.VerifyBallot] accepts may be counted.
type Ballot struct {
	election   string
	manifest   [32]byte
	credential *PublicCredential
	contests   []ballotContest
	signature  *KnowledgeProof
}

type ballotContest struct {
	id      string
	options []ballotOption
	proof   *RangeProof // Σ selections ∈ [min, max]
}

type ballotOption struct {
	id         string
	ciphertext *Ciphertext
	proof      *RangeProof // selection ∈ {0, 1}
}

// Election is the id of the election the ballot says it is for.
func (b *Ballot) Election() string { return b.election }

// Credential is the ballot's public credential: the voter's ballot
// identity. The ballot box counts one ballot per published credential.
func (b *Ballot) Credential() *PublicCredential { return b.credential }

// Hash is the ballot digest: the [Transcript] digest, label "ballot", of
// everything but the signature (docs/election-record.md, "Ballot digest").
// Two ballots with the same hash are the same ballot.
func (b *Ballot) Hash() [32]byte {
	t := NewTranscript("ballot").
		Bytes([]byte(b.election)).
		Bytes(b.manifest[:]).
		points(b.credential.u).
		Uint(uint64(len(b.contests)))
	for _, c := range b.contests {
		t.Bytes([]byte(c.id)).Uint(uint64(len(c.options)))
		for _, o := range c.options {
			t.Bytes([]byte(o.id)).Bytes(o.ciphertext.Bytes()).Bytes(o.proof.Bytes())
		}
		t.Bytes(c.proof.Bytes())
	}
	return t.Digest()
}

// TrackingCode is the short code by which a voter finds their ballot on
// the public ballot box (see [TrackingCode]).
func (b *Ballot) TrackingCode() string {
	return TrackingCode(b.Hash())
}

// trackingAlphabet is Crockford's base32: no I, L, O or U.
const trackingAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// TrackingCodeLength is the number of characters of a tracking code,
// without its hyphens: 20 characters of 5 bits, the first 100 bits of the
// ballot digest.
const TrackingCodeLength = 20

// TrackingCode is the tracking code of a ballot digest: the first 100
// bits of the digest, most significant bit first, in Crockford's base32,
// written in four groups of five separated by hyphens, such as
// "7KQ2M-XD0FA-…". It is printed to the voter at encryption; it is the
// same whether the ballot is then cast or audited.
func TrackingCode(digest [32]byte) string {
	var b strings.Builder
	for i := 0; i < TrackingCodeLength; i++ {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		bit := i * 5
		// 5 bits starting at bit, across at most two bytes.
		v := uint(digest[bit/8])<<8 | uint(digest[bit/8+1])
		b.WriteByte(trackingAlphabet[(v>>(11-bit%8))&31])
	}
	return b.String()
}

// ParseTrackingCode normalises a tracking code as a person types it:
// case, spaces and hyphens do not matter, and O is read as 0, I and L as
// 1 (Crockford). It returns the code as [TrackingCode] writes it.
func ParseTrackingCode(typed string) (string, error) {
	var chars []byte
	for _, r := range strings.ToUpper(typed) {
		switch r {
		case ' ', '-':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 0x7f || strings.IndexRune(trackingAlphabet, r) < 0 {
			return "", fmt.Errorf("%w: tracking code: %q is not a tracking-code character", ErrEncoding, r)
		}
		chars = append(chars, byte(r))
	}
	if len(chars) != TrackingCodeLength {
		return "", fmt.Errorf("%w: tracking code of %d characters, want %d", ErrEncoding, len(chars), TrackingCodeLength)
	}
	var b strings.Builder
	for i, c := range chars {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// The transcripts of a ballot's proofs and signature; their inputs are
// listed in docs/election-record.md.

func (e *Election) optionTranscript(u *PublicCredential, contest, option string, ct *Ciphertext) *Transcript {
	return NewTranscript("option-proof").
		Bytes(e.digest[:]).
		points(e.key.k, u.u).
		Bytes([]byte(contest)).
		Bytes([]byte(option)).
		points(ct.alpha, ct.beta)
}

func (e *Election) contestTranscript(u *PublicCredential, c *Contest, sum *Ciphertext) *Transcript {
	return NewTranscript("contest-proof").
		Bytes(e.digest[:]).
		points(e.key.k, u.u).
		Bytes([]byte(c.ID)).
		Uint(uint64(c.Min)).
		Uint(uint64(c.Max)).
		points(sum.alpha, sum.beta)
}

func (e *Election) signatureTranscript(hash [32]byte) *Transcript {
	return NewTranscript("ballot-signature").
		Bytes(e.digest[:]).
		points(e.key.k).
		Bytes(hash[:])
}

// selections checks choices against the manifest and returns, per
// contest and option, 1 if selected and 0 if not.
func (e *Election) selections(choices Choices) ([][]uint64, error) {
	known := map[string]bool{}
	sel := make([][]uint64, len(e.manifest.Contests))
	for i, c := range e.manifest.Contests {
		known[c.ID] = true
		sel[i] = make([]uint64, len(c.Options))
		chosen := map[string]bool{}
		for _, id := range choices[c.ID] {
			if chosen[id] {
				return nil, &FieldError{Err: ErrInvalidChoices, Field: c.ID, Problem: fmt.Sprintf("option %q selected twice", id)}
			}
			chosen[id] = true
		}
		n := 0
		for j, o := range c.Options {
			if chosen[o.ID] {
				sel[i][j] = 1
				n++
				delete(chosen, o.ID)
			}
		}
		for id := range chosen {
			return nil, &FieldError{Err: ErrInvalidChoices, Field: c.ID, Problem: fmt.Sprintf("%q is not an option of the contest", id)}
		}
		if n < c.Min || n > c.Max {
			return nil, &FieldError{Err: ErrInvalidChoices, Field: c.ID, Problem: fmt.Sprintf("%d selections, want %d to %d", n, c.Min, c.Max)}
		}
	}
	var unknown []string
	for id := range choices {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &FieldError{Err: ErrInvalidChoices, Field: unknown[0], Problem: "not a contest of the election"}
	}
	return sel, nil
}

// Encrypt encrypts the voter's choices under the election's joint key,
// proves them well formed and signs the result with the credential. rnd
// is the source of randomness (crypto/rand when nil; anything else only
// in tests). The booth shows the [PendingBallot]'s tracking code, then
// the voter either casts it or audits it.
//
// Randomness is read in this order: per contest, per option, the
// encryption randomness r, then the option proof's c₀, w₀, c₁, w₁; after
// the options of a contest, c_v, w_v for each v from Min to Max; last, the
// signature's nonce. Each is 64 bytes reduced mod ℓ ([RandomScalar]).
func (e *Election) Encrypt(cred *Credential, choices Choices, rnd io.Reader) (*PendingBallot, error) {
	if cred == nil {
		return nil, fmt.Errorf("%w: no credential", ErrInvalidKey)
	}
	if cred.election != e.manifest.ID {
		return nil, fmt.Errorf("%w: the credential is for election %q, not %q", ErrWrongElection, cred.election, e.manifest.ID)
	}
	sel, err := e.selections(choices)
	if err != nil {
		return nil, err
	}
	b := &Ballot{
		election:   e.manifest.ID,
		manifest:   e.digest,
		credential: cred.public,
		contests:   make([]ballotContest, len(e.manifest.Contests)),
	}
	randomness := make([][]*ristretto255.Scalar, len(sel))
	for i := range e.manifest.Contests {
		c := &e.manifest.Contests[i]
		bc := ballotContest{id: c.ID, options: make([]ballotOption, len(c.Options))}
		sum, sumR, count := newCiphertextSum(), ristretto255.NewScalar(), uint64(0)
		randomness[i] = make([]*ristretto255.Scalar, len(c.Options))
		for j, o := range c.Options {
			r, err := RandomScalar(rnd)
			if err != nil {
				return nil, err
			}
			ct := encrypt(e.key, sel[i][j], r)
			proof, err := proveRange(e.optionTranscript(cred.public, c.ID, o.ID, ct), e.key.k.e, ct, 0, 1, sel[i][j], r, rnd)
			if err != nil {
				return nil, err
			}
			bc.options[j] = ballotOption{id: o.ID, ciphertext: ct, proof: proof}
			randomness[i][j] = r
			sum.add(ct)
			sumR.Add(sumR, r)
			count += sel[i][j]
		}
		total := sum.ciphertext()
		bc.proof, err = proveRange(e.contestTranscript(cred.public, c, total), e.key.k.e, total, uint64(c.Min), uint64(c.Max), count, sumR, rnd)
		if err != nil {
			return nil, err
		}
		b.contests[i] = bc
	}
	sig, err := ProveKnowledge(e.signatureTranscript(b.Hash()), cred.u, rnd)
	if err != nil {
		return nil, err
	}
	return &PendingBallot{ballot: b, signature: sig, selected: sel, randomness: randomness, tracking: b.TrackingCode()}, nil
}

// PendingBallot is an encrypted ballot that is not yet cast or audited.
// Exactly one of Cast and Audit succeeds, once: a ballot whose randomness
// was revealed must never be counted, and a cast ballot's randomness must
// not outlive the booth.
type PendingBallot struct {
	mu         sync.Mutex
	ballot     *Ballot
	signature  *KnowledgeProof
	selected   [][]uint64
	randomness [][]*ristretto255.Scalar
	tracking   string
	spent      bool
}

// TrackingCode is the ballot's tracking code, to show the voter before
// they choose to cast or audit.
func (p *PendingBallot) TrackingCode() string { return p.tracking }

// Cast returns the signed ballot to send to the ballot box and forgets
// the randomness.
func (p *PendingBallot) Cast() (*Ballot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.spent {
		return nil, ErrSpent
	}
	p.spent = true
	for _, rs := range p.randomness {
		for _, r := range rs {
			r.Zero()
		}
	}
	b := p.ballot
	b.signature = p.signature
	p.ballot, p.signature, p.randomness = nil, nil, nil
	return b, nil
}

// Audit returns the audited ballot — the ballot without its signature,
// with the choices and the randomness of every ciphertext — for any
// verifier to check with [Election.VerifyAudit]. The ballot can no
// longer be cast.
func (p *PendingBallot) Audit() (*AuditedBallot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.spent {
		return nil, ErrSpent
	}
	p.spent = true
	a := &AuditedBallot{ballot: p.ballot, selected: p.selected, randomness: p.randomness}
	p.ballot, p.signature, p.randomness = nil, nil, nil
	return a, nil
}

// AuditedBallot is a ballot opened by a Benaloh challenge: its
// ciphertexts, proofs and tracking code, with the choices and the
// encryption randomness, but no signature. It has its own type and
// encoding, and [ParseBallot] refuses it, so it cannot be counted.
type AuditedBallot struct {
	ballot     *Ballot // signature nil
	selected   [][]uint64
	randomness [][]*ristretto255.Scalar
}

// TrackingCode is the tracking code the booth showed for this ballot.
func (a *AuditedBallot) TrackingCode() string { return a.ballot.TrackingCode() }

// Election is the id of the election the audited ballot says it is for.
func (a *AuditedBallot) Election() string { return a.ballot.election }

// checkShape checks b's election, manifest digest, contests and options
// against e, without any group operation.
func (e *Election) checkShape(b *Ballot) error {
	if b.election != e.manifest.ID {
		return fmt.Errorf("%w: ballot for election %q, not %q", ErrWrongElection, b.election, e.manifest.ID)
	}
	if b.manifest != e.digest {
		return fmt.Errorf("%w: ballot for manifest %s, not %s", ErrWrongElection, encodeHex(b.manifest[:]), encodeHex(e.digest[:]))
	}
	if b.credential == nil {
		return fmt.Errorf("%w: no credential", ErrShape)
	}
	if len(b.contests) != len(e.manifest.Contests) {
		return fmt.Errorf("%w: %d contests, the manifest has %d", ErrShape, len(b.contests), len(e.manifest.Contests))
	}
	for i, c := range e.manifest.Contests {
		bc := &b.contests[i]
		if bc.id != c.ID {
			return fmt.Errorf("%w: contest %d is %q, the manifest's is %q", ErrShape, i+1, bc.id, c.ID)
		}
		if len(bc.options) != len(c.Options) {
			return fmt.Errorf("%w: contest %q has %d options, the manifest's has %d", ErrShape, c.ID, len(bc.options), len(c.Options))
		}
		if !bc.proof.wellFormed(c.Max - c.Min + 1) {
			return fmt.Errorf("%w: contest %q: the proof of the number of selections is not over %d to %d", ErrShape, c.ID, c.Min, c.Max)
		}
		for j, o := range c.Options {
			bo := &bc.options[j]
			if bo.id != o.ID {
				return fmt.Errorf("%w: contest %q: option %d is %q, the manifest's is %q", ErrShape, c.ID, j+1, bo.id, o.ID)
			}
			if bo.ciphertext == nil || !bo.proof.wellFormed(2) {
				return fmt.Errorf("%w: contest %q, option %q: no ciphertext or a proof not over 0 and 1", ErrShape, c.ID, o.ID)
			}
		}
	}
	return nil
}

// ballotCheck is a ballot whose shape is checked and whose challenges
// are computed: what is left are the group equations, checked one by one
// (exact) or with other ballots' (batch).
type ballotCheck struct {
	b        *Ballot
	sig      *ristretto255.Scalar       // signature challenge, nil for an audited ballot
	options  [][][]*ristretto255.Scalar // contest, option → c₀, c₁
	contests [][]*ristretto255.Scalar   // contest → c_min … c_max
	sums     []*Ciphertext              // contest → Σ of its ciphertexts
}

// prepare checks b's shape and computes its challenges. signed is false
// for an audited ballot, which has no signature.
func (e *Election) prepare(b *Ballot, signed bool) (*ballotCheck, error) {
	if err := e.checkShape(b); err != nil {
		return nil, err
	}
	chk := &ballotCheck{
		b:        b,
		options:  make([][][]*ristretto255.Scalar, len(b.contests)),
		contests: make([][]*ristretto255.Scalar, len(b.contests)),
		sums:     make([]*Ciphertext, len(b.contests)),
	}
	if signed {
		if b.signature == nil {
			return nil, fmt.Errorf("%w: no signature", ErrShape)
		}
		chk.sig = knowledgeChallenge(e.signatureTranscript(b.Hash()), b.credential.u, b.signature)
	}
	for i := range b.contests {
		bc, c := &b.contests[i], &e.manifest.Contests[i]
		chk.options[i] = make([][]*ristretto255.Scalar, len(bc.options))
		sum := newCiphertextSum()
		for j := range bc.options {
			bo := &bc.options[j]
			chk.options[i][j] = rangeChallenges(e.optionTranscript(b.credential, c.ID, bo.id, bo.ciphertext), bo.proof)
			sum.add(bo.ciphertext)
		}
		chk.sums[i] = sum.ciphertext()
		chk.contests[i] = rangeChallenges(e.contestTranscript(b.credential, c, chk.sums[i]), bc.proof)
	}
	return chk, nil
}

// exact checks every equation of chk one by one and names the first that
// fails.
func (e *Election) exact(chk *ballotCheck) error {
	b := chk.b
	if chk.sig != nil && !checkG(b.signature.r, b.signature.a.e, chk.sig, b.credential.u.e) {
		return ErrSignature
	}
	for i := range b.contests {
		bc := &b.contests[i]
		for j := range bc.options {
			bo := &bc.options[j]
			if !checkRange(bo.proof, chk.options[i][j], e.key.k.e, bo.ciphertext, 0) {
				return &ProofError{Contest: bc.id, Option: bo.id}
			}
		}
		if !checkRange(bc.proof, chk.contests[i], e.key.k.e, chk.sums[i], uint64(e.manifest.Contests[i].Min)) {
			return &ProofError{Contest: bc.id}
		}
	}
	return nil
}

// VerifyBallot checks that b is a ballot of this election that may be
// counted: its election id and manifest digest, its contests and options
// against the manifest, every proof, and its signature by its
// credential. It does not check that the credential is published or
// unused: that is the ballot box's rule. The error wraps
// [ErrWrongElection], [ErrShape], [ErrSignature] or [ErrBadProof] (as a
// [*ProofError] naming the contest and option).
func (e *Election) VerifyBallot(b *Ballot) error {
	chk, err := e.prepare(b, true)
	if err != nil {
		return err
	}
	return e.verifyPrepared(chk)
}

// VerifyAudit checks an audited ballot: its shape and proofs, as for a
// ballot to count, and that each ciphertext is the encryption of the
// stated selection with the revealed randomness. It returns the choices
// the ballot encrypts. The caller compares the tracking code with the
// one the booth showed.
func (e *Election) VerifyAudit(a *AuditedBallot) (Choices, error) {
	b := a.ballot
	chk, err := e.prepare(b, false)
	if err != nil {
		return nil, err
	}
	if len(a.selected) != len(b.contests) || len(a.randomness) != len(b.contests) {
		return nil, fmt.Errorf("%w: audited ballot without a selection for each contest", ErrShape)
	}
	choices := Choices{}
	for i := range b.contests {
		bc, c := &b.contests[i], &e.manifest.Contests[i]
		if len(a.selected[i]) != len(bc.options) || len(a.randomness[i]) != len(bc.options) {
			return nil, fmt.Errorf("%w: audited ballot without a selection for each option of contest %q", ErrShape, c.ID)
		}
		n := 0
		for j := range bc.options {
			bo := &bc.options[j]
			if a.selected[i][j] > 1 || !encrypt(e.key, a.selected[i][j], a.randomness[i][j]).Equal(bo.ciphertext) {
				return nil, fmt.Errorf("%w: contest %q, option %q: the ciphertext is not the encryption of the stated selection with the revealed randomness", ErrAudit, c.ID, bo.id)
			}
			if a.selected[i][j] == 1 {
				choices[c.ID] = append(choices[c.ID], bo.id)
				n++
			}
		}
		if n < c.Min || n > c.Max {
			return nil, fmt.Errorf("%w: contest %q: %d selections, want %d to %d", ErrAudit, c.ID, n, c.Min, c.Max)
		}
	}
	if err := e.exact(chk); err != nil {
		return nil, err
	}
	return choices, nil
}
