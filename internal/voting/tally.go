package voting

import (
	"fmt"
	"io"
	"sort"

	"github.com/gtank/ristretto255"
)

// TrusteeShare is trustee Index's share s_i of the joint secret key, as
// the key ceremony (package dkg) leaves it: with the polynomial f of the
// DKG, s_i = f(i) and the joint key is K = f(0)·G. Indices are 1 to n.
type TrusteeShare struct {
	Index  uint32
	Secret *ristretto255.Scalar
}

// VerificationKey is trustee Index's public verification key K_i = s_i·G,
// published by the key ceremony.
type VerificationKey struct {
	Index uint32
	Key   *ristretto255.Element
}

// EncryptedTally is the homomorphic sum, per contest and option, of the
// ciphertexts of the counted ballots, with their number.
type EncryptedTally struct {
	election string
	manifest [32]byte
	ballots  uint64
	contests []tallyContest
}

type tallyContest struct {
	id      string
	options []tallyOption
}

type tallyOption struct {
	id  string
	sum ciphertextSum
}

// NewTally starts an empty tally (every sum the encryption of 0 with
// randomness 0).
func (e *Election) NewTally() *EncryptedTally {
	t := &EncryptedTally{election: e.manifest.ID, manifest: e.digest, contests: make([]tallyContest, len(e.manifest.Contests))}
	for i, c := range e.manifest.Contests {
		tc := tallyContest{id: c.ID, options: make([]tallyOption, len(c.Options))}
		for j, o := range c.Options {
			tc.options[j] = tallyOption{id: o.ID, sum: newCiphertextSum()}
		}
		t.contests[i] = tc
	}
	return t
}

// Add adds a ballot's ciphertexts to the tally. The ballot must have
// been verified (VerifyBallot or VerifyBallots) and chosen to count by
// the ballot box (a published credential, its last ballot): Add only
// checks that it is for the same election and of the same shape.
func (t *EncryptedTally) Add(b *Ballot) error {
	if b.election != t.election || b.manifest != t.manifest {
		return fmt.Errorf("%w: ballot for election %q, tally for %q", ErrWrongElection, b.election, t.election)
	}
	if len(b.contests) != len(t.contests) {
		return fmt.Errorf("%w: ballot with %d contests, tally with %d", ErrShape, len(b.contests), len(t.contests))
	}
	for i := range t.contests {
		if len(b.contests[i].options) != len(t.contests[i].options) || b.contests[i].id != t.contests[i].id {
			return fmt.Errorf("%w: contest %q", ErrShape, t.contests[i].id)
		}
		for j := range t.contests[i].options {
			if b.contests[i].options[j].id != t.contests[i].options[j].id || b.contests[i].options[j].ciphertext == nil {
				return fmt.Errorf("%w: contest %q", ErrShape, t.contests[i].id)
			}
		}
	}
	for i := range t.contests {
		for j := range t.contests[i].options {
			t.contests[i].options[j].sum.add(b.contests[i].options[j].ciphertext)
		}
	}
	t.ballots++
	return nil
}

// Merge adds the sums and count of u (a tally of other ballots of the
// same election) to t, for summing on several cores.
func (t *EncryptedTally) Merge(u *EncryptedTally) error {
	if !t.sameShape(u) {
		return fmt.Errorf("%w: tallies of different elections", ErrWrongElection)
	}
	for i := range t.contests {
		for j := range t.contests[i].options {
			t.contests[i].options[j].sum.addSum(u.contests[i].options[j].sum)
		}
	}
	t.ballots += u.ballots
	return nil
}

func (t *EncryptedTally) sameShape(u *EncryptedTally) bool {
	if t.election != u.election || t.manifest != u.manifest || len(t.contests) != len(u.contests) {
		return false
	}
	for i := range t.contests {
		if t.contests[i].id != u.contests[i].id || len(t.contests[i].options) != len(u.contests[i].options) {
			return false
		}
		for j := range t.contests[i].options {
			if t.contests[i].options[j].id != u.contests[i].options[j].id {
				return false
			}
		}
	}
	return true
}

// Equal reports whether t and u are the same tally: same election, same
// number of ballots, same sums. A verifier recomputes the tally from the
// ballot box and compares it with the published one.
func (t *EncryptedTally) Equal(u *EncryptedTally) bool {
	if !t.sameShape(u) || t.ballots != u.ballots {
		return false
	}
	a, b := t.ciphertexts(), u.ciphertexts()
	for i := range a {
		for j := range a[i] {
			if !a[i][j].Equal(b[i][j]) {
				return false
			}
		}
	}
	return true
}

// ciphertexts are the sums, encoded, by contest and option.
func (t *EncryptedTally) ciphertexts() [][]*Ciphertext {
	cts := make([][]*Ciphertext, len(t.contests))
	for i, c := range t.contests {
		cts[i] = make([]*Ciphertext, len(c.options))
		for j, o := range c.options {
			cts[i][j] = o.sum.ciphertext()
		}
	}
	return cts
}

// Ballots is the number of ballots added.
func (t *EncryptedTally) Ballots() uint64 { return t.ballots }

// checkTally checks that t is a tally of e.
func (e *Election) checkTally(t *EncryptedTally) error {
	if t == nil {
		return fmt.Errorf("%w: no tally", ErrShape)
	}
	if !t.sameShape(e.NewTally()) {
		return fmt.Errorf("%w: the tally is not one of %s", ErrWrongElection, e)
	}
	return nil
}

// PartialDecryption is one trustee's share of the decryption of a tally:
// for each sum (α, β), D_i = s_i·α and a proof that D_i and the
// trustee's verification key use the same s_i.
type PartialDecryption struct {
	election string
	manifest [32]byte
	trustee  uint32
	contests []partialContest
}

type partialContest struct {
	id      string
	options []partialOption
}

type partialOption struct {
	id    string
	share point
	proof *DecryptionProof
}

// Trustee is the index of the trustee who computed the partial decryption.
func (p *PartialDecryption) Trustee() uint32 { return p.trustee }

func (e *Election) decryptionTranscript(index uint32, ki point, contest, option string, ct *Ciphertext, d point) *Transcript {
	return NewTranscript("decryption-proof").
		Bytes(e.digest[:]).
		points(e.key.k).
		Uint(uint64(index)).
		points(ki).
		Bytes([]byte(contest)).
		Bytes([]byte(option)).
		points(ct.alpha, ct.beta, d)
}

// PartialDecrypt computes the trustee's partial decryption of the tally,
// with proofs. rnd is the source of randomness (crypto/rand when nil);
// one scalar is read per option, in manifest order.
func (e *Election) PartialDecrypt(share TrusteeShare, t *EncryptedTally, rnd io.Reader) (*PartialDecryption, error) {
	if share.Index == 0 || share.Secret == nil || isZero(share.Secret) {
		return nil, fmt.Errorf("%w: a trustee share has an index from 1 and a non-zero secret", ErrInvalidKey)
	}
	if err := e.checkTally(t); err != nil {
		return nil, err
	}
	ki := newPoint(ristretto255.NewIdentityElement().ScalarBaseMult(share.Secret))
	cts := t.ciphertexts()
	p := &PartialDecryption{election: t.election, manifest: t.manifest, trustee: share.Index, contests: make([]partialContest, len(t.contests))}
	for i, c := range t.contests {
		pc := partialContest{id: c.id, options: make([]partialOption, len(c.options))}
		for j, o := range c.options {
			ct := cts[i][j]
			d := newPoint(ristretto255.NewIdentityElement().ScalarMult(share.Secret, ct.alpha.e))
			proof, err := proveDecryption(e.decryptionTranscript(share.Index, ki, c.id, o.id, ct, d), share.Secret, ct.alpha.e, rnd)
			if err != nil {
				return nil, err
			}
			pc.options[j] = partialOption{id: o.id, share: d, proof: proof}
		}
		p.contests[i] = pc
	}
	return p, nil
}

// verifyPartial checks p against the tally and the trustee's verification
// key: shape, then every proof in one multi-scalar multiplication and,
// if that fails, one by one to name the first bad option.
func (e *Election) verifyPartial(t *EncryptedTally, cts [][]*Ciphertext, vk VerificationKey, p *PartialDecryption) error {
	if p.election != t.election || p.manifest != t.manifest {
		return fmt.Errorf("%w: partial decryption for election %q", ErrWrongElection, p.election)
	}
	if len(p.contests) != len(t.contests) {
		return fmt.Errorf("%w: partial decryption with %d contests, tally with %d", ErrShape, len(p.contests), len(t.contests))
	}
	challenges := make([][]*ristretto255.Scalar, len(t.contests))
	ki := newPoint(vk.Key)
	terms := 0
	for i, c := range t.contests {
		pc := &p.contests[i]
		if pc.id != c.id || len(pc.options) != len(c.options) {
			return fmt.Errorf("%w: partial decryption: contest %d is not %q with %d options", ErrShape, i+1, c.id, len(c.options))
		}
		challenges[i] = make([]*ristretto255.Scalar, len(c.options))
		for j, o := range c.options {
			po := &pc.options[j]
			if po.id != o.id || po.share.e == nil || po.proof == nil {
				return fmt.Errorf("%w: partial decryption: contest %q: option %d is not %q", ErrShape, c.id, j+1, o.id)
			}
			challenges[i][j] = decryptionChallenge(e.decryptionTranscript(p.trustee, ki, c.id, o.id, cts[i][j], po.share), po.proof)
			terms += 2
		}
	}
	if bt, err := newBatch(e.key.k.e, terms); err == nil {
		kIndex := bt.point(vk.Key, ristretto255.NewScalar())
		for i, c := range t.contests {
			for j := range c.options {
				alpha := bt.point(cts[i][j].alpha.e, ristretto255.NewScalar())
				po := &p.contests[i].options[j]
				bt.decryption(po.proof, challenges[i][j], kIndex, alpha, po.share.e)
			}
		}
		if bt.check() {
			return nil
		}
	}
	for i, c := range t.contests {
		for j, o := range c.options {
			po := &p.contests[i].options[j]
			if !checkDecryption(po.proof, challenges[i][j], vk.Key, cts[i][j].alpha.e, po.share.e) {
				return &ProofError{Trustee: p.trustee, Contest: c.id, Option: o.id}
			}
		}
	}
	return nil
}

// Result is the decrypted tally.
type Result struct {
	Election string          `json:"election"`
	Ballots  uint64          `json:"ballots"`
	Contests []ContestResult `json:"contests"`
	// Trustees are the indices of the trustees whose partial decryptions
	// were combined (the threshold's worth with the lowest indices among
	// the valid ones).
	Trustees []uint32 `json:"trustees"`
	// Excluded are the trustees whose partial decryptions failed.
	Excluded []TrusteeFailure `json:"-"`
}

// ContestResult is the count of each option of a contest.
type ContestResult struct {
	ID      string         `json:"id"`
	Options []OptionResult `json:"options"`
}

// OptionResult is the number of ballots that selected an option.
type OptionResult struct {
	ID    string `json:"id"`
	Votes uint64 `json:"votes"`
}

// lagrangeAtZero returns λ_i = Π_{j ∈ S, j ≠ i} j / (j − i) for each i in S.
func lagrangeAtZero(indices []uint32) []*ristretto255.Scalar {
	ls := make([]*ristretto255.Scalar, len(indices))
	for a, i := range indices {
		num, den := scalarFromUint(1), scalarFromUint(1)
		for b, j := range indices {
			if a == b {
				continue
			}
			num.Multiply(num, scalarFromUint(uint64(j)))
			den.Multiply(den, ristretto255.NewScalar().Subtract(scalarFromUint(uint64(j)), scalarFromUint(uint64(i))))
		}
		ls[a] = num.Multiply(num, ristretto255.NewScalar().Invert(den))
	}
	return ls
}

// Decrypt combines partial decryptions of the tally into the result. keys
// are the trustees' verification keys and threshold the number of them
// needed (the key ceremony's t). Every partial decryption is checked; one
// that fails (unknown or repeated trustee, wrong shape, bad proof) is
// excluded and named in Result.Excluded, and the result is computed from
// the threshold's worth of valid ones with the lowest indices, by
// Lagrange interpolation at 0:
//
//	m·G = β − Σ λ_i·D_i
//
// with m found by baby-step giant-step between 0 and the number of
// ballots. With fewer valid ones than the threshold, the error is a
// [*DecryptionError] naming each failure.
func (e *Election) Decrypt(t *EncryptedTally, threshold int, keys []VerificationKey, partials []*PartialDecryption) (*Result, error) {
	if err := e.checkTally(t); err != nil {
		return nil, err
	}
	if threshold < 1 || threshold > len(keys) {
		return nil, fmt.Errorf("%w: threshold %d with %d verification keys", ErrInvalidKey, threshold, len(keys))
	}
	byIndex := map[uint32]VerificationKey{}
	for _, k := range keys {
		if k.Index == 0 || k.Key == nil || isIdentity(k.Key) {
			return nil, fmt.Errorf("%w: verification key of trustee %d: an index from 1 and a key that is not the identity", ErrInvalidKey, k.Index)
		}
		if _, dup := byIndex[k.Index]; dup {
			return nil, fmt.Errorf("%w: two verification keys for trustee %d", ErrInvalidKey, k.Index)
		}
		byIndex[k.Index] = k
	}
	var failed []TrusteeFailure
	valid := map[uint32]*PartialDecryption{}
	cts := t.ciphertexts()
	for _, p := range partials {
		if p == nil {
			continue
		}
		vk, ok := byIndex[p.trustee]
		switch {
		case !ok:
			failed = append(failed, TrusteeFailure{Trustee: p.trustee, Err: fmt.Errorf("%w: no verification key for trustee %d", ErrInvalidKey, p.trustee)})
			continue
		case valid[p.trustee] != nil:
			failed = append(failed, TrusteeFailure{Trustee: p.trustee, Err: fmt.Errorf("%w: a second partial decryption by trustee %d", ErrShape, p.trustee)})
			continue
		}
		if err := e.verifyPartial(t, cts, vk, p); err != nil {
			failed = append(failed, TrusteeFailure{Trustee: p.trustee, Err: err})
			continue
		}
		valid[p.trustee] = p
	}
	indices := make([]uint32, 0, len(valid))
	for i := range valid {
		indices = append(indices, i)
	}
	sort.Slice(indices, func(a, b int) bool { return indices[a] < indices[b] })
	if len(indices) < threshold {
		return nil, &DecryptionError{Threshold: threshold, Valid: indices, Failed: failed}
	}
	indices = indices[:threshold]
	lambdas := lagrangeAtZero(indices)

	// The chosen trustees' keys must interpolate to the joint key, or the
	// decryption would be of another key's ciphertexts.
	vks := make([]*ristretto255.Element, len(indices))
	for a, i := range indices {
		vks[a] = byIndex[i].Key
	}
	if ristretto255.NewIdentityElement().VarTimeMultiScalarMult(lambdas, vks).Equal(e.key.k.e) != 1 {
		return nil, fmt.Errorf("%w: the verification keys of trustees %v do not interpolate to the joint key", ErrDecryption, indices)
	}

	table := newDiscreteLog(t.ballots)
	r := &Result{Election: t.election, Ballots: t.ballots, Contests: make([]ContestResult, len(t.contests)), Trustees: indices, Excluded: failed}
	neg := make([]*ristretto255.Scalar, len(lambdas))
	for a, l := range lambdas {
		neg[a] = ristretto255.NewScalar().Negate(l)
	}
	for i, c := range t.contests {
		cr := ContestResult{ID: c.id, Options: make([]OptionResult, len(c.options))}
		for j, o := range c.options {
			ds := make([]*ristretto255.Element, len(indices))
			for a, idx := range indices {
				ds[a] = valid[idx].contests[i].options[j].share.e
			}
			m := ristretto255.NewIdentityElement().VarTimeMultiScalarMult(neg, ds)
			m.Add(m, cts[i][j].beta.e)
			votes, ok := table.lookup(m)
			if !ok {
				return nil, fmt.Errorf("%w: contest %q, option %q: the count is not between 0 and %d", ErrDecryption, c.id, o.id, t.ballots)
			}
			cr.Options[j] = OptionResult{ID: o.id, Votes: votes}
		}
		r.Contests[i] = cr
	}
	return r, nil
}

// discreteLog finds m in [0, bound] from m·G by baby-step giant-step: a
// table of j·G for j < s, with s = ⌈√(bound+1)⌉, then at most s giant
// steps of −s·G. The table is built once and serves every option.
type discreteLog struct {
	bound uint64
	step  uint64
	baby  map[[32]byte]uint64
	giant *ristretto255.Element // −step·G
}

func newDiscreteLog(bound uint64) *discreteLog {
	step := uint64(1)
	for step*step < bound+1 {
		step++
	}
	d := &discreteLog{bound: bound, step: step, baby: make(map[[32]byte]uint64, step)}
	p := ristretto255.NewIdentityElement()
	g := ristretto255.NewGeneratorElement()
	var key [32]byte
	for j := uint64(0); j < step; j++ {
		p.Encode(key[:0])
		d.baby[key] = j
		p.Add(p, g)
	}
	d.giant = ristretto255.NewIdentityElement().Negate(p) // p = step·G
	return d
}

// lookup returns m in [0, bound] with m·G = p, if there is one.
func (d *discreteLog) lookup(p *ristretto255.Element) (uint64, bool) {
	q := copyElement(p)
	var key [32]byte
	for i := uint64(0); i*d.step <= d.bound; i++ {
		q.Encode(key[:0])
		if j, ok := d.baby[key]; ok {
			m := i*d.step + j
			return m, m <= d.bound
		}
		q.Add(q, d.giant)
	}
	return 0, false
}
