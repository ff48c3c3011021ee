package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/record"
)

// benchRecord writes a small synthetic record and returns its directory.
func benchRecord(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "record")
	if _, err := record.Synthesize(context.Background(), dir, record.SyntheticOptions{Ballots: 20, Options: 3, Max: 1, Revotes: 2, Abstain: 1}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func lineOf(t *testing.T, name string, n int) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")[n-1]
}

func TestVerifyElectionChecksARecordAndNamesTampering(t *testing.T) {
	dir := benchRecord(t)
	key := strings.TrimSpace(lineOf(t, filepath.Join(dir, "log/key"), 1))
	code, out, errs := runCmd(t, "", "verify-election", dir)
	if code != 0 || !strings.Contains(out, "\nVERIFIED (audit log key not pinned) in") || !strings.Contains(out, "check again with --log-key") {
		t.Fatalf("verify-election = %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if code, out, _ := runCmd(t, "", "verify-election", dir, "--log-key", key); code != 0 || !strings.Contains(out, "from pinned") || !strings.Contains(out, "\nVERIFIED in") || strings.Contains(out, "Note:") {
		t.Fatalf("verify-election --log-key = %d: %s", code, out)
	}
	// A zip archive of the record verifies too.
	r, c, err := record.Open(dir, record.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(t.TempDir(), "record.zip")
	f, _ := os.Create(zipPath)
	if err := record.WriteZip(f, r); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c.Close()
	if code, out, errs := runCmd(t, "", "verify-election", zipPath); code != 0 {
		t.Fatalf("verify-election of the zip = %d\n%s\n%s", code, out, errs)
	}

	// Change one total of the result.
	res := filepath.Join(dir, "result.json")
	b, _ := os.ReadFile(res)
	os.WriteFile(res, bytes.Replace(b, []byte(`"votes":`), []byte(`"votes":1`), 1), 0o644)
	code, out, errs = runCmd(t, "", "verify-election", dir)
	if code != 1 || !strings.Contains(out, "FAIL decryption") || !strings.Contains(out, `result.json: contest "c", option "o1"`) || !strings.Contains(errs, "NOT verified: 1 problem") {
		t.Fatalf("verify-election of a changed result = %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if code, _, _ := runCmd(t, "", "verify-election"); code != 2 {
		t.Errorf("verify-election without a record = %d, want 2", code)
	}
	if code, _, _ := runCmd(t, "", "verify-election", filepath.Join(t.TempDir(), "none")); code != 1 {
		t.Errorf("verify-election of a missing record = %d, want 1", code)
	}
}

func TestVerifyElectionBallotFindsACastBallotAndOpensAnAuditedOne(t *testing.T) {
	dir := benchRecord(t)
	r, c, err := record.Open(dir, record.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// Every ballot of the box: found, and counted unless replaced.
	counted, replaced := 0, 0
	pos := 0
	for cast, err := range r.Ballots {
		if err != nil {
			t.Fatal(err)
		}
		pos++
		b, _ := cast.Ballot.MarshalJSON()
		file := filepath.Join(t.TempDir(), "ballot.json")
		os.WriteFile(file, b, 0o644)
		code, out, errs := runCmd(t, "", "verify-election", "--ballot", file, "--record", dir)
		if code != 0 || !strings.Contains(out, "in the ballot box at line "+itoa(pos)) {
			t.Fatalf("ballot %d: verify-election --ballot = %d\n%s\n%s", pos, code, out, errs)
		}
		switch {
		case strings.Contains(out, "  counted: it is the last ballot"):
			counted++
		case strings.Contains(out, "not counted: replaced by a later ballot"):
			replaced++
		}
	}
	if counted != 18 || replaced != 2 {
		t.Errorf("%d counted and %d replaced, want 18 and 2", counted, replaced)
	}

	// A ballot never cast is not in the box.
	e, err := voting.NewElection(r.Manifest, r.JointKey)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := voting.NewCredential(r.Manifest.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.Encrypt(cred, voting.Choices{"c": {"o2"}}, nil)
	b, _ := p.Cast()
	bj, _ := b.MarshalJSON()
	file := filepath.Join(t.TempDir(), "stray.json")
	os.WriteFile(file, bj, 0o644)
	if code, _, errs := runCmd(t, "", "verify-election", "--ballot", file, "--record", dir); code != 1 || !strings.Contains(errs, "NOT in the ballot box") {
		t.Errorf("a ballot never cast: %d, %s", code, errs)
	}

	// An audited ballot opens to its choices.
	p, _ = e.Encrypt(cred, voting.Choices{"c": {"o3"}}, nil)
	a, _ := p.Audit()
	aj, _ := a.MarshalJSON()
	file = filepath.Join(t.TempDir(), "audited.json")
	os.WriteFile(file, aj, 0o644)
	code, out, errs := runCmd(t, "", "verify-election", "--ballot", file, "--record", dir)
	if code != 0 || !strings.Contains(out, "[x] Option 3") || strings.Contains(out, "[x] Option 1") || !strings.Contains(out, a.TrackingCode()) {
		t.Fatalf("audited ballot: %d\n%s\n%s", code, out, errs)
	}
	// Its randomness changed: refused.
	changed := bytes.Replace(aj, []byte(`"selected":true`), []byte(`"selected":false`), 1)
	changed = bytes.Replace(changed, []byte(`"selected":false,"randomness`), []byte(`"selected":true,"randomness`), 1)
	os.WriteFile(file, changed, 0o644)
	if code, _, errs := runCmd(t, "", "verify-election", "--ballot", file, "--record", dir); code != 1 || !strings.Contains(errs, "NOT verified") {
		t.Errorf("changed audited ballot: %d, %s", code, errs)
	}
}

// The verifier's reading of cast entries is package auditlog's format:
// every entry the synthetic log holds re-encodes identically with
// auditlog.Entry.Encode.
func TestCastEntriesAreAuditLogEntries(t *testing.T) {
	dir := benchRecord(t)
	f, err := os.Open(filepath.Join(dir, "log/entries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	casts := 0
	for sc.Scan() {
		rec, err := auditlog.ParseRecord(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		again, err := rec.Entry.Encode(rec.Time)
		if err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		if !bytes.Equal(again, sc.Bytes()) {
			t.Errorf("auditlog encodes\n%s\nas\n%s", sc.Text(), again)
		}
		if rec.Action == record.CastAction {
			casts++
		}
	}
	if casts != 20 {
		t.Errorf("%d cast entries, want 20", casts)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
