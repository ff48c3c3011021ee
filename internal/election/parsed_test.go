package election

import (
	"errors"
	"testing"
	"time"

	"github.com/veche/veche/internal/voting"
)

// TestParseStoredKeepsOneParsePerText: the same stored text is parsed
// once and shared; a different text, or a key that does not decode, is
// not confused with it.
func TestParseStoredKeepsOneParsePerText(t *testing.T) {
	m := voting.Manifest{ID: "e-1", Title: "T", Opens: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), Closes: time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC),
		Contests: []voting.Contest{{ID: "c1", Title: "Q", Kind: voting.ChooseOne, Min: 1, Max: 1, Options: []voting.Option{{ID: "o1", Title: "A"}, {ID: "o2", Title: "B"}}}}}
	j, err := m.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	manifest := string(j)
	a, err := parseStored(manifest, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseStored(manifest, "")
	if err != nil || a != b {
		t.Fatalf("second parse of the same text: %p, %p, %v", a, b, err)
	}
	if a.key != nil || a.election != nil {
		t.Fatalf("no key, yet a key or an election: %+v", a)
	}
	var ke *keyError
	if _, err := parseStored(manifest, "00"); !errors.As(err, &ke) {
		t.Fatalf("a key that does not decode: %v, want a keyError", err)
	}
	if _, err := parseStored(`{"not":"a manifest"}`, ""); err == nil || errors.As(err, &ke) {
		t.Fatalf("a manifest that does not parse: %v", err)
	}
}
