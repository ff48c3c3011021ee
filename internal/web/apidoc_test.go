package web

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/veche/veche/internal/store/storetest"
)

// apiDocGlob names the API reference files that together must list every
// /api/ route: docs/api.md for accounts and privacy, docs/api-<area>.md for
// each feature area.
const apiDocGlob = "../../docs/api*.md"

// apiDoc is one file of the API reference.
type apiDoc struct{ name, text string }

// apiDocHeading is an endpoint heading of docs/api.md: "### `METHOD /path`".
var apiDocHeading = regexp.MustCompile("^### `([A-Z]+) (/\\S*)`$")

// apiDocDiff compares the endpoint headings of an API reference with the
// /api/ routes of the route table and returns one line per difference:
// routes without a heading, headings without a route, duplicated headings,
// and headings that look like endpoint headings but are not in the exact
// form (so a typo cannot hide an endpoint from the check).
func apiDocDiff(docs []apiDoc, routes []route) []string {
	var problems []string
	documented := map[string]string{} // "METHOD /path" -> file:line
	for _, doc := range docs {
		problems = append(problems, scanAPIDoc(doc, documented)...)
	}
	served := map[string]bool{}
	for _, rt := range routes {
		if !strings.HasPrefix(rt.path, "/api/") {
			continue
		}
		key := rt.method + " " + rt.path
		served[key] = true
		if _, ok := documented[key]; !ok {
			problems = append(problems, fmt.Sprintf("route %s (routes.go) has no heading \"### `%s`\" in docs/api*.md", key, key))
		}
	}
	var extra []string
	for key, at := range documented {
		if !served[key] {
			extra = append(extra, fmt.Sprintf("%s: documents %s, which routes.go does not serve", at, key))
		}
	}
	slices.Sort(extra)
	return append(problems, extra...)
}

// scanAPIDoc records the endpoint headings of one reference file in
// documented and returns the problems found in it.
func scanAPIDoc(doc apiDoc, documented map[string]string) []string {
	var problems []string
	for i, line := range strings.Split(doc.text, "\n") {
		at := fmt.Sprintf("%s:%d", doc.name, i+1)

		line = strings.TrimRight(line, " \t\r")
		if !strings.HasPrefix(line, "### `") {
			continue
		}
		m := apiDocHeading.FindStringSubmatch(line)
		if m == nil {
			if strings.Contains(line, "/api/") {
				problems = append(problems, fmt.Sprintf("%s: heading %q is not of the form \"### `METHOD /api/v1/path`\"", at, line))
			}
			continue
		}
		if !strings.HasPrefix(m[2], "/api/") {
			continue // /log/..., /healthz: not in the route table
		}
		key := m[1] + " " + m[2]
		if first, dup := documented[key]; dup {
			problems = append(problems, fmt.Sprintf("%s: %s is documented twice (first at %s)", at, key, first))
			continue
		}
		documented[key] = at
	}
	return problems
}

// TestAPIDocumentsEveryRoute keeps docs/api*.md in step with routes.go:
// every /api/ route has its section and every documented endpoint exists.
func TestAPIDocumentsEveryRoute(t *testing.T) {
	names, err := filepath.Glob(apiDocGlob)
	if err != nil || len(names) == 0 {
		t.Fatalf("find the API reference (%s): %v", apiDocGlob, err)
	}
	var docs []apiDoc
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("read the API reference: %v", err)
		}
		docs = append(docs, apiDoc{strings.TrimPrefix(name, "../../"), string(b)})
	}
	routes := newTestEnv(t, storetest.SQLite(t), nil).web.routes()
	for _, p := range apiDocDiff(docs, routes) {
		t.Error(p)
	}
}

// TestAPIDocDiffFindsDifferences proves the check above can fail: a
// missing heading, an extra one, a duplicate and a malformed one are each
// reported.
func TestAPIDocDiffFindsDifferences(t *testing.T) {
	routes := []route{
		{method: "GET", path: "/api/v1/account"},
		{method: "POST", path: "/api/v1/sessions"},
		{method: "DELETE", path: "/api/v1/sessions/{id}"},
		{method: "GET", path: "/account"}, // a page: never needs a heading
	}
	complete := "# API\n\n### `GET /api/v1/account`\n\ntext\n\n### `POST /api/v1/sessions`\n\n### `DELETE /api/v1/sessions/{id}`\n\n### `GET /log/checkpoint`\n"
	tests := []struct {
		name, doc string
		want      []string // substrings, one per expected problem
	}{
		{"complete", complete, nil},
		{"missing heading", strings.Replace(complete, "### `POST /api/v1/sessions`\n", "", 1),
			[]string{"route POST /api/v1/sessions (routes.go) has no heading"}},
		{"endpoint not served", complete + "\n### `PUT /api/v1/sessions/{id}`\n",
			[]string{"documents PUT /api/v1/sessions/{id}, which routes.go does not serve"}},
		{"wrong placeholder", strings.Replace(complete, "{id}`", "{session}`", 1),
			[]string{"route DELETE /api/v1/sessions/{id} (routes.go) has no heading", "documents DELETE /api/v1/sessions/{session}"}},
		{"duplicate", complete + "### `GET /api/v1/account`\n", []string{"GET /api/v1/account is documented twice"}},
		{"malformed", strings.Replace(complete, "### `POST /api/v1/sessions`", "### `post /api/v1/sessions`", 1),
			[]string{"is not of the form", "route POST /api/v1/sessions (routes.go) has no heading"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := apiDocDiff([]apiDoc{{"docs/api.md", tt.doc}}, routes)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, w) }) {
					t.Errorf("no problem mentions %q:\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}
