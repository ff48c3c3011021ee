package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchElectionWritesARecordThatVerifies(t *testing.T) {
	out := filepath.Join(t.TempDir(), "record")
	code, stdout, stderr := runCmd(t, "", "bench", "election", "--ballots", "30", "--options", "4", "--max", "2", "--revotes", "3", "--out", out, "--verify")
	if code != 0 {
		t.Fatalf("bench election = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, want := range []string{"ceremony", "credentials", "ballots", "30 ballots (27 voters, 3 revotes), 4 options, up to 2 selected; 27 counted", "\nVERIFIED"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"election.json", "ballots.jsonl", "log/checkpoint", "decryptions/trustee-3.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestBenchElectionRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bench"},
		{"bench", "election"},
		{"bench", "election", "--out", t.TempDir() + "/x", "--options", "1"},
		{"bench", "election", "--out", t.TempDir() + "/y", "--threshold", "4"},
	} {
		if code, _, _ := runCmd(t, "", args...); code == 0 {
			t.Errorf("%v succeeded", args)
		}
	}
}
