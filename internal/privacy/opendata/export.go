package opendata

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/privacy/anonymize"
	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/store"
)

// Params are an export's choices; zero fields take each dataset's default.
type Params struct {
	K, L int
	// Epsilon is ε for a Laplace release.
	Epsilon *big.Rat
	// Mechanism is "laplace" (default) or "gaussian".
	Mechanism string
	// Rho is ρ for a Gaussian release (zCDP).
	Rho *big.Rat
	// Now fixes the time windows; zero means time.Now.
	Now time.Time
}

// Auditor records a state change in the audit log in the caller's
// transaction; *auditlog.Log is one.
type Auditor interface {
	Append(ctx context.Context, tx *store.Tx, e auditlog.Entry) error
}

// Exporter writes open data from one instance.
type Exporter struct {
	DB     *store.DB
	Ledger *dp.Ledger
	Audit  Auditor // nil: no audit entries (tests)
}

// ErrOutputExists is returned when the output directory has files in it.
var ErrOutputExists = errors.New("output directory is not empty")

// The release methods, as summaries and audit entries name them.
const (
	MethodMicrodata  = "k-anonymous-microdata"
	MethodAggregates = "dp-aggregates"
	MethodResults    = "published-results"
)

// Summary says what an export published for one dataset.
type Summary struct {
	Dataset string
	Method  string // MethodMicrodata, MethodAggregates or MethodResults
	Rows    int
	// Microdata
	K, L int
	Loss *anonymize.Loss
	// Aggregates
	Mechanism string
	Cost      *dp.Cost
	Budget    *dp.Budget // after the release
}

// prepared is a dataset computed and ready to write.
type prepared struct {
	ds     Dataset
	result *anonymize.Result
	counts Counts
	noisy  []int64
	table  *Table // published results
	mech   dp.Mechanism
	charge *dp.Charge
}

// Export publishes datasets into outDir, which must not exist or be empty.
// It is all or nothing (see the package doc).
func (e *Exporter) Export(ctx context.Context, datasets []Dataset, p Params, outDir string) ([]Summary, error) {
	if len(datasets) == 0 {
		return nil, errors.New("opendata: no dataset to export")
	}
	if err := checkOutDir(outDir); err != nil {
		return nil, err
	}
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	var preps []*prepared
	var charges []dp.Charge
	for _, ds := range datasets {
		pr, err := e.prepare(ctx, ds, p)
		if err != nil {
			return nil, fmt.Errorf("dataset %q: %w", ds.Name, err)
		}
		preps = append(preps, pr)
		if pr.charge != nil {
			charges = append(charges, *pr.charge)
		}
	}
	// Refuse early, before drawing noise and writing; Spend checks again.
	if err := e.Ledger.Check(ctx, charges); err != nil {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(outDir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("opendata: create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, ".open-data-*")
	if err != nil {
		return nil, fmt.Errorf("opendata: create a temporary directory: %w", err)
	}
	published := false
	defer func() {
		if !published {
			os.RemoveAll(tmp)
		}
	}()
	for _, pr := range preps {
		if pr.mech != nil {
			if pr.noisy, err = pr.mech.Release(pr.counts.Values); err != nil {
				return nil, fmt.Errorf("dataset %q: %w", pr.ds.Name, err)
			}
		}
		if err := writeData(tmp, pr); err != nil {
			return nil, fmt.Errorf("dataset %q: %w", pr.ds.Name, err)
		}
	}
	budgets, err := e.Ledger.Spend(ctx, charges, func(ctx context.Context, tx *store.Tx) error {
		if e.Audit == nil {
			return nil
		}
		for _, pr := range preps {
			if err := e.Audit.Append(ctx, tx, auditEntry(pr)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// From here on the budget is spent: a failure leaves it spent and
	// publishes nothing, which errs on the side of privacy.
	var sums []Summary
	bi := 0
	for _, pr := range preps {
		s := Summary{Dataset: pr.ds.Name}
		var budget *dp.Budget
		switch {
		case pr.table != nil:
			s.Method, s.Rows = MethodResults, len(pr.table.Rows)
		case pr.charge != nil:
			budget = &budgets[bi]
			bi++
			s.Method, s.Rows, s.Mechanism, s.Cost, s.Budget = MethodAggregates, len(pr.noisy), pr.mech.Name(), &pr.charge.Cost, budget
		default:
			s.Method, s.Rows, s.K, s.L, s.Loss = MethodMicrodata, pr.result.Rows, pr.result.K, pr.result.L, &pr.result.Loss
		}
		if err := writeDictionary(tmp, pr, budget, p.Now); err != nil {
			return nil, fmt.Errorf("dataset %q: %w", pr.ds.Name, err)
		}
		sums = append(sums, s)
	}
	if err := writeReadme(tmp, preps, p.Now); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, outDir); err != nil {
		// an empty existing directory: replace it
		if rmErr := os.Remove(outDir); rmErr != nil {
			return nil, fmt.Errorf("opendata: move the export into %s: %w", outDir, err)
		}
		if err := os.Rename(tmp, outDir); err != nil {
			return nil, fmt.Errorf("opendata: move the export into %s: %w", outDir, err)
		}
	}
	published = true
	return sums, nil
}

func checkOutDir(dir string) error {
	if dir == "" {
		return errors.New("opendata: no output directory")
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opendata: output directory: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("opendata: %s: %w; choose a new directory for each export", dir, ErrOutputExists)
	}
	return nil
}

func (e *Exporter) prepare(ctx context.Context, ds Dataset, p Params) (*prepared, error) {
	pr := &prepared{ds: ds}
	if res := ds.Results; res != nil {
		t, err := res.Load(ctx, e.DB, p.Now)
		if err != nil {
			return nil, err
		}
		if len(t.Numeric) != len(ds.Columns) {
			return nil, fmt.Errorf("opendata: the results have %d column types, the declaration %d columns", len(t.Numeric), len(ds.Columns))
		}
		for i, row := range t.Rows {
			if len(row) != len(ds.Columns) {
				return nil, fmt.Errorf("opendata: results row %d has %d values, the declaration %d columns", i+1, len(row), len(ds.Columns))
			}
		}
		pr.table = &t
		return pr, nil
	}
	if m := ds.Microdata; m != nil {
		k, l := m.K, m.L
		if p.K != 0 {
			k = p.K
		}
		if p.L != 0 {
			l = p.L
		}
		t, err := m.Load(ctx, e.DB)
		if err != nil {
			return nil, err
		}
		if err := checkRoles(ds, t); err != nil {
			return nil, err
		}
		pr.result, err = anonymize.Anonymize(t, anonymize.Config{K: k, L: l, Sensitive: m.Sensitive, QuasiIdentifiers: m.QuasiIdentifiers})
		if err != nil {
			return nil, err
		}
		return pr, nil
	}
	a := ds.Aggregates
	var err error
	switch p.Mechanism {
	case "", "laplace":
		eps := a.Epsilon
		if p.Epsilon != nil {
			eps = p.Epsilon
		}
		pr.mech, err = dp.NewLaplace(eps, a.Sensitivity)
	case "gaussian":
		if p.Rho == nil {
			return nil, fmt.Errorf("%w: the Gaussian mechanism needs ρ", dp.ErrInvalidParameter)
		}
		pr.mech, err = dp.NewGaussian(p.Rho, a.Sensitivity)
	default:
		return nil, fmt.Errorf("%w: mechanism %q (laplace or gaussian)", dp.ErrInvalidParameter, p.Mechanism)
	}
	if err != nil {
		return nil, err
	}
	cost, err := pr.mech.Cost(a.ReleaseDelta)
	if err != nil {
		return nil, err
	}
	pr.charge = &dp.Charge{Dataset: ds.Name, Mechanism: pr.mech.Name(), Cost: cost, Initial: a.Budget}
	if g, ok := pr.mech.(*dp.Gaussian); ok {
		pr.charge.Rho = g.Rho()
	}
	if pr.counts, err = a.Count(ctx, e.DB, p.Now); err != nil {
		return nil, err
	}
	return pr, nil
}

// checkRoles makes sure the table's roles are the documented ones, so that
// the dictionary never says a column is dropped when it is published.
func checkRoles(ds Dataset, t *anonymize.Table) error {
	fields := t.Fields()
	if len(fields) != len(ds.Columns) {
		return fmt.Errorf("opendata: the table has %d columns, the declaration %d", len(fields), len(ds.Columns))
	}
	for i, f := range fields {
		if c := ds.Columns[i]; c.Name != f.Name || c.Role != f.Role {
			return fmt.Errorf("opendata: column %d is %s %q in the table but declared %s %q", i+1, f.Role, f.Name, c.Role, c.Name)
		}
	}
	return nil
}

func auditEntry(pr *prepared) auditlog.Entry {
	d := map[string]string{"dataset": pr.ds.Name}
	if pr.table != nil {
		d["method"] = MethodResults
		d["rows"] = fmt.Sprint(len(pr.table.Rows))
	} else if pr.charge != nil {
		d["method"] = MethodAggregates
		d["mechanism"] = pr.mech.Name()
		d["epsilon"] = dp.FormatRat(pr.charge.Cost.Epsilon)
		d["delta"] = dp.FormatRat(pr.charge.Cost.Delta)
	} else {
		d["method"] = MethodMicrodata
		d["k"] = fmt.Sprint(pr.result.K)
		d["l"] = fmt.Sprint(pr.result.L)
		d["rows"] = fmt.Sprint(pr.result.Rows)
	}
	return auditlog.Entry{Action: "opendata.released", Detail: d}
}
