package totp

import (
	"encoding/base32"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
)

// rfcSecret is the SHA-1 seed of RFC 6238 Appendix B, the ASCII string
// "12345678901234567890", in base32.
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

// RFC 6238 Appendix B, the SHA-1 rows: Unix time and 8-digit TOTP.
var rfc6238Vectors = []struct {
	unix int64
	code string
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

func TestGenerateMatchesRFC6238Vectors(t *testing.T) {
	for _, v := range rfc6238Vectors {
		got, err := generate(rfcSecret, stepAt(time.Unix(v.unix, 0)), otp.DigitsEight)
		if err != nil || got != v.code {
			t.Errorf("T=%d: code = %q, %v; want %q", v.unix, got, err, v.code)
		}
	}
}

// A 6-digit code is the 8-digit one modulo 10^6: its last six digits.
func TestVerifyAcceptsRFC6238VectorsAsSixDigitCodes(t *testing.T) {
	for _, v := range rfc6238Vectors {
		at := time.Unix(v.unix, 0)
		step, err := Verify(rfcSecret, v.code[2:], at, -1)
		if err != nil || step != v.unix/30 {
			t.Errorf("T=%d: Verify = %d, %v; want step %d", v.unix, step, err, v.unix/30)
		}
	}
}

func TestVerifyAcceptsOneStepOfSkewAndNoMore(t *testing.T) {
	secret, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_750_000_015, 0) // mid-step
	current := stepAt(now)
	for _, tc := range []struct {
		offset int64
		ok     bool
	}{
		{-2, false}, {-1, true}, {0, true}, {1, true}, {2, false},
	} {
		code, err := generate(secret, current+tc.offset, otp.DigitsSix)
		if err != nil {
			t.Fatal(err)
		}
		step, err := Verify(secret, code, now, -1)
		if tc.ok && (err != nil || step != current+tc.offset) {
			t.Errorf("offset %d: Verify = %d, %v; want step %d", tc.offset, step, err, current+tc.offset)
		}
		if !tc.ok && !errors.Is(err, ErrInvalidCode) {
			t.Errorf("offset %d: Verify = %d, %v; want ErrInvalidCode", tc.offset, step, err)
		}
	}
}

func TestVerifyRefusesReplayedAndOlderCodes(t *testing.T) {
	secret, _ := GenerateSecret()
	now := time.Unix(1_750_000_000, 0)
	current := stepAt(now)
	code, _ := generate(secret, current, otp.DigitsSix)

	step, err := Verify(secret, code, now, -1)
	if err != nil || step != current {
		t.Fatalf("first use: %d, %v", step, err)
	}
	if _, err := Verify(secret, code, now, step); !errors.Is(err, ErrReplayed) {
		t.Fatalf("same code again: %v, want ErrReplayed", err)
	}
	if _, err := Verify(secret, code, now.Add(30*time.Second), step); !errors.Is(err, ErrReplayed) {
		t.Fatalf("same code in the next step: %v, want ErrReplayed", err)
	}
	older, _ := generate(secret, current-1, otp.DigitsSix)
	if _, err := Verify(secret, older, now, step); !errors.Is(err, ErrReplayed) {
		t.Fatalf("older code after a newer one: %v, want ErrReplayed", err)
	}
	newer, _ := generate(secret, current+1, otp.DigitsSix)
	if got, err := Verify(secret, newer, now, step); err != nil || got != current+1 {
		t.Fatalf("next code: %d, %v", got, err)
	}
}

func TestVerifyRejectsMalformedCodes(t *testing.T) {
	secret, _ := GenerateSecret()
	now := time.Unix(1_750_000_000, 0)
	good, _ := generate(secret, stepAt(now), otp.DigitsSix)
	for _, tc := range []struct {
		code string
		ok   bool
	}{
		{good, true},
		{" " + good + " ", true},
		{good[:3] + " " + good[3:], true},
		{"\t" + good + "\n", true},
		{"", false},
		{"      ", false},
		{good[:5], false},
		{good + "0", false},
		{good[:5] + "a", false},
		{good[:5] + "٣", false}, // a non-ASCII digit
		{"-" + good[1:], false},
		{good[:3] + "-" + good[3:], false},
		{"+12345", false},
		{"0x1234", false},
		{strings.Repeat("1", 1000), false},
	} {
		_, err := Verify(secret, tc.code, now, -1)
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, ErrInvalidCode)) {
			t.Errorf("Verify(%q) = %v, want ok=%v", tc.code, err, tc.ok)
		}
	}
}

func TestVerifyRejectsMalformedSecrets(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	for _, secret := range []string{"", "GEZDGNBV", "not base32!", "GEZDGNBVGY3TQOJ1"} {
		if _, err := Verify(secret, "123456", now, -1); !errors.Is(err, ErrMalformedSecret) {
			t.Errorf("secret %q: %v, want ErrMalformedSecret", secret, err)
		}
	}
	// Lower case and padding, as some apps and older code write them, are accepted.
	if _, err := Verify(strings.ToLower(rfcSecret), "287082", time.Unix(59, 0), -1); err != nil {
		t.Errorf("lower-case secret: %v", err)
	}
	padded := base32.StdEncoding.EncodeToString([]byte("0123456789abcdef")) // 128 bits, "======" at the end
	code, _ := generate(padded, stepAt(now), otp.DigitsSix)
	if _, err := Verify(padded, code, now, -1); err != nil {
		t.Errorf("padded secret %q: %v", padded, err)
	}
}

func TestGenerateSecretIs160BitsOfBase32(t *testing.T) {
	a, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateSecret()
	if len(a) != 32 || strings.Contains(a, "=") || a == b {
		t.Fatalf("secrets %q, %q", a, b)
	}
	raw, err := secretEncoding.DecodeString(a)
	if err != nil || len(raw) != SecretSize {
		t.Fatalf("decodes to %d bytes, %v", len(raw), err)
	}
}

func TestStepAt(t *testing.T) {
	for _, tc := range []struct{ unix, step int64 }{
		{0, 0}, {29, 0}, {30, 1}, {59, 1}, {-1, -1}, {-30, -1}, {-31, -2},
	} {
		if got := stepAt(time.Unix(tc.unix, 0)); got != tc.step {
			t.Errorf("stepAt(%d) = %d, want %d", tc.unix, got, tc.step)
		}
	}
}

// FuzzVerify proves code parsing never panics and that only six digits
// can succeed.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{"287082", " 287 082 ", "", "٣٣٣٣٣٣", "12345\x00", "1234567", "\xff\xfe"} {
		f.Add(s)
	}
	at := time.Unix(59, 0)
	f.Fuzz(func(t *testing.T, code string) {
		step, err := Verify(rfcSecret, code, at, -1)
		if err != nil {
			if !errors.Is(err, ErrInvalidCode) {
				t.Fatalf("Verify(%q) = %v", code, err)
			}
			return
		}
		if step < 0 || step > 2 {
			t.Fatalf("step %d outside the skew window", step)
		}
		digits := strings.ReplaceAll(strings.TrimSpace(code), " ", "")
		if len(digits) != 6 || strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("accepted %q", code)
		}
	})
}
