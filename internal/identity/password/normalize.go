package password

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns the form of a password that is hashed and checked:
// every Unicode space separator (no-break space, ideographic space, …)
// becomes U+0020 and the result is in Normalization Form C, as in the
// OpaqueString profile of RFC 8265. Thus "é" typed as one code point or as
// "e" plus a combining accent is the same password. Bytes that are not
// valid UTF-8 are kept as they are, so that no two distinct invalid inputs
// collapse into one.
func Normalize(pw string) string {
	if isASCII(pw) {
		return pw
	}
	var b strings.Builder
	b.Grow(len(pw))
	for i := 0; i < len(pw); {
		r, size := utf8.DecodeRuneInString(pw[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteByte(pw[i])
		case unicode.Is(unicode.Zs, r):
			b.WriteByte(' ')
		default:
			b.WriteString(pw[i : i+size])
		}
		i += size
	}
	return norm.NFC.String(b.String())
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
