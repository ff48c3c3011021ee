package dkg

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"filippo.io/age"
	"github.com/gtank/ristretto255"

	"github.com/veche/veche/internal/voting"
)

// The "type" of each message, so that no message is read as another.
const (
	typeCommitment = "dkg-commitment"
	typeShare      = "dkg-share"
	typeComplaint  = "dkg-complaint"
	typeAnswer     = "dkg-answer"
	typeResult     = "dkg-result"
)

// maxCiphertext bounds an encrypted share: an age header with one X25519
// stanza and 32 bytes of payload take about 250.
const maxCiphertext = 1024

// Commitment is trustee i's first, public message: the age recipient and
// the Ed25519 key its later messages are encrypted to and signed with,
// the Feldman commitments A_ik = a_ik·G (k = 0…t−1) of its polynomial,
// and a Schnorr proof (R, z) of knowledge of a_i0:
//
//	c = Challenge("dkg/pok"; ceremony digest, u64 i, recipient, signing_key, A_i0…A_i,t−1, R)
//	z·G = R + c·A_i0
//
// The challenge binds the whole message, so the proof authenticates it:
// changing any field requires knowing a_i0.
type Commitment struct {
	cer          Ceremony
	Trustee      uint32
	Recipient    string            // age X25519 recipient, "age1…"
	SigningKey   ed25519.PublicKey // verifies the trustee's later messages
	Coefficients []*ristretto255.Element
	ProofR       *ristretto255.Element
	ProofZ       *ristretto255.Scalar
}

type commitmentJSON struct {
	Type         string    `json:"type"`
	Ceremony     string    `json:"ceremony"`
	Trustee      uint32    `json:"trustee"`
	Recipient    string    `json:"recipient"`
	SigningKey   string    `json:"signing_key"`
	Coefficients []string  `json:"coefficients"`
	Proof        proofJSON `json:"proof"`
}

type proofJSON struct {
	Commitment string `json:"commitment"`
	Response   string `json:"response"`
}

func (m *Commitment) challenge() *ristretto255.Scalar {
	d := m.cer.Digest()
	return voting.NewTranscript("dkg/pok").Bytes(d[:]).Uint(uint64(m.Trustee)).
		Bytes([]byte(m.Recipient)).Bytes(m.SigningKey).Element(m.Coefficients...).Element(m.ProofR).Challenge()
}

// Digest identifies the message in the record digest:
//
//	Digest("dkg/commitment"; ceremony digest, u64 i, recipient, signing_key, A_i0…A_i,t−1, R, z)
func (m *Commitment) Digest() [32]byte {
	d := m.cer.Digest()
	return voting.NewTranscript("dkg/commitment").Bytes(d[:]).Uint(uint64(m.Trustee)).
		Bytes([]byte(m.Recipient)).Bytes(m.SigningKey).Element(m.Coefficients...).
		Element(m.ProofR).Scalar(m.ProofZ).Digest()
}

// Fingerprint is what trustees compare over a channel the relay does not
// control (read aloud, on paper) to know that the commitment published
// for trustee i is the one trustee i made: the first 16 bytes of the
// digest, in groups of four hexadecimal digits.
func (m *Commitment) Fingerprint() string {
	d := m.Digest()
	h := hex.EncodeToString(d[:16])
	var b []byte
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, h[i:i+4]...)
	}
	return string(b)
}

// check verifies everything the message proves alone.
func (m *Commitment) check(cer Ceremony) error {
	const what = "commitment"
	if m.Trustee < 1 || m.Trustee > cer.Trustees {
		return fail(m.Trustee, what, "trustee %d is not between 1 and %d", m.Trustee, cer.Trustees)
	}
	if m.cer != cer {
		return &Error{Trustee: m.Trustee, Message: what, Err: fmt.Errorf("%w: made for another ceremony", ErrOtherCeremony)}
	}
	if len(m.Coefficients) != int(cer.Threshold) {
		return fail(m.Trustee, what, "%d coefficient commitments, the threshold %d needs %d", len(m.Coefficients), cer.Threshold, cer.Threshold)
	}
	for k, a := range m.Coefficients {
		if a == nil || a.Equal(ristretto255.NewIdentityElement()) == 1 {
			return fail(m.Trustee, what, "coefficient commitment %d is the identity", k)
		}
	}
	if m.ProofR == nil || m.ProofZ == nil {
		return fail(m.Trustee, what, "no proof of knowledge")
	}
	if len(m.SigningKey) != ed25519.PublicKeySize {
		return fail(m.Trustee, what, "signing_key of %d bytes, want %d", len(m.SigningKey), ed25519.PublicKeySize)
	}
	if err := checkRecipient(m.Recipient); err != nil {
		return fail(m.Trustee, what, "recipient: %v", err)
	}
	c := m.challenge()
	lhs := ristretto255.NewIdentityElement().ScalarBaseMult(m.ProofZ)
	rhs := ristretto255.NewIdentityElement().ScalarMult(c, m.Coefficients[0])
	rhs.Add(rhs, m.ProofR)
	if lhs.Equal(rhs) != 1 {
		return fail(m.Trustee, what, "the proof of knowledge of the secret coefficient does not verify: the message was altered or made by someone without the trustee's secret")
	}
	return nil
}

func checkRecipient(s string) error {
	r, err := age.ParseX25519Recipient(s)
	if err != nil {
		return err
	}
	if r.String() != s {
		return fmt.Errorf("not the canonical spelling %q", r.String())
	}
	return nil
}

// MarshalJSON encodes the message.
func (m *Commitment) MarshalJSON() ([]byte, error) {
	d := m.cer.Digest()
	w := commitmentJSON{
		Type: typeCommitment, Ceremony: hex.EncodeToString(d[:]), Trustee: m.Trustee,
		Recipient: m.Recipient, SigningKey: hex.EncodeToString(m.SigningKey),
		Proof: proofJSON{hexElement(m.ProofR), hexScalar(m.ProofZ)},
	}
	for _, a := range m.Coefficients {
		w.Coefficients = append(w.Coefficients, hexElement(a))
	}
	return json.Marshal(w)
}

// ParseCommitment decodes trustee i's commitment for ceremony cer and
// checks it: every encoding canonical, no identity commitment, and the
// proof of knowledge.
func ParseCommitment(cer Ceremony, b []byte) (*Commitment, error) {
	const what = "commitment"
	var w commitmentJSON
	if err := decodeTyped(b, typeCommitment, &w); err != nil {
		return nil, fail(w.Trustee, what, "%v", err)
	}
	if err := checkCeremony(cer, w.Ceremony); err != nil {
		return nil, &Error{Trustee: w.Trustee, Message: what, Err: err}
	}
	m := &Commitment{cer: cer, Trustee: w.Trustee, Recipient: w.Recipient}
	var err error
	if m.SigningKey, err = decodeHex(w.SigningKey, ed25519.PublicKeySize); err != nil {
		return nil, fail(w.Trustee, what, "signing_key: %v", err)
	}
	if len(w.Coefficients) > MaxTrustees {
		return nil, fail(w.Trustee, what, "%d coefficient commitments", len(w.Coefficients))
	}
	for k, s := range w.Coefficients {
		a, err := parseElement(s)
		if err != nil {
			return nil, fail(w.Trustee, what, "coefficient commitment %d: %v", k, err)
		}
		m.Coefficients = append(m.Coefficients, a)
	}
	if m.ProofR, err = parseElement(w.Proof.Commitment); err != nil {
		return nil, fail(w.Trustee, what, "proof commitment: %v", err)
	}
	if m.ProofZ, err = parseScalar(w.Proof.Response); err != nil {
		return nil, fail(w.Trustee, what, "proof response: %v", err)
	}
	if err := m.check(cer); err != nil {
		return nil, err
	}
	return m, nil
}

// EncryptedShare carries s_ij from dealer i to recipient j: the age
// encryption of its 32-byte encoding to j's recipient, signed by i:
//
//	Ed25519-Sign(i's signing key, Digest("dkg/share"; ceremony digest, u64 i, u64 j, ciphertext))
//
// The relay can read neither the share nor change it undetected.
// Encrypted shares are relayed, not published.
type EncryptedShare struct {
	cer        Ceremony
	Dealer     uint32
	Recipient  uint32
	Ciphertext []byte
	Signature  []byte
}

type shareJSON struct {
	Type       string `json:"type"`
	Ceremony   string `json:"ceremony"`
	Dealer     uint32 `json:"dealer"`
	Recipient  uint32 `json:"recipient"`
	Ciphertext string `json:"ciphertext"` // standard base64 of the binary age file
	Signature  string `json:"signature"`
}

func (m *EncryptedShare) digest() [32]byte {
	d := m.cer.Digest()
	return voting.NewTranscript("dkg/share").Bytes(d[:]).Uint(uint64(m.Dealer)).Uint(uint64(m.Recipient)).
		Bytes(m.Ciphertext).Digest()
}

// MarshalJSON encodes the message.
func (m *EncryptedShare) MarshalJSON() ([]byte, error) {
	d := m.cer.Digest()
	return json.Marshal(shareJSON{typeShare, hex.EncodeToString(d[:]), m.Dealer, m.Recipient,
		base64.StdEncoding.EncodeToString(m.Ciphertext), hex.EncodeToString(m.Signature)})
}

// ParseEncryptedShare decodes a share message of ceremony cer. Its
// signature is checked against the dealer's commitment when the
// recipient opens it ([Trustee.Receive]).
func ParseEncryptedShare(cer Ceremony, b []byte) (*EncryptedShare, error) {
	var w shareJSON
	what := "share"
	if err := decodeTyped(b, typeShare, &w); err != nil {
		return nil, fail(w.Dealer, what, "%v", err)
	}
	what = fmt.Sprintf("share to trustee %d", w.Recipient)
	if err := checkCeremony(cer, w.Ceremony); err != nil {
		return nil, &Error{Trustee: w.Dealer, Message: what, Err: err}
	}
	if !validIndex(cer, w.Dealer) || !validIndex(cer, w.Recipient) || w.Dealer == w.Recipient {
		return nil, fail(w.Dealer, what, "dealer %d to recipient %d: not two different trustees of 1…%d", w.Dealer, w.Recipient, cer.Trustees)
	}
	ct, err := base64.StdEncoding.Strict().DecodeString(w.Ciphertext)
	if err != nil || base64.StdEncoding.EncodeToString(ct) != w.Ciphertext {
		return nil, fail(w.Dealer, what, "ciphertext is not canonical standard base64")
	}
	if len(ct) > maxCiphertext {
		return nil, fail(w.Dealer, what, "ciphertext of %d bytes, more than %d", len(ct), maxCiphertext)
	}
	sig, err := decodeHex(w.Signature, ed25519.SignatureSize)
	if err != nil {
		return nil, fail(w.Dealer, what, "signature: %v", err)
	}
	return &EncryptedShare{cer, w.Dealer, w.Recipient, ct, sig}, nil
}

// Reason says why a trustee complains about a dealer.
type Reason string

// The reasons of a complaint. They inform the reader of the record; the
// dealer's answer is due whatever the reason.
const (
	ReasonMissing    Reason = "missing"    // no share arrived
	ReasonUnreadable Reason = "unreadable" // it does not decrypt to a scalar
	ReasonInvalid    Reason = "invalid"    // s_ij·G ≠ Σ_k j^k·A_ik
)

// Accusation is one dealer a complaint accuses, and why.
type Accusation struct {
	Dealer uint32 `json:"dealer"`
	Reason Reason `json:"reason"`
}

// Complaint is trustee j's verdict on the shares it received: the dealers
// whose share failed (none when all were good), signed by j:
//
//	Ed25519-Sign(j's signing key, Digest("dkg/complaint"; ceremony digest, u64 j, u64 count, (u64 i, reason)…))
//
// with the accused in increasing order.
type Complaint struct {
	cer       Ceremony
	Trustee   uint32
	Accused   []Accusation
	Signature []byte
}

type complaintJSON struct {
	Type      string       `json:"type"`
	Ceremony  string       `json:"ceremony"`
	Trustee   uint32       `json:"trustee"`
	Accused   []Accusation `json:"accused"`
	Signature string       `json:"signature"`
}

// Digest is what the trustee signs, and identifies the message in the
// record digest.
func (m *Complaint) Digest() [32]byte {
	d := m.cer.Digest()
	t := voting.NewTranscript("dkg/complaint").Bytes(d[:]).Uint(uint64(m.Trustee)).Uint(uint64(len(m.Accused)))
	for _, a := range m.Accused {
		t.Uint(uint64(a.Dealer)).Bytes([]byte(a.Reason))
	}
	return t.Digest()
}

// Accuses reports whether m accuses dealer i.
func (m *Complaint) Accuses(i uint32) bool {
	return slices.ContainsFunc(m.Accused, func(a Accusation) bool { return a.Dealer == i })
}

func (m *Complaint) checkShape(cer Ceremony) error {
	const what = "complaint"
	if !validIndex(cer, m.Trustee) {
		return fail(m.Trustee, what, "trustee %d is not between 1 and %d", m.Trustee, cer.Trustees)
	}
	if m.cer != cer {
		return &Error{Trustee: m.Trustee, Message: what, Err: fmt.Errorf("%w: made for another ceremony", ErrOtherCeremony)}
	}
	for k, a := range m.Accused {
		switch {
		case !validIndex(cer, a.Dealer) || a.Dealer == m.Trustee:
			return fail(m.Trustee, what, "accuses %d, not another trustee of 1…%d", a.Dealer, cer.Trustees)
		case k > 0 && a.Dealer <= m.Accused[k-1].Dealer:
			return fail(m.Trustee, what, "the accused are not in increasing order without repeats")
		case a.Reason != ReasonMissing && a.Reason != ReasonUnreadable && a.Reason != ReasonInvalid:
			return fail(m.Trustee, what, "reason %q is none of missing, unreadable, invalid", a.Reason)
		}
	}
	if len(m.Signature) != ed25519.SignatureSize {
		return fail(m.Trustee, what, "signature of %d bytes", len(m.Signature))
	}
	return nil
}

// MarshalJSON encodes the message.
func (m *Complaint) MarshalJSON() ([]byte, error) {
	d := m.cer.Digest()
	acc := m.Accused
	if acc == nil {
		acc = []Accusation{}
	}
	return json.Marshal(complaintJSON{typeComplaint, hex.EncodeToString(d[:]), m.Trustee, acc, hex.EncodeToString(m.Signature)})
}

// ParseComplaint decodes a complaint of ceremony cer. Its signature is
// checked by [Evaluate].
func ParseComplaint(cer Ceremony, b []byte) (*Complaint, error) {
	const what = "complaint"
	var w complaintJSON
	if err := decodeTyped(b, typeComplaint, &w); err != nil {
		return nil, fail(w.Trustee, what, "%v", err)
	}
	if err := checkCeremony(cer, w.Ceremony); err != nil {
		return nil, &Error{Trustee: w.Trustee, Message: what, Err: err}
	}
	if w.Accused == nil {
		return nil, fail(w.Trustee, what, "no accused list (an empty list says that every share was good)")
	}
	sig, err := decodeHex(w.Signature, ed25519.SignatureSize)
	if err != nil {
		return nil, fail(w.Trustee, what, "signature: %v", err)
	}
	m := &Complaint{cer, w.Trustee, w.Accused, sig}
	if len(m.Accused) == 0 {
		m.Accused = nil
	}
	if err := m.checkShape(cer); err != nil {
		return nil, err
	}
	return m, nil
}

// RevealedShare is a share a dealer reveals in answer to a complaint.
type RevealedShare struct {
	Recipient uint32
	Share     *ristretto255.Scalar
}

// Answer is dealer i's answer to the complaints against it: the shares
// s_ij of every trustee j that complained, in clear, in increasing order
// of j, signed by i:
//
//	Ed25519-Sign(i's signing key, Digest("dkg/answer"; ceremony digest, u64 i, u64 count, (u64 j, s_ij)…))
type Answer struct {
	cer       Ceremony
	Dealer    uint32
	Shares    []RevealedShare
	Signature []byte
}

type answerJSON struct {
	Type      string         `json:"type"`
	Ceremony  string         `json:"ceremony"`
	Dealer    uint32         `json:"dealer"`
	Shares    []revealedJSON `json:"shares"`
	Signature string         `json:"signature"`
}

type revealedJSON struct {
	Recipient uint32 `json:"recipient"`
	Share     string `json:"share"`
}

// Digest is what the dealer signs, and identifies the message in the
// record digest.
func (m *Answer) Digest() [32]byte {
	d := m.cer.Digest()
	t := voting.NewTranscript("dkg/answer").Bytes(d[:]).Uint(uint64(m.Dealer)).Uint(uint64(len(m.Shares)))
	for _, s := range m.Shares {
		t.Uint(uint64(s.Recipient)).Scalar(s.Share)
	}
	return t.Digest()
}

func (m *Answer) checkShape(cer Ceremony) error {
	const what = "answer"
	if !validIndex(cer, m.Dealer) {
		return fail(m.Dealer, what, "dealer %d is not between 1 and %d", m.Dealer, cer.Trustees)
	}
	if m.cer != cer {
		return &Error{Trustee: m.Dealer, Message: what, Err: fmt.Errorf("%w: made for another ceremony", ErrOtherCeremony)}
	}
	if len(m.Shares) == 0 {
		return fail(m.Dealer, what, "reveals no share")
	}
	for k, s := range m.Shares {
		switch {
		case !validIndex(cer, s.Recipient) || s.Recipient == m.Dealer:
			return fail(m.Dealer, what, "reveals a share for %d, not another trustee of 1…%d", s.Recipient, cer.Trustees)
		case k > 0 && s.Recipient <= m.Shares[k-1].Recipient:
			return fail(m.Dealer, what, "the shares are not in increasing order of recipient without repeats")
		case s.Share == nil:
			return fail(m.Dealer, what, "no share for trustee %d", s.Recipient)
		}
	}
	if len(m.Signature) != ed25519.SignatureSize {
		return fail(m.Dealer, what, "signature of %d bytes", len(m.Signature))
	}
	return nil
}

// MarshalJSON encodes the message.
func (m *Answer) MarshalJSON() ([]byte, error) {
	d := m.cer.Digest()
	w := answerJSON{Type: typeAnswer, Ceremony: hex.EncodeToString(d[:]), Dealer: m.Dealer, Signature: hex.EncodeToString(m.Signature)}
	for _, s := range m.Shares {
		w.Shares = append(w.Shares, revealedJSON{s.Recipient, hexScalar(s.Share)})
	}
	return json.Marshal(w)
}

// ParseAnswer decodes an answer of ceremony cer. Its signature and shares
// are checked by [Evaluate].
func ParseAnswer(cer Ceremony, b []byte) (*Answer, error) {
	const what = "answer"
	var w answerJSON
	if err := decodeTyped(b, typeAnswer, &w); err != nil {
		return nil, fail(w.Dealer, what, "%v", err)
	}
	if err := checkCeremony(cer, w.Ceremony); err != nil {
		return nil, &Error{Trustee: w.Dealer, Message: what, Err: err}
	}
	sig, err := decodeHex(w.Signature, ed25519.SignatureSize)
	if err != nil {
		return nil, fail(w.Dealer, what, "signature: %v", err)
	}
	m := &Answer{cer: cer, Dealer: w.Dealer, Signature: sig}
	if len(w.Shares) > MaxTrustees {
		return nil, fail(w.Dealer, what, "%d shares", len(w.Shares))
	}
	for _, s := range w.Shares {
		v, err := parseScalar(s.Share)
		if err != nil {
			return nil, fail(w.Dealer, what, "share for trustee %d: %v", s.Recipient, err)
		}
		m.Shares = append(m.Shares, RevealedShare{s.Recipient, v})
	}
	if err := m.checkShape(cer); err != nil {
		return nil, err
	}
	return m, nil
}

// Result is trustee j's confirmation of the outcome it computed: the
// digest of the record it used, QUAL, K and K_j, signed by j:
//
//	Ed25519-Sign(j's signing key, Digest("dkg/result"; ceremony digest, u64 j, record digest, u64 |QUAL|, (u64 i)…, K, K_j))
//
// Trustees that saw different records sign different digests, which
// [Verify] reports.
type Result struct {
	cer             Ceremony
	Trustee         uint32
	Record          [32]byte
	Qualified       []uint32
	JointKey        *ristretto255.Element
	VerificationKey *ristretto255.Element
	Signature       []byte
}

type resultJSON struct {
	Type            string   `json:"type"`
	Ceremony        string   `json:"ceremony"`
	Trustee         uint32   `json:"trustee"`
	Record          string   `json:"record"`
	Qualified       []uint32 `json:"qualified"`
	JointKey        string   `json:"joint_key"`
	VerificationKey string   `json:"verification_key"`
	Signature       string   `json:"signature"`
}

func (m *Result) digest() [32]byte {
	d := m.cer.Digest()
	t := voting.NewTranscript("dkg/result").Bytes(d[:]).Uint(uint64(m.Trustee)).Bytes(m.Record[:]).Uint(uint64(len(m.Qualified)))
	for _, i := range m.Qualified {
		t.Uint(uint64(i))
	}
	return t.Element(m.JointKey, m.VerificationKey).Digest()
}

// MarshalJSON encodes the message.
func (m *Result) MarshalJSON() ([]byte, error) {
	d := m.cer.Digest()
	return json.Marshal(resultJSON{typeResult, hex.EncodeToString(d[:]), m.Trustee, hex.EncodeToString(m.Record[:]),
		m.Qualified, hexElement(m.JointKey), hexElement(m.VerificationKey), hex.EncodeToString(m.Signature)})
}

// ParseResult decodes a result of ceremony cer. [Verify] checks it.
func ParseResult(cer Ceremony, b []byte) (*Result, error) {
	const what = "result"
	var w resultJSON
	if err := decodeTyped(b, typeResult, &w); err != nil {
		return nil, fail(w.Trustee, what, "%v", err)
	}
	if err := checkCeremony(cer, w.Ceremony); err != nil {
		return nil, &Error{Trustee: w.Trustee, Message: what, Err: err}
	}
	if !validIndex(cer, w.Trustee) {
		return nil, fail(w.Trustee, what, "trustee %d is not between 1 and %d", w.Trustee, cer.Trustees)
	}
	m := &Result{cer: cer, Trustee: w.Trustee, Qualified: w.Qualified}
	rd, err := decodeHex(w.Record, 32)
	if err != nil {
		return nil, fail(w.Trustee, what, "record: %v", err)
	}
	copy(m.Record[:], rd)
	if len(m.Qualified) > int(cer.Trustees) {
		return nil, fail(w.Trustee, what, "%d qualified dealers of %d trustees", len(m.Qualified), cer.Trustees)
	}
	if m.JointKey, err = parseElement(w.JointKey); err != nil {
		return nil, fail(w.Trustee, what, "joint_key: %v", err)
	}
	if m.VerificationKey, err = parseElement(w.VerificationKey); err != nil {
		return nil, fail(w.Trustee, what, "verification_key: %v", err)
	}
	if m.Signature, err = decodeHex(w.Signature, ed25519.SignatureSize); err != nil {
		return nil, fail(w.Trustee, what, "signature: %v", err)
	}
	return m, nil
}

func validIndex(cer Ceremony, i uint32) bool { return i >= 1 && i <= cer.Trustees }

func hexElement(e *ristretto255.Element) string {
	if e == nil {
		return ""
	}
	return hex.EncodeToString(e.Bytes())
}

func hexScalar(s *ristretto255.Scalar) string {
	if s == nil {
		return ""
	}
	return hex.EncodeToString(s.Bytes())
}

func parseElement(s string) (*ristretto255.Element, error) {
	b, err := decodeHex(s, voting.ElementSize)
	if err != nil {
		return nil, err
	}
	return voting.DecodeElement(b)
}

func parseScalar(s string) (*ristretto255.Scalar, error) {
	b, err := decodeHex(s, voting.ScalarSize)
	if err != nil {
		return nil, err
	}
	return voting.DecodeScalar(b)
}

// verifySignature checks an Ed25519 signature over a digest.
func verifySignature(key ed25519.PublicKey, d [32]byte, sig []byte) bool {
	return len(key) == ed25519.PublicKeySize && ed25519.Verify(key, d[:], sig)
}
