package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/veche/veche/internal/voting/dkg"
)

const trusteePass = "correct horse battery staple"

// trusteeCeremony writes ceremony.json for n trustees, threshold t, into
// a new ceremony directory, and lowers the scrypt work factor for the
// test.
func trusteeCeremony(t *testing.T, election string, n, th uint32) string {
	t.Helper()
	old := trusteeScryptWorkFactor
	trusteeScryptWorkFactor = 10
	t.Cleanup(func() { trusteeScryptWorkFactor = old })
	dir := t.TempDir()
	cer := dkg.Ceremony{ElectionID: election, Trustees: n, Threshold: th}
	copy(cer.ManifestDigest[:], bytes.Repeat([]byte{7}, 32))
	b, err := json.Marshal(cer)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, dkg.CeremonyFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// trusteeStep runs one step for the trustee whose secrets are in dir and
// fails the test if it fails.
func trusteeStep(t *testing.T, step, cdir, dir string, extra ...string) string {
	t.Helper()
	args := append([]string{"trustee", step, "--ceremony", cdir, "--dir", dir, "--passphrase-stdin"}, extra...)
	code, out, errOut := runCmd(t, trusteePass+"\n", args...)
	if code != 0 {
		t.Fatalf("trustee %s (%s): exit %d\n%s%s", step, dir, code, out, errOut)
	}
	return out
}

func TestTrusteeCeremonyThroughFiles(t *testing.T) {
	cdir := trusteeCeremony(t, "referendum-2026", 3, 2)
	secrets := make([]string, 4)
	for i := 1; i <= 3; i++ {
		secrets[i] = filepath.Join(t.TempDir(), "trustee")
		out := trusteeStep(t, "init", cdir, secrets[i], "--index", strconv.Itoa(i))
		if !strings.Contains(out, fmt.Sprintf("trustee %d of 3", i)) || !strings.Contains(out, "fingerprint:") {
			t.Fatalf("init output:\n%s", out)
		}
	}

	// The secrets are encrypted at rest, in a private directory.
	for i := 1; i <= 3; i++ {
		fi, err := os.Stat(secrets[i])
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("secrets directory: %v, %v; want mode 0700", fi, err)
		}
		b, err := os.ReadFile(filepath.Join(secrets[i], trusteeSecretsFile))
		if err != nil || !bytes.HasPrefix(b, []byte("age-encryption.org/v1\n-> scrypt ")) || bytes.Contains(b, []byte("AGE-SECRET-KEY")) {
			t.Fatalf("secrets file is not passphrase-encrypted: %v\n%.80s", err, b)
		}
		if fi, _ := os.Stat(filepath.Join(secrets[i], trusteeSecretsFile)); fi.Mode().Perm() != 0o600 {
			t.Fatalf("secrets file mode %v", fi.Mode())
		}
	}

	tests := []struct {
		name, stdin string
		args        []string
		code        int
		want        string
	}{
		{"init twice", trusteePass, []string{"init", "--ceremony", cdir, "--dir", secrets[1], "--index", "1"}, 1, "you have already begun a ceremony with this directory"},
		{"index beyond n", trusteePass, []string{"init", "--ceremony", cdir, "--dir", t.TempDir(), "--index", "4"}, 2, "--index 4, but the ceremony has 3 trustees"},
		{"no index", trusteePass, []string{"init", "--ceremony", cdir, "--dir", t.TempDir()}, 2, "--index is required"},
		{"short passphrase", "short", []string{"init", "--ceremony", cdir, "--dir", t.TempDir(), "--index", "2"}, 1, "shorter than 12 characters"},
		{"wrong passphrase", "not the passphrase", []string{"shares", "--ceremony", cdir, "--dir", secrets[2]}, 1, "wrong passphrase for " + filepath.Join(secrets[2], trusteeSecretsFile)},
		{"no secrets", trusteePass, []string{"shares", "--ceremony", cdir, "--dir", t.TempDir()}, 1, "give the --dir you used with 'veche trustee init'"},
		{"unknown step", "", []string{"deal", "--ceremony", cdir}, 2, `unknown step "deal"`},
		{"shares to standard output", trusteePass, []string{"shares", "--ceremony", cdir, "--dir", secrets[1], "--out", "-"}, 2, "shares are several files"},
		{"not a ceremony directory", trusteePass, []string{"shares", "--ceremony", t.TempDir(), "--dir", secrets[1]}, 1, "no ceremony.json: this is not a ceremony directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"trustee"}, tc.args...)
			if tc.stdin != "" {
				args = append(args, "--passphrase-stdin")
			}
			code, out, errOut := runCmd(t, tc.stdin+"\n", args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, want %d\n%s%s\nwant %q", code, tc.code, out, errOut, tc.want)
			}
		})
	}

	for i := 1; i <= 3; i++ {
		out := trusteeStep(t, "shares", cdir, secrets[i])
		if !strings.Contains(out, "2 encrypted shares written") {
			t.Fatalf("shares output:\n%s", out)
		}
	}

	// A share altered on the way is refused, not complained about.
	shareFile := filepath.Join(cdir, dkg.ShareFile(1, 3))
	good, _ := os.ReadFile(shareFile)
	var m map[string]any
	json.Unmarshal(good, &m)
	// Change one character of the ciphertext for another of its alphabet
	// (a fixed place; replacing a given letter did nothing when the
	// ciphertext happened not to contain it).
	ct := []byte(m["ciphertext"].(string))
	i := len(ct) / 2
	if ct[i] == 'B' {
		ct[i] = 'C'
	} else {
		ct[i] = 'B'
	}
	m["ciphertext"] = string(ct)
	bad, _ := json.Marshal(m)
	os.WriteFile(shareFile, bad, 0o644)
	code, _, errOut := runCmd(t, trusteePass+"\n", "trustee", "receive", "--ceremony", cdir, "--dir", secrets[3], "--passphrase-stdin")
	if code != 1 || !strings.Contains(errOut, "trustee 1's share to trustee 3: dkg: invalid: the signature does not verify") || !strings.Contains(errOut, "ask its sender or the relay for it again") {
		t.Fatalf("receive of an altered share: %d\n%s", code, errOut)
	}
	// A missing one is not complained about until asked.
	os.Remove(shareFile)
	code, _, errOut = runCmd(t, trusteePass+"\n", "trustee", "receive", "--ceremony", cdir, "--dir", secrets[3], "--passphrase-stdin")
	if code != 1 || !strings.Contains(errOut, "trustee 1's share to trustee 3: dkg: share not received") || !strings.Contains(errOut, "--complain-missing") {
		t.Fatalf("receive with a share missing: %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(cdir, dkg.TrusteeFile(dkg.ComplaintsDir, 3))); err == nil {
		t.Fatal("a complaint was written")
	}
	out := trusteeStep(t, "receive", cdir, secrets[3], "--complain-missing")
	if !strings.Contains(out, "complaint against 1 (missing)") {
		t.Fatalf("receive --complain-missing:\n%s", out)
	}
	for i := 1; i <= 2; i++ {
		if out := trusteeStep(t, "receive", cdir, secrets[i]); !strings.Contains(out, "all 2 shares sent to you match") {
			t.Fatalf("receive:\n%s", out)
		}
	}

	if out := trusteeStep(t, "answer", cdir, secrets[1]); !strings.Contains(out, "reveals the share of trustee 3, who complained") {
		t.Fatalf("answer of the accused:\n%s", out)
	}
	if out := trusteeStep(t, "answer", cdir, secrets[2]); !strings.Contains(out, "nothing to answer") {
		t.Fatalf("answer of the unaccused:\n%s", out)
	}

	keyRe := regexp.MustCompile(`joint public key: +([0-9a-f]{64})`)
	var joint string
	for i := 1; i <= 3; i++ {
		out := trusteeStep(t, "finish", cdir, secrets[i])
		k := keyRe.FindStringSubmatch(out)
		if k == nil || (joint != "" && k[1] != joint) || !regexp.MustCompile(`qualified dealers: +1 2 3\n`).MatchString(out) {
			t.Fatalf("finish of trustee %d:\n%s", i, out)
		}
		joint = k[1]
		// The key share is stored encrypted; opened, it is a share of
		// the printed key.
		b, err := os.ReadFile(filepath.Join(secrets[i], trusteeKeyShareFile))
		if err != nil {
			t.Fatal(err)
		}
		id, _ := age.NewScryptIdentity(trusteePass)
		r, err := age.Decrypt(bytes.NewReader(b), id)
		if err != nil {
			t.Fatalf("key share is not encrypted under the passphrase: %v", err)
		}
		var plain bytes.Buffer
		plain.ReadFrom(r)
		ks, err := dkg.ParseKeyShare(plain.Bytes())
		if err != nil || fmt.Sprintf("%x", ks.JointKey.Bytes()) != joint || ks.Index != uint32(i) {
			t.Fatalf("key share %d: %v", i, err)
		}
	}
	// Finishing again from the same record is harmless.
	trusteeStep(t, "finish", cdir, secrets[2])

	code, out, errOut = runCmd(t, "", "trustee", "verify", "--ceremony", cdir)
	if code != 0 || !strings.Contains(out, "ceremony verified: election \"referendum-2026\", 3 trustees, any 2 decrypt") ||
		!regexp.MustCompile(`joint public key: +`+joint).MatchString(out) || !regexp.MustCompile(`confirmed by: +1 2 3\n`).MatchString(out) {
		t.Fatalf("verify: %d\n%s%s", code, out, errOut)
	}

	// Secrets of one ceremony are refused on another's directory.
	other := trusteeCeremony(t, "another-election", 3, 2)
	code, _, errOut = runCmd(t, trusteePass+"\n", "trustee", "shares", "--ceremony", other, "--dir", secrets[1], "--passphrase-stdin")
	if code != 1 || !strings.Contains(errOut, `message of another ceremony: `) || !strings.Contains(errOut, `your secrets in `+secrets[1]+` for election "referendum-2026"`) {
		t.Fatalf("shares on another ceremony: %d\n%s", code, errOut)
	}
	// A message of another ceremony in the directory is named.
	otherDir := filepath.Join(t.TempDir(), "t")
	runCmd(t, trusteePass+"\n", "trustee", "init", "--ceremony", other, "--dir", otherDir, "--index", "2", "--passphrase-stdin")
	stray := filepath.Join(cdir, dkg.CommitmentsDir, "stray.json")
	if err := os.Rename(filepath.Join(other, dkg.TrusteeFile(dkg.CommitmentsDir, 2)), stray); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCmd(t, "", "trustee", "verify", "--ceremony", cdir)
	if code != 1 || !strings.Contains(errOut, "ceremony NOT verified") || !strings.Contains(errOut, "commitments/stray.json: trustee 2's commitment: dkg: message of another ceremony") {
		t.Fatalf("verify with a stray message: %d\n%s", code, errOut)
	}
	os.Remove(stray)

	// A tampered message makes the verifier name the trustee.
	complaint := filepath.Join(cdir, dkg.TrusteeFile(dkg.ComplaintsDir, 3))
	orig, _ := os.ReadFile(complaint)
	os.WriteFile(complaint, bytes.Replace(orig, []byte(`"missing"`), []byte(`"invalid"`), 1), 0o644)
	code, _, errOut = runCmd(t, "", "trustee", "verify", "--ceremony", cdir)
	if code != 1 || !strings.Contains(errOut, "trustee 3's complaint: dkg: invalid: the signature does not verify") {
		t.Fatalf("verify of a tampered complaint: %d\n%s", code, errOut)
	}
	os.WriteFile(complaint, orig, 0o644)
	// So does a result that does not match the record.
	os.Remove(filepath.Join(cdir, dkg.TrusteeFile(dkg.AnswersDir, 1)))
	code, _, errOut = runCmd(t, "", "trustee", "verify", "--ceremony", cdir)
	if code != 1 || !strings.Contains(errOut, "trustee 1's result: dkg: invalid: computed from another record") {
		t.Fatalf("verify without the answer the results used: %d\n%s", code, errOut)
	}
}

func TestTrusteeInitWritesTheCommitmentWhereAsked(t *testing.T) {
	cdir := trusteeCeremony(t, "board-2026", 2, 2)
	dir := filepath.Join(t.TempDir(), "s")
	code, out, errOut := runCmd(t, trusteePass+"\n", "trustee", "init", "--ceremony", cdir, "--dir", dir, "--index", "2", "--passphrase-stdin", "--out", "-")
	if code != 0 {
		t.Fatalf("%d %s", code, errOut)
	}
	cer, _ := dkg.ReadCeremony(os.DirFS(cdir))
	c, err := dkg.ParseCommitment(cer, []byte(out))
	if err != nil || c.Trustee != 2 || !strings.Contains(errOut, "fingerprint: "+c.Fingerprint()) {
		t.Fatalf("commitment on standard output: %v\n%s\n%s", err, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(cdir, dkg.CommitmentsDir)); err == nil {
		t.Fatal("--out - also wrote into the ceremony directory")
	}
}
