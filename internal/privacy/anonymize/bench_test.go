package anonymize_test

import (
	"bufio"
	"encoding/csv"
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
func BenchmarkAnonymizeMillion(b *testing.B) {
	const rows = 1_000_000
	dir := b.TempDir()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		resetPeakRSS()
		start := time.Now()
		tb := synthetic.Residents(rows, uint64(i))
		built := time.Now()
		r, err := anonymize.Anonymize(tb, anonymize.Config{K: 10, L: 2, Sensitive: "topic", QuasiIdentifiers: synthetic.QuasiIdentifiers()})
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
