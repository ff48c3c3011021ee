package voting

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestManifestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		field string
		edit  func(m *Manifest)
	}{
		{"id", func(m *Manifest) { m.ID = "" }},
		{"id", func(m *Manifest) { m.ID = "has space" }},
		{"id", func(m *Manifest) { m.ID = strings.Repeat("a", 65) }},
		{"title", func(m *Manifest) { m.Title = "" }},
		{"title", func(m *Manifest) { m.Title = "\xff" }},
		{"opens", func(m *Manifest) { m.Opens = time.Time{} }},
		{"opens", func(m *Manifest) { m.Opens = m.Opens.Add(time.Millisecond) }},
		{"closes", func(m *Manifest) { m.Closes = m.Opens }},
		{"contests", func(m *Manifest) { m.Contests = nil }},
		{"contests[1].id", func(m *Manifest) { m.Contests[1].ID = "mayor" }},
		{"contests[0].title", func(m *Manifest) { m.Contests[0].Title = "" }},
		{"contests[0].kind", func(m *Manifest) { m.Contests[0].Kind = "approval" }},
		{"contests[0].options", func(m *Manifest) { m.Contests[0].Options = nil }},
		{"contests[0].options", func(m *Manifest) { m.Contests[0].Options = m.Contests[0].Options[:1] }},
		{"contests[0].options[2].id", func(m *Manifest) { m.Contests[0].Options[2].ID = "ada" }},
		{"contests[0].options[1].id", func(m *Manifest) { m.Contests[0].Options[1].ID = "b/c" }},
		{"contests[0].options[0].title", func(m *Manifest) { m.Contests[0].Options[0].Title = "" }},
		{"contests[0].max", func(m *Manifest) { m.Contests[0].Max = 2 }},
		{"contests[1].max", func(m *Manifest) { m.Contests[1].Max = 5 }},
		{"contests[1].max", func(m *Manifest) { m.Contests[1].Max = 0; m.Contests[1].Min = 0 }},
		{"contests[1].min", func(m *Manifest) { m.Contests[1].Min = 3 }},
		{"contests[1].min", func(m *Manifest) { m.Contests[1].Min = -1 }},
		{"contests[2].options", func(m *Manifest) {
			m.Contests[2].Options = append(m.Contests[2].Options, Option{ID: "maybe", Title: "Maybe"})
		}},
		{"contests[2].max", func(m *Manifest) {
			m.Contests[2].Kind, m.Contests[2].Max = YesNo, 2
		}},
	}
	if err := testManifest().Validate(); err != nil {
		t.Fatalf("the test manifest: %v", err)
	}
	for _, tt := range tests {
		m := testManifest()
		tt.edit(m)
		err := m.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || !errors.Is(err, ErrInvalidManifest) || fe.Field != tt.field {
			t.Errorf("%s: got %v, want a FieldError for %s", tt.field, err, tt.field)
		}
	}
}

func TestManifestLimits(t *testing.T) {
	m := testManifest()
	for len(m.Contests) <= MaxContests {
		c := m.Contests[0]
		c.ID = c.ID + "x"
		m.Contests = append(m.Contests, c)
	}
	if err := m.Validate(); !errors.Is(err, ErrInvalidManifest) {
		t.Errorf("%d contests: %v", len(m.Contests), err)
	}
	m = testManifest()
	for len(m.Contests[1].Options) <= MaxOptions {
		m.Contests[1].Options = append(m.Contests[1].Options, Option{ID: "o" + itoa(len(m.Contests[1].Options)), Title: "x"})
	}
	if err := m.Validate(); !errors.Is(err, ErrInvalidManifest) {
		t.Errorf("%d options: %v", len(m.Contests[1].Options), err)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func TestManifestDigestBindsEveryField(t *testing.T) {
	base := testManifest().Digest()
	edits := map[string]func(m *Manifest){
		"id":           func(m *Manifest) { m.ID = "test-2027" },
		"title":        func(m *Manifest) { m.Title = "Another" },
		"opens":        func(m *Manifest) { m.Opens = m.Opens.Add(time.Second) },
		"closes":       func(m *Manifest) { m.Closes = m.Closes.Add(time.Second) },
		"contest id":   func(m *Manifest) { m.Contests[0].ID = "mayor2" },
		"contest kind": func(m *Manifest) { m.Contests[1].Kind = ChooseOne; m.Contests[1].Max = 1 },
		"min":          func(m *Manifest) { m.Contests[1].Min = 1 },
		"max":          func(m *Manifest) { m.Contests[1].Max = 3 },
		"option id":    func(m *Manifest) { m.Contests[0].Options[0].ID = "adah" },
		"option title": func(m *Manifest) { m.Contests[0].Options[0].Title = "Adah" },
		"order":        func(m *Manifest) { o := m.Contests[0].Options; o[0], o[1] = o[1], o[0] },
		"contest order": func(m *Manifest) {
			m.Contests[0], m.Contests[1] = m.Contests[1], m.Contests[0]
		},
		// Length framing: moving a byte from one field to the next changes the digest.
		"framing": func(m *Manifest) { m.Contests[0].Options[0].ID, m.Contests[0].Options[0].Title = "adaA", "da" },
	}
	for name, edit := range edits {
		m := testManifest()
		edit(m)
		if m.Digest() == base {
			t.Errorf("%s: digest unchanged", name)
		}
	}
	m := testManifest()
	m.Opens = m.Opens.In(time.FixedZone("UTC+3", 3*3600))
	if m.Digest() != base {
		t.Error("the digest depends on the time zone of the times")
	}
}

func TestParseManifestRoundTripAndStrictness(t *testing.T) {
	m := testManifest()
	data, err := m.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest() != m.Digest() {
		t.Error("round trip changed the digest")
	}
	for name, bad := range map[string]string{
		"unknown field": strings.Replace(string(data), `"title":"Test election"`, `"title":"Test election","extra":1`, 1),
		"trailing data": string(data) + `{}`,
		"invalid":       strings.Replace(string(data), `"kind":"choose-one"`, `"kind":"choose-two"`, 1),
		"not JSON":      "{",
	} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestNewElectionKeepsItsOwnManifest(t *testing.T) {
	f := newFixture(t, "copy")
	m := f.election.Manifest()
	m.Contests[0].Options[0].ID = "changed"
	if f.election.manifest.Contests[0].Options[0].ID != "ada" || f.election.Digest() != testManifest().Digest() {
		t.Error("changing the returned manifest changed the election")
	}
	if _, err := NewElection(testManifest(), nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("no key: %v", err)
	}
	bad := testManifest()
	bad.ID = ""
	if _, err := NewElection(bad, f.election.Key()); !errors.Is(err, ErrInvalidManifest) {
		t.Errorf("invalid manifest: %v", err)
	}
}
