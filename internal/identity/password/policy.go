package password

import (
	"fmt"
	"unicode/utf8"
)

// Length limits of DefaultPolicy, in Unicode code points after Normalize.
// NIST SP 800-63B-4 requires at least 15 for a password that is the only
// factor and lets verifiers cap length at no less than 64.
const (
	DefaultMinLength = 15
	DefaultMaxLength = 128
)

// Codes of a PolicyError, stable for the web layer to translate.
const (
	CodeInvalidUTF8     = "invalid_utf8"
	CodeTooShort        = "too_short"
	CodeTooLong         = "too_long"
	CodeCommon          = "common"
	CodeContainsContext = "contains_context"
	CodeRepetitive      = "repetitive"
)

// A PolicyError says why Policy.Check refused a password. Code is one of
// the Code constants; Min and Max are the policy's length limits, for the
// message shown with too_short and too_long.
type PolicyError struct {
	Code     string
	Min, Max int
}

func (e *PolicyError) Error() string {
	switch e.Code {
	case CodeInvalidUTF8:
		return "password: not valid UTF-8 text"
	case CodeTooShort:
		return fmt.Sprintf("password: shorter than %d characters", e.Min)
	case CodeTooLong:
		return fmt.Sprintf("password: longer than %d characters", e.Max)
	case CodeCommon:
		return "password: too common, it appears in lists of breached passwords"
	case CodeContainsContext:
		return "password: made mostly of the account's name, e-mail address or the service's name"
	case CodeRepetitive:
		return "password: made mostly of a repeated or sequential pattern"
	}
	return "password: refused by policy (" + e.Code + ")"
}

// A Policy decides which new passwords are accepted, following NIST SP
// 800-63B-4 §3.1.1.2: length limits and a blocklist, with no composition
// rules. The zero Policy is DefaultPolicy: a MinLength or MaxLength <= 0
// means the default limit and a nil Common means CommonPasswords().
type Policy struct {
	MinLength, MaxLength int
	Common               *Blocklist
}

// DefaultPolicy returns the policy for passwords used as a single factor:
// 15 to 128 characters, not in the shipped blocklist.
func DefaultPolicy() Policy {
	return Policy{MinLength: DefaultMinLength, MaxLength: DefaultMaxLength, Common: CommonPasswords()}
}

// Check returns nil if pw may be chosen as a new password, and otherwise a
// *PolicyError for the first rule it breaks, in this order: invalid UTF-8,
// too short, too long, common (in the blocklist, ignoring case, trailing
// digits and symbols, and leetspeak), contains_context (made mostly of one
// of the context words of at least four characters — pass the user's
// e-mail address or its local part, their name, and "veche"), repetitive
// (mostly a repeated character, a repeated chunk or a sequence such as
// "123456…" or "qwerty…").
func (p Policy) Check(pw string, context ...string) error {
	minLen, maxLen := p.MinLength, p.MaxLength
	if minLen <= 0 {
		minLen = DefaultMinLength
	}
	if maxLen <= 0 {
		maxLen = DefaultMaxLength
	}
	fail := func(code string) error {
		return &PolicyError{Code: code, Min: minLen, Max: maxLen}
	}
	if !utf8.ValidString(pw) {
		return fail(CodeInvalidUTF8)
	}
	pw = Normalize(pw)
	switch n := utf8.RuneCountInString(pw); {
	case n < minLen:
		return fail(CodeTooShort)
	case n > maxLen:
		return fail(CodeTooLong)
	}
	common := p.Common
	if common == nil {
		common = CommonPasswords()
	}
	if common.Contains(pw) {
		return fail(CodeCommon)
	}
	if containsContext(pw, context) {
		return fail(CodeContainsContext)
	}
	if isRepetitive(pw) {
		return fail(CodeRepetitive)
	}
	return nil
}
