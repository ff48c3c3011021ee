// Package opendata publishes veche's open data: a registry of datasets,
// each declaring its columns (description, unit, role) and how it is
// released, and an [Exporter] that writes every dataset as CSV, as JSON
// and with a data dictionary.
//
// A dataset is released in one of three ways:
//
//   - k-anonymous microdata (package anonymize): one row per person, direct
//     identifiers dropped, quasi-identifiers generalised by Mondrian until
//     every combination is shared by at least k rows with at least l
//     distinct sensitive values; the dictionary reports the information
//     lost;
//   - differentially private aggregates (package dp): counts over a fixed
//     grid of cells, each with discrete Laplace (or discrete Gaussian)
//     noise, charged to the dataset's privacy budget; the dictionary
//     reports ε spent and what remains;
//   - published results: totals that public pages already show exactly,
//     such as the results of closed participation spaces (signatures per
//     petition, votes per budget project), released as they are. They
//     hold no row per person and nothing a person wrote, so they need
//     neither generalisation nor noise; the dictionary says where each
//     total is published.
//
// An export is all or nothing: every dataset is computed and written to a
// temporary directory, the budgets are charged in one transaction with an
// audit entry per dataset, and only then is the directory renamed into
// place. A k the data cannot meet, a budget that would be overspent, a
// ledger on hold after a restore (dp.ErrLedgerHeld) or any other failure
// leaves no output and charges nothing.
package opendata

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"time"

	"github.com/veche/veche/internal/privacy/anonymize"
	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/store"
)

// ColumnDoc documents one published column for the data dictionary.
type ColumnDoc struct {
	Name        string
	Description string
	Unit        string // e.g. "accounts", "year"; "" when none applies
	Type        string // "integer", "string", "month (YYYY-MM)", ...
	Role        anonymize.Role
}

// Dataset is one entry of the registry. Exactly one of Microdata,
// Aggregates and Results is set.
type Dataset struct {
	// Name is the file name stem: lowercase words joined by '-'.
	Name        string
	Title       string
	Description string
	// Columns documents every column of the source, direct identifiers
	// included (they are listed as dropped).
	Columns    []ColumnDoc
	Microdata  *Microdata
	Aggregates *Aggregates
	Results    *Results
}

// Results releases totals already published exactly on public pages.
// Only totals belong here (counts, sums, outcomes decided by officials,
// texts the public body wrote): never a row per person, nor text a person
// wrote, which would outlive its author's erasure in every copy of the
// export.
type Results struct {
	// Load returns the rows, one value per column of the dataset.
	Load func(ctx context.Context, db *store.DB, now time.Time) (Table, error)
	// Source says where the same totals are published, for the
	// dictionary, e.g. "the results page of each closed petition space".
	Source string
}

// Table is the rows of a Results dataset. Numeric marks the columns
// written as JSON numbers; Window describes what the rows cover.
type Table struct {
	Numeric []bool
	Rows    [][]string
	Window  string
}

// Microdata releases rows as k-anonymous, l-diverse microdata.
type Microdata struct {
	// Load reads the rows. The table's roles must agree with Columns.
	Load             func(ctx context.Context, db *store.DB) (*anonymize.Table, error)
	QuasiIdentifiers []anonymize.Column
	Sensitive        string
	K, L             int // defaults, overridden by Params
}

// Aggregates releases counts with differential privacy.
type Aggregates struct {
	// Count returns the true count of every cell of a grid fixed in
	// advance (never one that depends on which cells are non-empty), and a
	// sentence describing the window, e.g. "the 24 whole months before
	// 2026-11".
	Count func(ctx context.Context, db *store.DB, now time.Time) (Counts, error)
	// Sensitivity bounds how much one privacy unit can change the counts:
	// the sum of the changes (L1, for Laplace), which also bounds their
	// Euclidean norm (L2, for the Gaussian).
	Sensitivity int64
	// PrivacyUnit says whom the guarantee protects and how contributions
	// are bounded, for the dictionary.
	PrivacyUnit string
	// Epsilon is the default ε of one Laplace release.
	Epsilon *big.Rat
	// Budget is the dataset's total (ε, δ), set at its first release.
	Budget dp.Cost
	// ReleaseDelta is the δ charged for one Gaussian release.
	ReleaseDelta *big.Rat
}

// Counts is a grid of true counts: Keys[i] names cell i with one value per
// key column, Values[i] is its count.
type Counts struct {
	KeyColumns []string
	Keys       [][]string
	Values     []int64
	Window     string
}

// Registry holds the datasets an export can publish.
type Registry struct {
	datasets []Dataset
}

var nameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ErrUnknownDataset is returned for a dataset name not in the registry.
var ErrUnknownDataset = errors.New("unknown dataset")

// Register adds d, checking its declaration.
func (r *Registry) Register(d Dataset) error {
	switch {
	case !nameRE.MatchString(d.Name) || len(d.Name) > 64:
		return fmt.Errorf("opendata: dataset name %q must be lowercase words joined by '-'", d.Name)
	case slices.ContainsFunc(r.datasets, func(x Dataset) bool { return x.Name == d.Name }):
		return fmt.Errorf("opendata: dataset %q registered twice", d.Name)
	case countSet(d.Microdata != nil, d.Aggregates != nil, d.Results != nil) != 1:
		return fmt.Errorf("opendata: dataset %q must be exactly one of microdata, aggregates and results", d.Name)
	case d.Title == "" || d.Description == "" || len(d.Columns) == 0:
		return fmt.Errorf("opendata: dataset %q needs a title, a description and its columns", d.Name)
	}
	for _, c := range d.Columns {
		if c.Name == "" || c.Description == "" {
			return fmt.Errorf("opendata: dataset %q: every column needs a name and a description", d.Name)
		}
	}
	if a := d.Aggregates; a != nil {
		if a.Count == nil || a.Sensitivity < 1 || a.PrivacyUnit == "" || a.Epsilon == nil || a.Budget.Epsilon == nil || a.Budget.Delta == nil || a.ReleaseDelta == nil {
			return fmt.Errorf("opendata: dataset %q: aggregates need Count, Sensitivity, PrivacyUnit, Epsilon, Budget and ReleaseDelta", d.Name)
		}
	}
	if res := d.Results; res != nil && (res.Load == nil || res.Source == "") {
		return fmt.Errorf("opendata: dataset %q: results need Load and Source", d.Name)
	}
	if m := d.Microdata; m != nil && (m.Load == nil || m.K < 2) {
		return fmt.Errorf("opendata: dataset %q: microdata need Load and a default k of at least 2", d.Name)
	}
	r.datasets = append(r.datasets, d)
	return nil
}

func countSet(set ...bool) int {
	n := 0
	for _, b := range set {
		if b {
			n++
		}
	}
	return n
}

// MustRegister is Register for declarations in code; it panics on an
// error.
func (r *Registry) MustRegister(d Dataset) {
	if err := r.Register(d); err != nil {
		panic(err)
	}
}

// Datasets returns the registered datasets in registration order.
func (r *Registry) Datasets() []Dataset { return slices.Clone(r.datasets) }

// Lookup returns the named dataset.
func (r *Registry) Lookup(name string) (Dataset, error) {
	for _, d := range r.datasets {
		if d.Name == name {
			return d, nil
		}
	}
	var names []string
	for _, d := range r.datasets {
		names = append(names, d.Name)
	}
	return Dataset{}, fmt.Errorf("%w %q (datasets: %v)", ErrUnknownDataset, name, names)
}
