package voting

import (
	"fmt"

	"github.com/gtank/ristretto255"
)

// JointKey is the election's joint public key K = s·G, whose secret s
// exists only as the trustees' shares. It is never the identity.
type JointKey struct {
	k *ristretto255.Element
}

// NewJointKey returns the joint key for the element k (the DKG's
// result), refusing the identity element.
func NewJointKey(k *ristretto255.Element) (*JointKey, error) {
	if k == nil || isIdentity(k) {
		return nil, fmt.Errorf("%w: the joint public key is the identity", ErrInvalidKey)
	}
	return &JointKey{k: copyElement(k)}, nil
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
func (k *JointKey) Bytes() []byte { return k.k.Bytes() }

// Element returns a copy of K.
func (k *JointKey) Element() *ristretto255.Element { return copyElement(k.k) }

// MarshalText is base64url of the canonical encoding.
func (k *JointKey) MarshalText() ([]byte, error) { return []byte(encodeB64(k.Bytes())), nil }

// UnmarshalText decodes what MarshalText writes.
func (k *JointKey) UnmarshalText(text []byte) error {
	e, err := decodeB64Element("joint public key", string(text))
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
	alpha, beta *ristretto255.Element
}

// encrypt returns Enc(m; r) under k, in constant time in m and r.
func encrypt(k *JointKey, m uint64, r *ristretto255.Scalar) *Ciphertext {
	alpha := ristretto255.NewIdentityElement().ScalarBaseMult(r)
	beta := ristretto255.NewIdentityElement().ScalarMult(r, k.k)
	beta.Add(beta, ristretto255.NewIdentityElement().ScalarBaseMult(scalarFromUint(m)))
	return &Ciphertext{alpha: alpha, beta: beta}
}

// zeroCiphertext is the encryption of 0 with randomness 0, the neutral
// element of addition.
func zeroCiphertext() *Ciphertext {
	return &Ciphertext{alpha: ristretto255.NewIdentityElement(), beta: ristretto255.NewIdentityElement()}
}

// ParseCiphertext decodes α ‖ β, both canonical.
func ParseCiphertext(b []byte) (*Ciphertext, error) {
	if len(b) != CiphertextSize {
		return nil, fmt.Errorf("%w: ciphertext of %d bytes, want %d", ErrEncoding, len(b), CiphertextSize)
	}
	alpha, err := DecodeElement(b[:ElementSize])
	if err != nil {
		return nil, fmt.Errorf("ciphertext α: %w", err)
	}
	beta, err := DecodeElement(b[ElementSize:])
	if err != nil {
		return nil, fmt.Errorf("ciphertext β: %w", err)
	}
	return &Ciphertext{alpha: alpha, beta: beta}, nil
}

// Bytes is the canonical encoding α ‖ β.
func (c *Ciphertext) Bytes() []byte {
	b := make([]byte, 0, CiphertextSize)
	b = c.alpha.Encode(b)
	return c.beta.Encode(b)
}

// Add returns the ciphertext c + d, which encrypts the sum of their plaintexts.
func (c *Ciphertext) Add(d *Ciphertext) *Ciphertext {
	return &Ciphertext{
		alpha: ristretto255.NewIdentityElement().Add(c.alpha, d.alpha),
		beta:  ristretto255.NewIdentityElement().Add(c.beta, d.beta),
	}
}

// Equal reports whether c and d are the same ciphertext.
func (c *Ciphertext) Equal(d *Ciphertext) bool {
	return c.alpha.Equal(d.alpha) == 1 && c.beta.Equal(d.beta) == 1
}

// Alpha and Beta return copies of the components α = r·G and β = m·G + r·K.
func (c *Ciphertext) Alpha() *ristretto255.Element { return copyElement(c.alpha) }

// Beta returns a copy of β = m·G + r·K.
func (c *Ciphertext) Beta() *ristretto255.Element { return copyElement(c.beta) }
