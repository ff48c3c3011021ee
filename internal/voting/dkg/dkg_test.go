package dkg

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/gtank/ristretto255"

	"github.com/veche/veche/internal/voting"
)

func testCeremony(n, t uint32) Ceremony {
	c := Ceremony{ElectionID: "test-election", Trustees: n, Threshold: t}
	copy(c.ManifestDigest[:], bytes.Repeat([]byte{0xab}, 32))
	return c
}

// run is a ceremony played in process, phase by phase, so that tests can
// make trustees misbehave between phases.
type run struct {
	tb       testing.TB
	cer      Ceremony
	trustees []*Trustee // index i at trustees[i-1]
	record   *Record
	shares   []*EncryptedShare
}

func newRun(tb testing.TB, n, t uint32) *run {
	tb.Helper()
	r := &run{tb: tb, cer: testCeremony(n, t), record: &Record{Ceremony: testCeremony(n, t)}}
	for i := uint32(1); i <= n; i++ {
		tr, err := NewTrustee(r.cer, i)
		if err != nil {
			tb.Fatal(err)
		}
		c, err := tr.Commitment()
		if err != nil {
			tb.Fatal(err)
		}
		r.trustees = append(r.trustees, tr)
		r.record.Commitments = append(r.record.Commitments, c)
	}
	return r
}

func (r *run) trustee(i uint32) *Trustee { return r.trustees[i-1] }

func (r *run) deal() *run {
	r.tb.Helper()
	for _, tr := range r.trustees {
		s, err := tr.Deal(r.record)
		if err != nil {
			r.tb.Fatalf("trustee %d deals: %v", tr.index, err)
		}
		r.shares = append(r.shares, s...)
	}
	return r
}

func (r *run) receive() *run {
	r.tb.Helper()
	for _, tr := range r.trustees {
		c, err := tr.Receive(r.record, r.shares, true)
		if err != nil {
			r.tb.Fatalf("trustee %d receives: %v", tr.index, err)
		}
		r.record.Complaints = append(r.record.Complaints, c)
	}
	return r
}

func (r *run) answer() *run {
	r.tb.Helper()
	for _, tr := range r.trustees {
		a, err := tr.Answer(r.record)
		if err != nil {
			r.tb.Fatalf("trustee %d answers: %v", tr.index, err)
		}
		if a != nil {
			r.record.Answers = append(r.record.Answers, a)
		}
	}
	return r
}

func (r *run) finish() []*KeyShare {
	r.tb.Helper()
	var out []*KeyShare
	for _, tr := range r.trustees {
		ks, res, err := tr.Finish(r.record, r.shares)
		if err != nil {
			r.tb.Fatalf("trustee %d finishes: %v", tr.index, err)
		}
		out = append(out, ks)
		r.record.Results = append(r.record.Results, res)
	}
	return out
}

// replaceShare makes dealer i send s to j instead of its true share,
// properly encrypted and signed: a dealer cheating, not a relay.
func (r *run) replaceShare(i, j uint32, s *ristretto255.Scalar) {
	r.tb.Helper()
	dealer := r.trustee(i)
	var buf bytes.Buffer
	rcpt, _ := age.ParseX25519Recipient(r.trustee(j).box.Recipient().String())
	w, _ := age.Encrypt(&buf, rcpt)
	w.Write(s.Bytes())
	w.Close()
	for k, m := range r.shares {
		if m.Dealer == i && m.Recipient == j {
			m = &EncryptedShare{cer: r.cer, Dealer: i, Recipient: j, Ciphertext: buf.Bytes()}
			d := m.digest()
			m.Signature = ed25519.Sign(dealer.sign, d[:])
			r.shares[k] = m
			return
		}
	}
	r.tb.Fatalf("no share from %d to %d", i, j)
}

func (r *run) dropShare(i, j uint32) {
	r.shares = slices.DeleteFunc(r.shares, func(m *EncryptedShare) bool { return m.Dealer == i && m.Recipient == j })
}

// sign re-signs a message after a test changed it, as its (cheating)
// sender would.
func (r *run) signAnswer(a *Answer) {
	d := a.Digest()
	a.Signature = ed25519.Sign(r.trustee(a.Dealer).sign, d[:])
}

func randomScalar(tb testing.TB) *ristretto255.Scalar {
	s, err := voting.RandomScalar(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// lagrange returns λ_j for the set of indices S at 0: Π_{m∈S, m≠j} m/(m−j).
func lagrange(S []uint32, j uint32) *ristretto255.Scalar {
	num, den := scalarOf(1), scalarOf(1)
	for _, m := range S {
		if m == j {
			continue
		}
		num.Multiply(num, scalarOf(uint64(m)))
		den.Multiply(den, ristretto255.NewScalar().Subtract(scalarOf(uint64(m)), scalarOf(uint64(j))))
	}
	return num.Multiply(num, ristretto255.NewScalar().Invert(den))
}

// decrypts checks that the key shares of S recover r·K from R = r·G, as
// threshold ElGamal decryption does: Σ_{j∈S} λ_j·(s_j·R) = r·K.
func decrypts(tb testing.TB, K *ristretto255.Element, shares []*KeyShare, S []uint32) bool {
	tb.Helper()
	r := randomScalar(tb)
	R := ristretto255.NewIdentityElement().ScalarBaseMult(r)
	want := ristretto255.NewIdentityElement().ScalarMult(r, K)
	got := ristretto255.NewIdentityElement()
	for _, j := range S {
		part := ristretto255.NewIdentityElement().ScalarMult(shares[j-1].Secret, R)
		got.Add(got, part.ScalarMult(lagrange(S, j), part))
	}
	return got.Equal(want) == 1
}

// subsets returns every subset of {1…n} of size k, in order.
func subsets(n, k uint32) [][]uint32 {
	var out [][]uint32
	var rec func(start uint32, cur []uint32)
	rec = func(start uint32, cur []uint32) {
		if uint32(len(cur)) == k {
			out = append(out, slices.Clone(cur))
			return
		}
		for i := start; i <= n; i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(1, nil)
	return out
}

func TestCeremonyGivesAKeyThatAnyTTrusteesDecrypt(t *testing.T) {
	for _, tc := range []struct{ n, t uint32 }{{1, 1}, {2, 2}, {3, 2}, {5, 3}, {5, 5}, {7, 1}} {
		t.Run(fmt.Sprintf("n=%d,t=%d", tc.n, tc.t), func(t *testing.T) {
			r := newRun(t, tc.n, tc.t).deal().receive().answer()
			if len(r.record.Answers) != 0 {
				t.Fatalf("%d answers without a complaint", len(r.record.Answers))
			}
			shares := r.finish()
			o, err := Verify(r.record)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Qualified) != int(tc.n) || len(o.Disqualified) != 0 || len(o.Confirmed) != int(tc.n) {
				t.Fatalf("qualified %v, disqualified %v, confirmed %v", o.Qualified, o.Disqualified, o.Confirmed)
			}
			// K is the sum of the secrets a_i0, known to nobody but here.
			want := ristretto255.NewScalar()
			for _, tr := range r.trustees {
				want.Add(want, tr.coeffs[0])
			}
			if o.JointKey.Equal(ristretto255.NewIdentityElement().ScalarBaseMult(want)) != 1 {
				t.Fatal("K is not Σ a_i0·G")
			}
			for _, ks := range shares {
				if ks.JointKey.Equal(o.JointKey) != 1 || ks.VerificationKey.Equal(o.VerificationKey(ks.Index)) != 1 ||
					ristretto255.NewIdentityElement().ScalarBaseMult(ks.Secret).Equal(o.VerificationKey(ks.Index)) != 1 {
					t.Fatalf("trustee %d: share, K or K_j disagree with the record", ks.Index)
				}
			}
			for _, S := range subsets(tc.n, tc.t) {
				if !decrypts(t, o.JointKey, shares, S) {
					t.Fatalf("trustees %v do not decrypt", S)
				}
			}
			if tc.t > 1 {
				for _, S := range subsets(tc.n, tc.t-1) {
					if decrypts(t, o.JointKey, shares, S) {
						t.Fatalf("t−1 trustees %v decrypt", S)
					}
				}
			}
		})
	}
}

func TestComplaintsDecideWhoQualifies(t *testing.T) {
	tests := []struct {
		name string
		n, t uint32
		// cheat acts between the deal and the complaints; lie between
		// the complaints and the results.
		cheat        func(r *run)
		lie          func(r *run)
		complaints   map[uint32][]uint32 // complainant → accused
		disqualified map[uint32]string   // dealer → words of the reason
	}{
		{
			name: "bad share, bad answer: disqualified",
			n:    5, t: 3,
			cheat: func(r *run) { r.replaceShare(2, 4, randomScalar(r.tb)) },
			lie: func(r *run) {
				a := r.record.Answers[0]
				a.Shares[0].Share = randomScalar(r.tb)
				r.signAnswer(a)
			},
			complaints:   map[uint32][]uint32{4: {2}},
			disqualified: map[uint32]string{2: "does not match its commitments"},
		},
		{
			name: "bad share, no answer: disqualified",
			n:    5, t: 3,
			cheat:        func(r *run) { r.replaceShare(3, 1, randomScalar(r.tb)) },
			lie:          func(r *run) { r.record.Answers = nil },
			complaints:   map[uint32][]uint32{1: {3}},
			disqualified: map[uint32]string{3: "did not answer the complaints of trustees [1]"},
		},
		{
			name: "bad share, correct answer: stays qualified",
			n:    5, t: 3,
			cheat:      func(r *run) { r.replaceShare(5, 2, randomScalar(r.tb)) },
			complaints: map[uint32][]uint32{2: {5}},
		},
		{
			name: "unreadable share, correct answer: stays qualified",
			n:    4, t: 2,
			cheat: func(r *run) {
				for _, m := range r.shares {
					if m.Dealer == 1 && m.Recipient == 3 {
						m.Ciphertext = []byte("age-encryption.org/v1\n-> nonsense\n")
						d := m.digest()
						m.Signature = ed25519.Sign(r.trustee(1).sign, d[:])
					}
				}
			},
			complaints: map[uint32][]uint32{3: {1}},
		},
		{
			name: "missing share, complained about after the deadline, answered: stays qualified",
			n:    3, t: 2,
			cheat:      func(r *run) { r.dropShare(1, 2) },
			complaints: map[uint32][]uint32{2: {1}},
		},
		{
			name: "accused by t trustees: disqualified although it answers",
			n:    5, t: 2,
			cheat: func(r *run) {
				r.replaceShare(4, 1, randomScalar(r.tb))
				r.replaceShare(4, 2, randomScalar(r.tb))
			},
			complaints:   map[uint32][]uint32{1: {4}, 2: {4}},
			disqualified: map[uint32]string{4: "accused by 2 trustees"},
		},
		{
			name: "answer leaves out a complainant: disqualified",
			n:    5, t: 3,
			cheat: func(r *run) {
				r.replaceShare(1, 2, randomScalar(r.tb))
				r.replaceShare(1, 3, randomScalar(r.tb))
			},
			lie: func(r *run) {
				a := r.record.Answers[0]
				a.Shares = a.Shares[:1]
				r.signAnswer(a)
			},
			complaints:   map[uint32][]uint32{2: {1}, 3: {1}},
			disqualified: map[uint32]string{1: "not those of the complainants [2 3]"},
		},
		{
			name: "answer without a complaint: disqualified",
			n:    3, t: 2,
			lie: func(r *run) {
				a := &Answer{cer: r.cer, Dealer: 3, Shares: []RevealedShare{{1, r.trustee(3).eval(1)}}}
				r.signAnswer(a)
				r.record.Answers = append(r.record.Answers, a)
			},
			disqualified: map[uint32]string{3: "answered although nobody complained"},
		},
		{
			name: "two cheating dealers of five: both out, three remain",
			n:    5, t: 3,
			cheat: func(r *run) {
				r.replaceShare(1, 5, randomScalar(r.tb))
				r.replaceShare(2, 5, randomScalar(r.tb))
			},
			lie: func(r *run) {
				for _, a := range r.record.Answers {
					a.Shares[0].Share = randomScalar(r.tb)
					r.signAnswer(a)
				}
			},
			complaints:   map[uint32][]uint32{5: {1, 2}},
			disqualified: map[uint32]string{1: "does not match", 2: "does not match"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun(t, tc.n, tc.t).deal()
			if tc.cheat != nil {
				tc.cheat(r)
			}
			r.receive()
			for _, c := range r.record.Complaints {
				var got []uint32
				for _, a := range c.Accused {
					got = append(got, a.Dealer)
				}
				if !slices.Equal(got, tc.complaints[c.Trustee]) {
					t.Fatalf("trustee %d accuses %v, want %v", c.Trustee, got, tc.complaints[c.Trustee])
				}
			}
			r.answer()
			if tc.lie != nil {
				tc.lie(r)
			}
			shares := r.finish()
			o, err := Verify(r.record)
			if err != nil {
				t.Fatal(err)
			}
			var want []uint32
			for i := uint32(1); i <= tc.n; i++ {
				if _, out := tc.disqualified[i]; !out {
					want = append(want, i)
				}
			}
			if !slices.Equal(o.Qualified, want) {
				t.Fatalf("QUAL = %v, want %v (disqualified: %v)", o.Qualified, want, o.Disqualified)
			}
			for _, d := range o.Disqualified {
				if !strings.Contains(d.Reason, tc.disqualified[d.Dealer]) {
					t.Errorf("dealer %d disqualified because %q, want %q", d.Dealer, d.Reason, tc.disqualified[d.Dealer])
				}
			}
			// K is the qualified dealers' secrets only.
			sum := ristretto255.NewScalar()
			for _, i := range o.Qualified {
				sum.Add(sum, r.trustee(i).coeffs[0])
			}
			if o.JointKey.Equal(ristretto255.NewIdentityElement().ScalarBaseMult(sum)) != 1 {
				t.Fatal("K is not the sum over QUAL")
			}
			// Every trustee, the cheaters included, holds a share of it.
			for _, S := range subsets(tc.n, tc.t) {
				if !decrypts(t, o.JointKey, shares, S) {
					t.Fatalf("trustees %v do not decrypt", S)
				}
			}
		})
	}
}

// complete runs a whole ceremony in which dealer 2 sends trustee 3 a bad
// share and answers the complaint, so that every kind of message is in
// the record.
func complete(tb testing.TB) *run {
	r := newRun(tb, 4, 3).deal()
	r.replaceShare(2, 3, randomScalar(tb))
	r.receive().answer()
	r.finish()
	if _, err := Verify(r.record); err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestVerifyNamesTheTrusteeAndWhatFailed(t *testing.T) {
	other := testCeremony(4, 3)
	other.ElectionID = "another-election"
	tests := []struct {
		name   string
		tamper func(r *run)
		want   string
	}{
		{"commitment coefficient", func(r *run) {
			r.record.Commitments[1].Coefficients[2] = ristretto255.NewGeneratorElement()
		}, "trustee 2's commitment: dkg: invalid: the proof of knowledge"},
		{"commitment's secret coefficient", func(r *run) {
			r.record.Commitments[0].Coefficients[0] = ristretto255.NewGeneratorElement()
		}, "trustee 1's commitment: dkg: invalid: the proof of knowledge"},
		{"identity commitment", func(r *run) {
			r.record.Commitments[2].Coefficients[1] = ristretto255.NewIdentityElement()
		}, "trustee 3's commitment: dkg: invalid: coefficient commitment 1 is the identity"},
		{"proof response", func(r *run) {
			r.record.Commitments[3].ProofZ = randomScalar(r.tb)
		}, "trustee 4's commitment: dkg: invalid: the proof of knowledge"},
		{"proof commitment", func(r *run) {
			r.record.Commitments[3].ProofR = ristretto255.NewGeneratorElement()
		}, "trustee 4's commitment: dkg: invalid: the proof of knowledge"},
		{"age recipient swapped by the relay", func(r *run) {
			id, _ := age.GenerateX25519Identity()
			r.record.Commitments[0].Recipient = id.Recipient().String()
		}, "trustee 1's commitment: dkg: invalid: the proof of knowledge"},
		{"signing key swapped", func(r *run) {
			pub, _, _ := ed25519.GenerateKey(nil)
			r.record.Commitments[1].SigningKey = pub
		}, "trustee 2's commitment: dkg: invalid: the proof of knowledge"},
		{"too few coefficients", func(r *run) {
			c := r.record.Commitments[1]
			c.Coefficients = c.Coefficients[:2]
		}, "trustee 2's commitment: dkg: invalid: 2 coefficient commitments, the threshold 3 needs 3"},
		{"commitment missing", func(r *run) {
			r.record.Commitments = r.record.Commitments[:3]
		}, "trustee 4's commitment: dkg: invalid: missing from the record"},
		{"commitment of another ceremony", func(r *run) {
			r.record.Commitments[2].cer = other
		}, "trustee 3's commitment: dkg: message of another ceremony"},
		{"complaint's accused", func(r *run) {
			r.record.Complaints[2].Accused = nil
		}, "trustee 3's complaint: dkg: invalid: the signature does not verify"},
		{"complaint added by the relay", func(r *run) {
			c := r.record.Complaints[0]
			c.Accused = []Accusation{{2, ReasonInvalid}}
		}, "trustee 1's complaint: dkg: invalid: the signature does not verify"},
		{"complaint against oneself", func(r *run) {
			c := r.record.Complaints[0]
			c.Accused = []Accusation{{1, ReasonInvalid}}
		}, "trustee 1's complaint: dkg: invalid: accuses 1"},
		{"two complaints", func(r *run) {
			r.record.Complaints = append(r.record.Complaints, r.record.Complaints[1])
		}, "trustee 2's complaint: dkg: invalid: the record holds two"},
		{"answer's share", func(r *run) {
			r.record.Answers[0].Shares[0].Share = randomScalar(r.tb)
		}, "trustee 2's answer: dkg: invalid: the signature does not verify"},
		{"answer's signature", func(r *run) {
			r.record.Answers[0].Signature[5] ^= 1
		}, "trustee 2's answer: dkg: invalid: the signature does not verify"},
		{"result's joint key", func(r *run) {
			r.record.Results[3].JointKey = ristretto255.NewGeneratorElement()
		}, "trustee 4's result: dkg: invalid: the signature does not verify"},
		{"result from another record", func(r *run) {
			res := r.record.Results[0]
			res.Record[0] ^= 1
			d := res.digest()
			res.Signature = ed25519.Sign(r.trustee(1).sign, d[:])
		}, "trustee 1's result: dkg: invalid: computed from another record"},
		{"result with other keys", func(r *run) {
			res := r.record.Results[1]
			res.VerificationKey = r.record.Results[2].VerificationKey
			d := res.digest()
			res.Signature = ed25519.Sign(r.trustee(2).sign, d[:])
		}, "trustee 2's result: dkg: invalid: names another verification key"},
		{"result with another QUAL", func(r *run) {
			res := r.record.Results[2]
			res.Qualified = []uint32{1, 3, 4}
			d := res.digest()
			res.Signature = ed25519.Sign(r.trustee(3).sign, d[:])
		}, "trustee 3's result: dkg: invalid: names qualified dealers [1 3 4], the record gives [1 2 3 4]"},
		{"too few results", func(r *run) {
			r.record.Results = r.record.Results[:2]
		}, "2 trustees confirmed the result ([1 2]); decryption needs 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := complete(t)
			tc.tamper(r)
			_, err := Verify(r.record)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify: %v\nwant an error containing %q", err, tc.want)
			}
			if strings.HasPrefix(tc.want, "trustee ") {
				var e *Error
				if !errors.As(err, &e) || !strings.HasPrefix(tc.want, fmt.Sprintf("trustee %d's", e.Trustee)) {
					t.Fatalf("the *Error names trustee %v", e)
				}
			}
		})
	}
}

func TestRelayCannotMakeATrusteeComplainOrLearnAShare(t *testing.T) {
	t.Run("altered share is refused, not complained about", func(t *testing.T) {
		r := newRun(t, 3, 2).deal()
		for _, m := range r.shares {
			if m.Dealer == 1 && m.Recipient == 2 {
				m.Ciphertext = append(m.Ciphertext[:len(m.Ciphertext)-1], m.Ciphertext[len(m.Ciphertext)-1]^1)
			}
		}
		_, err := r.trustee(2).Receive(r.record, r.shares, true)
		if err == nil || !strings.Contains(err.Error(), "trustee 1's share to trustee 2: dkg: invalid: the signature does not verify") {
			t.Fatalf("Receive: %v", err)
		}
	})
	t.Run("withheld share is not complained about unless asked", func(t *testing.T) {
		r := newRun(t, 3, 2).deal()
		r.dropShare(3, 1)
		_, err := r.trustee(1).Receive(r.record, r.shares, false)
		if !errors.Is(err, ErrMissingShare) || !strings.Contains(err.Error(), "trustee 3's share to trustee 1") {
			t.Fatalf("Receive: %v", err)
		}
		c, err := r.trustee(1).Receive(r.record, r.shares, true)
		if err != nil || len(c.Accused) != 1 || c.Accused[0] != (Accusation{3, ReasonMissing}) {
			t.Fatalf("Receive with complainMissing: %+v, %v", c, err)
		}
	})
	t.Run("share ciphertexts hold nothing the relay can open", func(t *testing.T) {
		r := newRun(t, 3, 2).deal()
		for _, m := range r.shares {
			if bytes.Contains(m.Ciphertext, r.trustee(m.Dealer).eval(m.Recipient).Bytes()) {
				t.Fatal("a share in clear in its message")
			}
			if _, err := age.Decrypt(bytes.NewReader(m.Ciphertext), r.trustee(m.Dealer).box); err == nil {
				t.Fatal("a share opens with the dealer's own identity")
			}
		}
	})
	t.Run("a trustee refuses a record whose commitment under its index is not its own", func(t *testing.T) {
		r := newRun(t, 3, 2)
		impostor, _ := NewTrustee(r.cer, 2)
		r.record.Commitments[1], _ = impostor.Commitment()
		_, err := r.trustee(2).Deal(r.record)
		if err == nil || !strings.Contains(err.Error(), "trustee 2's commitment: dkg: invalid: the commitment published under your index is not the one your secrets make") {
			t.Fatalf("Deal: %v", err)
		}
	})
	t.Run("finishing without one's complaint in the record is refused", func(t *testing.T) {
		r := newRun(t, 3, 2).deal()
		r.replaceShare(1, 3, randomScalar(t))
		r.receive()
		r.record.Complaints = r.record.Complaints[:2] // the relay drops trustee 3's
		_, _, err := r.trustee(3).Finish(r.record, r.shares)
		if err == nil || !strings.Contains(err.Error(), "trustee 1's share to trustee 3: dkg: invalid: missing or failing, and the record holds no complaint of yours") {
			t.Fatalf("Finish: %v", err)
		}
	})
}

func TestSecretsRoundTrip(t *testing.T) {
	r := newRun(t, 3, 2).deal().receive().answer()
	shares := r.finish()
	for _, tr := range r.trustees {
		b, err := tr.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseTrustee(b)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := back.MarshalBinary(); !bytes.Equal(again, b) {
			t.Fatal("trustee secrets do not round-trip")
		}
		if _, err := back.Deal(r.record); err != nil {
			t.Fatalf("parsed secrets do not deal: %v", err)
		}
	}
	for _, ks := range shares {
		b, _ := ks.MarshalBinary()
		back, err := ParseKeyShare(b)
		if err != nil || back.Secret.Equal(ks.Secret) != 1 || back.Record != ks.Record || back.Ceremony != ks.Ceremony {
			t.Fatalf("key share does not round-trip: %v", err)
		}
		ks.Secret = randomScalar(t)
		b, _ = ks.MarshalBinary()
		if _, err := ParseKeyShare(b); err == nil || !strings.Contains(err.Error(), "does not match the verification key") {
			t.Fatalf("a key share whose secret is not that of its verification key: %v", err)
		}
	}
}
