package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/crypto/argon2"
)

// ErrBusy reports that no hashing slot became free before the caller's
// context ended. The web layer should answer "try again later" (HTTP 503)
// rather than treat it as a failed sign-in.
var ErrBusy = errors.New("password: too many password checks in progress")

// A Hasher hashes and verifies passwords with Argon2id at fixed
// parameters, running at most a fixed number of hashes at once. It is safe
// for concurrent use.
type Hasher struct {
	params Params
	slots  chan struct{}
	dummy  string
}

// NewHasher returns a Hasher that hashes with p and runs at most
// maxConcurrent hashes at once (2×GOMAXPROCS when maxConcurrent <= 0), so
// that its memory use stays under maxConcurrent × p.Memory KiB. The zero
// Params stands for DefaultParams. NewHasher panics if p fails
// Params.Validate: parameters are fixed at startup, and configuration
// should call Validate first to report a readable error.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	if p == (Params{}) {
		p = DefaultParams
	}
	if err := p.Validate(); err != nil {
		panic(err)
	}
	if maxConcurrent <= 0 {
		maxConcurrent = 2 * runtime.GOMAXPROCS(0)
	}
	return &Hasher{
		params: p,
		slots:  make(chan struct{}, maxConcurrent),
		// A hash no password matches (its expected output is all zeros),
		// at the Hasher's own cost, for VerifyDummy.
		dummy: encodeHash(p, make([]byte, p.SaltLen), make([]byte, p.KeyLen)),
	}
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string of the normalised password with a fresh
// random salt. It waits for a free slot while ctx allows and returns an
// error wrapping ErrBusy and the context's error if ctx ends first.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return hashWithSalt(h.params, password, salt), nil
}

// Verify reports whether password matches the stored hash encoded, and,
// when it does, whether the hash was made with parameters other than the
// Hasher's so the caller should store a fresh Hash of the password. A
// wrong password is ok == false with a nil error. A malformed encoded hash
// returns an error wrapping ErrMalformedHash; ctx ending before a slot is
// free returns an error wrapping ErrBusy.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(Normalize(password)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != h.params, nil
}

// VerifyDummy costs what Verify costs for a hash made by this Hasher and
// never succeeds. Call it when the account being signed in to does not
// exist, so response time does not tell which accounts do. Its only error
// is one wrapping ErrBusy.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, password, h.dummy)
	return err
}

func (h *Hasher) acquire(ctx context.Context) error {
	// A request whose context has already ended gets no hashing, even
	// when a slot is free: its client is gone.
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrBusy, context.Cause(ctx))
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, context.Cause(ctx))
	}
}

func (h *Hasher) release() { <-h.slots }

// hashWithSalt is Hash with a given salt, for known-answer tests.
func hashWithSalt(p Params, password string, salt []byte) string {
	key := argon2.IDKey([]byte(Normalize(password)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encodeHash(p, salt, key)
}
