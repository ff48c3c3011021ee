package anonymize_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/veche/veche/internal/privacy/anonymize"
	"github.com/veche/veche/internal/privacy/anonymize/synthetic"
)

func TestParseHierarchy(t *testing.T) {
	tests := []struct {
		name, in string
		leaves   []string // nil = want an error
		errText  string
	}{
		{"three levels", "Belarus,Minsk Region,Barysaw\nBelarus,Minsk Region,Slutsk\nBelarus,Brest Region,Pinsk\n",
			[]string{"Barysaw", "Slutsk", "Pinsk"}, ""},
		{"uneven depth", "all,young\nall,old,retired\nall,old,working\n", []string{"young", "retired", "working"}, ""},
		{"quoted names", "\"Belarus, Republic of\",\"Minsk, city\"\n", []string{"Minsk, city"}, ""},
		{"blank lines", "\nall,a\n\nall,b\n", []string{"a", "b"}, ""},
		{"empty", "", nil, "no records"},
		{"root only", "all\n", nil, "at least one more level"},
		{"two roots", "all,a\nother,b\n", nil, "has root"},
		{"name under two parents", "all,x,a\nall,y,a\n", nil, `"a" appears under`},
		{"leaf and inner node", "all,a\nall,a,b\n", nil, "leaf and as an inner node"},
		{"inner node then leaf", "all,a,b\nall,a\n", nil, "leaf and as an inner node"},
		{"leaf twice", "all,a\nall,a\n", nil, "declared twice"},
		{"name repeats on its path", "all,a,a\n", nil, "appears twice on the path"},
		{"root on its own path", "all,all\n", nil, "appears twice on the path"},
		{"empty name", "all,,b\n", nil, "empty"},
		{"padded name", "all, a\n", nil, "leading or trailing space"},
		{"control character", "all,a\x01\n", nil, "control character"},
		{"bad quoting", "all,\"a\n", nil, "bad hierarchy"},
		{"too deep", "r" + strings.Repeat(",n", 40) + "\n", nil, "deeper than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := anonymize.ParseHierarchy(strings.NewReader(tt.in))
			if tt.leaves == nil {
				if err == nil || !errors.Is(err, anonymize.ErrHierarchy) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("error %v, want ErrHierarchy saying %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := h.Leaves(); !slices.Equal(got, tt.leaves) {
				t.Fatalf("leaves %v, want %v", got, tt.leaves)
			}
		})
	}
}

func TestHierarchyPathsAndRoundTrip(t *testing.T) {
	h := synthetic.Hierarchy()
	if got := h.Path("Pinsk"); !slices.Equal(got, []string{"Belarus", "Brest Region", "Pinsk"}) {
		t.Fatalf("path %v", got)
	}
	if h.Path("Atlantis") != nil || h.Depth() != 3 {
		t.Fatalf("path of a missing node or depth wrong")
	}
	back, err := anonymize.ParseHierarchy(bytes.NewReader(h.Format()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Format(), h.Format()) {
		t.Fatal("Format → ParseHierarchy → Format changed the hierarchy")
	}
	// a refused Add leaves the hierarchy as it was
	before := h.Format()
	if err := h.Add("Brest Region", "Pinsk", "Centre"); err == nil {
		t.Fatal("a leaf became an inner node")
	}
	if !bytes.Equal(h.Format(), before) {
		t.Fatal("a refused Add changed the hierarchy")
	}
}

// FuzzParseHierarchy checks that hierarchy files, which an operator may
// take from elsewhere, never crash the parser, and that whatever it accepts
// survives a round trip through Format.
func FuzzParseHierarchy(f *testing.F) {
	f.Add([]byte("Belarus,Minsk Region,Barysaw\nBelarus,Brest Region,Pinsk\n"))
	f.Add([]byte("all,a\nall,a,b\n"))
	f.Add([]byte("\"x,y\",\"z\"\"w\"\n"))
	f.Add(synthetic.Hierarchy().Format())
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := anonymize.ParseHierarchy(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, anonymize.ErrHierarchy) {
				t.Fatalf("error %v does not match ErrHierarchy", err)
			}
			return
		}
		out := h.Format()
		back, err := anonymize.ParseHierarchy(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("Format output %q does not parse: %v", out, err)
		}
		if !bytes.Equal(back.Format(), out) {
			t.Fatalf("round trip changed %q", out)
		}
		for _, leaf := range h.Leaves() {
			p := h.Path(leaf)
			if len(p) < 2 || p[0] != h.Root() || p[len(p)-1] != leaf {
				t.Fatalf("path of %q is %v", leaf, p)
			}
		}
	})
}
