package password

import "testing"

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain ascii stays", "plain ascii stays"},
		{"cafe\u0301", "caf\u00e9"},                // NFD → NFC
		{"\u0419", "\u0419"},                       // Й stays one code point
		{"\u0418\u0306", "\u0419"},                 // И + breve → Й
		{"a\u00a0b\u3000c\u2009d", "a b c d"},      // Unicode spaces → U+0020
		{"\ufb01", "\ufb01"},                       // NFC keeps the ﬁ ligature (NFKC would not)
		{"x\xffy\xfe", "x\xffy\xfe"},               // invalid bytes kept as they are
		{"\xff\u00a0e\u0301", "\xff \u00e9"},       // and the rest still normalised
		{"tab\tand\nnewline", "tab\tand\nnewline"}, // only space separators are mapped
		{"emoji 🔐 and 中文", "emoji 🔐 and 中文"},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeKeepsDistinctInvalidInputsDistinct(t *testing.T) {
	if Normalize("\xff") == Normalize("\xfe") {
		t.Fatal("two different invalid inputs normalise alike")
	}
}
