package voting

import (
	"testing"

	"github.com/gtank/ristretto255"
)

func BenchmarkGroup(b *testing.B) {
	rnd := newSeededReader("prim")
	s, _ := RandomScalar(rnd)
	t, _ := RandomScalar(rnd)
	p := ristretto255.NewIdentityElement().ScalarBaseMult(s)
	enc := p.Bytes()
	b.Run("ScalarBaseMult", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ristretto255.NewIdentityElement().ScalarBaseMult(s)
		}
	})
	b.Run("ScalarMult", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ristretto255.NewIdentityElement().ScalarMult(s, p)
		}
	})
	b.Run("VarTimeDoubleBase", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ristretto255.NewIdentityElement().VarTimeDoubleScalarBaseMult(s, p, t)
		}
	})
	b.Run("Decode", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			DecodeElement(enc)
		}
	})
	b.Run("Encode", func(b *testing.B) {
		var buf [32]byte
		for i := 0; i < b.N; i++ {
			p.Encode(buf[:0])
		}
	})
	for _, n := range []int{64, 128, 256, 1024, 4096} {
		ss := make([]*ristretto255.Scalar, n)
		ps := make([]*ristretto255.Element, n)
		for i := range ss {
			ss[i], _ = RandomScalar(rnd)
			ps[i] = ristretto255.NewIdentityElement().ScalarBaseMult(ss[i])
		}
		b.Run("MSM"+itoa(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ristretto255.NewIdentityElement().VarTimeMultiScalarMult(ss, ps)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/point")
		})
	}
}
