package anonymize_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/veche/veche/internal/privacy/anonymize"
	"github.com/veche/veche/internal/privacy/anonymize/synthetic"
)

func table(t testing.TB, fields []anonymize.Field, rows ...[]string) *anonymize.Table {
	t.Helper()
	tb, err := anonymize.NewTable(fields...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := tb.Append(r...); err != nil {
			t.Fatal(err)
		}
	}
	return tb
}

func collect(r *anonymize.Result) [][]string {
	var out [][]string
	for rec := range r.Records() {
		out = append(out, slices.Clone(rec))
	}
	return out
}

var ageFields = []anonymize.Field{
	{Name: "name", Role: anonymize.DirectIdentifier},
	{Name: "age", Role: anonymize.QuasiIdentifier},
	{Name: "disease", Role: anonymize.Sensitive},
}

func TestMedianSplitGivesTightRangesAndTheirLoss(t *testing.T) {
	tb := table(t, ageFields,
		[]string{"Ann", "20", "flu"}, []string{"Bob", "21", "cold"},
		[]string{"Cid", "40", "flu"}, []string{"Dee", "41", "cold"},
		[]string{"Eve", "60", "flu"}, []string{"Fay", "62", "cold"},
		[]string{"Gus", "80", "flu"}, []string{"Hal", "85", "cold"})
	r, err := anonymize.Anonymize(tb, anonymize.Config{K: 2, L: 2, Sensitive: "disease",
		QuasiIdentifiers: []anonymize.Column{{Name: "age", Kind: anonymize.Numeric}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range r.Classes {
		got = append(got, fmt.Sprintf("%s×%d", c.Values[0], c.Size))
	}
	if want := []string{"20–21×2", "40–41×2", "60–62×2", "80–85×2"}; !slices.Equal(got, want) {
		t.Fatalf("classes %v, want %v", got, want)
	}
	// NCP: each row's range over the whole range 65: 2·(1+1+2+5)/8/65
	if want := 18.0 / 8 / 65; math.Abs(r.Loss.NCP-want) > 1e-12 {
		t.Errorf("NCP %v, want %v", r.Loss.NCP, want)
	}
	if r.Loss.Discernibility != 16 || r.Loss.NormalizedAverageClassSize != 1 || r.Loss.MinClassSize != 2 || r.Loss.MaxClassSize != 2 {
		t.Errorf("loss %+v", r.Loss)
	}
	recs := collect(r)
	if want := []string{"20–21", "cold"}; !slices.Equal(recs[0], want) {
		t.Errorf("first record %v, want %v (class order, values sorted in the class)", recs[0], want)
	}
}

func TestDirectIdentifiersNeverReachTheOutput(t *testing.T) {
	fields := []anonymize.Field{
		{Name: "email", Role: anonymize.DirectIdentifier},
		{Name: "forgotten"}, // zero Role: treated as a direct identifier
		{Name: "year", Role: anonymize.QuasiIdentifier},
		{Name: "topic", Role: anonymize.Sensitive},
		{Name: "channel", Role: anonymize.Other},
	}
	tb := table(t, fields)
	for i := range 200 {
		if err := tb.Append(fmt.Sprintf("person%d@example.org", i), fmt.Sprintf("secret-%d", i),
			strconv.Itoa(1950+i%50), []string{"roads", "parks", "schools"}[i%3], []string{"web", "paper"}[i%2]); err != nil {
			t.Fatal(err)
		}
	}
	r, err := anonymize.Anonymize(tb, anonymize.Config{K: 5, L: 2, Sensitive: "topic",
		QuasiIdentifiers: []anonymize.Column{{Name: "year", Kind: anonymize.Numeric}}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range r.Columns {
		names = append(names, f.Name)
	}
	if want := []string{"year", "topic", "channel"}; !slices.Equal(names, want) {
		t.Fatalf("published columns %v, want %v", names, want)
	}
	for _, rec := range collect(r) {
		for _, v := range rec {
			if strings.Contains(v, "@") || strings.Contains(v, "secret") {
				t.Fatalf("direct identifier %q in the output", v)
			}
		}
	}
}

// checkAnonymous groups the output by its quasi-identifier values and
// checks k and l independently of the algorithm.
func checkAnonymous(t *testing.T, r *anonymize.Result, k, l int, sensitive string) {
	t.Helper()
	var qi []int
	sens := -1
	for i, f := range r.Columns {
		if f.Role == anonymize.QuasiIdentifier {
			qi = append(qi, i)
		}
		if f.Name == sensitive {
			sens = i
		}
	}
	groups := map[string]map[string]int{}
	n := 0
	for rec := range r.Records() {
		n++
		var key []string
		for _, i := range qi {
			key = append(key, rec[i])
		}
		g := groups[strings.Join(key, "\x00")]
		if g == nil {
			g = map[string]int{}
			groups[strings.Join(key, "\x00")] = g
		}
		g[rec[sens]]++
	}
	if n != r.Rows {
		t.Fatalf("%d records, want %d", n, r.Rows)
	}
	for key, g := range groups {
		size := 0
		for _, c := range g {
			size += c
		}
		if size < k || len(g) < l {
			t.Fatalf("class %q has %d rows and %d sensitive values; want ≥ %d and ≥ %d", key, size, len(g), k, l)
		}
	}
}

func TestSyntheticResidentsAreKAnonymousAndLDiverse(t *testing.T) {
	tb := synthetic.Residents(20_000, 1)
	tests := []struct{ k, l int }{{2, 0}, {5, 2}, {10, 2}, {10, 4}, {50, 3}, {200, 8}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("k=%d,l=%d", tt.k, tt.l), func(t *testing.T) {
			r, err := anonymize.Anonymize(tb, anonymize.Config{K: tt.k, L: tt.l, Sensitive: "topic",
				QuasiIdentifiers: synthetic.QuasiIdentifiers()})
			if err != nil {
				t.Fatal(err)
			}
			checkAnonymous(t, r, tt.k, tt.l, "topic")
			if r.Loss.MinClassSize < tt.k || r.Loss.NCP <= 0 || r.Loss.NCP >= 1 {
				t.Fatalf("loss %+v", r.Loss)
			}
			// Mondrian's classes stay below 2k·(values of the widest split)
			// on this data; a class much larger means splitting stopped early.
			if r.Loss.NormalizedAverageClassSize > 2.5 {
				t.Errorf("C_AVG %.2f: classes are far larger than k", r.Loss.NormalizedAverageClassSize)
			}
			t.Logf("classes %d, NCP %.4f (per column %.4f), C_AVG %.3f, DM %d", r.Loss.Classes, r.Loss.NCP,
				r.Loss.AttributeNCP, r.Loss.NormalizedAverageClassSize, r.Loss.Discernibility)
		})
	}
}

// Every published value must cover the row's true value: the row's birth
// year lies in its range and its district under its node.
func TestGeneralisedValuesCoverTheTrueValues(t *testing.T) {
	h := synthetic.Hierarchy()
	leaves := h.Leaves()
	fields := []anonymize.Field{
		{Name: "birth_year", Role: anonymize.QuasiIdentifier},
		{Name: "district", Role: anonymize.QuasiIdentifier},
		{Name: "topic", Role: anonymize.Sensitive},
		{Name: "truth", Role: anonymize.Other}, // the true values, to check against
	}
	tb := table(t, fields)
	for i := range 5000 {
		year := strconv.Itoa(1940 + (i*7919)%70)
		district := leaves[(i*104729)%len(leaves)]
		tb.Append(year, district, synthetic.Topics[(i*31)%len(synthetic.Topics)], year+"|"+district)
	}
	r, err := anonymize.Anonymize(tb, anonymize.Config{K: 7, L: 3, Sensitive: "topic", QuasiIdentifiers: []anonymize.Column{
		{Name: "birth_year", Kind: anonymize.Numeric},
		{Name: "district", Kind: anonymize.Categorical, Hierarchy: h},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for rec := range r.Records() {
		truth := strings.Split(rec[3], "|")
		year, _ := strconv.Atoi(truth[0])
		lo, hi, found := strings.Cut(rec[0], "–")
		if !found {
			hi = lo
		}
		l, _ := strconv.Atoi(lo)
		u, _ := strconv.Atoi(hi)
		if year < l || year > u {
			t.Fatalf("year %d published as %q", year, rec[0])
		}
		if !slices.Contains(h.Path(truth[1]), rec[1]) {
			t.Fatalf("district %q published as %q, not on its path %v", truth[1], rec[1], h.Path(truth[1]))
		}
	}
	checkAnonymous(t, r, 7, 3, "topic")
}

func TestOrderedCategoriesGeneraliseToRanges(t *testing.T) {
	order := []string{"none", "primary", "secondary", "vocational", "higher"}
	fields := []anonymize.Field{{Name: "education", Role: anonymize.QuasiIdentifier}, {Name: "topic", Role: anonymize.Sensitive}}
	tb := table(t, fields)
	for i := range 100 {
		tb.Append(order[i%5], synthetic.Topics[i%4])
	}
	r, err := anonymize.Anonymize(tb, anonymize.Config{K: 30, L: 2, Sensitive: "topic",
		QuasiIdentifiers: []anonymize.Column{{Name: "education", Kind: anonymize.Ordered, Order: order}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range r.Classes {
		got = append(got, c.Values[0])
	}
	if want := []string{"none–secondary", "vocational–higher"}; !slices.Equal(got, want) {
		t.Fatalf("classes %v, want %v", got, want)
	}
}

func TestParallelSplittingGivesTheSameOutput(t *testing.T) {
	tb := synthetic.Residents(120_000, 3)
	var outs [][][]string
	for _, workers := range []int{1, 4} {
		r, err := anonymize.Anonymize(tb, anonymize.Config{K: 10, L: 2, Sensitive: "topic",
			QuasiIdentifiers: synthetic.QuasiIdentifiers(), Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, collect(r))
	}
	if !slices.EqualFunc(outs[0], outs[1], slices.Equal) {
		t.Fatal("1 and 4 workers published different rows")
	}
}

func TestRefusalsAreTypedAndCarryTheNumbers(t *testing.T) {
	small := func(n int, topics int) *anonymize.Table {
		tb := table(t, ageFields)
		for i := range n {
			tb.Append("x", strconv.Itoa(20+i), fmt.Sprint("d", i%topics))
		}
		return tb
	}
	age := []anonymize.Column{{Name: "age", Kind: anonymize.Numeric}}
	tests := []struct {
		name   string
		tb     *anonymize.Table
		cfg    anonymize.Config
		unsat  bool
		reason string
	}{
		{"k below 2", small(10, 3), anonymize.Config{K: 1, QuasiIdentifiers: age}, false, "k of at least 2"},
		{"fewer rows than k", small(9, 3), anonymize.Config{K: 10, QuasiIdentifiers: age}, true, "fewer rows than k"},
		{"l above distinct values", small(50, 3), anonymize.Config{K: 2, L: 4, Sensitive: "disease", QuasiIdentifiers: age}, true, "fewer distinct sensitive values than l"},
		{"empty table", small(0, 1), anonymize.Config{K: 2, QuasiIdentifiers: age}, true, "fewer rows than k"},
		{"l without sensitive", small(10, 3), anonymize.Config{K: 2, L: 2, QuasiIdentifiers: age}, false, "needs a sensitive column"},
		{"quasi-identifier not configured", small(10, 3), anonymize.Config{K: 2}, false, `"age" has no generalisation`},
		{"unknown column", small(10, 3), anonymize.Config{K: 2, QuasiIdentifiers: append(age, anonymize.Column{Name: "zip", Kind: anonymize.Numeric})}, false, `"zip" is not a column`},
		{"direct identifier as quasi-identifier", small(10, 3), anonymize.Config{K: 2, QuasiIdentifiers: append(age, anonymize.Column{Name: "name", Kind: anonymize.Categorical})}, false, "declared direct-identifier"},
		{"sensitive declared otherwise", small(10, 3), anonymize.Config{K: 2, Sensitive: "age", QuasiIdentifiers: age}, false, "declared quasi-identifier"},
		{"no kind", small(10, 3), anonymize.Config{K: 2, QuasiIdentifiers: []anonymize.Column{{Name: "age"}}}, false, "has no kind"},
		{"not a number", table(t, ageFields, []string{"a", "twenty", "x"}, []string{"b", "21", "y"}), anonymize.Config{K: 2, QuasiIdentifiers: age}, false, `"twenty" is not a finite number`},
		{"not a leaf", small(10, 3), anonymize.Config{K: 2, QuasiIdentifiers: []anonymize.Column{{Name: "age", Kind: anonymize.Categorical, Hierarchy: anonymize.MustHierarchy("all", []string{"young", "20"})}}}, false, "not a leaf"},
		{"not an ordered category", small(10, 3), anonymize.Config{K: 2, QuasiIdentifiers: []anonymize.Column{{Name: "age", Kind: anonymize.Ordered, Order: []string{"20"}}}}, false, "not one of its ordered categories"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := anonymize.Anonymize(tt.tb, tt.cfg)
			if r != nil || err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("result %v, error %v; want no result and an error saying %q", r, err, tt.reason)
			}
			var ue *anonymize.UnsatisfiableError
			if tt.unsat {
				if !errors.Is(err, anonymize.ErrUnsatisfiable) || !errors.As(err, &ue) || ue.K != tt.cfg.K || ue.Rows != tt.tb.Len() {
					t.Fatalf("error %v (%+v), want an UnsatisfiableError with k and rows", err, ue)
				}
			} else if !errors.Is(err, anonymize.ErrInvalidConfig) {
				t.Fatalf("error %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestTableRejectsBadDeclarationsAndRows(t *testing.T) {
	if _, err := anonymize.NewTable(anonymize.Field{Name: "a"}, anonymize.Field{Name: "a"}); !errors.Is(err, anonymize.ErrSchema) {
		t.Errorf("duplicate column: %v", err)
	}
	if _, err := anonymize.NewTable(anonymize.Field{}); !errors.Is(err, anonymize.ErrSchema) {
		t.Errorf("unnamed column: %v", err)
	}
	if _, err := anonymize.NewTable(anonymize.Field{Name: "a", Role: 9}); !errors.Is(err, anonymize.ErrSchema) {
		t.Errorf("unknown role: %v", err)
	}
	tb := table(t, ageFields)
	if err := tb.Append("only", "two"); !errors.Is(err, anonymize.ErrSchema) {
		t.Errorf("short row: %v", err)
	}
}
