//go:build !unix

package voting

import (
	"testing"
	"time"
)

var processStart = time.Now()

// cpuTime is wall time where the process's CPU time is not available
// (js/wasm, which runs on one thread).
func cpuTime() time.Duration { return time.Since(processStart) }

type cpuMeter struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) *cpuMeter {
	b.ResetTimer()
	return &cpuMeter{b: b, start: cpuTime()}
}

func (m *cpuMeter) report(units float64, unit string) {
	used := cpuTime() - m.start
	m.b.ReportMetric(float64(used.Nanoseconds())/float64(m.b.N)/units/1e3, "cpu-µs/"+unit)
}
