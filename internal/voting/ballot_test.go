package voting

import (
	"errors"
	"testing"
)

func TestEncryptedBallotVerifies(t *testing.T) {
	f := newFixture(t, "ballot")
	for _, ch := range []Choices{
		sampleChoices,
		{"mayor": {"ada"}},
		{"mayor": {"chen"}, "council": {"p2"}, "park": {"no"}},
		{"mayor": {"ada"}, "council": {"p3", "p2"}},
	} {
		b := f.ballot(t, f.credential(t), ch)
		if err := f.election.VerifyBallot(b); err != nil {
			t.Errorf("%v: %v", ch, err)
		}
		if err := f.election.exact(mustPrepare(t, f.election, b)); err != nil {
			t.Errorf("%v: exact: %v", ch, err)
		}
	}
}

func mustPrepare(t *testing.T, e *Election, b *Ballot) *ballotCheck {
	t.Helper()
	chk, err := e.prepare(b, true)
	if err != nil {
		t.Fatal(err)
	}
	return chk
}

func TestEncryptRefusesInvalidChoices(t *testing.T) {
	f := newFixture(t, "choices")
	cred := f.credential(t)
	for name, ch := range map[string]Choices{
		"none for a contest with min 1": {"council": {"p1"}},
		"two for choose-one":            {"mayor": {"ada", "boris"}},
		"three of up to two":            {"mayor": {"ada"}, "council": {"p1", "p2", "p3"}},
		"unknown option":                {"mayor": {"dora"}},
		"unknown contest":               {"mayor": {"ada"}, "zoo": {"x"}},
		"option twice":                  {"mayor": {"ada"}, "council": {"p1", "p1"}},
		"yes and no":                    {"mayor": {"ada"}, "park": {"yes", "no"}},
	} {
		_, err := f.election.Encrypt(cred, ch, f.rnd)
		var fe *FieldError
		if !errors.Is(err, ErrInvalidChoices) || !errors.As(err, &fe) {
			t.Errorf("%s: %v, want ErrInvalidChoices with the field", name, err)
		}
	}
}
