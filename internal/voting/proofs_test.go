package voting

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gtank/ristretto255"
)

func plusG(e *ristretto255.Element) *ristretto255.Element {
	return ristretto255.NewIdentityElement().Add(e, ristretto255.NewGeneratorElement())
}

func plusGp(p point) point { return newPoint(plusG(p.e)) }

func plusOne(s *ristretto255.Scalar) *ristretto255.Scalar {
	return ristretto255.NewScalar().Add(s, scalarFromUint(1))
}

func cloneRange(t testing.TB, p *RangeProof) *RangeProof {
	q, err := ParseRangeProof(p.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// rangeStatement is a range proof's statement for tests.
type rangeStatement struct {
	key     *ristretto255.Element
	ct      *Ciphertext
	lo, hi  uint64
	context string
}

func (s rangeStatement) transcript() *Transcript {
	return NewTranscript("test-range").Bytes([]byte(s.context)).Uint(s.lo).Uint(s.hi).points(s.ct.alpha, s.ct.beta)
}

// verifyRangeBothWays checks p one equation at a time and as a batch,
// and fails the test if the two disagree.
func verifyRangeBothWays(t testing.TB, s rangeStatement, p *RangeProof) bool {
	t.Helper()
	if !p.wellFormed(int(s.hi-s.lo) + 1) {
		return false
	}
	cs := rangeChallenges(s.transcript(), p)
	exact := checkRange(p, cs, s.key, s.ct, s.lo)
	bt, err := newBatch(s.key, 2*len(cs))
	if err != nil {
		t.Fatal(err)
	}
	a := bt.point(s.ct.alpha.e, ristretto255.NewScalar())
	b := bt.point(s.ct.beta.e, ristretto255.NewScalar())
	bt.rangeProof(p, cs, s.lo, []int{a}, []int{b})
	if batched := bt.check(); batched != exact {
		t.Fatalf("exact %v, batch %v", exact, batched)
	}
	return exact
}

func TestRangeProofCompletenessAndTampering(t *testing.T) {
	rnd := newSeededReader("range")
	x, _ := RandomScalar(rnd)
	key := ristretto255.NewIdentityElement().ScalarBaseMult(x)
	jk, _ := NewJointKey(key)
	for _, rg := range [][2]uint64{{0, 1}, {1, 1}, {0, 2}, {2, 5}, {0, 0}} {
		for m := rg[0]; m <= rg[1]; m++ {
			r, _ := RandomScalar(rnd)
			ct := encrypt(jk, m, r)
			s := rangeStatement{key: key, ct: ct, lo: rg[0], hi: rg[1], context: "ctx"}
			p, err := proveRange(s.transcript(), key, ct, s.lo, s.hi, m, r, rnd)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("[%d,%d] m=%d", rg[0], rg[1], m)
			if len(p.Bytes()) != RangeProofSize(int(rg[1]-rg[0])+1) {
				t.Errorf("%s: %d bytes", name, len(p.Bytes()))
			}
			if !verifyRangeBothWays(t, s, p) {
				t.Fatalf("%s: honest proof refused", name)
			}
			// Each component of the proof.
			for i := range p.commitments {
				q := cloneRange(t, p)
				q.commitments[i] = plusGp(q.commitments[i])
				if verifyRangeBothWays(t, s, q) {
					t.Errorf("%s: commitment %d changed, accepted", name, i)
				}
			}
			for i := range p.challenges {
				q := cloneRange(t, p)
				q.challenges[i] = plusOne(q.challenges[i])
				if verifyRangeBothWays(t, s, q) {
					t.Errorf("%s: challenge %d changed, accepted", name, i)
				}
			}
			for i := range p.responses {
				q := cloneRange(t, p)
				q.responses[i] = plusOne(q.responses[i])
				if verifyRangeBothWays(t, s, q) {
					t.Errorf("%s: response %d changed, accepted", name, i)
				}
			}
			// Each part of the statement.
			for what, s2 := range map[string]rangeStatement{
				"α":       {key: key, ct: &Ciphertext{alpha: plusGp(ct.alpha), beta: ct.beta}, lo: s.lo, hi: s.hi, context: s.context},
				"β":       {key: key, ct: &Ciphertext{alpha: ct.alpha, beta: plusGp(ct.beta)}, lo: s.lo, hi: s.hi, context: s.context},
				"K":       {key: plusG(key), ct: ct, lo: s.lo, hi: s.hi, context: s.context},
				"context": {key: key, ct: ct, lo: s.lo, hi: s.hi, context: "other"},
				"range":   {key: key, ct: ct, lo: s.lo + 1, hi: s.hi + 1, context: s.context},
			} {
				if verifyRangeBothWays(t, s2, p) {
					t.Errorf("%s: statement's %s changed, accepted", name, what)
				}
			}
		}
	}
}

// simulatedRangeProof is what a prover without a witness can do: simulate
// every branch. Its challenges then do not sum to the hash.
func simulatedRangeProof(t testing.TB, s rangeStatement, rnd *seededReader) *RangeProof {
	n := int(s.hi-s.lo) + 1
	p := &RangeProof{}
	shifted := ristretto255.NewIdentityElement().Subtract(s.ct.beta.e, multipleOfG(s.lo))
	for i := 0; i < n; i++ {
		c, _ := RandomScalar(rnd)
		r, _ := RandomScalar(rnd)
		negC := ristretto255.NewScalar().Negate(c)
		a := ristretto255.NewIdentityElement().VarTimeDoubleScalarBaseMult(negC, s.ct.alpha.e, r)
		b := ristretto255.NewIdentityElement().VarTimeMultiScalarMult([]*ristretto255.Scalar{r, negC}, []*ristretto255.Element{s.key, shifted})
		p.commitments = append(p.commitments, newPoint(a), newPoint(b))
		if i < n-1 {
			p.challenges = append(p.challenges, c)
		}
		p.responses = append(p.responses, r)
		shifted = ristretto255.NewIdentityElement().Subtract(shifted, ristretto255.NewGeneratorElement())
	}
	return p
}

func TestRangeProofOfAValueOutsideTheRangeFails(t *testing.T) {
	rnd := newSeededReader("outside")
	x, _ := RandomScalar(rnd)
	key := ristretto255.NewIdentityElement().ScalarBaseMult(x)
	jk, _ := NewJointKey(key)
	for _, m := range []uint64{2, 5} {
		r, _ := RandomScalar(rnd)
		s := rangeStatement{key: key, ct: encrypt(jk, m, r), lo: 0, hi: 1, context: "ctx"}
		if verifyRangeBothWays(t, s, simulatedRangeProof(t, s, rnd)) {
			t.Errorf("a simulated proof that Enc(%d) is 0 or 1 was accepted", m)
		}
	}
}

func TestRangeProofEncoding(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		// All-zero bytes: the identity and zero are canonical, so only the
		// length decides.
		p, err := ParseRangeProof(make([]byte, RangeProofSize(n)))
		if err != nil || p.values() != n {
			t.Errorf("n=%d: %v", n, err)
		}
	}
	for _, size := range []int{0, 1, 32, 64, 96 + 1, 5 * 32} {
		if _, err := ParseRangeProof(make([]byte, size)); !errors.Is(err, ErrEncoding) {
			t.Errorf("%d bytes: %v", size, err)
		}
	}
	if _, err := ParseRangeProof(make([]byte, RangeProofSize(maxRangeValues+1))); !errors.Is(err, ErrEncoding) {
		t.Errorf("too many values: %v", err)
	}
	bad := make([]byte, RangeProofSize(2))
	copy(bad[6*32:], maxScalarPlusOne())
	if _, err := ParseRangeProof(bad); !errors.Is(err, ErrEncoding) {
		t.Errorf("non-canonical response: %v", err)
	}
	copy(bad, nonCanonicalElement())
	if _, err := ParseRangeProof(bad); !errors.Is(err, ErrEncoding) {
		t.Errorf("non-canonical commitment: %v", err)
	}
}

// maxScalarPlusOne is ℓ, little-endian: not a canonical scalar.
func maxScalarPlusOne() []byte {
	return []byte{
		0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
		0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
	}
}

func TestKnowledgeProof(t *testing.T) {
	rnd := newSeededReader("schnorr")
	x, _ := RandomScalar(rnd)
	X := ristretto255.NewIdentityElement().ScalarBaseMult(x)
	tr := func(ctx string) *Transcript { return NewTranscript("test-knowledge").Bytes([]byte(ctx)) }
	p, err := ProveKnowledge(tr("ctx"), x, rnd)
	if err != nil {
		t.Fatal(err)
	}
	both := func(ctx string, X *ristretto255.Element, p *KnowledgeProof) error {
		err := VerifyKnowledge(tr(ctx), X, p)
		if X != nil && !isIdentity(X) {
			bt, _ := newBatch(X, 1)
			bt.schnorr(p, knowledgeChallenge(tr(ctx), newPoint(X), p), X)
			if bt.check() != (err == nil) {
				t.Fatalf("exact %v, batch %v", err, bt.check())
			}
		}
		return err
	}
	if err := both("ctx", X, p); err != nil {
		t.Fatalf("honest proof: %v", err)
	}
	q, _ := ParseKnowledgeProof(p.Bytes())
	q.a = plusGp(q.a)
	if err := both("ctx", X, q); !errors.Is(err, ErrBadProof) {
		t.Errorf("commitment changed: %v", err)
	}
	q, _ = ParseKnowledgeProof(p.Bytes())
	q.r = plusOne(q.r)
	if err := both("ctx", X, q); !errors.Is(err, ErrBadProof) {
		t.Errorf("response changed: %v", err)
	}
	if err := both("other", X, p); !errors.Is(err, ErrBadProof) {
		t.Errorf("context changed: %v", err)
	}
	if err := both("ctx", plusG(X), p); !errors.Is(err, ErrBadProof) {
		t.Errorf("statement changed: %v", err)
	}
	if err := VerifyKnowledge(tr("ctx"), ristretto255.NewIdentityElement(), p); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("identity: %v", err)
	}
	if _, err := ProveKnowledge(tr("ctx"), ristretto255.NewScalar(), rnd); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("proof of zero: %v", err)
	}
	if _, err := ParseKnowledgeProof(make([]byte, 63)); !errors.Is(err, ErrEncoding) {
		t.Errorf("short: %v", err)
	}
}

func TestDecryptionProof(t *testing.T) {
	rnd := newSeededReader("chaum-pedersen")
	s, _ := RandomScalar(rnd)
	ki := ristretto255.NewIdentityElement().ScalarBaseMult(s)
	r, _ := RandomScalar(rnd)
	alpha := ristretto255.NewIdentityElement().ScalarBaseMult(r)
	d := ristretto255.NewIdentityElement().ScalarMult(s, alpha)
	tr := func(d *ristretto255.Element) *Transcript {
		return NewTranscript("test-decryption").Element(ki, alpha, d)
	}

	p, err := proveDecryption(tr(d), s, alpha, rnd)
	if err != nil {
		t.Fatal(err)
	}
	check := func(p *DecryptionProof, ki, alpha, d *ristretto255.Element) bool {
		c := decryptionChallenge(tr(d), p)
		exact := checkDecryption(p, c, ki, alpha, d)
		bt, _ := newBatch(ki, 2)
		kIdx := bt.point(ki, ristretto255.NewScalar())
		aIdx := bt.point(alpha, ristretto255.NewScalar())
		bt.decryption(p, c, kIdx, aIdx, d)
		if bt.check() != exact {
			t.Fatalf("exact %v, batch %v", exact, !exact)
		}
		return exact
	}
	if !check(p, ki, alpha, d) {
		t.Fatal("honest proof refused")
	}
	tampered := map[string]func() bool{
		"A": func() bool { q, _ := ParseDecryptionProof(p.Bytes()); q.a = plusGp(q.a); return check(q, ki, alpha, d) },
		"B": func() bool { q, _ := ParseDecryptionProof(p.Bytes()); q.b = plusGp(q.b); return check(q, ki, alpha, d) },
		"r": func() bool {
			q, _ := ParseDecryptionProof(p.Bytes())
			q.r = plusOne(q.r)
			return check(q, ki, alpha, d)
		},
		"D":   func() bool { return check(p, ki, alpha, plusG(d)) },
		"K_i": func() bool { return check(p, plusG(ki), alpha, d) },
		"α":   func() bool { return check(p, ki, plusG(alpha), d) },
	}
	for name, f := range tampered {
		if f() {
			t.Errorf("%s changed: accepted", name)
		}
	}
}

func TestTranscriptFramesEveryValue(t *testing.T) {
	a := NewTranscript("x").Bytes([]byte("ab")).Bytes([]byte("c")).Digest()
	b := NewTranscript("x").Bytes([]byte("a")).Bytes([]byte("bc")).Digest()
	c := NewTranscript("xa").Bytes([]byte("b")).Bytes([]byte("c")).Digest()
	if a == b || a == c || b == c {
		t.Error("different sequences of values hash alike")
	}
	if NewTranscript("option-proof").Challenge().Equal(NewTranscript("contest-proof").Challenge()) == 1 {
		t.Error("labels do not separate")
	}
}
