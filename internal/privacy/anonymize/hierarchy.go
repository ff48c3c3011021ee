package anonymize

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Hierarchy is a generalisation hierarchy for a categorical column: a tree
// whose leaves are the values that occur in the data and whose inner nodes
// are the coarser values they generalise to (district → region → country).
// Node names are unique across the tree.
type Hierarchy struct {
	// Levels optionally names the depths, root first, for the data
	// dictionary: e.g. ["country", "region", "district"].
	Levels []string

	names    []string
	parent   []int32
	children [][]int32
	depth    []int32
	leaves   []int32 // number of leaves under each node
	declared []bool  // declared as a leaf by Add
	byName   map[string]int32
	sealed   bool
	once     sync.Once
}

// Limits on a hierarchy, which may come from a file.
const (
	maxHierarchyNodes = 1 << 20
	maxHierarchyDepth = 32
	maxNodeNameLen    = 200
)

// ErrHierarchy is matched by errors in building or parsing a hierarchy.
var ErrHierarchy = errors.New("anonymize: bad hierarchy")

// NewHierarchy returns a hierarchy holding only its root.
func NewHierarchy(root string) (*Hierarchy, error) {
	if err := checkNodeName(root); err != nil {
		return nil, err
	}
	return &Hierarchy{
		names: []string{root}, parent: []int32{-1}, children: [][]int32{nil}, depth: []int32{0},
		declared: []bool{false}, byName: map[string]int32{root: 0},
	}, nil
}

// MustHierarchy builds a hierarchy from root and leaf paths below it and
// panics on an error; for hierarchies written in code.
func MustHierarchy(root string, paths ...[]string) *Hierarchy {
	h, err := NewHierarchy(root)
	if err != nil {
		panic(err)
	}
	for _, p := range paths {
		if err := h.Add(p...); err != nil {
			panic(err)
		}
	}
	return h
}

// Root is the name of the root node.
func (h *Hierarchy) Root() string { return h.names[0] }

// Add declares a leaf by its path below the root, e.g. Add("Minsk Region",
// "Barysaw"). Inner nodes are created as needed; a name already used
// elsewhere in the tree, or a leaf that is also an inner node, is an error.
func (h *Hierarchy) Add(path ...string) error {
	if h.sealed {
		return fmt.Errorf("%w: hierarchy %q is in use and can no longer change", ErrHierarchy, h.Root())
	}
	if len(path) == 0 {
		return fmt.Errorf("%w: empty path below %q", ErrHierarchy, h.Root())
	}
	if len(path)+1 > maxHierarchyDepth {
		return fmt.Errorf("%w: path %q is deeper than %d levels", ErrHierarchy, strings.Join(path, " > "), maxHierarchyDepth)
	}
	inPath := make(map[string]bool, len(path))
	for _, name := range path {
		if err := checkNodeName(name); err != nil {
			return err
		}
		if inPath[name] || name == h.Root() {
			return fmt.Errorf("%w: %q appears twice on the path %q", ErrHierarchy, name, strings.Join(append([]string{h.Root()}, path...), " > "))
		}
		inPath[name] = true
	}
	// Check the whole path first so that a refused path changes nothing.
	cur := int32(0)
	fresh := false
	for i, name := range path {
		id, ok := h.byName[name]
		if fresh || !ok {
			if ok {
				return fmt.Errorf("%w: %q appears under %q and elsewhere in the tree", ErrHierarchy, name, h.names[cur])
			}
			fresh = true
			continue
		}
		if h.parent[id] != cur {
			return fmt.Errorf("%w: %q appears under %q and under %q", ErrHierarchy, name, h.names[h.parent[id]], h.names[cur])
		}
		if h.declared[id] && i < len(path)-1 {
			return fmt.Errorf("%w: %q is declared as a leaf and as an inner node", ErrHierarchy, name)
		}
		cur = id
	}
	if !fresh {
		last := h.byName[path[len(path)-1]]
		if h.declared[last] {
			return fmt.Errorf("%w: leaf %q declared twice", ErrHierarchy, path[len(path)-1])
		}
		return fmt.Errorf("%w: %q is declared as a leaf and as an inner node", ErrHierarchy, path[len(path)-1])
	}
	if len(h.names)+len(path) > maxHierarchyNodes {
		return fmt.Errorf("%w: more than %d nodes", ErrHierarchy, maxHierarchyNodes)
	}
	cur = 0
	for _, name := range path {
		id, ok := h.byName[name]
		if !ok {
			id = int32(len(h.names))
			h.names = append(h.names, name)
			h.parent = append(h.parent, cur)
			h.children = append(h.children, nil)
			h.depth = append(h.depth, h.depth[cur]+1)
			h.declared = append(h.declared, false)
			h.byName[name] = id
			h.children[cur] = append(h.children[cur], id)
		}
		cur = id
	}
	h.declared[cur] = true
	return nil
}

// seal freezes the tree and counts the leaves under each node.
func (h *Hierarchy) seal() { h.once.Do(h.countLeaves) }

func (h *Hierarchy) countLeaves() {
	h.sealed = true
	h.leaves = make([]int32, len(h.names))
	// children are created after their parents, so a reverse sweep sees
	// every child before its parent
	for id := len(h.names) - 1; id >= 0; id-- {
		if len(h.children[id]) == 0 {
			h.leaves[id] = 1
		}
		if p := h.parent[id]; p >= 0 {
			h.leaves[p] += h.leaves[id]
		}
	}
}

// Leaves returns the leaf names in the order they were added.
func (h *Hierarchy) Leaves() []string {
	var out []string
	for id, name := range h.names {
		if len(h.children[id]) == 0 && id != 0 {
			out = append(out, name)
		}
	}
	return out
}

// Path returns the names from the root down to node, or nil if the
// hierarchy has no such node.
func (h *Hierarchy) Path(node string) []string {
	id, ok := h.byName[node]
	if !ok {
		return nil
	}
	var out []string
	for ; id >= 0; id = h.parent[id] {
		out = append(out, h.names[id])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Depth is the number of levels, the root's included.
func (h *Hierarchy) Depth() int {
	d := int32(0)
	for _, x := range h.depth {
		d = max(d, x)
	}
	return int(d) + 1
}

// ParseHierarchy reads a hierarchy as CSV: one leaf per record, written as
// its path from the root, e.g.
//
//	Belarus,Minsk Region,Barysaw
//	Belarus,Minsk Region,Zhodzina
//	Belarus,Brest Region,Pinsk
//
// Every record starts with the same root. Blank lines are skipped.
func ParseHierarchy(r io.Reader) (*Hierarchy, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var h *Hierarchy
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrHierarchy, err)
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("%w: record %d: want a root and at least one more level, got %d fields", ErrHierarchy, line, len(rec))
		}
		if h == nil {
			if h, err = NewHierarchy(rec[0]); err != nil {
				return nil, fmt.Errorf("record %d: %w", line, err)
			}
		} else if rec[0] != h.Root() {
			return nil, fmt.Errorf("%w: record %d has root %q, the first record has %q", ErrHierarchy, line, rec[0], h.Root())
		}
		if err := h.Add(rec[1:]...); err != nil {
			return nil, fmt.Errorf("record %d: %w", line, err)
		}
	}
	if h == nil {
		return nil, fmt.Errorf("%w: no records", ErrHierarchy)
	}
	return h, nil
}

// Format writes the hierarchy in the form ParseHierarchy reads.
func (h *Hierarchy) Format() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for id := range h.names {
		if len(h.children[id]) == 0 && id != 0 {
			w.Write(h.Path(h.names[id]))
		}
	}
	w.Flush()
	return b.Bytes()
}

func checkNodeName(s string) error {
	if s == "" || strings.TrimSpace(s) != s {
		return fmt.Errorf("%w: node name %q is empty or has leading or trailing space", ErrHierarchy, s)
	}
	if len(s) > maxNodeNameLen {
		return fmt.Errorf("%w: node name longer than %d bytes", ErrHierarchy, maxNodeNameLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: node name %q is not UTF-8", ErrHierarchy, s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: node name %q has a control character", ErrHierarchy, s)
		}
	}
	return nil
}
