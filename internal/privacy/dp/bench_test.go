package dp

import (
	"math/big"
	"testing"
)

// BenchmarkNoise measures one noisy count from crypto/rand, as an export
// draws it.
func BenchmarkNoise(b *testing.B) {
	lap1, _ := NewLaplace(big.NewRat(1, 2), 1)
	lap3, _ := NewLaplace(big.NewRat(1, 10), 3)
	gau, _ := NewGaussian(big.NewRat(1, 50), 1)
	for _, m := range []struct {
		name string
		m    Mechanism
	}{{"laplace/eps=0.5", lap1}, {"laplace/eps=0.1,sens=3", lap3}, {"gaussian/rho=0.02", gau}} {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			v := make([]int64, 1000)
			for b.Loop() {
				if _, err := m.m.Release(v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(v))/1000, "µs/value")
		})
	}
}
