package dp

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func TestParseRat(t *testing.T) {
	tests := []struct {
		in   string
		want string // RatString, "" = error
	}{
		{"0.5", "1/2"},
		{"1/3", "1/3"},
		{"1e-6", "1/1000000"},
		{" 2 ", "2"},
		{"0", "0"},
		{"-1", ""},
		{"abc", ""},
		{"", ""},
		{"1e1000000", ""},
		{"1/0", ""},
		{"0.1234567890123456789012345678901234567890123", ""},
	}
	for _, tt := range tests {
		got, err := ParseRat(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ParseRat(%q) = %v, want an error", tt.in, got)
		case tt.want == "" && !errors.Is(err, ErrInvalidParameter):
			t.Errorf("ParseRat(%q) error %v, want ErrInvalidParameter", tt.in, err)
		case tt.want != "" && (err != nil || got.RatString() != tt.want):
			t.Errorf("ParseRat(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatRat(t *testing.T) {
	for in, want := range map[string]string{"1/2": "0.5", "1/3": "1/3", "3": "3", "1/1000000": "0.000001", "7/4": "1.75"} {
		if got := FormatRat(rat(in)); got != want {
			t.Errorf("FormatRat(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestMechanismParametersAndCosts(t *testing.T) {
	lap, err := NewLaplace(rat("1/2"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if lap.Scale().RatString() != "6" {
		t.Errorf("Laplace scale %s, want Δ/ε = 6", lap.Scale())
	}
	c, _ := lap.Cost(nil)
	if c.Epsilon.RatString() != "1/2" || c.Delta.Sign() != 0 {
		t.Errorf("Laplace cost %s, want ε=0.5 δ=0", c)
	}
	q := math.Exp(-1.0 / 6)
	if got, want := lap.StdDev(), math.Sqrt(2*q)/(1-q); math.Abs(got-want) > 1e-12 {
		t.Errorf("Laplace stddev %v, want %v", got, want)
	}

	g, err := NewGaussian(rat("1/8"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if g.Sigma2().RatString() != "4" {
		t.Errorf("Gaussian σ² %s, want Δ²/(2ρ) = 4", g.Sigma2())
	}
	gc, err := g.Cost(rat("1/1000000"))
	if err != nil {
		t.Fatal(err)
	}
	exact := 0.125 + 2*math.Sqrt(0.125*math.Log(1e6))
	got, _ := gc.Epsilon.Float64()
	if got < exact || got > exact+3e-9 {
		t.Errorf("Gaussian ε %v, want just above %v", got, exact)
	}
	if gc.Delta.RatString() != "1/1000000" {
		t.Errorf("Gaussian δ %s", gc.Delta)
	}

	bad := []func() error{
		func() error { _, err := NewLaplace(rat("0"), 1); return err },
		func() error { _, err := NewLaplace(rat("101"), 1); return err },
		func() error { _, err := NewLaplace(nil, 1); return err },
		func() error { _, err := NewLaplace(rat("1"), 0); return err },
		func() error { _, err := NewGaussian(rat("0"), 1); return err },
		func() error { _, err := NewGaussian(rat("1"), -1); return err },
		func() error { _, err := g.Cost(rat("0")); return err },
		func() error { _, err := g.Cost(rat("1")); return err },
	}
	for i, f := range bad {
		if err := f(); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("case %d: error %v, want ErrInvalidParameter", i, err)
		}
	}
}

func TestReleaseAddsNoiseFromCryptoRand(t *testing.T) {
	lap, _ := NewLaplace(rat("1"), 1)
	g, _ := NewGaussian(rat("1/2"), 1)
	values := make([]int64, 2000)
	for i := range values {
		values[i] = 1000
	}
	for _, m := range []Mechanism{lap, g} {
		out, err := m.Release(values)
		if err != nil {
			t.Fatal(err)
		}
		changed, sum := 0, 0.0
		for _, v := range out {
			if v != 1000 {
				changed++
			}
			sum += float64(v - 1000)
		}
		if changed < len(values)/4 {
			t.Errorf("%s changed only %d of %d values", m.Name(), changed, len(values))
		}
		if mean := sum / float64(len(values)); math.Abs(mean) > 6*m.StdDev()/math.Sqrt(float64(len(values))) {
			t.Errorf("%s noise mean %v, stddev %v", m.Name(), mean, m.StdDev())
		}
	}
}
