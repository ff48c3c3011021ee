package totp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Recovery codes are RecoveryCodeLen characters of Crockford's base32
// (5 bits each, 50 bits in all), shown in two groups of five.
const (
	RecoveryCodeLen = 10
	// MaxRecoveryCodes bounds one batch.
	MaxRecoveryCodes = 100
)

// crockford is Crockford's base32 alphabet in lower case: digits and
// letters without i, l, o and u, so no two symbols are confused.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewRecoveryCodes returns n distinct recovery codes to show the user once,
// as "xxxxx-xxxxx", and their hashes (HashRecoveryCode) to store.
func NewRecoveryCodes(n int) (codes []string, hashes []string, err error) {
	if n < 1 || n > MaxRecoveryCodes {
		return nil, nil, fmt.Errorf("totp: number of recovery codes must be between 1 and %d", MaxRecoveryCodes)
	}
	seen := make(map[string]bool, n)
	raw := make([]byte, RecoveryCodeLen)
	for len(codes) < n {
		if _, err := rand.Read(raw); err != nil {
			return nil, nil, err
		}
		var c [RecoveryCodeLen]byte
		for i, b := range raw {
			c[i] = crockford[b&31] // 256 is a multiple of 32: uniform
		}
		code := string(c[:5]) + "-" + string(c[5:])
		if seen[code] {
			continue
		}
		seen[code] = true
		codes = append(codes, code)
		hashes = append(hashes, HashRecoveryCode(code))
	}
	return codes, hashes, nil
}

// NormalizeRecoveryCode returns the form of a typed recovery code that is
// hashed: lower case, without spaces or dashes, with the letters Crockford
// reads as digits mapped to them (i and l to 1, o to 0).
func NormalizeRecoveryCode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		switch r {
		case ' ', '\t', '\n', '\r', '-':
		case 'i', 'l':
			b.WriteByte('1')
		case 'o':
			b.WriteByte('0')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// HashRecoveryCode returns the hex SHA-256 of the normalised code, the
// form in which recovery codes are stored and looked up.
//
// A fast hash is enough here, unlike for passwords: each code is 50
// random bits from crypto/rand, so there is no dictionary to try, and
// online guessing is stopped by rate limits long before it could succeed.
// Someone who steals the hashes still needs about 2^49 SHA-256
// evaluations to recover one code.
func HashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte(NormalizeRecoveryCode(code)))
	return hex.EncodeToString(sum[:])
}
