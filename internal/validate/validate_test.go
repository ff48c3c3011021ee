package validate

import (
	"errors"
	"testing"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, value string
		required    bool
		want        string
	}{
		{"ok", "hello", true, ""},
		{"empty optional", "", false, ""},
		{"empty required", "  ", true, "required"},
		{"too long", "abcdef", true, "too_long"},
		{"bad utf8", "a\xffb", true, "invalid_utf8"},
		{"control", "a\x00b", true, "control_chars"},
		{"newline ok", "a\nb", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Errors
			ok := Text(&e, "f", tt.value, tt.required, 5)
			got := ""
			if len(e) > 0 {
				got = e[0].Code
			}
			if got != tt.want || ok != (tt.want == "") {
				t.Fatalf("Text(%q) = %v %q, want %q", tt.value, ok, got, tt.want)
			}
		})
	}
}

func TestErrorsMatchErrInvalid(t *testing.T) {
	err := One("email", "required", nil)
	if !errors.Is(err, ErrInvalid) {
		t.Fatal("Errors does not match ErrInvalid")
	}
	var e Errors
	if !errors.As(err, &e) || e[0].Field != "email" {
		t.Fatalf("errors.As gave %v", e)
	}
	if (Errors{}).Err() != nil {
		t.Fatal("empty Errors is not nil error")
	}
}
