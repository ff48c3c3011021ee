package dp

import (
	"crypto/rand"
	"errors"
	"io"
	"math/big"
)

// sampler draws exact random values from an io.Reader of uniform bytes
// (crypto/rand in production). It keeps scratch numbers between draws, so
// a sampler is not safe for concurrent use.
type sampler struct {
	r   io.Reader
	buf []byte
	// scratch
	u, m big.Int
}

// newSampler returns a sampler reading r, or crypto/rand when r is nil.
func newSampler(r io.Reader) *sampler {
	if r == nil {
		r = rand.Reader
	}
	return &sampler{r: r}
}

var (
	one = big.NewInt(1)
	two = big.NewInt(2)
)

// uniform sets dst to a uniform integer in [0, max) for max > 0, by
// rejection sampling on the bit length of max-1, as crypto/rand.Int does.
func (s *sampler) uniform(dst, max *big.Int) error {
	if max.Sign() <= 0 {
		return errors.New("dp: uniform bound must be positive")
	}
	s.m.Sub(max, one)
	bitLen := s.m.BitLen()
	if bitLen == 0 {
		dst.SetInt64(0)
		return nil
	}
	k := (bitLen + 7) / 8
	b := uint(bitLen % 8)
	if b == 0 {
		b = 8
	}
	if cap(s.buf) < k {
		s.buf = make([]byte, k)
	}
	buf := s.buf[:k]
	for {
		if _, err := io.ReadFull(s.r, buf); err != nil {
			return err
		}
		buf[0] &= uint8(int(1<<b) - 1)
		dst.SetBytes(buf)
		if dst.Cmp(max) < 0 {
			return nil
		}
	}
}

// bernoulli returns true with probability num/den, for 0 ≤ num ≤ den.
func (s *sampler) bernoulli(num, den *big.Int) (bool, error) {
	if err := s.uniform(&s.u, den); err != nil {
		return false, err
	}
	return s.u.Cmp(num) < 0, nil
}

// bernoulliExp returns true with probability exp(-num/den), for num ≥ 0 and
// den > 0: Algorithm 1 of Canonne, Kamath and Steinke (2020).
func (s *sampler) bernoulliExp(num, den *big.Int) (bool, error) {
	if num.Sign() < 0 || den.Sign() <= 0 {
		return false, errors.New("dp: Bernoulli(exp(-γ)) needs γ ≥ 0")
	}
	if num.Cmp(den) <= 0 {
		// γ ∈ [0, 1]: K ← 1; while Bernoulli(γ/K) = 1, K ← K+1;
		// return 1 if K is odd.
		var k, kd big.Int
		k.SetInt64(1)
		for {
			kd.Mul(den, &k)
			a, err := s.bernoulli(num, &kd)
			if err != nil {
				return false, err
			}
			if !a {
				break
			}
			k.Add(&k, one)
		}
		return k.Bit(0) == 1, nil
	}
	// γ > 1: floor(γ) independent Bernoulli(exp(-1)) draws must all be 1,
	// then one Bernoulli(exp(-(γ - floor(γ)))).
	var q, r big.Int
	q.QuoRem(num, den, &r)
	for i := new(big.Int); i.Cmp(&q) < 0; i.Add(i, one) {
		b, err := s.bernoulliExp(one, one)
		if err != nil || !b {
			return false, err
		}
	}
	return s.bernoulliExp(&r, den)
}

// discreteLaplace sets dst to a draw of the discrete Laplace distribution
// with scale t/s (t, s > 0): P[Z = z] ∝ exp(-|z|·s/t). It is Algorithm 2 of
// Canonne, Kamath and Steinke (2020).
func (s *sampler) discreteLaplace(dst, t, sc *big.Int) error {
	if t.Sign() <= 0 || sc.Sign() <= 0 {
		return errors.New("dp: discrete Laplace scale must be positive")
	}
	var u, v, x big.Int
	for {
		if err := s.uniform(&u, t); err != nil {
			return err
		}
		d, err := s.bernoulliExp(&u, t)
		if err != nil {
			return err
		}
		if !d {
			continue
		}
		v.SetInt64(0)
		for {
			a, err := s.bernoulliExp(one, one)
			if err != nil {
				return err
			}
			if !a {
				break
			}
			v.Add(&v, one)
		}
		x.Mul(t, &v)
		x.Add(&x, &u)
		dst.Quo(&x, sc) // x ≥ 0, so truncation is the floor
		b, err := s.bernoulli(one, two)
		if err != nil {
			return err
		}
		if b && dst.Sign() == 0 {
			continue
		}
		if b {
			dst.Neg(dst)
		}
		return nil
	}
}

// discreteGaussian sets dst to a draw of the discrete Gaussian with
// variance parameter σ² = num/den (num, den > 0): P[Z = z] ∝
// exp(-z²/(2σ²)). It is Algorithm 3 of Canonne, Kamath and Steinke (2020).
func (s *sampler) discreteGaussian(dst, num, den *big.Int) error {
	if num.Sign() <= 0 || den.Sign() <= 0 {
		return errors.New("dp: discrete Gaussian variance must be positive")
	}
	// t = floor(σ) + 1; floor(sqrt(n/d)) = floor(sqrt(floor(n/d))).
	var t big.Int
	t.Quo(num, den)
	t.Sqrt(&t)
	t.Add(&t, one)
	// γ = (|Y| - σ²/t)² / (2σ²) = (|Y|·d·t - n)² / (2·n·d·t²)
	var gNum, gDen, abs big.Int
	gDen.Mul(&t, &t)
	gDen.Mul(&gDen, den)
	gDen.Mul(&gDen, num)
	gDen.Lsh(&gDen, 1)
	for {
		if err := s.discreteLaplace(dst, &t, one); err != nil {
			return err
		}
		abs.Abs(dst)
		gNum.Mul(&abs, den)
		gNum.Mul(&gNum, &t)
		gNum.Sub(&gNum, num)
		gNum.Mul(&gNum, &gNum)
		c, err := s.bernoulliExp(&gNum, &gDen)
		if err != nil {
			return err
		}
		if c {
			return nil
		}
	}
}
