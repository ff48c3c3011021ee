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
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			ristretto255.NewIdentityElement().ScalarBaseMult(s)
		}
		cpu.report(1, "op")
	})
	b.Run("ScalarMult", func(b *testing.B) {
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			ristretto255.NewIdentityElement().ScalarMult(s, p)
		}
		cpu.report(1, "op")
	})
	b.Run("VarTimeDoubleBase", func(b *testing.B) {
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			ristretto255.NewIdentityElement().VarTimeDoubleScalarBaseMult(s, p, t)
		}
		cpu.report(1, "op")
	})
	b.Run("Decode", func(b *testing.B) {
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			DecodeElement(enc)
		}
		cpu.report(1, "op")
	})
	b.Run("Encode", func(b *testing.B) {
		var buf [32]byte
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			p.Encode(buf[:0])
		}
		cpu.report(1, "op")
	})
	short := make([]*ristretto255.Scalar, 128)
	shortPoints := make([]*ristretto255.Element, 128)
	for i := range short {
		var w [32]byte
		rnd.Read(w[:16])
		short[i], _ = ristretto255.NewScalar().SetCanonicalBytes(w[:])
		shortPoints[i] = p
	}
	b.Run("MSM128-of-128-bit-scalars", func(b *testing.B) {
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			ristretto255.NewIdentityElement().VarTimeMultiScalarMult(short, shortPoints)
		}
		cpu.report(128, "point")
	})
	for _, n := range []int{64, 128, 256, 1024, 4096} {
		ss := make([]*ristretto255.Scalar, n)
		ps := make([]*ristretto255.Element, n)
		for i := range ss {
			ss[i], _ = RandomScalar(rnd)
			ps[i] = ristretto255.NewIdentityElement().ScalarBaseMult(ss[i])
		}
		b.Run("MSM"+itoa(n), func(b *testing.B) {
			cpu := startCPU(b)
			for i := 0; i < b.N; i++ {
				ristretto255.NewIdentityElement().VarTimeMultiScalarMult(ss, ps)
			}
			cpu.report(float64(n), "point")
		})
	}
}
