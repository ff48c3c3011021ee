package voting

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/gtank/ristretto255"
)

// Every byte string in the JSON encodings (elements, scalars, proofs,
// digests) is base64url without padding (RFC 4648 §5) of its canonical
// bytes; decoding refuses padding and non-zero trailing bits.
var b64 = base64.RawURLEncoding.Strict()

func encodeB64(b []byte) string { return b64.EncodeToString(b) }

// decodeB64 decodes field of exactly n bytes (any length when n < 0).
func decodeB64(field, s string, n int) ([]byte, error) {
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: not base64url without padding", ErrEncoding, field)
	}
	if n >= 0 && len(b) != n {
		return nil, fmt.Errorf("%w: %s: %d bytes, want %d", ErrEncoding, field, len(b), n)
	}
	return b, nil
}

func decodeB64Element(field, s string) (*ristretto255.Element, error) {
	b, err := decodeB64(field, s, ElementSize)
	if err != nil {
		return nil, err
	}
	e, err := DecodeElement(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return e, nil
}

func decodeB64Scalar(field, s string) (*ristretto255.Scalar, error) {
	b, err := decodeB64(field, s, ScalarSize)
	if err != nil {
		return nil, err
	}
	v, err := DecodeScalar(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}

func decodeB64Digest(field, s string) ([32]byte, error) {
	var d [32]byte
	b, err := decodeB64(field, s, len(d))
	if err != nil {
		return d, err
	}
	copy(d[:], b)
	return d, nil
}

// marshalCanonical is the canonical JSON of v: encoding/json's output for
// the wire structs below (fields in declaration order), without HTML
// escaping, without insignificant whitespace and without a final newline.
func marshalCanonical(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// unmarshalStrict decodes data into the wire struct w, refusing unknown
// fields and trailing data. The parsers then re-encode what they decoded
// and refuse data that is not byte for byte the canonical encoding, so
// that each object has exactly one accepted encoding.
func unmarshalStrict(what string, data []byte, w any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(w); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrEncoding, what, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: %s: data after the JSON object", ErrEncoding, what)
	}
	return nil
}

// checkCanonical refuses data that differs from canonical.
func checkCanonical(what string, data, canonical []byte) error {
	if !bytes.Equal(data, canonical) {
		return fmt.Errorf("%w: %s: not the canonical JSON (compact, fields in order, as this package writes it)", ErrEncoding, what)
	}
	return nil
}
