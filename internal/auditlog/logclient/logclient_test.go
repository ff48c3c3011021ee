package logclient

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// memStore keeps every stored hash, the way a full tlog server would.
type memStore []tlog.Hash

func (m memStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = m[x]
	}
	return out, nil
}

func TestRightEdgeRootMatchesFullTree(t *testing.T) {
	var (
		full memStore
		edge rightEdge
	)
	for n := int64(0); n <= 1100; n++ {
		want, err := tlog.TreeHash(n, full)
		if err != nil {
			t.Fatal(err)
		}
		got, err := edge.root()
		if err != nil || got != want {
			t.Fatalf("size %d: right-edge root %v (%v), full tree %v", n, got, err, want)
		}
		if len(edge.hashes) > 64 {
			t.Fatalf("size %d: right edge keeps %d hashes", n, len(edge.hashes))
		}
		leaf := tlog.RecordHash([]byte(fmt.Sprint(n)))
		hs, err := tlog.StoredHashesForRecordHash(n, leaf, full)
		if err != nil {
			t.Fatal(err)
		}
		full = append(full, hs...)
		if err := edge.add(leaf); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteAtomicReplacesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	for _, content := range []string{"first", "second"} {
		if err := writeAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != content {
			t.Fatalf("state = %q, %v; want %q", b, err, content)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}
