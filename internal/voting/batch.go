package voting

import (
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/gtank/ristretto255"
)

// Batch verification. Every proof equation has the form
//
//	r·P = A + c·X        (P is G, K or a ciphertext's α)
//
// which holds exactly when A + c·X − r·P is the identity. A batch draws
// an independent random 128-bit weight z for each equation and checks
// that Σ z·(A + c·X − r·P) is the identity, with one multi-scalar
// multiplication in which the coefficients of G, of K and of each point
// that appears in several equations are added up first. ristretto255 has
// prime order ℓ, so if any equation fails the sum is the identity with
// probability at most 2⁻¹²⁸ over the weights (Bellare, Garay and Rabin,
// "Fast batch verification for modular exponentiation and digital
// signatures", EUROCRYPT 1998, small-exponents test). The weights come
// from crypto/rand after the ballots are fixed. A failed batch is
// checked again one equation at a time, to name the culprit, so batch and
// one-by-one verification accept the same ballots.

// weightSize is the number of random bytes of a weight.
const weightSize = 16

// batch accumulates the terms of one multi-scalar multiplication.
type batch struct {
	g, k    *ristretto255.Scalar // coefficients of G and K
	kPoint  *ristretto255.Element
	scalars []*ristretto255.Scalar
	points  []*ristretto255.Element
	weights []byte
}

// newBatch starts a batch for about n equations under the joint key k.
func newBatch(k *ristretto255.Element, n int) (*batch, error) {
	b := &batch{
		g:       ristretto255.NewScalar(),
		k:       ristretto255.NewScalar(),
		kPoint:  k,
		scalars: make([]*ristretto255.Scalar, 0, 2*n),
		points:  make([]*ristretto255.Element, 0, 2*n),
		weights: make([]byte, n*weightSize),
	}
	if _, err := io.ReadFull(randReader, b.weights); err != nil {
		return nil, fmt.Errorf("voting: reading randomness: %w", err)
	}
	return b, nil
}

// weight returns the next random weight z < 2¹²⁸.
func (b *batch) weight() *ristretto255.Scalar {
	if len(b.weights) < weightSize {
		more := make([]byte, 64*weightSize)
		if _, err := io.ReadFull(randReader, more); err != nil {
			panic("voting: reading randomness: " + err.Error())
		}
		b.weights = more
	}
	var w [ScalarSize]byte
	copy(w[:], b.weights[:weightSize])
	b.weights = b.weights[weightSize:]
	z, err := ristretto255.NewScalar().SetCanonicalBytes(w[:])
	if err != nil {
		panic("voting: a 128-bit weight is not canonical") // cannot happen
	}
	return z
}

// point adds the term s·P and returns its index, for adding to s later.
func (b *batch) point(p *ristretto255.Element, s *ristretto255.Scalar) int {
	b.points = append(b.points, p)
	b.scalars = append(b.scalars, s)
	return len(b.points) - 1
}

// addTo adds s to the coefficient of the point at index i.
func (b *batch) addTo(i int, s *ristretto255.Scalar) {
	b.scalars[i].Add(b.scalars[i], s)
}

// mulSub sets acc = acc − x·y.
func mulSub(acc, x, y *ristretto255.Scalar) {
	acc.Subtract(acc, ristretto255.NewScalar().Multiply(x, y))
}

// schnorr adds z·(A + c·X − r·G), for a knowledge proof or signature.
func (b *batch) schnorr(p *KnowledgeProof, c *ristretto255.Scalar, x *ristretto255.Element) {
	z := b.weight()
	b.point(p.a.e, z)
	b.point(x, ristretto255.NewScalar().Multiply(z, c))
	mulSub(b.g, z, p.r)
}

// rangeProof adds the 2n equations of p with challenges cs, for the
// ciphertext whose α and β are the sums of the points at indices alphas
// and betas (one each for an option, all of a contest's for its sum).
func (b *batch) rangeProof(p *RangeProof, cs []*ristretto255.Scalar, lo uint64, alphas, betas []int) {
	onAlpha, onBeta := ristretto255.NewScalar(), ristretto255.NewScalar()
	for i, c := range cs {
		// z₁·(A_v + c_v·α − r_v·G)
		z1 := b.weight()
		b.point(p.commitments[2*i].e, z1)
		zc := ristretto255.NewScalar().Multiply(z1, c)
		onAlpha.Add(onAlpha, zc)
		mulSub(b.g, z1, p.responses[i])
		// z₂·(B_v + c_v·β − c_v·v·G − r_v·K)
		z2 := b.weight()
		b.point(p.commitments[2*i+1].e, z2)
		zc = ristretto255.NewScalar().Multiply(z2, c)
		onBeta.Add(onBeta, zc)
		if v := lo + uint64(i); v != 0 {
			mulSub(b.g, zc, scalarFromUint(v))
		}
		mulSub(b.k, z2, p.responses[i])
	}
	for _, i := range alphas {
		b.addTo(i, onAlpha)
	}
	for _, i := range betas {
		b.addTo(i, onBeta)
	}
}

// decryption adds the two equations of a decryption proof for the
// ciphertext whose α is at index alpha, with the trustee's key at index ki.
func (b *batch) decryption(p *DecryptionProof, c *ristretto255.Scalar, ki, alpha int, d *ristretto255.Element) {
	// z₁·(A + c·K_i − r·G)
	z1 := b.weight()
	b.point(p.a.e, z1)
	b.addTo(ki, ristretto255.NewScalar().Multiply(z1, c))
	mulSub(b.g, z1, p.r)
	// z₂·(B + c·D − r·α)
	z2 := b.weight()
	b.point(p.b.e, z2)
	b.point(d, ristretto255.NewScalar().Multiply(z2, c))
	b.addTo(alpha, ristretto255.NewScalar().Negate(ristretto255.NewScalar().Multiply(z2, p.r)))
}

// ballotTerms is the number of equations of a prepared ballot.
func ballotTerms(chk *ballotCheck) int {
	n := 1
	for i := range chk.b.contests {
		n += 4*len(chk.b.contests[i].options) + 2*len(chk.contests[i])
	}
	return n
}

// addBallot adds every equation of a prepared ballot.
func (b *batch) addBallot(chk *ballotCheck, e *Election) {
	bl := chk.b
	if chk.sig != nil {
		b.schnorr(bl.signature, chk.sig, bl.credential.u.e)
	}
	for i := range bl.contests {
		bc := &bl.contests[i]
		alphas := make([]int, len(bc.options))
		betas := make([]int, len(bc.options))
		for j := range bc.options {
			ct := bc.options[j].ciphertext
			alphas[j] = b.point(ct.alpha.e, ristretto255.NewScalar())
			betas[j] = b.point(ct.beta.e, ristretto255.NewScalar())
		}
		for j := range bc.options {
			b.rangeProof(bc.options[j].proof, chk.options[i][j], 0, alphas[j:j+1], betas[j:j+1])
		}
		b.rangeProof(bc.proof, chk.contests[i], uint64(e.manifest.Contests[i].Min), alphas, betas)
	}
}

// msmChunk is the number of points of one call to VarTimeMultiScalarMult
// for a batch below pippengerMin points. edwards25519 computes a
// multi-scalar multiplication by Straus' method, with a table per point
// that it walks for every bit: past a few hundred points the tables leave
// the CPU caches and each point costs up to twice as much, so a small
// batch's combination is evaluated as a sum of multiplications of msmChunk
// points each (256 doublings more per chunk, under 0.3 µs a point). From
// pippengerMin points on, Pippenger's method (msm.go) is cheaper still.
const msmChunk = 128

// check reports whether the accumulated sum is the identity.
func (b *batch) check() bool {
	acc := ristretto255.NewIdentityElement().VarTimeMultiScalarMult(
		[]*ristretto255.Scalar{b.g, b.k}, []*ristretto255.Element{ristretto255.NewGeneratorElement(), b.kPoint})
	if len(b.points) >= pippengerMin { // msm.go
		return isIdentity(acc.Add(acc, pippenger(b.scalars, b.points)))
	}
	part := ristretto255.NewIdentityElement()
	for start := 0; start < len(b.points); start += msmChunk {
		end := min(start+msmChunk, len(b.points))
		acc.Add(acc, part.VarTimeMultiScalarMult(b.scalars[start:end], b.points[start:end]))
	}
	return isIdentity(acc)
}

// batchPoints is about the number of points of one batch in
// VerifyBallots. Pippenger's method costs less per point as batches grow,
// but flattens out past some ten thousand points, while a batch that fails
// costs its ballots one by one (docs/election-record.md, "Performance").
const batchPoints = 16384

// batchSize is the number of ballots of one batch in VerifyBallots: about
// batchPoints points, from the number of points of a ballot of e (per
// option the ciphertext and four commitments, per contest two commitments
// per possible count, the signature's two), between 16 and 1024.
func (e *Election) batchSize() int {
	points := 2
	for _, c := range e.manifest.Contests {
		points += 6*len(c.Options) + 2*(c.Max-c.Min+1)
	}
	return min(1024, max(16, batchPoints/points))
}

// VerifyBallots verifies many ballots, as [Election.VerifyBallot] does each,
// and returns one error per ballot (nil for a ballot that may be
// counted). Ballots are checked in batches by random linear combination,
// on all cores; a batch that fails is checked again ballot by ballot to
// name each bad one, so the result is the same as verifying each alone.
func (e *Election) VerifyBallots(ballots []*Ballot) []error {
	errs := make([]error, len(ballots))
	batchSize := e.batchSize()
	workers := runtime.GOMAXPROCS(0)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := range next {
				end := min(start+batchSize, len(ballots))
				e.verifyBatch(ballots[start:end], errs[start:end])
			}
		}()
	}
	for start := 0; start < len(ballots); start += batchSize {
		next <- start
	}
	close(next)
	wg.Wait()
	return errs
}

// verifyBatch verifies ballots with one multi-scalar multiplication,
// writing each one's error to errs.
func (e *Election) verifyBatch(ballots []*Ballot, errs []error) {
	checks := make([]*ballotCheck, 0, len(ballots))
	index := make([]int, 0, len(ballots))
	terms := 0
	for i, b := range ballots {
		chk, err := e.prepare(b, true)
		if err != nil {
			errs[i] = err
			continue
		}
		checks = append(checks, chk)
		index = append(index, i)
		terms += ballotTerms(chk)
	}
	if len(checks) == 0 {
		return
	}
	if bt, err := newBatch(e.key.k.e, terms); err == nil {
		for _, chk := range checks {
			bt.addBallot(chk, e)
		}
		if bt.check() {
			return
		}
	}
	for k, chk := range checks {
		errs[index[k]] = e.verifyPrepared(chk)
	}
}

// verifyPrepared verifies one prepared ballot with one multi-scalar
// multiplication and, only if that fails, equation by equation to name
// what failed.
func (e *Election) verifyPrepared(chk *ballotCheck) error {
	if bt, err := newBatch(e.key.k.e, ballotTerms(chk)); err == nil {
		bt.addBallot(chk, e)
		if bt.check() {
			return nil
		}
	}
	return e.exact(chk)
}
