package secops

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is one token-bucket rule: Burst attempts at once, refilled at Every.
type Limit struct {
	Every time.Duration // one token per Every
	Burst int
}

// Rule names. Each limits one action per client address (IP) or per account.
const (
	SignInPerIP      = "signin-ip"
	SignInPerAccount = "signin-account"
	RegisterPerIP    = "register-ip"
	ResetPerIP       = "reset-ip"
	ResetPerAccount  = "reset-account"
	MFAPerAccount    = "mfa-account"
	MFAPerIP         = "mfa-ip"
	APIWritesPerIP   = "api-write-ip"
	EmailVerifyPerIP = "verify-ip"
	ReauthPerAccount = "reauth-account"
	// EmailChangePerAccount bounds changes of address, each of which
	// mails the new address and the old one.
	EmailChangePerAccount = "email-change-account"
)

// DefaultLimits are the shipped rules. Per-account sign-in limits are
// looser than a lock-out: a guessing attacker gets a handful of tries per
// minute, and the real owner can still sign in from their own address.
var DefaultLimits = map[string]Limit{
	SignInPerIP:           {Every: 6 * time.Second, Burst: 10}, // 10/min
	SignInPerAccount:      {Every: 12 * time.Second, Burst: 5}, // 5/min
	RegisterPerIP:         {Every: time.Minute, Burst: 5},      // 60/h
	ResetPerIP:            {Every: time.Minute, Burst: 5},      // 60/h
	ResetPerAccount:       {Every: 20 * time.Minute, Burst: 3}, // 3/h
	MFAPerAccount:         {Every: 12 * time.Second, Burst: 5}, // 5/min
	MFAPerIP:              {Every: 6 * time.Second, Burst: 10}, // 10/min
	APIWritesPerIP:        {Every: 100 * time.Millisecond, Burst: 100},
	EmailVerifyPerIP:      {Every: 6 * time.Second, Burst: 10},
	ReauthPerAccount:      {Every: 12 * time.Second, Burst: 5},
	EmailChangePerAccount: {Every: 20 * time.Minute, Burst: 3}, // 3/h
}

// Limiter holds token buckets keyed by rule and subject. Subjects (an
// address, an account's email) are kept only as keyed hashes, and idle
// buckets are dropped, so memory stays bounded under a flood of addresses.
type Limiter struct {
	mu      sync.Mutex
	limits  map[string]Limit
	buckets map[string]*bucket
	key     []byte
	now     func() time.Time
	max     int
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter returns a Limiter with the given rules (nil = DefaultLimits)
// hashing subjects with key.
func NewLimiter(limits map[string]Limit, key []byte) *Limiter {
	if limits == nil {
		limits = DefaultLimits
	}
	return &Limiter{limits: limits, buckets: map[string]*bucket{}, key: key, now: time.Now, max: 200_000}
}

// Allow takes one token from rule's bucket for subject. When none is left it
// reports false and how long until one is.
func (l *Limiter) Allow(rule, subject string) (bool, time.Duration) {
	lim, ok := l.limits[rule]
	if !ok || lim.Burst <= 0 {
		return true, 0
	}
	mac := hmac.New(sha256.New, l.key)
	mac.Write([]byte(rule + "\x00" + subject))
	k := hex.EncodeToString(mac.Sum(nil)[:16])
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[k]
	if !ok {
		if len(l.buckets) >= l.max {
			l.sweep(now)
		}
		b = &bucket{lim: rate.NewLimiter(rate.Every(lim.Every), lim.Burst)}
		l.buckets[k] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops buckets that have refilled completely (idle long enough to be
// indistinguishable from new ones). If the table is still mostly full, a
// flood of distinct subjects is under way; arbitrary buckets go until half
// the room is free, which at worst gives some flooding subjects a fresh
// bucket, never more than one burst each.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.lim.TokensAt(now) >= float64(b.lim.Burst()) {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < l.max/2 {
			break
		}
		delete(l.buckets, k)
	}
}
