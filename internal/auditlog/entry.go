package auditlog

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Entry is one public record of a state change. Entries are published, so
// they carry no personal data: Actor and Subject are pseudonyms from a
// [Pseudonymizer], content appears only as a [Digest], and Detail holds
// small public facts (a role name, a consultation's public number).
type Entry struct {
	Action  string            // dotted verb, e.g. "account.created", "role.granted"
	Actor   string            // pseudonym of who did it ("" = the system)
	Subject string            // pseudonym of what/whom it was done to ("" if none)
	Digest  string            // optional digest of content, "sha256:<hex>"
	Detail  map[string]string // optional small public facts, e.g. {"role":"admin"}; no personal data
	// At is when it happened, if the caller decided something by that
	// very instant (a ballot cast before the close); zero stamps the
	// entry when it is appended. Either way the stamp is the log's claim,
	// signed with the rest of the entry.
	At time.Time
}

// Limits on an entry, so that the log stays small and public facts stay
// facts rather than free text.
const (
	maxActionLen      = 64
	maxDetailKeys     = 16
	maxDetailKeyLen   = 32
	maxDetailValueLen = 200
	maxEntrySize      = 4096
)

// ErrInvalidEntry is returned by Append for an entry that breaks the rules
// above; the error names the field.
var ErrInvalidEntry = errors.New("invalid audit entry")

// InvalidEntryError says which field of an Entry is wrong and why. It
// matches ErrInvalidEntry with errors.Is.
type InvalidEntryError struct {
	Field  string
	Reason string
}

func (e *InvalidEntryError) Error() string {
	return fmt.Sprintf("invalid audit entry: %s: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidEntry) true.
func (e *InvalidEntryError) Is(target error) bool { return target == ErrInvalidEntry }

// validate checks e against the entry rules.
func (e Entry) validate() error {
	invalid := func(field, reason string) error { return &InvalidEntryError{Field: field, Reason: reason} }
	if !isAction(e.Action) {
		return invalid("Action", `must be dotted lowercase words, e.g. "account.created"`)
	}
	if e.Actor != "" && !isPseudonym(e.Actor) {
		return invalid("Actor", `must be a pseudonym from Pseudonymizer.Of ("kind:<22 base64url characters>") or empty`)
	}
	if e.Subject != "" && !isPseudonym(e.Subject) {
		return invalid("Subject", `must be a pseudonym from Pseudonymizer.Of ("kind:<22 base64url characters>") or empty`)
	}
	if e.Digest != "" && !isDigest(e.Digest) {
		return invalid("Digest", `must be "sha256:" and 64 lowercase hex digits, as Digest returns`)
	}
	if len(e.Detail) > maxDetailKeys {
		return invalid("Detail", fmt.Sprintf("has %d keys, at most %d allowed", len(e.Detail), maxDetailKeys))
	}
	for k, v := range e.Detail {
		if !isWord(k) || len(k) > maxDetailKeyLen {
			return invalid("Detail", fmt.Sprintf("key %q must be a lowercase word of at most %d characters", k, maxDetailKeyLen))
		}
		if len(v) > maxDetailValueLen || !utf8.ValidString(v) || hasControl(v) {
			return invalid("Detail", fmt.Sprintf("value of %q must be printable UTF-8 of at most %d bytes", k, maxDetailValueLen))
		}
	}
	return nil
}

// wireEntry fixes the canonical JSON form: fields in this order, empty
// optional fields left out, Detail keys sorted (encoding/json sorts maps).
type wireEntry struct {
	Time    string            `json:"time"`
	Action  string            `json:"action"`
	Actor   string            `json:"actor,omitempty"`
	Subject string            `json:"subject,omitempty"`
	Digest  string            `json:"digest,omitempty"`
	Detail  map[string]string `json:"detail,omitempty"`
}

// timeLayout is RFC 3339 in UTC with exactly six fractional digits.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Encode validates e and returns its canonical bytes, stamped with t: the
// bytes a leaf of the log holds (docs/audit-log.md). Append uses it; tools
// that must produce identical entries (benchmarks, independent verifiers'
// test vectors) call it rather than copy the format. The
// log index is not part of the entry: it is the entry's position in the
// tree.
func (e Entry) Encode(t time.Time) ([]byte, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(wireEntry{
		Time:    t.UTC().Truncate(time.Microsecond).Format(timeLayout),
		Action:  e.Action,
		Actor:   e.Actor,
		Subject: e.Subject,
		Digest:  e.Digest,
		Detail:  e.Detail,
	})
	if err != nil {
		return nil, err
	}
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if len(out) > maxEntrySize {
		return nil, &InvalidEntryError{Field: "Detail", Reason: fmt.Sprintf("entry encodes to %d bytes, at most %d allowed", len(out), maxEntrySize)}
	}
	return out, nil
}

// Record is a published entry as a verifier reads it back.
type Record struct {
	Time time.Time
	Entry
}

// ParseRecord decodes an entry's canonical bytes, for tools that read the
// log. It does not check that the bytes are canonical; the Merkle tree
// commits to the bytes, not to this decoding.
func ParseRecord(b []byte) (Record, error) {
	var w wireEntry
	if err := json.Unmarshal(b, &w); err != nil {
		return Record{}, fmt.Errorf("audit entry: %w", err)
	}
	t, err := time.Parse(timeLayout, w.Time)
	if err != nil {
		return Record{}, fmt.Errorf("audit entry: time: %w", err)
	}
	return Record{Time: t, Entry: Entry{Action: w.Action, Actor: w.Actor, Subject: w.Subject, Digest: w.Digest, Detail: w.Detail}}, nil
}

// Pseudonymizer turns internal ids into stable keyed pseudonyms
// (HMAC-SHA256 with an instance secret), so that the public log can show
// that the same account acted twice without showing which account. Without
// the key the pseudonyms cannot be linked back to ids, even by trying every
// id.
type Pseudonymizer struct{ key []byte }

// NewPseudonymizer returns a Pseudonymizer keyed with key (use 32 random
// bytes, e.g. a subkey derived for this one purpose). It panics if key is
// empty, because unkeyed pseudonyms could be reversed by enumeration.
func NewPseudonymizer(key []byte) Pseudonymizer {
	if len(key) == 0 {
		panic("auditlog: NewPseudonymizer needs a non-empty key")
	}
	return Pseudonymizer{key: bytes.Clone(key)}
}

// Of returns the pseudonym of the object of the given kind and id:
// kind + ":" + base64url (unpadded) of the first 16 bytes of
// HMAC-SHA256(key, kind + "\x00" + id). The kind is kept in clear so that
// readers know what sort of thing acted; it should be a lowercase word
// such as "account" or "consultation".
func (p Pseudonymizer) Of(kind, id string) string {
	if len(p.key) == 0 {
		panic("auditlog: zero Pseudonymizer; use NewPseudonymizer")
	}
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return kind + ":" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Digest returns "sha256:" and the lowercase hex SHA-256 of b, the form
// Entry.Digest takes.
func Digest(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

func isAction(s string) bool {
	if len(s) == 0 || len(s) > maxActionLen {
		return false
	}
	parts := 0
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if !isWord(s[start:i]) {
				return false
			}
			parts++
			start = i + 1
		}
	}
	return parts >= 2
}

// isWord reports whether s is [a-z][a-z0-9_]*.
func isWord(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isPseudonym reports whether s has the form Pseudonymizer.Of returns.
func isPseudonym(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			kind, tag := s[:i], s[i+1:]
			if !isWord(kind) || len(kind) > 32 || len(tag) != 22 {
				return false
			}
			b, err := base64.RawURLEncoding.Strict().DecodeString(tag)
			return err == nil && len(b) == 16
		}
	}
	return false
}

func isDigest(s string) bool {
	h, ok := bytes.CutPrefix([]byte(s), []byte("sha256:"))
	if !ok || len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			return true
		}
	}
	return false
}
