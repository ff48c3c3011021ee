package browsertest

import (
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
)

// AxeTags are the axe-core rule tags every page is checked against: WCAG
// 2.0, 2.1 and 2.2 at levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// Violation is one axe-core rule that a page breaks, with the elements
// that break it.
type Violation struct {
	ID      string     `json:"id"`
	Impact  string     `json:"impact"`
	Help    string     `json:"help"`
	HelpURL string     `json:"helpUrl"`
	Nodes   []AxeNodes `json:"nodes"`
}

// AxeNodes is one element breaking a rule.
type AxeNodes struct {
	Target  []string `json:"target"`  // CSS selectors reaching the element
	HTML    string   `json:"html"`    // its markup, shortened by axe
	Summary string   `json:"summary"` // what to fix
}

const runAxeJS = `axe.run(document, {runOnly: {type: 'tag', values: %s}, resultTypes: ['violations']}).then(function(r) {
  return r.violations.map(function(v) {
    return {id: v.id, impact: v.impact || '', help: v.help, helpUrl: v.helpUrl, nodes: v.nodes.map(function(n) {
      return {target: n.target.map(String), html: n.html, summary: n.failureSummary || ''};
    })};
  });
})`

// Axe runs axe-core on the current page and returns the violations of the
// WCAG A and AA rules (AxeTags). The page's own Content-Security-Policy
// stays on: axe is injected through the DevTools protocol. The page is
// scrolled to its top first, as after loading, since axe judges target
// sizes by what is in view.
func (p *Page) Axe() []Violation {
	p.t.Helper()
	src, err := loadAxe()
	if err != nil {
		unavailable(p.t, err.Error())
	}
	ctx, cancel := p.timeout()
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object'`))
	if err != nil {
		p.fatalf("axe: %v", err)
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src+"\n;void 0")); err != nil {
			p.fatalf("axe: injecting axe.min.js: %v", err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
		p.fatalf("axe: %v", err)
	}
	tags := `["` + strings.Join(AxeTags, `","`) + `"]`
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](fmt.Sprintf(runAxeJS, tags), chromedp.EvalAwaitPromise))
	if err != nil {
		p.fatalf("axe: running: %v", err)
	}
	return vs
}

// CheckA11y runs axe-core on the current page and fails the test with a
// readable list of every WCAG A/AA violation: rule, impact, help, and each
// element's selector, markup and what to fix.
func (p *Page) CheckA11y() {
	p.t.Helper()
	if vs := p.Axe(); len(vs) > 0 {
		scheme := ""
		if p.scheme != "" {
			scheme = ", " + p.scheme + " colour scheme"
		}
		p.t.Errorf("axe-core: %s (lang %q%s, title %q) breaks %d WCAG rule(s):\n%s", p.URL(), p.Lang(), scheme, p.Title(), len(vs), FormatViolations(vs))
	}
}

// FormatViolations lists violations for a test failure message.
func FormatViolations(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "- %s (%s): %s\n  %s\n", v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "    at %s\n      %s\n", strings.Join(n.Target, " "), compact(n.HTML, 300))
			for _, line := range strings.Split(strings.TrimSpace(n.Summary), "\n") {
				if line = strings.TrimSpace(line); line != "" {
					fmt.Fprintf(&b, "      %s\n", line)
				}
			}
		}
	}
	return b.String()
}
