package dkg

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/veche/veche/internal/voting"
)

// Protocol names this version of the ceremony in ceremony.json.
const Protocol = "veche-dkg-v1"

// MaxTrustees bounds n, so that a ceremony file cannot ask for work or
// messages without limit.
const MaxTrustees = 1000

// maxMessage bounds the size of any message this package decodes.
const maxMessage = 1 << 20

// ErrInvalid is wrapped by every error about a message or a record that
// is malformed or fails a check.
var ErrInvalid = errors.New("dkg: invalid")

// ErrOtherCeremony is wrapped by the error about a message made for
// another ceremony (another election, manifest, n or t).
var ErrOtherCeremony = errors.New("dkg: message of another ceremony")

// Ceremony is what the election officer fixes before the ceremony starts:
// the election, the digest of its manifest, the number of trustees n and
// the threshold t, the number of them needed to decrypt.
type Ceremony struct {
	ElectionID     string
	ManifestDigest [32]byte
	Trustees       uint32 // n; the trustees are numbered 1…n
	Threshold      uint32 // t, 1 ≤ t ≤ n
}

// Validate reports whether c can be run.
func (c Ceremony) Validate() error {
	switch {
	case c.ElectionID == "" || len(c.ElectionID) > 256 || !utf8.ValidString(c.ElectionID):
		return fmt.Errorf("%w ceremony: election_id must be 1 to 256 bytes of UTF-8", ErrInvalid)
	case c.Trustees < 1 || c.Trustees > MaxTrustees:
		return fmt.Errorf("%w ceremony: trustees must be between 1 and %d, not %d", ErrInvalid, MaxTrustees, c.Trustees)
	case c.Threshold < 1 || c.Threshold > c.Trustees:
		return fmt.Errorf("%w ceremony: threshold must be between 1 and trustees (%d), not %d", ErrInvalid, c.Trustees, c.Threshold)
	}
	return nil
}

// Digest identifies the ceremony; every message carries it and every
// hash of the ceremony starts from it:
//
//	Digest("dkg/ceremony"; election_id, manifest_digest, u64 n, u64 t)
func (c Ceremony) Digest() [32]byte {
	return voting.NewTranscript("dkg/ceremony").
		Bytes([]byte(c.ElectionID)).Bytes(c.ManifestDigest[:]).
		Uint(uint64(c.Trustees)).Uint(uint64(c.Threshold)).Digest()
}

type ceremonyJSON struct {
	Protocol       string `json:"protocol"`
	ElectionID     string `json:"election_id"`
	ManifestDigest string `json:"manifest_digest"`
	Trustees       uint32 `json:"trustees"`
	Threshold      uint32 `json:"threshold"`
}

// MarshalJSON encodes c as ceremony.json.
func (c Ceremony) MarshalJSON() ([]byte, error) {
	return json.Marshal(ceremonyJSON{Protocol, c.ElectionID, hex.EncodeToString(c.ManifestDigest[:]), c.Trustees, c.Threshold})
}

// ParseCeremony decodes and validates ceremony.json.
func ParseCeremony(b []byte) (Ceremony, error) {
	var w ceremonyJSON
	if err := decodeStrict(b, &w); err != nil {
		return Ceremony{}, fmt.Errorf("%w ceremony: %v", ErrInvalid, err)
	}
	if w.Protocol != Protocol {
		return Ceremony{}, fmt.Errorf("%w ceremony: protocol %q, this veche runs %q", ErrInvalid, w.Protocol, Protocol)
	}
	c := Ceremony{ElectionID: w.ElectionID, Trustees: w.Trustees, Threshold: w.Threshold}
	d, err := decodeHex(w.ManifestDigest, 32)
	if err != nil {
		return Ceremony{}, fmt.Errorf("%w ceremony: manifest_digest: %v", ErrInvalid, err)
	}
	copy(c.ManifestDigest[:], d)
	if err := c.Validate(); err != nil {
		return Ceremony{}, err
	}
	return c, nil
}

// UnmarshalJSON is ParseCeremony, for ceremonies inside other JSON.
func (c *Ceremony) UnmarshalJSON(b []byte) error {
	v, err := ParseCeremony(b)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data.
func decodeStrict(b []byte, v any) error {
	if len(b) > maxMessage {
		return fmt.Errorf("%d bytes, more than the %d a message may have", len(b), maxMessage)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if len(bytes.TrimSpace(b[d.InputOffset():])) > 0 {
		return errors.New("data after the JSON value")
	}
	return nil
}

// decodeTyped is decodeStrict for a message whose "type" must be want,
// checked first so that a message in the wrong place is named as such.
func decodeTyped(b []byte, want string, v any) error {
	var t struct {
		Type string `json:"type"`
	}
	if len(b) <= maxMessage && json.Unmarshal(b, &t) == nil && t.Type != want {
		if t.Type == "" {
			return fmt.Errorf("no \"type\": not a %q message", want)
		}
		return fmt.Errorf("a message of type %q, not %q", t.Type, want)
	}
	return decodeStrict(b, v)
}

// decodeHex decodes lowercase hex of n bytes (any length if n < 0), so
// that each value has a single text.
func decodeHex(s string, n int) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || hex.EncodeToString(b) != s {
		return nil, errors.New("not lowercase hexadecimal")
	}
	if n >= 0 && len(b) != n {
		return nil, fmt.Errorf("%d bytes, want %d", len(b), n)
	}
	return b, nil
}

// checkCeremony compares a message's ceremony digest with c's.
func checkCeremony(c Ceremony, s string) error {
	d, err := decodeHex(s, 32)
	if err != nil {
		return fmt.Errorf("%w: ceremony: %v", ErrInvalid, err)
	}
	if want := c.Digest(); !bytes.Equal(d, want[:]) {
		return fmt.Errorf("%w: it names ceremony %.16s…, this is ceremony %.16s… (election %q, %d trustees, threshold %d)",
			ErrOtherCeremony, s, hex.EncodeToString(want[:]), c.ElectionID, c.Trustees, c.Threshold)
	}
	return nil
}
