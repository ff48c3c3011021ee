package backup

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecodeRowKnownAnswers(t *testing.T) {
	cols := []Column{{"id", Integer}, {"name", Text}, {"blob", Bytes}, {"ok", Boolean}, {"score", Real}}
	tests := []struct {
		line string
		want []any // nil: must fail
	}{
		{`[1,"a","AAE=",true,1.5]`, []any{int64(1), "a", []byte{0, 1}, true, 1.5}},
		{`[-9223372036854775808,"",""  ,false,-0]`, []any{int64(-9223372036854775808), "", []byte{}, false, 0.0}},
		{`[null,null,null,null,null]`, []any{nil, nil, nil, nil, nil}},
		{`[2,{"b64":"/w=="},null,null,null]`, []any{int64(2), "\xff", nil, nil, nil}},
		{`[1,"a","AAE=",true]`, nil},                      // a value missing
		{`[1,"a","AAE=",true,1,2]`, nil},                  // one too many
		{`[1.5,"a",null,null,null]`, nil},                 // not an integer
		{`[9223372036854775808,"a",null,null,null]`, nil}, // out of range
		{`["1","a",null,null,null]`, nil},                 // a string for an integer
		{`[1,2,null,null,null]`, nil},                     // a number for text
		{`[1,"a","AAE",null,null]`, nil},                  // base64 without padding
		{`[1,"a",null,1,null]`, nil},                      // a number for a boolean
		{`[1,{"b64":"AA==","x":1},null,null,null]`, nil},  // extra key
		{`[1,"a",null,null,null] [1]`, nil},               // data after the row
		{`{"id":1}`, nil},
		{``, nil},
	}
	for _, tt := range tests {
		got, err := decodeRow([]byte(tt.line), cols)
		if tt.want == nil {
			if !errors.Is(err, errRow) {
				t.Errorf("decodeRow(%s) = %v, %v; want an errRow", tt.line, got, err)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("decodeRow(%s) = %v, %v", tt.line, got, err)
			continue
		}
		for i := range got {
			gb, gok := got[i].([]byte)
			wb, wok := tt.want[i].([]byte)
			if gok != wok || (gok && (!bytes.Equal(gb, wb) || gb == nil)) || (!gok && got[i] != tt.want[i]) {
				t.Errorf("decodeRow(%s)[%d] = %#v, want %#v", tt.line, i, got[i], tt.want[i])
			}
		}
	}
}

// FuzzTextRoundTrip: any text, valid UTF-8 or not, comes back byte for
// byte.
func FuzzTextRoundTrip(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "ctl\x00\x01\x1f\x7f", "\n\r\t", "Вече 🗳️", "\xff\xfe", "\u2028\u2029", "<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line := append(appendText([]byte("["), s), ']', '\n')
		got, err := decodeRow(line, []Column{{"t", Text}})
		if err != nil {
			t.Fatalf("decode %q: %v", line, err)
		}
		if got[0] != s {
			t.Fatalf("round trip of %q gave %q", s, got[0])
		}
	})
}

// FuzzDecodeRow: hostile lines fail with errRow and never panic.
func FuzzDecodeRow(f *testing.F) {
	for _, s := range []string{`[1,"a","AAE=",true,1.5]`, `[null,null,null,null,null]`, `[1,{"b64":"/w=="},"",false,0]`, `[`, `[[]]`} {
		f.Add([]byte(s))
	}
	cols := []Column{{"id", Integer}, {"name", Text}, {"blob", Bytes}, {"ok", Boolean}, {"score", Real}}
	f.Fuzz(func(t *testing.T, line []byte) {
		if _, err := decodeRow(line, cols); err != nil && !errors.Is(err, errRow) {
			t.Fatalf("decodeRow(%q): %v is not an errRow", line, err)
		}
	})
}
