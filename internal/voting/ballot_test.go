package voting

import (
	"errors"
	"fmt"
	"strings"
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

func TestBallotJSONRoundTripAndCanonicalForm(t *testing.T) {
	f := newFixture(t, "json")
	b := f.ballot(t, f.credential(t), sampleChoices)
	data, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseBallot(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash() != b.Hash() || c.TrackingCode() != b.TrackingCode() {
		t.Error("round trip changed the ballot")
	}
	if err := f.election.VerifyBallot(c); err != nil {
		t.Error(err)
	}
	s := string(data)
	sig := encodeHex(b.signature.Bytes())
	cred := b.credential.String()
	for name, bad := range map[string]string{
		"whitespace":               strings.Replace(s, `,"contests"`, `, "contests"`, 1),
		"trailing newline":         s + "\n",
		"fields reordered":         strings.Replace(strings.Replace(s, `"election":"test-2026",`, ``, 1), `,"signature"`, `,"election":"test-2026","signature"`, 1),
		"unknown field":            strings.Replace(s, `"election"`, `"x":1,"election"`, 1),
		"field case":               strings.Replace(s, `"election"`, `"Election"`, 1),
		"duplicate field":          strings.Replace(s, `"election":"test-2026"`, `"election":"test-2026","election":"test-2026"`, 1),
		"uppercase hex":            strings.Replace(s, sig, strings.ToUpper(sig), 1),
		"not hex":                  strings.Replace(s, cred, "g"+cred[1:], 1),
		"odd length hex":           strings.Replace(s, cred, cred[1:], 1),
		"type":                     strings.Replace(s, `"type":"ballot"`, `"type":"Ballot"`, 1),
		"no type":                  strings.Replace(s, `"type":"ballot",`, ``, 1),
		"identity credential":      strings.Replace(s, cred, encodeHex(make([]byte, 32)), 1),
		"non-canonical credential": strings.Replace(s, cred, encodeHex(nonCanonicalElement()), 1),
		"short signature":          strings.Replace(s, sig, sig[:len(sig)-4], 1),
		"escaped character":        strings.Replace(s, `"test-2026"`, `"test\u002d2026"`, 1),
		"two objects":              s + s,
	} {
		if _, err := ParseBallot([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name == "identity credential" && !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: %v", name, err)
		} else if name != "identity credential" && !errors.Is(err, ErrEncoding) {
			t.Errorf("%s: %v, want ErrEncoding", name, err)
		}
	}
}

func TestAuditedBallotOpensToItsChoicesAndIsNeverCast(t *testing.T) {
	f := newFixture(t, "audit")
	cred := f.credential(t)
	p := f.pending(t, cred, sampleChoices)
	code := p.TrackingCode()
	a, err := p.Audit()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Cast(); !errors.Is(err, ErrSpent) {
		t.Errorf("Cast after Audit: %v", err)
	}
	if _, err := p.Audit(); !errors.Is(err, ErrSpent) {
		t.Errorf("Audit twice: %v", err)
	}
	if a.TrackingCode() != code {
		t.Errorf("tracking code %s after audit, %s before", a.TrackingCode(), code)
	}
	data, err := a.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	a2, err := ParseAuditedBallot(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.election.VerifyAudit(a2)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(sampleChoices) {
		t.Errorf("audit opens to %v, want %v", got, sampleChoices)
	}
	// An audited ballot is never accepted as a ballot to count.
	if _, err := ParseBallot(data); !errors.Is(err, ErrAuditedBallot) {
		t.Errorf("ParseBallot(audited): %v", err)
	}
	if err := f.election.VerifyBallot(a2.ballot); !errors.Is(err, ErrShape) {
		t.Errorf("VerifyBallot(audited ballot's contents): %v", err)
	}

	// A lie about a selection, or randomness that does not open the ciphertext.
	lie, _ := ParseAuditedBallot(data)
	lie.selected[0][1], lie.selected[0][0] = 0, 1 // boris → ada
	if _, err := f.election.VerifyAudit(lie); !errors.Is(err, ErrAudit) {
		t.Errorf("changed selection: %v", err)
	}
	wrong, _ := ParseAuditedBallot(data)
	wrong.randomness[2][0] = plusOne(wrong.randomness[2][0])
	if _, err := f.election.VerifyAudit(wrong); !errors.Is(err, ErrAudit) {
		t.Errorf("changed randomness: %v", err)
	}
	proof, _ := ParseAuditedBallot(data)
	proof.ballot.contests[1].proof.responses[0] = plusOne(proof.ballot.contests[1].proof.responses[0])
	if _, err := f.election.VerifyAudit(proof); !errors.Is(err, ErrBadProof) {
		t.Errorf("changed proof: %v", err)
	}
	bad := strings.Replace(string(data), code, "00000-00000-00000-00000", 1)
	if _, err := ParseAuditedBallot([]byte(bad)); !errors.Is(err, ErrEncoding) {
		t.Errorf("wrong tracking code: %v", err)
	}
}

func TestCastForgetsTheRandomness(t *testing.T) {
	f := newFixture(t, "cast")
	p := f.pending(t, f.credential(t), sampleChoices)
	r := p.randomness[0][0]
	b, err := p.Cast()
	if err != nil || b.signature == nil {
		t.Fatal(err)
	}
	if !isZero(r) {
		t.Error("the randomness outlives Cast")
	}
	if _, err := p.Audit(); !errors.Is(err, ErrSpent) {
		t.Errorf("Audit after Cast: %v", err)
	}
	if p.TrackingCode() != b.TrackingCode() {
		t.Error("the tracking code changed with Cast")
	}
	if _, err := p.Cast(); !errors.Is(err, ErrSpent) {
		t.Errorf("Cast twice: %v", err)
	}
}

func TestTrackingCode(t *testing.T) {
	var d [32]byte
	if got := TrackingCode(d); got != "00000-00000-00000-00000" {
		t.Errorf("zero digest: %s", got)
	}
	for i := range d {
		d[i] = 0xff
	}
	if got := TrackingCode(d); got != "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ" {
		t.Errorf("all ones: %s", got)
	}
	d = [32]byte{0x08, 0x86, 0x40} // 00001 00010 00011 00100 00000…
	if got := TrackingCode(d); got[:5] != "12340" {
		t.Errorf("bit order: %s", got)
	}
	for typed, want := range map[string]string{
		"12340-00000-00000-00000": "12340-00000-00000-00000",
		"1234o 00000 00000 0000o": "12340-00000-00000-00000",
		"i2340000000000000000L":   "",
		"l2340000000000000000":    "12340-00000-00000-00000",
		"12340-00000-00000-0000U": "",
		"12340-00000-00000-000":   "",
	} {
		got, err := ParseTrackingCode(typed)
		if want == "" && err == nil || want != "" && got != want {
			t.Errorf("ParseTrackingCode(%q) = %q, %v", typed, got, err)
		}
	}
}

func TestBallotSizeIsTheSizeOfEveryBallot(t *testing.T) {
	f := newFixture(t, "size")
	for _, ch := range []Choices{sampleChoices, {"mayor": {"ada"}}} {
		data, _ := f.ballot(t, f.credential(t), ch).MarshalJSON()
		if len(data) != f.election.BallotSize() {
			t.Errorf("ballot of %d bytes, BallotSize %d", len(data), f.election.BallotSize())
		}
	}
}
