package anonymize

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"
)

// dim is a quasi-identifier prepared for partitioning.
type dim struct {
	name string
	kind Kind
	// key is the row's rank (Numeric, Ordered) or the row's dictionary code
	// in the table column (Categorical).
	key []uint32

	// Numeric and Ordered: label and value of each rank.
	label []string
	value []float64
	span  float64 // the column's whole range, for NCP

	// Categorical
	h           *Hierarchy
	stride      int     // ancestors kept per code
	anc         []int32 // anc[code*stride+d] = the code's leaf's ancestor at depth d, -1 below the leaf
	childPos    []int32 // node → its position among its parent's children
	maxChildren int
	totalLeaves int
}

// child returns the child of a node at depth d that row r's value lies
// under.
func (d *dim) child(r uint32, depth int32) int32 {
	return d.anc[int(d.key[r])*d.stride+int(depth)+1]
}

// class is a finished partition: rows idx[lo:hi] and, per dim, the
// summary (min and max rank, or hierarchy node in the first slot).
type class struct {
	lo, hi int
	sum    []uint32
}

type anonymizer struct {
	k, l      int
	dims      []dim
	sensitive []uint32 // sensitive codes per row, nil without l-diversity
	nSens     int
	idx       []uint32
	scratch   []uint32

	sem     chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	classes []class
	pool    sync.Pool
}

// parallelMin is the smallest partition worth handing to another
// goroutine.
const parallelMin = 1 << 14

type worker struct {
	a      *anonymizer
	seen   []uint32
	stamp  uint32
	counts []int
	widths []float64
	order  []int
}

func (a *anonymizer) newWorker() *worker {
	if w, ok := a.pool.Get().(*worker); ok {
		return w
	}
	maxc := 0
	for i := range a.dims {
		maxc = max(maxc, a.dims[i].maxChildren)
	}
	return &worker{a: a, seen: make([]uint32, a.nSens), counts: make([]int, maxc+1)}
}

func (a *anonymizer) run(workers int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	a.sem = make(chan struct{}, workers-1)
	nodes := make([]int32, len(a.dims)) // every categorical dim starts at the root
	w := a.newWorker()
	w.split(0, len(a.idx), nodes)
	a.wg.Wait()
	slices.SortFunc(a.classes, func(x, y class) int { return cmp.Compare(x.lo, y.lo) })
}

// split partitions idx[lo:hi], whose categorical dims stand at nodes, until
// no allowed cut remains.
func (w *worker) split(lo, hi int, nodes []int32) {
	a := w.a
	n := hi - lo
	rows := a.idx[lo:hi]
	nd := len(a.dims)
	sum := make([]uint32, 2*nd)
	if cap(w.widths) < nd {
		w.widths, w.order = make([]float64, nd), make([]int, nd)
	}
	widths, order := w.widths[:nd], w.order[:nd]
	for i := range a.dims {
		d := &a.dims[i]
		order[i] = i
		if d.kind == Categorical {
			u := w.tighten(d, rows, nodes[i])
			nodes[i] = u
			sum[2*i] = uint32(u)
			if len(d.h.children[u]) == 0 || d.totalLeaves <= 1 {
				widths[i] = 0
			} else {
				widths[i] = float64(d.h.leaves[u]) / float64(d.totalLeaves)
			}
			continue
		}
		lo, hi := uint32(math.MaxUint32), uint32(0)
		for _, r := range rows {
			v := d.key[r]
			lo, hi = min(lo, v), max(hi, v)
		}
		sum[2*i], sum[2*i+1] = lo, hi
		widths[i] = d.width(lo, hi)
	}
	if n >= 2*a.k {
		slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(widths[y], widths[x]) })
		for _, i := range order {
			if widths[i] == 0 {
				break
			}
			d := &a.dims[i]
			if d.kind == Categorical {
				if bounds, ok := w.cutCategorical(d, lo, hi, nodes[i]); ok {
					parts := make([]part, 0, len(bounds)-1)
					for j := 0; j+1 < len(bounds); j++ {
						if bounds[j] == bounds[j+1] {
							continue
						}
						child := slices.Clone(nodes)
						child[i] = d.child(a.idx[bounds[j]], d.h.depth[nodes[i]])
						parts = append(parts, part{bounds[j], bounds[j+1], child})
					}
					w.recurse(parts)
					return
				}
				continue
			}
			if mid, ok := w.cutNumeric(d, lo, hi, sum[2*i]); ok {
				w.recurse([]part{{lo, mid, slices.Clone(nodes)}, {mid, hi, nodes}})
				return
			}
		}
	}
	a.mu.Lock()
	a.classes = append(a.classes, class{lo: lo, hi: hi, sum: sum})
	a.mu.Unlock()
}

type part struct {
	lo, hi int
	nodes  []int32
}

// recurse splits parts further, handing large ones to idle cores.
func (w *worker) recurse(parts []part) {
	a := w.a
	for j, p := range parts {
		if j < len(parts)-1 && p.hi-p.lo >= parallelMin {
			select {
			case a.sem <- struct{}{}:
				a.wg.Go(func() {
					w2 := a.newWorker()
					w2.split(p.lo, p.hi, p.nodes)
					a.pool.Put(w2)
					<-a.sem
				})
				continue
			default:
			}
		}
		w.split(p.lo, p.hi, p.nodes)
	}
}

// width is the normalised range of ranks lo..hi.
func (d *dim) width(lo, hi uint32) float64 {
	if d.span == 0 {
		return 0
	}
	if d.kind == Numeric {
		return (d.value[hi] - d.value[lo]) / d.span
	}
	return float64(hi-lo) / d.span
}

// tighten descends from node u while the rows all lie under one child, and
// returns the lowest node covering them.
func (w *worker) tighten(d *dim, rows []uint32, u int32) int32 {
	for len(d.h.children[u]) > 0 {
		depth := d.h.depth[u]
		first := d.child(rows[0], depth)
		same := true
		for _, r := range rows[1:] {
			if d.child(r, depth) != first {
				same = false
				break
			}
		}
		if !same {
			return u
		}
		u = first
	}
	return u
}

// cutNumeric tries to split idx[lo:hi] at the median of d. It returns the
// first index of the right part.
func (w *worker) cutNumeric(d *dim, lo, hi int, minRank uint32) (int, bool) {
	a := w.a
	n := hi - lo
	s := a.scratch[lo:hi]
	for i, r := range a.idx[lo:hi] {
		s[i] = d.key[r]
	}
	m := quickselect(s, n/2)
	lt, le := 0, 0
	for _, v := range s {
		if v < m {
			lt++
		}
		if v <= m {
			le++
		}
	}
	type cand struct {
		left int
		cut  uint32 // rows with rank ≤ cut go left
	}
	cands := []cand{{le, m}}
	if m > minRank {
		cands = append(cands, cand{lt, m - 1})
	}
	if len(cands) == 2 && abs(cands[1].left-n/2) < abs(cands[0].left-n/2) {
		cands[0], cands[1] = cands[1], cands[0]
	}
	for _, c := range cands {
		if c.left < a.k || n-c.left < a.k {
			continue
		}
		mid := partitionBy(a.idx[lo:hi], func(r uint32) bool { return d.key[r] <= c.cut }) + lo
		if a.l <= 1 || (w.diverse(lo, mid) && w.diverse(mid, hi)) {
			return mid, true
		}
	}
	return 0, false
}

// cutCategorical tries to split idx[lo:hi] into the children of node u.
// It returns the boundaries of the parts.
func (w *worker) cutCategorical(d *dim, lo, hi int, u int32) ([]int, bool) {
	a := w.a
	kids := d.h.children[u]
	if len(kids) == 0 {
		return nil, false
	}
	depth := d.h.depth[u]
	counts := w.counts[:len(kids)]
	clear(counts)
	rows := a.idx[lo:hi]
	for _, r := range rows {
		counts[d.childPos[d.child(r, depth)]]++
	}
	present := 0
	for _, c := range counts {
		if c == 0 {
			continue
		}
		if c < a.k {
			return nil, false
		}
		present++
	}
	if present < 2 {
		return nil, false
	}
	// counting sort of the rows by child, through the scratch slice
	bounds := make([]int, len(kids)+1)
	bounds[0] = lo
	for j, c := range counts {
		bounds[j+1] = bounds[j] + c
	}
	pos := w.counts[:len(kids)]
	for j := range pos {
		pos[j] = bounds[j] - lo
	}
	s := a.scratch[lo:hi]
	for _, r := range rows {
		p := d.childPos[d.child(r, depth)]
		s[pos[p]] = r
		pos[p]++
	}
	copy(rows, s)
	if a.l > 1 {
		for j := 0; j+1 < len(bounds); j++ {
			if bounds[j] < bounds[j+1] && !w.diverse(bounds[j], bounds[j+1]) {
				return nil, false
			}
		}
	}
	return bounds, true
}

// diverse reports whether idx[lo:hi] has at least l distinct sensitive
// values.
func (w *worker) diverse(lo, hi int) bool {
	a := w.a
	w.stamp++
	if w.stamp == 0 {
		clear(w.seen)
		w.stamp = 1
	}
	distinct := 0
	for _, r := range a.idx[lo:hi] {
		c := a.sensitive[r]
		if w.seen[c] != w.stamp {
			w.seen[c] = w.stamp
			distinct++
			if distinct >= a.l {
				return true
			}
		}
	}
	return false
}

// partitionBy moves the elements for which left holds to the front and
// returns how many there are.
func partitionBy(s []uint32, left func(uint32) bool) int {
	i, j := 0, len(s)-1
	for {
		for i <= j && left(s[i]) {
			i++
		}
		for i <= j && !left(s[j]) {
			j--
		}
		if i >= j {
			return i
		}
		s[i], s[j] = s[j], s[i]
		i++
		j--
	}
}

// quickselect returns the element that would be at position k if s were
// sorted, reordering s.
func quickselect(s []uint32, k int) uint32 {
	lo, hi := 0, len(s)-1
	for lo < hi {
		// median of three as pivot
		mid := lo + (hi-lo)/2
		a, b, c := s[lo], s[mid], s[hi]
		p := max(min(a, b), min(max(a, b), c))
		// three-way partition: < p | == p | > p
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch {
			case s[i] < p:
				s[lt], s[i] = s[i], s[lt]
				lt++
				i++
			case s[i] > p:
				s[i], s[gt] = s[gt], s[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return p
		}
	}
	return s[k]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// formatNumber writes a numeric value the shortest way that reads back
// exactly.
func formatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
