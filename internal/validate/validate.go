// Package validate is the one place where input problems are described.
// Domain services return an [Errors] value naming each wrong field with a
// machine code and parameters; the web layer translates the code into a
// message in the reader's language and shows it next to the field, and the
// JSON API returns it as-is with status 422.
package validate

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// ErrInvalid matches any [Errors] with errors.Is.
var ErrInvalid = errors.New("invalid input")

// FieldError says what is wrong with one field.
type FieldError struct {
	Field  string         `json:"field"`
	Code   string         `json:"code"`             // e.g. "required", "too_long", "email"
	Params map[string]any `json:"params,omitempty"` // e.g. {"max": 128}
}

// Errors collects field errors; the zero value is empty and ready to use.
type Errors []FieldError

// Add records a problem with field.
func (e *Errors) Add(field, code string, params map[string]any) {
	*e = append(*e, FieldError{Field: field, Code: code, Params: params})
}

// Err returns e as an error, or nil when nothing was recorded.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// Error lists the problems in a form fit for logs and API clients.
func (e Errors) Error() string {
	parts := make([]string, 0, len(e))
	for _, f := range e {
		s := f.Field + ": " + f.Code
		if len(f.Params) > 0 {
			keys := make([]string, 0, len(f.Params))
			for k := range f.Params {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				s += fmt.Sprintf(" %s=%v", k, f.Params[k])
			}
		}
		parts = append(parts, s)
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true for any Errors.
func (e Errors) Is(target error) bool { return target == ErrInvalid }

// Field returns the first error recorded for field, if any.
func (e Errors) Field(name string) (FieldError, bool) {
	for _, f := range e {
		if f.Field == name {
			return f, true
		}
	}
	return FieldError{}, false
}

// One returns an error holding a single field problem.
func One(field, code string, params map[string]any) error {
	return Errors{{Field: field, Code: code, Params: params}}
}

// Text checks a free-text field: valid UTF-8, no control characters other
// than newlines and tabs, and at most max characters. It records a problem
// on e and reports whether the value was acceptable.
func Text(e *Errors, field, value string, required bool, max int) bool {
	switch {
	case !utf8.ValidString(value):
		e.Add(field, "invalid_utf8", nil)
	case required && strings.TrimSpace(value) == "":
		e.Add(field, "required", nil)
	case utf8.RuneCountInString(value) > max:
		e.Add(field, "too_long", map[string]any{"max": max})
	case strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f }):
		e.Add(field, "control_chars", nil)
	default:
		return true
	}
	return false
}
