package voting

import (
	"fmt"
	"testing"

	"github.com/gtank/ristretto255"
)

// msmInputs are n random points with scalars of the shapes a batch has:
// a third full-size, the rest 128-bit weights, and some small.
func msmInputs(tb testing.TB, n int, seed string) ([]*ristretto255.Scalar, []*ristretto255.Element) {
	rnd := newSeededReader(seed)
	ss := make([]*ristretto255.Scalar, n)
	ps := make([]*ristretto255.Element, n)
	for i := range n {
		s, err := RandomScalar(rnd)
		if err != nil {
			tb.Fatal(err)
		}
		ps[i] = ristretto255.NewIdentityElement().ScalarBaseMult(s)
		switch i % 6 {
		case 0, 1:
			ss[i], _ = RandomScalar(rnd)
		case 2:
			ss[i] = scalarFromUint(uint64(i))
		case 3:
			ss[i] = ristretto255.NewScalar().Negate(scalarFromUint(uint64(i)))
		default:
			var w [32]byte
			rnd.Read(w[:16])
			ss[i], _ = ristretto255.NewScalar().SetCanonicalBytes(w[:])
		}
	}
	return ss, ps
}

func TestPippengerIsStraus(t *testing.T) {
	for _, n := range []int{1, 2, 7, 64, 513, 2000, 9000} {
		ss, ps := msmInputs(t, n, fmt.Sprint("msm", n))
		want := ristretto255.NewIdentityElement().VarTimeMultiScalarMult(ss, ps)
		if got := pippenger(ss, ps); got.Equal(want) != 1 {
			t.Errorf("n = %d: Pippenger and Straus differ", n)
		}
		if got := varTimeMSM(ss, ps); got.Equal(want) != 1 {
			t.Errorf("n = %d: varTimeMSM and Straus differ", n)
		}
	}
	// Extreme scalars: 0, 1, −1, ℓ−1 and 2^252.
	ss, ps := msmInputs(t, 600, "extreme")
	ss[0] = ristretto255.NewScalar()
	ss[1] = scalarFromUint(1)
	ss[2] = ristretto255.NewScalar().Negate(scalarFromUint(1))
	var b [32]byte
	b[31] = 0x10
	ss[3], _ = ristretto255.NewScalar().SetCanonicalBytes(b[:])
	want := ristretto255.NewIdentityElement().VarTimeMultiScalarMult(ss, ps)
	if pippenger(ss, ps).Equal(want) != 1 {
		t.Error("extreme scalars: Pippenger and Straus differ")
	}
}

func BenchmarkMSM(b *testing.B) {
	for _, n := range []int{640, 5376, 43008} {
		ss, ps := msmInputs(b, n, "bench")
		b.Run(fmt.Sprintf("straus/n=%d", n), func(b *testing.B) {
			for range b.N {
				part := ristretto255.NewIdentityElement()
				acc := ristretto255.NewIdentityElement()
				for start := 0; start < n; start += msmChunk {
					end := min(start+msmChunk, n)
					acc.Add(acc, part.VarTimeMultiScalarMult(ss[start:end], ps[start:end]))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/point")
		})
		b.Run(fmt.Sprintf("pippenger/n=%d", n), func(b *testing.B) {
			for range b.N {
				pippenger(ss, ps)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/point")
		})
	}
}

// A batch big enough for Pippenger's method gives each ballot the verdict
// it gets alone: all good, then each tampering among good ballots.
func TestLargeBatchNamesEachBadBallot(t *testing.T) {
	f := newFixture(t, "large-batch")
	cred, other := f.credential(t), f.credential(t)
	var good []*Ballot
	for range 12 {
		good = append(good, f.ballot(t, f.credential(t), sampleChoices))
	}
	chk, _ := f.election.prepare(good[0], true)
	if n := len(good) * ballotTerms(chk); n < pippengerMin {
		t.Fatalf("a batch of %d terms does not reach Pippenger's method (%d)", n, pippengerMin)
	}
	for i, err := range f.election.VerifyBallotBatch(good) {
		if err != nil {
			t.Fatalf("good ballot %d: %v", i, err)
		}
	}
	orig := f.ballot(t, cred, sampleChoices)
	for _, tc := range tamperCases(t, f, other) {
		b := cloneBallot(t, orig)
		tc.edit(b)
		if tc.resign {
			signer := cred
			if tc.name == "copied under another credential" {
				signer = other
			}
			resign(t, f, b, signer)
		}
		batch := append(append([]*Ballot{}, good[:6]...), b)
		batch = append(batch, good[6:]...)
		errs := f.election.VerifyBallotBatch(batch)
		if single := f.election.VerifyBallot(b); fmt.Sprint(errs[6]) != fmt.Sprint(single) || !tc.want(errs[6]) {
			t.Errorf("%s: batch says %v, alone %v", tc.name, errs[6], single)
		}
		for i, err := range errs {
			if i != 6 && err != nil {
				t.Errorf("%s: good ballot %d: %v", tc.name, i, err)
			}
		}
	}
}
