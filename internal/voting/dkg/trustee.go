package dkg

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"filippo.io/age"
	"github.com/gtank/ristretto255"

	"github.com/veche/veche/internal/voting"
)

// Trustee is one trustee's secret state during the ceremony: its
// polynomial f_i(x) = a_i0 + a_i1·x + … + a_i,t−1·x^(t−1), its age
// identity and its Ed25519 signing key. It must never leave the
// trustee's machine unencrypted; [Trustee.MarshalBinary] is meant to be
// stored encrypted (veche trustee encrypts it under a passphrase).
type Trustee struct {
	cer    Ceremony
	index  uint32
	coeffs []*ristretto255.Scalar
	box    *age.X25519Identity
	sign   ed25519.PrivateKey
}

// NewTrustee draws trustee index's secrets for ceremony cer.
func NewTrustee(cer Ceremony, index uint32) (*Trustee, error) {
	if err := cer.Validate(); err != nil {
		return nil, err
	}
	if !validIndex(cer, index) {
		return nil, fmt.Errorf("%w: trustee %d is not between 1 and %d", ErrInvalid, index, cer.Trustees)
	}
	t := &Trustee{cer: cer, index: index}
	for range cer.Threshold {
		for {
			a, err := voting.RandomScalar(nil)
			if err != nil {
				return nil, err
			}
			// A zero coefficient would be refused as an identity
			// commitment (probability 2⁻²⁵²).
			if a.Equal(ristretto255.NewScalar()) == 0 {
				t.coeffs = append(t.coeffs, a)
				break
			}
		}
	}
	var err error
	if t.box, err = age.GenerateX25519Identity(); err != nil {
		return nil, err
	}
	if _, t.sign, err = ed25519.GenerateKey(rand.Reader); err != nil {
		return nil, err
	}
	return t, nil
}

// Ceremony returns the ceremony t belongs to.
func (t *Trustee) Ceremony() Ceremony { return t.cer }

// Index returns t's number, 1…n.
func (t *Trustee) Index() uint32 { return t.index }

// Commitment makes t's public first message, with a fresh proof of
// knowledge.
func (t *Trustee) Commitment() (*Commitment, error) {
	m := &Commitment{
		cer:        t.cer,
		Trustee:    t.index,
		Recipient:  t.box.Recipient().String(),
		SigningKey: t.sign.Public().(ed25519.PublicKey),
	}
	for _, a := range t.coeffs {
		m.Coefficients = append(m.Coefficients, ristretto255.NewIdentityElement().ScalarBaseMult(a))
	}
	k, err := voting.RandomScalar(nil)
	if err != nil {
		return nil, err
	}
	m.ProofR = ristretto255.NewIdentityElement().ScalarBaseMult(k)
	m.ProofZ = ristretto255.NewScalar().Multiply(m.challenge(), t.coeffs[0])
	m.ProofZ.Add(m.ProofZ, k)
	return m, nil
}

// eval returns f_i(j), in constant time in the coefficients.
func (t *Trustee) eval(j uint32) *ristretto255.Scalar {
	x := scalarOf(uint64(j))
	s := ristretto255.NewScalar().Set(t.coeffs[len(t.coeffs)-1])
	for k := len(t.coeffs) - 2; k >= 0; k-- {
		s.Multiply(s, x)
		s.Add(s, t.coeffs[k])
	}
	return s
}

// commitments checks r's commitments and returns them by index, after
// checking that the one of t's index is t's own.
func (t *Trustee) commitments(r *Record) ([]*Commitment, error) {
	if err := t.sameCeremony(r); err != nil {
		return nil, err
	}
	var errs []error
	byIndex := make([]*Commitment, t.cer.Trustees+1)
	for _, m := range r.Commitments {
		if err := m.check(t.cer); err != nil {
			errs = append(errs, err)
		} else if byIndex[m.Trustee] != nil {
			errs = append(errs, fail(m.Trustee, "commitment", "two commitments"))
		} else {
			byIndex[m.Trustee] = m
		}
	}
	for i := uint32(1); i <= t.cer.Trustees; i++ {
		if byIndex[i] == nil && !hasProblem(errs, i) {
			errs = append(errs, &Error{Trustee: i, Message: "commitment", Err: fmt.Errorf("%w: not received", ErrInvalid)})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return byIndex, t.isOwn(byIndex[t.index])
}

func (t *Trustee) sameCeremony(r *Record) error {
	if r.Ceremony != t.cer {
		return fmt.Errorf("%w: the record is of ceremony %q (%d of %d), these secrets of ceremony %q (%d of %d)",
			ErrOtherCeremony, r.Ceremony.ElectionID, r.Ceremony.Threshold, r.Ceremony.Trustees, t.cer.ElectionID, t.cer.Threshold, t.cer.Trustees)
	}
	return nil
}

// isOwn checks that the commitment published under t's index is t's.
func (t *Trustee) isOwn(own *Commitment) error {
	if own.Recipient != t.box.Recipient().String() || !bytes.Equal(own.SigningKey, t.sign.Public().(ed25519.PublicKey)) ||
		!slices.EqualFunc(own.Coefficients, t.coeffs, func(A *ristretto255.Element, a *ristretto255.Scalar) bool {
			return A.Equal(ristretto255.NewIdentityElement().ScalarBaseMult(a)) == 1
		}) {
		return fail(t.index, "commitment", "the commitment published under your index is not the one your secrets make")
	}
	return nil
}

// Deal encrypts t's share s_ij = f_i(j) to every other trustee j, once
// r holds every trustee's valid commitment.
func (t *Trustee) Deal(r *Record) ([]*EncryptedShare, error) {
	commits, err := t.commitments(r)
	if err != nil {
		return nil, err
	}
	var out []*EncryptedShare
	for j := uint32(1); j <= t.cer.Trustees; j++ {
		if j == t.index {
			continue
		}
		rcpt, err := age.ParseX25519Recipient(commits[j].Recipient)
		if err != nil {
			return nil, err // checked by commitments
		}
		var buf bytes.Buffer
		w, err := age.Encrypt(&buf, rcpt)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(t.eval(j).Bytes()); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		m := &EncryptedShare{cer: t.cer, Dealer: t.index, Recipient: j, Ciphertext: buf.Bytes()}
		d := m.digest()
		m.Signature = ed25519.Sign(t.sign, d[:])
		out = append(out, m)
	}
	return out, nil
}

// received opens the shares addressed to t: for each other dealer, its
// share, or the accusation it deserves. A share message that is not
// signed by its dealer (altered in transit), or two different ones from
// the same dealer, is an error, not an accusation: the dealer may be
// innocent. Missing shares are listed apart.
func (t *Trustee) received(commits []*Commitment, shares []*EncryptedShare) (good map[uint32]*ristretto255.Scalar, bad []Accusation, missing []uint32, err error) {
	var errs []error
	from := make([]*EncryptedShare, t.cer.Trustees+1)
	for _, m := range shares {
		if m.Recipient != t.index {
			continue
		}
		what := fmt.Sprintf("share to trustee %d", t.index)
		switch {
		case m.cer != t.cer:
			errs = append(errs, &Error{Trustee: m.Dealer, Message: what, Err: fmt.Errorf("%w: made for another ceremony", ErrOtherCeremony)})
		case !validIndex(t.cer, m.Dealer) || m.Dealer == t.index:
			errs = append(errs, fail(m.Dealer, what, "dealer %d is not another trustee", m.Dealer))
		case !verifySignature(commits[m.Dealer].SigningKey, m.digest(), m.Signature):
			errs = append(errs, fail(m.Dealer, what, "the signature does not verify with the dealer's signing key: the message was altered on the way; fetch it again"))
		case from[m.Dealer] != nil && !bytes.Equal(from[m.Dealer].Ciphertext, m.Ciphertext):
			errs = append(errs, fail(m.Dealer, what, "two different share messages"))
		default:
			from[m.Dealer] = m
		}
	}
	if len(errs) > 0 {
		return nil, nil, nil, errors.Join(errs...)
	}
	good = map[uint32]*ristretto255.Scalar{}
	for i := uint32(1); i <= t.cer.Trustees; i++ {
		if i == t.index {
			continue
		}
		m := from[i]
		if m == nil {
			missing = append(missing, i)
			continue
		}
		s, err := t.open(m)
		switch {
		case err != nil:
			bad = append(bad, Accusation{i, ReasonUnreadable})
		case !shareMatches(commits[i], t.index, s):
			bad = append(bad, Accusation{i, ReasonInvalid})
		default:
			good[i] = s
		}
	}
	return good, bad, missing, nil
}

func (t *Trustee) open(m *EncryptedShare) (*ristretto255.Scalar, error) {
	r, err := age.Decrypt(bytes.NewReader(m.Ciphertext), t.box)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(r, voting.ScalarSize+1))
	if err != nil {
		return nil, err
	}
	return voting.DecodeScalar(b)
}

// Receive opens and checks the shares addressed to t and returns its
// signed complaint: the dealers whose share is unreadable or does not
// match their commitments, or none. A missing share is an error wrapping
// ErrMissingShare unless complainMissing is set: a complaint makes the
// dealer reveal the share to everyone, so a relay that withheld shares
// would otherwise learn them; wait, or have the dealer hand the (still
// encrypted) share over another way, and complain only past the deadline.
func (t *Trustee) Receive(r *Record, shares []*EncryptedShare, complainMissing bool) (*Complaint, error) {
	commits, err := t.commitments(r)
	if err != nil {
		return nil, err
	}
	_, bad, missing, err := t.received(commits, shares)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 && !complainMissing {
		var errs []error
		for _, i := range missing {
			errs = append(errs, &Error{Trustee: i, Message: fmt.Sprintf("share to trustee %d", t.index), Err: ErrMissingShare})
		}
		return nil, errors.Join(errs...)
	}
	for _, i := range missing {
		bad = append(bad, Accusation{i, ReasonMissing})
	}
	slices.SortFunc(bad, func(a, b Accusation) int { return int(a.Dealer) - int(b.Dealer) })
	m := &Complaint{cer: t.cer, Trustee: t.index, Accused: bad}
	d := m.Digest()
	m.Signature = ed25519.Sign(t.sign, d[:])
	return m, nil
}

// Answer answers the complaints against t in r by revealing the shares of
// the trustees that complained; it returns nil when none did.
func (t *Trustee) Answer(r *Record) (*Answer, error) {
	commits, err := t.commitments(r)
	if err != nil {
		return nil, err
	}
	m := &Answer{cer: t.cer, Dealer: t.index}
	seen := map[uint32]bool{}
	for _, c := range r.Complaints {
		if err := c.checkShape(t.cer); err != nil {
			return nil, err
		}
		if !verifySignature(commits[c.Trustee].SigningKey, c.Digest(), c.Signature) {
			return nil, fail(c.Trustee, "complaint", "the signature does not verify with the trustee's signing key: the message was altered")
		}
		if c.Accuses(t.index) && !seen[c.Trustee] {
			seen[c.Trustee] = true
			m.Shares = append(m.Shares, RevealedShare{c.Trustee, t.eval(c.Trustee)})
		}
	}
	if len(m.Shares) == 0 {
		return nil, nil
	}
	slices.SortFunc(m.Shares, func(a, b RevealedShare) int { return int(a.Recipient) - int(b.Recipient) })
	d := m.Digest()
	m.Signature = ed25519.Sign(t.sign, d[:])
	return m, nil
}

// Finish computes t's share of the election's secret key from a record
// whose complaints have all been answered: s_j = Σ_{i∈QUAL} s_ij, where
// s_ij is the revealed share when j complained about i and the received
// one otherwise, and checks s_j·G = K_j. It returns the key share to keep
// and the signed result to publish.
func (t *Trustee) Finish(r *Record, shares []*EncryptedShare) (*KeyShare, *Result, error) {
	if err := t.sameCeremony(r); err != nil {
		return nil, nil, err
	}
	o, commits, err := evaluate(r)
	if err != nil {
		return nil, nil, err
	}
	if err := t.isOwn(commits[t.index]); err != nil {
		return nil, nil, err
	}
	good, _, _, err := t.received(commits, shares)
	if err != nil {
		return nil, nil, err
	}
	var mine *Complaint
	for _, c := range r.Complaints {
		if c.Trustee == t.index {
			mine = c
		}
	}
	var errs []error
	s := ristretto255.NewScalar()
	for _, i := range o.Qualified {
		switch {
		case i == t.index:
			s.Add(s, t.eval(i))
		case mine != nil && mine.Accuses(i):
			var got *ristretto255.Scalar
			for _, a := range r.Answers {
				for _, rs := range a.Shares {
					if a.Dealer == i && rs.Recipient == t.index {
						got = rs.Share
					}
				}
			}
			if got == nil {
				return nil, nil, fmt.Errorf("%w: dealer %d is qualified without revealing your share", ErrInvalid, i) // cannot happen
			}
			s.Add(s, got) // i ∈ QUAL: Evaluate checked the revealed share
		case good[i] != nil:
			s.Add(s, good[i])
		case mine == nil:
			errs = append(errs, fail(i, fmt.Sprintf("share to trustee %d", t.index), "missing or failing, and the record holds no complaint of yours: file your complaint (receive) and wait for the answers"))
		default:
			errs = append(errs, fail(i, fmt.Sprintf("share to trustee %d", t.index), "missing or failing, and your complaint in the record does not accuse this dealer: it is not the complaint you filed"))
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	kj := o.VerificationKey(t.index)
	if ristretto255.NewIdentityElement().ScalarBaseMult(s).Equal(kj) != 1 {
		return nil, nil, fmt.Errorf("%w: your share does not match your verification key", ErrInvalid) // cannot happen
	}
	ks := &KeyShare{Ceremony: t.cer, Index: t.index, Secret: s, JointKey: o.JointKey, VerificationKey: kj, Record: o.Digest}
	res := &Result{cer: t.cer, Trustee: t.index, Record: o.Digest, Qualified: o.Qualified, JointKey: o.JointKey, VerificationKey: kj}
	d := res.digest()
	res.Signature = ed25519.Sign(t.sign, d[:])
	return ks, res, nil
}

type trusteeJSON struct {
	Type         string   `json:"type"`
	Ceremony     Ceremony `json:"ceremony"`
	Trustee      uint32   `json:"trustee"`
	Coefficients []string `json:"coefficients"`
	AgeIdentity  string   `json:"age_identity"`
	SigningSeed  string   `json:"signing_seed"`
}

const typeTrustee = "dkg-trustee-secrets"

// MarshalBinary encodes t's secrets, to be stored encrypted.
func (t *Trustee) MarshalBinary() ([]byte, error) {
	w := trusteeJSON{Type: typeTrustee, Ceremony: t.cer, Trustee: t.index,
		AgeIdentity: t.box.String(), SigningSeed: hex.EncodeToString(t.sign.Seed())}
	for _, a := range t.coeffs {
		w.Coefficients = append(w.Coefficients, hexScalar(a))
	}
	return json.Marshal(w)
}

// ParseTrustee decodes what [Trustee.MarshalBinary] encoded.
func ParseTrustee(b []byte) (*Trustee, error) {
	var w trusteeJSON
	if err := decodeStrict(b, &w); err != nil {
		return nil, fmt.Errorf("%w trustee secrets: %v", ErrInvalid, err)
	}
	if w.Type != typeTrustee {
		return nil, fmt.Errorf("%w trustee secrets: type %q, want %q", ErrInvalid, w.Type, typeTrustee)
	}
	t := &Trustee{cer: w.Ceremony, index: w.Trustee}
	if !validIndex(t.cer, t.index) || len(w.Coefficients) != int(t.cer.Threshold) {
		return nil, fmt.Errorf("%w trustee secrets: trustee %d with %d coefficients for %d of %d", ErrInvalid, t.index, len(w.Coefficients), t.cer.Threshold, t.cer.Trustees)
	}
	for _, s := range w.Coefficients {
		a, err := parseScalar(s)
		if err != nil {
			return nil, fmt.Errorf("%w trustee secrets: coefficient: %v", ErrInvalid, err)
		}
		t.coeffs = append(t.coeffs, a)
	}
	var err error
	if t.box, err = age.ParseX25519Identity(w.AgeIdentity); err != nil {
		return nil, fmt.Errorf("%w trustee secrets: age identity: %v", ErrInvalid, err)
	}
	seed, err := decodeHex(w.SigningSeed, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("%w trustee secrets: signing seed: %v", ErrInvalid, err)
	}
	t.sign = ed25519.NewKeyFromSeed(seed)
	return t, nil
}

// KeyShare is what a trustee keeps after the ceremony: its secret share
// s_j with what it belongs to. Store it encrypted.
type KeyShare struct {
	Ceremony        Ceremony
	Index           uint32
	Secret          *ristretto255.Scalar  // s_j
	JointKey        *ristretto255.Element // K
	VerificationKey *ristretto255.Element // K_j = s_j·G
	Record          [32]byte              // the digest of the record it came from
}

// TrusteeShare returns the share as the tally's Election.PartialDecrypt
// takes it.
func (k *KeyShare) TrusteeShare() voting.TrusteeShare {
	return voting.TrusteeShare{Index: k.Index, Secret: k.Secret}
}

type keyShareJSON struct {
	Type            string   `json:"type"`
	Ceremony        Ceremony `json:"ceremony"`
	Trustee         uint32   `json:"trustee"`
	Secret          string   `json:"secret"`
	JointKey        string   `json:"joint_key"`
	VerificationKey string   `json:"verification_key"`
	Record          string   `json:"record"`
}

const typeKeyShare = "dkg-key-share"

// MarshalBinary encodes k, to be stored encrypted.
func (k *KeyShare) MarshalBinary() ([]byte, error) {
	return json.Marshal(keyShareJSON{typeKeyShare, k.Ceremony, k.Index, hexScalar(k.Secret),
		hexElement(k.JointKey), hexElement(k.VerificationKey), hex.EncodeToString(k.Record[:])})
}

// ParseKeyShare decodes what [KeyShare.MarshalBinary] encoded and checks
// that the secret matches the verification key.
func ParseKeyShare(b []byte) (*KeyShare, error) {
	var w keyShareJSON
	if err := decodeStrict(b, &w); err != nil {
		return nil, fmt.Errorf("%w key share: %v", ErrInvalid, err)
	}
	if w.Type != typeKeyShare {
		return nil, fmt.Errorf("%w key share: type %q, want %q", ErrInvalid, w.Type, typeKeyShare)
	}
	k := &KeyShare{Ceremony: w.Ceremony, Index: w.Trustee}
	var err error
	if k.Secret, err = parseScalar(w.Secret); err != nil {
		return nil, fmt.Errorf("%w key share: secret: %v", ErrInvalid, err)
	}
	if k.JointKey, err = parseElement(w.JointKey); err != nil {
		return nil, fmt.Errorf("%w key share: joint key: %v", ErrInvalid, err)
	}
	if k.VerificationKey, err = parseElement(w.VerificationKey); err != nil {
		return nil, fmt.Errorf("%w key share: verification key: %v", ErrInvalid, err)
	}
	rd, err := decodeHex(w.Record, 32)
	if err != nil {
		return nil, fmt.Errorf("%w key share: record: %v", ErrInvalid, err)
	}
	copy(k.Record[:], rd)
	if ristretto255.NewIdentityElement().ScalarBaseMult(k.Secret).Equal(k.VerificationKey) != 1 {
		return nil, fmt.Errorf("%w key share: the secret does not match the verification key", ErrInvalid)
	}
	return k, nil
}
