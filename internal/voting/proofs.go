package voting

import (
	"crypto/subtle"
	"fmt"
	"io"

	"github.com/gtank/ristretto255"
)

// The proofs are sigma protocols made non-interactive by the strong
// Fiat–Shamir transform: each challenge is computed from a [Transcript]
// that the caller has started with the proof's label and statement, and
// to which the prover and the verifier append every commitment, in order.
// Proofs keep their commitments (rather than only challenges and
// responses), so that many proofs can be checked at once by a random
// linear combination of their equations ([batch]).

// RangeProof proves that a ciphertext (α, β) under K encrypts a value v
// in [lo, hi], without revealing v: a disjunction of Chaum–Pedersen
// proofs, one per value, of which all but one are simulated (Cramer,
// Damgård and Schoenmakers, "Proofs of partial knowledge and simplified
// design of witness hiding protocols", CRYPTO 1994). For each v in
// [lo, hi] it holds commitments A_v, B_v, a challenge c_v and a response
// r_v such that
//
//	r_v·G = A_v + c_v·α
//	r_v·K = B_v + c_v·(β − v·G)
//	Σ c_v = H(statement, A_lo, B_lo, …, A_hi, B_hi)
//
// The last challenge c_hi is not encoded: it is the hash minus the others.
// With [lo, hi] = [0, 1] it proves that an option is selected or not.
type RangeProof struct {
	commitments []point                // A_lo, B_lo, A_lo+1, B_lo+1, …
	challenges  []*ristretto255.Scalar // c_lo … c_hi−1
	responses   []*ristretto255.Scalar // r_lo … r_hi
}

// maxRangeValues bounds the number of values a range proof covers.
const maxRangeValues = MaxOptions + 1

// RangeProofSize is the length of the encoding of a proof over n values:
// 2n commitments, n − 1 challenges and n responses, 32 bytes each.
func RangeProofSize(n int) int { return (4*n - 1) * 32 }

// ParseRangeProof decodes A_lo ‖ B_lo ‖ … ‖ A_hi ‖ B_hi ‖ c_lo ‖ … ‖ c_hi−1 ‖ r_lo ‖ … ‖ r_hi.
// The number of values is implied by the length.
func ParseRangeProof(b []byte) (*RangeProof, error) {
	if len(b)%32 != 0 || (len(b)/32+1)%4 != 0 {
		return nil, fmt.Errorf("%w: range proof of %d bytes is not (4n − 1)·32", ErrEncoding, len(b))
	}
	n := (len(b)/32 + 1) / 4
	if n > maxRangeValues {
		return nil, fmt.Errorf("%w: range proof over %d values, at most %d", ErrEncoding, n, maxRangeValues)
	}
	p := &RangeProof{
		commitments: make([]point, 2*n),
		challenges:  make([]*ristretto255.Scalar, n-1),
		responses:   make([]*ristretto255.Scalar, n),
	}
	var err error
	for i := range p.commitments {
		if p.commitments[i], err = decodePoint(b[:32]); err != nil {
			return nil, fmt.Errorf("range proof commitment: %w", err)
		}
		b = b[32:]
	}
	for i := range p.challenges {
		if p.challenges[i], err = DecodeScalar(b[:32]); err != nil {
			return nil, fmt.Errorf("range proof challenge: %w", err)
		}
		b = b[32:]
	}
	for i := range p.responses {
		if p.responses[i], err = DecodeScalar(b[:32]); err != nil {
			return nil, fmt.Errorf("range proof response: %w", err)
		}
		b = b[32:]
	}
	return p, nil
}

// Bytes is the canonical encoding.
func (p *RangeProof) Bytes() []byte {
	b := make([]byte, 0, RangeProofSize(len(p.responses)))
	for i := range p.commitments {
		b = append(b, p.commitments[i].enc[:]...)
	}
	for _, s := range p.challenges {
		b = s.Encode(b)
	}
	for _, s := range p.responses {
		b = s.Encode(b)
	}
	return b
}

// values is the number of values the proof covers.
func (p *RangeProof) values() int { return len(p.responses) }

// wellFormed reports whether p has the parts of a proof over n values.
func (p *RangeProof) wellFormed(n int) bool {
	return p != nil && n >= 1 && len(p.responses) == n && len(p.challenges) == n-1 && len(p.commitments) == 2*n
}

// proveRange proves that ct = Enc(m; r) under k encrypts a value in
// [lo, hi]; t holds the label and statement. It runs in time independent
// of m (which value is real and which are simulated), and reads two
// scalars of randomness per value, c_v then w_v, in order of v.
func proveRange(t *Transcript, k *ristretto255.Element, ct *Ciphertext, lo, hi, m uint64, r *ristretto255.Scalar, rnd io.Reader) (*RangeProof, error) {
	if hi < lo || hi-lo >= maxRangeValues || m < lo || m > hi {
		panic("voting: range proof of a value outside its range") // callers check choices first
	}
	n := int(hi-lo) + 1
	p := &RangeProof{
		commitments: make([]point, 2*n),
		challenges:  make([]*ristretto255.Scalar, n),
		responses:   make([]*ristretto255.Scalar, n),
	}
	real := make([]*ristretto255.Scalar, n) // 1 for v = m, else 0
	sum := ristretto255.NewScalar()         // Σ of the simulated challenges
	shifted := copyElement(ct.beta.e)       // β − v·G
	if lo > 0 {
		shifted.Subtract(shifted, multipleOfG(lo))
	}
	g := ristretto255.NewGeneratorElement()
	for i := 0; i < n; i++ {
		v := lo + uint64(i)
		c, err := RandomScalar(rnd)
		if err != nil {
			return nil, err
		}
		w, err := RandomScalar(rnd)
		if err != nil {
			return nil, err
		}
		isReal := uint64(subtle.ConstantTimeEq(int32(v), int32(m)))
		real[i] = scalarFromUint(isReal)
		// The real branch has c = 0 here, so that A = w·G and B = w·K;
		// a simulated one has A = w·G − c·α and B = w·K − c·(β − v·G).
		c.Multiply(c, scalarFromUint(1-isReal))
		negC := ristretto255.NewScalar().Negate(c)
		a := ristretto255.NewIdentityElement().ScalarBaseMult(w)
		a.Add(a, ristretto255.NewIdentityElement().ScalarMult(negC, ct.alpha.e))
		b := ristretto255.NewIdentityElement().MultiScalarMult(
			[]*ristretto255.Scalar{w, negC}, []*ristretto255.Element{k, shifted})
		p.commitments[2*i], p.commitments[2*i+1] = newPoint(a), newPoint(b)
		p.challenges[i], p.responses[i] = c, w
		sum.Add(sum, c)
		shifted = ristretto255.NewIdentityElement().Subtract(shifted, g)
	}
	t.points(p.commitments...)
	cReal := ristretto255.NewScalar().Subtract(t.Challenge(), sum)
	for i := 0; i < n; i++ {
		// c_m = hash − Σ simulated; r_m = w + c_m·r. Simulated ones stay.
		add := ristretto255.NewScalar().Multiply(real[i], cReal)
		p.challenges[i].Add(p.challenges[i], add)
		add.Multiply(add, r)
		p.responses[i].Add(p.responses[i], add)
	}
	p.challenges = p.challenges[:n-1]
	return p, nil
}

// rangeChallenges appends p's commitments to t and returns all n
// challenges, the last one derived from the hash.
func rangeChallenges(t *Transcript, p *RangeProof) []*ristretto255.Scalar {
	t.points(p.commitments...)
	last := t.Challenge()
	cs := make([]*ristretto255.Scalar, 0, len(p.responses))
	for _, c := range p.challenges {
		cs = append(cs, c)
		last.Subtract(last, c)
	}
	return append(cs, last)
}

// checkRange checks p's equations one by one, for the ciphertext (α, β)
// and the challenges cs from rangeChallenges.
func checkRange(p *RangeProof, cs []*ristretto255.Scalar, k *ristretto255.Element, ct *Ciphertext, lo uint64) bool {
	shifted := copyElement(ct.beta.e)
	if lo > 0 {
		shifted.Subtract(shifted, multipleOfG(lo))
	}
	g := ristretto255.NewGeneratorElement()
	for i, c := range cs {
		if !checkG(p.responses[i], p.commitments[2*i].e, c, ct.alpha.e) ||
			!checkP(k, p.responses[i], p.commitments[2*i+1].e, c, shifted) {
			return false
		}
		shifted = ristretto255.NewIdentityElement().Subtract(shifted, g)
	}
	return true
}

// checkG reports whether r·G = A + c·X.
func checkG(r *ristretto255.Scalar, a *ristretto255.Element, c *ristretto255.Scalar, x *ristretto255.Element) bool {
	negC := ristretto255.NewScalar().Negate(c)
	lhs := ristretto255.NewIdentityElement().VarTimeDoubleScalarBaseMult(negC, x, r)
	return lhs.Equal(a) == 1
}

// checkP reports whether r·P = A + c·X.
func checkP(p *ristretto255.Element, r *ristretto255.Scalar, a *ristretto255.Element, c *ristretto255.Scalar, x *ristretto255.Element) bool {
	negC := ristretto255.NewScalar().Negate(c)
	lhs := ristretto255.NewIdentityElement().VarTimeMultiScalarMult(
		[]*ristretto255.Scalar{r, negC}, []*ristretto255.Element{p, x})
	return lhs.Equal(a) == 1
}

// DecryptionProofSize is the length of a decryption proof's encoding A ‖ B ‖ r.
const DecryptionProofSize = 3 * 32

// DecryptionProof proves that a partial decryption D = s·α uses the same
// secret s as the trustee's verification key K_i = s·G (Chaum and
// Pedersen, "Wallet databases with observers", CRYPTO 1992):
//
//	r·G = A + c·K_i
//	r·α = B + c·D
//	c = H(statement, A, B)
type DecryptionProof struct {
	a, b point
	r    *ristretto255.Scalar
}

// ParseDecryptionProof decodes A ‖ B ‖ r.
func ParseDecryptionProof(b []byte) (*DecryptionProof, error) {
	if len(b) != DecryptionProofSize {
		return nil, fmt.Errorf("%w: decryption proof of %d bytes, want %d", ErrEncoding, len(b), DecryptionProofSize)
	}
	a, err := decodePoint(b[:32])
	if err != nil {
		return nil, fmt.Errorf("decryption proof: %w", err)
	}
	bb, err := decodePoint(b[32:64])
	if err != nil {
		return nil, fmt.Errorf("decryption proof: %w", err)
	}
	r, err := DecodeScalar(b[64:])
	if err != nil {
		return nil, fmt.Errorf("decryption proof: %w", err)
	}
	return &DecryptionProof{a: a, b: bb, r: r}, nil
}

// Bytes is the canonical encoding A ‖ B ‖ r.
func (p *DecryptionProof) Bytes() []byte {
	b := make([]byte, 0, DecryptionProofSize)
	b = append(b, p.a.enc[:]...)
	b = append(b, p.b.enc[:]...)
	return p.r.Encode(b)
}

// proveDecryption proves D = s·α for K_i = s·G; t holds the label and
// statement (which includes D). It reads one scalar of randomness.
func proveDecryption(t *Transcript, s *ristretto255.Scalar, alpha *ristretto255.Element, rnd io.Reader) (*DecryptionProof, error) {
	w, err := RandomScalar(rnd)
	if err != nil {
		return nil, err
	}
	p := &DecryptionProof{
		a: newPoint(ristretto255.NewIdentityElement().ScalarBaseMult(w)),
		b: newPoint(ristretto255.NewIdentityElement().ScalarMult(w, alpha)),
	}
	c := t.points(p.a, p.b).Challenge()
	p.r = w.Add(w, c.Multiply(c, s))
	return p, nil
}

// decryptionChallenge appends p's commitments to t and returns the challenge.
func decryptionChallenge(t *Transcript, p *DecryptionProof) *ristretto255.Scalar {
	return t.points(p.a, p.b).Challenge()
}

func checkDecryption(p *DecryptionProof, c *ristretto255.Scalar, ki, alpha, d *ristretto255.Element) bool {
	return checkG(p.r, p.a.e, c, ki) && checkP(alpha, p.r, p.b.e, c, d)
}

// KnowledgeProofSize is the length of a knowledge proof's encoding A ‖ r.
const KnowledgeProofSize = 2 * 32

// KnowledgeProof is a Schnorr proof of knowledge of x such that X = x·G
// (Schnorr, "Efficient signature generation by smart cards", 1991):
//
//	r·G = A + c·X,   c = H(statement, X, A)
//
// Bound to a message in its statement, it is a Schnorr signature; a
// ballot's signature by its credential is one.
type KnowledgeProof struct {
	a point
	r *ristretto255.Scalar
}

// ProveKnowledge proves knowledge of x for X = x·G. The caller starts t
// with a label of its own and the statement's context (for the DKG: the
// ceremony, the trustee and the coefficient); ProveKnowledge appends X
// and the commitment A. It reads one scalar of randomness from rnd
// (crypto/rand when nil). x must not be zero.
func ProveKnowledge(t *Transcript, x *ristretto255.Scalar, rnd io.Reader) (*KnowledgeProof, error) {
	if isZero(x) {
		return nil, fmt.Errorf("%w: proof of knowledge of zero", ErrInvalidKey)
	}
	w, err := RandomScalar(rnd)
	if err != nil {
		return nil, err
	}
	a := newPoint(ristretto255.NewIdentityElement().ScalarBaseMult(w))
	c := t.Element(ristretto255.NewIdentityElement().ScalarBaseMult(x)).points(a).Challenge()
	return &KnowledgeProof{a: a, r: w.Add(w, c.Multiply(c, x))}, nil
}

// VerifyKnowledge checks p for X against a transcript started exactly as
// the prover's was. X must not be the identity.
func VerifyKnowledge(t *Transcript, x *ristretto255.Element, p *KnowledgeProof) error {
	if x == nil || isIdentity(x) {
		return fmt.Errorf("%w: proof of knowledge for the identity", ErrInvalidKey)
	}
	if p == nil || !checkG(p.r, p.a.e, t.Element(x).points(p.a).Challenge(), x) {
		return ErrBadProof
	}
	return nil
}

// knowledgeChallenge appends X and A to t and returns the challenge.
func knowledgeChallenge(t *Transcript, x point, p *KnowledgeProof) *ristretto255.Scalar {
	return t.points(x, p.a).Challenge()
}

// ParseKnowledgeProof decodes A ‖ r.
func ParseKnowledgeProof(b []byte) (*KnowledgeProof, error) {
	if len(b) != KnowledgeProofSize {
		return nil, fmt.Errorf("%w: knowledge proof of %d bytes, want %d", ErrEncoding, len(b), KnowledgeProofSize)
	}
	a, err := decodePoint(b[:32])
	if err != nil {
		return nil, fmt.Errorf("knowledge proof: %w", err)
	}
	r, err := DecodeScalar(b[32:])
	if err != nil {
		return nil, fmt.Errorf("knowledge proof: %w", err)
	}
	return &KnowledgeProof{a: a, r: r}, nil
}

// Bytes is the canonical encoding A ‖ r.
func (p *KnowledgeProof) Bytes() []byte {
	b := make([]byte, 0, KnowledgeProofSize)
	b = append(b, p.a.enc[:]...)
	return p.r.Encode(b)
}
