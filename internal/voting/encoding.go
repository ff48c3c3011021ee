package voting

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/gtank/ristretto255"
)

// Every byte string in the JSON encodings (elements, scalars, proofs,
// digests) is the lowercase hexadecimal of its canonical bytes, as in the
// key ceremony's records; uppercase is refused, so that each value has
// one text.
func encodeHex(b []byte) string { return hex.EncodeToString(b) }

// decodeHex decodes field of exactly n bytes (any length when n < 0).
func decodeHex(field, s string, n int) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return nil, fmt.Errorf("%w: %s: not lowercase hexadecimal", ErrEncoding, field)
		}
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: not lowercase hexadecimal", ErrEncoding, field)
	}
	if n >= 0 && len(b) != n {
		return nil, fmt.Errorf("%w: %s: %d bytes, want %d", ErrEncoding, field, len(b), n)
	}
	return b, nil
}

func decodeHexElement(field, s string) (*ristretto255.Element, error) {
	b, err := decodeHex(field, s, ElementSize)
	if err != nil {
		return nil, err
	}
	e, err := DecodeElement(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return e, nil
}

func decodeHexScalar(field, s string) (*ristretto255.Scalar, error) {
	b, err := decodeHex(field, s, ScalarSize)
	if err != nil {
		return nil, err
	}
	v, err := DecodeScalar(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}

func decodeHexDigest(field, s string) ([32]byte, error) {
	var d [32]byte
	b, err := decodeHex(field, s, len(d))
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

// checkType refuses an object whose "type" field is not want.
func checkType(what, got, want string) error {
	if got != want {
		return fmt.Errorf("%w: %s: type %q, want %q", ErrEncoding, what, got, want)
	}
	return nil
}
