package i18n

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestEveryCatalogHasEveryKeyWithTheSameParameters(t *testing.T) {
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	params := func(s string) string {
		p := param.FindAllString(s, -1)
		sort.Strings(p)
		return strings.Join(p, ",")
	}
	for _, l := range Langs {
		for _, k := range Keys(Default) {
			msg, ok := catalogs[l][k]
			if !ok {
				t.Errorf("%s: missing key %q", l, k)
				continue
			}
			if strings.TrimSpace(msg) == "" {
				t.Errorf("%s: key %q is empty", l, k)
			}
			if params(msg) != params(catalogs[Default][k]) {
				t.Errorf("%s: %q has parameters %q, English has %q", l, k, params(msg), params(catalogs[Default][k]))
			}
		}
		for _, k := range Keys(l) {
			if _, ok := catalogs[Default][k]; !ok {
				t.Errorf("%s: key %q is not in the English catalog", l, k)
			}
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		explicit, header string
		want             Lang
	}{
		{"", "", English},
		{"", "be-BY,be;q=0.9,en;q=0.5", Belarusian},
		{"", "ru-RU,ru;q=0.9", Russian},
		{"", "de-DE,de;q=0.9", English},
		{"", "de;q=0.9,ru;q=0.8", Russian},
		{"be", "ru", Belarusian},
		{"xx", "ru", Russian},
		{"", ";;;garbage", English},
	}
	for _, tt := range tests {
		if got := Negotiate(tt.explicit, tt.header); got != tt.want {
			t.Errorf("Negotiate(%q, %q) = %q, want %q", tt.explicit, tt.header, got, tt.want)
		}
	}
}

func TestTFillsParameters(t *testing.T) {
	catalogs[English]["test.greeting"] = "Hello, {name}: {n}"
	defer delete(catalogs[English], "test.greeting")
	if got := T(English, "test.greeting", "name", "Ala", "n", 3); got != "Hello, Ala: 3" {
		t.Fatalf("T = %q", got)
	}
	if got := T(Russian, "no.such.key"); got != "no.such.key" {
		t.Fatalf("missing key rendered %q", got)
	}
}
