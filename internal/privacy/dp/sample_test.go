package dp

import (
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// testSource is a deterministic byte stream for the statistical tests
// only; production draws from crypto/rand.
func testSource(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// chiSquareLimit is the 1 - 10⁻⁶ quantile of the χ² distribution with df
// degrees of freedom (Wilson–Hilferty approximation). A correct sampler
// fails a test against it once in a million runs, whatever the seed.
func chiSquareLimit(df int) float64 {
	const z = 4.753 // standard normal quantile at 1 - 10⁻⁶
	d := float64(df)
	h := 2 / (9 * d)
	return d * math.Pow(1-h+z*math.Sqrt(h), 3)
}

// chiSquare compares observed counts of values with an exact pmf. Values
// whose expected count is below 5 are pooled into the two tails.
func chiSquare(t *testing.T, counts map[int64]int, n int, pmf func(int64) float64, lo, hi int64) {
	t.Helper()
	stat, df := chiSquareStat(counts, n, pmf, lo, hi)
	if limit := chiSquareLimit(df); stat > limit {
		t.Fatalf("χ² = %.1f with %d degrees of freedom, above %.1f: the samples do not follow the pmf", stat, df, limit)
	} else {
		t.Logf("χ² = %.1f, df = %d, limit %.1f", stat, df, limit)
	}
}

func chiSquareStat(counts map[int64]int, n int, pmf func(int64) float64, lo, hi int64) (float64, int) {
	var stat float64
	df := -1
	var tailObs, tailExp float64
	flushTail := func() {
		if tailExp > 0 {
			stat += (tailObs - tailExp) * (tailObs - tailExp) / tailExp
			df++
		}
		tailObs, tailExp = 0, 0
	}
	// left tail: everything below lo plus leading small bins
	var seen int
	for z := lo; z <= hi; z++ {
		seen += counts[z]
	}
	tailObs = float64(n - seen) // outside [lo, hi]: pooled with the edge bins
	for z := lo; z <= hi; z++ {
		e := float64(n) * pmf(z)
		if e < 5 {
			tailObs += float64(counts[z])
			tailExp += e
			continue
		}
		stat += (float64(counts[z]) - e) * (float64(counts[z]) - e) / e
		df++
	}
	// the expected mass outside [lo, hi]
	var inside float64
	for z := lo; z <= hi; z++ {
		inside += pmf(z)
	}
	tailExp += float64(n) * (1 - inside)
	flushTail()
	return stat, df
}

func moments(t *testing.T, counts map[int64]int, n int, wantVar float64) {
	t.Helper()
	var sum, sq float64
	for z, c := range counts {
		sum += float64(z) * float64(c)
		sq += float64(z) * float64(z) * float64(c)
	}
	mean := sum / float64(n)
	variance := sq/float64(n) - mean*mean
	se := math.Sqrt(wantVar / float64(n))
	if math.Abs(mean) > 5*se {
		t.Errorf("mean %.4f, more than 5 standard errors (%.4f) from 0", mean, se)
	}
	if rel := math.Abs(variance-wantVar) / wantVar; rel > 0.03 {
		t.Errorf("variance %.4f, want %.4f (off by %.1f%%)", variance, wantVar, 100*rel)
	}
	t.Logf("mean %.4f (se %.4f), variance %.4f (theory %.4f)", mean, se, variance, wantVar)
}

const draws = 200_000

func TestBernoulliExpMatchesExpMinusGamma(t *testing.T) {
	tests := []struct {
		num, den int64
	}{
		{0, 1}, {1, 10}, {1, 2}, {1, 1}, {3, 2}, {7, 3}, {5, 1},
	}
	for i, tt := range tests {
		t.Run(big.NewRat(tt.num, tt.den).String(), func(t *testing.T) {
			s := newSampler(testSource(byte(i)))
			n := draws
			ones := 0
			for range n {
				b, err := s.bernoulliExp(big.NewInt(tt.num), big.NewInt(tt.den))
				if err != nil {
					t.Fatal(err)
				}
				if b {
					ones++
				}
			}
			p := math.Exp(-float64(tt.num) / float64(tt.den))
			if p == 1 {
				if ones != n {
					t.Fatalf("γ=0 gave %d zeros", n-ones)
				}
				return
			}
			e1, e0 := float64(n)*p, float64(n)*(1-p)
			stat := (float64(ones)-e1)*(float64(ones)-e1)/e1 + (float64(n-ones)-e0)*(float64(n-ones)-e0)/e0
			if limit := chiSquareLimit(1); stat > limit {
				t.Fatalf("%d ones in %d draws, want about %.0f (χ² = %.1f > %.1f)", ones, n, e1, stat, limit)
			}
		})
	}
}

func TestDiscreteLaplaceMatchesPMF(t *testing.T) {
	tests := []struct {
		name  string
		t, s  int64 // scale t/s
		seed  byte
		draws int
	}{
		{"scale 2 (ε=0.5, Δ=1)", 2, 1, 1, draws},
		{"scale 1/2 (ε=2, Δ=1)", 1, 2, 2, draws},
		{"scale 9 (ε=1/3, Δ=3)", 9, 1, 3, draws / 2},
		{"scale 7/3", 7, 3, 4, draws / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSampler(testSource(tt.seed))
			counts := map[int64]int{}
			z := new(big.Int)
			for range tt.draws {
				if err := s.discreteLaplace(z, big.NewInt(tt.t), big.NewInt(tt.s)); err != nil {
					t.Fatal(err)
				}
				counts[z.Int64()]++
			}
			b := float64(tt.t) / float64(tt.s)
			q := math.Exp(-1 / b)
			pmf := func(z int64) float64 { return (1 - q) / (1 + q) * math.Pow(q, math.Abs(float64(z))) }
			lim := int64(30*b) + 5
			chiSquare(t, counts, tt.draws, pmf, -lim, lim)
			moments(t, counts, tt.draws, 2*q/((1-q)*(1-q)))
		})
	}
}

func TestDiscreteGaussianMatchesPMF(t *testing.T) {
	tests := []struct {
		name     string
		num, den int64 // σ²
		seed     byte
		draws    int
	}{
		{"σ²=1", 1, 1, 11, draws},
		{"σ²=25/2", 25, 2, 12, draws},
		{"σ²=1/4", 1, 4, 13, draws / 2},
		{"σ²=200", 200, 1, 14, draws / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSampler(testSource(tt.seed))
			counts := map[int64]int{}
			z := new(big.Int)
			for range tt.draws {
				if err := s.discreteGaussian(z, big.NewInt(tt.num), big.NewInt(tt.den)); err != nil {
					t.Fatal(err)
				}
				counts[z.Int64()]++
			}
			sigma2 := float64(tt.num) / float64(tt.den)
			lim := int64(12*math.Sqrt(sigma2)) + 5
			var norm, second float64
			for z := -lim; z <= lim; z++ {
				w := math.Exp(-float64(z*z) / (2 * sigma2))
				norm += w
				second += float64(z*z) * w
			}
			pmf := func(z int64) float64 { return math.Exp(-float64(z*z)/(2*sigma2)) / norm }
			chiSquare(t, counts, tt.draws, pmf, -lim, lim)
			moments(t, counts, tt.draws, second/norm)
		})
	}
}

func TestUniformIsUnbiasedBelowAwkwardBound(t *testing.T) {
	s := newSampler(testSource(20))
	const max = 5 // 3 bits, rejection needed
	counts := map[int64]int{}
	u := new(big.Int)
	n := 100_000
	for range n {
		if err := s.uniform(u, big.NewInt(max)); err != nil {
			t.Fatal(err)
		}
		counts[u.Int64()]++
	}
	chiSquare(t, counts, n, func(z int64) float64 {
		if z >= 0 && z < max {
			return 1.0 / max
		}
		return 0
	}, 0, max-1)
}

// The χ² test must have teeth: samples of the discrete Laplace with scale 2
// are rejected against the pmf of scale 2.2 and of a rounded continuous
// Laplace of scale 2.
func TestChiSquareRejectsANearbyDistribution(t *testing.T) {
	s := newSampler(testSource(30))
	counts := map[int64]int{}
	z := new(big.Int)
	for range draws {
		if err := s.discreteLaplace(z, big.NewInt(2), big.NewInt(1)); err != nil {
			t.Fatal(err)
		}
		counts[z.Int64()]++
	}
	geometric := func(b float64) func(int64) float64 {
		q := math.Exp(-1 / b)
		return func(z int64) float64 { return (1 - q) / (1 + q) * math.Pow(q, math.Abs(float64(z))) }
	}
	rounded := func(z int64) float64 { // continuous Laplace(2) rounded to the nearest integer
		cdf := func(x float64) float64 {
			if x < 0 {
				return 0.5 * math.Exp(x/2)
			}
			return 1 - 0.5*math.Exp(-x/2)
		}
		return cdf(float64(z)+0.5) - cdf(float64(z)-0.5)
	}
	for name, pmf := range map[string]func(int64) float64{"scale 2.2": geometric(2.2), "rounded continuous": rounded} {
		stat, df := chiSquareStat(counts, draws, pmf, -70, 70)
		if stat <= chiSquareLimit(df) {
			t.Errorf("%s: χ² = %.1f (df %d) not above %.1f: the test cannot tell the distributions apart", name, stat, df, chiSquareLimit(df))
		}
	}
}
