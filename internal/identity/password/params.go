package password

import (
	"errors"
	"fmt"
)

// Params are the Argon2id cost parameters and output sizes.
type Params struct {
	Memory  uint32 // memory cost in KiB
	Time    uint32 // number of passes over the memory
	Threads uint8  // degree of parallelism (lanes)
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // hash length in bytes
}

// DefaultParams is the OWASP Password Storage Cheat Sheet minimum for
// Argon2id (m=19 MiB, t=2, p=1) with a 128-bit salt and a 256-bit hash.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on parameters, for a Hasher's own and for those read back from a
// stored hash. The upper bounds keep a tampered row from turning one
// verification into a denial of service; the lower bounds are those of
// RFC 9106 §3.1 (salt of at least 8 bytes, memory of at least 8p KiB) and
// a hash long enough to resist guessing.
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 16
	maxThreads = 16
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// ErrInvalidParams reports Argon2id parameters outside the accepted bounds.
var ErrInvalidParams = errors.New("password: invalid Argon2id parameters")

// Validate reports whether p is within the bounds veche accepts: memory at
// most 1 GiB and at least 8 KiB per thread, 1 to 16 passes, 1 to 16
// threads, a salt of 8 to 64 bytes and a hash of 16 to 64 bytes.
func (p Params) Validate() error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("%w: threads %d not in 1..%d", ErrInvalidParams, p.Threads, maxThreads)
	case p.Memory > maxMemory:
		return fmt.Errorf("%w: memory %d KiB above %d KiB", ErrInvalidParams, p.Memory, maxMemory)
	case p.Memory < 8*uint32(p.Threads):
		return fmt.Errorf("%w: memory %d KiB below 8 KiB per thread", ErrInvalidParams, p.Memory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: time %d not in 1..%d", ErrInvalidParams, p.Time, maxTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: salt length %d not in %d..%d", ErrInvalidParams, p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: hash length %d not in %d..%d", ErrInvalidParams, p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}
