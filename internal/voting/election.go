package voting

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// Kind is the rule of a contest.
type Kind string

const (
	// ChooseOne: the voter selects one option (Max = 1), or none when Min = 0.
	ChooseOne Kind = "choose-one"
	// ChooseUpTo: the voter selects between Min and Max options (up to k of n).
	ChooseUpTo Kind = "choose-up-to"
	// YesNo: a question with exactly two options (yes, no); Max = 1, and
	// Min = 0 allows a blank answer.
	YesNo Kind = "yes-no"
)

// Limits on a manifest. They bound the size of a ballot and of its
// proofs (a contest's range proof grows with Max − Min), and so the work
// an untrusted ballot can cost a verifier.
const (
	MaxContests       = 64
	MaxOptions        = 256  // per contest
	MaxOptionsTotal   = 1024 // over all contests
	maxIDLength       = 64
	maxTitleLength    = 1000
	maxElectionTitles = 2000
)

// Manifest describes an election: what is asked, which answers are
// allowed, and when. Its digest ([Manifest.Digest]) is bound into every
// ballot, proof and decryption of the election, so a ballot for one
// manifest can never count in another.
type Manifest struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Opens    time.Time `json:"opens"`
	Closes   time.Time `json:"closes"`
	Contests []Contest `json:"contests"`
}

// Contest is one question of an election.
type Contest struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Kind    Kind     `json:"kind"`
	Min     int      `json:"min"`
	Max     int      `json:"max"`
	Options []Option `json:"options"`
}

// Option is one answer to a contest.
type Option struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ParseManifest decodes a manifest from JSON (unknown fields and trailing
// data are refused) and validates it.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := unmarshalStrict("manifest", data, &m); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// MarshalJSON is the manifest's JSON (times in RFC 3339, UTC).
func (m *Manifest) MarshalJSON() ([]byte, error) {
	type plain Manifest // without this method
	c := plain(*m)
	c.Opens, c.Closes = c.Opens.UTC(), c.Closes.UTC()
	return marshalCanonical(c)
}

func manifestError(field, format string, args ...any) error {
	return &FieldError{Err: ErrInvalidManifest, Field: field, Problem: fmt.Sprintf(format, args...)}
}

// validID: 1 to 64 characters from A–Z a–z 0–9 - _ . so that ids are
// unambiguous in URLs, file names and error messages.
func validID(s string) bool {
	if len(s) == 0 || len(s) > maxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func checkID(field, s string) error {
	if !validID(s) {
		return manifestError(field, "%q is not 1 to %d characters from A-Z a-z 0-9 - _ .", s, maxIDLength)
	}
	return nil
}

func checkTitle(field, s string, max int) error {
	switch {
	case s == "":
		return manifestError(field, "empty")
	case !utf8.ValidString(s):
		return manifestError(field, "not UTF-8")
	case len(s) > max:
		return manifestError(field, "%d bytes, at most %d", len(s), max)
	}
	return nil
}

func checkTime(field string, t time.Time) error {
	switch {
	case t.IsZero():
		return manifestError(field, "missing")
	case t.Nanosecond() != 0:
		return manifestError(field, "%s has a fraction of a second; times are whole seconds", t.Format(time.RFC3339Nano))
	}
	return nil
}

// Validate checks the manifest against the rules of its contests. The
// error is a [*FieldError] naming the first field that breaks a rule.
func (m *Manifest) Validate() error {
	if err := checkID("id", m.ID); err != nil {
		return err
	}
	if err := checkTitle("title", m.Title, maxElectionTitles); err != nil {
		return err
	}
	if err := checkTime("opens", m.Opens); err != nil {
		return err
	}
	if err := checkTime("closes", m.Closes); err != nil {
		return err
	}
	if !m.Closes.After(m.Opens) {
		return manifestError("closes", "%s is not after opens", m.Closes.Format(time.RFC3339))
	}
	if len(m.Contests) == 0 || len(m.Contests) > MaxContests {
		return manifestError("contests", "%d contests, want 1 to %d", len(m.Contests), MaxContests)
	}
	total := 0
	contests := map[string]bool{}
	for i, c := range m.Contests {
		f := fmt.Sprintf("contests[%d]", i)
		if err := checkID(f+".id", c.ID); err != nil {
			return err
		}
		if contests[c.ID] {
			return manifestError(f+".id", "%q is used by an earlier contest", c.ID)
		}
		contests[c.ID] = true
		if err := checkTitle(f+".title", c.Title, maxTitleLength); err != nil {
			return err
		}
		n := len(c.Options)
		if n == 0 || n > MaxOptions {
			return manifestError(f+".options", "%d options, want 1 to %d", n, MaxOptions)
		}
		total += n
		if total > MaxOptionsTotal {
			return manifestError(f+".options", "more than %d options in the election", MaxOptionsTotal)
		}
		options := map[string]bool{}
		for j, o := range c.Options {
			g := fmt.Sprintf("%s.options[%d]", f, j)
			if err := checkID(g+".id", o.ID); err != nil {
				return err
			}
			if options[o.ID] {
				return manifestError(g+".id", "%q is used by an earlier option of the contest", o.ID)
			}
			options[o.ID] = true
			if err := checkTitle(g+".title", o.Title, maxTitleLength); err != nil {
				return err
			}
		}
		if c.Min < 0 {
			return manifestError(f+".min", "%d is negative", c.Min)
		}
		if c.Max < 1 || c.Max > n {
			return manifestError(f+".max", "%d, want 1 to the number of options (%d)", c.Max, n)
		}
		if c.Min > c.Max {
			return manifestError(f+".min", "%d is above max (%d)", c.Min, c.Max)
		}
		switch c.Kind {
		case ChooseOne:
			if n < 2 {
				return manifestError(f+".options", "a %s contest needs at least 2 options", c.Kind)
			}
			if c.Max != 1 {
				return manifestError(f+".max", "%d, a %s contest has max 1", c.Max, c.Kind)
			}
		case ChooseUpTo:
		case YesNo:
			if n != 2 {
				return manifestError(f+".options", "%d options, a %s contest has exactly 2", n, c.Kind)
			}
			if c.Max != 1 {
				return manifestError(f+".max", "%d, a %s contest has max 1", c.Max, c.Kind)
			}
		default:
			return manifestError(f+".kind", "%q is not %s, %s or %s", c.Kind, ChooseOne, ChooseUpTo, YesNo)
		}
	}
	return nil
}

// Digest is the manifest digest: the [Transcript] digest, label
// "manifest", of every field in order (docs/election-record.md,
// "Manifest digest"). Call it on a valid manifest.
func (m *Manifest) Digest() [32]byte {
	t := NewTranscript("manifest").
		Bytes([]byte(m.ID)).
		Bytes([]byte(m.Title)).
		Uint(uint64(m.Opens.Unix())).
		Uint(uint64(m.Closes.Unix())).
		Uint(uint64(len(m.Contests)))
	for _, c := range m.Contests {
		t.Bytes([]byte(c.ID)).
			Bytes([]byte(c.Title)).
			Bytes([]byte(c.Kind)).
			Uint(uint64(c.Min)).
			Uint(uint64(c.Max)).
			Uint(uint64(len(c.Options)))
		for _, o := range c.Options {
			t.Bytes([]byte(o.ID)).Bytes([]byte(o.Title))
		}
	}
	return t.Digest()
}

// clone returns a deep copy.
func (m *Manifest) clone() *Manifest {
	c := *m
	c.Contests = make([]Contest, len(m.Contests))
	for i, ct := range m.Contests {
		ct.Options = append([]Option(nil), ct.Options...)
		c.Contests[i] = ct
	}
	return &c
}

// Election is a validated manifest with its joint public key: everything
// needed to encrypt, verify and tally its ballots. It is immutable and
// safe for concurrent use.
type Election struct {
	manifest *Manifest
	key      *JointKey
	digest   [32]byte
}

// NewElection validates m and binds it to the joint public key of the
// election's trustees. It keeps its own copy of m.
func NewElection(m *Manifest, key *JointKey) (*Election, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, fmt.Errorf("%w: no joint public key", ErrInvalidKey)
	}
	c := m.clone()
	return &Election{manifest: c, key: key, digest: c.Digest()}, nil
}

// Manifest returns a copy of the election's manifest.
func (e *Election) Manifest() *Manifest { return e.manifest.clone() }

// Digest returns the manifest digest.
func (e *Election) Digest() [32]byte { return e.digest }

// Key returns the joint public key.
func (e *Election) Key() *JointKey { return e.key }

// String is for logs: the election id and manifest digest.
func (e *Election) String() string {
	return fmt.Sprintf("election %s (manifest %s)", e.manifest.ID, encodeHex(e.digest[:]))
}

var _ json.Marshaler = (*Manifest)(nil)
