package dkg

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "make a new ceremony for testdata/ceremony-5-3 (the known-answer record)")

const vectorDir = "testdata/ceremony-5-3"

// vectors is testdata/ceremony-5-3/expected.json: what a verifier of its
// own must compute from the record beside it, with intermediate values
// to debug one against.
type vectors struct {
	CeremonyDigest    string            `json:"ceremony_digest"`
	PoKChallenges     map[string]string `json:"pok_challenges"`     // trustee → c
	CommitmentDigests map[string]string `json:"commitment_digests"` // trustee → D_commit
	RecordDigest      string            `json:"record_digest"`
	Qualified         []uint32          `json:"qualified"`
	Disqualified      map[string]string `json:"disqualified"` // dealer → reason
	JointKey          string            `json:"joint_key"`
	VerificationKeys  map[string]string `json:"verification_keys"` // trustee → K_j
}

func computeVectors(r *Record, o *Outcome) vectors {
	d := o.Ceremony.Digest()
	v := vectors{
		CeremonyDigest: hex.EncodeToString(d[:]), PoKChallenges: map[string]string{}, CommitmentDigests: map[string]string{},
		RecordDigest: hex.EncodeToString(o.Digest[:]), Qualified: o.Qualified, Disqualified: map[string]string{},
		JointKey: hexElement(o.JointKey), VerificationKeys: map[string]string{},
	}
	for _, c := range r.Commitments {
		k := jsonIndex(c.Trustee)
		cd := c.Digest()
		v.PoKChallenges[k] = hexScalar(c.challenge())
		v.CommitmentDigests[k] = hex.EncodeToString(cd[:])
	}
	for _, dq := range o.Disqualified {
		v.Disqualified[jsonIndex(dq.Dealer)] = dq.Reason
	}
	for _, vk := range o.VerificationKeys {
		v.VerificationKeys[jsonIndex(vk.Index)] = hexElement(vk.Key)
	}
	return v
}

func jsonIndex(i uint32) string { b, _ := json.Marshal(i); return string(b) }

// TestKnownRecordVerifies checks a committed ceremony of 5 trustees,
// threshold 3, in which dealer 2 sent trustee 4 a bad share and answered
// the complaint with another bad one (disqualified), and dealer 5 sent
// trustee 1 a bad share and answered correctly (qualified): the record's
// files parse, verify, and give the values of expected.json. A change of
// encoding, hash input or rule breaks it.
func TestKnownRecordVerifies(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	r, err := ReadRecord(os.DirFS(vectorDir))
	if err != nil {
		t.Fatal(err)
	}
	o, err := Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(vectorDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want vectors
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	got := computeVectors(r, o)
	gb, _ := json.MarshalIndent(got, "", "  ")
	wb, _ := json.MarshalIndent(want, "", "  ")
	if string(gb) != string(wb) {
		t.Fatalf("the known record gives\n%s\nwant\n%s", gb, wb)
	}
	if !slices.Equal(o.Confirmed, []uint32{1, 2, 3, 4, 5}) {
		t.Fatalf("confirmed by %v", o.Confirmed)
	}
}

func writeVectors(t *testing.T) {
	r := newRun(t, 5, 3).deal()
	r.replaceShare(2, 4, randomScalar(t))
	r.replaceShare(5, 1, randomScalar(t))
	r.receive().answer()
	for _, a := range r.record.Answers {
		if a.Dealer == 2 {
			a.Shares[0].Share = randomScalar(t)
			r.signAnswer(a)
		}
	}
	r.finish()
	o, err := Verify(r.record)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(vectorDir); err != nil {
		t.Fatal(err)
	}
	r.shares = nil // not published
	for name, f := range recordFS(t, r) {
		p := filepath.Join(vectorDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, append(f.Data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.MarshalIndent(computeVectors(r.record, o), "", "  ")
	if err := os.WriteFile(filepath.Join(vectorDir, "expected.json"), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
