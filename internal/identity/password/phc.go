package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformedHash reports a stored hash that is not a well-formed
// Argon2id PHC string within veche's parameter bounds.
var ErrMalformedHash = errors.New("password: malformed password hash")

// argon2Version is the only Argon2 version written and read (0x13).
const argon2Version = 19

// maxEncodedLen bounds the input the decoder looks at; the longest valid
// string (64-byte salt and hash, largest parameters) is well under it.
const maxEncodedLen = 256

var b64 = base64.RawStdEncoding.Strict()

// encodeHash formats an Argon2id hash as a PHC string.
func encodeHash(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodeHash parses a PHC string written by encodeHash. It accepts only
// the canonical form (fields in order, decimal numbers without leading
// zeros, canonical base64), so that every accepted string re-encodes to
// itself, and it rejects parameters outside Params.Validate's bounds.
func decodeHash(s string) (p Params, salt, key []byte, err error) {
	fail := func(what string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, what)
	}
	if len(s) > maxEncodedLen {
		return fail("too long")
	}
	fields := strings.Split(s, "$")
	if len(fields) != 6 || fields[0] != "" {
		return fail("not a PHC string")
	}
	if fields[1] != "argon2id" {
		return fail("algorithm is not argon2id")
	}
	if fields[2] != "v="+strconv.Itoa(argon2Version) {
		return fail("unsupported Argon2 version")
	}
	costs := strings.Split(fields[3], ",")
	if len(costs) != 3 {
		return fail("parameters are not m=,t=,p=")
	}
	m, ok1 := parseParam(costs[0], "m=", 32)
	t, ok2 := parseParam(costs[1], "t=", 32)
	th, ok3 := parseParam(costs[2], "p=", 8)
	if !ok1 || !ok2 || !ok3 {
		return fail("parameters are not m=,t=,p=")
	}
	salt, ok := decodeBase64(fields[4])
	if !ok {
		return fail("salt is not canonical base64")
	}
	key, ok = decodeBase64(fields[5])
	if !ok {
		return fail("hash is not canonical base64")
	}
	p = Params{
		Memory:  uint32(m),
		Time:    uint32(t),
		Threads: uint8(th),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(key)),
	}
	if err := p.Validate(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}

// parseParam parses "name=<decimal>" with no sign and no leading zeros.
func parseParam(s, name string, bits int) (uint64, bool) {
	digits, ok := strings.CutPrefix(s, name)
	if !ok || digits == "" || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(digits, 10, bits)
	return v, err == nil
}

// decodeBase64 decodes unpadded standard base64 and insists on the
// canonical spelling: the decoder skips CR and LF, which would otherwise
// let two different strings stand for the same hash.
func decodeBase64(s string) ([]byte, bool) {
	b, err := b64.DecodeString(s)
	if err != nil || b64.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}
