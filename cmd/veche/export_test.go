package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/store"
)

func budgetRows(t *testing.T, dataDir string) int {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(dataDir, "veche.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM dp_budgets").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestExportOpenDataWritesEveryDataset(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "open-data")
	code, stdout, errOut := runCmd(t, "", "export", "open-data", "--data", dir, "--out", out, "--synthetic-rows", "500")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"wrote 7 datasets", "accounts-by-month", "budget left ε=3.5", "synthetic-residents", "k=10 l=2",
		"petition-results         published results of closed spaces: 0 rows"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"README.txt", "accounts-by-month.csv", "security-events-by-day.json", "synthetic-residents.dictionary.json",
		"consultation-results.csv", "budget-results.json", "survey-results.dictionary.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// one dataset, spending the rest of its budget, then one more release is refused
	out2 := filepath.Join(t.TempDir(), "o2")
	if code, _, errOut := runCmd(t, "", "export", "open-data", "--data", dir, "--out", out2, "--dataset", "accounts-by-month", "--epsilon", "3.5"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	out3 := filepath.Join(t.TempDir(), "o3")
	code, _, errOut = runCmd(t, "", "export", "open-data", "--data", dir, "--out", out3, "--dataset", "accounts-by-month", "--epsilon", "1/1000")
	if code != 1 || !strings.Contains(errOut, `"accounts-by-month" exhausted`) || !strings.Contains(errOut, "nothing was written") {
		t.Fatalf("exit %d, stderr %q; want a refusal naming the dataset", code, errOut)
	}
	if _, err := os.Stat(out3); !os.IsNotExist(err) {
		t.Fatalf("%s written after a refusal", out3)
	}
	b, err := dp.NewLedger(openDB(t, dir)).Budget(context.Background(), "accounts-by-month")
	if err != nil || b.Remaining().Epsilon.Sign() != 0 || b.Releases != 2 {
		t.Fatalf("budget %+v, %v", b, err)
	}
}

func openDB(t *testing.T, dataDir string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(dataDir, "veche.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestExportOpenDataWithAKTheDataCannotMeetChangesNothing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "open-data")
	code, _, errOut := runCmd(t, "", "export", "open-data", "--data", dir, "--out", out, "--synthetic-rows", "50", "--k", "60")
	if code != 1 || !strings.Contains(errOut, "k=60") || !strings.Contains(errOut, "fewer rows than k") || !strings.Contains(errOut, "no privacy budget was spent") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("%s exists after a refused export", out)
	}
	if n := budgetRows(t, dir); n != 0 {
		t.Fatalf("%d budgets charged by a refused export", n)
	}
}

func TestExportOpenDataUsageErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "o")
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no subcommand", []string{"export"}, "open-data --out DIR"},
		{"unknown subcommand", []string{"export", "microdata"}, "open-data --out DIR"},
		{"no out", []string{"export", "open-data", "--data", dir}, "--out is required"},
		{"k below 2", []string{"export", "open-data", "--data", dir, "--out", out, "--k", "1"}, "k of at least 2"},
		{"bad epsilon", []string{"export", "open-data", "--data", dir, "--out", out, "--epsilon", "lots"}, "--epsilon"},
		{"epsilon zero", []string{"export", "open-data", "--data", dir, "--out", out, "--epsilon", "0"}, "ε must be above 0"},
		{"unknown dataset", []string{"export", "open-data", "--data", dir, "--out", out, "--dataset", "petitions"}, `unknown dataset "petitions"`},
		{"gaussian without rho", []string{"export", "open-data", "--data", dir, "--out", out, "--mechanism", "gaussian"}, "needs --rho"},
		{"unknown mechanism", []string{"export", "open-data", "--data", dir, "--out", out, "--mechanism", "uniform"}, "laplace or gaussian"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, "", tt.args...)
			if code != 2 || !strings.Contains(errOut, tt.msg) {
				t.Fatalf("exit %d, stderr %q; want exit 2 containing %q", code, errOut, tt.msg)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a usage error wrote output")
	}
}
