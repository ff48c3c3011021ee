package dkg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/gtank/ristretto255"

	"github.com/veche/veche/internal/voting"
)

// Record is the published transcript of a ceremony: ceremony.json and
// every public message. Encrypted shares are not part of it; complaints
// and answers settle everything they carried.
type Record struct {
	Ceremony    Ceremony
	Commitments []*Commitment // one per trustee
	Complaints  []*Complaint  // at most one per trustee
	Answers     []*Answer     // at most one per dealer
	Results     []*Result     // at most one per trustee
}

// Disqualification is a dealer left out of QUAL, and why.
type Disqualification struct {
	Dealer uint32
	Reason string
}

// Outcome is what a record determines.
type Outcome struct {
	Ceremony Ceremony
	// Digest identifies the record's commitments, complaints and answers:
	//
	//	Digest("dkg/record"; ceremony digest, u64 n, D_commitment(1…n),
	//	       u64 count, (u64 j, D_complaint(j))…, u64 count, (u64 i, D_answer(i))…)
	//
	// with complaints and answers in increasing order of their sender.
	Digest       [32]byte
	Qualified    []uint32 // QUAL, increasing
	Disqualified []Disqualification
	JointKey     *ristretto255.Element // K = Σ_{i∈QUAL} A_i0
	// VerificationKeys holds K_j for j = 1…n, in order, as the tally's
	// Election.Decrypt takes them.
	VerificationKeys []voting.VerificationKey
	// Confirmed lists the trustees whose [Result] matches (set by Verify).
	Confirmed []uint32
}

// VerificationKey returns K_j.
func (o *Outcome) VerificationKey(j uint32) *ristretto255.Element {
	if j < 1 || int(j) > len(o.VerificationKeys) {
		return nil
	}
	return o.VerificationKeys[j-1].Key
}

// Qualifies reports whether dealer i is in QUAL.
func (o *Outcome) Qualifies(i uint32) bool {
	_, ok := slices.BinarySearch(o.Qualified, i)
	return ok
}

// Evaluate checks every message of r up to the answers (the results are
// [Verify]'s) and computes QUAL, K and every K_j. A message that is
// malformed, of another ceremony, or not signed (or, for a commitment,
// proven) by its sender makes the record invalid: the error joins one
// [*Error] per failure. A dealer that misbehaved within the protocol is
// not an error but a [Disqualification]. Dealer i is left out of QUAL
// when
//
//   - t or more trustees complain about it (their revealed shares would
//     give away its polynomial; Gennaro et al. 2007, fig. 1 step 1(d)), or
//   - someone complains and i's answer is missing, does not reveal
//     exactly the shares of the trustees that complained, or reveals one
//     that fails s_ij·G = Σ_k j^k·A_ik;
//   - it answers although nobody complained.
func Evaluate(r *Record) (*Outcome, error) {
	o, _, err := evaluate(r)
	return o, err
}

// evaluate is Evaluate, also returning the commitments by index.
func evaluate(r *Record) (*Outcome, []*Commitment, error) {
	cer := r.Ceremony
	if err := cer.Validate(); err != nil {
		return nil, nil, err
	}
	var errs []error
	commits := make([]*Commitment, cer.Trustees+1)
	for _, m := range r.Commitments {
		if err := m.check(cer); err != nil {
			errs = append(errs, err)
			continue
		}
		if commits[m.Trustee] != nil {
			errs = append(errs, fail(m.Trustee, "commitment", "the record holds two"))
			continue
		}
		commits[m.Trustee] = m
	}
	for i := uint32(1); i <= cer.Trustees; i++ {
		if commits[i] == nil && !hasProblem(errs, i) {
			errs = append(errs, fail(i, "commitment", "missing from the record"))
		}
	}
	if len(errs) > 0 {
		// Without every commitment nothing else can be checked.
		return nil, nil, errors.Join(errs...)
	}

	complaints := make([]*Complaint, cer.Trustees+1)
	for _, m := range r.Complaints {
		if err := m.checkShape(cer); err != nil {
			errs = append(errs, err)
			continue
		}
		if !verifySignature(commits[m.Trustee].SigningKey, m.Digest(), m.Signature) {
			errs = append(errs, fail(m.Trustee, "complaint", "the signature does not verify with the trustee's signing key: the message was altered"))
			continue
		}
		if complaints[m.Trustee] != nil {
			errs = append(errs, fail(m.Trustee, "complaint", "the record holds two"))
			continue
		}
		complaints[m.Trustee] = m
	}
	answers := make([]*Answer, cer.Trustees+1)
	for _, m := range r.Answers {
		if err := m.checkShape(cer); err != nil {
			errs = append(errs, err)
			continue
		}
		if !verifySignature(commits[m.Dealer].SigningKey, m.Digest(), m.Signature) {
			errs = append(errs, fail(m.Dealer, "answer", "the signature does not verify with the dealer's signing key: the message was altered"))
			continue
		}
		if answers[m.Dealer] != nil {
			errs = append(errs, fail(m.Dealer, "answer", "the record holds two"))
			continue
		}
		answers[m.Dealer] = m
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}

	o := &Outcome{Ceremony: cer}
	for i := uint32(1); i <= cer.Trustees; i++ {
		if reason := disqualify(cer, commits[i], complainers(complaints, i), answers[i]); reason != "" {
			o.Disqualified = append(o.Disqualified, Disqualification{i, reason})
		} else {
			o.Qualified = append(o.Qualified, i)
		}
	}
	if len(o.Qualified) == 0 {
		return nil, nil, fmt.Errorf("%w record: every dealer is disqualified", ErrInvalid)
	}

	// C_k = Σ_{i∈QUAL} A_ik; K = C_0; K_j = Σ_k j^k·C_k.
	sum := make([]*ristretto255.Element, cer.Threshold)
	for k := range sum {
		sum[k] = ristretto255.NewIdentityElement()
		for _, i := range o.Qualified {
			sum[k].Add(sum[k], commits[i].Coefficients[k])
		}
	}
	o.JointKey = sum[0]
	if o.JointKey.Equal(ristretto255.NewIdentityElement()) == 1 {
		return nil, nil, fmt.Errorf("%w record: the joint public key is the identity", ErrInvalid)
	}
	for j := uint32(1); j <= cer.Trustees; j++ {
		o.VerificationKeys = append(o.VerificationKeys, voting.VerificationKey{Index: j, Key: evalCommitments(sum, j)})
	}
	o.Digest = recordDigest(cer, commits[1:], complaints[1:], answers[1:])
	return o, commits, nil
}

func hasProblem(errs []error, trustee uint32) bool {
	for _, p := range Problems(errors.Join(errs...)) {
		if p.Trustee == trustee {
			return true
		}
	}
	return false
}

// complainers lists, in increasing order, the trustees that accuse i.
func complainers(complaints []*Complaint, i uint32) []uint32 {
	var out []uint32
	for j, m := range complaints {
		if m != nil && m.Accuses(i) {
			out = append(out, uint32(j))
		}
	}
	return out
}

// disqualify returns why dealer i is left out of QUAL, or "".
func disqualify(cer Ceremony, c *Commitment, accusers []uint32, a *Answer) string {
	switch {
	case len(accusers) >= int(cer.Threshold):
		return fmt.Sprintf("accused by %d trustees (%v), as many as the threshold", len(accusers), accusers)
	case len(accusers) == 0 && a != nil:
		return "answered although nobody complained"
	case len(accusers) == 0:
		return ""
	case a == nil:
		return fmt.Sprintf("did not answer the complaints of trustees %v", accusers)
	}
	var revealed []uint32
	for _, s := range a.Shares {
		revealed = append(revealed, s.Recipient)
	}
	if !slices.Equal(revealed, accusers) {
		return fmt.Sprintf("answered with the shares of trustees %v, not those of the complainants %v", revealed, accusers)
	}
	for _, s := range a.Shares {
		if !shareMatches(c, s.Recipient, s.Share) {
			return fmt.Sprintf("revealed a share for trustee %d that does not match its commitments", s.Recipient)
		}
	}
	return ""
}

// shareMatches checks s·G = Σ_k j^k·A_ik.
func shareMatches(c *Commitment, j uint32, s *ristretto255.Scalar) bool {
	lhs := ristretto255.NewIdentityElement().ScalarBaseMult(s)
	return lhs.Equal(evalCommitments(c.Coefficients, j)) == 1
}

// evalCommitments returns Σ_k x^k·A_k, in variable time: every input is
// public.
func evalCommitments(a []*ristretto255.Element, x uint32) *ristretto255.Element {
	pow := make([]*ristretto255.Scalar, len(a))
	xs := scalarOf(uint64(x))
	pow[0] = scalarOf(1)
	for k := 1; k < len(a); k++ {
		pow[k] = ristretto255.NewScalar().Multiply(pow[k-1], xs)
	}
	return ristretto255.NewIdentityElement().VarTimeMultiScalarMult(pow, a)
}

// scalarOf returns v as a scalar.
func scalarOf(v uint64) *ristretto255.Scalar {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[:], v)
	s, err := ristretto255.NewScalar().SetCanonicalBytes(b[:])
	if err != nil {
		panic("dkg: a 64-bit integer is not a canonical scalar") // cannot happen
	}
	return s
}

func recordDigest(cer Ceremony, commits []*Commitment, complaints []*Complaint, answers []*Answer) [32]byte {
	d := cer.Digest()
	t := voting.NewTranscript("dkg/record").Bytes(d[:]).Uint(uint64(len(commits)))
	for _, m := range commits {
		cd := m.Digest()
		t.Bytes(cd[:])
	}
	var cs []*Complaint
	for _, m := range complaints {
		if m != nil {
			cs = append(cs, m)
		}
	}
	t.Uint(uint64(len(cs)))
	for _, m := range cs {
		md := m.Digest()
		t.Uint(uint64(m.Trustee)).Bytes(md[:])
	}
	var as []*Answer
	for _, m := range answers {
		if m != nil {
			as = append(as, m)
		}
	}
	t.Uint(uint64(len(as)))
	for _, m := range as {
		md := m.Digest()
		t.Uint(uint64(m.Dealer)).Bytes(md[:])
	}
	return t.Digest()
}

// Verify checks a complete published ceremony as anyone can: everything
// [Evaluate] checks, then every [Result]: signed by its trustee, and
// naming this record's digest, QUAL, K and the trustee's K_j. At least t
// trustees must have confirmed, or no t of them could decrypt. Every
// failure is an [*Error] naming the trustee, joined.
func Verify(r *Record) (*Outcome, error) {
	o, commits, err := evaluate(r)
	if err != nil {
		return nil, err
	}
	cer := r.Ceremony
	var errs []error
	seen := make([]bool, cer.Trustees+1)
	for _, m := range r.Results {
		const what = "result"
		switch {
		case !validIndex(cer, m.Trustee):
			errs = append(errs, fail(m.Trustee, what, "trustee %d is not between 1 and %d", m.Trustee, cer.Trustees))
		case m.cer != cer:
			errs = append(errs, &Error{Trustee: m.Trustee, Message: what, Err: fmt.Errorf("%w: made for another ceremony", ErrOtherCeremony)})
		case m.JointKey == nil || m.VerificationKey == nil:
			errs = append(errs, fail(m.Trustee, what, "no keys"))
		case !verifySignature(commits[m.Trustee].SigningKey, m.digest(), m.Signature):
			errs = append(errs, fail(m.Trustee, what, "the signature does not verify with the trustee's signing key: the message was altered"))
		case seen[m.Trustee]:
			errs = append(errs, fail(m.Trustee, what, "the record holds two"))
		case m.Record != o.Digest:
			errs = append(errs, fail(m.Trustee, what, "computed from another record (digest %x…, this record's is %x…): the trustee saw other messages than those published", m.Record[:8], o.Digest[:8]))
		case !slices.Equal(m.Qualified, o.Qualified):
			errs = append(errs, fail(m.Trustee, what, "names qualified dealers %v, the record gives %v", m.Qualified, o.Qualified))
		case m.JointKey.Equal(o.JointKey) != 1:
			errs = append(errs, fail(m.Trustee, what, "names another joint public key than the record gives"))
		case m.VerificationKey.Equal(o.VerificationKey(m.Trustee)) != 1:
			errs = append(errs, fail(m.Trustee, what, "names another verification key than the record gives for trustee %d", m.Trustee))
		default:
			seen[m.Trustee] = true
			o.Confirmed = append(o.Confirmed, m.Trustee)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.Sort(o.Confirmed)
	if len(o.Confirmed) < int(cer.Threshold) {
		return nil, fmt.Errorf("%w record: %d trustees confirmed the result (%v); decryption needs %d", ErrInvalid, len(o.Confirmed), o.Confirmed, cer.Threshold)
	}
	return o, nil
}
