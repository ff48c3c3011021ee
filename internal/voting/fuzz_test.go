package voting

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// Fuzz targets for every parser of untrusted bytes. Each checks that the
// parser never panics, that what it accepts re-encodes to exactly the
// input (one encoding per object), and, for ballots, that verification
// of whatever parses does not panic either.
//
//	go test ./internal/voting/ -run '^$' -fuzz FuzzParseBallot -fuzztime 60s

// vectorSeeds are the committed vector objects of the given field, in
// canonical form, as fuzzing seeds.
func vectorSeeds(f *testing.F, pick func(ev electionVectors, inv []invalidVector) [][]byte) {
	var ev electionVectors
	var inv []invalidVector
	if data, err := os.ReadFile("testdata/election.json"); err == nil {
		json.Unmarshal(data, &ev)
	}
	if data, err := os.ReadFile("testdata/invalid-ballots.json"); err == nil {
		json.Unmarshal(data, &inv)
	}
	for _, raw := range pick(ev, inv) {
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			f.Add(buf.Bytes())
		}
	}
	f.Add([]byte("{}"))
	f.Add([]byte(""))
}

func fuzzElection(f *testing.F) *Election {
	return newFixture(f, "fuzz").election
}

func FuzzParseBallot(f *testing.F) {
	vectorSeeds(f, func(ev electionVectors, inv []invalidVector) [][]byte {
		var out [][]byte
		for _, b := range ev.Ballots {
			out = append(out, b.Ballot)
		}
		for _, b := range inv {
			out = append(out, b.Ballot)
		}
		return append(out, ev.Audited.AuditedBallot)
	})
	e := fuzzElection(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBallot(data)
		if err != nil {
			return
		}
		again, err := b.MarshalJSON()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted a non-canonical ballot: %q", data)
		}
		e.VerifyBallot(b)
		e.VerifyBallots([]*Ballot{b, b})
		e.NewTally().Add(b)
	})
}

func FuzzParseAuditedBallot(f *testing.F) {
	vectorSeeds(f, func(ev electionVectors, _ []invalidVector) [][]byte {
		return [][]byte{ev.Audited.AuditedBallot}
	})
	e := fuzzElection(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAuditedBallot(data)
		if err != nil {
			return
		}
		again, err := a.MarshalJSON()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted a non-canonical audited ballot: %q", data)
		}
		e.VerifyAudit(a)
	})
}

func FuzzParseEncryptedTally(f *testing.F) {
	vectorSeeds(f, func(ev electionVectors, _ []invalidVector) [][]byte { return [][]byte{ev.Tally} })
	e := fuzzElection(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tally, err := ParseEncryptedTally(data)
		if err != nil {
			return
		}
		again, err := tally.MarshalJSON()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted a non-canonical tally: %q", data)
		}
		e.PartialDecrypt(TrusteeShare{Index: 1, Secret: scalarFromUint(7)}, tally, nil)
	})
}

func FuzzParsePartialDecryption(f *testing.F) {
	vectorSeeds(f, func(ev electionVectors, _ []invalidVector) [][]byte {
		var out [][]byte
		for _, p := range ev.PartialDecryptions {
			out = append(out, p)
		}
		return out
	})
	fx := newFixture(f, "fuzz")
	tally := fx.election.NewTally()
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePartialDecryption(data)
		if err != nil {
			return
		}
		again, err := p.MarshalJSON()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted a non-canonical partial decryption: %q", data)
		}
		fx.election.Decrypt(tally, 1, fx.keys, []*PartialDecryption{p})
	})
}

func FuzzParseManifest(f *testing.F) {
	vectorSeeds(f, func(ev electionVectors, _ []invalidVector) [][]byte { return [][]byte{ev.Manifest} })
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("ParseManifest accepted an invalid manifest: %v", err)
		}
		again, err := m.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseManifest(again)
		if err != nil || m2.Digest() != m.Digest() {
			t.Fatalf("round trip changed the manifest: %v", err)
		}
	})
}

func FuzzParseResult(f *testing.F) {
	vectorSeeds(f, func(ev electionVectors, _ []invalidVector) [][]byte { return [][]byte{ev.Result} })
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseResult(data)
		if err != nil {
			return
		}
		if again, err := r.MarshalJSON(); err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted a non-canonical result: %q", data)
		}
	})
}

func FuzzParseCredential(f *testing.F) {
	f.Add("2222-2222-2222-2222")
	c, _ := NewCredential("e", newSeededReader("fuzz"))
	f.Add(c.Code())
	f.Fuzz(func(t *testing.T, typed string) {
		c, err := ParseCredential("e", typed)
		if err != nil {
			return
		}
		d, err := ParseCredential("e", c.Code())
		if err != nil || !d.Public().Equal(c.Public()) {
			t.Fatalf("%q parses, its code %q does not give the same key", typed, c.Code())
		}
	})
}

func FuzzParseTrackingCode(f *testing.F) {
	f.Add("12340-00000-00000-00000")
	f.Add("ZZZZZ ZZZZZ zzzzz oooil")
	f.Fuzz(func(t *testing.T, typed string) {
		code, err := ParseTrackingCode(typed)
		if err != nil {
			return
		}
		if again, err := ParseTrackingCode(code); err != nil || again != code {
			t.Fatalf("%q → %q → %q, %v", typed, code, again, err)
		}
	})
}

// FuzzParseBinary covers the binary decoders: elements, scalars,
// ciphertexts, proofs, keys and credentials.
func FuzzParseBinary(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add(make([]byte, 64))
	f.Add(make([]byte, 96))
	f.Add(make([]byte, RangeProofSize(2)))
	f.Add(nonCanonicalElement())
	f.Fuzz(func(t *testing.T, data []byte) {
		roundTrip := func(name string, enc []byte) {
			if !bytes.Equal(enc, data) {
				t.Fatalf("%s accepted a non-canonical encoding %x", name, data)
			}
		}
		if e, err := DecodeElement(data); err == nil {
			roundTrip("DecodeElement", e.Bytes())
		}
		if s, err := DecodeScalar(data); err == nil {
			roundTrip("DecodeScalar", s.Bytes())
		}
		if c, err := ParseCiphertext(data); err == nil {
			roundTrip("ParseCiphertext", c.Bytes())
		}
		if p, err := ParseRangeProof(data); err == nil {
			roundTrip("ParseRangeProof", p.Bytes())
		}
		if p, err := ParseDecryptionProof(data); err == nil {
			roundTrip("ParseDecryptionProof", p.Bytes())
		}
		if p, err := ParseKnowledgeProof(data); err == nil {
			roundTrip("ParseKnowledgeProof", p.Bytes())
		}
		if k, err := ParseJointKey(data); err == nil {
			roundTrip("ParseJointKey", k.Bytes())
		}
		if c, err := ParsePublicCredential(data); err == nil {
			roundTrip("ParsePublicCredential", c.Bytes())
		}
		var vk VerificationKey
		if vk.UnmarshalJSON(data) == nil {
			if again, _ := vk.MarshalJSON(); !bytes.Equal(again, data) {
				// A verification key's JSON is checked for its key, not
				// for canonical form; it must still parse back the same.
				var vk2 VerificationKey
				if vk2.UnmarshalJSON(again) != nil || vk2.Index != vk.Index || vk2.Key.Equal(vk.Key) != 1 {
					t.Fatalf("verification key round trip: %q", data)
				}
			}
		}
	})
}
