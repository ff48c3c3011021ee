package opendata

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/privacy/anonymize"
	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

var testNow = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

// seed stores accounts and security events with known counts.
func seed(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	n := 0
	addAccounts := func(month time.Time, locale string, count int) {
		for range count {
			n++
			if _, err := db.Exec(ctx, `INSERT INTO accounts (email, password_hash, locale, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?)`,
				fmt.Sprintf("person%d@example.org", n), "x", locale, store.Micros(month.Add(time.Duration(n)*time.Minute)), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	addAccounts(time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC), "be", 60)
	addAccounts(time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC), "", 5)
	addAccounts(time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC), "ru", 7)
	addAccounts(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), "en", 9) // current month: not published yet
	addAccounts(time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC), "en", 4)  // before the window
	addEvent := func(at time.Time, kind, ip, account string) {
		// The address is stored only sealed and as a blind index; any
		// bytes unique to the address stand for the index here.
		if _, err := db.Exec(ctx, `INSERT INTO security_events (at, kind, ip, ip_index, account) VALUES (?, ?, '', ?, ?)`,
			store.Micros(at), kind, []byte("index of "+ip), account); err != nil {
			t.Fatal(err)
		}
	}
	day := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	for i := range 10 { // one address, ten failed sign-ins: counted 3
		addEvent(day.Add(time.Duration(i)*time.Minute), "signin_failed", "203.0.113.7", "")
	}
	for i := range 20 { // twenty addresses, one each
		addEvent(day.Add(time.Duration(i)*time.Second), "signin_failed", fmt.Sprintf("198.51.100.%d", i), "")
	}
	addEvent(day, "mfa_failed", "203.0.113.9", "account:abc")
	addEvent(day, "something_new", "203.0.113.9", "account:def")
}

func TestCountsAreExactAndBoundedBeforeNoise(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seed(t, db)
		ctx := context.Background()
		acc, err := countAccounts(ctx, db, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(acc.Keys) != accountMonths*4 || acc.Keys[0][0] != "2024-11" || acc.Keys[len(acc.Keys)-1][0] != "2026-10" {
			t.Fatalf("grid %d cells from %v to %v", len(acc.Keys), acc.Keys[0], acc.Keys[len(acc.Keys)-1])
		}
		want := map[string]int64{"2026-10/be": 60, "2026-10/other": 5, "2025-01/ru": 7}
		var total int64
		for i, k := range acc.Keys {
			total += acc.Values[i]
			if w, ok := want[k[0]+"/"+k[1]]; ok && acc.Values[i] != w {
				t.Errorf("%v = %d, want %d", k, acc.Values[i], w)
			}
		}
		if total != 72 {
			t.Errorf("total %d accounts in the window, want 72", total)
		}
		ev, err := countSecurityEvents(ctx, db, testNow)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for i, k := range ev.Keys {
			if ev.Values[i] != 0 {
				got[k[0]+"/"+k[1]] = ev.Values[i]
			}
		}
		if w := map[string]int64{"2026-11-10/signin_failed": 23, "2026-11-10/mfa_failed": 1, "2026-11-10/other": 1}; fmt.Sprint(got) != fmt.Sprint(w) {
			t.Fatalf("event counts %v, want %v (ten events of one address count 3)", got, w)
		}
		if len(ev.Keys) != eventDays*(len(eventKinds)+1) {
			t.Fatalf("event grid has %d cells", len(ev.Keys))
		}
	})
}

type recordingAuditor struct{ entries []auditlog.Entry }

func (a *recordingAuditor) Append(_ context.Context, _ *store.Tx, e auditlog.Entry) error {
	a.entries = append(a.entries, e)
	return nil
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func allDatasets(rows int) []Dataset {
	return append(Default().Datasets(), SyntheticResidents(rows))
}

func TestExportWritesDataJSONAndDictionaryForEveryDataset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seed(t, db)
		ctx := context.Background()
		audit := &recordingAuditor{}
		e := &Exporter{DB: db, Ledger: dp.NewLedger(db), Audit: audit}
		out := filepath.Join(t.TempDir(), "open-data")
		sums, err := e.Export(ctx, allDatasets(3000), Params{Now: testNow}, out)
		if err != nil {
			t.Fatal(err)
		}
		if len(sums) != 3 || len(audit.entries) != 3 || audit.entries[0].Action != "opendata.released" {
			t.Fatalf("summaries %+v, audit %+v", sums, audit.entries)
		}
		names, _ := filepath.Glob(filepath.Join(out, "*"))
		for i := range names {
			names[i] = filepath.Base(names[i])
		}
		slices.Sort(names)
		want := []string{"README.txt"}
		for _, d := range []string{"accounts-by-month", "security-events-by-day", "synthetic-residents"} {
			want = append(want, d+".csv", d+".dictionary.json", d+".json")
		}
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Fatalf("files %v, want %v", names, want)
		}

		// DP counts: the grid, near the truth, the budget in the dictionary
		recs := readCSV(t, filepath.Join(out, "accounts-by-month.csv"))
		if !slices.Equal(recs[0], []string{"month", "locale", "count"}) || len(recs) != 1+accountMonths*4 {
			t.Fatalf("accounts CSV header %v, %d rows", recs[0], len(recs))
		}
		for _, r := range recs[1:] {
			if r[0] == "2026-10" && r[1] == "be" {
				n, _ := strconv.Atoi(r[2])
				if n < 60-40 || n > 60+40 { // scale 2: P(|noise| > 40) < 1e-8
					t.Errorf("noisy count %d for a true 60", n)
				}
			}
		}
		var js struct {
			Columns []string         `json:"columns"`
			Records []map[string]any `json:"records"`
		}
		readJSON(t, filepath.Join(out, "accounts-by-month.json"), &js)
		if len(js.Records) != len(recs)-1 || fmt.Sprint(js.Records[0]["count"]) != recs[1][2] || js.Records[0]["month"] != recs[1][0] {
			t.Fatalf("JSON differs from CSV: %d records, first %v vs %v", len(js.Records), js.Records[0], recs[1])
		}
		var dict struct {
			Columns []struct{ Name, Role string }
			Method  struct {
				Mechanism   string
				Epsilon     string
				Sensitivity int64
				Budget      map[string]any
			}
		}
		readJSON(t, filepath.Join(out, "accounts-by-month.dictionary.json"), &dict)
		if dict.Method.Mechanism != "discrete-laplace" || dict.Method.Epsilon != "0.5" || dict.Method.Budget["epsilon_spent"] != "0.5" ||
			dict.Method.Budget["epsilon_remaining"] != "3.5" || len(dict.Columns) != 3 {
			t.Fatalf("dictionary %+v", dict)
		}

		// microdata: no direct identifiers anywhere, k-anonymous, loss reported
		for _, name := range want {
			b, _ := os.ReadFile(filepath.Join(out, name))
			if strings.Contains(string(b), "R0000") || strings.Contains(string(b), "Kavalenka") || strings.Contains(string(b), "@example.org") {
				t.Fatalf("%s carries a direct identifier", name)
			}
		}
		mrecs := readCSV(t, filepath.Join(out, "synthetic-residents.csv"))
		if !slices.Equal(mrecs[0], []string{"birth_year", "district", "gender", "topic"}) || len(mrecs) != 3001 {
			t.Fatalf("microdata header %v, %d rows", mrecs[0], len(mrecs))
		}
		classes := map[string]map[string]int{}
		for _, r := range mrecs[1:] {
			key := strings.Join(r[:3], "|")
			if classes[key] == nil {
				classes[key] = map[string]int{}
			}
			classes[key][r[3]]++
		}
		for key, topics := range classes {
			n := 0
			for _, c := range topics {
				n += c
			}
			if n < 10 || len(topics) < 2 {
				t.Fatalf("class %s: %d rows, %d topics", key, n, len(topics))
			}
		}
		var mdict struct {
			Dropped []struct{ Name string } `json:"dropped_columns"`
			Method  struct {
				K, L int
				Loss struct {
					NCP     float64 `json:"ncp"`
					Classes int     `json:"equivalence_classes"`
				} `json:"information_loss"`
			}
		}
		readJSON(t, filepath.Join(out, "synthetic-residents.dictionary.json"), &mdict)
		if len(mdict.Dropped) != 2 || mdict.Method.K != 10 || mdict.Method.L != 2 || mdict.Method.Loss.NCP <= 0 || mdict.Method.Loss.Classes != len(classes) {
			t.Fatalf("microdata dictionary %+v (classes in CSV %d)", mdict, len(classes))
		}
	})
}

// nothingChanged checks that a refused export left no output, no temporary
// directory and no budget row.
func nothingChanged(t *testing.T, db *store.DB, out string, datasets ...string) {
	t.Helper()
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("output %s exists after a refused export: %v", out, err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".open-data-*"))
	if len(left) > 0 {
		t.Fatalf("temporary directories left: %v", left)
	}
	for _, d := range datasets {
		if b, err := dp.NewLedger(db).Budget(context.Background(), d); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("dataset %s has budget %+v after a refused export (%v)", d, b, err)
		}
	}
}

func TestExportWithAKTheDataCannotMeetWritesNothingAndSpendsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seed(t, db)
		e := &Exporter{DB: db, Ledger: dp.NewLedger(db)}
		out := filepath.Join(t.TempDir(), "open-data")
		_, err := e.Export(context.Background(), allDatasets(50), Params{K: 60, Now: testNow}, out)
		var ue *anonymize.UnsatisfiableError
		if !errors.As(err, &ue) || ue.K != 60 || ue.Rows != 50 || !strings.Contains(err.Error(), `"synthetic-residents"`) {
			t.Fatalf("error %v, want an UnsatisfiableError naming the dataset, k=60 and 50 rows", err)
		}
		nothingChanged(t, db, out, "accounts-by-month", "security-events-by-day")
		_, err = e.Export(context.Background(), allDatasets(50), Params{L: 13, Now: testNow}, out)
		if !errors.Is(err, anonymize.ErrUnsatisfiable) || !strings.Contains(err.Error(), "l=13") {
			t.Fatalf("error %v, want ErrUnsatisfiable for l=13", err)
		}
		nothingChanged(t, db, out, "accounts-by-month", "security-events-by-day")
	})
}

func TestExportRefusedOnceTheBudgetIsSpent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seed(t, db)
		ctx := context.Background()
		e := &Exporter{DB: db, Ledger: dp.NewLedger(db)}
		dir := t.TempDir()
		ds := Default().Datasets()
		if _, err := e.Export(ctx, ds[:1], Params{Epsilon: big.NewRat(3, 1), Now: testNow}, filepath.Join(dir, "1")); err != nil {
			t.Fatal(err)
		}
		// 1 of 4 left: both datasets asked, only the first is short; neither is charged
		out := filepath.Join(dir, "2")
		_, err := e.Export(ctx, ds, Params{Epsilon: big.NewRat(2, 1), Now: testNow}, out)
		var be *dp.BudgetExhaustedError
		if !errors.As(err, &be) || be.Dataset != "accounts-by-month" || be.Remaining.Epsilon.RatString() != "1" {
			t.Fatalf("error %v, want BudgetExhaustedError for accounts-by-month with 1 left", err)
		}
		nothingChanged(t, db, out, "security-events-by-day")
		b, _ := dp.NewLedger(db).Budget(ctx, "accounts-by-month")
		if b.Spent.Epsilon.RatString() != "3" || b.Releases != 1 {
			t.Fatalf("budget after the refusal: %+v", b)
		}
		// exactly what is left still goes
		if _, err := e.Export(ctx, ds[:1], Params{Epsilon: big.NewRat(1, 1), Now: testNow}, out); err != nil {
			t.Fatal(err)
		}
	})
}

func TestExportGaussianChargesItsEpsilonAndDelta(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seed(t, db)
		ctx := context.Background()
		e := &Exporter{DB: db, Ledger: dp.NewLedger(db)}
		out := filepath.Join(t.TempDir(), "g")
		sums, err := e.Export(ctx, Default().Datasets()[:1], Params{Mechanism: "gaussian", Rho: big.NewRat(1, 50), Now: testNow}, out)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := dp.ZCDPToEpsilon(big.NewRat(1, 50), big.NewRat(1, 10_000_000))
		if sums[0].Mechanism != "discrete-gaussian" || sums[0].Budget.Spent.Epsilon.Cmp(want) != 0 || sums[0].Budget.Spent.Delta.RatString() != "1/10000000" {
			t.Fatalf("summary %+v", sums[0])
		}
		if _, err := e.Export(ctx, Default().Datasets()[:1], Params{Mechanism: "gaussian", Now: testNow}, filepath.Join(t.TempDir(), "x")); !errors.Is(err, dp.ErrInvalidParameter) {
			t.Fatalf("Gaussian without ρ: %v", err)
		}
	})
}

func TestExportRefusesANonEmptyOutputDirectory(t *testing.T) {
	db := storetest.SQLite(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "old.csv"), []byte("x"), 0o644)
	e := &Exporter{DB: db, Ledger: dp.NewLedger(db)}
	if _, err := e.Export(context.Background(), Default().Datasets(), Params{}, dir); !errors.Is(err, ErrOutputExists) {
		t.Fatalf("error %v, want ErrOutputExists", err)
	}
	// an empty existing directory is fine
	empty := t.TempDir()
	if _, err := e.Export(context.Background(), Default().Datasets(), Params{}, empty); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(empty, "README.txt")); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryChecksDeclarations(t *testing.T) {
	ok := SyntheticResidents(10)
	tests := []struct {
		name   string
		change func(*Dataset)
	}{
		{"bad name", func(d *Dataset) { d.Name = "Bad Name" }},
		{"both methods", func(d *Dataset) { d.Aggregates = AccountsByMonth().Aggregates }},
		{"no method", func(d *Dataset) { d.Microdata = nil }},
		{"no title", func(d *Dataset) { d.Title = "" }},
		{"undocumented column", func(d *Dataset) { d.Columns = append(slices.Clone(d.Columns), ColumnDoc{Name: "x"}) }},
		{"k below 2", func(d *Dataset) { m := *d.Microdata; m.K = 1; d.Microdata = &m }},
		{"aggregates without budget", func(d *Dataset) {
			*d = AccountsByMonth()
			a := *d.Aggregates
			a.Budget = dp.Cost{}
			d.Aggregates = &a
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ok
			tt.change(&d)
			if err := (&Registry{}).Register(d); err == nil {
				t.Fatal("registered")
			}
		})
	}
	r := &Registry{}
	if err := r.Register(ok); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(ok); err == nil {
		t.Fatal("registered twice")
	}
	if _, err := r.Lookup("nope"); !errors.Is(err, ErrUnknownDataset) {
		t.Fatalf("lookup: %v", err)
	}
}

func TestDeclaredRolesMustMatchTheTable(t *testing.T) {
	db := storetest.SQLite(t)
	d := SyntheticResidents(100)
	d.Columns = slices.Clone(d.Columns)
	d.Columns[1].Role = anonymize.Other // the table drops full_name; the dictionary would say it is published
	e := &Exporter{DB: db, Ledger: dp.NewLedger(db)}
	_, err := e.Export(context.Background(), []Dataset{d}, Params{}, filepath.Join(t.TempDir(), "o"))
	if err == nil || !strings.Contains(err.Error(), "full_name") {
		t.Fatalf("error %v, want a role mismatch on full_name", err)
	}
}
