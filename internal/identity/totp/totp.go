package totp

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// Fixed TOTP parameters (see the package doc).
const (
	Digits     = 6
	Period     = 30 // seconds per step
	SecretSize = 20 // bytes of secret, 160 bits
)

// minSecretSize is RFC 4226 §4's minimum shared secret length (128 bits);
// shorter secrets are refused rather than silently used.
const minSecretSize = 16

var (
	// ErrInvalidCode reports a code that is malformed or matches none of
	// the accepted steps.
	ErrInvalidCode = errors.New("totp: invalid code")
	// ErrReplayed reports a correct code for a step at or before the last
	// one accepted: a code used twice, or an older one.
	ErrReplayed = errors.New("totp: code already used")
	// ErrMalformedSecret reports a stored secret that is not base32 of at
	// least 128 bits.
	ErrMalformedSecret = errors.New("totp: malformed secret")
)

// secretEncoding is RFC 4648 base32 without padding, as authenticator
// apps expect in the otpauth:// URI.
var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// GenerateSecret returns a new random 160-bit secret in base32 without
// padding (32 upper-case characters).
func GenerateSecret() (string, error) {
	b := make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return secretEncoding.EncodeToString(b), nil
}

// Verify checks a 6-digit code typed by the user against secret at time
// t. It accepts the codes of the steps just before, at and just after t,
// but only steps after lastStep, the step Verify last returned for this
// secret (pass -1 when none has been accepted yet). On success it returns
// the step that matched, which the caller must store as the new lastStep.
// Spaces in code are ignored ("123 456"). Errors: ErrInvalidCode,
// ErrReplayed, ErrMalformedSecret.
func Verify(secret, code string, t time.Time, lastStep int64) (step int64, err error) {
	typed, ok := parseCode(code)
	if !ok {
		return 0, ErrInvalidCode
	}
	if err := checkSecret(secret); err != nil {
		return 0, err
	}
	now := stepAt(t)
	matched, replayed := int64(-1), false
	// Every candidate is computed and compared, in constant time, so the
	// response time does not tell which step matched.
	for s := now - 1; s <= now+1; s++ {
		if s < 0 {
			continue
		}
		want, err := generate(secret, s, otp.DigitsSix)
		if err != nil {
			return 0, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(typed)) == 1 {
			if s > lastStep && matched < 0 {
				matched = s
			} else if s <= lastStep {
				replayed = true
			}
		}
	}
	switch {
	case matched >= 0:
		return matched, nil
	case replayed:
		return 0, ErrReplayed
	}
	return 0, ErrInvalidCode
}

// stepAt returns the RFC 6238 time step containing t: floor(unix / 30).
func stepAt(t time.Time) int64 {
	u := t.Unix()
	s := u / Period
	if u < 0 && u%Period != 0 {
		s--
	}
	return s
}

// parseCode drops spaces and accepts exactly Digits ASCII digits.
func parseCode(code string) (string, bool) {
	if len(code) > 64 {
		return "", false
	}
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != Digits {
		return "", false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return "", false
		}
	}
	return code, true
}

func checkSecret(secret string) error {
	b, err := secretEncoding.DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil || len(b) < minSecretSize {
		return ErrMalformedSecret
	}
	return nil
}

// generate returns the HOTP value of secret for a time step, with 6 or 8
// digits; 8 digits serve only the RFC 6238 test vectors.
func generate(secret string, step int64, digits otp.Digits) (string, error) {
	code, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{
		Digits:    digits,
		Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", ErrMalformedSecret
	}
	return code, nil
}
