package voting

import (
	"crypto/sha512"
	"encoding/binary"
	"testing"
	"time"

	"github.com/gtank/ristretto255"
)

// seededReader is the deterministic randomness of the known-answer
// vectors (docs/election-record.md, "Test vectors"): the concatenation of
// the blocks SHA-512("veche-voting-v1 test randomness" ‖ 0x00 ‖ seed ‖
// u64be(i)) for i = 0, 1, 2, … It must never be used outside tests.
type seededReader struct {
	seed []byte
	i    uint64
	buf  []byte
}

func newSeededReader(seed string) *seededReader { return &seededReader{seed: []byte(seed)} }

func (r *seededReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.buf) == 0 {
			h := sha512.New()
			h.Write([]byte(Domain + " test randomness"))
			h.Write([]byte{0})
			h.Write(r.seed)
			var c [8]byte
			binary.BigEndian.PutUint64(c[:], r.i)
			h.Write(c[:])
			r.buf = h.Sum(nil)
			r.i++
		}
		k := copy(p[n:], r.buf)
		r.buf = r.buf[k:]
		n += k
	}
	return n, nil
}

// testManifest has one contest of each kind.
func testManifest() *Manifest {
	return &Manifest{
		ID:     "test-2026",
		Title:  "Test election",
		Opens:  time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC),
		Closes: time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC),
		Contests: []Contest{
			{ID: "mayor", Title: "Mayor", Kind: ChooseOne, Min: 1, Max: 1, Options: []Option{
				{ID: "ada", Title: "Ada"}, {ID: "boris", Title: "Boris"}, {ID: "chen", Title: "Chen"},
			}},
			{ID: "council", Title: "Council (up to 2)", Kind: ChooseUpTo, Min: 0, Max: 2, Options: []Option{
				{ID: "p1", Title: "One"}, {ID: "p2", Title: "Two"}, {ID: "p3", Title: "Three"}, {ID: "p4", Title: "Four"},
			}},
			{ID: "park", Title: "Build the park?", Kind: YesNo, Min: 0, Max: 1, Options: []Option{
				{ID: "yes", Title: "Yes"}, {ID: "no", Title: "No"},
			}},
		},
	}
}

// trustees deals n shares of a random secret with threshold t, as the
// key ceremony would (a trusted dealer, for tests only): s_i = f(i) for
// a random polynomial f of degree t − 1, K = f(0)·G, K_i = s_i·G.
func trustees(tb testing.TB, n, t int, rnd *seededReader) (*JointKey, []TrusteeShare, []VerificationKey) {
	tb.Helper()
	coeffs := make([]*ristretto255.Scalar, t)
	for i := range coeffs {
		c, err := RandomScalar(rnd)
		if err != nil {
			tb.Fatal(err)
		}
		coeffs[i] = c
	}
	key, err := NewJointKey(ristretto255.NewIdentityElement().ScalarBaseMult(coeffs[0]))
	if err != nil {
		tb.Fatal(err)
	}
	var shares []TrusteeShare
	var vks []VerificationKey
	for i := 1; i <= n; i++ {
		x := scalarFromUint(uint64(i))
		s := ristretto255.NewScalar()
		for k := t - 1; k >= 0; k-- { // Horner
			s.Multiply(s, x)
			s.Add(s, coeffs[k])
		}
		shares = append(shares, TrusteeShare{Index: uint32(i), Secret: s})
		vks = append(vks, VerificationKey{Index: uint32(i), Key: ristretto255.NewIdentityElement().ScalarBaseMult(s)})
	}
	return key, shares, vks
}

type fixture struct {
	election *Election
	shares   []TrusteeShare
	keys     []VerificationKey
	rnd      *seededReader
}

// newFixture is the test election with 3 trustees, threshold 2.
func newFixture(tb testing.TB, seed string) *fixture {
	tb.Helper()
	rnd := newSeededReader(seed)
	key, shares, vks := trustees(tb, 3, 2, rnd)
	e, err := NewElection(testManifest(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{election: e, shares: shares, keys: vks, rnd: rnd}
}

func (f *fixture) credential(tb testing.TB) *Credential {
	tb.Helper()
	c, err := NewCredential(f.election.manifest.ID, f.rnd)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func (f *fixture) pending(tb testing.TB, cred *Credential, ch Choices) *PendingBallot {
	tb.Helper()
	p, err := f.election.Encrypt(cred, ch, f.rnd)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func (f *fixture) ballot(tb testing.TB, cred *Credential, ch Choices) *Ballot {
	tb.Helper()
	b, err := f.pending(tb, cred, ch).Cast()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

var sampleChoices = Choices{"mayor": {"boris"}, "council": {"p1", "p4"}, "park": {"yes"}}
