//go:build unix

package voting

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time used by the process so far. The benchmarks
// report it beside wall time because the machine they run on is shared:
// CPU time per operation is the cost, wall time includes waiting.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter reports the CPU time per unit of a benchmark.
type cpuMeter struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) *cpuMeter {
	b.ResetTimer()
	return &cpuMeter{b: b, start: cpuTime()}
}

// report adds "cpu-µs/<unit>" for units per operation.
func (m *cpuMeter) report(units float64, unit string) {
	used := cpuTime() - m.start
	m.b.ReportMetric(float64(used.Nanoseconds())/float64(m.b.N)/units/1e3, "cpu-µs/"+unit)
}
