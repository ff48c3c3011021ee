package web

// Accessibility in a real browser: every page of the route table, in every
// language, signed out and signed in as a role that may open it, is checked
// by axe-core in headless Chromium against WCAG 2.0/2.1/2.2 A and AA
// (browsertest.AxeTags); so are forms showing errors and the error pages.
// The sweep walks the route table, so a new page is checked as soon as it
// has a route: one without wildcards needs nothing more; one with wildcards
// or query parameters gets an entry in a11yVisits.

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/web/browsertest"
)

// a11yVisit is one address of a page route, and the status it answers.
type a11yVisit struct {
	path   string
	status int
}

// notHTML are GET routes outside /api/ that answer with something other
// than an HTML page (downloads), so axe has nothing to check. A feature
// area adds its own in an init func of its test file.
var notHTML = map[string]string{
	"/account/data.json":             "a JSON download of one's data",
	"/account/consents/{id}/receipt": "a JSON download (the signed consent receipt)",
}

// a11yVisits are the addresses to check for page routes that need more
// than their pattern: wildcards, query parameters, or states of the page
// worth checking (search results, a filter's error). Routes not listed are
// visited at their pattern. fx has the data to fill them from.
// Each feature area may add its own in an init func of its own test file,
// through a11yAreaVisits. fx.e is nil when only the addresses' presence is
// being checked (TestEveryPageRouteIsCheckedForAccessibility).
func a11yVisits(fx *a11yFixture) map[string][]a11yVisit {
	out := foundationVisits(fx)
	for _, area := range a11yAreaVisits {
		for path, vs := range area(fx) {
			out[path] = append(out[path], vs...)
		}
	}
	return out
}

// a11yAreaVisits are the feature areas' additions to a11yVisits.
var a11yAreaVisits []func(fx *a11yFixture) map[string][]a11yVisit

// foundationVisits are a11yVisits for the routes of routes.go.
func foundationVisits(fx *a11yFixture) map[string][]a11yVisit {
	citizen := fmt.Sprint(fx.citizen)
	return map[string][]a11yVisit{
		"/verify-email":   {{"/verify-email?token=not-a-real-token", 200}},
		"/password/reset": {{"/password/reset?token=not-a-real-token", 200}},
		"/reauth":         {{"/reauth?next=%2Faccount", 200}},
		"/signin/mfa":     {{"/signin/mfa?next=%2Faccount", 200}},
		"/account/requests": {
			{"/account/requests", 200},
			{"/account/requests?sent=1", 200},
		},
		"/admin/accounts": {
			{"/admin/accounts", 200},
			{"/admin/accounts?q=citizen%40example.org&purpose=support", 200},
			{"/admin/accounts?q=citizen%40example.org", 422}, // no purpose stated
		},
		"/admin/accounts/{id}": {
			{"/admin/accounts/" + citizen, 200}, // asks for the purpose first
			{"/admin/accounts/" + citizen + "?purpose=support", 200},
			{"/admin/accounts/" + citizen + "?purpose=break_glass", 422}, // no justification
		},
		"/security/events": {
			{"/security/events", 200},
			{"/security/events?kind=signin_failed", 200},
			{"/security/events?kind=no-such-kind", 422},
		},
	}
}

// pageRoutes are the routes that serve HTML pages to a browser.
func pageRoutes(s *Server) []route {
	var out []route
	for _, rt := range s.routes() {
		if rt.method != "GET" || strings.HasPrefix(rt.path, "/api/") {
			continue
		}
		if _, ok := notHTML[rt.path]; ok {
			continue
		}
		out = append(out, rt)
	}
	return out
}

// a11yRole is who opens a route in the sweep: nobody for public routes,
// a citizen for one's own account, else the first staff role holding the
// route's permission.
func a11yRole(rt route) (identity.Role, bool) {
	if !rt.access.signedIn {
		return "", true
	}
	for _, r := range identity.Roles {
		if holds(r, rt.access.perm) {
			return r, true
		}
	}
	return "", false
}

// a11yFixture is an instance with data on every page: a citizen with a
// consent, a data-subject request and staff reads of their data, failed
// sign-ins, and one signed-in browser per role needed.
type a11yFixture struct {
	t       *testing.T // the test that owns the browsers
	e       *testEnv
	citizen int64
	holders map[identity.Role]*roleHolder
	pages   map[identity.Role]*browsertest.Page // "" is signed out
}

const a11yCitizen = "citizen@example.org"

func newA11yFixture(t *testing.T) *a11yFixture {
	t.Helper()
	e := newTestEnv(t, storetest.SQLite(t), nil)
	fx := &a11yFixture{t: t, e: e, holders: map[identity.Role]*roleHolder{}, pages: map[identity.Role]*browsertest.Page{}}
	fx.citizen = e.createUser(a11yCitizen)
	fx.holders[identity.RoleCitizen] = &roleHolder{role: identity.RoleCitizen, id: fx.citizen, email: a11yCitizen}

	b := e.browser()
	b.signIn(a11yCitizen, "")
	for _, p := range privacy.Purposes {
		if p.NeedsConsent() {
			if pg := b.post("/account/consents", url.Values{"purpose": {p.ID}, "action": {"give"}}); pg.status != 303 {
				t.Fatalf("give consent: %d\n%s", pg.status, pg.body)
			}
			break
		}
	}
	if pg := b.post("/account/requests", url.Values{"kind": {string(privacy.RequestOther)}, "details": {"Please correct my address."}}); pg.status != 303 {
		t.Fatalf("file a request: %d\n%s", pg.status, pg.body)
	}
	// A failed sign-in, for the security events page.
	e.browser().post("/signin", url.Values{"email": {a11yCitizen}, "password": {"not the password at all"}})
	// Staff reads of the citizen's data, one of them break-glass.
	dpo := fx.holder(t, identity.RoleDPO).browser(e)
	for _, q := range []string{"purpose=support", "purpose=break_glass&justification=" + url.QueryEscape("Incident 12: checking a report")} {
		if pg := dpo.get(fmt.Sprintf("/admin/accounts/%d?%s", fx.citizen, q)); pg.status != 200 {
			t.Fatalf("staff read: %d\n%s", pg.status, pg.body)
		}
	}
	return fx
}

// holder is a person holding role, made on first use.
func (fx *a11yFixture) holder(t *testing.T, role identity.Role) *roleHolder {
	t.Helper()
	if h, ok := fx.holders[role]; ok {
		return h
	}
	h := newRoleHolder(fx.e, role, 1)
	fx.holders[role] = h
	return h
}

// page is a browser signed in as role ("" for nobody), made on first use.
func (fx *a11yFixture) page(t *testing.T, role identity.Role) *browsertest.Page {
	t.Helper()
	if p, ok := fx.pages[role]; ok {
		return p.With(t)
	}
	// The tab lives as long as the whole test, not the subtest asking.
	p := browsertest.NewAt(fx.t, fx.e.srv.URL).With(t)
	if role != "" {
		h := fx.holder(t, role)
		fx.signIn(p, h.email, h.secret)
	}
	fx.pages[role] = p
	return p
}

// signIn signs in through the pages, typing into the fields and pressing
// Enter, with a TOTP code when the account has one.
func (fx *a11yFixture) signIn(p *browsertest.Page, email, secret string) {
	t := p.T()
	t.Helper()
	p.Open("/signin")
	p.Fill("email", email)
	p.Fill("password", testPassword)
	p.PressAndWait("Enter")
	if strings.HasPrefix(p.Path(), "/signin/mfa") {
		fx.e.advance(30 * time.Second) // a fresh step: codes are single-use
		p.Fill("code", fx.e.totpCode(secret))
		p.PressAndWait("Enter")
	}
	if strings.HasPrefix(p.Path(), "/signin") {
		t.Fatalf("signing in as %s in the browser ended at %s:\n%s", email, p.Path(), p.Text())
	}
}

// setLang makes p's pages come in lang, as the language switcher does.
func setLang(p *browsertest.Page, lang i18n.Lang) { p.SetCookie(langCookie, string(lang)) }

// checkPage checks the page p shows: its language and axe; in English
// also every Tab stop's focus indicator and axe in the dark colour scheme;
// and last that it reflows to a 320 CSS pixel wide window without
// scrolling sideways.
func checkPage(t *testing.T, p *browsertest.Page, lang i18n.Lang) {
	t.Helper()
	if got := p.Lang(); got != string(lang) {
		t.Errorf("%s: <html lang=%q>, want %q", p.Path(), got, lang)
	}
	p.CheckA11y()
	if lang == i18n.English {
		checkFocusOrder(t, p)
		p.ColorScheme("dark")
		p.CheckA11y()
		p.ColorScheme("")
	}
	checkReflow(t, p)
}

// overflowJS lists the elements wider than the window.
const overflowJS = `(function() {
  var out = [];
  if (document.documentElement.scrollWidth <= innerWidth) return out;
  document.querySelectorAll('body *').forEach(function(e) {
    var r = e.getBoundingClientRect();
    if (r.right > innerWidth + 1 && r.width > 0) out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' (' + Math.round(r.width) + 'px, ends at ' + Math.round(r.right) + 'px): ' + (e.innerText || '').slice(0, 60).replace(/\s+/g, ' '));
  });
  return out.slice(0, 10);
})()`

// checkReflow narrows the window to 320 CSS pixels (WCAG 1.4.10, the
// width of a 1280 px window zoomed to 400 %) and fails if the page then
// needs scrolling sideways; tables may scroll on their own.
func checkReflow(t *testing.T, p *browsertest.Page) {
	t.Helper()
	p.Viewport(320, 640)
	defer p.Viewport(0, 0)
	if wide := browsertest.Eval[[]string](p, overflowJS); len(wide) > 0 {
		t.Errorf("%s (%s): at 320 px wide the page scrolls sideways (WCAG 1.4.10); too wide:\n  %s", p.Path(), p.Lang(), strings.Join(wide, "\n  "))
	}
}

// checkFocusOrder tabs through the whole page and fails if a control
// gets the focus without a visible indicator (WCAG 2.4.7) or outside the
// window (2.4.11), or if Tab never reaches anything.
func checkFocusOrder(t *testing.T, p *browsertest.Page) {
	t.Helper()
	seen := map[string]bool{}
	// Leave nothing focused for the checks that follow: a focused skip
	// link is drawn over the header.
	defer browsertest.Eval[bool](p, `document.activeElement.blur(), true`)
	for i := 0; i < 300; i++ {
		p.Press("Tab")
		f := p.Focused()
		if f.Tag == "body" || seen[f.String()] {
			if len(seen) == 0 {
				t.Errorf("%s: Tab reaches nothing", p.Path())
			}
			return
		}
		seen[f.String()] = true
		if !f.Visible {
			t.Errorf("%s: %s has the focus with no visible indicator (outline %s)", p.Path(), f, f.Outline)
		}
		if !f.InView {
			t.Errorf("%s: %s has the focus outside the window", p.Path(), f)
		}
	}
	t.Errorf("%s: more than 300 Tab stops", p.Path())
}

// TestEveryPageRouteIsCheckedForAccessibility proves the sweep below
// reaches every page: each GET page route can be visited (a wildcard or
// query route has its addresses in a11yVisits) by a role that may open it.
// It needs no browser, so it runs everywhere.
func TestEveryPageRouteIsCheckedForAccessibility(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	visits := a11yVisits(&a11yFixture{citizen: 1})
	for _, rt := range pageRoutes(e.web) {
		if _, ok := a11yRole(rt); !ok {
			t.Errorf("GET %s: no role holds %s, so the accessibility sweep cannot open it", rt.path, rt.access.perm)
		}
		if _, ok := visits[rt.path]; !ok && strings.ContainsAny(strings.ReplaceAll(rt.path, "{$}", ""), "{}") {
			t.Errorf("GET %s has wildcards: give the addresses to check through a11yAreaVisits (see a11y_test.go), or list it in notHTML if it is a download", rt.path)
		}
	}
	for path := range visits {
		if !slices.ContainsFunc(pageRoutes(e.web), func(rt route) bool { return rt.path == path }) {
			t.Errorf("a11yVisits lists %s, which is not a GET page route", path)
		}
	}
}

// TestEveryPagePassesAxe opens every GET page of the route table in each
// language, as a person allowed to see it, with data on the page, and
// checks it with axe-core (WCAG 2.0/2.1/2.2 A and AA) in headless Chromium.
func TestEveryPagePassesAxe(t *testing.T) {
	browsertest.Need(t)
	fx := newA11yFixture(t)
	visits := a11yVisits(fx)
	for _, lang := range i18n.Langs {
		t.Run(string(lang), func(t *testing.T) {
			for _, rt := range pageRoutes(fx.e.web) {
				role, _ := a11yRole(rt)
				vs, ok := visits[rt.path]
				if !ok {
					vs = []a11yVisit{{strings.ReplaceAll(rt.path, "{$}", ""), 200}}
				}
				for _, v := range vs {
					p := fx.page(t, role)
					setLang(p, lang)
					if st := p.Open(v.path); st != v.status {
						t.Errorf("GET %s as %q: status %d, want %d:\n%s", v.path, role, st, v.status, p.Text())
						continue
					}
					checkPage(t, p, lang)
				}
			}
			// The navigation differs by role: the home page as each.
			for _, role := range []identity.Role{identity.RoleCitizen, identity.RoleAdmin, identity.RoleDPO, identity.RoleAuditor} {
				p := fx.page(t, role)
				setLang(p, lang)
				p.Open("/")
				checkPage(t, p, lang)
			}
		})
	}
}
