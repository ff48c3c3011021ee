// Package electiontest plays the people around an election in tests: the
// trustees running the key ceremony with package dkg as `veche trustee`
// does, through whatever relay the test gives (the service directly, or
// the HTTP API), and a trustee whose partial decryption is wrong.
package electiontest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// Relay is how the trustees reach the server: Post sends trustee i's
// message; Files returns the ceremony directory as trustee i downloads it
// (dkg's layout: ceremony.json, the public messages and the shares
// addressed to or dealt by i).
type Relay struct {
	Post  func(i uint32, body []byte) error
	Files func(i uint32) map[string][]byte
}

func (r Relay) record(t testing.TB, i uint32) (fstest.MapFS, *dkg.Record) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, b := range r.Files(i) {
		fsys[name] = &fstest.MapFile{Data: b}
	}
	rec, err := dkg.ReadRecord(fsys)
	if err != nil {
		t.Fatalf("trustee %d reads the ceremony: %v", i, err)
	}
	return fsys, rec
}

func (r Relay) post(t testing.TB, i uint32, m any) {
	t.Helper()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Post(i, b); err != nil {
		t.Fatalf("trustee %d posts %T: %v", i, m, err)
	}
}

// RunCeremony runs the key ceremony for n trustees through the relay,
// each step for every trustee before the next step, and returns their key
// shares, indexed from 1.
func RunCeremony(t testing.TB, n uint32, relay Relay) []*dkg.KeyShare {
	t.Helper()
	trustees := make([]*dkg.Trustee, n+1)
	for i := uint32(1); i <= n; i++ {
		cer, err := dkg.ParseCeremony(relay.Files(i)[dkg.CeremonyFile])
		if err != nil {
			t.Fatalf("trustee %d reads ceremony.json: %v", i, err)
		}
		if trustees[i], err = dkg.NewTrustee(cer, i); err != nil {
			t.Fatal(err)
		}
		c, err := trustees[i].Commitment()
		if err != nil {
			t.Fatal(err)
		}
		relay.post(t, i, c)
	}
	for i := uint32(1); i <= n; i++ {
		_, rec := relay.record(t, i)
		shares, err := trustees[i].Deal(rec)
		if err != nil {
			t.Fatalf("trustee %d deals: %v", i, err)
		}
		for _, s := range shares {
			relay.post(t, i, s)
		}
	}
	for i := uint32(1); i <= n; i++ {
		fsys, rec := relay.record(t, i)
		shares, err := dkg.ReadShares(fsys, trustees[i].Ceremony(), i)
		if err != nil {
			t.Fatal(err)
		}
		c, err := trustees[i].Receive(rec, shares, false)
		if err != nil {
			t.Fatalf("trustee %d receives: %v", i, err)
		}
		relay.post(t, i, c)
	}
	for i := uint32(1); i <= n; i++ {
		_, rec := relay.record(t, i)
		a, err := trustees[i].Answer(rec)
		if err != nil {
			t.Fatalf("trustee %d answers: %v", i, err)
		}
		if a != nil {
			relay.post(t, i, a)
		}
	}
	keys := make([]*dkg.KeyShare, n+1)
	for i := uint32(1); i <= n; i++ {
		fsys, rec := relay.record(t, i)
		shares, err := dkg.ReadShares(fsys, trustees[i].Ceremony(), i)
		if err != nil {
			t.Fatal(err)
		}
		ks, res, err := trustees[i].Finish(rec, shares)
		if err != nil {
			t.Fatalf("trustee %d finishes: %v", i, err)
		}
		keys[i] = ks
		relay.post(t, i, res)
	}
	return keys
}

// PartialDecrypt is trustee k's partial decryption of tally (its JSON)
// for the election of manifest (its JSON), as `veche trustee decrypt`
// computes it.
func PartialDecrypt(t testing.TB, manifest []byte, k *dkg.KeyShare, tally []byte) []byte {
	t.Helper()
	m, err := voting.ParseManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	jk, err := voting.NewJointKey(k.JointKey)
	if err != nil {
		t.Fatal(err)
	}
	e, err := voting.NewElection(m, jk)
	if err != nil {
		t.Fatal(err)
	}
	tt, err := voting.ParseEncryptedTally(tally)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.PartialDecrypt(voting.TrusteeShare(k.TrusteeShare()), tt, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Corrupt swaps the decryption shares of the first two options of a
// partial decryption: still canonical JSON, but its proofs no longer hold.
func Corrupt(t testing.TB, partial []byte) []byte {
	t.Helper()
	var w struct {
		Contests []struct {
			Options []struct {
				Share string `json:"share"`
			} `json:"options"`
		} `json:"contests"`
	}
	if err := json.Unmarshal(partial, &w); err != nil || len(w.Contests) == 0 || len(w.Contests[0].Options) < 2 {
		t.Fatalf("not a partial decryption with two options: %v", err)
	}
	a, b := w.Contests[0].Options[0].Share, w.Contests[0].Options[1].Share
	if a == b {
		t.Fatal("the first two shares are equal; nothing to swap")
	}
	out := bytes.Replace(partial, []byte(fmt.Sprintf("%q", a)), []byte(`"\u0000"`), 1)
	out = bytes.Replace(out, []byte(fmt.Sprintf("%q", b)), []byte(fmt.Sprintf("%q", a)), 1)
	return bytes.Replace(out, []byte(`"\u0000"`), []byte(fmt.Sprintf("%q", b)), 1)
}

// Commit is trustee i's first step alone: the trustee for the ceremony
// (ceremony.json's bytes) and its commitment, for tests that run a
// ceremony only part of the way.
func Commit(t testing.TB, ceremony []byte, i uint32) (*dkg.Trustee, *dkg.Commitment) {
	t.Helper()
	cer, err := dkg.ParseCeremony(ceremony)
	if err != nil {
		t.Fatalf("trustee %d reads ceremony.json: %v", i, err)
	}
	tr, err := dkg.NewTrustee(cer, i)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tr.Commitment()
	if err != nil {
		t.Fatal(err)
	}
	return tr, c
}
