package anonymize

import (
	"cmp"
	"iter"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Result is k-anonymous, l-diverse microdata: the published columns and the
// rows, class by class.
type Result struct {
	// Columns are the published columns in table order; direct identifiers
	// are not among them.
	Columns []Field
	// QuasiIdentifiers are the generalised columns, in Config order;
	// Class.Values follows this order.
	QuasiIdentifiers []Column
	K, L             int
	Rows             int
	Classes          []Class
	Loss             Loss

	table *Table
	idx   []uint32
	cols  []*column // the table column of each published column
	qi    []int     // published column → index in QuasiIdentifiers, or -1
}

// Class is one equivalence class: Size rows that share the generalised
// quasi-identifier Values.
type Class struct {
	Size   int
	Values []string
	start  int
}

// Loss measures what the generalisation cost; see the package doc.
type Loss struct {
	// NCP is the Normalized Certainty Penalty averaged over rows and
	// quasi-identifiers, from 0 (nothing generalised) to 1.
	NCP float64
	// AttributeNCP is the NCP of each quasi-identifier, in Config order.
	AttributeNCP []float64
	// Discernibility is Σ|E|² over the classes E.
	Discernibility int64
	// AverageClassSize is rows / classes.
	AverageClassSize float64
	// NormalizedAverageClassSize is C_AVG = AverageClassSize / k.
	NormalizedAverageClassSize float64
	Classes                    int
	MinClassSize, MaxClassSize int
}

// Anonymize partitions the table's rows with Mondrian until every class
// has at least cfg.K rows and cfg.L distinct sensitive values, and returns
// the generalised rows. Errors match [ErrInvalidConfig] (a bad Config, or
// values that do not fit it) or [ErrUnsatisfiable] (too few rows or
// sensitive values for k and l); then there is no output.
func Anonymize(t *Table, cfg Config) (*Result, error) {
	if cfg.K < 2 {
		return nil, invalid("k = %d: k-anonymity needs k of at least 2", cfg.K)
	}
	if cfg.L < 0 {
		return nil, invalid("l = %d is negative", cfg.L)
	}
	if cfg.Workers < 0 {
		return nil, invalid("workers = %d is negative", cfg.Workers)
	}
	a := &anonymizer{k: cfg.K, l: cfg.L}
	qiIndex := map[string]int{}
	for i, c := range cfg.QuasiIdentifiers {
		f, ok := t.field(c.Name)
		switch {
		case !ok:
			return nil, invalid("quasi-identifier %q is not a column of the table", c.Name)
		case f.Role != QuasiIdentifier:
			return nil, invalid("column %q is configured as a quasi-identifier but declared %s", c.Name, f.Role)
		}
		if _, dup := qiIndex[c.Name]; dup {
			return nil, invalid("quasi-identifier %q configured twice", c.Name)
		}
		qiIndex[c.Name] = i
		d, err := prepare(t.column(c.Name), c)
		if err != nil {
			return nil, err
		}
		a.dims = append(a.dims, d)
	}
	for _, f := range t.fields {
		if _, ok := qiIndex[f.Name]; f.Role == QuasiIdentifier && !ok {
			return nil, invalid("quasi-identifier %q has no generalisation in the configuration; it would be published as is", f.Name)
		}
	}
	distinct := 0
	if cfg.Sensitive != "" || cfg.L > 1 {
		f, ok := t.field(cfg.Sensitive)
		switch {
		case cfg.Sensitive == "":
			return nil, invalid("l = %d needs a sensitive column", cfg.L)
		case !ok:
			return nil, invalid("sensitive column %q is not a column of the table", cfg.Sensitive)
		case f.Role != Sensitive:
			return nil, invalid("column %q is configured as sensitive but declared %s", cfg.Sensitive, f.Role)
		}
		c := t.column(cfg.Sensitive)
		distinct = len(c.dict)
		if cfg.L > 1 {
			a.sensitive, a.nSens = c.codes, len(c.dict)
		}
	}
	unsat := func(reason string) error {
		return &UnsatisfiableError{Reason: reason, K: cfg.K, L: cfg.L, Rows: t.n, DistinctSensitive: distinct}
	}
	if t.n < cfg.K {
		return nil, unsat("fewer rows than k")
	}
	if cfg.L > 1 && distinct < cfg.L {
		// The whole table is the coarsest class; if it is not l-diverse,
		// no partition is.
		return nil, unsat("fewer distinct sensitive values than l, so no class can be l-diverse")
	}

	a.idx = make([]uint32, t.n)
	for i := range a.idx {
		a.idx[i] = uint32(i)
	}
	a.scratch = make([]uint32, t.n)
	a.run(cfg.Workers)
	a.scratch = nil

	r := &Result{QuasiIdentifiers: slices.Clone(cfg.QuasiIdentifiers), K: cfg.K, L: cfg.L, Rows: t.n, table: t, idx: a.idx}
	for _, c := range t.cols {
		r.Columns = append(r.Columns, Field{Name: c.name, Role: c.role})
		r.cols = append(r.cols, c)
		if i, ok := qiIndex[c.name]; ok {
			r.qi = append(r.qi, i)
		} else {
			r.qi = append(r.qi, -1)
		}
	}
	r.summarise(a)
	r.orderWithinClasses(cfg.Workers)
	return r, nil
}

// prepare turns a table column into a dim for its configured kind.
func prepare(col *column, c Column) (dim, error) {
	d := dim{name: c.Name, kind: c.Kind}
	switch c.Kind {
	case Numeric:
		vals := make([]float64, len(col.dict))
		for code, s := range col.dict {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return d, invalid("column %q: value %q is not a finite number", c.Name, s)
			}
			vals[code] = v
		}
		// ranks of the distinct values; equal numbers written differently
		// ("1980", "1980.0") share a rank
		codes := make([]uint32, len(vals))
		for i := range codes {
			codes[i] = uint32(i)
		}
		slices.SortFunc(codes, func(x, y uint32) int { return cmp.Compare(vals[x], vals[y]) })
		rank := make([]uint32, len(vals))
		for i, code := range codes {
			if i == 0 || vals[code] != vals[codes[i-1]] {
				d.value = append(d.value, vals[code])
				d.label = append(d.label, formatNumber(vals[code]))
			}
			rank[code] = uint32(len(d.value) - 1)
		}
		if len(d.value) > 0 {
			d.span = d.value[len(d.value)-1] - d.value[0]
		}
		d.key = rankKeys(col.codes, rank)
	case Ordered:
		if len(c.Order) == 0 {
			return d, invalid("ordered column %q has no Order", c.Name)
		}
		pos := make(map[string]uint32, len(c.Order))
		for i, s := range c.Order {
			if _, dup := pos[s]; dup {
				return d, invalid("ordered column %q lists %q twice", c.Name, s)
			}
			pos[s] = uint32(i)
		}
		rank := make([]uint32, len(col.dict))
		for code, s := range col.dict {
			p, ok := pos[s]
			if !ok {
				return d, invalid("column %q: value %q is not one of its ordered categories", c.Name, s)
			}
			rank[code] = p
		}
		d.label = slices.Clone(c.Order)
		d.span = float64(len(c.Order) - 1)
		d.key = rankKeys(col.codes, rank)
	case Categorical:
		h := c.Hierarchy
		if h == nil {
			h, _ = NewHierarchy("*")
			vals := slices.Clone(col.dict)
			slices.Sort(vals)
			for _, v := range vals {
				if err := h.Add(v); err != nil {
					return d, invalid("column %q: %v", c.Name, err)
				}
			}
		}
		h.seal()
		d.h = h
		d.stride = h.Depth()
		d.totalLeaves = int(h.leaves[0])
		d.childPos = make([]int32, len(h.names))
		for _, kids := range h.children {
			d.maxChildren = max(d.maxChildren, len(kids))
			for i, k := range kids {
				d.childPos[k] = int32(i)
			}
		}
		d.anc = make([]int32, len(col.dict)*d.stride)
		for code, s := range col.dict {
			id, ok := h.byName[s]
			if !ok || len(h.children[id]) > 0 || id == 0 {
				return d, invalid("column %q: value %q is not a leaf of the hierarchy %q", c.Name, s, h.Root())
			}
			row := d.anc[code*d.stride : (code+1)*d.stride]
			for i := range row {
				row[i] = -1
			}
			for x := id; x >= 0; x = h.parent[x] {
				row[h.depth[x]] = x
			}
		}
		d.key = col.codes
	default:
		return d, invalid("quasi-identifier %q has no kind (Numeric, Categorical or Ordered)", c.Name)
	}
	return d, nil
}

func rankKeys(codes, rank []uint32) []uint32 {
	key := make([]uint32, len(codes))
	for i, c := range codes {
		key[i] = rank[c]
	}
	return key
}

// summarise turns the partitions into classes with generalised values and
// computes the information loss.
func (r *Result) summarise(a *anonymizer) {
	nd := len(a.dims)
	r.Classes = make([]Class, len(a.classes))
	r.Loss.AttributeNCP = make([]float64, nd)
	r.Loss.Classes = len(a.classes)
	r.Loss.MinClassSize = math.MaxInt
	var total float64
	for ci, c := range a.classes {
		size := c.hi - c.lo
		vals := make([]string, nd)
		for i := range a.dims {
			d := &a.dims[i]
			var ncp float64
			switch d.kind {
			case Categorical:
				u := int32(c.sum[2*i])
				vals[i] = d.h.names[u]
				if len(d.h.children[u]) > 0 && d.totalLeaves > 0 {
					ncp = float64(d.h.leaves[u]) / float64(d.totalLeaves)
				}
			default:
				lo, hi := c.sum[2*i], c.sum[2*i+1]
				vals[i] = d.label[lo]
				if hi != lo {
					vals[i] += "–" + d.label[hi]
				}
				ncp = d.width(lo, hi)
			}
			r.Loss.AttributeNCP[i] += ncp * float64(size)
			total += ncp * float64(size)
		}
		r.Classes[ci] = Class{Size: size, Values: vals, start: c.lo}
		r.Loss.Discernibility += int64(size) * int64(size)
		r.Loss.MinClassSize = min(r.Loss.MinClassSize, size)
		r.Loss.MaxClassSize = max(r.Loss.MaxClassSize, size)
	}
	for i := range r.Loss.AttributeNCP {
		r.Loss.AttributeNCP[i] /= float64(r.Rows)
	}
	if nd > 0 {
		r.Loss.NCP = total / float64(r.Rows*nd)
	}
	r.Loss.AverageClassSize = float64(r.Rows) / float64(len(r.Classes))
	r.Loss.NormalizedAverageClassSize = r.Loss.AverageClassSize / float64(r.K)
}

// orderWithinClasses sorts each class's rows by their published values, so
// that the output order carries nothing of the input order.
func (r *Result) orderWithinClasses(workers int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var pass []*column // the columns published as they are
	for i, c := range r.cols {
		if r.qi[i] < 0 {
			pass = append(pass, c)
		}
	}
	compare := func(x, y uint32) int {
		for _, c := range pass {
			if v := strings.Compare(c.dict[c.codes[x]], c.dict[c.codes[y]]); v != 0 {
				return v
			}
		}
		return 0
	}
	var wg sync.WaitGroup
	chunk := (len(r.Classes) + workers - 1) / workers
	for w := 0; w < len(r.Classes); w += chunk {
		classes := r.Classes[w:min(w+chunk, len(r.Classes))]
		wg.Go(func() {
			for _, c := range classes {
				slices.SortFunc(r.idx[c.start:c.start+c.Size], compare)
			}
		})
	}
	wg.Wait()
}

// Records yields the published rows, class by class, each with one value
// per Columns entry. The yielded slice is reused: copy it to keep it.
func (r *Result) Records() iter.Seq[[]string] {
	return func(yield func([]string) bool) {
		row := make([]string, len(r.cols))
		for _, c := range r.Classes {
			for _, ri := range r.idx[c.start : c.start+c.Size] {
				for j, col := range r.cols {
					if q := r.qi[j]; q >= 0 {
						row[j] = c.Values[q]
					} else {
						row[j] = col.dict[col.codes[ri]]
					}
				}
				if !yield(row) {
					return
				}
			}
		}
	}
}
