package voting

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gtank/ristretto255"
)

// electionWithBallots casts ballots for the given choices and returns
// the tally and the expected counts.
func electionWithBallots(t testing.TB, f *fixture, choices []Choices) (*EncryptedTally, map[string]uint64) {
	t.Helper()
	tally := f.election.NewTally()
	want := map[string]uint64{}
	for _, c := range f.election.manifest.Contests {
		for _, o := range c.Options {
			want[c.ID+"/"+o.ID] = 0
		}
	}
	for _, ch := range choices {
		b := f.ballot(t, f.credential(t), ch)
		if err := tally.Add(b); err != nil {
			t.Fatal(err)
		}
		for c, os := range ch {
			for _, o := range os {
				want[c+"/"+o]++
			}
		}
	}
	return tally, want
}

func counts(r *Result) map[string]uint64 {
	got := map[string]uint64{}
	for _, c := range r.Contests {
		for _, o := range c.Options {
			got[c.ID+"/"+o.ID] = o.Votes
		}
	}
	return got
}

var tallyChoices = []Choices{
	sampleChoices,
	{"mayor": {"ada"}, "council": {"p1"}, "park": {"no"}},
	{"mayor": {"boris"}},
	{"mayor": {"boris"}, "council": {"p2", "p1"}, "park": {"yes"}},
	{"mayor": {"chen"}, "park": {"yes"}},
}

func (f *fixture) partials(t testing.TB, tally *EncryptedTally) []*PartialDecryption {
	var ps []*PartialDecryption
	for _, s := range f.shares {
		p, err := f.election.PartialDecrypt(s, tally, f.rnd)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestAnyThresholdOfTrusteesDecryptsTheTally(t *testing.T) {
	f := newFixture(t, "tally")
	tally, want := electionWithBallots(t, f, tallyChoices)
	ps := f.partials(t, tally)
	for _, subset := range [][]int{{0, 1}, {0, 2}, {1, 2}, {2, 1}, {0, 1, 2}} {
		var chosen []*PartialDecryption
		for _, i := range subset {
			chosen = append(chosen, ps[i])
		}
		r, err := f.election.Decrypt(tally, 2, f.keys, chosen)
		if err != nil {
			t.Fatalf("%v: %v", subset, err)
		}
		if fmt.Sprint(counts(r)) != fmt.Sprint(want) {
			t.Errorf("%v: %v, want %v", subset, counts(r), want)
		}
		if r.Ballots != uint64(len(tallyChoices)) || len(r.Trustees) != 2 || len(r.Excluded) != 0 {
			t.Errorf("%v: %+v", subset, r)
		}
	}
	if _, err := f.election.Decrypt(tally, 2, f.keys, ps[:1]); !errors.Is(err, ErrNotEnoughTrustees) {
		t.Errorf("one of two: %v", err)
	}
}

func TestBadPartialDecryptionIsNamedAndExcluded(t *testing.T) {
	f := newFixture(t, "bad-trustee")
	tally, want := electionWithBallots(t, f, tallyChoices)
	ps := f.partials(t, tally)
	reparse := func(p *PartialDecryption) *PartialDecryption {
		data, _ := p.MarshalJSON()
		q, err := ParsePartialDecryption(data)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	type edit struct {
		name string
		edit func(p *PartialDecryption)
		want func(error) bool
	}
	proofErr := func(c, o string) func(error) bool {
		return func(err error) bool {
			var pe *ProofError
			return errors.As(err, &pe) && pe.Trustee == 2 && pe.Contest == c && pe.Option == o
		}
	}
	var edits []edit
	for i, c := range f.election.manifest.Contests {
		for j, o := range c.Options {
			i, j, c, o := i, j, c, o
			opt := func(p *PartialDecryption) *partialOption { return &p.contests[i].options[j] }
			edits = append(edits,
				edit{c.ID + "/" + o.ID + " D", func(p *PartialDecryption) { opt(p).share = plusGp(opt(p).share) }, proofErr(c.ID, o.ID)},
				edit{c.ID + "/" + o.ID + " A", func(p *PartialDecryption) { opt(p).proof.a = plusGp(opt(p).proof.a) }, proofErr(c.ID, o.ID)},
				edit{c.ID + "/" + o.ID + " B", func(p *PartialDecryption) { opt(p).proof.b = plusGp(opt(p).proof.b) }, proofErr(c.ID, o.ID)},
				edit{c.ID + "/" + o.ID + " r", func(p *PartialDecryption) { opt(p).proof.r = plusOne(opt(p).proof.r) }, proofErr(c.ID, o.ID)},
			)
		}
	}
	edits = append(edits,
		edit{"manifest", func(p *PartialDecryption) { p.manifest[3] ^= 1 }, is(ErrWrongElection)},
		edit{"contest missing", func(p *PartialDecryption) { p.contests = p.contests[1:] }, is(ErrShape)},
		edit{"option id", func(p *PartialDecryption) { p.contests[0].options[0].id = "x" }, is(ErrShape)},
		edit{"another trustee's index", func(p *PartialDecryption) { p.trustee = 3 }, func(err error) bool { return err != nil }},
	)
	for _, e := range edits {
		bad := reparse(ps[1])
		e.edit(bad)
		// Trustee 2 is bad; 1 and 3 are enough.
		r, err := f.election.Decrypt(tally, 2, f.keys, []*PartialDecryption{ps[0], bad, ps[2]})
		if err != nil {
			t.Errorf("%s: %v", e.name, err)
			continue
		}
		if fmt.Sprint(counts(r)) != fmt.Sprint(want) {
			t.Errorf("%s: counts %v", e.name, counts(r))
		}
		if e.name == "another trustee's index" {
			if fmt.Sprint(r.Trustees) != "[1 3]" || len(r.Excluded) != 1 || r.Excluded[0].Trustee != 3 {
				t.Errorf("%s: trustees %v, excluded %v", e.name, r.Trustees, r.Excluded)
			}
			continue
		}
		if fmt.Sprint(r.Trustees) != "[1 3]" || len(r.Excluded) != 1 || r.Excluded[0].Trustee != 2 || !e.want(r.Excluded[0].Err) {
			t.Errorf("%s: trustees %v, excluded %v", e.name, r.Trustees, r.Excluded)
		}
		// With only trustee 1 good, the tally fails naming trustee 2.
		_, err = f.election.Decrypt(tally, 2, f.keys, []*PartialDecryption{ps[0], bad})
		var de *DecryptionError
		if !errors.As(err, &de) || !errors.Is(err, ErrNotEnoughTrustees) || len(de.Failed) != 1 || de.Failed[0].Trustee != 2 || fmt.Sprint(de.Valid) != "[1]" {
			t.Errorf("%s, not enough: %v", e.name, err)
		}
	}
	// A partial decryption by a trustee without a verification key.
	stranger := reparse(ps[0])
	stranger.trustee = 9
	r, err := f.election.Decrypt(tally, 2, f.keys, []*PartialDecryption{stranger, ps[1], ps[2]})
	if err != nil || len(r.Excluded) != 1 || r.Excluded[0].Trustee != 9 || !errors.Is(r.Excluded[0].Err, ErrInvalidKey) {
		t.Errorf("unknown trustee: %v, %+v", err, r)
	}
}

func TestDecryptRefusesKeysThatAreNotTheJointKeys(t *testing.T) {
	f := newFixture(t, "keys")
	tally, _ := electionWithBallots(t, f, tallyChoices[:2])
	ps := f.partials(t, tally)
	g := newFixture(t, "other-keys")
	// The other election's trustees decrypt our tally with their own
	// shares: each proof is valid for their keys, but their keys do not
	// interpolate to our joint key.
	var theirs []*PartialDecryption
	for _, s := range g.shares {
		p, _ := f.election.PartialDecrypt(s, tally, f.rnd)
		theirs = append(theirs, p)
	}
	if _, err := f.election.Decrypt(tally, 2, g.keys, theirs); !errors.Is(err, ErrDecryption) {
		t.Errorf("foreign keys: %v", err)
	}
	for name, keys := range map[string][]VerificationKey{
		"identity key":  {f.keys[0], {Index: 2, Key: ristretto255.NewIdentityElement()}, f.keys[2]},
		"index 0":       {{Index: 0, Key: f.keys[0].Key}, f.keys[1], f.keys[2]},
		"duplicate":     {f.keys[0], f.keys[0], f.keys[2]},
		"too few keys":  {f.keys[0]},
		"no key at all": nil,
	} {
		if _, err := f.election.Decrypt(tally, 2, keys, ps); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := f.election.Decrypt(tally, 0, f.keys, ps); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("threshold 0: %v", err)
	}
	if _, err := f.election.PartialDecrypt(TrusteeShare{Index: 1, Secret: ristretto255.NewScalar()}, tally, f.rnd); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("zero share: %v", err)
	}
	if _, err := f.election.PartialDecrypt(TrusteeShare{Index: 0, Secret: f.shares[0].Secret}, tally, f.rnd); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("index 0: %v", err)
	}
}

func TestTallyOfAnotherElectionIsRefused(t *testing.T) {
	f := newFixture(t, "tally-a")
	m := testManifest()
	m.ID = "other"
	other, _ := NewElection(m, f.election.Key())
	b := f.ballot(t, f.credential(t), sampleChoices)
	if err := other.NewTally().Add(b); !errors.Is(err, ErrWrongElection) {
		t.Errorf("Add: %v", err)
	}
	tally := f.election.NewTally()
	if _, err := other.PartialDecrypt(f.shares[0], tally, f.rnd); !errors.Is(err, ErrWrongElection) {
		t.Errorf("PartialDecrypt: %v", err)
	}
	if err := tally.Merge(other.NewTally()); !errors.Is(err, ErrWrongElection) {
		t.Errorf("Merge: %v", err)
	}
}

func TestTallyMergeAndJSON(t *testing.T) {
	f := newFixture(t, "merge")
	all, _ := electionWithBallots(t, f, tallyChoices)
	a, b := f.election.NewTally(), f.election.NewTally()
	bs := []*Ballot{}
	for _, ch := range tallyChoices {
		bs = append(bs, f.ballot(t, f.credential(t), ch))
	}
	for i, bl := range bs {
		if i%2 == 0 {
			a.Add(bl)
		} else {
			b.Add(bl)
		}
	}
	if err := a.Merge(b); err != nil || a.Ballots() != uint64(len(bs)) {
		t.Fatalf("merge: %v, %d ballots", err, a.Ballots())
	}
	whole := f.election.NewTally()
	for _, bl := range bs {
		whole.Add(bl)
	}
	if !whole.Equal(a) || all.Equal(a) {
		t.Error("Equal: merged tallies differ from the whole, or other ballots' tally equals it")
	}
	data, _ := a.MarshalJSON()
	c, err := ParseEncryptedTally(data)
	if err != nil || !c.Equal(a) {
		t.Fatalf("JSON round trip: %v", err)
	}
	if _, err := ParseEncryptedTally(append(data, ' ')); !errors.Is(err, ErrEncoding) {
		t.Errorf("trailing space: %v", err)
	}
}

func TestDiscreteLog(t *testing.T) {
	for _, bound := range []uint64{0, 1, 2, 3, 15, 16, 17, 1000} {
		d := newDiscreteLog(bound)
		for _, m := range []uint64{0, 1, bound / 2, bound - 1, bound, bound + 1, bound + 2} {
			if m > bound+2 {
				continue
			}
			got, ok := d.lookup(multipleOfG(m))
			if m <= bound && (!ok || got != m) {
				t.Errorf("bound %d: %d found as %d, %v", bound, m, got, ok)
			}
			if m > bound && ok {
				t.Errorf("bound %d: %d (above the bound) found as %d", bound, m, got)
			}
		}
	}
	d := newDiscreteLog(100)
	if _, ok := d.lookup(ristretto255.NewIdentityElement().Negate(multipleOfG(1))); ok {
		t.Error("−G found")
	}
}

func TestLagrangeAtZeroInterpolates(t *testing.T) {
	// f(x) = 5 + 3x + 2x²: any three points give f(0) = 5.
	f := func(x uint64) *ristretto255.Scalar { return scalarFromUint(5 + 3*x + 2*x*x) }
	for _, set := range [][]uint32{{1, 2, 3}, {2, 5, 7}, {7, 1, 4}} {
		ls := lagrangeAtZero(set)
		sum := ristretto255.NewScalar()
		for a, i := range set {
			sum.Add(sum, ristretto255.NewScalar().Multiply(ls[a], f(uint64(i))))
		}
		if sum.Equal(scalarFromUint(5)) != 1 {
			t.Errorf("%v: does not interpolate f(0)", set)
		}
	}
}

func TestVerificationKeyJSON(t *testing.T) {
	k := VerificationKey{Index: 3, Key: ristretto255.NewGeneratorElement()}
	data, err := k.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var got VerificationKey
	if err := got.UnmarshalJSON(data); err != nil || got.Index != 3 || got.Key.Equal(k.Key) != 1 {
		t.Fatalf("round trip: %v", err)
	}
	for name, bad := range map[string]string{
		"index 0":  `{"index":0,"key":"` + encodeHex(k.Key.Bytes()) + `"}`,
		"identity": `{"index":1,"key":"` + encodeHex(make([]byte, 32)) + `"}`,
	} {
		if err := got.UnmarshalJSON([]byte(bad)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestResultJSON(t *testing.T) {
	f := newFixture(t, "result")
	tally, _ := electionWithBallots(t, f, tallyChoices[:3])
	ps := f.partials(t, tally)
	ps[0].contests[0].options[0].proof.r = plusOne(ps[0].contests[0].options[0].proof.r)
	r, err := f.election.Decrypt(tally, 2, f.keys, ps)
	if err != nil {
		t.Fatal(err)
	}
	data, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseResult(data)
	if err != nil || !got.SameCounts(r) || len(got.Excluded) != 1 || got.Excluded[0].Err.Error() != r.Excluded[0].Err.Error() {
		t.Fatalf("round trip: %v, %s", err, data)
	}
	got.Contests[0].Options[0].Votes++
	if got.SameCounts(r) {
		t.Error("SameCounts with another count")
	}
}
