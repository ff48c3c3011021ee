package auditlog

import (
	"bytes"
	"testing"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/veche/veche/internal/auditlog/logformat"
	"github.com/veche/veche/internal/store/storetest"
)

// TestServedLogChecksWithTransparencyDevLibraries checks the served log
// with the transparency.dev libraries that Tessera-based clients use, an
// RFC 6962 and C2SP implementation independent of golang.org/x/mod/sumdb:
// their checkpoint parser accepts our checkpoint, their compact range
// computes the same root from the served bundles, and their proof
// verifiers accept inclusion and consistency proofs built from our tiles.
func TestServedLogChecksWithTransparencyDevLibraries(t *testing.T) {
	db := storetest.SQLite(t)
	tl := newTestLog(t, db, Options{})
	v, err := note.NewVerifier(tl.vkey)
	if err != nil {
		t.Fatal(err)
	}
	checkpoint := func() *log.Checkpoint {
		_, _, raw := tl.get(t, "checkpoint")
		cp, _, _, err := log.ParseCheckpoint(raw, testOrigin, v)
		if err != nil {
			t.Fatalf("transparency-dev ParseCheckpoint: %v\n%s", err, raw)
		}
		return cp
	}

	tl.appendN(t, "old", 300)
	tl.sequence(t)
	old := checkpoint()
	tl.appendN(t, "new", 500)
	tl.sequence(t)
	cp := checkpoint()
	if cp.Size != 800 || old.Size != 300 {
		t.Fatalf("sizes %d, %d", old.Size, cp.Size)
	}

	// Root from the served entry bundles, with transparency-dev's hasher.
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	cr := rf.NewEmptyRange(0)
	var leaves [][]byte
	for n := int64(0); n*256 < int64(cp.Size); n++ {
		w := min(int(int64(cp.Size)-n*256), 256)
		_, _, b := tl.get(t, logformat.TilePath(tlog.Tile{H: 8, L: logformat.EntriesLevel, N: n, W: w}))
		entries, err := logformat.ParseBundle(b)
		if err != nil || len(entries) != w {
			t.Fatalf("bundle %d: %d entries, %v", n, len(entries), err)
		}
		for _, e := range entries {
			h := rfc6962.DefaultHasher.HashLeaf(e)
			leaves = append(leaves, h)
			if err := cr.Append(h, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	root, err := cr.GetRootHash(nil)
	if err != nil || !bytes.Equal(root, cp.Hash) {
		t.Fatalf("compact range root %x, checkpoint %x (%v)", root, cp.Hash, err)
	}

	// Proofs built from the served tiles verify with transparency-dev.
	tree := tlog.Tree{N: int64(cp.Size), Hash: tlog.Hash(cp.Hash)}
	tiles := tlog.TileHashReader(tree, &httpTiles{t: t, tl: tl})
	tp, err := tlog.ProveTree(tree.N, int64(old.Size), tiles)
	if err != nil {
		t.Fatal(err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, cp.Size, hashesToBytes(tp), old.Hash, cp.Hash); err != nil {
		t.Fatalf("consistency %d -> %d: %v", old.Size, cp.Size, err)
	}
	for _, i := range []int64{0, 255, 256, 299, 799} {
		rp, err := tlog.ProveRecord(tree.N, i, tiles)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), cp.Size, leaves[i], hashesToBytes(rp), cp.Hash); err != nil {
			t.Fatalf("inclusion of %d: %v", i, err)
		}
	}
}

func hashesToBytes(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

// httpTiles reads tiles from the test server by their C2SP paths.
type httpTiles struct {
	t  *testing.T
	tl *testLog
}

func (h *httpTiles) Height() int { return 8 }

func (h *httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		status, _, b := h.tl.get(h.t, logformat.TilePath(tile))
		if status != 200 {
			h.t.Fatalf("GET %s: %d", logformat.TilePath(tile), status)
		}
		out[i] = b
	}
	return out, nil
}

func (h *httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}
