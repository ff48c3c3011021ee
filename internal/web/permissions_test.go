package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// dbCount runs a COUNT(*) query and returns the number.
func dbCount(t testing.TB, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// eventCount counts security events of kind.
func eventCount(t testing.TB, db *store.DB, kind string) int {
	t.Helper()
	return dbCount(t, db, "SELECT COUNT(*) FROM security_events WHERE kind = ?", kind)
}

// roleHolder is a person holding one role (and citizen), with two-step
// sign-in turned on when the role is a staff role.
type roleHolder struct {
	role   identity.Role
	id     int64
	email  string
	secret string // TOTP secret, "" for a citizen
	b      *browser
	a      *apiClient
}

func newRoleHolder(e *testEnv, role identity.Role, n int) *roleHolder {
	e.t.Helper()
	h := &roleHolder{role: role, email: fmt.Sprintf("%s-%d@example.org", strings.ReplaceAll(string(role), "_", "-"), n)}
	h.id = e.createUser(h.email, role)
	if role.Staff() {
		b := e.browser()
		b.signIn(h.email, "")
		h.secret = b.enableMFA()
	}
	return h
}

// browser returns a browser signed in as h that passed TOTP if h has it
// and authenticated recently, reusing the last one while it still is.
func (h *roleHolder) browser(e *testEnv) *browser {
	e.t.Helper()
	e.ensureMFA(h)
	if h.b == nil || !h.fresh(e, func() (int, string) { p := h.b.get("/api/v1/account"); return p.status, p.body }) {
		h.b = e.browser()
		h.b.signIn(h.email, h.secret)
	}
	return h.b
}

// api is browser for an API client.
func (h *roleHolder) api(e *testEnv) *apiClient {
	e.t.Helper()
	e.ensureMFA(h)
	if h.a == nil || !h.fresh(e, func() (int, string) {
		st, out, _ := h.a.call("GET", "/api/v1/account", nil)
		j, _ := json.Marshal(out)
		return st, string(j)
	}) {
		h.a = e.api()
		h.a.signIn(h.email, h.secret)
	}
	return h.a
}

// fresh reports whether a session (read through account) is alive, passed
// MFA if h needs it, and authenticated recently: what the routes under
// test may need beyond the permission.
func (h *roleHolder) fresh(e *testEnv, account func() (int, string)) bool {
	st, body := account()
	if st != http.StatusOK {
		return false
	}
	var out struct {
		Session struct {
			MFAVerified bool `json:"mfa_verified"`
			Recent      bool `json:"recently_authenticated"`
		} `json:"session"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		e.t.Fatalf("GET /api/v1/account: %v\n%s", err, body)
	}
	return out.Session.Recent && (h.secret == "" || out.Session.MFAVerified)
}

// ensureMFA turns two-step sign-in back on for a staff role holder whose
// earlier request (the route that turns it off) turned it off.
func (e *testEnv) ensureMFA(h *roleHolder) {
	e.t.Helper()
	if !h.role.Staff() {
		return
	}
	if dbCount(e.t, e.db, "SELECT COUNT(*) FROM totp_credentials WHERE account_id = ? AND enabled = TRUE", h.id) == 1 {
		return
	}
	b := e.browser()
	b.signIn(h.email, "")
	h.secret = b.enableMFA()
}

// holds reports whether a person with role (and citizen) has perm, by the
// one permission table.
func holds(role identity.Role, perm identity.Permission) bool {
	return identity.RoleCitizen.Grants(perm) || role.Grants(perm)
}

// staffOnly says, independently of the route table, which routes are
// staff work: looking at other people's accounts, changing roles, reading
// security events.
func staffOnly(rt route) bool {
	for _, prefix := range []string{"/admin/", "/security/", "/api/v1/security-events", "/api/v1/accounts/"} {
		if strings.HasPrefix(rt.path, prefix) {
			return true
		}
	}
	return rt.method == "GET" && rt.path == "/api/v1/accounts"
}

// concretePath fills a route pattern's wildcards with real values.
func concretePath(pattern string, accountID int64) string {
	p := strings.ReplaceAll(pattern, "{$}", "")
	p = strings.ReplaceAll(p, "{id}", fmt.Sprint(accountID))
	p = strings.ReplaceAll(p, "{role}", string(identity.RoleModerator))
	return p
}

// plausibleForm is what a person would submit to a page route: enough
// that a permitted request gets past sign-in checks of its own (re-auth).
func plausibleForm(e *testEnv, h *roleHolder, path string) url.Values {
	switch {
	case path == "/reauth":
		return url.Values{"password": {testPassword}, "code": {h.freshCode(e)}, "next": {"/account"}}
	case strings.HasSuffix(path, "/roles"):
		return url.Values{"role": {string(identity.RoleModerator)}}
	case path == "/account/mfa/totp/confirm":
		return url.Values{"code": {h.enrolmentCode(e)}}
	}
	return url.Values{}
}

// enrolmentCode is a correct code for h's unconfirmed TOTP set-up, if one
// was begun (h then has two-step sign-in on once it is confirmed), and a
// wrong one otherwise.
func (h *roleHolder) enrolmentCode(e *testEnv) string {
	pending, err := e.id.PendingTOTP(context.Background(), &identity.Principal{AccountID: h.id, Email: h.email})
	if err != nil {
		return "000000"
	}
	h.secret = pending.Secret
	return h.freshCode(e)
}

// plausibleJSON is the body of an API write.
func plausibleJSON(e *testEnv, h *roleHolder, path string) any {
	switch path {
	case "/api/v1/account/reauth":
		return map[string]string{"password": testPassword, "code": h.freshCode(e)}
	case "/api/v1/account/mfa/totp/confirm":
		return map[string]string{"code": h.enrolmentCode(e)}
	}
	return "{}"
}

// freshCode moves the clock to a new TOTP step and returns its code.
func (h *roleHolder) freshCode(e *testEnv) string {
	if h.secret == "" {
		return ""
	}
	e.advance(30 * time.Second)
	return e.totpCode(h.secret)
}

// TestEveryRouteRefusesRolesLackingItsPermission walks the route table:
// for every route that needs a signed-in person and for every role, a
// person holding only that role (signed in with TOTP for staff roles) is
// refused with 403 and a permission_denied security event exactly when the
// role lacks the route's permission, and gets past the check otherwise.
func TestEveryRouteRefusesRolesLackingItsPermission(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		target := e.createUser("target@example.org")
		holders := map[identity.Role]*roleHolder{}
		for i, role := range identity.Roles {
			holders[role] = newRoleHolder(e, role, i)
		}
		checked, replacements := 0, 0
		for _, role := range identity.Roles {
			h := holders[role]
			for _, rt := range e.web.routes() {
				if !rt.access.signedIn {
					continue
				}
				if rt.access.perm == "" {
					t.Errorf("%s %s needs sign-in but names no permission", rt.method, rt.path)
				}
				if role == identity.RoleCitizen && staffOnly(rt) && holds(role, rt.access.perm) {
					t.Errorf("%s %s is staff work but its permission %s is granted to every citizen", rt.method, rt.path, rt.access.perm)
				}
				if checkRouteAccess(t, e, h, rt, concretePath(rt.path, target)) {
					checked++
				}
				// Erasing one's own account is a route like any other;
				// the holder then needs a new account for the next routes.
				if dbCount(t, db, "SELECT COUNT(*) FROM accounts WHERE id = ?", h.id) == 0 {
					replacements++
					h = newRoleHolder(e, role, len(identity.Roles)*replacements+slices.Index(identity.Roles, role))
				}
			}
		}
		if checked == 0 {
			t.Fatal("no route refused any role: the table has no staff-only routes?")
		}
	})
}

// checkRouteAccess calls rt as h and checks the answer against the
// permission table. It reports whether the call was refused.
func checkRouteAccess(t *testing.T, e *testEnv, h *roleHolder, rt route, path string) (refused bool) {
	t.Helper()
	db := e.db
	name := fmt.Sprintf("%s %s as %s", rt.method, rt.path, h.role)
	api := strings.HasPrefix(rt.path, "/api/")
	var status int
	var code, body string
	var deniedBefore int
	if api {
		a := h.api(e)
		var in any
		if rt.method != "GET" {
			in = plausibleJSON(e, h, rt.path)
		}
		deniedBefore = eventCount(t, db, "permission_denied")
		var out map[string]any
		status, out, _ = a.call(rt.method, path, in)
		code = errorCode(out)
	} else {
		b := h.browser(e)
		deniedBefore = eventCount(t, db, "permission_denied")
		var p page
		if rt.method == "GET" {
			p = b.get(path)
		} else {
			p = b.post(path, plausibleForm(e, h, rt.path))
		}
		status, body = p.status, p.body
	}
	denied := eventCount(t, db, "permission_denied") - deniedBefore
	if status >= 500 {
		t.Errorf("%s: status %d", name, status)
	}
	if holds(h.role, rt.access.perm) {
		if status == http.StatusForbidden || status == http.StatusUnauthorized || denied != 0 {
			t.Errorf("%s: holds %s but got %d (%s), %d permission_denied events", name, rt.access.perm, status, code, denied)
		}
		return false
	}
	if status != http.StatusForbidden || denied != 1 {
		t.Errorf("%s: lacks %s but got %d, %d permission_denied events; want 403 and 1", name, rt.access.perm, status, denied)
		return false
	}
	if api && code != "forbidden" {
		t.Errorf("%s: error code %q, want forbidden", name, code)
	}
	if !api && !strings.Contains(body, "You do not have permission") {
		t.Errorf("%s: the refusal page does not say why:\n%s", name, body)
	}
	var route, account string
	if err := db.QueryRow(t.Context(), "SELECT route, account FROM security_events WHERE kind = 'permission_denied' ORDER BY id DESC LIMIT 1").Scan(&route, &account); err != nil {
		t.Fatal(err)
	}
	if route != rt.method+" "+rt.path || account != e.id.Pseudonym(h.id) {
		t.Errorf("%s: event names route %q account %q, want %q %q", name, route, account, rt.method+" "+rt.path, e.id.Pseudonym(h.id))
	}
	return true
}

// TestSignedInRoutesWithoutSessionAskToSignIn shows that every route needing
// a signed-in person answers a caller without a session with 401 JSON (API)
// or a redirect to the sign-in page that comes back afterwards (pages).
func TestSignedInRoutesWithoutSessionAskToSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		target := e.createUser("target@example.org")
		for _, rt := range e.web.routes() {
			if !rt.access.signedIn {
				continue
			}
			path := concretePath(rt.path, target)
			name := rt.method + " " + rt.path
			if strings.HasPrefix(rt.path, "/api/") {
				var in any
				if rt.method != "GET" {
					in = "{}"
				}
				status, out, _ := e.api().call(rt.method, path, in)
				if status != http.StatusUnauthorized || errorCode(out) != "signin_required" {
					t.Errorf("%s: %d %v, want 401 signin_required", name, status, out)
				}
				continue
			}
			b := e.browser()
			var p page
			if rt.method == "GET" {
				p = b.get(path)
			} else {
				p = b.post(path, nil)
			}
			// A form sent without a session cannot be repeated by a
			// redirect: the person comes back to their account (or to the
			// page the form was on, below).
			want := "/signin?next=" + url.QueryEscape("/account")
			if rt.method == "GET" {
				want = "/signin?next=" + url.QueryEscape(path)
			}
			if p.status != http.StatusSeeOther || p.header.Get("Location") != want {
				t.Errorf("%s: %d to %q, want 303 to %q", name, p.status, p.header.Get("Location"), want)
			}
		}
		// The destination survives a query string with several parameters.
		p := e.browser().get("/admin/accounts?q=ala&x=1")
		if loc := p.header.Get("Location"); p.status != http.StatusSeeOther || loc != "/signin?next="+url.QueryEscape("/admin/accounts?q=ala&x=1") {
			t.Errorf("redirect with a query: %d %q", p.status, loc)
		}
		// A form whose session has ended brings the person back to the
		// page it was on.
		fb := e.browser()
		fb.get("/")
		req, _ := http.NewRequest("POST", e.srv.URL+"/account/mfa/totp", strings.NewReader(url.Values{"csrf": {fb.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", e.srv.URL+"/account/mfa?x=1")
		if p := fb.do(req); p.header.Get("Location") != "/signin?next="+url.QueryEscape("/account/mfa?x=1") {
			t.Errorf("form without a session, with a Referer: %d to %q", p.status, p.header.Get("Location"))
		}
		req, _ = http.NewRequest("POST", e.srv.URL+"/account/mfa/totp", strings.NewReader(url.Values{"csrf": {fb.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", "https://evil.example/account/mfa")
		if p := fb.do(req); p.header.Get("Location") != "/signin?next="+url.QueryEscape("/account") {
			t.Errorf("form without a session, with a foreign Referer: %d to %q", p.status, p.header.Get("Location"))
		}
		// A person following that redirect is sent back after signing in.
		e.createUser("ala@example.org")
		b := e.browser()
		b.get("/signin?next=" + url.QueryEscape("/account/sessions"))
		p = b.post("/signin", url.Values{"email": {"ala@example.org"}, "password": {testPassword}, "next": {"/account/sessions"}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/account/sessions" {
			t.Errorf("sign-in with next: %d to %q", p.status, p.header.Get("Location"))
		}
		// An off-site destination is never followed.
		for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
			b := e.browser()
			p := b.post("/signin", url.Values{"email": {"ala@example.org"}, "password": {testPassword}, "next": {next}})
			if loc := p.header.Get("Location"); p.status != http.StatusSeeOther || loc != "/account" {
				t.Errorf("sign-in with next=%q: %d to %q, want /account", next, p.status, loc)
			}
		}
	})
}

// TestStaffRolesNeedMFA shows that a staff role does not work until the
// person has turned on two-step sign-in and passed it in the session: the
// page says what to do, the API says forbidden, and a sign-in waiting for
// its code is not signed in at all.
func TestStaffRolesNeedMFA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("admin@example.org", identity.RoleAdmin)

		// No second factor enrolled.
		b := e.browser()
		b.signIn("admin@example.org", "")
		a := e.api()
		a.signIn("admin@example.org", "")
		staffPages := []string{"/admin/accounts", "/security/events"}
		for _, path := range staffPages {
			before := eventCount(t, db, "permission_denied")
			p := b.get(path)
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "Staff roles work only after you turn on two-step sign-in") {
				t.Errorf("%s without MFA: %d\n%s", path, p.status, p.body)
			}
			if !strings.Contains(p.body, `href="/account/mfa"`) {
				t.Errorf("%s without MFA: no link to set it up", path)
			}
			if n := eventCount(t, db, "permission_denied") - before; n != 1 {
				t.Errorf("%s without MFA: %d permission_denied events", path, n)
			}
		}
		if p := b.get("/account"); p.status != 200 || !strings.Contains(p.body, "Turn on two-step sign-in to use it") {
			t.Errorf("account page of staff without MFA: %d, no warning", p.status)
		}
		for _, path := range []string{"/api/v1/accounts?email=a", "/api/v1/security-events"} {
			if st, out, _ := a.call("GET", path, nil); st != http.StatusForbidden || errorCode(out) != "forbidden" {
				t.Errorf("API %s without MFA: %d %v", path, st, out)
			}
		}
		if st, out, _ := a.call("GET", "/api/v1/account", nil); st != 200 || slices.Contains(anyStrings(out["permissions"]), "roles.manage") {
			t.Errorf("API account of staff without MFA: %d, permissions %v", st, out["permissions"])
		}

		// MFA turned on in another browser: this session has not passed it.
		other := e.browser()
		other.signIn("admin@example.org", "")
		secret := other.enableMFA()
		for _, path := range staffPages {
			p := b.get(path)
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "sign in again with your authenticator code") {
				t.Errorf("%s in a session that did not pass MFA: %d\n%s", path, p.status, p.body)
			}
		}
		if st, _, _ := a.call("GET", "/api/v1/security-events", nil); st != http.StatusForbidden {
			t.Errorf("API session that did not pass MFA: %d", st)
		}
		// The browser that enrolled passed MFA doing so.
		if p := other.get("/admin/accounts"); p.status != 200 {
			t.Errorf("admin page after enrolling: %d", p.status)
		}

		// Password given, code not yet: not signed in.
		pending := e.browser()
		p := pending.post("/signin", url.Values{"email": {"admin@example.org"}, "password": {testPassword}})
		if !strings.HasPrefix(p.header.Get("Location"), "/signin/mfa") {
			t.Fatalf("sign-in with MFA on: %d to %q", p.status, p.header.Get("Location"))
		}
		for _, path := range append(staffPages, "/account") {
			if p := pending.get(path); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/signin?next=") {
				t.Errorf("%s while the code is pending: %d %q", path, p.status, p.header.Get("Location"))
			}
		}
		pa := e.api()
		st, out, _ := pa.call("POST", "/api/v1/sessions", map[string]string{"email": "admin@example.org", "password": testPassword})
		if st != http.StatusCreated || out["mfa_required"] != true {
			t.Fatalf("API sign-in with MFA on: %d %v", st, out)
		}
		pa.token = out["token"].(string)
		for _, path := range []string{"/api/v1/account", "/api/v1/security-events"} {
			if st, out, _ := pa.call("GET", path, nil); st != http.StatusUnauthorized {
				t.Errorf("API %s while the code is pending: %d %v", path, st, out)
			}
		}

		// With the code, staff pages open.
		full := e.browser()
		full.signIn("admin@example.org", secret)
		for _, path := range staffPages {
			if p := full.get(path); p.status != 200 {
				t.Errorf("%s after MFA: %d", path, p.status)
			}
		}
	})
}

func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}
