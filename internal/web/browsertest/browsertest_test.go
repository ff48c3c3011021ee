package browsertest

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

const goodPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>:focus-visible { outline: 3px solid #000; } a, button, input, select { display: inline-block; min-height: 24px; min-width: 24px; margin: 4px; }</style></head>
<body><a href="#main">Skip to main content</a><header><a href="/">Home</a></header>
<main id="main" tabindex="-1"><h1>%s</h1>%s</main></body></html>`

func testServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, goodPage, "Form", "Form", `<form method="post" action="/form">
<label for="name">Your name</label> <input id="name" name="name" autocomplete="name">
<label for="colour">Colour</label> <select id="colour" name="colour"><option value="r">Red</option><option value="g">Green</option></select>
<button type="submit">Send</button></form>`)
	})
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "__Host-who", Value: r.PostFormValue("name"), Path: "/", Secure: true, HttpOnly: true})
		http.Redirect(w, r, "/hello", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		who := "nobody"
		if c, err := r.Cookie("__Host-who"); err == nil {
			who = c.Value
		}
		fmt.Fprintf(w, goodPage, "Hello", "Hello "+html.EscapeString(who), "<p>Welcome.</p>")
	})
	mux.HandleFunc("GET /bad", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><head><title>Bad</title></head><body>
<p style="color:#bbb;background:#fff">faint text</p><input name="q"><a href="/x"></a></body></html>`)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestFillClickAndCookiesCarryAFlow fills a form by its labels, submits it
// with a click, follows the redirect and keeps the Secure cookie it set.
func TestFillClickAndCookiesCarryAFlow(t *testing.T) {
	srv := testServer(t)
	p := NewAt(t, srv.URL)
	if st := p.Open("/form"); st != 200 {
		t.Fatalf("status %d", st)
	}
	p.Fill("Your name", "Ada")
	p.Fill("Colour", "Green")
	if st := p.Click("Send"); st != 200 {
		t.Fatalf("after submit: status %d", st)
	}
	if p.Path() != "/hello" || !strings.Contains(p.Text(), "Hello Ada") {
		t.Fatalf("at %s: %q", p.Path(), p.Text())
	}
	p.Open("/hello")
	p.MustContain("Hello Ada")

	// A second page is another browser context, with no cookies.
	q := NewAt(t, srv.URL)
	q.Open("/hello")
	q.MustContain("Hello nobody")
}

// TestKeyboardOnly operates the form with Tab, typing and Enter alone.
func TestKeyboardOnly(t *testing.T) {
	srv := testServer(t)
	p := NewAt(t, srv.URL)
	p.Open("/form")
	if f := p.Focused(); f.Tag != "body" {
		t.Fatalf("focus starts on %s", f)
	}
	p.Press("Tab")
	if f := p.Focused(); f.Name != "Skip to main content" || !f.Visible {
		t.Fatalf("first Tab: %+v", f)
	}
	p.PressAndWait("Enter")
	if f := p.Focused(); f.ID != "main" {
		t.Fatalf("skip link moved focus to %s", f)
	}
	p.TabTo("Your name", 3)
	p.Type("Grace")
	p.TabTo("Send", 3)
	p.PressAndWait("Enter")
	p.MustContain("Hello Grace")
}

// TestAxeReportsViolations checks a clean page passes and a broken one
// is reported with rule ids.
func TestAxeReportsViolations(t *testing.T) {
	srv := testServer(t)
	p := NewAt(t, srv.URL)
	p.Open("/form")
	if vs := p.Axe(); len(vs) != 0 {
		t.Fatalf("clean page:\n%s", FormatViolations(vs))
	}
	p.Open("/bad")
	got := map[string]bool{}
	for _, v := range p.Axe() {
		got[v.ID] = true
	}
	for _, want := range []string{"html-has-lang", "color-contrast", "label", "link-name"} {
		if !got[want] {
			t.Errorf("axe did not report %s; got %v", want, got)
		}
	}
}

// TestViewportZeroRestoresTheWindow: after a reflow check at 320 px the
// tab is back at its own width, so later checks in the same tab do not
// run on a phone-sized window.
func TestViewportZeroRestoresTheWindow(t *testing.T) {
	srv := testServer(t)
	p := NewAt(t, srv.URL)
	p.Open("/form")
	before := Eval[int](p, `innerWidth`)
	p.Viewport(320, 640)
	if w := Eval[int](p, `innerWidth`); w != 320 {
		t.Fatalf("innerWidth %d at a 320 px viewport", w)
	}
	p.Viewport(0, 0)
	if w := Eval[int](p, `innerWidth`); w != before || w == 320 {
		t.Fatalf("innerWidth %d after Viewport(0, 0), want %d as before", w, before)
	}
}
