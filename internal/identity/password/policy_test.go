package password

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func checkCode(p Policy, pw string, context ...string) string {
	err := p.Check(pw, context...)
	if err == nil {
		return ""
	}
	var pe *PolicyError
	if !errors.As(err, &pe) {
		return "not a *PolicyError: " + err.Error()
	}
	return pe.Code
}

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	if p.MinLength != 15 || p.MaxLength != 128 || p.Common != CommonPasswords() {
		t.Fatalf("DefaultPolicy = %+v", p)
	}
}

func TestPolicyCheck(t *testing.T) {
	context := []string{"ivan.petrov@example.org", "veche"}
	for _, tc := range []struct {
		name, pw, want string
	}{
		// Accepted: length is what counts; any printable character and
		// spaces are allowed, with no composition rules.
		{"passphrase", "correct horse battery staple", ""},
		{"lower case only", "glimmeringoxbowlake", ""},
		{"random characters", "xK9#mQ2!pL7@vR4z", ""},
		{"Cyrillic passphrase", "жил-был у бабушки серенький козлик", ""},
		{"emoji and CJK", "晴れた日に🔐公園を散歩する猫たち", ""},
		{"exactly 15", "fjord quilt vex", ""},
		{"128 code points", randomText(128, 1), ""},
		{"context word as a minor part", "veche is where novgorod met", ""},
		{"digits after a real phrase", "maple syrup on pancakes 1987", ""},

		{"invalid UTF-8", "correct horse \xff battery", CodeInvalidUTF8},
		{"empty", "", CodeTooShort},
		{"14 characters", "fjord quilt ve", CodeTooShort},
		{"14 code points of 28 bytes", "жил-был у бабу", CodeTooShort},
		{"NFD counted after NFC", strings.Repeat("e\u0301", 14), CodeTooShort},
		{"129 code points", randomText(129, 1), CodeTooLong},

		{"listed as it is", "qwerty123456789", CodeCommon},
		{"listed long password", "momsanaladventure", CodeCommon},
		{"listed word plus digits", "password1234567", CodeCommon},
		{"listed word, leetspeak and symbols", "P@ssw0rd2024!!!!", CodeCommon},
		{"listed word, upper case", "FOOTBALL1234567890", CodeCommon},
		{"listed walk", "1qaz2wsx3edc4rfv", CodeCommon},
		{"listed mirror", "123456789987654321", CodeCommon},

		{"e-mail local part", "ivan.petrov1990!", CodeContainsContext},
		{"name parts with spaces", "Ivan Petrov 1990!!", CodeContainsContext},
		{"service name repeated", "vechevecheveche1", CodeContainsContext},
		{"service name in leetspeak", "v3ch3v3ch3v3ch3!", CodeContainsContext},

		{"one character", "aaaaaaaaaaaaaaa", CodeRepetitive},
		{"spaces only", "                ", CodeRepetitive},
		{"digit run with wrap-around", "123456789012345", CodeRepetitive},
		{"descending digits", "987654321098765", CodeRepetitive},
		{"alphabet", "abcdefghijklmnop", CodeRepetitive},
		{"Cyrillic alphabet", "абвгдежзийклмно", CodeRepetitive},
		{"short period", "abcabcabcabcabc", CodeRepetitive},
		{"two characters", "xyxyxyxyxyxyxyxy", CodeRepetitive},
		{"doubled word", "passwordpassword", CodeRepetitive},
		{"doubled word with spaces", "password password", CodeRepetitive},
		{"doubled phrase", "iloveyouiloveyou", CodeRepetitive},
		{"doubled phrase and year", "iloveyouiloveyou2024!", CodeRepetitive},
		{"doubled word and digits", "monkeymonkey123", CodeRepetitive},
		{"keyboard rows", "qwertyuiopasdfg", CodeRepetitive},
		{"keyboard rows backwards", "gfdsapoiuytrewq", CodeRepetitive},
		{"keyboard columns", "zaq12wsxcde34rfv", CodeRepetitive},
		{"Russian keyboard row", "йцукенгшщзхъфыв", CodeRepetitive},
		{"repeated chunk", "Tr0ub4dorTr0ub4dor", CodeRepetitive},
		{"mostly a sequence", "ab1234567890123", CodeRepetitive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkCode(DefaultPolicy(), tc.pw, context...); got != tc.want {
				t.Errorf("Check(%q) = %q, want %q", tc.pw, got, tc.want)
			}
		})
	}
}

func TestPolicyErrorCarriesTheLimits(t *testing.T) {
	err := Policy{MinLength: 20, MaxLength: 64}.Check("too short for this")
	var pe *PolicyError
	if !errors.As(err, &pe) || pe.Code != CodeTooShort || pe.Min != 20 || pe.Max != 64 {
		t.Fatalf("Check = %#v", err)
	}
	if pe.Error() != "password: shorter than 20 characters" {
		t.Fatalf("Error() = %q", pe.Error())
	}
	for _, code := range []string{CodeInvalidUTF8, CodeTooShort, CodeTooLong, CodeCommon, CodeContainsContext, CodeRepetitive} {
		if msg := (&PolicyError{Code: code}).Error(); strings.Contains(msg, "refused by policy") {
			t.Errorf("code %s has no message of its own", code)
		}
	}
}

func TestZeroPolicyIsDefaultPolicy(t *testing.T) {
	for _, pw := range []string{"short", "password1234567", "sunshine!!!!!!!", strings.Repeat("long ", 30), "correct horse battery staple"} {
		if got, want := checkCode(Policy{}, pw), checkCode(DefaultPolicy(), pw); got != want {
			t.Errorf("zero Policy on %q = %q, DefaultPolicy = %q", pw, got, want)
		}
	}
}

func TestPolicyUsesItsOwnBlocklist(t *testing.T) {
	p := Policy{Common: NewBlocklist("novgorodpolotsk")}
	if got := checkCode(p, "Novgorod Polotsk 1136"); got != CodeCommon {
		t.Fatalf("own blocklist word: %q, want common", got)
	}
	if got := checkCode(p, "sunshine!!!!!!!"); got != "" {
		t.Fatalf("shipped list still used: %q", got)
	}
}

func TestContextWordsShorterThanFourAreIgnored(t *testing.T) {
	if got := checkCode(DefaultPolicy(), "ann ann ann ann x7", "ann@example.org"); got == CodeContainsContext {
		t.Fatal("a three-letter context word was used")
	}
}

// Random passwords of the minimum length must pass: the pattern rules
// must not catch chance coincidences.
func TestPolicyAcceptsRandomPasswords(t *testing.T) {
	p := DefaultPolicy()
	for seed := range uint64(2000) {
		pw := randomText(15, seed)
		if err := p.Check(pw); err != nil {
			t.Errorf("Check(%q) = %v", pw, err)
		}
	}
}

// randomText returns n characters drawn from letters of two scripts,
// digits, symbols and the space, the same for the same seed.
func randomText(n int, seed uint64) string {
	alphabet := []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZжзклмнопрстуф0123456789!@#$%^&*()-_=+ ")
	r := rand.New(rand.NewPCG(seed, 42))
	out := make([]rune, n)
	for i := range out {
		out[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(out)
}

// FuzzPolicyCheck proves Check never panics and always answers nil or a
// *PolicyError with a known code.
func FuzzPolicyCheck(f *testing.F) {
	for _, s := range []string{"", "correct horse battery staple", "passwordpassword", "\xff\xfe", "ivan.petrov1990!", "e\u0301\u00a0"} {
		f.Add(s, "ivan.petrov@example.org")
	}
	known := map[string]bool{CodeInvalidUTF8: true, CodeTooShort: true, CodeTooLong: true, CodeCommon: true, CodeContainsContext: true, CodeRepetitive: true}
	f.Fuzz(func(t *testing.T, pw, context string) {
		err := DefaultPolicy().Check(pw, context, "veche")
		if err == nil {
			return
		}
		var pe *PolicyError
		if !errors.As(err, &pe) || !known[pe.Code] {
			t.Fatalf("Check = %v", err)
		}
	})
}
