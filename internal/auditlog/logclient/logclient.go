// Package logclient verifies a veche audit log, or any log served in the
// C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles) with C2SP
// tlog-checkpoint checkpoints (https://c2sp.org/tlog-checkpoint) signed as
// C2SP signed-notes (https://c2sp.org/signed-note), from the outside, over
// HTTP, trusting nothing but the log's public key.
//
// [Verify] checks the checkpoint's signature, that the log only grew since
// the checkpoint saved by the last run (an RFC 6962 consistency proof built
// from authenticated tiles), and that every entry served hashes to the leaf
// the signed tree commits to, then saves the new checkpoint.
package logclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/veche/veche/internal/auditlog/logformat"
)

// Report describes a successful verification.
type Report struct {
	Origin       string    // the log's name, from the checkpoint
	Size         int64     // entries in the verified tree
	Root         tlog.Hash // its RFC 6962 root hash
	PreviousSize int64     // size of the saved checkpoint it extends; -1 if none was saved
	Checkpoint   []byte    // the verified signed checkpoint, as saved
}

// What Verify can find wrong; the returned error wraps one of these and
// says where.
var (
	ErrSignature  = errors.New("checkpoint signature is not valid for the key")
	ErrCheckpoint = errors.New("checkpoint is malformed")
	ErrRollback   = errors.New("log is smaller than the saved checkpoint (rollback)")
	ErrFork       = errors.New("log is inconsistent with the saved checkpoint (history rewritten)")
	ErrTile       = errors.New("served hash tiles do not match the signed checkpoint")
	ErrEntry      = errors.New("served entry does not match the signed log")
	ErrFetch      = errors.New("could not fetch from the log")
)

// Verify checks the log at baseURL (the URL /checkpoint and /tile/... are
// relative to, e.g. "https://veche.example.org/log") against verifierKey,
// a signed-note verifier key whose name must be the log's origin. If
// statePath names a file holding a checkpoint saved by an earlier run, the
// log must extend it; on success the new checkpoint is written there
// atomically. An empty statePath checks without remembering. client nil
// means http.DefaultClient.
func Verify(ctx context.Context, client *http.Client, baseURL, verifierKey, statePath string) (Report, error) {
	if client == nil {
		client = http.DefaultClient
	}
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return Report{}, fmt.Errorf("verifier key: %w", err)
	}
	f := &fetcher{ctx: ctx, client: client, base: strings.TrimSuffix(baseURL, "/")}

	raw, err := f.get("checkpoint", 1<<16)
	if err != nil {
		return Report{}, err
	}
	cp, err := openCheckpoint(raw, v)
	if err != nil {
		return Report{}, fmt.Errorf("%s/checkpoint: %w", f.base, err)
	}
	rep := Report{Origin: cp.Origin, Size: cp.Size, Root: cp.Hash, PreviousSize: -1, Checkpoint: raw}

	var old *logformat.Checkpoint
	if statePath != "" {
		saved, err := os.ReadFile(statePath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return Report{}, fmt.Errorf("state file: %w", err)
		default:
			c, err := openCheckpoint(saved, v)
			if err != nil {
				return Report{}, fmt.Errorf("state file %s: %w", statePath, err)
			}
			old = &c
			rep.PreviousSize = c.Size
		}
	}

	tree := tlog.Tree{N: cp.Size, Hash: cp.Hash}
	tiles := tlog.TileHashReader(tree, &tileReader{f: f, keepLevel0: (cp.Size - 1) >> logformat.TileHeight})

	if old != nil {
		if err := checkConsistent(*old, cp, tiles); err != nil {
			return Report{}, err
		}
	}
	if err := checkEntries(f, cp, tiles); err != nil {
		return Report{}, err
	}
	if statePath != "" {
		if err := writeAtomic(statePath, raw); err != nil {
			return Report{}, fmt.Errorf("state file: %w", err)
		}
	}
	return rep, nil
}

// openCheckpoint verifies a signed checkpoint note with v and parses it.
func openCheckpoint(raw []byte, v note.Verifier) (logformat.Checkpoint, error) {
	n, err := note.Open(raw, note.VerifierList(v))
	if err != nil {
		var unknown *note.UnknownVerifierError
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified), errors.As(err, &unknown):
			return logformat.Checkpoint{}, fmt.Errorf("%w: no signature by %s (%v)", ErrSignature, v.Name(), err)
		case errors.As(err, &invalid):
			return logformat.Checkpoint{}, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return logformat.Checkpoint{}, fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	c, err := logformat.ParseCheckpoint(n.Text)
	if err != nil {
		return logformat.Checkpoint{}, fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	if c.Origin != v.Name() {
		return logformat.Checkpoint{}, fmt.Errorf("%w: origin %q is not the key's name %q", ErrCheckpoint, c.Origin, v.Name())
	}
	return c, nil
}

// checkConsistent proves with authenticated tiles that the tree of cp
// extends the tree of old.
func checkConsistent(old, cp logformat.Checkpoint, tiles tlog.HashReader) error {
	switch {
	case cp.Size < old.Size:
		return fmt.Errorf("%w: size %d, saved checkpoint has %d", ErrRollback, cp.Size, old.Size)
	case cp.Size == old.Size:
		if cp.Hash != old.Hash {
			return fmt.Errorf("%w: same size %d, different root hash", ErrFork, cp.Size)
		}
		return nil
	case old.Size == 0:
		return nil
	}
	proof, err := tlog.ProveTree(cp.Size, old.Size, tiles)
	if err != nil {
		return fmt.Errorf("%w: building consistency proof from %d to %d: %v", ErrTile, old.Size, cp.Size, err)
	}
	if err := tlog.CheckTree(proof, cp.Size, cp.Hash, old.Size, old.Hash); err != nil {
		return fmt.Errorf("%w: the tree of size %d does not contain the saved tree of size %d: %v", ErrFork, cp.Size, old.Size, err)
	}
	return nil
}

// checkEntries fetches every entry bundle, checks each entry's leaf hash
// against the authenticated level-0 tiles (so a changed entry is named by
// index) and recomputes the root from the entries alone.
func checkEntries(f *fetcher, cp logformat.Checkpoint, tiles tlog.HashReader) error {
	var edge rightEdge
	for start := int64(0); start < cp.Size; start += logformat.TileWidth {
		w := int(min(cp.Size-start, logformat.TileWidth))
		bt := tlog.Tile{H: logformat.TileHeight, L: logformat.EntriesLevel, N: start >> logformat.TileHeight, W: w}
		path := logformat.TilePath(bt)
		data, err := f.get(path, w*(2+logformat.MaxEntrySize))
		if err != nil {
			return err
		}
		entries, err := logformat.ParseBundle(data)
		if err != nil {
			return fmt.Errorf("%w: %s (entries %d to %d): %v", ErrEntry, path, start, start+int64(w)-1, err)
		}
		if len(entries) != w {
			return fmt.Errorf("%w: %s holds %d entries, want %d (entries %d to %d)", ErrEntry, path, len(entries), w, start, start+int64(w)-1)
		}
		idx := make([]int64, w)
		for i := range idx {
			idx[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		want, err := tiles.ReadHashes(idx)
		if err != nil {
			return fmt.Errorf("%w: leaf hashes of entries %d to %d: %v", ErrTile, start, start+int64(w)-1, err)
		}
		for i, e := range entries {
			h := tlog.RecordHash(e)
			if h != want[i] {
				return fmt.Errorf("%w: entry %d (in %s) was changed: its hash is not the leaf hash in the signed tree", ErrEntry, start+int64(i), path)
			}
			if err := edge.add(h); err != nil {
				return err
			}
		}
	}
	root, err := edge.root()
	if err != nil {
		return err
	}
	if root != cp.Hash {
		return fmt.Errorf("%w: the %d entries hash to root %s, checkpoint says %s", ErrEntry, cp.Size, root, cp.Hash)
	}
	return nil
}

// rightEdge computes a tree root from its leaf hashes with tlog's own
// functions, keeping only the right edge of the tree (at most 63 hashes).
type rightEdge struct {
	size   int64
	hashes map[int64]tlog.Hash
}

func (e *rightEdge) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := e.hashes[x]
		if !ok {
			return nil, fmt.Errorf("logclient: hash %d not on the right edge", x)
		}
		out[i] = h
	}
	return out, nil
}

func (e *rightEdge) add(leaf tlog.Hash) error {
	if e.hashes == nil {
		e.hashes = map[int64]tlog.Hash{}
	}
	hs, err := tlog.StoredHashesForRecordHash(e.size, leaf, e)
	if err != nil {
		return err
	}
	base := tlog.StoredHashIndex(0, e.size)
	for i, h := range hs {
		e.hashes[base+int64(i)] = h
	}
	e.size++
	keep := map[int64]tlog.Hash{}
	for _, x := range logformat.RightEdge(e.size) {
		keep[x] = e.hashes[x]
	}
	e.hashes = keep
	return nil
}

func (e *rightEdge) root() (tlog.Hash, error) { return tlog.TreeHash(e.size, e) }

// fetcher GETs paths under the log's base URL.
type fetcher struct {
	ctx    context.Context
	client *http.Client
	base   string
}

func (f *fetcher) get(path string, limit int) ([]byte, error) {
	u := f.base + "/" + path
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFetch, u, err)
	}
	req.Header.Set("User-Agent", "veche-verify-log")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s", ErrFetch, u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %v", ErrFetch, u, err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%w: GET %s: response larger than %d bytes", ErrFetch, u, limit)
	}
	return b, nil
}

// tileReader fetches hash tiles for tlog.TileHashReader, which
// authenticates them against the signed tree before using them. It keeps
// tiles above level 0 and the rightmost level-0 tile, which every read
// needs again; other level-0 tiles are read once each.
type tileReader struct {
	f          *fetcher
	keepLevel0 int64

	mu    sync.Mutex
	cache map[tlog.Tile][]byte
}

func (r *tileReader) Height() int { return logformat.TileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		r.mu.Lock()
		b, ok := r.cache[t]
		r.mu.Unlock()
		if !ok {
			var err error
			if b, err = r.f.get(logformat.TilePath(t), t.W*tlog.HashSize); err != nil {
				return nil, err
			}
		}
		out[i] = b
	}
	return out, nil
}

// SaveTiles is called with tiles that have been authenticated.
func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cache == nil {
		r.cache = map[tlog.Tile][]byte{}
	}
	for i, t := range tiles {
		if t.L > 0 || t.N == r.keepLevel0 {
			r.cache[t] = bytes.Clone(data[i])
		}
	}
}

// writeAtomic replaces path with b so that a crash leaves the old or the
// new content, never a mix.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
