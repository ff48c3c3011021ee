package voting

import (
	"fmt"

	"github.com/gtank/ristretto255"
)

// JointKey is the election's joint public key K = s·G, whose secret s
// exists only as the trustees' shares. It is never the identity.
type JointKey struct {
	k point
}

// NewJointKey returns the joint key for the element k (the DKG's
// result), refusing the identity element.
func NewJointKey(k *ristretto255.Element) (*JointKey, error) {
	if k == nil || isIdentity(k) {
		return nil, fmt.Errorf("%w: the joint public key is the identity", ErrInvalidKey)
	}
	return &JointKey{k: newPoint(copyElement(k))}, nil
}

// ParseJointKey decodes the canonical encoding of a joint key.
func ParseJointKey(b []byte) (*JointKey, error) {
	k, err := DecodeElement(b)
	if err != nil {
		return nil, fmt.Errorf("joint public key: %w", err)
	}
	return NewJointKey(k)
}

// Bytes is the canonical encoding of K.
func (k *JointKey) Bytes() []byte { return append([]byte(nil), k.k.enc[:]...) }

// Element returns a copy of K.
func (k *JointKey) Element() *ristretto255.Element { return copyElement(k.k.e) }

// MarshalText is the hexadecimal of the canonical encoding.
func (k *JointKey) MarshalText() ([]byte, error) { return []byte(encodeHex(k.k.enc[:])), nil }

// UnmarshalText decodes what MarshalText writes.
func (k *JointKey) UnmarshalText(text []byte) error {
	e, err := decodeHexElement("joint public key", string(text))
	if err != nil {
		return err
	}
	j, err := NewJointKey(e)
	if err != nil {
		return err
	}
	*k = *j
	return nil
}

// CiphertextSize is the length of a ciphertext's canonical encoding α ‖ β.
const CiphertextSize = 2 * ElementSize

// Ciphertext is an exponential ElGamal ciphertext (α, β) = (r·G, m·G + r·K)
// of a small integer m under the joint key K. Ciphertexts add: the sum
// of encryptions of m₁ and m₂ is an encryption of m₁ + m₂.
type Ciphertext struct {
	alpha, beta point
}

// encrypt returns Enc(m; r) under k, in constant time in m and r.
func encrypt(k *JointKey, m uint64, r *ristretto255.Scalar) *Ciphertext {
	alpha := ristretto255.NewIdentityElement().ScalarBaseMult(r)
	beta := ristretto255.NewIdentityElement().ScalarMult(r, k.k.e)
	beta.Add(beta, ristretto255.NewIdentityElement().ScalarBaseMult(scalarFromUint(m)))
	return &Ciphertext{alpha: newPoint(alpha), beta: newPoint(beta)}
}

// ciphertextSum accumulates ciphertexts without encoding each partial sum.
type ciphertextSum struct {
	alpha, beta *ristretto255.Element
}

func newCiphertextSum() ciphertextSum {
	return ciphertextSum{alpha: ristretto255.NewIdentityElement(), beta: ristretto255.NewIdentityElement()}
}

func (s ciphertextSum) add(c *Ciphertext) {
	s.alpha.Add(s.alpha, c.alpha.e)
	s.beta.Add(s.beta, c.beta.e)
}

func (s ciphertextSum) addSum(u ciphertextSum) {
	s.alpha.Add(s.alpha, u.alpha)
	s.beta.Add(s.beta, u.beta)
}

// ciphertext is the sum so far, encoded.
func (s ciphertextSum) ciphertext() *Ciphertext {
	return &Ciphertext{alpha: newPoint(copyElement(s.alpha)), beta: newPoint(copyElement(s.beta))}
}

// ParseCiphertext decodes α ‖ β, both canonical.
func ParseCiphertext(b []byte) (*Ciphertext, error) {
	if len(b) != CiphertextSize {
		return nil, fmt.Errorf("%w: ciphertext of %d bytes, want %d", ErrEncoding, len(b), CiphertextSize)
	}
	alpha, err := decodePoint(b[:ElementSize])
	if err != nil {
		return nil, fmt.Errorf("ciphertext α: %w", err)
	}
	beta, err := decodePoint(b[ElementSize:])
	if err != nil {
		return nil, fmt.Errorf("ciphertext β: %w", err)
	}
	return &Ciphertext{alpha: alpha, beta: beta}, nil
}

// Bytes is the canonical encoding α ‖ β.
func (c *Ciphertext) Bytes() []byte {
	b := make([]byte, 0, CiphertextSize)
	b = append(b, c.alpha.enc[:]...)
	return append(b, c.beta.enc[:]...)
}

// Add returns the ciphertext c + d, which encrypts the sum of their plaintexts.
func (c *Ciphertext) Add(d *Ciphertext) *Ciphertext {
	s := newCiphertextSum()
	s.add(c)
	s.add(d)
	return s.ciphertext()
}

// Equal reports whether c and d are the same ciphertext.
func (c *Ciphertext) Equal(d *Ciphertext) bool {
	return c.alpha.enc == d.alpha.enc && c.beta.enc == d.beta.enc
}

// Alpha returns a copy of α = r·G.
func (c *Ciphertext) Alpha() *ristretto255.Element { return copyElement(c.alpha.e) }

// Beta returns a copy of β = m·G + r·K.
func (c *Ciphertext) Beta() *ristretto255.Element { return copyElement(c.beta.e) }
