package record

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteComputesTheCountedBallots(t *testing.T) {
	r, c, err := Open(fixture(t), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := r.Counted
	r.Counted = nil
	dir := filepath.Join(t.TempDir(), "r")
	if err := WriteDir(dir, r); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, CountedFile))
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(filepath.Join(fixture(t), CountedFile))
	if !bytes.Equal(got, orig) || len(want) != 20 {
		t.Errorf("counted.json written as %s, want %s", got, orig)
	}
	if err := WriteDir(dir, r); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("writing into a record: %v", err)
	}
}

func TestReadRefusesWhatExceedsTheLimits(t *testing.T) {
	dir := fixture(t)
	if _, _, err := Open(dir, Limits{MaxFileSize: 100}); err == nil || !strings.Contains(err.Error(), "more than 100 bytes") {
		t.Errorf("small files over the limit: %v", err)
	}
	r, c, err := Open(dir, Limits{MaxLine: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, err := range r.Ballots {
		if err == nil || !strings.Contains(err.Error(), "ballots.jsonl line 1: longer than 1000 bytes") {
			t.Errorf("a line over the limit: %v", err)
		}
		break
	}
	r, c2, err := Open(dir, Limits{MaxBallots: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	n := 0
	var last error
	for _, err := range r.Ballots {
		n++
		last = err
	}
	if n != 6 || last == nil || !strings.Contains(last.Error(), "more than 5 lines") {
		t.Errorf("%d ballots read, last error %v", n, last)
	}
	if _, _, err := Open(filepath.Join(t.TempDir(), "missing"), Limits{}); err == nil {
		t.Error("a missing record opens")
	}
}

func TestReadRefusesACutShortStream(t *testing.T) {
	d := copyFixture(t)
	edit(t, d, BallotsFile, func(s string) string { return strings.TrimSuffix(s, "\n") })
	rep, err := verifyDir(t, d, Options{})
	if err == nil || !strings.Contains(err.Error(), "ballots.jsonl line 24: the last line has no newline") {
		t.Fatalf("%v", err)
	}
	if rep.OK() {
		t.Error("report OK")
	}
}

// FuzzCastLine: a ballot-box line is accepted only in its one canonical
// form, and whatever is accepted writes back to the same bytes.
func FuzzCastLine(f *testing.F) {
	f.Add([]byte(`{"log_index":12,"tracking_code":"7KQ2M-XD0FA-00000-11111","ballot":{}}`))
	f.Add([]byte(`{"log_index":012,"tracking_code":"","ballot":}`))
	f.Add([]byte(`{"log_index":1,"tracking_code":"a"b","ballot":{"x":1}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		idx, code, ballot, err := splitCastLine(line)
		if err != nil {
			return
		}
		again := appendCastLine(nil, idx, code, ballot)
		if !bytes.Equal(again[:len(again)-1], line) {
			t.Fatalf("%q splits and joins as %q", line, again)
		}
	})
}

// FuzzEntry: an audit-log entry is accepted only in its canonical form.
func FuzzEntry(f *testing.F) {
	f.Add([]byte(`{"time":"2026-03-01T08:00:00.000000Z","action":"election.opened","detail":{"election":"x"}}`))
	f.Add([]byte(`{"time":"2026-03-01T08:00:00.000000Z","action":"a.b","detail":{}}`))
	f.Add([]byte(`{"action":"a.b","time":"2026-03-01T08:00:00.000000Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, _, err := parseEntry(b)
		if err != nil {
			return
		}
		again, err := encodeEntry(e)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%q parses and encodes as %q (%v)", b, again, err)
		}
	})
}

func TestVerifyAnEmptyRecordNamesWhatIsMissing(t *testing.T) {
	rep, err := Verify(context.Background(), &Record{}, Options{})
	if err == nil || rep.OK() {
		t.Fatal("an empty record verifies")
	}
	for _, want := range []string{"election.json: no manifest or joint key", "ceremony: missing", "log/key: not a signed-note verifier key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no problem names %q: %v", want, err)
		}
	}
}
