package voting

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gtank/ristretto255"
)

func cloneBallot(t testing.TB, b *Ballot) *Ballot {
	t.Helper()
	data, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseBallot(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// resign signs b again with cred, as a voter who tampers with their own
// ballot (or copies another's) would.
func resign(t testing.TB, f *fixture, b *Ballot, cred *Credential) {
	t.Helper()
	b.credential = cred.public
	sig, err := ProveKnowledge(f.election.signatureTranscript(b.Hash()), cred.u, f.rnd)
	if err != nil {
		t.Fatal(err)
	}
	b.signature = sig
}

type tamperCase struct {
	name   string
	edit   func(b *Ballot)
	resign bool
	want   func(err error) bool
}

func isProofError(contest, option string) func(error) bool {
	return func(err error) bool {
		var pe *ProofError
		return errors.As(err, &pe) && errors.Is(err, ErrBadProof) && pe.Contest == contest && pe.Option == option
	}
}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// tamperCases changes each component of a ballot in turn.
func tamperCases(t testing.TB, f *fixture, other *Credential) []tamperCase {
	var cases []tamperCase
	m := f.election.manifest
	for i, c := range m.Contests {
		for j, o := range c.Options {
			i, j, c, o := i, j, c, o
			where := fmt.Sprintf("%s/%s", c.ID, o.ID)
			opt := func(b *Ballot) *ballotOption { return &b.contests[i].options[j] }
			cases = append(cases,
				tamperCase{where + " α", func(b *Ballot) {
					opt(b).ciphertext = &Ciphertext{alpha: plusGp(opt(b).ciphertext.alpha), beta: opt(b).ciphertext.beta}
				}, true, isProofError(c.ID, o.ID)},
				tamperCase{where + " β", func(b *Ballot) {
					opt(b).ciphertext = &Ciphertext{alpha: opt(b).ciphertext.alpha, beta: plusGp(opt(b).ciphertext.beta)}
				}, true, isProofError(c.ID, o.ID)},
				tamperCase{where + " c₀", func(b *Ballot) { p := opt(b).proof; p.challenges[0] = plusOne(p.challenges[0]) }, true, isProofError(c.ID, o.ID)},
				tamperCase{where + " β not re-signed", func(b *Ballot) {
					opt(b).ciphertext = &Ciphertext{alpha: opt(b).ciphertext.alpha, beta: plusGp(opt(b).ciphertext.beta)}
				}, false, is(ErrSignature)},
			)
			for k := 0; k < 4; k++ {
				k := k
				cases = append(cases, tamperCase{fmt.Sprintf("%s commitment %d", where, k), func(b *Ballot) {
					p := opt(b).proof
					p.commitments[k] = plusGp(p.commitments[k])
				}, true, isProofError(c.ID, o.ID)})
			}
			for k := 0; k < 2; k++ {
				k := k
				cases = append(cases, tamperCase{fmt.Sprintf("%s response %d", where, k), func(b *Ballot) {
					p := opt(b).proof
					p.responses[k] = plusOne(p.responses[k])
				}, true, isProofError(c.ID, o.ID)})
			}
		}
		n := c.Max - c.Min + 1
		i, c := i, c
		for k := 0; k < 2*n; k++ {
			k := k
			cases = append(cases, tamperCase{fmt.Sprintf("%s range commitment %d", c.ID, k), func(b *Ballot) {
				p := b.contests[i].proof
				p.commitments[k] = plusGp(p.commitments[k])
			}, true, isProofError(c.ID, "")})
		}
		for k := 0; k < n-1; k++ {
			k := k
			cases = append(cases, tamperCase{fmt.Sprintf("%s range challenge %d", c.ID, k), func(b *Ballot) {
				p := b.contests[i].proof
				p.challenges[k] = plusOne(p.challenges[k])
			}, true, isProofError(c.ID, "")})
		}
		for k := 0; k < n; k++ {
			k := k
			cases = append(cases, tamperCase{fmt.Sprintf("%s range response %d", c.ID, k), func(b *Ballot) {
				p := b.contests[i].proof
				p.responses[k] = plusOne(p.responses[k])
			}, true, isProofError(c.ID, "")})
		}
	}
	first := m.Contests[0]
	cases = append(cases,
		tamperCase{"signature commitment", func(b *Ballot) { b.signature.a = plusGp(b.signature.a) }, false, is(ErrSignature)},
		tamperCase{"signature response", func(b *Ballot) { b.signature.r = plusOne(b.signature.r) }, false, is(ErrSignature)},
		tamperCase{"no signature", func(b *Ballot) { b.signature = nil }, false, is(ErrShape)},
		tamperCase{"another credential, not re-signed", func(b *Ballot) { b.credential = other.public }, false, is(ErrSignature)},
		// Cortier–Smyth ballot copying: another voter signs a copy of this
		// ballot with their own credential. The proofs are bound to the
		// original credential, so the copy fails.
		tamperCase{"copied under another credential", func(b *Ballot) {}, true, isProofError(first.ID, first.Options[0].ID)},
		tamperCase{"election id", func(b *Ballot) { b.election = "other" }, true, is(ErrWrongElection)},
		tamperCase{"manifest digest", func(b *Ballot) { b.manifest[0] ^= 1 }, true, is(ErrWrongElection)},
		tamperCase{"contest missing", func(b *Ballot) { b.contests = b.contests[:2] }, true, is(ErrShape)},
		tamperCase{"contests swapped", func(b *Ballot) { b.contests[0], b.contests[1] = b.contests[1], b.contests[0] }, true, is(ErrShape)},
		tamperCase{"contest id", func(b *Ballot) { b.contests[0].id = "mayors" }, true, is(ErrShape)},
		tamperCase{"option missing", func(b *Ballot) { b.contests[1].options = b.contests[1].options[:3] }, true, is(ErrShape)},
		tamperCase{"options swapped", func(b *Ballot) { o := b.contests[0].options; o[0], o[1] = o[1], o[0] }, true, is(ErrShape)},
		tamperCase{"option id", func(b *Ballot) { b.contests[0].options[0].id = "adah" }, true, is(ErrShape)},
		tamperCase{"option proof over 3 values", func(b *Ballot) { b.contests[0].options[0].proof = b.contests[1].proof }, true, is(ErrShape)},
		tamperCase{"contest proof over 2 values", func(b *Ballot) { b.contests[1].proof = b.contests[1].options[0].proof }, true, is(ErrShape)},
	)
	return cases
}

func TestTamperedBallotsAreRefusedNamingWhatFailed(t *testing.T) {
	f := newFixture(t, "tamper")
	cred, other := f.credential(t), f.credential(t)
	orig := f.ballot(t, cred, sampleChoices)
	if err := f.election.VerifyBallot(orig); err != nil {
		t.Fatal(err)
	}
	cases := tamperCases(t, f, other)
	ballots := make([]*Ballot, len(cases))
	for k, tc := range cases {
		b := cloneBallot(t, orig)
		tc.edit(b)
		if tc.resign {
			signer := cred
			if tc.name == "copied under another credential" {
				signer = other
			}
			resign(t, f, b, signer)
		}
		ballots[k] = b
		err := f.election.VerifyBallot(b)
		if !tc.want(err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// Batch verification, with the good ballot among the bad ones, gives
	// every ballot the same verdict as verifying it alone.
	ballots = append(ballots, orig)
	errs := f.election.VerifyBallots(ballots)
	for k, tc := range cases {
		if single := f.election.VerifyBallot(ballots[k]); fmt.Sprint(errs[k]) != fmt.Sprint(single) {
			t.Errorf("%s: batch says %v, alone %v", tc.name, errs[k], single)
		}
	}
	if errs[len(cases)] != nil {
		t.Errorf("the good ballot among bad ones: %v", errs[len(cases)])
	}
}

// cheatingBallot encrypts selections that break the rules (a value other
// than 0 or 1, or too many selections), with honest proofs where a
// witness exists and simulated ones where none does, and signs it.
func cheatingBallot(t testing.TB, f *fixture, cred *Credential, sel [][]uint64) *Ballot {
	e := f.election
	b := &Ballot{election: e.manifest.ID, manifest: e.digest, credential: cred.public, contests: make([]ballotContest, len(sel))}
	for i := range e.manifest.Contests {
		c := &e.manifest.Contests[i]
		bc := ballotContest{id: c.ID}
		sum, sumR, count := newCiphertextSum(), ristretto255.NewScalar(), uint64(0)
		for j, o := range c.Options {
			r, _ := RandomScalar(f.rnd)
			ct := encrypt(e.key, sel[i][j], r)
			var proof *RangeProof
			if sel[i][j] <= 1 {
				proof, _ = proveRange(e.optionTranscript(cred.public, c.ID, o.ID, ct), e.key.k.e, ct, 0, 1, sel[i][j], r, f.rnd)
			} else {
				proof = simulatedRangeProof(t, rangeStatement{key: e.key.k.e, ct: ct, lo: 0, hi: 1}, f.rnd)
			}
			bc.options = append(bc.options, ballotOption{id: o.ID, ciphertext: ct, proof: proof})
			sum.add(ct)
			sumR.Add(sumR, r)
			count += sel[i][j]
		}
		total := sum.ciphertext()
		if count >= uint64(c.Min) && count <= uint64(c.Max) {
			bc.proof, _ = proveRange(e.contestTranscript(cred.public, c, total), e.key.k.e, total, uint64(c.Min), uint64(c.Max), count, sumR, f.rnd)
		} else {
			bc.proof = simulatedRangeProof(t, rangeStatement{key: e.key.k.e, ct: total, lo: uint64(c.Min), hi: uint64(c.Max)}, f.rnd)
		}
		b.contests[i] = bc
	}
	resign(t, f, b, cred)
	return b
}

func TestBallotsThatBreakTheRulesAreRefused(t *testing.T) {
	f := newFixture(t, "cheat")
	cred := f.credential(t)
	tests := []struct {
		name string
		sel  [][]uint64
		want func(error) bool
	}{
		{"honest", [][]uint64{{0, 1, 0}, {1, 0, 0, 1}, {1, 0}}, func(err error) bool { return err == nil }},
		{"two mayors", [][]uint64{{1, 1, 0}, {0, 0, 0, 0}, {0, 0}}, isProofError("mayor", "")},
		{"no mayor (min 1)", [][]uint64{{0, 0, 0}, {0, 0, 0, 0}, {0, 0}}, isProofError("mayor", "")},
		{"three councillors", [][]uint64{{1, 0, 0}, {1, 1, 1, 0}, {0, 0}}, isProofError("council", "")},
		{"yes and no", [][]uint64{{1, 0, 0}, {0, 0, 0, 0}, {1, 1}}, isProofError("park", "")},
		{"a vote worth 2", [][]uint64{{1, 0, 0}, {2, 0, 0, 0}, {0, 0}}, isProofError("council", "p1")},
		{"a vote worth −1 (ℓ−1) to pay for a 2", [][]uint64{{2, 0, 0}, {0, 0, 0, 0}, {0, 0}}, isProofError("mayor", "ada")},
	}
	for _, tt := range tests {
		b := cheatingBallot(t, f, cred, tt.sel)
		err := f.election.VerifyBallot(b)
		if !tt.want(err) {
			t.Errorf("%s: %v", tt.name, err)
		}
		if batch := f.election.VerifyBallots([]*Ballot{b})[0]; fmt.Sprint(batch) != fmt.Sprint(err) {
			t.Errorf("%s: batch %v, alone %v", tt.name, batch, err)
		}
	}
}

func TestBallotForAnotherElectionIsRefused(t *testing.T) {
	f := newFixture(t, "replay-a")
	g := newFixture(t, "replay-b") // same manifest, another joint key
	b := f.ballot(t, f.credential(t), sampleChoices)
	// The signature binds the joint key, as every proof does.
	if err := g.election.VerifyBallot(b); !errors.Is(err, ErrSignature) {
		t.Errorf("under another joint key: %v", err)
	}
	resign(t, g, b, f.credential(t))
	if err := g.election.VerifyBallot(b); !errors.Is(err, ErrBadProof) {
		t.Errorf("under another joint key, signed for it: %v", err)
	}
	m := testManifest()
	m.ID = "test-2027"
	h, err := NewElection(m, f.election.Key())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.VerifyBallot(b); !errors.Is(err, ErrWrongElection) {
		t.Errorf("another election id: %v", err)
	}
	m = testManifest()
	m.Contests[0].Options[0].Title = "Ada Lovelace"
	h, _ = NewElection(m, f.election.Key())
	if err := h.VerifyBallot(b); !errors.Is(err, ErrWrongElection) {
		t.Errorf("another manifest: %v", err)
	}
	cred, _ := NewCredential("test-2027", f.rnd)
	if _, err := f.election.Encrypt(cred, sampleChoices, f.rnd); !errors.Is(err, ErrWrongElection) {
		t.Errorf("credential of another election: %v", err)
	}
}
