package markdown

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestHTMLRemovesScript(t *testing.T) {
	tests := []struct{ name, src, mustNot, must string }{
		{"raw script", "hi <script>alert(1)</script>", "<script", "hi"},
		{"event handler", `<img src=x onerror=alert(1)>`, "onerror", ""},
		{"javascript link", "[click](javascript:alert(1))", "javascript:", "click"},
		{"data link", "[x](data:text/html;base64,PHNjcmlwdD4=)", "data:text/html", "x"},
		{"iframe", "<iframe src=https://evil.example></iframe>", "<iframe", ""},
		{"emphasis kept", "**bold** and _it_", "<script", "<strong>bold</strong>"},
		{"link kept", "[site](https://example.org)", "javascript", `href="https://example.org"`},
		{"table kept", "|a|b|\n|-|-|\n|1|2|", "<script", "<table>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(HTML(tt.src))
			if strings.Contains(strings.ToLower(got), tt.mustNot) {
				t.Errorf("HTML(%q) = %q, contains %q", tt.src, got, tt.mustNot)
			}
			if !strings.Contains(got, tt.must) {
				t.Errorf("HTML(%q) = %q, lacks %q", tt.src, got, tt.must)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	src := "Intro text\n\n## Goals\nWe want parks.\n\n```\n## not a heading\n```\n## Budget ##\nMoney.\n"
	got := Split(src)
	want := []Section{{"", "Intro text"}, {"Goals", "We want parks.\n\n```\n## not a heading\n```"}, {"Budget", "Money."}}
	if len(got) != len(want) {
		t.Fatalf("Split = %#v, want %#v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("section %d = %#v, want %#v", i, got[i], want[i])
		}
	}
	if n := len(Split("no headings at all")); n != 1 {
		t.Errorf("a document without headings has %d sections, want 1", n)
	}
}

func TestLinkCount(t *testing.T) {
	for src, want := range map[string]int{"none here": 0, "see https://a.example and www.b.example": 2, "[x](http://c.example)": 1} {
		if got := LinkCount(src); got != want {
			t.Errorf("LinkCount(%q) = %d, want %d", src, got, want)
		}
	}
}

// unsafeMarkup returns what in an HTML fragment could run script: a
// script, iframe, object or embed element, an on* attribute, or a URL
// attribute with a javascript:, vbscript: or data: scheme.
func unsafeMarkup(fragment string) string {
	z := html.NewTokenizer(strings.NewReader(fragment))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "iframe", "object", "embed", "style":
				return "element " + tok.Data
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
				if strings.HasPrefix(a.Key, "on") {
					return "attribute " + a.Key
				}
				if (a.Key == "href" || a.Key == "src") && (strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:")) {
					return "URL " + a.Val
				}
			}
		}
	}
}

func FuzzHTML(f *testing.F) {
	for _, s := range []string{"<script>x</script>", "[a](javascript:b)", "**x**", "<a href=\"java\tscript:x\">y</a>", "<img src=x onerror=y>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got := string(HTML(src))
		if bad := unsafeMarkup(got); bad != "" {
			t.Fatalf("HTML(%q) keeps %s: %s", src, bad, got)
		}
	})
}
