// Package logformat owns the wire formats of veche's transparency log, as
// fixed by the C2SP specifications that standard log clients implement:
//
//   - tile and entry-bundle paths and bundle encoding: C2SP tlog-tiles,
//     https://c2sp.org/tlog-tiles
//   - checkpoint bodies: C2SP tlog-checkpoint, https://c2sp.org/tlog-checkpoint
//     (signed as a C2SP signed-note, https://c2sp.org/signed-note, with
//     golang.org/x/mod/sumdb/note)
//
// The Merkle tree itself is RFC 6962's (https://www.rfc-editor.org/rfc/rfc6962),
// computed with golang.org/x/mod/sumdb/tlog. This package is shared by the
// server (package auditlog) and the verifier (package logclient) so that both
// sides accept exactly the same canonical forms.
package logformat

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the height of every tile (C2SP tlog-tiles fixes it at 8), so
// a full tile holds TileWidth hashes and a full bundle TileWidth entries.
const (
	TileHeight = 8
	TileWidth  = 1 << TileHeight
)

// EntriesLevel is the tlog.Tile level used for entry bundles, following
// tlog's convention of L = -1 for data tiles.
const EntriesLevel = -1

// maxTileIndex keeps N<<8 (the first leaf or hash a tile covers) inside int64.
const maxTileIndex = 1<<(63-TileHeight) - 1

// maxLevel bounds L: a level-L tile holds hashes of level 8L, and a tree of
// at most 2^63 entries has no hash above level 63, so no tile above level 7.
const maxLevel = 7

// ErrBadPath reports a tile path that is not in the canonical C2SP form.
var ErrBadPath = errors.New("malformed tile path")

// TilePath returns the C2SP tlog-tiles path of t, relative to the log's
// base: "tile/<L>/<N>[.p/<W>]", or "tile/entries/<N>[.p/<W>]" for an entry
// bundle (t.L == EntriesLevel). t.H must be TileHeight; t.W of TileWidth
// (or 0) names the full tile.
func TilePath(t tlog.Tile) string {
	var b strings.Builder
	b.WriteString("tile/")
	if t.L == EntriesLevel {
		b.WriteString("entries")
	} else {
		b.WriteString(strconv.Itoa(t.L))
	}
	b.WriteByte('/')
	b.WriteString(formatIndex(t.N))
	if t.W > 0 && t.W < TileWidth {
		b.WriteString(".p/")
		b.WriteString(strconv.Itoa(t.W))
	}
	return b.String()
}

// formatIndex writes n in three-digit groups, every group but the last
// prefixed with "x": 1234067 -> "x001/x234/067".
func formatIndex(n int64) string {
	s := strconv.FormatInt(n, 10)
	if pad := (3 - len(s)%3) % 3; pad > 0 {
		s = strings.Repeat("0", pad) + s
	}
	var b strings.Builder
	for i := 0; i < len(s); i += 3 {
		if i+3 < len(s) {
			b.WriteByte('x')
			b.WriteString(s[i : i+3])
			b.WriteByte('/')
		} else {
			b.WriteString(s[i:])
		}
	}
	return b.String()
}

// ParseTilePath parses a path in the form TilePath writes and returns the
// tile with H = TileHeight and W = TileWidth for a full tile. It accepts
// only the canonical form, so that one tile has one URL: no leading zero
// groups or digits, 0 < W < 256, L at most 7, N small enough that the tile
// lies inside a 2^63-entry tree. Whether the tile exists in a given tree is
// the caller's question (see [TileInTree]).
func ParseTilePath(path string) (tlog.Tile, error) {
	bad := func(why string) (tlog.Tile, error) {
		return tlog.Tile{}, fmt.Errorf("%w: %q: %s", ErrBadPath, path, why)
	}
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return bad("does not start with tile/")
	}
	levelStr, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return bad("no tile index")
	}
	t := tlog.Tile{H: TileHeight, W: TileWidth}
	if levelStr == "entries" {
		t.L = EntriesLevel
	} else {
		l, ok := parseDecimal(levelStr, 2)
		if !ok || l > maxLevel {
			return bad("level must be entries or a number from 0 to 7 without leading zeros")
		}
		t.L = int(l)
	}
	indexStr, widthStr, partial := strings.Cut(rest, ".p/")
	if partial {
		w, ok := parseDecimal(widthStr, 3)
		if !ok || w == 0 || w >= TileWidth {
			return bad("partial width must be a number from 1 to 255 without leading zeros")
		}
		t.W = int(w)
	}
	groups := strings.Split(indexStr, "/")
	var n int64
	for i, g := range groups {
		if i < len(groups)-1 {
			var ok bool
			if g, ok = strings.CutPrefix(g, "x"); !ok {
				return bad("every index group but the last must start with x")
			}
		}
		if len(g) != 3 || !allDigits(g) {
			return bad("index groups must be three digits")
		}
		if i == 0 && len(groups) > 1 && g == "000" {
			return bad("index has a leading zero group")
		}
		v, _ := strconv.Atoi(g)
		if n > (maxTileIndex-int64(v))/1000 {
			return bad("index out of range")
		}
		n = n*1000 + int64(v)
	}
	t.N = n
	return t, nil
}

// parseDecimal parses a non-negative decimal of at most maxDigits digits
// with no sign and no leading zeros.
func parseDecimal(s string, maxDigits int) (int64, bool) {
	if s == "" || len(s) > maxDigits || !allDigits(s) || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// TileInTree reports whether tile t (as ParseTilePath returns it) exists in
// a tree of the given size: a full tile once all its 256 hashes or entries
// exist, a partial tile of width W once at least W of them do. A partial
// narrower than what the tree now has is still served, because a client
// holding an older checkpoint asks for exactly that width.
func TileInTree(t tlog.Tile, size int64) bool {
	if t.H != TileHeight || t.W <= 0 || t.W > TileWidth || t.N < 0 || t.N > maxTileIndex {
		return false
	}
	level := t.L
	if level == EntriesLevel {
		level = 0
	}
	if level < 0 || level > maxLevel {
		return false
	}
	available := size >> (uint(level) * TileHeight) // complete hashes at this level
	return t.N<<TileHeight+int64(t.W) <= available
}

// Checkpoint is the body of a C2SP tlog-checkpoint note: the log's origin,
// its size and its RFC 6962 root hash, then optional extension lines.
type Checkpoint struct {
	Origin     string
	Size       int64
	Hash       tlog.Hash
	Extensions []string
}

// Marshal returns the checkpoint body, each line ending in a newline, ready
// to be signed as a note.
func (c Checkpoint) Marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash[:]))
	for _, e := range c.Extensions {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ErrBadCheckpoint reports a checkpoint body that is not a C2SP checkpoint.
var ErrBadCheckpoint = errors.New("malformed checkpoint")

// ParseCheckpoint parses a checkpoint body (the text of a verified note).
func ParseCheckpoint(text string) (Checkpoint, error) {
	bad := func(why string) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("%w: %s", ErrBadCheckpoint, why)
	}
	if !strings.HasSuffix(text, "\n") {
		return bad("does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return bad("fewer than three lines")
	}
	var c Checkpoint
	c.Origin = lines[0]
	if c.Origin == "" {
		return bad("empty origin line")
	}
	size, ok := parseDecimal(lines[1], 19)
	if !ok {
		return bad("size is not a decimal number without leading zeros")
	}
	c.Size = size
	h, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return bad("root hash is not 32 bytes of standard base64")
	}
	copy(c.Hash[:], h)
	for _, e := range lines[3:] {
		if e == "" {
			return bad("empty extension line")
		}
		c.Extensions = append(c.Extensions, e)
	}
	return c, nil
}

// MaxEntrySize is the largest entry a bundle can carry (a uint16 length).
const MaxEntrySize = 1<<16 - 1

// AppendBundleEntry appends entry to a bundle in the C2SP tlog-tiles form:
// a big-endian uint16 length, then the bytes. Entries longer than
// MaxEntrySize cannot be bundled; callers reject them before they are
// logged.
func AppendBundleEntry(bundle, entry []byte) []byte {
	bundle = binary.BigEndian.AppendUint16(bundle, uint16(len(entry)))
	return append(bundle, entry...)
}

// ErrBadBundle reports an entry bundle that does not parse.
var ErrBadBundle = errors.New("malformed entry bundle")

// ParseBundle splits a bundle into its entries.
func ParseBundle(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("%w: truncated length after entry %d", ErrBadBundle, len(out))
		}
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		if len(b) < n {
			return nil, fmt.Errorf("%w: entry %d is truncated", ErrBadBundle, len(out))
		}
		out = append(out, b[:n:n])
		b = b[n:]
	}
	return out, nil
}

// RightEdge returns the stored-hash indexes (golang.org/x/mod/sumdb/tlog
// numbering) of the roots of the maximal complete subtrees of a tree of
// size n, largest first: the hashes tlog.TreeHash(n) reads, and all a
// writer or verifier needs to keep to extend the tree.
func RightEdge(n int64) []int64 {
	var (
		idx []int64
		lo  int64
	)
	for level := 62; level >= 0; level-- {
		if n&(1<<level) != 0 {
			idx = append(idx, tlog.StoredHashIndex(level, lo>>level))
			lo += 1 << level
		}
	}
	return idx
}
