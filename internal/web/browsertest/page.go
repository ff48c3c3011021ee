package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Page is one browser tab in its own browser context. Its methods fail the
// test on any error, so a flow reads as a list of steps. A Page is not safe
// for use by several goroutines.
type Page struct {
	t      testing.TB
	ctx    context.Context
	base   *url.URL
	status int
	scheme string // emulated colour scheme, for messages
}

// NewAt is New with a base URL against which Open resolves paths, usually
// an httptest server's URL.
func NewAt(t testing.TB, baseURL string) *Page {
	t.Helper()
	p := New(t)
	u, err := url.Parse(baseURL)
	if err != nil {
		t.Fatalf("browser: base URL %q: %v", baseURL, err)
	}
	p.base = u
	return p
}

// With returns the page bound to another test, typically a subtest, so its
// failures are reported there. The two share the tab and its cookies.
func (p *Page) With(t testing.TB) *Page {
	q := *p
	q.t = t
	return &q
}

// T is the test the page reports to.
func (p *Page) T() testing.TB { return p.t }

func (p *Page) fatalf(format string, args ...any) {
	p.t.Helper()
	loc := ""
	if u := p.currentURL(); u != "" {
		loc = " (on " + u + ")"
	}
	p.t.Fatalf("browser: "+format+loc, args...)
}

func (p *Page) resolve(ref string) string {
	if p.base == nil {
		return ref
	}
	u, err := p.base.Parse(ref)
	if err != nil {
		p.t.Fatalf("browser: URL %q: %v", ref, err)
	}
	return u.String()
}

// Open loads url (a path is resolved against the base URL given to NewAt)
// and waits for it; it returns the HTTP status of the document.
func (p *Page) Open(url string) int {
	p.t.Helper()
	ctx, cancel := p.timeout()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(p.resolve(url)))
	if err != nil {
		p.t.Fatalf("browser: open %s: %v", url, err)
	}
	p.status = 0
	if resp != nil {
		p.status = int(resp.Status)
	}
	return p.status
}

// Status is the HTTP status of the last document loaded by Open, Click or
// PressAndWait (the final one, after redirects).
func (p *Page) Status() int { return p.status }

// URL is the address of the current document.
func (p *Page) URL() string {
	p.t.Helper()
	u := p.currentURL()
	if u == "" {
		p.fatalf("no current URL")
	}
	return u
}

// Path is the path and query of the current document.
func (p *Page) Path() string {
	p.t.Helper()
	u, err := url.Parse(p.URL())
	if err != nil {
		p.fatalf("%v", err)
	}
	return u.RequestURI()
}

func (p *Page) currentURL() string {
	ctx, cancel := p.timeout()
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return ""
	}
	return u
}

// Title is the document's title.
func (p *Page) Title() string { return Eval[string](p, `document.title`) }

// Lang is the document's lang attribute.
func (p *Page) Lang() string { return Eval[string](p, `document.documentElement.lang`) }

// Text is the visible text of the page's main landmark (of the body when
// it has none), as a person reads it.
func (p *Page) Text() string {
	return Eval[string](p, `(document.querySelector('main') || document.body).innerText`)
}

// TextOf is the visible text of the first element matching a CSS selector,
// or "" when none does.
func (p *Page) TextOf(selector string) string {
	return Eval[string](p, fmt.Sprintf(`(function(){var e=document.querySelector(%s);return e?e.innerText:""})()`, jsString(selector)))
}

// Contains reports whether the whole page's visible text contains s.
func (p *Page) Contains(s string) bool {
	return strings.Contains(Eval[string](p, `document.body.innerText`), s)
}

// MustContain fails the test unless the page's visible text contains s.
func (p *Page) MustContain(s string) {
	p.t.Helper()
	if !p.Contains(s) {
		p.fatalf("the page does not say %q; it says:\n%s", s, compact(Eval[string](p, `document.body.innerText`), 2000))
	}
}

// HTML is the current document's markup.
func (p *Page) HTML() string { return Eval[string](p, `document.documentElement.outerHTML`) }

// Eval evaluates a JavaScript expression in the page and decodes its
// result (JSON-compatible) into T.
func Eval[T any](p *Page, js string) T {
	p.t.Helper()
	ctx, cancel := p.timeout()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.fatalf("evaluate %s: %v", compact(js, 120), err)
	}
	return v
}

// EvalAsync is Eval for an expression that returns a promise: it waits
// for the promise and decodes its value.
func EvalAsync[T any](p *Page, js string) T {
	p.t.Helper()
	ctx, cancel := p.timeout()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.fatalf("evaluate %s: %v", compact(js, 120), err)
	}
	return v
}

// SetCookie sets a cookie for the base URL (or the current page's origin),
// e.g. the language choice.
func (p *Page) SetCookie(name, value string) {
	p.t.Helper()
	target := ""
	if p.base != nil {
		target = p.base.String()
	} else {
		target = p.URL()
	}
	ctx, cancel := p.timeout()
	defer cancel()
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: target}); err != nil {
		p.fatalf("set cookie %s: %v", name, err)
	}
}

// ColorScheme emulates the reader's preferred colour scheme, "light" or
// "dark" ("" stops emulating), for the pages loaded after it and the
// current one.
func (p *Page) ColorScheme(scheme string) {
	p.t.Helper()
	ctx, cancel := p.timeout()
	defer cancel()
	p.scheme = scheme
	var features []*emulation.MediaFeature
	if scheme != "" {
		features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features}); err != nil {
		p.fatalf("emulate colour scheme %q: %v", scheme, err)
	}
	p.settle()
}

// Viewport sets the window's CSS size, e.g. 320×640 to check reflow
// (WCAG 1.4.10); Viewport(0, 0) gives the tab its own window size back.
func (p *Page) Viewport(width, height int) {
	p.t.Helper()
	ctx, cancel := p.timeout()
	defer cancel()
	var err error
	if width == 0 && height == 0 {
		// An override of 0×0 leaves the emulated device in place at its
		// last size: the override must be cleared instead.
		_, err = chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
	} else {
		_, err = chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: int64(width), Height: int64(height), DeviceScaleFactor: 1})
	}
	if err != nil {
		p.fatalf("viewport %dx%d: %v", width, height, err)
	}
	p.settle()
}

// settle waits until the page has drawn two frames, so layout follows an
// emulation change before the next check reads it.
func (p *Page) settle() {
	p.t.Helper()
	EvalAsync[bool](p, `new Promise(function(r) { requestAnimationFrame(function() { requestAnimationFrame(function() { r(true); }); }); })`)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Screenshot saves the whole page, as the reader would scroll through it,
// as NAME.png in the directory VECHE_SCREENSHOTS names, and does nothing
// when it is unset. Names should sort in the order of the walk-through,
// e.g. "03-officer-draft".
func (p *Page) Screenshot(name string) {
	p.t.Helper()
	dir := os.Getenv(EnvScreenshots)
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.fatalf("screenshot %s: %v", name, err)
	}
	p.settle()
	ctx, cancel := p.timeout()
	defer cancel()
	// Quality 100 asks Chromium for PNG, lossless, rather than JPEG.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		p.fatalf("screenshot %s: %v", name, err)
	}
}
