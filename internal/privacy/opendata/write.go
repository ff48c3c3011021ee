package opendata

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/veche/veche/internal/privacy/anonymize"
	"github.com/veche/veche/internal/privacy/dp"
)

// writeData writes NAME.csv and NAME.json.
func writeData(dir string, pr *prepared) error {
	var header []string
	var numeric []bool // columns written as JSON numbers
	if pr.table != nil {
		for _, c := range pr.ds.Columns {
			header = append(header, c.Name)
		}
		return writeFiles(dir, pr.ds.Name, header, pr.table.Numeric, func(yield func([]string) bool) {
			for _, row := range pr.table.Rows {
				if !yield(row) {
					return
				}
			}
		})
	}
	if pr.result != nil {
		for _, c := range pr.result.Columns {
			header = append(header, c.Name)
			numeric = append(numeric, false)
		}
	} else {
		header = append(append(header, pr.counts.KeyColumns...), "count")
		numeric = make([]bool, len(header))
		numeric[len(header)-1] = true
	}
	records := func(yield func([]string) bool) {
		if pr.result != nil {
			pr.result.Records()(yield)
			return
		}
		row := make([]string, len(header))
		for i, key := range pr.counts.Keys {
			copy(row, key)
			row[len(row)-1] = fmt.Sprint(pr.noisy[i])
			if !yield(row) {
				return
			}
		}
	}
	return writeFiles(dir, pr.ds.Name, header, numeric, records)
}

func writeFiles(dir, name string, header []string, numeric []bool, records func(func([]string) bool)) error {
	cf, err := create(filepath.Join(dir, name+".csv"))
	if err != nil {
		return err
	}
	jf, err := create(filepath.Join(dir, name+".json"))
	if err != nil {
		cf.f.Close()
		return err
	}
	cw := csv.NewWriter(cf.w)
	cw.Write(header)
	keys := make([][]byte, len(header))
	for i, h := range header {
		keys[i], _ = json.Marshal(h)
	}
	hb, _ := json.Marshal(header)
	fmt.Fprintf(jf.w, "{\"dataset\":%q,\"columns\":%s,\"records\":[", name, hb)
	first := true
	var val []byte
	records(func(rec []string) bool {
		cw.Write(rec)
		if !first {
			jf.w.WriteByte(',')
		}
		first = false
		jf.w.WriteString("\n{")
		for i, v := range rec {
			if i > 0 {
				jf.w.WriteByte(',')
			}
			jf.w.Write(keys[i])
			jf.w.WriteByte(':')
			if numeric[i] {
				jf.w.WriteString(v)
				continue
			}
			val, _ = json.Marshal(v)
			jf.w.Write(val)
		}
		jf.w.WriteByte('}')
		return true
	})
	jf.w.WriteString("\n]}\n")
	cw.Flush()
	return closeAll(cw.Error(), cf, jf)
}

type file struct {
	f *os.File
	w *bufio.Writer
}

func create(path string) (*file, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	return &file{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func closeAll(err error, files ...*file) error {
	for _, f := range files {
		if e := f.w.Flush(); err == nil {
			err = e
		}
		if e := f.f.Sync(); err == nil {
			err = e
		}
		if e := f.f.Close(); err == nil {
			err = e
		}
	}
	return err
}

// dictionary is NAME.dictionary.json.
type dictionary struct {
	Dataset     string            `json:"dataset"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	GeneratedAt string            `json:"generated_at"`
	Files       map[string]string `json:"files"`
	Rows        int               `json:"rows"`
	Columns     []dictColumn      `json:"columns"`
	Dropped     []dictColumn      `json:"dropped_columns,omitempty"`
	Method      any               `json:"method"`
}

type dictColumn struct {
	Name           string    `json:"name"`
	Description    string    `json:"description"`
	Unit           string    `json:"unit,omitempty"`
	Type           string    `json:"type"`
	Role           string    `json:"role"`
	Generalisation string    `json:"generalisation,omitempty"`
	Hierarchy      *dictHier `json:"hierarchy,omitempty"`
	Categories     []string  `json:"ordered_categories,omitempty"`
}

type dictHier struct {
	Levels []string   `json:"levels,omitempty"`
	Paths  [][]string `json:"leaf_paths"`
}

type microMethod struct {
	Name       string    `json:"name"`
	Algorithm  string    `json:"algorithm"`
	References []string  `json:"references"`
	K          int       `json:"k"`
	L          int       `json:"l"`
	LDiversity string    `json:"l_diversity"`
	Sensitive  string    `json:"sensitive_column,omitempty"`
	Loss       microLoss `json:"information_loss"`
}

type microLoss struct {
	NCP                        float64            `json:"ncp"`
	NCPByColumn                map[string]float64 `json:"ncp_by_column"`
	Discernibility             int64              `json:"discernibility"`
	Classes                    int                `json:"equivalence_classes"`
	MinClassSize               int                `json:"min_class_size"`
	MaxClassSize               int                `json:"max_class_size"`
	AverageClassSize           float64            `json:"average_class_size"`
	NormalizedAverageClassSize float64            `json:"normalized_average_class_size"`
	Explanation                string             `json:"explanation"`
}

type resultsMethod struct {
	Name        string `json:"name"`
	Source      string `json:"published_at"`
	Window      string `json:"window"`
	Explanation string `json:"explanation"`
}

type dpMethod struct {
	Name        string     `json:"name"`
	Mechanism   string     `json:"mechanism"`
	References  []string   `json:"references"`
	Epsilon     string     `json:"epsilon"`
	Delta       string     `json:"delta"`
	Rho         string     `json:"rho,omitempty"`
	Sensitivity int64      `json:"sensitivity"`
	NoiseStdDev float64    `json:"noise_standard_deviation"`
	Noise95     int64      `json:"noise_95_percent_within"`
	PrivacyUnit string     `json:"privacy_unit"`
	Window      string     `json:"window"`
	PostProcess string     `json:"post_processing"`
	Budget      dictBudget `json:"budget"`
}

type dictBudget struct {
	EpsilonTotal     string `json:"epsilon_total"`
	EpsilonSpent     string `json:"epsilon_spent"`
	EpsilonRemaining string `json:"epsilon_remaining"`
	DeltaTotal       string `json:"delta_total"`
	DeltaSpent       string `json:"delta_spent"`
	DeltaRemaining   string `json:"delta_remaining"`
	Releases         int64  `json:"releases"`
	Accounting       string `json:"accounting"`
}

const (
	refMondrian = "Kristen LeFevre, David J. DeWitt, Raghu Ramakrishnan. Mondrian Multidimensional K-Anonymity. ICDE 2006. doi:10.1109/ICDE.2006.101"
	refLDiv     = "Ashwin Machanavajjhala, Daniel Kifer, Johannes Gehrke, Muthuramakrishnan Venkitasubramaniam. l-Diversity: Privacy Beyond k-Anonymity. ACM TKDD 1(1), 2007"
	refNCP      = "Jian Xu, Wei Wang, Jian Pei, Xiaoyuan Wang, Baile Shi, Ada Wai-Chee Fu. Utility-Based Anonymization Using Local Recoding. KDD 2006"
	refCKS      = "Clément L. Canonne, Gautam Kamath, Thomas Steinke. The Discrete Gaussian for Differential Privacy. NeurIPS 2020. arXiv:2004.00010"
	refBS       = "Mark Bun, Thomas Steinke. Concentrated Differential Privacy: Simplifications, Extensions, and Lower Bounds. TCC 2016"
)

func writeDictionary(dir string, pr *prepared, budget *dp.Budget, now time.Time) error {
	d := dictionary{
		Dataset: pr.ds.Name, Title: pr.ds.Title, Description: pr.ds.Description,
		GeneratedAt: now.UTC().Format(time.RFC3339),
		Files:       map[string]string{"csv": pr.ds.Name + ".csv", "json": pr.ds.Name + ".json", "dictionary": pr.ds.Name + ".dictionary.json"},
	}
	if t := pr.table; t != nil {
		d.Rows = len(t.Rows)
		for _, c := range pr.ds.Columns {
			d.Columns = append(d.Columns, dictColumn{Name: c.Name, Description: c.Description, Unit: c.Unit, Type: c.Type, Role: c.Role.String()})
		}
		d.Method = resultsMethod{
			Name:   "published results",
			Source: pr.ds.Results.Source,
			Window: t.Window,
			Explanation: "totals published exactly, as the public results pages show them: no row per person and no text a person wrote, " +
				"so no generalisation and no noise are applied; content hidden by moderation is left out",
		}
	} else if r := pr.result; r != nil {
		d.Rows = r.Rows
		qi := map[string]anonymize.Column{}
		for _, c := range r.QuasiIdentifiers {
			qi[c.Name] = c
		}
		byCol := map[string]float64{}
		for i, c := range r.QuasiIdentifiers {
			byCol[c.Name] = r.Loss.AttributeNCP[i]
		}
		for _, c := range pr.ds.Columns {
			dc := dictColumn{Name: c.Name, Description: c.Description, Unit: c.Unit, Type: c.Type, Role: c.Role.String()}
			if c.Role == anonymize.DirectIdentifier {
				dc.Generalisation = "dropped: direct identifiers are never published"
				d.Dropped = append(d.Dropped, dc)
				continue
			}
			if q, ok := qi[c.Name]; ok {
				dc.Generalisation, dc.Hierarchy, dc.Categories = describeGeneralisation(q)
			}
			d.Columns = append(d.Columns, dc)
		}
		d.Method = microMethod{
			Name: "k-anonymous microdata", Algorithm: "Mondrian multidimensional partitioning (strict, median cuts), with distinct l-diversity as a further condition on every cut",
			References: []string{refMondrian, refLDiv, refNCP}, K: r.K, L: r.L, LDiversity: "distinct", Sensitive: pr.ds.Microdata.Sensitive,
			Loss: microLoss{
				NCP: round(r.Loss.NCP), NCPByColumn: roundMap(byCol), Discernibility: r.Loss.Discernibility,
				Classes: r.Loss.Classes, MinClassSize: r.Loss.MinClassSize, MaxClassSize: r.Loss.MaxClassSize,
				AverageClassSize: round(r.Loss.AverageClassSize), NormalizedAverageClassSize: round(r.Loss.NormalizedAverageClassSize),
				Explanation: "ncp: Normalized Certainty Penalty, 0 = nothing generalised, 1 = everything generalised to the top; " +
					"discernibility: sum over classes of size squared (lower is better); normalized_average_class_size: (rows / classes) / k, 1 at best",
			},
		}
	} else {
		d.Rows = len(pr.noisy)
		for _, c := range pr.ds.Columns {
			d.Columns = append(d.Columns, dictColumn{Name: c.Name, Description: c.Description, Unit: c.Unit, Type: c.Type, Role: c.Role.String()})
		}
		m := dpMethod{
			Name: "differentially private counts", Mechanism: pr.mech.Name(),
			References:  []string{refCKS},
			Epsilon:     dp.FormatRat(pr.charge.Cost.Epsilon),
			Delta:       dp.FormatRat(pr.charge.Cost.Delta),
			Sensitivity: pr.ds.Aggregates.Sensitivity,
			NoiseStdDev: round(pr.mech.StdDev()),
			PrivacyUnit: pr.ds.Aggregates.PrivacyUnit,
			Window:      pr.counts.Window,
			PostProcess: "none: every cell of the grid is published, empty or not, with integer noise added independently; counts are unbiased and can be negative",
			Budget: dictBudget{
				EpsilonTotal: dp.FormatRat(budget.Total.Epsilon), EpsilonSpent: dp.FormatRat(budget.Spent.Epsilon),
				EpsilonRemaining: dp.FormatRat(budget.Remaining().Epsilon),
				DeltaTotal:       dp.FormatRat(budget.Total.Delta), DeltaSpent: dp.FormatRat(budget.Spent.Delta),
				DeltaRemaining: dp.FormatRat(budget.Remaining().Delta), Releases: budget.Releases,
				Accounting: "each release is charged its (ε, δ) and charges add up (basic composition); once the total is spent the dataset is not released again",
			},
		}
		m.Noise95 = noiseQuantile95(pr.mech)
		if g, ok := pr.mech.(*dp.Gaussian); ok {
			m.Rho = dp.FormatRat(g.Rho())
			m.References = append(m.References, refBS)
		}
		d.Method = m
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, pr.ds.Name+".dictionary.json"), b.Bytes(), 0o644)
}

// noiseQuantile95 is the least n with P[|noise| ≤ n] ≥ 0.95.
func noiseQuantile95(m dp.Mechanism) int64 {
	var pmf func(z float64) float64
	switch m := m.(type) {
	case *dp.Laplace:
		b, _ := m.Scale().Float64()
		q := math.Exp(-1 / b)
		pmf = func(z float64) float64 { return (1 - q) / (1 + q) * math.Pow(q, math.Abs(z)) }
	case *dp.Gaussian:
		s2, _ := m.Sigma2().Float64()
		norm := 0.0
		lim := 20*math.Sqrt(s2) + 10
		for z := -lim; z <= lim; z++ {
			norm += math.Exp(-z * z / (2 * s2))
		}
		pmf = func(z float64) float64 { return math.Exp(-z*z/(2*s2)) / norm }
	default:
		return 0
	}
	mass := pmf(0)
	n := int64(0)
	for mass < 0.95 && n < 1<<40 {
		n++
		mass += 2 * pmf(float64(n))
	}
	return n
}

func describeGeneralisation(c anonymize.Column) (string, *dictHier, []string) {
	switch c.Kind {
	case anonymize.Numeric:
		return "range of the values in the row's equivalence class, written low–high (U+2013), or a single value when all are equal", nil, nil
	case anonymize.Ordered:
		return "range of the categories in the row's equivalence class, written low–high (U+2013) in the order listed, or a single category", nil, c.Order
	default:
		if c.Hierarchy == nil {
			return "the value itself, or * when the equivalence class holds several values", nil, nil
		}
		h := &dictHier{Levels: c.Hierarchy.Levels}
		for _, leaf := range c.Hierarchy.Leaves() {
			h.Paths = append(h.Paths, c.Hierarchy.Path(leaf))
		}
		levels := "the hierarchy below"
		if len(c.Hierarchy.Levels) > 0 {
			levels = strings.Join(c.Hierarchy.Levels, " > ")
		}
		return "the lowest node of the hierarchy (" + levels + ") covering every value in the row's equivalence class", h, nil
	}
}

func round(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func roundMap(m map[string]float64) map[string]float64 {
	for k, v := range m {
		m[k] = round(v)
	}
	return m
}

func writeReadme(dir string, preps []*prepared, now time.Time) error {
	var b strings.Builder
	fmt.Fprintf(&b, "veche open data, exported %s\n\n", now.UTC().Format(time.RFC3339))
	b.WriteString("Each dataset comes as three files:\n" +
		"  NAME.csv              the data, comma-separated, UTF-8, with a header row\n" +
		"  NAME.json             the same data as {\"dataset\", \"columns\", \"records\": [{column: value}]}\n" +
		"  NAME.dictionary.json  what every column means, how the data was protected, with which parameters,\n" +
		"                        and what that cost (information loss, or the privacy budget spent and left)\n\n" +
		"No file carries a direct identifier. Microdata are k-anonymous: every combination of the\n" +
		"quasi-identifier columns is shared by at least k rows, written as ranges (1980–1989) or as\n" +
		"coarser categories (a region instead of a district). Counts are differentially private: each\n" +
		"carries random integer noise, so small counts and negative counts are expected. Published results\n" +
		"are the exact totals of closed spaces that their public results pages already show.\n\nDatasets:\n")
	for _, pr := range preps {
		method := "k-anonymous microdata"
		if pr.table != nil {
			method = "published results"
		} else if pr.result == nil {
			method = fmt.Sprintf("differentially private counts (%s, ε = %s)", pr.mech.Name(), dp.FormatRat(pr.charge.Cost.Epsilon))
		} else {
			method += fmt.Sprintf(" (k = %d, l = %d)", pr.result.K, pr.result.L)
		}
		fmt.Fprintf(&b, "  %s: %s — %s\n", pr.ds.Name, pr.ds.Title, method)
	}
	b.WriteString("\nMethods and how to read the files: docs/open-data.md in the veche source.\n")
	return os.WriteFile(filepath.Join(dir, "README.txt"), []byte(b.String()), 0o644)
}
