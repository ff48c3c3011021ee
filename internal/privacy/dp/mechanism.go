package dp

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
)

// Mechanism adds integer noise to integer statistics. A mechanism value is
// immutable; [Mechanism.Release] may be called from several goroutines.
type Mechanism interface {
	// Name is a short identifier: "discrete-laplace" or "discrete-gaussian".
	Name() string
	// Release returns values with independent noise added to each, drawn
	// from crypto/rand.
	Release(values []int64) ([]int64, error)
	// Cost is what one release charges a budget whose Gaussian releases are
	// converted to (ε, δ) at delta (ignored by pure-DP mechanisms).
	Cost(delta *big.Rat) (Cost, error)
	// StdDev is the standard deviation of the noise on each value.
	StdDev() float64
}

// Cost is an (ε, δ) privacy cost or budget, exact.
type Cost struct {
	Epsilon *big.Rat
	Delta   *big.Rat
}

// String formats the cost with decimals, e.g. "ε=0.5 δ=0".
func (c Cost) String() string {
	return fmt.Sprintf("ε=%s δ=%s", FormatRat(c.Epsilon), FormatRat(c.Delta))
}

// ErrInvalidParameter is returned for a privacy parameter out of range.
var ErrInvalidParameter = errors.New("invalid privacy parameter")

// Laplace is the discrete Laplace mechanism: noise with
// P[Z = z] ∝ exp(-|z|·ε/Δ). It is ε-DP for vectors whose L1 sensitivity is Δ.
type Laplace struct {
	epsilon     *big.Rat
	sensitivity int64
}

// NewLaplace returns the discrete Laplace mechanism for privacy loss
// epsilon (0 < ε ≤ 100) and L1 sensitivity Δ ≥ 1.
func NewLaplace(epsilon *big.Rat, sensitivity int64) (*Laplace, error) {
	if err := checkEpsilon(epsilon); err != nil {
		return nil, err
	}
	if sensitivity < 1 {
		return nil, fmt.Errorf("%w: sensitivity %d must be at least 1", ErrInvalidParameter, sensitivity)
	}
	return &Laplace{epsilon: new(big.Rat).Set(epsilon), sensitivity: sensitivity}, nil
}

// Name implements [Mechanism].
func (m *Laplace) Name() string { return "discrete-laplace" }

// Epsilon is the mechanism's ε.
func (m *Laplace) Epsilon() *big.Rat { return new(big.Rat).Set(m.epsilon) }

// Sensitivity is the L1 sensitivity Δ the mechanism was built for.
func (m *Laplace) Sensitivity() int64 { return m.sensitivity }

// Scale is Δ/ε, the scale b of exp(-|z|/b).
func (m *Laplace) Scale() *big.Rat {
	return new(big.Rat).Quo(new(big.Rat).SetInt64(m.sensitivity), m.epsilon)
}

// Cost implements [Mechanism]: ε, and δ = 0.
func (m *Laplace) Cost(*big.Rat) (Cost, error) {
	return Cost{Epsilon: m.Epsilon(), Delta: new(big.Rat)}, nil
}

// StdDev implements [Mechanism]: sqrt(2·e^(-1/b)) / (1 - e^(-1/b)) for
// scale b.
func (m *Laplace) StdDev() float64 {
	b, _ := m.Scale().Float64()
	q := math.Exp(-1 / b)
	return math.Sqrt(2*q) / (1 - q)
}

// Release implements [Mechanism].
func (m *Laplace) Release(values []int64) ([]int64, error) {
	s := newSampler(nil)
	// scale t/s = Δ·den(ε) / num(ε)
	t := new(big.Int).Mul(big.NewInt(m.sensitivity), m.epsilon.Denom())
	sc := new(big.Int).Set(m.epsilon.Num())
	return addNoise(values, func(z *big.Int) error { return s.discreteLaplace(z, t, sc) })
}

// Gaussian is the discrete Gaussian mechanism: noise with
// P[Z = z] ∝ exp(-z²/(2σ²)), σ² = Δ²/(2ρ). It is ρ-zCDP for vectors whose
// L2 sensitivity is Δ.
type Gaussian struct {
	rho         *big.Rat
	sensitivity int64
}

// NewGaussian returns the discrete Gaussian mechanism for zCDP parameter
// rho (0 < ρ ≤ 100) and L2 sensitivity Δ ≥ 1.
func NewGaussian(rho *big.Rat, sensitivity int64) (*Gaussian, error) {
	if rho == nil || rho.Sign() <= 0 || rho.Cmp(big.NewRat(100, 1)) > 0 {
		return nil, fmt.Errorf("%w: ρ must be above 0 and at most 100", ErrInvalidParameter)
	}
	if sensitivity < 1 {
		return nil, fmt.Errorf("%w: sensitivity %d must be at least 1", ErrInvalidParameter, sensitivity)
	}
	return &Gaussian{rho: new(big.Rat).Set(rho), sensitivity: sensitivity}, nil
}

// Name implements [Mechanism].
func (m *Gaussian) Name() string { return "discrete-gaussian" }

// Rho is the mechanism's zCDP parameter ρ.
func (m *Gaussian) Rho() *big.Rat { return new(big.Rat).Set(m.rho) }

// Sensitivity is the L2 sensitivity Δ the mechanism was built for.
func (m *Gaussian) Sensitivity() int64 { return m.sensitivity }

// Sigma2 is σ² = Δ²/(2ρ).
func (m *Gaussian) Sigma2() *big.Rat {
	d := new(big.Rat).SetInt64(m.sensitivity)
	d.Mul(d, d)
	return d.Quo(d, new(big.Rat).Mul(big.NewRat(2, 1), m.rho))
}

// StdDev implements [Mechanism]. The discrete Gaussian's variance is at
// most σ² (the paper's Corollary 9), and within 10⁻⁹ of it once σ ≥ 1;
// this reports σ.
func (m *Gaussian) StdDev() float64 {
	v, _ := m.Sigma2().Float64()
	return math.Sqrt(v)
}

// Cost implements [Mechanism]: ε = ρ + 2·sqrt(ρ·ln(1/δ)) rounded up to a
// multiple of 10⁻⁹, and δ.
func (m *Gaussian) Cost(delta *big.Rat) (Cost, error) {
	eps, err := ZCDPToEpsilon(m.rho, delta)
	if err != nil {
		return Cost{}, err
	}
	return Cost{Epsilon: eps, Delta: new(big.Rat).Set(delta)}, nil
}

// Release implements [Mechanism].
func (m *Gaussian) Release(values []int64) ([]int64, error) {
	s := newSampler(nil)
	v := m.Sigma2()
	num, den := new(big.Int).Set(v.Num()), new(big.Int).Set(v.Denom())
	return addNoise(values, func(z *big.Int) error { return s.discreteGaussian(z, num, den) })
}

// ZCDPToEpsilon converts ρ-zCDP to (ε, δ)-DP with ε = ρ + 2·sqrt(ρ·ln(1/δ))
// (Bun and Steinke 2016, Proposition 1.3), rounded up to a multiple of
// 10⁻⁹ so that the exact ε returned is never below the true bound.
func ZCDPToEpsilon(rho, delta *big.Rat) (*big.Rat, error) {
	if delta == nil || delta.Sign() <= 0 || delta.Cmp(big.NewRat(1, 1)) >= 0 {
		return nil, fmt.Errorf("%w: δ must be above 0 and below 1 to convert zCDP to (ε, δ)", ErrInvalidParameter)
	}
	r, _ := rho.Float64()
	d, _ := delta.Float64()
	eps := r + 2*math.Sqrt(r*math.Log(1/d))
	// float64 is accurate to ~1e-15 relative here; one extra unit of 1e-9
	// covers it.
	const unit = 1e9
	n := int64(math.Ceil(eps*unit)) + 1
	return big.NewRat(n, unit), nil
}

func addNoise(values []int64, draw func(*big.Int) error) ([]int64, error) {
	out := make([]int64, len(values))
	var z, sum big.Int
	for i, v := range values {
		if err := draw(&z); err != nil {
			return nil, fmt.Errorf("dp: draw noise: %w", err)
		}
		sum.SetInt64(v)
		sum.Add(&sum, &z)
		if !sum.IsInt64() {
			return nil, fmt.Errorf("dp: noisy value overflows int64")
		}
		out[i] = sum.Int64()
	}
	return out, nil
}

func checkEpsilon(eps *big.Rat) error {
	if eps == nil || eps.Sign() <= 0 || eps.Cmp(big.NewRat(100, 1)) > 0 {
		return fmt.Errorf("%w: ε must be above 0 and at most 100", ErrInvalidParameter)
	}
	return nil
}

// ParseRat reads an exact non-negative rational from a decimal ("0.5",
// "1e-6") or fraction ("1/3") string, as typed on a command line. It refuses
// long inputs and huge exponents, so that a value cannot make big arithmetic
// slow.
func ParseRat(s string) (*big.Rat, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 40 {
		return nil, fmt.Errorf("%w: %q is not a number of at most 40 characters", ErrInvalidParameter, s)
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		var exp int
		if _, err := fmt.Sscanf(s[i+1:], "%d", &exp); err != nil || exp < -30 || exp > 30 {
			return nil, fmt.Errorf("%w: %q: exponent must be between -30 and 30", ErrInvalidParameter, s)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a number (use e.g. 0.5 or 1/3)", ErrInvalidParameter, s)
	}
	if r.Sign() < 0 {
		return nil, fmt.Errorf("%w: %q is negative", ErrInvalidParameter, s)
	}
	if r.Num().BitLen() > 256 || r.Denom().BitLen() > 256 {
		return nil, fmt.Errorf("%w: %q is too precise", ErrInvalidParameter, s)
	}
	return r, nil
}

// FormatRat formats r in decimal when it is exact in at most 12 decimal
// places ("0.5"), and as a fraction otherwise ("1/3").
func FormatRat(r *big.Rat) string {
	if r == nil {
		return "0"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	if n, exact := r.FloatPrec(); exact && n <= 12 {
		return strings.TrimRight(strings.TrimRight(r.FloatString(n), "0"), ".")
	}
	return r.String()
}
