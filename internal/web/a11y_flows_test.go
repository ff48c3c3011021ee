package web

// Flows in a real browser: forms showing their errors, error pages and
// the pages that end a flow, checked by axe-core in every language; and
// registration and sign-in done with the keyboard alone.

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/web/browsertest"
)

// invalidFieldsJS lists the fields marked invalid whose error message is
// not tied to them through aria-describedby.
const invalidFieldsJS = `(function() {
  var bad = [];
  document.querySelectorAll('[aria-invalid=true]').forEach(function(e) {
    var ids = (e.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    var tied = ids.some(function(id) { var d = document.getElementById(id); return d && d.classList.contains('error') && d.innerText.trim() !== ''; });
    if (!tied) bad.push(e.outerHTML.slice(0, 200));
  });
  return bad;
})()`

// checkErrorsTied fails unless the page shows errors, an error summary
// or message comes first in the main content, and every field marked
// invalid points at its message (WCAG 3.3.1, 1.3.1).
func checkErrorsTied(t *testing.T, p *browsertest.Page) {
	t.Helper()
	if n := browsertest.Eval[int](p, `document.querySelectorAll('main .error, main .error-summary').length`); n == 0 {
		t.Errorf("%s: the form shows no error message", p.Path())
	}
	if bad := browsertest.Eval[[]string](p, invalidFieldsJS); len(bad) > 0 {
		t.Errorf("%s: fields marked invalid with no error message tied by aria-describedby:\n  %s", p.Path(), strings.Join(bad, "\n  "))
	}
}

// submit clicks the submit button of the form posting to action.
func submit(p *browsertest.Page, action string) int {
	p.T().Helper()
	return p.ClickCSS(fmt.Sprintf(`main form[action=%q] button[type=submit]`, action))
}

// TestFormErrorsAndFlowPagesPassAxe drives each form into its error state
// through the browser, and reaches the pages that end flows (check your
// email, recovery codes, done, erased) and the error pages, in every
// language, checking each with axe.
func TestFormErrorsAndFlowPagesPassAxe(t *testing.T) {
	browsertest.Need(t)
	fx := newA11yFixture(t)
	e := fx.e
	for _, lang := range i18n.Langs {
		t.Run(string(lang), func(t *testing.T) {
			check := func(p *browsertest.Page, wantStatus int) {
				t.Helper()
				if p.Status() != wantStatus {
					t.Errorf("%s: status %d, want %d:\n%s", p.Path(), p.Status(), wantStatus, p.Text())
				}
				checkPage(t, p, lang)
			}
			anon := browsertest.NewAt(t, e.srv.URL)
			setLang(anon, lang)

			anon.Open("/register")
			submit(anon, "/register")
			check(anon, 422)
			checkErrorsTied(t, anon)
			anon.Fill("email", "not an address")
			anon.Fill("password", "short")
			submit(anon, "/register")
			check(anon, 422)
			checkErrorsTied(t, anon)
			anon.Fill("email", "new-"+string(lang)+"@example.org")
			anon.Fill("password", testPassword)
			submit(anon, "/register")
			check(anon, 200) // check your email

			anon.Open("/signin")
			anon.Fill("email", a11yCitizen)
			anon.Fill("password", "wrong password, quite long")
			submit(anon, "/signin")
			check(anon, 401)

			anon.Open("/password/forgot")
			anon.Fill("email", "nope")
			submit(anon, "/password/forgot")
			check(anon, 422)
			checkErrorsTied(t, anon)
			anon.Fill("email", a11yCitizen)
			submit(anon, "/password/forgot")
			check(anon, 200)

			anon.Open("/password/reset?token=" + url.QueryEscape(e.lastLinkToken(a11yCitizen, "/password/reset")))
			anon.Fill("new_password", "short")
			submit(anon, "/password/reset")
			check(anon, 422)
			checkErrorsTied(t, anon)

			anon.Open("/verify-email?token=not-a-real-token")
			submit(anon, "/verify-email")
			check(anon, anon.Status()) // an error page, whatever its status
			if anon.Status() < 400 {
				t.Errorf("verifying a made-up token: status %d", anon.Status())
			}

			anon.Open("/no/such/page")
			check(anon, 404)

			// Two-step sign-in with a wrong code.
			admin := fx.holder(t, "admin")
			anon.Open("/signin")
			anon.Fill("email", admin.email)
			anon.Fill("password", testPassword)
			submit(anon, "/signin")
			anon.Fill("code", "000000")
			submit(anon, "/signin/mfa")
			check(anon, 401)

			// A citizen of their own, whose account the flows change.
			email := "flows-" + string(lang) + "@example.org"
			e.createUser(email)
			p := browsertest.NewAt(t, e.srv.URL)
			setLang(p, lang)
			fx.signIn(p, email, "")

			p.Open("/admin/accounts")
			check(p, 403)

			p.Open("/account/password")
			p.Fill("new_password", "short")
			submit(p, "/account/password")
			check(p, 422)
			checkErrorsTied(t, p)

			p.Open("/reauth?next=%2Faccount")
			p.Fill("password", "wrong password, quite long")
			submit(p, "/reauth")
			check(p, 401)

			p.Open("/account/requests")
			p.Fill("details", "")
			submit(p, "/account/requests")
			check(p, p.Status())
			if p.Status() == 422 {
				checkErrorsTied(t, p)
			}

			p.Open("/account/mfa")
			submit(p, "/account/mfa/totp")
			check(p, 200) // the QR code and secret
			secret := p.TextOf("code.secret")
			p.Fill("code", "000000")
			submit(p, "/account/mfa/totp/confirm")
			check(p, 422)
			checkErrorsTied(t, p)
			p.Fill("code", e.totpCodeAfterStep(secret))
			submit(p, "/account/mfa/totp/confirm")
			check(p, 200) // recovery codes
			p.Open("/account/mfa")
			check(p, 200) // two-step sign-in on

			p.Open("/account/erase")
			submit(p, "/account/erase")
			check(p, 422)
			checkErrorsTied(t, p)
			p.Check(browsertest.Eval[string](p, `document.querySelector('label[for=confirm]').innerText.trim()`))
			submit(p, "/account/erase")
			check(p, 200) // erased
		})
	}
}

// lastLinkToken is the token of the newest emailed link to addr
// containing part.
func (e *testEnv) lastLinkToken(addr, part string) string {
	e.t.Helper()
	u, err := url.Parse(e.lastLink(addr, part))
	if err != nil {
		e.t.Fatal(err)
	}
	return u.Query().Get("token")
}

// totpCodeAfterStep moves the clock to a fresh TOTP step and returns the
// code for secret.
func (e *testEnv) totpCodeAfterStep(secret string) string {
	e.advance(30 * time.Second)
	return e.totpCode(secret)
}

// TestKeyboardOnlyRegisterAndSignIn registers, confirms the address and
// signs in with Tab, typing and Enter alone, checking on the way that the
// first Tab stop is a visible "skip to main content" link that moves the
// focus into the main content, that an error summary's links lead to
// their fields, and that every focused control shows where the focus is.
func TestKeyboardOnlyRegisterAndSignIn(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	p := browsertest.NewAt(t, e.srv.URL)
	setLang(p, i18n.English)
	p.Open("/register")

	p.Press("Tab")
	skip := p.Focused()
	if skip.Href != "#main" || !skip.Visible || !skip.InView {
		t.Fatalf("the first Tab stop is %s (visible %v, in view %v), want a visible skip link to #main", skip, skip.Visible, skip.InView)
	}
	p.PressAndWait("Enter")
	if f := p.Focused(); f.ID != "main" {
		t.Fatalf("the skip link left the focus on %s, want <main>", f)
	}
	// From the main content, the next Tab stop is the form's first field.
	p.Press("Tab")
	if f := p.Focused(); f.ID != "email" || !f.Visible {
		t.Fatalf("after skipping, Tab reaches %s (visible %v), want the email field", f, f.Visible)
	}

	// Submit empty: the error summary's link takes the focus to the field.
	p.PressAndWait("Enter")
	if p.Status() != 422 {
		t.Fatalf("empty registration: status %d", p.Status())
	}
	for i := 0; i < 30; i++ {
		p.Press("Tab")
		if h := p.Focused().Href; strings.HasPrefix(h, "#") && h != "#main" {
			break
		}
	}
	if f := p.Focused(); f.Href != "#email" {
		t.Fatalf("the first error summary link is %s, want #email", f)
	}
	p.PressAndWait("Enter")
	if p.Focused().ID != "email" { // the link moved the Tab starting point
		p.Press("Tab")
	}
	p.Type("ada@example.org")
	if v := browsertest.Eval[string](p, `document.getElementById('email').value`); v != "ada@example.org" {
		t.Fatalf("the error link did not lead to the email field: it holds %q, focus is on %s", v, p.Focused())
	}
	p.Press("Tab")
	if f := p.Focused(); f.ID != "password" {
		t.Fatalf("Tab from email reaches %s, want the password", f)
	}
	p.Type(testPassword)
	p.PressAndWait("Enter")
	p.MustContain("ada@example.org")

	// The emailed link, then the confirm button by keyboard.
	p.Open(e.lastLink("ada@example.org", "/verify-email"))
	p.TabTo(buttonName(p, "/verify-email"), 30)
	p.PressAndWait("Enter")
	if p.Status() != 200 {
		t.Fatalf("confirming the address: status %d", p.Status())
	}

	// Sign in: the confirmation lands on the sign-in form.
	p.TabTo("#email", 30)
	p.Type("ada@example.org")
	p.Press("Tab")
	p.Type(testPassword)
	p.PressAndWait("Enter")
	if p.Path() != "/account" {
		t.Fatalf("keyboard sign-in ended at %s:\n%s", p.Path(), p.Text())
	}
	p.MustContain("ada@example.org")

	// Sign out by keyboard too.
	p.TabTo(buttonName(p, "/signout"), 30)
	p.PressAndWait("Enter")
	if p.Path() != "/" {
		t.Fatalf("keyboard sign-out ended at %s", p.Path())
	}
}

// buttonName is the accessible name of the submit button of the form
// posting to action.
func buttonName(p *browsertest.Page, action string) string {
	return browsertest.Eval[string](p, fmt.Sprintf(`document.querySelector('form[action=%q] button[type=submit]').innerText.replace(/\s+/g, ' ').trim()`, action))
}
