package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/secops"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// postRaw submits a form exactly as given: no form token is added, and
// headers are set as listed (a browser on another site, or a forged form).
func (b *browser) postRaw(path string, form url.Values, header map[string]string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

// cookie returns the value of the browser's cookie name ("" if none).
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// setCookie puts a cookie into the browser, as another site or a script
// with access to the browser could.
func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.e.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/", Secure: true}})
}

// setCookies parses the Set-Cookie headers of a response.
func setCookies(t *testing.T, h http.Header) map[string]*http.Cookie {
	t.Helper()
	out := map[string]*http.Cookie{}
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		out[c.Name] = c
	}
	return out
}

// TestSecurityHeadersOnEveryResponse checks the headers that every kind of
// response carries: pages, error pages, the API, the public log, static
// files and the health check.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		e.sequence()
		cases := []struct {
			name, method, path, body string
			status                   int
		}{
			{"home page", "GET", "/", "", 200},
			{"form page", "GET", "/register", "", 200},
			{"missing page", "GET", "/no-such-page", "", 404},
			{"refused form", "POST", "/register", "email=x", 403},
			{"API without session", "GET", "/api/v1/account", "", 401},
			{"API error", "POST", "/api/v1/sessions", "{", 400},
			{"log checkpoint", "GET", "/log/checkpoint", "", 200},
			{"log key", "GET", "/log/key", "", 200},
			{"log tile outside the tree", "GET", "/log/tile/0/999", "", 404},
			{"static file", "GET", "/static/style.css", "", 200},
			{"health check", "GET", "/healthz", "", 200},
		}
		for _, tc := range cases {
			req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, strings.NewReader(tc.body))
			if strings.HasPrefix(tc.path, "/api/") {
				req.Header.Set("Content-Type", "application/json")
			} else if tc.method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, err := e.api().c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
			}
			h := resp.Header
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s: CSP %q lacks %q", tc.name, csp, want)
				}
			}
			for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*"} {
				if strings.Contains(csp, bad) {
					t.Errorf("%s: CSP %q allows %q", tc.name, csp, bad)
				}
			}
			want := map[string]string{
				"X-Content-Type-Options": "nosniff",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "same-origin",
			}
			for k, v := range want {
				if h.Get(k) != v {
					t.Errorf("%s: %s = %q, want %q", tc.name, k, h.Get(k), v)
				}
			}
			if pp := h.Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") || !strings.Contains(pp, "geolocation=()") {
				t.Errorf("%s: Permissions-Policy %q", tc.name, pp)
			}
			m := regexp.MustCompile(`max-age=(\d+)`).FindStringSubmatch(h.Get("Strict-Transport-Security"))
			if m == nil {
				t.Errorf("%s: no HSTS over TLS", tc.name)
			} else if n, _ := strconv.Atoi(m[1]); n < 31536000 {
				t.Errorf("%s: HSTS max-age %d is under a year", tc.name, n)
			}
		}
		// Over plain HTTP (loopback only) there is no HSTS: it would be
		// ignored and misleads.
		plain := httptest.NewServer(e.web.Handler())
		defer plain.Close()
		resp, err := http.Get(plain.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("HSTS over plain HTTP: %q", hsts)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Error("no CSP over plain HTTP")
		}
	})
}

// TestPagesHaveNoInlineScriptOrStyle backs the strict CSP: a page that
// relied on inline script or style would break under it.
func TestPagesHaveNoInlineScriptOrStyle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("admin@example.org", identity.RoleAdmin)
		b := e.browser()
		b.signIn("admin@example.org", "")
		b.enableMFA()
		inline := regexp.MustCompile(`(?i)<script|<style|\sstyle=|\son[a-z]+=|javascript:`)
		for _, path := range []string{"/", "/register", "/signin", "/password/forgot", "/account", "/account/mfa", "/account/sessions", "/admin/accounts?q=a", "/security/events", "/nope"} {
			p := b.get(path)
			if m := inline.FindString(p.body); m != "" {
				t.Errorf("%s: inline %q", path, m)
			}
		}
	})
}

// TestSessionCookie checks the session cookie's attributes and that the
// token changes at every step up: sign-in (so a token planted before cannot
// be used: session fixation), passing the second step, and a role change;
// and that a replaced or signed-out token is dead on the server.
func TestSessionCookie(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		e.createUser("eve@example.org")

		// The attacker's own valid session and a made-up token, planted.
		eve := e.browser()
		eve.signIn("eve@example.org", "")
		eveToken := eve.cookie(sessionCookie)
		for _, planted := range []string{eveToken, "planted-by-attacker-0123456789abcdefghijklmno"} {
			b := e.browser()
			b.get("/")
			b.setCookie(sessionCookie, planted)
			p := b.post("/signin", url.Values{"email": {"ala@example.org"}, "password": {testPassword}})
			if p.status != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", p.status)
			}
			c := setCookies(t, p.header)[sessionCookie]
			if c == nil {
				t.Fatal("sign-in sets no session cookie")
			}
			if c.Value == planted || b.cookie(sessionCookie) == planted {
				t.Error("sign-in kept the planted session token")
			}
			if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
				t.Errorf("session cookie attributes: %s", p.header.Values("Set-Cookie"))
			}
			if p := b.get("/account"); p.status != 200 || !strings.Contains(p.body, "ala@example.org") {
				t.Errorf("after sign-in with a planted cookie: %d", p.status)
			}
		}
		if p := eve.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("the planted session outlived the sign-in that replaced it: %d", p.status)
		}
		// Signing in as someone else in the same browser ends the first
		// session rather than leaving it behind.
		sw := e.browser()
		sw.signIn("eve@example.org", "")
		first := sw.cookie(sessionCookie)
		sw.signIn("ala@example.org", "")
		if p := sw.get("/account"); !strings.Contains(p.body, "ala@example.org") {
			t.Error("switching accounts: not signed in as the second person")
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM sessions WHERE account_id = (SELECT id FROM accounts WHERE email_index = ?)", e.emailIndex("eve@example.org")); n != 0 {
			t.Errorf("switching accounts left %d sessions of the first", n)
		}
		replayFirst := e.browser()
		replayFirst.setCookie(sessionCookie, first)
		if p := replayFirst.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("the first account's token after switching: %d", p.status)
		}
		// The form-token cookie is __Host- too.
		p := e.browser().get("/")
		if c := setCookies(t, p.header)[csrfCookie]; c == nil || !c.HttpOnly || !c.Secure || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("form-token cookie: %s", p.header.Values("Set-Cookie"))
		}

		// Two-step sign-in: the pending token is replaced and dies.
		b := e.browser()
		b.signIn("ala@example.org", "")
		secret := b.enableMFA()
		b = e.browser()
		p = b.post("/signin", url.Values{"email": {"ala@example.org"}, "password": {testPassword}})
		pending := b.cookie(sessionCookie)
		if pending == "" || !strings.HasPrefix(p.header.Get("Location"), "/signin/mfa") {
			t.Fatalf("password step: %d %q", p.status, p.header.Get("Location"))
		}
		e.advance(30 * time.Second)
		p = b.post("/signin/mfa", url.Values{"code": {e.totpCode(secret)}})
		full := b.cookie(sessionCookie)
		if p.status != http.StatusSeeOther || full == "" || full == pending {
			t.Fatalf("code step: %d, token changed: %v", p.status, full != pending)
		}
		old := e.browser()
		old.setCookie(sessionCookie, pending)
		if p := old.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("the pending token still works after the code step: %d", p.status)
		}

		// A role grant marks the sessions for a new token at their next
		// request; the old token then stops working.
		e.createUser("admin@example.org", identity.RoleAdmin)
		ab := e.browser()
		ab.signIn("admin@example.org", "")
		ab.enableMFA()
		before := b.cookie(sessionCookie)
		alaID := accountID(t, e, "ala@example.org")
		if p := ab.post(fmt.Sprintf("/admin/accounts/%d/roles", alaID), url.Values{"role": {"moderator"}}); p.status != http.StatusSeeOther {
			t.Fatalf("grant: %d\n%s", p.status, p.body)
		}
		p = b.get("/account")
		rotated := setCookies(t, p.header)[sessionCookie]
		if p.status != 200 || rotated == nil || rotated.Value == before || !rotated.HttpOnly || !rotated.Secure {
			t.Fatalf("next request after the grant: %d, Set-Cookie %v", p.status, p.header.Values("Set-Cookie"))
		}
		if p := b.get("/account"); p.status != 200 || setCookies(t, p.header)[sessionCookie] != nil {
			t.Errorf("the token is rotated again: %d %v", p.status, p.header.Values("Set-Cookie"))
		}
		stale := e.browser()
		stale.setCookie(sessionCookie, before)
		if p := stale.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("the token from before the grant still works: %d", p.status)
		}
		if c := setCookies(t, stale.get("/").header)[sessionCookie]; c != nil && c.Value != "" {
			t.Error("a dead token is answered with a live cookie")
		}

		// Signing out kills the token on the server, not just in the browser.
		token := b.cookie(sessionCookie)
		if p := b.post("/signout", nil); p.status != http.StatusSeeOther {
			t.Fatalf("sign out: %d", p.status)
		}
		replay := e.browser()
		replay.setCookie(sessionCookie, token)
		if p := replay.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("token still works after sign-out: %d", p.status)
		}
		api := e.api()
		api.token = token
		if st, _, _ := api.call("GET", "/api/v1/account", nil); st != http.StatusUnauthorized {
			t.Errorf("signed-out token as a bearer token: %d", st)
		}
	})
}

// accountID looks an account up by address.
func accountID(t *testing.T, e *testEnv, email string) int64 {
	t.Helper()
	var id int64
	if err := e.db.QueryRow(context.Background(), "SELECT id FROM accounts WHERE email_index = ?", e.emailIndex(email)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestCrossSiteRequestsAreRefused shows the two CSRF defences: a form must
// carry this browser's form token, and a request a browser marks as coming
// from another site is refused even with one. Nothing is stored either way.
func TestCrossSiteRequestsAreRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		victim := e.browser()
		victim.signIn("ala@example.org", "")
		victim.get("/account")
		other := e.browser()
		other.get("/")
		register := url.Values{"email": {"new@example.org"}, "password": {testPassword}}
		withToken := func(form url.Values, token string) url.Values {
			f := url.Values{"csrf": {token}}
			for k, v := range form {
				f[k] = v
			}
			return f
		}
		sameSite := map[string]string{"Origin": e.srv.URL, "Sec-Fetch-Site": "same-origin"}
		crossSite := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
		cases := []struct {
			name   string
			b      *browser
			path   string
			form   url.Values
			header map[string]string
			detail string
		}{
			{"registration without a form token", e.browser(), "/register", register, sameSite, "missing or wrong form token"},
			{"registration with another browser's token", e.browser(), "/register", withToken(register, other.csrf), sameSite, "missing or wrong form token"},
			{"registration with a made-up token", e.browser(), "/register", withToken(register, strings.Repeat("A", 43)), sameSite, "missing or wrong form token"},
			{"registration from another site with a valid token", other, "/register", withToken(register, other.csrf), crossSite, "Origin=https://evil.example"},
			{"registration from another site, Origin only", other, "/register", withToken(register, other.csrf), map[string]string{"Origin": "https://evil.example"}, "Origin=https://evil.example"},
			{"MFA set-up from another site", victim, "/account/mfa/totp", withToken(nil, victim.csrf), crossSite, "Origin=https://evil.example"},
			{"sign-out without a token", victim, "/signout", nil, sameSite, "missing or wrong form token"},
			{"sign-in without a token (login CSRF)", e.browser(), "/signin", url.Values{"email": {"ala@example.org"}, "password": {testPassword}}, sameSite, "missing or wrong form token"},
			{"language from another site", victim, "/lang", withToken(url.Values{"lang": {"ru"}}, victim.csrf), crossSite, "Origin=https://evil.example"},
		}
		for _, tc := range cases {
			accounts := dbCount(t, db, "SELECT COUNT(*) FROM accounts")
			enrolments := dbCount(t, db, "SELECT COUNT(*) FROM totp_credentials")
			sessions := dbCount(t, db, "SELECT COUNT(*) FROM sessions")
			events := eventCount(t, db, string(secops.CrossOrigin))
			p := tc.b.postRaw(tc.path, tc.form, tc.header)
			if p.status != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", tc.name, p.status)
			}
			if !strings.Contains(p.body, "did not come from this site") && !strings.Contains(p.body, "came from another website") {
				t.Errorf("%s: the page does not say why:\n%s", tc.name, p.body)
			}
			if dbCount(t, db, "SELECT COUNT(*) FROM accounts") != accounts || dbCount(t, db, "SELECT COUNT(*) FROM totp_credentials") != enrolments ||
				dbCount(t, db, "SELECT COUNT(*) FROM sessions") != sessions {
				t.Errorf("%s: something was stored", tc.name)
			}
			if eventCount(t, db, string(secops.CrossOrigin)) != events+1 {
				t.Errorf("%s: no %s security event", tc.name, secops.CrossOrigin)
			} else {
				var detail string
				db.QueryRow(t.Context(), "SELECT detail FROM security_events ORDER BY id DESC LIMIT 1").Scan(&detail)
				if !strings.Contains(detail, tc.detail) {
					t.Errorf("%s: event detail %q, want it to mention %q", tc.name, detail, tc.detail)
				}
			}
		}
		if p := victim.get("/account"); p.status != 200 {
			t.Errorf("victim signed out by a refused request: %d", p.status)
		}
		if n := len(e.mails("new@example.org")); n != 0 {
			t.Errorf("%d messages sent for refused registrations", n)
		}

		// The API with the browser's cookie, called from another site.
		for _, method := range []string{"POST", "DELETE"} {
			path := "/api/v1/account/mfa/totp"
			req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", "https://evil.example")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			resp, err := victim.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"cross_origin"`) {
				t.Errorf("API %s with a cookie from another site: %d %s", method, resp.StatusCode, body)
			}
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM totp_credentials"); n != 0 {
			t.Errorf("%d TOTP enrolments stored by refused API calls", n)
		}
		// A browser that sent neither Origin nor Sec-Fetch-Site: a form
		// (which cannot declare JSON) still cannot use the cookie session.
		for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", ""} {
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/account/mfa/totp", nil)
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := victim.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnsupportedMediaType {
				t.Errorf("body-less API write with the cookie, Content-Type %q: %d, want 415", ct, resp.StatusCode)
			}
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM totp_credentials"); n != 0 {
			t.Errorf("%d TOTP enrolments stored by refused API calls", n)
		}
		// The same call from this site works, so the refusals above were
		// the origin and type checks and not something else.
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/account/mfa/totp", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", e.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := victim.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("same-site API call with the cookie: %d", resp.StatusCode)
		}
	})
}

// rateCase is one rate-limit rule exercised through one interface.
type rateCase struct {
	name    string
	rule    string
	setup   func(e *testEnv) any                  // prepares state used by try
	try     func(e *testEnv, state any) rateReply // one attempt
	stored  string                                // COUNT query that refused attempts must not change
	subject string                                // what a second subject that must be unaffected is
	other   func(e *testEnv, state any) rateReply // an attempt by that other subject
}

type rateReply struct {
	status int
	header http.Header
}

func pageReply(p page) rateReply { return rateReply{p.status, p.header} }

func apiReply(st int, _ map[string]any, h http.Header) rateReply { return rateReply{st, h} }

// mfaPending signs in with a password on an account that has two-step
// sign-in on, and returns the browser and API client waiting for a code.
type mfaPending struct {
	b *browser
	a *apiClient
}

func newMFAPending(e *testEnv, email string) mfaPending {
	e.t.Helper()
	if dbCount(e.t, e.db, "SELECT COUNT(*) FROM accounts WHERE email_index = ?", e.emailIndex(email)) == 0 {
		// Enrolled through the service, so that the set-up spends nothing
		// from the rate limits under test.
		p := &identity.Principal{AccountID: e.createUser(email), Email: email}
		en, err := e.id.BeginTOTP(context.Background(), p)
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.id.ConfirmTOTP(context.Background(), p, e.totpCode(en.Secret)); err != nil {
			e.t.Fatal(err)
		}
	}
	b := e.browser()
	if p := b.post("/signin", url.Values{"email": {email}, "password": {testPassword}}); !strings.HasPrefix(p.header.Get("Location"), "/signin/mfa") {
		e.t.Fatalf("password step: %d %q", p.status, p.header.Get("Location"))
	}
	a := e.api()
	st, out, _ := a.call("POST", "/api/v1/sessions", map[string]string{"email": email, "password": testPassword})
	if st != http.StatusCreated || out["mfa_required"] != true {
		e.t.Fatalf("API password step: %d %v", st, out)
	}
	a.token = out["token"].(string)
	return mfaPending{b, a}
}

// TestRateLimits shows every rate-limited action answering 429 with
// Retry-After once its bucket is empty, on pages and in the API, recording
// a rate_limited event and storing nothing; and that a per-account limit
// leaves other accounts alone.
func TestRateLimits(t *testing.T) {
	wrong := func(email string) url.Values {
		return url.Values{"email": {email}, "password": {"not the right password at all"}}
	}
	wrongJSON := func(email string) map[string]string {
		return map[string]string{"email": email, "password": "not the right password at all"}
	}
	n := 0
	fresh := func(prefix string) string { n++; return fmt.Sprintf("%s%d@example.org", prefix, n) }
	cases := []rateCase{
		{name: "sign-in per address, page", rule: secops.SignInPerIP,
			try: func(e *testEnv, _ any) rateReply {
				return pageReply(e.browser().post("/signin", wrong(fresh("nobody"))))
			}},
		{name: "sign-in per address, API", rule: secops.SignInPerIP,
			try: func(e *testEnv, _ any) rateReply {
				return apiReply(e.api().call("POST", "/api/v1/sessions", wrongJSON(fresh("nobody"))))
			}},
		{name: "sign-in per account, page", rule: secops.SignInPerAccount, stored: "SELECT COUNT(*) FROM sessions",
			setup: func(e *testEnv) any { e.createUser("ala@example.org"); e.createUser("bob@example.org"); return nil },
			try: func(e *testEnv, _ any) rateReply {
				return pageReply(e.browser().post("/signin", wrong("ala@example.org")))
			},
			subject: "another account from the same address",
			other: func(e *testEnv, _ any) rateReply {
				return pageReply(e.browser().post("/signin", url.Values{"email": {"bob@example.org"}, "password": {testPassword}}))
			}},
		{name: "sign-in per account, API", rule: secops.SignInPerAccount, stored: "SELECT COUNT(*) FROM sessions",
			setup: func(e *testEnv) any { e.createUser("ala@example.org"); e.createUser("bob@example.org"); return nil },
			try: func(e *testEnv, _ any) rateReply {
				return apiReply(e.api().call("POST", "/api/v1/sessions", wrongJSON("Ala@Example.org")))
			},
			subject: "another account from the same address",
			other: func(e *testEnv, _ any) rateReply {
				return apiReply(e.api().call("POST", "/api/v1/sessions", map[string]string{"email": "bob@example.org", "password": testPassword}))
			}},
		{name: "registration, page", rule: secops.RegisterPerIP, stored: "SELECT COUNT(*) FROM accounts",
			try: func(e *testEnv, _ any) rateReply {
				return pageReply(e.browser().post("/register", url.Values{"email": {fresh("new")}, "password": {testPassword}}))
			}},
		{name: "registration, API", rule: secops.RegisterPerIP, stored: "SELECT COUNT(*) FROM accounts",
			try: func(e *testEnv, _ any) rateReply {
				return apiReply(e.api().call("POST", "/api/v1/accounts", map[string]string{"email": fresh("new"), "password": testPassword}))
			}},
		{name: "reset per address, page", rule: secops.ResetPerIP, stored: "SELECT COUNT(*) FROM email_tokens",
			setup: func(e *testEnv) any { e.createUser("ala@example.org"); return nil },
			try: func(e *testEnv, _ any) rateReply {
				return pageReply(e.browser().post("/password/forgot", url.Values{"email": {"ala@example.org"}}))
			}},
		{name: "reset per account, API", rule: secops.ResetPerAccount, stored: "SELECT COUNT(*) FROM email_tokens",
			setup: func(e *testEnv) any { e.createUser("ala@example.org"); e.createUser("bob@example.org"); return nil },
			try: func(e *testEnv, _ any) rateReply {
				return apiReply(e.api().call("POST", "/api/v1/password-resets", map[string]string{"email": "ala@example.org"}))
			},
			subject: "another account from the same address",
			other: func(e *testEnv, _ any) rateReply {
				return apiReply(e.api().call("POST", "/api/v1/password-resets", map[string]string{"email": "bob@example.org"}))
			}},
		{name: "second step per address, page", rule: secops.MFAPerIP,
			setup: func(e *testEnv) any { return nil },
			try: func(e *testEnv, _ any) rateReply {
				return pageReply(newMFAPending(e, "ala@example.org").b.post("/signin/mfa", url.Values{"code": {"000000"}}))
			}},
		{name: "second step per account, page", rule: secops.MFAPerAccount,
			setup: func(e *testEnv) any { return newMFAPending(e, "ala@example.org") },
			try: func(e *testEnv, s any) rateReply {
				return pageReply(s.(mfaPending).b.post("/signin/mfa", url.Values{"code": {"000000"}}))
			},
			subject: "another account's sign-in from the same address",
			other: func(e *testEnv, _ any) rateReply {
				return pageReply(newMFAPending(e, "bob@example.org").b.post("/signin/mfa", url.Values{"code": {"000000"}}))
			}},
		{name: "second step per account, API", rule: secops.MFAPerAccount,
			setup: func(e *testEnv) any { return newMFAPending(e, "ala@example.org") },
			try: func(e *testEnv, s any) rateReply {
				return apiReply(s.(mfaPending).a.call("POST", "/api/v1/sessions/mfa", map[string]string{"code": "000000"}))
			}},
		{name: "password re-check per account, page", rule: secops.ReauthPerAccount,
			setup: func(e *testEnv) any {
				e.createUser("ala@example.org")
				b := e.browser()
				b.signIn("ala@example.org", "")
				return b
			},
			try: func(e *testEnv, s any) rateReply {
				return pageReply(s.(*browser).post("/reauth", url.Values{"password": {"not the right password at all"}}))
			}},
	}
	const burst = 3
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.SQLite(t)
			e := newTestEnv(t, db, map[string]secops.Limit{tc.rule: {Every: time.Hour, Burst: burst}})
			var state any
			if tc.setup != nil {
				state = tc.setup(e)
			}
			for i := 0; i < burst; i++ {
				if r := tc.try(e, state); r.status == http.StatusTooManyRequests {
					t.Fatalf("attempt %d of a burst of %d refused", i+1, burst)
				}
			}
			stored := 0
			if tc.stored != "" {
				stored = dbCount(t, db, tc.stored)
			}
			limited := eventCount(t, db, string(secops.RateLimited))
			r := tc.try(e, state)
			if r.status != http.StatusTooManyRequests {
				t.Fatalf("attempt after the burst: %d, want 429", r.status)
			}
			if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 3600 {
				t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
			}
			if tc.stored != "" && dbCount(t, db, tc.stored) != stored {
				t.Errorf("a refused attempt stored something (%s)", tc.stored)
			}
			if eventCount(t, db, string(secops.RateLimited)) != limited+1 {
				t.Error("no rate_limited security event")
			} else {
				var detail string
				db.QueryRow(t.Context(), "SELECT detail FROM security_events WHERE kind = 'rate_limited' ORDER BY id DESC LIMIT 1").Scan(&detail)
				if detail != tc.rule {
					t.Errorf("event detail %q, want the rule %q", detail, tc.rule)
				}
			}
			if tc.other != nil {
				if r := tc.other(e, state); r.status == http.StatusTooManyRequests || r.status >= 500 {
					t.Errorf("%s: %d", tc.subject, r.status)
				}
			}
		})
	}
}

// TestRateLimitPagesSayHowLongToWait shows the page a throttled person sees.
func TestRateLimitPagesSayHowLongToWait(t *testing.T) {
	db := storetest.SQLite(t)
	e := newTestEnv(t, db, map[string]secops.Limit{secops.SignInPerAccount: {Every: time.Minute, Burst: 1}})
	e.createUser("ala@example.org")
	b := e.browser()
	b.post("/signin", url.Values{"email": {"ala@example.org"}, "password": {"not the right password at all"}})
	p := b.post("/signin", url.Values{"email": {"ala@example.org"}, "password": {"not the right password at all"}})
	if p.status != http.StatusTooManyRequests || !regexp.MustCompile(`Wait \d+ seconds`).MatchString(p.body) {
		t.Fatalf("throttled sign-in page: %d\n%s", p.status, p.body)
	}
	if !strings.Contains(p.body, `value="ala@example.org"`) || strings.Contains(p.body, "not the right password") {
		t.Error("the throttled page should keep the address and drop the password")
	}
	st, out, h := e.api().call("POST", "/api/v1/sessions", map[string]string{"email": "ala@example.org", "password": testPassword})
	if st != http.StatusTooManyRequests || errorCode(out) != "rate_limited" || h.Get("Retry-After") == "" {
		t.Errorf("throttled API sign-in: %d %v", st, out)
	}
}

// TestPerAccountThrottleDoesNotLockTheAccount shows throttling, not
// lock-out: once the bucket refills the owner signs in with the right
// password, however many wrong ones came before.
func TestPerAccountThrottleDoesNotLockTheAccount(t *testing.T) {
	db := storetest.SQLite(t)
	e := newTestEnv(t, db, map[string]secops.Limit{secops.SignInPerAccount: {Every: 50 * time.Millisecond, Burst: 2}})
	e.createUser("ala@example.org")
	refused := 0
	for range 10 {
		p := e.browser().post("/signin", url.Values{"email": {"ala@example.org"}, "password": {"not the right password at all"}})
		if p.status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("ten quick wrong passwords were never throttled")
	}
	time.Sleep(120 * time.Millisecond)
	b := e.browser()
	b.signIn("ala@example.org", "")
	if p := b.get("/account"); p.status != 200 {
		t.Errorf("owner after the throttle: %d", p.status)
	}
}

// TestMFAThrottleIsPerAccount shows that starting a new sign-in does not
// give a code-guesser a fresh budget of second-step attempts.
func TestMFAThrottleIsPerAccount(t *testing.T) {
	db := storetest.SQLite(t)
	e := newTestEnv(t, db, map[string]secops.Limit{secops.MFAPerAccount: {Every: time.Hour, Burst: 2}})
	for range 2 {
		newMFAPending(e, "ala@example.org").b.post("/signin/mfa", url.Values{"code": {"000000"}})
	}
	if p := newMFAPending(e, "ala@example.org").b.post("/signin/mfa", url.Values{"code": {"000000"}}); p.status != http.StatusTooManyRequests {
		t.Errorf("third code guess for the account from a new sign-in: %d, want 429", p.status)
	}
	st, _, _ := newMFAPending(e, "ala@example.org").a.call("POST", "/api/v1/sessions/mfa", map[string]string{"code": "000000"})
	if st != http.StatusTooManyRequests {
		t.Errorf("code guess for the account through the API: %d, want 429", st)
	}
	// Another account is not held back.
	if p := newMFAPending(e, "bob@example.org").b.post("/signin/mfa", url.Values{"code": {"000000"}}); p.status != http.StatusUnauthorized {
		t.Errorf("another account's code step: %d, want 401", p.status)
	}
}

// TestFailedSignInsAreRecordedWithoutSecrets checks the security events
// and the fail2ban log line for failed sign-ins, second steps and password
// re-checks, and that no password or code reaches either.
func TestFailedSignInsAreRecordedWithoutSecrets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		const badPassword = "Zebra-Wrong-Password-7319"
		alaID := e.createUser("ala@example.org")
		bobID := e.createUser("bob@example.org")
		b := e.browser()
		b.signIn("bob@example.org", "")
		bobSecret := b.enableMFA()
		e.advance(30 * time.Second)
		usedCode := e.totpCode(bobSecret)

		cases := []struct {
			name    string
			do      func()
			kind    string
			account string
			route   string
		}{
			{"wrong password, page", func() {
				e.browser().post("/signin", url.Values{"email": {"ala@example.org"}, "password": {badPassword}})
			}, "signin_failed", e.id.Pseudonym(alaID), "/signin"},
			{"wrong password, API", func() {
				e.api().call("POST", "/api/v1/sessions", map[string]string{"email": "ala@example.org", "password": badPassword})
			}, "signin_failed", e.id.Pseudonym(alaID), "/api/v1/sessions"},
			{"unknown address", func() {
				e.browser().post("/signin", url.Values{"email": {"nobody@example.org"}, "password": {badPassword}})
			}, "signin_failed", "", "/signin"},
			{"wrong code", func() {
				newMFAPending(e, "bob@example.org").b.post("/signin/mfa", url.Values{"code": {"999999"}})
			}, "mfa_failed", e.id.Pseudonym(bobID), "/signin/mfa"},
			{"replayed code", func() {
				p := newMFAPending(e, "bob@example.org")
				p.b.post("/signin/mfa", url.Values{"code": {usedCode}})
				p = newMFAPending(e, "bob@example.org")
				p.b.post("/signin/mfa", url.Values{"code": {usedCode}})
			}, "mfa_failed", e.id.Pseudonym(bobID), "/signin/mfa"},
			{"wrong password re-check", func() {
				b := e.browser()
				b.signIn("ala@example.org", "")
				b.post("/reauth", url.Values{"password": {badPassword}})
			}, "reauth_failed", e.id.Pseudonym(alaID), "/reauth"},
		}
		for _, tc := range cases {
			before := eventCount(t, db, tc.kind)
			logBefore := len(e.logBuf.String())
			tc.do()
			if eventCount(t, db, tc.kind) <= before {
				t.Errorf("%s: no %s event", tc.name, tc.kind)
				continue
			}
			var clearIP, account, route string
			var sealedIP []byte
			db.QueryRow(t.Context(), "SELECT ip, ip_sealed, account, route FROM security_events WHERE kind = ? ORDER BY id DESC LIMIT 1", tc.kind).
				Scan(&clearIP, &sealedIP, &account, &route)
			if clearIP != "" || len(sealedIP) == 0 || bytes.Contains(sealedIP, []byte("127.0.0.1")) {
				t.Errorf("%s: event stores the address as %q in clear and %x sealed; want it only sealed", tc.name, clearIP, sealedIP)
			}
			if account != tc.account || route != tc.route {
				t.Errorf("%s: event account=%q route=%q, want %q %q", tc.name, account, route, tc.account, tc.route)
			}
			if evs, err := e.events.Events(t.Context(), secops.Filter{Kind: secops.EventKind(tc.kind), Limit: 1}); err != nil || len(evs) != 1 || evs[0].IP != "127.0.0.1" {
				t.Errorf("%s: the event opens as %+v, %v; want ip 127.0.0.1", tc.name, evs, err)
			}
			acct := tc.account
			if acct == "" {
				acct = "-"
			}
			line := fmt.Sprintf("msg=auth_failure kind=%s ip=127.0.0.1 account=%s route=%s", tc.kind, acct, tc.route)
			if !strings.Contains(e.logBuf.String()[logBefore:], line) {
				t.Errorf("%s: log lacks %q:\n%s", tc.name, line, e.logBuf.String()[logBefore:])
			}
		}
		// The fail2ban filter documented in docs/security.md matches.
		re := regexp.MustCompile(`msg=auth_failure kind=\S+ ip=(\S+) `)
		if m := re.FindStringSubmatch(e.logBuf.String()); m == nil || m[1] != "127.0.0.1" {
			t.Error("the documented fail2ban pattern does not find the address")
		}
		var all strings.Builder
		rows, err := db.Query(t.Context(), "SELECT kind, ip, account, route, detail FROM security_events")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k, ip, a, r, d string
			rows.Scan(&k, &ip, &a, &r, &d)
			fmt.Fprintln(&all, k, ip, a, r, d)
		}
		rows.Close()
		for _, secret := range []string{badPassword, testPassword, usedCode, "999999", bobSecret} {
			if strings.Contains(all.String(), secret) {
				t.Errorf("security events hold a secret %q", secret)
			}
			if strings.Contains(e.logBuf.String(), secret) {
				t.Errorf("the log holds a secret %q", secret)
			}
		}
	})
}

// normalizePage removes what legitimately differs between two answers:
// the address typed and the form token.
func normalizePage(body string, emails ...string) string {
	for _, em := range emails {
		body = strings.ReplaceAll(body, em, "EMAIL")
	}
	return csrfRE.ReplaceAllString(body, `name="csrf" value="TOKEN"`)
}

// TestNoAccountEnumeration shows that registration, sign-in and password
// reset answer the same whether or not an address has an account.
func TestNoAccountEnumeration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		e.mails("ala@example.org")

		type answer struct {
			status int
			body   string
		}
		pageAnswer := func(path string, form url.Values) answer {
			p := e.browser().post(path, form)
			return answer{p.status, normalizePage(p.body, form.Get("email"))}
		}
		apiAnswer := func(path string, body map[string]string) answer {
			st, out, _ := e.api().call("POST", path, body)
			return answer{st, fmt.Sprint(out)}
		}
		cases := []struct {
			name          string
			known, absent func() answer
		}{
			{"registration page", func() answer {
				return pageAnswer("/register", url.Values{"email": {"ala@example.org"}, "password": {testPassword}})
			}, func() answer {
				return pageAnswer("/register", url.Values{"email": {"new@example.org"}, "password": {testPassword}})
			}},
			{"registration API", func() answer {
				return apiAnswer("/api/v1/accounts", map[string]string{"email": "ala@example.org", "password": testPassword})
			}, func() answer {
				return apiAnswer("/api/v1/accounts", map[string]string{"email": "new2@example.org", "password": testPassword})
			}},
			{"sign-in page", func() answer {
				return pageAnswer("/signin", url.Values{"email": {"ala@example.org"}, "password": {"not the right password at all"}})
			}, func() answer {
				return pageAnswer("/signin", url.Values{"email": {"nobody@example.org"}, "password": {"not the right password at all"}})
			}},
			{"sign-in API", func() answer {
				return apiAnswer("/api/v1/sessions", map[string]string{"email": "ala@example.org", "password": "not the right password at all"})
			}, func() answer {
				return apiAnswer("/api/v1/sessions", map[string]string{"email": "nobody@example.org", "password": "not the right password at all"})
			}},
			{"reset page", func() answer {
				return pageAnswer("/password/forgot", url.Values{"email": {"ala@example.org"}})
			}, func() answer {
				return pageAnswer("/password/forgot", url.Values{"email": {"nobody@example.org"}})
			}},
			{"reset API", func() answer {
				return apiAnswer("/api/v1/password-resets", map[string]string{"email": "ala@example.org"})
			}, func() answer {
				return apiAnswer("/api/v1/password-resets", map[string]string{"email": "nobody@example.org"})
			}},
		}
		for _, tc := range cases {
			k, a := tc.known(), tc.absent()
			if k.status != a.status || k.body != a.body {
				t.Errorf("%s: known address %d, unknown %d; bodies equal: %v\nknown:\n%s\nunknown:\n%s", tc.name, k.status, a.status, k.body == a.body, k.body, a.body)
			}
			if k.status >= 500 {
				t.Errorf("%s: %d", tc.name, k.status)
			}
		}
		// Only the mail tells the owner what happened.
		msgs := e.mails("ala@example.org")
		already := 0
		for _, m := range msgs {
			if strings.Contains(m.Subject, "Someone tried to create a veche account") {
				already++
			}
		}
		if already != 2 {
			t.Errorf("%d already-registered messages to the owner, want 2 (page and API)", already)
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM accounts WHERE email_index = ?", e.emailIndex("ala@example.org")); n != 1 {
			t.Errorf("%d accounts for the existing address", n)
		}
		if n := len(e.mails("nobody@example.org")); n != 0 {
			t.Errorf("%d messages to an address without an account", n)
		}
	})
}

// TestForwardedForIsIgnoredWithoutProxy shows that, unless veche is told a
// proxy fronts it, a client cannot pick its own address with
// X-Forwarded-For to escape per-address limits or to frame another address
// in the security events.
func TestForwardedForIsIgnoredWithoutProxy(t *testing.T) {
	db := storetest.SQLite(t)
	e := newTestEnv(t, db, map[string]secops.Limit{secops.SignInPerIP: {Every: time.Hour, Burst: 1}})
	var last page
	for _, spoofed := range []string{"198.51.100.1", "198.51.100.2"} {
		b := e.browser()
		b.header.Set("X-Forwarded-For", spoofed)
		last = b.post("/signin", url.Values{"email": {"nobody@example.org"}, "password": {"not the right password at all"}})
	}
	if last.status != http.StatusTooManyRequests {
		t.Errorf("second attempt under another X-Forwarded-For: %d, want 429", last.status)
	}
	evs, err := e.events.Events(t.Context(), secops.Filter{})
	if err != nil || len(evs) == 0 {
		t.Fatalf("security events: %+v, %v", evs, err)
	}
	for _, ev := range evs {
		if ev.IP != "127.0.0.1" {
			t.Errorf("security event %d names the address %q, want 127.0.0.1 (a spoofed X-Forwarded-For)", ev.ID, ev.IP)
		}
	}
}

// TestCacheableResponsesSetNoCookies checks that responses a shared cache
// may keep (static files, the public log, the health check) never carry a
// Set-Cookie: a cache would hand one person's form-token seed, or worse a
// freshly rotated session token, to everyone behind it.
func TestCacheableResponsesSetNoCookies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("admin@example.org", identity.RoleAdmin)
		alaID := e.createUser("ala@example.org")
		e.sequence()
		public := []string{"/static/style.css", "/log/checkpoint", "/log/key", "/healthz"}
		check := func(who string, b *browser) {
			t.Helper()
			for _, path := range public {
				p := b.get(path)
				if p.status != 200 {
					t.Errorf("%s %s: %d", who, path, p.status)
				}
				if sc := p.header.Values("Set-Cookie"); len(sc) != 0 {
					t.Errorf("%s %s: Set-Cookie %q on a response caches may keep (Cache-Control %q)", who, path, sc, p.header.Get("Cache-Control"))
				}
			}
		}
		check("a new visitor", e.browser())

		b := e.browser()
		b.signIn("ala@example.org", "")
		admin := e.browser()
		admin.signIn("admin@example.org", "")
		admin.enableMFA()
		if p := admin.post(fmt.Sprintf("/admin/accounts/%d/roles", alaID), url.Values{"role": {"moderator"}}); p.status != http.StatusSeeOther {
			t.Fatalf("grant: %d", p.status)
		}
		before := b.cookie(sessionCookie)
		check("a session due for a new token", b)
		if b.cookie(sessionCookie) != before {
			t.Error("the session token was replaced on a cacheable response")
		}
		// The page request that follows gets the new token.
		if p := b.get("/account"); p.status != 200 || setCookies(t, p.header)[sessionCookie] == nil {
			t.Errorf("the next page does not rotate the token: %d", p.status)
		}

		dead := e.browser()
		dead.setCookie(sessionCookie, "no-such-session-token-0123456789abcdefghijk")
		check("a dead session", dead)
	})
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	e.createUser("ala@example.org")
	a := e.api()
	a.signIn("ala@example.org", "")
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/account", nil)
		req.Header.Set("Authorization", scheme+" "+a.token)
		resp, err := a.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("Authorization: %s <token> gave %d", scheme, resp.StatusCode)
		}
	}
}

func TestAPIWritesHaveAPerAddressCeiling(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), map[string]secops.Limit{secops.APIWritesPerIP: {Every: time.Hour, Burst: 3}})
	a := e.api()
	for i := range 4 {
		st, out, h := a.call("POST", "/api/v1/password-resets", map[string]string{"email": "x@example.org"})
		if i < 3 && st != http.StatusAccepted {
			t.Fatalf("write %d: %d %v", i, st, out)
		}
		if i == 3 && (st != http.StatusTooManyRequests || h.Get("Retry-After") == "") {
			t.Fatalf("4th write: %d %v, want 429 with Retry-After", st, out)
		}
	}
	if st, _, _ := a.call("GET", "/api/v1/account", nil); st != http.StatusUnauthorized {
		t.Fatalf("a read after the write ceiling: %d, want 401 (reads are not limited by it)", st)
	}
}

// TestSecurityEventsShowErasedAddresses: once retention has erased the key
// of an event's day, the events page, the API and the person's own export
// still work and show the address as erased, while a later event's
// address still shows; the page's address filter finds the later one.
func TestSecurityEventsShowErasedAddresses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		olgaID := e.createUser("olga@example.org")
		olga := e.id.Pseudonym(olgaID)
		old := time.Now().UTC().AddDate(-1, 0, -2)
		// Sealed under the key of a day more than a year ago, then that key
		// is erased as the retention job would.
		aged := secops.NewRecorder(db, slog.New(slog.NewTextHandler(io.Discard, nil)), e.crypt)
		aged.SetClock(func() time.Time { return old })
		aged.Record(t.Context(), secops.Event{Kind: secops.MFAFailed, IP: "198.51.100.20", Account: olga, Route: "/signin/mfa"})
		if err := db.InTx(t.Context(), func(tx *store.Tx) error { return e.crypt.Erase(t.Context(), tx, secops.DaySubject(old)) }); err != nil {
			t.Fatal(err)
		}
		e.events.Record(t.Context(), secops.Event{Kind: secops.MFAFailed, IP: "203.0.113.30", Account: olga, Route: "/signin/mfa"})

		analyst := e.staffBrowser("analyst@example.org", identity.RoleSecurityAnalyst)
		p := analyst.get("/security/events?kind=mfa_failed")
		if p.status != http.StatusOK || !strings.Contains(p.body, "erased after a year") || !strings.Contains(p.body, "203.0.113.30") || strings.Contains(p.body, "198.51.100.20") {
			t.Fatalf("events page: %d, want the old address erased and the new one shown:\n%s", p.status, p.body)
		}
		p = analyst.get("/security/events?ip=203.0.113.30")
		if p.status != http.StatusOK || !strings.Contains(p.body, "203.0.113.30") || strings.Contains(p.body, "erased after a year") {
			t.Fatalf("events page filtered by address: %d\n%s", p.status, p.body)
		}
		if p := analyst.get("/security/events?ip=not-an-address"); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="ip-error"`) {
			t.Fatalf("events page with a malformed address: %d", p.status)
		}

		b := e.browser()
		b.signIn("olga@example.org", "")
		p = b.get("/account/data")
		if p.status != http.StatusOK || !strings.Contains(p.body, "erased after a year") || !strings.Contains(p.body, "203.0.113.30") {
			t.Fatalf("account data page: %d\n%s", p.status, p.body)
		}
		p = b.get("/account/data.json")
		if p.status != http.StatusOK || !strings.Contains(p.body, `"ip_erased": true`) || strings.Contains(p.body, "198.51.100.20") {
			t.Fatalf("data export: %d\n%s", p.status, p.body)
		}
	})
}
