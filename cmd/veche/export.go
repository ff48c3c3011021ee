package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/veche/veche/internal/app"
	"github.com/veche/veche/internal/participation/results"
	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/privacy/opendata"
)

func init() {
	register(command{Name: "export", Summary: "publish anonymised open data: 'veche export open-data --out DIR'", Run: runExport})
}

const exportUsage = "veche export open-data --out DIR [--dataset NAME[,NAME]] [--k 10] [--l 2] [--epsilon 0.5] [--mechanism laplace|gaussian --rho R] [--synthetic-rows N]"

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "open-data" {
		return fmt.Errorf("%w: %s", errUsage, exportUsage)
	}
	var cfg app.Config
	fs := newFlagSet("export open-data", stderr)
	cfg.BindFlags(fs)
	out := fs.String("out", "", "directory to write the export to; must not exist or be empty (required)")
	names := fs.String("dataset", "", "comma-separated datasets to export (default: all); see docs/open-data.md")
	k := fs.Int("k", 10, "microdata: every combination of quasi-identifiers is shared by at least k rows")
	l := fs.Int("l", 2, "microdata: every class has at least l distinct sensitive values (0 or 1: off)")
	epsilon := fs.String("epsilon", "0.5", "counts: ε of the discrete Laplace noise, charged to each dataset's privacy budget (decimal or fraction)")
	mechanism := fs.String("mechanism", "laplace", "counts: noise mechanism, laplace (ε-DP) or gaussian (ρ-zCDP, needs --rho)")
	rho := fs.String("rho", "", "counts: ρ of the discrete Gaussian noise")
	synthetic := fs.Int("synthetic-rows", 0, "also export the synthetic-residents test dataset with this many fake rows (k-anonymous microdata)")
	if err := parseFlags(fs, args[1:], app.ApplyEnv); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	if *k < 2 {
		return fmt.Errorf("%w: --k %d: k-anonymity needs k of at least 2", errUsage, *k)
	}
	if *l < 0 {
		return fmt.Errorf("%w: --l %d is negative", errUsage, *l)
	}
	if *synthetic < 0 {
		return fmt.Errorf("%w: --synthetic-rows %d is negative", errUsage, *synthetic)
	}
	p := opendata.Params{K: *k, L: *l, Mechanism: *mechanism}
	var err error
	if p.Epsilon, err = dp.ParseRat(*epsilon); err != nil {
		return fmt.Errorf("%w: --epsilon: %v", errUsage, err)
	}
	if _, err := dp.NewLaplace(p.Epsilon, 1); err != nil {
		return fmt.Errorf("%w: --epsilon: %v", errUsage, err)
	}
	switch *mechanism {
	case "laplace":
	case "gaussian":
		if *rho == "" {
			return fmt.Errorf("%w: --mechanism gaussian needs --rho", errUsage)
		}
		if p.Rho, err = dp.ParseRat(*rho); err != nil {
			return fmt.Errorf("%w: --rho: %v", errUsage, err)
		}
		if _, err := dp.NewGaussian(p.Rho, 1); err != nil {
			return fmt.Errorf("%w: --rho: %v", errUsage, err)
		}
	default:
		return fmt.Errorf("%w: --mechanism %q: laplace or gaussian", errUsage, *mechanism)
	}
	in, err := openQuiet(ctx, cfg)
	if err != nil {
		return err
	}
	defer in.Close()
	reg := opendata.Default()
	results.Register(reg, in.Participation)
	if *synthetic > 0 {
		reg.MustRegister(opendata.SyntheticResidents(*synthetic))
	}
	datasets := reg.Datasets()
	if *names != "" {
		datasets = nil
		for _, n := range strings.Split(*names, ",") {
			d, err := reg.Lookup(strings.TrimSpace(n))
			if err != nil {
				return fmt.Errorf("%w: --dataset: %v", errUsage, err)
			}
			datasets = append(datasets, d)
		}
	}
	e := &opendata.Exporter{DB: in.DB, Ledger: dp.NewLedger(in.DB), Audit: in.Log}
	sums, err := e.Export(ctx, datasets, p, *out)
	if err != nil {
		if errors.Is(err, dp.ErrBudgetExhausted) || errors.Is(err, dp.ErrLedgerHeld) {
			return fmt.Errorf("%w\nnothing was written", err)
		}
		return fmt.Errorf("%w\nnothing was written and no privacy budget was spent", err)
	}
	// Sequence the audit entries now, so the log shows the release even if
	// no server is running.
	if _, err := in.Log.Sequence(ctx); err != nil {
		fmt.Fprintf(stderr, "the export is written, but the audit log could not be sequenced yet: %v\n", err)
	}
	fmt.Fprintf(stdout, "wrote %d datasets to %s\n", len(sums), *out)
	spent := false
	for _, s := range sums {
		if s.Method == opendata.MethodResults {
			fmt.Fprintf(stdout, "  %-24s published results of closed spaces: %d rows\n", s.Dataset, s.Rows)
			continue
		}
		if s.Loss != nil {
			fmt.Fprintf(stdout, "  %-24s k-anonymous microdata: %d rows, k=%d l=%d, %d classes, NCP %.4f\n",
				s.Dataset, s.Rows, s.K, s.L, s.Loss.Classes, s.Loss.NCP)
			continue
		}
		left := s.Budget.Remaining()
		fmt.Fprintf(stdout, "  %-24s %s counts: %d cells, spent ε=%s (δ=%s), budget left ε=%s (δ=%s)\n",
			s.Dataset, s.Mechanism, s.Rows, dp.FormatRat(s.Cost.Epsilon), dp.FormatRat(s.Cost.Delta),
			dp.FormatRat(left.Epsilon), dp.FormatRat(left.Delta))
		spent = true
	}
	if spent {
		// A data backup restored later must not forget this release.
		fmt.Fprintln(stdout, "privacy budgets spent: make a key backup now ('veche backup keys'); it carries the ledger of releases (docs/backup.md)")
	}
	return nil
}
