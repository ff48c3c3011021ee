package anonymize_test

import (
	"bufio"
	"encoding/csv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/privacy/anonymize"
	"github.com/veche/veche/internal/privacy/anonymize/synthetic"
)

// peakRSS returns the process's peak resident set size (VmHWM in
// /proc/self/status) in bytes, or 0 where there is no /proc.
func peakRSS(tb testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				tb.Fatalf("VmHWM line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS starts a new peak-RSS measurement (Linux: writing 5 to
// /proc/self/clear_refs resets VmHWM to the current RSS).
func resetPeakRSS() {
	runtime.GC()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// BenchmarkAnonymizeMillion measures the target: an anonymised
// export of 1,000,000 synthetic rows with k = 10 (and l = 2 on the topic),
// written as CSV, under 60 s and 2 GiB. Run it alone so that the peak RSS
// is its own:
//
//	go test -run '^$' -bench AnonymizeMillion -benchtime 1x ./internal/privacy/anonymize/
//
// "residents" is synthetic.Residents (birth year, district, gender: about
// 13,000 distinct combinations, so classes cannot get near k); "fine" has
// a birth date to the day (32,000 values) instead of the year, so Mondrian
// cuts down to classes of k to 2k−1 rows.
func BenchmarkAnonymizeMillion(b *testing.B) {
	b.Run("residents", func(b *testing.B) {
		benchmarkExport(b, func(seed uint64) *anonymize.Table { return synthetic.Residents(1_000_000, seed) }, synthetic.QuasiIdentifiers())
	})
	qi := synthetic.QuasiIdentifiers()
	qi[0].Name = "birth_day"
	b.Run("fine", func(b *testing.B) { benchmarkExport(b, fineResidents, qi) })
}

// fineResidents is 1,000,000 rows with the birth date as a day number.
func fineResidents(seed uint64) *anonymize.Table {
	rng := rand.New(rand.NewPCG(seed, 1))
	tb, err := anonymize.NewTable(
		anonymize.Field{Name: "resident_id", Role: anonymize.DirectIdentifier},
		anonymize.Field{Name: "birth_day", Role: anonymize.QuasiIdentifier},
		anonymize.Field{Name: "district", Role: anonymize.QuasiIdentifier},
		anonymize.Field{Name: "gender", Role: anonymize.QuasiIdentifier},
		anonymize.Field{Name: "topic", Role: anonymize.Sensitive})
	if err != nil {
		panic(err)
	}
	leaves := synthetic.Hierarchy().Leaves()
	days := make([]string, 32_000)
	for i := range days {
		days[i] = strconv.Itoa(i)
	}
	tb.Grow(1_000_000)
	for i := range 1_000_000 {
		tb.Append("R"+strconv.Itoa(i), days[rng.IntN(len(days))], leaves[rng.IntN(len(leaves))],
			synthetic.Genders[rng.IntN(len(synthetic.Genders))], synthetic.Topics[rng.IntN(len(synthetic.Topics))])
	}
	return tb
}

func benchmarkExport(b *testing.B, build func(seed uint64) *anonymize.Table, qi []anonymize.Column) {
	dir := b.TempDir()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		resetPeakRSS()
		start := time.Now()
		tb := build(uint64(i))
		built := time.Now()
		r, err := anonymize.Anonymize(tb, anonymize.Config{K: 10, L: 2, Sensitive: "topic", QuasiIdentifiers: qi})
		if err != nil {
			b.Fatal(err)
		}
		anonymised := time.Now()
		f, err := os.Create(filepath.Join(dir, "residents.csv"))
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		w := csv.NewWriter(bw)
		for rec := range r.Records() {
			w.Write(rec)
		}
		w.Flush()
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		done := time.Now()
		b.ReportMetric(built.Sub(start).Seconds(), "build-s")
		b.ReportMetric(anonymised.Sub(built).Seconds(), "anonymize-s")
		b.ReportMetric(done.Sub(anonymised).Seconds(), "csv-s")
		b.ReportMetric(done.Sub(start).Seconds(), "total-s")
		b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(r.Loss.NCP, "NCP")
		b.ReportMetric(r.Loss.NormalizedAverageClassSize, "C_AVG")
		b.ReportMetric(float64(r.Loss.Classes), "classes")
	}
}
