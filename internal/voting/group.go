package voting

import (
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/gtank/ristretto255"
)

// randReader is the source of randomness when a caller passes nil.
var randReader = rand.Reader

// Domain is the prefix of every hash this package computes, so that no
// hash of veche's voting protocol can be mistaken for a hash of another
// protocol, or of another version of this one.
const Domain = "veche-voting-v1"

// ElementSize and ScalarSize are the lengths of the canonical encodings
// (RFC 9496 §4.3.2 and §4.3.1 for elements; 32-byte little-endian scalars
// below the group order ℓ).
const (
	ElementSize = 32
	ScalarSize  = 32
)

// ErrEncoding is wrapped by every error about bytes that are not the
// canonical encoding of an element or a scalar.
var ErrEncoding = errors.New("voting: not a canonical encoding")

// DecodeElement decodes a canonical ristretto255 element (RFC 9496
// §4.3.1); any other 32 bytes, including a non-canonical encoding of a
// valid element, are refused.
func DecodeElement(b []byte) (*ristretto255.Element, error) {
	if len(b) != ElementSize {
		return nil, fmt.Errorf("%w: element of %d bytes, want %d", ErrEncoding, len(b), ElementSize)
	}
	e, err := ristretto255.NewIdentityElement().SetCanonicalBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%w: element: %v", ErrEncoding, err)
	}
	return e, nil
}

// DecodeScalar decodes a canonical scalar: 32 bytes, little-endian, below ℓ.
func DecodeScalar(b []byte) (*ristretto255.Scalar, error) {
	if len(b) != ScalarSize {
		return nil, fmt.Errorf("%w: scalar of %d bytes, want %d", ErrEncoding, len(b), ScalarSize)
	}
	s, err := ristretto255.NewScalar().SetCanonicalBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%w: scalar: %v", ErrEncoding, err)
	}
	return s, nil
}

// RandomScalar draws a uniform scalar from 64 bytes of r (crypto/rand when
// r is nil), reduced mod ℓ (RFC 9496 §4.4), so its bias is below 2⁻²⁵⁰.
func RandomScalar(r io.Reader) (*ristretto255.Scalar, error) {
	if r == nil {
		r = randReader
	}
	var b [64]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, fmt.Errorf("voting: reading randomness: %w", err)
	}
	return ristretto255.NewScalar().SetUniformBytes(b[:])
}

// Transcript is the input of one Fiat–Shamir challenge: a label naming
// the statement, then every value the challenge binds, each one framed by
// its length so that no two different sequences of values hash alike.
// The challenge is SHA-512 of
//
//	Domain ‖ 0x00 ‖ u16(len(label)) ‖ label ‖ (u32(len(v)) ‖ v)…
//
// reduced mod ℓ (all lengths big-endian). docs/election-record.md lists,
// for each proof, the label and the values in order.
type Transcript struct {
	h hash.Hash
}

// NewTranscript starts a transcript for the statement named label.
func NewTranscript(label string) *Transcript {
	t := &Transcript{h: sha512.New()}
	t.h.Write([]byte(Domain))
	t.h.Write([]byte{0})
	var n [2]byte
	binary.BigEndian.PutUint16(n[:], uint16(len(label)))
	t.h.Write(n[:])
	t.h.Write([]byte(label))
	return t
}

// Bytes appends one value.
func (t *Transcript) Bytes(v []byte) *Transcript {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(v)))
	t.h.Write(n[:])
	t.h.Write(v)
	return t
}

// Element appends the canonical encoding of each element.
func (t *Transcript) Element(es ...*ristretto255.Element) *Transcript {
	for _, e := range es {
		t.Bytes(e.Bytes())
	}
	return t
}

// Scalar appends the canonical encoding of each scalar.
func (t *Transcript) Scalar(ss ...*ristretto255.Scalar) *Transcript {
	for _, s := range ss {
		t.Bytes(s.Bytes())
	}
	return t
}

// Uint appends v as 8 bytes, big-endian.
func (t *Transcript) Uint(v uint64) *Transcript {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return t.Bytes(b[:])
}

// Challenge returns the challenge scalar. The transcript must not be used
// after.
func (t *Transcript) Challenge() *ristretto255.Scalar {
	s, err := ristretto255.NewScalar().SetUniformBytes(t.h.Sum(nil))
	if err != nil {
		panic("voting: SHA-512 output is not 64 bytes") // cannot happen
	}
	return s
}

// Digest returns the 32-byte digest of the transcript (the first half of
// its SHA-512), for identities such as the manifest digest or a ballot's
// tracking code. The transcript must not be used after.
func (t *Transcript) Digest() [32]byte {
	var d [32]byte
	copy(d[:], t.h.Sum(nil))
	return d
}

// scalarFromUint returns v as a scalar.
func scalarFromUint(v uint64) *ristretto255.Scalar {
	var b [ScalarSize]byte
	binary.LittleEndian.PutUint64(b[:], v)
	s, err := ristretto255.NewScalar().SetCanonicalBytes(b[:])
	if err != nil {
		panic("voting: small integer is not a canonical scalar") // cannot happen
	}
	return s
}

// isIdentity reports whether e is the identity element.
func isIdentity(e *ristretto255.Element) bool {
	return e.Equal(ristretto255.NewIdentityElement()) == 1
}

// isZero reports whether s is zero.
func isZero(s *ristretto255.Scalar) bool {
	return s.Equal(ristretto255.NewScalar()) == 1
}

// copyElement returns a fresh copy of e, so that callers cannot change
// an element this package holds.
func copyElement(e *ristretto255.Element) *ristretto255.Element {
	return ristretto255.NewIdentityElement().Set(e)
}

// multipleOfG returns v·G, for a public v.
func multipleOfG(v uint64) *ristretto255.Element {
	return ristretto255.NewIdentityElement().ScalarBaseMult(scalarFromUint(v))
}

// point is a group element with its canonical encoding, computed once:
// transcripts and encodings use the bytes, arithmetic uses the element.
// A point is never changed in place; a new value replaces it.
type point struct {
	e   *ristretto255.Element
	enc [ElementSize]byte
}

// newPoint wraps e, which the caller must not change afterwards.
func newPoint(e *ristretto255.Element) point {
	p := point{e: e}
	e.Encode(p.enc[:0])
	return p
}

// decodePoint decodes a canonical element, keeping its bytes.
func decodePoint(b []byte) (point, error) {
	e, err := DecodeElement(b)
	if err != nil {
		return point{}, err
	}
	p := point{e: e}
	copy(p.enc[:], b)
	return p, nil
}

// points appends the encoding of each point.
func (t *Transcript) points(ps ...point) *Transcript {
	for i := range ps {
		t.Bytes(ps[i].enc[:])
	}
	return t
}
