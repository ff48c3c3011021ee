package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// TestCredentialsGenerate: the private codes are typed-in credentials of
// the election whose public parts are exactly the published list (sorted,
// so not in the codes' order), split for upload past 1000, with the digest
// the server checks; the private file is readable by its owner only, and
// an existing directory is never written into.
func TestCredentialsGenerate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "creds")
	code, stdout, errOut := runCmd(t, "", "credentials", "generate", "--election", "election-7-abcd", "--count", "1001", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	priv, err := os.ReadFile(filepath.Join(out, privateCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(out, privateCredentialsFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("private codes mode %v", fi.Mode().Perm())
	}
	var list election.CredentialList
	b, _ := os.ReadFile(filepath.Join(out, publicCredentialsFile))
	if err := json.Unmarshal(b, &list); err != nil || list.Election != "election-7-abcd" || len(list.Credentials) != 1001 {
		t.Fatalf("public credentials: %v %s", err, b[:min(len(b), 200)])
	}
	var derived []string
	for _, line := range strings.Split(strings.TrimSpace(string(priv)), "\n") {
		c, err := voting.ParseCredential("election-7-abcd", line)
		if err != nil {
			t.Fatalf("code %q: %v", line, err)
		}
		derived = append(derived, c.Public().String())
	}
	if !slices.IsSorted(list.Credentials) {
		t.Error("the public list is not sorted")
	}
	sorted := slices.Clone(derived)
	slices.Sort(sorted)
	if !slices.Equal(sorted, list.Credentials) {
		t.Error("the public list is not the public parts of the private codes")
	}
	var parts []string
	for i := 1; i <= 2; i++ {
		var p election.CredentialList
		b, err := os.ReadFile(filepath.Join(out, credentialsUploadDir, "part-000"+strconv.Itoa(i)+".json"))
		if err != nil || json.Unmarshal(b, &p) != nil || len(b) > 60<<10 {
			t.Fatalf("part %d: %v, %d bytes", i, err, len(b))
		}
		parts = append(parts, p.Credentials...)
	}
	if !slices.Equal(parts, list.Credentials) {
		t.Error("the parts are not the list in order")
	}
	if !strings.Contains(stdout, "digest: "+election.CredentialsDigest(list.Credentials)) || !strings.Contains(stdout, "count:  1001") {
		t.Errorf("output:\n%s", stdout)
	}
	if code, _, errOut := runCmd(t, "", "credentials", "generate", "--election", "election-7-abcd", "--count", "1", "--out", out); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("into an existing directory: %d %s", code, errOut)
	}
	if code, _, _ := runCmd(t, "", "credentials", "generate", "--election", "no spaces", "--count", "1", "--out", t.TempDir()+"/x"); code != 2 {
		t.Errorf("a bad election id: exit %d", code)
	}
}

// TestTrusteeDecrypt: three trustees run the ceremony with veche trustee,
// two of them decrypt a tally with veche trustee decrypt, and their
// partial decryptions combine to the counts; a manifest of another
// election is refused.
func TestTrusteeDecrypt(t *testing.T) {
	m := &voting.Manifest{ID: "election-9-feed", Title: "Park", Opens: time.Date(2027, 5, 1, 7, 0, 0, 0, time.UTC), Closes: time.Date(2027, 5, 8, 19, 0, 0, 0, time.UTC),
		Contests: []voting.Contest{{ID: "c1", Title: "Which park?", Kind: voting.ChooseOne, Max: 1, Options: []voting.Option{{ID: "o1", Title: "North"}, {ID: "o2", Title: "South"}}}}}
	cdir := trusteeCeremony(t, m.ID, 3, 2)
	cer := dkg.Ceremony{ElectionID: m.ID, ManifestDigest: m.Digest(), Trustees: 3, Threshold: 2}
	cb, _ := json.Marshal(cer)
	os.WriteFile(filepath.Join(cdir, dkg.CeremonyFile), cb, 0o644)
	secrets := make([]string, 4)
	for i := 1; i <= 3; i++ {
		secrets[i] = filepath.Join(t.TempDir(), "trustee")
		trusteeStep(t, "init", cdir, secrets[i], "--index", strconv.Itoa(i))
	}
	for _, step := range []string{"shares", "receive", "answer", "finish"} {
		for i := 1; i <= 3; i++ {
			trusteeStep(t, step, cdir, secrets[i])
		}
	}
	rec, err := dkg.ReadRecord(os.DirFS(cdir))
	if err != nil {
		t.Fatal(err)
	}
	o, err := dkg.Verify(rec)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := voting.NewJointKey(o.JointKey)
	e, _ := voting.NewElection(m, key)
	tally := e.NewTally()
	for _, pick := range []string{"o1", "o2", "o2"} {
		c, _ := voting.NewCredential(m.ID, nil)
		p, _ := e.Encrypt(c, voting.Choices{"c1": {pick}}, nil)
		b, _ := p.Cast()
		tally.Add(b)
	}
	dir := t.TempDir()
	mj, _ := json.MarshalIndent(m, "", "  ")
	tj, _ := tally.MarshalJSON()
	os.WriteFile(filepath.Join(dir, "manifest.json"), mj, 0o644)
	os.WriteFile(filepath.Join(dir, "tally.json"), append(tj, '\n'), 0o644)
	var partials []*voting.PartialDecryption
	for _, i := range []int{1, 3} {
		outFile := filepath.Join(dir, "decryption-"+strconv.Itoa(i)+".json")
		code, stdout, errOut := runCmd(t, trusteePass+"\n", "trustee", "decrypt", "--dir", secrets[i], "--tally", filepath.Join(dir, "tally.json"),
			"--manifest", filepath.Join(dir, "manifest.json"), "--out", outFile, "--passphrase-stdin")
		if code != 0 || !strings.Contains(stdout, "partial decryption of the tally of 3 ballots") {
			t.Fatalf("trustee %d decrypt: exit %d\n%s%s", i, code, stdout, errOut)
		}
		b, _ := os.ReadFile(outFile)
		p, err := voting.ParsePartialDecryption(b)
		if err != nil {
			t.Fatalf("trustee %d's file: %v", i, err)
		}
		partials = append(partials, p)
	}
	var keys []voting.VerificationKey
	for _, k := range o.VerificationKeys {
		keys = append(keys, voting.VerificationKey(k))
	}
	res, err := e.Decrypt(tally, 2, keys, partials)
	if err != nil || res.Contests[0].Options[0].Votes != 1 || res.Contests[0].Options[1].Votes != 2 {
		t.Fatalf("decrypt: %v %+v", err, res)
	}
	other := *m
	other.ID = "election-10-beef"
	ob, _ := json.Marshal(&other)
	os.WriteFile(filepath.Join(dir, "other.json"), ob, 0o644)
	code, _, errOut := runCmd(t, trusteePass+"\n", "trustee", "decrypt", "--dir", secrets[1], "--tally", filepath.Join(dir, "tally.json"),
		"--manifest", filepath.Join(dir, "other.json"), "--out", "-", "--passphrase-stdin")
	if code != 1 || !bytes.Contains([]byte(errOut), []byte(`your key share is for election "election-9-feed"`)) {
		t.Errorf("another election's manifest: %d %s", code, errOut)
	}
}
