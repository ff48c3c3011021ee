package totp

import (
	"regexp"
	"testing"
)

var recoveryCodeForm = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$`)

func TestNewRecoveryCodesAreDistinctWellFormedAndHashed(t *testing.T) {
	codes, hashes, err := NewRecoveryCodes(MaxRecoveryCodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != MaxRecoveryCodes || len(hashes) != MaxRecoveryCodes {
		t.Fatalf("got %d codes and %d hashes", len(codes), len(hashes))
	}
	seenCode, seenHash := map[string]bool{}, map[string]bool{}
	for i, c := range codes {
		if !recoveryCodeForm.MatchString(c) {
			t.Errorf("code %q is not xxxxx-xxxxx in Crockford base32", c)
		}
		if hashes[i] != HashRecoveryCode(c) {
			t.Errorf("hash %d does not match its code", i)
		}
		if seenCode[c] || seenHash[hashes[i]] {
			t.Errorf("code %q repeated", c)
		}
		seenCode[c], seenHash[hashes[i]] = true, true
	}
}

// Over many codes every symbol of the alphabet appears: nothing is
// stuck, and no excluded letter slips in (the regexp above).
func TestNewRecoveryCodesUseTheWholeAlphabet(t *testing.T) {
	counts := map[rune]int{}
	for range 20 {
		codes, _, err := NewRecoveryCodes(MaxRecoveryCodes)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range codes {
			for _, r := range c {
				counts[r]++
			}
		}
	}
	for _, r := range crockford {
		if counts[r] == 0 {
			t.Errorf("symbol %q never used", r)
		}
	}
}

func TestNewRecoveryCodesRefusesBadCounts(t *testing.T) {
	for _, n := range []int{-1, 0, MaxRecoveryCodes + 1} {
		if _, _, err := NewRecoveryCodes(n); err == nil {
			t.Errorf("n=%d accepted", n)
		}
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abcde-fgh01", "abcdefgh01"},
		{"ABCDE-FGH01", "abcdefgh01"},
		{" abcde fgh01 ", "abcdefgh01"},
		{"abcde--fgh01\n", "abcdefgh01"},
		{"OIL0l-iI1oO", "0110111100"},
		{"", ""},
	} {
		if got := NormalizeRecoveryCode(tc.in); got != tc.want {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHashRecoveryCode(t *testing.T) {
	// SHA-256("0123456789"), the normalised form of all of these.
	const want = "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882"
	for _, typed := range []string{"01234-56789", "0123456789", "O1234 56789", "o1234-56789", " 01234-56789 "} {
		if got := HashRecoveryCode(typed); got != want {
			t.Errorf("HashRecoveryCode(%q) = %s, want %s", typed, got, want)
		}
	}
	if HashRecoveryCode("01234-56788") == want {
		t.Fatal("different codes hash alike")
	}
}
