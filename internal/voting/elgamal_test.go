package voting

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gtank/ristretto255"
)

// decryptWith is the decryption by the whole secret s, for tests:
// m·G = β − s·α.
func decryptWith(s *ristretto255.Scalar, c *Ciphertext) *ristretto255.Element {
	m := ristretto255.NewIdentityElement().ScalarMult(s, c.alpha.e)
	return m.Subtract(c.beta.e, m)
}

func TestElGamalIsAdditivelyHomomorphic(t *testing.T) {
	rnd := newSeededReader("elgamal")
	s, _ := RandomScalar(rnd)
	key, err := NewJointKey(ristretto255.NewIdentityElement().ScalarBaseMult(s))
	if err != nil {
		t.Fatal(err)
	}
	sum, total := newCiphertextSum().ciphertext(), uint64(0)
	for _, m := range []uint64{0, 1, 1, 0, 1, 7} {
		r, _ := RandomScalar(rnd)
		c := encrypt(key, m, r)
		if decryptWith(s, c).Equal(multipleOfG(m)) != 1 {
			t.Fatalf("Enc(%d) does not decrypt to %d", m, m)
		}
		if c.alpha.e.Equal(ristretto255.NewIdentityElement().ScalarBaseMult(r)) != 1 {
			t.Fatal("α is not r·G")
		}
		sum, total = sum.Add(c), total+m
	}
	if decryptWith(s, sum).Equal(multipleOfG(total)) != 1 {
		t.Errorf("the sum does not decrypt to %d", total)
	}
}

func TestCiphertextEncoding(t *testing.T) {
	rnd := newSeededReader("ciphertext")
	s, _ := RandomScalar(rnd)
	key, _ := NewJointKey(ristretto255.NewIdentityElement().ScalarBaseMult(s))
	r, _ := RandomScalar(rnd)
	c := encrypt(key, 1, r)
	b := c.Bytes()
	got, err := ParseCiphertext(b)
	if err != nil || !got.Equal(c) || !bytes.Equal(got.Bytes(), b) {
		t.Fatalf("round trip: %v", err)
	}
	bad := map[string][]byte{
		"short":                 b[:63],
		"long":                  append(append([]byte{}, b...), 0),
		"α not canonical":       append(nonCanonicalElement(), b[32:]...),
		"β not canonical":       append(append([]byte{}, b[:32]...), nonCanonicalElement()...),
		"α not on the group":    append(bytes.Repeat([]byte{0xff}, 32), b[32:]...),
		"β with the sign bit":   append(append([]byte{}, b[:32]...), withHighBit(b[32:])...),
		"α negative (odd) enc.": append(oddEncoding(), b[32:]...),
	}
	for name, data := range bad {
		if _, err := ParseCiphertext(data); !errors.Is(err, ErrEncoding) {
			t.Errorf("%s: %v, want ErrEncoding", name, err)
		}
	}
}

// nonCanonicalElement is the identity encoded with a field element ≥ p
// (p itself: 2²⁵⁵ − 19), which RFC 9496 decoding must refuse.
func nonCanonicalElement() []byte {
	b := bytes.Repeat([]byte{0xff}, 32)
	b[0] = 0xed
	b[31] = 0x7f
	return b
}

func withHighBit(b []byte) []byte {
	c := append([]byte{}, b...)
	c[31] |= 0x80
	return c
}

// oddEncoding is the field element 1, which is odd ("negative"), so not
// a canonical encoding.
func oddEncoding() []byte {
	b := make([]byte, 32)
	b[0] = 1
	return b
}

func TestJointKeyRefusesTheIdentity(t *testing.T) {
	if _, err := NewJointKey(ristretto255.NewIdentityElement()); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("NewJointKey(identity): %v", err)
	}
	if _, err := ParseJointKey(make([]byte, 32)); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("ParseJointKey(identity): %v", err)
	}
	if _, err := ParseJointKey(nonCanonicalElement()); !errors.Is(err, ErrEncoding) {
		t.Errorf("ParseJointKey(non-canonical): %v", err)
	}
	k, _ := NewJointKey(ristretto255.NewGeneratorElement())
	text, _ := k.MarshalText()
	var k2 JointKey
	if err := k2.UnmarshalText(text); err != nil || !bytes.Equal(k2.Bytes(), k.Bytes()) {
		t.Errorf("text round trip: %v", err)
	}
	if err := k2.UnmarshalText([]byte(encodeHex(make([]byte, 32)))); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("UnmarshalText(identity): %v", err)
	}
}
