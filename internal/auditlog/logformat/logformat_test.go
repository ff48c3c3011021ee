package logformat

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func TestTilePathMatchesSpecExamples(t *testing.T) {
	tests := []struct {
		tile tlog.Tile
		path string
	}{
		{tlog.Tile{H: 8, L: 0, N: 0, W: 256}, "tile/0/000"},
		{tlog.Tile{H: 8, L: 0, N: 1234067, W: 256}, "tile/0/x001/x234/067"},
		{tlog.Tile{H: 8, L: 1, N: 1000, W: 256}, "tile/1/x001/000"},
		{tlog.Tile{H: 8, L: 2, N: 5, W: 3}, "tile/2/005.p/3"},
		{tlog.Tile{H: 8, L: EntriesLevel, N: 1234067, W: 8}, "tile/entries/x001/x234/067.p/8"},
		{tlog.Tile{H: 8, L: EntriesLevel, N: 999, W: 256}, "tile/entries/999"},
	}
	for _, tt := range tests {
		if got := TilePath(tt.tile); got != tt.path {
			t.Errorf("TilePath(%+v) = %q, want %q", tt.tile, got, tt.path)
		}
		got, err := ParseTilePath(tt.path)
		if err != nil || got != tt.tile {
			t.Errorf("ParseTilePath(%q) = %+v, %v; want %+v", tt.path, got, err, tt.tile)
		}
	}
}

func TestParseTilePathRejectsNonCanonicalForms(t *testing.T) {
	for _, path := range []string{
		"", "tile", "tile/", "tile/0", "tile/0/", "tiles/0/000",
		"/tile/0/000",      // leading slash: paths are relative
		"tile/00/000",      // leading zero in level
		"tile/8/000",       // level above 7
		"tile/-1/000",      // negative level
		"tile/data/000",    // sumdb's name, not C2SP's
		"tile/8/0/000",     // sumdb's height element
		"tile/0/0",         // index not three digits
		"tile/0/0000",      // index group of four
		"tile/0/x000/001",  // leading zero group
		"tile/0/001/002",   // missing x
		"tile/0/x001",      // x on the last group
		"tile/0/x1/002",    // short x group
		"tile/0/000.p/0",   // zero width
		"tile/0/000.p/256", // full width spelled as partial
		"tile/0/000.p/300", // too wide
		"tile/0/000.p/05",  // leading zero in width
		"tile/0/000.p/",    // empty width
		"tile/0/000.p",     // no width
		"tile/0/000.p/5/",  // trailing slash
		"tile/0/000/",      // trailing slash
		"tile/0/+01",       // sign
		"tile/0/x999/x999/x999/x999/x999/x999/999", // beyond int64 tiles
		"tile/entries/000.p/1.p/2",
		"tile/0/00a",
	} {
		if tile, err := ParseTilePath(path); !errors.Is(err, ErrBadPath) {
			t.Errorf("ParseTilePath(%q) = %+v, %v; want ErrBadPath", path, tile, err)
		}
	}
}

func TestTileInTree(t *testing.T) {
	tests := []struct {
		path string
		size int64
		want bool
	}{
		{"tile/0/000", 255, false},
		{"tile/0/000", 256, true},
		{"tile/0/000.p/255", 255, true},
		{"tile/0/000.p/200", 255, true}, // older, narrower partial
		{"tile/0/000.p/5", 4, false},
		{"tile/0/001.p/1", 256, false},
		{"tile/0/001.p/1", 257, true},
		{"tile/entries/001.p/1", 257, true},
		{"tile/entries/002", 257, false},
		{"tile/1/000.p/1", 255, false},
		{"tile/1/000.p/1", 256, true},
		{"tile/1/000.p/2", 511, false},
		{"tile/1/000", 65536, true},
		{"tile/0/000.p/1", 0, false},
	}
	for _, tt := range tests {
		tile, err := ParseTilePath(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := TileInTree(tile, tt.size); got != tt.want {
			t.Errorf("TileInTree(%s, %d) = %v, want %v", tt.path, tt.size, got, tt.want)
		}
	}
}

// FuzzParseTilePath checks that every accepted path is canonical: it
// formats back to exactly the input, so no tile has two URLs.
func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{"tile/0/000", "tile/0/x001/x234/067.p/8", "tile/entries/999", "tile/7/x036/x028/x797/x018/x963/967", "tile/0/000.p/256", "tile/00/000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tile, err := ParseTilePath(path)
		if err != nil {
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("ParseTilePath(%q) error %v is not ErrBadPath", path, err)
			}
			return
		}
		if got := TilePath(tile); got != path {
			t.Fatalf("ParseTilePath(%q) = %+v, which formats as %q", path, tile, got)
		}
		if tile.H != TileHeight || tile.W < 1 || tile.W > TileWidth || tile.N < 0 || tile.L < EntriesLevel || tile.L > maxLevel {
			t.Fatalf("ParseTilePath(%q) = %+v: out of range", path, tile)
		}
		again, err := ParseTilePath(TilePath(tile))
		if err != nil || again != tile {
			t.Fatalf("round trip of %+v: %+v, %v", tile, again, err)
		}
	})
}

func TestCheckpointRoundTripAndRejects(t *testing.T) {
	c := Checkpoint{Origin: "example.org/log", Size: 12345, Hash: tlog.RecordHash([]byte("x")), Extensions: []string{"ext one"}}
	got, err := ParseCheckpoint(string(c.Marshal()))
	if err != nil || got.Origin != c.Origin || got.Size != c.Size || got.Hash != c.Hash || len(got.Extensions) != 1 {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	root := "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	for _, body := range []string{
		"",
		"o\n1\n" + root,       // no final newline
		"o\n1\n",              // no root
		"\n1\n" + root + "\n", // empty origin
		"o\n01\n" + root + "\n",
		"o\n-1\n" + root + "\n",
		"o\n1\nAAAA\n",
		"o\n1\n" + root + "\n\n", // empty extension line
		"o\n99999999999999999999\n" + root + "\n",
	} {
		if _, err := ParseCheckpoint(body); !errors.Is(err, ErrBadCheckpoint) {
			t.Errorf("ParseCheckpoint(%q) error = %v, want ErrBadCheckpoint", body, err)
		}
	}
}

func TestBundleRoundTrip(t *testing.T) {
	entries := [][]byte{[]byte("a"), {}, bytes.Repeat([]byte("z"), MaxEntrySize)}
	var b []byte
	for _, e := range entries {
		b = AppendBundleEntry(b, e)
	}
	got, err := ParseBundle(b)
	if err != nil || len(got) != len(entries) {
		t.Fatalf("ParseBundle = %d entries, %v", len(got), err)
	}
	for i := range entries {
		if !bytes.Equal(got[i], entries[i]) {
			t.Fatalf("entry %d differs", i)
		}
	}
	for _, bad := range [][]byte{{0}, {0, 5, 'a'}} {
		if _, err := ParseBundle(bad); err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("ParseBundle(%v) error = %v", bad, err)
		}
	}
}

func TestRightEdgeIsWhatTreeHashReads(t *testing.T) {
	for _, n := range []int64{0, 1, 2, 3, 7, 8, 255, 256, 257, 1000, 65537} {
		var read []int64
		tlog.TreeHash(n, hashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
			read = append(read, idx...)
			return make([]tlog.Hash, len(idx)), nil
		}))
		got := RightEdge(n)
		if fmt.Sprint(got) != fmt.Sprint(read) {
			t.Errorf("RightEdge(%d) = %v, tlog.TreeHash reads %v", n, got, read)
		}
	}
}

type hashReaderFunc func([]int64) ([]tlog.Hash, error)

func (f hashReaderFunc) ReadHashes(idx []int64) ([]tlog.Hash, error) { return f(idx) }
