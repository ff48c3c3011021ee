package voting

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gtank/ristretto255"
)

func TestCredentialCodeFormat(t *testing.T) {
	rnd := newSeededReader("credentials")
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		c, err := NewCredential("test-2026", rnd)
		if err != nil {
			t.Fatal(err)
		}
		code := c.Code()
		groups := strings.Split(code, "-")
		if len(groups) != 4 {
			t.Fatalf("%q is not four groups", code)
		}
		for _, g := range groups {
			if len(g) != 4 || strings.Trim(g, credentialAlphabet) != "" {
				t.Fatalf("%q: group %q", code, g)
			}
		}
		if seen[code] {
			t.Fatalf("%q drawn twice", code)
		}
		seen[code] = true
		for _, typed := range []string{code, strings.ReplaceAll(code, "-", ""), strings.ReplaceAll(code, "-", " "), " " + code + " "} {
			d, err := ParseCredential("test-2026", typed)
			if err != nil {
				t.Fatalf("%q: %v", typed, err)
			}
			if !d.Public().Equal(c.Public()) || d.u.Equal(c.u) != 1 {
				t.Fatalf("%q: another key", typed)
			}
		}
	}
}

func TestCredentialDerivation(t *testing.T) {
	c, err := ParseCredential("test-2026", "2222-2222-2222-222"+string(credentialAlphabet[credentialCheck("222222222222222")]))
	if err != nil {
		t.Fatal(err)
	}
	u := NewTranscript("credential").Bytes([]byte("test-2026")).Bytes([]byte(c.code)).Challenge()
	if u.Equal(c.u) != 1 || c.Public().u.e.Equal(ristretto255.NewIdentityElement().ScalarBaseMult(u)) != 1 {
		t.Error("u is not H(\"credential\", election id, code), or U is not u·G")
	}
	d, _ := ParseCredential("another", c.Code())
	if d.Public().Equal(c.Public()) {
		t.Error("the same code gives the same key in another election")
	}
}

func TestCredentialCheckCatchesEveryMistypedCharacter(t *testing.T) {
	c, _ := NewCredential("e", newSeededReader("typo"))
	code := c.code
	for i := 0; i < len(code); i++ {
		for _, r := range credentialAlphabet {
			if byte(r) == code[i] {
				continue
			}
			typo := code[:i] + string(r) + code[i+1:]
			d := strings.IndexByte(credentialAlphabet, code[i]) - strings.IndexRune(credentialAlphabet, r)
			_, err := ParseCredential("e", typo)
			if (d == 53 || d == -53) && i < credentialRandomChars {
				continue // the one kind of substitution a check mod 53 misses
			}
			if !errors.Is(err, ErrCredential) {
				t.Fatalf("%q (position %d) accepted", typo, i)
			}
		}
	}
	for i := 0; i+1 < credentialRandomChars; i++ {
		if code[i] == code[i+1] {
			continue
		}
		swapped := code[:i] + string(code[i+1]) + string(code[i]) + code[i+2:]
		d := strings.IndexByte(credentialAlphabet, code[i]) - strings.IndexByte(credentialAlphabet, code[i+1])
		if _, err := ParseCredential("e", swapped); !errors.Is(err, ErrCredential) && d != 53 && d != -53 {
			t.Errorf("swap at %d accepted", i)
		}
	}
	for name, typed := range map[string]string{
		"short":           code[:15],
		"long":            code + "2",
		"0 not in base58": "0" + code[1:],
		"l not in base58": "l" + code[1:],
		"not ASCII":       "é" + code[2:],
	} {
		if _, err := ParseCredential("e", typed); !errors.Is(err, ErrCredential) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCredentialDoesNotPrintItsCode(t *testing.T) {
	c, _ := NewCredential("e", newSeededReader("print"))
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, c); strings.Contains(out, c.code[:8]) {
			t.Errorf("%s prints the code: %s", format, out)
		}
	}
}

func TestPublicCredentialRefusesTheIdentity(t *testing.T) {
	if _, err := ParsePublicCredential(make([]byte, 32)); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("identity: %v", err)
	}
	if _, err := ParsePublicCredential(nonCanonicalElement()); !errors.Is(err, ErrEncoding) {
		t.Errorf("non-canonical: %v", err)
	}
	c, _ := NewCredential("e", newSeededReader("text"))
	text, _ := c.Public().MarshalText()
	var p PublicCredential
	if err := p.UnmarshalText(text); err != nil || !p.Equal(c.Public()) {
		t.Errorf("text round trip: %v", err)
	}
	if err := p.UnmarshalText([]byte(encodeHex(make([]byte, 32)))); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("UnmarshalText(identity): %v", err)
	}
}
